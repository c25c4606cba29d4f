//! MPEG-TS segment bodies: the units of a segment through one [`TsMuxer`] (continuity
//! counters run on across segments) into one buffer per segment.

use crate::media::Unit;
use crate::mpegts::TsMuxer;
use bytes::Bytes;

/// Writes the units of the open segment into its buffer.
#[derive(Debug, Clone)]
pub(super) struct TsWriter {
    muxer: TsMuxer,
    buf: Vec<u8>,
    audio_only: bool,
}

impl TsWriter {
    /// A writer over `muxer`; `audio_only` streams get the PAT/PMT at every segment start
    /// (video streams get them before every key frame from the muxer itself).
    pub fn new(muxer: TsMuxer, audio_only: bool) -> TsWriter {
        TsWriter {
            muxer,
            buf: Vec::new(),
            audio_only,
        }
    }

    /// Starts a segment (dropping whatever an abandoned one held).
    pub fn start_segment(&mut self) {
        self.buf = Vec::new();
        if self.audio_only {
            self.muxer.write_tables(&mut self.buf);
        }
    }

    /// Appends a unit; units the muxer rejects (empty, too large for ADTS/PES) are skipped.
    pub fn write(&mut self, unit: &Unit) {
        if let Err(e) = self.muxer.write_unit(unit, &mut self.buf) {
            tracing::debug!("HLS: unit skipped: {e}");
        }
    }

    /// The open segment's bytes so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Ends the segment: its bytes, as one shared chunk.
    pub fn take(&mut self) -> Bytes {
        Bytes::from(std::mem::take(&mut self.buf))
    }
}
