//! A captured RTMP direction decoded: the handshake split off, the chunk stream reassembled
//! into messages (with weir-core's [`ChunkDecoder`], Set Chunk Size and Abort applied) with
//! the stream position where each ends, and the commands among them.

use crate::tcp::HalfStream;
use bytes::BytesMut;
use std::time::Duration;
use weir_core::rtmp::chunk::{ChunkDecoder, ChunkLimits, RawMessage};
use weir_core::rtmp::Amf0Value;

/// C0 (or S0): the version byte.
pub const VERSION_LEN: usize = 1;
/// C1, C2, S1, S2.
pub const HANDSHAKE_LEN: usize = 1536;
/// C0 + C1 + C2 (or S0 + S1 + S2): where the chunk stream starts.
pub const CHUNKS_START: usize = VERSION_LEN + 2 * HANDSHAKE_LEN;

/// Message type ids.
pub mod types {
    /// Set Chunk Size.
    pub const SET_CHUNK_SIZE: u8 = 1;
    /// Abort.
    pub const ABORT: u8 = 2;
    /// Audio.
    pub const AUDIO: u8 = 8;
    /// Video.
    pub const VIDEO: u8 = 9;
    /// AMF3 data.
    pub const DATA_AMF3: u8 = 15;
    /// AMF3 command.
    pub const COMMAND_AMF3: u8 = 17;
    /// AMF0 data (`@setDataFrame`, `onMetaData`).
    pub const DATA_AMF0: u8 = 18;
    /// AMF0 command.
    pub const COMMAND_AMF0: u8 = 20;
}

/// One message of a captured direction.
#[derive(Clone, Debug)]
pub struct Message {
    /// Stream position just after its last chunk.
    pub end: usize,
    /// Capture time of its last chunk.
    pub time: Duration,
    /// The message.
    pub raw: RawMessage,
}

/// A direction's chunk stream, decoded.
#[derive(Clone, Debug, Default)]
pub struct Decoded {
    /// The messages, in order.
    pub messages: Vec<Message>,
    /// Why decoding stopped early, if it did.
    pub error: Option<String>,
}

/// Decodes `bytes` (a whole direction from its first byte) from `start` on.
pub fn decode(bytes: &[u8], start: usize, half: &HalfStream) -> Decoded {
    let mut out = Decoded::default();
    if bytes.len() <= start {
        return out;
    }
    let mut dec = ChunkDecoder::new(ChunkLimits::default());
    let mut buf = BytesMut::from(&bytes[start..]);
    let total = buf.len();
    loop {
        match dec.decode(&mut buf) {
            Ok(Some(raw)) => {
                let end = start + total - buf.len();
                if raw.body.len() >= 4 {
                    let v =
                        u32::from_be_bytes([raw.body[0], raw.body[1], raw.body[2], raw.body[3]]);
                    match raw.type_id {
                        types::SET_CHUNK_SIZE => {
                            if let Err(e) = dec.set_chunk_size(v & 0x7fff_ffff) {
                                out.error = Some(e.to_string());
                                break;
                            }
                        }
                        types::ABORT => dec.abort(v),
                        _ => {}
                    }
                }
                out.messages.push(Message {
                    end,
                    time: super::rtsp_items::time_at(half, end.saturating_sub(1) as u64),
                    raw,
                });
            }
            Ok(None) => break,
            Err(e) => {
                out.error = Some(format!("at byte {}: {e}", start + total - buf.len()));
                break;
            }
        }
    }
    out
}

/// A command message (AMF0, or AMF3 with its leading format byte).
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    /// The command name (`connect`, `_result`, `onStatus`, ...).
    pub name: String,
    /// The transaction id.
    pub transaction: f64,
    /// The remaining values.
    pub args: Vec<Amf0Value>,
}

impl Command {
    /// The `code` of an `onStatus` info object (`NetStream.Publish.Start`).
    pub fn status_code(&self) -> Option<&str> {
        self.args.iter().find_map(|a| a.get("code")?.as_str())
    }

    /// The first string argument (a stream name for `publish` / `play`).
    pub fn first_string(&self) -> Option<&str> {
        self.args.iter().find_map(Amf0Value::as_str)
    }
}

/// Reads `raw` as a command, if it is one.
pub fn command(raw: &RawMessage) -> Option<Command> {
    let body: &[u8] = match raw.type_id {
        types::COMMAND_AMF0 => &raw.body,
        types::COMMAND_AMF3 => raw.body.get(1..)?,
        _ => return None,
    };
    let mut values = weir_core::rtmp::amf0::decode_all(body).ok()?.into_iter();
    let name = values.next()?.as_str()?.to_string();
    let transaction = values.next().and_then(|v| v.as_f64()).unwrap_or(0.0);
    Some(Command {
        name,
        transaction,
        args: values.collect(),
    })
}

/// Whether a video body is a sequence header (AVC/HEVC packet type 0, or an Enhanced RTMP
/// `PacketTypeSequenceStart`).
pub fn is_video_config(body: &[u8]) -> bool {
    match body {
        [b0, ..] if b0 & 0x80 != 0 => b0 & 0x0f == 0,
        [_, 0, ..] => true,
        _ => false,
    }
}

/// Whether a video body is an end-of-sequence marker (AVC/HEVC packet type 2, or an Enhanced
/// RTMP `PacketTypeSequenceEnd`): it carries no picture.
pub fn is_video_end(body: &[u8]) -> bool {
    match body {
        [b0, ..] if b0 & 0x80 != 0 => b0 & 0x0f == 2,
        [b0, 2, ..] => matches!(b0 & 0x0f, 7 | 12),
        _ => false,
    }
}

/// Whether an audio body is a sequence header (AAC packet type 0, or Enhanced RTMP audio
/// `SequenceStart`).
pub fn is_audio_config(body: &[u8]) -> bool {
    match body {
        [b0, 0, ..] if b0 >> 4 == 10 => true,
        [b0, ..] if b0 >> 4 == 9 => b0 & 0x0f == 0,
        _ => false,
    }
}
