//! Byte-exact chunk header tables, and decoder/encoder behaviour.

use super::header::{ChunkHeader, MessageHeader, Type3Extended};
use super::*;
use bytes::BytesMut;

fn hdr(csid: u32, header: MessageHeader) -> ChunkHeader {
    ChunkHeader { csid, header }
}

/// (header, type 3 rule, bytes): written and parsed both ways.
fn table() -> Vec<(ChunkHeader, Type3Extended, Vec<u8>)> {
    use MessageHeader::*;
    use Type3Extended::*;
    vec![
        (
            hdr(
                3,
                Type0 {
                    timestamp: 0,
                    length: 0x19,
                    type_id: 20,
                    stream_id: 0,
                },
            ),
            Absent,
            vec![0x03, 0, 0, 0, 0, 0, 0x19, 0x14, 0, 0, 0, 0],
        ),
        (
            hdr(
                4,
                Type0 {
                    timestamp: 0x0102_03,
                    length: 0x0405_06,
                    type_id: 9,
                    stream_id: 0x0102_0304,
                },
            ),
            Absent,
            // The message stream id is little-endian.
            vec![0x04, 1, 2, 3, 4, 5, 6, 9, 4, 3, 2, 1],
        ),
        (
            hdr(
                6,
                Type0 {
                    timestamp: 0x0100_0000,
                    length: 5,
                    type_id: 8,
                    stream_id: 1,
                },
            ),
            Absent,
            vec![
                0x06, 0xff, 0xff, 0xff, 0, 0, 5, 8, 1, 0, 0, 0, 0x01, 0x00, 0x00, 0x00,
            ],
        ),
        (
            hdr(
                6,
                Type0 {
                    timestamp: 0x00ff_ffff,
                    length: 5,
                    type_id: 8,
                    stream_id: 1,
                },
            ),
            Absent,
            // 0xFFFFFF itself needs the extended field.
            vec![
                0x06, 0xff, 0xff, 0xff, 0, 0, 5, 8, 1, 0, 0, 0, 0x00, 0xff, 0xff, 0xff,
            ],
        ),
        (
            hdr(
                5,
                Type1 {
                    delta: 40,
                    length: 0x100,
                    type_id: 9,
                },
            ),
            Absent,
            vec![0x45, 0, 0, 40, 0, 1, 0, 9],
        ),
        (
            hdr(
                5,
                Type1 {
                    delta: 0xffff_ffff,
                    length: 1,
                    type_id: 8,
                },
            ),
            Absent,
            vec![0x45, 0xff, 0xff, 0xff, 0, 0, 1, 8, 0xff, 0xff, 0xff, 0xff],
        ),
        (hdr(4, Type2 { delta: 23 }), Absent, vec![0x84, 0, 0, 23]),
        (
            hdr(4, Type2 { delta: 0x0123_4567 }),
            Absent,
            vec![0x84, 0xff, 0xff, 0xff, 0x01, 0x23, 0x45, 0x67],
        ),
        (hdr(3, Type3 { extended: None }), Absent, vec![0xc3]),
        (
            hdr(
                3,
                Type3 {
                    extended: Some(0x0100_0000),
                },
            ),
            Present,
            vec![0xc3, 0x01, 0, 0, 0],
        ),
        (
            hdr(
                3,
                Type3 {
                    extended: Some(7_000_000_0),
                },
            ),
            IfEquals(7_000_000_0),
            vec![0xc3, 0x04, 0x2c, 0x1d, 0x80],
        ),
        // Basic header forms: one byte up to 63, two bytes to 319, three bytes beyond.
        (hdr(63, Type3 { extended: None }), Absent, vec![0xff]),
        (hdr(64, Type3 { extended: None }), Absent, vec![0xc0, 0x00]),
        (hdr(319, Type3 { extended: None }), Absent, vec![0xc0, 0xff]),
        (
            hdr(320, Type3 { extended: None }),
            Absent,
            vec![0xc1, 0x00, 0x01],
        ),
        (
            hdr(65599, Type3 { extended: None }),
            Absent,
            vec![0xc1, 0xff, 0xff],
        ),
        (hdr(2, Type2 { delta: 0 }), Absent, vec![0x82, 0, 0, 0]),
    ]
}

#[test]
fn header_table_both_directions() {
    for (h, rule, bytes) in table() {
        let mut out = Vec::new();
        h.write(&mut out).unwrap();
        assert_eq!(out, bytes, "write {h:?}");
        let (parsed, len) = ChunkHeader::parse(&bytes, |_| rule).expect("complete");
        assert_eq!((parsed, len), (h, bytes.len()), "parse {bytes:02x?}");
        for cut in 0..bytes.len() {
            assert!(ChunkHeader::parse(&bytes[..cut], |_| rule).is_none());
        }
    }
}

#[test]
fn type3_extended_heuristic() {
    // Continuation chunk whose next bytes are not the repeated extended timestamp: none read.
    let bytes = [0xc3, 0xaa, 0xbb, 0xcc, 0xdd];
    let (h, len) = ChunkHeader::parse(&bytes, |_| Type3Extended::IfEquals(0x0100_0000)).unwrap();
    assert_eq!(h.header, MessageHeader::Type3 { extended: None });
    assert_eq!(len, 1);
}

#[test]
fn invalid_writes() {
    let mut out = Vec::new();
    let h = hdr(1, MessageHeader::Type3 { extended: None });
    assert_eq!(h.write(&mut out), Err(ChunkError::InvalidChunkStreamId(1)));
    let h = hdr(65600, MessageHeader::Type3 { extended: None });
    assert!(h.write(&mut out).is_err());
    let mut e = ChunkEncoder::new();
    assert_eq!(
        e.write(&mut out, 3, 0, 9, 1, &vec![0; 0x0100_0000]),
        Err(ChunkError::MessageTooLarge(0x0100_0000))
    );
    assert_eq!(e.set_chunk_size(0), Err(ChunkError::InvalidChunkSize(0)));
    assert!(e.set_chunk_size(0x8000_0000).is_err());
    assert!(e.set_chunk_size(0x7fff_ffff).is_ok());
}

fn decode_all(d: &mut ChunkDecoder, bytes: &[u8]) -> Vec<RawMessage> {
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(m) = d.decode(&mut buf).unwrap() {
        out.push(m);
    }
    assert!(buf.is_empty(), "left {:02x?}", &buf[..]);
    out
}

#[test]
fn spec_example_audio_stream() {
    // §5.3.2.1: four audio messages of 32 bytes, 20 ms apart, on chunk stream 3.
    let mut wire = vec![0x03, 0, 3, 0xe8, 0, 0, 32, 8, 0x39, 0x30, 0, 0];
    wire.extend([1u8; 32]);
    wire.extend([0x83, 0, 0, 20]);
    wire.extend([2u8; 32]);
    wire.push(0xc3);
    wire.extend([3u8; 32]);
    wire.push(0xc3);
    wire.extend([4u8; 32]);
    let mut d = ChunkDecoder::default();
    let msgs = decode_all(&mut d, &wire);
    let ts: Vec<u32> = msgs.iter().map(|m| m.timestamp).collect();
    assert_eq!(ts, [1000, 1020, 1040, 1060]);
    assert!(msgs.iter().all(|m| m.stream_id == 12345 && m.type_id == 8));
    assert_eq!(msgs[3].body[..], [4u8; 32]);

    // The encoder writes the very same bytes.
    let mut e = ChunkEncoder::new();
    let mut out = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        e.write(&mut out, 3, 1000 + 20 * i as u32, 8, 12345, &m.body)
            .unwrap();
    }
    assert_eq!(out, wire);
}

#[test]
fn spec_example_split_message() {
    // §5.3.2.2: a 307-byte video message in chunks of 128.
    let body: Vec<u8> = (0..307u32).map(|i| i as u8).collect();
    let mut e = ChunkEncoder::new();
    let mut out = Vec::new();
    e.write(&mut out, 4, 1000, 9, 12346, &body).unwrap();
    let mut expect = vec![0x04, 0, 3, 0xe8, 0, 1, 0x33, 9, 0x3a, 0x30, 0, 0];
    expect.extend(&body[..128]);
    expect.push(0xc4);
    expect.extend(&body[128..256]);
    expect.push(0xc4);
    expect.extend(&body[256..]);
    assert_eq!(out, expect);
    let msgs = decode_all(&mut ChunkDecoder::default(), &out);
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].body[..], body[..]);
}

#[test]
fn extended_timestamps_repeat_on_type3() {
    let body = vec![7u8; 300];
    let mut e = ChunkEncoder::new();
    let mut out = Vec::new();
    e.write(&mut out, 6, 0x0200_0000, 9, 1, &body).unwrap();
    // Continuation chunks repeat the extended timestamp.
    assert_eq!(&out[128 + 16..128 + 21], &[0xc6, 0x02, 0, 0, 0]);
    let msgs = decode_all(&mut ChunkDecoder::default(), &out);
    assert_eq!(msgs[0].timestamp, 0x0200_0000);
    assert_eq!(msgs[0].body.len(), 300);

    // An encoder that leaves the repetition out is understood too.
    let mut lax = vec![
        0x06, 0xff, 0xff, 0xff, 0, 0x01, 0x2c, 9, 1, 0, 0, 0, 2, 0, 0, 0,
    ];
    lax.extend(&body[..128]);
    lax.push(0xc6);
    lax.extend(&body[128..256]);
    lax.push(0xc6);
    lax.extend(&body[256..]);
    let msgs = decode_all(&mut ChunkDecoder::default(), &lax);
    assert_eq!(msgs[0].body[..], body[..]);
    assert_eq!(msgs[0].timestamp, 0x0200_0000);
}

#[test]
fn header_choice_is_minimal() {
    let mut e = ChunkEncoder::new();
    let fmts = |out: &[u8]| out[0] >> 6;
    let mut w = |ts: u32, t: u8, sid: u32, len: usize| {
        let mut out = Vec::new();
        e.write(&mut out, 4, ts, t, sid, &vec![0; len]).unwrap();
        fmts(&out)
    };
    assert_eq!(w(0, 9, 1, 10), 0, "first message");
    assert_eq!(w(40, 9, 1, 10), 2, "new delta");
    assert_eq!(w(80, 9, 1, 10), 3, "same delta");
    assert_eq!(w(120, 9, 1, 11), 1, "new length");
    assert_eq!(w(160, 8, 1, 11), 1, "new type");
    assert_eq!(w(100, 8, 1, 11), 0, "backwards");
    assert_eq!(w(200, 8, 2, 11), 0, "new message stream");
    assert_eq!(
        w(200, 8, 2, 11),
        2,
        "after type 0 the delta is sent explicitly"
    );
    assert_eq!(w(200, 8, 2, 11), 3);
}

#[test]
fn interleaved_chunk_streams_and_chunk_size_change() {
    let mut e = ChunkEncoder::new();
    let a = vec![1u8; 200];
    let v = vec![2u8; 300];
    let mut out_a = Vec::new();
    let mut out_v = Vec::new();
    e.write(&mut out_a, 4, 10, 8, 1, &a).unwrap();
    e.write(&mut out_v, 6, 10, 9, 1, &v).unwrap();
    // Interleave: audio chunk 1, video chunks 1-2, audio chunk 2, video chunk 3.
    let wire: Vec<u8> = [
        &out_a[..12 + 128],
        &out_v[..12 + 128 + 1 + 128],
        &out_a[12 + 128..],
        &out_v[12 + 128 + 1 + 128..],
    ]
    .concat();
    let mut d = ChunkDecoder::default();
    let msgs = decode_all(&mut d, &wire);
    assert_eq!(msgs.len(), 2);
    // Audio completes first.
    assert_eq!((msgs[0].type_id, msgs[0].body.len()), (8, 200));
    assert_eq!((msgs[1].type_id, msgs[1].body.len()), (9, 300));

    d.set_chunk_size(4096).unwrap();
    e.set_chunk_size(4096).unwrap();
    let mut out = Vec::new();
    e.write(&mut out, 6, 50, 9, 1, &vec![3u8; 5000]).unwrap();
    // A format 1 header (same message stream), one continuation chunk.
    assert_eq!(out.len(), 8 + 5000 + 1);
    let msgs = decode_all(&mut d, &out);
    assert_eq!((msgs[0].timestamp, msgs[0].body.len()), (50, 5000));
}

#[test]
fn byte_by_byte_feeding() {
    let mut e = ChunkEncoder::new();
    let mut out = Vec::new();
    e.write(&mut out, 3, 1, 20, 0, &vec![9u8; 400]).unwrap();
    e.write(&mut out, 3, 2, 20, 0, &vec![8u8; 400]).unwrap();
    let mut d = ChunkDecoder::default();
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in &out {
        buf.extend_from_slice(&[*b]);
        while let Some(m) = d.decode(&mut buf).unwrap() {
            got.push(m);
        }
    }
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].timestamp, 2);
    assert_eq!(d.buffered(), 0);
}

#[test]
fn abort_drops_the_partial_message() {
    let mut e = ChunkEncoder::new();
    let mut out = Vec::new();
    e.write(&mut out, 4, 0, 9, 1, &vec![1u8; 200]).unwrap();
    let mut d = ChunkDecoder::default();
    let mut buf = BytesMut::from(&out[..12 + 128]);
    assert_eq!(d.decode(&mut buf).unwrap(), None);
    assert_eq!(d.buffered(), 128);
    d.abort(4);
    assert_eq!(d.buffered(), 0);
    // A new message on the same chunk stream starts cleanly.
    let mut out = Vec::new();
    e.write(&mut out, 4, 5, 9, 1, &[5u8; 10]).unwrap();
    let msgs = decode_all(&mut d, &out);
    assert_eq!(msgs[0].body[..], [5u8; 10]);
}

#[test]
fn protocol_errors() {
    let mut d = ChunkDecoder::default();
    let mut buf = BytesMut::from(&[0xc3u8, 0][..]);
    assert_eq!(d.decode(&mut buf), Err(ChunkError::NoPreviousHeader(3)));
    let mut buf = BytesMut::from(&[0x43u8, 0, 0, 0, 0, 0, 1, 8][..]);
    assert_eq!(d.decode(&mut buf), Err(ChunkError::NoPreviousHeader(3)));
    // A new header in the middle of a message.
    let mut d = ChunkDecoder::default();
    let mut wire = vec![0x03, 0, 0, 0, 0, 1, 0, 9, 1, 0, 0, 0];
    wire.extend([0u8; 128]);
    wire.extend([0x83, 0, 0, 1]);
    let mut buf = BytesMut::from(&wire[..]);
    assert_eq!(d.decode(&mut buf), Err(ChunkError::UnexpectedHeader(3)));
}

#[test]
fn limits() {
    // Too long a message is refused at its header (the default, 16 MiB, is above what the
    // 24-bit length can say).
    let small = ChunkLimits {
        max_message_len: 0xffff,
        ..ChunkLimits::default()
    };
    let mut d = ChunkDecoder::new(small);
    let mut buf = BytesMut::from(&[0x03u8, 0, 0, 0, 0x01, 0x00, 0x00, 9, 1, 0, 0, 0][..]);
    assert_eq!(
        d.decode(&mut buf),
        Err(ChunkError::MessageTooLarge(0x1_0000))
    );
    let mut buf = BytesMut::from(&[0x03u8, 0, 0, 0, 0xff, 0xff, 0xff, 9, 1, 0, 0, 0][..]);
    assert_eq!(ChunkDecoder::default().decode(&mut buf), Ok(None));
    // Too many partial messages at once.
    let limits = ChunkLimits {
        max_message_len: 1 << 20,
        max_assembling: 2,
        max_buffered: 1 << 20,
    };
    let mut d = ChunkDecoder::new(limits);
    let mut wire = Vec::new();
    for csid in 3..6u8 {
        wire.extend([csid, 0, 0, 0, 0, 1, 0, 9, 1, 0, 0, 0]);
        wire.extend([0u8; 128]);
    }
    let mut buf = BytesMut::from(&wire[..]);
    assert_eq!(d.decode(&mut buf), Err(ChunkError::TooManyStreams));
    // Too many bytes held.
    let limits = ChunkLimits {
        max_message_len: 1 << 20,
        max_assembling: 64,
        max_buffered: 300,
    };
    let mut d = ChunkDecoder::new(limits);
    let mut e = ChunkEncoder::new();
    let mut out = Vec::new();
    e.write(&mut out, 3, 0, 9, 1, &vec![0u8; 1000]).unwrap();
    let mut buf = BytesMut::from(&out[..]);
    assert_eq!(d.decode(&mut buf), Err(ChunkError::TooMuchBuffered));
}

#[test]
fn single_chunk_messages_are_zero_copy() {
    let mut e = ChunkEncoder::new();
    let mut out = Vec::new();
    e.write(&mut out, 4, 0, 8, 1, &[1, 2, 3]).unwrap();
    let mut buf = BytesMut::from(&out[..]);
    let base = buf.as_ptr() as usize;
    let m = ChunkDecoder::default().decode(&mut buf).unwrap().unwrap();
    assert_eq!(
        m.body.as_ptr() as usize,
        base + 12,
        "body points into the input"
    );
}
