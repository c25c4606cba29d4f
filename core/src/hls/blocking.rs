//! Held requests (draft-pantos-hls-rfc8216bis §6.2.5.2 blocking playlist reload, §6.2.6
//! blocking preload hints, and playlists asked for before the first segment exists), and the
//! rules that say when a blocking reload can be answered or must be refused.

use super::segment::SegmentStore;
use super::time::NS_PER_SEC;
use std::time::Instant;

/// The most requests one muxer holds; more are answered 503 at once.
pub(super) const MAX_HELD: usize = 16_384;

/// What a held request waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wait {
    /// A playlist asked for before there is anything to list.
    Content {
        /// The multivariant playlist (else the media playlist).
        multivariant: bool,
    },
    /// A media playlist containing segment `msn` (and its part `part`).
    Reload {
        /// `_HLS_msn`.
        msn: u64,
        /// `_HLS_part`.
        part: Option<u64>,
    },
    /// The part announced by the preload hint.
    Part(u64),
}

/// One held request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Held {
    /// The caller's token.
    pub token: u64,
    /// When it gets 503 if still unanswered.
    pub deadline: Instant,
    /// What it waits for.
    pub wait: Wait,
}

/// The held requests of a muxer, in arrival order.
#[derive(Debug, Clone, Default)]
pub(super) struct HeldRequests {
    held: Vec<Held>,
}

impl HeldRequests {
    /// Holds a request (replacing one with the same token); `false` when too many are held.
    pub fn hold(&mut self, token: u64, deadline: Instant, wait: Wait) -> bool {
        self.forget(token);
        if self.held.len() >= MAX_HELD {
            return false;
        }
        self.held.push(Held {
            token,
            deadline,
            wait,
        });
        true
    }

    /// Drops the request with this token; whether there was one.
    pub fn forget(&mut self, token: u64) -> bool {
        let before = self.held.len();
        self.held.retain(|h| h.token != token);
        self.held.len() != before
    }

    /// The earliest deadline.
    pub fn earliest(&self) -> Option<Instant> {
        self.held.iter().map(|h| h.deadline).min()
    }

    /// How many requests are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Removes and returns (in arrival order) the requests `pick` selects.
    pub fn take_where(&mut self, mut pick: impl FnMut(&Held) -> bool) -> Vec<Held> {
        let mut taken = Vec::new();
        self.held.retain(|h| {
            if pick(h) {
                taken.push(*h);
                false
            } else {
                true
            }
        });
        taken
    }
}

/// The live edge of a Low-Latency playlist: the complete segments, and the open segment's
/// number and complete parts.
#[derive(Debug, Clone, Copy)]
pub(super) struct LiveEdge<'a> {
    /// The complete segments.
    pub store: &'a SegmentStore,
    /// The media sequence number of the open (or next) segment.
    pub next_msn: u64,
    /// How many parts of the open segment are complete.
    pub open_parts: u64,
}

/// The Advance Part Limit for a part target: 3 / target (in seconds) below one second,
/// else 3.
pub(super) fn advance_part_limit(part_target_ns: i64) -> u64 {
    if part_target_ns > 0 && part_target_ns < NS_PER_SEC {
        // Positive: ceil(3 s / target).
        (3 * NS_PER_SEC).div_euclid(part_target_ns) as u64
            + u64::from((3 * NS_PER_SEC).rem_euclid(part_target_ns) != 0)
    } else {
        3
    }
}

impl LiveEdge<'_> {
    /// Whether a blocking reload asks too far ahead (§6.2.5.2: more than two segments past the
    /// last one, or a part beyond the Advance Part Limit): 400 at once.
    pub fn too_far(&self, msn: u64, part: Option<u64>, part_target_ns: i64) -> bool {
        let last = self.store.last_msn().map_or(-1, i128::from);
        if i128::from(msn) > last + 2 {
            return true;
        }
        let Some(part) = part else {
            return false;
        };
        let limit = advance_part_limit(part_target_ns);
        if msn == self.next_msn {
            part >= self.open_parts.saturating_add(limit)
        } else if Some(msn) == self.next_msn.checked_add(1) {
            part >= limit
        } else {
            false
        }
    }

    /// Whether the playlist now contains segment `msn` (or a later one), or its part `part`
    /// (a part index past a complete segment's last part means part 0 of the next segment).
    /// Segments older than the kept ones count as contained.
    pub fn reload_ready(&self, msn: u64, part: Option<u64>) -> bool {
        let Some(last) = self.store.last_msn() else {
            return false;
        };
        let Some(mut part) = part else {
            return msn <= last;
        };
        let mut msn = msn;
        loop {
            if self.store.first_kept_msn().is_some_and(|first| msn < first) {
                return true;
            }
            if let Some(segment) = self.store.get(msn) {
                if part < segment.parts.len() as u64 {
                    return true;
                }
                let Some(next) = msn.checked_add(1) else {
                    return false;
                };
                (msn, part) = (next, 0);
                continue;
            }
            return msn == self.next_msn && part < self.open_parts;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::part::Part;
    use super::super::segment::Segment;
    use super::*;
    use std::time::Duration;

    fn segment(msn: u64, parts: std::ops::Range<u64>) -> Segment {
        Segment {
            msn,
            duration_ns: NS_PER_SEC,
            pdt_ms: 0,
            body: Vec::new(),
            size: 0,
            parts: parts
                .map(|id| Part {
                    id,
                    duration_ns: 1,
                    independent: false,
                    body: Vec::new(),
                })
                .collect(),
            frames: 0,
        }
    }

    #[test]
    fn limits() {
        assert_eq!(advance_part_limit(200_000_000), 15);
        assert_eq!(advance_part_limit(300_000_000), 10);
        assert_eq!(advance_part_limit(333_000_000), 10);
        assert_eq!(advance_part_limit(NS_PER_SEC), 3);
        assert_eq!(advance_part_limit(0), 3);
    }

    #[test]
    fn readiness() {
        let mut store = SegmentStore::new(2);
        let empty = LiveEdge {
            store: &store,
            next_msn: 0,
            open_parts: 2,
        };
        assert!(!empty.reload_ready(0, Some(0)), "no complete segment yet");
        assert!(!empty.too_far(1, None, 200_000_000));
        assert!(empty.too_far(2, None, 200_000_000));
        for msn in 0..4 {
            store.push(segment(msn, msn * 5..msn * 5 + 5));
        }
        // Kept: 0..=3 (2 listed + margin); open segment 4 with 2 parts.
        let edge = LiveEdge {
            store: &store,
            next_msn: 4,
            open_parts: 2,
        };
        assert!(edge.reload_ready(3, None));
        assert!(!edge.reload_ready(4, None));
        assert!(edge.reload_ready(3, Some(4)));
        assert!(edge.reload_ready(3, Some(5)), "part 0 of segment 4");
        assert!(edge.reload_ready(4, Some(1)));
        assert!(!edge.reload_ready(4, Some(2)));
        assert!(!edge.reload_ready(5, Some(0)));
        assert!(!edge.reload_ready(5, None));
        for msn in 4..8 {
            store.push(segment(msn, 0..1));
        }
        let edge = LiveEdge {
            store: &store,
            next_msn: 8,
            open_parts: 0,
        };
        assert!(
            edge.reload_ready(0, Some(9)),
            "evicted segments count as contained"
        );
        assert!(!edge.too_far(9, None, 200_000_000));
        assert!(edge.too_far(10, None, 200_000_000));
        assert!(!edge.too_far(8, Some(14), 200_000_000));
        assert!(edge.too_far(8, Some(15), 200_000_000));
        assert!(!edge.too_far(9, Some(14), 200_000_000));
        assert!(edge.too_far(9, Some(15), 200_000_000));
        assert!(edge.too_far(u64::MAX, None, 0));
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // a fake clock needs one real base instant
    fn held_table() {
        let t0 = Instant::now();
        let mut h = HeldRequests::default();
        assert!(h.hold(1, t0 + Duration::from_secs(3), Wait::Part(4)));
        assert!(h.hold(
            2,
            t0 + Duration::from_secs(1),
            Wait::Content { multivariant: true }
        ));
        assert!(
            h.hold(1, t0 + Duration::from_secs(2), Wait::Part(5)),
            "replaced"
        );
        assert_eq!(h.len(), 2);
        assert_eq!(h.earliest(), Some(t0 + Duration::from_secs(1)));
        let taken = h.take_where(|x| matches!(x.wait, Wait::Part(_)));
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].wait, Wait::Part(5));
        assert!(h.forget(2));
        assert!(!h.forget(2));
        assert_eq!(h.earliest(), None);
        for t in 0..MAX_HELD as u64 {
            assert!(h.hold(t, t0, Wait::Part(0)));
        }
        assert!(!h.hold(u64::MAX, t0, Wait::Part(0)));
    }
}
