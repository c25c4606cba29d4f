//! The end-to-end harness shared by every e2e test file (`mod common;`).
//!
//! - [`process`]: [`require_tool`], [`serial`], [`ChildGuard`] (killed on drop),
//!   [`run_with_timeout`], [`TempDir`].
//! - [`weir`]: [`Weir`] (the server under test: config, ports from the log,
//!   `wait_for_log`), [`rtsp_config`], [`NetNs`] (multicast on loopback).
//! - [`media`]: [`Fixture`]s generated once into `target/test-fixtures/`,
//!   [`source_framemd5`], [`assert_contiguous_run`], ffmpeg/GStreamer publishers and
//!   readers, [`ffprobe_packets`].
//! - [`rtsp_client`]: [`RtspClient`] (raw requests, responses, `$` frames) and
//!   [`RawReader`] (counts RTP per channel, records sequence gaps).
//! - [`rtmp`]: [`RtmpClient`] (handshake, chunks, AMF0 commands), [`RtmpPlayer`]
//!   (counts FLV tags, records timestamp gaps, converts video to Annex-B),
//!   [`rtmp_config`] and [`WeirRtmp`] (`weir.rtmp_port()`, `weir.rtmp_url(path)`).
//! - [`hls`]: [`hls_config`] / [`start_weir_hls`] and [`WeirHls`] (`weir.hls_url(path)`),
//!   [`HttpClient`] (a tiny keep-alive HTTP/1.1 client, raw bytes too), playlist parsers
//!   ([`Multivariant`], [`MediaPlaylist`], [`resolve`]), [`probe_file_packets`] (ffprobe with
//!   times) and segment checks, [`HlsPoller`] (a background HLS reader), and
//!   [`play_in_chromium`] (headless Chromium playing the player page, `tests/browser/`).
//!
//! Nothing is skipped: a missing tool is a failure that says how to install it.
//! Every child process has a hard timeout; servers and tools are bound to 127.0.0.1.
#![allow(dead_code, unused_imports)]

pub mod hls;
pub mod media;
pub mod process;
pub mod rtmp;
pub mod rtsp_client;
pub mod weir;

pub use hls::*;
pub use media::*;
pub use process::*;
pub use rtmp::*;
pub use rtsp_client::*;
pub use weir::*;

use std::time::Duration;

/// Shorthand for `Duration::from_secs`.
pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}
