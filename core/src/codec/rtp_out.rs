//! The part every packetizer shares: RTP header fields and the running sequence number.

use crate::rtp::{RtpHeader, RtpPacket, SeqNo, Ssrc};

/// The default payload budget per RTP packet (bytes after the RTP header).
pub const DEFAULT_MTU_PAYLOAD: usize = 1400;

/// Writes RTP packets for one outgoing stream.
#[derive(Debug, Clone)]
pub(crate) struct RtpWriter {
    payload_type: u8,
    ssrc: Ssrc,
    next_seq: SeqNo,
}

impl RtpWriter {
    /// A writer whose first packet gets `initial_seq`.
    pub(crate) fn new(payload_type: u8, ssrc: Ssrc, initial_seq: SeqNo) -> Self {
        RtpWriter {
            payload_type: payload_type & 0x7f,
            ssrc,
            next_seq: initial_seq,
        }
    }

    /// The sequence number the next packet will carry.
    pub(crate) fn next_sequence_number(&self) -> SeqNo {
        self.next_seq
    }

    /// Builds one packet and advances the sequence number.
    pub(crate) fn packet(&mut self, marker: bool, timestamp: u32, payload: &[u8]) -> RtpPacket {
        let header = RtpHeader {
            marker,
            payload_type: self.payload_type,
            sequence_number: self.next_seq,
            timestamp,
            ssrc: self.ssrc,
        };
        self.next_seq = SeqNo(self.next_seq.0.wrapping_add(1));
        RtpPacket::build(header, payload)
    }
}
