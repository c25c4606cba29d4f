//! The FLV demuxer (RTMP publisher media → units) on arbitrary message bodies, and the muxer on
//! whatever description the demuxer produced.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use weir_core::flv::{FlvDemuxer, FlvMuxer, FlvOutput};

fuzz_target!(|data: &[u8]| {
    let mut d = FlvDemuxer::new();
    let mut out = Vec::new();
    let mut rest = data;
    let mut ts = 0i64;
    while let Some((&head, tail)) = rest.split_first() {
        let len = (usize::from(head) * 3).min(tail.len());
        let body = Bytes::copy_from_slice(&tail[..len]);
        rest = &tail[len..];
        ts += i64::from(head % 50);
        let _ = d.push(head & 1 == 1, ts, &body, &mut out);
    }
    for o in &out {
        if let FlvOutput::Tracks(desc) = o {
            if let Ok(mut m) = FlvMuxer::new(desc) {
                let _ = m.metadata();
                let _ = m.sequence_headers();
            }
        }
    }
});
