//! The connection: input parsing, the request/answer queue that keeps responses in request
//! order, outputs and the idle timeout.

use super::cors::{CorsHeaders, CorsPolicy};
use super::path;
use super::request::{self, Head, HeadError, Method, Request, RequestId};
use super::response::{self, ConnectionHeader, Framing, Response};
use bytes::{Buf, Bytes, BytesMut};
use core::net::SocketAddr;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings shared by every connection of one HTTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpServerConfig {
    /// Largest request head (request line + header fields); larger → 431 and close.
    pub max_head_bytes: usize,
    /// Most header fields in one request; more → 431 and close.
    pub max_headers: usize,
    /// Largest request body (`Content-Length`); larger → 413 and close.
    pub max_body_bytes: usize,
    /// `readTimeout`: a connection with no request outstanding that receives nothing for this
    /// long is closed.
    pub idle_timeout: Duration,
    /// Most requests received and not yet answered; past it, parsing pauses.
    pub max_pipelined: usize,
    /// Origins allowed to read responses (`hlsAllowOrigins`; `*` allows any; empty: no CORS).
    pub allow_origins: Vec<String>,
    /// Methods a CORS preflight allows besides `OPTIONS, GET, HEAD`.
    pub cors_extra_methods: Vec<String>,
    /// `Access-Control-Allow-Headers` of a preflight answer.
    pub cors_allow_headers: String,
    /// The `Server` header value.
    pub server_name: &'static str,
}

impl Default for HttpServerConfig {
    fn default() -> Self {
        HttpServerConfig {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 64 * 1024,
            idle_timeout: Duration::from_secs(10),
            max_pipelined: 16,
            allow_origins: vec!["*".to_owned()],
            cors_extra_methods: Vec::new(),
            cors_allow_headers: "Authorization, Range".to_owned(),
            server_name: "weir",
        }
    }
}

/// What the connection tells the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpEvent {
    /// A request to answer with [`HttpServerConnection::respond`].
    Request(Request),
    /// The caller must send what is pending and close the connection; requests not answered
    /// yet are dropped.
    Close {
        /// Why.
        reason: String,
    },
}

/// One request in arrival order, waiting for its answer or for earlier answers.
#[derive(Debug)]
struct Slot {
    id: RequestId,
    head_only: bool,
    connection: ConnectionHeader,
    cors: CorsHeaders,
    /// Close the connection once this response is queued.
    close_reason: Option<String>,
    /// The serialized response, once answered.
    ready: Option<Vec<Bytes>>,
}

/// Chunks of room the transmit queue keeps between responses.
const IDLE_TRANSMIT: usize = 8;

/// What scanning the buffer for a request head found.
enum Scan {
    Incomplete,
    Complete(usize),
    Refused(HeadError),
}

/// The server side of one HTTP/1.1 connection.
#[derive(Debug)]
pub struct HttpServerConnection {
    cfg: Arc<HttpServerConfig>,
    cors: CorsPolicy,
    peer: SocketAddr,
    log_prefix: String,
    next_id: u64,
    slots: VecDeque<Slot>,
    transmit: Vec<Bytes>,
    events: VecDeque<HttpEvent>,
    /// A parsed head whose body has not fully arrived.
    pending_body: Option<Head>,
    continue_sent: bool,
    /// The request line of the head being received was checked.
    line_checked: bool,
    /// Bytes of the head being received already scanned for its end.
    scanned: usize,
    /// No further request is parsed (a response will close the connection).
    input_done: bool,
    closing: bool,
    last_activity: Instant,
    /// The last outstanding request was answered outside `handle_input`: the idle clock
    /// restarts at the next `handle_timeout`.
    restart_idle: bool,
    answered: u64,
}

impl HttpServerConnection {
    /// A connection from `peer`, opened at `now`; log lines start with `log_prefix`
    /// (`[HLS] [conn 1.2.3.4:5]`).
    pub fn new(
        cfg: Arc<HttpServerConfig>,
        peer: SocketAddr,
        now: Instant,
        log_prefix: String,
    ) -> Self {
        tracing::debug!("{log_prefix} opened");
        HttpServerConnection {
            cors: CorsPolicy::new(&cfg.allow_origins),
            cfg,
            peer,
            log_prefix,
            next_id: 0,
            slots: VecDeque::new(),
            transmit: Vec::new(),
            events: VecDeque::new(),
            pending_body: None,
            continue_sent: false,
            line_checked: false,
            scanned: 0,
            input_done: false,
            closing: false,
            last_activity: now,
            restart_idle: false,
            answered: 0,
        }
    }

    /// The peer address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Whether the connection is closing (no more input is processed).
    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// Whether more input is useful now: false while `max_pipelined` requests are outstanding
    /// (answer them, then call [`Self::handle_input`] again with the same buffer) and once no
    /// further request will be parsed.
    pub fn wants_input(&self) -> bool {
        !self.closing && !self.input_done && self.slots.len() < self.cfg.max_pipelined.max(1)
    }

    /// Responses queued for sending so far (including the ones the connection gave itself).
    pub fn requests_answered(&self) -> u64 {
        self.answered
    }

    /// Requests received whose response is not queued yet (held, or behind a held one).
    pub fn requests_outstanding(&self) -> usize {
        self.slots.len()
    }

    /// Feeds received bytes. Consumes complete requests from `buf` (an incomplete tail stays
    /// there for the next call; only append to `buf` between calls) and emits
    /// [`HttpEvent::Request`] for each. Pauses while `max_pipelined` requests are outstanding.
    pub fn handle_input(&mut self, now: Instant, buf: &mut BytesMut) {
        if !buf.is_empty() {
            self.last_activity = self.last_activity.max(now);
            self.restart_idle = false;
        }
        loop {
            if self.closing || self.input_done {
                // Nothing after this point will be parsed: do not keep it.
                buf.clear();
                break;
            }
            if let Some(head) = self.pending_body.take() {
                if buf.len() < head.content_length {
                    if head.expect_continue && !self.continue_sent && buf.is_empty() {
                        if self.slots.is_empty() {
                            // Every earlier response is queued: the interim one goes next.
                            self.transmit
                                .push(Bytes::from_static(b"HTTP/1.1 100 Continue\r\n\r\n"));
                        }
                        self.continue_sent = true;
                    }
                    self.pending_body = Some(head);
                    break;
                }
                let body = buf.split_to(head.content_length).freeze();
                self.dispatch(head, body);
                continue;
            }
            if self.slots.len() >= self.cfg.max_pipelined.max(1) {
                // Answers the connection made itself (refusals) free their slots once
                // written: flush them before giving up on the rest of the buffer.
                self.flush(Some(now));
                if self.slots.len() >= self.cfg.max_pipelined.max(1) {
                    break;
                }
            }
            if !self.line_checked {
                skip_blank_lines(buf);
            }
            if buf.is_empty() {
                break;
            }
            match self.scan_head(buf) {
                Scan::Incomplete => break,
                Scan::Refused(e) => self.refuse(e),
                Scan::Complete(end) => {
                    let head = buf.split_to(end);
                    self.line_checked = false;
                    self.scanned = 0;
                    match request::parse_head(&head, self.cfg.max_headers, self.cfg.max_body_bytes)
                    {
                        Err(e) => self.refuse(e),
                        Ok(head) if head.content_length == 0 => self.dispatch(head, Bytes::new()),
                        Ok(head) => {
                            self.pending_body = Some(head);
                            self.continue_sent = false;
                        }
                    }
                }
            }
        }
        self.flush(Some(now));
    }

    /// Finds the end of the request head at the start of `buf` (after its blank line),
    /// checking the request line as soon as it is complete. Resumes where the last call
    /// stopped, so a head trickling in byte by byte is scanned once.
    fn scan_head(&mut self, buf: &BytesMut) -> Scan {
        let max = self.cfg.max_head_bytes;
        let data = &buf[..buf.len().min(max)];
        let too_large = || {
            Scan::Refused(HeadError {
                status: 431,
                reason: format!("request head larger than {max} bytes"),
            })
        };
        if !self.line_checked {
            match data.iter().position(|b| *b == b'\n') {
                Some(eol) => {
                    if let Err(e) = request::check_request_line(&data[..eol]) {
                        return Scan::Refused(e);
                    }
                    self.line_checked = true;
                }
                None if buf.len() > max => return too_large(),
                None => return Scan::Incomplete,
            }
        }
        let mut i = self.scanned;
        while i < data.len() {
            if data[i] == b'\n' {
                match (data.get(i + 1), data.get(i + 2)) {
                    (Some(b'\n'), _) => return Scan::Complete(i + 2),
                    (Some(b'\r'), Some(b'\n')) => return Scan::Complete(i + 3),
                    // Undecided until more bytes arrive: look at this newline again.
                    (None, _) | (Some(b'\r'), None) => break,
                    _ => {}
                }
            }
            i += 1;
        }
        self.scanned = i;
        if buf.len() > max {
            too_large()
        } else {
            Scan::Incomplete
        }
    }

    /// Answers a request that cannot be framed (or whose framing cannot be trusted) and closes
    /// once the answer is sent.
    fn refuse(&mut self, e: HeadError) {
        tracing::warn!("{} invalid request: {}", self.log_prefix, e.reason);
        let id = self.take_id();
        let mut slot = Slot {
            id,
            head_only: false,
            connection: ConnectionHeader::Close,
            cors: CorsHeaders::default(),
            close_reason: Some(format!("invalid request: {}", e.reason)),
            ready: None,
        };
        encode_into(self.cfg.server_name, &mut slot, error_response(e.status));
        self.slots.push_back(slot);
        self.input_done = true;
        self.pending_body = None;
    }

    /// A complete request: answered here (invalid target, CORS preflight) or handed over.
    fn dispatch(&mut self, head: Head, body: Bytes) {
        let id = self.take_id();
        let origin = head.header("origin").map(str::to_owned);
        let (connection, close_reason) = match (head.keep_alive, head.minor_version) {
            (false, 0) => (
                ConnectionHeader::Close,
                Some("HTTP/1.0 request without keep-alive"),
            ),
            (false, _) => (ConnectionHeader::Close, Some("client asked to close")),
            (true, 0) => (ConnectionHeader::KeepAlive, None),
            (true, _) => (ConnectionHeader::None, None),
        };
        if close_reason.is_some() {
            // RFC 9112 §9.6: no request after a `close` is processed.
            self.input_done = true;
        }
        let mut slot = Slot {
            id,
            head_only: head.method == Method::Head,
            connection,
            cors: self.cors.headers_for(origin.as_deref()),
            close_reason: close_reason.map(str::to_owned),
            ready: None,
        };
        let (path, query) = match path::split_target(&head.target) {
            Ok(split) => split,
            Err(e) => {
                let shown: String = head.target.chars().take(200).collect();
                tracing::warn!(
                    "{} invalid request: {e}: {:?}",
                    self.log_prefix,
                    shown.escape_debug().to_string()
                );
                encode_into(self.cfg.server_name, &mut slot, error_response(400));
                self.slots.push_back(slot);
                return;
            }
        };
        let preflight = head.method == Method::Options
            && origin.is_some()
            && head.header("access-control-request-method").is_some();
        if preflight {
            let mut methods = String::from("OPTIONS, GET, HEAD");
            for m in &self.cfg.cors_extra_methods {
                methods.push_str(", ");
                methods.push_str(m);
            }
            let resp = Response::empty(204)
                .with_header("Access-Control-Allow-Methods", methods)
                .with_header(
                    "Access-Control-Allow-Headers",
                    self.cfg.cors_allow_headers.clone(),
                );
            encode_into(self.cfg.server_name, &mut slot, resp);
            self.slots.push_back(slot);
            return;
        }
        self.slots.push_back(slot);
        self.events.push_back(HttpEvent::Request(Request {
            id,
            method: head.method,
            path,
            query,
            headers: head.headers,
            body,
            origin,
        }));
    }

    fn take_id(&mut self) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Answers request `id` (any order; responses are written in request order: an answer for
    /// a later request waits behind an earlier held one — that is how LL-HLS blocking reloads
    /// are held). Answers to unknown or already answered requests are ignored. Call
    /// [`Self::handle_input`] again afterwards if parsing was paused ([`Self::wants_input`]).
    pub fn respond(&mut self, id: RequestId, response: Response) {
        if self.closing {
            return;
        }
        let Some(slot) = self
            .slots
            .iter_mut()
            .find(|s| s.id == id && s.ready.is_none())
        else {
            tracing::debug!("{} answer to unknown request {id} ignored", self.log_prefix);
            return;
        };
        if response.asks_close() && slot.close_reason.is_none() {
            slot.close_reason = Some("closed by the server".to_owned());
            slot.connection = ConnectionHeader::Close;
            self.input_done = true;
        }
        encode_into(self.cfg.server_name, slot, response);
        self.flush(None);
    }

    /// Moves the answered responses at the front of the queue to the transmit queue.
    fn flush(&mut self, now: Option<Instant>) {
        let mut moved = false;
        while self.slots.front().is_some_and(|s| s.ready.is_some()) {
            let Some(slot) = self.slots.pop_front() else {
                break;
            };
            self.transmit.extend(slot.ready.unwrap_or_default());
            self.answered += 1;
            moved = true;
            if let Some(reason) = slot.close_reason {
                self.close(reason);
                return;
            }
        }
        if moved && self.slots.is_empty() {
            match now {
                Some(now) => self.last_activity = self.last_activity.max(now),
                None => self.restart_idle = true,
            }
        }
    }

    /// Bytes to send, as shared chunks (vectored writes). Appends to `out`; returns whether
    /// anything was appended.
    pub fn poll_transmit(&mut self, out: &mut Vec<Bytes>) -> bool {
        if self.transmit.is_empty() {
            return false;
        }
        out.append(&mut self.transmit);
        if self.transmit.capacity() > IDLE_TRANSMIT {
            // A segment is many chunks: an idle connection keeps no room for them.
            self.transmit = Vec::new();
        }
        true
    }

    /// The next event for the caller.
    pub fn poll_event(&mut self) -> Option<HttpEvent> {
        self.events.pop_front()
    }

    /// When [`Self::handle_timeout`] must next be called (none while a request is outstanding:
    /// the caller has its own deadline for held requests).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closing || !self.slots.is_empty() {
            return None;
        }
        if self.restart_idle {
            // Any instant in the past: the idle clock restarts at the next call.
            return Some(self.last_activity);
        }
        self.last_activity.checked_add(self.cfg.idle_timeout)
    }

    /// Handles the deadline given by [`Self::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closing || !self.slots.is_empty() {
            return;
        }
        if self.restart_idle {
            self.restart_idle = false;
            self.last_activity = self.last_activity.max(now);
            return;
        }
        if self
            .last_activity
            .checked_add(self.cfg.idle_timeout)
            .is_some_and(|deadline| now >= deadline)
        {
            self.close("timed out".to_owned());
        }
    }

    /// Tells the connection that the transport closed (peer gone, write error, shutdown).
    pub fn handle_close(&mut self, reason: &str) {
        if !self.closing {
            self.close(reason.to_owned());
        }
    }

    fn close(&mut self, reason: String) {
        self.closing = true;
        self.slots.clear();
        self.pending_body = None;
        tracing::info!("{} closed: {reason}", self.log_prefix);
        self.events.push_back(HttpEvent::Close { reason });
    }
}

/// Drops the blank lines a client may send between requests (RFC 9112 §2.2).
fn skip_blank_lines(buf: &mut BytesMut) {
    let mut n = 0;
    loop {
        match (buf.get(n), buf.get(n + 1)) {
            (Some(b'\n'), _) => n += 1,
            (Some(b'\r'), Some(b'\n')) => n += 2,
            _ => break,
        }
    }
    buf.advance(n);
}

/// The answer the connection gives itself to a refused request.
fn error_response(status: u16) -> Response {
    let text = format!("{status} {}", response::reason_phrase(status));
    Response::text(status, &text)
}

fn encode_into(server: &str, slot: &mut Slot, resp: Response) {
    let mut chunks = Vec::with_capacity(2);
    let framing = Framing {
        server,
        head_only: slot.head_only,
        connection: slot.connection,
        cors: &slot.cors,
    };
    response::encode(resp, &framing, &mut chunks);
    slot.ready = Some(chunks);
}
