//! RTMP end-to-end acceptance: ffmpeg publishes a deterministic clip over RTMP (or RTSP),
//! real readers (ffmpeg, GStreamer `rtmpsrc`, VLC, ffprobe, and a raw RTMP player) pull it
//! back out over RTMP (or RTSP), and the decoded frames must be a contiguous run of the
//! source's frames. Media is asserted, not exit codes. Run through `scripts/test.sh`.
//!
//! `rtmp://127.0.0.1:PORT/live/cam` is weir path `live/cam` (app `live`, stream `cam`).

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
/// The path every test publishes to.
const PATH: &str = "live/cam";
const H264_AAC: &str = "2 tracks (H264, MPEG-4 Audio)";

/// Weir (RTSP + RTMP), a looping ffmpeg publisher of a fixture on [`PATH`], and the
/// source's frame hashes. Fields drop in order: the publisher goes before weir.
struct Published {
    _publisher: ChildGuard,
    weir: Weir,
    source: Vec<String>,
    /// The publishing line weir logged.
    line: String,
}

/// Publishes `fixture` over RTMP with ffmpeg and waits for the `[RTMP] [conn …] is
/// publishing to path 'live/cam', <tracks>` line.
fn publish_rtmp(fixture: Fixture, tracks: &str) -> Published {
    let weir = start_weir_rtmp(&rtmp_config(""));
    let path = fixture.path();
    let source = source_framemd5(&path);
    let publisher = ffmpeg_publish_rtmp(&path, &weir.rtmp_url(PATH));
    let want = format!("is publishing to path '{PATH}', {tracks}");
    let line =
        weir.wait_for_log_where(&format!("[RTMP] [conn …] {want}"), PUBLISH_TIMEOUT, |l| {
            l.contains("[RTMP] [conn ") && l.contains(&want)
        });
    Published {
        _publisher: publisher,
        weir,
        source,
        line,
    }
}

/// Publishes `fixture` over RTSP (TCP) with ffmpeg and waits for its publishing line.
fn publish_rtsp(fixture: Fixture, tracks: &str) -> Published {
    let weir = start_weir_rtmp(&rtmp_config(""));
    let path = fixture.path();
    let source = source_framemd5(&path);
    let publisher = ffmpeg_publish(&path, &weir.url(PATH), "tcp");
    let line = weir.wait_for_log(
        &format!("is publishing to path '{PATH}', with TCP, {tracks}"),
        PUBLISH_TIMEOUT,
    );
    Published {
        _publisher: publisher,
        weir,
        source,
        line,
    }
}

/// `Err` describing why `got` fails (too short or not a contiguous run), or the start index.
fn check_run(name: &str, got: &[String], source: &[String]) -> Result<usize, String> {
    match contiguous_run_start(got, source) {
        Ok(_) if got.len() < MIN_FRAMES => Err(format!(
            "{name}: only {} frames decoded, need {MIN_FRAMES}",
            got.len()
        )),
        Ok(start) => Ok(start),
        Err(why) => Err(format!("{name}: {why}")),
    }
}

/// Panics listing every failed reader of `results`.
fn assert_all_match(results: &[(&str, Vec<String>)], source: &[String]) {
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(name, got)| check_run(name, got, source).err())
        .collect();
    assert!(
        failures.is_empty(),
        "readers failed:\n{}",
        failures.join("\n")
    );
}

/// Reads [`PATH`] over RTMP with ffmpeg and GStreamer at once; both must match the source.
fn assert_ffmpeg_and_gst_read_rtmp(p: &Published) {
    let url = p.weir.rtmp_url(PATH);
    let ffmpeg = FfmpegReader::spawn_rtmp(&url, READ_FRAMES);
    let u = url.clone();
    let gst = thread::spawn(move || gst_read_rtmp_framemd5(&u, READ_FRAMES, true, READ_TIMEOUT));
    let results = [
        ("ffmpeg rtmp", ffmpeg.collect(READ_TIMEOUT)),
        ("gst rtmpsrc", gst.join().expect("gst reader thread")),
    ];
    assert_all_match(&results, &p.source);
}

/// Joins [`PATH`] with `n` raw RTMP players one after the other, 370 ms apart (so they
/// land at different points of the GOP and of the audio/video interleaving), and asserts
/// each one's first 20 audio frame timestamps strictly increase (a reader's timeline must
/// not squash audio that precedes its first video frame onto one timestamp).
fn assert_joining_readers_audio_timestamps_increase(p: &Published, n: usize) {
    let mut failures = Vec::new();
    for i in 0..n {
        let raw = RtmpPlayer::start(p.weir.rtmp_port(), PATH);
        let deadline = std::time::Instant::now() + secs(10);
        while raw.snapshot().audio_frame_ts.len() < 20 && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        let s = raw.snapshot();
        drop(raw);
        let ts = &s.audio_frame_ts[..s.audio_frame_ts.len().min(20)];
        if ts.len() < 20 {
            failures.push(format!("reader {i}: only {} audio frames", ts.len()));
        } else if let Some(w) = ts.windows(2).position(|w| w[1] <= w[0]) {
            failures.push(format!(
                "reader {i}: audio timestamps not increasing at frame {}: {ts:?} (first video at {:?} ms)",
                w + 1,
                s.first_video_ts
            ));
        }
        thread::sleep(Duration::from_millis(370));
    }
    assert!(
        failures.is_empty(),
        "audio timestamps of joining RTMP readers:\n{}",
        failures.join("\n")
    );
}

/// Parses the version out of `ffmpeg -version` output (for diagnosing E-RTMP support).
fn parse_ffmpeg_version(text: &str) -> Option<(u32, u32)> {
    let v = text
        .lines()
        .next()?
        .strip_prefix("ffmpeg version ")?
        .trim_start_matches('n');
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

// ---- RTMP publish → RTMP read ----

#[test]
fn rtmp_publish_ffmpeg_rtmp_read_h264_aac_and_audio() {
    let _serial = serial();
    let p = publish_rtmp(Fixture::H264Aac, H264_AAC);
    let publisher_addr =
        log_conn_addr(&p.line).unwrap_or_else(|| panic!("no [conn ADDR] in {:?}", p.line));
    p.weir
        .wait_for_log(&format!("[RTMP] [conn {publisher_addr}] opened"), secs(5));
    let mark = p.weir.log_len();
    let got = ffmpeg_read_rtmp_framemd5(&p.weir.rtmp_url(PATH), READ_FRAMES, READ_TIMEOUT);
    assert_contiguous_run(&got, &p.source, MIN_FRAMES);
    let reading = p.weir.wait_for_log_since(
        mark,
        &format!("is reading from path '{PATH}', {H264_AAC}"),
        secs(5),
    );
    assert!(
        reading.contains("[RTMP] [conn "),
        "the RTMP reader's line is not an [RTMP] [conn …] line: {reading:?}"
    );
    // ffmpeg exited after its frames: weir must log the reader's connection as closed.
    let reader_addr = log_conn_addr(&reading).expect("conn address");
    p.weir
        .wait_for_log(&format!("[RTMP] [conn {reader_addr}] closed"), secs(10));
    let packets = ffprobe_packets_input(&p.weir.rtmp_url(PATH), Some(3));
    assert_audio_packets(&packets, 40);
    assert!(
        packets.iter().any(|pk| pk.codec_type == "video"),
        "ffprobe saw no video packet over RTMP"
    );
    assert_joining_readers_audio_timestamps_increase(&p, 6);
}

#[test]
fn rtmp_publish_gstreamer_rtmpsrc_read() {
    let _serial = serial();
    let p = publish_rtmp(Fixture::H264Aac, H264_AAC);
    let got = gst_read_rtmp_framemd5(&p.weir.rtmp_url(PATH), READ_FRAMES, true, READ_TIMEOUT);
    assert_contiguous_run(&got, &p.source, MIN_FRAMES);
}

#[test]
fn rtmp_publish_vlc_rtmp_read() {
    let _serial = serial();
    let p = publish_rtmp(Fixture::H264Aac, H264_AAC);
    // 6 s of playback ≈ 150 frames; VLC records what it receives into MPEG-TS, untouched.
    let cap = vlc_record(&p.weir.rtmp_url(PATH), 6, READ_TIMEOUT);
    if let Err(why) = check_run("vlc", &cap.frames, &p.source) {
        panic!("{why}\n--- VLC log (last lines) ---\n{}", cap.log_tail);
    }
    assert_audio_packets(&cap.packets, 40);
}

#[test]
fn rtmp_publish_b_frames_rtmp_read_by_ffmpeg() {
    let _serial = serial();
    let p = publish_rtmp(Fixture::H264BFramesAac, H264_AAC);
    let got = ffmpeg_read_rtmp_framemd5(&p.weir.rtmp_url(PATH), READ_FRAMES, READ_TIMEOUT);
    assert_contiguous_run(&got, &p.source, MIN_FRAMES);
}

// ---- RTMP publish → RTSP read ----

#[test]
fn rtmp_publish_rtsp_read_by_ffmpeg_tcp_and_gstreamer_rtspsrc() {
    let _serial = serial();
    let p = publish_rtmp(Fixture::H264Aac, H264_AAC);
    let mark = p.weir.log_len();
    let url = p.weir.url(PATH);
    let ffmpeg = FfmpegReader::spawn(&url, "tcp", READ_FRAMES);
    let u = url.clone();
    let gst = thread::spawn(move || gst_read_framemd5(&u, "tcp", READ_FRAMES, READ_TIMEOUT));
    let results = [
        ("ffmpeg rtsp tcp", ffmpeg.collect(READ_TIMEOUT)),
        ("gst rtspsrc tcp", gst.join().expect("gst reader thread")),
    ];
    assert_all_match(&results, &p.source);
    p.weir.wait_for_log_since(
        mark,
        &format!("is reading from path '{PATH}', with TCP, {H264_AAC}"),
        secs(5),
    );
    let packets = ffprobe_packets(&url, "tcp", 3);
    assert_audio_packets(&packets, 40);
}

// ---- RTSP publish → RTMP read ----

#[test]
fn rtsp_publish_h264_aac_rtmp_read_by_ffmpeg_and_gstreamer() {
    let _serial = serial();
    let p = publish_rtsp(Fixture::H264Aac, H264_AAC);
    assert_ffmpeg_and_gst_read_rtmp(&p);
    let packets = ffprobe_packets_input(&p.weir.rtmp_url(PATH), Some(3));
    assert_audio_packets(&packets, 40);
    assert_joining_readers_audio_timestamps_increase(&p, 6);
}

#[test]
fn rtsp_publish_b_frames_rtmp_read_by_ffmpeg_and_gstreamer() {
    let _serial = serial();
    let p = publish_rtsp(Fixture::H264BFramesAac, H264_AAC);
    assert_ffmpeg_and_gst_read_rtmp(&p);
}

// ---- fan-out and joining mid-stream ----

#[test]
fn eight_concurrent_rtmp_readers_all_match() {
    let _serial = serial();
    let p = publish_rtmp(Fixture::H264Aac, H264_AAC);
    let url = p.weir.rtmp_url(PATH);
    let readers: Vec<(String, FfmpegReader)> = (0..8)
        .map(|i| {
            (
                format!("rtmp reader {i}"),
                FfmpegReader::spawn_rtmp(&url, READ_FRAMES),
            )
        })
        .collect();
    let results: Vec<(String, Vec<String>)> = readers
        .into_iter()
        .map(|(name, r)| (name, r.collect(READ_TIMEOUT)))
        .collect();
    let results: Vec<(&str, Vec<String>)> = results
        .iter()
        .map(|(n, g)| (n.as_str(), g.clone()))
        .collect();
    assert_all_match(&results, &p.source);
    assert!(
        p.weir.count_log(&format!("is reading from path '{PATH}'")) >= 8,
        "fewer than 8 reading sessions logged"
    );
}

#[test]
fn late_rtmp_reader_starts_at_a_key_frame() {
    let _serial = serial();
    let p = publish_rtmp(Fixture::H264Aac, H264_AAC);
    // 3.5 s: well into the stream and in the middle of a GOP (key frames every 1 s).
    thread::sleep(Duration::from_millis(3500));
    // Packet level: the sequence header comes first, then a key frame with an IDR slice;
    // H264 is legacy FLV video (codec id 7), AAC legacy FLV audio (sound format 10).
    let raw = RtmpPlayer::start(p.weir.rtmp_port(), PATH);
    raw.wait_video_frames(30, secs(10));
    let s = raw.snapshot();
    drop(raw);
    let first = s.first_video.first().expect("no video tag");
    assert_eq!(
        first.packet,
        VideoPacket::SequenceHeader,
        "the first video tag sent to a late reader is not the sequence header: {first:?}"
    );
    assert_eq!(
        first.signalling,
        VideoSignalling::Legacy(7),
        "H264 must be sent as legacy FLV AVC (codec id 7) to RTMP readers"
    );
    let (len_size, _) = parse_avcc(&first.data).expect("valid avcC");
    let frame = s.first_frame().expect("no coded frame");
    let nals = h264_nal_types_of(&frame.data, len_size);
    assert!(
        frame.key && nals.contains(&5),
        "first frame sent to a late reader is not a key frame: key={} NAL types {nals:?}",
        frame.key
    );
    assert!(
        s.video_gaps.is_empty(),
        "video timestamp gaps: {:?}",
        s.video_gaps
    );
    let audio = s.first_audio.first().expect("no audio tag");
    assert_eq!(
        audio[0] >> 4,
        10,
        "AAC must be FLV sound format 10: {audio:02x?}"
    );
    assert_eq!(
        audio.get(1),
        Some(&0),
        "the first AAC tag must be the sequence header (AudioSpecificConfig)"
    );
    // Frame level: the first decoded frame is a GOP start of the (cyclic) source.
    let got = ffmpeg_read_rtmp_framemd5(&p.weir.rtmp_url(PATH), READ_FRAMES, READ_TIMEOUT);
    let start = assert_contiguous_run(&got, &p.source, MIN_FRAMES);
    assert_eq!(
        start % GOP,
        0,
        "late RTMP reader's first frame is source frame {start}, not a key frame (GOP {GOP})"
    );
}

#[test]
fn query_string_is_not_part_of_the_path() {
    let _serial = serial();
    let p = publish_rtmp(Fixture::H264Aac, H264_AAC);
    let mark = p.weir.log_len();
    let raw = RtmpPlayer::start(p.weir.rtmp_port(), "live/cam?user=someone&pass=secret");
    raw.wait_video_frames(25, secs(10));
    let line = p
        .weir
        .wait_for_log_since(mark, "is reading from path 'live/cam',", secs(5));
    assert!(
        line.contains(&format!("[conn {}]", raw.local_addr)),
        "the reading line is not about the raw player {}: {line:?}",
        raw.local_addr
    );
}

// ---- H265 (Enhanced RTMP) ----

// H265 over Enhanced RTMP (FourCC hvc1) is read by ffmpeg >= 6.1 only; Debian 12, which the
// test machines run, ships ffmpeg 5.1 and GStreamer 1.22 (no hvc1 either). weir's hvc1 output is
// therefore checked with the test's own RTMP player, whose frames ffmpeg then decodes.
#[test]
fn rtsp_publish_h265_raw_rtmp_player_gets_hvc1_frames_that_match() {
    let _serial = serial();
    let p = publish_rtsp(Fixture::H265Aac, "2 tracks (H265, MPEG-4 Audio)");
    let raw = RtmpPlayer::start_capturing(p.weir.rtmp_port(), PATH, READ_FRAMES);
    raw.wait_video_frames(READ_FRAMES as u64, READ_TIMEOUT);
    let s = raw.snapshot();
    let (annexb, frames) = raw.annexb();
    drop(raw);
    assert!(s.errors.is_empty(), "malformed video tags: {:?}", s.errors);
    let header = s.first_video.first().expect("no video tag");
    assert_eq!(
        (&header.signalling, header.packet),
        (
            &VideoSignalling::Enhanced(*b"hvc1"),
            VideoPacket::SequenceHeader
        ),
        "H265 must start with an Enhanced RTMP hvc1 SequenceStart"
    );
    assert!(
        s.first_video
            .iter()
            .all(|t| t.signalling == VideoSignalling::Enhanced(*b"hvc1")),
        "every H265 video tag must be Enhanced RTMP hvc1"
    );
    assert!(frames >= MIN_FRAMES, "captured only {frames} frames");
    let dir = TempDir::new("raw-rtmp-h265");
    let file = dir.file("capture.h265");
    std::fs::write(&file, &annexb).expect("write capture");
    let got = file_framemd5(&file);
    assert_contiguous_run(&got, &p.source, MIN_FRAMES);
}

// ---- the harness's own logic (no server needed) ----

#[test]
fn harness_parses_rtmp_listener_line_and_conn_addr() {
    let l =
        parse_listener_line("2026/11/24 06:00:00 INF [RTMP] listener opened on 127.0.0.1:41935")
            .expect("parsed");
    assert_eq!(
        (l[0].proto.as_str(), l[0].kind.as_str(), l[0].port),
        ("RTMP", "", 41935)
    );
    let l =
        parse_listener_line("INF [RTMP] listener opened on 127.0.0.1:41936 (TCP)").expect("parsed");
    assert_eq!(
        (l[0].proto.as_str(), l[0].kind.as_str(), l[0].port),
        ("RTMP", "TCP", 41936)
    );
    assert_eq!(
        log_conn_addr(
            "INF [RTMP] [conn 127.0.0.1:51234] is publishing to path 'live/cam', 2 tracks"
        ),
        Some("127.0.0.1:51234".into())
    );
    assert_eq!(split_app_stream("live/cam"), ("live".into(), "cam".into()));
    assert_eq!(
        split_app_stream("live/cam?x=1"),
        ("live".into(), "cam?x=1".into())
    );
    assert_eq!(split_app_stream("a/b/c"), ("a".into(), "b/c".into()));
    assert_eq!(
        parse_ffmpeg_version("ffmpeg version 5.1.9-0+deb12u1 Copyright"),
        Some((5, 1))
    );
    assert_eq!(
        parse_ffmpeg_version("ffmpeg version n6.1.1 Copyright"),
        Some((6, 1))
    );
    assert_eq!(
        parse_ffmpeg_version("ffmpeg version 7.0 Copyright"),
        Some((7, 0))
    );
    assert_eq!(
        parse_ffmpeg_version("ffmpeg version N-113000-gabc Copyright"),
        None
    );
}

#[test]
fn harness_amf0_round_trip() {
    let values = vec![
        Amf0::str("connect"),
        Amf0::Number(1.0),
        Amf0::obj(&[
            ("app", Amf0::str("live")),
            ("fpad", Amf0::Boolean(false)),
            ("nested", Amf0::obj(&[("n", Amf0::Null)])),
        ]),
        Amf0::Null,
        Amf0::Undefined,
        Amf0::EcmaArray(vec![("duration".into(), Amf0::Number(0.0))]),
        Amf0::StrictArray(vec![Amf0::Number(2.0)]),
        Amf0::Date(1.5e12),
    ];
    let bytes = amf0_encode_all(&values);
    assert_eq!(
        &bytes[..10],
        &[0x02, 0, 7, b'c', b'o', b'n', b'n', b'e', b'c', b't']
    );
    assert_eq!(amf0_decode_all(&bytes), Ok(values.clone()));
    assert_eq!(values[2].get("app").and_then(Amf0::as_str), Some("live"));
    // A long string (0x0C) decodes as a string; a bad marker is an error.
    assert_eq!(
        amf0_decode_all(&[0x0c, 0, 0, 0, 2, b'h', b'i']),
        Ok(vec![Amf0::str("hi")])
    );
    assert!(amf0_decode_all(&[0x02, 0, 9, b'x']).is_err());
    assert!(amf0_decode_all(&[0x42]).is_err());
}

#[test]
fn harness_chunk_reader_handles_every_header_format() {
    let mut r = ChunkReader::default();
    // 300-byte video message in 128-byte chunks (format 0 + two format 3).
    let body: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    r.buf
        .extend(encode_chunks(6, msg_type::VIDEO, 1, 1000, &body, 128));
    // Format 1 (delta 40, new length/type), format 2 (delta 41), format 3 (delta 41 again).
    r.buf
        .extend([0x46, 0, 0, 40, 0, 0, 2, msg_type::AUDIO, 0xaa, 0xbb]);
    r.buf.extend([0x86, 0, 0, 41, 0xcc, 0xdd]);
    r.buf.extend([0xc6, 0xee, 0xff]);
    // Extended timestamp on a format 0 header, split across a format 3 continuation.
    r.buf.extend(encode_chunks(
        4,
        msg_type::AUDIO,
        1,
        0x0100_0000,
        &[7u8; 130],
        128,
    ));
    // Two-byte basic header (csid 64 + 10).
    r.buf.extend([
        0x00,
        10,
        0,
        0,
        5,
        0,
        0,
        1,
        msg_type::DATA_AMF0,
        0,
        0,
        0,
        0,
        0x05,
    ]);
    // Set Chunk Size 4096 then a 200-byte message in one chunk.
    r.buf.extend(encode_chunks(
        2,
        msg_type::SET_CHUNK_SIZE,
        0,
        0,
        &4096u32.to_be_bytes(),
        128,
    ));
    r.buf
        .extend(chunk_header_type0(3, 0, 200, msg_type::COMMAND_AMF0, 0));
    r.buf.extend([0x05; 200]);
    let mut got = Vec::new();
    while let Some(m) = r.next().expect("valid chunk stream") {
        got.push((m.csid, m.timestamp, m.type_id, m.payload.len()));
        if m.csid == 6 && m.type_id == msg_type::VIDEO {
            assert_eq!(m.payload, body);
        }
    }
    assert_eq!(
        got,
        vec![
            (6, 1000, msg_type::VIDEO, 300),
            (6, 1040, msg_type::AUDIO, 2),
            (6, 1081, msg_type::AUDIO, 2),
            (6, 1122, msg_type::AUDIO, 2),
            (4, 0x0100_0000, msg_type::AUDIO, 130),
            (74, 5, msg_type::DATA_AMF0, 1),
            (2, 0, msg_type::SET_CHUNK_SIZE, 4),
            (3, 0, msg_type::COMMAND_AMF0, 200),
        ]
    );
    assert!(r.buf.is_empty());
    // A partial chunk is left in the buffer until it completes.
    r.buf
        .extend(&chunk_header_type0(3, 0, 10, msg_type::COMMAND_AMF0, 0)[..5]);
    assert_eq!(r.next(), Ok(None));
    // A format 1 header on a chunk stream never seen is an error.
    let mut bad = ChunkReader::default();
    bad.buf.extend([0x49, 0, 0, 1, 0, 0, 1, 9, 0]);
    assert!(bad.next().is_err());
}

#[test]
fn harness_video_tags_to_annexb() {
    // A legacy AVC sequence header (SPS/PPS of the fixtures) and a key frame.
    let avcc: Vec<u8> = [
        &[1u8, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0, 4][..],
        &[0x67, 0x42, 0xc0, 0x0d],
        &[1, 0, 3, 0x68, 0xcb, 0x83],
    ]
    .concat();
    let mut seq = vec![0x17, 0, 0, 0, 0];
    seq.extend(&avcc);
    let tag = parse_video_tag(&seq).expect("parsed");
    assert_eq!(
        (tag.key, &tag.signalling, tag.packet),
        (
            true,
            &VideoSignalling::Legacy(7),
            VideoPacket::SequenceHeader
        )
    );
    assert_eq!(
        parse_avcc(&tag.data),
        Ok((
            4,
            vec![vec![0x67, 0x42, 0xc0, 0x0d], vec![0x68, 0xcb, 0x83]]
        ))
    );
    let frame = parse_video_tag(&[0x17, 1, 0, 0, 80, 0, 0, 0, 2, 0x65, 0x88]).expect("parsed");
    assert_eq!((frame.packet, frame.cts), (VideoPacket::Frames, 80));
    assert_eq!(h264_nal_types_of(&frame.data, 4), vec![5]);
    let mut w = AnnexBWriter::default();
    w.push(&tag).expect("seq");
    w.push(&frame).expect("frame");
    assert_eq!(
        w.out,
        [
            &[0u8, 0, 0, 1, 0x67, 0x42, 0xc0, 0x0d][..],
            &[0, 0, 0, 1, 0x68, 0xcb, 0x83],
            &[0, 0, 0, 1, 0x65, 0x88]
        ]
        .concat()
    );
    // Enhanced RTMP hvc1: SequenceStart (hvcC with one VPS array) and CodedFramesX.
    let mut hvcc = vec![1u8];
    hvcc.extend([0u8; 20]);
    hvcc.push(0x03); // lengthSizeMinusOne = 3
    hvcc.push(1); // one array
    hvcc.extend([0x20, 0, 1, 0, 2, 0x40, 0x01]);
    let mut seq = vec![0x90, b'h', b'v', b'c', b'1'];
    seq.extend(&hvcc);
    let tag = parse_video_tag(&seq).expect("parsed");
    assert_eq!(
        (tag.key, &tag.signalling, tag.packet),
        (
            true,
            &VideoSignalling::Enhanced(*b"hvc1"),
            VideoPacket::SequenceHeader
        )
    );
    assert!(tag.is_h265());
    assert_eq!(parse_hvcc(&tag.data), Ok((4, vec![vec![0x40, 0x01]])));
    let frame =
        parse_video_tag(&[0x93, b'h', b'v', b'c', b'1', 0, 0, 0, 2, 0x26, 0x01]).expect("parsed");
    assert_eq!(
        (frame.key, frame.packet, frame.cts),
        (true, VideoPacket::Frames, 0)
    );
    let coded = parse_video_tag(&[
        0xa1, b'h', b'v', b'c', b'1', 0xff, 0xff, 0xf0, 0, 0, 0, 1, 2,
    ])
    .expect("parsed");
    assert_eq!(
        (coded.key, coded.packet, coded.cts, coded.data.len()),
        (false, VideoPacket::Frames, -16, 5)
    );
}
