//! [`HlsMuxer`]: one per path, shared by every HLS client of the path. Units go in with
//! `push_unit`; requests are answered at once or held (blocking reloads, preload hints, and
//! playlists asked for before the first segment) and come out of `poll_released`.

use super::blocking::{HeldRequests, LiveEdge, Wait};
use super::codecs::{codec_string, video_info};
use super::config::HlsConfig;
use super::playlist::{
    part_target_ns, render_media, render_multivariant, target_duration, MediaInput,
    MultivariantInput,
};
use super::request::{parse_file, parse_query, Resource};
use super::segmenter::Segmenter;
use super::{HlsAnswer, HlsError, HlsResponse};
use crate::media::{StreamDescription, Unit};
use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Content type of playlists.
pub const CONTENT_TYPE_PLAYLIST: &str = "application/vnd.apple.mpegurl";
/// Content type of fMP4 init segments, segments and parts.
pub const CONTENT_TYPE_MP4: &str = "video/mp4";
/// Content type of MPEG-TS segments.
pub const CONTENT_TYPE_TS: &str = "video/MP2T";
/// Content type of error answers (their body is empty).
pub const CONTENT_TYPE_ERROR: &str = "text/plain";
/// Cache-Control of every answer. Playlists change all the time, and the names of segments,
/// parts and the init segment start over (`seg0`, `part0`) when a republished path gets a new
/// muxer, so nothing may be cached under its name.
pub const CACHE_CONTROL: &str = "no-cache";

/// The shortest wait for the first segment of a playlist request (players time out at about
/// 10 s; a stream whose key frames are further apart waits three segment durations).
const FIRST_CONTENT_WAIT: Duration = Duration::from_secs(10);

/// The HLS muxer of one path: segments and parts in memory (bounded by `segment_count`, a
/// margin of two and `segment_max_size`), playlists rendered once per change.
///
/// Files (after `/<path>/`): `index.m3u8` (multivariant), `main_stream.m3u8` (one media
/// playlist carrying every track), `init.mp4`, `seg<N>.mp4` / `seg<N>.ts`, `part<N>.mp4`
/// (Low-Latency only); anything else is 404.
///
/// Held requests and their deadlines:
/// - a playlist asked for before there is one (no complete segment; two for the `fmp4`
///   variant, as MediaMTX) waits for it up to max(10 s, 3 × segment duration), then 503;
/// - a Low-Latency blocking reload (`_HLS_msn`, `_HLS_part`) is answered in the `push_unit`
///   call that completes the segment or part, or 503 after three target durations
///   (draft-pantos-hls-rfc8216bis §6.2.5.2); `_HLS_part` without `_HLS_msn`, a bad number, or
///   a request more than two segments (or the Advance Part Limit) ahead is 400 at once;
/// - a request for the preload-hinted part waits until it is complete, or 503 after three
///   target durations; other missing parts and segments are 404.
///
/// `_HLS_skip` is accepted and ignored (delta updates are not advertised). The mpegts and
/// fmp4 variants ignore every directive (they advertise no blocking reload).
#[derive(Debug, Clone)]
pub struct HlsMuxer {
    cfg: HlsConfig,
    segmenter: Segmenter,
    held: HeldRequests,
    released: VecDeque<(u64, HlsResponse)>,
    generation: u64,
    media_cache: Option<(u64, Bytes)>,
    multivariant_cache: Option<(u64, Bytes)>,
    closed: bool,
}

/// `now + wait`; when that overflows, a year from now (or `now` itself).
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 86_400)))
        .unwrap_or(now)
}

/// A 200 answer.
fn ok(content_type: &'static str, body: Vec<Bytes>) -> HlsResponse {
    HlsResponse {
        status: 200,
        content_type,
        body,
        cache_control: CACHE_CONTROL,
    }
}

/// An error answer with an empty body.
fn error(status: u16) -> HlsResponse {
    HlsResponse {
        status,
        content_type: CONTENT_TYPE_ERROR,
        body: Vec::new(),
        cache_control: CACHE_CONTROL,
    }
}

impl HlsMuxer {
    /// A muxer for the tracks of `desc` HLS carries (H.264, H.265, MPEG-4 audio, Opus; others
    /// are ignored, and so are tracks the container rejects, with a warning).
    /// [`HlsError::NoTracks`] when none is left. `cfg` is brought into range first
    /// ([`HlsConfig::sanitized`]); `now` is the creation time (unused: nothing expires before a
    /// request arrives).
    pub fn new(
        cfg: HlsConfig,
        desc: &StreamDescription,
        now: Instant,
    ) -> Result<HlsMuxer, HlsError> {
        let _ = now;
        let cfg = cfg.sanitized();
        let segmenter = Segmenter::new(&cfg, desc)?;
        Ok(HlsMuxer {
            cfg,
            segmenter,
            held: HeldRequests::default(),
            released: VecDeque::new(),
            generation: 0,
            media_cache: None,
            multivariant_cache: None,
            closed: false,
        })
    }

    /// Feeds one unit (in ring order: units of all tracks interleaved by arrival).
    /// `wall_clock_unix_ms` is the wall clock now, the EXT-X-PROGRAM-DATE-TIME of a segment
    /// this unit starts. Held requests this unit completes are released (drain
    /// [`poll_released`](Self::poll_released)).
    pub fn push_unit(&mut self, now: Instant, wall_clock_unix_ms: i64, unit: &Unit) {
        let _ = now;
        if self.closed {
            return;
        }
        self.segmenter.push(unit, wall_clock_unix_ms);
        if self.segmenter.take_changed() {
            self.generation += 1;
            self.release_ready();
        }
    }

    /// Answers a GET for `file` (the part of the URL after `/<path>/`) with its `query` (the
    /// text after `?`, with or without it). `Held`: the answer comes out of
    /// [`poll_released`](Self::poll_released) with the same `token`.
    pub fn handle_request(
        &mut self,
        now: Instant,
        file: &str,
        query: &str,
        token: u64,
    ) -> HlsAnswer {
        if self.closed {
            return HlsAnswer::Now(error(404));
        }
        let variant = self.cfg.variant;
        let Some(resource) = parse_file(file, variant) else {
            return HlsAnswer::Now(error(404));
        };
        match resource {
            Resource::Multivariant => {
                if self.has_content() {
                    HlsAnswer::Now(self.multivariant())
                } else {
                    self.hold(
                        token,
                        self.content_deadline(now),
                        Wait::Content { multivariant: true },
                    )
                }
            }
            Resource::MediaPlaylist => self.media_request(now, query, token),
            Resource::Init => match self.segmenter.init() {
                Some(init) => HlsAnswer::Now(ok(CONTENT_TYPE_MP4, vec![init.clone()])),
                None => HlsAnswer::Now(error(404)),
            },
            Resource::Segment(msn) => match self.segmenter.store().get(msn) {
                Some(seg) => {
                    let content_type = if variant.is_fmp4() {
                        CONTENT_TYPE_MP4
                    } else {
                        CONTENT_TYPE_TS
                    };
                    HlsAnswer::Now(ok(content_type, seg.body.clone()))
                }
                None => HlsAnswer::Now(error(404)),
            },
            Resource::Part(id) => match self.segmenter.part(id) {
                Some(part) => HlsAnswer::Now(ok(CONTENT_TYPE_MP4, part.body.clone())),
                None if id == self.segmenter.next_part_id() => {
                    self.hold(token, self.reload_deadline(now), Wait::Part(id))
                }
                None => HlsAnswer::Now(error(404)),
            },
        }
    }

    /// The next held request that became answerable (after `push_unit`, `handle_timeout` or
    /// `close`), with its token.
    pub fn poll_released(&mut self) -> Option<(u64, HlsResponse)> {
        self.released.pop_front()
    }

    /// The earliest deadline of a held request.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.held.earliest()
    }

    /// Answers 503 (Service Unavailable, §6.2.5.2) to every held request whose deadline is
    /// `now` or earlier.
    pub fn handle_timeout(&mut self, now: Instant) {
        for h in self.held.take_where(|h| h.deadline <= now) {
            self.released.push_back((h.token, error(503)));
        }
    }

    /// Forgets a request (the client went away): held or released but not yet polled.
    pub fn forget(&mut self, token: u64) {
        self.held.forget(token);
        self.released.retain(|(t, _)| *t != token);
    }

    /// Ends the stream: every held request gets 404 (the presentation is gone, §6.2.1) and so
    /// does every later request.
    pub fn close(&mut self) {
        self.closed = true;
        for h in self.held.take_where(|_| true) {
            self.released.push_back((h.token, error(404)));
        }
    }

    /// How many requests are held.
    pub fn held_count(&self) -> usize {
        self.held.len()
    }

    /// The bytes of media held: kept segments and the open segment (an upper bound).
    pub fn memory_bytes(&self) -> u64 {
        self.segmenter
            .store()
            .bytes()
            .saturating_add(self.segmenter.open_size())
    }

    /// The segmenter (tests look inside).
    #[cfg(test)]
    pub(super) fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    /// A media playlist request: directives (Low-Latency only), then the playlist or a hold.
    fn media_request(&mut self, now: Instant, query: &str, token: u64) -> HlsAnswer {
        if self.cfg.variant.has_parts() {
            let Ok(d) = parse_query(query) else {
                return HlsAnswer::Now(error(400));
            };
            if d.skip {
                // §6.2.5.1: without CAN-SKIP-UNTIL the directive is ignored.
                tracing::trace!("HLS: _HLS_skip ignored (delta updates are not offered)");
            }
            match (d.msn, d.part) {
                (None, Some(_)) => return HlsAnswer::Now(error(400)),
                (Some(msn), part) => {
                    let part_target = self.part_target_ns();
                    let edge = self.edge();
                    if edge.too_far(msn, part, part_target) {
                        return HlsAnswer::Now(error(400));
                    }
                    if self.has_content() && edge.reload_ready(msn, part) {
                        return HlsAnswer::Now(self.media());
                    }
                    return self.hold(token, self.reload_deadline(now), Wait::Reload { msn, part });
                }
                (None, None) => {}
            }
        }
        if self.has_content() {
            HlsAnswer::Now(self.media())
        } else {
            self.hold(
                token,
                self.content_deadline(now),
                Wait::Content {
                    multivariant: false,
                },
            )
        }
    }

    /// Holds a request, or answers 503 when too many are held.
    fn hold(&mut self, token: u64, deadline: Instant, wait: Wait) -> HlsAnswer {
        if self.held.hold(token, deadline, wait) {
            HlsAnswer::Held
        } else {
            HlsAnswer::Now(error(503))
        }
    }

    /// Answers the held requests the latest part or segment satisfied.
    fn release_ready(&mut self) {
        let has_content = self.has_content();
        let segmenter = &self.segmenter;
        let edge = LiveEdge {
            store: segmenter.store(),
            next_msn: segmenter.next_msn(),
            open_parts: segmenter.open_parts().len() as u64,
        };
        let ready = self.held.take_where(|h| match h.wait {
            Wait::Content { .. } => has_content,
            Wait::Reload { msn, part } => has_content && edge.reload_ready(msn, part),
            Wait::Part(id) => segmenter.part(id).is_some(),
        });
        for h in ready {
            let response = match h.wait {
                Wait::Content { multivariant: true } => self.multivariant(),
                Wait::Content {
                    multivariant: false,
                }
                | Wait::Reload { .. } => self.media(),
                Wait::Part(id) => match self.segmenter.part(id) {
                    Some(p) => ok(CONTENT_TYPE_MP4, p.body.clone()),
                    None => error(404),
                },
            };
            self.released.push_back((h.token, response));
        }
    }

    /// Whether the playlists can be served: one complete segment (two for `fmp4`).
    fn has_content(&self) -> bool {
        let need = if self.cfg.variant.is_fmp4() && !self.cfg.variant.has_parts() {
            2
        } else {
            1
        };
        self.segmenter.store().kept().len() >= need
    }

    /// The live edge for the blocking rules.
    fn edge(&self) -> LiveEdge<'_> {
        LiveEdge {
            store: self.segmenter.store(),
            next_msn: self.segmenter.next_msn(),
            open_parts: self.segmenter.open_parts().len() as u64,
        }
    }

    /// EXT-X-TARGETDURATION now.
    fn target_duration(&self) -> u64 {
        let fallback = i64::try_from(self.cfg.segment_duration.as_nanos()).unwrap_or(i64::MAX);
        target_duration(self.segmenter.store().listed(), fallback)
    }

    /// PART-TARGET now, in nanoseconds.
    fn part_target_ns(&self) -> i64 {
        let configured = i64::try_from(self.cfg.part_duration.as_nanos()).unwrap_or(i64::MAX);
        part_target_ns(
            self.segmenter.store().listed(),
            self.segmenter.open_parts(),
            configured,
        )
    }

    /// When a blocking request gets 503: three target durations from now.
    fn reload_deadline(&self, now: Instant) -> Instant {
        later(
            now,
            Duration::from_secs(self.target_duration().saturating_mul(3)),
        )
    }

    /// When a playlist request waiting for the first segment gets 503.
    fn content_deadline(&self, now: Instant) -> Instant {
        later(
            now,
            FIRST_CONTENT_WAIT.max(self.cfg.segment_duration.saturating_mul(3)),
        )
    }

    /// The media playlist (rendered once per change).
    fn media(&mut self) -> HlsResponse {
        let body = match &self.media_cache {
            Some((g, b)) if *g == self.generation => b.clone(),
            _ => {
                let text = render_media(&MediaInput {
                    variant: self.cfg.variant,
                    segments: self.segmenter.store().listed(),
                    open_parts: self.segmenter.open_parts(),
                    next_part_id: self.segmenter.next_part_id(),
                    target_duration: self.target_duration(),
                    part_target_ns: self.part_target_ns(),
                });
                let b = Bytes::from(text);
                self.media_cache = Some((self.generation, b.clone()));
                b
            }
        };
        ok(CONTENT_TYPE_PLAYLIST, vec![body])
    }

    /// The multivariant playlist (rendered once per change).
    fn multivariant(&mut self) -> HlsResponse {
        let body = match &self.multivariant_cache {
            Some((g, b)) if *g == self.generation => b.clone(),
            _ => {
                let b = Bytes::from(self.render_multivariant());
                self.multivariant_cache = Some((self.generation, b.clone()));
                b
            }
        };
        ok(CONTENT_TYPE_PLAYLIST, vec![body])
    }

    /// Renders the multivariant playlist from the tracks and the listed segments.
    fn render_multivariant(&self) -> String {
        let set = self.segmenter.tracks();
        let mut codecs: Vec<String> = Vec::new();
        let mut all_known = true;
        let mut video = None;
        for (track, info) in set.desc.tracks.iter().zip(&set.tracks) {
            if !info.carried {
                continue;
            }
            match codec_string(track, &info.params) {
                Some(c) if !codecs.contains(&c) => codecs.push(c),
                Some(_) => {}
                None => all_known = false,
            }
            if video.is_none() && info.codec.is_video() {
                video = video_info(info.codec, &info.params);
            }
        }
        render_multivariant(&MultivariantInput {
            variant: self.cfg.variant,
            segments: self.segmenter.store().listed(),
            codecs: (all_known && !codecs.is_empty()).then(|| codecs.join(",")),
            resolution: video.map(|v| (v.width, v.height)),
            frame_rate: video.and_then(|v| v.frame_rate),
        })
    }
}
