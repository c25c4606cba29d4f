//! Grouping RTP datagrams for UDP segmentation offload (Linux `UDP_SEGMENT`).
//!
//! The RTP packets of one unit that go to one reader are mostly the same size (a frame's FU-A
//! fragments). Handed to the kernel in one `sendmsg` that carries the segment size, they take
//! one trip through its IP stack and are cut apart at the end; the receiver sees the same
//! datagrams. The kernel's rule: every segment has the segment size but the last, which may be
//! shorter. [`Segments`] gathers runs that follow the rule and hands each to a
//! [`SegmentSink`]; the adapters own the sockets and the system calls.

use core::cell::Cell;
use core::net::SocketAddr;
use smallvec::SmallVec;

/// Most datagrams per segmented send (`UDP_MAX_SEGMENTS` is 64 on older kernels).
pub const MAX_SEGMENTS: usize = 64;
/// Most bytes per segmented send (a UDP payload over IPv4).
pub const MAX_SEGMENTED_BYTES: usize = 65_507;

/// Where gathered datagrams go: a UDP socket, in an adapter.
pub trait SegmentSink {
    /// Sends one datagram (errors are dropped, as for any lost datagram).
    fn send_one(&self, payload: &[u8], to: SocketAddr);
    /// Sends `parts` as one segmented send cut every `size` bytes.
    fn send_segmented(&self, parts: &[&[u8]], size: u16, to: SocketAddr) -> std::io::Result<()>;
}

/// Datagrams gathered for one destination.
#[derive(Debug)]
pub struct Segments<'a> {
    to: Option<SocketAddr>,
    /// The segment size: the first datagram's length.
    size: usize,
    parts: SmallVec<[&'a [u8]; MAX_SEGMENTS]>,
    total: usize,
    /// A shorter datagram was added: nothing may follow it.
    ended: bool,
}

impl Default for Segments<'_> {
    fn default() -> Self {
        Segments {
            to: None,
            size: 0,
            parts: SmallVec::new(),
            total: 0,
            ended: false,
        }
    }
}

impl<'a> Segments<'a> {
    /// Nothing gathered.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a datagram for `to`, first sending what was gathered when it cannot follow it.
    /// `gso` says whether segmented sends are used; it is cleared when the sink refuses one
    /// (its datagrams then go one by one, and so do all later ones).
    pub fn push(
        &mut self,
        sink: &impl SegmentSink,
        gso: &Cell<bool>,
        payload: &'a [u8],
        to: SocketAddr,
    ) {
        let follows = self.to == Some(to)
            && !self.ended
            && !payload.is_empty()
            && payload.len() <= self.size
            && self.parts.len() < MAX_SEGMENTS
            && self.total + payload.len() <= MAX_SEGMENTED_BYTES;
        if follows {
            self.ended = payload.len() < self.size;
        } else {
            self.flush(sink, gso);
            self.to = Some(to);
            self.size = payload.len();
        }
        self.parts.push(payload);
        self.total += payload.len();
    }

    /// Sends what was gathered.
    pub fn flush(&mut self, sink: &impl SegmentSink, gso: &Cell<bool>) {
        let Some(to) = self.to.take() else {
            return;
        };
        let size = u16::try_from(self.size).unwrap_or(0);
        let mut sent = false;
        if gso.get() && self.parts.len() > 1 && size > 0 {
            match sink.send_segmented(&self.parts, size, to) {
                Ok(()) => sent = true,
                // A full socket buffer drops the datagrams, as a plain send would.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => sent = true,
                Err(e) => {
                    tracing::warn!(
                        "UDP segmentation offload refused ({e}): sending datagrams one by one from now on"
                    );
                    gso.set(false);
                }
            }
        }
        if !sent {
            for p in &self.parts {
                sink.send_one(p, to);
            }
        }
        self.parts.clear();
        self.total = 0;
        self.ended = false;
    }
}

/// Bytes of the control message of a segmented send.
pub const UDP_SEGMENT_CONTROL_LEN: usize = 2 * core::mem::size_of::<usize>() + 8;

/// The control message (`cmsg`) that asks Linux to cut a send every `size` bytes: a
/// `struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; }` with level `SOL_UDP`
/// (17) and type `UDP_SEGMENT` (103), then the size as a `u16`, padded to a `size_t`
/// (`CMSG_LEN(2)` in `cmsg_len`, `CMSG_SPACE(2)` bytes in all), in the machine's byte order.
pub fn udp_segment_control(size: u16) -> [u8; UDP_SEGMENT_CONTROL_LEN] {
    const WORD: usize = core::mem::size_of::<usize>();
    const HEADER: usize = WORD + 8;
    const SOL_UDP: i32 = 17;
    const UDP_SEGMENT: i32 = 103;
    let mut control = [0u8; UDP_SEGMENT_CONTROL_LEN];
    control[..WORD].copy_from_slice(&(HEADER + 2).to_ne_bytes());
    control[WORD..WORD + 4].copy_from_slice(&SOL_UDP.to_ne_bytes());
    control[WORD + 4..HEADER].copy_from_slice(&UDP_SEGMENT.to_ne_bytes());
    control[HEADER..HEADER + 2].copy_from_slice(&size.to_ne_bytes());
    control
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Records what it was asked to send: `(sizes, segment size or 0 for a single send)`.
    #[derive(Default)]
    struct Recorder {
        sends: RefCell<Vec<(Vec<usize>, u16)>>,
        refuse: bool,
    }

    impl SegmentSink for Recorder {
        fn send_one(&self, payload: &[u8], _: SocketAddr) {
            self.sends.borrow_mut().push((vec![payload.len()], 0));
        }
        fn send_segmented(&self, parts: &[&[u8]], size: u16, _: SocketAddr) -> std::io::Result<()> {
            if self.refuse {
                return Err(std::io::ErrorKind::InvalidInput.into());
            }
            let sizes = parts.iter().map(|p| p.len()).collect();
            self.sends.borrow_mut().push((sizes, size));
            Ok(())
        }
    }

    fn group(sizes: &[usize], to: &[u16], refuse: bool) -> (Vec<(Vec<usize>, u16)>, bool) {
        let data: Vec<Vec<u8>> = sizes.iter().map(|&n| vec![0; n]).collect();
        let sink = Recorder {
            refuse,
            ..Default::default()
        };
        let gso = Cell::new(true);
        let mut s = Segments::new();
        for (d, port) in data.iter().zip(to) {
            s.push(&sink, &gso, d, SocketAddr::from(([127, 0, 0, 1], *port)));
        }
        s.flush(&sink, &gso);
        (sink.sends.into_inner(), gso.get())
    }

    #[test]
    fn runs_follow_the_kernel_rule() {
        // (datagram sizes, the sends expected: sizes and segment size, 0 for a single send)
        type Sends<'a> = &'a [(&'a [usize], u16)];
        let table: &[(&[usize], Sends<'_>)] = &[
            // A frame: equal fragments, a short last one.
            (
                &[1400, 1400, 1400, 700],
                &[(&[1400, 1400, 1400, 700], 1400)],
            ),
            // Nothing may follow a short one; a larger one starts a new run.
            (&[1400, 700, 700], &[(&[1400, 700], 1400), (&[700], 0)]),
            (
                &[20, 8, 1400, 1400],
                &[(&[20, 8], 20), (&[1400, 1400], 1400)],
            ),
            // An empty datagram goes alone.
            (&[0, 5], &[(&[0], 0), (&[5], 0)]),
            (&[1200], &[(&[1200], 0)]),
        ];
        for (sizes, want) in table {
            let ports = vec![5000; sizes.len()];
            let (got, gso) = group(sizes, &ports, false);
            let want: Vec<(Vec<usize>, u16)> = want.iter().map(|(s, n)| (s.to_vec(), *n)).collect();
            assert_eq!(got, want, "{sizes:?}");
            assert!(gso);
        }
    }

    #[test]
    fn another_destination_starts_a_new_run() {
        let (got, _) = group(&[1400, 1400, 1400], &[5000, 5000, 5002], false);
        assert_eq!(got, vec![(vec![1400, 1400], 1400), (vec![1400], 0)]);
    }

    #[test]
    fn runs_stop_at_the_segment_and_byte_limits() {
        let (got, _) = group(&[1000; MAX_SEGMENTS + 1], &[5000; MAX_SEGMENTS + 1], false);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.len(), MAX_SEGMENTS);
        let (got, _) = group(&[30_000, 30_000, 30_000], &[5000; 3], false);
        assert_eq!(got, vec![(vec![30_000, 30_000], 30_000), (vec![30_000], 0)]);
    }

    #[test]
    fn a_refused_segmented_send_falls_back_to_single_sends_for_good() {
        let (got, gso) = group(&[1400, 1400, 700], &[5000; 3], true);
        assert_eq!(got, vec![(vec![1400], 0), (vec![1400], 0), (vec![700], 0)]);
        assert!(!gso);
    }

    proptest::proptest! {
        /// Whatever the sizes and destinations, every datagram is sent once, in order, and
        /// every segmented send follows the kernel's rule and limits.
        #[test]
        fn any_datagrams_are_sent_once_in_order_by_the_rule(
            dgrams in proptest::collection::vec((0usize..3000, 0u16..3), 0..200),
        ) {
            let sizes: Vec<usize> = dgrams.iter().map(|d| d.0).collect();
            let ports: Vec<u16> = dgrams.iter().map(|d| 5000 + d.1).collect();
            let (got, _) = group(&sizes, &ports, false);
            let flat: Vec<usize> = got.iter().flat_map(|(s, _)| s.iter().copied()).collect();
            proptest::prop_assert_eq!(&flat, &sizes);
            for (parts, size) in &got {
                if *size == 0 {
                    proptest::prop_assert_eq!(parts.len(), 1);
                    continue;
                }
                proptest::prop_assert!(parts.len() >= 2 && parts.len() <= MAX_SEGMENTS);
                proptest::prop_assert!(parts.iter().sum::<usize>() <= MAX_SEGMENTED_BYTES);
                let (last, first) = parts.split_last().unwrap();
                proptest::prop_assert!(first.iter().all(|&n| n == *size as usize));
                proptest::prop_assert!(*last >= 1 && *last <= *size as usize);
            }
        }
    }

    #[test]
    fn the_control_message_has_the_linux_layout() {
        let c = udp_segment_control(1400);
        let word = core::mem::size_of::<usize>();
        assert_eq!(c.len(), word + 8 + word);
        let mut len = [0u8; 8];
        len[..word].copy_from_slice(&c[..word]);
        assert_eq!(
            usize::from_ne_bytes(len[..word].try_into().unwrap()),
            word + 8 + 2
        );
        assert_eq!(
            i32::from_ne_bytes(c[word..word + 4].try_into().unwrap()),
            17
        );
        assert_eq!(
            i32::from_ne_bytes(c[word + 4..word + 8].try_into().unwrap()),
            103
        );
        assert_eq!(
            u16::from_ne_bytes(c[word + 8..word + 10].try_into().unwrap()),
            1400
        );
        assert!(c[word + 10..].iter().all(|&b| b == 0));
    }
}
