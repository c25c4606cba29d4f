//! A source's URL: `rtsp://`, `rtsps://`, `rtmp://` or `rtmps://`, with optional credentials.

/// The protocol a source is pulled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `rtsp://` (default port 554).
    Rtsp,
    /// `rtmp://` (default port 1935).
    Rtmp,
}

impl Scheme {
    /// The scheme's name as MediaMTX writes it in logs (`RTSP`, `RTMP`).
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Rtsp => "RTSP",
            Scheme::Rtmp => "RTMP",
        }
    }

    /// The source type of hooks and the API (`rtspSource`, `rtmpSource`).
    pub fn source_type(self) -> &'static str {
        match self {
            Scheme::Rtsp => "rtspSource",
            Scheme::Rtmp => "rtmpSource",
        }
    }

    /// The default port, over TLS (`rtsps` 322, `rtmps` 1936) or not (554, 1935).
    fn default_port(self, tls: bool) -> u16 {
        match (self, tls) {
            (Scheme::Rtsp, false) => 554,
            (Scheme::Rtsp, true) => 322,
            (Scheme::Rtmp, false) => 1935,
            (Scheme::Rtmp, true) => 1936,
        }
    }

    /// The URL scheme (`rtsp`, `rtsps`, `rtmp`, `rtmps`).
    fn prefix(self, tls: bool) -> &'static str {
        match (self, tls) {
            (Scheme::Rtsp, false) => "rtsp",
            (Scheme::Rtsp, true) => "rtsps",
            (Scheme::Rtmp, false) => "rtmp",
            (Scheme::Rtmp, true) => "rtmps",
        }
    }
}

/// What a source URL names: where to connect, and the URL requests use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceUrl {
    /// The protocol.
    pub scheme: Scheme,
    /// Whether the connection is TLS (`rtsps://`, `rtmps://`).
    pub tls: bool,
    /// Host name or address, without brackets.
    pub host: String,
    /// The port (the scheme's default when the URL has none).
    pub port: u16,
    /// The URL as requests carry it (credentials removed).
    pub url: String,
    /// The path and query after the authority, starting with `/`.
    pub path: String,
    /// `user:password` from the URL, if any.
    pub credentials: Option<(String, String)>,
}

impl SourceUrl {
    /// Parses `rtsp://[user:pass@]host[:port]/path[?query]` (or `rtsps://`, `rtmp://`,
    /// `rtmps://`); `None` when it is not such a URL with a host.
    pub fn parse(url: &str) -> Option<SourceUrl> {
        let (scheme, tls, rest) = [
            (Scheme::Rtsp, false),
            (Scheme::Rtsp, true),
            (Scheme::Rtmp, false),
            (Scheme::Rtmp, true),
        ]
        .into_iter()
        .find_map(|(scheme, tls)| {
            let rest = url.strip_prefix(scheme.prefix(tls))?.strip_prefix("://")?;
            Some((scheme, tls, rest))
        })?;
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
                None => scheme.default_port(tls),
            };
            (h, port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().ok()?),
                None => (hostport, scheme.default_port(tls)),
            }
        };
        if host.is_empty() {
            return None;
        }
        let prefix = scheme.prefix(tls);
        Some(SourceUrl {
            scheme,
            tls,
            host: host.to_owned(),
            port,
            url: format!("{prefix}://{hostport}{path}"),
            path: path.to_owned(),
            credentials,
        })
    }

    /// For `rtmp://`: the application (`connect`'s `app`), the stream name (`play`'s argument,
    /// query included) and `tcUrl`. The first path element is the application, the rest the
    /// stream, as ffmpeg splits it; a server that joins them back (MediaMTX, weir) sees the
    /// whole path.
    pub fn rtmp_target(&self) -> (String, String, String) {
        let (path, query) = match self.path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.path.as_str(), None),
        };
        let path = path.trim_start_matches('/');
        let (app, stream) = path.split_once('/').unwrap_or((path, ""));
        let stream = match query {
            Some(q) => format!("{stream}?{q}"),
            None => stream.to_owned(),
        };
        let prefix = self.scheme.prefix(self.tls);
        let hostport = self.url[prefix.len() + 3..]
            .split('/')
            .next()
            .unwrap_or_default();
        (
            app.to_owned(),
            stream,
            format!("{prefix}://{hostport}/{app}"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtsp_urls() {
        let u = SourceUrl::parse("rtsp://user:pw@cam.local:8554/live/a?x=1").unwrap();
        assert_eq!(u.scheme, Scheme::Rtsp);
        assert_eq!((u.host.as_str(), u.port), ("cam.local", 8554));
        assert_eq!(u.url, "rtsp://cam.local:8554/live/a?x=1");
        assert_eq!(u.path, "/live/a?x=1");
        assert_eq!(u.credentials, Some(("user".into(), "pw".into())));
        let u = SourceUrl::parse("rtsp://[::1]/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 554));
        assert_eq!(SourceUrl::parse("rtsp://:554/x"), None);
        assert_eq!(SourceUrl::parse("http://h/x"), None);
        assert_eq!(SourceUrl::parse("rtsp://h:port/x"), None);
    }

    #[test]
    fn rtmp_urls_split_into_app_and_stream() {
        let u = SourceUrl::parse("rtmp://127.0.0.1/live/cam?key=1").unwrap();
        assert_eq!((u.scheme, u.port), (Scheme::Rtmp, 1935));
        let (app, stream, tc) = u.rtmp_target();
        assert_eq!(app, "live");
        assert_eq!(stream, "cam?key=1");
        assert_eq!(tc, "rtmp://127.0.0.1/live");
        let u = SourceUrl::parse("rtmp://h:19350/a/b/c").unwrap();
        assert_eq!(
            u.rtmp_target(),
            ("a".into(), "b/c".into(), "rtmp://h:19350/a".into())
        );
        let u = SourceUrl::parse("rtmp://h/cam").unwrap();
        assert_eq!(
            u.rtmp_target(),
            ("cam".into(), String::new(), "rtmp://h/cam".into())
        );
    }

    #[test]
    fn tls_urls_keep_their_scheme_and_default_ports() {
        let u = SourceUrl::parse("rtsps://cam/live").unwrap();
        assert_eq!((u.scheme, u.tls, u.port), (Scheme::Rtsp, true, 322));
        assert_eq!(u.url, "rtsps://cam/live");
        let u = SourceUrl::parse("rtmps://h/live/cam").unwrap();
        assert_eq!((u.scheme, u.tls, u.port), (Scheme::Rtmp, true, 1936));
        assert_eq!(u.rtmp_target().2, "rtmps://h/live");
        let u = SourceUrl::parse("rtmps://h:443/live/cam").unwrap();
        assert_eq!(u.rtmp_target().2, "rtmps://h:443/live");
        assert!(!SourceUrl::parse("rtsp://cam/live").unwrap().tls);
        assert_eq!(SourceUrl::parse("rtspx://cam/live"), None);
    }
}
