//! The segmenter: units in, complete parts and segments out.
//!
//! - Nothing is written before the first key frame of the leading track (the first video
//!   track, else the first audio track, whose every unit is a key); units of other tracks
//!   before it are dropped.
//! - A segment ends at the first leading key frame once `segment_duration` has elapsed since
//!   its start (audio-only: at the first leading unit); the key frame starts the next one.
//! - Low-Latency segments are made of parts: a part ends at the first leading unit once
//!   `part_duration` has elapsed since its start, and at every segment end. The `fmp4`
//!   variant makes no parts: each segment is one fragment.
//! - Durations are media time (leading track DTS), in nanoseconds of stream time.
//! - A segment that would exceed `segment_max_size` ends before the unit that would overflow
//!   it; units are then dropped until the next leading key frame starts a new segment.
//!
//! Timestamps are rebased so that the first segment starts at 10 s of media time in every
//! track's clock: units slightly earlier (audio) keep non-negative timestamps, units more than
//! 10 s earlier are dropped.

use super::config::HlsConfig;
use super::fmp4_writer::Fmp4Writer;
use super::part::Part;
use super::segment::{Segment, SegmentStore};
use super::time::{ns_to_ts, ts_to_ns, NS_PER_SEC};
use super::tracks::TrackSet;
use super::ts_writer::TsWriter;
use super::HlsError;
use crate::media::Unit;
use bytes::Bytes;
use smallvec::SmallVec;
use std::time::Duration;

/// The media time of the first segment's start in the written timestamps.
const TIME_OFFSET_NS: i64 = 10 * NS_PER_SEC;
/// The largest composition offset kept (pts − dts); beyond it the PTS is set to the DTS.
const MAX_CTS: i64 = 1 << 30;
/// Bytes reserved for the headers of each fMP4 part: moof, mfhd, mdat…
const PART_OVERHEAD: u64 = 32;
/// …and per track: traf, tfhd, tfdt, trun.
const PART_OVERHEAD_PER_TRACK: u64 = 64;
/// The MPEG-TS packet size.
const TS_PACKET: u64 = 188;
/// The MPEG-TS packet payload (after its 4-byte header).
const TS_PAYLOAD: u64 = 184;

/// The container the segments are written in.
#[derive(Debug, Clone)]
enum Writer {
    Ts(TsWriter),
    Fmp4(Fmp4Writer),
}

/// The segment being written.
#[derive(Debug, Clone)]
struct OpenSegment {
    msn: u64,
    start_ns: i64,
    pdt_ms: i64,
    part_start_ns: i64,
    /// Whether the open part's first leading unit is a key frame (unknown before it).
    part_independent: Option<bool>,
    parts: Vec<Part>,
    /// An upper bound of the bytes written so far.
    size: u64,
    units: u64,
    frames: u64,
}

/// Cuts the units of a stream into segments (and parts) and keeps the complete ones.
#[derive(Debug, Clone)]
pub(super) struct Segmenter {
    segment_ns: i64,
    part_ns: i64,
    max_size: u64,
    set: TrackSet,
    leading: Option<usize>,
    writer: Writer,
    origin_ns: Option<i64>,
    open: Option<OpenSegment>,
    store: SegmentStore,
    next_msn: u64,
    next_part_id: u64,
    changed: bool,
}

/// A duration in nanoseconds (saturating).
fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// `ts` of a `rate` Hz clock moved so that `origin_ns` lands on [`TIME_OFFSET_NS`].
fn shift(ts: i64, rate: u32, origin_ns: i64) -> i64 {
    let by = ns_to_ts(TIME_OFFSET_NS, rate).saturating_sub(ns_to_ts(origin_ns, rate));
    ts.saturating_add(by)
}

impl Segmenter {
    /// A segmenter for the tracks of `desc` HLS can carry (others are ignored).
    pub fn new(cfg: &HlsConfig, desc: &crate::media::StreamDescription) -> Result<Self, HlsError> {
        let mut set = TrackSet::new(desc);
        if !set.any_carried() {
            return Err(HlsError::NoTracks);
        }
        let writer = if cfg.variant.is_fmp4() {
            set.check_fmp4()?;
            Writer::Fmp4(Fmp4Writer::default())
        } else {
            let muxer = set.build_ts()?;
            Writer::Ts(TsWriter::new(muxer, !set.leading_is_video()))
        };
        let leading = set.leading();
        if leading.is_none() {
            return Err(HlsError::NoTracks);
        }
        Ok(Segmenter {
            segment_ns: nanos(cfg.segment_duration),
            part_ns: if cfg.variant.has_parts() {
                nanos(cfg.part_duration)
            } else {
                i64::MAX
            },
            max_size: cfg.segment_max_size,
            set,
            leading,
            writer,
            origin_ns: None,
            open: None,
            store: SegmentStore::new(cfg.segment_count),
            next_msn: 0,
            next_part_id: 0,
            changed: false,
        })
    }

    /// The tracks.
    pub fn tracks(&self) -> &TrackSet {
        &self.set
    }

    /// The complete segments.
    pub fn store(&self) -> &SegmentStore {
        &self.store
    }

    /// The complete parts of the open segment.
    pub fn open_parts(&self) -> &[Part] {
        self.open.as_ref().map_or(&[], |o| &o.parts)
    }

    /// The media sequence number of the open segment, or of the next one to open.
    pub fn next_msn(&self) -> u64 {
        self.next_msn
    }

    /// The id the next complete part will get (the preload hint).
    pub fn next_part_id(&self) -> u64 {
        self.next_part_id
    }

    /// A kept part, in a complete segment or the open one.
    pub fn part(&self, id: u64) -> Option<&Part> {
        self.open_parts()
            .iter()
            .find(|p| p.id == id)
            .or_else(|| self.store.part(id))
    }

    /// The fMP4 init segment, once written.
    pub fn init(&self) -> Option<&Bytes> {
        match &self.writer {
            Writer::Fmp4(w) => w.init(),
            Writer::Ts(_) => None,
        }
    }

    /// Whether a part or segment completed since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// An upper bound of the bytes held by the open segment.
    pub fn open_size(&self) -> u64 {
        self.open.as_ref().map_or(0, |o| o.size)
    }

    /// Feeds one unit; `wall_ms` is the wall clock (Unix milliseconds) for the
    /// EXT-X-PROGRAM-DATE-TIME of a segment it starts.
    pub fn push(&mut self, unit: &Unit, wall_ms: i64) {
        let Some(info) = self.set.tracks.get_mut(unit.track) else {
            return;
        };
        if !info.carried || unit.payload.iter().all(|p| p.is_empty()) {
            return;
        }
        if info.codec.is_video() {
            info.params.learn(info.codec, &unit.payload);
        }
        let rate = info.clock_rate;
        let Some(leading) = self.leading else {
            return;
        };
        let leading_video = self.set.tracks[leading].codec.is_video();
        let is_leading = unit.track == leading;
        let starts = is_leading && (unit.key || !leading_video);
        let dts_ns = ts_to_ns(unit.dts, rate);
        if self.open.is_none() {
            if !starts || !self.ensure_writer() || self.leading != Some(unit.track) {
                return;
            }
            self.origin_ns.get_or_insert(dts_ns);
        }
        let Some(rebased) = self.rebase(unit, rate) else {
            return;
        };
        match self.open.as_ref().map(|o| (o.start_ns, o.part_start_ns)) {
            None => self.open_segment(dts_ns, wall_ms),
            Some((start_ns, part_start_ns)) if is_leading => {
                if starts && dts_ns.saturating_sub(start_ns) >= self.segment_ns {
                    self.finish_segment(dts_ns, Some(rebased.dts));
                    self.open_segment(dts_ns, wall_ms);
                } else if matches!(self.writer, Writer::Fmp4(_))
                    && dts_ns.saturating_sub(part_start_ns) >= self.part_ns
                {
                    self.finish_part(dts_ns, Some(rebased.dts));
                }
            }
            Some(_) => {}
        }
        self.write(&rebased, dts_ns, is_leading, leading_video);
    }

    /// Makes sure the container can take units (fMP4: the init segment exists).
    fn ensure_writer(&mut self) -> bool {
        let Writer::Fmp4(w) = &mut self.writer else {
            return true;
        };
        if w.is_ready() {
            return true;
        }
        let built = self.set.build_fmp4_init();
        self.leading = self.set.leading();
        match built {
            Some((init, tracks)) => {
                w.set_init(init, tracks);
                true
            }
            None => false,
        }
    }

    /// The unit with timestamps moved next to [`TIME_OFFSET_NS`], `None` when its DTS would
    /// be negative.
    fn rebase(&self, unit: &Unit, rate: u32) -> Option<Unit> {
        let origin = self.origin_ns?;
        let dts = shift(unit.dts, rate, origin);
        if dts < 0 {
            return None;
        }
        let mut pts = shift(unit.pts, rate, origin);
        if pts < 0 || pts.saturating_sub(dts).abs() > MAX_CTS {
            pts = dts;
        }
        Some(Unit {
            track: unit.track,
            pts,
            dts,
            key: unit.key,
            payload: unit.payload.clone(),
            rtp: SmallVec::new(),
        })
    }

    /// An upper bound of the bytes a unit adds to a segment.
    fn estimate(&self, unit: &Unit) -> u64 {
        let (n, bytes) = unit
            .payload
            .iter()
            .filter(|p| !p.is_empty())
            .fold((0u64, 0u64), |(n, b), p| {
                (n + 1, b.saturating_add(p.len() as u64))
            });
        match &self.writer {
            Writer::Fmp4(_) => bytes.saturating_add(20 * n + 16),
            Writer::Ts(_) => {
                // PES header, PCR, AUD, ADTS / Opus headers, Opus size bytes, parameter sets
                // the muxer may insert before a key frame; then TS packetization, and the
                // tables before a video key frame (audio-only: at the segment start).
                let mut raw = bytes.saturating_add(12 * n + bytes / 255 + 64);
                let info = &self.set.tracks[unit.track];
                let key_frame = info.codec.is_video() && unit.key;
                if key_frame {
                    raw = raw.saturating_add(3 * info.params.largest as u64 + 64);
                }
                let tables = if key_frame { 2 * TS_PACKET } else { 0 };
                (raw / TS_PAYLOAD + 1)
                    .saturating_mul(TS_PACKET)
                    .saturating_add(tables)
            }
        }
    }

    /// The bytes reserved for one part's headers.
    fn part_overhead(&self) -> u64 {
        match &self.writer {
            Writer::Fmp4(_) => {
                PART_OVERHEAD + PART_OVERHEAD_PER_TRACK * self.set.tracks.len() as u64
            }
            Writer::Ts(_) => 0,
        }
    }

    /// Opens a segment starting at `start_ns`.
    fn open_segment(&mut self, start_ns: i64, wall_ms: i64) {
        let overhead = match &mut self.writer {
            Writer::Ts(w) => {
                w.start_segment();
                w.len() as u64
            }
            Writer::Fmp4(_) => self.part_overhead(),
        };
        self.open = Some(OpenSegment {
            msn: self.next_msn,
            start_ns,
            pdt_ms: wall_ms,
            part_start_ns: start_ns,
            part_independent: None,
            parts: Vec::new(),
            size: overhead,
            units: 0,
            frames: 0,
        });
    }

    /// Writes a (rebased) unit into the open segment, or ends the segment when it would
    /// exceed the size limit.
    fn write(&mut self, unit: &Unit, dts_ns: i64, is_leading: bool, leading_video: bool) {
        let est = self.estimate(unit);
        let Some(open) = self.open.as_mut() else {
            return;
        };
        if open.size.saturating_add(est) > self.max_size {
            if open.units == 0 {
                self.abandon();
            } else {
                tracing::warn!("HLS: segment {} reached the maximum segment size", open.msn);
                self.finish_segment(dts_ns, None);
            }
            return;
        }
        match &mut self.writer {
            Writer::Ts(w) => w.write(unit),
            Writer::Fmp4(w) => w.push(unit),
        }
        open.size += est;
        open.units += 1;
        if is_leading {
            open.frames += u64::from(leading_video);
            open.part_independent
                .get_or_insert(unit.key || !leading_video);
        }
    }

    /// Drops the open segment (it holds no unit).
    fn abandon(&mut self) {
        self.open = None;
        if let Writer::Fmp4(w) = &mut self.writer {
            w.discard();
        }
    }

    /// Ends the open part at `end_ns`: the leading track's pending sample lasts until
    /// `leading_next` (the rebased DTS of the unit that ends the part), or, without it, every
    /// pending sample lasts until `end_ns`.
    fn finish_part(&mut self, end_ns: i64, leading_next: Option<i64>) {
        let overhead = self.part_overhead();
        let Segmenter {
            writer: Writer::Fmp4(w),
            open: Some(open),
            set,
            origin_ns,
            leading,
            next_part_id,
            changed,
            ..
        } = self
        else {
            return;
        };
        match (leading_next, *leading) {
            (Some(next), Some(lead)) => w.close_track(lead, next),
            _ => {
                let origin = origin_ns.unwrap_or(0);
                w.flush_all(|t| {
                    let rate = set.tracks.get(t).map_or(90_000, |t| t.clock_rate);
                    shift(ns_to_ts(end_ns, rate), rate, origin)
                });
            }
        }
        if let Some(body) = w.write_part() {
            open.parts.push(Part {
                id: *next_part_id,
                duration_ns: end_ns.saturating_sub(open.part_start_ns).max(0),
                independent: open.part_independent.unwrap_or(false),
                body,
            });
            *next_part_id += 1;
            *changed = true;
        }
        open.part_start_ns = end_ns;
        open.part_independent = None;
        open.size = open.size.saturating_add(overhead);
    }

    /// Ends the open segment at `end_ns` (see [`Self::finish_part`] for `leading_next`) and
    /// stores it.
    fn finish_segment(&mut self, end_ns: i64, leading_next: Option<i64>) {
        self.finish_part(end_ns, leading_next);
        let Some(open) = self.open.take() else {
            return;
        };
        let body: Vec<Bytes> = match &mut self.writer {
            Writer::Ts(w) => vec![w.take()],
            Writer::Fmp4(_) => open
                .parts
                .iter()
                .flat_map(|p| p.body.iter().cloned())
                .collect(),
        };
        let size: u64 = body.iter().map(|b| b.len() as u64).sum();
        if open.units == 0 || size == 0 {
            return;
        }
        self.store.push(Segment {
            msn: open.msn,
            duration_ns: end_ns.saturating_sub(open.start_ns).max(0),
            pdt_ms: open.pdt_ms,
            body,
            size,
            parts: open.parts,
            frames: open.frames,
        });
        self.next_msn += 1;
        self.changed = true;
    }
}
