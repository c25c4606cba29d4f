//! Deterministic tests of the connection on a fake clock, with a tiny in-test driver.

mod behaviour;
mod errors;
mod proptests;

use super::*;
use bytes::{Bytes, BytesMut};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A driver that follows the driving rule: feed, then drain events and bytes.
pub(super) struct Driver {
    pub conn: HttpServerConnection,
    pub buf: BytesMut,
    pub now: Instant,
    /// Every request received, in order.
    pub requests: Vec<Request>,
    /// Close reasons received.
    pub closes: Vec<String>,
    /// Chunks written, not yet taken by [`Driver::take_written`].
    pub out: Vec<Bytes>,
}

impl Driver {
    pub fn new() -> Driver {
        Driver::with(HttpServerConfig::default())
    }

    // The fake clock needs one real base instant; only offsets from it are used after that.
    #[allow(clippy::disallowed_methods)]
    pub fn with(cfg: HttpServerConfig) -> Driver {
        let now = Instant::now();
        let peer = "127.0.0.1:40000".parse().unwrap();
        Driver {
            conn: HttpServerConnection::new(
                Arc::new(cfg),
                peer,
                now,
                "[HLS] [conn 127.0.0.1:40000]".into(),
            ),
            buf: BytesMut::new(),
            now,
            requests: Vec::new(),
            closes: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Appends bytes, drives the connection; returns the requests that came out.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Request> {
        self.buf.extend_from_slice(bytes);
        self.conn.handle_input(self.now, &mut self.buf);
        self.drain()
    }

    /// Drains events and bytes; returns the new requests.
    pub fn drain(&mut self) -> Vec<Request> {
        let mut new = Vec::new();
        while let Some(ev) = self.conn.poll_event() {
            match ev {
                HttpEvent::Request(r) => new.push(r),
                HttpEvent::Close { reason } => self.closes.push(reason),
            }
        }
        while self.conn.poll_transmit(&mut self.out) {}
        self.requests.extend(new.iter().cloned());
        new
    }

    /// Answers a request and drains.
    pub fn answer(&mut self, id: RequestId, resp: Response) {
        self.conn.respond(id, resp);
        self.drain();
    }

    /// What was written since the last call, as text.
    pub fn take_written(&mut self) -> String {
        let s = self
            .out
            .iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect();
        self.out.clear();
        s
    }

    /// Advances the fake clock and runs the timer if it is due.
    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        if self.conn.poll_timeout().is_some_and(|t| t <= self.now) {
            self.conn.handle_timeout(self.now);
        }
        self.drain();
    }
}

/// A GET with a Host header.
pub(super) fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n")
}

/// The text body of a request's answer, used to tell answers apart.
pub(super) fn ok(body: &str) -> Response {
    Response::text(200, body)
}

/// The exact wire form of `ok(body)` on a keep-alive HTTP/1.1 connection without Origin.
pub(super) fn ok_wire(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nServer: weir\r\nContent-Type: text/plain; charset=utf-8\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}
