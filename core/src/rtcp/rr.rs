//! The receiver report (RR, packet type 201; RFC 3550 §6.4.2).

use super::header::{begin, finish, read_u32, Header, RtcpError, PT_RR};
use super::report_block::{parse_blocks, write_blocks, ReportBlock};
use smallvec::SmallVec;

/// A receiver report: reception report blocks from a participant that is not sending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReceiverReport {
    /// The reporter's synchronization source (SSRC of packet sender).
    pub ssrc: u32,
    /// Reception report blocks (at most 31 are written; none is valid).
    pub reports: SmallVec<[ReportBlock; 2]>,
}

impl ReceiverReport {
    /// Parses `buf` as one RR packet (bytes after it are ignored; profile-specific extensions
    /// after the report blocks are skipped).
    pub fn parse(buf: &[u8]) -> Result<ReceiverReport, RtcpError> {
        let h = Header::parse_type(buf, PT_RR)?;
        let ssrc = read_u32(h.body, 0).ok_or(RtcpError::TooShort)?;
        let reports = parse_blocks(h.body.get(4..).unwrap_or_default(), h.count)?;
        Ok(ReceiverReport { ssrc, reports })
    }

    /// Appends the packet (header with the right count and length; at most 31 report blocks).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let start = begin(out);
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        let count = write_blocks(&self.reports, out);
        finish(out, start, count, PT_RR);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::report_block::tests::arb_block;
    use super::*;
    use proptest::prelude::*;
    use smallvec::smallvec;

    /// An RR with two report blocks, laid out as in RFC 3550 §6.4.2.
    const RR: [u8; 56] = [
        0x82, 201, 0x00, 0x0d, // V=2, RC=2, PT=RR, length 13 (14 words)
        0x00, 0x00, 0x00, 0x01, // SSRC of packet sender
        0x00, 0x00, 0x00, 0x0a, // SSRC_1
        0x80, 0xff, 0xff, 0xff, // fraction lost 128/256, cumulative lost -1
        0x00, 0x02, 0x00, 0x05, // extended highest sequence number
        0x00, 0x00, 0x01, 0x00, // jitter
        0x00, 0x00, 0x00, 0x00, // LSR: no SR received yet
        0x00, 0x00, 0x00, 0x00, // DLSR
        0x00, 0x00, 0x00, 0x0b, // SSRC_2
        0x00, 0x00, 0x00, 0x00, // nothing lost
        0x00, 0x00, 0xff, 0xff, // extended highest sequence number
        0x00, 0x00, 0x00, 0x00, // jitter
        0x11, 0x22, 0x33, 0x44, // LSR
        0x00, 0x02, 0x00, 0x00, // DLSR 2 s
    ];

    fn rr() -> ReceiverReport {
        ReceiverReport {
            ssrc: 1,
            reports: smallvec![
                ReportBlock {
                    ssrc: 10,
                    fraction_lost: 128,
                    cumulative_lost: -1,
                    highest_seq: 0x0002_0005,
                    jitter: 256,
                    last_sr: 0,
                    delay_since_last_sr: 0,
                },
                ReportBlock {
                    ssrc: 11,
                    highest_seq: 0xffff,
                    last_sr: 0x1122_3344,
                    delay_since_last_sr: 0x0002_0000,
                    ..ReportBlock::default()
                },
            ],
        }
    }

    #[test]
    fn byte_exact_both_ways() {
        assert_eq!(ReceiverReport::parse(&RR), Ok(rr()));
        let mut out = Vec::new();
        rr().write_to(&mut out);
        assert_eq!(out, RR);
    }

    #[test]
    fn empty_rr() {
        let pkt = [0x80, 201, 0, 1, 0, 0, 0, 9];
        assert_eq!(
            ReceiverReport::parse(&pkt),
            Ok(ReceiverReport {
                ssrc: 9,
                reports: SmallVec::new()
            })
        );
        let mut out = Vec::new();
        ReceiverReport {
            ssrc: 9,
            reports: SmallVec::new(),
        }
        .write_to(&mut out);
        assert_eq!(out, pkt);
    }

    #[test]
    fn writes_at_most_31_blocks() {
        let many = ReceiverReport {
            ssrc: 1,
            reports: (0..40)
                .map(|i| ReportBlock {
                    ssrc: i,
                    ..ReportBlock::default()
                })
                .collect(),
        };
        let mut out = Vec::new();
        many.write_to(&mut out);
        let back = ReceiverReport::parse(&out).unwrap();
        assert_eq!(back.reports.len(), 31);
        assert_eq!(back.reports[..], many.reports[..31]);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            ReceiverReport::parse(&[0x80, 201, 0, 0]),
            Err(RtcpError::TooShort)
        );
        let mut pkt = RR;
        pkt[0] = 0x83;
        assert_eq!(ReceiverReport::parse(&pkt), Err(RtcpError::TooShort));
        assert_eq!(ReceiverReport::parse(&RR[..55]), Err(RtcpError::BadLength));
    }

    pub(crate) fn arb_rr() -> impl Strategy<Value = ReceiverReport> {
        (any::<u32>(), proptest::collection::vec(arb_block(), 0..=31)).prop_map(
            |(ssrc, reports)| ReceiverReport {
                ssrc,
                reports: reports.into(),
            },
        )
    }

    proptest! {
        #[test]
        fn round_trip(rr in arb_rr()) {
            let mut out = Vec::new();
            rr.write_to(&mut out);
            prop_assert_eq!(out.len(), 8 + 24 * rr.reports.len());
            prop_assert_eq!(ReceiverReport::parse(&out), Ok(rr));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = ReceiverReport::parse(&data);
        }
    }
}
