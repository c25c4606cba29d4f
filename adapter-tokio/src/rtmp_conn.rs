//! One task per RTMP connection: feeds the core's `RtmpServerConnection`, answers its publish
//! and play questions from the hub, turns a publisher's FLV messages into units (core `flv`),
//! and turns ring units into FLV messages for a player.

use crate::hub::{lock, Hub};
use crate::random_seed;
use crate::stream::SharedStream;
use crate::writev::write_rtmp_messages;
use bytes::BytesMut;
use smallvec::SmallVec;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::watch;
use weir_core::flv::FlvOutput;
use weir_core::media::{Cursor, PathError, StreamDescription, StreamItem, Unit};
use weir_core::rtmp::server::{tracks_text, DirectMessage, RtmpPlayer, RtmpPublisher};
use weir_core::rtmp::{MediaKind, RtmpEvent, RtmpServerConfig, RtmpServerConnection};

struct Publishing {
    path: String,
    /// The query of the publish request (`MTX_QUERY` of `runOnReady`).
    query: String,
    publisher: RtmpPublisher,
    /// Created once the demuxer knows the tracks.
    stream: Option<Arc<SharedStream>>,
}

/// Output buffer a player keeps once its start-up burst is out.
const IDLE_OUT: usize = 512;
/// Input buffer a player keeps once its start-up burst is out.
const IDLE_IN: usize = 256;
/// Units taken from the ring per read by a player (written with one `writev` when they fit).
const UNITS_PER_READ: usize = 16;

struct Playing {
    /// `runOnRead` while playing (`runOnUnread` when dropped).
    _read_hook: Option<weir_core::hooks::HookSpan>,
    stream: Arc<SharedStream>,
    player: RtmpPlayer,
    cursor: Cursor,
    seq_rx: watch::Receiver<u64>,
    /// Whether the start-up burst is out and the output buffers were shrunk.
    settled: bool,
}

struct Conn {
    hub: Arc<Hub>,
    core: RtmpServerConnection,
    publishing: Option<Publishing>,
    playing: Option<Playing>,
    closed_rx: Option<watch::Receiver<bool>>,
    out: Vec<u8>,
    batch: Vec<StreamItem>,
    /// A player's media messages planned from `batch`, written straight from its units.
    planned: Vec<(Arc<Unit>, DirectMessage)>,
    /// A play waiting for its path's on-demand source.
    waiting: Option<(
        String,
        String,
        watch::Receiver<crate::ondemand::SourceState>,
    )>,
}

/// Serves one RTMP connection until it closes.
pub(crate) async fn run(
    hub: Arc<Hub>,
    cfg: Arc<RtmpServerConfig>,
    sock: TcpStream,
    peer: SocketAddr,
) {
    let core = RtmpServerConnection::new(cfg, peer, Instant::now(), random_seed());
    let (mut rd, mut wr) = sock.into_split();
    let mut shutdown = hub.shutdown_signal();
    let mut c = Conn {
        hub,
        core,
        publishing: None,
        playing: None,
        closed_rx: None,
        out: Vec::with_capacity(4096),
        batch: Vec::new(),
        planned: Vec::new(),
        waiting: None,
    };
    let _conn_hook = c.hub.connect_hook("rtmpConn", &peer.to_string());
    let mut inbuf = BytesMut::with_capacity(crate::rtsp_conn::MIN_INPUT);
    // Whether a read filled the buffer: the connection receives a stream.
    let mut big = false;
    // Whether the input buffer was made small for a player.
    let mut small_in = false;
    loop {
        if !c.drive(&mut inbuf, &mut wr).await {
            break;
        }
        let deadline = c.core.poll_timeout();
        let seq_rx = c.playing.as_mut().map(|p| &mut p.seq_rx);
        let spare = inbuf.capacity() - inbuf.len();
        tokio::select! {
            r = rd.read_buf(&mut inbuf) => match r {
                Ok(0) => c.core.handle_close("the client closed the connection"),
                Ok(n) => {
                    big |= crate::rtsp_conn::filled_buffer(n, spare);
                    c.core.handle_input(Instant::now(), &mut inbuf);
                    let want = if small_in { IDLE_IN } else { crate::rtsp_conn::input_size(big) };
                    crate::rtsp_conn::make_room(&mut inbuf, want);
                }
                Err(e) => c.core.handle_close(&e.to_string()),
            },
            _ = crate::rtsp_conn::sleep_until_opt(deadline) => c.core.handle_timeout(Instant::now()),
            _ = crate::rtsp_conn::changed_opt(seq_rx) => {
                let timeout = c.hub.settings.write_timeout;
                match tokio::time::timeout(timeout, c.deliver(&mut wr)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => c.core.handle_close(&format!("write error: {e}")),
                    Err(_) => c.core.handle_close("write timeout"),
                }
            }
            _ = crate::rtsp_conn::changed_opt(c.waiting.as_mut().map(|w| &mut w.2)) => c.source_changed(),
            _ = crate::rtsp_conn::changed_opt(c.closed_rx.as_mut()) => {
                let why = if c.publishing.is_some() { "publisher was replaced" } else { "source of the path has gone away" };
                c.core.terminate(why);
            }
            _ = shutdown.changed() => c.core.terminate("server is shutting down"),
        }
        if !small_in && inbuf.is_empty() && c.playing.as_ref().is_some_and(|p| p.settled) {
            // A playing client sends only acknowledgements from now on.
            inbuf = BytesMut::with_capacity(IDLE_IN);
            small_in = true;
        }
    }
    c.release();
    let _ = wr.shutdown().await;
}

impl Conn {
    /// Drains the core's outputs until it has nothing more to say; false once closing.
    async fn drive(&mut self, inbuf: &mut BytesMut, wr: &mut OwnedWriteHalf) -> bool {
        let mut open = true;
        loop {
            let mut progressed = false;
            while let Some(ev) = self.core.poll_event() {
                progressed = true;
                if !self.on_event(ev) {
                    open = false;
                }
            }
            if self.core.poll_transmit(&mut self.out) || !self.out.is_empty() {
                progressed = true;
                let timeout = self.hub.settings.write_timeout;
                let res = tokio::time::timeout(timeout, wr.write_all(&self.out)).await;
                self.out.clear();
                if !matches!(res, Ok(Ok(()))) {
                    self.core.handle_close("write error or timeout");
                    continue;
                }
            }
            if open && !self.core.is_waiting() && !self.core.is_closing() && !inbuf.is_empty() {
                let before = inbuf.len();
                self.core.handle_input(Instant::now(), inbuf);
                progressed |= inbuf.len() != before || self.core.is_waiting();
            }
            if !progressed {
                return open;
            }
        }
    }

    /// Acts on one event; returns false on Close.
    fn on_event(&mut self, ev: RtmpEvent) -> bool {
        match ev {
            RtmpEvent::Publish { path, query } => {
                let r = lock(&self.hub.paths).can_publish(&path);
                if r.is_ok() {
                    self.publishing = Some(Publishing {
                        path,
                        query,
                        publisher: RtmpPublisher::new(),
                        stream: None,
                    });
                }
                self.core.answer_publish(r);
            }
            RtmpEvent::Play { path, query } => {
                let published = lock(&self.hub.paths)
                    .describe(&path)
                    .is_ok_and(|s| !s.is_closed());
                if !published {
                    if let Some(mut rx) = self.hub.wait_for_source(&path, &query) {
                        // Answered when the path's on-demand source is ready (or gives up).
                        rx.mark_changed();
                        self.waiting = Some((path, query, rx));
                        return true;
                    }
                }
                self.start_playing(&path, &query)
            }
            RtmpEvent::Metadata(entries) => {
                if let Some(p) = self.publishing.as_mut() {
                    p.publisher.handle_metadata(&entries);
                }
            }
            RtmpEvent::Media {
                kind,
                timestamp_ms,
                body,
            } => {
                self.on_media(kind, timestamp_ms, &body);
            }
            RtmpEvent::StreamClosed => self.release(),
            RtmpEvent::Close { .. } => return false,
        }
        true
    }

    fn on_media(&mut self, kind: MediaKind, timestamp_ms: i64, body: &bytes::Bytes) {
        let Some(p) = self.publishing.as_mut() else {
            return;
        };
        let mut outputs: smallvec::SmallVec<[FlvOutput; 4]> = smallvec::SmallVec::new();
        p.publisher
            .handle_media(&self.core, kind, timestamp_ms, body, |o| outputs.push(o));
        let now = Instant::now();
        for out in outputs {
            match out {
                FlvOutput::Tracks(desc) => {
                    if let Err(e) = self.start_publishing(desc) {
                        self.core.terminate(&e.to_string());
                        return;
                    }
                }
                FlvOutput::Unit {
                    track,
                    pts,
                    dts,
                    key,
                    payload,
                } => {
                    if let Some(s) = self.publishing.as_ref().and_then(|p| p.stream.as_ref()) {
                        s.push_unit(now, track, pts, dts, key, payload);
                    }
                }
            }
        }
    }

    /// The demuxer knows the tracks: (re)create the path's stream.
    fn start_publishing(&mut self, desc: Arc<StreamDescription>) -> Result<(), PathError> {
        let hub = self.hub.clone();
        let Some(p) = self.publishing.as_mut() else {
            return Ok(());
        };
        if let Some(old) = p.stream.take() {
            lock(&hub.paths).unpublish(&old.path, old.publisher_id);
            old.close();
        }
        let id = hub.next_id();
        let stream = SharedStream::new(
            p.path.clone(),
            id,
            desc.clone(),
            hub.settings.write_queue_size,
            hub.clock,
        );
        let outcome = lock(&hub.paths).publish(&p.path, id, stream.clone())?;
        if let Some((_, old)) = outcome.replaced {
            old.close();
        }
        self.closed_rx = Some(stream.closed_signal());
        p.stream = Some(stream);
        self.core.log_publishing(&tracks_text(&desc));
        if let Some(p) = self.publishing.as_ref() {
            if let Some(s) = p.stream.clone() {
                let id = self.core.peer().to_string();
                self.hub.stream_published(&s, "rtmpConn", &id, &p.query);
            }
        }
        Ok(())
    }

    /// The on-demand source a play waits for changed state.
    fn source_changed(&mut self) {
        use crate::ondemand::SourceState;
        let Some((_, _, rx)) = self.waiting.as_mut() else {
            return;
        };
        let state = *rx.borrow_and_update();
        if state == SourceState::Starting {
            return;
        }
        let Some((path, query, _)) = self.waiting.take() else {
            return;
        };
        match state {
            SourceState::Ready => self.start_playing(&path, &query),
            _ => self.core.answer_play(Err(PathError::NoOnePublishing(path))),
        }
    }

    fn start_playing(&mut self, path: &str, query: &str) {
        let r = lock(&self.hub.paths).add_reader(path);
        let stream = match r {
            Ok(s) => s,
            Err(e) => return self.core.answer_play(Err(e)),
        };
        let player = match RtmpPlayer::start(&mut self.core, path, &stream.description) {
            Ok(p) => p,
            Err(_) => {
                lock(&self.hub.paths).remove_reader(path);
                return;
            }
        };
        let cursor = stream.join();
        let (mut seq_rx, closed_rx) = stream.subscribe();
        seq_rx.mark_changed();
        self.closed_rx = Some(closed_rx);
        let read_hook = self
            .hub
            .read_hook(path, query, "rtmpConn", &self.core.peer().to_string());
        self.playing = Some(Playing {
            _read_hook: read_hook,
            stream,
            player,
            cursor,
            seq_rx,
            settled: false,
        });
    }

    /// Writes what the reader's cursor has not delivered yet, a batch of units at a time,
    /// straight from the ring (see `writev.rs`); a sequence header the muxer adds goes out
    /// through the connection, after the messages planned before it.
    async fn deliver(&mut self, wr: &mut OwnedWriteHalf) -> std::io::Result<()> {
        let Some(p) = self.playing.as_mut() else {
            return Ok(());
        };
        p.seq_rx.borrow_and_update();
        loop {
            self.batch.clear();
            let outcome = p
                .stream
                .read(&mut p.cursor, UNITS_PER_READ, &mut self.batch);
            if outcome.lag_started {
                tracing::warn!(
                    "{} reader is too slow, discarding {} units and resuming at the next key frame",
                    self.core.log_prefix(),
                    outcome.lost
                );
            }
            if self.batch.is_empty() {
                if !p.settled {
                    // The answers, metadata and first group of pictures are out: what goes
                    // through these buffers from now on is a few control messages.
                    p.settled = true;
                    self.out = Vec::with_capacity(IDLE_OUT);
                    self.core.shrink_transmit(IDLE_OUT);
                    self.batch.shrink_to(UNITS_PER_READ);
                    self.planned.shrink_to(4);
                }
                return Ok(());
            }
            self.planned.clear();
            for item in &self.batch {
                let StreamItem::Unit(u) = item else {
                    continue;
                };
                let mut msgs: SmallVec<[DirectMessage; 2]> = SmallVec::new();
                p.player.plan_unit(&mut self.core, u, &mut msgs);
                if self.core.poll_transmit(&mut self.out) {
                    write_rtmp_messages(&*wr, &self.planned).await?;
                    self.planned.clear();
                    wr.write_all(&self.out).await?;
                    self.out.clear();
                }
                self.planned
                    .extend(msgs.into_iter().map(|m| (u.clone(), m)));
            }
            write_rtmp_messages(&*wr, &self.planned).await?;
            self.planned.clear();
        }
    }

    /// Releases the path held as publisher or reader.
    fn release(&mut self) {
        if let Some(p) = self.publishing.take() {
            if let Some(s) = p.stream {
                lock(&self.hub.paths).unpublish(&s.path, s.publisher_id);
                s.close();
            }
        }
        if let Some(p) = self.playing.take() {
            lock(&self.hub.paths).remove_reader(&p.stream.path);
        }
        self.closed_rx = None;
    }
}
