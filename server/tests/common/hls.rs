//! HLS for the e2e harness: weir's HLS config and port, a tiny blocking HTTP/1.1 client over
//! `std::net::TcpStream` (keep-alive, `Content-Length` bodies, raw bytes for bad requests),
//! playlist parsers that keep every tag a test checks, ffprobe of downloaded segments with
//! times in seconds, a background HLS reader that polls a path's playlist and downloads every
//! new segment ([`HlsPoller`]), and headless Chromium playing weir's player page
//! ([`play_in_chromium`], a Node script under `tests/browser/`).
//!
//! Names of media playlists, segments, parts and init segments are never guessed: they are
//! read from the playlists and resolved against the playlist's own URL ([`resolve`]).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::process::{find_in_path, require_tool, run_with_timeout, TempDir};
use super::weir::{rtsp_config, Weir};

const FFMPEG_HINT: &str = "apt-get install ffmpeg";

// ---- weir with HLS ----

/// [`rtsp_config`] with RTMP and HLS on (every listener on 127.0.0.1, ephemeral ports:
/// `rtsp_config` already sets `hlsAddress: 127.0.0.1:0`); `extra` is appended at top level,
/// e.g. `"hlsVariant: mpegts\n"`.
pub fn hls_config(extra: &str) -> String {
    rtsp_config(&format!("rtmp: yes\nhls: yes\n{extra}"))
}

/// [`hls_config`] with `hlsVariant: <variant>` (`mpegts`, `fmp4`, `lowLatency`).
pub fn hls_variant_config(variant: &str, extra: &str) -> String {
    hls_config(&format!("hlsVariant: {variant}\n{extra}"))
}

/// Starts weir and waits for its RTSP, RTMP and HLS listener lines.
pub fn start_weir_hls(config_yaml: &str) -> Weir {
    Weir::start_with(config_yaml, None, &["RTSP", "RTMP", "HLS"])
}

/// HLS accessors for [`Weir`] (a trait so `weir.rs` stays as it is).
pub trait WeirHls {
    /// The HLS listener's port (`[HLS] listener opened on 127.0.0.1:PORT`, with or without a
    /// `(TCP)` suffix); panics if weir logged none.
    fn hls_port(&self) -> u16;
    /// `http://127.0.0.1:<hls port>/<path>/index.m3u8`: the multivariant playlist.
    fn hls_url(&self, path: &str) -> String;
    /// `http://127.0.0.1:<hls port>/<path>/`: the player page.
    fn hls_page_url(&self, path: &str) -> String;
    /// A fresh keep-alive connection to the HLS listener.
    fn hls_client(&self) -> HttpClient;
}

impl WeirHls for Weir {
    fn hls_port(&self) -> u16 {
        self.listeners()
            .iter()
            .find(|l| l.proto == "HLS" && (l.kind.is_empty() || l.kind == "TCP"))
            .unwrap_or_else(|| panic!("no HLS listener in {:?}", self.listeners()))
            .port
    }

    fn hls_url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}{}",
            self.hls_port(),
            multivariant_target(path)
        )
    }

    fn hls_page_url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}/",
            self.hls_port(),
            path.trim_matches('/')
        )
    }

    fn hls_client(&self) -> HttpClient {
        HttpClient::connect(self.hls_port())
    }
}

/// `/<path>/index.m3u8`, the request target of a path's multivariant playlist (the one name
/// the contract fixes).
pub fn multivariant_target(path: &str) -> String {
    format!("/{}/index.m3u8", path.trim_matches('/'))
}

/// The `[HLS] [muxer <path>] created` log tag.
pub fn muxer_created_tag(path: &str) -> String {
    format!("[HLS] [muxer {path}] created")
}

// ---- the HTTP/1.1 client ----

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

// ---- URIs ----

/// The request target that `uri` (as written in the playlist fetched from request target
/// `base`) designates: absolute URLs keep their path and query, absolute paths are kept,
/// relative references are resolved against `base`'s directory (RFC 3986 §5.2, without
/// dot segments other than a leading `./`).
pub fn resolve(base: &str, uri: &str) -> String {
    if let Some(rest) = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
    {
        return match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".to_string(),
        };
    }
    if uri.starts_with('/') {
        return uri.to_string();
    }
    let base_path = base.split(['?', '#']).next().unwrap_or(base);
    let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    format!("{dir}{}", uri.trim_start_matches("./"))
}

// ---- playlists ----

/// Splits an attribute list (`A=1,B="x,y",C=z`) into pairs; quoted values lose their quotes.
pub fn attributes(list: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = list.trim();
    while !rest.is_empty() {
        let (key, after) = match rest.split_once('=') {
            Some(kv) => kv,
            None => {
                out.push((rest.trim().to_string(), String::new()));
                break;
            }
        };
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q[..end].to_string(), &q[end + 1..]),
                None => (q.to_string(), ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (after[..end].to_string(), &after[end..]),
                None => (after.to_string(), ""),
            }
        };
        out.push((key.trim().to_string(), value));
        rest = tail.trim_start_matches(',').trim();
    }
    out
}

/// The value of attribute `key` in `attrs`.
pub fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// One `EXT-X-STREAM-INF` of a multivariant playlist.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Its attributes.
    pub attrs: Vec<(String, String)>,
    /// The media playlist URI (the line after the tag).
    pub uri: String,
}

/// A multivariant playlist.
#[derive(Clone, Debug, Default)]
pub struct Multivariant {
    /// EXT-X-VERSION.
    pub version: Option<u32>,
    /// Whether EXT-X-INDEPENDENT-SEGMENTS is present.
    pub independent_segments: bool,
    /// The variant streams.
    pub variants: Vec<Variant>,
    /// The attributes of every EXT-X-MEDIA (alternative renditions).
    pub renditions: Vec<Vec<(String, String)>>,
}

impl Multivariant {
    /// Parses a multivariant playlist; `Err` on a structural problem.
    pub fn parse(text: &str) -> Result<Multivariant, String> {
        let mut lines = text.lines();
        if lines.next().map(str::trim_end) != Some("#EXTM3U") {
            return Err(format!("does not start with #EXTM3U: {text:?}"));
        }
        let mut mv = Multivariant::default();
        let mut pending: Option<Vec<(String, String)>> = None;
        for line in lines.map(str::trim_end).filter(|l| !l.is_empty()) {
            if let Some(v) = line.strip_prefix("#EXT-X-VERSION:") {
                mv.version = Some(v.parse().map_err(|_| format!("bad {line:?}"))?);
            } else if line == "#EXT-X-INDEPENDENT-SEGMENTS" {
                mv.independent_segments = true;
            } else if let Some(a) = line.strip_prefix("#EXT-X-STREAM-INF:") {
                if pending.is_some() {
                    return Err("two EXT-X-STREAM-INF in a row".into());
                }
                pending = Some(attributes(a));
            } else if let Some(a) = line.strip_prefix("#EXT-X-MEDIA:") {
                mv.renditions.push(attributes(a));
            } else if line.starts_with("#EXTINF") || line.starts_with("#EXT-X-TARGETDURATION") {
                return Err(format!(
                    "media playlist tag {line:?} in a multivariant playlist"
                ));
            } else if line.starts_with('#') {
            } else {
                let attrs = pending
                    .take()
                    .ok_or_else(|| format!("URI line {line:?} without EXT-X-STREAM-INF"))?;
                mv.variants.push(Variant {
                    attrs,
                    uri: line.to_string(),
                });
            }
        }
        if pending.is_some() {
            return Err("EXT-X-STREAM-INF without a URI line".into());
        }
        if mv.variants.is_empty() {
            return Err(format!("no variant stream: {text:?}"));
        }
        Ok(mv)
    }

    /// Every media playlist URI: the variants', then the renditions' that have one.
    pub fn media_uris(&self) -> Vec<String> {
        let mut out: Vec<String> = self.variants.iter().map(|v| v.uri.clone()).collect();
        for r in &self.renditions {
            if let Some(u) = attr(r, "URI") {
                if !out.iter().any(|o| o == u) {
                    out.push(u.to_string());
                }
            }
        }
        out
    }
}

/// One `EXT-X-PART`.
#[derive(Clone, Debug, PartialEq)]
pub struct PartEntry {
    /// The URI.
    pub uri: String,
    /// DURATION, in seconds.
    pub duration: f64,
    /// INDEPENDENT=YES.
    pub independent: bool,
    /// The media sequence number of the segment it belongs to.
    pub msn: u64,
    /// Its index within that segment.
    pub index: u64,
}

/// One complete segment of a media playlist.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentEntry {
    /// Its media sequence number.
    pub msn: u64,
    /// The URI.
    pub uri: String,
    /// EXTINF, in seconds.
    pub duration: f64,
    /// The EXT-X-PROGRAM-DATE-TIME that precedes it, as written.
    pub pdt: Option<String>,
    /// That date in Unix milliseconds.
    pub pdt_ms: Option<i64>,
    /// Its EXT-X-PART tags (listed for the newest segments only).
    pub parts: Vec<PartEntry>,
}

/// A media playlist, parsed line by line.
#[derive(Clone, Debug, Default)]
pub struct MediaPlaylist {
    /// The text.
    pub text: String,
    /// EXT-X-VERSION.
    pub version: Option<u32>,
    /// EXT-X-TARGETDURATION.
    pub target_duration: Option<u64>,
    /// EXT-X-MEDIA-SEQUENCE.
    pub media_sequence: Option<u64>,
    /// EXT-X-MAP URI.
    pub map_uri: Option<String>,
    /// EXT-X-SERVER-CONTROL attributes.
    pub server_control: Option<Vec<(String, String)>>,
    /// EXT-X-PART-INF PART-TARGET, in seconds.
    pub part_target: Option<f64>,
    /// The complete segments, oldest first.
    pub segments: Vec<SegmentEntry>,
    /// The parts after the last segment (of the segment being written).
    pub open_parts: Vec<PartEntry>,
    /// EXT-X-PRELOAD-HINT attributes.
    pub preload_hint: Option<Vec<(String, String)>>,
    /// Whether EXT-X-ENDLIST is present.
    pub endlist: bool,
    /// Line-level problems: repeated tags, URIs without EXTINF, a tag after the preload hint,
    /// unparsable values.
    pub problems: Vec<String>,
}

impl MediaPlaylist {
    /// Parses a media playlist; `Err` when it is not one at all (line-level problems go to
    /// [`MediaPlaylist::problems`]).
    pub fn parse(text: &str) -> Result<MediaPlaylist, String> {
        let mut lines = text.lines();
        if lines.next().map(str::trim_end) != Some("#EXTM3U") {
            return Err(format!("does not start with #EXTM3U: {text:?}"));
        }
        let mut pl = MediaPlaylist {
            text: text.to_string(),
            ..Default::default()
        };
        let mut extinf: Option<f64> = None;
        let mut pdt: Option<String> = None;
        let mut parts: Vec<(String, f64, bool)> = Vec::new();
        let mut after_hint = false;
        for (n, raw) in lines.enumerate() {
            let line = raw.trim_end();
            let no = n + 2;
            if line.is_empty() {
                continue;
            }
            if after_hint && !line.starts_with("#EXT-X-RENDITION-REPORT") {
                pl.problems
                    .push(format!("line {no}: {line:?} after EXT-X-PRELOAD-HINT"));
            }
            let mut once = |slot_set: bool, what: &str| {
                if slot_set {
                    pl.problems.push(format!("line {no}: {what} repeated"));
                }
            };
            if let Some(v) = line.strip_prefix("#EXT-X-VERSION:") {
                once(pl.version.is_some(), "EXT-X-VERSION");
                pl.version = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
                once(pl.target_duration.is_some(), "EXT-X-TARGETDURATION");
                pl.target_duration = v.parse().ok();
                if pl.target_duration.is_none() {
                    pl.problems.push(format!(
                        "line {no}: EXT-X-TARGETDURATION not an integer: {v:?}"
                    ));
                }
            } else if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
                once(pl.media_sequence.is_some(), "EXT-X-MEDIA-SEQUENCE");
                if !pl.segments.is_empty() || extinf.is_some() {
                    pl.problems.push(format!(
                        "line {no}: EXT-X-MEDIA-SEQUENCE after the first segment"
                    ));
                }
                pl.media_sequence = v.parse().ok();
            } else if let Some(a) = line.strip_prefix("#EXT-X-MAP:") {
                once(pl.map_uri.is_some(), "EXT-X-MAP");
                pl.map_uri = attr(&attributes(a), "URI").map(str::to_string);
            } else if let Some(a) = line.strip_prefix("#EXT-X-SERVER-CONTROL:") {
                once(pl.server_control.is_some(), "EXT-X-SERVER-CONTROL");
                pl.server_control = Some(attributes(a));
            } else if let Some(a) = line.strip_prefix("#EXT-X-PART-INF:") {
                once(pl.part_target.is_some(), "EXT-X-PART-INF");
                pl.part_target = attr(&attributes(a), "PART-TARGET").and_then(|v| v.parse().ok());
            } else if let Some(v) = line.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:") {
                if parse_date_time_ms(v).is_none() {
                    pl.problems.push(format!(
                        "line {no}: unparsable EXT-X-PROGRAM-DATE-TIME {v:?}"
                    ));
                }
                pdt = Some(v.to_string());
            } else if let Some(a) = line.strip_prefix("#EXT-X-PART:") {
                let attrs = attributes(a);
                let uri = attr(&attrs, "URI").unwrap_or("").to_string();
                let duration = attr(&attrs, "DURATION").and_then(|d| d.parse::<f64>().ok());
                if uri.is_empty() || duration.is_none() {
                    pl.problems.push(format!(
                        "line {no}: EXT-X-PART without URI or DURATION: {line:?}"
                    ));
                }
                parts.push((
                    uri,
                    duration.unwrap_or(0.0),
                    attr(&attrs, "INDEPENDENT") == Some("YES"),
                ));
            } else if let Some(v) = line.strip_prefix("#EXTINF:") {
                if extinf.is_some() {
                    pl.problems
                        .push(format!("line {no}: EXTINF without a URI before it"));
                }
                let d = v.split(',').next().unwrap_or("").trim();
                match d.parse::<f64>() {
                    Ok(d) => extinf = Some(d),
                    Err(_) => {
                        pl.problems.push(format!("line {no}: bad EXTINF {v:?}"));
                        extinf = Some(0.0);
                    }
                }
            } else if let Some(a) = line.strip_prefix("#EXT-X-PRELOAD-HINT:") {
                once(pl.preload_hint.is_some(), "EXT-X-PRELOAD-HINT");
                pl.preload_hint = Some(attributes(a));
                after_hint = true;
            } else if line == "#EXT-X-ENDLIST" {
                pl.endlist = true;
            } else if line.starts_with("#EXT-X-STREAM-INF") {
                pl.problems
                    .push(format!("line {no}: EXT-X-STREAM-INF in a media playlist"));
            } else if line.starts_with('#') {
                // Other tags (EXT-X-INDEPENDENT-SEGMENTS, EXT-X-DISCONTINUITY, ...) and comments.
            } else {
                let Some(duration) = extinf.take() else {
                    pl.problems
                        .push(format!("line {no}: URI {line:?} without EXTINF"));
                    continue;
                };
                let msn = pl.media_sequence.unwrap_or(0) + pl.segments.len() as u64;
                let pdt_ms = pdt.as_deref().and_then(parse_date_time_ms);
                pl.segments.push(SegmentEntry {
                    msn,
                    uri: line.to_string(),
                    duration,
                    pdt: pdt.take(),
                    pdt_ms,
                    parts: parts
                        .drain(..)
                        .enumerate()
                        .map(|(i, (uri, duration, independent))| PartEntry {
                            uri,
                            duration,
                            independent,
                            msn,
                            index: i as u64,
                        })
                        .collect(),
                });
            }
        }
        if extinf.is_some() {
            pl.problems.push("EXTINF at the end without a URI".into());
        }
        let next = pl.next_msn();
        pl.open_parts = parts
            .into_iter()
            .enumerate()
            .map(|(i, (uri, duration, independent))| PartEntry {
                uri,
                duration,
                independent,
                msn: next,
                index: i as u64,
            })
            .collect();
        Ok(pl)
    }

    /// The media sequence number of the segment after the last complete one.
    pub fn next_msn(&self) -> u64 {
        self.media_sequence.unwrap_or(0) + self.segments.len() as u64
    }

    /// Every listed part, oldest first.
    pub fn all_parts(&self) -> Vec<&PartEntry> {
        self.segments
            .iter()
            .flat_map(|s| s.parts.iter())
            .chain(self.open_parts.iter())
            .collect()
    }

    /// The newest listed part.
    pub fn last_part(&self) -> Option<&PartEntry> {
        self.all_parts().last().copied()
    }

    /// `(msn, part)` of the part after the newest listed one (what `_HLS_msn` / `_HLS_part`
    /// ask for to wait for the next part): the open segment and its part count.
    pub fn next_part(&self) -> (u64, u64) {
        (self.next_msn(), self.open_parts.len() as u64)
    }

    /// Whether part `index` of segment `msn` is listed.
    pub fn has_part(&self, msn: u64, index: u64) -> bool {
        self.all_parts()
            .iter()
            .any(|p| p.msn == msn && p.index == index)
    }

    /// The preload hint's URI.
    pub fn preload_hint_uri(&self) -> Option<&str> {
        self.preload_hint.as_deref().and_then(|a| attr(a, "URI"))
    }
}

/// Parses an RFC 3339 date-time (`2026-11-24T07:17:01.123Z`, `…+01:00`) into Unix milliseconds.
pub fn parse_date_time_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', 't'])?;
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset_min) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let i = time.rfind(['+', '-'])?;
        let (c, off) = time.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':')?;
        (
            c,
            sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?),
        )
    };
    let mut c = clock.split(':');
    let h: i64 = c.next()?.parse().ok()?;
    let m: i64 = c.next()?.parse().ok()?;
    let sec: f64 = c.next()?.parse().ok()?;
    if c.next().is_some() || h > 23 || m > 59 || !(0.0..61.0).contains(&sec) {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = ((days * 86_400 + h * 3600 + m * 60 - offset_min * 60) as f64 + sec) * 1000.0;
    Some(ms.round() as i64)
}

/// Follows `/<path>/index.m3u8` to the first media playlist: `(its request target, the
/// multivariant playlist)`; `Err` on any failure.
pub fn media_playlist_target(
    client: &mut HttpClient,
    path: &str,
) -> Result<(String, Multivariant), String> {
    let base = multivariant_target(path);
    let resp = client.get_ok(&base)?;
    let mv = Multivariant::parse(&resp.text()).map_err(|e| format!("{base}: {e}"))?;
    let uri = mv.media_uris().into_iter().next().unwrap_or_default();
    Ok((resolve(&base, &uri), mv))
}

/// GETs and parses a media playlist (200 required).
pub fn fetch_media_playlist(
    client: &mut HttpClient,
    target: &str,
) -> Result<(HttpResponse, MediaPlaylist), String> {
    let resp = client.get_ok(target)?;
    let pl = MediaPlaylist::parse(&resp.text()).map_err(|e| format!("{target}: {e}"))?;
    Ok((resp, pl))
}

// ---- ffprobe with times ----

/// One packet from `ffprobe -show_packets`, times in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedPacket {
    /// The stream index.
    pub stream_index: usize,
    /// `video` or `audio`.
    pub codec_type: String,
    /// pts_time.
    pub pts: Option<f64>,
    /// dts_time.
    pub dts: Option<f64>,
    /// duration_time.
    pub duration: Option<f64>,
    /// Size in bytes.
    pub size: usize,
    /// Key frame flag.
    pub key: bool,
}

/// The packets ffprobe reads from the file `file` (whole file); `Err` with ffprobe's stderr
/// when it lists none.
pub fn probe_file_packets(file: &Path) -> Result<Vec<TimedPacket>, String> {
    require_tool("ffprobe", FFMPEG_HINT);
    let out = run_with_timeout(
        "ffprobe-segment",
        Command::new("ffprobe")
            .args(["-hide_banner", "-loglevel", "error", "-show_entries"])
            .arg("packet=stream_index,codec_type,pts_time,dts_time,duration_time,size,flags")
            .args(["-of", "compact=p=0"])
            .arg(file),
        Duration::from_secs(30),
    );
    let packets = parse_timed_packets(&String::from_utf8_lossy(&out.stdout));
    if packets.is_empty() {
        return Err(format!(
            "ffprobe listed no packet in {} ({} bytes): {}",
            file.display(),
            fs::metadata(file).map(|m| m.len()).unwrap_or(0),
            out.stderr.trim()
        ));
    }
    Ok(packets)
}

/// Writes the concatenation of `chunks` to a file in `dir` and probes it.
pub fn probe_bytes(
    dir: &TempDir,
    name: &str,
    chunks: &[&[u8]],
) -> Result<Vec<TimedPacket>, String> {
    let file = dir.file(name);
    fs::write(&file, chunks.concat()).map_err(|e| format!("write {}: {e}", file.display()))?;
    probe_file_packets(&file)
}

/// Parses `compact=p=0` lines of packets with `*_time` fields.
pub fn parse_timed_packets(text: &str) -> Vec<TimedPacket> {
    text.lines()
        .filter(|l| l.contains("codec_type="))
        .map(|line| {
            let fields: HashMap<&str, &str> = line
                .split('|')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            let f = |k: &str| fields.get(k).and_then(|v| v.parse::<f64>().ok());
            TimedPacket {
                stream_index: fields
                    .get("stream_index")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(usize::MAX),
                codec_type: fields.get("codec_type").unwrap_or(&"").to_string(),
                pts: f("pts_time"),
                dts: f("dts_time"),
                duration: f("duration_time"),
                size: fields.get("size").and_then(|v| v.parse().ok()).unwrap_or(0),
                key: fields.get("flags").is_some_and(|v| v.contains('K')),
            }
        })
        .collect()
}

/// The packets of one kind (`video` / `audio`), in file (decode) order.
pub fn of_kind<'a>(packets: &'a [TimedPacket], kind: &str) -> Vec<&'a TimedPacket> {
    packets.iter().filter(|p| p.codec_type == kind).collect()
}

/// How long the packets last: from the first DTS to the last DTS plus the last packet's
/// duration (the median DTS step when ffprobe gives none), i.e. the sum of their durations
/// when they are contiguous. `None` without DTS.
pub fn media_duration(packets: &[&TimedPacket]) -> Option<f64> {
    let dts: Vec<f64> = packets.iter().filter_map(|p| p.dts).collect();
    let (first, last) = (*dts.first()?, *dts.last()?);
    let mut steps: Vec<f64> = dts.windows(2).map(|w| w[1] - w[0]).collect();
    steps.sort_by(|a, b| a.total_cmp(b));
    let median = steps.get(steps.len() / 2).copied().unwrap_or(0.0);
    let tail = packets
        .last()
        .and_then(|p| p.duration)
        .filter(|d| *d > 0.0)
        .unwrap_or(median);
    Some(last - first + tail)
}

/// Problems with one downloaded segment or part (`label` names it): it must hold video whose
/// first packet is a key frame when `starts_with_key`, every packet must have a DTS, DTS must
/// increase per stream, audio must be present when `want_audio`, and the video must last
/// `expected` seconds within `tolerance` (see [`media_duration`]).
pub fn check_media(
    label: &str,
    packets: &[TimedPacket],
    expected: f64,
    tolerance: f64,
    starts_with_key: bool,
    want_audio: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let video = of_kind(packets, "video");
    let audio = of_kind(packets, "audio");
    if video.is_empty() {
        problems.push(format!("{label}: no video packet"));
        return problems;
    }
    if starts_with_key && !video[0].key {
        problems.push(format!(
            "{label}: first video packet is not a key frame: {:?}",
            video[0]
        ));
    }
    if want_audio && audio.is_empty() {
        problems.push(format!("{label}: no audio packet"));
    }
    problems.extend(dts_problems(label, packets));
    match media_duration(&video) {
        Some(d) if (d - expected).abs() <= tolerance => {}
        Some(d) => problems.push(format!(
            "{label}: video lasts {d:.4} s, the playlist says {expected:.4} s (tolerance {tolerance} s)"
        )),
        None => problems.push(format!("{label}: no video DTS")),
    }
    problems
}

/// Problems with DTS in `packets` (in order): missing, or not strictly increasing per stream.
pub fn dts_problems(label: &str, packets: &[TimedPacket]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut last: HashMap<usize, f64> = HashMap::new();
    for (i, p) in packets.iter().enumerate() {
        let Some(dts) = p.dts else {
            problems.push(format!("{label}: packet {i} has no DTS: {p:?}"));
            continue;
        };
        if let Some(prev) = last.insert(p.stream_index, dts) {
            if dts <= prev {
                problems.push(format!(
                    "{label}: {} DTS not increasing at packet {i}: {prev} then {dts}",
                    p.codec_type
                ));
            }
        }
    }
    problems
}

// ---- a background HLS reader ----

/// What an [`HlsPoller`] saw so far.
#[derive(Clone, Debug, Default)]
pub struct PollStats {
    /// Media playlists fetched.
    pub playlists: usize,
    /// Segments downloaded (each new one once).
    pub segments: usize,
    /// Bytes of segments downloaded.
    pub bytes: u64,
    /// The newest segment's media sequence number.
    pub last_msn: Option<u64>,
    /// Every failure: a status other than 200, an I/O error, an unparsable playlist, a
    /// segment skipped (the media sequence jumped past one not downloaded).
    pub errors: Vec<String>,
}

/// A thread that reads an HLS path like a player: multivariant playlist, then the media
/// playlist every 300 ms on one keep-alive connection, downloading each new segment once
/// (the init segment too). Stops on drop.
pub struct HlsPoller {
    stats: Arc<Mutex<PollStats>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    path: String,
}

impl HlsPoller {
    /// Starts polling `path` on weir's HLS port.
    pub fn start(port: u16, path: &str) -> HlsPoller {
        let stats = Arc::new(Mutex::new(PollStats::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, p) = (stats.clone(), stop.clone(), path.to_string());
        let handle = thread::spawn(move || poll_loop(port, &p, &s, &st));
        HlsPoller {
            stats,
            stop,
            handle: Some(handle),
            path: path.to_string(),
        }
    }

    /// A copy of the stats.
    pub fn snapshot(&self) -> PollStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until `n` segments were downloaded; panics on timeout or error.
    pub fn wait_segments(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            assert!(
                s.errors.is_empty(),
                "HLS reader of {} failed: {:?}",
                self.path,
                s.errors
            );
            if s.segments >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "HLS reader of {} downloaded {} of {n} segments in {timeout:?}",
                self.path,
                s.segments
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asserts the reader downloaded at least `n` more segments than in `before`, in
    /// sequence, without any error, within `timeout`.
    pub fn assert_flowing(&self, before: &PollStats, n: usize, timeout: Duration) {
        self.wait_segments(before.segments + n, timeout);
    }
}

impl Drop for HlsPoller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn poll_loop(port: u16, path: &str, stats: &Mutex<PollStats>, stop: &AtomicBool) {
    let error = |e: String| {
        eprintln!("[hls poller {path}] {e}");
        stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .errors
            .push(e);
    };
    let mut client = match HttpClient::try_connect(port) {
        Ok(c) => c,
        Err(e) => return error(format!("connect: {e}")),
    };
    let (media, _) = match media_playlist_target(&mut client, path) {
        Ok(t) => t,
        Err(e) => return error(e),
    };
    let mut last_msn: Option<u64> = None;
    let mut init_done = false;
    while !stop.load(Ordering::Relaxed) {
        let pl = match fetch_media_playlist(&mut client, &media) {
            Ok((_, pl)) => pl,
            Err(e) => {
                error(e);
                match HttpClient::try_connect(port) {
                    Ok(c) => client = c,
                    Err(e) => return error(format!("reconnect: {e}")),
                }
                thread::sleep(Duration::from_millis(300));
                continue;
            }
        };
        stats.lock().unwrap_or_else(|p| p.into_inner()).playlists += 1;
        if !init_done {
            if let Some(init) = &pl.map_uri {
                if let Err(e) = client.get_ok(&resolve(&media, init)) {
                    error(e);
                }
            }
            init_done = true;
        }
        for seg in &pl.segments {
            if last_msn.is_some_and(|l| seg.msn <= l) {
                continue;
            }
            if let Some(l) = last_msn {
                if seg.msn > l + 1 {
                    error(format!(
                        "segments {}..{} left the playlist before they were read",
                        l + 1,
                        seg.msn
                    ));
                }
            }
            match client.get_ok(&resolve(&media, &seg.uri)) {
                Ok(r) if !r.body.is_empty() => {
                    let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                    s.segments += 1;
                    s.bytes += r.body.len() as u64;
                    s.last_msn = Some(seg.msn);
                }
                Ok(_) => error(format!("segment {} is empty", seg.uri)),
                Err(e) => error(e),
            }
            last_msn = Some(seg.msn);
        }
        thread::sleep(Duration::from_millis(300));
    }
}

// ---- headless Chromium ----

const NODE_HINT: &str = "apt-get install nodejs npm";
const CHROMIUM_HINT: &str = "apt-get install chromium";

/// `tests/browser/`: the Node script and its `package.json` / `package-lock.json`.
pub fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// `target/test-artifacts/` (created), where screenshots go.
pub fn artifacts_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("test-artifacts");
    fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir
}

/// The Chromium executable: `$CHROMIUM`, else `/usr/bin/chromium`, else `chromium` on `PATH`;
/// panics with the install hint when there is none.
pub fn chromium_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROMIUM").map(PathBuf::from) {
        if p.is_file() {
            return p;
        }
    }
    let default = PathBuf::from("/usr/bin/chromium");
    if default.is_file() {
        return default;
    }
    find_in_path("chromium").unwrap_or_else(|| {
        panic!("chromium not found: install it with {CHROMIUM_HINT} (or run scripts/test.sh)")
    })
}

/// What the browser run reported.
#[derive(Clone, Debug)]
pub struct BrowserRun {
    /// The `RESULT` line's JSON (empty if the script printed none).
    pub json: String,
    /// Whether the script reported success (and exited 0).
    pub ok: bool,
    /// Seconds of playback observed.
    pub played: f64,
    /// The standard deviation of the decoded picture's luma (0..255), when sampled.
    pub picture_stddev: Option<f64>,
    /// The script's whole output, for messages.
    pub log: String,
}

/// Opens `page_url` (weir's player page) in headless Chromium through
/// `tests/browser/hls_player.mjs` (playwright-core, Chromium from the Debian package), waits
/// until the video has played `min_played` seconds with no fatal hls.js error, and saves a
/// screenshot to `screenshot`. Panics with install hints when node, Chromium or the script's
/// `node_modules` are missing.
pub fn play_in_chromium(
    page_url: &str,
    screenshot: &Path,
    min_played: f64,
    timeout: Duration,
) -> BrowserRun {
    require_tool("node", NODE_HINT);
    let chromium = chromium_path();
    let dir = browser_dir();
    if !dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        panic!(
            "playwright-core is not installed: run `npm ci` in {} (scripts/test.sh does; it \
             downloads no browser: the test uses {CHROMIUM_HINT})",
            dir.display()
        );
    }
    let out = run_with_timeout(
        "node-hls-player",
        Command::new("node")
            .current_dir(&dir)
            .env("CHROMIUM", &chromium)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .arg(dir.join("hls_player.mjs"))
            .arg(page_url)
            .arg(screenshot)
            .arg(min_played.to_string())
            .arg(timeout.as_secs().saturating_sub(20).max(10).to_string()),
        timeout,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or("")
        .to_string();
    let ok = out.status.is_some_and(|s| s.success()) && json_raw(&json, "ok") == Some("true");
    BrowserRun {
        played: json_raw(&json, "played")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        picture_stddev: json_raw(&json, "stddev").and_then(|v| v.parse().ok()),
        ok,
        json,
        log: format!("{stdout}\n--- stderr ---\n{}", out.stderr),
    }
}

/// The raw value of the first `"key":` in a flat JSON text, up to the next `,` or `}` (enough
/// for the numbers and booleans of the script's result line).
pub fn json_raw<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":");
    let at = json.find(&pat)? + pat.len();
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}
