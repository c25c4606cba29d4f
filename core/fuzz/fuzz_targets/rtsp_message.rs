//! The incremental RTSP parser: any bytes, parsed whole and split at an arbitrary point.
#![no_main]
use libfuzzer_sys::fuzz_target;
use weir_core::rtsp::message::{parse, Limits, Parsed};

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let whole = parse(data, 0, &limits);
    if let Some((&split, rest)) = data.split_first() {
        let cut = usize::from(split) % (rest.len() + 1);
        if let Ok(Parsed::NeedMore { .. }) = parse(&rest[..cut], 0, &limits) {
            let _ = parse(rest, 0, &limits);
        }
    }
    if let Ok(Parsed::Done { consumed, .. }) = whole {
        assert!(consumed <= data.len());
    }
});
