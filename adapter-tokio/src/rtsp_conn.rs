//! One task per RTSP connection: feeds the core's `ServerConnection`, answers its questions
//! from the hub, writes its responses, and delivers stream items to readers.

use crate::hub::{lock, Activity, Hub, RtspHub, UdpRoute};
use crate::stream::SharedStream;
use crate::udp_gso::Sink;
use crate::{random_seed, READ_BATCH};
use bytes::BytesMut;
use smallvec::SmallVec;
use std::cell::Cell;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::watch;
use weir_core::media::{Cursor, StreamItem};
use weir_core::rtp::segments::Segments;
use weir_core::rtsp::interleaved_header;
use weir_core::rtsp::server::{
    Event, ReaderRoute, ReaderRoutes, Role, ServerConnection, Session, TrackTransport,
};

struct Reading {
    /// `runOnRead` while playing (`runOnUnread` when dropped).
    read_hook: Option<weir_core::hooks::HookSpan>,
    stream: Arc<SharedStream>,
    /// Set once PLAY is answered.
    playing: Option<Playing>,
    multicast: bool,
}

struct Playing {
    cursor: Cursor,
    routes: ReaderRoutes,
    seq_rx: watch::Receiver<u64>,
}

struct Publishing {
    stream: Arc<SharedStream>,
    recording: bool,
}

struct Conn {
    hub: Arc<Hub>,
    rtsp: Arc<RtspHub>,
    core: ServerConnection,
    reading: Option<Reading>,
    publishing: Option<Publishing>,
    /// Source-closed signal of the stream read or published.
    closed_rx: Option<watch::Receiver<bool>>,
    routes: SmallVec<[SocketAddr; 8]>,
    activity: Arc<Activity>,
    out: Vec<u8>,
    batch: Vec<StreamItem>,
    headers: Vec<[u8; 4]>,
    /// A DESCRIBE waiting for its path's on-demand source.
    waiting: Option<(String, watch::Receiver<crate::ondemand::SourceState>)>,
}

/// The input buffer of a connection that has not received much: a reader's requests and
/// receiver reports fit; it grows to [`MAX_INPUT`] once a read fills it (a publisher).
pub(crate) const MIN_INPUT: usize = 2048;
/// The input buffer of a connection that receives a stream.
const MAX_INPUT: usize = 64 * 1024;

/// Whether a read of `n` bytes into `spare` free bytes shows a connection that receives a
/// stream: it filled at least half a small buffer. (A read that only filled the tail left
/// after a handshake does not count: RTMP players once all got the large buffer that way.)
pub(crate) fn filled_buffer(n: usize, spare: usize) -> bool {
    n == spare && spare >= MIN_INPUT / 2
}

/// The input buffer a connection wants: small for connections that only answer, large for a
/// connection that receives a stream (`big`: see [`filled_buffer`]).
pub(crate) fn input_size(big: bool) -> usize {
    if big {
        MAX_INPUT
    } else {
        MIN_INPUT
    }
}

/// Makes room for the next read in a buffer of about `want` bytes.
pub(crate) fn make_room(inbuf: &mut BytesMut, want: usize) {
    if inbuf.capacity() - inbuf.len() < want / 16 {
        inbuf.reserve(want);
    }
}

/// Serves one RTSP connection until it closes.
pub(crate) async fn run(hub: Arc<Hub>, rtsp: Arc<RtspHub>, sock: TcpStream, peer: SocketAddr) {
    let core = ServerConnection::new(rtsp.core.clone(), peer, Instant::now(), random_seed());
    let (mut rd, mut wr) = sock.into_split();
    let mut shutdown = hub.shutdown_signal();
    let mut c = Conn {
        hub,
        rtsp,
        core,
        reading: None,
        publishing: None,
        closed_rx: None,
        routes: SmallVec::new(),
        activity: Arc::new(Activity::default()),
        out: Vec::with_capacity(1024),
        batch: Vec::with_capacity(READ_BATCH),
        headers: Vec::with_capacity(READ_BATCH * 4),
        waiting: None,
    };
    let _conn_hook = c.hub.connect_hook("rtspConn", &peer.to_string());
    let mut inbuf = BytesMut::with_capacity(MIN_INPUT);
    // Whether a read filled the buffer: the connection receives a stream.
    let mut big = false;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if !c.drive(&mut inbuf, &mut wr).await {
            break;
        }
        let deadline = c.core.poll_timeout();
        let playing = c.reading.as_mut().and_then(|r| r.playing.as_mut());
        let spare = inbuf.capacity() - inbuf.len();
        tokio::select! {
            r = rd.read_buf(&mut inbuf) => match r {
                Ok(0) => c.core.handle_close("the client closed the connection"),
                Ok(n) => {
                    big |= filled_buffer(n, spare);
                    c.core.handle_input(Instant::now(), &mut inbuf);
                    make_room(&mut inbuf, input_size(big));
                }
                Err(e) => c.core.handle_close(&e.to_string()),
            },
            _ = sleep_until_opt(deadline) => c.core.handle_timeout(Instant::now()),
            _ = changed_opt(playing.map(|p| &mut p.seq_rx)) => {
                if let Err(e) = c.deliver(&mut wr).await {
                    c.core.handle_close(&format!("write error: {e}"));
                }
            }
            _ = changed_opt(c.waiting.as_mut().map(|w| &mut w.1)) => c.source_changed(),
            _ = changed_opt(c.closed_rx.as_mut()) => {
                let role = c.publishing.is_some();
                c.core.terminate(if role { "publisher was replaced" } else { "source of the path has gone away" });
            }
            _ = tick.tick() => {
                if let Some(t) = c.activity.last(&c.hub) {
                    c.core.handle_udp_activity(t);
                }
            }
            _ = shutdown.changed() => c.core.terminate("server is shutting down"),
        }
    }
    c.release_all();
    let _ = wr.shutdown().await;
}

/// The description of the stream published on `path`.
fn describe(
    hub: &Hub,
    path: &str,
) -> Result<Arc<weir_core::media::StreamDescription>, weir_core::media::PathError> {
    let r = lock(&hub.paths).describe(path);
    r.and_then(|s| {
        if s.is_closed() {
            Err(weir_core::media::PathError::NoOnePublishing(
                path.to_owned(),
            ))
        } else {
            Ok(s.description.clone())
        }
    })
}

pub(crate) async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

pub(crate) async fn changed_opt<T>(rx: Option<&mut watch::Receiver<T>>) {
    match rx {
        Some(rx) => {
            if rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

impl Conn {
    /// Drains the core's outputs, answering questions and resuming input parsing, until it
    /// has nothing more to say. Returns false once the connection is to be closed.
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
            if self.core.poll_transmit(&mut self.out) {
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
    fn on_event(&mut self, ev: Event) -> bool {
        let hub = self.hub.clone();
        match ev {
            Event::Describe { path, query } => {
                let r = describe(&hub, &path);
                if matches!(r, Err(weir_core::media::PathError::NoOnePublishing(_))) {
                    if let Some(mut rx) = hub.wait_for_source(&path, &query) {
                        // Answered when the path's on-demand source is ready (or gives up).
                        rx.mark_changed();
                        self.waiting = Some((path, rx));
                        return true;
                    }
                }
                self.core.answer_describe(r);
            }
            Event::Announce {
                path, description, ..
            } => {
                let id = hub.next_id();
                let stream = SharedStream::new(
                    path.clone(),
                    id,
                    description,
                    hub.settings.write_queue_size,
                    hub.clock,
                );
                let r = lock(&hub.paths).publish(&path, id, stream.clone());
                match r {
                    Ok(outcome) => {
                        if let Some((_, old)) = outcome.replaced {
                            old.close();
                        }
                        self.closed_rx = Some(stream.closed_signal());
                        self.publishing = Some(Publishing {
                            stream,
                            recording: false,
                        });
                        self.core.answer_announce(Ok(()));
                    }
                    Err(e) => self.core.answer_announce(Err(e)),
                }
            }
            Event::SetupRead {
                path, multicast, ..
            } => {
                let r = lock(&hub.paths).add_reader(&path);
                match r {
                    Ok(stream) => {
                        let groups = if multicast {
                            self.rtsp
                                .multicast
                                .groups_for(&path, stream.description.tracks.len())
                        } else {
                            SmallVec::new()
                        };
                        let desc = stream.description.clone();
                        self.closed_rx = Some(stream.closed_signal());
                        self.reading = Some(Reading {
                            read_hook: None,
                            stream,
                            playing: None,
                            multicast: false,
                        });
                        self.core.answer_setup_read(Ok((desc, groups)));
                    }
                    Err(e) => self.core.answer_setup_read(Err(e)),
                }
            }
            Event::Play => self.start_playing(),
            Event::Record => {
                if let Some(p) = self.publishing.as_mut() {
                    p.recording = true;
                    let stream = p.stream.clone();
                    if let Some(s) = self.core.session() {
                        let s = s.clone();
                        self.add_publisher_routes(&s, &stream);
                        self.hub
                            .stream_published(&stream, "rtspSession", &s.id, &s.query);
                    }
                }
            }
            Event::Paused => {
                if let Some(r) = self.reading.as_mut() {
                    r.playing = None;
                    if r.multicast {
                        r.multicast = false;
                        self.rtsp.multicast.remove_reader(&r.stream.path);
                    }
                }
                if let Some(p) = self.publishing.as_mut() {
                    p.recording = false;
                }
            }
            Event::Rtp { track, packet } => {
                if let Some(p) = self.publishing.as_ref().filter(|p| p.recording) {
                    p.stream.push_rtp(Instant::now(), track, packet);
                }
            }
            Event::Rtcp { .. } => {}
            Event::SessionClosed { session, .. } => self.release_session(&session),
            Event::Close { .. } => return false,
        }
        true
    }

    /// The on-demand source a DESCRIBE waits for changed state.
    fn source_changed(&mut self) {
        use crate::ondemand::SourceState;
        let Some((path, rx)) = self.waiting.as_mut() else {
            return;
        };
        let state = *rx.borrow_and_update();
        let r = match state {
            SourceState::Starting => return,
            SourceState::Ready => describe(&self.hub, path),
            SourceState::Failed => Err(weir_core::media::PathError::NoOnePublishing(path.clone())),
        };
        self.waiting = None;
        self.core.answer_describe(r);
    }

    fn start_playing(&mut self) {
        let Some(session) = self.core.session().cloned() else {
            return self
                .core
                .answer_play(Err(weir_core::media::PathError::NoOnePublishing(
                    String::new(),
                )));
        };
        let Some(r) = self.reading.as_mut() else {
            let e = weir_core::media::PathError::NoOnePublishing(session.path.clone());
            return self.core.answer_play(Err(e));
        };
        let routes = ReaderRoutes::new(&session, r.stream.description.tracks.len());
        let multicast = routes.has_multicast();
        for rtcp in routes.udp_rtcp_addresses() {
            // Receiver reports from the reader keep its session alive.
            lock(&self.rtsp.routes).insert(
                rtcp,
                UdpRoute::Alive {
                    activity: self.activity.clone(),
                },
            );
            self.routes.push(rtcp);
        }
        let cursor = r.stream.join();
        let starts = r.stream.play_starts(&cursor);
        let (mut seq_rx, _) = r.stream.subscribe();
        // Deliver what the ring already holds right away.
        seq_rx.mark_changed();
        if r.read_hook.is_none() {
            r.read_hook =
                self.hub
                    .read_hook(&r.stream.path, &session.query, "rtspSession", &session.id);
        }
        r.playing = Some(Playing {
            cursor,
            routes,
            seq_rx,
        });
        if multicast && !r.multicast {
            r.multicast = true;
            self.rtsp.multicast.add_reader(&r.stream);
        }
        self.core.answer_play(Ok(starts));
    }

    fn add_publisher_routes(&mut self, session: &Session, stream: &Arc<SharedStream>) {
        let mut routes = lock(&self.rtsp.routes);
        for (track, tr) in &session.tracks {
            if let TrackTransport::Udp {
                client_ip,
                client_rtp_port,
                client_rtcp_port,
            } = *tr
            {
                let rtp = SocketAddr::new(client_ip, client_rtp_port);
                let rtcp = SocketAddr::new(client_ip, client_rtcp_port);
                routes.insert(
                    rtp,
                    UdpRoute::Publish {
                        stream: stream.clone(),
                        track: *track,
                        activity: self.activity.clone(),
                    },
                );
                routes.insert(
                    rtcp,
                    UdpRoute::Alive {
                        activity: self.activity.clone(),
                    },
                );
                self.routes.push(rtp);
                self.routes.push(rtcp);
            }
        }
        self.activity.touch(&self.hub);
    }

    /// Writes everything the reader's cursor has not delivered yet, a batch at a time.
    async fn deliver(&mut self, wr: &mut OwnedWriteHalf) -> std::io::Result<()> {
        let Some(r) = self.reading.as_mut() else {
            return Ok(());
        };
        let Some(p) = r.playing.as_mut() else {
            return Ok(());
        };
        p.seq_rx.borrow_and_update();
        loop {
            self.batch.clear();
            let outcome = r.stream.read(&mut p.cursor, READ_BATCH, &mut self.batch);
            if outcome.lag_started {
                let id = self
                    .core
                    .session()
                    .map(|s| s.log_id().to_owned())
                    .unwrap_or_default();
                tracing::warn!(
                    "[RTSP] [session {id}] reader is too slow, discarding {} units and resuming at the next key frame",
                    outcome.lost
                );
            }
            if self.batch.is_empty() {
                return Ok(());
            }
            // TCP: one vectored write for the whole batch.
            self.headers.clear();
            let mut total = 0;
            for item in &self.batch {
                match item {
                    StreamItem::Unit(u) => {
                        if let ReaderRoute::Tcp { rtp_channel, .. } = p.routes.get(u.track) {
                            for pk in &u.rtp {
                                self.headers
                                    .push(interleaved_header(rtp_channel, pk.raw.len() as u16));
                                total += 4 + pk.raw.len();
                            }
                        }
                    }
                    StreamItem::Rtcp { track, packet } => {
                        if let ReaderRoute::Tcp { rtcp_channel, .. } = p.routes.get(*track) {
                            self.headers
                                .push(interleaved_header(rtcp_channel, packet.len() as u16));
                            total += 4 + packet.len();
                        }
                    }
                }
            }
            if total > 0 {
                let (batch, headers, routes) = (&self.batch, &self.headers, &p.routes);
                let write = async {
                    let mut done = 0;
                    while done < total {
                        match write_tcp_batch(wr, batch, routes, headers, done) {
                            Ok(n) => done += n,
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                                wr.writable().await?
                            }
                            Err(e) => return Err(e),
                        }
                    }
                    Ok(())
                };
                let timeout = self.hub.settings.write_timeout;
                match tokio::time::timeout(timeout, write).await {
                    Ok(r) => r?,
                    Err(_) => return Err(std::io::ErrorKind::TimedOut.into()),
                }
            }
            // UDP: through the server's sockets, a unit's RTP packets in one segmented send
            // (`udp_gso.rs`); nothing waits for a full socket buffer.
            let gso = Cell::new(self.rtsp.gso.load(Ordering::Relaxed));
            let sink = Sink(&self.rtsp.rtp_socket);
            for item in &self.batch {
                let mut segments = Segments::new();
                p.routes.for_each_datagram(item, |d| {
                    if d.rtcp {
                        crate::udp_gso::send_one(&self.rtsp.rtcp_socket, d.payload, d.to);
                    } else {
                        segments.push(&sink, &gso, d.payload, d.to);
                    }
                });
                segments.flush(&sink, &gso);
            }
            if !gso.get() {
                self.rtsp.gso.store(false, Ordering::Relaxed);
            }
        }
    }

    fn release_session(&mut self, session: &Session) {
        {
            let mut routes = lock(&self.rtsp.routes);
            for a in self.routes.drain(..) {
                routes.remove(&a);
            }
        }
        match session.role {
            Role::Publisher => {
                if let Some(p) = self.publishing.take() {
                    lock(&self.hub.paths).unpublish(&p.stream.path, p.stream.publisher_id);
                    p.stream.close();
                }
            }
            Role::Reader => {
                if let Some(r) = self.reading.take() {
                    if r.multicast {
                        self.rtsp.multicast.remove_reader(&r.stream.path);
                    }
                    lock(&self.hub.paths).remove_reader(&r.stream.path);
                }
            }
        }
        self.closed_rx = None;
    }

    /// Releases whatever is still held when the task ends.
    fn release_all(&mut self) {
        if let Some(s) = self.core.session().cloned() {
            self.release_session(&s);
        }
        if let Some(p) = self.publishing.take() {
            lock(&self.hub.paths).unpublish(&p.stream.path, p.stream.publisher_id);
            p.stream.close();
        }
        if let Some(r) = self.reading.take() {
            lock(&self.hub.paths).remove_reader(&r.stream.path);
        }
    }
}

/// One `writev` of a batch's interleaved frames (`headers` in frame order), from byte `skip`
/// on, without awaiting: the slice list lives on the stack, not in the connection task's
/// future. Returns how many bytes the socket took.
fn write_tcp_batch(
    wr: &OwnedWriteHalf,
    batch: &[StreamItem],
    routes: &ReaderRoutes,
    headers: &[[u8; 4]],
    skip: usize,
) -> std::io::Result<usize> {
    let mut slices: SmallVec<[IoSlice<'_>; 64]> = SmallVec::new();
    let mut h = headers.iter();
    for item in batch {
        match item {
            StreamItem::Unit(u) => {
                if let ReaderRoute::Tcp { .. } = routes.get(u.track) {
                    for pk in &u.rtp {
                        if let Some(hd) = h.next() {
                            slices.push(IoSlice::new(hd));
                            slices.push(IoSlice::new(&pk.raw));
                        }
                    }
                }
            }
            StreamItem::Rtcp { track, packet } => {
                if let ReaderRoute::Tcp { .. } = routes.get(*track) {
                    if let Some(hd) = h.next() {
                        slices.push(IoSlice::new(hd));
                        slices.push(IoSlice::new(packet));
                    }
                }
            }
        }
    }
    let mut rest = &mut slices[..];
    IoSlice::advance_slices(&mut rest, skip);
    match wr.try_write_vectored(rest)? {
        0 => Err(std::io::ErrorKind::WriteZero.into()),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filling_the_tail_left_by_a_handshake_is_not_a_stream() {
        // An RTMP player: C0+C1 (1537 bytes) consumed from a 2048-byte buffer leaves 511
        // bytes, and the next read (C2 + connect) fills them. That player must stay small.
        assert!(!filled_buffer(511, 511));
        assert!(!filled_buffer(200, 2048));
        // A publisher fills a whole small buffer.
        assert!(filled_buffer(2048, 2048));
        assert!(filled_buffer(MIN_INPUT / 2, MIN_INPUT / 2));
    }

    #[test]
    fn room_is_made_only_when_little_is_left() {
        let mut buf = BytesMut::with_capacity(MIN_INPUT);
        make_room(&mut buf, input_size(false));
        assert_eq!(buf.capacity(), MIN_INPUT);
        buf.extend_from_slice(&[0; MIN_INPUT - 64]);
        make_room(&mut buf, input_size(false));
        assert!(buf.capacity() - buf.len() >= MIN_INPUT);
        let mut big = BytesMut::with_capacity(MIN_INPUT);
        big.extend_from_slice(&[0; MIN_INPUT - 64]);
        make_room(&mut big, input_size(true));
        assert!(big.capacity() - big.len() >= MAX_INPUT);
    }
}
