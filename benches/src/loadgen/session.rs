//! The interface between the event loop and a reader's protocol logic: the loop owns the
//! sockets and moves bytes; a [`Session`] interprets them and says what to send.

use super::marker::SendLog;
use super::stats::ReaderStats;
use std::net::SocketAddr;

/// What a session sees and produces on each call.
pub struct Io<'a> {
    /// The clock, in µs, when the data arrived (or the tick happened).
    pub now_us: u64,
    /// Bytes to write on the reader's TCP connection (appended).
    pub out: &'a mut Vec<u8>,
    /// Datagrams to send from the reader's RTCP socket: destination and bytes.
    pub rtcp_out: &'a mut Vec<(SocketAddr, Vec<u8>)>,
    /// The reader's counters.
    pub stats: &'a mut ReaderStats,
    /// The publisher's send times.
    pub log: &'a SendLog,
}

/// One reader's protocol logic.
pub trait Session: Send {
    /// The TCP connection is established: queue the first request.
    fn start(&mut self, io: &mut Io<'_>) -> Result<(), String>;
    /// Bytes arrived on the TCP connection.
    fn on_tcp(&mut self, data: &[u8], io: &mut Io<'_>) -> Result<(), String>;
    /// A datagram arrived on the reader's RTP (`rtcp == false`) or RTCP socket.
    fn on_udp(&mut self, data: &[u8], rtcp: bool, io: &mut Io<'_>) -> Result<(), String> {
        let _ = (data, rtcp, io);
        Ok(())
    }
    /// Called about every 100 ms: keep-alives, playlist reloads.
    fn on_tick(&mut self, io: &mut Io<'_>) -> Result<(), String> {
        let _ = io;
        Ok(())
    }
    /// Whether the session is past its handshake (media flowing or requested).
    fn is_playing(&self) -> bool;
}
