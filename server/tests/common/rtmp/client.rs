//! [`RtmpClient`], a raw RTMP connection: the simple handshake, the commands of a publisher
//! and a player (`connect`, `createStream`, `publish`, `play`), acknowledgements and ping.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::chunk::be32;
use super::{
    amf0_encode_all, encode_chunks, msg_type, split_app_stream, Amf0, ChunkReader, RtmpMessage,
    DEFAULT_CHUNK_SIZE, HANDSHAKE_SIZE, RTMP_TIMEOUT,
};

/// A raw RTMP connection to 127.0.0.1.
pub struct RtmpClient {
    stream: TcpStream,
    port: u16,
    /// The incoming chunk stream.
    pub reader: ChunkReader,
    /// Our chunk size (what we split outgoing messages at).
    pub out_chunk_size: usize,
    /// Messages read while waiting for something else (oldest first, ≤ 10000).
    pub pending: VecDeque<RtmpMessage>,
    /// Bytes received so far (for acknowledgements).
    received: u64,
    acked: u64,
    ack_window: u64,
    next_txn: f64,
}

impl RtmpClient {
    /// Opens a TCP connection to 127.0.0.1:`port` (no handshake).
    pub fn connect_tcp(port: u16) -> RtmpClient {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to RTMP 127.0.0.1:{port}: {e}"));
        stream.set_nodelay(true).ok();
        stream.set_write_timeout(Some(Duration::from_secs(10))).ok();
        RtmpClient {
            stream,
            port,
            reader: ChunkReader::default(),
            out_chunk_size: DEFAULT_CHUNK_SIZE,
            pending: VecDeque::new(),
            received: 0,
            acked: 0,
            ack_window: 0,
            next_txn: 2.0,
        }
    }

    /// Connects and performs the simple handshake; panics if it fails.
    pub fn open(port: u16) -> RtmpClient {
        let mut c = RtmpClient::connect_tcp(port);
        c.handshake()
            .unwrap_or_else(|e| panic!("RTMP handshake with 127.0.0.1:{port}: {e}"));
        c
    }

    /// Connects, handshakes and sends `connect` for app `app`; panics unless the server
    /// answers `_result` with `NetConnection.Connect.Success`.
    pub fn open_app(port: u16, app: &str) -> RtmpClient {
        let mut c = RtmpClient::open(port);
        let answer = c.connect_app(app);
        let code = answer
            .get(3)
            .and_then(|info| info.get("code"))
            .and_then(Amf0::as_str)
            .unwrap_or("");
        assert!(
            answer.first().and_then(Amf0::as_str) == Some("_result")
                && code == "NetConnection.Connect.Success",
            "connect to app {app:?} was not accepted: {answer:?}"
        );
        c
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

    /// The simple handshake: sends C0 (0x03) and C1 (time, four zero bytes, 1528 pseudo-random
    /// bytes), reads S0, S1 and S2, checks S0 is 3 and S2 echoes C1's random part, then sends
    /// C2 as the echo of S1.
    pub fn handshake(&mut self) -> Result<(), String> {
        let mut c0c1 = Vec::with_capacity(1 + HANDSHAKE_SIZE);
        c0c1.push(0x03);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        c0c1.extend_from_slice(&(now.as_millis() as u32).to_be_bytes());
        c0c1.extend_from_slice(&[0, 0, 0, 0]);
        let mut x = now.as_nanos() as u64 | 1;
        while c0c1.len() < 1 + HANDSHAKE_SIZE {
            // xorshift64: varied bytes are all C1 needs.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c0c1.push((x >> 24) as u8);
        }
        self.send_raw(&c0c1)
            .map_err(|e| format!("send C0+C1: {e}"))?;
        let s = self
            .read_exact_timeout(1 + 2 * HANDSHAKE_SIZE, RTMP_TIMEOUT)
            .map_err(|e| format!("read S0+S1+S2: {e}"))?;
        if s[0] != 0x03 {
            return Err(format!("S0 is {} instead of 3", s[0]));
        }
        let s1 = &s[1..1 + HANDSHAKE_SIZE];
        let s2 = &s[1 + HANDSHAKE_SIZE..];
        if s2[8..] != c0c1[9..] {
            return Err("S2 does not echo C1's random bytes".into());
        }
        self.send_raw(s1).map_err(|e| format!("send C2: {e}"))?;
        Ok(())
    }

    /// Reads exactly `n` bytes or fails (EOF, error, or `timeout` passed).
    fn read_exact_timeout(&mut self, n: usize, timeout: Duration) -> io::Result<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut out = vec![0u8; n];
        let mut got = 0;
        while got < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("{got}/{n} bytes"),
                ));
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut out[got..]) {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        format!("server closed after {got}/{n} bytes"),
                    ))
                }
                Ok(k) => got += k,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Sends one message split into chunks at [`RtmpClient::out_chunk_size`] (format 0 header).
    pub fn send_message(
        &mut self,
        csid: u8,
        type_id: u8,
        stream_id: u32,
        timestamp: u32,
        payload: &[u8],
    ) -> io::Result<()> {
        let bytes = encode_chunks(
            csid,
            type_id,
            stream_id,
            timestamp,
            payload,
            self.out_chunk_size,
        );
        self.send_raw(&bytes)
    }

    /// Sends Set Chunk Size `size` (raw: 0 or values with bit 31 set are sent as given) and,
    /// when the value is valid, splits later messages at it.
    pub fn send_set_chunk_size(&mut self, size: u32) -> io::Result<()> {
        self.send_message(2, msg_type::SET_CHUNK_SIZE, 0, 0, &size.to_be_bytes())?;
        if size > 0 && size <= 0x7fff_ffff {
            self.out_chunk_size = size as usize;
        }
        Ok(())
    }

    /// Sends an AMF0 command (type 20) on chunk stream `csid` of message stream `stream_id`.
    pub fn send_command(&mut self, csid: u8, stream_id: u32, values: &[Amf0]) -> io::Result<()> {
        self.send_message(
            csid,
            msg_type::COMMAND_AMF0,
            stream_id,
            0,
            &amf0_encode_all(values),
        )
    }

    /// Sends `connect` (transaction 1) for `app` and returns the answer's values
    /// (`_result`/`_error`, 1, properties, information); panics if none arrives.
    pub fn connect_app(&mut self, app: &str) -> Vec<Amf0> {
        let tc_url = format!("rtmp://127.0.0.1:{}/{app}", self.port);
        let cmd = [
            Amf0::str("connect"),
            Amf0::Number(1.0),
            Amf0::obj(&[
                ("app", Amf0::str(app)),
                ("type", Amf0::str("nonprivate")),
                ("flashVer", Amf0::str("FMLE/3.0 (compatible; weir-e2e)")),
                ("tcUrl", Amf0::str(&tc_url)),
                ("fpad", Amf0::Boolean(false)),
                ("capabilities", Amf0::Number(15.0)),
                ("audioCodecs", Amf0::Number(4071.0)),
                ("videoCodecs", Amf0::Number(252.0)),
                ("videoFunction", Amf0::Number(1.0)),
            ]),
        ];
        self.send_command(3, 0, &cmd).expect("send connect");
        self.wait_answer(1.0, RTMP_TIMEOUT)
            .unwrap_or_else(|e| panic!("no answer to connect: {e}"))
    }

    /// Sends `createStream` and returns the new message stream id; panics on an error.
    pub fn create_stream(&mut self) -> u32 {
        let txn = self.txn();
        self.send_command(
            3,
            0,
            &[Amf0::str("createStream"), Amf0::Number(txn), Amf0::Null],
        )
        .expect("send createStream");
        let answer = self
            .wait_answer(txn, RTMP_TIMEOUT)
            .unwrap_or_else(|e| panic!("no answer to createStream: {e}"));
        assert_eq!(
            answer.first().and_then(Amf0::as_str),
            Some("_result"),
            "createStream refused: {answer:?}"
        );
        answer
            .get(3)
            .and_then(Amf0::as_f64)
            .unwrap_or_else(|| panic!("createStream answer has no stream id: {answer:?}"))
            as u32
    }

    /// Sends `publish name live` on `stream_id` and returns the first `onStatus` info
    /// object (or the `_error` answer's values as an object `{ "_error": ... }`), or why
    /// none arrived (e.g. the server closed the connection).
    pub fn publish(&mut self, stream_id: u32, name: &str) -> Result<Amf0, String> {
        let txn = self.txn();
        self.send_command(
            8,
            stream_id,
            &[
                Amf0::str("publish"),
                Amf0::Number(txn),
                Amf0::Null,
                Amf0::str(name),
                Amf0::str("live"),
            ],
        )
        .map_err(|e| format!("send publish: {e}"))?;
        self.wait_status_or_error(txn, RTMP_TIMEOUT)
    }

    /// Sends `play name -2000` on `stream_id` and returns the first `onStatus` info object
    /// (or the `_error` answer), or why none arrived.
    pub fn play(&mut self, stream_id: u32, name: &str) -> Result<Amf0, String> {
        let txn = self.txn();
        self.send_command(
            8,
            stream_id,
            &[
                Amf0::str("play"),
                Amf0::Number(txn),
                Amf0::Null,
                Amf0::str(name),
                Amf0::Number(-2000.0),
            ],
        )
        .map_err(|e| format!("send play: {e}"))?;
        self.wait_status_or_error(txn, RTMP_TIMEOUT)
    }

    /// Connects to the app of `path`, creates a stream and publishes its stream name;
    /// returns the client, the message stream id and the `onStatus` info (or why not).
    pub fn start_publish(port: u16, path: &str) -> (RtmpClient, u32, Result<Amf0, String>) {
        let (app, name) = split_app_stream(path);
        let mut c = RtmpClient::open_app(port, &app);
        let sid = c.create_stream();
        let status = c.publish(sid, &name);
        (c, sid, status)
    }

    /// Connects to the app of `path`, creates a stream and plays its stream name; panics
    /// unless the server answers `NetStream.Play.Start` (after an optional `Play.Reset`).
    pub fn start_play(port: u16, path: &str) -> RtmpClient {
        let (app, name) = split_app_stream(path);
        let mut c = RtmpClient::open_app(port, &app);
        let sid = c.create_stream();
        let mut status = c
            .play(sid, &name)
            .unwrap_or_else(|e| panic!("play {path}: {e}"));
        if status_code(&status) == "NetStream.Play.Reset" {
            status = c
                .wait_status_or_error(-1.0, RTMP_TIMEOUT)
                .unwrap_or_else(|e| panic!("play {path}: {e}"));
        }
        assert_eq!(
            status_code(&status),
            "NetStream.Play.Start",
            "play {path}: {status:?}"
        );
        c
    }

    /// The next command transaction id (3, 4, ...; 1 is `connect`).
    fn txn(&mut self) -> f64 {
        self.next_txn += 1.0;
        self.next_txn
    }

    /// Reads the next message (from [`RtmpClient::pending`] first): `Ok(None)` when the
    /// server closed the connection, `Err(TimedOut)` after `timeout`, `Err(InvalidData)`
    /// when the chunk stream is broken. Answers Ping requests and sends acknowledgements.
    pub fn read_message(&mut self, timeout: Duration) -> io::Result<Option<RtmpMessage>> {
        if let Some(m) = self.pending.pop_front() {
            return Ok(Some(m));
        }
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.reader.next() {
                Ok(Some(m)) => {
                    self.on_control(&m);
                    return Ok(Some(m));
                }
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(ErrorKind::InvalidData, e)),
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(ErrorKind::TimedOut, "no RTMP message"));
            }
            self.stream.set_read_timeout(Some(left))?;
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    self.reader.buf.extend_from_slice(&buf[..n]);
                    self.received += n as u64;
                    if self.ack_window > 0 && self.received - self.acked >= self.ack_window {
                        self.acked = self.received;
                        let seq = (self.received as u32).to_be_bytes();
                        let _ = self.send_message(2, msg_type::ACK, 0, 0, &seq);
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return Err(io::Error::new(ErrorKind::TimedOut, "no RTMP message"))
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reacts to protocol control the client must answer: remembers the acknowledgement
    /// window and answers Ping Requests.
    fn on_control(&mut self, m: &RtmpMessage) {
        match m.type_id {
            msg_type::WINDOW_ACK_SIZE if m.payload.len() >= 4 => {
                self.ack_window = u64::from(be32(&m.payload));
            }
            // Ping Request (event 6) → Ping Response (event 7) with the same timestamp.
            msg_type::USER_CONTROL if m.payload.len() >= 6 && m.payload[..2] == [0, 6] => {
                let mut body = vec![0, 7];
                body.extend_from_slice(&m.payload[2..6]);
                let _ = self.send_message(2, msg_type::USER_CONTROL, 0, 0, &body);
            }
            _ => {}
        }
    }

    /// Reads until a command satisfies `pred` and returns its values; other messages are
    /// kept in [`RtmpClient::pending`]. Errors when the server closes, the chunk stream is
    /// broken or `timeout` passes (the text lists the commands seen meanwhile).
    pub fn wait_command(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&[Amf0]) -> bool,
    ) -> Result<Vec<Amf0>, String> {
        let deadline = Instant::now() + timeout;
        let mut kept = VecDeque::new();
        let mut seen = Vec::new();
        let result = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.read_message(left) {
                Ok(Some(m)) => {
                    if let Some(values) = m.amf0().filter(|_| m.command_name().is_some()) {
                        if pred(&values) {
                            break Ok(values);
                        }
                        seen.push(format!("{values:?}"));
                    }
                    if kept.len() < 10_000 {
                        kept.push_back(m);
                    }
                }
                Ok(None) => {
                    break Err(format!(
                        "server closed the connection (commands seen: {seen:?})"
                    ))
                }
                Err(e) => break Err(format!("{e} (commands seen: {seen:?})")),
            }
        };
        kept.extend(self.pending.drain(..));
        self.pending = kept;
        result
    }

    /// Waits for `_result`/`_error` with transaction id `txn`.
    pub fn wait_answer(&mut self, txn: f64, timeout: Duration) -> Result<Vec<Amf0>, String> {
        self.wait_command(timeout, |v| {
            matches!(v.first().and_then(Amf0::as_str), Some("_result" | "_error"))
                && v.get(1).and_then(Amf0::as_f64) == Some(txn)
        })
    }

    /// Waits for an `onStatus` (its info object is returned) or an `_error` answering `txn`
    /// (returned as an object with the key `_error` holding the info).
    pub fn wait_status_or_error(&mut self, txn: f64, timeout: Duration) -> Result<Amf0, String> {
        let v = self.wait_command(timeout, |v| match v.first().and_then(Amf0::as_str) {
            Some("onStatus") => true,
            Some("_error") => v.get(1).and_then(Amf0::as_f64) == Some(txn),
            _ => false,
        })?;
        let info = v.get(3).cloned().unwrap_or(Amf0::Null);
        if v.first().and_then(Amf0::as_str) == Some("_error") {
            return Ok(Amf0::Object(vec![("_error".into(), info)]));
        }
        Ok(info)
    }

    /// Waits until the server closes the connection (EOF, reset, or a chunk stream that
    /// ends in garbage), ignoring what it sends; errors after `timeout`.
    pub fn wait_closed(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("connection still open after {timeout:?}"));
            }
            self.stream
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            match self.stream.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Ok(()),
            }
        }
    }

    /// Closes the socket without `deleteStream`/FIN handshakes of RTMP (the client
    /// "vanishes"): the kernel sends FIN, or RST when received data is still unread.
    pub fn vanish(self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

/// The `code` of an `onStatus` info object (empty if none).
pub fn status_code(info: &Amf0) -> &str {
    info.get("code").and_then(Amf0::as_str).unwrap_or("")
}

/// The `level` of an `onStatus` info object (`status`, `error`, `warning`; empty if none).
pub fn status_level(info: &Amf0) -> &str {
    info.get("level").and_then(Amf0::as_str).unwrap_or("")
}
