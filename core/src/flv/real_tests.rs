//! Real captures (`testdata/SOURCES.md`): an OBS Studio publish (H.264 + AAC) and an ffmpeg
//! RTMP server (AAC), demuxed, then muxed back to the very same bytes.

use super::test_support::{on_metadata, pcap_tcp_stream, rtmp_messages, testdata, RtmpMessage};
use super::*;
use crate::codec::mpeg4audio::AudioSpecificConfig;
use crate::codec::{h264, CodecKind};
use crate::media::Unit;
use bytes::Bytes;
use smallvec::SmallVec;

/// Demuxes the data (18), audio (8) and video (9) messages of a capture; returns the outputs
/// and the media messages fed.
fn demux_capture(messages: &[RtmpMessage]) -> (FlvDemuxer, Vec<FlvOutput>, Vec<&RtmpMessage>) {
    let mut d = FlvDemuxer::new();
    let mut out = Vec::new();
    let mut media = Vec::new();
    for m in messages {
        match m.type_id {
            18 => d.handle_metadata(&on_metadata(&m.body)),
            8 | 9 => {
                d.push(m.type_id == 9, i64::from(m.timestamp), &m.body, &mut out)
                    .unwrap();
                media.push(m);
            }
            _ => {}
        }
    }
    (d, out, media)
}

/// Muxes the demuxed units back (sequence headers at the first media timestamp).
fn remux(desc: &crate::media::StreamDescription, outputs: &[FlvOutput]) -> Vec<(u8, i64, Bytes)> {
    let mut m = FlvMuxer::new(desc).unwrap();
    let mut out: Vec<FlvMessage> = Vec::new();
    for o in outputs {
        if let FlvOutput::Unit {
            track,
            pts,
            dts,
            key,
            payload,
        } = o
        {
            let unit = Unit {
                track: *track,
                pts: *pts,
                dts: *dts,
                key: *key,
                payload: payload.clone(),
                rtp: SmallVec::new(),
            };
            m.push_unit(&unit, &mut out);
        }
    }
    out.into_iter()
        .map(|m| (if m.is_video { 9 } else { 8 }, m.timestamp_ms, m.body))
        .collect()
}

#[test]
fn obs_publish_h264_aac() {
    let stream = pcap_tcp_stream(&testdata("obs27_publish_to_twinx_server.pcap"), 1935);
    let messages = rtmp_messages(&stream);
    let meta: Vec<_> = messages
        .iter()
        .filter(|m| m.type_id == 18)
        .flat_map(|m| on_metadata(&m.body))
        .collect();
    assert!(
        meta.contains(&("videocodecid".into(), MetaValue::Number(7.0))),
        "{meta:?}"
    );
    assert!(meta.contains(&("audiocodecid".into(), MetaValue::Number(10.0))));
    assert!(meta.contains(&("width".into(), MetaValue::Number(1280.0))));

    let (d, out, media) = demux_capture(&messages);
    assert_eq!(
        media.len(),
        5,
        "AAC header, AVC header, IDR, two AAC frames"
    );
    assert_eq!(d.dropped_units(), 0);
    let FlvOutput::Tracks(desc) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(desc.codec_list(), "H264, MPEG-4 Audio");
    let v = &desc.tracks[0];
    let p = h264::H264Params::from_fmtp(v.fmtp.as_deref().unwrap()).unwrap();
    assert_eq!(p.profile_level_id, Some([0x42, 0xc0, 0x1f]));
    let sps = h264::Sps::parse(p.sps.as_deref().unwrap()).unwrap();
    assert_eq!((sps.width, sps.height), (1280, 720));
    let a = &desc.tracks[1];
    assert_eq!(
        (a.codec, a.clock_rate, a.channels),
        (CodecKind::Mpeg4Audio, 48_000, Some(2))
    );
    assert!(a.fmtp.as_deref().unwrap().ends_with("config=1190"));
    assert!(desc.to_sdp().contains("a=rtpmap:96 H264/90000\r\n"));

    let units: Vec<&FlvOutput> = out[1..].iter().collect();
    assert_eq!(units.len(), 3);
    let FlvOutput::Unit {
        track: 0,
        key: true,
        payload,
        pts: 0,
        dts: 0,
    } = units[0]
    else {
        panic!("{:?}", units[0])
    };
    assert!(payload.iter().any(|n| h264::is_key_nalu(n)));
    assert!(
        matches!(
            units[2],
            FlvOutput::Unit {
                track: 1,
                dts: 1008,
                ..
            }
        ),
        "21 ms at 48 kHz"
    );

    // Muxed back: the same bodies and timestamps, headers included.
    let mut m = FlvMuxer::new(desc).unwrap();
    let headers = m.sequence_headers();
    let original: Vec<(u8, i64, Bytes)> = media
        .iter()
        .map(|m| (m.type_id, i64::from(m.timestamp), m.body.clone()))
        .collect();
    assert_eq!(
        headers,
        vec![
            (true, original[1].2.clone()),
            (false, original[0].2.clone())
        ]
    );
    let back = remux(desc, &out);
    let mut expected = vec![
        original[1].clone(),
        original[2].clone(),
        original[0].clone(),
    ];
    expected.extend_from_slice(&original[3..]);
    assert_eq!(back, expected);
}

#[test]
fn ffmpeg_server_aac() {
    let messages = rtmp_messages(&testdata("ffmpeg_server_stream"));
    let (d, out, media) = demux_capture(&messages);
    // onMetaData announces AAC only: ready at the AAC sequence header, nothing buffered.
    let FlvOutput::Tracks(desc) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(desc.tracks.len(), 1);
    let t = &desc.tracks[0];
    let config = AudioSpecificConfig::from_fmtp(t.fmtp.as_deref().unwrap()).unwrap();
    assert_eq!(
        (config.object_type, config.sample_rate, config.channel_count),
        (2, 44_100, 2)
    );
    assert_eq!(t.clock_rate, 44_100);
    assert_eq!(d.description().as_ref(), Some(desc));
    let units = &out[1..];
    assert_eq!(units.len(), media.len() - 1);
    assert!(units.len() >= 8, "200 ms of AAC: {}", units.len());
    let mut last = i64::MIN;
    for (u, m) in units.iter().zip(&media[1..]) {
        let FlvOutput::Unit {
            track: 0,
            pts,
            dts,
            key: true,
            payload,
        } = u
        else {
            panic!("{u:?}")
        };
        assert_eq!(pts, dts);
        assert_eq!(*dts, i64::from(m.timestamp) * 44_100 / 1000);
        assert!(*dts >= last);
        last = *dts;
        assert_eq!(&payload[0][..], &m.body[2..]);
    }
    let back = remux(desc, &out);
    let expected: Vec<(u8, i64, Bytes)> = media
        .iter()
        .map(|m| (m.type_id, i64::from(m.timestamp), m.body.clone()))
        .collect();
    assert_eq!(back, expected);
}
