//! RTSP end-to-end acceptance: real publishers (ffmpeg, GStreamer) push a
//! deterministic clip into weir, real readers (ffmpeg, GStreamer, ffprobe) pull it
//! back out, and the decoded frames must be a contiguous run of the source's frames.
//! Media is asserted, not exit codes. Run through `scripts/test.sh` (release build).

mod common;

use std::thread;
use std::time::Duration;

use common::*;

/// How long a publisher may take until weir logs it as publishing.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(20);
/// Hard limit for one reader.
const READ_TIMEOUT: Duration = Duration::from_secs(40);
/// Frames each reader decodes; at least [`MIN_FRAMES`] of them must match.
const READ_FRAMES: usize = 75;
const MIN_FRAMES: usize = 50;

/// Weir, a looping ffmpeg publisher of `fixture` on path `live`, and the source's frame hashes.
struct Published {
    publisher: ChildGuard,
    weir: Weir,
    source: Vec<String>,
}

fn publish_ffmpeg(fixture: Fixture, transport: &str, tracks: &str) -> Published {
    let weir = Weir::start(&rtsp_config(""));
    let path = fixture.path();
    let source = source_framemd5(&path);
    let publisher = ffmpeg_publish(&path, &weir.url("live"), transport);
    weir.wait_for_log(
        &format!(
            "is publishing to path 'live', with {}, {tracks}",
            transport.to_uppercase()
        ),
        PUBLISH_TIMEOUT,
    );
    Published {
        publisher,
        weir,
        source,
    }
}

/// Reads `live` with ffmpeg over `transport` and asserts a contiguous run; returns its start index.
fn assert_ffmpeg_reads(p: &Published, transport: &str) -> usize {
    let got = ffmpeg_read_framemd5(&p.weir.url("live"), transport, READ_FRAMES, READ_TIMEOUT);
    assert_contiguous_run(&got, &p.source, MIN_FRAMES)
}

#[test]
fn ffmpeg_tcp_publish_ffmpeg_tcp_read_h264_aac() {
    let _serial = serial();
    let p = publish_ffmpeg(Fixture::H264Aac, "tcp", "2 tracks (H264, MPEG-4 Audio)");
    let mark = p.weir.log_len();
    assert_ffmpeg_reads(&p, "tcp");
    p.weir.wait_for_log_since(
        mark,
        "is reading from path 'live', with TCP, 2 tracks (H264, MPEG-4 Audio)",
        secs(5),
    );
    let packets = ffprobe_packets(&p.weir.url("live"), "tcp", 3);
    assert_audio_packets(&packets, 40);
    assert!(
        packets.iter().any(|pk| pk.codec_type == "video"),
        "ffprobe saw no video packet"
    );
}

#[test]
fn ffmpeg_udp_publish_ffmpeg_udp_read_h264_aac() {
    let _serial = serial();
    let p = publish_ffmpeg(Fixture::H264Aac, "udp", "2 tracks (H264, MPEG-4 Audio)");
    assert_ffmpeg_reads(&p, "udp");
    let packets = ffprobe_packets(&p.weir.url("live"), "udp", 3);
    assert_audio_packets(&packets, 40);
}

/// GStreamer publishes the 30 s clip once (it cannot loop); three readers run at once.
fn gst_publish_then_read_all(publish_protocols: &str) {
    let _serial = serial();
    let weir = Weir::start(&rtsp_config(""));
    let path = Fixture::H264AacLong.path();
    let source = source_framemd5(&path);
    let _publisher = gst_publish(&path, &weir.url("live"), publish_protocols);
    // rtspclientsink announces the audio first and sends AAC as MP4A-LATM (RFC 6416).
    weir.wait_for_log(
        &format!(
            "is publishing to path 'live', with {}, 2 tracks (MPEG-4 Audio LATM, H264)",
            publish_protocols.to_uppercase()
        ),
        PUBLISH_TIMEOUT,
    );
    let url = weir.url("live");
    let ffmpeg_tcp = FfmpegReader::spawn(&url, "tcp", READ_FRAMES);
    let (u1, u2) = (url.clone(), url.clone());
    let gst_tcp = thread::spawn(move || gst_read_framemd5(&u1, "tcp", READ_FRAMES, READ_TIMEOUT));
    let gst_udp = thread::spawn(move || gst_read_framemd5(&u2, "udp", READ_FRAMES, READ_TIMEOUT));
    let results = [
        ("ffmpeg tcp", ffmpeg_tcp.collect(READ_TIMEOUT)),
        (
            "gst rtspsrc tcp",
            gst_tcp.join().expect("gst tcp reader thread"),
        ),
        (
            "gst rtspsrc udp",
            gst_udp.join().expect("gst udp reader thread"),
        ),
    ];
    for (name, got) in results {
        match contiguous_run_start(&got, &source) {
            Ok(_) if got.len() >= MIN_FRAMES => {}
            Ok(_) => panic!(
                "{name}: only {} frames decoded, need {MIN_FRAMES}",
                got.len()
            ),
            Err(why) => panic!("{name}: {why}"),
        }
    }
}

#[test]
fn gst_tcp_publish_read_by_ffmpeg_and_gst_tcp_udp() {
    gst_publish_then_read_all("tcp");
}

#[test]
fn gst_udp_publish_read_by_ffmpeg_and_gst_tcp_udp() {
    gst_publish_then_read_all("udp");
}

#[test]
fn ffmpeg_reads_udp_multicast_in_private_netns() {
    let _serial = serial();
    // Declared first so it is dropped last, after every process inside it is killed.
    let ns = NetNs::create();
    let prefix = ns.prefix();
    let weir = Weir::start_in(&rtsp_config(""), Some(prefix.clone()));
    let path = Fixture::H264Aac.path();
    let source = source_framemd5(&path);
    let _publisher = ffmpeg_publish_in(&prefix, &path, &weir.url("live"), "tcp");
    weir.wait_for_log(
        "is publishing to path 'live', with TCP, 2 tracks (H264, MPEG-4 Audio)",
        PUBLISH_TIMEOUT,
    );
    let got = ffmpeg_read_framemd5_in(
        &prefix,
        &weir.url("live"),
        "udp_multicast",
        READ_FRAMES,
        READ_TIMEOUT,
    );
    assert_contiguous_run(&got, &source, MIN_FRAMES);
    weir.wait_for_log("is reading from path 'live'", secs(5));
}

#[test]
fn eight_concurrent_readers_tcp_and_udp_all_match() {
    let _serial = serial();
    let p = publish_ffmpeg(Fixture::H264Aac, "tcp", "2 tracks (H264, MPEG-4 Audio)");
    let url = p.weir.url("live");
    let readers: Vec<(String, FfmpegReader)> = (0..8)
        .map(|i| {
            let transport = if i % 2 == 0 { "tcp" } else { "udp" };
            (
                format!("reader {i} ({transport})"),
                FfmpegReader::spawn(&url, transport, READ_FRAMES),
            )
        })
        .collect();
    let mut failures = Vec::new();
    for (name, reader) in readers {
        let got = reader.collect(READ_TIMEOUT);
        if got.len() < MIN_FRAMES {
            failures.push(format!("{name}: only {} frames", got.len()));
        } else if let Err(why) = contiguous_run_start(&got, &p.source) {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "concurrent readers failed:\n{}",
        failures.join("\n")
    );
    assert!(
        p.weir.count_log("is reading from path 'live'") >= 8,
        "fewer than 8 reading sessions logged"
    );
}

#[test]
fn late_reader_starts_at_a_key_frame() {
    let _serial = serial();
    let p = publish_ffmpeg(Fixture::H264Aac, "tcp", "2 tracks (H264, MPEG-4 Audio)");
    // 3.5 s: well into the stream and in the middle of a GOP (key frames every 1 s).
    thread::sleep(Duration::from_millis(3500));
    // Packet level: the first video access unit weir sends must contain an IDR slice
    // (ffmpeg's decoder would silently drop frames before a key frame).
    let raw = RawReader::start(p.weir.rtsp_port(), "live");
    raw.wait_video_packets(30, secs(10));
    let nals = raw.snapshot().first_access_unit_nal_types();
    assert!(
        nals.contains(&5),
        "first access unit sent to a late reader has NAL types {nals:?}, no IDR (5)"
    );
    drop(raw);
    // Frame level: the first decoded frame is a GOP start of the (cyclic) source.
    let start = assert_ffmpeg_reads(&p, "tcp");
    assert_eq!(
        start % GOP,
        0,
        "late reader's first frame is source frame {start}, not a key frame (GOP {GOP})"
    );
}

#[test]
fn h265_aac_round_trip() {
    let _serial = serial();
    let p = publish_ffmpeg(Fixture::H265Aac, "tcp", "2 tracks (H265, MPEG-4 Audio)");
    assert_ffmpeg_reads(&p, "tcp");
}

#[test]
fn h264_with_b_frames_round_trip() {
    let _serial = serial();
    let p = publish_ffmpeg(
        Fixture::H264BFramesAac,
        "tcp",
        "2 tracks (H264, MPEG-4 Audio)",
    );
    assert_ffmpeg_reads(&p, "tcp");
}

#[test]
fn h264_opus_round_trip() {
    let _serial = serial();
    let p = publish_ffmpeg(Fixture::H264Opus, "tcp", "2 tracks (H264, Opus)");
    assert_ffmpeg_reads(&p, "tcp");
    let packets = ffprobe_packets(&p.weir.url("live"), "tcp", 3);
    assert_audio_packets(&packets, 40);
    drop(p.publisher);
}

// ---- the harness's own logic (no server needed) ----

#[test]
fn harness_contiguous_run_is_cyclic_and_exact() {
    let src: Vec<String> = (0..10).map(|i| format!("{i:032x}")).collect();
    let got: Vec<String> = [7, 8, 9, 0, 1, 2].iter().map(|&i| src[i].clone()).collect();
    assert_eq!(contiguous_run_start(&got, &src), Ok(7));
    let skipped: Vec<String> = [3, 4, 6].iter().map(|&i| src[i].clone()).collect();
    let err = contiguous_run_start(&skipped, &src).unwrap_err();
    assert!(
        err.contains("received frame 2") && err.contains("[6]"),
        "{err}"
    );
    let corrupt = vec!["f".repeat(32)];
    assert!(contiguous_run_start(&corrupt, &src).is_err());
    assert!(contiguous_run_start(&[], &src).is_err());
}

#[test]
fn harness_parses_listener_lines() {
    let line = "2026/11/24 06:00:00 INF [RTSP] listener opened on 127.0.0.1:41234 (TCP), \
                127.0.0.1:41300 (UDP/RTP), 127.0.0.1:41301 (UDP/RTCP)";
    let l = parse_listener_line(line).expect("parsed");
    let got: Vec<(&str, &str, u16)> = l
        .iter()
        .map(|x| (x.proto.as_str(), x.kind.as_str(), x.port))
        .collect();
    assert_eq!(
        got,
        [
            ("RTSP", "TCP", 41234),
            ("RTSP", "UDP/RTP", 41300),
            ("RTSP", "UDP/RTCP", 41301)
        ]
    );
    let hls = parse_listener_line("2026/11/24 06:00:00 INF [HLS] listener opened on :8888")
        .expect("parsed");
    assert_eq!(
        (hls[0].proto.as_str(), hls[0].port, hls[0].kind.as_str()),
        ("HLS", 8888, "")
    );
    assert_eq!(
        log_session_id("INF [RTSP] [session 2a4c9f1e] destroyed: x"),
        Some("2a4c9f1e".into())
    );
    assert_eq!(
        h264_nal_types(&[0x18, 0, 2, 0x67, 0, 0, 2, 0x68, 0]),
        vec![7, 8]
    );
    assert_eq!(h264_nal_types(&[0x7c, 0x85, 1]), vec![5]);
}
