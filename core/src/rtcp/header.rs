//! The RTCP common header (RFC 3550 §6.4.1): version, padding, count, packet type, length.

use crate::error::Blame;

/// Packet type of a sender report (SR).
pub const PT_SR: u8 = 200;
/// Packet type of a receiver report (RR).
pub const PT_RR: u8 = 201;
/// Packet type of a source description (SDES).
pub const PT_SDES: u8 = 202;
/// Packet type of a goodbye (BYE).
pub const PT_BYE: u8 = 203;
/// Packet type of an application-defined packet (APP).
pub const PT_APP: u8 = 204;

/// Length of the common header in bytes.
pub const HEADER_LEN: usize = 4;

/// The largest packet the 16-bit length field can describe, in bytes.
pub(crate) const MAX_PACKET_LEN: usize = (u16::MAX as usize + 1) * 4;

/// The largest value of the 5-bit count field (report blocks, chunks, SSRCs).
pub(crate) const MAX_COUNT: usize = 31;

/// Why an RTCP packet could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpError {
    /// Shorter than the common header, or than the fields its count announces.
    TooShort,
    /// The version field is not 2.
    BadVersion(u8),
    /// The length field overruns the buffer, or an item or reason overruns its packet.
    BadLength,
    /// The padding count is zero or larger than the packet body.
    BadPadding,
    /// The packet type is not the one the parser handles.
    WrongType {
        /// The packet type the parser expected.
        expected: u8,
        /// The packet type found.
        found: u8,
    },
}

impl RtcpError {
    /// Who is to blame: always the peer's malformed input.
    pub fn blame(&self) -> Blame {
        Blame::Malformed
    }
}

impl std::fmt::Display for RtcpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RtcpError::TooShort => f.write_str("RTCP packet too short"),
            RtcpError::BadVersion(v) => write!(f, "RTCP version {v} is not 2"),
            RtcpError::BadLength => f.write_str("RTCP length field invalid"),
            RtcpError::BadPadding => f.write_str("RTCP padding length invalid"),
            RtcpError::WrongType { expected, found } => {
                write!(f, "RTCP packet type {found}, expected {expected}")
            }
        }
    }
}

impl std::error::Error for RtcpError {}

/// A parsed common header and the packet body it frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header<'a> {
    /// The 5-bit count field (RC, SC or subtype depending on the packet type).
    pub count: u8,
    /// The packet type.
    pub packet_type: u8,
    /// The bytes after the 4-byte header, padding removed.
    pub body: &'a [u8],
    /// The whole packet length in bytes, header and padding included.
    pub packet_len: usize,
}

impl<'a> Header<'a> {
    /// Parses the header of the first packet in `buf` and checks its length and padding.
    /// Bytes after the packet are ignored.
    pub fn parse(buf: &'a [u8]) -> Result<Header<'a>, RtcpError> {
        let packet_len = packet_len(buf)?;
        let padding = buf[0] & 0x20 != 0;
        let mut end = packet_len;
        if padding {
            let pad = usize::from(buf[end - 1]);
            if pad == 0 || pad > end - HEADER_LEN {
                return Err(RtcpError::BadPadding);
            }
            end -= pad;
        }
        Ok(Header {
            count: buf[0] & 0x1f,
            packet_type: buf[1],
            body: &buf[HEADER_LEN..end],
            packet_len,
        })
    }

    /// Parses the header like [`Header::parse`] and checks the packet type.
    pub fn parse_type(buf: &'a [u8], expected: u8) -> Result<Header<'a>, RtcpError> {
        let h = Header::parse(buf)?;
        if h.packet_type != expected {
            return Err(RtcpError::WrongType {
                expected,
                found: h.packet_type,
            });
        }
        Ok(h)
    }
}

/// The length in bytes of the first packet in `buf`, after checking the version and that the
/// length field does not overrun `buf`.
pub(crate) fn packet_len(buf: &[u8]) -> Result<usize, RtcpError> {
    if buf.len() < HEADER_LEN {
        return Err(RtcpError::TooShort);
    }
    let version = buf[0] >> 6;
    if version != 2 {
        return Err(RtcpError::BadVersion(version));
    }
    let len = (usize::from(u16::from_be_bytes([buf[2], buf[3]])) + 1) * 4;
    if len > buf.len() {
        return Err(RtcpError::BadLength);
    }
    Ok(len)
}

/// Reads a big-endian `u32` at `at`; `None` past the end of `buf`.
pub(crate) fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b = buf.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Appends a header placeholder and returns where the packet starts; finish with [`finish`].
pub(crate) fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_LEN]);
    start
}

/// Pads the packet started at `start` to a 32-bit boundary with zeros and fills in its header.
pub(crate) fn finish(out: &mut Vec<u8>, start: usize, count: u8, packet_type: u8) {
    while (out.len() - start) % 4 != 0 {
        out.push(0);
    }
    let words = (out.len() - start) / 4 - 1;
    let length = u16::try_from(words).unwrap_or(u16::MAX).to_be_bytes();
    out[start] = 0x80 | (count & 0x1f);
    out[start + 1] = packet_type;
    out[start + 2] = length[0];
    out[start + 3] = length[1];
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_header_and_padding() {
        let pkt = [0xa1, 204, 0, 2, 1, 2, 3, 4, 5, 0, 0, 3, 0xff];
        let h = Header::parse(&pkt).unwrap();
        assert_eq!((h.count, h.packet_type, h.packet_len), (1, PT_APP, 12));
        assert_eq!(h.body, &[1, 2, 3, 4, 5]);
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(Header::parse(&[0x80, 200, 0]), Err(RtcpError::TooShort));
        assert_eq!(
            Header::parse(&[0x40, 200, 0, 0]),
            Err(RtcpError::BadVersion(1))
        );
        assert_eq!(
            Header::parse(&[0x80, 200, 0, 1, 0, 0, 0]),
            Err(RtcpError::BadLength)
        );
        assert_eq!(
            Header::parse(&[0xa0, 200, 0, 0]),
            Err(RtcpError::BadPadding)
        );
        assert_eq!(
            Header::parse(&[0xa0, 200, 0, 1, 0, 0, 0, 0]),
            Err(RtcpError::BadPadding)
        );
        assert_eq!(
            Header::parse(&[0xa0, 200, 0, 1, 0, 0, 0, 5]),
            Err(RtcpError::BadPadding)
        );
        assert_eq!(
            Header::parse_type(&[0x80, 201, 0, 0], PT_SR),
            Err(RtcpError::WrongType {
                expected: PT_SR,
                found: PT_RR
            })
        );
        assert_eq!(RtcpError::BadLength.blame(), Blame::Malformed);
        assert_eq!(
            RtcpError::BadVersion(3).to_string(),
            "RTCP version 3 is not 2"
        );
    }

    #[test]
    fn finish_pads_and_sets_length() {
        let mut out = vec![9];
        let start = begin(&mut out);
        out.extend_from_slice(&[1, 2, 3, 4, 5]);
        finish(&mut out, start, 33, 204);
        assert_eq!(out, [9, 0x81, 204, 0, 2, 1, 2, 3, 4, 5, 0, 0, 0]);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Header::parse(&data);
        }
    }
}
