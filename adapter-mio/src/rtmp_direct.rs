//! Zero-copy delivery to RTMP players: each media message is written with `writev` straight
//! from the stream's ring — chunk headers, tag header and NAL lengths built on the stack by the
//! core's [`DirectMessage`], the NAL units borrowed from the ring's units — instead of being
//! muxed, chunked and copied into a per-reader buffer. A player's memory is then its cursor,
//! a few planned messages (references to units) and, when the socket took only part of a
//! message, that message (a reference) until the socket takes the rest.
//!
//! Order: sequence headers and control messages still go through the connection's output
//! buffer. A sequence header planned with a unit is held back until the messages planned
//! before it are out (the barrier), so every message reaches the player in the order the
//! muxer decided. Nothing here allocates once the player's held-back buffer has grown.

use crate::direct::{would_block, Partial};
use crate::rtmp::RtmpConn;
use crate::stream::Stream;
use mio::net::TcpStream;
use smallvec::SmallVec;
use std::io::{self, IoSlice, Write};
use std::sync::Arc;
use weir_core::media::{StreamItem, Unit};
use weir_core::rtmp::server::{DirectMessage, Gather};

/// Messages planned at a time (a player keeps at most this many, plus what one unit adds).
pub(crate) const PLANNED_MESSAGES: usize = 16;
/// Scratch bytes for one gathered write's headers.
const SCRATCH: usize = 2048;
/// Pieces of one gathered write.
const SEGMENTS: usize = 64;

/// A message planned for a player, with the unit its payload is in.
pub(crate) type Planned = (Arc<Unit>, DirectMessage);

/// A message the socket took only part of: `sent` of its wire bytes are out.
pub(crate) struct RtmpPartial {
    unit: Arc<Unit>,
    msg: DirectMessage,
    sent: usize,
}

/// Writes the gathered pieces; the bytes the socket took (0 when it would block).
fn write_gathered<const S: usize, const N: usize>(
    sock: &mut TcpStream,
    g: &Gather<'_, S, N>,
) -> io::Result<usize> {
    let iov: SmallVec<[IoSlice<'_>; SEGMENTS]> = g.slices().map(IoSlice::new).collect();
    loop {
        match sock.write_vectored(&iov) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => return Ok(n),
            Err(e) if would_block(&e) => return Ok(0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

impl RtmpPartial {
    /// Bytes still to send.
    pub(crate) fn remaining(&self) -> usize {
        self.msg.wire_len() - self.sent
    }

    /// Sends what the socket takes; true once the message is out.
    pub(crate) fn write(&mut self, sock: &mut TcpStream) -> io::Result<bool> {
        loop {
            let mut g: Gather<'_, SCRATCH, SEGMENTS> = Gather::default();
            let added = self.msg.gather(&self.unit, self.sent, &mut g);
            if added == 0 {
                return Ok(true);
            }
            let n = write_gathered(sock, &g)?;
            self.sent += n;
            if n < added {
                return Ok(false);
            }
        }
    }
}

/// What writing whole planned messages did.
struct Written {
    /// Messages taken off the front of the list (written, or cut and now in `cut`).
    taken: usize,
    /// The message the socket cut.
    cut: Option<RtmpPartial>,
    /// The socket would take no more.
    blocked: bool,
}

/// Writes `msgs` (none started yet) as far as the socket takes them, gathering as many per
/// `writev` as the gather has room for.
fn write_messages(sock: &mut TcpStream, msgs: &[Planned]) -> io::Result<Written> {
    let mut taken = 0;
    while taken < msgs.len() {
        let mut g: Gather<'_, SCRATCH, SEGMENTS> = Gather::default();
        let mut gathered = 0;
        let mut count = 0;
        for (unit, msg) in &msgs[taken..] {
            if !g.has_room() {
                break;
            }
            let added = msg.gather(unit, 0, &mut g);
            gathered += added;
            count += 1;
            if added < msg.wire_len() {
                break; // the rest of this one goes out as a partial
            }
        }
        let n = write_gathered(sock, &g)?;
        let mut left = n;
        for (unit, msg) in &msgs[taken..taken + count] {
            let len = msg.wire_len();
            if left >= len {
                left -= len;
                taken += 1;
                continue;
            }
            if left > 0 {
                let cut = RtmpPartial {
                    unit: unit.clone(),
                    msg: *msg,
                    sent: left,
                };
                return Ok(Written {
                    taken: taken + 1,
                    cut: Some(cut),
                    blocked: n < gathered,
                });
            }
            break;
        }
        if n < gathered {
            return Ok(Written {
                taken,
                cut: None,
                blocked: true,
            });
        }
    }
    Ok(Written {
        taken,
        cut: None,
        blocked: false,
    })
}

impl RtmpConn {
    /// Writes what the player's cursor has not delivered straight from the ring to `sock`.
    /// Call only when nothing else is queued on the connection; may hand output to `out` (a
    /// held sequence header, control messages), which must be flushed before the next call.
    /// Returns whether the socket is full.
    pub fn deliver_direct(
        &mut self,
        stream: &Stream,
        sock: &mut TcpStream,
        partial: &mut Option<Partial>,
        out: &mut Vec<u8>,
    ) -> io::Result<bool> {
        let RtmpConn { core, playing, .. } = self;
        let Some(p) = playing.as_mut() else {
            return Ok(false);
        };
        loop {
            if let Some(part) = partial.as_mut() {
                if !part.write(sock)? {
                    return Ok(true);
                }
                *partial = None;
            }
            // Messages planned before the held output (all of them without a barrier).
            let upto = p.barrier.unwrap_or(p.planned.len());
            if upto > 0 {
                let w = write_messages(sock, &p.planned[..upto])?;
                p.planned.drain(..w.taken);
                if let Some(b) = p.barrier.as_mut() {
                    *b -= w.taken;
                }
                if let Some(cut) = w.cut {
                    *partial = Some(Partial::Rtmp(cut));
                }
                if w.blocked {
                    return Ok(true);
                }
                continue;
            }
            if p.barrier.take().is_some() {
                out.extend_from_slice(&p.held);
                p.held.clear();
                return Ok(false);
            }
            // Output the connection queued meanwhile goes first.
            if core.poll_transmit(out) {
                return Ok(false);
            }
            let o = stream.ring.read_each(&mut p.cursor, 0, |_| {});
            if o.lag_started {
                tracing::warn!(
                    "{} reader is too slow, discarding {} units and resuming at the next key frame",
                    core.log_prefix(),
                    o.lost
                );
            }
            let mut consumed = 0;
            for item in stream.ring.peek(&p.cursor) {
                if let StreamItem::Unit(u) = item {
                    let room = u.payload.len().max(1);
                    if !p.planned.is_empty() && p.planned.len() + room > PLANNED_MESSAGES {
                        break;
                    }
                    let mut msgs: SmallVec<[DirectMessage; 2]> = SmallVec::new();
                    p.player.plan_unit(core, u, &mut msgs);
                    let held = core.poll_transmit(&mut p.held);
                    if held {
                        p.barrier = Some(p.planned.len());
                    }
                    p.planned.extend(msgs.into_iter().map(|m| (u.clone(), m)));
                    consumed += 1;
                    if held {
                        break;
                    }
                } else {
                    consumed += 1;
                }
                if consumed >= PLANNED_MESSAGES {
                    break;
                }
            }
            if consumed == 0 {
                return Ok(false);
            }
            stream.ring.read_each(&mut p.cursor, consumed, |_| {});
        }
    }
}
