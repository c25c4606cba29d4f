//! A tiny parser for SDP `a=fmtp` parameter lists (`key=value; key=value`, RFC 8866 §6.15) and
//! the `a=rtpmap` encoding string, as lenient as real cameras need: whitespace anywhere, a
//! leading payload type, trailing `;`, keys in any case.

use super::CodecError;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

/// Strips a leading payload type (`"96 "`) from an attribute value, if present.
fn strip_payload_type(s: &str) -> &str {
    let t = s.trim_start();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && t[digits..].starts_with(|c: char| c.is_ascii_whitespace()) {
        t[digits..].trim_start()
    } else {
        t
    }
}

/// Iterates over the `key=value` pairs of an fmtp string; keys are trimmed (compare them with
/// `eq_ignore_ascii_case`), values are trimmed. Entries without `=` yield an empty value.
pub(crate) fn params(fmtp: &str) -> impl Iterator<Item = (&str, &str)> {
    strip_payload_type(fmtp).split(';').filter_map(|entry| {
        let entry = entry.trim();
        if entry.is_empty() {
            return None;
        }
        match entry.split_once('=') {
            Some((k, v)) => Some((k.trim(), v.trim())),
            None => Some((entry, "")),
        }
    })
}

/// The value of `key` (case-insensitive) in an fmtp string.
pub(crate) fn get<'a>(fmtp: &'a str, key: &str) -> Option<&'a str> {
    params(fmtp)
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Parses a decimal parameter value.
pub(crate) fn parse_u32(value: &str, what: &'static str) -> Result<u32, CodecError> {
    value
        .trim()
        .parse::<u32>()
        .map_err(|_| CodecError::Invalid(what))
}

/// Decodes base64 as SDP writers produce it: whitespace ignored, padding optional.
pub(crate) fn decode_base64(value: &str) -> Result<Vec<u8>, CodecError> {
    const ENGINE: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    ENGINE
        .decode(compact.as_bytes())
        .map_err(|_| CodecError::Invalid("bad base64 in fmtp"))
}

/// Encodes bytes as padded standard base64.
pub(crate) fn encode_base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Decodes a hex string (either case, whitespace ignored).
pub(crate) fn decode_hex(value: &str) -> Result<Vec<u8>, CodecError> {
    let digits: Vec<u8> = value
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| match b {
            b'0'..=b'9' => Ok(b - b'0'),
            b'a'..=b'f' => Ok(b - b'a' + 10),
            b'A'..=b'F' => Ok(b - b'A' + 10),
            _ => Err(CodecError::Invalid("bad hex in fmtp")),
        })
        .collect::<Result<_, _>>()?;
    if digits.len() % 2 != 0 {
        return Err(CodecError::Invalid("odd-length hex in fmtp"));
    }
    Ok(digits.chunks(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// Encodes bytes as hex, in the given case.
pub(crate) fn encode_hex(data: &[u8], upper: bool) -> String {
    let table: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut s = String::with_capacity(data.len() * 2);
    for &b in data {
        s.push(char::from(table[usize::from(b >> 4)]));
        s.push(char::from(table[usize::from(b & 0x0f)]));
    }
    s
}

/// The parts of an `a=rtpmap` value: encoding name, clock rate, encoding parameters (channels).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rtpmap<'a> {
    /// The encoding name (`H264`, `opus`, `PCMU`…), case as written.
    pub(crate) encoding: &'a str,
    /// The clock rate in Hz.
    pub(crate) clock_rate: Option<u32>,
    /// The encoding parameters (the channel count for audio).
    pub(crate) channels: Option<u32>,
}

/// Parses `"opus/48000/2"` or `"96 opus/48000/2"`.
pub(crate) fn rtpmap(value: &str) -> Result<Rtpmap<'_>, CodecError> {
    let s = strip_payload_type(value).trim();
    let mut parts = s.split('/');
    let encoding = parts.next().unwrap_or("").trim();
    if encoding.is_empty() {
        return Err(CodecError::Invalid("empty rtpmap"));
    }
    let clock_rate = match parts.next() {
        Some(v) => Some(parse_u32(v, "bad rtpmap clock rate")?),
        None => None,
    };
    let channels = match parts.next() {
        Some(v) => Some(parse_u32(v, "bad rtpmap channel count")?),
        None => None,
    };
    Ok(Rtpmap {
        encoding,
        clock_rate,
        channels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_parameters() {
        let f = "96 packetization-mode=1;profile-level-id=42C01E; sprop-parameter-sets=Z0LA,aMuM ;";
        let v: Vec<_> = params(f).collect();
        assert_eq!(
            v,
            vec![
                ("packetization-mode", "1"),
                ("profile-level-id", "42C01E"),
                ("sprop-parameter-sets", "Z0LA,aMuM")
            ]
        );
        assert_eq!(get(f, "PROFILE-LEVEL-ID"), Some("42C01E"));
        assert_eq!(get("config=1490", "config"), Some("1490"));
    }

    #[test]
    fn base64_and_hex() {
        assert_eq!(
            decode_base64("aMuMsg==").unwrap(),
            vec![0x68, 0xcb, 0x8c, 0xb2]
        );
        assert_eq!(
            decode_base64("aMuM sg").unwrap(),
            vec![0x68, 0xcb, 0x8c, 0xb2]
        );
        assert!(decode_base64("a*").is_err());
        assert_eq!(decode_hex("1490").unwrap(), vec![0x14, 0x90]);
        assert!(decode_hex("149").is_err());
        assert_eq!(encode_hex(&[0x42, 0xc0, 0x1e], true), "42C01E");
    }

    #[test]
    fn parses_rtpmap() {
        let r = rtpmap("96 opus/48000/2").unwrap();
        assert_eq!(
            (r.encoding, r.clock_rate, r.channels),
            ("opus", Some(48000), Some(2))
        );
        let r = rtpmap("PCMU/8000").unwrap();
        assert_eq!(
            (r.encoding, r.clock_rate, r.channels),
            ("PCMU", Some(8000), None)
        );
        assert!(rtpmap("opus/x").is_err());
    }
}
