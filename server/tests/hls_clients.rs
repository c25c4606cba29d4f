//! HLS clients end to end: ffmpeg publishes a deterministic clip over RTSP and weir serves it
//! as HLS. Headless Chromium plays the player page with hls.js, LL-HLS blocking reloads are
//! timed, 100 concurrent clients share one muxer, one keep-alive connection checks the HTTP
//! behaviour (redirect, player page, hls.js, HEAD, CORS, content types), and an idle muxer is
//! destroyed. Run through `scripts/test.sh`.
//!
//! Nothing here guesses a file name: only `/<path>/index.m3u8` is fixed by the contract;
//! everything else is followed from the playlists.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use common::*;

// ---- 1. a real browser ----

/// Headless Chromium opens the player page; the `<video>` must play ≥ 5 s with no fatal
/// hls.js error and show a non-blank picture. The screenshot is kept in
/// `target/test-artifacts/hls-<variant>.png`.
fn browser_plays(variant: &str) {
    let _serial = serial();
    let p = publish_rtsp(variant, "", PATH);
    let shot = artifacts_dir().join(format!("hls-{variant}.png"));
    let _ = std::fs::remove_file(&shot);
    let url = p.weir.hls_page_url(PATH);
    let run = play_in_chromium(&url, &shot, 5.0, secs(100));
    assert!(
        run.ok,
        "{variant}: Chromium did not play {url}: {}\n{}",
        run.json, run.log
    );
    assert!(
        run.played >= 5.0,
        "{variant}: played {} s: {}",
        run.played,
        run.json
    );
    assert_eq!(
        (
            json_raw(&run.json, "videoWidth"),
            json_raw(&run.json, "videoHeight")
        ),
        (Some("320"), Some("240")),
        "{variant}: the decoded picture size: {}",
        run.json
    );
    let stddev = run.picture_stddev.unwrap_or(0.0);
    assert!(
        stddev > 10.0,
        "{variant}: the decoded picture is flat (luma stddev {stddev}): {}",
        run.json
    );
    assert!(shot.is_file(), "no screenshot at {}", shot.display());
    println!("[hls] {variant}: Chromium reported {}", run.json);
    println!(
        "[hls] {variant}: Chromium played {:.2} s; screenshot: {}",
        run.played,
        shot.display()
    );
    p.weir.wait_for_log(&muxer_created_tag(PATH), secs(5));
}

#[test]
fn chromium_plays_fmp4_player_page() {
    browser_plays("fmp4");
}

#[test]
fn chromium_plays_low_latency_player_page() {
    browser_plays("lowLatency");
}

// ---- 2. LL-HLS blocking playlist reload ----

/// `_HLS_msn` / `_HLS_part` for the next part are held until that part exists. The bounds
/// below are behavioural, not speed asserts: a blocking request answered in less than half a
/// part duration after the previous part was not held (a stale playlist), one answered later
/// than a part duration plus 300 ms was held past the part's completion. Each timed request is
/// sent right after the previous one was answered, i.e. right after a part completed, so the
/// next part is about one part duration away. A request far beyond the live edge is 400.
#[test]
fn low_latency_blocking_reload_waits_for_the_next_part() {
    let _serial = serial();
    let p = publish_rtsp("lowLatency", "", PATH);
    let mut c = p.weir.hls_client();
    let (media, _) = media_playlist_target(&mut c, PATH).unwrap_or_else(|e| panic!("{e}"));
    let (_, mut pl) = fetch_media_playlist(&mut c, &media).unwrap_or_else(|e| panic!("{e}"));
    let part_target = pl
        .part_target
        .unwrap_or_else(|| panic!("no PART-TARGET:\n{}", pl.text));
    let upper = Duration::from_secs_f64(part_target) + Duration::from_millis(300);
    let lower = Duration::from_secs_f64(part_target * 0.5);
    let reload = |c: &mut HttpClient, msn: u64, part: u64| {
        let target = format!("{media}?_HLS_msn={msn}&_HLS_part={part}");
        let r = c
            .get(&target)
            .unwrap_or_else(|e| panic!("GET {target}: {e}"));
        assert_eq!(r.status, 200, "GET {target}: {} {}", r.summary(), r.text());
        let pl = MediaPlaylist::parse(&r.text()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            pl.has_part(msn, part),
            "the answer to {target} does not list part {part} of segment {msn}:\n{}",
            pl.text
        );
        (r.elapsed, pl)
    };
    // Synchronise with the part boundaries (this wait has any length up to a part).
    let (m, i) = pl.next_part();
    let (first, next) = reload(&mut c, m, i);
    assert!(
        first <= upper,
        "the first blocking reload took {first:?} (bound {upper:?})"
    );
    pl = next;
    let mut times = Vec::new();
    for _ in 0..5 {
        let (m, i) = pl.next_part();
        let (took, next) = reload(&mut c, m, i);
        times.push(took);
        assert!(
            took >= lower && took <= upper,
            "blocking reload for part {i} of segment {m} answered after {took:?}, expected \
             {lower:?}..={upper:?} (PART-TARGET {part_target} s); all so far: {times:?}"
        );
        pl = next;
    }
    eprintln!("[hls] blocking reloads answered after {times:?} (PART-TARGET {part_target} s)");

    // The preload hint names the next part: a request for it is held until it exists.
    let hint = pl
        .preload_hint_uri()
        .unwrap_or_else(|| panic!("no preload hint:\n{}", pl.text))
        .to_string();
    let r = c
        .get_ok(&resolve(&media, &hint))
        .unwrap_or_else(|e| panic!("preload-hinted part: {e}"));
    assert!(!r.body.is_empty(), "preload-hinted part {hint} is empty");
    assert!(
        r.elapsed <= upper,
        "preload-hinted part {hint} answered after {:?} (bound {upper:?})",
        r.elapsed
    );
    let (_, after) = fetch_media_playlist(&mut c, &media).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        after.all_parts().iter().any(|p| p.uri == hint),
        "the hinted part {hint} is not listed once served:\n{}",
        after.text
    );

    // Far beyond the live edge: 400 at once.
    let far = after.next_msn() + 10;
    let target = format!("{media}?_HLS_msn={far}");
    let r = c
        .get(&target)
        .unwrap_or_else(|e| panic!("GET {target}: {e}"));
    assert_eq!(r.status, 400, "GET {target}: {}", r.summary());
    let target = format!("{media}?_HLS_msn={far}&_HLS_part=0");
    let r = c
        .get(&target)
        .unwrap_or_else(|e| panic!("GET {target}: {e}"));
    assert_eq!(r.status, 400, "GET {target}: {}", r.summary());
}

// ---- 3. 100 concurrent clients, one muxer ----

/// 100 clients (threads, one keep-alive connection each) start at once on a path whose muxer
/// does not exist yet; each fetches the multivariant and media playlists and the newest
/// segment and part 4 times over ~5 s. All must get 200s, the same URI must always carry the
/// same bytes, and weir must create exactly one muxer.
#[test]
fn hundred_concurrent_clients_share_one_muxer() {
    const CLIENTS: usize = 100;
    let _serial = serial();
    let p = publish_rtsp("lowLatency", "", PATH);
    let port = p.weir.hls_port();
    let barrier = Arc::new(Barrier::new(CLIENTS));
    let seen: Arc<Mutex<HashMap<String, (u64, usize)>>> = Arc::new(Mutex::new(HashMap::new()));
    let failures: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let requests = Arc::new(Mutex::new(0usize));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (barrier, seen, failures, requests) = (
                barrier.clone(),
                seen.clone(),
                failures.clone(),
                requests.clone(),
            );
            thread::spawn(move || {
                let mut c = HttpClient::connect(port);
                barrier.wait();
                let run = |c: &mut HttpClient| -> Result<usize, String> {
                    let mut n = 0;
                    for round in 0..4 {
                        let (media, _) = media_playlist_target(c, PATH)?;
                        let (_, pl) = fetch_media_playlist(c, &media)?;
                        n += 2;
                        let mut uris: Vec<String> = Vec::new();
                        if let Some(s) = pl.segments.last() {
                            uris.push(s.uri.clone());
                        }
                        if let Some(part) = pl.last_part() {
                            uris.push(part.uri.clone());
                        }
                        if uris.is_empty() {
                            return Err(format!("round {round}: nothing listed:\n{}", pl.text));
                        }
                        for uri in uris {
                            let r = c.get_ok(&resolve(&media, &uri))?;
                            n += 1;
                            let d = (digest(&r.body), r.body.len());
                            let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                            match seen.get(&uri) {
                                Some(prev) if *prev != d => {
                                    return Err(format!(
                                        "{uri}: {} bytes (digest {:x}) where another client got \
                                         {} bytes (digest {:x})",
                                        d.1, d.0, prev.1, prev.0
                                    ))
                                }
                                Some(_) => {}
                                None => {
                                    seen.insert(uri, d);
                                }
                            }
                        }
                        thread::sleep(Duration::from_millis(1200));
                    }
                    Ok(n)
                };
                match run(&mut c) {
                    Ok(n) => *requests.lock().unwrap_or_else(|p| p.into_inner()) += n,
                    Err(e) => failures
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(format!("client {i}: {e}")),
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client thread");
    }
    let failures = failures.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert!(
        failures.is_empty(),
        "{} of {CLIENTS} clients failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let total = *requests.lock().unwrap_or_else(|p| p.into_inner());
    assert!(total >= CLIENTS * 4 * 3, "only {total} requests answered");
    let created = p.weir.count_log(&muxer_created_tag(PATH));
    assert_eq!(
        created,
        1,
        "weir logged {created} `{}` lines for {CLIENTS} concurrent clients\n{}",
        muxer_created_tag(PATH),
        p.weir.diagnostics()
    );
    eprintln!(
        "[hls] {CLIENTS} clients: {total} requests, {} distinct files",
        seen.lock().unwrap_or_else(|p| p.into_inner()).len()
    );
}

// ---- HTTP behaviour ----

/// One keep-alive connection: the player page, the redirect to it, hls.js, HEAD, CORS, and
/// the content types of playlists and segments.
#[test]
fn http_keepalive_head_cors_redirect_player_page_and_hlsjs() {
    let _serial = serial();
    let p = publish_rtsp("lowLatency", "", PATH);
    let mut c = p.weir.hls_client();
    let get = |c: &mut HttpClient, target: &str, headers: &[(&str, &str)]| {
        let r = c
            .request("GET", target, headers)
            .unwrap_or_else(|e| panic!("GET {target}: {e}"));
        assert!(
            r.keeps_alive(),
            "GET {target} closes the connection: {:?}",
            r.headers
        );
        r
    };
    // The path without its slash redirects to the player page.
    let r = get(&mut c, &format!("/{PATH}"), &[]);
    assert_eq!(r.status, 301, "GET /{PATH}: {}", r.summary());
    let location = r.header("Location").unwrap_or("");
    assert!(
        location.ends_with(&format!("/{PATH}/")),
        "301 Location {location:?}"
    );
    // The player page uses hls.js from weir.
    let r = get(&mut c, &format!("/{PATH}/"), &[]);
    assert_eq!(r.status, 200, "player page: {}", r.summary());
    assert!(
        r.header("Content-Type").unwrap_or("").contains("text/html"),
        "player page Content-Type {:?}",
        r.header("Content-Type")
    );
    let page = r.text();
    assert!(
        page.contains("<video") && page.contains("/hls.min.js"),
        "player page:\n{page}"
    );
    let r = get(&mut c, "/hls.min.js", &[]);
    assert_eq!(
        r.status,
        200,
        "/hls.min.js: {} (weir built without hls.js? run `npm ci` at the repository root)",
        r.summary()
    );
    assert!(
        r.body.len() > 100_000 && r.text().contains("Hls"),
        "/hls.min.js is not hls.js ({} bytes)",
        r.body.len()
    );
    assert!(
        r.header("Content-Type")
            .unwrap_or("")
            .contains("javascript"),
        "/hls.min.js Content-Type {:?}",
        r.header("Content-Type")
    );
    // CORS: any origin by default.
    let base = multivariant_target(PATH);
    let r = get(&mut c, &base, &[("Origin", "http://player.example")]);
    assert_eq!(r.status, 200, "{base}: {}", r.summary());
    let allow = r.header("Access-Control-Allow-Origin").unwrap_or("");
    assert!(
        allow == "*" || allow == "http://player.example",
        "Access-Control-Allow-Origin {allow:?}"
    );
    let mv = Multivariant::parse(&r.text()).unwrap_or_else(|e| panic!("{e}"));
    let media = resolve(&base, &mv.media_uris()[0]);
    let (_, pl) = fetch_media_playlist(&mut c, &media).unwrap_or_else(|e| panic!("{e}"));
    // HEAD: the same head as GET, no body (the next response on the connection parses).
    let seg = resolve(&media, &pl.segments.last().expect("a segment").uri);
    let h = c.head(&seg).unwrap_or_else(|e| panic!("HEAD {seg}: {e}"));
    assert_eq!(h.status, 200, "HEAD {seg}: {}", h.summary());
    let g = get(&mut c, &seg, &[]);
    assert_eq!(g.status, 200, "GET {seg}: {}", g.summary());
    assert_eq!(
        h.header("Content-Length"),
        Some(g.body.len().to_string().as_str()),
        "HEAD Content-Length vs GET body"
    );
    assert_eq!(h.header("Content-Type"), g.header("Content-Type"));
    assert_eq!(
        g.header("Content-Type")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("video/mp4")
    );
    // A CORS preflight.
    let r = c
        .request(
            "OPTIONS",
            &media,
            &[
                ("Origin", "http://player.example"),
                ("Access-Control-Request-Method", "GET"),
            ],
        )
        .unwrap_or_else(|e| panic!("OPTIONS {media}: {e}"));
    assert!(
        r.status == 204 || r.status == 200,
        "CORS preflight: {}",
        r.summary()
    );
    let methods = r.header("Access-Control-Allow-Methods").unwrap_or("");
    assert!(
        methods.contains("GET"),
        "Access-Control-Allow-Methods {methods:?}"
    );
    // Still the same connection.
    let r = get(&mut c, &base, &[]);
    assert_eq!(r.status, 200, "{base} after everything: {}", r.summary());
}

/// With `hlsMuxerCloseAfter: 2s`, a muxer nobody reads is destroyed, and the next request
/// creates a new one.
#[test]
fn idle_muxer_is_destroyed_after_hls_muxer_close_after() {
    let _serial = serial();
    let p = publish_rtsp("mpegts", "hlsMuxerCloseAfter: 2s\n", PATH);
    let mut c = p.weir.hls_client();
    let (media, _) = media_playlist_target(&mut c, PATH).unwrap_or_else(|e| panic!("{e}"));
    fetch_media_playlist(&mut c, &media).unwrap_or_else(|e| panic!("{e}"));
    p.weir.wait_for_log(&muxer_created_tag(PATH), secs(5));
    drop(c);
    let mark = p.weir.log_len();
    p.weir
        .wait_for_log_since(mark, &format!("[HLS] [muxer {PATH}] destroyed"), secs(10));
    let mut c = p.weir.hls_client();
    let (media, _) = media_playlist_target(&mut c, PATH).unwrap_or_else(|e| panic!("{e}"));
    let (_, pl) = fetch_media_playlist(&mut c, &media).unwrap_or_else(|e| panic!("{e}"));
    assert!(!pl.segments.is_empty(), "a new muxer lists segments");
    assert_eq!(p.weir.count_log(&muxer_created_tag(PATH)), 2);
}
