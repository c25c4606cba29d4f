//! UDP segmentation offload for RTSP readers over UDP (Linux `UDP_SEGMENT`, kernel 4.18+).
//!
//! The RTP packets of one unit that go to one reader are mostly the same size (a frame's FU-A
//! fragments), so they can be handed to the kernel in one `sendmsg` that carries the segment
//! size: the kernel takes one trip through its IP stack and cuts the datagrams apart at the end,
//! instead of one trip per packet. The receiver sees the same datagrams either way.
//!
//! Segments must all have the segment size but the last, which may be shorter; a run that
//! breaks the rule is sent as it stands and a new one starts. Whether the kernel does it is
//! probed once ([`probe`]): two segments sent to a socket of our own must arrive as two
//! datagrams. Elsewhere, or when the probe fails, or when the kernel later refuses a send,
//! every datagram goes out with its own `send_to`, as before.

use smallvec::SmallVec;
use std::cell::Cell;
use std::io::{self, IoSlice};
use std::net::SocketAddr;

/// Most datagrams per segmented send (`UDP_MAX_SEGMENTS` is 64 on older kernels).
const MAX_SEGMENTS: usize = 64;
/// Most bytes per segmented send (a UDP payload over IPv4).
const MAX_BYTES: usize = 65_507;

/// Datagrams gathered for one destination, sent as one segmented `sendmsg` when they qualify.
pub(crate) struct Segments<'a> {
    to: Option<SocketAddr>,
    /// The segment size: the first datagram's length.
    size: usize,
    parts: SmallVec<[&'a [u8]; MAX_SEGMENTS]>,
    total: usize,
    /// A shorter datagram was added: nothing may follow it.
    ended: bool,
}

impl<'a> Segments<'a> {
    /// Nothing gathered.
    pub(crate) fn new() -> Self {
        Segments {
            to: None,
            size: 0,
            parts: SmallVec::new(),
            total: 0,
            ended: false,
        }
    }

    /// Adds a datagram for `to`, first sending what was gathered when it cannot follow it.
    /// `gso` says whether segmented sends are used (cleared when the kernel refuses one).
    pub(crate) fn push(
        &mut self,
        sock: &mio::net::UdpSocket,
        gso: &Cell<bool>,
        payload: &'a [u8],
        to: SocketAddr,
    ) {
        let follows = self.to == Some(to)
            && !self.ended
            && !payload.is_empty()
            && payload.len() <= self.size
            && self.parts.len() < MAX_SEGMENTS
            && self.total + payload.len() <= MAX_BYTES;
        if follows {
            self.ended = payload.len() < self.size;
        } else {
            self.flush(sock, gso);
            self.to = Some(to);
            self.size = payload.len();
        }
        self.parts.push(payload);
        self.total += payload.len();
    }

    /// Sends what was gathered.
    pub(crate) fn flush(&mut self, sock: &mio::net::UdpSocket, gso: &Cell<bool>) {
        let Some(to) = self.to.take() else {
            return;
        };
        let mut sent = false;
        if gso.get() && self.parts.len() > 1 && self.size > 0 {
            match send_segmented(sock, &self.parts, self.size, to) {
                Ok(_) => sent = true,
                // A full socket buffer drops the datagrams, as `send_to` would.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => sent = true,
                Err(e) => {
                    tracing::warn!("UDP segmentation offload refused ({e}): sending datagrams one by one from now on");
                    gso.set(false);
                }
            }
        }
        if !sent {
            for p in &self.parts {
                let _ = sock.send_to(p, to);
            }
        }
        self.parts.clear();
        self.total = 0;
        self.ended = false;
    }
}

/// One `sendmsg` of `parts` to `to`, cut by the kernel every `size` bytes.
#[cfg(target_os = "linux")]
fn send_segmented<S: std::os::fd::AsFd>(
    sock: &S,
    parts: &[&[u8]],
    size: usize,
    to: SocketAddr,
) -> io::Result<usize> {
    // <linux/udp.h>: SOL_UDP 17, UDP_SEGMENT 103 (the value is a u16).
    const SOL_UDP: i32 = 17;
    const UDP_SEGMENT: i32 = 103;
    // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the data,
    // padded to the size of a size_t (CMSG_LEN / CMSG_SPACE).
    const WORD: usize = std::mem::size_of::<usize>();
    const HEADER: usize = WORD + 8;
    const SPACE: usize = HEADER + WORD;
    let mut control = [0u8; SPACE];
    control[..WORD].copy_from_slice(&(HEADER + 2).to_ne_bytes());
    control[WORD..WORD + 4].copy_from_slice(&SOL_UDP.to_ne_bytes());
    control[WORD + 4..HEADER].copy_from_slice(&UDP_SEGMENT.to_ne_bytes());
    let size = u16::try_from(size).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    control[HEADER..HEADER + 2].copy_from_slice(&size.to_ne_bytes());
    let iov: SmallVec<[IoSlice<'_>; MAX_SEGMENTS]> = parts.iter().map(|p| IoSlice::new(p)).collect();
    let addr = socket2::SockAddr::from(to);
    let msg = socket2::MsgHdr::new()
        .with_addr(&addr)
        .with_buffers(&iov)
        .with_control(&control);
    socket2::SockRef::from(sock).sendmsg(&msg, 0)
}

#[cfg(not(target_os = "linux"))]
fn send_segmented<S>(_: &S, _: &[&[u8]], _: usize, _: SocketAddr) -> io::Result<usize> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Whether the kernel cuts segmented sends: two 4-byte segments sent over loopback must
/// arrive as two datagrams. (A kernel that ignored the option would deliver one of 8 bytes.)
pub(crate) fn probe() -> bool {
    let attempt = || -> io::Result<bool> {
        let rx = std::net::UdpSocket::bind("127.0.0.1:0")?;
        rx.set_read_timeout(Some(std::time::Duration::from_millis(200)))?;
        let tx = std::net::UdpSocket::bind("127.0.0.1:0")?;
        let to = rx.local_addr()?;
        send_segmented(&tx, &[b"weir", b"gso!"], 4, to)?;
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
    use std::time::Duration;

    /// Sends `sizes`-long datagrams (byte i of datagram k is k) through [`Segments`] and returns
    /// what a receiving socket got, datagram by datagram.
    fn roundtrip(sizes: &[usize], gso: bool) -> (Vec<Vec<u8>>, bool) {
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
            s.push(&tx, &gso, d, to);
        }
        s.flush(&tx, &gso);
        let mut got = Vec::new();
        let mut buf = vec![0u8; 65_536];
        for _ in 0..data.len() {
            let (n, _) = rx.recv_from(&mut buf).unwrap();
            got.push(buf[..n].to_vec());
        }
        assert_eq!(got, data, "the datagrams arrive as they were pushed");
        (got, gso.get())
    }

    #[test]
    fn a_frame_of_equal_fragments_and_a_short_last_one_arrives_as_sent() {
        let on = probe();
        let (_, still) = roundtrip(&[1400, 1400, 1400, 1400, 700], on);
        assert_eq!(still, on, "a supported kernel is not asked to stop");
    }

    #[test]
    fn runs_that_break_the_size_rule_are_split_and_still_arrive_as_sent() {
        // Small parameter sets first, a larger packet after a shorter one, a single packet,
        // an empty one.
        roundtrip(&[20, 8, 1400, 1400, 300, 1400, 1200, 1200, 0, 5], probe());
    }

    #[test]
    fn without_offload_every_datagram_is_sent_alone() {
        roundtrip(&[1400, 1400, 1400, 200], false);
    }

    #[test]
    fn more_segments_than_one_send_takes_are_split() {
        let sizes = vec![1000; MAX_SEGMENTS + 10];
        roundtrip(&sizes, probe());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn linux_kernels_of_this_project_cut_segments() {
        assert!(probe(), "UDP_SEGMENT is expected on Linux 4.18 and later");
    }
}
