//! Tests of the HLS muxer on units made from real data: `blackframe.264` (H.264 High, 640x360,
//! 25 fps in its VUI) at 25 fps with a key frame every 25 frames, and `aac_frame` (AAC LC,
//! 44.1 kHz stereo), interleaved by time as a ring delivers them, at fake times.

mod blocking_tests;
mod ffprobe_tests;
mod playlist_tests;
mod proptests;
mod segmenter_tests;

use super::*;
use crate::codec::h264;
use crate::media::{StreamDescription, Unit};
use crate::mpegts::test_support::{annexb_nalus, description, h264_fmtp, media, unit, TestTrack};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// 90 kHz ticks per frame at 25 fps.
pub(super) const FRAME: i64 = 3600;
/// AAC samples per access unit.
pub(super) const AAC_FRAME: i64 = 1024;
/// The wall clock of media time 0: 2026-11-24T06:00:00.000Z.
pub(super) const WALL0: i64 = 1_795_500_000_000;

/// The NAL units of the test picture: SPS, PPS and the IDR slice (plus whatever else the
/// file holds).
pub(super) fn picture() -> Vec<Bytes> {
    annexb_nalus("blackframe.264")
}

/// H.264 (parameter sets in the fmtp unless `in_band`) and, with `audio`, AAC LC 44.1 kHz.
pub(super) fn av_description(audio: bool, in_band: bool) -> StreamDescription {
    let nalus = picture();
    let mut tracks = vec![TestTrack {
        kind: "video",
        rtpmap: "H264/90000",
        fmtp: (!in_band).then(|| h264_fmtp(&nalus)),
    }];
    if audio {
        tracks.push(aac_track());
    }
    description(&tracks)
}

/// AAC LC 44.1 kHz stereo.
pub(super) fn aac_track() -> TestTrack<'static> {
    TestTrack {
        kind: "audio",
        rtpmap: "mpeg4-generic/44100/2",
        fmtp: Some(
            "mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1210".into(),
        ),
    }
}

/// Video frame `k` (track 0): key when `key`, with the parameter sets in band on key frames.
pub(super) fn video_unit(k: i64, key: bool) -> Unit {
    let nalus = picture();
    let au: Vec<Bytes> = nalus
        .iter()
        .filter(|n| key || !matches!(h264::nalu_type(n), h264::NAL_SPS | h264::NAL_PPS))
        .cloned()
        .collect();
    unit(0, k * FRAME, k * FRAME, key, &au)
}

/// AAC access unit `j` of track `track`.
pub(super) fn audio_unit(track: usize, j: i64) -> Unit {
    let aac = Bytes::from(media("aac_frame"));
    unit(track, j * AAC_FRAME, j * AAC_FRAME, true, &[aac])
}

/// The units of `frames` video frames (a key frame where `is_key(k)`) and, with `audio`, the
/// AAC units of the same span, ordered by time (video first at equal times).
pub(super) fn av_units(frames: i64, audio: bool, is_key: impl Fn(i64) -> bool) -> Vec<Unit> {
    let mut units: Vec<(i128, Unit)> = (0..frames)
        .map(|k| (i128::from(k * FRAME) * 44_100, video_unit(k, is_key(k))))
        .collect();
    if audio {
        let end = frames * FRAME * 44_100 / 90_000;
        let mut j = 0;
        while j * AAC_FRAME < end {
            units.push((i128::from(j * AAC_FRAME) * 90_000, audio_unit(1, j)));
            j += 1;
        }
    }
    units.sort_by_key(|(t, u)| (*t, u.track));
    units.into_iter().map(|(_, u)| u).collect()
}

/// A key frame every 25 frames (one per second).
pub(super) fn every_second(k: i64) -> bool {
    k % 25 == 0
}

/// The media time of a unit in nanoseconds.
pub(super) fn unit_ns(u: &Unit) -> i64 {
    let rate = if u.track == 0 { 90_000 } else { 44_100 };
    (i128::from(u.dts) * 1_000_000_000 / rate) as i64
}

/// Fake clocks: a unit at media time t arrives at `t0 + t` and wall clock `WALL0 + t`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    pub t0: Instant,
}

impl Clock {
    /// A clock starting now.
    #[allow(clippy::disallowed_methods)] // a fake clock needs one real base instant
    pub fn new() -> Clock {
        Clock { t0: Instant::now() }
    }

    /// The arrival instant of a unit.
    pub fn at(&self, u: &Unit) -> Instant {
        self.t0 + Duration::from_nanos(unit_ns(u).max(0) as u64)
    }

    /// Pushes a unit at its arrival time.
    pub fn push(&self, m: &mut HlsMuxer, u: &Unit) {
        m.push_unit(self.at(u), WALL0 + unit_ns(u) / 1_000_000, u);
    }

    /// Pushes every unit.
    pub fn push_all(&self, m: &mut HlsMuxer, units: &[Unit]) {
        for u in units {
            self.push(m, u);
        }
    }
}

/// A configuration of `variant` listing `count` segments (other values: defaults).
pub(super) fn config(variant: HlsVariant, count: usize) -> HlsConfig {
    HlsConfig {
        variant,
        segment_count: count,
        ..HlsConfig::default()
    }
}

/// The index of video frame `k` in `units`.
pub(super) fn frame_index(units: &[Unit], k: i64) -> usize {
    units
        .iter()
        .position(|u| u.track == 0 && u.dts == k * FRAME)
        .expect("frame present")
}

/// Asks for a file; panics unless it is answered at once.
pub(super) fn get(m: &mut HlsMuxer, t: Instant, file: &str, query: &str) -> HlsResponse {
    match m.handle_request(t, file, query, u64::MAX) {
        HlsAnswer::Now(r) => r,
        HlsAnswer::Held => panic!("{file}?{query} was held"),
    }
}

/// Asks for a file; panics unless it is answered 200; returns the body joined.
pub(super) fn get_ok(m: &mut HlsMuxer, t: Instant, file: &str) -> Vec<u8> {
    let r = get(m, t, file, "");
    assert_eq!(r.status, 200, "{file}");
    r.body.concat()
}

/// Asks for a playlist and returns its text.
pub(super) fn text(m: &mut HlsMuxer, t: Instant, file: &str) -> String {
    String::from_utf8(get_ok(m, t, file)).expect("playlists are UTF-8")
}
