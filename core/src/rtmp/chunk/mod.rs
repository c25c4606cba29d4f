//! The RTMP chunk stream (§5.3): messages split into chunks with compressed headers.
//!
//! [`ChunkDecoder`] reassembles messages from received bytes (all four header formats,
//! extended timestamps, per-chunk-stream state, chunk size changes, Abort), with limits on
//! message length, the number of messages being assembled at once and the bytes they hold.
//! [`ChunkEncoder`] splits messages into chunks at the peer's chunk size, choosing the smallest
//! header format that carries the change from the chunk stream's previous message.

mod decoder;
mod encoder;
pub mod header;

pub use decoder::{ChunkDecoder, ChunkLimits};
pub use encoder::ChunkEncoder;
pub use header::{ChunkHeader, MessageHeader, Type3Extended};

use bytes::Bytes;

/// The initial chunk size of both directions.
pub const DEFAULT_CHUNK_SIZE: u32 = 128;

/// The largest chunk size a Set Chunk Size message may announce.
pub const MAX_CHUNK_SIZE: u32 = 0x7fff_ffff;

/// One reassembled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The chunk stream it came on.
    pub csid: u32,
    /// Its timestamp (ms, 32 bits, wrapping).
    pub timestamp: u32,
    /// Its type id.
    pub type_id: u8,
    /// Its message stream id.
    pub stream_id: u32,
    /// Its body (a slice of the input when the message came in one chunk).
    pub body: Bytes,
}

/// Why the chunk stream cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// A format 1, 2 or 3 header on a chunk stream that never had a format 0 header.
    NoPreviousHeader(u32),
    /// A format 0, 1 or 2 header on a chunk stream whose message is not complete.
    UnexpectedHeader(u32),
    /// A message longer than the limit (or than 24 bits, when writing).
    MessageTooLarge(u32),
    /// More messages being assembled at once than the limit.
    TooManyStreams,
    /// The messages being assembled hold more bytes than the limit.
    TooMuchBuffered,
    /// A chunk size of 0 or above 0x7FFFFFFF.
    InvalidChunkSize(u32),
    /// A chunk stream id outside 2..=65599 (writing).
    InvalidChunkStreamId(u32),
}

impl ChunkError {
    /// Who is to blame.
    pub fn blame(&self) -> crate::error::Blame {
        use crate::error::Blame;
        match self {
            ChunkError::NoPreviousHeader(_) | ChunkError::UnexpectedHeader(_) => {
                Blame::PeerMisbehaved
            }
            ChunkError::MessageTooLarge(_)
            | ChunkError::TooManyStreams
            | ChunkError::TooMuchBuffered => Blame::Limit,
            ChunkError::InvalidChunkSize(_) | ChunkError::InvalidChunkStreamId(_) => {
                Blame::Malformed
            }
        }
    }
}

impl std::fmt::Display for ChunkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChunkError::NoPreviousHeader(c) => {
                write!(f, "chunk stream {c} continues a header it never sent")
            }
            ChunkError::UnexpectedHeader(c) => {
                write!(
                    f,
                    "chunk stream {c} starts a message before finishing the previous one"
                )
            }
            ChunkError::MessageTooLarge(n) => write!(f, "message of {n} bytes is too large"),
            ChunkError::TooManyStreams => write!(f, "too many messages assembled at once"),
            ChunkError::TooMuchBuffered => write!(f, "too many bytes of partial messages"),
            ChunkError::InvalidChunkSize(n) => write!(f, "invalid chunk size {n}"),
            ChunkError::InvalidChunkStreamId(c) => write!(f, "invalid chunk stream id {c}"),
        }
    }
}

impl std::error::Error for ChunkError {}

/// Checks a chunk size announced by Set Chunk Size.
pub fn validate_chunk_size(size: u32) -> Result<u32, ChunkError> {
    if size == 0 || size > MAX_CHUNK_SIZE {
        Err(ChunkError::InvalidChunkSize(size))
    } else {
        Ok(size)
    }
}

#[cfg(test)]
mod tests;
