//! Media fragments (ISO/IEC 14496-12 §8.8.4–§8.8.12): `moof` (mfhd, one traf per track with
//! tfhd, tfdt version 1 and trun version 1) followed by `mdat`, written as a list of chunks
//! so that sample payloads are referenced, not copied.

use super::boxes::{begin, begin_full, end, put_u32, put_u64};
use super::{Fmp4Track, Sample};
use crate::mpegts::MuxError;
use bytes::Bytes;

/// tfhd flag: offsets are relative to the start of the moof.
const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;
/// trun flags: data offset, per-sample duration, size, flags, composition time offset.
const TRUN_DATA_OFFSET: u32 = 0x000001;
const TRUN_DURATION: u32 = 0x000100;
const TRUN_SIZE: u32 = 0x000200;
const TRUN_FLAGS: u32 = 0x000400;
const TRUN_CTS: u32 = 0x000800;
/// Sample flags of a sync sample: sample_depends_on 2 (depends on no other sample).
pub const SAMPLE_FLAGS_SYNC: u32 = 0x0200_0000;
/// Sample flags of a non-sync sample: sample_depends_on 1, sample_is_non_sync_sample.
pub const SAMPLE_FLAGS_NON_SYNC: u32 = 0x0101_0000;
/// Payload pieces up to this size are copied next to the headers instead of referenced.
const INLINE_MAX: usize = 64;
/// The largest mdat payload: trun data offsets are signed 32-bit.
const MAX_MDAT: usize = i32::MAX as usize - (1 << 20);

/// A fragment as a list of chunks to send in order (vectored): the headers and small pieces
/// in owned chunks, sample payloads as references to the units' buffers.
#[derive(Debug, Clone, Default)]
pub struct FragmentOut {
    /// The chunks, in order.
    pub chunks: Vec<Bytes>,
    /// The total length of the chunks.
    pub len: usize,
}

impl FragmentOut {
    /// Empties the output for reuse.
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }

    /// The chunks joined into one buffer (for files and tests).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.len);
        for c in &self.chunks {
            v.extend_from_slice(c);
        }
        v
    }
}

/// One piece of the output: a range of the owned buffer or a referenced payload.
#[derive(Debug, Clone)]
enum Piece {
    Owned(usize, usize),
    Shared(Bytes),
}

/// The per-run facts computed before writing.
#[derive(Debug, Clone, Copy)]
struct RunInfo {
    track: usize,
    base_dts: u64,
    cts: bool,
}

/// Writes fragments for the tracks of an init segment. It keeps no state between fragments
/// but scratch buffers; the same writer serves whole segments and LL-HLS parts.
#[derive(Debug, Clone)]
pub struct FragmentWriter {
    tracks: Vec<Fmp4Track>,
    pieces: Vec<Piece>,
    runs: Vec<RunInfo>,
}

/// The size of a sample in mdat: its pieces, plus a 4-byte length per NAL unit for video.
fn sample_size(video: bool, s: &Sample) -> usize {
    s.data
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.len() + if video { 4 } else { 0 })
        .sum()
}

impl FragmentWriter {
    /// A writer for `tracks` (from [`super::init_segment`]).
    pub fn new(tracks: Vec<Fmp4Track>) -> FragmentWriter {
        FragmentWriter {
            tracks,
            pieces: Vec::new(),
            runs: Vec::new(),
        }
    }

    /// The tracks this writer knows.
    pub fn tracks(&self) -> &[Fmp4Track] {
        &self.tracks
    }

    /// Appends one `moof` + `mdat` to `out`: one traf per `(track_id, samples)` run with
    /// samples (in the given order; empty runs are skipped, and nothing is written when all
    /// are empty). The run's first DTS is its `tfdt` (must be ≥ 0); sample `i` decodes at that
    /// DTS plus the durations of the samples before it and is presented at its `pts` (the
    /// composition offset, possibly negative, is `pts` minus that decoding time). Errors write
    /// nothing: unknown track id, negative first DTS, composition offset beyond 32 bits, more
    /// than 2 GiB of media data.
    pub fn write_fragment(
        &mut self,
        sequence_number: u32,
        runs: &[(u32, &[Sample])],
        out: &mut FragmentOut,
    ) -> Result<(), MuxError> {
        self.runs.clear();
        let mut mdat_len = 0usize;
        let mut trun_len = 0usize;
        for &(track_id, samples) in runs {
            let Some(first) = samples.first() else {
                continue;
            };
            let track = self
                .tracks
                .iter()
                .position(|t| t.track_id == track_id)
                .ok_or(MuxError::UnknownTrack(track_id))?;
            let video = self.tracks[track].is_video();
            let base_dts =
                u64::try_from(first.dts).map_err(|_| MuxError::NegativeTimestamp { track_id })?;
            let mut decode = i128::from(first.dts);
            let mut cts = video;
            for s in samples {
                let offset = i128::from(s.pts) - decode;
                i32::try_from(offset).map_err(|_| MuxError::TimestampOutOfRange { track_id })?;
                cts |= offset != 0;
                decode += i128::from(s.duration);
                mdat_len = mdat_len.saturating_add(sample_size(video, s));
            }
            trun_len = trun_len.saturating_add(samples.len().saturating_mul(16));
            self.runs.push(RunInfo {
                track,
                base_dts,
                cts,
            });
        }
        if self.runs.is_empty() {
            return Ok(());
        }
        if mdat_len > MAX_MDAT || trun_len > MAX_MDAT {
            return Err(MuxError::FragmentTooLarge);
        }
        self.write(sequence_number, runs, mdat_len, out);
        Ok(())
    }

    /// Writes a checked fragment (`self.runs` holds one entry per non-empty run).
    fn write(
        &mut self,
        sequence_number: u32,
        runs: &[(u32, &[Sample])],
        mdat_len: usize,
        out: &mut FragmentOut,
    ) {
        let count: usize = runs.iter().map(|r| r.1.len()).sum();
        let mut buf = Vec::with_capacity(256 + 16 * count + 8 * self.runs.len());
        let moof = begin(&mut buf, b"moof");
        let mfhd = begin_full(&mut buf, b"mfhd", 0, 0);
        put_u32(&mut buf, sequence_number);
        end(&mut buf, mfhd);
        let non_empty = || runs.iter().filter(|r| !r.1.is_empty());
        let mut offsets = Vec::with_capacity(self.runs.len());
        for (&(track_id, samples), run) in non_empty().zip(&self.runs) {
            let video = self.tracks[run.track].is_video();
            let traf = begin(&mut buf, b"traf");
            let tfhd = begin_full(&mut buf, b"tfhd", 0, TFHD_DEFAULT_BASE_IS_MOOF);
            put_u32(&mut buf, track_id);
            end(&mut buf, tfhd);
            let tfdt = begin_full(&mut buf, b"tfdt", 1, 0);
            put_u64(&mut buf, run.base_dts);
            end(&mut buf, tfdt);
            let mut flags = TRUN_DATA_OFFSET | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS;
            if run.cts {
                flags |= TRUN_CTS;
            }
            let trun = begin_full(&mut buf, b"trun", 1, flags);
            // Checked: fewer than 2^31 / 16 samples.
            put_u32(&mut buf, samples.len() as u32);
            offsets.push(buf.len());
            put_u32(&mut buf, 0); // data_offset, patched below
            let mut decode = i128::from(run.base_dts);
            for s in samples {
                put_u32(&mut buf, s.duration);
                // Checked: the mdat is below 2 GiB.
                put_u32(&mut buf, sample_size(video, s) as u32);
                let sync = s.key || !video;
                put_u32(
                    &mut buf,
                    if sync {
                        SAMPLE_FLAGS_SYNC
                    } else {
                        SAMPLE_FLAGS_NON_SYNC
                    },
                );
                if run.cts {
                    // Checked to fit an i32; version 1 makes it signed.
                    put_u32(&mut buf, (i128::from(s.pts) - decode) as i32 as u32);
                }
                decode += i128::from(s.duration);
            }
            end(&mut buf, trun);
            end(&mut buf, traf);
        }
        end(&mut buf, moof);
        let moof_len = buf.len();
        // The mdat size is checked below 2 GiB.
        put_u32(&mut buf, (8 + mdat_len) as u32);
        buf.extend_from_slice(b"mdat");

        // Data offsets, then the payload: NAL unit lengths and small pieces copied next to the
        // headers, larger pieces referenced.
        self.pieces.clear();
        let mut owned_from = 0;
        let mut data_pos = moof_len + 8;
        for ((&(_, samples), run), at) in non_empty().zip(&self.runs).zip(offsets) {
            // Checked: below 2 GiB.
            buf[at..at + 4].copy_from_slice(&(data_pos as u32).to_be_bytes());
            let video = self.tracks[run.track].is_video();
            for s in samples {
                data_pos += sample_size(video, s);
                for p in s.data.iter().filter(|p| !p.is_empty()) {
                    if video {
                        put_u32(&mut buf, p.len() as u32);
                    }
                    if p.len() <= INLINE_MAX {
                        buf.extend_from_slice(p);
                    } else {
                        self.pieces.push(Piece::Owned(owned_from, buf.len()));
                        owned_from = buf.len();
                        self.pieces.push(Piece::Shared(p.clone()));
                    }
                }
            }
        }
        self.pieces.push(Piece::Owned(owned_from, buf.len()));
        let owned = Bytes::from(buf);
        for piece in self.pieces.drain(..) {
            let chunk = match piece {
                Piece::Owned(a, b) if a < b => owned.slice(a..b),
                Piece::Owned(..) => continue,
                Piece::Shared(b) => b,
            };
            out.len += chunk.len();
            out.chunks.push(chunk);
        }
    }
}
