//! UDP segmentation offload for RTSP readers over UDP (Linux `UDP_SEGMENT`, kernel 4.18+):
//! the socket side of core `rtp::segments`.
//!
//! Whether the kernel cuts segmented sends is probed once ([`probe`]): two segments sent to a
//! socket of our own must arrive as two datagrams (a kernel that ignored the option would
//! deliver one). Elsewhere, or when the probe fails, or when the kernel later refuses a send,
//! every datagram goes out with its own `send_to`, as before.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use weir_core::rtp::segments::{SegmentSink, MAX_SEGMENTS};

/// A mio UDP socket as a sink of segmented sends.
pub(crate) struct Sink<'a>(pub &'a mio::net::UdpSocket);

impl SegmentSink for Sink<'_> {
    fn send_one(&self, payload: &[u8], to: SocketAddr) {
        let _ = self.0.send_to(payload, to);
    }

    fn send_segmented(&self, parts: &[&[u8]], size: u16, to: SocketAddr) -> io::Result<()> {
        send_segmented(self.0, parts, size, to)
    }
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

#[cfg(not(target_os = "linux"))]
fn send_segmented<S>(_: &S, _: &[&[u8]], _: u16, _: SocketAddr) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Whether the kernel cuts segmented sends: two 4-byte segments sent over loopback must
/// arrive as two datagrams.
pub(crate) fn probe() -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::time::Duration;
    use weir_core::rtp::segments::Segments;

    /// Sends datagrams of `sizes` bytes (datagram k filled with k) through [`Segments`] and a
    /// real socket; checks that a receiving socket gets exactly those datagrams. Returns
    /// whether segmented sends are still on.
    fn roundtrip(sizes: &[usize], gso: bool) -> bool {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        let std_tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        std_tx.set_nonblocking(true).unwrap();
        let tx = mio::net::UdpSocket::from_std(std_tx);
        let to = rx.local_addr().unwrap();
        let data: Vec<Vec<u8>> = sizes
            .iter()
            .enumerate()
            .map(|(k, &n)| vec![k as u8; n])
            .collect();
        let gso = Cell::new(gso);
        let mut s = Segments::new();
        for d in &data {
            s.push(&Sink(&tx), &gso, d, to);
        }
        s.flush(&Sink(&tx), &gso);
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65_536];
        for _ in 0..data.len() {
            let (n, _) = rx.recv_from(&mut buf).unwrap();
            got.push(buf[..n].to_vec());
        }
        assert_eq!(got, data, "the datagrams arrive as they were pushed");
        gso.get()
    }

    #[test]
    fn a_frame_of_equal_fragments_and_a_short_last_one_arrives_as_sent() {
        let on = probe();
        assert_eq!(roundtrip(&[1400, 1400, 1400, 1400, 700], on), on);
    }

    #[test]
    fn runs_that_break_the_size_rule_still_arrive_as_sent() {
        roundtrip(&[20, 8, 1400, 1400, 300, 1400, 1200, 1200, 0, 5], probe());
        roundtrip(&vec![1000; MAX_SEGMENTS + 10], probe());
    }

    #[test]
    fn without_offload_every_datagram_is_sent_alone() {
        roundtrip(&[1400, 1400, 1400, 200], false);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_kernels_of_this_project_cut_segments() {
        assert!(probe(), "UDP_SEGMENT is expected on Linux 4.18 and later");
    }
}
