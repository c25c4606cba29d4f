//! Pull sources: an edge weir whose path has `source: rtsp://<origin>/…` (or `rtmp://…`, TLS, UDP)
//! reads the stream from an origin weir and serves it; the media a real reader (ffmpeg) gets
//! from the edge is a contiguous run of the clip the origin's publisher sends. Run on each
//! runtime by `scripts/test.sh`.

mod common;

use common::hls::{hls_config, WeirHls};
use common::rtmp::WeirRtmp;
use common::rtsp_client::RtspClient;
use common::*;

/// An origin weir with ffmpeg publishing the H264+AAC clip to `cam`, and the clip's frames.
fn origin() -> (Weir, ChildGuard, Vec<String>) {
    let origin = Weir::start(&rtsp_config(""));
    let fixture = Fixture::H264Aac.path();
    let source = source_framemd5(&fixture);
    let publisher = ffmpeg_publish(&fixture, &origin.url("cam"), "tcp");
    origin.wait_for_log("is publishing to path 'cam'", secs(20));
    (origin, publisher, source)
}

fn edge_of(origin: &Weir) -> Weir {
    Weir::start(&rtsp_config(&format!(
        "paths:\n  cam:\n    source: {}\n  all_others:\n    source: publisher\n",
        origin.url("cam")
    )))
}

#[test]
fn edge_pulls_from_an_rtsp_origin() {
    let _serial = serial();
    let (mut origin, _publisher, source) = origin();
    let mut edge = edge_of(&origin);
    edge.wait_for_log(
        "[path cam] [RTSP source] ready: 2 tracks (H264, MPEG-4 Audio)",
        secs(20),
    );
    // The origin serves the edge as one of its readers.
    origin.wait_for_log("is reading from path 'cam', with UDP, 2 tracks", secs(5));
    let got = ffmpeg_read_framemd5(&edge.url("cam"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    let got = ffmpeg_read_framemd5(&edge.url("cam"), "udp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    edge.assert_alive();
    origin.assert_alive();
}

#[test]
fn a_lost_source_is_retried_and_comes_back() {
    let _serial = serial();
    let (origin, mut publisher, source) = origin();
    let edge = edge_of(&origin);
    edge.wait_for_log("[path cam] [RTSP source] ready", secs(20));
    // The origin's publisher goes away: the edge loses its source, logs why, and retries
    // (every 5 s) until the origin has the path again.
    let mark = edge.log_len();
    publisher.kill();
    edge.wait_for_log_since(mark, "[path cam] [RTSP source] ERR", secs(20));
    let _publisher = ffmpeg_publish(&Fixture::H264Aac.path(), &origin.url("cam"), "tcp");
    edge.wait_for_log_since(mark, "[path cam] [RTSP source] ready", secs(30));
    let got = ffmpeg_read_framemd5(&edge.url("cam"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
}

#[test]
fn publishing_to_a_path_with_a_source_is_refused() {
    let _serial = serial();
    let (origin, _publisher, _) = origin();
    let edge = edge_of(&origin);
    edge.wait_for_log("[path cam] [RTSP source] ready", secs(20));
    let mut intruder = ffmpeg_publish(&Fixture::H264Aac.path(), &edge.url("cam"), "tcp");
    edge.wait_for_log(
        "can't publish to path 'cam' since it is assigned to a static source",
        secs(20),
    );
    intruder.kill();
    // The source is still the path's stream.
    let got = ffmpeg_read_framemd5(&edge.url("cam"), "tcp", 50, secs(40));
    assert!(
        got.len() >= 25,
        "the edge still serves its source: {} frames",
        got.len()
    );
}

/// An edge whose every path is pulled on demand from the origin (`~^(.+)$`, `$G1`).
fn on_demand_edge_of(origin: &Weir) -> Weir {
    Weir::start_with(
        &rtsp_config(&format!(
            "paths:\n  \"~^(.+)$\":\n    source: rtsp://127.0.0.1:{}/$G1\n    sourceOnDemand: yes\n    sourceOnDemandCloseAfter: 2s\n",
            origin.rtsp_port()
        )),
        None,
        &["RTSP", "RTMP"],
    )
}

#[test]
fn on_demand_source_runs_only_while_read() {
    let _serial = serial();
    let (origin, _publisher, source) = origin();
    let edge = on_demand_edge_of(&origin);
    // Nobody reads: nothing is pulled.
    std::thread::sleep(secs(2));
    assert!(
        !edge
            .logs()
            .iter()
            .any(|l| l.contains("[RTSP source] started")),
        "an on-demand source must not start before a reader asks"
    );
    let origin_mark = origin.log_len();
    // The reader's DESCRIBE waits for the source, then reads the origin's stream.
    let got = ffmpeg_read_framemd5(&edge.url("cam"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    edge.wait_for_log("[path cam] [RTSP source] ready: 2 tracks", secs(5));
    origin.wait_for_log_since(origin_mark, "is reading from path 'cam'", secs(5));
    // The reader left: after sourceOnDemandCloseAfter (2 s) the edge lets the origin go.
    edge.wait_for_log("[path cam] source stopped: not needed by anyone", secs(10));
    origin.wait_for_log_since(origin_mark, "destroyed", secs(10));
    // A new reader starts it again, this time over RTMP.
    let mark = edge.log_len();
    let got = ffmpeg_read_rtmp_framemd5(&edge.rtmp_url("cam"), 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    edge.wait_for_log_since(mark, "[path cam] [RTSP source] ready", secs(5));
}

#[test]
fn on_demand_source_without_origin_stream_refuses_the_reader() {
    let _serial = serial();
    let (origin, _publisher, _) = origin();
    let edge = on_demand_edge_of(&origin);
    // The origin has no path 'nothing': the source fails, the waiting reader gets 404.
    let mut c = RtspClient::connect(edge.rtsp_port());
    let r = c.describe(&edge.url("nothing"));
    assert_eq!(r.status, 404, "{r:?}");
    edge.wait_for_log("[path nothing] [RTSP source] ERR", secs(5));
}

/// An origin weir with RTMP on, ffmpeg publishing the clip to `cam` over RTMP, and the clip's
/// frames.
fn rtmp_origin() -> (Weir, ChildGuard, Vec<String>) {
    let origin = Weir::start_with(&rtsp_config(""), None, &["RTSP", "RTMP"]);
    let fixture = Fixture::H264Aac.path();
    let source = source_framemd5(&fixture);
    let publisher = ffmpeg_publish_rtmp(&fixture, &origin.rtmp_url("cam"));
    origin.wait_for_log("is publishing to path 'cam'", secs(20));
    (origin, publisher, source)
}

#[test]
fn edge_pulls_from_an_rtmp_origin() {
    let _serial = serial();
    let (mut origin, _publisher, source) = rtmp_origin();
    let mut edge = Weir::start_with(
        &rtsp_config(&format!(
            "paths:\n  cam:\n    source: {}\n  all_others:\n    source: publisher\n",
            origin.rtmp_url("cam")
        )),
        None,
        &["RTSP", "RTMP"],
    );
    edge.wait_for_log(
        "[path cam] [RTMP source] ready: 2 tracks (H264, MPEG-4 Audio)",
        secs(20),
    );
    // The origin serves the edge as one of its RTMP readers.
    origin.wait_for_log("is reading from path 'cam', 2 tracks", secs(5));
    // The edge re-serves it over RTSP (units packetized again) and RTMP.
    let got = ffmpeg_read_framemd5(&edge.url("cam"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    let got = ffmpeg_read_rtmp_framemd5(&edge.rtmp_url("cam"), 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    edge.assert_alive();
    origin.assert_alive();
}

#[test]
fn on_demand_rtmp_source_runs_only_while_read() {
    let _serial = serial();
    let (origin, _publisher, source) = rtmp_origin();
    let edge = Weir::start_with(
        &rtsp_config(&format!(
            "paths:\n  \"~^(.+)$\":\n    source: rtmp://127.0.0.1:{}/$G1\n    sourceOnDemand: yes\n    sourceOnDemandCloseAfter: 2s\n",
            origin.rtmp_port()
        )),
        None,
        &["RTSP", "RTMP"],
    );
    std::thread::sleep(secs(2));
    assert!(
        !edge.logs().iter().any(|l| l.contains("source] started")),
        "an on-demand source must not start before a reader asks"
    );
    let origin_mark = origin.log_len();
    let got = ffmpeg_read_framemd5(&edge.url("cam"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    edge.wait_for_log("[path cam] [RTMP source] ready: 2 tracks", secs(5));
    origin.wait_for_log_since(origin_mark, "is reading from path 'cam'", secs(5));
    // The reader left: after sourceOnDemandCloseAfter (2 s) the edge closes its RTMP
    // connection to the origin.
    edge.wait_for_log("[path cam] source stopped: not needed by anyone", secs(10));
    origin.wait_for_log_since(origin_mark, "closed", secs(10));
    // A path the origin does not have: the reader is refused once the source fails.
    let mut c = RtspClient::connect(edge.rtsp_port());
    let r = c.describe(&edge.url("nothing"));
    assert_eq!(r.status, 404, "{r:?}");
    edge.wait_for_log(
        "[path nothing] [RTMP source] ERR: the server answered play with NetStream.Play.StreamNotFound",
        secs(5),
    );
}

#[test]
fn redirect_paths_send_rtsp_readers_elsewhere() {
    let _serial = serial();
    let (origin, _publisher, source) = origin();
    // `far` sends readers to the origin (an absolute URL); `near` to another path of the same
    // server (`/mirror`, made absolute from the request), which pulls the origin.
    let weir = Weir::start_with(
        &rtsp_config(&format!(
            "paths:\n  far:\n    source: redirect\n    sourceRedirect: {}\n  near:\n    source: redirect\n    sourceRedirect: /mirror\n  mirror:\n    source: {}\n",
            origin.url("cam"),
            origin.url("cam")
        )),
        None,
        &["RTSP", "RTMP"],
    );
    weir.wait_for_log("[path mirror] [RTSP source] ready", secs(20));
    let mut c = RtspClient::connect(weir.rtsp_port());
    let r = c.describe(&weir.url("near"));
    assert_eq!(r.status, 301, "{r:?}");
    assert_eq!(r.header("Location"), Some(weir.url("mirror").as_str()));
    // ffmpeg follows the 301 and gets the origin's media either way.
    let origin_mark = origin.log_len();
    let got = ffmpeg_read_framemd5(&weir.url("far"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    origin.wait_for_log_since(origin_mark, "is reading from path 'cam'", secs(5));
    let got = ffmpeg_read_framemd5(&weir.url("near"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    weir.wait_for_log("path 'near' redirects to", secs(5));
    // Protocols without a redirect answer are refused, naming where the path points.
    let got = ffmpeg_read_rtmp_framemd5(&weir.rtmp_url("near"), 10, secs(15));
    assert!(
        got.is_empty(),
        "an RTMP reader of a redirect path gets nothing"
    );
    weir.wait_for_log("path 'near' redirects readers to '/mirror'", secs(5));
}

#[test]
fn hls_readers_start_an_on_demand_source_and_run_on_read() {
    let _serial = serial();
    let (origin, _publisher, source) = origin();
    let dir = TempDir::new("hls-ondemand");
    let d = dir.file("").display().to_string();
    let edge = Weir::start_with(
        &hls_config(&format!(
            "paths:\n  \"~^(.+)$\":\n    source: rtsp://127.0.0.1:{}/$G1\n    sourceOnDemand: yes\n    sourceOnDemandCloseAfter: 2s\n    runOnRead: 'env > {d}/read.env'\n",
            origin.rtsp_port()
        )),
        None,
        &["RTSP", "RTMP", "HLS"],
    );
    std::thread::sleep(secs(1));
    assert!(
        !edge.logs().iter().any(|l| l.contains("source] started")),
        "an on-demand source must not start before a reader asks"
    );
    // The first playlist request waits for the source, then the muxer serves the stream.
    let url = format!("{}?viewer=7", edge.hls_url("cam"));
    let got = FfmpegReader::spawn_rtmp(&url, 100).collect(secs(60));
    assert_contiguous_run(&got, &source, 75);
    edge.wait_for_log("[path cam] [RTSP source] ready", secs(5));
    edge.wait_for_log("[HLS] [muxer cam] created", secs(5));
    // The muxer is the path's reader: runOnRead runs with MediaMTX's reader type and the
    // query of the request that created it.
    let text = (0..50)
        .find_map(|_| {
            let t = std::fs::read_to_string(dir.file("read.env")).unwrap_or_default();
            if t.contains("MTX_READER_TYPE=") {
                return Some(t);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
            None
        })
        .expect("runOnRead never ran for the HLS muxer");
    assert!(
        text.lines().any(|l| l == "MTX_READER_TYPE=hlsMuxer"),
        "{text}"
    );
    assert!(text.lines().any(|l| l == "MTX_PATH=cam"), "{text}");
    assert!(text.lines().any(|l| l == "MTX_QUERY=viewer%3D7"), "{text}");
    // A path the origin lacks: the waiting playlist request is refused when the source fails.
    let mut http = edge.hls_client();
    let r = http.get("/nothing/index.m3u8").expect("HLS answer");
    assert_eq!(r.status, 404, "{}", r.summary());
    edge.wait_for_log("[path nothing] [RTSP source] ERR", secs(5));
}

/// The test certificates (core/tests/data/tls, made for these tests).
fn tls_file(name: &str) -> String {
    format!(
        "{}/../core/tests/data/tls/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// A TLS terminator in front of `127.0.0.1:to`: `socat` with the test server certificate, on
/// a free loopback port (returned).
fn tls_terminator(to: u16) -> (ChildGuard, u16) {
    let cert = format!(
        "verify=0,cert={},key={}",
        tls_file("server.pem"),
        tls_file("server.key")
    );
    socat_relay("OPENSSL-LISTEN", &cert, &format!("TCP:127.0.0.1:{to}"))
}

/// `socat` relaying a free port of 127.0.0.1 (returned), listened to as `kind` with
/// `options`, to `connect`.
fn socat_relay(kind: &str, options: &str, connect: &str) -> (ChildGuard, u16) {
    require_tool("socat", "apt-get install socat");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listen = format!("{kind}:{port},bind=127.0.0.1,reuseaddr,fork,{options}");
    let mut cmd = std::process::Command::new("socat");
    cmd.args([&listen, connect]);
    let guard = ChildGuard::spawn("socat", &mut cmd, None);
    let deadline = std::time::Instant::now() + secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "socat never listened");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    (guard, port)
}

#[test]
fn tls_sources_are_verified_by_fingerprint_or_trusted_roots() {
    let _serial = serial();
    let (mut origin, _publisher, source) = rtmp_origin();
    let (_rtsps, rtsps_port) = tls_terminator(origin.rtsp_port());
    let (_rtmps, rtmps_port) = tls_terminator(origin.rtmp_port());
    // `byca`: no fingerprint, so the chain must reach a trusted root: the test CA, given as
    // the system store through SSL_CERT_FILE. `pinned`: the leaf's fingerprint as openssl
    // prints it. `wrong`: another fingerprint.
    let leaf = "5A:B4:8A:C8:41:EF:81:9D:33:83:3E:62:F5:6C:4E:35:1F:45:89:73:AB:96:B4:7E:D5:F3:A5:BD:83:4A:C7:64";
    let wrong = "ab".repeat(32);
    let paths = format!(
        "paths:\n  byca:\n    source: rtsps://127.0.0.1:{rtsps_port}/cam\n  \
         pinned:\n    source: rtmps://127.0.0.1:{rtmps_port}/cam\n    sourceFingerprint: {leaf}\n  \
         wrong:\n    source: rtsps://127.0.0.1:{rtsps_port}/cam\n    sourceFingerprint: {wrong}\n  \
         all_others:\n    source: publisher\n"
    );
    let env = vec![
        "env".into(),
        format!("SSL_CERT_FILE={}", tls_file("ca.pem")),
    ];
    let mut edge = Weir::start_with(&rtsp_config(&paths), Some(env), &["RTSP", "RTMP"]);
    edge.wait_for_log(
        "[path byca] [RTSP source] ready: 2 tracks (H264, MPEG-4 Audio)",
        secs(20),
    );
    edge.wait_for_log(
        "[path pinned] [RTMP source] ready: 2 tracks (H264, MPEG-4 Audio)",
        secs(20),
    );
    let refused = format!(
        "[path wrong] [RTSP source] ERR: TLS: invalid peer certificate: source fingerprint \
         does not match: expected {wrong}, got 5ab48ac841ef819d33833e62f56c4e351f458973ab96b47ed5f3a5bd834ac764"
    );
    edge.wait_for_log(&refused, secs(20));
    // Both origins' streams came through TLS: the clip's frames, in order.
    let got = ffmpeg_read_framemd5(&edge.url("byca"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    let got = ffmpeg_read_rtmp_framemd5(&edge.rtmp_url("pinned"), 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    // The refused source has no stream, and is retried (every 5 s) with the same outcome.
    let mark = edge.log_len();
    let describe = RtspClient::connect(edge.rtsp_port()).describe(&edge.url("wrong"));
    assert_eq!(describe.status, 404, "{describe:?}");
    edge.wait_for_log_since(mark, &refused, secs(15));
    assert_eq!(edge.count_log("[path wrong] [RTSP source] ready"), 0);
    edge.assert_alive();
    origin.assert_alive();
}

/// `rtspTransport` and `rtspAnyPort`: the edge reads the origin over UDP, UDP multicast, or
/// automatically (UDP where the origin offers it; TCP, after the origin's 461, where it does
/// not); each path serves the clip's frames.
#[test]
fn rtsp_sources_read_over_udp_multicast_or_automatically() {
    let _serial = serial();
    let (mut origin, _publisher, source) = origin();
    // A second origin that offers TCP only (it re-serves the first, read over TCP).
    let only_tcp = Weir::start_with(
        &rtsp_config(&format!(
            "paths:\n  cam:\n    source: {}\n    rtspTransport: tcp\n  all_others:\n    source: publisher\n",
            origin.url("cam")
        )),
        Some(vec!["env".into(), "MTX_RTSPTRANSPORTS=tcp".into()]),
        &["RTSP"],
    );
    only_tcp.wait_for_log("[path cam] [RTSP source] ready", secs(20));
    let from =
        |path: &str, extra: &str, url: &str| format!("  {path}:\n    source: {url}\n{extra}");
    let paths = [
        from("udp", "    rtspTransport: udp\n", &origin.url("cam")),
        from(
            "anyport",
            "    rtspTransport: udp\n    rtspAnyPort: yes\n",
            &origin.url("cam"),
        ),
        from(
            "mcast",
            "    rtspTransport: multicast\n",
            &origin.url("cam"),
        ),
        from("auto", "", &origin.url("cam")),
        from("fallback", "", &only_tcp.url("cam")),
    ]
    .concat();
    let mut edge = Weir::start(&rtsp_config(&format!(
        "paths:\n{paths}  all_others:\n    source: publisher\n"
    )));
    for path in ["udp", "anyport", "mcast", "auto", "fallback"] {
        edge.wait_for_log(
            &format!("[path {path}] [RTSP source] ready: 2 tracks (H264, MPEG-4 Audio)"),
            secs(20),
        );
    }
    // The origins saw each transport asked for: UDP three times (udp, anyport, auto),
    // multicast once; the TCP-only origin refused UDP and was read over TCP.
    let udp = "is reading from path 'cam', with UDP, 2 tracks";
    for _ in 0..50 {
        if origin.count_log(udp) >= 3 {
            break;
        }
        std::thread::sleep(secs(1) / 10);
    }
    assert_eq!(origin.count_log(udp), 3);
    origin.wait_for_log(
        "is reading from path 'cam', with UDP-multicast, 2 tracks",
        secs(5),
    );
    only_tcp.wait_for_log("is reading from path 'cam', with TCP, 2 tracks", secs(5));
    edge.wait_for_log("the server refused UDP, switching to TCP", secs(5));
    for path in ["udp", "anyport", "mcast", "auto", "fallback"] {
        let got = ffmpeg_read_framemd5(&edge.url(path), "tcp", 75, secs(40));
        assert_contiguous_run(&got, &source, 50);
    }
    assert_eq!(
        edge.count_log("switching to TCP"),
        1,
        "only 'fallback' switched"
    );
    edge.assert_alive();
    origin.assert_alive();
}

/// `rtspTransport: automatic` where UDP is lost on the way: the edge reaches the origin
/// through a TCP relay whose outgoing side is 127.0.0.3, so the origin sends the media to
/// 127.0.0.3, where nothing listens (as behind a NAT). The edge gets no UDP packet within 3 s
/// of PLAY, says so, reconnects at once over TCP, and serves the clip's frames.
#[test]
fn automatic_mode_reconnects_over_tcp_when_udp_is_lost() {
    let _serial = serial();
    let (origin, _publisher, source) = origin();
    let to = format!("TCP:127.0.0.1:{},bind=127.0.0.3", origin.rtsp_port());
    let (_relay, port) = socat_relay("TCP-LISTEN", "nodelay", &to);
    let edge = Weir::start(&rtsp_config(
        &format!("paths:\n  cam:\n    source: rtsp://127.0.0.1:{port}/cam\n  all_others:\n    source: publisher\n"),
    ));
    edge.wait_for_log(
        "[path cam] [RTSP source] no UDP packets received, switching to TCP",
        secs(20),
    );
    origin.wait_for_log("is reading from path 'cam', with UDP, 2 tracks", secs(5));
    origin.wait_for_log("is reading from path 'cam', with TCP, 2 tracks", secs(10));
    let got = ffmpeg_read_framemd5(&edge.url("cam"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    // Over TCP it stays: no second switch, no error.
    assert_eq!(edge.count_log("switching to TCP"), 1);
    assert_eq!(edge.count_log("[path cam] [RTSP source] ERR"), 0);
}
