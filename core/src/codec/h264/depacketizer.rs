//! RTP → H.264 access units (RFC 6184, packetization modes 0 and 1).

use super::{NAL_FU_A, NAL_IDR, NAL_STAP_A};
use crate::codec::nal_au::{Appended, NaluList, Reassembly};
use crate::codec::{AccessUnit, CodecError, Depacketizer};
use crate::rtp::RtpPacket;
use bytes::Bytes;
use smallvec::SmallVec;
use std::ops::Range;

/// Depacketizes H.264 (RFC 6184): single NAL unit packets (types 1–23), STAP-A (24) and FU-A
/// (28). STAP-B, MTAP16/24 and FU-B (interleaved mode) are refused with
/// [`CodecError::Invalid`].
///
/// Single NAL units and aggregated ones are zero-copy slices of the packets; only fragmented
/// units are copied. Every NAL unit is kept, access unit delimiters (type 9), SEI and parameter
/// sets included, in arrival order. An `Err` from [`Depacketizer::push`] says what was dropped
/// (a packet, or an unfinished fragmented unit); the depacketizer stays usable and
/// [`Depacketizer::finish`] still returns the NAL units that were complete.
#[derive(Debug, Default)]
pub struct H264Depacketizer {
    nalus: NaluList,
    fragment: Reassembly,
}

impl H264Depacketizer {
    /// A depacketizer with no access unit in progress.
    pub fn new() -> Self {
        Self::default()
    }

    /// Handles an STAP-A payload: validates every length first, so a damaged packet is dropped
    /// whole.
    fn push_stap_a(&mut self, packet: &RtpPacket, payload: &[u8]) -> Result<(), CodecError> {
        let mut ranges: SmallVec<[Range<usize>; 8]> = SmallVec::new();
        let mut pos = 1;
        while pos < payload.len() {
            let size_bytes = payload.get(pos..pos + 2).ok_or(CodecError::Truncated)?;
            let size = usize::from(u16::from_be_bytes([size_bytes[0], size_bytes[1]]));
            let start = pos + 2;
            let end = start + size;
            if size == 0 {
                return Err(CodecError::Invalid("empty NAL unit in STAP-A"));
            }
            if end > payload.len() {
                return Err(CodecError::Truncated);
            }
            ranges.push(start..end);
            pos = end;
        }
        if ranges.is_empty() {
            return Err(CodecError::Invalid("STAP-A without NAL units"));
        }
        for range in ranges {
            self.nalus.push(packet.payload_slice(range))?;
        }
        Ok(())
    }

    /// Handles an FU-A payload.
    fn push_fu_a(&mut self, packet: &RtpPacket, payload: &[u8]) -> Result<(), CodecError> {
        if payload.len() < 2 {
            self.fragment.abort();
            return Err(CodecError::Truncated);
        }
        let indicator = payload[0];
        let fu_header = payload[1];
        let start = fu_header & 0x80 != 0;
        let end = fu_header & 0x40 != 0;
        let nal_header = (indicator & 0xe0) | (fu_header & 0x1f);
        let data = &payload[2..];
        let seq = packet.header.sequence_number;
        if start {
            if end {
                // Not allowed by RFC 6184 §5.8, but unambiguous: a whole NAL unit.
                let dropped = self.fragment.abort();
                let nalu = self.fragment.whole(&[nal_header], data);
                self.nalus.push(nalu)?;
                return if dropped {
                    Err(CodecError::FragmentLost)
                } else {
                    Ok(())
                };
            }
            let dropped = self
                .fragment
                .start(&[nal_header], data, seq, self.nalus.size())?;
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

impl Depacketizer for H264Depacketizer {
    fn push(&mut self, packet: &RtpPacket) -> Result<(), CodecError> {
        let payload = packet.payload();
        let Some(&first) = payload.first() else {
            return Err(CodecError::Truncated);
        };
        let nal_type = first & 0x1f;
        if nal_type == NAL_FU_A {
            return self.push_fu_a(packet, payload);
        }
        // Anything but a continuation ends an unfinished fragmented unit.
        let dropped = self.fragment.abort();
        let result = match nal_type {
            1..=23 => self.nalus.push(packet.payload_slice(0..payload.len())),
            NAL_STAP_A => self.push_stap_a(packet, payload),
            25 => Err(CodecError::Invalid(
                "STAP-B (interleaved mode) is not supported",
            )),
            26 | 27 => Err(CodecError::Invalid(
                "MTAP (interleaved mode) is not supported",
            )),
            29 => Err(CodecError::Invalid(
                "FU-B (interleaved mode) is not supported",
            )),
            _ => Err(CodecError::Invalid("reserved H264 NAL unit type")),
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
        let key = data
            .iter()
            .any(|n| n.first().is_some_and(|h| h & 0x1f == NAL_IDR));
        Some(AccessUnit { key, data })
    }

    fn finish_into(&mut self, out: &mut SmallVec<[Bytes; 4]>) -> Option<bool> {
        self.fragment.abort();
        self.nalus.finish_into(out, |n: &[u8]| {
            n.first().is_some_and(|h| h & 0x1f == NAL_IDR)
        })
    }
}
