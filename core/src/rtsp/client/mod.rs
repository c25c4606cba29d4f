//! The RTSP client connection state machine: reading a stream from another server (a path's
//! `source: rtsp://…`), over TCP with interleaved RTP.
//!
//! Driven like every machine of this crate: [`ClientConnection::new`] queues the first
//! request; feed the server's bytes with `handle_input`, drain `poll_transmit` and
//! `poll_event`, arm `poll_timeout`. The exchange is OPTIONS → DESCRIBE → SETUP (one per track,
//! interleaved channels 2n/2n+1) → PLAY; then [`ClientEvent::Ready`] carries the stream's
//! description and media comes out as [`ClientEvent::Rtp`]. While playing, an OPTIONS
//! keep-alive goes out every half session timeout, and a server silent for `read_timeout`
//! closes the connection. A URL with credentials (`rtsp://user:pass@host/…`) answers the
//! server's 401 challenge, Digest (preferred) or Basic.

#[cfg(test)]
mod auth_tests;
mod conn;
#[cfg(test)]
mod tests;

pub use crate::pull::{ClientEvent, SourceUrl};
pub use conn::{ClientConfig, ClientConnection};
