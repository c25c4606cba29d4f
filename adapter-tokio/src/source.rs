//! Paths that pull from another server (`source: rtsp(s)://…` or `rtmp(s)://…`): one task per path
//! driving the core's `PullClient`; its stream is published when PLAY is answered and withdrawn when
//! the connection ends; a failed or lost source is retried every 5 s.

use crate::hub::{lock, Hub};
use crate::ondemand::SourceState;
use crate::source_udp::SourceUdp;
use crate::stream::SharedStream;
use bytes::BytesMut;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use weir_core::pull::{ClientEvent, PullClient, SourceUrl};
use weir_core::rtmp::server::tracks_text;
use weir_core::rtsp::client::RtspTransport;

/// How long a failed source waits before the next attempt (as MediaMTX).
const RETRY: Duration = Duration::from_secs(5);

/// Pulls `url` into `path` until shutdown.
pub(crate) async fn run(
    hub: Arc<Hub>,
    path: String,
    url: SourceUrl,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut shutdown = hub.shutdown_signal();
    let kind = url.scheme.name();
    loop {
        tracing::info!("[path {path}] [{kind} source] started");
        let result = tokio::select! {
            r = pull_switching(&hub, &path, &url, None, Some(stop.clone())) => r,
            _ = shutdown.changed() => return,
        };
        if *stop.borrow() {
            return;
        }
        if let Err(why) = result {
            tracing::warn!("[path {path}] [{kind} source] ERR: {why}");
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = shutdown.changed() => return,
            _ = stop.changed() => return,
        }
    }
}

/// An on-demand source: one connection, until it fails or is stopped.
pub(crate) async fn run_on_demand(
    hub: Arc<Hub>,
    path: String,
    url: String,
    state: tokio::sync::watch::Sender<SourceState>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let parsed = SourceUrl::parse(&url);
    let kind = parsed.as_ref().map_or("RTSP", |u| u.scheme.name());
    tracing::info!("[path {path}] [{kind} source] started");
    let result = match parsed {
        Some(url) => pull_switching(&hub, &path, &url, Some(&state), Some(stop)).await,
        None => Err(format!("invalid source URL '{url}'")),
    };
    if let Err(why) = result {
        tracing::warn!("[path {path}] [{kind} source] ERR: {why}");
    }
    hub.source_ended(&path);
}

/// One connection, and a second one at once over TCP when `rtspTransport: automatic` got no
/// UDP packet on the first: returns why it ended.
async fn pull_switching(
    hub: &Arc<Hub>,
    path: &str,
    url: &SourceUrl,
    ready: Option<&tokio::sync::watch::Sender<SourceState>>,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Result<(), String> {
    let (result, wants_tcp) = pull(hub, path, url.clone(), ready, stop.clone(), false).await;
    if !wants_tcp {
        return result;
    }
    if let Err(why) = result {
        tracing::warn!("[path {path}] [RTSP source] {why}");
    }
    pull(hub, path, url.clone(), ready, stop, true).await.0
}

/// One connection (over TCP only with `force_tcp`): returns why it ended, and whether the
/// next should be over TCP.
async fn pull(
    hub: &Arc<Hub>,
    path: &str,
    url: SourceUrl,
    ready: Option<&tokio::sync::watch::Sender<SourceState>>,
    mut stop: Option<tokio::sync::watch::Receiver<bool>>,
    force_tcp: bool,
) -> (Result<(), String>, bool) {
    let mut sock = match TcpStream::connect((url.host.as_str(), url.port)).await {
        Ok(s) => s,
        Err(e) => return (Err(e.to_string()), false),
    };
    let _ = sock.set_nodelay(true);
    let (local_ip, server_ip) = match (sock.local_addr(), sock.peer_addr()) {
        (Ok(l), Ok(p)) => (l.ip(), p.ip()),
        (Err(e), _) | (_, Err(e)) => return (Err(e.to_string()), false),
    };
    let read_timeout = hub.settings.write_timeout.max(Duration::from_secs(10));
    let mut cfg = lock(&hub.paths).client_config(path, read_timeout, &hub.settings.tls_roots);
    if force_tcp {
        cfg.transport = RtspTransport::Tcp;
    }
    let (mut udp, mut datagrams) = SourceUdp::new();
    let url_text = url.url.clone();
    let (kind, source_type) = (url.scheme.name(), url.scheme.source_type());
    let mut core = PullClient::new(cfg, url, Instant::now(), crate::random_seed());
    let mut stream: Option<Arc<SharedStream>> = None;
    let mut inbuf = BytesMut::with_capacity(64 * 1024);
    let mut out = Vec::with_capacity(4096);
    let result = loop {
        let mut closed = None;
        while let Some(ev) = core.poll_event() {
            match ev {
                ClientEvent::Ready { description } => {
                    // An RTMP origin that changes codecs: the stream restarts (as MediaMTX).
                    if let Some(old) = stream.take() {
                        lock(&hub.paths).unpublish(&old.path, old.publisher_id);
                        old.close();
                    }
                    let id = hub.next_id();
                    let s = SharedStream::new(
                        path.to_owned(),
                        id,
                        description.clone(),
                        hub.settings.write_queue_size,
                        hub.clock,
                    );
                    let r = lock(&hub.paths).publish_source(path, id, s.clone());
                    match r {
                        Ok(outcome) => {
                            if let Some((_, old)) = outcome.replaced {
                                old.close();
                            }
                            tracing::info!(
                                "[path {path}] [{kind} source] ready: {}",
                                tracks_text(&description)
                            );
                            hub.stream_published(&s, source_type, &url_text, "");
                            stream = Some(s);
                        }
                        Err(e) => core.handle_close(&e.to_string()),
                    }
                }
                ClientEvent::Rtp { track, packet } => {
                    if let Some(s) = &stream {
                        s.push_rtp(Instant::now(), track, packet);
                    }
                }
                ClientEvent::Unit {
                    track,
                    pts,
                    dts,
                    key,
                    payload,
                } => {
                    if let Some(s) = &stream {
                        s.push_unit(Instant::now(), track, pts, dts, key, payload);
                    }
                }
                ClientEvent::OpenUdp { track, group } => {
                    let opened = udp.open(track, local_ip, group).map_err(|e| e.to_string());
                    core.handle_udp_open(track, opened, server_ip);
                }
                ClientEvent::Close { reason } => closed = Some(reason),
            }
        }
        if let Some(reason) = closed {
            break Err(reason);
        }
        if core.poll_transmit(&mut out) {
            let r = tokio::time::timeout(hub.settings.write_timeout, sock.write_all(&out)).await;
            out.clear();
            if !matches!(r, Ok(Ok(()))) {
                core.handle_close("write error or timeout");
                continue;
            }
        }
        let deadline = core.poll_timeout();
        tokio::select! {
            r = sock.read_buf(&mut inbuf) => match r {
                Ok(0) => core.handle_close("the server closed the connection"),
                Ok(_) => {
                    core.handle_input(Instant::now(), &mut inbuf);
                    if inbuf.capacity() - inbuf.len() < 4096 {
                        inbuf.reserve(64 * 1024);
                    }
                }
                Err(e) => core.handle_close(&e.to_string()),
            },
            Some((track, rtcp, from, bytes)) = datagrams.recv() => {
                core.handle_udp(Instant::now(), track, rtcp, from, bytes);
            }
            _ = crate::rtsp_conn::sleep_until_opt(deadline) => core.handle_timeout(Instant::now()),
            _ = crate::rtsp_conn::changed_opt(stop.as_mut()) => {
                core.handle_close(if ready.is_some() { "not needed by anyone" } else { "the path's configuration changed" });
                stop = None;
            }
        }
    };
    if let Some(s) = stream {
        lock(&hub.paths).unpublish(&s.path, s.publisher_id);
        s.close();
    }
    (result, core.wants_tcp())
}
