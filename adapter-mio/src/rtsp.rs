//! RTSP connections: the core's `ServerConnection` answered from the loop's registry, TCP
//! readers fed from the ring by copying interleaved frames into the connection's buffer.

use crate::conn::Conn;
use crate::event_loop::{Loop, MAX_PENDING_OUT, READ_BATCH};
use crate::slab::Id;
use crate::stream::{MulticastOut, Stream};
use crate::udp::UdpRoute;
use crate::udp_gso::Sink;
use smallvec::SmallVec;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use weir_core::media::{Cursor, PathError};
use weir_core::rtp::segments::Segments;
use weir_core::rtsp::server::{
    Event, ReaderRoutes, Role, ServerConfig, ServerConnection, Session, TrackTransport,
};

/// A reader's session once PLAY was answered.
pub(crate) struct Playing {
    pub cursor: Cursor,
    pub routes: ReaderRoutes,
}

/// The stream a session reads.
pub(crate) struct Reading {
    /// `runOnRead` while playing (`runOnUnread` when dropped).
    pub read_hook: Option<crate::hooks::Held>,
    pub stream: Id,
    pub path: String,
    pub playing: Option<Playing>,
    pub multicast: bool,
}

/// The stream a session publishes.
pub(crate) struct Publishing {
    pub stream: Id,
    pub recording: bool,
}

/// The RTSP state of a connection.
pub(crate) struct RtspConn {
    pub core: ServerConnection,
    pub reading: Option<Reading>,
    pub publishing: Option<Publishing>,
    /// Client addresses routed to this connection on the server's UDP sockets.
    pub udp_routes: SmallVec<[SocketAddr; 8]>,
    /// When UDP traffic of the session was last seen.
    pub udp_activity: Option<Instant>,
}

impl RtspConn {
    /// A connection from `peer`.
    pub fn new(cfg: Arc<ServerConfig>, peer: SocketAddr, now: Instant, seed: u64) -> RtspConn {
        RtspConn {
            core: ServerConnection::new(cfg, peer, now, seed),
            reading: None,
            publishing: None,
            udp_routes: SmallVec::new(),
            udp_activity: None,
        }
    }

    /// Whether the reader's tracks all go over TCP: it is written straight from the ring
    /// ([`RtspConn::deliver_direct`]).
    pub fn is_tcp_reader(&self) -> bool {
        self.reading
            .as_ref()
            .and_then(|r| r.playing.as_ref())
            .is_some_and(|p| p.routes.tcp_only())
    }

    /// Writes what the reader's cursor has not delivered straight from the ring to `sock`
    /// (see `direct.rs`); returns whether the socket is full.
    pub fn deliver_direct(
        &mut self,
        stream: &Stream,
        sock: &mut mio::net::TcpStream,
        partial: &mut Option<crate::direct::Partial>,
    ) -> std::io::Result<bool> {
        let Some(p) = self.reading.as_mut().and_then(|r| r.playing.as_mut()) else {
            return Ok(false);
        };
        let d = crate::direct::deliver(sock, &stream.ring, &mut p.cursor, &p.routes, partial)?;
        if d.lag.lag_started {
            let id = self.core.session().map(|s| s.log_id()).unwrap_or_default();
            tracing::warn!(
                "[RTSP] [session {id}] reader is too slow, discarding {} units and resuming at the next key frame",
                d.lag.lost
            );
        }
        Ok(d.blocked)
    }

    /// Copies what the reader's cursor has not delivered yet into `out` (TCP tracks) and sends
    /// UDP tracks' datagrams (a unit's RTP packets segmented, see `udp_gso.rs`); stops when `out` holds [`MAX_PENDING_OUT`] bytes.
    pub fn deliver(
        &mut self,
        stream: &Stream,
        out: &mut Vec<u8>,
        out_pos: usize,
        udp: Option<(
            &mio::net::UdpSocket,
            &mio::net::UdpSocket,
            &std::cell::Cell<bool>,
        )>,
    ) {
        let Some(p) = self.reading.as_mut().and_then(|r| r.playing.as_mut()) else {
            return;
        };
        while out.len() - out_pos < MAX_PENDING_OUT {
            let routes = &p.routes;
            let outcome = stream.ring.read_each(&mut p.cursor, READ_BATCH, |item| {
                routes.write_interleaved(item, out);
                if let Some((rtp, rtcp, gso)) = udp {
                    // A unit's RTP packets to one reader go out in one segmented send.
                    let (mut segments, sink) = (Segments::new(), Sink(rtp));
                    routes.for_each_datagram(item, |d| {
                        if d.rtcp {
                            let _ = rtcp.send_to(d.payload, d.to);
                        } else {
                            segments.push(&sink, gso, d.payload, d.to);
                        }
                    });
                    segments.flush(&sink, gso);
                }
            });
            if outcome.lag_started {
                let id = self.core.session().map(|s| s.log_id()).unwrap_or_default();
                tracing::warn!(
                    "[RTSP] [session {id}] reader is too slow, discarding {} units and resuming at the next key frame",
                    outcome.lost
                );
            }
            if outcome.read == 0 {
                return;
            }
        }
    }
}

impl Loop {
    /// Drives the connection's machine (see `machine.rs`); false once it is to be closed.
    pub(crate) fn drive_rtsp(
        &mut self,
        id: Id,
        c: &mut Conn,
        r: &mut RtspConn,
        now: Instant,
    ) -> bool {
        self.drive_machine(c, r, now, |lp, r, ev| lp.on_rtsp_event(id, r, ev, now))
    }

    /// Acts on one event; false on Close.
    fn on_rtsp_event(&mut self, id: Id, r: &mut RtspConn, ev: Event, now: Instant) -> bool {
        match ev {
            Event::Describe { path, query } => {
                let res = self.describe_stream(&path);
                if matches!(res, Err(PathError::NoOnePublishing(_)))
                    && self.park_for_source(
                        now,
                        &path,
                        id,
                        crate::ondemand::Parked::RtspDescribe(query),
                    )
                {
                    // Answered when the path's on-demand source is ready (or gives up).
                    return true;
                }
                r.core.answer_describe(res);
            }
            Event::Announce {
                path, description, ..
            } => {
                let (pid, sid) = self.insert_stream(path.clone(), id, description);
                match self.paths.publish(&path, pid, sid) {
                    Ok(outcome) => {
                        if let Some((_, old)) = outcome.replaced {
                            self.end_stream(old, Some("publisher was replaced"));
                        }
                        r.publishing = Some(Publishing {
                            stream: sid,
                            recording: false,
                        });
                        r.core.answer_announce(Ok(()));
                    }
                    Err(e) => {
                        self.streams.remove(sid);
                        r.core.answer_announce(Err(e));
                    }
                }
            }
            Event::SetupRead {
                path, multicast, ..
            } => match self.paths.add_reader(&path) {
                Ok(sid) => match self.streams.get_mut(sid) {
                    Some(stream) => {
                        let desc = stream.description.clone();
                        if !stream.readers.contains(&id) {
                            stream.readers.push(id);
                        }
                        let groups = match (multicast, self.rtsp.as_mut()) {
                            (true, Some(rs)) => rs.multicast.groups_for(&path, desc.tracks.len()),
                            _ => SmallVec::new(),
                        };
                        r.reading = Some(Reading {
                            read_hook: None,
                            stream: sid,
                            path,
                            playing: None,
                            multicast: false,
                        });
                        r.core.answer_setup_read(Ok((desc, groups)));
                    }
                    None => {
                        self.paths.remove_reader(&path);
                        r.core
                            .answer_setup_read(Err(PathError::NoOnePublishing(path)));
                    }
                },
                Err(e) => r.core.answer_setup_read(Err(e)),
            },
            Event::Play => self.start_playing(id, r),
            Event::Record => {
                if let Some(p) = r.publishing.as_mut() {
                    p.recording = true;
                    let sid = p.stream;
                    if let Some(s) = r.core.session().cloned() {
                        self.add_publisher_routes(id, r, &s, sid, now);
                    }
                    let (session_id, query) = r
                        .core
                        .session()
                        .map(|s| (s.id.clone(), s.query.clone()))
                        .unwrap_or_default();
                    self.stream_published(sid, now, "rtspSession", &session_id, &query);
                }
            }
            Event::Paused => {
                if let Some(rd) = r.reading.as_mut() {
                    rd.playing = None;
                    let sid = rd.stream;
                    if rd.multicast {
                        rd.multicast = false;
                        let path = rd.path.clone();
                        self.remove_multicast_reader(sid, &path);
                    }
                }
                if let Some(p) = r.publishing.as_mut() {
                    p.recording = false;
                }
            }
            Event::Rtp { track, packet } => {
                if let Some(p) = r.publishing.as_ref().filter(|p| p.recording) {
                    let sid = p.stream;
                    self.push_rtp(sid, now, track, packet);
                }
            }
            Event::Rtcp { .. } => {}
            Event::SessionClosed { session, .. } => self.release_rtsp_session(id, r, &session),
            Event::Close { .. } => return false,
        }
        true
    }

    /// The description of the stream published on `path`.
    pub(crate) fn describe_stream(
        &self,
        path: &str,
    ) -> Result<Arc<weir_core::media::StreamDescription>, PathError> {
        self.paths.describe(path).and_then(|sid| {
            self.streams
                .get(sid)
                .map(|s| s.description.clone())
                .ok_or_else(|| PathError::NoOnePublishing(path.to_owned()))
        })
    }

    fn start_playing(&mut self, id: Id, r: &mut RtspConn) {
        let Some(session) = r.core.session().cloned() else {
            return r
                .core
                .answer_play(Err(PathError::NoOnePublishing(String::new())));
        };
        let Some(rd) = r.reading.as_mut() else {
            let e = PathError::NoOnePublishing(session.path.clone());
            return r.core.answer_play(Err(e));
        };
        let Some(stream) = self.streams.get(rd.stream) else {
            let e = PathError::NoOnePublishing(session.path.clone());
            return r.core.answer_play(Err(e));
        };
        let routes = ReaderRoutes::new(&session, stream.description.tracks.len());
        let cursor = stream.ring.join();
        let starts = stream.play_starts(&cursor);
        let multicast = routes.has_multicast();
        if let Some(rs) = self.rtsp.as_mut() {
            for rtcp in routes.udp_rtcp_addresses() {
                // Receiver reports from the reader keep its session alive.
                rs.routes.insert(rtcp, UdpRoute::Alive { conn: id });
                r.udp_routes.push(rtcp);
            }
        }
        rd.playing = Some(Playing { cursor, routes });
        if rd.read_hook.is_none() {
            let path = rd.path.clone();
            rd.read_hook = self.read_hook(&path, &session.query, "rtspSession", &session.id);
        }
        if multicast && !rd.multicast {
            rd.multicast = true;
            let (sid, path) = (rd.stream, rd.path.clone());
            self.add_multicast_reader(sid, &path);
        }
        r.core.answer_play(Ok(starts));
        // Deliver what the ring already holds right away.
        self.mark_reader(id);
    }

    fn add_publisher_routes(
        &mut self,
        id: Id,
        r: &mut RtspConn,
        s: &Session,
        sid: Id,
        now: Instant,
    ) {
        let Some(rs) = self.rtsp.as_mut() else {
            return;
        };
        for (track, tr) in &s.tracks {
            if let TrackTransport::Udp {
                client_ip,
                client_rtp_port,
                client_rtcp_port,
            } = *tr
            {
                let rtp = SocketAddr::new(client_ip, client_rtp_port);
                let rtcp = SocketAddr::new(client_ip, client_rtcp_port);
                rs.routes.insert(
                    rtp,
                    UdpRoute::Publish {
                        conn: id,
                        stream: sid,
                        track: *track,
                    },
                );
                rs.routes.insert(rtcp, UdpRoute::Alive { conn: id });
                r.udp_routes.push(rtp);
                r.udp_routes.push(rtcp);
            }
        }
        r.udp_activity = Some(now);
    }

    fn add_multicast_reader(&mut self, sid: Id, path: &str) {
        let Some(rs) = self.rtsp.as_mut() else {
            return;
        };
        let Some(stream) = self.streams.get_mut(sid) else {
            return;
        };
        let tracks = stream.description.tracks.len();
        if !rs.multicast.add_reader(path, tracks) {
            return;
        }
        match crate::net::multicast_sender(rs.multicast_interface) {
            Ok(socket) => {
                stream.multicast = Some(MulticastOut {
                    socket,
                    groups: rs.multicast.groups_for(path, tracks),
                    cursor: stream.ring.join(),
                });
                if !stream.dirty {
                    stream.dirty = true;
                    self.dirty.push(sid);
                }
            }
            Err(e) => tracing::error!("[RTSP] multicast sender for path '{path}' failed: {e}"),
        }
    }

    fn remove_multicast_reader(&mut self, sid: Id, path: &str) {
        if let Some(rs) = self.rtsp.as_mut() {
            if rs.multicast.remove_reader(path) {
                if let Some(s) = self.streams.get_mut(sid) {
                    s.multicast = None;
                }
            }
        }
    }

    fn release_rtsp_session(&mut self, id: Id, r: &mut RtspConn, session: &Session) {
        if let Some(rs) = self.rtsp.as_mut() {
            for a in r.udp_routes.drain(..) {
                rs.routes.remove(&a);
            }
        }
        match session.role {
            Role::Publisher => {
                if let Some(p) = r.publishing.take() {
                    self.unpublish(p.stream);
                }
            }
            Role::Reader => {
                if let Some(rd) = r.reading.take() {
                    self.release_reading(id, rd);
                }
            }
        }
    }

    fn release_reading(&mut self, id: Id, rd: Reading) {
        if rd.multicast {
            self.remove_multicast_reader(rd.stream, &rd.path);
        }
        if let Some(s) = self.streams.get_mut(rd.stream) {
            s.readers.retain(|x| *x != id);
        }
        self.paths.remove_reader(&rd.path);
    }

    /// Releases whatever the connection still holds when it ends.
    pub(crate) fn release_rtsp(&mut self, id: Id, r: &mut RtspConn) {
        if let Some(s) = r.core.session().cloned() {
            self.release_rtsp_session(id, r, &s);
        }
        if let Some(p) = r.publishing.take() {
            self.unpublish(p.stream);
        }
        if let Some(rd) = r.reading.take() {
            self.release_reading(id, rd);
        }
    }
}
