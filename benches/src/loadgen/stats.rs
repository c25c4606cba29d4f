//! What each reader counts: bytes, RTP sequence gaps, frames and missing frames (from the
//! markers' frame indices), time to first key frame, and latency samples during the
//! measurement window; and the percentiles the report is made of.

use super::marker::{Marker, SendLog};

/// The counters of one reader that the measurement window takes differences of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Bytes received (every socket of the reader, framing and control included).
    pub bytes: u64,
    /// RTP packets of the video track received.
    pub rtp_packets: u64,
    /// RTP packets missing: sequence number gaps.
    pub rtp_gaps: u64,
    /// Frames received (each marker once, from the first key frame on).
    pub frames: u64,
    /// Frames missing: gaps in the markers' frame indices.
    pub missing_frames: u64,
}

impl Counters {
    /// `self - earlier`, field by field.
    pub fn since(&self, earlier: &Counters) -> Counters {
        Counters {
            bytes: self.bytes - earlier.bytes,
            rtp_packets: self.rtp_packets - earlier.rtp_packets,
            rtp_gaps: self.rtp_gaps - earlier.rtp_gaps,
            frames: self.frames - earlier.frames,
            missing_frames: self.missing_frames - earlier.missing_frames,
        }
    }
}

/// Everything one reader measured.
#[derive(Debug, Clone, Default)]
pub struct ReaderStats {
    /// When the reader started connecting (clock µs).
    pub connect_us: u64,
    /// When the server accepted playing (PLAY answered, RTMP play started, first segment).
    pub playing_us: Option<u64>,
    /// When the first key frame's marker arrived.
    pub first_key_us: Option<u64>,
    /// The running counters.
    pub now: Counters,
    /// The counters when the measurement window opened.
    pub window_start: Option<Counters>,
    /// The counters when it closed.
    pub window_end: Option<Counters>,
    /// Server-added latency of each marker received in the window (µs).
    pub latencies_us: Vec<u32>,
    /// Why the reader stopped, if it did.
    pub error: Option<String>,
    last_seq: Option<u16>,
    last_index: Option<u32>,
    measuring: bool,
}

impl ReaderStats {
    /// A reader that starts connecting at `connect_us`.
    pub fn new(connect_us: u64) -> ReaderStats {
        ReaderStats {
            connect_us,
            ..ReaderStats::default()
        }
    }

    /// Counts one RTP packet of the video track.
    pub fn on_rtp_seq(&mut self, seq: u16) {
        self.now.rtp_packets += 1;
        if let Some(last) = self.last_seq {
            let delta = seq.wrapping_sub(last) as i16;
            if delta <= 0 {
                return; // duplicate or reordered: not a gap
            }
            self.now.rtp_gaps += (delta - 1) as u64;
        }
        self.last_seq = Some(seq);
    }

    /// Counts one marker received at `now_us`.
    pub fn on_marker(&mut self, m: Marker, now_us: u64, log: &SendLog) {
        if self.first_key_us.is_none() {
            if !m.key {
                return; // a player cannot start before a key frame
            }
            self.first_key_us = Some(now_us);
        }
        if let Some(last) = self.last_index {
            if m.index <= last {
                return;
            }
            self.now.missing_frames += u64::from(m.index - last - 1);
        }
        self.last_index = Some(m.index);
        self.now.frames += 1;
        if self.measuring {
            if let Some(sent) = log.sent_at(m.index) {
                let l = now_us.saturating_sub(sent).min(u64::from(u32::MAX));
                self.latencies_us.push(l as u32);
            }
        }
    }

    /// Opens the measurement window.
    pub fn start_window(&mut self) {
        self.window_start = Some(self.now);
        self.measuring = true;
    }

    /// Closes the measurement window.
    pub fn end_window(&mut self) {
        if self.measuring {
            self.window_end = Some(self.now);
            self.measuring = false;
        }
    }

    /// The counters of the window (zero when the reader was not there for all of it).
    pub fn window(&self) -> Counters {
        match (self.window_start, self.window_end) {
            (Some(a), Some(b)) => b.since(&a),
            _ => Counters::default(),
        }
    }

    /// Time from connecting to the first key frame (µs).
    pub fn ttff_us(&self) -> Option<u64> {
        Some(self.first_key_us?.saturating_sub(self.connect_us))
    }
}

/// The `p`-th percentile (0–100, nearest rank) of sorted `v`.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_and_missing_frames() {
        let log = SendLog::new(16);
        let mut s = ReaderStats::new(0);
        for seq in [65534u16, 65535, 1, 1, 0, 2] {
            s.on_rtp_seq(seq);
        }
        assert_eq!(s.now.rtp_gaps, 1);
        let m = |index, key| Marker { index, key };
        s.on_marker(m(3, false), 5, &log);
        s.start_window();
        log.record(4, 100);
        s.on_marker(m(4, true), 150, &log);
        s.on_marker(m(7, false), 200, &log);
        s.end_window();
        assert_eq!(s.ttff_us(), Some(150));
        assert_eq!(s.window().frames, 2);
        assert_eq!(s.window().missing_frames, 2);
        assert_eq!(s.latencies_us, vec![50]);
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
        assert_eq!(percentile(&[1, 2, 3, 4], 99.0), Some(4));
    }
}
