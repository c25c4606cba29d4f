//! The sender report (SR, packet type 200; RFC 3550 §6.4.1) and NTP timestamps.

use super::header::{begin, finish, read_u32, Header, RtcpError, PT_SR};
use super::report_block::{parse_blocks, write_blocks, ReportBlock};
use smallvec::SmallVec;

/// Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01).
pub const NTP_UNIX_OFFSET_SECS: u64 = 2_208_988_800;

/// Length of the sender info (SSRC of sender through sender's octet count) in bytes.
const SENDER_INFO_LEN: usize = 24;

/// The 64-bit NTP fixed-point timestamp (32.32, epoch 1900, seconds modulo 2^32) of a Unix time.
pub fn ntp_from_unix(secs: u64, nanos: u32) -> u64 {
    let secs = secs
        .wrapping_add(u64::from(nanos / 1_000_000_000))
        .wrapping_add(NTP_UNIX_OFFSET_SECS);
    let fraction = (u64::from(nanos % 1_000_000_000) << 32) / 1_000_000_000;
    (secs << 32) | fraction
}

/// A sender report: transmission statistics of an active sender plus reception report blocks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SenderReport {
    /// The sender's synchronization source.
    pub ssrc: u32,
    /// The wallclock time the report was sent, as a 64-bit NTP timestamp.
    pub ntp_timestamp: u64,
    /// The same instant in the RTP timestamp units of the sender's stream.
    pub rtp_timestamp: u32,
    /// RTP data packets sent since the start of transmission.
    pub packet_count: u32,
    /// RTP payload octets sent since the start of transmission.
    pub octet_count: u32,
    /// Reception report blocks (at most 31 are written).
    pub reports: SmallVec<[ReportBlock; 2]>,
}

impl SenderReport {
    /// Parses `buf` as one SR packet (bytes after it are ignored; profile-specific extensions
    /// after the report blocks are skipped).
    pub fn parse(buf: &[u8]) -> Result<SenderReport, RtcpError> {
        let h = Header::parse_type(buf, PT_SR)?;
        let body = h.body;
        let word = |at| read_u32(body, at).ok_or(RtcpError::TooShort);
        let info = body.get(..SENDER_INFO_LEN).ok_or(RtcpError::TooShort)?;
        Ok(SenderReport {
            ssrc: word(0)?,
            ntp_timestamp: (u64::from(word(4)?) << 32) | u64::from(word(8)?),
            rtp_timestamp: word(12)?,
            packet_count: word(16)?,
            octet_count: word(20)?,
            reports: parse_blocks(&body[info.len()..], h.count)?,
        })
    }

    /// Appends the packet (header with the right count and length; at most 31 report blocks).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        let start = begin(out);
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&self.ntp_timestamp.to_be_bytes());
        out.extend_from_slice(&self.rtp_timestamp.to_be_bytes());
        out.extend_from_slice(&self.packet_count.to_be_bytes());
        out.extend_from_slice(&self.octet_count.to_be_bytes());
        let count = write_blocks(&self.reports, out);
        finish(out, start, count, PT_SR);
    }

    /// The middle 32 bits of the NTP timestamp: what a receiver echoes as LSR.
    pub fn ntp_middle(&self) -> u32 {
        (self.ntp_timestamp >> 16) as u32
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::report_block::tests::arb_block;
    use super::*;
    use proptest::prelude::*;
    use smallvec::smallvec;

    /// An SR with one report block, laid out as in RFC 3550 §6.4.1.
    const SR: [u8; 52] = [
        0x81, 200, 0x00, 0x0c, // V=2, RC=1, PT=SR, length 12 (13 words)
        0xde, 0xad, 0xbe, 0xef, // SSRC of sender
        0x83, 0xaa, 0x7e, 0x80, 0x80, 0x00, 0x00, 0x00, // NTP timestamp
        0x00, 0x01, 0x5f, 0x90, // RTP timestamp 90000
        0x00, 0x00, 0x00, 0x64, // sender's packet count 100
        0x00, 0x00, 0x27, 0x10, // sender's octet count 10000
        0x01, 0x02, 0x03, 0x04, // SSRC_1
        0x00, 0x00, 0x00, 0x05, // fraction lost 0, cumulative lost 5
        0x00, 0x00, 0x03, 0xe8, // extended highest sequence number 1000
        0x00, 0x00, 0x00, 0x07, // jitter
        0x7e, 0x80, 0x80, 0x00, // LSR
        0x00, 0x00, 0x40, 0x00, // DLSR 0.25 s
    ];

    fn sr() -> SenderReport {
        SenderReport {
            ssrc: 0xdead_beef,
            ntp_timestamp: ntp_from_unix(0, 500_000_000),
            rtp_timestamp: 90_000,
            packet_count: 100,
            octet_count: 10_000,
            reports: smallvec![ReportBlock {
                ssrc: 0x0102_0304,
                fraction_lost: 0,
                cumulative_lost: 5,
                highest_seq: 1000,
                jitter: 7,
                last_sr: 0x7e80_8000,
                delay_since_last_sr: 0x4000,
            }],
        }
    }

    #[test]
    fn byte_exact_both_ways() {
        assert_eq!(SenderReport::parse(&SR), Ok(sr()));
        let mut out = Vec::new();
        sr().write_to(&mut out);
        assert_eq!(out, SR);
        assert_eq!(sr().ntp_middle(), 0x7e80_8000);
    }

    #[test]
    fn without_blocks_is_28_bytes() {
        let mut out = Vec::new();
        SenderReport {
            reports: SmallVec::new(),
            ..sr()
        }
        .write_to(&mut out);
        assert_eq!(out.len(), 28);
        assert_eq!(&out[..4], &[0x80, 200, 0, 6]);
    }

    #[test]
    fn skips_profile_extensions_and_padding() {
        let mut pkt = SR.to_vec();
        pkt[0] |= 0x20;
        pkt[3] += 2;
        pkt.extend_from_slice(&[1, 2, 3, 4, 0, 0, 0, 4]);
        assert_eq!(SenderReport::parse(&pkt), Ok(sr()));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(SenderReport::parse(&SR[..51]), Err(RtcpError::BadLength));
        let mut short = SR[..28].to_vec();
        short[3] = 6;
        assert_eq!(SenderReport::parse(&short), Err(RtcpError::TooShort));
        short[0] = 0x80;
        short[3] = 5;
        assert_eq!(SenderReport::parse(&short[..24]), Err(RtcpError::TooShort));
        let mut rr = SR;
        rr[1] = 201;
        assert_eq!(
            SenderReport::parse(&rr),
            Err(RtcpError::WrongType {
                expected: 200,
                found: 201
            })
        );
    }

    #[test]
    fn ntp_conversion() {
        assert_eq!(ntp_from_unix(0, 0), NTP_UNIX_OFFSET_SECS << 32);
        assert_eq!(ntp_from_unix(0, 500_000_000), 0x83aa_7e80_8000_0000);
        assert_eq!(
            ntp_from_unix(1_700_000_000, 250_000_000),
            0xe8fe_6f80_4000_0000
        );
        // Nanoseconds past one second carry into the seconds.
        assert_eq!(
            ntp_from_unix(0, 1_500_000_000),
            ntp_from_unix(1, 500_000_000)
        );
        // Seconds wrap modulo 2^32 (NTP era 1 starts in 2036).
        assert_eq!(ntp_from_unix((1 << 32) - NTP_UNIX_OFFSET_SECS, 0), 0);
        let _ = ntp_from_unix(u64::MAX, u32::MAX);
    }

    pub(crate) fn arb_sr() -> impl Strategy<Value = SenderReport> {
        (
            any::<(u32, u64, u32, u32, u32)>(),
            proptest::collection::vec(arb_block(), 0..=31),
        )
            .prop_map(
                |((ssrc, ntp_timestamp, rtp_timestamp, packet_count, octet_count), reports)| {
                    SenderReport {
                        ssrc,
                        ntp_timestamp,
                        rtp_timestamp,
                        packet_count,
                        octet_count,
                        reports: reports.into(),
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn round_trip(sr in arb_sr()) {
            let mut out = Vec::new();
            sr.write_to(&mut out);
            prop_assert_eq!(out.len(), 28 + 24 * sr.reports.len());
            prop_assert_eq!(SenderReport::parse(&out), Ok(sr));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..128)) {
            let _ = SenderReport::parse(&data);
        }
    }
}
