//! Recycling of units: a unit evicted from the ring that no reader still holds goes back to
//! its stream's pool, with the heap capacity of its packet list, instead of being freed.

use super::{StreamItem, Unit};
use std::sync::Arc;

/// Units kept in reserve per stream; past it, the smallest are dropped.
pub const MAX_POOLED_UNITS: usize = 64;

/// Spare units of one stream (see the module docs).
///
/// Every push into a full ring evicts one unit, so in steady state a unit comes back for each
/// one taken. Which one is taken matters: a unit's packet list keeps the capacity it grew to,
/// and a key frame needs far more packets than the audio unit before it. So the pool hands out
/// the spare with the *smallest sufficient* capacity, keeping large ones for large units, and
/// only allocates when no spare fits — each such allocation leaves one more unit in circulation,
/// so the reserve grows to cover the mix of unit sizes and then stops allocating.
#[derive(Debug, Default)]
pub(crate) struct UnitPool {
    spare: Vec<Arc<Unit>>,
}

impl UnitPool {
    /// A unit for `packets` RTP packets, empty (payload and packet list cleared) and not
    /// shared, so `Arc::make_mut` gives access without copying: the spare with the smallest
    /// sufficient packet capacity, or a new one.
    pub fn take(&mut self, packets: usize) -> Arc<Unit> {
        let mut best: Option<(usize, usize)> = None;
        for (i, a) in self.spare.iter().enumerate() {
            let cap = a.rtp.capacity();
            if cap >= packets && best.is_none_or(|(_, c)| cap < c) {
                best = Some((i, cap));
            }
        }
        match best {
            Some((i, _)) => self.spare.swap_remove(i),
            None => Arc::new(Unit::default()),
        }
    }

    /// Takes back an item the ring evicted; kept only when nobody else holds it.
    pub fn recycle(&mut self, item: StreamItem) {
        let StreamItem::Unit(mut arc) = item else {
            return;
        };
        let Some(u) = Arc::get_mut(&mut arc) else {
            return;
        };
        u.payload.clear();
        u.rtp.clear();
        if self.spare.capacity() == 0 {
            self.spare.reserve_exact(MAX_POOLED_UNITS);
        }
        if self.spare.len() < MAX_POOLED_UNITS {
            self.spare.push(arc);
            return;
        }
        // Full: keep the larger of this unit and the smallest spare.
        let cap = arc.rtp.capacity();
        if let Some((i, _)) = self
            .spare
            .iter()
            .enumerate()
            .map(|(i, a)| (i, a.rtp.capacity()))
            .filter(|&(_, c)| c < cap)
            .min_by_key(|&(_, c)| c)
        {
            self.spare[i] = arc;
        }
    }

    /// Units waiting for reuse.
    pub fn len(&self) -> usize {
        self.spare.len()
    }
}
