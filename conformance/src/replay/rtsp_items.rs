//! A captured RTSP connection as the replay sees it: the client's requests (with their raw
//! bytes) and interleaved frames, each with its capture time, the original server's answers by
//! CSeq, and the rewriting a request needs to go to weir instead.

use crate::flows::TcpFlow;
use crate::rtsp::{split_rtsp, RtspItem, RtspMessage};
use crate::tcp::HalfStream;
use std::collections::HashMap;
use std::time::Duration;

/// One thing the client sent.
#[derive(Clone, Debug)]
pub enum ClientItem {
    /// A request: parsed, and its bytes as captured.
    Request {
        /// When it was captured (time since the capture's start).
        time: Duration,
        /// The parsed request.
        message: RtspMessage,
        /// Its bytes (head and body) as sent.
        raw: Vec<u8>,
    },
    /// An interleaved frame.
    Frame {
        /// When it was captured.
        time: Duration,
        /// The channel.
        channel: u8,
        /// The packet.
        data: Vec<u8>,
    },
}

impl ClientItem {
    /// When it was captured.
    pub fn time(&self) -> Duration {
        match self {
            ClientItem::Request { time, .. } | ClientItem::Frame { time, .. } => *time,
        }
    }
}

/// The capture time of the byte at stream position `offset`.
pub fn time_at(half: &HalfStream, offset: u64) -> Duration {
    let i = half.chunks.partition_point(|c| c.offset <= offset);
    half.chunks
        .get(i.saturating_sub(1))
        .map_or(Duration::ZERO, |c| c.timestamp)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The client's requests and frames, in stream order (each run between capture gaps split on
/// its own).
pub fn client_items(flow: &TcpFlow) -> Vec<ClientItem> {
    let half = &flow.connection.client_to_server;
    let mut items = Vec::new();
    let mut bounds: Vec<usize> = half.gaps.iter().map(|g| g.before_chunk).collect();
    bounds.push(half.chunks.len());
    let mut start = 0;
    for end in bounds {
        let run = &half.chunks[start..end];
        start = end;
        let Some(first) = run.first() else { continue };
        let bytes: Vec<u8> = run.iter().flat_map(|c| c.data.iter().copied()).collect();
        for item in split_rtsp(&bytes, first.offset, true).items {
            match item {
                RtspItem::Message(message) => {
                    let at = (message.offset - first.offset) as usize;
                    let head = find(&bytes[at..], b"\r\n\r\n").map_or(0, |i| i + 4);
                    let raw = bytes[at..(at + head + message.body.len()).min(bytes.len())].to_vec();
                    items.push(ClientItem::Request {
                        time: time_at(half, message.offset),
                        message,
                        raw,
                    });
                }
                RtspItem::Interleaved {
                    offset,
                    channel,
                    data,
                } => items.push(ClientItem::Frame {
                    time: time_at(half, offset),
                    channel,
                    data,
                }),
            }
        }
    }
    items
}

/// The original server's responses, by CSeq.
pub fn server_responses(flow: &TcpFlow) -> HashMap<u32, RtspMessage> {
    let mut out = HashMap::new();
    for item in flow.server_rtsp() {
        if let RtspItem::Message(m) = item {
            if let (Some(_), Some(cseq)) = (m.status(), m.cseq()) {
                out.entry(cseq).or_insert(m);
            }
        }
    }
    out
}

/// The server's interleaved frames with their capture times: (time, channel, packet).
pub fn server_frames(flow: &TcpFlow) -> Vec<(Duration, u8, Vec<u8>)> {
    let half = &flow.connection.server_to_client;
    flow.server_rtsp()
        .into_iter()
        .filter_map(|item| match item {
            RtspItem::Interleaved {
                offset,
                channel,
                data,
            } => Some((time_at(half, offset), channel, data)),
            RtspItem::Message(_) => None,
        })
        .collect()
}

/// `url` with its authority (`user:pass@host:port`) replaced by `authority`; values without
/// an `rtsp://`-like scheme (`*`) are returned unchanged.
pub fn rewrite_url(url: &str, authority: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let path = rest.find('/').map_or("", |i| &rest[i..]);
    format!("{scheme}://{authority}{path}")
}

/// What to change in a captured request before sending it to weir.
#[derive(Clone, Debug, Default)]
pub struct Rewrite {
    /// weir's `host:port`, replacing the original server's in the request URL.
    pub authority: String,
    /// Put before every URL path (a stream the original server served at `/`, which cannot
    /// be a path name on weir, is replayed under this prefix).
    pub path_prefix: String,
    /// A whole new request URL (a SETUP naming weir's control URL), instead.
    pub url: Option<String>,
    /// weir's session id, replacing the original one in the Session header.
    pub session: Option<String>,
    /// Local RTP/RTCP ports replacing `client_port` in the Transport header.
    pub client_ports: Option<(u16, u16)>,
}

/// Rewrites a captured request's raw bytes: request URL, Session id, Transport client ports;
/// every other byte (header order, spelling, body) stays as captured.
pub fn rewrite_request(raw: &[u8], rw: &Rewrite) -> Vec<u8> {
    let head_len = find(raw, b"\r\n\r\n").map_or(raw.len(), |i| i + 4);
    let head = String::from_utf8_lossy(&raw[..head_len]).into_owned();
    let mut out = String::with_capacity(head.len() + 32);
    for (i, line) in head.split("\r\n").enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        if i == 0 {
            let mut parts = line.splitn(3, ' ');
            let (method, url, version) = (
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
                parts.next().unwrap_or_default(),
            );
            let url = rw.url.clone().unwrap_or_else(|| {
                rewrite_url(url, &format!("{}{}", rw.authority, rw.path_prefix))
            });
            out.push_str(&format!("{method} {url} {version}"));
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            out.push_str(line);
            continue;
        };
        let lead = &value[..value.len() - value.trim_start().len()];
        let value = value.trim_start();
        if name.trim().eq_ignore_ascii_case("Session") {
            if let Some(id) = &rw.session {
                let rest = value.find(';').map_or("", |i| &value[i..]);
                out.push_str(&format!("{name}:{lead}{id}{rest}"));
                continue;
            }
        }
        if name.trim().eq_ignore_ascii_case("Transport") {
            if let Some((rtp, rtcp)) = rw.client_ports {
                let specs: Vec<String> = value
                    .split(';')
                    .map(|p| match p.trim().split_once('=') {
                        Some((k, _)) if k.eq_ignore_ascii_case("client_port") => {
                            format!("{k}={rtp}-{rtcp}")
                        }
                        _ => p.to_string(),
                    })
                    .collect();
                out.push_str(&format!("{name}:{lead}{}", specs.join(";")));
                continue;
            }
        }
        out.push_str(line);
    }
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&raw[head_len.min(raw.len())..]);
    bytes
}

/// Compares weir's status with the original server's for `request`: equal is fine; an
/// original 401 against a weir without authentication, and a multicast SETUP refused by the
/// replay's loopback-only weir (461), are accepted differences; anything else fails.
/// Returns whether the statuses matched.
pub fn compare_status(
    request: &RtspMessage,
    original: Option<u16>,
    weir: u16,
    findings: &mut super::Findings,
) -> bool {
    let method = request.method().unwrap_or_default();
    let cseq = request.cseq().map_or("?".to_string(), |c| c.to_string());
    let multicast = method == "SETUP"
        && request
            .header("Transport")
            .is_some_and(|t| t.to_ascii_lowercase().contains("multicast"));
    match original {
        Some(o) if o == weir => true,
        Some(401) if (200..300).contains(&weir) => {
            findings.known(
                "the original server asked for credentials (401); the replay's weir has no \
                 authentication configured, so it accepts the request at once (the client's \
                 retry with a digest computed for the original nonce is not replayed)",
            );
            false
        }
        Some(o) if multicast && weir == 461 && (200..300).contains(&o) => {
            findings.known(
                "the client asked for multicast; the replay's weir serves loopback only, with \
                 multicast disabled, and refuses the transport (461)",
            );
            false
        }
        Some(o) => {
            findings.fail(format!(
                "{method} (CSeq {cseq}): weir answered {weir}, the original server {o}"
            ));
            false
        }
        None => {
            findings.note(format!(
                "{method} (CSeq {cseq}): weir answered {weir}; the capture holds no answer"
            ));
            true
        }
    }
}
