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
use weir_core::rtsp::server::{
    multicast_datagrams, MulticastGroup, MulticastGroups, MULTICAST_TTL,
};
use weir_core::settings::RtspSettings;

struct Entry {
    sender: JoinHandle<()>,
}

/// The multicast groups of all paths and their sender tasks.
pub(crate) struct Multicast {
    interface: Ipv4Addr,
    groups: Mutex<(MulticastGroups, HashMap<String, Entry>)>,
}

impl Multicast {
    pub fn new(settings: &RtspSettings, rtsp_ip: IpAddr) -> std::io::Result<Multicast> {
        let interface = match rtsp_ip {
            IpAddr::V4(v4) => v4,
            IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
        };
        let groups = MulticastGroups::new(
            settings.multicast_range,
            settings.multicast_rtp_port,
            settings.multicast_rtcp_port,
        );
        Ok(Multicast {
            interface,
            groups: Mutex::new((groups, HashMap::new())),
        })
    }

    /// The groups of `path`, one per track, allocated from `multicastIPRange` on first use.
    pub fn groups_for(&self, path: &str, tracks: usize) -> SmallVec<[MulticastGroup; 4]> {
        lock(&self.groups).0.groups_for(path, tracks)
    }

    /// Adds a multicast reader of `stream`; starts the path's sender with the first one.
    pub fn add_reader(&self, stream: &Arc<SharedStream>) {
        let mut g = lock(&self.groups);
        let (groups, senders) = &mut *g;
        let tracks = stream.description.tracks.len();
        if groups.add_reader(&stream.path, tracks) {
            let list = groups.groups_for(&stream.path, tracks);
            let sender = tokio::spawn(send_loop(stream.clone(), list, self.interface));
            senders.insert(stream.path.clone(), Entry { sender });
        }
    }

    /// Removes a multicast reader of `path`; stops the sender with the last one.
    pub fn remove_reader(&self, path: &str) {
        let mut g = lock(&self.groups);
        let (groups, senders) = &mut *g;
        if groups.remove_reader(path) {
            if let Some(e) = senders.remove(path) {
                e.sender.abort();
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
                let mut sends: SmallVec<[(&[u8], SocketAddr); 8]> = SmallVec::new();
                multicast_datagrams(item, &groups, |d, to| sends.push((d, to)));
                for (d, to) in sends {
                    if let Err(e) = sock.send_to(d, to).await {
                        tracing::debug!("[RTSP] multicast send failed: {e}");
                    }
                }
            }
        }
        if stream.is_closed() || seq_rx.changed().await.is_err() {
            return;
        }
    }
}
