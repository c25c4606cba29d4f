//! Playlists line by line: tags, durations, sequence numbers, program date-times, parts,
//! preload hint, and the multivariant playlist's measured bandwidth and codecs.

use super::*;

/// Pushes the first `frames` frames (and the audio of that span) into a muxer of `variant`
/// listing `count` segments.
fn fed(variant: HlsVariant, count: usize, frames: i64) -> (HlsMuxer, Clock) {
    let clock = Clock::new();
    let mut m = HlsMuxer::new(
        config(variant, count),
        &av_description(true, false),
        clock.t0,
    )
    .unwrap();
    clock.push_all(&mut m, &av_units(frames, true, every_second));
    (m, clock)
}

#[test]
fn mpegts_media_playlist() {
    // Frames 0..=124: segments 0..=3 complete, 4 open.
    let (mut m, clock) = fed(HlsVariant::Mpegts, 3, 125);
    let expected = "#EXTM3U\n\
        #EXT-X-VERSION:3\n\
        #EXT-X-TARGETDURATION:1\n\
        #EXT-X-MEDIA-SEQUENCE:1\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:01.000Z\n\
        #EXTINF:1.00000,\n\
        seg1.ts\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:02.000Z\n\
        #EXTINF:1.00000,\n\
        seg2.ts\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:03.000Z\n\
        #EXTINF:1.00000,\n\
        seg3.ts\n";
    assert_eq!(text(&mut m, clock.t0, MEDIA_PLAYLIST), expected);
    let r = get(&mut m, clock.t0, MEDIA_PLAYLIST, "");
    assert_eq!(
        (r.content_type, r.cache_control),
        (CONTENT_TYPE_PLAYLIST, CACHE_CONTROL)
    );
    let seg = get(&mut m, clock.t0, "seg3.ts", "");
    assert_eq!(
        (seg.status, seg.content_type, seg.cache_control),
        (200, CONTENT_TYPE_TS, CACHE_CONTROL)
    );
    assert_eq!(seg.body_len() % 188, 0);
    assert_eq!(
        get(&mut m, clock.t0, "seg4.ts", "").status,
        404,
        "still open"
    );
    assert_eq!(get(&mut m, clock.t0, "init.mp4", "").status, 404);
}

#[test]
fn fmp4_media_playlist() {
    let (mut m, clock) = fed(HlsVariant::Fmp4, 7, 75);
    let expected = "#EXTM3U\n\
        #EXT-X-VERSION:9\n\
        #EXT-X-TARGETDURATION:1\n\
        #EXT-X-MEDIA-SEQUENCE:0\n\
        #EXT-X-MAP:URI=\"init.mp4\"\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:00.000Z\n\
        #EXTINF:1.00000,\n\
        seg0.mp4\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:01.000Z\n\
        #EXTINF:1.00000,\n\
        seg1.mp4\n";
    assert_eq!(text(&mut m, clock.t0, MEDIA_PLAYLIST), expected);
    let init = get(&mut m, clock.t0, "init.mp4", "");
    assert_eq!(
        (init.status, init.content_type, init.cache_control),
        (200, CONTENT_TYPE_MP4, CACHE_CONTROL)
    );
    assert_eq!(&init.body[0][4..8], b"ftyp");
    let seg = get_ok(&mut m, clock.t0, "seg1.mp4");
    assert_eq!(&seg[4..8], b"moof");
    // Parts are made but not served by the fmp4 variant.
    assert_eq!(get(&mut m, clock.t0, "part0.mp4", "").status, 404);
}

#[test]
fn low_latency_media_playlist() {
    // Frames 0..=110: segments 0..=3 complete; segment 4 has parts 20 (frames 100..105) and
    // 21 (105..110); part 22 is next.
    let (mut m, clock) = fed(HlsVariant::LowLatency, 3, 111);
    let parts = |from: u64| -> String {
        (from..from + 5)
            .map(|id| {
                let ind = if id % 5 == 0 { ",INDEPENDENT=YES" } else { "" };
                format!("#EXT-X-PART:DURATION=0.20000,URI=\"part{id}.mp4\"{ind}\n")
            })
            .collect()
    };
    let expected = format!(
        "#EXTM3U\n\
        #EXT-X-VERSION:9\n\
        #EXT-X-TARGETDURATION:1\n\
        #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.60000\n\
        #EXT-X-PART-INF:PART-TARGET=0.20000\n\
        #EXT-X-MEDIA-SEQUENCE:1\n\
        #EXT-X-MAP:URI=\"init.mp4\"\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:01.000Z\n\
        #EXTINF:1.00000,\n\
        seg1.mp4\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:02.000Z\n\
        {}\
        #EXTINF:1.00000,\n\
        seg2.mp4\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T06:00:03.000Z\n\
        {}\
        #EXTINF:1.00000,\n\
        seg3.mp4\n\
        #EXT-X-PART:DURATION=0.20000,URI=\"part20.mp4\",INDEPENDENT=YES\n\
        #EXT-X-PART:DURATION=0.20000,URI=\"part21.mp4\"\n\
        #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part22.mp4\"\n",
        parts(10),
        parts(15)
    );
    let got = text(&mut m, clock.t0, MEDIA_PLAYLIST);
    assert_eq!(got, expected, "{got}");
    // A segment is its parts, byte for byte; the kept parts are served.
    let seg = get_ok(&mut m, clock.t0, "seg3.mp4");
    let joined: Vec<u8> = (15..20)
        .flat_map(|id| get_ok(&mut m, clock.t0, &format!("part{id}.mp4")))
        .collect();
    assert_eq!(seg, joined);
    let part = get(&mut m, clock.t0, "part21.mp4", "");
    assert_eq!(
        (part.status, part.content_type, part.cache_control),
        (200, CONTENT_TYPE_MP4, CACHE_CONTROL)
    );
}

/// The bandwidths RFC 8216 §4.3.4.2 asks for, from the listed segments as served.
fn expected_bandwidth(m: &mut HlsMuxer, t: Instant, names: &[String]) -> (u64, u64) {
    let sizes: Vec<u64> = names.iter().map(|n| get_ok(m, t, n).len() as u64).collect();
    // Every segment lasts exactly one second.
    let peak = sizes.iter().max().unwrap() * 8;
    let average = (sizes.iter().sum::<u64>() * 8).div_ceil(sizes.len() as u64);
    (peak, average)
}

#[test]
fn multivariant_playlists() {
    for (variant, version, ext) in [
        (HlsVariant::Mpegts, 3, "ts"),
        (HlsVariant::Fmp4, 9, "mp4"),
        (HlsVariant::LowLatency, 9, "mp4"),
    ] {
        let (mut m, clock) = fed(variant, 3, 125);
        let names: Vec<String> = (1..4).map(|k| format!("seg{k}.{ext}")).collect();
        let (peak, average) = expected_bandwidth(&mut m, clock.t0, &names);
        assert!(
            peak > 8_000 && average <= peak,
            "{variant:?}: {peak} {average}"
        );
        let expected = format!(
            "#EXTM3U\n\
            #EXT-X-VERSION:{version}\n\
            #EXT-X-INDEPENDENT-SEGMENTS\n\
            \n\
            #EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average},\
            CODECS=\"avc1.64001e,mp4a.40.2\",RESOLUTION=640x360,FRAME-RATE=25.000\n\
            main_stream.m3u8\n"
        );
        assert_eq!(text(&mut m, clock.t0, MULTIVARIANT_PLAYLIST), expected);
    }
}

#[test]
fn bandwidth_follows_the_data() {
    // The same stream without audio has a lower bandwidth; more segments change it.
    let clock = Clock::new();
    let mut video_only = HlsMuxer::new(
        config(HlsVariant::Mpegts, 3),
        &av_description(false, false),
        clock.t0,
    )
    .unwrap();
    clock.push_all(&mut video_only, &av_units(125, false, every_second));
    let (mut with_audio, _) = fed(HlsVariant::Mpegts, 3, 125);
    let bw = |m: &mut HlsMuxer| -> u64 {
        let t = text(m, clock.t0, MULTIVARIANT_PLAYLIST);
        let at = t.find("BANDWIDTH=").unwrap() + 10;
        t[at..].split(',').next().unwrap().parse().unwrap()
    };
    let v = bw(&mut video_only);
    let a = bw(&mut with_audio);
    assert!(v < a, "{v} {a}");
    let t = text(&mut video_only, clock.t0, MULTIVARIANT_PLAYLIST);
    assert!(
        t.contains("CODECS=\"avc1.64001e\",RESOLUTION=640x360"),
        "{t}"
    );
}

#[test]
fn audio_only_playlists() {
    let clock = Clock::new();
    let desc = description(&[aac_track()]);
    let mut m = HlsMuxer::new(config(HlsVariant::LowLatency, 3), &desc, clock.t0).unwrap();
    // 100 AAC units: 2.32 s. Segments end at the first unit 1 s after their start (44 units:
    // 1.02168 s); parts at the first unit 200 ms after theirs (9 units: 0.20898 s).
    let units: Vec<Unit> = (0..100).map(|j| audio_unit(0, j)).collect();
    clock.push_all(&mut m, &units);
    let t = text(&mut m, clock.t0, MEDIA_PLAYLIST);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[2], "#EXT-X-TARGETDURATION:2", "{t}");
    assert_eq!(lines[4], "#EXT-X-PART-INF:PART-TARGET=0.20900", "{t}");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("#EXTINF:1.02168,"))
            .count(),
        2,
        "{t}"
    );
    // Every audio part is independent.
    assert!(lines
        .iter()
        .filter(|l| l.starts_with("#EXT-X-PART:"))
        .all(|l| l.ends_with("INDEPENDENT=YES")));
    assert!(lines.contains(&"#EXT-X-PART:DURATION=0.20898,URI=\"part0.mp4\",INDEPENDENT=YES"));
    let mv = text(&mut m, clock.t0, MULTIVARIANT_PLAYLIST);
    assert!(
        mv.contains(",CODECS=\"mp4a.40.2\"\nmain_stream.m3u8\n"),
        "{mv}"
    );
}
