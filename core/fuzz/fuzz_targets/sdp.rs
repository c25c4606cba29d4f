//! The lenient SDP parser, and parse → write → parse stability, and stream descriptions.
#![no_main]
use libfuzzer_sys::fuzz_target;
use weir_core::media::StreamDescription;

fuzz_target!(|data: &[u8]| {
    if let Ok(sdp) = weir_core::sdp::parse(data) {
        let mut text = String::new();
        sdp.write(&mut text);
        let again = weir_core::sdp::parse(text.as_bytes()).expect("written SDP parses");
        let mut text2 = String::new();
        again.write(&mut text2);
        assert_eq!(text, text2);
    }
    if let Ok(d) = StreamDescription::from_sdp(data) {
        let _ = StreamDescription::from_sdp(d.to_sdp().as_bytes()).expect("own SDP parses");
    }
});
