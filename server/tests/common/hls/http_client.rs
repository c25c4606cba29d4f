//! [`HttpClient`], a tiny blocking HTTP/1.1 client over `std::net::TcpStream` (keep-alive,
//! `Content-Length` bodies, raw bytes for bad requests), its [`HttpResponse`]s, and [`digest`]
//! to compare downloads.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// One HTTP response.
#[derive(Clone, Debug, Default)]
pub struct HttpResponse {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// Header fields in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (empty for HEAD, 204 and 304).
    pub body: Vec<u8>,
    /// From the request's last byte sent (or the start of the read) to the response's last byte.
    pub elapsed: Duration,
}

impl HttpResponse {
    /// The first header field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the server keeps the connection open after this response.
    pub fn keeps_alive(&self) -> bool {
        let close = self
            .header("Connection")
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")));
        !close && self.version == "HTTP/1.1"
    }

    /// `"<status> <reason> (<n> bytes)"`, for messages.
    pub fn summary(&self) -> String {
        format!(
            "{} {} ({} bytes, {:?})",
            self.status,
            self.reason,
            self.body.len(),
            self.elapsed
        )
    }
}

/// A blocking HTTP/1.1 client on one keep-alive TCP connection to 127.0.0.1.
///
/// Bodies must be delimited by `Content-Length` (or by the connection's close); a chunked
/// response is an error (weir never sends one). Every read has a deadline ([`Self::timeout`],
/// 15 s by default): a held request (LL-HLS blocking reload) is answered well within it.
pub struct HttpClient {
    stream: TcpStream,
    buf: Vec<u8>,
    port: u16,
    sent_at: Option<Instant>,
    /// The longest a response may take.
    pub timeout: Duration,
}

impl HttpClient {
    /// Connects to `127.0.0.1:port`; panics if it cannot.
    pub fn connect(port: u16) -> HttpClient {
        HttpClient::try_connect(port).unwrap_or_else(|e| panic!("connect to 127.0.0.1:{port}: {e}"))
    }

    /// Connects to `127.0.0.1:port`.
    pub fn try_connect(port: u16) -> io::Result<HttpClient> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        Ok(HttpClient {
            stream,
            buf: Vec::new(),
            port,
            sent_at: None,
            timeout: Duration::from_secs(15),
        })
    }

    /// The client's `ip:port`, as weir logs its peers.
    pub fn local_addr(&self) -> String {
        self.stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    /// Sends `METHOD target HTTP/1.1` with `Host` and `headers`, and reads the response.
    pub fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
    ) -> io::Result<HttpResponse> {
        let mut req = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n",
            self.port
        );
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        req.push_str("\r\n");
        self.send_raw(req.as_bytes())?;
        self.read_response(method == "HEAD")
    }

    /// `GET target`.
    pub fn get(&mut self, target: &str) -> io::Result<HttpResponse> {
        self.request("GET", target, &[])
    }

    /// `HEAD target`.
    pub fn head(&mut self, target: &str) -> io::Result<HttpResponse> {
        self.request("HEAD", target, &[])
    }

    /// `GET target`, which must answer 200; `Err` says what came instead.
    pub fn get_ok(&mut self, target: &str) -> Result<HttpResponse, String> {
        match self.get(target) {
            Ok(r) if r.status == 200 => Ok(r),
            Ok(r) => Err(format!("GET {target}: {} {}", r.summary(), r.text().trim())),
            Err(e) => Err(format!("GET {target}: {e}")),
        }
    }

    /// Writes raw bytes (a request, or garbage); the response timer starts now.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()?;
        self.sent_at = Some(Instant::now());
        Ok(())
    }

    /// Reads one response (skipping `1xx` interim ones). `head_only`: the answer to a HEAD
    /// request (no body whatever `Content-Length` says).
    pub fn read_response(&mut self, head_only: bool) -> io::Result<HttpResponse> {
        let start = self.sent_at.take().unwrap_or_else(Instant::now);
        let deadline = Instant::now() + self.timeout;
        loop {
            let end = loop {
                if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                    break i + 4;
                }
                if self.buf.len() > 1 << 20 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "response head over 1 MiB",
                    ));
                }
                if self.fill(deadline)? == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "connection closed before a complete response head ({} bytes: {:?})",
                            self.buf.len(),
                            String::from_utf8_lossy(&self.buf)
                        ),
                    ));
                }
            };
            let head: Vec<u8> = self.buf.drain(..end).collect();
            let mut resp = parse_response_head(&head)?;
            if (100..200).contains(&resp.status) {
                continue;
            }
            let len = if head_only || resp.status == 204 || resp.status == 304 {
                Some(0)
            } else if resp.header("Transfer-Encoding").is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "Transfer-Encoding in a response: the test client reads Content-Length bodies only",
                ));
            } else {
                match resp.header("Content-Length") {
                    Some(v) => Some(v.trim().parse::<usize>().map_err(|_| {
                        io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("bad Content-Length {v:?}"),
                        )
                    })?),
                    None => None,
                }
            };
            match len {
                Some(n) => {
                    while self.buf.len() < n {
                        if self.fill(deadline)? == 0 {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                format!(
                                    "connection closed after {} of {n} body bytes",
                                    self.buf.len()
                                ),
                            ));
                        }
                    }
                    resp.body = self.buf.drain(..n).collect();
                }
                None => {
                    // Delimited by the close.
                    while self.fill(deadline)? > 0 {}
                    resp.body = std::mem::take(&mut self.buf);
                }
            }
            resp.elapsed = start.elapsed();
            return Ok(resp);
        }
    }

    /// Waits up to `timeout` for the server to close the connection (EOF or reset); `Err` if
    /// it sends more bytes or keeps it open.
    pub fn wait_closed(&mut self, timeout: Duration) -> Result<(), String> {
        if !self.buf.is_empty() {
            return Err(format!(
                "{} unexpected bytes after the response: {:?}",
                self.buf.len(),
                String::from_utf8_lossy(&self.buf)
            ));
        }
        let deadline = Instant::now() + timeout;
        match self.fill(deadline) {
            Ok(0) => Ok(()),
            Ok(n) => Err(format!(
                "{n} unexpected bytes after the response: {:?}",
                String::from_utf8_lossy(&self.buf)
            )),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(format!("still open after {timeout:?}: {e}")),
        }
    }

    /// Closes the connection at once, whatever is pending (a client that vanishes).
    pub fn vanish(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Reads once (until `deadline`) and appends to the buffer; 0 at EOF.
    fn fill(&mut self, deadline: Instant) -> io::Result<usize> {
        let mut tmp = [0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no response within {:?}", self.timeout),
                ));
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut tmp) {
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    return Ok(n);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_response_head(head: &[u8]) -> io::Result<HttpResponse> {
    let bad = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let text = std::str::from_utf8(head).map_err(|_| bad("response head is not UTF-8".into()))?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("").to_string();
    if !version.starts_with("HTTP/1.") {
        return Err(bad(format!("bad status line {status_line:?}")));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let reason = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (n, v) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header line {line:?}")))?;
        headers.push((n.trim().to_string(), v.trim().to_string()));
    }
    Ok(HttpResponse {
        version,
        status,
        reason,
        headers,
        ..Default::default()
    })
}

/// 64-bit FNV-1a of `bytes` (to compare downloads cheaply).
pub fn digest(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}
