//! Deterministic two-peer tests: the in-test client drives server connections on a fake clock,
//! and a tiny in-test adapter answers their questions and forwards a publisher's media to a
//! player.

use super::test_client::{Received, TestClient};
use super::*;
use crate::media::PathError;
use crate::rtmp::amf0::object;
use crate::rtmp::handshake::HandshakeKind;
use crate::rtmp::message::{BandwidthLimit, ControlMessage};
use crate::rtmp::user_control::UserControlEvent;
use bytes::BytesMut;
use std::sync::Arc;
use std::time::Instant;

pub(super) fn s(v: &str) -> Amf0Value {
    Amf0Value::String(v.into())
}

/// One server connection, its input buffer, and the client talking to it.
pub(super) struct Peer {
    pub(super) conn: RtmpServerConnection,
    pub(super) buf: BytesMut,
    pub(super) client: TestClient,
    pub(super) events: Vec<RtmpEvent>,
    pub(super) now: Instant,
    pub(super) publish_answer: Result<(), PathError>,
    pub(super) play_answer: Result<(), PathError>,
    /// Bytes fed so far.
    fed: usize,
}

impl Peer {
    /// A connection that has not seen any byte yet.
    #[allow(clippy::disallowed_methods)] // a fake clock needs one real base instant
    pub(super) fn fresh() -> Peer {
        let now = Instant::now();
        let peer = "10.0.0.1:5000".parse().unwrap();
        let conn = RtmpServerConnection::new(Arc::new(RtmpServerConfig::default()), peer, now, 9);
        Peer {
            conn,
            buf: BytesMut::new(),
            client: TestClient::new(),
            events: Vec::new(),
            now,
            publish_answer: Ok(()),
            play_answer: Ok(()),
            fed: 0,
        }
    }

    /// A connection past the handshake.
    pub(super) fn new(digest: bool) -> Peer {
        let mut p = Peer::fresh();
        let s0s1s2 = p.raw(&TestClient::c0c1(digest));
        assert_eq!(s0s1s2.len(), 1 + 2 * 1536);
        assert!(p.raw(&s0s1s2[1..1537]).is_empty(), "C2 gets no answer");
        p
    }

    /// Feeds bytes and drives the connection until quiet, answering its questions; returns
    /// what it transmitted.
    pub(super) fn raw(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.buf.extend_from_slice(bytes);
        self.fed += bytes.len();
        let mut out = Vec::new();
        loop {
            self.conn.handle_input(self.now, &mut self.buf);
            let mut answered = false;
            while let Some(ev) = self.conn.poll_event() {
                match &ev {
                    RtmpEvent::Publish { .. } => {
                        self.conn.answer_publish(self.publish_answer.clone());
                        answered = true;
                    }
                    RtmpEvent::Play { .. } => {
                        self.conn.answer_play(self.play_answer.clone());
                        answered = true;
                    }
                    _ => {}
                }
                self.events.push(ev);
            }
            self.conn.poll_transmit(&mut out);
            if !answered {
                return out;
            }
        }
    }

    /// Feeds bytes and decodes the answer.
    pub(super) fn send(&mut self, bytes: &[u8]) -> Vec<Received> {
        let out = self.raw(bytes);
        self.client.receive(&out)
    }

    pub(super) fn take_events(&mut self) -> Vec<RtmpEvent> {
        std::mem::take(&mut self.events)
    }

    pub(super) fn connect(&mut self, app: &str) -> Vec<Received> {
        let obj = object([
            ("app", s(app)),
            ("flashVer", s("FMLE/3.0 (compatible; weir-test)")),
            ("tcUrl", s(&format!("rtmp://127.0.0.1:1935/{app}"))),
            ("objectEncoding", Amf0Value::Number(0.0)),
        ]);
        let bytes = self.client.command(0, "connect", 1.0, obj, vec![]);
        self.send(&bytes)
    }

    pub(super) fn cmd(
        &mut self,
        stream: u32,
        name: &str,
        txn: f64,
        args: Vec<Amf0Value>,
    ) -> Vec<Received> {
        let bytes = self
            .client
            .command(stream, name, txn, Amf0Value::Null, args);
        self.send(&bytes)
    }

    pub(super) fn closed(&self) -> Option<&str> {
        self.events.iter().find_map(|e| match e {
            RtmpEvent::Close { reason } => Some(reason.as_str()),
            _ => None,
        })
    }
}

pub(super) fn result_value(r: &Received) -> (&str, f64, Option<&Amf0Value>) {
    let c = r.command().expect("a command");
    (c.name.as_str(), c.transaction_id, c.args.first())
}

#[test]
fn publisher_and_player() {
    // --- the publisher
    let mut publ = Peer::new(true);
    assert_eq!(
        publ.conn.handshake_kind(),
        Some(HandshakeKind::Digest { scheme: 1 })
    );
    let r = publ.connect("live");
    assert_eq!(r.len(), 4, "{r:?}");
    assert_eq!(
        r[0],
        Received::Control(ControlMessage::WindowAckSize(2_500_000))
    );
    assert_eq!(
        r[1],
        Received::Control(ControlMessage::SetPeerBandwidth {
            size: 2_500_000,
            limit: BandwidthLimit::Dynamic
        })
    );
    assert_eq!(r[2], Received::Control(ControlMessage::SetChunkSize(4096)));
    let c = r[3].command().unwrap();
    assert_eq!((c.name.as_str(), c.transaction_id), ("_result", 1.0));
    assert_eq!(c.object.get("fmsVer"), Some(&s("FMS/3,0,1,123")));
    assert_eq!(c.object.get("capabilities"), Some(&Amf0Value::Number(31.0)));
    assert_eq!(r[3].code(), Some("NetConnection.Connect.Success"));
    assert_eq!(
        c.args[0].get("objectEncoding"),
        Some(&Amf0Value::Number(0.0))
    );

    let r = publ.cmd(0, "releaseStream", 2.0, vec![s("cam?key=1")]);
    assert_eq!(
        result_value(&r[0]),
        ("_result", 2.0, Some(&Amf0Value::Undefined))
    );
    let r = publ.cmd(0, "FCPublish", 3.0, vec![s("cam?key=1")]);
    assert_eq!(
        result_value(&r[0]),
        ("_result", 3.0, Some(&Amf0Value::Undefined))
    );
    let r = publ.cmd(0, "createStream", 4.0, vec![]);
    assert_eq!(
        result_value(&r[0]),
        ("_result", 4.0, Some(&Amf0Value::Number(1.0)))
    );
    assert!(publ.take_events().is_empty());

    let r = publ.cmd(1, "publish", 5.0, vec![s("cam?key=1"), s("live")]);
    assert_eq!(
        publ.take_events(),
        vec![RtmpEvent::Publish {
            path: "live/cam".into(),
            query: "key=1".into()
        }]
    );
    assert_eq!(r.len(), 1);
    assert!(matches!(&r[0], Received::Command(1, c) if c.name == "onStatus"));
    assert_eq!(r[0].code(), Some("NetStream.Publish.Start"));
    assert!(publ.conn.is_publishing());
    assert_eq!(publ.conn.path(), Some("live/cam"));

    let meta = Amf0Value::EcmaArray(vec![
        ("width".into(), Amf0Value::Number(1280.0)),
        ("videocodecid".into(), Amf0Value::Number(7.0)),
    ]);
    let bytes = publ
        .client
        .data(1, &[s("@setDataFrame"), s("onMetaData"), meta.clone()]);
    assert!(publ.send(&bytes).is_empty());
    assert_eq!(
        publ.take_events(),
        vec![RtmpEvent::Metadata(meta.properties().unwrap().to_vec())]
    );

    // --- the player
    let mut play = Peer::new(false);
    assert_eq!(play.conn.handshake_kind(), Some(HandshakeKind::Simple));
    assert_eq!(play.connect("live").len(), 4);
    let r = play.cmd(0, "createStream", 2.0, vec![]);
    assert_eq!(result_value(&r[0]).2, Some(&Amf0Value::Number(1.0)));
    let r = play.cmd(1, "play", 0.0, vec![s("cam"), Amf0Value::Number(-2000.0)]);
    assert_eq!(
        play.take_events(),
        vec![RtmpEvent::Play {
            path: "live/cam".into(),
            query: String::new()
        }]
    );
    assert_eq!(r.len(), 5, "{r:?}");
    assert_eq!(
        r[0],
        Received::Control(ControlMessage::UserControl(UserControlEvent::StreamBegin(
            1
        )))
    );
    assert_eq!(r[1].code(), Some("NetStream.Play.Reset"));
    assert_eq!(r[2].code(), Some("NetStream.Play.Start"));
    assert_eq!(
        r[3],
        Received::Data(
            1,
            vec![
                s("|RtmpSampleAccess"),
                Amf0Value::Boolean(true),
                Amf0Value::Boolean(true)
            ]
        )
    );
    match &r[4] {
        Received::Data(1, v) => {
            assert_eq!(v[0], s("onStatus"));
            assert_eq!(v[1].get("code"), Some(&s("NetStream.Data.Start")));
        }
        other => panic!("{other:?}"),
    }
    assert!(play.conn.is_playing());
    assert_eq!(play.conn.poll_timeout(), None, "players never time out");

    // --- media flows from the publisher through the "adapter" to the player
    let video = [0x17, 0x00, 0, 0, 0, 1, 0x64, 0, 0x1f];
    let big = vec![0x27u8; 10_000];
    let mut wire = publ.client.message(6, 0, 9, 1, &video);
    wire.extend(publ.client.message(4, 0, 8, 1, &[0xaf, 0x00, 0x11, 0x90]));
    wire.extend(publ.client.message(6, 33, 9, 1, &big));
    assert!(publ.send(&wire).is_empty());
    let media = publ.take_events();
    assert_eq!(media.len(), 3);
    for ev in &media {
        let RtmpEvent::Media {
            kind,
            timestamp_ms,
            body,
        } = ev
        else {
            panic!("{ev:?}")
        };
        play.conn.write_media(*kind, *timestamp_ms as u32, body);
    }
    assert!(
        matches!(&media[2], RtmpEvent::Media { kind: MediaKind::Video, timestamp_ms: 33, body } if body[..] == big[..])
    );
    let mut out = Vec::new();
    play.conn.poll_transmit(&mut out);
    let got = play.client.receive(&out);
    let bodies: Vec<(u8, u32, usize)> = got
        .iter()
        .map(|r| match r {
            Received::Media(m) => (m.type_id, m.timestamp, m.body.len()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(bodies, [(9, 0, 9), (8, 0, 4), (9, 33, 10_000)]);

    // --- the publisher stops; the connection lives on
    let r = publ.cmd(0, "FCUnpublish", 6.0, vec![s("cam?key=1")]);
    assert_eq!(result_value(&r[0]).0, "_result");
    assert!(publ
        .cmd(0, "deleteStream", 7.0, vec![Amf0Value::Number(1.0)])
        .is_empty());
    assert_eq!(publ.take_events(), vec![RtmpEvent::StreamClosed]);
    assert!(!publ.conn.is_closing());
    // Late media after the end is dropped quietly.
    let late = publ.client.message(4, 50, 8, 1, &[0xaf, 1]);
    publ.send(&late);
    assert!(publ.take_events().is_empty());

    // The player closes its stream too.
    assert!(play.cmd(1, "closeStream", 0.0, vec![]).is_empty());
    assert_eq!(play.take_events(), vec![RtmpEvent::StreamClosed]);
    play.conn.write_media(MediaKind::Audio, 0, &[1]);
    assert!(!play.conn.poll_transmit(&mut out));
}

#[test]
fn refused_publish_and_play() {
    let mut p = Peer::new(false);
    p.publish_answer = Err(PathError::AlreadyPublishing("live/cam".into()));
    p.connect("live");
    p.cmd(0, "createStream", 2.0, vec![]);
    let r = p.cmd(1, "publish", 3.0, vec![s("cam")]);
    assert_eq!(r[0].code(), Some("NetStream.Publish.BadName"));
    assert_eq!(
        p.closed(),
        Some("someone is already publishing to path 'live/cam'")
    );

    let mut p = Peer::new(false);
    p.play_answer = Err(PathError::NoOnePublishing("live/cam".into()));
    p.connect("live");
    p.cmd(0, "createStream", 2.0, vec![]);
    let r = p.cmd(1, "play", 3.0, vec![s("cam")]);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].code(), Some("NetStream.Play.StreamNotFound"));
    assert!(p.closed().is_some());
    assert!(p.conn.is_closing());
}

#[test]
fn input_waits_for_the_answer() {
    let mut p = Peer::new(false);
    p.connect("app");
    p.cmd(0, "createStream", 2.0, vec![]);
    let mut wire = p
        .client
        .command(1, "publish", 3.0, Amf0Value::Null, vec![s("x")]);
    let audio = p.client.message(4, 0, 8, 1, &[0xaf, 0x01, 1, 2]);
    wire.extend(&audio);
    p.buf.extend_from_slice(&wire);
    p.conn.handle_input(p.now, &mut p.buf);
    assert!(p.conn.is_waiting());
    assert_eq!(
        p.buf.len(),
        audio.len(),
        "the audio message waits in the buffer"
    );
    assert!(matches!(
        p.conn.poll_event(),
        Some(RtmpEvent::Publish { .. })
    ));
    assert_eq!(p.conn.poll_event(), None);
    // A wrong answer is ignored.
    p.conn.answer_play(Ok(()));
    assert!(p.conn.is_waiting());
    p.conn.answer_publish(Ok(()));
    p.conn.handle_input(p.now, &mut p.buf);
    assert!(p.buf.is_empty());
    assert!(matches!(
        p.conn.poll_event(),
        Some(RtmpEvent::Media {
            kind: MediaKind::Audio,
            ..
        })
    ));
}

#[test]
fn control_messages() {
    let mut p = Peer::new(false);
    p.connect("a");
    // Ping request → ping response.
    let ping = p
        .client
        .control(ControlMessage::UserControl(UserControlEvent::PingRequest(
            1234,
        )));
    assert_eq!(
        p.send(&ping),
        vec![Received::Control(ControlMessage::UserControl(
            UserControlEvent::PingResponse(1234)
        ))]
    );
    // Set Peer Bandwidth with a new size → our Window Ack Size; the same size again → nothing.
    let spb = ControlMessage::SetPeerBandwidth {
        size: 5_000_000,
        limit: BandwidthLimit::Hard,
    };
    let bytes = p.client.control(spb.clone());
    assert_eq!(
        p.send(&bytes),
        vec![Received::Control(ControlMessage::WindowAckSize(5_000_000))]
    );
    let bytes = p.client.control(spb);
    assert!(p.send(&bytes).is_empty());
    // The client's window: acknowledged once that many bytes came in since the last ack.
    let win = p.client.control(ControlMessage::WindowAckSize(10_000));
    assert!(p.send(&win).is_empty());
    // The client's chunk size grows; one big command crosses the window.
    let scs = p.client.control(ControlMessage::SetChunkSize(60_000));
    p.client.set_chunk_size(60_000);
    let filler = p.client.command(0, "x", 0.0, s(&"y".repeat(9_000)), vec![]);
    let r = p.send(&[scs, filler].concat());
    let total = p.fed as u32;
    assert_eq!(
        r,
        vec![Received::Control(ControlMessage::Acknowledgement(total))]
    );
    // Abort drops a partial message.
    let mut partial = p.client.message(9, 0, 20, 0, &vec![0u8; 70_000]);
    partial.truncate(12 + 60_000);
    let r = p.send(&partial);
    assert_eq!(
        r,
        vec![Received::Control(ControlMessage::Acknowledgement(
            p.fed as u32
        ))]
    );
    assert_eq!(p.conn.decoder.buffered(), 60_000);
    let abort = p.client.control(ControlMessage::Abort(9));
    p.send(&abort);
    assert_eq!(p.conn.decoder.buffered(), 0);
    assert!(p.closed().is_none());
}

#[test]
fn timestamps_extend_across_the_wrap() {
    let mut p = Peer::new(false);
    p.connect("a");
    p.cmd(0, "createStream", 2.0, vec![]);
    p.cmd(1, "publish", 3.0, vec![s("x")]);
    p.take_events();
    let mut wire = Vec::new();
    for ts in [0xffff_fff0u32, 0xffff_fffa, 4, 20, 10] {
        wire.extend(p.client.message(6, ts, 9, 1, &[0x27, 1]));
    }
    p.send(&wire);
    let ts: Vec<i64> = p
        .take_events()
        .iter()
        .map(|e| match e {
            RtmpEvent::Media { timestamp_ms, .. } => *timestamp_ms,
            other => panic!("{other:?}"),
        })
        .collect();
    let base = 0xffff_fff0i64;
    assert_eq!(ts, [base, base + 10, base + 20, base + 36, base + 26]);
}

#[test]
fn amf3_metadata_and_aggregates() {
    let mut p = Peer::new(false);
    p.connect("a");
    p.cmd(0, "createStream", 2.0, vec![]);
    p.cmd(1, "publish", 3.0, vec![s("x")]);
    p.take_events();
    // Type 15: format byte, AMF0 "onMetaData", AVM+ anonymous object {w: 2}.
    let body = [
        0x00, 0x02, 0x00, 0x0a, b'o', b'n', b'M', b'e', b't', b'a', b'D', b'a', b't', b'a', 0x11,
        0x0a, 0x0b, 0x01, 0x03, b'w', 0x04, 0x02, 0x01,
    ];
    let m = p.client.message(4, 0, 15, 1, &body);
    p.send(&m);
    assert_eq!(
        p.take_events(),
        vec![RtmpEvent::Metadata(vec![(
            "w".into(),
            Amf0Value::Number(2.0)
        )])]
    );
    // An aggregate of one audio and one video sub-message, at aggregate time 1000.
    let mut agg = vec![8, 0, 0, 2, 0, 0, 100, 0, 0, 0, 1, 0xaf, 1, 0, 0, 0, 13];
    agg.extend([9, 0, 0, 2, 0, 0, 140, 0, 0, 0, 1, 0x27, 1, 0, 0, 0, 13]);
    let m = p.client.message(4, 1000, 22, 1, &agg);
    p.send(&m);
    let got: Vec<(MediaKind, i64)> = p
        .take_events()
        .iter()
        .map(|e| match e {
            RtmpEvent::Media {
                kind, timestamp_ms, ..
            } => (*kind, *timestamp_ms),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, [(MediaKind::Audio, 1000), (MediaKind::Video, 1040)]);
}
