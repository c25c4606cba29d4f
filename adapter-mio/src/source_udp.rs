//! The UDP sockets of an RTSP source read over UDP or multicast (`rtspTransport`): opened when
//! the core asks, registered with a token naming the connection and the socket, read into
//! the connection's arena.

use crate::conn::Proto;
use crate::event_loop::{Loop, READ_BATCH};
use crate::source::SourceConn;
use mio::{Interest, Token};
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;
use weir_core::rtsp::client::UdpGroup;

/// Tokens with this bit set are a source's UDP sockets: the connection's slab index above
/// [`SLOT_BITS`], the socket's slot (2 × track + 1 for RTCP) below.
pub(crate) const SOURCE_UDP: usize = 1 << (usize::BITS - 1);
/// Bits of a token for the socket's slot.
const SLOT_BITS: u32 = 6;
/// Largest datagram received whole.
const MAX_DATAGRAM: usize = 2048;
/// Kernel receive buffer asked for each socket.
const UDP_BUFFER_BYTES: usize = 4 * 1024 * 1024;

impl SourceConn {
    /// Opens `track`'s sockets (a free port pair on the connection's local address, or
    /// `group`'s ports joined), registered for the connection at slab `index`. Returns the
    /// local RTP and RTCP ports.
    pub(crate) fn open_udp(
        &mut self,
        registry: &mio::Registry,
        index: usize,
        track: usize,
        group: Option<UdpGroup>,
    ) -> io::Result<(u16, u16)> {
        if 2 * track + 1 >= 1 << SLOT_BITS {
            return Err(io::Error::other("too many tracks for UDP"));
        }
        let local = self.local_ip;
        let (rtp, rtcp) = match group {
            None => crate::net::bind_pair(SocketAddr::new(local, 0), SocketAddr::new(local, 0))?,
            Some(g) => (join(g, g.rtp_port, local)?, join(g, g.rtcp_port, local)?),
        };
        let ports = (rtp.local_addr()?.port(), rtcp.local_addr()?.port());
        for (slot, mut sock) in [(2 * track, rtp), (2 * track + 1, rtcp)] {
            let token = Token(SOURCE_UDP | (index << SLOT_BITS) | slot);
            registry.register(&mut sock, token, Interest::READABLE)?;
            if self.udp.len() <= slot {
                self.udp.resize_with(slot + 1, || None);
            }
            self.udp[slot] = Some(sock);
        }
        Ok(ports)
    }

    /// Reads up to [`READ_BATCH`] datagrams of socket `slot` into the core; true when more
    /// may be waiting.
    fn read_udp(&mut self, slot: usize, now: Instant) -> bool {
        for _ in 0..READ_BATCH {
            let Some(Some(sock)) = self.udp.get(slot) else {
                return false;
            };
            self.arena.reserve(MAX_DATAGRAM);
            let buf = self.arena.buf();
            buf.resize(MAX_DATAGRAM, 0);
            match sock.recv_from(&mut buf[..]) {
                Ok((n, from)) => {
                    buf.truncate(n);
                    let bytes = self.arena.split();
                    self.core
                        .handle_udp(now, slot / 2, slot % 2 == 1, from, bytes);
                }
                Err(e) => {
                    self.arena.discard();
                    if e.kind() == io::ErrorKind::Interrupted
                        || e.kind() == io::ErrorKind::ConnectionReset
                    {
                        continue;
                    }
                    if e.kind() != io::ErrorKind::WouldBlock {
                        tracing::debug!(
                            "[path {}] [RTSP source] UDP receive error: {e}",
                            self.path
                        );
                    }
                    return false;
                }
            }
        }
        true
    }
}

impl Loop {
    /// A source's UDP socket is readable: its datagrams go to the core, whose outputs are
    /// drained after each batch.
    pub(crate) fn source_udp_readable(&mut self, token: usize, now: Instant) {
        let index = (token & !SOURCE_UDP) >> SLOT_BITS;
        let slot = token & ((1 << SLOT_BITS) - 1);
        let Some(id) = self.conns.id_at(index) else {
            return;
        };
        let Some(mut c) = self.conns.take(id) else {
            return;
        };
        if c.lingering.is_some() || !matches!(c.proto, Proto::Source(_)) {
            self.conns.put_back(id, c);
            return;
        }
        let open = loop {
            let more = match &mut c.proto {
                Proto::Source(s) => s.read_udp(slot, now),
                _ => false,
            };
            if !self.drive(id, &mut c, now) {
                break false;
            }
            self.settle(now);
            if !more {
                break true;
            }
        };
        self.finish(id, c, open, now);
    }
}

/// A socket on `port` that has joined `group` on the interface of `local`.
fn join(group: UdpGroup, port: u16, local: IpAddr) -> io::Result<mio::net::UdpSocket> {
    let IpAddr::V4(address) = group.address else {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "IPv6 multicast groups are not supported",
        ));
    };
    let interface = match local {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    let _ = s.set_recv_buffer_size(UDP_BUFFER_BYTES);
    // Bound to the group (not the wildcard) where the system allows it, to get only its packets.
    let bind = if cfg!(windows) {
        Ipv4Addr::UNSPECIFIED
    } else {
        address
    };
    s.bind(&SocketAddr::new(IpAddr::V4(bind), port).into())?;
    s.join_multicast_v4(&address, &interface)?;
    s.set_nonblocking(true)?;
    Ok(mio::net::UdpSocket::from_std(s.into()))
}
