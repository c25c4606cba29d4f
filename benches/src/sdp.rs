//! SDP workloads: parsing the SDP of real cameras' DESCRIBE answers.

use crate::{data, Runner, Throughput};
use std::hint::black_box;

/// The cameras whose SDP is parsed: workload name and DESCRIBE answer under `core/tests/data`.
pub const CAMERAS: [(&str, &str); 2] = [
    (
        "sdp/parse_hikvision",
        "retina/client_hikvision_describe.txt",
    ),
    (
        "sdp/parse_dahua_h264_aac",
        "retina/client_dahua_describe_h264_aac_onvif.txt",
    ),
];

/// Hands the SDP workloads to `r`.
pub fn workloads<R: Runner>(r: &mut R) {
    for (name, file) in CAMERAS {
        let body = data::body_of(&data::read(file)).to_vec();
        assert!(weir_core::sdp::parse(&body).is_ok(), "{file}");
        r.run(name, Throughput::Bytes(body.len() as u64), || {
            let _ = black_box(weir_core::sdp::parse(black_box(&body)));
        });
    }
}
