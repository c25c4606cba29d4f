//! Splitting messages into chunks.

use super::header::{ChunkHeader, MessageHeader, EXTENDED, MAX_CSID};
use super::{validate_chunk_size, ChunkError, DEFAULT_CHUNK_SIZE};
use std::collections::HashMap;

/// What a chunk stream's receiver remembers from the last message sent on it.
#[derive(Debug, Clone, Copy)]
struct Sent {
    timestamp: u32,
    /// The delta a format 3 header starting a message repeats; `None` after a format 0
    /// header (receivers disagree on what that delta is, so weir never relies on it).
    delta: Option<u32>,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The extended timestamp field repeated by format 3 headers.
    ext: Option<u32>,
}

/// Splits messages into chunks at the peer's chunk size with the smallest headers.
#[derive(Debug)]
pub struct ChunkEncoder {
    chunk_size: u32,
    streams: HashMap<u32, Sent>,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        ChunkEncoder::new()
    }
}

impl ChunkEncoder {
    /// An encoder with the initial chunk size (128).
    pub fn new() -> ChunkEncoder {
        ChunkEncoder {
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: HashMap::new(),
        }
    }

    /// The chunk size in use.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Changes the chunk size; call right after writing the Set Chunk Size message.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<(), ChunkError> {
        self.chunk_size = validate_chunk_size(size)?;
        Ok(())
    }

    /// Forgets what was last sent on chunk stream `csid`: its next message gets a format 0
    /// header. For a caller that wrote a message on that chunk stream by other means.
    pub fn forget(&mut self, csid: u32) {
        self.streams.remove(&csid);
    }

    /// Appends one message, split into chunks, to `out`. Header choice: format 0 for the
    /// first message of a chunk stream, a new message stream or a timestamp going backwards;
    /// format 1 when length or type change; format 2 when only the delta changes; format 3
    /// when the delta repeats the previous message's.
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        csid: u32,
        timestamp: u32,
        type_id: u8,
        stream_id: u32,
        body: &[u8],
    ) -> Result<(), ChunkError> {
        if !(2..=MAX_CSID).contains(&csid) {
            return Err(ChunkError::InvalidChunkStreamId(csid));
        }
        let length = u32::try_from(body.len())
            .ok()
            .filter(|&l| l <= 0x00ff_ffff)
            .ok_or(ChunkError::MessageTooLarge(
                u32::try_from(body.len()).unwrap_or(u32::MAX),
            ))?;
        let ext_of = |v: u32| (v >= EXTENDED).then_some(v);
        let (header, sent) = match self.streams.get(&csid) {
            Some(p) if p.stream_id == stream_id && timestamp >= p.timestamp => {
                let delta = timestamp - p.timestamp;
                let mut s = Sent {
                    timestamp,
                    delta: Some(delta),
                    length,
                    type_id,
                    stream_id,
                    ext: ext_of(delta),
                };
                let h = if p.length != length || p.type_id != type_id {
                    MessageHeader::Type1 {
                        delta,
                        length,
                        type_id,
                    }
                } else if p.delta == Some(delta) {
                    s.ext = p.ext;
                    MessageHeader::Type3 { extended: p.ext }
                } else {
                    MessageHeader::Type2 { delta }
                };
                (h, s)
            }
            _ => (
                MessageHeader::Type0 {
                    timestamp,
                    length,
                    type_id,
                    stream_id,
                },
                Sent {
                    timestamp,
                    delta: None,
                    length,
                    type_id,
                    stream_id,
                    ext: ext_of(timestamp),
                },
            ),
        };
        self.streams.insert(csid, sent);
        ChunkHeader { csid, header }.write(out)?;
        let size = self.chunk_size as usize;
        let mut chunks = body.chunks(size);
        if let Some(first) = chunks.next() {
            out.extend_from_slice(first);
        }
        for c in chunks {
            let cont = MessageHeader::Type3 { extended: sent.ext };
            ChunkHeader { csid, header: cont }.write(out)?;
            out.extend_from_slice(c);
        }
        Ok(())
    }
}
