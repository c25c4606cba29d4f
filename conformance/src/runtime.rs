//! weir started in-process on ephemeral 127.0.0.1 ports, on either runtime: the tokio
//! adapter on its own multi-threaded tokio runtime, or the mio loop on its own thread. Each
//! replay gets a fresh server; dropping the [`Weir`] shuts it down and joins its thread.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use weir_core::hls::{HlsConfig, HlsVariant};
use weir_core::media::PathConf;
use weir_core::rtsp::server::ServerConfig;
use weir_core::settings::{HlsSettings, RtmpSettings, RtspSettings, Settings};

/// The runtime adapter weir runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Runtime {
    /// `weir-tokio`: a task per connection on a tokio runtime.
    Tokio,
    /// `weir-mio`: one explicit mio event loop.
    Mio,
}

impl Runtime {
    /// Both runtimes, tokio first.
    pub const ALL: [Runtime; 2] = [Runtime::Tokio, Runtime::Mio];

    /// The lower-case name (`tokio`, `mio`).
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Tokio => "tokio",
            Runtime::Mio => "mio",
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Runtime {
    type Err = String;

    fn from_str(s: &str) -> Result<Runtime, String> {
        match s {
            "tokio" => Ok(Runtime::Tokio),
            "mio" => Ok(Runtime::Mio),
            other => Err(format!("unknown runtime `{other}` (tokio or mio)")),
        }
    }
}

/// The addresses a started weir listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addresses {
    /// RTSP (TCP).
    pub rtsp: SocketAddr,
    /// The server's RTP port (UDP).
    pub rtp: SocketAddr,
    /// The server's RTCP port (UDP).
    pub rtcp: SocketAddr,
    /// RTMP (TCP).
    pub rtmp: SocketAddr,
    /// HLS (HTTP).
    pub hls: SocketAddr,
}

/// The settings of a replay server: RTSP (UDP and TCP, no multicast), RTMP and HLS on
/// 127.0.0.1 port 0, every path publishable; otherwise MediaMTX's defaults (HLS muxers start
/// at the first request, low-latency variant).
pub fn settings() -> Settings {
    let local = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    let mut core = ServerConfig::default();
    core.transports.multicast = false;
    Settings {
        paths: vec![PathConf::all_others()],
        write_timeout: Duration::from_secs(10),
        write_queue_size: 2048,
        rtsp: Some(RtspSettings {
            rtsp_address: local(0),
            rtp_address: local(0),
            rtcp_address: local(0),
            multicast_range: ("224.1.0.0".parse().expect("an IPv4 address"), 16),
            multicast_rtp_port: 0,
            multicast_rtcp_port: 0,
            core,
        }),
        rtmp: Some(RtmpSettings {
            address: local(0),
            read_timeout: Duration::from_secs(10),
        }),
        hls: Some(HlsSettings {
            address: local(0),
            allow_origins: vec!["*".into()],
            always_remux: false,
            muxer: HlsConfig {
                variant: HlsVariant::LowLatency,
                ..HlsConfig::default()
            },
            muxer_close_after: Duration::from_secs(60),
            read_timeout: Duration::from_secs(10),
        }),
        // No `runOn…` commands: a replay runs nothing.
        hooks: None,
        run_on_connect: String::new(),
        run_on_connect_restart: false,
        run_on_disconnect: String::new(),
        tls_roots: Default::default(),
    }
}

/// How the server is stopped.
enum Stop {
    Tokio(tokio::sync::oneshot::Sender<()>),
    Mio(weir_mio::ShutdownHandle),
}

/// A weir serving on its own thread until dropped.
pub struct Weir {
    runtime: Runtime,
    addresses: Addresses,
    stop: Option<Stop>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl Weir {
    /// Starts weir on `runtime` with [`settings`].
    pub fn start(runtime: Runtime) -> io::Result<Weir> {
        Weir::start_with(runtime, settings())
    }

    /// Starts weir on `runtime` with the given settings (RTSP, RTMP and HLS must be enabled).
    pub fn start_with(runtime: Runtime, settings: Settings) -> io::Result<Weir> {
        match runtime {
            Runtime::Tokio => start_tokio(settings),
            Runtime::Mio => start_mio(settings),
        }
    }

    /// The runtime it runs on.
    pub fn runtime(&self) -> Runtime {
        self.runtime
    }

    /// Where it listens.
    pub fn addresses(&self) -> Addresses {
        self.addresses
    }

    /// Shuts it down and waits for its thread; the error the server returned, if any.
    pub fn stop(mut self) -> io::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> io::Result<()> {
        match self.stop.take() {
            Some(Stop::Tokio(tx)) => {
                let _ = tx.send(());
            }
            Some(Stop::Mio(handle)) => handle.shutdown(),
            None => {}
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| io::Error::other("the weir thread panicked"))?,
            None => Ok(()),
        }
    }
}

impl Drop for Weir {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn missing(what: &str) -> io::Error {
    io::Error::other(format!("the replay server needs {what} enabled"))
}

/// The addresses from either adapter's bound addresses.
fn addresses(
    rtsp: Option<SocketAddr>,
    rtp: Option<SocketAddr>,
    rtcp: Option<SocketAddr>,
    rtmp: Option<SocketAddr>,
    hls: Option<SocketAddr>,
) -> io::Result<Addresses> {
    Ok(Addresses {
        rtsp: rtsp.ok_or_else(|| missing("RTSP"))?,
        rtp: rtp.ok_or_else(|| missing("RTSP"))?,
        rtcp: rtcp.ok_or_else(|| missing("RTSP"))?,
        rtmp: rtmp.ok_or_else(|| missing("RTMP"))?,
        hls: hls.ok_or_else(|| missing("HLS"))?,
    })
}

fn start_tokio(settings: Settings) -> io::Result<Weir> {
    let (bound_tx, bound_rx) = mpsc::channel::<io::Result<Addresses>>();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("weir-tokio".into())
        .spawn(move || -> io::Result<()> {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let server = match weir_tokio::Server::bind(settings).await {
                    Ok(server) => server,
                    Err(e) => {
                        let _ = bound_tx.send(Err(io::Error::new(e.kind(), e.to_string())));
                        return Err(e);
                    }
                };
                let b = server.bound();
                let _ = bound_tx.send(addresses(b.rtsp, b.rtp, b.rtcp, b.rtmp, b.hls));
                server
                    .run(async move {
                        let _ = stop_rx.await;
                    })
                    .await
            })
        })?;
    let addresses = bound_rx
        .recv_timeout(Duration::from_secs(10))
        .map_err(|_| io::Error::other("weir-tokio did not bind within 10 s"))??;
    Ok(Weir {
        runtime: Runtime::Tokio,
        addresses,
        stop: Some(Stop::Tokio(stop_tx)),
        thread: Some(thread),
    })
}

fn start_mio(settings: Settings) -> io::Result<Weir> {
    let server = weir_mio::Server::bind(settings)?;
    let b = server.bound();
    let addresses = addresses(b.rtsp, b.rtp, b.rtcp, b.rtmp, b.hls)?;
    let handle = server.shutdown_handle();
    let thread = std::thread::Builder::new()
        .name("weir-mio".into())
        .spawn(move || server.run())?;
    Ok(Weir {
        runtime: Runtime::Mio,
        addresses,
        stop: Some(Stop::Mio(handle)),
        thread: Some(thread),
    })
}
