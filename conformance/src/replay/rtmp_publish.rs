//! Replay of an RTMP publisher: C0 and C1 as captured, S0/S1/S2 read from weir, C2 = weir's
//! S1 (not the captured C2), then the rest of the client's byte stream as captured (the chunk
//! stream does not depend on the handshake) — re-encoded only if weir's message stream id
//! differs from the original server's. An RTMP player of the path checks that the FLV tag
//! bodies arrive as the publisher sent them.

use super::digest::{check_track, Sequence};
use super::pacing::Pacer;
use super::rtmp_client::{RtmpConn, RtmpPlayer, RtmpReceived};
use super::rtmp_compare::{commands, compare_answers};
use super::rtmp_stream::{
    command, decode, is_audio_config, is_video_config, is_video_end, types, Command, Decoded,
    CHUNKS_START, VERSION_LEN,
};
use super::{Findings, FlowReport, Options};
use crate::flows::TcpFlow;
use std::net::SocketAddr;
use std::time::Duration;
use weir_core::rtmp::chunk::ChunkEncoder;
use weir_core::rtmp::Amf0Value;

/// Video or audio bodies a player may miss at the start (before the first key frame).
pub const MAX_SKIPPED_HEAD: usize = 300;
/// Attempts at attaching a checking player while the stream is being set up.
const ATTACH_ATTEMPTS: usize = 60;

/// What a client does on an RTMP connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RtmpRole {
    /// It publishes `stream` (message index of the `publish` command).
    Publish(String, usize),
    /// It plays `stream` (message index of the `play` command).
    Play(String, usize),
    /// Neither.
    Other,
}

/// A captured RTMP connection, decoded.
#[derive(Clone, Debug)]
pub struct CapturedRtmp {
    /// The client's bytes up to the first capture gap.
    pub client: Vec<u8>,
    /// The client's messages.
    pub client_msgs: Decoded,
    /// The original server's messages.
    pub server_msgs: Decoded,
    /// The `app` of `connect`.
    pub app: String,
    /// Publisher, player or neither.
    pub role: RtmpRole,
}

impl CapturedRtmp {
    /// Decodes both directions of `flow`.
    pub fn read(flow: &TcpFlow) -> CapturedRtmp {
        let c = &flow.connection;
        let client = c.client_to_server.contiguous_prefix();
        let server = c.server_to_client.contiguous_prefix();
        let client_msgs = decode(&client, CHUNKS_START, &c.client_to_server);
        let server_msgs = decode(&server, CHUNKS_START, &c.server_to_client);
        let mut app = String::new();
        let mut role = RtmpRole::Other;
        for (i, m) in client_msgs.messages.iter().enumerate() {
            let Some(cmd) = command(&m.raw) else { continue };
            match cmd.name.as_str() {
                "connect" => {
                    app = cmd
                        .args
                        .first()
                        .and_then(|o| o.get("app"))
                        .and_then(Amf0Value::as_str)
                        .unwrap_or_default()
                        .trim_end_matches('/')
                        .to_string();
                }
                "publish" if role == RtmpRole::Other => {
                    role = RtmpRole::Publish(stream_name(&cmd), i);
                }
                "play" if role == RtmpRole::Other => role = RtmpRole::Play(stream_name(&cmd), i),
                _ => {}
            }
        }
        CapturedRtmp {
            client,
            client_msgs,
            server_msgs,
            app,
            role,
        }
    }

    /// The client's commands.
    pub fn client_commands(&self) -> Vec<Command> {
        commands(self.client_msgs.messages.iter().map(|m| &m.raw))
    }

    /// The original server's commands.
    pub fn server_commands(&self) -> Vec<Command> {
        commands(self.server_msgs.messages.iter().map(|m| &m.raw))
    }

    /// The message stream id the original server's `createStream` answer gave.
    pub fn original_stream_id(&self) -> Option<u32> {
        let client = self.client_commands();
        let create = client.iter().find(|c| c.name == "createStream")?;
        self.server_commands()
            .iter()
            .find(|c| c.name == "_result" && c.transaction == create.transaction)
            .and_then(|c| c.args.get(1)?.as_f64())
            .map(|id| id as u32)
    }
}

/// The stream name of a `publish` / `play` command, without its query.
fn stream_name(cmd: &Command) -> String {
    let name = cmd.first_string().unwrap_or_default();
    name.split('?').next().unwrap_or_default().to_string()
}

/// Sends the client's messages from the replay's own position, keeping the captured bytes
/// unless the stream id must change; waits for weir's answers to `connect`, `createStream`
/// and `publish` / `play`.
pub struct ClientReplay<'a> {
    cap: &'a CapturedRtmp,
    /// Captured message stream id → weir's.
    sid_map: Option<(u32, u32)>,
    encoder: Option<ChunkEncoder>,
    chunk_size: u32,
    sent_to: usize,
    pacer: Pacer,
}

impl<'a> ClientReplay<'a> {
    /// Does the handshake (C2 = weir's S1) and returns the replay ready for the messages.
    pub fn start(
        cap: &'a CapturedRtmp,
        conn: &mut RtmpConn,
        options: &Options,
        findings: &mut Findings,
    ) -> Option<ClientReplay<'a>> {
        conn.keep_messages();
        match conn.handshake(&cap.client[..VERSION_LEN + 1536]) {
            Ok(s) if s[0] == cap.client[0] || s[0] == 3 => {}
            Ok(s) => findings.fail(format!(
                "weir answered C0 {} with S0 {}",
                cap.client[0], s[0]
            )),
            Err(e) => {
                findings.fail(format!("the handshake failed: {e}"));
                return None;
            }
        }
        Some(ClientReplay {
            cap,
            sid_map: None,
            encoder: None,
            chunk_size: 128,
            sent_to: CHUNKS_START,
            pacer: Pacer::new(options),
        })
    }

    /// Sends message `i` (and waits for its answer when the client waited for one). Returns
    /// the answer command, if one was awaited.
    pub fn send(
        &mut self,
        i: usize,
        conn: &mut RtmpConn,
        findings: &mut Findings,
    ) -> Option<Command> {
        let m = &self.cap.client_msgs.messages[i];
        self.pacer.wait(m.time);
        let raw = &m.raw;
        let result = match (&mut self.encoder, self.sid_map) {
            (Some(enc), Some((from, to))) => {
                let sid = if raw.stream_id == from {
                    to
                } else {
                    raw.stream_id
                };
                let mut out = Vec::with_capacity(raw.body.len() + 32);
                enc.write(
                    &mut out,
                    raw.csid,
                    raw.timestamp,
                    raw.type_id,
                    sid,
                    &raw.body,
                )
                .map_err(|e| std::io::Error::other(e.to_string()))
                .and_then(|()| conn.send_raw(&out))
            }
            _ => conn.send_raw(&self.cap.client[self.sent_to..m.end]),
        };
        self.sent_to = m.end;
        if let Err(e) = result {
            findings.fail(format!("sending the client's stream failed: {e}"));
            return None;
        }
        if raw.type_id == types::SET_CHUNK_SIZE && raw.body.len() >= 4 {
            self.chunk_size =
                u32::from_be_bytes([raw.body[0], raw.body[1], raw.body[2], raw.body[3]])
                    & 0x7fff_ffff;
            if let Some(enc) = &mut self.encoder {
                let _ = enc.set_chunk_size(self.chunk_size);
            }
        }
        let cmd = command(raw)?;
        let t = Duration::from_secs(5);
        let answer = match cmd.name.as_str() {
            "connect" | "createStream" => conn.wait_command(
                t,
                |c| c.transaction == cmd.transaction && c.name.starts_with('_'),
                |_| {},
            ),
            "publish" | "play" => conn.wait_command(
                t,
                |c| {
                    c.name == "onStatus"
                        && c.status_code().is_some_and(|s| s != "NetStream.Play.Reset")
                },
                |_| {},
            ),
            _ => return None,
        };
        match answer {
            Ok(a) => {
                if cmd.name == "createStream" {
                    self.map_stream_id(&a, findings);
                }
                Some(a)
            }
            Err(e) => {
                findings.fail(format!("`{}`: {e}", cmd.name));
                None
            }
        }
    }

    fn map_stream_id(&mut self, answer: &Command, findings: &mut Findings) {
        let (Some(orig), Some(weir)) = (
            self.cap.original_stream_id(),
            answer
                .args
                .get(1)
                .and_then(Amf0Value::as_f64)
                .map(|v| v as u32),
        ) else {
            return;
        };
        if orig != weir {
            findings.note(format!(
                "createStream: weir gave stream id {weir}, the original server {orig}: the rest of \
                 the client's stream is re-encoded with weir's id"
            ));
            let mut enc = ChunkEncoder::new();
            let _ = enc.set_chunk_size(self.chunk_size);
            self.encoder = Some(enc);
            self.sid_map = Some((orig, weir));
        }
    }
}

/// Tries to attach a checking player to `app/stream`; `None` while weir has no stream yet.
pub fn try_attach(
    rtmp: SocketAddr,
    app: &str,
    stream: &str,
    attempts: &mut usize,
) -> Option<RtmpPlayer> {
    if *attempts >= ATTACH_ATTEMPTS {
        return None;
    }
    *attempts += 1;
    RtmpPlayer::start(rtmp, app, stream).ok()
}

/// The bodies a publisher sent after `publish`: configurations and media, per kind.
#[derive(Clone, Debug, Default)]
pub struct SentBodies {
    /// Video media bodies.
    pub video: Sequence,
    /// Audio media bodies.
    pub audio: Sequence,
    /// Video sequence headers.
    pub video_config: Vec<Vec<u8>>,
    /// Audio sequence headers.
    pub audio_config: Vec<Vec<u8>>,
    /// Video end-of-sequence markers.
    pub video_end: usize,
}

impl SentBodies {
    /// Records one message body.
    pub fn take(&mut self, type_id: u8, body: &[u8]) {
        match type_id {
            types::VIDEO if is_video_config(body) => self.video_config.push(body.to_vec()),
            types::VIDEO if is_video_end(body) => self.video_end += 1,
            types::VIDEO if body.len() > 1 => self.video.push(body),
            types::AUDIO if is_audio_config(body) => self.audio_config.push(body.to_vec()),
            types::AUDIO if body.len() > 1 => self.audio.push(body),
            _ => {}
        }
    }
}

/// Compares what a player received with what was published.
pub fn compare_bodies(
    sent: &SentBodies,
    received: &RtmpReceived,
    findings: &mut Findings,
) -> Vec<super::MediaDigest> {
    for (kind, s, r) in [
        ("video", &sent.video_config, &received.video_config),
        ("audio", &sent.audio_config, &received.audio_config),
    ] {
        match (s.last(), r.first()) {
            (Some(s), Some(r)) if s != r => findings.known(format!(
                "the {kind} sequence header weir sends is rebuilt from the codec parameters, \
                 not copied from the publisher's (same parameters, different bytes)"
            )),
            (Some(_), None) => findings.fail(format!("the player got no {kind} sequence header")),
            _ => {}
        }
    }
    if sent.video_end > 0 {
        findings.known(
            "the publisher ends its video with an end-of-sequence message (no picture); weir \
             forwards pictures, not messages, and does not relay it",
        );
    }
    check_track(
        "video",
        &sent.video,
        &received.video,
        MAX_SKIPPED_HEAD,
        findings,
    );
    check_track(
        "audio",
        &sent.audio,
        &received.audio,
        MAX_SKIPPED_HEAD,
        findings,
    );
    let mut media = Vec::new();
    if !sent.video.is_empty() {
        media.push(received.video.digest("video"));
    }
    if !sent.audio.is_empty() {
        media.push(received.audio.digest("audio"));
    }
    media
}

/// What a publisher replay did.
#[derive(Debug, Default)]
pub struct Published {
    /// The bodies sent after `publish`.
    pub sent: SentBodies,
    /// What the checking player received, if one attached.
    pub received: Option<RtmpReceived>,
    /// Whether weir answered `NetStream.Publish.Start`.
    pub publishing: bool,
    /// Attempts at attaching the checking player.
    pub attempts: usize,
}

/// Replays publisher `cap` against weir's RTMP server at `rtmp`: with `check`, a player of
/// the path collects what weir forwards; `after_media` runs once the last media message went
/// out, before the client's closing commands.
pub fn publish(
    cap: &CapturedRtmp,
    rtmp: SocketAddr,
    options: &Options,
    findings: &mut Findings,
    check: bool,
    after_media: &mut dyn FnMut(&mut Findings),
) -> Published {
    let mut out = Published::default();
    let RtmpRole::Publish(stream, publish_at) = cap.role.clone() else {
        findings.fail("the client sends no publish command");
        return out;
    };
    let mut conn = match RtmpConn::connect(rtmp) {
        Ok(c) => c,
        Err(e) => {
            findings.fail(format!("cannot connect to weir's RTMP server: {e}"));
            return out;
        }
    };
    let Some(mut replay) = ClientReplay::start(cap, &mut conn, options, findings) else {
        return out;
    };
    let msgs = &cap.client_msgs.messages;
    let last_media = msgs
        .iter()
        .rposition(|m| matches!(m.raw.type_id, types::AUDIO | types::VIDEO));
    let mut player: Option<RtmpPlayer> = None;
    for (i, message) in msgs.iter().enumerate() {
        let answer = replay.send(i, &mut conn, findings);
        if !findings.failures.is_empty() {
            break;
        }
        if i == publish_at {
            out.publishing = answer
                .as_ref()
                .is_some_and(|a| a.status_code() == Some("NetStream.Publish.Start"));
        }
        let raw = &message.raw;
        if out.publishing && matches!(raw.type_id, types::AUDIO | types::VIDEO) {
            out.sent.take(raw.type_id, &raw.body);
            if check && player.is_none() {
                player = try_attach(rtmp, &cap.app, &stream, &mut out.attempts);
            }
        }
        if Some(i) == last_media {
            if let Some(p) = player.take() {
                super::digest::wait_for_media(
                    || p.progress(),
                    &[&out.sent.video, &out.sent.audio],
                    Duration::from_secs(2),
                    Duration::from_secs(30),
                );
                match p.finish() {
                    Ok(r) => out.received = Some(r),
                    Err(e) => findings.fail(format!("the checking player failed: {e}")),
                }
            }
            after_media(findings);
        }
    }
    // Whatever weir still says within a moment (answers to the last commands).
    conn.drain();
    let weir_cmds = commands(conn.kept().iter());
    compare_answers(
        &cap.client_commands(),
        &cap.server_commands(),
        &weir_cmds,
        findings,
    );
    out
}

/// Replays RTMP publisher `cap` against weir's RTMP server and checks what a player gets.
pub fn replay_publisher(
    cap: &CapturedRtmp,
    rtmp: SocketAddr,
    options: &Options,
    name: String,
) -> FlowReport {
    let mut findings = Findings::default();
    let RtmpRole::Publish(stream, _) = cap.role.clone() else {
        return FlowReport::not_replayable(name, "RTMP", "no publish command");
    };
    let done = publish(cap, rtmp, options, &mut findings, true, &mut |_| {});
    let mut media = Vec::new();
    match &done.received {
        Some(r) => media = compare_bodies(&done.sent, r, &mut findings),
        None if done.publishing && (!done.sent.video.is_empty() || !done.sent.audio.is_empty()) => {
            findings.fail(format!(
                "no player could play {}/{stream} ({} attempts)",
                cap.app, done.attempts
            ))
        }
        None => {}
    }
    if let Some(e) = &cap.client_msgs.error {
        findings.note(format!("the client's chunk stream stops decoding {e}"));
    }
    findings.note(format!(
        "sent {} video and {} audio messages",
        done.sent.video.len(),
        done.sent.audio.len()
    ));
    let mut report = FlowReport::new(name, "RTMP publish", findings);
    report.media = media;
    report
}
