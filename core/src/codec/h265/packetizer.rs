//! H.265 access units → RTP (RFC 7798, without DONL).

use super::{NAL_AP, NAL_FU};
use crate::codec::rtp_out::RtpWriter;
use crate::codec::AccessUnit;
use crate::rtp::{RtpPacket, SeqNo, Ssrc};

/// Packetizes H.265 access units (RFC 7798, `sprop-max-don-diff` 0): consecutive small NAL
/// units share an aggregation packet, a NAL unit that fits goes alone, a larger one is split
/// into fragmentation units. The marker bit is set on the last packet of each access unit.
#[derive(Debug, Clone)]
pub struct H265Packetizer {
    writer: RtpWriter,
    mtu_payload: usize,
    scratch: Vec<u8>,
}

/// LayerId (6 bits) and TID (3 bits) of a 2-byte NAL unit header.
fn layer_and_tid(n: &[u8]) -> (u8, u8) {
    (((n[0] & 1) << 5) | (n[1] >> 3), n[1] & 7)
}

impl H265Packetizer {
    /// A packetizer writing `payload_type`/`ssrc` packets starting at `initial_seq`, with at most
    /// `mtu_payload` payload bytes per packet (1400 is a good default; values below 4 are
    /// raised to 4).
    pub fn new(payload_type: u8, ssrc: Ssrc, initial_seq: SeqNo, mtu_payload: usize) -> Self {
        H265Packetizer {
            writer: RtpWriter::new(payload_type, ssrc, initial_seq),
            mtu_payload: mtu_payload.max(4),
            scratch: Vec::new(),
        }
    }

    /// The sequence number of the next packet (for RTP-Info).
    pub fn next_sequence_number(&self) -> SeqNo {
        self.writer.next_sequence_number()
    }

    /// Appends the packets of `au` to `out`, all with `rtp_timestamp`. NAL units shorter than
    /// their 2-byte header cannot be carried and are skipped.
    pub fn packetize(&mut self, au: &AccessUnit, rtp_timestamp: u32, out: &mut Vec<RtpPacket>) {
        let nalus: Vec<&[u8]> = au
            .data
            .iter()
            .map(|b| &b[..])
            .filter(|n| n.len() >= 2)
            .collect();
        let mtu = self.mtu_payload;
        let mut i = 0;
        while i < nalus.len() {
            let mut size = 2;
            let mut j = i;
            while j < nalus.len()
                && nalus[j].len() <= usize::from(u16::MAX)
                && size + 2 + nalus[j].len() <= mtu
            {
                size += 2 + nalus[j].len();
                j += 1;
            }
            if j - i >= 2 {
                self.aggregate(&nalus[i..j], j == nalus.len(), rtp_timestamp, out);
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

    /// Writes one aggregation packet (RFC 7798 §4.4.2): F is the OR of the units' F bits,
    /// LayerId and TID the lowest of theirs.
    fn aggregate(&mut self, nalus: &[&[u8]], last: bool, ts: u32, out: &mut Vec<RtpPacket>) {
        let f = nalus.iter().fold(0, |acc, n| acc | (n[0] & 0x80));
        let layer = nalus.iter().map(|n| layer_and_tid(n).0).min().unwrap_or(0);
        let tid = nalus
            .iter()
            .map(|n| layer_and_tid(n).1)
            .min()
            .unwrap_or(1)
            .max(1);
        self.scratch.clear();
        self.scratch.push(f | (NAL_AP << 1) | (layer >> 5));
        self.scratch.push(((layer & 0x1f) << 3) | tid);
        for n in nalus {
            // Every length was checked to fit in 16 bits.
            self.scratch
                .extend_from_slice(&(n.len() as u16).to_be_bytes());
            self.scratch.extend_from_slice(n);
        }
        out.push(self.writer.packet(last, ts, &self.scratch));
    }

    /// Splits one NAL unit into fragmentation units (RFC 7798 §4.4.3).
    fn fragment(&mut self, nalu: &[u8], last_nalu: bool, ts: u32, out: &mut Vec<RtpPacket>) {
        let header = [(nalu[0] & 0x81) | (NAL_FU << 1), nalu[1]];
        let nal_type = (nalu[0] >> 1) & 0x3f;
        let chunk = self.mtu_payload - 3;
        let body = &nalu[2..];
        let count = body.len().div_ceil(chunk).max(1);
        for (k, piece) in body.chunks(chunk).enumerate() {
            let start = k == 0;
            let end = k + 1 == count;
            self.scratch.clear();
            self.scratch.extend_from_slice(&header);
            self.scratch
                .push((u8::from(start) << 7) | (u8::from(end) << 6) | nal_type);
            self.scratch.extend_from_slice(piece);
            out.push(self.writer.packet(end && last_nalu, ts, &self.scratch));
        }
    }
}
