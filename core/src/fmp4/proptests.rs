//! Property tests: arbitrary samples never make the fragment writer panic, and every box it
//! writes has a size that adds up.

use super::*;
use crate::codec::CodecKind;
use bytes::Bytes;
use proptest::prelude::*;

/// Walks the boxes of `data[start..end]`, descending into containers; fails when a size does
/// not add up.
fn walk(data: &[u8], depth: usize) -> Result<usize, String> {
    let mut pos = 0;
    let mut count = 0;
    while pos < data.len() {
        if data.len() - pos < 8 {
            return Err(format!("{} trailing bytes", data.len() - pos));
        }
        let size =
            u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        let kind = &data[pos + 4..pos + 8];
        if size < 8 || pos + size > data.len() {
            return Err(format!(
                "box {:?} size {size} at {pos} overflows {}",
                String::from_utf8_lossy(kind),
                data.len()
            ));
        }
        if matches!(
            kind,
            b"moof" | b"traf" | b"moov" | b"trak" | b"mdia" | b"minf" | b"stbl" | b"dinf" | b"mvex"
        ) && depth < 8
        {
            count += walk(&data[pos + 8..pos + size], depth + 1)?;
        }
        count += 1;
        pos += size;
    }
    Ok(count)
}

fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        0i64..1_000_000,
        any::<i64>(),
        Just(0),
        Just(i64::MAX),
        (i64::from(i32::MAX) - 2)..(i64::from(i32::MAX) + 2),
    ]
}

fn samples() -> impl Strategy<Value = Vec<(i64, i64, u32, bool, Vec<usize>)>> {
    proptest::collection::vec(
        (
            timestamp(),
            timestamp(),
            any::<u32>(),
            any::<bool>(),
            proptest::collection::vec(0usize..300, 0..4),
        ),
        0..8,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn fragments_are_well_formed(
        runs in proptest::collection::vec((0u32..4, samples()), 0..4),
        sequence: u32,
    ) {
        let tracks = vec![
            Fmp4Track { track_id: 1, track: 0, codec: CodecKind::H264, timescale: 90_000, frame_duration: 0 },
            Fmp4Track { track_id: 2, track: 1, codec: CodecKind::Mpeg4Audio, timescale: 48_000, frame_duration: 1024 },
            Fmp4Track { track_id: 3, track: 2, codec: CodecKind::Opus, timescale: 48_000, frame_duration: 0 },
        ];
        let payload = Bytes::from(vec![0xAB; 300]);
        let built: Vec<(u32, Vec<Sample>)> = runs
            .iter()
            .map(|(id, ss)| {
                let samples = ss
                    .iter()
                    .map(|(dts, pts, duration, key, sizes)| Sample {
                        dts: *dts,
                        pts: *pts,
                        duration: *duration,
                        key: *key,
                        data: sizes.iter().map(|&n| payload.slice(..n)).collect(),
                    })
                    .collect();
                (*id, samples)
            })
            .collect();
        let refs: Vec<(u32, &[Sample])> = built.iter().map(|(id, s)| (*id, &s[..])).collect();
        let mut w = FragmentWriter::new(tracks);
        let mut out = FragmentOut::default();
        match w.write_fragment(sequence, &refs, &mut out) {
            Err(_) => prop_assert_eq!((out.len, out.chunks.len()), (0, 0)),
            Ok(()) => {
                let data = out.to_vec();
                prop_assert_eq!(data.len(), out.len);
                if refs.iter().all(|r| r.1.is_empty()) {
                    prop_assert!(data.is_empty());
                } else {
                    walk(&data, 0).map_err(TestCaseError::fail)?;
                    prop_assert_eq!(&data[4..8], b"moof");
                    let moof = <mp4_atom::Moof as mp4_atom::Decode>::decode(&mut &data[..])
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(moof.mfhd.sequence_number, sequence);
                    let non_empty = refs.iter().filter(|r| !r.1.is_empty()).count();
                    prop_assert_eq!(moof.traf.len(), non_empty);
                    // Each trun's data offset points inside the mdat and its sizes fit.
                    for traf in &moof.traf {
                        let trun = &traf.trun[0];
                        let start = trun.data_offset.unwrap() as usize;
                        let total: usize = trun.samples.iter().map(|e| e.size.unwrap() as usize).sum();
                        prop_assert!(start + total <= data.len());
                    }
                }
            }
        }
    }

    #[test]
    fn init_segments_are_well_formed(config in "[0-9A-F]{2,8}", sprop in "[A-Za-z0-9+/]{0,24}") {
        let sdp = format!(
            "v=0\r\ns=x\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 sprop-parameter-sets={sprop},aMuMsg==\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/48000/2\r\na=fmtp:97 config={config}\r\nm=video 0 RTP/AVP 98\r\na=rtpmap:98 H265/90000\r\na=fmtp:98 sprop-vps={sprop}; sprop-sps={sprop}; sprop-pps={sprop}\r\n"
        );
        let desc = crate::media::StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
        for t in 0..3 {
            let mut one = desc.clone();
            one.tracks = vec![desc.tracks[t].clone()];
            if let Ok((init, tracks)) = init_segment(&one) {
                prop_assert_eq!(tracks.len(), 1);
                prop_assert_eq!(walk(&init, 0).map_err(TestCaseError::fail)? > 10, true);
            }
        }
    }
}
