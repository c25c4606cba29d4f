//! AMF3 decoding tables, references, limits and the conversion to AMF0.

use super::*;

fn one(bytes: &[u8]) -> Amf3Value {
    let mut r = Amf3Reader::new(bytes);
    let v = r.read_value().unwrap();
    assert!(r.is_empty(), "{bytes:02x?} fully consumed");
    v
}

#[test]
fn scalars() {
    assert_eq!(one(&[0x00]), Amf3Value::Undefined);
    assert_eq!(one(&[0x01]), Amf3Value::Null);
    assert_eq!(one(&[0x02]), Amf3Value::Boolean(false));
    assert_eq!(one(&[0x03]), Amf3Value::Boolean(true));
    assert_eq!(one(&[0x04, 0x7f]), Amf3Value::Integer(127));
    assert_eq!(one(&[0x04, 0x81, 0x00]), Amf3Value::Integer(128));
    assert_eq!(
        one(&[0x04, 0xff, 0xff, 0x7f]),
        Amf3Value::Integer(0x1f_ffff)
    );
    assert_eq!(
        one(&[0x04, 0x80, 0xc0, 0x80, 0x00]),
        Amf3Value::Integer(0x0020_0000)
    );
    // The largest U29 is -1 once sign-extended.
    assert_eq!(one(&[0x04, 0xff, 0xff, 0xff, 0xff]), Amf3Value::Integer(-1));
    assert_eq!(
        one(&[0x04, 0xc0, 0x80, 0x80, 0x00]),
        Amf3Value::Integer(-0x1000_0000)
    );
    assert_eq!(
        one(&[0x05, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18]),
        Amf3Value::Double(std::f64::consts::PI)
    );
    assert_eq!(
        one(&[0x08, 0x01, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
        Amf3Value::Date(1.0)
    );
    assert_eq!(
        one(&[0x0c, 0x07, 1, 2, 3]),
        Amf3Value::ByteArray(vec![1, 2, 3])
    );
    assert_eq!(one(&[0x0b, 0x05, b'<', b'a']), Amf3Value::Xml("<a".into()));
    assert_eq!(one(&[0x07, 0x03, b'x']), Amf3Value::XmlDocument("x".into()));
}

#[test]
fn strings_and_references() {
    // "ab", a reference to it, and the empty string (never referenced).
    let v = decode_all(&[0x06, 0x05, b'a', b'b', 0x06, 0x00, 0x06, 0x01]).unwrap();
    assert_eq!(
        v,
        vec![
            Amf3Value::String("ab".into()),
            Amf3Value::String("ab".into()),
            Amf3Value::String(String::new()),
        ]
    );
    let e = decode_all(&[0x06, 0x02]).unwrap_err();
    assert_eq!(e.kind, AmfErrorKind::BadReference(1));
}

#[test]
fn arrays_and_vectors() {
    // Dense [1, "x"], no associative part.
    let v = one(&[0x09, 0x05, 0x01, 0x04, 0x01, 0x06, 0x03, b'x']);
    assert_eq!(
        v,
        Amf3Value::Array {
            assoc: vec![],
            dense: vec![Amf3Value::Integer(1), Amf3Value::String("x".into())],
        }
    );
    // Associative {k: null} and dense [true].
    let v = one(&[0x09, 0x03, 0x03, b'k', 0x01, 0x01, 0x03]);
    assert_eq!(
        v.to_amf0(),
        Amf0Value::EcmaArray(vec![
            ("0".into(), Amf0Value::Boolean(true)),
            ("k".into(), Amf0Value::Null),
        ])
    );
    // A reference to the first array.
    let v = decode_all(&[0x09, 0x01, 0x01, 0x09, 0x00]).unwrap();
    assert_eq!(v[1], Amf3Value::Reference(0));
    assert!(decode_all(&[0x09, 0x02]).is_err(), "reference to nothing");
    assert_eq!(
        one(&[0x0d, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2]),
        Amf3Value::VectorInt(vec![-1, 2])
    );
    assert_eq!(
        one(&[0x0e, 0x03, 0x01, 0xff, 0xff, 0xff, 0xff]),
        Amf3Value::VectorUint(vec![u32::MAX])
    );
    assert_eq!(
        one(&[0x0f, 0x03, 0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]),
        Amf3Value::VectorDouble(vec![1.0])
    );
    assert_eq!(
        one(&[0x10, 0x03, 0x00, 0x01, 0x01]),
        Amf3Value::VectorObject {
            type_name: String::new(),
            items: vec![Amf3Value::Null],
        }
    );
    assert_eq!(
        one(&[0x11, 0x03, 0x00, 0x04, 0x01, 0x03]),
        Amf3Value::Dictionary(vec![(Amf3Value::Integer(1), Amf3Value::Boolean(true))])
    );
}

#[test]
fn objects_with_traits() {
    // Anonymous dynamic object {width: 1280, codec: "avc1"}: traits 0x0b (inline, dynamic,
    // no sealed members), empty class name, dynamic members, empty key.
    let bytes = [
        0x0a, 0x0b, 0x01, 0x0b, b'w', b'i', b'd', b't', b'h', 0x04, 0x8a, 0x00, 0x0b, b'c', b'o',
        b'd', b'e', b'c', 0x06, 0x09, b'a', b'v', b'c', b'1', 0x01,
    ];
    let v = one(&bytes);
    assert_eq!(
        v.to_amf0(),
        Amf0Value::Object(vec![
            ("width".into(), Amf0Value::Number(1280.0)),
            ("codec".into(), Amf0Value::String("avc1".into())),
        ])
    );
    // Sealed class "P" with member "x", then a second instance referencing the traits.
    let bytes = [
        0x0a, 0x13, 0x03, b'P', 0x03, b'x', 0x04, 0x01, 0x0a, 0x01, 0x04, 0x02,
    ];
    let v = decode_all(&bytes).unwrap();
    assert_eq!(
        v[1],
        Amf3Value::Object {
            class_name: "P".into(),
            members: vec![("x".into(), Amf3Value::Integer(2))],
        }
    );
    assert_eq!(
        v[0].to_amf0(),
        Amf0Value::TypedObject {
            class_name: "P".into(),
            properties: vec![("x".into(), Amf0Value::Number(1.0))],
        }
    );
    // Externalizable traits are refused.
    let e = decode_all(&[0x0a, 0x07, 0x03, b'E']).unwrap_err();
    assert!(matches!(e.kind, AmfErrorKind::Unsupported(_)));
}

#[test]
fn limits() {
    let mut deep = Vec::new();
    for _ in 0..100 {
        deep.extend_from_slice(&[0x09, 0x03, 0x01]);
    }
    deep.push(0x01);
    assert_eq!(decode_all(&deep).unwrap_err().kind, AmfErrorKind::TooDeep);
    // A vector announcing 2^28 doubles in a few bytes is refused before allocating.
    let e = decode_all(&[0x0f, 0xff, 0xff, 0xff, 0x01, 0x00]).unwrap_err();
    assert_eq!(e.kind, AmfErrorKind::UnexpectedEnd);
    // Repeated references to a long string are charged each time.
    let mut b = vec![0x06, 0x81, 0x80, 0x01];
    b.extend(std::iter::repeat_n(b'a', 0x2000));
    b.extend(std::iter::repeat_n([0x06u8, 0x00], 5000).flatten());
    let limits = AmfLimits {
        max_depth: 8,
        max_cost: 1 << 20,
    };
    let mut r = Amf3Reader::with_limits(&b, limits);
    let err = loop {
        if let Err(e) = r.read_value() {
            break e;
        }
    };
    assert_eq!(err.kind, AmfErrorKind::TooLarge);
}
