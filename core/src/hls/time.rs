//! Time arithmetic of the HLS muxer: track clocks to nanoseconds and back (never overflowing),
//! playlist decimals, and EXT-X-PROGRAM-DATE-TIME in ISO 8601 UTC.

use std::fmt::Write;

/// Nanoseconds in a second.
pub(super) const NS_PER_SEC: i64 = 1_000_000_000;

/// Saturates an i128 into an i64.
fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

/// A timestamp in a `rate` Hz clock, in nanoseconds (rounded down, saturating).
pub(super) fn ts_to_ns(ts: i64, rate: u32) -> i64 {
    let rate = i128::from(rate.max(1));
    saturate((i128::from(ts) * i128::from(NS_PER_SEC)).div_euclid(rate))
}

/// Nanoseconds in a `rate` Hz clock (rounded down, saturating).
pub(super) fn ns_to_ts(ns: i64, rate: u32) -> i64 {
    saturate((i128::from(ns) * i128::from(rate.max(1))).div_euclid(i128::from(NS_PER_SEC)))
}

/// A non-negative duration in 10 µs units, rounded half up (negative durations are 0).
fn ten_us_units(ns: i64) -> u64 {
    // Non-negative after max(0).
    (ns.max(0) as u64 / 5_000).div_ceil(2)
}

/// A duration in nanoseconds as the playlists write it: seconds with 5 decimals, rounded to
/// the nearest 10 µs (negative durations are written as 0).
pub(super) fn seconds(ns: i64) -> String {
    let units = ten_us_units(ns);
    format!("{}.{:05}", units / 100_000, units % 100_000)
}

/// A duration in nanoseconds rounded as [`seconds`] writes it, then up to whole seconds.
pub(super) fn ceil_seconds(ns: i64) -> u64 {
    ten_us_units(ns).div_ceil(100_000)
}

/// The civil date (year, month, day) of a day count since 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // 0..=365
    let mp = (5 * doy + 2) / 153; // 0..=11
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Appends a Unix time in milliseconds as ISO 8601 UTC with milliseconds
/// (`2026-11-24T06:00:00.000Z`).
pub(super) fn write_date_time(out: &mut String, unix_ms: i64) {
    let days = unix_ms.div_euclid(86_400_000);
    let ms = unix_ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(ms: i64) -> String {
        let mut s = String::new();
        write_date_time(&mut s, ms);
        s
    }

    #[test]
    fn dates() {
        assert_eq!(date(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(date(-1), "1969-12-31T23:59:59.999Z");
        // `date -u -d @1795500000 +%FT%T` → 2026-11-24T06:00:00.
        assert_eq!(date(1_795_500_000_123), "2026-11-24T06:00:00.123Z");
        assert_eq!(date(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(date(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
        // Extremes do not panic.
        assert!(date(i64::MAX).ends_with(".807Z"));
        assert!(date(i64::MIN).ends_with('Z'));
    }

    #[test]
    fn decimals() {
        assert_eq!(seconds(1_000_000_000), "1.00000");
        assert_eq!(seconds(200_000_000), "0.20000");
        assert_eq!(seconds(23_219_954), "0.02322");
        assert_eq!(seconds(4_999), "0.00000");
        assert_eq!(seconds(5_000), "0.00001");
        assert_eq!(seconds(-5), "0.00000");
        assert_eq!(ceil_seconds(1_000_000_000), 1);
        assert_eq!(ceil_seconds(1_000_004_000), 1);
        assert_eq!(ceil_seconds(1_000_005_000), 2);
        assert_eq!(ceil_seconds(0), 0);
        assert_eq!(ceil_seconds(i64::MAX), 9_223_372_037);
    }

    #[test]
    fn clocks() {
        assert_eq!(ts_to_ns(90_000, 90_000), NS_PER_SEC);
        assert_eq!(ts_to_ns(1024, 44_100), 23_219_954);
        assert_eq!(ns_to_ts(NS_PER_SEC, 48_000), 48_000);
        assert_eq!(ts_to_ns(i64::MAX, 1), i64::MAX);
        assert_eq!(ts_to_ns(i64::MIN, 1), i64::MIN);
        assert_eq!(ns_to_ts(i64::MIN, 0), -9_223_372_037);
        assert_eq!(ts_to_ns(-1, 90_000), -11_112);
    }
}
