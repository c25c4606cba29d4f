//! The UDP sockets of an RTSP source read over UDP or multicast (`rtspTransport`): opened when
//! the core asks, each read by a task that hands datagrams to the source's loop.

use bytes::Bytes;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use weir_core::rtsp::client::UdpGroup;

/// A datagram for the source's loop: track, RTCP or not, sender, bytes.
pub(crate) type Datagram = (usize, bool, SocketAddr, Bytes);

/// Kernel receive buffer asked for each socket.
const UDP_BUFFER_BYTES: usize = 4 * 1024 * 1024;

/// The receive tasks of one source connection, stopped when it ends.
pub(crate) struct SourceUdp {
    tasks: Vec<JoinHandle<()>>,
    tx: mpsc::Sender<Datagram>,
}

impl Drop for SourceUdp {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl SourceUdp {
    /// No sockets yet; datagrams go to the returned receiver.
    pub(crate) fn new() -> (SourceUdp, mpsc::Receiver<Datagram>) {
        let (tx, rx) = mpsc::channel(1024);
        let udp = SourceUdp {
            tasks: Vec::new(),
            tx,
        };
        (udp, rx)
    }

    /// Opens `track`'s sockets: a free port pair on `local` (unicast) or `group`'s ports
    /// joined on `local`'s interface. Returns the local RTP and RTCP ports.
    pub(crate) fn open(
        &mut self,
        track: usize,
        local: IpAddr,
        group: Option<UdpGroup>,
    ) -> io::Result<(u16, u16)> {
        let (rtp, rtcp) = match group {
            None => crate::udp::bind_pair(SocketAddr::new(local, 0), SocketAddr::new(local, 0))?,
            Some(g) => (join(g, g.rtp_port, local)?, join(g, g.rtcp_port, local)?),
        };
        let ports = (rtp.local_addr()?.port(), rtcp.local_addr()?.port());
        for (sock, is_rtcp) in [(rtp, false), (rtcp, true)] {
            let tx = self.tx.clone();
            self.tasks.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 2048];
                while let Ok((n, from)) = sock.recv_from(&mut buf).await {
                    let d = (track, is_rtcp, from, Bytes::copy_from_slice(&buf[..n]));
                    if tx.send(d).await.is_err() {
                        return;
                    }
                }
            }));
        }
        Ok(ports)
    }
}

/// A socket on `port` that has joined `group` on the interface of `local`.
fn join(group: UdpGroup, port: u16, local: IpAddr) -> io::Result<UdpSocket> {
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
    UdpSocket::from_std(s.into())
}
