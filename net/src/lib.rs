//! weir-net: socket helpers the runtime adapters share, kept out of weir-core (which does no
//! I/O). Today: UDP segmentation offload (Linux `UDP_SEGMENT`, kernel 4.18+), the socket side
//! of core `rtp::segments`.
//!
//! Sends never wait: they go straight to the (non-blocking) socket, and a full socket buffer
//! drops the datagrams, as the network would. Whether the kernel cuts segmented sends is
//! probed once ([`probe_segmentation`]): two segments sent to a socket of our own must arrive
//! as two datagrams (a kernel that ignored the option would deliver one). Elsewhere
//! (Windows, older kernels) segmented sends report `Unsupported`.

#![forbid(unsafe_code)]

use socket2::SockRef;
use std::io;
use std::net::SocketAddr;

/// One datagram to `to`, not waiting; errors are dropped, as for any lost datagram.
pub fn send_one(sock: SockRef<'_>, payload: &[u8], to: SocketAddr) {
    let _ = sock.send_to(payload, &socket2::SockAddr::from(to));
}

/// One `sendmsg` of `parts` to `to`, cut by the kernel every `size` bytes.
#[cfg(target_os = "linux")]
pub fn send_segmented(
    sock: SockRef<'_>,
    parts: &[&[u8]],
    size: u16,
    to: SocketAddr,
) -> io::Result<()> {
    use std::io::IoSlice;
    use weir_core::rtp::segments::{udp_segment_control, MAX_SEGMENTS};
    let control = udp_segment_control(size);
    let iov: smallvec::SmallVec<[IoSlice<'_>; MAX_SEGMENTS]> =
        parts.iter().map(|p| IoSlice::new(p)).collect();
    let addr = socket2::SockAddr::from(to);
    let msg = socket2::MsgHdr::new()
        .with_addr(&addr)
        .with_buffers(&iov)
        .with_control(&control);
    sock.sendmsg(&msg, 0).map(|_| ())
}

/// Segmented sends exist on Linux only.
#[cfg(not(target_os = "linux"))]
pub fn send_segmented(_: SockRef<'_>, _: &[&[u8]], _: u16, _: SocketAddr) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Whether the kernel cuts segmented sends: two 4-byte segments sent over loopback must
/// arrive as two datagrams.
pub fn probe_segmentation() -> bool {
    let attempt = || -> io::Result<bool> {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0")?;
        rx.set_read_timeout(Some(std::time::Duration::from_millis(200)))?;
        let tx = std::net::UdpSocket::bind("127.0.0.1:0")?;
        send_segmented(SockRef::from(&tx), &[b"weir", b"gso!"], 4, rx.local_addr()?)?;
        let mut buf = [0u8; 16];
        let (n1, _) = rx.recv_from(&mut buf)?;
        let first = buf[..n1] == *b"weir";
        let (n2, _) = rx.recv_from(&mut buf)?;
        Ok(first && buf[..n2] == *b"gso!")
    };
    attempt().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_kernels_of_this_project_cut_segments() {
        assert!(
            probe_segmentation(),
            "UDP_SEGMENT is expected on Linux 4.18 and later"
        );
    }

    #[test]
    fn a_single_datagram_arrives() {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        send_one(SockRef::from(&tx), b"one", rx.local_addr().unwrap());
        let mut buf = [0u8; 8];
        let (n, _) = rx.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"one");
    }
}
