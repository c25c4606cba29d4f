//! Just enough HTTP/1.1 for the HLS replay: requests and responses split out of a captured
//! direction (Content-Length and chunked bodies), and a blocking client connection.

use crate::tcp::HalfStream;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One request or response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpMessage {
    /// The request or status line.
    pub start_line: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (chunked bodies decoded).
    pub body: Vec<u8>,
    /// The head's bytes as sent (start line and headers, with the blank line).
    pub raw_head: Vec<u8>,
    /// Capture time of its first byte.
    pub time: Duration,
    /// Capture time of its last byte.
    pub end: Duration,
}

impl HttpMessage {
    /// The first header of this name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The status of a response.
    pub fn status(&self) -> Option<u16> {
        let mut p = self.start_line.split(' ');
        p.next().filter(|v| v.starts_with("HTTP/"))?;
        p.next()?.parse().ok()
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&str> {
        (!self.start_line.starts_with("HTTP/")).then(|| self.start_line.split(' ').next())?
    }

    /// The target of a request.
    pub fn target(&self) -> Option<&str> {
        self.method()?;
        self.start_line.split(' ').nth(1)
    }
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// Decodes a chunked body at the start of `data`: (body, bytes used), `None` if incomplete.
fn dechunk(data: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut pos = 0;
    loop {
        let line_end = pos + find(&data[pos..], b"\r\n")?;
        let size_text = std::str::from_utf8(&data[pos..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        pos = line_end + 2;
        if size == 0 {
            // Trailers end at an empty line.
            let end = pos + find(&data[pos..], b"\r\n")?;
            return Some((body, end + 2));
        }
        body.extend_from_slice(data.get(pos..pos + size)?);
        pos += size + 2;
    }
}

/// Parses one message at the start of `data`: (message, bytes used), `None` if incomplete.
/// A response of `HEAD` or with status 1xx/204/304 has no body; `to_close` lets a response
/// without length run to the end of `data`.
pub fn parse_one(data: &[u8], head_request: bool, to_close: bool) -> Option<(HttpMessage, usize)> {
    let head_end = find(data, b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&data[..head_end]);
    let mut lines = text.split("\r\n");
    let start_line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut m = HttpMessage {
        start_line,
        headers,
        raw_head: data[..head_end].to_vec(),
        ..HttpMessage::default()
    };
    let is_response = m.start_line.starts_with("HTTP/");
    let no_body = is_response
        && (head_request || matches!(m.status(), Some(100..=199) | Some(204) | Some(304)));
    if no_body {
        return Some((m, head_end));
    }
    if m.header("Transfer-Encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        let (body, used) = dechunk(&data[head_end..])?;
        m.body = body;
        return Some((m, head_end + used));
    }
    match m.header("Content-Length").map(|v| v.parse::<usize>()) {
        Some(Ok(n)) => {
            m.body = data.get(head_end..head_end + n)?.to_vec();
            Some((m, head_end + n))
        }
        Some(Err(_)) => None,
        None if is_response && to_close => {
            m.body = data[head_end..].to_vec();
            Some((m, data.len()))
        }
        None => Some((m, head_end)),
    }
}

/// The messages of a captured direction (up to its first gap); responses need the methods
/// of their requests (`HEAD` answers have no body).
pub fn parse_stream(half: &HalfStream, request_methods: Option<&[String]>) -> Vec<HttpMessage> {
    let data = half.contiguous_prefix();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let head = request_methods
            .and_then(|m| m.get(out.len()))
            .is_some_and(|m| m == "HEAD");
        let Some((mut m, used)) = parse_one(&data[pos..], head, half.fin) else {
            break;
        };
        m.time = super::rtsp_items::time_at(half, pos as u64);
        m.end = super::rtsp_items::time_at(half, (pos + used).saturating_sub(1) as u64);
        out.push(m);
        pos += used;
    }
    out
}

/// A blocking HTTP/1.1 client connection.
pub struct HttpConn {
    sock: TcpStream,
    buf: Vec<u8>,
}

impl HttpConn {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> io::Result<HttpConn> {
        let sock = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        sock.set_nodelay(true)?;
        sock.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(HttpConn {
            sock,
            buf: Vec::new(),
        })
    }

    /// Sends a request's bytes and reads its response (within `timeout`).
    pub fn exchange(
        &mut self,
        request: &[u8],
        head: bool,
        timeout: Duration,
    ) -> io::Result<HttpMessage> {
        self.sock.write_all(request)?;
        let deadline = Instant::now() + timeout;
        let mut closed = false;
        loop {
            if let Some((m, used)) = parse_one(&self.buf, head, closed) {
                self.buf.drain(..used);
                return Ok(m);
            }
            if closed {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection before answering",
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no answer within {timeout:?}"),
                ));
            }
            self.sock.set_read_timeout(Some(deadline - now))?;
            let mut chunk = [0u8; 64 * 1024];
            match self.sock.read(&mut chunk) {
                Ok(0) => closed = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }
}
