//! Serializing RTSP requests, responses and interleaved frame headers (RFC 2326 §6, §7, §10.12).
//!
//! The writers append to a caller-owned buffer and never fail. CR and LF bytes inside the method,
//! URI, header names or header values are written as spaces, so that text which came from a peer
//! (a session id, a URL) can never inject a header line.

use super::status::reason_phrase;

/// Appends `s` with every CR and LF replaced by a space.
fn push_text(out: &mut Vec<u8>, s: &str) {
    out.extend(
        s.bytes()
            .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
    );
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends the header lines, `Content-Length` if needed, the empty line and the body.
fn push_rest(out: &mut Vec<u8>, headers: &[(&str, &str)], body: &[u8]) {
    for (name, value) in headers {
        push_text(out, name);
        out.extend_from_slice(b": ");
        push_text(out, value);
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty()
        && !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        out.extend_from_slice(b"Content-Length: ");
        push_decimal(out, body.len() as u64);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// Appends a request: `{method} {uri} RTSP/1.0`, the headers, `Content-Length` when the body is
/// non-empty and no such header is given, an empty line and the body.
pub fn write_request(
    out: &mut Vec<u8>,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) {
    push_text(out, method);
    out.push(b' ');
    push_text(out, uri);
    out.extend_from_slice(b" RTSP/1.0\r\n");
    push_rest(out, headers, body);
}

/// Appends a response: `RTSP/1.0 {status} {reason_phrase}`, the headers, `Content-Length` when
/// the body is non-empty and no such header is given, an empty line and the body.
pub fn write_response(out: &mut Vec<u8>, status: u16, headers: &[(&str, &str)], body: &[u8]) {
    out.extend_from_slice(b"RTSP/1.0 ");
    push_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason_phrase(status).as_bytes());
    out.extend_from_slice(b"\r\n");
    push_rest(out, headers, body);
}

/// The 4-byte header of an interleaved frame: `$`, the channel, the length big-endian.
pub fn interleaved_header(channel: u8, len: u16) -> [u8; 4] {
    let [hi, lo] = len.to_be_bytes();
    [b'$', channel, hi, lo]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::message::{parse, Limits, Message, Parsed};
    use crate::rtsp::method::Method;
    use proptest::prelude::*;

    fn parse_one(buf: &[u8]) -> Message<'_> {
        match parse(buf, 0, &Limits::default()) {
            Ok(Parsed::Done { message, consumed }) if consumed == buf.len() => message,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn request_bytes_both_ways() {
        let expected = b"SETUP rtsp://h/p/trackID=0 RTSP/1.0\r\nCSeq: 3\r\n\
            Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n";
        let headers = [
            ("CSeq", "3"),
            ("Transport", "RTP/AVP/TCP;unicast;interleaved=0-1"),
        ];
        let mut out = Vec::new();
        write_request(&mut out, "SETUP", "rtsp://h/p/trackID=0", &headers, b"");
        assert_eq!(out, expected);
        let Message::Request(r) = parse_one(&out) else {
            panic!()
        };
        assert_eq!(
            (r.method, r.uri, r.body),
            (Method::Setup, "rtsp://h/p/trackID=0", &b""[..])
        );
        assert_eq!(r.headers.iter().collect::<Vec<_>>(), headers);
    }

    #[test]
    fn response_bytes_both_ways() {
        type Row<'a> = (u16, &'a [(&'a str, &'a str)], &'a [u8], &'a [u8]);
        let table: &[Row] = &[
            (
                200,
                &[("CSeq", "1")],
                b"",
                b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n",
            ),
            (
                454,
                &[("CSeq", "2")],
                b"",
                b"RTSP/1.0 454 Session Not Found\r\nCSeq: 2\r\n\r\n",
            ),
            (
                200,
                &[("CSeq", "3"), ("Content-Type", "application/sdp")],
                b"v=0\r\n",
                b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nContent-Type: application/sdp\r\n\
                  Content-Length: 5\r\n\r\nv=0\r\n",
            ),
            (
                200,
                &[("content-length", "2")],
                b"hi",
                b"RTSP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nhi",
            ),
            (599, &[], b"", b"RTSP/1.0 599 Unknown\r\n\r\n"),
        ];
        for (status, headers, body, expected) in table {
            let mut out = Vec::new();
            write_response(&mut out, *status, headers, body);
            assert_eq!(out, *expected, "{}", String::from_utf8_lossy(expected));
            let Message::Response(r) = parse_one(&out) else {
                panic!()
            };
            assert_eq!((r.status, r.body), (*status, *body));
            assert_eq!(
                r.headers
                    .iter()
                    .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
                    .count(),
                {
                    headers
                        .iter()
                        .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length"))
                        .count()
                }
            );
        }
    }

    #[test]
    fn line_breaks_in_values_cannot_inject_headers() {
        let mut out = Vec::new();
        write_response(&mut out, 200, &[("Session", "x\r\nEvil: 1")], b"");
        assert_eq!(out, b"RTSP/1.0 200 OK\r\nSession: x  Evil: 1\r\n\r\n");
        let Message::Response(r) = parse_one(&out) else {
            panic!()
        };
        assert_eq!(r.headers.len(), 1);
    }

    #[test]
    fn interleaved_header_bytes() {
        assert_eq!(interleaved_header(3, 0x1234), [b'$', 3, 0x12, 0x34]);
        let mut frame = interleaved_header(1, 2).to_vec();
        frame.extend_from_slice(b"ok");
        assert_eq!(
            parse_one(&frame),
            Message::Interleaved {
                channel: 1,
                payload: b"ok"
            }
        );
    }

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("OPTIONS".to_owned()),
            Just("GET_PARAMETER".to_owned()),
            Just("RECORD".to_owned()),
            "[A-Z_]{1,12}",
        ]
    }

    /// Header fields without Content-Length (which the writer manages itself).
    fn fields(value: &'static str, max: usize) -> impl Strategy<Value = Vec<(String, String)>> {
        let field = ("[A-Za-z][A-Za-z0-9-]{0,15}", value);
        proptest::collection::vec(field, 0..max).prop_map(|mut v| {
            v.retain(|(n, _)| !n.eq_ignore_ascii_case("content-length"));
            v
        })
    }

    fn borrowed(fields: &[(String, String)]) -> Vec<(&str, &str)> {
        fields
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    proptest! {
        #[test]
        fn requests_round_trip(method in method(), uri in "[!-~]{1,40}",
                               fields in fields("[!-~]([ -~]{0,30}[!-~])?", 10),
                               body in proptest::collection::vec(any::<u8>(), 0..100)) {
            let headers = borrowed(&fields);
            let mut out = Vec::new();
            write_request(&mut out, &method, &uri, &headers, &body);
            let Message::Request(r) = parse_one(&out) else { panic!() };
            prop_assert_eq!(r.method_str, method.as_str());
            prop_assert_eq!(r.method, Method::parse(&method));
            prop_assert_eq!(r.uri, uri.as_str());
            prop_assert_eq!(r.body, &body[..]);
            let got: Vec<_> = r.headers.iter().filter(|(n, _)| *n != "Content-Length").collect();
            prop_assert_eq!(got, headers);
        }

        #[test]
        fn responses_round_trip_at_every_split(
            status in 100u16..1000,
            fields in fields("[ -~]{0,30}", 6),
            body in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let headers = borrowed(&fields);
            let mut out = Vec::new();
            write_response(&mut out, status, &headers, &body);
            for i in 0..out.len() {
                let parsed = parse(&out[..i], 0, &Limits::default());
                prop_assert!(matches!(parsed, Ok(Parsed::NeedMore { .. })), "split at {}", i);
            }
            let Message::Response(r) = parse_one(&out) else { panic!() };
            prop_assert_eq!((r.status, r.reason), (status, reason_phrase(status)));
            prop_assert_eq!(r.body, &body[..]);
            let got: Vec<_> = r.headers.iter().filter(|(n, _)| *n != "Content-Length").collect();
            let want: Vec<_> = headers.iter().map(|(n, v)| (*n, v.trim_matches(' '))).collect();
            prop_assert_eq!(got, want);
        }
    }
}
