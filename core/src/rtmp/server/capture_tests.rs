//! Real clients replayed byte for byte into a server connection: OBS 27 publishing (a pcap
//! taken against nginx-rtmp), ffmpeg playing and Flash Player 10 playing (raw client→server
//! streams). See `tests/data/rtmp/SOURCES.md`.

use super::tests::Peer;
use super::*;
use crate::rtmp::chunk::ChunkDecoder;
use crate::rtmp::command::Command;
use crate::rtmp::handshake::HandshakeKind;
use crate::rtmp::message::ControlMessage;
use bytes::BytesMut;
use etherparse::{SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;

macro_rules! data {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/rtmp/",
            $name
        ))
    };
}

/// The client→server TCP payload of the first connection to `server_port` in an Ethernet
/// pcap, reassembled by sequence number with retransmissions dropped.
pub(crate) fn client_stream(pcap: &[u8], server_port: u16) -> Vec<u8> {
    let mut r = PcapReader::new(pcap).expect("pcap header");
    let mut conn: Option<(u16, u32)> = None;
    let mut segments: Vec<(u32, Vec<u8>)> = Vec::new();
    while let Some(pkt) = r.next_packet() {
        let pkt = pkt.expect("pcap record");
        let Ok(sliced) = SlicedPacket::from_ethernet(&pkt.data) else {
            continue;
        };
        let Some(TransportSlice::Tcp(tcp)) = sliced.transport else {
            continue;
        };
        if tcp.destination_port() != server_port {
            continue;
        }
        if tcp.syn() {
            conn.get_or_insert((tcp.source_port(), tcp.sequence_number().wrapping_add(1)));
            continue;
        }
        let Some((port, base)) = conn else { continue };
        if tcp.source_port() != port || tcp.payload().is_empty() {
            continue;
        }
        let rel = tcp.sequence_number().wrapping_sub(base);
        segments.push((rel, tcp.payload().to_vec()));
    }
    segments.sort_by_key(|s| s.0);
    let mut out: Vec<u8> = Vec::new();
    for (rel, data) in segments {
        let rel = rel as usize;
        if rel + data.len() <= out.len() {
            continue; // retransmission
        }
        assert!(rel <= out.len(), "gap in the capture at byte {}", out.len());
        out.extend_from_slice(&data[out.len() - rel..]);
    }
    out
}

/// The command names of a client→server stream, decoded independently of the server
/// connection (handshake skipped, chunk size changes applied).
fn command_names(stream: &[u8]) -> Vec<String> {
    scan(stream).0
}

/// The command names and the numbers of audio and video messages of a client→server stream.
fn scan(stream: &[u8]) -> (Vec<String>, usize, usize) {
    let mut buf = BytesMut::from(&stream[1 + 2 * 1536..]);
    let mut d = ChunkDecoder::default();
    let mut names = Vec::new();
    let (mut audio, mut video) = (0, 0);
    while let Ok(Some(m)) = d.decode(&mut buf) {
        match m.type_id {
            8 => audio += 1,
            9 => video += 1,
            1 => {
                if let Ok(ControlMessage::SetChunkSize(n)) = ControlMessage::parse(1, &m.body) {
                    d.set_chunk_size(n).unwrap();
                }
            }
            17 | 20 => names.push(Command::parse(m.type_id, &m.body).unwrap().name),
            _ => {}
        }
    }
    (names, audio, video)
}

/// Feeds `stream` in pieces of `piece` bytes; returns the events.
fn replay(stream: &[u8], piece: usize) -> (Peer, Vec<RtmpEvent>) {
    let mut p = Peer::fresh();
    for part in stream.chunks(piece) {
        p.raw(part);
    }
    let events = std::mem::take(&mut p.events);
    (p, events)
}

#[test]
fn obs_publishing() {
    let stream = client_stream(data!("obs27_publish_to_nginx_rtmp.pcap"), 1935);
    assert!(stream.len() > 1_000_000, "{}", stream.len());
    assert_eq!(
        command_names(&stream),
        [
            "connect",
            "releaseStream",
            "FCPublish",
            "createStream",
            "publish",
            "FCUnpublish",
            "deleteStream"
        ]
    );
    let (_, audio_count, video_count) = scan(&stream);
    for piece in [1460, 7, 65536] {
        let (p, events) = replay(&stream, piece);
        assert_eq!(p.conn.handshake_kind(), Some(HandshakeKind::Simple));
        assert_eq!(
            events[0],
            RtmpEvent::Publish {
                path: "twinx/1234".into(),
                query: String::new()
            }
        );
        let RtmpEvent::Metadata(meta) = &events[1] else {
            panic!("{:?}", events[1]);
        };
        let get = |k: &str| meta.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("width"), Some(Amf0Value::Number(1280.0)));
        assert_eq!(get("audiosamplerate"), Some(Amf0Value::Number(48000.0)));
        let media: Vec<(MediaKind, i64, &Bytes)> = events
            .iter()
            .filter_map(|e| match e {
                RtmpEvent::Media {
                    kind,
                    timestamp_ms,
                    body,
                } => Some((*kind, *timestamp_ms, body)),
                _ => None,
            })
            .collect();
        let video: Vec<_> = media.iter().filter(|m| m.0 == MediaKind::Video).collect();
        let audio: Vec<_> = media.iter().filter(|m| m.0 == MediaKind::Audio).collect();
        assert_eq!((video.len(), audio.len()), (video_count, audio_count));
        assert_eq!((video.len(), audio.len()), (126, 197), "piece {piece}");
        assert_eq!(&video[0].2[..2], &[0x17, 0x00], "AVC sequence header first");
        assert_eq!(&audio[0].2[..2], &[0xaf, 0x00], "AAC sequence header first");
        assert!(video.windows(2).all(|w| w[0].1 <= w[1].1 + 100));
        assert_eq!(events.last(), Some(&RtmpEvent::StreamClosed));
        assert!(!p.conn.is_closing());
    }
}

#[test]
fn ffmpeg_playing() {
    let stream = data!("ffmpeg_client_stream");
    assert_eq!(
        command_names(stream),
        [
            "connect",
            "createStream",
            "_checkbw",
            "getStreamLength",
            "play",
            "deleteStream"
        ]
    );
    let (p, events) = replay(stream, 100);
    assert_eq!(
        p.conn.handshake_kind(),
        Some(HandshakeKind::Digest { scheme: 0 })
    );
    assert_eq!(
        events,
        vec![
            RtmpEvent::Play {
                path: "test_stream".into(),
                query: String::new()
            },
            RtmpEvent::StreamClosed,
        ]
    );
    assert!(!p.conn.is_closing());
}

#[test]
fn flash_player_playing() {
    let stream = data!("client_stream");
    let names = command_names(stream);
    assert_eq!(
        names[..],
        [
            "connect",
            "createStream",
            "_error",
            "_error",
            "receiveVideo",
            "play",
            "pause",
            "pauseRaw",
            "pauseRaw",
            "pause",
            "seek",
            "deleteStream"
        ][..]
    );
    let (p, events) = replay(stream, 1000);
    assert_eq!(
        p.conn.handshake_kind(),
        Some(HandshakeKind::Digest { scheme: 1 })
    );
    assert_eq!(
        events,
        vec![
            RtmpEvent::Play {
                path: "ondemand/content-vod-storage1/0/1/1/1514/1514287/1_192254_1514287".into(),
                query: String::new()
            },
            RtmpEvent::StreamClosed
        ]
    );
    assert!(!p.conn.is_closing());
}

/// The OBS session replayed through the whole core, as the adapter wires it: RTMP connection
/// → FLV demuxer → stream ingest → ring → a reader joining at the start: its RTMP messages
/// (FLV muxer) carry the publisher's video frames unchanged, and an RTSP reader's RTP packets
/// depacketize back to the same access units.
#[test]
fn obs_media_reaches_rtmp_and_rtsp_readers() {
    use crate::codec::{new_depacketizer, CodecKind};
    use crate::flv::{FlvDemuxer, FlvMuxer, FlvOutput};
    use crate::media::{Ring, StreamIngest, StreamItem, WallClock};
    use std::time::Instant;

    let stream = client_stream(data!("obs27_publish_to_nginx_rtmp.pcap"), 1935);
    let (_, events) = replay(&stream, 1460);
    #[allow(clippy::disallowed_methods)] // one base instant for a fake clock
    let base = Instant::now();
    let wall = WallClock { base, base_ntp: 0 };
    let mut demux = FlvDemuxer::new();
    let mut outs = Vec::new();
    let mut published_video: Vec<Bytes> = Vec::new();
    for e in &events {
        match e {
            RtmpEvent::Media {
                kind: MediaKind::Video,
                timestamp_ms,
                body,
            } => {
                if body.len() > 5 && body[1] == 1 {
                    published_video.push(body.clone()); // AVC NALU messages, in order
                }
                demux.push(true, *timestamp_ms, body, &mut outs).unwrap();
            }
            RtmpEvent::Media {
                kind: MediaKind::Audio,
                timestamp_ms,
                body,
            } => {
                demux.push(false, *timestamp_ms, body, &mut outs).unwrap();
            }
            _ => {}
        }
    }
    let FlvOutput::Tracks(desc) = &outs[0] else {
        panic!("tracks first: {:?}", outs[0])
    };
    assert_eq!(desc.codec_list(), "H264, MPEG-4 Audio");
    let mut ingest = StreamIngest::new(desc, wall, 9);
    let mut ring = Ring::new(4096, desc.start_tracks());
    let mut items = Vec::new();
    for o in &outs[1..] {
        let FlvOutput::Unit {
            track,
            pts,
            dts,
            key,
            payload,
        } = o
        else {
            panic!("one Tracks")
        };
        ingest.push_unit(base, *track, *pts, *dts, *key, payload.clone(), &mut items);
        for it in items.drain(..) {
            ring.push(it);
        }
    }
    let mut cursor = ring.join();
    let mut got = Vec::new();
    ring.read(&mut cursor, usize::MAX, &mut got);
    // RTMP reader: the video bodies it gets are the publisher's (from its first key frame).
    let mut muxer = FlvMuxer::new(desc).unwrap();
    assert_eq!(muxer.sequence_headers().len(), 2);
    let mut msgs = Vec::new();
    let mut rtp_depack =
        new_depacketizer(CodecKind::H264, desc.tracks[0].fmtp.as_deref(), None).unwrap();
    let mut rtsp_units = 0;
    for it in &got {
        if let StreamItem::Unit(u) = it {
            muxer.push_unit(u, &mut msgs);
            if u.track == 0 {
                for p in &u.rtp {
                    rtp_depack.push(p).unwrap();
                }
                let au = rtp_depack.finish().unwrap();
                assert_eq!(au.data.as_slice(), u.payload.as_slice(), "RTP round trip");
                rtsp_units += 1;
            }
        }
    }
    let sent_video: Vec<&Bytes> = msgs
        .iter()
        .filter(|m| m.is_video)
        .map(|m| &m.body)
        .collect();
    assert!(sent_video.len() >= 100, "{}", sent_video.len());
    // Compare NAL unit payloads (the muxer drops AUDs and re-frames with 4-byte lengths; OBS
    // writes 4-byte lengths and no AUD), so bodies after the 5-byte header must be equal.
    let start = published_video.len() - sent_video.len();
    for (i, (a, b)) in published_video[start..].iter().zip(&sent_video).enumerate() {
        assert_eq!(&a[5..], &b[5..], "video message {i}");
    }
    assert_eq!(rtsp_units, sent_video.len());
}
