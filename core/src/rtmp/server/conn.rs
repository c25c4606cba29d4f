//! The connection: input (handshake, chunks, control messages, media, data), outputs,
//! timeouts, and the answers to the adapter's questions. Commands are in `commands.rs`.

use super::{MediaKind, RtmpEvent, RtmpServerConfig};
use crate::media::PathError;
use crate::rtmp::amf0::Amf0Value;
use crate::rtmp::chunk::{ChunkDecoder, ChunkEncoder, ChunkLimits, RawMessage};
use crate::rtmp::command::{decode_values, metadata_properties, TimestampExtender};
use crate::rtmp::handshake::{HandshakeKind, ServerHandshake};
use crate::rtmp::message::{split_aggregate, type_id, ControlMessage, CONTROL_CSID};
use crate::rtmp::user_control::UserControlEvent;
use bytes::{Bytes, BytesMut};
use core::net::SocketAddr;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

/// Chunk stream weir sends connection-level command answers on.
pub(super) const CSID_COMMAND: u32 = 3;
/// Chunk stream of audio sent to players.
pub(super) const CSID_AUDIO: u32 = 4;
/// Chunk stream of stream-level statuses and data messages.
pub(super) const CSID_STREAM: u32 = 5;
/// Chunk stream of video sent to players.
pub(super) const CSID_VIDEO: u32 = 6;

/// What `connect` said.
#[derive(Debug, Clone)]
pub(super) struct Connect {
    pub(super) app: String,
    pub(super) tc_url: String,
}

/// What the connection does with its message stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Role {
    /// Nothing (yet, or anymore).
    Idle,
    /// Publishing `path` on message stream `stream_id`.
    Publishing { stream_id: u32, path: String },
    /// Playing `path` on message stream `stream_id`.
    Playing { stream_id: u32, path: String },
}

/// A question asked to the adapter, with what is needed to answer the client.
#[derive(Debug, Clone)]
pub(super) enum Pending {
    Publish {
        stream_id: u32,
        name: String,
        path: String,
    },
    Play {
        stream_id: u32,
        name: String,
        path: String,
    },
}

/// The server side of one RTMP connection.
#[derive(Debug)]
pub struct RtmpServerConnection {
    pub(super) cfg: Arc<RtmpServerConfig>,
    peer: SocketAddr,
    pub(super) log_prefix: String,
    handshake: ServerHandshake,
    pub(super) decoder: ChunkDecoder,
    pub(super) encoder: ChunkEncoder,
    pub(super) transmit: Vec<u8>,
    pub(super) events: VecDeque<RtmpEvent>,
    closing: bool,
    last_input: Instant,
    /// Bytes received since the connection opened (acknowledgement sequence number).
    bytes_in: u64,
    /// `bytes_in` when the last Acknowledgement was sent.
    last_ack: u64,
    /// The window the peer asked to be acknowledged at (0: none).
    peer_window: u32,
    /// The window weir announced last.
    pub(super) sent_window: u32,
    pub(super) connect: Option<Connect>,
    /// Message streams created (ids 1..=streams_created).
    pub(super) streams_created: u32,
    pub(super) role: Role,
    /// Whether a publish or play happened: media after it ends is dropped quietly.
    pub(super) had_stream: bool,
    pub(super) pending: Option<Pending>,
    /// Last media timestamp, 32-bit and extended.
    last_ts: TimestampExtender,
}

impl RtmpServerConnection {
    /// A connection from `peer`, opened at `now`. `random` feeds the handshake's random bytes.
    pub fn new(cfg: Arc<RtmpServerConfig>, peer: SocketAddr, now: Instant, random: u64) -> Self {
        let log_prefix = format!("[RTMP] [conn {peer}]");
        tracing::info!("{log_prefix} opened");
        RtmpServerConnection {
            cfg,
            peer,
            log_prefix,
            handshake: ServerHandshake::new(random),
            decoder: ChunkDecoder::new(ChunkLimits::default()),
            encoder: ChunkEncoder::new(),
            transmit: Vec::new(),
            events: VecDeque::with_capacity(8),
            closing: false,
            last_input: now,
            bytes_in: 0,
            last_ack: 0,
            peer_window: 0,
            sent_window: 0,
            connect: None,
            streams_created: 0,
            role: Role::Idle,
            had_stream: false,
            pending: None,
            last_ts: TimestampExtender::default(),
        }
    }

    /// The peer address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The log prefix, `[RTMP] [conn <peer>]`.
    pub fn log_prefix(&self) -> &str {
        &self.log_prefix
    }

    /// Which handshake the client used, once its C1 was read.
    pub fn handshake_kind(&self) -> Option<HandshakeKind> {
        self.handshake.kind()
    }

    /// The path being published or played, if any.
    pub fn path(&self) -> Option<&str> {
        match &self.role {
            Role::Publishing { path, .. } | Role::Playing { path, .. } => Some(path),
            Role::Idle => None,
        }
    }

    /// Whether the connection publishes (answered Publish with Ok, not closed since).
    pub fn is_publishing(&self) -> bool {
        matches!(self.role, Role::Publishing { .. })
    }

    /// Whether the connection plays (answered Play with Ok, not closed since).
    pub fn is_playing(&self) -> bool {
        matches!(self.role, Role::Playing { .. })
    }

    /// Whether the connection waits for an `answer_*` call before it reads more input.
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the connection is closing (no more input is processed).
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// Writes MediaMTX's "is publishing to path 'x', <tracks>" line (the adapter calls it
    /// once it knows the tracks, e.g. "2 tracks (H264, MPEG-4 Audio)").
    pub fn log_publishing(&self, tracks: &str) {
        if let Role::Publishing { path, .. } = &self.role {
            let sep = if tracks.is_empty() { "" } else { ", " };
            tracing::info!(
                "{} is publishing to path '{path}'{sep}{tracks}",
                self.log_prefix
            );
        }
    }

    /// Writes MediaMTX's "is reading from path 'x', <tracks>" line.
    pub fn log_reading(&self, tracks: &str) {
        if let Role::Playing { path, .. } = &self.role {
            let sep = if tracks.is_empty() { "" } else { ", " };
            tracing::info!(
                "{} is reading from path '{path}'{sep}{tracks}",
                self.log_prefix
            );
        }
    }

    /// Feeds received bytes: consumes what it can from `buf`, leaving an incomplete tail for
    /// the next call. Stops early while a question is pending (see [`Self::is_waiting`]):
    /// answer it, then call again with the same buffer.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        if !buf.is_empty() {
            self.last_input = now;
        }
        while !self.closing && self.pending.is_none() && !buf.is_empty() {
            let before = buf.len();
            if !self.handshake.is_done() {
                let r = self.handshake.handle(buf, &mut self.transmit);
                self.count_in(before - buf.len());
                match r {
                    Err(e) => self.close(e.to_string()),
                    Ok(true) => {
                        tracing::debug!(
                            "{} handshake done ({:?})",
                            self.log_prefix,
                            self.handshake.kind()
                        );
                    }
                    Ok(false) => break,
                }
                continue;
            }
            let r = self.decoder.decode(buf);
            self.count_in(before - buf.len());
            match r {
                Ok(Some(msg)) => self.handle_message(msg),
                Ok(None) => break,
                Err(e) => self.close(e.to_string()),
            }
        }
    }

    /// Counts received bytes and acknowledges them per the peer's window.
    fn count_in(&mut self, n: usize) {
        self.bytes_in += n as u64;
        let window = u64::from(self.peer_window);
        if window > 0 && self.bytes_in - self.last_ack >= window {
            self.last_ack = self.bytes_in;
            // The sequence number wraps at 32 bits.
            self.send_control(ControlMessage::Acknowledgement(self.bytes_in as u32));
        }
    }

    fn handle_message(&mut self, msg: RawMessage) {
        match msg.type_id {
            1..=6 => match ControlMessage::parse(msg.type_id, &msg.body) {
                Ok(c) => self.on_control(c),
                Err(e) => self.close(e.to_string()),
            },
            type_id::AUDIO => self.on_media(MediaKind::Audio, msg.timestamp, msg.body),
            type_id::VIDEO => self.on_media(MediaKind::Video, msg.timestamp, msg.body),
            type_id::DATA_AMF0 | type_id::DATA_AMF3 => self.on_data(msg.type_id, &msg.body),
            type_id::COMMAND_AMF0 | type_id::COMMAND_AMF3 => self.on_command(&msg),
            type_id::AGGREGATE => match split_aggregate(msg.timestamp, &msg.body) {
                Ok(parts) => {
                    for p in parts {
                        match p.type_id {
                            type_id::AUDIO => self.on_media(MediaKind::Audio, p.timestamp, p.body),
                            type_id::VIDEO => self.on_media(MediaKind::Video, p.timestamp, p.body),
                            type_id::DATA_AMF0 => self.on_data(p.type_id, &p.body),
                            _ => {}
                        }
                    }
                }
                Err(e) => self.close(e.to_string()),
            },
            other => tracing::debug!("{} ignoring message of type {other}", self.log_prefix),
        }
    }

    fn on_control(&mut self, c: ControlMessage) {
        match c {
            ControlMessage::SetChunkSize(n) => {
                if let Err(e) = self.decoder.set_chunk_size(n) {
                    self.close(e.to_string());
                }
            }
            ControlMessage::Abort(csid) => self.decoder.abort(csid),
            ControlMessage::Acknowledgement(_) => {}
            ControlMessage::WindowAckSize(n) => self.peer_window = n,
            ControlMessage::SetPeerBandwidth { size, .. } => {
                // §5.4.5: answer with our window when it differs.
                if size != self.sent_window && size > 0 {
                    self.sent_window = size;
                    self.send_control(ControlMessage::WindowAckSize(size));
                }
            }
            ControlMessage::UserControl(UserControlEvent::PingRequest(t)) => {
                self.send_control(ControlMessage::UserControl(UserControlEvent::PingResponse(
                    t,
                )));
            }
            ControlMessage::UserControl(_) => {}
        }
    }

    fn on_media(&mut self, kind: MediaKind, timestamp: u32, body: Bytes) {
        match self.role {
            Role::Publishing { .. } => {
                let timestamp_ms = self.last_ts.extend(timestamp);
                self.events.push_back(RtmpEvent::Media {
                    kind,
                    timestamp_ms,
                    body,
                });
            }
            Role::Idle if !self.had_stream => self.close("received media before publish".into()),
            _ => {}
        }
    }

    fn on_data(&mut self, message_type: u8, body: &[u8]) {
        let values = match decode_values(message_type, body) {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!("{} ignoring invalid data message: {e}", self.log_prefix);
                return;
            }
        };
        if !self.is_publishing() {
            return;
        }
        if let Some(props) = metadata_properties(&values) {
            self.events.push_back(RtmpEvent::Metadata(props.to_vec()));
        }
    }

    /// Appends the bytes to send to `out`. Returns whether anything was appended.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> bool {
        if self.transmit.is_empty() {
            return false;
        }
        out.append(&mut self.transmit);
        true
    }

    /// Gives back the output buffer's memory beyond `keep` bytes when nothing is queued (a
    /// player past its start-up burst sends only a few control messages through it).
    pub fn shrink_transmit(&mut self, keep: usize) {
        if self.transmit.is_empty() {
            self.transmit.shrink_to(keep);
        }
    }

    /// The next event for the adapter.
    pub fn poll_event(&mut self) -> Option<RtmpEvent> {
        self.events.pop_front()
    }

    /// When [`Self::handle_timeout`] must next be called: `read_timeout` after the last input,
    /// except for players, which are never closed for not sending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closing || self.is_playing() {
            return None;
        }
        Some(self.last_input + self.cfg.read_timeout)
    }

    /// Handles the deadline given by [`Self::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|d| now >= d) {
            self.close("timed out".into());
        }
    }

    /// Tells the connection that the transport closed (peer gone, write error, shutdown).
    pub fn handle_close(&mut self, reason: &str) {
        self.close(reason.to_owned());
    }

    /// Closes the connection from the server side (its publisher was replaced, its path's
    /// source went away).
    pub fn terminate(&mut self, reason: &str) {
        self.close(reason.to_owned());
    }

    /// Ends the connection: logs, and tells the adapter with [`RtmpEvent::Close`].
    pub(super) fn close(&mut self, reason: String) {
        if self.closing {
            return;
        }
        self.closing = true;
        self.pending = None;
        tracing::info!("{} closed: {reason}", self.log_prefix);
        self.events.push_back(RtmpEvent::Close { reason });
    }

    /// Ends the publishing or playing, keeping the connection.
    pub(super) fn end_stream(&mut self) {
        if self.role != Role::Idle {
            self.role = Role::Idle;
            self.events.push_back(RtmpEvent::StreamClosed);
        }
    }

    /// Answers [`RtmpEvent::Publish`]: `NetStream.Publish.Start`, or an error status
    /// (`NetStream.Publish.BadName` for an invalid or taken name, `NetStream.Publish.Denied`
    /// otherwise) and a close.
    pub fn answer_publish(&mut self, result: Result<(), PathError>) {
        let Some(Pending::Publish {
            stream_id,
            name,
            path,
        }) = self.pending.clone()
        else {
            return;
        };
        self.pending = None;
        match result {
            Ok(()) => {
                self.role = Role::Publishing { stream_id, path };
                self.had_stream = true;
                let desc = format!("{name} is now published.");
                self.send_status(stream_id, "status", "NetStream.Publish.Start", &desc, &name);
            }
            Err(e) => {
                let code = match e {
                    PathError::InvalidName(_) | PathError::AlreadyPublishing(_) => {
                        "NetStream.Publish.BadName"
                    }
                    _ => "NetStream.Publish.Denied",
                };
                self.send_status(stream_id, "error", code, &e.to_string(), &name);
                self.close(e.to_string());
            }
        }
    }

    /// Answers [`RtmpEvent::Play`]: Stream Begin, `NetStream.Play.Reset`,
    /// `NetStream.Play.Start`, `|RtmpSampleAccess` and `NetStream.Data.Start`; or
    /// `NetStream.Play.StreamNotFound` and a close.
    pub fn answer_play(&mut self, result: Result<(), PathError>) {
        let Some(Pending::Play {
            stream_id,
            name,
            path,
        }) = self.pending.clone()
        else {
            return;
        };
        self.pending = None;
        match result {
            Ok(()) => {
                self.role = Role::Playing { stream_id, path };
                self.had_stream = true;
                self.send_control(ControlMessage::UserControl(UserControlEvent::StreamBegin(
                    stream_id,
                )));
                let reset = format!("Playing and resetting {name}.");
                self.send_status(stream_id, "status", "NetStream.Play.Reset", &reset, &name);
                let start = format!("Started playing {name}.");
                self.send_status(stream_id, "status", "NetStream.Play.Start", &start, &name);
                self.send_data(
                    stream_id,
                    &[
                        Amf0Value::String("|RtmpSampleAccess".into()),
                        Amf0Value::Boolean(true),
                        Amf0Value::Boolean(true),
                    ],
                );
                let data_start = crate::rtmp::amf0::object([(
                    "code",
                    Amf0Value::String("NetStream.Data.Start".into()),
                )]);
                self.send_data(
                    stream_id,
                    &[Amf0Value::String("onStatus".into()), data_start],
                );
            }
            Err(e) => {
                let code = "NetStream.Play.StreamNotFound";
                self.send_status(stream_id, "error", code, &e.to_string(), &name);
                self.close(e.to_string());
            }
        }
    }

    /// For a playing connection: queues one media message (type 8 audio, 9 video, 18 data) on
    /// the play stream, chunked at weir's chunk size. Ignored when not playing or when the
    /// body does not fit a message (16 MiB).
    pub fn write_media(&mut self, kind: MediaKind, timestamp_ms: u32, body: &[u8]) {
        let Role::Playing { stream_id, .. } = self.role else {
            return;
        };
        let csid = match kind {
            MediaKind::Audio => CSID_AUDIO,
            MediaKind::Video => CSID_VIDEO,
            MediaKind::Data => CSID_STREAM,
        };
        let r = self.encoder.write(
            &mut self.transmit,
            csid,
            timestamp_ms,
            kind.type_id(),
            stream_id,
            body,
        );
        if let Err(e) = r {
            tracing::debug!("{} media message not sent: {e}", self.log_prefix);
        }
    }

    /// For a playing connection: a media message to be written straight from `unit` (see
    /// [`super::direct`]), on the chunk stream [`Self::write_media`] uses for `planned`'s kind,
    /// whose next message through this connection then restarts with a format 0 header.
    /// `None` when not playing or when the body does not fit a message.
    pub fn direct_media(
        &mut self,
        planned: crate::flv::PlannedMessage,
        unit: &crate::media::Unit,
        timestamp_ms: u32,
    ) -> Option<super::DirectMessage> {
        let Role::Playing { stream_id, .. } = self.role else {
            return None;
        };
        let csid = if planned.is_video {
            CSID_VIDEO
        } else {
            CSID_AUDIO
        };
        self.encoder.forget(csid);
        let chunk_size = self.encoder.chunk_size();
        super::DirectMessage::new(planned, unit, timestamp_ms, csid, stream_id, chunk_size)
    }

    /// Sends a protocol control message on chunk stream 2, message stream 0.
    pub(super) fn send_control(&mut self, c: ControlMessage) {
        let mut body = Vec::with_capacity(8);
        c.write_body(&mut body);
        // Chunk stream 2 and an 8-byte body cannot fail.
        let _ = self
            .encoder
            .write(&mut self.transmit, CONTROL_CSID, 0, c.type_id(), 0, &body);
    }
}
