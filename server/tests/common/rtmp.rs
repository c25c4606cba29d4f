//! A minimal raw RTMP client for the RTMP tests: the simple handshake, a chunk writer
//! (format 0 headers, format 3 continuations), a chunk reader (all four header formats,
//! extended timestamps, Set Chunk Size, Abort, acknowledgements, ping), AMF0 values, the
//! commands of a publisher and a player, FLV video tag parsing (legacy AVC and Enhanced
//! RTMP `avc1`/`hvc1`) and an AVCC/HVCC → Annex-B converter so what a raw player received
//! can be decoded by ffmpeg. Also [`RtmpPlayer`], a background raw reader that counts
//! tags and records timestamp gaps (the RTMP analogue of [`super::RawReader`]), and
//! [`rtmp_config`] / [`WeirRtmp`] to run weir with its RTMP listener on loopback.
//!
//! Everything connects to 127.0.0.1 only.

use std::collections::{HashMap, VecDeque};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::weir::{rtsp_config, Weir};

/// Default time to wait for one answer from the server.
pub const RTMP_TIMEOUT: Duration = Duration::from_secs(5);

/// The size of C1/C2/S1/S2 (§5.2.3).
pub const HANDSHAKE_SIZE: usize = 1536;

/// The chunk size both directions start with (§5.4.1).
pub const DEFAULT_CHUNK_SIZE: usize = 128;

/// Message type ids (§5.4, §7.1).
pub mod msg_type {
    /// Set Chunk Size.
    pub const SET_CHUNK_SIZE: u8 = 1;
    /// Abort Message.
    pub const ABORT: u8 = 2;
    /// Acknowledgement.
    pub const ACK: u8 = 3;
    /// User Control Message.
    pub const USER_CONTROL: u8 = 4;
    /// Window Acknowledgement Size.
    pub const WINDOW_ACK_SIZE: u8 = 5;
    /// Set Peer Bandwidth.
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    /// Audio (an FLV audio tag body).
    pub const AUDIO: u8 = 8;
    /// Video (an FLV video tag body).
    pub const VIDEO: u8 = 9;
    /// Data message, AMF3.
    pub const DATA_AMF3: u8 = 15;
    /// Command message, AMF3.
    pub const COMMAND_AMF3: u8 = 17;
    /// Data message, AMF0 (`@setDataFrame`, `onMetaData`).
    pub const DATA_AMF0: u8 = 18;
    /// Command message, AMF0 (`connect`, `_result`, `onStatus`, ...).
    pub const COMMAND_AMF0: u8 = 20;
}

/// The weir RTSP test config ([`rtsp_config`]) with RTMP on and bound to `127.0.0.1:0`.
pub fn rtmp_config(extra: &str) -> String {
    rtsp_config(&format!("rtmp: yes\n{extra}"))
}

/// Starts weir with `config_yaml` and waits for both its RTSP and its RTMP listener lines.
pub fn start_weir_rtmp(config_yaml: &str) -> Weir {
    Weir::start_with(config_yaml, None, &["RTSP", "RTMP"])
}

/// RTMP accessors for [`Weir`] (a trait so `weir.rs` stays as it is).
pub trait WeirRtmp {
    /// The RTMP listener's port (the `[RTMP] listener opened on A` line, with or without
    /// a `(TCP)` suffix); panics if weir logged none.
    fn rtmp_port(&self) -> u16;
    /// `rtmp://127.0.0.1:<rtmp port>/<path>`.
    fn rtmp_url(&self, path: &str) -> String;
}

impl WeirRtmp for Weir {
    fn rtmp_port(&self) -> u16 {
        self.listeners()
            .iter()
            .find(|l| l.proto == "RTMP" && (l.kind.is_empty() || l.kind == "TCP"))
            .unwrap_or_else(|| panic!("no RTMP listener in {:?}", self.listeners()))
            .port
    }

    fn rtmp_url(&self, path: &str) -> String {
        format!(
            "rtmp://127.0.0.1:{}/{}",
            self.rtmp_port(),
            path.trim_start_matches('/')
        )
    }
}

/// Splits a weir path as MediaMTX maps RTMP URLs onto paths: `live/cam` is app `live`,
/// stream name `cam`; `live/cam?user=a` is app `live`, stream name `cam?user=a`;
/// `a/b/c` is app `a`, stream `b/c`; `cam` is app `cam`, stream name empty.
pub fn split_app_stream(path: &str) -> (String, String) {
    let path = path.trim_start_matches('/');
    match path.split_once('/') {
        Some((app, stream)) => (app.to_string(), stream.to_string()),
        None => (path.to_string(), String::new()),
    }
}

/// The `[RTMP] [conn ADDR]` address in a log line, e.g. `127.0.0.1:51234`.
pub fn log_conn_addr(line: &str) -> Option<String> {
    let start = line.find("[conn ")? + "[conn ".len();
    let len = line[start..].find(']')?;
    Some(line[start..start + len].to_string())
}

// ---------------------------------------------------------------------------------------
// AMF0
// ---------------------------------------------------------------------------------------

/// One AMF0 value (the subset RTMP commands use).
#[derive(Clone, Debug, PartialEq)]
pub enum Amf0 {
    /// Marker 0x00: an IEEE 754 double.
    Number(f64),
    /// Marker 0x01.
    Boolean(bool),
    /// Marker 0x02 (or 0x0C, long string, when decoded).
    String(String),
    /// Marker 0x03: key/value pairs in order, ended by `00 00 09`.
    Object(Vec<(String, Amf0)>),
    /// Marker 0x05.
    Null,
    /// Marker 0x06.
    Undefined,
    /// Marker 0x08: a count (advisory) then pairs like an object.
    EcmaArray(Vec<(String, Amf0)>),
    /// Marker 0x0A: a count then that many values.
    StrictArray(Vec<Amf0>),
    /// Marker 0x0B: milliseconds since the epoch and a time zone (ignored).
    Date(f64),
}

impl Amf0 {
    /// A string value.
    pub fn str(s: &str) -> Amf0 {
        Amf0::String(s.to_string())
    }

    /// An object from `(key, value)` pairs.
    pub fn obj(pairs: &[(&str, Amf0)]) -> Amf0 {
        Amf0::Object(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        )
    }

    /// The value of `key` in an object or ECMA array.
    pub fn get(&self, key: &str) -> Option<&Amf0> {
        match self {
            Amf0::Object(p) | Amf0::EcmaArray(p) => {
                p.iter().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Amf0::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Appends the AMF0 encoding of this value to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Amf0::Number(n) => {
                out.push(0x00);
                out.extend_from_slice(&n.to_be_bytes());
            }
            Amf0::Boolean(b) => {
                out.push(0x01);
                out.push(u8::from(*b));
            }
            Amf0::String(s) => {
                out.push(0x02);
                amf0_put_utf8(out, s);
            }
            Amf0::Object(pairs) => {
                out.push(0x03);
                amf0_put_pairs(out, pairs);
            }
            Amf0::Null => out.push(0x05),
            Amf0::Undefined => out.push(0x06),
            Amf0::EcmaArray(pairs) => {
                out.push(0x08);
                out.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
                amf0_put_pairs(out, pairs);
            }
            Amf0::StrictArray(values) => {
                out.push(0x0a);
                out.extend_from_slice(&(values.len() as u32).to_be_bytes());
                for v in values {
                    v.encode(out);
                }
            }
            Amf0::Date(ms) => {
                out.push(0x0b);
                out.extend_from_slice(&ms.to_be_bytes());
                out.extend_from_slice(&[0, 0]);
            }
        }
    }
}

/// A UTF-8 string with a 16-bit length (truncated to 65535 bytes).
fn amf0_put_utf8(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(0xffff)];
    out.extend_from_slice(&(b.len() as u16).to_be_bytes());
    out.extend_from_slice(b);
}

/// Object/ECMA array body: each key (16-bit length + UTF-8) and value, then the end marker `00 00 09`.
fn amf0_put_pairs(out: &mut Vec<u8>, pairs: &[(String, Amf0)]) {
    for (k, v) in pairs {
        amf0_put_utf8(out, k);
        v.encode(out);
    }
    out.extend_from_slice(&[0, 0, 0x09]);
}

/// The concatenated AMF0 encodings of `values` (a command or data message body).
pub fn amf0_encode_all(values: &[Amf0]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        v.encode(&mut out);
    }
    out
}

/// Decodes a whole command or data message body into its values.
pub fn amf0_decode_all(bytes: &[u8]) -> Result<Vec<Amf0>, String> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < bytes.len() {
        out.push(amf0_decode(bytes, &mut pos, 0)?);
    }
    Ok(out)
}

/// The next `n` bytes at `*pos` (advancing it), or an error if fewer remain.
fn take<'a>(bytes: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], String> {
    let end = pos
        .checked_add(n)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| {
            format!(
                "AMF0: {n} bytes needed at {pos}, {} left",
                bytes.len() - *pos
            )
        })?;
    let s = &bytes[*pos..end];
    *pos = end;
    Ok(s)
}

/// A big-endian u16 at `*pos` (a string or key length).
fn take_u16(bytes: &[u8], pos: &mut usize) -> Result<usize, String> {
    let b = take(bytes, pos, 2)?;
    Ok(usize::from(u16::from_be_bytes([b[0], b[1]])))
}

/// A big-endian u32 at `*pos` (an array count or long string length).
fn take_u32(bytes: &[u8], pos: &mut usize) -> Result<u32, String> {
    let b = take(bytes, pos, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A big-endian IEEE 754 double at `*pos`.
fn take_f64(bytes: &[u8], pos: &mut usize) -> Result<f64, String> {
    let b = take(bytes, pos, 8)?;
    Ok(f64::from_be_bytes(b.try_into().expect("8 bytes")))
}

/// `len` bytes at `*pos` as (lossy) UTF-8.
fn take_utf8(bytes: &[u8], pos: &mut usize, len: usize) -> Result<String, String> {
    Ok(String::from_utf8_lossy(take(bytes, pos, len)?).into_owned())
}

/// Key/value pairs up to the end marker (an empty key followed by 0x09).
fn take_pairs(bytes: &[u8], pos: &mut usize, depth: usize) -> Result<Vec<(String, Amf0)>, String> {
    let mut pairs = Vec::new();
    loop {
        let len = take_u16(bytes, pos)?;
        if len == 0 && bytes.get(*pos) == Some(&0x09) {
            *pos += 1;
            return Ok(pairs);
        }
        let key = take_utf8(bytes, pos, len)?;
        let value = amf0_decode(bytes, pos, depth + 1)?;
        pairs.push((key, value));
    }
}

/// One AMF0 value at `*pos`; nesting is limited to 32 levels.
fn amf0_decode(bytes: &[u8], pos: &mut usize, depth: usize) -> Result<Amf0, String> {
    if depth > 32 {
        return Err("AMF0: nesting deeper than 32".into());
    }
    let marker = take(bytes, pos, 1)?[0];
    Ok(match marker {
        0x00 => Amf0::Number(take_f64(bytes, pos)?),
        0x01 => Amf0::Boolean(take(bytes, pos, 1)?[0] != 0),
        0x02 => {
            let len = take_u16(bytes, pos)?;
            Amf0::String(take_utf8(bytes, pos, len)?)
        }
        0x03 => Amf0::Object(take_pairs(bytes, pos, depth)?),
        0x05 => Amf0::Null,
        0x06 => Amf0::Undefined,
        0x08 => {
            take_u32(bytes, pos)?;
            Amf0::EcmaArray(take_pairs(bytes, pos, depth)?)
        }
        0x0a => {
            let n = take_u32(bytes, pos)? as usize;
            let mut values = Vec::new();
            for _ in 0..n {
                values.push(amf0_decode(bytes, pos, depth + 1)?);
            }
            Amf0::StrictArray(values)
        }
        0x0b => {
            let ms = take_f64(bytes, pos)?;
            take(bytes, pos, 2)?;
            Amf0::Date(ms)
        }
        0x0c => {
            let len = take_u32(bytes, pos)? as usize;
            Amf0::String(take_utf8(bytes, pos, len)?)
        }
        m => {
            return Err(format!(
                "AMF0: unsupported marker 0x{m:02x} at {}",
                *pos - 1
            ))
        }
    })
}

// ---------------------------------------------------------------------------------------
// Chunk stream
// ---------------------------------------------------------------------------------------

/// One reassembled RTMP message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtmpMessage {
    /// The chunk stream it came on.
    pub csid: u32,
    /// Its timestamp in ms.
    pub timestamp: u32,
    /// Its type id (see [`msg_type`]).
    pub type_id: u8,
    /// Its message stream id.
    pub stream_id: u32,
    /// Its body.
    pub payload: Vec<u8>,
}

impl RtmpMessage {
    /// The AMF0 values of a command or data message (type 20 or 18); `None` otherwise
    /// or when the body does not decode.
    pub fn amf0(&self) -> Option<Vec<Amf0>> {
        match self.type_id {
            msg_type::COMMAND_AMF0 | msg_type::DATA_AMF0 => amf0_decode_all(&self.payload).ok(),
            // An AMF3 command starts with one format byte (0) and is AMF0 after it.
            msg_type::COMMAND_AMF3 if !self.payload.is_empty() => {
                amf0_decode_all(&self.payload[1..]).ok()
            }
            _ => None,
        }
    }

    /// The command name of a command message (its first AMF0 value).
    pub fn command_name(&self) -> Option<String> {
        if self.type_id != msg_type::COMMAND_AMF0 && self.type_id != msg_type::COMMAND_AMF3 {
            return None;
        }
        self.amf0()?.first()?.as_str().map(str::to_string)
    }
}

/// A format 0 chunk basic + message header for chunk stream `csid` (2..=63), with an
/// extended timestamp when `timestamp` ≥ 0xFFFFFF. `length` is written as given (it may
/// disagree with what follows, for malformed-input tests; it must fit in 24 bits).
pub fn chunk_header_type0(
    csid: u8,
    timestamp: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
) -> Vec<u8> {
    assert!(
        (2..=63).contains(&csid),
        "csid {csid} needs a 1-byte basic header"
    );
    assert!(
        length <= 0xff_ffff,
        "length {length} does not fit in 24 bits"
    );
    let mut out = vec![csid & 0x3f];
    let ts_field = timestamp.min(0xff_ffff);
    out.extend_from_slice(&ts_field.to_be_bytes()[1..]);
    out.extend_from_slice(&length.to_be_bytes()[1..]);
    out.push(type_id);
    out.extend_from_slice(&stream_id.to_le_bytes());
    if ts_field == 0xff_ffff {
        out.extend_from_slice(&timestamp.to_be_bytes());
    }
    out
}

/// One whole message as chunks: a format 0 header, then the body split at `chunk_size`
/// with a format 3 header (plus the extended timestamp, if used) before each continuation.
pub fn encode_chunks(
    csid: u8,
    type_id: u8,
    stream_id: u32,
    timestamp: u32,
    payload: &[u8],
    chunk_size: usize,
) -> Vec<u8> {
    let mut out = chunk_header_type0(csid, timestamp, payload.len() as u32, type_id, stream_id);
    let mut pieces = payload.chunks(chunk_size.max(1));
    if let Some(first) = pieces.next() {
        out.extend_from_slice(first);
    }
    for piece in pieces {
        out.push(0xc0 | (csid & 0x3f));
        if timestamp >= 0xff_ffff {
            out.extend_from_slice(&timestamp.to_be_bytes());
        }
        out.extend_from_slice(piece);
    }
    out
}

/// What the reader remembers per chunk stream.
#[derive(Clone, Debug, Default)]
struct ChunkState {
    timestamp: u32,
    /// The delta a format 3 header starting a new message adds (after a format 0 header,
    /// its absolute timestamp, as ffmpeg reads it).
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// Whether the last header carried an extended timestamp (repeated by format 3).
    ext: bool,
    partial: Vec<u8>,
    seen: bool,
}

/// The incremental chunk reader: feed bytes into `buf`, pop messages with [`ChunkReader::next`].
#[derive(Debug)]
pub struct ChunkReader {
    /// Received, not yet parsed bytes.
    pub buf: Vec<u8>,
    /// The peer's chunk size (changed by its Set Chunk Size messages).
    pub chunk_size: usize,
    states: HashMap<u32, ChunkState>,
}

impl Default for ChunkReader {
    /// An empty reader with the initial chunk size (128).
    fn default() -> Self {
        ChunkReader {
            buf: Vec::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            states: HashMap::new(),
        }
    }
}

/// A big-endian 24-bit value from the first 3 bytes of `b`.
fn be24(b: &[u8]) -> u32 {
    (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2])
}

/// A big-endian 32-bit value from the first 4 bytes of `b`.
fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl ChunkReader {
    /// Parses chunks off the front of `buf` until one completes a message (returned), or
    /// the bytes run out (`Ok(None)`). Applies Set Chunk Size and Abort itself (and still
    /// returns them). Errors on a chunk stream the peer cannot legally send.
    pub fn next(&mut self) -> Result<Option<RtmpMessage>, String> {
        loop {
            match self.parse_chunk()? {
                None => return Ok(None),
                Some(None) => continue,
                Some(Some(msg)) => {
                    match msg.type_id {
                        msg_type::SET_CHUNK_SIZE if msg.payload.len() >= 4 => {
                            let size = be32(&msg.payload) & 0x7fff_ffff;
                            if size == 0 {
                                return Err("server sent Set Chunk Size 0".into());
                            }
                            self.chunk_size = size as usize;
                        }
                        msg_type::ABORT if msg.payload.len() >= 4 => {
                            if let Some(s) = self.states.get_mut(&be32(&msg.payload)) {
                                s.partial.clear();
                            }
                        }
                        _ => {}
                    }
                    return Ok(Some(msg));
                }
            }
        }
    }

    /// One chunk: `None` if incomplete (nothing consumed), `Some(None)` if consumed
    /// without completing a message, `Some(Some(m))` if it completed `m`.
    fn parse_chunk(&mut self) -> Result<Option<Option<RtmpMessage>>, String> {
        let b = &self.buf;
        let Some(&b0) = b.first() else {
            return Ok(None);
        };
        let fmt = b0 >> 6;
        let (csid, mut pos) = match b0 & 0x3f {
            0 if b.len() >= 2 => (64 + u32::from(b[1]), 2),
            1 if b.len() >= 3 => (64 + u32::from(b[1]) + 256 * u32::from(b[2]), 3),
            0 | 1 => return Ok(None),
            c => (u32::from(c), 1),
        };
        let prev = self.states.get(&csid).cloned().unwrap_or_default();
        let mut st = prev.clone();
        let continuing = !prev.partial.is_empty();
        let need = |pos: usize, n: usize| b.len() >= pos + n;
        match fmt {
            0 => {
                if !need(pos, 11) {
                    return Ok(None);
                }
                let ts = be24(&b[pos..]);
                st.length = be24(&b[pos + 3..]);
                st.type_id = b[pos + 6];
                st.stream_id =
                    u32::from_le_bytes([b[pos + 7], b[pos + 8], b[pos + 9], b[pos + 10]]);
                pos += 11;
                st.ext = ts == 0xff_ffff;
                let ts = if st.ext {
                    if !need(pos, 4) {
                        return Ok(None);
                    }
                    pos += 4;
                    be32(&b[pos - 4..])
                } else {
                    ts
                };
                st.timestamp = ts;
                st.delta = ts;
            }
            1 | 2 => {
                let n = if fmt == 1 { 7 } else { 3 };
                if !need(pos, n) {
                    return Ok(None);
                }
                let d = be24(&b[pos..]);
                if fmt == 1 {
                    st.length = be24(&b[pos + 3..]);
                    st.type_id = b[pos + 6];
                }
                pos += n;
                st.ext = d == 0xff_ffff;
                let d = if st.ext {
                    if !need(pos, 4) {
                        return Ok(None);
                    }
                    pos += 4;
                    be32(&b[pos - 4..])
                } else {
                    d
                };
                if !prev.seen {
                    return Err(format!("format {fmt} header on new chunk stream {csid}"));
                }
                st.delta = d;
                st.timestamp = prev.timestamp.wrapping_add(d);
            }
            _ => {
                if !prev.seen {
                    return Err(format!("format 3 header on new chunk stream {csid}"));
                }
                if prev.ext {
                    if !need(pos, 4) {
                        return Ok(None);
                    }
                    pos += 4;
                }
                if !continuing {
                    st.timestamp = prev.timestamp.wrapping_add(prev.delta);
                }
            }
        }
        if fmt != 3 && continuing {
            return Err(format!(
                "format {fmt} header on chunk stream {csid} in the middle of a message"
            ));
        }
        let piece =
            (st.length as usize - st.partial.len().min(st.length as usize)).min(self.chunk_size);
        if !need(pos, piece) {
            return Ok(None);
        }
        st.partial.extend_from_slice(&b[pos..pos + piece]);
        st.seen = true;
        self.buf.drain(..pos + piece);
        if st.partial.len() >= st.length as usize {
            let payload = std::mem::take(&mut st.partial);
            let msg = RtmpMessage {
                csid,
                timestamp: st.timestamp,
                type_id: st.type_id,
                stream_id: st.stream_id,
                payload,
            };
            self.states.insert(csid, st);
            return Ok(Some(Some(msg)));
        }
        self.states.insert(csid, st);
        Ok(Some(None))
    }
}

// ---------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------

/// A raw RTMP connection to 127.0.0.1.
pub struct RtmpClient {
    stream: TcpStream,
    port: u16,
    /// The incoming chunk stream.
    pub reader: ChunkReader,
    /// Our chunk size (what we split outgoing messages at).
    pub out_chunk_size: usize,
    /// Messages read while waiting for something else (oldest first, ≤ 10000).
    pub pending: VecDeque<RtmpMessage>,
    /// Bytes received so far (for acknowledgements).
    received: u64,
    acked: u64,
    ack_window: u64,
    next_txn: f64,
}

impl RtmpClient {
    /// Opens a TCP connection to 127.0.0.1:`port` (no handshake).
    pub fn connect_tcp(port: u16) -> RtmpClient {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to RTMP 127.0.0.1:{port}: {e}"));
        stream.set_nodelay(true).ok();
        stream.set_write_timeout(Some(Duration::from_secs(10))).ok();
        RtmpClient {
            stream,
            port,
            reader: ChunkReader::default(),
            out_chunk_size: DEFAULT_CHUNK_SIZE,
            pending: VecDeque::new(),
            received: 0,
            acked: 0,
            ack_window: 0,
            next_txn: 2.0,
        }
    }

    /// Connects and performs the simple handshake; panics if it fails.
    pub fn open(port: u16) -> RtmpClient {
        let mut c = RtmpClient::connect_tcp(port);
        c.handshake()
            .unwrap_or_else(|e| panic!("RTMP handshake with 127.0.0.1:{port}: {e}"));
        c
    }

    /// Connects, handshakes and sends `connect` for app `app`; panics unless the server
    /// answers `_result` with `NetConnection.Connect.Success`.
    pub fn open_app(port: u16, app: &str) -> RtmpClient {
        let mut c = RtmpClient::open(port);
        let answer = c.connect_app(app);
        let code = answer
            .get(3)
            .and_then(|info| info.get("code"))
            .and_then(Amf0::as_str)
            .unwrap_or("");
        assert!(
            answer.first().and_then(Amf0::as_str) == Some("_result")
                && code == "NetConnection.Connect.Success",
            "connect to app {app:?} was not accepted: {answer:?}"
        );
        c
    }

    /// Our address as the server logs it, e.g. `127.0.0.1:51234`.
    pub fn local_addr(&self) -> String {
        self.stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    /// Writes `bytes` as they are (errors returned: the server may have closed).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// The simple handshake: sends C0 (0x03) and C1 (time, four zero bytes, 1528 pseudo-random
    /// bytes), reads S0, S1 and S2, checks S0 is 3 and S2 echoes C1's random part, then sends
    /// C2 as the echo of S1.
    pub fn handshake(&mut self) -> Result<(), String> {
        let mut c0c1 = Vec::with_capacity(1 + HANDSHAKE_SIZE);
        c0c1.push(0x03);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        c0c1.extend_from_slice(&(now.as_millis() as u32).to_be_bytes());
        c0c1.extend_from_slice(&[0, 0, 0, 0]);
        let mut x = now.as_nanos() as u64 | 1;
        while c0c1.len() < 1 + HANDSHAKE_SIZE {
            // xorshift64: varied bytes are all C1 needs.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c0c1.push((x >> 24) as u8);
        }
        self.send_raw(&c0c1)
            .map_err(|e| format!("send C0+C1: {e}"))?;
        let s = self
            .read_exact_timeout(1 + 2 * HANDSHAKE_SIZE, RTMP_TIMEOUT)
            .map_err(|e| format!("read S0+S1+S2: {e}"))?;
        if s[0] != 0x03 {
            return Err(format!("S0 is {} instead of 3", s[0]));
        }
        let s1 = &s[1..1 + HANDSHAKE_SIZE];
        let s2 = &s[1 + HANDSHAKE_SIZE..];
        if s2[8..] != c0c1[9..] {
            return Err("S2 does not echo C1's random bytes".into());
        }
        self.send_raw(s1).map_err(|e| format!("send C2: {e}"))?;
        Ok(())
    }

    /// Reads exactly `n` bytes or fails (EOF, error, or `timeout` passed).
    fn read_exact_timeout(&mut self, n: usize, timeout: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut out = vec![0u8; n];
        let mut got = 0;
        while got < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("{got}/{n} bytes"),
                ));
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut out[got..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        format!("server closed after {got}/{n} bytes"),
                    ))
                }
                Ok(k) => got += k,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Sends one message split into chunks at [`RtmpClient::out_chunk_size`] (format 0 header).
    pub fn send_message(
        &mut self,
        csid: u8,
        type_id: u8,
        stream_id: u32,
        timestamp: u32,
        payload: &[u8],
    ) -> io::Result<()> {
        let bytes = encode_chunks(
            csid,
            type_id,
            stream_id,
            timestamp,
            payload,
            self.out_chunk_size,
        );
        self.send_raw(&bytes)
    }

    /// Sends Set Chunk Size `size` (raw: 0 or values with bit 31 set are sent as given) and,
    /// when the value is valid, splits later messages at it.
    pub fn send_set_chunk_size(&mut self, size: u32) -> io::Result<()> {
        self.send_message(2, msg_type::SET_CHUNK_SIZE, 0, 0, &size.to_be_bytes())?;
        if size > 0 && size <= 0x7fff_ffff {
            self.out_chunk_size = size as usize;
        }
        Ok(())
    }

    /// Sends an AMF0 command (type 20) on chunk stream `csid` of message stream `stream_id`.
    pub fn send_command(&mut self, csid: u8, stream_id: u32, values: &[Amf0]) -> io::Result<()> {
        self.send_message(
            csid,
            msg_type::COMMAND_AMF0,
            stream_id,
            0,
            &amf0_encode_all(values),
        )
    }

    /// Sends `connect` (transaction 1) for `app` and returns the answer's values
    /// (`_result`/`_error`, 1, properties, information); panics if none arrives.
    pub fn connect_app(&mut self, app: &str) -> Vec<Amf0> {
        let tc_url = format!("rtmp://127.0.0.1:{}/{app}", self.port);
        let cmd = [
            Amf0::str("connect"),
            Amf0::Number(1.0),
            Amf0::obj(&[
                ("app", Amf0::str(app)),
                ("type", Amf0::str("nonprivate")),
                ("flashVer", Amf0::str("FMLE/3.0 (compatible; weir-e2e)")),
                ("tcUrl", Amf0::str(&tc_url)),
                ("fpad", Amf0::Boolean(false)),
                ("capabilities", Amf0::Number(15.0)),
                ("audioCodecs", Amf0::Number(4071.0)),
                ("videoCodecs", Amf0::Number(252.0)),
                ("videoFunction", Amf0::Number(1.0)),
            ]),
        ];
        self.send_command(3, 0, &cmd).expect("send connect");
        self.wait_answer(1.0, RTMP_TIMEOUT)
            .unwrap_or_else(|e| panic!("no answer to connect: {e}"))
    }

    /// Sends `createStream` and returns the new message stream id; panics on an error.
    pub fn create_stream(&mut self) -> u32 {
        let txn = self.txn();
        self.send_command(
            3,
            0,
            &[Amf0::str("createStream"), Amf0::Number(txn), Amf0::Null],
        )
        .expect("send createStream");
        let answer = self
            .wait_answer(txn, RTMP_TIMEOUT)
            .unwrap_or_else(|e| panic!("no answer to createStream: {e}"));
        assert_eq!(
            answer.first().and_then(Amf0::as_str),
            Some("_result"),
            "createStream refused: {answer:?}"
        );
        answer
            .get(3)
            .and_then(Amf0::as_f64)
            .unwrap_or_else(|| panic!("createStream answer has no stream id: {answer:?}"))
            as u32
    }

    /// Sends `publish name live` on `stream_id` and returns the first `onStatus` info
    /// object (or the `_error` answer's values as an object `{ "_error": ... }`), or why
    /// none arrived (e.g. the server closed the connection).
    pub fn publish(&mut self, stream_id: u32, name: &str) -> Result<Amf0, String> {
        let txn = self.txn();
        self.send_command(
            8,
            stream_id,
            &[
                Amf0::str("publish"),
                Amf0::Number(txn),
                Amf0::Null,
                Amf0::str(name),
                Amf0::str("live"),
            ],
        )
        .map_err(|e| format!("send publish: {e}"))?;
        self.wait_status_or_error(txn, RTMP_TIMEOUT)
    }

    /// Sends `play name -2000` on `stream_id` and returns the first `onStatus` info object
    /// (or the `_error` answer), or why none arrived.
    pub fn play(&mut self, stream_id: u32, name: &str) -> Result<Amf0, String> {
        let txn = self.txn();
        self.send_command(
            8,
            stream_id,
            &[
                Amf0::str("play"),
                Amf0::Number(txn),
                Amf0::Null,
                Amf0::str(name),
                Amf0::Number(-2000.0),
            ],
        )
        .map_err(|e| format!("send play: {e}"))?;
        self.wait_status_or_error(txn, RTMP_TIMEOUT)
    }

    /// Connects to the app of `path`, creates a stream and publishes its stream name;
    /// returns the client, the message stream id and the `onStatus` info (or why not).
    pub fn start_publish(port: u16, path: &str) -> (RtmpClient, u32, Result<Amf0, String>) {
        let (app, name) = split_app_stream(path);
        let mut c = RtmpClient::open_app(port, &app);
        let sid = c.create_stream();
        let status = c.publish(sid, &name);
        (c, sid, status)
    }

    /// Connects to the app of `path`, creates a stream and plays its stream name; panics
    /// unless the server answers `NetStream.Play.Start` (after an optional `Play.Reset`).
    pub fn start_play(port: u16, path: &str) -> RtmpClient {
        let (app, name) = split_app_stream(path);
        let mut c = RtmpClient::open_app(port, &app);
        let sid = c.create_stream();
        let mut status = c
            .play(sid, &name)
            .unwrap_or_else(|e| panic!("play {path}: {e}"));
        if status_code(&status) == "NetStream.Play.Reset" {
            status = c
                .wait_status_or_error(-1.0, RTMP_TIMEOUT)
                .unwrap_or_else(|e| panic!("play {path}: {e}"));
        }
        assert_eq!(
            status_code(&status),
            "NetStream.Play.Start",
            "play {path}: {status:?}"
        );
        c
    }

    /// The next command transaction id (3, 4, ...; 1 is `connect`).
    fn txn(&mut self) -> f64 {
        self.next_txn += 1.0;
        self.next_txn
    }

    /// Reads the next message (from [`RtmpClient::pending`] first): `Ok(None)` when the
    /// server closed the connection, `Err(TimedOut)` after `timeout`, `Err(InvalidData)`
    /// when the chunk stream is broken. Answers Ping requests and sends acknowledgements.
    pub fn read_message(&mut self, timeout: Duration) -> io::Result<Option<RtmpMessage>> {
        if let Some(m) = self.pending.pop_front() {
            return Ok(Some(m));
        }
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.reader.next() {
                Ok(Some(m)) => {
                    self.on_control(&m);
                    return Ok(Some(m));
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(ErrorKind::InvalidData, e)),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(ErrorKind::TimedOut, "no RTMP message"));
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    self.reader.buf.extend_from_slice(&buf[..n]);
                    self.received += n as u64;
                    if self.ack_window > 0 && self.received - self.acked >= self.ack_window {
                        self.acked = self.received;
                        let seq = (self.received as u32).to_be_bytes();
                        let _ = self.send_message(2, msg_type::ACK, 0, 0, &seq);
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(io::Error::new(ErrorKind::TimedOut, "no RTMP message"))
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reacts to protocol control the client must answer: remembers the acknowledgement
    /// window and answers Ping Requests.
    fn on_control(&mut self, m: &RtmpMessage) {
        match m.type_id {
            msg_type::WINDOW_ACK_SIZE if m.payload.len() >= 4 => {
                self.ack_window = u64::from(be32(&m.payload));
            }
            // Ping Request (event 6) → Ping Response (event 7) with the same timestamp.
            msg_type::USER_CONTROL if m.payload.len() >= 6 && m.payload[..2] == [0, 6] => {
                let mut body = vec![0, 7];
                body.extend_from_slice(&m.payload[2..6]);
                let _ = self.send_message(2, msg_type::USER_CONTROL, 0, 0, &body);
            }
            _ => {}
        }
    }

    /// Reads until a command satisfies `pred` and returns its values; other messages are
    /// kept in [`RtmpClient::pending`]. Errors when the server closes, the chunk stream is
    /// broken or `timeout` passes (the text lists the commands seen meanwhile).
    pub fn wait_command(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&[Amf0]) -> bool,
    ) -> Result<Vec<Amf0>, String> {
        let deadline = Instant::now() + timeout;
        let mut kept = VecDeque::new();
        let mut seen = Vec::new();
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_message(left) {
                Ok(Some(m)) => {
                    if let Some(values) = m.amf0().filter(|_| m.command_name().is_some()) {
                        if pred(&values) {
                            break Ok(values);
                        }
                        seen.push(format!("{values:?}"));
                    }
                    if kept.len() < 10_000 {
                        kept.push_back(m);
                    }
                }
                Ok(None) => {
                    break Err(format!(
                        "server closed the connection (commands seen: {seen:?})"
                    ))
                }
                Err(e) => break Err(format!("{e} (commands seen: {seen:?})")),
            }
        };
        kept.extend(self.pending.drain(..));
        self.pending = kept;
        result
    }

    /// Waits for `_result`/`_error` with transaction id `txn`.
    pub fn wait_answer(&mut self, txn: f64, timeout: Duration) -> Result<Vec<Amf0>, String> {
        self.wait_command(timeout, |v| {
            matches!(v.first().and_then(Amf0::as_str), Some("_result" | "_error"))
                && v.get(1).and_then(Amf0::as_f64) == Some(txn)
        })
    }

    /// Waits for an `onStatus` (its info object is returned) or an `_error` answering `txn`
    /// (returned as an object with the key `_error` holding the info).
    pub fn wait_status_or_error(&mut self, txn: f64, timeout: Duration) -> Result<Amf0, String> {
        let v = self.wait_command(timeout, |v| match v.first().and_then(Amf0::as_str) {
            Some("onStatus") => true,
            Some("_error") => v.get(1).and_then(Amf0::as_f64) == Some(txn),
            _ => false,
        })?;
        let info = v.get(3).cloned().unwrap_or(Amf0::Null);
        if v.first().and_then(Amf0::as_str) == Some("_error") {
            return Ok(Amf0::Object(vec![("_error".into(), info)]));
        }
        Ok(info)
    }

    /// Waits until the server closes the connection (EOF, reset, or a chunk stream that
    /// ends in garbage), ignoring what it sends; errors after `timeout`.
    pub fn wait_closed(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("connection still open after {timeout:?}"));
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Ok(()),
            }
        }
    }

    /// Closes the socket without `deleteStream`/FIN handshakes of RTMP (the client
    /// "vanishes"): the kernel sends FIN, or RST when received data is still unread.
    pub fn vanish(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// The `code` of an `onStatus` info object (empty if none).
pub fn status_code(info: &Amf0) -> &str {
    info.get("code").and_then(Amf0::as_str).unwrap_or("")
}

/// The `level` of an `onStatus` info object (`status`, `error`, `warning`; empty if none).
pub fn status_level(info: &Amf0) -> &str {
    info.get("level").and_then(Amf0::as_str).unwrap_or("")
}

// ---------------------------------------------------------------------------------------
// FLV video tags and Annex-B
// ---------------------------------------------------------------------------------------

/// The codec signalling of an FLV video tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VideoSignalling {
    /// Legacy FLV: the 4-bit codec id (7 = AVC).
    Legacy(u8),
    /// Enhanced RTMP: the FourCC (`avc1`, `hvc1`, `av01`, `vp09`).
    Enhanced([u8; 4]),
}

/// What an FLV video tag carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoPacket {
    /// The decoder configuration record (AVC packet type 0 / `SequenceStart`).
    SequenceHeader,
    /// Coded frames (AVC packet type 1 / `CodedFrames` / `CodedFramesX`).
    Frames,
    /// End of sequence (AVC packet type 2 / `SequenceEnd`).
    EndOfSequence,
    /// Anything else (metadata, multitrack, video info/command frame): the packet type.
    Other(u8),
}

/// One parsed FLV video tag body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoTag {
    /// Frame type 1 (key frame).
    pub key: bool,
    /// How the codec was signalled.
    pub signalling: VideoSignalling,
    /// What the tag carries.
    pub packet: VideoPacket,
    /// Composition time offset in ms (0 when absent).
    pub cts: i32,
    /// The configuration record or the length-prefixed NAL units.
    pub data: Vec<u8>,
}

impl VideoTag {
    /// True for H264 (legacy codec id 7 or Enhanced `avc1`).
    pub fn is_h264(&self) -> bool {
        matches!(&self.signalling, VideoSignalling::Legacy(7))
            || self.signalling == VideoSignalling::Enhanced(*b"avc1")
    }

    /// True for H265 (Enhanced `hvc1`, or the non-standard legacy codec id 12).
    pub fn is_h265(&self) -> bool {
        matches!(&self.signalling, VideoSignalling::Legacy(12))
            || self.signalling == VideoSignalling::Enhanced(*b"hvc1")
    }
}

/// A big-endian signed 24-bit value (composition time offset) from the first 3 bytes of `b`.
fn si24(b: &[u8]) -> i32 {
    ((be24(b) << 8) as i32) >> 8
}

/// Parses an FLV video tag body (legacy or Enhanced RTMP); `None` if too short.
pub fn parse_video_tag(body: &[u8]) -> Option<VideoTag> {
    let b0 = *body.first()?;
    if b0 & 0x80 != 0 {
        // Enhanced RTMP: [IsExHeader | FrameType:3 | PacketType:4] FourCC ...
        let frame_type = (b0 >> 4) & 0x07;
        let packet_type = b0 & 0x0f;
        let fourcc: [u8; 4] = body.get(1..5)?.try_into().ok()?;
        let mut rest = &body[5..];
        let (packet, cts) = match packet_type {
            0 => (VideoPacket::SequenceHeader, 0),
            1 => {
                let has_cts = &fourcc == b"avc1" || &fourcc == b"hvc1";
                let cts = if has_cts {
                    let c = si24(rest.get(..3)?);
                    rest = &rest[3..];
                    c
                } else {
                    0
                };
                (VideoPacket::Frames, cts)
            }
            2 => (VideoPacket::EndOfSequence, 0),
            3 => (VideoPacket::Frames, 0),
            t => (VideoPacket::Other(t), 0),
        };
        return Some(VideoTag {
            key: frame_type == 1,
            signalling: VideoSignalling::Enhanced(fourcc),
            packet,
            cts,
            data: rest.to_vec(),
        });
    }
    let frame_type = b0 >> 4;
    let codec = b0 & 0x0f;
    if codec != 7 && codec != 12 {
        return Some(VideoTag {
            key: frame_type == 1,
            signalling: VideoSignalling::Legacy(codec),
            packet: VideoPacket::Other(0xff),
            cts: 0,
            data: body[1..].to_vec(),
        });
    }
    let packet = match *body.get(1)? {
        0 => VideoPacket::SequenceHeader,
        1 => VideoPacket::Frames,
        2 => VideoPacket::EndOfSequence,
        t => VideoPacket::Other(t),
    };
    Some(VideoTag {
        key: frame_type == 1,
        signalling: VideoSignalling::Legacy(codec),
        packet,
        cts: si24(body.get(2..5)?),
        data: body[5..].to_vec(),
    })
}

/// The NAL unit length size and the parameter sets of an `avcC` record (AVCDecoderConfigurationRecord).
pub fn parse_avcc(rec: &[u8]) -> Result<(usize, Vec<Vec<u8>>), String> {
    let err = || format!("truncated avcC record ({} bytes)", rec.len());
    if rec.len() < 7 || rec[0] != 1 {
        return Err(format!("not an avcC record: {rec:02x?}"));
    }
    let len_size = usize::from(rec[4] & 0x03) + 1;
    let mut pos = 5;
    let mut sets = Vec::new();
    // numOfSequenceParameterSets (low 5 bits), then numOfPictureParameterSets (8 bits).
    for mask in [0x1f, 0xff] {
        let count = usize::from(*rec.get(pos).ok_or_else(err)?) & mask;
        pos += 1;
        for _ in 0..count {
            let n = usize::from(u16::from_be_bytes([
                *rec.get(pos).ok_or_else(err)?,
                *rec.get(pos + 1).ok_or_else(err)?,
            ]));
            sets.push(rec.get(pos + 2..pos + 2 + n).ok_or_else(err)?.to_vec());
            pos += 2 + n;
        }
    }
    Ok((len_size, sets))
}

/// The NAL unit length size and the parameter sets (VPS, SPS, PPS, SEI arrays) of an `hvcC`
/// record (HEVCDecoderConfigurationRecord).
pub fn parse_hvcc(rec: &[u8]) -> Result<(usize, Vec<Vec<u8>>), String> {
    let err = || format!("truncated hvcC record ({} bytes)", rec.len());
    if rec.len() < 23 || rec[0] != 1 {
        return Err(format!(
            "not an hvcC record: {:02x?}",
            &rec[..rec.len().min(32)]
        ));
    }
    let len_size = usize::from(rec[21] & 0x03) + 1;
    let arrays = usize::from(rec[22]);
    let mut pos = 23;
    let mut sets = Vec::new();
    for _ in 0..arrays {
        pos += 1; // array_completeness | reserved | NAL_unit_type
        let b = rec.get(pos..pos + 2).ok_or_else(err)?;
        let count = usize::from(u16::from_be_bytes([b[0], b[1]]));
        pos += 2;
        for _ in 0..count {
            let b = rec.get(pos..pos + 2).ok_or_else(err)?;
            let n = usize::from(u16::from_be_bytes([b[0], b[1]]));
            sets.push(rec.get(pos + 2..pos + 2 + n).ok_or_else(err)?.to_vec());
            pos += 2 + n;
        }
    }
    Ok((len_size, sets))
}

/// Splits length-prefixed NAL units (`len_size` bytes of length each).
pub fn split_length_prefixed(data: &[u8], len_size: usize) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let Some(lb) = data.get(pos..pos + len_size) else {
            return Err(format!("truncated NAL length at {pos} of {}", data.len()));
        };
        let n = lb
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        pos += len_size;
        let Some(nal) = data.get(pos..pos + n) else {
            return Err(format!(
                "NAL of {n} bytes at {pos} overruns {} bytes",
                data.len()
            ));
        };
        out.push(nal);
        pos += n;
    }
    Ok(out)
}

/// Turns FLV video tags of one codec (H264 or H265) into an Annex-B elementary stream that
/// ffmpeg decodes: parameter sets from the last sequence header before every key frame,
/// each NAL unit behind a 4-byte start code.
#[derive(Debug, Default)]
pub struct AnnexBWriter {
    len_size: usize,
    param_sets: Vec<Vec<u8>>,
    /// The elementary stream so far.
    pub out: Vec<u8>,
    /// Coded frame tags written so far.
    pub frames: usize,
}

impl AnnexBWriter {
    /// Adds one tag: a sequence header updates the parameter sets; a coded frame is
    /// written (from the first key frame on). Errors on a malformed record or frame.
    pub fn push(&mut self, tag: &VideoTag) -> Result<(), String> {
        match tag.packet {
            VideoPacket::SequenceHeader => {
                let (len_size, sets) = if tag.is_h265() {
                    parse_hvcc(&tag.data)?
                } else {
                    parse_avcc(&tag.data)?
                };
                self.len_size = len_size;
                self.param_sets = sets;
            }
            VideoPacket::Frames => {
                if self.len_size == 0 {
                    return Err("coded frame before any sequence header".into());
                }
                if self.frames == 0 && !tag.key {
                    return Ok(());
                }
                let nals = split_length_prefixed(&tag.data, self.len_size)?;
                if tag.key {
                    for ps in &self.param_sets {
                        self.out.extend_from_slice(&[0, 0, 0, 1]);
                        self.out.extend_from_slice(ps);
                    }
                }
                for nal in nals {
                    self.out.extend_from_slice(&[0, 0, 0, 1]);
                    self.out.extend_from_slice(nal);
                }
                self.frames += 1;
            }
            _ => {}
        }
        Ok(())
    }
}

/// True for an FLV audio tag body that carries a decoder configuration: legacy AAC
/// (sound format 10) with AACPacketType 0, or an Enhanced RTMP audio `SequenceStart`
/// (sound format 9, packet type 0).
pub fn is_audio_sequence_header(body: &[u8]) -> bool {
    match body.first().map(|b| b >> 4) {
        Some(10) => body.get(1) == Some(&0),
        Some(9) => body[0] & 0x0f == 0,
        _ => false,
    }
}

/// The H264 NAL unit types of a coded frame tag's length-prefixed data.
pub fn h264_nal_types_of(data: &[u8], len_size: usize) -> Vec<u8> {
    split_length_prefixed(data, len_size)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.first().map(|b| b & 0x1f))
        .collect()
}

// ---------------------------------------------------------------------------------------
// A background raw player
// ---------------------------------------------------------------------------------------

/// Two consecutive video frame timestamps further apart than this (or going backwards)
/// count as a gap: 1.5 frame intervals of the 25 fps fixtures.
pub const VIDEO_GAP_MS: u32 = 60;

/// What an [`RtmpPlayer`] has seen so far.
#[derive(Clone, Debug, Default)]
pub struct RtmpStats {
    /// Video coded-frame tags received.
    pub video_frames: u64,
    /// Video sequence headers received.
    pub video_headers: u64,
    /// Audio messages received (sequence headers included).
    pub audio_tags: u64,
    /// The first 10 audio message bodies (FLV audio tag bodies).
    pub first_audio: Vec<Vec<u8>>,
    /// The timestamps of the first 200 audio frames (sequence headers excluded).
    pub audio_frame_ts: Vec<u32>,
    /// The timestamp of the last video frame.
    pub last_video_ts: Option<u32>,
    /// Consecutive video frame timestamps (previous, next) that went backwards or jumped
    /// more than [`VIDEO_GAP_MS`] (first 20).
    pub video_gaps: Vec<(u32, u32)>,
    /// The first 60 video tags, parsed (sequence headers included).
    pub first_video: Vec<VideoTag>,
    /// The first video message's timestamp.
    pub first_video_ts: Option<u32>,
    /// Every `onStatus` code received.
    pub status_codes: Vec<String>,
    /// Video tags that could not be converted to Annex-B (first 20).
    pub errors: Vec<String>,
    /// Why reading stopped, if it did (EOF, error).
    pub ended: Option<String>,
}

impl RtmpStats {
    /// The first coded frame tag (after the sequence header), if any arrived.
    pub fn first_frame(&self) -> Option<&VideoTag> {
        self.first_video
            .iter()
            .find(|t| t.packet == VideoPacket::Frames)
    }
}

/// A raw RTMP player of one path, reading on a background thread (killed on drop), that
/// counts tags, records video timestamp gaps and optionally converts the first frames to
/// Annex-B (see [`RtmpPlayer::start_capturing`]).
pub struct RtmpPlayer {
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<RtmpStats>>,
    annexb: Arc<Mutex<AnnexBWriter>>,
    handle: Option<JoinHandle<()>>,
    /// The address the player connected from (as logged by the server).
    pub local_addr: String,
}

impl RtmpPlayer {
    /// Plays `path` (panics unless `NetStream.Play.Start` arrives), then reads on a thread.
    pub fn start(port: u16, path: &str) -> RtmpPlayer {
        RtmpPlayer::start_capturing(port, path, 0)
    }

    /// Like [`RtmpPlayer::start`], also converting the first `frames` video frames to an
    /// Annex-B stream (see [`RtmpPlayer::annexb`]).
    pub fn start_capturing(port: u16, path: &str, frames: usize) -> RtmpPlayer {
        let client = RtmpClient::start_play(port, path);
        let local_addr = client.local_addr();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(RtmpStats {
            status_codes: vec!["NetStream.Play.Start".into()],
            ..Default::default()
        }));
        let annexb = Arc::new(Mutex::new(AnnexBWriter::default()));
        let (s2, st2, a2) = (stop.clone(), stats.clone(), annexb.clone());
        let handle = thread::spawn(move || player_loop(client, &s2, &st2, &a2, frames));
        RtmpPlayer {
            stop,
            stats,
            annexb,
            handle: Some(handle),
            local_addr,
        }
    }

    /// A copy of the statistics so far.
    pub fn snapshot(&self) -> RtmpStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The Annex-B stream captured so far and its number of frames.
    pub fn annexb(&self) -> (Vec<u8>, usize) {
        let a = self.annexb.lock().unwrap_or_else(|p| p.into_inner());
        (a.out.clone(), a.frames)
    }

    /// Waits until at least `n` video frames have arrived in total; panics on timeout.
    pub fn wait_video_frames(&self, n: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            if s.video_frames >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "raw RTMP player got {} < {n} video frames in {timeout:?} (ended: {:?}, statuses: {:?})",
                s.video_frames,
                s.ended,
                s.status_codes
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the server ends the session (EOF or error) and returns why; panics on timeout.
    pub fn wait_ended(&self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            if let Some(why) = s.ended {
                return why;
            }
            assert!(
                Instant::now() < deadline,
                "raw RTMP player still receiving after {timeout:?} ({} video frames, statuses {:?})",
                s.video_frames,
                s.status_codes
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asserts the player is still receiving (≥ `min_new` more video frames than `before`
    /// within `timeout`), never saw a video timestamp gap, and its connection is still up.
    pub fn assert_flowing_without_gap(&self, before: &RtmpStats, min_new: u64, timeout: Duration) {
        self.wait_video_frames(before.video_frames + min_new, timeout);
        let now = self.snapshot();
        assert!(
            now.video_gaps.is_empty(),
            "concurrent RTMP player saw video timestamp gaps (prev, next): {:?}",
            now.video_gaps
        );
        assert!(
            now.ended.is_none(),
            "concurrent RTMP player stopped: {:?}",
            now.ended
        );
    }
}

impl Drop for RtmpPlayer {
    /// Stops the reading thread and closes the connection.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The [`RtmpPlayer`] thread: reads messages into `stats` until `stop` or the connection ends.
fn player_loop(
    mut client: RtmpClient,
    stop: &AtomicBool,
    stats: &Mutex<RtmpStats>,
    annexb: &Mutex<AnnexBWriter>,
    capture_frames: usize,
) {
    while !stop.load(Ordering::Relaxed) {
        let msg = client.read_message(Duration::from_millis(200));
        let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
        match msg {
            Ok(Some(m)) => record_message(&mut s, annexb, capture_frames, &m),
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Ok(None) => {
                s.ended = Some("server closed the connection".into());
                return;
            }
            Err(e) => {
                s.ended = Some(format!("read error: {e}"));
                return;
            }
        }
    }
}

/// Accounts one received message in `s` (and converts video into `annexb` while it has
/// fewer than `capture_frames` frames).
fn record_message(
    s: &mut RtmpStats,
    annexb: &Mutex<AnnexBWriter>,
    capture_frames: usize,
    m: &RtmpMessage,
) {
    match m.type_id {
        msg_type::AUDIO => {
            s.audio_tags += 1;
            if s.first_audio.len() < 10 {
                s.first_audio.push(m.payload.clone());
            }
            if !is_audio_sequence_header(&m.payload) && s.audio_frame_ts.len() < 200 {
                s.audio_frame_ts.push(m.timestamp);
            }
        }
        msg_type::VIDEO => {
            let Some(tag) = parse_video_tag(&m.payload) else {
                return;
            };
            s.first_video_ts.get_or_insert(m.timestamp);
            match tag.packet {
                VideoPacket::SequenceHeader => s.video_headers += 1,
                VideoPacket::Frames => {
                    s.video_frames += 1;
                    if let Some(prev) = s.last_video_ts {
                        let bad = m.timestamp < prev || m.timestamp - prev > VIDEO_GAP_MS;
                        if bad && s.video_gaps.len() < 20 {
                            s.video_gaps.push((prev, m.timestamp));
                        }
                    }
                    s.last_video_ts = Some(m.timestamp);
                }
                _ => {}
            }
            let mut a = annexb.lock().unwrap_or_else(|p| p.into_inner());
            if a.frames < capture_frames {
                if let Err(e) = a.push(&tag) {
                    if s.errors.len() < 20 {
                        s.errors
                            .push(format!("video tag at {} ms: {e}", m.timestamp));
                    }
                }
            }
            if s.first_video.len() < 60 {
                s.first_video.push(tag);
            }
        }
        msg_type::COMMAND_AMF0 | msg_type::COMMAND_AMF3 => {
            if let Some(values) = m.amf0() {
                if values.first().and_then(Amf0::as_str) == Some("onStatus") {
                    if let Some(info) = values.get(3) {
                        s.status_codes.push(status_code(info).to_string());
                    }
                }
            }
        }
        _ => {}
    }
}
