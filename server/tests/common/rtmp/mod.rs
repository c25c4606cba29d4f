//! A minimal raw RTMP client for the RTMP tests: the simple handshake, a chunk writer
//! (format 0 headers, format 3 continuations), a chunk reader (all four header formats,
//! extended timestamps, Set Chunk Size, Abort, acknowledgements, ping), AMF0 values, the
//! commands of a publisher and a player, FLV video tag parsing (legacy AVC and Enhanced
//! RTMP `avc1`/`hvc1`) and an AVCC/HVCC → Annex-B converter so what a raw player received
//! can be decoded by ffmpeg. Also [`RtmpPlayer`], a background raw reader that counts
//! tags and records timestamp gaps (the RTMP analogue of [`super::RawReader`]), and
//! [`rtmp_config`] / [`WeirRtmp`] to run weir with its RTMP listener on loopback.
//!
//! Everything connects to 127.0.0.1 only.

mod amf0;
mod chunk;
mod client;
mod flv;
mod player;

pub use amf0::*;
pub use chunk::*;
pub use client::*;
pub use flv::*;
pub use player::*;

use std::time::Duration;

use super::weir::{rtsp_config, Weir};

/// Default time to wait for one answer from the server.
pub const RTMP_TIMEOUT: Duration = Duration::from_secs(5);

/// The size of C1/C2/S1/S2 (§5.2.3).
pub const HANDSHAKE_SIZE: usize = 1536;

/// The chunk size both directions start with (§5.4.1).
pub const DEFAULT_CHUNK_SIZE: usize = 128;

/// Message type ids (§5.4, §7.1).
pub mod msg_type {
    /// Set Chunk Size.
    pub const SET_CHUNK_SIZE: u8 = 1;
    /// Abort Message.
    pub const ABORT: u8 = 2;
    /// Acknowledgement.
    pub const ACK: u8 = 3;
    /// User Control Message.
    pub const USER_CONTROL: u8 = 4;
    /// Window Acknowledgement Size.
    pub const WINDOW_ACK_SIZE: u8 = 5;
    /// Set Peer Bandwidth.
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    /// Audio (an FLV audio tag body).
    pub const AUDIO: u8 = 8;
    /// Video (an FLV video tag body).
    pub const VIDEO: u8 = 9;
    /// Data message, AMF3.
    pub const DATA_AMF3: u8 = 15;
    /// Command message, AMF3.
    pub const COMMAND_AMF3: u8 = 17;
    /// Data message, AMF0 (`@setDataFrame`, `onMetaData`).
    pub const DATA_AMF0: u8 = 18;
    /// Command message, AMF0 (`connect`, `_result`, `onStatus`, ...).
    pub const COMMAND_AMF0: u8 = 20;
}

/// The weir RTSP test config ([`rtsp_config`]) with RTMP on and bound to `127.0.0.1:0`.
pub fn rtmp_config(extra: &str) -> String {
    rtsp_config(&format!("rtmp: yes\n{extra}"))
}

/// Starts weir with `config_yaml` and waits for both its RTSP and its RTMP listener lines.
pub fn start_weir_rtmp(config_yaml: &str) -> Weir {
    Weir::start_with(config_yaml, None, &["RTSP", "RTMP"])
}

/// RTMP accessors for [`Weir`] (a trait so `weir.rs` stays as it is).
pub trait WeirRtmp {
    /// The RTMP listener's port (the `[RTMP] listener opened on A` line, with or without
    /// a `(TCP)` suffix); panics if weir logged none.
    fn rtmp_port(&self) -> u16;
    /// `rtmp://127.0.0.1:<rtmp port>/<path>`.
    fn rtmp_url(&self, path: &str) -> String;
}

impl WeirRtmp for Weir {
    fn rtmp_port(&self) -> u16 {
        self.listeners()
            .iter()
            .find(|l| l.proto == "RTMP" && (l.kind.is_empty() || l.kind == "TCP"))
            .unwrap_or_else(|| panic!("no RTMP listener in {:?}", self.listeners()))
            .port
    }

    fn rtmp_url(&self, path: &str) -> String {
        format!(
            "rtmp://127.0.0.1:{}/{}",
            self.rtmp_port(),
            path.trim_start_matches('/')
        )
    }
}

/// Splits a weir path as MediaMTX maps RTMP URLs onto paths: `live/cam` is app `live`,
/// stream name `cam`; `live/cam?user=a` is app `live`, stream name `cam?user=a`;
/// `a/b/c` is app `a`, stream `b/c`; `cam` is app `cam`, stream name empty.
pub fn split_app_stream(path: &str) -> (String, String) {
    let path = path.trim_start_matches('/');
    match path.split_once('/') {
        Some((app, stream)) => (app.to_string(), stream.to_string()),
        None => (path.to_string(), String::new()),
    }
}

/// The `[RTMP] [conn ADDR]` address in a log line, e.g. `127.0.0.1:51234`.
pub fn log_conn_addr(line: &str) -> Option<String> {
    let start = line.find("[conn ")? + "[conn ".len();
    let len = line[start..].find(']')?;
    Some(line[start..start + len].to_string())
}
