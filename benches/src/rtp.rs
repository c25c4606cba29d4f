//! RTP and RTCP workloads: header and packet parse, packet build, sender reports, compounds.

use crate::{data, Runner, Throughput};
use bytes::Bytes;
use smallvec::smallvec;
use std::hint::black_box;
use weir_core::rtcp::{
    parse_compound, write_compound, ReceiverReport, ReportBlock, RtcpPacket, Sdes, SenderReport,
};
use weir_core::rtp::{RtpHeader, RtpPacket};

/// A sender report as weir's ingest writes one (no report blocks).
pub fn sender_report() -> SenderReport {
    SenderReport {
        ssrc: 0x1234_5678,
        ntp_timestamp: 0xe8a1_2b3c_4d5e_6f70,
        rtp_timestamp: 900_000,
        packet_count: 269,
        octet_count: 114_758,
        reports: smallvec![],
    }
}

/// What a typical RTSP client sends back: a receiver report with one block, and an SDES CNAME.
pub fn receiver_compound() -> Vec<u8> {
    let rr = ReceiverReport {
        ssrc: 0x0bad_cafe,
        reports: smallvec![ReportBlock {
            ssrc: 0x1234_5678,
            fraction_lost: 0,
            cumulative_lost: 0,
            highest_seq: 265,
            jitter: 12,
            last_sr: 0x2b3c_4d5e,
            delay_since_last_sr: 0x0001_8000,
        }],
    };
    let mut out = Vec::new();
    write_compound(
        &[
            RtcpPacket::ReceiverReport(rr),
            RtcpPacket::Sdes(Sdes::cname(0x0bad_cafe, "ffmpeg-reader")),
        ],
        &mut out,
    );
    out
}

/// Hands the RTP and RTCP workloads to `r`.
pub fn workloads<R: Runner>(r: &mut R) {
    // A real 1372-byte FU-A packet of the bunny capture's first key frame.
    let packets = data::bunny_packets(data::BUNNY_H264_CHANNEL);
    let pkt = packets
        .iter()
        .find(|p| p.raw.len() == 1372)
        .expect("bunny has full-size H.264 packets")
        .clone();
    let raw: Bytes = pkt.raw.clone();
    let one = Throughput::Elements(1);

    r.run("rtp/header_parse", one.clone(), || {
        let _ = black_box(RtpHeader::parse(black_box(&raw[..])));
    });
    r.run("rtp/packet_parse", one.clone(), || {
        // Includes the reference-count increment and decrement of the shared buffer.
        let _ = black_box(RtpPacket::parse(black_box(&raw).clone()));
    });
    let payload = pkt.payload().to_vec();
    r.run(
        "rtp/packet_build",
        Throughput::Bytes(payload.len() as u64),
        || {
            black_box(RtpPacket::build(pkt.header, black_box(&payload)));
        },
    );

    let sr = sender_report();
    let mut sr_bytes = Vec::new();
    sr.write_to(&mut sr_bytes);
    r.run("rtp/rtcp_sr_parse", one.clone(), || {
        let _ = black_box(SenderReport::parse(black_box(&sr_bytes)));
    });
    let mut out = Vec::with_capacity(64);
    r.run("rtp/rtcp_sr_write", one, || {
        out.clear();
        black_box(&sr).write_to(&mut out);
        black_box(&out);
    });
    let compound = receiver_compound();
    assert_eq!(parse_compound(&compound).map(|c| c.len()), Ok(2));
    r.run("rtp/rtcp_compound_parse", Throughput::Elements(2), || {
        let _ = black_box(parse_compound(black_box(&compound)));
    });
}
