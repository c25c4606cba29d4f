//! UDP segmentation offload for RTSP readers over UDP: a tokio socket as the sink of core
//! `rtp::segments`, sending through weir-net (which also probes the kernel once). Sends never
//! wait: they go straight to the socket, not through tokio's readiness (whose `try_send_to`
//! refuses until the driver has seen the socket writable); nothing ever waits for these
//! sockets to become writable, and a full socket buffer drops the datagrams.

use std::io;
use std::net::SocketAddr;
use tokio::net::UdpSocket;
use weir_core::rtp::segments::SegmentSink;

/// A tokio UDP socket as a sink of segmented sends.
pub(crate) struct Sink<'a>(pub &'a UdpSocket);

impl SegmentSink for Sink<'_> {
    fn send_one(&self, payload: &[u8], to: SocketAddr) {
        send_one(self.0, payload, to);
    }

    fn send_segmented(&self, parts: &[&[u8]], size: u16, to: SocketAddr) -> io::Result<()> {
        weir_net::send_segmented(socket2::SockRef::from(self.0), parts, size, to)
    }
}

/// One datagram, not waiting.
pub(crate) fn send_one(sock: &UdpSocket, payload: &[u8], to: SocketAddr) {
    weir_net::send_one(socket2::SockRef::from(sock), payload, to);
}

/// Whether the kernel cuts segmented sends (probed once at start).
pub(crate) fn probe() -> bool {
    weir_net::probe_segmentation()
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
