//! One driver for every connection's state machine: the crate-wide rule "after every input,
//! drain the outputs" written once (events answered by the loop, bytes to the connection's
//! buffer, input resumed until nothing moves).

use crate::conn::Conn;
use crate::event_loop::Loop;
use bytes::BytesMut;
use std::time::Instant;

/// A connection's protocol state as the driver sees it.
pub(crate) trait Machine {
    /// What the machine tells the loop.
    type Event;
    /// The next event.
    fn next_event(&mut self) -> Option<Self::Event>;
    /// Appends bytes to send; whether there were any.
    fn transmit(&mut self, out: &mut Vec<u8>) -> bool;
    /// Whether input is consumed now (no question pending, not closing).
    fn accepts_input(&self) -> bool;
    /// Feeds input.
    fn feed(&mut self, now: Instant, buf: &mut BytesMut);
    /// When `handle_timeout` is next needed.
    fn deadline(&self) -> Option<Instant>;
}

impl Loop {
    /// Drives `m` until it is quiet; `on_event` acts on each event (false: close). Returns
    /// false once the connection is to be closed.
    pub(crate) fn drive_machine<M: Machine>(
        &mut self,
        c: &mut Conn,
        m: &mut M,
        now: Instant,
        mut on_event: impl FnMut(&mut Loop, &mut M, M::Event) -> bool,
    ) -> bool {
        let mut open = true;
        loop {
            let mut progressed = false;
            while let Some(ev) = m.next_event() {
                progressed = true;
                if !on_event(self, m, ev) {
                    open = false;
                }
            }
            if m.transmit(&mut c.out) {
                progressed = true;
            }
            if open && m.accepts_input() && c.inbuf.pending() > 0 {
                let before = c.inbuf.pending();
                m.feed(now, c.inbuf.buf());
                // An error answer leaves the input unconsumed: a question or closing is
                // progress too.
                progressed |= c.inbuf.pending() != before || !m.accepts_input();
            }
            if !progressed {
                break;
            }
        }
        c.deadline = m.deadline();
        open
    }
}

impl Machine for crate::rtsp::RtspConn {
    type Event = weir_core::rtsp::server::Event;
    fn next_event(&mut self) -> Option<Self::Event> {
        self.core.poll_event()
    }
    fn transmit(&mut self, out: &mut Vec<u8>) -> bool {
        self.core.poll_transmit(out)
    }
    fn accepts_input(&self) -> bool {
        !self.core.is_waiting() && !self.core.is_closing()
    }
    fn feed(&mut self, now: Instant, buf: &mut BytesMut) {
        self.core.handle_input(now, buf)
    }
    fn deadline(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }
}

impl Machine for crate::rtmp::RtmpConn {
    type Event = weir_core::rtmp::RtmpEvent;
    fn next_event(&mut self) -> Option<Self::Event> {
        self.core.poll_event()
    }
    fn transmit(&mut self, out: &mut Vec<u8>) -> bool {
        self.core.poll_transmit(out)
    }
    fn accepts_input(&self) -> bool {
        !self.core.is_waiting() && !self.core.is_closing()
    }
    fn feed(&mut self, now: Instant, buf: &mut BytesMut) {
        self.core.handle_input(now, buf)
    }
    fn deadline(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }
}

impl Machine for crate::source::SourceConn {
    type Event = weir_core::pull::ClientEvent;
    fn next_event(&mut self) -> Option<Self::Event> {
        self.core.poll_event()
    }
    fn transmit(&mut self, out: &mut Vec<u8>) -> bool {
        self.core.poll_transmit(out)
    }
    fn accepts_input(&self) -> bool {
        !self.core.is_closed()
    }
    fn feed(&mut self, now: Instant, buf: &mut BytesMut) {
        self.core.handle_input(now, buf)
    }
    fn deadline(&self) -> Option<Instant> {
        self.core.poll_timeout()
    }
}
