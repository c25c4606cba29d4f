//! Fan-out workloads: one unit pushed into a path's ring, then delivered to N TCP readers.
//!
//! Per reader, the work is what `weir-tokio`'s reader task does on a wake-up before its one
//! vectored write: `Ring::read` into the reader's batch, the 4-byte interleaved header of every
//! packet, and the `IoSlice` list (header, packet, header, packet…). The ring's mutex and the
//! write system call are not included.

use crate::{data, Runner, Throughput};
use std::hint::black_box;
use std::io::IoSlice;
use std::sync::Arc;
use weir_core::media::{Cursor, Ring, StreamItem, Unit};
use weir_core::rtsp::interleaved_header;

/// The ring capacity (MediaMTX's default `writeQueueSize`).
pub const RING_CAPACITY: usize = 512;

/// The most items a reader copies out of the ring per wake-up (as `weir-tokio` does).
pub const READ_BATCH: usize = 128;

/// The reader counts measured.
pub const READERS: [usize; 3] = [1, 100, 1000];

/// One TCP reader: its cursor and the buffers its task keeps between wake-ups.
struct Reader {
    cursor: Cursor,
    batch: Vec<StreamItem>,
    headers: Vec<[u8; 4]>,
}

/// One wake-up of `reader`: reads what is new and builds the slices of its vectored write.
/// Track `t` goes out on channels `2t` (RTP) and `2t + 1` (RTCP). Returns the slice count.
fn deliver(ring: &Ring, reader: &mut Reader) -> usize {
    reader.batch.clear();
    ring.read(&mut reader.cursor, READ_BATCH, &mut reader.batch);
    reader.headers.clear();
    for item in &reader.batch {
        match item {
            StreamItem::Unit(u) => {
                let ch = (2 * u.track) as u8;
                for pk in &u.rtp {
                    reader
                        .headers
                        .push(interleaved_header(ch, pk.raw.len() as u16));
                }
            }
            StreamItem::Rtcp { track, packet } => {
                let ch = (2 * track + 1) as u8;
                reader
                    .headers
                    .push(interleaved_header(ch, packet.len() as u16));
            }
        }
    }
    let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(reader.headers.len() * 2);
    let mut headers = reader.headers.iter();
    for item in &reader.batch {
        match item {
            StreamItem::Unit(u) => {
                for pk in &u.rtp {
                    if let Some(h) = headers.next() {
                        slices.push(IoSlice::new(h));
                        slices.push(IoSlice::new(&pk.raw));
                    }
                }
            }
            StreamItem::Rtcp { packet, .. } => {
                if let Some(h) = headers.next() {
                    slices.push(IoSlice::new(h));
                    slices.push(IoSlice::new(packet));
                }
            }
        }
    }
    black_box(&slices);
    slices.len()
}

/// The unit fanned out: the bunny capture's last key frame, 8 RTP packets (SPS, PPS and six
/// FU-A fragments, 8250 bytes).
pub fn key_frame_unit() -> Unit {
    let units = data::group_units(&data::bunny_packets(data::BUNNY_H264_CHANNEL));
    let rtp = units
        .into_iter()
        .rev()
        .find(|u| u.len() == 8)
        .expect("bunny has an 8-packet unit");
    Unit {
        track: 0,
        pts: 0,
        dts: 0,
        key: true,
        payload: Default::default(),
        rtp: rtp.into_iter().collect(),
    }
}

/// Hands the fan-out workloads to `r`: one operation pushes one unit and delivers it to every
/// reader; the throughput counts readers, so time per element is the per-reader cost.
pub fn workloads<R: Runner>(r: &mut R) {
    let key = Arc::new(key_frame_unit());
    let unit = Arc::new(Unit {
        key: false,
        ..(*key).clone()
    });
    for n in READERS {
        let mut ring = Ring::new(RING_CAPACITY, 1);
        ring.push(StreamItem::Unit(key.clone()));
        let mut readers: Vec<Reader> = (0..n)
            .map(|_| Reader {
                cursor: ring.join(),
                batch: Vec::with_capacity(READ_BATCH),
                headers: Vec::with_capacity(64),
            })
            .collect();
        // Deliver the key frame so every reader starts the operation at the live edge.
        for reader in &mut readers {
            assert_eq!(deliver(&ring, reader), 16);
        }
        let name = format!("fanout/readers_{n}");
        r.run(&name, Throughput::Elements(n as u64), || {
            ring.push(StreamItem::Unit(unit.clone()));
            for reader in &mut readers {
                black_box(deliver(&ring, reader));
            }
        });
    }
}
