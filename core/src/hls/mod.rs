//! HLS (RFC 8216, and its 2nd edition draft-pantos-hls-rfc8216bis for Low-Latency HLS): the
//! per-path muxer that turns a stream's units into segments, parts and playlists, and answers
//! the requests of HLS clients — MediaMTX's `hlsVariant` `mpegts`, `fmp4` and `lowLatency`.
//!
//! [`HlsMuxer`] is sans-IO like the rest of the crate: units come in with `push_unit` (with
//! the wall clock for EXT-X-PROGRAM-DATE-TIME), requests with `handle_request`; answers that
//! cannot be given at once (blocking playlist reloads, preload-hinted parts, playlists before
//! the first segment) are held and come out of `poll_released`; `poll_timeout` /
//! `handle_timeout` expire them. Segments and parts are kept as shared `Bytes` chunks, so
//! serving them copies nothing.
//!
//! One media playlist (`main_stream.m3u8`) carries every track, muxed, in all variants; the
//! multivariant playlist (`index.m3u8`) lists it once, with bandwidths measured on the
//! segments, codecs, resolution and frame rate.
//!
//! Files: `config` (settings), `tracks` and `params` (what is carried, parameter sets),
//! `segmenter` with `ts_writer` / `fmp4_writer` (cutting and writing), `segment` / `part`
//! (what is kept), `playlist` (text), `request` (file names, query directives), `blocking`
//! (held requests), `codecs` (RFC 6381 strings), `time` (clocks, dates), `muxer` (the
//! machine).

mod blocking;
mod codecs;
mod config;
mod fmp4_writer;
mod muxer;
pub mod page;
mod params;
mod part;
mod playlist;
mod request;
mod route;
mod segment;
mod segmenter;
mod time;
mod tracks;
mod ts_writer;

#[cfg(test)]
mod tests;

pub use config::{HlsConfig, HlsVariant, MAX_SEGMENT_COUNT, MIN_DURATION, MIN_SEGMENT_MAX_SIZE};
pub use muxer::{
    HlsMuxer, CACHE_CONTROL, CONTENT_TYPE_ERROR, CONTENT_TYPE_MP4, CONTENT_TYPE_PLAYLIST,
    CONTENT_TYPE_TS,
};
pub use request::{INIT_SEGMENT, MEDIA_PLAYLIST, MULTIVARIANT_PLAYLIST};
pub use route::{hls_response, route_request, HlsRoute};

use bytes::Bytes;

/// Why a muxer could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HlsError {
    /// The stream has no track HLS can carry (H.264, H.265, MPEG-4 audio with its config,
    /// Opus mono or stereo).
    NoTracks,
}

impl std::fmt::Display for HlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HlsError::NoTracks => f.write_str("the stream has no track HLS can carry"),
        }
    }
}

impl std::error::Error for HlsError {}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HlsAnswer {
    /// Answered at once.
    Now(HlsResponse),
    /// Held: the answer comes out of [`HlsMuxer::poll_released`] with the same token.
    Held,
}

/// An HTTP answer: status, headers, body chunks (shared, sent in order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlsResponse {
    /// The HTTP status (200, 400, 404, 503).
    pub status: u16,
    /// The Content-Type.
    pub content_type: &'static str,
    /// The body, as chunks to send in order.
    pub body: Vec<Bytes>,
    /// The Cache-Control.
    pub cache_control: &'static str,
}

impl HlsResponse {
    /// The body length.
    pub fn body_len(&self) -> usize {
        self.body.iter().map(Bytes::len).sum()
    }
}
