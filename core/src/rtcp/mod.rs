//! RTCP (RFC 3550 §6): sender and receiver reports, SDES, BYE, and compound packets.
//!
//! Each packet type has `parse(buf)` (the first packet in `buf`; never panics) and
//! `write_to(&self, out)` (appends one packet with a correct header). [`RtcpPacket`] parses any
//! type, [`compound_iter`] walks a datagram without copying and [`parse_compound`] decodes all of
//! it. Types weir does not decode (APP, feedback, XR…) are kept raw as [`RtcpPacket::Other`].

mod bye;
mod compound;
mod header;
mod report_block;
mod rr;
mod sdes;
mod sr;

pub use bye::Bye;
pub use compound::{compound_iter, parse_compound, write_compound, RtcpPacket};
pub use header::{Header, RtcpError, HEADER_LEN, PT_APP, PT_BYE, PT_RR, PT_SDES, PT_SR};
pub use report_block::{ReportBlock, CUMULATIVE_LOST_MAX, CUMULATIVE_LOST_MIN, REPORT_BLOCK_LEN};
pub use rr::ReceiverReport;
pub use sdes::{Sdes, SdesChunk, SdesItem};
pub use sr::{ntp_from_unix, SenderReport, NTP_UNIX_OFFSET_SECS};
