//! weir-core: the sans-IO heart of the weir media server.
//!
//! Everything that is *decided* lives here; everything that *happens* (sockets, timers, threads)
//! lives in the adapters (`weir-tokio`, `weir-mio`). Nothing in this crate performs I/O, reads a
//! clock or spawns anything: time comes in as an [`std::time::Instant`] argument and randomness
//! (session ids, nonces) comes in from the caller.
//!
//! # The driving rule
//!
//! Every state machine in this crate has the same shape:
//!
//! 1. feed input with a `handle_*` method (`handle_input(now, bytes)`, `handle_timeout(now)`, or an
//!    answer to a question the machine asked);
//! 2. **after every input, drain the outputs until they are empty**: `poll_transmit` (bytes to
//!    send, written into a buffer the caller owns), `poll_event` (things the adapter must act on:
//!    a publish or read request, media that arrived, a close);
//! 3. ask `poll_timeout` when the machine next needs `handle_timeout`, and arm a timer for it.
//!
//! A caller that follows this rule never misses an output and never needs to guess when to call.
//!
//! # Module map
//!
//! - [`arena`]: shared byte buffers carved from recycled chunks (no allocation when warm).
//! - [`rtsp`]: RTSP 1.0 wire messages (incremental parser, writer), typed headers, and the server
//!   connection state machine.
//! - [`sdp`]: a lenient SDP parser (as real cameras write it) and a writer.
//! - [`rtp`], [`rtcp`]: RTP packets and RTCP packets (SR, RR, SDES, BYE, compound).
//! - [`codec`]: one module per codec: RTP depacketizers and DTS derivation.
//! - [`flv`]: FLV tag bodies (RTMP audio/video messages, Enhanced RTMP included) to and from the
//!   media model: the publisher-side demuxer and the reader-side muxer.
//! - [`rtmp`]: RTMP: handshake, chunk stream, AMF0/AMF3, control messages and commands, and the
//!   server connection state machine.
//! - [`fmp4`]: the fragmented MP4 / CMAF muxer (init segment, `moof` + `mdat` fragments as
//!   zero-copy chunks) for HLS.
//! - [`hls`]: the HLS muxer of a path (MPEG-TS, fMP4 and Low-Latency variants): segmenter,
//!   playlists, blocking playlist reload and preload hints, held requests.
//! - [`http`]: a protocol-generic HTTP/1.1 server connection state machine (pipelining, held
//!   answers for LL-HLS blocking reloads, CORS) serving HLS, later the Control API and metrics.
//! - [`mpegts`]: the MPEG-TS muxer (PAT/PMT, PES, PCR, ADTS) for HLS segments.
//! - [`pull`]: pulling a path's stream from another server (RTSP or RTMP client machines).
//! - [`hooks`]: `runOn…` commands: their settings, environment and the runner interface.
//! - [`settings`]: what the runtime adapters need from the configuration.
//! - [`media`]: the media model: tracks, units, the per-path stream with its fan-out ring, and the
//!   path registry.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod arena;
pub mod codec;
pub mod error;
pub mod flv;
pub mod fmp4;
pub mod hls;
pub mod hooks;
pub mod http;
pub mod media;
pub mod mpegts;
pub mod pull;
pub mod rtcp;
pub mod rtmp;
pub mod rtp;
pub mod rtsp;
pub mod sdp;
pub mod settings;
