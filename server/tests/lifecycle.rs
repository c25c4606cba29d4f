//! Process lifecycle: clean shutdown on SIGINT / SIGTERM with sessions open, and configuration
//! errors reported by key and line before anything starts.

mod common;

use common::*;
use std::process::Command;

fn shuts_down_cleanly_on(sig: &str) {
    let _serial = serial();
    let mut weir = Weir::start(&rtsp_config(""));
    let _publisher = ffmpeg_publish(Fixture::H264Aac.path().as_path(), &weir.url("live"), "tcp");
    weir.wait_for_log("is publishing to path 'live'", secs(20));
    let mut reader = RawReader::start(weir.rtsp_port(), "live");
    reader.wait_video_packets(20, secs(10));
    let status = weir.stop_with_signal(sig, secs(5)).unwrap_or_else(|| {
        panic!(
            "weir did not exit within 5 s of SIG{sig}\n{}",
            weir.diagnostics()
        )
    });
    assert!(
        status.success(),
        "exit status {status} after SIG{sig}\n{}",
        weir.diagnostics()
    );
    let logs = weir.logs().join("\n");
    for line in [
        "shutting down gracefully",
        "destroyed: server is shutting down",
        "shutdown complete",
    ] {
        assert!(
            logs.contains(line),
            "missing '{line}' after SIG{sig}:\n{logs}"
        );
    }
    let _ = &mut reader;
}

#[test]
fn sigterm_closes_sessions_and_exits_zero() {
    shuts_down_cleanly_on("TERM");
}

#[test]
fn sigint_closes_sessions_and_exits_zero() {
    shuts_down_cleanly_on("INT");
}

#[test]
fn bad_config_is_rejected_naming_key_and_line() {
    let dir = TempDir::new("badconf");
    let cases = [
        (
            "logLevel: info\nrtspAdress: :8554\n",
            "'rtspAdress' (line 2)",
        ),
        ("writeQueueSize: many\n", "'writeQueueSize' (line 1)"),
        ("readTimeout: 10 seconds\n", "'readTimeout' (line 1)"),
        ("paths:\n  'bad name':\n", "bad name"),
        (
            "paths:\n  cam:\n    sourceTypo: x\n",
            "'paths.cam.sourceTypo' (line 3)",
        ),
    ];
    for (i, (yaml, want)) in cases.iter().enumerate() {
        let f = dir.file(&format!("c{i}.yml"));
        std::fs::write(&f, yaml).unwrap();
        let out = run_with_timeout(
            "weir-badconf",
            Command::new(env!("CARGO_BIN_EXE_weir")).arg(&f),
            secs(10),
        );
        assert!(
            !out.status.map(|s| s.success()).unwrap_or(true),
            "{yaml:?} must be refused"
        );
        assert!(
            out.stderr.contains(want),
            "{yaml:?}: stderr {:?} lacks {want:?}",
            out.stderr
        );
    }
}

#[test]
fn unimplemented_keys_are_named_in_one_warning() {
    let weir = Weir::start(&rtsp_config("srt: false\napi: yes\n"));
    let line = weir.wait_for_log("parsed, not implemented yet:", secs(5));
    assert!(
        line.contains("WAR") && line.contains("api") && line.contains("srt"),
        "{line}"
    );
}
