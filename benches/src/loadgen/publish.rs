//! The publisher: one thread that connects (RTSP ANNOUNCE/RECORD over TCP, RTMP publish, or a
//! raw TCP stream of interleaved RTP frames for the bare pipe), then sends one access unit per
//! frame interval in real time, logging each unit's send time for the latency marker.
//!
//! Every socket operation has a timeout; a second thread reads and discards what the server
//! sends (RTCP, acknowledgements), answering RTMP pings through the publishing thread.

use super::marker::{Clock, SendLog};
use super::source::Source;
use super::url::Url;
use super::{publish_rtmp, publish_rtsp};
use bytes::Bytes;
use smallvec::SmallVec;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use weir_core::codec::h264::H264Packetizer;
use weir_core::codec::AccessUnit;
use weir_core::rtp::{RtpPacket, SeqNo, Ssrc};

/// Socket timeouts of the publisher (connect, each read and write).
pub const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// The publisher is connecting.
pub const STATE_CONNECTING: u8 = 0;
/// The publisher is sending media.
pub const STATE_PUBLISHING: u8 = 1;
/// The publisher stopped on an error.
pub const STATE_FAILED: u8 = 2;

/// What the publisher did.
#[derive(Debug, Clone, Default)]
pub struct PublishReport {
    /// Frames sent.
    pub frames: u64,
    /// Bytes written to the socket (media framing included).
    pub bytes: u64,
    /// Frames sent more than one frame interval after their due time.
    pub late_frames: u64,
    /// Why it stopped early, if it did.
    pub error: Option<String>,
}

/// A connected, publishing session: sends one access unit.
pub trait Sink: Send {
    /// Sends frame `index`. Implementations record the send time in `log` just before the
    /// write and return the bytes written.
    fn send_frame(
        &mut self,
        index: u32,
        key: bool,
        nalus: SmallVec<[Bytes; 4]>,
        pts_90k: i64,
        stamp: &dyn Fn(u32),
    ) -> Result<usize, String>;
}

/// Opens a TCP connection with the publisher's timeouts.
pub fn connect(url: &Url) -> Result<TcpStream, String> {
    let s = TcpStream::connect_timeout(&url.addr(), IO_TIMEOUT)
        .map_err(|e| format!("connect {}: {e}", url.as_string()))?;
    s.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    // A key frame (tens of KiB) must not wait for the send buffer to grow.
    let _ = socket2::SockRef::from(&s).set_send_buffer_size(4 << 20);
    Ok(s)
}

/// Reads and discards everything `stream` receives until it closes or `stop` is set.
pub fn spawn_discard(mut stream: TcpStream, stop: Arc<AtomicBool>) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 16 * 1024];
        while !stop.load(Ordering::Relaxed) {
            match stream.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
    });
}

/// Interleaved RTP over TCP (the RTSP session after RECORD, and the bare pipe's raw stream):
/// packetizes each access unit and writes its `$` frames in one write.
pub struct InterleavedSink {
    stream: TcpStream,
    packetizer: H264Packetizer,
    packets: Vec<RtpPacket>,
    buf: Vec<u8>,
}

impl InterleavedSink {
    /// A sink writing RTP channel 0 on `stream`.
    pub fn new(stream: TcpStream) -> InterleavedSink {
        InterleavedSink {
            stream,
            packetizer: H264Packetizer::new(96, Ssrc(0x5745_4952), SeqNo(1), 1400),
            packets: Vec::with_capacity(128),
            buf: Vec::with_capacity(256 * 1024),
        }
    }
}

impl Sink for InterleavedSink {
    fn send_frame(
        &mut self,
        index: u32,
        key: bool,
        nalus: SmallVec<[Bytes; 4]>,
        pts_90k: i64,
        stamp: &dyn Fn(u32),
    ) -> Result<usize, String> {
        self.packets.clear();
        let au = AccessUnit { key, data: nalus };
        self.packetizer
            .packetize(&au, pts_90k as u32, &mut self.packets);
        self.buf.clear();
        for p in &self.packets {
            self.buf.push(b'$');
            self.buf.push(0);
            self.buf
                .extend_from_slice(&(p.raw.len() as u16).to_be_bytes());
            self.buf.extend_from_slice(&p.raw);
        }
        stamp(index);
        self.stream
            .write_all(&self.buf)
            .map_err(|e| format!("write: {e}"))?;
        Ok(self.buf.len())
    }
}

/// Everything the publisher thread needs.
pub struct PublishArgs {
    /// Where to publish (`rtsp://`, `rtmp://` or `tcp://`).
    pub url: Url,
    /// The stream.
    pub source: Arc<Source>,
    /// Where send times go.
    pub log: Arc<SendLog>,
    /// The shared clock.
    pub clock: Clock,
    /// Set by the caller to stop publishing.
    pub stop: Arc<AtomicBool>,
    /// [`STATE_CONNECTING`], [`STATE_PUBLISHING`] or [`STATE_FAILED`].
    pub state: Arc<AtomicU8>,
    /// The most frames to send (the send log's capacity).
    pub max_frames: u32,
}

/// Connects per the URL's scheme and returns the sink.
fn open(args: &PublishArgs) -> Result<Box<dyn Sink>, String> {
    match args.url.scheme.as_str() {
        "rtsp" => publish_rtsp::open(&args.url, &args.source, &args.stop),
        "rtmp" => publish_rtmp::open(&args.url, &args.source, &args.stop),
        "tcp" => {
            let s = connect(&args.url)?;
            spawn_discard(s.try_clone().map_err(|e| e.to_string())?, args.stop.clone());
            Ok(Box::new(InterleavedSink::new(s)))
        }
        other => Err(format!("cannot publish over {other}")),
    }
}

/// Starts the publisher thread.
pub fn spawn(args: PublishArgs) -> JoinHandle<PublishReport> {
    std::thread::Builder::new()
        .name("publisher".into())
        .spawn(move || {
            let mut report = PublishReport::default();
            let mut sink = match open(&args) {
                Ok(s) => s,
                Err(e) => {
                    args.state.store(STATE_FAILED, Ordering::Release);
                    report.error = Some(e);
                    return report;
                }
            };
            args.state.store(STATE_PUBLISHING, Ordering::Release);
            let interval = Duration::from_secs(1) / args.source.fps;
            let start = Instant::now();
            let log = args.log.clone();
            let clock = args.clock;
            let stamp = move |i: u32| log.record(i, clock.now_us());
            for index in 0..args.max_frames {
                if args.stop.load(Ordering::Relaxed) {
                    break;
                }
                let due = start + interval * index;
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                } else if now - due > interval {
                    report.late_frames += 1;
                }
                let (key, nalus) = args.source.access_unit(index);
                let pts = args.source.pts_90k(index);
                match sink.send_frame(index, key, nalus, pts, &stamp) {
                    Ok(n) => {
                        report.frames += 1;
                        report.bytes += n as u64;
                    }
                    Err(e) => {
                        args.state.store(STATE_FAILED, Ordering::Release);
                        report.error = Some(format!("frame {index}: {e}"));
                        break;
                    }
                }
            }
            args.stop.store(true, Ordering::Relaxed);
            report
        })
        .expect("spawn the publisher thread")
}
