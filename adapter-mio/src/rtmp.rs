//! RTMP connections: the core's `RtmpServerConnection`, publishers demuxed into the stream
//! (core `RtmpPublisher`), players fed from the ring (core `RtmpPlayer`), written straight from
//! it (`rtmp_direct.rs`).

use crate::conn::Conn;
use crate::event_loop::Loop;
use crate::slab::Id;
use smallvec::SmallVec;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use weir_core::flv::FlvOutput;
use weir_core::media::{Cursor, PathError, StreamDescription};
use weir_core::rtmp::server::{tracks_text, RtmpPlayer, RtmpPublisher};
use weir_core::rtmp::{RtmpEvent, RtmpServerConfig, RtmpServerConnection};

/// A publishing connection.
pub(crate) struct Publishing {
    pub path: String,
    /// The query of the publish request (`MTX_QUERY` of `runOnReady`).
    pub query: String,
    pub publisher: RtmpPublisher,
    /// Created once the demuxer knows the tracks.
    pub stream: Option<Id>,
}

/// A playing connection.
pub(crate) struct Playing {
    /// `runOnRead` while playing (`runOnUnread` when dropped).
    pub _read_hook: Option<crate::hooks::Held>,
    pub stream: Id,
    pub path: String,
    pub player: RtmpPlayer,
    pub cursor: Cursor,
    /// Messages planned from the ring and not written yet (see `rtmp_direct.rs`).
    pub planned: SmallVec<[crate::rtmp_direct::Planned; crate::rtmp_direct::PLANNED_MESSAGES]>,
    /// Output of the connection held back until the first `barrier` planned messages are out.
    pub held: Vec<u8>,
    /// How many planned messages go before `held`.
    pub barrier: Option<usize>,
}

/// The RTMP state of a connection.
pub(crate) struct RtmpConn {
    pub core: RtmpServerConnection,
    pub publishing: Option<Publishing>,
    pub playing: Option<Playing>,
}

impl RtmpConn {
    /// A connection from `peer`.
    pub fn new(cfg: Arc<RtmpServerConfig>, peer: SocketAddr, now: Instant, seed: u64) -> RtmpConn {
        RtmpConn {
            core: RtmpServerConnection::new(cfg, peer, now, seed),
            publishing: None,
            playing: None,
        }
    }
}

impl Loop {
    /// Drives the connection's machine (see `machine.rs`); false once it is to be closed.
    pub(crate) fn drive_rtmp(
        &mut self,
        id: Id,
        c: &mut Conn,
        r: &mut RtmpConn,
        now: Instant,
    ) -> bool {
        self.drive_machine(c, r, now, |lp, r, ev| lp.on_rtmp_event(id, r, ev, now))
    }

    fn on_rtmp_event(&mut self, id: Id, r: &mut RtmpConn, ev: RtmpEvent, now: Instant) -> bool {
        match ev {
            RtmpEvent::Publish { path, query } => {
                let res = self.paths.can_publish(&path);
                if res.is_ok() {
                    r.publishing = Some(Publishing {
                        path,
                        query,
                        publisher: RtmpPublisher::new(),
                        stream: None,
                    });
                }
                r.core.answer_publish(res);
            }
            RtmpEvent::Play { path, query } => {
                let waiting = !self
                    .paths
                    .describe(&path)
                    .is_ok_and(|s| self.streams.get(s).is_some());
                if waiting
                    && self.park_for_source(
                        now,
                        &path,
                        id,
                        crate::ondemand::Parked::RtmpPlay(query.clone()),
                    )
                {
                    // Answered when the path's on-demand source is ready (or gives up).
                    return true;
                }
                self.start_rtmp_play(id, r, path, &query)
            }
            RtmpEvent::Metadata(entries) => {
                if let Some(p) = r.publishing.as_mut() {
                    p.publisher.handle_metadata(&entries);
                }
            }
            RtmpEvent::Media {
                kind,
                timestamp_ms,
                body,
            } => {
                let Some(p) = r.publishing.as_mut() else {
                    return true;
                };
                let mut outputs: SmallVec<[FlvOutput; 4]> = SmallVec::new();
                p.publisher
                    .handle_media(&r.core, kind, timestamp_ms, &body, |o| outputs.push(o));
                for out in outputs {
                    match out {
                        FlvOutput::Tracks(desc) => {
                            if let Err(e) = self.start_rtmp_publish(id, r, desc, now) {
                                r.core.terminate(&e.to_string());
                                return true;
                            }
                        }
                        FlvOutput::Unit {
                            track,
                            pts,
                            dts,
                            key,
                            payload,
                        } => {
                            if let Some(sid) = r.publishing.as_ref().and_then(|p| p.stream) {
                                self.push_unit(sid, now, track, pts, dts, key, payload);
                            }
                        }
                    }
                }
            }
            RtmpEvent::StreamClosed => self.release_rtmp(id, r),
            RtmpEvent::Close { .. } => return false,
        }
        true
    }

    /// The demuxer knows the tracks: (re)create the path's stream.
    fn start_rtmp_publish(
        &mut self,
        id: Id,
        r: &mut RtmpConn,
        desc: Arc<StreamDescription>,
        now: Instant,
    ) -> Result<(), PathError> {
        let Some(p) = r.publishing.as_mut() else {
            return Ok(());
        };
        if let Some(old) = p.stream.take() {
            self.unpublish(old);
        }
        let (pid, sid) = self.insert_stream(p.path.clone(), id, desc.clone());
        match self.paths.publish(&p.path, pid, sid) {
            Ok(outcome) => {
                if let Some((_, old)) = outcome.replaced {
                    self.end_stream(old, Some("publisher was replaced"));
                }
            }
            Err(e) => {
                self.streams.remove(sid);
                return Err(e);
            }
        }
        p.stream = Some(sid);
        r.core.log_publishing(&tracks_text(&desc));
        let id_text = r.core.peer().to_string();
        let query = r
            .publishing
            .as_ref()
            .map(|p| p.query.clone())
            .unwrap_or_default();
        self.stream_published(sid, now, "rtmpConn", &id_text, &query);
        Ok(())
    }

    pub(crate) fn start_rtmp_play(&mut self, id: Id, r: &mut RtmpConn, path: String, query: &str) {
        let sid = match self.paths.add_reader(&path) {
            Ok(s) => s,
            Err(e) => return r.core.answer_play(Err(e)),
        };
        let Some(stream) = self.streams.get_mut(sid) else {
            self.paths.remove_reader(&path);
            return r.core.answer_play(Err(PathError::NoOnePublishing(path)));
        };
        let player = match RtmpPlayer::start(&mut r.core, &path, &stream.description) {
            Ok(p) => p,
            Err(_) => {
                self.paths.remove_reader(&path);
                return;
            }
        };
        let cursor = stream.ring.join();
        stream.readers.push(id);
        let read_hook = self.read_hook(&path, query, "rtmpConn", &r.core.peer().to_string());
        r.playing = Some(Playing {
            _read_hook: read_hook,
            stream: sid,
            path,
            player,
            cursor,
            planned: SmallVec::new(),
            held: Vec::new(),
            barrier: None,
        });
        self.mark_reader(id);
    }

    /// Releases the path held as publisher or reader.
    pub(crate) fn release_rtmp(&mut self, id: Id, r: &mut RtmpConn) {
        if let Some(p) = r.publishing.take() {
            if let Some(sid) = p.stream {
                self.unpublish(sid);
            }
        }
        if let Some(p) = r.playing.take() {
            if let Some(s) = self.streams.get_mut(p.stream) {
                s.readers.retain(|x| *x != id);
            }
            self.paths.remove_reader(&p.path);
        }
    }
}
