//! The `CSeq` header (RFC 2326 §12.17): the request sequence number echoed in the response.

use super::HeaderError;

/// Parses a `CSeq` value: a decimal number that fits in 32 bits, spaces around it ignored.
pub fn parse_cseq(v: &str) -> Result<u32, HeaderError> {
    let v = v.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HeaderError {
            header: "CSeq",
            reason: "not a decimal number",
        });
    }
    v.parse().map_err(|_| HeaderError {
        header: "CSeq",
        reason: "too large",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::testdata::header;
    use proptest::prelude::*;

    #[test]
    fn parses_numbers() {
        for (v, n) in [
            ("0", 0),
            ("1", 1),
            (" 42 ", 42),
            ("007", 7),
            ("4294967295", u32::MAX),
        ] {
            assert_eq!(parse_cseq(v), Ok(n), "{v:?}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for v in [
            "",
            " ",
            "-1",
            "+1",
            "1.0",
            "0x1",
            "4294967296",
            "1 2",
            "abc",
        ] {
            assert!(parse_cseq(v).is_err(), "{v:?}");
        }
    }

    /// Longse sends `CSeq: 1 ` with a trailing space; H264DVR and VStarcam spell it `Cseq`.
    #[test]
    fn longse_h264dvr_vstarcam() {
        assert_eq!(
            parse_cseq(header("client_longse_unauthorized.txt", "CSeq")),
            Ok(1)
        );
        assert_eq!(parse_cseq(header("client_h264dvr_play.txt", "CSeq")), Ok(6));
        assert_eq!(
            parse_cseq(header("client_vstarcam_describe.txt", "CSeq")),
            Ok(2)
        );
    }

    proptest! {
        #[test]
        fn round_trips(n: u32) {
            prop_assert_eq!(parse_cseq(&n.to_string()), Ok(n));
        }

        #[test]
        fn never_panics(s in "\\PC{0,20}") {
            let _ = parse_cseq(&s);
        }
    }
}
