//! FLV audio tag bodies: the legacy AudioTagHeader (FLV 10.1 §E.4.2.1, sound format 10 = AAC)
//! and the Enhanced RTMP v2 ExAudioTagHeader (FourCC `Opus`, `mp4a`).

use super::cursor::Cursor;
use super::exheader::{
    self, FOURCC_AAC, FOURCC_OPUS, PACKET_AUDIO_MULTICHANNEL_CONFIG, PACKET_AUDIO_MULTITRACK,
    PACKET_CODED_FRAMES, PACKET_SEQUENCE_END, PACKET_SEQUENCE_START,
};
use super::FlvError;
use bytes::{BufMut, Bytes};

/// Legacy sound format of AAC.
pub(crate) const SOUND_FORMAT_AAC: u8 = 10;
/// Sound format that switches to the Enhanced RTMP FourCC header.
const SOUND_FORMAT_EX_HEADER: u8 = 9;
/// The first byte of every AAC message: AAC, "44 kHz", 16-bit, stereo — the flags are fixed for
/// AAC; decoders read the real values from the AudioSpecificConfig.
pub(crate) const AAC_HEADER_BYTE: u8 = 0xaf;

/// The audio codecs this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AudioCodec {
    /// AAC (sound format 10 or FourCC `mp4a`).
    Aac,
    /// Opus (FourCC `Opus`).
    Opus,
}

/// What one audio message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AudioPacket {
    /// The decoder configuration (AudioSpecificConfig, OpusHead; may be empty for Opus).
    SequenceStart(Bytes),
    /// One coded frame (a raw AAC access unit, an Opus packet).
    Frame(Bytes),
    /// End of sequence.
    SequenceEnd,
}

/// Parses an audio message body; `Ok(None)` for messages without audio (the empty "silence"
/// message, an E-RTMP multichannel configuration).
pub(crate) fn parse_audio(body: &Bytes) -> Result<Option<(AudioCodec, AudioPacket)>, FlvError> {
    if body.is_empty() {
        return Ok(None);
    }
    let mut c = Cursor::new(body);
    let b0 = c.u8("empty audio body")?;
    match b0 >> 4 {
        SOUND_FORMAT_AAC => {
            let packet = match c.u8("truncated AAC header")? {
                0 => AudioPacket::SequenceStart(c.rest()),
                1 => AudioPacket::Frame(c.rest()),
                _ => return Err(FlvError::Malformed("unknown AACPacketType")),
            };
            Ok(Some((AudioCodec::Aac, packet)))
        }
        SOUND_FORMAT_EX_HEADER => parse_ex_audio(&mut c, b0),
        _ => Err(FlvError::Unsupported("audio codec")),
    }
}

/// Parses the rest of an Enhanced RTMP audio message whose first byte is `b0`.
fn parse_ex_audio(
    c: &mut Cursor<'_>,
    b0: u8,
) -> Result<Option<(AudioCodec, AudioPacket)>, FlvError> {
    let packet_type = exheader::skip_mod_ex(c, b0 & 0x0f)?;
    if packet_type == PACKET_AUDIO_MULTITRACK {
        return Err(FlvError::Unsupported("multitrack audio"));
    }
    let codec = match c.fourcc("truncated audio FourCC")? {
        FOURCC_OPUS => AudioCodec::Opus,
        FOURCC_AAC => AudioCodec::Aac,
        _ => return Err(FlvError::Unsupported("audio FourCC")),
    };
    let packet = match packet_type {
        PACKET_SEQUENCE_START => AudioPacket::SequenceStart(c.rest()),
        PACKET_CODED_FRAMES => AudioPacket::Frame(c.rest()),
        PACKET_SEQUENCE_END => AudioPacket::SequenceEnd,
        PACKET_AUDIO_MULTICHANNEL_CONFIG => return Ok(None),
        _ => return Err(FlvError::Malformed("unknown AudioPacketType")),
    };
    Ok(Some((codec, packet)))
}

/// Writes a legacy AAC header: `0xAF` and the AACPacketType (0 config, 1 raw frame).
pub(crate) fn put_aac_header(out: &mut impl BufMut, sequence_header: bool) {
    out.put_u8(AAC_HEADER_BYTE);
    out.put_u8(u8::from(!sequence_header));
}

/// Writes an Enhanced RTMP audio header for `fourcc` (sequence start or coded frames).
pub(crate) fn put_ex_audio_header(out: &mut impl BufMut, sequence_start: bool, fourcc: [u8; 4]) {
    let packet_type = if sequence_start {
        PACKET_SEQUENCE_START
    } else {
        PACKET_CODED_FRAMES
    };
    out.put_u8(SOUND_FORMAT_EX_HEADER << 4 | packet_type);
    out.put_slice(&fourcc);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &'static [u8]) -> Result<Option<(AudioCodec, AudioPacket)>, FlvError> {
        parse_audio(&Bytes::from_static(b))
    }

    #[test]
    fn aac_sequence_header_and_frame() {
        // OBS: AAC LC, 48 kHz, stereo (AudioSpecificConfig 11 90).
        let mut v = Vec::new();
        put_aac_header(&mut v, true);
        v.extend_from_slice(&[0x11, 0x90]);
        assert_eq!(v, [0xaf, 0x00, 0x11, 0x90]);
        assert_eq!(
            parse_audio(&Bytes::from(v)).unwrap(),
            Some((
                AudioCodec::Aac,
                AudioPacket::SequenceStart(Bytes::from_static(&[0x11, 0x90]))
            ))
        );
        let mut v = Vec::new();
        put_aac_header(&mut v, false);
        assert_eq!(v, [0xaf, 0x01]);
        assert_eq!(
            parse(&[0xaf, 0x01, 0x21, 0x11]).unwrap(),
            Some((
                AudioCodec::Aac,
                AudioPacket::Frame(Bytes::from_static(&[0x21, 0x11]))
            ))
        );
        // Whatever the rate/size/type flags say.
        assert!(parse(&[0xa2, 0x01, 0x21]).unwrap().is_some());
    }

    #[test]
    fn enhanced_opus_and_mp4a() {
        let mut v = Vec::new();
        put_ex_audio_header(&mut v, false, FOURCC_OPUS);
        assert_eq!(v, [0x91, b'O', b'p', b'u', b's']);
        let mut v = Vec::new();
        put_ex_audio_header(&mut v, true, FOURCC_OPUS);
        assert_eq!(v, [0x90, b'O', b'p', b'u', b's']);
        assert_eq!(
            parse(&[0x91, b'O', b'p', b'u', b's', 0xfc, 0xff]).unwrap(),
            Some((
                AudioCodec::Opus,
                AudioPacket::Frame(Bytes::from_static(&[0xfc, 0xff]))
            ))
        );
        assert_eq!(
            parse(&[0x90, b'm', b'p', b'4', b'a', 0x12, 0x10]).unwrap(),
            Some((
                AudioCodec::Aac,
                AudioPacket::SequenceStart(Bytes::from_static(&[0x12, 0x10]))
            ))
        );
        assert_eq!(
            parse(&[0x92, b'O', b'p', b'u', b's']).unwrap(),
            Some((AudioCodec::Opus, AudioPacket::SequenceEnd))
        );
        // ModEx, then a multichannel config (ignored).
        assert_eq!(
            parse(&[0x97, 0, 9, 0x04, b'O', b'p', b'u', b's', 0, 2]),
            Ok(None)
        );
    }

    #[test]
    fn silence_unsupported_and_malformed() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(
            parse(&[0x2f, 0xff]),
            Err(FlvError::Unsupported("audio codec"))
        );
        assert_eq!(
            parse(&[0x91, b'f', b'L', b'a', b'C']),
            Err(FlvError::Unsupported("audio FourCC"))
        );
        assert_eq!(
            parse(&[0x95, 0]),
            Err(FlvError::Unsupported("multitrack audio"))
        );
        assert!(matches!(parse(&[0xaf]), Err(FlvError::Malformed(_))));
        assert!(matches!(parse(&[0xaf, 0x02]), Err(FlvError::Malformed(_))));
        assert!(matches!(parse(&[0x91, b'O']), Err(FlvError::Malformed(_))));
        assert!(matches!(
            parse(&[0x93, b'O', b'p', b'u', b's']),
            Err(FlvError::Malformed(_))
        ));
    }
}
