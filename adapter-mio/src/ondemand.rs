//! On-demand sources in the loop: readers of a path whose source runs only while read are
//! parked until the source is ready (core `media::OnDemand` decides when to start, stop and
//! give up; this file opens the connections and answers the parked requests).

use crate::conn::Proto;
use crate::event_loop::Loop;
use crate::slab::Id;
use std::time::Instant;
use weir_core::media::{OnDemandAction, PathError};

/// A request waiting for its path's source.
pub(crate) enum Parked {
    /// An RTSP DESCRIBE, with its query.
    RtspDescribe(String),
    /// An RTMP play, with its query.
    RtmpPlay(String),
    /// An HLS request (a playlist or segment of the path), with its query.
    Hls {
        /// The request.
        req: weir_core::http::RequestId,
        /// The file asked for.
        file: String,
        /// The request's query.
        query: String,
    },
}

impl Parked {
    /// The query of the request that waits.
    fn query(&self) -> &str {
        match self {
            Parked::RtspDescribe(q) | Parked::RtmpPlay(q) | Parked::Hls { query: q, .. } => q,
        }
    }
}

impl Loop {
    /// A reader asks for `path`, which nobody publishes: true when the request was parked
    /// (the path has an on-demand source, starting now or already starting).
    pub(crate) fn park_for_source(
        &mut self,
        now: Instant,
        path: &str,
        conn: Id,
        kind: Parked,
    ) -> bool {
        let Some(conf) = self.paths.on_demand_source(path, kind.query()) else {
            return false;
        };
        if !self.ondemand.request(now, path, conf) {
            return false;
        }
        self.parked.push((path.to_owned(), conn, kind));
        self.run_ondemand_actions(now);
        true
    }

    /// Carries out what the on-demand machine decided.
    pub(crate) fn run_ondemand_actions(&mut self, now: Instant) {
        while let Some(action) = self.ondemand.poll_action() {
            match action {
                OnDemandAction::Start {
                    path,
                    url,
                    command: false,
                    ..
                } => self.open_demanded_source(now, path, &url),
                OnDemandAction::Start {
                    path,
                    url,
                    restart,
                    query,
                    ..
                } => self.start_demand_hook(&path, &url, restart, &query),
                OnDemandAction::Stop { path } => {
                    if !self.stop_demand_hook(&path) {
                        tracing::info!("[path {path}] source stopped: not needed by anyone");
                        self.stop_source(&path, "not needed by anyone");
                    }
                }
                OnDemandAction::TimedOut { path } => {
                    tracing::warn!("[path {path}] ERR: source of path '{path}' has timed out");
                    if !self.stop_demand_hook(&path) {
                        self.stop_source(&path, "timed out");
                    }
                    self.answer_parked(now, &path, false);
                }
            }
        }
    }

    fn stop_source(&mut self, path: &str, reason: &'static str) {
        let found = (0..self.conns.slots()).find_map(|i| {
            let id = self.conns.id_at(i)?;
            match &self.conns.get(id)?.proto {
                Proto::Source(s) if s.on_demand && s.path == path => Some(id),
                _ => None,
            }
        });
        if let Some(id) = found {
            self.kick(id, Some(reason));
        }
    }

    /// Answers the requests parked for `path`: with the stream when `ready`, else refused.
    pub(crate) fn answer_parked(&mut self, now: Instant, path: &str, ready: bool) {
        let mut i = 0;
        while i < self.parked.len() {
            if self.parked[i].0 != path {
                i += 1;
                continue;
            }
            let (path, conn, kind) = self.parked.swap_remove(i);
            let Some(mut c) = self.conns.take(conn) else {
                continue;
            };
            let mut proto = std::mem::replace(&mut c.proto, Proto::Placeholder);
            match (&mut proto, kind) {
                (Proto::Rtsp(r), Parked::RtspDescribe(_)) => {
                    let res = if ready {
                        self.describe_stream(&path)
                    } else {
                        Err(PathError::NoOnePublishing(path))
                    };
                    r.core.answer_describe(res);
                }
                (Proto::Http(h), Parked::Hls { req, file, query }) => {
                    let answer = if ready {
                        self.hls_request(conn, h, &path, &file, &query, req, now)
                    } else {
                        let e = PathError::NoOnePublishing(path);
                        Some(weir_core::http::Response::text(404, &e.to_string()))
                    };
                    if let Some(resp) = answer {
                        h.core.respond(req, resp);
                    }
                }
                (Proto::Rtmp(r), Parked::RtmpPlay(query)) => {
                    if ready {
                        self.start_rtmp_play(conn, r, path, &query);
                    } else {
                        r.core.answer_play(Err(PathError::NoOnePublishing(path)));
                    }
                }
                _ => {}
            }
            c.proto = proto;
            self.conns.put_back(conn, c);
            self.kick(conn, None);
        }
    }
}
