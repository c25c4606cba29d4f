//! Conversions between RTMP milliseconds and track clocks (see the module documentation of
//! [`super`] for the rules).

/// The largest composition time offset an SI24 field holds (ms).
pub(crate) const MAX_CTS_MS: i64 = (1 << 23) - 1;

/// Saturates an `i128` into `i64`.
fn saturate(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Milliseconds → ticks of a `clock_rate` Hz clock, rounded down (exact for 90 kHz, 48 kHz).
pub(crate) fn ms_to_ticks(ms: i64, clock_rate: u32) -> i64 {
    let rate = i128::from(clock_rate.max(1));
    saturate((i128::from(ms) * rate).div_euclid(1000))
}

/// Ticks of a `clock_rate` Hz clock → milliseconds, rounded to the nearest (halves up).
pub(crate) fn ticks_to_ms(ticks: i64, clock_rate: u32) -> i64 {
    let rate = i128::from(clock_rate.max(1));
    saturate((i128::from(ticks) * 1000 + rate / 2).div_euclid(rate))
}

/// The composition time offset to send for a unit: `ms(pts) − ms(dts)`, clamped to
/// `0..=MAX_CTS_MS` (a pts before its dts is invalid; see [`super`]).
pub(crate) fn cts_ms(pts: i64, dts: i64, clock_rate: u32) -> i32 {
    let d = ticks_to_ms(pts, clock_rate).saturating_sub(ticks_to_ms(dts, clock_rate));
    d.clamp(0, MAX_CTS_MS) as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn conversions() {
        assert_eq!(ms_to_ticks(1000, 90_000), 90_000);
        assert_eq!(ms_to_ticks(21, 44_100), 926);
        assert_eq!(ms_to_ticks(-1, 44_100), -45);
        assert_eq!(ticks_to_ms(926, 44_100), 21);
        assert_eq!(ticks_to_ms(1024, 44_100), 23);
        assert_eq!(ticks_to_ms(45, 90_000), 1);
        assert_eq!(ticks_to_ms(44, 90_000), 0);
        assert_eq!(ticks_to_ms(i64::MIN, 1), i64::MIN);
        assert_eq!(ms_to_ticks(i64::MAX, 90_000), i64::MAX);
        assert_eq!(ms_to_ticks(i64::MIN, 90_000), i64::MIN);
        assert_eq!(ms_to_ticks(5, 0), 0);
        assert_eq!(cts_ms(90 * 80, 0, 90_000), 80);
        assert_eq!(cts_ms(0, 9000, 90_000), 0);
        assert_eq!(cts_ms(i64::MAX, 0, 90_000), MAX_CTS_MS as i32);
    }

    /// The clock rates the property tests use.
    fn rates() -> impl Strategy<Value = u32> {
        prop::sample::select(vec![
            8000u32, 11_025, 16_000, 22_050, 44_100, 48_000, 90_000, 96_000,
        ])
    }

    proptest! {
        #[test]
        fn ms_survive_a_trip_through_any_clock(ms in -(1i64 << 50)..(1i64 << 50), rate in rates()) {
            prop_assert_eq!(ticks_to_ms(ms_to_ticks(ms, rate), rate), ms);
        }

        #[test]
        fn ticks_move_at_most_half_a_ms(t in -(1i64 << 50)..(1i64 << 50), rate in rates()) {
            let back = ms_to_ticks(ticks_to_ms(t, rate), rate);
            let error = (i128::from(back) - i128::from(t)).abs() * 2000;
            prop_assert!(error <= i128::from(rate) + 2000, "{} {}", t, back);
        }
    }
}
