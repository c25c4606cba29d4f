//! The client connection: handshake, commands, control messages, and media through the FLV
//! demuxer.

use crate::flv::{FlvDemuxer, FlvOutput, MetaValue};
use crate::pull::{ClientEvent, SourceUrl};
use crate::rtmp::amf0::Amf0Value;
use crate::rtmp::chunk::{ChunkDecoder, ChunkEncoder, ChunkLimits, RawMessage};
use crate::rtmp::command::{decode_values, metadata_properties, Command, TimestampExtender};
use crate::rtmp::handshake::{HANDSHAKE_SIZE, RTMP_VERSION};
use crate::rtmp::message::{split_aggregate, type_id, ControlMessage, CONTROL_CSID};
use crate::rtmp::server::meta_value;
use crate::rtmp::user_control::UserControlEvent;
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Chunk stream of connection-level commands.
const CSID_COMMAND: u32 = 3;
/// Chunk stream of stream-level commands (`play`).
const CSID_STREAM: u32 = 8;
/// Transaction id of `connect`.
const TXN_CONNECT: f64 = 1.0;
/// Transaction id of `createStream`.
const TXN_CREATE_STREAM: f64 = 2.0;
/// The buffer length announced to the server (ms), as ffmpeg does.
const BUFFER_MS: u32 = 3000;
/// The acknowledgement window weir announces.
const WINDOW: u32 = 2_500_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// C0+C1 sent; waiting for S0+S1+S2.
    Handshake,
    /// `connect` sent.
    Connect,
    /// `createStream` sent.
    CreateStream,
    /// `play` sent on message stream `stream_id`.
    Play {
        stream_id: u32,
    },
    Closed,
}

/// One connection to an RTMP server, playing one stream (see the module docs).
#[derive(Debug)]
pub struct RtmpClientConnection {
    url: SourceUrl,
    read_timeout: Duration,
    state: State,
    decoder: ChunkDecoder,
    encoder: ChunkEncoder,
    demuxer: FlvDemuxer,
    outputs: Vec<FlvOutput>,
    /// Whether an invalid media message was already logged.
    warned: bool,
    last_input: Instant,
    bytes_in: u64,
    last_ack: u64,
    peer_window: u32,
    /// Last media timestamp, 32-bit and extended.
    last_ts: TimestampExtender,
    transmit: Vec<u8>,
    events: VecDeque<ClientEvent>,
}

impl RtmpClientConnection {
    /// A connection to `url` opened at `now`: C0 and C1 are queued; `random` fills C1.
    pub fn new(
        read_timeout: Duration,
        url: SourceUrl,
        now: Instant,
        random: u64,
    ) -> RtmpClientConnection {
        let mut transmit = Vec::with_capacity(2 * HANDSHAKE_SIZE + 512);
        transmit.push(RTMP_VERSION);
        // C1: time (0), zero (the simple handshake), random bytes.
        transmit.extend_from_slice(&[0u8; 8]);
        let mut rng = random;
        while transmit.len() < 1 + HANDSHAKE_SIZE {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let n = (1 + HANDSHAKE_SIZE - transmit.len()).min(8);
            transmit.extend_from_slice(&rng.to_le_bytes()[..n]);
        }
        RtmpClientConnection {
            url,
            read_timeout,
            state: State::Handshake,
            decoder: ChunkDecoder::new(ChunkLimits::default()),
            encoder: ChunkEncoder::new(),
            demuxer: FlvDemuxer::new(),
            outputs: Vec::with_capacity(4),
            warned: false,
            last_input: now,
            bytes_in: 0,
            last_ack: 0,
            peer_window: 0,
            last_ts: TimestampExtender::default(),
            transmit,
            events: VecDeque::with_capacity(64),
        }
    }

    /// The URL read (credentials removed).
    pub fn url(&self) -> &str {
        &self.url.url
    }

    /// Whether `play` was sent (media may flow).
    pub fn is_playing(&self) -> bool {
        matches!(self.state, State::Play { .. })
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    fn close(&mut self, reason: String) {
        if self.state != State::Closed {
            self.state = State::Closed;
            self.events.push_back(ClientEvent::Close { reason });
        }
    }

    /// Feeds bytes from the server; consumed bytes are removed from `buf`.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        if !buf.is_empty() {
            self.last_input = now;
        }
        while self.state != State::Closed && !buf.is_empty() {
            let before = buf.len();
            if self.state == State::Handshake {
                if buf[0] != RTMP_VERSION {
                    let v = buf[0];
                    return self.close(format!("the server answered with RTMP version {v}"));
                }
                if buf.len() < 1 + 2 * HANDSHAKE_SIZE {
                    return;
                }
                // C2 echoes S1; S2 (our C1 echoed) is not checked, as most clients.
                self.transmit.extend_from_slice(&buf[1..1 + HANDSHAKE_SIZE]);
                buf.advance(1 + 2 * HANDSHAKE_SIZE);
                self.count_in(before - buf.len());
                self.send_connect();
                continue;
            }
            let r = self.decoder.decode(buf);
            self.count_in(before - buf.len());
            match r {
                Ok(Some(msg)) => self.handle_message(msg),
                Ok(None) => break,
                Err(e) => self.close(format!("invalid chunk stream from the server: {e}")),
            }
        }
    }

    /// Counts received bytes and acknowledges them per the server's window.
    fn count_in(&mut self, n: usize) {
        self.bytes_in += n as u64;
        let window = u64::from(self.peer_window);
        if window > 0 && self.bytes_in - self.last_ack >= window {
            self.last_ack = self.bytes_in;
            // The sequence number wraps at 32 bits.
            self.send_control(ControlMessage::Acknowledgement(self.bytes_in as u32));
        }
    }

    fn send_control(&mut self, c: ControlMessage) {
        let mut body = Vec::with_capacity(8);
        c.write_body(&mut body);
        self.send(CONTROL_CSID, c.type_id(), 0, &body);
    }

    fn send(&mut self, csid: u32, type_id: u8, stream_id: u32, body: &[u8]) {
        if let Err(e) = self
            .encoder
            .write(&mut self.transmit, csid, 0, type_id, stream_id, body)
        {
            self.close(format!("cannot encode a message: {e}"));
        }
    }

    fn send_command(&mut self, stream_id: u32, cmd: Command) {
        let mut body = Vec::with_capacity(256);
        if let Err(e) = cmd.write(&mut body) {
            return self.close(format!("cannot encode '{}': {e}", cmd.name));
        }
        let csid = if stream_id == 0 {
            CSID_COMMAND
        } else {
            CSID_STREAM
        };
        self.send(csid, type_id::COMMAND_AMF0, stream_id, &body);
    }

    fn send_connect(&mut self) {
        let (app, _, tc_url) = self.url.rtmp_target();
        let s = |v: &str| Amf0Value::String(v.to_owned());
        let object = Amf0Value::Object(vec![
            ("app".into(), s(&app)),
            ("flashVer".into(), s("LNX 9,0,124,2")),
            ("tcUrl".into(), s(&tc_url)),
            ("fpad".into(), Amf0Value::Boolean(false)),
            ("capabilities".into(), Amf0Value::Number(15.0)),
            ("audioCodecs".into(), Amf0Value::Number(4071.0)),
            ("videoCodecs".into(), Amf0Value::Number(252.0)),
            ("videoFunction".into(), Amf0Value::Number(1.0)),
            // Enhanced RTMP: the codecs weir reads.
            (
                "fourCcList".into(),
                Amf0Value::StrictArray(vec![s("hvc1"), s("av01"), s("vp09"), s("Opus")]),
            ),
        ]);
        self.send_control(ControlMessage::WindowAckSize(WINDOW));
        self.send_command(0, Command::new("connect", TXN_CONNECT, object, vec![]));
        self.state = State::Connect;
    }

    fn handle_message(&mut self, msg: RawMessage) {
        match msg.type_id {
            1..=6 => match ControlMessage::parse(msg.type_id, &msg.body) {
                Ok(c) => self.on_control(c),
                Err(e) => self.close(format!("invalid control message: {e}")),
            },
            type_id::AUDIO | type_id::VIDEO => {
                self.on_media(msg.type_id == type_id::VIDEO, msg.timestamp, &msg.body)
            }
            type_id::DATA_AMF0 | type_id::DATA_AMF3 => self.on_data(msg.type_id, &msg.body),
            type_id::COMMAND_AMF0 | type_id::COMMAND_AMF3 => {
                match Command::parse(msg.type_id, &msg.body) {
                    Ok(c) => self.on_command(c),
                    Err(e) => {
                        tracing::debug!("[RTMP source {}] invalid command: {e}", self.url.url)
                    }
                }
            }
            type_id::AGGREGATE => match split_aggregate(msg.timestamp, &msg.body) {
                Ok(parts) => {
                    for p in parts {
                        match p.type_id {
                            type_id::AUDIO | type_id::VIDEO => {
                                self.on_media(p.type_id == type_id::VIDEO, p.timestamp, &p.body)
                            }
                            type_id::DATA_AMF0 => self.on_data(p.type_id, &p.body),
                            _ => {}
                        }
                    }
                }
                Err(e) => self.close(format!("invalid aggregate message: {e}")),
            },
            _ => {}
        }
    }

    fn on_control(&mut self, c: ControlMessage) {
        match c {
            ControlMessage::SetChunkSize(n) => {
                if let Err(e) = self.decoder.set_chunk_size(n) {
                    self.close(format!("invalid chunk size from the server: {e}"));
                }
            }
            ControlMessage::Abort(csid) => self.decoder.abort(csid),
            ControlMessage::WindowAckSize(n) => self.peer_window = n,
            ControlMessage::UserControl(UserControlEvent::PingRequest(t)) => self.send_control(
                ControlMessage::UserControl(UserControlEvent::PingResponse(t)),
            ),
            ControlMessage::UserControl(UserControlEvent::StreamEof(_)) => {
                self.close("the server ended the stream".into())
            }
            _ => {}
        }
    }

    fn on_command(&mut self, c: Command) {
        let code = c
            .args
            .iter()
            .find_map(|a| a.get("code")?.as_str())
            .unwrap_or_default()
            .to_owned();
        match (c.name.as_str(), self.state) {
            ("_result", State::Connect) if c.transaction_id == TXN_CONNECT => {
                self.state = State::CreateStream;
                let cmd = Command::new("createStream", TXN_CREATE_STREAM, Amf0Value::Null, vec![]);
                self.send_command(0, cmd);
            }
            ("_result", State::CreateStream) if c.transaction_id == TXN_CREATE_STREAM => {
                let Some(id) = c.arg(0).and_then(Amf0Value::as_f64) else {
                    return self.close("createStream was answered without a stream id".into());
                };
                let stream_id = id as u32;
                let (_, stream, _) = self.url.rtmp_target();
                let args = vec![Amf0Value::String(stream), Amf0Value::Number(-2000.0)];
                self.send_command(stream_id, Command::new("play", 0.0, Amf0Value::Null, args));
                self.send_control(ControlMessage::UserControl(
                    UserControlEvent::SetBufferLength {
                        stream_id,
                        buffer_ms: BUFFER_MS,
                    },
                ));
                self.state = State::Play { stream_id };
            }
            ("_error", _) => {
                let what = match self.state {
                    State::Connect => "connect",
                    State::CreateStream => "createStream",
                    _ => "a command",
                };
                self.close(format!("the server refused {what} ({code})"))
            }
            ("onStatus", State::Play { .. }) => {
                let level = c
                    .args
                    .iter()
                    .find_map(|a| a.get("level")?.as_str())
                    .unwrap_or_default();
                let ended = matches!(
                    code.as_str(),
                    "NetStream.Play.Stop"
                        | "NetStream.Play.UnpublishNotify"
                        | "NetStream.Play.Complete"
                );
                if level == "error" || ended {
                    self.close(format!("the server answered play with {code}"));
                }
            }
            _ => {}
        }
    }

    fn on_media(&mut self, is_video: bool, timestamp: u32, body: &Bytes) {
        if !self.is_playing() || body.is_empty() {
            return;
        }
        let ts = self.last_ts.extend(timestamp);
        self.outputs.clear();
        if let Err(e) = self.demuxer.push(is_video, ts, body, &mut self.outputs) {
            if !self.warned {
                self.warned = true;
                tracing::warn!(
                    "[RTMP source {}] invalid media message: {e:?}",
                    self.url.url
                );
            }
        }
        for out in self.outputs.drain(..) {
            self.events.push_back(match out {
                FlvOutput::Tracks(description) => ClientEvent::Ready { description },
                FlvOutput::Unit {
                    track,
                    pts,
                    dts,
                    key,
                    payload,
                } => ClientEvent::Unit {
                    track,
                    pts,
                    dts,
                    key,
                    payload,
                },
            });
        }
    }

    fn on_data(&mut self, message_type: u8, body: &[u8]) {
        if !self.is_playing() {
            return;
        }
        let Ok(values) = decode_values(message_type, body) else {
            return;
        };
        if let Some(props) = metadata_properties(&values) {
            let meta: Vec<(String, MetaValue)> = props
                .iter()
                .map(|(k, v)| (k.clone(), meta_value(v)))
                .collect();
            self.demuxer.handle_metadata(&meta);
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

    /// The next event for the adapter.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`RtmpClientConnection::handle_timeout`] is next needed: `read_timeout` after the
    /// last input.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.state != State::Closed).then(|| self.last_input + self.read_timeout)
    }

    /// Gives up on a silent server.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state != State::Closed && now >= self.last_input + self.read_timeout {
            self.close("the source timed out".into());
        }
    }

    /// The socket closed or failed.
    pub fn handle_close(&mut self, reason: &str) {
        self.close(reason.to_owned());
    }
}
