//! Property tests: no input panics or makes the connection hold more than its limits; a request
//! written by a client reads back as written.

use super::*;
use proptest::prelude::*;

fn small_config() -> HttpServerConfig {
    HttpServerConfig {
        max_head_bytes: 256,
        max_headers: 8,
        max_body_bytes: 128,
        max_pipelined: 4,
        ..Default::default()
    }
}

/// Pieces that make up requests, so random sequences hit the parser's interesting paths far
/// more often than random bytes alone.
const PIECES: &[&str] = &[
    "GET ",
    "HEAD ",
    "POST ",
    "OPTIONS ",
    "/",
    "/a",
    "?q=1",
    "%2e",
    "%2",
    "..",
    "\\",
    "%00",
    " ",
    "HTTP/1.1",
    "HTTP/1.0",
    "HTTP/2.0",
    "\r\n",
    "\n",
    "\r",
    "Host: x",
    "Content-Length: 3",
    "Content-Length: 999",
    "Transfer-Encoding: chunked",
    "Connection: close",
    "Expect: 100-continue",
    "Origin: https://o",
    "Access-Control-Request-Method: GET",
    ": ",
    "abc",
    "\r\n\r\n",
    "PRI * HTTP/2.0",
    "\0",
    "\u{e9}",
];

/// One request: usually valid (so pipelines get deep), sometimes made of header lines from a
/// vocabulary that trips every refusal.
fn request_strategy() -> impl Strategy<Value = Vec<u8>> {
    let line = proptest::sample::select(
        &[
            "Host: y",
            "Content-Length: 3",
            "Content-Length: 200",
            "Connection: close",
            "Connection: keep-alive",
            "Expect: 100-continue",
            "Origin: https://o",
            "Access-Control-Request-Method: GET",
            "Transfer-Encoding: chunked",
            "X-A: b",
        ][..],
    );
    let valid = (
        proptest::sample::select(&["GET", "HEAD", "POST", "OPTIONS", "DELETE"][..]),
        proptest::sample::select(&["/", "/a/b.m3u8?x=1", "/../x", "/seg%201.mp4"][..]),
        proptest::sample::select(&["", "abc", "abcdef"][..]),
        any::<bool>(),
    )
        .prop_map(|(m, t, body, origin)| {
            let origin = if origin { "Origin: https://o\r\n" } else { "" };
            let cl = if body.is_empty() {
                String::new()
            } else {
                format!("Content-Length: {}\r\n", body.len())
            };
            format!("{m} {t} HTTP/1.1\r\nHost: x\r\n{origin}{cl}\r\n{body}").into_bytes()
        });
    let vocabulary = (
        proptest::sample::select(&["GET", "HEAD", "POST", "OPTIONS", "get"][..]),
        proptest::sample::select(&["/", "/a/b.m3u8?x=1", "/%2e%2e", "/a%zz", "*", "/\\"][..]),
        proptest::sample::select(&["HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0"][..]),
        proptest::collection::vec(line, 0..5),
        proptest::sample::select(&["", "abc", "abcdef"][..]),
    )
        .prop_map(|(m, t, v, lines, body)| {
            let mut s = format!("{m} {t} {v}\r\nHost: x\r\n");
            for l in lines {
                s.push_str(l);
                s.push_str("\r\n");
            }
            s.push_str("\r\n");
            s.push_str(body);
            s.into_bytes()
        });
    prop_oneof![6 => valid, 1 => vocabulary]
}

/// Requests back to back, then a few bytes overwritten, inserted or removed.
fn mutated_requests() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(request_strategy(), 1..24),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 0..3),
    )
        .prop_map(|(reqs, mutations)| {
            let mut bytes = reqs.concat();
            for (at, byte, kind) in mutations {
                let i = at.index(bytes.len() + 1);
                match kind {
                    0 if i < bytes.len() => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ => {}
                }
            }
            bytes
        })
}

fn input_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => proptest::collection::vec(any::<u8>(), 0..2048),
        1 => proptest::collection::vec(proptest::sample::select(PIECES), 0..200)
            .prop_map(|p| p.concat().into_bytes()),
        2 => mutated_requests(),
    ]
}

/// Feeds `input` in chunks of the given sizes like a bounded adapter would (reading only while
/// the connection wants input), answering every other request at once and the rest later.
fn drive(input: &[u8], chunks: &[usize]) {
    let cfg = small_config();
    let limit = cfg.max_head_bytes.max(cfg.max_body_bytes);
    let max_pipelined = cfg.max_pipelined;
    let mut d = Driver::with(cfg);
    let mut rest = input;
    let mut sizes = chunks.iter().cycle();
    let mut held = Vec::new();
    let mut rounds = 0;
    while !d.conn.is_closing() && rounds < 10_000 {
        rounds += 1;
        if d.conn.wants_input() {
            if rest.is_empty() {
                break;
            }
            let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
            d.feed(&rest[..n]);
            rest = &rest[n..];
        } else {
            // Paused: answer what is held, then resume parsing.
            for id in held.drain(..) {
                d.answer(id, Response::empty(200));
            }
            d.conn.handle_input(d.now, &mut d.buf);
            d.drain();
        }
        for (i, r) in std::mem::take(&mut d.requests).into_iter().enumerate() {
            if i % 2 == 0 {
                d.answer(r.id, Response::text(200, &r.path));
            } else {
                held.push(r.id);
            }
        }
        assert!(d.conn.requests_outstanding() <= max_pipelined);
        if d.conn.wants_input() {
            assert!(d.buf.len() <= limit, "buffer {} over limit", d.buf.len());
        }
        if d.conn.is_closing() {
            assert!(d.buf.is_empty());
        }
        d.take_written();
    }
    for id in held {
        d.answer(id, Response::empty(200));
    }
    d.advance(Duration::from_secs(3600));
}

/// Feeds `input` in chunks, answering every request at once with its path; returns the
/// requests, the bytes written (interim `100 Continue` answers removed: whether one is sent
/// depends on whether the body came with the head) and the close reasons.
fn answer_all(input: &[u8], chunks: &[usize]) -> (Vec<Request>, String, Vec<String>) {
    let mut d = Driver::with(small_config());
    let mut rest = input;
    let mut sizes = chunks.iter().cycle();
    let mut all = Vec::new();
    loop {
        let reqs = if d.conn.wants_input() && !rest.is_empty() {
            let n = (*sizes.next().unwrap_or(&1)).clamp(1, rest.len());
            let r = d.feed(&rest[..n]);
            rest = &rest[n..];
            r
        } else {
            // Resume a parse paused by the pipeline bound, if any.
            d.feed(b"")
        };
        if reqs.is_empty() && (rest.is_empty() || !d.conn.wants_input()) {
            break;
        }
        for r in &reqs {
            d.answer(r.id, Response::text(200, &r.path));
        }
        all.extend(reqs);
    }
    let written = d
        .take_written()
        .replace("HTTP/1.1 100 Continue\r\n\r\n", "");
    (all, written, d.closes)
}

/// Percent-encodes every byte outside the unreserved set and `/`.
fn encode_path(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn segment() -> impl Strategy<Value = String> {
    "[^\\\\/\\x00-\\x1f\\x7f-\\x9f]{0,12}".prop_filter("no dot-dot", |s| s != "..")
}

fn header() -> impl Strategy<Value = (String, String)> {
    (
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,16}",
        "[\\x21-\\x7e]([\\x20-\\x7e]{0,30}[\\x21-\\x7e])?|",
    )
        .prop_filter("framing headers are the writer's", |(n, _)| {
            ![
                "host",
                "content-length",
                "transfer-encoding",
                "connection",
                "expect",
                "access-control-request-method",
            ]
            .contains(&n.to_ascii_lowercase().as_str())
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_input_is_bounded_and_never_panics(
        input in input_strategy(),
        chunks in proptest::collection::vec(1usize..64, 1..8),
    ) {
        drive(&input, &chunks);
    }

    #[test]
    fn any_split_gives_the_same_exchange(
        input in mutated_requests(),
        chunks in proptest::collection::vec(1usize..48, 1..8),
    ) {
        let whole = answer_all(&input, &[usize::MAX]);
        let split = answer_all(&input, &chunks);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn written_requests_read_back(
        method in prop_oneof![
            Just("GET".to_owned()), Just("HEAD".to_owned()), Just("POST".to_owned()),
            Just("PATCH".to_owned()), Just("DELETE".to_owned()), "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,10}",
        ],
        segments in proptest::collection::vec(segment(), 1..5),
        query in "[A-Za-z0-9=&%+._~-]{0,30}",
        headers in proptest::collection::vec(header(), 0..10),
        body in proptest::collection::vec(any::<u8>(), 0..64),
        http10 in any::<bool>(),
        split in any::<prop::sample::Index>(),
    ) {
        let path = format!("/{}", segments.join("/"));
        let mut wire = format!("{method} {}", encode_path(&path));
        if !query.is_empty() {
            wire.push('?');
            wire.push_str(&query);
        }
        wire.push_str(if http10 { " HTTP/1.0\r\nConnection: keep-alive\r\n" } else { " HTTP/1.1\r\n" });
        wire.push_str("Host: example\r\n");
        for (n, v) in &headers {
            wire.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() {
            wire.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        wire.push_str("\r\n");
        let mut bytes = wire.into_bytes();
        bytes.extend_from_slice(&body);
        // Twice, pipelined, split anywhere.
        let twice = [bytes.clone(), bytes].concat();
        let at = split.index(twice.len() + 1);
        let mut d = Driver::new();
        let mut reqs = d.feed(&twice[..at]);
        reqs.extend(d.feed(&twice[at..]));
        prop_assert_eq!(reqs.len(), 2);
        for (i, r) in reqs.iter().enumerate() {
            prop_assert_eq!(r.id.get(), i as u64);
            prop_assert_eq!(r.method.as_str(), method.as_str());
            prop_assert_eq!(&r.path, &path);
            prop_assert_eq!(&r.query, &query);
            prop_assert_eq!(&r.body[..], &body[..]);
            let mut expected = Vec::new();
            if http10 {
                expected.push(("connection".to_owned(), "keep-alive".to_owned()));
            }
            expected.push(("host".to_owned(), "example".to_owned()));
            expected.extend(headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())));
            if !body.is_empty() {
                expected.push(("content-length".to_owned(), body.len().to_string()));
            }
            prop_assert_eq!(&r.headers, &expected);
            let origin = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("origin")).map(|(_, v)| v.clone());
            prop_assert_eq!(&r.origin, &origin);
        }
        prop_assert!(d.closes.is_empty());
    }
}
