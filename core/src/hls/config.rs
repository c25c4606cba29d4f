//! The HLS settings of MediaMTX (`hlsVariant`, `hlsSegmentCount`, `hlsSegmentDuration`,
//! `hlsPartDuration`, `hlsSegmentMaxSize`) with MediaMTX's defaults.

use std::time::Duration;

/// The most segments a playlist may list (a sanity bound on `hlsSegmentCount`).
pub const MAX_SEGMENT_COUNT: usize = 10_000;

/// The shortest segment or part duration accepted (shorter values are raised to it).
pub const MIN_DURATION: Duration = Duration::from_millis(1);

/// The smallest segment size limit accepted (smaller values are raised to it).
pub const MIN_SEGMENT_MAX_SIZE: u64 = 4096;

/// Which HLS flavour a muxer produces (MediaMTX `hlsVariant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HlsVariant {
    /// `mpegts`: MPEG-TS segments, for maximum compatibility (EXT-X-VERSION 3).
    Mpegts,
    /// `fmp4`: fragmented MP4 segments (EXT-X-VERSION 9).
    Fmp4,
    /// `lowLatency`: Low-Latency HLS with fragmented MP4 parts, blocking playlist reload and
    /// preload hints (the MediaMTX default).
    #[default]
    LowLatency,
}

impl HlsVariant {
    /// The variant named as in MediaMTX's configuration (`mpegts`, `fmp4`, `lowLatency`).
    pub fn from_config(name: &str) -> Option<HlsVariant> {
        match name {
            "mpegts" => Some(HlsVariant::Mpegts),
            "fmp4" => Some(HlsVariant::Fmp4),
            "lowLatency" => Some(HlsVariant::LowLatency),
            _ => None,
        }
    }

    /// The configuration name of the variant.
    pub fn as_str(self) -> &'static str {
        match self {
            HlsVariant::Mpegts => "mpegts",
            HlsVariant::Fmp4 => "fmp4",
            HlsVariant::LowLatency => "lowLatency",
        }
    }

    /// Whether segments are fragmented MP4 (with an init segment).
    pub fn is_fmp4(self) -> bool {
        !matches!(self, HlsVariant::Mpegts)
    }

    /// Whether parts are advertised and served (Low-Latency HLS).
    pub fn has_parts(self) -> bool {
        matches!(self, HlsVariant::LowLatency)
    }

    /// The EXT-X-VERSION of the playlists.
    pub fn version(self) -> u8 {
        if self.is_fmp4() {
            9
        } else {
            3
        }
    }
}

/// The settings of one HLS muxer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlsConfig {
    /// The HLS flavour (`hlsVariant`, default `lowLatency`).
    pub variant: HlsVariant,
    /// How many complete segments the media playlist lists (`hlsSegmentCount`, default 7).
    pub segment_count: usize,
    /// The minimum duration of a segment (`hlsSegmentDuration`, default 1 s); segments end at
    /// the first video key frame after it.
    pub segment_duration: Duration,
    /// The minimum duration of a part (`hlsPartDuration`, default 200 ms).
    pub part_duration: Duration,
    /// The maximum size of a segment in bytes (`hlsSegmentMaxSize`, default `50M`, which
    /// MediaMTX reads as 50 MiB).
    pub segment_max_size: u64,
}

impl Default for HlsConfig {
    fn default() -> Self {
        HlsConfig {
            variant: HlsVariant::LowLatency,
            segment_count: 7,
            segment_duration: Duration::from_secs(1),
            part_duration: Duration::from_millis(200),
            segment_max_size: 50 << 20,
        }
    }
}

impl HlsConfig {
    /// The configuration with every value brought into its accepted range: at least one
    /// segment (at most [`MAX_SEGMENT_COUNT`]), durations of at least [`MIN_DURATION`], a part
    /// no longer than a segment, a size limit of at least [`MIN_SEGMENT_MAX_SIZE`].
    pub fn sanitized(&self) -> HlsConfig {
        let segment_duration = self.segment_duration.max(MIN_DURATION);
        HlsConfig {
            variant: self.variant,
            segment_count: self.segment_count.clamp(1, MAX_SEGMENT_COUNT),
            segment_duration,
            part_duration: self.part_duration.clamp(MIN_DURATION, segment_duration),
            segment_max_size: self.segment_max_size.max(MIN_SEGMENT_MAX_SIZE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_mediamtx_defaults() {
        let c = HlsConfig::default();
        assert_eq!(c.variant, HlsVariant::LowLatency);
        assert_eq!(c.segment_count, 7);
        assert_eq!(c.segment_duration, Duration::from_secs(1));
        assert_eq!(c.part_duration, Duration::from_millis(200));
        assert_eq!(c.segment_max_size, 52_428_800);
        assert_eq!(c.sanitized(), c);
    }

    #[test]
    fn variant_names() {
        for v in [HlsVariant::Mpegts, HlsVariant::Fmp4, HlsVariant::LowLatency] {
            assert_eq!(HlsVariant::from_config(v.as_str()), Some(v));
        }
        assert_eq!(HlsVariant::from_config("lowlatency"), None);
        assert_eq!(HlsVariant::Mpegts.version(), 3);
        assert_eq!(HlsVariant::LowLatency.version(), 9);
    }

    #[test]
    fn sanitized_clamps() {
        let c = HlsConfig {
            variant: HlsVariant::Fmp4,
            segment_count: 0,
            segment_duration: Duration::ZERO,
            part_duration: Duration::from_secs(5),
            segment_max_size: 1,
        }
        .sanitized();
        assert_eq!(c.segment_count, 1);
        assert_eq!(c.segment_duration, MIN_DURATION);
        assert_eq!(c.part_duration, MIN_DURATION);
        assert_eq!(c.segment_max_size, MIN_SEGMENT_MAX_SIZE);
    }
}
