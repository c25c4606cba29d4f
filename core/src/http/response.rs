//! Responses: what the caller answers with, and their serialization into shared chunks.
//!
//! The head is written as one chunk and the body chunks follow as they are (no copy), so a media
//! segment held once in memory goes out to every reader with a vectored write. The body length
//! is always known: `Content-Length` is always sent, chunked encoding never.

use super::cors::CorsHeaders;
use bytes::Bytes;

/// A response body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Body {
    /// No body.
    #[default]
    Empty,
    /// One buffer.
    Bytes(Bytes),
    /// Several buffers sent back to back (a segment made of `moof` + `mdat` parts…).
    Chunks(Vec<Bytes>),
}

impl Body {
    /// The body length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Body::Empty => 0,
            Body::Bytes(b) => b.len(),
            Body::Chunks(c) => c.iter().map(Bytes::len).sum(),
        }
    }

    /// Whether the body has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push_into(self, out: &mut Vec<Bytes>) {
        match self {
            Body::Empty => {}
            Body::Bytes(b) => {
                if !b.is_empty() {
                    out.push(b);
                }
            }
            Body::Chunks(c) => out.extend(c.into_iter().filter(|b| !b.is_empty())),
        }
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Body {
        Body::Bytes(b)
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Body {
        Body::Bytes(Bytes::from(v))
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::Bytes(Bytes::from_static(s.as_bytes()))
    }
}

/// A response to one request ([`super::HttpServerConnection::respond`]).
///
/// The connection adds `Server`, the CORS headers, `Connection` when needed and
/// `Content-Length`; it drops any `Content-Length`, `Transfer-Encoding` or `Connection` header
/// given here (a `Connection: close` given here makes the connection close after this
/// response), and any header whose name is not a token or whose value holds CR, LF or NUL.
/// When the caller sets `Access-Control-Allow-Origin` itself, no CORS header is added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code (200..=999; anything else is sent as 500).
    pub status: u16,
    /// Header fields, written in this order after `Server`.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Body,
}

impl Response {
    /// A response with a `Content-Type` and a body.
    pub fn new(status: u16, content_type: &str, body: Body) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body,
        }
    }

    /// A response without headers or body.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Body::Empty,
        }
    }

    /// A `text/plain; charset=utf-8` response.
    pub fn text(status: u16, text: &str) -> Response {
        Response::new(
            status,
            "text/plain; charset=utf-8",
            Body::Bytes(Bytes::copy_from_slice(text.as_bytes())),
        )
    }

    /// 405 with `Allow: allowed` (e.g. `"GET, HEAD, OPTIONS"`).
    pub fn method_not_allowed(allowed: &str) -> Response {
        Response::empty(405).with_header("Allow", allowed)
    }

    /// Adds a header field.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Whether the caller asked to close the connection after this response.
    pub(super) fn asks_close(&self) -> bool {
        self.headers.iter().any(|(n, v)| {
            n.eq_ignore_ascii_case("connection")
                && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
        })
    }
}

/// The standard reason phrase of a status code (empty when unknown).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// What the `Connection` header of a response says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionHeader {
    /// No `Connection` header (HTTP/1.1 keep-alive).
    None,
    /// `Connection: close`: the connection closes after this response.
    Close,
    /// `Connection: keep-alive` (an HTTP/1.0 client asked for it).
    KeepAlive,
}

/// How one response is framed.
#[derive(Debug, Clone, Copy)]
pub struct Framing<'a> {
    /// The `Server` header value.
    pub server: &'a str,
    /// A HEAD request: send the head only (with the body's `Content-Length`).
    pub head_only: bool,
    /// The `Connection` header.
    pub connection: ConnectionHeader,
    /// The CORS headers.
    pub cors: &'a CorsHeaders,
}

/// Serializes `resp` as a head chunk followed by the body chunks, appended to `out`.
///
/// Order: status line, `Server`, the caller's headers, the CORS headers, `Connection`,
/// `Content-Length`. 1xx, 204 and 304 responses get neither `Content-Length` nor a body
/// (RFC 9110 §8.6, §15.3.5, §15.4.5).
pub fn encode(resp: Response, framing: &Framing<'_>, out: &mut Vec<Bytes>) {
    let status = if (200..=999).contains(&resp.status) {
        resp.status
    } else {
        500
    };
    let mut head = Vec::with_capacity(160 + resp.headers.len() * 48);
    head.extend_from_slice(b"HTTP/1.1 ");
    head.extend_from_slice(status.to_string().as_bytes());
    head.push(b' ');
    head.extend_from_slice(reason_phrase(status).as_bytes());
    head.extend_from_slice(b"\r\n");
    push_field(&mut head, "Server", framing.server);
    let mut caller_cors = false;
    for (name, value) in &resp.headers {
        if !valid_name(name) || !valid_value(value) {
            tracing::debug!("dropping invalid response header {name:?}");
            continue;
        }
        if ["content-length", "transfer-encoding", "connection"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n))
        {
            continue;
        }
        caller_cors |= name.eq_ignore_ascii_case("access-control-allow-origin");
        push_field(&mut head, name, value);
    }
    if !caller_cors {
        for (name, value) in framing.cors.lines() {
            push_field(&mut head, name, value);
        }
    }
    match framing.connection {
        ConnectionHeader::None => {}
        ConnectionHeader::Close => push_field(&mut head, "Connection", "close"),
        ConnectionHeader::KeepAlive => push_field(&mut head, "Connection", "keep-alive"),
    }
    let bodiless = status == 204 || status == 304;
    if !bodiless {
        push_field(&mut head, "Content-Length", &resp.body.len().to_string());
    }
    head.extend_from_slice(b"\r\n");
    out.push(Bytes::from(head));
    if !bodiless && !framing.head_only {
        resp.body.push_into(out);
    }
}

fn push_field(head: &mut Vec<u8>, name: &str, value: &str) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value.as_bytes());
    head.extend_from_slice(b"\r\n");
}

/// A header name is a non-empty token (RFC 9110 §5.1).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A header value holds no CR, LF or NUL (the bytes that would break the framing).
fn valid_value(value: &str) -> bool {
    !value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(
        resp: Response,
        head_only: bool,
        connection: ConnectionHeader,
        cors: &CorsHeaders,
    ) -> String {
        let mut out = Vec::new();
        let framing = Framing {
            server: "weir",
            head_only,
            connection,
            cors,
        };
        encode(resp, &framing, &mut out);
        out.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    #[test]
    fn serialization_table() {
        let none = CorsHeaders::default();
        let star = CorsHeaders {
            allow_origin: Some("*".into()),
            allow_credentials: false,
            vary_origin: true,
        };
        let echo = CorsHeaders {
            allow_origin: Some("https://a.b".into()),
            allow_credentials: true,
            vary_origin: true,
        };
        use ConnectionHeader as C;
        let table: Vec<(Response, bool, C, &CorsHeaders, &str)> = vec![
            (
                Response::text(200, "hi"),
                false,
                C::None,
                &none,
                "HTTP/1.1 200 OK\r\nServer: weir\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\nhi",
            ),
            (
                Response::text(200, "hi"),
                true,
                C::None,
                &none,
                "HTTP/1.1 200 OK\r\nServer: weir\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\n",
            ),
            (
                Response::empty(404),
                false,
                C::Close,
                &star,
                "HTTP/1.1 404 Not Found\r\nServer: weir\r\nAccess-Control-Allow-Origin: *\r\nVary: Origin\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            ),
            (
                Response::new(200, "application/vnd.apple.mpegurl", Body::from("#EXTM3U\n"))
                    .with_header("Cache-Control", "max-age=1"),
                false,
                C::KeepAlive,
                &echo,
                "HTTP/1.1 200 OK\r\nServer: weir\r\nContent-Type: application/vnd.apple.mpegurl\r\nCache-Control: max-age=1\r\nAccess-Control-Allow-Origin: https://a.b\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\nConnection: keep-alive\r\nContent-Length: 8\r\n\r\n#EXTM3U\n",
            ),
            (
                Response::method_not_allowed("GET, HEAD"),
                false,
                C::None,
                &none,
                "HTTP/1.1 405 Method Not Allowed\r\nServer: weir\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n\r\n",
            ),
            (
                Response::empty(204).with_header("X", "y"),
                false,
                C::None,
                &none,
                "HTTP/1.1 204 No Content\r\nServer: weir\r\nX: y\r\n\r\n",
            ),
            (
                Response::text(304, "ignored"),
                false,
                C::None,
                &none,
                "HTTP/1.1 304 Not Modified\r\nServer: weir\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
            ),
            (
                Response::new(299, "a/b", Body::Chunks(vec![Bytes::from_static(b"ab"), Bytes::new(), Bytes::from_static(b"c")])),
                false,
                C::None,
                &none,
                "HTTP/1.1 299 \r\nServer: weir\r\nContent-Type: a/b\r\nContent-Length: 3\r\n\r\nabc",
            ),
            (
                Response::empty(42),
                false,
                C::None,
                &none,
                "HTTP/1.1 500 Internal Server Error\r\nServer: weir\r\nContent-Length: 0\r\n\r\n",
            ),
            (
                Response::empty(200)
                    .with_header("Content-Length", "99")
                    .with_header("Transfer-Encoding", "chunked")
                    .with_header("connection", "close")
                    .with_header("Bad Name", "x")
                    .with_header("X-Inject", "a\r\nEvil: 1")
                    .with_header("X-Nul", "a\0")
                    .with_header("", "x"),
                false,
                C::None,
                &star,
                "HTTP/1.1 200 OK\r\nServer: weir\r\nAccess-Control-Allow-Origin: *\r\nVary: Origin\r\nContent-Length: 0\r\n\r\n",
            ),
            (
                Response::empty(200).with_header("Access-Control-Allow-Origin", "https://own"),
                false,
                C::None,
                &echo,
                "HTTP/1.1 200 OK\r\nServer: weir\r\nAccess-Control-Allow-Origin: https://own\r\nContent-Length: 0\r\n\r\n",
            ),
        ];
        for (i, (resp, head_only, conn, cors, expected)) in table.into_iter().enumerate() {
            assert_eq!(wire(resp, head_only, conn, cors), expected, "case {i}");
        }
    }

    #[test]
    fn body_chunks_are_shared_not_copied() {
        let seg = Bytes::from(vec![7u8; 1000]);
        let mut out = Vec::new();
        let cors = CorsHeaders::default();
        let framing = Framing {
            server: "weir",
            head_only: false,
            connection: ConnectionHeader::None,
            cors: &cors,
        };
        encode(
            Response::new(
                200,
                "video/mp4",
                Body::Chunks(vec![seg.clone(), seg.clone()]),
            ),
            &framing,
            &mut out,
        );
        assert_eq!(out.len(), 3);
        assert_eq!(out[1].as_ptr(), seg.as_ptr());
        assert_eq!(out[2].as_ptr(), seg.as_ptr());
        assert!(Response::empty(200)
            .with_header("Connection", "Keep-Alive, close")
            .asks_close());
        assert!(!Response::empty(200).asks_close());
    }
}
