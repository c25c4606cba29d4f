//! H.264 DTS tests: synthetic I P B B streams built with a bit writer (POC type 0, with and
//! without announced reordering, LSB wrap), POC type 2, and the real sample streams.

use super::tests::{access_units, annexb_nalus};
use super::*;
use crate::codec::bits::BitWriter;
use crate::codec::CodecError;
use bytes::Bytes;
use proptest::prelude::*;

/// A Main-profile SPS with pic_order_cnt_type 0 (6-bit POC LSB, 4-bit frame_num); with
/// `vui`, 25 fps timing and bitstream_restriction max_num_reorder_frames = `reorder`.
fn synthetic_sps(poc_type: u32, vui: Option<u32>) -> Vec<u8> {
    let mut w = BitWriter::new();
    w.write_bits(77, 8); // profile_idc
    w.write_bits(0, 8);
    w.write_bits(30, 8); // level_idc
    w.write_ue(0); // seq_parameter_set_id
    w.write_ue(0); // log2_max_frame_num_minus4
    w.write_ue(poc_type);
    if poc_type == 0 {
        w.write_ue(2); // log2_max_pic_order_cnt_lsb_minus4 → 6 bits
    }
    w.write_ue(2); // max_num_ref_frames
    w.write_bit(false); // gaps_in_frame_num_value_allowed_flag
    w.write_ue(19); // 320 pixels
    w.write_ue(14); // 240 lines
    w.write_bit(true); // frame_mbs_only_flag
    w.write_bit(true); // direct_8x8_inference_flag
    w.write_bit(false); // frame_cropping_flag
    w.write_bit(vui.is_some());
    if let Some(reorder) = vui {
        w.write_bits(0, 4); // aspect ratio, overscan, video signal, chroma loc
        w.write_bit(true); // timing_info_present_flag
        w.write_bits(1, 32);
        w.write_bits(50, 32);
        w.write_bit(true);
        w.write_bits(0, 3); // nal hrd, vcl hrd, pic_struct
        w.write_bit(true); // bitstream_restriction_flag
        w.write_bit(true);
        for _ in 0..4 {
            w.write_ue(0);
        }
        w.write_ue(reorder);
        w.write_ue(2);
    }
    w.write_bit(true); // rbsp_stop_one_bit
    let mut nalu = vec![0x67];
    nalu.extend(w.into_bytes());
    nalu
}

/// A slice NAL unit: IDR (I), reference P, or non-reference B, with the given POC LSB.
fn synthetic_slice(kind: char, frame_num: u32, poc_lsb: u32) -> Bytes {
    let mut w = BitWriter::new();
    w.write_ue(0); // first_mb_in_slice
    w.write_ue(match kind {
        'I' => 7,
        'P' => 5,
        _ => 6,
    });
    w.write_ue(0); // pic_parameter_set_id
    w.write_bits(u64::from(frame_num % 16), 4);
    if kind == 'I' {
        w.write_ue(0); // idr_pic_id
    }
    w.write_bits(u64::from(poc_lsb % 64), 6);
    w.write_bits(0x5a5a, 16); // rest of the slice
    let header = match kind {
        'I' => 0x65,
        'P' => 0x41,
        _ => 0x01,
    };
    let mut nalu = vec![header];
    nalu.extend(w.into_bytes());
    Bytes::from(nalu)
}

/// GOPs of I + `minis` × (P B B) in decoding order: (slice, display index) pairs; POC = 2 ×
/// display index within the GOP, so long GOPs wrap the 6-bit LSB.
fn ipbb_stream(gops: usize, minis: usize) -> Vec<(Bytes, i64)> {
    let mut out = Vec::new();
    let mut base = 0i64;
    for _ in 0..gops {
        let mut frame_num = 0;
        out.push((synthetic_slice('I', 0, 0), base));
        for m in 0..minis as i64 {
            frame_num += 1;
            let p = 3 * m + 3;
            out.push((synthetic_slice('P', frame_num, (2 * p) as u32), base + p));
            out.push((
                synthetic_slice('B', frame_num + 1, (2 * p - 4) as u32),
                base + p - 2,
            ));
            out.push((
                synthetic_slice('B', frame_num + 1, (2 * p - 2) as u32),
                base + p - 1,
            ));
        }
        base += 3 * minis as i64 + 1;
    }
    out
}

/// Runs the extractor over the stream (25 fps) and checks the DTS invariants; returns DTS.
fn run_dts(sps: &[u8], stream: &[(Bytes, i64)]) -> Vec<i64> {
    let mut x = DtsExtractor::new();
    let mut dts = Vec::new();
    for (k, (slice, display)) in stream.iter().enumerate() {
        let pts = 1_000_000 + display * 3600;
        let au: Vec<Bytes> = if k == 0 {
            vec![Bytes::copy_from_slice(sps), slice.clone()]
        } else {
            vec![slice.clone()]
        };
        let d = x
            .extract(&au, pts)
            .unwrap_or_else(|e| panic!("AU {k}: {e}"));
        assert!(d <= pts, "AU {k}: dts {d} > pts {pts}");
        if let Some(&prev) = dts.last() {
            assert!(d > prev, "AU {k}: dts {d} <= {prev}");
        }
        dts.push(d);
    }
    dts
}

#[test]
fn dts_with_announced_reordering() {
    let sps = synthetic_sps(0, Some(1));
    let stream = ipbb_stream(3, 20); // 61-picture GOPs: POC 0..120 wraps the 64 LSB range
    let dts = run_dts(&sps, &stream);
    assert_eq!(dts[0], 1_000_000 - 3600);
    assert!(dts.windows(2).all(|w| w[1] - w[0] == 3600), "{dts:?}");
}

#[test]
fn dts_with_unannounced_reordering() {
    let sps = synthetic_sps(0, None);
    assert_eq!(Sps::parse(&sps).unwrap().reorder_depth(), None);
    let dts = run_dts(&sps, &ipbb_stream(3, 4));
    // Once the first B picture reveals the reordering, DTS advance by one frame.
    assert!(dts[2..].windows(2).all(|w| w[1] - w[0] == 3600), "{dts:?}");
}

#[test]
fn dts_without_reordering_equals_pts() {
    let sps = synthetic_sps(0, Some(0));
    let stream: Vec<(Bytes, i64)> = (0..40)
        .map(|i| {
            let kind = if i % 20 == 0 { 'I' } else { 'P' };
            (
                synthetic_slice(kind, (i % 20) as u32, (2 * (i % 20)) as u32),
                i,
            )
        })
        .collect();
    let dts = run_dts(&sps, &stream);
    assert!(dts
        .iter()
        .enumerate()
        .all(|(i, &d)| d == 1_000_000 + i as i64 * 3600));
    // pic_order_cnt_type 2: DTS = PTS, and a PTS that does not increase is refused.
    let mut x = DtsExtractor::new();
    x.set_sps(&synthetic_sps(2, None)).unwrap();
    let idr = {
        let mut w = BitWriter::new();
        w.write_ue(0);
        w.write_ue(7);
        w.write_ue(0);
        w.write_bits(0, 4);
        w.write_ue(0);
        w.write_bits(0xff, 8);
        let mut n = vec![0x65];
        n.extend(w.into_bytes());
        Bytes::from(n)
    };
    assert_eq!(x.extract(std::slice::from_ref(&idr), 500), Ok(500));
    assert_eq!(x.extract(std::slice::from_ref(&idr), 900), Ok(900));
    assert!(x.extract(std::slice::from_ref(&idr), 900).is_err());
}

#[test]
fn dts_needs_an_sps() {
    let mut x = DtsExtractor::new();
    assert_eq!(
        x.extract(&[synthetic_slice('I', 0, 0)], 0),
        Err(CodecError::Invalid("no SPS"))
    );
    x.set_sps(&synthetic_sps(0, None)).unwrap();
    assert_eq!(
        x.extract(&[Bytes::from_static(&[0x09, 0xf0])], 0),
        Err(CodecError::Invalid("no slice in access unit"))
    );
    assert!(x.extract(&[synthetic_slice('I', 0, 0)], 0).is_ok());
}

#[test]
fn dts_on_real_streams() {
    // 4pics: I P P P with POC order = decoding order.
    let units = access_units(&annexb_nalus("4pics.264"));
    let mut x = DtsExtractor::new();
    for (i, u) in units.iter().enumerate() {
        let pts = i as i64 * 1800;
        assert_eq!(x.extract(u, pts), Ok(pts));
    }
    // x264 IDR frames announcing two reordered frames at 25 fps: decoded 2 frames early.
    for name in ["blackframe.264", "avc_annexb"] {
        let units = access_units(&annexb_nalus(name));
        let mut x = DtsExtractor::new();
        assert_eq!(
            x.extract(&units[0], 90_000),
            Ok(90_000 - 2 * 3600),
            "{name}"
        );
    }
}

proptest! {
    #[test]
    fn dts_extractor_never_panics(
        aus in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 1..24), any::<i32>()),
            0..16,
        ),
    ) {
        let mut x = DtsExtractor::new();
        x.set_sps(&synthetic_sps(0, None)).unwrap();
        for (nalu, pts) in aus {
            let _ = x.extract(&[Bytes::from(nalu)], i64::from(pts));
        }
    }
}
