//! The publisher side of a stream: RTP packets in, units (and generated sender reports) out.
//!
//! Owned by the publisher's session, never shared, so depacketizing needs no lock; only the
//! finished items go into the shared ring.

use super::{StreamDescription, StreamItem, Unit};
use crate::codec::{self, CodecKind, Depacketizer};
use crate::rtcp::SenderReport;
use crate::rtp::RtpPacket;
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
    /// Units end on the marker bit (video, AAC) rather than on every packet.
    group_by_marker: bool,
    /// Whether units of this track are start points when the codec cannot tell.
    default_key: bool,
    depacketizer: Option<Box<dyn Depacketizer>>,
    dts: DtsKind,
    last_dts: Option<i64>,
    pending: SmallVec<[RtpPacket; 4]>,
    unwrapper: Unwrapper,
    // Sender report state.
    packets: u32,
    octets: u32,
    last_sr: Option<Instant>,
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
}

impl std::fmt::Debug for StreamIngest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamIngest")
            .field("tracks", &self.tracks.len())
            .finish()
    }
}

impl StreamIngest {
    /// Prepares ingest for the tracks of `desc`.
    pub fn new(desc: &StreamDescription, clock: WallClock) -> StreamIngest {
        let tracks = desc
            .tracks
            .iter()
            .map(|t| {
                let depacketizer = codec::new_depacketizer(t.codec, t.fmtp.as_deref(), t.channels);
                let dts = new_dts_extractor(t.codec, t.fmtp.as_deref());
                TrackIngest {
                    codec: t.codec,
                    group_by_marker: matches!(
                        t.codec,
                        CodecKind::H264 | CodecKind::H265 | CodecKind::Mpeg4Audio
                    ) || (t.codec == CodecKind::Generic
                        && t.media.kind == "video"),
                    default_key: t.codec == CodecKind::Generic || !t.codec.is_video(),
                    depacketizer,
                    dts,
                    last_dts: None,
                    pending: SmallVec::new(),
                    unwrapper: Unwrapper::default(),
                    packets: 0,
                    octets: 0,
                    last_sr: None,
                    codec_errors: 0,
                }
            })
            .collect();
        StreamIngest { tracks, clock }
    }

    /// Number of payloads the depacketizers rejected so far, per track.
    pub fn codec_errors(&self) -> impl Iterator<Item = u64> + '_ {
        self.tracks.iter().map(|t| t.codec_errors)
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
        let Some(t) = self.tracks.get_mut(track) else {
            return false;
        };
        if let Some(first) = t.pending.first() {
            if first.header.timestamp != packet.header.timestamp
                || t.pending.len() >= MAX_PACKETS_PER_UNIT
            {
                t.flush(track, out);
            }
        }
        t.packets = t.packets.wrapping_add(1);
        t.octets = t.octets.wrapping_add(packet.payload().len() as u32);
        let due = t
            .last_sr
            .is_none_or(|l| now.saturating_duration_since(l) >= SENDER_REPORT_INTERVAL);
        if due {
            t.last_sr = Some(now);
            let sr = SenderReport {
                ssrc: packet.header.ssrc.0,
                ntp_timestamp: clock.ntp_at(now),
                rtp_timestamp: packet.header.timestamp,
                packet_count: t.packets,
                octet_count: t.octets,
                reports: SmallVec::new(),
            };
            let mut buf = Vec::with_capacity(28);
            sr.write_to(&mut buf);
            out.push(StreamItem::Rtcp {
                track,
                packet: buf.into(),
            });
        }
        let marker = packet.header.marker;
        if let Some(d) = t.depacketizer.as_mut() {
            if d.push(&packet).is_err() {
                t.codec_errors += 1;
            }
        }
        t.pending.push(packet);
        if !t.group_by_marker || marker {
            t.flush(track, out);
        }
        true
    }
}

impl TrackIngest {
    fn flush(&mut self, track: usize, out: &mut Vec<StreamItem>) {
        let Some(first) = self.pending.first() else {
            return;
        };
        let pts = self.unwrapper.unwrap(first.header.timestamp);
        let au = self.depacketizer.as_mut().and_then(|d| d.finish());
        let (key, payload) = match au {
            Some(au) => (au.key, au.data),
            None => (self.default_key, SmallVec::new()),
        };
        let mut dts = pts;
        if !payload.is_empty() {
            let extracted = match &mut self.dts {
                DtsKind::None => Ok(pts),
                DtsKind::H264(x) => x.extract(&payload, pts),
                DtsKind::H265(x) => x.extract(&payload, pts),
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
        let rtp = std::mem::take(&mut self.pending);
        out.push(StreamItem::Unit(Arc::new(Unit {
            track,
            pts,
            dts,
            key,
            payload,
            rtp,
        })));
    }
}
