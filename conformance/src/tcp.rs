//! TCP reassembly: groups a capture's segments into connections, tells client from server, and
//! rebuilds each direction's byte stream in sequence order — out-of-order segments put back in
//! place, retransmitted (duplicate or overlapping) bytes taken once, sequence numbers unwrapped
//! across 2^32 — with every stretch of bytes the capture missed recorded as a [`Gap`].

use crate::capture::Packet;
use crate::link::{TcpSegment, Transport};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::time::Duration;

/// Ports on which a capture's server is assumed to listen when no SYN says who connected:
/// RTSP, RTSPS, RTMP, RTMPS and HTTP (MediaMTX's HLS is 8888).
pub const WELL_KNOWN_PORTS: [u16; 10] = [554, 8554, 322, 8322, 1935, 1936, 80, 8080, 8888, 443];

/// A run of bytes of one direction, as one captured segment delivered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// When the bytes became available in order: the capture time of the segment that
    /// carried them, raised to the previous chunk's time if that is later (so chunks' times
    /// never decrease).
    pub timestamp: Duration,
    /// Position of the first byte in the direction's stream (0 = first byte after the SYN,
    /// or the first captured byte when the SYN was not captured).
    pub offset: u64,
    /// The bytes.
    pub data: Vec<u8>,
    /// Frame number of the segment that carried them.
    pub frame: usize,
}

/// Bytes of a direction's stream that the capture does not hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// Position of the first missing byte in the stream (same origin as [`Chunk::offset`]).
    pub offset: u64,
    /// Number of missing bytes.
    pub len: u64,
    /// Index in [`HalfStream::chunks`] of the first chunk after the gap (`chunks.len()` when
    /// the gap is at the end).
    pub before_chunk: usize,
}

/// One direction of a TCP connection, reassembled.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HalfStream {
    /// The bytes in stream order: one chunk per run of new bytes a segment brought (bytes an
    /// earlier-captured segment already brought are not repeated).
    pub chunks: Vec<Chunk>,
    /// Missing stretches, in stream order. Holes between captured bytes, bytes cut off by the
    /// snap length, and a missing tail shown by a FIN or by the peer acknowledging bytes
    /// beyond the last captured one (an acknowledgement exactly one past is taken for an
    /// uncaptured FIN, not a byte). Bytes before the first captured one are only known to be
    /// missing when the SYN was captured.
    pub gaps: Vec<Gap>,
    /// Segments sent in this direction (including pure ACKs).
    pub packets: usize,
    /// A SYN was captured in this direction.
    pub syn: bool,
    /// A FIN was captured in this direction.
    pub fin: bool,
    /// A RST was captured in this direction.
    pub rst: bool,
    /// Captured payload bytes that repeated bytes already delivered (retransmissions).
    pub retransmitted_bytes: u64,
    /// Segments that arrived after later data and filled a hole (out-of-order arrivals).
    pub out_of_order: usize,
}

impl HalfStream {
    /// Number of bytes the capture holds for this direction (gaps excluded).
    pub fn len(&self) -> u64 {
        self.chunks.iter().map(|c| c.data.len() as u64).sum()
    }

    /// Whether the direction carried no captured bytes.
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Total number of bytes the capture is missing for this direction.
    pub fn missing(&self) -> u64 {
        self.gaps.iter().map(|g| g.len).sum()
    }

    /// The captured bytes concatenated in stream order (gaps are skipped, not filled).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(usize::try_from(self.len()).unwrap_or(0));
        for chunk in &self.chunks {
            out.extend_from_slice(&chunk.data);
        }
        out
    }

    /// The bytes from the start of the stream up to the first gap.
    pub fn contiguous_prefix(&self) -> Vec<u8> {
        let end = self
            .gaps
            .first()
            .map_or(self.chunks.len(), |g| g.before_chunk);
        let mut out = Vec::new();
        for chunk in &self.chunks[..end] {
            out.extend_from_slice(&chunk.data);
        }
        out
    }
}

/// How the client and server of a connection were told apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleEvidence {
    /// The client sent the captured SYN.
    Syn,
    /// The server sent the captured SYN-ACK (the SYN itself was not captured).
    SynAck,
    /// Only the server's port is in [`WELL_KNOWN_PORTS`].
    WellKnownPort,
    /// The server has the lower port (or, on equal ports, received the first packet).
    LowerPort,
}

/// One TCP connection of a capture, reassembled in both directions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpConnection {
    /// The side that opened the connection.
    pub client: SocketAddr,
    /// The side that accepted it.
    pub server: SocketAddr,
    /// How `client` and `server` were decided.
    pub roles: RoleEvidence,
    /// Client-to-server bytes.
    pub client_to_server: HalfStream,
    /// Server-to-client bytes.
    pub server_to_client: HalfStream,
    /// Time of the connection's first captured segment.
    pub first: Duration,
    /// Time of its last captured segment.
    pub last: Duration,
}

/// A segment as the reassembler sees it.
struct Seg<'a> {
    frame: usize,
    timestamp: Duration,
    from_a: bool,
    tcp: &'a TcpSegment,
}

/// A connection being collected: `a` sent its first captured segment.
struct Collecting<'a> {
    a: SocketAddr,
    b: SocketAddr,
    segs: Vec<Seg<'a>>,
}

impl Collecting<'_> {
    /// Whether a SYN (without ACK) from `src` with sequence number `seq` opens a new connection
    /// rather than repeating this one's SYN.
    fn is_new_syn(&self, src: SocketAddr, seq: u32) -> bool {
        let from_a = src == self.a;
        !self
            .segs
            .iter()
            .any(|s| s.from_a == from_a && s.tcp.flags.syn && !s.tcp.flags.ack && s.tcp.seq == seq)
    }
}

/// Groups the TCP segments among `packets` into connections and reassembles both directions
/// of each; connections are listed in the order of their first captured segment.
pub fn reassemble(packets: &[Packet]) -> Vec<TcpConnection> {
    let mut collecting: Vec<Collecting<'_>> = Vec::new();
    let mut current: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    for packet in packets {
        let Transport::Tcp(tcp) = &packet.transport else {
            continue;
        };
        let key = if packet.src <= packet.dst {
            (packet.src, packet.dst)
        } else {
            (packet.dst, packet.src)
        };
        let fresh_syn = tcp.flags.syn && !tcp.flags.ack;
        let existing = current
            .get(&key)
            .copied()
            .filter(|&i| !(fresh_syn && collecting[i].is_new_syn(packet.src, tcp.seq)));
        let i = match existing {
            Some(i) => i,
            None => {
                collecting.push(Collecting {
                    a: packet.src,
                    b: packet.dst,
                    segs: Vec::new(),
                });
                current.insert(key, collecting.len() - 1);
                collecting.len() - 1
            }
        };
        let from_a = packet.src == collecting[i].a;
        collecting[i].segs.push(Seg {
            frame: packet.number,
            timestamp: packet.timestamp,
            from_a,
            tcp,
        });
    }
    collecting.iter().map(finish).collect()
}

fn finish(c: &Collecting<'_>) -> TcpConnection {
    let (a_is_client, roles) = decide_roles(c);
    let (client, server) = if a_is_client { (c.a, c.b) } else { (c.b, c.a) };
    let from_client: Vec<&Seg<'_>> = c.segs.iter().filter(|s| s.from_a == a_is_client).collect();
    let from_server: Vec<&Seg<'_>> = c.segs.iter().filter(|s| s.from_a != a_is_client).collect();
    TcpConnection {
        client,
        server,
        roles,
        client_to_server: assemble(&from_client, &from_server),
        server_to_client: assemble(&from_server, &from_client),
        first: c.segs.iter().map(|s| s.timestamp).min().unwrap_or_default(),
        last: c.segs.iter().map(|s| s.timestamp).max().unwrap_or_default(),
    }
}

/// Decides whether `a` is the client, and on what evidence.
fn decide_roles(c: &Collecting<'_>) -> (bool, RoleEvidence) {
    if let Some(syn) = c.segs.iter().find(|s| s.tcp.flags.syn && !s.tcp.flags.ack) {
        return (syn.from_a, RoleEvidence::Syn);
    }
    if let Some(syn_ack) = c.segs.iter().find(|s| s.tcp.flags.syn && s.tcp.flags.ack) {
        return (!syn_ack.from_a, RoleEvidence::SynAck);
    }
    let known = |addr: SocketAddr| WELL_KNOWN_PORTS.contains(&addr.port());
    match (known(c.a), known(c.b)) {
        (true, false) => return (false, RoleEvidence::WellKnownPort),
        (false, true) => return (true, RoleEvidence::WellKnownPort),
        _ => {}
    }
    // The server has the lower port; on a tie, the first packet went to the server.
    (c.a.port() >= c.b.port(), RoleEvidence::LowerPort)
}

/// Unwraps 32-bit sequence numbers into a 64-bit space, each relative to the previous one.
struct Unwrapper {
    last_seq: u32,
    last: i64,
}

impl Unwrapper {
    fn new(origin: u32) -> Unwrapper {
        Unwrapper {
            last_seq: origin,
            last: 0,
        }
    }

    fn unwrap(&mut self, seq: u32) -> i64 {
        // The nearest value: a difference beyond ±2^31 is taken the other way round.
        let value = self.last + i64::from(seq.wrapping_sub(self.last_seq) as i32);
        self.last_seq = seq;
        self.last = value;
        value
    }
}

/// A captured run of payload at an unwrapped sequence position.
struct Piece<'a> {
    start: i64,
    data: &'a [u8],
    seg: usize,
}

/// Reassembles the segments `own` of one direction; `peer` are the other direction's segments,
/// whose acknowledgements reveal data the capture missed at the end.
fn assemble(own: &[&Seg<'_>], peer: &[&Seg<'_>]) -> HalfStream {
    let mut half = HalfStream {
        packets: own.len(),
        syn: own.iter().any(|s| s.tcp.flags.syn),
        fin: own.iter().any(|s| s.tcp.flags.fin),
        rst: own.iter().any(|s| s.tcp.flags.rst),
        ..HalfStream::default()
    };
    let Some(first) = own.first() else {
        return half;
    };
    let mut unwrapper = Unwrapper::new(first.tcp.seq);
    let mut pieces = Vec::new();
    let mut syn_at = None;
    let mut fin_at = None;
    let mut claimed_end = i64::MIN;
    for (n, seg) in own.iter().enumerate() {
        let seq = unwrapper.unwrap(seg.tcp.seq);
        let syn = i64::from(seg.tcp.flags.syn);
        if seg.tcp.flags.syn && syn_at.is_none() {
            syn_at = Some(seq);
        }
        let start = seq + syn;
        let end = start + i64::try_from(seg.tcp.wire_len()).unwrap_or(i64::MAX / 4);
        if seg.tcp.flags.fin && fin_at.is_none() {
            fin_at = Some(end);
        }
        if seg.tcp.wire_len() > 0 {
            claimed_end = claimed_end.max(end);
        }
        if !seg.tcp.payload.is_empty() {
            pieces.push(Piece {
                start,
                data: &seg.tcp.payload,
                seg: n,
            });
        }
    }
    let data_start = match syn_at {
        Some(syn) => syn + 1,
        None => pieces
            .iter()
            .map(|p| p.start)
            .chain(fin_at)
            .min()
            .unwrap_or(0),
    };

    // Lay the pieces down in capture order: each keeps only the bytes no earlier piece
    // brought, so the first captured copy of retransmitted bytes is the one kept.
    let mut covered: BTreeMap<i64, (i64, usize)> = BTreeMap::new();
    let mut highest = i64::MIN;
    for (p, piece) in pieces.iter().enumerate() {
        let len = piece.data.len() as i64;
        let (from, to) = (piece.start.max(data_start), piece.start + len);
        let mut fresh = Vec::new();
        let mut pos = from;
        if from < to {
            let begin = covered.range(..=from).next_back().map_or(from, |(&a, _)| a);
            for (&a, &(b, _)) in covered.range(begin..to) {
                if a > pos {
                    fresh.push((pos, a));
                }
                pos = pos.max(b);
                if pos >= to {
                    break;
                }
            }
            if pos < to {
                fresh.push((pos, to));
            }
        }
        let new_bytes: i64 = fresh.iter().map(|(a, b)| b - a).sum();
        half.retransmitted_bytes += (len - new_bytes) as u64;
        if new_bytes > 0 && piece.start < highest {
            half.out_of_order += 1;
        }
        highest = highest.max(to);
        for (a, b) in fresh {
            covered.insert(a, (b, p));
        }
    }

    // Read the covered runs in sequence order; holes between them are gaps.
    let mut cursor = data_start;
    let mut last_time = Duration::ZERO;
    for (&a, &(b, p)) in &covered {
        if a > cursor {
            half.gaps.push(Gap {
                offset: (cursor - data_start) as u64,
                len: (a - cursor) as u64,
                before_chunk: half.chunks.len(),
            });
        }
        let piece = &pieces[p];
        let seg = own[piece.seg];
        last_time = last_time.max(seg.timestamp);
        half.chunks.push(Chunk {
            timestamp: last_time,
            offset: (a - data_start) as u64,
            data: piece.data[(a - piece.start) as usize..(b - piece.start) as usize].to_vec(),
            frame: seg.frame,
        });
        cursor = b;
    }

    // Where the stream ends, as far as the capture can tell.
    let mut end = cursor.max(claimed_end);
    if let Some(fin) = fin_at {
        end = end.max(fin);
    }
    if let Some(acked) = highest_ack(own[0].tcp.seq, peer) {
        let acked = match fin_at {
            Some(fin) => acked.min(fin),
            // One byte beyond the data may be an uncaptured FIN rather than data.
            None if acked == end + 1 => end,
            None => acked,
        };
        // Acknowledgements far beyond the data are not evidence (garbage or a bad unwrap).
        if acked - end < 1 << 30 {
            end = end.max(acked);
        }
    }
    if end > cursor {
        half.gaps.push(Gap {
            offset: (cursor - data_start) as u64,
            len: (end - cursor) as u64,
            before_chunk: half.chunks.len(),
        });
    }
    half
}

/// The highest acknowledgement number `peer` sent, unwrapped in the space whose origin is the
/// sequence number `origin`.
fn highest_ack(origin: u32, peer: &[&Seg<'_>]) -> Option<i64> {
    let mut unwrapper = Unwrapper::new(origin);
    peer.iter()
        .filter(|s| s.tcp.flags.ack && !s.tcp.flags.rst)
        .map(|s| unwrapper.unwrap(s.tcp.ack))
        .max()
}
