//! The URLs the load generator takes: `rtsp://`, `rtmp://`, `http://` and `tcp://` (the bare
//! pipe), on the loopback address only.

use std::net::{Ipv4Addr, SocketAddr};

/// A parsed URL: scheme, port and path (with its query), always on 127.0.0.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `rtsp`, `rtmp`, `http` or `tcp`.
    pub scheme: String,
    /// The host as written (`127.0.0.1` or `localhost`).
    pub host: String,
    /// The port (the scheme's default when absent).
    pub port: u16,
    /// The path, starting with `/` (`/` when absent), query included.
    pub path: String,
}

impl Url {
    /// Parses `s`; refuses other hosts than 127.0.0.1 / localhost (loads stay on this machine).
    pub fn parse(s: &str) -> Result<Url, String> {
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| format!("{s}: not a URL (scheme://host:port/path)"))?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "rtsp" => 554,
            "rtmp" => 1935,
            "http" => 80,
            "tcp" => 0,
            other => return Err(format!("{s}: unsupported scheme {other}")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>().map_err(|_| format!("{s}: bad port {p}"))?,
            ),
            None => (authority, default_port),
        };
        if host != "127.0.0.1" && !host.eq_ignore_ascii_case("localhost") {
            return Err(format!("{s}: only 127.0.0.1 is allowed"));
        }
        if port == 0 {
            return Err(format!("{s}: a port is required"));
        }
        Ok(Url {
            scheme,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// The socket address to connect to.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }

    /// `host:port`, as a `Host` header or inside a URL.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The URL as text.
    pub fn as_string(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority(), self.path)
    }

    /// The path without its leading `/` and without a trailing `/`.
    pub fn stream_path(&self) -> &str {
        self.path.trim_start_matches('/').trim_end_matches('/')
    }

    /// RTMP: the application (first path segment) and the stream name (the rest).
    pub fn rtmp_app_stream(&self) -> (String, String) {
        let p = self.stream_path();
        match p.split_once('/') {
            Some((app, stream)) => (app.to_owned(), stream.to_owned()),
            None => (p.to_owned(), String::new()),
        }
    }

    /// RTMP: the `tcUrl` of the application.
    pub fn rtmp_tc_url(&self) -> String {
        format!("rtmp://{}/{}", self.authority(), self.rtmp_app_stream().0)
    }

    /// The URL with another scheme, port and path, on the same host.
    pub fn with(&self, scheme: &str, port: u16, path: &str) -> Url {
        Url {
            scheme: scheme.to_owned(),
            host: self.host.clone(),
            port,
            path: path.to_owned(),
        }
    }
}

/// Resolves a reference found in a document fetched from `base_path` (RFC 3986, the cases
/// playlists use): an absolute URL (its path is kept), an absolute path, or a relative path.
pub fn resolve_path(base_path: &str, reference: &str) -> String {
    if let Some(rest) = reference
        .strip_prefix("http://")
        .or_else(|| reference.strip_prefix("https://"))
    {
        return match rest.find('/') {
            Some(i) => rest[i..].to_owned(),
            None => "/".to_owned(),
        };
    }
    if reference.starts_with('/') {
        return reference.to_owned();
    }
    let base = base_path.split('?').next().unwrap_or(base_path);
    let dir = match base.rfind('/') {
        Some(i) => &base[..=i],
        None => "/",
    };
    format!("{dir}{reference}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves() {
        let u = Url::parse("rtmp://127.0.0.1:11935/live/bench").unwrap();
        assert_eq!(u.rtmp_app_stream(), ("live".into(), "bench".into()));
        assert_eq!(u.rtmp_tc_url(), "rtmp://127.0.0.1:11935/live");
        assert!(Url::parse("rtsp://10.0.0.1/x").is_err());
        assert_eq!(Url::parse("rtsp://localhost/a").unwrap().port, 554);
        assert_eq!(
            resolve_path("/live/bench/index.m3u8", "s1.mp4"),
            "/live/bench/s1.mp4"
        );
        assert_eq!(resolve_path("/a/b.m3u8?x=1", "/c.ts"), "/c.ts");
        assert_eq!(resolve_path("/a/b.m3u8", "http://h:1/d/e.ts"), "/d/e.ts");
    }
}
