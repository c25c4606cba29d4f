//! Fragmented MP4 / CMAF muxing (ISO/IEC 14496-12, -14, -15, Opus in ISOBMFF) for HLS
//! (RFC 8216 §3.3: an initialization section, then `moof` + `mdat` media segments; LL-HLS
//! parts are smaller fragments written the same way).
//!
//! - [`init_segment`] writes `ftyp` + `moov` for the tracks of a stream description it can
//!   carry (H.264 `avc1`, H.265 `hvc1`, AAC `mp4a`, Opus) and returns the [`Fmp4Track`]s.
//! - [`FragmentWriter::write_fragment`] writes one `moof` + `mdat` from runs of [`Sample`]s
//!   per track into a [`FragmentOut`]: a list of `Bytes` chunks where sample payloads are
//!   referenced, not copied, ready for a vectored write.
//!
//! Timestamps stay in the track clock (the timescale is the clock rate). A sample's duration
//! is the next sample's DTS minus its own, so the caller (the HLS segmenter) holds the last
//! sample of each track back until the next one arrives; [`Fmp4Track::push_samples`] turns a
//! unit into samples.
//!
//! Errors are the [`MuxError`] of the MPEG-TS muxer.

mod audio_entry;
mod bits;
mod boxes;
mod fragment;
mod init;
mod track;
mod video_entry;

#[cfg(test)]
mod ffprobe_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use crate::mpegts::MuxError;
pub use fragment::{FragmentOut, FragmentWriter, SAMPLE_FLAGS_NON_SYNC, SAMPLE_FLAGS_SYNC};
pub use init::init_segment;
pub use track::{Fmp4Track, Sample};
