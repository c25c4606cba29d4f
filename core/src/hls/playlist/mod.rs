//! Playlist text: the multivariant playlist (RFC 8216 §4.3.4) and the media playlist with its
//! Low-Latency extensions (draft-pantos-hls-rfc8216bis §4.4.3.7–§4.4.5.3).

mod media;
mod multivariant;

pub(super) use media::{render_media, MediaInput};
pub(super) use multivariant::{render_multivariant, MultivariantInput};

use super::part::Part;
use super::segment::Segment;
use super::time::ceil_seconds;

/// How many of the newest complete segments list their parts (they stay well within the
/// three target durations after which §6.2.2 says EXT-X-PART tags should go).
pub(super) const PARTS_LISTED_SEGMENTS: usize = 2;

/// EXT-X-TARGETDURATION: the longest listed segment, rounded as EXTINF writes it, then up to
/// whole seconds (at least 1); `fallback_ns` (the configured segment duration) before any.
pub(super) fn target_duration(listed: &[Segment], fallback_ns: i64) -> u64 {
    let longest = listed
        .iter()
        .map(|s| s.duration_ns)
        .max()
        .unwrap_or(fallback_ns);
    ceil_seconds(longest).max(1)
}

/// EXT-X-PART-INF PART-TARGET in nanoseconds: the longest listed part (those of the last
/// [`PARTS_LISTED_SEGMENTS`] segments and of the open one), at least `configured_ns`, rounded
/// up to whole milliseconds.
pub(super) fn part_target_ns(listed: &[Segment], open_parts: &[Part], configured_ns: i64) -> i64 {
    let from = listed.len().saturating_sub(PARTS_LISTED_SEGMENTS);
    let longest = listed[from..]
        .iter()
        .flat_map(|s| s.parts.iter())
        .chain(open_parts)
        .map(|p| p.duration_ns)
        .fold(configured_ns, i64::max);
    longest
        .div_euclid(1_000_000)
        .saturating_add(i64::from(longest.rem_euclid(1_000_000) != 0))
        .saturating_mul(1_000_000)
}
