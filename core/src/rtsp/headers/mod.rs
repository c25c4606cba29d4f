//! Typed RTSP headers: one file per header, each with a lenient parser and a canonical writer.

pub mod auth;
pub mod content_base;
pub mod cseq;
pub mod range;
pub mod rtp_info;
pub mod session;
pub mod transport;

pub use auth::{digest_response, Authorization, DigestParams, WwwAuthenticate};
pub use content_base::{path_of_url, resolve_control};
pub use cseq::parse_cseq;
pub use range::{NptTime, RangeHeader};
pub use rtp_info::{parse_rtp_info, write_rtp_info, RtpInfoEntry};
pub use session::SessionHeader;
pub use transport::{Delivery, LowerTransport, Profile, Transport, TransportMode};

use crate::error::Blame;

/// A header value that could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderError {
    /// The header's name, e.g. `"Transport"`.
    pub header: &'static str,
    /// What was wrong with it.
    pub reason: &'static str,
}

impl HeaderError {
    /// A malformed header is the peer's fault (RTSP 400).
    pub fn blame(&self) -> Blame {
        Blame::Malformed
    }
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad {} header: {}", self.header, self.reason)
    }
}

impl std::error::Error for HeaderError {}

/// Splits `v` at every `sep` that is not inside a double-quoted string.
pub(crate) fn split_unquoted(v: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(v);
    std::iter::from_fn(move || {
        let s = rest?;
        let mut quoted = false;
        for (i, b) in s.bytes().enumerate() {
            match b {
                b'"' => quoted = !quoted,
                _ if b == sep && !quoted => {
                    rest = Some(&s[i + 1..]);
                    return Some(&s[..i]);
                }
                _ => {}
            }
        }
        rest = None;
        Some(s)
    })
}

/// Strips one pair of surrounding double quotes, if present.
pub(crate) fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v)
}

/// Splits `name=value` (spaces around both trimmed); a bare `name` has value `None`.
pub(crate) fn name_value(param: &str) -> (&str, Option<&str>) {
    match param.split_once('=') {
        Some((n, v)) => (n.trim(), Some(v.trim())),
        None => (param.trim(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_only() {
        let parts: Vec<_> = split_unquoted(r#"a;mode="PLAY;RECORD";b"#, b';').collect();
        assert_eq!(parts, ["a", r#"mode="PLAY;RECORD""#, "b"]);
        assert_eq!(split_unquoted("", b',').collect::<Vec<_>>(), [""]);
        assert_eq!(split_unquoted("x,", b',').collect::<Vec<_>>(), ["x", ""]);
    }

    #[test]
    fn unquotes_and_splits_params() {
        assert_eq!(unquote(r#""x""#), "x");
        assert_eq!(unquote(r#"""#), r#"""#);
        assert_eq!(name_value(" ssrc= 1A "), ("ssrc", Some("1A")));
        assert_eq!(name_value("unicast"), ("unicast", None));
    }

    #[test]
    fn error_display_and_blame() {
        let e = HeaderError {
            header: "CSeq",
            reason: "not a number",
        };
        assert_eq!(e.to_string(), "bad CSeq header: not a number");
        assert_eq!(e.blame(), Blame::Malformed);
    }
}
