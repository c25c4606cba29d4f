//! The server's UDP RTP/RTCP sockets: binding a port pair, and routing received datagrams.

use crate::hub::{lock, Hub, RtspHub, UdpRoute};
use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::UdpSocket;
use weir_core::rtp::RtpPacket;

const UDP_BUFFER_BYTES: usize = 4 * 1024 * 1024;

fn bind_udp(addr: SocketAddr) -> io::Result<UdpSocket> {
    let sock = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    let _ = sock.set_recv_buffer_size(UDP_BUFFER_BYTES);
    let _ = sock.set_send_buffer_size(UDP_BUFFER_BYTES);
    sock.bind(&addr.into())?;
    sock.set_nonblocking(true)?;
    UdpSocket::from_std(sock.into())
}

/// Binds the RTP and RTCP sockets. With an RTP port of 0, picks a free even/odd pair.
pub(crate) fn bind_pair(rtp: SocketAddr, rtcp: SocketAddr) -> io::Result<(UdpSocket, UdpSocket)> {
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

/// Starts the receive loops of the RTP and RTCP sockets.
pub(crate) fn spawn_receivers(hub: &Arc<Hub>, rtsp: &Arc<RtspHub>) {
    for rtcp in [false, true] {
        let hub = hub.clone();
        let rtsp = rtsp.clone();
        tokio::spawn(async move {
            let sock = if rtcp {
                rtsp.rtcp_socket.clone()
            } else {
                rtsp.rtp_socket.clone()
            };
            let mut buf = vec![0u8; 65_536];
            loop {
                let (n, from) = match sock.recv_from(&mut buf).await {
                    Ok(v) => v,
                    Err(e) => {
                        tracing::debug!("[RTSP] UDP receive error: {e}");
                        continue;
                    }
                };
                let route = lock(&rtsp.routes).get(&from).cloned();
                match route {
                    Some(UdpRoute::Publish {
                        stream,
                        track,
                        activity,
                    }) if !rtcp => {
                        activity.touch(&hub);
                        match RtpPacket::parse(Bytes::copy_from_slice(&buf[..n])) {
                            Ok(p) => stream.push_rtp(Instant::now(), track, p),
                            Err(e) => tracing::debug!("[RTSP] invalid RTP packet from {from}: {e}"),
                        }
                    }
                    Some(UdpRoute::Publish { activity, .. })
                    | Some(UdpRoute::Alive { activity }) => {
                        activity.touch(&hub);
                    }
                    None => {}
                }
            }
        });
    }
}
