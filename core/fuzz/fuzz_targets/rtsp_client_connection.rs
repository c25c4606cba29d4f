//! The RTSP client connection (a path's pull source) driven by arbitrary server bytes: no
//! input may panic it, and its transmit buffer stays bounded.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};
use weir_core::rtsp::client::{ClientConfig, ClientConnection, SourceUrl};

fuzz_target!(|data: &[u8]| {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let url = SourceUrl::parse("rtsp://127.0.0.1:8554/cam").expect("valid URL");
    let mut c = ClientConnection::new(ClientConfig::default(), url, now);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut rest = data;
    let mut t = now;
    while !rest.is_empty() && !c.is_closed() {
        let n = (usize::from(rest[0]) + 1).min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        t += Duration::from_millis(100);
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
    }
});
