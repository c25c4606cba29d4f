//! Every request the connection refuses by itself: exact status, close or not.

use super::*;

/// (input, expected status line, whether the connection closes)
fn cases() -> Vec<(Vec<u8>, &'static str, bool)> {
    let big_line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(20_000));
    let big_fields = format!(
        "GET / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n"
            .repeat(250)
    );
    let many_fields = format!("GET / HTTP/1.1\r\nHost: x\r\n{}\r\n", "A: b\r\n".repeat(64));
    let b = |s: &str| s.as_bytes().to_vec();
    vec![
        // Malformed request line or fields: 400 and close.
        (b("GARBAGE\r\n\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.1\r\nHost: x\r\nNo colon\r\n\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.1\r\nHost : x\r\n\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.1\r\nHost: x\rA: b\r\n\r\n"), "400 Bad Request", true),
        (b("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"), "400 Bad Request", true),
        (b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), "400 Bad Request", true),
        (b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(), "400 Bad Request", true),
        (b("\rGET / HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.1\r\n\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1, 2\r\n\r\n"), "400 Bad Request", true),
        // Too large: 431 and close.
        (b(&big_line), "431 Request Header Fields Too Large", true),
        (b(&big_fields), "431 Request Header Fields Too Large", true),
        (b(&many_fields), "431 Request Header Fields Too Large", true),
        (vec![b'G'; 16 * 1024 + 1], "431 Request Header Fields Too Large", true),
        (
            b("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65537\r\n\r\n"),
            "413 Content Too Large",
            true,
        ),
        (
            b("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            "501 Not Implemented",
            true,
        ),
        (
            b("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 3\r\n\r\n"),
            "501 Not Implemented",
            true,
        ),
        // Versions: 505 and close.
        (b("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), "505 HTTP Version Not Supported", true),
        (b("PRI * HTTP/2.0\r\n"), "505 HTTP Version Not Supported", true),
        (b("GET /\r\n"), "400 Bad Request", true),
        (b("GET / HTTP/1.2\r\nHost: x\r\n\r\n"), "505 HTTP Version Not Supported", true),
        (b("GET / HTTP/0.9\r\n\r\n"), "505 HTTP Version Not Supported", true),
        // Targets: 400, the connection stays open.
        (b("GET http://x/a HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
        (b("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
        (b("GET /a/../b HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
        (b("GET /a/%2e%2E/b HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
        (b("GET /a/..%2Fb HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
        (b("GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
        (b("GET /a\\b HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
        (b("GET /a%5Cb HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
        (b("GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
        (b("GET /%C3 HTTP/1.1\r\nHost: x\r\n\r\n"), "400 Bad Request", false),
    ]
}

#[test]
fn refusals_table() {
    for (input, status, closes) in cases() {
        let shown = String::from_utf8_lossy(&input[..input.len().min(60)]).into_owned();
        let mut d = Driver::new();
        let reqs = d.feed(&input);
        assert!(reqs.is_empty(), "{shown:?}: no event expected");
        let written = d.take_written();
        assert!(
            written.starts_with(&format!("HTTP/1.1 {status}\r\nServer: weir\r\n")),
            "{shown:?}: got {written:?}"
        );
        let body = status.to_string();
        assert!(
            written.ends_with(&format!("Content-Length: {}\r\n\r\n{body}", body.len())),
            "{shown:?}: {written:?}"
        );
        assert_eq!(
            written.contains("\r\nConnection: close\r\n"),
            closes,
            "{shown:?}"
        );
        assert_eq!(d.closes.len(), usize::from(closes), "{shown:?}");
        assert_eq!(d.conn.is_closing(), closes, "{shown:?}");
        if closes {
            assert!(d.buf.is_empty(), "{shown:?}: the buffer is released");
            assert!(d.closes[0].starts_with("invalid request: "), "{shown:?}");
        } else {
            // The next request is served normally.
            let next = d.feed(get("/next").as_bytes());
            assert_eq!(next.len(), 1, "{shown:?}");
            assert_eq!(next[0].id.get(), 1);
        }
    }
}

#[test]
fn malformed_request_exact_bytes() {
    let mut d = Driver::new();
    d.feed(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n");
    assert_eq!(
        d.take_written(),
        "HTTP/1.1 400 Bad Request\r\nServer: weir\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 15\r\n\r\n400 Bad Request"
    );
}

#[test]
fn invalid_target_keeps_cors_and_keep_alive() {
    let mut d = Driver::new();
    d.feed(b"GET /../etc/passwd HTTP/1.1\r\nHost: x\r\nOrigin: https://o\r\n\r\n");
    assert_eq!(
        d.take_written(),
        "HTTP/1.1 400 Bad Request\r\nServer: weir\r\nContent-Type: text/plain; charset=utf-8\r\nAccess-Control-Allow-Origin: *\r\nVary: Origin\r\nContent-Length: 15\r\n\r\n400 Bad Request"
    );
}

#[test]
fn a_refusal_waits_behind_a_held_request() {
    let mut d = Driver::new();
    let input = format!(
        "{}GET / HTTP/1.1\r\nHost: x\r\nbroken\r\n\r\n",
        get("/held")
    );
    let reqs = d.feed(input.as_bytes());
    assert_eq!(reqs.len(), 1);
    assert_eq!(d.take_written(), "");
    assert!(d.closes.is_empty());
    d.answer(reqs[0].id, ok("held"));
    let w = d.take_written();
    assert!(w.starts_with(&ok_wire("held")));
    assert!(w[ok_wire("held").len()..].starts_with("HTTP/1.1 400 Bad Request\r\n"));
    assert_eq!(d.closes.len(), 1);
}

#[test]
fn an_invalid_target_with_a_body_keeps_the_framing() {
    let mut d = Driver::new();
    let input = format!(
        "POST /a/../b HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nGET {}",
        get("/after")
    );
    let reqs = d.feed(input.as_bytes());
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].path, "/after");
    assert!(d.take_written().starts_with("HTTP/1.1 400 Bad Request\r\n"));
}
