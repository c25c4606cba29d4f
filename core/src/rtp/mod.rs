//! RTP (RFC 3550): packet parsing and writing, and the newtype ids used around it.

mod packet;
pub mod segments;

pub use packet::{RtpError, RtpHeader, RtpPacket, RTP_FIXED_HEADER_LEN};

/// A synchronization source identifier (RFC 3550 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ssrc(pub u32);

/// An RTP sequence number (RFC 3550 §5.1), wrapping at 2^16.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeqNo(pub u16);

impl SeqNo {
    /// The signed distance from `self` to `other`, accounting for wrap-around.
    pub fn delta(self, other: SeqNo) -> i16 {
        other.0.wrapping_sub(self.0) as i16
    }
}
