//! The reader side: units of any source in, RTMP audio/video message bodies out.

use super::audio::{put_aac_header, put_ex_audio_header};
use super::exheader::{FOURCC_HEVC, FOURCC_OPUS, PACKET_CODED_FRAMES, PACKET_SEQUENCE_START};
use super::metadata::{
    audio_codec_id_aac, audio_codec_id_opus, video_codec_id_avc, video_codec_id_hevc,
};
use super::plan::{NalSyntax, PayloadRef, Planned, PlannedMessage, TagHeader};
use super::timestamp::{cts_ms, ticks_to_ms};
use super::video::{put_avc_header, put_ex_header};
use super::{AvcConfig, FlvError, HevcConfig, MetaValue, OpusHead};
use crate::codec::mpeg4audio::{AudioSpecificConfig, Mpeg4AudioParams};
use crate::codec::{h264, h265, opus, CodecKind};
use crate::media::{StreamDescription, Track, Unit};
use bytes::Bytes;

/// One RTMP media message for a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvMessage {
    /// Video (message type 9) or audio (type 8).
    pub is_video: bool,
    /// The RTMP timestamp in ms (the RTMP layer writes it modulo 2^32).
    pub timestamp_ms: i64,
    /// The FLV tag body.
    pub body: Bytes,
}

/// The video codecs the muxer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VideoCodec {
    H264,
    H265,
}

/// The carried video track.
#[derive(Debug)]
struct MuxVideo {
    track: usize,
    codec: VideoCodec,
    clock: u32,
    vps: Option<Bytes>,
    sps: Option<Bytes>,
    pps: Option<Bytes>,
    /// The current sequence header body, once the parameter sets are known.
    header: Option<Bytes>,
    /// The sequence header last handed to the caller.
    sent: Option<Bytes>,
    /// Whether a key unit has been sent (earlier units are skipped).
    started: bool,
}

/// The audio codecs the muxer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AudioCodec {
    /// AAC with its samples per access unit.
    Aac {
        frame_length: u32,
    },
    Opus,
}

/// The carried audio track.
#[derive(Debug)]
struct MuxAudio {
    track: usize,
    codec: AudioCodec,
    clock: u32,
    channels: u8,
    header: Bytes,
    sent: Option<Bytes>,
}

/// Turns the units of a stream into RTMP messages for one reader.
///
/// H.264 goes out as legacy FLV (codec id 7), H.265 as Enhanced RTMP `hvc1` (CodedFrames with a
/// CTS, CodedFramesX without; ffmpeg ≥ 6.1 reads it), AAC as sound format 10 (`0xAF`), Opus as
/// Enhanced RTMP v2 `Opus` (ffmpeg ≥ 8.0). NAL units go out with 4-byte lengths; access unit
/// delimiters are dropped, in-band parameter sets and SEI are kept (players handle them, and a
/// reader joining at a key frame then has them even if the sequence header is stale). Video
/// units before the first key unit are skipped (as MediaMTX does), as are units of tracks that
/// are not carried and units with an empty payload (not depacketized).
///
/// Sequence headers: built from the SDP parameter sets, or from the in-band ones of the first
/// units when the SDP has none; rebuilt when a unit carries an SPS (or, for H.265, a VPS) that
/// differs from the header's — a resolution change — and then sent again before that unit.
#[derive(Debug)]
pub struct FlvMuxer {
    video: Option<MuxVideo>,
    audio: Option<MuxAudio>,
    /// Where message bodies are built before they are handed out by
    /// [`FlvMuxer::push_unit_with`] (reused: no allocation per unit once it has grown to the
    /// largest unit; untouched by readers that write planned messages from the ring).
    scratch: Vec<u8>,
}

/// The value of fmtp parameter `key`, if present.
fn fmtp_value<'a>(track: &'a Track, key: &str) -> Option<&'a str> {
    let fmtp = track.fmtp.as_deref()?;
    crate::sdp::fmtp_params(fmtp)
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

impl MuxVideo {
    /// The carried video track of `track`, if it is H.264 or H.265.
    fn new(index: usize, track: &Track) -> Option<MuxVideo> {
        let fmtp = track.fmtp.as_deref();
        let (codec, vps, sps, pps) = match track.codec {
            CodecKind::H264 => {
                let p = fmtp
                    .and_then(|f| h264::H264Params::from_fmtp(f).ok())
                    .unwrap_or_default();
                (VideoCodec::H264, None, p.sps, p.pps)
            }
            CodecKind::H265 => {
                let p = fmtp
                    .and_then(|f| h265::H265Params::from_fmtp(f).ok())
                    .unwrap_or_default();
                (VideoCodec::H265, p.vps, p.sps, p.pps)
            }
            _ => return None,
        };
        let mut v = MuxVideo {
            track: index,
            codec,
            clock: track.clock_rate,
            vps,
            sps,
            pps,
            header: None,
            sent: None,
            started: false,
        };
        v.rebuild();
        Some(v)
    }

    /// Rebuilds the sequence header from the current parameter sets (kept as is if they are
    /// incomplete or unreadable).
    fn rebuild(&mut self) {
        let mut out = Vec::new();
        match self.codec {
            VideoCodec::H264 => {
                let (Some(sps), Some(pps)) = (&self.sps, &self.pps) else {
                    return;
                };
                let Ok(c) = AvcConfig::from_parameter_sets(sps.clone(), pps.clone()) else {
                    return;
                };
                put_avc_header(&mut out, true, 0, 0);
                out.extend_from_slice(&c.to_bytes());
            }
            VideoCodec::H265 => {
                let (Some(vps), Some(sps), Some(pps)) = (&self.vps, &self.sps, &self.pps) else {
                    return;
                };
                let Ok(c) = HevcConfig::from_parameter_sets(vps.clone(), sps.clone(), pps.clone())
                else {
                    return;
                };
                put_ex_header(&mut out, true, PACKET_SEQUENCE_START, FOURCC_HEVC, 0);
                out.extend_from_slice(&c.to_bytes());
            }
        }
        self.header = Some(out.into());
    }

    /// (is access unit delimiter, is key, parameter set slot) of a NAL unit.
    fn classify(&self, n: &[u8]) -> (bool, bool, Option<usize>) {
        match self.codec {
            VideoCodec::H264 => {
                let t = h264::nalu_type(n);
                let slot = match t {
                    h264::NAL_SPS => Some(1),
                    h264::NAL_PPS => Some(2),
                    _ => None,
                };
                (t == h264::NAL_AUD, h264::is_key_nalu(n), slot)
            }
            VideoCodec::H265 => {
                let t = h265::nalu_type(n);
                let slot = match t {
                    h265::NAL_VPS => Some(0),
                    h265::NAL_SPS => Some(1),
                    h265::NAL_PPS => Some(2),
                    _ => None,
                };
                (t == h265::NAL_AUD, h265::is_key_nalu(n), slot)
            }
        }
    }
}

impl MuxAudio {
    /// The carried audio track of `track`, if it is AAC with a config, or Opus.
    fn new(index: usize, track: &Track) -> Option<MuxAudio> {
        let mut header = Vec::new();
        let (codec, clock, channels) = match track.codec {
            CodecKind::Mpeg4Audio => {
                let config: AudioSpecificConfig = track
                    .fmtp
                    .as_deref()
                    .and_then(|f| Mpeg4AudioParams::from_fmtp(f).ok())
                    .and_then(|p| p.config)?;
                put_aac_header(&mut header, true);
                header.extend_from_slice(&config.raw);
                let codec = AudioCodec::Aac {
                    frame_length: config.frame_length,
                };
                (codec, track.clock_rate, config.channel_count)
            }
            CodecKind::Opus => {
                let stereo = fmtp_value(track, "sprop-stereo").is_none_or(|v| v != "0");
                let head = OpusHead::stereo(stereo);
                put_ex_audio_header(&mut header, true, FOURCC_OPUS);
                header.extend_from_slice(&head.to_bytes());
                (AudioCodec::Opus, opus::OPUS_CLOCK_RATE, head.channel_count)
            }
            _ => return None,
        };
        Some(MuxAudio {
            track: index,
            codec,
            clock,
            channels,
            header: header.into(),
            sent: None,
        })
    }
}

impl FlvMuxer {
    /// Picks the first H.264/H.265 track and the first AAC (`mpeg4-generic` with a `config`) or
    /// Opus track of `desc`. `Err(Unsupported)` if none can be carried (AAC-LATM, G.711 and
    /// generic tracks cannot).
    pub fn new(desc: &StreamDescription) -> Result<FlvMuxer, FlvError> {
        let tracks = desc.tracks.iter().enumerate();
        let video = tracks.clone().find_map(|(i, t)| MuxVideo::new(i, t));
        let audio = tracks.clone().find_map(|(i, t)| MuxAudio::new(i, t));
        if video.is_none() && audio.is_none() {
            return Err(FlvError::Unsupported("no H264, H265, AAC or Opus track"));
        }
        Ok(FlvMuxer {
            video,
            audio,
            scratch: Vec::new(),
        })
    }

    /// The index of the carried video track, if any.
    pub fn video_track(&self) -> Option<usize> {
        self.video.as_ref().map(|v| v.track)
    }

    /// The index of the carried audio track, if any.
    pub fn audio_track(&self) -> Option<usize> {
        self.audio.as_ref().map(|a| a.track)
    }

    /// `onMetaData` for the reader (the RTMP layer AMF0-encodes it): `width`, `height` and
    /// `framerate` when the SPS tells, `videocodecid` (7, or the `hvc1` FourCC number),
    /// `audiocodecid` (10, or the `Opus` FourCC number), `audiosamplerate`, `audiosamplesize`,
    /// `stereo`, `audiochannels`.
    pub fn metadata(&self) -> Vec<(String, MetaValue)> {
        let mut m: Vec<(String, MetaValue)> = Vec::new();
        let num = |k: &str, v: f64| (k.to_owned(), MetaValue::Number(v));
        if let Some(v) = &self.video {
            let size = v.sps.as_deref().and_then(|sps| match v.codec {
                VideoCodec::H264 => h264::Sps::parse(sps)
                    .ok()
                    .map(|s| (s.width, s.height, s.frame_rate())),
                VideoCodec::H265 => h265::Sps::parse(sps).ok().map(|s| {
                    let fps = s
                        .timing
                        .filter(|t| t.num_units_in_tick > 0)
                        .map(|t| f64::from(t.time_scale) / f64::from(t.num_units_in_tick));
                    (s.width, s.height, fps)
                }),
            });
            if let Some((w, h, fps)) = size {
                m.push(num("width", f64::from(w)));
                m.push(num("height", f64::from(h)));
                if let Some(fps) = fps.filter(|f| f.is_finite() && *f > 0.0) {
                    m.push(num("framerate", fps));
                }
            }
            let id = match v.codec {
                VideoCodec::H264 => video_codec_id_avc(),
                VideoCodec::H265 => video_codec_id_hevc(),
            };
            m.push(("videocodecid".into(), id));
        }
        if let Some(a) = &self.audio {
            m.push(num("audiosamplerate", f64::from(a.clock)));
            m.push(num("audiosamplesize", 16.0));
            m.push(("stereo".into(), MetaValue::Bool(a.channels >= 2)));
            m.push(num("audiochannels", f64::from(a.channels)));
            let id = match a.codec {
                AudioCodec::Aac { .. } => audio_codec_id_aac(),
                AudioCodec::Opus => audio_codec_id_opus(),
            };
            m.push(("audiocodecid".into(), id));
        }
        m
    }

    /// The sequence headers known now, to send before any media: `(is_video, body)`. A header
    /// that is not known yet (no parameter sets in the SDP) is emitted by
    /// [`FlvMuxer::push_unit`] before the first unit that completes it.
    pub fn sequence_headers(&mut self) -> Vec<(bool, Bytes)> {
        let mut out = Vec::with_capacity(2);
        if let Some(v) = &mut self.video {
            if let Some(h) = &v.header {
                out.push((true, h.clone()));
                v.sent = Some(h.clone());
            }
        }
        if let Some(a) = &mut self.audio {
            out.push((false, a.header.clone()));
            a.sent = Some(a.header.clone());
        }
        out
    }

    /// Appends the messages of one unit to `out`: its track's sequence header first when it was
    /// never handed out or changed, then the unit's body (one message per AAC access unit or
    /// Opus packet, each at its own timestamp; one message per video unit with CTS = pts − dts).
    pub fn push_unit(&mut self, unit: &Unit, out: &mut Vec<FlvMessage>) {
        self.push_unit_with(unit, |is_video, timestamp_ms, body| {
            out.push(FlvMessage {
                is_video,
                timestamp_ms,
                body: Bytes::copy_from_slice(body),
            })
        });
    }

    /// [`FlvMuxer::push_unit`] without allocating: each message is handed to
    /// `emit(is_video, timestamp_ms, body)`, the body borrowed from the muxer's scratch buffer.
    pub fn push_unit_with(&mut self, unit: &Unit, mut emit: impl FnMut(bool, i64, &[u8])) {
        let mut scratch = std::mem::take(&mut self.scratch);
        self.plan_unit(unit, |p| match p {
            Planned::Header {
                is_video,
                timestamp_ms,
                body,
            } => emit(is_video, timestamp_ms, body),
            Planned::Message(m) => {
                scratch.clear();
                m.write_body(unit, &mut scratch);
                emit(m.is_video, m.timestamp_ms, &scratch);
            }
        });
        self.scratch = scratch;
    }

    /// The messages of one unit as [`FlvMuxer::push_unit`] decides them, with the media
    /// messages' payloads left in the unit (for writers that send straight from the ring).
    pub fn plan_unit(&mut self, unit: &Unit, mut f: impl FnMut(Planned<'_>)) {
        if unit.payload.is_empty() {
            return;
        }
        if self.video.as_ref().is_some_and(|v| v.track == unit.track) {
            self.plan_video(unit, &mut f);
        } else if self.audio.as_ref().is_some_and(|a| a.track == unit.track) {
            self.plan_audio(unit, &mut f);
        }
    }

    /// Plans one video unit.
    fn plan_video(&mut self, unit: &Unit, f: &mut impl FnMut(Planned<'_>)) {
        let Some(v) = &mut self.video else {
            return;
        };
        let mut sets: [Option<&Bytes>; 3] = [None; 3];
        let mut key = unit.key;
        for n in &unit.payload {
            let (_, is_key, slot) = v.classify(n);
            key |= is_key;
            if let Some(s) = slot {
                sets[s].get_or_insert(n);
            }
        }
        let changed = |have: &Option<Bytes>, new: Option<&Bytes>| {
            new.is_some_and(|n| have.as_ref() != Some(n))
        };
        let new_sps = changed(&v.sps, sets[1]) || changed(&v.vps, sets[0]);
        if v.header.is_none() || new_sps {
            for (slot, set) in sets.iter().enumerate() {
                if let Some(set) = set {
                    let target = match slot {
                        0 => &mut v.vps,
                        1 => &mut v.sps,
                        _ => &mut v.pps,
                    };
                    *target = Some((*set).clone());
                }
            }
            v.rebuild();
        }
        let Some(header) = v.header.clone() else {
            return;
        };
        if !v.started && !key {
            return;
        }
        let syntax = match v.codec {
            VideoCodec::H264 => NalSyntax::H264,
            VideoCodec::H265 => NalSyntax::H265,
        };
        if !unit.payload.iter().any(|n| syntax.kept(n)) {
            return;
        }
        let cts = cts_ms(unit.pts, unit.dts, v.clock);
        let tag = TagHeader::build(|out| match v.codec {
            VideoCodec::H264 => put_avc_header(out, key, 1, cts),
            VideoCodec::H265 => put_ex_header(out, key, PACKET_CODED_FRAMES, FOURCC_HEVC, cts),
        });
        v.started = true;
        let ms = ticks_to_ms(unit.dts, v.clock);
        if v.sent.as_ref() != Some(&header) {
            f(Planned::Header {
                is_video: true,
                timestamp_ms: ms,
                body: &header,
            });
            v.sent = Some(header);
        }
        f(Planned::Message(PlannedMessage {
            is_video: true,
            timestamp_ms: ms,
            tag,
            payload: PayloadRef::Nals(syntax),
        }));
    }

    /// Plans one audio unit (one message per access unit / packet).
    fn plan_audio(&mut self, unit: &Unit, f: &mut impl FnMut(Planned<'_>)) {
        let Some(a) = &mut self.audio else {
            return;
        };
        let tag = TagHeader::build(|out| match a.codec {
            AudioCodec::Aac { .. } => put_aac_header(out, false),
            AudioCodec::Opus => put_ex_audio_header(out, false, FOURCC_OPUS),
        });
        let mut dts = unit.dts;
        for (i, frame) in unit.payload.iter().enumerate() {
            let duration = match a.codec {
                AudioCodec::Aac { frame_length } => frame_length,
                AudioCodec::Opus => opus::packet_duration(frame).unwrap_or(960),
            };
            if !frame.is_empty() {
                let ms = ticks_to_ms(dts, a.clock);
                if a.sent.as_ref() != Some(&a.header) {
                    f(Planned::Header {
                        is_video: false,
                        timestamp_ms: ms,
                        body: &a.header,
                    });
                    a.sent = Some(a.header.clone());
                }
                f(Planned::Message(PlannedMessage {
                    is_video: false,
                    timestamp_ms: ms,
                    tag,
                    payload: PayloadRef::Frame(i),
                }));
            }
            dts = dts.saturating_add(i64::from(duration));
        }
    }
}
