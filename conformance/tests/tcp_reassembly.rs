//! TCP reassembly on hand-built segment lists: reordering, retransmission, gaps, wraparound,
//! roles and connection splitting.

use std::net::SocketAddr;
use std::time::Duration;
use weir_conformance::capture::Packet;
use weir_conformance::link::{TcpFlags, TcpSegment, Transport};
use weir_conformance::tcp::{reassemble, Gap, RoleEvidence, TcpConnection};

const CLIENT: &str = "10.0.0.1:40000";
const SERVER: &str = "10.0.0.2:554";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn flags(spec: &str) -> TcpFlags {
    TcpFlags {
        syn: spec.contains('S'),
        ack: spec.contains('A'),
        fin: spec.contains('F'),
        rst: spec.contains('R'),
        psh: spec.contains('P'),
    }
}

/// A segment from `src` to `dst` at `ms` milliseconds.
fn seg(src: &str, dst: &str, ms: u64, seq: u32, ack: u32, spec: &str, payload: &[u8]) -> Packet {
    Packet {
        number: 0,
        timestamp: Duration::from_millis(ms),
        src: addr(src),
        dst: addr(dst),
        transport: Transport::Tcp(TcpSegment {
            seq,
            ack,
            flags: flags(spec),
            payload: payload.to_vec(),
            missing: 0,
        }),
    }
}

/// Numbers the packets 1.. in list order, as a capture file would.
fn numbered(mut packets: Vec<Packet>) -> Vec<Packet> {
    for (i, p) in packets.iter_mut().enumerate() {
        p.number = i + 1;
    }
    packets
}

fn only(packets: Vec<Packet>) -> TcpConnection {
    let mut connections = reassemble(&numbered(packets));
    assert_eq!(connections.len(), 1, "one connection expected");
    connections.remove(0)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Client data segments of `size` bytes covering `data`, the first byte at `isn + 1`.
fn client_segments(data: &[u8], isn: u32, size: usize) -> Vec<Packet> {
    data.chunks(size)
        .enumerate()
        .map(|(i, c)| {
            let seq = isn.wrapping_add(1).wrapping_add((i * size) as u32);
            seg(CLIENT, SERVER, 10 + i as u64, seq, 5001, "AP", c)
        })
        .collect()
}

fn handshake(isn: u32) -> Vec<Packet> {
    vec![
        seg(CLIENT, SERVER, 0, isn, 0, "S", b""),
        seg(SERVER, CLIENT, 1, 5000, isn.wrapping_add(1), "SA", b""),
        seg(CLIENT, SERVER, 2, isn.wrapping_add(1), 5001, "A", b""),
    ]
}

#[test]
fn in_order_exchange_reassembles_both_directions() {
    let mut packets = handshake(100);
    packets.push(seg(
        CLIENT,
        SERVER,
        3,
        101,
        5001,
        "AP",
        b"OPTIONS * RTSP/1.0\r\n\r\n",
    ));
    packets.push(seg(
        SERVER,
        CLIENT,
        4,
        5001,
        123,
        "AP",
        b"RTSP/1.0 200 OK\r\n\r\n",
    ));
    packets.push(seg(CLIENT, SERVER, 5, 123, 5020, "AF", b""));
    packets.push(seg(SERVER, CLIENT, 6, 5020, 124, "AF", b""));
    let c = only(packets);
    assert_eq!(c.client, addr(CLIENT));
    assert_eq!(c.server, addr(SERVER));
    assert_eq!(c.roles, RoleEvidence::Syn);
    assert_eq!(c.client_to_server.to_vec(), b"OPTIONS * RTSP/1.0\r\n\r\n");
    assert_eq!(c.server_to_client.to_vec(), b"RTSP/1.0 200 OK\r\n\r\n");
    assert!(c.client_to_server.gaps.is_empty() && c.server_to_client.gaps.is_empty());
    assert_eq!(c.client_to_server.chunks[0].offset, 0);
    assert_eq!(c.client_to_server.chunks[0].frame, 4);
    assert_eq!(c.client_to_server.packets, 4);
    assert!(c.client_to_server.syn && c.client_to_server.fin && !c.client_to_server.rst);
    assert_eq!(c.first, Duration::ZERO);
    assert_eq!(c.last, Duration::from_millis(6));
}

#[test]
fn shuffled_segments_reassemble_to_the_original_bytes() {
    let data = pattern(1000);
    let mut segments = client_segments(&data, 7_000, 100);
    // A fixed shuffle: 3 7 0 9 1 5 2 8 4 6.
    let order = [3, 7, 0, 9, 1, 5, 2, 8, 4, 6];
    segments = order.iter().map(|&i| segments[i].clone()).collect();
    let mut packets = handshake(7_000);
    packets.extend(segments);
    let c = only(packets);
    let half = &c.client_to_server;
    assert_eq!(half.to_vec(), data);
    assert!(half.gaps.is_empty());
    assert_eq!(half.chunks.len(), 10);
    // Offsets are in stream order; chunk times never go backwards.
    for (i, chunk) in half.chunks.iter().enumerate() {
        assert_eq!(chunk.offset, i as u64 * 100);
    }
    assert!(half
        .chunks
        .windows(2)
        .all(|w| w[0].timestamp <= w[1].timestamp));
    // Segments 0, 1, 2, 4, 5, 6 and 8 arrived after later data and filled holes.
    assert_eq!(half.out_of_order, 7);
    assert_eq!(half.retransmitted_bytes, 0);
}

#[test]
fn duplicated_and_overlapping_segments_do_not_duplicate_data() {
    let data = pattern(600);
    let segments = client_segments(&data, 1, 100);
    let mut packets = handshake(1);
    for s in &segments {
        packets.push(s.clone());
        packets.push(s.clone()); // exact duplicate
    }
    // A coalesced retransmission of bytes 150..420, overlapping three segments.
    packets.push(seg(
        CLIENT,
        SERVER,
        99,
        2 + 150,
        5001,
        "AP",
        &data[150..420],
    ));
    let c = only(packets);
    assert_eq!(c.client_to_server.to_vec(), data);
    assert!(c.client_to_server.gaps.is_empty());
    assert_eq!(c.client_to_server.retransmitted_bytes, 600 + 270);
    assert_eq!(c.client_to_server.chunks.len(), 6);
}

#[test]
fn retransmission_that_extends_past_the_original_adds_only_the_new_bytes() {
    let data = pattern(300);
    let mut packets = handshake(50);
    packets.push(seg(CLIENT, SERVER, 3, 51, 5001, "AP", &data[..100]));
    packets.push(seg(CLIENT, SERVER, 4, 51, 5001, "AP", &data[..300]));
    let c = only(packets);
    let half = &c.client_to_server;
    assert_eq!(half.to_vec(), data);
    assert_eq!(half.chunks.len(), 2);
    assert_eq!(half.chunks[1].offset, 100);
    assert_eq!(half.chunks[1].data, &data[100..]);
    assert_eq!(half.retransmitted_bytes, 100);
}

#[test]
fn a_missing_segment_is_a_gap_at_its_offset() {
    let data = pattern(500);
    let mut segments = client_segments(&data, 900, 100);
    segments.remove(2); // bytes 200..300 never captured
    let mut packets = handshake(900);
    packets.extend(segments);
    let c = only(packets);
    let half = &c.client_to_server;
    assert_eq!(
        half.gaps,
        vec![Gap {
            offset: 200,
            len: 100,
            before_chunk: 2
        }]
    );
    assert_eq!(half.missing(), 100);
    let mut expected = data[..200].to_vec();
    expected.extend_from_slice(&data[300..]);
    assert_eq!(half.to_vec(), expected);
    assert_eq!(half.contiguous_prefix(), &data[..200]);
    assert_eq!(half.chunks[2].offset, 300);
}

#[test]
fn a_missing_first_segment_after_the_syn_is_a_gap_at_zero() {
    let data = pattern(300);
    let mut segments = client_segments(&data, 10, 100);
    segments.remove(0);
    let mut packets = handshake(10);
    packets.extend(segments);
    let c = only(packets);
    assert_eq!(c.client_to_server.gaps[0].offset, 0);
    assert_eq!(c.client_to_server.gaps[0].len, 100);
    assert!(c.client_to_server.contiguous_prefix().is_empty());
}

#[test]
fn a_missing_last_segment_shows_through_the_fin_and_the_peer_ack() {
    let data = pattern(300);
    // Through the FIN: the FIN's sequence number is past the last captured byte.
    let mut packets = handshake(0);
    packets.extend(client_segments(&data[..200], 0, 100));
    packets.push(seg(CLIENT, SERVER, 50, 1 + 300, 5001, "AF", b""));
    let c = only(packets);
    assert_eq!(
        c.client_to_server.gaps,
        vec![Gap {
            offset: 200,
            len: 100,
            before_chunk: 2
        }]
    );

    // Through the server's acknowledgement of bytes that were not captured.
    let mut packets = handshake(0);
    packets.extend(client_segments(&data[..200], 0, 100));
    packets.push(seg(SERVER, CLIENT, 50, 5001, 1 + 300, "A", b""));
    let c = only(packets);
    assert_eq!(
        c.client_to_server.gaps,
        vec![Gap {
            offset: 200,
            len: 100,
            before_chunk: 2
        }]
    );

    // An acknowledgement one past the data may be of an uncaptured FIN: not a gap.
    let mut packets = handshake(0);
    packets.extend(client_segments(&data[..200], 0, 100));
    packets.push(seg(SERVER, CLIENT, 50, 5001, 1 + 201, "A", b""));
    assert!(only(packets).client_to_server.gaps.is_empty());
}

#[test]
fn bytes_cut_off_by_the_snap_length_are_a_gap_unless_retransmitted_whole() {
    let data = pattern(200);
    let mut cut = seg(CLIENT, SERVER, 3, 1, 5001, "AP", &data[..60]);
    if let Transport::Tcp(t) = &mut cut.transport {
        t.missing = 40;
    }
    let mut packets = handshake(0);
    packets.push(cut.clone());
    packets.push(seg(CLIENT, SERVER, 4, 101, 5001, "AP", &data[100..]));
    let c = only(packets);
    assert_eq!(
        c.client_to_server.gaps,
        vec![Gap {
            offset: 60,
            len: 40,
            before_chunk: 1
        }]
    );

    let mut packets = handshake(0);
    packets.push(cut);
    packets.push(seg(CLIENT, SERVER, 4, 101, 5001, "AP", &data[100..]));
    packets.push(seg(CLIENT, SERVER, 5, 1, 5001, "AP", &data[..100]));
    let c = only(packets);
    assert!(c.client_to_server.gaps.is_empty());
    assert_eq!(c.client_to_server.to_vec(), data);
}

#[test]
fn sequence_numbers_wrap_around_two_to_the_32() {
    let data = pattern(1000);
    let isn = u32::MAX - 300;
    let mut packets = handshake(isn);
    let mut segments = client_segments(&data, isn, 128);
    segments.reverse();
    packets.extend(segments);
    let c = only(packets);
    assert_eq!(c.client_to_server.to_vec(), data);
    assert!(c.client_to_server.gaps.is_empty());

    // Without the handshake the stream starts at the lowest captured byte, across the wrap too.
    let mut segments = client_segments(&data, u32::MAX - 50, 100);
    segments.swap(0, 3);
    let c = only(segments);
    assert_eq!(c.client_to_server.to_vec(), data);
    assert!(c.client_to_server.gaps.is_empty());
}

#[test]
fn a_gap_across_the_wrap_is_measured_in_unwrapped_bytes() {
    let data = pattern(400);
    let isn = u32::MAX - 150;
    let mut segments = client_segments(&data, isn, 100);
    segments.remove(1); // bytes 100..200, spanning 2^32
    let mut packets = handshake(isn);
    packets.extend(segments);
    let c = only(packets);
    assert_eq!(
        c.client_to_server.gaps,
        vec![Gap {
            offset: 100,
            len: 100,
            before_chunk: 1
        }]
    );
}

#[test]
fn roles_without_a_syn() {
    // Only the SYN-ACK: its receiver is the client.
    let c = only(vec![
        seg(SERVER, CLIENT, 0, 5000, 101, "SA", b""),
        seg(CLIENT, SERVER, 1, 101, 5001, "AP", b"x"),
    ]);
    assert_eq!((c.client, c.roles), (addr(CLIENT), RoleEvidence::SynAck));

    // Mid-stream: the well-known port is the server, whoever sent first.
    let c = only(vec![seg(
        "10.0.0.2:1935",
        "10.0.0.1:1000",
        0,
        1,
        1,
        "AP",
        b"x",
    )]);
    assert_eq!(c.server, addr("10.0.0.2:1935"));
    assert_eq!(c.roles, RoleEvidence::WellKnownPort);

    // No well-known port: the lower port is the server.
    let c = only(vec![seg(
        "10.0.0.2:3000",
        "10.0.0.1:45000",
        0,
        1,
        1,
        "AP",
        b"x",
    )]);
    assert_eq!(c.server, addr("10.0.0.2:3000"));
    assert_eq!(c.client, addr("10.0.0.1:45000"));
    assert_eq!(c.roles, RoleEvidence::LowerPort);
}

#[test]
fn a_new_syn_on_the_same_ports_starts_a_new_connection() {
    let mut packets = handshake(100);
    packets.push(seg(CLIENT, SERVER, 3, 101, 5001, "AP", b"first"));
    packets.push(seg(CLIENT, SERVER, 4, 100, 0, "S", b"")); // retransmitted SYN: same one
    packets.push(seg(CLIENT, SERVER, 5, 106, 5001, "AF", b""));
    packets.push(seg(CLIENT, SERVER, 10, 90_000, 0, "S", b""));
    packets.push(seg(SERVER, CLIENT, 11, 70_000, 90_001, "SA", b""));
    packets.push(seg(CLIENT, SERVER, 12, 90_001, 70_001, "AP", b"second"));
    let connections = reassemble(&numbered(packets));
    assert_eq!(connections.len(), 2);
    assert_eq!(connections[0].client_to_server.to_vec(), b"first");
    assert_eq!(connections[1].client_to_server.to_vec(), b"second");
    assert_eq!(connections[1].first, Duration::from_millis(10));
}

#[test]
fn data_carried_on_the_syn_is_kept() {
    let c = only(vec![
        seg(CLIENT, SERVER, 0, 41, 0, "S", b"fast open"),
        seg(CLIENT, SERVER, 1, 51, 0, "AP", b" data"),
    ]);
    assert_eq!(c.client_to_server.to_vec(), b"fast open data");
}

#[test]
fn udp_packets_are_ignored_by_reassembly() {
    let udp = Packet {
        number: 1,
        timestamp: Duration::ZERO,
        src: addr(CLIENT),
        dst: addr(SERVER),
        transport: Transport::Udp(weir_conformance::link::UdpDatagram {
            payload: b"rtp".to_vec(),
            missing: 0,
        }),
    };
    assert!(reassemble(&[udp]).is_empty());
}
