//! An RTSP session: its role, state, path and the transport of each track it set up.

use crate::media::StreamDescription;
use core::net::IpAddr;
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::Instant;

/// Whether a session reads or publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The session reads a path (DESCRIBE/SETUP/PLAY).
    Reader,
    /// The session publishes to a path (ANNOUNCE/SETUP/RECORD).
    Publisher,
}

/// The RFC 2326 session state (Appendix A.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// A reader has set up tracks but not started playing.
    PrePlay,
    /// A reader is playing.
    Play,
    /// A publisher has announced but not started recording.
    PreRecord,
    /// A publisher is recording.
    Record,
}

/// A multicast group a path's readers receive from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MulticastGroup {
    /// The group address.
    pub address: IpAddr,
    /// The RTP port.
    pub rtp_port: u16,
    /// The RTCP port.
    pub rtcp_port: u16,
    /// The TTL announced to clients.
    pub ttl: u8,
}

/// How one track of a session moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackTransport {
    /// Interleaved in the RTSP connection on these channels.
    Tcp {
        /// The RTP channel.
        rtp_channel: u8,
        /// The RTCP channel.
        rtcp_channel: u8,
    },
    /// UDP unicast to or from the client's ports.
    Udp {
        /// The client's address.
        client_ip: IpAddr,
        /// The client's RTP port.
        client_rtp_port: u16,
        /// The client's RTCP port.
        client_rtcp_port: u16,
    },
    /// UDP multicast (readers only).
    Multicast(MulticastGroup),
}

impl TrackTransport {
    /// "TCP", "UDP" or "UDP-multicast", for log lines.
    pub fn name(&self) -> &'static str {
        match self {
            TrackTransport::Tcp { .. } => "TCP",
            TrackTransport::Udp { .. } => "UDP",
            TrackTransport::Multicast(_) => "UDP-multicast",
        }
    }

    fn same_kind(&self, other: &TrackTransport) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

/// One RTSP session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The id sent in `Session:` headers.
    pub id: String,
    /// Reader or publisher.
    pub role: Role,
    /// The state.
    pub state: SessionState,
    /// The path read or published.
    pub path: String,
    /// The query string of the first request that named the path.
    pub query: String,
    /// The stream description (the path's for readers, the announced one for publishers).
    pub description: Arc<StreamDescription>,
    /// The set-up tracks: (track index, transport).
    pub tracks: SmallVec<[(usize, TrackTransport); 4]>,
    /// The path's multicast groups, one per track (empty unless the reader chose multicast).
    pub multicast_groups: SmallVec<[MulticastGroup; 4]>,
    /// Last time the client showed it is alive (a request, or media / RTCP the adapter saw).
    pub last_activity: Instant,
}

impl Session {
    /// The short id used in log lines.
    pub fn log_id(&self) -> &str {
        &self.id[..self.id.len().min(8)]
    }

    /// The transport of `track`, if it is set up.
    pub fn transport_of(&self, track: usize) -> Option<&TrackTransport> {
        self.tracks
            .iter()
            .find(|(t, _)| *t == track)
            .map(|(_, tr)| tr)
    }

    /// The interleaved channels of `track`, if it goes over TCP.
    pub fn tcp_channels(&self, track: usize) -> Option<(u8, u8)> {
        match self.transport_of(track) {
            Some(TrackTransport::Tcp {
                rtp_channel,
                rtcp_channel,
            }) => Some((*rtp_channel, *rtcp_channel)),
            _ => None,
        }
    }

    /// Which track and whether RTCP an interleaved channel carries.
    pub fn track_of_channel(&self, channel: u8) -> Option<(usize, bool)> {
        self.tracks.iter().find_map(|(t, tr)| match tr {
            TrackTransport::Tcp { rtp_channel, .. } if *rtp_channel == channel => Some((*t, false)),
            TrackTransport::Tcp { rtcp_channel, .. } if *rtcp_channel == channel => {
                Some((*t, true))
            }
            _ => None,
        })
    }

    /// The transport kind all set-up tracks share, if any are set up.
    pub fn transport_kind(&self) -> Option<&TrackTransport> {
        self.tracks.first().map(|(_, tr)| tr)
    }

    pub(crate) fn mixes_with(&self, tr: &TrackTransport) -> bool {
        self.transport_kind().is_some_and(|k| !k.same_kind(tr))
    }

    /// "2 tracks (H264, MPEG-4 Audio)" for the set-up tracks, for log lines.
    pub fn tracks_text(&self) -> String {
        let names: Vec<&str> = self
            .tracks
            .iter()
            .filter_map(|(t, _)| self.description.tracks.get(*t))
            .map(|t| t.codec.display_name())
            .collect();
        let n = names.len();
        format!(
            "{n} track{} ({})",
            if n == 1 { "" } else { "s" },
            names.join(", ")
        )
    }
}
