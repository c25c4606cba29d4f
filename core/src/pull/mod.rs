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

mod tls;
mod url;

pub use tls::{client_config, fingerprint, TrustRoots};
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
    /// Open the UDP sockets of an RTSP track (`rtspTransport` udp or multicast) and answer
    /// with [`PullClient::handle_udp_open`]: a free even/odd port pair bound on the address of
    /// the RTSP connection, or, with a group, its ports bound with the group joined.
    OpenUdp {
        /// The track.
        track: usize,
        /// The multicast group to join (`None`: unicast).
        group: Option<crate::rtsp::client::UdpGroup>,
    },
    /// The connection is over (the adapter closes the socket).
    Close {
        /// Why, for the log.
        reason: String,
    },
}

/// The protocol machine of a [`PullClient`].
#[derive(Debug)]
enum Proto {
    /// An RTSP client (TCP, interleaved).
    Rtsp(ClientConnection),
    /// An RTMP client (play).
    Rtmp(RtmpClientConnection),
}

/// One connection pulling a stream, RTSP or RTMP, over TLS for `rtsps://` and `rtmps://`
/// (see the module docs).
#[derive(Debug)]
pub struct PullClient {
    proto: Proto,
    /// The TLS session of an `rtsps://` / `rtmps://` source, with the plaintext received and
    /// not yet consumed by the protocol machine, and the plaintext to encrypt.
    tls: Option<(tls::TlsLayer, BytesMut, Vec<u8>)>,
}

impl PullClient {
    /// A connection to `url` opened at `now`; `random` feeds the RTMP handshake. A TLS URL
    /// is verified with `cfg.fingerprint` or else `cfg.roots`.
    pub fn new(cfg: ClientConfig, url: SourceUrl, now: Instant, random: u64) -> PullClient {
        let tls = url.tls.then(|| {
            let config = tls::client_config(&cfg.fingerprint, &cfg.roots);
            tls::TlsLayer::new(config, &url.host)
        });
        let proto = match url.scheme {
            Scheme::Rtsp => Proto::Rtsp(ClientConnection::new(cfg, url, now)),
            Scheme::Rtmp => Proto::Rtmp(RtmpClientConnection::new(
                cfg.read_timeout,
                url,
                now,
                random,
            )),
        };
        let mut client = PullClient { proto, tls: None };
        match tls {
            Some(Ok(layer)) => client.tls = Some((layer, BytesMut::new(), Vec::new())),
            Some(Err(why)) => client.handle_close(&why),
            None => {}
        }
        client
    }

    /// The URL read (credentials removed).
    pub fn url(&self) -> &str {
        match &self.proto {
            Proto::Rtsp(c) => c.url(),
            Proto::Rtmp(c) => c.url(),
        }
    }

    /// The protocol.
    pub fn scheme(&self) -> Scheme {
        match &self.proto {
            Proto::Rtsp(_) => Scheme::Rtsp,
            Proto::Rtmp(_) => Scheme::Rtmp,
        }
    }

    /// Feeds bytes from the server; consumed bytes are removed from `buf`.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        let Some((layer, plain, _)) = &mut self.tls else {
            return self.feed(now, buf);
        };
        let result = layer.handle_input(buf, plain);
        let mut plain = std::mem::take(plain);
        if !plain.is_empty() {
            self.feed(now, &mut plain);
        }
        if let Some((_, kept, _)) = &mut self.tls {
            *kept = plain;
        }
        if let Err(why) = result {
            buf.clear();
            self.handle_close(&why);
        }
    }

    /// Feeds plaintext to the protocol machine.
    fn feed(&mut self, now: Instant, buf: &mut BytesMut) {
        match &mut self.proto {
            Proto::Rtsp(c) => c.handle_input(now, buf),
            Proto::Rtmp(c) => c.handle_input(now, buf),
        }
    }

    /// Appends the bytes to send to `out`. Returns whether anything was appended.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) -> bool {
        let before = out.len();
        let Some((_, _, plain)) = &mut self.tls else {
            return self.transmit(out);
        };
        let mut plain = std::mem::take(plain);
        self.transmit(&mut plain);
        let Some((layer, _, kept)) = &mut self.tls else {
            return false;
        };
        let result = layer.write(&plain, out);
        plain.clear();
        *kept = plain;
        if let Err(why) = result {
            self.handle_close(&why);
        }
        out.len() > before
    }

    /// The protocol machine's plaintext to send.
    fn transmit(&mut self, out: &mut Vec<u8>) -> bool {
        match &mut self.proto {
            Proto::Rtsp(c) => c.poll_transmit(out),
            Proto::Rtmp(c) => c.poll_transmit(out),
        }
    }

    /// The next event for the adapter.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        match &mut self.proto {
            Proto::Rtsp(c) => c.poll_event(),
            Proto::Rtmp(c) => c.poll_event(),
        }
    }

    /// When [`PullClient::handle_timeout`] is next needed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.proto {
            Proto::Rtsp(c) => c.poll_timeout(),
            Proto::Rtmp(c) => c.poll_timeout(),
        }
    }

    /// Keep-alives and the silence timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.proto {
            Proto::Rtsp(c) => c.handle_timeout(now),
            Proto::Rtmp(c) => c.handle_timeout(now),
        }
    }

    /// The socket closed or failed.
    pub fn handle_close(&mut self, reason: &str) {
        match &mut self.proto {
            Proto::Rtsp(c) => c.handle_close(reason),
            Proto::Rtmp(c) => c.handle_close(reason),
        }
    }

    /// The UDP sockets asked for by [`ClientEvent::OpenUdp`] are open (the local RTP and
    /// RTCP ports), or could not be; `server` is the RTSP server's address.
    pub fn handle_udp_open(
        &mut self,
        track: usize,
        opened: Result<(u16, u16), String>,
        server: std::net::IpAddr,
    ) {
        if let Proto::Rtsp(c) = &mut self.proto {
            c.handle_udp_open(track, opened, server);
        }
    }

    /// A datagram received on a track's RTP (`rtcp == false`) or RTCP socket.
    pub fn handle_udp(
        &mut self,
        now: Instant,
        track: usize,
        rtcp: bool,
        from: std::net::SocketAddr,
        bytes: Bytes,
    ) {
        if let Proto::Rtsp(c) = &mut self.proto {
            c.handle_udp(now, track, rtcp, from, bytes);
        }
    }

    /// Whether the connection closed to be opened again at once over TCP (`rtspTransport:
    /// automatic` got no UDP packet).
    pub fn wants_tcp(&self) -> bool {
        matches!(&self.proto, Proto::Rtsp(c) if c.wants_tcp())
    }

    /// Whether the connection is over.
    pub fn is_closed(&self) -> bool {
        match &self.proto {
            Proto::Rtsp(c) => c.is_closed(),
            Proto::Rtmp(c) => c.is_closed(),
        }
    }
}

#[cfg(test)]
mod tls_tests;
