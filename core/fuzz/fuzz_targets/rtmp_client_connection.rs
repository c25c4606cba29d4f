//! The RTMP client connection (a path's `rtmp://` pull source) driven by arbitrary server
//! bytes, after a preamble chosen by the first byte (none; the handshake; the handshake and
//! the answers to `connect` and `createStream`, so media and statuses are reached): no input
//! may panic it, and its transmit buffer stays bounded.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};
use weir_core::pull::SourceUrl;
use weir_core::rtmp::chunk::ChunkEncoder;
use weir_core::rtmp::client::RtmpClientConnection;
use weir_core::rtmp::command::Command;
use weir_core::rtmp::Amf0Value;

fn preamble(kind: u8) -> Vec<u8> {
    let mut out = Vec::new();
    if kind % 3 == 0 {
        return out;
    }
    out.push(3);
    out.resize(1 + 2 * 1536, 0);
    if kind % 3 == 2 {
        let mut enc = ChunkEncoder::new();
        for (txn, args) in [(1.0, vec![]), (2.0, vec![Amf0Value::Number(1.0)])] {
            let mut body = Vec::new();
            Command::new("_result", txn, Amf0Value::Null, args)
                .write(&mut body)
                .expect("encodable");
            enc.write(&mut out, 3, 0, 20, 0, &body).expect("encodable");
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, data)) = data.split_first() else {
        return;
    };
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let url = SourceUrl::parse("rtmp://127.0.0.1/live/cam").expect("valid URL");
    let mut c = RtmpClientConnection::new(Duration::from_secs(10), url, now, 1);
    let mut buf = BytesMut::from(&preamble(kind)[..]);
    let mut out = Vec::new();
    let mut rest = data;
    let mut t = now;
    loop {
        c.handle_input(t, &mut buf);
        while c.poll_event().is_some() {}
        out.clear();
        c.poll_transmit(&mut out);
        assert!(out.len() < 64 * 1024, "transmit stays bounded");
        if let Some(d) = c.poll_timeout() {
            if d <= t {
                c.handle_timeout(t);
            }
        }
        if rest.is_empty() || c.is_closed() {
            break;
        }
        let n = (usize::from(rest[0]) + 1).min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        t += Duration::from_millis(100);
    }
});
