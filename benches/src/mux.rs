//! Muxing workloads for HLS: MPEG-TS packetization of units, and one fMP4 part (`moof` +
//! `mdat`) of five video units.
//!
//! Inputs: the bunny capture's H.264 units as weir's depacketizer outputs them (see
//! [`crate::rtmp::bunny_video_units`]), muxed with the muxers the HLS muxer uses, for the bunny
//! stream description (AAC + H.264; only video units are muxed). The throughput counts the
//! units' payload bytes (NAL units), so MiB/s compares with the 1 GB/s target.

use crate::{data, rtmp::bunny_video_units, Runner, Throughput};
use std::hint::black_box;
use weir_core::fmp4::{init_segment, FragmentOut, FragmentWriter, Sample};
use weir_core::media::{StreamDescription, Unit};
use weir_core::mpegts::TsMuxer;

/// Units in one fMP4 part: 200 ms at 25 frames per second (MediaMTX's `hlsPartDuration`).
pub const PART_UNITS: usize = 5;

/// The payload bytes of `units`.
fn payload_len<'a>(units: impl IntoIterator<Item = &'a Unit>) -> u64 {
    units
        .into_iter()
        .flat_map(|u| u.payload.iter())
        .map(|p| p.len() as u64)
        .sum()
}

/// The last key frame of bunny followed by `count - 1` units (the latest key frame with that
/// many units after it).
fn part_from_last_key(units: &[Unit], count: usize) -> Vec<Unit> {
    let start = (0..=units.len().saturating_sub(count))
        .rev()
        .find(|&i| units[i].key)
        .expect("bunny has a key frame with units after it");
    units[start..start + count].to_vec()
}

/// Hands the muxing workloads to `r`.
pub fn workloads<R: Runner>(r: &mut R) {
    let desc = StreamDescription::from_sdp(&data::bunny_sdp()).expect("bunny SDP parses");
    let units = bunny_video_units();
    let part = part_from_last_key(&units, PART_UNITS);
    let part_bytes = payload_len(&part);
    assert!(part[0].key, "the part starts at a key frame");
    let key = part[0].clone();

    // MPEG-TS: one key unit per operation (PAT + PMT before it, PES, PCR), then the five units
    // of the fMP4 part, for comparison.
    let mut ts = TsMuxer::new(&desc).expect("bunny is carried in MPEG-TS");
    let mut out = Vec::with_capacity(64 * 1024);
    ts.write_unit(&key, &mut out).expect("muxes");
    assert!(out.len() % 188 == 0 && !out.is_empty());
    r.run(
        "mux/mpegts_key_unit",
        Throughput::Bytes(payload_len([&key])),
        || {
            out.clear();
            ts.write_unit(black_box(&key), &mut out).expect("muxes");
            black_box(&out);
        },
    );
    r.run(
        "mux/mpegts_part_units",
        Throughput::Bytes(payload_len(&part)),
        || {
            out.clear();
            for u in &part {
                ts.write_unit(black_box(u), &mut out).expect("muxes");
            }
            black_box(&out);
        },
    );

    // fMP4: the samples of the five units (NAL units shared, durations from the next DTS, as
    // the HLS segmenter sets them), written as one moof + mdat.
    let (_init, tracks) = init_segment(&desc).expect("bunny has an fMP4 init segment");
    let video = tracks
        .iter()
        .find(|t| t.track == 1)
        .expect("the video track is carried")
        .clone();
    let track_id = video.track_id;
    let mut writer = FragmentWriter::new(tracks);
    let mut samples: Vec<Sample> = Vec::with_capacity(PART_UNITS);
    let mut frag = FragmentOut::default();
    let mut sequence = 0u32;
    let mut mux_part = move |frag: &mut FragmentOut| {
        samples.clear();
        for u in &part {
            video.push_samples(black_box(u), &mut samples);
        }
        for i in 0..samples.len() {
            let next = samples.get(i + 1).map_or(samples[i].dts + 3600, |s| s.dts);
            samples[i].duration = (next - samples[i].dts).max(1) as u32;
        }
        frag.clear();
        sequence = sequence.wrapping_add(1);
        writer
            .write_fragment(sequence, &[(track_id, &samples)], frag)
            .expect("muxes");
    };
    mux_part(&mut frag);
    let joined: Vec<u8> = frag.to_vec();
    assert_eq!(&joined[4..8], b"moof", "a fragment starts with moof");
    let shared = frag.chunks.iter().filter(|c| c.len() > 64).count();
    assert!(shared > 0, "sample data is referenced, not copied");
    r.run("mux/fmp4_part", Throughput::Bytes(part_bytes), || {
        mux_part(&mut frag);
        black_box(&frag);
    });
}
