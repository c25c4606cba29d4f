//! The HTTP/1.1 server connection driven by arbitrary client bytes, answering every request at
//! once (and some out of order): no panic, bounded buffers, outputs drained.
#![no_main]
use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::http::{Body, HttpEvent, HttpServerConfig, HttpServerConnection, Response};

fuzz_target!(|data: &[u8]| {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let cfg = Arc::new(HttpServerConfig::default());
    let mut c = HttpServerConnection::new(cfg, "127.0.0.1:1".parse().unwrap(), now, "[fuzz]".into());
    let mut buf = BytesMut::new();
    let mut out: Vec<Bytes> = Vec::new();
    let mut pending = Vec::new();
    let mut t = now;
    for chunk in data.chunks(61) {
        buf.extend_from_slice(chunk);
        t += Duration::from_millis(3);
        c.handle_input(t, &mut buf);
        while let Some(ev) = c.poll_event() {
            if let HttpEvent::Request(r) = ev {
                pending.push(r.id);
            }
        }
        // Answer in reverse order: responses must still go out in request order.
        while let Some(id) = pending.pop() {
            c.respond(id, Response::new(200, "text/plain", Body::Bytes(Bytes::from_static(b"ok"))));
        }
        out.clear();
        c.poll_transmit(&mut out);
        if c.is_closing() {
            break;
        }
        assert!(buf.len() <= 1 << 20, "buffer bounded");
    }
    if let Some(d) = c.poll_timeout() {
        c.handle_timeout(d);
    }
});
