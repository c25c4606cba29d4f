//! Zero-copy delivery to RTSP readers whose tracks all go over TCP: their interleaved frames
//! are written with `writev` straight from the stream's ring — the 4-byte frame headers built
//! on the stack, the packets borrowed from the ring — instead of being copied into a per-reader
//! buffer. A reader's memory is then its cursor and, when the socket took only part of an
//! item, that one item (a reference, not a copy) until the socket takes the rest.
//!
//! Nothing here allocates: iovec and header arrays live on the stack, an item kept for later
//! is an `Arc` clone.

use mio::net::TcpStream;
use smallvec::SmallVec;
use std::io::{self, IoSlice, Write};
use weir_core::media::{Cursor, ReadOutcome, Ring, StreamItem};
use weir_core::rtsp::server::ReaderRoutes;

/// Frames gathered per `writev` (two iovecs each).
const MAX_FRAMES: usize = 32;
/// Items gathered per `writev` (items routed nowhere count too).
const MAX_ITEMS: usize = 64;

/// What the socket took only part of, sent before anything else.
pub(crate) enum Partial {
    /// An RTSP item.
    Item(ItemPartial),
    /// An RTMP media message.
    Rtmp(crate::rtmp_direct::RtmpPartial),
}

impl Partial {
    /// Bytes still to send.
    pub(crate) fn remaining(&self) -> usize {
        match self {
            Partial::Item(p) => p.remaining(),
            Partial::Rtmp(p) => p.remaining(),
        }
    }

    /// Sends what the socket takes; true once all of it is out.
    pub(crate) fn write(&mut self, sock: &mut TcpStream) -> io::Result<bool> {
        match self {
            Partial::Item(p) => p.write(sock),
            Partial::Rtmp(p) => p.write(sock),
        }
    }
}

/// An item the socket took only part of: its frames on `channel`, `sent` bytes of them out.
pub(crate) struct ItemPartial {
    item: StreamItem,
    channel: u8,
    sent: usize,
}

/// The framed size of `item`.
fn framed_len(item: &StreamItem) -> usize {
    let mut n = 0;
    ReaderRoutes::for_each_frame(item, 0, |_, p| n += 4 + p.len());
    n
}

/// The number of frames of `item`.
fn frame_count(item: &StreamItem) -> usize {
    match item {
        StreamItem::Unit(u) => u.rtp.len(),
        StreamItem::Rtcp { .. } => 1,
    }
}

/// What a delivery did.
#[derive(Debug, Default)]
pub(crate) struct Delivery {
    /// The cursor's lag report (a reader that fell behind the ring).
    pub lag: ReadOutcome,
    /// The socket would take no more.
    pub blocked: bool,
}

pub(crate) fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::NotConnected
}

impl ItemPartial {
    /// Bytes still to send.
    pub(crate) fn remaining(&self) -> usize {
        framed_len(&self.item) - self.sent
    }

    /// Sends what the socket takes; true once the item is out.
    pub(crate) fn write(&mut self, sock: &mut TcpStream) -> io::Result<bool> {
        loop {
            let mut hdrs = [[0u8; 4]; MAX_FRAMES];
            let mut bodies: SmallVec<[&[u8]; MAX_FRAMES]> = SmallVec::new();
            let mut skip = self.sent;
            let mut first_skip = 0; // bytes of the first gathered frame already sent
            ReaderRoutes::for_each_frame(&self.item, self.channel, |h, p| {
                let len = 4 + p.len();
                if skip >= len {
                    skip -= len;
                    return;
                }
                if bodies.len() < MAX_FRAMES {
                    if bodies.is_empty() {
                        first_skip = skip;
                    }
                    hdrs[bodies.len()] = h;
                    bodies.push(p);
                }
                skip = 0;
            });
            if bodies.is_empty() {
                return Ok(true);
            }
            let mut iov: SmallVec<[IoSlice<'_>; 2 * MAX_FRAMES]> = SmallVec::new();
            for (i, b) in bodies.iter().enumerate() {
                let (h, b): (&[u8], &[u8]) = if i == 0 && first_skip >= 4 {
                    (&[], &b[first_skip - 4..])
                } else if i == 0 {
                    (&hdrs[0][first_skip..], b)
                } else {
                    (&hdrs[i], b)
                };
                if !h.is_empty() {
                    iov.push(IoSlice::new(h));
                }
                if !b.is_empty() {
                    iov.push(IoSlice::new(b));
                }
            }
            let total: usize = iov.iter().map(|s| s.len()).sum();
            match sock.write_vectored(&iov) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.sent += n;
                    if n < total {
                        return Ok(false);
                    }
                }
                Err(e) if would_block(&e) => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Writes what `cursor` has not delivered, straight from `ring`, until the socket would block
/// or the ring has nothing more. An item cut by the socket is kept in `partial` and sent
/// first next time.
pub(crate) fn deliver(
    sock: &mut TcpStream,
    ring: &Ring,
    cursor: &mut Cursor,
    routes: &ReaderRoutes,
    partial: &mut Option<Partial>,
) -> io::Result<Delivery> {
    let mut d = Delivery::default();
    loop {
        if let Some(p) = partial.as_mut() {
            if !p.write(sock)? {
                d.blocked = true;
                return Ok(d);
            }
            *partial = None;
        }
        // Resynchronise a reader the ring left behind (at the next key frame).
        let o = ring.read_each(cursor, 0, |_| {});
        if o.lag_started {
            d.lag = o;
        }
        let mut hdrs = [[0u8; 4]; MAX_FRAMES];
        let mut bodies: SmallVec<[&[u8]; MAX_FRAMES]> = SmallVec::new();
        // Per gathered item: its full framed size and its channel (None: not for this reader).
        let mut items: SmallVec<[(usize, Option<u8>); MAX_ITEMS]> = SmallVec::new();
        for item in ring.peek(cursor) {
            if items.len() == MAX_ITEMS {
                break;
            }
            let Some(ch) = routes.tcp_channel(item) else {
                items.push((0, None));
                continue;
            };
            if !bodies.is_empty() && bodies.len() + frame_count(item) > MAX_FRAMES {
                break;
            }
            let mut len = 0;
            ReaderRoutes::for_each_frame(item, ch, |h, p| {
                len += 4 + p.len();
                if bodies.len() < MAX_FRAMES {
                    hdrs[bodies.len()] = h;
                    bodies.push(p);
                }
            });
            items.push((len, Some(ch)));
        }
        if items.is_empty() {
            return Ok(d);
        }
        let written = if bodies.is_empty() {
            0
        } else {
            let mut iov: SmallVec<[IoSlice<'_>; 2 * MAX_FRAMES]> = SmallVec::new();
            for (h, b) in hdrs.iter().zip(&bodies) {
                iov.push(IoSlice::new(h));
                iov.push(IoSlice::new(b));
            }
            loop {
                match sock.write_vectored(&iov) {
                    Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                    Ok(n) => break n,
                    Err(e) if would_block(&e) => {
                        d.blocked = true;
                        break 0;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        };
        // Whole items out (and items for no track of this reader, up to the first cut one).
        let mut left = written;
        let mut whole = 0;
        for &(len, _) in &items {
            if left < len {
                break;
            }
            left -= len;
            whole += 1;
        }
        let mut advance = whole;
        if whole < items.len() && left > 0 {
            // The socket cut this item: keep it (a reference) with what was sent of it.
            let item = ring.peek(cursor).nth(whole).cloned();
            if let (Some(item), (_, Some(channel))) = (item, items[whole]) {
                *partial = Some(Partial::Item(ItemPartial {
                    item,
                    channel,
                    sent: left,
                }));
                advance += 1;
            }
        }
        if advance > 0 {
            ring.read_each(cursor, advance, |_| {});
        }
        let gathered: usize = bodies.iter().map(|b| 4 + b.len()).sum();
        if d.blocked || written < gathered {
            d.blocked = true;
            return Ok(d);
        }
    }
}
