//! The RTMP server connection state machine.
//!
//! One [`RtmpServerConnection`] per TCP connection, driven as every machine of this crate (see
//! the crate docs): feed bytes with `handle_input`, drain `poll_transmit` and `poll_event`, arm
//! `poll_timeout`. It runs the handshake, the chunk stream and the control messages by itself
//! (acknowledgements per the peer's window, ping answers, chunk size changes), answers the
//! connection-level commands (`connect`, `createStream`, `releaseStream`, `FCPublish`…), and asks
//! the adapter the questions only shared state can answer: [`RtmpEvent::Publish`] and
//! [`RtmpEvent::Play`], answered with [`RtmpServerConnection::answer_publish`] and
//! [`RtmpServerConnection::answer_play`]. While a question is pending no further input is
//! consumed.
//!
//! A publisher's audio and video message bodies come out as [`RtmpEvent::Media`] (FLV tag
//! bodies, untouched) and its `@setDataFrame`/`onMetaData` as [`RtmpEvent::Metadata`]. A
//! player's media goes in with [`RtmpServerConnection::write_media`].
//!
//! Path naming follows MediaMTX: `rtmp://host/app/stream?query` arrives as `connect` with app
//! `app` and `publish`/`play` of `stream?query`; the path is `app/stream` (app may itself hold
//! slashes, leading and trailing slashes are dropped) and the query comes from the stream name,
//! else from the app, else from tcUrl.
//!
//! Logging (MediaMTX's lines): `[RTMP] [conn <peer>] opened` and `… closed: <reason>` are
//! written here. The "is publishing to path 'x', 2 tracks (H264, MPEG-4 Audio)" and "is reading
//! from path 'x', …" lines need the track list, which only the FLV conversion knows: the adapter
//! writes them with [`RtmpServerConnection::log_publishing`] and
//! [`RtmpServerConnection::log_reading`] once it knows the tracks.

mod commands;
mod conn;
pub mod direct;
mod play;
mod publish;
mod url;

pub use conn::RtmpServerConnection;
pub use direct::{DirectMessage, Gather, Segment};
pub use play::{tracks_text, RtmpPlayer};
pub(crate) use publish::meta_value;
pub use publish::RtmpPublisher;
pub use url::stream_target;

use super::amf0::Amf0Value;
use bytes::Bytes;
use std::time::Duration;

/// Settings of the RTMP server shared by every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtmpServerConfig {
    /// `readTimeout`: a connection in the handshake, idle, or publishing that sends nothing for
    /// this long is closed. Players are never closed for not sending.
    pub read_timeout: Duration,
    /// weir's outgoing chunk size, announced with Set Chunk Size after `connect`.
    pub chunk_size: u32,
    /// The Window Acknowledgement Size announced to the client.
    pub window_ack_size: u32,
    /// The Set Peer Bandwidth size announced to the client.
    pub peer_bandwidth: u32,
}

impl Default for RtmpServerConfig {
    fn default() -> Self {
        RtmpServerConfig {
            read_timeout: Duration::from_secs(10),
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            peer_bandwidth: 2_500_000,
        }
    }
}

/// The kind of a media message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// Audio (message type 8).
    Audio,
    /// Video (message type 9).
    Video,
    /// Data (message type 18, AMF0).
    Data,
}

impl MediaKind {
    /// The message type id.
    pub fn type_id(self) -> u8 {
        match self {
            MediaKind::Audio => super::message::type_id::AUDIO,
            MediaKind::Video => super::message::type_id::VIDEO,
            MediaKind::Data => super::message::type_id::DATA_AMF0,
        }
    }
}

/// What the connection tells the adapter.
#[derive(Debug, Clone, PartialEq)]
pub enum RtmpEvent {
    /// Question: may this connection publish to `path`? Answer with
    /// [`RtmpServerConnection::answer_publish`].
    Publish {
        /// The path (`app/stream`).
        path: String,
        /// The query string.
        query: String,
    },
    /// Question: may this connection read `path`? Answer with
    /// [`RtmpServerConnection::answer_play`].
    Play {
        /// The path (`app/stream`).
        path: String,
        /// The query string.
        query: String,
    },
    /// A publisher's audio or video message: the FLV tag body and its timestamp (ms, extended
    /// to 64 bits across the 32-bit wrap).
    Media {
        /// Audio or video.
        kind: MediaKind,
        /// Timestamp (ms).
        timestamp_ms: i64,
        /// The message body (a zero-copy slice of the reassembled message).
        body: Bytes,
    },
    /// A publisher's `@setDataFrame`/`onMetaData`: the object or ECMA array as (key, value)
    /// pairs.
    Metadata(Vec<(String, Amf0Value)>),
    /// The publishing or playing ended (deleteStream, FCUnpublish, closeStream) but the
    /// connection lives on.
    StreamClosed,
    /// The adapter must send what is pending and close the connection (and release whatever
    /// the connection held: a published path, a reader slot).
    Close {
        /// Why.
        reason: String,
    },
}

/// C0, C1 (simple) and C2: bytes that get a connection past the handshake.
#[cfg(test)]
pub(crate) fn test_support_handshake() -> Vec<u8> {
    let mut v = test_client::TestClient::c0c1(false);
    v.extend([0u8; 1536]);
    v
}

#[cfg(test)]
pub(crate) mod capture_tests;
#[cfg(test)]
mod direct_tests;
#[cfg(test)]
mod misuse_tests;
#[cfg(test)]
mod play_direct_tests;
#[cfg(test)]
mod test_client;
#[cfg(test)]
mod tests;
