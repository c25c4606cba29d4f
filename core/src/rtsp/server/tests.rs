//! Deterministic tests of the server connection on a fake clock, with a tiny in-test adapter
//! that answers the connection's questions from a `PathManager`.

use super::*;
use crate::media::{PathConf, PathManager, StreamDescription};
use bytes::BytesMut;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SDP: &str = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\na=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190\r\na=control:streamid=1\r\n";

/// A fake adapter: a path registry whose "stream handle" is the description itself.
struct Harness {
    paths: PathManager<Arc<StreamDescription>>,
    now: Instant,
    conns: Vec<(ServerConnection, BytesMut, Vec<u8>, Vec<Event>)>,
}

impl Harness {
    // The fake clock needs one real base instant; only offsets from it are used after that.
    #[allow(clippy::disallowed_methods)]
    fn new(override_publisher: bool) -> Harness {
        let mut conf = PathConf::all_others();
        conf.override_publisher = override_publisher;
        Harness {
            paths: PathManager::new(vec![conf]),
            now: Instant::now(),
            conns: Vec::new(),
        }
    }

    fn connect(&mut self) -> usize {
        let cfg = Arc::new(ServerConfig::default());
        let peer = "127.0.0.1:40000".parse().unwrap();
        let c = ServerConnection::new(cfg, peer, self.now, 42 + self.conns.len() as u64);
        self.conns
            .push((c, BytesMut::new(), Vec::new(), Vec::new()));
        self.conns.len() - 1
    }

    /// Sends bytes on connection `i` and drives it until it is quiet; returns what it wrote.
    fn send(&mut self, i: usize, bytes: &[u8]) -> String {
        let now = self.now;
        let (c, buf, out, events) = &mut self.conns[i];
        buf.extend_from_slice(bytes);
        loop {
            c.handle_input(now, buf);
            let mut answered = false;
            while let Some(ev) = c.poll_event() {
                match &ev {
                    Event::Describe { path, .. } => {
                        c.answer_describe(self.paths.describe(path));
                        answered = true;
                    }
                    Event::Announce {
                        path, description, ..
                    } => {
                        let r = self
                            .paths
                            .publish(path, i as u64, description.clone())
                            .map(|_| ());
                        c.answer_announce(r);
                        answered = true;
                    }
                    Event::SetupRead { path, .. } => {
                        let r = self.paths.add_reader(path).map(|d| (d, Default::default()));
                        c.answer_setup_read(r);
                        answered = true;
                    }
                    Event::Play => {
                        c.answer_play(Ok(Default::default()));
                        answered = true;
                    }
                    _ => {}
                }
                events.push(ev);
            }
            if !answered {
                break;
            }
        }
        out.clear();
        c.poll_transmit(out);
        String::from_utf8_lossy(out).into_owned()
    }

    fn events(&mut self, i: usize) -> Vec<Event> {
        std::mem::take(&mut self.conns[i].3)
    }
}

fn status(resp: &str) -> u16 {
    resp.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn header<'a>(resp: &'a str, name: &str) -> Option<&'a str> {
    resp.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn announce(h: &mut Harness, c: usize, path: &str) -> String {
    let req = format!(
        "ANNOUNCE rtsp://127.0.0.1:8554/{path} RTSP/1.0\r\nCSeq: 1\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    );
    h.send(c, req.as_bytes())
}

fn publish(h: &mut Harness, c: usize, path: &str) -> String {
    let r = announce(h, c, path);
    assert_eq!(status(&r), 200, "{r}");
    let session = header(&r, "Session")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    for (i, ch) in [(0, "0-1"), (1, "2-3")] {
        let r = h.send(c, format!("SETUP rtsp://127.0.0.1:8554/{path}/streamid={i} RTSP/1.0\r\nCSeq: {}\r\nSession: {session}\r\nTransport: RTP/AVP/TCP;unicast;interleaved={ch};mode=record\r\n\r\n", i + 2).as_bytes());
        assert_eq!(status(&r), 200, "{r}");
        assert!(
            header(&r, "Transport")
                .unwrap()
                .contains(&format!("interleaved={ch}")),
            "{r}"
        );
    }
    let r = h.send(
        c,
        format!(
            "RECORD rtsp://127.0.0.1:8554/{path} RTSP/1.0\r\nCSeq: 4\r\nSession: {session}\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(status(&r), 200, "{r}");
    session
}

#[test]
fn options_lists_methods() {
    let mut h = Harness::new(true);
    let c = h.connect();
    let r = h.send(
        c,
        b"OPTIONS rtsp://127.0.0.1:8554/x RTSP/1.0\r\nCSeq: 7\r\n\r\n",
    );
    assert_eq!(status(&r), 200);
    assert_eq!(header(&r, "CSeq"), Some("7"));
    assert!(header(&r, "Public").unwrap().contains("ANNOUNCE"));
}

#[test]
fn publish_then_read_over_tcp() {
    let mut h = Harness::new(true);
    let p = h.connect();
    publish(&mut h, p, "live/cam");
    assert!(h.events(p).iter().any(|e| matches!(e, Event::Record)));
    // Media on the announced channels comes out as Rtp events.
    let rtp = [0x80u8, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 0x65, 1, 2];
    let mut frame = vec![b'$', 0, 0, rtp.len() as u8];
    frame.extend_from_slice(&rtp);
    h.send(p, &frame);
    assert!(h
        .events(p)
        .iter()
        .any(|e| matches!(e, Event::Rtp { track: 0, .. })));

    let r = h.connect();
    let d = h.send(
        r,
        b"DESCRIBE rtsp://127.0.0.1:8554/live/cam RTSP/1.0\r\nCSeq: 1\r\n\r\n",
    );
    assert_eq!(status(&d), 200, "{d}");
    assert_eq!(
        header(&d, "Content-Base"),
        Some("rtsp://127.0.0.1:8554/live/cam/")
    );
    assert!(d.contains("a=control:trackID=1"), "{d}");
    let s = h.send(r, b"SETUP rtsp://127.0.0.1:8554/live/cam/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n");
    assert_eq!(status(&s), 200, "{s}");
    let id = header(&s, "Session").unwrap();
    assert!(id.ends_with(";timeout=60"), "{id}");
    let id = id.split(';').next().unwrap().to_owned();
    let s2 = h.send(r, format!("SETUP rtsp://127.0.0.1:8554/live/cam/trackID=1 RTSP/1.0\r\nCSeq: 3\r\nSession: {id}\r\nTransport: RTP/AVP/TCP;unicast;interleaved=2-3\r\n\r\n").as_bytes());
    assert_eq!(status(&s2), 200, "{s2}");
    let p2 = h.send(
        r,
        format!(
            "PLAY rtsp://127.0.0.1:8554/live/cam/ RTSP/1.0\r\nCSeq: 4\r\nSession: {id}\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(status(&p2), 200, "{p2}");
    let sess = h.conns[r].0.session().unwrap();
    assert_eq!(sess.state, SessionState::Play);
    assert_eq!(sess.tcp_channels(1), Some((2, 3)));
    let t = h.send(
        r,
        format!(
            "TEARDOWN rtsp://127.0.0.1:8554/live/cam/ RTSP/1.0\r\nCSeq: 5\r\nSession: {id}\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(status(&t), 200);
    assert!(h
        .events(r)
        .iter()
        .any(|e| matches!(e, Event::SessionClosed { .. })));
}

#[test]
fn udp_setup_answers_server_ports() {
    let mut h = Harness::new(true);
    let p = h.connect();
    publish(&mut h, p, "cam");
    let r = h.connect();
    let s = h.send(r, b"SETUP rtsp://127.0.0.1:8554/cam/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n");
    assert_eq!(status(&s), 200, "{s}");
    let t = header(&s, "Transport").unwrap();
    assert!(
        t.contains("client_port=5000-5001") && t.contains("server_port=8000-8001"),
        "{t}"
    );
}

#[test]
fn misuse_gets_the_right_status() {
    let mut h = Harness::new(false);
    let p = h.connect();
    publish(&mut h, p, "busy");
    let c = h.connect();
    let cases: &[(&str, u16)] = &[
        ("OPTIONS * RTSP/1.0\r\n\r\n", 400),                                                // no CSeq
        ("OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n", 400),                           // repeated CSeq
        ("FOO rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n\r\n", 501),
        ("REDIRECT rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n\r\n", 405),
        ("DESCRIBE rtsp://h/nobody RTSP/1.0\r\nCSeq: 1\r\n\r\n", 404),
        ("PLAY rtsp://h/busy RTSP/1.0\r\nCSeq: 1\r\n\r\n", 455),                              // no session
        ("RECORD rtsp://h/busy RTSP/1.0\r\nCSeq: 1\r\n\r\n", 455),
        ("PLAY rtsp://h/busy RTSP/1.0\r\nCSeq: 1\r\nSession: deadbeef\r\n\r\n", 454),
        ("SETUP rtsp://h/busy/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n\r\n", 400),                   // no Transport
        ("SETUP rtsp://h/busy/trackID=9 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n", 404),
        ("SETUP rtsp://h/busy RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n", 459),
        ("SETUP rtsp://h/busy/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/SAVP;unicast;client_port=5000-5001\r\n\r\n", 461),
        ("GET_PARAMETER rtsp://h/busy RTSP/1.0\r\nCSeq: 1\r\n\r\n", 200),
    ];
    for (req, want) in cases {
        let r = h.send(c, req.as_bytes());
        assert_eq!(status(&r), *want, "request {req:?} got {r:?}");
    }
    // Second publisher without overridePublisher.
    let r = announce(&mut h, c, "busy");
    assert_eq!(status(&r), 400, "{r}");
}

#[test]
fn play_on_publisher_and_record_on_reader_are_455() {
    let mut h = Harness::new(true);
    let p = h.connect();
    let s = publish(&mut h, p, "cam");
    let r = h.send(
        p,
        format!("PLAY rtsp://h/cam RTSP/1.0\r\nCSeq: 9\r\nSession: {s}\r\n\r\n").as_bytes(),
    );
    assert_eq!(status(&r), 455);
    let c = h.connect();
    let s = h.send(c, b"SETUP rtsp://h/cam/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP/TCP;interleaved=0-1\r\n\r\n");
    let id = header(&s, "Session")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let r = h.send(
        c,
        format!("RECORD rtsp://h/cam RTSP/1.0\r\nCSeq: 2\r\nSession: {id}\r\n\r\n").as_bytes(),
    );
    assert_eq!(status(&r), 455);
}

#[test]
fn garbage_gets_400_and_close() {
    let mut h = Harness::new(true);
    let c = h.connect();
    let r = h.send(c, b"\x16\x03\x01\x02\x00garbage\r\n\r\n");
    assert_eq!(status(&r), 400, "{r}");
    assert!(h.events(c).iter().any(|e| matches!(e, Event::Close { .. })));
    assert!(h.conns[c].0.is_closing());
}

#[test]
fn unknown_interleaved_channel_is_ignored() {
    let mut h = Harness::new(true);
    let c = h.connect();
    h.send(c, b"$\x05\x00\x03abc");
    let r = h.send(c, b"OPTIONS * RTSP/1.0\r\nCSeq: 2\r\n\r\n");
    assert_eq!(status(&r), 200);
    assert!(!h.conns[c].0.is_closing());
}

#[test]
fn requests_split_at_every_byte_are_answered_once() {
    let req = b"OPTIONS rtsp://h/x RTSP/1.0\r\nCSeq: 3\r\n\r\n";
    for split in 1..req.len() {
        let mut h = Harness::new(true);
        let c = h.connect();
        assert_eq!(h.send(c, &req[..split]), "");
        let r = h.send(c, &req[split..]);
        assert_eq!(status(&r), 200, "split at {split}");
    }
}

#[test]
fn idle_connection_and_session_time_out() {
    let mut h = Harness::new(true);
    let c = h.connect();
    let d = h.conns[c].0.poll_timeout().unwrap();
    assert_eq!(d, h.now + Duration::from_secs(10));
    h.conns[c].0.handle_timeout(d);
    assert!(h.conns[c].0.is_closing());

    let p = h.connect();
    publish(&mut h, p, "cam");
    let r = h.connect();
    h.send(r, b"SETUP rtsp://h/cam/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nTransport: RTP/AVP;unicast;client_port=5000-5001\r\n\r\n");
    let d = h.conns[r].0.poll_timeout().unwrap();
    assert_eq!(d, h.now + Duration::from_secs(60));
    h.conns[r]
        .0
        .handle_udp_activity(h.now + Duration::from_secs(30));
    assert_eq!(
        h.conns[r].0.poll_timeout().unwrap(),
        h.now + Duration::from_secs(90)
    );
    h.conns[r].0.handle_timeout(h.now + Duration::from_secs(89));
    assert!(!h.conns[r].0.is_closing());
    h.conns[r].0.handle_timeout(h.now + Duration::from_secs(90));
    let evs: Vec<Event> = std::iter::from_fn(|| h.conns[r].0.poll_event()).collect();
    assert!(
        evs.iter().any(|e| matches!(e, Event::SessionClosed { .. })),
        "{evs:?}"
    );
    assert!(
        evs.iter().any(|e| matches!(e, Event::Close { .. })),
        "{evs:?}"
    );
}

#[test]
fn describe_of_a_redirect_path_answers_301_with_an_absolute_location() {
    let mut h = Harness::new(true);
    let mut old = PathConf::all_others();
    old.name = "old".into();
    old.source = "redirect".into();
    old.source_redirect = "/new".into();
    let mut far = old.clone();
    far.name = "far".into();
    far.source_redirect = "rtsp://10.0.0.2:554/cam".into();
    h.paths = PathManager::new(vec![old, far, PathConf::all_others()]);
    let c = h.connect();
    let r = h.send(
        c,
        b"DESCRIBE rtsp://127.0.0.1:8554/old?x=1 RTSP/1.0\r\nCSeq: 2\r\n\r\n",
    );
    assert_eq!(status(&r), 301, "{r}");
    assert_eq!(header(&r, "Location"), Some("rtsp://127.0.0.1:8554/new"));
    assert_eq!(header(&r, "CSeq"), Some("2"));
    let r = h.send(
        c,
        b"DESCRIBE rtsp://127.0.0.1:8554/far RTSP/1.0\r\nCSeq: 3\r\n\r\n",
    );
    assert_eq!(status(&r), 301, "{r}");
    assert_eq!(header(&r, "Location"), Some("rtsp://10.0.0.2:554/cam"));
}
