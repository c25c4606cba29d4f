//! A published stream as the loop holds it: ring, ingest, and who reads it. Owned by the loop
//! (one thread), so there is no lock and a publisher's items reach readers within the same
//! loop iteration.

use crate::slab::Id;
use bytes::Bytes;
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::Instant;
use weir_core::media::{Cursor, Ring, StreamDescription, StreamIngest, StreamItem, WallClock};
use weir_core::rtp::RtpPacket;
use weir_core::rtsp::server::{play_starts, MulticastGroup, PlayStart};

/// The path's multicast sender: one socket, one cursor, every packet sent once.
pub(crate) struct MulticastOut {
    pub socket: std::net::UdpSocket,
    pub groups: SmallVec<[MulticastGroup; 4]>,
    pub cursor: Cursor,
}

/// One published stream.
pub(crate) struct Stream {
    pub path: String,
    /// The publishing connection.
    pub publisher: Id,
    /// The publisher's registry id (to unpublish only if still the owner).
    pub publisher_id: u64,
    pub description: Arc<StreamDescription>,
    pub ring: Ring,
    pub ingest: StreamIngest,
    scratch: Vec<StreamItem>,
    /// RTSP and RTMP connections reading the stream.
    pub readers: Vec<Id>,
    /// The path's HLS muxer, if any.
    pub hls: Option<Id>,
    pub multicast: Option<MulticastOut>,
    /// Whether the stream is on the loop's list of streams with new items.
    pub dirty: bool,
    /// `runOnReady` while the stream lasts (`runOnNotReady` when dropped).
    pub ready_hook: Option<crate::hooks::Held>,
}

impl Stream {
    /// A stream of `description` with a ring of `capacity` units.
    pub fn new(
        path: String,
        publisher: Id,
        publisher_id: u64,
        description: Arc<StreamDescription>,
        capacity: usize,
        clock: WallClock,
        seed: u64,
    ) -> Stream {
        Stream {
            path,
            publisher,
            publisher_id,
            ring: Ring::new(capacity, description.start_tracks()),
            ingest: StreamIngest::new(&description, clock, seed),
            description,
            scratch: Vec::with_capacity(64),
            readers: Vec::with_capacity(16),
            hls: None,
            multicast: None,
            dirty: false,
            ready_hook: None,
        }
    }

    /// Feeds one publisher packet; true when items were produced.
    pub fn push_rtp(&mut self, now: Instant, track: usize, packet: RtpPacket) -> bool {
        self.ingest.push_rtp(now, track, packet, &mut self.scratch);
        self.commit()
    }

    /// Feeds one access unit from a non-RTP source; true when items were produced.
    pub fn push_unit(
        &mut self,
        now: Instant,
        track: usize,
        pts: i64,
        dts: i64,
        key: bool,
        payload: SmallVec<[Bytes; 4]>,
    ) -> bool {
        self.ingest
            .push_unit(now, track, pts, dts, key, payload, &mut self.scratch);
        self.commit()
    }

    fn commit(&mut self) -> bool {
        let produced = !self.scratch.is_empty();
        for item in self.scratch.drain(..) {
            if let Some(old) = self.ring.push(item) {
                self.ingest.recycle(old);
            }
        }
        produced
    }

    /// Where each track starts for a reader at `cursor` (for RTP-Info).
    pub fn play_starts(&self, cursor: &Cursor) -> SmallVec<[PlayStart; 4]> {
        play_starts(self.ring.peek(cursor), self.description.tracks.len())
    }
}
