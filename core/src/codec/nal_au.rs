//! Building blocks shared by the H.264 and H.265 depacketizers: the bounded list of NAL units of
//! the current access unit, and the reassembly buffer of a fragmented NAL unit.

use super::{CodecError, MAX_ACCESS_UNIT_SIZE, MAX_UNITS_PER_ACCESS_UNIT};
use crate::arena::Arena;
use crate::rtp::SeqNo;
use bytes::Bytes;
use smallvec::SmallVec;

/// The NAL units of the access unit being depacketized, with size limits.
#[derive(Debug, Default)]
pub(crate) struct NaluList {
    nalus: SmallVec<[Bytes; 4]>,
    size: usize,
}

impl NaluList {
    /// Appends a NAL unit, or refuses it (dropped) when the unit would exceed the limits.
    pub(crate) fn push(&mut self, nalu: Bytes) -> Result<(), CodecError> {
        if self.nalus.len() >= MAX_UNITS_PER_ACCESS_UNIT
            || self.size.saturating_add(nalu.len()) > MAX_ACCESS_UNIT_SIZE
        {
            return Err(CodecError::TooLarge);
        }
        self.size += nalu.len();
        self.nalus.push(nalu);
        Ok(())
    }

    /// Bytes collected so far.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Ends the access unit into `out` (appended), keeping this list's storage: the key flag
    /// (`is_key` of any NAL unit), `None` when nothing was collected.
    pub(crate) fn finish_into(
        &mut self,
        out: &mut SmallVec<[Bytes; 4]>,
        is_key: impl Fn(&[u8]) -> bool,
    ) -> Option<bool> {
        self.size = 0;
        let start = out.len();
        out.extend(self.nalus.drain(..));
        if out.len() == start {
            return None;
        }
        Some(out[start..].iter().any(|n| is_key(n)))
    }

    /// Takes the collected NAL units, leaving the list empty.
    pub(crate) fn take(&mut self) -> SmallVec<[Bytes; 4]> {
        self.size = 0;
        std::mem::take(&mut self.nalus)
    }
}

/// Chunk size of the reassembly arena: a few large NAL units per chunk.
const REASSEMBLY_CHUNK: usize = 256 * 1024;

/// Reassembles one fragmented NAL unit (FU-A, H.265 FU) into a recycled arena chunk, so that
/// steady-state reassembly does not allocate.
#[derive(Debug)]
pub(crate) struct Reassembly {
    buf: Arena,
    /// The sequence number the next fragment must carry; `Some` while a unit is in progress.
    expected_seq: Option<SeqNo>,
}

/// What appending a middle or end fragment produced.
pub(crate) enum Appended {
    /// More fragments are needed.
    More,
    /// The unit is complete.
    Done(Bytes),
}

impl Default for Reassembly {
    fn default() -> Reassembly {
        Reassembly {
            buf: Arena::new(REASSEMBLY_CHUNK),
            expected_seq: None,
        }
    }
}

impl Reassembly {
    /// A whole NAL unit made of `header` and `data`, written to the arena.
    pub(crate) fn whole(&mut self, header: &[u8], data: &[u8]) -> Bytes {
        self.buf.discard();
        self.buf.reserve(header.len() + data.len());
        self.buf.extend(header);
        self.buf.extend(data);
        self.buf.split()
    }

    /// Drops an unfinished unit; returns whether there was one.
    pub(crate) fn abort(&mut self) -> bool {
        self.buf.discard();
        self.expected_seq.take().is_some()
    }

    /// Starts a unit with its reconstructed NAL header and the first fragment's data, given
    /// `already` bytes collected in the access unit. Returns whether an unfinished unit was
    /// dropped to make way.
    pub(crate) fn start(
        &mut self,
        header: &[u8],
        data: &[u8],
        seq: SeqNo,
        already: usize,
    ) -> Result<bool, CodecError> {
        let dropped = self.abort();
        let len = header.len() + data.len();
        if already.saturating_add(len) > MAX_ACCESS_UNIT_SIZE {
            return Err(CodecError::TooLarge);
        }
        self.buf.reserve(len);
        self.buf.extend(header);
        self.buf.extend(data);
        self.expected_seq = Some(SeqNo(seq.0.wrapping_add(1)));
        Ok(dropped)
    }

    /// Appends a middle (`end == false`) or last fragment.
    pub(crate) fn append(
        &mut self,
        data: &[u8],
        seq: SeqNo,
        end: bool,
        already: usize,
    ) -> Result<Appended, CodecError> {
        match self.expected_seq {
            None => return Err(CodecError::FragmentLost),
            Some(expected) if expected != seq => {
                self.abort();
                return Err(CodecError::FragmentLost);
            }
            Some(_) => {}
        }
        if already
            .saturating_add(self.buf.pending())
            .saturating_add(data.len())
            > MAX_ACCESS_UNIT_SIZE
        {
            self.abort();
            return Err(CodecError::TooLarge);
        }
        self.buf.extend(data);
        if end {
            self.expected_seq = None;
            Ok(Appended::Done(self.buf.split()))
        } else {
            self.expected_seq = Some(SeqNo(seq.0.wrapping_add(1)));
            Ok(Appended::More)
        }
    }
}
