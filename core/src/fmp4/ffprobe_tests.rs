//! ffprobe and ffmpeg read fMP4 files (init segment + fragments) made from real H.264,
//! H.265 (with B-frames), AAC and Opus data: packet count, timestamps, durations and key
//! flags must be the ones the samples carried.

use super::*;
use crate::codec::{h264, h265, opus};
use crate::media::{StreamDescription, Unit};
use crate::mpegts::test_support::{
    access_units, annexb_nalus, decode_errors, description, ffprobe, h264_fmtp, h265_fmtp, media,
    probe_codecs, probe_packets, remove_test_file, temp_file, unit, ProbedPacket, TestTrack,
    HEVC_DISPLAY_ORDER,
};
use bytes::Bytes;
use mp4_atom::Decode;

/// Turns the units of each track into samples with durations from the next DTS (the last
/// sample of a track gets `last_duration`), the way the segmenter will.
fn samples_of(tracks: &[Fmp4Track], units: &[Unit], last_duration: &[u32]) -> Vec<Vec<Sample>> {
    let mut per_track: Vec<Vec<Sample>> = vec![Vec::new(); tracks.len()];
    for u in units {
        let i = tracks.iter().position(|t| t.track == u.track).unwrap();
        tracks[i].push_samples(u, &mut per_track[i]);
    }
    for (i, samples) in per_track.iter_mut().enumerate() {
        for k in 0..samples.len() {
            samples[k].duration = match samples.get(k + 1) {
                Some(next) => u32::try_from(next.dts - samples[k].dts).unwrap(),
                None => last_duration[i],
            };
        }
    }
    per_track
}

/// Writes init + one fragment per `split` samples of every track; returns the file path.
fn write_file(
    desc: &StreamDescription,
    units: &[Unit],
    last: &[u32],
    split: usize,
    name: &str,
) -> (std::path::PathBuf, Vec<Vec<Sample>>) {
    let (init, tracks) = init_segment(desc).unwrap();
    let per_track = samples_of(&tracks, units, last);
    let mut w = FragmentWriter::new(tracks.clone());
    let mut file = init;
    let mut out = FragmentOut::default();
    let fragments = per_track
        .iter()
        .map(|s| s.len().div_ceil(split))
        .max()
        .unwrap();
    for f in 0..fragments {
        let runs: Vec<(u32, &[Sample])> = tracks
            .iter()
            .zip(&per_track)
            .map(|(t, s)| {
                let a = (f * split).min(s.len());
                let b = ((f + 1) * split).min(s.len());
                (t.track_id, &s[a..b])
            })
            .collect();
        out.clear();
        w.write_fragment(f as u32 + 1, &runs, &mut out).unwrap();
        file.extend_from_slice(&out.to_vec());
    }
    assert_truns(&file, &tracks, &per_track);
    let path = temp_file(name);
    std::fs::write(&path, &file).unwrap();
    (path, per_track)
}

/// Asserts that ffprobe's packets of `codec_type` are `samples` (pts + `pts_shift`, dts, key
/// flag, size). ffprobe reports no container durations for fragmented files (it fills in
/// guesses), so durations are checked by the DTS of the next packet, the stream's total
/// duration and [`assert_truns`].
fn assert_packets(
    packets: &[ProbedPacket],
    codec_type: &str,
    samples: &[Sample],
    video: bool,
    pts_shift: i64,
) {
    let got: Vec<&ProbedPacket> = packets
        .iter()
        .filter(|p| p.codec_type == codec_type)
        .collect();
    assert_eq!(got.len(), samples.len(), "{codec_type}: {packets:#?}");
    for (k, (p, s)) in got.iter().zip(samples).enumerate() {
        let size: usize = s
            .data
            .iter()
            .map(|d| d.len() + if video { 4 } else { 0 })
            .sum();
        assert_eq!(
            (p.pts, p.dts, p.key, p.size),
            (Some(s.pts + pts_shift), Some(s.dts), s.key, size),
            "{codec_type} {k}"
        );
        if let Some(next) = samples.get(k + 1) {
            assert_eq!(next.dts - s.dts, i64::from(s.duration), "{codec_type} {k}");
        }
    }
}

/// Asserts that ffprobe's total duration of stream `index` (in its timescale) is the sum of
/// the sample durations.
fn assert_stream_duration(path: &std::path::Path, index: usize, samples: &[Sample]) {
    let text = ffprobe(
        path,
        &[
            "-show_entries",
            "stream=index,duration_ts",
            "-of",
            "csv=p=0",
        ],
    );
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{index},")))
        .unwrap();
    let total: i64 = samples.iter().map(|s| i64::from(s.duration)).sum();
    assert_eq!(line, format!("{index},{total}"));
}

/// Reads every moof of the file with `mp4-atom` and compares tfdt and the trun entries
/// (duration, size, flags, composition offset) with the samples of each track.
fn assert_truns(file: &[u8], tracks: &[Fmp4Track], per_track: &[Vec<Sample>]) {
    let mut input = file;
    let mut seen: Vec<usize> = vec![0; tracks.len()];
    let mut sequence = 0;
    while !input.is_empty() {
        match mp4_atom::Any::decode(&mut input).unwrap() {
            mp4_atom::Any::Moof(moof) => {
                sequence += 1;
                assert_eq!(moof.mfhd.sequence_number, sequence);
                for traf in &moof.traf {
                    let i = tracks
                        .iter()
                        .position(|t| t.track_id == traf.tfhd.track_id)
                        .unwrap();
                    let video = tracks[i].is_video();
                    let first = &per_track[i][seen[i]];
                    assert_eq!(
                        traf.tfdt.as_ref().unwrap().base_media_decode_time,
                        first.dts as u64
                    );
                    for e in traf.trun[0].samples.iter() {
                        let s = &per_track[i][seen[i]];
                        let size: usize = s
                            .data
                            .iter()
                            .map(|d| d.len() + if video { 4 } else { 0 })
                            .sum();
                        let flags = if s.key || !video {
                            SAMPLE_FLAGS_SYNC
                        } else {
                            SAMPLE_FLAGS_NON_SYNC
                        };
                        assert_eq!(
                            (e.duration, e.size, e.flags),
                            (Some(s.duration), Some(size as u32), Some(flags))
                        );
                        assert_eq!(e.cts.unwrap_or(0), s.pts - s.dts);
                        seen[i] += 1;
                    }
                }
            }
            mp4_atom::Any::Ftyp(_) | mp4_atom::Any::Moov(_) | mp4_atom::Any::Mdat(_) => {}
            other => panic!("unexpected top-level box {other:?}"),
        }
    }
    let counts: Vec<usize> = per_track.iter().map(Vec::len).collect();
    assert_eq!(seen, counts);
}

#[test]
fn h264_and_aac_read_by_ffprobe() {
    let nalus = annexb_nalus("4pics.264");
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
    for (k, au) in access_units(&nalus, false).iter().enumerate() {
        let t = 3600 * k as i64;
        units.push(unit(0, t, t, au.iter().any(|n| h264::is_key_nalu(n)), au));
    }
    let aac = Bytes::from(media("aac_frame"));
    for k in 0..3 {
        // Two access units per unit: samples are split.
        let t = 2048 * k;
        units.push(unit(1, t, t, true, &[aac.clone(), aac.clone()]));
    }
    let (path, samples) = write_file(&desc, &units, &[3600, 1024], 2, "h264-aac.mp4");
    assert_eq!((samples[0].len(), samples[1].len()), (4, 6));
    assert_eq!(probe_codecs(&path), ["h264", "aac"]);
    assert_eq!(decode_errors(&path), "");
    let packets = probe_packets(&path);
    assert_packets(&packets, "video", &samples[0], true, 0);
    assert_packets(&packets, "audio", &samples[1], false, 0);
    assert_stream_duration(&path, 0, &samples[0]);
    assert_stream_duration(&path, 1, &samples[1]);
    remove_test_file(&path);
}

#[test]
fn h265_with_b_frames_read_by_ffprobe() {
    let nalus = annexb_nalus("hevc.265");
    let desc = description(&[TestTrack {
        kind: "video",
        rtpmap: "H265/90000",
        fmtp: Some(h265_fmtp(&nalus)),
    }]);
    let mut x = h265::DtsExtractor::new();
    let mut units = Vec::new();
    for (au, &display) in access_units(&nalus, true).iter().zip(&HEVC_DISPLAY_ORDER) {
        let pts = 90_000 + display * 3600;
        let dts = x.extract(au, pts).unwrap();
        units.push(unit(
            0,
            pts,
            dts,
            au.iter().any(|n| h265::is_key_nalu(n)),
            au,
        ));
    }
    assert!(units.iter().any(|u| u.pts != u.dts));
    assert!(
        units.iter().all(|u| u.pts >= u.dts),
        "offsets are non-negative here"
    );
    let (path, samples) = write_file(&desc, &units, &[3600], 8, "h265.mp4");
    assert_eq!(samples[0].len(), HEVC_DISPLAY_ORDER.len());
    assert!(samples[0].iter().all(|s| s.duration > 0));
    assert_eq!(probe_codecs(&path), ["hevc"]);
    assert_eq!(decode_errors(&path), "");
    assert_packets(&probe_packets(&path), "video", &samples[0], true, 0);
    remove_test_file(&path);
}

#[test]
fn b_frames_with_negative_composition_offsets() {
    // The same stream with DTS = PTS of the next displayed frame's slot (DTS ahead of PTS for
    // reordered frames): trun version 1 carries the negative offsets.
    let nalus = annexb_nalus("hevc.265");
    let desc = description(&[TestTrack {
        kind: "video",
        rtpmap: "H265/90000",
        fmtp: Some(h265_fmtp(&nalus)),
    }]);
    let mut units = Vec::new();
    for (k, (au, &display)) in access_units(&nalus, true)
        .iter()
        .zip(&HEVC_DISPLAY_ORDER)
        .enumerate()
    {
        let pts = 90_000 + display * 3600;
        let dts = 90_000 + k as i64 * 3600;
        units.push(unit(
            0,
            pts,
            dts,
            au.iter().any(|n| h265::is_key_nalu(n)),
            au,
        ));
    }
    let shift = units.iter().map(|u| u.dts - u.pts).max().unwrap();
    assert_eq!(shift, 7200);
    let (path, samples) = write_file(&desc, &units, &[3600], 16, "h265-negative.mp4");
    assert_eq!(decode_errors(&path), "");
    // ffmpeg's demuxer moves presentation times later by the largest negative offset so that
    // PTS never precedes DTS; the DTS are read as written.
    assert_packets(&probe_packets(&path), "video", &samples[0], true, shift);
    remove_test_file(&path);
}

#[test]
fn opus_read_by_ffprobe() {
    let packet = Bytes::from(media("opus-audio"));
    let d = i64::from(opus::packet_duration(&packet).unwrap());
    let desc = description(&[TestTrack {
        kind: "audio",
        rtpmap: "opus/48000/2",
        fmtp: None,
    }]);
    let units: Vec<Unit> = (0..10)
        .map(|k| unit(0, k * d, k * d, true, &[packet.clone()]))
        .collect();
    let (path, samples) = write_file(&desc, &units, &[d as u32], 4, "opus.mp4");
    assert_eq!(probe_codecs(&path), ["opus"]);
    assert_eq!(decode_errors(&path), "");
    assert_packets(&probe_packets(&path), "audio", &samples[0], false, 0);
    assert_stream_duration(&path, 0, &samples[0]);
    remove_test_file(&path);
}
