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

mod common;

use common::{rtmp_reader, rtsp_reader, settings, stream, wait_until, Rtsp};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
