//! The `Session` header (RFC 2326 §12.37): the session id and the server's timeout.

use super::{name_value, HeaderError};

/// A parsed `Session` header: `id[;timeout=seconds]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionHeader<'a> {
    /// The session id (opaque; compared exactly).
    pub id: &'a str,
    /// The timeout in seconds, if given.
    pub timeout: Option<u32>,
}

/// Builds the error for this header.
fn bad(reason: &'static str) -> HeaderError {
    HeaderError {
        header: "Session",
        reason,
    }
}

impl<'a> SessionHeader<'a> {
    /// Parses `id;timeout=60`. Spaces around the parts are ignored (GW cameras send
    /// `9a90de54; timeout=60`), unknown parameters are ignored, the id must be non-empty and free
    /// of spaces, and a `timeout` present must be a decimal number.
    pub fn parse(v: &'a str) -> Result<Self, HeaderError> {
        let mut parts = v.split(';');
        let id = parts.next().unwrap_or_default().trim();
        if id.is_empty() {
            return Err(bad("empty session id"));
        }
        if id.bytes().any(|b| !b.is_ascii_graphic()) {
            return Err(bad("session id holds spaces or control characters"));
        }
        let mut timeout = None;
        for (name, value) in parts.map(name_value) {
            if name.eq_ignore_ascii_case("timeout") {
                let value = value.unwrap_or_default();
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad("timeout is not a decimal number"));
                }
                timeout = Some(value.parse().map_err(|_| bad("timeout too large"))?);
            }
        }
        Ok(SessionHeader { id, timeout })
    }
}

impl std::fmt::Display for SessionHeader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)?;
        match self.timeout {
            Some(t) => write!(f, ";timeout={t}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::testdata::header;
    use proptest::prelude::*;

    #[test]
    fn table_both_ways() {
        let table = [
            ("abc;timeout=60", "abc", Some(60)),
            ("12345678", "12345678", None),
        ];
        for (text, id, timeout) in table {
            let s = SessionHeader { id, timeout };
            assert_eq!(s.to_string(), text);
            assert_eq!(SessionHeader::parse(text), Ok(s));
        }
    }

    #[test]
    fn lenient_forms() {
        let table = [
            ("  abc  ", "abc", None),
            ("abc;TIMEOUT=5", "abc", Some(5)),
            ("abc;foo=bar;timeout=7;", "abc", Some(7)),
            ("abc;timeout = 9", "abc", Some(9)),
        ];
        for (text, id, timeout) in table {
            assert_eq!(
                SessionHeader::parse(text),
                Ok(SessionHeader { id, timeout }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn rejects_garbage() {
        for v in [
            "",
            " ",
            ";timeout=60",
            "a b",
            "abc;timeout=",
            "abc;timeout=x",
            "abc;timeout=99999999999",
        ] {
            assert!(SessionHeader::parse(v).is_err(), "{v:?}");
        }
    }

    /// GW Security puts a space after the semicolon.
    #[test]
    fn gw_security() {
        let s = SessionHeader::parse(header("client_gw_main_setup_video.txt", "Session"));
        assert_eq!(
            s,
            Ok(SessionHeader {
                id: "9a90de54",
                timeout: Some(60)
            })
        );
    }

    /// Hikvision pads the value with a run of spaces.
    #[test]
    fn hikvision() {
        let s = SessionHeader::parse(header("client_hikvision_setup.txt", "Session"));
        assert_eq!(
            s,
            Ok(SessionHeader {
                id: "708345999",
                timeout: Some(60)
            })
        );
    }

    /// Wowza (bunny) and Dahua use plain numeric ids, FFmpeg-based servers alphanumeric ones.
    #[test]
    fn wowza_dahua_ffmpeg() {
        let s = SessionHeader::parse(header("client_bunny_setup.txt", "Session"));
        assert_eq!(
            s,
            Ok(SessionHeader {
                id: "1642021126",
                timeout: Some(60)
            })
        );
        let s = SessionHeader::parse(header("client_dahua_options.txt", "Session"));
        assert_eq!(
            s,
            Ok(SessionHeader {
                id: "136527041864",
                timeout: None
            })
        );
        let s = SessionHeader::parse(header(
            "client_missing_content_type_describe.txt",
            "Session",
        ));
        assert_eq!(
            s,
            Ok(SessionHeader {
                id: "l0TtlUFSR",
                timeout: None
            })
        );
    }

    proptest! {
        #[test]
        fn round_trips(id in "[A-Za-z0-9$._+-]{1,24}", timeout: Option<u32>) {
            let s = SessionHeader { id: &id, timeout };
            let text = s.to_string();
            prop_assert_eq!(SessionHeader::parse(&text), Ok(s));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = SessionHeader::parse(&s);
        }
    }
}
