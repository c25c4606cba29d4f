//! RTP → H.265 access units (RFC 7798).

use super::{is_key_nalu, NAL_AP, NAL_FU, NAL_PACI};
use crate::codec::nal_au::{Appended, NaluList, Reassembly};
use crate::codec::{AccessUnit, CodecError, Depacketizer};
use crate::rtp::RtpPacket;
use bytes::Bytes;
use smallvec::SmallVec;
use std::ops::Range;

/// Depacketizes H.265 (RFC 7798): single NAL unit packets (types 0–47), aggregation packets
/// (AP, 48) and fragmentation units (FU, 49). PACI packets (50) and the unassigned types 51–63
/// are refused with [`CodecError::Invalid`].
///
/// When the session signals `sprop-max-don-diff` > 0, build it with
/// [`H265Depacketizer::with_donl`]: the DONL/DOND fields are then skipped (units are still
/// delivered in arrival order, which is decoding order for non-interleaved senders).
///
/// Single and aggregated NAL units are zero-copy slices of the packets (except single NAL
/// units carrying a DONL field, which must be copied); fragmented units are assembled. An
/// `Err` from [`Depacketizer::push`] says what was dropped; the depacketizer stays usable and
/// [`Depacketizer::finish`] still returns the NAL units that were complete.
#[derive(Debug, Default)]
pub struct H265Depacketizer {
    donl: bool,
    nalus: NaluList,
    fragment: Reassembly,
}

impl H265Depacketizer {
    /// A depacketizer for sessions without DONL fields (`sprop-max-don-diff` absent or 0).
    pub fn new() -> Self {
        Self::default()
    }

    /// A depacketizer that expects DONL/DOND fields when `donl` is true.
    pub fn with_donl(donl: bool) -> Self {
        H265Depacketizer {
            donl,
            ..Self::default()
        }
    }

    /// Handles a single NAL unit packet.
    fn push_single(&mut self, packet: &RtpPacket, payload: &[u8]) -> Result<(), CodecError> {
        if !self.donl {
            return self.nalus.push(packet.payload_slice(0..payload.len()));
        }
        if payload.len() < 4 {
            return Err(CodecError::Truncated);
        }
        let mut nalu = Vec::with_capacity(payload.len() - 2);
        nalu.extend_from_slice(&payload[..2]);
        nalu.extend_from_slice(&payload[4..]);
        self.nalus.push(nalu.into())
    }

    /// Handles an aggregation packet; every length is checked before any unit is kept.
    fn push_ap(&mut self, packet: &RtpPacket, payload: &[u8]) -> Result<(), CodecError> {
        let mut ranges: SmallVec<[Range<usize>; 8]> = SmallVec::new();
        let mut pos = 2;
        while pos < payload.len() {
            if self.donl {
                // DONL (2 bytes) before the first unit, DOND (1 byte) before the others.
                pos += if ranges.is_empty() { 2 } else { 1 };
            }
            let size_bytes = payload.get(pos..pos + 2).ok_or(CodecError::Truncated)?;
            let size = usize::from(u16::from_be_bytes([size_bytes[0], size_bytes[1]]));
            let start = pos + 2;
            let end = start + size;
            if size < 2 {
                return Err(CodecError::Invalid(
                    "NAL unit shorter than its header in AP",
                ));
            }
            if end > payload.len() {
                return Err(CodecError::Truncated);
            }
            ranges.push(start..end);
            pos = end;
        }
        if ranges.is_empty() {
            return Err(CodecError::Invalid("AP without NAL units"));
        }
        for range in ranges {
            self.nalus.push(packet.payload_slice(range))?;
        }
        Ok(())
    }

    /// Handles a fragmentation unit.
    fn push_fu(&mut self, packet: &RtpPacket, payload: &[u8]) -> Result<(), CodecError> {
        if payload.len() < 3 {
            self.fragment.abort();
            return Err(CodecError::Truncated);
        }
        let fu_header = payload[2];
        let start = fu_header & 0x80 != 0;
        let end = fu_header & 0x40 != 0;
        let nal_header = [(payload[0] & 0x81) | ((fu_header & 0x3f) << 1), payload[1]];
        let seq = packet.header.sequence_number;
        let data_start = if start && self.donl { 5 } else { 3 };
        let data = payload.get(data_start..).ok_or(CodecError::Truncated)?;
        if start {
            let dropped = if end {
                // Not allowed by RFC 7798 §4.4.3, but unambiguous: a whole NAL unit.
                let dropped = self.fragment.abort();
                let nalu = self.fragment.whole(&nal_header, data);
                self.nalus.push(nalu)?;
                dropped
            } else {
                self.fragment
                    .start(&nal_header, data, seq, self.nalus.size())?
            };
            return if dropped {
                Err(CodecError::FragmentLost)
            } else {
                Ok(())
            };
        }
        match self.fragment.append(data, seq, end, self.nalus.size())? {
            Appended::More => Ok(()),
            Appended::Done(nalu) => self.nalus.push(nalu),
        }
    }
}

impl Depacketizer for H265Depacketizer {
    fn push(&mut self, packet: &RtpPacket) -> Result<(), CodecError> {
        let payload = packet.payload();
        if payload.len() < 2 {
            return Err(CodecError::Truncated);
        }
        let nal_type = (payload[0] >> 1) & 0x3f;
        if nal_type == NAL_FU {
            return self.push_fu(packet, payload);
        }
        // Anything but a continuation ends an unfinished fragmented unit.
        let dropped = self.fragment.abort();
        let result = match nal_type {
            0..=47 => self.push_single(packet, payload),
            NAL_AP => self.push_ap(packet, payload),
            NAL_PACI => Err(CodecError::Invalid("PACI packets are not supported")),
            _ => Err(CodecError::Invalid("unassigned H265 payload type")),
        };
        match result {
            Ok(()) if dropped => Err(CodecError::FragmentLost),
            other => other,
        }
    }

    fn finish(&mut self) -> Option<AccessUnit> {
        self.fragment.abort();
        let data = self.nalus.take();
        if data.is_empty() {
            return None;
        }
        let key = data.iter().any(|n| is_key_nalu(n));
        Some(AccessUnit { key, data })
    }

    fn finish_into(&mut self, out: &mut SmallVec<[Bytes; 4]>) -> Option<bool> {
        self.fragment.abort();
        self.nalus.finish_into(out, is_key_nalu)
    }
}
