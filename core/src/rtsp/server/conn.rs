//! The connection: input parsing, the question/answer protocol with the adapter, outputs and
//! timeouts. The per-method logic is in `handlers.rs`.

use super::session::{Role, Session, SessionState};
use super::PlayStart;
use crate::media::{PathError, StreamDescription};
use crate::rtp::RtpPacket;
use crate::rtsp::message::{self, Limits, Message, Parsed};
use crate::rtsp::writer::write_response;
use bytes::{Buf, Bytes, BytesMut};
use core::net::SocketAddr;
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::session::MulticastGroup;

/// Which transports the server offers (`rtspTransports`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportSet {
    /// UDP unicast.
    pub udp: bool,
    /// UDP multicast (readers).
    pub multicast: bool,
    /// TCP interleaved.
    pub tcp: bool,
}

/// Settings of the RTSP server shared by every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Size limits of requests.
    pub limits: Limits,
    /// `readTimeout`: a publisher (or an idle connection) that sends nothing for this long is
    /// closed.
    pub read_timeout: Duration,
    /// The session timeout announced in `Session: id;timeout=N` and enforced on sessions that
    /// are not kept alive by a TCP stream.
    pub session_timeout: Duration,
    /// The transports offered.
    pub transports: TransportSet,
    /// The server's RTP port (`rtpAddress`), announced in `server_port`.
    pub server_rtp_port: u16,
    /// The server's RTCP port (`rtcpAddress`).
    pub server_rtcp_port: u16,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            read_timeout: Duration::from_secs(10),
            session_timeout: Duration::from_secs(60),
            transports: TransportSet {
                udp: true,
                multicast: true,
                tcp: true,
            },
            server_rtp_port: 8000,
            server_rtcp_port: 8001,
        }
    }
}

/// What the connection tells the adapter.
#[derive(Debug, Clone)]
pub enum Event {
    /// Question: the stream description of `path` (DESCRIBE).
    /// Answer with [`ServerConnection::answer_describe`].
    Describe {
        /// The path.
        path: String,
        /// The query string.
        query: String,
    },
    /// Question: may this session publish `description` to `path`?
    /// Answer with [`ServerConnection::answer_announce`].
    Announce {
        /// The path.
        path: String,
        /// The query string.
        query: String,
        /// The announced tracks.
        description: Arc<StreamDescription>,
    },
    /// Question: the stream of `path` for a reader's first SETUP (and a multicast group when
    /// `multicast`). Answer with [`ServerConnection::answer_setup_read`].
    SetupRead {
        /// The path.
        path: String,
        /// The query string.
        query: String,
        /// Whether the reader asked for multicast.
        multicast: bool,
    },
    /// Question: attach this session as a reader of its path now (PLAY).
    /// Answer with [`ServerConnection::answer_play`].
    Play,
    /// The publisher session started recording: media will follow.
    Record,
    /// The session stopped playing or recording (PAUSE) but lives on.
    Paused,
    /// An RTP packet a publisher sent over TCP.
    Rtp {
        /// The track.
        track: usize,
        /// The packet.
        packet: RtpPacket,
    },
    /// An RTCP packet the client sent over TCP.
    Rtcp {
        /// The track.
        track: usize,
        /// The raw compound packet.
        packet: Bytes,
    },
    /// The session ended; the adapter releases what it held for it.
    SessionClosed {
        /// The session as it was.
        session: Box<Session>,
        /// Why it ended.
        reason: String,
    },
    /// The adapter must send what is pending and close the connection.
    Close {
        /// Why.
        reason: String,
    },
}

/// A question asked to the adapter, with what is needed to answer the client afterwards.
#[derive(Debug)]
pub(super) enum Pending {
    Describe {
        cseq: u32,
        url: String,
    },
    Announce {
        cseq: u32,
        path: String,
        query: String,
        description: Arc<StreamDescription>,
    },
    SetupRead(super::handlers::PendingSetup),
    Play {
        cseq: u32,
        url: String,
    },
}

/// The server side of one RTSP connection.
#[derive(Debug)]
pub struct ServerConnection {
    pub(super) cfg: Arc<ServerConfig>,
    pub(super) peer: SocketAddr,
    pub(super) log_prefix: String,
    /// Absolute stream position of the first byte the next parse will see.
    position: u64,
    pub(super) transmit: Vec<u8>,
    pub(super) events: VecDeque<Event>,
    pub(super) session: Option<Session>,
    pub(super) pending: Option<Pending>,
    closing: bool,
    pub(super) last_input: Instant,
    rng: u64,
    warned_channels: u32,
}

impl ServerConnection {
    /// A connection from `peer`, opened at `now`. `seed` feeds session id generation and must
    /// come from a good random source.
    pub fn new(cfg: Arc<ServerConfig>, peer: SocketAddr, now: Instant, seed: u64) -> Self {
        let log_prefix = format!("[RTSP] [conn {peer}]");
        tracing::info!("{log_prefix} opened");
        ServerConnection {
            cfg,
            peer,
            log_prefix,
            position: 0,
            transmit: Vec::with_capacity(1024),
            events: VecDeque::with_capacity(8),
            session: None,
            pending: None,
            closing: false,
            last_input: now,
            rng: seed | 1,
            warned_channels: 0,
        }
    }

    /// The peer address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The session, if one exists.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// Whether the connection waits for an `answer_*` call before it parses more input.
    pub fn is_waiting(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether the connection is closing (no more input is processed).
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    pub(super) fn next_session_id(&mut self) -> String {
        // splitmix64 over the caller's seed: ids are unpredictable without the seed.
        self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        format!("{:016x}", z ^ (z >> 31))
    }

    /// Feeds received bytes. Parses and consumes complete messages from `buf`, leaving any
    /// incomplete tail there for the next call. Stops early when a question is pending (see
    /// [`Self::is_waiting`]): answer it, then call again with the same buffer.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        if !buf.is_empty() {
            self.last_input = now;
        }
        while !self.closing && self.pending.is_none() && !buf.is_empty() {
            let limits = self.cfg.limits;
            let consumed = match message::parse(&buf[..], self.position, &limits) {
                Ok(Parsed::NeedMore { .. }) => {
                    // Keep-alive blank lines between messages must not accumulate.
                    let blank = message::leading_empty_lines(&buf[..]);
                    if blank > 0 && blank == buf.len() {
                        buf.advance(blank);
                        self.position += blank as u64;
                    }
                    break;
                }
                Err(e) => {
                    tracing::warn!("{} invalid request: {e}", self.log_prefix);
                    let status = e.kind.status();
                    write_response(&mut self.transmit, status, &[("Server", SERVER)], &[]);
                    self.close(format!("invalid request: {e}"));
                    break;
                }
                Ok(Parsed::Done {
                    message: Message::Interleaved { channel, .. },
                    consumed,
                }) => Err((channel, consumed)),
                Ok(Parsed::Done {
                    message: Message::Response(_),
                    consumed,
                }) => {
                    // Answers to requests weir never sends (some clients answer keep-alives).
                    Ok(consumed)
                }
                Ok(Parsed::Done {
                    message: Message::Request(req),
                    consumed,
                }) => {
                    self.handle_request(now, &req);
                    Ok(consumed)
                }
            };
            let consumed = match consumed {
                Ok(c) => c,
                Err((channel, consumed)) => {
                    let frame = buf.split_to(consumed).freeze().slice(4..);
                    self.position += consumed as u64;
                    self.handle_interleaved(now, channel, frame);
                    continue;
                }
            };
            buf.advance(consumed);
            self.position += consumed as u64;
        }
    }

    fn handle_interleaved(&mut self, now: Instant, channel: u8, frame: Bytes) {
        let target = self
            .session
            .as_ref()
            .and_then(|s| s.track_of_channel(channel));
        match (target, self.session.as_mut()) {
            (Some((track, rtcp)), Some(s)) => {
                s.last_activity = now;
                if rtcp {
                    self.events.push_back(Event::Rtcp {
                        track,
                        packet: frame,
                    });
                } else if s.state == SessionState::Record {
                    match RtpPacket::parse(frame) {
                        Ok(packet) => self.events.push_back(Event::Rtp { track, packet }),
                        Err(e) => tracing::debug!("{} invalid RTP packet: {e}", self.log_prefix),
                    }
                }
            }
            _ => {
                self.warned_channels += 1;
                if self.warned_channels == 1 {
                    tracing::warn!(
                        "{} received interleaved frame on channel {channel}, which is not set up; ignoring",
                        self.log_prefix
                    );
                }
            }
        }
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
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Self::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closing {
            return None;
        }
        match &self.session {
            None => Some(self.last_input + self.cfg.read_timeout),
            Some(s) => match (s.state, s.transport_kind()) {
                // A TCP reader may legitimately send nothing: writes fail instead.
                (SessionState::Play, Some(super::TrackTransport::Tcp { .. })) => None,
                (SessionState::Record, Some(super::TrackTransport::Tcp { .. })) => {
                    Some(self.last_input + self.cfg.read_timeout)
                }
                (SessionState::Record, _) => Some(s.last_activity + self.cfg.read_timeout),
                _ => Some(s.last_activity.max(self.last_input) + self.cfg.session_timeout),
            },
        }
    }

    /// Handles the deadline given by [`Self::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some(deadline) = self.poll_timeout() {
            if now >= deadline {
                let reason = if self.session.is_some() {
                    "session timed out"
                } else {
                    "timed out"
                };
                self.close(reason.into());
            }
        }
    }

    /// Tells the connection that media or RTCP for its session arrived over UDP at `now`.
    pub fn handle_udp_activity(&mut self, now: Instant) {
        if let Some(s) = self.session.as_mut() {
            s.last_activity = s.last_activity.max(now);
        }
    }

    /// Tells the connection that the transport closed (peer gone, write error, shutdown).
    pub fn handle_close(&mut self, reason: &str) {
        if !self.closing {
            self.close(reason.to_owned());
        }
    }

    /// Ends the session (if any) and the connection.
    pub(super) fn close(&mut self, reason: String) {
        self.closing = true;
        self.pending = None;
        self.end_session(&reason);
        tracing::info!("{} closed: {reason}", self.log_prefix);
        self.events.push_back(Event::Close { reason });
    }

    /// Ends the session from the server side (its publisher was replaced, its path's source
    /// went away): the connection is closed too, as MediaMTX does.
    pub fn terminate(&mut self, reason: &str) {
        if !self.closing {
            self.close(reason.to_owned());
        }
    }

    pub(super) fn end_session(&mut self, reason: &str) {
        if let Some(s) = self.session.take() {
            tracing::info!("[RTSP] [session {}] destroyed: {reason}", s.log_id());
            self.events.push_back(Event::SessionClosed {
                session: Box::new(s),
                reason: reason.to_owned(),
            });
        }
    }

    /// Answers [`Event::Describe`].
    pub fn answer_describe(&mut self, result: Result<Arc<StreamDescription>, PathError>) {
        let Some(Pending::Describe { cseq, url }) = self.pending.take() else {
            return;
        };
        match result {
            Ok(desc) => {
                let sdp = desc.to_sdp();
                let base = format!("{}/", url.trim_end_matches('/'));
                self.respond(
                    200,
                    Some(cseq),
                    &[("Content-Base", &base), ("Content-Type", "application/sdp")],
                    sdp.as_bytes(),
                );
            }
            Err(PathError::Redirect { path, location }) => {
                let location = super::url::absolute_location(&url, &location);
                tracing::info!("{} path '{path}' redirects to {location}", self.log_prefix);
                self.respond(301, Some(cseq), &[("Location", &location)], &[]);
            }
            Err(e) => self.refuse(cseq, &e),
        }
    }

    /// Answers [`Event::Announce`].
    pub fn answer_announce(&mut self, result: Result<(), PathError>) {
        let Some(Pending::Announce {
            cseq,
            path,
            query,
            description,
        }) = self.pending.take()
        else {
            return;
        };
        match result {
            Ok(()) => {
                let id = self.next_session_id();
                let s = Session {
                    id,
                    role: Role::Publisher,
                    state: SessionState::PreRecord,
                    path,
                    query,
                    description,
                    tracks: SmallVec::new(),
                    multicast_groups: SmallVec::new(),
                    last_activity: self.last_input,
                };
                tracing::info!("[RTSP] [session {}] created by {}", s.log_id(), self.peer);
                self.session = Some(s);
                self.respond(200, Some(cseq), &[], &[]);
            }
            Err(e) => self.refuse(cseq, &e),
        }
    }

    /// Answers [`Event::SetupRead`] with the path's stream description and, when the reader
    /// asked for multicast, the path's groups (one per track, indexed by track).
    pub fn answer_setup_read(
        &mut self,
        result: Result<(Arc<StreamDescription>, SmallVec<[MulticastGroup; 4]>), PathError>,
    ) {
        let Some(Pending::SetupRead(p)) = self.pending.take() else {
            return;
        };
        self.finish_setup_read(p, result);
    }

    /// Answers [`Event::Play`] with where each track starts for this reader.
    pub fn answer_play(&mut self, result: Result<SmallVec<[PlayStart; 4]>, PathError>) {
        let Some(Pending::Play { cseq, url }) = self.pending.take() else {
            return;
        };
        match result {
            Ok(starts) => self.finish_play(cseq, &url, &starts),
            Err(e) => self.refuse(cseq, &e),
        }
    }

    pub(super) fn refuse(&mut self, cseq: u32, e: &PathError) {
        tracing::info!("{} {e}", self.log_prefix);
        self.respond(e.rtsp_status(), Some(cseq), &[], &[]);
    }

    /// Writes a response with CSeq, Server and (when a session exists) Session headers.
    pub(super) fn respond(
        &mut self,
        status: u16,
        cseq: Option<u32>,
        extra: &[(&str, &str)],
        body: &[u8],
    ) {
        let cseq_text = cseq.map(|c| c.to_string());
        let session_text = self
            .session
            .as_ref()
            .map(|s| format!("{};timeout={}", s.id, self.cfg.session_timeout.as_secs()));
        let mut headers: SmallVec<[(&str, &str); 8]> = SmallVec::new();
        if let Some(c) = &cseq_text {
            headers.push(("CSeq", c));
        }
        headers.push(("Server", SERVER));
        if let Some(s) = &session_text {
            headers.push(("Session", s));
        }
        headers.extend_from_slice(extra);
        write_response(&mut self.transmit, status, &headers, body);
    }
}

/// The `Server` header value.
pub(super) const SERVER: &str = "weir";
