//! ffprobe reads transport streams made from real H.264, H.265 (with B-frames), AAC and Opus
//! data: packet count, timestamps and key flags must be the ones the units carried.

use super::test_support::{
    access_units, annexb_nalus, decode_errors, description, h264_fmtp, h265_fmtp, media,
    probe_codecs, probe_packets, remove_test_file, temp_file, unit, TestTrack, HEVC_DISPLAY_ORDER,
};
use super::*;
use crate::codec::{h264, h265};
use crate::media::Unit;
use bytes::Bytes;

/// Writes `units` (already in muxing order) through a fresh muxer into a temporary file.
fn mux_to_file(
    desc: &crate::media::StreamDescription,
    units: &[Unit],
    name: &str,
) -> std::path::PathBuf {
    let mut mux = TsMuxer::new(desc).unwrap();
    let mut out = Vec::new();
    for u in units {
        mux.write_unit(u, &mut out).unwrap();
    }
    let path = temp_file(name);
    std::fs::write(&path, &out).unwrap();
    path
}

/// Sorts units by DTS in the 90 kHz clock (stable: video before audio at equal times).
fn interleave(units: &mut [Unit], rates: &[u32]) {
    units.sort_by_key(|u| i128::from(u.dts) * 90_000 / i128::from(rates[u.track]));
}

#[test]
fn h264_and_aac_read_by_ffprobe() {
    let nalus = annexb_nalus("4pics.264");
    let aus = access_units(&nalus, false);
    assert_eq!(aus.len(), 4);
    let desc = description(&[
        TestTrack {
            kind: "video",
            rtpmap: "H264/90000",
            fmtp: Some(h264_fmtp(&nalus)),
        },
        TestTrack {
            kind: "audio",
            rtpmap: "mpeg4-generic/44100/2",
            fmtp: Some(
                "mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1210"
                    .into(),
            ),
        },
    ]);
    let mut units = Vec::new();
    for (k, au) in aus.iter().enumerate() {
        // Strip the in-band parameter sets: the muxer must insert them from the fmtp.
        let au: Vec<Bytes> = au
            .iter()
            .filter(|n| !matches!(h264::nalu_type(n), h264::NAL_SPS | h264::NAL_PPS))
            .cloned()
            .collect();
        let t = 90_000 + 3600 * k as i64;
        let key = au.iter().any(|n| h264::is_key_nalu(n));
        units.push(unit(0, t, t, key, &au));
    }
    let aac = Bytes::from(media("aac_frame"));
    for k in 0..7 {
        let t = 44_100 + 1024 * k;
        units.push(unit(1, t, t, true, &[aac.clone()]));
    }
    interleave(&mut units, &[90_000, 44_100]);
    let path = mux_to_file(&desc, &units, "h264-aac.ts");

    assert_eq!(probe_codecs(&path), ["h264", "aac"]);
    assert_eq!(decode_errors(&path), "");
    let packets = probe_packets(&path);
    let video: Vec<_> = packets.iter().filter(|p| p.codec_type == "video").collect();
    let audio: Vec<_> = packets.iter().filter(|p| p.codec_type == "audio").collect();
    assert_eq!(video.len(), 4, "{packets:#?}");
    for (k, p) in video.iter().enumerate() {
        let t = 90_000 + 3600 * k as i64;
        assert_eq!(
            (p.pts, p.dts, p.key),
            (Some(t), Some(t), k == 0),
            "video {k}: {p:?}"
        );
    }
    assert_eq!(audio.len(), 7, "{packets:#?}");
    for (k, p) in audio.iter().enumerate() {
        let t = 90_000 + 1024 * 90_000 * k as i64 / 44_100;
        assert_eq!(
            (p.pts, p.dts, p.key),
            (Some(t), Some(t), true),
            "audio {k}: {p:?}"
        );
        // 1024 samples at 44.1 kHz in the 90 kHz clock.
        assert!(matches!(p.duration, Some(2089 | 2090)), "audio {k}: {p:?}");
        assert_eq!(p.size, aac.len() + 7, "audio {k}: {p:?}");
    }
    remove_test_file(&path);
}

#[test]
fn h265_with_b_frames_read_by_ffprobe() {
    let nalus = annexb_nalus("hevc.265");
    let aus = access_units(&nalus, true);
    assert_eq!(aus.len(), HEVC_DISPLAY_ORDER.len());
    let desc = description(&[TestTrack {
        kind: "video",
        rtpmap: "H265/90000",
        fmtp: Some(h265_fmtp(&nalus)),
    }]);
    let mut x = h265::DtsExtractor::new();
    let mut units = Vec::new();
    for (au, &display) in aus.iter().zip(&HEVC_DISPLAY_ORDER) {
        let pts = 180_000 + display * 3600;
        let dts = x.extract(au, pts).unwrap();
        let key = au.iter().any(|n| h265::is_key_nalu(n));
        units.push(unit(0, pts, dts, key, au));
    }
    assert!(units.iter().any(|u| u.pts != u.dts));
    let path = mux_to_file(&desc, &units, "h265.ts");

    assert_eq!(probe_codecs(&path), ["hevc"]);
    assert_eq!(decode_errors(&path), "");
    let packets = probe_packets(&path);
    assert_eq!(packets.len(), units.len(), "{packets:#?}");
    let mut prev_dts = i64::MIN;
    for (k, (p, u)) in packets.iter().zip(&units).enumerate() {
        assert_eq!(
            (p.pts, p.dts, p.key),
            (Some(u.pts), Some(u.dts), u.key),
            "AU {k}: {p:?}"
        );
        assert!(u.dts > prev_dts, "AU {k}: DTS must increase");
        prev_dts = u.dts;
    }
    remove_test_file(&path);
}

#[test]
fn opus_read_by_ffprobe() {
    let packet = Bytes::from(media("opus-audio"));
    let duration = i64::from(crate::codec::opus::packet_duration(&packet).unwrap());
    let desc = description(&[TestTrack {
        kind: "audio",
        rtpmap: "opus/48000/2",
        fmtp: Some("sprop-stereo=1".into()),
    }]);
    let units: Vec<Unit> = (0..10)
        .map(|k| {
            unit(
                0,
                48_000 + k * duration,
                48_000 + k * duration,
                true,
                &[packet.clone()],
            )
        })
        .collect();
    let path = mux_to_file(&desc, &units, "opus.ts");
    assert_eq!(probe_codecs(&path), ["opus"]);
    assert_eq!(decode_errors(&path), "");
    let packets = probe_packets(&path);
    assert_eq!(packets.len(), 10, "{packets:#?}");
    for (k, p) in packets.iter().enumerate() {
        let t = 90_000 + k as i64 * duration * 90_000 / 48_000;
        assert_eq!(
            (p.pts, p.size),
            (Some(t), packet.len()),
            "packet {k}: {p:?}"
        );
    }
    remove_test_file(&path);
}
