//! The RTMP client connection state machine: reading a stream from another server (a path's
//! `source: rtmp://…`).
//!
//! Driven like every machine of this crate: [`RtmpClientConnection::new`] queues C0+C1; feed
//! the server's bytes with `handle_input`, drain `poll_transmit` and `poll_event`, arm
//! `poll_timeout`. The exchange: the simple handshake (C2 echoes S1), `connect` with the URL's
//! application, `createStream`, `play` of the stream name with a Set Buffer Length; then the
//! server's audio, video and `onMetaData` messages go through the FLV demuxer, which says when
//! the tracks are known ([`ClientEvent::Ready`]) and cuts access units ([`ClientEvent::Unit`]).
//! The connection acknowledges per the server's window, answers pings, follows chunk size
//! changes, and gives up on a server silent for `read_timeout` or one that refuses or ends the
//! stream (`_error`, an `onStatus` of level `error`, `NetStream.Play.Stop`,
//! `NetStream.Play.UnpublishNotify`).
//!
//! [`ClientEvent::Ready`]: crate::pull::ClientEvent::Ready
//! [`ClientEvent::Unit`]: crate::pull::ClientEvent::Unit

mod conn;
#[cfg(test)]
mod tests;

pub use conn::RtmpClientConnection;
