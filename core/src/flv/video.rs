//! FLV video tag bodies: the legacy VideoTagHeader (FLV 10.1 §E.4.3.1, codec ids 7 and 12) and
//! the Enhanced RTMP ExVideoTagHeader (FourCC `avc1`, `hvc1`, `av01`, `vp09`).

use super::cursor::Cursor;
use super::exheader::{
    self, FOURCC_AV1, FOURCC_AVC, FOURCC_HEVC, FOURCC_VP9, PACKET_CODED_FRAMES,
    PACKET_CODED_FRAMES_X, PACKET_METADATA, PACKET_MPEG2TS_SEQUENCE_START, PACKET_SEQUENCE_END,
    PACKET_SEQUENCE_START, PACKET_VIDEO_MULTITRACK,
};
use super::FlvError;
use bytes::{BufMut, Bytes};

/// Legacy codec id of H.264.
pub(crate) const CODEC_ID_AVC: u8 = 7;
/// Legacy codec id some encoders (mostly Chinese CDNs) use for H.265.
pub(crate) const CODEC_ID_HEVC: u8 = 12;
/// Frame type of a key frame.
pub(crate) const FRAME_KEY: u8 = 1;
/// Frame type of an inter frame.
pub(crate) const FRAME_INTER: u8 = 2;
/// Frame type of a video info / command frame (no video data).
const FRAME_COMMAND: u8 = 5;

/// The video codecs this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VideoCodec {
    /// H.264 (legacy codec id 7 or FourCC `avc1`).
    Avc,
    /// H.265 (legacy codec id 12 or FourCC `hvc1`).
    Hevc,
    /// AV1 (FourCC `av01`).
    Av1,
    /// VP9 (FourCC `vp09`).
    Vp9,
}

/// What one video message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VideoPacket {
    /// The decoder configuration record.
    SequenceStart(Bytes),
    /// Coded frames with their composition time offset in ms.
    CodedFrames {
        /// pts − dts in milliseconds, as sent (may be negative).
        cts: i32,
        /// Length-prefixed NAL units (H.264 / H.265) or the codec's frame data.
        data: Bytes,
    },
    /// End of sequence.
    SequenceEnd,
}

/// One parsed video message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VideoTag {
    /// The codec.
    pub(crate) codec: VideoCodec,
    /// The FLV frame type (1 key, 2 inter, 3 disposable, 4 generated key).
    pub(crate) frame_type: u8,
    /// The payload.
    pub(crate) packet: VideoPacket,
}

/// Parses a video message body; `Ok(None)` for messages without video data (command frames,
/// E-RTMP metadata, an MPEG-2 TS sequence start).
pub(crate) fn parse_video(body: &Bytes) -> Result<Option<VideoTag>, FlvError> {
    let mut c = Cursor::new(body);
    let b0 = c.u8("empty video body")?;
    if b0 & 0x80 != 0 {
        return parse_ex_video(&mut c, b0);
    }
    let frame_type = b0 >> 4;
    let codec = match b0 & 0x0f {
        CODEC_ID_AVC => VideoCodec::Avc,
        CODEC_ID_HEVC => VideoCodec::Hevc,
        _ => return Err(FlvError::Unsupported("video codec")),
    };
    if frame_type == FRAME_COMMAND {
        return Ok(None);
    }
    let packet_type = c.u8("truncated AVC video header")?;
    let cts = c.i24("truncated AVC video header")?;
    let packet = match packet_type {
        0 => VideoPacket::SequenceStart(c.rest()),
        1 => VideoPacket::CodedFrames {
            cts,
            data: c.rest(),
        },
        2 => VideoPacket::SequenceEnd,
        _ => return Err(FlvError::Malformed("unknown AVCPacketType")),
    };
    Ok(Some(VideoTag {
        codec,
        frame_type,
        packet,
    }))
}

/// Parses the rest of an Enhanced RTMP video message whose first byte is `b0`.
fn parse_ex_video(c: &mut Cursor<'_>, b0: u8) -> Result<Option<VideoTag>, FlvError> {
    let frame_type = (b0 >> 4) & 0x07;
    let packet_type = exheader::skip_mod_ex(c, b0 & 0x0f)?;
    if packet_type != PACKET_METADATA && frame_type == FRAME_COMMAND {
        return Ok(None);
    }
    if packet_type == PACKET_VIDEO_MULTITRACK {
        return Err(FlvError::Unsupported("multitrack video"));
    }
    let codec = match c.fourcc("truncated video FourCC")? {
        FOURCC_AVC => VideoCodec::Avc,
        FOURCC_HEVC => VideoCodec::Hevc,
        FOURCC_AV1 => VideoCodec::Av1,
        FOURCC_VP9 => VideoCodec::Vp9,
        _ => return Err(FlvError::Unsupported("video FourCC")),
    };
    let packet = match packet_type {
        PACKET_SEQUENCE_START => VideoPacket::SequenceStart(c.rest()),
        PACKET_CODED_FRAMES => {
            let cts = match codec {
                VideoCodec::Avc | VideoCodec::Hevc => c.i24("truncated composition time")?,
                VideoCodec::Av1 | VideoCodec::Vp9 => 0,
            };
            VideoPacket::CodedFrames {
                cts,
                data: c.rest(),
            }
        }
        PACKET_CODED_FRAMES_X => VideoPacket::CodedFrames {
            cts: 0,
            data: c.rest(),
        },
        PACKET_SEQUENCE_END => VideoPacket::SequenceEnd,
        PACKET_METADATA | PACKET_MPEG2TS_SEQUENCE_START => return Ok(None),
        _ => return Err(FlvError::Malformed("unknown VideoPacketType")),
    };
    Ok(Some(VideoTag {
        codec,
        frame_type,
        packet,
    }))
}

/// Clamps a composition time to the SI24 range and writes it.
fn put_i24(out: &mut impl BufMut, v: i32) {
    let v = v.clamp(-(1 << 23), (1 << 23) - 1) as u32;
    out.put_slice(&v.to_be_bytes()[1..]);
}

/// Writes a legacy H.264 video tag header: frame type and codec id 7, AVCPacketType, CTS.
pub(crate) fn put_avc_header(out: &mut impl BufMut, key: bool, packet_type: u8, cts: i32) {
    let frame_type = if key { FRAME_KEY } else { FRAME_INTER };
    out.put_u8(frame_type << 4 | CODEC_ID_AVC);
    out.put_u8(packet_type);
    put_i24(out, cts);
}

/// Writes an Enhanced RTMP video tag header. Coded frames with a zero composition time use
/// CodedFramesX (no CTS field); other coded frames carry the CTS when the codec has one.
pub(crate) fn put_ex_header(
    out: &mut impl BufMut,
    key: bool,
    packet_type: u8,
    fourcc: [u8; 4],
    cts: i32,
) {
    let frame_type = if key { FRAME_KEY } else { FRAME_INTER };
    let with_cts = fourcc == FOURCC_AVC || fourcc == FOURCC_HEVC;
    let packet_type = if packet_type == PACKET_CODED_FRAMES && (cts == 0 || !with_cts) {
        PACKET_CODED_FRAMES_X
    } else {
        packet_type
    };
    out.put_u8(0x80 | frame_type << 4 | packet_type);
    out.put_slice(&fourcc);
    if packet_type == PACKET_CODED_FRAMES {
        put_i24(out, cts);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: &'static [u8]) -> Result<Option<VideoTag>, FlvError> {
        parse_video(&Bytes::from_static(b))
    }

    #[test]
    fn legacy_header_with_cts() {
        // Inter frame, AVC NALU, CTS 80 ms.
        let mut v = Vec::new();
        put_avc_header(&mut v, false, 1, 80);
        assert_eq!(v, [0x27, 0x01, 0x00, 0x00, 0x50]);
        v.extend_from_slice(&[0, 0, 0, 1, 0x41]);
        let t = parse_video(&Bytes::from(v)).unwrap().unwrap();
        assert_eq!((t.codec, t.frame_type), (VideoCodec::Avc, 2));
        assert_eq!(
            t.packet,
            VideoPacket::CodedFrames {
                cts: 80,
                data: Bytes::from_static(&[0, 0, 0, 1, 0x41])
            }
        );
        // Key frame, negative CTS (sign-extended), and clamping when writing.
        let t = parse(&[0x17, 0x01, 0xff, 0xff, 0xb0]).unwrap().unwrap();
        assert_eq!(t.frame_type, 1);
        assert!(matches!(
            t.packet,
            VideoPacket::CodedFrames { cts: -80, .. }
        ));
        let mut v = Vec::new();
        put_avc_header(&mut v, true, 0, i32::MAX);
        assert_eq!(v, [0x17, 0x00, 0x7f, 0xff, 0xff]);
        // Legacy HEVC (codec id 12) sequence header.
        let t = parse(&[0x1c, 0x00, 0, 0, 0, 1, 2]).unwrap().unwrap();
        assert_eq!(t.codec, VideoCodec::Hevc);
        assert_eq!(
            t.packet,
            VideoPacket::SequenceStart(Bytes::from_static(&[1, 2]))
        );
        assert_eq!(
            parse(&[0x17, 0x02, 0, 0, 0]).unwrap().unwrap().packet,
            VideoPacket::SequenceEnd
        );
    }

    #[test]
    fn enhanced_hvc1_headers() {
        // Key frame, CodedFrames, CTS 40 ms.
        let mut v = Vec::new();
        put_ex_header(&mut v, true, PACKET_CODED_FRAMES, FOURCC_HEVC, 40);
        assert_eq!(v, [0x91, b'h', b'v', b'c', b'1', 0x00, 0x00, 0x28]);
        v.extend_from_slice(&[0, 0, 0, 2, 0x26, 0x01]);
        let t = parse_video(&Bytes::from(v)).unwrap().unwrap();
        assert_eq!((t.codec, t.frame_type), (VideoCodec::Hevc, 1));
        assert!(
            matches!(t.packet, VideoPacket::CodedFrames { cts: 40, ref data } if data.len() == 6)
        );
        // Inter frame without CTS: CodedFramesX.
        let mut v = Vec::new();
        put_ex_header(&mut v, false, PACKET_CODED_FRAMES, FOURCC_HEVC, 0);
        assert_eq!(v, [0xa3, b'h', b'v', b'c', b'1']);
        // Sequence start.
        let mut v = Vec::new();
        put_ex_header(&mut v, true, PACKET_SEQUENCE_START, FOURCC_HEVC, 0);
        assert_eq!(v, [0x90, b'h', b'v', b'c', b'1']);
        // AV1 coded frames carry no CTS.
        let t = parse(&[0x91, b'a', b'v', b'0', b'1', 0x12, 0x00])
            .unwrap()
            .unwrap();
        assert_eq!(t.codec, VideoCodec::Av1);
        assert_eq!(
            t.packet,
            VideoPacket::CodedFrames {
                cts: 0,
                data: Bytes::from_static(&[0x12, 0x00])
            }
        );
        // ModEx prefix before the FourCC.
        let t = parse(&[0x97, 2, 0, 0, 5, 0x03, b'v', b'p', b'0', b'9', 7])
            .unwrap()
            .unwrap();
        assert_eq!(t.codec, VideoCodec::Vp9);
    }

    #[test]
    fn ignored_unsupported_and_malformed() {
        assert_eq!(parse(&[0x57, 0x00]), Ok(None)); // command frame
        assert_eq!(parse(&[0x94, b'h', b'v', b'c', b'1', 2, 0, 0]), Ok(None)); // metadata
        assert_eq!(parse(&[0xd0, 0x00]), Ok(None)); // E-RTMP command frame
        assert_eq!(
            parse(&[0x12, 0, 0]),
            Err(FlvError::Unsupported("video codec"))
        );
        assert_eq!(
            parse(&[0x91, b'v', b'p', b'0', b'8']),
            Err(FlvError::Unsupported("video FourCC"))
        );
        assert_eq!(
            parse(&[0x96, 0x00]),
            Err(FlvError::Unsupported("multitrack video"))
        );
        assert!(matches!(parse(&[]), Err(FlvError::Malformed(_))));
        assert!(matches!(
            parse(&[0x17, 0x01, 0]),
            Err(FlvError::Malformed(_))
        ));
        assert!(matches!(
            parse(&[0x17, 0x05, 0, 0, 0]),
            Err(FlvError::Malformed(_))
        ));
        assert!(matches!(
            parse(&[0x91, b'h', b'v']),
            Err(FlvError::Malformed(_))
        ));
        assert!(matches!(
            parse(&[0x91, b'h', b'v', b'c', b'1', 0]),
            Err(FlvError::Malformed(_))
        ));
        assert!(matches!(
            parse(&[0x98, b'h', b'v', b'c', b'1']),
            Err(FlvError::Malformed(_))
        ));
    }
}
