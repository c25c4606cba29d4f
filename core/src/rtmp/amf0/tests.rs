//! Byte-exact AMF0 tables, both directions, and decoding limits.

use super::*;

fn s(v: &str) -> Amf0Value {
    Amf0Value::String(v.into())
}

/// (value, encoding): encode(value) == encoding and decode(encoding) == value.
fn table() -> Vec<(Amf0Value, Vec<u8>)> {
    vec![
        (
            Amf0Value::Number(1.0),
            vec![0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0],
        ),
        (
            Amf0Value::Number(-2000.0),
            vec![0x00, 0xc0, 0x9f, 0x40, 0, 0, 0, 0, 0],
        ),
        (Amf0Value::Boolean(true), vec![0x01, 0x01]),
        (Amf0Value::Boolean(false), vec![0x01, 0x00]),
        (s(""), vec![0x02, 0x00, 0x00]),
        (s("app"), vec![0x02, 0x00, 0x03, b'a', b'p', b'p']),
        (s("é"), vec![0x02, 0x00, 0x02, 0xc3, 0xa9]),
        (Amf0Value::Null, vec![0x05]),
        (Amf0Value::Undefined, vec![0x06]),
        (Amf0Value::Reference(0x0102), vec![0x07, 0x01, 0x02]),
        (Amf0Value::Object(vec![]), vec![0x03, 0x00, 0x00, 0x09]),
        (
            object([("a", Amf0Value::Number(0.0)), ("b", Amf0Value::Null)]),
            vec![
                0x03, 0x00, 0x01, b'a', 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01, b'b', 0x05, 0x00,
                0x00, 0x09,
            ],
        ),
        (
            Amf0Value::EcmaArray(vec![("w".into(), Amf0Value::Boolean(true))]),
            vec![
                0x08, 0, 0, 0, 1, 0x00, 0x01, b'w', 0x01, 0x01, 0x00, 0x00, 0x09,
            ],
        ),
        (
            Amf0Value::StrictArray(vec![Amf0Value::Null, s("x")]),
            vec![0x0a, 0, 0, 0, 2, 0x05, 0x02, 0x00, 0x01, b'x'],
        ),
        (
            Amf0Value::Date {
                millis: 1.0,
                timezone: -60,
            },
            vec![0x0b, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 0xff, 0xc4],
        ),
        (Amf0Value::Unsupported, vec![0x0d]),
        (
            Amf0Value::XmlDocument("<a/>".into()),
            vec![0x0f, 0, 0, 0, 4, b'<', b'a', b'/', b'>'],
        ),
        (
            Amf0Value::TypedObject {
                class_name: "C".into(),
                properties: vec![("k".into(), Amf0Value::Undefined)],
            },
            vec![
                0x10, 0x00, 0x01, b'C', 0x00, 0x01, b'k', 0x06, 0x00, 0x00, 0x09,
            ],
        ),
        (
            Amf0Value::StrictArray(vec![Amf0Value::Object(vec![(
                "n".into(),
                Amf0Value::EcmaArray(vec![]),
            )])]),
            vec![
                0x0a, 0, 0, 0, 1, 0x03, 0x00, 0x01, b'n', 0x08, 0, 0, 0, 0, 0x00, 0x00, 0x09, 0x00,
                0x00, 0x09,
            ],
        ),
    ]
}

#[test]
fn table_both_directions() {
    for (value, bytes) in table() {
        assert_eq!(value.to_bytes().unwrap(), bytes, "encode {value:?}");
        let mut r = Amf0Reader::new(&bytes);
        assert_eq!(r.read_value().unwrap(), value, "decode {bytes:02x?}");
        assert!(r.is_empty());
    }
}

#[test]
fn long_strings() {
    // A long string marker decodes to a string; the writer uses it above 65535 bytes.
    let bytes = [0x0c, 0, 0, 0, 2, b'h', b'i'];
    assert_eq!(decode_all(&bytes).unwrap(), vec![s("hi")]);
    let big = "x".repeat(70_000);
    let enc = s(&big).to_bytes().unwrap();
    assert_eq!(&enc[..5], &[0x0c, 0x00, 0x01, 0x11, 0x70]);
    assert_eq!(decode_all(&enc).unwrap(), vec![s(&big)]);
    let key = Amf0Value::Object(vec![(big, Amf0Value::Null)]);
    assert_eq!(key.to_bytes().unwrap_err().kind, AmfErrorKind::TooLong);
}

#[test]
fn avmplus_switches_to_amf3() {
    // AVM+ marker, then AMF3 integer 5 and AMF3 string "ab".
    let bytes = [0x11, 0x04, 0x05, 0x11, 0x06, 0x05, b'a', b'b'];
    let v = decode_all(&bytes).unwrap();
    assert_eq!(
        v,
        vec![
            Amf0Value::Avmplus(Box::new(Amf3Value::Integer(5))),
            Amf0Value::Avmplus(Box::new(Amf3Value::String("ab".into()))),
        ]
    );
    assert!(v[0].to_bytes().is_err(), "writing AMF3 is unsupported");
}

#[test]
fn lenient_ecma_array_without_end_marker() {
    let bytes = [0x08, 0, 0, 0, 1, 0x00, 0x01, b'a', 0x05];
    assert_eq!(
        decode_all(&bytes).unwrap(),
        vec![Amf0Value::EcmaArray(vec![("a".into(), Amf0Value::Null)])]
    );
    // Without the count satisfied the input is truncated.
    let bytes = [0x08, 0, 0, 0, 2, 0x00, 0x01, b'a', 0x05];
    assert_eq!(
        decode_all(&bytes).unwrap_err().kind,
        AmfErrorKind::UnexpectedEnd
    );
}

#[test]
fn errors_carry_positions() {
    let e = decode_all(&[0x05, 0x04]).unwrap_err();
    assert_eq!(e, AmfError::new(AmfErrorKind::UnknownMarker(4), 1));
    assert_eq!(
        decode_all(&[0x0e]).unwrap_err().kind,
        AmfErrorKind::UnknownMarker(0x0e)
    );
    let e = decode_all(&[0x02, 0x00, 0x05, b'a']).unwrap_err();
    assert_eq!(e.kind, AmfErrorKind::UnexpectedEnd);
    // A strict array announcing more entries than bytes is refused before allocating.
    let e = decode_all(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x05]).unwrap_err();
    assert_eq!(e.kind, AmfErrorKind::UnexpectedEnd);
}

#[test]
fn nesting_is_limited() {
    let mut bytes = Vec::new();
    for _ in 0..100 {
        bytes.extend_from_slice(&[0x0a, 0, 0, 0, 1]);
    }
    bytes.push(0x05);
    assert_eq!(decode_all(&bytes).unwrap_err().kind, AmfErrorKind::TooDeep);
    let mut ok = Vec::new();
    for _ in 0..32 {
        ok.extend_from_slice(&[0x0a, 0, 0, 0, 1]);
    }
    ok.push(0x05);
    assert!(decode_all(&ok).is_ok());
}

#[test]
fn cost_is_limited() {
    let limits = AmfLimits {
        max_depth: 8,
        max_cost: 10_000,
    };
    let bytes = vec![0x05u8; 1000];
    let mut r = Amf0Reader::with_limits(&bytes, limits);
    let mut n = 0;
    let err = loop {
        match r.read_value() {
            Ok(_) => n += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(err.kind, AmfErrorKind::TooLarge);
    assert!(n < 1000 && n > 10, "{n}");
}

#[test]
fn accessors() {
    let o = object([("app", s("live")), ("n", Amf0Value::Number(3.0))]);
    assert_eq!(o.get("app").and_then(Amf0Value::as_str), Some("live"));
    assert_eq!(o.get("n").and_then(Amf0Value::as_f64), Some(3.0));
    assert_eq!(o.get("x"), None);
    assert_eq!(Amf0Value::Boolean(true).as_bool(), Some(true));
    assert_eq!(Amf0Value::Null.properties(), None);
}
