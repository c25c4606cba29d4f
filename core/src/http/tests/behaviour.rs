//! Keep-alive, pipelining, HEAD, CORS, timeouts and limits.

use super::*;

#[test]
fn get_keep_alive_exact_bytes() {
    let mut d = Driver::new();
    let reqs = d.feed(get("/cam/index.m3u8?a=1&b=x%20y").as_bytes());
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.id.get(), 0);
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.path, "/cam/index.m3u8");
    assert_eq!(r.query, "a=1&b=x%20y");
    assert_eq!(r.query_param("b").as_deref(), Some("x y"));
    assert_eq!(r.header("HOST"), Some("x"));
    assert_eq!(r.origin, None);
    assert!(r.body.is_empty());
    assert_eq!(d.take_written(), "");
    d.answer(r.id, ok("hello"));
    assert_eq!(d.take_written(), ok_wire("hello"));
    assert!(d.closes.is_empty() && !d.conn.is_closing());
    assert_eq!(d.conn.requests_answered(), 1);
    assert_eq!(d.conn.requests_outstanding(), 0);
    // The connection stays usable.
    let reqs = d.feed(get("/b").as_bytes());
    assert_eq!(reqs[0].id.get(), 1);
}

#[test]
fn head_sends_the_head_only() {
    let mut d = Driver::new();
    let reqs = d.feed(b"HEAD /seg.mp4 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(reqs[0].method, Method::Head);
    let seg = Bytes::from(vec![1u8; 1234]);
    d.answer(
        reqs[0].id,
        Response::new(200, "video/mp4", Body::Chunks(vec![seg.clone(), seg])),
    );
    assert_eq!(
        d.take_written(),
        "HTTP/1.1 200 OK\r\nServer: weir\r\nContent-Type: video/mp4\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 2468\r\n\r\n"
    );
}

#[test]
fn pipelined_answers_are_written_in_request_order() {
    let mut d = Driver::new();
    let input = format!("{}{}{}", get("/1"), get("/2"), get("/3"));
    let reqs = d.feed(input.as_bytes());
    let ids: Vec<_> = reqs.iter().map(|r| r.id).collect();
    assert_eq!(
        reqs.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/1", "/2", "/3"]
    );
    d.answer(ids[2], ok("three"));
    assert_eq!(d.take_written(), "");
    assert_eq!(d.conn.requests_outstanding(), 3);
    d.answer(ids[0], ok("one"));
    assert_eq!(d.take_written(), ok_wire("one"));
    d.answer(ids[1], ok("two"));
    assert_eq!(
        d.take_written(),
        format!("{}{}", ok_wire("two"), ok_wire("three"))
    );
    assert_eq!(d.conn.requests_answered(), 3);
    // Answering again, or an id never given, is ignored.
    d.answer(ids[1], ok("again"));
    d.answer(RequestId(99), ok("nobody"));
    assert_eq!(d.take_written(), "");
}

#[test]
fn a_held_request_delays_later_answers_and_never_times_out() {
    let mut d = Driver::new();
    let held = d.feed(get("/index.m3u8?_HLS_msn=5").as_bytes())[0].id;
    let next = d.feed(get("/seg4.mp4").as_bytes())[0].id;
    d.answer(next, ok("segment"));
    assert_eq!(d.take_written(), "");
    assert_eq!(d.conn.poll_timeout(), None);
    d.advance(Duration::from_secs(3600));
    assert!(d.closes.is_empty());
    d.answer(held, ok("playlist"));
    assert_eq!(
        d.take_written(),
        format!("{}{}", ok_wire("playlist"), ok_wire("segment"))
    );
    // The idle clock restarts once nothing is outstanding: the timer fires at once (a past
    // instant) to learn the time, and the connection closes a full idle timeout later.
    let t = d.conn.poll_timeout().unwrap();
    assert!(t <= d.now);
    d.advance(Duration::ZERO);
    assert_eq!(d.conn.poll_timeout(), Some(d.now + Duration::from_secs(10)));
    d.advance(Duration::from_secs(9));
    assert!(d.closes.is_empty());
    d.advance(Duration::from_secs(1));
    assert_eq!(d.closes, ["timed out"]);
    assert_eq!(d.conn.poll_timeout(), None);
}

#[test]
fn idle_timeout_counts_from_the_last_byte() {
    let mut d = Driver::new();
    d.advance(Duration::from_secs(5));
    d.feed(b"GET / HT"); // a partial head does not keep the connection alive forever
    d.advance(Duration::from_secs(9));
    assert!(d.closes.is_empty());
    d.advance(Duration::from_secs(1));
    assert_eq!(d.closes, ["timed out"]);
    assert!(d.conn.is_closing());
    // Input after the close is dropped.
    assert!(d.feed(get("/").as_bytes()).is_empty());
    assert!(d.buf.is_empty());
}

/// Requests made of every framing the parser accepts: blank lines before a request, bare LF,
/// a body, a header split over several reads.
const MIXED: &[u8] = b"\r\n\nGET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b?q HTTP/1.1\nHost: x\nContent-Length: 5\n\nhelloHEAD /c HTTP/1.1\r\nHost: x\r\nOrigin: https://o.example\r\n\n";

fn one_shot(input: &[u8]) -> (Vec<Request>, String) {
    let mut d = Driver::new();
    let reqs = d.feed(input);
    for r in &reqs {
        d.answer(r.id, ok(&r.path));
    }
    (reqs, d.take_written())
}

#[test]
fn every_split_gives_the_same_requests() {
    let (expected, written) = one_shot(MIXED);
    assert_eq!(expected.len(), 3);
    assert_eq!(expected[1].body, Bytes::from_static(b"hello"));
    assert_eq!(expected[1].query, "q");
    assert_eq!(expected[2].origin.as_deref(), Some("https://o.example"));
    for i in 0..=MIXED.len() {
        let mut d = Driver::new();
        let mut reqs = d.feed(&MIXED[..i]);
        reqs.extend(d.feed(&MIXED[i..]));
        assert_eq!(reqs, expected, "split at {i}");
        for r in &reqs {
            d.answer(r.id, ok(&r.path));
        }
        assert_eq!(d.take_written(), written, "split at {i}");
    }
    // Byte by byte.
    let mut d = Driver::new();
    let mut reqs = Vec::new();
    for b in MIXED {
        reqs.extend(d.feed(&[*b]));
    }
    assert_eq!(reqs, expected);
}

#[test]
fn http10_closes_unless_keep_alive() {
    let mut d = Driver::new();
    let reqs = d.feed(b"GET /a HTTP/1.0\r\n\r\nGET /ignored HTTP/1.0\r\n\r\n");
    assert_eq!(reqs.len(), 1);
    assert!(d.buf.is_empty());
    d.answer(reqs[0].id, Response::empty(404));
    assert_eq!(
        d.take_written(),
        "HTTP/1.1 404 Not Found\r\nServer: weir\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(d.closes, ["HTTP/1.0 request without keep-alive"]);

    let mut d = Driver::new();
    let reqs = d.feed(b"GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
    d.answer(reqs[0].id, Response::empty(200));
    assert_eq!(
        d.take_written(),
        "HTTP/1.1 200 OK\r\nServer: weir\r\nAccess-Control-Allow-Origin: *\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"
    );
    assert!(d.closes.is_empty());
}

#[test]
fn connection_close_is_honoured_after_earlier_answers() {
    let mut d = Driver::new();
    let input = format!(
        "{}GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n{}",
        get("/first"),
        get("/never")
    );
    let reqs = d.feed(input.as_bytes());
    assert_eq!(reqs.len(), 2);
    assert!(!d.conn.wants_input());
    d.answer(reqs[1].id, ok("last"));
    assert!(d.closes.is_empty());
    d.answer(reqs[0].id, ok("first"));
    let last = "HTTP/1.1 200 OK\r\nServer: weir\r\nContent-Type: text/plain; charset=utf-8\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\nContent-Length: 4\r\n\r\nlast";
    assert_eq!(d.take_written(), format!("{}{last}", ok_wire("first")));
    assert_eq!(d.closes, ["client asked to close"]);
}

#[test]
fn the_caller_can_close_after_a_response() {
    let mut d = Driver::new();
    let reqs = d.feed(format!("{}{}", get("/a"), get("/b")).as_bytes());
    d.answer(
        reqs[0].id,
        Response::text(500, "x").with_header("Connection", "close"),
    );
    assert!(d.take_written().contains("\r\nConnection: close\r\n"));
    assert_eq!(d.closes, ["closed by the server"]);
    d.answer(reqs[1].id, ok("late"));
    assert_eq!(d.take_written(), "");
}

#[test]
fn cors_headers_follow_the_allow_list() {
    let cfg = HttpServerConfig {
        allow_origins: vec!["https://player.example".into()],
        ..Default::default()
    };
    let mut d = Driver::with(cfg);
    let reqs = d.feed(b"GET /a HTTP/1.1\r\nHost: x\r\nOrigin: https://player.example\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n");
    d.answer(reqs[0].id, Response::empty(200));
    d.answer(reqs[1].id, Response::empty(200));
    assert_eq!(
        d.take_written(),
        "HTTP/1.1 200 OK\r\nServer: weir\r\nAccess-Control-Allow-Origin: https://player.example\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\nContent-Length: 0\r\n\r\n\
         HTTP/1.1 200 OK\r\nServer: weir\r\nVary: Origin\r\nContent-Length: 0\r\n\r\n"
    );

    let mut d = Driver::with(HttpServerConfig {
        allow_origins: vec![],
        ..Default::default()
    });
    let reqs = d.feed(b"GET /a HTTP/1.1\r\nHost: x\r\nOrigin: https://o\r\n\r\n");
    d.answer(reqs[0].id, Response::empty(200));
    assert_eq!(
        d.take_written(),
        "HTTP/1.1 200 OK\r\nServer: weir\r\nContent-Length: 0\r\n\r\n"
    );
}

#[test]
fn preflight_is_answered_by_the_connection() {
    let cfg = HttpServerConfig {
        cors_extra_methods: vec!["POST".into(), "PATCH".into()],
        ..Default::default()
    };
    let mut d = Driver::with(cfg);
    let reqs = d.feed(b"OPTIONS /cam/index.m3u8 HTTP/1.1\r\nHost: x\r\nOrigin: https://o.example\r\nAccess-Control-Request-Method: GET\r\n\r\n");
    assert!(reqs.is_empty());
    assert_eq!(
        d.take_written(),
        "HTTP/1.1 204 No Content\r\nServer: weir\r\nAccess-Control-Allow-Methods: OPTIONS, GET, HEAD, POST, PATCH\r\nAccess-Control-Allow-Headers: Authorization, Range\r\nAccess-Control-Allow-Origin: *\r\nVary: Origin\r\n\r\n"
    );
    assert!(d.closes.is_empty());
    // An OPTIONS that is not a preflight goes to the caller.
    let reqs = d.feed(b"OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(reqs[0].method, Method::Options);
    // A preflight behind a held request waits its turn.
    let held = d.feed(get("/held").as_bytes())[0].id;
    d.answer(reqs[0].id, Response::empty(200));
    d.take_written();
    d.feed(b"OPTIONS /x HTTP/1.1\r\nHost: x\r\nOrigin: https://o\r\nAccess-Control-Request-Method: GET\r\n\r\n");
    assert_eq!(d.take_written(), "");
    d.answer(held, ok("h"));
    let w = d.take_written();
    assert!(w.starts_with(&ok_wire("h")));
    assert!(w.ends_with("Vary: Origin\r\n\r\n") && w.contains("204 No Content"));
}

#[test]
fn pipelining_is_bounded() {
    let mut d = Driver::new();
    let input: String = (0..20).map(|i| get(&format!("/{i}"))).collect();
    let reqs = d.feed(input.as_bytes());
    assert_eq!(reqs.len(), 16);
    assert!(!d.conn.wants_input());
    assert_eq!(d.conn.requests_outstanding(), 16);
    assert!(!d.buf.is_empty());
    for r in &reqs {
        d.answer(r.id, ok("x"));
    }
    assert!(d.conn.wants_input());
    let more = d.feed(b"");
    assert_eq!(
        more.iter().map(|r| r.path.as_str()).collect::<Vec<_>>(),
        ["/16", "/17", "/18", "/19"]
    );
    assert!(d.buf.is_empty());
}

#[test]
fn expect_100_continue() {
    let mut d = Driver::new();
    let head =
        b"POST /api HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
    assert!(d.feed(head).is_empty());
    assert_eq!(d.take_written(), "HTTP/1.1 100 Continue\r\n\r\n");
    assert!(d.feed(b"a").is_empty());
    assert_eq!(d.take_written(), "");
    let reqs = d.feed(b"bc");
    assert_eq!(reqs[0].body, Bytes::from_static(b"abc"));
    assert_eq!(reqs[0].method, Method::Post);
    // Behind a held request no interim answer is sent (it would jump the queue).
    let held = reqs[0].id;
    d.feed(head);
    assert_eq!(d.take_written(), "");
    d.answer(held, Response::empty(201));
    assert!(d.take_written().starts_with("HTTP/1.1 201 Created\r\n"));
}

#[test]
fn request_fields_and_methods() {
    let mut d = Driver::new();
    let reqs = d.feed(b"DELETE /v3/paths/x%2Fy HTTP/1.1\r\nHost: x\r\nX-Multi: a\r\nx-multi: b\r\nOrigin: http://o\r\n\r\nPUT / HTTP/1.1\r\nHost: x\r\n\r\nget / HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(reqs[0].method, Method::Delete);
    assert_eq!(reqs[0].path, "/v3/paths/x/y");
    assert_eq!(reqs[0].header("x-multi"), Some("a"));
    assert_eq!(
        reqs[0].headers,
        [
            ("host", "x"),
            ("x-multi", "a"),
            ("x-multi", "b"),
            ("origin", "http://o")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(reqs[0].origin.as_deref(), Some("http://o"));
    assert_eq!(reqs[1].method, Method::Other("PUT".into()));
    assert_eq!(reqs[2].method, Method::Other("get".into()));
    d.answer(
        reqs[0].id,
        Response::method_not_allowed("GET, HEAD, OPTIONS"),
    );
    assert!(d
        .take_written()
        .contains("405 Method Not Allowed\r\nServer: weir\r\nAllow: GET, HEAD, OPTIONS\r\n"));
}

#[test]
fn transport_close_emits_one_close() {
    let mut d = Driver::new();
    let id = d.feed(get("/a").as_bytes())[0].id;
    d.conn.handle_close("connection reset");
    d.conn.handle_close("again");
    d.drain();
    assert_eq!(d.closes, ["connection reset"]);
    d.answer(id, ok("late"));
    assert_eq!(d.take_written(), "");
    assert_eq!(d.conn.poll_timeout(), None);
}
