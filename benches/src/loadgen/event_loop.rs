//! The readers' event loop: one `mio::Poll` per thread holding every socket of its readers
//! (TCP, and the RTP/RTCP pair of UDP readers), non-blocking connects ramped up with a bound
//! on handshakes in flight, one shared receive buffer, ticks every 100 ms. The main thread
//! drives the phases through [`Shared`] (ramp → measure → stop); each loop opens and closes
//! its readers' measurement windows when it sees the phase change (within 10 ms).

use super::marker::{Clock, SendLog};
use super::reader_hls::HlsReader;
use super::reader_rtmp::RtmpReader;
use super::reader_rtsp::{RtspReader, RtspTransport};
use super::session::{Io, Session};
use super::stats::ReaderStats;
use super::url::Url;
use super::Protocol;
use mio::net::{TcpStream, UdpSocket};
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Readers are connecting; nothing is measured.
pub const PHASE_RAMP: u8 = 0;
/// The measurement window is open.
pub const PHASE_MEASURE: u8 = 1;
/// Close the window and return.
pub const PHASE_STOP: u8 = 2;

/// The tick interval (keep-alives, playlist reloads, handshake timeouts).
const TICK_US: u64 = 100_000;

/// State shared by the main thread and the reader loops.
#[derive(Debug, Default)]
pub struct Shared {
    /// [`PHASE_RAMP`], [`PHASE_MEASURE`] or [`PHASE_STOP`].
    pub phase: AtomicU8,
    /// Readers whose first key frame arrived.
    pub ready: AtomicUsize,
    /// Readers past their handshake. Until one is, only the first loop connects, one reader:
    /// servers that prepare a shared media on the first request (gst-rtsp-server) may block
    /// while doing it, and the others then join a prepared media, as in a real deployment.
    pub playing: AtomicUsize,
    /// Readers that failed.
    pub failed: AtomicUsize,
}

/// What one loop runs.
#[derive(Debug, Clone)]
pub struct LoopConfig {
    /// The protocol of every reader.
    pub protocol: Protocol,
    /// What they read.
    pub url: Url,
    /// The id of the first reader of this loop (ids are unique across loops).
    pub first_id: usize,
    /// How many readers this loop runs.
    pub count: usize,
    /// The most readers of this loop in their handshake at once.
    pub max_handshaking: usize,
    /// A reader not playing this long after it started connecting fails (µs).
    pub handshake_timeout_us: u64,
    /// `SO_RCVBUF` of UDP readers' RTP sockets (bytes).
    pub udp_rcvbuf: usize,
}

/// The next even UDP port to try for a reader's RTP/RTCP pair (shared by all loops).
static NEXT_UDP_PORT: AtomicU16 = AtomicU16::new(40_000);

/// Binds a non-blocking UDP socket on 127.0.0.1:`port` with receive buffer `rcvbuf`.
fn bind_udp(port: u16, rcvbuf: usize) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol as P, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(P::UDP))?;
    s.set_recv_buffer_size(rcvbuf)?;
    s.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into())?;
    s.set_nonblocking(true)?;
    Ok(UdpSocket::from_std(s.into()))
}

/// Binds an RTP/RTCP pair on consecutive ports (even, odd).
fn bind_udp_pair(rcvbuf: usize) -> Result<(u16, UdpSocket, UdpSocket), String> {
    for _ in 0..200 {
        let mut port = NEXT_UDP_PORT.fetch_add(2, Ordering::Relaxed);
        if port >= 64_000 {
            NEXT_UDP_PORT.store(20_000, Ordering::Relaxed);
            port = 20_000;
        }
        let Ok(rtp) = bind_udp(port, rcvbuf) else {
            continue;
        };
        if let Ok(rtcp) = bind_udp(port + 1, 64 * 1024) {
            return Ok((port, rtp, rtcp));
        }
    }
    Err("no free UDP port pair".into())
}

/// One reader: its sockets, session and counters.
struct Conn {
    tcp: Option<TcpStream>,
    udp: Option<(UdpSocket, UdpSocket)>,
    session: Box<dyn Session>,
    out: Vec<u8>,
    out_pos: usize,
    stats: ReaderStats,
    connected: bool,
    ready: bool,
    playing: bool,
    dead: bool,
}

impl Conn {
    /// Runs `f` on the session with an [`Io`], then sends what it queued.
    fn call(
        &mut self,
        now_us: u64,
        log: &SendLog,
        rtcp_out: &mut Vec<(SocketAddr, Vec<u8>)>,
        f: impl FnOnce(&mut dyn Session, &mut Io<'_>) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut io = Io {
            now_us,
            out: &mut self.out,
            rtcp_out,
            stats: &mut self.stats,
            log,
        };
        f(self.session.as_mut(), &mut io)?;
        for (to, d) in rtcp_out.drain(..) {
            if let Some((_, rtcp)) = &self.udp {
                let _ = rtcp.send_to(&d, to);
            }
        }
        self.flush()
    }

    /// Writes as much of the queued output as the socket takes.
    fn flush(&mut self) -> Result<(), String> {
        let Some(tcp) = &mut self.tcp else {
            return Ok(());
        };
        if !self.connected {
            return Ok(());
        }
        while self.out_pos < self.out.len() {
            match tcp.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err("write returned 0".into()),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
        }
        Ok(())
    }

    /// Closes the sockets and records `error`.
    fn fail(&mut self, poll: &Poll, error: String, shared: &Shared) {
        if self.dead {
            return;
        }
        self.dead = true;
        self.stats.end_window();
        self.stats.error = Some(error);
        if let Some(mut t) = self.tcp.take() {
            let _ = poll.registry().deregister(&mut t);
        }
        if let Some((mut a, mut b)) = self.udp.take() {
            let _ = poll.registry().deregister(&mut a);
            let _ = poll.registry().deregister(&mut b);
        }
        shared.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// Creates reader `id` and starts its connection.
fn open(
    cfg: &LoopConfig,
    poll: &Poll,
    id: usize,
    index: usize,
    now_us: u64,
) -> Result<Conn, String> {
    let stats = ReaderStats::new(now_us);
    let mut udp = None;
    let session: Box<dyn Session> = match cfg.protocol {
        Protocol::RtspTcp => Box::new(RtspReader::new(
            cfg.url.clone(),
            RtspTransport::Tcp,
            id as u32,
        )),
        Protocol::Raw => Box::new(RtspReader::new(
            cfg.url.clone(),
            RtspTransport::Raw,
            id as u32,
        )),
        Protocol::RtspUdp => {
            let (port, mut rtp, mut rtcp) = bind_udp_pair(cfg.udp_rcvbuf)?;
            poll.registry()
                .register(&mut rtp, Token(index * 3 + 1), Interest::READABLE)
                .map_err(|e| e.to_string())?;
            poll.registry()
                .register(&mut rtcp, Token(index * 3 + 2), Interest::READABLE)
                .map_err(|e| e.to_string())?;
            udp = Some((rtp, rtcp));
            Box::new(RtspReader::new(
                cfg.url.clone(),
                RtspTransport::Udp { rtp_port: port },
                id as u32,
            ))
        }
        Protocol::Rtmp => Box::new(RtmpReader::new(&cfg.url)),
        Protocol::Hls => Box::new(HlsReader::new(cfg.url.clone())),
    };
    let mut tcp = TcpStream::connect(cfg.url.addr()).map_err(|e| format!("connect: {e}"))?;
    poll.registry()
        .register(
            &mut tcp,
            Token(index * 3),
            Interest::READABLE | Interest::WRITABLE,
        )
        .map_err(|e| e.to_string())?;
    Ok(Conn {
        tcp: Some(tcp),
        udp,
        session,
        out: Vec::new(),
        out_pos: 0,
        stats,
        connected: false,
        ready: false,
        playing: false,
        dead: false,
    })
}

/// Handles readiness of reader `c`'s socket `kind` (0 TCP, 1 RTP, 2 RTCP).
fn on_event(
    c: &mut Conn,
    kind: usize,
    ev: &mio::event::Event,
    now_us: u64,
    log: &SendLog,
    scratch: &mut [u8],
    rtcp_out: &mut Vec<(SocketAddr, Vec<u8>)>,
) -> Result<(), String> {
    if kind > 0 {
        loop {
            let r = match &c.udp {
                Some((rtp, rtcp)) => if kind == 1 { rtp } else { rtcp }.recv_from(scratch),
                None => return Ok(()),
            };
            match r {
                Ok((n, _)) => {
                    c.stats.now.bytes += n as u64;
                    c.call(now_us, log, rtcp_out, |s, io| {
                        s.on_udp(&scratch[..n], kind == 2, io)
                    })?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("UDP receive: {e}")),
            }
        }
    }
    if !c.connected {
        let Some(tcp) = &c.tcp else { return Ok(()) };
        if let Ok(Some(e)) | Err(e) = tcp.take_error() {
            return Err(format!("connect: {e}"));
        }
        match tcp.peer_addr() {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotConnected => return Ok(()),
            Err(e) => return Err(format!("connect: {e}")),
        }
        let _ = tcp.set_nodelay(true);
        c.connected = true;
        c.call(now_us, log, rtcp_out, |s, io| s.start(io))?;
    }
    if ev.is_writable() {
        c.flush()?;
    }
    if ev.is_readable() || ev.is_read_closed() {
        loop {
            let Some(tcp) = &mut c.tcp else { return Ok(()) };
            match tcp.read(scratch) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => {
                    c.stats.now.bytes += n as u64;
                    c.call(now_us, log, rtcp_out, |s, io| s.on_tcp(&scratch[..n], io))?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    }
    Ok(())
}

/// Runs the readers of `cfg` until the phase is [`PHASE_STOP`]; returns their statistics.
pub fn run(
    cfg: LoopConfig,
    shared: Arc<Shared>,
    log: Arc<SendLog>,
    clock: Clock,
) -> Vec<ReaderStats> {
    let mut poll = Poll::new().expect("create a poll");
    let mut events = Events::with_capacity(1024);
    let mut conns: Vec<Conn> = Vec::with_capacity(cfg.count);
    let mut never: Vec<ReaderStats> = Vec::new();
    let mut scratch = vec![0u8; 256 * 1024];
    let mut rtcp_out = Vec::new();
    let mut measuring = false;
    let mut handshaking = 0usize;
    let mut next_tick = 0u64;
    loop {
        let phase = shared.phase.load(Ordering::Acquire);
        if phase == PHASE_STOP {
            break;
        }
        if phase == PHASE_MEASURE && !measuring {
            measuring = true;
            for c in conns.iter_mut().filter(|c| !c.dead) {
                c.stats.start_window();
            }
        }
        let limit = match shared.playing.load(Ordering::Relaxed) {
            0 if cfg.first_id == 0 => 1,
            0 => 0,
            _ => cfg.max_handshaking,
        };
        while phase == PHASE_RAMP && conns.len() < cfg.count && handshaking < limit {
            let index = conns.len();
            match open(&cfg, &poll, cfg.first_id + index, index, clock.now_us()) {
                Ok(c) => conns.push(c),
                Err(e) => {
                    let stats = ReaderStats::new(clock.now_us());
                    // Keep indices aligned with tokens: a dead placeholder.
                    let mut c = Conn {
                        tcp: None,
                        udp: None,
                        session: Box::new(HlsReader::new(cfg.url.clone())),
                        out: Vec::new(),
                        out_pos: 0,
                        stats,
                        connected: false,
                        ready: false,
                        playing: false,
                        dead: false,
                    };
                    c.fail(&poll, e, &shared);
                    conns.push(c);
                }
            }
            handshaking += 1;
        }
        if let Err(e) = poll.poll(&mut events, Some(Duration::from_millis(10))) {
            if e.kind() != ErrorKind::Interrupted {
                panic!("poll: {e}");
            }
        }
        let now = clock.now_us();
        for ev in events.iter() {
            let (index, kind) = (ev.token().0 / 3, ev.token().0 % 3);
            let Some(c) = conns.get_mut(index) else {
                continue;
            };
            if c.dead {
                continue;
            }
            if let Err(e) = on_event(c, kind, ev, now, &log, &mut scratch, &mut rtcp_out) {
                c.fail(&poll, e, &shared);
            }
        }
        if now >= next_tick {
            next_tick = now + TICK_US;
            handshaking = 0;
            for c in conns.iter_mut().filter(|c| !c.dead) {
                if !c.ready && c.stats.first_key_us.is_some() {
                    c.ready = true;
                    shared.ready.fetch_add(1, Ordering::Relaxed);
                }
                if !c.playing && c.session.is_playing() {
                    c.playing = true;
                    shared.playing.fetch_add(1, Ordering::Relaxed);
                }
                if !c.session.is_playing() {
                    if now.saturating_sub(c.stats.connect_us) > cfg.handshake_timeout_us {
                        c.fail(&poll, "handshake timeout".into(), &shared);
                        continue;
                    }
                    handshaking += 1;
                }
                if !c.connected {
                    continue;
                }
                if let Err(e) = c.call(now, &log, &mut rtcp_out, |s, io| s.on_tick(io)) {
                    c.fail(&poll, e, &shared);
                }
            }
        }
    }
    for c in &mut conns {
        c.stats.end_window();
    }
    while conns.len() + never.len() < cfg.count {
        let mut s = ReaderStats::new(clock.now_us());
        s.error = Some("never started (ramp-up ended)".into());
        never.push(s);
    }
    conns.into_iter().map(|c| c.stats).chain(never).collect()
}
