//! A bare RTP flow (no RTSP session in the capture, e.g. a camera's stream captured on its
//! own): when its payloads are recognisably H.264 or H.265, it is published into weir with a
//! session description inferred from them (payload type, 90 kHz clock, the parameter sets
//! found in band), and a reader checks that every payload arrives intact. Anything else is not
//! replayable: without an SDP the codec and clock rate are unknown.

use super::digest::{check_track, Sequence};
use super::pacing::Pacer;
use super::rtsp_case::MAX_SKIPPED_HEAD;
use super::rtsp_clients::{RtspPublisher, RtspReader};
use super::rtsp_conn::{is_rtcp, rtp_payload, rtp_timestamp};
use super::{Findings, FlowReport, Options};
use crate::flows::UdpFlow;
use crate::runtime::Weir;
use base64::Engine;
use std::time::Duration;

/// A video codec recognised from RTP payloads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guess {
    /// H.264 (RFC 6184).
    H264,
    /// H.265 (RFC 7798).
    H265,
}

/// Whether a payload starts like an H.265 one: F bit clear, layer 0, temporal id ≥ 1, a
/// NAL unit type that exists (0..=40), an aggregation packet (48) or a fragment (49).
fn h265_like(p: &[u8]) -> bool {
    let [b0, b1, ..] = p else { return false };
    let kind = (b0 >> 1) & 0x3f;
    let layer = ((b0 & 1) << 5) | (b1 >> 3);
    b0 & 0x80 == 0 && layer == 0 && b1 & 7 >= 1 && (kind <= 40 || kind == 48 || kind == 49)
}

/// Whether a payload starts like an H.264 one: F bit clear, a single NAL unit type (1..=23),
/// STAP-A (24) or FU-A (28).
fn h264_like(p: &[u8]) -> bool {
    let [b0, ..] = p else { return false };
    b0 & 0x80 == 0 && matches!(b0 & 0x1f, 1..=24 | 28)
}

/// The codec of a flow's RTP payloads, if every payload fits one and only one.
pub fn guess(payloads: &[&[u8]]) -> Option<Guess> {
    if payloads.is_empty() {
        return None;
    }
    let h265 = payloads.iter().all(|p| h265_like(p));
    let h264 = payloads.iter().all(|p| h264_like(p));
    match (h264, h265) {
        (false, true) => Some(Guess::H265),
        (true, false) => Some(Guess::H264),
        _ => None,
    }
}

/// The NAL units of a payload that are complete (single units and aggregated ones).
fn whole_units(codec: Guess, p: &[u8]) -> Vec<&[u8]> {
    let (header, aggregate) = match codec {
        Guess::H264 => (1, p.first().map(|b| b & 0x1f) == Some(24)),
        Guess::H265 => (2, p.first().map(|b| (b >> 1) & 0x3f) == Some(48)),
    };
    let fragment = match codec {
        Guess::H264 => p.first().map(|b| b & 0x1f) == Some(28),
        Guess::H265 => p.first().map(|b| (b >> 1) & 0x3f) == Some(49),
    };
    if fragment {
        return Vec::new();
    }
    if !aggregate {
        return vec![p];
    }
    let mut out = Vec::new();
    let mut rest = p.get(header..).unwrap_or_default();
    while let [a, b, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*a, *b]));
        let Some(unit) = tail.get(..n) else { break };
        out.push(unit);
        rest = &tail[n..];
    }
    out
}

/// The session description: one video section with the flow's payload type, the codec at
/// 90 kHz, and the first parameter sets found in band.
pub fn inferred_sdp(codec: Guess, payload_type: u8, payloads: &[&[u8]]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut found: Vec<(u8, String)> = Vec::new();
    for p in payloads {
        for unit in whole_units(codec, p) {
            let kind = match codec {
                Guess::H264 => unit.first().map(|b| b & 0x1f),
                Guess::H265 => unit.first().map(|b| (b >> 1) & 0x3f),
            };
            if let Some(k) = kind {
                let wanted = match codec {
                    Guess::H264 => matches!(k, 7 | 8),
                    Guess::H265 => matches!(k, 32..=34),
                };
                if wanted && found.iter().all(|(f, _)| *f != k) {
                    found.push((k, b64.encode(unit)));
                }
            }
        }
    }
    let get = |k: u8| found.iter().find(|(f, _)| *f == k).map(|(_, v)| v.clone());
    let (name, fmtp) = match codec {
        Guess::H264 => {
            let sets: Vec<String> = [get(7), get(8)].into_iter().flatten().collect();
            let mut f = "packetization-mode=1".to_string();
            if !sets.is_empty() {
                f.push_str(&format!(";sprop-parameter-sets={}", sets.join(",")));
            }
            ("H264", f)
        }
        Guess::H265 => {
            let mut parts = Vec::new();
            for (key, k) in [("sprop-vps", 32), ("sprop-sps", 33), ("sprop-pps", 34)] {
                if let Some(v) = get(k) {
                    parts.push(format!("{key}={v}"));
                }
            }
            ("H265", parts.join(";"))
        }
    };
    let mut sdp = format!(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=inferred from RTP\r\nt=0 0\r\n\
         m=video 0 RTP/AVP {payload_type}\r\na=rtpmap:{payload_type} {name}/90000\r\n"
    );
    if !fmtp.is_empty() {
        sdp.push_str(&format!("a=fmtp:{payload_type} {fmtp}\r\n"));
    }
    sdp
}

/// Replays bare RTP flow `index` against `weir`.
pub fn replay_rtp(flow: &UdpFlow, index: usize, weir: &Weir, options: &Options) -> FlowReport {
    let name = format!("udp#{index}");
    let packets: Vec<&[u8]> = flow
        .datagrams
        .iter()
        .map(|d| d.payload.as_slice())
        .filter(|p| !is_rtcp(p))
        .collect();
    let payloads: Vec<&[u8]> = packets.iter().filter_map(|p| rtp_payload(p)).collect();
    let Some(codec) = guess(&payloads) else {
        return FlowReport::not_replayable(
            name,
            "RTP over UDP",
            format!(
                "{} -> {}: RTP without the RTSP session that described it, and its payloads \
                 are not recognisably H.264 or H.265 (no SDP: codec and clock rate unknown)",
                flow.src, flow.dst
            ),
        );
    };
    let kind = format!("RTP over UDP ({codec:?}, SDP inferred)");
    let payload_type = packets.first().map_or(96, |p| p[1] & 0x7f);
    let sdp = inferred_sdp(codec, payload_type, &payloads);
    let mut findings = Findings::default();
    findings.note(format!(
        "no RTSP session in the capture: published over RTSP/TCP with an SDP inferred from the RTP ({codec:?}, payload type {payload_type}, parameter sets in band)"
    ));
    let rtsp = weir.addresses().rtsp;
    let path = format!("/inferred/udp{index}");
    let mut publisher = match RtspPublisher::start(rtsp, &path, sdp.as_bytes()) {
        Ok(p) => p,
        Err(e) => {
            findings.fail(format!(
                "weir refused the inferred session description: {e}"
            ));
            return FlowReport::new(name, kind, findings);
        }
    };
    let reader = match RtspReader::start(rtsp, &path) {
        Ok(r) => r,
        Err(e) => {
            findings.fail(format!("a reader could not play {path}: {e}"));
            return FlowReport::new(name, kind, findings);
        }
    };
    let mut sent = Sequence::default();
    let mut pacer = Pacer::new(options);
    let mut batch = Vec::new();
    for d in &flow.datagrams {
        pacer.wait(d.timestamp);
        let rtcp = is_rtcp(&d.payload);
        if !rtcp {
            if let Some(p) = rtp_payload(&d.payload) {
                sent.push_unit(p, rtp_timestamp(&d.payload));
            }
        }
        publisher.queue(0, rtcp, &d.payload, &mut batch);
        if batch.len() >= 128 * 1024 || options.paced {
            if let Err(e) = publisher.send(&batch) {
                findings.fail(format!("publishing failed: {e}"));
                break;
            }
            batch.clear();
        }
    }
    if let Err(e) = publisher.send(&batch) {
        findings.fail(format!("publishing failed: {e}"));
    }
    reader.wait_for(&[&sent], Duration::from_secs(2), Duration::from_secs(30));
    let mut media = Vec::new();
    match reader.finish() {
        Ok(received) => {
            let label = format!("track 0 (video {codec:?})");
            let got = received.tracks.first().cloned().unwrap_or_default();
            check_track(&label, &sent, &got, MAX_SKIPPED_HEAD, &mut findings);
            media.push(got.digest(&label));
        }
        Err(e) => findings.fail(format!("the checking reader failed: {e}")),
    }
    let _ = publisher.teardown();
    let mut report = FlowReport::new(name, kind, findings);
    report.media = media;
    report
}
