//! The RTSP server connection state machine driven by arbitrary client bytes, with an adapter
//! that answers every question: no input may panic it, and its outputs stay bounded.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::media::{PathConf, PathManager, StreamDescription};
use weir_core::rtsp::server::{Event, ServerConfig, ServerConnection};

fuzz_target!(|data: &[u8]| {
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut paths: PathManager<Arc<StreamDescription>> = PathManager::new(vec![PathConf::all_others()]);
    let mut c = ServerConnection::new(Arc::new(ServerConfig::default()), "127.0.0.1:1".parse().unwrap(), now, 7);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    // Feed in chunks whose sizes come from the data itself.
    let mut rest = data;
    let mut t = now;
    while !rest.is_empty() && !c.is_closing() {
        let n = (usize::from(rest[0]) + 1).min(rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        t += Duration::from_millis(10);
        for _ in 0..64 {
            c.handle_input(t, &mut buf);
            let mut asked = false;
            while let Some(ev) = c.poll_event() {
                match ev {
                    Event::Describe { path, .. } => { c.answer_describe(paths.describe(&path)); asked = true }
                    Event::Announce { path, description, .. } => {
                        let r = paths.publish(&path, 1, description).map(|_| ());
                        c.answer_announce(r);
                        asked = true
                    }
                    Event::SetupRead { path, .. } => {
                        c.answer_setup_read(paths.add_reader(&path).map(|d| (d, Default::default())));
                        asked = true
                    }
                    Event::Play => { c.answer_play(Ok(Default::default())); asked = true }
                    _ => {}
                }
            }
            out.clear();
            c.poll_transmit(&mut out);
            if !asked { break; }
        }
        if let Some(d) = c.poll_timeout() {
            c.handle_timeout(d.min(t + Duration::from_secs(1)));
        }
    }
});
