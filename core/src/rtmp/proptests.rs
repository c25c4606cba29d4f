//! Property tests: chunk stream and AMF0 round trips, and arbitrary input into every decoder
//! and the whole server connection (no panic, bounded memory).

use super::amf0::{self, Amf0Value};
use super::chunk::{ChunkDecoder, ChunkEncoder, ChunkLimits};
use super::server::{RtmpEvent, RtmpServerConfig, RtmpServerConnection};
use super::{amf3, command};
use bytes::BytesMut;
use proptest::prelude::*;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
struct Msg {
    csid: u32,
    delta: u32,
    type_id: u8,
    stream_id: u32,
    body: Vec<u8>,
}

fn arb_msg() -> impl Strategy<Value = Msg> {
    (
        prop_oneof![Just(3u32), Just(4), 2u32..70, 2u32..=65599],
        prop_oneof![
            Just(33u32),
            Just(0),
            0u32..100,
            Just(0x0100_0000),
            any::<u32>()
        ],
        prop_oneof![Just(9u8), Just(8), any::<u8>()],
        prop_oneof![Just(1u32), any::<u32>()],
        prop_oneof![
            Just(vec![0xaa; 10]),
            proptest::collection::vec(any::<u8>(), 0..700)
        ],
    )
        .prop_map(|(csid, delta, type_id, stream_id, body)| Msg {
            csid,
            delta,
            type_id,
            stream_id,
            body,
        })
}

fn arb_amf0() -> impl Strategy<Value = Amf0Value> {
    let number = any::<f64>().prop_filter("NaN is not equal to itself", |f| !f.is_nan());
    let leaf = prop_oneof![
        number.clone().prop_map(Amf0Value::Number),
        any::<bool>().prop_map(Amf0Value::Boolean),
        ".{0,12}".prop_map(Amf0Value::String),
        Just(Amf0Value::Null),
        Just(Amf0Value::Undefined),
        any::<u16>().prop_map(Amf0Value::Reference),
        (number, any::<i16>()).prop_map(|(millis, timezone)| Amf0Value::Date { millis, timezone }),
        Just(Amf0Value::Unsupported),
        ".{0,12}".prop_map(Amf0Value::XmlDocument),
    ];
    leaf.prop_recursive(4, 48, 4, |inner| {
        let props = proptest::collection::vec(("[a-z]{1,6}", inner.clone()), 0..4);
        prop_oneof![
            props.clone().prop_map(Amf0Value::Object),
            props.clone().prop_map(Amf0Value::EcmaArray),
            proptest::collection::vec(inner, 0..4).prop_map(Amf0Value::StrictArray),
            ("[A-Za-z.]{0,8}", props).prop_map(|(class_name, properties)| {
                Amf0Value::TypedObject {
                    class_name,
                    properties,
                }
            }),
        ]
    })
}

/// Cuts `wire` at the given points (taken modulo its length).
fn pieces(wire: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    at.push(0);
    at.push(wire.len());
    at.sort_unstable();
    at.windows(2).map(|w| wire[w[0]..w[1]].to_vec()).collect()
}

#[allow(clippy::disallowed_methods)] // a fake clock needs one real base instant
fn connection() -> (RtmpServerConnection, Instant) {
    let now = Instant::now();
    let cfg = Arc::new(RtmpServerConfig::default());
    let c = RtmpServerConnection::new(cfg, "127.0.0.1:1".parse().unwrap(), now, 5);
    (c, now)
}

/// Feeds `pieces` to a connection, answering questions with Ok, checking memory bounds.
fn drive(pieces: &[Vec<u8>]) {
    let (mut c, now) = connection();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut fed = 0usize;
    for p in pieces {
        buf.extend_from_slice(p);
        fed += p.len();
        loop {
            c.handle_input(now, &mut buf);
            let mut answered = false;
            while let Some(e) = c.poll_event() {
                match e {
                    RtmpEvent::Publish { .. } => {
                        c.answer_publish(Ok(()));
                        answered = true;
                    }
                    RtmpEvent::Play { .. } => {
                        c.answer_play(Ok(()));
                        answered = true;
                    }
                    _ => {}
                }
            }
            c.poll_transmit(&mut out);
            if !answered {
                break;
            }
        }
        // Answers are bounded by the input (handshake: 3073 bytes; then a few answers per
        // message of at least a dozen bytes).
        assert!(
            out.len() <= 4096 + fed * 40,
            "{} out for {fed} in",
            out.len()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn chunk_round_trip(
        msgs in proptest::collection::vec(arb_msg(), 1..12),
        chunk_size in prop_oneof![Just(128u32), 1u32..300, 1u32..100_000],
        cuts in proptest::collection::vec(any::<usize>(), 0..20),
    ) {
        let mut enc = ChunkEncoder::new();
        enc.set_chunk_size(chunk_size).unwrap();
        let mut wire = Vec::new();
        let mut ts = 0u32;
        let mut sent = Vec::new();
        for m in &msgs {
            ts = ts.wrapping_add(m.delta);
            enc.write(&mut wire, m.csid, ts, m.type_id, m.stream_id, &m.body).unwrap();
            sent.push((m.csid, ts, m.type_id, m.stream_id, m.body.clone()));
        }
        let mut dec = ChunkDecoder::default();
        dec.set_chunk_size(chunk_size).unwrap();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        for p in pieces(&wire, &cuts) {
            buf.extend_from_slice(&p);
            while let Some(m) = dec.decode(&mut buf).unwrap() {
                got.push((m.csid, m.timestamp, m.type_id, m.stream_id, m.body.to_vec()));
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, sent);
    }

    #[test]
    fn amf0_round_trip(values in proptest::collection::vec(arb_amf0(), 0..4)) {
        let mut bytes = Vec::new();
        for v in &values {
            v.write(&mut bytes).unwrap();
        }
        prop_assert_eq!(amf0::decode_all(&bytes).unwrap(), values);
    }

    #[test]
    fn chunk_decoder_never_panics(
        bytes in proptest::collection::vec(any::<u8>(), 0..2000),
        size in prop_oneof![Just(None), any::<u32>().prop_map(Some)],
    ) {
        let limits = ChunkLimits { max_message_len: 4096, max_assembling: 4, max_buffered: 8192 };
        let mut d = ChunkDecoder::new(limits);
        if let Some(s) = size {
            let _ = d.set_chunk_size(s);
        }
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(m)) = d.decode(&mut buf) {
            prop_assert!(m.body.len() <= 4096);
            prop_assert!(d.buffered() <= 8192);
            d.abort(m.csid.wrapping_add(1));
        }
        prop_assert!(d.buffered() <= 8192);
    }

    #[test]
    fn amf_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = amf0::decode_all(&bytes);
        let _ = amf3::decode_all(&bytes);
        for t in [15u8, 17, 18, 20] {
            let _ = command::Command::parse(t, &bytes);
            let _ = command::decode_values(t, &bytes);
        }
    }

    #[test]
    fn connection_never_panics_on_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..3000),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        drive(&pieces(&bytes, &cuts));
        // The same bytes after a valid handshake reach the chunk layer.
        let mut wire = super::server::test_support_handshake();
        wire.extend(&bytes);
        drive(&pieces(&wire, &cuts));
    }

    #[test]
    fn connection_never_panics_on_messages(
        msgs in proptest::collection::vec(
            (prop_oneof![Just(3u32), 2u32..8], 0u8..24, 0u32..3,
             proptest::collection::vec(any::<u8>(), 0..300)),
            0..16),
        with_connect in any::<bool>(),
    ) {
        let mut wire = super::server::test_support_handshake();
        let mut enc = ChunkEncoder::new();
        if with_connect {
            let mut body = Vec::new();
            let obj = amf0::object([("app", Amf0Value::String("a".into()))]);
            command::Command::new("connect", 1.0, obj, vec![]).write(&mut body).unwrap();
            enc.write(&mut wire, 3, 0, 20, 0, &body).unwrap();
            for (name, stream, args) in [
                ("createStream", 0, vec![]),
                ("publish", 1, vec![Amf0Value::String("s".into())]),
            ] {
                let mut body = Vec::new();
                command::Command::new(name, 2.0, Amf0Value::Null, args)
                    .write(&mut body)
                    .unwrap();
                enc.write(&mut wire, 3, 0, 20, stream, &body).unwrap();
            }
        }
        for (csid, t, sid, body) in &msgs {
            enc.write(&mut wire, *csid, 0, *t, *sid, body).unwrap();
        }
        drive(&[wire]);
    }
}
