//! Chunk headers (RTMP §5.3.1): the basic header (format and chunk stream id) and the four
//! message header formats, with the extended timestamp field.

use super::ChunkError;
use bytes::BufMut;

/// The largest chunk stream id (three-byte basic header).
pub const MAX_CSID: u32 = 65599;

/// The value of a 24-bit timestamp field that announces an extended timestamp.
pub const EXTENDED: u32 = 0x00ff_ffff;

/// The message header of one chunk; timestamps and deltas are the full 32-bit values (the
/// writer moves values from 0xFFFFFF up into the extended field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageHeader {
    /// Format 0: starts a message with an absolute timestamp.
    Type0 {
        /// Absolute timestamp (ms).
        timestamp: u32,
        /// Message length.
        length: u32,
        /// Message type id.
        type_id: u8,
        /// Message stream id (little-endian on the wire).
        stream_id: u32,
    },
    /// Format 1: same message stream, new length and type.
    Type1 {
        /// Timestamp delta (ms).
        delta: u32,
        /// Message length.
        length: u32,
        /// Message type id.
        type_id: u8,
    },
    /// Format 2: same stream, length and type; new delta.
    Type2 {
        /// Timestamp delta (ms).
        delta: u32,
    },
    /// Format 3: everything as before; `extended` carries the repeated extended timestamp
    /// field when the previous header of the chunk stream had one.
    Type3 {
        /// The repeated extended timestamp, if present.
        extended: Option<u32>,
    },
}

impl MessageHeader {
    /// The two-bit format.
    pub fn fmt(&self) -> u8 {
        match self {
            MessageHeader::Type0 { .. } => 0,
            MessageHeader::Type1 { .. } => 1,
            MessageHeader::Type2 { .. } => 2,
            MessageHeader::Type3 { .. } => 3,
        }
    }

    /// Whether a format 0, 1 or 2 header uses the extended timestamp field.
    pub fn is_extended(&self) -> bool {
        match *self {
            MessageHeader::Type0 { timestamp: t, .. } => t >= EXTENDED,
            MessageHeader::Type1 { delta: t, .. } | MessageHeader::Type2 { delta: t } => {
                t >= EXTENDED
            }
            MessageHeader::Type3 { extended } => extended.is_some(),
        }
    }
}

/// Whether a format 3 header carries an extended timestamp field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type3Extended {
    /// The chunk stream's last format 0–2 header had no extended timestamp.
    Absent,
    /// It had one: the field is present.
    Present,
    /// It had one, but some encoders leave the repetition out of continuation chunks: the
    /// field is taken as present only if the next four bytes equal this value.
    IfEquals(u32),
}

/// One parsed chunk header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkHeader {
    /// Chunk stream id (2..=65599).
    pub csid: u32,
    /// The message header.
    pub header: MessageHeader,
}

/// Parses the basic header: `Some((fmt, csid, length))`, or `None` if `buf` is too short.
pub fn parse_basic(buf: &[u8]) -> Option<(u8, u32, usize)> {
    let b0 = *buf.first()?;
    let fmt = b0 >> 6;
    match b0 & 0x3f {
        0 => Some((fmt, 64 + u32::from(*buf.get(1)?), 2)),
        1 => {
            let lo = u32::from(*buf.get(1)?);
            let hi = u32::from(*buf.get(2)?);
            Some((fmt, 64 + lo + hi * 256, 3))
        }
        n => Some((fmt, u32::from(n), 1)),
    }
}

fn u24(b: &[u8]) -> u32 {
    (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2])
}

fn u32_be(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl ChunkHeader {
    /// Parses a whole chunk header from the start of `buf`. `type3` tells, given the chunk
    /// stream id, whether a format 3 header carries the extended timestamp. Returns the header
    /// and its length, or `None` if `buf` is too short.
    pub fn parse(
        buf: &[u8],
        type3: impl FnOnce(u32) -> Type3Extended,
    ) -> Option<(ChunkHeader, usize)> {
        let (fmt, csid, basic) = parse_basic(buf)?;
        let rest = &buf[basic..];
        let fixed = [11, 7, 3, 0][usize::from(fmt)];
        let m = rest.get(..fixed)?;
        let ext_at = basic + fixed;
        let read_ext = |field: u32| -> Option<(u32, usize)> {
            if field == EXTENDED {
                let e = buf.get(ext_at..ext_at + 4)?;
                Some((u32_be(e), 4))
            } else {
                Some((field, 0))
            }
        };
        let (header, ext_len) = match fmt {
            0 => {
                let (timestamp, e) = read_ext(u24(&m[0..3]))?;
                let stream_id = u32::from_le_bytes([m[7], m[8], m[9], m[10]]);
                let h = MessageHeader::Type0 {
                    timestamp,
                    length: u24(&m[3..6]),
                    type_id: m[6],
                    stream_id,
                };
                (h, e)
            }
            1 => {
                let (delta, e) = read_ext(u24(&m[0..3]))?;
                let h = MessageHeader::Type1 {
                    delta,
                    length: u24(&m[3..6]),
                    type_id: m[6],
                };
                (h, e)
            }
            2 => {
                let (delta, e) = read_ext(u24(&m[0..3]))?;
                (MessageHeader::Type2 { delta }, e)
            }
            _ => match type3(csid) {
                Type3Extended::Absent => (MessageHeader::Type3 { extended: None }, 0),
                Type3Extended::Present => {
                    let e = u32_be(buf.get(ext_at..ext_at + 4)?);
                    (MessageHeader::Type3 { extended: Some(e) }, 4)
                }
                Type3Extended::IfEquals(v) => {
                    let e = u32_be(buf.get(ext_at..ext_at + 4)?);
                    if e == v {
                        (MessageHeader::Type3 { extended: Some(e) }, 4)
                    } else {
                        (MessageHeader::Type3 { extended: None }, 0)
                    }
                }
            },
        };
        Some((ChunkHeader { csid, header }, ext_at + ext_len))
    }

    /// Appends the header to `out`. Fails on a chunk stream id outside 2..=65599 or a
    /// length that does not fit 24 bits.
    pub fn write(&self, out: &mut impl BufMut) -> Result<(), ChunkError> {
        let fmt = self.header.fmt() << 6;
        match self.csid {
            2..=63 => out.put_u8(fmt | self.csid as u8),
            64..=319 => out.put_slice(&[fmt, (self.csid - 64) as u8]),
            320..=MAX_CSID => {
                let v = self.csid - 64;
                out.put_slice(&[fmt | 1, (v & 0xff) as u8, (v >> 8) as u8]);
            }
            other => return Err(ChunkError::InvalidChunkStreamId(other)),
        }
        fn put24(out: &mut impl BufMut, v: u32) {
            out.put_slice(&v.to_be_bytes()[1..]);
        }
        let field = |v: u32| v.min(EXTENDED);
        let check_len = |len: u32| {
            if len > 0x00ff_ffff {
                Err(ChunkError::MessageTooLarge(len))
            } else {
                Ok(len)
            }
        };
        let ext = match self.header {
            MessageHeader::Type0 {
                timestamp,
                length,
                type_id,
                stream_id,
            } => {
                put24(out, field(timestamp));
                put24(out, check_len(length)?);
                out.put_u8(type_id);
                out.put_slice(&stream_id.to_le_bytes());
                (timestamp >= EXTENDED).then_some(timestamp)
            }
            MessageHeader::Type1 {
                delta,
                length,
                type_id,
            } => {
                put24(out, field(delta));
                put24(out, check_len(length)?);
                out.put_u8(type_id);
                (delta >= EXTENDED).then_some(delta)
            }
            MessageHeader::Type2 { delta } => {
                put24(out, field(delta));
                (delta >= EXTENDED).then_some(delta)
            }
            MessageHeader::Type3 { extended } => extended,
        };
        if let Some(e) = ext {
            out.put_slice(&e.to_be_bytes());
        }
        Ok(())
    }
}
