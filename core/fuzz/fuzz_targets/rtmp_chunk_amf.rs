//! The RTMP handshake, chunk stream decoder and AMF0/AMF3 decoders on arbitrary bytes.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use weir_core::rtmp::amf0::Amf0Reader;
use weir_core::rtmp::amf3::Amf3Reader;
use weir_core::rtmp::chunk::{ChunkDecoder, ChunkLimits};
use weir_core::rtmp::handshake::ServerHandshake;

fuzz_target!(|data: &[u8]| {
    let mut amf0 = Amf0Reader::new(data);
    while !amf0.is_empty() && amf0.read_value().is_ok() {}
    let mut amf3 = Amf3Reader::new(data);
    while !amf3.is_empty() && amf3.read_value().is_ok() {}

    let mut hs = ServerHandshake::new(1);
    let mut buf = BytesMut::from(data);
    let mut out = Vec::new();
    let _ = hs.handle(&mut buf, &mut out);

    let mut dec = ChunkDecoder::new(ChunkLimits::default());
    let mut buf = BytesMut::from(data);
    for _ in 0..10_000 {
        match dec.decode(&mut buf) {
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
});
