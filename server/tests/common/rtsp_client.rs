//! A minimal raw RTSP client over `std::net::TcpStream`, for bad-input tests: send
//! arbitrary bytes, read responses and interleaved `$` frames, do the usual
//! OPTIONS/DESCRIBE/SETUP/PLAY handshake, and a background reader ([`RawReader`])
//! that counts RTP packets per channel and records sequence-number gaps.

use std::collections::BTreeMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Default time to wait for one response.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

/// An RTSP response.
#[derive(Clone, Debug)]
pub struct Response {
    /// Status code, e.g. 200.
    pub status: u16,
    /// Reason phrase, e.g. `OK`.
    pub reason: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// Body (Content-Length bytes).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The session id of the `Session` header, without `;timeout=`.
    pub fn session_id(&self) -> Option<String> {
        self.header("Session")
            .map(|v| v.split(';').next().unwrap_or("").trim().to_string())
    }

    /// The body as text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One interleaved `$` frame.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The interleaved channel.
    pub channel: u8,
    /// The RTP or RTCP packet.
    pub payload: Vec<u8>,
}

/// What the server sent: a response, an interleaved frame, or a request head.
#[derive(Clone, Debug)]
pub enum Message {
    /// An RTSP response.
    Response(Response),
    /// An interleaved `$` frame.
    Frame(Frame),
    /// A request sent by the server (its head, as text).
    Request(String),
}

/// One media of an SDP and the URL to SETUP it.
#[derive(Clone, Debug)]
pub struct Track {
    /// `video`, `audio`, ...
    pub media: String,
    /// Resolved control URL.
    pub url: String,
    /// The `a=rtpmap` line's encoding, e.g. `H264/90000` (empty if none).
    pub rtpmap: String,
}

/// A raw RTSP connection to 127.0.0.1.
pub struct RtspClient {
    stream: TcpStream,
    buf: Vec<u8>,
    cseq: u32,
    /// The session id learnt from the last SETUP (sent with later requests).
    pub session: Option<String>,
    /// Interleaved frames that arrived while a response was awaited (oldest first, ≤ 10000).
    pub skipped_frames: Vec<Frame>,
}

impl RtspClient {
    /// Connects to 127.0.0.1:`port`.
    pub fn connect(port: u16) -> RtspClient {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect 127.0.0.1:{port}: {e}"));
        stream.set_nodelay(true).ok();
        RtspClient {
            stream,
            buf: Vec::new(),
            cseq: 0,
            session: None,
            skipped_frames: Vec::new(),
        }
    }

    /// Our address as the server logs it, e.g. `127.0.0.1:51234`.
    pub fn local_addr(&self) -> String {
        self.stream
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    /// Writes `bytes` as they are (errors returned: the server may have closed).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Sends an interleaved frame `$ channel len payload`.
    pub fn send_frame(&mut self, channel: u8, payload: &[u8]) -> io::Result<()> {
        let len = u16::try_from(payload.len()).expect("frame too long");
        let mut bytes = vec![b'$', channel];
        bytes.extend_from_slice(&len.to_be_bytes());
        bytes.extend_from_slice(payload);
        self.send_raw(&bytes)
    }

    /// Reads the next message; `Ok(None)` on end of stream, `Err(TimedOut)` after `timeout`.
    pub fn read_message(&mut self, timeout: Duration) -> io::Result<Option<Message>> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(msg) = parse_message(&mut self.buf)
                .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?
            {
                return Ok(Some(msg));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(ErrorKind::TimedOut, "no complete message"));
            }
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(None),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until a response arrives (keeping interleaved frames in `skipped_frames`),
    /// or explains why none did.
    pub fn try_read_response(&mut self, timeout: Duration) -> Result<Response, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_message(left) {
                Ok(Some(Message::Response(r))) => return Ok(r),
                Ok(Some(Message::Frame(f))) if self.skipped_frames.len() < 10_000 => {
                    self.skipped_frames.push(f)
                }
                Ok(Some(_)) => continue,
                Ok(None) => return Err("server closed the connection without a response".into()),
                Err(e) => return Err(format!("no response: {e}")),
            }
        }
    }

    /// Reads the next response; panics if the connection closes or `RESPONSE_TIMEOUT` passes.
    pub fn read_response(&mut self) -> Response {
        self.try_read_response(RESPONSE_TIMEOUT)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Sends `METHOD url RTSP/1.0` with CSeq (and Session when known), `headers` and `body`,
    /// and returns the response.
    pub fn request(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        self.cseq += 1;
        let mut head = format!(
            "{method} {url} RTSP/1.0\r\nCSeq: {}\r\nUser-Agent: weir-e2e\r\n",
            self.cseq
        );
        if let Some(s) = &self.session {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("Session"))
            {
                head.push_str(&format!("Session: {s}\r\n"));
            }
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw(&bytes)
            .unwrap_or_else(|e| panic!("send {method}: {e}"));
        let resp = self.read_response();
        let cseq = self.cseq.to_string();
        assert_eq!(
            resp.header("CSeq"),
            Some(cseq.as_str()),
            "{method} response has wrong CSeq: {resp:?}"
        );
        resp
    }

    /// OPTIONS `url`.
    pub fn options(&mut self, url: &str) -> Response {
        self.request("OPTIONS", url, &[], b"")
    }

    /// DESCRIBE `url` (Accept: application/sdp).
    pub fn describe(&mut self, url: &str) -> Response {
        self.request("DESCRIBE", url, &[("Accept", "application/sdp")], b"")
    }

    /// DESCRIBE `url`, asserting 200, and returns its tracks resolved against Content-Base.
    pub fn describe_tracks(&mut self, url: &str) -> Vec<Track> {
        let resp = self.describe(url);
        assert_eq!(resp.status, 200, "DESCRIBE {url}: {resp:?}");
        let base = resp.header("Content-Base").unwrap_or(url).to_string();
        sdp_tracks(&resp.body_text(), &base)
    }

    /// SETUP `url` over TCP with interleaved channels `channel`-`channel+1`; remembers the session.
    pub fn setup_interleaved(&mut self, url: &str, channel: u8) -> Response {
        let transport = format!(
            "RTP/AVP/TCP;unicast;interleaved={}-{}",
            channel,
            channel + 1
        );
        let resp = self.request("SETUP", url, &[("Transport", &transport)], b"");
        if let Some(id) = resp.session_id() {
            self.session = Some(id);
        }
        resp
    }

    /// ANNOUNCE `url` with SDP `sdp` (Content-Type: application/sdp).
    pub fn announce(&mut self, url: &str, sdp: &str) -> Response {
        self.request(
            "ANNOUNCE",
            url,
            &[("Content-Type", "application/sdp")],
            sdp.as_bytes(),
        )
    }

    /// SETUP `url` for publishing (`mode=record`) over TCP channels `channel`-`channel+1`.
    pub fn setup_record_interleaved(&mut self, url: &str, channel: u8) -> Response {
        let transport = format!(
            "RTP/AVP/TCP;unicast;interleaved={}-{};mode=record",
            channel,
            channel + 1
        );
        let resp = self.request("SETUP", url, &[("Transport", &transport)], b"");
        if let Some(id) = resp.session_id() {
            self.session = Some(id);
        }
        resp
    }

    /// PLAY `url` (Range: npt=0-).
    pub fn play(&mut self, url: &str) -> Response {
        self.request("PLAY", url, &[("Range", "npt=0.000-")], b"")
    }

    /// Waits until the server closes the connection (EOF or reset), ignoring what it sends.
    pub fn wait_closed(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("connection still open after {timeout:?}"));
            }
            self.stream.set_read_timeout(Some(left)).ok();
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                    ) => {}
                Err(_) => return Ok(()),
            }
        }
    }

    /// Closes the socket without TEARDOWN (the client "vanishes"): the kernel sends FIN,
    /// or RST when received data is still unread (e.g. RTP after PLAY).
    pub fn vanish(self) {
        drop(self);
    }
}

/// A one-track H264 SDP (control `trackID=0`) for raw ANNOUNCE requests.
pub const H264_SDP: &str = "v=0\r\n\
o=- 0 0 IN IP4 127.0.0.1\r\n\
s=weir-e2e\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=video 0 RTP/AVP 96\r\n\
a=rtpmap:96 H264/90000\r\n\
a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LADdkBQfsBEAAAAwAQAAADAyDxQqSA,aMuDyyA=\r\n\
a=control:trackID=0\r\n";

/// Pops one complete message off the front of `buf`, if there is one.
pub fn parse_message(buf: &mut Vec<u8>) -> Result<Option<Message>, String> {
    while buf.first().is_some_and(|b| *b == b'\r' || *b == b'\n') {
        buf.remove(0);
    }
    if buf.is_empty() {
        return Ok(None);
    }
    if buf[0] == b'$' {
        if buf.len() < 4 {
            return Ok(None);
        }
        let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if buf.len() < 4 + len {
            return Ok(None);
        }
        let frame = Frame {
            channel: buf[1],
            payload: buf[4..4 + len].to_vec(),
        };
        buf.drain(..4 + len);
        return Ok(Some(Message::Frame(frame)));
    }
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > 1 << 20 {
            return Err("more than 1 MiB without an end of head".into());
        }
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or("");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("Content-Length"))
        .map(|(_, v)| v.parse().map_err(|_| format!("bad Content-Length {v:?}")))
        .transpose()?
        .unwrap_or(0);
    if buf.len() < end + 4 + len {
        return Ok(None);
    }
    let body = buf[end + 4..end + 4 + len].to_vec();
    buf.drain(..end + 4 + len);
    if !first.starts_with("RTSP/") {
        return Ok(Some(Message::Request(head)));
    }
    let mut parts = first.splitn(3, ' ');
    let _version = parts.next();
    let status = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {first:?}"))?;
    let reason = parts.next().unwrap_or("").to_string();
    Ok(Some(Message::Response(Response {
        status,
        reason,
        headers,
        body,
    })))
}

/// The media sections of `sdp`, with control URLs resolved against `base`.
pub fn sdp_tracks(sdp: &str, base: &str) -> Vec<Track> {
    let mut tracks: Vec<Track> = Vec::new();
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            let media = m.split_whitespace().next().unwrap_or("").to_string();
            tracks.push(Track {
                media,
                url: base.to_string(),
                rtpmap: String::new(),
            });
        } else if let (Some(t), Some(control)) =
            (tracks.last_mut(), line.strip_prefix("a=control:"))
        {
            t.url = resolve_control(base, control);
        } else if let (Some(t), Some(map)) = (tracks.last_mut(), line.strip_prefix("a=rtpmap:")) {
            t.rtpmap = map.split_whitespace().nth(1).unwrap_or("").to_string();
        }
    }
    tracks
}

/// Resolves an SDP `a=control` value against the aggregate URL (RFC 2326 C.1.1).
pub fn resolve_control(base: &str, control: &str) -> String {
    if control.starts_with("rtsp://") || control.starts_with("rtsps://") {
        control.to_string()
    } else if control == "*" {
        base.to_string()
    } else if base.ends_with('/') {
        format!("{base}{control}")
    } else {
        format!("{base}/{control}")
    }
}

/// The id in a `[session ID] ...` log line.
pub fn log_session_id(line: &str) -> Option<String> {
    let start = line.find("[session ")? + "[session ".len();
    let len = line[start..].find(']')?;
    Some(line[start..start + len].to_string())
}

/// The sequence number of an RTP packet.
pub fn rtp_seq(pkt: &[u8]) -> Option<u16> {
    (pkt.len() >= 12 && pkt[0] >> 6 == 2).then(|| u16::from_be_bytes([pkt[2], pkt[3]]))
}

/// True if the RTP marker bit is set (end of an access unit for video).
pub fn rtp_marker(pkt: &[u8]) -> bool {
    pkt.len() >= 2 && pkt[1] & 0x80 != 0
}

/// The payload of an RTP packet (after CSRCs and extension, without padding).
pub fn rtp_payload(pkt: &[u8]) -> &[u8] {
    if pkt.len() < 12 {
        return &[];
    }
    let mut start = 12 + 4 * usize::from(pkt[0] & 0x0f);
    if pkt[0] & 0x10 != 0 && pkt.len() >= start + 4 {
        start += 4 + 4 * usize::from(u16::from_be_bytes([pkt[start + 2], pkt[start + 3]]));
    }
    let mut end = pkt.len();
    if pkt[0] & 0x20 != 0 {
        end = end.saturating_sub(usize::from(pkt[pkt.len() - 1]));
    }
    if start >= end {
        &[]
    } else {
        &pkt[start..end]
    }
}

/// The H264 NAL unit types an RTP payload starts or carries (STAP-A expanded; FU-A start only).
pub fn h264_nal_types(payload: &[u8]) -> Vec<u8> {
    let Some(&b0) = payload.first() else {
        return Vec::new();
    };
    match b0 & 0x1f {
        24 => {
            let mut types = Vec::new();
            let mut i = 1;
            while i + 2 < payload.len() {
                let size = usize::from(u16::from_be_bytes([payload[i], payload[i + 1]]));
                if size > 0 {
                    types.push(payload[i + 2] & 0x1f);
                }
                i += 2 + size;
            }
            types
        }
        28 if payload.len() >= 2 && payload[1] & 0x80 != 0 => vec![payload[1] & 0x1f],
        28 => Vec::new(),
        t => vec![t],
    }
}

/// Per-channel RTP statistics of a [`RawReader`].
#[derive(Clone, Debug, Default)]
pub struct ChannelStats {
    /// The SDP media of the track on this channel (`video`, `audio`).
    pub media: String,
    /// RTP packets received.
    pub packets: u64,
    /// The last sequence number seen.
    pub last_seq: Option<u16>,
    /// Discontinuities as (expected, received) sequence numbers (first 20).
    pub gaps: Vec<(u16, u16)>,
}

/// What a [`RawReader`] has seen so far.
#[derive(Clone, Debug, Default)]
pub struct ReaderStats {
    /// Stats per even (RTP) interleaved channel.
    pub channels: BTreeMap<u8, ChannelStats>,
    /// The first 400 video RTP packets, whole.
    pub first_video: Vec<Vec<u8>>,
    /// Why reading stopped, if it did (EOF, error).
    pub ended: Option<String>,
}

impl ReaderStats {
    /// Total RTP packets received on the `media` channels.
    pub fn packets(&self, media: &str) -> u64 {
        self.channels
            .values()
            .filter(|c| c.media == media)
            .map(|c| c.packets)
            .sum()
    }

    /// Every gap on every channel, as (channel, expected, received).
    pub fn gaps(&self) -> Vec<(u8, u16, u16)> {
        self.channels
            .iter()
            .flat_map(|(ch, c)| c.gaps.iter().map(move |(e, g)| (*ch, *e, *g)))
            .collect()
    }

    /// NAL types of the first video access unit (packets up to the first marker bit).
    pub fn first_access_unit_nal_types(&self) -> Vec<u8> {
        let mut types = Vec::new();
        for pkt in &self.first_video {
            types.extend(h264_nal_types(rtp_payload(pkt)));
            if rtp_marker(pkt) {
                break;
            }
        }
        types
    }
}

/// A TCP-interleaved RTSP reader of one path, reading on a background thread.
pub struct RawReader {
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<ReaderStats>>,
    handle: Option<JoinHandle<()>>,
    /// The address the reader connected from (as logged by the server).
    pub local_addr: String,
}

impl RawReader {
    /// DESCRIBE, SETUP every track (interleaved 0-1, 2-3, ...) and PLAY `rtsp://127.0.0.1:port/path`
    /// (panics unless each answers 200), then counts RTP on a thread until dropped.
    pub fn start(port: u16, path: &str) -> RawReader {
        let url = format!("rtsp://127.0.0.1:{port}/{path}");
        let mut client = RtspClient::connect(port);
        let tracks = client.describe_tracks(&url);
        assert!(!tracks.is_empty(), "DESCRIBE {url} has no media");
        let mut stats = ReaderStats::default();
        for (i, t) in tracks.iter().enumerate() {
            let ch = u8::try_from(2 * i).expect("too many tracks");
            let resp = client.setup_interleaved(&t.url, ch);
            assert_eq!(resp.status, 200, "SETUP {}: {resp:?}", t.url);
            stats.channels.insert(
                ch,
                ChannelStats {
                    media: t.media.clone(),
                    ..Default::default()
                },
            );
        }
        let resp = client.play(&url);
        assert_eq!(resp.status, 200, "PLAY {url}: {resp:?}");
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(stats));
        let local_addr = client.local_addr();
        let (stop2, stats2) = (stop.clone(), stats.clone());
        let handle = thread::spawn(move || read_loop(client, &url, &stop2, &stats2));
        RawReader {
            stop,
            stats,
            handle: Some(handle),
            local_addr,
        }
    }

    /// A copy of the statistics so far.
    pub fn snapshot(&self) -> ReaderStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until at least `n` video RTP packets have arrived in total; panics on timeout.
    pub fn wait_video_packets(&self, n: u64, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            if s.packets("video") >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "raw reader got {} < {n} video packets in {timeout:?}: {s:?}",
                s.packets("video")
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Asserts the reader is still receiving (≥ `min_new` more video packets than `before`
    /// within `timeout`), never saw a sequence gap, and its connection is still up.
    pub fn assert_flowing_without_gap(
        &self,
        before: &ReaderStats,
        min_new: u64,
        timeout: Duration,
    ) {
        self.wait_video_packets(before.packets("video") + min_new, timeout);
        let now = self.snapshot();
        assert!(
            now.gaps().is_empty(),
            "concurrent reader saw RTP sequence gaps: {:?}",
            now.gaps()
        );
        assert!(
            now.ended.is_none(),
            "concurrent reader stopped: {:?}",
            now.ended
        );
    }
}

impl Drop for RawReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn read_loop(mut client: RtspClient, url: &str, stop: &AtomicBool, stats: &Mutex<ReaderStats>) {
    let mut last_keepalive = Instant::now();
    for f in std::mem::take(&mut client.skipped_frames) {
        record_frame(&mut stats.lock().unwrap_or_else(|p| p.into_inner()), f);
    }
    while !stop.load(Ordering::Relaxed) {
        if last_keepalive.elapsed() > Duration::from_secs(4) {
            last_keepalive = Instant::now();
            client.cseq += 1;
            let req = format!("OPTIONS {url} RTSP/1.0\r\nCSeq: {}\r\n\r\n", client.cseq);
            let _ = client.send_raw(req.as_bytes());
        }
        let msg = client.read_message(Duration::from_millis(200));
        let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
        match msg {
            Ok(Some(Message::Frame(f))) => record_frame(&mut s, f),
            Ok(Some(_)) => {}
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Ok(None) => {
                s.ended = Some("server closed the connection".into());
                return;
            }
            Err(e) => {
                s.ended = Some(format!("read error: {e}"));
                return;
            }
        }
    }
}

fn record_frame(s: &mut ReaderStats, f: Frame) {
    let Some(seq) = rtp_seq(&f.payload) else {
        return;
    };
    let Some(c) = s.channels.get_mut(&f.channel) else {
        return;
    };
    if let Some(last) = c.last_seq {
        let expected = last.wrapping_add(1);
        if seq != expected && c.gaps.len() < 20 {
            c.gaps.push((expected, seq));
        }
    }
    c.last_seq = Some(seq);
    c.packets += 1;
    if c.media == "video" && s.first_video.len() < 400 {
        s.first_video.push(f.payload);
    }
}
