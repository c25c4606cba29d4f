//! One task per RTMP connection: feeds the core's `RtmpServerConnection`, answers its publish
//! and play questions from the hub, turns a publisher's FLV messages into units (core `flv`),
//! and turns ring units into FLV messages for a player.

use crate::hub::{lock, Hub};
use crate::stream::SharedStream;
use crate::{random_seed, READ_BATCH};
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::watch;
use weir_core::flv::{FlvDemuxer, FlvMessage, FlvMuxer, FlvOutput, MetaValue};
use weir_core::media::{Cursor, PathError, StreamDescription, StreamItem};
use weir_core::rtmp::{Amf0Value, MediaKind, RtmpEvent, RtmpServerConfig, RtmpServerConnection};

struct Publishing {
    path: String,
    demuxer: FlvDemuxer,
    /// Created once the demuxer knows the tracks.
    stream: Option<Arc<SharedStream>>,
    outputs: Vec<FlvOutput>,
    warned: bool,
}

struct Playing {
    stream: Arc<SharedStream>,
    muxer: FlvMuxer,
    cursor: Cursor,
    seq_rx: watch::Receiver<u64>,
    lagging: bool,
    messages: Vec<FlvMessage>,
    /// The stream time (ms) of the first message: the reader's timestamps start at 0 there,
    /// like the metadata and sequence headers sent at PLAY.
    base_ms: Option<i64>,
}

struct Conn {
    hub: Arc<Hub>,
    core: RtmpServerConnection,
    publishing: Option<Publishing>,
    playing: Option<Playing>,
    closed_rx: Option<watch::Receiver<bool>>,
    out: Vec<u8>,
    batch: Vec<StreamItem>,
}

/// "2 tracks (H264, MPEG-4 Audio)", as the RTSP log lines say it.
fn tracks_text(desc: &StreamDescription) -> String {
    format!("{} ({})", desc.track_count_text(), desc.codec_list())
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
        out: Vec::with_capacity(64 * 1024),
        batch: Vec::with_capacity(READ_BATCH),
    };
    let mut inbuf = BytesMut::with_capacity(64 * 1024);
    loop {
        if !c.drive(&mut inbuf, &mut wr).await {
            break;
        }
        let deadline = c.core.poll_timeout();
        let seq_rx = c.playing.as_mut().map(|p| &mut p.seq_rx);
        tokio::select! {
            r = rd.read_buf(&mut inbuf) => match r {
                Ok(0) => c.core.handle_close("the client closed the connection"),
                Ok(_) => {
                    c.core.handle_input(Instant::now(), &mut inbuf);
                    if inbuf.capacity() - inbuf.len() < 4096 {
                        inbuf.reserve(64 * 1024);
                    }
                }
                Err(e) => c.core.handle_close(&e.to_string()),
            },
            _ = crate::rtsp_conn::sleep_until_opt(deadline) => c.core.handle_timeout(Instant::now()),
            _ = crate::rtsp_conn::changed_opt(seq_rx) => c.deliver(),
            _ = crate::rtsp_conn::changed_opt(c.closed_rx.as_mut()) => {
                let why = if c.publishing.is_some() { "publisher was replaced" } else { "source of the path has gone away" };
                c.core.terminate(why);
            }
            _ = shutdown.changed() => c.core.terminate("server is shutting down"),
        }
    }
    c.release();
    let _ = wr.shutdown().await;
}

fn meta_value(v: &Amf0Value) -> MetaValue {
    match v {
        Amf0Value::Number(n) => MetaValue::Number(*n),
        Amf0Value::Boolean(b) => MetaValue::Bool(*b),
        Amf0Value::String(s) => MetaValue::String(s.clone()),
        _ => MetaValue::Other,
    }
}

fn amf_value(v: &MetaValue) -> Option<Amf0Value> {
    match v {
        MetaValue::Number(n) => Some(Amf0Value::Number(*n)),
        MetaValue::Bool(b) => Some(Amf0Value::Boolean(*b)),
        MetaValue::String(s) => Some(Amf0Value::String(s.clone())),
        MetaValue::Other => None,
    }
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
    fn on_event(&mut self, ev: RtmpEvent) -> bool {
        match ev {
            RtmpEvent::Publish { path, .. } => {
                let r = lock(&self.hub.paths).can_publish(&path);
                if r.is_ok() {
                    self.publishing = Some(Publishing {
                        path,
                        demuxer: FlvDemuxer::new(),
                        stream: None,
                        outputs: Vec::with_capacity(4),
                        warned: false,
                    });
                }
                self.core.answer_publish(r);
            }
            RtmpEvent::Play { path, .. } => self.start_playing(&path),
            RtmpEvent::Metadata(entries) => {
                if let Some(p) = self.publishing.as_mut() {
                    let meta: Vec<(String, MetaValue)> = entries
                        .iter()
                        .map(|(k, v)| (k.clone(), meta_value(v)))
                        .collect();
                    p.demuxer.handle_metadata(&meta);
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
        let is_video = match kind {
            MediaKind::Video => true,
            MediaKind::Audio => false,
            MediaKind::Data => return,
        };
        p.outputs.clear();
        if let Err(e) = p.demuxer.push(is_video, timestamp_ms, body, &mut p.outputs) {
            if !p.warned {
                p.warned = true;
                tracing::warn!("{} invalid media message: {e:?}", self.core.log_prefix());
            }
        }
        let now = Instant::now();
        let mut outputs = std::mem::take(&mut p.outputs);
        for out in outputs.drain(..) {
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
        if let Some(p) = self.publishing.as_mut() {
            p.outputs = outputs;
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
        Ok(())
    }

    fn start_playing(&mut self, path: &str) {
        let r = lock(&self.hub.paths).add_reader(path);
        let stream = match r {
            Ok(s) => s,
            Err(e) => return self.core.answer_play(Err(e)),
        };
        let mut muxer = match FlvMuxer::new(&stream.description) {
            Ok(m) => m,
            Err(_) => {
                lock(&self.hub.paths).remove_reader(path);
                return self
                    .core
                    .answer_play(Err(PathError::NoCompatibleTracks(path.to_owned())));
            }
        };
        self.core.answer_play(Ok(()));
        let meta: Vec<(String, Amf0Value)> = muxer
            .metadata()
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), amf_value(v)?)))
            .collect();
        let mut body = Vec::with_capacity(256);
        let on_meta = [
            Amf0Value::String("onMetaData".into()),
            Amf0Value::EcmaArray(meta),
        ];
        if on_meta.iter().all(|v| v.write(&mut body).is_ok()) {
            self.core.write_media(MediaKind::Data, 0, &body);
        }
        for (is_video, header) in muxer.sequence_headers() {
            let kind = if is_video {
                MediaKind::Video
            } else {
                MediaKind::Audio
            };
            self.core.write_media(kind, 0, &header);
        }
        let mut carried = StreamDescription { tracks: Vec::new() };
        for t in [muxer.video_track(), muxer.audio_track()]
            .into_iter()
            .flatten()
        {
            carried.tracks.push(stream.description.tracks[t].clone());
        }
        self.core.log_reading(&tracks_text(&carried));
        let cursor = stream.join();
        let (mut seq_rx, closed_rx) = stream.subscribe();
        seq_rx.mark_changed();
        self.closed_rx = Some(closed_rx);
        self.playing = Some(Playing {
            stream,
            muxer,
            cursor,
            seq_rx,
            lagging: false,
            messages: Vec::new(),
            base_ms: None,
        });
    }

    /// Turns everything the reader's cursor has not delivered yet into FLV messages.
    fn deliver(&mut self) {
        let Some(p) = self.playing.as_mut() else {
            return;
        };
        p.seq_rx.borrow_and_update();
        loop {
            self.batch.clear();
            let outcome = p.stream.read(&mut p.cursor, READ_BATCH, &mut self.batch);
            if outcome.lost > 0 && !p.lagging {
                p.lagging = true;
                tracing::warn!(
                    "{} reader is too slow, discarding {} units and resuming at the next key frame",
                    self.core.log_prefix(),
                    outcome.lost
                );
            }
            if self.batch.is_empty() {
                return;
            }
            if outcome.lost == 0 {
                p.lagging = false;
            }
            for item in &self.batch {
                if let StreamItem::Unit(u) = item {
                    p.messages.clear();
                    p.muxer.push_unit(u, &mut p.messages);
                    for m in &p.messages {
                        let kind = if m.is_video {
                            MediaKind::Video
                        } else {
                            MediaKind::Audio
                        };
                        let base = *p.base_ms.get_or_insert(m.timestamp_ms);
                        // Audio that precedes the first (key) video frame in time is dropped:
                        // squashing it onto 0 would break its timing.
                        if m.timestamp_ms < base {
                            continue;
                        }
                        self.core
                            .write_media(kind, (m.timestamp_ms - base) as u32, &m.body);
                    }
                }
            }
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
