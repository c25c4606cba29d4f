//! Units: one access unit of one track, shared immutably by every reader.

use crate::rtp::RtpPacket;
use bytes::Bytes;
use smallvec::SmallVec;
use std::sync::Arc;

/// One access unit of one track, with its timing, key flag, payload and the RTP packets it
/// arrived in (when the source was RTP). Stored once, shared by every reader through [`Arc`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unit {
    /// Index of the track in the stream description.
    pub track: usize,
    /// Presentation timestamp in the track's clock rate, relative to the stream's start and
    /// comparable across tracks (for RTP sources, each track's first unit is placed at its
    /// arrival time since the stream's first packet; RTP timestamps are unwrapped to 64 bits).
    pub pts: i64,
    /// Decoding timestamp in the track's clock rate (equal to `pts` without reordering).
    pub dts: i64,
    /// Whether a decoder can start at this unit.
    pub key: bool,
    /// The depacketized payload (NAL units, AAC access units, …); empty when the codec is not
    /// depacketized (generic RTP passthrough) or the payload was corrupt.
    pub payload: SmallVec<[Bytes; 4]>,
    /// The RTP packets that carried this unit, as received (RTSP readers get exactly these).
    pub rtp: SmallVec<[RtpPacket; 4]>,
}

/// One entry of a stream's ring.
#[derive(Debug, Clone)]
pub enum StreamItem {
    /// A media unit.
    Unit(Arc<Unit>),
    /// An RTCP packet generated for a track (a sender report), sent to RTSP readers as is.
    Rtcp {
        /// The track the report describes.
        track: usize,
        /// The serialized RTCP packet.
        packet: Bytes,
    },
}

impl StreamItem {
    /// The track the item belongs to.
    pub fn track(&self) -> usize {
        match self {
            StreamItem::Unit(u) => u.track,
            StreamItem::Rtcp { track, .. } => *track,
        }
    }

    /// Whether a reader may start (or resynchronise) at this item.
    pub fn is_key(&self) -> bool {
        matches!(self, StreamItem::Unit(u) if u.key)
    }
}
