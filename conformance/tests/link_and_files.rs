//! Frame decoding on every supported link type, and pcap/pcapng file reading (timestamps,
//! resolutions, truncation), on frames built with etherparse's packet builder.

use etherparse::{PacketBuilder, VlanId};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::{Block, PcapNgWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::Duration;
use weir_conformance::capture::{read_frames, read_packets, CaptureFormat};
use weir_conformance::link::{decode_frame, LinkType, SkipReason, Transport};
use weir_conformance::{Capture, CaptureError};

/// An IPv4 TCP segment 192.0.2.1:40000 -> 192.0.2.2:554, seq 1000, ACK 77, PSH.
fn ipv4_tcp(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .tcp(40000, 554, 1000, 65535)
        .psh()
        .ack(77)
        .write(&mut out, payload)
        .unwrap();
    out
}

/// An IPv6 UDP datagram [2001:db8::1]:5000 -> [2001:db8::2]:6000.
fn ipv6_udp(payload: &[u8]) -> Vec<u8> {
    let a = "2001:db8::1"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets();
    let b = "2001:db8::2"
        .parse::<std::net::Ipv6Addr>()
        .unwrap()
        .octets();
    let mut out = Vec::new();
    PacketBuilder::ipv6(a, b, 64)
        .udp(5000, 6000)
        .write(&mut out, payload)
        .unwrap();
    out
}

fn sock(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn assert_tcp(link: LinkType, frame: &[u8], payload: &[u8]) {
    let d = decode_frame(link, frame).unwrap_or_else(|e| panic!("{link}: {e}"));
    assert_eq!(d.src, sock("192.0.2.1:40000"), "{link}");
    assert_eq!(d.dst, sock("192.0.2.2:554"), "{link}");
    let Transport::Tcp(tcp) = d.transport else {
        panic!("{link}: not TCP")
    };
    assert_eq!((tcp.seq, tcp.ack), (1000, 77));
    assert!(tcp.flags.psh && tcp.flags.ack && !tcp.flags.syn && !tcp.flags.fin);
    assert_eq!(tcp.payload, payload);
    assert_eq!(tcp.missing, 0);
}

fn assert_udp6(link: LinkType, frame: &[u8], payload: &[u8]) {
    let d = decode_frame(link, frame).unwrap_or_else(|e| panic!("{link}: {e}"));
    assert_eq!(d.src, sock("[2001:db8::1]:5000"), "{link}");
    assert_eq!(d.dst, sock("[2001:db8::2]:6000"), "{link}");
    assert_eq!(
        d.transport,
        Transport::Udp(weir_conformance::UdpDatagram {
            payload: payload.to_vec(),
            missing: 0
        })
    );
}

fn prefixed(header: &[u8], packet: &[u8]) -> Vec<u8> {
    let mut out = header.to_vec();
    out.extend_from_slice(packet);
    out
}

#[test]
fn ethernet_with_and_without_vlan_and_padding() {
    let mut frame = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .tcp(40000, 554, 1000, 65535)
        .psh()
        .ack(77)
        .write(&mut frame, b"hi")
        .unwrap();
    // Padding to the 60-byte Ethernet minimum is not payload.
    frame.resize(60, 0);
    assert_tcp(LinkType::ETHERNET, &frame, b"hi");

    let mut tagged = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .single_vlan(VlanId::try_new(42).unwrap())
        .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .tcp(40000, 554, 1000, 65535)
        .psh()
        .ack(77)
        .write(&mut tagged, b"vlan")
        .unwrap();
    assert_tcp(LinkType::ETHERNET, &tagged, b"vlan");
}

#[test]
fn raw_ip_and_loopback_link_types() {
    let v4 = ipv4_tcp(b"raw");
    let v6 = ipv6_udp(b"six");
    for link in [
        LinkType::RAW,
        LinkType::RAW_BSD,
        LinkType::RAW_OPENBSD,
        LinkType::IPV4,
    ] {
        assert_tcp(link, &v4, b"raw");
    }
    for link in [LinkType::RAW, LinkType::IPV6] {
        assert_udp6(link, &v6, b"six");
    }
    assert!(decode_frame(LinkType::IPV4, &v6).is_err());
    assert!(decode_frame(LinkType::IPV6, &v4).is_err());

    // BSD null: host byte order (little-endian AF_INET = 2, macOS AF_INET6 = 30).
    assert_tcp(LinkType::NULL, &prefixed(&[2, 0, 0, 0], &v4), b"raw");
    assert_udp6(LinkType::NULL, &prefixed(&[30, 0, 0, 0], &v6), b"six");
    // OpenBSD loop: network byte order (Linux AF_INET6 = 10 accepted too).
    assert_tcp(LinkType::LOOP, &prefixed(&[0, 0, 0, 2], &v4), b"raw");
    assert_udp6(LinkType::LOOP, &prefixed(&[0, 0, 0, 10], &v6), b"six");
    // Another address family is not IP.
    assert_eq!(
        decode_frame(LinkType::NULL, &prefixed(&[7, 0, 0, 0], &v4)),
        Err(SkipReason::NotIp)
    );
}

#[test]
fn linux_cooked_v1_and_v2() {
    let v4 = ipv4_tcp(b"cooked");
    let v6 = ipv6_udp(b"cooked6");
    // SLL: packet type, ARPHRD, address length, address (8), protocol.
    for arphrd in [1u16, 772] {
        let mut h = vec![0, 4];
        h.extend_from_slice(&arphrd.to_be_bytes());
        h.extend_from_slice(&[0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00]);
        assert_tcp(LinkType::LINUX_SLL, &prefixed(&h, &v4), b"cooked");
        let mut h6 = h.clone();
        h6[14..16].copy_from_slice(&[0x86, 0xdd]);
        assert_udp6(LinkType::LINUX_SLL, &prefixed(&h6, &v6), b"cooked6");
    }
    // SLL2: protocol, reserved, interface index, ARPHRD, packet type, address length, address.
    let mut h2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 3, 0x03, 0x04, 0, 6];
    h2.extend_from_slice(&[1, 2, 3, 4, 5, 6, 0, 0]);
    assert_eq!(h2.len(), 20);
    assert_tcp(LinkType::LINUX_SLL2, &prefixed(&h2, &v4), b"cooked");
    // ARP over SLL2 is not IP; a header cut short is malformed.
    h2[0..2].copy_from_slice(&[0x08, 0x06]);
    assert_eq!(
        decode_frame(LinkType::LINUX_SLL2, &prefixed(&h2, &[0; 28])),
        Err(SkipReason::NotIp)
    );
    assert!(matches!(
        decode_frame(LinkType::LINUX_SLL2, &h2[..10]),
        Err(SkipReason::Malformed(_))
    ));
}

#[test]
fn frames_cut_by_the_snap_length_report_the_missing_bytes() {
    let payload: Vec<u8> = (0..100).collect();
    let packet = ipv4_tcp(&payload);
    let cut = &packet[..packet.len() - 30];
    let d = decode_frame(LinkType::RAW, cut).unwrap();
    let Transport::Tcp(tcp) = d.transport else {
        panic!("not TCP")
    };
    assert_eq!(tcp.payload, &payload[..70]);
    assert_eq!(tcp.missing, 30);
    assert_eq!(tcp.wire_len(), 100);
}

#[test]
fn frames_that_are_not_tcp_or_udp_are_skipped_with_a_reason() {
    let mut icmp = Vec::new();
    PacketBuilder::ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .icmpv4_echo_request(1, 1)
        .write(&mut icmp, b"ping")
        .unwrap();
    assert_eq!(
        decode_frame(LinkType::RAW, &icmp),
        Err(SkipReason::OtherTransport)
    );

    let mut fragment = ipv4_tcp(b"fragmented payload");
    fragment[6] |= 0x20; // more fragments
    fragment[10..12].copy_from_slice(&[0, 0]); // checksum is not checked
    assert_eq!(
        decode_frame(LinkType::RAW, &fragment),
        Err(SkipReason::Fragment)
    );

    let mut arp = vec![0xff; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0; 28]);
    assert_eq!(
        decode_frame(LinkType::ETHERNET, &arp),
        Err(SkipReason::NotIp)
    );

    assert_eq!(
        decode_frame(LinkType(105), &icmp),
        Err(SkipReason::UnsupportedLink(LinkType(105)))
    );
    assert!(matches!(
        decode_frame(LinkType::RAW, &[0x45, 0, 0]),
        Err(SkipReason::Malformed(_))
    ));
}

/// A pcap file of `frames` (time, bytes) on `link`.
fn pcap_file(link: DataLink, resolution: TsResolution, frames: &[(Duration, Vec<u8>)]) -> Vec<u8> {
    let header = PcapHeader {
        datalink: link,
        ts_resolution: resolution,
        endianness: Endianness::Little,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(Vec::new(), header).unwrap();
    for (time, data) in frames {
        writer
            .write_packet(&PcapPacket::new(*time, data.len() as u32, data))
            .unwrap();
    }
    writer.into_writer()
}

#[test]
fn pcap_microsecond_and_nanosecond_timestamps_count_from_the_first_frame() {
    let frames = vec![
        (Duration::new(1_700_000_000, 250_000_000), ipv4_tcp(b"a")),
        (Duration::new(1_700_000_001, 500_001_000), ipv4_tcp(b"b")),
    ];
    for resolution in [TsResolution::MicroSecond, TsResolution::NanoSecond] {
        let file = pcap_file(DataLink::RAW, resolution, &frames);
        let packets = read_packets(&file).unwrap();
        assert_eq!(packets.format, CaptureFormat::Pcap);
        assert_eq!(packets.link_types, vec![LinkType::RAW]);
        assert_eq!(packets.start, Duration::new(1_700_000_000, 250_000_000));
        assert_eq!(packets.packets.len(), 2);
        assert_eq!(packets.packets[0].timestamp, Duration::ZERO);
        assert_eq!(packets.packets[1].timestamp, Duration::new(1, 250_001_000));
        assert_eq!(packets.packets[1].number, 2);
        assert!(packets.truncated.is_none());
    }
}

#[test]
fn a_pcap_cut_mid_record_keeps_the_frames_before_the_cut() {
    let frames: Vec<_> = (0..3)
        .map(|i| (Duration::from_secs(i), ipv4_tcp(&[i as u8; 10])))
        .collect();
    let file = pcap_file(DataLink::RAW, TsResolution::MicroSecond, &frames);
    let cut = &file[..file.len() - 5];
    let packets = read_packets(cut).unwrap();
    assert_eq!(packets.packets.len(), 2);
    assert!(packets
        .truncated
        .as_deref()
        .unwrap()
        .contains("after frame 2"));
}

#[test]
fn unknown_and_broken_files_are_errors() {
    assert!(matches!(
        read_frames(b"GIF89a..."),
        Err(CaptureError::UnknownFormat { .. })
    ));
    assert!(matches!(
        read_frames(b""),
        Err(CaptureError::UnknownFormat { .. })
    ));
    assert!(matches!(
        read_frames(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]),
        Err(CaptureError::Header(_))
    ));
    let missing = Capture::open("/nonexistent/weir/capture.pcap").unwrap_err();
    assert!(missing
        .to_string()
        .contains("/nonexistent/weir/capture.pcap"));
}

/// A pcapng file: one interface per (link, options), then enhanced packets
/// (interface, raw timestamp in the interface's units, bytes).
fn pcapng_file(
    endianness: Endianness,
    interfaces: &[(DataLink, Vec<InterfaceDescriptionOption<'static>>)],
    packets: &[(u32, u64, Vec<u8>)],
) -> Vec<u8> {
    let mut writer = PcapNgWriter::with_endianness(Vec::new(), endianness).unwrap();
    for (link, options) in interfaces {
        let idb = InterfaceDescriptionBlock {
            linktype: *link,
            snaplen: 0,
            options: options.clone(),
        };
        writer
            .write_block(&Block::InterfaceDescription(idb))
            .unwrap();
    }
    for (interface, raw, data) in packets {
        let epb = EnhancedPacketBlock {
            interface_id: *interface,
            // pcap-file writes this Duration's nanosecond count as the raw timestamp.
            timestamp: Duration::from_nanos(*raw),
            original_len: data.len() as u32,
            data: Cow::Borrowed(data),
            options: vec![],
        };
        writer.write_block(&Block::EnhancedPacket(epb)).unwrap();
    }
    writer.into_inner()
}

#[test]
fn pcapng_timestamps_follow_each_interfaces_resolution_and_link_type() {
    let v4 = ipv4_tcp(b"x");
    let mut eth = Vec::new();
    PacketBuilder::ethernet2([1; 6], [2; 6])
        .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
        .tcp(40000, 554, 1000, 65535)
        .psh()
        .ack(77)
        .write(&mut eth, b"y")
        .unwrap();
    for endianness in [Endianness::Big, Endianness::Little] {
        let file = pcapng_file(
            endianness,
            &[
                // Default resolution: microseconds.
                (DataLink::RAW, vec![]),
                // 10^-9 s.
                (
                    DataLink::ETHERNET,
                    vec![InterfaceDescriptionOption::IfTsResol(9)],
                ),
                // 2^-10 s, with an offset of 100 s.
                (
                    DataLink::RAW,
                    vec![
                        InterfaceDescriptionOption::IfTsResol(0x80 | 10),
                        InterfaceDescriptionOption::IfTsOffset(100),
                    ],
                ),
            ],
            &[
                (0, 5_000_000, v4.clone()),      // 5 s
                (1, 5_500_000_000, eth.clone()), // 5.5 s
                (2, 1024 * 3 + 512, v4.clone()), // 100 + 3.5 s
                (0, 4_000_000, v4.clone()),      // 4 s: earlier than the first
            ],
        );
        let packets = read_packets(&file).unwrap();
        assert_eq!(packets.format, CaptureFormat::PcapNg);
        assert_eq!(packets.link_types, vec![LinkType::RAW, LinkType::ETHERNET]);
        assert_eq!(packets.start, Duration::from_secs(4));
        let times: Vec<Duration> = packets.packets.iter().map(|p| p.timestamp).collect();
        assert_eq!(
            times,
            vec![
                Duration::from_secs(1),
                Duration::from_millis(1500),
                Duration::from_millis(99_500),
                Duration::ZERO
            ]
        );
        let Transport::Tcp(tcp) = &packets.packets[1].transport else {
            panic!("not TCP")
        };
        assert_eq!(tcp.payload, b"y");
    }
}

#[test]
fn a_pcapng_packet_on_an_undescribed_interface_stops_reading() {
    let file = pcapng_file(
        Endianness::Big,
        &[(DataLink::RAW, vec![])],
        &[(0, 1, ipv4_tcp(b"ok"))],
    );
    // Append a packet naming interface 1 by hand (the writer refuses to).
    let mut epb_file = pcapng_file(
        Endianness::Big,
        &[(DataLink::RAW, vec![]), (DataLink::RAW, vec![])],
        &[(1, 2, ipv4_tcp(b"no"))],
    );
    // The last block of `epb_file` is the EPB for interface 1 (written big-endian).
    let epb_len = u32::from_be_bytes(epb_file[epb_file.len() - 4..].try_into().unwrap()) as usize;
    let epb = epb_file.split_off(epb_file.len() - epb_len);
    let mut joined = file.clone();
    joined.extend_from_slice(&epb);
    let packets = read_packets(&joined).unwrap();
    assert_eq!(packets.packets.len(), 1);
    assert!(packets
        .truncated
        .as_deref()
        .unwrap()
        .contains("interface 1"));
}
