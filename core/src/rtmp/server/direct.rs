//! Media messages written straight from the stream's ring. A playing connection's media
//! messages are each sent as a format 0 chunk followed by format 3 continuations, so that one
//! message's bytes depend on nothing sent before it; their chunk headers, tag header and NAL
//! lengths are built into a small scratch buffer the writer owns, and the NAL units are
//! borrowed from the unit. The writer gathers the pieces into one vectored write; a message the
//! socket took only part of is resumed by skipping the bytes already sent.

use crate::flv::{Piece, PlannedMessage};
use crate::media::Unit;
use crate::rtmp::chunk::header::{ChunkHeader, MessageHeader, EXTENDED};
use smallvec::SmallVec;

/// The most bytes one chunk header takes (basic header, format 0 fields, extended timestamp).
const MAX_CHUNK_HEADER: usize = 18;
/// Room a gather keeps free in the scratch buffer for one more chunk header and one more
/// tag header or NAL length.
const SCRATCH_MARGIN: usize = MAX_CHUNK_HEADER + 8;

/// A media message for one playing connection, its payload still in the unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectMessage {
    /// What the message is made of.
    pub planned: PlannedMessage,
    /// The RTMP timestamp (ms, the reader's clock).
    pub timestamp: u32,
    csid: u32,
    type_id: u8,
    stream_id: u32,
    chunk_size: usize,
    body_len: u32,
    /// The bytes on the wire, chunk headers included (computed once).
    wire_len: usize,
}

/// One piece of a gathered write: bytes of the writer's scratch buffer, or bytes of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// `scratch[start..end]`.
    Scratch {
        /// First byte.
        start: usize,
        /// One past the last byte.
        end: usize,
    },
    /// Bytes borrowed from a unit.
    Data(&'a [u8]),
}

/// The pieces of one vectored write, and the scratch buffer their headers are built in.
#[derive(Debug)]
pub struct Gather<'a, const S: usize, const N: usize> {
    /// The header bytes the [`Segment::Scratch`] pieces point into.
    pub scratch: [u8; S],
    used: usize,
    /// The pieces, in order.
    pub segments: SmallVec<[Segment<'a>; N]>,
}

impl<'a, const S: usize, const N: usize> Default for Gather<'a, S, N> {
    fn default() -> Self {
        Gather {
            scratch: [0; S],
            used: 0,
            segments: SmallVec::new(),
        }
    }
}

impl<'a, const S: usize, const N: usize> Gather<'a, S, N> {
    /// Whether another message (or another chunk of one) may still be added.
    pub fn has_room(&self) -> bool {
        self.segments.len() + 3 <= N && self.used + SCRATCH_MARGIN <= S
    }

    /// The pieces' bytes, in order (what a vectored write sends).
    pub fn slices(&self) -> impl Iterator<Item = &[u8]> + use<'_, 'a, S, N> {
        self.segments.iter().map(|s| match *s {
            Segment::Scratch { start, end } => &self.scratch[start..end],
            Segment::Data(d) => d,
        })
    }

    /// Bytes of the scratch buffer in use.
    pub fn scratch_used(&self) -> usize {
        self.used
    }

    /// Copies `bytes[from..]` into the scratch buffer as a piece (merged with the previous
    /// piece when that one ends where this one starts).
    fn small(&mut self, bytes: &[u8], from: usize) {
        let part = &bytes[from.min(bytes.len())..];
        if part.is_empty() {
            return;
        }
        let start = self.used;
        self.scratch[start..start + part.len()].copy_from_slice(part);
        self.used += part.len();
        if let Some(Segment::Scratch { end, .. }) = self.segments.last_mut() {
            if *end == start {
                *end = self.used;
                return;
            }
        }
        self.segments.push(Segment::Scratch {
            start,
            end: self.used,
        });
    }

    /// Adds `data[from..]` as a borrowed piece.
    fn data(&mut self, data: &'a [u8], from: usize) {
        if from < data.len() {
            self.segments.push(Segment::Data(&data[from..]));
        }
    }
}

impl DirectMessage {
    /// A message on chunk stream `csid` (2..=63) of message stream `stream_id`, chunked at
    /// `chunk_size`. `None` when the body does not fit an RTMP message (16 MiB).
    pub(crate) fn new(
        planned: PlannedMessage,
        unit: &Unit,
        timestamp: u32,
        csid: u32,
        stream_id: u32,
        chunk_size: u32,
    ) -> Option<DirectMessage> {
        let body_len = u32::try_from(planned.body_len(unit))
            .ok()
            .filter(|&l| l <= 0x00ff_ffff)?;
        let type_id = if planned.is_video { 9 } else { 8 };
        let mut m = DirectMessage {
            planned,
            timestamp,
            csid: csid.clamp(2, 63),
            type_id,
            stream_id,
            chunk_size: chunk_size.max(1) as usize,
            body_len,
            wire_len: 0,
        };
        let body = body_len as usize;
        let chunks = body.div_ceil(m.chunk_size).max(1);
        let first = m.chunk_header(0).1;
        let cont = m.chunk_header(m.chunk_size).1;
        m.wire_len = first + body + (chunks - 1) * cont;
        Some(m)
    }

    /// The chunk header before content byte `at` (a multiple of the chunk size).
    fn chunk_header(&self, at: usize) -> ([u8; MAX_CHUNK_HEADER], usize) {
        let header = if at == 0 {
            MessageHeader::Type0 {
                timestamp: self.timestamp,
                length: self.body_len,
                type_id: self.type_id,
                stream_id: self.stream_id,
            }
        } else {
            MessageHeader::Type3 {
                extended: (self.timestamp >= EXTENDED).then_some(self.timestamp),
            }
        };
        let mut bytes = [0u8; MAX_CHUNK_HEADER];
        let mut rest: &mut [u8] = &mut bytes[..];
        // A csid of 2..=63 and a length under 16 MiB cannot fail, and 18 bytes always suffice.
        let _ = ChunkHeader {
            csid: self.csid,
            header,
        }
        .write(&mut rest);
        let len = MAX_CHUNK_HEADER - rest.len();
        (bytes, len)
    }

    /// The number of bytes the message takes on the wire, chunk headers included.
    pub fn wire_len(&self) -> usize {
        self.wire_len
    }

    /// Adds the message's wire bytes from `skip` on to `g`, as far as `g` has room; returns the
    /// wire bytes added (all the rest when the message fit).
    pub fn gather<'a, const S: usize, const N: usize>(
        &self,
        unit: &'a Unit,
        skip: usize,
        g: &mut Gather<'a, S, N>,
    ) -> usize {
        let size = self.chunk_size;
        let (mut wire, mut content, mut stopped) = (0usize, 0usize, false);
        // Walks one atom of wire bytes, adding what is past `skip`; false when `g` is full.
        let add = |g: &mut Gather<'a, S, N>, wire: &mut usize, part: Part<'_, 'a>| -> bool {
            let len = part.len();
            let from = skip.saturating_sub(*wire);
            if from < len {
                if !g.has_room() {
                    return false;
                }
                match part {
                    Part::Copy(b) => g.small(b, from),
                    Part::Borrow(b) => g.data(b, from),
                }
            }
            *wire += len;
            true
        };
        self.planned.for_each_piece(unit, |piece| {
            if stopped {
                return;
            }
            let mut small = [0u8; 8];
            let (len, borrowed) = match piece {
                Piece::Tag => {
                    let t = self.planned.tag;
                    let t = t.as_slice();
                    small[..t.len()].copy_from_slice(t);
                    (t.len(), None)
                }
                Piece::Length(l) => {
                    small[..4].copy_from_slice(&l.to_be_bytes());
                    (4, None)
                }
                Piece::Data(d) => (d.len(), Some(d)),
            };
            let mut done = 0;
            while done < len {
                if content % size == 0 {
                    let (h, hl) = self.chunk_header(content);
                    if !add(g, &mut wire, Part::Copy(&h[..hl])) {
                        stopped = true;
                        return;
                    }
                }
                let n = (size - content % size).min(len - done);
                let part = match borrowed {
                    Some(d) => Part::Borrow(&d[done..done + n]),
                    None => Part::Copy(&small[done..done + n]),
                };
                if !add(g, &mut wire, part) {
                    stopped = true;
                    return;
                }
                done += n;
                content += n;
            }
        });
        wire.saturating_sub(skip)
    }
}

/// One atom of a message's wire bytes: built on the stack (copied into the scratch buffer) or
/// borrowed from the unit.
enum Part<'s, 'a> {
    Copy(&'s [u8]),
    Borrow(&'a [u8]),
}

impl Part<'_, '_> {
    fn len(&self) -> usize {
        match self {
            Part::Copy(b) | Part::Borrow(b) => b.len(),
        }
    }
}
