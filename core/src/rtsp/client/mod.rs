//! The RTSP client connection state machine: reading a stream from another server (a path's
//! `source: rtsp://…`), over TCP with interleaved RTP.
//!
//! Driven like every machine of this crate: [`ClientConnection::new`] queues the first
//! request; feed the server's bytes with `handle_input`, drain `poll_transmit` and
//! `poll_event`, arm `poll_timeout`. The exchange is OPTIONS → DESCRIBE → SETUP (one per track,
//! interleaved channels 2n/2n+1) → PLAY; then [`ClientEvent::Ready`] carries the stream's
//! description and media comes out as [`ClientEvent::Rtp`]. While playing, an OPTIONS
//! keep-alive goes out every half session timeout, and a server silent for `read_timeout`
//! closes the connection.

mod conn;
#[cfg(test)]
mod tests;

pub use conn::{ClientConfig, ClientConnection, ClientEvent};

/// What the client's URL names: where to connect, and the URL requests use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceUrl {
    /// Host name or address, without brackets.
    pub host: String,
    /// The port (554 when the URL has none).
    pub port: u16,
    /// The URL as requests carry it (credentials removed).
    pub url: String,
    /// `user:password` from the URL, if any.
    pub credentials: Option<(String, String)>,
}

impl SourceUrl {
    /// Parses `rtsp://[user:pass@]host[:port]/path[?query]`; `None` when it is not an
    /// `rtsp://` URL with a host.
    pub fn parse(url: &str) -> Option<SourceUrl> {
        let rest = url.strip_prefix("rtsp://")?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (credentials, hostport) = match authority.rsplit_once('@') {
            Some((cred, hp)) => {
                let (u, p) = cred.split_once(':').unwrap_or((cred, ""));
                (Some((u.to_owned(), p.to_owned())), hp)
            }
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().ok()?,
                None => 554,
            };
            (h, port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().ok()?),
                None => (hostport, 554),
            }
        };
        if host.is_empty() {
            return None;
        }
        Some(SourceUrl {
            host: host.to_owned(),
            port,
            url: format!("rtsp://{hostport}{path}"),
            credentials,
        })
    }
}
