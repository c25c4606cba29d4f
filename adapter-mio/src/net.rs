//! Socket set-up: listeners, the RTP/RTCP port pair, multicast senders.

use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use weir_core::rtsp::server::MULTICAST_TTL;

/// Kernel buffer size asked for the UDP sockets.
const UDP_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// A non-blocking TCP listener.
pub(crate) fn listen(addr: SocketAddr) -> io::Result<mio::net::TcpListener> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    #[cfg(not(windows))]
    sock.set_reuse_address(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    sock.set_nonblocking(true)?;
    Ok(mio::net::TcpListener::from_std(sock.into()))
}

fn bind_udp(addr: SocketAddr) -> io::Result<mio::net::UdpSocket> {
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    let _ = sock.set_recv_buffer_size(UDP_BUFFER_BYTES);
    let _ = sock.set_send_buffer_size(UDP_BUFFER_BYTES);
    sock.bind(&addr.into())?;
    sock.set_nonblocking(true)?;
    Ok(mio::net::UdpSocket::from_std(sock.into()))
}

/// Binds the RTP and RTCP sockets. With an RTP port of 0, picks a free even/odd pair.
pub(crate) fn bind_pair(
    rtp: SocketAddr,
    rtcp: SocketAddr,
) -> io::Result<(mio::net::UdpSocket, mio::net::UdpSocket)> {
    if rtp.port() != 0 {
        return Ok((bind_udp(rtp)?, bind_udp(rtcp)?));
    }
    for _ in 0..200 {
        let a = bind_udp(rtp)?;
        let port = a.local_addr()?.port();
        if port % 2 != 0 || port == u16::MAX {
            continue;
        }
        let mut rtcp_addr = rtcp;
        rtcp_addr.set_port(port + 1);
        if let Ok(b) = bind_udp(rtcp_addr) {
            return Ok((a, b));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        "no free RTP/RTCP port pair",
    ))
}

/// A non-blocking socket sending to multicast groups through `interface`.
pub(crate) fn multicast_sender(interface: Ipv4Addr) -> io::Result<std::net::UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_multicast_if_v4(&interface)?;
    s.set_multicast_loop_v4(true)?;
    s.set_multicast_ttl_v4(u32::from(MULTICAST_TTL))?;
    s.bind(&SocketAddr::new(IpAddr::V4(interface), 0).into())?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}
