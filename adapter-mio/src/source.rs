//! Paths that pull from another server (`source: rtsp(s)://…` or `rtmp(s)://…`): one outgoing
//! connection per path driving the core's `PullClient`; its stream is published when PLAY is answered
//! and withdrawn when the connection ends; a failed or lost source is retried every 5 s.

use crate::conn::{Conn, Proto};
use crate::event_loop::{Loop, CONN_BASE};
use crate::slab::Id;
use mio::{Interest, Token};
use std::net::{IpAddr, Ipv4Addr, ToSocketAddrs};
use std::time::{Duration, Instant};
use weir_core::pull::{ClientEvent, PullClient, SourceUrl};
use weir_core::rtmp::server::tracks_text;
use weir_core::rtsp::client::RtspTransport;

/// How long a failed source waits before the next attempt (as MediaMTX).
pub(crate) const RETRY: Duration = Duration::from_secs(5);

/// A path's static source.
pub(crate) struct StaticSource {
    pub path: String,
    pub url: SourceUrl,
    /// The connection, while one is open.
    pub conn: Option<Id>,
    /// When to (re)connect, while none is open.
    pub retry_at: Option<Instant>,
}

/// The state of a source connection.
pub(crate) struct SourceConn {
    pub core: PullClient,
    /// The static source it serves (`None`: an on-demand source).
    pub index: Option<usize>,
    pub on_demand: bool,
    pub path: String,
    pub stream: Option<Id>,
    /// The URL, to connect again over TCP when automatic mode got no UDP packet.
    pub url: SourceUrl,
    /// Whether this connection was opened over TCP after such a failure.
    pub tcp_only: bool,
    /// The connection's local and remote addresses (for UDP sockets and their filter).
    pub local_ip: std::net::IpAddr,
    pub server_ip: std::net::IpAddr,
    /// The UDP sockets of an RTSP source over UDP, by slot (2 × track, + 1 for RTCP).
    pub udp: Vec<Option<mio::net::UdpSocket>>,
    /// Receive buffers of the UDP sockets.
    pub arena: weir_core::arena::Arena,
}

impl Loop {
    /// Opens the connections of static sources whose retry time has come.
    pub(crate) fn start_due_sources(&mut self, now: Instant) {
        for i in 0..self.sources.len() {
            let s = &mut self.sources[i];
            if s.conn.is_some() || s.retry_at.is_none_or(|t| t > now) {
                continue;
            }
            s.retry_at = None;
            let (path, url) = (s.path.clone(), s.url.clone());
            self.open_source(now, Some(i), path, url, false);
        }
    }

    /// Opens an on-demand source connection for `path`.
    pub(crate) fn open_demanded_source(&mut self, now: Instant, path: String, url: &str) {
        match SourceUrl::parse(url) {
            Some(url) => self.open_source(now, None, path, url, false),
            None => {
                tracing::info!("[path {path}] [RTSP source] started");
                let why = format!("invalid source URL '{url}'");
                self.source_gone(now, None, &path, "RTSP", &why);
            }
        }
    }

    /// Opens a source connection for `path` (static source `index`, or on demand), over TCP
    /// only with `tcp_only`.
    pub(crate) fn open_source(
        &mut self,
        now: Instant,
        index: Option<usize>,
        path: String,
        url: SourceUrl,
        tcp_only: bool,
    ) {
        let kind = url.scheme.name();
        tracing::info!("[path {path}] [{} source] started", url.scheme.name());
        let addr = (url.host.as_str(), url.port)
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next());
        let sock = match addr.map(mio::net::TcpStream::connect) {
            Some(Ok(sock)) => sock,
            Some(Err(e)) => return self.source_gone(now, index, &path, kind, &e.to_string()),
            None => {
                let why = format!("cannot resolve '{}'", url.host);
                return self.source_gone(now, index, &path, kind, &why);
            }
        };
        let read_timeout = self.settings.write_timeout.max(Duration::from_secs(10));
        let mut cfg = self
            .paths
            .client_config(&path, read_timeout, &self.settings.tls_roots);
        if tcp_only {
            cfg.transport = RtspTransport::Tcp;
        }
        let server_ip = addr.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let local_ip = sock
            .local_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let core = PullClient::new(cfg, url.clone(), now, crate::random_seed());
        let proto = Proto::Source(Box::new(SourceConn {
            core,
            index,
            on_demand: index.is_none(),
            path: path.clone(),
            stream: None,
            url,
            tcp_only,
            local_ip,
            server_ip,
            udp: Vec::new(),
            arena: weir_core::arena::Arena::new(64 * 1024),
        }));
        let id = self.conns.insert(Conn::new(sock, proto, 256 * 1024));
        let token = Token(CONN_BASE + id.index());
        let registered = match self.conns.get_mut(id) {
            Some(c) => self.poll.registry().register(
                &mut c.sock,
                token,
                Interest::READABLE | Interest::WRITABLE,
            ),
            None => return,
        };
        if let Err(e) = registered {
            self.conns.remove(id);
            return self.source_gone(now, index, &path, kind, &e.to_string());
        }
        if let Some(i) = index {
            self.sources[i].conn = Some(id);
        }
        self.kick(id, None);
    }

    /// A source could not start or ended: static ones are retried, on-demand ones forgotten
    /// (their waiting readers are refused).
    fn source_gone(
        &mut self,
        now: Instant,
        index: Option<usize>,
        path: &str,
        kind: &str,
        why: &str,
    ) {
        if !why.is_empty() {
            tracing::warn!("[path {path}] [{kind} source] ERR: {why}");
        }
        match index {
            Some(i) => {
                let stopping = self.shutdown.load(std::sync::atomic::Ordering::Acquire);
                if let Some(s) = self.sources.get_mut(i) {
                    s.conn = None;
                    if !stopping {
                        s.retry_at = Some(now + RETRY);
                    }
                }
            }
            None => {
                self.ondemand.ended(path);
                self.answer_parked(now, path, false);
            }
        }
    }

    /// Drains the source connection's outputs; false once it is to be closed.
    pub(crate) fn drive_source(
        &mut self,
        id: Id,
        c: &mut Conn,
        s: &mut SourceConn,
        now: Instant,
    ) -> bool {
        self.drive_machine(c, s, now, |lp, s, ev| lp.on_source_event(id, s, ev, now))
    }

    /// Acts on one event of a source connection; false on Close.
    fn on_source_event(
        &mut self,
        id: Id,
        s: &mut SourceConn,
        ev: ClientEvent,
        now: Instant,
    ) -> bool {
        match ev {
            ClientEvent::Ready { description } => {
                // An RTMP origin that changes codecs: the stream restarts (as MediaMTX).
                if let Some(old) = s.stream.take() {
                    self.unpublish(old);
                }
                let (pid, sid) = self.insert_stream(s.path.clone(), id, description.clone());
                match self.paths.publish_source(&s.path, pid, sid) {
                    Ok(outcome) => {
                        if let Some((_, old)) = outcome.replaced {
                            self.end_stream(old, Some("publisher was replaced"));
                        }
                        s.stream = Some(sid);
                        let scheme = s.core.scheme();
                        tracing::info!(
                            "[path {}] [{} source] ready: {}",
                            s.path,
                            scheme.name(),
                            tracks_text(&description)
                        );
                        let url = s.core.url().to_owned();
                        // Also answers readers waiting for an on-demand source.
                        self.stream_published(sid, now, scheme.source_type(), &url, "");
                    }
                    Err(e) => {
                        self.streams.remove(sid);
                        s.core.handle_close(&e.to_string());
                    }
                }
            }
            ClientEvent::Rtp { track, packet } => {
                if let Some(sid) = s.stream {
                    self.push_rtp(sid, now, track, packet);
                }
            }
            ClientEvent::Unit {
                track,
                pts,
                dts,
                key,
                payload,
            } => {
                if let Some(sid) = s.stream {
                    self.push_unit(sid, now, track, pts, dts, key, payload);
                }
            }
            ClientEvent::OpenUdp { track, group } => {
                let registry = self.poll.registry();
                let opened = s
                    .open_udp(registry, id.index(), track, group)
                    .map_err(|e| e.to_string());
                let server = s.server_ip;
                s.core.handle_udp_open(track, opened, server);
            }
            ClientEvent::Close { reason } => {
                let kind = s.core.scheme().name();
                if s.core.wants_tcp() {
                    tracing::warn!("[path {}] [{kind} source] {reason}", s.path);
                } else {
                    tracing::warn!("[path {}] [{kind} source] ERR: {reason}", s.path);
                }
                return false;
            }
        }
        true
    }

    /// The source connection ended: its stream is withdrawn; a static source is retried.
    pub(crate) fn release_source(&mut self, s: &mut SourceConn, now: Instant) {
        if let Some(sid) = s.stream.take() {
            self.unpublish(sid);
        }
        let path = s.path.clone();
        let stopping = self.shutdown.load(std::sync::atomic::Ordering::Acquire);
        if s.core.wants_tcp() && !s.tcp_only && !stopping {
            // Automatic mode got no UDP packet: at once again, over TCP (as MediaMTX).
            if let Some(i) = s.index {
                if let Some(st) = self.sources.get_mut(i) {
                    st.conn = None;
                }
            }
            return self.open_source(now, s.index, path, s.url.clone(), true);
        }
        self.source_gone(now, s.index, &path, "", "");
    }
}
