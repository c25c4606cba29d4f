//! The source description (SDES, packet type 202; RFC 3550 §6.5).

use super::header::{
    begin, finish, read_u32, Header, RtcpError, MAX_COUNT, MAX_PACKET_LEN, PT_SDES,
};

/// One SDES item: a type and up to 255 octets of (normally UTF-8) text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdesItem {
    /// The item type (1 CNAME … 8 PRIV); 0 is the end-of-list marker and is never written.
    pub kind: u8,
    /// The item text (at most 255 octets are written).
    pub value: Vec<u8>,
}

/// The items describing one source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SdesChunk {
    /// The source (SSRC or CSRC) described.
    pub ssrc: u32,
    /// Its items, in order.
    pub items: Vec<SdesItem>,
}

/// A source description packet: one chunk per described source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdes {
    /// The chunks (at most 31 are written).
    pub chunks: Vec<SdesChunk>,
}

impl SdesItem {
    /// CNAME: canonical end-point identifier.
    pub const CNAME: u8 = 1;
    /// NAME: user name.
    pub const NAME: u8 = 2;
    /// EMAIL: electronic mail address.
    pub const EMAIL: u8 = 3;
    /// PHONE: phone number.
    pub const PHONE: u8 = 4;
    /// LOC: geographic user location.
    pub const LOC: u8 = 5;
    /// TOOL: application or tool name.
    pub const TOOL: u8 = 6;
    /// NOTE: notice/status.
    pub const NOTE: u8 = 7;
    /// PRIV: private extensions (value holds prefix length, prefix and value).
    pub const PRIV: u8 = 8;

    /// A CNAME item.
    pub fn cname(value: impl Into<Vec<u8>>) -> SdesItem {
        SdesItem {
            kind: SdesItem::CNAME,
            value: value.into(),
        }
    }
}

impl Sdes {
    /// An SDES packet with one chunk holding just a CNAME, as every compound packet needs.
    pub fn cname(ssrc: u32, cname: impl Into<Vec<u8>>) -> Sdes {
        Sdes {
            chunks: vec![SdesChunk {
                ssrc,
                items: vec![SdesItem::cname(cname)],
            }],
        }
    }

    /// Parses `buf` as one SDES packet (bytes after it are ignored). A chunk whose item list
    /// runs to the end of the packet without a null octet is accepted.
    pub fn parse(buf: &[u8]) -> Result<Sdes, RtcpError> {
        let h = Header::parse_type(buf, PT_SDES)?;
        let body = h.body;
        let mut pos = 0usize;
        let mut chunks = Vec::with_capacity(usize::from(h.count));
        for _ in 0..h.count {
            let ssrc = read_u32(body, pos).ok_or(RtcpError::TooShort)?;
            pos += 4;
            let mut items = Vec::new();
            while let Some(&kind) = body.get(pos) {
                if kind == 0 {
                    // The null item ends the list; null octets pad to the next 32-bit boundary.
                    pos = (pos + 1).next_multiple_of(4);
                    break;
                }
                let len = usize::from(*body.get(pos + 1).ok_or(RtcpError::BadLength)?);
                let value = body
                    .get(pos + 2..pos + 2 + len)
                    .ok_or(RtcpError::BadLength)?;
                items.push(SdesItem {
                    kind,
                    value: value.to_vec(),
                });
                pos += 2 + len;
            }
            chunks.push(SdesChunk { ssrc, items });
        }
        Ok(Sdes { chunks })
    }

    /// Appends the packet: at most 31 chunks, each item list null-terminated and padded to a
    /// 32-bit boundary. Items of type 0 are skipped, values are cut at 255 octets, and items
    /// that would overflow the 16-bit length field are dropped.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let start = begin(out);
        let mut count = 0u8;
        for chunk in self.chunks.iter().take(MAX_COUNT) {
            // SSRC plus the null octet and padding.
            if out.len() - start + 8 > MAX_PACKET_LEN {
                break;
            }
            out.extend_from_slice(&chunk.ssrc.to_be_bytes());
            for item in chunk.items.iter().filter(|i| i.kind != 0) {
                let value = &item.value[..item.value.len().min(255)];
                if out.len() - start + 2 + value.len() + 4 > MAX_PACKET_LEN {
                    break;
                }
                out.push(item.kind);
                out.push(value.len() as u8);
                out.extend_from_slice(value);
            }
            out.push(0);
            while (out.len() - start) % 4 != 0 {
                out.push(0);
            }
            count += 1;
        }
        finish(out, start, count, PT_SDES);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Two chunks, laid out as in RFC 3550 §6.5.
    const SDES: [u8; 32] = [
        0x82, 202, 0x00, 0x07, // V=2, SC=2, PT=SDES, length 7 (8 words)
        0x11, 0x11, 0x11, 0x11, // SSRC_1
        1, 3, b'a', b'@', b'b', // CNAME "a@b"
        0, 0, 0, // null item, padding to 32 bits
        0x22, 0x22, 0x22, 0x22, // SSRC_2
        2, 4, b'w', b'e', b'i', b'r', // NAME "weir"
        6, 1, b'x', // TOOL "x"
        0, 0, 0, // null item, padding
    ];

    fn sdes() -> Sdes {
        Sdes {
            chunks: vec![
                SdesChunk {
                    ssrc: 0x1111_1111,
                    items: vec![SdesItem::cname("a@b")],
                },
                SdesChunk {
                    ssrc: 0x2222_2222,
                    items: vec![
                        SdesItem {
                            kind: SdesItem::NAME,
                            value: b"weir".to_vec(),
                        },
                        SdesItem {
                            kind: SdesItem::TOOL,
                            value: b"x".to_vec(),
                        },
                    ],
                },
            ],
        }
    }

    #[test]
    fn byte_exact_both_ways() {
        assert_eq!(Sdes::parse(&SDES), Ok(sdes()));
        let mut out = Vec::new();
        sdes().write_to(&mut out);
        assert_eq!(out, SDES);
    }

    #[test]
    fn aligned_item_list_gets_a_full_null_word() {
        let pkt = [0x81, 202, 0, 3, 0, 0, 0, 7, 1, 2, b'h', b'i', 0, 0, 0, 0];
        let mut out = Vec::new();
        Sdes::cname(7, "hi").write_to(&mut out);
        assert_eq!(out, pkt);
        assert_eq!(Sdes::parse(&pkt), Ok(Sdes::cname(7, "hi")));
        // A chunk with no items is four null octets after the SSRC.
        let empty = Sdes {
            chunks: vec![SdesChunk {
                ssrc: 7,
                items: vec![],
            }],
        };
        let mut out = Vec::new();
        empty.write_to(&mut out);
        assert_eq!(out, [0x81, 202, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0]);
        assert_eq!(Sdes::parse(&out), Ok(empty));
    }

    #[test]
    fn write_limits() {
        let long = Sdes {
            chunks: vec![SdesChunk {
                ssrc: 1,
                items: vec![
                    SdesItem {
                        kind: 0,
                        value: b"dropped".to_vec(),
                    },
                    SdesItem {
                        kind: SdesItem::NOTE,
                        value: vec![b'n'; 300],
                    },
                ],
            }],
        };
        let mut out = Vec::new();
        long.write_to(&mut out);
        let back = Sdes::parse(&out).unwrap();
        assert_eq!(
            back.chunks[0].items,
            [SdesItem {
                kind: SdesItem::NOTE,
                value: vec![b'n'; 255]
            }]
        );
        let many = Sdes {
            chunks: (0..40)
                .map(|i| SdesChunk {
                    ssrc: i,
                    items: vec![],
                })
                .collect(),
        };
        let mut out = Vec::new();
        many.write_to(&mut out);
        assert_eq!(Sdes::parse(&out).unwrap().chunks.len(), 31);
    }

    #[test]
    fn lenient_and_strict_parts() {
        // The item list may run to the end of the packet without a null octet.
        let pkt = [0x81, 202, 0, 2, 0, 0, 0, 7, 1, 2, b'h', b'i'];
        assert_eq!(Sdes::parse(&pkt), Ok(Sdes::cname(7, "hi")));
        // An item longer than the packet is an error.
        let pkt = [0x81, 202, 0, 2, 0, 0, 0, 7, 1, 9, b'h', b'i'];
        assert_eq!(Sdes::parse(&pkt), Err(RtcpError::BadLength));
        let pkt = [0x81, 202, 0, 1, 0, 0, 0, 7];
        assert_eq!(Sdes::parse(&pkt).unwrap().chunks[0].items, []);
        let pkt = [0x81, 202, 0, 2, 0, 0, 0, 7, 0, 0, 0, 1];
        assert_eq!(
            Sdes::parse(&pkt),
            Ok(Sdes {
                chunks: vec![SdesChunk {
                    ssrc: 7,
                    items: vec![]
                }]
            })
        );
        // A second announced chunk that is missing.
        let pkt = [0x82, 202, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0];
        assert_eq!(Sdes::parse(&pkt), Err(RtcpError::TooShort));
    }

    pub(crate) fn arb_sdes() -> impl Strategy<Value = Sdes> {
        let item = (1u8.., proptest::collection::vec(any::<u8>(), 0..=255))
            .prop_map(|(kind, value)| SdesItem { kind, value });
        let chunk = (any::<u32>(), proptest::collection::vec(item, 0..4))
            .prop_map(|(ssrc, items)| SdesChunk { ssrc, items });
        proptest::collection::vec(chunk, 0..=31).prop_map(|chunks| Sdes { chunks })
    }

    proptest! {
        #[test]
        fn round_trip(sdes in arb_sdes()) {
            let mut out = Vec::new();
            sdes.write_to(&mut out);
            prop_assert_eq!(out.len() % 4, 0);
            prop_assert_eq!(Sdes::parse(&out), Ok(sdes));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = Sdes::parse(&data);
        }
    }
}
