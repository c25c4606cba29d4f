//! Where a playing reader's packets go, track by track, and their TCP-interleaved framing:
//! what both runtime adapters need to deliver ring items to an RTSP reader.

use super::{Session, TrackTransport};
use crate::media::StreamItem;
use crate::rtsp::interleaved_header;
use smallvec::SmallVec;
use std::net::SocketAddr;

/// Where one track's packets go for a reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderRoute {
    /// Interleaved in the RTSP connection.
    Tcp {
        /// The RTP channel.
        rtp_channel: u8,
        /// The RTCP channel.
        rtcp_channel: u8,
    },
    /// UDP unicast from the server's RTP and RTCP sockets.
    Udp {
        /// The client's RTP address.
        rtp: SocketAddr,
        /// The client's RTCP address.
        rtcp: SocketAddr,
    },
    /// The path's multicast sender delivers it (not the reader's connection).
    Multicast,
    /// The track was not set up.
    None,
}

/// The routes of every track of a reader's session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReaderRoutes {
    routes: SmallVec<[ReaderRoute; 4]>,
}

/// One datagram of a UDP reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// The bytes.
    pub payload: &'a [u8],
    /// The client address.
    pub to: SocketAddr,
    /// Sent from the RTCP socket (else the RTP socket).
    pub rtcp: bool,
}

impl ReaderRoutes {
    /// The routes of a session whose stream has `ntracks` tracks.
    pub fn new(session: &Session, ntracks: usize) -> ReaderRoutes {
        let mut routes: SmallVec<[ReaderRoute; 4]> =
            SmallVec::from_elem(ReaderRoute::None, ntracks);
        for (t, tr) in &session.tracks {
            if let Some(r) = routes.get_mut(*t) {
                *r = match *tr {
                    TrackTransport::Tcp {
                        rtp_channel,
                        rtcp_channel,
                    } => ReaderRoute::Tcp {
                        rtp_channel,
                        rtcp_channel,
                    },
                    TrackTransport::Udp {
                        client_ip,
                        client_rtp_port,
                        client_rtcp_port,
                    } => ReaderRoute::Udp {
                        rtp: SocketAddr::new(client_ip, client_rtp_port),
                        rtcp: SocketAddr::new(client_ip, client_rtcp_port),
                    },
                    TrackTransport::Multicast(_) => ReaderRoute::Multicast,
                };
            }
        }
        ReaderRoutes { routes }
    }

    /// The route of `track` ([`ReaderRoute::None`] if unknown).
    pub fn get(&self, track: usize) -> ReaderRoute {
        self.routes.get(track).copied().unwrap_or(ReaderRoute::None)
    }

    /// Whether the reader's tracks all go interleaved over TCP (none by UDP or multicast), so
    /// that its frames can be written straight from the ring.
    pub fn tcp_only(&self) -> bool {
        self.routes
            .iter()
            .any(|r| matches!(r, ReaderRoute::Tcp { .. }))
            && self
                .routes
                .iter()
                .all(|r| matches!(r, ReaderRoute::Tcp { .. } | ReaderRoute::None))
    }

    /// The interleaved channel `item` goes on, when its track goes over TCP.
    pub fn tcp_channel(&self, item: &StreamItem) -> Option<u8> {
        match (item, self.get(item.track())) {
            (StreamItem::Unit(_), ReaderRoute::Tcp { rtp_channel, .. }) => Some(rtp_channel),
            (StreamItem::Rtcp { .. }, ReaderRoute::Tcp { rtcp_channel, .. }) => Some(rtcp_channel),
            _ => None,
        }
    }

    /// Whether any track goes by multicast.
    pub fn has_multicast(&self) -> bool {
        self.routes.contains(&ReaderRoute::Multicast)
    }

    /// The client RTCP addresses of UDP tracks (their receiver reports prove the reader alive).
    pub fn udp_rtcp_addresses(&self) -> impl Iterator<Item = SocketAddr> + '_ {
        self.routes.iter().filter_map(|r| match r {
            ReaderRoute::Udp { rtcp, .. } => Some(*rtcp),
            _ => None,
        })
    }

    /// Appends `item` framed for the RTSP connection (`$`, channel, length, packet — one frame
    /// per RTP packet) to `out` when its track goes over TCP. Returns the bytes appended.
    pub fn write_interleaved(&self, item: &StreamItem, out: &mut Vec<u8>) -> usize {
        let before = out.len();
        match item {
            StreamItem::Unit(u) => {
                if let ReaderRoute::Tcp { rtp_channel, .. } = self.get(u.track) {
                    for p in &u.rtp {
                        out.extend_from_slice(&interleaved_header(rtp_channel, p.raw.len() as u16));
                        out.extend_from_slice(&p.raw);
                    }
                }
            }
            StreamItem::Rtcp { track, packet } => {
                if let ReaderRoute::Tcp { rtcp_channel, .. } = self.get(*track) {
                    out.extend_from_slice(&interleaved_header(rtcp_channel, packet.len() as u16));
                    out.extend_from_slice(packet);
                }
            }
        }
        out.len() - before
    }

    /// Hands the interleaved frames of `item` on `channel` to `f`, in order: the 4-byte
    /// header (`$`, channel, length) and the packet, one frame per RTP packet. The framed size
    /// of the item is the sum of `4 + packet.len()`.
    pub fn for_each_frame<'a>(
        item: &'a StreamItem,
        channel: u8,
        mut f: impl FnMut([u8; 4], &'a [u8]),
    ) {
        match item {
            StreamItem::Unit(u) => {
                for p in &u.rtp {
                    f(interleaved_header(channel, p.raw.len() as u16), &p.raw);
                }
            }
            StreamItem::Rtcp { packet, .. } => {
                f(interleaved_header(channel, packet.len() as u16), packet)
            }
        }
    }

    /// Hands each UDP datagram of `item` to `f` when its track goes by UDP unicast.
    pub fn for_each_datagram<'a>(&self, item: &'a StreamItem, mut f: impl FnMut(Datagram<'a>)) {
        match item {
            StreamItem::Unit(u) => {
                if let ReaderRoute::Udp { rtp, .. } = self.get(u.track) {
                    for p in &u.rtp {
                        f(Datagram {
                            payload: &p.raw,
                            to: rtp,
                            rtcp: false,
                        });
                    }
                }
            }
            StreamItem::Rtcp { track, packet } => {
                if let ReaderRoute::Udp { rtcp, .. } = self.get(*track) {
                    f(Datagram {
                        payload: packet,
                        to: rtcp,
                        rtcp: true,
                    });
                }
            }
        }
    }
}
