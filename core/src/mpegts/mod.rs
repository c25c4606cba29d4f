//! MPEG-TS muxing (ISO/IEC 13818-1) for HLS segments (RFC 8216 §3.2).
//!
//! [`TsMuxer`] turns the [`Unit`](crate::media::Unit)s of a stream into 188-byte transport
//! stream packets appended to a caller-owned `Vec<u8>`: one program, PAT and PMT at the start
//! and before every video key frame, one PES packet per unit, PCR on the video PID. Copying is
//! the norm here (packetization interleaves a header every 184 bytes); buffers are reused so
//! that muxing does not allocate per packet.
//!
//! The pieces are public for tests and other writers: [`crc32_mpeg2`], [`AdtsConfig`],
//! [`to_90khz`].
//!
//! [`MuxError`] is shared with the fMP4 muxer ([`crate::fmp4`]).

mod adts;
mod crc;
mod error;
mod muxer;
mod packet;
mod pes;
mod psi;
mod video;

#[cfg(test)]
mod ffprobe_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

pub use adts::{AdtsConfig, ADTS_HEADER_SIZE};
pub use crc::crc32_mpeg2;
pub use error::MuxError;
pub use muxer::TsMuxer;
pub use packet::{PACKET_SIZE, SYNC_BYTE};
pub use pes::{to_90khz, TIMESTAMP_WRAP};

/// The PID of the program association table.
pub const PAT_PID: u16 = 0x0000;
/// The PID of the program map table.
pub const PMT_PID: u16 = 0x1000;
/// The PID of the first elementary stream; the next ones follow in track order.
pub const FIRST_ES_PID: u16 = 0x0100;
/// The program number of the single program.
pub const PROGRAM_NUMBER: u16 = 1;
