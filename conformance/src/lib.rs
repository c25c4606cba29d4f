//! weir-conformance: replays captured real-world traffic (pcap) against a weir on each runtime
//! and checks its answers and forwarded media. This half reads captures: pcap/pcapng files are
//! decoded down to TCP and UDP ([`capture`], [`link`]), TCP connections are reassembled with
//! missing bytes flagged ([`tcp`]), and flows are classified and tied to the RTSP sessions that
//! negotiated them ([`flows`], [`rtsp`]). [`Capture`] puts it together.
#![forbid(unsafe_code)]

pub mod capture;
pub mod flows;
pub mod link;
pub mod rtsp;
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
