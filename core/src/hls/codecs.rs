//! What the multivariant playlist says about the tracks: RFC 6381 codec strings (`avc1.PPCCLL`,
//! `hvc1.…` per ISO/IEC 14496-15 Annex E, `mp4a.40.N`, `opus`), the picture size and frame rate
//! from the SPS.

use super::params::VideoParams;
use crate::codec::mpeg4audio::AudioSpecificConfig;
use crate::codec::{h264, h265, CodecKind};
use crate::media::Track;
use std::fmt::Write;

/// The picture size and frame rate of a video track.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct VideoInfo {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second from the VUI timing, when present.
    pub frame_rate: Option<f64>,
}

/// `avc1.PPCCLL`: profile_idc, the constraint flags byte and level_idc of an H.264 SPS.
fn avc_codec(sps: &[u8]) -> Option<String> {
    let b = sps.get(1..4)?;
    Some(format!("avc1.{:02x}{:02x}{:02x}", b[0], b[1], b[2]))
}

/// The first `n` bytes of the RBSP after a NAL header of `header` bytes (emulation prevention
/// bytes removed).
fn rbsp_prefix(nalu: &[u8], header: usize, n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n);
    let mut zeros = 0;
    for &b in nalu.iter().skip(header) {
        if out.len() == n {
            break;
        }
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// `hvc1.[A-C]P.C.TL.B…` from the profile_tier_level of an H.265 SPS (ISO/IEC 14496-15 E.3):
/// profile space letter and profile_idc, the compatibility flags in reverse bit order, tier
/// and level, then the constraint bytes without trailing zero bytes.
fn hevc_codec(sps: &[u8]) -> Option<String> {
    // sps_video_parameter_set_id .. temporal_id_nesting (1 byte), then general_profile_space,
    // tier, profile_idc (1), compatibility flags (4), constraint flags (6), level_idc (1).
    let r = rbsp_prefix(sps, 2, 13);
    if r.len() < 13 {
        return None;
    }
    let space = ["", "A", "B", "C"][usize::from(r[1] >> 6)];
    let tier = if r[1] & 0x20 != 0 { 'H' } else { 'L' };
    let profile = r[1] & 0x1F;
    let compat = u32::from_be_bytes([r[2], r[3], r[4], r[5]]).reverse_bits();
    let mut s = format!("hvc1.{space}{profile}.{compat:X}.{tier}{}", r[12]);
    let constraints = &r[6..12];
    let used = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1);
    for b in &constraints[..used] {
        let _ = write!(s, ".{b:X}");
    }
    Some(s)
}

/// The RFC 6381 codec string of a track, `None` when it cannot be told (video without SPS).
pub(super) fn codec_string(track: &Track, params: &VideoParams) -> Option<String> {
    match track.codec {
        CodecKind::H264 => avc_codec(params.sps.as_deref()?),
        CodecKind::H265 => hevc_codec(params.sps.as_deref()?),
        CodecKind::Mpeg4Audio => {
            let config = AudioSpecificConfig::from_fmtp(track.fmtp.as_deref()?).ok()?;
            Some(format!("mp4a.40.{}", config.object_type))
        }
        CodecKind::Opus => Some("opus".into()),
        _ => None,
    }
}

/// The picture size and frame rate announced by a video track's SPS.
pub(super) fn video_info(codec: CodecKind, params: &VideoParams) -> Option<VideoInfo> {
    let sps = params.sps.as_deref()?;
    let (width, height, frame_rate) = match codec {
        CodecKind::H264 => {
            let s = h264::Sps::parse(sps).ok()?;
            (s.width, s.height, s.frame_rate())
        }
        CodecKind::H265 => {
            let s = h265::Sps::parse(sps).ok()?;
            (s.width, s.height, s.frame_rate())
        }
        _ => return None,
    };
    let frame_rate = frame_rate.filter(|f| f.is_finite() && *f > 0.0 && *f <= 1000.0);
    Some(VideoInfo {
        width,
        height,
        frame_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpegts::test_support::{annexb_nalus, description, TestTrack};

    fn params(name: &str, codec: CodecKind) -> VideoParams {
        let mut p = VideoParams::default();
        p.learn(codec, &annexb_nalus(name));
        p
    }

    #[test]
    fn h264_strings_and_sizes() {
        let desc = description(&[TestTrack {
            kind: "video",
            rtpmap: "H264/90000",
            fmtp: None,
        }]);
        // ffprobe: High, level 3.0, 640x360, 25 fps; 4pics.264: High, level 4.2, 1920x1080.
        let p = params("blackframe.264", CodecKind::H264);
        assert_eq!(
            codec_string(&desc.tracks[0], &p).as_deref(),
            Some("avc1.64001e")
        );
        let info = video_info(CodecKind::H264, &p).unwrap();
        assert_eq!((info.width, info.height), (640, 360));
        assert_eq!(info.frame_rate, Some(25.0));
        let p = params("4pics.264", CodecKind::H264);
        assert_eq!(
            codec_string(&desc.tracks[0], &p).as_deref(),
            Some("avc1.64002a")
        );
        assert_eq!(codec_string(&desc.tracks[0], &VideoParams::default()), None);
    }

    #[test]
    fn h265_strings() {
        let desc = description(&[TestTrack {
            kind: "video",
            rtpmap: "H265/90000",
            fmtp: None,
        }]);
        // Main profile (compatibility flags 1 and 2), Main tier, level 4.1 (123), progressive
        // source and frame-only constraint flags (0x90).
        let p = params("hevc.265", CodecKind::H265);
        assert_eq!(
            codec_string(&desc.tracks[0], &p).as_deref(),
            Some("hvc1.1.6.L123.90")
        );
        let info = video_info(CodecKind::H265, &p).unwrap();
        assert_eq!((info.width, info.height), (1920, 1080));
        assert_eq!(hevc_codec(&[0x42, 0x01, 0x01]), None);
        // Emulation prevention inside the constraint bytes is removed.
        let sps = [
            0x42, 0x01, 0x01, 0xA1, 0x40, 0, 0, 3, 0, 0x80, 0, 0, 3, 0, 0, 3, 0, 0x5D,
        ];
        assert_eq!(hevc_codec(&sps).as_deref(), Some("hvc1.B1.2.H93.80"));
    }

    #[test]
    fn audio_strings() {
        let desc = description(&[
            TestTrack {
                kind: "audio",
                rtpmap: "mpeg4-generic/44100/2",
                fmtp: Some("mode=AAC-hbr; sizelength=13; config=1210".into()),
            },
            TestTrack {
                kind: "audio",
                rtpmap: "opus/48000/2",
                fmtp: None,
            },
            TestTrack {
                kind: "audio",
                rtpmap: "mpeg4-generic/44100/2",
                fmtp: None,
            },
        ]);
        let none = VideoParams::default();
        assert_eq!(
            codec_string(&desc.tracks[0], &none).as_deref(),
            Some("mp4a.40.2")
        );
        assert_eq!(
            codec_string(&desc.tracks[1], &none).as_deref(),
            Some("opus")
        );
        assert_eq!(codec_string(&desc.tracks[2], &none), None);
    }
}
