//! Ingest on real traffic: the interleaved capture of a Wowza server (retina's `bunny.rtsp`,
//! H264 + AAC) replayed through `StreamIngest` with the SDP that server announced.

use super::{Ring, StreamDescription, StreamIngest, StreamItem, WallClock};
use crate::codec::CodecKind;
use crate::rtp::RtpPacket;
use bytes::Bytes;
use std::time::{Duration, Instant};

const DESCRIBE: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/retina/client_bunny_describe.txt"
));
const BUNNY: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/media/bunny.rtsp"
));

fn sdp_body(msg: &[u8]) -> &[u8] {
    let i = msg
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head end")
        + 4;
    &msg[i..]
}

/// (channel, packet) for every `$` frame of the capture.
fn frames(mut b: &[u8]) -> Vec<(u8, Bytes)> {
    let mut out = Vec::new();
    while b.len() >= 4 && b[0] == b'$' {
        let len = usize::from(u16::from_be_bytes([b[2], b[3]]));
        out.push((b[1], Bytes::copy_from_slice(&b[4..4 + len])));
        b = &b[4 + len..];
    }
    assert!(b.is_empty(), "capture walks to its end");
    out
}

#[allow(clippy::disallowed_methods)] // a fake clock needs one real base instant
fn clock() -> (Instant, WallClock) {
    let base = Instant::now();
    (
        base,
        WallClock {
            base,
            base_ntp: 0xe000_0000_0000_0000,
        },
    )
}

#[test]
fn bunny_capture_becomes_units_with_key_frames_and_monotonic_dts() {
    let desc = StreamDescription::from_sdp(sdp_body(DESCRIBE)).unwrap();
    assert_eq!(desc.tracks[0].codec, CodecKind::Mpeg4Audio);
    assert_eq!(desc.tracks[1].codec, CodecKind::H264);
    let (base, wall) = clock();
    let mut ingest = StreamIngest::new(&desc, wall, 1);
    let mut items = Vec::new();
    let frames = frames(BUNNY);
    assert_eq!(frames.len(), 371);
    for (i, (ch, raw)) in frames.into_iter().enumerate() {
        let track = usize::from(ch / 2);
        let now = base + Duration::from_millis(i as u64 * 20);
        assert!(ingest.push_rtp(now, track, RtpPacket::parse(raw).unwrap(), &mut items));
    }
    let units: Vec<_> = items
        .iter()
        .filter_map(|i| match i {
            StreamItem::Unit(u) => Some(u.clone()),
            StreamItem::Rtcp { .. } => None,
        })
        .collect();
    let video: Vec<_> = units.iter().filter(|u| u.track == 1).collect();
    let audio: Vec<_> = units.iter().filter(|u| u.track == 0).collect();
    // Every RTP packet is carried by exactly one unit (the last video unit may still be open).
    let carried: usize = units.iter().map(|u| u.rtp.len()).sum();
    assert!(carried >= 371 - 8, "{carried}");
    assert_eq!(audio.len(), 102, "one unit per AAC packet");
    assert!(audio.iter().all(|u| u.key && !u.payload.is_empty()));
    assert!(video.first().unwrap().key, "the capture starts with an IDR");
    // Units carry stream-relative times: each track's first unit sits at its arrival time.
    let first_video_ms = video[0].pts / 90;
    let first_audio_ms = audio[0].pts * 1000 / 12_000;
    assert!((0..=200).contains(&first_video_ms), "{first_video_ms}");
    assert!((0..=200).contains(&first_audio_ms), "{first_audio_ms}");
    assert!(
        video.iter().all(|u| !u.payload.is_empty()),
        "every video unit depacketized"
    );
    for w in video.windows(2) {
        assert!(w[1].dts > w[0].dts, "DTS strictly increasing");
        assert!(w[1].pts >= w[0].pts, "baseline: no reordering");
    }
    assert!(video.iter().all(|u| u.dts <= u.pts));
    // Sender reports were generated, one per track at first, then every 5 s of arrival time.
    let srs = items
        .iter()
        .filter(|i| matches!(i, StreamItem::Rtcp { .. }))
        .count();
    assert!(srs >= 2, "{srs}");
    assert_eq!(ingest.codec_errors().sum::<u64>(), 0);
}

#[test]
fn reader_joining_the_bunny_ring_starts_at_an_idr() {
    let desc = StreamDescription::from_sdp(sdp_body(DESCRIBE)).unwrap();
    let (base, wall) = clock();
    let mut ingest = StreamIngest::new(&desc, wall, 1);
    let mut ring = Ring::new(512, desc.start_tracks());
    let mut items = Vec::new();
    for (ch, raw) in frames(BUNNY) {
        ingest.push_rtp(
            base,
            usize::from(ch / 2),
            RtpPacket::parse(raw).unwrap(),
            &mut items,
        );
        for it in items.drain(..) {
            ring.push(it);
        }
    }
    let mut cursor = ring.join();
    let mut out = Vec::new();
    ring.read(&mut cursor, usize::MAX, &mut out);
    match out.first() {
        Some(StreamItem::Unit(u)) => assert!(
            u.key && u.track == 1,
            "first item is a video key unit: {u:?}"
        ),
        Some(other) => panic!("unexpected first item {other:?}"),
        None => panic!("nothing to read"),
    }
}

#[test]
fn units_from_a_non_rtp_source_are_packetized_for_rtsp_readers() {
    use crate::codec::{h264, new_depacketizer};
    const STREAM: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/media/4pics.264"
    ));
    let desc = StreamDescription::from_sdp(
        b"v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n",
    )
    .unwrap();
    let (base, wall) = clock();
    let mut ingest = StreamIngest::new(&desc, wall, 0x1234_5678_9abc_def0);
    // Group the Annex-B stream into access units: a new unit starts at each slice with
    // first_mb_in_slice == 0 (first payload bit set) or at a parameter set after a slice.
    let nalus: Vec<Bytes> = h264::split_annexb(STREAM)
        .map(Bytes::copy_from_slice)
        .collect();
    let mut aus: Vec<Vec<Bytes>> = Vec::new();
    let mut seen_slice = false;
    for n in nalus {
        let t = h264::nalu_type(&n);
        let first_slice = matches!(t, 1 | 5) && n.get(1).is_some_and(|b| b & 0x80 != 0);
        if aus.is_empty() || (seen_slice && (first_slice || matches!(t, 7 | 8 | 9))) {
            aus.push(Vec::new());
            seen_slice = false;
        }
        seen_slice |= matches!(t, 1 | 5);
        aus.last_mut().unwrap().push(n);
    }
    assert!(aus.len() >= 4, "{}", aus.len());
    let mut items = Vec::new();
    for (i, au) in aus.iter().enumerate() {
        let pts = i as i64 * 3000;
        let key = au.iter().any(|n| h264::nalu_type(n) == 5);
        ingest.push_unit(
            base,
            0,
            pts,
            pts,
            key,
            au.iter().cloned().collect(),
            &mut items,
        );
    }
    let mut depack = new_depacketizer(CodecKind::H264, None, None).unwrap();
    let mut units = 0;
    let mut last_seq = None;
    for item in &items {
        let StreamItem::Unit(u) = item else { continue };
        assert!(!u.rtp.is_empty());
        assert!(
            u.rtp.last().unwrap().header.marker,
            "marker on the last packet of a unit"
        );
        for p in &u.rtp {
            assert_eq!(p.header.timestamp, u.pts as u32);
            if let Some(prev) = last_seq {
                assert_eq!(
                    p.header.sequence_number.0,
                    u16::wrapping_add(prev, 1),
                    "contiguous seq"
                );
            }
            last_seq = Some(p.header.sequence_number.0);
            depack.push(p).unwrap();
        }
        let back = depack.finish().unwrap();
        assert_eq!(
            back.data.as_slice(),
            u.payload.as_slice(),
            "RTP round trip of unit {units}"
        );
        assert_eq!(back.key, u.key);
        units += 1;
    }
    assert_eq!(units, aus.len());
    assert!(
        items.iter().any(|i| matches!(i, StreamItem::Rtcp { .. })),
        "a sender report too"
    );
}
