//! RTP and RTCP parsers on arbitrary datagrams; RTCP write → parse round trip.
#![no_main]
use libfuzzer_sys::fuzz_target;
use weir_core::rtcp::{parse_compound, RtcpPacket};
use weir_core::rtp::{RtpHeader, RtpPacket};

fuzz_target!(|data: &[u8]| {
    let _ = RtpHeader::parse(data);
    let _ = RtpPacket::parse(bytes::Bytes::copy_from_slice(data));
    if let Ok(pkts) = parse_compound(data) {
        for p in pkts {
            let mut out = Vec::new();
            p.write_to(&mut out);
            let _ = RtcpPacket::parse(&out);
        }
    }
});
