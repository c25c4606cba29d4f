//! The RTMP server connection driven by arbitrary bytes after a valid simple handshake, with an
//! adapter that accepts every publish and play: no panic, outputs drained.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::rtmp::{MediaKind, RtmpEvent, RtmpServerConfig, RtmpServerConnection};

fuzz_target!(|data: &[u8]| {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut c = RtmpServerConnection::new(
        Arc::new(RtmpServerConfig::default()),
        "127.0.0.1:1".parse().unwrap(),
        now,
        3,
    );
    // C0 + C1 (simple handshake) then C2, then the fuzz input as the chunk stream.
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[3]);
    buf.extend_from_slice(&[0u8; 1536]);
    buf.extend_from_slice(&[0u8; 1536]);
    let mut out = Vec::new();
    let mut t = now;
    for chunk in std::iter::once(&[][..]).chain(data.chunks(257)) {
        buf.extend_from_slice(chunk);
        t += Duration::from_millis(5);
        for _ in 0..64 {
            c.handle_input(t, &mut buf);
            let mut asked = false;
            while let Some(ev) = c.poll_event() {
                match ev {
                    RtmpEvent::Publish { .. } => { c.answer_publish(Ok(())); asked = true }
                    RtmpEvent::Play { .. } => {
                        c.answer_play(Ok(()));
                        c.write_media(MediaKind::Video, 0, &[0x17, 0, 0, 0, 0]);
                        asked = true
                    }
                    _ => {}
                }
            }
            out.clear();
            c.poll_transmit(&mut out);
            if !asked || c.is_closing() { break; }
        }
        if c.is_closing() { break; }
    }
    if let Some(d) = c.poll_timeout() {
        c.handle_timeout(d);
    }
});
