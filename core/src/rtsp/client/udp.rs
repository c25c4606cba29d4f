//! Media over UDP for the client (`rtspTransport: udp`, `multicast`, or `automatic` trying UDP
//! first): the ports of each track, the datagrams accepted, and the switch to TCP.

use super::conn::ClientConnection;
use super::ClientEvent;
use crate::rtp::RtpPacket;
use bytes::Bytes;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// `rtspTransport`: how a pulled RTSP source sends its media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RtspTransport {
    /// UDP first; TCP when the server refuses UDP (461) or no UDP packet arrives in 3 s.
    #[default]
    Automatic,
    /// Unicast UDP only.
    Udp,
    /// UDP multicast only.
    Multicast,
    /// TCP only (RTP interleaved in the RTSP connection).
    Tcp,
}

impl RtspTransport {
    /// The value of `rtspTransport` (`automatic`, `udp`, `multicast`, `tcp`).
    pub fn parse(s: &str) -> Option<RtspTransport> {
        Some(match s {
            "automatic" => RtspTransport::Automatic,
            "udp" => RtspTransport::Udp,
            "multicast" => RtspTransport::Multicast,
            "tcp" => RtspTransport::Tcp,
            _ => return None,
        })
    }
}

/// The multicast group a track's media is sent to, as the server's SETUP answer gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpGroup {
    /// The group's address.
    pub address: IpAddr,
    /// The RTP port.
    pub rtp_port: u16,
    /// The RTCP port.
    pub rtcp_port: u16,
}

/// How long automatic mode waits for the first UDP packet after PLAY (as MediaMTX).
pub(crate) const UDP_FIRST_PACKET: Duration = Duration::from_secs(3);

/// How the media of the current attempt travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Tcp,
    Udp,
    Multicast,
}

impl Mode {
    /// The first mode tried for `transport`.
    pub(crate) fn first(transport: RtspTransport) -> Mode {
        match transport {
            RtspTransport::Automatic | RtspTransport::Udp => Mode::Udp,
            RtspTransport::Multicast => Mode::Multicast,
            RtspTransport::Tcp => Mode::Tcp,
        }
    }
}

/// The UDP side of one track.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UdpTrack {
    /// The local RTP/RTCP ports, once open.
    pub local: Option<(u16, u16)>,
    /// The server's RTP/RTCP ports (from `server_port`, or the group's for multicast).
    pub server: Option<(u16, u16)>,
    /// The address packets must come from (`source`, else the server's).
    pub source: Option<IpAddr>,
}

impl ClientConnection {
    /// The UDP sockets of `track` are open (`Ok` with the local RTP and RTCP ports; a
    /// multicast group's are its own) or could not be (`Err` with why, closing). `server` is
    /// the address of the RTSP server, whom unicast packets must come from unless the SETUP
    /// answer named another `source`.
    pub fn handle_udp_open(
        &mut self,
        track: usize,
        opened: Result<(u16, u16), String>,
        server: IpAddr,
    ) {
        if self.awaiting_udp() != Some(track) {
            return;
        }
        let ports = match opened {
            Ok(p) => p,
            Err(why) => return self.close(format!("cannot open UDP sockets: {why}")),
        };
        let Some(t) = self.udp_tracks.get_mut(track) else {
            return;
        };
        t.local = Some(ports);
        t.source.get_or_insert(server);
        self.udp_opened(track);
    }

    /// A datagram received on `track`'s RTP (`rtcp == false`) or RTCP socket from `from`.
    /// Datagrams from elsewhere than the server (and, unless `rtspAnyPort`, its announced
    /// port) are dropped.
    pub fn handle_udp(
        &mut self,
        now: Instant,
        track: usize,
        rtcp: bool,
        from: SocketAddr,
        bytes: Bytes,
    ) {
        if !self.is_playing() {
            return;
        }
        let Some(t) = self.udp_tracks.get(track) else {
            return;
        };
        if t.source.is_some_and(|ip| ip != from.ip()) {
            return;
        }
        if !self.cfg.any_port && self.mode == Mode::Udp {
            let expected = t
                .server
                .map(|(rtp, rtcp_port)| if rtcp { rtcp_port } else { rtp });
            if expected.is_some_and(|p| p != from.port()) {
                return;
            }
        }
        self.last_input = now;
        if rtcp {
            return;
        }
        self.first_udp_by = None;
        match RtpPacket::parse(bytes) {
            Ok(packet) => self.events.push_back(ClientEvent::Rtp { track, packet }),
            Err(e) => tracing::debug!("[RTSP source {}] invalid RTP packet: {e}", self.url.url),
        }
    }

    /// Whether the connection ended because automatic mode got no UDP packet: the adapter
    /// opens the next one at once with TCP (see [`super::ClientConfig::transport`]).
    pub fn wants_tcp(&self) -> bool {
        self.switch_to_tcp
    }

    /// The track whose UDP sockets are awaited.
    fn awaiting_udp(&self) -> Option<usize> {
        match self.state {
            super::conn::State::AwaitUdp(i) => Some(i),
            _ => None,
        }
    }

    /// The `Transport` of the SETUP of `track` in the current mode.
    pub(crate) fn setup_transport(&self, track: usize) -> String {
        match self.mode {
            Mode::Tcp => format!(
                "RTP/AVP/TCP;unicast;interleaved={}-{}",
                2 * track,
                2 * track + 1
            ),
            Mode::Udp => {
                let (rtp, rtcp) = self.udp_tracks[track].local.unwrap_or_default();
                format!("RTP/AVP;unicast;client_port={rtp}-{rtcp}")
            }
            Mode::Multicast => "RTP/AVP;multicast".to_owned(),
        }
    }

    /// Takes the server's `Transport` answer to the SETUP of `track`: false (and closed)
    /// when it does not deliver as asked.
    pub(crate) fn take_transport(&mut self, track: usize, answer: Option<&str>) -> bool {
        use crate::rtsp::headers::transport::{Delivery, LowerTransport, Transport};
        if self.mode == Mode::Tcp {
            return true;
        }
        let Some(t) = answer.and_then(|v| Transport::parse(v).ok()) else {
            self.close("the server's SETUP answer has no valid Transport".into());
            return false;
        };
        let multicast = t.delivery == Some(Delivery::Multicast);
        if t.lower == LowerTransport::Tcp || multicast != (self.mode == Mode::Multicast) {
            self.close(format!(
                "the server answered SETUP with another transport than asked ({})",
                answer.unwrap_or_default()
            ));
            return false;
        }
        let Some(u) = self.udp_tracks.get_mut(track) else {
            return false;
        };
        if t.source.is_some() {
            u.source = t.source;
        }
        if multicast {
            let (Some(address), Some((rtp_port, rtcp_port))) = (t.destination, t.port) else {
                self.close("the server's multicast Transport has no destination or port".into());
                return false;
            };
            u.server = Some((rtp_port, rtcp_port));
            let group = UdpGroup {
                address,
                rtp_port,
                rtcp_port,
            };
            self.state = super::conn::State::AwaitUdp(track);
            self.events.push_back(ClientEvent::OpenUdp {
                track,
                group: Some(group),
            });
            return false;
        }
        u.server = t.server_port;
        if u.server.is_none() && !self.cfg.any_port {
            self.close(
                "the server's SETUP answer has no server_port: set rtspAnyPort to accept \
                 its media from any port"
                    .into(),
            );
            return false;
        }
        true
    }

    /// Whether a 461 to the first UDP SETUP is retried over TCP (automatic mode).
    pub(crate) fn fall_back_to_tcp(&mut self, track: usize) -> bool {
        if self.cfg.transport != RtspTransport::Automatic || self.mode != Mode::Udp || track != 0 {
            return false;
        }
        tracing::info!(
            "[RTSP source {}] the server refused UDP, switching to TCP",
            self.url.url
        );
        self.mode = Mode::Tcp;
        true
    }

    /// Automatic mode got no UDP packet in time: close so that the next connection uses TCP.
    pub(crate) fn udp_timed_out(&mut self) {
        self.switch_to_tcp = self.cfg.transport == RtspTransport::Automatic;
        self.close("no UDP packets received, switching to TCP".into());
    }

    /// Sets the UDP deadline after PLAY was answered.
    pub(crate) fn arm_udp_deadline(&mut self, now: Instant) {
        if self.mode == Mode::Udp && self.cfg.transport == RtspTransport::Automatic {
            self.first_udp_by = Some(now + UDP_FIRST_PACKET);
        }
    }
}
