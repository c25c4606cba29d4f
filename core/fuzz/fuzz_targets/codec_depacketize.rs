//! Every depacketizer fed arbitrary packets: first byte picks the codec, the rest is cut into
//! payloads; access units end on the marker bit as the stream groups them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use weir_core::codec::{new_depacketizer, CodecKind};
use weir_core::rtp::{RtpHeader, RtpPacket, SeqNo, Ssrc};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let codec = [CodecKind::H264, CodecKind::H265, CodecKind::Mpeg4Audio, CodecKind::Opus, CodecKind::G711Mu][usize::from(sel) % 5];
    let fmtp = "profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3;config=1190";
    let Some(mut d) = new_depacketizer(codec, Some(fmtp), Some(2)) else { return };
    for (i, chunk) in rest.chunks(97).enumerate() {
        let h = RtpHeader {
            marker: chunk.first().is_some_and(|b| b & 1 == 1),
            payload_type: 96,
            sequence_number: SeqNo(i as u16),
            timestamp: (i / 3) as u32,
            ssrc: Ssrc(1),
        };
        let _ = d.push(&RtpPacket::build(h, chunk));
        if h.marker {
            let _ = d.finish();
        }
    }
    let _ = d.finish();
});
