//! Replay of a capture's clients against weir, on either runtime.
//!
//! Each replayable flow of a capture is replayed against a fresh weir started in-process on
//! ephemeral ports ([`crate::runtime::Weir`]):
//!
//! - an RTSP publisher's requests go out in order, rewritten for a live replay (URL
//!   authority, session id, UDP client ports), and its RTP follows (interleaved frames or the
//!   datagrams of the UDP flows its SETUPs negotiated); a reader of the path checks that the
//!   RTP payloads arrive intact ([`rtsp_publish`]);
//! - an RTSP reader's capture is replayed by first publishing into weir what the original
//!   server sent it (its DESCRIBE answer and RTP), then replaying the reader's requests, SETUP
//!   URLs mapped onto weir's control URLs ([`rtsp_read`]);
//! - an RTMP publisher's byte stream is replayed with the handshake redone (C2 echoes weir's
//!   S1), and an RTMP reader of the path checks the FLV tag bodies ([`rtmp_publish`]);
//!   an RTMP player's capture is replayed after publishing what the original server sent it
//!   ([`rtmp_play`]);
//! - an HLS fetch is replayed after publishing the capture's own publisher of that path, if
//!   it has one ([`hls`]).
//!
//! Every answer's status is checked against the original server's (matched by CSeq, RTMP
//! transaction id, or request order); each flow ends with a [`Verdict`].

pub mod digest;
pub mod hls;
pub mod http;
pub mod pacing;
pub mod rtmp_client;
pub mod rtmp_compare;
pub mod rtmp_play;
pub mod rtmp_publish;
pub mod rtmp_stream;
pub mod rtp_only;
pub mod rtsp_case;
pub mod rtsp_clients;
pub mod rtsp_conn;
pub mod rtsp_items;
pub mod rtsp_publish;
pub mod rtsp_read;
pub mod sdp;
pub mod udp;
pub mod verdict;

pub use digest::MediaDigest;
pub use verdict::{Findings, Verdict};

use crate::flows::{Protocol, UdpKind};
use crate::runtime::{Runtime, Weir};
use crate::Capture;

/// How to replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Follow the capture's timing instead of sending as fast as possible.
    pub paced: bool,
    /// When paced: the capture time that corresponds to the instant (shared by flows
    /// replayed together); by default each flow starts its own clock at its first item.
    pub origin: Option<(std::time::Duration, std::time::Instant)>,
}

impl Options {
    /// Options that follow the capture's timing from `origin`.
    pub fn paced_from(origin: (std::time::Duration, std::time::Instant)) -> Options {
        Options {
            paced: true,
            origin: Some(origin),
        }
    }
}

/// The outcome of one flow's replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowReport {
    /// Which flow: `tcp#0`, `udp#2`.
    pub flow: String,
    /// What it is: `RTSP publish (TCP)`, `RTMP play`, `HLS fetch`, ...
    pub kind: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What the checking reader received, per track (compared across runtimes).
    pub media: Vec<MediaDigest>,
    /// Observations.
    pub notes: Vec<String>,
}

impl FlowReport {
    fn new(flow: String, kind: impl Into<String>, findings: Findings) -> FlowReport {
        FlowReport {
            flow,
            kind: kind.into(),
            verdict: findings.verdict(),
            media: Vec::new(),
            notes: findings.notes,
        }
    }

    /// Turns the verdict into a failure with `why` added to any earlier failure reasons.
    pub fn add_failure(&mut self, why: String) {
        let mut reasons = match &self.verdict {
            Verdict::Fail(r) => r.clone(),
            _ => Vec::new(),
        };
        reasons.push(why);
        self.verdict = Verdict::Fail(reasons);
    }

    fn not_replayable(flow: String, kind: impl Into<String>, why: impl Into<String>) -> FlowReport {
        FlowReport {
            flow,
            kind: kind.into(),
            verdict: Verdict::NotReplayable(why.into()),
            media: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// The outcome of one capture's replay on one runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseReport {
    /// The runtime.
    pub runtime: Runtime,
    /// One report per replayable (or explicitly not replayable) flow.
    pub flows: Vec<FlowReport>,
    /// Flows left out, and why (no application data).
    pub ignored: Vec<String>,
}

impl CaseReport {
    /// Whether any flow failed.
    pub fn failed(&self) -> bool {
        self.flows.iter().any(|f| f.verdict.is_fail())
    }
}

/// Replays every flow of `capture` on `runtime`, each against a fresh weir.
pub fn replay(capture: &Capture, runtime: Runtime, options: &Options) -> CaseReport {
    let mut flows = Vec::new();
    let mut ignored = Vec::new();
    let mut hls_done: Vec<usize> = Vec::new();
    for (i, tcp) in capture.tcp_flows().iter().enumerate() {
        let name = format!("tcp#{i}");
        let c = &tcp.connection;
        if hls_done.contains(&i) {
            continue;
        }
        if c.client_to_server.is_empty() {
            ignored.push(format!(
                "{name} {} -> {}: the client sent nothing",
                c.client, c.server
            ));
            continue;
        }
        let weir = match Weir::start(runtime) {
            Ok(w) => w,
            Err(e) => {
                let mut f = Findings::default();
                f.fail(format!("weir did not start: {e}"));
                flows.push(FlowReport::new(name, tcp.protocol.to_string(), f));
                continue;
            }
        };
        let mut reports = match tcp.protocol {
            Protocol::Rtsp => {
                let items = rtsp_items::client_items(tcp);
                vec![if rtsp_publish::is_publisher(&items) {
                    rtsp_case::replay_publisher(capture, i, &weir, options, name)
                } else {
                    rtsp_read::replay_reader(capture, i, &weir, options, name)
                }]
            }
            Protocol::Rtmp => vec![rtmp_play::replay_rtmp(capture, i, &weir, options, name)],
            Protocol::Http => match hls::flow_path(capture, i) {
                Some(path) => {
                    // Every HTTP connection fetching the same path is replayed together.
                    let group: Vec<usize> = (i..capture.tcp_flows().len())
                        .filter(|&j| {
                            capture.tcp_flows()[j].protocol == Protocol::Http
                                && hls::flow_path(capture, j).as_deref() == Some(path.as_str())
                        })
                        .collect();
                    hls_done.extend(&group);
                    hls::replay_group(capture, &group, &path, &weir)
                }
                None => vec![FlowReport::not_replayable(
                    name,
                    "HTTP",
                    "no complete HTTP request",
                )],
            },
            Protocol::Unknown => vec![FlowReport::not_replayable(
                name,
                "unknown TCP",
                format!(
                    "{} -> {}: the protocol was not recognised",
                    c.client, c.server
                ),
            )],
        };
        if let Err(e) = weir.stop() {
            for report in &mut reports {
                report.add_failure(format!("weir did not shut down cleanly: {e}"));
            }
        }
        flows.extend(reports);
    }
    for (i, udp) in capture.udp_flows().iter().enumerate() {
        if udp.rtsp.is_some() {
            continue;
        }
        let name = format!("udp#{i}");
        match udp.kind {
            UdpKind::Rtp => match Weir::start(runtime) {
                Ok(weir) => {
                    let mut report = rtp_only::replay_rtp(udp, i, &weir, options);
                    if let Err(e) = weir.stop() {
                        report.add_failure(format!("weir did not shut down cleanly: {e}"));
                    }
                    flows.push(report);
                }
                Err(e) => {
                    let mut f = Findings::default();
                    f.fail(format!("weir did not start: {e}"));
                    flows.push(FlowReport::new(name, "RTP over UDP", f));
                }
            },
            _ => ignored.push(format!(
                "{name} {} -> {}: {} datagrams of {} outside any RTSP session",
                udp.src,
                udp.dst,
                udp.datagrams.len(),
                udp.kind
            )),
        }
    }
    CaseReport {
        runtime,
        flows,
        ignored,
    }
}

/// The differences between two runtimes' reports of the same capture: verdict kinds,
/// reasons and media fingerprints must all be equal.
pub fn compare_runtimes(a: &CaseReport, b: &CaseReport) -> Vec<String> {
    let mut out = Vec::new();
    if a.flows.len() != b.flows.len() {
        out.push(format!(
            "{} replayed {} flows, {} {}",
            a.runtime,
            a.flows.len(),
            b.runtime,
            b.flows.len()
        ));
    }
    for (fa, fb) in a.flows.iter().zip(&b.flows) {
        if fa.verdict != fb.verdict {
            out.push(format!(
                "{}: {} says `{}`, {} says `{}`",
                fa.flow, a.runtime, fa.verdict, b.runtime, fb.verdict
            ));
        }
        if fa.media != fb.media {
            let show = |m: &[MediaDigest]| {
                m.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            out.push(format!(
                "{}: media differ: {} received [{}], {} received [{}]",
                fa.flow,
                a.runtime,
                show(&fa.media),
                b.runtime,
                show(&fb.media)
            ));
        }
    }
    out
}
