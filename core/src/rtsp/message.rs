//! RTSP 1.0 messages on the wire: an incremental, zero-copy parser (RFC 2326 §4, §6-7, §10.12).
//!
//! [`parse`] reads one message from the start of the caller's receive buffer: a request, a
//! response, or a `$`-framed interleaved binary packet (§10.12). It never copies: everything in
//! the returned [`Message`] borrows from the buffer. It keeps no state between calls: the caller
//! keeps the unconsumed bytes, appends what arrives next and calls again from the start, which
//! gives the same answer whatever the split points were.
//!
//! Leniency, as real clients and cameras need it:
//! - lines may end in CRLF or in a bare LF;
//! - empty lines before a message (CRLF keep-alives some clients send) are skipped and counted in
//!   the message's `consumed`. A buffer holding *only* empty lines is `NeedMore { at_least: 1 }`;
//!   a caller that wants to free them early may drop [`leading_empty_lines`] bytes;
//! - tokens in the start line may be separated by runs of spaces or tabs; the version is matched
//!   case-insensitively;
//! - header values are trimmed of spaces, tabs and stray CRs; header names may be followed by
//!   whitespace before the colon.
//!
//! Strictness, to keep the parser simple and the server safe:
//! - the version must be `RTSP/1.0` (anything of the form `NAME/x.y` else is `BadVersion`, 505);
//! - header continuation lines (a line starting with a space or tab, obsolete folding) are
//!   rejected as `BadHeader`;
//! - the head must be UTF-8 and header values must not hold control characters other than tab;
//! - `Content-Length` governs the body (missing means 0); repeated, it must agree.

use super::method::Method;
use crate::error::Blame;
use smallvec::SmallVec;

/// The header fields of one message in wire order, borrowed from the receive buffer.
///
/// Fields are kept as byte ranges into the message head rather than as `&str` pairs, so that the
/// inline storage holds no borrow: a parsed message then has no drop glue tied to the buffer, and a
/// caller may consume bytes from its buffer while still holding the parse result.
#[derive(Clone, Default)]
pub struct Headers<'a> {
    /// The message head (start line and header lines) the spans point into.
    head: &'a str,
    /// `(name, value)` byte ranges into `head`; values are already trimmed.
    spans: SmallVec<[Span; 16]>,
}

/// Byte ranges of one header's name and value within the head.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    name: (u32, u32),
    value: (u32, u32),
}

/// Trims the linear white space RTSP allows around values (and stray CRs).
fn trim_lws(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t' || c == '\r')
}

impl<'a> Headers<'a> {
    /// An empty header list.
    pub fn new() -> Self {
        Headers::default()
    }

    /// The text of a span, or `""` if it does not lie in the head (never happens).
    fn text(&self, (start, end): (u32, u32)) -> &'a str {
        self.head
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }

    /// The value of the first header named `name` (case-insensitive), trimmed.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.get_all(name).next()
    }

    /// The values of every header named `name` (case-insensitive), in wire order.
    pub fn get_all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every header as `(name, value)`, in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + '_ {
        self.spans
            .iter()
            .map(|s| (self.text(s.name), self.text(s.value)))
    }

    /// The number of header fields.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are no header fields.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

impl PartialEq for Headers<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Headers<'_> {}

impl std::fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// An RTSP request (RFC 2326 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The method, or [`Method::Unknown`] (see `method_str`).
    pub method: Method,
    /// The method exactly as sent.
    pub method_str: &'a str,
    /// The Request-URI exactly as sent (`*` for a server-wide OPTIONS).
    pub uri: &'a str,
    /// The header fields.
    pub headers: Headers<'a>,
    /// The body (`Content-Length` bytes).
    pub body: &'a [u8],
}

/// An RTSP response (RFC 2326 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<'a> {
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase as sent (may be empty).
    pub reason: &'a str,
    /// The header fields.
    pub headers: Headers<'a>,
    /// The body (`Content-Length` bytes).
    pub body: &'a [u8],
}

/// One unit read from an RTSP connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// A request.
    Request(Request<'a>),
    /// A response.
    Response(Response<'a>),
    /// A `$`-framed binary packet on an interleaved channel (RFC 2326 §10.12).
    Interleaved {
        /// The channel number.
        channel: u8,
        /// The packet (usually RTP or RTCP).
        payload: &'a [u8],
    },
}

/// Size and count limits the parser enforces before buffering more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes of head (leading empty lines, start line and headers, up to and including
    /// the empty line that ends them).
    pub max_head_bytes: usize,
    /// The most header fields in one message.
    pub max_headers: usize,
    /// The largest `Content-Length` accepted.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 16384,
            max_headers: 64,
            max_body_bytes: 1 << 20,
        }
    }
}

/// The outcome of a successful [`parse`] call.
// `Done` is large because `Headers` keeps 16 fields inline; boxing it would allocate per message.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A whole message was read; the first `consumed` bytes of the buffer belong to it
    /// (including any empty lines skipped before it).
    Done {
        /// The message.
        message: Message<'a>,
        /// How many bytes from the start of the buffer it used.
        consumed: usize,
    },
    /// The buffer holds the start of a message; call again with at least `at_least` more bytes
    /// appended (1 when the parser cannot know how many).
    NeedMore {
        /// The minimum number of additional bytes needed.
        at_least: usize,
    },
}

/// What was wrong with the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The request line is not `Method SP Request-URI SP RTSP-Version`.
    BadRequestLine,
    /// The status line is not `RTSP-Version SP Status-Code SP Reason-Phrase`.
    BadStatusLine,
    /// The protocol version is not `RTSP/1.0`.
    BadVersion,
    /// A header line is malformed (no colon, bad name, control characters, continuation line,
    /// not UTF-8).
    BadHeader,
    /// `Content-Length` is not a decimal number, or repeated with different values.
    BadContentLength,
    /// No end of head within `max_head_bytes`.
    HeadTooLarge,
    /// More than `max_headers` header fields.
    TooManyHeaders,
    /// `Content-Length` exceeds `max_body_bytes`.
    BodyTooLarge,
}

impl ParseErrorKind {
    /// Who is to blame: malformed input, an unsupported version, or a limit.
    pub fn blame(self) -> Blame {
        match self {
            ParseErrorKind::BadVersion => Blame::Unsupported,
            ParseErrorKind::HeadTooLarge
            | ParseErrorKind::TooManyHeaders
            | ParseErrorKind::BodyTooLarge => Blame::Limit,
            _ => Blame::Malformed,
        }
    }

    /// The RTSP status to answer with: 505 for the version, 413 (Request Entity Too Large) for
    /// every size or count limit including `HeadTooLarge`, 400 otherwise.
    ///
    /// A head that is too large (or has too many headers) is a malformed request (400), as
    /// HTTP servers answer it: RTSP 1.0 has no status for oversized heads, and 413 names the
    /// entity (body), which is what [`ParseErrorKind::BodyTooLarge`] answers.
    pub fn status(self) -> u16 {
        match self {
            ParseErrorKind::BodyTooLarge => 413,
            _ if self.blame() == Blame::Unsupported => 505,
            _ => 400,
        }
    }

    /// A short description.
    fn describe(self) -> &'static str {
        match self {
            ParseErrorKind::BadRequestLine => "malformed request line",
            ParseErrorKind::BadStatusLine => "malformed status line",
            ParseErrorKind::BadVersion => "unsupported protocol version",
            ParseErrorKind::BadHeader => "malformed header line",
            ParseErrorKind::BadContentLength => "invalid Content-Length",
            ParseErrorKind::HeadTooLarge => "message head too large",
            ParseErrorKind::TooManyHeaders => "too many header fields",
            ParseErrorKind::BodyTooLarge => "message body too large",
        }
    }
}

/// Why the input is not an RTSP message, and where in the connection's byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// The absolute byte offset in the connection stream where the problem is.
    pub position: u64,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RTSP {} at byte {}", self.kind.describe(), self.position)
    }
}

impl std::error::Error for ParseError {}

/// The number of CR and LF bytes at the start of `buf` (empty keep-alive lines), which a caller
/// may discard at any time.
pub fn leading_empty_lines(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count()
}

/// The parsed first line of a message.
enum StartLine<'a> {
    Request { method_str: &'a str, uri: &'a str },
    Response { status: u16, reason: &'a str },
}

/// Parses one message from the start of `buf`; `offset` is the stream position of `buf[0]`, used
/// only for error positions. Never panics; see the module documentation for the rules.
pub fn parse<'b>(buf: &'b [u8], offset: u64, limits: &Limits) -> Result<Parsed<'b>, ParseError> {
    let err = |kind, index: usize| ParseError {
        kind,
        position: offset.saturating_add(index as u64),
    };
    let start = leading_empty_lines(buf);
    if start >= limits.max_head_bytes {
        return Err(err(ParseErrorKind::HeadTooLarge, limits.max_head_bytes));
    }
    match buf.get(start) {
        None => return Ok(Parsed::NeedMore { at_least: 1 }),
        Some(b'$') => return Ok(parse_interleaved(buf, start)),
        Some(_) => {}
    }
    let window_end = buf.len().min(limits.max_head_bytes);
    let mut pos = start;
    let mut start_line = None;
    let mut headers = Headers::new();
    let mut content_length: Option<usize> = None;
    let head_end = loop {
        let Some(nl) = buf
            .get(pos..window_end)
            .and_then(|w| w.iter().position(|&b| b == b'\n'))
        else {
            if buf.len() >= limits.max_head_bytes {
                return Err(err(ParseErrorKind::HeadTooLarge, limits.max_head_bytes));
            }
            return Ok(Parsed::NeedMore { at_least: 1 });
        };
        let line_end = pos + nl;
        let raw = &buf[pos..line_end];
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if start_line.is_none() {
            start_line = Some(parse_start_line(line).map_err(|(kind, i)| err(kind, pos + i))?);
        } else if line.is_empty() {
            break line_end + 1;
        } else {
            let (name, value, span) =
                parse_header_line(line, pos).ok_or_else(|| err(ParseErrorKind::BadHeader, pos))?;
            let span = span.ok_or_else(|| err(ParseErrorKind::HeadTooLarge, pos))?;
            if headers.len() >= limits.max_headers {
                return Err(err(ParseErrorKind::TooManyHeaders, pos));
            }
            if name.eq_ignore_ascii_case(b"content-length") {
                let value_at = span.value.0 as usize;
                let n = parse_content_length(value)
                    .ok_or_else(|| err(ParseErrorKind::BadContentLength, value_at))?;
                if content_length.is_some_and(|prev| prev != n) {
                    return Err(err(ParseErrorKind::BadContentLength, value_at));
                }
                if n > limits.max_body_bytes {
                    return Err(err(ParseErrorKind::BodyTooLarge, value_at));
                }
                content_length = Some(n);
            }
            headers.spans.push(span);
        }
        pos = line_end + 1;
    };
    headers.head = std::str::from_utf8(&buf[..head_end])
        .map_err(|e| err(ParseErrorKind::BadHeader, e.valid_up_to()))?;
    let total = head_end.saturating_add(content_length.unwrap_or(0));
    let Some(body) = buf.get(head_end..total) else {
        return Ok(Parsed::NeedMore {
            at_least: total - buf.len(),
        });
    };
    let message = match start_line {
        Some(StartLine::Request { method_str, uri }) => Message::Request(Request {
            method: Method::parse(method_str),
            method_str,
            uri,
            headers,
            body,
        }),
        Some(StartLine::Response { status, reason }) => Message::Response(Response {
            status,
            reason,
            headers,
            body,
        }),
        // Unreachable: the loop only breaks after the start line was parsed.
        None => return Err(err(ParseErrorKind::BadRequestLine, start)),
    };
    Ok(Parsed::Done {
        message,
        consumed: total,
    })
}

/// Reads a `$` channel length payload frame starting at `buf[start]`.
fn parse_interleaved(buf: &[u8], start: usize) -> Parsed<'_> {
    let Some(&[_, channel, hi, lo]) = buf.get(start..start + 4) else {
        return Parsed::NeedMore {
            at_least: start + 4 - buf.len(),
        };
    };
    let end = start + 4 + usize::from(u16::from_be_bytes([hi, lo]));
    match buf.get(start + 4..end) {
        Some(payload) => Parsed::Done {
            message: Message::Interleaved { channel, payload },
            consumed: end,
        },
        None => Parsed::NeedMore {
            at_least: end - buf.len(),
        },
    }
}

/// The tokens of `line` separated by runs of spaces or tabs, with their byte offsets.
struct Tokens<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Iterator for Tokens<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let bytes = self.line.as_bytes();
        let mut i = self.at;
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        if i == bytes.len() {
            self.at = i;
            return None;
        }
        let start = i;
        while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
        self.at = i;
        // Spaces and tabs are ASCII: both ends are character boundaries.
        self.line.get(start..i).map(|t| (start, t))
    }
}

/// Splits `line` into tokens separated by runs of spaces or tabs, with their byte offsets.
fn tokens(line: &str) -> Tokens<'_> {
    Tokens { line, at: 0 }
}

/// Bytes that may appear in an RFC 2616 token (method and header names), by value.
const TOKEN_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        t[b] = true;
        b += 1;
    }
    let separators = b"()<>@,;:\\\"/[]?={}";
    let mut i = 0;
    while i < separators.len() {
        t[separators[i] as usize] = false;
        i += 1;
    }
    t
};

/// Whether `s` is a non-empty token.
fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| TOKEN_BYTES[usize::from(b)])
}

/// Whether `b` is a control character other than tab (not allowed in heads).
fn is_bad_control(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// Checks a protocol version token: `Ok` for RTSP/1.0, `BadVersion` for another `NAME/x.y`,
/// `None` if it does not look like a version at all.
fn check_version(v: &str) -> Option<Result<(), ParseErrorKind>> {
    if v.eq_ignore_ascii_case("RTSP/1.0") {
        return Some(Ok(()));
    }
    let (name, num) = v.split_once('/')?;
    let (major, minor) = num.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let looks = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphabetic())
        && digits(major)
        && digits(minor);
    looks.then_some(Err(ParseErrorKind::BadVersion))
}

/// Parses a request or status line; errors carry the offending byte offset within the line.
fn parse_start_line(line: &[u8]) -> Result<StartLine<'_>, (ParseErrorKind, usize)> {
    let is_response = line.len() >= 5 && line[..5].eq_ignore_ascii_case(b"RTSP/");
    let bad_line = if is_response {
        ParseErrorKind::BadStatusLine
    } else {
        ParseErrorKind::BadRequestLine
    };
    let text = std::str::from_utf8(line).map_err(|e| (bad_line, e.valid_up_to()))?;
    if let Some(i) = line.iter().position(|&b| is_bad_control(b)) {
        return Err((bad_line, i));
    }
    let mut toks = tokens(text);
    if is_response {
        let (_, version) = toks.next().ok_or((bad_line, 0))?;
        match check_version(version) {
            Some(Ok(())) => {}
            Some(Err(kind)) => return Err((kind, 0)),
            None => return Err((bad_line, 0)),
        }
        let (at, code) = toks.next().ok_or((bad_line, text.len()))?;
        let status = (code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| code.parse::<u16>().ok())
            .flatten()
            .filter(|s| *s >= 100)
            .ok_or((bad_line, at))?;
        let reason = trim_lws(&text[at + code.len()..]);
        return Ok(StartLine::Response { status, reason });
    }
    let (_, method_str) = toks.next().ok_or((bad_line, 0))?;
    if !is_token(method_str.as_bytes()) {
        return Err((bad_line, 0));
    }
    let (_, uri) = toks.next().ok_or((bad_line, text.len()))?;
    let (version_at, version) = toks.next().ok_or((bad_line, text.len()))?;
    if let Some((extra_at, _)) = toks.next() {
        return Err((bad_line, extra_at));
    }
    match check_version(version) {
        Some(Ok(())) => Ok(StartLine::Request { method_str, uri }),
        Some(Err(kind)) => Err((kind, version_at)),
        None => Err((bad_line, version_at)),
    }
}

/// Parses `name: value` starting at `at` in the buffer; `None` if malformed. Works on bytes:
/// the head is checked to be UTF-8 once, as a whole, by the caller.
/// The span is `None` if the head is beyond 4 GiB (only possible with a huge `max_head_bytes`).
fn parse_header_line(line: &[u8], at: usize) -> Option<(&[u8], &[u8], Option<Span>)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let mut name_end = colon;
    while name_end > 0 && matches!(line[name_end - 1], b' ' | b'\t') {
        name_end -= 1;
    }
    let name = &line[..name_end];
    let lws = |b: u8| matches!(b, b' ' | b'\t' | b'\r');
    let mut value_start = colon + 1;
    let mut value_end = line.len();
    while value_start < value_end && lws(line[value_start]) {
        value_start += 1;
    }
    while value_end > value_start && lws(line[value_end - 1]) {
        value_end -= 1;
    }
    let value = &line[value_start..value_end];
    if !is_token(name) || value.iter().any(|&b| is_bad_control(b)) {
        return None;
    }
    let at32 = |i: usize| u32::try_from(i).ok();
    let span = (|| {
        Some(Span {
            name: (at32(at)?, at32(at + name_end)?),
            value: (at32(at + value_start)?, at32(at + value_end)?),
        })
    })();
    Some((name, value, span))
}

/// Parses a Content-Length value; huge numbers saturate (and then fail the body limit).
fn parse_content_length(v: &[u8]) -> Option<usize> {
    if v.is_empty() || !v.iter().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.iter().fold(0usize, |n, d| {
        n.saturating_mul(10).saturating_add(usize::from(d - b'0'))
    }))
}
