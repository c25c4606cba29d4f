//! Reassembly of messages from chunks.

use super::header::{ChunkHeader, MessageHeader, Type3Extended};
use super::{validate_chunk_size, ChunkError, RawMessage, DEFAULT_CHUNK_SIZE};
use bytes::{Buf, BytesMut};
use std::collections::HashMap;

/// Limits of the chunk decoder; hitting one is an error that closes the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// The longest message assembled (bytes).
    pub max_message_len: u32,
    /// The most messages being assembled at once (one per chunk stream).
    pub max_assembling: usize,
    /// The most bytes held by messages being assembled, all chunk streams together.
    pub max_buffered: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            max_message_len: 16 << 20,
            max_assembling: 64,
            max_buffered: 32 << 20,
        }
    }
}

/// What a chunk stream remembers from its previous chunks.
#[derive(Debug, Default)]
struct StreamState {
    /// Timestamp of the current (or last) message.
    timestamp: u32,
    /// The delta format 3 headers starting a new message reuse (0 after a format 0 header).
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The extended timestamp field of the last format 0–2 header, if it had one.
    ext: Option<u32>,
    /// The message being assembled.
    partial: Option<BytesMut>,
}

/// Reassembles messages from the received chunk stream.
#[derive(Debug)]
pub struct ChunkDecoder {
    chunk_size: u32,
    limits: ChunkLimits,
    streams: HashMap<u32, StreamState>,
    assembling: usize,
    buffered: usize,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        ChunkDecoder::new(ChunkLimits::default())
    }
}

/// The header fields a chunk establishes, computed before anything is committed.
struct Next {
    timestamp: u32,
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    ext: Option<u32>,
}

impl ChunkDecoder {
    /// A decoder with the initial chunk size (128) and the given limits.
    pub fn new(limits: ChunkLimits) -> ChunkDecoder {
        ChunkDecoder {
            chunk_size: DEFAULT_CHUNK_SIZE,
            limits,
            streams: HashMap::new(),
            assembling: 0,
            buffered: 0,
        }
    }

    /// The peer's current chunk size.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Applies a Set Chunk Size received from the peer.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        self.chunk_size = validate_chunk_size(size)?;
        Ok(())
    }

    /// Applies an Abort received from the peer: drops the partial message of `csid`.
    pub fn abort(&mut self, csid: u32) {
        if let Some(p) = self.streams.get_mut(&csid).and_then(|s| s.partial.take()) {
            self.assembling -= 1;
            self.buffered -= p.len();
        }
    }

    /// Bytes currently held by partial messages.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Consumes whole chunks from `buf` until one completes a message, which is returned.
    /// Returns `Ok(None)` when `buf` holds no complete chunk anymore (the incomplete tail stays
    /// in `buf`). Apply a Set Chunk Size or Abort message before calling again.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<RawMessage>, ChunkError> {
        loop {
            let streams = &self.streams;
            let parsed = ChunkHeader::parse(&buf[..], |csid| match streams.get(&csid) {
                Some(StreamState {
                    ext: Some(v),
                    partial,
                    ..
                }) => {
                    if partial.is_some() {
                        Type3Extended::IfEquals(*v)
                    } else {
                        Type3Extended::Present
                    }
                }
                _ => Type3Extended::Absent,
            });
            let Some((h, header_len)) = parsed else {
                return Ok(None);
            };
            let csid = h.csid;
            let prev = self.streams.get(&csid);
            let received = prev.and_then(|s| s.partial.as_ref()).map(|p| p.len());
            let continuing = received.is_some();
            let next = next_state(h.header, csid, prev, continuing)?;
            if next.length > self.limits.max_message_len {
                return Err(ChunkError::MessageTooLarge(next.length));
            }
            let received = received.unwrap_or(0);
            let left = (next.length as usize).saturating_sub(received);
            let payload_len = left.min(self.chunk_size as usize);
            if buf.len() - header_len < payload_len {
                return Ok(None);
            }
            let completes = payload_len == left;
            if !completes {
                if !continuing && self.assembling >= self.limits.max_assembling {
                    return Err(ChunkError::TooManyStreams);
                }
                if self.buffered + payload_len > self.limits.max_buffered {
                    return Err(ChunkError::TooMuchBuffered);
                }
            }

            buf.advance(header_len);
            let payload = buf.split_to(payload_len);
            let st = self.streams.entry(csid).or_default();
            st.timestamp = next.timestamp;
            st.delta = next.delta;
            st.length = next.length;
            st.type_id = next.type_id;
            st.stream_id = next.stream_id;
            st.ext = next.ext;
            if completes {
                let body = match st.partial.take() {
                    Some(mut p) => {
                        self.assembling -= 1;
                        self.buffered -= p.len();
                        p.extend_from_slice(&payload);
                        p.freeze()
                    }
                    None => payload.freeze(),
                };
                return Ok(Some(RawMessage {
                    csid,
                    timestamp: next.timestamp,
                    type_id: next.type_id,
                    stream_id: next.stream_id,
                    body,
                }));
            }
            match st.partial.as_mut() {
                Some(p) => p.extend_from_slice(&payload),
                None => {
                    let cap = (next.length as usize).min(64 << 10);
                    let mut p = BytesMut::with_capacity(cap);
                    p.extend_from_slice(&payload);
                    st.partial = Some(p);
                    self.assembling += 1;
                }
            }
            self.buffered += payload_len;
        }
    }
}

/// The state a header leads to, from the chunk stream's previous state.
fn next_state(
    header: MessageHeader,
    csid: u32,
    prev: Option<&StreamState>,
    continuing: bool,
) -> Result<Next, ChunkError> {
    let ext_of = |v: u32| (v >= super::header::EXTENDED).then_some(v);
    if let MessageHeader::Type0 {
        timestamp,
        length,
        type_id,
        stream_id,
    } = header
    {
        if continuing {
            return Err(ChunkError::UnexpectedHeader(csid));
        }
        return Ok(Next {
            timestamp,
            delta: 0,
            length,
            type_id,
            stream_id,
            ext: ext_of(timestamp),
        });
    }
    let p = prev.ok_or(ChunkError::NoPreviousHeader(csid))?;
    if continuing && !matches!(header, MessageHeader::Type3 { .. }) {
        return Err(ChunkError::UnexpectedHeader(csid));
    }
    let mut n = Next {
        timestamp: p.timestamp,
        delta: p.delta,
        length: p.length,
        type_id: p.type_id,
        stream_id: p.stream_id,
        ext: p.ext,
    };
    match header {
        MessageHeader::Type1 {
            delta,
            length,
            type_id,
        } => {
            n.delta = delta;
            n.length = length;
            n.type_id = type_id;
            n.ext = ext_of(delta);
        }
        MessageHeader::Type2 { delta } => {
            n.delta = delta;
            n.ext = ext_of(delta);
        }
        _ => {}
    }
    if !continuing {
        n.timestamp = p.timestamp.wrapping_add(n.delta);
    }
    Ok(n)
}
