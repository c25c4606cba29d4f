//! Message type ids and the protocol control messages (RTMP §5.4): Set Chunk Size, Abort,
//! Acknowledgement, Window Acknowledgement Size, Set Peer Bandwidth, and User Control (§6.2,
//! in [`super::user_control`]).

use super::user_control::UserControlEvent;
use bytes::Bytes;

/// Message type ids.
pub mod type_id {
    /// Set Chunk Size.
    pub const SET_CHUNK_SIZE: u8 = 1;
    /// Abort Message.
    pub const ABORT: u8 = 2;
    /// Acknowledgement.
    pub const ACKNOWLEDGEMENT: u8 = 3;
    /// User Control Message.
    pub const USER_CONTROL: u8 = 4;
    /// Window Acknowledgement Size.
    pub const WINDOW_ACK_SIZE: u8 = 5;
    /// Set Peer Bandwidth.
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    /// Audio data.
    pub const AUDIO: u8 = 8;
    /// Video data.
    pub const VIDEO: u8 = 9;
    /// Data message, AMF3.
    pub const DATA_AMF3: u8 = 15;
    /// Shared object message, AMF3.
    pub const SHARED_OBJECT_AMF3: u8 = 16;
    /// Command message, AMF3.
    pub const COMMAND_AMF3: u8 = 17;
    /// Data message, AMF0.
    pub const DATA_AMF0: u8 = 18;
    /// Shared object message, AMF0.
    pub const SHARED_OBJECT_AMF0: u8 = 19;
    /// Command message, AMF0.
    pub const COMMAND_AMF0: u8 = 20;
    /// Aggregate message.
    pub const AGGREGATE: u8 = 22;
}

/// The chunk stream id protocol control messages travel on.
pub const CONTROL_CSID: u32 = 2;

/// The limit type of Set Peer Bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BandwidthLimit {
    /// 0: limit to the window size.
    Hard,
    /// 1: limit to the window size or the current limit, whichever is smaller.
    Soft,
    /// 2: hard if the previous limit was hard, else ignore.
    Dynamic,
    /// Another value.
    Other(u8),
}

impl BandwidthLimit {
    /// The wire value.
    pub fn to_u8(self) -> u8 {
        match self {
            BandwidthLimit::Hard => 0,
            BandwidthLimit::Soft => 1,
            BandwidthLimit::Dynamic => 2,
            BandwidthLimit::Other(v) => v,
        }
    }

    /// From the wire value.
    pub fn from_u8(v: u8) -> BandwidthLimit {
        match v {
            0 => BandwidthLimit::Hard,
            1 => BandwidthLimit::Soft,
            2 => BandwidthLimit::Dynamic,
            v => BandwidthLimit::Other(v),
        }
    }
}

/// A protocol control message (message types 1–6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlMessage {
    /// The sender's new chunk size (1..=0x7FFFFFFF).
    SetChunkSize(u32),
    /// Discard the partial message of this chunk stream.
    Abort(u32),
    /// Total bytes received so far (sequence number).
    Acknowledgement(u32),
    /// A user control event.
    UserControl(UserControlEvent),
    /// Acknowledge every this many bytes.
    WindowAckSize(u32),
    /// Limit the output bandwidth of the receiver.
    SetPeerBandwidth {
        /// The window size.
        size: u32,
        /// The limit type.
        limit: BandwidthLimit,
    },
}

/// Why a control message body is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// The body is shorter than the message needs.
    Truncated {
        /// The message type.
        type_id: u8,
        /// The body length.
        len: usize,
    },
    /// Set Chunk Size of 0 or with the top bit set.
    InvalidChunkSize(u32),
    /// Not a control message type.
    NotControl(u8),
    /// An aggregate message whose sub-messages do not tile its body.
    BadAggregate,
}

impl MessageError {
    /// Who is to blame (always malformed input).
    pub fn blame(&self) -> crate::error::Blame {
        crate::error::Blame::Malformed
    }
}

impl std::fmt::Display for MessageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageError::Truncated { type_id, len } => {
                write!(f, "message of type {type_id} too short ({len} bytes)")
            }
            MessageError::InvalidChunkSize(n) => write!(f, "invalid chunk size {n}"),
            MessageError::NotControl(t) => write!(f, "message type {t} is not a control message"),
            MessageError::BadAggregate => write!(f, "invalid aggregate message"),
        }
    }
}

impl std::error::Error for MessageError {}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl ControlMessage {
    /// Parses the body of a control message of type `type_id` (extra bytes are ignored).
    pub fn parse(type_id: u8, body: &[u8]) -> Result<ControlMessage, MessageError> {
        let need = match type_id {
            type_id::SET_PEER_BANDWIDTH => 5,
            type_id::USER_CONTROL => 2,
            1..=5 => 4,
            other => return Err(MessageError::NotControl(other)),
        };
        if body.len() < need {
            return Err(MessageError::Truncated {
                type_id,
                len: body.len(),
            });
        }
        Ok(match type_id {
            type_id::SET_CHUNK_SIZE => {
                let v = be32(body);
                match super::chunk::validate_chunk_size(v) {
                    Ok(v) => ControlMessage::SetChunkSize(v),
                    Err(_) => return Err(MessageError::InvalidChunkSize(v)),
                }
            }
            type_id::ABORT => ControlMessage::Abort(be32(body)),
            type_id::ACKNOWLEDGEMENT => ControlMessage::Acknowledgement(be32(body)),
            type_id::USER_CONTROL => ControlMessage::UserControl(UserControlEvent::parse(body)?),
            type_id::WINDOW_ACK_SIZE => ControlMessage::WindowAckSize(be32(body)),
            _ => ControlMessage::SetPeerBandwidth {
                size: be32(body),
                limit: BandwidthLimit::from_u8(body[4]),
            },
        })
    }

    /// The message type id.
    pub fn type_id(&self) -> u8 {
        match self {
            ControlMessage::SetChunkSize(_) => type_id::SET_CHUNK_SIZE,
            ControlMessage::Abort(_) => type_id::ABORT,
            ControlMessage::Acknowledgement(_) => type_id::ACKNOWLEDGEMENT,
            ControlMessage::UserControl(_) => type_id::USER_CONTROL,
            ControlMessage::WindowAckSize(_) => type_id::WINDOW_ACK_SIZE,
            ControlMessage::SetPeerBandwidth { .. } => type_id::SET_PEER_BANDWIDTH,
        }
    }

    /// Appends the message body to `out`.
    pub fn write_body(&self, out: &mut Vec<u8>) {
        match self {
            ControlMessage::SetChunkSize(v)
            | ControlMessage::Abort(v)
            | ControlMessage::Acknowledgement(v)
            | ControlMessage::WindowAckSize(v) => out.extend_from_slice(&v.to_be_bytes()),
            ControlMessage::UserControl(e) => e.write(out),
            ControlMessage::SetPeerBandwidth { size, limit } => {
                out.extend_from_slice(&size.to_be_bytes());
                out.push(limit.to_u8());
            }
        }
    }
}

/// One sub-message of an aggregate message (type 22).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregatePart {
    /// The sub-message type (8, 9, 18…).
    pub type_id: u8,
    /// Its timestamp, rebased on the aggregate's timestamp.
    pub timestamp: u32,
    /// Its body (a slice of the aggregate's body).
    pub body: Bytes,
}

/// Splits an aggregate message: FLV-tag-like sub-messages (type, 24-bit size, 24+8-bit
/// timestamp, 24-bit stream id, body, 32-bit back pointer). The first sub-message's timestamp
/// is moved to the aggregate's `timestamp`, and the others keep their offsets from it.
pub fn split_aggregate(timestamp: u32, body: &Bytes) -> Result<Vec<AggregatePart>, MessageError> {
    let mut parts = Vec::new();
    let mut pos = 0usize;
    let mut base: Option<u32> = None;
    while pos < body.len() {
        let h = body.get(pos..pos + 11).ok_or(MessageError::BadAggregate)?;
        let size = (usize::from(h[1]) << 16) | (usize::from(h[2]) << 8) | usize::from(h[3]);
        let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        let start = pos + 11;
        let end = start + size;
        if end + 4 > body.len() {
            return Err(MessageError::BadAggregate);
        }
        let first = *base.get_or_insert(ts);
        parts.push(AggregatePart {
            type_id: h[0],
            timestamp: timestamp.wrapping_add(ts.wrapping_sub(first)),
            body: body.slice(start..end),
        });
        pos = end + 4;
    }
    Ok(parts)
}
