//! The lenient SDP parser.

use super::{Attribute, Media, Sdp};
use crate::error::Blame;

/// Why a session description could not be parsed. Every variant carries the 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdpError {
    /// The input has neither a `v=` line nor an `m=` line, so it is not SDP (`line` is 1).
    NotSdp {
        /// Always 1: the input as a whole is at fault.
        line: usize,
    },
    /// The `v=` value is not a number.
    BadVersion {
        /// The line of the `v=` line.
        line: usize,
    },
    /// An `m=` line lacks its media type, port or protocol, or its port is not a number.
    BadMedia {
        /// The line of the `m=` line.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
}

impl SdpError {
    /// The 1-based line the error is about.
    pub fn line(&self) -> usize {
        match self {
            SdpError::NotSdp { line }
            | SdpError::BadVersion { line }
            | SdpError::BadMedia { line, .. } => *line,
        }
    }

    /// Who is to blame: always the peer's malformed input.
    pub fn blame(&self) -> Blame {
        Blame::Malformed
    }
}

impl std::fmt::Display for SdpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SdpError::NotSdp { line } => {
                write!(f, "SDP line {line}: not SDP (no v= and no m= line)")
            }
            SdpError::BadVersion { line } => write!(f, "SDP line {line}: v= is not a number"),
            SdpError::BadMedia { line, reason } => {
                write!(f, "SDP line {line}: bad m= line: {reason}")
            }
        }
    }
}

impl std::error::Error for SdpError {}

/// Parses a session description, leniently, as real cameras write it.
///
/// Accepted: LF or CRLF line ends, a missing final line end, trailing NUL bytes, blank lines,
/// leading and trailing whitespace on a line and around values, missing `v=`/`o=`/`s=`/`t=`
/// lines, lines in any order within a section (`a=control` before `a=rtpmap`), `m=` port 0,
/// invalid UTF-8 (replaced by U+FFFD), unknown line types and lines that are not `<type>=<value>`
/// at all (both skipped). Repeated `v=`, `o=`, `s=` and `t=` lines keep the first value.
///
/// Rejected: input with neither a `v=` nor an `m=` line ([`SdpError::NotSdp`]), a `v=` value
/// that is not a number, and an `m=` line without media type, port and protocol or whose port
/// is not a number. Never panics.
pub fn parse(input: &[u8]) -> Result<Sdp, SdpError> {
    let end = input.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let mut sdp = Sdp::default();
    let mut saw_version = false;
    let mut saw_session_name = false;
    for (index, raw) in input[..end].split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let mut text = String::from_utf8_lossy(raw);
        // NUL is never meaningful in SDP (some cameras pad with it); the writer drops it too,
        // so dropping it here keeps parse → write → parse stable.
        if text.contains('\0') {
            text = text.replace('\0', "").into();
        }
        let text = text.trim();
        let bytes = text.as_bytes();
        if bytes.len() < 2 || bytes[1] != b'=' {
            continue;
        }
        // bytes[1] is ASCII '=', so byte 2 is a char boundary.
        let value = text[2..].trim();
        if bytes[0] == b'm' {
            sdp.media.push(parse_media_line(value, line)?);
            continue;
        }
        match (bytes[0], sdp.media.last_mut()) {
            (b'v', _) => {
                if !saw_version {
                    sdp.version = value.parse().map_err(|_| SdpError::BadVersion { line })?;
                    saw_version = true;
                }
            }
            (b'a', Some(m)) => m.attributes.extend(parse_attribute(value)),
            (b'a', None) => sdp.attributes.extend(parse_attribute(value)),
            (b'c', Some(m)) => {
                m.connection.get_or_insert_with(|| value.to_owned());
            }
            (b'c', None) => {
                sdp.connection.get_or_insert_with(|| value.to_owned());
            }
            (b'b', Some(m)) => m.bandwidth.push(value.to_owned()),
            (b'b', None) => sdp.bandwidth.push(value.to_owned()),
            (b'i', Some(m)) => {
                m.title.get_or_insert_with(|| value.to_owned());
            }
            (b'o', None) => {
                sdp.origin.get_or_insert_with(|| value.to_owned());
            }
            (b's', None) => {
                if !saw_session_name {
                    sdp.session_name = value.to_owned();
                    saw_session_name = true;
                }
            }
            (b't', None) => {
                sdp.timing.get_or_insert_with(|| value.to_owned());
            }
            _ => {}
        }
    }
    if !saw_version && sdp.media.is_empty() {
        return Err(SdpError::NotSdp { line: 1 });
    }
    Ok(sdp)
}

/// Parses an `a=` value into an attribute; `None` when the name is empty.
fn parse_attribute(value: &str) -> Option<Attribute> {
    let (name, value) = match value.split_once(':') {
        Some((n, v)) => (n.trim(), Some(v.trim().to_owned())),
        None => (value.trim(), None),
    };
    (!name.is_empty()).then(|| Attribute {
        name: name.to_owned(),
        value,
    })
}

/// Parses an `m=` value: `<media> <port>[/<number of ports>] <proto> <fmt> …`.
fn parse_media_line(value: &str, line: usize) -> Result<Media, SdpError> {
    let bad = |reason| SdpError::BadMedia { line, reason };
    let mut fields = value.split_ascii_whitespace();
    let kind = fields.next().ok_or(bad("missing media type"))?;
    let port = fields.next().ok_or(bad("missing port"))?;
    let protocol = fields.next().ok_or(bad("missing protocol"))?;
    let (port, port_count) = match port.split_once('/') {
        Some((p, n)) => (
            p,
            Some(n.parse().map_err(|_| bad("port count is not a number"))?),
        ),
        None => (port, None),
    };
    let port = port.parse().map_err(|_| bad("port is not a number"))?;
    Ok(Media {
        kind: kind.to_owned(),
        port,
        port_count,
        protocol: protocol.to_owned(),
        formats: fields.map(str::to_owned).collect(),
        ..Media::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn minimal_lf_no_final_newline() {
        let sdp = parse(b"v=0\nm=video 0 RTP/AVP 96\na=rtpmap:96 H264/90000").unwrap();
        assert_eq!(sdp.version, 0);
        assert_eq!(sdp.origin, None);
        assert_eq!(sdp.session_name, "");
        assert_eq!(sdp.timing, None);
        assert_eq!(sdp.media.len(), 1);
        assert_eq!(sdp.media[0].rtpmap().unwrap().clock_rate, 90000);
    }

    #[test]
    fn tolerates_noise() {
        let input = b"\r\n  v=0  \r\nContent-Type: nonsense\r\nx=unknown\r\n\r\n\
            o=- 1 1 IN IP4 1.2.3.4\r\ns=  \r\nt=0 0\r\nt=1 1\r\na=flag \r\na= name : value \r\n\
            a=\r\nm=audio 5000/2 RTP/AVP 0 8\t \r\ni=title\r\nk=clear:x\r\nb=AS:64\r\n\
            c=IN IP4 0.0.0.0\r\na=fmtp:0   x=1\r\n\0\0\0";
        let sdp = parse(input).unwrap();
        assert_eq!(sdp.origin.as_deref(), Some("- 1 1 IN IP4 1.2.3.4"));
        assert_eq!(sdp.session_name, "");
        assert_eq!(sdp.timing.as_deref(), Some("0 0"));
        assert_eq!(sdp.attribute("flag"), Some(""));
        assert_eq!(sdp.attribute("name"), Some("value"));
        assert_eq!(sdp.attributes.len(), 2);
        let m = &sdp.media[0];
        assert_eq!(
            (m.kind.as_str(), m.port, m.port_count),
            ("audio", 5000, Some(2))
        );
        assert_eq!(m.formats, ["0", "8"]);
        assert_eq!(m.title.as_deref(), Some("title"));
        assert_eq!(m.bandwidth, ["AS:64"]);
        assert_eq!(m.connection.as_deref(), Some("IN IP4 0.0.0.0"));
        assert_eq!(m.fmtp(), Some("x=1"));
        assert_eq!(m.rtpmap().unwrap().encoding, "PCMU");
    }

    #[test]
    fn media_without_version_is_accepted() {
        let sdp = parse(b"m=video 0 RTP/AVP 26\n").unwrap();
        assert_eq!(sdp.media[0].rtpmap().unwrap().encoding, "JPEG");
    }

    #[test]
    fn rejects_what_is_not_sdp() {
        assert_eq!(parse(b""), Err(SdpError::NotSdp { line: 1 }));
        assert_eq!(parse(b"\0\0"), Err(SdpError::NotSdp { line: 1 }));
        assert_eq!(
            parse(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n"),
            Err(SdpError::NotSdp { line: 1 })
        );
        assert_eq!(parse(b"s=x\r\na=y\r\n"), Err(SdpError::NotSdp { line: 1 }));
    }

    #[test]
    fn errors_carry_line_numbers() {
        let e = parse(b"v=0\r\ns=x\r\n\r\nm=video\r\n").unwrap_err();
        assert_eq!(
            e,
            SdpError::BadMedia {
                line: 4,
                reason: "missing port"
            }
        );
        assert_eq!(e.line(), 4);
        assert_eq!(e.blame(), Blame::Malformed);
        assert_eq!(e.to_string(), "SDP line 4: bad m= line: missing port");
        let e = parse(b"v=0\nm=video x RTP/AVP 96\n").unwrap_err();
        assert_eq!(
            e,
            SdpError::BadMedia {
                line: 2,
                reason: "port is not a number"
            }
        );
        let e = parse(b"v=0\nm=video 0/x RTP/AVP 96\n").unwrap_err();
        assert_eq!(e.line(), 2);
        assert_eq!(parse(b"\nv=zero\n"), Err(SdpError::BadVersion { line: 2 }));
        assert_eq!(parse(b"m=\n").unwrap_err().line(), 1);
        assert_eq!(parse(b"m=video 0\n").unwrap_err().line(), 1);
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let sdp = parse(b"v=0\ns=caf\xe9\n").unwrap();
        assert_eq!(sdp.session_name, "caf\u{fffd}");
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&data);
        }

        #[test]
        fn sdp_like_lines_never_panic(
            lines in proptest::collection::vec(
                ("[vosictbamkx ]", "[ -~\u{e9}\t\r\0]{0,40}"), 0..20)
        ) {
            let mut text = String::new();
            for (t, v) in lines {
                text.push_str(&t);
                text.push('=');
                text.push_str(&v);
                text.push('\n');
            }
            if let Ok(sdp) = parse(text.as_bytes()) {
                for m in &sdp.media {
                    let _ = (m.rtpmap(), m.fmtp(), m.control(), m.payload_type());
                }
            }
        }
    }
}

#[cfg(test)]
mod fuzz_regressions {
    use super::parse;

    /// Found by the `sdp` fuzz target: NULs inside an `m=` token made parse → write → parse
    /// unstable (the writer drops NUL, leaving an empty protocol token).
    #[test]
    fn nul_inside_media_tokens_round_trips() {
        let input = b"u\xc1\n\x00\x0bm=\xff\xef\t2\t\x00\x00\x00\t\t\x00 \x00A=\n";
        let sdp = parse(input).unwrap();
        let mut once = String::new();
        sdp.write(&mut once);
        let mut twice = String::new();
        parse(once.as_bytes()).unwrap().write(&mut twice);
        assert_eq!(once, twice);
    }
}
