//! What a request asks for: the file name after `/<path>/` and the delivery directives of
//! its query (`_HLS_msn`, `_HLS_part`, `_HLS_skip`, draft-pantos-hls-rfc8216bis §6.2.5).

use super::config::HlsVariant;

/// The name of the multivariant playlist.
pub const MULTIVARIANT_PLAYLIST: &str = "index.m3u8";
/// The name of the media playlist (one playlist carrying every track, as MediaMTX names its
/// muxed MPEG-TS playlist).
pub const MEDIA_PLAYLIST: &str = "main_stream.m3u8";
/// The name of the fMP4 initialization segment.
pub const INIT_SEGMENT: &str = "init.mp4";

/// A file of the muxer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resource {
    /// `index.m3u8`.
    Multivariant,
    /// `main_stream.m3u8`.
    MediaPlaylist,
    /// `init.mp4` (fMP4 variants).
    Init,
    /// `seg<N>.ts` or `seg<N>.mp4` (per the variant).
    Segment(u64),
    /// `part<N>.mp4` (Low-Latency HLS).
    Part(u64),
}

/// A decimal number without sign or leading zeros, as the muxer writes them.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

/// The resource a file name designates for `variant`, `None` when it designates none.
pub(super) fn parse_file(file: &str, variant: HlsVariant) -> Option<Resource> {
    match file {
        MULTIVARIANT_PLAYLIST => return Some(Resource::Multivariant),
        MEDIA_PLAYLIST => return Some(Resource::MediaPlaylist),
        INIT_SEGMENT if variant.is_fmp4() => return Some(Resource::Init),
        _ => {}
    }
    let segment_ext = if variant.is_fmp4() { ".mp4" } else { ".ts" };
    if let Some(n) = file
        .strip_prefix("seg")
        .and_then(|f| f.strip_suffix(segment_ext))
    {
        return number(n).map(Resource::Segment);
    }
    if variant.has_parts() {
        if let Some(n) = file
            .strip_prefix("part")
            .and_then(|f| f.strip_suffix(".mp4"))
        {
            return number(n).map(Resource::Part);
        }
    }
    None
}

/// The delivery directives of a playlist request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Directives {
    /// `_HLS_msn`: wait for this media sequence number.
    pub msn: Option<u64>,
    /// `_HLS_part`: and this part index within it.
    pub part: Option<u64>,
    /// `_HLS_skip=YES` or `v2` (delta updates: not offered, so ignored).
    pub skip: bool,
}

/// Reads the directives of a query string (with or without its `?`); other parameters are
/// ignored. `Err` when a directive's value is not a decimal integer (HTTP 400).
pub(super) fn parse_query(query: &str) -> Result<Directives, ()> {
    let mut d = Directives::default();
    let query = query.strip_prefix('?').unwrap_or(query);
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "_HLS_msn" => d.msn = Some(value.parse().map_err(|_| ())?),
            "_HLS_part" => d.part = Some(value.parse().map_err(|_| ())?),
            "_HLS_skip" => d.skip = matches!(value, "YES" | "v2"),
            _ => {}
        }
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files() {
        use HlsVariant::*;
        assert_eq!(
            parse_file("index.m3u8", Mpegts),
            Some(Resource::Multivariant)
        );
        assert_eq!(
            parse_file("main_stream.m3u8", LowLatency),
            Some(Resource::MediaPlaylist)
        );
        assert_eq!(parse_file("init.mp4", Fmp4), Some(Resource::Init));
        assert_eq!(parse_file("init.mp4", Mpegts), None);
        assert_eq!(parse_file("seg12.mp4", Fmp4), Some(Resource::Segment(12)));
        assert_eq!(parse_file("seg0.ts", Mpegts), Some(Resource::Segment(0)));
        assert_eq!(parse_file("seg5.ts", Fmp4), None);
        assert_eq!(parse_file("seg5.mp4", Mpegts), None);
        assert_eq!(
            parse_file("part34.mp4", LowLatency),
            Some(Resource::Part(34))
        );
        assert_eq!(parse_file("part34.mp4", Fmp4), None);
        for bad in [
            "seg.mp4",
            "seg01.mp4",
            "seg+1.mp4",
            "seg-1.mp4",
            "seg1.mp4x",
            "seg99999999999999999999999.mp4",
            "Seg1.mp4",
            "/index.m3u8",
            "",
            "video1_stream.m3u8",
        ] {
            assert_eq!(parse_file(bad, LowLatency), None, "{bad}");
        }
    }

    #[test]
    fn queries() {
        assert_eq!(parse_query(""), Ok(Directives::default()));
        assert_eq!(
            parse_query("?_HLS_msn=12&_HLS_part=3&session=x"),
            Ok(Directives {
                msn: Some(12),
                part: Some(3),
                skip: false
            })
        );
        assert_eq!(
            parse_query("_HLS_skip=v2&_HLS_msn=0"),
            Ok(Directives {
                msn: Some(0),
                part: None,
                skip: true
            })
        );
        assert_eq!(parse_query("_HLS_msn="), Err(()));
        assert_eq!(parse_query("_HLS_msn=-1"), Err(()));
        assert_eq!(parse_query("_HLS_part=x"), Err(()));
        assert_eq!(parse_query("_HLS_msn=99999999999999999999999"), Err(()));
        assert_eq!(parse_query("&&=&x"), Ok(Directives::default()));
    }
}
