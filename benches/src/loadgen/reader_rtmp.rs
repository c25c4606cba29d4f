//! An RTMP player: simple handshake, `connect`, `createStream`, `play` (with a buffer length,
//! as ffmpeg does), acknowledgements and ping answers; markers are read from the NAL units of
//! video messages (aggregate messages are split).

use super::marker::marker_in_flv_video;
use super::rtmp_client::{
    c0c1, c2, connect_command, status_code, write_command, write_control, Incoming, RtmpIn,
    SERVER_HANDSHAKE_LEN,
};
use super::session::{Io, Session};
use super::url::Url;
use bytes::BytesMut;
use weir_core::rtmp::amf0::Amf0Value;
use weir_core::rtmp::chunk::{ChunkEncoder, RawMessage};
use weir_core::rtmp::command::Command;
use weir_core::rtmp::message::{split_aggregate, type_id, ControlMessage};
use weir_core::rtmp::user_control::UserControlEvent;

/// Where the player is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Handshake,
    Connecting,
    Creating,
    Playing,
}

/// One RTMP player.
pub struct RtmpReader {
    app: String,
    stream: String,
    tc_url: String,
    state: State,
    buf: BytesMut,
    rin: RtmpIn,
    enc: ChunkEncoder,
}

impl RtmpReader {
    /// A player of `url` (`rtmp://host:port/app/stream`).
    pub fn new(url: &Url) -> RtmpReader {
        let (app, stream) = url.rtmp_app_stream();
        RtmpReader {
            app,
            stream,
            tc_url: url.rtmp_tc_url(),
            state: State::Handshake,
            buf: BytesMut::with_capacity(16 * 1024),
            rin: RtmpIn::default(),
            enc: ChunkEncoder::new(),
        }
    }

    /// A command answer in the handshake.
    fn on_command(&mut self, c: Command, io: &mut Io<'_>) -> Result<(), String> {
        let code = status_code(&c).unwrap_or("");
        if c.name == "_error" || code.contains("Failed") || code.contains("NotFound") {
            return Err(format!("{} {code}", c.name));
        }
        match (self.state, c.name.as_str()) {
            (State::Connecting, "_result") if c.transaction_id == 1.0 => {
                write_control(
                    &mut self.enc,
                    io.out,
                    &ControlMessage::WindowAckSize(2_500_000),
                );
                let cmd = Command::new("createStream", 2.0, Amf0Value::Null, vec![]);
                write_command(&mut self.enc, io.out, 0, &cmd);
                self.state = State::Creating;
            }
            (State::Creating, "_result") if c.transaction_id == 2.0 => {
                let id = c.arg(0).and_then(Amf0Value::as_f64).unwrap_or(1.0) as u32;
                let args = vec![
                    Amf0Value::String(self.stream.clone()),
                    Amf0Value::Number(-2000.0),
                ];
                let cmd = Command::new("play", 3.0, Amf0Value::Null, args);
                write_command(&mut self.enc, io.out, id, &cmd);
                write_control(
                    &mut self.enc,
                    io.out,
                    &ControlMessage::UserControl(UserControlEvent::SetBufferLength {
                        stream_id: id,
                        buffer_ms: 3000,
                    }),
                );
                self.state = State::Playing;
                io.stats.playing_us = Some(io.now_us);
            }
            _ => {}
        }
        Ok(())
    }

    /// A media message.
    fn on_media(m: &RawMessage, io: &mut Io<'_>) -> Result<(), String> {
        match m.type_id {
            type_id::VIDEO => {
                if let Some(mk) = marker_in_flv_video(&m.body) {
                    io.stats.on_marker(mk, io.now_us, io.log);
                }
            }
            type_id::AGGREGATE => {
                for p in split_aggregate(m.timestamp, &m.body).map_err(|e| e.to_string())? {
                    if p.type_id == type_id::VIDEO {
                        if let Some(mk) = marker_in_flv_video(&p.body) {
                            io.stats.on_marker(mk, io.now_us, io.log);
                        }
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Session for RtmpReader {
    fn start(&mut self, io: &mut Io<'_>) -> Result<(), String> {
        io.out.extend_from_slice(&c0c1());
        Ok(())
    }

    fn on_tcp(&mut self, data: &[u8], io: &mut Io<'_>) -> Result<(), String> {
        self.buf.extend_from_slice(data);
        if self.state == State::Handshake {
            if self.buf.len() < SERVER_HANDSHAKE_LEN {
                return Ok(());
            }
            io.out.extend_from_slice(&c2(&self.buf));
            let _ = self.buf.split_to(SERVER_HANDSHAKE_LEN);
            let cmd = connect_command(&self.app, &self.tc_url, false);
            write_command(&mut self.enc, io.out, 0, &cmd);
            self.state = State::Connecting;
            self.rin.received = SERVER_HANDSHAKE_LEN as u64;
            let rest = self.buf.len();
            self.rin.count(rest, &mut self.enc, io.out);
        } else {
            self.rin.count(data.len(), &mut self.enc, io.out);
        }
        while let Some(m) = self.rin.next(&mut self.buf, &mut self.enc, io.out)? {
            match m {
                Incoming::Command(c) => self.on_command(c, io)?,
                Incoming::Media(m) => Self::on_media(&m, io)?,
                Incoming::Handled => {}
            }
        }
        Ok(())
    }

    fn is_playing(&self) -> bool {
        self.state == State::Playing
    }
}
