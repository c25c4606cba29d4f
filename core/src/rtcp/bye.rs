//! The goodbye packet (BYE, packet type 203; RFC 3550 §6.6).

use super::header::{begin, finish, read_u32, Header, RtcpError, MAX_COUNT, PT_BYE};
use smallvec::SmallVec;

/// A goodbye: the listed sources are leaving, optionally with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bye {
    /// The sources (SSRC or CSRC) leaving (at most 31 are written).
    pub ssrcs: SmallVec<[u32; 2]>,
    /// The reason for leaving (normally UTF-8 text; at most 255 octets are written).
    pub reason: Option<Vec<u8>>,
}

impl Bye {
    /// Parses `buf` as one BYE packet (bytes after it are ignored).
    pub fn parse(buf: &[u8]) -> Result<Bye, RtcpError> {
        let h = Header::parse_type(buf, PT_BYE)?;
        let n = usize::from(h.count);
        let ssrcs = (0..n)
            .map(|i| read_u32(h.body, 4 * i).ok_or(RtcpError::TooShort))
            .collect::<Result<SmallVec<_>, _>>()?;
        let rest = h.body.get(4 * n..).unwrap_or_default();
        let reason = match rest.first() {
            None => None,
            Some(&len) => {
                let text = rest
                    .get(1..1 + usize::from(len))
                    .ok_or(RtcpError::BadLength)?;
                Some(text.to_vec())
            }
        };
        Ok(Bye { ssrcs, reason })
    }

    /// Appends the packet: at most 31 SSRCs, then the reason (length octet, text cut at 255
    /// octets, zero padding to a 32-bit boundary) if there is one.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let start = begin(out);
        let n = self.ssrcs.len().min(MAX_COUNT);
        for ssrc in &self.ssrcs[..n] {
            out.extend_from_slice(&ssrc.to_be_bytes());
        }
        if let Some(reason) = &self.reason {
            let text = &reason[..reason.len().min(255)];
            out.push(text.len() as u8);
            out.extend_from_slice(text);
        }
        finish(out, start, n as u8, PT_BYE);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use smallvec::smallvec;

    /// Two SSRCs and a reason, laid out as in RFC 3550 §6.6.
    const BYE: [u8; 20] = [
        0x82, 203, 0x00, 0x04, // V=2, SC=2, PT=BYE, length 4 (5 words)
        0x00, 0x00, 0x00, 0x01, // SSRC
        0x00, 0x00, 0x00, 0x02, // CSRC
        5, b'c', b'l', b'o', b's', b'e', 0, 0, // reason "close", padding
    ];

    fn bye() -> Bye {
        Bye {
            ssrcs: smallvec![1, 2],
            reason: Some(b"close".to_vec()),
        }
    }

    #[test]
    fn byte_exact_both_ways() {
        assert_eq!(Bye::parse(&BYE), Ok(bye()));
        let mut out = Vec::new();
        bye().write_to(&mut out);
        assert_eq!(out, BYE);
    }

    #[test]
    fn without_reason_and_empty() {
        let pkt = [0x81, 203, 0, 1, 0xca, 0xfe, 0xba, 0xbe];
        let b = Bye {
            ssrcs: smallvec![0xcafe_babe],
            reason: None,
        };
        assert_eq!(Bye::parse(&pkt), Ok(b.clone()));
        let mut out = Vec::new();
        b.write_to(&mut out);
        assert_eq!(out, pkt);
        // A count of zero is valid (RFC 3550 §6.6).
        assert_eq!(Bye::parse(&[0x80, 203, 0, 0]), Ok(Bye::default()));
    }

    #[test]
    fn write_limits() {
        let b = Bye {
            ssrcs: (0..40).collect(),
            reason: Some(vec![b'r'; 300]),
        };
        let mut out = Vec::new();
        b.write_to(&mut out);
        let back = Bye::parse(&out).unwrap();
        assert_eq!(back.ssrcs[..], b.ssrcs[..31]);
        assert_eq!(back.reason, Some(vec![b'r'; 255]));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            Bye::parse(&[0x82, 203, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::TooShort)
        );
        assert_eq!(
            Bye::parse(&[0x81, 203, 0, 2, 0, 0, 0, 1, 9, b'a', 0, 0]),
            Err(RtcpError::BadLength)
        );
        assert_eq!(
            Bye::parse(&[0x81, 202, 0, 1, 0, 0, 0, 1]),
            Err(RtcpError::WrongType {
                expected: 203,
                found: 202
            })
        );
    }

    pub(crate) fn arb_bye() -> impl Strategy<Value = Bye> {
        (
            proptest::collection::vec(any::<u32>(), 0..=31),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..=255)),
        )
            .prop_map(|(ssrcs, reason)| Bye {
                ssrcs: ssrcs.into(),
                reason,
            })
    }

    proptest! {
        #[test]
        fn round_trip(bye in arb_bye()) {
            let mut out = Vec::new();
            bye.write_to(&mut out);
            prop_assert_eq!(out.len() % 4, 0);
            prop_assert_eq!(Bye::parse(&out), Ok(bye));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = Bye::parse(&data);
        }
    }
}
