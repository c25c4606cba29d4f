//! weir-conformance: replays captured real-world traffic (pcap) against a weir on each runtime
//! and checks its answers and forwarded media.
//!
//! # Reading captures
//!
//! pcap/pcapng files are decoded down to TCP and UDP ([`capture`], [`link`]), TCP connections
//! are reassembled with missing bytes flagged ([`tcp`]), and flows are classified and tied to
//! the RTSP sessions that negotiated them ([`flows`], [`rtsp`]). [`Capture`] puts it together.
//!
//! # Replaying them
//!
//! [`runtime::Weir`] starts weir in-process on ephemeral 127.0.0.1 ports, on either
//! [`runtime::Runtime`]: `weir_tokio::Server` on its own tokio runtime or `weir_mio::Server` on
//! its own thread. [`replay::replay`] replays every client flow of a capture against a fresh
//! server each, doing the rewriting a live replay needs:
//!
//! - **RTSP publishers** (ANNOUNCE/SETUP/RECORD): requests in order, each answer's status
//!   compared with the original server's (by CSeq); URL authority, Session id and UDP
//!   `client_port` rewritten (local sockets stand in for the client's); then the captured RTP,
//!   interleaved or as the datagrams of the UDP flows the SETUPs negotiated. A reader of the
//!   path, attached at RECORD, checks every RTP payload arrives intact and in order.
//! - **RTSP readers** (DESCRIBE/SETUP/PLAY): what the original server sent (its DESCRIBE
//!   answer and RTP) is first published into weir by the replay's own publisher, then the
//!   reader's requests are replayed (SETUP URLs mapped onto weir's control URLs), and its
//!   media must arrive.
//! - **RTMP publishers**: C0 and C1 as captured, C2 = weir's S1, then the client's byte stream
//!   as captured (re-encoded only if weir's stream id differs); the answers (`_result` /
//!   `_error` by transaction id, `onStatus` codes) are compared, and an RTMP player written
//!   with weir-core's chunk codec checks the FLV tag bodies. **RTMP players** are replayed
//!   after publishing the media the original server sent them.
//! - **HLS fetches** are live, so they are replayed at the capture's pace together with the
//!   capture's own publisher of the path, each request once the answers it followed in the
//!   capture were replayed; without a publisher in the capture: *not replayable*.
//! - **Bare RTP** (no RTSP session captured) is published with an SDP inferred from its
//!   payloads when they are recognisably H.264 or H.265.
//!
//! Each flow gets a [`replay::Verdict`]: pass, fail (with reasons), known difference (with
//! the explanation), or not replayable (with why). Replays run as fast as possible, or paced
//! by the capture's timing ([`replay::Options`]).
//!
//! # The report
//!
//! [`report`] replays every capture of a folder on both runtimes, compares the runtimes
//! (verdicts and the fingerprints of the media each checking reader received must be equal)
//! and writes a markdown table, case × runtime × verdict, with each known difference
//! explained: `cargo test -p weir-conformance --test replay` writes `conformance/REPORT.md`
//! and fails on any failed flow or runtime mismatch. From the command line:
//! `weir-conformance replay FILE [--runtime tokio|mio|both] [--paced] [-v] [--log debug]`.
//! `conformance/scripts/capture.sh` records the team's own captures (ffmpeg, GStreamer,
//! against weir and reference servers).
#![forbid(unsafe_code)]

pub mod capture;
pub mod flows;
pub mod link;
pub mod replay;
pub mod report;
pub mod rtsp;
pub mod runtime;
mod summary;
pub mod tcp;

pub use capture::{CaptureError, CaptureFormat, Packet, Packets};
pub use flows::{Datagram, Protocol, RtspSetup, TcpFlow, UdpFlow, UdpKind};
pub use link::{LinkType, TcpFlags, TcpSegment, Transport, UdpDatagram};
pub use tcp::{Chunk, Gap, HalfStream, TcpConnection};

use std::path::{Path, PathBuf};

/// A capture file read, reassembled and classified.
#[derive(Clone, Debug)]
pub struct Capture {
    path: Option<PathBuf>,
    packets: Packets,
    tcp: Vec<TcpFlow>,
    udp: Vec<UdpFlow>,
    setups: Vec<Vec<RtspSetup>>,
}

impl Capture {
    /// Reads the pcap or pcapng file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Capture, CaptureError> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|source| CaptureError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut capture = Capture::from_bytes(&data)?;
        capture.path = Some(path.to_path_buf());
        Ok(capture)
    }

    /// Reads a capture from the bytes of a pcap or pcapng file.
    pub fn from_bytes(data: &[u8]) -> Result<Capture, CaptureError> {
        Ok(Capture::from_packets(capture::read_packets(data)?))
    }

    /// Builds a capture from already decoded packets (reassembles and classifies them).
    pub fn from_packets(packets: Packets) -> Capture {
        let tcp: Vec<TcpFlow> = tcp::reassemble(&packets.packets)
            .into_iter()
            .map(|connection| TcpFlow {
                protocol: flows::classify(&connection),
                connection,
            })
            .collect();
        let mut udp = flows::udp_flows(&packets.packets);
        let mut setups: Vec<Vec<RtspSetup>> = tcp
            .iter()
            .map(|flow| match flow.protocol {
                Protocol::Rtsp => flows::rtsp_setups(flow),
                _ => Vec::new(),
            })
            .collect();
        flows::associate(&tcp, &mut setups, &mut udp);
        Capture {
            path: None,
            packets,
            tcp,
            udp,
            setups,
        }
    }

    /// The file the capture was read from, if it was read from a file.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The decoded packets and what the file held besides (format, link types, skipped
    /// frames, truncation).
    pub fn packets(&self) -> &Packets {
        &self.packets
    }

    /// The TCP connections, in order of their first segment.
    pub fn tcp_flows(&self) -> &[TcpFlow] {
        &self.tcp
    }

    /// The UDP flows, in order of their first datagram.
    pub fn udp_flows(&self) -> &[UdpFlow] {
        &self.udp
    }

    /// The SETUPs of TCP flow `tcp_flow` (empty unless it is RTSP).
    pub fn rtsp_setups(&self, tcp_flow: usize) -> &[RtspSetup] {
        self.setups.get(tcp_flow).map_or(&[], Vec::as_slice)
    }

    /// A human-readable table of the capture's flows: protocol, bytes and packets each way,
    /// gaps, and the UDP flows with the RTSP SETUPs that negotiated them.
    pub fn summary(&self) -> String {
        summary::summary(self)
    }

    /// The summary followed by each RTSP flow's messages and each flow's gaps.
    pub fn details(&self) -> String {
        summary::details(self)
    }
}
