//! The Opus identification header (RFC 7845 §5.1, "OpusHead"): the Enhanced RTMP v2 Opus
//! sequence start.

use super::FlvError;
use bytes::{BufMut, Bytes};

/// The magic signature that starts an identification header.
const MAGIC: &[u8; 8] = b"OpusHead";

/// The fields of an OpusHead that weir uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusHead {
    /// The output channel count (1 or more).
    pub channel_count: u8,
    /// Samples (at 48 kHz) to discard from the decoder output at the start.
    pub pre_skip: u16,
    /// The sample rate of the original input (informational; 0 = unspecified).
    pub input_sample_rate: u32,
    /// The channel mapping family (0 = mono/stereo, one stream).
    pub mapping_family: u8,
}

impl OpusHead {
    /// A mono or stereo header (mapping family 0) with no pre-skip and a 48 kHz input rate.
    /// RTP does not carry the encoder's pre-skip, so a few milliseconds of encoder priming are
    /// played out rather than trimmed.
    pub fn stereo(stereo: bool) -> OpusHead {
        OpusHead {
            channel_count: if stereo { 2 } else { 1 },
            pre_skip: 0,
            input_sample_rate: 48_000,
            mapping_family: 0,
        }
    }

    /// Parses a header. Errors: a missing magic, truncation, version ≥ 16 (incompatible), zero
    /// channels.
    pub fn parse(data: &[u8]) -> Result<OpusHead, FlvError> {
        if data.len() < 19 || &data[..8] != MAGIC {
            return Err(FlvError::Malformed("not an OpusHead"));
        }
        if data[8] >= 16 {
            return Err(FlvError::Unsupported("OpusHead version"));
        }
        if data[9] == 0 {
            return Err(FlvError::Malformed("OpusHead with zero channels"));
        }
        Ok(OpusHead {
            channel_count: data[9],
            pre_skip: u16::from_le_bytes([data[10], data[11]]),
            input_sample_rate: u32::from_le_bytes([data[12], data[13], data[14], data[15]]),
            mapping_family: data[18],
        })
    }

    /// Writes the 19-byte header of mapping family 0 (version 1, gain 0). A channel count above 2
    /// would need a mapping table: it is written as stereo.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = Vec::with_capacity(19);
        out.extend_from_slice(MAGIC);
        out.put_u8(1);
        out.put_u8(self.channel_count.clamp(1, 2));
        out.put_u16_le(self.pre_skip);
        out.put_u32_le(self.input_sample_rate);
        out.put_i16_le(0);
        out.put_u8(0);
        out.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPUS_HEAD: &[u8] = include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/media/opus-head"
    ));

    #[test]
    fn parses_the_sample_and_writes_exact_bytes() {
        let h = OpusHead::parse(OPUS_HEAD).unwrap();
        assert_eq!(h.channel_count, 2);
        assert_eq!(h.pre_skip, 312);
        assert_eq!(h.input_sample_rate, 48_000);
        assert_eq!(h.mapping_family, 0);
        assert_eq!(&h.to_bytes()[..], OPUS_HEAD);
        assert_eq!(
            &OpusHead::stereo(false).to_bytes()[..],
            b"OpusHead\x01\x01\x00\x00\x80\xbb\x00\x00\x00\x00\x00"
        );
    }

    #[test]
    fn rejects_bad_headers() {
        assert!(OpusHead::parse(&OPUS_HEAD[..18]).is_err());
        assert!(OpusHead::parse(b"OpusTags...........").is_err());
        let mut h = OPUS_HEAD.to_vec();
        h[8] = 16;
        assert_eq!(
            OpusHead::parse(&h),
            Err(FlvError::Unsupported("OpusHead version"))
        );
        h[8] = 1;
        h[9] = 0;
        assert!(OpusHead::parse(&h).is_err());
    }
}
