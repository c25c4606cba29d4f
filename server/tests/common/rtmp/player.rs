//! [`RtmpPlayer`], a background raw RTMP reader that counts tags and records video
//! timestamp gaps, and its [`RtmpStats`] snapshots.

use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{
    is_audio_sequence_header, msg_type, parse_video_tag, status_code, Amf0, AnnexBWriter,
    RtmpClient, RtmpMessage, VideoPacket, VideoTag,
};

/// Two consecutive video frame timestamps further apart than this (or going backwards)
/// count as a gap: 1.5 frame intervals of the 25 fps fixtures.
pub const VIDEO_GAP_MS: u32 = 60;

/// What an [`RtmpPlayer`] has seen so far.
#[derive(Clone, Debug, Default)]
pub struct RtmpStats {
    /// Video coded-frame tags received.
    pub video_frames: u64,
    /// Video sequence headers received.
    pub video_headers: u64,
    /// Audio messages received (sequence headers included).
    pub audio_tags: u64,
    /// The first 10 audio message bodies (FLV audio tag bodies).
    pub first_audio: Vec<Vec<u8>>,
    /// The timestamps of the first 200 audio frames (sequence headers excluded).
    pub audio_frame_ts: Vec<u32>,
    /// The timestamp of the last video frame.
    pub last_video_ts: Option<u32>,
    /// Consecutive video frame timestamps (previous, next) that went backwards or jumped
    /// more than [`VIDEO_GAP_MS`] (first 20).
    pub video_gaps: Vec<(u32, u32)>,
    /// The first 60 video tags, parsed (sequence headers included).
    pub first_video: Vec<VideoTag>,
    /// The first video message's timestamp.
    pub first_video_ts: Option<u32>,
    /// Every `onStatus` code received.
    pub status_codes: Vec<String>,
    /// Video tags that could not be converted to Annex-B (first 20).
    pub errors: Vec<String>,
    /// Why reading stopped, if it did (EOF, error).
    pub ended: Option<String>,
}

impl RtmpStats {
    /// The first coded frame tag (after the sequence header), if any arrived.
    pub fn first_frame(&self) -> Option<&VideoTag> {
        self.first_video
            .iter()
            .find(|t| t.packet == VideoPacket::Frames)
    }
}

/// A raw RTMP player of one path, reading on a background thread (killed on drop), that
/// counts tags, records video timestamp gaps and optionally converts the first frames to
/// Annex-B (see [`RtmpPlayer::start_capturing`]).
pub struct RtmpPlayer {
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<RtmpStats>>,
    annexb: Arc<Mutex<AnnexBWriter>>,
    handle: Option<JoinHandle<()>>,
    /// The address the player connected from (as logged by the server).
    pub local_addr: String,
}

impl RtmpPlayer {
    /// Plays `path` (panics unless `NetStream.Play.Start` arrives), then reads on a thread.
    pub fn start(port: u16, path: &str) -> RtmpPlayer {
        RtmpPlayer::start_capturing(port, path, 0)
    }

    /// Like [`RtmpPlayer::start`], also converting the first `frames` video frames to an
    /// Annex-B stream (see [`RtmpPlayer::annexb`]).
    pub fn start_capturing(port: u16, path: &str, frames: usize) -> RtmpPlayer {
        let client = RtmpClient::start_play(port, path);
        let local_addr = client.local_addr();
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(RtmpStats {
            status_codes: vec!["NetStream.Play.Start".into()],
            ..Default::default()
        }));
        let annexb = Arc::new(Mutex::new(AnnexBWriter::default()));
        let (s2, st2, a2) = (stop.clone(), stats.clone(), annexb.clone());
        let handle = thread::spawn(move || player_loop(client, &s2, &st2, &a2, frames));
        RtmpPlayer {
            stop,
            stats,
            annexb,
            handle: Some(handle),
            local_addr,
        }
    }

    /// A copy of the statistics so far.
    pub fn snapshot(&self) -> RtmpStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The Annex-B stream captured so far and its number of frames.
    pub fn annexb(&self) -> (Vec<u8>, usize) {
        let a = self.annexb.lock().unwrap_or_else(|p| p.into_inner());
        (a.out.clone(), a.frames)
    }

    /// Waits until at least `n` video frames have arrived in total; panics on timeout.
    pub fn wait_video_frames(&self, n: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            if s.video_frames >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "raw RTMP player got {} < {n} video frames in {timeout:?} (ended: {:?}, statuses: {:?})",
                s.video_frames,
                s.ended,
                s.status_codes
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until the server ends the session (EOF or error) and returns why; panics on timeout.
    pub fn wait_ended(&self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            if let Some(why) = s.ended {
                return why;
            }
            assert!(
                Instant::now() < deadline,
                "raw RTMP player still receiving after {timeout:?} ({} video frames, statuses {:?})",
                s.video_frames,
                s.status_codes
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asserts the player is still receiving (≥ `min_new` more video frames than `before`
    /// within `timeout`), never saw a video timestamp gap, and its connection is still up.
    pub fn assert_flowing_without_gap(&self, before: &RtmpStats, min_new: u64, timeout: Duration) {
        self.wait_video_frames(before.video_frames + min_new, timeout);
        let now = self.snapshot();
        assert!(
            now.video_gaps.is_empty(),
            "concurrent RTMP player saw video timestamp gaps (prev, next): {:?}",
            now.video_gaps
        );
        assert!(
            now.ended.is_none(),
            "concurrent RTMP player stopped: {:?}",
            now.ended
        );
    }
}

impl Drop for RtmpPlayer {
    /// Stops the reading thread and closes the connection.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The [`RtmpPlayer`] thread: reads messages into `stats` until `stop` or the connection ends.
fn player_loop(
    mut client: RtmpClient,
    stop: &AtomicBool,
    stats: &Mutex<RtmpStats>,
    annexb: &Mutex<AnnexBWriter>,
    capture_frames: usize,
) {
    while !stop.load(Ordering::Relaxed) {
        let msg = client.read_message(Duration::from_millis(200));
        let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
        match msg {
            Ok(Some(m)) => record_message(&mut s, annexb, capture_frames, &m),
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Ok(None) => {
                s.ended = Some("server closed the connection".into());
                return;
            }
            Err(e) => {
                s.ended = Some(format!("read error: {e}"));
                return;
            }
        }
    }
}

/// Accounts one received message in `s` (and converts video into `annexb` while it has
/// fewer than `capture_frames` frames).
fn record_message(
    s: &mut RtmpStats,
    annexb: &Mutex<AnnexBWriter>,
    capture_frames: usize,
    m: &RtmpMessage,
) {
    match m.type_id {
        msg_type::AUDIO => {
            s.audio_tags += 1;
            if s.first_audio.len() < 10 {
                s.first_audio.push(m.payload.clone());
            }
            if !is_audio_sequence_header(&m.payload) && s.audio_frame_ts.len() < 200 {
                s.audio_frame_ts.push(m.timestamp);
            }
        }
        msg_type::VIDEO => {
            let Some(tag) = parse_video_tag(&m.payload) else {
                return;
            };
            s.first_video_ts.get_or_insert(m.timestamp);
            match tag.packet {
                VideoPacket::SequenceHeader => s.video_headers += 1,
                VideoPacket::Frames => {
                    s.video_frames += 1;
                    if let Some(prev) = s.last_video_ts {
                        let bad = m.timestamp < prev || m.timestamp - prev > VIDEO_GAP_MS;
                        if bad && s.video_gaps.len() < 20 {
                            s.video_gaps.push((prev, m.timestamp));
                        }
                    }
                    s.last_video_ts = Some(m.timestamp);
                }
                _ => {}
            }
            let mut a = annexb.lock().unwrap_or_else(|p| p.into_inner());
            if a.frames < capture_frames {
                if let Err(e) = a.push(&tag) {
                    if s.errors.len() < 20 {
                        s.errors
                            .push(format!("video tag at {} ms: {e}", m.timestamp));
                    }
                }
            }
            if s.first_video.len() < 60 {
                s.first_video.push(tag);
            }
        }
        msg_type::COMMAND_AMF0 | msg_type::COMMAND_AMF3 => {
            if let Some(values) = m.amf0() {
                if values.first().and_then(Amf0::as_str) == Some("onStatus") {
                    if let Some(info) = values.get(3) {
                        s.status_codes.push(status_code(info).to_string());
                    }
                }
            }
        }
        _ => {}
    }
}
