//! weir-mio: drives weir-core's state machines from one explicit mio event loop.
//!
//! # Design
//!
//! One thread runs one `mio::Poll` holding every socket: the RTSP, RTMP and HLS listeners, the
//! RTP and RTCP UDP sockets, and every connection. The loop owns all state — the path
//! registry, each stream's ring and ingest, every connection's state machine — so nothing is
//! locked and nothing is reference-counted across threads: a publisher's packet is parsed,
//! grouped into a unit, pushed into the ring and written to every reader's socket in the same
//! loop iteration — for RTSP readers over TCP straight from the ring with `writev` (frame
//! headers on the stack, packets borrowed from the ring: no copy, no per-reader buffer; see
//! `direct.rs`), for RTMP readers and RTSP readers with UDP tracks through a copy in their
//! output buffer. Protocol logic lives in weir-core and is shared with weir-tokio:
//! the RTSP/RTMP/HTTP connection machines, reader routes and interleaved framing
//! (`rtsp::server::ReaderRoutes`), multicast groups, the RTMP player/publisher glue
//! (`rtmp::server::{RtmpPlayer, RtmpPublisher}`), HLS routing and muxing. This crate only moves
//! bytes and keeps the registry.
//!
//! Why one loop rather than one per core: fan-out is the work, and it is cheapest where the
//! ring is — one thread copies each packet into N buffers with no synchronisation at all, and
//! the kernel's per-socket send path is where the time goes. Measured (BENCHMARKS.md, 2 vCPUs,
//! 1,000 RTSP/TCP readers of a 2 Mbit/s stream, 2.07 Gbit/s delivered, zero loss): this single
//! loop spends 0.79 CPU-seconds per delivered GB (0.99 before readers were written straight
//! from the ring) against 1.22 for the multi-threaded tokio adapter and 0.78 for a bare
//! copy-to-N-sockets pipe; its p99 delivery latency is higher (14 ms at 1,000 readers), the
//! price of serving every reader from one thread.
//! One loop per core (paths sharded across loops) is the way to more cores; on this 2-core
//! machine, with the load generator on the other core, it would have nothing to gain.
//!
//! # Steady state and allocation
//!
//! *Steady state* is: every connection set up (handshakes and PLAY/RECORD answered, RTMP
//! metadata and sequence headers sent), each reader has received at least one full ring's
//! worth of items (so its output buffer and the stream's pools have reached their working
//! size), the publisher's input arena has grown to cover what stalled readers keep alive (a
//! reader whose socket cut an item keeps that item's chunk after the ring moved on: one or
//! two chunks per stalled RTSP/TCP reader; the arena grows by half again past its third
//! chunk, so later wobbles find a spare), and the publisher keeps sending packets of the
//! codec configuration it announced. In steady state the loop performs **no heap allocation** per packet:
//!
//! - TCP input is read into recycled chunks (`weir_core::arena::Arena`), and RTP packets are
//!   `Bytes` views of those chunks; UDP datagrams likewise.
//! - Fragmented NAL units are reassembled into a recycled arena; units come from the stream's
//!   unit pool (a unit the ring evicts goes back to the pool: readers copy bytes, they do not
//!   keep references); sender reports are written into an arena.
//! - RTSP readers over TCP are written from the ring with stack-built iovecs; an item the
//!   socket cuts is kept as a reference (an `Arc` clone) until the rest goes out.
//! - RTMP players are written from the ring too: each unit's message is planned (tag header,
//!   payload left in the unit) and gathered with its chunk headers into stack-built iovecs;
//!   up to 16 planned messages (`Arc` clones of units) wait per player, and a message the
//!   socket cuts is kept as a reference.
//! - RTSP readers with UDP tracks copy interleaved frames or datagrams into their preallocated
//!   output buffer (128 KiB of backlog, then the reader takes nothing more until the socket
//!   drains; a reader that falls a whole ring behind resumes at the next key frame).
//! - Input buffers start small (1 KiB reads, 2 KiB arena chunks: a reader's connection stays
//!   a few pages) and grow once, to 16 KiB reads and 64 KiB chunks, for a connection whose
//!   reads fill them (a publisher) — during warm-up.
//! - The connection slab, event list and work queues are preallocated and only grow.
//!
//! What still allocates, and why: accepting a connection (its state machine, buffers, log
//! prefix); every RTSP/RTMP/HTTP request and response (headers, SDP — control traffic, not
//! per packet); publishing and reading set-up (stream, ring, muxers); log lines; the RTMP
//! *publisher* path (the chunk decoder assembles each message into a fresh buffer, and the
//! packetizer writes new RTP packets for RTSP readers of an RTMP source); AAC access units
//! fragmented across RTP packets; H.264 access units of more than 4 NAL units or video units
//! of more than 4 RTP packets until the pool's units have grown to that size; HLS (segments
//! and parts are new buffers by nature, and the muxer holds units, which are then not
//! recycled); multicast and UDP readers allocate nothing but may drop datagrams when the
//! socket buffer is full. The allocation test (`tests/alloc.rs`) measures the RTSP-publisher
//! case with TCP and RTMP readers.
#![deny(unsafe_code)]

mod conn;
mod direct;
mod event_loop;
mod hls;
mod hooks;
mod machine;
mod net;
mod ondemand;
mod rtmp;
mod rtmp_direct;
mod rtsp;
mod slab;
mod source;
mod source_udp;
mod stream;
mod udp;
mod udp_gso;

pub use weir_core::settings::{HlsSettings, RtmpSettings, RtspSettings, Settings};

use event_loop::{
    Loop, RtmpShared, HLS_LISTENER, RTCP_SOCKET, RTMP_LISTENER, RTP_SOCKET, RTSP_LISTENER, WAKER,
};
use mio::{Interest, Poll, Waker};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use weir_core::media::WallClock;
use weir_core::rtsp::server::MulticastGroups;

/// How long shutdown waits for connections to close their sessions.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

/// 64 random bits from the OS (session ids, SSRCs); falls back to the clock if the OS fails.
pub(crate) fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        return t.as_nanos() as u64;
    }
    u64::from_le_bytes(b)
}

/// The addresses the server actually listens on (ports resolved when configured as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BoundAddresses {
    /// RTSP (TCP).
    pub rtsp: Option<SocketAddr>,
    /// RTP (UDP).
    pub rtp: Option<SocketAddr>,
    /// RTCP (UDP).
    pub rtcp: Option<SocketAddr>,
    /// RTMP (TCP).
    pub rtmp: Option<SocketAddr>,
    /// HLS (HTTP over TCP).
    pub hls: Option<SocketAddr>,
}

/// Asks a running server to shut down (from any thread).
#[derive(Clone)]
pub struct ShutdownHandle {
    flag: Arc<AtomicBool>,
    waker: Arc<Waker>,
}

impl ShutdownHandle {
    /// Requests a graceful shutdown: listeners close, sessions are terminated, and
    /// [`Server::run`] returns once they are gone (at most [`SHUTDOWN_GRACE`] later).
    pub fn shutdown(&self) {
        self.flag.store(true, Ordering::Release);
        let _ = self.waker.wake();
    }
}

/// A change sent to the running loop.
pub(crate) enum Command {
    /// New path entries (hot reload).
    ReloadPaths(Vec<weir_core::media::PathConf>),
}

/// Changes a running server's configuration (from any thread).
#[derive(Clone)]
pub struct Control {
    tx: std::sync::mpsc::Sender<Command>,
    waker: Arc<Waker>,
}

impl Control {
    /// Applies new path entries: paths whose entry changed are closed (their publisher and
    /// readers disconnected, static sources restarted); the others are untouched.
    pub fn reload_paths(&self, confs: Vec<weir_core::media::PathConf>) {
        if self.tx.send(Command::ReloadPaths(confs)).is_ok() {
            let _ = self.waker.wake();
        }
    }
}

/// A bound server, ready to run its loop.
pub struct Server {
    event_loop: Loop,
    bound: BoundAddresses,
}

impl Server {
    /// Binds every socket of every enabled protocol (so that errors such as a port in use
    /// surface before serving) and logs the listener lines.
    pub fn bind(settings: Settings) -> io::Result<Server> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let mut bound = BoundAddresses::default();
        let rtsp = match settings.rtsp.clone() {
            Some(rs) => {
                let mut listener = net::listen(rs.rtsp_address)?;
                let addr = listener.local_addr()?;
                let (mut rtp, mut rtcp) = net::bind_pair(rs.rtp_address, rs.rtcp_address)?;
                bound.rtsp = Some(addr);
                bound.rtp = Some(rtp.local_addr()?);
                bound.rtcp = Some(rtcp.local_addr()?);
                let mut parts = vec![format!("{addr} (TCP)")];
                if rs.core.transports.udp {
                    parts.push(format!("{} (UDP/RTP)", rtp.local_addr()?));
                    parts.push(format!("{} (UDP/RTCP)", rtcp.local_addr()?));
                }
                tracing::info!("[RTSP] listener opened on {}", parts.join(", "));
                let reg = poll.registry();
                reg.register(&mut listener, RTSP_LISTENER, Interest::READABLE)?;
                reg.register(&mut rtp, RTP_SOCKET, Interest::READABLE)?;
                reg.register(&mut rtcp, RTCP_SOCKET, Interest::READABLE)?;
                let mut core = rs.core.clone();
                core.server_rtp_port = rtp.local_addr()?.port();
                core.server_rtcp_port = rtcp.local_addr()?.port();
                let multicast_interface = match addr.ip() {
                    IpAddr::V4(v4) => v4,
                    IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
                };
                Some(udp::RtspShared {
                    listener,
                    core: Arc::new(core),
                    rtp,
                    rtcp,
                    routes: Default::default(),
                    multicast: MulticastGroups::new(
                        rs.multicast_range,
                        rs.multicast_rtp_port,
                        rs.multicast_rtcp_port,
                    ),
                    multicast_interface,
                    arena: weir_core::arena::Arena::new(256 * 1024),
                    gso: std::cell::Cell::new(udp_gso::probe()),
                })
            }
            None => None,
        };
        let rtmp = match settings.rtmp.clone() {
            Some(rs) => {
                let mut listener = net::listen(rs.address)?;
                let addr = listener.local_addr()?;
                bound.rtmp = Some(addr);
                tracing::info!("[RTMP] listener opened on {addr}");
                poll.registry()
                    .register(&mut listener, RTMP_LISTENER, Interest::READABLE)?;
                let cfg = weir_core::rtmp::RtmpServerConfig {
                    read_timeout: rs.read_timeout,
                    ..Default::default()
                };
                Some(RtmpShared {
                    listener,
                    cfg: Arc::new(cfg),
                })
            }
            None => None,
        };
        let hls = match settings.hls.clone() {
            Some(hs) => {
                let mut listener = net::listen(hs.address)?;
                let addr = listener.local_addr()?;
                bound.hls = Some(addr);
                tracing::info!("[HLS] listener opened on {addr}");
                poll.registry()
                    .register(&mut listener, HLS_LISTENER, Interest::READABLE)?;
                Some(hls::HlsShared::new(listener, hs))
            }
            None => None,
        };
        let started = Instant::now();
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let clock = WallClock {
            base: started,
            base_ntp: weir_core::rtcp::ntp_from_unix(unix.as_secs(), unix.subsec_nanos()),
        };
        let shutdown = Arc::new(AtomicBool::new(false));
        let event_loop = Loop::new(poll, settings, clock, rtsp, rtmp, hls, shutdown, waker);
        Ok(Server { event_loop, bound })
    }

    /// The addresses bound.
    pub fn bound(&self) -> BoundAddresses {
        self.bound
    }

    /// A handle that changes the running server's configuration (hot reload).
    pub fn control(&self) -> Control {
        Control {
            tx: self.event_loop.commands_tx.clone(),
            waker: self.event_loop.waker.clone(),
        }
    }

    /// A handle that stops [`Server::run`].
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            flag: self.event_loop.shutdown.clone(),
            waker: self.event_loop.waker.clone(),
        }
    }

    /// Runs the loop on the calling thread until shutdown is requested and every connection
    /// has closed (waiting at most [`SHUTDOWN_GRACE`]).
    pub fn run(self) -> io::Result<()> {
        self.event_loop.run(SHUTDOWN_GRACE)
    }
}
