//! Codecs: one module per codec, each with an RTP depacketizer (RTP packets → access units) and,
//! where the codec reorders frames, a DTS extractor.
//!
//! Every depacketizer follows one contract, [`Depacketizer`]: the caller (the per-path stream)
//! decides where an access unit ends (marker bit, or a new RTP timestamp) and calls
//! [`Depacketizer::push`] for each packet of the unit, then [`Depacketizer::finish`] once.

use crate::rtp::RtpPacket;
use bytes::Bytes;
use smallvec::SmallVec;

pub mod annexb;
mod bits;
mod fmtp;
pub mod g711;
pub mod h264;
pub mod h265;
pub mod mpeg4audio;
mod nal_au;
pub mod opus;
mod rtp_out;
#[cfg(test)]
mod test_util;
mod timeline;

pub use rtp_out::DEFAULT_MTU_PAYLOAD;

/// The codec of a track, as named in SDP `rtpmap` (and as MediaMTX names it in its logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodecKind {
    /// H.264 / AVC (RFC 6184).
    H264,
    /// H.265 / HEVC (RFC 7798).
    H265,
    /// MPEG-4 Audio (AAC) in RFC 3640 `mpeg4-generic` AAC-hbr mode.
    Mpeg4Audio,
    /// MPEG-4 Audio in LATM framing (RFC 6416 `MP4A-LATM`, as GStreamer sends AAC): forwarded
    /// RTSP→RTSP untouched, not depacketized yet.
    Mpeg4AudioLatm,
    /// Opus (RFC 7587).
    Opus,
    /// G.711 µ-law (PCMU).
    G711Mu,
    /// G.711 A-law (PCMA).
    G711A,
    /// Any other payload: forwarded RTSP→RTSP untouched, never depacketized.
    Generic,
}

impl CodecKind {
    /// The name MediaMTX uses for this codec in log lines ("H264", "MPEG-4 Audio", …).
    pub fn display_name(self) -> &'static str {
        match self {
            CodecKind::H264 => "H264",
            CodecKind::H265 => "H265",
            CodecKind::Mpeg4Audio => "MPEG-4 Audio",
            CodecKind::Mpeg4AudioLatm => "MPEG-4 Audio LATM",
            CodecKind::Opus => "Opus",
            CodecKind::G711Mu | CodecKind::G711A => "G711",
            CodecKind::Generic => "Generic",
        }
    }

    /// Whether this is a video codec (key frames matter for readers joining mid-stream).
    pub fn is_video(self) -> bool {
        matches!(self, CodecKind::H264 | CodecKind::H265)
    }
}

/// Why a depacketizer rejected a packet. The stream still forwards the RTP packets of the unit
/// to RTSP readers; only the decoded unit is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodecError {
    /// The payload is shorter than its own headers say.
    Truncated,
    /// A NAL unit type / aggregation / fragmentation header this depacketizer cannot accept.
    Invalid(&'static str),
    /// A fragmented unit lost a piece (sequence gap or missing start).
    FragmentLost,
    /// The unit would exceed the size limit.
    TooLarge,
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::Truncated => f.write_str("payload truncated"),
            CodecError::Invalid(what) => write!(f, "invalid payload: {what}"),
            CodecError::FragmentLost => f.write_str("fragment lost"),
            CodecError::TooLarge => f.write_str("access unit too large"),
        }
    }
}

impl std::error::Error for CodecError {}

/// The largest access unit a depacketizer assembles (bytes); larger ones are dropped.
pub const MAX_ACCESS_UNIT_SIZE: usize = 8 * 1024 * 1024;

/// The most pieces (NAL units, AAC access units) a depacketizer collects into one access unit;
/// more is [`CodecError::TooLarge`].
pub const MAX_UNITS_PER_ACCESS_UNIT: usize = 4096;

/// One depacketized access unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessUnit {
    /// Whether a decoder can start here (IDR / IRAP picture; always true for audio).
    pub key: bool,
    /// The unit's pieces: NAL units without start codes (H264/H265), one entry per AAC access unit
    /// (AAC; consecutive entries are 1024 samples apart), one Opus packet, or G711 samples.
    /// Pieces are zero-copy slices of the RTP packets where the payload allows it.
    pub data: SmallVec<[Bytes; 4]>,
}

/// Turns access units into RTP packets (for sources that are not RTP, such as RTMP).
pub trait Packetizer: Send {
    /// Appends the packets of `au` (marker on the last one) stamped with `rtp_timestamp`.
    fn packetize(&mut self, au: &AccessUnit, rtp_timestamp: u32, out: &mut Vec<RtpPacket>);
}

macro_rules! impl_packetizer {
    ($($t:ty),*) => {$(
        impl Packetizer for $t {
            fn packetize(&mut self, au: &AccessUnit, rtp_timestamp: u32, out: &mut Vec<RtpPacket>) {
                <$t>::packetize(self, au, rtp_timestamp, out)
            }
        }
    )*};
}

impl_packetizer!(
    h264::H264Packetizer,
    h265::H265Packetizer,
    mpeg4audio::Mpeg4AudioPacketizer,
    opus::OpusPacketizer,
    g711::G711Packetizer
);

/// The packetizer of `codec`, or `None` when weir cannot packetize it.
pub fn new_packetizer(
    codec: CodecKind,
    payload_type: u8,
    ssrc: crate::rtp::Ssrc,
    initial_seq: crate::rtp::SeqNo,
) -> Option<Box<dyn Packetizer>> {
    let mtu = DEFAULT_MTU_PAYLOAD;
    Some(match codec {
        CodecKind::H264 => Box::new(h264::H264Packetizer::new(
            payload_type,
            ssrc,
            initial_seq,
            mtu,
        )),
        CodecKind::H265 => Box::new(h265::H265Packetizer::new(
            payload_type,
            ssrc,
            initial_seq,
            mtu,
        )),
        CodecKind::Mpeg4Audio => Box::new(mpeg4audio::Mpeg4AudioPacketizer::new(
            payload_type,
            ssrc,
            initial_seq,
            mtu,
        )),
        CodecKind::Opus => Box::new(opus::OpusPacketizer::new(
            payload_type,
            ssrc,
            initial_seq,
            mtu,
        )),
        CodecKind::G711Mu | CodecKind::G711A => Box::new(g711::G711Packetizer::new(
            payload_type,
            ssrc,
            initial_seq,
            mtu,
        )),
        CodecKind::Mpeg4AudioLatm | CodecKind::Generic => return None,
    })
}

/// Turns the RTP packets of one access unit into that access unit.
pub trait Depacketizer: Send {
    /// Feeds one packet of the current access unit, in arrival order.
    fn push(&mut self, packet: &RtpPacket) -> Result<(), CodecError>;
    /// Ends the current access unit and returns it; `None` when nothing decodable was pushed.
    /// Resets state for the next unit either way.
    fn finish(&mut self) -> Option<AccessUnit>;
    /// [`Depacketizer::finish`] into `out` (appended): the pieces move into the caller's list
    /// and the depacketizer keeps its own storage, so a steady stream allocates nothing.
    /// Returns the key flag, `None` when nothing decodable was pushed.
    fn finish_into(&mut self, out: &mut SmallVec<[Bytes; 4]>) -> Option<bool> {
        let au = self.finish()?;
        out.extend(au.data);
        Some(au.key)
    }
}

/// Builds the depacketizer of a track from its SDP codec and fmtp value (`channels` is the
/// rtpmap channel count, unused by the current codecs); `None` for [`CodecKind::Generic`].
/// Lenient: an unparsable MPEG-4 audio fmtp falls back to AAC-hbr (13/3/3), an H.265 fmtp with
/// `sprop-max-don-diff` > 0 enables DONL parsing.
pub fn new_depacketizer(
    codec: CodecKind,
    fmtp: Option<&str>,
    channels: Option<u16>,
) -> Option<Box<dyn Depacketizer>> {
    let _ = channels;
    match codec {
        CodecKind::H264 => Some(Box::new(h264::H264Depacketizer::new())),
        CodecKind::H265 => {
            let donl = fmtp
                .and_then(|f| h265::H265Params::from_fmtp(f).ok())
                .is_some_and(|p| p.max_don_diff > 0);
            Some(Box::new(h265::H265Depacketizer::with_donl(donl)))
        }
        CodecKind::Mpeg4Audio => {
            let params = fmtp
                .and_then(|f| mpeg4audio::Mpeg4AudioParams::from_fmtp(f).ok())
                .unwrap_or_default();
            Some(Box::new(mpeg4audio::Mpeg4AudioDepacketizer::new(params)))
        }
        CodecKind::Opus => Some(Box::new(opus::OpusDepacketizer::new())),
        CodecKind::G711Mu | CodecKind::G711A => Some(Box::new(g711::G711Depacketizer::new())),
        CodecKind::Mpeg4AudioLatm | CodecKind::Generic => None,
    }
}
