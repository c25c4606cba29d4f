//! Playlist parsers that keep every tag a test checks ([`Multivariant`], [`MediaPlaylist`]),
//! URI resolution against the playlist's own URL ([`resolve`]), and fetching a path's media
//! playlist over an [`HttpClient`].

use super::{multivariant_target, HttpClient, HttpResponse};

// ---- URIs ----

/// The request target that `uri` (as written in the playlist fetched from request target
/// `base`) designates: absolute URLs keep their path and query, absolute paths are kept,
/// relative references are resolved against `base`'s directory (RFC 3986 §5.2, without
/// dot segments other than a leading `./`).
pub fn resolve(base: &str, uri: &str) -> String {
    if let Some(rest) = uri
        .strip_prefix("http://")
        .or_else(|| uri.strip_prefix("https://"))
    {
        return match rest.find('/') {
            Some(i) => rest[i..].to_string(),
            None => "/".to_string(),
        };
    }
    if uri.starts_with('/') {
        return uri.to_string();
    }
    let base_path = base.split(['?', '#']).next().unwrap_or(base);
    let dir = &base_path[..base_path.rfind('/').map_or(0, |i| i + 1)];
    let dir = if dir.is_empty() { "/" } else { dir };
    format!("{dir}{}", uri.trim_start_matches("./"))
}

// ---- playlists ----

/// Splits an attribute list (`A=1,B="x,y",C=z`) into pairs; quoted values lose their quotes.
pub fn attributes(list: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = list.trim();
    while !rest.is_empty() {
        let (key, after) = match rest.split_once('=') {
            Some(kv) => kv,
            None => {
                out.push((rest.trim().to_string(), String::new()));
                break;
            }
        };
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q[..end].to_string(), &q[end + 1..]),
                None => (q.to_string(), ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (after[..end].to_string(), &after[end..]),
                None => (after.to_string(), ""),
            }
        };
        out.push((key.trim().to_string(), value));
        rest = tail.trim_start_matches(',').trim();
    }
    out
}

/// The value of attribute `key` in `attrs`.
pub fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// One `EXT-X-STREAM-INF` of a multivariant playlist.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Its attributes.
    pub attrs: Vec<(String, String)>,
    /// The media playlist URI (the line after the tag).
    pub uri: String,
}

/// A multivariant playlist.
#[derive(Clone, Debug, Default)]
pub struct Multivariant {
    /// EXT-X-VERSION.
    pub version: Option<u32>,
    /// Whether EXT-X-INDEPENDENT-SEGMENTS is present.
    pub independent_segments: bool,
    /// The variant streams.
    pub variants: Vec<Variant>,
    /// The attributes of every EXT-X-MEDIA (alternative renditions).
    pub renditions: Vec<Vec<(String, String)>>,
}

impl Multivariant {
    /// Parses a multivariant playlist; `Err` on a structural problem.
    pub fn parse(text: &str) -> Result<Multivariant, String> {
        let mut lines = text.lines();
        if lines.next().map(str::trim_end) != Some("#EXTM3U") {
            return Err(format!("does not start with #EXTM3U: {text:?}"));
        }
        let mut mv = Multivariant::default();
        let mut pending: Option<Vec<(String, String)>> = None;
        for line in lines.map(str::trim_end).filter(|l| !l.is_empty()) {
            if let Some(v) = line.strip_prefix("#EXT-X-VERSION:") {
                mv.version = Some(v.parse().map_err(|_| format!("bad {line:?}"))?);
            } else if line == "#EXT-X-INDEPENDENT-SEGMENTS" {
                mv.independent_segments = true;
            } else if let Some(a) = line.strip_prefix("#EXT-X-STREAM-INF:") {
                if pending.is_some() {
                    return Err("two EXT-X-STREAM-INF in a row".into());
                }
                pending = Some(attributes(a));
            } else if let Some(a) = line.strip_prefix("#EXT-X-MEDIA:") {
                mv.renditions.push(attributes(a));
            } else if line.starts_with("#EXTINF") || line.starts_with("#EXT-X-TARGETDURATION") {
                return Err(format!(
                    "media playlist tag {line:?} in a multivariant playlist"
                ));
            } else if line.starts_with('#') {
            } else {
                let attrs = pending
                    .take()
                    .ok_or_else(|| format!("URI line {line:?} without EXT-X-STREAM-INF"))?;
                mv.variants.push(Variant {
                    attrs,
                    uri: line.to_string(),
                });
            }
        }
        if pending.is_some() {
            return Err("EXT-X-STREAM-INF without a URI line".into());
        }
        if mv.variants.is_empty() {
            return Err(format!("no variant stream: {text:?}"));
        }
        Ok(mv)
    }

    /// Every media playlist URI: the variants', then the renditions' that have one.
    pub fn media_uris(&self) -> Vec<String> {
        let mut out: Vec<String> = self.variants.iter().map(|v| v.uri.clone()).collect();
        for r in &self.renditions {
            if let Some(u) = attr(r, "URI") {
                if !out.iter().any(|o| o == u) {
                    out.push(u.to_string());
                }
            }
        }
        out
    }
}

/// One `EXT-X-PART`.
#[derive(Clone, Debug, PartialEq)]
pub struct PartEntry {
    /// The URI.
    pub uri: String,
    /// DURATION, in seconds.
    pub duration: f64,
    /// INDEPENDENT=YES.
    pub independent: bool,
    /// The media sequence number of the segment it belongs to.
    pub msn: u64,
    /// Its index within that segment.
    pub index: u64,
}

/// One complete segment of a media playlist.
#[derive(Clone, Debug, PartialEq)]
pub struct SegmentEntry {
    /// Its media sequence number.
    pub msn: u64,
    /// The URI.
    pub uri: String,
    /// EXTINF, in seconds.
    pub duration: f64,
    /// The EXT-X-PROGRAM-DATE-TIME that precedes it, as written.
    pub pdt: Option<String>,
    /// That date in Unix milliseconds.
    pub pdt_ms: Option<i64>,
    /// Its EXT-X-PART tags (listed for the newest segments only).
    pub parts: Vec<PartEntry>,
}

/// A media playlist, parsed line by line.
#[derive(Clone, Debug, Default)]
pub struct MediaPlaylist {
    /// The text.
    pub text: String,
    /// EXT-X-VERSION.
    pub version: Option<u32>,
    /// EXT-X-TARGETDURATION.
    pub target_duration: Option<u64>,
    /// EXT-X-MEDIA-SEQUENCE.
    pub media_sequence: Option<u64>,
    /// EXT-X-MAP URI.
    pub map_uri: Option<String>,
    /// EXT-X-SERVER-CONTROL attributes.
    pub server_control: Option<Vec<(String, String)>>,
    /// EXT-X-PART-INF PART-TARGET, in seconds.
    pub part_target: Option<f64>,
    /// The complete segments, oldest first.
    pub segments: Vec<SegmentEntry>,
    /// The parts after the last segment (of the segment being written).
    pub open_parts: Vec<PartEntry>,
    /// EXT-X-PRELOAD-HINT attributes.
    pub preload_hint: Option<Vec<(String, String)>>,
    /// Whether EXT-X-ENDLIST is present.
    pub endlist: bool,
    /// Line-level problems: repeated tags, URIs without EXTINF, a tag after the preload hint,
    /// unparsable values.
    pub problems: Vec<String>,
}

impl MediaPlaylist {
    /// Parses a media playlist; `Err` when it is not one at all (line-level problems go to
    /// [`MediaPlaylist::problems`]).
    pub fn parse(text: &str) -> Result<MediaPlaylist, String> {
        let mut lines = text.lines();
        if lines.next().map(str::trim_end) != Some("#EXTM3U") {
            return Err(format!("does not start with #EXTM3U: {text:?}"));
        }
        let mut pl = MediaPlaylist {
            text: text.to_string(),
            ..Default::default()
        };
        let mut extinf: Option<f64> = None;
        let mut pdt: Option<String> = None;
        let mut parts: Vec<(String, f64, bool)> = Vec::new();
        let mut after_hint = false;
        for (n, raw) in lines.enumerate() {
            let line = raw.trim_end();
            let no = n + 2;
            if line.is_empty() {
                continue;
            }
            if after_hint && !line.starts_with("#EXT-X-RENDITION-REPORT") {
                pl.problems
                    .push(format!("line {no}: {line:?} after EXT-X-PRELOAD-HINT"));
            }
            let mut once = |slot_set: bool, what: &str| {
                if slot_set {
                    pl.problems.push(format!("line {no}: {what} repeated"));
                }
            };
            if let Some(v) = line.strip_prefix("#EXT-X-VERSION:") {
                once(pl.version.is_some(), "EXT-X-VERSION");
                pl.version = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
                once(pl.target_duration.is_some(), "EXT-X-TARGETDURATION");
                pl.target_duration = v.parse().ok();
                if pl.target_duration.is_none() {
                    pl.problems.push(format!(
                        "line {no}: EXT-X-TARGETDURATION not an integer: {v:?}"
                    ));
                }
            } else if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
                once(pl.media_sequence.is_some(), "EXT-X-MEDIA-SEQUENCE");
                if !pl.segments.is_empty() || extinf.is_some() {
                    pl.problems.push(format!(
                        "line {no}: EXT-X-MEDIA-SEQUENCE after the first segment"
                    ));
                }
                pl.media_sequence = v.parse().ok();
            } else if let Some(a) = line.strip_prefix("#EXT-X-MAP:") {
                once(pl.map_uri.is_some(), "EXT-X-MAP");
                pl.map_uri = attr(&attributes(a), "URI").map(str::to_string);
            } else if let Some(a) = line.strip_prefix("#EXT-X-SERVER-CONTROL:") {
                once(pl.server_control.is_some(), "EXT-X-SERVER-CONTROL");
                pl.server_control = Some(attributes(a));
            } else if let Some(a) = line.strip_prefix("#EXT-X-PART-INF:") {
                once(pl.part_target.is_some(), "EXT-X-PART-INF");
                pl.part_target = attr(&attributes(a), "PART-TARGET").and_then(|v| v.parse().ok());
            } else if let Some(v) = line.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:") {
                if parse_date_time_ms(v).is_none() {
                    pl.problems.push(format!(
                        "line {no}: unparsable EXT-X-PROGRAM-DATE-TIME {v:?}"
                    ));
                }
                pdt = Some(v.to_string());
            } else if let Some(a) = line.strip_prefix("#EXT-X-PART:") {
                let attrs = attributes(a);
                let uri = attr(&attrs, "URI").unwrap_or("").to_string();
                let duration = attr(&attrs, "DURATION").and_then(|d| d.parse::<f64>().ok());
                if uri.is_empty() || duration.is_none() {
                    pl.problems.push(format!(
                        "line {no}: EXT-X-PART without URI or DURATION: {line:?}"
                    ));
                }
                parts.push((
                    uri,
                    duration.unwrap_or(0.0),
                    attr(&attrs, "INDEPENDENT") == Some("YES"),
                ));
            } else if let Some(v) = line.strip_prefix("#EXTINF:") {
                if extinf.is_some() {
                    pl.problems
                        .push(format!("line {no}: EXTINF without a URI before it"));
                }
                let d = v.split(',').next().unwrap_or("").trim();
                match d.parse::<f64>() {
                    Ok(d) => extinf = Some(d),
                    Err(_) => {
                        pl.problems.push(format!("line {no}: bad EXTINF {v:?}"));
                        extinf = Some(0.0);
                    }
                }
            } else if let Some(a) = line.strip_prefix("#EXT-X-PRELOAD-HINT:") {
                once(pl.preload_hint.is_some(), "EXT-X-PRELOAD-HINT");
                pl.preload_hint = Some(attributes(a));
                after_hint = true;
            } else if line == "#EXT-X-ENDLIST" {
                pl.endlist = true;
            } else if line.starts_with("#EXT-X-STREAM-INF") {
                pl.problems
                    .push(format!("line {no}: EXT-X-STREAM-INF in a media playlist"));
            } else if line.starts_with('#') {
                // Other tags (EXT-X-INDEPENDENT-SEGMENTS, EXT-X-DISCONTINUITY, ...) and comments.
            } else {
                let Some(duration) = extinf.take() else {
                    pl.problems
                        .push(format!("line {no}: URI {line:?} without EXTINF"));
                    continue;
                };
                let msn = pl.media_sequence.unwrap_or(0) + pl.segments.len() as u64;
                let pdt_ms = pdt.as_deref().and_then(parse_date_time_ms);
                pl.segments.push(SegmentEntry {
                    msn,
                    uri: line.to_string(),
                    duration,
                    pdt: pdt.take(),
                    pdt_ms,
                    parts: parts
                        .drain(..)
                        .enumerate()
                        .map(|(i, (uri, duration, independent))| PartEntry {
                            uri,
                            duration,
                            independent,
                            msn,
                            index: i as u64,
                        })
                        .collect(),
                });
            }
        }
        if extinf.is_some() {
            pl.problems.push("EXTINF at the end without a URI".into());
        }
        let next = pl.next_msn();
        pl.open_parts = parts
            .into_iter()
            .enumerate()
            .map(|(i, (uri, duration, independent))| PartEntry {
                uri,
                duration,
                independent,
                msn: next,
                index: i as u64,
            })
            .collect();
        Ok(pl)
    }

    /// The media sequence number of the segment after the last complete one.
    pub fn next_msn(&self) -> u64 {
        self.media_sequence.unwrap_or(0) + self.segments.len() as u64
    }

    /// Every listed part, oldest first.
    pub fn all_parts(&self) -> Vec<&PartEntry> {
        self.segments
            .iter()
            .flat_map(|s| s.parts.iter())
            .chain(self.open_parts.iter())
            .collect()
    }

    /// The newest listed part.
    pub fn last_part(&self) -> Option<&PartEntry> {
        self.all_parts().last().copied()
    }

    /// `(msn, part)` of the part after the newest listed one (what `_HLS_msn` / `_HLS_part`
    /// ask for to wait for the next part): the open segment and its part count.
    pub fn next_part(&self) -> (u64, u64) {
        (self.next_msn(), self.open_parts.len() as u64)
    }

    /// Whether part `index` of segment `msn` is listed.
    pub fn has_part(&self, msn: u64, index: u64) -> bool {
        self.all_parts()
            .iter()
            .any(|p| p.msn == msn && p.index == index)
    }

    /// The preload hint's URI.
    pub fn preload_hint_uri(&self) -> Option<&str> {
        self.preload_hint.as_deref().and_then(|a| attr(a, "URI"))
    }
}

/// Parses an RFC 3339 date-time (`2026-11-24T07:17:01.123Z`, `…+01:00`) into Unix milliseconds.
pub fn parse_date_time_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', 't'])?;
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let (clock, offset_min) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let i = time.rfind(['+', '-'])?;
        let (c, off) = time.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (h, m) = off[1..].split_once(':')?;
        (
            c,
            sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?),
        )
    };
    let mut c = clock.split(':');
    let h: i64 = c.next()?.parse().ok()?;
    let m: i64 = c.next()?.parse().ok()?;
    let sec: f64 = c.next()?.parse().ok()?;
    if c.next().is_some() || h > 23 || m > 59 || !(0.0..61.0).contains(&sec) {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = ((days * 86_400 + h * 3600 + m * 60 - offset_min * 60) as f64 + sec) * 1000.0;
    Some(ms.round() as i64)
}

/// Follows `/<path>/index.m3u8` to the first media playlist: `(its request target, the
/// multivariant playlist)`; `Err` on any failure.
pub fn media_playlist_target(
    client: &mut HttpClient,
    path: &str,
) -> Result<(String, Multivariant), String> {
    let base = multivariant_target(path);
    let resp = client.get_ok(&base)?;
    let mv = Multivariant::parse(&resp.text()).map_err(|e| format!("{base}: {e}"))?;
    let uri = mv.media_uris().into_iter().next().unwrap_or_default();
    Ok((resolve(&base, &uri), mv))
}

/// GETs and parses a media playlist (200 required).
pub fn fetch_media_playlist(
    client: &mut HttpClient,
    target: &str,
) -> Result<(HttpResponse, MediaPlaylist), String> {
    let resp = client.get_ok(target)?;
    let pl = MediaPlaylist::parse(&resp.text()).map_err(|e| format!("{target}: {e}"))?;
    Ok((resp, pl))
}
