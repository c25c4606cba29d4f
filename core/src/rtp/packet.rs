//! The RTP fixed header, CSRC list, header extension and padding (RFC 3550 §5.1, §5.3.1).

use super::{SeqNo, Ssrc};
use bytes::Bytes;
use std::ops::Range;

/// Length of the RTP fixed header in bytes.
pub const RTP_FIXED_HEADER_LEN: usize = 12;

/// Why an RTP packet could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtpError {
    /// Shorter than the fixed header, or than the CSRC list / extension / padding it announces.
    TooShort,
    /// The version field is not 2.
    BadVersion(u8),
    /// The padding count is zero or larger than the payload.
    BadPadding,
}

impl std::fmt::Display for RtpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RtpError::TooShort => f.write_str("RTP packet too short"),
            RtpError::BadVersion(v) => write!(f, "RTP version {v} is not 2"),
            RtpError::BadPadding => f.write_str("RTP padding length invalid"),
        }
    }
}

impl std::error::Error for RtpError {}

/// The fields of an RTP header that weir reads or writes (CSRCs and extensions are skipped on
/// parse and not written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// The marker bit: for video, the last packet of an access unit.
    pub marker: bool,
    /// The payload type (7 bits).
    pub payload_type: u8,
    /// The sequence number.
    pub sequence_number: SeqNo,
    /// The media timestamp in the track's clock rate.
    pub timestamp: u32,
    /// The synchronization source.
    pub ssrc: Ssrc,
}

impl RtpHeader {
    /// Writes a 12-byte fixed header (no CSRC, no extension, no padding) into `out`.
    pub fn write(&self, out: &mut [u8; RTP_FIXED_HEADER_LEN]) {
        out[0] = 0x80;
        out[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7f);
        out[2..4].copy_from_slice(&self.sequence_number.0.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.0.to_be_bytes());
    }

    /// Appends a 12-byte fixed header to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let mut b = [0u8; RTP_FIXED_HEADER_LEN];
        self.write(&mut b);
        out.extend_from_slice(&b);
    }

    /// Parses `buf` as an RTP packet; returns the header and the byte range of the payload
    /// (CSRCs, extension and padding excluded). Never panics.
    pub fn parse(buf: &[u8]) -> Result<(RtpHeader, Range<usize>), RtpError> {
        if buf.len() < RTP_FIXED_HEADER_LEN {
            return Err(RtpError::TooShort);
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let padding = buf[0] & 0x20 != 0;
        let extension = buf[0] & 0x10 != 0;
        let csrc_count = usize::from(buf[0] & 0x0f);
        let mut start = RTP_FIXED_HEADER_LEN + 4 * csrc_count;
        if buf.len() < start {
            return Err(RtpError::TooShort);
        }
        if extension {
            if buf.len() < start + 4 {
                return Err(RtpError::TooShort);
            }
            let words = usize::from(u16::from_be_bytes([buf[start + 2], buf[start + 3]]));
            start += 4 + 4 * words;
            if buf.len() < start {
                return Err(RtpError::TooShort);
            }
        }
        let mut end = buf.len();
        if padding {
            let pad = usize::from(buf[end - 1]);
            if pad == 0 || end - start < pad {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        let header = RtpHeader {
            marker: buf[1] & 0x80 != 0,
            payload_type: buf[1] & 0x7f,
            sequence_number: SeqNo(u16::from_be_bytes([buf[2], buf[3]])),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: Ssrc(u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]])),
        };
        Ok((header, start..end))
    }
}

/// An RTP packet held as shared bytes: the raw packet plus its parsed header and payload range.
/// Cloning is cheap (reference counted); slicing the payload never copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket {
    /// The whole packet as received, header included.
    pub raw: Bytes,
    /// The parsed header.
    pub header: RtpHeader,
    /// Where the payload lies in `raw`.
    pub payload_range: Range<usize>,
}

impl RtpPacket {
    /// Parses a received packet without copying it.
    pub fn parse(raw: Bytes) -> Result<RtpPacket, RtpError> {
        let (header, payload_range) = RtpHeader::parse(&raw)?;
        Ok(RtpPacket {
            raw,
            header,
            payload_range,
        })
    }

    /// Builds a packet from a header and payload (one copy into a new buffer).
    pub fn build(header: RtpHeader, payload: &[u8]) -> RtpPacket {
        let mut v = Vec::with_capacity(RTP_FIXED_HEADER_LEN + payload.len());
        header.write_to(&mut v);
        v.extend_from_slice(payload);
        let len = v.len();
        RtpPacket {
            raw: Bytes::from(v),
            header,
            payload_range: RTP_FIXED_HEADER_LEN..len,
        }
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.raw[self.payload_range.clone()]
    }

    /// A zero-copy slice of the payload: `range` is relative to the payload start.
    pub fn payload_slice(&self, range: Range<usize>) -> Bytes {
        let start = self.payload_range.start;
        self.raw.slice(start + range.start..start + range.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_fixed_header() {
        let pkt = [
            0x80, 0xe0, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3,
        ];
        let (h, r) = RtpHeader::parse(&pkt).unwrap();
        assert!(h.marker);
        assert_eq!(h.payload_type, 96);
        assert_eq!(h.sequence_number, SeqNo(0x1234));
        assert_eq!(h.timestamp, 0x1000);
        assert_eq!(h.ssrc, Ssrc(0xdeadbeef));
        assert_eq!(&pkt[r], &[1, 2, 3]);
    }

    #[test]
    fn skips_csrc_extension_and_padding() {
        let mut pkt = vec![0xb1, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2];
        pkt.extend_from_slice(&[9, 9, 9, 9]); // one CSRC
        pkt.extend_from_slice(&[0xbe, 0xde, 0, 1, 7, 7, 7, 7]); // extension of one word
        pkt.extend_from_slice(&[5, 6]); // payload
        pkt.extend_from_slice(&[0, 2]); // padding of 2
        let (h, r) = RtpHeader::parse(&pkt).unwrap();
        assert!(!h.marker);
        assert_eq!(&pkt[r], &[5, 6]);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(RtpHeader::parse(&[0x80; 11]), Err(RtpError::TooShort));
        assert_eq!(RtpHeader::parse(&[0x40; 12]), Err(RtpError::BadVersion(1)));
        let mut pkt = vec![0xa0, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0];
        assert_eq!(RtpHeader::parse(&pkt), Err(RtpError::BadPadding));
        pkt[13] = 3;
        assert_eq!(RtpHeader::parse(&pkt), Err(RtpError::BadPadding));
    }

    proptest! {
        #[test]
        fn round_trip(marker: bool, pt in 0u8..128, seq: u16, ts: u32, ssrc: u32,
                      payload in proptest::collection::vec(any::<u8>(), 0..64)) {
            let h = RtpHeader { marker, payload_type: pt, sequence_number: SeqNo(seq), timestamp: ts, ssrc: Ssrc(ssrc) };
            let p = RtpPacket::build(h, &payload);
            let back = RtpPacket::parse(p.raw.clone()).unwrap();
            prop_assert_eq!(back.header, h);
            prop_assert_eq!(back.payload(), &payload[..]);
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = RtpHeader::parse(&data);
        }
    }
}
