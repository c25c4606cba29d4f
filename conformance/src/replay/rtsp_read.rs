//! Replay of an RTSP reader (DESCRIBE, SETUP, PLAY): weir first gets, from the replay's own
//! publisher, what the original server sent that reader (its DESCRIBE answer and RTP); then
//! the reader's requests go to weir in order (SETUP URLs mapped onto weir's control URLs,
//! session ids and UDP client ports rewritten), and the media must reach the replayed reader.

use super::digest::{check_track, wait_for_media, Sequence};
use super::pacing::Pacer;
use super::rtsp_case::MAX_SKIPPED_HEAD;
use super::rtsp_clients::RtspPublisher;
use super::rtsp_conn::{interleave, is_rtcp, rtp_payload, rtp_timestamp, session_id, RtspConn};
use super::rtsp_items::{
    client_items, compare_status, rewrite_request, rewrite_url, server_frames, server_responses,
    ClientItem, Rewrite,
};
use super::sdp::{control_url, media_index, sdp_medias, url_path, SdpMedia};
use super::udp::{UdpPair, UdpReceiver};
use super::{Findings, FlowReport, Options};
use crate::rtsp::parse_transport;
use crate::runtime::Weir;
use crate::Capture;
use std::thread::JoinHandle;
use std::time::Duration;

/// Where a stream the original server served at `/` is replayed.
pub const ROOT_PREFIX: &str = "/replay";

/// One packet the original server sent: (capture time, media section, is RTCP, packet).
type SourcePacket = (Duration, usize, bool, Vec<u8>);

/// What the original server sent the reader, per media section of its DESCRIBE answer.
fn source_media(
    capture: &Capture,
    flow: usize,
    medias: &[SdpMedia],
    base: &str,
) -> Vec<SourcePacket> {
    let tcp = &capture.tcp_flows()[flow];
    let setups = capture.rtsp_setups(flow);
    let mut out = Vec::new();
    for (time, channel, data) in server_frames(tcp) {
        let media = setups.iter().find_map(|s| {
            let (a, b) = s.interleaved?;
            (channel == a || channel == b)
                .then(|| media_index(medias, base, &s.uri).map(|m| (m, channel == b && a != b)))
                .flatten()
        });
        if let Some((m, rtcp)) = media {
            out.push((time, m, rtcp || is_rtcp(&data), data));
        }
    }
    for s in setups {
        let (Some(m), Some((s_rtp, s_rtcp))) = (media_index(medias, base, &s.uri), s.server_port)
        else {
            continue;
        };
        for &u in &s.udp_flows {
            let f = &capture.udp_flows()[u];
            if f.src.port() != s_rtp && f.src.port() != s_rtcp {
                continue;
            }
            for d in &f.datagrams {
                let rtcp = f.src.port() == s_rtcp || is_rtcp(&d.payload);
                out.push((d.timestamp, m, rtcp, d.payload.clone()));
            }
        }
    }
    out.sort_by_key(|p| p.0);
    out
}

/// Where the replayed reader receives one media section.
struct Track {
    /// The original media section (source index).
    media: usize,
    channels: Option<(u8, u8)>,
    udp: Option<UdpReceiver>,
}

/// Sends the source packets through the publisher on a thread.
fn spawn_sender(
    mut publisher: RtspPublisher,
    packets: Vec<SourcePacket>,
    options: Options,
) -> std::io::Result<JoinHandle<std::io::Result<RtspPublisher>>> {
    std::thread::Builder::new()
        .name("rtsp-source".into())
        .spawn(move || {
            let mut pacer = Pacer::new(&options);
            let mut batch = Vec::new();
            for (time, media, rtcp, data) in &packets {
                pacer.wait(*time);
                publisher.queue(*media, *rtcp, data, &mut batch);
                if batch.len() >= 128 * 1024 || options.paced {
                    publisher.send(&batch)?;
                    batch.clear();
                }
            }
            publisher.send(&batch)?;
            Ok(publisher)
        })
}

/// Replays RTSP reader flow `flow` against `weir`.
pub fn replay_reader(
    capture: &Capture,
    flow: usize,
    weir: &Weir,
    options: &Options,
    name: String,
) -> FlowReport {
    let rtsp = weir.addresses().rtsp;
    let tcp = &capture.tcp_flows()[flow];
    let items = client_items(tcp);
    let originals = server_responses(tcp);
    let mut findings = Findings::default();
    let describe = items.iter().find_map(|i| match i {
        ClientItem::Request { message, .. } if message.method() == Some("DESCRIBE") => {
            let answer = originals.get(&message.cseq()?)?;
            (answer.status() == Some(200) && !answer.body.is_empty()).then(|| {
                let url = message.uri().unwrap_or_default().to_string();
                let base = answer
                    .header("Content-Base")
                    .map_or(url.clone(), str::to_string);
                (url, base, answer.body.clone())
            })
        }
        _ => None,
    });
    let mut kind = "RTSP requests".to_string();
    let mut root = false;
    let mut publisher = None;
    let mut source = Vec::new();
    let mut orig_medias = Vec::new();
    let mut orig_base = String::new();
    if let Some((url, base, sdp)) = &describe {
        kind = "RTSP read".into();
        orig_medias = sdp_medias(sdp);
        orig_base = base.clone();
        source = source_media(capture, flow, &orig_medias, base);
        let mut path = url_path(url)
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        if path.trim_matches('/').is_empty() {
            findings.known(format!(
                "the original server serves its stream at the root path `/`; weir path names \
                 cannot be empty (as MediaMTX's), so the replay publishes and reads it at \
                 `{ROOT_PREFIX}`"
            ));
            path = ROOT_PREFIX.to_string();
            root = true;
        }
        match RtspPublisher::start(rtsp, &path, sdp) {
            Ok(p) => publisher = Some(p),
            Err(e) => {
                findings.fail(format!(
                    "publishing the original server's session description failed: {e}"
                ));
                return FlowReport::new(name, kind, findings);
            }
        }
    } else {
        findings.note("no successful DESCRIBE in the capture: requests replayed, no media");
    }
    let mut sent = vec![Sequence::default(); orig_medias.len()];
    for (_, m, rtcp, data) in &source {
        if !rtcp {
            if let Some(p) = rtp_payload(data) {
                sent[*m].push_unit(p, rtp_timestamp(data));
            }
        }
    }
    let mut conn = match RtspConn::connect(rtsp) {
        Ok(c) => c,
        Err(e) => {
            findings.fail(format!("cannot connect to weir's RTSP server: {e}"));
            return FlowReport::new(name, kind, findings);
        }
    };
    let mut rewrite = Rewrite {
        authority: rtsp.to_string(),
        path_prefix: if root {
            ROOT_PREFIX.to_string()
        } else {
            String::new()
        },
        ..Rewrite::default()
    };
    let mut weir_medias: Vec<SdpMedia> = Vec::new();
    let mut weir_base = String::new();
    let mut tracks: Vec<Track> = Vec::new();
    let mut received = vec![Sequence::default(); orig_medias.len()];
    let mut sender: Option<JoinHandle<std::io::Result<RtspPublisher>>> = None;
    let mut pacer = Pacer::new(options);
    let mut udp_any = false;
    let mut collected = false;
    let last_request = items
        .iter()
        .rposition(|i| matches!(i, ClientItem::Request { .. }));
    for (n, item) in items.into_iter().enumerate() {
        pacer.wait(item.time());
        let (message, raw) = match item {
            ClientItem::Request { message, raw, .. } => (message, raw),
            ClientItem::Frame { channel, data, .. } => {
                // A reader's RTCP receiver reports: forwarded as they are.
                let mut b = Vec::new();
                interleave(channel, &data, &mut b);
                let _ = conn.send(&b);
                continue;
            }
        };
        let method = message.method().unwrap_or_default().to_string();
        // The media must have arrived before the reader leaves (its TEARDOWN, or its last
        // request); keep-alives on the way go out at once.
        if sender.is_some() && !collected && (method == "TEARDOWN" || Some(n) == last_request) {
            collect(&mut conn, &tracks, &sent, &mut received, &mut findings);
            collected = true;
        }
        let mut rw = rewrite.clone();
        let mut pair = None;
        let mut setup_media = None;
        if method == "SETUP" {
            let uri = message.uri().unwrap_or_default();
            setup_media = media_index(&orig_medias, &orig_base, uri);
            if let Some(m) = setup_media.filter(|&m| m < weir_medias.len()) {
                rw.url = Some(control_url(&weir_base, weir_medias[m].control.as_deref()));
            }
            let spec = message
                .header("Transport")
                .and_then(|t| parse_transport(t).into_iter().next())
                .unwrap_or_default();
            if spec.client_port.is_some() && spec.interleaved.is_none() {
                match UdpPair::bind().and_then(|p| Ok((p.ports()?, p))) {
                    Ok((ports, p)) => {
                        rw.client_ports = Some(ports);
                        pair = Some(p);
                        udp_any = true;
                    }
                    Err(e) => {
                        findings.fail(format!("cannot bind local UDP ports: {e}"));
                        break;
                    }
                }
            }
        }
        if let Err(e) = conn.send(&rewrite_request(&raw, &rw)) {
            findings.fail(format!("{method}: sending failed: {e}"));
            break;
        }
        let answer = match conn.response(Duration::from_secs(5)) {
            Ok(a) => a,
            Err(e) => {
                findings.fail(format!("{method}: {e}"));
                break;
            }
        };
        let status = answer.status().unwrap_or(0);
        let original = message
            .cseq()
            .and_then(|c| originals.get(&c))
            .and_then(|m| m.status());
        compare_status(&message, original, status, &mut findings);
        if let Some(s) = answer.header("Session") {
            rewrite.session = Some(session_id(s).to_string());
        }
        let success = (200..300).contains(&status);
        match method.as_str() {
            "DESCRIBE" if success => {
                weir_medias = sdp_medias(&answer.body);
                weir_base = answer.header("Content-Base").map_or_else(
                    || {
                        let authority = format!("{}{}", rewrite.authority, rewrite.path_prefix);
                        rewrite_url(message.uri().unwrap_or_default(), &authority)
                    },
                    str::to_string,
                );
                if weir_medias.len() != orig_medias.len() {
                    findings.fail(format!(
                        "weir describes {} media sections, the original server {}",
                        weir_medias.len(),
                        orig_medias.len()
                    ));
                }
            }
            "SETUP" if success => {
                let granted = answer
                    .header("Transport")
                    .and_then(|t| parse_transport(t).into_iter().next())
                    .unwrap_or_default();
                let udp = match pair {
                    Some(p) => match UdpReceiver::start(p.rtp) {
                        Ok(r) => Some(r),
                        Err(e) => {
                            findings.fail(format!("cannot receive on the local UDP port: {e}"));
                            None
                        }
                    },
                    None => None,
                };
                if let Some(m) = setup_media {
                    tracks.push(Track {
                        media: m,
                        channels: granted.interleaved,
                        udp,
                    });
                }
            }
            "PLAY" if success && sender.is_none() => {
                if let Some(p) = publisher.take() {
                    match spawn_sender(p, std::mem::take(&mut source), *options) {
                        Ok(s) => sender = Some(s),
                        Err(e) => findings.fail(format!("cannot start the source: {e}")),
                    }
                }
            }
            _ => {}
        }
    }
    if sender.is_some() && !collected {
        collect(&mut conn, &tracks, &sent, &mut received, &mut findings);
    }
    if let Some(s) = sender {
        match s.join() {
            Ok(Ok(p)) => publisher = Some(p),
            Ok(Err(e)) => findings.fail(format!("the source publisher failed: {e}")),
            Err(_) => findings.fail("the source publisher panicked"),
        }
    }
    for t in &mut tracks {
        if let Some(r) = t.udp.take() {
            match r.finish() {
                Ok(seq) => received[t.media] = seq,
                Err(e) => findings.fail(format!("receiving over UDP failed: {e}")),
            }
        }
    }
    drop(conn);
    if let Some(p) = publisher {
        let _ = p.teardown();
    }
    let mut media = Vec::new();
    if describe.is_some() {
        kind = format!("RTSP read ({})", if udp_any { "UDP" } else { "TCP" });
        let played: Vec<usize> = tracks.iter().map(|t| t.media).collect();
        if sent.iter().all(Sequence::is_empty) {
            findings.note(
                "the capture holds none of the media the original server sent: answers \
                 checked, media not",
            );
        }
        for (i, m) in orig_medias.iter().enumerate() {
            if !played.contains(&i) || sent[i].is_empty() {
                continue;
            }
            let label = format!("track {i} ({})", m.label());
            check_track(
                &label,
                &sent[i],
                &received[i],
                MAX_SKIPPED_HEAD,
                &mut findings,
            );
            media.push(received[i].digest(&label));
        }
    }
    let mut report = FlowReport::new(name, kind, findings);
    report.media = media;
    report
}

/// Receives on the replayed reader's connection (and UDP ports) until every played track got
/// what the source sent, nothing arrives for 2 s, or 30 s pass.
fn collect(
    conn: &mut RtspConn,
    tracks: &[Track],
    sent: &[Sequence],
    received: &mut [Sequence],
    findings: &mut Findings,
) {
    let expected: Vec<&Sequence> = tracks.iter().map(|t| &sent[t.media]).collect();
    let cell = std::cell::RefCell::new((conn, &mut *received, None::<String>));
    let counts = || {
        let mut guard = cell.borrow_mut();
        let (conn, received, error) = &mut *guard;
        if error.is_none() {
            if let Err(e) = conn.pump(Duration::from_millis(5)) {
                *error = Some(e.to_string());
            }
        }
        for (channel, data) in conn.take_frames() {
            let track = tracks
                .iter()
                .find(|t| t.channels.is_some_and(|(a, b)| channel == a && a != b));
            if let (Some(t), false) = (track, is_rtcp(&data)) {
                if let Some(p) = rtp_payload(&data) {
                    received[t.media].push(p);
                }
            }
        }
        tracks
            .iter()
            .map(|t| match &t.udp {
                Some(u) => u.progress(),
                None => received[t.media].progress(),
            })
            .collect()
    };
    wait_for_media(
        counts,
        &expected,
        Duration::from_secs(2),
        Duration::from_secs(30),
    );
    if let Some(e) = cell.into_inner().2 {
        findings.fail(format!("reading the media failed: {e}"));
    }
}
