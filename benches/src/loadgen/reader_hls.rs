//! An HLS reader: fetches the playlist (following a multivariant playlist to its first
//! variant), starts at the newest segment, then fetches every new segment in order, reloading
//! the media playlist every half target duration (200 ms to 1 s). Markers are found in each
//! segment (fMP4 as is, MPEG-TS with its packet headers removed); a segment's frames are
//! "received" when the segment is. One request in flight on one keep-alive connection.

use super::http::ResponseReader;
use super::marker::{markers_in_bytes, ts_payloads};
use super::session::{Io, Session};
use super::url::{resolve_path, Url};
use std::collections::VecDeque;

/// The largest playlist or segment accepted.
const MAX_BODY: usize = 64 << 20;
/// The reload interval before the playlist tells a target duration, and after errors.
const RETRY_US: u64 = 500_000;

/// What the request in flight asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Playlist,
    Segment(u64),
}

/// A media playlist's facts the reader uses.
#[derive(Debug, Default, PartialEq, Eq)]
struct MediaPlaylist {
    media_sequence: u64,
    target_duration_s: u64,
    segments: Vec<String>,
    variant: Option<String>,
}

/// Reads what the reader needs from a playlist.
fn parse_playlist(text: &str) -> MediaPlaylist {
    let mut p = MediaPlaylist::default();
    let mut variant_next = false;
    let mut segment_next = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            p.media_sequence = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            p.target_duration_s = v.trim().parse().unwrap_or(0);
        } else if line.starts_with("#EXT-X-STREAM-INF") {
            variant_next = true;
        } else if line.starts_with("#EXTINF") {
            segment_next = true;
        } else if !line.starts_with('#') {
            if variant_next && p.variant.is_none() {
                p.variant = Some(line.to_owned());
            } else if segment_next {
                p.segments.push(line.to_owned());
            }
            variant_next = false;
            segment_next = false;
        }
    }
    p
}

/// One HLS reader.
pub struct HlsReader {
    url: Url,
    playlist_path: String,
    http: ResponseReader,
    pending: Option<Pending>,
    /// Segments to fetch: media sequence number and path.
    queue: VecDeque<(u64, String)>,
    /// The next segment wanted (`None` until the first playlist).
    next_seq: Option<u64>,
    next_reload_us: u64,
    reload_us: u64,
    playing: bool,
}

impl HlsReader {
    /// A reader of the playlist at `url` (`http://host:port/…m3u8`).
    pub fn new(url: Url) -> HlsReader {
        HlsReader {
            playlist_path: url.path.clone(),
            url,
            http: ResponseReader::new(MAX_BODY),
            pending: None,
            queue: VecDeque::new(),
            next_seq: None,
            next_reload_us: 0,
            reload_us: RETRY_US,
            playing: false,
        }
    }

    /// Queues a GET of `path`.
    fn get(&mut self, io: &mut Io<'_>, path: &str, what: Pending) {
        io.out.extend_from_slice(
            format!(
                "GET {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: weir-loadgen\r\n\
                 Connection: keep-alive\r\n\r\n",
                self.url.authority()
            )
            .as_bytes(),
        );
        self.pending = Some(what);
    }

    /// Sends the next request if none is in flight: a queued segment, else a due reload.
    fn next_request(&mut self, io: &mut Io<'_>) {
        if self.pending.is_some() {
            return;
        }
        if let Some((seq, path)) = self.queue.pop_front() {
            self.get(io, &path, Pending::Segment(seq));
        } else if io.now_us >= self.next_reload_us {
            let p = self.playlist_path.clone();
            self.get(io, &p, Pending::Playlist);
        }
    }

    /// A playlist arrived.
    fn on_playlist(&mut self, status: u16, body: &[u8], io: &mut Io<'_>) {
        self.next_reload_us = io.now_us + self.reload_us;
        if status != 200 {
            self.next_reload_us = io.now_us + RETRY_US;
            return;
        }
        let p = parse_playlist(&String::from_utf8_lossy(body));
        if let Some(v) = p.variant {
            // A multivariant playlist: read its first variant from now on, at once.
            self.playlist_path = resolve_path(&self.playlist_path, &v);
            self.next_reload_us = io.now_us;
            return;
        }
        if !self.playing && !p.segments.is_empty() {
            self.playing = true;
            io.stats.playing_us = Some(io.now_us);
        }
        if p.target_duration_s > 0 {
            self.reload_us = (p.target_duration_s * 500_000).clamp(200_000, 1_000_000);
        }
        let last = p.media_sequence + p.segments.len() as u64;
        let next = *self
            .next_seq
            .get_or_insert(last.saturating_sub(1).max(p.media_sequence));
        let queued_to = self.queue.back().map_or(next, |(s, _)| s + 1);
        for (i, uri) in p.segments.iter().enumerate() {
            let seq = p.media_sequence + i as u64;
            if seq >= queued_to {
                let path = resolve_path(&self.playlist_path, uri);
                self.queue.push_back((seq, path));
            }
        }
    }

    /// A segment arrived.
    fn on_segment(&mut self, seq: u64, status: u16, body: &[u8], io: &mut Io<'_>) {
        self.next_seq = Some(seq + 1);
        if status != 200 {
            return;
        }
        let (now, stats, log) = (io.now_us, &mut *io.stats, io.log);
        let mut on = |m| stats.on_marker(m, now, log);
        if body.first() == Some(&0x47) && body.len() % 188 == 0 {
            markers_in_bytes(&ts_payloads(body), &mut on);
        } else {
            markers_in_bytes(body, &mut on);
        }
    }
}

impl Session for HlsReader {
    fn start(&mut self, io: &mut Io<'_>) -> Result<(), String> {
        let p = self.playlist_path.clone();
        self.get(io, &p, Pending::Playlist);
        Ok(())
    }

    fn on_tcp(&mut self, data: &[u8], io: &mut Io<'_>) -> Result<(), String> {
        let Some(resp) = self.http.feed(data)? else {
            return Ok(());
        };
        match self.pending.take() {
            Some(Pending::Playlist) => self.on_playlist(resp.status, &resp.body, io),
            Some(Pending::Segment(seq)) => self.on_segment(seq, resp.status, &resp.body, io),
            None => return Err("HTTP response without a request".into()),
        }
        self.next_request(io);
        Ok(())
    }

    fn on_tick(&mut self, io: &mut Io<'_>) -> Result<(), String> {
        self.next_request(io);
        Ok(())
    }

    fn is_playing(&self) -> bool {
        self.playing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_media_and_multivariant_playlists() {
        let m = "#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n\
                 #EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2.000,\nseg7.mp4\n\
                 #EXT-X-PART:DURATION=0.2,URI=\"part1.mp4\"\n#EXTINF:2.0,\nseg8.mp4\n";
        let p = parse_playlist(m);
        assert_eq!(p.media_sequence, 7);
        assert_eq!(p.target_duration_s, 2);
        assert_eq!(p.segments, vec!["seg7.mp4", "seg8.mp4"]);
        let v = parse_playlist("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nvideo.m3u8\n");
        assert_eq!(v.variant.as_deref(), Some("video.m3u8"));
    }
}
