//! RTSP 1.0 (RFC 2326): wire messages, typed headers, and the server connection state machine.

pub mod client;
pub mod headers;
pub mod message;
pub mod method;
pub mod server;
pub mod status;
pub mod writer;

pub use message::{
    leading_empty_lines, parse, Headers, Limits, Message, ParseError, ParseErrorKind, Parsed,
    Request, Response,
};
pub use method::Method;
pub use status::reason_phrase;
pub use writer::{interleaved_header, write_request, write_response};

/// Real camera and server transcripts from `tests/data/retina` (see its SOURCES.md).
#[cfg(test)]
pub(crate) mod testdata {
    use super::message::{parse, Limits, Message, Parsed};

    /// The bytes of one transcript file.
    macro_rules! retina {
        ($name:literal) => {
            (
                $name,
                include_bytes!(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/tests/data/retina/",
                    $name
                )) as &[u8],
            )
        };
    }

    /// Every transcript that is one whole RTSP message (the bare SDP files are left out).
    pub(crate) const MESSAGES: &[(&str, &[u8])] = &[
        retina!("client_anjvision_describe.txt"),
        retina!("client_bad_rtptime.txt"),
        retina!("client_bunny_describe.txt"),
        retina!("client_bunny_play.txt"),
        retina!("client_bunny_setup.txt"),
        retina!("client_dahua_describe_h264_aac_onvif.txt"),
        retina!("client_dahua_describe_h265_pcma.txt"),
        retina!("client_dahua_options.txt"),
        retina!("client_dahua_play.txt"),
        retina!("client_dahua_setup.txt"),
        retina!("client_foscam_describe.txt"),
        retina!("client_gw_main_describe.txt"),
        retina!("client_gw_main_play.txt"),
        retina!("client_gw_main_setup_audio.txt"),
        retina!("client_gw_main_setup_video.txt"),
        retina!("client_gw_sub_describe.txt"),
        retina!("client_gw_sub_play.txt"),
        retina!("client_gw_sub_setup.txt"),
        retina!("client_h264dvr_describe.txt"),
        retina!("client_h264dvr_play.txt"),
        retina!("client_h264dvr_setup_audio.txt"),
        retina!("client_h264dvr_setup_video.txt"),
        retina!("client_hikvision_describe.txt"),
        retina!("client_hikvision_play.txt"),
        retina!("client_hikvision_setup.txt"),
        retina!("client_hikvision_setup_ssrc_space.txt"),
        retina!("client_ipcam_describe.txt"),
        retina!("client_laureii_play.txt"),
        retina!("client_longse_unauthorized.txt"),
        retina!("client_luckfox_rkipc_setup_tcp.txt"),
        retina!("client_luckfox_rkipc_setup_udp.txt"),
        retina!("client_macrovideo_describe.txt"),
        retina!("client_missing_content_type_describe.txt"),
        retina!("client_reolink_describe.txt"),
        retina!("client_reolink_describe_control_first.txt"),
        retina!("client_reolink_play.txt"),
        retina!("client_reolink_setup.txt"),
        retina!("client_reolink_teardown.txt"),
        retina!("client_vstarcam_describe.txt"),
        retina!("rtsp_request.txt"),
        retina!("rtsp_response.txt"),
    ];

    /// The transcript named `name`.
    pub(crate) fn file(name: &str) -> &'static [u8] {
        MESSAGES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
            .expect("known transcript")
    }

    /// Parses a transcript as one whole message.
    pub(crate) fn message(name: &str) -> Message<'static> {
        let bytes = file(name);
        match parse(bytes, 0, &Limits::default()) {
            Ok(Parsed::Done { message, consumed }) if consumed == bytes.len() => message,
            other => panic!("{name}: {other:?}"),
        }
    }

    /// The first value of header `header` in transcript `name`.
    pub(crate) fn header(name: &str, header: &str) -> &'static str {
        let headers = match message(name) {
            Message::Request(r) => r.headers,
            Message::Response(r) => r.headers,
            Message::Interleaved { .. } => panic!("{name} is not a message"),
        };
        headers
            .get(header)
            .unwrap_or_else(|| panic!("{name} has no {header}"))
    }
}

#[cfg(test)]
mod tests {
    use super::headers::{parse_cseq, parse_rtp_info, SessionHeader, Transport, WwwAuthenticate};
    use super::testdata::{message, MESSAGES};
    use super::*;

    /// Every transcript parses as one message, and its typed headers parse.
    #[test]
    fn every_transcript_and_its_typed_headers_parse() {
        for (name, _) in MESSAGES {
            let headers = match message(name) {
                Message::Request(r) => {
                    assert_eq!(*name, "rtsp_request.txt");
                    assert_eq!(r.method, Method::Describe);
                    r.headers
                }
                Message::Response(r) => r.headers,
                Message::Interleaved { .. } => panic!("{name}"),
            };
            let cseq = headers
                .get("CSeq")
                .unwrap_or_else(|| panic!("{name}: CSeq"));
            assert!(parse_cseq(cseq).is_ok(), "{name}: CSeq {cseq:?}");
            for (n, v) in headers.iter() {
                let ok = match n.to_ascii_lowercase().as_str() {
                    "session" => SessionHeader::parse(v).is_ok(),
                    "transport" => Transport::parse_list(v).is_ok(),
                    "rtp-info" => parse_rtp_info(v).is_ok(),
                    "www-authenticate" => WwwAuthenticate::parse(v).is_ok(),
                    "range" => headers::RangeHeader::parse(v).is_ok(),
                    _ => true,
                };
                assert!(ok, "{name}: {n}: {v:?}");
            }
        }
    }
}

/// Parser tests (kept here: message.rs is at its size budget).
#[cfg(test)]
mod message_tests {
    use super::message::*;
    use super::testdata::MESSAGES;
    use super::Method;
    use crate::error::Blame;
    use proptest::prelude::*;

    fn parse_all(buf: &[u8]) -> Result<Parsed<'_>, ParseError> {
        parse(buf, 0, &Limits::default())
    }

    fn done(buf: &[u8]) -> (Message<'_>, usize) {
        match parse_all(buf) {
            Ok(Parsed::Done { message, consumed }) => (message, consumed),
            other => panic!("{other:?}"),
        }
    }

    fn error(buf: &[u8]) -> (ParseErrorKind, u64) {
        match parse(
            buf,
            1000,
            &Limits {
                max_head_bytes: 128,
                max_headers: 3,
                max_body_bytes: 10,
            },
        ) {
            Err(e) => (e.kind, e.position - 1000),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
        }
    }

    #[test]
    fn request_with_headers_and_body() {
        let buf =
            b"ANNOUNCE rtsp://h/p RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 3\r\nX:\r\n\r\nv=0tail";
        let (m, consumed) = done(buf);
        assert_eq!(consumed, buf.len() - 4);
        let Message::Request(r) = m else {
            panic!("{m:?}")
        };
        assert_eq!(
            (r.method, r.method_str, r.uri, r.body),
            (Method::Announce, "ANNOUNCE", "rtsp://h/p", &b"v=0"[..])
        );
        assert_eq!(
            r.headers.iter().collect::<Vec<_>>(),
            [("CSeq", "2"), ("Content-Length", "3"), ("X", "")]
        );
        assert_eq!(r.headers.get("cseq"), Some("2"));
        assert_eq!(r.headers.len(), 3);
    }

    #[test]
    fn bare_lf_lenient_spacing_and_unknown_method() {
        let (m, consumed) = done(b"FOO  *\tRTSP/1.0\nCSeq :  7 \nA: 1\na: 2\n\n");
        assert_eq!(consumed, 38);
        let Message::Request(r) = m else {
            panic!("{m:?}")
        };
        assert_eq!(
            (r.method, r.method_str, r.uri),
            (Method::Unknown, "FOO", "*")
        );
        assert_eq!(r.headers.get("CSEQ"), Some("7"));
        assert_eq!(r.headers.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn response_with_and_without_reason() {
        let (m, _) = done(b"RTSP/1.0 454 Session Not Found\r\nCSeq: 1\r\n\r\n");
        assert!(matches!(
            m,
            Message::Response(Response {
                status: 454,
                reason: "Session Not Found",
                ..
            })
        ));
        let (m, _) = done(b"RTSP/1.0 200\r\n\r\n");
        assert!(matches!(
            m,
            Message::Response(Response {
                status: 200,
                reason: "",
                ..
            })
        ));
    }

    #[test]
    fn leading_empty_lines_are_consumed_with_the_next_message() {
        assert_eq!(
            parse_all(b"\r\n\r\n\n"),
            Ok(Parsed::NeedMore { at_least: 1 })
        );
        assert_eq!(leading_empty_lines(b"\r\n\nOPTIONS"), 3);
        let (m, consumed) = done(b"\r\n\r\nOPTIONS * RTSP/1.0\r\n\r\n");
        assert!(matches!(
            m,
            Message::Request(Request {
                method: Method::Options,
                ..
            })
        ));
        assert_eq!(consumed, 26);
        let (m, consumed) = done(b"\r\n$\x01\x00\x01z");
        assert_eq!(
            (m, consumed),
            (
                Message::Interleaved {
                    channel: 1,
                    payload: b"z"
                },
                7
            )
        );
    }

    #[test]
    fn interleaved_frame_then_request_in_one_buffer() {
        let buf = b"$\x00\x00\x03abcTEARDOWN rtsp://h/p RTSP/1.0\r\nCSeq: 9\r\n\r\n";
        let (m, consumed) = done(buf);
        assert_eq!(
            (m, consumed),
            (
                Message::Interleaved {
                    channel: 0,
                    payload: b"abc"
                },
                7
            )
        );
        let (m, consumed) = done(&buf[7..]);
        assert!(matches!(
            m,
            Message::Request(Request {
                method: Method::Teardown,
                ..
            })
        ));
        assert_eq!(consumed, buf.len() - 7);
        assert_eq!(parse_all(b"$\x00"), Ok(Parsed::NeedMore { at_least: 2 }));
        assert_eq!(
            parse_all(b"$\x00\x01\x00ab"),
            Ok(Parsed::NeedMore { at_least: 254 })
        );
    }

    #[test]
    fn request_body_split_across_reads() {
        let full = b"SET_PARAMETER rtsp://h/p RTSP/1.0\r\nContent-Length: 10\r\n\r\n0123456789";
        let head = full.len() - 10;
        let mut buf = full[..head + 4].to_vec();
        assert_eq!(parse_all(&buf), Ok(Parsed::NeedMore { at_least: 6 }));
        buf.extend_from_slice(&full[head + 4..head + 9]);
        assert_eq!(parse_all(&buf), Ok(Parsed::NeedMore { at_least: 1 }));
        buf.push(b'9');
        let (m, consumed) = done(&buf);
        let Message::Request(r) = m else {
            panic!("{m:?}")
        };
        assert_eq!((r.body, consumed), (&b"0123456789"[..], full.len()));
    }

    #[test]
    fn errors_have_kind_and_position() {
        use ParseErrorKind::*;
        let big_cl = b"OPTIONS * RTSP/1.0\r\nContent-Length: 11\r\n\r\n";
        let table: &[(&[u8], ParseErrorKind, u64)] = &[
            (b"OPTIONS *\r\n\r\n", BadRequestLine, 9),
            (b"OPTIONS * RTSP/1.0 x\r\n\r\n", BadRequestLine, 19),
            (b"OP/TIONS * RTSP/1.0\r\n\r\n", BadRequestLine, 0),
            (b"\r\nOPTIONS * JUNK\r\n\r\n", BadRequestLine, 12),
            (b"OPTIONS * RTSP/2.0\r\n\r\n", BadVersion, 10),
            (b"GET / HTTP/1.1\r\n\r\n", BadVersion, 6),
            (b"RTSP/2.0 200 OK\r\n\r\n", BadVersion, 0),
            (b"RTSP/1.0 2000 OK\r\n\r\n", BadStatusLine, 9),
            (b"RTSP/1.0 099 OK\r\n\r\n", BadStatusLine, 9),
            (b"RTSP/1.0\r\n\r\n", BadStatusLine, 8),
            (b"OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n", BadHeader, 20),
            (
                b"OPTIONS * RTSP/1.0\r\nA: 1\r\n folded\r\n\r\n",
                BadHeader,
                26,
            ),
            (b"OPTIONS * RTSP/1.0\r\nA: \x01\r\n\r\n", BadHeader, 20),
            (b"OPTIONS * RTSP/1.0\r\nA: \xff\r\n\r\n", BadHeader, 23), // the byte that is not UTF-8
            (
                b"OPTIONS * RTSP/1.0\r\nContent-Length: x\r\n\r\n",
                BadContentLength,
                36,
            ),
            (
                b"OPTIONS * RTSP/1.0\r\nContent-Length: 1\r\ncontent-length: 2\r\n\r\n",
                BadContentLength,
                55,
            ),
            (big_cl, BodyTooLarge, 36),
            (
                b"OPTIONS * RTSP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n",
                TooManyHeaders,
                38,
            ),
            (&[b'A'; 128], HeadTooLarge, 128),
            (&[b'\n'; 200], HeadTooLarge, 128),
        ];
        for (input, kind, position) in table {
            assert_eq!(
                error(input),
                (*kind, *position),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
        // The head limit applies even where the parser would otherwise wait for more.
        let mut long = b"OPTIONS * RTSP/1.0\r\n".to_vec();
        long.extend(std::iter::repeat_n(b"X: y\r\n", 30).flatten());
        assert_eq!(error(&long[..128]).0, TooManyHeaders);
        let limits = Limits {
            max_headers: 100,
            ..Limits {
                max_head_bytes: 128,
                ..Limits::default()
            }
        };
        let e = parse(&long, 5, &limits).unwrap_err();
        assert_eq!((e.kind, e.position), (HeadTooLarge, 133));
        assert_eq!(e.to_string(), "RTSP message head too large at byte 133");
    }

    #[test]
    fn kinds_map_to_blame_and_status() {
        use ParseErrorKind::*;
        for (kind, blame, status) in [
            (BadRequestLine, Blame::Malformed, 400),
            (BadStatusLine, Blame::Malformed, 400),
            (BadVersion, Blame::Unsupported, 505),
            (BadHeader, Blame::Malformed, 400),
            (BadContentLength, Blame::Malformed, 400),
            (HeadTooLarge, Blame::Limit, 400),
            (TooManyHeaders, Blame::Limit, 400),
            (BodyTooLarge, Blame::Limit, 413),
        ] {
            assert_eq!((kind.blame(), kind.status()), (blame, status), "{kind:?}");
        }
    }

    /// Every proper prefix of every transcript asks for more; the whole parses the same way.
    #[test]
    fn transcripts_resume_at_every_split() {
        for (name, bytes) in MESSAGES {
            let head_len = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(0) + 4;
            let mut lf_only = bytes[..head_len].to_vec();
            lf_only.retain(|&b| b != b'\r');
            lf_only.extend_from_slice(&bytes[head_len..]);
            let (whole, consumed) = done(bytes);
            assert_eq!(consumed, bytes.len(), "{name}");
            for i in 0..bytes.len() {
                match parse_all(&bytes[..i]) {
                    Ok(Parsed::NeedMore { at_least }) => {
                        assert!(at_least >= 1 && i + at_least <= bytes.len(), "{name} {i}")
                    }
                    other => panic!("{name} at {i}: {other:?}"),
                }
            }
            let (m, _) = done(&lf_only);
            assert_eq!(m, whole, "{name}");
        }
    }

    /// Drives the parser the way a connection does: append a chunk, drain whole messages.
    fn drive(stream: &[u8], chunks: &[usize]) -> Vec<String> {
        let (mut buf, mut out, mut at, mut base) = (Vec::new(), Vec::new(), 0, 0u64);
        for &len in chunks.iter().chain(std::iter::once(&usize::MAX)) {
            let end = at + len.min(stream.len() - at);
            buf.extend_from_slice(&stream[at..end]);
            at = end;
            while let Ok(Parsed::Done { message, consumed }) = parse(&buf, base, &Limits::default())
            {
                out.push(format!("{message:?}"));
                buf.drain(..consumed);
                base += consumed as u64;
            }
        }
        out
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300),
                                       head in 0usize..64) {
            let _ = parse(&bytes, u64::MAX - 5, &Limits::default());
            let tiny = Limits { max_head_bytes: head, max_headers: 2, max_body_bytes: 4 };
            let _ = parse(&bytes, 0, &tiny);
        }

        #[test]
        fn near_messages_never_panic(i in 0usize..41, at in 0usize..2000, byte: u8) {
            let mut bytes = MESSAGES[i % MESSAGES.len()].1.to_vec();
            let len = bytes.len();
            bytes[at % len] = byte;
            let _ = parse_all(&bytes);
        }

        #[test]
        fn streams_parse_the_same_for_any_chunking(
            picks in proptest::collection::vec(0usize..41, 1..5),
            chunks in proptest::collection::vec(1usize..200, 0..20),
        ) {
            let mut stream = Vec::new();
            for p in picks {
                stream.extend_from_slice(b"\r\n$\x02\x00\x02hi");
                stream.extend_from_slice(MESSAGES[p % MESSAGES.len()].1);
            }
            prop_assert_eq!(drive(&stream, &chunks), drive(&stream, &[]));
        }
    }
}
