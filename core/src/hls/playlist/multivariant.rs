//! The multivariant playlist: one variant stream (the muxed media playlist) with its
//! bandwidth measured from the segments so far, its codecs, picture size and frame rate.

use super::super::config::HlsVariant;
use super::super::request::MEDIA_PLAYLIST;
use super::super::segment::Segment;
use super::super::time::NS_PER_SEC;
use std::fmt::Write;

/// What the multivariant playlist says.
#[derive(Debug, Clone)]
pub(in crate::hls) struct MultivariantInput<'a> {
    /// The variant (version).
    pub variant: HlsVariant,
    /// The listed complete segments (the bandwidth is measured on them).
    pub segments: &'a [Segment],
    /// The RFC 6381 codecs of every track, when all are known.
    pub codecs: Option<String>,
    /// The picture size of the video.
    pub resolution: Option<(u32, u32)>,
    /// The frame rate from the SPS; `None`: estimated from the segments.
    pub frame_rate: Option<f64>,
}

/// Bits per second of `bytes` over `ns` (rounded up); `bytes` over one second when `ns` is
/// not positive.
fn bit_rate(bytes: u64, ns: i64) -> u64 {
    let bits = i128::from(bytes) * 8;
    let ns = if ns > 0 {
        i128::from(ns)
    } else {
        i128::from(NS_PER_SEC)
    };
    let rate = (bits * i128::from(NS_PER_SEC) + ns - 1) / ns;
    u64::try_from(rate).unwrap_or(u64::MAX)
}

/// BANDWIDTH (the peak segment bit rate) and AVERAGE-BANDWIDTH (all bytes over all time) of
/// the segments (RFC 8216 §4.3.4.2).
pub(in crate::hls) fn bandwidth(segments: &[Segment]) -> (u64, u64) {
    let peak = segments
        .iter()
        .map(|s| bit_rate(s.size, s.duration_ns))
        .max()
        .unwrap_or(0);
    let bytes = segments
        .iter()
        .map(|s| s.size)
        .fold(0u64, u64::saturating_add);
    let ns = segments
        .iter()
        .map(|s| s.duration_ns.max(0))
        .fold(0i64, i64::saturating_add);
    (peak, bit_rate(bytes, ns).min(peak))
}

/// The leading video frames per second over the segments, when there are some.
fn estimated_frame_rate(segments: &[Segment]) -> Option<f64> {
    let frames = segments
        .iter()
        .map(|s| s.frames)
        .fold(0u64, u64::saturating_add);
    let ns: i64 = segments
        .iter()
        .map(|s| s.duration_ns.max(0))
        .fold(0, i64::saturating_add);
    (frames > 1 && ns > 0).then(|| frames as f64 * NS_PER_SEC as f64 / ns as f64)
}

/// The multivariant playlist text.
pub(in crate::hls) fn render_multivariant(input: &MultivariantInput<'_>) -> String {
    let mut s = String::with_capacity(256);
    s.push_str("#EXTM3U\n");
    let _ = writeln!(s, "#EXT-X-VERSION:{}", input.variant.version());
    s.push_str("#EXT-X-INDEPENDENT-SEGMENTS\n\n");
    let (peak, average) = bandwidth(input.segments);
    let _ = write!(
        s,
        "#EXT-X-STREAM-INF:BANDWIDTH={peak},AVERAGE-BANDWIDTH={average}"
    );
    if let Some(codecs) = &input.codecs {
        let _ = write!(s, ",CODECS=\"{codecs}\"");
    }
    if let Some((w, h)) = input.resolution {
        let _ = write!(s, ",RESOLUTION={w}x{h}");
        let rate = input
            .frame_rate
            .or_else(|| estimated_frame_rate(input.segments));
        if let Some(rate) = rate.filter(|r| r.is_finite() && *r > 0.0 && *r <= 1000.0) {
            let _ = write!(s, ",FRAME-RATE={rate:.3}");
        }
    }
    let _ = writeln!(s, "\n{MEDIA_PLAYLIST}");
    s
}
