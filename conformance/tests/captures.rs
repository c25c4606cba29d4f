//! The capture reader on real captures: the permissively licensed ones copied into
//! `captures/` always, and the copyleft or unclearly licensed ones straight from the team
//! corpus (`WEIR_CORPUS`, default `../../shared/corpus`). Those cannot be redistributed, so
//! their tests are `#[ignore]`d in the default run (a clean checkout does not have them) and
//! fail — never skip — when run without the corpus: `cargo test -p weir-conformance -- --ignored`.
//! Expected numbers were cross-checked with an independent script.

use std::path::{Path, PathBuf};
use std::time::Duration;
use weir_conformance::rtsp::RtspItem;
use weir_conformance::tcp::RoleEvidence;
use weir_conformance::{Capture, CaptureFormat, LinkType, Protocol, UdpKind};

fn captured(name: &str) -> Capture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name);
    Capture::open(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn corpus(relative: &str) -> Option<Capture> {
    let root = std::env::var_os("WEIR_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    );
    let path = root.join(relative);
    assert!(
        path.exists(),
        "{} is not there: these tests need the team corpus (set WEIR_CORPUS)",
        path.display()
    );
    Some(Capture::open(&path).unwrap_or_else(|e| panic!("{e}")))
}

/// Positions of AMF0 strings (`02`, u16 length, bytes) in `data`, in order.
fn amf_string_at(data: &[u8], s: &str) -> Option<usize> {
    let mut needle = vec![2u8];
    needle.extend_from_slice(&(s.len() as u16).to_be_bytes());
    needle.extend_from_slice(s.as_bytes());
    data.windows(needle.len()).position(|w| w == needle)
}

fn contains(data: &[u8], s: &str) -> bool {
    data.windows(s.len()).any(|w| w == s.as_bytes())
}

#[test]
fn obs_publish_to_nginx_reassembles_to_a_whole_rtmp_session() {
    let capture = captured("obs27_publish_to_nginx_rtmp.pcap");
    let info = capture.packets();
    assert_eq!(info.format, CaptureFormat::Pcap);
    assert_eq!(info.link_types, vec![LinkType::ETHERNET]);
    assert_eq!(
        (info.frames, info.packets.len(), info.skipped.len()),
        (944, 944, 0)
    );
    assert!(info.truncated.is_none());

    // The RTMP connection, then six refused connection attempts to port 27117.
    let flows = capture.tcp_flows();
    assert_eq!(flows.len(), 7);
    let rtmp = &flows[0];
    assert_eq!(rtmp.protocol, Protocol::Rtmp);
    let c = &rtmp.connection;
    assert_eq!(c.client, "127.0.0.1:57080".parse().unwrap());
    assert_eq!(c.server, "127.0.0.1:1935".parse().unwrap());
    assert_eq!(c.roles, RoleEvidence::Syn);
    for other in &flows[1..] {
        assert_eq!(other.protocol, Protocol::Unknown);
        assert_eq!(other.connection.server.port(), 27117);
        assert!(other.connection.client_to_server.is_empty());
        assert!(other.connection.server_to_client.rst);
    }

    let (up, down) = (&c.client_to_server, &c.server_to_client);
    assert!(up.gaps.is_empty() && down.gaps.is_empty());
    assert_eq!((up.len(), down.len()), (1_362_991, 3_602));
    assert_eq!((up.retransmitted_bytes, down.retransmitted_bytes), (0, 0));
    assert!(up.syn && up.fin && down.syn);
    let client = up.to_vec();
    let server = down.to_vec();

    // Handshake: C0 = S0 = version 3; C1/S1 are 1536 bytes and each side echoes the other's
    // as C2/S2 (the echo a replay has to rewrite).
    assert_eq!((client[0], server[0]), (3, 3));
    assert_eq!(&client[1537..3073], &server[1..1537], "C2 echoes S1");
    assert_eq!(&server[1537..3073], &client[1..1537], "S2 echoes C1");
    // The first chunk after the handshake: Set Chunk Size 4096 (client), Window
    // Acknowledgement Size 5000000 (server).
    assert_eq!(
        &client[3073..3073 + 16],
        b"\x02\0\0\0\0\0\x04\x01\0\0\0\0\0\0\x10\0"
    );
    assert_eq!(
        &server[3073..3073 + 16],
        b"\x02\0\0\0\0\0\x04\x05\0\0\0\0\0\x4c\x4b\x40"
    );

    // The publish command sequence, in order, then the end of the session.
    let order: Vec<usize> = [
        "connect",
        "releaseStream",
        "FCPublish",
        "createStream",
        "publish",
        "@setDataFrame",
        "onMetaData",
        "FCUnpublish",
        "deleteStream",
    ]
    .iter()
    .map(|s| amf_string_at(&client, s).unwrap_or_else(|| panic!("{s} not found")))
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    assert_eq!(order[0], 3101);
    assert!(*order.last().unwrap() > 1_362_900);
    assert!(contains(&server, "NetStream.Publish.Start"));
    assert!(contains(&client, "twinx"));

    // Chunk times never decrease and stay within the capture.
    assert!(up
        .chunks
        .windows(2)
        .all(|w| w[0].timestamp <= w[1].timestamp));
    assert!(up.chunks.last().unwrap().timestamp <= Duration::from_millis(4_984));
    assert_eq!(c.first, Duration::ZERO);
    assert!(capture.udp_flows().is_empty());
}

#[test]
fn obs_publish_to_twinx_server_reassembles() {
    let capture = captured("obs27_publish_to_twinx_server.pcap");
    assert_eq!(capture.packets().frames, 62);
    let rtmp = &capture.tcp_flows()[0];
    assert_eq!(rtmp.protocol, Protocol::Rtmp);
    let (up, down) = (
        &rtmp.connection.client_to_server,
        &rtmp.connection.server_to_client,
    );
    assert!(up.gaps.is_empty() && down.gaps.is_empty());
    assert_eq!((up.len(), down.len()), (28_708, 3_501));
    let client = up.to_vec();
    assert_eq!(client[0], 3);
    let connect = amf_string_at(&client, "connect").unwrap();
    let publish = amf_string_at(&client, "publish").unwrap();
    assert!(3073 < connect && connect < publish);
    assert!(contains(&client, "FMLE/3.0"));
}

#[test]
fn wilson_is_one_rtp_flow() {
    let capture = captured("wilson_h265.pcap");
    assert!(capture.tcp_flows().is_empty());
    let flows = capture.udp_flows();
    assert_eq!(flows.len(), 1);
    let flow = &flows[0];
    assert_eq!(flow.src, "164.68.105.103:54367".parse().unwrap());
    assert_eq!(flow.dst, "31.43.156.101:36486".parse().unwrap());
    assert_eq!(flow.kind, UdpKind::Rtp);
    assert_eq!(flow.datagrams.len(), 407);
    assert_eq!(flow.rtsp, None);
    let mut last_seq = None;
    for d in &flow.datagrams {
        assert_eq!(d.payload[1] & 0x7f, 104, "payload type");
        assert_eq!(&d.payload[8..12], &[0xcd, 0xa4, 0x6d, 0x5c], "SSRC");
        let seq = u16::from_be_bytes([d.payload[2], d.payload[3]]);
        if let Some(last) = last_seq {
            assert_eq!(seq, u16::wrapping_add(last, 1), "RTP sequence without loss");
        }
        last_seq = Some(seq);
    }
    let span = flow.datagrams.last().unwrap().timestamp;
    assert!(span > Duration::from_millis(11_800) && span < Duration::from_millis(11_900));
    assert!(flow
        .datagrams
        .windows(2)
        .all(|w| w[0].timestamp <= w[1].timestamp));
}

#[test]
fn a_pcap_rewritten_as_pcapng_reads_the_same() {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::{
        InterfaceDescriptionBlock, InterfaceDescriptionOption,
    };
    use pcap_file::pcapng::{Block, PcapNgWriter};
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/obs27_publish_to_twinx_server.pcap");
    let bytes = std::fs::read(path).unwrap();
    let raw = weir_conformance::capture::read_frames(&bytes).unwrap();
    let mut writer = PcapNgWriter::new(Vec::new()).unwrap();
    let idb = InterfaceDescriptionBlock {
        linktype: pcap_file::DataLink::ETHERNET,
        snaplen: 0,
        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
    };
    writer
        .write_block(&Block::InterfaceDescription(idb))
        .unwrap();
    for frame in &raw.frames {
        let epb = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: frame.time,
            original_len: frame.original_len,
            data: std::borrow::Cow::Borrowed(frame.data),
            options: vec![],
        };
        writer.write_block(&Block::EnhancedPacket(epb)).unwrap();
    }
    let ng = Capture::from_bytes(&writer.into_inner()).unwrap();
    let pcap = Capture::from_bytes(&bytes).unwrap();
    assert_eq!(ng.packets().format, CaptureFormat::PcapNg);
    assert_eq!(ng.packets().start, pcap.packets().start);
    assert_eq!(ng.packets().packets, pcap.packets().packets);
    assert_eq!(ng.tcp_flows(), pcap.tcp_flows());
}

#[test]
#[ignore = "reads the team corpus (captures that cannot be redistributed); run with --ignored"]
fn vlc_rtsp_sessions_over_linux_cooked_capture() {
    let Some(capture) = corpus("rtsp/ndpi/rtsp.pcap") else {
        return;
    };
    let info = capture.packets();
    // Named .pcap, but it is pcapng.
    assert_eq!(info.format, CaptureFormat::PcapNg);
    assert_eq!(info.link_types, vec![LinkType::LINUX_SLL]);
    assert_eq!((info.frames, info.packets.len()), (568, 568));
    let flows = capture.tcp_flows();
    assert_eq!(flows.len(), 7);
    assert!(flows.iter().all(|f| f.protocol == Protocol::Rtsp));
    assert!(flows
        .iter()
        .all(|f| f.connection.server == "10.2.2.2:8554".parse().unwrap()));

    // The first connection's SYN is before the capture: the port says who the server is.
    assert_eq!(flows[0].connection.roles, RoleEvidence::WellKnownPort);
    assert_eq!(
        flows[0].connection.client,
        "10.1.1.10:52470".parse().unwrap()
    );
    // Every segment was captured four times (one per interface); each byte is kept once.
    let s1 = &flows[1].connection;
    assert_eq!(s1.roles, RoleEvidence::Syn);
    assert!(s1.client_to_server.gaps.is_empty() && s1.server_to_client.gaps.is_empty());
    assert_eq!(s1.client_to_server.len(), 943);
    assert_eq!(s1.client_to_server.retransmitted_bytes, 3 * 943);

    let requests: Vec<String> = flows[1]
        .client_rtsp()
        .into_iter()
        .filter_map(|item| match item {
            RtspItem::Message(m) => Some(format!("{} {}", m.method()?, m.cseq()?)),
            RtspItem::Interleaved { .. } => None,
        })
        .collect();
    assert_eq!(
        requests,
        [
            "OPTIONS 2",
            "DESCRIBE 3",
            "SETUP 4",
            "SETUP 5",
            "PLAY 6",
            "GET_PARAMETER 7"
        ]
    );
    let responses: Vec<_> = flows[1]
        .server_rtsp()
        .into_iter()
        .filter_map(|item| match item {
            RtspItem::Message(m) => Some(m),
            RtspItem::Interleaved { .. } => None,
        })
        .collect();
    // The server answered all but GET_PARAMETER, which it reset.
    assert_eq!(responses.len(), 5);
    assert!(responses.iter().all(|r| r.status() == Some(200)));
    assert!(s1.server_to_client.rst);
    let sdp = String::from_utf8_lossy(&responses[1].body);
    assert!(
        sdp.contains("m=video") && sdp.contains("H264/90000"),
        "{sdp}"
    );
    assert!(sdp.contains("mpeg4-generic/44100/2"), "{sdp}");

    // SETUPs over UDP; no media was captured, so no UDP flow to tie them to.
    let setups = capture.rtsp_setups(1);
    assert_eq!(setups.len(), 2);
    assert_eq!(setups[0].uri, "rtsp://10.2.2.2:8554/trackID=0");
    assert_eq!(setups[0].client_port, Some((55664, 55665)));
    assert_eq!(setups[0].server_port, Some((58547, 58548)));
    assert_eq!(setups[1].client_port, Some((55666, 55667)));
    assert!(capture.udp_flows().is_empty());
    assert!(setups.iter().all(|s| s.udp_flows.is_empty()));
}

#[test]
#[ignore = "reads the team corpus (captures that cannot be redistributed); run with --ignored"]
fn a_lone_rtsp_setup_in_a_pcapng() {
    let Some(capture) = corpus("rtsp/ndpi/rtsp_setup_http.pcapng") else {
        return;
    };
    assert_eq!(capture.packets().format, CaptureFormat::PcapNg);
    let flow = &capture.tcp_flows()[0];
    assert_eq!(flow.protocol, Protocol::Rtsp);
    assert_eq!(flow.connection.roles, RoleEvidence::WellKnownPort);
    assert_eq!(flow.connection.server, "172.28.4.26:8554".parse().unwrap());
    let setups = capture.rtsp_setups(0);
    assert_eq!(setups.len(), 1);
    assert_eq!(setups[0].cseq, Some(4));
    assert_eq!(setups[0].status, None);
    assert_eq!(setups[0].client_port, Some((50220, 50221)));
}

#[test]
#[ignore = "reads the team corpus (captures that cannot be redistributed); run with --ignored"]
fn flash_player_rtmp_play_in_two_captures() {
    let (Some(wiki), Some(ndpi)) = (
        corpus("rtmp/fq/rtmp_sample.cap"),
        corpus("rtmp/ndpi/rtmp.pcap"),
    ) else {
        return;
    };
    // nDPI's capture holds the Wireshark wiki's session too, plus GTP-U tunnelled traffic.
    for capture in [&wiki, &ndpi] {
        let flow = &capture.tcp_flows()[0];
        assert_eq!(flow.protocol, Protocol::Rtmp);
        let c = &flow.connection;
        assert_eq!(c.server, "192.168.43.128:1935".parse().unwrap());
        assert_eq!(
            (c.client_to_server.len(), c.server_to_client.len()),
            (3452, 3496)
        );
        assert!(c.client_to_server.gaps.is_empty() && c.server_to_client.gaps.is_empty());
        let client = c.client_to_server.to_vec();
        let connect = amf_string_at(&client, "connect").unwrap();
        let play = amf_string_at(&client, "play").unwrap();
        assert!(connect < play);
        assert!(contains(
            &c.server_to_client.to_vec(),
            "NetStream.Play.Failed"
        ));
    }
    assert_eq!(
        wiki.tcp_flows()[0].connection,
        ndpi.tcp_flows()[0].connection
    );
    let gtp = ndpi.udp_flows();
    assert_eq!(gtp.len(), 4);
    assert!(gtp
        .iter()
        .all(|f| f.src.port() == 2152 && f.dst.port() == 2152));
}

#[test]
#[ignore = "reads the team corpus (captures that cannot be redistributed); run with --ignored"]
fn hls_playlist_fetch_over_raw_ip() {
    let Some(capture) = corpus("hls/ndpi/hls.pcapng") else {
        return;
    };
    assert_eq!(capture.packets().link_types, vec![LinkType::RAW]);
    let flow = &capture.tcp_flows()[0];
    assert_eq!(flow.protocol, Protocol::Http);
    assert_eq!(
        flow.connection.server,
        "192.168.88.231:8080".parse().unwrap()
    );
    let request = flow.connection.client_to_server.to_vec();
    assert!(request.starts_with(b"GET /output.m3u8 HTTP/1.1\r\n"));
    let response = flow.connection.server_to_client.to_vec();
    assert!(response.starts_with(b"HTTP/1.0 200 OK\r\n"));
    assert!(response.ends_with(b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:4.400000,\noutput0.ts\n#EXT-X-ENDLIST\n"));
}

#[test]
#[ignore = "reads the team corpus (captures that cannot be redistributed); run with --ignored"]
fn rtcp_over_a_loopback_cooked_capture() {
    let Some(capture) = corpus("rtp/ndpi/rtcp_multiple_pkts_in_the_same_datagram.pcap") else {
        return;
    };
    // Linux cooked headers with ARPHRD 772 (loopback), which etherparse alone refuses.
    assert!(capture.packets().skipped.is_empty());
    let flows = capture.udp_flows();
    assert_eq!(flows.len(), 2);
    assert!(flows.iter().all(|f| f.kind == UdpKind::Rtcp));
    assert_eq!(flows[0].datagrams.len() + flows[1].datagrams.len(), 5);
}

#[test]
fn the_summary_reports_flows_bytes_and_gaps() {
    let capture = captured("obs27_publish_to_nginx_rtmp.pcap");
    let summary = capture.summary();
    assert!(summary.contains("944 frames"));
    let rtmp_row = summary
        .lines()
        .find(|l| l.contains("RTMP"))
        .expect("an RTMP row");
    for cell in [
        "127.0.0.1:57080",
        "127.0.0.1:1935",
        "1362991",
        "3602",
        "none",
        "SYN",
    ] {
        assert!(rtmp_row.contains(cell), "{cell} missing from {rtmp_row}");
    }
    assert!(summary.contains("UDP flows\n  (none)"));
}
