//! The RTMP chunk stream: a chunk writer (format 0 headers, format 3 continuations) and an
//! incremental chunk reader (all four header formats, extended timestamps, Set Chunk Size,
//! Abort).

use std::collections::HashMap;

use super::{amf0_decode_all, msg_type, Amf0, DEFAULT_CHUNK_SIZE};

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
pub(super) fn be24(b: &[u8]) -> u32 {
    (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2])
}

/// A big-endian 32-bit value from the first 4 bytes of `b`.
pub(super) fn be32(b: &[u8]) -> u32 {
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
