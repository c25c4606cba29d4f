//! H.264 tests: real bitstreams (SPS, packetize → depacketize, DTS), the bunny RTSP capture,
//! edge cases of RFC 6184 and property tests.

use super::*;
use crate::codec::bits::BitWriter;
use crate::codec::test_util::{
    access_unit, depacketize, group_by_marker, interleaved, media, packet, split_access_units, Video,
};
use crate::codec::{AccessUnit, CodecError, Depacketizer};
use crate::rtp::{RtpPacket, SeqNo, Ssrc};
use bytes::Bytes;
use proptest::prelude::*;

/// NAL units of an Annex-B sample file.
fn annexb_nalus(name: &str) -> Vec<Vec<u8>> {
    split_annexb(&media(name)).map(<[u8]>::to_vec).collect()
}

/// NAL units of the length-prefixed (AVCC, 4-byte) sample.
fn avcc_nalus(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let len = u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        out.push(data[pos + 4..pos + 4 + len].to_vec());
        pos += 4 + len;
    }
    out
}

fn access_units(nalus: &[Vec<u8>]) -> Vec<Vec<Bytes>> {
    let refs: Vec<&[u8]> = nalus.iter().map(Vec::as_slice).collect();
    split_access_units(&refs, Video::H264)
}

fn sps_of(nalus: &[Vec<u8>]) -> Sps {
    let sps = nalus.iter().find(|n| nalu_type(n) == NAL_SPS).expect("an SPS");
    Sps::parse(sps).expect("SPS parses")
}

#[test]
fn parses_real_sps() {
    let cases: [(&str, u8, u8, u32, u32); 3] = [
        ("4pics.264", 100, 42, 1920, 1080),
        ("blackframe.264", 100, 30, 640, 360),
        ("avc_annexb", 244, 13, 320, 240),
    ];
    for (name, profile, level, w, h) in cases {
        let sps = sps_of(&annexb_nalus(name));
        assert_eq!((sps.profile_idc, sps.level_idc, sps.width, sps.height), (profile, level, w, h), "{name}");
    }
    let sps = sps_of(&avcc_nalus(&media("two-frames.264")));
    assert_eq!((sps.profile_idc, sps.level_idc, sps.width, sps.height), (77, 30, 704, 396));
    // x264 writes its frame rate and reordering depth into the VUI.
    let sps = sps_of(&annexb_nalus("blackframe.264"));
    assert_eq!(sps.frame_rate(), Some(25.0));
    assert_eq!(sps.frame_duration_90k(), Some(3600));
    assert_eq!(sps.max_num_reorder_frames, Some(2));
}

#[test]
fn params_from_fmtp() {
    let p = H264Params::from_fmtp(
        "97 packetization-mode=1;profile-level-id=42C01E;sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==",
    )
    .unwrap();
    assert_eq!(p.packetization_mode, 1);
    assert_eq!(p.profile_level_id, Some([0x42, 0xc0, 0x1e]));
    let sps = Sps::parse(p.sps.as_ref().unwrap()).unwrap();
    assert_eq!((sps.width, sps.height, sps.profile_idc), (240, 160, 66));
    assert_eq!(p.pps.as_deref(), Some(&[0x68, 0xcb, 0x8c, 0xb2][..]));
    assert_eq!(
        p.to_fmtp(),
        "packetization-mode=1; sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==; profile-level-id=42C01E"
    );
    assert_eq!(H264Params::from_fmtp(&p.to_fmtp()).unwrap(), p);
    // Missing padding, whitespace, swapped order.
    let q = H264Params::from_fmtp("sprop-parameter-sets= aMuMsg , Z0LAHtkDxWhAAAADAEAAAAwDxYuS ").unwrap();
    assert_eq!((q.sps, q.pps, q.packetization_mode), (p.sps.clone(), p.pps.clone(), 0));
    assert!(H264Params::from_fmtp("sprop-parameter-sets=%%%").is_err());
    assert!(H264Params::from_fmtp("profile-level-id=42C0").is_err());
    assert_eq!(H264Params::default().to_fmtp(), "packetization-mode=1");
}

/// Packetizes every access unit with `mtu`, depacketizes, and compares.
fn round_trip_units(units: &[Vec<Bytes>], mtu: usize) -> (usize, usize) {
    let mut packetizer = H264Packetizer::new(96, Ssrc(7), SeqNo(65530), mtu);
    let mut depacketizer = H264Depacketizer::new();
    let (mut fragments, mut aggregates) = (0, 0);
    for (i, nalus) in units.iter().enumerate() {
        let key = nalus.iter().any(|n| is_key_nalu(n));
        let au = access_unit(nalus.clone(), key);
        let mut out = Vec::new();
        packetizer.packetize(&au, i as u32 * 3600, &mut out);
        assert!(out.iter().all(|p| p.payload().len() <= mtu));
        assert!(out.last().unwrap().header.marker);
        assert!(out[..out.len() - 1].iter().all(|p| !p.header.marker));
        fragments += out.iter().filter(|p| p.payload()[0] & 0x1f == NAL_FU_A).count();
        aggregates += out.iter().filter(|p| p.payload()[0] & 0x1f == NAL_STAP_A).count();
        let back = depacketize(&mut depacketizer, &out).expect("an access unit");
        assert_eq!(back, au, "unit {i}");
    }
    (fragments, aggregates)
}

#[test]
fn real_streams_round_trip() {
    for name in ["4pics.264", "blackframe.264", "avc_annexb"] {
        let units = access_units(&annexb_nalus(name));
        assert!(units[0].iter().any(|n| is_key_nalu(n)), "{name}");
        let (fragments, _) = round_trip_units(&units, 100);
        assert!(fragments > 0, "{name}: no FU-A at MTU 100");
        let (_, aggregates) = round_trip_units(&units, 1400);
        assert!(aggregates > 0, "{name}: no STAP-A at MTU 1400");
    }
    let units = access_units(&avcc_nalus(&media("two-frames.264")));
    assert_eq!(units.len(), 2);
    round_trip_units(&units, 500);
}

#[test]
fn bunny_capture_depacketizes() {
    let packets: Vec<RtpPacket> =
        interleaved(&media("bunny.rtsp")).into_iter().filter(|(c, _)| *c == 2).map(|(_, p)| p).collect();
    assert_eq!(packets.len(), 269);
    let mut d = H264Depacketizer::new();
    let mut units = Vec::new();
    for group in group_by_marker(&packets) {
        units.push(depacketize(&mut d, &group).expect("a unit"));
    }
    assert!(units[0].key);
    let sps = units[0].data.iter().find(|n| nalu_type(n) == NAL_SPS).expect("in-band SPS");
    let sps = Sps::parse(sps).unwrap();
    assert_eq!((sps.width, sps.height), (240, 160));
    // The capture uses STAP-A and FU-A; re-packetizing gives the same units.
    assert!(packets.iter().any(|p| p.payload()[0] & 0x1f == NAL_STAP_A));
    assert!(packets.iter().any(|p| p.payload()[0] & 0x1f == NAL_FU_A));
    let nalus: Vec<Vec<Bytes>> = units.iter().map(|u| u.data.to_vec()).collect();
    round_trip_units(&nalus, 300);
    // DTS: Baseline, no reordering: DTS == PTS.
    let mut x = DtsExtractor::new();
    for (u, g) in units.iter().zip(group_by_marker(&packets)) {
        let pts = i64::from(g[0].header.timestamp);
        assert_eq!(x.extract(&u.data, pts), Ok(pts));
    }
}

/// FU-A packets of one NAL unit (`nal_header`, `body`), split in `pieces` of `size` bytes.
fn fu_a(nal_header: u8, body: &[u8], size: usize) -> Vec<Vec<u8>> {
    let count = body.len().div_ceil(size);
    body.chunks(size)
        .enumerate()
        .map(|(k, c)| {
            let s = u8::from(k == 0) << 7;
            let e = u8::from(k + 1 == count) << 6;
            let mut p = vec![(nal_header & 0xe0) | NAL_FU_A, s | e | (nal_header & 0x1f)];
            p.extend_from_slice(c);
            p
        })
        .collect()
}

#[test]
fn fu_a_start_and_end_in_one_packet() {
    let mut d = H264Depacketizer::new();
    d.push(&packet(1, true, &[0x7c, 0xc5, 1, 2, 3])).unwrap();
    let au = d.finish().unwrap();
    assert!(au.key);
    assert_eq!(au.data.to_vec(), vec![Bytes::from_static(&[0x65, 1, 2, 3])]);
}

#[test]
fn fu_a_missing_start_is_dropped() {
    let body: Vec<u8> = (0..30).collect();
    let frags = fu_a(0x65, &body, 10);
    let mut d = H264Depacketizer::new();
    d.push(&packet(1, false, &[0x67, 1, 2])).unwrap();
    assert_eq!(d.push(&packet(3, false, &frags[1])), Err(CodecError::FragmentLost));
    assert_eq!(d.push(&packet(4, true, &frags[2])), Err(CodecError::FragmentLost));
    let au = d.finish().unwrap();
    assert_eq!(au.data.to_vec(), vec![Bytes::from_static(&[0x67, 1, 2])]);
    assert!(!au.key);
}

#[test]
fn sequence_gap_inside_fu_a_drops_that_nal_only() {
    let body: Vec<u8> = (0..40).collect();
    let frags = fu_a(0x65, &body, 10);
    let mut d = H264Depacketizer::new();
    d.push(&packet(10, false, &[0x68, 9])).unwrap();
    d.push(&packet(11, false, &frags[0])).unwrap();
    d.push(&packet(12, false, &frags[1])).unwrap();
    // Sequence 13 is lost.
    assert_eq!(d.push(&packet(14, false, &frags[3])), Err(CodecError::FragmentLost));
    d.push(&packet(15, true, &[0x06, 5, 5])).unwrap();
    let au = d.finish().unwrap();
    assert_eq!(au.data.to_vec(), vec![Bytes::from_static(&[0x68, 9]), Bytes::from_static(&[0x06, 5, 5])]);
    // Sequence numbers wrap inside a fragmented unit.
    let mut d = H264Depacketizer::new();
    for (k, f) in frags.iter().enumerate() {
        d.push(&packet(65534u16.wrapping_add(k as u16), k == 3, f)).unwrap();
    }
    let mut whole = vec![0x65];
    whole.extend_from_slice(&body);
    assert_eq!(d.finish().unwrap().data.to_vec(), vec![Bytes::from(whole)]);
}

#[test]
fn unfinished_fu_a_is_dropped_when_another_unit_starts() {
    let frags = fu_a(0x41, &[1; 30], 10);
    let mut d = H264Depacketizer::new();
    d.push(&packet(1, false, &frags[0])).unwrap();
    assert_eq!(d.push(&packet(2, true, &[0x41, 7])), Err(CodecError::FragmentLost));
    assert_eq!(d.finish().unwrap().data.to_vec(), vec![Bytes::from_static(&[0x41, 7])]);
    // An FU-A left open at finish is dropped too.
    d.push(&packet(3, false, &frags[0])).unwrap();
    assert_eq!(d.finish(), None);
}

#[test]
fn stap_a_is_zero_copy_and_checked() {
    let stap = [0x78, 0, 3, 0x67, 1, 2, 0, 2, 0x68, 3];
    let p = packet(1, true, &stap);
    let mut d = H264Depacketizer::new();
    d.push(&p).unwrap();
    let au = d.finish().unwrap();
    assert_eq!(au.data.to_vec(), vec![Bytes::from_static(&[0x67, 1, 2]), Bytes::from_static(&[0x68, 3])]);
    // Zero-copy: the NAL units point into the packet buffer.
    let raw = p.raw.as_ptr() as usize..p.raw.as_ptr() as usize + p.raw.len();
    assert!(au.data.iter().all(|n| raw.contains(&(n.as_ptr() as usize))));
    // A length running past the end drops the whole packet.
    let mut d = H264Depacketizer::new();
    assert_eq!(d.push(&packet(1, true, &[0x78, 0, 3, 0x67, 1, 2, 0, 9, 0x68])), Err(CodecError::Truncated));
    assert_eq!(d.push(&packet(2, true, &[0x78, 0, 3, 0x67, 1, 2, 0])), Err(CodecError::Truncated));
    assert_eq!(d.push(&packet(3, true, &[0x78, 0, 0])), Err(CodecError::Invalid("empty NAL unit in STAP-A")));
    assert_eq!(d.push(&packet(4, true, &[0x78])), Err(CodecError::Invalid("STAP-A without NAL units")));
    assert_eq!(d.finish(), None);
}

#[test]
fn interleaved_mode_and_reserved_types_are_refused() {
    let mut d = H264Depacketizer::new();
    for t in [25u8, 26, 27, 29, 0, 30, 31] {
        assert!(matches!(d.push(&packet(1, true, &[0x60 | t, 0, 0, 0])), Err(CodecError::Invalid(_))), "{t}");
    }
    assert_eq!(d.push(&packet(1, true, &[])), Err(CodecError::Truncated));
    assert_eq!(d.push(&packet(1, true, &[0x7c])), Err(CodecError::Truncated));
    assert_eq!(d.finish(), None);
}

#[test]
fn oversized_unit_is_refused() {
    let chunk = vec![0xaa; 60_000];
    let mut d = H264Depacketizer::new();
    let mut first = vec![0x7c, 0x85];
    first.extend_from_slice(&chunk);
    d.push(&packet(0, false, &first)).unwrap();
    let mut middle = vec![0x7c, 0x05];
    middle.extend_from_slice(&chunk);
    let mut result = Ok(());
    for seq in 1..200u16 {
        result = d.push(&packet(seq, false, &middle));
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(CodecError::TooLarge));
    assert_eq!(d.finish(), None);
}

#[test]
fn helpers() {
    assert_eq!(nalu_type(&[0x65, 0]), NAL_IDR);
    assert_eq!(nalu_type(&[]), 0);
    assert!(is_key_nalu(&[0x25]));
    assert!(!is_key_nalu(&[0x41]) && !is_key_nalu(&[0x67]) && !is_key_nalu(&[]));
    let nalus: Vec<&[u8]> = split_annexb(&[0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2]).collect();
    assert_eq!(nalus, vec![&[0x67, 1][..], &[0x68, 2][..]]);
}

// ---- DTS ----

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
            out.push((synthetic_slice('B', frame_num + 1, (2 * p - 4) as u32), base + p - 2));
            out.push((synthetic_slice('B', frame_num + 1, (2 * p - 2) as u32), base + p - 1));
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
        let au: Vec<Bytes> =
            if k == 0 { vec![Bytes::copy_from_slice(sps), slice.clone()] } else { vec![slice.clone()] };
        let d = x.extract(&au, pts).unwrap_or_else(|e| panic!("AU {k}: {e}"));
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
            (synthetic_slice(kind, (i % 20) as u32, (2 * (i % 20)) as u32), i)
        })
        .collect();
    let dts = run_dts(&sps, &stream);
    assert!(dts.iter().enumerate().all(|(i, &d)| d == 1_000_000 + i as i64 * 3600));
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
    assert_eq!(x.extract(&[synthetic_slice('I', 0, 0)], 0), Err(CodecError::Invalid("no SPS")));
    x.set_sps(&synthetic_sps(0, None)).unwrap();
    assert_eq!(x.extract(&[Bytes::from_static(&[0x09, 0xf0])], 0), Err(CodecError::Invalid("no slice in access unit")));
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
        assert_eq!(x.extract(&units[0], 90_000), Ok(90_000 - 2 * 3600), "{name}");
    }
}

// ---- properties ----

/// Arbitrary NAL units with valid headers (types 1–23) and bodies.
fn arb_nalus() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(
        (1u8..=23, 0u8..4, proptest::collection::vec(any::<u8>(), 0..2500)).prop_map(|(t, nri, mut body)| {
            body.insert(0, (nri << 5) | t);
            body
        }),
        1..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn packetize_depacketize_round_trip(nalus in arb_nalus(), mtu in 3usize..1600, seq: u16, ts: u32) {
        let data: Vec<Bytes> = nalus.into_iter().map(Bytes::from).collect();
        let key = data.iter().any(|n| is_key_nalu(n));
        let au = AccessUnit { key, data: data.into_iter().collect() };
        let mut p = H264Packetizer::new(96, Ssrc(1), SeqNo(seq), mtu);
        let mut out = Vec::new();
        p.packetize(&au, ts, &mut out);
        prop_assert!(out.iter().all(|pk| pk.payload().len() <= mtu.max(3) && pk.header.timestamp == ts));
        prop_assert_eq!(p.next_sequence_number(), SeqNo(seq.wrapping_add(out.len() as u16)));
        let mut d = H264Depacketizer::new();
        for pk in &out {
            d.push(pk).unwrap();
        }
        prop_assert_eq!(d.finish(), Some(au));
    }

    #[test]
    fn arbitrary_payloads_never_panic(
        payloads in proptest::collection::vec((any::<u16>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64)), 0..12)
    ) {
        let mut d = H264Depacketizer::new();
        for (seq, marker, payload) in &payloads {
            let _ = d.push(&packet(*seq, *marker, payload));
            if *marker {
                let _ = d.finish();
            }
        }
        let _ = d.finish();
    }

    #[test]
    fn sps_parser_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut nalu = vec![0x67];
        nalu.extend(data);
        let _ = Sps::parse(&nalu);
    }

    #[test]
    fn damaged_real_sps_never_panics(index in 0usize..64, value: u8, cut in 0usize..64) {
        let nalus = annexb_nalus("avc_annexb");
        let mut raw = nalus.iter().find(|n| nalu_type(n) == NAL_SPS).unwrap().clone();
        let i = 1 + index % (raw.len() - 1);
        raw[i] = value;
        raw.truncate(1 + cut % raw.len());
        let _ = Sps::parse(&raw);
    }

    #[test]
    fn dts_extractor_never_panics(
        aus in proptest::collection::vec((proptest::collection::vec(any::<u8>(), 1..24), any::<i32>()), 0..16)
    ) {
        let mut x = DtsExtractor::new();
        x.set_sps(&synthetic_sps(0, None)).unwrap();
        for (nalu, pts) in aus {
            let _ = x.extract(&[Bytes::from(nalu)], i64::from(pts));
        }
    }
}
