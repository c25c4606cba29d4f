//! The replay's own RTMP client pieces: a blocking connection (handshake, chunk stream both
//! ways with weir-core's [`ChunkEncoder`] and [`ChunkDecoder`], acknowledgements), a player
//! that fingerprints the FLV tag bodies it receives, and a publisher that feeds weir.

use super::digest::{Progress, Sequence};
use super::rtmp_stream::{command, is_audio_config, is_video_config, is_video_end, types, Command};
use bytes::BytesMut;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use weir_core::rtmp::chunk::{ChunkDecoder, ChunkEncoder, ChunkLimits, RawMessage};
use weir_core::rtmp::Amf0Value;

/// A blocking RTMP connection.
pub struct RtmpConn {
    sock: TcpStream,
    dec: ChunkDecoder,
    enc: ChunkEncoder,
    buf: BytesMut,
    received: u64,
    acked: u64,
    window: u64,
    closed: bool,
    /// Every message read, kept when asked to ([`RtmpConn::keep_messages`]).
    kept: Option<Vec<RawMessage>>,
}

fn amf(values: &[Amf0Value]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in values {
        // Only strings, numbers, null and objects of them are written: they always encode.
        let _ = v.write(&mut b);
    }
    b
}

impl RtmpConn {
    /// Connects (no handshake yet).
    pub fn connect(addr: SocketAddr) -> io::Result<RtmpConn> {
        let sock = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        sock.set_nodelay(true)?;
        sock.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(RtmpConn {
            sock,
            dec: ChunkDecoder::new(ChunkLimits::default()),
            enc: ChunkEncoder::new(),
            buf: BytesMut::new(),
            received: 0,
            acked: 0,
            window: u64::MAX,
            closed: false,
            kept: None,
        })
    }

    /// Keeps a copy of every message read from now on (see [`RtmpConn::kept`]).
    pub fn keep_messages(&mut self) {
        self.kept.get_or_insert_with(Vec::new);
    }

    /// The messages kept so far.
    pub fn kept(&mut self) -> Vec<RawMessage> {
        self.kept.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Sends `c0c1`, reads S0, S1 and S2 (within 5 s), sends S1 back as C2; returns S0+S1+S2.
    pub fn handshake(&mut self, c0c1: &[u8]) -> io::Result<Vec<u8>> {
        self.sock.write_all(c0c1)?;
        self.sock.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut s = vec![0u8; 1 + 2 * 1536];
        self.sock.read_exact(&mut s)?;
        self.sock.write_all(&s[1..1537])?;
        Ok(s)
    }

    /// A handshake with a simple (digest-less) C1.
    pub fn simple_handshake(&mut self) -> io::Result<()> {
        let mut c0c1 = vec![3u8];
        c0c1.extend((0..1536u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
        c0c1[1..9].fill(0);
        self.handshake(&c0c1).map(|_| ())
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, data: &[u8]) -> io::Result<()> {
        self.sock.write_all(data)
    }

    /// Writes one message.
    pub fn send(
        &mut self,
        csid: u32,
        ts: u32,
        type_id: u8,
        sid: u32,
        body: &[u8],
    ) -> io::Result<()> {
        let mut out = Vec::with_capacity(body.len() + 64);
        self.enc
            .write(&mut out, csid, ts, type_id, sid, body)
            .map_err(|e| io::Error::other(e.to_string()))?;
        self.sock.write_all(&out)
    }

    /// Sets this side's chunk size (sends Set Chunk Size).
    pub fn set_chunk_size(&mut self, size: u32) -> io::Result<()> {
        self.send(2, 0, types::SET_CHUNK_SIZE, 0, &size.to_be_bytes())?;
        self.enc
            .set_chunk_size(size)
            .map_err(|e| io::Error::other(e.to_string()))
    }

    /// Sends an AMF0 command on chunk stream 3 (or 8 on a media stream).
    pub fn command(&mut self, sid: u32, values: &[Amf0Value]) -> io::Result<()> {
        let csid = if sid == 0 { 3 } else { 8 };
        self.send(csid, 0, types::COMMAND_AMF0, sid, &amf(values))
    }

    /// Whether the peer closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The next message, waiting at most `wait`; `None` if none came (or the peer closed).
    /// Set Chunk Size, Abort and Window Acknowledgement Size are applied; acknowledgements
    /// are sent as the window requires.
    pub fn next(&mut self, wait: Duration) -> io::Result<Option<RawMessage>> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(m) = self
                .dec
                .decode(&mut self.buf)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
            {
                let v = (m.body.len() >= 4)
                    .then(|| u32::from_be_bytes([m.body[0], m.body[1], m.body[2], m.body[3]]));
                match (m.type_id, v) {
                    (types::SET_CHUNK_SIZE, Some(v)) => self
                        .dec
                        .set_chunk_size(v & 0x7fff_ffff)
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?,
                    (types::ABORT, Some(v)) => self.dec.abort(v),
                    (5, Some(v)) => self.window = u64::from(v),
                    _ => {}
                }
                if let Some(k) = &mut self.kept {
                    k.push(m.clone());
                }
                return Ok(Some(m));
            }
            if self.received - self.acked >= self.window / 2 {
                self.acked = self.received;
                self.send(2, 0, 3, 0, &(self.received as u32).to_be_bytes())?;
            }
            let now = Instant::now();
            if self.closed || now >= deadline {
                return Ok(None);
            }
            self.sock
                .set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))))?;
            let mut chunk = [0u8; 64 * 1024];
            match self.sock.read(&mut chunk) {
                Ok(0) => self.closed = true,
                Ok(n) => {
                    self.received += n as u64;
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => self.closed = true,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads what weir still sends (answers to the last commands) until it is quiet for 200 ms,
    /// for 2 s at most.
    pub fn drain(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            match self.next(Duration::from_millis(200)) {
                Ok(Some(_)) => {}
                _ => return,
            }
        }
    }

    /// Reads until a command satisfying `want` arrives (within `timeout`); other messages
    /// are handed to `other`.
    pub fn wait_command(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&Command) -> bool,
        mut other: impl FnMut(RawMessage),
    ) -> io::Result<Command> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && !self.closed {
            let Some(m) = self.next(deadline.saturating_duration_since(Instant::now()))? else {
                continue;
            };
            match command(&m) {
                Some(c) if want(&c) => return Ok(c),
                _ => other(m),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            if self.closed {
                "weir closed the connection".to_string()
            } else {
                format!("no expected answer within {timeout:?}")
            },
        ))
    }

    /// connect(app) and createStream: the message stream id weir gave.
    pub fn open_stream(&mut self, addr: SocketAddr, app: &str) -> io::Result<u32> {
        self.command(
            0,
            &[
                Amf0Value::String("connect".into()),
                Amf0Value::Number(1.0),
                Amf0Value::Object(vec![
                    ("app".into(), Amf0Value::String(app.into())),
                    (
                        "tcUrl".into(),
                        Amf0Value::String(format!("rtmp://{addr}/{app}")),
                    ),
                ]),
            ],
        )?;
        let t = Duration::from_secs(5);
        let answer = self.wait_command(t, |c| c.transaction == 1.0, |_| {})?;
        if answer.name != "_result" {
            return Err(io::Error::other(format!(
                "connect: weir answered {answer:?}"
            )));
        }
        self.command(
            0,
            &[
                Amf0Value::String("createStream".into()),
                Amf0Value::Number(2.0),
                Amf0Value::Null,
            ],
        )?;
        let answer = self.wait_command(t, |c| c.transaction == 2.0, |_| {})?;
        match (
            answer.name.as_str(),
            answer.args.get(1).and_then(Amf0Value::as_f64),
        ) {
            ("_result", Some(id)) => Ok(id as u32),
            _ => Err(io::Error::other(format!(
                "createStream: weir answered {answer:?}"
            ))),
        }
    }
}

/// What an RTMP player received.
#[derive(Clone, Debug, Default)]
pub struct RtmpReceived {
    /// Video sequence headers.
    pub video_config: Vec<Vec<u8>>,
    /// Audio sequence headers.
    pub audio_config: Vec<Vec<u8>>,
    /// Video tag bodies other than sequence headers.
    pub video: Sequence,
    /// Audio tag bodies other than sequence headers.
    pub audio: Sequence,
    /// Whether `onMetaData` came.
    pub metadata: bool,
}

impl RtmpReceived {
    /// Records one received message (media bodies, sequence headers, metadata).
    pub fn take_message(&mut self, m: &RawMessage) {
        match m.type_id {
            types::VIDEO if is_video_config(&m.body) => self.video_config.push(m.body.to_vec()),
            types::VIDEO if is_video_end(&m.body) => {}
            types::VIDEO if m.body.len() > 1 => self.video.push(&m.body),
            types::AUDIO if is_audio_config(&m.body) => self.audio_config.push(m.body.to_vec()),
            types::AUDIO if m.body.len() > 1 => self.audio.push(&m.body),
            types::DATA_AMF0 => self.metadata = true,
            _ => {}
        }
    }
}

/// Plays `app/stream` on its own thread, fingerprinting the tag bodies.
pub struct RtmpPlayer {
    progress: Arc<Mutex<Vec<Progress>>>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<io::Result<RtmpReceived>>,
}

impl RtmpPlayer {
    /// Connects, plays and waits for `NetStream.Play.Start`; then receives on a thread.
    pub fn start(addr: SocketAddr, app: &str, stream: &str) -> io::Result<RtmpPlayer> {
        let mut conn = RtmpConn::connect(addr)?;
        conn.simple_handshake()?;
        let sid = conn.open_stream(addr, app)?;
        conn.command(
            sid,
            &[
                Amf0Value::String("play".into()),
                Amf0Value::Number(0.0),
                Amf0Value::Null,
                Amf0Value::String(stream.into()),
            ],
        )?;
        let mut received = RtmpReceived::default();
        let status = conn.wait_command(
            Duration::from_secs(5),
            |c| {
                c.name == "onStatus" && c.status_code().is_some_and(|s| s != "NetStream.Play.Reset")
            },
            |m| received.take_message(&m),
        )?;
        if status.status_code() != Some("NetStream.Play.Start") {
            return Err(io::Error::other(format!(
                "play {app}/{stream}: {}",
                status.status_code().unwrap_or_default()
            )));
        }
        let progress = Arc::new(Mutex::new(vec![(0, None); 2]));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (progress.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("rtmp-player".into())
            .spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(120);
                while !s.load(Ordering::Relaxed) && !conn.is_closed() && Instant::now() < deadline {
                    if let Some(m) = conn.next(Duration::from_millis(20))? {
                        received.take_message(&m);
                        if let Ok(mut c) = c.lock() {
                            *c = vec![received.video.progress(), received.audio.progress()];
                        }
                    }
                }
                Ok(received)
            })?;
        Ok(RtmpPlayer {
            progress,
            stop,
            thread,
        })
    }

    /// How far video and audio got.
    pub fn progress(&self) -> Vec<Progress> {
        self.progress.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Stops and returns what arrived.
    pub fn finish(self) -> io::Result<RtmpReceived> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| io::Error::other("the RTMP player thread panicked"))?
    }
}

/// Publishes `app/stream`: returns the connection and the message stream id, once weir said
/// `NetStream.Publish.Start`.
pub fn start_publishing(addr: SocketAddr, app: &str, stream: &str) -> io::Result<(RtmpConn, u32)> {
    let mut conn = RtmpConn::connect(addr)?;
    conn.simple_handshake()?;
    conn.set_chunk_size(60_000)?;
    let sid = conn.open_stream(addr, app)?;
    conn.command(
        sid,
        &[
            Amf0Value::String("publish".into()),
            Amf0Value::Number(3.0),
            Amf0Value::Null,
            Amf0Value::String(stream.into()),
            Amf0Value::String("live".into()),
        ],
    )?;
    let status = conn.wait_command(Duration::from_secs(5), |c| c.name == "onStatus", |_| {})?;
    if status.status_code() != Some("NetStream.Publish.Start") {
        return Err(io::Error::other(format!(
            "publish {app}/{stream}: {}",
            status.status_code().unwrap_or_default()
        )));
    }
    Ok((conn, sid))
}
