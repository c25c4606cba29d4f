//! The event loop: one thread, one `mio::Poll`, every socket of every protocol.
//!
//! Per iteration: wait for readiness (or the next timer), handle each event — accept, read
//! and feed a state machine, flush output — and after each event fan the streams that got new
//! items out to their readers (copying interleaved RTP / RTMP chunks into each reader's
//! preallocated buffer and writing it at once). Connections whose state changed because of
//! another connection (a reader whose source went away, an HTTP request a muxer answered) are
//! queued as "kicked" and driven right after the event.

use crate::conn::{Conn, Proto, Read1};
use crate::hls::{HlsShared, HttpConn};
use crate::rtmp::RtmpConn;
use crate::rtsp::RtspConn;
use crate::slab::{Id, Slab};
use crate::stream::Stream;
use crate::udp::RtspShared;
use bytes::Bytes;
use mio::{Events, Interest, Poll, Token, Waker};
use smallvec::SmallVec;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::media::{PathManager, StreamDescription, WallClock};
use weir_core::rtmp::RtmpServerConfig;
use weir_core::rtp::RtpPacket;
use weir_core::rtsp::server::multicast_datagrams;
use weir_core::settings::Settings;

/// Items a reader takes from the ring per read: small, so that a reader catching up never
/// overshoots its preallocated output buffer (which would allocate).
pub(crate) const READ_BATCH: usize = 16;
/// A reader that gets copies (RTMP; RTSP with UDP tracks) with this many bytes queued takes
/// nothing more from the ring until the socket drains (if it falls behind the ring
/// meanwhile, it resumes at the next key frame). The socket's own buffer is the real queue.
pub(crate) const MAX_PENDING_OUT: usize = 128 * 1024;

/// Preallocated output buffer of an RTSP connection: answers (readers over TCP are written
/// straight from the ring; see `direct.rs`); it grows for the rare reader with UDP and TCP
/// tracks mixed.
const RTSP_OUT_CAPACITY: usize = 2048;
/// Most refills of a reader's output per writable event.
const REFILLS_PER_WAKEUP: usize = 8;
/// Preallocated output buffer of an RTMP connection: answers, control messages, metadata and
/// sequence headers (players' media is written straight from the ring; see `rtmp_direct.rs`).
const RTMP_OUT_CAPACITY: usize = 2048;
/// How long a closed connection may linger to deliver its last bytes and see the peer close.
const LINGER: Duration = Duration::from_secs(2);
/// How often timers without their own deadline (UDP activity, idle muxers) are checked.
const HOUSEKEEPING: Duration = Duration::from_millis(500);

pub(crate) const WAKER: Token = Token(0);
pub(crate) const RTSP_LISTENER: Token = Token(1);
pub(crate) const RTMP_LISTENER: Token = Token(2);
pub(crate) const HLS_LISTENER: Token = Token(3);
pub(crate) const RTP_SOCKET: Token = Token(4);
pub(crate) const RTCP_SOCKET: Token = Token(5);
/// Connection tokens start here (token = CONN_BASE + slab index).
pub(crate) const CONN_BASE: usize = 16;

/// The RTMP server's state.
pub(crate) struct RtmpShared {
    pub listener: mio::net::TcpListener,
    pub cfg: Arc<RtmpServerConfig>,
}

/// Everything the loop owns.
pub(crate) struct Loop {
    pub poll: Poll,
    pub settings: Settings,
    pub clock: WallClock,
    pub paths: PathManager<Id>,
    pub streams: Slab<Stream>,
    pub conns: Slab<Conn>,
    pub rtsp: Option<RtspShared>,
    pub rtmp: Option<RtmpShared>,
    pub hls: Option<HlsShared>,
    /// Streams with items their readers have not been offered yet.
    pub dirty: Vec<Id>,
    /// Readers to deliver to (newly playing).
    pub fresh_readers: Vec<Id>,
    /// A fresh reader found out of the slab (being driven): delivered to when put back.
    pub fresh_taken: Option<Id>,
    /// Connections to drive after the current event, with a reason to terminate them.
    pub kicked: Vec<(Id, Option<&'static str>)>,
    pub shutdown: Arc<AtomicBool>,
    pub waker: Arc<Waker>,
    /// Paths pulling from another server all the time.
    pub sources: Vec<crate::source::StaticSource>,
    /// Sources started when read (`sourceOnDemand`).
    pub ondemand: weir_core::media::OnDemand,
    /// Requests waiting for their path's on-demand source.
    pub parked: Vec<(String, Id, crate::ondemand::Parked)>,
    /// The RTSP port (hooks' `RTSP_PORT`).
    pub rtsp_port: u16,
    /// Running `runOnDemand` commands, by path.
    pub demand_hooks: std::collections::HashMap<String, crate::hooks::Held>,
    /// `runOnInit` commands.
    pub init_hooks: Vec<weir_core::hooks::HookHandle>,
    /// Configuration changes sent by [`crate::Control`], applied when the waker fires.
    pub commands: std::sync::mpsc::Receiver<crate::Command>,
    pub commands_tx: std::sync::mpsc::Sender<crate::Command>,
    next_id: u64,
}

impl Loop {
    /// A loop over the bound sockets.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        poll: Poll,
        settings: Settings,
        clock: WallClock,
        rtsp: Option<RtspShared>,
        rtmp: Option<RtmpShared>,
        hls: Option<HlsShared>,
        shutdown: Arc<AtomicBool>,
        waker: Arc<Waker>,
    ) -> Loop {
        let paths = PathManager::new(settings.paths.clone());
        let (commands_tx, commands) = std::sync::mpsc::channel();
        let rtsp_port = rtsp
            .as_ref()
            .and_then(|r| r.listener.local_addr().ok())
            .map_or(0, |a| a.port());
        let now = Instant::now();
        let sources = paths
            .static_sources()
            .into_iter()
            .filter_map(|(path, url)| {
                Some(crate::source::StaticSource {
                    path,
                    url: weir_core::rtsp::client::SourceUrl::parse(&url)?,
                    conn: None,
                    retry_at: Some(now),
                })
            })
            .collect();
        Loop {
            poll,
            paths,
            sources,
            ondemand: Default::default(),
            parked: Vec::new(),
            commands,
            commands_tx,
            rtsp_port,
            demand_hooks: Default::default(),
            init_hooks: Vec::new(),
            settings,
            clock,
            streams: Slab::with_capacity(64),
            conns: Slab::with_capacity(4096),
            rtsp,
            rtmp,
            hls,
            dirty: Vec::with_capacity(64),
            fresh_readers: Vec::with_capacity(64),
            fresh_taken: None,
            kicked: Vec::with_capacity(4096),
            shutdown,
            waker,
            next_id: 1,
        }
    }

    /// A fresh id for the path registry.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Runs until shutdown is requested and every connection has closed (or the grace
    /// period ran out).
    pub fn run(mut self, grace: Duration) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        self.start_init_hooks();
        self.start_due_sources(Instant::now());
        self.settle(Instant::now());
        let mut next_housekeeping = Instant::now() + HOUSEKEEPING;
        let mut stop_by: Option<Instant> = None;
        loop {
            let now = Instant::now();
            let mut wake = next_housekeeping;
            if let Some(d) = self.hls_deadline() {
                wake = wake.min(d);
            }
            if let Some(d) = stop_by {
                wake = wake.min(d);
            }
            if let Some(d) = self.ondemand.poll_timeout() {
                wake = wake.min(d);
            }
            let timeout = wake.saturating_duration_since(now);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
            for ev in events.iter() {
                let now = Instant::now();
                match ev.token() {
                    WAKER => {
                        while let Ok(cmd) = self.commands.try_recv() {
                            match cmd {
                                crate::Command::ReloadPaths(confs) => self.reload_paths(now, confs),
                            }
                        }
                    }
                    RTSP_LISTENER | RTMP_LISTENER | HLS_LISTENER if stop_by.is_none() => {
                        self.accept(ev.token(), now)
                    }
                    RTP_SOCKET => self.udp_readable(false, now),
                    RTCP_SOCKET => self.udp_readable(true, now),
                    Token(t) if t & crate::source_udp::SOURCE_UDP != 0 => {
                        self.source_udp_readable(t, now)
                    }
                    Token(t) if t >= CONN_BASE => {
                        let readable = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                        self.conn_event(t - CONN_BASE, readable, ev.is_writable(), now);
                    }
                    _ => {}
                }
                self.settle(now);
            }
            let now = Instant::now();
            if stop_by.is_none() && self.shutdown.load(Ordering::Acquire) {
                stop_by = Some(now + grace);
                self.begin_shutdown(now);
            }
            let housekeeping = now >= next_housekeeping;
            if housekeeping {
                next_housekeeping = now + HOUSEKEEPING;
                self.conn_timers(now);
                if stop_by.is_none() {
                    self.start_due_sources(now);
                }
            }
            self.hls_timers(now, housekeeping);
            if housekeeping {
                let paths = &self.paths;
                self.ondemand.check_readers(now, |p| paths.reader_count(p));
            }
            self.ondemand.handle_timeout(now);
            self.run_ondemand_actions(now);
            self.settle(now);
            if let Some(deadline) = stop_by {
                if self.conns.len() == 0 {
                    return Ok(());
                }
                if now >= deadline {
                    tracing::warn!("{} connections did not close in time", self.conns.len());
                    return Ok(());
                }
            }
        }
    }

    /// Fans new items out and drives kicked connections until nothing is left to do.
    pub(crate) fn settle(&mut self, now: Instant) {
        loop {
            if let Some(sid) = self.dirty.pop() {
                self.fan_out(sid, now);
                continue;
            }
            if let Some(rid) = self.fresh_readers.pop() {
                if self.conns.get_mut(rid).is_some() {
                    self.start_reader(rid, now);
                } else {
                    // Being driven right now (out of the slab): served by `finish`.
                    self.fresh_taken = Some(rid);
                }
                continue;
            }
            if let Some((cid, reason)) = self.kicked.pop() {
                self.drive_kicked(cid, reason, now);
                continue;
            }
            return;
        }
    }

    fn accept(&mut self, token: Token, now: Instant) {
        loop {
            let listener = match token {
                RTSP_LISTENER => self.rtsp.as_ref().map(|r| &r.listener),
                RTMP_LISTENER => self.rtmp.as_ref().map(|r| &r.listener),
                _ => self.hls.as_ref().map(|h| &h.listener),
            };
            let Some(listener) = listener else {
                return;
            };
            let (sock, peer) = match listener.accept() {
                Ok(v) => v,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    return;
                }
            };
            let _ = sock.set_nodelay(true);
            let seed = crate::random_seed();
            let proto = match token {
                RTSP_LISTENER => match &self.rtsp {
                    Some(r) => {
                        Proto::Rtsp(Box::new(RtspConn::new(r.core.clone(), peer, now, seed)))
                    }
                    None => return,
                },
                RTMP_LISTENER => match &self.rtmp {
                    Some(r) => Proto::Rtmp(Box::new(RtmpConn::new(r.cfg.clone(), peer, now, seed))),
                    None => return,
                },
                _ => match &self.hls {
                    Some(h) => Proto::Http(Box::new(HttpConn::new(h.http.clone(), peer, now))),
                    None => return,
                },
            };
            let (out_capacity, conn_type) = match proto {
                // HTTP answers go out as shared chunks (`Conn::chunks`), never through `out`.
                Proto::Http(_) => (0, "hlsConn"),
                Proto::Rtmp(_) => (RTMP_OUT_CAPACITY, "rtmpConn"),
                _ => (RTSP_OUT_CAPACITY, "rtspConn"),
            };
            let hook = if conn_type == "hlsConn" {
                None
            } else {
                self.connect_hook(conn_type, &peer.to_string())
            };
            let id = self.conns.insert(Conn::new(sock, proto, out_capacity));
            let token = Token(CONN_BASE + id.index());
            let registered = match self.conns.get_mut(id) {
                Some(c) => self.poll.registry().register(
                    &mut c.sock,
                    token,
                    Interest::READABLE | Interest::WRITABLE,
                ),
                None => continue,
            };
            if let Err(e) = registered {
                tracing::warn!("cannot watch connection from {peer}: {e}");
                self.conns.remove(id);
                continue;
            }
            if let Some(c) = self.conns.get_mut(id) {
                c.hook = hook;
            }
            // Some machines speak first (none today), and timers start now.
            self.kicked.push((id, None));
        }
    }

    fn conn_event(&mut self, index: usize, readable: bool, writable: bool, now: Instant) {
        let Some(id) = self.conns.id_at(index) else {
            return;
        };
        let Some(mut c) = self.conns.take(id) else {
            return;
        };
        if let Some(deadline) = c.lingering {
            if c.linger(now) || now >= deadline {
                self.drop_conn(id, c);
            } else {
                self.conns.put_back(id, c);
            }
            return;
        }
        let mut open = true;
        if writable {
            open = self.write_out(id, &mut c, now);
        }
        if open && readable {
            loop {
                match c.read_once() {
                    Read1::Data => {
                        open = self.drive(id, &mut c, now);
                        if !open {
                            break;
                        }
                        // Keep memory bounded: fan the publisher's items out before
                        // reading more.
                        self.settle(now);
                    }
                    Read1::WouldBlock => break,
                    Read1::Eof => {
                        self.close_input(&mut c, "the client closed the connection");
                        open = self.drive(id, &mut c, now);
                        break;
                    }
                    Read1::Failed(e) => {
                        self.close_input(&mut c, &e.to_string());
                        open = self.drive(id, &mut c, now);
                        break;
                    }
                }
            }
        }
        self.finish(id, c, open, now);
    }

    /// Flushes output, refills a reader's buffer from its ring, flushes again.
    fn write_out(&mut self, id: Id, c: &mut Conn, now: Instant) -> bool {
        if c.flush(now).is_err() {
            self.close_input(c, "write error");
            return self.drive(id, c, now);
        }
        // A reader catching up gets its backlog a buffer at a time, for as long as the socket
        // takes it (bounded: other connections wait meanwhile).
        for _ in 0..REFILLS_PER_WAKEUP {
            if c.pending_out() != 0 {
                break;
            }
            if self.refill(c).is_err() {
                self.close_input(c, "write error");
                return self.drive(id, c, now);
            }
            if c.pending_out() == 0 {
                break; // nothing more (or written straight from the ring)
            }
            if c.flush(now).is_err() {
                self.close_input(c, "write error");
                return self.drive(id, c, now);
            }
        }
        true
    }

    /// Tells the connection's machine its input ended.
    fn close_input(&mut self, c: &mut Conn, reason: &str) {
        match &mut c.proto {
            Proto::Rtsp(r) => r.core.handle_close(reason),
            Proto::Rtmp(r) => r.core.handle_close(reason),
            Proto::Http(h) => h.core.handle_close(reason),
            Proto::Source(s) => s.core.handle_close(reason),
            Proto::Placeholder => {}
        }
    }

    /// Drives the connection's machine; false once it is to be closed.
    pub(crate) fn drive(&mut self, id: Id, c: &mut Conn, now: Instant) -> bool {
        let mut proto = std::mem::replace(&mut c.proto, Proto::Placeholder);
        let open = match &mut proto {
            Proto::Rtsp(r) => self.drive_rtsp(id, c, r, now),
            Proto::Rtmp(r) => self.drive_rtmp(id, c, r, now),
            Proto::Http(h) => self.drive_http(id, c, h, now),
            Proto::Source(s) => self.drive_source(id, c, s, now),
            Proto::Placeholder => true,
        };
        c.proto = proto;
        open
    }

    /// Puts the connection back after flushing it, or closes it.
    pub(crate) fn finish(&mut self, id: Id, mut c: Conn, open: bool, now: Instant) {
        if open {
            if c.flush(now).is_ok() {
                self.conns.put_back(id, c);
                if self.fresh_taken == Some(id) {
                    // A reader that started playing while it was driven: its first items
                    // (from the ring's last key frame) go out now, not at the next fan-out.
                    self.fresh_taken = None;
                    self.start_reader(id, now);
                }
                return;
            }
            self.close_input(&mut c, "write error");
            self.drive(id, &mut c, now);
        }
        self.close(id, c, now);
    }

    /// Releases what the connection held and lets it linger until its last bytes are out
    /// and the peer has closed (at most [`LINGER`]).
    fn close(&mut self, id: Id, mut c: Conn, now: Instant) {
        let mut proto = std::mem::replace(&mut c.proto, Proto::Placeholder);
        match &mut proto {
            Proto::Rtsp(r) => self.release_rtsp(id, r),
            Proto::Rtmp(r) => self.release_rtmp(id, r),
            Proto::Http(h) => self.release_http(h),
            Proto::Source(s) => self.release_source(s, now),
            Proto::Placeholder => {}
        }
        drop(proto);
        // `runOnConnect` stops and `runOnDisconnect` runs now, not when lingering ends.
        c.hook = None;
        c.lingering = Some(now + LINGER);
        if c.linger(now) {
            self.drop_conn(id, c);
        } else {
            self.conns.put_back(id, c);
        }
    }

    /// Forgets a connection for good.
    fn drop_conn(&mut self, id: Id, mut c: Conn) {
        let _ = self.poll.registry().deregister(&mut c.sock);
        self.conns.remove(id);
    }

    /// Drives a connection another one affected.
    fn drive_kicked(&mut self, id: Id, reason: Option<&'static str>, now: Instant) {
        let Some(mut c) = self.conns.take(id) else {
            return;
        };
        if c.lingering.is_some() {
            self.conns.put_back(id, c);
            return;
        }
        if let Some(reason) = reason {
            match &mut c.proto {
                Proto::Rtsp(r) => r.core.terminate(reason),
                Proto::Rtmp(r) => r.core.terminate(reason),
                Proto::Http(h) => h.core.handle_close(reason),
                Proto::Source(s) => s.core.handle_close(reason),
                Proto::Placeholder => {}
            }
        }
        let open = self.drive(id, &mut c, now);
        self.finish(id, c, open, now);
    }

    /// Queues a connection to be driven after the current event (terminated if `reason`).
    pub(crate) fn kick(&mut self, id: Id, reason: Option<&'static str>) {
        self.kicked.push((id, reason));
    }

    /// Queues a reader for delivery (it just started playing).
    pub(crate) fn mark_reader(&mut self, id: Id) {
        self.fresh_readers.push(id);
    }

    /// Offers a stream's new items to every reader, its multicast sender and its muxer.
    fn fan_out(&mut self, sid: Id, now: Instant) {
        let Some(stream) = self.streams.get_mut(sid) else {
            return;
        };
        stream.dirty = false;
        let readers = stream.readers.len();
        for i in 0..readers {
            let Some(rid) = self
                .streams
                .get(sid)
                .and_then(|s| s.readers.get(i).copied())
            else {
                break;
            };
            self.deliver_to(rid, now);
        }
        if let Some(stream) = self.streams.get_mut(sid) {
            if let Some(m) = stream.multicast.as_mut() {
                let socket = &m.socket;
                let groups = &m.groups;
                loop {
                    let outcome = stream.ring.read_each(&mut m.cursor, READ_BATCH, |item| {
                        multicast_datagrams(item, groups, |d, to| {
                            let _ = socket.send_to(d, to);
                        });
                    });
                    if outcome.read == 0 {
                        break;
                    }
                }
            }
        }
        self.feed_muxer(sid, now);
    }

    /// A connection that has just become a reader: trims its input, sends its start-up burst
    /// and what the ring holds for it, then shrinks its output buffers.
    fn start_reader(&mut self, rid: Id, now: Instant) {
        if let Some(c) = self.conns.get_mut(rid) {
            c.became_reader();
        }
        self.deliver_to(rid, now);
        if let Some(c) = self.conns.get_mut(rid) {
            c.shrink_idle_output();
        }
    }

    /// Copies what reader `rid` has not received into its buffer and writes it.
    fn deliver_to(&mut self, rid: Id, now: Instant) {
        let Some(c) = self.conns.get_mut(rid) else {
            return;
        };
        if c.lingering.is_some() {
            return;
        }
        // What is queued goes first (an item the socket cut, answers), then the ring. A
        // refill that queued output (copies, or an RTMP player's sequence header handed to the
        // connection) may leave more in the ring once that output is out: refill again.
        if c.flush(now).is_err() {
            return self.kick(rid, Some("write error"));
        }
        for _ in 0..REFILLS_PER_WAKEUP {
            if Self::refill_with(&self.streams, self.rtsp.as_ref(), c).is_err() {
                return self.kick(rid, Some("write error"));
            }
            let queued = c.pending_out() != 0;
            if c.flush(now).is_err() {
                return self.kick(rid, Some("write error"));
            }
            if !queued || c.pending_out() != 0 {
                break;
            }
        }
    }

    fn refill(&mut self, c: &mut Conn) -> std::io::Result<()> {
        Self::refill_with(&self.streams, self.rtsp.as_ref(), c)
    }

    /// Gives a reader what its cursor has not delivered: RTSP readers over TCP only are
    /// written straight from the ring when nothing else is queued; others get copies in
    /// their output buffer.
    fn refill_with(
        streams: &Slab<Stream>,
        rtsp: Option<&RtspShared>,
        c: &mut Conn,
    ) -> std::io::Result<()> {
        let idle = c.pending_out() == 0;
        let (out, out_pos) = (&mut c.out, c.out_pos);
        match &mut c.proto {
            Proto::Rtsp(r) => {
                let Some(sid) = r.reading.as_ref().map(|rd| rd.stream) else {
                    return Ok(());
                };
                let Some(stream) = streams.get(sid) else {
                    return Ok(());
                };
                if r.is_tcp_reader() {
                    if idle {
                        c.direct_blocked = r.deliver_direct(stream, &mut c.sock, &mut c.partial)?;
                    }
                } else {
                    r.deliver(
                        stream,
                        out,
                        out_pos,
                        rtsp.map(|s| (&s.rtp, &s.rtcp, &s.gso)),
                    );
                }
            }
            Proto::Rtmp(r) => {
                let Some(sid) = r.playing.as_ref().map(|p| p.stream) else {
                    return Ok(());
                };
                if let (Some(stream), true) = (streams.get(sid), idle) {
                    c.direct_blocked =
                        r.deliver_direct(stream, &mut c.sock, &mut c.partial, out)?;
                }
            }
            Proto::Http(_) | Proto::Source(_) | Proto::Placeholder => {}
        }
        Ok(())
    }

    /// Creates the stream of publisher connection `conn` for `path` (not yet in the path
    /// registry); returns the publisher id and the stream's slab id.
    pub(crate) fn insert_stream(
        &mut self,
        path: String,
        conn: Id,
        description: Arc<StreamDescription>,
    ) -> (u64, Id) {
        let pid = self.next_id();
        let stream = Stream::new(
            path,
            conn,
            pid,
            description,
            self.settings.write_queue_size,
            self.clock,
            crate::random_seed(),
        );
        (pid, self.streams.insert(stream))
    }

    /// Feeds a publisher's RTP packet into its stream.
    pub(crate) fn push_rtp(&mut self, sid: Id, now: Instant, track: usize, packet: RtpPacket) {
        if let Some(s) = self.streams.get_mut(sid) {
            if s.push_rtp(now, track, packet) && !s.dirty {
                s.dirty = true;
                self.dirty.push(sid);
            }
        }
    }

    /// Feeds a publisher's access unit into its stream.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_unit(
        &mut self,
        sid: Id,
        now: Instant,
        track: usize,
        pts: i64,
        dts: i64,
        key: bool,
        payload: SmallVec<[Bytes; 4]>,
    ) {
        if let Some(s) = self.streams.get_mut(sid) {
            if s.push_unit(now, track, pts, dts, key, payload) && !s.dirty {
                s.dirty = true;
                self.dirty.push(sid);
            }
        }
    }

    /// The publisher of `sid` leaves: the path is released and the readers are told.
    pub(crate) fn unpublish(&mut self, sid: Id) {
        let Some(s) = self.streams.get(sid) else {
            return;
        };
        self.paths.unpublish(&s.path, s.publisher_id);
        self.end_stream(sid, None);
    }

    /// Ends a stream: readers are terminated ("source of the path has gone away"), its muxer
    /// closed; with `publisher_reason` (replaced) its publisher is terminated too.
    pub(crate) fn end_stream(&mut self, sid: Id, publisher_reason: Option<&'static str>) {
        let Some(stream) = self.streams.remove(sid) else {
            return;
        };
        for r in &stream.readers {
            self.kick(*r, Some("source of the path has gone away"));
        }
        if let Some(reason) = publisher_reason {
            self.kick(stream.publisher, Some(reason));
        }
        if let Some(mid) = stream.hls {
            self.destroy_muxer(mid, "the stream closed");
        }
    }

    /// Session timeouts, write timeouts, UDP activity.
    fn conn_timers(&mut self, now: Instant) {
        let write_timeout = self.settings.write_timeout;
        for i in 0..self.conns.slots() {
            let Some(id) = self.conns.id_at(i) else {
                continue;
            };
            let Some(c) = self.conns.get_mut(id) else {
                continue;
            };
            if let Some(deadline) = c.lingering {
                if now >= deadline {
                    if let Some(c) = self.conns.take(id) {
                        self.drop_conn(id, c);
                    }
                }
                continue;
            }
            let mut due = c.deadline.is_some_and(|d| d <= now);
            if let Proto::Rtsp(r) = &mut c.proto {
                if let Some(t) = r.udp_activity {
                    r.core.handle_udp_activity(t);
                    due |= r.core.poll_timeout().is_some_and(|d| d <= now);
                }
            }
            if c.stalled_since
                .is_some_and(|s| now.saturating_duration_since(s) >= write_timeout)
            {
                self.kick(id, Some("write timeout"));
                continue;
            }
            if due {
                match &mut c.proto {
                    Proto::Rtsp(r) => r.core.handle_timeout(now),
                    Proto::Rtmp(r) => r.core.handle_timeout(now),
                    Proto::Http(h) => h.core.handle_timeout(now),
                    Proto::Source(s) => s.core.handle_timeout(now),
                    Proto::Placeholder => {}
                }
                self.kick(id, None);
            }
        }
    }

    /// Hot reload of the path entries: changed paths are closed, static sources re-synced.
    fn reload_paths(&mut self, now: Instant, confs: Vec<weir_core::media::PathConf>) {
        let changed = self.paths.reload(confs);
        for path in &changed {
            if let Ok(sid) = self.paths.describe(path) {
                tracing::info!("[path {path}] closed: its configuration changed");
                self.unpublish(sid);
            }
        }
        let wanted = self.paths.static_sources();
        let mut i = 0;
        while i < self.sources.len() {
            let s = &self.sources[i];
            let keep = wanted.iter().any(|(p, u)| *p == s.path && *u == s.url.url)
                && !changed.contains(&s.path);
            if keep {
                i += 1;
                continue;
            }
            let s = self.sources.remove(i);
            if let Some(id) = s.conn {
                if let Some(c) = self.conns.get_mut(id) {
                    if let Proto::Source(sc) = &mut c.proto {
                        // Its entry is gone: when it closes, nothing is retried.
                        sc.index = None;
                    }
                }
                self.kick(id, Some("the path's configuration changed"));
            }
        }
        // Source connections refer to their entry by index: renumber them.
        for (i, s) in self.sources.iter().enumerate() {
            if let Some(id) = s.conn {
                if let Some(c) = self.conns.get_mut(id) {
                    if let Proto::Source(sc) = &mut c.proto {
                        sc.index = Some(i);
                    }
                }
            }
        }
        for (path, url) in wanted {
            if self.sources.iter().any(|s| s.path == path) {
                continue;
            }
            if let Some(url) = weir_core::rtsp::client::SourceUrl::parse(&url) {
                self.sources.push(crate::source::StaticSource {
                    path,
                    url,
                    conn: None,
                    retry_at: Some(now),
                });
            }
        }
        self.start_due_sources(now);
    }

    /// Stops accepting and terminates every connection.
    fn begin_shutdown(&mut self, _now: Instant) {
        if let Some(r) = self.rtsp.as_mut() {
            tracing::info!("[RTSP] listener is closing");
            let _ = self.poll.registry().deregister(&mut r.listener);
        }
        if let Some(r) = self.rtmp.as_mut() {
            tracing::info!("[RTMP] listener is closing");
            let _ = self.poll.registry().deregister(&mut r.listener);
        }
        if let Some(h) = self.hls.as_mut() {
            tracing::info!("[HLS] listener is closing");
            let _ = self.poll.registry().deregister(&mut h.listener);
        }
        for i in 0..self.conns.slots() {
            if let Some(id) = self.conns.id_at(i) {
                self.kick(id, Some("server is shutting down"));
            }
        }
    }
}
