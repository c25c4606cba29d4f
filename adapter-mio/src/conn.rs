//! One TCP connection of the loop: its socket, its input arena, its output queue, and the
//! protocol state machine it carries.

use crate::hls::HttpConn;
use crate::rtmp::RtmpConn;
use crate::rtsp::RtspConn;
use bytes::Bytes;
use mio::net::TcpStream;
use smallvec::SmallVec;
use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::time::Instant;
use weir_core::arena::Arena;

/// The most bytes read per `read` call.
pub(crate) const READ_CHUNK: usize = 16 * 1024;
/// The fewest bytes read per `read` call.
const MIN_READ: usize = 1024;
/// Input arena chunks of a connection that has not received much yet.
const MIN_ARENA_CHUNK: usize = 2 * 1024;
/// Output buffer a reader keeps once its start-up burst is out.
const IDLE_OUT: usize = 512;
/// Input arena chunks of a connection that receives a stream.
const ARENA_CHUNK: usize = 64 * 1024;

/// The protocol a connection speaks.
pub(crate) enum Proto {
    /// RTSP.
    Rtsp(Box<RtspConn>),
    /// RTMP.
    Rtmp(Box<RtmpConn>),
    /// HTTP (HLS).
    Http(Box<HttpConn>),
    /// An outgoing RTSP connection reading a path's source.
    Source(Box<crate::source::SourceConn>),
    /// Stands in while the protocol state is lent to the loop.
    Placeholder,
}

/// What one read did.
pub(crate) enum Read1 {
    /// Bytes were appended to the input.
    Data,
    /// Nothing to read now.
    WouldBlock,
    /// The peer closed its side.
    Eof,
    /// The socket failed.
    Failed(io::Error),
}

/// A connection.
pub(crate) struct Conn {
    pub sock: TcpStream,
    /// Input not yet consumed by the state machine, in recycled chunks.
    pub inbuf: Arena,
    /// Bytes to send (`out[out_pos..]`), then `chunks`.
    pub out: Vec<u8>,
    pub out_pos: usize,
    /// Shared buffers to send after `out` (HTTP bodies: segments are never copied).
    pub chunks: VecDeque<Bytes>,
    /// Bytes of `chunks[0]` already sent.
    pub chunk_pos: usize,
    /// Since when output has been waiting for the socket (for `writeTimeout`).
    pub stalled_since: Option<Instant>,
    /// When the state machine next needs `handle_timeout`.
    pub deadline: Option<Instant>,
    /// Set once the connection is closing: its output drains, then the write side is shut
    /// and input is discarded until the peer closes or this deadline passes (closing a socket
    /// with unread input would reset the connection and lose the last answer).
    pub lingering: Option<Instant>,
    /// Whether the write side was shut down.
    pub write_shut: bool,
    /// An RTSP reader's ring item the socket took only part of (sent before `out`).
    pub partial: Option<crate::direct::Partial>,
    /// Whether the last write straight from the ring found the socket full.
    pub direct_blocked: bool,
    /// Bytes asked per `read` call: small for connections that only answer (readers), grown
    /// while reads fill it (publishers), up to [`READ_CHUNK`].
    read_size: usize,
    /// `runOnConnect` while the connection lasts (`runOnDisconnect` when dropped).
    pub hook: Option<crate::hooks::Held>,
    pub proto: Proto,
}

impl Conn {
    /// A connection with preallocated buffers.
    pub fn new(sock: TcpStream, proto: Proto, out_capacity: usize) -> Conn {
        Conn {
            sock,
            // Small chunks while the connection only answers (a reader touches a few pages),
            // large ones once it turns out to receive a stream (see `read_once`).
            inbuf: Arena::new(MIN_ARENA_CHUNK),
            out: Vec::with_capacity(out_capacity),
            out_pos: 0,
            chunks: VecDeque::new(),
            chunk_pos: 0,
            stalled_since: None,
            deadline: None,
            lingering: None,
            write_shut: false,
            partial: None,
            direct_blocked: false,
            read_size: MIN_READ,
            hook: None,
            proto,
        }
    }

    /// Reads once into the input arena.
    pub fn read_once(&mut self) -> Read1 {
        let want = self.read_size;
        self.inbuf.reserve(want);
        let buf = self.inbuf.buf();
        let start = buf.len();
        // Only the bytes asked for are touched: a reader's connection stays a few pages.
        buf.resize(start + want, 0);
        let r = self.sock.read(&mut buf[start..]);
        let n = match r {
            Ok(n) => n,
            Err(_) => 0,
        };
        buf.truncate(start + n);
        if n == want && want < READ_CHUNK {
            self.read_size = want * 2;
            if self.read_size == READ_CHUNK {
                self.inbuf.set_chunk(ARENA_CHUNK);
            }
        }
        match r {
            Ok(0) => Read1::Eof,
            Ok(_) => Read1::Data,
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.kind() == io::ErrorKind::NotConnected =>
            {
                Read1::WouldBlock
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Read1::Data,
            Err(e) => Read1::Failed(e),
        }
    }

    /// The connection has become a reader: from now on it receives only small control
    /// messages, so its input keeps one chunk and reads start small again.
    pub fn became_reader(&mut self) {
        self.inbuf.trim();
        self.read_size = MIN_READ;
    }

    /// Once a new reader's start-up burst (answers, metadata, sequence headers) is out: gives
    /// back the output buffers' memory beyond what control messages need.
    pub fn shrink_idle_output(&mut self) {
        if self.out.is_empty() {
            self.out.shrink_to(IDLE_OUT);
            if let Proto::Rtmp(r) = &mut self.proto {
                r.core.shrink_transmit(IDLE_OUT);
            }
        }
    }

    /// Bytes waiting to be sent.
    pub fn pending_out(&self) -> usize {
        let chunks: usize = self.chunks.iter().map(|c| c.len()).sum();
        let partial = self.partial.as_ref().map_or(0, |p| p.remaining());
        partial + self.out.len() - self.out_pos + chunks - self.chunk_pos
    }

    /// Writes as much as the socket takes. `Err` when the socket failed.
    pub fn flush(&mut self, now: Instant) -> io::Result<()> {
        if let Some(p) = self.partial.as_mut() {
            if p.write(&mut self.sock)? {
                self.partial = None;
            } else {
                self.stalled_since.get_or_insert(now);
                return Ok(());
            }
        }
        while self.out_pos < self.out.len() {
            match self.sock.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.out_pos += n,
                // A connection still being established takes nothing yet.
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::NotConnected =>
                {
                    break
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            self.flush_chunks()?;
        } else if self.out_pos > 256 * 1024 && self.out_pos * 2 > self.out.len() {
            // Keep the buffer from creeping: move the unsent tail to the front.
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
        if self.pending_out() == 0 && !self.direct_blocked {
            self.stalled_since = None;
        } else if self.stalled_since.is_none() {
            self.stalled_since = Some(now);
        }
        Ok(())
    }

    fn flush_chunks(&mut self) -> io::Result<()> {
        while !self.chunks.is_empty() {
            let written = {
                let mut slices: SmallVec<[IoSlice<'_>; 32]> = SmallVec::new();
                for (i, c) in self.chunks.iter().take(32).enumerate() {
                    let from = if i == 0 { self.chunk_pos } else { 0 };
                    slices.push(IoSlice::new(&c[from..]));
                }
                self.sock.write_vectored(&slices)
            };
            let mut n = match written {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            while n > 0 {
                let Some(front) = self.chunks.front() else {
                    break;
                };
                let left = front.len() - self.chunk_pos;
                if n >= left {
                    n -= left;
                    self.chunks.pop_front();
                    self.chunk_pos = 0;
                } else {
                    self.chunk_pos += n;
                    n = 0;
                }
            }
            while self
                .chunks
                .front()
                .is_some_and(|c| c.len() == self.chunk_pos)
            {
                self.chunks.pop_front();
                self.chunk_pos = 0;
            }
        }
        if self.chunks.capacity() > 8 {
            self.chunks = VecDeque::new(); // all out: keep no room for a segment's chunks
        }
        Ok(())
    }

    /// For a lingering connection: sends what is left, shuts the write side once everything
    /// went out, and discards input. True when the connection can be dropped (the peer closed,
    /// or the socket failed).
    pub fn linger(&mut self, now: Instant) -> bool {
        if self.flush(now).is_err() {
            return true;
        }
        if self.pending_out() == 0 && !self.write_shut {
            self.write_shut = true;
            let _ = self.sock.shutdown(std::net::Shutdown::Write);
        }
        let mut sink = [0u8; 4096];
        loop {
            match self.sock.read(&mut sink) {
                Ok(0) => return self.write_shut,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return true,
            }
        }
    }
}
