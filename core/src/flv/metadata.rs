//! `onMetaData` values: the codec announcements a publisher makes, and the codec ids a reader is
//! told. AMF0 encoding and decoding belong to the RTMP module; this one sees plain values.

use super::exheader::{
    fourcc_number, FOURCC_AAC, FOURCC_AV1, FOURCC_AVC, FOURCC_HEVC, FOURCC_OPUS, FOURCC_VP9,
};
use super::{audio, video};

/// One `onMetaData` value, reduced to what the FLV layer reads.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    /// An AMF number.
    Number(f64),
    /// An AMF boolean.
    Bool(bool),
    /// An AMF string.
    String(String),
    /// Anything else (objects, arrays, null…), ignored.
    Other,
}

/// What `onMetaData` says about one kind of media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Announced {
    /// No codec id (or 0): nothing announced.
    Nothing,
    /// A codec the demuxer reads: wait for its sequence header.
    Supported,
    /// A codec the demuxer does not read: do not wait for it.
    Unsupported,
}

/// The integral value of a number or numeric string.
fn as_code(value: &MetaValue) -> Option<u32> {
    match value {
        MetaValue::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= f64::from(u32::MAX) => {
            Some(*n as u32)
        }
        MetaValue::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Classifies a code against the supported legacy ids and FourCCs (numbers or strings).
fn classify(value: &MetaValue, legacy: &[u8], fourccs: &[[u8; 4]], names: &[&str]) -> Announced {
    if let MetaValue::String(s) = value {
        let s = s.trim();
        if fourccs.iter().any(|f| f.as_slice() == s.as_bytes())
            || names.iter().any(|n| n.eq_ignore_ascii_case(s))
        {
            return Announced::Supported;
        }
    }
    match as_code(value) {
        None if matches!(value, MetaValue::String(_)) => Announced::Unsupported,
        None | Some(0) => Announced::Nothing,
        Some(c) if legacy.iter().any(|&l| u32::from(l) == c) => Announced::Supported,
        Some(c) if fourccs.iter().any(|&f| fourcc_number(f) == c) => Announced::Supported,
        Some(_) => Announced::Unsupported,
    }
}

/// What a `videocodecid` value announces.
pub(crate) fn announced_video(value: &MetaValue) -> Announced {
    classify(
        value,
        &[video::CODEC_ID_AVC, video::CODEC_ID_HEVC],
        &[FOURCC_AVC, FOURCC_HEVC, FOURCC_AV1, FOURCC_VP9, *b"hev1"],
        &["h264", "avc", "h265", "hevc", "av1", "vp9"],
    )
}

/// What an `audiocodecid` value announces.
pub(crate) fn announced_audio(value: &MetaValue) -> Announced {
    classify(
        value,
        &[audio::SOUND_FORMAT_AAC],
        &[FOURCC_AAC, FOURCC_OPUS],
        &["aac", "opus"],
    )
}

/// `videocodecid` of H.264 (the legacy id).
pub(crate) fn video_codec_id_avc() -> MetaValue {
    MetaValue::Number(f64::from(video::CODEC_ID_AVC))
}

/// `videocodecid` of H.265 (the `hvc1` FourCC as a number, as E-RTMP specifies).
pub(crate) fn video_codec_id_hevc() -> MetaValue {
    MetaValue::Number(f64::from(fourcc_number(FOURCC_HEVC)))
}

/// `audiocodecid` of AAC (the legacy sound format).
pub(crate) fn audio_codec_id_aac() -> MetaValue {
    MetaValue::Number(f64::from(audio::SOUND_FORMAT_AAC))
}

/// `audiocodecid` of Opus (the `Opus` FourCC as a number).
pub(crate) fn audio_codec_id_opus() -> MetaValue {
    MetaValue::Number(f64::from(fourcc_number(FOURCC_OPUS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> MetaValue {
        MetaValue::String(v.into())
    }

    #[test]
    fn classifies_codec_ids() {
        use Announced::*;
        assert_eq!(announced_video(&MetaValue::Number(7.0)), Supported);
        assert_eq!(announced_video(&MetaValue::Number(12.0)), Supported);
        assert_eq!(
            announced_video(&MetaValue::Number(1_752_589_105.0)),
            Supported
        ); // hvc1
        assert_eq!(
            announced_video(&MetaValue::Number(1_635_135_537.0)),
            Supported
        ); // av01
        assert_eq!(announced_video(&s("avc1")), Supported);
        assert_eq!(announced_video(&s("7")), Supported);
        assert_eq!(announced_video(&MetaValue::Number(2.0)), Unsupported); // Sorenson
        assert_eq!(announced_video(&s("vp08")), Unsupported);
        assert_eq!(announced_video(&MetaValue::Number(0.0)), Nothing);
        assert_eq!(announced_video(&MetaValue::Number(7.5)), Nothing);
        assert_eq!(announced_video(&MetaValue::Bool(true)), Nothing);
        assert_eq!(announced_audio(&MetaValue::Number(10.0)), Supported);
        assert_eq!(
            announced_audio(&MetaValue::Number(1_332_770_163.0)),
            Supported
        ); // Opus
        assert_eq!(announced_audio(&s("mp4a")), Supported);
        assert_eq!(announced_audio(&MetaValue::Number(2.0)), Unsupported); // MP3
        assert_eq!(announced_audio(&MetaValue::Other), Nothing);
        assert_eq!(audio_codec_id_opus(), MetaValue::Number(1_332_770_163.0));
        assert_eq!(video_codec_id_hevc(), MetaValue::Number(1_752_589_105.0));
    }
}
