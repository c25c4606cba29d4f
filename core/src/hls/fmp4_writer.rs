//! fMP4 part bodies: the samples of each track gathered until a part ends, then written as one
//! `moof` + `mdat` fragment of shared chunks.
//!
//! A video sample's duration is the distance to the next sample of its track, so the newest
//! video sample of each track is held back ("pending") until the next one arrives; audio
//! samples carry their nominal durations (AAC frame length, Opus TOC).

use crate::fmp4::{Fmp4Track, FragmentOut, FragmentWriter, Sample};
use crate::media::Unit;
use bytes::Bytes;

/// The samples of one track waiting for the end of the part.
#[derive(Debug, Clone)]
struct Run {
    track_id: u32,
    /// Index of the track in the stream description.
    track: usize,
    video: bool,
    ready: Vec<Sample>,
    pending: Option<Sample>,
    /// The last duration given to a sample (the fallback when the next one is unknown).
    last_duration: u32,
}

/// The fMP4 side of the segmenter: the init segment, the per-track samples of the open part,
/// the fragment writer.
#[derive(Debug, Clone, Default)]
pub(super) struct Fmp4Writer {
    init: Option<Bytes>,
    writer: Option<FragmentWriter>,
    tracks: Vec<Fmp4Track>,
    runs: Vec<Run>,
    sequence: u32,
    scratch: Vec<Sample>,
    out: FragmentOut,
}

/// A duration from `dts` to `end` in the track clock, or `fallback` when that is not a
/// positive 32-bit value.
fn duration_to(dts: i64, end: i64, fallback: u32) -> u32 {
    match u32::try_from(end.saturating_sub(dts)) {
        Ok(d) if d > 0 => d,
        _ => fallback.max(1),
    }
}

impl Fmp4Writer {
    /// Whether the init segment exists (units can be written).
    pub fn is_ready(&self) -> bool {
        self.writer.is_some()
    }

    /// The init segment.
    pub fn init(&self) -> Option<&Bytes> {
        self.init.as_ref()
    }

    /// Takes the init segment and the tracks it declares (a sample whose duration cannot be
    /// known gets 1/25 s until a real one is seen).
    pub fn set_init(&mut self, init: Vec<u8>, tracks: Vec<Fmp4Track>) {
        self.runs = tracks
            .iter()
            .map(|t| Run {
                track_id: t.track_id,
                track: t.track,
                video: t.is_video(),
                ready: Vec::new(),
                pending: None,
                last_duration: (t.timescale / 25).max(1),
            })
            .collect();
        self.writer = Some(FragmentWriter::new(tracks.clone()));
        self.tracks = tracks;
        self.init = Some(Bytes::from(init));
    }

    /// Adds the samples of a unit (timestamps already rebased, DTS ≥ 0). Units of tracks the
    /// init segment lacks are ignored.
    pub fn push(&mut self, unit: &Unit) {
        let Some(i) = self.runs.iter().position(|r| r.track == unit.track) else {
            return;
        };
        self.scratch.clear();
        self.tracks[i].push_samples(unit, &mut self.scratch);
        let run = &mut self.runs[i];
        for s in self.scratch.drain(..) {
            if run.video {
                if let Some(mut p) = run.pending.take() {
                    p.duration = duration_to(p.dts, s.dts, run.last_duration);
                    run.last_duration = p.duration;
                    run.ready.push(p);
                }
                run.pending = Some(s);
            } else {
                if s.duration > 0 {
                    run.last_duration = s.duration;
                }
                run.ready.push(s);
            }
        }
    }

    /// Moves the pending sample of `track` into the part, lasting until `next_dts` (the DTS
    /// of the track's next unit, rebased).
    pub fn close_track(&mut self, track: usize, next_dts: i64) {
        if let Some(run) = self.runs.iter_mut().find(|r| r.track == track) {
            if let Some(mut p) = run.pending.take() {
                p.duration = duration_to(p.dts, next_dts, run.last_duration);
                run.last_duration = p.duration;
                run.ready.push(p);
            }
        }
    }

    /// Moves every pending sample into the part, each lasting until `end` (in its own clock,
    /// from `end_of(track)`) or, failing that, as long as the previous sample.
    pub fn flush_all(&mut self, end_of: impl Fn(usize) -> i64) {
        for run in &mut self.runs {
            if let Some(mut p) = run.pending.take() {
                p.duration = duration_to(p.dts, end_of(run.track), run.last_duration);
                run.ready.push(p);
            }
        }
    }

    /// Writes the gathered samples as one fragment: its chunks, `None` when there were none
    /// (or, on input no fragment can carry, the samples are dropped).
    pub fn write_part(&mut self) -> Option<Vec<Bytes>> {
        let Fmp4Writer {
            writer,
            runs,
            sequence,
            out,
            ..
        } = self;
        let writer = writer.as_mut()?;
        for run in runs.iter_mut() {
            // Composition offsets are relative to the decoding times the durations produce;
            // keep them within the 32 bits of trun.
            let mut decode = run.ready.first().map_or(0, |s| s.dts);
            for s in &mut run.ready {
                if i32::try_from(s.pts.saturating_sub(decode)).is_err() {
                    s.pts = decode;
                }
                decode = decode.saturating_add(i64::from(s.duration));
            }
        }
        let list: Vec<(u32, &[Sample])> = runs
            .iter()
            .filter(|r| !r.ready.is_empty())
            .map(|r| (r.track_id, r.ready.as_slice()))
            .collect();
        if list.is_empty() {
            return None;
        }
        *sequence = sequence.wrapping_add(1).max(1);
        out.clear();
        let result = writer.write_fragment(*sequence, &list, out);
        for run in runs.iter_mut() {
            run.ready.clear();
        }
        match result {
            Ok(()) => {
                out.len = 0;
                Some(std::mem::take(&mut out.chunks))
            }
            Err(e) => {
                tracing::debug!("HLS: part dropped: {e}");
                None
            }
        }
    }

    /// Drops every gathered and pending sample.
    pub fn discard(&mut self) {
        for run in &mut self.runs {
            run.ready.clear();
            run.pending = None;
        }
    }
}
