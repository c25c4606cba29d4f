//! H.265 tests: real bitstreams (SPS, packetize → depacketize, DTS with B-frames), RFC 7798
//! edge cases and property tests.

use super::*;
use crate::codec::test_util::{access_unit, depacketize, media, packet, split_access_units, Video};
use crate::codec::{AccessUnit, CodecError, Depacketizer};
use crate::rtp::{SeqNo, Ssrc};
use bytes::Bytes;
use proptest::prelude::*;

fn annexb_nalus(name: &str) -> Vec<Vec<u8>> {
    split_annexb(&media(name)).map(<[u8]>::to_vec).collect()
}

fn access_units(name: &str) -> Vec<Vec<Bytes>> {
    let nalus = annexb_nalus(name);
    let refs: Vec<&[u8]> = nalus.iter().map(Vec::as_slice).collect();
    split_access_units(&refs, Video::H265)
}

fn find(nalus: &[Vec<u8>], t: u8) -> &[u8] {
    nalus
        .iter()
        .find(|n| nalu_type(n) == t)
        .expect("parameter set")
}

const FILES: [&str; 4] = [
    "hevc.265",
    "blackframe.265",
    "hevc_annexb",
    "wilson_raw.h265",
];

#[test]
fn parses_real_sps_and_pps() {
    let cases: [(&str, u8, u8, u32, u32); 4] = [
        ("hevc.265", 1, 123, 1920, 1080),
        ("blackframe.265", 1, 30, 160, 120),
        ("hevc_annexb", 4, 60, 320, 240),
        ("wilson_raw.h265", 1, 123, 640, 480),
    ];
    for (name, profile, level, w, h) in cases {
        let nalus = annexb_nalus(name);
        let sps = Sps::parse(find(&nalus, NAL_SPS)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            (
                sps.general_profile_idc,
                sps.general_level_idc,
                sps.width,
                sps.height
            ),
            (profile, level, w, h),
            "{name}"
        );
        Pps::parse(find(&nalus, NAL_PPS)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // x265 announces its frame rate (hevc.265 is 50 fps) and pyramid reordering.
    let sps = Sps::parse(find(&annexb_nalus("hevc.265"), NAL_SPS)).unwrap();
    assert_eq!(sps.frame_duration_90k(), Some(1800));
    assert!(sps.sps_max_num_reorder_pics >= 2);
    assert!(Sps::parse(find(&annexb_nalus("hevc.265"), NAL_PPS)).is_err());
}

fn round_trip(units: &[Vec<Bytes>], mtu: usize) -> (usize, usize) {
    let mut p = H265Packetizer::new(96, Ssrc(3), SeqNo(65000), mtu);
    let mut d = H265Depacketizer::new();
    let (mut fus, mut aps) = (0, 0);
    for (i, nalus) in units.iter().enumerate() {
        let key = nalus.iter().any(|n| is_key_nalu(n));
        let au = access_unit(nalus.clone(), key);
        let mut out = Vec::new();
        p.packetize(&au, i as u32 * 1800, &mut out);
        assert!(out.iter().all(|p| p.payload().len() <= mtu));
        assert!(out.last().unwrap().header.marker);
        assert!(out[..out.len() - 1].iter().all(|p| !p.header.marker));
        fus += out
            .iter()
            .filter(|p| (p.payload()[0] >> 1) & 0x3f == NAL_FU)
            .count();
        aps += out
            .iter()
            .filter(|p| (p.payload()[0] >> 1) & 0x3f == NAL_AP)
            .count();
        assert_eq!(depacketize(&mut d, &out), Some(au), "unit {i}");
    }
    (fus, aps)
}

#[test]
fn real_streams_round_trip() {
    for name in FILES {
        let units = access_units(name);
        assert!(units[0].iter().any(|n| is_key_nalu(n)), "{name}");
        let (fus, _) = round_trip(&units, 40);
        assert!(fus > 0, "{name}");
        let (_, aps) = round_trip(&units, 1400);
        assert!(aps > 0, "{name}");
    }
}

/// Display index of each access unit of hevc.265 in decoding order (from ffprobe's frame
/// order and packet positions).
const HEVC_DISPLAY_ORDER: [i64; 50] = [
    0, 3, 2, 1, 8, 6, 4, 5, 7, 11, 10, 9, 14, 13, 12, 16, 15, 17, 22, 20, 18, 19, 21, 24, 23, 25,
    30, 28, 26, 27, 29, 35, 33, 31, 32, 34, 40, 38, 36, 37, 39, 44, 42, 41, 43, 49, 47, 45, 46, 48,
];

#[test]
fn dts_on_real_b_frames() {
    let units = access_units("hevc.265");
    assert_eq!(units.len(), HEVC_DISPLAY_ORDER.len());
    let mut x = DtsExtractor::new();
    let mut prev = None;
    for (k, (u, &display)) in units.iter().zip(&HEVC_DISPLAY_ORDER).enumerate() {
        let pts = 10_000 + display * 1800;
        let dts = x.extract(u, pts).unwrap_or_else(|e| panic!("AU {k}: {e}"));
        assert!(dts <= pts, "AU {k}: {dts} > {pts}");
        if let Some(p) = prev {
            assert_eq!(dts - p, 1800, "AU {k}");
        }
        prev = Some(dts);
    }
}

#[test]
fn dts_without_reordering_and_errors() {
    let units = access_units("wilson_raw.h265");
    let mut x = DtsExtractor::new();
    for (k, u) in units.iter().enumerate() {
        let pts = k as i64 * 3600;
        assert_eq!(x.extract(u, pts), Ok(pts), "AU {k}");
    }
    let mut x = DtsExtractor::new();
    let slice = units[1].clone();
    assert_eq!(x.extract(&slice, 0), Err(CodecError::Invalid("no SPS")));
    let nalus = annexb_nalus("wilson_raw.h265");
    x.set_parameter_set(find(&nalus, NAL_SPS)).unwrap();
    assert_eq!(x.extract(&slice, 0), Err(CodecError::Invalid("no PPS")));
    x.set_parameter_set(find(&nalus, NAL_PPS)).unwrap();
    x.set_parameter_set(find(&nalus, NAL_VPS)).unwrap();
    assert!(x.extract(&slice, 0).is_ok());
}

#[test]
fn params_from_fmtp() {
    let fmtp = "96 profile-space=0;profile-id=1;tier-flag=0;level-id=150;interop-constraints=000000000000;\
                sprop-vps=QAEMAf//AWAAAAMAAAMAAAMAAAMAlqwJ;sprop-sps=QgEBAWAAAAMAAAMAAAMAAAMAlqABQCAFof4qtO6JLuaAgA27oADN/mAE;sprop-pps=RAHAcvAbJA==";
    let p = H265Params::from_fmtp(fmtp).unwrap();
    assert_eq!(nalu_type(p.vps.as_ref().unwrap()), NAL_VPS);
    let sps = Sps::parse(p.sps.as_ref().unwrap()).unwrap();
    assert_eq!((sps.width, sps.height), (2560, 1440));
    Pps::parse(p.pps.as_ref().unwrap()).unwrap();
    assert_eq!(p.max_don_diff, 0);
    assert_eq!(H265Params::from_fmtp(&p.to_fmtp()).unwrap(), p);
    assert!(p
        .to_fmtp()
        .starts_with("sprop-vps=QAEMAf//AWAAAAMAAAMAAAMAAAMAlqwJ; sprop-sps="));
    assert_eq!(
        H265Params::from_fmtp("sprop-max-don-diff=2")
            .unwrap()
            .max_don_diff,
        2
    );
    assert!(H265Params::from_fmtp("sprop-sps=!!").is_err());
}

/// FU packets of one NAL unit (2-byte header + body), `size` body bytes each.
fn fus(header: [u8; 2], body: &[u8], size: usize) -> Vec<Vec<u8>> {
    let count = body.len().div_ceil(size);
    body.chunks(size)
        .enumerate()
        .map(|(k, c)| {
            let se = (u8::from(k == 0) << 7) | (u8::from(k + 1 == count) << 6);
            let mut p = vec![
                (header[0] & 0x81) | (NAL_FU << 1),
                header[1],
                se | ((header[0] >> 1) & 0x3f),
            ];
            p.extend_from_slice(c);
            p
        })
        .collect()
}

#[test]
fn fu_edge_cases() {
    let idr = [NAL_IDR_W_RADL << 1, 1];
    // Start and end in one packet.
    let mut d = H265Depacketizer::new();
    d.push(&packet(1, true, &[0x62, 1, 0xc0 | NAL_IDR_W_RADL, 7, 8]))
        .unwrap();
    let au = d.finish().unwrap();
    assert!(au.key);
    assert_eq!(au.data.to_vec(), vec![Bytes::from_static(&[0x26, 1, 7, 8])]);
    // Missing start, then a gap: the partial units are dropped, the rest is kept.
    let frags = fus(idr, &[5; 40], 10);
    let mut d = H265Depacketizer::new();
    d.push(&packet(1, false, &[0x40, 1, 0xaa])).unwrap(); // VPS
    assert_eq!(
        d.push(&packet(2, false, &frags[1])),
        Err(CodecError::FragmentLost)
    );
    d.push(&packet(3, false, &frags[0])).unwrap();
    assert_eq!(
        d.push(&packet(5, false, &frags[2])),
        Err(CodecError::FragmentLost)
    );
    assert_eq!(
        d.push(&packet(6, true, &frags[3])),
        Err(CodecError::FragmentLost)
    );
    let au = d.finish().unwrap();
    assert!(!au.key);
    assert_eq!(au.data.to_vec(), vec![Bytes::from_static(&[0x40, 1, 0xaa])]);
    // An unfinished unit is dropped when a single NAL unit follows.
    d.push(&packet(7, false, &frags[0])).unwrap();
    assert_eq!(
        d.push(&packet(8, true, &[0x02, 1, 9])),
        Err(CodecError::FragmentLost)
    );
    assert_eq!(
        d.finish().unwrap().data.to_vec(),
        vec![Bytes::from_static(&[0x02, 1, 9])]
    );
}

#[test]
fn aggregation_packets() {
    let ap = [NAL_AP << 1, 1, 0, 3, 0x40, 1, 9, 0, 2, 0x42, 1];
    let mut d = H265Depacketizer::new();
    d.push(&packet(1, true, &ap)).unwrap();
    assert_eq!(
        d.finish().unwrap().data.to_vec(),
        vec![
            Bytes::from_static(&[0x40, 1, 9]),
            Bytes::from_static(&[0x42, 1])
        ]
    );
    assert_eq!(
        d.push(&packet(1, true, &ap[..9])),
        Err(CodecError::Truncated)
    );
    assert_eq!(
        d.push(&packet(1, true, &[NAL_AP << 1, 1, 0, 1, 0x40])),
        Err(CodecError::Invalid(
            "NAL unit shorter than its header in AP"
        ))
    );
    assert_eq!(
        d.push(&packet(1, true, &[NAL_AP << 1, 1])),
        Err(CodecError::Invalid("AP without NAL units"))
    );
    assert!(matches!(
        d.push(&packet(1, true, &[NAL_PACI << 1, 1, 0, 0])),
        Err(CodecError::Invalid(_))
    ));
    assert!(matches!(
        d.push(&packet(1, true, &[55 << 1, 1, 0, 0])),
        Err(CodecError::Invalid(_))
    ));
    assert_eq!(
        d.push(&packet(1, true, &[0x02])),
        Err(CodecError::Truncated)
    );
    assert_eq!(d.finish(), None);
}

#[test]
fn donl_fields_are_skipped() {
    let mut d = H265Depacketizer::with_donl(true);
    // Single NAL unit: header, DONL, payload.
    d.push(&packet(1, false, &[0x02, 1, 0, 5, 0xaa, 0xbb]))
        .unwrap();
    // AP: header, DONL, size, unit, DOND, size, unit.
    d.push(&packet(
        2,
        false,
        &[NAL_AP << 1, 1, 0, 6, 0, 3, 0x40, 1, 9, 1, 0, 2, 0x42, 1],
    ))
    .unwrap();
    // FU: DONL only in the first fragment.
    d.push(&packet(3, false, &[NAL_FU << 1, 1, 0x80 | 19, 0, 7, 1, 2]))
        .unwrap();
    d.push(&packet(4, true, &[NAL_FU << 1, 1, 0x40 | 19, 3]))
        .unwrap();
    let au = d.finish().unwrap();
    assert!(au.key);
    let expected: [&[u8]; 4] = [
        &[0x02, 1, 0xaa, 0xbb],
        &[0x40, 1, 9],
        &[0x42, 1],
        &[0x26, 1, 1, 2, 3],
    ];
    assert_eq!(au.data.iter().map(|b| &b[..]).collect::<Vec<_>>(), expected);
}

#[test]
fn helpers() {
    assert_eq!(nalu_type(&[0x40, 1]), NAL_VPS);
    assert!(is_key_nalu(&[NAL_CRA << 1, 1]));
    assert!(is_key_nalu(&[NAL_BLA_W_LP << 1, 1]));
    assert!(!is_key_nalu(&[22 << 1, 1]));
    assert!(!is_key_nalu(&[NAL_TRAIL_R << 1, 1]) && !is_key_nalu(&[]));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn packetize_depacketize_round_trip(
        nalus in proptest::collection::vec(
            (0u8..48, 0u8..64, 1u8..8, proptest::collection::vec(any::<u8>(), 0..2500)),
            1..8,
        ),
        mtu in 4usize..1600,
        seq: u16,
    ) {
        let data: Vec<Bytes> = nalus
            .into_iter()
            .map(|(t, layer, tid, body)| {
                let mut n = vec![(t << 1) | (layer >> 5), ((layer & 0x1f) << 3) | tid];
                n.extend(body);
                Bytes::from(n)
            })
            .collect();
        let key = data.iter().any(|n| is_key_nalu(n));
        let au = AccessUnit { key, data: data.into_iter().collect() };
        let mut p = H265Packetizer::new(96, Ssrc(1), SeqNo(seq), mtu);
        let mut out = Vec::new();
        p.packetize(&au, 0, &mut out);
        prop_assert!(out.iter().all(|pk| pk.payload().len() <= mtu));
        let mut d = H265Depacketizer::new();
        for pk in &out {
            d.push(pk).unwrap();
        }
        prop_assert_eq!(d.finish(), Some(au));
    }

    #[test]
    fn arbitrary_payloads_never_panic(
        donl: bool,
        payloads in proptest::collection::vec(
            (any::<u16>(), any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64)),
            0..12,
        ),
    ) {
        let mut d = H265Depacketizer::with_donl(donl);
        for (seq, marker, payload) in &payloads {
            let _ = d.push(&packet(*seq, *marker, payload));
        }
        let _ = d.finish();
    }

    #[test]
    fn parsers_never_panic(data in proptest::collection::vec(any::<u8>(), 0..96)) {
        let mut sps = vec![NAL_SPS << 1, 1];
        sps.extend_from_slice(&data);
        let _ = Sps::parse(&sps);
        let mut pps = vec![NAL_PPS << 1, 1];
        pps.extend_from_slice(&data);
        let _ = Pps::parse(&pps);
    }

    #[test]
    fn damaged_real_sps_never_panics(index: usize, value: u8, cut: usize) {
        let nalus = annexb_nalus("hevc.265");
        let mut raw = find(&nalus, NAL_SPS).to_vec();
        let i = 2 + index % (raw.len() - 2);
        raw[i] = value;
        raw.truncate(2 + cut % (raw.len() - 1));
        let _ = Sps::parse(&raw);
    }

    #[test]
    fn dts_extractor_never_panics(
        aus in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 2..24), any::<i32>()),
            0..16,
        ),
    ) {
        let nalus = annexb_nalus("hevc.265");
        let mut x = DtsExtractor::new();
        x.set_parameter_set(find(&nalus, NAL_SPS)).unwrap();
        x.set_parameter_set(find(&nalus, NAL_PPS)).unwrap();
        for (nalu, pts) in aus {
            let _ = x.extract(&[Bytes::from(nalu)], i64::from(pts));
        }
    }
}
