//! Held requests: blocking playlist reload released in the `push_unit` call that completes the
//! segment or part (and not before), deadlines (503), requests too far ahead (400), unknown
//! files (404), blocking preload hints, playlists before the first segment.
#![allow(clippy::disallowed_methods)] // fake clocks need one real base instant

use super::*;

/// A Low-Latency muxer (3 listed segments) with its units (6 s of audio and video).
fn low_latency() -> (HlsMuxer, Clock, Vec<Unit>) {
    let clock = Clock::new();
    let m = HlsMuxer::new(
        config(HlsVariant::LowLatency, 3),
        &av_description(true, false),
        clock.t0,
    )
    .unwrap();
    (m, clock, av_units(150, true, every_second))
}

/// Pushes `units` one by one; asserts that nothing is released before the last one and that
/// the last one releases exactly `tokens` (in order); returns the responses.
fn released_by_last(
    m: &mut HlsMuxer,
    clock: &Clock,
    units: &[Unit],
    tokens: &[u64],
) -> Vec<HlsResponse> {
    let (last, before) = units.split_last().unwrap();
    for u in before {
        clock.push(m, u);
        assert_eq!(m.poll_released(), None, "released early, at {u:?}");
    }
    clock.push(m, last);
    let mut out = Vec::new();
    for &t in tokens {
        let (token, r) = m.poll_released().expect("released");
        assert_eq!(token, t);
        out.push(r);
    }
    assert_eq!(m.poll_released(), None);
    out
}

#[test]
fn reload_waits_for_the_segment() {
    let (mut m, clock, units) = low_latency();
    // Segment 0 complete (frame 25 arrived), segment 1 open.
    let at = frame_index(&units, 25) + 1;
    clock.push_all(&mut m, &units[..at]);
    let now = clock.at(&units[at - 1]);
    assert_eq!(
        m.handle_request(now, MEDIA_PLAYLIST, "_HLS_msn=1", 7),
        HlsAnswer::Held
    );
    assert_eq!(m.poll_timeout(), Some(now + Duration::from_secs(3)));
    // Segment 1 completes when frame 50 arrives: not one unit sooner.
    let end = frame_index(&units, 50) + 1;
    let r = released_by_last(&mut m, &clock, &units[at..end], &[7]);
    assert_eq!(
        (r[0].status, r[0].content_type),
        (200, CONTENT_TYPE_PLAYLIST)
    );
    let text = String::from_utf8(r[0].body.concat()).unwrap();
    assert!(text.contains("\n#EXTINF:1.00000,\nseg1.mp4\n"), "{text}");
    assert!(
        text.ends_with("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part10.mp4\"\n"),
        "{text}"
    );
    assert_eq!(m.poll_timeout(), None);
    // Already there: answered at once, the whole playlist.
    let r = get(&mut m, now, MEDIA_PLAYLIST, "_HLS_msn=0");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.concat(), text.as_bytes());
}

#[test]
fn reload_waits_for_the_part() {
    let (mut m, clock, units) = low_latency();
    let at = frame_index(&units, 26);
    clock.push_all(&mut m, &units[..at]);
    let now = clock.t0;
    // Parts of segment 1 (from frame 25): 0 ends at frame 30, 1 at 35, 2 at 40.
    assert_eq!(
        m.handle_request(now, MEDIA_PLAYLIST, "_HLS_msn=1&_HLS_part=2", 1),
        HlsAnswer::Held
    );
    // Part 5 of segment 0 (which has 5): part 0 of segment 1.
    assert_eq!(
        m.handle_request(now, MEDIA_PLAYLIST, "_HLS_msn=0&_HLS_part=5", 2),
        HlsAnswer::Held
    );
    // Part 4 of segment 0 exists.
    assert_eq!(
        get(&mut m, now, MEDIA_PLAYLIST, "_HLS_msn=0&_HLS_part=4").status,
        200
    );
    let to30 = frame_index(&units, 30) + 1;
    let r = released_by_last(&mut m, &clock, &units[at..to30], &[2]);
    let text = String::from_utf8(r[0].body.concat()).unwrap();
    assert!(text.ends_with("#EXT-X-PART:DURATION=0.20000,URI=\"part5.mp4\",INDEPENDENT=YES\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part6.mp4\"\n"), "{text}");
    let to40 = frame_index(&units, 40) + 1;
    let r = released_by_last(&mut m, &clock, &units[to30..to40], &[1]);
    let text = String::from_utf8(r[0].body.concat()).unwrap();
    assert!(
        text.contains("URI=\"part7.mp4\"\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part8.mp4\"\n"),
        "{text}"
    );
}

#[test]
fn reload_deadline_is_503() {
    let (mut m, clock, units) = low_latency();
    clock.push_all(&mut m, &units[..frame_index(&units, 26)]);
    let now = clock.t0 + Duration::from_secs(1);
    assert_eq!(
        m.handle_request(now, MEDIA_PLAYLIST, "_HLS_msn=2", 9),
        HlsAnswer::Held
    );
    // Three target durations (1 s each).
    let deadline = now + Duration::from_secs(3);
    assert_eq!(m.poll_timeout(), Some(deadline));
    m.handle_timeout(deadline - Duration::from_millis(1));
    assert_eq!(m.poll_released(), None);
    m.handle_timeout(deadline);
    let (token, r) = m.poll_released().unwrap();
    assert_eq!((token, r.status, r.body_len()), (9, 503, 0));
    assert_eq!(m.poll_timeout(), None);
    assert_eq!(m.held_count(), 0);
}

#[test]
fn too_far_ahead_and_malformed_are_400() {
    let (mut m, clock, units) = low_latency();
    clock.push_all(&mut m, &units[..frame_index(&units, 26)]);
    let now = clock.t0;
    // Last complete segment: 0. Two ahead is held, three ahead refused.
    assert_eq!(get(&mut m, now, MEDIA_PLAYLIST, "_HLS_msn=3").status, 400);
    assert_eq!(
        m.handle_request(now, MEDIA_PLAYLIST, "_HLS_msn=2", 1),
        HlsAnswer::Held
    );
    // Advance Part Limit: 3 / 0.2 s = 15 parts past the last one.
    assert_eq!(
        m.handle_request(now, MEDIA_PLAYLIST, "_HLS_msn=1&_HLS_part=14", 2),
        HlsAnswer::Held
    );
    assert_eq!(
        get(&mut m, now, MEDIA_PLAYLIST, "_HLS_msn=1&_HLS_part=15").status,
        400
    );
    assert_eq!(
        get(&mut m, now, MEDIA_PLAYLIST, "_HLS_msn=2&_HLS_part=15").status,
        400
    );
    for q in [
        "_HLS_part=1",
        "_HLS_msn=x",
        "_HLS_msn=1&_HLS_part=",
        "_HLS_msn=-1",
    ] {
        assert_eq!(get(&mut m, now, MEDIA_PLAYLIST, q).status, 400, "{q}");
    }
    // Other parameters and _HLS_skip are ignored.
    assert_eq!(
        get(&mut m, now, MEDIA_PLAYLIST, "_HLS_skip=YES&token=abc").status,
        200
    );
}

#[test]
fn unknown_files_are_404() {
    let (mut m, clock, units) = low_latency();
    clock.push_all(&mut m, &units[..frame_index(&units, 60)]);
    let now = clock.t0;
    for f in [
        "",
        "index.m3u",
        "stream.m3u8",
        "seg0.ts",
        "seg9.mp4",
        "seg01.mp4",
        "part3.ts",
        "part99.mp4",
        "../index.m3u8",
        "init.ts",
    ] {
        let r = get(&mut m, now, f, "");
        assert_eq!(
            (r.status, r.content_type, r.body_len()),
            (404, CONTENT_TYPE_ERROR, 0),
            "{f}"
        );
    }
    assert_eq!(get(&mut m, now, "seg1.mp4", "").status, 200);
    // Parts 0..=10 are complete; 11 is hinted (held), 12 is not (404).
    assert_eq!(get(&mut m, now, "part10.mp4", "").status, 200);
    assert_eq!(get(&mut m, now, "part12.mp4", "").status, 404);
    assert_eq!(m.handle_request(now, "part11.mp4", "", 3), HlsAnswer::Held);
}

#[test]
fn preload_hint_part_waits_until_complete() {
    let (mut m, clock, units) = low_latency();
    let at = frame_index(&units, 26);
    clock.push_all(&mut m, &units[..at]);
    let now = clock.t0;
    let t = text(&mut m, now, MEDIA_PLAYLIST);
    assert!(t.ends_with("URI=\"part5.mp4\"\n"), "{t}");
    assert_eq!(m.handle_request(now, "part5.mp4", "", 4), HlsAnswer::Held);
    let to30 = frame_index(&units, 30) + 1;
    let r = released_by_last(&mut m, &clock, &units[at..to30], &[4]);
    assert_eq!((r[0].status, r[0].content_type), (200, CONTENT_TYPE_MP4));
    assert_eq!(r[0].body.concat(), get_ok(&mut m, now, "part5.mp4"));
    // And a hint that never completes: 503 after three target durations.
    assert_eq!(m.handle_request(now, "part6.mp4", "", 5), HlsAnswer::Held);
    m.handle_timeout(now + Duration::from_secs(3));
    assert_eq!(
        m.poll_released().map(|(t, r)| (t, r.status)),
        Some((5, 503))
    );
}

#[test]
fn playlists_wait_for_the_first_segment() {
    for (variant, segments_needed) in [
        (HlsVariant::Mpegts, 1),
        (HlsVariant::Fmp4, 2),
        (HlsVariant::LowLatency, 1),
    ] {
        let clock = Clock::new();
        let mut m =
            HlsMuxer::new(config(variant, 3), &av_description(true, false), clock.t0).unwrap();
        let units = av_units(100, true, every_second);
        assert_eq!(
            m.handle_request(clock.t0, MULTIVARIANT_PLAYLIST, "", 1),
            HlsAnswer::Held
        );
        assert_eq!(
            m.handle_request(clock.t0, MEDIA_PLAYLIST, "", 2),
            HlsAnswer::Held
        );
        assert_eq!(m.poll_timeout(), Some(clock.t0 + Duration::from_secs(10)));
        let end = frame_index(&units, 25 * segments_needed) + 1;
        let r = released_by_last(&mut m, &clock, &units[..end], &[1, 2]);
        let mv = String::from_utf8(r[0].body.concat()).unwrap();
        assert!(
            mv.starts_with("#EXTM3U\n") && mv.contains("BANDWIDTH="),
            "{mv}"
        );
        let media = String::from_utf8(r[1].body.concat()).unwrap();
        assert!(media.contains("#EXTINF:1.00000,\nseg0."), "{media}");
    }
    // Nothing comes: 503 after 10 s.
    let t0 = Instant::now();
    let mut m = HlsMuxer::new(
        config(HlsVariant::Mpegts, 3),
        &av_description(true, false),
        t0,
    )
    .unwrap();
    assert_eq!(m.handle_request(t0, MEDIA_PLAYLIST, "", 1), HlsAnswer::Held);
    m.handle_timeout(t0 + Duration::from_secs(10));
    assert_eq!(
        m.poll_released().map(|(t, r)| (t, r.status)),
        Some((1, 503))
    );
}

#[test]
fn other_variants_ignore_directives() {
    for variant in [HlsVariant::Mpegts, HlsVariant::Fmp4] {
        let clock = Clock::new();
        let mut m =
            HlsMuxer::new(config(variant, 3), &av_description(true, false), clock.t0).unwrap();
        clock.push_all(&mut m, &av_units(75, true, every_second));
        for q in ["_HLS_msn=999", "_HLS_part=1", "_HLS_msn=x"] {
            assert_eq!(
                get(&mut m, clock.t0, MEDIA_PLAYLIST, q).status,
                200,
                "{variant:?} {q}"
            );
        }
        let t = text(&mut m, clock.t0, MEDIA_PLAYLIST);
        assert!(!t.contains("SERVER-CONTROL") && !t.contains("PART"), "{t}");
        assert_eq!(get(&mut m, clock.t0, "part0.mp4", "").status, 404);
    }
}

#[test]
fn forget_and_close() {
    let (mut m, clock, units) = low_latency();
    clock.push_all(&mut m, &units[..frame_index(&units, 26)]);
    let now = clock.t0;
    assert_eq!(
        m.handle_request(now, MEDIA_PLAYLIST, "_HLS_msn=1", 1),
        HlsAnswer::Held
    );
    assert_eq!(
        m.handle_request(now, MEDIA_PLAYLIST, "_HLS_msn=1", 2),
        HlsAnswer::Held
    );
    assert_eq!(m.handle_request(now, "part5.mp4", "", 3), HlsAnswer::Held);
    m.forget(1);
    assert_eq!(m.held_count(), 2);
    // A token reused for a new request replaces its old one.
    assert_eq!(
        m.handle_request(now, MEDIA_PLAYLIST, "_HLS_msn=2", 3),
        HlsAnswer::Held
    );
    assert_eq!(m.held_count(), 2);
    m.close();
    let released: Vec<(u64, u16)> = std::iter::from_fn(|| m.poll_released())
        .map(|(t, r)| (t, r.status))
        .collect();
    assert_eq!(released, [(2, 404), (3, 404)]);
    assert_eq!(get(&mut m, now, MEDIA_PLAYLIST, "").status, 404);
    // Released but not yet polled, then forgotten: dropped.
    let (mut m, clock, units) = low_latency();
    assert_eq!(
        m.handle_request(clock.t0, MEDIA_PLAYLIST, "", 1),
        HlsAnswer::Held
    );
    clock.push_all(&mut m, &units[..frame_index(&units, 26)]);
    m.forget(1);
    assert_eq!(m.poll_released(), None);
}

#[test]
fn huge_durations_do_not_overflow() {
    let t0 = Instant::now();
    let cfg = HlsConfig {
        segment_duration: Duration::MAX,
        part_duration: Duration::MAX,
        ..config(HlsVariant::LowLatency, 3)
    };
    let mut m = HlsMuxer::new(cfg, &av_description(true, false), t0).unwrap();
    assert_eq!(m.handle_request(t0, MEDIA_PLAYLIST, "", 1), HlsAnswer::Held);
    assert_eq!(
        m.handle_request(t0, MEDIA_PLAYLIST, "_HLS_msn=1", 2),
        HlsAnswer::Held
    );
    assert_eq!(m.handle_request(t0, "part0.mp4", "", 3), HlsAnswer::Held);
    assert!(m.poll_timeout().unwrap() > t0 + Duration::from_secs(86_400));
    // Key frames far apart in media time (saturating to the longest duration): the first
    // segment ends, and the playlist holds saturated durations.
    let clock = Clock::new();
    clock.push(&mut m, &video_unit(0, true));
    let mut far = video_unit(1, true);
    far.dts = i64::MAX / 2;
    far.pts = far.dts;
    clock.push(&mut m, &far);
    let released: Vec<(u64, u16)> = std::iter::from_fn(|| m.poll_released())
        .map(|(t, r)| (t, r.status))
        .collect();
    assert_eq!(released, [(1, 200), (3, 200)]);
    let t = text(&mut m, t0, MEDIA_PLAYLIST);
    assert!(
        t.contains(
            "#EXT-X-TARGETDURATION:9223372037
"
        ),
        "{t}"
    );
}
