//! Request targets: origin-form check, percent-decoding of the path, safety checks, query
//! parameters.

use std::fmt;

/// Why a request target was refused (the connection answers 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// The target is not in origin-form (`/path?query`): absolute-form, authority-form and
    /// asterisk-form are refused.
    NotOriginForm,
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// The decoded path is not UTF-8.
    NotUtf8,
    /// The decoded path contains NUL or another control character.
    ControlCharacter,
    /// The path contains a backslash (raw or decoded).
    Backslash,
    /// The decoded path contains a `..` segment.
    DotDot,
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetError::NotOriginForm => "request target is not in origin-form",
            TargetError::BadEscape => "invalid percent-encoding in path",
            TargetError::NotUtf8 => "path is not UTF-8",
            TargetError::ControlCharacter => "path contains a control character",
            TargetError::Backslash => "path contains a backslash",
            TargetError::DotDot => "path contains a '..' segment",
        })
    }
}

/// Splits an origin-form target into its percent-decoded path and its raw query (without `?`),
/// refusing anything that could escape a path namespace or confuse a file lookup: `..` segments
/// (after decoding, so `%2e%2e` and `..%2f` count), backslashes, NUL and other control
/// characters. A fragment (`#…`, which clients never send) stays part of the query.
pub fn split_target(target: &str) -> Result<(String, String), TargetError> {
    if !target.starts_with('/') {
        return Err(TargetError::NotOriginForm);
    }
    let (raw_path, query) = match target.find('?') {
        Some(i) => (&target[..i], &target[i + 1..]),
        None => (target, ""),
    };
    if raw_path.contains('\\') {
        return Err(TargetError::Backslash);
    }
    let bytes = percent_decode(raw_path.as_bytes(), false).ok_or(TargetError::BadEscape)?;
    let path = String::from_utf8(bytes).map_err(|_| TargetError::NotUtf8)?;
    if path.chars().any(|c| c.is_control()) {
        return Err(TargetError::ControlCharacter);
    }
    if path.contains('\\') {
        return Err(TargetError::Backslash);
    }
    if path.split('/').any(|seg| seg == "..") {
        return Err(TargetError::DotDot);
    }
    Ok((path, query.to_owned()))
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`). `None` on a malformed
/// escape.
pub fn percent_decode(input: &[u8], plus_is_space: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' => {
                let hi = input.get(i + 1).copied().and_then(hex_value)?;
                let lo = input.get(i + 2).copied().and_then(hex_value)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Decodes a query component leniently (`application/x-www-form-urlencoded`): `+` is a space,
/// malformed escapes are kept as written, invalid UTF-8 is replaced.
pub fn decode_query_component(input: &str) -> String {
    match percent_decode(input.as_bytes(), true) {
        Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        None => {
            // Decode what can be decoded, keep the rest as is.
            let b = input.as_bytes();
            let mut out = Vec::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                let escape = (b[i] == b'%')
                    .then(|| {
                        let hi = b.get(i + 1).copied().and_then(hex_value)?;
                        let lo = b.get(i + 2).copied().and_then(hex_value)?;
                        Some(hi << 4 | lo)
                    })
                    .flatten();
                match (escape, b[i]) {
                    (Some(v), _) => {
                        out.push(v);
                        i += 3;
                    }
                    (None, b'+') => {
                        out.push(b' ');
                        i += 1;
                    }
                    (None, c) => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        }
    }
}

/// The decoded value of the first `key` parameter of a raw query string (`a=1&b=2`). A key
/// without `=` has the empty value.
pub fn query_param(query: &str, key: &str) -> Option<String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_query_component(k) == key).then(|| decode_query_component(v))
        })
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_table() {
        let ok: &[(&str, &str, &str)] = &[
            ("/", "/", ""),
            ("/cam/index.m3u8", "/cam/index.m3u8", ""),
            ("/cam/index.m3u8?a=1&b", "/cam/index.m3u8", "a=1&b"),
            ("/a%20b/c", "/a b/c", ""),
            ("/caf%C3%A9", "/café", ""),
            ("/a/./b", "/a/./b", ""),
            ("/a..b/...", "/a..b/...", ""),
            ("/x?", "/x", ""),
            ("/x?y?z", "/x", "y?z"),
            ("/x?%zz", "/x", "%zz"),
        ];
        for (target, path, query) in ok {
            assert_eq!(
                split_target(target),
                Ok(((*path).to_owned(), (*query).to_owned())),
                "{target}"
            );
        }
        let bad: &[(&str, TargetError)] = &[
            ("*", TargetError::NotOriginForm),
            ("http://h/x", TargetError::NotOriginForm),
            ("h:80", TargetError::NotOriginForm),
            ("", TargetError::NotOriginForm),
            ("/a/../b", TargetError::DotDot),
            ("/..", TargetError::DotDot),
            ("/a/%2e%2e/b", TargetError::DotDot),
            ("/a/.%2E", TargetError::DotDot),
            ("/a%2f..%2fb", TargetError::DotDot),
            ("/a\\b", TargetError::Backslash),
            ("/a%5cb", TargetError::Backslash),
            ("/a%00b", TargetError::ControlCharacter),
            ("/a%0Ab", TargetError::ControlCharacter),
            ("/a%7f", TargetError::ControlCharacter),
            ("/a%zz", TargetError::BadEscape),
            ("/a%2", TargetError::BadEscape),
            ("/a%", TargetError::BadEscape),
            ("/a%ff", TargetError::NotUtf8),
        ];
        for (target, e) in bad {
            assert_eq!(split_target(target), Err(e.clone()), "{target}");
        }
    }

    #[test]
    fn query_params() {
        let q = "a=1&b=x%20y&c&d=p+q&e=%zz&a=2&f%5B%5D=3&=7";
        assert_eq!(query_param(q, "a").as_deref(), Some("1"));
        assert_eq!(query_param(q, "b").as_deref(), Some("x y"));
        assert_eq!(query_param(q, "c").as_deref(), Some(""));
        assert_eq!(query_param(q, "d").as_deref(), Some("p q"));
        assert_eq!(query_param(q, "e").as_deref(), Some("%zz"));
        assert_eq!(query_param(q, "f[]").as_deref(), Some("3"));
        assert_eq!(query_param(q, "").as_deref(), Some("7"));
        assert_eq!(query_param(q, "z"), None);
        assert_eq!(query_param("", "a"), None);
        assert_eq!(decode_query_component("%e9%"), "\u{fffd}%");
    }
}
