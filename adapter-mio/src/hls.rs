//! HLS: HTTP connections (core `HttpServerConnection`) routed by core `hls::route_request`,
//! and one muxer per path (core `HlsMuxer`) fed from the path's ring by the loop, like any
//! reader. Held requests (LL-HLS blocking reloads) are answered in the loop iteration whose
//! unit completes them.

use crate::conn::Conn;
use crate::event_loop::{Loop, READ_BATCH};
use crate::slab::{Id, Slab};
use bytes::Bytes;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use weir_core::hls::{hls_response, route_request, HlsAnswer, HlsMuxer, HlsRoute};
use weir_core::http::{HttpEvent, HttpServerConfig, HttpServerConnection, RequestId, Response};
use weir_core::media::{Cursor, PathError, StreamItem};
use weir_core::settings::HlsSettings;

/// The HTTP state of a connection.
pub(crate) struct HttpConn {
    pub core: HttpServerConnection,
    /// Requests held by a muxer: (request, muxer, token).
    pub held: Vec<(RequestId, Id, u64)>,
    /// Chunks polled from the core, moved to the connection's queue.
    pub scratch: Vec<Bytes>,
}

impl HttpConn {
    /// A connection from `peer`.
    pub fn new(cfg: Arc<HttpServerConfig>, peer: SocketAddr, now: Instant) -> HttpConn {
        let prefix = format!("[HLS] [conn {peer}]");
        HttpConn {
            core: HttpServerConnection::new(cfg, peer, now, prefix),
            held: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

/// A path's muxer.
pub(crate) struct PathMuxer {
    pub path: String,
    pub stream: Id,
    pub muxer: HlsMuxer,
    pub cursor: Cursor,
    /// token → (connection, request).
    pub waiters: HashMap<u64, (Id, RequestId)>,
    pub last_request: Instant,
    /// `runOnRead` while the muxer reads the path (`runOnUnread` when dropped).
    pub read_hook: Option<crate::hooks::Held>,
}

/// The HLS server's state.
pub(crate) struct HlsShared {
    pub listener: mio::net::TcpListener,
    pub settings: HlsSettings,
    pub http: Arc<HttpServerConfig>,
    pub muxers: Slab<PathMuxer>,
    pub by_path: HashMap<String, Id>,
    pub next_token: u64,
}

impl HlsShared {
    /// The state of a listener serving `settings`.
    pub fn new(listener: mio::net::TcpListener, settings: HlsSettings) -> HlsShared {
        let http = HttpServerConfig {
            idle_timeout: settings.read_timeout,
            allow_origins: settings.allow_origins.clone(),
            ..Default::default()
        };
        HlsShared {
            listener,
            settings,
            http: Arc::new(http),
            muxers: Slab::with_capacity(16),
            by_path: HashMap::new(),
            next_token: 1,
        }
    }
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Loop {
    /// Drains the connection's outputs: requests routed and answered (or held), responses
    /// queued, input resumed. False once the connection is to be closed.
    pub(crate) fn drive_http(
        &mut self,
        id: Id,
        c: &mut Conn,
        h: &mut HttpConn,
        now: Instant,
    ) -> bool {
        let mut open = true;
        loop {
            let mut progressed = false;
            while let Some(ev) = h.core.poll_event() {
                progressed = true;
                match ev {
                    HttpEvent::Request(req) => {
                        let answer = match route_request(&req) {
                            HlsRoute::Now(r) => Some(r),
                            HlsRoute::Muxer { path, file } => {
                                self.hls_request(id, h, path, file, &req.query, req.id, now)
                            }
                        };
                        if let Some(resp) = answer {
                            h.core.respond(req.id, resp);
                        }
                    }
                    HttpEvent::Close { .. } => open = false,
                }
            }
            if h.core.poll_transmit(&mut h.scratch) {
                progressed = true;
                c.chunks.extend(h.scratch.drain(..));
                if h.scratch.capacity() > 8 {
                    h.scratch = Vec::new(); // a segment's many chunks leave no room behind
                }
            }
            if open && h.core.wants_input() && c.inbuf.pending() > 0 {
                let before = c.inbuf.pending();
                h.core.handle_input(now, c.inbuf.buf());
                progressed |= c.inbuf.pending() != before || h.core.is_closing();
            }
            if !progressed {
                break;
            }
        }
        c.deadline = h.core.poll_timeout();
        open && !h.core.is_closing()
    }

    /// Asks the muxer of `path` for `file`: an answer now, or `None` (held by the muxer, or
    /// parked until the path's on-demand source is ready).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn hls_request(
        &mut self,
        id: Id,
        h: &mut HttpConn,
        path: &str,
        file: &str,
        query: &str,
        req: RequestId,
        now: Instant,
    ) -> Option<Response> {
        let mid = match self.hls_muxer(path, query, now) {
            Ok(m) => m,
            Err(PathError::NoOnePublishing(_))
                if self.park_for_source(
                    now,
                    path,
                    id,
                    crate::ondemand::Parked::Hls {
                        req,
                        file: file.to_owned(),
                        query: query.to_owned(),
                    },
                ) =>
            {
                // Answered once the path's on-demand source is ready (or gives up).
                return None;
            }
            Err(e) => return Some(Response::text(e.rtsp_status().max(404), &e.to_string())),
        };
        let hls = self.hls.as_mut()?;
        let token = hls.next_token;
        hls.next_token += 1;
        let m = hls.muxers.get_mut(mid)?;
        m.last_request = now;
        match m.muxer.handle_request(now, file, query, token) {
            HlsAnswer::Now(r) => Some(hls_response(r)),
            HlsAnswer::Held => {
                m.waiters.insert(token, (id, req));
                h.held.push((req, mid, token));
                None
            }
        }
    }

    /// The muxer of `path`, created on first use (for a request with `query`).
    pub(crate) fn hls_muxer(
        &mut self,
        path: &str,
        query: &str,
        now: Instant,
    ) -> Result<Id, PathError> {
        let Some(hls) = self.hls.as_mut() else {
            return Err(PathError::NotConfigured(path.to_owned()));
        };
        if let Some(&mid) = hls.by_path.get(path) {
            if hls.muxers.get(mid).is_some() {
                return Ok(mid);
            }
        }
        let sid = self.paths.add_reader(path)?;
        let Some(stream) = self.streams.get_mut(sid) else {
            self.paths.remove_reader(path);
            return Err(PathError::NoOnePublishing(path.to_owned()));
        };
        let muxer = match HlsMuxer::new(hls.settings.muxer.clone(), &stream.description, now) {
            Ok(m) => m,
            Err(e) => {
                self.paths.remove_reader(path);
                tracing::warn!("[HLS] [muxer {path}] cannot be created: {e}");
                return Err(PathError::NoCompatibleTracks(path.to_owned()));
            }
        };
        let mid = hls.muxers.insert(PathMuxer {
            path: path.to_owned(),
            stream: sid,
            muxer,
            cursor: stream.ring.join(),
            waiters: HashMap::new(),
            last_request: now,
            read_hook: None,
        });
        stream.hls = Some(mid);
        if !stream.dirty {
            stream.dirty = true;
            self.dirty.push(sid);
        }
        hls.by_path.insert(path.to_owned(), mid);
        tracing::info!("[HLS] [muxer {path}] created");
        // The muxer is the path's reader (as in MediaMTX, type `hlsMuxer`, no id).
        let hook = self.read_hook(path, query, "hlsMuxer", "");
        if let Some(m) = self.hls.as_mut().and_then(|h| h.muxers.get_mut(mid)) {
            m.read_hook = hook;
        }
        Ok(mid)
    }

    /// A path got a publisher (`source_type`, `source_id`, the request's `query` for the hooks): `runOnReady`
    /// starts, readers waiting on demand are answered, and with `hlsAlwaysRemux` its muxer
    /// starts now.
    pub(crate) fn stream_published(
        &mut self,
        sid: Id,
        now: Instant,
        source_type: &str,
        source_id: &str,
        query: &str,
    ) {
        let held = self.ready_hook(sid, source_type, source_id, query);
        if let Some(s) = self.streams.get_mut(sid) {
            s.ready_hook = held;
        }
        self.demand_met(now, sid);
        let Some(hls) = self.hls.as_ref() else {
            return;
        };
        if !hls.settings.always_remux {
            return;
        }
        if let Some(path) = self.streams.get(sid).map(|s| s.path.clone()) {
            let _ = self.hls_muxer(&path, "", now);
        }
    }

    /// Feeds the stream's new units to its muxer and answers the requests they complete.
    pub(crate) fn feed_muxer(&mut self, sid: Id, now: Instant) {
        let Some(hls) = self.hls.as_mut() else {
            return;
        };
        let Some(stream) = self.streams.get(sid) else {
            return;
        };
        let Some(mid) = stream.hls else {
            return;
        };
        let Some(m) = hls.muxers.get_mut(mid) else {
            return;
        };
        let wall = wall_clock_ms();
        loop {
            let muxer = &mut m.muxer;
            let outcome = stream.ring.read_each(&mut m.cursor, READ_BATCH, |item| {
                if let StreamItem::Unit(u) = item {
                    muxer.push_unit(now, wall, u);
                }
            });
            if outcome.read == 0 {
                break;
            }
        }
        self.release_held(mid);
    }

    /// Answers the muxer's released requests.
    pub(crate) fn release_held(&mut self, mid: Id) {
        let Some(hls) = self.hls.as_mut() else {
            return;
        };
        let Some(m) = hls.muxers.get_mut(mid) else {
            return;
        };
        let mut answers: smallvec::SmallVec<[(Id, RequestId, Response); 4]> =
            smallvec::SmallVec::new();
        while let Some((token, r)) = m.muxer.poll_released() {
            if let Some((conn, req)) = m.waiters.remove(&token) {
                answers.push((conn, req, hls_response(r)));
            }
        }
        for (conn, req, resp) in answers {
            self.answer_held(conn, req, resp);
        }
    }

    /// Delivers a held request's answer to its connection (driven after the current event).
    fn answer_held(&mut self, conn: Id, req: RequestId, resp: Response) {
        if let Some(c) = self.conns.get_mut(conn) {
            if let crate::conn::Proto::Http(h) = &mut c.proto {
                h.held.retain(|(r, _, _)| *r != req);
                h.core.respond(req, resp);
                self.kick(conn, None);
            }
        }
    }

    /// Muxer timers (held requests' deadlines) and idle closing.
    pub(crate) fn hls_timers(&mut self, now: Instant, idle_check: bool) {
        let slots = match self.hls.as_ref() {
            Some(h) => h.muxers.slots(),
            None => return,
        };
        for i in 0..slots {
            let (mid, idle) = {
                let Some(hls) = self.hls.as_mut() else {
                    return;
                };
                let close_after = hls.settings.muxer_close_after;
                let always = hls.settings.always_remux;
                let Some(mid) = hls.muxers.id_at(i) else {
                    continue;
                };
                let Some(m) = hls.muxers.get_mut(mid) else {
                    continue;
                };
                if m.muxer.poll_timeout().is_some_and(|d| d <= now) {
                    m.muxer.handle_timeout(now);
                }
                let idle = idle_check
                    && !always
                    && now.saturating_duration_since(m.last_request) >= close_after;
                (mid, idle)
            };
            self.release_held(mid);
            if idle {
                self.destroy_muxer(mid, "not requested recently");
            }
        }
    }

    /// The earliest muxer deadline.
    pub(crate) fn hls_deadline(&self) -> Option<Instant> {
        let hls = self.hls.as_ref()?;
        (0..hls.muxers.slots())
            .filter_map(|i| hls.muxers.id_at(i))
            .filter_map(|mid| hls.muxers.get(mid))
            .filter_map(|m| m.muxer.poll_timeout())
            .min()
    }

    /// Closes a muxer: its held requests get 404, its reader slot is released.
    pub(crate) fn destroy_muxer(&mut self, mid: Id, reason: &str) {
        let Some(hls) = self.hls.as_mut() else {
            return;
        };
        let Some(m) = hls.muxers.remove(mid) else {
            return;
        };
        if hls.by_path.get(&m.path) == Some(&mid) {
            hls.by_path.remove(&m.path);
        }
        if let Some(s) = self.streams.get_mut(m.stream) {
            if s.hls == Some(mid) {
                s.hls = None;
            }
        }
        for (_, (conn, req)) in m.waiters {
            self.answer_held(conn, req, Response::text(404, "stream closed"));
        }
        self.paths.remove_reader(&m.path);
        tracing::info!("[HLS] [muxer {}] destroyed: {reason}", m.path);
    }

    /// Forgets the connection's held requests when it ends.
    pub(crate) fn release_http(&mut self, h: &mut HttpConn) {
        let Some(hls) = self.hls.as_mut() else {
            return;
        };
        for (_, mid, token) in h.held.drain(..) {
            if let Some(m) = hls.muxers.get_mut(mid) {
                if m.waiters.remove(&token).is_some() {
                    m.muxer.forget(token);
                }
            }
        }
    }
}
