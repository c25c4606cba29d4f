//! Vectored writes of many interleaved packets (or RTMP messages) in as few syscalls as the
//! socket allows.

use smallvec::SmallVec;
use std::io::{self, IoSlice};
use std::sync::Arc;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
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
///
/// The gather is built and written without awaiting (`try_write_vectored`), so its buffers
/// live on the stack and not in the connection task's future: an idle player's task stays
/// small. When the socket is full, only the position (message, byte) is kept across the wait.
pub(crate) async fn write_rtmp_messages(
    w: &OwnedWriteHalf,
    msgs: &[(Arc<Unit>, DirectMessage)],
) -> io::Result<()> {
    let mut at = (0, 0);
    while at.0 < msgs.len() {
        match write_rtmp_gather(w, msgs, &mut at) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => w.writable().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One `writev` of the messages from `at` (message index, bytes of it already sent); moves
/// `at` past what the socket took.
fn write_rtmp_gather(
    w: &OwnedWriteHalf,
    msgs: &[(Arc<Unit>, DirectMessage)],
    at: &mut (usize, usize),
) -> io::Result<()> {
    let mut g: Gather<'_, RTMP_SCRATCH, RTMP_SEGMENTS> = Gather::default();
    let (mut i, mut sent) = *at;
    while i < msgs.len() && g.has_room() {
        let (unit, msg) = &msgs[i];
        sent += msg.gather(unit, sent, &mut g);
        if sent < msg.wire_len() {
            break; // the gather is full: the rest of this message goes next round
        }
        (i, sent) = (i + 1, 0);
    }
    let slices: SmallVec<[IoSlice<'_>; RTMP_SEGMENTS]> = g.slices().map(IoSlice::new).collect();
    let mut n = w.try_write_vectored(&slices)?;
    if n == 0 {
        return Err(io::ErrorKind::WriteZero.into());
    }
    while n > 0 {
        let left = msgs[at.0].1.wire_len() - at.1;
        if n < left {
            at.1 += n;
            break;
        }
        n -= left;
        *at = (at.0 + 1, 0);
    }
    Ok(())
}
