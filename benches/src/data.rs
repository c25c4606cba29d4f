//! The benches' inputs: files under `core/tests/data`, the bunny capture split into RTP packets,
//! and the few synthetic messages no capture holds.

use bytes::Bytes;
use std::path::PathBuf;
use weir_core::rtp::RtpPacket;
use weir_core::rtsp::{parse, Limits, Message, Parsed};

/// Interleaved channel of bunny's AAC RTP (track 0 of its SDP).
pub const BUNNY_AAC_CHANNEL: u8 = 0;
/// Interleaved channel of bunny's H.264 RTP (track 1 of its SDP).
pub const BUNNY_H264_CHANNEL: u8 = 2;

/// The path of a file under `core/tests/data`.
pub fn path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/data")
        .join(relative)
}

/// The bytes of a file under `core/tests/data`; panics with the path when it cannot be read.
pub fn read(relative: &str) -> Vec<u8> {
    let p = path(relative);
    std::fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// The body (after the empty line) of an RTSP message stored in a file.
pub fn body_of(message: &[u8]) -> &[u8] {
    match parse(message, 0, &Limits::default()) {
        Ok(Parsed::Done {
            message: Message::Response(r),
            ..
        }) => r.body,
        other => panic!("not a whole RTSP response: {other:?}"),
    }
}

/// Every `$` frame of an interleaved capture, as (channel, payload), walked with weir's own
/// RTSP parser.
pub fn interleaved_frames(capture: &[u8]) -> Vec<(u8, Bytes)> {
    let whole = Bytes::copy_from_slice(capture);
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < whole.len() {
        match parse(&whole[pos..], pos as u64, &Limits::default()) {
            Ok(Parsed::Done {
                message: Message::Interleaved { channel, payload },
                consumed,
            }) => {
                let start = pos + consumed - payload.len();
                frames.push((channel, whole.slice(start..pos + consumed)));
                pos += consumed;
            }
            other => panic!("capture byte {pos}: not an interleaved frame: {other:?}"),
        }
    }
    frames
}

/// The RTP packets of one channel of `core/tests/data/media/bunny.rtsp`, in capture order.
pub fn bunny_packets(channel: u8) -> Vec<RtpPacket> {
    interleaved_frames(&read("media/bunny.rtsp"))
        .into_iter()
        .filter(|(c, _)| *c == channel)
        .map(|(_, raw)| RtpPacket::parse(raw).expect("bunny.rtsp holds valid RTP"))
        .collect()
}

/// Splits packets into access units: runs of packets with one RTP timestamp.
pub fn group_units(packets: &[RtpPacket]) -> Vec<Vec<RtpPacket>> {
    let mut units: Vec<Vec<RtpPacket>> = Vec::new();
    for p in packets {
        match units.last_mut() {
            Some(u) if u[0].header.timestamp == p.header.timestamp => u.push(p.clone()),
            _ => units.push(vec![p.clone()]),
        }
    }
    units
}

/// The SDP of the bunny capture (its DESCRIBE answer, recorded with it).
pub fn bunny_sdp() -> Vec<u8> {
    body_of(&read("retina/client_bunny_describe.txt")).to_vec()
}

/// `len` bytes of deterministic filler (a 64-bit LCG) standing in for coded slice data.
pub fn filler(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

/// The total RTP payload bytes of `packets`.
pub fn payload_bytes<'a>(packets: impl IntoIterator<Item = &'a RtpPacket>) -> u64 {
    packets.into_iter().map(|p| p.payload().len() as u64).sum()
}
