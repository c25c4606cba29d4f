//! The RTSP server connection state machine.
//!
//! One [`ServerConnection`] per TCP connection. It parses requests, keeps the session (at most
//! one per connection), answers every request with the right status code, and asks the adapter
//! the questions only the path registry can answer ([`Event::Describe`], [`Event::Announce`],
//! [`Event::SetupRead`], [`Event::Play`]) — the adapter answers with the matching `answer_*`
//! method and then calls [`ServerConnection::handle_input`] again to resume parsing.
//!
//! Media a publisher sends over TCP comes out as [`Event::Rtp`]; media for readers does not go
//! through this machine at all: the adapter frames ring items with the session's routes
//! ([`ReaderRoutes`]: interleaved channels or UDP ports).

mod conn;
mod handlers;
mod multicast;
mod routes;
mod session;
mod url;

pub use conn::{Event, ServerConfig, ServerConnection, TransportSet};
pub use multicast::{multicast_datagrams, MulticastGroups, MULTICAST_TTL};
pub use routes::{Datagram, ReaderRoute, ReaderRoutes};
pub use session::{MulticastGroup, Role, Session, SessionState, TrackTransport};
pub use url::{split_request_url, RequestTarget};

/// One RTP-Info entry of a PLAY answer: where a track's first packet for this reader stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlayStart {
    /// The track.
    pub track: usize,
    /// Sequence number of the first packet the reader will get.
    pub seq: u16,
    /// RTP timestamp of that packet.
    pub rtptime: u32,
}

#[cfg(test)]
mod tests;

/// Where each track starts for a reader whose next items are `items` (the RTP-Info of its PLAY
/// answer): the first RTP packet of each track's first unit.
pub fn play_starts<'a>(
    items: impl Iterator<Item = &'a crate::media::StreamItem>,
    ntracks: usize,
) -> smallvec::SmallVec<[PlayStart; 4]> {
    let mut starts: smallvec::SmallVec<[PlayStart; 4]> = smallvec::SmallVec::new();
    for item in items {
        if let crate::media::StreamItem::Unit(u) = item {
            if starts.iter().any(|s| s.track == u.track) {
                continue;
            }
            if let Some(p) = u.rtp.first() {
                starts.push(PlayStart {
                    track: u.track,
                    seq: p.header.sequence_number.0,
                    rtptime: p.header.timestamp,
                });
            }
            if starts.len() == ntracks {
                break;
            }
        }
    }
    starts
}
