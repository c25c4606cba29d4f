//! Local UDP sockets standing in for a capture's client ports: a pair per SETUP, sending the
//! captured datagrams to weir or receiving what weir sends.

use super::digest::{Progress, Sequence};
use super::rtsp_conn::{is_rtcp, rtp_payload};
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// An RTP socket and an RTCP socket on 127.0.0.1.
#[derive(Debug)]
pub struct UdpPair {
    /// RTP.
    pub rtp: UdpSocket,
    /// RTCP.
    pub rtcp: UdpSocket,
}

/// The receive buffer asked for: a fast replay sends a whole capture's media in a burst,
/// more than the default buffer holds (each datagram costs its payload and overhead).
const RECEIVE_BUFFER: usize = 4 << 20;

impl UdpPair {
    /// Binds two sockets, on an even port and the next one when possible, with large receive
    /// buffers.
    pub fn bind() -> io::Result<UdpPair> {
        let mut pair = None;
        for _ in 0..32 {
            let rtp = UdpSocket::bind("127.0.0.1:0")?;
            let port = rtp.local_addr()?.port();
            if port % 2 == 0 && port < u16::MAX {
                if let Ok(rtcp) = UdpSocket::bind(("127.0.0.1", port + 1)) {
                    pair = Some(UdpPair { rtp, rtcp });
                    break;
                }
            }
        }
        let pair = match pair {
            Some(p) => p,
            None => UdpPair {
                rtp: UdpSocket::bind("127.0.0.1:0")?,
                rtcp: UdpSocket::bind("127.0.0.1:0")?,
            },
        };
        for s in [&pair.rtp, &pair.rtcp] {
            // The system may grant less (net.core.rmem_max); that only makes drops likelier.
            let _ = socket2::SockRef::from(s).set_recv_buffer_size(RECEIVE_BUFFER);
        }
        Ok(pair)
    }

    /// The two ports.
    pub fn ports(&self) -> io::Result<(u16, u16)> {
        Ok((
            self.rtp.local_addr()?.port(),
            self.rtcp.local_addr()?.port(),
        ))
    }
}

/// Receives RTP on a socket on its own thread, fingerprinting the payloads.
pub struct UdpReceiver {
    progress: Arc<Mutex<Progress>>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<io::Result<Sequence>>,
}

impl UdpReceiver {
    /// Starts receiving on `socket` (RTCP packets are ignored).
    pub fn start(socket: UdpSocket) -> io::Result<UdpReceiver> {
        socket.set_read_timeout(Some(Duration::from_millis(20)))?;
        let progress = Arc::new(Mutex::new((0, None)));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (progress.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("udp-receiver".into())
            .spawn(move || {
                let mut seq = Sequence::default();
                let mut buf = vec![0u8; 65536];
                let deadline = Instant::now() + Duration::from_secs(120);
                while !s.load(Ordering::Relaxed) && Instant::now() < deadline {
                    match socket.recv(&mut buf) {
                        Ok(n) => {
                            let packet = &buf[..n];
                            if !is_rtcp(packet) {
                                if let Some(p) = rtp_payload(packet) {
                                    seq.push(p);
                                    if let Ok(mut c) = c.lock() {
                                        *c = seq.progress();
                                    }
                                }
                            }
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                            ) => {}
                        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(seq)
            })?;
        Ok(UdpReceiver {
            progress,
            stop,
            thread,
        })
    }

    /// How far it got.
    pub fn progress(&self) -> Progress {
        self.progress.lock().map(|c| *c).unwrap_or_default()
    }

    /// Stops and returns what arrived.
    pub fn finish(self) -> io::Result<Sequence> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| io::Error::other("the UDP receiver thread panicked"))?
    }
}

/// Sends `data` from `socket` to `to`, retrying briefly when the socket buffer is full.
pub fn send_datagram(socket: &UdpSocket, data: &[u8], to: SocketAddr) -> io::Result<()> {
    for _ in 0..100 {
        match socket.send_to(data, to) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1))
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::WouldBlock,
        "the UDP socket stayed full",
    ))
}
