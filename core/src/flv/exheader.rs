//! Enhanced RTMP (veovera E-RTMP v1/v2) pieces shared by audio and video: FourCC codes, packet
//! types and the `ModEx` prefix.

use super::cursor::Cursor;
use super::FlvError;

/// FourCC of H.264 in Enhanced RTMP v2.
pub(crate) const FOURCC_AVC: [u8; 4] = *b"avc1";
/// FourCC of H.265.
pub(crate) const FOURCC_HEVC: [u8; 4] = *b"hvc1";
/// FourCC of AV1.
pub(crate) const FOURCC_AV1: [u8; 4] = *b"av01";
/// FourCC of VP9.
pub(crate) const FOURCC_VP9: [u8; 4] = *b"vp09";
/// FourCC of Opus (E-RTMP v2 audio).
pub(crate) const FOURCC_OPUS: [u8; 4] = *b"Opus";
/// FourCC of AAC (E-RTMP v2 audio).
pub(crate) const FOURCC_AAC: [u8; 4] = *b"mp4a";

/// Packet type: the codec configuration record.
pub(crate) const PACKET_SEQUENCE_START: u8 = 0;
/// Packet type: coded frames (with a composition time for `avc1` / `hvc1`).
pub(crate) const PACKET_CODED_FRAMES: u8 = 1;
/// Packet type: end of sequence.
pub(crate) const PACKET_SEQUENCE_END: u8 = 2;
/// Video packet type: coded frames with an implied composition time of 0.
pub(crate) const PACKET_CODED_FRAMES_X: u8 = 3;
/// Video packet type: AMF-encoded metadata (HDR colour info).
pub(crate) const PACKET_METADATA: u8 = 4;
/// Video packet type: an MPEG-2 TS sequence start (AV1 video descriptor).
pub(crate) const PACKET_MPEG2TS_SEQUENCE_START: u8 = 5;
/// Audio packet type: the multichannel configuration.
pub(crate) const PACKET_AUDIO_MULTICHANNEL_CONFIG: u8 = 4;
/// Audio packet type: multitrack mode.
pub(crate) const PACKET_AUDIO_MULTITRACK: u8 = 5;
/// Video packet type: multitrack mode.
pub(crate) const PACKET_VIDEO_MULTITRACK: u8 = 6;
/// Packet type: a modifier extension follows.
pub(crate) const PACKET_MOD_EX: u8 = 7;

/// The most ModEx prefixes accepted in one message (the spec sets no limit; real senders use one).
const MAX_MOD_EX: usize = 16;

/// A FourCC as the number onMetaData carries it (`"av01"` → 0x61763031).
pub(crate) fn fourcc_number(code: [u8; 4]) -> u32 {
    u32::from_be_bytes(code)
}

/// Skips the ModEx prefixes that start when `packet_type` is [`PACKET_MOD_EX`] and returns the
/// real packet type. The only defined modifier (a sub-millisecond timestamp offset) is dropped:
/// weir's timestamps are whole milliseconds on RTMP.
pub(crate) fn skip_mod_ex(c: &mut Cursor<'_>, mut packet_type: u8) -> Result<u8, FlvError> {
    let mut n = 0;
    while packet_type == PACKET_MOD_EX {
        n += 1;
        if n > MAX_MOD_EX {
            return Err(FlvError::Malformed("too many ModEx prefixes"));
        }
        let mut size = usize::from(c.u8("ModEx size")?) + 1;
        if size == 256 {
            size = usize::from(c.u16("ModEx size")?) + 1;
        }
        c.skip(size, "ModEx data")?;
        packet_type = c.u8("ModEx type")? & 0x0f;
    }
    Ok(packet_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn fourcc_numbers_match_the_spec_examples() {
        assert_eq!(fourcc_number(FOURCC_OPUS), 1_332_770_163);
        assert_eq!(fourcc_number(FOURCC_AV1), 1_635_135_537);
    }

    #[test]
    fn skips_mod_ex() {
        // One TimestampOffsetNano (3 bytes of data), then CodedFrames; then the FourCC.
        let b = Bytes::from_static(&[2, 0, 0, 100, 0x01, b'h']);
        let mut c = Cursor::new(&b);
        assert_eq!(skip_mod_ex(&mut c, PACKET_MOD_EX), Ok(PACKET_CODED_FRAMES));
        assert_eq!(c.remaining(), 1);
        // A 16-bit size.
        let mut v = vec![255, 0x01, 0x00];
        v.extend(std::iter::repeat_n(0, 257));
        v.push(0x03);
        let b = Bytes::from(v);
        let mut c = Cursor::new(&b);
        assert_eq!(
            skip_mod_ex(&mut c, PACKET_MOD_EX),
            Ok(PACKET_CODED_FRAMES_X)
        );
        // Truncated, and endless.
        let b = Bytes::from_static(&[5, 0]);
        assert!(skip_mod_ex(&mut Cursor::new(&b), PACKET_MOD_EX).is_err());
        let b = Bytes::from(vec![0, 0, 0x07].repeat(40));
        assert!(skip_mod_ex(&mut Cursor::new(&b), PACKET_MOD_EX).is_err());
        // Not a ModEx: nothing read.
        let b = Bytes::new();
        assert_eq!(skip_mod_ex(&mut Cursor::new(&b), 1), Ok(1));
    }
}
