//! Pulling a stream from another server (a path's `source: rtsp://…` or `rtmp://…`): one
//! machine, [`PullClient`], over the protocol's client connection, with one event type for
//! both, so that the adapters hold no protocol logic.
//!
//! Driven like every machine of this crate: [`PullClient::new`] queues the first bytes; feed
//! the server's bytes with `handle_input`, drain `poll_transmit` and `poll_event`, arm
//! `poll_timeout`. [`ClientEvent::Ready`] says the stream can be published with its
//! description (again, with a new description, when an RTMP origin changes codecs); media
//! then comes out as [`ClientEvent::Rtp`] (RTSP: packets as the origin sent them) or
//! [`ClientEvent::Unit`] (RTMP: access units, packetized by the stream for RTSP readers).

mod url;

pub use url::{Scheme, SourceUrl};

use crate::media::StreamDescription;
use crate::rtmp::client::RtmpClientConnection;
use crate::rtp::RtpPacket;
use crate::rtsp::client::{ClientConfig, ClientConnection};
use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::Instant;

/// What a client connection tells the adapter.
#[derive(Debug, Clone)]
pub enum ClientEvent {
    /// Publish the stream with this description (replacing an earlier one of this source).
    Ready {
        /// The stream's tracks.
        description: Arc<StreamDescription>,
    },
    /// An RTP packet of a track (RTSP sources).
    Rtp {
        /// The track.
        track: usize,
        /// The packet.
        packet: RtpPacket,
    },
    /// An access unit of a track (RTMP sources).
    Unit {
        /// The track (index into the latest description).
        track: usize,
        /// Presentation timestamp in the track's clock.
        pts: i64,
        /// Decoding timestamp in the track's clock.
        dts: i64,
        /// Whether a decoder can start here.
        key: bool,
        /// The unit's payload (NAL units without prefixes, one audio frame…).
        payload: SmallVec<[Bytes; 4]>,
    },
    /// The connection is over (the adapter closes the socket).
    Close {
        /// Why, for the log.
        reason: String,
    },
}

/// One connection pulling a stream, RTSP or RTMP (see the module docs).
#[derive(Debug)]
pub enum PullClient {
    /// An RTSP client (TCP, interleaved).
    Rtsp(ClientConnection),
    /// An RTMP client (play).
    Rtmp(RtmpClientConnection),
}

impl PullClient {
    /// A connection to `url` opened at `now`; `random` feeds the RTMP handshake.
    pub fn new(cfg: ClientConfig, url: SourceUrl, now: Instant, random: u64) -> PullClient {
        match url.scheme {
            Scheme::Rtsp => PullClient::Rtsp(ClientConnection::new(cfg, url, now)),
            Scheme::Rtmp => PullClient::Rtmp(RtmpClientConnection::new(
                cfg.read_timeout,
                url,
                now,
                random,
            )),
        }
    }

    /// The URL read (credentials removed).
    pub fn url(&self) -> &str {
        match self {
            PullClient::Rtsp(c) => c.url(),
            PullClient::Rtmp(c) => c.url(),
        }
    }

    /// The protocol.
    pub fn scheme(&self) -> Scheme {
        match self {
            PullClient::Rtsp(_) => Scheme::Rtsp,
            PullClient::Rtmp(_) => Scheme::Rtmp,
        }
    }

    /// Feeds bytes from the server; consumed bytes are removed from `buf`.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        match self {
            PullClient::Rtsp(c) => c.handle_input(now, buf),
            PullClient::Rtmp(c) => c.handle_input(now, buf),
        }
    }

    /// Appends the bytes to send to `out`. Returns whether anything was appended.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> bool {
        match self {
            PullClient::Rtsp(c) => c.poll_transmit(out),
            PullClient::Rtmp(c) => c.poll_transmit(out),
        }
    }

    /// The next event for the adapter.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        match self {
            PullClient::Rtsp(c) => c.poll_event(),
            PullClient::Rtmp(c) => c.poll_event(),
        }
    }

    /// When [`PullClient::handle_timeout`] is next needed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self {
            PullClient::Rtsp(c) => c.poll_timeout(),
            PullClient::Rtmp(c) => c.poll_timeout(),
        }
    }

    /// Keep-alives and the silence timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self {
            PullClient::Rtsp(c) => c.handle_timeout(now),
            PullClient::Rtmp(c) => c.handle_timeout(now),
        }
    }

    /// The socket closed or failed.
    pub fn handle_close(&mut self, reason: &str) {
        match self {
            PullClient::Rtsp(c) => c.handle_close(reason),
            PullClient::Rtmp(c) => c.handle_close(reason),
        }
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        match self {
            PullClient::Rtsp(c) => c.is_closed(),
            PullClient::Rtmp(c) => c.is_closed(),
        }
    }
}
