//! The core's packet path allocates nothing in steady state.
//!
//! One H.264 publisher's RTP packets go in (each received into a recycled [`Arena`] chunk, as
//! the adapters receive them), through [`StreamIngest`] (FU-A reassembly, units, sender
//! reports) and the [`Ring`] (evicted units recycled), out to 10 RTSP-over-TCP readers
//! ([`ReaderRoutes::write_interleaved`]) and 10 RTMP readers (FLV bodies from [`FlvMuxer`],
//! chunked by [`ChunkEncoder`], as `RtmpPlayer::write_unit` does). A counting allocator counts
//! the heap allocations of this thread.
//!
//! Warm-up: the first 3,000 packets. By then the ring (128 units) has wrapped several times,
//! so the unit pool, the arenas (receive, reassembly, RTCP) and every reader's output buffer
//! and the muxers' scratch buffers have reached their working size. The measured window is
//! the next 10,000+ packets: zero allocations.
#![allow(unsafe_code)] // the counting allocator below only forwards to `System`

use bytes::Bytes;
use smallvec::SmallVec;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::arena::Arena;
use weir_core::codec::annexb::split_annexb;
use weir_core::codec::h264::H264Packetizer;
use weir_core::codec::AccessUnit;
use weir_core::flv::FlvMuxer;
use weir_core::media::{Cursor, Ring, StreamDescription, StreamIngest, StreamItem, WallClock};
use weir_core::rtmp::chunk::ChunkEncoder;
use weir_core::rtp::{RtpPacket, SeqNo, Ssrc};
use weir_core::rtsp::server::{ReaderRoutes, Role, Session, SessionState, TrackTransport};

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static TRACE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
            trace_allocation();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// With `WEIR_ALLOC_TRACE=1`, prints where the first few counted allocations come from.
fn trace_allocation() {
    static TRACED: AtomicU64 = AtomicU64::new(0);
    if !TRACE.load(Ordering::Relaxed) || TRACED.fetch_add(1, Ordering::Relaxed) >= 3 {
        return;
    }
    COUNTING.with(|c| c.set(false));
    eprintln!("{}", std::backtrace::Backtrace::force_capture());
    COUNTING.with(|c| c.set(true));
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Counts this thread's allocations made by `f`.
fn count<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCATIONS.load(Ordering::Relaxed) - before)
}

const READERS: usize = 10;
const RING_UNITS: usize = 128;
const WARMUP_PACKETS: usize = 3_000;
const MEASURED_PACKETS: usize = 10_000;

struct TcpReader {
    cursor: Cursor,
    out: Vec<u8>,
    frames: u64,
}

struct Pipeline {
    t0: Instant,
    ingest: StreamIngest,
    ring: Ring,
    scratch: Vec<StreamItem>,
    receive: Arena,
    routes: ReaderRoutes,
    tcp: Vec<TcpReader>,
    rtmp: Vec<RtmpReader>,
}

struct RtmpReader {
    cursor: Cursor,
    muxer: FlvMuxer,
    encoder: ChunkEncoder,
    out: Vec<u8>,
    video_messages: u64,
}

/// The access units of the test stream (annex-B file, one unit per picture), repeated.
fn access_units() -> (Vec<Vec<Bytes>>, Bytes, Bytes) {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/media/4pics.264"
    ))
    .expect("read 4pics.264");
    let mut units = Vec::new();
    let mut cur: Vec<Bytes> = Vec::new();
    let (mut sps, mut pps) = (Bytes::new(), Bytes::new());
    for nal in split_annexb(&data) {
        let nal = Bytes::copy_from_slice(nal);
        match nal[0] & 0x1f {
            7 => sps = nal.clone(),
            8 => pps = nal.clone(),
            _ => {}
        }
        let vcl = matches!(nal[0] & 0x1f, 1 | 5);
        cur.push(nal);
        if vcl {
            units.push(std::mem::take(&mut cur));
        }
    }
    (units, sps, pps)
}

fn sdp(sps: &[u8], pps: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    format!(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=alloc\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n\
         a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets={},{}\r\n\
         a=control:trackID=0\r\n",
        b64.encode(sps),
        b64.encode(pps)
    )
}

impl Pipeline {
    /// One packet in, every reader's bytes out.
    fn step(&mut self, i: usize, raw: &Bytes) {
        let now = self.t0 + Duration::from_millis(i as u64 * 8);
        self.receive.extend(raw);
        let packet = RtpPacket::parse(self.receive.split()).expect("valid RTP");
        self.ingest.push_rtp(now, 0, packet, &mut self.scratch);
        for item in self.scratch.drain(..) {
            if let Some(old) = self.ring.push(item) {
                self.ingest.recycle(old);
            }
        }
        for r in &mut self.tcp {
            let out = &mut r.out;
            let mut frames = 0;
            self.ring.read_each(&mut r.cursor, 64, |item| {
                if self.routes.write_interleaved(item, out) > 0 {
                    frames += match item {
                        StreamItem::Unit(u) => u.rtp.len() as u64,
                        StreamItem::Rtcp { .. } => 1,
                    };
                }
            });
            r.frames += frames;
            r.out.clear();
        }
        for r in &mut self.rtmp {
            let (muxer, encoder, out) = (&mut r.muxer, &mut r.encoder, &mut r.out);
            let mut messages = 0;
            self.ring.read_each(&mut r.cursor, 64, |item| {
                if let StreamItem::Unit(u) = item {
                    muxer.push_unit_with(u, |is_video, ts, body| {
                        let (csid, type_id) = if is_video { (6, 9) } else { (4, 8) };
                        if encoder
                            .write(out, csid, ts as u32, type_id, 1, body)
                            .is_ok()
                        {
                            messages += u64::from(is_video);
                        }
                    });
                }
            });
            r.video_messages += messages;
            r.out.clear();
        }
    }
}

#[test]
#[allow(clippy::disallowed_methods)] // a fake clock needs one real base instant
fn steady_state_packet_path_allocates_nothing() {
    let trace = std::env::var_os("WEIR_ALLOC_TRACE").is_some();
    let (pictures, sps, pps) = access_units();
    assert!(pictures.len() >= 4, "the test stream has pictures");
    let desc = Arc::new(StreamDescription::from_sdp(sdp(&sps, &pps).as_bytes()).expect("sdp"));

    // The publisher's packets, made before counting (a camera's packets as they arrive).
    let mut packetizer = H264Packetizer::new(96, Ssrc(0x1234_5678), SeqNo(100), 1200);
    let mut packets: Vec<Bytes> = Vec::new();
    let mut rtp_ts = 0u32;
    while packets.len() < WARMUP_PACKETS + MEASURED_PACKETS + 1_000 {
        for pic in &pictures {
            let key = pic.iter().any(|n| n[0] & 0x1f == 5);
            let au = AccessUnit {
                key,
                data: pic.iter().cloned().collect(),
            };
            let mut out = Vec::new();
            packetizer.packetize(&au, rtp_ts, &mut out);
            packets.extend(out.into_iter().map(|p| p.raw));
            rtp_ts = rtp_ts.wrapping_add(3600);
        }
    }
    let fragmented = packets.iter().filter(|p| p[12] & 0x1f == 28).count();
    eprintln!(
        "{fragmented} of {} packets are FU-A fragments",
        packets.len()
    );
    assert!(
        fragmented * 4 > packets.len(),
        "many packets are FU-A fragments"
    );

    let t0 = Instant::now();
    let clock = WallClock {
        base: t0,
        base_ntp: 0,
    };
    let ingest = StreamIngest::new(&desc, clock, 42);
    let ring = Ring::new(RING_UNITS, desc.start_tracks());
    let scratch: Vec<StreamItem> = Vec::with_capacity(64);
    let receive = Arena::new(64 * 1024);
    let session = Session {
        id: "12345678".into(),
        role: Role::Reader,
        state: SessionState::Play,
        path: "cam".into(),
        query: String::new(),
        description: desc.clone(),
        tracks: SmallVec::from_elem(
            (
                0,
                TrackTransport::Tcp {
                    rtp_channel: 0,
                    rtcp_channel: 1,
                },
            ),
            1,
        ),
        multicast_groups: SmallVec::new(),
        last_activity: t0,
    };
    let routes = ReaderRoutes::new(&session, 1);
    let tcp: Vec<TcpReader> = (0..READERS)
        .map(|_| TcpReader {
            cursor: ring.join(),
            out: Vec::with_capacity(256 * 1024),
            frames: 0,
        })
        .collect();
    let rtmp: Vec<RtmpReader> = (0..READERS)
        .map(|_| {
            let mut muxer = FlvMuxer::new(&desc).expect("muxer");
            let mut encoder = ChunkEncoder::new();
            let mut out = Vec::with_capacity(256 * 1024);
            for (_, header) in muxer.sequence_headers() {
                encoder
                    .write(&mut out, 6, 0, 9, 1, &header)
                    .expect("header");
            }
            out.clear();
            RtmpReader {
                cursor: ring.join(),
                muxer,
                encoder,
                out,
                video_messages: 0,
            }
        })
        .collect();

    let mut p = Pipeline {
        t0,
        ingest,
        ring,
        scratch,
        receive,
        routes,
        tcp,
        rtmp,
    };

    let (_, warmup_allocs) = count(|| {
        for (i, raw) in packets[..WARMUP_PACKETS].iter().enumerate() {
            p.step(i, raw);
        }
    });
    let frames_before: Vec<u64> = p.tcp.iter().map(|r| r.frames).collect();
    let messages_before: Vec<u64> = p.rtmp.iter().map(|r| r.video_messages).collect();
    let measured = &packets[WARMUP_PACKETS..WARMUP_PACKETS + MEASURED_PACKETS];
    TRACE.store(trace, Ordering::Relaxed);
    let (_, allocs) = count(|| {
        for (i, raw) in measured.iter().enumerate() {
            p.step(WARMUP_PACKETS + i, raw);
        }
    });
    eprintln!(
        "warm-up: {warmup_allocs} allocations for {WARMUP_PACKETS} packets; measured: {allocs} allocations for {} packets to {READERS} RTSP/TCP + {READERS} RTMP readers",
        measured.len()
    );
    assert_eq!(allocs, 0, "allocations in steady state");
    for (r, before) in p.tcp.iter().zip(frames_before) {
        // Every packet of every finished unit, plus sender reports (one per 5 s of the
        // 8 ms-per-packet clock).
        let got = r.frames - before;
        assert!(
            got >= (MEASURED_PACKETS - 64) as u64 && got <= (MEASURED_PACKETS + 64) as u64,
            "a TCP reader got {got} frames for {MEASURED_PACKETS} packets"
        );
    }
    let pictures_in_window = measured.iter().filter(|p| p[1] & 0x80 != 0).count() as u64;
    for (r, before) in p.rtmp.iter().zip(messages_before) {
        let got = r.video_messages - before;
        assert!(
            got + 2 >= pictures_in_window && got <= pictures_in_window + 2,
            "an RTMP reader got {got} video messages for {pictures_in_window} pictures"
        );
    }
    assert!(p.ingest.pooled_units() > 0, "evicted units were recycled");
}
