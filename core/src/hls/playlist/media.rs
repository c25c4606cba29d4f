//! The media playlist: one playlist carrying every track (muxed).

use super::super::config::HlsVariant;
use super::super::part::{part_file_name, Part};
use super::super::request::INIT_SEGMENT;
use super::super::segment::Segment;
use super::super::time::{seconds, write_date_time};
use super::PARTS_LISTED_SEGMENTS;
use std::fmt::Write;

/// What a media playlist lists.
#[derive(Debug, Clone, Copy)]
pub(in crate::hls) struct MediaInput<'a> {
    /// The variant (tags, version, file extensions).
    pub variant: HlsVariant,
    /// The listed complete segments, oldest first.
    pub segments: &'a [Segment],
    /// The complete parts of the open segment (Low-Latency).
    pub open_parts: &'a [Part],
    /// The id of the next part (the preload hint).
    pub next_part_id: u64,
    /// EXT-X-TARGETDURATION.
    pub target_duration: u64,
    /// PART-TARGET in nanoseconds.
    pub part_target_ns: i64,
}

/// Appends an EXT-X-PART tag.
fn write_part(s: &mut String, part: &Part) {
    let _ = write!(
        s,
        "#EXT-X-PART:DURATION={},URI=\"{}\"",
        seconds(part.duration_ns),
        part.file_name()
    );
    s.push_str(if part.independent {
        ",INDEPENDENT=YES\n"
    } else {
        "\n"
    });
}

/// The media playlist text. Low-Latency: EXT-X-SERVER-CONTROL with CAN-BLOCK-RELOAD=YES and a
/// PART-HOLD-BACK of three part targets (no HOLD-BACK: its default, three target durations,
/// applies; no CAN-SKIP-UNTIL: delta updates are not offered), EXT-X-PART-INF, the parts of
/// the last two segments and of the open one, and the preload hint of the next part.
pub(in crate::hls) fn render_media(input: &MediaInput<'_>) -> String {
    let ll = input.variant.has_parts();
    let fmp4 = input.variant.is_fmp4();
    let mut s = String::with_capacity(256 + input.segments.len() * 400);
    s.push_str("#EXTM3U\n");
    let _ = writeln!(s, "#EXT-X-VERSION:{}", input.variant.version());
    let _ = writeln!(s, "#EXT-X-TARGETDURATION:{}", input.target_duration);
    if ll {
        let _ = writeln!(
            s,
            "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK={}",
            seconds(input.part_target_ns.saturating_mul(3))
        );
        let _ = writeln!(
            s,
            "#EXT-X-PART-INF:PART-TARGET={}",
            seconds(input.part_target_ns)
        );
    }
    let first = input.segments.first().map_or(0, |seg| seg.msn);
    let _ = writeln!(s, "#EXT-X-MEDIA-SEQUENCE:{first}");
    if fmp4 {
        let _ = writeln!(s, "#EXT-X-MAP:URI=\"{INIT_SEGMENT}\"");
    }
    let with_parts = input.segments.len().saturating_sub(PARTS_LISTED_SEGMENTS);
    for (k, seg) in input.segments.iter().enumerate() {
        s.push_str("#EXT-X-PROGRAM-DATE-TIME:");
        write_date_time(&mut s, seg.pdt_ms);
        s.push('\n');
        if ll && k >= with_parts {
            for part in &seg.parts {
                write_part(&mut s, part);
            }
        }
        let _ = writeln!(s, "#EXTINF:{},", seconds(seg.duration_ns));
        s.push_str(&seg.file_name(fmp4));
        s.push('\n');
    }
    if ll {
        for part in input.open_parts {
            write_part(&mut s, part);
        }
        let _ = writeln!(
            s,
            "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"{}\"",
            part_file_name(input.next_part_id)
        );
    }
    s
}
