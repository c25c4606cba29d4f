//! Media fingerprints: each packet (RTP payload, FLV tag body) hashed with MD5, a track's
//! packets kept in order, and the check that what a reader received is what was sent.

use super::verdict::Findings;
use md5::{Digest, Md5};
use std::fmt;

/// The MD5 of one packet's bytes.
pub type PacketHash = [u8; 16];

/// Hashes one packet.
pub fn packet_hash(data: &[u8]) -> PacketHash {
    Md5::digest(data).into()
}

/// One track's packets, in order, by hash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sequence {
    /// Each packet's hash.
    pub hashes: Vec<PacketHash>,
    /// Each packet's unit (the RTP timestamp of a sent RTP packet; its own index otherwise):
    /// packets of one unit (a video frame) share it.
    pub units: Vec<u64>,
    /// Total bytes.
    pub bytes: u64,
}

impl Sequence {
    /// Appends one packet that is a unit of its own (an FLV tag body, a received packet).
    pub fn push(&mut self, data: &[u8]) {
        let unit = self.hashes.len() as u64;
        self.push_unit(data, unit);
    }

    /// Appends one packet of unit `unit` (packets of a frame share their RTP timestamp).
    pub fn push_unit(&mut self, data: &[u8], unit: u64) {
        self.hashes.push(packet_hash(data));
        self.units.push(unit);
        self.bytes += data.len() as u64;
    }

    /// The number of packets at the end that belong to the last unit.
    pub fn last_unit_len(&self) -> usize {
        let last = self.units.last();
        self.units
            .iter()
            .rev()
            .take_while(|u| Some(*u) == last)
            .count()
    }

    /// The number of packets.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// How far it got: the number of packets and the first one's hash.
    pub fn progress(&self) -> Progress {
        (self.hashes.len(), self.hashes.first().copied())
    }

    /// Whether it holds no packet.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The fingerprint of the whole sequence under `track`'s name.
    pub fn digest(&self, track: &str) -> MediaDigest {
        let mut md5 = Md5::new();
        for h in &self.hashes {
            md5.update(h);
        }
        let sum: [u8; 16] = md5.finalize().into();
        MediaDigest {
            track: track.to_string(),
            packets: self.hashes.len(),
            bytes: self.bytes,
            md5: sum.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// How far a receiver got on one track: packets received and the first one's hash.
pub type Progress = (usize, Option<PacketHash>);

/// Waits until a receiver has, on every track, every packet sent from the one it started
/// at (the first sent packet equal to the first it received; an earlier duplicate only makes
/// the wait end at `idle`), then 100 ms more for stragglers; or until nothing arrived for
/// `idle`, or `max` passed. `progress()` reports each track's [`Progress`], in the order of
/// `sent`.
pub fn wait_for_media(
    mut progress: impl FnMut() -> Vec<Progress>,
    sent: &[&Sequence],
    idle: std::time::Duration,
    max: std::time::Duration,
) {
    use std::time::{Duration, Instant};
    let start = Instant::now();
    let mut last = progress();
    let mut last_change = Instant::now();
    let complete = |p: &[Progress]| {
        sent.iter().enumerate().all(|(i, s)| {
            p.get(i).is_some_and(|&(n, first)| {
                let start = first.and_then(|f| s.hashes.iter().position(|h| *h == f));
                n >= s.len() - start.unwrap_or(0)
            })
        })
    };
    while start.elapsed() < max && last_change.elapsed() < idle {
        if complete(&last) && last_change.elapsed() >= Duration::from_millis(100) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
        let now = progress();
        if now != last {
            last = now;
            last_change = Instant::now();
        }
    }
}

/// The fingerprint of what a reader received on one track.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MediaDigest {
    /// Which track (e.g. `track 0 (H264)`, `video`).
    pub track: String,
    /// Packets received.
    pub packets: usize,
    /// Bytes received.
    pub bytes: u64,
    /// MD5 over the packets' MD5s, in order.
    pub md5: String,
}

impl fmt::Display for MediaDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} packets, {} bytes, md5 {}",
            self.track,
            self.packets,
            self.bytes,
            &self.md5[..12.min(self.md5.len())]
        )
    }
}

/// Where a received sequence sits in the sent one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alignment {
    /// Sent packets before the first received one (a reader starts at a key frame).
    pub skipped_head: usize,
    /// Sent packets after the last received one.
    pub missing_tail: usize,
}

/// Finds `received` as one contiguous run of `sent`: the first position where it matches
/// entirely. `None` when it is not a run of `sent` (packets lost, altered or reordered).
pub fn align(sent: &Sequence, received: &Sequence) -> Option<Alignment> {
    let (s, r) = (&sent.hashes, &received.hashes);
    if r.is_empty() || r.len() > s.len() {
        return None;
    }
    (0..=s.len() - r.len())
        .find(|&k| s[k] == r[0] && s[k..k + r.len()] == r[..])
        .map(|k| Alignment {
            skipped_head: k,
            missing_tail: s.len() - k - r.len(),
        })
}

/// The index of the first received packet that breaks the run starting where the first
/// received packet was sent, for a failure message.
fn first_divergence(sent: &Sequence, received: &Sequence) -> String {
    let Some(start) = sent.hashes.iter().position(|h| *h == received.hashes[0]) else {
        return "the first received packet was never sent".into();
    };
    let at = received
        .hashes
        .iter()
        .zip(&sent.hashes[start..])
        .position(|(a, b)| a != b);
    match at {
        Some(i) => format!(
            "received packet {i} differs from sent packet {} (earlier ones matched from sent packet {start})",
            start + i
        ),
        None => format!(
            "{} packets received but only {} sent after sent packet {start}",
            received.len(),
            sent.len() - start
        ),
    }
}

/// Checks what a reader received on `track` against what was sent: a contiguous run of the
/// sent packets; a head skipped up to the reader's starting key frame (at most
/// `max_skipped_head` packets) and a missing tail within the last unit (a frame the capture
/// cut short, or that a server completes only when the next one starts) are accepted and
/// noted.
pub fn check_track(
    track: &str,
    sent: &Sequence,
    received: &Sequence,
    max_skipped_head: usize,
    findings: &mut Findings,
) {
    if sent.is_empty() {
        findings.note(format!("{track}: nothing sent"));
        return;
    }
    if received.is_empty() {
        findings.fail(format!(
            "{track}: none of the {} packets sent reached the reader",
            sent.len()
        ));
        return;
    }
    let Some(a) = align(sent, received) else {
        findings.fail(format!(
            "{track}: the {} packets received are not the {} sent, in order: {}",
            received.len(),
            sent.len(),
            first_divergence(sent, received)
        ));
        return;
    };
    findings.note(format!(
        "{track}: {} of {} packets received intact{}{}",
        received.len(),
        sent.len(),
        if a.skipped_head > 0 {
            format!(
                ", {} before the reader's first key frame skipped",
                a.skipped_head
            )
        } else {
            String::new()
        },
        if a.missing_tail > 0 {
            format!(", last {} not delivered", a.missing_tail)
        } else {
            String::new()
        }
    ));
    if a.skipped_head > max_skipped_head {
        findings.fail(format!(
            "{track}: the reader started {} packets into the stream (at most {max_skipped_head} expected)",
            a.skipped_head
        ));
    }
    if a.missing_tail > sent.last_unit_len() {
        findings.fail(format!(
            "{track}: the last {} of {} packets sent never reached the reader (more than the \
             last unit's {})",
            a.missing_tail,
            sent.len(),
            sent.last_unit_len()
        ));
    }
}
