//! H.264 tests: real bitstreams (SPS, packetize → depacketize, DTS), the bunny RTSP capture,
//! edge cases of RFC 6184 and property tests.

use super::*;
use crate::codec::test_util::{
    access_unit, depacketize, group_by_marker, interleaved, media, packet, split_access_units,
    Video,
};
use crate::codec::{AccessUnit, CodecError, Depacketizer};
use crate::rtp::{RtpPacket, SeqNo, Ssrc};
use bytes::Bytes;
use proptest::prelude::*;

/// NAL units of an Annex-B sample file.
pub(super) fn annexb_nalus(name: &str) -> Vec<Vec<u8>> {
    split_annexb(&media(name)).map(<[u8]>::to_vec).collect()
}

/// NAL units of the length-prefixed (AVCC, 4-byte) sample.
fn avcc_nalus(data: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 4 <= data.len() {
        let len =
            u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        out.push(data[pos + 4..pos + 4 + len].to_vec());
        pos += 4 + len;
    }
    out
}

pub(super) fn access_units(nalus: &[Vec<u8>]) -> Vec<Vec<Bytes>> {
    let refs: Vec<&[u8]> = nalus.iter().map(Vec::as_slice).collect();
    split_access_units(&refs, Video::H264)
}

fn sps_of(nalus: &[Vec<u8>]) -> Sps {
    let sps = nalus
        .iter()
        .find(|n| nalu_type(n) == NAL_SPS)
        .expect("an SPS");
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
        assert_eq!(
            (sps.profile_idc, sps.level_idc, sps.width, sps.height),
            (profile, level, w, h),
            "{name}"
        );
    }
    let sps = sps_of(&avcc_nalus(&media("two-frames.264")));
    assert_eq!(
        (sps.profile_idc, sps.level_idc, sps.width, sps.height),
        (77, 30, 704, 396)
    );
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
    let q = H264Params::from_fmtp("sprop-parameter-sets= aMuMsg , Z0LAHtkDxWhAAAADAEAAAAwDxYuS ")
        .unwrap();
    assert_eq!(
        (q.sps, q.pps, q.packetization_mode),
        (p.sps.clone(), p.pps.clone(), 0)
    );
    assert!(H264Params::from_fmtp("sprop-parameter-sets=%%%").is_err());
    assert_eq!(
        H264Params::from_fmtp("profile-level-id=42C0")
            .unwrap()
            .profile_level_id,
        None
    );
    assert_eq!(H264Params::default().to_fmtp(), "packetization-mode=1");
}

#[test]
fn camera_fmtp_values() {
    // fmtp lines of real cameras and servers (from the retina test corpus), quirks included.
    let cases = [
        ("profile-level-id=4d4032; packetization-mode=1; sprop-parameter-sets=Z01AMpWgCoAwfiZuAgICgAAB9AAAdTBC,aO48gA==", 2688, 1520),
        ("packetization-mode=1; sprop-parameter-sets=Z2QADazZQUGfnwEQAAADABAAAAMDwPFCmWA=,aOvjyyLA; profile-level-id=64000D", 320, 180),
        ("packetization-mode=1;profile-level-id=5046302;sprop-parameter-sets=Z00AHpWoLQ9puAgICBAAAAAB,aO48gAAAAAE=", 720, 480),
        ("profile-level-id=TeAo;packetization-mode=1;sprop-parameter-sets=J03gKI1oBQBboQAAAwABAAADACgPFCKg,KO4BNJI=", 1280, 720),
        ("profile-level-id=4D401F;packetization-mode=0;sprop-parameter-sets=Z01AH5WgLASabAQ=,aO48gA==;config=00000001674d", 704, 576),
    ];
    for (fmtp, w, h) in cases {
        let p = H264Params::from_fmtp(fmtp).unwrap_or_else(|e| panic!("{fmtp}: {e}"));
        let sps =
            Sps::parse(p.sps.as_ref().expect("SPS")).unwrap_or_else(|e| panic!("{fmtp}: {e}"));
        assert!(p.pps.is_some());
        assert_eq!((sps.width, sps.height), (w, h), "{fmtp}");
    }
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
        fragments += out
            .iter()
            .filter(|p| p.payload()[0] & 0x1f == NAL_FU_A)
            .count();
        aggregates += out
            .iter()
            .filter(|p| p.payload()[0] & 0x1f == NAL_STAP_A)
            .count();
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
    let packets: Vec<RtpPacket> = interleaved(&media("bunny.rtsp"))
        .into_iter()
        .filter(|(c, _)| *c == 2)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(packets.len(), 269);
    let mut d = H264Depacketizer::new();
    let mut units = Vec::new();
    for group in group_by_marker(&packets) {
        units.push(depacketize(&mut d, &group).expect("a unit"));
    }
    assert!(units[0].key);
    let sps = units[0]
        .data
        .iter()
        .find(|n| nalu_type(n) == NAL_SPS)
        .expect("in-band SPS");
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
    assert_eq!(
        d.push(&packet(3, false, &frags[1])),
        Err(CodecError::FragmentLost)
    );
    assert_eq!(
        d.push(&packet(4, true, &frags[2])),
        Err(CodecError::FragmentLost)
    );
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
    assert_eq!(
        d.push(&packet(14, false, &frags[3])),
        Err(CodecError::FragmentLost)
    );
    d.push(&packet(15, true, &[0x06, 5, 5])).unwrap();
    let au = d.finish().unwrap();
    assert_eq!(
        au.data.to_vec(),
        vec![
            Bytes::from_static(&[0x68, 9]),
            Bytes::from_static(&[0x06, 5, 5])
        ]
    );
    // Sequence numbers wrap inside a fragmented unit.
    let mut d = H264Depacketizer::new();
    for (k, f) in frags.iter().enumerate() {
        d.push(&packet(65534u16.wrapping_add(k as u16), k == 3, f))
            .unwrap();
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
    assert_eq!(
        d.push(&packet(2, true, &[0x41, 7])),
        Err(CodecError::FragmentLost)
    );
    assert_eq!(
        d.finish().unwrap().data.to_vec(),
        vec![Bytes::from_static(&[0x41, 7])]
    );
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
    assert_eq!(
        au.data.to_vec(),
        vec![
            Bytes::from_static(&[0x67, 1, 2]),
            Bytes::from_static(&[0x68, 3])
        ]
    );
    // Zero-copy: the NAL units point into the packet buffer.
    let raw = p.raw.as_ptr() as usize..p.raw.as_ptr() as usize + p.raw.len();
    assert!(au.data.iter().all(|n| raw.contains(&(n.as_ptr() as usize))));
    // A length running past the end drops the whole packet.
    let mut d = H264Depacketizer::new();
    assert_eq!(
        d.push(&packet(1, true, &[0x78, 0, 3, 0x67, 1, 2, 0, 9, 0x68])),
        Err(CodecError::Truncated)
    );
    assert_eq!(
        d.push(&packet(2, true, &[0x78, 0, 3, 0x67, 1, 2, 0])),
        Err(CodecError::Truncated)
    );
    assert_eq!(
        d.push(&packet(3, true, &[0x78, 0, 0])),
        Err(CodecError::Invalid("empty NAL unit in STAP-A"))
    );
    assert_eq!(
        d.push(&packet(4, true, &[0x78])),
        Err(CodecError::Invalid("STAP-A without NAL units"))
    );
    assert_eq!(d.finish(), None);
}

#[test]
fn interleaved_mode_and_reserved_types_are_refused() {
    let mut d = H264Depacketizer::new();
    for t in [25u8, 26, 27, 29, 0, 30, 31] {
        assert!(
            matches!(
                d.push(&packet(1, true, &[0x60 | t, 0, 0, 0])),
                Err(CodecError::Invalid(_))
            ),
            "{t}"
        );
    }
    assert_eq!(d.push(&packet(1, true, &[])), Err(CodecError::Truncated));
    assert_eq!(
        d.push(&packet(1, true, &[0x7c])),
        Err(CodecError::Truncated)
    );
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

// ---- properties ----

/// Arbitrary NAL units with valid headers (types 1–23) and bodies.
fn arb_nalus() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(
        (
            1u8..=23,
            0u8..4,
            proptest::collection::vec(any::<u8>(), 0..2500),
        )
            .prop_map(|(t, nri, mut body)| {
                body.insert(0, (nri << 5) | t);
                body
            }),
        1..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn packetize_depacketize_round_trip(
        nalus in arb_nalus(),
        mtu in 3usize..1600,
        seq: u16,
        ts: u32,
    ) {
        let data: Vec<Bytes> = nalus.into_iter().map(Bytes::from).collect();
        let key = data.iter().any(|n| is_key_nalu(n));
        let au = AccessUnit { key, data: data.into_iter().collect() };
        let mut p = H264Packetizer::new(96, Ssrc(1), SeqNo(seq), mtu);
        let mut out = Vec::new();
        p.packetize(&au, ts, &mut out);
        prop_assert!(out.iter().all(|pk| pk.payload().len() <= mtu));
        prop_assert!(out.iter().all(|pk| pk.header.timestamp == ts));
        prop_assert_eq!(p.next_sequence_number(), SeqNo(seq.wrapping_add(out.len() as u16)));
        let mut d = H264Depacketizer::new();
        for pk in &out {
            d.push(pk).unwrap();
        }
        prop_assert_eq!(d.finish(), Some(au));
    }

    #[test]
    fn arbitrary_payloads_never_panic(
        payloads in proptest::collection::vec(
            (any::<u16>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64)),
            0..12,
        ),
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
}
