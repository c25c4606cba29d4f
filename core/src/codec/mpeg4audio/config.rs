//! MPEG-4 AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), as carried hex-encoded in the SDP
//! `config=` parameter.

use crate::codec::bits::BitReader;
use crate::codec::{fmtp, CodecError};
use bytes::Bytes;

/// samplingFrequencyIndex → Hz (ISO/IEC 14496-3 Table 1.18); 13 and 14 are reserved, 15 escapes
/// to an explicit 24-bit frequency.
const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Audio object types whose config continues with a GASpecificConfig (frameLengthFlag first).
const GA_OBJECT_TYPES: [u8; 12] = [1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23];

/// A parsed AudioSpecificConfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// The audio object type (2 = AAC LC); for explicitly signalled SBR/PS (types 5 and 29)
    /// this is the underlying core type.
    pub object_type: u8,
    /// The (core) sampling rate in Hz.
    pub sample_rate: u32,
    /// The channel count from channelConfiguration (0 when a program config element defines it).
    pub channel_count: u8,
    /// The output sampling rate of explicitly signalled SBR/PS (HE-AAC), if any.
    pub extension_sample_rate: Option<u32>,
    /// Samples per access unit: 1024, or 960 when frameLengthFlag is set.
    pub frame_length: u32,
    /// The encoded config, as received.
    pub raw: Bytes,
}

/// Reads audioObjectType with the escape for types ≥ 32.
fn read_object_type(r: &mut BitReader<'_>) -> Result<u8, CodecError> {
    let t = r.read_bits(5)?;
    let t = if t == 31 { 32 + r.read_bits(6)? } else { t };
    // At most 95.
    Ok(t as u8)
}

/// Reads samplingFrequencyIndex and, for index 15, the explicit frequency.
fn read_sample_rate(r: &mut BitReader<'_>) -> Result<u32, CodecError> {
    match r.read_bits(4)? {
        15 => {
            let rate = r.read_bits(24)?;
            if rate == 0 {
                return Err(CodecError::Invalid("zero sampling frequency"));
            }
            Ok(rate)
        }
        i => SAMPLE_RATES
            .get(i as usize)
            .copied()
            .ok_or(CodecError::Invalid("reserved samplingFrequencyIndex")),
    }
}

impl AudioSpecificConfig {
    /// Parses an AudioSpecificConfig. Never panics.
    pub fn parse(data: &[u8]) -> Result<Self, CodecError> {
        let mut r = BitReader::new(data);
        let mut object_type = read_object_type(&mut r)?;
        if object_type == 0 {
            return Err(CodecError::Invalid("audio object type 0"));
        }
        let sample_rate = read_sample_rate(&mut r)?;
        let channel_configuration = r.read_bits(4)?;
        let channel_count = match channel_configuration {
            0..=6 => channel_configuration as u8,
            7 | 12 | 14 => 8,
            11 => 7,
            13 => 24,
            _ => return Err(CodecError::Invalid("reserved channelConfiguration")),
        };
        let mut extension_sample_rate = None;
        if object_type == 5 || object_type == 29 {
            extension_sample_rate = Some(read_sample_rate(&mut r)?);
            object_type = read_object_type(&mut r)?;
            if object_type == 22 {
                r.skip_bits(4)?; // extensionChannelConfiguration
            }
        }
        let mut frame_length = 1024;
        if GA_OBJECT_TYPES.contains(&object_type) {
            // GASpecificConfig: frameLengthFlag. A config cut right here is still usable.
            if let Ok(true) = r.read_flag() {
                frame_length = 960;
            }
        }
        Ok(AudioSpecificConfig {
            object_type,
            sample_rate,
            channel_count,
            extension_sample_rate,
            frame_length,
            raw: Bytes::copy_from_slice(data),
        })
    }

    /// Parses the hex `config=` parameter of an fmtp value.
    pub fn from_fmtp(fmtp_value: &str) -> Result<Self, CodecError> {
        let hex =
            fmtp::get(fmtp_value, "config").ok_or(CodecError::Invalid("no config in fmtp"))?;
        Self::parse(&fmtp::decode_hex(hex)?)
    }

    /// The fmtp value for RFC 3640 AAC-hbr with this config:
    /// `profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3;
    /// config=<hex>`.
    pub fn to_fmtp(&self) -> String {
        format!(
            "profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config={}",
            fmtp::encode_hex(&self.raw, false)
        )
    }
}
