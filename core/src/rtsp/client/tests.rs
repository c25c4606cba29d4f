//! The client against weir's own server machine, on a fake clock: both peers in one test,
//! bytes passed between them, the server's questions answered by a tiny registry.

use super::*;
use crate::media::StreamDescription;
use crate::rtsp::interleaved_header;
use crate::rtsp::server::{Event, ServerConfig, ServerConnection};
use bytes::BytesMut;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SDP: &str = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\na=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190\r\na=control:streamid=1\r\n";

struct Pair {
    now: Instant,
    client: ClientConnection,
    server: ServerConnection,
    to_server: BytesMut,
    to_client: BytesMut,
    desc: Arc<StreamDescription>,
    client_events: Vec<ClientEvent>,
}

impl Pair {
    // The fake clock needs one real base instant; only offsets from it are used after that.
    #[allow(clippy::disallowed_methods)]
    fn new(url: &str) -> Pair {
        let now = Instant::now();
        let desc = Arc::new(StreamDescription::from_sdp(SDP.as_bytes()).unwrap());
        let server = ServerConnection::new(
            Arc::new(ServerConfig::default()),
            "127.0.0.1:40000".parse().unwrap(),
            now,
            7,
        );
        let client =
            ClientConnection::new(ClientConfig::default(), SourceUrl::parse(url).unwrap(), now);
        Pair {
            now,
            client,
            server,
            to_server: BytesMut::new(),
            to_client: BytesMut::new(),
            desc,
            client_events: Vec::new(),
        }
    }

    /// Passes bytes both ways, answering the server's questions, until both are quiet.
    fn run(&mut self) {
        for _ in 0..50 {
            let mut moved = false;
            let mut out = Vec::new();
            if self.client.poll_transmit(&mut out) {
                self.to_server.extend_from_slice(&out);
                moved = true;
            }
            self.server.handle_input(self.now, &mut self.to_server);
            while let Some(ev) = self.server.poll_event() {
                match ev {
                    Event::Describe { .. } => self.server.answer_describe(Ok(self.desc.clone())),
                    Event::SetupRead { .. } => self
                        .server
                        .answer_setup_read(Ok((self.desc.clone(), Default::default()))),
                    Event::Play => self.server.answer_play(Ok(Default::default())),
                    _ => {}
                }
                moved = true;
            }
            out.clear();
            if self.server.poll_transmit(&mut out) {
                self.to_client.extend_from_slice(&out);
                moved = true;
            }
            self.client.handle_input(self.now, &mut self.to_client);
            while let Some(ev) = self.client.poll_event() {
                self.client_events.push(ev);
                moved = true;
            }
            if !moved {
                return;
            }
        }
        panic!("the peers never went quiet");
    }
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 96, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 0x65, 1, 2, 3];
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p
}

#[test]
fn reads_a_stream_from_weir_s_own_server() {
    let mut p = Pair::new("rtsp://127.0.0.1:8554/cam");
    p.run();
    let ready = p.client_events.iter().find_map(|e| match e {
        ClientEvent::Ready { description } => Some(description.clone()),
        _ => None,
    });
    let desc = ready.expect("Ready after PLAY");
    assert_eq!(desc.tracks.len(), 2);
    assert!(p.client.is_playing());
    // Media on the reader's channels (0 and 2) comes out per track; RTCP channels do not.
    let mut media = Vec::new();
    for (ch, seq) in [(0u8, 1u16), (2, 2), (1, 3), (0, 4)] {
        let pk = rtp(seq);
        media.extend_from_slice(&interleaved_header(ch, pk.len() as u16));
        media.extend_from_slice(&pk);
    }
    // Split anywhere: the parser resumes.
    for piece in media.chunks(5) {
        p.to_client.extend_from_slice(piece);
        p.client.handle_input(p.now, &mut p.to_client);
    }
    let mut got = Vec::new();
    while let Some(ev) = p.client.poll_event() {
        if let ClientEvent::Rtp { track, packet } = ev {
            got.push((track, packet.header.sequence_number.0));
        }
    }
    assert_eq!(got, vec![(0, 1), (1, 2), (0, 4)]);
}

#[test]
fn keepalive_and_silence() {
    let mut p = Pair::new("rtsp://127.0.0.1:8554/cam");
    p.run();
    assert!(p.client.is_playing());
    // The server announced a 60 s session timeout: keep-alives every 30 s.
    let t = p.client.poll_timeout().unwrap();
    assert!(t <= p.now + Duration::from_secs(10), "read timeout first");
    let later = p.now + Duration::from_secs(9);
    let mut buf = BytesMut::from(&b"RTSP/1.0 200 OK\r\nCSeq: 999\r\n\r\n"[..]);
    p.client.handle_input(later, &mut buf);
    p.client.handle_timeout(later);
    assert!(!p.client.is_closed());
    let silent = later + Duration::from_secs(10);
    p.client.handle_timeout(silent);
    assert!(p.client.is_closed());
    assert!(matches!(
        p.client.poll_event(),
        Some(ClientEvent::Close { reason }) if reason.contains("timed out")
    ));
}

#[test]
fn a_refusal_closes_with_the_status() {
    let now = p_now();
    let mut c = ClientConnection::new(
        ClientConfig::default(),
        SourceUrl::parse("rtsp://h/cam").unwrap(),
        now,
    );
    let mut out = Vec::new();
    assert!(c.poll_transmit(&mut out));
    assert!(
        String::from_utf8_lossy(&out).starts_with("OPTIONS rtsp://h/cam RTSP/1.0\r\nCSeq: 1\r\n")
    );
    let mut buf = BytesMut::from(&b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n"[..]);
    c.handle_input(now, &mut buf);
    out.clear();
    assert!(c.poll_transmit(&mut out));
    assert!(String::from_utf8_lossy(&out).starts_with("DESCRIBE "));
    let mut buf = BytesMut::from(&b"RTSP/1.0 404 Not Found\r\nCSeq: 2\r\n\r\n"[..]);
    c.handle_input(now, &mut buf);
    assert!(matches!(
        c.poll_event(),
        Some(ClientEvent::Close { reason }) if reason.contains("DESCRIBE with 404")
    ));
}

#[allow(clippy::disallowed_methods)]
fn p_now() -> Instant {
    Instant::now()
}

#[test]
fn urls_parse() {
    let u = SourceUrl::parse("rtsp://user:pw@10.0.0.1:8554/a/b?x=1").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.url.as_str()),
        ("10.0.0.1", 8554, "rtsp://10.0.0.1:8554/a/b?x=1")
    );
    assert_eq!(u.credentials, Some(("user".into(), "pw".into())));
    let v6 = SourceUrl::parse("rtsp://[::1]/cam").unwrap();
    assert_eq!((v6.host.as_str(), v6.port), ("::1", 554));
    assert!(SourceUrl::parse("http://h/x").is_none());
    assert!(SourceUrl::parse("rtsp:///x").is_none());
}

proptest::proptest! {
    /// Whatever the server sends, the client never panics.
    #[test]
    fn arbitrary_server_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), 0..10)) {
        let now = p_now();
        let mut c = ClientConnection::new(ClientConfig::default(), SourceUrl::parse("rtsp://h/cam").unwrap(), now);
        let mut buf = BytesMut::new();
        for ch in chunks {
            buf.extend_from_slice(&ch);
            c.handle_input(now, &mut buf);
            while c.poll_event().is_some() {}
        }
        c.handle_timeout(now + Duration::from_secs(60));
    }
}
