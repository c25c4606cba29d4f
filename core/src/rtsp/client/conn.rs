//! The client connection: requests out, responses and interleaved media in.

use super::udp::{Mode, RtspTransport, UdpTrack};
use super::{ClientEvent, SourceUrl};
use crate::media::StreamDescription;
use crate::rtp::RtpPacket;
use crate::rtsp::headers::auth::{digest_response, Authorization, DigestParams, WwwAuthenticate};
use crate::rtsp::headers::content_base::resolve_control;
use crate::rtsp::headers::session::SessionHeader;
use crate::rtsp::message::{self, Limits, Message, Parsed};
use crate::rtsp::write_request;
use bytes::{Buf, Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The client's settings.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// A server silent for this long (no response, no media) is given up.
    pub read_timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: &'static str,
    /// Parser limits for the server's messages.
    pub limits: Limits,
    /// `sourceFingerprint`: the SHA-256 (hex) a TLS source's certificate must have; empty:
    /// the certificate must chain to one of `roots`.
    pub fingerprint: String,
    /// The trusted roots of TLS sources without a fingerprint.
    pub roots: crate::pull::TrustRoots,
    /// `rtspTransport`: how the media travels.
    pub transport: RtspTransport,
    /// `rtspAnyPort`: accept UDP media from any port of the server.
    pub any_port: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            read_timeout: Duration::from_secs(10),
            user_agent: "weir",
            limits: Limits {
                max_body_bytes: 64 * 1024,
                ..Limits::default()
            },
            fingerprint: String::new(),
            roots: crate::pull::TrustRoots::none(),
            transport: RtspTransport::Tcp,
            any_port: false,
        }
    }
}

/// A request as sent: method, URI, extra headers.
type SentRequest = (&'static str, String, Vec<(String, String)>);

/// The parts of a response the client acts on.
struct Answer {
    status: u16,
    cseq: Option<u32>,
    session: Option<(String, Option<u32>)>,
    base: Option<String>,
    transport: Option<String>,
    challenges: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Options,
    Describe,
    /// Waiting for the adapter to open the UDP sockets of a track.
    AwaitUdp(usize),
    Setup(usize),
    Play,
    Playing,
    Closed,
}

/// One connection to an RTSP server, reading one stream (see the module docs).
#[derive(Debug)]
pub struct ClientConnection {
    pub(super) cfg: ClientConfig,
    pub(super) url: SourceUrl,
    pub(super) state: State,
    /// How the media of this connection travels.
    pub(super) mode: Mode,
    /// The UDP side of each track (UDP and multicast modes).
    pub(super) udp_tracks: Vec<UdpTrack>,
    /// Automatic mode: when the first UDP packet must have arrived.
    pub(super) first_udp_by: Option<Instant>,
    /// Automatic mode got no UDP packet: the next connection uses TCP.
    pub(super) switch_to_tcp: bool,
    cseq: u32,
    /// The CSeq of the request waiting for its answer.
    awaiting: Option<u32>,
    session: Option<String>,
    keepalive: Duration,
    next_keepalive: Option<Instant>,
    base: String,
    description: Option<Arc<StreamDescription>>,
    position: u64,
    pub(super) last_input: Instant,
    transmit: Vec<u8>,
    pub(super) events: VecDeque<ClientEvent>,
    /// The server's challenge, once a request was answered 401.
    challenge: Option<WwwAuthenticate>,
    /// The request waiting for its answer, to send again with credentials after a 401.
    last: Option<SentRequest>,
    /// Whether `last` was already sent with credentials.
    sent_with_credentials: bool,
}

impl ClientConnection {
    /// A connection to `url` opened at `now`; the first request is queued.
    pub fn new(cfg: ClientConfig, url: SourceUrl, now: Instant) -> ClientConnection {
        let base = url.url.clone();
        let mode = Mode::first(cfg.transport);
        let mut c = ClientConnection {
            cfg,
            url,
            state: State::Options,
            mode,
            udp_tracks: Vec::new(),
            first_udp_by: None,
            switch_to_tcp: false,
            cseq: 0,
            awaiting: None,
            session: None,
            keepalive: Duration::from_secs(30),
            next_keepalive: None,
            base,
            description: None,
            position: 0,
            last_input: now,
            transmit: Vec::with_capacity(1024),
            events: VecDeque::with_capacity(64),
            challenge: None,
            last: None,
            sent_with_credentials: false,
        };
        let url = c.url.url.clone();
        c.request("OPTIONS", &url, &[]);
        c
    }

    /// The URL read (credentials removed).
    pub fn url(&self) -> &str {
        &self.url.url
    }

    /// Whether media is flowing.
    pub fn is_playing(&self) -> bool {
        self.state == State::Playing
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    fn request(&mut self, method: &'static str, uri: &str, extra: &[(&str, &str)]) {
        self.cseq += 1;
        let cseq = self.cseq.to_string();
        let mut headers: Vec<(&str, &str)> =
            vec![("CSeq", &cseq), ("User-Agent", self.cfg.user_agent)];
        let session = self.session.clone();
        if let Some(s) = &session {
            headers.push(("Session", s));
        }
        let auth = self.authorization(method, uri);
        if let Some(a) = &auth {
            headers.push(("Authorization", a));
        }
        headers.extend_from_slice(extra);
        write_request(&mut self.transmit, method, uri, &headers, &[]);
        self.awaiting = Some(self.cseq);
        self.sent_with_credentials = auth.is_some();
        let extra = extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.last = Some((method, uri.to_owned(), extra));
    }

    /// The `Authorization` value for a request, once the server challenged and the URL has
    /// credentials: Digest (RFC 2617 without `qop`, as RTSP servers use it) or Basic.
    fn authorization(&self, method: &str, uri: &str) -> Option<String> {
        let (user, pass) = self.url.credentials.as_ref()?;
        Some(match self.challenge.as_ref()? {
            WwwAuthenticate::Basic { .. } => Authorization::Basic {
                user: user.clone(),
                pass: pass.clone(),
            }
            .to_string(),
            WwwAuthenticate::Digest {
                realm,
                nonce,
                opaque,
                ..
            } => {
                let response = digest_response(user, realm, pass, method, uri, nonce);
                Authorization::Digest(DigestParams {
                    username: user,
                    realm,
                    nonce,
                    uri,
                    response: &response,
                    algorithm: None,
                    opaque: opaque.as_deref(),
                })
                .to_string()
            }
        })
    }

    /// A 401: takes the server's challenge (Digest preferred) and sends the request again
    /// with credentials, once (again when the server says the nonce was only stale). False
    /// when it cannot be retried.
    fn retry_with_credentials(&mut self, challenges: &[String]) -> bool {
        if self.url.credentials.is_none() {
            return false;
        }
        let parsed: Vec<WwwAuthenticate> = challenges
            .iter()
            .filter_map(|c| WwwAuthenticate::parse(c).ok())
            .collect();
        let Some(challenge) = parsed
            .iter()
            .find(|c| matches!(c, WwwAuthenticate::Digest { .. }))
            .or_else(|| parsed.first())
            .cloned()
        else {
            return false;
        };
        let stale = matches!(challenge, WwwAuthenticate::Digest { stale: true, .. });
        if self.sent_with_credentials && !stale {
            return false;
        }
        self.challenge = Some(challenge);
        let Some((method, uri, extra)) = self.last.take() else {
            return false;
        };
        let extra: Vec<(&str, &str)> = extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.request(method, &uri, &extra);
        true
    }

    pub(super) fn close(&mut self, reason: String) {
        if self.state != State::Closed {
            self.state = State::Closed;
            self.events.push_back(ClientEvent::Close { reason });
        }
    }

    /// Feeds bytes from the server; consumed bytes are removed from `buf`.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        if !buf.is_empty() {
            self.last_input = now;
        }
        while self.state != State::Closed && !buf.is_empty() {
            let (consumed, frame) = match message::parse(&buf[..], self.position, &self.cfg.limits)
            {
                Ok(Parsed::NeedMore { .. }) => return,
                Err(e) => return self.close(format!("invalid message from the server: {e}")),
                Ok(Parsed::Done {
                    message: Message::Interleaved { channel, payload },
                    consumed,
                }) => (consumed, Some((channel, consumed - payload.len()))),
                Ok(Parsed::Done {
                    message: Message::Response(r),
                    consumed,
                }) => {
                    let status = r.status;
                    let cseq = r.headers.get("CSeq").and_then(|v| v.trim().parse().ok());
                    let session = r
                        .headers
                        .get("Session")
                        .and_then(|v| SessionHeader::parse(v).ok())
                        .map(|s| (s.id.to_owned(), s.timeout));
                    let base = r.headers.get("Content-Base").map(str::to_owned);
                    let transport = r.headers.get("Transport").map(str::to_owned);
                    let challenges: Vec<String> = if status == 401 {
                        r.headers
                            .get_all("WWW-Authenticate")
                            .map(str::to_owned)
                            .collect()
                    } else {
                        Vec::new()
                    };
                    let body = r.body.to_vec();
                    buf.advance(consumed);
                    self.position += consumed as u64;
                    let answer = Answer {
                        status,
                        cseq,
                        session,
                        base,
                        transport,
                        challenges,
                    };
                    self.on_response(now, answer, &body);
                    continue;
                }
                Ok(Parsed::Done {
                    message: Message::Request(_),
                    consumed,
                }) => {
                    // Servers may send requests (ANNOUNCE, GET_PARAMETER); weir does not
                    // answer them, as most clients.
                    (consumed, None)
                }
            };
            self.position += consumed as u64;
            match frame {
                Some((channel, header)) => {
                    let mut bytes = buf.split_to(consumed).freeze();
                    bytes.advance(header);
                    self.on_frame(channel, bytes);
                }
                None => buf.advance(consumed),
            }
        }
    }

    fn on_frame(&mut self, channel: u8, bytes: Bytes) {
        if self.state != State::Playing || channel % 2 != 0 {
            return;
        }
        let track = usize::from(channel / 2);
        if self
            .description
            .as_ref()
            .is_none_or(|d| track >= d.tracks.len())
        {
            return;
        }
        match RtpPacket::parse(bytes) {
            Ok(packet) => self.events.push_back(ClientEvent::Rtp { track, packet }),
            Err(e) => tracing::debug!("[RTSP source {}] invalid RTP packet: {e}", self.url.url),
        }
    }

    fn on_response(&mut self, now: Instant, a: Answer, body: &[u8]) {
        let Answer {
            status,
            cseq,
            session,
            base,
            transport,
            challenges,
        } = a;
        if cseq.is_none() || cseq != self.awaiting {
            return;
        }
        self.awaiting = None;
        if status == 401 && self.state != State::Playing && self.retry_with_credentials(&challenges)
        {
            return;
        }
        if let (461, State::Setup(i)) = (status, self.state) {
            if self.fall_back_to_tcp(i) {
                return self.setup(i);
            }
        }
        if status != 200 {
            let what = match self.state {
                State::Options => "OPTIONS",
                State::Describe => "DESCRIBE",
                State::Setup(_) | State::AwaitUdp(_) => "SETUP",
                State::Play => "PLAY",
                State::Playing => return, // a keep-alive may be refused; media decides
                State::Closed => return,
            };
            let hint = match (status, &self.url.credentials) {
                (401, None) => " (the source URL has no credentials)",
                (401, Some(_)) => " (wrong credentials)",
                _ => "",
            };
            return self.close(format!("the server answered {what} with {status}{hint}"));
        }
        if let Some((id, timeout)) = session {
            self.session = Some(id);
            if let Some(t) = timeout.filter(|&t| t >= 2) {
                self.keepalive = Duration::from_secs(u64::from(t) / 2);
            }
        }
        let url = self.url.url.clone();
        match self.state {
            State::Options => {
                self.state = State::Describe;
                self.request("DESCRIBE", &url, &[("Accept", "application/sdp")]);
            }
            State::Describe => {
                if let Some(b) = base {
                    self.base = b;
                }
                let desc = match StreamDescription::from_sdp(body) {
                    Ok(d) if !d.tracks.is_empty() => d,
                    Ok(_) => return self.close("the server's SDP has no track".into()),
                    Err(e) => return self.close(format!("the server's SDP is invalid: {e}")),
                };
                self.udp_tracks = vec![UdpTrack::default(); desc.tracks.len()];
                self.description = Some(Arc::new(desc));
                self.setup(0);
            }
            State::Setup(i) => {
                if self.take_transport(i, transport.as_deref()) {
                    self.setup(i + 1);
                }
            }
            State::Play => {
                self.state = State::Playing;
                self.arm_udp_deadline(now);
                self.next_keepalive = Some(now + self.keepalive);
                if let Some(description) = self.description.clone() {
                    self.events.push_back(ClientEvent::Ready { description });
                }
            }
            State::AwaitUdp(_) | State::Playing | State::Closed => {}
        }
    }

    /// SETUP of track `i` (once its UDP ports are open in UDP mode), or PLAY after the
    /// last one.
    pub(super) fn setup(&mut self, i: usize) {
        let Some(desc) = self.description.clone() else {
            return;
        };
        if i >= desc.tracks.len() {
            self.state = State::Play;
            let url = self.base.clone();
            return self.request("PLAY", &url, &[("Range", "npt=0.000-")]);
        }
        if self.mode == Mode::Udp && self.udp_tracks[i].local.is_none() {
            self.state = State::AwaitUdp(i);
            let ev = ClientEvent::OpenUdp {
                track: i,
                group: None,
            };
            return self.events.push_back(ev);
        }
        let control = desc.tracks[i].announced_control.clone().unwrap_or_default();
        let uri = resolve_control(&self.base, &control);
        let transport = self.setup_transport(i);
        self.state = State::Setup(i);
        self.request("SETUP", &uri, &[("Transport", &transport)]);
    }

    /// Appends the bytes to send to `out`. Returns whether anything was appended.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> bool {
        if self.transmit.is_empty() {
            return false;
        }
        out.append(&mut self.transmit);
        true
    }

    /// The next event for the adapter.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`ClientConnection::handle_timeout`] is next needed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state == State::Closed {
            return None;
        }
        let silence = self.last_input + self.cfg.read_timeout;
        [self.next_keepalive, self.first_udp_by]
            .into_iter()
            .flatten()
            .min()
            .map(|t| t.min(silence))
            .or(Some(silence))
    }

    /// Sends the keep-alive when due; gives up on a silent server.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        if self.first_udp_by.is_some_and(|t| now >= t) {
            return self.udp_timed_out();
        }
        if now >= self.last_input + self.cfg.read_timeout {
            return self.close("the source timed out".into());
        }
        if let Some(k) = self.next_keepalive.filter(|&k| now >= k) {
            let _ = k;
            self.next_keepalive = Some(now + self.keepalive);
            let url = self.base.clone();
            self.request("OPTIONS", &url, &[]);
            // A keep-alive's answer is not awaited: media keeps flowing meanwhile.
            self.awaiting = None;
        }
    }

    /// The socket closed or failed.
    pub fn handle_close(&mut self, reason: &str) {
        self.close(reason.to_owned());
    }

    /// The UDP sockets of `track` are open: its SETUP goes out (unicast), or the next track's
    /// (multicast, where the answer came first).
    pub(super) fn udp_opened(&mut self, track: usize) {
        match self.mode {
            Mode::Multicast => self.setup(track + 1),
            _ => self.setup(track),
        }
    }
}
