//! An RTSP publisher's capture as a case: the publisher is replayed while a reader of the
//! path (the replay's own, over TCP) checks that every RTP payload arrives intact.

use super::digest::check_track;
use super::rtsp_clients::{Received, RtspReader};
use super::rtsp_publish::{self, PublishHooks, SentMedia};
use super::{Findings, FlowReport, Options};
use crate::runtime::Weir;
use crate::Capture;
use std::net::SocketAddr;
use std::time::Duration;

/// Packets a reader may miss at the start of a track: those before the stream's first video
/// key frame, where weir starts its readers (audio included).
pub const MAX_SKIPPED_HEAD: usize = 200;

/// Starts a reader at RECORD, collects what it received once the media is sent.
struct VerifyWithReader {
    rtsp: SocketAddr,
    reader: Option<RtspReader>,
    received: Option<Received>,
}

impl PublishHooks for VerifyWithReader {
    fn recording(&mut self, path: &str, findings: &mut Findings) {
        match RtspReader::start(self.rtsp, path) {
            Ok(r) => self.reader = Some(r),
            Err(e) => findings.fail(format!("a reader could not play {path}: {e}")),
        }
    }

    fn media_sent(&mut self, sent: &SentMedia, findings: &mut Findings) {
        let Some(reader) = self.reader.take() else {
            return;
        };
        let sent: Vec<&_> = sent.tracks.iter().collect();
        reader.wait_for(&sent, Duration::from_secs(2), Duration::from_secs(30));
        match reader.finish() {
            Ok(r) => self.received = Some(r),
            Err(e) => findings.fail(format!("the checking reader failed: {e}")),
        }
    }
}

/// Replays RTSP publisher flow `flow` against `weir` and checks the media a reader gets.
pub fn replay_publisher(
    capture: &Capture,
    flow: usize,
    weir: &Weir,
    options: &Options,
    name: String,
) -> FlowReport {
    let rtsp = weir.addresses().rtsp;
    let mut findings = Findings::default();
    let mut hooks = VerifyWithReader {
        rtsp,
        reader: None,
        received: None,
    };
    let sent = rtsp_publish::replay(capture, flow, rtsp, options, &mut hooks, &mut findings);
    let udp = capture
        .rtsp_setups(flow)
        .iter()
        .any(|s| s.client_port.is_some() && s.interleaved.is_none());
    let kind = format!("RTSP publish ({})", if udp { "UDP" } else { "TCP" });
    let mut media = Vec::new();
    if let Some(received) = hooks.received {
        compare_tracks(&sent, &received, &mut findings, &mut media);
    } else if sent.tracks.iter().any(|t| !t.is_empty()) && findings.failures.is_empty() {
        findings.fail("no reader received the media");
    }
    let mut report = FlowReport::new(name, kind, findings);
    report.media = media;
    report
}

/// Checks each announced track against the reader's track of the same index.
fn compare_tracks(
    sent: &SentMedia,
    received: &Received,
    findings: &mut Findings,
    media: &mut Vec<super::MediaDigest>,
) {
    if received.medias.len() != sent.medias.len() {
        findings.fail(format!(
            "the publisher announced {} media sections, weir's DESCRIBE has {}",
            sent.medias.len(),
            received.medias.len()
        ));
    }
    for (i, (s, r)) in sent.medias.iter().zip(&received.medias).enumerate() {
        let codec = |m: &super::sdp::SdpMedia| m.codec.clone().unwrap_or_default().to_uppercase();
        if codec(s) != codec(r) {
            findings.fail(format!(
                "track {i}: announced as {}, described by weir as {}",
                s.label(),
                r.label()
            ));
        }
        let label = format!("track {i} ({})", s.label());
        check_track(
            &label,
            &sent.tracks[i],
            &received.tracks[i],
            MAX_SKIPPED_HEAD,
            findings,
        );
        media.push(received.tracks[i].digest(&label));
    }
}
