//! `barepipe`: the physical floor of TCP fan-out. One publisher connection's bytes are copied
//! to every reader connection, nothing else: no protocol, no parsing beyond the 4-byte header
//! of RTSP interleaved frames (`$`, channel, length), which keeps a reader that joins
//! mid-stream aligned on a frame boundary.
//!
//! ```text
//! barepipe --publish 127.0.0.1:19000 --read 127.0.0.1:19001 [--max-queue-kib 4096]
//! ```
//!
//! One thread, one `mio::Poll`. Each chunk read from the publisher is written to each reader
//! with one `write`; what a reader's socket does not take is queued for it (and written on its
//! next writable event); a reader whose queue exceeds `--max-queue-kib` is dropped. A new
//! publisher replaces the previous one. Runs until killed.

use clap::Parser;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "barepipe",
    about = "Copies one publisher's bytes to N reader connections"
)]
struct Args {
    /// Where the publisher connects.
    #[arg(long, default_value = "127.0.0.1:19000")]
    publish: SocketAddr,
    /// Where readers connect.
    #[arg(long, default_value = "127.0.0.1:19001")]
    read: SocketAddr,
    /// A reader with more than this many KiB queued is dropped.
    #[arg(long, default_value_t = 4096)]
    max_queue_kib: usize,
}

/// The publisher listener's token.
const PUB_LISTENER: Token = Token(0);
/// The reader listener's token.
const READ_LISTENER: Token = Token(1);
/// The publisher connection's token.
const PUBLISHER: Token = Token(2);
/// Readers' tokens start here.
const FIRST_READER: usize = 3;

/// One reader connection.
struct Reader {
    stream: TcpStream,
    /// Bytes not yet taken by the socket.
    queue: Vec<u8>,
    queue_pos: usize,
    /// Waiting for a frame boundary to start at.
    joining: bool,
}

impl Reader {
    /// Writes `data` after what is queued; returns false when the reader must be dropped.
    fn send(&mut self, data: &[u8], max_queue: usize) -> bool {
        if self.queue_pos < self.queue.len() {
            self.queue.extend_from_slice(data);
            return self.queue.len() - self.queue_pos <= max_queue;
        }
        let mut pos = 0;
        while pos < data.len() {
            match self.stream.write(&data[pos..]) {
                Ok(0) => return false,
                Ok(n) => pos += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        if pos < data.len() {
            self.queue.clear();
            self.queue_pos = 0;
            self.queue.extend_from_slice(&data[pos..]);
        }
        true
    }

    /// Writes queued bytes; returns false when the reader must be dropped.
    fn flush(&mut self) -> bool {
        while self.queue_pos < self.queue.len() {
            match self.stream.write(&self.queue[self.queue_pos..]) {
                Ok(0) => return false,
                Ok(n) => self.queue_pos += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        self.queue.clear();
        self.queue_pos = 0;
        true
    }
}

/// Tracks interleaved frame boundaries across the publisher's reads.
#[derive(Default)]
struct Framing {
    /// Bytes of the current frame's payload still to come.
    skip: usize,
    /// Header bytes of the next frame seen so far.
    header: [u8; 4],
    have: usize,
}

impl Framing {
    /// Walks `chunk`; returns the offset of the first frame header that starts in it.
    fn first_boundary(&mut self, chunk: &[u8]) -> Option<usize> {
        let mut first = None;
        let mut pos = 0;
        while pos < chunk.len() {
            if self.skip > 0 {
                let n = self.skip.min(chunk.len() - pos);
                pos += n;
                self.skip -= n;
                continue;
            }
            if self.have == 0 && first.is_none() {
                first = Some(pos);
            }
            self.header[self.have] = chunk[pos];
            self.have += 1;
            pos += 1;
            if self.have == 4 {
                self.skip = usize::from(u16::from_be_bytes([self.header[2], self.header[3]]));
                self.have = 0;
            }
        }
        first
    }
}

fn main() {
    let args = Args::parse();
    let max_queue = args.max_queue_kib * 1024;
    let mut poll = Poll::new().expect("poll");
    let mut pub_listener = TcpListener::bind(args.publish).expect("bind the publisher address");
    let mut read_listener = TcpListener::bind(args.read).expect("bind the reader address");
    poll.registry()
        .register(&mut pub_listener, PUB_LISTENER, Interest::READABLE)
        .expect("register");
    poll.registry()
        .register(&mut read_listener, READ_LISTENER, Interest::READABLE)
        .expect("register");
    eprintln!(
        "barepipe: publisher on {}, readers on {}",
        args.publish, args.read
    );

    let mut publisher: Option<TcpStream> = None;
    let mut framing = Framing::default();
    let mut readers: Vec<Option<Reader>> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 256 * 1024];
    let mut drain = vec![0u8; 4096];
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            panic!("poll: {e}");
        }
        for ev in events.iter() {
            match ev.token() {
                PUB_LISTENER => {
                    while let Ok((mut s, _)) = pub_listener.accept() {
                        let _ = s.set_nodelay(true);
                        if let Some(mut old) = publisher.take() {
                            let _ = poll.registry().deregister(&mut old);
                        }
                        poll.registry()
                            .register(&mut s, PUBLISHER, Interest::READABLE)
                            .expect("register");
                        publisher = Some(s);
                        framing = Framing::default();
                    }
                }
                READ_LISTENER => {
                    while let Ok((mut s, _)) = read_listener.accept() {
                        let _ = s.set_nodelay(true);
                        let slot = readers.iter().position(Option::is_none).unwrap_or_else(|| {
                            readers.push(None);
                            readers.len() - 1
                        });
                        poll.registry()
                            .register(
                                &mut s,
                                Token(FIRST_READER + slot),
                                Interest::READABLE | Interest::WRITABLE,
                            )
                            .expect("register");
                        readers[slot] = Some(Reader {
                            stream: s,
                            queue: Vec::new(),
                            queue_pos: 0,
                            joining: true,
                        });
                    }
                }
                PUBLISHER => {
                    while let Some(p) = publisher.as_mut() {
                        let n = match p.read(&mut buf) {
                            Ok(0) => {
                                let _ = poll.registry().deregister(p);
                                publisher = None;
                                break;
                            }
                            Ok(n) => n,
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                            Err(_) => {
                                publisher = None;
                                break;
                            }
                        };
                        let chunk = &buf[..n];
                        let boundary = framing.first_boundary(chunk);
                        for slot in readers.iter_mut() {
                            let Some(r) = slot else { continue };
                            let data = if r.joining {
                                match boundary {
                                    Some(b) => {
                                        r.joining = false;
                                        &chunk[b..]
                                    }
                                    None => continue,
                                }
                            } else {
                                chunk
                            };
                            if !r.send(data, max_queue) {
                                let _ = poll.registry().deregister(&mut r.stream);
                                *slot = None;
                            }
                        }
                    }
                }
                Token(t) => {
                    let slot = t - FIRST_READER;
                    let Some(Some(r)) = readers.get_mut(slot) else {
                        continue;
                    };
                    let mut keep = true;
                    if ev.is_readable() || ev.is_read_closed() {
                        loop {
                            match r.stream.read(&mut drain) {
                                Ok(0) => {
                                    keep = false;
                                    break;
                                }
                                Ok(_) => {}
                                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                                Err(_) => {
                                    keep = false;
                                    break;
                                }
                            }
                        }
                    }
                    if keep && ev.is_writable() {
                        keep = r.flush();
                    }
                    if !keep {
                        let _ = poll.registry().deregister(&mut r.stream);
                        readers[slot] = None;
                    }
                }
            }
        }
    }
}
