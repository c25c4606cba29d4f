//! RTSP stream splitting, Transport header ports, protocol classification, UDP grouping and
//! the association of RTSP SETUPs with their UDP flows, on hand-built traffic.

use std::net::SocketAddr;
use std::time::Duration;
use weir_conformance::capture::{CaptureFormat, Packet, Packets};
use weir_conformance::flows::{classify, udp_kind, RtspLink};
use weir_conformance::link::{LinkType, TcpFlags, TcpSegment, Transport, UdpDatagram};
use weir_conformance::rtsp::{looks_like_start_line, parse_transport, split_rtsp, RtspItem};
use weir_conformance::tcp::reassemble;
use weir_conformance::{Capture, Protocol, UdpKind};

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn messages(items: &[RtspItem]) -> Vec<&str> {
    items
        .iter()
        .map(|i| match i {
            RtspItem::Message(m) => m.start_line.as_str(),
            RtspItem::Interleaved { .. } => "$",
        })
        .collect()
}

#[test]
fn split_requests_bodies_and_interleaved_frames() {
    let mut stream =
        b"ANNOUNCE rtsp://h/p RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 5\r\n\r\nv=0\r\n".to_vec();
    stream.extend_from_slice(b"$\x01\x00\x03abc");
    stream.extend_from_slice(b"RECORD rtsp://h/p RTSP/1.0\r\nCSeq: 2\r\nSession: 9\r\n\r\n");
    stream.extend_from_slice(b"SETUP rtsp://h/p RTSP/1.0\r\nCSeq: 3\r\n"); // unfinished
    let split = split_rtsp(&stream, 1000, false);
    assert_eq!(
        messages(&split.items),
        [
            "ANNOUNCE rtsp://h/p RTSP/1.0",
            "$",
            "RECORD rtsp://h/p RTSP/1.0"
        ]
    );
    let RtspItem::Message(announce) = &split.items[0] else {
        panic!()
    };
    assert_eq!(announce.offset, 1000);
    assert_eq!(announce.body, b"v=0\r\n");
    assert_eq!(announce.method(), Some("ANNOUNCE"));
    assert_eq!(announce.uri(), Some("rtsp://h/p"));
    assert_eq!(announce.cseq(), Some(1));
    assert_eq!(announce.header("content-length"), Some("5"));
    assert_eq!(
        split.items[1],
        RtspItem::Interleaved {
            offset: 1000 + 65,
            channel: 1,
            data: b"abc".to_vec()
        }
    );
    assert_eq!(split.incomplete, 36);
    assert_eq!(split.skipped, 0);
}

#[test]
fn split_responses_and_resynchronise_after_a_gap() {
    // The run starts in the middle of a response (its head was lost in a gap).
    let stream = b"ength: 0\r\n\r\nRTSP/1.0 200 OK\r\nCSeq: 4\r\n\r\nRTSP/1.0 454 Session Not Found\r\nCSeq: 5\r\n\r\n";
    let strict = split_rtsp(stream, 0, false);
    assert!(strict.items.is_empty());
    assert_eq!(strict.skipped, stream.len() as u64);
    let split = split_rtsp(stream, 0, true);
    assert_eq!(
        messages(&split.items),
        ["RTSP/1.0 200 OK", "RTSP/1.0 454 Session Not Found"]
    );
    assert_eq!(split.skipped, 12);
    let RtspItem::Message(last) = &split.items[1] else {
        panic!()
    };
    assert_eq!(
        (last.status(), last.method(), last.cseq()),
        (Some(454), None, Some(5))
    );
}

#[test]
fn start_lines() {
    assert!(looks_like_start_line(b"OPTIONS * RTSP/1.0\r\n"));
    assert!(looks_like_start_line(
        b"GET_PARAMETER rtsp://a/ RTSP/1.0\r\n"
    ));
    assert!(looks_like_start_line(b"RTSP/1.0 200 OK\r\n"));
    assert!(looks_like_start_line(b"DESCRIBE rtsp://cam/stre")); // cut before the line end
    assert!(!looks_like_start_line(b"GET / HTTP/1.1\r\n"));
    assert!(!looks_like_start_line(b"\x03\x00\x00\x00"));
    assert!(!looks_like_start_line(b"options * RTSP/1.0\r\n"));
}

#[test]
fn transport_header_ports_and_channels() {
    let specs = parse_transport(
        "RTP/AVP;unicast;client_port=55664-55665;server_port=58547-58548;ssrc=1234",
    );
    assert_eq!(specs.len(), 1);
    assert_eq!(specs[0].protocol, "RTP/AVP");
    assert_eq!(specs[0].client_port, Some((55664, 55665)));
    assert_eq!(specs[0].server_port, Some((58547, 58548)));
    assert_eq!(specs[0].interleaved, None);

    let specs = parse_transport("RTP/AVP/TCP;unicast;interleaved=2-3, RTP/AVP;client_port=7000");
    assert_eq!(specs.len(), 2);
    assert_eq!(specs[0].interleaved, Some((2, 3)));
    assert_eq!(specs[1].client_port, Some((7000, 7001)));

    let specs = parse_transport("RTP/AVP;multicast;destination=224.1.2.3;port=5000-5001;ttl=16");
    assert!(specs[0].multicast);
    assert_eq!(specs[0].port, Some((5000, 5001)));

    let specs = parse_transport("RTP/AVP;client_port=x-y;interleaved=300");
    assert_eq!((specs[0].client_port, specs[0].interleaved), (None, None));
}

#[test]
fn rtp_and_rtcp_are_told_apart() {
    let mut rtp = vec![0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(udp_kind(&rtp), UdpKind::Rtp);
    rtp[1] = 0x80 | 111; // marker + PT 111
    assert_eq!(udp_kind(&rtp), UdpKind::Rtp);
    assert_eq!(udp_kind(&[0x81, 201, 0, 1, 0, 0, 0, 1]), UdpKind::Rtcp); // RR
    assert_eq!(udp_kind(&[0x80, 200, 0]), UdpKind::Other);
    assert_eq!(udp_kind(b"\x47\x40\x00\x10"), UdpKind::Other); // MPEG-TS
    assert_eq!(udp_kind(&rtp[..8]), UdpKind::Other);
}

fn tcp(ms: u64, src: &str, dst: &str, seq: u32, syn: bool, payload: &[u8]) -> Packet {
    Packet {
        number: 0,
        timestamp: Duration::from_millis(ms),
        src: addr(src),
        dst: addr(dst),
        transport: Transport::Tcp(TcpSegment {
            seq,
            ack: 1,
            flags: TcpFlags {
                syn,
                ack: !syn,
                psh: !payload.is_empty(),
                ..TcpFlags::default()
            },
            payload: payload.to_vec(),
            missing: 0,
        }),
    }
}

fn udp(ms: u64, src: &str, dst: &str, payload: &[u8]) -> Packet {
    Packet {
        number: 0,
        timestamp: Duration::from_millis(ms),
        src: addr(src),
        dst: addr(dst),
        transport: Transport::Udp(UdpDatagram {
            payload: payload.to_vec(),
            missing: 0,
        }),
    }
}

#[test]
fn protocols_by_content_then_port() {
    let conn = |packets: Vec<Packet>| reassemble(&packets).remove(0);
    let c = "10.0.0.1:50000";
    // RTSP on a port that says nothing.
    let p = conn(vec![tcp(
        0,
        c,
        "10.0.0.2:9000",
        1,
        false,
        b"OPTIONS rtsp://x/ RTSP/1.0\r\n\r\n",
    )]);
    assert_eq!(classify(&p), Protocol::Rtsp);
    // HTTP on the RTSP port.
    let p = conn(vec![tcp(
        0,
        c,
        "10.0.0.2:8554",
        1,
        false,
        b"GET /index.m3u8 HTTP/1.1\r\n\r\n",
    )]);
    assert_eq!(classify(&p), Protocol::Http);
    // An RTMP C0+C1 on port 80.
    let mut c0c1 = vec![3u8];
    c0c1.extend_from_slice(&[0; 1536]);
    let p = conn(vec![tcp(0, c, "10.0.0.2:80", 1, false, &c0c1)]);
    assert_eq!(classify(&p), Protocol::Rtmp);
    // A lone 0x03 is RTMP only on the RTMP port.
    let p = conn(vec![tcp(0, c, "10.0.0.2:1935", 1, false, &[3, 0, 0])]);
    assert_eq!(classify(&p), Protocol::Rtmp);
    let p = conn(vec![tcp(0, c, "10.0.0.2:7000", 1, false, &[3, 0, 0])]);
    assert_eq!(classify(&p), Protocol::Unknown);
    // The server's answer decides when the client's bytes do not.
    let p = conn(vec![
        tcp(0, c, "10.0.0.2:7000", 1, true, b""),
        tcp(1, "10.0.0.2:7000", c, 1, false, b"RTSP/1.0 200 OK\r\n\r\n"),
    ]);
    assert_eq!(classify(&p), Protocol::Rtsp);
    // Nothing but the port: 554 is RTSP, 8888 HTTP.
    let p = conn(vec![tcp(0, c, "10.0.0.2:554", 1, true, b"")]);
    assert_eq!(classify(&p), Protocol::Rtsp);
    let p = conn(vec![tcp(0, c, "10.0.0.2:8888", 1, true, b"")]);
    assert_eq!(classify(&p), Protocol::Http);
}

#[test]
fn rtsp_setups_find_their_udp_flows() {
    let client = "192.168.1.10:40000";
    let server = "192.168.1.20:554";
    let setup = b"SETUP rtsp://cam/stream/trackID=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n";
    let reply = b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 77\r\nTransport: RTP/AVP;unicast;client_port=5000-5001;server_port=6000-6001\r\n\r\n";
    let rtp = [0x80, 96, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xaa];
    let rr = [0x81, 201, 0, 1, 0, 0, 0, 1];
    let mut packets = vec![
        tcp(0, client, server, 100, true, b""),
        tcp(1, client, server, 101, false, setup),
        tcp(2, server, client, 900, false, reply),
        udp(3, "192.168.1.20:6000", "192.168.1.10:5000", &rtp),
        udp(4, "192.168.1.20:6000", "192.168.1.10:5000", &rtp),
        udp(5, "192.168.1.10:5001", "192.168.1.20:6001", &rr),
        // Same client port, but a server port the SETUP did not grant.
        udp(6, "192.168.1.20:7000", "192.168.1.10:5000", &rtp),
        // Unrelated.
        udp(7, "192.168.1.30:9", "192.168.1.10:9", b"wake"),
    ];
    for (i, p) in packets.iter_mut().enumerate() {
        p.number = i + 1;
    }
    let capture = Capture::from_packets(Packets {
        format: CaptureFormat::Pcap,
        link_types: vec![LinkType::ETHERNET],
        start: Duration::ZERO,
        frames: packets.len(),
        packets,
        skipped: vec![],
        truncated: None,
    });
    assert_eq!(capture.tcp_flows().len(), 1);
    assert_eq!(capture.tcp_flows()[0].protocol, Protocol::Rtsp);
    let setups = capture.rtsp_setups(0);
    assert_eq!(setups.len(), 1);
    assert_eq!(setups[0].uri, "rtsp://cam/stream/trackID=0");
    assert_eq!(setups[0].status, Some(200));
    assert_eq!(setups[0].client_port, Some((5000, 5001)));
    assert_eq!(setups[0].server_port, Some((6000, 6001)));
    assert_eq!(setups[0].udp_flows, vec![0, 1]);

    let udp = capture.udp_flows();
    assert_eq!(udp.len(), 4);
    assert_eq!(
        (udp[0].kind, udp[0].datagrams.len(), udp[0].bytes()),
        (UdpKind::Rtp, 2, 26)
    );
    assert_eq!(udp[1].kind, UdpKind::Rtcp);
    let link = Some(RtspLink {
        tcp_flow: 0,
        setup: 0,
    });
    assert_eq!((&udp[0].rtsp, &udp[1].rtsp), (&link, &link));
    assert_eq!((&udp[2].rtsp, &udp[3].rtsp), (&None, &None));
    assert_eq!(udp[3].kind, UdpKind::Other);
    assert_eq!(udp[0].datagrams[1].frame, 5);

    // The summary lists both tables and the setup.
    let summary = capture.summary();
    assert!(summary.contains("RTSP"));
    assert!(summary.contains("5000-5001"));
    assert!(summary.contains("tcp 0 setup 0"));
    assert!(capture
        .details()
        .contains("SETUP rtsp://cam/stream/trackID=0 RTSP/1.0"));
}
