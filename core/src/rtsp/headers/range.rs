//! The `Range` header (RFC 2326 §12.29, §3.6): the time range of a PLAY, RECORD or PAUSE.
//!
//! Normal play time (`npt=`) is parsed into numbers; the `smpte` and `clock` formats, which weir
//! only passes through, are kept as text. A `;time=` parameter after an `npt` range is ignored.

use super::HeaderError;

/// The start of an NPT range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NptTime {
    /// `now`: the live point.
    Now,
    /// Seconds from the start of the presentation.
    Seconds(f64),
}

/// A parsed `Range` header.
#[derive(Debug, Clone, PartialEq)]
pub enum RangeHeader {
    /// `npt=start-[end]`; a missing start (`npt=-20`) reads as 0.
    Npt {
        /// Where to start.
        start: NptTime,
        /// Where to stop, if given (seconds).
        end: Option<f64>,
    },
    /// Any other unit (`smpte=…`, `clock=…`), kept verbatim (trimmed).
    Other(String),
}

/// Builds the error for this header.
fn bad(reason: &'static str) -> HeaderError {
    HeaderError {
        header: "Range",
        reason,
    }
}

/// Whether `s` is `1*DIGIT ["." *DIGIT]` (a leading `.` is tolerated).
fn is_decimal(s: &str) -> bool {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    !(int.is_empty() && frac.is_empty())
        && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
}

/// Parses an NPT time in seconds: `123.45` or `hh:mm:ss[.frac]`.
fn npt_seconds(s: &str) -> Result<f64, HeaderError> {
    let number = |s: &str| is_decimal(s).then(|| s.parse::<f64>().ok()).flatten();
    let parts: Vec<&str> = s.split(':').collect();
    let seconds = match parts[..] {
        [sec] => number(sec),
        [h, m, sec] => {
            let small = |v: f64| (v < 60.0).then_some(v);
            let whole = |s: &str| (!s.contains('.')).then(|| number(s)).flatten();
            match (
                whole(h),
                whole(m).and_then(small),
                number(sec).and_then(small),
            ) {
                (Some(h), Some(m), Some(sec)) => Some(h * 3600.0 + m * 60.0 + sec),
                _ => None,
            }
        }
        _ => None,
    };
    seconds.filter(|v| v.is_finite()).ok_or(bad("bad npt time"))
}

impl RangeHeader {
    /// Parses `npt=0.000-`, `npt=now-`, `npt=10-20.5`, `npt=00:01:02.5-`, `npt=-20`, or keeps
    /// another unit as [`RangeHeader::Other`].
    pub fn parse(v: &str) -> Result<RangeHeader, HeaderError> {
        let v = v.trim();
        let (unit, spec) = v.split_once('=').ok_or(bad("expected unit=range"))?;
        let unit = unit.trim();
        if !unit.eq_ignore_ascii_case("npt") {
            let token = !unit.is_empty()
                && unit
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            return if token {
                Ok(RangeHeader::Other(v.to_owned()))
            } else {
                Err(bad("bad unit"))
            };
        }
        let spec = spec.split(';').next().unwrap_or_default();
        let (start, end) = spec.split_once('-').ok_or(bad("npt range has no '-'"))?;
        let (start, end) = (start.trim(), end.trim());
        let start = if start.eq_ignore_ascii_case("now") {
            NptTime::Now
        } else if start.is_empty() {
            if end.is_empty() {
                return Err(bad("npt range has neither start nor end"));
            }
            NptTime::Seconds(0.0)
        } else {
            NptTime::Seconds(npt_seconds(start)?)
        };
        let end = if end.is_empty() {
            None
        } else {
            Some(npt_seconds(end)?)
        };
        Ok(RangeHeader::Npt { start, end })
    }
}

impl std::fmt::Display for RangeHeader {
    /// Writes `npt=` ranges with millisecond precision (`npt=0.000-`, `npt=now-`,
    /// `npt=10.000-20.500`) and other units verbatim.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeHeader::Npt { start, end } => {
                match start {
                    NptTime::Now => f.write_str("npt=now-")?,
                    NptTime::Seconds(s) => write!(f, "npt={s:.3}-")?,
                }
                match end {
                    Some(e) => write!(f, "{e:.3}"),
                    None => Ok(()),
                }
            }
            RangeHeader::Other(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::testdata::header;
    use proptest::prelude::*;

    fn npt(start: NptTime, end: Option<f64>) -> RangeHeader {
        RangeHeader::Npt { start, end }
    }

    #[test]
    fn canonical_table_both_ways() {
        let table = [
            ("npt=0.000-", npt(NptTime::Seconds(0.0), None)),
            ("npt=now-", npt(NptTime::Now, None)),
            ("npt=10.000-20.500", npt(NptTime::Seconds(10.0), Some(20.5))),
            (
                "smpte=10:07:00-10:07:33:05.01",
                RangeHeader::Other("smpte=10:07:00-10:07:33:05.01".into()),
            ),
            (
                "clock=19961108T142300Z-19961108T143520Z",
                RangeHeader::Other("clock=19961108T142300Z-19961108T143520Z".into()),
            ),
        ];
        for (text, r) in table {
            assert_eq!(r.to_string(), text);
            assert_eq!(RangeHeader::parse(text), Ok(r), "{text}");
        }
    }

    #[test]
    fn lenient_forms() {
        let table = [
            ("npt=0-", npt(NptTime::Seconds(0.0), None)),
            ("npt=10-20.5", npt(NptTime::Seconds(10.0), Some(20.5))),
            ("npt=00:01:02.5-", npt(NptTime::Seconds(62.5), None)),
            (
                "npt=1:00:00-1:00:01",
                npt(NptTime::Seconds(3600.0), Some(3601.0)),
            ),
            ("NPT = NOW -", npt(NptTime::Now, None)),
            ("npt=-20", npt(NptTime::Seconds(0.0), Some(20.0))),
            ("npt=5.-", npt(NptTime::Seconds(5.0), None)),
            (
                "npt=0-;time=19970123T143720Z",
                npt(NptTime::Seconds(0.0), None),
            ),
        ];
        for (text, r) in table {
            assert_eq!(RangeHeader::parse(text), Ok(r), "{text}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for v in [
            "",
            "npt",
            "npt=",
            "npt=-",
            "npt=5",
            "npt=a-",
            "npt=-1-",
            "npt=1e3-",
            "npt=0:60:00-",
            "npt=0-now",
            "npt=1:2-",
            "=0-",
            "a b=1",
        ] {
            assert!(RangeHeader::parse(v).is_err(), "{v:?}");
        }
    }

    /// Wowza answers PLAY with a closed range `npt=0.0-596.48`.
    #[test]
    fn wowza() {
        let r = RangeHeader::parse(header("client_bunny_play.txt", "Range"));
        assert_eq!(r, Ok(npt(NptTime::Seconds(0.0), Some(596.48))));
    }

    /// Dahua writes six decimals; H264DVR answers `npt=now-`.
    #[test]
    fn dahua_h264dvr() {
        assert_eq!(
            RangeHeader::parse(header("client_dahua_play.txt", "Range")),
            Ok(npt(NptTime::Seconds(0.0), None))
        );
        assert_eq!(
            RangeHeader::parse(header("client_h264dvr_play.txt", "Range")),
            Ok(npt(NptTime::Now, None))
        );
    }

    proptest! {
        #[test]
        fn round_trips(start in proptest::option::of(0u64..1_000_000_000),
                       end in proptest::option::of(0u64..1_000_000_000)) {
            let start = start.map_or(NptTime::Now, |ms| NptTime::Seconds(ms as f64 / 1000.0));
            let r = npt(start, end.map(|ms| ms as f64 / 1000.0));
            prop_assert_eq!(RangeHeader::parse(&r.to_string()), Ok(r));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}", t in "npt=[0-9:.now-]{0,20}") {
            let _ = RangeHeader::parse(&s);
            let _ = RangeHeader::parse(&t);
        }
    }
}
