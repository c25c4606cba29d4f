//! The publisher side: RTMP audio/video message bodies in, a stream description and units out.

use super::audio::{self, AudioCodec, AudioPacket};
use super::metadata::{announced_audio, announced_video, Announced};
use super::nalu::split_length_prefixed;
use super::timestamp::ms_to_ticks;
use super::track::{description_from_tracks, TrackInfo};
use super::video::{self, VideoCodec, VideoPacket, VideoTag};
use super::{AvcConfig, FlvError, HevcConfig, MetaValue, OpusHead};
use crate::codec::mpeg4audio::AudioSpecificConfig;
use crate::codec::{h264, h265};
use crate::media::StreamDescription;
use bytes::Bytes;
use smallvec::SmallVec;
use std::sync::Arc;

/// How much media time (message timestamps) the demuxer waits, after the first sequence header,
/// for the sequence headers of the other tracks before publishing without them.
pub const ANALYZE_MS: i64 = 1000;
/// The most media messages the demuxer buffers while waiting (see [`ANALYZE_MS`]).
pub const ANALYZE_MESSAGES: u32 = 256;
/// The most payload bytes the demuxer buffers while waiting.
const MAX_PENDING_BYTES: usize = 16 << 20;

/// What the demuxer produces.
#[derive(Debug, Clone, PartialEq)]
pub enum FlvOutput {
    /// The tracks are known: publish with this description. Emitted once when the stream becomes
    /// ready, and again whenever a track is added or its codec configuration changes (a new
    /// sequence header with different parameter sets): the integration then restarts the stream
    /// with the new description (readers reconnect), as MediaMTX does. Track indices of later
    /// units refer to the latest description.
    Tracks(Arc<StreamDescription>),
    /// One access unit of track `track` (index into the latest description).
    Unit {
        /// The track index.
        track: usize,
        /// Presentation timestamp in the track's clock.
        pts: i64,
        /// Decoding timestamp in the track's clock.
        dts: i64,
        /// Whether a decoder can start here.
        key: bool,
        /// NAL units without length prefixes (H.264/H.265), one AAC access unit, one Opus
        /// packet, or one AV1 temporal unit / VP9 frame; zero-copy slices of the message body.
        payload: SmallVec<[Bytes; 4]>,
    },
}

/// The configuration of the video track.
#[derive(Debug)]
struct VideoState {
    codec: VideoCodec,
    /// NAL unit length size (H.264/H.265).
    length_size: usize,
    info: TrackInfo,
}

/// The configuration of the audio track.
#[derive(Debug)]
struct AudioState {
    codec: AudioCodec,
    info: TrackInfo,
}

/// A unit waiting for the stream to become ready.
#[derive(Debug)]
struct Pending {
    is_video: bool,
    pts: i64,
    dts: i64,
    key: bool,
    payload: SmallVec<[Bytes; 4]>,
}

/// What one message changed.
enum Event {
    Nothing,
    /// A sequence header gave a track a new (or first) configuration.
    ConfigChanged,
    Unit(Pending),
}

/// Turns the audio and video messages of an RTMP publisher into units.
///
/// # When the stream is ready
///
/// Units before their track's sequence header are dropped (counted by
/// [`FlvDemuxer::dropped_units`]). The stream becomes ready — one [`FlvOutput::Tracks`], then
/// the units buffered meanwhile — as soon as:
///
/// - when `onMetaData` announced codecs (`videocodecid` / `audiocodecid`): every announced codec
///   this module reads has its sequence header (announced codecs it cannot read are not waited
///   for);
/// - without announcement: both a video and an audio track have their sequence headers;
/// - in any case, once [`ANALYZE_MS`] of media time or [`ANALYZE_MESSAGES`] messages have passed
///   since the first sequence header (a track that shows up later adds a new `Tracks`).
///
/// Key units: H.264 / H.265 units are key when they contain an IDR (H.264) or IRAP (H.265) NAL
/// unit — the FLV frame type is not trusted, since encoders with intra refresh mark recovery
/// points as key frames, where a reader could not start; AV1 / VP9 units are key when the frame
/// type says so; audio units always are.
#[derive(Debug, Default)]
pub struct FlvDemuxer {
    meta_video: Option<Announced>,
    meta_audio: Option<Announced>,
    video: Option<VideoState>,
    audio: Option<AudioState>,
    /// Set once ready.
    description: Option<Arc<StreamDescription>>,
    video_track: Option<usize>,
    audio_track: Option<usize>,
    pending: Vec<Pending>,
    pending_bytes: usize,
    /// Timestamp of the first sequence header and messages seen since.
    window: Option<(i64, u32)>,
    dropped: u64,
}

impl FlvDemuxer {
    /// A demuxer that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads the codec announcements of `onMetaData` (`videocodecid` / `audiocodecid`: legacy
    /// numeric ids, FourCC numbers, or FourCC strings). Optional; only matters before the stream
    /// is ready.
    pub fn handle_metadata(&mut self, entries: &[(String, MetaValue)]) {
        for (key, value) in entries {
            if key.eq_ignore_ascii_case("videocodecid") {
                self.meta_video = Some(announced_video(value));
            } else if key.eq_ignore_ascii_case("audiocodecid") {
                self.meta_audio = Some(announced_audio(value));
            }
        }
    }

    /// Feeds one audio (`is_video = false`) or video message body with its timestamp (ms,
    /// unwrapped by the caller). Appends what became available to `out`. Errors leave the
    /// demuxer usable: [`FlvError::Malformed`] blames the publisher, [`FlvError::Unsupported`]
    /// means the message was ignored.
    pub fn push(
        &mut self,
        is_video: bool,
        timestamp_ms: i64,
        body: &Bytes,
        out: &mut Vec<FlvOutput>,
    ) -> Result<(), FlvError> {
        let event = if is_video {
            match video::parse_video(body)? {
                Some(tag) => self.video_message(timestamp_ms, tag)?,
                None => Event::Nothing,
            }
        } else {
            match audio::parse_audio(body)? {
                Some((codec, packet)) => self.audio_message(timestamp_ms, codec, packet)?,
                None => Event::Nothing,
            }
        };
        let ready = self.description.is_some();
        match event {
            Event::Nothing => {}
            Event::ConfigChanged => {
                if ready {
                    self.publish(out);
                } else {
                    // Units of a replaced configuration must not reach the new track.
                    self.drop_pending(is_video);
                    self.window.get_or_insert((timestamp_ms, 0));
                }
            }
            Event::Unit(p) if ready => self.emit(p, out),
            Event::Unit(p) => {
                self.pending_bytes += p.payload.iter().map(Bytes::len).sum::<usize>();
                self.pending.push(p);
            }
        }
        if !ready {
            if let Some((_, n)) = &mut self.window {
                *n = n.saturating_add(1);
            }
            if self.ready_now(timestamp_ms) {
                self.publish(out);
                let pending = std::mem::take(&mut self.pending);
                self.pending_bytes = 0;
                for p in pending {
                    self.emit(p, out);
                }
            }
        }
        Ok(())
    }

    /// The stream description once the stream is ready (the latest one after changes).
    pub fn description(&self) -> Option<Arc<StreamDescription>> {
        self.description.clone()
    }

    /// Units dropped because their track had no sequence header yet (or a different codec).
    pub fn dropped_units(&self) -> u64 {
        self.dropped
    }

    /// Handles one video message.
    fn video_message(&mut self, ts: i64, tag: VideoTag) -> Result<Event, FlvError> {
        match tag.packet {
            VideoPacket::SequenceStart(data) => {
                let (length_size, info) = match tag.codec {
                    VideoCodec::Avc => {
                        let c = AvcConfig::parse(&data)?;
                        (usize::from(c.length_size), TrackInfo::h264(&c))
                    }
                    VideoCodec::Hevc => {
                        let c = HevcConfig::parse(&data)?;
                        (usize::from(c.length_size), TrackInfo::h265(&c))
                    }
                    VideoCodec::Av1 => (0, TrackInfo::av1(&data)),
                    VideoCodec::Vp9 => (0, TrackInfo::vp9(&data)),
                };
                let changed = self.video.as_ref().is_none_or(|v| v.info != info);
                self.video = Some(VideoState {
                    codec: tag.codec,
                    length_size,
                    info,
                });
                Ok(if changed {
                    Event::ConfigChanged
                } else {
                    Event::Nothing
                })
            }
            VideoPacket::CodedFrames { cts, data } => {
                let Some(state) = self.video.as_ref().filter(|v| v.codec == tag.codec) else {
                    self.dropped += 1;
                    return Ok(Event::Nothing);
                };
                let mut payload = SmallVec::new();
                let key = match state.codec {
                    VideoCodec::Avc => {
                        split_length_prefixed(&data, state.length_size, &mut payload)?;
                        payload.iter().any(|n| h264::is_key_nalu(n))
                    }
                    VideoCodec::Hevc => {
                        split_length_prefixed(&data, state.length_size, &mut payload)?;
                        payload.iter().any(|n| h265::is_key_nalu(n))
                    }
                    VideoCodec::Av1 | VideoCodec::Vp9 => {
                        if !data.is_empty() {
                            payload.push(data);
                        }
                        matches!(tag.frame_type, video::FRAME_KEY | 4)
                    }
                };
                if payload.is_empty() {
                    return Ok(Event::Nothing);
                }
                let clock = state.info.clock_rate;
                let pts_ms = ts.saturating_add(i64::from(cts.max(0)));
                Ok(Event::Unit(Pending {
                    is_video: true,
                    pts: ms_to_ticks(pts_ms, clock),
                    dts: ms_to_ticks(ts, clock),
                    key,
                    payload,
                }))
            }
            VideoPacket::SequenceEnd => Ok(Event::Nothing),
        }
    }

    /// Handles one audio message.
    fn audio_message(
        &mut self,
        ts: i64,
        codec: AudioCodec,
        packet: AudioPacket,
    ) -> Result<Event, FlvError> {
        match packet {
            AudioPacket::SequenceStart(data) => {
                let info = match codec {
                    AudioCodec::Aac => {
                        let c = AudioSpecificConfig::parse(&data)
                            .map_err(|_| FlvError::Malformed("bad AudioSpecificConfig"))?;
                        TrackInfo::aac(&c)
                    }
                    AudioCodec::Opus => {
                        // An empty sequence start means mono/stereo (E-RTMP v2).
                        let head = if data.is_empty() {
                            OpusHead::stereo(true)
                        } else {
                            OpusHead::parse(&data)?
                        };
                        if head.channel_count > 2 {
                            return Err(FlvError::Unsupported("multichannel Opus"));
                        }
                        TrackInfo::opus(&head)
                    }
                };
                let changed = self.audio.as_ref().is_none_or(|a| a.info != info);
                self.audio = Some(AudioState { codec, info });
                Ok(if changed {
                    Event::ConfigChanged
                } else {
                    Event::Nothing
                })
            }
            AudioPacket::Frame(data) => {
                let Some(state) = self.audio.as_ref().filter(|a| a.codec == codec) else {
                    self.dropped += 1;
                    return Ok(Event::Nothing);
                };
                if data.is_empty() {
                    return Ok(Event::Nothing);
                }
                let t = ms_to_ticks(ts, state.info.clock_rate);
                let mut payload = SmallVec::new();
                payload.push(data);
                Ok(Event::Unit(Pending {
                    is_video: false,
                    pts: t,
                    dts: t,
                    key: true,
                    payload,
                }))
            }
            AudioPacket::SequenceEnd => Ok(Event::Nothing),
        }
    }

    /// Whether the stream can be published now (see the type documentation).
    fn ready_now(&self, ts: i64) -> bool {
        let (have_v, have_a) = (self.video.is_some(), self.audio.is_some());
        if !have_v && !have_a {
            return false;
        }
        let mv = self.meta_video.unwrap_or(Announced::Nothing);
        let ma = self.meta_audio.unwrap_or(Announced::Nothing);
        let satisfied = if mv == Announced::Nothing && ma == Announced::Nothing {
            have_v && have_a
        } else {
            (mv != Announced::Supported || have_v) && (ma != Announced::Supported || have_a)
        };
        let expired = self.window.is_some_and(|(start, n)| {
            ts.saturating_sub(start) >= ANALYZE_MS || n >= ANALYZE_MESSAGES
        });
        satisfied || expired || self.pending_bytes >= MAX_PENDING_BYTES
    }

    /// Builds the description from the current tracks (video first) and emits it.
    fn publish(&mut self, out: &mut Vec<FlvOutput>) {
        let mut infos = Vec::with_capacity(2);
        self.video_track = self.video.as_ref().map(|v| {
            infos.push(v.info.clone());
            infos.len() - 1
        });
        self.audio_track = self.audio.as_ref().map(|a| {
            infos.push(a.info.clone());
            infos.len() - 1
        });
        let desc = Arc::new(description_from_tracks(&infos));
        self.description = Some(desc.clone());
        out.push(FlvOutput::Tracks(desc));
    }

    /// Emits a unit on its track.
    fn emit(&mut self, p: Pending, out: &mut Vec<FlvOutput>) {
        let track = if p.is_video {
            self.video_track
        } else {
            self.audio_track
        };
        match track {
            Some(track) => out.push(FlvOutput::Unit {
                track,
                pts: p.pts,
                dts: p.dts,
                key: p.key,
                payload: p.payload,
            }),
            None => self.dropped += 1,
        }
    }

    /// Drops the buffered units of one kind.
    fn drop_pending(&mut self, is_video: bool) {
        let before = self.pending.len();
        self.pending.retain(|p| p.is_video != is_video);
        self.dropped += (before - self.pending.len()) as u64;
        self.pending_bytes = self
            .pending
            .iter()
            .flat_map(|p| p.payload.iter())
            .map(Bytes::len)
            .sum();
    }
}
