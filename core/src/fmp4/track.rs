//! The tracks of an init segment and the samples fragments carry.

use crate::codec::{opus, CodecKind};
use crate::media::Unit;
use bytes::Bytes;
use smallvec::SmallVec;

/// One track of an init segment, as [`super::init_segment`] declared it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fmp4Track {
    /// The fMP4 track_ID (1, 2, … in description order).
    pub track_id: u32,
    /// The track's index in the stream description (`Unit::track`).
    pub track: usize,
    /// The codec.
    pub codec: CodecKind,
    /// The media timescale: the track's clock rate (units' timestamps need no conversion).
    pub timescale: u32,
    /// AAC: one access unit's duration in the timescale (0 for other codecs).
    pub(super) frame_duration: u32,
}

/// One sample of a fragment, in its track's timescale.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sample {
    /// Decoding timestamp.
    pub dts: i64,
    /// Presentation timestamp.
    pub pts: i64,
    /// Duration: the next sample's DTS minus this one's.
    pub duration: u32,
    /// Whether a decoder can start here (a sync sample).
    pub key: bool,
    /// The payload: NAL units without start codes (H.264/H.265, written with 4-byte length
    /// prefixes), or the pieces of one AAC access unit / one Opus packet (concatenated).
    pub data: SmallVec<[Bytes; 4]>,
}

impl Fmp4Track {
    /// Whether the track is video (samples may be non-sync, NAL units are length-prefixed).
    pub fn is_video(&self) -> bool {
        self.codec.is_video()
    }

    /// Appends the samples of `unit` (a unit of this track) to `out`: one sample per video
    /// unit (NAL units shared, not copied), one per AAC access unit (spaced by the frame
    /// duration) and one per Opus packet (spaced by the packet duration from its TOC, 20 ms
    /// when unreadable). Durations are the codec's nominal ones and 0 for video: the caller
    /// holds the last sample back and sets its duration from the next sample's DTS. Empty
    /// pieces give no sample.
    pub fn push_samples(&self, unit: &Unit, out: &mut Vec<Sample>) {
        if self.is_video() {
            if unit.payload.iter().any(|p| !p.is_empty()) {
                out.push(Sample {
                    dts: unit.dts,
                    pts: unit.pts,
                    duration: 0,
                    key: unit.key,
                    data: unit.payload.clone(),
                });
            }
            return;
        }
        let mut offset = 0i64;
        for piece in unit.payload.iter().filter(|p| !p.is_empty()) {
            let duration = match self.codec {
                CodecKind::Opus => {
                    let d = u64::from(opus::packet_duration(piece).unwrap_or(960))
                        * u64::from(self.timescale)
                        / u64::from(opus::OPUS_CLOCK_RATE);
                    u32::try_from(d).unwrap_or(u32::MAX)
                }
                _ => self.frame_duration,
            };
            let mut data = SmallVec::new();
            data.push(piece.clone());
            out.push(Sample {
                dts: unit.dts.saturating_add(offset),
                pts: unit.pts.saturating_add(offset),
                duration,
                key: true,
                data,
            });
            offset = offset.saturating_add(i64::from(duration));
        }
    }
}
