//! Misuse, unknown commands and timeouts: what each costs (an `_error`, an error status, a
//! close) and what the connection tolerates.

use super::tests::{result_value, s, Peer};
use super::*;
use crate::rtmp::chunk::{ChunkDecoder, ChunkLimits};
use std::time::Duration;

#[test]
fn misuse_closes() {
    // play before connect: _error, close.
    let mut p = Peer::new(false);
    let r = p.cmd(0, "play", 1.0, vec![s("x")]);
    assert_eq!(result_value(&r[0]).0, "_error");
    assert_eq!(r[0].code(), Some("NetConnection.Call.Failed"));
    assert_eq!(p.closed(), Some("received 'play' before connect"));

    // publish before createStream.
    let mut p = Peer::new(false);
    p.connect("a");
    let r = p.cmd(0, "publish", 2.0, vec![s("x")]);
    assert_eq!(result_value(&r[0]).0, "_error");
    assert!(p.closed().unwrap().contains("not created"));

    // A second publish.
    let mut p = Peer::new(false);
    p.connect("a");
    p.cmd(0, "createStream", 2.0, vec![]);
    p.cmd(1, "publish", 3.0, vec![s("x")]);
    let r = p.cmd(1, "publish", 4.0, vec![s("y")]);
    assert_eq!(r[0].code(), Some("NetStream.Publish.BadConnection"));
    assert!(p.closed().is_some());

    // publish without a name.
    let mut p = Peer::new(false);
    p.connect("a");
    p.cmd(0, "createStream", 2.0, vec![]);
    let r = p.cmd(1, "publish", 3.0, vec![]);
    assert_eq!(r[0].code(), Some("NetStream.Publish.BadName"));
    assert!(p.closed().is_some());

    // Media before publish.
    let mut p = Peer::new(false);
    p.connect("a");
    let m = p.client.message(4, 0, 9, 1, &[0x17, 0]);
    p.send(&m);
    assert_eq!(p.closed(), Some("received media before publish"));

    // Bogus AMF in a command.
    let mut p = Peer::new(false);
    let m = p
        .client
        .message(3, 0, 20, 0, &[0x02, 0x00, 0x07, b'c', b'o']);
    p.send(&m);
    assert!(p.closed().unwrap().contains("invalid command"));
    let mut p = Peer::new(false);
    let m = p.client.message(3, 0, 20, 0, &[0x05]);
    p.send(&m);
    assert!(p.closed().unwrap().contains("no command name"));

    // Chunk size 0.
    let mut p = Peer::new(false);
    p.send(&[0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(p.closed(), Some("invalid chunk size 0"));

    // An oversized message (the default limit, 16 MiB, is above what 24 bits can announce:
    // lower it to see it work).
    let mut p = Peer::new(false);
    p.conn.decoder = ChunkDecoder::new(ChunkLimits {
        max_message_len: 1000,
        ..ChunkLimits::default()
    });
    p.send(&[0x04, 0, 0, 0, 0, 0x07, 0xd0, 9, 1, 0, 0, 0]);
    assert_eq!(p.closed(), Some("message of 2000 bytes is too large"));

    // A second connect.
    let mut p = Peer::new(false);
    p.connect("a");
    let r = p.connect("a");
    assert_eq!(result_value(&r[0]).0, "_error");
    assert!(p.closed().is_some());

    // Not RTMP at all.
    let mut p = Peer::fresh();
    assert!(p.raw(b"GET / HTTP/1.1\r\n\r\n").is_empty());
    assert_eq!(p.closed(), Some("unsupported RTMP version 71"));
}

#[test]
fn unknown_commands_and_client_answers() {
    let mut p = Peer::new(false);
    p.connect("a");
    let r = p.cmd(0, "someCall", 7.0, vec![]);
    assert_eq!(
        result_value(&r[0]),
        ("_error", 7.0, r[0].command().unwrap().args.first())
    );
    assert!(p.cmd(0, "someNotification", 0.0, vec![]).is_empty());
    // Answers to server calls and player controls are not answered.
    assert!(p.cmd(0, "_error", 9.0, vec![]).is_empty());
    assert!(p.cmd(0, "_result", 9.0, vec![]).is_empty());
    assert!(p
        .cmd(1, "receiveVideo", 0.0, vec![Amf0Value::Boolean(true)])
        .is_empty());
    let r = p.cmd(0, "getStreamLength", 5.0, vec![s("x")]);
    assert_eq!(
        result_value(&r[0]),
        ("_result", 5.0, Some(&Amf0Value::Number(0.0)))
    );
    assert!(p.closed().is_none());
}

#[test]
fn timeouts() {
    // The handshake times out.
    let mut p = Peer::fresh();
    let d = p.conn.poll_timeout().unwrap();
    assert_eq!(d, p.now + Duration::from_secs(10));
    p.conn.handle_timeout(d - Duration::from_millis(1));
    assert!(!p.conn.is_closing());
    p.conn.handle_timeout(d);
    assert!(p.conn.is_closing());
    assert_eq!(p.conn.poll_timeout(), None);

    // A publisher that stops sending times out; input moves the deadline.
    let mut p = Peer::new(false);
    p.connect("a");
    p.cmd(0, "createStream", 2.0, vec![]);
    p.cmd(1, "publish", 3.0, vec![s("x")]);
    p.now += Duration::from_secs(5);
    let m = p.client.message(4, 0, 8, 1, &[0xaf, 1]);
    p.send(&m);
    assert_eq!(p.conn.poll_timeout(), Some(p.now + Duration::from_secs(10)));
    p.conn.handle_timeout(p.now + Duration::from_secs(10));
    assert_eq!(
        p.conn.poll_event(),
        Some(RtmpEvent::Close {
            reason: "timed out".into()
        })
    );

    // terminate and handle_close close once.
    let mut p = Peer::new(false);
    p.conn.terminate("replaced");
    p.conn.handle_close("gone");
    let evs: Vec<_> = std::iter::from_fn(|| p.conn.poll_event()).collect();
    assert_eq!(
        evs,
        vec![RtmpEvent::Close {
            reason: "replaced".into()
        }]
    );
}
