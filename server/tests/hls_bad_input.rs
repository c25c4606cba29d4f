//! HLS bad input: `..` in paths (raw and percent-encoded), oversized heads, unknown paths,
//! other methods, malformed request lines, bad LL-HLS directives, and clients that vanish
//! while their request is held or their segment is being sent. Each gets its exact status
//! (and the close where the contract says so) while ffmpeg keeps publishing `live/cam` and a
//! concurrent HLS reader of it (an [`HlsPoller`]: playlist every 300 ms, every new segment
//! downloaded in sequence) keeps receiving without an error.

mod common;

use std::sync::MutexGuard;
use std::thread;
use std::time::Duration;

use common::*;

const T: Duration = Duration::from_secs(5);

/// The path the bed publishes and reads.
const LIVE: &str = "live/cam";

/// Weir (HLS `lowLatency`, the default), ffmpeg publishing [`LIVE`] over RTSP, and an HLS
/// reader of it. Fields drop in order: the lock goes last.
struct Bed {
    poller: HlsPoller,
    before: PollStats,
    _publishers: Vec<ChildGuard>,
    weir: Weir,
    _serial: MutexGuard<'static, ()>,
}

fn bed() -> Bed {
    bed_with(&[])
}

/// Like [`bed`], with more paths published (over RTSP too).
fn bed_with(more_paths: &[&str]) -> Bed {
    let serial = serial();
    let weir = start_weir_hls(&hls_config(""));
    let fixture = Fixture::H264Aac.path();
    let mut publishers = Vec::new();
    for path in std::iter::once(&LIVE).chain(more_paths) {
        publishers.push(ffmpeg_publish(&fixture, &weir.url(path), "tcp"));
        weir.wait_for_log(&format!("is publishing to path '{path}'"), secs(20));
    }
    let poller = HlsPoller::start(weir.hls_port(), LIVE);
    poller.wait_segments(2, secs(20));
    let before = poller.snapshot();
    Bed {
        poller,
        before,
        _publishers: publishers,
        weir,
        _serial: serial,
    }
}

impl Bed {
    /// A fresh connection to the HLS listener.
    fn client(&self) -> HttpClient {
        self.weir.hls_client()
    }

    /// Sends `raw` on a fresh connection and returns the response; with `close`, asserts the
    /// server then closes the connection.
    fn expect(&self, raw: &[u8], status: u16, close: bool) -> HttpResponse {
        self.check(raw, status, close)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Bed::expect`], returning what went wrong instead of panicking.
    fn check(&self, raw: &[u8], status: u16, close: bool) -> Result<HttpResponse, String> {
        let what = String::from_utf8_lossy(&raw[..raw.len().min(80)]).into_owned();
        let mut c = self.client();
        // The server may answer and close before reading everything: a failed write is fine,
        // the response must still arrive.
        let _ = c.send_raw(raw);
        let r = c
            .read_response(raw.starts_with(b"HEAD "))
            .map_err(|e| format!("{what:?}: no response: {e}"))?;
        if r.status != status {
            return Err(format!(
                "{what:?} ({} bytes): expected {status}, got {} {}",
                raw.len(),
                r.summary(),
                r.text()
            ));
        }
        if close {
            c.wait_closed(T)
                .map_err(|e| format!("{what:?}: weir must close the connection: {e}"))?;
        }
        Ok(r)
    }

    /// `GET target` on a fresh connection; asserts the status.
    fn get_expect(&self, target: &str, status: u16) -> HttpResponse {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        self.expect(raw.as_bytes(), status, false)
    }

    /// Asserts the reader is still receiving (2 more segments, no error) and weir is alive.
    fn finish(mut self) {
        self.poller.assert_flowing(&self.before, 2, secs(15));
        self.weir.assert_alive();
    }
}

#[test]
fn dot_dot_paths_are_400() {
    let bed = bed();
    for target in [
        "/live/../live/cam/index.m3u8",
        "/../live/cam/index.m3u8",
        "/live/cam/../../etc/passwd",
        "/live/%2e%2e/live/cam/index.m3u8",
        "/live/%2E%2E/cam/index.m3u8",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/live/cam/..%2f..%2fetc/passwd",
        "/live/cam/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/live/cam/..",
    ] {
        bed.get_expect(target, 400);
    }
    bed.finish();
}

#[test]
fn oversized_heads_are_431_and_closed() {
    let bed = bed();
    let pad = "a".repeat(17 * 1024);
    // A big header field.
    let raw =
        format!("GET /live/cam/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {pad}\r\n\r\n");
    bed.expect(raw.as_bytes(), 431, true);
    // A big request target.
    let raw = format!("GET /live/cam/{pad}.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    bed.expect(raw.as_bytes(), 431, true);
    // Many small fields adding up to more than 16 KiB, and a head that never ends.
    let many: String = (0..40)
        .map(|i| format!("X-F{i}: {}\r\n", "b".repeat(500)))
        .collect();
    let raw = format!("GET /live/cam/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n{many}\r\n");
    bed.expect(raw.as_bytes(), 431, true);
    let raw = format!("GET /live/cam/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: {pad}");
    bed.expect(raw.as_bytes(), 431, true);
    bed.finish();
}

#[test]
fn unknown_paths_are_404() {
    let bed = bed();
    for target in [
        "/nobody/index.m3u8",
        "/nobody/here/index.m3u8",
        "/live/nobody/index.m3u8",
        "/live/cam/nothing.bin",
        "/",
    ] {
        bed.get_expect(target, 404);
    }
    let r = bed.expect(
        b"HEAD /nobody/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        404,
        false,
    );
    assert!(r.body.is_empty());
    // A 404 creates no muxer.
    assert_eq!(bed.weir.count_log(&muxer_created_tag("nobody")), 0);
    bed.finish();
}

#[test]
fn other_methods_are_405_with_allow() {
    let bed = bed();
    for raw in [
        "POST /live/cam/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
        "PUT /live/cam/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc",
        "DELETE /live/cam/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "PATCH /nobody/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}",
    ] {
        let r = bed.expect(raw.as_bytes(), 405, false);
        let allow = r
            .header("Allow")
            .unwrap_or_else(|| panic!("405 without Allow for {raw:?}: {:?}", r.headers));
        let methods: Vec<&str> = allow.split(',').map(str::trim).collect();
        assert!(
            methods.contains(&"GET") && methods.contains(&"HEAD"),
            "Allow {allow:?} for {raw:?}"
        );
    }
    bed.finish();
}

/// Every case is tried, then the failures are listed together.
#[test]
fn malformed_request_lines_are_400_and_closed() {
    let bed = bed();
    let mut failures = Vec::new();
    for raw in [
        &b"G(T /live/cam/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"[..],
        b"GET  /live/cam/index.m3u8 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        // Two words, but not an HTTP/0.9 request line (the method is not a token): malformed.
        b"\x00\x01\x02\x03 garbage\r\n\r\n",
        b"GET /live/cam/index.m3u8 HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n",
        // HTTP/1.1 without Host.
        b"GET /live/cam/index.m3u8 HTTP/1.1\r\n\r\n",
    ] {
        if let Err(e) = bed.check(raw, 400, true) {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "malformed requests:\n{}",
        failures.join("\n")
    );
    bed.finish();
}

#[test]
fn bad_blocking_reload_directives_are_400() {
    let bed = bed();
    let mut c = bed.client();
    let (media, _) = media_playlist_target(&mut c, LIVE).unwrap_or_else(|e| panic!("{e}"));
    let (_, pl) = fetch_media_playlist(&mut c, &media).unwrap_or_else(|e| panic!("{e}"));
    let far = pl.next_msn() + 10;
    for query in [
        format!("_HLS_msn={far}"),
        format!("_HLS_msn={far}&_HLS_part=0"),
        "_HLS_msn=abc".to_string(),
        "_HLS_msn=-1".to_string(),
        format!("_HLS_msn={}&_HLS_part=x", pl.next_msn()),
        "_HLS_msn=99999999999999999999999".to_string(),
    ] {
        let target = format!("{media}?{query}");
        let r = c
            .get(&target)
            .unwrap_or_else(|e| panic!("GET {target}: {e}"));
        assert_eq!(r.status, 400, "GET {target}: {}", r.summary());
        assert!(
            r.elapsed < secs(2),
            "GET {target} was held {:?} before its 400",
            r.elapsed
        );
    }
    bed.finish();
}

/// Clients that vanish while weir holds their request (blocking reloads, preload-hinted parts),
/// mid-request, and while a segment is being sent; then weir still answers a blocking reload
/// on that path in time, and the reader of the other path never noticed.
#[test]
fn clients_vanishing_mid_held_request_leave_weir_serving() {
    const OTHER: &str = "other/cam";
    let bed = bed_with(&[OTHER]);
    let mut c = bed.client();
    let (media, _) = media_playlist_target(&mut c, OTHER).unwrap_or_else(|e| panic!("{e}"));
    let (_, pl) = fetch_media_playlist(&mut c, &media).unwrap_or_else(|e| panic!("{e}"));
    let part_target = pl.part_target.unwrap_or(0.2);
    let (m, _) = pl.next_part();
    let hint = pl.preload_hint_uri().map(|u| resolve(&media, u));
    let newest = resolve(&media, &pl.segments.last().expect("a segment").uri);
    for round in 0..3 {
        let mut vanishing = Vec::new();
        for i in 0..30 {
            let mut v = bed.client();
            // Held about a segment: part 0 of the segment after the open one.
            let target = match (i % 3, &hint) {
                (0, Some(h)) => h.clone(),
                _ => format!("{media}?_HLS_msn={}&_HLS_part=0", m + 1 + round),
            };
            v.send_raw(format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
                .expect("send a held request");
            vanishing.push(v);
        }
        // Half a request, and a segment download nobody reads.
        let mut half = bed.client();
        half.send_raw(b"GET /other/cam/index.m3u8 HTTP/1.1\r\nHost: 127.")
            .expect("send half");
        vanishing.push(half);
        for _ in 0..10 {
            let mut s = bed.client();
            s.send_raw(format!("GET {newest} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
                .expect("send a segment request");
            vanishing.push(s);
        }
        thread::sleep(Duration::from_millis(150));
        for v in vanishing {
            v.vanish();
        }
        // Let the held requests come due (they are answered to closed sockets).
        thread::sleep(Duration::from_millis(1300));
    }
    bed.weir.wait_for_log_since(0, &muxer_created_tag(OTHER), T);
    // The path still serves blocking reloads in time.
    let mut c = bed.client();
    let (_, pl) = fetch_media_playlist(&mut c, &media).unwrap_or_else(|e| panic!("{e}"));
    let (m, i) = pl.next_part();
    let target = format!("{media}?_HLS_msn={m}&_HLS_part={i}");
    let r = c
        .get(&target)
        .unwrap_or_else(|e| panic!("GET {target}: {e}"));
    assert_eq!(r.status, 200, "GET {target}: {}", r.summary());
    let upper = Duration::from_secs_f64(part_target) + Duration::from_millis(300);
    assert!(
        r.elapsed <= upper,
        "blocking reload after the vanishing clients took {:?}",
        r.elapsed
    );
    let pl = MediaPlaylist::parse(&r.text()).expect("playlist");
    assert!(
        pl.has_part(m, i),
        "the answer lacks part {i} of segment {m}:\n{}",
        pl.text
    );
    bed.finish();
}
