//! MPEG-4 audio access units → RTP (RFC 3640 AAC-hbr).

use crate::codec::rtp_out::RtpWriter;
use crate::codec::AccessUnit;
use crate::rtp::{RtpPacket, SeqNo, Ssrc};

/// The largest AU that a 13-bit AU-size field can announce.
const MAX_HBR_AU_SIZE: usize = (1 << 13) - 1;

/// Packetizes AAC access units in AAC-hbr mode (sizeLength 13, indexLength 3,
/// indexDeltaLength 3): one AU per packet with a one-header AU header section; an AU larger
/// than the packet budget is fragmented (same timestamp, marker on the last fragment). Entry
/// `i` of an [`AccessUnit`] gets `rtp_timestamp + i × samples_per_access_unit`.
#[derive(Debug, Clone)]
pub struct Mpeg4AudioPacketizer {
    writer: RtpWriter,
    mtu_payload: usize,
    samples_per_access_unit: u32,
    scratch: Vec<u8>,
}

impl Mpeg4AudioPacketizer {
    /// A packetizer writing `payload_type`/`ssrc` packets starting at `initial_seq`, with at most
    /// `mtu_payload` payload bytes per packet (1400 is a good default; values below 5 are
    /// raised to 5), for 1024-sample AUs.
    pub fn new(payload_type: u8, ssrc: Ssrc, initial_seq: SeqNo, mtu_payload: usize) -> Self {
        Mpeg4AudioPacketizer {
            writer: RtpWriter::new(payload_type, ssrc, initial_seq),
            mtu_payload: mtu_payload.max(5),
            samples_per_access_unit: 1024,
            scratch: Vec::new(),
        }
    }

    /// Sets the samples per AU (the config's `frame_length`: 1024 or 960).
    pub fn with_samples_per_access_unit(mut self, samples: u32) -> Self {
        self.samples_per_access_unit = samples;
        self
    }

    /// The sequence number of the next packet (for RTP-Info).
    pub fn next_sequence_number(&self) -> SeqNo {
        self.writer.next_sequence_number()
    }

    /// Appends the packets of `au` to `out`. Empty AUs and AUs larger than 8191 bytes (which
    /// AAC-hbr cannot describe) are skipped.
    pub fn packetize(&mut self, au: &AccessUnit, rtp_timestamp: u32, out: &mut Vec<RtpPacket>) {
        let mut ts = rtp_timestamp;
        for frame in &au.data {
            if !frame.is_empty() && frame.len() <= MAX_HBR_AU_SIZE {
                // AU-headers-length = 16 bits; AU-size (13 bits) | AU-Index 0 (3 bits).
                let header = [
                    0x00,
                    0x10,
                    (frame.len() >> 5) as u8,
                    ((frame.len() & 0x1f) << 3) as u8,
                ];
                let chunk = self.mtu_payload - header.len();
                let count = frame.len().div_ceil(chunk);
                for (k, piece) in frame.chunks(chunk).enumerate() {
                    self.scratch.clear();
                    self.scratch.extend_from_slice(&header);
                    self.scratch.extend_from_slice(piece);
                    out.push(self.writer.packet(k + 1 == count, ts, &self.scratch));
                }
            }
            ts = ts.wrapping_add(self.samples_per_access_unit);
        }
    }
}
