//! The publisher side of a stream: RTP packets in, units (and generated sender reports) out.
//!
//! Owned by the publisher's session, never shared, so depacketizing needs no lock; only the
//! finished items go into the shared ring.

use super::pool::UnitPool;
use super::{StreamDescription, StreamItem};
use crate::arena::Arena;
use crate::codec::{self, AccessUnit, CodecKind, Depacketizer, Packetizer};
use crate::rtcp::SenderReport;
use crate::rtp::{RtpPacket, SeqNo, Ssrc};
use smallvec::SmallVec;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Maps the adapter's monotonic clock to wall-clock time for RTCP sender reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WallClock {
    /// A monotonic instant…
    pub base: Instant,
    /// …and the NTP time (RFC 3550 64-bit fixed point) it corresponds to.
    pub base_ntp: u64,
}

impl WallClock {
    /// The NTP timestamp of `now`.
    pub fn ntp_at(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.base);
        let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
        self.base_ntp.wrapping_add((d.as_secs() << 32) | frac)
    }
}

/// How often a sender report is generated per track.
pub const SENDER_REPORT_INTERVAL: Duration = Duration::from_secs(5);

/// The most RTP packets one access unit may span before it is cut.
const MAX_PACKETS_PER_UNIT: usize = 4096;

/// Extends 32-bit RTP timestamps to 64 bits across wrap-around.
#[derive(Debug, Default)]
struct Unwrapper {
    last: Option<u32>,
    value: i64,
}

impl Unwrapper {
    fn unwrap(&mut self, ts: u32) -> i64 {
        match self.last {
            None => self.value = i64::from(ts),
            Some(last) => self.value += i64::from(ts.wrapping_sub(last) as i32),
        }
        self.last = Some(ts);
        self.value
    }
}

enum DtsKind {
    None,
    H264(codec::h264::DtsExtractor),
    H265(codec::h265::DtsExtractor),
}

struct TrackIngest {
    codec: CodecKind,
    clock_rate: u32,
    /// Subtracted from unwrapped RTP timestamps so that units carry stream-relative times
    /// (set from the first unit: its arrival time since the stream started).
    rtp_offset: Option<i64>,
    /// Units end on the marker bit (video, AAC) rather than on every packet.
    group_by_marker: bool,
    /// Whether units of this track are start points when the codec cannot tell.
    default_key: bool,
    depacketizer: Option<Box<dyn Depacketizer>>,
    /// Created on the first unit pushed by a non-RTP source.
    packetizer: Option<Box<dyn Packetizer>>,
    payload_type: u8,
    dts: DtsKind,
    last_dts: Option<i64>,
    pending: SmallVec<[RtpPacket; 4]>,
    unwrapper: Unwrapper,
    // Sender report state.
    packets: u32,
    octets: u32,
    last_sr: Option<Instant>,
    /// Where a sender report is serialized before it goes to the arena.
    sr_scratch: Vec<u8>,
    codec_errors: u64,
}

/// A DTS extractor primed with the parameter sets the SDP announced (cameras that never
/// repeat them in-band would otherwise get DTS = PTS).
fn new_dts_extractor(codec: CodecKind, fmtp: Option<&str>) -> DtsKind {
    match codec {
        CodecKind::H264 => {
            let mut x = codec::h264::DtsExtractor::new();
            if let Some(sps) = fmtp
                .and_then(|f| codec::h264::H264Params::from_fmtp(f).ok())
                .and_then(|p| p.sps)
            {
                let _ = x.set_sps(&sps);
            }
            DtsKind::H264(x)
        }
        CodecKind::H265 => {
            let mut x = codec::h265::DtsExtractor::new();
            if let Some(p) = fmtp.and_then(|f| codec::h265::H265Params::from_fmtp(f).ok()) {
                for ps in [p.vps, p.sps, p.pps].into_iter().flatten() {
                    let _ = x.set_parameter_set(&ps);
                }
            }
            DtsKind::H265(x)
        }
        _ => DtsKind::None,
    }
}

/// Groups a publisher's RTP packets into units and generates sender reports.
pub struct StreamIngest {
    tracks: Vec<TrackIngest>,
    clock: WallClock,
    /// Seeds the SSRCs and first sequence numbers of packetized (non-RTP) sources.
    seed: u64,
    /// When the first packet arrived: time zero of the units' timestamps.
    start: Option<Instant>,
    /// Recycled units.
    units: UnitPool,
    /// Where generated RTCP packets are written.
    rtcp: Arena,
}

impl std::fmt::Debug for StreamIngest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamIngest")
            .field("tracks", &self.tracks.len())
            .finish()
    }
}

impl StreamIngest {
    /// Prepares ingest for the tracks of `desc`. `seed` (from a random source) picks the SSRC
    /// and first sequence number of tracks whose source is not RTP.
    pub fn new(desc: &StreamDescription, clock: WallClock, seed: u64) -> StreamIngest {
        let tracks = desc
            .tracks
            .iter()
            .map(|t| {
                let depacketizer = codec::new_depacketizer(t.codec, t.fmtp.as_deref(), t.channels);
                let dts = new_dts_extractor(t.codec, t.fmtp.as_deref());
                TrackIngest {
                    codec: t.codec,
                    clock_rate: t.clock_rate,
                    rtp_offset: None,
                    group_by_marker: matches!(
                        t.codec,
                        CodecKind::H264 | CodecKind::H265 | CodecKind::Mpeg4Audio
                    ) || (t.codec == CodecKind::Generic
                        && t.media.kind == "video"),
                    default_key: t.codec == CodecKind::Generic || !t.codec.is_video(),
                    depacketizer,
                    packetizer: None,
                    payload_type: t.payload_type,
                    dts,
                    last_dts: None,
                    pending: SmallVec::new(),
                    unwrapper: Unwrapper::default(),
                    packets: 0,
                    octets: 0,
                    last_sr: None,
                    sr_scratch: Vec::with_capacity(64),
                    codec_errors: 0,
                }
            })
            .collect();
        StreamIngest {
            tracks,
            clock,
            seed,
            start: None,
            units: UnitPool::default(),
            rtcp: Arena::new(4096),
        }
    }

    /// Takes back an item the ring evicted ([`super::Ring::push`]'s return value) so that its
    /// unit is reused when nobody holds it any more: with a ring whose readers copy what they
    /// send, a steady stream then allocates no units.
    pub fn recycle(&mut self, item: StreamItem) {
        self.units.recycle(item);
    }

    /// Units waiting for reuse (for tests and statistics).
    pub fn pooled_units(&self) -> usize {
        self.units.len()
    }

    /// Number of payloads the depacketizers rejected so far, per track.
    pub fn codec_errors(&self) -> impl Iterator<Item = u64> + '_ {
        self.tracks.iter().map(|t| t.codec_errors)
    }

    /// Feeds one access unit of `track` from a source that is not RTP (RTMP…): it is packetized
    /// for RTSP readers (codecs weir cannot packetize carry no RTP packets). `pts`/`dts` are in
    /// the track's clock rate, on a time line common to all tracks of the source; the RTP
    /// timestamp is `pts` modulo 2^32.
    #[allow(clippy::too_many_arguments)]
    pub fn push_unit(
        &mut self,
        now: Instant,
        track: usize,
        pts: i64,
        dts: i64,
        key: bool,
        payload: SmallVec<[bytes::Bytes; 4]>,
        out: &mut Vec<StreamItem>,
    ) -> bool {
        let clock = self.clock;
        let seed = self
            .seed
            .wrapping_add((track as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let Some(t) = self.tracks.get_mut(track) else {
            return false;
        };
        if t.packetizer.is_none() {
            let ssrc = Ssrc((seed >> 32) as u32 ^ seed as u32);
            t.packetizer = codec::new_packetizer(t.codec, t.payload_type, ssrc, SeqNo(seed as u16));
        }
        let mut rtp: SmallVec<[RtpPacket; 4]> = SmallVec::new();
        if let Some(p) = t.packetizer.as_mut() {
            let au = AccessUnit {
                key,
                data: payload.clone(),
            };
            let mut packets = Vec::new();
            p.packetize(&au, pts as u32, &mut packets);
            rtp.extend(packets);
        }
        for p in &rtp {
            t.count_and_report(now, clock, track, p, &mut self.rtcp, out);
        }
        t.last_dts = Some(dts);
        let mut unit = self.units.take(rtp.len());
        let u = Arc::make_mut(&mut unit);
        u.track = track;
        u.pts = pts;
        u.dts = dts;
        u.key = key;
        u.payload.extend(payload);
        u.rtp.extend(rtp.drain(..));
        out.push(StreamItem::Unit(unit));
        true
    }

    /// Feeds one RTP packet of `track`; finished items are appended to `out`.
    /// Packets for unknown tracks are ignored (returns false).
    pub fn push_rtp(
        &mut self,
        now: Instant,
        track: usize,
        packet: RtpPacket,
        out: &mut Vec<StreamItem>,
    ) -> bool {
        let clock = self.clock;
        let start = *self.start.get_or_insert(now);
        let Some(t) = self.tracks.get_mut(track) else {
            return false;
        };
        if let Some(first) = t.pending.first() {
            if first.header.timestamp != packet.header.timestamp
                || t.pending.len() >= MAX_PACKETS_PER_UNIT
            {
                t.flush(
                    track,
                    now.saturating_duration_since(start),
                    &mut self.units,
                    out,
                );
            }
        }
        t.count_and_report(now, clock, track, &packet, &mut self.rtcp, out);
        let marker = packet.header.marker;
        if let Some(d) = t.depacketizer.as_mut() {
            if d.push(&packet).is_err() {
                t.codec_errors += 1;
            }
        }
        t.pending.push(packet);
        if !t.group_by_marker || marker {
            t.flush(
                track,
                now.saturating_duration_since(start),
                &mut self.units,
                out,
            );
        }
        true
    }
}

impl TrackIngest {
    /// Counts a packet for sender reports and emits one when due.
    fn count_and_report(
        &mut self,
        now: Instant,
        clock: WallClock,
        track: usize,
        packet: &RtpPacket,
        arena: &mut Arena,
        out: &mut Vec<StreamItem>,
    ) {
        self.packets = self.packets.wrapping_add(1);
        self.octets = self.octets.wrapping_add(packet.payload().len() as u32);
        let due = self
            .last_sr
            .is_none_or(|l| now.saturating_duration_since(l) >= SENDER_REPORT_INTERVAL);
        if due {
            self.last_sr = Some(now);
            let sr = SenderReport {
                ssrc: packet.header.ssrc.0,
                ntp_timestamp: clock.ntp_at(now),
                rtp_timestamp: packet.header.timestamp,
                packet_count: self.packets,
                octet_count: self.octets,
                reports: SmallVec::new(),
            };
            self.sr_scratch.clear();
            sr.write_to(&mut self.sr_scratch);
            arena.extend(&self.sr_scratch);
            out.push(StreamItem::Rtcp {
                track,
                packet: arena.split(),
            });
        }
    }

    fn flush(
        &mut self,
        track: usize,
        since_start: Duration,
        units: &mut UnitPool,
        out: &mut Vec<StreamItem>,
    ) {
        let Some(first) = self.pending.first() else {
            return;
        };
        let unwrapped = self.unwrapper.unwrap(first.header.timestamp);
        let offset = *self.rtp_offset.get_or_insert_with(|| {
            let elapsed = since_start.as_micros() as i64 * i64::from(self.clock_rate) / 1_000_000;
            unwrapped - elapsed
        });
        let pts = unwrapped - offset;
        // The unit comes from the pool; the depacketizer moves its pieces straight into it.
        let mut unit = units.take(self.pending.len());
        let u = Arc::make_mut(&mut unit);
        let key = self
            .depacketizer
            .as_mut()
            .and_then(|d| d.finish_into(&mut u.payload))
            .unwrap_or(self.default_key);
        let mut dts = pts;
        if !u.payload.is_empty() {
            let extracted = match &mut self.dts {
                DtsKind::None => Ok(pts),
                DtsKind::H264(x) => x.extract(&u.payload, pts),
                DtsKind::H265(x) => x.extract(&u.payload, pts),
            };
            dts = extracted.unwrap_or(pts);
        }
        // DTS must never go backwards, whatever the extractor says.
        if let Some(last) = self.last_dts {
            if dts <= last && self.codec.is_video() {
                dts = last + 1;
            }
        }
        self.last_dts = Some(dts);
        u.track = track;
        u.pts = pts;
        u.dts = dts;
        u.key = key;
        u.rtp.extend(self.pending.drain(..));
        out.push(StreamItem::Unit(unit));
    }
}
