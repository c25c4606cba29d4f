//! The client over UDP against a scripted server, on a fake clock: the SETUP `Transport` it
//! sends in each mode, the datagrams it accepts, and automatic mode's fall-backs to TCP.

use super::*;
use bytes::{Bytes, BytesMut};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

const SDP: &str = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:trackID=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\na=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190\r\na=control:trackID=1\r\n";

const SERVER: &str = "127.0.0.1";

struct Script {
    now: Instant,
    client: ClientConnection,
    events: Vec<ClientEvent>,
}

impl Script {
    // The fake clock needs one real base instant; only offsets from it are used after that.
    #[allow(clippy::disallowed_methods)]
    fn new(transport: RtspTransport, any_port: bool) -> Script {
        let now = Instant::now();
        let cfg = ClientConfig {
            transport,
            any_port,
            ..ClientConfig::default()
        };
        let url = SourceUrl::parse("rtsp://127.0.0.1:8554/cam").unwrap();
        Script {
            now,
            client: ClientConnection::new(cfg, url, now),
            events: Vec::new(),
        }
    }

    /// The request the client sent last (one at a time is outstanding).
    fn sent(&mut self) -> String {
        let mut out = Vec::new();
        assert!(
            self.client.poll_transmit(&mut out),
            "the client sent nothing"
        );
        String::from_utf8(out).unwrap()
    }

    /// Answers `request` with `status`, extra header lines and a body; collects events.
    fn answer(&mut self, request: &str, status: &str, headers: &str, body: &str) {
        let cseq = request
            .lines()
            .find_map(|l| l.strip_prefix("CSeq: "))
            .expect("CSeq");
        let text = format!(
            "RTSP/1.0 {status}\r\nCSeq: {cseq}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut buf = BytesMut::from(text.as_bytes());
        self.client.handle_input(self.now, &mut buf);
        while let Some(ev) = self.client.poll_event() {
            self.events.push(ev);
        }
    }

    /// OPTIONS and DESCRIBE answered.
    fn described(&mut self) {
        let r = self.sent();
        assert!(r.starts_with("OPTIONS "), "{r}");
        self.answer(&r, "200 OK", "", "");
        let r = self.sent();
        assert!(r.starts_with("DESCRIBE "), "{r}");
        self.answer(&r, "200 OK", "Content-Type: application/sdp\r\n", SDP);
    }

    fn take_open_udp(&mut self) -> Vec<(usize, Option<UdpGroup>)> {
        let mut asked = Vec::new();
        self.events.retain(|e| match e {
            ClientEvent::OpenUdp { track, group } => {
                asked.push((*track, *group));
                false
            }
            _ => true,
        });
        asked
    }

    fn udp(&mut self, track: usize, rtcp: bool, from: &str, seq: u16) -> bool {
        let mut p = vec![0x80, 96, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 0x65, 1];
        p[2..4].copy_from_slice(&seq.to_be_bytes());
        let from: SocketAddr = from.parse().unwrap();
        self.client
            .handle_udp(self.now, track, rtcp, from, Bytes::from(p));
        let mut got = false;
        while let Some(ev) = self.client.poll_event() {
            got |= matches!(ev, ClientEvent::Rtp { track: t, .. } if t == track);
        }
        got
    }

    fn closed_with(&self) -> Option<&str> {
        self.events.iter().find_map(|e| match e {
            ClientEvent::Close { reason } => Some(reason.as_str()),
            _ => None,
        })
    }
}

fn server() -> IpAddr {
    SERVER.parse().unwrap()
}

/// Sets up both tracks over unicast UDP (server ports 6000-6001 and 6002-6003) and plays.
fn playing_over_udp(any_port: bool, server_ports: bool) -> Script {
    let mut s = Script::new(RtspTransport::Udp, any_port);
    s.described();
    for (track, local) in [(0usize, 5000u16), (1, 5002)] {
        assert_eq!(s.take_open_udp(), vec![(track, None)]);
        assert!(
            !s.client.poll_transmit(&mut Vec::new()),
            "SETUP waits for the ports"
        );
        s.client
            .handle_udp_open(track, Ok((local, local + 1)), server());
        let r = s.sent();
        assert!(
            r.starts_with(&format!("SETUP rtsp://127.0.0.1:8554/cam/trackID={track} ")),
            "{r}"
        );
        let asked = format!(
            "Transport: RTP/AVP;unicast;client_port={local}-{}\r\n",
            local + 1
        );
        assert!(r.contains(&asked), "{r}");
        let ports = if server_ports {
            format!(";server_port={}-{}", 6000 + 2 * track, 6001 + 2 * track)
        } else {
            String::new()
        };
        let t = format!(
            "Transport: RTP/AVP;unicast;client_port={local}-{}{ports}\r\nSession: s1;timeout=60\r\n",
            local + 1
        );
        s.answer(&r, "200 OK", &t, "");
        if s.closed_with().is_some() {
            return s;
        }
    }
    let r = s.sent();
    assert!(r.starts_with("PLAY "), "{r}");
    s.answer(&r, "200 OK", "Session: s1\r\n", "");
    assert!(s.client.is_playing());
    assert!(s
        .events
        .iter()
        .any(|e| matches!(e, ClientEvent::Ready { .. })));
    s
}

#[test]
fn udp_media_is_taken_only_from_the_server_s_ports() {
    let mut s = playing_over_udp(false, true);
    assert!(s.udp(0, false, "127.0.0.1:6000", 1));
    assert!(s.udp(1, false, "127.0.0.1:6002", 2));
    // Another port of the server, another host, a track that does not exist: dropped.
    assert!(!s.udp(0, false, "127.0.0.1:7000", 3));
    assert!(!s.udp(0, false, "10.0.0.9:6000", 4));
    assert!(!s.udp(5, false, "127.0.0.1:6000", 5));
    // RTCP is proof of life, not media.
    assert!(!s.udp(0, true, "127.0.0.1:6001", 6));
    assert!(s.closed_with().is_none());
}

#[test]
fn any_port_takes_media_from_any_port_of_the_server() {
    let mut s = playing_over_udp(true, true);
    assert!(s.udp(0, false, "127.0.0.1:7000", 1));
    assert!(
        !s.udp(0, false, "10.0.0.9:6000", 2),
        "still only from the server"
    );
}

#[test]
fn a_server_without_server_port_needs_any_port() {
    let s = playing_over_udp(false, false);
    let why = s.closed_with().expect("closed");
    assert!(why.contains("set rtspAnyPort"), "{why}");
    let mut s = playing_over_udp(true, false);
    assert!(s.udp(0, false, "127.0.0.1:4321", 1));
}

#[test]
fn automatic_mode_falls_back_to_tcp_when_the_server_refuses_udp() {
    let mut s = Script::new(RtspTransport::Automatic, false);
    s.described();
    assert_eq!(s.take_open_udp(), vec![(0, None)]);
    s.client.handle_udp_open(0, Ok((5000, 5001)), server());
    let r = s.sent();
    assert!(r.contains("client_port=5000-5001"), "{r}");
    s.answer(&r, "461 Unsupported Transport", "", "");
    // The same track again, interleaved, on the same connection; then every track so.
    let r = s.sent();
    assert!(
        r.starts_with("SETUP rtsp://127.0.0.1:8554/cam/trackID=0 "),
        "{r}"
    );
    assert!(
        r.contains("Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n"),
        "{r}"
    );
    s.answer(
        &r,
        "200 OK",
        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: s1\r\n",
        "",
    );
    let r = s.sent();
    assert!(r.contains("interleaved=2-3"), "{r}");
    s.answer(
        &r,
        "200 OK",
        "Transport: RTP/AVP/TCP;unicast;interleaved=2-3\r\nSession: s1\r\n",
        "",
    );
    let r = s.sent();
    s.answer(&r, "200 OK", "Session: s1\r\n", "");
    assert!(s.client.is_playing());
    assert!(s.take_open_udp().is_empty());
    // No UDP deadline over TCP.
    s.now += Duration::from_secs(5);
    s.client.handle_timeout(s.now);
    assert!(s.client.is_playing());
}

#[test]
fn udp_only_mode_does_not_fall_back() {
    let mut s = Script::new(RtspTransport::Udp, false);
    s.described();
    s.client.handle_udp_open(0, Ok((5000, 5001)), server());
    let r = s.sent();
    s.answer(&r, "461 Unsupported Transport", "", "");
    let why = s.closed_with().expect("closed");
    assert!(why.contains("SETUP with 461"), "{why}");
    assert!(!s.client.wants_tcp());
}

/// Automatic mode, both tracks set up over UDP (server ports 6000-6001, 6002-6003), playing.
fn automatic_playing_over_udp() -> Script {
    let mut s = Script::new(RtspTransport::Automatic, false);
    s.described();
    for (track, local) in [(0usize, 5000u16), (1, 5002)] {
        s.client
            .handle_udp_open(track, Ok((local, local + 1)), server());
        let r = s.sent();
        let t = format!(
            "Transport: RTP/AVP;unicast;server_port={}-{}\r\nSession: s1\r\n",
            6000 + 2 * track,
            6001 + 2 * track
        );
        s.answer(&r, "200 OK", &t, "");
    }
    let r = s.sent();
    s.answer(&r, "200 OK", "Session: s1\r\n", "");
    assert!(s.client.is_playing());
    s
}

#[test]
fn automatic_mode_without_udp_packets_reconnects_over_tcp() {
    let mut s = automatic_playing_over_udp();
    // The deadline is 3 s after PLAY's answer.
    let deadline = s.client.poll_timeout().unwrap();
    assert_eq!(deadline, s.now + Duration::from_secs(3));
    s.now = deadline;
    s.client.handle_timeout(s.now);
    while let Some(ev) = s.client.poll_event() {
        s.events.push(ev);
    }
    assert_eq!(
        s.closed_with(),
        Some("no UDP packets received, switching to TCP")
    );
    assert!(s.client.wants_tcp());
}

#[test]
fn a_first_udp_packet_clears_automatic_mode_s_deadline() {
    let mut s = automatic_playing_over_udp();
    s.now += Duration::from_secs(1);
    assert!(s.udp(0, false, "127.0.0.1:6000", 1));
    s.now += Duration::from_secs(4);
    s.client.handle_timeout(s.now);
    assert!(s.client.is_playing());
    assert!(!s.client.wants_tcp());
}

#[test]
fn multicast_joins_the_group_the_server_names() {
    let mut s = Script::new(RtspTransport::Multicast, false);
    s.described();
    for track in 0..2usize {
        let r = s.sent();
        assert!(r.contains("Transport: RTP/AVP;multicast\r\n"), "{r}");
        let t = format!(
            "Transport: RTP/AVP;multicast;destination=224.1.0.{track};port=18002-18003;ttl=16\r\nSession: s1\r\n"
        );
        s.answer(&r, "200 OK", &t, "");
        let group = UdpGroup {
            address: format!("224.1.0.{track}").parse().unwrap(),
            rtp_port: 18002,
            rtcp_port: 18003,
        };
        assert_eq!(s.take_open_udp(), vec![(track, Some(group))]);
        assert!(
            !s.client.poll_transmit(&mut Vec::new()),
            "the next SETUP waits for the join"
        );
        s.client
            .handle_udp_open(track, Ok((18002, 18003)), server());
    }
    let r = s.sent();
    assert!(r.starts_with("PLAY "), "{r}");
    s.answer(&r, "200 OK", "Session: s1\r\n", "");
    // The group's packets come from the server's sending port, whichever it is.
    assert!(s.udp(1, false, "127.0.0.1:40123", 1));
    assert!(!s.udp(1, false, "10.0.0.9:40123", 2));
}

#[test]
fn a_server_answering_another_transport_is_left() {
    let mut s = Script::new(RtspTransport::Udp, false);
    s.described();
    s.client.handle_udp_open(0, Ok((5000, 5001)), server());
    let r = s.sent();
    s.answer(
        &r,
        "200 OK",
        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nSession: s1\r\n",
        "",
    );
    let why = s.closed_with().expect("closed");
    assert!(why.contains("another transport than asked"), "{why}");
    // Failing to open the sockets closes too, saying why.
    let mut s = Script::new(RtspTransport::Udp, false);
    s.described();
    s.client
        .handle_udp_open(0, Err("address in use".into()), server());
    while let Some(ev) = s.client.poll_event() {
        s.events.push(ev);
    }
    assert_eq!(
        s.closed_with(),
        Some("cannot open UDP sockets: address in use")
    );
}
