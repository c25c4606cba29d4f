//! Recycling of units: a unit evicted from the ring that no reader still holds goes back to
//! its stream's pool, with the heap capacity of its packet list, instead of being freed.

use super::{StreamItem, Unit};
use crate::rtp::RtpPacket;
use bytes::Bytes;
use smallvec::SmallVec;
use std::sync::Arc;

/// Units kept for reuse per stream; more are dropped.
pub const MAX_POOLED_UNITS: usize = 4096;

/// Spare units of one stream (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct UnitPool {
    spare: Vec<Arc<Unit>>,
}

/// The fields of a new unit.
pub(crate) struct UnitFields {
    pub track: usize,
    pub pts: i64,
    pub dts: i64,
    pub key: bool,
    pub payload: SmallVec<[Bytes; 4]>,
}

impl UnitPool {
    /// A unit with these fields and the packets of `rtp` (swapped out: `rtp` is left empty,
    /// holding the recycled unit's spare capacity).
    pub fn make(&mut self, f: UnitFields, rtp: &mut SmallVec<[RtpPacket; 4]>) -> Arc<Unit> {
        if let Some(mut arc) = self.spare.pop() {
            if let Some(u) = Arc::get_mut(&mut arc) {
                u.track = f.track;
                u.pts = f.pts;
                u.dts = f.dts;
                u.key = f.key;
                u.payload = f.payload;
                u.rtp.clear();
                std::mem::swap(&mut u.rtp, rtp);
                return arc;
            }
        }
        Arc::new(Unit {
            track: f.track,
            pts: f.pts,
            dts: f.dts,
            key: f.key,
            payload: f.payload,
            rtp: std::mem::take(rtp),
        })
    }

    /// Takes back an item the ring evicted; kept only when nobody else holds it.
    pub fn recycle(&mut self, item: StreamItem) {
        if let StreamItem::Unit(mut arc) = item {
            if let Some(u) = Arc::get_mut(&mut arc) {
                if self.spare.len() < MAX_POOLED_UNITS {
                    if self.spare.capacity() == 0 {
                        self.spare.reserve_exact(256);
                    }
                    u.payload.clear();
                    u.rtp.clear();
                    if self.spare.len() < self.spare.capacity() {
                        self.spare.push(arc);
                    }
                }
            }
        }
    }

    /// Units waiting for reuse.
    pub fn len(&self) -> usize {
        self.spare.len()
    }
}
