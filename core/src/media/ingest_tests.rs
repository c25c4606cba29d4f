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
    let mut ingest = StreamIngest::new(&desc, wall);
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
    let mut ingest = StreamIngest::new(&desc, wall);
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
