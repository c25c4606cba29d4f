//! Vectored writes of many interleaved packets (or RTMP messages) in as few syscalls as the
//! socket allows.

use smallvec::SmallVec;
use std::io::{self, IoSlice};
use std::sync::Arc;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use weir_core::media::Unit;
use weir_core::rtmp::server::{DirectMessage, Gather};

/// Writes every slice, retrying partial writes, with as few `writev` calls as possible.
pub(crate) async fn write_all_vectored<W: AsyncWrite + Unpin>(
    w: &mut W,
    mut slices: &mut [IoSlice<'_>],
) -> io::Result<()> {
    // Skip leading empty slices so that a zero-length write means the peer is gone.
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        let n = w.write_vectored(slices).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut slices, n);
    }
    Ok(())
}

/// Chunk and header bytes of one gathered write of RTMP messages.
const RTMP_SCRATCH: usize = 1024;
/// Pieces of one gathered write of RTMP messages.
const RTMP_SEGMENTS: usize = 32;

/// Writes RTMP media messages straight from their units (the core's [`DirectMessage`]: chunk
/// headers built on the stack, NAL units borrowed), as many per `writev` as fit a gather.
pub(crate) async fn write_rtmp_messages<W: AsyncWrite + Unpin>(
    w: &mut W,
    msgs: &[(Arc<Unit>, DirectMessage)],
) -> io::Result<()> {
    let (mut i, mut sent) = (0, 0);
    while i < msgs.len() {
        let mut g: Gather<'_, RTMP_SCRATCH, RTMP_SEGMENTS> = Gather::default();
        while i < msgs.len() && g.has_room() {
            let (unit, msg) = &msgs[i];
            sent += msg.gather(unit, sent, &mut g);
            if sent < msg.wire_len() {
                break; // the gather is full: the rest of this message goes next round
            }
            (i, sent) = (i + 1, 0);
        }
        let mut slices: SmallVec<[IoSlice<'_>; RTMP_SEGMENTS]> =
            g.slices().map(IoSlice::new).collect();
        write_all_vectored(w, &mut slices).await?;
    }
    Ok(())
}
