//! Decoding of one captured frame: the link layer (Ethernet, Linux cooked SLL/SLL2, raw IP,
//! BSD loopback/null), then IPv4/IPv6 and TCP/UDP with etherparse's lax slicer, so frames cut
//! short by the capture's snap length still yield their headers and the bytes that were kept.

use etherparse::{EtherType, LaxIpPayloadSlice, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// A link-layer header type, numbered as in tcpdump's `LINKTYPE_*` registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II (with optional VLAN tags).
    pub const ETHERNET: LinkType = LinkType(1);
    /// Raw IP as some systems number it (`DLT_RAW` on most BSDs).
    pub const RAW_BSD: LinkType = LinkType(12);
    /// Raw IP as OpenBSD numbers it.
    pub const RAW_OPENBSD: LinkType = LinkType(14);
    /// Raw IPv4 or IPv6, told apart by the version nibble.
    pub const RAW: LinkType = LinkType(101);
    /// OpenBSD loopback: a 4-byte address family in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux cooked capture, version 1 (16-byte header).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4 only.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux cooked capture, version 2 (20-byte header).
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// Whether [`decode_frame`] understands this link type.
    pub fn is_supported(self) -> bool {
        self.name().is_some()
    }

    /// A short human name of the link type, if it is one [`decode_frame`] understands.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "null/loopback",
            LinkType::ETHERNET => "Ethernet",
            LinkType::RAW | LinkType::RAW_BSD | LinkType::RAW_OPENBSD => "raw IP",
            LinkType::LOOP => "OpenBSD loopback",
            LinkType::LINUX_SLL => "Linux cooked v1",
            LinkType::IPV4 => "raw IPv4",
            LinkType::IPV6 => "raw IPv6",
            LinkType::LINUX_SLL2 => "Linux cooked v2",
            _ => return None,
        })
    }
}

impl fmt::Display for LinkType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.0),
            None => write!(f, "link type {}", self.0),
        }
    }
}

/// The TCP flags the reassembler looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TcpFlags {
    /// SYN: opens a connection; occupies one sequence number.
    pub syn: bool,
    /// ACK: the acknowledgement number is valid.
    pub ack: bool,
    /// FIN: the sender has finished; occupies one sequence number.
    pub fin: bool,
    /// RST: the connection is aborted.
    pub rst: bool,
    /// PSH: push the data to the application.
    pub psh: bool,
}

impl fmt::Display for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (self.syn, "SYN"),
            (self.fin, "FIN"),
            (self.rst, "RST"),
            (self.psh, "PSH"),
            (self.ack, "ACK"),
        ];
        let mut first = true;
        for (set, name) in names {
            if set {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// One TCP segment as captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSegment {
    /// Sequence number of the first byte (of the SYN, when `flags.syn`).
    pub seq: u32,
    /// Acknowledgement number (meaningful when `flags.ack`).
    pub ack: u32,
    /// The flags.
    pub flags: TcpFlags,
    /// The payload bytes the capture kept.
    pub payload: Vec<u8>,
    /// Payload bytes the segment carried on the wire that the capture cut off (snap length).
    pub missing: u32,
}

impl TcpSegment {
    /// Sequence space the payload occupied on the wire (captured plus cut-off bytes).
    pub fn wire_len(&self) -> u64 {
        self.payload.len() as u64 + u64::from(self.missing)
    }
}

/// One UDP datagram as captured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpDatagram {
    /// The payload bytes the capture kept.
    pub payload: Vec<u8>,
    /// Payload bytes the datagram carried on the wire that the capture cut off.
    pub missing: u32,
}

/// The transport layer of a decoded frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// A TCP segment.
    Tcp(TcpSegment),
    /// A UDP datagram.
    Udp(UdpDatagram),
}

/// A frame decoded down to its transport layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedFrame {
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// The TCP segment or UDP datagram.
    pub transport: Transport,
}

/// Why a frame yielded no TCP segment or UDP datagram.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// The capture's link type is not one this crate decodes.
    UnsupportedLink(LinkType),
    /// The frame carries something other than IPv4/IPv6 (ARP, LLDP, ...).
    NotIp,
    /// An IP fragment (reassembly of IP fragments is not done).
    Fragment,
    /// IP carrying something other than TCP or UDP (ICMP, ...).
    OtherTransport,
    /// A header was malformed or cut off; the text says which.
    Malformed(String),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::UnsupportedLink(link) => write!(f, "unsupported {link}"),
            SkipReason::NotIp => f.write_str("not IP"),
            SkipReason::Fragment => f.write_str("IP fragment"),
            SkipReason::OtherTransport => f.write_str("neither TCP nor UDP"),
            SkipReason::Malformed(what) => write!(f, "malformed: {what}"),
        }
    }
}

/// Decodes one frame of a capture whose link type is `link`; never panics on any input.
pub fn decode_frame(link: LinkType, frame: &[u8]) -> Result<DecodedFrame, SkipReason> {
    let sliced = match link {
        LinkType::ETHERNET => LaxSlicedPacket::from_ethernet(frame)
            .map_err(|e| SkipReason::Malformed(format!("Ethernet: {e}")))?,
        LinkType::RAW | LinkType::RAW_BSD | LinkType::RAW_OPENBSD => from_ip(frame)?,
        LinkType::IPV4 => match frame.first() {
            Some(b) if b >> 4 == 4 => from_ip(frame)?,
            _ => return Err(SkipReason::Malformed("not an IPv4 header".into())),
        },
        LinkType::IPV6 => match frame.first() {
            Some(b) if b >> 4 == 6 => from_ip(frame)?,
            _ => return Err(SkipReason::Malformed("not an IPv6 header".into())),
        },
        LinkType::NULL | LinkType::LOOP => {
            let (family, rest) = split_at_checked(frame, 4)
                .ok_or_else(|| SkipReason::Malformed("loopback header cut off".into()))?;
            let family: [u8; 4] = family.try_into().unwrap_or_default();
            let known = |v: u32| matches!(v, 2 | 10 | 24 | 28 | 30);
            if !known(u32::from_le_bytes(family)) && !known(u32::from_be_bytes(family)) {
                return Err(SkipReason::NotIp);
            }
            from_ip(rest)?
        }
        LinkType::LINUX_SLL => {
            // packet type (2), ARPHRD (2), address length (2), address (8), protocol (2).
            // Parsed by hand: etherparse refuses ARPHRD values such as loopback (772).
            let (header, rest) = split_at_checked(frame, 16)
                .ok_or_else(|| SkipReason::Malformed("Linux cooked header cut off".into()))?;
            let arphrd = u16::from_be_bytes([header[2], header[3]]);
            if arphrd == ARPHRD_NETLINK {
                return Err(SkipReason::NotIp);
            }
            let protocol = u16::from_be_bytes([header[14], header[15]]);
            LaxSlicedPacket::from_ether_type(EtherType(protocol), rest)
        }
        LinkType::LINUX_SLL2 => {
            // protocol type (2), reserved (2), interface index (4), ARPHRD (2), packet type (1),
            // address length (1), address (8).
            let (header, rest) = split_at_checked(frame, 20)
                .ok_or_else(|| SkipReason::Malformed("Linux cooked v2 header cut off".into()))?;
            let arphrd = u16::from_be_bytes([header[8], header[9]]);
            if arphrd == ARPHRD_NETLINK {
                return Err(SkipReason::NotIp);
            }
            let protocol = u16::from_be_bytes([header[0], header[1]]);
            LaxSlicedPacket::from_ether_type(EtherType(protocol), rest)
        }
        other => return Err(SkipReason::UnsupportedLink(other)),
    };
    from_sliced(&sliced)
}

/// Linux `ARPHRD_NETLINK`: the cooked header's protocol field is then a netlink family.
const ARPHRD_NETLINK: u16 = 824;

fn split_at_checked(data: &[u8], at: usize) -> Option<(&[u8], &[u8])> {
    (data.len() >= at).then(|| data.split_at(at))
}

fn from_ip(data: &[u8]) -> Result<LaxSlicedPacket<'_>, SkipReason> {
    LaxSlicedPacket::from_ip(data).map_err(|e| SkipReason::Malformed(format!("IP: {e}")))
}

fn from_sliced(sliced: &LaxSlicedPacket<'_>) -> Result<DecodedFrame, SkipReason> {
    let Some(net) = &sliced.net else {
        if let Some((err, layer)) = &sliced.stop_err {
            return Err(SkipReason::Malformed(format!("{layer}: {err}")));
        }
        return Err(SkipReason::NotIp);
    };
    let (src_ip, dst_ip, payload, claimed): (IpAddr, IpAddr, &LaxIpPayloadSlice<'_>, usize) =
        match net {
            LaxNetSlice::Ipv4(ip) => {
                let header = ip.header();
                let extensions = ip.extensions().auth.map_or(0, |auth| auth.slice().len());
                let claimed = usize::from(header.total_len())
                    .saturating_sub(header.slice().len() + extensions);
                (
                    header.source_addr().into(),
                    header.destination_addr().into(),
                    ip.payload(),
                    claimed,
                )
            }
            LaxNetSlice::Ipv6(ip) => {
                let header = ip.header();
                let claimed = usize::from(header.payload_length())
                    .saturating_sub(ip.extensions().slice().len());
                (
                    header.source_addr().into(),
                    header.destination_addr().into(),
                    ip.payload(),
                    claimed,
                )
            }
        };
    if payload.fragmented {
        return Err(SkipReason::Fragment);
    }
    // Bytes of the IP payload the capture cut off (0 when the frame is whole, or when the
    // length field is 0 as in captures of TCP segmentation offload).
    let cut = if payload.incomplete {
        claimed.saturating_sub(payload.payload.len())
    } else {
        0
    };
    let cut = u32::try_from(cut).unwrap_or(u32::MAX);
    let transport = match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => Transport::Tcp(TcpSegment {
            seq: tcp.sequence_number(),
            ack: tcp.acknowledgment_number(),
            flags: TcpFlags {
                syn: tcp.syn(),
                ack: tcp.ack(),
                fin: tcp.fin(),
                rst: tcp.rst(),
                psh: tcp.psh(),
            },
            payload: tcp.payload().to_vec(),
            missing: cut,
        }),
        Some(TransportSlice::Udp(udp)) => Transport::Udp(UdpDatagram {
            payload: udp.payload().to_vec(),
            missing: cut,
        }),
        Some(_) => return Err(SkipReason::OtherTransport),
        None => {
            return Err(match &sliced.stop_err {
                Some((err, layer)) => SkipReason::Malformed(format!("{layer}: {err}")),
                None => SkipReason::OtherTransport,
            })
        }
    };
    let (src_port, dst_port) = match &sliced.transport {
        Some(TransportSlice::Tcp(tcp)) => (tcp.source_port(), tcp.destination_port()),
        Some(TransportSlice::Udp(udp)) => (udp.source_port(), udp.destination_port()),
        _ => (0, 0),
    };
    Ok(DecodedFrame {
        src: SocketAddr::new(src_ip, src_port),
        dst: SocketAddr::new(dst_ip, dst_port),
        transport,
    })
}
