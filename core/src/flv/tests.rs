//! Round trips through [`FlvMuxer`] and [`FlvDemuxer`] (H.264 + AAC from an SDP, H.265, Opus),
//! in-band parameter sets, timestamps (B-frames, the 32-bit wrap), and never-panic properties.

use super::test_support::{
    access_units, demux_all, four_pics, media, mux_all, primed, rewrap, unit, Got,
};
use super::*;
use crate::codec::h264::H264Params;
use crate::codec::h265::H265Params;
use crate::codec::mpeg4audio::Mpeg4AudioParams;
use crate::codec::CodecKind;
use crate::media::{StreamDescription, Unit};
use bytes::Bytes;
use proptest::prelude::*;

#[test]
fn h264_aac_round_trip_from_an_sdp() {
    let (sps, pps, aus) = four_pics();
    let h264 = H264Params {
        sps: Some(sps),
        pps: Some(pps),
        packetization_mode: 1,
        profile_level_id: None,
    };
    let sdp = format!(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 {}\r\na=control:streamid=0\r\n\
         m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n\
         a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=1190\r\n\
         a=control:streamid=1\r\n",
        h264.to_fmtp()
    );
    let desc = StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
    let mut muxer = FlvMuxer::new(&desc).unwrap();
    assert_eq!(
        (muxer.video_track(), muxer.audio_track()),
        (Some(0), Some(1))
    );
    let meta = muxer.metadata();
    assert!(meta.contains(&("videocodecid".into(), MetaValue::Number(7.0))));
    assert!(meta.contains(&("audiocodecid".into(), MetaValue::Number(10.0))));
    let sps = crate::codec::h264::Sps::parse(h264.sps.as_deref().unwrap()).unwrap();
    assert!(meta.contains(&("width".into(), MetaValue::Number(f64::from(sps.width)))));
    assert!(meta.contains(&("height".into(), MetaValue::Number(f64::from(sps.height)))));
    assert!(meta.contains(&("audiosamplerate".into(), MetaValue::Number(48000.0))));

    // Video with B-frame reordering (pts − dts up to two frames), 30 fps, from a large base;
    // audio frames in between.
    let base = 10_000_000;
    let aac = Bytes::from(media("aac_frame"));
    let mut units = Vec::new();
    for (i, au) in aus.iter().enumerate() {
        let dts = base + i as i64 * 3000;
        let pts = dts + [3000, 9000, 3000, 6000][i % 4];
        let key = au.iter().any(|n| n[0] & 0x1f == 5);
        units.push(unit(0, pts, dts, key, au.clone()));
        let a = (base + i as i64 * 3000) * 48 / 90;
        units.push(unit(1, a, a, true, vec![aac.clone()]));
    }
    let messages = mux_all(&mut muxer, &units);
    assert_eq!(messages.len(), 2 + units.len());

    let mut d = FlvDemuxer::new();
    d.handle_metadata(&meta);
    let (descs, got) = demux_all(&mut d, &messages);
    assert_eq!(descs.len(), 1);
    let back = &descs[0];
    assert_eq!(back.tracks.len(), 2);
    assert_eq!(back.tracks[0].codec, CodecKind::H264);
    assert_eq!(back.tracks[1].codec, CodecKind::Mpeg4Audio);
    let p0 = H264Params::from_fmtp(desc.tracks[0].fmtp.as_deref().unwrap()).unwrap();
    let p1 = H264Params::from_fmtp(back.tracks[0].fmtp.as_deref().unwrap()).unwrap();
    assert_eq!((p0.sps, p0.pps), (p1.sps, p1.pps));
    let a0 = Mpeg4AudioParams::from_fmtp(desc.tracks[1].fmtp.as_deref().unwrap()).unwrap();
    let a1 = Mpeg4AudioParams::from_fmtp(back.tracks[1].fmtp.as_deref().unwrap()).unwrap();
    assert_eq!(a0, a1);
    assert_eq!(
        (back.tracks[1].clock_rate, back.tracks[1].channels),
        (48_000, Some(2))
    );
    assert_eq!(d.description().as_ref(), Some(back));

    assert_eq!(got.len(), units.len());
    for (u, g) in units.iter().zip(&got) {
        assert_eq!(g.0, u.track);
        // Access unit delimiters are dropped, everything else is kept.
        let expected: Vec<Bytes> = u
            .payload
            .iter()
            .filter(|n| u.track == 1 || n[0] & 0x1f != 9)
            .cloned()
            .collect();
        assert_eq!(g.4, expected);
        assert_eq!(g.3, u.key);
        let half_ms = if u.track == 0 { 45 } else { 24 };
        assert!((g.2 - u.dts).abs() <= half_ms, "dts {} vs {}", g.2, u.dts);
        assert!((g.1 - u.pts).abs() <= half_ms, "pts {} vs {}", g.1, u.pts);
    }
}

#[test]
fn h265_round_trip_as_enhanced_rtmp() {
    let aus = access_units(&media("hevc.265"), true);
    let find = |t: u8| {
        aus.iter()
            .flatten()
            .find(|n| (n[0] >> 1) & 0x3f == t)
            .unwrap()
            .clone()
    };
    let params = H265Params {
        vps: Some(find(32)),
        sps: Some(find(33)),
        pps: Some(find(34)),
        max_don_diff: 0,
    };
    let sdp = format!(
        "v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\na=fmtp:96 {}\r\n",
        params.to_fmtp()
    );
    let desc = StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
    let mut muxer = FlvMuxer::new(&desc).unwrap();
    assert!(muxer
        .metadata()
        .contains(&("videocodecid".into(), MetaValue::Number(1_752_589_105.0))));
    let units: Vec<Unit> = aus
        .iter()
        .enumerate()
        .map(|(i, au)| {
            let key = au.iter().any(|n| crate::codec::h265::is_key_nalu(n));
            unit(0, i as i64 * 3600 + 7200, i as i64 * 3600, key, au.clone())
        })
        .collect();
    let messages = mux_all(&mut muxer, &units);
    assert_eq!(&messages[0].body[..5], b"\x90hvc1");
    assert_eq!(&messages[1].body[..8], b"\x91hvc1\x00\x00\x50");
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&muxer.metadata());
    let (descs, got) = demux_all(&mut d, &messages);
    assert_eq!(descs.len(), 1);
    let back = H265Params::from_fmtp(descs[0].tracks[0].fmtp.as_deref().unwrap()).unwrap();
    assert_eq!(back, params);
    assert_eq!(got.len(), units.len());
    for (u, g) in units.iter().zip(&got) {
        let expected: Vec<Bytes> = u
            .payload
            .iter()
            .filter(|n| (n[0] >> 1) & 0x3f != 35)
            .cloned()
            .collect();
        assert_eq!((g.1, g.2, g.3, &g.4), (u.pts, u.dts, u.key, &expected));
    }
}

#[test]
fn opus_round_trip() {
    let sdp = "v=0\r\ns=x\r\nm=audio 0 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10; useinbandfec=1; sprop-stereo=1\r\n";
    let desc = StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
    let mut muxer = FlvMuxer::new(&desc).unwrap();
    let packet = Bytes::from(media("opus-audio"));
    let units: Vec<Unit> = (0..5)
        .map(|i| unit(0, i * 960, i * 960, true, vec![packet.clone()]))
        .collect();
    let messages = mux_all(&mut muxer, &units);
    assert_eq!(&messages[0].body[..13], b"\x90OpusOpusHead");
    assert_eq!(&messages[1].body[..5], b"\x91Opus");
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&muxer.metadata());
    let (descs, got) = demux_all(&mut d, &messages);
    let t = &descs[0].tracks[0];
    assert_eq!(
        (t.codec, t.clock_rate, t.channels),
        (CodecKind::Opus, 48_000, Some(2))
    );
    assert_eq!(t.fmtp.as_deref(), Some("sprop-stereo=1"));
    let expected: Vec<Got> = units
        .iter()
        .map(|u| (0, u.pts, u.dts, true, u.payload.to_vec()))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn aac_units_with_several_access_units_become_several_messages() {
    let sdp = "v=0\r\ns=x\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/44100/2\r\na=fmtp:97 mode=AAC-hbr; config=1210\r\n";
    let desc = StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
    let mut muxer = FlvMuxer::new(&desc).unwrap();
    let frames = vec![
        Bytes::from_static(b"\x21a"),
        Bytes::from_static(b"\x21b"),
        Bytes::new(),
    ];
    let mut out = Vec::new();
    muxer.push_unit(&unit(0, 44_100, 44_100, true, frames), &mut out);
    // The header (never handed out), then one message per non-empty access unit, 1024 samples
    // apart.
    let ts: Vec<i64> = out.iter().map(|m| m.timestamp_ms).collect();
    assert_eq!(ts, [1000, 1000, 1023]);
    assert_eq!(&out[0].body[..], b"\xaf\x00\x12\x10");
    assert_eq!(&out[2].body[..], b"\xaf\x01\x21b");
}

#[test]
fn in_band_parameter_sets_and_resolution_changes() {
    let (sps, pps, aus) = four_pics();
    let sdp = "v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n";
    let desc = StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
    let mut muxer = FlvMuxer::new(&desc).unwrap();
    assert!(muxer.sequence_headers().is_empty());
    let mut out = Vec::new();
    // A non-key unit first, without parameter sets: nothing can be sent.
    muxer.push_unit(&unit(0, 0, 0, false, aus[1].clone()), &mut out);
    assert!(out.is_empty());
    // The key unit carries SPS and PPS: header, then the unit.
    muxer.push_unit(&unit(0, 3000, 3000, true, aus[0].clone()), &mut out);
    assert_eq!(out.len(), 2);
    assert_eq!(&out[0].body[..5], &[0x17, 0, 0, 0, 0]);
    assert_eq!(out[0].timestamp_ms, 33);
    // The same parameter sets again (and a PPS alone): no new header.
    muxer.push_unit(&unit(0, 6000, 6000, true, aus[0].clone()), &mut out);
    muxer.push_unit(&unit(0, 9000, 9000, false, aus[1].clone()), &mut out);
    assert_eq!(out.len(), 4);
    // A different SPS: the header is rebuilt and sent before the unit.
    let mut sps2 = sps.to_vec();
    sps2[3] = 0x28; // level 4.0
    let sps2 = Bytes::from(sps2);
    let mut au = aus[0].clone();
    au[1] = sps2.clone();
    muxer.push_unit(&unit(0, 12000, 12000, true, au), &mut out);
    assert_eq!(out.len(), 6);
    let record = AvcConfig::parse(&out[4].body.slice(5..)).unwrap();
    assert_eq!((&record.sps[0], &record.pps[0]), (&sps2, &pps));

    // The demuxer sees two configurations: a second Tracks.
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&[("videocodecid".into(), MetaValue::Number(7.0))]);
    let (descs, got) = demux_all(&mut d, &out);
    assert_eq!(descs.len(), 2);
    assert_eq!(got.len(), 4);
    assert_eq!(d.dropped_units(), 0);
}

#[test]
fn timestamps_across_the_32_bit_wrap_with_b_frames() {
    let (sps, pps, aus) = four_pics();
    let tracks = [
        TrackInfo::h264(&AvcConfig::from_parameter_sets(sps, pps).unwrap()),
        TrackInfo::aac(
            &crate::codec::mpeg4audio::AudioSpecificConfig::parse(&[0x11, 0x90]).unwrap(),
        ),
    ];
    let desc = description_from_tracks(&tracks);
    let mut muxer = FlvMuxer::new(&desc).unwrap();
    // Start 200 ms before 2^32 ms.
    let start_ms = (1i64 << 32) - 200;
    let mut units = Vec::new();
    for i in 0..24i64 {
        let au = &aus[(i % 4) as usize];
        let dts = (start_ms + i * 33) * 90 + 7;
        let key = i % 4 == 0;
        units.push(unit(
            0,
            dts + [0, 9000, 2970, 6030][(i % 4) as usize],
            dts,
            key,
            au.clone(),
        ));
        let a = (start_ms + i * 21) * 48 + 5;
        units.push(unit(
            1,
            a,
            a,
            true,
            vec![Bytes::from_static(b"\x21\x00\x03")],
        ));
    }
    let messages = mux_all(&mut muxer, &units);
    // The RTMP layer writes 32-bit timestamps and the publisher side unwraps them again.
    let rewrapped = rewrap(&messages);
    assert!(messages.iter().any(|m| m.timestamp_ms >= 1 << 32));
    assert!(messages.iter().any(|m| (m.timestamp_ms as u32) < 1000));
    let mut d = FlvDemuxer::new();
    d.handle_metadata(&muxer.metadata());
    let (_, got) = demux_all(&mut d, &rewrapped);
    assert_eq!(got.len(), units.len());
    for (u, g) in units.iter().zip(&got) {
        let tol = if u.track == 0 { 45 } else { 24 };
        // The first message was unwrapped from 2^32 − 200 as is.
        assert!((g.2 - u.dts).abs() <= tol, "dts {} {}", g.2, u.dts);
        assert!((g.1 - u.pts).abs() <= tol, "pts {} {}", g.1, u.pts);
        assert!(g.1 >= g.2);
    }
}

proptest! {
    #[test]
    fn arbitrary_bodies_never_panic(bodies in proptest::collection::vec(
        (any::<bool>(), any::<i64>(), proptest::collection::vec(any::<u8>(), 0..64)), 0..24)) {
        let mut fresh = FlvDemuxer::new();
        let (mut ready, _) = primed();
        let mut out = Vec::new();
        for (is_video, ts, body) in bodies {
            let body = Bytes::from(body);
            let _ = fresh.push(is_video, ts, &body, &mut out);
            let _ = ready.push(is_video, ts, &body, &mut out);
        }
    }

    #[test]
    fn headers_with_arbitrary_tails_never_panic(prefix in prop::sample::select(vec![
            &b"\x17\x01\x00\x00\x00"[..], b"\x17\x00\x00\x00\x00", b"\x1c\x00\x00\x00\x00",
            b"\x90hvc1", b"\x91hvc1", b"\x97", b"\xaf\x00", b"\xaf\x01", b"\x90Opus", b"\x91Opus",
            b"\x90mp4a", b"\x90av01"]),
        tail in proptest::collection::vec(any::<u8>(), 0..96)) {
        let (mut d, _) = primed();
        let mut body = prefix.to_vec();
        body.extend_from_slice(&tail);
        let body = Bytes::from(body);
        let mut out = Vec::new();
        let _ = d.push(true, 0, &body, &mut out);
        let _ = d.push(false, 0, &body, &mut out);
    }

    #[test]
    fn arbitrary_units_never_panic_the_muxer(
        units in proptest::collection::vec(
            (0usize..4, any::<i64>(), any::<i64>(), any::<bool>(),
             proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..24), 0..4)),
            0..16),
        meta in proptest::collection::vec((any::<bool>(), any::<f64>()), 0..4)) {
        let sdp = "v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
            m=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n\
            m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/0/2\r\na=fmtp:97 config=1190\r\n\
            m=audio 0 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n";
        let mut desc = StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
        let mut muxers = vec![FlvMuxer::new(&desc).unwrap()];
        desc.tracks.swap(0, 1);
        desc.tracks.swap(2, 3);
        muxers.push(FlvMuxer::new(&desc).unwrap());
        let mut out = Vec::new();
        for m in &mut muxers {
            let _ = m.sequence_headers();
            for (track, pts, dts, key, payload) in &units {
                let payload = payload.iter().map(|p| Bytes::copy_from_slice(p)).collect();
                m.push_unit(&unit(*track, *pts, *dts, *key, payload), &mut out);
            }
            let _ = m.metadata();
        }
        let entries: Vec<(String, MetaValue)> = meta
            .into_iter()
            .map(|(v, n)| (if v { "videocodecid" } else { "audiocodecid" }.to_owned(), MetaValue::Number(n)))
            .collect();
        FlvDemuxer::new().handle_metadata(&entries);
    }

    #[test]
    fn mux_then_demux_keeps_payloads_and_timestamps(
        start in prop_oneof![
            -(1i64 << 40)..(1i64 << 45),
            // Within 700 ms before 2^32 ms: most cases cross the wrap.
            ((1i64 << 32) - 700) * 90..(1i64 << 32) * 90,
        ],
        frames in proptest::collection::vec(
            (0i64..5000, 0i64..90_000, proptest::collection::vec(
                (prop::sample::select(vec![0x41u8, 0x01, 0x06, 0x65]), proptest::collection::vec(any::<u8>(), 0..40)),
                1..5)),
            1..12)) {
        let (sps, pps, _) = four_pics();
        let desc = description_from_tracks(&[TrackInfo::h264(
            &AvcConfig::from_parameter_sets(sps, pps).unwrap(),
        )]);
        let mut muxer = FlvMuxer::new(&desc).unwrap();
        let mut units = Vec::new();
        let mut dts = start;
        for (i, (step, cts, nalus)) in frames.into_iter().enumerate() {
            dts += step;
            let mut payload: Vec<Bytes> = nalus.into_iter().map(|(h, mut b)| { b.insert(0, h); Bytes::from(b) }).collect();
            if i == 0 {
                payload.push(Bytes::from_static(b"\x65\x88"));
            }
            let key = payload.iter().any(|n| n[0] & 0x1f == 5);
            units.push(unit(0, dts + cts, dts, key, payload));
        }
        let messages = rewrap(&mux_all(&mut muxer, &units));
        let mut d = FlvDemuxer::new();
        d.handle_metadata(&muxer.metadata());
        let (_, got) = demux_all(&mut d, &messages);
        prop_assert_eq!(got.len(), units.len());
        for (u, g) in units.iter().zip(&got) {
            prop_assert_eq!(&g.4, &u.payload.to_vec());
            prop_assert_eq!(g.3, u.key);
            prop_assert!((g.2 - u.dts).abs() <= 45);
            prop_assert!((g.1 - u.pts).abs() <= 45);
        }
    }
}
