//! UDP segmentation offload for RTSP readers over UDP: a mio socket as the sink of core
//! `rtp::segments`, sending through weir-net (which also probes the kernel once).

use std::io;
use std::net::SocketAddr;
use weir_core::rtp::segments::SegmentSink;
use weir_net::{send_one, send_segmented};

/// A mio UDP socket as a sink of segmented sends.
pub(crate) struct Sink<'a>(pub &'a mio::net::UdpSocket);

impl SegmentSink for Sink<'_> {
    fn send_one(&self, payload: &[u8], to: SocketAddr) {
        send_one(socket2::SockRef::from(self.0), payload, to);
    }

    fn send_segmented(&self, parts: &[&[u8]], size: u16, to: SocketAddr) -> io::Result<()> {
        send_segmented(socket2::SockRef::from(self.0), parts, size, to)
    }
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
    use weir_core::rtp::segments::{Segments, MAX_SEGMENTS};

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
}
