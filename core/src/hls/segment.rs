//! Complete segments and the bounded store that keeps them: the segments the playlist lists,
//! plus a small margin of older ones still served to clients that are downloading them.

use super::part::Part;
use bytes::Bytes;

/// How many segments beyond the listed ones stay downloadable after they leave the playlist
/// (RFC 8216 §6.2.2: clients may still fetch a segment shortly after its removal).
pub(super) const KEEP_MARGIN: usize = 2;

/// One complete segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Segment {
    /// The media sequence number (`seg<msn>.mp4` / `seg<msn>.ts`).
    pub msn: u64,
    /// Its duration in nanoseconds (up to the next segment's start).
    pub duration_ns: i64,
    /// The wall clock when its first unit arrived (Unix milliseconds).
    pub pdt_ms: i64,
    /// The file, as chunks to send in order (for fMP4: the chunks of its parts).
    pub body: Vec<Bytes>,
    /// The total length of the chunks.
    pub size: u64,
    /// Its parts, in order (fMP4 only).
    pub parts: Vec<Part>,
    /// How many units of the leading video track it holds (for the frame rate estimate).
    pub frames: u64,
}

impl Segment {
    /// The file name the playlists use for this segment.
    pub fn file_name(&self, fmp4: bool) -> String {
        format!("seg{}.{}", self.msn, if fmp4 { "mp4" } else { "ts" })
    }
}

/// The complete segments of a stream, oldest first, at most `listed + KEEP_MARGIN` of them.
#[derive(Debug, Clone, Default)]
pub(super) struct SegmentStore {
    segments: Vec<Segment>,
    listed: usize,
}

impl SegmentStore {
    /// A store whose playlist lists `listed` segments (at least one).
    pub fn new(listed: usize) -> SegmentStore {
        SegmentStore {
            segments: Vec::with_capacity(listed.max(1) + KEEP_MARGIN + 1),
            listed: listed.max(1),
        }
    }

    /// Adds the newest segment and drops the oldest ones beyond the bound.
    pub fn push(&mut self, segment: Segment) {
        self.segments.push(segment);
        let keep = self.listed + KEEP_MARGIN;
        if self.segments.len() > keep {
            let excess = self.segments.len() - keep;
            self.segments.drain(..excess);
        }
    }

    /// Every kept segment, oldest first.
    pub fn kept(&self) -> &[Segment] {
        &self.segments
    }

    /// The segments the playlist lists: the newest `listed`.
    pub fn listed(&self) -> &[Segment] {
        let from = self.segments.len().saturating_sub(self.listed);
        &self.segments[from..]
    }

    /// The kept segment with this media sequence number.
    pub fn get(&self, msn: u64) -> Option<&Segment> {
        let i = self.segments.binary_search_by_key(&msn, |s| s.msn).ok()?;
        self.segments.get(i)
    }

    /// The kept part with this id.
    pub fn part(&self, id: u64) -> Option<&Part> {
        self.segments
            .iter()
            .rev()
            .flat_map(|s| s.parts.iter())
            .find(|p| p.id == id)
    }

    /// The media sequence number of the newest segment.
    pub fn last_msn(&self) -> Option<u64> {
        self.segments.last().map(|s| s.msn)
    }

    /// The media sequence number of the oldest kept segment.
    pub fn first_kept_msn(&self) -> Option<u64> {
        self.segments.first().map(|s| s.msn)
    }

    /// The total size of the kept segments (their parts share the same chunks).
    pub fn bytes(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| s.size)
            .fold(0, u64::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(msn: u64) -> Segment {
        Segment {
            msn,
            duration_ns: 1,
            pdt_ms: 0,
            body: vec![Bytes::from_static(b"x")],
            size: 1,
            parts: vec![Part {
                id: msn * 10,
                duration_ns: 1,
                independent: true,
                body: Vec::new(),
            }],
            frames: 0,
        }
    }

    #[test]
    fn keeps_listed_plus_margin() {
        let mut s = SegmentStore::new(3);
        for msn in 0..10 {
            s.push(seg(msn));
        }
        assert_eq!(s.kept().len(), 3 + KEEP_MARGIN);
        assert_eq!(s.first_kept_msn(), Some(5));
        assert_eq!(
            s.listed().iter().map(|s| s.msn).collect::<Vec<_>>(),
            [7, 8, 9]
        );
        assert!(s.get(4).is_none());
        assert_eq!(s.get(5).map(|s| s.msn), Some(5));
        assert_eq!(s.part(90).map(|p| p.id), Some(90));
        assert!(s.part(40).is_none());
        assert_eq!(s.last_msn(), Some(9));
        assert_eq!(s.bytes(), 5);
        assert_eq!(seg(3).file_name(true), "seg3.mp4");
        assert_eq!(seg(3).file_name(false), "seg3.ts");
    }
}
