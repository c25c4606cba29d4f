//! An RTSP reader: DESCRIBE, SETUP of the first video track (interleaved TCP, or UDP to the
//! reader's port pair), PLAY, then RTP: sequence gaps counted, markers found in single-NAL and
//! STAP-A payloads. Keep-alives (GET_PARAMETER every 10 s, and for UDP an RTCP receiver report
//! every 2 s to the server's RTCP port). The raw mode (bare pipe) skips the handshake and reads
//! interleaved frames from the first byte.

use super::marker::marker_in_rtp_payload;
use super::session::{Io, Session};
use super::url::Url;
use std::net::SocketAddr;
use weir_core::rtp::RtpHeader;
use weir_core::rtsp::{parse, Limits, Message, Parsed};

/// Interval of the GET_PARAMETER keep-alive.
const KEEPALIVE_US: u64 = 10_000_000;
/// Interval of the RTCP receiver reports of UDP readers.
const RTCP_US: u64 = 2_000_000;

/// How media reaches the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtspTransport {
    /// Interleaved in the RTSP connection (channels 0-1).
    Tcp,
    /// UDP to the reader's RTP port and the next one.
    Udp {
        /// The even local port of the RTP socket.
        rtp_port: u16,
    },
    /// No RTSP at all: interleaved frames from the first byte (the bare pipe).
    Raw,
}

/// Where the handshake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Describe,
    Setup,
    Play,
    Playing,
}

/// One RTSP reader.
pub struct RtspReader {
    url: Url,
    transport: RtspTransport,
    state: State,
    cseq: u32,
    session: Option<String>,
    base: String,
    /// Bytes of an incomplete frame or message kept for the next read.
    carry: Vec<u8>,
    server_rtcp: Option<SocketAddr>,
    /// The interleaved channel of RTP (the server may pick another than the one asked for).
    rtp_channel: u8,
    next_keepalive_us: u64,
    next_rtcp_us: u64,
    ssrc: u32,
}

impl RtspReader {
    /// A reader of `url` over `transport`; `id` makes its RTCP SSRC unique.
    pub fn new(url: Url, transport: RtspTransport, id: u32) -> RtspReader {
        RtspReader {
            base: url.as_string(),
            url,
            transport,
            state: if transport == RtspTransport::Raw {
                State::Playing
            } else {
                State::Describe
            },
            cseq: 0,
            session: None,
            carry: Vec::with_capacity(2048),
            server_rtcp: None,
            rtp_channel: 0,
            next_keepalive_us: 0,
            next_rtcp_us: 0,
            ssrc: 0x4c47_0000 ^ id,
        }
    }

    /// Queues request `method uri` with `extra` header lines.
    fn request(&mut self, io: &mut Io<'_>, method: &str, uri: &str, extra: &str) {
        self.cseq += 1;
        let session = match &self.session {
            Some(s) => format!("Session: {s}\r\n"),
            None => String::new(),
        };
        io.out.extend_from_slice(
            format!(
                "{method} {uri} RTSP/1.0\r\nCSeq: {}\r\nUser-Agent: weir-loadgen\r\n{session}{extra}\r\n",
                self.cseq
            )
            .as_bytes(),
        );
    }

    /// Handles a response in the handshake.
    fn on_response(
        &mut self,
        status: u16,
        headers: &weir_core::rtsp::Headers<'_>,
        body: &[u8],
        io: &mut Io<'_>,
    ) -> Result<(), String> {
        let step = match self.state {
            State::Describe => "DESCRIBE",
            State::Setup => "SETUP",
            State::Play => "PLAY",
            State::Playing => return Ok(()), // keep-alive answers
        };
        if status != 200 {
            return Err(format!("{step} answered {status}"));
        }
        match self.state {
            State::Describe => {
                if let Some(b) = headers.get("Content-Base") {
                    self.base = b.trim().to_owned();
                }
                let sdp = weir_core::sdp::parse(body).map_err(|e| format!("SDP: {e}"))?;
                let media = sdp
                    .media
                    .iter()
                    .find(|m| m.kind == "video")
                    .ok_or("the SDP has no video track")?;
                let control = media.control().unwrap_or("*");
                let uri = if control.contains("://") {
                    control.to_owned()
                } else if control == "*" {
                    self.base.clone()
                } else if self.base.ends_with('/') {
                    format!("{}{control}", self.base)
                } else {
                    format!("{}/{control}", self.base)
                };
                let transport = match self.transport {
                    RtspTransport::Udp { rtp_port } => format!(
                        "Transport: RTP/AVP;unicast;client_port={}-{}\r\n",
                        rtp_port,
                        rtp_port + 1
                    ),
                    _ => "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n".to_owned(),
                };
                self.request(io, "SETUP", &uri, &transport);
                self.state = State::Setup;
            }
            State::Setup => {
                let s = headers
                    .get("Session")
                    .ok_or("SETUP answer without Session")?;
                self.session = Some(s.split(';').next().unwrap_or(s).trim().to_owned());
                if let Some(t) = headers.get("Transport") {
                    self.server_rtcp =
                        server_rtcp_port(t).map(|p| SocketAddr::from(([127, 0, 0, 1], p)));
                    self.rtp_channel = transport_param(t, "interleaved=")
                        .and_then(|v| v.split('-').next()?.trim().parse().ok())
                        .unwrap_or(0);
                }
                let uri = self.base.clone();
                self.request(io, "PLAY", &uri, "Range: npt=0.000-\r\n");
                self.state = State::Play;
            }
            State::Play => {
                self.state = State::Playing;
                io.stats.playing_us = Some(io.now_us);
                self.next_keepalive_us = io.now_us + KEEPALIVE_US;
                self.next_rtcp_us = io.now_us;
            }
            State::Playing => {}
        }
        Ok(())
    }

    /// One RTP packet of the video track.
    fn on_rtp(packet: &[u8], io: &mut Io<'_>) {
        let Ok((h, range)) = RtpHeader::parse(packet) else {
            return;
        };
        io.stats.on_rtp_seq(h.sequence_number.0);
        if let Some(m) = marker_in_rtp_payload(&packet[range]) {
            io.stats.on_marker(m, io.now_us, io.log);
        }
    }

    /// Consumes the whole frames and messages at the start of `buf`; returns the bytes used.
    fn consume(&mut self, buf: &[u8], io: &mut Io<'_>) -> Result<usize, String> {
        let mut pos = 0;
        while pos < buf.len() {
            if buf[pos] == b'$' {
                let Some(h) = buf.get(pos..pos + 4) else {
                    break;
                };
                let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
                let Some(payload) = buf.get(pos + 4..pos + 4 + len) else {
                    break;
                };
                if h[1] == self.rtp_channel {
                    Self::on_rtp(payload, io);
                }
                pos += 4 + len;
                continue;
            }
            match parse(&buf[pos..], 0, &Limits::default()).map_err(|e| format!("RTSP: {e}"))? {
                Parsed::Done { message, consumed } => {
                    if let Message::Response(r) = message {
                        self.on_response(r.status, &r.headers, r.body, io)?;
                    }
                    pos += consumed;
                }
                Parsed::NeedMore { .. } => break,
            }
        }
        Ok(pos)
    }

    /// The length of the unit starting `carry`, when its header tells (a `$` frame).
    fn frame_len(carry: &[u8]) -> Option<usize> {
        if carry.first() == Some(&b'$') && carry.len() >= 4 {
            Some(4 + usize::from(u16::from_be_bytes([carry[2], carry[3]])))
        } else {
            None
        }
    }
}

/// The value of parameter `key` (with its `=`) of a Transport header.
fn transport_param<'a>(transport: &'a str, key: &str) -> Option<&'a str> {
    transport
        .split(';')
        .find_map(|p| p.trim().strip_prefix(key))
}

/// The RTCP port from a Transport header's `server_port=a-b` (b, or a + 1).
fn server_rtcp_port(transport: &str) -> Option<u16> {
    let v = transport_param(transport, "server_port=")?;
    match v.split_once('-') {
        Some((_, b)) => b.trim().parse().ok(),
        None => v.trim().parse::<u16>().ok().map(|a| a + 1),
    }
}

impl Session for RtspReader {
    fn start(&mut self, io: &mut Io<'_>) -> Result<(), String> {
        if self.transport == RtspTransport::Raw {
            io.stats.playing_us = Some(io.now_us);
            return Ok(());
        }
        let uri = self.url.as_string();
        self.request(io, "DESCRIBE", &uri, "Accept: application/sdp\r\n");
        Ok(())
    }

    fn on_tcp(&mut self, mut data: &[u8], io: &mut Io<'_>) -> Result<(), String> {
        // Complete the unit left over from the last read with as few bytes as possible, so
        // that the rest is parsed where it lies.
        while !self.carry.is_empty() && !data.is_empty() {
            if self.carry[0] == b'$' && self.carry.len() < 4 {
                let take = (4 - self.carry.len()).min(data.len());
                self.carry.extend_from_slice(&data[..take]);
                data = &data[take..];
                continue;
            }
            match Self::frame_len(&self.carry) {
                Some(total) => {
                    let take = (total - self.carry.len()).min(data.len());
                    self.carry.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if self.carry.len() == total {
                        let carry = std::mem::take(&mut self.carry);
                        self.consume(&carry, io)?;
                        self.carry = carry;
                        self.carry.clear();
                    }
                }
                None => {
                    // An RTSP message: its length is known only once parsed.
                    self.carry.extend_from_slice(data);
                    data = &[];
                    let mut carry = std::mem::take(&mut self.carry);
                    let used = self.consume(&carry, io)?;
                    carry.drain(..used);
                    self.carry = carry;
                }
            }
        }
        if !data.is_empty() {
            let used = self.consume(data, io)?;
            self.carry.extend_from_slice(&data[used..]);
        }
        Ok(())
    }

    fn on_udp(&mut self, data: &[u8], rtcp: bool, io: &mut Io<'_>) -> Result<(), String> {
        if !rtcp {
            Self::on_rtp(data, io);
        }
        Ok(())
    }

    fn on_tick(&mut self, io: &mut Io<'_>) -> Result<(), String> {
        if self.state != State::Playing || self.transport == RtspTransport::Raw {
            return Ok(());
        }
        if io.now_us >= self.next_keepalive_us {
            self.next_keepalive_us = io.now_us + KEEPALIVE_US;
            let uri = self.base.clone();
            self.request(io, "GET_PARAMETER", &uri, "");
        }
        if let (RtspTransport::Udp { .. }, Some(to)) = (self.transport, self.server_rtcp) {
            if io.now_us >= self.next_rtcp_us {
                self.next_rtcp_us = io.now_us + RTCP_US;
                // An empty receiver report: V=2, RC=0, PT=201, length 1, SSRC.
                let mut rr = vec![0x80, 201, 0, 1];
                rr.extend_from_slice(&self.ssrc.to_be_bytes());
                io.rtcp_out.push((to, rr));
            }
        }
        Ok(())
    }

    fn is_playing(&self) -> bool {
        self.state == State::Playing
    }
}
