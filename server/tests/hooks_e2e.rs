//! Hooks (`runOn…`): each hook is a shell command whose environment is written to a file by
//! the command itself; the tests check the variables MediaMTX documents, that a hook whose
//! event ends is stopped, and that `runOnDemand` starts a real publisher (ffmpeg) when a
//! reader arrives and stops it after the last one left. Run on each runtime by
//! `scripts/test.sh`.

mod common;

use common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Waits for `file` to exist and parses its `NAME=value` lines.
fn env_file(file: &Path, timeout: Duration) -> HashMap<String, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = std::fs::read_to_string(file) {
            if text.contains("MTX_PATH=") {
                return text
                    .lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the hook never wrote {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn pid_alive(pid: &str) -> bool {
    Path::new(&format!("/proc/{}", pid.trim())).exists()
}

#[test]
fn ready_read_and_connect_hooks_get_mediamtx_s_environment() {
    let _serial = serial();
    let dir = TempDir::new("hooks");
    let d = dir.file("").display().to_string();
    let weir = Weir::start(&rtsp_config(&format!(
        "runOnConnect: 'env > {d}/connect.env'\n\
         paths:\n  cam:\n    \
         runOnAvailable: 'env > {d}/ready.env; echo $$ > {d}/ready.pid; exec sleep 60'\n    \
         runOnUnavailable: 'env > {d}/notready.env'\n    \
         runOnRead: 'env > {d}/read.env'\n    \
         runOnUnread: 'env > {d}/unread.env'\n"
    )));
    let port = weir.rtsp_port().to_string();
    let mut publisher = ffmpeg_publish(&Fixture::H264Aac.path(), &weir.url("cam?pub=1&x=y"), "tcp");
    let ready = env_file(&dir.file("ready.env"), secs(20));
    assert_eq!(ready.get("MTX_PATH").map(String::as_str), Some("cam"));
    assert_eq!(
        ready.get("MTX_SOURCE_TYPE").map(String::as_str),
        Some("rtspSession")
    );
    assert!(ready.get("MTX_SOURCE_ID").is_some_and(|v| !v.is_empty()));
    assert_eq!(ready.get("RTSP_PORT"), Some(&port));
    // The publisher's query, escaped as MediaMTX escapes it (url.QueryEscape).
    assert_eq!(
        ready.get("MTX_QUERY").map(String::as_str),
        Some("pub%3D1%26x%3Dy")
    );
    let connect = env_file_with(&dir.file("connect.env"), "MTX_CONN_TYPE=", secs(10));
    assert_eq!(
        connect.get("MTX_CONN_TYPE").map(String::as_str),
        Some("rtspConn")
    );
    assert!(connect
        .get("MTX_CONN_ID")
        .is_some_and(|v| v.starts_with("127.0.0.1:")));

    let got = ffmpeg_read_framemd5(&weir.url("cam?token=r1"), "tcp", 25, secs(30));
    assert!(got.len() >= 20, "the reader got {} frames", got.len());
    let read = env_file(&dir.file("read.env"), secs(10));
    assert_eq!(
        read.get("MTX_QUERY").map(String::as_str),
        Some("token%3Dr1")
    );
    assert_eq!(
        read.get("MTX_READER_TYPE").map(String::as_str),
        Some("rtspSession")
    );
    assert!(read.get("MTX_READER_ID").is_some_and(|v| !v.is_empty()));
    let unread = env_file(&dir.file("unread.env"), secs(10));
    assert_eq!(unread.get("MTX_PATH").map(String::as_str), Some("cam"));

    // The publisher leaves: runOnAvailable is stopped (SIGINT), runOnUnavailable runs.
    let pid = std::fs::read_to_string(dir.file("ready.pid")).expect("ready.pid");
    assert!(
        pid_alive(&pid),
        "runOnAvailable runs while the stream is ready"
    );
    publisher.kill();
    let notready = env_file(&dir.file("notready.env"), secs(20));
    assert_eq!(
        notready.get("MTX_SOURCE_TYPE").map(String::as_str),
        Some("rtspSession")
    );
    let deadline = Instant::now() + secs(10);
    while pid_alive(&pid) {
        assert!(Instant::now() < deadline, "runOnAvailable was not stopped");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// [`env_file`] waiting for a specific line.
fn env_file_with(file: &PathBuf, needle: &str, timeout: Duration) -> HashMap<String, String> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(text) = std::fs::read_to_string(file) {
            if text.contains(needle) {
                return text
                    .lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
            }
        }
        assert!(
            Instant::now() < deadline,
            "no {needle} in {}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn run_on_demand_starts_a_publisher_for_readers_and_stops_it_after() {
    let _serial = serial();
    let dir = TempDir::new("ondemand");
    let d = dir.file("").display().to_string();
    let fixture = Fixture::H264Aac.path();
    let source = source_framemd5(&fixture);
    let weir = Weir::start(&rtsp_config(&format!(
        "paths:\n  ondemand:\n    \
         runOnDemand: 'ffmpeg -hide_banner -nostdin -loglevel error -re -stream_loop -1 -i {} -c copy -f rtsp -rtsp_transport tcp rtsp://127.0.0.1:$RTSP_PORT/$MTX_PATH'\n    \
         runOnDemandCloseAfter: 2s\n    \
         runOnUnDemand: 'env > {d}/undemand.env'\n",
        fixture.display()
    )));
    std::thread::sleep(secs(1));
    assert!(
        !weir
            .logs()
            .iter()
            .any(|l| l.contains("runOnDemand command started")),
        "nothing runs before a reader asks"
    );
    // The reader's DESCRIBE waits until the command publishes.
    let got = ffmpeg_read_framemd5(&weir.url("ondemand?who=me"), "tcp", 75, secs(40));
    assert_contiguous_run(&got, &source, 50);
    weir.wait_for_log("[path ondemand] runOnDemand command started", secs(5));
    weir.wait_for_log("is publishing to path 'ondemand'", secs(5));
    // The reader left: after runOnDemandCloseAfter the command is stopped.
    weir.wait_for_log("[path ondemand] runOnDemand command stopped", secs(10));
    let undemand = env_file(&dir.file("undemand.env"), secs(10));
    assert_eq!(
        undemand.get("MTX_PATH").map(String::as_str),
        Some("ondemand")
    );
    // runOnDemand / runOnUnDemand get the query of the reader that asked first.
    assert_eq!(
        undemand.get("MTX_QUERY").map(String::as_str),
        Some("who%3Dme")
    );
    // Its publisher (ffmpeg, stopped by SIGINT) leaves the path.
    weir.wait_for_log_where("destroyed", secs(10), |l| l.contains("[RTSP] [session"));
}
