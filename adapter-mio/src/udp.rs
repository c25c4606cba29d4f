//! The server's RTP and RTCP sockets: datagrams routed by client address to the publisher's
//! stream (RTP) or to the session they keep alive (RTCP, readers' receiver reports).

use crate::event_loop::Loop;
use crate::slab::Id;
use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;
use weir_core::rtp::RtpPacket;
use weir_core::rtsp::server::{MulticastGroups, ServerConfig};

/// Largest datagram received whole.
const MAX_DATAGRAM: usize = 2048;

/// Where datagrams from one client address go.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UdpRoute {
    /// RTP of a publisher's track.
    Publish { conn: Id, stream: Id, track: usize },
    /// RTCP from a client (publisher or reader): only proves it is alive.
    Alive { conn: Id },
}

/// The RTSP server's shared state.
pub(crate) struct RtspShared {
    pub listener: mio::net::TcpListener,
    pub core: Arc<ServerConfig>,
    pub rtp: mio::net::UdpSocket,
    pub rtcp: mio::net::UdpSocket,
    pub routes: HashMap<SocketAddr, UdpRoute>,
    pub multicast: MulticastGroups,
    pub multicast_interface: Ipv4Addr,
    /// Receive buffers of the UDP sockets.
    pub arena: weir_core::arena::Arena,
    /// Whether readers' RTP datagrams go out with UDP segmentation offload (`udp_gso.rs`).
    pub gso: std::cell::Cell<bool>,
}

impl Loop {
    /// Receives every datagram waiting on the RTP (`rtcp == false`) or RTCP socket.
    pub(crate) fn udp_readable(&mut self, rtcp: bool, now: Instant) {
        loop {
            let Some(rs) = self.rtsp.as_mut() else {
                return;
            };
            rs.arena.reserve(MAX_DATAGRAM);
            let buf = rs.arena.buf();
            buf.resize(MAX_DATAGRAM, 0);
            let sock = if rtcp { &rs.rtcp } else { &rs.rtp };
            let (n, from) = match sock.recv_from(&mut buf[..]) {
                Ok(v) => v,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    rs.arena.discard();
                    return;
                }
                Err(e) => {
                    rs.arena.discard();
                    tracing::debug!("[RTSP] UDP receive error: {e}");
                    if e.kind() == io::ErrorKind::Interrupted
                        || e.kind() == io::ErrorKind::ConnectionReset
                    {
                        continue;
                    }
                    return;
                }
            };
            buf.truncate(n);
            let route = rs.routes.get(&from).copied();
            match route {
                Some(UdpRoute::Publish {
                    conn,
                    stream,
                    track,
                }) if !rtcp => {
                    let bytes = rs.arena.split();
                    self.touch_udp(conn, now);
                    match RtpPacket::parse(bytes) {
                        Ok(p) => self.push_rtp(stream, now, track, p),
                        Err(e) => tracing::debug!("[RTSP] invalid RTP packet from {from}: {e}"),
                    }
                }
                Some(UdpRoute::Publish { conn, .. }) | Some(UdpRoute::Alive { conn }) => {
                    rs.arena.discard();
                    self.touch_udp(conn, now);
                }
                None => rs.arena.discard(),
            }
        }
    }

    fn touch_udp(&mut self, conn: Id, now: Instant) {
        if let Some(c) = self.conns.get_mut(conn) {
            if let crate::conn::Proto::Rtsp(r) = &mut c.proto {
                r.udp_activity = Some(now);
            }
        }
    }
}
