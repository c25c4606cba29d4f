//! Property tests: whatever units a publisher sends and whatever clients ask, the muxer never
//! panics, answers only with the statuses it documents, and its memory stays bounded.
#![allow(clippy::disallowed_methods)] // fake clocks need one real base instant

use super::super::segment::KEEP_MARGIN;
use super::*;
use proptest::prelude::*;

/// One step of a session.
#[derive(Debug, Clone)]
enum Op {
    Unit {
        track: usize,
        pts: i64,
        dts: i64,
        key: bool,
        pieces: Vec<Vec<u8>>,
    },
    Request {
        file: String,
        query: String,
        token: u64,
    },
    Timeout(u64),
    Forget(u64),
}

fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => 0i64..4_000_000,
        1 => any::<i64>(),
        1 => -100_000i64..100_000,
        1 => (i64::MAX - 3)..=i64::MAX,
        1 => i64::MIN..(i64::MIN + 3),
    ]
}

fn piece() -> impl Strategy<Value = Vec<u8>> {
    let real: Vec<Vec<u8>> = picture().iter().map(|b| b.to_vec()).collect();
    prop_oneof![
        3 => proptest::sample::select(real),
        3 => proptest::collection::vec(any::<u8>(), 0..300),
        1 => proptest::collection::vec(any::<u8>(), 0..3000),
    ]
}

fn file() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("index.m3u8".to_string()),
        Just("main_stream.m3u8".to_string()),
        Just("init.mp4".to_string()),
        (0u64..40).prop_map(|n| format!("seg{n}.mp4")),
        (0u64..40).prop_map(|n| format!("seg{n}.ts")),
        (0u64..200).prop_map(|n| format!("part{n}.mp4")),
        ".{0,24}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        (0u64..40).prop_map(|m| format!("_HLS_msn={m}")),
        (0u64..40, 0u64..30).prop_map(|(m, p)| format!("_HLS_msn={m}&_HLS_part={p}")),
        ".{0,40}",
        "(_HLS_(msn|part|skip)=[0-9a-zA-Z-]{0,22}&?){0,3}",
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (prop_oneof![4 => Just(0usize), 2 => Just(1), 1 => 2usize..6], timestamp(), timestamp(), any::<bool>(), proptest::collection::vec(piece(), 0..4))
            .prop_map(|(track, pts, dts, key, pieces)| Op::Unit { track, pts, dts, key, pieces }),
        3 => (file(), query(), 0u64..8).prop_map(|(file, query, token)| Op::Request { file, query, token }),
        1 => (0u64..20_000).prop_map(Op::Timeout),
        1 => (0u64..8).prop_map(Op::Forget),
    ]
}

/// Makes a stream of mostly increasing timestamps out of the generated ones: unit `i` of
/// a small-range timestamp is moved to about `i` × 80 ms so that segments and parts get cut.
fn spread(i: usize, ts: i64) -> i64 {
    if (0..4_000_000).contains(&ts) {
        i as i64 * 7200 + ts % 3600
    } else {
        ts
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn never_panics_and_stays_bounded(
        variant in prop_oneof![Just(HlsVariant::Mpegts), Just(HlsVariant::Fmp4), Just(HlsVariant::LowLatency)],
        count in 1usize..4,
        small in any::<bool>(),
        ops in proptest::collection::vec(op(), 0..120),
    ) {
        let nalus = picture();
        let desc = description(&[
            TestTrack { kind: "video", rtpmap: "H264/90000", fmtp: Some(h264_fmtp(&nalus)) },
            aac_track(),
            TestTrack { kind: "video", rtpmap: "H265/90000", fmtp: None },
            TestTrack { kind: "audio", rtpmap: "opus/48000/2", fmtp: None },
            TestTrack { kind: "audio", rtpmap: "PCMA/8000", fmtp: None },
        ]);
        let max = if small { MIN_SEGMENT_MAX_SIZE } else { 1 << 20 };
        let cfg = HlsConfig {
            variant,
            segment_count: count,
            segment_duration: Duration::from_millis(400),
            part_duration: Duration::from_millis(100),
            segment_max_size: max,
        };
        let t0 = Instant::now();
        let mut now = t0;
        let mut m = HlsMuxer::new(cfg, &desc, t0).unwrap();
        for (i, op) in ops.into_iter().enumerate() {
            match op {
                Op::Unit { track, pts, dts, key, pieces } => {
                    let pieces: Vec<Bytes> = pieces.into_iter().map(Bytes::from).collect();
                    let u = unit(track, spread(i, pts), spread(i, dts), key, &pieces);
                    m.push_unit(now, WALL0.wrapping_add(dts), &u);
                }
                Op::Request { file, query, token } => {
                    if let HlsAnswer::Now(r) = m.handle_request(now, &file, &query, token) {
                        prop_assert!([200, 400, 404, 503].contains(&r.status));
                        if r.status != 200 {
                            prop_assert_eq!(r.body_len(), 0);
                        }
                    }
                }
                Op::Timeout(ms) => {
                    now += Duration::from_millis(ms);
                    m.handle_timeout(now);
                    if let Some(t) = m.poll_timeout() {
                        prop_assert!(t > now);
                    }
                }
                Op::Forget(token) => m.forget(token),
            }
            while let Some((_, r)) = m.poll_released() {
                prop_assert!([200, 404, 503].contains(&r.status));
            }
            let kept = m.segmenter().store().kept();
            prop_assert!(kept.len() <= count + KEEP_MARGIN);
            for s in kept {
                prop_assert!(s.size <= max, "segment of {} bytes", s.size);
                prop_assert_eq!(s.size, s.body.iter().map(|b| b.len() as u64).sum::<u64>());
            }
            prop_assert!(m.memory_bytes() <= (count + KEEP_MARGIN + 1) as u64 * max);
            prop_assert!(m.held_count() <= 8);
        }
    }

    #[test]
    fn arbitrary_requests_on_a_live_stream(
        requests in proptest::collection::vec((file(), query()), 1..40),
    ) {
        let clock = Clock::new();
        let mut m = HlsMuxer::new(config(HlsVariant::LowLatency, 3), &av_description(true, false), clock.t0).unwrap();
        clock.push_all(&mut m, &av_units(60, true, every_second));
        for (token, (file, query)) in requests.iter().enumerate() {
            match m.handle_request(clock.t0, file, query, token as u64) {
                HlsAnswer::Now(r) => prop_assert!([200, 400, 404, 503].contains(&r.status)),
                HlsAnswer::Held => {}
            }
        }
        // Every held request ends: released by the stream, or 503 at its deadline.
        let held = m.held_count();
        m.handle_timeout(clock.t0 + Duration::from_secs(60));
        prop_assert_eq!(std::iter::from_fn(|| m.poll_released()).count(), held);
        prop_assert_eq!(m.poll_timeout(), None);
    }
}
