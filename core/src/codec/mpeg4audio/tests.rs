//! MPEG-4 audio tests: AudioSpecificConfig, fmtp, real AAC frames through packetizer and
//! depacketizer, the bunny RTSP capture, RFC 3640 edge cases and property tests.

use super::*;
use crate::codec::bits::BitWriter;
use crate::codec::test_util::{depacketize, group_by_marker, interleaved, media, packet};
use crate::codec::{AccessUnit, CodecError, Depacketizer};
use crate::rtp::{RtpPacket, SeqNo, Ssrc};
use bytes::Bytes;
use proptest::prelude::*;
use smallvec::SmallVec;

#[test]
fn parses_common_configs() {
    let c = AudioSpecificConfig::parse(&[0x14, 0x90]).unwrap();
    assert_eq!(
        (
            c.object_type,
            c.sample_rate,
            c.channel_count,
            c.frame_length
        ),
        (2, 12000, 2, 1024)
    );
    let c = AudioSpecificConfig::parse(&[0x11, 0x90]).unwrap();
    assert_eq!(
        (c.object_type, c.sample_rate, c.channel_count),
        (2, 48000, 2)
    );
    let c = AudioSpecificConfig::parse(&[0x12, 0x10]).unwrap();
    assert_eq!(
        (c.object_type, c.sample_rate, c.channel_count),
        (2, 44100, 2)
    );
    // frameLengthFlag: 960-sample frames.
    assert_eq!(
        AudioSpecificConfig::parse(&[0x11, 0x94])
            .unwrap()
            .frame_length,
        960
    );
    // 7 → 8 channels (7.1).
    assert_eq!(
        AudioSpecificConfig::parse(&[0x11, 0xb8])
            .unwrap()
            .channel_count,
        8
    );
}

#[test]
fn parses_escapes_and_sbr() {
    // Object type 31 + 6 bits (42, USAC), explicit 24-bit frequency, 2 channels.
    let mut w = BitWriter::new();
    w.write_bits(31, 5);
    w.write_bits(42 - 32, 6);
    w.write_bits(15, 4);
    w.write_bits(44_056, 24);
    w.write_bits(2, 4);
    let raw = w.into_bytes();
    let c = AudioSpecificConfig::parse(&raw).unwrap();
    assert_eq!(
        (c.object_type, c.sample_rate, c.channel_count),
        (42, 44_056, 2)
    );
    assert_eq!(c.raw, Bytes::from(raw));
    // Explicit HE-AAC: SBR (5) over AAC LC at 24 kHz core, 48 kHz output.
    let mut w = BitWriter::new();
    w.write_bits(5, 5);
    w.write_bits(6, 4);
    w.write_bits(2, 4);
    w.write_bits(3, 4);
    w.write_bits(2, 5);
    w.write_bits(0, 3);
    let c = AudioSpecificConfig::parse(&w.into_bytes()).unwrap();
    assert_eq!(
        (
            c.object_type,
            c.sample_rate,
            c.extension_sample_rate,
            c.channel_count
        ),
        (2, 24000, Some(48000), 2)
    );
    // Errors.
    assert!(AudioSpecificConfig::parse(&[]).is_err());
    assert!(AudioSpecificConfig::parse(&[0x12]).is_err());
    assert!(AudioSpecificConfig::parse(&[0x00, 0x10]).is_err()); // object type 0
    assert!(AudioSpecificConfig::parse(&[0x16, 0x90]).is_err()); // frequency index 13
    assert!(AudioSpecificConfig::parse(&[0x17, 0x80, 0, 0, 0]).is_err()); // explicit 0 Hz
}

#[test]
fn fmtp_round_trip() {
    let fmtp = "96 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1490";
    let c = AudioSpecificConfig::from_fmtp(fmtp).unwrap();
    assert_eq!(c.sample_rate, 12000);
    assert_eq!(
        c.to_fmtp(),
        "profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1490"
    );
    let p = Mpeg4AudioParams::from_fmtp(fmtp).unwrap();
    assert_eq!(
        p,
        Mpeg4AudioParams {
            config: Some(c.clone()),
            ..Mpeg4AudioParams::default()
        }
    );
    assert_eq!(p.to_fmtp(), c.to_fmtp());
    assert_eq!(Mpeg4AudioParams::from_fmtp(&p.to_fmtp()).unwrap(), p);
    // AAC-lbr and the generic fields.
    let p = Mpeg4AudioParams::from_fmtp(
        "streamtype=5; mode=AAC-lbr; SizeLength=6; IndexLength=2; IndexDeltaLength=2; CTSDeltaLength=4; \
         randomAccessIndication=1; auxiliaryDataSizeLength=8; config=1210",
    )
    .unwrap();
    assert_eq!(
        (p.size_length, p.index_length, p.index_delta_length),
        (6, 2, 2)
    );
    assert_eq!(
        (
            p.cts_delta_length,
            p.random_access_indication,
            p.auxiliary_data_size_length
        ),
        (4, true, 8)
    );
    let p = Mpeg4AudioParams::from_fmtp("mode=AAC-lbr").unwrap();
    assert_eq!(
        (p.size_length, p.index_length, p.index_delta_length),
        (6, 2, 2)
    );
    // No layout at all: AAC-hbr is assumed; a broken config is dropped.
    let p = Mpeg4AudioParams::from_fmtp("config=zz").unwrap();
    assert_eq!(p, Mpeg4AudioParams::default());
    assert!(Mpeg4AudioParams::from_fmtp("sizelength=64").is_err());
    assert!(AudioSpecificConfig::from_fmtp("mode=AAC-hbr").is_err());
}

/// Raw AAC frames and the config of an ADTS stream (ISO/IEC 14496-3 §1.A.2).
fn adts_frames(data: &[u8]) -> (Vec<Bytes>, AudioSpecificConfig) {
    let mut frames = Vec::new();
    let mut config = None;
    let mut pos = 0;
    while pos + 7 <= data.len() {
        let h = &data[pos..pos + 7];
        assert_eq!((h[0], h[1] & 0xf0), (0xff, 0xf0), "ADTS sync at {pos}");
        let protection_absent = h[1] & 1 == 1;
        let profile = h[2] >> 6;
        let sf_index = (h[2] >> 2) & 0x0f;
        let channels = ((h[2] & 1) << 2) | (h[3] >> 6);
        let frame_length =
            (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
        let header = if protection_absent { 7 } else { 9 };
        frames.push(Bytes::copy_from_slice(
            &data[pos + header..pos + frame_length],
        ));
        let asc = [
            ((profile + 1) << 3) | (sf_index >> 1),
            ((sf_index & 1) << 7) | (channels << 3),
        ];
        config.get_or_insert_with(|| AudioSpecificConfig::parse(&asc).unwrap());
        pos += frame_length;
    }
    assert_eq!(pos, data.len());
    (frames, config.expect("a frame"))
}

fn round_trip(frames: &[Bytes], mtu: usize) -> Vec<RtpPacket> {
    let au = AccessUnit {
        key: true,
        data: frames.iter().cloned().collect(),
    };
    let mut p = Mpeg4AudioPacketizer::new(97, Ssrc(9), SeqNo(100), mtu);
    let mut out = Vec::new();
    p.packetize(&au, 5000, &mut out);
    assert!(out.iter().all(|p| p.payload().len() <= mtu));
    let mut d = Mpeg4AudioDepacketizer::new(Mpeg4AudioParams::default());
    let mut back = Vec::new();
    for group in group_by_marker(&out) {
        back.extend(depacketize(&mut d, &group).expect("AUs").data);
    }
    assert_eq!(back, frames);
    out
}

#[test]
fn real_frames_round_trip() {
    let (frames, config) = adts_frames(&media("adts"));
    assert_eq!(
        (config.object_type, config.sample_rate, config.channel_count),
        (2, 44100, 2)
    );
    let out = round_trip(&frames, 1400);
    assert_eq!(out.len(), frames.len());
    let ts: Vec<u32> = out.iter().map(|p| p.header.timestamp).collect();
    assert!(ts.windows(2).all(|w| w[1] - w[0] == 1024));
    assert!(out.iter().all(|p| p.header.marker));
    // Small packets: every frame larger than 96 bytes is fragmented and reassembled.
    let out = round_trip(&frames, 100);
    assert!(out.len() > frames.len());
    let raw = Bytes::from(media("aac_frame"));
    let out = round_trip(std::slice::from_ref(&raw), 64);
    assert_eq!(out.len(), raw.len().div_ceil(60));
    assert!(out.iter().all(|p| p.header.timestamp == 5000));
    assert_eq!(out.iter().filter(|p| p.header.marker).count(), 1);
}

#[test]
fn bunny_capture_depacketizes() {
    let packets: Vec<RtpPacket> = interleaved(&media("bunny.rtsp"))
        .into_iter()
        .filter(|(c, _)| *c == 0)
        .map(|(_, p)| p)
        .collect();
    assert_eq!(packets.len(), 102);
    let mut d = Mpeg4AudioDepacketizer::from_fmtp(
        "profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1490",
    )
    .unwrap();
    assert_eq!(
        d.params().config.as_ref().map(|c| c.sample_rate),
        Some(12000)
    );
    let mut frames = Vec::new();
    for group in group_by_marker(&packets) {
        let au = depacketize(&mut d, &group).expect("AUs");
        assert!(au.key);
        frames.extend(au.data);
    }
    assert!(frames.len() >= packets.len());
    round_trip(&frames, 1400);
}

/// An AAC-hbr payload announcing `sizes` and carrying `data`.
fn hbr_payload(sizes: &[usize], data: &[u8]) -> Vec<u8> {
    let mut w = BitWriter::new();
    w.write_bits(16 * sizes.len() as u64, 16);
    for &s in sizes {
        w.write_bits(s as u64, 13);
        w.write_bits(0, 3);
    }
    let mut p = w.into_bytes();
    p.extend_from_slice(data);
    p
}

#[test]
fn multi_au_packet_is_zero_copy() {
    let p = packet(1, true, &hbr_payload(&[2, 3, 1], &[1, 1, 2, 2, 2, 3]));
    let mut d = Mpeg4AudioDepacketizer::new(Mpeg4AudioParams::default());
    d.push(&p).unwrap();
    let au = d.finish().unwrap();
    let expected: [&[u8]; 3] = [&[1, 1], &[2, 2, 2], &[3]];
    assert_eq!(au.data.iter().map(|b| &b[..]).collect::<Vec<_>>(), expected);
    let raw = p.raw.as_ptr() as usize..p.raw.as_ptr() as usize + p.raw.len();
    assert!(au.data.iter().all(|b| raw.contains(&(b.as_ptr() as usize))));
    // Sizes beyond the data, or a header section beyond the payload.
    assert_eq!(
        d.push(&packet(2, true, &hbr_payload(&[2, 3], &[1, 1, 2]))),
        Err(CodecError::Truncated)
    );
    assert_eq!(
        d.push(&packet(3, true, &[0, 32, 0])),
        Err(CodecError::Truncated)
    );
    assert_eq!(d.push(&packet(4, true, &[0])), Err(CodecError::Truncated));
    assert_eq!(d.finish(), None);
}

#[test]
fn fragmented_au() {
    let whole: Vec<u8> = (0..10).collect();
    let frag = |seq, marker, piece: &[u8]| packet(seq, marker, &hbr_payload(&[10], piece));
    let mut d = Mpeg4AudioDepacketizer::new(Mpeg4AudioParams::default());
    d.push(&frag(7, false, &whole[..4])).unwrap();
    d.push(&frag(8, false, &whole[4..8])).unwrap();
    d.push(&frag(9, true, &whole[8..])).unwrap();
    assert_eq!(
        d.finish().unwrap().data.to_vec(),
        vec![Bytes::from(whole.clone())]
    );
    // A lost middle fragment drops the AU.
    d.push(&frag(7, false, &whole[..4])).unwrap();
    assert_eq!(
        d.push(&frag(9, true, &whole[8..])),
        Err(CodecError::FragmentLost)
    );
    assert_eq!(d.finish(), None);
    // A fragment that does not end before another AU arrives: that AU is kept.
    d.push(&frag(1, false, &whole[..4])).unwrap();
    assert_eq!(
        d.push(&packet(2, true, &hbr_payload(&[1], &[42]))),
        Err(CodecError::FragmentLost)
    );
    assert_eq!(
        d.finish().unwrap().data.to_vec(),
        vec![Bytes::from_static(&[42])]
    );
    // Fragments exceeding the announced size.
    d.push(&frag(1, false, &whole[..8])).unwrap();
    assert!(matches!(
        d.push(&frag(2, true, &whole[..8])),
        Err(CodecError::Invalid(_))
    ));
    assert_eq!(d.finish(), None);
}

#[test]
fn generic_layouts() {
    // sizeLength 6, indexLength 2, indexDeltaLength 2, CTS-flag + 4-bit delta, RAP-flag, and an
    // 8-bit auxiliary section of 16 bits.
    let params = Mpeg4AudioParams {
        size_length: 6,
        index_length: 2,
        index_delta_length: 2,
        cts_delta_length: 4,
        random_access_indication: true,
        auxiliary_data_size_length: 8,
        ..Mpeg4AudioParams::default()
    };
    let mut w = BitWriter::new();
    w.write_bits(0, 16); // AU-headers-length, filled below
    w.write_bits(2, 6); // AU 1: size 2
    w.write_bits(0, 2);
    w.write_bit(false); // no CTS
    w.write_bit(true); // RAP
    w.write_bits(3, 6); // AU 2: size 3
    w.write_bits(0, 2);
    w.write_bit(true); // CTS-flag
    w.write_bits(5, 4);
    w.write_bit(false);
    let mut p = w.into_bytes();
    let header_bits: u16 = 10 + 14;
    p[..2].copy_from_slice(&header_bits.to_be_bytes());
    p.extend_from_slice(&[16, 0xee, 0xee]); // auxiliary-data-size 16, 2 bytes of auxiliary data
    p.extend_from_slice(&[1, 1, 2, 2, 2]);
    let mut d = Mpeg4AudioDepacketizer::new(params);
    d.push(&packet(1, true, &p)).unwrap();
    let expected: [&[u8]; 2] = [&[1, 1], &[2, 2, 2]];
    assert_eq!(
        d.finish()
            .unwrap()
            .data
            .iter()
            .map(|b| &b[..])
            .collect::<Vec<_>>(),
        expected
    );
    // No AU header fields at all: one AU per packet, the marker ends fragmented ones.
    let params = Mpeg4AudioParams {
        size_length: 0,
        index_length: 0,
        index_delta_length: 0,
        ..Mpeg4AudioParams::default()
    };
    let mut d = Mpeg4AudioDepacketizer::new(params);
    d.push(&packet(1, true, &[9, 9])).unwrap();
    d.push(&packet(2, false, &[1])).unwrap();
    d.push(&packet(3, true, &[2])).unwrap();
    assert_eq!(
        d.finish().unwrap().data.to_vec(),
        vec![Bytes::from_static(&[9, 9]), Bytes::from_static(&[1, 2])]
    );
}

fn arb_params() -> impl Strategy<Value = Mpeg4AudioParams> {
    (
        0u8..17,
        0u8..5,
        0u8..5,
        0u8..5,
        0u8..5,
        any::<bool>(),
        0u8..3,
        0u8..9,
    )
        .prop_map(
            |(size, index, delta, cts, dts, rap, state, aux)| Mpeg4AudioParams {
                config: None,
                size_length: size,
                index_length: index,
                index_delta_length: delta,
                cts_delta_length: cts,
                dts_delta_length: dts,
                random_access_indication: rap,
                stream_state_indication: state,
                auxiliary_data_size_length: aux,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn packetize_depacketize_round_trip(
        frames in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..3000), 1..6),
        mtu in 5usize..1600,
    ) {
        let frames: Vec<Bytes> = frames.into_iter().map(Bytes::from).collect();
        let au = AccessUnit { key: true, data: SmallVec::from_vec(frames.clone()) };
        let mut p = Mpeg4AudioPacketizer::new(97, Ssrc(1), SeqNo(65535), mtu);
        let mut out = Vec::new();
        p.packetize(&au, 0, &mut out);
        let mut d = Mpeg4AudioDepacketizer::new(Mpeg4AudioParams::default());
        let mut back = Vec::new();
        for group in group_by_marker(&out) {
            for pk in &group {
                d.push(pk).unwrap();
            }
            back.extend(d.finish().unwrap().data);
        }
        prop_assert_eq!(back, frames);
    }

    #[test]
    fn arbitrary_payloads_never_panic(
        params in arb_params(),
        payloads in proptest::collection::vec(
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..48)),
            0..10,
        ),
    ) {
        let mut d = Mpeg4AudioDepacketizer::new(params);
        for (i, (marker, payload)) in payloads.iter().enumerate() {
            let _ = d.push(&packet(i as u16, *marker, payload));
            if *marker {
                let _ = d.finish();
            }
        }
        let _ = d.finish();
    }

    #[test]
    fn config_parser_never_panics(
        data in proptest::collection::vec(any::<u8>(), 0..16),
        fmtp in ".{0,40}",
    ) {
        let _ = AudioSpecificConfig::parse(&data);
        let _ = Mpeg4AudioParams::from_fmtp(&fmtp);
        let _ = AudioSpecificConfig::from_fmtp(&fmtp);
    }
}
