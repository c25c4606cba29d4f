//! The client against weir's own server machine on a fake clock: both peers in one test,
//! bytes passed between them, the server's questions answered here; media is the OBS 27
//! capture's.

use super::*;
use crate::flv::{FlvDemuxer, FlvOutput};
use crate::media::PathError;
use crate::pull::{ClientEvent, SourceUrl};
use crate::rtmp::chunk::ChunkDecoder;
use crate::rtmp::message::ControlMessage;
use crate::rtmp::server::capture_tests::client_stream;
use crate::rtmp::server::{MediaKind, RtmpEvent, RtmpServerConfig, RtmpServerConnection};
use crate::rtmp::user_control::UserControlEvent;
use bytes::{Bytes, BytesMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OBS: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/rtmp/obs27_publish_to_nginx_rtmp.pcap"
));

struct Pair {
    now: Instant,
    client: RtmpClientConnection,
    server: RtmpServerConnection,
    to_server: BytesMut,
    to_client: BytesMut,
    /// The answer given to the server's Play question.
    allow: bool,
    plays: Vec<(String, String)>,
    client_events: Vec<ClientEvent>,
    /// Bytes at the front of `to_client` the client already saw and left.
    offered: usize,
    /// Everything the client sent.
    sent: Vec<u8>,
}

impl Pair {
    // The fake clock needs one real base instant; only offsets from it are used after that.
    #[allow(clippy::disallowed_methods)]
    fn new(url: &str, allow: bool) -> Pair {
        let now = Instant::now();
        let server = RtmpServerConnection::new(
            Arc::new(RtmpServerConfig::default()),
            "127.0.0.1:40000".parse().unwrap(),
            now,
            5,
        );
        let url = SourceUrl::parse(url).unwrap();
        let client = RtmpClientConnection::new(Duration::from_secs(10), url, now, 11);
        Pair {
            now,
            client,
            server,
            to_server: BytesMut::new(),
            to_client: BytesMut::new(),
            allow,
            plays: Vec::new(),
            client_events: Vec::new(),
            offered: 0,
            sent: Vec::new(),
        }
    }

    /// Passes bytes both ways (`piece` bytes at a time towards the client), answering the
    /// server's questions, until both are quiet.
    fn run(&mut self, piece: usize) {
        for _ in 0..10_000 {
            let mut moved = false;
            let mut out = Vec::new();
            if self.client.poll_transmit(&mut out) {
                self.to_server.extend_from_slice(&out);
                self.sent.extend_from_slice(&out);
                moved = true;
            }
            self.server.handle_input(self.now, &mut self.to_server);
            while let Some(ev) = self.server.poll_event() {
                if let RtmpEvent::Play { path, query } = ev {
                    self.plays.push((path.clone(), query));
                    let r = if self.allow {
                        Ok(())
                    } else {
                        Err(PathError::NoOnePublishing(path))
                    };
                    self.server.answer_play(r);
                    moved = true;
                }
            }
            out.clear();
            if self.server.poll_transmit(&mut out) {
                self.to_client.extend_from_slice(&out);
                moved = true;
            }
            if !self.to_client.is_empty() {
                // `piece` more bytes are offered; what the client leaves (an incomplete tail)
                // stays in front.
                let seen = self.offered;
                let n = (seen + piece).min(self.to_client.len());
                let mut part = self.to_client.split_to(n);
                self.client.handle_input(self.now, &mut part);
                self.offered = part.len();
                // Progress: the client consumed bytes, or saw new ones.
                moved |= part.len() < n || n > seen;
                part.unsplit(std::mem::take(&mut self.to_client));
                self.to_client = part;
            }
            while let Some(ev) = self.client.poll_event() {
                self.client_events.push(ev);
            }
            if !moved {
                return;
            }
        }
        panic!("the peers never went quiet");
    }
}

/// The OBS capture's audio and video messages: (is video, timestamp, body).
fn obs_media() -> Vec<(bool, u32, Bytes)> {
    let stream = client_stream(OBS, 1935);
    let mut buf = BytesMut::from(&stream[1 + 2 * 1536..]);
    let mut d = ChunkDecoder::default();
    let mut out = Vec::new();
    while let Ok(Some(m)) = d.decode(&mut buf) {
        match m.type_id {
            1 => {
                if let Ok(ControlMessage::SetChunkSize(n)) = ControlMessage::parse(1, &m.body) {
                    d.set_chunk_size(n).unwrap();
                }
            }
            8 | 9 => out.push((m.type_id == 9, m.timestamp, m.body)),
            _ => {}
        }
    }
    out
}

#[test]
fn plays_the_stream_and_gets_the_same_units_as_the_demuxer() {
    let mut p = Pair::new("rtmp://127.0.0.1:1935/live/cam?key=1", true);
    p.run(7);
    assert_eq!(p.plays, [("live/cam".to_owned(), "key=1".to_owned())]);
    assert!(p.client.is_playing());
    let media = obs_media();
    assert!(media.len() > 300, "{}", media.len());
    let mut expected = Vec::new();
    let mut demux = FlvDemuxer::new();
    for (video, ts, body) in &media {
        let kind = if *video {
            MediaKind::Video
        } else {
            MediaKind::Audio
        };
        p.server.write_media(kind, *ts, body);
        demux
            .push(*video, i64::from(*ts), body, &mut expected)
            .unwrap();
        p.run(1460);
    }
    let FlvOutput::Tracks(want_desc) = &expected[0] else {
        panic!("tracks first")
    };
    let ready: Vec<_> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Ready { description } => Some(description.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ready.len(), 1);
    assert_eq!(ready[0].codec_list(), "H264, MPEG-4 Audio");
    assert_eq!(ready[0].codec_list(), want_desc.codec_list());
    let units: Vec<_> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Unit {
                track,
                pts,
                dts,
                key,
                payload,
            } => Some((*track, *pts, *dts, *key, payload.clone())),
            _ => None,
        })
        .collect();
    let want: Vec<_> = expected[1..]
        .iter()
        .map(|o| match o {
            FlvOutput::Unit {
                track,
                pts,
                dts,
                key,
                payload,
            } => (*track, *pts, *dts, *key, payload.clone()),
            FlvOutput::Tracks(_) => panic!("one Tracks"),
        })
        .collect();
    assert_eq!(units.len(), want.len());
    assert!(units == want, "units differ from the demuxer's");
    assert!(!p.client.is_closed());
}

#[test]
fn a_refused_play_closes_with_the_servers_code() {
    let mut p = Pair::new("rtmp://127.0.0.1/live/none", false);
    p.run(1);
    let reason = p.client_events.iter().find_map(|e| match e {
        ClientEvent::Close { reason } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(
        reason.as_deref(),
        Some("the server answered play with NetStream.Play.StreamNotFound")
    );
    assert!(p.client.is_closed());
    assert_eq!(p.client.poll_timeout(), None);
}

#[test]
fn a_silent_server_times_out_and_pings_are_answered() {
    let mut p = Pair::new("rtmp://127.0.0.1/live/cam", true);
    p.run(4096);
    let deadline = p.client.poll_timeout().unwrap();
    assert_eq!(deadline, p.now + Duration::from_secs(10));
    // A ping from the server: the client answers with the same timestamp.
    let mut ping = Vec::new();
    let mut body = Vec::new();
    let c = ControlMessage::UserControl(UserControlEvent::PingRequest(1234));
    c.write_body(&mut body);
    // The server's chunk stream state is not at hand: a fresh encoder on a fresh chunk
    // stream id writes a full header.
    crate::rtmp::chunk::ChunkEncoder::new()
        .write(&mut ping, 30, 0, c.type_id(), 0, &body)
        .unwrap();
    p.to_client.extend_from_slice(&ping);
    p.run(4096);
    let mut d = ChunkDecoder::default();
    let mut sent = BytesMut::from(&p.sent[1 + 2 * 1536..]);
    let mut pongs = Vec::new();
    while let Some(m) = d.decode(&mut sent).unwrap() {
        if let Ok(c) = ControlMessage::parse(m.type_id, &m.body) {
            pongs.push(c);
        }
    }
    assert!(pongs.contains(&ControlMessage::UserControl(
        UserControlEvent::PingResponse(1234)
    )));
    p.client.handle_timeout(deadline - Duration::from_millis(1));
    assert!(!p.client.is_closed());
    p.client.handle_timeout(deadline);
    assert!(p.client.is_closed());
}

#[test]
fn not_an_rtmp_server() {
    let mut p = Pair::new("rtmp://127.0.0.1/live/cam", true);
    let mut buf = BytesMut::from(&b"RTSP/1.0 400 Bad Request\r\n\r\n"[..]);
    p.client.handle_input(p.now, &mut buf);
    match p.client.poll_event() {
        Some(ClientEvent::Close { reason }) => {
            assert_eq!(reason, "the server answered with RTMP version 82")
        }
        other => panic!("{other:?}"),
    }
}

/// Arbitrary server bytes after a real handshake never panic, and never grow the event queue
/// without bound.
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_server_bytes_never_panic(chunks in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..600), 0..8)) {
            let mut p = Pair::new("rtmp://127.0.0.1/live/cam", true);
            p.run(4096);
            for c in chunks {
                let mut buf = BytesMut::from(&c[..]);
                p.client.handle_input(p.now, &mut buf);
                while p.client.poll_event().is_some() {}
                let mut out = Vec::new();
                p.client.poll_transmit(&mut out);
            }
        }
    }
}
