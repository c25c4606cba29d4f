//! weir-tokio: drives weir-core's state machines with tokio.
//!
//! One task per RTSP connection; one task per UDP socket (RTP, RTCP) routing publishers'
//! datagrams; one sender task per path with multicast readers. All protocol decisions are the
//! core's: this crate only moves bytes, arms timers, and holds the shared state (the path
//! registry behind a mutex, each stream's ring behind a mutex with a `watch` channel to wake its
//! readers).
//!
//! Reader fan-out: a reader task wakes when its stream's sequence number changes, copies up to
//! [`READ_BATCH`] item handles out of the ring under the lock (reference-count increments only),
//! releases the lock, and writes the whole batch with one vectored write (TCP) or one datagram
//! per packet (UDP).
#![deny(unsafe_code)]

mod hls;
mod hooks;
mod hub;
mod multicast;
mod ondemand;
mod rtmp_conn;
mod rtsp_conn;
mod source;
mod source_udp;
mod stream;
mod udp;
mod udp_gso;
mod writev;

pub use hub::Hub;
pub use weir_core::settings::{HlsSettings, RtmpSettings, RtspSettings, Settings};

use hub::RtspHub;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// How long shutdown waits for connections to close their sessions.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Items a reader takes from the ring per wake-up.
pub const READ_BATCH: usize = 32;

/// 64 random bits from the OS (session ids, SSRCs); falls back to the clock if the OS fails.
pub(crate) fn random_seed() -> u64 {
    let mut b = [0u8; 8];
    if getrandom::fill(&mut b).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
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

struct RtspListener {
    hub: Arc<RtspHub>,
    listener: TcpListener,
}

struct RtmpListener {
    cfg: Arc<weir_core::rtmp::RtmpServerConfig>,
    listener: TcpListener,
}

struct HlsListener {
    hub: Arc<hls::HlsHub>,
    listener: TcpListener,
}

/// Changes a running server's configuration.
#[derive(Clone)]
pub struct Control {
    hub: Arc<Hub>,
    /// The server's runtime: a reload from another thread spawns source tasks on it.
    runtime: tokio::runtime::Handle,
}

impl Control {
    /// Applies new path entries: paths whose entry changed are closed (their publisher and
    /// readers disconnected, static sources restarted); the others are untouched.
    pub fn reload_paths(&self, confs: Vec<weir_core::media::PathConf>) {
        let _in_runtime = self.runtime.enter();
        self.hub.reload_paths(confs);
    }
}

/// A running server: every enabled protocol's listener over one shared hub.
pub struct Server {
    hub: Arc<Hub>,
    rtsp: Option<RtspListener>,
    rtmp: Option<RtmpListener>,
    hls: Option<HlsListener>,
    bound: BoundAddresses,
}

impl Server {
    /// Binds every socket of every enabled protocol (so that errors such as a port in use
    /// surface before serving) and logs the listener lines.
    pub async fn bind(settings: Settings) -> io::Result<Server> {
        let mut bound = BoundAddresses::default();
        let rtsp = match settings.rtsp.clone() {
            Some(rs) => {
                let listener = TcpListener::bind(rs.rtsp_address).await?;
                let addr = listener.local_addr()?;
                let (rtp, rtcp) = udp::bind_pair(rs.rtp_address, rs.rtcp_address)?;
                bound.rtsp = Some(addr);
                bound.rtp = Some(rtp.local_addr()?);
                bound.rtcp = Some(rtcp.local_addr()?);
                let mut parts = vec![format!("{addr} (TCP)")];
                if rs.core.transports.udp {
                    parts.push(format!("{} (UDP/RTP)", rtp.local_addr()?));
                    parts.push(format!("{} (UDP/RTCP)", rtcp.local_addr()?));
                }
                tracing::info!("[RTSP] listener opened on {}", parts.join(", "));
                let hub = RtspHub::new(rs, addr.ip(), rtp, rtcp)?;
                Some(RtspListener { hub, listener })
            }
            None => None,
        };
        let rtmp = match settings.rtmp.clone() {
            Some(rs) => {
                let listener = TcpListener::bind(rs.address).await?;
                let addr = listener.local_addr()?;
                bound.rtmp = Some(addr);
                tracing::info!("[RTMP] listener opened on {addr}");
                let cfg = weir_core::rtmp::RtmpServerConfig {
                    read_timeout: rs.read_timeout,
                    ..Default::default()
                };
                Some(RtmpListener {
                    cfg: Arc::new(cfg),
                    listener,
                })
            }
            None => None,
        };
        let hls = match settings.hls.clone() {
            Some(hs) => {
                let listener = TcpListener::bind(hs.address).await?;
                let addr = listener.local_addr()?;
                bound.hls = Some(addr);
                tracing::info!("[HLS] listener opened on {addr}");
                Some(HlsListener {
                    hub: hls::HlsHub::new(hs),
                    listener,
                })
            }
            None => None,
        };
        let hub = Hub::new(settings, bound.rtsp.map_or(0, |a| a.port()));
        if let Some(h) = &hls {
            // `hlsAlwaysRemux` starts a path's muxer when the path gets a publisher.
            let _ = hub.hls.set(h.hub.clone());
        }
        Ok(Server {
            hub,
            rtsp,
            rtmp,
            hls,
            bound,
        })
    }

    /// The addresses bound.
    pub fn bound(&self) -> BoundAddresses {
        self.bound
    }

    /// A handle that changes the running server's configuration (hot reload); call it from
    /// within the runtime that runs the server.
    pub fn control(&self) -> Control {
        Control {
            hub: self.hub.clone(),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    /// Serves until `shutdown` completes, then closes every connection (each ends its session
    /// and logs it) and waits up to [`SHUTDOWN_GRACE`] for them.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let Server {
            hub,
            rtsp,
            rtmp,
            hls,
            ..
        } = self;
        if let Some(r) = &rtsp {
            udp::spawn_receivers(&hub, &r.hub);
        }
        let mut conns = JoinSet::new();
        conns.spawn(ondemand::run_timers(hub.clone()));
        hub.start_init_hooks();
        hub.sync_sources();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                r = accept_opt(rtsp.as_ref().map(|r| &r.listener)) => match r {
                    Ok((sock, peer)) => {
                        let _ = sock.set_nodelay(true);
                        let rtsp_hub = rtsp.as_ref().map(|r| r.hub.clone()).expect("accepted on it");
                        conns.spawn(rtsp_conn::run(hub.clone(), rtsp_hub, sock, peer));
                    }
                    Err(e) => accept_failed("RTSP", e).await,
                },
                r = accept_opt(rtmp.as_ref().map(|r| &r.listener)) => match r {
                    Ok((sock, peer)) => {
                        let _ = sock.set_nodelay(true);
                        let cfg = rtmp.as_ref().map(|r| r.cfg.clone()).expect("accepted on it");
                        conns.spawn(rtmp_conn::run(hub.clone(), cfg, sock, peer));
                    }
                    Err(e) => accept_failed("RTMP", e).await,
                },
                r = accept_opt(hls.as_ref().map(|h| &h.listener)) => match r {
                    Ok((sock, peer)) => {
                        let _ = sock.set_nodelay(true);
                        let hls_hub = hls.as_ref().map(|h| h.hub.clone()).expect("accepted on it");
                        conns.spawn(hls::run(hub.clone(), hls_hub, sock, peer));
                    }
                    Err(e) => accept_failed("HLS", e).await,
                },
                // Reap finished connection tasks so the set stays small.
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                _ = &mut shutdown => break,
            }
        }
        if rtsp.is_some() {
            tracing::info!("[RTSP] listener is closing");
        }
        if rtmp.is_some() {
            tracing::info!("[RTMP] listener is closing");
        }
        if hls.is_some() {
            tracing::info!("[HLS] listener is closing");
        }
        drop((rtsp, rtmp, hls));
        hub.shutdown();
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while conns.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("{} connections did not close in time", conns.len());
            conns.abort_all();
        }
        Ok(())
    }
}

async fn accept_opt(l: Option<&TcpListener>) -> io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match l {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

async fn accept_failed(proto: &str, e: io::Error) {
    tracing::warn!("[{proto}] accept failed: {e}");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
}
