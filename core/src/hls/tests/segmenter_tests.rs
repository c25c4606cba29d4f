//! Segment boundaries (key frames, durations), dropped units before the first key frame,
//! eviction, the segment size limit, in-band parameter sets.
#![allow(clippy::disallowed_methods)] // fake clocks need one real base instant

use super::*;

/// The EXTINF values of a media playlist.
fn extinfs(playlist: &str) -> Vec<&str> {
    playlist
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|l| l.trim_end_matches(','))
        .collect()
}

#[test]
fn segments_end_at_key_frames_once_the_duration_elapsed() {
    // Key frames at 0, 30, 45, 100, 125 (1.2 s, 1.8 s, 4 s, 5 s).
    for variant in [HlsVariant::Mpegts, HlsVariant::LowLatency] {
        let clock = Clock::new();
        let mut m =
            HlsMuxer::new(config(variant, 7), &av_description(true, false), clock.t0).unwrap();
        let keys = [0, 30, 45, 100, 125];
        clock.push_all(&mut m, &av_units(150, true, |k| keys.contains(&k)));
        let t = text(&mut m, clock.t0, MEDIA_PLAYLIST);
        // 45 is only 0.6 s after 30: no cut there.
        assert_eq!(extinfs(&t), ["1.20000", "2.80000", "1.00000"], "{t}");
        assert!(t.contains("#EXT-X-TARGETDURATION:3\n"), "{t}");
        let seg = &m.segmenter().store().kept()[1];
        // It starts at frame 30 (1.2 s) and holds 70 frames.
        assert_eq!((seg.pdt_ms, seg.frames), (WALL0 + 1200, 70));
        if variant == HlsVariant::LowLatency {
            // Parts of the 2.8 s segment: 14 of 0.2 s; those starting with a key frame (30,
            // 45) are independent.
            let independent: Vec<usize> = (0..seg.parts.len())
                .filter(|&i| seg.parts[i].independent)
                .collect();
            assert_eq!(seg.parts.len(), 14);
            assert_eq!(independent, [0, 3]);
            assert!(seg.parts.iter().all(|p| p.duration_ns == 200_000_000));
        }
    }
}

#[test]
fn units_before_the_first_key_frame_are_dropped() {
    let clock = Clock::new();
    let mut m = HlsMuxer::new(
        config(HlsVariant::Mpegts, 7),
        &av_description(true, false),
        clock.t0,
    )
    .unwrap();
    // The stream starts at frame 10; the first key frame is at frame 25 (1 s).
    let units: Vec<Unit> = av_units(100, true, every_second)
        .into_iter()
        .filter(|u| unit_ns(u) >= 400_000_000)
        .collect();
    clock.push_all(&mut m, &units);
    let kept = m.segmenter().store().kept();
    assert_eq!(kept.len(), 2);
    assert_eq!(kept[0].pdt_ms, WALL0 + 1000, "starts at 1 s");
    let t = text(&mut m, clock.t0, MEDIA_PLAYLIST);
    assert!(
        t.contains(
            "#EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:01.000Z\n#EXTINF:1.00000,\nseg0.ts\n"
        ),
        "{t}"
    );
}

#[test]
fn old_segments_are_evicted() {
    let clock = Clock::new();
    let mut m = HlsMuxer::new(
        config(HlsVariant::LowLatency, 3),
        &av_description(true, false),
        clock.t0,
    )
    .unwrap();
    let units = av_units(1000, true, every_second);
    // 20 s: segments 0..=18 complete.
    let half = frame_index(&units, 500);
    clock.push_all(&mut m, &units[..half]);
    let kept: Vec<u64> = m.segmenter().store().kept().iter().map(|s| s.msn).collect();
    assert_eq!(kept, [14, 15, 16, 17, 18]);
    let t = text(&mut m, clock.t0, MEDIA_PLAYLIST);
    assert!(t.contains("#EXT-X-MEDIA-SEQUENCE:16\n"), "{t}");
    assert_eq!(extinfs(&t).len(), 3);
    assert_eq!(get(&mut m, clock.t0, "seg13.mp4", "").status, 404);
    assert_eq!(
        get(&mut m, clock.t0, "seg14.mp4", "").status,
        200,
        "kept in the margin"
    );
    assert_eq!(get(&mut m, clock.t0, "part69.mp4", "").status, 404);
    assert_eq!(get(&mut m, clock.t0, "part70.mp4", "").status, 200);
    // Memory does not grow with time.
    let at_20s = m.memory_bytes();
    clock.push_all(&mut m, &units[half..]);
    let at_40s = m.memory_bytes();
    assert_eq!(m.segmenter().store().kept().len(), 5);
    assert!(at_40s <= at_20s + at_20s / 10, "{at_20s} {at_40s}");
}

#[test]
fn segment_max_size_ends_the_segment_and_waits_for_a_key_frame() {
    for variant in [HlsVariant::Mpegts, HlsVariant::LowLatency] {
        let clock = Clock::new();
        let cfg = HlsConfig {
            segment_max_size: 8192,
            ..config(variant, 7)
        };
        let mut m = HlsMuxer::new(cfg, &av_description(true, false), clock.t0).unwrap();
        // A key frame every 4 s: the limit is hit long before the next one; each segment
        // ends there, and the next starts at the next key frame.
        clock.push_all(&mut m, &av_units(300, true, |k| k % 100 == 0));
        let kept = m.segmenter().store().kept().to_vec();
        assert_eq!(kept.len(), 3, "{variant:?}");
        for (seg, start) in kept.iter().zip([0, 4000, 8000]) {
            assert!(seg.size <= 8192, "{variant:?}: {}", seg.size);
            assert_eq!(seg.pdt_ms, WALL0 + start, "{variant:?}");
            assert!(seg.duration_ns < 1_000_000_000, "{variant:?}");
            assert!(seg.frames > 5, "{variant:?}");
        }
        assert!(m.memory_bytes() <= 4 * 8192);
        let ext = if variant.is_fmp4() { "mp4" } else { "ts" };
        let body = get_ok(&mut m, clock.t0, &format!("seg1.{ext}"));
        assert_eq!(body.len() as u64, kept[1].size);
        let t = text(&mut m, clock.t0, MEDIA_PLAYLIST);
        assert!(
            t.contains("#EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:04.000Z\n"),
            "{t}"
        );
    }
}

#[test]
fn parameter_sets_in_band() {
    for variant in [HlsVariant::Mpegts, HlsVariant::Fmp4, HlsVariant::LowLatency] {
        let clock = Clock::new();
        let mut m =
            HlsMuxer::new(config(variant, 7), &av_description(true, true), clock.t0).unwrap();
        assert_eq!(get(&mut m, clock.t0, "init.mp4", "").status, 404);
        clock.push_all(&mut m, &av_units(75, true, every_second));
        let mv = text(&mut m, clock.t0, MULTIVARIANT_PLAYLIST);
        assert!(
            mv.contains("CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=640x360,FRAME-RATE=25.000"),
            "{variant:?}: {mv}"
        );
        if variant.is_fmp4() {
            assert_eq!(get(&mut m, clock.t0, "init.mp4", "").status, 200);
        }
    }
}

#[test]
fn waits_for_parameter_sets_it_never_got() {
    // fMP4 without SPS/PPS anywhere: nothing is written, requests for playlists wait.
    let clock = Clock::new();
    let mut m = HlsMuxer::new(
        config(HlsVariant::LowLatency, 7),
        &av_description(true, true),
        clock.t0,
    )
    .unwrap();
    let units: Vec<Unit> = av_units(100, true, every_second)
        .into_iter()
        .map(|mut u| {
            u.payload
                .retain(|n| u.track != 0 || h264::nalu_type(n) == h264::NAL_IDR);
            u
        })
        .collect();
    clock.push_all(&mut m, &units);
    assert!(m.segmenter().store().kept().is_empty());
    assert_eq!(m.memory_bytes(), 0);
    assert_eq!(
        m.handle_request(clock.t0, MEDIA_PLAYLIST, "", 1),
        HlsAnswer::Held
    );
}

#[test]
fn streams_hls_cannot_carry() {
    let desc = description(&[TestTrack {
        kind: "audio",
        rtpmap: "PCMU/8000",
        fmtp: None,
    }]);
    for variant in [HlsVariant::Mpegts, HlsVariant::Fmp4, HlsVariant::LowLatency] {
        let e = HlsMuxer::new(config(variant, 7), &desc, Instant::now()).unwrap_err();
        assert_eq!(e, HlsError::NoTracks);
        assert_eq!(e.to_string(), "the stream has no track HLS can carry");
    }
}
