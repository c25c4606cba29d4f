//! TS muxer tests: an independent parser (the `mpeg2ts` crate) reads what the muxer writes.

use super::test_support::{annexb_nalus, description, h264_fmtp, media, unit, TestTrack};
use super::*;
use bytes::Bytes;
use mpeg2ts::es::StreamType;
use mpeg2ts::pes::{PesPacketReader, ReadPesPacket};
use mpeg2ts::ts::{ReadTsPacket, TsPacket, TsPacketReader, TsPayload};
use std::collections::HashMap;

/// H.264 (parameter sets of 4pics.264 in the fmtp) + AAC LC 44.1 kHz stereo.
fn h264_aac() -> (crate::media::StreamDescription, Vec<Bytes>) {
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
            fmtp: Some("streamtype=5; profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1210".into()),
        },
    ]);
    (desc, nalus)
}

fn read_ts(data: &[u8]) -> Vec<TsPacket> {
    let mut r = TsPacketReader::new(data);
    let mut packets = Vec::new();
    while let Some(p) = r.read_ts_packet().expect("mpeg2ts reads the stream") {
        packets.push(p);
    }
    packets
}

#[test]
fn pat_pmt_and_pes_read_back() {
    let (desc, nalus) = h264_aac();
    let mut mux = TsMuxer::new(&desc).unwrap();
    assert_eq!(
        (mux.pid(0), mux.pid(1), mux.pid(2)),
        (Some(0x100), Some(0x101), None)
    );
    assert_eq!(mux.pcr_pid(), 0x100);
    let idr: Vec<Bytes> = nalus
        .iter()
        .filter(|n| crate::codec::h264::nalu_type(n) == 5)
        .cloned()
        .collect();
    let aac = Bytes::from(media("aac_frame"));
    let mut out = Vec::new();
    mux.write_unit(&unit(0, 90_000 + 3600, 90_000, true, &idr), &mut out)
        .unwrap();
    mux.write_unit(
        &unit(1, 44_100, 44_100, true, &[aac.clone(), aac.clone()]),
        &mut out,
    )
    .unwrap();
    mux.write_unit(
        &unit(
            0,
            90_000 + 7200,
            90_000 + 3600,
            false,
            &[Bytes::from_static(&[0x41, 0x9a, 1, 2])],
        ),
        &mut out,
    )
    .unwrap();
    assert_eq!(out.len() % PACKET_SIZE, 0);

    let packets = read_ts(&out);
    // PAT, PMT first.
    match &packets[0].payload {
        Some(TsPayload::Pat(pat)) => {
            assert_eq!(pat.table.len(), 1);
            assert_eq!(pat.table[0].program_num, 1);
            assert_eq!(pat.table[0].program_map_pid.as_u16(), PMT_PID);
        }
        other => panic!("expected PAT, got {other:?}"),
    }
    match &packets[1].payload {
        Some(TsPayload::Pmt(pmt)) => {
            assert_eq!(pmt.program_num, 1);
            assert_eq!(pmt.pcr_pid.map(|p| p.as_u16()), Some(0x100));
            let es: Vec<(StreamType, u16)> = pmt
                .es_info
                .iter()
                .map(|e| (e.stream_type, e.elementary_pid.as_u16()))
                .collect();
            assert_eq!(
                es,
                [(StreamType::H264, 0x100), (StreamType::AdtsAac, 0x101)]
            );
        }
        other => panic!("expected PMT, got {other:?}"),
    }
    // The key frame's first packet: PCR = DTS, random access.
    let first_video = packets
        .iter()
        .find(|p| p.header.pid.as_u16() == 0x100)
        .unwrap();
    let af = first_video.adaptation_field.as_ref().unwrap();
    assert!(af.random_access_indicator);
    assert_eq!(af.pcr.map(|p| p.as_u64()), Some(90_000 * 300));
    // Continuity counters: contiguous per PID from 0.
    let mut cc: HashMap<u16, u8> = HashMap::new();
    for p in &packets {
        let next = cc.entry(p.header.pid.as_u16()).or_insert(0);
        assert_eq!(p.header.continuity_counter.as_u8(), *next, "{:?}", p.header);
        *next = (*next + 1) % 16;
    }

    let mut r = PesPacketReader::new(TsPacketReader::new(&out[..]));
    let mut pes = Vec::new();
    while let Some(p) = r.read_pes_packet().unwrap() {
        pes.push(p);
    }
    assert_eq!(pes.len(), 3);
    let ts = |t: &Option<mpeg2ts::time::Timestamp>| t.map(|t| t.as_u64());
    // Video key frame: AUD, SPS, PPS (from the fmtp), IDR.
    let v = pes
        .iter()
        .find(|p| p.header.stream_id.as_u8() == 0xE0)
        .unwrap();
    assert_eq!(
        (ts(&v.header.pts), ts(&v.header.dts)),
        (Some(93_600), Some(90_000))
    );
    let got: Vec<&[u8]> = crate::codec::annexb::split_annexb(&v.data).collect();
    assert_eq!(got[0], &[0x09, 0xF0]);
    assert_eq!(crate::codec::h264::nalu_type(got[1]), 7);
    assert_eq!(crate::codec::h264::nalu_type(got[2]), 8);
    assert_eq!(got[3..].len(), idr.len());
    // Audio: two ADTS frames, PTS only, 44100 Hz → 90 kHz.
    let a = pes
        .iter()
        .find(|p| p.header.stream_id.as_u8() == 0xC0)
        .unwrap();
    assert_eq!((ts(&a.header.pts), ts(&a.header.dts)), (Some(90_000), None));
    let adts = media("adts");
    assert_eq!(a.data.len(), 2 * (7 + aac.len()));
    assert_eq!(&a.data[..7 + aac.len()], &adts[..7 + aac.len()]);
    // Non-key frame: PTS and DTS, delimiter inserted, no parameter sets.
    let p = pes
        .iter()
        .filter(|p| p.header.stream_id.as_u8() == 0xE0)
        .nth(1)
        .unwrap();
    assert_eq!(
        (ts(&p.header.pts), ts(&p.header.dts)),
        (Some(97_200), Some(93_600))
    );
    assert_eq!(
        &p.data[..],
        &[0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, 0x9a, 1, 2]
    );
}

/// The PIDs of the PAT/PMT packets in `out`, in order.
fn table_positions(out: &[u8]) -> Vec<usize> {
    out.chunks(PACKET_SIZE)
        .enumerate()
        .filter(|(_, p)| {
            let pid = (u16::from(p[1] & 0x1F) << 8) | u16::from(p[2]);
            pid == PAT_PID || pid == PMT_PID
        })
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn tables_repeat_before_video_key_frames_only() {
    let (desc, _) = h264_aac();
    let mut mux = TsMuxer::new(&desc).unwrap();
    let frame = [Bytes::from_static(&[0x65, 0x88, 0x84])];
    let aac = [Bytes::from_static(&[0x21, 0x10])];
    let mut out = Vec::new();
    // An audio unit first: the tables still come first.
    mux.write_unit(&unit(1, 0, 0, true, &aac), &mut out)
        .unwrap();
    assert_eq!(table_positions(&out), [0, 1]);
    mux.write_unit(&unit(0, 0, 0, true, &frame), &mut out)
        .unwrap();
    mux.write_unit(&unit(0, 3600, 3600, false, &frame), &mut out)
        .unwrap();
    mux.write_unit(&unit(1, 1024, 1024, true, &aac), &mut out)
        .unwrap();
    assert_eq!(table_positions(&out), [0, 1, 3, 4]);
    // Explicit tables right before a key frame are not repeated.
    mux.write_tables(&mut out);
    mux.write_unit(&unit(0, 7200, 7200, true, &frame), &mut out)
        .unwrap();
    assert_eq!(table_positions(&out), [0, 1, 3, 4, 8, 9]);

    // Audio only: tables first, then only on request.
    let desc = description(&[TestTrack {
        kind: "audio",
        rtpmap: "mpeg4-generic/48000/2",
        fmtp: Some(
            "mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1190".into(),
        ),
    }]);
    let mut mux = TsMuxer::new(&desc).unwrap();
    let mut out = Vec::new();
    for k in 0..3 {
        mux.write_unit(&unit(0, k * 1024, k * 1024, true, &aac), &mut out)
            .unwrap();
    }
    assert_eq!(table_positions(&out), [0, 1]);
    // The PCR is on the audio PID.
    let p = &read_ts(&out)[2];
    assert_eq!(
        p.adaptation_field
            .as_ref()
            .and_then(|a| a.pcr)
            .map(|p| p.as_u64()),
        Some(0)
    );
    assert_eq!(mux.pcr_pid(), 0x100);
}

#[test]
fn errors_and_ignored_units() {
    let g711 = description(&[TestTrack {
        kind: "audio",
        rtpmap: "PCMU/8000",
        fmtp: None,
    }]);
    assert_eq!(TsMuxer::new(&g711).unwrap_err(), MuxError::NoTracks);
    let no_config = description(&[TestTrack {
        kind: "audio",
        rtpmap: "mpeg4-generic/48000/2",
        fmtp: Some("mode=AAC-hbr".into()),
    }]);
    assert_eq!(
        TsMuxer::new(&no_config).unwrap_err(),
        MuxError::MissingConfig { track: 0 }
    );
    let odd_rate = description(&[TestTrack {
        kind: "audio",
        rtpmap: "mpeg4-generic/12345/2",
        fmtp: Some("mode=AAC-hbr; config=1780181C90".into()),
    }]);
    assert!(matches!(
        TsMuxer::new(&odd_rate).unwrap_err(),
        MuxError::InvalidConfig { track: 0, .. }
    ));
    let opus6 = description(&[TestTrack {
        kind: "audio",
        rtpmap: "opus/48000/6",
        fmtp: None,
    }]);
    assert!(TsMuxer::new(&opus6).is_err());

    let (desc, _) = h264_aac();
    let mut mux = TsMuxer::new(&desc).unwrap();
    let mut out = Vec::new();
    // Unknown track: ignored.
    mux.write_unit(&unit(7, 0, 0, true, &[Bytes::from_static(b"x")]), &mut out)
        .unwrap();
    assert!(out.is_empty());
    // Empty units: typed error, nothing written.
    let empty = [Bytes::new(), Bytes::new()];
    assert_eq!(
        mux.write_unit(&unit(0, 0, 0, true, &empty), &mut out),
        Err(MuxError::EmptyUnit { track: 0 })
    );
    assert_eq!(
        mux.write_unit(&unit(1, 0, 0, true, &[]), &mut out),
        Err(MuxError::EmptyUnit { track: 1 })
    );
    // An AAC access unit larger than an ADTS frame.
    let big = [Bytes::from(vec![0u8; 9000])];
    assert_eq!(
        mux.write_unit(&unit(1, 0, 0, true, &big), &mut out),
        Err(MuxError::UnitTooLarge { track: 1 })
    );
    // Too many AAC access units for one PES packet.
    let many: Vec<Bytes> = (0..12).map(|_| Bytes::from(vec![0u8; 6000])).collect();
    assert_eq!(
        mux.write_unit(&unit(1, 0, 0, true, &many), &mut out),
        Err(MuxError::UnitTooLarge { track: 1 })
    );
    assert!(out.is_empty());
    // A huge video unit is fine (unbounded PES length).
    let huge = [Bytes::from(vec![0x65u8; 100_000])];
    mux.write_unit(&unit(0, 0, 0, true, &huge), &mut out)
        .unwrap();
    let mut r = PesPacketReader::new(TsPacketReader::new(&out[..]));
    let pes = r.read_pes_packet().unwrap().unwrap();
    assert_eq!(
        pes.data.len(),
        6 + 100_000 + 4 + 2 * 4 + desc_params_len(&desc)
    );
}

/// Bytes of the SPS and PPS of the first track's fmtp.
fn desc_params_len(desc: &crate::media::StreamDescription) -> usize {
    let p =
        crate::codec::h264::H264Params::from_fmtp(desc.tracks[0].fmtp.as_deref().unwrap()).unwrap();
    p.sps.unwrap().len() + p.pps.unwrap().len()
}

#[test]
fn opus_descriptors_and_control_header() {
    let desc = description(&[TestTrack {
        kind: "audio",
        rtpmap: "opus/48000/2",
        fmtp: Some("sprop-stereo=1".into()),
    }]);
    let mut mux = TsMuxer::new(&desc).unwrap();
    let mut out = Vec::new();
    let packet = Bytes::from(vec![0xFCu8; 300]);
    mux.write_unit(&unit(0, 48_000, 48_000, true, &[packet.clone()]), &mut out)
        .unwrap();
    let packets = read_ts(&out);
    match &packets[1].payload {
        Some(TsPayload::Pmt(pmt)) => {
            let es = &pmt.es_info[0];
            assert_eq!(es.stream_type, StreamType::Mpeg2PacketizedData);
            assert_eq!(es.descriptors[0].tag, 0x05);
            assert_eq!(es.descriptors[0].data, b"Opus");
            assert_eq!(
                (es.descriptors[1].tag, &es.descriptors[1].data[..]),
                (0x7F, &[0x80, 2][..])
            );
        }
        other => panic!("expected PMT, got {other:?}"),
    }
    let mut r = PesPacketReader::new(TsPacketReader::new(&out[..]));
    let pes = r.read_pes_packet().unwrap().unwrap();
    assert_eq!(pes.header.stream_id.as_u8(), 0xBD);
    assert_eq!(pes.header.pts.map(|t| t.as_u64()), Some(90_000));
    // Prefix 0x3FF, flags 0, au_size 300 = 255 + 45.
    assert_eq!(&pes.data[..4], &[0x7F, 0xE0, 0xFF, 45]);
    assert_eq!(&pes.data[4..], &packet[..]);
}
