//! UDP multicast delivery: one group per path, one sender task per group shared by all of the
//! path's multicast readers (each packet is sent once, whatever the number of readers).

use crate::hub::lock;
use crate::stream::SharedStream;
use crate::READ_BATCH;
use smallvec::SmallVec;
use socket2::{Domain, Protocol, Socket, Type};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use weir_core::media::StreamItem;
use weir_core::rtsp::server::MulticastGroup;
use weir_core::settings::RtspSettings;

/// TTL announced and used for multicast packets.
const MULTICAST_TTL: u8 = 16;

struct PathGroups {
    groups: SmallVec<[MulticastGroup; 4]>,
    readers: usize,
    sender: Option<JoinHandle<()>>,
}

/// The multicast groups of all paths.
pub(crate) struct Multicast {
    range: (Ipv4Addr, u8),
    rtp_port: u16,
    rtcp_port: u16,
    interface: Ipv4Addr,
    groups: Mutex<(u32, HashMap<String, PathGroups>)>,
}

impl Multicast {
    pub fn new(settings: &RtspSettings, rtsp_ip: IpAddr) -> std::io::Result<Multicast> {
        let interface = match rtsp_ip {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        };
        Ok(Multicast {
            range: settings.multicast_range,
            rtp_port: settings.multicast_rtp_port,
            rtcp_port: settings.multicast_rtcp_port,
            interface,
            groups: Mutex::new((0, HashMap::new())),
        })
    }

    /// The groups of `path`, one per track, allocated from `multicastIPRange` on first use.
    pub fn groups_for(&self, path: &str, tracks: usize) -> SmallVec<[MulticastGroup; 4]> {
        let mut g = lock(&self.groups);
        let (next, groups) = &mut *g;
        if let Some(existing) = groups.get(path) {
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
            *next = next.wrapping_add(1);
            let offset = (*next % size.max(2)).max(1);
            allocated.push(MulticastGroup {
                address: IpAddr::V4(Ipv4Addr::from(u32::from(base).wrapping_add(offset))),
                rtp_port: self.rtp_port,
                rtcp_port: self.rtcp_port,
                ttl: MULTICAST_TTL,
            });
        }
        groups.insert(
            path.to_owned(),
            PathGroups {
                groups: allocated.clone(),
                readers: 0,
                sender: None,
            },
        );
        allocated
    }

    /// Adds a multicast reader of `stream`; starts the path's sender with the first one.
    pub fn add_reader(&self, stream: &Arc<SharedStream>) {
        let groups = self.groups_for(&stream.path, stream.description.tracks.len());
        let mut g = lock(&self.groups);
        let Some(entry) = g.1.get_mut(&stream.path) else {
            return;
        };
        entry.readers += 1;
        if entry.sender.is_none() {
            entry.sender = Some(tokio::spawn(send_loop(
                stream.clone(),
                groups,
                self.interface,
            )));
        }
    }

    /// Removes a multicast reader of `path`; stops the sender with the last one.
    pub fn remove_reader(&self, path: &str) {
        let mut g = lock(&self.groups);
        if let Some(entry) = g.1.get_mut(path) {
            entry.readers = entry.readers.saturating_sub(1);
            if entry.readers == 0 {
                if let Some(h) = entry.sender.take() {
                    h.abort();
                }
                g.1.remove(path);
            }
        }
    }
}

fn sender_socket(interface: Ipv4Addr) -> std::io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_multicast_if_v4(&interface)?;
    s.set_multicast_loop_v4(true)?;
    s.set_multicast_ttl_v4(u32::from(MULTICAST_TTL))?;
    s.bind(&SocketAddr::new(IpAddr::V4(interface), 0).into())?;
    s.set_nonblocking(true)?;
    UdpSocket::from_std(s.into())
}

async fn send_loop(
    stream: Arc<SharedStream>,
    groups: SmallVec<[MulticastGroup; 4]>,
    interface: Ipv4Addr,
) {
    let sock = match sender_socket(interface) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(
                "[RTSP] multicast sender for path '{}' failed: {e}",
                stream.path
            );
            return;
        }
    };
    let rtp_to = |t: usize| {
        groups
            .get(t)
            .map(|g| SocketAddr::new(g.address, g.rtp_port))
    };
    let rtcp_to = |t: usize| {
        groups
            .get(t)
            .map(|g| SocketAddr::new(g.address, g.rtcp_port))
    };
    let (mut seq_rx, _) = stream.subscribe();
    let mut cursor = stream.join();
    let mut batch = Vec::with_capacity(READ_BATCH);
    loop {
        seq_rx.borrow_and_update();
        loop {
            batch.clear();
            stream.read(&mut cursor, READ_BATCH, &mut batch);
            if batch.is_empty() {
                break;
            }
            for item in &batch {
                let sent = match item {
                    StreamItem::Unit(u) => {
                        let mut r = Ok(0);
                        if let Some(to) = rtp_to(u.track) {
                            for p in &u.rtp {
                                r = sock.send_to(&p.raw, to).await;
                            }
                        }
                        r
                    }
                    StreamItem::Rtcp { track, packet } => match rtcp_to(*track) {
                        Some(to) => sock.send_to(packet, to).await,
                        None => Ok(0),
                    },
                };
                if let Err(e) = sent {
                    tracing::debug!("[RTSP] multicast send failed: {e}");
                }
            }
        }
        if stream.is_closed() || seq_rx.changed().await.is_err() {
            return;
        }
    }
}
