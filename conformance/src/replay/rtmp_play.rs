//! RTMP flows as cases: publishers go to [`super::rtmp_publish`]; a player's capture is
//! replayed by first publishing into weir what the original server sent it (metadata,
//! sequence headers, media), then replaying the player's stream (handshake redone, stream id
//! mapped) and checking that the FLV tag bodies reach it.

use super::pacing::Pacer;
use super::rtmp_client::{start_publishing, RtmpConn, RtmpPlayer, RtmpReceived};
use super::rtmp_compare::{commands, compare_answers};
use super::rtmp_publish::{
    compare_bodies, replay_publisher, try_attach, CapturedRtmp, ClientReplay, RtmpRole, SentBodies,
};
use super::rtmp_stream::{types, CHUNKS_START};
use super::{Findings, FlowReport, Options};
use crate::runtime::Weir;
use crate::Capture;
use std::time::Duration;
use weir_core::rtmp::Amf0Value;

/// Replays RTMP flow `flow` of `capture` against `weir`.
pub fn replay_rtmp(
    capture: &Capture,
    flow: usize,
    weir: &Weir,
    options: &Options,
    name: String,
) -> FlowReport {
    let cap = CapturedRtmp::read(&capture.tcp_flows()[flow]);
    if cap.client.len() < CHUNKS_START {
        return FlowReport::not_replayable(
            name,
            "RTMP",
            format!(
                "the capture holds {} bytes of the client's stream, less than its handshake",
                cap.client.len()
            ),
        );
    }
    let rtmp = weir.addresses().rtmp;
    match cap.role {
        RtmpRole::Publish(..) => replay_publisher(&cap, rtmp, options, name),
        RtmpRole::Play(..) => replay_player(&cap, weir, options, name),
        RtmpRole::Other => {
            let mut findings = Findings::default();
            let mut conn = match RtmpConn::connect(rtmp) {
                Ok(c) => c,
                Err(e) => {
                    findings.fail(format!("cannot connect to weir's RTMP server: {e}"));
                    return FlowReport::new(name, "RTMP", findings);
                }
            };
            if let Some(mut replay) = ClientReplay::start(&cap, &mut conn, options, &mut findings) {
                for i in 0..cap.client_msgs.messages.len() {
                    replay.send(i, &mut conn, &mut findings);
                }
            }
            conn.drain();
            let weir_cmds = commands(conn.kept().iter());
            compare_answers(
                &cap.client_commands(),
                &cap.server_commands(),
                &weir_cmds,
                &mut findings,
            );
            FlowReport::new(name, "RTMP (neither publish nor play)", findings)
        }
    }
}

/// The original server's media messages to the player: (capture time, type, timestamp, body).
fn source(cap: &CapturedRtmp) -> Vec<(Duration, u8, u32, Vec<u8>)> {
    cap.server_msgs
        .messages
        .iter()
        .filter(|m| m.raw.stream_id != 0 || matches!(m.raw.type_id, types::AUDIO | types::VIDEO))
        .filter(|m| {
            matches!(
                m.raw.type_id,
                types::AUDIO | types::VIDEO | types::DATA_AMF0
            )
        })
        .map(|m| (m.time, m.raw.type_id, m.raw.timestamp, m.raw.body.to_vec()))
        .collect()
}

/// `onMetaData` as a publisher sends it: `@setDataFrame` first.
fn set_data_frame(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = Amf0Value::String("@setDataFrame".into()).write(&mut out);
    out.extend_from_slice(body);
    out
}

fn replay_player(cap: &CapturedRtmp, weir: &Weir, options: &Options, name: String) -> FlowReport {
    let rtmp = weir.addresses().rtmp;
    let mut findings = Findings::default();
    let RtmpRole::Play(stream, play_at) = cap.role.clone() else {
        return FlowReport::not_replayable(name, "RTMP play", "no play command");
    };
    let source = source(cap);
    if !source
        .iter()
        .any(|s| matches!(s.1, types::AUDIO | types::VIDEO))
    {
        return FlowReport::not_replayable(
            name,
            "RTMP play",
            "the original server sent the player no media: there is nothing to publish",
        );
    }
    let (mut publisher, sid) = match start_publishing(rtmp, &cap.app, &stream) {
        Ok(p) => p,
        Err(e) => {
            findings.fail(format!(
                "publishing the original server's media failed: {e}"
            ));
            return FlowReport::new(name, "RTMP play", findings);
        }
    };
    // Metadata and sequence headers, then media until a checking player can attach (the
    // stream exists once weir knows its tracks).
    let mut sent = SentBodies::default();
    let mut next = 0;
    let mut attempts = 0;
    let publish = move |p: &mut RtmpConn, s: &(Duration, u8, u32, Vec<u8>)| match s.1 {
        types::DATA_AMF0 => p.send(4, s.2, s.1, sid, &set_data_frame(&s.3)),
        types::AUDIO => p.send(4, s.2, s.1, sid, &s.3),
        _ => p.send(6, s.2, s.1, sid, &s.3),
    };
    let mut probe: Option<RtmpPlayer> = None;
    while next < source.len() && probe.is_none() {
        if let Err(e) = publish(&mut publisher, &source[next]) {
            findings.fail(format!("publishing failed: {e}"));
            return FlowReport::new(name, "RTMP play", findings);
        }
        sent.take(source[next].1, &source[next].3);
        next += 1;
        if matches!(source[next - 1].1, types::AUDIO | types::VIDEO) {
            probe = try_attach(rtmp, &cap.app, &stream, &mut attempts);
        }
    }
    drop(probe);
    // The player's own stream.
    let mut conn = match RtmpConn::connect(rtmp) {
        Ok(c) => c,
        Err(e) => {
            findings.fail(format!("cannot connect to weir's RTMP server: {e}"));
            return FlowReport::new(name, "RTMP play", findings);
        }
    };
    let mut received = RtmpReceived::default();
    let Some(mut replay) = ClientReplay::start(cap, &mut conn, options, &mut findings) else {
        return FlowReport::new(name, "RTMP play", findings);
    };
    let msgs = &cap.client_msgs.messages;
    let mut i = 0;
    let mut playing = false;
    while i < msgs.len() && !playing {
        let answer = replay.send(i, &mut conn, &mut findings);
        playing = i == play_at;
        if playing && answer.as_ref().and_then(|a| a.status_code()) != Some("NetStream.Play.Start")
        {
            findings.fail(format!(
                "play {}/{stream}: weir did not start playing",
                cap.app
            ));
        }
        i += 1;
    }
    // The rest of the source, on a thread, while the player receives.
    let rest: Vec<_> = source[next..].to_vec();
    let options = *options;
    let sender = std::thread::spawn(move || -> std::io::Result<RtmpConn> {
        let mut pacer = Pacer::new(&options);
        for s in &rest {
            pacer.wait(s.0);
            publish(&mut publisher, s)?;
        }
        Ok(publisher)
    });
    for s in &source[next..] {
        sent.take(s.1, &s.3);
    }
    let early = conn.kept();
    for m in &early {
        received.take_message(m);
    }
    let cell = std::cell::RefCell::new((&mut conn, &mut received, None::<String>));
    super::digest::wait_for_media(
        || {
            let mut guard = cell.borrow_mut();
            let (conn, received, error) = &mut *guard;
            while error.is_none() {
                match conn.next(Duration::from_millis(5)) {
                    Ok(Some(m)) => received.take_message(&m),
                    Ok(None) => break,
                    Err(e) => *error = Some(e.to_string()),
                }
            }
            vec![received.video.progress(), received.audio.progress()]
        },
        &[&sent.video, &sent.audio],
        Duration::from_secs(2),
        Duration::from_secs(30),
    );
    if let Some(e) = cell.into_inner().2 {
        findings.fail(format!("the replayed player's stream broke: {e}"));
    }
    let publisher = match sender.join() {
        Ok(Ok(p)) => Some(p),
        Ok(Err(e)) => {
            findings.fail(format!("publishing the source failed: {e}"));
            None
        }
        Err(_) => None,
    };
    while i < msgs.len() {
        replay.send(i, &mut conn, &mut findings);
        i += 1;
    }
    conn.drain();
    drop(publisher);
    let weir_cmds = commands(early.iter().chain(conn.kept().iter()));
    compare_answers(
        &cap.client_commands(),
        &cap.server_commands(),
        &weir_cmds,
        &mut findings,
    );
    let media = compare_bodies(&sent, &received, &mut findings);
    let mut report = FlowReport::new(name, "RTMP play", findings);
    report.media = media;
    report
}
