//! A byte arena that carves shared [`Bytes`] out of large recycled chunks.
//!
//! Packets, reassembled NAL units and generated RTCP reports live in the stream's ring for a
//! while and are shared by every reader, so each needs its own reference-counted buffer.
//! Allocating one per packet is what this arena avoids: bytes are written at the end of the
//! current chunk and split off as a [`Bytes`] view of it (a reference-count increment). When the
//! chunk is full the arena moves to another chunk — one whose views have all been dropped (the
//! ring evicted them), reclaimed in place by [`BytesMut::try_reclaim`] — and only allocates a new
//! chunk while every chunk is still referenced (warm-up, or a reader holding old data). Once
//! the set of chunks covers what the ring retains, writing and splitting never allocate.
//! Past its first few chunks the arena grows by half again at once, so that the small wobble
//! of the live set after warm-up (a reader lagging a little more, reads falling differently on
//! chunk boundaries) finds a spare chunk rather than allocating on the packet path.

use bytes::{Bytes, BytesMut};

/// Chunks the arena keeps for reuse (beyond the current one); more are dropped.
pub const MAX_SPARE_CHUNKS: usize = 256;
/// The spare-chunk list's first capacity.
const FEW_SPARE_CHUNKS: usize = 4;
/// From this many chunks on, the arena grows by half again at once (see [`Arena::grow`]).
const HEADROOM_FROM: u64 = 3;
/// Only arenas of chunks this large (set with [`Arena::set_chunk`]: a connection receiving a
/// stream) grow ahead; a connection that only answers keeps the chunks it needed.
const HEADROOM_MIN_CHUNK: usize = 16 * 1024;

/// A new chunk of `size` bytes, already in the shared form its views need: the bookkeeping
/// `bytes` allocates on a buffer's first split is paid here, with the chunk, not later on
/// the packet path.
fn new_chunk(size: usize) -> BytesMut {
    let mut chunk = BytesMut::with_capacity(size);
    drop(chunk.split_to(0));
    chunk
}

/// A writer of shared byte buffers over recycled chunks (see the module docs).
#[derive(Debug)]
pub struct Arena {
    /// Bytes written since the last split, followed by free capacity.
    cur: BytesMut,
    /// Chunks left behind, reclaimable once every view of them is gone.
    spares: Vec<BytesMut>,
    /// The size of a new chunk.
    chunk: usize,
    /// Chunks allocated so far (for tests and statistics).
    allocated: u64,
}

impl Arena {
    /// An arena allocating chunks of `chunk` bytes (at least 1 KiB); allocates nothing yet.
    pub fn new(chunk: usize) -> Arena {
        Arena {
            cur: BytesMut::new(),
            spares: Vec::new(),
            chunk: chunk.max(1024),
            allocated: 0,
        }
    }

    /// Changes the size of the chunks allocated from now on (a connection that turns out to
    /// receive a lot grows its chunks).
    pub fn set_chunk(&mut self, chunk: usize) {
        self.chunk = chunk.max(1024);
    }

    /// Makes room for `additional` more bytes after what is being written, moving the
    /// unfinished bytes to a reclaimed (or, failing that, new) chunk when needed.
    pub fn reserve(&mut self, additional: usize) {
        if self.cur.capacity() - self.cur.len() >= additional {
            return;
        }
        if self.cur.try_reclaim(additional) {
            return;
        }
        let need = self.cur.len() + additional;
        let reclaimed = self.spares.iter_mut().position(|s| s.try_reclaim(need));
        let mut next = match reclaimed {
            Some(i) => self.spares.swap_remove(i),
            None => self.grow(need),
        };
        next.extend_from_slice(&self.cur);
        let mut old = std::mem::replace(&mut self.cur, next);
        old.clear();
        // The first `cur` is an empty placeholder, not a chunk; a chunk filled to the last
        // byte has no capacity left in its view but is reclaimable all the same.
        if old.capacity() > 0 || self.allocated > 1 {
            self.keep_spare(old);
        }
    }

    /// Allocates the chunk to write into next (at least `need` bytes) and, past the first
    /// few, half as many spare chunks again: the set of live chunks wobbles with how reads
    /// fall on chunk boundaries and how far readers lag, and growing it by steps ahead of the
    /// need is what makes a wobble after warm-up find a spare instead of allocating.
    fn grow(&mut self, need: usize) -> BytesMut {
        self.allocated += 1;
        if self.allocated >= HEADROOM_FROM && self.chunk >= HEADROOM_MIN_CHUNK {
            for _ in 0..self.allocated / 2 {
                if self.spares.len() >= MAX_SPARE_CHUNKS {
                    break;
                }
                self.allocated += 1;
                let spare = new_chunk(self.chunk);
                self.keep_spare(spare);
            }
        }
        new_chunk(self.chunk.max(need))
    }

    /// Keeps `chunk` for reuse, unless enough are kept already.
    fn keep_spare(&mut self, chunk: BytesMut) {
        if self.spares.len() >= MAX_SPARE_CHUNKS {
            return;
        }
        if self.spares.len() == self.spares.capacity() {
            // Small first (most connections only ever answer: a reader's arena keeps a chunk
            // or two), then the whole list at once: it grows twice at most, while the arena
            // warms up.
            let want = if self.spares.capacity() == 0 {
                FEW_SPARE_CHUNKS
            } else {
                MAX_SPARE_CHUNKS
            };
            self.spares.reserve_exact(want - self.spares.len());
        }
        self.spares.push(chunk);
    }

    /// Appends `data` to the bytes being written.
    pub fn extend(&mut self, data: &[u8]) {
        self.reserve(data.len());
        self.cur.extend_from_slice(data);
    }

    /// The bytes being written (since the last split) and the free capacity after them. Writes
    /// beyond the capacity reserved with [`Arena::reserve`] allocate.
    pub fn buf(&mut self) -> &mut BytesMut {
        &mut self.cur
    }

    /// Number of bytes written since the last split.
    pub fn pending(&self) -> usize {
        self.cur.len()
    }

    /// Drops the bytes written since the last split.
    pub fn discard(&mut self) {
        self.cur.clear();
    }

    /// Splits off the bytes written since the last split as a shared buffer.
    pub fn split(&mut self) -> Bytes {
        self.cur.split().freeze()
    }

    /// Drops the spare chunks, and the current one when nothing is being written into it: a
    /// connection that has become a reader and will only receive small control messages
    /// starts over with one small chunk.
    pub fn trim(&mut self) {
        self.spares = Vec::new();
        if self.cur.is_empty() {
            self.cur = BytesMut::new();
        }
    }

    /// Chunks allocated since the arena was created.
    pub fn chunks_allocated(&self) -> u64 {
        self.allocated
    }
}

impl Default for Arena {
    /// An arena of 64 KiB chunks.
    fn default() -> Arena {
        Arena::new(64 * 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[test]
    fn split_views_hold_their_bytes() {
        let mut a = Arena::new(1024);
        a.extend(b"hello");
        let h = a.split();
        a.extend(b"world");
        let w = a.split();
        assert_eq!(&h[..], b"hello");
        assert_eq!(&w[..], b"world");
        assert_eq!(a.chunks_allocated(), 1);
    }

    #[test]
    fn unfinished_bytes_move_to_the_next_chunk() {
        let mut a = Arena::new(1024);
        let first = {
            a.extend(&[1; 1000]);
            a.split()
        };
        a.extend(&[2; 20]);
        a.extend(&[3; 100]);
        let second = a.split();
        assert_eq!(first.len(), 1000);
        assert_eq!(&second[..20], &[2; 20]);
        assert_eq!(&second[20..], &[3; 100]);
        assert_eq!(a.chunks_allocated(), 2);
    }

    /// A bounded window of live buffers (like a ring): after warm-up no chunk is allocated.
    #[test]
    fn a_bounded_window_stops_allocating() {
        let mut a = Arena::new(4096);
        let mut window: VecDeque<Bytes> = VecDeque::new();
        let mut after_warmup = 0;
        for i in 0..20_000u32 {
            let len = 200 + (i as usize * 7919) % 1200;
            a.extend(&vec![i as u8; len]);
            window.push_back(a.split());
            if window.len() > 64 {
                window.pop_front();
            }
            if i == 2_000 {
                after_warmup = a.chunks_allocated();
            }
        }
        assert_eq!(
            a.chunks_allocated(),
            after_warmup,
            "allocated after warm-up"
        );
        for b in &window {
            assert!(b.iter().all(|&x| x == b[0]));
        }
    }

    /// Chunks come one at a time at first, then by half again ahead of the need.
    #[test]
    fn growth_takes_steps_ahead_after_the_first_chunks() {
        let mut a = Arena::new(HEADROOM_MIN_CHUNK);
        let mut held = Vec::new();
        let mut seen = Vec::new();
        for _ in 0..12 {
            a.extend(&[5; HEADROOM_MIN_CHUNK - 24]);
            held.push(a.split());
            if seen.last() != Some(&a.chunks_allocated()) {
                seen.push(a.chunks_allocated());
            }
        }
        // 3rd chunk: +1 spare; 5th: +2; 8th: +4.
        assert_eq!(seen, vec![1, 2, 4, 7, 12]);
        assert!(held
            .iter()
            .all(|b| b.len() == HEADROOM_MIN_CHUNK - 24 && b.iter().all(|&x| x == 5)));
        // Small chunks (a connection that only answers) grow one at a time.
        let mut small = Arena::new(1024);
        let held: Vec<Bytes> = (0..5)
            .map(|_| {
                small.extend(&[1; 1000]);
                small.split()
            })
            .collect();
        assert_eq!(small.chunks_allocated(), 5);
        assert_eq!(held.len(), 5);
    }

    /// A live set that wobbles up by a chunk after warm-up is served from the headroom.
    #[test]
    fn a_wobble_after_warm_up_finds_a_spare() {
        let mut a = Arena::new(HEADROOM_MIN_CHUNK);
        let mut window: VecDeque<Bytes> = VecDeque::new();
        let run = |a: &mut Arena, window: &mut VecDeque<Bytes>, keep: usize, n: usize| {
            for i in 0..n {
                a.extend(&vec![i as u8; 4000]);
                window.push_back(a.split());
                while window.len() > keep {
                    window.pop_front();
                }
            }
        };
        run(&mut a, &mut window, 40, 2_000);
        let warm = a.chunks_allocated();
        run(&mut a, &mut window, 44, 2_000);
        assert_eq!(
            a.chunks_allocated(),
            warm,
            "a wobble of four buffers allocated"
        );
    }

    #[test]
    fn oversized_writes_get_their_own_chunk() {
        let mut a = Arena::new(1024);
        a.extend(&[7; 5000]);
        let b = a.split();
        assert_eq!(b.len(), 5000);
        assert!(b.iter().all(|&x| x == 7));
    }

    proptest! {
        /// Whatever the write sizes, splits return exactly what was written, in order.
        #[test]
        fn splits_round_trip(writes in proptest::collection::vec((0usize..3000, any::<u8>(), any::<bool>()), 1..60)) {
            let mut a = Arena::new(1024);
            let mut expect: Vec<u8> = Vec::new();
            let mut kept: Vec<(Bytes, Vec<u8>)> = Vec::new();
            for (len, byte, split) in writes {
                a.extend(&vec![byte; len]);
                expect.extend(std::iter::repeat_n(byte, len));
                if split {
                    kept.push((a.split(), std::mem::take(&mut expect)));
                }
            }
            for (b, e) in kept {
                prop_assert_eq!(&b[..], &e[..]);
            }
        }
    }
}
