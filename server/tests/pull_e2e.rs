//! Pull sources: an edge weir whose path has `source: rtsp://<origin>/…` reads the stream
//! from an origin weir and serves it; the media a real reader (ffmpeg) gets from the edge is a
//! contiguous run of the clip the origin's publisher sends. Run on each runtime by
//! `scripts/test.sh`.

mod common;

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
    origin.wait_for_log("is reading from path 'cam', 2 tracks", secs(5));
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
