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

mod config;
mod hub;
mod multicast;
mod rtsp_conn;
mod stream;
mod udp;
mod writev;

pub use config::RtspSettings;
pub use hub::Hub;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

/// How long shutdown waits for connections to close their sessions.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(3);

/// Items a reader takes from the ring per wake-up.
pub const READ_BATCH: usize = 128;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoundAddresses {
    /// RTSP (TCP).
    pub rtsp: SocketAddr,
    /// RTP (UDP).
    pub rtp: SocketAddr,
    /// RTCP (UDP).
    pub rtcp: SocketAddr,
}

/// A running RTSP server.
pub struct RtspServer {
    hub: Arc<Hub>,
    listener: tokio::net::TcpListener,
    bound: BoundAddresses,
}

impl RtspServer {
    /// Binds every socket (so that errors such as a port in use surface before serving) and
    /// logs the listener line.
    pub async fn bind(settings: RtspSettings) -> io::Result<RtspServer> {
        let listener = tokio::net::TcpListener::bind(settings.rtsp_address).await?;
        let rtsp = listener.local_addr()?;
        let (rtp_socket, rtcp_socket) =
            udp::bind_pair(settings.rtp_address, settings.rtcp_address)?;
        let bound = BoundAddresses {
            rtsp,
            rtp: rtp_socket.local_addr()?,
            rtcp: rtcp_socket.local_addr()?,
        };
        let hub = Hub::new(settings, bound, rtp_socket, rtcp_socket)?;
        let mut parts = vec![format!("{} (TCP)", bound.rtsp)];
        if hub.settings.core.transports.udp {
            parts.push(format!("{} (UDP/RTP)", bound.rtp));
            parts.push(format!("{} (UDP/RTCP)", bound.rtcp));
        }
        tracing::info!("[RTSP] listener opened on {}", parts.join(", "));
        Ok(RtspServer {
            hub,
            listener,
            bound,
        })
    }

    /// The addresses bound.
    pub fn bound(&self) -> BoundAddresses {
        self.bound
    }

    /// Serves until `shutdown` completes, then closes every connection (each ends its session
    /// and logs it) and waits up to [`SHUTDOWN_GRACE`] for them.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let RtspServer { hub, listener, .. } = self;
        udp::spawn_receivers(&hub);
        let mut conns = tokio::task::JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                r = listener.accept() => match r {
                    Ok((sock, peer)) => {
                        let _ = sock.set_nodelay(true);
                        conns.spawn(rtsp_conn::run(hub.clone(), sock, peer));
                    }
                    Err(e) => {
                        tracing::warn!("[RTSP] accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                },
                // Reap finished connection tasks so the set stays small.
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                _ = &mut shutdown => break,
            }
        }
        tracing::info!("[RTSP] listener is closing");
        drop(listener);
        hub.shutdown();
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while conns.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("[RTSP] {} connections did not close in time", conns.len());
            conns.abort_all();
        }
        Ok(())
    }
}
