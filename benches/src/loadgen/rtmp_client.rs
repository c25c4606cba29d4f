//! The client side of RTMP shared by the publisher and the players: the simple handshake,
//! commands and control messages on the chunk stream, and the handling of the server's control
//! messages (chunk size, acknowledgement window, pings).

use bytes::BytesMut;
use weir_core::rtmp::amf0::{object, Amf0Value};
use weir_core::rtmp::chunk::{ChunkDecoder, ChunkEncoder, RawMessage};
use weir_core::rtmp::command::Command;
use weir_core::rtmp::handshake::HANDSHAKE_SIZE;
use weir_core::rtmp::message::{type_id, ControlMessage, CONTROL_CSID};
use weir_core::rtmp::user_control::UserControlEvent;

/// The chunk stream id of commands.
pub const COMMAND_CSID: u32 = 3;
/// The chunk stream id of audio/video/data of the published stream.
pub const MEDIA_CSID: u32 = 6;
/// Bytes the server sends before its first message: S0, S1 and S2.
pub const SERVER_HANDSHAKE_LEN: usize = 1 + 2 * HANDSHAKE_SIZE;

/// C0 and C1 of the simple handshake (version 3, zero time and version, filler bytes).
pub fn c0c1() -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + HANDSHAKE_SIZE);
    v.push(3);
    v.extend_from_slice(&[0; 8]);
    let mut x: u32 = 0x9e37_79b9;
    while v.len() < 1 + HANDSHAKE_SIZE {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push((x >> 24) as u8);
    }
    v
}

/// C2 for the server's S0+S1+S2 (`s`, at least [`SERVER_HANDSHAKE_LEN`] bytes): S1 echoed.
pub fn c2(s: &[u8]) -> Vec<u8> {
    s[1..1 + HANDSHAKE_SIZE].to_vec()
}

/// Appends command `cmd` on message stream `stream_id`.
pub fn write_command(enc: &mut ChunkEncoder, out: &mut Vec<u8>, stream_id: u32, cmd: &Command) {
    let mut body = Vec::with_capacity(256);
    cmd.write(&mut body)
        .expect("commands of the generator encode");
    enc.write(
        out,
        COMMAND_CSID,
        0,
        type_id::COMMAND_AMF0,
        stream_id,
        &body,
    )
    .expect("command fits a message");
}

/// Appends protocol control message `msg`.
pub fn write_control(enc: &mut ChunkEncoder, out: &mut Vec<u8>, msg: &ControlMessage) {
    let mut body = Vec::with_capacity(12);
    msg.write_body(&mut body);
    enc.write(out, CONTROL_CSID, 0, msg.type_id(), 0, &body)
        .expect("control message fits");
}

/// The `connect` command for `app` at `tc_url`, as ffmpeg writes it.
pub fn connect_command(app: &str, tc_url: &str, publish: bool) -> Command {
    let s = |v: &str| Amf0Value::String(v.to_owned());
    let obj = if publish {
        object([
            ("app", s(app)),
            ("type", s("nonprivate")),
            ("flashVer", s("FMLE/3.0 (compatible; weir-loadgen)")),
            ("tcUrl", s(tc_url)),
        ])
    } else {
        object([
            ("app", s(app)),
            ("flashVer", s("LNX 9,0,124,2")),
            ("tcUrl", s(tc_url)),
            ("fpad", Amf0Value::Boolean(false)),
            ("capabilities", Amf0Value::Number(15.0)),
            ("audioCodecs", Amf0Value::Number(4071.0)),
            ("videoCodecs", Amf0Value::Number(252.0)),
            ("videoFunction", Amf0Value::Number(1.0)),
        ])
    };
    Command::new("connect", 1.0, obj, vec![])
}

/// What a received message means for the client's command flow.
#[derive(Debug)]
pub enum Incoming {
    /// A command (`_result`, `_error`, `onStatus`…).
    Command(Command),
    /// An audio, video, data or aggregate message.
    Media(RawMessage),
    /// A control message, already handled.
    Handled,
}

/// The receive side of a client connection: the chunk decoder, the acknowledgement window and
/// the answers control messages need (pings, acknowledgements), queued for the caller to send.
#[derive(Debug, Default)]
pub struct RtmpIn {
    /// The chunk decoder.
    pub decoder: ChunkDecoder,
    /// Bytes received so far on the connection.
    pub received: u64,
    /// The server's acknowledgement window (0 until announced).
    window: u32,
    /// `received` when the last acknowledgement was sent.
    acked: u64,
}

impl RtmpIn {
    /// Counts `n` more bytes received; appends an Acknowledgement to `out` when a window is
    /// complete.
    pub fn count(&mut self, n: usize, enc: &mut ChunkEncoder, out: &mut Vec<u8>) {
        self.received += n as u64;
        if self.window > 0 && self.received - self.acked >= u64::from(self.window) {
            self.acked = self.received;
            write_control(
                enc,
                out,
                &ControlMessage::Acknowledgement(self.received as u32),
            );
        }
    }

    /// Decodes the next message from `buf`, handling control messages (answers appended to
    /// `out`). `Ok(None)` when `buf` holds no whole message.
    pub fn next(
        &mut self,
        buf: &mut BytesMut,
        enc: &mut ChunkEncoder,
        out: &mut Vec<u8>,
    ) -> Result<Option<Incoming>, String> {
        let Some(m) = self.decoder.decode(buf).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let incoming = match m.type_id {
            1..=6 => {
                match ControlMessage::parse(m.type_id, &m.body).map_err(|e| e.to_string())? {
                    ControlMessage::SetChunkSize(n) => {
                        self.decoder.set_chunk_size(n).map_err(|e| e.to_string())?
                    }
                    ControlMessage::Abort(csid) => self.decoder.abort(csid),
                    ControlMessage::WindowAckSize(w) => self.window = w,
                    ControlMessage::UserControl(UserControlEvent::PingRequest(t)) => write_control(
                        enc,
                        out,
                        &ControlMessage::UserControl(UserControlEvent::PingResponse(t)),
                    ),
                    _ => {}
                }
                Incoming::Handled
            }
            type_id::COMMAND_AMF0 | type_id::COMMAND_AMF3 => {
                Incoming::Command(Command::parse(m.type_id, &m.body).map_err(|e| e.to_string())?)
            }
            _ => Incoming::Media(m),
        };
        Ok(Some(incoming))
    }
}

/// The `code` of an `onStatus` command's info object.
pub fn status_code(cmd: &Command) -> Option<&str> {
    cmd.arg(0)?.get("code")?.as_str()
}
