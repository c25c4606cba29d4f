//! The RTSP client connection state machine: reading a stream from another server (a path's
//! `source: rtsp://…`), with RTP interleaved over TCP, over UDP or UDP multicast
//! (`rtspTransport`).
//!
//! Driven like every machine of this crate: [`ClientConnection::new`] queues the first
//! request; feed the server's bytes with `handle_input`, drain `poll_transmit` and
//! `poll_event`, arm `poll_timeout`. The exchange is OPTIONS → DESCRIBE → SETUP (one per track,
//! interleaved channels 2n/2n+1) → PLAY; then [`ClientEvent::Ready`] carries the stream's
//! description and media comes out as [`ClientEvent::Rtp`]. While playing, an OPTIONS
//! keep-alive goes out every half session timeout, and a server silent for `read_timeout`
//! closes the connection.
//!
//! Over UDP the adapter owns the sockets: [`ClientEvent::OpenUdp`] asks it to open a track's
//! (a free port pair before its SETUP, or the multicast group the SETUP answer named), it
//! answers with `handle_udp_open` and feeds each datagram to `handle_udp`. In automatic
//! mode a 461 to the first UDP SETUP retries it over TCP, and a stream with no UDP packet 3 s
//! after PLAY closes with `wants_tcp()` set: the adapter reconnects at once over TCP (as
//! MediaMTX does). A URL with credentials (`rtsp://user:pass@host/…`) answers the
//! server's 401 challenge, Digest (preferred) or Basic.

#[cfg(test)]
mod auth_tests;
mod conn;
#[cfg(test)]
mod tests;
mod udp;
#[cfg(test)]
mod udp_tests;

pub use crate::pull::{ClientEvent, SourceUrl};
pub use conn::{ClientConfig, ClientConnection};
pub use udp::{RtspTransport, UdpGroup};
