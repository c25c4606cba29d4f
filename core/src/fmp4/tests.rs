//! fMP4 tests: byte-exact boxes, and an independent parser (`mp4-atom`) reading the init
//! segment and fragments.

use super::init::{write_mvhd, write_tkhd, write_trex};
use super::*;
use crate::codec::CodecKind;
use crate::mpegts::test_support::{
    annexb_nalus, description, find_nalu, h264_fmtp, h265_fmtp, TestTrack,
};
use bytes::Bytes;
use mp4_atom::{Any, Codec, Decode, Moof, Moov};
use smallvec::smallvec;

#[test]
fn mvhd_tkhd_trex_are_byte_exact() {
    let matrix: Vec<u8> = [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();

    let mut buf = Vec::new();
    write_mvhd(&mut buf, 3);
    let mut expected = [
        &[0, 0, 0, 108][..],
        b"mvhd",
        &[0; 4],
        &[0; 8],
        &[0, 0, 0x03, 0xE8],
        &[0; 4],
    ]
    .concat();
    expected.extend_from_slice(&[0, 1, 0, 0, 1, 0]);
    expected.extend_from_slice(&[0; 10]);
    expected.extend_from_slice(&matrix);
    expected.extend_from_slice(&[0; 24]);
    expected.extend_from_slice(&[0, 0, 0, 3]);
    assert_eq!(buf, expected);

    let mut buf = Vec::new();
    write_tkhd(&mut buf, 1, false, 1920, 1080);
    let mut expected = [
        &[0, 0, 0, 92][..],
        b"tkhd",
        &[0, 0, 0, 3],
        &[0; 8],
        &[0, 0, 0, 1],
        &[0; 8],
        &[0; 8],
    ]
    .concat();
    expected.extend_from_slice(&[0; 8]); // layer, alternate_group, volume 0 (video), reserved
    expected.extend_from_slice(&matrix);
    expected.extend_from_slice(&[0x07, 0x80, 0, 0, 0x04, 0x38, 0, 0]);
    assert_eq!(buf, expected);
    let mut audio = Vec::new();
    write_tkhd(&mut audio, 2, true, 0, 0);
    assert_eq!(&audio[44..46], &[1, 0]); // volume 1.0

    let mut buf = Vec::new();
    write_trex(&mut buf, 2);
    let expected = [
        &[0, 0, 0, 32][..],
        b"trex",
        &[0; 4],
        &[0, 0, 0, 2],
        &[0, 0, 0, 1],
        &[0; 12],
    ]
    .concat();
    assert_eq!(buf, expected);
}

fn sample(dts: i64, pts: i64, duration: u32, key: bool, data: &[&'static [u8]]) -> Sample {
    Sample {
        dts,
        pts,
        duration,
        key,
        data: data.iter().map(|d| Bytes::from_static(d)).collect(),
    }
}

fn video_writer() -> FragmentWriter {
    FragmentWriter::new(vec![Fmp4Track {
        track_id: 1,
        track: 0,
        codec: CodecKind::H264,
        timescale: 90_000,
        frame_duration: 0,
    }])
}

#[test]
fn tiny_moof_is_byte_exact() {
    let mut w = video_writer();
    let samples = [
        sample(1000, 2000, 1000, true, &[&[0x65, 1, 2]]),
        sample(2000, 1500, 1000, false, &[&[0x41, 9], &[]]),
    ];
    let mut out = FragmentOut::default();
    w.write_fragment(7, &[(1, &samples)], &mut out).unwrap();
    #[rustfmt::skip]
    let expected: Vec<u8> = [
        &[0, 0, 0, 0x78][..], b"moof",
        &[0, 0, 0, 0x10], b"mfhd", &[0, 0, 0, 0], &[0, 0, 0, 7],
        &[0, 0, 0, 0x60], b"traf",
        &[0, 0, 0, 0x10], b"tfhd", &[0, 0x02, 0, 0], &[0, 0, 0, 1],
        &[0, 0, 0, 0x14], b"tfdt", &[1, 0, 0, 0], &[0, 0, 0, 0, 0, 0, 0x03, 0xE8],
        &[0, 0, 0, 0x34], b"trun", &[1, 0, 0x0F, 0x01], &[0, 0, 0, 2], &[0, 0, 0, 0x80],
        &[0, 0, 0x03, 0xE8], &[0, 0, 0, 7], &[0x02, 0, 0, 0], &[0, 0, 0x03, 0xE8],
        &[0, 0, 0x03, 0xE8], &[0, 0, 0, 6], &[0x01, 0x01, 0, 0], &[0xFF, 0xFF, 0xFE, 0x0C],
        &[0, 0, 0, 0x15], b"mdat", &[0, 0, 0, 3, 0x65, 1, 2], &[0, 0, 0, 2, 0x41, 9],
    ]
    .concat();
    assert_eq!(out.to_vec(), expected);
    assert_eq!(out.len, expected.len());
    assert_eq!(
        out.chunks.len(),
        1,
        "small pieces are copied next to the headers"
    );

    // An independent parser agrees.
    let moof = Moof::decode(&mut &expected[..0x78]).unwrap();
    assert_eq!(moof.mfhd.sequence_number, 7);
    let traf = &moof.traf[0];
    assert!(traf.tfhd.default_base_is_moof);
    assert_eq!(traf.tfdt.as_ref().unwrap().base_media_decode_time, 1000);
    let trun = &traf.trun[0];
    assert_eq!(trun.data_offset, Some(0x80));
    let entries: Vec<_> = trun
        .samples
        .iter()
        .map(|e| (e.duration, e.size, e.flags, e.cts))
        .collect();
    assert_eq!(
        entries,
        [
            (Some(1000), Some(7), Some(SAMPLE_FLAGS_SYNC), Some(1000)),
            (Some(1000), Some(6), Some(SAMPLE_FLAGS_NON_SYNC), Some(-500)),
        ]
    );
}

#[test]
fn large_payloads_are_referenced_not_copied() {
    let mut w = video_writer();
    let big = Bytes::from(vec![0x65u8; 5000]);
    let s = Sample {
        dts: 0,
        pts: 0,
        duration: 3000,
        key: true,
        data: smallvec![
            Bytes::from_static(&[0x06, 5]),
            big.clone(),
            Bytes::from_static(&[0x0C, 1])
        ],
    };
    let mut out = FragmentOut::default();
    w.write_fragment(1, &[(1, std::slice::from_ref(&s))], &mut out)
        .unwrap();
    assert_eq!(out.chunks.len(), 3);
    assert_eq!(out.chunks[1].as_ptr(), big.as_ptr());
    let v = out.to_vec();
    assert_eq!(v.len(), out.len);
    let mdat = v.len() - (4 + 2 + 4 + 5000 + 4 + 2) - 8;
    assert_eq!(&v[mdat + 4..mdat + 8], b"mdat");
    assert_eq!(&v[v.len() - 6..], &[0, 0, 0, 2, 0x0C, 1]);
    // Appending: a second fragment follows the first.
    w.write_fragment(2, &[(1, std::slice::from_ref(&s))], &mut out)
        .unwrap();
    assert_eq!(out.len, 2 * v.len());
    out.clear();
    assert_eq!((out.len, out.chunks.len()), (0, 0));
}

#[test]
fn fragment_errors() {
    let mut w = video_writer();
    let mut out = FragmentOut::default();
    let s = [sample(-1, 0, 1, true, &[&[0x65]])];
    assert_eq!(
        w.write_fragment(1, &[(1, &s)], &mut out),
        Err(MuxError::NegativeTimestamp { track_id: 1 })
    );
    assert_eq!(
        w.write_fragment(1, &[(9, &s)], &mut out),
        Err(MuxError::UnknownTrack(9))
    );
    let s = [sample(0, i64::from(i32::MAX) + 1, 1, true, &[&[0x65]])];
    assert_eq!(
        w.write_fragment(1, &[(1, &s)], &mut out),
        Err(MuxError::TimestampOutOfRange { track_id: 1 })
    );
    let s = [
        sample(0, i64::MAX, 1, true, &[&[0x65]]),
        sample(i64::MIN, 0, u32::MAX, true, &[]),
    ];
    assert!(w.write_fragment(1, &[(1, &s)], &mut out).is_err());
    // Nothing to write.
    w.write_fragment(1, &[(1, &[])], &mut out).unwrap();
    w.write_fragment(1, &[], &mut out).unwrap();
    assert_eq!((out.len, out.chunks.len()), (0, 0));
}

/// H.264 + AAC + H.265 + Opus (+ a G.711 track that fMP4 leaves out here).
fn four_tracks() -> crate::media::StreamDescription {
    let h264 = annexb_nalus("4pics.264");
    let h265 = annexb_nalus("hevc.265");
    description(&[
        TestTrack {
            kind: "video",
            rtpmap: "H264/90000",
            fmtp: Some(h264_fmtp(&h264)),
        },
        TestTrack {
            kind: "audio",
            rtpmap: "PCMU/8000",
            fmtp: None,
        },
        TestTrack {
            kind: "audio",
            rtpmap: "mpeg4-generic/44100/2",
            fmtp: Some("mode=AAC-hbr; config=1210".into()),
        },
        TestTrack {
            kind: "video",
            rtpmap: "H265/90000",
            fmtp: Some(h265_fmtp(&h265)),
        },
        TestTrack {
            kind: "audio",
            rtpmap: "opus/48000/2",
            fmtp: None,
        },
    ])
}

#[test]
fn init_segment_read_by_mp4_atom() {
    let desc = four_tracks();
    let (init, tracks) = init_segment(&desc).unwrap();
    let ids: Vec<(u32, usize, u32)> = tracks
        .iter()
        .map(|t| (t.track_id, t.track, t.timescale))
        .collect();
    assert_eq!(
        ids,
        [
            (1, 0, 90_000),
            (2, 2, 44_100),
            (3, 3, 90_000),
            (4, 4, 48_000)
        ]
    );

    let mut input = &init[..];
    let ftyp = match Any::decode(&mut input).unwrap() {
        Any::Ftyp(f) => f,
        other => panic!("expected ftyp, got {other:?}"),
    };
    assert_eq!(ftyp.major_brand, b"iso5".into());
    assert!(ftyp.compatible_brands.contains(&b"cmfc".into()));
    let moov = Moov::decode(&mut input).unwrap();
    assert!(input.is_empty());
    assert_eq!(moov.mvhd.next_track_id, 5);
    assert_eq!(moov.trak.len(), 4);
    let trex: Vec<u32> = moov
        .mvex
        .as_ref()
        .unwrap()
        .trex
        .iter()
        .map(|t| t.track_id)
        .collect();
    assert_eq!(trex, [1, 2, 3, 4]);

    let h264 = annexb_nalus("4pics.264");
    let h265 = annexb_nalus("hevc.265");
    for (trak, t) in moov.trak.iter().zip(&tracks) {
        assert_eq!(trak.tkhd.track_id, t.track_id);
        assert_eq!(trak.mdia.mdhd.timescale, t.timescale);
        let codecs = &trak.mdia.minf.stbl.stsd.codecs;
        assert_eq!(codecs.len(), 1);
        match (&codecs[0], t.codec) {
            (Codec::Avc1(avc1), CodecKind::H264) => {
                assert_eq!((avc1.visual.width, avc1.visual.height), (1920, 1080));
                assert_eq!(avc1.avcc.length_size, 4);
                assert_eq!(
                    avc1.avcc.sequence_parameter_sets,
                    [find_nalu(&h264, false, 7).unwrap().to_vec()]
                );
                assert_eq!(
                    avc1.avcc.picture_parameter_sets,
                    [find_nalu(&h264, false, 8).unwrap().to_vec()]
                );
                let ext = avc1.avcc.ext.as_ref().expect("High profile extension");
                assert_eq!(
                    (ext.chroma_format, ext.bit_depth_luma, ext.bit_depth_chroma),
                    (1, 8, 8)
                );
                assert_eq!(trak.mdia.hdlr.handler, b"vide".into());
            }
            (Codec::Hvc1(hvc1), CodecKind::H265) => {
                assert_eq!((hvc1.visual.width, hvc1.visual.height), (1920, 1080));
                let c = &hvc1.hvcc;
                assert_eq!(
                    (
                        c.general_profile_idc,
                        c.chroma_format_idc,
                        c.length_size_minus_one
                    ),
                    (1, 1, 3)
                );
                let arrays: Vec<(u8, Vec<Vec<u8>>)> = c
                    .arrays
                    .iter()
                    .map(|a| (a.nal_unit_type, a.nalus.clone()))
                    .collect();
                let expect: Vec<(u8, Vec<Vec<u8>>)> = [32, 33, 34]
                    .iter()
                    .map(|&t| (t, vec![find_nalu(&h265, true, t).unwrap().to_vec()]))
                    .collect();
                assert_eq!(arrays, expect);
            }
            (Codec::Mp4a(mp4a), CodecKind::Mpeg4Audio) => {
                assert_eq!(mp4a.audio.channel_count, 2);
                assert_eq!(mp4a.audio.sample_rate.integer(), 44_100);
                let dc = &mp4a.esds.es_desc.dec_config;
                assert_eq!((dc.object_type_indication, dc.stream_type), (0x40, 5));
                let ds = dc.dec_specific.as_ref().unwrap();
                assert_eq!((ds.profile, ds.freq_index, ds.chan_conf), (2, 4, 2));
                assert_eq!(trak.mdia.hdlr.handler, b"soun".into());
            }
            (Codec::Opus(opus), CodecKind::Opus) => {
                assert_eq!(opus.dops.output_channel_count, 2);
                assert_eq!(opus.dops.input_sample_rate, 48_000);
                assert_eq!(opus.audio.sample_rate.integer(), 48_000);
            }
            (c, k) => panic!("unexpected sample entry {c:?} for {k:?}"),
        }
    }
}

#[test]
fn init_segment_errors() {
    let only_g711 = description(&[TestTrack {
        kind: "audio",
        rtpmap: "PCMA/8000",
        fmtp: None,
    }]);
    assert_eq!(init_segment(&only_g711).unwrap_err(), MuxError::NoTracks);
    let no_sets = description(&[TestTrack {
        kind: "video",
        rtpmap: "H264/90000",
        fmtp: Some("packetization-mode=1".into()),
    }]);
    assert_eq!(
        init_segment(&no_sets).unwrap_err(),
        MuxError::MissingParameterSets { track: 0 }
    );
    let no_fmtp = description(&[TestTrack {
        kind: "video",
        rtpmap: "H265/90000",
        fmtp: None,
    }]);
    assert_eq!(
        init_segment(&no_fmtp).unwrap_err(),
        MuxError::MissingParameterSets { track: 0 }
    );
    let bad_sps = description(&[TestTrack {
        kind: "video",
        rtpmap: "H264/90000",
        fmtp: Some("sprop-parameter-sets=Z0IA,aMuMsg==".into()),
    }]);
    assert!(matches!(
        init_segment(&bad_sps).unwrap_err(),
        MuxError::InvalidConfig { track: 0, .. }
    ));
    let no_config = description(&[TestTrack {
        kind: "audio",
        rtpmap: "mpeg4-generic/48000/2",
        fmtp: None,
    }]);
    assert_eq!(
        init_segment(&no_config).unwrap_err(),
        MuxError::MissingConfig { track: 0 }
    );
    let opus6 = description(&[TestTrack {
        kind: "audio",
        rtpmap: "opus/48000/6",
        fmtp: None,
    }]);
    assert!(matches!(
        init_segment(&opus6).unwrap_err(),
        MuxError::InvalidConfig { track: 0, .. }
    ));
}

#[test]
fn units_become_samples() {
    let (_, tracks) = init_segment(&four_tracks()).unwrap();
    let unit = |track, payload: &[Bytes]| {
        crate::mpegts::test_support::unit(track, 1000, 900, true, payload)
    };
    let mut out = Vec::new();
    // Video: one sample, the NAL units shared.
    let nal = Bytes::from(vec![0x65; 100]);
    tracks[0].push_samples(&unit(0, &[nal.clone(), Bytes::new()]), &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].dts, out[0].pts, out[0].duration, out[0].key),
        (900, 1000, 0, true)
    );
    assert_eq!(out[0].data[0].as_ptr(), nal.as_ptr());
    tracks[0].push_samples(&unit(0, &[Bytes::new()]), &mut out);
    assert_eq!(out.len(), 1);
    // AAC: one sample per access unit, 1024 samples apart.
    out.clear();
    let au = Bytes::from_static(&[0x21, 0x10, 4]);
    tracks[1].push_samples(&unit(2, &[au.clone(), Bytes::new(), au.clone()]), &mut out);
    let t: Vec<(i64, i64, u32)> = out.iter().map(|s| (s.dts, s.pts, s.duration)).collect();
    assert_eq!(t, [(900, 1000, 1024), (1924, 2024, 1024)]);
    // Opus: the packet duration from the TOC (config 31, code 0: 20 ms).
    out.clear();
    tracks[3].push_samples(
        &unit(
            4,
            &[
                Bytes::from_static(&[0xF8, 1]),
                Bytes::from_static(&[0xF9, 1]),
            ],
        ),
        &mut out,
    );
    let t: Vec<(i64, u32)> = out.iter().map(|s| (s.dts, s.duration)).collect();
    assert_eq!(t, [(900, 960), (1860, 1920)]);
}
