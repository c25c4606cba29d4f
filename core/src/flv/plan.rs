//! Planned messages: what a reader's FLV message is made of, with its payload left in the unit
//! it comes from, so that a writer can send it straight from the stream's ring (the tag header
//! and NAL lengths built on the stack, the NAL units borrowed) instead of copying each reader's
//! body into a buffer of its own.

use super::nalu::put_length_prefixed;
use crate::codec::{h264, h265};
use crate::media::Unit;
use bytes::{BufMut, Bytes};

/// The longest tag header: an Enhanced RTMP video header with a composition time.
const MAX_TAG_HEADER: usize = 8;

/// The bytes of an FLV tag body before its payload (frame type, codec, packet type, CTS…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TagHeader {
    bytes: [u8; MAX_TAG_HEADER],
    len: u8,
}

impl TagHeader {
    /// A header written by `put` (at most 8 bytes; more are cut).
    pub(crate) fn build(put: impl FnOnce(&mut &mut [u8])) -> TagHeader {
        let mut bytes = [0u8; MAX_TAG_HEADER];
        let mut rest: &mut [u8] = &mut bytes[..];
        put(&mut rest);
        let len = (MAX_TAG_HEADER - rest.len()) as u8;
        TagHeader { bytes, len }
    }

    /// The header's bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// How a video unit's NAL units are told apart (access unit delimiters are left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NalSyntax {
    /// H.264 NAL unit headers.
    H264,
    /// H.265 NAL unit headers.
    H265,
}

impl NalSyntax {
    /// Whether NAL unit `n` goes into the message (not empty, not a delimiter).
    pub fn kept(self, n: &[u8]) -> bool {
        !n.is_empty()
            && match self {
                NalSyntax::H264 => h264::nalu_type(n) != h264::NAL_AUD,
                NalSyntax::H265 => h265::nalu_type(n) != h265::NAL_AUD,
            }
    }
}

/// Where a planned message's payload is in its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadRef {
    /// Every kept NAL unit of the unit, each after its 4-byte big-endian length.
    Nals(NalSyntax),
    /// Payload entry `i` of the unit (one AAC access unit or Opus packet), as is.
    Frame(usize),
}

/// One piece of a planned message's body, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    /// The message's tag header.
    Tag,
    /// A NAL unit's 4-byte length.
    Length(u32),
    /// Payload bytes of the unit.
    Data(&'a [u8]),
}

/// A media message planned from a unit; its payload stays in the unit until it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedMessage {
    /// Video (message type 9) or audio (type 8).
    pub is_video: bool,
    /// The message's time in ms on the stream's clock (the reader rebases it).
    pub timestamp_ms: i64,
    /// The tag header that starts the body.
    pub tag: TagHeader,
    /// The rest of the body.
    pub payload: PayloadRef,
}

impl PlannedMessage {
    /// Hands the pieces of the body, in order, to `f`.
    pub fn for_each_piece<'a>(&self, unit: &'a Unit, mut f: impl FnMut(Piece<'a>)) {
        f(Piece::Tag);
        match self.payload {
            PayloadRef::Nals(syntax) => {
                for n in unit.payload.iter().filter(|n| syntax.kept(n)) {
                    f(Piece::Length(u32::try_from(n.len()).unwrap_or(u32::MAX)));
                    f(Piece::Data(n));
                }
            }
            PayloadRef::Frame(i) => {
                if let Some(frame) = unit.payload.get(i) {
                    f(Piece::Data(frame));
                }
            }
        }
    }

    /// The body's length in bytes.
    pub fn body_len(&self, unit: &Unit) -> usize {
        let mut n = 0;
        self.for_each_piece(unit, |p| {
            n += match p {
                Piece::Tag => self.tag.as_slice().len(),
                Piece::Length(_) => 4,
                Piece::Data(d) => d.len(),
            }
        });
        n
    }

    /// Appends the body to `out` (the copying path).
    pub fn write_body(&self, unit: &Unit, out: &mut Vec<u8>) {
        match self.payload {
            PayloadRef::Nals(syntax) => {
                out.put_slice(self.tag.as_slice());
                for n in unit.payload.iter().filter(|n| syntax.kept(n)) {
                    put_length_prefixed(out, n);
                }
            }
            PayloadRef::Frame(_) => self.for_each_piece(unit, |p| match p {
                Piece::Tag => out.put_slice(self.tag.as_slice()),
                Piece::Length(l) => out.put_u32(l),
                Piece::Data(d) => out.put_slice(d),
            }),
        }
    }
}

/// What the muxer decided for one unit, in the order it goes out.
#[derive(Debug)]
pub enum Planned<'h> {
    /// A sequence header (new or changed) to send first; built by the muxer, small and rare.
    Header {
        /// Video or audio.
        is_video: bool,
        /// The time of the message it precedes (ms, stream clock).
        timestamp_ms: i64,
        /// The header's body.
        body: &'h Bytes,
    },
    /// A media message whose payload is in the unit.
    Message(PlannedMessage),
}
