//! The in-band latency marker and the publisher's send log.
//!
//! Every access unit the generator publishes starts (after SPS/PPS on key frames) with one SEI
//! NAL unit of type *user data unregistered* (H.264 §D.1.7): a fixed 16-byte UUID, then
//! `K`/`P` (key frame or not) and the frame index in 7 hex digits, then the RBSP stop bit.
//! None of its bytes is zero, so no emulation prevention can alter it, and every server keeps
//! SEI NAL units (RTSP relays RTP as is, RTMP and HLS remux NAL units), so the marker crosses
//! any protocol conversion, unlike RTP timestamps or sequence numbers, which servers rewrite.
//!
//! The publisher records, in a [`SendLog`] shared with the readers (same process, same
//! monotonic [`Clock`]), the time just before it writes each access unit; a reader that finds
//! the marker computes the server-added latency as its receive time minus that send time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The UUID of the marker SEI (ASCII, no zero byte).
pub const MARKER_UUID: [u8; 16] = *b"weir-loadgen-mk1";

/// The length of the marker NAL unit: header, payload type, payload size, UUID, 8 bytes, stop.
pub const MARKER_NAL_LEN: usize = 28;

/// The SEI header bytes before the UUID: NAL type 6, payload type 5, payload size 24.
const SEI_PREFIX: [u8; 3] = [0x06, 0x05, 0x18];

/// What a marker says about its access unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// The publisher's frame index (0, 1, 2… in sending order).
    pub index: u32,
    /// Whether the access unit is a key frame.
    pub key: bool,
}

/// The marker NAL unit of frame `index` (indices are kept to 28 bits).
pub fn marker_nal(index: u32, key: bool) -> [u8; MARKER_NAL_LEN] {
    let mut n = [0u8; MARKER_NAL_LEN];
    n[..3].copy_from_slice(&SEI_PREFIX);
    n[3..19].copy_from_slice(&MARKER_UUID);
    n[19] = if key { b'K' } else { b'P' };
    let hex = b"0123456789abcdef";
    for i in 0..7 {
        n[20 + i] = hex[((index >> (4 * (6 - i))) & 0xf) as usize];
    }
    n[27] = 0x80;
    n
}

/// Reads the 8 marker bytes after the UUID.
fn parse_payload(p: &[u8]) -> Option<Marker> {
    let key = match p.first()? {
        b'K' => true,
        b'P' => false,
        _ => return None,
    };
    let mut index = 0u32;
    for &c in p.get(1..8)? {
        let d = (c as char).to_digit(16)?;
        index = (index << 4) | d;
    }
    Some(Marker { index, key })
}

/// The marker carried by `nal`, if it is a marker NAL unit.
pub fn parse_marker_nal(nal: &[u8]) -> Option<Marker> {
    if nal.len() < MARKER_NAL_LEN - 1 || nal[..3] != SEI_PREFIX || nal[3..19] != MARKER_UUID {
        return None;
    }
    parse_payload(&nal[19..27])
}

/// The marker of an RTP H.264 payload: a single SEI NAL unit, or inside an STAP-A.
pub fn marker_in_rtp_payload(payload: &[u8]) -> Option<Marker> {
    match payload.first()? & 0x1f {
        6 => parse_marker_nal(payload),
        24 => {
            let mut pos = 1;
            while pos + 2 <= payload.len() {
                let len = usize::from(u16::from_be_bytes([payload[pos], payload[pos + 1]]));
                let nal = payload.get(pos + 2..pos + 2 + len)?;
                if let Some(m) = parse_marker_nal(nal) {
                    return Some(m);
                }
                pos += 2 + len;
            }
            None
        }
        _ => None,
    }
}

/// The marker of an FLV video tag body (legacy AVC, NALU packet: 5-byte header, then NAL
/// units with 4-byte lengths); a few NAL units at most are looked at.
pub fn marker_in_flv_video(body: &[u8]) -> Option<Marker> {
    if body.len() < 5 || body[0] & 0x0f != 7 || body[1] != 1 {
        return None;
    }
    let mut pos = 5;
    for _ in 0..8 {
        let len = u32::from_be_bytes(body.get(pos..pos + 4)?.try_into().ok()?) as usize;
        let nal = body.get(pos + 4..(pos + 4).checked_add(len)?)?;
        if let Some(m) = parse_marker_nal(nal) {
            return Some(m);
        }
        pos += 4 + len;
    }
    None
}

/// Calls `found` for every marker in `data`, wherever it lies (fMP4 `mdat`, MPEG-TS payloads
/// with the packet headers removed, Annex-B): the UUID preceded by the SEI header.
pub fn markers_in_bytes(data: &[u8], mut found: impl FnMut(Marker)) {
    for pos in memchr::memmem::find_iter(data, &MARKER_UUID) {
        if pos >= 3 && data[pos - 3..pos] == SEI_PREFIX {
            if let Some(m) = data.get(pos + 16..pos + 24).and_then(parse_payload) {
                found(m);
            }
        }
    }
}

/// The payloads of the 188-byte MPEG-TS packets of `data` joined (headers and adaptation
/// fields removed), so that a PES split over packets reads contiguously.
pub fn ts_payloads(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for p in data.chunks_exact(188) {
        if p[0] != 0x47 || p[3] & 0x10 == 0 {
            continue;
        }
        let start = if p[3] & 0x20 != 0 {
            5 + usize::from(p[4])
        } else {
            4
        };
        if start < 188 {
            out.extend_from_slice(&p[start..]);
        }
    }
    out
}

/// The monotonic clock every thread of the generator reads: microseconds since its start.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    /// A clock starting now.
    pub fn new() -> Clock {
        Clock {
            base: Instant::now(),
        }
    }

    /// Microseconds since the clock started.
    pub fn now_us(&self) -> u64 {
        self.base.elapsed().as_micros() as u64
    }

    /// The instant `us` microseconds after the start.
    pub fn instant_at(&self, us: u64) -> Instant {
        self.base + std::time::Duration::from_micros(us)
    }
}

/// The send time of every published frame, indexed by frame index (written by the publisher,
/// read by every reader thread).
#[derive(Debug)]
pub struct SendLog {
    times: Vec<AtomicU64>,
}

impl SendLog {
    /// A log for `capacity` frames (later frames are not logged).
    pub fn new(capacity: usize) -> SendLog {
        SendLog {
            times: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Records that frame `index` was handed to the socket at `us` (clock microseconds).
    pub fn record(&self, index: u32, us: u64) {
        if let Some(t) = self.times.get(index as usize) {
            t.store(us + 1, Ordering::Release);
        }
    }

    /// When frame `index` was sent, if it was logged.
    pub fn sent_at(&self, index: u32) -> Option<u64> {
        let v = self.times.get(index as usize)?.load(Ordering::Acquire);
        v.checked_sub(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trips_through_every_carrier() {
        let nal = marker_nal(0x0123_4567, true);
        assert!(!nal.contains(&0));
        let m = Marker {
            index: 0x0123_4567,
            key: true,
        };
        assert_eq!(parse_marker_nal(&nal), Some(m));
        // STAP-A: an SPS-like NAL unit, then the marker.
        let mut stap = vec![24u8, 0, 2, 0x67, 0x42];
        stap.extend_from_slice(&(nal.len() as u16).to_be_bytes());
        stap.extend_from_slice(&nal);
        assert_eq!(marker_in_rtp_payload(&stap), Some(m));
        let mut flv = vec![0x17, 1, 0, 0, 0];
        flv.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        flv.extend_from_slice(&nal);
        assert_eq!(marker_in_flv_video(&flv), Some(m));
        let mut found = Vec::new();
        markers_in_bytes(&flv, |m| found.push(m));
        assert_eq!(found, vec![m]);
        // MPEG-TS: the marker split over two packets still reads.
        let mut ts = Vec::new();
        for half in [&flv[..20], &flv[20..]] {
            let mut p = vec![0x47, 0x41, 0x00, 0x30, (183 - half.len()) as u8];
            p.resize(5 + 183 - half.len(), 0xff);
            p.extend_from_slice(half);
            assert_eq!(p.len(), 188);
            ts.extend_from_slice(&p);
        }
        let mut found = Vec::new();
        markers_in_bytes(&ts_payloads(&ts), |m| found.push(m));
        assert_eq!(found, vec![m]);
    }
}
