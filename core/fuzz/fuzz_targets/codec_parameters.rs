//! Parameter-set parsers: H264/H265 SPS, H265 PPS, AudioSpecificConfig, and fmtp parsing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use weir_core::codec::{h264, h265, mpeg4audio};

fuzz_target!(|data: &[u8]| {
    let _ = h264::Sps::parse(data);
    let _ = h265::Sps::parse(data);
    let _ = h265::Pps::parse(data);
    let _ = mpeg4audio::AudioSpecificConfig::parse(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = h264::H264Params::from_fmtp(s);
        let _ = h265::H265Params::from_fmtp(s);
        let _ = mpeg4audio::Mpeg4AudioParams::from_fmtp(s);
        let _ = mpeg4audio::AudioSpecificConfig::from_fmtp(s);
    }
});
