//! Codec workloads: H.264 depacketizing (single NAL unit and FU-A), H.264 and H.265 packetizing
//! of a 50 KB key frame, AAC depacketizing of multi-AU packets.

use crate::{data, Runner, Throughput};
use bytes::Bytes;
use std::hint::black_box;
use weir_core::codec::annexb::split_annexb;
use weir_core::codec::{
    h264, h265, new_depacketizer, AccessUnit, CodecKind, Depacketizer, Packetizer,
};
use weir_core::media::StreamDescription;
use weir_core::rtp::{RtpPacket, SeqNo, Ssrc};

/// Size of the synthetic key-frame NAL unit the packetize workloads split (header included).
pub const KEY_FRAME_NALU_LEN: usize = 50_000;

/// The payload budget per packet of the packetize workloads.
pub const MTU_PAYLOAD: usize = 1400;

/// Depacketizes `units` one access unit at a time (push every packet, then finish).
fn depacketize_all(d: &mut dyn Depacketizer, units: &[Vec<RtpPacket>]) {
    for unit in units {
        for p in unit {
            let _ = black_box(d.push(black_box(p)));
        }
        black_box(d.finish());
    }
}

/// Registers one depacketize workload over `units`, per packet.
fn depacketize<R: Runner>(
    r: &mut R,
    name: &str,
    codec: CodecKind,
    fmtp: Option<&str>,
    units: &[Vec<RtpPacket>],
) {
    let mut d = new_depacketizer(codec, fmtp, None).expect("codec has a depacketizer");
    for unit in units {
        for p in unit {
            d.push(p).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert!(d.finish().is_some_and(|au| !au.data.is_empty()), "{name}");
    }
    let packets: usize = units.iter().map(Vec::len).sum();
    r.run(name, Throughput::Elements(packets as u64), || {
        depacketize_all(d.as_mut(), units)
    });
}

/// A key frame of `nalu_len` bytes: the parameter sets `params`, then one coded slice whose
/// header is `slice_header` and whose body is filler.
fn key_frame(params: Vec<Bytes>, slice_header: &[u8], nalu_len: usize) -> AccessUnit {
    let mut slice = slice_header.to_vec();
    slice.extend_from_slice(&data::filler(nalu_len - slice_header.len(), 7));
    let mut au = AccessUnit {
        key: true,
        data: params.into_iter().collect(),
    };
    au.data.push(Bytes::from(slice));
    au
}

/// The first NAL unit of each of `types` (in that order) in an Annex-B file, `type_of` reading
/// a NAL unit's type.
fn parameter_sets(file: &str, type_of: fn(&[u8]) -> u8, types: &[u8]) -> Vec<Bytes> {
    let stream = data::read(file);
    types
        .iter()
        .map(|&t| {
            let nalu = split_annexb(&stream)
                .find(|n| type_of(n) == t)
                .unwrap_or_else(|| panic!("{file} has no NAL unit of type {t}"));
            Bytes::copy_from_slice(nalu)
        })
        .collect()
}

/// Registers one packetize workload of `au`.
fn packetize<R: Runner>(r: &mut R, name: &str, mut p: impl Packetizer, au: &AccessUnit) {
    let bytes: usize = au.data.iter().map(Bytes::len).sum();
    let mut out = Vec::with_capacity(64);
    r.run(name, Throughput::Bytes(bytes as u64), || {
        out.clear();
        p.packetize(black_box(au), 90_000, &mut out);
        black_box(&out);
    });
}

/// Hands the codec workloads to `r`.
pub fn workloads<R: Runner>(r: &mut R) {
    let video = data::group_units(&data::bunny_packets(data::BUNNY_H264_CHANNEL));
    let (key, single): (Vec<_>, Vec<_>) = video.into_iter().partition(|u| {
        u.iter()
            .any(|p| h264::nalu_type(p.payload()) == h264::NAL_FU_A)
    });
    let single: Vec<_> = single
        .into_iter()
        .filter(|u| u.len() == 1 && h264::nalu_type(u[0].payload()) == h264::NAL_SLICE)
        .collect();
    depacketize(
        r,
        "codec/h264_depacketize_single_nal",
        CodecKind::H264,
        None,
        &single,
    );
    depacketize(r, "codec/h264_depacketize_fua", CodecKind::H264, None, &key);

    let desc = StreamDescription::from_sdp(&data::bunny_sdp()).expect("bunny SDP parses");
    let aac = &desc.tracks[0];
    assert_eq!(aac.codec, CodecKind::Mpeg4Audio);
    let multi_au: Vec<Vec<RtpPacket>> = data::bunny_packets(data::BUNNY_AAC_CHANNEL)
        .into_iter()
        // The AU-headers-length field (bits) over 16 bits per AAC-hbr header: AUs per packet.
        .filter(|p| u16::from_be_bytes([p.payload()[0], p.payload()[1]]) / 16 >= 2)
        .map(|p| vec![p])
        .collect();
    assert!(!multi_au.is_empty(), "bunny has multi-AU AAC packets");
    depacketize(
        r,
        "codec/aac_depacketize_multi_au",
        CodecKind::Mpeg4Audio,
        aac.fmtp.as_deref(),
        &multi_au,
    );

    let h264_params = parameter_sets(
        "media/4pics.264",
        h264::nalu_type,
        &[h264::NAL_SPS, h264::NAL_PPS],
    );
    let au = key_frame(h264_params, &[0x65, 0x88], KEY_FRAME_NALU_LEN);
    let p = h264::H264Packetizer::new(96, Ssrc(0x1234_5678), SeqNo(1), MTU_PAYLOAD);
    packetize(r, "codec/h264_packetize_key_50k", p, &au);

    let h265_params = parameter_sets(
        "media/wilson_raw.h265",
        h265::nalu_type,
        &[h265::NAL_VPS, h265::NAL_SPS, h265::NAL_PPS],
    );
    let au = key_frame(
        h265_params,
        &[h265::NAL_IDR_N_LP << 1, 0x01, 0xaf],
        KEY_FRAME_NALU_LEN,
    );
    let p = h265::H265Packetizer::new(96, Ssrc(0x1234_5678), SeqNo(1), MTU_PAYLOAD);
    packetize(r, "codec/h265_packetize_key_50k", p, &au);
}
