//! RTMP workloads: the chunk stream (encode and decode of a video message at two chunk sizes)
//! and AMF0 (the `connect` command ffmpeg sends, decoded and encoded).
//!
//! The video message is the FLV body weir's `FlvMuxer` builds for the bunny capture's last key
//! frame (SPS, PPS and the IDR slice, length-prefixed: 8,252 bytes). The `connect` command is
//! the one in `core/tests/data/rtmp/ffmpeg_client_stream` (ffmpeg playing a stream), read out
//! of the capture's chunk stream with weir's own `ChunkDecoder`.

use crate::{data, Runner, Throughput};
use bytes::{Bytes, BytesMut};
use std::hint::black_box;
use weir_core::codec::{new_depacketizer, CodecKind};
use weir_core::flv::FlvMuxer;
use weir_core::media::{StreamDescription, Unit};
use weir_core::rtmp::chunk::{ChunkDecoder, ChunkEncoder};
use weir_core::rtmp::command::Command;
use weir_core::rtmp::handshake::HANDSHAKE_SIZE;
use weir_core::rtmp::message::type_id;

/// The chunk sizes measured: the protocol's initial one and the one weir and OBS announce.
pub const CHUNK_SIZES: [u32; 2] = [128, 4096];

/// The chunk stream id and message stream id video goes out on.
const VIDEO_CSID: u32 = 6;
/// The message stream id of the played stream.
const STREAM_ID: u32 = 1;

/// The bunny capture's H.264 access units as weir's depacketizer outputs them, as units of
/// track 1 (the bunny SDP's video track) with `pts = dts` = RTP time since the first unit.
pub fn bunny_video_units() -> Vec<Unit> {
    let groups = data::group_units(&data::bunny_packets(data::BUNNY_H264_CHANNEL));
    let mut d = new_depacketizer(CodecKind::H264, None, None).expect("H.264 depacketizer");
    let first = groups[0][0].header.timestamp;
    let mut units = Vec::with_capacity(groups.len());
    for g in &groups {
        for p in g {
            d.push(p).expect("bunny's H.264 depacketizes");
        }
        let au = d.finish().expect("every bunny unit completes");
        let ts = i64::from(g[0].header.timestamp.wrapping_sub(first));
        units.push(Unit {
            track: 1,
            pts: ts,
            dts: ts,
            key: au.key,
            payload: au.data,
            rtp: Default::default(),
        });
    }
    units
}

/// The FLV body (RTMP video message) of bunny's last key frame, as weir's muxer writes it.
pub fn key_frame_flv_body() -> Bytes {
    let desc = StreamDescription::from_sdp(&data::bunny_sdp()).expect("bunny SDP parses");
    let mut muxer = FlvMuxer::new(&desc).expect("bunny is carried over RTMP");
    let _ = muxer.sequence_headers();
    let units = bunny_video_units();
    let key = units
        .iter()
        .rev()
        .find(|u| u.key)
        .expect("bunny has a key frame");
    let mut body = None;
    muxer.push_unit_with(key, |is_video, _, b| {
        // The sequence header may come first when the unit's SPS differs: keep the frame.
        if is_video && b.get(1) == Some(&1) {
            body = Some(Bytes::copy_from_slice(b));
        }
    });
    body.expect("the key frame gives a video message")
}

/// The body of the `connect` command in ffmpeg's client stream (after C0, C1 and C2).
pub fn ffmpeg_connect_body() -> Bytes {
    let stream = data::read("rtmp/ffmpeg_client_stream");
    let mut buf = BytesMut::from(&stream[1 + 2 * HANDSHAKE_SIZE..]);
    let mut decoder = ChunkDecoder::default();
    while let Some(m) = decoder
        .decode(&mut buf)
        .expect("ffmpeg's chunk stream decodes")
    {
        if m.type_id == type_id::COMMAND_AMF0 {
            let cmd = Command::parse(m.type_id, &m.body).expect("a valid command");
            if cmd.name == "connect" {
                return m.body;
            }
        }
    }
    panic!("no connect command in ffmpeg_client_stream");
}

/// Hands the RTMP workloads to `r`.
pub fn workloads<R: Runner>(r: &mut R) {
    let body = key_frame_flv_body();
    let len = body.len() as u64;
    for size in CHUNK_SIZES {
        // Encode: one video message per operation, 40 ms after the previous one (format 2/3
        // headers, as in a steady stream).
        let mut encoder = ChunkEncoder::new();
        encoder.set_chunk_size(size).expect("valid chunk size");
        let mut out = Vec::with_capacity(body.len() + 256);
        let mut ts = 0u32;
        r.run(
            &format!("rtmp/chunk_encode_video_{size}"),
            Throughput::Bytes(len),
            || {
                out.clear();
                ts = ts.wrapping_add(40);
                encoder
                    .write(&mut out, VIDEO_CSID, ts, type_id::VIDEO, STREAM_ID, &body)
                    .expect("encodes");
                black_box(&out);
            },
        );

        // Decode: the chunks of one message appended to the receive buffer (as a socket read
        // would), then reassembled. The first message of a fresh encoder has a format 0
        // header, so replaying the same bytes is a valid stream.
        let mut encoder = ChunkEncoder::new();
        encoder.set_chunk_size(size).expect("valid chunk size");
        let mut wire = Vec::new();
        encoder
            .write(&mut wire, VIDEO_CSID, 40, type_id::VIDEO, STREAM_ID, &body)
            .expect("encodes");
        let mut decoder = ChunkDecoder::default();
        decoder.set_chunk_size(size).expect("valid chunk size");
        let mut buf = BytesMut::with_capacity(wire.len() * 2);
        buf.extend_from_slice(&wire);
        let m = decoder.decode(&mut buf).expect("decodes").expect("whole");
        assert_eq!(m.body, body, "chunk round trip at {size}");
        r.run(
            &format!("rtmp/chunk_decode_video_{size}"),
            Throughput::Bytes(len),
            || {
                buf.extend_from_slice(&wire);
                let m = decoder.decode(&mut buf).expect("decodes");
                black_box(m.expect("one whole message per operation"));
            },
        );
    }

    let connect = ffmpeg_connect_body();
    let cmd = Command::parse(type_id::COMMAND_AMF0, &connect).expect("connect parses");
    let mut encoded = Vec::new();
    cmd.write(&mut encoded).expect("connect encodes");
    assert_eq!(
        Command::parse(type_id::COMMAND_AMF0, &encoded).as_ref(),
        Ok(&cmd),
        "AMF0 round trip"
    );
    r.run(
        "rtmp/amf0_decode_connect",
        Throughput::Bytes(connect.len() as u64),
        || {
            let c = Command::parse(type_id::COMMAND_AMF0, black_box(&connect));
            black_box(c.expect("parses"));
        },
    );
    let mut out = Vec::with_capacity(encoded.len());
    r.run(
        "rtmp/amf0_encode_connect",
        Throughput::Bytes(encoded.len() as u64),
        || {
            out.clear();
            black_box(&cmd).write(&mut out).expect("encodes");
            black_box(&out);
        },
    );
}
