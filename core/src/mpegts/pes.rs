//! PES packet headers (ISO/IEC 13818-1 §2.4.3.6) and the 90 kHz, 33-bit timestamps they carry.

/// stream_id of the first video stream (0xE0..=0xEF).
pub const STREAM_ID_VIDEO: u8 = 0xE0;
/// stream_id of the first MPEG audio stream (0xC0..=0xDF).
pub const STREAM_ID_AUDIO: u8 = 0xC0;
/// stream_id private_stream_1 (Opus).
pub const STREAM_ID_PRIVATE_1: u8 = 0xBD;

/// 2^33: PTS, DTS and the PCR base wrap at this value.
pub const TIMESTAMP_WRAP: u64 = 1 << 33;

/// Converts a timestamp in a `clock_rate` Hz clock to the 90 kHz clock, rounding down and
/// wrapping at 2^33 (negative values wrap too). A zero clock rate is treated as 90 kHz.
pub fn to_90khz(ts: i64, clock_rate: u32) -> u64 {
    let t = if clock_rate == 90_000 || clock_rate == 0 {
        i128::from(ts)
    } else {
        (i128::from(ts) * 90_000).div_euclid(i128::from(clock_rate))
    };
    // rem_euclid of a positive modulus is in 0..2^33.
    t.rem_euclid(i128::from(TIMESTAMP_WRAP)) as u64
}

/// The 5-byte encoding of a PTS or DTS with its 4-bit prefix and marker bits.
pub fn timestamp_field(prefix: u8, ts: u64) -> [u8; 5] {
    let t = ts & (TIMESTAMP_WRAP - 1);
    [
        (prefix << 4) | (((t >> 30) as u8 & 0x07) << 1) | 1,
        (t >> 22) as u8,
        (((t >> 15) as u8) << 1) | 1,
        (t >> 7) as u8,
        ((t as u8) << 1) | 1,
    ]
}

/// The largest PES header [`header`] writes (PTS and DTS).
pub const MAX_HEADER_LEN: usize = 19;

/// The size of the PES header [`header`] writes with or without a DTS.
pub fn header_len(with_dts: bool) -> usize {
    9 + if with_dts { 10 } else { 5 }
}

/// A PES header (data_alignment_indicator set, PTS and optionally DTS) for a payload of
/// `payload_len` bytes, as a buffer and the length used ([`header_len`]). PES_packet_length is
/// 0 ("unbounded", allowed for video only) when the packet would exceed 65535 bytes and
/// `unbounded_ok`; `None` when it would and unbounded is not allowed.
pub fn header(
    stream_id: u8,
    pts: u64,
    dts: Option<u64>,
    payload_len: usize,
    unbounded_ok: bool,
) -> Option<([u8; MAX_HEADER_LEN], usize)> {
    let header_data_len: u8 = if dts.is_some() { 10 } else { 5 };
    let packet_len = (3 + usize::from(header_data_len)).saturating_add(payload_len);
    let packet_len = match u16::try_from(packet_len) {
        Ok(l) => l,
        Err(_) if unbounded_ok => 0,
        Err(_) => return None,
    };
    let mut h = [0u8; MAX_HEADER_LEN];
    h[..4].copy_from_slice(&[0x00, 0x00, 0x01, stream_id]);
    h[4..6].copy_from_slice(&packet_len.to_be_bytes());
    // '10', not scrambled, no priority, data_alignment_indicator 1, no copyright, copy.
    h[6] = 0x84;
    h[7] = if dts.is_some() { 0xC0 } else { 0x80 };
    h[8] = header_data_len;
    match dts {
        Some(dts) => {
            h[9..14].copy_from_slice(&timestamp_field(0b0011, pts));
            h[14..19].copy_from_slice(&timestamp_field(0b0001, dts));
        }
        None => h[9..14].copy_from_slice(&timestamp_field(0b0010, pts)),
    }
    Some((h, header_len(dts.is_some())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_to_90khz() {
        assert_eq!(to_90khz(90_000, 90_000), 90_000);
        assert_eq!(to_90khz(48_000, 48_000), 90_000);
        assert_eq!(to_90khz(1024, 44_100), 2089); // 2089.79 rounded down
        assert_eq!(to_90khz(-1, 90_000), TIMESTAMP_WRAP - 1);
        assert_eq!(to_90khz(1 << 33, 90_000), 0);
        assert_eq!(
            to_90khz(i64::MAX, 1),
            (i128::from(i64::MAX) * 90_000 % (1i128 << 33)) as u64
        );
        assert_eq!(
            to_90khz(i64::MIN, 7),
            to_90khz(i64::MIN, 7) % TIMESTAMP_WRAP
        );
        assert_eq!(to_90khz(5, 0), 5);
    }

    #[test]
    fn pts_only_header_is_byte_exact() {
        // PTS 90000 = 0x15F90: 0x21, then (2 << 1) | 1, then (0x5F90 << 1) | 1.
        let (h, len) = header(0xC0, 90_000, None, 100, false).unwrap();
        assert_eq!(
            &h[..len],
            [0x00, 0x00, 0x01, 0xC0, 0x00, 0x6C, 0x84, 0x80, 0x05, 0x21, 0x00, 0x05, 0xBF, 0x21]
        );
        assert_eq!(len, header_len(false));
    }

    #[test]
    fn pts_dts_header_is_byte_exact() {
        // PTS 0x1_2345_6789 (33 bits), DTS 3600.
        let (h, len) = header(0xE0, 0x1_2345_6789, Some(3600), 70_000, true).unwrap();
        assert_eq!(
            &h[..len],
            [
                0x00, 0x00, 0x01, 0xE0, 0x00, 0x00, 0x84, 0xC0, 0x0A, //
                0x39, 0x8D, 0x15, 0xCF, 0x13, // PTS '0011' (computed independently)
                0x11, 0x00, 0x01, 0x1C, 0x21, // DTS '0001', 3600 = 0xE10
            ]
        );
        assert_eq!(len, header_len(true));
        // Audio cannot be unbounded.
        assert!(header(0xC0, 0, None, 65_535 - 8, false).is_some());
        assert!(header(0xC0, 0, None, 65_535 - 7, false).is_none());
        assert!(header(0xC0, 0, None, usize::MAX, false).is_none());
    }
}
