//! The HLS muxer fed arbitrary units and arbitrary request file names / query strings (the
//! parts of an URL a client controls): no panic, answers only 200/400/404/503.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::hls::{HlsAnswer, HlsConfig, HlsMuxer};
use weir_core::media::{StreamDescription, Unit};

const SDP: &[u8] = b"v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 mpeg4-generic/48000/2\r\na=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190\r\n";

fuzz_target!(|data: &[u8]| {
    #[allow(clippy::disallowed_methods)]
    let start = Instant::now();
    let desc = StreamDescription::from_sdp(SDP).unwrap();
    let mut m = HlsMuxer::new(HlsConfig::default(), &desc, start).unwrap();
    let mut now = start;
    let mut token = 0u64;
    for (i, chunk) in data.chunks(23).enumerate() {
        let Some((&op, rest)) = chunk.split_first() else { continue };
        now += Duration::from_millis(u64::from(op % 64));
        if op & 0x80 == 0 {
            let track = usize::from(op & 1);
            let t = i as i64 * if track == 0 { 3600 } else { 1024 };
            let unit = Unit {
                track,
                pts: t,
                dts: t,
                key: op & 0x40 != 0,
                payload: std::iter::once(Bytes::copy_from_slice(rest)).collect(),
                rtp: Default::default(),
            };
            m.push_unit(now, 1_700_000_000_000 + i as i64, &Arc::new(unit));
        } else {
            let text = String::from_utf8_lossy(rest);
            let (file, query) = text.split_once('?').unwrap_or((&text, ""));
            token += 1;
            if let HlsAnswer::Now(r) = m.handle_request(now, file, query, token) {
                assert!(matches!(r.status, 200 | 400 | 404 | 503), "{}", r.status);
            }
        }
        m.handle_timeout(now);
        while let Some((_, r)) = m.poll_released() {
            assert!(matches!(r.status, 200 | 400 | 404 | 503), "{}", r.status);
        }
    }
});
