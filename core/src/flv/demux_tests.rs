//! Demuxer readiness rules, passthrough codecs, composition time clamping, and what the muxer
//! cannot carry.

use super::test_support::{demux_all, four_pics, primed, unit};
use super::*;
use crate::codec::CodecKind;
use crate::media::StreamDescription;
use bytes::Bytes;

#[test]
fn negative_composition_offsets_are_clamped() {
    let (sps, pps, aus) = four_pics();
    let desc = description_from_tracks(&[TrackInfo::h264(
        &AvcConfig::from_parameter_sets(sps, pps).unwrap(),
    )]);
    let mut muxer = FlvMuxer::new(&desc).unwrap();
    let mut out = Vec::new();
    muxer.push_unit(&unit(0, 0, 9000, true, aus[0].clone()), &mut out);
    assert_eq!(&out[1].body[..5], &[0x17, 1, 0, 0, 0]);
    // A sender's negative CTS is read as 0 as well.
    let mut body = out[1].body.to_vec();
    body[2..5].copy_from_slice(&[0xff, 0xff, 0xf6]);
    out[1].body = body.into();
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&[("videocodecid".into(), MetaValue::Number(7.0))]);
    let (_, got) = demux_all(&mut d, &out);
    assert_eq!((got[0].1, got[0].2), (9000, 9000));
}

#[test]
fn readiness_rules() {
    // Announced video and audio: ready at the second sequence header.
    let (d, _) = primed();
    assert_eq!(d.description().unwrap().tracks.len(), 2);

    // Nothing announced, video only: units are buffered for ANALYZE_MS, then published after
    // the Tracks, in order; audio arriving later adds a second Tracks.
    let (sps, pps, aus) = four_pics();
    let mut avc = vec![0x17, 0, 0, 0, 0];
    avc.extend_from_slice(&AvcConfig::from_parameter_sets(sps, pps).unwrap().to_bytes());
    let mut frame = vec![0x17, 1, 0, 0, 0];
    for n in &aus[0] {
        frame.extend_from_slice(&(n.len() as u32).to_be_bytes());
        frame.extend_from_slice(n);
    }
    let frame = Bytes::from(frame);
    let mut d = FlvDemuxer::new();
    let mut out = Vec::new();
    // Before the sequence header: dropped.
    d.push(true, 0, &frame, &mut out).unwrap();
    assert_eq!(d.dropped_units(), 1);
    d.push(true, 10, &Bytes::from(avc), &mut out).unwrap();
    for t in [10, 500, 1009] {
        d.push(true, t, &frame, &mut out).unwrap();
    }
    assert!(out.is_empty());
    d.push(true, 1010, &frame, &mut out).unwrap();
    assert_eq!(out.len(), 5);
    assert!(matches!(&out[0], FlvOutput::Tracks(t) if t.tracks.len() == 1));
    let dts: Vec<i64> = out[1..]
        .iter()
        .map(|o| match o {
            FlvOutput::Unit { dts, key, .. } => {
                assert!(key);
                *dts
            }
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(dts, [900, 45_000, 90_810, 90_900]);
    out.clear();
    d.push(
        false,
        1020,
        &Bytes::from_static(b"\xaf\x00\x11\x90"),
        &mut out,
    )
    .unwrap();
    assert!(matches!(&out[..], [FlvOutput::Tracks(t)] if t.tracks.len() == 2));
    // The same header again changes nothing; a different one is a new description.
    out.clear();
    d.push(
        false,
        1030,
        &Bytes::from_static(b"\xaf\x00\x11\x90"),
        &mut out,
    )
    .unwrap();
    assert!(out.is_empty());
    d.push(
        false,
        1040,
        &Bytes::from_static(b"\xaf\x00\x11\x88"),
        &mut out,
    )
    .unwrap();
    assert!(matches!(&out[..], [FlvOutput::Tracks(t)] if t.tracks[1].channels == Some(1)));

    // Only audio announced: ready at its header.
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&[("audiocodecid".into(), MetaValue::String("mp4a".into()))]);
    let mut out = Vec::new();
    d.push(false, 0, &Bytes::from_static(b"\xaf\x00\x11\x90"), &mut out)
        .unwrap();
    assert_eq!(out.len(), 1);
    // An announced codec the demuxer cannot read is not waited for.
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&[
        ("videocodecid".into(), MetaValue::Number(2.0)),
        ("audiocodecid".into(), MetaValue::Number(10.0)),
    ]);
    let mut out = Vec::new();
    d.push(false, 0, &Bytes::from_static(b"\xaf\x00\x11\x90"), &mut out)
        .unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(
        d.push(true, 0, &Bytes::from_static(b"\x22\x00"), &mut out),
        Err(FlvError::Unsupported("video codec"))
    );
}

#[test]
fn av1_and_vp9_pass_through_as_generic_tracks() {
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&[("videocodecid".into(), MetaValue::String("av01".into()))]);
    let mut out = Vec::new();
    d.push(
        true,
        0,
        &Bytes::from_static(b"\x90av01\x81\x08\x0c\x00"),
        &mut out,
    )
    .unwrap();
    d.push(
        true,
        40,
        &Bytes::from_static(b"\x91av01\x12\x00\x0a\x0b"),
        &mut out,
    )
    .unwrap();
    d.push(
        true,
        80,
        &Bytes::from_static(b"\xa1av01\x12\x00\x32\x01"),
        &mut out,
    )
    .unwrap();
    let FlvOutput::Tracks(desc) = &out[0] else {
        panic!("{out:?}")
    };
    let t = &desc.tracks[0];
    assert_eq!((t.codec, t.clock_rate), (CodecKind::Generic, 90_000));
    assert_eq!(t.media.rtpmap().unwrap().encoding, "AV1");
    assert!(
        matches!(&out[1], FlvOutput::Unit { key: true, dts: 3600, payload, .. } if payload[0][..] == b"\x12\x00\x0a\x0b"[..])
    );
    assert!(matches!(&out[2], FlvOutput::Unit { key: false, .. }));
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&[("videocodecid".into(), MetaValue::String("vp09".into()))]);
    let mut out = Vec::new();
    d.push(
        true,
        0,
        &Bytes::from_static(b"\x90vp09\x00\x1f\x80\x02\x02\x02\x00\x00"),
        &mut out,
    )
    .unwrap();
    let FlvOutput::Tracks(desc) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(desc.tracks[0].media.rtpmap().unwrap().encoding, "VP9");
    assert_eq!(desc.tracks[0].fmtp.as_deref(), Some("profile-id=0"));
}

#[test]
fn muxer_skips_what_it_cannot_carry() {
    let sdp = "v=0\r\ns=x\r\nm=audio 0 RTP/AVP 0\r\nm=audio 0 RTP/AVP 96\r\na=rtpmap:96 MP4A-LATM/48000/2\r\n";
    let desc = StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
    assert!(matches!(
        FlvMuxer::new(&desc),
        Err(FlvError::Unsupported(_))
    ));
    // G711 first, H264 second: track 1 is carried, units of track 0 and empty ones are skipped.
    let (sps, pps, aus) = four_pics();
    let mut desc = description_from_tracks(&[TrackInfo::h264(
        &AvcConfig::from_parameter_sets(sps, pps).unwrap(),
    )]);
    desc.tracks.insert(
        0,
        StreamDescription::from_sdp(b"v=0\r\nm=audio 0 RTP/AVP 0\r\n")
            .unwrap()
            .tracks[0]
            .clone(),
    );
    let mut muxer = FlvMuxer::new(&desc).unwrap();
    assert_eq!((muxer.video_track(), muxer.audio_track()), (Some(1), None));
    let mut out = Vec::new();
    muxer.push_unit(
        &unit(0, 0, 0, true, vec![Bytes::from_static(b"\xff")]),
        &mut out,
    );
    muxer.push_unit(&unit(1, 0, 0, true, vec![]), &mut out);
    // Only an access unit delimiter: nothing to send (not even the header).
    muxer.push_unit(&unit(1, 0, 0, true, vec![aus[0][0].clone()]), &mut out);
    assert!(out.is_empty());
    muxer.push_unit(&unit(1, 0, 0, false, aus[1].clone()), &mut out);
    assert!(out.is_empty());
}
