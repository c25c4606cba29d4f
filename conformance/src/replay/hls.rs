//! Replay of HTTP (HLS) fetches: an HLS fetch is live, so it is replayed at the capture's
//! pace, together with the capture's own publisher of that path (RTSP or RTMP), if it has
//! one: the publisher's replay and every HTTP connection of the path run side by side on one
//! clock, each request sent at its capture time and its status checked against the original
//! server's. Without a publisher in the capture the fetch is not replayable.

use super::http::{parse_stream, HttpConn, HttpMessage};
use super::rtmp_publish::{publish, CapturedRtmp, RtmpRole};
use super::rtsp_items::client_items;
use super::rtsp_publish::{self, is_publisher, PublishHooks, SentMedia};
use super::sdp::url_path;
use super::{Findings, FlowReport, Options};
use crate::flows::Protocol;
use crate::rtsp::RtspItem;
use crate::runtime::Weir;
use crate::Capture;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The stream path an HLS request names: its directory (`/live/cam/index.m3u8` → `live/cam`).
pub fn hls_path(target: &str) -> String {
    let path = target
        .split('?')
        .next()
        .unwrap_or_default()
        .trim_matches('/');
    match path.rsplit_once('/') {
        Some((dir, file)) if file.contains('.') => dir.to_string(),
        _ if path.contains('.') => String::new(),
        _ => path.to_string(),
    }
}

/// The HLS path HTTP flow `flow` fetches (from its first request), if it has a request.
pub fn flow_path(capture: &Capture, flow: usize) -> Option<String> {
    let requests = parse_stream(&capture.tcp_flows()[flow].connection.client_to_server, None);
    Some(hls_path(requests.first()?.target()?))
}

/// A publisher of a path among a capture's flows.
enum Source {
    Rtsp(usize),
    Rtmp(usize),
}

/// The capture's publisher of `path`, if any.
fn find_source(capture: &Capture, path: &str) -> Option<Source> {
    capture
        .tcp_flows()
        .iter()
        .enumerate()
        .find_map(|(j, f)| match f.protocol {
            Protocol::Rtsp => {
                if !is_publisher(&client_items(f)) {
                    return None;
                }
                f.client_rtsp().iter().find_map(|i| match i {
                    RtspItem::Message(m) if m.method() == Some("ANNOUNCE") => {
                        let p = url_path(m.uri()?)
                            .split('?')
                            .next()?
                            .trim_matches('/')
                            .to_string();
                        (p == path).then_some(Source::Rtsp(j))
                    }
                    _ => None,
                })
            }
            Protocol::Rtmp => {
                let cap = CapturedRtmp::read(f);
                match &cap.role {
                    RtmpRole::Publish(stream, _) if format!("{}/{stream}", cap.app) == path => {
                        Some(Source::Rtmp(j))
                    }
                    _ => None,
                }
            }
            _ => None,
        })
}

/// One HTTP connection to replay.
struct Fetch {
    name: String,
    requests: Vec<HttpMessage>,
    responses: Vec<HttpMessage>,
}

/// The causal order of every request of a group: a request waits for the replayed answers of
/// all requests whose original answer was complete before it was sent (a client that fetched
/// a segment after reading a playlist on another connection does so in the replay too).
struct Schedule {
    /// Per request, in (fetch, request) order: when its original answer was complete.
    answered: Vec<Vec<Option<Duration>>>,
    /// Per request: replayed (answered, failed, or given up).
    done: Mutex<Vec<Vec<bool>>>,
    changed: Condvar,
}

impl Schedule {
    fn new(fetches: &[Fetch]) -> Schedule {
        let answered: Vec<Vec<Option<Duration>>> = fetches
            .iter()
            .map(|f| {
                (0..f.requests.len())
                    .map(|i| f.responses.get(i).map(|r| r.end))
                    .collect()
            })
            .collect();
        let done = answered.iter().map(|a| vec![false; a.len()]).collect();
        Schedule {
            answered,
            done: Mutex::new(done),
            changed: Condvar::new(),
        }
    }

    /// Waits (at most 15 s) until every request answered before `time` was replayed.
    fn wait_before(&self, time: Duration) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let Ok(mut done) = self.done.lock() else {
            return;
        };
        loop {
            let ready = self.answered.iter().zip(done.iter()).all(|(a, d)| {
                a.iter()
                    .zip(d)
                    .all(|(end, d)| *d || end.is_none_or(|e| e >= time))
            });
            let now = Instant::now();
            if ready || now >= deadline {
                return;
            }
            match self.changed.wait_timeout(done, deadline - now) {
                Ok((d, _)) => done = d,
                Err(_) => return,
            }
        }
    }

    /// Marks the requests of fetch `f` in `range` as replayed.
    fn mark(&self, f: usize, range: std::ops::Range<usize>) {
        if let Ok(mut done) = self.done.lock() {
            for d in done[f].iter_mut().skip(range.start).take(range.len()) {
                *d = true;
            }
        }
        self.changed.notify_all();
    }
}

/// Replays HTTP flows `flows` of `capture` (all fetching `path`) against `weir`: one report
/// per flow, in the order given.
pub fn replay_group(
    capture: &Capture,
    flows: &[usize],
    path: &str,
    weir: &Weir,
) -> Vec<FlowReport> {
    let fetches: Vec<Fetch> = flows
        .iter()
        .map(|&f| {
            let c = &capture.tcp_flows()[f].connection;
            let requests = parse_stream(&c.client_to_server, None);
            let methods: Vec<String> = requests
                .iter()
                .map(|r| r.method().unwrap_or_default().to_string())
                .collect();
            let responses = parse_stream(&c.server_to_client, Some(&methods));
            Fetch {
                name: format!("tcp#{f}"),
                requests,
                responses,
            }
        })
        .collect();
    let Some(source) = find_source(capture, path) else {
        return fetches
            .into_iter()
            .map(|f| {
                FlowReport::not_replayable(
                    f.name,
                    "HLS fetch",
                    format!(
                        "no media source in capture: none of its flows publishes `/{path}`, so \
                         weir would have nothing to serve"
                    ),
                )
            })
            .collect();
    };
    let source_flow = match source {
        Source::Rtsp(j) | Source::Rtmp(j) => j,
    };
    // One clock for the publisher and every fetch, a moment from now.
    let first = flows
        .iter()
        .chain([&source_flow])
        .map(|&f| capture.tcp_flows()[f].connection.first)
        .min()
        .unwrap_or_default();
    let origin = (first, Instant::now() + Duration::from_millis(50));
    let options = Options::paced_from(origin);
    let hls = weir.addresses().hls;
    let schedule = Arc::new(Schedule::new(&fetches));
    let threads: Vec<_> = fetches
        .into_iter()
        .enumerate()
        .map(|(k, f)| {
            let schedule = schedule.clone();
            std::thread::spawn(move || {
                let mut findings = Findings::default();
                replay_requests(&f, k, &schedule, hls, origin, &mut findings);
                schedule.mark(k, 0..f.requests.len());
                (f.name, findings)
            })
        })
        .collect();
    let mut source_findings = Findings::default();
    match source {
        Source::Rtsp(j) => {
            struct NoHooks;
            impl PublishHooks for NoHooks {
                fn recording(&mut self, _: &str, _: &mut Findings) {}
                fn media_sent(&mut self, _: &SentMedia, _: &mut Findings) {}
            }
            let rtsp = weir.addresses().rtsp;
            rtsp_publish::replay(
                capture,
                j,
                rtsp,
                &options,
                &mut NoHooks,
                &mut source_findings,
            );
        }
        Source::Rtmp(j) => {
            let cap = CapturedRtmp::read(&capture.tcp_flows()[j]);
            let rtmp = weir.addresses().rtmp;
            publish(
                &cap,
                rtmp,
                &options,
                &mut source_findings,
                false,
                &mut |_| {},
            );
        }
    }
    threads
        .into_iter()
        .map(|t| {
            let (name, mut findings) = match t.join() {
                Ok(r) => r,
                Err(_) => {
                    let mut f = Findings::default();
                    f.fail("the fetch thread panicked");
                    ("tcp#?".into(), f)
                }
            };
            for f in &source_findings.failures {
                findings.fail(format!(
                    "publishing the stream (tcp#{source_flow}) failed: {f}"
                ));
            }
            findings.note(format!(
                "replayed at the capture's pace with its publisher tcp#{source_flow}"
            ));
            FlowReport::new(name, "HLS fetch", findings)
        })
        .collect()
}

/// The request's head with its Host header naming weir.
fn rewrite_host(req: &HttpMessage, hls: SocketAddr) -> Vec<u8> {
    let head = String::from_utf8_lossy(&req.raw_head);
    let mut out = String::new();
    for line in head.split_inclusive("\r\n") {
        match line.split_once(':') {
            Some((n, _)) if n.eq_ignore_ascii_case("Host") => {
                out.push_str(&format!("{n}: {hls}\r\n"))
            }
            _ => out.push_str(line),
        }
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&req.body);
    bytes
}

/// The media type of a message, lower case, without parameters.
fn content_type(m: &HttpMessage) -> Option<String> {
    let v = m.header("Content-Type")?;
    Some(
        v.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase(),
    )
}

/// Sends each request of `fetch` (number `k` of the group) at its capture time on the
/// shared `origin`, once the answers it followed in the capture were replayed, over one
/// connection; compares statuses and content types with the original answers.
fn replay_requests(
    fetch: &Fetch,
    k: usize,
    schedule: &Schedule,
    hls: SocketAddr,
    origin: (Duration, Instant),
    findings: &mut Findings,
) {
    let mut conn: Option<HttpConn> = None;
    let (mut ok, mut bytes) = (0usize, 0usize);
    for (i, req) in fetch.requests.iter().enumerate() {
        schedule.wait_before(req.time);
        let due = origin.1 + req.time.saturating_sub(origin.0);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait.min(Duration::from_secs(10)));
        }
        let method = req.method().unwrap_or("GET");
        let target = req.target().unwrap_or_default();
        if conn.is_none() {
            match HttpConn::connect(hls) {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    findings.fail(format!("cannot connect to weir's HLS server: {e}"));
                    return;
                }
            }
        }
        let Some(c) = conn.as_mut() else { return };
        let r = c.exchange(
            &rewrite_host(req, hls),
            method == "HEAD",
            Duration::from_secs(10),
        );
        schedule.mark(k, i..i + 1);
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                findings.fail(format!("{method} {target}: {e}"));
                return;
            }
        };
        if r.header("Connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
        {
            conn = None;
        }
        let status = r.status().unwrap_or(0);
        let original = fetch.responses.get(i);
        match original.and_then(HttpMessage::status) {
            Some(o) if o == status => {
                if status == 200 {
                    if let (Some(a), Some(b)) = (original.and_then(content_type), content_type(&r))
                    {
                        if a != b {
                            findings.fail(format!(
                                "{target}: weir's Content-Type is {b}, the original server's {a}"
                            ));
                        }
                    }
                }
            }
            Some(o) => findings.fail(format!(
                "{method} {target}: weir answered {status}, the original server {o}"
            )),
            None => findings.note(format!(
                "{target}: weir answered {status}; the capture holds no original answer"
            )),
        }
        if status == 200 {
            ok += 1;
            bytes += r.body.len();
            if r.body.is_empty() && method != "HEAD" {
                findings.fail(format!("{target}: weir answered 200 with an empty body"));
            }
        }
    }
    let n = fetch.requests.len();
    findings.note(format!(
        "{n} request{} replayed, {ok} answered 200 ({bytes} body bytes)",
        if n == 1 { "" } else { "s" }
    ));
}
