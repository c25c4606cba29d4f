//! Properties: any order, duplication and overlap of a byte string's segments reassembles to
//! exactly that string; dropped segments become exactly the gaps they leave; and no input —
//! random or a mutated real capture — makes the file, link or RTSP parsers panic.

use proptest::prelude::*;
use std::net::SocketAddr;
use std::time::Duration;
use weir_conformance::capture::{read_packets, Packet};
use weir_conformance::link::{decode_frame, LinkType, TcpFlags, TcpSegment, Transport};
use weir_conformance::rtsp::split_rtsp;
use weir_conformance::tcp::{reassemble, Gap};
use weir_conformance::Capture;

fn client() -> SocketAddr {
    "10.0.0.1:40000".parse().unwrap()
}

fn server() -> SocketAddr {
    "10.0.0.2:8554".parse().unwrap()
}

fn packet(seq: u32, spec: (bool, bool), payload: &[u8], ms: u64) -> Packet {
    let (syn, fin) = spec;
    Packet {
        number: 0,
        timestamp: Duration::from_millis(ms),
        src: client(),
        dst: server(),
        transport: Transport::Tcp(TcpSegment {
            seq,
            ack: 0,
            flags: TcpFlags {
                syn,
                fin,
                ack: !syn,
                ..TcpFlags::default()
            },
            payload: payload.to_vec(),
            missing: 0,
        }),
    }
}

/// The data segment covering `range` of `data`, whose first byte is at `isn + 1`.
fn data_packet(data: &[u8], isn: u32, range: (usize, usize), ms: u64) -> Packet {
    let seq = isn.wrapping_add(1).wrapping_add(range.0 as u32);
    packet(seq, (false, false), &data[range.0..range.1], ms)
}

/// Cut points sorted and made unique, turned into consecutive ranges covering `0..len`.
fn ranges(len: usize, cuts: &[usize]) -> Vec<(usize, usize)> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % len).filter(|&c| c > 0).collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| (w[0], w[1])).collect()
}

fn isn() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), (u32::MAX - 5000)..=u32::MAX]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_order_and_duplication_reassembles_exactly(
        data in proptest::collection::vec(any::<u8>(), 1..3000),
        isn in isn(),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
        extra in proptest::collection::vec((any::<usize>(), any::<usize>()), 0..10),
        with_syn in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let len = data.len();
        let mut segments = ranges(len, &cuts);
        // Duplicates and overlapping retransmissions of arbitrary stretches.
        for &(a, b) in &extra {
            let start = a % len;
            let end = start + 1 + b % (len - start);
            segments.push((start, end));
        }
        // A deterministic shuffle from `seed`.
        let mut state = seed | 1;
        for i in (1..segments.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            segments.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut packets = Vec::new();
        if with_syn {
            packets.push(packet(isn, (true, false), b"", 0));
        }
        let captured: usize = segments.iter().map(|(a, b)| b - a).sum();
        for (i, &range) in segments.iter().enumerate() {
            packets.push(data_packet(&data, isn, range, 1 + i as u64));
        }
        let connections = reassemble(&packets);
        prop_assert_eq!(connections.len(), 1);
        let half = &connections[0].client_to_server;
        prop_assert_eq!(half.to_vec(), data);
        prop_assert!(half.gaps.is_empty());
        prop_assert_eq!(half.retransmitted_bytes as usize, captured - len);
        let mut offset = 0;
        for chunk in &half.chunks {
            prop_assert_eq!(chunk.offset, offset);
            offset += chunk.data.len() as u64;
        }
        prop_assert!(half.chunks.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
    }

    #[test]
    fn dropped_segments_are_exactly_the_gaps(
        data in proptest::collection::vec(any::<u8>(), 1..2000),
        isn in isn(),
        cuts in proptest::collection::vec(any::<usize>(), 0..30),
        keep in proptest::collection::vec(any::<bool>(), 30),
        reverse in any::<bool>(),
    ) {
        let len = data.len();
        let all = ranges(len, &cuts);
        let kept: Vec<(usize, usize)> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| keep[i % keep.len()])
            .map(|(_, r)| *r)
            .collect();
        let mut packets = vec![packet(isn, (true, false), b"", 0)];
        let mut order = kept.clone();
        if reverse {
            order.reverse();
        }
        for (i, &range) in order.iter().enumerate() {
            packets.push(data_packet(&data, isn, range, 1 + i as u64));
        }
        // The FIN marks where the data ends even when the last segment is missing.
        let fin_seq = isn.wrapping_add(1).wrapping_add(len as u32);
        packets.push(packet(fin_seq, (false, true), b"", 1000));

        let mut expected_bytes = Vec::new();
        let mut expected_gaps = Vec::new();
        let mut chunks = 0;
        for &(a, b) in &all {
            if kept.contains(&(a, b)) {
                expected_bytes.extend_from_slice(&data[a..b]);
                chunks += 1;
            } else {
                match expected_gaps.last_mut() {
                    Some(Gap { offset, len, .. }) if *offset + *len == a as u64 => {
                        *len += (b - a) as u64;
                    }
                    _ => expected_gaps.push(Gap { offset: a as u64, len: (b - a) as u64, before_chunk: chunks }),
                }
            }
        }
        let connections = reassemble(&packets);
        let half = &connections[0].client_to_server;
        prop_assert_eq!(half.to_vec(), expected_bytes);
        prop_assert_eq!(&half.gaps, &expected_gaps);
        prop_assert_eq!(half.missing() + half.len(), len as u64);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_readers(
        magic in prop_oneof![
            Just(vec![]),
            Just(vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]),
            Just(vec![0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4]),
            Just(vec![0x0a, 0x0d, 0x0d, 0x0a]),
        ],
        body in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let mut file = magic;
        file.extend_from_slice(&body);
        let _ = read_packets(&file);
        if let Ok(capture) = Capture::from_bytes(&file) {
            let _ = capture.details();
        }
        for link in [0u32, 1, 12, 14, 101, 108, 113, 228, 229, 276, 105] {
            let _ = decode_frame(LinkType(link), &body);
        }
        let _ = split_rtsp(&body, 0, true);
        let _ = split_rtsp(&body, 0, false);
    }

    #[test]
    fn mutated_real_captures_never_panic(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..20),
        cut in any::<usize>(),
        pcapng in any::<bool>(),
    ) {
        let file = if pcapng { pcapng_capture() } else { real_capture() };
        let mut file = file.to_vec();
        for (at, value) in flips {
            let len = file.len();
            file[at % len] ^= value | 1;
        }
        file.truncate(cut % (file.len() + 1));
        if let Ok(capture) = Capture::from_bytes(&file) {
            let _ = capture.details();
        }
    }
}

/// The small RTMP publish capture (pcap, Ethernet).
fn real_capture() -> &'static [u8] {
    static FILE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/captures/obs27_publish_to_twinx_server.pcap"
        );
        std::fs::read(path).unwrap()
    })
}

/// The first 20 frames of the same capture rewritten as pcapng.
fn pcapng_capture() -> &'static [u8] {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
    use pcap_file::pcapng::{Block, PcapNgWriter};
    static FILE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let raw = weir_conformance::capture::read_frames(real_capture()).unwrap();
        let mut writer = PcapNgWriter::new(Vec::new()).unwrap();
        let idb = InterfaceDescriptionBlock {
            linktype: pcap_file::DataLink::ETHERNET,
            snaplen: 0,
            options: vec![],
        };
        writer
            .write_block(&Block::InterfaceDescription(idb))
            .unwrap();
        for frame in raw.frames.iter().take(20) {
            let epb = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: frame.time,
                original_len: frame.original_len,
                data: std::borrow::Cow::Borrowed(frame.data),
                options: vec![],
            };
            writer.write_block(&Block::EnhancedPacket(epb)).unwrap();
        }
        writer.into_inner()
    })
}
