//! Multicast group allocation: each path read by multicast gets one group per track from
//! `multicastIPRange`, shared by all of its multicast readers, released with the last one.

use super::MulticastGroup;
use crate::media::StreamItem;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// TTL announced and used for multicast packets.
pub const MULTICAST_TTL: u8 = 16;

#[derive(Debug)]
struct PathGroups {
    groups: SmallVec<[MulticastGroup; 4]>,
    readers: usize,
}

/// The multicast groups of every path.
#[derive(Debug)]
pub struct MulticastGroups {
    range: (Ipv4Addr, u8),
    rtp_port: u16,
    rtcp_port: u16,
    next: u32,
    paths: HashMap<String, PathGroups>,
}

impl MulticastGroups {
    /// Groups from `range` (first address, prefix length) on these ports.
    pub fn new(range: (Ipv4Addr, u8), rtp_port: u16, rtcp_port: u16) -> MulticastGroups {
        MulticastGroups {
            range,
            rtp_port,
            rtcp_port,
            next: 0,
            paths: HashMap::new(),
        }
    }

    /// The groups of `path`, one per track, allocated on first use.
    pub fn groups_for(&mut self, path: &str, tracks: usize) -> SmallVec<[MulticastGroup; 4]> {
        if let Some(existing) = self.paths.get(path) {
            return existing.groups.clone();
        }
        let (base, prefix) = self.range;
        let size = if prefix >= 32 {
            1
        } else {
            1u32 << (32 - prefix)
        };
        let mut allocated = SmallVec::new();
        for _ in 0..tracks {
            // Offset 0 (the network address itself) is skipped.
            self.next = self.next.wrapping_add(1);
            let offset = (self.next % size.max(2)).max(1);
            allocated.push(MulticastGroup {
                address: IpAddr::V4(Ipv4Addr::from(u32::from(base).wrapping_add(offset))),
                rtp_port: self.rtp_port,
                rtcp_port: self.rtcp_port,
                ttl: MULTICAST_TTL,
            });
        }
        self.paths.insert(
            path.to_owned(),
            PathGroups {
                groups: allocated.clone(),
                readers: 0,
            },
        );
        allocated
    }

    /// Counts a multicast reader of `path`; true for the first (start sending).
    pub fn add_reader(&mut self, path: &str, tracks: usize) -> bool {
        self.groups_for(path, tracks);
        match self.paths.get_mut(path) {
            Some(e) => {
                e.readers += 1;
                e.readers == 1
            }
            None => false,
        }
    }

    /// Uncounts a multicast reader of `path`; true for the last (stop sending; the groups are
    /// released).
    pub fn remove_reader(&mut self, path: &str) -> bool {
        let Some(e) = self.paths.get_mut(path) else {
            return false;
        };
        e.readers = e.readers.saturating_sub(1);
        if e.readers == 0 {
            self.paths.remove(path);
            return true;
        }
        false
    }
}

/// Hands each datagram of `item` to `f` with its group address: RTP packets to the track's
/// RTP port, RTCP to its RTCP port.
pub fn multicast_datagrams<'a>(
    item: &'a StreamItem,
    groups: &[MulticastGroup],
    mut f: impl FnMut(&'a [u8], SocketAddr),
) {
    match item {
        StreamItem::Unit(u) => {
            if let Some(g) = groups.get(u.track) {
                let to = SocketAddr::new(g.address, g.rtp_port);
                for p in &u.rtp {
                    f(&p.raw, to);
                }
            }
        }
        StreamItem::Rtcp { track, packet } => {
            if let Some(g) = groups.get(*track) {
                f(packet, SocketAddr::new(g.address, g.rtcp_port));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_shared_and_released_with_the_last_reader() {
        let mut m = MulticastGroups::new((Ipv4Addr::new(239, 1, 0, 0), 16), 8002, 8003);
        let g = m.groups_for("cam", 2);
        assert_eq!(g.len(), 2);
        assert_ne!(g[0].address, g[1].address);
        assert!(m.add_reader("cam", 2));
        assert!(!m.add_reader("cam", 2));
        assert_eq!(m.groups_for("cam", 2), g);
        assert!(!m.remove_reader("cam"));
        assert!(m.remove_reader("cam"));
        assert!(!m.remove_reader("cam"));
    }

    #[test]
    fn addresses_stay_in_the_range_and_skip_the_network_address() {
        let mut m = MulticastGroups::new((Ipv4Addr::new(239, 9, 9, 0), 30), 1, 2);
        for i in 0..20 {
            for g in m.groups_for(&format!("p{i}"), 1) {
                let IpAddr::V4(a) = g.address else { panic!() };
                let off = u32::from(a) - u32::from(Ipv4Addr::new(239, 9, 9, 0));
                assert!((1..4).contains(&off), "{a}");
            }
        }
    }
}
