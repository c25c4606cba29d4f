//! HLS for the e2e harness: weir's HLS config and port, a tiny blocking HTTP/1.1 client over
//! `std::net::TcpStream` (keep-alive, `Content-Length` bodies, raw bytes for bad requests),
//! playlist parsers that keep every tag a test checks, ffprobe of downloaded segments with
//! times in seconds, a background HLS reader that polls a path's playlist and downloads every
//! new segment ([`HlsPoller`]), and headless Chromium playing weir's player page
//! ([`play_in_chromium`], a Node script under `tests/browser/`).
//!
//! Names of media playlists, segments, parts and init segments are never guessed: they are
//! read from the playlists and resolved against the playlist's own URL ([`resolve`]).
//!
//! Also [`publish_rtsp`]: weir with HLS and ffmpeg publishing the H264+AAC fixture over RTSP,
//! shared by the HLS e2e files (`hls_e2e.rs`, `hls_clients.rs`).

mod browser;
mod http_client;
mod playlist;
mod poller;
mod probe;

pub use browser::*;
pub use http_client::*;
pub use playlist::*;
pub use poller::*;
pub use probe::*;

use std::time::Duration;

use super::media::{ffmpeg_publish, Fixture};
use super::process::ChildGuard;
use super::weir::{rtsp_config, Weir};

// ---- weir with HLS ----

/// [`rtsp_config`] with RTMP and HLS on (every listener on 127.0.0.1, ephemeral ports:
/// `rtsp_config` already sets `hlsAddress: 127.0.0.1:0`); `extra` is appended at top level,
/// e.g. `"hlsVariant: mpegts\n"`.
pub fn hls_config(extra: &str) -> String {
    rtsp_config(&format!("rtmp: yes\nhls: yes\n{extra}"))
}

/// [`hls_config`] with `hlsVariant: <variant>` (`mpegts`, `fmp4`, `lowLatency`).
pub fn hls_variant_config(variant: &str, extra: &str) -> String {
    hls_config(&format!("hlsVariant: {variant}\n{extra}"))
}

/// Starts weir and waits for its RTSP, RTMP and HLS listener lines.
pub fn start_weir_hls(config_yaml: &str) -> Weir {
    Weir::start_with(config_yaml, None, &["RTSP", "RTMP", "HLS"])
}

/// HLS accessors for [`Weir`] (a trait so `weir.rs` stays as it is).
pub trait WeirHls {
    /// The HLS listener's port (`[HLS] listener opened on 127.0.0.1:PORT`, with or without a
    /// `(TCP)` suffix); panics if weir logged none.
    fn hls_port(&self) -> u16;
    /// `http://127.0.0.1:<hls port>/<path>/index.m3u8`: the multivariant playlist.
    fn hls_url(&self, path: &str) -> String;
    /// `http://127.0.0.1:<hls port>/<path>/`: the player page.
    fn hls_page_url(&self, path: &str) -> String;
    /// A fresh keep-alive connection to the HLS listener.
    fn hls_client(&self) -> HttpClient;
}

impl WeirHls for Weir {
    fn hls_port(&self) -> u16 {
        self.listeners()
            .iter()
            .find(|l| l.proto == "HLS" && (l.kind.is_empty() || l.kind == "TCP"))
            .unwrap_or_else(|| panic!("no HLS listener in {:?}", self.listeners()))
            .port
    }

    fn hls_url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}{}",
            self.hls_port(),
            multivariant_target(path)
        )
    }

    fn hls_page_url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}/",
            self.hls_port(),
            path.trim_matches('/')
        )
    }

    fn hls_client(&self) -> HttpClient {
        HttpClient::connect(self.hls_port())
    }
}

/// `/<path>/index.m3u8`, the request target of a path's multivariant playlist (the one name
/// the contract fixes).
pub fn multivariant_target(path: &str) -> String {
    format!("/{}/index.m3u8", path.trim_matches('/'))
}

/// The `[HLS] [muxer <path>] created` log tag.
pub fn muxer_created_tag(path: &str) -> String {
    format!("[HLS] [muxer {path}] created")
}

// ---- an RTSP publisher on weir with HLS ----

/// How long a publisher may take until weir logs it as publishing.
pub const PUBLISH_TIMEOUT: Duration = Duration::from_secs(20);
/// The path the single-publisher tests use.
pub const PATH: &str = "live/cam";

/// Weir with HLS in `variant` (plus `extra` config), ffmpeg publishing [`Fixture::H264Aac`]
/// over RTSP (TCP) to `path`. Fields drop in order: the publisher goes before weir.
pub struct Published {
    _publisher: ChildGuard,
    /// The server under test.
    pub weir: Weir,
}

/// Starts weir with HLS in `variant` (plus `extra` config) and ffmpeg publishing
/// [`Fixture::H264Aac`] over RTSP (TCP) to `path`, and waits until weir logs it publishing.
pub fn publish_rtsp(variant: &str, extra: &str, path: &str) -> Published {
    let weir = start_weir_hls(&hls_variant_config(variant, extra));
    let publisher = ffmpeg_publish(&Fixture::H264Aac.path(), &weir.url(path), "tcp");
    weir.wait_for_log(
        &format!("is publishing to path '{path}', with TCP, 2 tracks (H264, MPEG-4 Audio)"),
        PUBLISH_TIMEOUT,
    );
    Published {
        _publisher: publisher,
        weir,
    }
}
