//! RTMP (Adobe's Real-Time Messaging Protocol, the 2012 specification) as spoken by OBS,
//! ffmpeg, Flash-era players and hardware encoders: the wire and the server connection.
//!
//! - [`handshake`]: the server side of the handshake, simple and digest (FP9) variants.
//! - [`chunk`]: the chunk stream: header formats 0–3, reassembly with limits, and splitting.
//! - [`message`], [`user_control`]: message type ids and the protocol control messages.
//! - [`amf0`], [`amf3`]: the value encodings of commands and data messages.
//! - [`command`]: command messages (name, transaction id, object, arguments).
//! - [`server`]: the server connection state machine ([`server::RtmpServerConnection`]).
//! - [`client`]: the client connection state machine that plays a stream from another server.
//!
//! Converting FLV audio/video tag bodies to and from weir's media units is not done here: the
//! server connection hands out and takes the message bodies as they are.

pub mod amf0;
pub mod amf3;
pub mod chunk;
pub mod client;
pub mod command;
pub mod handshake;
pub mod message;
pub mod server;
pub mod user_control;

pub use amf0::Amf0Value;
pub use amf3::Amf3Value;
pub use server::{MediaKind, RtmpEvent, RtmpServerConfig, RtmpServerConnection};

#[cfg(test)]
mod proptests;
