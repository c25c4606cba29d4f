//! Flows of a capture: TCP connections classified by protocol (RTSP, RTMP, HTTP), UDP
//! datagrams grouped by (source, destination), and RTSP sessions tied to the UDP flows their
//! SETUP negotiated.

use crate::capture::Packet;
use crate::link::Transport;
use crate::rtsp::{parse_transport, split_rtsp, RtspItem, RtspMessage};
use crate::tcp::{HalfStream, TcpConnection};
use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

/// The application protocol of a TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// RTSP (possibly with interleaved RTP).
    Rtsp,
    /// RTMP.
    Rtmp,
    /// HTTP (HLS, the API, ...).
    Http,
    /// Not recognised.
    Unknown,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Rtsp => "RTSP",
            Protocol::Rtmp => "RTMP",
            Protocol::Http => "HTTP",
            Protocol::Unknown => "?",
        })
    }
}

/// The first bytes of a direction, up to `n` and up to its first gap.
fn head(half: &HalfStream, n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let stop = half
        .gaps
        .first()
        .map_or(half.chunks.len(), |g| g.before_chunk);
    for chunk in &half.chunks[..stop] {
        if out.len() >= n {
            break;
        }
        out.extend_from_slice(&chunk.data[..chunk.data.len().min(n - out.len())]);
    }
    out
}

/// Classifies a connection by what its client sends first (an RTSP request line, the RTMP
/// C0 version byte followed by C1, an HTTP request line), then by what the server answers,
/// then by the server's port (554/8554/322/8322 RTSP, 1935/1936 RTMP, 80/8080/8888 HTTP).
pub fn classify(connection: &TcpConnection) -> Protocol {
    let starts_at_zero = |h: &HalfStream| h.gaps.first().is_none_or(|g| g.offset > 0);
    let client = head(&connection.client_to_server, 4096);
    let server = head(&connection.server_to_client, 4096);
    if starts_at_zero(&connection.client_to_server) && !client.is_empty() {
        if let Some(protocol) = classify_request(&client) {
            return protocol;
        }
        // C0 is the version (3, or 6 for RTMPE) and C1 is 1536 bytes whose bytes 4..8 are 0
        // (simple handshake) or the digest scheme's version; demand C0 and a full C1 unless
        // the port says RTMP already.
        let rtmp_port = matches!(connection.server.port(), 1935 | 1936);
        if matches!(client[0], 3 | 6) && (client.len() >= 1537 || rtmp_port) {
            return Protocol::Rtmp;
        }
    }
    if server.starts_with(b"RTSP/1.") {
        return Protocol::Rtsp;
    }
    if server.starts_with(b"HTTP/1.") {
        return Protocol::Http;
    }
    match connection.server.port() {
        554 | 8554 | 322 | 8322 => Protocol::Rtsp,
        1935 | 1936 => Protocol::Rtmp,
        80 | 8080 | 8888 => Protocol::Http,
        _ => Protocol::Unknown,
    }
}

/// Classifies a client's first bytes by their request line.
fn classify_request(client: &[u8]) -> Option<Protocol> {
    let line_end = client
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(client.len());
    let line = &client[..line_end];
    if line.ends_with(b" RTSP/1.0") || line.ends_with(b" RTSP/1.1") || line.ends_with(b" RTSP/2.0")
    {
        return Some(Protocol::Rtsp);
    }
    let http_methods: [&[u8]; 6] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"OPTIONS ",
        b"DELETE ",
    ];
    if http_methods.iter().any(|m| line.starts_with(m)) && line.windows(6).any(|w| w == b"HTTP/1") {
        return Some(Protocol::Http);
    }
    // A request line cut off by the capture: the method alone decides.
    if line_end == client.len() && line.starts_with(b"GET ") {
        return Some(Protocol::Http);
    }
    None
}

/// A TCP connection with its protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpFlow {
    /// The reassembled connection.
    pub connection: TcpConnection,
    /// Its application protocol.
    pub protocol: Protocol,
}

impl TcpFlow {
    /// The RTSP items the client sent (messages and interleaved frames), each run between gaps
    /// split separately.
    pub fn client_rtsp(&self) -> Vec<RtspItem> {
        split_half(&self.connection.client_to_server)
    }

    /// The RTSP items the server sent.
    pub fn server_rtsp(&self) -> Vec<RtspItem> {
        split_half(&self.connection.server_to_client)
    }
}

/// Splits each contiguous run of a direction into RTSP items.
fn split_half(half: &HalfStream) -> Vec<RtspItem> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut bounds: Vec<usize> = half.gaps.iter().map(|g| g.before_chunk).collect();
    bounds.push(half.chunks.len());
    for end in bounds {
        let run = &half.chunks[start..end];
        if let Some(first) = run.first() {
            let bytes: Vec<u8> = run.iter().flat_map(|c| c.data.iter().copied()).collect();
            items.extend(split_rtsp(&bytes, first.offset, true).items);
        }
        start = end;
    }
    items
}

/// One UDP datagram of a flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Datagram {
    /// Time since the capture's start.
    pub timestamp: Duration,
    /// Frame number in the file.
    pub frame: usize,
    /// The payload bytes the capture kept.
    pub payload: Vec<u8>,
    /// Payload bytes cut off by the capture's snap length.
    pub missing: u32,
}

/// What a UDP flow's datagrams look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UdpKind {
    /// RTP (version 2, a payload type outside the RTCP range).
    Rtp,
    /// RTCP (version 2, packet type 192..=223).
    Rtcp,
    /// Anything else, or a mixture.
    Other,
}

impl fmt::Display for UdpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UdpKind::Rtp => "RTP",
            UdpKind::Rtcp => "RTCP",
            UdpKind::Other => "UDP",
        })
    }
}

/// Guesses whether one datagram is RTP or RTCP from its first two bytes.
pub fn udp_kind(payload: &[u8]) -> UdpKind {
    match payload {
        [b0, b1, ..] if b0 >> 6 == 2 => {
            if (192..=223).contains(b1) {
                if payload.len() >= 4 {
                    UdpKind::Rtcp
                } else {
                    UdpKind::Other
                }
            } else if payload.len() >= 12 {
                UdpKind::Rtp
            } else {
                UdpKind::Other
            }
        }
        _ => UdpKind::Other,
    }
}

/// The RTSP SETUP that negotiated a UDP flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtspLink {
    /// Index of the RTSP connection among the capture's TCP flows.
    pub tcp_flow: usize,
    /// Index of the SETUP among that flow's [`RtspSetup`]s.
    pub setup: usize,
}

/// The datagrams from one address to another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpFlow {
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// Datagrams in capture order.
    pub datagrams: Vec<Datagram>,
    /// RTP, RTCP or other, judged on all datagrams.
    pub kind: UdpKind,
    /// The RTSP SETUP whose Transport named both ports, if any.
    pub rtsp: Option<RtspLink>,
}

impl UdpFlow {
    /// Total captured payload bytes.
    pub fn bytes(&self) -> u64 {
        self.datagrams.iter().map(|d| d.payload.len() as u64).sum()
    }
}

/// Groups the UDP datagrams among `packets` into flows by (source, destination), in order of
/// each flow's first datagram.
pub fn udp_flows(packets: &[Packet]) -> Vec<UdpFlow> {
    let mut flows: Vec<UdpFlow> = Vec::new();
    let mut index: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    for packet in packets {
        let Transport::Udp(udp) = &packet.transport else {
            continue;
        };
        let i = *index.entry((packet.src, packet.dst)).or_insert_with(|| {
            flows.push(UdpFlow {
                src: packet.src,
                dst: packet.dst,
                datagrams: Vec::new(),
                kind: UdpKind::Other,
                rtsp: None,
            });
            flows.len() - 1
        });
        flows[i].datagrams.push(Datagram {
            timestamp: packet.timestamp,
            frame: packet.number,
            payload: udp.payload.clone(),
            missing: udp.missing,
        });
    }
    for flow in &mut flows {
        let mut kinds = flow.datagrams.iter().map(|d| udp_kind(&d.payload));
        let first = kinds.next().unwrap_or(UdpKind::Other);
        flow.kind = if kinds.all(|k| k == first) {
            first
        } else {
            UdpKind::Other
        };
    }
    flows
}

/// One SETUP of an RTSP connection, with what its response granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtspSetup {
    /// The request URI.
    pub uri: String,
    /// The request's CSeq.
    pub cseq: Option<u32>,
    /// Status of the matching response (by CSeq), if captured.
    pub status: Option<u16>,
    /// Client RTP/RTCP ports (from the response, else the request).
    pub client_port: Option<(u16, u16)>,
    /// Server RTP/RTCP ports (from the response).
    pub server_port: Option<(u16, u16)>,
    /// Interleaved channels (from the response, else the request).
    pub interleaved: Option<(u8, u8)>,
    /// Indexes of the UDP flows these ports carry, among the capture's UDP flows.
    pub udp_flows: Vec<usize>,
}

/// The SETUPs of an RTSP flow, each paired with its response by CSeq.
pub fn rtsp_setups(flow: &TcpFlow) -> Vec<RtspSetup> {
    let messages = |items: Vec<RtspItem>| -> Vec<RtspMessage> {
        items
            .into_iter()
            .filter_map(|item| match item {
                RtspItem::Message(m) => Some(m),
                RtspItem::Interleaved { .. } => None,
            })
            .collect()
    };
    let requests = messages(flow.client_rtsp());
    let responses = messages(flow.server_rtsp());
    requests
        .iter()
        .filter(|r| r.method() == Some("SETUP"))
        .map(|request| {
            let cseq = request.cseq();
            let response = responses
                .iter()
                .find(|r| r.status().is_some() && cseq.is_some() && r.cseq() == cseq);
            let spec = |m: Option<&RtspMessage>| {
                m.and_then(|m| m.header("Transport"))
                    .and_then(|t| parse_transport(t).into_iter().next())
            };
            let asked = spec(Some(request)).unwrap_or_default();
            let granted = spec(response).unwrap_or_default();
            RtspSetup {
                uri: request.uri().unwrap_or_default().to_string(),
                cseq,
                status: response.and_then(RtspMessage::status),
                client_port: granted.client_port.or(asked.client_port),
                server_port: granted.server_port,
                interleaved: granted.interleaved.or(asked.interleaved),
                udp_flows: Vec::new(),
            }
        })
        .collect()
}

/// Whether a UDP flow runs between the ports a SETUP negotiated on an RTSP connection: one end
/// on the client's side with a client port, the other on the server's side with a server port
/// (any port when the response was not captured); at least one end's IP must be the RTSP
/// connection's (the media may use another interface or NAT on the other side).
fn carries(setup: &RtspSetup, rtsp: &TcpConnection, flow: &UdpFlow) -> bool {
    let Some((c_rtp, c_rtcp)) = setup.client_port else {
        return false;
    };
    let client_port = |p: u16| p == c_rtp || p == c_rtcp;
    let server_port = |p: u16| match setup.server_port {
        Some((s_rtp, s_rtcp)) => p == s_rtp || p == s_rtcp,
        None => true,
    };
    let sides = [(flow.src, flow.dst), (flow.dst, flow.src)];
    sides.iter().any(|&(client_end, server_end)| {
        client_port(client_end.port())
            && server_port(server_end.port())
            && (client_end.ip() == rtsp.client.ip() || server_end.ip() == rtsp.server.ip())
    })
}

/// Ties UDP flows to the RTSP SETUPs that negotiated them: fills each setup's `udp_flows` and
/// each flow's `rtsp`. `setups[i]` are the setups of `tcp[i]`.
pub fn associate(tcp: &[TcpFlow], setups: &mut [Vec<RtspSetup>], udp: &mut [UdpFlow]) {
    for (flow_index, (flow, flow_setups)) in tcp.iter().zip(setups.iter_mut()).enumerate() {
        for (setup_index, setup) in flow_setups.iter_mut().enumerate() {
            for (udp_index, udp_flow) in udp.iter_mut().enumerate() {
                // Media flows start after their RTSP connection does (ports get reused).
                let after = udp_flow
                    .datagrams
                    .first()
                    .is_some_and(|d| d.timestamp >= flow.connection.first);
                if udp_flow.rtsp.is_none() && after && carries(setup, &flow.connection, udp_flow) {
                    setup.udp_flows.push(udp_index);
                    udp_flow.rtsp = Some(RtspLink {
                        tcp_flow: flow_index,
                        setup: setup_index,
                    });
                }
            }
        }
    }
}
