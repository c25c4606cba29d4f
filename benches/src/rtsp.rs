//! RTSP workloads: parsing requests and a DESCRIBE answer, the Transport header, `$` frames.

use crate::{data, Runner, Throughput};
use std::hint::black_box;
use weir_core::rtsp::headers::Transport;
use weir_core::rtsp::{parse, Limits, Parsed};

/// An OPTIONS request as ffmpeg 6 (libavformat) sends it.
pub const OPTIONS: &[u8] =
    b"OPTIONS rtsp://127.0.0.1:8554/mystream RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: Lavf60.16.100\r\n\r\n";

/// A SETUP request for interleaved TCP as ffmpeg 6 sends it.
pub const SETUP: &[u8] = b"SETUP rtsp://127.0.0.1:8554/mystream/trackID=0 RTSP/1.0\r\n\
Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\nCSeq: 3\r\nUser-Agent: Lavf60.16.100\r\n\
Session: 5a3c9e1f7b2d4c60\r\n\r\n";

/// The Transport value of a TCP reader.
pub const TRANSPORT_TCP: &str = "RTP/AVP/TCP;unicast;interleaved=0-1";

/// The Transport value of a UDP reader.
pub const TRANSPORT_UDP: &str = "RTP/AVP;unicast;client_port=51372-51373";

/// Parses `msg` whole and checks that it is one complete message.
fn parse_whole(msg: &[u8]) -> usize {
    match parse(msg, 0, &Limits::default()) {
        Ok(Parsed::Done { consumed, .. }) => consumed,
        other => panic!("bench input is not a whole RTSP message: {other:?}"),
    }
}

/// Hands the RTSP workloads to `r`.
pub fn workloads<R: Runner>(r: &mut R) {
    let describe = data::read("retina/client_dahua_describe_h264_aac_onvif.txt");
    let frame = data::interleaved_frames(&data::read("media/bunny.rtsp"))
        .into_iter()
        .find(|(c, _)| *c == data::BUNNY_H264_CHANNEL)
        .map(|(c, p)| {
            let mut f = weir_core::rtsp::interleaved_header(c, p.len() as u16).to_vec();
            f.extend_from_slice(&p);
            f
        })
        .expect("bunny.rtsp has H.264 frames");
    let limits = Limits::default();
    for (name, msg) in [
        ("rtsp/parse_options", OPTIONS),
        ("rtsp/parse_setup", SETUP),
        ("rtsp/parse_describe_answer", &describe[..]),
        ("rtsp/parse_interleaved_frame", &frame[..]),
    ] {
        assert_eq!(parse_whole(msg), msg.len(), "{name}");
        r.run(name, Throughput::Bytes(msg.len() as u64), || {
            let _ = black_box(parse(black_box(msg), 0, &limits));
        });
    }
    for (name, value) in [
        ("rtsp/transport_tcp", TRANSPORT_TCP),
        ("rtsp/transport_udp", TRANSPORT_UDP),
    ] {
        assert!(Transport::parse_list(value).is_ok(), "{name}");
        r.run(name, Throughput::Bytes(value.len() as u64), || {
            let _ = black_box(Transport::parse_list(black_box(value)));
        });
    }
}
