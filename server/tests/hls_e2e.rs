//! HLS end-to-end acceptance: ffmpeg publishes a deterministic clip over RTSP and RTMP, and
//! weir serves it as HLS in each variant (`mpegts`, `fmp4`, `lowLatency`). Real readers pull
//! it: ffmpeg decodes ≥ 10 s through the playlist (frames must be a contiguous run of the
//! source), ffprobe lists audio, and an independent parser downloads every playlist, segment,
//! part and init segment and checks them tag by tag and packet by packet. Media is asserted,
//! not exit codes. Run through `scripts/test.sh`. The HLS clients (headless Chromium, LL-HLS
//! blocking reloads, 100 concurrent clients, HTTP behaviour) are in `hls_clients.rs`.
//!
//! Nothing here guesses a file name: only `/<path>/index.m3u8` is fixed by the contract;
//! everything else is followed from the playlists.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Frames each HLS reader decodes (10 s at 25 fps); at least [`MIN_FRAMES`] must match.
const READ_FRAMES: usize = 250;
const MIN_FRAMES: usize = 240;
/// Hard limit for one HLS reader (startup, a muxer's first segment, then ~10 s of media).
const READ_TIMEOUT: Duration = Duration::from_secs(90);

// ---- 1. ffmpeg decodes ≥ 10 s of each variant, from an RTSP and an RTMP source ----

/// One weir in `variant`; `live/fromrtsp` published over RTSP and `live/fromrtmp` over RTMP
/// (both ffmpeg, looping the H264+AAC fixture). ffmpeg reads both playlists at once and
/// decodes 250 frames each, which must be a contiguous run of the source; then ffprobe must
/// find audio packets (increasing DTS) in each.
fn variant_round_trip(variant: &str) {
    let _serial = serial();
    let weir = start_weir_hls(&hls_variant_config(variant, ""));
    let fixture = Fixture::H264Aac.path();
    let source = source_framemd5(&fixture);
    let _rtsp = ffmpeg_publish(&fixture, &weir.url("live/fromrtsp"), "tcp");
    let _rtmp = ffmpeg_publish_rtmp(&fixture, &weir.rtmp_url("live/fromrtmp"));
    for (path, with) in [("live/fromrtsp", "with TCP, "), ("live/fromrtmp", "")] {
        weir.wait_for_log(
            &format!("is publishing to path '{path}', {with}2 tracks (H264, MPEG-4 Audio)"),
            PUBLISH_TIMEOUT,
        );
    }
    // FfmpegReader::spawn_rtmp reads any non-RTSP URL: `ffmpeg -i URL -map 0:v:0
    // -frames:v N -fps_mode passthrough -f framemd5`.
    let readers: Vec<(&str, FfmpegReader)> = ["live/fromrtsp", "live/fromrtmp"]
        .into_iter()
        .map(|p| (p, FfmpegReader::spawn_rtmp(&weir.hls_url(p), READ_FRAMES)))
        .collect();
    let mut failures = Vec::new();
    for (path, reader) in readers {
        let got = reader.collect(READ_TIMEOUT);
        match contiguous_run_start(&got, &source) {
            Ok(_) if got.len() >= MIN_FRAMES => {}
            Ok(_) => failures.push(format!(
                "{variant} {path}: only {} frames decoded over HLS, need {MIN_FRAMES}",
                got.len()
            )),
            Err(why) => failures.push(format!("{variant} {path}: {why}")),
        }
    }
    assert!(
        failures.is_empty(),
        "HLS readers failed:\n{}",
        failures.join("\n")
    );
    for path in ["live/fromrtsp", "live/fromrtmp"] {
        weir.wait_for_log(&muxer_created_tag(path), secs(5));
        let packets = ffprobe_packets_input(&weir.hls_url(path), Some(3));
        assert!(
            packets.iter().any(|p| p.codec_type == "video"),
            "{variant} {path}: ffprobe saw no video packet over HLS"
        );
        assert_audio_packets(&packets, 20);
    }
}

#[test]
fn mpegts_variant_ffmpeg_decodes_rtsp_and_rtmp_sources() {
    variant_round_trip("mpegts");
}

#[test]
fn fmp4_variant_ffmpeg_decodes_rtsp_and_rtmp_sources() {
    variant_round_trip("fmp4");
}

#[test]
fn low_latency_variant_ffmpeg_decodes_rtsp_and_rtmp_sources() {
    variant_round_trip("lowLatency");
}

// ---- 2. the output, parsed independently ----

/// A complete segment as downloaded, with the playlist facts about it.
struct SegRecord {
    uri: String,
    extinf: f64,
    pdt: Option<String>,
    body: Vec<u8>,
    /// Its parts, from a playlist that listed them (LL-HLS: the newest segments only).
    parts: Option<Vec<PartEntry>>,
}

/// Everything one playlist snapshot must satisfy on its own, line by line.
fn check_playlist(pl: &MediaPlaylist, variant: &str) -> Vec<String> {
    let mut p = pl.problems.clone();
    let ll = variant == "lowLatency";
    let fmp4 = variant != "mpegts";
    match pl.version {
        None => p.push("no EXT-X-VERSION".into()),
        Some(v) if fmp4 && v < 6 => p.push(format!(
            "EXT-X-VERSION {v} with EXT-X-MAP (needs ≥ 6, RFC 8216 §7)"
        )),
        Some(_) => {}
    }
    if pl.media_sequence.is_none() {
        p.push("no EXT-X-MEDIA-SEQUENCE".into());
    }
    if pl.endlist {
        p.push("EXT-X-ENDLIST in a live playlist".into());
    }
    if pl.segments.is_empty() {
        p.push("no complete segment".into());
    }
    let max_extinf = pl.segments.iter().map(|s| s.duration).fold(0.0, f64::max);
    match pl.target_duration {
        None => p.push("no EXT-X-TARGETDURATION".into()),
        Some(td) if (td as f64) < max_extinf.ceil() => p.push(format!(
            "EXT-X-TARGETDURATION {td} < ceil(max EXTINF {max_extinf})"
        )),
        Some(_) => {}
    }
    for s in &pl.segments {
        if !(s.duration > 0.0) {
            p.push(format!(
                "segment {}: EXTINF {} not positive",
                s.msn, s.duration
            ));
        }
        if s.pdt_ms.is_none() {
            p.push(format!(
                "segment {} ({}): no EXT-X-PROGRAM-DATE-TIME",
                s.msn, s.uri
            ));
        }
    }
    for w in pl.segments.windows(2) {
        if let (Some(a), Some(b)) = (w[0].pdt_ms, w[1].pdt_ms) {
            if b <= a {
                p.push(format!(
                    "EXT-X-PROGRAM-DATE-TIME not increasing: segment {} {:?}, segment {} {:?}",
                    w[0].msn, w[0].pdt, w[1].msn, w[1].pdt
                ));
            }
        }
    }
    if fmp4 && pl.map_uri.is_none() {
        p.push("no EXT-X-MAP".into());
    }
    if !fmp4 && pl.map_uri.is_some() {
        p.push("EXT-X-MAP in an MPEG-TS playlist".into());
    }
    if !ll {
        if pl.server_control.is_some()
            || pl.part_target.is_some()
            || !pl.all_parts().is_empty()
            || pl.preload_hint.is_some()
        {
            p.push(format!("Low-Latency tags in a {variant} playlist"));
        }
        return p;
    }
    // Low-Latency HLS (draft-pantos-hls-rfc8216bis §4.4.3.7–§4.4.5.3).
    match &pl.server_control {
        None => p.push("no EXT-X-SERVER-CONTROL".into()),
        Some(a) => {
            if attr(a, "CAN-BLOCK-RELOAD") != Some("YES") {
                p.push(format!(
                    "EXT-X-SERVER-CONTROL without CAN-BLOCK-RELOAD=YES: {a:?}"
                ));
            }
            let hold_back = attr(a, "PART-HOLD-BACK").and_then(|v| v.parse::<f64>().ok());
            match (hold_back, pl.part_target) {
                (Some(h), Some(t)) if h + 1e-9 < 2.0 * t => p.push(format!(
                    "PART-HOLD-BACK {h} < 2 × PART-TARGET {t} (§4.4.3.8)"
                )),
                (None, _) => p.push(format!(
                    "EXT-X-SERVER-CONTROL without PART-HOLD-BACK: {a:?}"
                )),
                _ => {}
            }
        }
    }
    let Some(target) = pl.part_target else {
        p.push("no EXT-X-PART-INF:PART-TARGET".into());
        return p;
    };
    let parts = pl.all_parts();
    if parts.is_empty() {
        p.push("no EXT-X-PART".into());
    }
    for part in &parts {
        if part.duration > target + 0.0015 {
            p.push(format!(
                "part {} lasts {} > PART-TARGET {target}",
                part.uri, part.duration
            ));
        }
    }
    for s in pl.segments.iter().filter(|s| !s.parts.is_empty()) {
        let sum: f64 = s.parts.iter().map(|p| p.duration).sum();
        if (sum - s.duration).abs() > 0.1 {
            p.push(format!(
                "segment {}: parts sum to {sum:.4} s, EXTINF {}",
                s.msn, s.duration
            ));
        }
        if !s.parts[0].independent {
            p.push(format!(
                "segment {}: first part {} not INDEPENDENT=YES",
                s.msn, s.parts[0].uri
            ));
        }
    }
    match &pl.preload_hint {
        None => p.push("no EXT-X-PRELOAD-HINT".into()),
        Some(a) => {
            if attr(a, "TYPE") != Some("PART") {
                p.push(format!("EXT-X-PRELOAD-HINT is not TYPE=PART: {a:?}"));
            }
            match attr(a, "URI") {
                None => p.push("EXT-X-PRELOAD-HINT without URI".into()),
                Some(u) if parts.iter().any(|x| x.uri == u) => {
                    p.push(format!("EXT-X-PRELOAD-HINT names listed part {u}"))
                }
                Some(_) => {}
            }
        }
    }
    p
}

/// Downloads the playlists of `PATH` and every file they name over a few seconds, checks
/// each playlist snapshot and the snapshots against each other, then probes the media.
fn parse_output(variant: &str, segment_count: u32) {
    let _serial = serial();
    let p = publish_rtsp(
        variant,
        &format!("hlsSegmentCount: {segment_count}\nhlsAlwaysRemux: yes\n"),
        PATH,
    );
    let mut c = p.weir.hls_client();
    let ll = variant == "lowLatency";
    let fmp4 = variant != "mpegts";

    // The multivariant playlist.
    let base = multivariant_target(PATH);
    let resp = c.get_ok(&base).unwrap_or_else(|e| panic!("{e}"));
    let ctype = resp
        .header("Content-Type")
        .unwrap_or("")
        .to_ascii_lowercase();
    assert!(
        ctype.contains("mpegurl"),
        "multivariant playlist Content-Type {ctype:?}"
    );
    let mv = Multivariant::parse(&resp.text()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        mv.version.is_some(),
        "multivariant playlist without EXT-X-VERSION"
    );
    let v0 = &mv.variants[0];
    let bandwidth: u64 = attr(&v0.attrs, "BANDWIDTH")
        .and_then(|b| b.parse().ok())
        .unwrap_or(0);
    assert!(
        bandwidth > 0,
        "EXT-X-STREAM-INF without BANDWIDTH: {:?}",
        v0.attrs
    );
    let codecs = attr(&v0.attrs, "CODECS").unwrap_or("");
    assert!(
        codecs.contains("avc1.") && codecs.contains("mp4a.40.2"),
        "EXT-X-STREAM-INF CODECS {codecs:?} should name H264 (avc1.*) and AAC-LC (mp4a.40.2)"
    );
    let media = resolve(&base, &mv.media_uris()[0]);

    // Poll the media playlist and download everything it names.
    let mut problems: Vec<String> = Vec::new();
    let mut segs: BTreeMap<u64, SegRecord> = BTreeMap::new();
    let mut uri_msn: HashMap<String, u64> = HashMap::new();
    let mut part_bodies: HashMap<String, Vec<u8>> = HashMap::new();
    let mut open_seen: HashMap<u64, Vec<PartEntry>> = HashMap::new();
    let mut init: Option<(String, Vec<u8>)> = None;
    let mut last_ms: Option<u64> = None;
    let mut increments = 0;
    let mut snapshots = 0;
    let started = Instant::now();
    let deadline = started + secs(30);
    loop {
        let (resp, pl) = fetch_media_playlist(&mut c, &media).unwrap_or_else(|e| panic!("{e}"));
        snapshots += 1;
        let ctype = resp
            .header("Content-Type")
            .unwrap_or("")
            .to_ascii_lowercase();
        if !ctype.contains("mpegurl") {
            problems.push(format!("media playlist Content-Type {ctype:?}"));
        }
        for prob in check_playlist(&pl, variant) {
            problems.push(format!("snapshot {snapshots}: {prob}\n{}", pl.text));
        }
        let ms = pl.media_sequence.unwrap_or(0);
        if let Some(last) = last_ms {
            if ms < last {
                problems.push(format!(
                    "EXT-X-MEDIA-SEQUENCE went back from {last} to {ms}"
                ));
            }
            if ms > last {
                increments += 1;
            }
        }
        last_ms = Some(ms);
        // The init segment.
        if let Some(map) = &pl.map_uri {
            match &init {
                Some((uri, _)) if uri != map => {
                    problems.push(format!("EXT-X-MAP changed from {uri} to {map}"))
                }
                Some(_) => {}
                None => {
                    let r = c
                        .get_ok(&resolve(&media, map))
                        .unwrap_or_else(|e| panic!("{e}"));
                    init = Some((map.clone(), r.body));
                }
            }
        }
        // Segments: identity stable across snapshots, downloaded once.
        for s in &pl.segments {
            match uri_msn.get(&s.uri) {
                Some(&m) if m != s.msn => problems.push(format!(
                    "{} was segment {m} and is now segment {}",
                    s.uri, s.msn
                )),
                _ => {}
            }
            uri_msn.insert(s.uri.clone(), s.msn);
            if let Some(rec) = segs.get_mut(&s.msn) {
                if rec.uri != s.uri || (rec.extinf - s.duration).abs() > 1e-9 || rec.pdt != s.pdt {
                    problems.push(format!(
                        "segment {} changed between snapshots: {} {} {:?} then {} {} {:?}",
                        s.msn, rec.uri, rec.extinf, rec.pdt, s.uri, s.duration, s.pdt
                    ));
                }
                if !s.parts.is_empty() {
                    match &rec.parts {
                        Some(prev) if *prev != s.parts => problems.push(format!(
                            "segment {}'s parts changed between snapshots",
                            s.msn
                        )),
                        _ => rec.parts = Some(s.parts.clone()),
                    }
                }
                continue;
            }
            let target = resolve(&media, &s.uri);
            let r = match c.get_ok(&target) {
                Ok(r) => r,
                Err(e) => {
                    problems.push(e);
                    continue;
                }
            };
            let ctype = r.header("Content-Type").unwrap_or("").to_ascii_lowercase();
            let want = if fmp4 { "video/mp4" } else { "video/mp2t" };
            if ctype != want {
                problems.push(format!("{target}: Content-Type {ctype:?}, expected {want}"));
            }
            if r.body.is_empty() {
                problems.push(format!("{target}: empty segment"));
            }
            segs.insert(
                s.msn,
                SegRecord {
                    uri: s.uri.clone(),
                    extinf: s.duration,
                    pdt: s.pdt.clone(),
                    body: r.body,
                    parts: (!s.parts.is_empty()).then(|| s.parts.clone()),
                },
            );
        }
        // Parts (LL-HLS): every listed one, once; open parts must be a prefix of the final list.
        for part in pl.all_parts() {
            if part_bodies.contains_key(&part.uri) {
                continue;
            }
            match c.get_ok(&resolve(&media, &part.uri)) {
                Ok(r) if !r.body.is_empty() => {
                    part_bodies.insert(part.uri.clone(), r.body);
                }
                Ok(r) => problems.push(format!("part {}: empty ({})", part.uri, r.summary())),
                Err(e) => problems.push(e),
            }
        }
        if !pl.open_parts.is_empty() {
            open_seen
                .entry(pl.next_msn())
                .or_default()
                .clone_from(&pl.open_parts);
        }
        let enough_parts = !ll || segs.values().filter(|s| s.parts.is_some()).count() >= 2;
        if increments >= 1 && segs.len() >= 4 && enough_parts && started.elapsed() >= secs(4) {
            break;
        }
        if Instant::now() >= deadline {
            problems.push(format!(
                "after {:?}: {increments} EXT-X-MEDIA-SEQUENCE increments (need 1), {} segments \
                 (need 4), {} segments with parts",
                started.elapsed(),
                segs.len(),
                segs.values().filter(|s| s.parts.is_some()).count()
            ));
            break;
        }
        thread::sleep(Duration::from_millis(250));
    }
    for (msn, open) in &open_seen {
        if let Some(Some(parts)) = segs.get(msn).map(|s| &s.parts) {
            if parts.len() < open.len() || parts[..open.len()] != open[..] {
                problems.push(format!(
                    "segment {msn}: the parts listed while it was open {:?} are not a prefix of \
                     its final parts {:?}",
                    open.iter().map(|p| &p.uri).collect::<Vec<_>>(),
                    parts.iter().map(|p| &p.uri).collect::<Vec<_>>()
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{variant}: playlist problems:\n{}",
        problems.join("\n")
    );

    // The media, probed with ffprobe.
    let dir = TempDir::new(&format!("hls-parse-{variant}"));
    let init_bytes: &[u8] = match &init {
        Some((_, b)) => b,
        None => &[],
    };
    assert_eq!(fmp4, init.is_some(), "{variant}: init segment presence");
    let mut all: Vec<TimedPacket> = Vec::new();
    let mut firsts: Vec<(u64, f64, f64)> = Vec::new(); // (msn, first video DTS, EXTINF)
    for (msn, rec) in &segs {
        let label = format!("segment {msn} ({})", rec.uri);
        let packets = probe_bytes(&dir, &format!("seg{msn}.bin"), &[init_bytes, &rec.body])
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        problems.extend(check_media(&label, &packets, rec.extinf, 0.1, true, true));
        if let Some(first) = of_kind(&packets, "video").first().and_then(|p| p.dts) {
            firsts.push((*msn, first, rec.extinf));
        }
        // LL-HLS: the parts carry exactly the segment's media.
        if let Some(parts) = &rec.parts {
            let bodies: Option<Vec<&[u8]>> = parts
                .iter()
                .map(|p| part_bodies.get(&p.uri).map(Vec::as_slice))
                .collect();
            let Some(bodies) = bodies else {
                problems.push(format!("{label}: a part was not downloaded"));
                continue;
            };
            let mut chunks = vec![init_bytes];
            chunks.extend(bodies.iter().copied());
            let from_parts = probe_bytes(&dir, &format!("seg{msn}-parts.bin"), &chunks)
                .unwrap_or_else(|e| panic!("{label} from parts: {e}"));
            let key = |v: &[TimedPacket]| {
                v.iter()
                    .map(|p| {
                        (
                            p.stream_index,
                            p.dts.map(|d| (d * 1e6).round() as i64),
                            p.size,
                        )
                    })
                    .collect::<Vec<_>>()
            };
            if key(&from_parts) != key(&packets) {
                problems.push(format!(
                    "{label}: its parts hold other packets than the segment ({} vs {})",
                    from_parts.len(),
                    packets.len()
                ));
            }
            for (part, body) in parts.iter().zip(&bodies) {
                let pl = format!("{label} part {} ({})", part.index, part.uri);
                match probe_bytes(&dir, "part.bin", &[init_bytes, body]) {
                    Ok(pk) => problems.extend(check_media(
                        &pl,
                        &pk,
                        part.duration,
                        0.05,
                        part.independent,
                        false,
                    )),
                    Err(e) => problems.push(format!("{pl}: {e}")),
                }
            }
        }
        all.extend(packets);
    }
    // Across segments: DTS increases per stream, and each segment starts where the previous
    // one's EXTINF says it ends.
    let consecutive = segs
        .keys()
        .zip(segs.keys().skip(1))
        .all(|(a, b)| b == &(a + 1));
    assert!(
        consecutive,
        "{variant}: downloaded segments {:?} are not consecutive",
        segs.keys()
    );
    problems.extend(dts_problems(
        &format!("{variant} segments in sequence"),
        &all,
    ));
    for w in firsts.windows(2) {
        let ((m0, d0, extinf), (m1, d1, _)) = (w[0], w[1]);
        if ((d1 - d0) - extinf).abs() > 0.1 {
            problems.push(format!(
                "segment {m1} starts {:.4} s after segment {m0}, whose EXTINF is {extinf}",
                d1 - d0
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{variant}: media problems:\n{}",
        problems.join("\n")
    );
    eprintln!(
        "[hls] {variant}: {snapshots} playlists, {} segments, {} parts, {increments} media sequence increments",
        segs.len(),
        part_bodies.len()
    );
}

#[test]
fn mpegts_output_parses_independently() {
    parse_output("mpegts", 3);
}

#[test]
fn fmp4_output_parses_independently() {
    parse_output("fmp4", 3);
}

/// Low-Latency HLS keeps MediaMTX's minimum of 7 segments.
#[test]
fn low_latency_output_parses_independently() {
    parse_output("lowLatency", 7);
}
// ---- the harness's own logic (no server needed) ----

#[test]
fn harness_parses_playlists_and_resolves_uris() {
    assert_eq!(
        resolve("/live/cam/index.m3u8", "main_stream.m3u8"),
        "/live/cam/main_stream.m3u8"
    );
    assert_eq!(
        resolve("/live/cam/x.m3u8?_HLS_msn=3", "./seg1.ts"),
        "/live/cam/seg1.ts"
    );
    assert_eq!(resolve("/a/b.m3u8", "/other/c.ts"), "/other/c.ts");
    assert_eq!(
        resolve("/a/b.m3u8", "http://127.0.0.1:1/z/c.mp4?x=1"),
        "/z/c.mp4?x=1"
    );
    assert_eq!(
        attributes(r#"TYPE=PART,URI="part1,2.mp4",DURATION=0.2"#),
        vec![
            ("TYPE".to_string(), "PART".to_string()),
            ("URI".to_string(), "part1,2.mp4".to_string()),
            ("DURATION".to_string(), "0.2".to_string())
        ]
    );
    assert_eq!(parse_date_time_ms("1970-01-01T00:00:01.5Z"), Some(1500));
    assert_eq!(
        parse_date_time_ms("2000-03-01T01:00:00+01:00"),
        Some(951_868_800_000)
    );
    assert_eq!(parse_date_time_ms("2000-03-01 00:00:00"), None);
    let text = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:1\n\
        #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.6\n\
        #EXT-X-PART-INF:PART-TARGET=0.2\n#EXT-X-MEDIA-SEQUENCE:5\n#EXT-X-MAP:URI=\"init.mp4\"\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T07:00:00.000Z\n#EXTINF:1.00000,\nseg5.mp4\n\
        #EXT-X-PROGRAM-DATE-TIME:2026-11-24T07:00:01.000Z\n\
        #EXT-X-PART:DURATION=0.5,URI=\"part10.mp4\",INDEPENDENT=YES\n\
        #EXT-X-PART:DURATION=0.5,URI=\"part11.mp4\"\n#EXTINF:1.00000,\nseg6.mp4\n\
        #EXT-X-PART:DURATION=0.2,URI=\"part12.mp4\",INDEPENDENT=YES\n\
        #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"part13.mp4\"\n";
    let pl = MediaPlaylist::parse(text).expect("parses");
    assert!(pl.problems.is_empty(), "{:?}", pl.problems);
    assert_eq!(pl.media_sequence, Some(5));
    assert_eq!(pl.segments.len(), 2);
    assert_eq!(pl.segments[1].msn, 6);
    assert_eq!(pl.segments[1].parts.len(), 2);
    assert!(pl.segments[1].parts[0].independent && !pl.segments[1].parts[1].independent);
    assert_eq!(pl.next_part(), (7, 1));
    assert!(pl.has_part(7, 0) && pl.has_part(6, 1) && !pl.has_part(7, 1));
    assert_eq!(pl.preload_hint_uri(), Some("part13.mp4"));
    assert_eq!(pl.map_uri.as_deref(), Some("init.mp4"));
    let problems = check_playlist(&pl, "lowLatency");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("lasts 0.5 > PART-TARGET")),
        "{problems:?}"
    );
    let bad =
        MediaPlaylist::parse("#EXTM3U\nseg1.ts\n#EXTINF:1,\n#EXTINF:1,\nx.ts\n").expect("parses");
    assert_eq!(bad.problems.len(), 2, "{:?}", bad.problems);
    let mv = Multivariant::parse(
        "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-INDEPENDENT-SEGMENTS\n\n\
         #EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1.42c01e,mp4a.40.2\"\nmain_stream.m3u8\n",
    )
    .expect("parses");
    assert_eq!(mv.media_uris(), vec!["main_stream.m3u8".to_string()]);
    assert_eq!(
        attr(&mv.variants[0].attrs, "CODECS"),
        Some("avc1.42c01e,mp4a.40.2")
    );
    assert_eq!(
        json_raw(
            r#"{"ok":true,"played":5.25,"picture":{"mean":1,"stddev":40.5}}"#,
            "stddev"
        ),
        Some("40.5")
    );
}
