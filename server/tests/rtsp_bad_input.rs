//! RTSP bad input: every malformed or out-of-order request gets the exact status
//! code of the contract (and the connection is closed or kept as it says), while a
//! concurrent raw reader of a stream published by ffmpeg keeps receiving RTP with
//! no sequence gap.

mod common;

use std::sync::MutexGuard;
use std::time::Duration;

use common::*;

const T: Duration = Duration::from_secs(5);

/// A server with a published path and a raw reader on it, to prove bad input
/// elsewhere does not disturb it. Fields drop in order: the lock goes last.
struct Bed {
    reader: RawReader,
    before: ReaderStats,
    _publisher: ChildGuard,
    weir: Weir,
    _serial: MutexGuard<'static, ()>,
}

/// Starts weir (default config), ffmpeg publishing to `live` over TCP, and a raw reader of `live`.
fn bed() -> Bed {
    bed_with("", "live")
}

fn bed_with(extra_config: &str, path: &str) -> Bed {
    let serial = serial();
    let weir = Weir::start(&rtsp_config(extra_config));
    let publisher = ffmpeg_publish(&Fixture::H264Aac.path(), &weir.url(path), "tcp");
    weir.wait_for_log(&format!("is publishing to path '{path}'"), secs(20));
    let reader = RawReader::start(weir.rtsp_port(), path);
    reader.wait_video_packets(25, secs(10));
    let before = reader.snapshot();
    Bed {
        reader,
        before,
        _publisher: publisher,
        weir,
        _serial: serial,
    }
}

impl Bed {
    fn client(&self) -> RtspClient {
        RtspClient::connect(self.weir.rtsp_port())
    }

    fn url(&self, path: &str) -> String {
        self.weir.url(path)
    }

    /// Waits for a WAR line about connection `addr`.
    fn expect_war_on_conn(&self, addr: &str) -> String {
        let tag = format!("WAR [RTSP] [conn {addr}]");
        self.weir.wait_for_log_where(&tag, T, |l| l.contains(&tag))
    }

    /// Asserts the concurrent reader is still receiving, gap-free, and weir is alive.
    fn finish(mut self) {
        self.reader
            .assert_flowing_without_gap(&self.before, 25, secs(10));
        self.weir.assert_alive();
    }
}

/// Reads one response, asserts its status, then asserts the server closes the connection.
fn expect_status_then_close(c: &mut RtspClient, status: u16) -> Response {
    let r = c
        .try_read_response(T)
        .unwrap_or_else(|e| panic!("expected {status}: {e}"));
    assert_eq!(r.status, status, "unexpected response: {r:?}");
    c.wait_closed(T)
        .unwrap_or_else(|e| panic!("after {status} the server must close the connection: {e}"));
    r
}

/// Reads one response and asserts its status.
fn expect_status(c: &mut RtspClient, status: u16) -> Response {
    let r = c
        .try_read_response(T)
        .unwrap_or_else(|e| panic!("expected {status}: {e}"));
    assert_eq!(r.status, status, "unexpected response: {r:?}");
    r
}

/// Asserts the connection still answers (OPTIONS → 200).
fn expect_still_usable(c: &mut RtspClient, url: &str) {
    let r = c.options(url);
    assert_eq!(r.status, 200, "connection should stay usable: {r:?}");
}

/// Sends `bytes` on a fresh connection; expects 400, a close, a WAR line and a `closed` line.
fn garbage_gets_400_and_close(bytes: &[u8]) {
    let bed = bed();
    let mut c = bed.client();
    let addr = c.local_addr();
    bed.weir.wait_for_log(&format!("[conn {addr}] opened"), T);
    let _ = c.send_raw(bytes);
    let r = expect_status_then_close(&mut c, 400);
    assert_eq!(r.reason, "Bad Request", "{r:?}");
    bed.expect_war_on_conn(&addr);
    bed.weir.wait_for_log(&format!("[conn {addr}] closed"), T);
    bed.finish();
}

#[test]
fn garbage_request_line_gets_400_and_close() {
    garbage_gets_400_and_close(b"THIS-IS-NOT-A-REQUEST-LINE\r\nCSeq: 1\r\n\r\n");
}

#[test]
fn garbage_header_line_gets_400_and_close() {
    garbage_gets_400_and_close(
        b"OPTIONS rtsp://127.0.0.1/live RTSP/1.0\r\nCSeq: 1\r\nthis header has no colon\r\n\r\n",
    );
}

#[test]
fn non_rtsp_bytes_get_400_and_close() {
    // A TLS ClientHello-like binary prefix, then an end of head so a buffering parser also decides.
    let mut bytes = vec![
        0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 0x00, 0xff, 0xfe,
    ];
    bytes.extend_from_slice(b"\r\n\r\n");
    garbage_gets_400_and_close(&bytes);
}

#[test]
fn head_over_16k_without_end_gets_400_and_close() {
    let bed = bed();
    let mut c = bed.client();
    let addr = c.local_addr();
    let mut bytes = format!(
        "OPTIONS {} RTSP/1.0\r\nCSeq: 1\r\nX-Padding: ",
        bed.url("live")
    )
    .into_bytes();
    bytes.resize(17 * 1024, b'a');
    let _ = c.send_raw(&bytes);
    expect_status_then_close(&mut c, 400);
    bed.expect_war_on_conn(&addr);
    bed.weir.wait_for_log(&format!("[conn {addr}] closed"), T);
    bed.finish();
}

#[test]
fn body_over_1mib_gets_413_and_close() {
    let bed = bed();
    let mut c = bed.client();
    let addr = c.local_addr();
    let head = format!(
        "ANNOUNCE {} RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n",
        bed.url("big"),
        2 * 1024 * 1024
    );
    let mut bytes = head.into_bytes();
    bytes.extend(std::iter::repeat_n(b'v', 64 * 1024));
    let _ = c.send_raw(&bytes);
    expect_status_then_close(&mut c, 413);
    bed.expect_war_on_conn(&addr);
    bed.weir.wait_for_log(&format!("[conn {addr}] closed"), T);
    bed.finish();
}

#[test]
fn missing_cseq_gets_400_and_connection_stays_open() {
    let bed = bed();
    let mut c = bed.client();
    let addr = c.local_addr();
    c.send_raw(format!("OPTIONS {} RTSP/1.0\r\n\r\n", bed.url("live")).as_bytes())
        .expect("send");
    expect_status(&mut c, 400);
    bed.expect_war_on_conn(&addr);
    expect_still_usable(&mut c, &bed.url("live"));
    bed.finish();
}

#[test]
fn duplicate_cseq_gets_400_and_connection_stays_open() {
    let bed = bed();
    let mut c = bed.client();
    let addr = c.local_addr();
    c.send_raw(
        format!(
            "OPTIONS {} RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n",
            bed.url("live")
        )
        .as_bytes(),
    )
    .expect("send");
    expect_status(&mut c, 400);
    bed.expect_war_on_conn(&addr);
    expect_still_usable(&mut c, &bed.url("live"));
    bed.finish();
}

#[test]
fn rtsp_2_0_gets_505() {
    let bed = bed();
    let mut c = bed.client();
    c.send_raw(format!("OPTIONS {} RTSP/2.0\r\nCSeq: 1\r\n\r\n", bed.url("live")).as_bytes())
        .expect("send");
    expect_status(&mut c, 505);
    bed.finish();
}

#[test]
fn unknown_method_gets_501() {
    let bed = bed();
    let mut c = bed.client();
    let r = c.request("FOO", &bed.url("live"), &[], b"");
    assert_eq!(r.status, 501, "{r:?}");
    expect_still_usable(&mut c, &bed.url("live"));
    bed.finish();
}

#[test]
fn redirect_from_client_gets_405_with_allow() {
    let bed = bed();
    let mut c = bed.client();
    let r = c.request("REDIRECT", &bed.url("live"), &[], b"");
    assert_eq!(r.status, 405, "{r:?}");
    let allow = r
        .header("Allow")
        .unwrap_or_else(|| panic!("405 without Allow header: {r:?}"));
    assert!(
        allow.contains("OPTIONS") && allow.contains("DESCRIBE"),
        "Allow: {allow}"
    );
    bed.finish();
}

#[test]
fn describe_of_unpublished_path_gets_404() {
    let bed = bed();
    let mut c = bed.client();
    let r = c.describe(&bed.url("nobody-publishes-here"));
    assert_eq!(r.status, 404, "{r:?}");
    bed.finish();
}

#[test]
fn setup_of_missing_track_gets_404() {
    let bed = bed();
    let mut c = bed.client();
    let r = c.setup_interleaved(&bed.url("live/trackID=9"), 0);
    assert_eq!(r.status, 404, "{r:?}");
    bed.finish();
}

#[test]
fn setup_of_aggregate_url_of_multi_track_stream_gets_459() {
    let bed = bed();
    let mut c = bed.client();
    let tracks = c.describe_tracks(&bed.url("live"));
    assert_eq!(tracks.len(), 2, "expected video + audio: {tracks:?}");
    let r = c.setup_interleaved(&bed.url("live"), 0);
    assert_eq!(r.status, 459, "{r:?}");
    bed.finish();
}

#[test]
fn setup_without_transport_gets_400() {
    let bed = bed();
    let mut c = bed.client();
    let tracks = c.describe_tracks(&bed.url("live"));
    let r = c.request("SETUP", &tracks[0].url, &[], b"");
    assert_eq!(r.status, 400, "{r:?}");
    bed.finish();
}

#[test]
fn setup_with_only_unsupported_transport_gets_461() {
    let bed = bed();
    let mut c = bed.client();
    let tracks = c.describe_tracks(&bed.url("live"));
    let r = c.request(
        "SETUP",
        &tracks[0].url,
        &[("Transport", "RTP/SAVP;unicast;client_port=40000-40001")],
        b"",
    );
    assert_eq!(r.status, 461, "{r:?}");
    bed.finish();
}

#[test]
fn play_and_record_without_session_get_455() {
    let bed = bed();
    let mut c = bed.client();
    let r = c.play(&bed.url("live"));
    assert_eq!(r.status, 455, "PLAY: {r:?}");
    let r = c.request("RECORD", &bed.url("live"), &[("Range", "npt=0.000-")], b"");
    assert_eq!(r.status, 455, "RECORD: {r:?}");
    bed.finish();
}

#[test]
fn play_with_unknown_session_gets_454() {
    let bed = bed();
    let mut c = bed.client();
    let r = c.request(
        "PLAY",
        &bed.url("live"),
        &[("Session", "deadbeef00"), ("Range", "npt=0.000-")],
        b"",
    );
    assert_eq!(r.status, 454, "{r:?}");
    bed.finish();
}

#[test]
fn play_on_publishing_session_gets_455() {
    let bed = bed();
    let mut c = bed.client();
    let r = c.announce(&bed.url("mine"), H264_SDP);
    assert_eq!(r.status, 200, "ANNOUNCE: {r:?}");
    let r = c.setup_record_interleaved(&bed.url("mine/trackID=0"), 0);
    assert_eq!(r.status, 200, "SETUP (record): {r:?}");
    let r = c.play(&bed.url("mine"));
    assert_eq!(r.status, 455, "PLAY on a publishing session: {r:?}");
    bed.finish();
}

#[test]
fn record_on_reading_session_gets_455() {
    let bed = bed();
    let mut c = bed.client();
    let tracks = c.describe_tracks(&bed.url("live"));
    let r = c.setup_interleaved(&tracks[0].url, 0);
    assert_eq!(r.status, 200, "SETUP: {r:?}");
    let r = c.request("RECORD", &bed.url("live"), &[("Range", "npt=0.000-")], b"");
    assert_eq!(r.status, 455, "RECORD on a reading session: {r:?}");
    bed.finish();
}

#[test]
fn announce_to_path_with_publisher_without_override_gets_400() {
    let config = "paths:\n  locked:\n    source: publisher\n    overridePublisher: no\n  all_others:\n    source: publisher\n";
    // The raw reader reads `locked`: if the first publisher were replaced, it would see a gap or stop.
    let bed = bed_with(config, "locked");
    let mut c = bed.client();
    let r = c.announce(&bed.url("locked"), H264_SDP);
    assert_eq!(
        r.status, 400,
        "second ANNOUNCE to a path with a publisher: {r:?}"
    );
    bed.finish();
}

#[test]
fn interleaved_frame_on_unset_channel_is_ignored_with_one_warning() {
    let bed = bed();
    let rtp = [
        0x80, 0x60, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef,
    ];
    // On a connection with no session at all.
    let mut c = bed.client();
    let addr = c.local_addr();
    c.send_frame(5, &rtp).expect("send frame");
    bed.expect_war_on_conn(&addr);
    expect_still_usable(&mut c, &bed.url("live"));
    std::thread::sleep(Duration::from_millis(500));
    let tag = format!("WAR [RTSP] [conn {addr}]");
    assert_eq!(
        bed.weir.count_log(&tag),
        1,
        "expected exactly one WAR line for the stray frame"
    );
    // On a reading connection (channels 0-1 set up), a frame on channel 8.
    let mut r = bed.client();
    let raddr = r.local_addr();
    let tracks = r.describe_tracks(&bed.url("live"));
    assert_eq!(r.setup_interleaved(&tracks[0].url, 0).status, 200);
    assert_eq!(r.play(&bed.url("live")).status, 200);
    r.send_frame(8, &rtp).expect("send frame");
    bed.expect_war_on_conn(&raddr);
    expect_still_usable(&mut r, &bed.url("live"));
    bed.finish();
}

/// SETUP (and optionally PLAY) `live` on a raw connection, then vanish without TEARDOWN;
/// the session and the connection must be logged as destroyed/closed. After SETUP only,
/// the close is a FIN; while playing, unread RTP makes the kernel send a RST.
fn vanishing_reader(play: bool) {
    let bed = bed();
    let mut c = bed.client();
    let addr = c.local_addr();
    let tracks = c.describe_tracks(&bed.url("live"));
    assert_eq!(c.setup_interleaved(&tracks[0].url, 0).status, 200);
    let created = bed.weir.wait_for_log(&format!("created by {addr}"), T);
    let id = log_session_id(&created).unwrap_or_else(|| panic!("no session id in {created:?}"));
    if play {
        assert_eq!(c.play(&bed.url("live")).status, 200);
        bed.weir
            .wait_for_log(&format!("[session {id}] is reading from path 'live'"), T);
    }
    c.vanish();
    bed.weir
        .wait_for_log(&format!("[session {id}] destroyed"), secs(15));
    bed.weir
        .wait_for_log(&format!("[conn {addr}] closed"), secs(15));
    bed.finish();
}

#[test]
fn client_vanishing_after_setup_destroys_its_session() {
    vanishing_reader(false);
}

#[test]
fn client_vanishing_while_playing_destroys_its_session() {
    vanishing_reader(true);
}

#[test]
fn publisher_vanishing_destroys_its_session_only() {
    let bed = bed();
    let other = ffmpeg_publish(&Fixture::H264Aac.path(), &bed.url("other"), "tcp");
    let line = bed
        .weir
        .wait_for_log("is publishing to path 'other'", secs(20));
    let id = log_session_id(&line).unwrap_or_else(|| panic!("no session id in {line:?}"));
    drop(other); // SIGKILL: the kernel closes its socket mid-stream
    bed.weir
        .wait_for_log(&format!("[session {id}] destroyed"), secs(15));
    bed.finish();
}
