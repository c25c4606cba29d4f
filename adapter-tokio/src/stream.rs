//! The shared state of one published stream: its ring, its ingest, and the signals that wake
//! readers.

use smallvec::SmallVec;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;
use tokio::sync::watch;
use weir_core::media::{
    Cursor, ReadOutcome, Ring, StreamDescription, StreamIngest, StreamItem, WallClock,
};
use weir_core::rtp::RtpPacket;
use weir_core::rtsp::server::{play_starts, PlayStart};

struct Ingest {
    ingest: StreamIngest,
    scratch: Vec<StreamItem>,
}

/// One published stream, shared by its publisher and every reader.
pub(crate) struct SharedStream {
    /// The path name.
    pub path: String,
    /// The publisher's id (to unpublish only if still the owner).
    pub publisher_id: u64,
    /// The tracks.
    pub description: Arc<StreamDescription>,
    ring: Mutex<Ring>,
    ingest: Mutex<Ingest>,
    seq_tx: watch::Sender<u64>,
    closed_tx: watch::Sender<bool>,
    closed: AtomicBool,
    /// `runOnReady` while the stream is ready (`runOnNotReady` when it closes).
    ready_hook: Mutex<Option<weir_core::hooks::HookSpan>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave the ring half-written in a way
    // that matters to readers; keep serving.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SharedStream {
    pub fn new(
        path: String,
        publisher_id: u64,
        description: Arc<StreamDescription>,
        capacity: usize,
        clock: WallClock,
    ) -> Arc<SharedStream> {
        let start_tracks = description.start_tracks();
        Arc::new(SharedStream {
            path,
            publisher_id,
            ring: Mutex::new(Ring::new(capacity, start_tracks)),
            ingest: Mutex::new(Ingest {
                ingest: StreamIngest::new(&description, clock, crate::random_seed()),
                scratch: Vec::with_capacity(16),
            }),
            description,
            seq_tx: watch::channel(0).0,
            closed_tx: watch::channel(false).0,
            closed: AtomicBool::new(false),
            ready_hook: Mutex::new(None),
        })
    }

    /// Feeds one publisher packet; wakes readers when items were produced.
    pub fn push_rtp(&self, now: Instant, track: usize, packet: RtpPacket) {
        let mut ing = lock(&self.ingest);
        let Ingest { ingest, scratch } = &mut *ing;
        ingest.push_rtp(now, track, packet, scratch);
        self.publish_scratch(ingest, scratch);
    }

    /// Feeds one access unit from a non-RTP source (RTMP); wakes readers.
    pub fn push_unit(
        &self,
        now: Instant,
        track: usize,
        pts: i64,
        dts: i64,
        key: bool,
        payload: smallvec::SmallVec<[bytes::Bytes; 4]>,
    ) {
        let mut ing = lock(&self.ingest);
        let Ingest { ingest, scratch } = &mut *ing;
        ingest.push_unit(now, track, pts, dts, key, payload, scratch);
        self.publish_scratch(ingest, scratch);
    }

    fn publish_scratch(&self, ingest: &mut StreamIngest, scratch: &mut Vec<StreamItem>) {
        if scratch.is_empty() {
            return;
        }
        let end = {
            let mut ring = lock(&self.ring);
            for item in scratch.drain(..) {
                if let Some(old) = ring.push(item) {
                    ingest.recycle(old);
                }
            }
            ring.end_seq()
        };
        self.seq_tx.send_replace(end);
    }

    /// Marks the stream closed (publisher gone or replaced) and wakes everyone.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.closed_tx.send_replace(true);
        let hook = lock(&self.ready_hook).take();
        drop(hook);
    }

    /// Keeps the stream's `runOnReady` span (ended by [`SharedStream::close`]).
    pub fn set_ready_hook(&self, span: Option<weir_core::hooks::HookSpan>) {
        *lock(&self.ready_hook) = span;
    }

    /// Whether the stream is closed.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Receivers for "new items" and "closed".
    pub fn subscribe(&self) -> (watch::Receiver<u64>, watch::Receiver<bool>) {
        (self.seq_tx.subscribe(), self.closed_tx.subscribe())
    }

    /// A receiver for "closed" only.
    pub fn closed_signal(&self) -> watch::Receiver<bool> {
        self.closed_tx.subscribe()
    }

    /// A cursor for a reader joining now.
    pub fn join(&self) -> Cursor {
        lock(&self.ring).join()
    }

    /// Reads up to `max` items.
    pub fn read(&self, cursor: &mut Cursor, max: usize, out: &mut Vec<StreamItem>) -> ReadOutcome {
        lock(&self.ring).read(cursor, max, out)
    }

    /// Where each track starts for a reader at `cursor` (for RTP-Info).
    pub fn play_starts(&self, cursor: &Cursor) -> SmallVec<[PlayStart; 4]> {
        let ring = lock(&self.ring);
        play_starts(ring.peek(cursor), self.description.tracks.len())
    }
}
