//! FLV tag bodies, as RTMP carries them in audio (type 8) and video (type 9) messages: the
//! conversion between RTMP media and weir's media model ([`crate::media::Unit`],
//! [`crate::media::StreamDescription`]), both ways.
//!
//! - [`FlvDemuxer`] (an RTMP publisher → units): legacy FLV H.264 (codec id 7), H.265 (legacy codec
//!   id 12 and Enhanced RTMP `hvc1`), Enhanced RTMP `avc1`, AAC (sound format 10 and Enhanced RTMP
//!   `mp4a`), Opus (Enhanced RTMP v2 `Opus`), and Enhanced RTMP `av01` / `vp09`, whose payloads are
//!   passed through whole (weir has no RTP packetizer for them yet, so their tracks are
//!   [`crate::codec::CodecKind::Generic`] with rtpmap `AV1/90000` / `VP9/90000`).
//! - [`FlvMuxer`] (units of any source → an RTMP reader): H.264 as legacy FLV (codec id 7), H.265
//!   as Enhanced RTMP v1 `hvc1` (read by ffmpeg ≥ 6.1), AAC as sound format 10 (`0xAF`), Opus as
//!   Enhanced RTMP v2 `Opus` (audio FourCCs reached ffmpeg's FLV demuxer after 7.1, i.e. 8.0;
//!   older players ignore or refuse that track).
//!
//! # Timestamps
//!
//! RTMP timestamps are milliseconds; the RTMP layer unwraps them across the 32-bit wrap into an
//! `i64` before they get here, and wraps them again (`as u32`) when writing. Units carry
//! timestamps in their track's clock (90 kHz video, the sample rate for AAC, 48 kHz Opus), on a
//! time line common to all tracks of the stream, so the muxer converts them as they are (no
//! per-track rebasing) and the demuxer's units share the publisher's time line.
//!
//! - milliseconds → clock: `floor(ms × rate / 1000)` (exact for 90 kHz and 48 kHz);
//! - clock → milliseconds: rounded to the nearest millisecond, so clock → ms → clock moves a
//!   timestamp by at most half a millisecond and ms → clock → ms is the identity;
//! - the composition time offset (CTS, signed 24-bit ms) is `round(pts) − round(dts)` in ms; a
//!   negative value (pts before dts, which a valid stream never has) is clamped to 0 both ways,
//!   and values beyond 2^23 − 1 ms are clamped to that.
//!
//! All arithmetic is done in 64/128 bits: nothing overflows or wraps anywhere in this module.

mod audio;
mod avc_config;
mod cursor;
mod demux;
mod exheader;
mod hevc_config;
mod metadata;
mod mux;
mod nalu;
mod opus_head;
mod plan;
mod timestamp;
mod track;
mod video;

#[cfg(test)]
mod demux_tests;
#[cfg(test)]
mod real_tests;
#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

pub use avc_config::AvcConfig;
pub use demux::{FlvDemuxer, FlvOutput, ANALYZE_MESSAGES, ANALYZE_MS};
pub use hevc_config::HevcConfig;
pub use metadata::MetaValue;
pub use mux::{FlvMessage, FlvMuxer};
pub use opus_head::OpusHead;
pub use plan::{NalSyntax, PayloadRef, Piece, Planned, PlannedMessage, TagHeader};
pub use track::{description_from_tracks, TrackInfo};

/// Why an FLV body was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlvError {
    /// The body is truncated or contradicts itself (the sender is to blame).
    Malformed(&'static str),
    /// A valid body this module does not carry (another codec, multitrack): not fatal, the
    /// message was ignored; the caller may log it once.
    Unsupported(&'static str),
}

impl std::fmt::Display for FlvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlvError::Malformed(what) => write!(f, "malformed FLV body: {what}"),
            FlvError::Unsupported(what) => write!(f, "unsupported: {what}"),
        }
    }
}

impl std::error::Error for FlvError {}
