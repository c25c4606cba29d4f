//! A minimal incremental HTTP/1.1 response reader for the HLS readers: head parsed with
//! httparse, body by `Content-Length` or chunked transfer coding; one request in flight.

/// A whole response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The body (chunked coding removed).
    pub body: Vec<u8>,
}

/// How the body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyLen {
    Length(usize),
    Chunked,
}

/// Where the chunked decoder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Size,
    Data(usize),
    DataEnd(usize),
    Trailer,
}

/// Reads one response at a time from the bytes of a connection.
#[derive(Debug)]
pub struct ResponseReader {
    /// The head being read, then the current chunk-size or trailer line.
    line: Vec<u8>,
    head: Option<(u16, BodyLen)>,
    body: Vec<u8>,
    chunk: Chunk,
    /// The largest body accepted.
    max_body: usize,
}

impl ResponseReader {
    /// A reader accepting bodies up to `max_body` bytes.
    pub fn new(max_body: usize) -> ResponseReader {
        ResponseReader {
            line: Vec::new(),
            head: None,
            body: Vec::new(),
            chunk: Chunk::Size,
            max_body,
        }
    }

    /// Forgets any partial response (after a request is abandoned).
    pub fn reset(&mut self) {
        self.line.clear();
        self.head = None;
        self.body = Vec::new();
        self.chunk = Chunk::Size;
    }

    /// Takes `data`; returns the response once complete (bytes after it are dropped: no
    /// pipelining).
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<HttpResponse>, String> {
        let mut data = data;
        if self.head.is_none() {
            self.line.extend_from_slice(data);
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut r = httparse::Response::new(&mut headers);
            let n = match r.parse(&self.line).map_err(|e| format!("HTTP: {e}"))? {
                httparse::Status::Complete(n) => n,
                httparse::Status::Partial => {
                    if self.line.len() > 64 * 1024 {
                        return Err("HTTP head too large".into());
                    }
                    return Ok(None);
                }
            };
            let status = r.code.unwrap_or(0);
            let header = |name: &str| {
                r.headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
            };
            let len = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
                BodyLen::Chunked
            } else if let Some(l) = header("content-length") {
                BodyLen::Length(l.parse().map_err(|_| format!("bad Content-Length {l}"))?)
            } else if status == 204 || status == 304 {
                BodyLen::Length(0)
            } else {
                return Err(
                    "HTTP response without length (connection-delimited bodies are not read)"
                        .into(),
                );
            };
            self.head = Some((status, len));
            let rest = self.line.split_off(n);
            self.line.clear();
            self.body = Vec::new();
            self.chunk = Chunk::Size;
            return self.body_bytes(&rest);
        }
        self.body_bytes(std::mem::take(&mut data))
    }

    /// Takes body bytes.
    fn body_bytes(&mut self, data: &[u8]) -> Result<Option<HttpResponse>, String> {
        let Some((status, len)) = self.head else {
            return Ok(None);
        };
        let done = match len {
            BodyLen::Length(l) => {
                if l > self.max_body {
                    return Err(format!("HTTP body of {l} bytes is too large"));
                }
                if self.body.capacity() < l {
                    self.body.reserve_exact(l - self.body.len());
                }
                let take = (l - self.body.len()).min(data.len());
                self.body.extend_from_slice(&data[..take]);
                self.body.len() == l
            }
            BodyLen::Chunked => self.chunked(data)?,
        };
        if !done {
            return Ok(None);
        }
        self.head = None;
        self.line.clear();
        Ok(Some(HttpResponse {
            status,
            body: std::mem::take(&mut self.body),
        }))
    }

    /// Runs the chunked decoder over `data`; true once the last chunk and trailer are read.
    fn chunked(&mut self, data: &[u8]) -> Result<bool, String> {
        let mut i = 0;
        while i < data.len() {
            match self.chunk {
                Chunk::Size | Chunk::Trailer => {
                    let Some(nl) = memchr::memchr(b'\n', &data[i..]) else {
                        self.line.extend_from_slice(&data[i..]);
                        return Ok(false);
                    };
                    self.line.extend_from_slice(&data[i..i + nl]);
                    i += nl + 1;
                    let line = String::from_utf8_lossy(&self.line).trim().to_owned();
                    self.line.clear();
                    if self.chunk == Chunk::Trailer {
                        if line.is_empty() {
                            return Ok(true);
                        }
                        continue;
                    }
                    let hex = line.split(';').next().unwrap_or("").trim();
                    let size = usize::from_str_radix(hex, 16)
                        .map_err(|_| format!("bad chunk size {hex:?}"))?;
                    if self.body.len() + size > self.max_body {
                        return Err("chunked HTTP body too large".into());
                    }
                    self.chunk = if size == 0 {
                        Chunk::Trailer
                    } else {
                        Chunk::Data(size)
                    };
                }
                Chunk::Data(n) => {
                    let take = n.min(data.len() - i);
                    self.body.extend_from_slice(&data[i..i + take]);
                    i += take;
                    self.chunk = if take == n {
                        Chunk::DataEnd(2)
                    } else {
                        Chunk::Data(n - take)
                    };
                }
                Chunk::DataEnd(k) => {
                    let take = k.min(data.len() - i);
                    i += take;
                    self.chunk = if take == k {
                        Chunk::Size
                    } else {
                        Chunk::DataEnd(k - take)
                    };
                }
            }
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_length_and_chunked_bodies_in_pieces() {
        let mut r = ResponseReader::new(1 << 20);
        let whole = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
        for (i, b) in whole.iter().enumerate() {
            let got = r.feed(&[*b]).unwrap();
            assert_eq!(got.is_some(), i + 1 == whole.len());
        }
        let chunked = b"HTTP/1.1 404 NF\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n";
        let mut out = None;
        for piece in chunked.chunks(7) {
            if let Some(resp) = r.feed(piece).unwrap() {
                out = Some(resp);
            }
        }
        assert_eq!(
            out,
            Some(HttpResponse {
                status: 404,
                body: b"abcde".to_vec()
            })
        );
    }
}
