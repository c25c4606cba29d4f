//! The bounded fan-out ring of one stream, and the per-reader cursor that walks it.
//!
//! The publisher pushes; it never waits for a reader. Each reader has a [`Cursor`]: an absolute
//! sequence number into the ring. A reader that falls more than the ring's capacity behind has
//! lost items: it is resynchronised at the next key item (or, if the ring holds none, waits for
//! one) and the episode is reported once.

use super::StreamItem;
use std::collections::VecDeque;

/// A bounded ring of stream items addressed by absolute sequence numbers.
#[derive(Debug)]
pub struct Ring {
    items: VecDeque<StreamItem>,
    /// Sequence number of `items[0]`.
    first_seq: u64,
    capacity: usize,
    /// Sequence numbers of the key items still in the ring, oldest first.
    keys: VecDeque<u64>,
    /// Bit `t` set: key units of track `t` are start points (the video tracks, or every track
    /// of a stream without video).
    start_tracks: u64,
}

/// A reader's position in a [`Ring`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    next: u64,
    /// True while the reader waits for a key item (after joining or after losing items).
    waiting_key: bool,
    /// True from a read that lost items until a read that lost none (one lag episode).
    lagging: bool,
}

/// What [`Ring::read`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadOutcome {
    /// Items appended to the output.
    pub read: usize,
    /// Items the reader lost because it fell behind the ring (0 when it kept up).
    pub lost: u64,
    /// This read began a lag episode (the first loss since the reader last kept up): the one
    /// read of the episode to log.
    pub lag_started: bool,
}

impl Ring {
    /// Creates a ring holding at most `capacity` items (at least 2). Key units of the tracks
    /// whose bit is set in `start_tracks` are where readers start (see
    /// [`super::StreamDescription::start_tracks`]).
    pub fn new(capacity: usize, start_tracks: u64) -> Ring {
        let capacity = capacity.max(2);
        Ring {
            items: VecDeque::with_capacity(capacity),
            first_seq: 0,
            capacity,
            keys: VecDeque::with_capacity(16),
            start_tracks,
        }
    }

    /// The ring's capacity in items.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Sequence number the next pushed item will get.
    pub fn end_seq(&self) -> u64 {
        self.first_seq + self.items.len() as u64
    }

    /// Appends an item, evicting the oldest when full; the evicted item is returned (so that
    /// its buffers can be recycled, see [`super::StreamIngest::recycle`]).
    pub fn push(&mut self, item: StreamItem) -> Option<StreamItem> {
        let mut evicted = None;
        if self.items.len() == self.capacity {
            evicted = self.items.pop_front();
            self.first_seq += 1;
            while self.keys.front().is_some_and(|&k| k < self.first_seq) {
                self.keys.pop_front();
            }
        }
        let seq = self.end_seq();
        if self.is_start_point(&item) {
            self.keys.push_back(seq);
        }
        self.items.push_back(item);
        evicted
    }

    fn is_start_point(&self, item: &StreamItem) -> bool {
        match item {
            StreamItem::Unit(u) => u.key && u.track < 64 && self.start_tracks & (1 << u.track) != 0,
            StreamItem::Rtcp { .. } => false,
        }
    }

    /// A cursor for a reader joining now: it starts at the most recent key item still in the
    /// ring (so the reader decodes at once), or waits for the next one.
    pub fn join(&self) -> Cursor {
        match self.keys.back() {
            Some(&k) => Cursor {
                next: k,
                waiting_key: false,
                lagging: false,
            },
            None => Cursor {
                next: self.end_seq(),
                waiting_key: true,
                lagging: false,
            },
        }
    }

    /// Appends to `out` up to `max` items from `cursor` on and advances it.
    pub fn read(&self, cursor: &mut Cursor, max: usize, out: &mut Vec<StreamItem>) -> ReadOutcome {
        self.read_each(cursor, max, |item| out.push(item.clone()))
    }

    /// Hands up to `max` items from `cursor` on to `f`, by reference, and advances the cursor:
    /// a reader that copies what it needs (bytes into its socket buffer) takes no reference.
    pub fn read_each(
        &self,
        cursor: &mut Cursor,
        max: usize,
        mut f: impl FnMut(&StreamItem),
    ) -> ReadOutcome {
        let mut outcome = ReadOutcome::default();
        if cursor.next < self.first_seq {
            outcome.lost = self.first_seq - cursor.next;
            outcome.lag_started = !cursor.lagging;
            cursor.lagging = true;
            cursor.next = self.first_seq;
            cursor.waiting_key = true;
        }
        if cursor.waiting_key {
            match self.keys.iter().find(|&&k| k >= cursor.next) {
                Some(&k) => {
                    cursor.next = k;
                    cursor.waiting_key = false;
                }
                None => {
                    cursor.next = self.end_seq();
                    return outcome;
                }
            }
        }
        let start = (cursor.next - self.first_seq) as usize;
        let n = self.items.len().saturating_sub(start).min(max);
        self.items.range(start..start + n).for_each(&mut f);
        cursor.next += n as u64;
        if n > 0 && outcome.lost == 0 {
            cursor.lagging = false;
        }
        outcome.read = n;
        outcome
    }

    /// Whether `cursor` has items to read.
    pub fn has_items_for(&self, cursor: &Cursor) -> bool {
        cursor.next < self.end_seq()
    }

    /// Items from `cursor` on, without advancing it (used to build RTP-Info at PLAY time).
    pub fn peek(&self, cursor: &Cursor) -> impl Iterator<Item = &StreamItem> {
        let start = cursor.next.saturating_sub(self.first_seq) as usize;
        self.items.range(start.min(self.items.len())..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Unit;
    use std::sync::Arc;

    fn unit(n: i64, key: bool) -> StreamItem {
        unit_of(0, n, key)
    }

    fn unit_of(track: usize, n: i64, key: bool) -> StreamItem {
        StreamItem::Unit(Arc::new(Unit {
            track,
            pts: n,
            dts: n,
            key,
            payload: Default::default(),
            rtp: Default::default(),
        }))
    }

    fn pts(items: &[StreamItem]) -> Vec<i64> {
        items
            .iter()
            .map(|i| match i {
                StreamItem::Unit(u) => u.pts,
                StreamItem::Rtcp { .. } => -1,
            })
            .collect()
    }

    #[test]
    fn joining_reader_starts_at_latest_key() {
        let mut r = Ring::new(16, 1);
        for n in 0..10 {
            r.push(unit(n, n % 4 == 0));
        }
        let mut c = r.join();
        let mut out = Vec::new();
        r.read(&mut c, 100, &mut out);
        assert_eq!(pts(&out), vec![8, 9]);
    }

    #[test]
    fn joining_before_any_key_waits_for_one() {
        let mut r = Ring::new(16, 1);
        r.push(unit(0, false));
        let mut c = r.join();
        let mut out = Vec::new();
        r.push(unit(1, false));
        r.push(unit(2, true));
        r.push(unit(3, false));
        r.read(&mut c, 100, &mut out);
        assert_eq!(pts(&out), vec![2, 3]);
    }

    #[test]
    fn lagging_reader_resyncs_at_next_key_and_reports_loss() {
        let mut r = Ring::new(4, 1);
        r.push(unit(0, true));
        let mut c = r.join();
        for n in 1..10 {
            r.push(unit(n, n == 7));
        }
        let mut out = Vec::new();
        let o = r.read(&mut c, 100, &mut out);
        assert_eq!(o.lost, 6); // items 0..=5 are gone
        assert_eq!(pts(&out), vec![7, 8, 9]);
    }

    #[test]
    fn lagging_reader_without_key_in_ring_waits() {
        let mut r = Ring::new(4, 1);
        r.push(unit(0, true));
        let mut c = r.join();
        for n in 1..10 {
            r.push(unit(n, false));
        }
        let mut out = Vec::new();
        let o = r.read(&mut c, 100, &mut out);
        assert!(o.lost > 0);
        assert!(out.is_empty());
        r.push(unit(10, true));
        r.read(&mut c, 100, &mut out);
        assert_eq!(pts(&out), vec![10]);
    }

    #[test]
    fn audio_only_streams_start_at_any_unit() {
        let mut r = Ring::new(8, 1);
        for n in 0..3 {
            r.push(unit(n, true));
        }
        let mut c = r.join();
        let mut out = Vec::new();
        r.read(&mut c, 100, &mut out);
        assert_eq!(pts(&out), vec![2]);
    }

    #[test]
    fn audio_key_units_are_not_start_points_when_there_is_video() {
        let mut r = Ring::new(16, 0b10); // track 1 is the video
        r.push(unit_of(1, 0, true));
        r.push(unit_of(0, 1, true));
        r.push(unit_of(1, 2, false));
        r.push(unit_of(0, 3, true));
        let mut c = r.join();
        let mut out = Vec::new();
        r.read(&mut c, 100, &mut out);
        assert_eq!(pts(&out), vec![0, 1, 2, 3]);
    }

    #[test]
    fn read_respects_max() {
        let mut r = Ring::new(8, 1);
        for n in 0..5 {
            r.push(unit(n, true));
        }
        let mut c = Cursor {
            next: 0,
            waiting_key: false,
            lagging: false,
        };
        let mut out = Vec::new();
        assert_eq!(r.read(&mut c, 2, &mut out).read, 2);
        assert_eq!(r.read(&mut c, 10, &mut out).read, 3);
        assert_eq!(pts(&out), vec![0, 1, 2, 3, 4]);
        assert!(!r.has_items_for(&c));
    }

    #[test]
    fn a_lag_episode_is_reported_once() {
        let mut r = Ring::new(4, 1);
        r.push(unit(0, true));
        let mut c = r.join();
        for n in 1..10 {
            r.push(unit(n, n % 2 == 0));
        }
        let mut out = Vec::new();
        let first = r.read(&mut c, 1, &mut out);
        assert!(first.lost > 0 && first.lag_started);
        // Still behind, losing again before catching up: the same episode.
        for n in 10..20 {
            r.push(unit(n, n % 2 == 0));
        }
        let again = r.read(&mut c, 1, &mut out);
        assert!(again.lost > 0 && !again.lag_started);
        // Caught up: a later loss is a new episode.
        while r.read(&mut c, 8, &mut out).read > 0 {}
        for n in 20..30 {
            r.push(unit(n, n % 2 == 0));
        }
        assert!(r.read(&mut c, 1, &mut out).lag_started);
    }
}
