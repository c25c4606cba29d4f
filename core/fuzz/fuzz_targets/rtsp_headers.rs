//! Every typed RTSP header parser on arbitrary text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use weir_core::rtsp::headers::{
    parse_cseq, parse_rtp_info, path_of_url, Authorization, RangeHeader, SessionHeader, Transport,
    WwwAuthenticate,
};
use weir_core::rtsp::server::split_request_url;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = parse_cseq(s);
    let _ = SessionHeader::parse(s);
    if let Ok(list) = Transport::parse_list(s) {
        for t in list {
            let _ = Transport::parse(&t.to_string());
        }
    }
    let _ = RangeHeader::parse(s);
    let _ = parse_rtp_info(s);
    let _ = Authorization::parse(s);
    let _ = WwwAuthenticate::parse(s);
    let _ = path_of_url(s);
    let _ = split_request_url(s);
});
