//! H.264 access units → RTP (RFC 6184 packetization mode 1).

use super::{NAL_FU_A, NAL_STAP_A};
use crate::codec::rtp_out::RtpWriter;
use crate::codec::AccessUnit;
use crate::rtp::{RtpPacket, SeqNo, Ssrc};

/// Packetizes H.264 access units (RFC 6184, packetization mode 1): consecutive small NAL units
/// share an STAP-A, a NAL unit that fits goes alone, a larger one is split into FU-A fragments.
/// The marker bit is set on the last packet of each access unit.
#[derive(Debug, Clone)]
pub struct H264Packetizer {
    writer: RtpWriter,
    mtu_payload: usize,
    scratch: Vec<u8>,
}

impl H264Packetizer {
    /// A packetizer writing `payload_type`/`ssrc` packets starting at `initial_seq`, with at most
    /// `mtu_payload` payload bytes per packet (1400 is a good default; values below 3 are
    /// raised to 3).
    pub fn new(payload_type: u8, ssrc: Ssrc, initial_seq: SeqNo, mtu_payload: usize) -> Self {
        H264Packetizer {
            writer: RtpWriter::new(payload_type, ssrc, initial_seq),
            mtu_payload: mtu_payload.max(3),
            scratch: Vec::new(),
        }
    }

    /// The sequence number of the next packet (for RTP-Info).
    pub fn next_sequence_number(&self) -> SeqNo {
        self.writer.next_sequence_number()
    }

    /// Appends the packets of `au` (empty NAL units skipped) to `out`, all with `rtp_timestamp`.
    pub fn packetize(&mut self, au: &AccessUnit, rtp_timestamp: u32, out: &mut Vec<RtpPacket>) {
        let nalus: Vec<&[u8]> = au
            .data
            .iter()
            .map(|b| &b[..])
            .filter(|n| !n.is_empty())
            .collect();
        let mtu = self.mtu_payload;
        let mut i = 0;
        while i < nalus.len() {
            // How many NAL units from i fit together in one STAP-A?
            let mut size = 1;
            let mut j = i;
            while j < nalus.len()
                && nalus[j].len() <= usize::from(u16::MAX)
                && size + 2 + nalus[j].len() <= mtu
            {
                size += 2 + nalus[j].len();
                j += 1;
            }
            if j - i >= 2 {
                self.scratch.clear();
                // F is the OR of the aggregated F bits, NRI their maximum (RFC 6184 §5.7).
                let f = nalus[i..j].iter().fold(0, |acc, n| acc | (n[0] & 0x80));
                let nri = nalus[i..j].iter().map(|n| n[0] & 0x60).max().unwrap_or(0);
                self.scratch.push(f | nri | NAL_STAP_A);
                for n in &nalus[i..j] {
                    // Checked above: every length fits in 16 bits.
                    self.scratch
                        .extend_from_slice(&(n.len() as u16).to_be_bytes());
                    self.scratch.extend_from_slice(n);
                }
                out.push(
                    self.writer
                        .packet(j == nalus.len(), rtp_timestamp, &self.scratch),
                );
                i = j;
                continue;
            }
            let nalu = nalus[i];
            let last_nalu = i + 1 == nalus.len();
            if nalu.len() <= mtu {
                out.push(self.writer.packet(last_nalu, rtp_timestamp, nalu));
            } else {
                self.fragment(nalu, last_nalu, rtp_timestamp, out);
            }
            i += 1;
        }
    }

    /// Splits one NAL unit into FU-A packets.
    fn fragment(&mut self, nalu: &[u8], last_nalu: bool, ts: u32, out: &mut Vec<RtpPacket>) {
        let indicator = (nalu[0] & 0xe0) | NAL_FU_A;
        let nal_type = nalu[0] & 0x1f;
        let chunk = self.mtu_payload - 2;
        let body = &nalu[1..];
        let count = body.len().div_ceil(chunk).max(1);
        for (k, piece) in body.chunks(chunk).enumerate() {
            let start = k == 0;
            let end = k + 1 == count;
            self.scratch.clear();
            self.scratch.push(indicator);
            self.scratch
                .push((u8::from(start) << 7) | (u8::from(end) << 6) | nal_type);
            self.scratch.extend_from_slice(piece);
            out.push(self.writer.packet(end && last_nalu, ts, &self.scratch));
        }
    }
}
