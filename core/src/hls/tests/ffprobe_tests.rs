//! ffprobe and ffmpeg read what the muxer serves: MPEG-TS segments, and the init segment with
//! fMP4 segments (or with the parts of Low-Latency HLS) decode cleanly, with monotonic
//! decoding timestamps across segment boundaries, every segment starting at a key frame.

use super::*;
use crate::mpegts::test_support::{
    decode_errors, probe_codecs, probe_packets, remove_test_file, temp_file, ProbedPacket,
};

/// Writes `parts` joined into a temporary file.
fn write(name: &str, parts: &[Vec<u8>]) -> std::path::PathBuf {
    let path = temp_file(name);
    std::fs::write(&path, parts.concat()).unwrap();
    path
}

/// Asserts strictly increasing DTS per stream and returns the packets of `codec_type`.
fn monotonic<'a>(packets: &'a [ProbedPacket], codec_type: &str) -> Vec<&'a ProbedPacket> {
    let got: Vec<&ProbedPacket> = packets
        .iter()
        .filter(|p| p.codec_type == codec_type)
        .collect();
    for w in got.windows(2) {
        let (a, b) = (w[0].dts.unwrap(), w[1].dts.unwrap());
        assert!(b > a, "{codec_type}: DTS {a} then {b}");
    }
    got
}

/// The sync flag of every video sample (track 1) of an fMP4 segment, per its trun boxes.
fn video_sync_flags(segment: &[u8]) -> Vec<bool> {
    use mp4_atom::Decode;
    let mut input = segment;
    let mut flags = Vec::new();
    while !input.is_empty() {
        if let mp4_atom::Any::Moof(moof) = mp4_atom::Any::decode(&mut input).unwrap() {
            for traf in moof.traf.iter().filter(|t| t.tfhd.track_id == 1) {
                for e in traf.trun.iter().flat_map(|t| t.samples.iter()) {
                    flags.push(e.flags == Some(crate::fmp4::SAMPLE_FLAGS_SYNC));
                }
            }
        }
    }
    flags
}

/// Feeds 5 s of audio and video into a muxer of `variant` (7 listed segments).
fn five_seconds(variant: HlsVariant) -> (HlsMuxer, Clock) {
    let clock = Clock::new();
    let mut m = HlsMuxer::new(config(variant, 7), &av_description(true, false), clock.t0).unwrap();
    clock.push_all(&mut m, &av_units(126, true, every_second));
    (m, clock)
}

#[test]
fn mpegts_segments_decode_with_monotonic_dts() {
    let (mut m, clock) = five_seconds(HlsVariant::Mpegts);
    let segments: Vec<Vec<u8>> = (0..5)
        .map(|k| get_ok(&mut m, clock.t0, &format!("seg{k}.ts")))
        .collect();
    for (k, seg) in segments.iter().enumerate() {
        let path = write(&format!("hls-seg{k}.ts"), std::slice::from_ref(seg));
        let packets = probe_packets(&path);
        let video = monotonic(&packets, "video");
        assert_eq!(video.len(), 25, "segment {k}");
        assert!(video[0].key, "segment {k} starts with a key frame");
        // 90 kHz, the first segment starting at 10 s of media time.
        assert_eq!(
            video[0].dts,
            Some(900_000 + 90_000 * k as i64),
            "segment {k}"
        );
        remove_test_file(&path);
    }
    let path = write("hls-all.ts", &segments);
    assert_eq!(probe_codecs(&path), ["h264", "aac"]);
    assert_eq!(decode_errors(&path), "");
    let packets = probe_packets(&path);
    assert_eq!(monotonic(&packets, "video").len(), 125);
    let audio = monotonic(&packets, "audio");
    // The audio of 0..5 s: units 0..=215 (the last before 5 s is 215 at 4.993 s).
    assert_eq!(audio.len(), 216);
    remove_test_file(&path);
}

#[test]
fn fmp4_segments_decode_with_monotonic_dts() {
    for variant in [HlsVariant::Fmp4, HlsVariant::LowLatency] {
        let (mut m, clock) = five_seconds(variant);
        let mut file = vec![get_ok(&mut m, clock.t0, INIT_SEGMENT)];
        file.extend((0..5).map(|k| get_ok(&mut m, clock.t0, &format!("seg{k}.mp4"))));
        let path = write(&format!("hls-{}.mp4", variant.as_str()), &file);
        assert_eq!(probe_codecs(&path), ["h264", "aac"]);
        assert_eq!(decode_errors(&path), "");
        let packets = probe_packets(&path);
        let video = monotonic(&packets, "video");
        assert_eq!(video.len(), 125);
        // Track timescales: 90 kHz video starting at 10 s. (Every test picture is an IDR, so
        // ffprobe calls them all key frames; the sample flags are checked below.)
        for (k, p) in video.iter().enumerate() {
            assert_eq!(p.dts, Some(900_000 + 3600 * k as i64));
            assert!(p.key || k % 25 != 0, "frame {k}");
        }
        // One sync video sample per segment: its first.
        for seg in &file[1..] {
            assert_eq!(
                video_sync_flags(seg),
                [true].into_iter().chain([false; 24]).collect::<Vec<_>>()
            );
        }
        let audio = monotonic(&packets, "audio");
        assert_eq!(audio.len(), 216);
        assert_eq!(audio[0].dts, Some(441_000));
        remove_test_file(&path);
    }
}

#[test]
fn low_latency_parts_decode_like_segments() {
    let (mut m, clock) = five_seconds(HlsVariant::LowLatency);
    // Segments 0..=4 hold parts 0..=24; part 25, the first of the open segment, is not
    // complete yet (it is the preload hint).
    let mut file = vec![get_ok(&mut m, clock.t0, INIT_SEGMENT)];
    file.extend((0..25).map(|id| get_ok(&mut m, clock.t0, &format!("part{id}.mp4"))));
    let path = write("hls-parts.mp4", &file);
    assert_eq!(decode_errors(&path), "");
    let packets = probe_packets(&path);
    assert_eq!(monotonic(&packets, "video").len(), 125);
    monotonic(&packets, "audio");
    remove_test_file(&path);
}

#[test]
fn h265_with_b_frames_across_segments() {
    use crate::codec::h265;
    use crate::mpegts::test_support::{access_units, h265_fmtp, HEVC_DISPLAY_ORDER};
    // hevc.265 is one closed GOP of 50 pictures with B-frames; three copies in a row make a
    // valid stream with a key frame every 2 s (25 fps).
    let nalus = annexb_nalus("hevc.265");
    let aus = access_units(&nalus, true);
    let desc = description(&[TestTrack {
        kind: "video",
        rtpmap: "H265/90000",
        fmtp: Some(h265_fmtp(&nalus)),
    }]);
    let mut x = h265::DtsExtractor::new();
    let mut units = Vec::new();
    for copy in 0..3i64 {
        for (au, &display) in aus.iter().zip(&HEVC_DISPLAY_ORDER) {
            let pts = (copy * 50 + display) * FRAME;
            let dts = x.extract(au, pts).unwrap();
            let key = au.iter().any(|n| h265::is_key_nalu(n));
            units.push(unit(0, pts, dts, key, au));
        }
    }
    assert!(units.iter().any(|u| u.pts != u.dts));
    for variant in [HlsVariant::Mpegts, HlsVariant::LowLatency] {
        let clock = Clock::new();
        let mut m = HlsMuxer::new(config(variant, 7), &desc, clock.t0).unwrap();
        for u in &units {
            m.push_unit(clock.t0, WALL0, u);
        }
        let mv = text(&mut m, clock.t0, MULTIVARIANT_PLAYLIST);
        assert!(
            mv.contains("CODECS=\"hvc1.1.6.L123.90\",RESOLUTION=1920x1080"),
            "{mv}"
        );
        let t = text(&mut m, clock.t0, MEDIA_PLAYLIST);
        // Segments start at the key frames' DTS (the first one's is earlier relative to its
        // PTS while the DTS extractor learns the reordering depth).
        assert_eq!(t.matches("#EXTINF:").count(), 2, "{t}");
        assert!(t.contains("#EXTINF:2.00000,\nseg1."), "{t}");
        let ext = if variant.is_fmp4() { "mp4" } else { "ts" };
        let mut file = Vec::new();
        if variant.is_fmp4() {
            file.push(get_ok(&mut m, clock.t0, INIT_SEGMENT));
        }
        file.extend((0..2).map(|k| get_ok(&mut m, clock.t0, &format!("seg{k}.{ext}"))));
        let path = write(&format!("hls-h265.{ext}"), &file);
        assert_eq!(probe_codecs(&path), ["hevc"]);
        assert_eq!(decode_errors(&path), "", "{variant:?}");
        let packets = probe_packets(&path);
        let video = monotonic(&packets, "video");
        assert_eq!(video.len(), 100, "{variant:?}");
        assert!(video[0].key && video[50].key, "{variant:?}");
        remove_test_file(&path);
    }
}
