//! Per-method request handling (RFC 2326 §10) and the status code for every misuse.

use super::conn::{Event, Pending, ServerConnection};
use super::session::{MulticastGroup, Role, Session, SessionState, TrackTransport};
use super::url::split_request_url;
use super::PlayStart;
use crate::media::{PathError, StreamDescription};
use crate::rtsp::headers::{
    parse_cseq, write_rtp_info, Delivery, LowerTransport, Profile, RtpInfoEntry, SessionHeader,
    Transport, TransportMode,
};
use crate::rtsp::message::Request;
use crate::rtsp::method::Method;
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::Instant;

const PUBLIC: &str =
    "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, GET_PARAMETER, SET_PARAMETER, TEARDOWN";

/// A reader SETUP waiting for the path's description.
#[derive(Debug)]
pub(crate) struct PendingSetup {
    cseq: u32,
    path: String,
    query: String,
    track: Option<usize>,
    transport: TrackTransport,
}

/// What a SETUP's Transport header asked for, once weir picked one alternative.
enum Chosen {
    Tcp(u8, u8),
    Udp(u16, u16),
    Multicast,
}

impl ServerConnection {
    pub(super) fn handle_request(&mut self, now: Instant, req: &Request<'_>) {
        let mut cseqs = req.headers.get_all("CSeq");
        let cseq = match (cseqs.next(), cseqs.next()) {
            (Some(v), None) => match parse_cseq(v) {
                Ok(c) => c,
                Err(e) => return self.bad_request(None, &format!("invalid CSeq: {e}")),
            },
            (None, _) => return self.bad_request(None, "CSeq is missing"),
            (Some(_), Some(_)) => return self.bad_request(None, "CSeq is repeated"),
        };
        tracing::debug!("{} {} {}", self.log_prefix, req.method_str, req.uri);
        // A Session header must name this connection's session.
        if let Some(v) = req.headers.get("Session") {
            let id = SessionHeader::parse(v).map(|h| h.id).unwrap_or(v);
            match self.session.as_mut() {
                Some(s) if s.id == id => s.last_activity = now,
                _ => {
                    if !matches!(req.method, Method::Options | Method::GetParameter) {
                        return self.respond(454, Some(cseq), &[], &[]);
                    }
                }
            }
        }
        match req.method {
            Method::Options => self.respond(200, Some(cseq), &[("Public", PUBLIC)], &[]),
            Method::GetParameter => self.respond(200, Some(cseq), &[], &[]),
            Method::SetParameter => {
                let status = if req.body.is_empty() { 200 } else { 451 };
                self.respond(status, Some(cseq), &[], &[])
            }
            Method::Describe => self.on_describe(cseq, req),
            Method::Announce => self.on_announce(cseq, req),
            Method::Setup => self.on_setup(cseq, req),
            Method::Play => self.on_play(cseq, req),
            Method::Record => self.on_record(cseq),
            Method::Pause => self.on_pause(cseq),
            Method::Teardown => self.on_teardown(cseq),
            Method::Redirect => self.respond(405, Some(cseq), &[("Allow", PUBLIC)], &[]),
            Method::Unknown => self.respond(501, Some(cseq), &[], &[]),
        }
    }

    fn bad_request(&mut self, cseq: Option<u32>, why: &str) {
        tracing::warn!("{} bad request: {why}", self.log_prefix);
        self.respond(400, cseq, &[], &[]);
    }

    fn on_describe(&mut self, cseq: u32, req: &Request<'_>) {
        let Some(target) = split_request_url(req.uri) else {
            return self.bad_request(Some(cseq), "invalid URL");
        };
        self.pending = Some(Pending::Describe {
            cseq,
            url: req.uri.to_owned(),
        });
        self.events.push_back(Event::Describe {
            path: target.path,
            query: target.query,
        });
    }

    fn on_announce(&mut self, cseq: u32, req: &Request<'_>) {
        if self.session.is_some() {
            return self.respond(455, Some(cseq), &[], &[]);
        }
        let Some(target) = split_request_url(req.uri) else {
            return self.bad_request(Some(cseq), "invalid URL");
        };
        let description = match StreamDescription::from_sdp(req.body) {
            Ok(d) => Arc::new(d),
            Err(e) => return self.bad_request(Some(cseq), &e.to_string()),
        };
        self.pending = Some(Pending::Announce {
            cseq,
            path: target.path.clone(),
            query: target.query.clone(),
            description: description.clone(),
        });
        self.events.push_back(Event::Announce {
            path: target.path,
            query: target.query,
            description,
        });
    }

    fn choose_transport(
        &self,
        header: &str,
        role: Role,
        track: usize,
    ) -> Result<Chosen, (u16, &'static str)> {
        let list = Transport::parse_list(header).map_err(|_| (400, "invalid Transport header"))?;
        let t = self.cfg.transports;
        let used: SmallVec<[u8; 8]> = self
            .session
            .iter()
            .flat_map(|s| s.tracks.iter())
            .filter_map(|(_, tr)| match tr {
                TrackTransport::Tcp {
                    rtp_channel,
                    rtcp_channel,
                } => Some([*rtp_channel, *rtcp_channel]),
                _ => None,
            })
            .flatten()
            .collect();
        for tr in &list {
            if tr.profile != Profile::Avp {
                continue;
            }
            match (tr.lower, tr.delivery) {
                (LowerTransport::Tcp, _) if t.tcp => {
                    let base = (2 * track).min(254) as u8;
                    let (rtp, rtcp) = tr.interleaved.unwrap_or((base, base + 1));
                    if used.contains(&rtp) || used.contains(&rtcp) {
                        return Err((400, "interleaved channels already in use"));
                    }
                    return Ok(Chosen::Tcp(rtp, rtcp));
                }
                (LowerTransport::Udp, Some(Delivery::Multicast))
                    if t.multicast && role == Role::Reader =>
                {
                    return Ok(Chosen::Multicast);
                }
                (LowerTransport::Udp, Some(Delivery::Unicast) | None) if t.udp => {
                    if let Some((rtp, rtcp)) = tr.client_port {
                        return Ok(Chosen::Udp(rtp, rtcp));
                    }
                }
                _ => {}
            }
        }
        Err((461, "no supported transport"))
    }

    fn on_setup(&mut self, cseq: u32, req: &Request<'_>) {
        let Some(transport_header) = req.headers.get("Transport") else {
            return self.bad_request(Some(cseq), "Transport header is missing");
        };
        let Some(target) = split_request_url(req.uri) else {
            return self.bad_request(Some(cseq), "invalid URL");
        };
        let publisher = self
            .session
            .as_ref()
            .is_some_and(|s| s.role == Role::Publisher);
        if publisher {
            return self.on_setup_publish(cseq, req.uri, &target.rest, transport_header);
        }
        if self
            .session
            .as_ref()
            .is_some_and(|s| s.state != SessionState::PrePlay)
        {
            return self.respond(455, Some(cseq), &[], &[]);
        }
        let requested_track = target.track_id.unwrap_or(0);
        let chosen = match self.choose_transport(transport_header, Role::Reader, requested_track) {
            Ok(c) => c,
            Err((status, why)) => {
                tracing::info!("{} SETUP refused: {why}", self.log_prefix);
                return self.respond(status, Some(cseq), &[], &[]);
            }
        };
        let ip = self.peer.ip();
        let transport = match chosen {
            Chosen::Tcp(rtp_channel, rtcp_channel) => TrackTransport::Tcp {
                rtp_channel,
                rtcp_channel,
            },
            Chosen::Udp(client_rtp_port, client_rtcp_port) => TrackTransport::Udp {
                client_ip: ip,
                client_rtp_port,
                client_rtcp_port,
            },
            // The group is filled in from the adapter's answer.
            Chosen::Multicast => TrackTransport::Multicast(MulticastGroup {
                address: ip,
                rtp_port: 0,
                rtcp_port: 0,
                ttl: 0,
            }),
        };
        let pending = PendingSetup {
            cseq,
            path: target.path.clone(),
            query: target.query.clone(),
            track: target.track_id,
            transport,
        };
        match &self.session {
            Some(s) => {
                if s.path != target.path {
                    return self
                        .bad_request(Some(cseq), "tracks of different paths in one session");
                }
                let desc = s.description.clone();
                let groups = s.multicast_groups.clone();
                self.finish_setup_read(pending, Ok((desc, groups)));
            }
            None => {
                let multicast = matches!(transport, TrackTransport::Multicast(_));
                self.pending = Some(Pending::SetupRead(pending));
                self.events.push_back(Event::SetupRead {
                    path: target.path,
                    query: target.query,
                    multicast,
                });
            }
        }
    }

    pub(super) fn finish_setup_read(
        &mut self,
        p: PendingSetup,
        result: Result<(Arc<StreamDescription>, SmallVec<[MulticastGroup; 4]>), PathError>,
    ) {
        let (desc, groups) = match result {
            Ok(v) => v,
            Err(e) => return self.refuse(p.cseq, &e),
        };
        let track = match p.track {
            Some(t) if t < desc.tracks.len() => t,
            Some(_) => return self.respond(404, Some(p.cseq), &[], &[]),
            None if desc.tracks.len() == 1 => 0,
            None => return self.respond(459, Some(p.cseq), &[], &[]),
        };
        let mut transport = p.transport;
        if let TrackTransport::Multicast(_) = transport {
            match groups.get(track) {
                Some(g) => transport = TrackTransport::Multicast(*g),
                None => return self.respond(461, Some(p.cseq), &[], &[]),
            }
        }
        if self
            .session
            .as_ref()
            .is_some_and(|s| s.transport_of(track).is_some())
        {
            return self.bad_request(Some(p.cseq), "track already set up");
        }
        if self
            .session
            .as_ref()
            .is_some_and(|s| s.mixes_with(&transport))
        {
            tracing::info!(
                "{} SETUP refused: tracks with different transports",
                self.log_prefix
            );
            return self.respond(461, Some(p.cseq), &[], &[]);
        }
        if self.session.is_none() {
            let id = self.next_session_id();
            let s = Session {
                id,
                role: Role::Reader,
                state: SessionState::PrePlay,
                path: p.path,
                query: p.query,
                description: desc,
                tracks: SmallVec::new(),
                multicast_groups: groups,
                last_activity: self.last_input,
            };
            tracing::info!("[RTSP] [session {}] created by {}", s.log_id(), self.peer);
            self.session = Some(s);
        }
        self.add_track_and_answer(p.cseq, track, transport, TransportMode::Play);
    }

    fn on_setup_publish(&mut self, cseq: u32, url: &str, rest: &str, header: &str) {
        let Some(s) = self.session.as_ref() else {
            return;
        };
        if s.state != SessionState::PreRecord {
            return self.respond(455, Some(cseq), &[], &[]);
        }
        let control = rest.strip_prefix(s.path.as_str()).unwrap_or(rest);
        let control = control.split_once('?').map_or(control, |(_, after)| after);
        let track = match s.description.publisher_track(control, url) {
            Some(t) => t,
            None if s.description.tracks.len() == 1 => 0,
            None => return self.respond(404, Some(cseq), &[], &[]),
        };
        if s.transport_of(track).is_some() {
            return self.bad_request(Some(cseq), "track already set up");
        }
        let transport = match self.choose_transport(header, Role::Publisher, track) {
            Ok(Chosen::Tcp(rtp_channel, rtcp_channel)) => TrackTransport::Tcp {
                rtp_channel,
                rtcp_channel,
            },
            Ok(Chosen::Udp(client_rtp_port, client_rtcp_port)) => TrackTransport::Udp {
                client_ip: self.peer.ip(),
                client_rtp_port,
                client_rtcp_port,
            },
            Ok(Chosen::Multicast) | Err(_) => {
                tracing::info!("{} SETUP refused: no supported transport", self.log_prefix);
                return self.respond(461, Some(cseq), &[], &[]);
            }
        };
        if s.mixes_with(&transport) {
            return self.respond(461, Some(cseq), &[], &[]);
        }
        self.add_track_and_answer(cseq, track, transport, TransportMode::Record);
    }

    fn add_track_and_answer(
        &mut self,
        cseq: u32,
        track: usize,
        tr: TrackTransport,
        mode: TransportMode,
    ) {
        let (rtp_port, rtcp_port) = (self.cfg.server_rtp_port, self.cfg.server_rtcp_port);
        let mut answer = Transport {
            profile: Profile::Avp,
            lower: LowerTransport::Udp,
            delivery: Some(Delivery::Unicast),
            destination: None,
            source: None,
            interleaved: None,
            client_port: None,
            server_port: None,
            port: None,
            ttl: None,
            ssrc: None,
            mode: (mode == TransportMode::Record).then_some(TransportMode::Record),
        };
        match tr {
            TrackTransport::Tcp {
                rtp_channel,
                rtcp_channel,
            } => {
                answer.lower = LowerTransport::Tcp;
                answer.interleaved = Some((rtp_channel, rtcp_channel));
            }
            TrackTransport::Udp {
                client_rtp_port,
                client_rtcp_port,
                ..
            } => {
                answer.client_port = Some((client_rtp_port, client_rtcp_port));
                answer.server_port = Some((rtp_port, rtcp_port));
            }
            TrackTransport::Multicast(g) => {
                answer.delivery = Some(Delivery::Multicast);
                answer.destination = Some(g.address);
                answer.port = Some((g.rtp_port, g.rtcp_port));
                answer.ttl = Some(g.ttl);
            }
        }
        if let Some(s) = self.session.as_mut() {
            s.tracks.push((track, tr));
        }
        let text = answer.to_string();
        self.respond(200, Some(cseq), &[("Transport", &text)], &[]);
    }

    fn require_session(&mut self, cseq: u32) -> bool {
        if self.session.is_none() {
            self.respond(455, Some(cseq), &[], &[]);
            return false;
        }
        true
    }

    fn on_play(&mut self, cseq: u32, req: &Request<'_>) {
        if !self.require_session(cseq) {
            return;
        }
        let s = self.session.as_ref().expect("checked");
        match s.state {
            SessionState::Play => return self.respond(200, Some(cseq), &[], &[]),
            SessionState::PrePlay if !s.tracks.is_empty() => {}
            _ => return self.respond(455, Some(cseq), &[], &[]),
        }
        self.pending = Some(Pending::Play {
            cseq,
            url: req.uri.to_owned(),
        });
        self.events.push_back(Event::Play);
    }

    pub(super) fn finish_play(&mut self, cseq: u32, url: &str, starts: &[PlayStart]) {
        let Some(s) = self.session.as_mut() else {
            return;
        };
        s.state = SessionState::Play;
        let base = url.trim_end_matches('/');
        let entries: Vec<RtpInfoEntry> = starts
            .iter()
            .filter(|st| s.transport_of(st.track).is_some())
            .map(|st| RtpInfoEntry {
                url: format!("{base}/trackID={}", st.track),
                seq: Some(st.seq),
                rtptime: Some(st.rtptime),
            })
            .collect();
        tracing::info!(
            "[RTSP] [session {}] is reading from path '{}', with {}, {}",
            s.log_id(),
            s.path,
            s.transport_kind().map_or("TCP", |t| t.name()),
            s.tracks_text(),
        );
        let mut info = String::new();
        if !entries.is_empty() {
            write_rtp_info(&entries, &mut info);
        }
        let mut headers: SmallVec<[(&str, &str); 2]> = SmallVec::new();
        headers.push(("Range", "npt=0.000-"));
        if !info.is_empty() {
            headers.push(("RTP-Info", &info));
        }
        self.respond(200, Some(cseq), &headers, &[]);
    }

    fn on_record(&mut self, cseq: u32) {
        if !self.require_session(cseq) {
            return;
        }
        let s = self.session.as_mut().expect("checked");
        if s.state != SessionState::PreRecord {
            return self.respond(455, Some(cseq), &[], &[]);
        }
        if s.tracks.len() != s.description.tracks.len() {
            return self.bad_request(Some(cseq), "not all announced tracks have been set up");
        }
        s.state = SessionState::Record;
        tracing::info!(
            "[RTSP] [session {}] is publishing to path '{}', with {}, {}",
            s.log_id(),
            s.path,
            s.transport_kind().map_or("TCP", |t| t.name()),
            s.tracks_text(),
        );
        self.events.push_back(Event::Record);
        self.respond(200, Some(cseq), &[], &[]);
    }

    fn on_pause(&mut self, cseq: u32) {
        if !self.require_session(cseq) {
            return;
        }
        let s = self.session.as_mut().expect("checked");
        s.state = match s.state {
            SessionState::Play | SessionState::PrePlay => SessionState::PrePlay,
            SessionState::Record | SessionState::PreRecord => SessionState::PreRecord,
        };
        self.events.push_back(Event::Paused);
        self.respond(200, Some(cseq), &[], &[]);
    }

    fn on_teardown(&mut self, cseq: u32) {
        if !self.require_session(cseq) {
            return;
        }
        self.respond(200, Some(cseq), &[], &[]);
        self.end_session("torn down by client");
    }
}
