//! Ingest workloads: `StreamIngest::push_rtp` over the bunny capture's H.264 track.
//!
//! One operation replays a whole packet sequence; the throughput counts packets, so time per
//! element is the per-packet cost. Each replay shifts RTP timestamps and sequence numbers on
//! (in the parsed header, which is what ingest reads) so the stream never goes back in time,
//! and the clock passed in follows the media time, so sender reports come every 5 s of media.

use crate::{data, Runner, Throughput};
use std::hint::black_box;
use std::time::{Duration, Instant};
use weir_core::codec::h264;
use weir_core::media::{StreamDescription, StreamIngest, WallClock};
use weir_core::rtp::{RtpPacket, SeqNo};

/// The H.264 track of the bunny SDP.
const VIDEO_TRACK: usize = 1;

/// The H.264 clock rate.
const CLOCK_RATE: u64 = 90_000;

/// The RTP time one replay of `packets` spans: first to last unit, plus one frame.
fn span(packets: &[RtpPacket]) -> u32 {
    let units = data::group_units(packets);
    let ts = |u: &Vec<RtpPacket>| u[0].header.timestamp;
    let first = ts(&units[0]);
    let last = ts(&units[units.len() - 1]);
    let frame = last.wrapping_sub(ts(&units[units.len() - 2]));
    last.wrapping_sub(first).wrapping_add(frame)
}

/// Registers one workload replaying `packets` into a fresh ingest of the bunny stream.
fn replay<R: Runner>(r: &mut R, name: &str, desc: &StreamDescription, packets: Vec<RtpPacket>) {
    let start = Instant::now();
    let clock = WallClock {
        base: start,
        base_ntp: 0xe8a1_2b3c_0000_0000,
    };
    let mut ingest = StreamIngest::new(desc, clock, 1);
    let span = span(&packets);
    let first_ts = packets[0].header.timestamp;
    let count = packets.len();
    let mut pass: u32 = 0;
    let mut out = Vec::with_capacity(8);
    r.run(name, Throughput::Elements(count as u64), || {
        let ts_shift = pass.wrapping_mul(span);
        let seq_shift = pass.wrapping_mul(count as u32) as u16;
        for p in &packets {
            let mut p = p.clone();
            p.header.timestamp = p.header.timestamp.wrapping_add(ts_shift);
            p.header.sequence_number = SeqNo(p.header.sequence_number.0.wrapping_add(seq_shift));
            let media_time = u64::from(p.header.timestamp.wrapping_sub(first_ts));
            let now = start + Duration::from_micros(media_time * 1_000_000 / CLOCK_RATE);
            black_box(ingest.push_rtp(now, VIDEO_TRACK, p, &mut out));
            out.clear();
        }
        pass = pass.wrapping_add(1);
    });
    let errors: u64 = ingest.codec_errors().sum();
    assert_eq!(errors, 0, "{name}: the depacketizer rejected packets");
}

/// Hands the ingest workloads to `r`.
pub fn workloads<R: Runner>(r: &mut R) {
    let desc = StreamDescription::from_sdp(&data::bunny_sdp()).expect("bunny SDP parses");
    assert_eq!(
        desc.tracks[VIDEO_TRACK].codec,
        weir_core::codec::CodecKind::H264
    );
    let all = data::bunny_packets(data::BUNNY_H264_CHANNEL);
    // The key frames only: SPS, PPS and 5 to 6 FU-A fragments each.
    let fua: Vec<RtpPacket> = data::group_units(&all)
        .into_iter()
        .filter(|u| {
            u.iter()
                .any(|p| h264::nalu_type(p.payload()) == h264::NAL_FU_A)
        })
        .flatten()
        .collect();
    replay(r, "ingest/h264_fua_key_frames", &desc, fua);
    replay(r, "ingest/bunny_h264_track", &desc, all);
}
