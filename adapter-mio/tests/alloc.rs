//! The mio loop allocates nothing in steady state.
//!
//! A weir-mio server runs in-process on its own thread; a counting global allocator counts the
//! heap allocations made *on that thread* while a flag is up. Clients run on other threads
//! (their allocations are not counted): one RTSP publisher sending H.264 over TCP (interleaved,
//! packets prepared in advance, 5,000 packets/s), 10 RTSP-over-TCP readers and 10 RTMP
//! readers, each counting what it receives.
//!
//! Warm-up, as the crate docs define steady state: every reader is playing and has received
//! at least 4,000 RTP frames (RTSP) or 1,000 video messages (RTMP) — several times the ring's
//! 256 units — so every buffer and pool has reached its working size; then the RTSP readers
//! stall one after another and catch up again, so the publisher's input arena has also grown to
//! cover what stalled readers keep alive (see below). The measured window is
//! the next 10,000 packets the publisher sends; it must cost zero allocations on the loop
//! thread, and every reader must have received them.
#![allow(unsafe_code)] // the counting allocator below only forwards to `System`

use bytes::{Buf, Bytes, BytesMut};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weir_core::codec::annexb::split_annexb;
use weir_core::codec::h264::H264Packetizer;
use weir_core::codec::AccessUnit;
use weir_core::media::PathConf;
use weir_core::rtmp::chunk::{ChunkDecoder, ChunkEncoder, ChunkLimits};
use weir_core::rtmp::Amf0Value;
use weir_core::rtp::{SeqNo, Ssrc};
use weir_core::rtsp::server::ServerConfig;
use weir_core::settings::{RtmpSettings, RtspSettings, Settings};

struct Counting;

thread_local! {
    static LOOP_THREAD: Cell<bool> = const { Cell::new(false) };
    static TRACING: Cell<bool> = const { Cell::new(false) };
}
static MEASURING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
/// Where the first counted allocations came from, so a failure says what allocated.
static WHERE: Mutex<Vec<String>> = Mutex::new(Vec::new());
const TRACED: u64 = 3;

fn counted() -> bool {
    MEASURING.load(Ordering::Relaxed) && LOOP_THREAD.with(Cell::get) && !TRACING.with(Cell::get)
}

/// Counts one allocation of `size` bytes; the first few also record their backtrace (the
/// recording's own allocations are not counted).
fn count(size: usize) {
    if ALLOCATIONS.fetch_add(1, Ordering::Relaxed) < TRACED {
        TRACING.with(|t| t.set(true));
        let trace = std::backtrace::Backtrace::force_capture().to_string();
        if let Ok(mut w) = WHERE.lock() {
            w.push(format!("{size} bytes at\n{trace}"));
        }
        TRACING.with(|t| t.set(false));
    }
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counted() {
            count(layout.size());
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counted() {
            count(new_size);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const READERS: usize = 10;
const MEASURED_PACKETS: u64 = 10_000;
const T: Duration = Duration::from_secs(20);

fn settings() -> Settings {
    let any = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    Settings {
        paths: vec![PathConf::all_others()],
        write_timeout: Duration::from_secs(10),
        write_queue_size: 256,
        rtsp: Some(RtspSettings {
            rtsp_address: any(0),
            rtp_address: any(0),
            rtcp_address: any(0),
            multicast_range: ("224.1.0.0".parse().unwrap(), 16),
            multicast_rtp_port: 8002,
            multicast_rtcp_port: 8003,
            core: ServerConfig::default(),
        }),
        rtmp: Some(RtmpSettings {
            address: any(0),
            read_timeout: Duration::from_secs(10),
        }),
        hls: None,
        hooks: None,
        run_on_connect: String::new(),
        run_on_connect_restart: false,
        run_on_disconnect: String::new(),
        tls_roots: Default::default(),
    }
}

/// The H.264 stream: SDP parameter sets and RTP packets (interleaved frames ready to send).
fn stream() -> (String, Vec<Vec<u8>>) {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/data/media/4pics.264"
    ))
    .expect("read 4pics.264");
    let (mut sps, mut pps) = (Vec::new(), Vec::new());
    let mut pictures: Vec<Vec<Bytes>> = Vec::new();
    let mut cur = Vec::new();
    for nal in split_annexb(&data) {
        match nal[0] & 0x1f {
            7 => sps = nal.to_vec(),
            8 => pps = nal.to_vec(),
            _ => {}
        }
        cur.push(Bytes::copy_from_slice(nal));
        if matches!(nal[0] & 0x1f, 1 | 5) {
            pictures.push(std::mem::take(&mut cur));
        }
    }
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let sdp = format!(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=alloc\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n\
         a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets={},{}\r\n\
         a=control:trackID=0\r\n",
        b64.encode(&sps),
        b64.encode(&pps)
    );
    let mut p = H264Packetizer::new(96, Ssrc(0x0bad_cafe), SeqNo(1), 1200);
    let mut frames = Vec::new();
    let mut ts = 0u32;
    // The file's pictures repeated (an IDR every 4 pictures): 40,000 packets, 8 s at the
    // publisher's pace — enough for warm-up and the measured window.
    while frames.len() < 40_000 {
        for pic in &pictures {
            let key = pic.iter().any(|n| n[0] & 0x1f == 5);
            let mut out = Vec::new();
            p.packetize(
                &AccessUnit {
                    key,
                    data: pic.iter().cloned().collect(),
                },
                ts,
                &mut out,
            );
            for pk in out {
                let mut f = vec![b'$', 0];
                f.extend_from_slice(&(pk.raw.len() as u16).to_be_bytes());
                f.extend_from_slice(&pk.raw);
                frames.push(f);
            }
            ts = ts.wrapping_add(3000);
        }
    }
    (sdp, frames)
}

/// A blocking RTSP client speaking just enough for the test.
struct Rtsp {
    sock: TcpStream,
    cseq: u32,
    session: Option<String>,
    buf: Vec<u8>,
}

impl Rtsp {
    fn connect(addr: SocketAddr) -> Rtsp {
        let sock = TcpStream::connect(addr).expect("connect RTSP");
        sock.set_read_timeout(Some(T)).unwrap();
        Rtsp {
            sock,
            cseq: 0,
            session: None,
            buf: Vec::new(),
        }
    }

    fn request(&mut self, method: &str, url: &str, headers: &str, body: &str) -> String {
        self.cseq += 1;
        let session = self
            .session
            .as_ref()
            .map(|s| format!("Session: {s}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "{method} {url} RTSP/1.0\r\nCSeq: {}\r\n{session}{headers}Content-Length: {}\r\n\r\n{body}",
            self.cseq,
            body.len()
        );
        self.sock.write_all(req.as_bytes()).unwrap();
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if self.buf.len() >= end + 4 + len {
                    self.buf.drain(..end + 4 + len);
                    assert!(head.starts_with("RTSP/1.0 200"), "{method}: {head}");
                    if let Some(s) = head.lines().find_map(|l| l.strip_prefix("Session: ")) {
                        self.session = Some(s.split(';').next().unwrap().trim().to_owned());
                    }
                    return head;
                }
            }
            let mut chunk = [0u8; 4096];
            let n = self.sock.read(&mut chunk).expect("RTSP answer");
            assert!(n > 0, "{method}: connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Reads interleaved frames until `stop`; counts RTP frames on channel 0; reads nothing while
/// `pause` is up.
fn rtsp_reader(
    addr: SocketAddr,
    frames: Arc<AtomicU64>,
    pause: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let mut c = Rtsp::connect(addr);
    let url = format!("rtsp://{addr}/live/cam");
    c.request("DESCRIBE", &url, "Accept: application/sdp\r\n", "");
    c.request(
        "SETUP",
        &format!("{url}/trackID=0"),
        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n",
        "",
    );
    c.request("PLAY", &url, "Range: npt=0.000-\r\n", "");
    let mut buf = BytesMut::from(&c.buf[..]);
    let mut chunk = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        while buf.len() >= 4 && buf[0] == b'$' {
            let len = u16::from_be_bytes([buf[2], buf[3]]) as usize;
            if buf.len() < 4 + len {
                break;
            }
            if buf[1] == 0 {
                frames.fetch_add(1, Ordering::Relaxed);
            }
            buf.advance(4 + len);
        }
        assert!(buf.is_empty() || buf[0] == b'$', "interleaved framing lost");
        while pause.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
        }
        match c.sock.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn amf(values: &[Amf0Value]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in values {
        v.write(&mut b).unwrap();
    }
    b
}

/// Plays `live/cam` over RTMP until `stop`; counts video messages.
fn rtmp_reader(addr: SocketAddr, videos: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let mut sock = TcpStream::connect(addr).expect("connect RTMP");
    sock.set_read_timeout(Some(T)).unwrap();
    let mut c0c1 = vec![3u8];
    c0c1.extend((0..1536u32).map(|i| (i * 7 + 3) as u8));
    c0c1[1..9].fill(0);
    sock.write_all(&c0c1).unwrap();
    let mut s0s1s2 = vec![0u8; 1 + 1536 * 2];
    sock.read_exact(&mut s0s1s2).expect("S0 S1 S2");
    sock.write_all(&s0s1s2[1..1537]).unwrap();
    let mut enc = ChunkEncoder::new();
    let mut out = Vec::new();
    let connect = amf(&[
        Amf0Value::String("connect".into()),
        Amf0Value::Number(1.0),
        Amf0Value::Object(vec![
            ("app".into(), Amf0Value::String("live".into())),
            (
                "tcUrl".into(),
                Amf0Value::String(format!("rtmp://{addr}/live")),
            ),
        ]),
    ]);
    enc.write(&mut out, 3, 0, 20, 0, &connect).unwrap();
    let create = amf(&[
        Amf0Value::String("createStream".into()),
        Amf0Value::Number(2.0),
        Amf0Value::Null,
    ]);
    enc.write(&mut out, 3, 0, 20, 0, &create).unwrap();
    sock.write_all(&out).unwrap();
    out.clear();
    let mut dec = ChunkDecoder::new(ChunkLimits::default());
    let mut buf = BytesMut::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let (mut received, mut acked, mut window) = (0u64, 0u64, u64::MAX);
    let mut playing = false;
    while !stop.load(Ordering::Relaxed) {
        while let Some(m) = dec.decode(&mut buf).expect("valid chunk stream") {
            match m.type_id {
                1 if m.body.len() >= 4 => {
                    let size = u32::from_be_bytes(m.body[..4].try_into().unwrap());
                    dec.set_chunk_size(size).unwrap();
                }
                5 if m.body.len() >= 4 => {
                    window = u64::from(u32::from_be_bytes(m.body[..4].try_into().unwrap()));
                }
                20 if !playing => {
                    let v = weir_core::rtmp::amf0::decode_all(&m.body).unwrap();
                    if v.first() == Some(&Amf0Value::String("_result".into()))
                        && v.get(1) == Some(&Amf0Value::Number(2.0))
                    {
                        let Some(Amf0Value::Number(sid)) = v.get(3) else {
                            panic!("createStream result: {v:?}")
                        };
                        let play = amf(&[
                            Amf0Value::String("play".into()),
                            Amf0Value::Number(3.0),
                            Amf0Value::Null,
                            Amf0Value::String("cam".into()),
                        ]);
                        enc.write(&mut out, 8, 0, 20, *sid as u32, &play).unwrap();
                        sock.write_all(&out).unwrap();
                        out.clear();
                        playing = true;
                    }
                }
                9 => {
                    videos.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
        if received - acked >= window / 2 {
            acked = received;
            enc.write(&mut out, 2, 0, 3, 0, &(received as u32).to_be_bytes())
                .unwrap();
            sock.write_all(&out).unwrap();
            out.clear();
        }
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                received += n as u64;
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn steady_state_loop_allocates_nothing() {
    let (sdp, frames) = stream();
    let server = weir_mio::Server::bind(settings()).expect("bind");
    let bound = server.bound();
    let (rtsp, rtmp) = (bound.rtsp.unwrap(), bound.rtmp.unwrap());
    let handle = server.shutdown_handle();
    let loop_thread = std::thread::spawn(move || {
        LOOP_THREAD.with(|c| c.set(true));
        server.run()
    });

    // The publisher: ANNOUNCE, SETUP, RECORD, then 5,000 packets/s.
    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (sent, stop) = (sent.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut c = Rtsp::connect(rtsp);
            let url = format!("rtsp://{rtsp}/live/cam");
            c.request("ANNOUNCE", &url, "Content-Type: application/sdp\r\n", &sdp);
            c.request(
                "SETUP",
                &format!("{url}/trackID=0"),
                "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n",
                "",
            );
            c.request("RECORD", &url, "Range: npt=0.000-\r\n", "");
            let start = Instant::now();
            for (i, f) in frames.iter().enumerate() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let due = start + Duration::from_micros(i as u64 * 200);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                c.sock.write_all(f).expect("publish");
                sent.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    wait_until("the publisher to start", || {
        sent.load(Ordering::Relaxed) > 100
    });

    let rtsp_frames: Vec<Arc<AtomicU64>> = (0..READERS).map(|_| Arc::default()).collect();
    let rtsp_paused: Vec<Arc<AtomicBool>> = (0..READERS).map(|_| Arc::default()).collect();
    let rtmp_videos: Vec<Arc<AtomicU64>> = (0..READERS).map(|_| Arc::default()).collect();
    let mut readers = Vec::new();
    for (f, p) in rtsp_frames.iter().zip(&rtsp_paused) {
        let (f, p, stop) = (f.clone(), p.clone(), stop.clone());
        readers.push(std::thread::spawn(move || rtsp_reader(rtsp, f, p, stop)));
    }
    for v in &rtmp_videos {
        let (v, stop) = (v.clone(), stop.clone());
        readers.push(std::thread::spawn(move || rtmp_reader(rtmp, v, stop)));
    }
    let load = |xs: &[Arc<AtomicU64>]| -> Vec<u64> {
        xs.iter().map(|x| x.load(Ordering::Relaxed)).collect()
    };
    wait_until("every reader to warm up", || {
        load(&rtsp_frames).iter().all(|&n| n >= 4_000)
            && load(&rtmp_videos).iter().all(|&n| n >= 1_000)
    });
    // The worst that a busy machine does to the loop's memory: RTSP readers that stop reading
    // one after another, each leaving the loop with the packet its socket took only part of —
    // a reference into the publisher's input arena, kept after the ring has moved on. Readers
    // stalled at different times keep different chunks alive; the arena grows to cover them
    // here, in warm-up, rather than in the measured window when the scheduler happens to starve
    // a reader thread.
    for p in &rtsp_paused {
        p.store(true, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    let resumed = load(&rtsp_frames);
    for p in &rtsp_paused {
        p.store(false, Ordering::Relaxed);
    }
    wait_until("every RTSP reader to catch up again", || {
        load(&rtsp_frames)
            .iter()
            .zip(&resumed)
            .all(|(n, r)| n - r >= 2_000)
    });

    let sent0 = sent.load(Ordering::Relaxed);
    let (frames0, videos0) = (load(&rtsp_frames), load(&rtmp_videos));
    let allocs0 = ALLOCATIONS.load(Ordering::Relaxed);
    MEASURING.store(true, Ordering::Relaxed);
    wait_until("10,000 more packets", || {
        let n = sent.load(Ordering::Relaxed);
        if n < sent0 + MEASURED_PACKETS {
            eprintln!(
                "sent {n} (from {sent0}), readers {:?} {:?}, allocations so far {}",
                load(&rtsp_frames),
                load(&rtmp_videos),
                ALLOCATIONS.load(Ordering::Relaxed) - allocs0
            );
        }
        n >= sent0 + MEASURED_PACKETS
    });
    // Let the loop forward what was sent in the window.
    let target = sent0 + MEASURED_PACKETS;
    wait_until("the readers to receive the window", || {
        load(&rtsp_frames)
            .iter()
            .zip(&frames0)
            .all(|(n, f0)| n - f0 >= MEASURED_PACKETS - 200)
    });
    MEASURING.store(false, Ordering::Relaxed);
    let allocs = ALLOCATIONS.load(Ordering::Relaxed) - allocs0;
    let sent1 = sent.load(Ordering::Relaxed);
    let (frames1, videos1) = (load(&rtsp_frames), load(&rtmp_videos));
    stop.store(true, Ordering::Relaxed);
    handle.shutdown();
    eprintln!(
        "measured window: {} packets published (≥ {target} − {sent0}), RTSP readers got {:?} frames, RTMP readers {:?} video messages; {allocs} allocations on the loop thread",
        sent1 - sent0,
        frames1.iter().zip(&frames0).map(|(a, b)| a - b).collect::<Vec<_>>(),
        videos1.iter().zip(&videos0).map(|(a, b)| a - b).collect::<Vec<_>>(),
    );
    for (a, b) in videos1.iter().zip(&videos0) {
        assert!(
            a - b >= 1_000,
            "an RTMP reader got only {} video messages",
            a - b
        );
    }
    let traces = WHERE.lock().map(|w| w.join("\n")).unwrap_or_default();
    assert_eq!(
        allocs, 0,
        "heap allocations on the loop thread in steady state; the first ones:\n{traces}"
    );
    publisher.join().expect("publisher");
    for r in readers {
        r.join().expect("reader");
    }
    loop_thread.join().expect("loop").expect("loop result");
}
