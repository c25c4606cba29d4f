//! Property tests: whatever units a publisher sends, the muxer never panics and its output is
//! a well-formed transport stream.

use super::test_support::{description, unit, TestTrack};
use super::*;
use bytes::Bytes;
use mpeg2ts::pes::{PesPacketReader, ReadPesPacket};
use mpeg2ts::ts::{ReadTsPacket, TsPacketReader};
use proptest::prelude::*;
use std::collections::HashMap;

fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -10i64..10,
        ((1i64 << 33) - 5)..((1i64 << 33) + 5),
        i64::MIN..(i64::MIN + 3),
        (i64::MAX - 3)..=i64::MAX,
    ]
}

fn payload() -> impl Strategy<Value = Vec<Vec<u8>>> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::collection::vec(any::<u8>(), 0..400),
            1 => proptest::collection::vec(any::<u8>(), 0..10_000),
        ],
        0..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn arbitrary_units_make_a_valid_stream(
        units in proptest::collection::vec(
            (0usize..6, timestamp(), timestamp(), any::<bool>(), payload()),
            0..24,
        ),
        tables_at in proptest::collection::vec(any::<bool>(), 24),
    ) {
        let desc = description(&[
            TestTrack { kind: "video", rtpmap: "H264/90000", fmtp: Some("packetization-mode=1; sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==".into()) },
            TestTrack { kind: "audio", rtpmap: "mpeg4-generic/48000/2", fmtp: Some("mode=AAC-hbr; config=1190".into()) },
            TestTrack { kind: "video", rtpmap: "H265/90000", fmtp: None },
            TestTrack { kind: "audio", rtpmap: "opus/48000/2", fmtp: None },
            TestTrack { kind: "audio", rtpmap: "PCMA/8000", fmtp: None },
        ]);
        let mut mux = TsMuxer::new(&desc).unwrap();
        let mut out = Vec::new();
        let mut written = 0;
        for (i, (track, pts, dts, key, pieces)) in units.iter().enumerate() {
            if tables_at[i] {
                mux.write_tables(&mut out);
            }
            let pieces: Vec<Bytes> = pieces.iter().cloned().map(Bytes::from).collect();
            let before = out.len();
            let r = mux.write_unit(&unit(*track, *pts, *dts, *key, &pieces), &mut out);
            if r.is_err() {
                prop_assert_eq!(out.len(), before);
            } else if *track < 4 {
                written += 1;
            }
        }
        prop_assert_eq!(out.len() % PACKET_SIZE, 0);
        let mut cc: HashMap<u16, u8> = HashMap::new();
        for p in out.chunks(PACKET_SIZE) {
            prop_assert_eq!(p[0], SYNC_BYTE);
            let pid = (u16::from(p[1] & 0x1F) << 8) | u16::from(p[2]);
            let next = cc.entry(pid).or_insert(0);
            prop_assert_eq!(p[3] & 0x0F, *next, "pid {:#x}", pid);
            *next = (*next + 1) % 16;
        }
        let mut r = TsPacketReader::new(&out[..]);
        while let Some(_p) = r.read_ts_packet().map_err(|e| TestCaseError::fail(e.to_string()))? {}
        let mut r = PesPacketReader::new(TsPacketReader::new(&out[..]));
        let mut pes = 0;
        while r.read_pes_packet().map_err(|e| TestCaseError::fail(e.to_string()))?.is_some() {
            pes += 1;
        }
        prop_assert_eq!(pes, written);
    }

    #[test]
    fn timestamps_round_trip_modulo_2_33(ts in timestamp(), rate in prop_oneof![Just(90_000u32), Just(48_000), Just(44_100), 1u32..200_000]) {
        let t = to_90khz(ts, rate);
        prop_assert!(t < TIMESTAMP_WRAP);
        let exact = (i128::from(ts) * 90_000).div_euclid(i128::from(rate));
        prop_assert_eq!(i128::from(t), exact.rem_euclid(1i128 << 33));
    }
}
