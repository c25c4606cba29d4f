//! A blocking RTSP connection for the replay: sends raw bytes, reads responses and
//! interleaved frames with deadlines (every wait is bounded).

use crate::rtsp::{split_rtsp, RtspItem, RtspMessage};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// One RTSP connection to weir.
pub struct RtspConn {
    sock: TcpStream,
    buf: Vec<u8>,
    /// Messages read while waiting for something else (server requests, early responses).
    messages: Vec<RtspMessage>,
    /// Interleaved frames read and not yet taken: (channel, packet).
    frames: Vec<(u8, Vec<u8>)>,
    closed: bool,
    cseq: u32,
}

impl RtspConn {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> io::Result<RtspConn> {
        let sock = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        sock.set_nodelay(true)?;
        sock.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(RtspConn {
            sock,
            buf: Vec::new(),
            messages: Vec::new(),
            frames: Vec::new(),
            closed: false,
            cseq: 0,
        })
    }

    /// Writes `data` entirely.
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.sock.write_all(data)
    }

    /// Whether the server closed the connection.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Reads what arrives within `wait` (at least one read attempt) and splits it; the number
    /// of bytes read.
    pub fn pump(&mut self, wait: Duration) -> io::Result<usize> {
        if self.closed {
            return Ok(0);
        }
        self.sock
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        let mut chunk = [0u8; 64 * 1024];
        let n = match self.sock.read(&mut chunk) {
            Ok(0) => {
                self.closed = true;
                0
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                0
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                self.closed = true;
                0
            }
            Err(e) => return Err(e),
        };
        self.buf.extend_from_slice(&chunk[..n]);
        self.split()?;
        Ok(n)
    }

    fn split(&mut self) -> io::Result<()> {
        let split = split_rtsp(&self.buf, 0, false);
        if split.skipped > 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the server sent bytes that are neither an RTSP message nor an interleaved frame: {:?}",
                    String::from_utf8_lossy(&self.buf[..self.buf.len().min(80)])
                ),
            ));
        }
        let consumed = self.buf.len() - split.incomplete as usize;
        self.buf.drain(..consumed);
        for item in split.items {
            match item {
                RtspItem::Message(m) => self.messages.push(m),
                RtspItem::Interleaved { channel, data, .. } => self.frames.push((channel, data)),
            }
        }
        Ok(())
    }

    /// The next response (a message with a status line), waiting at most `timeout`. Server
    /// requests met on the way are dropped; interleaved frames are kept for
    /// [`RtspConn::take_frames`].
    pub fn response(&mut self, timeout: Duration) -> io::Result<RtspMessage> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self.messages.iter().position(|m| m.status().is_some()) {
                let m = self.messages.remove(i);
                self.messages.drain(..i);
                return Ok(m);
            }
            if self.closed {
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
            self.pump((deadline - now).min(Duration::from_millis(200)))?;
        }
    }

    /// Takes the interleaved frames read so far.
    pub fn take_frames(&mut self) -> Vec<(u8, Vec<u8>)> {
        std::mem::take(&mut self.frames)
    }

    /// Sends a request of this client's own (CSeq numbered by the connection) and waits for
    /// its answer.
    pub fn request(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> io::Result<RtspMessage> {
        self.cseq += 1;
        let mut head = format!("{method} {url} RTSP/1.0\r\nCSeq: {}\r\n", self.cseq);
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("User-Agent: weir-conformance\r\n\r\n");
        let mut data = head.into_bytes();
        data.extend_from_slice(body);
        self.send(&data)?;
        self.response(Duration::from_secs(5))
    }
}

/// Frames `packet` for channel `channel` (`$`, channel, length, packet).
pub fn interleave(channel: u8, packet: &[u8], out: &mut Vec<u8>) {
    out.push(b'$');
    out.push(channel);
    out.extend_from_slice(&(packet.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(packet);
}

/// The session id of a Session header value (`id;timeout=60` gives `id`).
pub fn session_id(value: &str) -> &str {
    value.split(';').next().unwrap_or_default().trim()
}

/// The payload of an RTP packet (after the header, CSRCs and extension, without padding), or
/// `None` if it is not a well-formed RTP packet.
pub fn rtp_payload(packet: &[u8]) -> Option<&[u8]> {
    if packet.len() < 12 || packet[0] >> 6 != 2 {
        return None;
    }
    let csrc = usize::from(packet[0] & 0x0f) * 4;
    let mut start = 12 + csrc;
    if packet[0] & 0x10 != 0 {
        let ext = packet.get(start + 2..start + 4)?;
        start += 4 + usize::from(u16::from_be_bytes([ext[0], ext[1]])) * 4;
    }
    let mut end = packet.len();
    if packet[0] & 0x20 != 0 {
        end = end.checked_sub(usize::from(*packet.last()?))?;
    }
    packet.get(start..end)
}

/// The RTP timestamp of a packet (its unit: the packets of a frame share it).
pub fn rtp_timestamp(packet: &[u8]) -> u64 {
    packet.get(4..8).map_or(0, |b| {
        u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    })
}

/// Whether a packet on an RTP channel or port is RTCP (payload type 192..=223 in byte 1).
pub fn is_rtcp(packet: &[u8]) -> bool {
    packet.len() >= 2 && (192..=223).contains(&packet[1])
}
