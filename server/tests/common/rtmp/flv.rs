//! FLV video tag parsing (legacy AVC and Enhanced RTMP `avc1`/`hvc1`), `avcC`/`hvcC` records
//! and an AVCC/HVCC → Annex-B converter, plus FLV audio tag checks.

use super::chunk::be24;

/// The codec signalling of an FLV video tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VideoSignalling {
    /// Legacy FLV: the 4-bit codec id (7 = AVC).
    Legacy(u8),
    /// Enhanced RTMP: the FourCC (`avc1`, `hvc1`, `av01`, `vp09`).
    Enhanced([u8; 4]),
}

/// What an FLV video tag carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VideoPacket {
    /// The decoder configuration record (AVC packet type 0 / `SequenceStart`).
    SequenceHeader,
    /// Coded frames (AVC packet type 1 / `CodedFrames` / `CodedFramesX`).
    Frames,
    /// End of sequence (AVC packet type 2 / `SequenceEnd`).
    EndOfSequence,
    /// Anything else (metadata, multitrack, video info/command frame): the packet type.
    Other(u8),
}

/// One parsed FLV video tag body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoTag {
    /// Frame type 1 (key frame).
    pub key: bool,
    /// How the codec was signalled.
    pub signalling: VideoSignalling,
    /// What the tag carries.
    pub packet: VideoPacket,
    /// Composition time offset in ms (0 when absent).
    pub cts: i32,
    /// The configuration record or the length-prefixed NAL units.
    pub data: Vec<u8>,
}

impl VideoTag {
    /// True for H264 (legacy codec id 7 or Enhanced `avc1`).
    pub fn is_h264(&self) -> bool {
        matches!(&self.signalling, VideoSignalling::Legacy(7))
            || self.signalling == VideoSignalling::Enhanced(*b"avc1")
    }

    /// True for H265 (Enhanced `hvc1`, or the non-standard legacy codec id 12).
    pub fn is_h265(&self) -> bool {
        matches!(&self.signalling, VideoSignalling::Legacy(12))
            || self.signalling == VideoSignalling::Enhanced(*b"hvc1")
    }
}

/// A big-endian signed 24-bit value (composition time offset) from the first 3 bytes of `b`.
fn si24(b: &[u8]) -> i32 {
    ((be24(b) << 8) as i32) >> 8
}

/// Parses an FLV video tag body (legacy or Enhanced RTMP); `None` if too short.
pub fn parse_video_tag(body: &[u8]) -> Option<VideoTag> {
    let b0 = *body.first()?;
    if b0 & 0x80 != 0 {
        // Enhanced RTMP: [IsExHeader | FrameType:3 | PacketType:4] FourCC ...
        let frame_type = (b0 >> 4) & 0x07;
        let packet_type = b0 & 0x0f;
        let fourcc: [u8; 4] = body.get(1..5)?.try_into().ok()?;
        let mut rest = &body[5..];
        let (packet, cts) = match packet_type {
            0 => (VideoPacket::SequenceHeader, 0),
            1 => {
                let has_cts = &fourcc == b"avc1" || &fourcc == b"hvc1";
                let cts = if has_cts {
                    let c = si24(rest.get(..3)?);
                    rest = &rest[3..];
                    c
                } else {
                    0
                };
                (VideoPacket::Frames, cts)
            }
            2 => (VideoPacket::EndOfSequence, 0),
            3 => (VideoPacket::Frames, 0),
            t => (VideoPacket::Other(t), 0),
        };
        return Some(VideoTag {
            key: frame_type == 1,
            signalling: VideoSignalling::Enhanced(fourcc),
            packet,
            cts,
            data: rest.to_vec(),
        });
    }
    let frame_type = b0 >> 4;
    let codec = b0 & 0x0f;
    if codec != 7 && codec != 12 {
        return Some(VideoTag {
            key: frame_type == 1,
            signalling: VideoSignalling::Legacy(codec),
            packet: VideoPacket::Other(0xff),
            cts: 0,
            data: body[1..].to_vec(),
        });
    }
    let packet = match *body.get(1)? {
        0 => VideoPacket::SequenceHeader,
        1 => VideoPacket::Frames,
        2 => VideoPacket::EndOfSequence,
        t => VideoPacket::Other(t),
    };
    Some(VideoTag {
        key: frame_type == 1,
        signalling: VideoSignalling::Legacy(codec),
        packet,
        cts: si24(body.get(2..5)?),
        data: body[5..].to_vec(),
    })
}

/// The NAL unit length size and the parameter sets of an `avcC` record (AVCDecoderConfigurationRecord).
pub fn parse_avcc(rec: &[u8]) -> Result<(usize, Vec<Vec<u8>>), String> {
    let err = || format!("truncated avcC record ({} bytes)", rec.len());
    if rec.len() < 7 || rec[0] != 1 {
        return Err(format!("not an avcC record: {rec:02x?}"));
    }
    let len_size = usize::from(rec[4] & 0x03) + 1;
    let mut pos = 5;
    let mut sets = Vec::new();
    // numOfSequenceParameterSets (low 5 bits), then numOfPictureParameterSets (8 bits).
    for mask in [0x1f, 0xff] {
        let count = usize::from(*rec.get(pos).ok_or_else(err)?) & mask;
        pos += 1;
        for _ in 0..count {
            let n = usize::from(u16::from_be_bytes([
                *rec.get(pos).ok_or_else(err)?,
                *rec.get(pos + 1).ok_or_else(err)?,
            ]));
            sets.push(rec.get(pos + 2..pos + 2 + n).ok_or_else(err)?.to_vec());
            pos += 2 + n;
        }
    }
    Ok((len_size, sets))
}

/// The NAL unit length size and the parameter sets (VPS, SPS, PPS, SEI arrays) of an `hvcC`
/// record (HEVCDecoderConfigurationRecord).
pub fn parse_hvcc(rec: &[u8]) -> Result<(usize, Vec<Vec<u8>>), String> {
    let err = || format!("truncated hvcC record ({} bytes)", rec.len());
    if rec.len() < 23 || rec[0] != 1 {
        return Err(format!(
            "not an hvcC record: {:02x?}",
            &rec[..rec.len().min(32)]
        ));
    }
    let len_size = usize::from(rec[21] & 0x03) + 1;
    let arrays = usize::from(rec[22]);
    let mut pos = 23;
    let mut sets = Vec::new();
    for _ in 0..arrays {
        pos += 1; // array_completeness | reserved | NAL_unit_type
        let b = rec.get(pos..pos + 2).ok_or_else(err)?;
        let count = usize::from(u16::from_be_bytes([b[0], b[1]]));
        pos += 2;
        for _ in 0..count {
            let b = rec.get(pos..pos + 2).ok_or_else(err)?;
            let n = usize::from(u16::from_be_bytes([b[0], b[1]]));
            sets.push(rec.get(pos + 2..pos + 2 + n).ok_or_else(err)?.to_vec());
            pos += 2 + n;
        }
    }
    Ok((len_size, sets))
}

/// Splits length-prefixed NAL units (`len_size` bytes of length each).
pub fn split_length_prefixed(data: &[u8], len_size: usize) -> Result<Vec<&[u8]>, String> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < data.len() {
        let Some(lb) = data.get(pos..pos + len_size) else {
            return Err(format!("truncated NAL length at {pos} of {}", data.len()));
        };
        let n = lb
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        pos += len_size;
        let Some(nal) = data.get(pos..pos + n) else {
            return Err(format!(
                "NAL of {n} bytes at {pos} overruns {} bytes",
                data.len()
            ));
        };
        out.push(nal);
        pos += n;
    }
    Ok(out)
}

/// Turns FLV video tags of one codec (H264 or H265) into an Annex-B elementary stream that
/// ffmpeg decodes: parameter sets from the last sequence header before every key frame,
/// each NAL unit behind a 4-byte start code.
#[derive(Debug, Default)]
pub struct AnnexBWriter {
    len_size: usize,
    param_sets: Vec<Vec<u8>>,
    /// The elementary stream so far.
    pub out: Vec<u8>,
    /// Coded frame tags written so far.
    pub frames: usize,
}

impl AnnexBWriter {
    /// Adds one tag: a sequence header updates the parameter sets; a coded frame is
    /// written (from the first key frame on). Errors on a malformed record or frame.
    pub fn push(&mut self, tag: &VideoTag) -> Result<(), String> {
        match tag.packet {
            VideoPacket::SequenceHeader => {
                let (len_size, sets) = if tag.is_h265() {
                    parse_hvcc(&tag.data)?
                } else {
                    parse_avcc(&tag.data)?
                };
                self.len_size = len_size;
                self.param_sets = sets;
            }
            VideoPacket::Frames => {
                if self.len_size == 0 {
                    return Err("coded frame before any sequence header".into());
                }
                if self.frames == 0 && !tag.key {
                    return Ok(());
                }
                let nals = split_length_prefixed(&tag.data, self.len_size)?;
                if tag.key {
                    for ps in &self.param_sets {
                        self.out.extend_from_slice(&[0, 0, 0, 1]);
                        self.out.extend_from_slice(ps);
                    }
                }
                for nal in nals {
                    self.out.extend_from_slice(&[0, 0, 0, 1]);
                    self.out.extend_from_slice(nal);
                }
                self.frames += 1;
            }
            _ => {}
        }
        Ok(())
    }
}

/// True for an FLV audio tag body that carries a decoder configuration: legacy AAC
/// (sound format 10) with AACPacketType 0, or an Enhanced RTMP audio `SequenceStart`
/// (sound format 9, packet type 0).
pub fn is_audio_sequence_header(body: &[u8]) -> bool {
    match body.first().map(|b| b >> 4) {
        Some(10) => body.get(1) == Some(&0),
        Some(9) => body[0] & 0x0f == 0,
        _ => false,
    }
}

/// The H264 NAL unit types of a coded frame tag's length-prefixed data.
pub fn h264_nal_types_of(data: &[u8], len_size: usize) -> Vec<u8> {
    split_length_prefixed(data, len_size)
        .unwrap_or_default()
        .iter()
        .filter_map(|n| n.first().map(|b| b & 0x1f))
        .collect()
}
