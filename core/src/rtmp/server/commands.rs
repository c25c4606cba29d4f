//! Command handling (RTMP §7.2): the NetConnection and NetStream commands clients send, the
//! answers weir gives, and what misuse costs (an `_error` or error status, and a close).

use super::conn::{Connect, Pending, Role, RtmpServerConnection, CSID_COMMAND, CSID_STREAM};
use super::url::stream_target;
use super::RtmpEvent;
use crate::rtmp::amf0::{object, Amf0Value};
use crate::rtmp::chunk::{validate_chunk_size, RawMessage};
use crate::rtmp::command::Command;
use crate::rtmp::message::{type_id, BandwidthLimit, ControlMessage};

/// The server version weir announces (the one nginx-rtmp and others announce; some clients
/// look at it to pick features).
const FMS_VER: &str = "FMS/3,0,1,123";

/// The most message streams one connection may create.
const MAX_STREAMS: u32 = 16;

fn s(v: &str) -> Amf0Value {
    Amf0Value::String(v.to_owned())
}

impl RtmpServerConnection {
    pub(super) fn on_command(&mut self, msg: &RawMessage) {
        let cmd = match Command::parse(msg.type_id, &msg.body) {
            Ok(c) => c,
            Err(e) => return self.close(e.to_string()),
        };
        let txn = cmd.transaction_id;
        tracing::debug!("{} command {} ({txn})", self.log_prefix, cmd.name);
        match cmd.name.as_str() {
            "connect" => return self.on_connect(&cmd),
            // Answers to calls weir never makes, and notifications.
            "_result" | "_error" | "onStatus" | "onBWDone" | "onBWCheck" => return,
            _ => {}
        }
        if self.connect.is_none() {
            let why = format!("received '{}' before connect", cmd.name);
            self.call_failed(txn, &why);
            return self.close(why);
        }
        match cmd.name.as_str() {
            "createStream" => {
                if self.streams_created >= MAX_STREAMS {
                    return self.call_failed(txn, "too many streams");
                }
                self.streams_created += 1;
                let id = f64::from(self.streams_created);
                self.result(txn, Amf0Value::Number(id));
            }
            "releaseStream" | "FCPublish" | "FCSubscribe" | "_checkbw" => {
                self.result(txn, Amf0Value::Undefined)
            }
            "FCUnpublish" => {
                if self.is_publishing() {
                    self.end_stream();
                }
                self.result(txn, Amf0Value::Undefined);
            }
            "getStreamLength" => self.result(txn, Amf0Value::Number(0.0)),
            "publish" => self.on_publish(msg.stream_id, &cmd),
            "play" => self.on_play(msg.stream_id, &cmd),
            "deleteStream" => {
                let id = cmd.arg(0).and_then(Amf0Value::as_f64).unwrap_or(-1.0);
                if self.role_stream_id().is_some_and(|s| f64::from(s) == id) {
                    self.end_stream();
                }
            }
            "closeStream" => {
                if self.role_stream_id() == Some(msg.stream_id) {
                    self.end_stream();
                }
            }
            // Player controls weir has nothing to do for on a live stream.
            "receiveAudio" | "receiveVideo" | "receivedAudio" | "receivedVideo" | "pause"
            | "pauseRaw" | "seek" => {}
            other => {
                if txn != 0.0 {
                    self.call_failed(txn, &format!("unknown command '{other}'"));
                } else {
                    tracing::debug!("{} ignoring command '{other}'", self.log_prefix);
                }
            }
        }
    }

    fn role_stream_id(&self) -> Option<u32> {
        match self.role {
            Role::Publishing { stream_id, .. } | Role::Playing { stream_id, .. } => Some(stream_id),
            Role::Idle => None,
        }
    }

    fn on_connect(&mut self, cmd: &Command) {
        let txn = cmd.transaction_id;
        if self.connect.is_some() {
            self.call_failed(txn, "already connected");
            return self.close("received connect twice".into());
        }
        let text = |k: &str| {
            cmd.object
                .get(k)
                .and_then(Amf0Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let encoding = cmd
            .object
            .get("objectEncoding")
            .and_then(Amf0Value::as_f64)
            .unwrap_or(0.0);
        self.connect = Some(Connect {
            app: text("app"),
            tc_url: text("tcUrl"),
        });
        let window = self.cfg.window_ack_size;
        self.sent_window = window;
        self.send_control(ControlMessage::WindowAckSize(window));
        self.send_control(ControlMessage::SetPeerBandwidth {
            size: self.cfg.peer_bandwidth,
            limit: BandwidthLimit::Dynamic,
        });
        if let Ok(size) = validate_chunk_size(self.cfg.chunk_size) {
            self.send_control(ControlMessage::SetChunkSize(size));
            let _ = self.encoder.set_chunk_size(size);
        }
        let props = object([
            ("fmsVer", s(FMS_VER)),
            ("capabilities", Amf0Value::Number(31.0)),
            ("mode", Amf0Value::Number(1.0)),
        ]);
        let info = object([
            ("level", s("status")),
            ("code", s("NetConnection.Connect.Success")),
            ("description", s("Connection succeeded.")),
            ("objectEncoding", Amf0Value::Number(encoding)),
        ]);
        let answer = Command::new("_result", txn, props, vec![info]);
        self.send_command(CSID_COMMAND, 0, &answer);
    }

    /// The stream name argument and the (path, query) it names, or `None` after closing.
    fn stream_request(
        &mut self,
        stream_id: u32,
        cmd: &Command,
    ) -> Option<(String, String, String)> {
        let txn = cmd.transaction_id;
        let verb = cmd.name.as_str();
        if stream_id == 0 || stream_id > self.streams_created {
            let why = format!("received '{verb}' on stream {stream_id}, which was not created");
            self.call_failed(txn, &why);
            self.close(why);
            return None;
        }
        let (code_prefix, bad_code) = if verb == "publish" {
            ("NetStream.Publish", "NetStream.Publish.BadName")
        } else {
            ("NetStream.Play", "NetStream.Play.Failed")
        };
        if self.role != Role::Idle {
            let why = format!("received '{verb}' while already publishing or reading");
            let code = format!("{code_prefix}.BadConnection");
            self.send_status(stream_id, "error", &code, &why, "");
            self.close(why);
            return None;
        }
        let Some(name) = cmd.arg(0).and_then(Amf0Value::as_str).map(str::to_owned) else {
            let why = format!("received '{verb}' without a stream name");
            self.send_status(stream_id, "error", bad_code, &why, "");
            self.close(why);
            return None;
        };
        let c = self.connect.as_ref()?;
        let (path, query) = stream_target(&c.app, &c.tc_url, &name);
        Some((name, path, query))
    }

    fn on_publish(&mut self, stream_id: u32, cmd: &Command) {
        let Some((name, path, query)) = self.stream_request(stream_id, cmd) else {
            return;
        };
        self.pending = Some(Pending::Publish {
            stream_id,
            name,
            path: path.clone(),
        });
        self.events.push_back(RtmpEvent::Publish { path, query });
    }

    fn on_play(&mut self, stream_id: u32, cmd: &Command) {
        let Some((name, path, query)) = self.stream_request(stream_id, cmd) else {
            return;
        };
        self.pending = Some(Pending::Play {
            stream_id,
            name,
            path: path.clone(),
        });
        self.events.push_back(RtmpEvent::Play { path, query });
    }

    /// Sends a command message (type 20) on `csid` and message stream `stream_id`.
    pub(super) fn send_command(&mut self, csid: u32, stream_id: u32, cmd: &Command) {
        let mut body = Vec::with_capacity(256);
        if cmd.write(&mut body).is_ok() {
            let _ = self.encoder.write(
                &mut self.transmit,
                csid,
                0,
                type_id::COMMAND_AMF0,
                stream_id,
                &body,
            );
        }
    }

    /// Sends a data message (type 18) on the stream chunk stream.
    pub(super) fn send_data(&mut self, stream_id: u32, values: &[Amf0Value]) {
        let mut body = Vec::with_capacity(128);
        if values.iter().all(|v| v.write(&mut body).is_ok()) {
            let _ = self.encoder.write(
                &mut self.transmit,
                CSID_STREAM,
                0,
                type_id::DATA_AMF0,
                stream_id,
                &body,
            );
        }
    }

    /// `_result(txn, null, value)`.
    fn result(&mut self, txn: f64, value: Amf0Value) {
        let answer = Command::new("_result", txn, Amf0Value::Null, vec![value]);
        self.send_command(CSID_COMMAND, 0, &answer);
    }

    /// `_error(txn, null, {level: error, code: NetConnection.Call.Failed, description})`.
    pub(super) fn call_failed(&mut self, txn: f64, description: &str) {
        let info = object([
            ("level", s("error")),
            ("code", s("NetConnection.Call.Failed")),
            ("description", s(description)),
        ]);
        let answer = Command::new("_error", txn, Amf0Value::Null, vec![info]);
        self.send_command(CSID_COMMAND, 0, &answer);
    }

    /// `onStatus(0, null, {level, code, description, details})` on message stream `stream_id`.
    pub(super) fn send_status(
        &mut self,
        stream_id: u32,
        level: &str,
        code: &str,
        description: &str,
        details: &str,
    ) {
        let mut info = object([
            ("level", s(level)),
            ("code", s(code)),
            ("description", s(description)),
        ]);
        if let (Amf0Value::Object(p), false) = (&mut info, details.is_empty()) {
            p.push(("details".into(), s(details)));
        }
        let status = Command::new("onStatus", 0.0, Amf0Value::Null, vec![info]);
        self.send_command(CSID_STREAM, stream_id, &status);
    }
}
