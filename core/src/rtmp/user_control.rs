//! User Control messages (RTMP §6.2, message type 4): a 16-bit event type and its data.

use super::message::{type_id, MessageError};

/// A user control event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserControlEvent {
    /// 0: the stream (id) became functional.
    StreamBegin(u32),
    /// 1: playback of the stream (id) ended.
    StreamEof(u32),
    /// 2: no more data on the stream (id) for now.
    StreamDry(u32),
    /// 3: the client's buffer length for a stream.
    SetBufferLength {
        /// The message stream id.
        stream_id: u32,
        /// Buffer length (ms).
        buffer_ms: u32,
    },
    /// 4: the stream (id) is a recorded stream.
    StreamIsRecorded(u32),
    /// 6: ping request carrying the sender's timestamp.
    PingRequest(u32),
    /// 7: ping response echoing the request's timestamp.
    PingResponse(u32),
    /// Any other event type (SWF verification, buffer empty/ready…) with its data.
    Other {
        /// The event type.
        event_type: u16,
        /// The event data.
        data: Vec<u8>,
    },
}

impl UserControlEvent {
    /// The event type.
    pub fn event_type(&self) -> u16 {
        match self {
            UserControlEvent::StreamBegin(_) => 0,
            UserControlEvent::StreamEof(_) => 1,
            UserControlEvent::StreamDry(_) => 2,
            UserControlEvent::SetBufferLength { .. } => 3,
            UserControlEvent::StreamIsRecorded(_) => 4,
            UserControlEvent::PingRequest(_) => 6,
            UserControlEvent::PingResponse(_) => 7,
            UserControlEvent::Other { event_type, .. } => *event_type,
        }
    }

    /// Parses a user control message body.
    pub fn parse(body: &[u8]) -> Result<UserControlEvent, MessageError> {
        let truncated = || MessageError::Truncated {
            type_id: type_id::USER_CONTROL,
            len: body.len(),
        };
        let event = u16::from_be_bytes([
            *body.first().ok_or_else(truncated)?,
            *body.get(1).ok_or_else(truncated)?,
        ]);
        let data = &body[2..];
        let word = |i: usize| -> Result<u32, MessageError> {
            let b = data.get(i..i + 4).ok_or_else(truncated)?;
            Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        Ok(match event {
            0 => UserControlEvent::StreamBegin(word(0)?),
            1 => UserControlEvent::StreamEof(word(0)?),
            2 => UserControlEvent::StreamDry(word(0)?),
            3 => UserControlEvent::SetBufferLength {
                stream_id: word(0)?,
                buffer_ms: word(4)?,
            },
            4 => UserControlEvent::StreamIsRecorded(word(0)?),
            6 => UserControlEvent::PingRequest(word(0)?),
            7 => UserControlEvent::PingResponse(word(0)?),
            event_type => UserControlEvent::Other {
                event_type,
                data: data.to_vec(),
            },
        })
    }

    /// Appends the message body to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.event_type().to_be_bytes());
        match self {
            UserControlEvent::StreamBegin(v)
            | UserControlEvent::StreamEof(v)
            | UserControlEvent::StreamDry(v)
            | UserControlEvent::StreamIsRecorded(v)
            | UserControlEvent::PingRequest(v)
            | UserControlEvent::PingResponse(v) => out.extend_from_slice(&v.to_be_bytes()),
            UserControlEvent::SetBufferLength {
                stream_id,
                buffer_ms,
            } => {
                out.extend_from_slice(&stream_id.to_be_bytes());
                out.extend_from_slice(&buffer_ms.to_be_bytes());
            }
            UserControlEvent::Other { data, .. } => out.extend_from_slice(data),
        }
    }
}
