//! UDP segmentation offload for RTSP readers over UDP (Linux `UDP_SEGMENT`): the socket side
//! of core `rtp::segments`, for tokio sockets. Sends never wait: a full socket buffer drops
//! the datagrams, as it would drop them on the way. They go straight to the socket (socket2),
//! not through tokio's readiness (whose `try_send_to` refuses until the driver has seen the
//! socket writable); nothing ever waits for these sockets to become writable.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use tokio::net::UdpSocket;
use weir_core::rtp::segments::{SegmentSink, MAX_SEGMENTS};

/// A tokio UDP socket as a sink of segmented sends.
pub(crate) struct Sink<'a>(pub &'a UdpSocket);

impl SegmentSink for Sink<'_> {
    fn send_one(&self, payload: &[u8], to: SocketAddr) {
        send_one(self.0, payload, to);
    }

    #[cfg(target_os = "linux")]
    fn send_segmented(&self, parts: &[&[u8]], size: u16, to: SocketAddr) -> io::Result<()> {
        send_segmented(self.0, parts, size, to)
    }

    #[cfg(not(target_os = "linux"))]
    fn send_segmented(&self, _: &[&[u8]], _: u16, _: SocketAddr) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

/// One datagram, not waiting.
pub(crate) fn send_one(sock: &UdpSocket, payload: &[u8], to: SocketAddr) {
    let _ = socket2::SockRef::from(sock).send_to(payload, &socket2::SockAddr::from(to));
}

/// One `sendmsg` of `parts` to `to`, cut by the kernel every `size` bytes.
#[cfg(target_os = "linux")]
fn send_segmented<S: std::os::fd::AsFd>(
    sock: &S,
    parts: &[&[u8]],
    size: u16,
    to: SocketAddr,
) -> io::Result<()> {
    let control = weir_core::rtp::segments::udp_segment_control(size);
    let iov: smallvec::SmallVec<[IoSlice<'_>; MAX_SEGMENTS]> =
        parts.iter().map(|p| IoSlice::new(p)).collect();
    let addr = socket2::SockAddr::from(to);
    let msg = socket2::MsgHdr::new()
        .with_addr(&addr)
        .with_buffers(&iov)
        .with_control(&control);
    socket2::SockRef::from(sock).sendmsg(&msg, 0).map(|_| ())
}

/// Whether the kernel cuts segmented sends: two 4-byte segments sent over loopback must
/// arrive as two datagrams (a kernel that ignored the option would deliver one).
pub(crate) fn probe() -> bool {
    #[cfg(target_os = "linux")]
    {
        let attempt = || -> io::Result<bool> {
            let rx = std::net::UdpSocket::bind("127.0.0.1:0")?;
            rx.set_read_timeout(Some(std::time::Duration::from_millis(200)))?;
            let tx = std::net::UdpSocket::bind("127.0.0.1:0")?;
            send_segmented(&tx, &[b"weir", b"gso!"], 4, rx.local_addr()?)?;
            let mut buf = [0u8; 16];
            let (n1, _) = rx.recv_from(&mut buf)?;
            let first = buf[..n1] == *b"weir";
            let (n2, _) = rx.recv_from(&mut buf)?;
            Ok(first && buf[..n2] == *b"gso!")
        };
        attempt().unwrap_or(false)
    }
    #[cfg(not(target_os = "linux"))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::time::Duration;
    use weir_core::rtp::segments::Segments;

    #[tokio::test]
    async fn a_frame_goes_out_segmented_and_arrives_as_sent() {
        let on = probe();
        #[cfg(target_os = "linux")]
        assert!(on, "UDP_SEGMENT is expected on Linux 4.18 and later");
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let to = rx.local_addr().unwrap();
        let data: Vec<Vec<u8>> = [1400, 1400, 1400, 700, 20, 1400]
            .iter()
            .enumerate()
            .map(|(k, &n)| vec![k as u8; n])
            .collect();
        let gso = Cell::new(on);
        let mut s = Segments::new();
        for d in &data {
            s.push(&Sink(&tx), &gso, d, to);
        }
        s.flush(&Sink(&tx), &gso);
        assert_eq!(gso.get(), on, "a supported kernel is not asked to stop");
        let mut buf = vec![0u8; 65_536];
        for d in &data {
            let (n, _) = rx.recv_from(&mut buf).unwrap();
            assert_eq!(&buf[..n], &d[..]);
        }
    }
}
