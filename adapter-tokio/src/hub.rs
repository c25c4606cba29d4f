//! The state every connection shares: path registry, clock, shutdown signal; and the RTSP
//! server's own shared state (UDP sockets and routes, multicast groups).

use crate::multicast::Multicast;
use crate::stream::SharedStream;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::UdpSocket;
use tokio::sync::watch;
use weir_core::media::{PathManager, WallClock};
use weir_core::rtsp::server::ServerConfig;
use weir_core::settings::{RtspSettings, Settings};

/// Where datagrams from one client address go.
#[derive(Clone)]
pub(crate) enum UdpRoute {
    /// RTP of a publisher's track.
    Publish {
        stream: Arc<SharedStream>,
        track: usize,
        activity: Arc<Activity>,
    },
    /// RTCP from a client (publisher or reader): only proves it is alive.
    Alive { activity: Arc<Activity> },
}

/// When a session's UDP traffic was last seen, in milliseconds since the hub started.
#[derive(Default)]
pub(crate) struct Activity(AtomicU64);

impl Activity {
    pub fn touch(&self, hub: &Hub) {
        let ms = hub.started.elapsed().as_millis() as u64;
        self.0.store(ms.max(1), Ordering::Relaxed);
    }

    pub fn last(&self, hub: &Hub) -> Option<Instant> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(hub.started + Duration::from_millis(ms)),
        }
    }
}

/// Shared server state.
pub struct Hub {
    pub(crate) settings: Settings,
    pub(crate) paths: Mutex<PathManager<Arc<SharedStream>>>,
    pub(crate) clock: WallClock,
    pub(crate) started: Instant,
    next_id: AtomicU64,
    shutdown_tx: watch::Sender<bool>,
    /// On-demand sources (`sourceOnDemand`).
    pub(crate) ondemand: Mutex<crate::ondemand::OnDemandHub>,
    /// The RTSP port (hooks' `RTSP_PORT`).
    pub(crate) rtsp_port: u16,
    /// The HLS server, when enabled (for `hlsAlwaysRemux`).
    pub(crate) hls: std::sync::OnceLock<Arc<crate::hls::HlsHub>>,
    /// `runOnInit` commands, stopped at shutdown.
    pub(crate) init_hooks: Mutex<Vec<weir_core::hooks::HookHandle>>,
    /// Running static sources: path → (URL, stop signal).
    sources: Mutex<HashMap<String, (String, watch::Sender<bool>)>>,
}

/// The RTSP server's shared state.
pub(crate) struct RtspHub {
    pub(crate) core: Arc<ServerConfig>,
    pub(crate) rtp_socket: Arc<UdpSocket>,
    pub(crate) rtcp_socket: Arc<UdpSocket>,
    pub(crate) routes: Mutex<HashMap<SocketAddr, UdpRoute>>,
    pub(crate) multicast: Multicast,
    /// Whether readers' RTP datagrams go out with UDP segmentation offload (`udp_gso.rs`).
    pub(crate) gso: std::sync::atomic::AtomicBool,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Hub {
    pub(crate) fn new(settings: Settings, rtsp_port: u16) -> Arc<Hub> {
        let started = Instant::now();
        let unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let clock = WallClock {
            base: started,
            base_ntp: weir_core::rtcp::ntp_from_unix(unix.as_secs(), unix.subsec_nanos()),
        };
        Arc::new(Hub {
            paths: Mutex::new(PathManager::new(settings.paths.clone())),
            settings,
            clock,
            started,
            next_id: AtomicU64::new(1),
            shutdown_tx: watch::channel(false).0,
            ondemand: Mutex::new(Default::default()),
            sources: Mutex::new(HashMap::new()),
            rtsp_port,
            hls: std::sync::OnceLock::new(),
            init_hooks: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown_tx.subscribe()
    }

    /// Starts the static sources the path entries ask for and stops the others.
    pub(crate) fn sync_sources(self: &Arc<Self>) {
        let wanted = lock(&self.paths).static_sources();
        let mut running = lock(&self.sources);
        running.retain(|path, (url, stop)| {
            let keep = wanted.iter().any(|(p, u)| p == path && u == url);
            if !keep {
                stop.send_replace(true);
            }
            keep
        });
        for (path, url) in wanted {
            if running.contains_key(&path) {
                continue;
            }
            let Some(parsed) = weir_core::rtsp::client::SourceUrl::parse(&url) else {
                continue;
            };
            let (stop_tx, stop_rx) = watch::channel(false);
            tokio::spawn(crate::source::run(
                self.clone(),
                path.clone(),
                parsed,
                stop_rx,
            ));
            running.insert(path, (url, stop_tx));
        }
    }

    /// Hot reload of the path entries (see `Control::reload_paths`).
    pub(crate) fn reload_paths(self: &Arc<Self>, confs: Vec<weir_core::media::PathConf>) {
        let changed = lock(&self.paths).reload(confs);
        for path in changed {
            // A static source of a changed path restarts with the new entry.
            if let Some((_, stop)) = lock(&self.sources).remove(&path) {
                stop.send_replace(true);
            }
            let stream = lock(&self.paths).describe(&path).ok();
            if let Some(s) = stream {
                tracing::info!("[path {path}] closed: its configuration changed");
                lock(&self.paths).unpublish(&s.path, s.publisher_id);
                s.close();
            }
        }
        self.sync_sources();
    }

    pub(crate) fn shutdown(&self) {
        lock(&self.init_hooks).clear();
        self.shutdown_tx.send_replace(true);
    }
}

impl RtspHub {
    pub(crate) fn new(
        mut settings: RtspSettings,
        rtsp_ip: std::net::IpAddr,
        rtp_socket: UdpSocket,
        rtcp_socket: UdpSocket,
    ) -> std::io::Result<Arc<RtspHub>> {
        settings.core.server_rtp_port = rtp_socket.local_addr()?.port();
        settings.core.server_rtcp_port = rtcp_socket.local_addr()?.port();
        let multicast = Multicast::new(&settings, rtsp_ip)?;
        Ok(Arc::new(RtspHub {
            core: Arc::new(settings.core),
            rtp_socket: Arc::new(rtp_socket),
            rtcp_socket: Arc::new(rtcp_socket),
            routes: Mutex::new(HashMap::new()),
            multicast,
            gso: std::sync::atomic::AtomicBool::new(crate::udp_gso::probe()),
        }))
    }
}
