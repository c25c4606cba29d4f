//! Hot reload: weir watches its configuration file; an edit that changes one path's entry
//! closes that path only — a reader of another path keeps receiving without a gap — and a
//! broken edit is reported while the running configuration stays. Run on each runtime by
//! `scripts/test.sh`.

mod common;

use common::rtsp_client::{RawReader, RtspClient};
use common::*;

const PATHS: &str = "paths:\n  cam1:\n    source: publisher\n  cam2:\n    source: publisher\n";

#[test]
fn reload_closes_the_changed_path_only() {
    let _serial = serial();
    let mut weir = Weir::start(&rtsp_config(PATHS));
    let fixture = Fixture::H264Aac.path();
    let mut pub1 = ffmpeg_publish(&fixture, &weir.url("cam1"), "tcp");
    let _pub2 = ffmpeg_publish(&fixture, &weir.url("cam2"), "tcp");
    weir.wait_for_log("is publishing to path 'cam1'", secs(20));
    weir.wait_for_log("is publishing to path 'cam2'", secs(20));
    let reader = RawReader::start(weir.rtsp_port(), "cam2");
    reader.wait_video_packets(25, secs(10));
    let before = reader.snapshot();

    // cam1's source changes (to a pull from a server that is not there): cam1 is closed —
    // its publisher disconnected, its new source started — and cam2 is untouched.
    let mark = weir.log_len();
    let edited = rtsp_config(
        "paths:\n  cam1:\n    source: rtsp://127.0.0.1:9/cam1\n  cam2:\n    source: publisher\n",
    );
    std::fs::write(weir.config_file(), edited).expect("edit the configuration");
    weir.wait_for_log_since(mark, "configuration reloaded from", secs(10));
    weir.wait_for_log_since(
        mark,
        "[path cam1] closed: its configuration changed",
        secs(5),
    );
    reader.assert_flowing_without_gap(&before, 50, secs(10));
    pub1.kill();

    // A broken edit: reported, the running configuration kept.
    let mark = weir.log_len();
    std::fs::write(weir.config_file(), "paths: [\n").expect("break the configuration");
    weir.wait_for_log_since(
        mark,
        "configuration not reloaded, the running one is kept",
        secs(10),
    );
    let before = reader.snapshot();
    reader.assert_flowing_without_gap(&before, 50, secs(10));
    // New readers still work with the running configuration.
    let got = ffmpeg_read_framemd5(&weir.url("cam2"), "tcp", 25, secs(30));
    assert!(
        got.len() >= 20,
        "a new reader of cam2 got {} frames",
        got.len()
    );
    weir.assert_alive();
}

/// A reload that changes `logLevel` applies it at once; one that changes another global key
/// (here `rtspAddress`) restarts the servers with it, naming the key: the RTSP listener moves
/// to the new port, where a publisher and a reader then work, and the old port is closed.
#[test]
fn global_keys_apply_on_reload() {
    let _serial = serial();
    let mut weir = Weir::start(&rtsp_config(PATHS));
    let old_port = weir.rtsp_port();
    let base = std::fs::read_to_string(weir.config_file()).expect("read the configuration");
    assert!(base.contains("logLevel: debug\n"), "{base}");

    // logLevel: applied without a restart (no DEB line after it, no listener reopened).
    let mark = weir.log_len();
    let quiet = base.replace("logLevel: debug\n", "logLevel: info\n");
    std::fs::write(weir.config_file(), &quiet).expect("edit the configuration");
    weir.wait_for_log_since(mark, "logLevel is now info", secs(10));
    let applied = weir.log_len();
    // A request that logs a DEB line at debug level.
    let probe = RtspClient::connect(old_port).options("rtsp://127.0.0.1/cam1");
    assert_eq!(probe.status, 200, "{probe:?}");
    std::thread::sleep(secs(1));
    let after = weir.logs().split_off(applied);
    assert!(after.iter().all(|l| !l.contains(" DEB ")), "{after:#?}");
    assert_eq!(weir.count_log("restarting the servers"), 0);

    // rtspAddress: the servers restart on the new port.
    let new_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mark = weir.log_len();
    let moved = quiet.replace(
        "rtspAddress: 127.0.0.1:0\n",
        &format!("rtspAddress: 127.0.0.1:{new_port}\n"),
    );
    assert_ne!(moved, quiet);
    std::fs::write(weir.config_file(), &moved).expect("edit the configuration");
    weir.wait_for_log_since(
        mark,
        "global keys changed (rtspAddress): restarting the servers",
        secs(10),
    );
    weir.wait_for_log_since(
        mark,
        &format!("[RTSP] listener opened on 127.0.0.1:{new_port} (TCP)"),
        secs(10),
    );
    let url = format!("rtsp://127.0.0.1:{new_port}/cam1");
    let _publisher = ffmpeg_publish(&Fixture::H264Aac.path(), &url, "tcp");
    weir.wait_for_log_since(mark, "is publishing to path 'cam1'", secs(20));
    let got = ffmpeg_read_framemd5(&url, "tcp", 25, secs(30));
    assert!(
        got.len() >= 20,
        "a reader on the new port got {} frames",
        got.len()
    );
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", old_port)).is_err(),
        "the old port still answers"
    );
    weir.assert_alive();
}
