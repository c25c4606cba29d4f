//! Replay of an RTSP publisher (ANNOUNCE, SETUP, RECORD, then media): the client's requests
//! go to weir in order, rewritten for a live replay (URL authority, session id, UDP client
//! ports), each answer's status checked against the original server's; then the captured RTP
//! goes out (interleaved frames, or the datagrams of the UDP flows its SETUPs negotiated).

use super::digest::Sequence;
use super::pacing::Pacer;
use super::rtsp_conn::{interleave, is_rtcp, rtp_payload, rtp_timestamp, session_id, RtspConn};
use super::rtsp_items::{client_items, compare_status, server_responses, ClientItem, Rewrite};
use super::sdp::{media_index, sdp_medias, url_path, SdpMedia};
use super::udp::{send_datagram, UdpPair};
use super::{Findings, Options};
use crate::rtsp::parse_transport;
use crate::Capture;
use std::net::SocketAddr;
use std::time::Duration;

/// What the replayed publisher sent, per media section of its ANNOUNCE.
#[derive(Clone, Debug, Default)]
pub struct SentMedia {
    /// The path published (URL path without the query).
    pub path: String,
    /// The announced media sections.
    pub medias: Vec<SdpMedia>,
    /// The RTP payloads sent on each.
    pub tracks: Vec<Sequence>,
}

/// Called at the replay's turning points.
pub trait PublishHooks {
    /// RECORD succeeded on `path`: nothing has been sent yet.
    fn recording(&mut self, path: &str, findings: &mut Findings);
    /// The last media packet went out; the client's remaining requests (TEARDOWN) follow.
    fn media_sent(&mut self, sent: &SentMedia, findings: &mut Findings);
}

/// Whether a captured RTSP connection is a publisher's (it sent ANNOUNCE or RECORD).
pub fn is_publisher(items: &[ClientItem]) -> bool {
    items.iter().any(|i| {
        matches!(i, ClientItem::Request { message, .. }
            if matches!(message.method(), Some("ANNOUNCE") | Some("RECORD")))
    })
}

/// One thing to send, in capture-time order.
enum Step {
    Tcp(ClientItem),
    /// A datagram of the SETUP of `uri`: RTCP or RTP, its payload.
    Udp {
        time: Duration,
        uri: String,
        rtcp: bool,
        data: Vec<u8>,
    },
}

impl Step {
    fn time(&self) -> Duration {
        match self {
            Step::Tcp(i) => i.time(),
            Step::Udp { time, .. } => *time,
        }
    }

    fn is_media(&self) -> bool {
        matches!(self, Step::Udp { .. } | Step::Tcp(ClientItem::Frame { .. }))
    }
}

/// The timeline: the TCP items and the client's datagrams of every SETUP, merged by time.
fn timeline(capture: &Capture, flow: usize, items: Vec<ClientItem>) -> Vec<Step> {
    let client = capture.tcp_flows()[flow].connection.client;
    let mut udp: Vec<Step> = Vec::new();
    for setup in capture.rtsp_setups(flow) {
        let Some((c_rtp, c_rtcp)) = setup.client_port else {
            continue;
        };
        for &u in &setup.udp_flows {
            let f = &capture.udp_flows()[u];
            // The client's datagrams: sent from a client port, from the RTSP client's side.
            let from_client = (f.src.port() == c_rtp || f.src.port() == c_rtcp)
                && (f.src.ip() == client.ip() || f.dst.ip() != client.ip());
            if !from_client {
                continue;
            }
            for d in &f.datagrams {
                udp.push(Step::Udp {
                    time: d.timestamp,
                    uri: setup.uri.clone(),
                    rtcp: f.src.port() == c_rtcp && c_rtcp != c_rtp,
                    data: d.payload.clone(),
                });
            }
        }
    }
    udp.sort_by_key(Step::time);
    let mut out = Vec::with_capacity(items.len() + udp.len());
    let mut udp = udp.into_iter().peekable();
    for item in items {
        while udp.peek().is_some_and(|u| u.time() < item.time()) {
            out.extend(udp.next());
        }
        out.push(Step::Tcp(item));
    }
    out.extend(udp);
    out
}

/// A SETUP as replayed: its media section and how its media reaches weir.
#[derive(Debug, Default)]
struct Setup {
    /// The request URI as captured.
    uri: String,
    media: Option<usize>,
    /// Captured channels → weir's.
    channels: Option<((u8, u8), (u8, u8))>,
    udp: Option<UdpPair>,
    server: Option<(SocketAddr, SocketAddr)>,
}

/// Replays publisher flow `flow` of `capture` against weir's RTSP server at `rtsp`.
pub fn replay(
    capture: &Capture,
    flow: usize,
    rtsp: SocketAddr,
    options: &Options,
    hooks: &mut dyn PublishHooks,
    findings: &mut Findings,
) -> SentMedia {
    let tcp = &capture.tcp_flows()[flow];
    let items = client_items(tcp);
    let originals = server_responses(tcp);
    let steps = timeline(capture, flow, items);
    let last_media = steps.iter().rposition(Step::is_media);
    let mut sent = SentMedia::default();
    let mut conn = match RtspConn::connect(rtsp) {
        Ok(c) => c,
        Err(e) => {
            findings.fail(format!("cannot connect to weir's RTSP server: {e}"));
            return sent;
        }
    };
    let mut rewrite = Rewrite {
        authority: rtsp.to_string(),
        ..Rewrite::default()
    };
    let mut announce_url = String::new();
    let mut setups: Vec<Setup> = Vec::new();
    let mut pacer = Pacer::new(options);
    let mut batch: Vec<u8> = Vec::new();
    let mut skip_retry: Option<String> = None;
    let mut datagrams = 0usize;
    let mut done_media = last_media.is_none();
    for (n, step) in steps.into_iter().enumerate() {
        pacer.wait(step.time());
        match step {
            Step::Tcp(ClientItem::Frame { channel, data, .. }) => {
                let mapped = setups.iter().find_map(|s| {
                    let ((a, b), (wa, wb)) = s.channels?;
                    let media = s.media?;
                    (channel == a || channel == b).then_some((
                        media,
                        if channel == a { wa } else { wb },
                        channel == b && a != b,
                    ))
                });
                match mapped {
                    Some((media, weir_channel, rtcp)) => {
                        if let (false, false, Some(p), Some(t)) = (
                            rtcp,
                            is_rtcp(&data),
                            rtp_payload(&data),
                            sent.tracks.get_mut(media),
                        ) {
                            t.push_unit(p, rtp_timestamp(&data));
                        }
                        interleave(weir_channel, &data, &mut batch);
                    }
                    None => interleave(channel, &data, &mut batch),
                }
                if batch.len() >= 256 * 1024 || options.paced {
                    if let Err(e) = conn.send(&batch) {
                        findings.fail(format!("sending interleaved media failed: {e}"));
                        return sent;
                    }
                    batch.clear();
                }
            }
            Step::Udp {
                uri, rtcp, data, ..
            } => {
                // The last SETUP of that URI (a retried one replaces its first attempt).
                let Some(s) = setups.iter().rev().find(|s| s.uri == uri) else {
                    continue;
                };
                let (Some(pair), Some((to_rtp, to_rtcp)), Some(media)) =
                    (&s.udp, s.server, s.media)
                else {
                    continue;
                };
                let (socket, to) = if rtcp || is_rtcp(&data) {
                    (&pair.rtcp, to_rtcp)
                } else {
                    if let (Some(p), Some(t)) = (rtp_payload(&data), sent.tracks.get_mut(media)) {
                        t.push_unit(p, rtp_timestamp(&data));
                    }
                    (&pair.rtp, to_rtp)
                };
                if let Err(e) = send_datagram(socket, &data, to) {
                    findings.fail(format!("sending a datagram failed: {e}"));
                    return sent;
                }
                datagrams += 1;
                if !options.paced && datagrams % 16 == 0 {
                    // As fast as weir's socket buffer allows without drops.
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            Step::Tcp(ClientItem::Request { message, raw, .. }) => {
                if !batch.is_empty() {
                    if let Err(e) = conn.send(&batch) {
                        findings.fail(format!("sending interleaved media failed: {e}"));
                        return sent;
                    }
                    batch.clear();
                }
                let method = message.method().unwrap_or_default().to_string();
                if skip_retry.as_deref() == Some(method.as_str()) {
                    skip_retry = None;
                    findings.note(format!("{method} retried with credentials: not replayed"));
                    continue;
                }
                let mut rw = rewrite.clone();
                let mut udp_pair = None;
                if method == "SETUP" {
                    let spec = message
                        .header("Transport")
                        .and_then(|t| parse_transport(t).into_iter().next())
                        .unwrap_or_default();
                    if spec.client_port.is_some() && spec.interleaved.is_none() {
                        match UdpPair::bind().and_then(|p| Ok((p.ports()?, p))) {
                            Ok((ports, pair)) => {
                                rw.client_ports = Some(ports);
                                udp_pair = Some(pair);
                            }
                            Err(e) => {
                                findings.fail(format!("cannot bind local UDP ports: {e}"));
                                return sent;
                            }
                        }
                    }
                }
                if let Err(e) = conn.send(&super::rtsp_items::rewrite_request(&raw, &rw)) {
                    findings.fail(format!("{method}: sending failed: {e}"));
                    return sent;
                }
                let answer = match conn.response(Duration::from_secs(5)) {
                    Ok(a) => a,
                    Err(e) => {
                        findings.fail(format!("{method}: {e}"));
                        return sent;
                    }
                };
                let status = answer.status().unwrap_or(0);
                let original = message
                    .cseq()
                    .and_then(|c| originals.get(&c))
                    .and_then(|m| m.status());
                compare_status(&message, original, status, findings);
                if original == Some(401) && (200..300).contains(&status) {
                    skip_retry = Some(method.clone());
                }
                if answer.cseq() != message.cseq() {
                    findings.fail(format!(
                        "{method}: weir's answer carries CSeq {:?}, the request {:?}",
                        answer.cseq(),
                        message.cseq()
                    ));
                }
                if let Some(s) = answer.header("Session") {
                    rewrite.session = Some(session_id(s).to_string());
                }
                let success = (200..300).contains(&status);
                match method.as_str() {
                    "ANNOUNCE" if success => {
                        announce_url = message.uri().unwrap_or_default().to_string();
                        sent.path = url_path(&announce_url)
                            .split('?')
                            .next()
                            .unwrap_or_default()
                            .to_string();
                        sent.medias = sdp_medias(&message.body);
                        sent.tracks = vec![Sequence::default(); sent.medias.len()];
                    }
                    "SETUP" => {
                        let uri = message.uri().unwrap_or_default();
                        let asked = message
                            .header("Transport")
                            .and_then(|t| parse_transport(t).into_iter().next())
                            .unwrap_or_default();
                        let granted = answer
                            .header("Transport")
                            .and_then(|t| parse_transport(t).into_iter().next())
                            .unwrap_or_default();
                        let channels = asked
                            .interleaved
                            .map(|a| (a, granted.interleaved.unwrap_or(a)));
                        let server = granted.server_port.map(|(rtp, rtcp)| {
                            (
                                SocketAddr::new(rtsp.ip(), rtp),
                                SocketAddr::new(rtsp.ip(), rtcp),
                            )
                        });
                        if udp_pair.is_some() && server.is_none() && success {
                            findings.fail("SETUP over UDP: weir's Transport has no server_port");
                        }
                        setups.push(Setup {
                            uri: uri.to_string(),
                            media: media_index(&sent.medias, &announce_url, uri),
                            channels,
                            udp: udp_pair,
                            server,
                        });
                    }
                    "RECORD" if success => hooks.recording(&sent.path, findings),
                    _ => {}
                }
            }
        }
        if !done_media && Some(n) == last_media {
            if !batch.is_empty() {
                if let Err(e) = conn.send(&batch) {
                    findings.fail(format!("sending interleaved media failed: {e}"));
                    return sent;
                }
                batch.clear();
            }
            done_media = true;
            hooks.media_sent(&sent, findings);
        }
    }
    if !batch.is_empty() {
        let _ = conn.send(&batch);
    }
    findings.note(format!(
        "sent {} RTP packets over {} ({} tracks)",
        sent.tracks.iter().map(Sequence::len).sum::<usize>(),
        if setups.iter().any(|s| s.udp.is_some()) {
            "UDP"
        } else {
            "TCP"
        },
        sent.medias.len()
    ));
    sent
}
