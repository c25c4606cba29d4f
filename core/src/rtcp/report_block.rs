//! The reception report block carried by SR and RR packets (RFC 3550 §6.4.1).

use super::header::{read_u32, RtcpError, MAX_COUNT};
use smallvec::SmallVec;

/// Length of one report block in bytes.
pub const REPORT_BLOCK_LEN: usize = 24;

/// The smallest value the 24-bit signed cumulative-lost field holds.
pub const CUMULATIVE_LOST_MIN: i32 = -0x80_0000;
/// The largest value the 24-bit signed cumulative-lost field holds.
pub const CUMULATIVE_LOST_MAX: i32 = 0x7f_ffff;

/// Reception statistics about one synchronization source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportBlock {
    /// The source these statistics are about (SSRC_n).
    pub ssrc: u32,
    /// Packets lost since the previous report, as a fixed-point fraction of 256.
    pub fraction_lost: u8,
    /// Cumulative number of packets lost (24-bit signed; clamped on write).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received (cycles in the high 16 bits).
    pub highest_seq: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// The middle 32 bits of the NTP timestamp of the last SR received (LSR), or 0.
    pub last_sr: u32,
    /// Delay since that SR in units of 1/65536 s (DLSR), or 0.
    pub delay_since_last_sr: u32,
}

impl ReportBlock {
    /// Parses the first 24 bytes of `buf` as a report block.
    pub fn parse(buf: &[u8]) -> Result<ReportBlock, RtcpError> {
        let b = buf.get(..REPORT_BLOCK_LEN).ok_or(RtcpError::TooShort)?;
        let word = |at| read_u32(b, at).ok_or(RtcpError::TooShort);
        let lost = word(4)?;
        Ok(ReportBlock {
            ssrc: word(0)?,
            fraction_lost: b[4],
            // Shift the 24-bit field to the top, then arithmetic-shift back to sign-extend.
            cumulative_lost: ((lost << 8) as i32) >> 8,
            highest_seq: word(8)?,
            jitter: word(12)?,
            last_sr: word(16)?,
            delay_since_last_sr: word(20)?,
        })
    }

    /// Appends the 24-byte block; `cumulative_lost` is clamped to the 24-bit signed range.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        let lost = self
            .cumulative_lost
            .clamp(CUMULATIVE_LOST_MIN, CUMULATIVE_LOST_MAX);
        let lost = (lost as u32 & 0x00ff_ffff) | (u32::from(self.fraction_lost) << 24);
        out.extend_from_slice(&lost.to_be_bytes());
        out.extend_from_slice(&self.highest_seq.to_be_bytes());
        out.extend_from_slice(&self.jitter.to_be_bytes());
        out.extend_from_slice(&self.last_sr.to_be_bytes());
        out.extend_from_slice(&self.delay_since_last_sr.to_be_bytes());
    }
}

/// Parses `count` consecutive report blocks from the start of `buf`.
pub(crate) fn parse_blocks(buf: &[u8], count: u8) -> Result<SmallVec<[ReportBlock; 2]>, RtcpError> {
    let n = usize::from(count);
    if buf.len() < n * REPORT_BLOCK_LEN {
        return Err(RtcpError::TooShort);
    }
    buf.chunks_exact(REPORT_BLOCK_LEN)
        .take(n)
        .map(ReportBlock::parse)
        .collect()
}

/// Appends at most 31 report blocks (the count field's limit) and returns how many were written.
pub(crate) fn write_blocks(blocks: &[ReportBlock], out: &mut Vec<u8>) -> u8 {
    let n = blocks.len().min(MAX_COUNT);
    for b in &blocks[..n] {
        b.write_to(out);
    }
    n as u8
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    const BLOCK: [u8; 24] = [
        0x12, 0x34, 0x56, 0x78, // SSRC_1
        0x40, 0xff, 0xff, 0xfe, // fraction lost 64/256, cumulative lost -2
        0x00, 0x01, 0x10, 0x00, // extended highest sequence number: 1 cycle, seq 0x1000
        0x00, 0x00, 0x00, 0x2a, // jitter 42
        0xab, 0xcd, 0x12, 0x34, // LSR
        0x00, 0x01, 0x80, 0x00, // DLSR 1.5 s
    ];

    fn block() -> ReportBlock {
        ReportBlock {
            ssrc: 0x1234_5678,
            fraction_lost: 64,
            cumulative_lost: -2,
            highest_seq: 0x0001_1000,
            jitter: 42,
            last_sr: 0xabcd_1234,
            delay_since_last_sr: 0x0001_8000,
        }
    }

    #[test]
    fn byte_exact_both_ways() {
        assert_eq!(ReportBlock::parse(&BLOCK), Ok(block()));
        let mut out = Vec::new();
        block().write_to(&mut out);
        assert_eq!(out, BLOCK);
    }

    #[test]
    fn clamps_cumulative_lost() {
        for (value, wire) in [
            (i32::MAX, [0x7f, 0xff, 0xff]),
            (i32::MIN, [0x80, 0, 0]),
            (0x7f_ffff, [0x7f, 0xff, 0xff]),
        ] {
            let mut out = Vec::new();
            ReportBlock {
                cumulative_lost: value,
                ..block()
            }
            .write_to(&mut out);
            assert_eq!(&out[5..8], &wire);
        }
    }

    #[test]
    fn rejects_short_input() {
        assert_eq!(ReportBlock::parse(&BLOCK[..23]), Err(RtcpError::TooShort));
        assert_eq!(parse_blocks(&BLOCK, 2), Err(RtcpError::TooShort));
        assert_eq!(parse_blocks(&BLOCK, 1).unwrap().len(), 1);
    }

    pub(crate) fn arb_block() -> impl Strategy<Value = ReportBlock> {
        (
            any::<u32>(),
            any::<u8>(),
            CUMULATIVE_LOST_MIN..=CUMULATIVE_LOST_MAX,
            any::<[u32; 4]>(),
        )
            .prop_map(
                |(ssrc, fraction_lost, cumulative_lost, [highest_seq, jitter, last_sr, dlsr])| {
                    ReportBlock {
                        ssrc,
                        fraction_lost,
                        cumulative_lost,
                        highest_seq,
                        jitter,
                        last_sr,
                        delay_since_last_sr: dlsr,
                    }
                },
            )
    }

    proptest! {
        #[test]
        fn round_trip(b in arb_block()) {
            let mut out = Vec::new();
            b.write_to(&mut out);
            prop_assert_eq!(out.len(), REPORT_BLOCK_LEN);
            prop_assert_eq!(ReportBlock::parse(&out), Ok(b));
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64), n: u8) {
            let _ = ReportBlock::parse(&data);
            let _ = parse_blocks(&data, n);
        }
    }
}
