//! CORS: which origins may read responses (MediaMTX's `hlsAllowOrigins` / `apiAllowOrigins`).
//!
//! Matching follows MediaMTX: an entry is an origin (`https://example.org`, default ports
//! filled in, so `https://example.org` and `https://example.org:443` are the same), possibly
//! with `*` in the host (`https://*.example.org` matches `example.org` and any subdomain;
//! another `*` matches any run of characters). An origin that matches an entry is echoed back
//! with `Access-Control-Allow-Credentials: true`; otherwise, when the list holds `*`, the answer
//! is `Access-Control-Allow-Origin: *` without credentials (browsers refuse credentials with
//! `*`), also for requests without `Origin`, as MediaMTX does. An empty list disables CORS.
//!
//! `Vary: Origin` goes on every response whose CORS headers could differ with the `Origin`
//! header: when the list has a specific entry, or when the request carried an allowed `Origin`.

/// The CORS headers one response gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsHeaders {
    /// `Access-Control-Allow-Origin`, if any.
    pub allow_origin: Option<String>,
    /// Whether `Access-Control-Allow-Credentials: true` is sent.
    pub allow_credentials: bool,
    /// Whether `Vary: Origin` is sent.
    pub vary_origin: bool,
}

impl CorsHeaders {
    /// The header lines, in the order they are written.
    pub fn lines(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let origin = self
            .allow_origin
            .as_deref()
            .map(|o| ("Access-Control-Allow-Origin", o));
        let creds = self
            .allow_credentials
            .then_some(("Access-Control-Allow-Credentials", "true"));
        let vary = self.vary_origin.then_some(("Vary", "Origin"));
        origin.into_iter().chain(creds).chain(vary)
    }
}

/// A parsed allow-list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsPolicy {
    any: bool,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    scheme: String,
    host: String,
    port: String,
}

impl CorsPolicy {
    /// Parses the configured list (`*` and origins; unparsable entries never match).
    pub fn new(list: &[String]) -> CorsPolicy {
        let mut policy = CorsPolicy::default();
        for item in list {
            let item = item.trim();
            if item == "*" {
                policy.any = true;
            } else if let Some((scheme, host, port)) = split_origin(item) {
                policy.entries.push(Entry { scheme, host, port });
            }
        }
        policy
    }

    /// Whether any origin at all is allowed (the list is not empty).
    pub fn enabled(&self) -> bool {
        self.any || !self.entries.is_empty()
    }

    /// The CORS headers for a request with this `Origin` header (or none).
    pub fn headers_for(&self, origin: Option<&str>) -> CorsHeaders {
        let specific = !self.entries.is_empty();
        if let Some(o) = origin {
            if let Some((scheme, host, port)) = split_origin(o) {
                let matched = self
                    .entries
                    .iter()
                    .any(|e| e.scheme == scheme && e.port == port && host_matches(&e.host, &host));
                if matched {
                    return CorsHeaders {
                        allow_origin: Some(o.to_owned()),
                        allow_credentials: true,
                        vary_origin: true,
                    };
                }
            }
        }
        CorsHeaders {
            allow_origin: self.any.then(|| "*".to_owned()),
            allow_credentials: false,
            vary_origin: specific || (self.any && origin.is_some()),
        }
    }
}

/// `scheme://host[:port][/…]` → lower-case scheme, lower-case host, port (the scheme's default
/// when absent). `None` without a scheme or a host.
fn split_origin(s: &str) -> Option<(String, String, String)> {
    let (scheme, rest) = s.split_once("://")?;
    if scheme.is_empty() {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Userinfo never appears in an Origin; drop it if configured.
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (format!("[{h}]"), after.strip_prefix(':').unwrap_or(""))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p),
            None => (authority.to_owned(), ""),
        }
    };
    if host.is_empty() {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    let port = match (port, scheme.as_str()) {
        ("", "http") => "80".to_owned(),
        ("", "https") => "443".to_owned(),
        (p, _) => p.to_owned(),
    };
    Some((scheme, host.to_ascii_lowercase(), port))
}

enum Token {
    Byte(u8),
    /// `*`: any run of bytes.
    Any,
    /// `*.`: nothing, or any run of bytes ending with `.`.
    AnyDotted,
}

/// Matches `host` against a pattern where `*.` stands for an optional subdomain prefix and `*`
/// for any run of characters (O(pattern × host), no backtracking blow-up).
fn host_matches(pattern: &str, host: &str) -> bool {
    if !pattern.contains('*') {
        return pattern == host;
    }
    let p = pattern.as_bytes();
    let mut tokens = Vec::with_capacity(p.len());
    let mut i = 0;
    while i < p.len() {
        if p[i] == b'*' {
            if p.get(i + 1) == Some(&b'.') {
                tokens.push(Token::AnyDotted);
                i += 2;
            } else {
                tokens.push(Token::Any);
                i += 1;
            }
        } else {
            tokens.push(Token::Byte(p[i]));
            i += 1;
        }
    }
    let s = host.as_bytes();
    let n = s.len();
    // next[j]: the rest of the pattern (after the current token) matches s[j..].
    let mut next = vec![false; n + 1];
    next[n] = true;
    for tok in tokens.iter().rev() {
        let mut cur = vec![false; n + 1];
        match tok {
            Token::Byte(b) => {
                for j in 0..n {
                    cur[j] = s[j] == *b && next[j + 1];
                }
            }
            Token::Any => {
                cur[n] = next[n];
                for j in (0..n).rev() {
                    cur[j] = next[j] || cur[j + 1];
                }
            }
            Token::AnyDotted => {
                // dotted[j]: some k >= j has s[k] == '.' and next[k + 1].
                let mut dotted = false;
                cur[n] = next[n];
                for j in (0..n).rev() {
                    dotted = dotted || (s[j] == b'.' && next[j + 1]);
                    cur[j] = next[j] || dotted;
                }
            }
        }
        next = cur;
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(list: &[&str]) -> CorsPolicy {
        CorsPolicy::new(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    /// (list, origin, expected Access-Control-Allow-Origin, credentials, vary)
    type Case<'a> = (&'a [&'a str], Option<&'a str>, Option<&'a str>, bool, bool);

    #[test]
    fn matching_table() {
        let table: &[Case] = &[
            (&[], None, None, false, false),
            (&[], Some("http://a.com"), None, false, false),
            (&["*"], None, Some("*"), false, false),
            (&["*"], Some("https://example.com"), Some("*"), false, true),
            (
                &["http://example.com"],
                Some("http://another.com"),
                None,
                false,
                true,
            ),
            (&["http://example.com"], None, None, false, true),
            (
                &["http://example.com", "https://example.org"],
                Some("https://example.org"),
                Some("https://example.org"),
                true,
                true,
            ),
            (
                &["https://example.org"],
                Some("https://example.org:443"),
                Some("https://example.org:443"),
                true,
                true,
            ),
            (
                &["https://example.org"],
                Some("http://example.org"),
                None,
                false,
                true,
            ),
            (
                &["https://example.org:8443"],
                Some("https://example.org"),
                None,
                false,
                true,
            ),
            (
                &["https://*.example.org"],
                Some("https://test.example.org"),
                Some("https://test.example.org"),
                true,
                true,
            ),
            (
                &["https://*.example.org"],
                Some("https://example.org"),
                Some("https://example.org"),
                true,
                true,
            ),
            (
                &["https://*.example.org"],
                Some("https://badexample.org"),
                None,
                false,
                true,
            ),
            (
                &["http://*:3000"],
                Some("http://localhost:3000"),
                Some("http://localhost:3000"),
                true,
                true,
            ),
            (
                &["http://example.com", "*"],
                Some("http://example.com"),
                Some("http://example.com"),
                true,
                true,
            ),
            (
                &["http://example.com", "*"],
                Some("http://x.com"),
                Some("*"),
                false,
                true,
            ),
            (&["*"], Some("null"), Some("*"), false, true),
            (
                &["http://[::1]:8080"],
                Some("http://[::1]:8080"),
                Some("http://[::1]:8080"),
                true,
                true,
            ),
            (
                &["example.com"],
                Some("http://example.com"),
                None,
                false,
                false,
            ),
        ];
        for (list, origin, allow, creds, vary) in table {
            let h = policy(list).headers_for(*origin);
            assert_eq!(h.allow_origin.as_deref(), *allow, "{list:?} {origin:?}");
            assert_eq!(h.allow_credentials, *creds, "{list:?} {origin:?}");
            assert_eq!(h.vary_origin, *vary, "{list:?} {origin:?}");
        }
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("*.a.b", "a.b"));
        assert!(host_matches("*.a.b", "x.y.a.b"));
        assert!(!host_matches("*.a.b", "xa.b"));
        assert!(host_matches("*", ""));
        assert!(host_matches("a*c", "abbbc"));
        assert!(!host_matches("a*c", "abbb"));
        assert!(host_matches("**.x", "x"));
        let long = "a".repeat(5000);
        assert!(!host_matches("*a*a*a*a*a*b", &long));
    }
}
