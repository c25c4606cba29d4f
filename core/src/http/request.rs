//! Requests: the method, the request handed to the caller, and the parsing of one request head
//! (request line and header fields, with `httparse`) into framing decisions.

use super::path;
use bytes::Bytes;
use std::fmt;

/// A request method. Methods are case-sensitive (RFC 9110 §9.1): `get` is [`Method::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: answered like `GET`; the connection drops the body.
    Head,
    /// `OPTIONS`.
    Options,
    /// `POST`.
    Post,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// Any other method token, as sent.
    Other(String),
}

impl Method {
    /// Parses a method token.
    pub fn from_token(token: &str) -> Method {
        match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "OPTIONS" => Method::Options,
            "POST" => Method::Post,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            other => Method::Other(other.to_owned()),
        }
    }

    /// The method token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifies a request on its connection, in arrival order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub(super) u64);

impl RequestId {
    /// The request's position on its connection (0 for the first).
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A complete request, handed to the caller with [`super::HttpEvent::Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The id to answer with ([`super::HttpServerConnection::respond`]).
    pub id: RequestId,
    /// The method.
    pub method: Method,
    /// The percent-decoded path, query removed; always starts with `/`, never holds a `..`
    /// segment, a backslash or a control character.
    pub path: String,
    /// The raw query (after `?`, not decoded); empty when absent.
    pub query: String,
    /// The header fields in arrival order, names in lower case, values trimmed (bytes that are
    /// not UTF-8 are replaced).
    pub headers: Vec<(String, String)>,
    /// The body (`Content-Length` bytes; empty when absent).
    pub body: Bytes,
    /// The `Origin` header, if any.
    pub origin: Option<String>,
}

impl Request {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded value of the first query parameter `key` (`+` is a space).
    pub fn query_param(&self, key: &str) -> Option<String> {
        path::query_param(&self.query, key)
    }
}

/// A request refused while parsing: the status to answer and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadError {
    /// The status to answer.
    pub status: u16,
    /// What was wrong (logged).
    pub reason: String,
}

impl HeadError {
    fn new(status: u16, reason: impl Into<String>) -> HeadError {
        HeadError {
            status,
            reason: reason.into(),
        }
    }
}

/// A parsed request head: everything but the body, plus the framing decisions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The method.
    pub method: Method,
    /// The raw request target.
    pub target: String,
    /// The minor version (0 for HTTP/1.0, 1 for HTTP/1.1).
    pub minor_version: u8,
    /// Lower-case names, trimmed values.
    pub headers: Vec<(String, String)>,
    /// The body length.
    pub content_length: usize,
    /// Whether the connection stays open after the response.
    pub keep_alive: bool,
    /// Whether the client waits for `100 Continue` before sending the body.
    pub expect_continue: bool,
}

impl Head {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the request line says about the version, looked at as soon as the first line is
/// complete: `Err(505)` for HTTP/2 (`PRI * HTTP/2.0`) and any version other than 1.0 and 1.1;
/// `Err(400)` for a line without three parts (HTTP/0.9's `GET /` included, as Go's server — and
/// so MediaMTX — answers it). Anything else malformed is left to `httparse`.
pub fn check_request_line(line: &[u8]) -> Result<(), HeadError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let parts: Vec<&[u8]> = line.split(|b| *b == b' ').collect();
    match parts.as_slice() {
        // (An empty line is a tolerated leading CRLF; httparse skips it.)
        [_, _] => Err(HeadError::new(400, "malformed request line")),
        [one] if !one.is_empty() => Err(HeadError::new(400, "malformed request line")),
        [_, _, version] if version.starts_with(b"HTTP/") => match *version {
            b"HTTP/1.0" | b"HTTP/1.1" => Ok(()),
            v => Err(HeadError::new(
                505,
                format!(
                    "unsupported protocol version {}",
                    String::from_utf8_lossy(v).escape_debug()
                ),
            )),
        },
        _ => Ok(()),
    }
}

/// Parses a complete head (`head` ends with the blank line) with at most `max_headers` fields
/// and at most `max_body` body bytes.
pub fn parse_head(head: &[u8], max_headers: usize, max_body: usize) -> Result<Head, HeadError> {
    let mut fields = vec![httparse::EMPTY_HEADER; max_headers];
    let mut req = httparse::Request::new(&mut fields);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(HeadError::new(400, "truncated head")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HeadError::new(
                431,
                format!("more than {max_headers} header fields"),
            ))
        }
        Err(httparse::Error::Version) => {
            return Err(HeadError::new(505, "unsupported protocol version"))
        }
        Err(e) => return Err(HeadError::new(400, format!("malformed head: {e}"))),
    }
    let method = Method::from_token(req.method.unwrap_or(""));
    let target = req.path.unwrap_or("").to_owned();
    let minor_version = req.version.unwrap_or(1);
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value);
            (h.name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect();

    let mut hosts = 0;
    let mut content_length: Option<u64> = None;
    let mut transfer_encoding = false;
    let mut close = false;
    let mut keep_alive_token = false;
    let mut expect_continue = false;
    for (name, value) in &headers {
        match name.as_str() {
            "host" => hosts += 1,
            "content-length" => {
                // A list of identical values is allowed (RFC 9110 §8.6); anything else is not.
                for item in value.split(',') {
                    let item = item.trim();
                    let n = parse_decimal(item).ok_or_else(|| {
                        HeadError::new(400, format!("invalid Content-Length {item:?}"))
                    })?;
                    if content_length.is_some_and(|c| c != n) {
                        return Err(HeadError::new(400, "conflicting Content-Length values"));
                    }
                    content_length = Some(n);
                }
            }
            "transfer-encoding" => transfer_encoding = true,
            "connection" => {
                for token in value.split(',') {
                    let token = token.trim();
                    close |= token.eq_ignore_ascii_case("close");
                    keep_alive_token |= token.eq_ignore_ascii_case("keep-alive");
                }
            }
            "expect" => expect_continue |= value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
    }
    if minor_version == 1 && hosts != 1 {
        let what = if hosts == 0 { "missing" } else { "repeated" };
        return Err(HeadError::new(400, format!("{what} Host header")));
    }
    if transfer_encoding {
        // Chunked request bodies are not supported: nothing weir serves takes a streamed body.
        return Err(HeadError::new(
            501,
            "Transfer-Encoding in requests is not supported",
        ));
    }
    let content_length = content_length.unwrap_or(0);
    if content_length > max_body as u64 {
        return Err(HeadError::new(
            413,
            format!("body of {content_length} bytes exceeds the limit of {max_body}"),
        ));
    }
    let keep_alive = if minor_version == 0 {
        keep_alive_token && !close
    } else {
        !close
    };
    Ok(Head {
        method,
        target,
        minor_version,
        headers,
        // content_length <= max_body, which is a usize.
        content_length: usize::try_from(content_length).unwrap_or(max_body),
        keep_alive,
        expect_continue: expect_continue && minor_version == 1,
    })
}

/// `1*DIGIT` as a u64; `None` when empty, not all digits, or too large.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Head, HeadError> {
        parse_head(s.as_bytes(), 8, 100)
    }

    #[test]
    fn methods_round_trip() {
        for m in [
            "GET", "HEAD", "OPTIONS", "POST", "PATCH", "DELETE", "PUT", "get",
        ] {
            assert_eq!(Method::from_token(m).as_str(), m);
        }
        assert_eq!(Method::from_token("get"), Method::Other("get".into()));
    }

    #[test]
    fn request_line_versions() {
        assert!(check_request_line(b"GET / HTTP/1.1\r").is_ok());
        assert!(check_request_line(b"GET / HTTP/1.0").is_ok());
        for line in [&b"garbage"[..], b"GET /\r", b"\x00\x01 garbage"] {
            assert_eq!(
                check_request_line(line).unwrap_err().status,
                400,
                "{line:?}"
            );
        }
        for line in [&b"PRI * HTTP/2.0\r"[..], b"GET / HTTP/1.2", b"GET / HTTP/3"] {
            assert_eq!(check_request_line(line).unwrap_err().status, 505);
        }
    }

    #[test]
    fn framing_decisions() {
        let h = parse("GET /a HTTP/1.1\r\nHost: x\r\nX-A:  b \r\n\r\n").unwrap();
        assert_eq!(
            h.headers,
            vec![("host".into(), "x".into()), ("x-a".into(), "b".into())]
        );
        assert!(h.keep_alive && h.content_length == 0 && !h.expect_continue);
        let h = parse("GET /a HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n").unwrap();
        assert!(!h.keep_alive);
        let h = parse("GET /a HTTP/1.0\r\n\r\n").unwrap();
        assert!(!h.keep_alive);
        let h = parse("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        assert!(h.keep_alive);
        let h = parse("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\n").unwrap();
        assert_eq!(h.content_length, 5);
        let h = parse("POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n\r\n").unwrap();
        assert!(h.expect_continue);
    }

    #[test]
    fn refusals() {
        let table: &[(&str, u16)] = &[
            ("GET /a HTTP/1.1\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", 413),
            ("GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
            ("GET /a HTTP/1.1\r\nHost : x\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
            ("GET /a HTTP/1.1\r\nHost: x\rY: z\r\n\r\n", 400),
            ("GET /a HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            ("GET  /a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            ("G(T /a HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\nH: 1\r\n\r\n",
                431,
            ),
        ];
        for (head, status) in table {
            assert_eq!(parse(head).unwrap_err().status, *status, "{head:?}");
        }
    }
}
