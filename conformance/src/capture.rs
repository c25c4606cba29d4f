//! Reading pcap and pcapng files (with `pcap-file`'s slice parsers) into decoded packets:
//! timestamp since the capture's start, addresses, and the TCP segment or UDP datagram.

use crate::link::{decode_frame, LinkType, SkipReason, Transport};
use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::TsResolution;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Why a capture could not be read at all.
#[derive(Debug)]
pub enum CaptureError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The data starts with neither a pcap nor a pcapng magic number.
    UnknownFormat {
        /// The first bytes of the data (up to 4).
        magic: Vec<u8>,
    },
    /// The file header (pcap global header, pcapng section header) is malformed.
    Header(String),
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            CaptureError::UnknownFormat { magic } => {
                write!(f, "not a pcap or pcapng file (starts with {magic:02x?})")
            }
            CaptureError::Header(what) => write!(f, "malformed capture header: {what}"),
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CaptureError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The container format of a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap format.
    Pcap,
    /// pcapng (next generation) format.
    PcapNg,
}

impl fmt::Display for CaptureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::PcapNg => "pcapng",
        })
    }
}

/// One frame of a capture file, before decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFrame<'a> {
    /// 1-based frame number, as Wireshark counts.
    pub number: usize,
    /// Absolute capture time (usually since the Unix epoch).
    pub time: Duration,
    /// Link type of the interface the frame was captured on.
    pub link: LinkType,
    /// The captured bytes.
    pub data: &'a [u8],
    /// The frame's length on the wire (at least `data.len()` unless the file lies).
    pub original_len: u32,
}

/// The frames of a capture file.
#[derive(Clone, Debug)]
pub struct RawFrames<'a> {
    /// Container format.
    pub format: CaptureFormat,
    /// Frames in file order.
    pub frames: Vec<RawFrame<'a>>,
    /// Set when the file ends early or a record is malformed: reading stopped there and the
    /// frames before it are kept.
    pub truncated: Option<String>,
}

/// Splits a capture file (pcap or pcapng, detected by its magic number) into frames.
pub fn read_frames(data: &[u8]) -> Result<RawFrames<'_>, CaptureError> {
    match data.get(..4) {
        Some([0x0a, 0x0d, 0x0d, 0x0a]) => read_pcapng(data),
        Some([0xa1, 0xb2, 0xc3, 0xd4])
        | Some([0xd4, 0xc3, 0xb2, 0xa1])
        | Some([0xa1, 0xb2, 0x3c, 0x4d])
        | Some([0x4d, 0x3c, 0xb2, 0xa1]) => read_pcap(data),
        _ => Err(CaptureError::UnknownFormat {
            magic: data.iter().take(4).copied().collect(),
        }),
    }
}

fn read_pcap(data: &[u8]) -> Result<RawFrames<'_>, CaptureError> {
    let (mut rest, parser) =
        PcapParser::new(data).map_err(|e| CaptureError::Header(e.to_string()))?;
    let header = parser.header();
    // The upper bits of the link type field may carry FCS information.
    let link = LinkType(u32::from(header.datalink) & 0xffff);
    let nanos_per_unit: u64 = match header.ts_resolution {
        TsResolution::MicroSecond => 1_000,
        TsResolution::NanoSecond => 1,
    };
    let mut frames = Vec::new();
    let mut truncated = None;
    while !rest.is_empty() {
        match parser.next_raw_packet(rest) {
            Ok((next, raw)) => {
                rest = next;
                let std::borrow::Cow::Borrowed(bytes) = raw.data else {
                    truncated = Some("pcap-file returned an owned record".to_string());
                    break;
                };
                let time = Duration::from_secs(u64::from(raw.ts_sec))
                    + Duration::from_nanos(u64::from(raw.ts_frac) * nanos_per_unit);
                frames.push(RawFrame {
                    number: frames.len() + 1,
                    time,
                    link,
                    data: bytes,
                    original_len: raw.orig_len,
                });
            }
            Err(e) => {
                truncated = Some(format!(
                    "after frame {}, {} bytes left: {e}",
                    frames.len(),
                    rest.len()
                ));
                break;
            }
        }
    }
    Ok(RawFrames {
        format: CaptureFormat::Pcap,
        frames,
        truncated,
    })
}

/// Timestamp conversion of one pcapng interface.
#[derive(Clone, Copy)]
struct Clock {
    /// Timestamp units per second (10^n or 2^n from `if_tsresol`).
    units_per_second: u128,
    /// `if_tsoffset`, in seconds.
    offset: u64,
}

impl Clock {
    fn from_options(options: &[InterfaceDescriptionOption<'_>]) -> Clock {
        let mut clock = Clock {
            units_per_second: 1_000_000,
            offset: 0,
        };
        for option in options {
            match *option {
                InterfaceDescriptionOption::IfTsResol(resolution) => {
                    let exponent = u32::from(resolution & 0x7f);
                    let base: u128 = if resolution & 0x80 != 0 { 2 } else { 10 };
                    // Resolutions finer than 2^-64 s or 10^-19 s are not meaningful.
                    if let Some(units) = base.checked_pow(exponent).filter(|u| *u <= 1 << 64) {
                        clock.units_per_second = units.max(1);
                    }
                }
                InterfaceDescriptionOption::IfTsOffset(offset) => clock.offset = offset,
                _ => {}
            }
        }
        clock
    }

    fn time(self, raw: u64) -> Duration {
        let raw = u128::from(raw);
        let seconds = raw / self.units_per_second;
        let nanos = (raw % self.units_per_second) * 1_000_000_000 / self.units_per_second;
        let seconds = u64::try_from(seconds)
            .unwrap_or(u64::MAX)
            .saturating_add(self.offset);
        // nanos < 10^9 by construction.
        Duration::from_secs(seconds).saturating_add(Duration::from_nanos(nanos as u64))
    }
}

fn read_pcapng(data: &[u8]) -> Result<RawFrames<'_>, CaptureError> {
    let (mut rest, mut parser) =
        PcapNgParser::new(data).map_err(|e| CaptureError::Header(e.to_string()))?;
    let mut interfaces: Vec<(LinkType, Clock)> = Vec::new();
    let mut frames: Vec<RawFrame<'_>> = Vec::new();
    let mut truncated = None;
    while !rest.is_empty() {
        let (next, block) = match parser.next_block(rest) {
            Ok(ok) => ok,
            Err(e) => {
                truncated = Some(format!(
                    "after frame {}, {} bytes left: {e}",
                    frames.len(),
                    rest.len()
                ));
                break;
            }
        };
        rest = next;
        let (interface, raw_time, bytes, original_len) = match block {
            Block::SectionHeader(_) => {
                interfaces.clear();
                continue;
            }
            Block::InterfaceDescription(idb) => {
                let link = LinkType(u32::from(idb.linktype) & 0xffff);
                interfaces.push((link, Clock::from_options(&idb.options)));
                continue;
            }
            Block::EnhancedPacket(epb) => {
                // pcap-file stores the raw 64-bit timestamp as if it were nanoseconds.
                let raw = u64::try_from(epb.timestamp.as_nanos()).unwrap_or(u64::MAX);
                (
                    epb.interface_id as usize,
                    Some(raw),
                    epb.data,
                    epb.original_len,
                )
            }
            Block::Packet(pb) => (
                usize::from(pb.interface_id),
                Some(pb.timestamp),
                pb.data,
                pb.original_len,
            ),
            Block::SimplePacket(spb) => (0, None, spb.data, spb.original_len),
            _ => continue,
        };
        let std::borrow::Cow::Borrowed(bytes) = bytes else {
            truncated = Some("pcap-file returned an owned block".to_string());
            break;
        };
        let Some(&(link, clock)) = interfaces.get(interface) else {
            truncated = Some(format!(
                "frame {} names interface {interface}, which is not described",
                frames.len() + 1
            ));
            break;
        };
        // A simple packet block has no timestamp: it inherits the previous frame's.
        let time = match raw_time {
            Some(raw) => clock.time(raw),
            None => frames.last().map_or(Duration::ZERO, |f| f.time),
        };
        frames.push(RawFrame {
            number: frames.len() + 1,
            time,
            link,
            data: bytes,
            original_len,
        });
    }
    Ok(RawFrames {
        format: CaptureFormat::PcapNg,
        frames,
        truncated,
    })
}

/// A decoded TCP or UDP packet of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// 1-based frame number in the file.
    pub number: usize,
    /// Time since the capture's earliest frame.
    pub timestamp: Duration,
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// The TCP segment or UDP datagram.
    pub transport: Transport,
}

/// A frame that yielded no packet, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedFrame {
    /// 1-based frame number in the file.
    pub number: usize,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// The decoded packets of a capture file.
#[derive(Clone, Debug)]
pub struct Packets {
    /// Container format.
    pub format: CaptureFormat,
    /// Link types of the capture's interfaces, in order of appearance, without repeats.
    pub link_types: Vec<LinkType>,
    /// Absolute time of the earliest frame; packet timestamps count from it.
    pub start: Duration,
    /// Number of frames in the file.
    pub frames: usize,
    /// TCP and UDP packets in file order.
    pub packets: Vec<Packet>,
    /// Frames that were not TCP or UDP over IP, or could not be decoded.
    pub skipped: Vec<SkippedFrame>,
    /// Set when the file ends early or a record is malformed (see [`RawFrames::truncated`]).
    pub truncated: Option<String>,
}

/// Reads a capture file's bytes and decodes every frame; never panics on any input.
pub fn read_packets(data: &[u8]) -> Result<Packets, CaptureError> {
    let raw = read_frames(data)?;
    let start = raw
        .frames
        .iter()
        .map(|f| f.time)
        .min()
        .unwrap_or(Duration::ZERO);
    let mut link_types = Vec::new();
    let mut packets = Vec::new();
    let mut skipped = Vec::new();
    for frame in &raw.frames {
        if !link_types.contains(&frame.link) {
            link_types.push(frame.link);
        }
        match decode_frame(frame.link, frame.data) {
            Ok(decoded) => packets.push(Packet {
                number: frame.number,
                timestamp: frame.time.saturating_sub(start),
                src: decoded.src,
                dst: decoded.dst,
                transport: decoded.transport,
            }),
            Err(reason) => skipped.push(SkippedFrame {
                number: frame.number,
                reason,
            }),
        }
    }
    Ok(Packets {
        format: raw.format,
        link_types,
        start,
        frames: raw.frames.len(),
        packets,
        skipped,
        truncated: raw.truncated,
    })
}
