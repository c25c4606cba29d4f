//! What the runtime adapters need to know from the configuration (the server binary fills it
//! from `mediamtx.yml`; both adapters read the same settings).

use crate::media::PathConf;
use crate::rtsp::server::ServerConfig;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

/// Settings shared by every protocol.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The path entries, in configuration order.
    pub paths: Vec<PathConf>,
    /// `writeTimeout`.
    pub write_timeout: Duration,
    /// `writeQueueSize`: the ring capacity of each stream, in units.
    pub write_queue_size: usize,
    /// The RTSP server (`rtsp: yes`), if enabled.
    pub rtsp: Option<RtspSettings>,
    /// The RTMP server (`rtmp: yes`), if enabled.
    pub rtmp: Option<RtmpSettings>,
    /// The HLS server (`hls: yes`), if enabled.
    pub hls: Option<HlsSettings>,
    /// Runs the `runOn…` commands (none: hooks are not run).
    pub hooks: crate::hooks::Hooks,
    /// `runOnConnect`.
    pub run_on_connect: String,
    /// `runOnConnectRestart`.
    pub run_on_connect_restart: bool,
    /// `runOnDisconnect`.
    pub run_on_disconnect: String,
    /// The trusted roots of `rtsps://` / `rtmps://` sources without `sourceFingerprint`.
    pub tls_roots: crate::pull::TrustRoots,
}

/// Settings of the HLS server.
#[derive(Debug, Clone)]
pub struct HlsSettings {
    /// `hlsAddress`.
    pub address: SocketAddr,
    /// `hlsAllowOrigins`.
    pub allow_origins: Vec<String>,
    /// `hlsAlwaysRemux`: start a path's muxer when the path gets a publisher, not on the
    /// first request.
    pub always_remux: bool,
    /// `hlsVariant`, `hlsSegmentCount`, `hlsSegmentDuration`, `hlsPartDuration`,
    /// `hlsSegmentMaxSize`.
    pub muxer: crate::hls::HlsConfig,
    /// `hlsMuxerCloseAfter`: a muxer nobody requested anything from for this long closes.
    pub muxer_close_after: Duration,
    /// `readTimeout`.
    pub read_timeout: Duration,
}

/// Settings of the RTSP server.
#[derive(Debug, Clone)]
pub struct RtspSettings {
    /// `rtspAddress`.
    pub rtsp_address: SocketAddr,
    /// `rtpAddress`.
    pub rtp_address: SocketAddr,
    /// `rtcpAddress`.
    pub rtcp_address: SocketAddr,
    /// `multicastIPRange`: first address and prefix length.
    pub multicast_range: (Ipv4Addr, u8),
    /// `multicastRTPPort`.
    pub multicast_rtp_port: u16,
    /// `multicastRTCPPort`.
    pub multicast_rtcp_port: u16,
    /// The core's connection settings.
    pub core: ServerConfig,
}

/// Settings of the RTMP server.
#[derive(Debug, Clone)]
pub struct RtmpSettings {
    /// `rtmpAddress`.
    pub address: SocketAddr,
    /// `readTimeout`.
    pub read_timeout: Duration,
}
