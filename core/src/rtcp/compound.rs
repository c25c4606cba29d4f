//! Any RTCP packet, and compound packets: several packets stacked in one datagram (RFC 3550 §6.1).

use super::header::{
    begin, finish, packet_len, Header, RtcpError, MAX_PACKET_LEN, PT_BYE, PT_RR, PT_SDES, PT_SR,
};
use super::{Bye, ReceiverReport, Sdes, SenderReport};
use smallvec::SmallVec;

/// One RTCP packet of any type; types weir does not decode are kept as raw bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcpPacket {
    /// A sender report (200).
    SenderReport(SenderReport),
    /// A receiver report (201).
    ReceiverReport(ReceiverReport),
    /// A source description (202).
    Sdes(Sdes),
    /// A goodbye (203).
    Bye(Bye),
    /// Any other packet type (APP, RTPFB, PSFB, XR…), undecoded.
    Other {
        /// The packet type.
        packet_type: u8,
        /// The 5-bit count/subtype field.
        count: u8,
        /// The bytes after the common header, padding removed.
        body: Vec<u8>,
    },
}

impl RtcpPacket {
    /// Parses the first packet in `one_packet` by its type (bytes after it are ignored).
    pub fn parse(one_packet: &[u8]) -> Result<RtcpPacket, RtcpError> {
        let h = Header::parse(one_packet)?;
        Ok(match h.packet_type {
            PT_SR => RtcpPacket::SenderReport(SenderReport::parse(one_packet)?),
            PT_RR => RtcpPacket::ReceiverReport(ReceiverReport::parse(one_packet)?),
            PT_SDES => RtcpPacket::Sdes(Sdes::parse(one_packet)?),
            PT_BYE => RtcpPacket::Bye(Bye::parse(one_packet)?),
            packet_type => RtcpPacket::Other {
                packet_type,
                count: h.count,
                body: h.body.to_vec(),
            },
        })
    }

    /// The packet type number.
    pub fn packet_type(&self) -> u8 {
        match self {
            RtcpPacket::SenderReport(_) => PT_SR,
            RtcpPacket::ReceiverReport(_) => PT_RR,
            RtcpPacket::Sdes(_) => PT_SDES,
            RtcpPacket::Bye(_) => PT_BYE,
            RtcpPacket::Other { packet_type, .. } => *packet_type,
        }
    }

    /// Appends the packet. An `Other` body is zero-padded to a 32-bit boundary (and cut at the
    /// largest length the header can express); its count keeps its low 5 bits.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match self {
            RtcpPacket::SenderReport(p) => p.write_to(out),
            RtcpPacket::ReceiverReport(p) => p.write_to(out),
            RtcpPacket::Sdes(p) => p.write_to(out),
            RtcpPacket::Bye(p) => p.write_to(out),
            RtcpPacket::Other {
                packet_type,
                count,
                body,
            } => {
                let start = begin(out);
                out.extend_from_slice(&body[..body.len().min(MAX_PACKET_LEN - 4)]);
                finish(out, start, *count, *packet_type);
            }
        }
    }
}

/// Walks the packets of a compound datagram without copying: yields each packet's type and its
/// whole bytes (header and padding included). After an error (too short, bad version, a length
/// that overruns the datagram) it yields nothing more. Bodies are not checked; parse each
/// packet for that.
pub fn compound_iter(buf: &[u8]) -> impl Iterator<Item = Result<(u8, &[u8]), RtcpError>> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match packet_len(rest) {
            Ok(len) => {
                let (packet, tail) = rest.split_at(len);
                rest = tail;
                Some(Ok((packet[1], packet)))
            }
            Err(e) => {
                rest = &[];
                Some(Err(e))
            }
        }
    })
}

/// Parses every packet of a compound datagram; fails on the first bad packet, and on an empty
/// datagram ([`RtcpError::TooShort`]). The RFC 3550 §6.1 ordering rules (SR or RR first, SDES
/// with CNAME) are not enforced.
pub fn parse_compound(buf: &[u8]) -> Result<SmallVec<[RtcpPacket; 4]>, RtcpError> {
    if buf.is_empty() {
        return Err(RtcpError::TooShort);
    }
    compound_iter(buf)
        .map(|r| r.and_then(|(_, packet)| RtcpPacket::parse(packet)))
        .collect()
}

/// Appends `packets` one after another as a compound packet.
pub fn write_compound(packets: &[RtcpPacket], out: &mut Vec<u8>) {
    for p in packets {
        p.write_to(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::bye::tests::arb_bye;
    use super::super::rr::tests::arb_rr;
    use super::super::sdes::tests::arb_sdes;
    use super::super::sr::tests::arb_sr;
    use super::super::ReportBlock;
    use super::*;
    use proptest::prelude::*;
    use smallvec::smallvec;

    /// SR (no blocks) + SDES CNAME + APP: what a sender puts in one datagram.
    const COMPOUND: [u8; 60] = [
        0x80, 200, 0x00, 0x06, // SR, length 6
        0x00, 0x00, 0x30, 0x39, // SSRC 12345
        0xe8, 0xfe, 0x6f, 0x80, 0x40, 0x00, 0x00, 0x00, // NTP
        0x00, 0x00, 0x0b, 0xb8, // RTP timestamp 3000
        0x00, 0x00, 0x00, 0x03, // packet count
        0x00, 0x00, 0x04, 0xb0, // octet count 1200
        0x81, 202, 0x00, 0x03, // SDES, SC=1, length 3
        0x00, 0x00, 0x30, 0x39, // SSRC 12345
        1, 4, b'w', b'e', b'i', b'r', 0, 0, // CNAME "weir", null, padding
        0x82, 204, 0x00, 0x03, // APP, subtype 2, length 3
        0x00, 0x00, 0x30, 0x39, // SSRC
        b'w', b'e', b'i', b'r', // name
        1, 2, 3, 4, // application-dependent data
    ];

    fn compound() -> Vec<RtcpPacket> {
        vec![
            RtcpPacket::SenderReport(SenderReport {
                ssrc: 12345,
                ntp_timestamp: super::super::ntp_from_unix(1_700_000_000, 250_000_000),
                rtp_timestamp: 3000,
                packet_count: 3,
                octet_count: 1200,
                reports: SmallVec::new(),
            }),
            RtcpPacket::Sdes(Sdes::cname(12345, "weir")),
            RtcpPacket::Other {
                packet_type: 204,
                count: 2,
                body: vec![0, 0, 0x30, 0x39, b'w', b'e', b'i', b'r', 1, 2, 3, 4],
            },
        ]
    }

    #[test]
    fn byte_exact_both_ways() {
        assert_eq!(parse_compound(&COMPOUND).unwrap().to_vec(), compound());
        let mut out = Vec::new();
        write_compound(&compound(), &mut out);
        assert_eq!(out, COMPOUND);
        let types: Vec<_> = compound_iter(&COMPOUND)
            .map(|r| r.map(|(pt, p)| (pt, p.len())))
            .collect();
        assert_eq!(types, [Ok((200, 28)), Ok((202, 16)), Ok((204, 16))]);
        assert_eq!(
            compound()
                .iter()
                .map(RtcpPacket::packet_type)
                .collect::<Vec<_>>(),
            [200, 202, 204]
        );
    }

    #[test]
    fn receiver_compound_with_bye_and_padding() {
        // RR with one block, then a BYE that carries 4 octets of RTCP padding (P bit).
        let mut buf = Vec::new();
        let rr = ReceiverReport {
            ssrc: 7,
            reports: smallvec![ReportBlock {
                ssrc: 12345,
                ..ReportBlock::default()
            }],
        };
        rr.write_to(&mut buf);
        buf.extend_from_slice(&[0xa1, 203, 0, 2, 0, 0, 0, 7, 0, 0, 0, 4]);
        let got = parse_compound(&buf).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], RtcpPacket::ReceiverReport(rr));
        assert_eq!(
            got[1],
            RtcpPacket::Bye(Bye {
                ssrcs: smallvec![7],
                reason: None
            })
        );
    }

    #[test]
    fn other_body_is_padded() {
        let p = RtcpPacket::Other {
            packet_type: 206,
            count: 33,
            body: vec![1, 2, 3, 4, 5],
        };
        let mut out = Vec::new();
        p.write_to(&mut out);
        assert_eq!(out, [0x81, 206, 0, 2, 1, 2, 3, 4, 5, 0, 0, 0]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse_compound(&[]), Err(RtcpError::TooShort));
        // The second packet's length overruns the datagram.
        let mut buf = COMPOUND[..28].to_vec();
        buf.extend_from_slice(&[0x81, 202, 0, 9, 0, 0, 0, 1]);
        assert_eq!(parse_compound(&buf), Err(RtcpError::BadLength));
        let walked: Vec<_> = compound_iter(&buf).collect();
        assert_eq!(walked.len(), 2);
        assert_eq!(walked[1], Err(RtcpError::BadLength));
        // Trailing bytes too few for a header.
        let mut buf = COMPOUND.to_vec();
        buf.extend_from_slice(&[0x80, 201]);
        assert_eq!(parse_compound(&buf), Err(RtcpError::TooShort));
        // A version other than 2.
        assert_eq!(
            parse_compound(&[0x40, 200, 0, 0]),
            Err(RtcpError::BadVersion(1))
        );
        // A bad body inside a well-framed packet.
        assert_eq!(parse_compound(&[0x81, 200, 0, 0]), Err(RtcpError::TooShort));
    }

    fn arb_packet() -> impl Strategy<Value = RtcpPacket> {
        prop_oneof![
            arb_sr().prop_map(RtcpPacket::SenderReport),
            arb_rr().prop_map(RtcpPacket::ReceiverReport),
            arb_sdes().prop_map(RtcpPacket::Sdes),
            arb_bye().prop_map(RtcpPacket::Bye),
            (
                prop_oneof![0u8..200, 204u8..=255],
                0u8..32,
                proptest::collection::vec(any::<[u8; 4]>(), 0..8)
            )
                .prop_map(|(packet_type, count, words)| RtcpPacket::Other {
                    packet_type,
                    count,
                    body: words.concat(),
                }),
        ]
    }

    proptest! {
        #[test]
        fn packet_round_trip(p in arb_packet()) {
            let mut out = Vec::new();
            p.write_to(&mut out);
            prop_assert_eq!(RtcpPacket::parse(&out), Ok(p));
        }

        #[test]
        fn compound_round_trip(packets in proptest::collection::vec(arb_packet(), 1..5)) {
            let mut out = Vec::new();
            write_compound(&packets, &mut out);
            prop_assert_eq!(parse_compound(&out).map(|v| v.to_vec()), Ok(packets.clone()));
            prop_assert_eq!(compound_iter(&out).count(), packets.len());
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_compound(&data);
            let _ = RtcpPacket::parse(&data);
            for r in compound_iter(&data) {
                if let Ok((_, p)) = r {
                    let _ = RtcpPacket::parse(p);
                }
            }
        }

        #[test]
        fn rtcp_shaped_bytes_never_panic(
            first in 0x80u8..0xc0, pt in 198u8..=206, words in 0u16..16,
            body in proptest::collection::vec(any::<u8>(), 0..80)
        ) {
            let mut data = vec![first, pt];
            data.extend_from_slice(&words.to_be_bytes());
            data.extend_from_slice(&body);
            let _ = parse_compound(&data);
        }
    }
}
