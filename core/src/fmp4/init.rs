//! The initialization segment (ISO/IEC 14496-12 §8.8, CMAF header): `ftyp` and a `moov`
//! without samples, one `trak` per carried track, `mvex` with one `trex` per track.

use super::audio_entry::{write_audio_entry, write_dops, write_esds};
use super::boxes::{begin, begin_full, end, put_matrix, put_u16, put_u32, put_zeros};
use super::video_entry::{write_avcc, write_hvcc, write_visual_entry};
use super::Fmp4Track;
use crate::codec::mpeg4audio::AudioSpecificConfig;
use crate::codec::{h264, h265, CodecKind};
use crate::media::{StreamDescription, Track};
use crate::mpegts::MuxError;

/// The movie timescale of `mvhd` (durations there are 0: the movie is fragmented).
const MOVIE_TIMESCALE: u32 = 1000;

/// Appends the `ftyp` box: major brand `iso5`, compatible `iso5`, `iso6`, `mp41`, `cmfc`.
pub(super) fn write_ftyp(buf: &mut Vec<u8>) {
    let start = begin(buf, b"ftyp");
    buf.extend_from_slice(b"iso5");
    put_u32(buf, 512); // minor_version
    for brand in [b"iso5", b"iso6", b"mp41", b"cmfc"] {
        buf.extend_from_slice(brand);
    }
    end(buf, start);
}

/// Appends an `mvhd` (version 0, times 0, timescale 1000, duration 0).
pub(super) fn write_mvhd(buf: &mut Vec<u8>, next_track_id: u32) {
    let start = begin_full(buf, b"mvhd", 0, 0);
    put_u32(buf, 0); // creation_time
    put_u32(buf, 0); // modification_time
    put_u32(buf, MOVIE_TIMESCALE);
    put_u32(buf, 0); // duration
    put_u32(buf, 0x0001_0000); // rate 1.0
    put_u16(buf, 0x0100); // volume 1.0
    put_zeros(buf, 10); // reserved
    put_matrix(buf);
    put_zeros(buf, 24); // pre_defined
    put_u32(buf, next_track_id);
    end(buf, start);
}

/// Appends a `tkhd` (version 0, enabled and in movie, duration 0); `width`/`height` are
/// whole pixels (0 for audio), audio gets volume 1.0.
pub(super) fn write_tkhd(buf: &mut Vec<u8>, track_id: u32, audio: bool, width: u16, height: u16) {
    let start = begin_full(buf, b"tkhd", 0, 0x000003);
    put_u32(buf, 0); // creation_time
    put_u32(buf, 0); // modification_time
    put_u32(buf, track_id);
    put_u32(buf, 0); // reserved
    put_u32(buf, 0); // duration
    put_zeros(buf, 8); // reserved
    put_u16(buf, 0); // layer
    put_u16(buf, 0); // alternate_group
    put_u16(buf, if audio { 0x0100 } else { 0 }); // volume
    put_u16(buf, 0); // reserved
    put_matrix(buf);
    put_u32(buf, u32::from(width) << 16);
    put_u32(buf, u32::from(height) << 16);
    end(buf, start);
}

/// Appends a `trex` with default sample description 1 and no other defaults.
pub(super) fn write_trex(buf: &mut Vec<u8>, track_id: u32) {
    let start = begin_full(buf, b"trex", 0, 0);
    put_u32(buf, track_id);
    put_u32(buf, 1); // default_sample_description_index
    put_u32(buf, 0); // default_sample_duration
    put_u32(buf, 0); // default_sample_size
    put_u32(buf, 0); // default_sample_flags
    end(buf, start);
}

/// Appends `mdhd`, `hdlr` and the empty sample tables of a track around its sample entry.
fn write_mdia(buf: &mut Vec<u8>, timescale: u32, audio: bool, entry: &[u8]) {
    let mdia = begin(buf, b"mdia");
    let mdhd = begin_full(buf, b"mdhd", 0, 0);
    put_u32(buf, 0); // creation_time
    put_u32(buf, 0); // modification_time
    put_u32(buf, timescale);
    put_u32(buf, 0); // duration
    put_u16(buf, 0x55C4); // language "und"
    put_u16(buf, 0); // pre_defined
    end(buf, mdhd);
    let hdlr = begin_full(buf, b"hdlr", 0, 0);
    put_u32(buf, 0); // pre_defined
    buf.extend_from_slice(if audio { b"soun" } else { b"vide" });
    put_zeros(buf, 12); // reserved
    buf.extend_from_slice(if audio {
        b"SoundHandler\0"
    } else {
        b"VideoHandler\0"
    });
    end(buf, hdlr);
    let minf = begin(buf, b"minf");
    if audio {
        let smhd = begin_full(buf, b"smhd", 0, 0);
        put_u32(buf, 0); // balance, reserved
        end(buf, smhd);
    } else {
        let vmhd = begin_full(buf, b"vmhd", 0, 1);
        put_zeros(buf, 8); // graphicsmode, opcolor
        end(buf, vmhd);
    }
    let dinf = begin(buf, b"dinf");
    let dref = begin_full(buf, b"dref", 0, 0);
    put_u32(buf, 1); // entry_count
    let url = begin_full(buf, b"url ", 0, 1); // media data in this file
    end(buf, url);
    end(buf, dref);
    end(buf, dinf);
    let stbl = begin(buf, b"stbl");
    let stsd = begin_full(buf, b"stsd", 0, 0);
    put_u32(buf, 1); // entry_count
    buf.extend_from_slice(entry);
    end(buf, stsd);
    for kind in [b"stts", b"stsc", b"stco"] {
        let b = begin_full(buf, kind, 0, 0);
        put_u32(buf, 0); // entry_count
        end(buf, b);
    }
    let stsz = begin_full(buf, b"stsz", 0, 0);
    put_u32(buf, 0); // sample_size
    put_u32(buf, 0); // sample_count
    end(buf, stsz);
    end(buf, stbl);
    end(buf, minf);
    end(buf, mdia);
}

/// What a carried track looks like in the init segment.
struct TrackSetup {
    /// The sample entry (`avc1`, `hvc1`, `mp4a`, `Opus`).
    entry: Vec<u8>,
    audio: bool,
    width: u16,
    height: u16,
    /// AAC: the duration of one access unit in the track clock.
    frame_duration: u32,
}

/// Clamps a picture dimension to the 16-bit sample entry field.
fn dimension(v: u32) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

/// The sample entry and layout of track `index`, `None` for tracks fMP4 does not carry here.
fn setup(index: usize, t: &Track) -> Result<Option<TrackSetup>, MuxError> {
    let invalid = |what| MuxError::InvalidConfig { track: index, what };
    let missing = MuxError::MissingParameterSets { track: index };
    let fmtp = t.fmtp.as_deref();
    let mut entry = Vec::with_capacity(256);
    let mut s = TrackSetup {
        entry: Vec::new(),
        audio: false,
        width: 0,
        height: 0,
        frame_duration: 0,
    };
    match t.codec {
        CodecKind::H264 => {
            let p = fmtp
                .and_then(|f| h264::H264Params::from_fmtp(f).ok())
                .ok_or(missing.clone())?;
            let (Some(sps), Some(pps)) = (p.sps, p.pps) else {
                return Err(missing);
            };
            let parsed = h264::Sps::parse(&sps).map_err(|_| invalid("unreadable SPS"))?;
            (s.width, s.height) = (dimension(parsed.width), dimension(parsed.height));
            write_visual_entry(&mut entry, b"avc1", s.width, s.height, |b| {
                write_avcc(b, &sps, &pps)
            })
            .map_err(invalid)?;
        }
        CodecKind::H265 => {
            let p = fmtp
                .and_then(|f| h265::H265Params::from_fmtp(f).ok())
                .ok_or(missing.clone())?;
            let (Some(vps), Some(sps), Some(pps)) = (p.vps, p.sps, p.pps) else {
                return Err(missing);
            };
            let parsed = h265::Sps::parse(&sps).map_err(|_| invalid("unreadable SPS"))?;
            (s.width, s.height) = (dimension(parsed.width), dimension(parsed.height));
            write_visual_entry(&mut entry, b"hvc1", s.width, s.height, |b| {
                write_hvcc(b, &vps, &sps, &pps)
            })
            .map_err(invalid)?;
        }
        CodecKind::Mpeg4Audio => {
            let config = fmtp
                .and_then(|f| AudioSpecificConfig::from_fmtp(f).ok())
                .ok_or(MuxError::MissingConfig { track: index })?;
            let channels = match config.channel_count {
                0 => t.channels.unwrap_or(2),
                n => u16::from(n),
            };
            let d = u64::from(config.frame_length) * u64::from(t.clock_rate)
                / u64::from(config.sample_rate.max(1));
            s.frame_duration = u32::try_from(d).unwrap_or(u32::MAX).max(1);
            s.audio = true;
            write_audio_entry(&mut entry, b"mp4a", channels, config.sample_rate, |b| {
                write_esds(b, &config.raw)
            })
            .map_err(invalid)?;
        }
        CodecKind::Opus => {
            let channels = t.channels.unwrap_or(2);
            if !(1..=2).contains(&channels) {
                return Err(invalid("Opus: only mono and stereo are supported"));
            }
            s.audio = true;
            write_audio_entry(&mut entry, b"Opus", channels, 48_000, |b| {
                write_dops(b, channels as u8, 48_000);
                Ok(())
            })
            .map_err(invalid)?;
        }
        _ => return Ok(None),
    }
    s.entry = entry;
    Ok(Some(s))
}

/// The initialization segment of `desc` and the tracks it declares (track ids from 1 in
/// description order). Carried: H.264 (`avc1`), H.265 (`hvc1`), MPEG-4 audio (`mp4a`),
/// Opus; other tracks are left out. Each track's timescale is its clock rate.
///
/// Errors: no carried track; an H.264/H.265 track without SPS/PPS(/VPS) in its fmtp (a
/// caller that learns them in band can rewrite the fmtp with `H264Params::to_fmtp` /
/// `H265Params::to_fmtp` and call again); an MPEG-4 audio track without config; an
/// unreadable SPS; Opus with more than two channels.
pub fn init_segment(desc: &StreamDescription) -> Result<(Vec<u8>, Vec<Fmp4Track>), MuxError> {
    let mut buf = Vec::with_capacity(1024);
    write_ftyp(&mut buf);
    let moov = begin(&mut buf, b"moov");
    let mvhd_at = buf.len();
    write_mvhd(&mut buf, 0);
    let mut tracks = Vec::new();
    for (index, t) in desc.tracks.iter().enumerate() {
        let Some(s) = setup(index, t)? else {
            continue;
        };
        // At most MAX_TRACKS tracks.
        let track_id = tracks.len() as u32 + 1;
        let trak = begin(&mut buf, b"trak");
        write_tkhd(&mut buf, track_id, s.audio, s.width, s.height);
        write_mdia(&mut buf, t.clock_rate, s.audio, &s.entry);
        end(&mut buf, trak);
        tracks.push(Fmp4Track {
            track_id,
            track: index,
            codec: t.codec,
            timescale: t.clock_rate,
            frame_duration: s.frame_duration,
        });
    }
    if tracks.is_empty() {
        return Err(MuxError::NoTracks);
    }
    // next_track_ID: the last field of mvhd.
    let next = (tracks.len() as u32 + 1).to_be_bytes();
    buf[mvhd_at + 104..mvhd_at + 108].copy_from_slice(&next);
    let mvex = begin(&mut buf, b"mvex");
    for t in &tracks {
        write_trex(&mut buf, t.track_id);
    }
    end(&mut buf, mvex);
    end(&mut buf, moov);
    Ok((buf, tracks))
}
