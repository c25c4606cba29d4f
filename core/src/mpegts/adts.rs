//! ADTS headers (ISO/IEC 13818-7 §6.2 / ISO/IEC 14496-3 §1.A.3), which frame each AAC access
//! unit carried in MPEG-TS, derived from the track's AudioSpecificConfig.

use crate::codec::mpeg4audio::AudioSpecificConfig;

/// The size of an ADTS header without CRC.
pub const ADTS_HEADER_SIZE: usize = 7;
/// The largest ADTS frame (header included): frame_length is 13 bits.
pub const MAX_ADTS_FRAME: usize = (1 << 13) - 1;

/// sampling_frequency_index → Hz (ISO/IEC 14496-3 Table 1.18).
const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// The fixed fields of the ADTS headers of one AAC stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsConfig {
    /// profile_ObjectType: the audio object type minus one (1 = AAC LC).
    pub profile: u8,
    /// sampling_frequency_index.
    pub sampling_frequency_index: u8,
    /// channel_configuration (1..=7).
    pub channel_configuration: u8,
}

impl AdtsConfig {
    /// The ADTS fields of `config`, or what makes it impossible to signal in ADTS: an object
    /// type above 4, a sampling rate without an index, a channel layout without a
    /// configuration number.
    pub fn from_config(config: &AudioSpecificConfig) -> Result<AdtsConfig, &'static str> {
        if !(1..=4).contains(&config.object_type) {
            return Err("audio object type not representable in ADTS");
        }
        let index = SAMPLE_RATES
            .iter()
            .position(|&r| r == config.sample_rate)
            .ok_or("sampling rate not representable in ADTS")?;
        let channel_configuration = match config.channel_count {
            1..=6 => config.channel_count,
            8 => 7,
            _ => return Err("channel layout not representable in ADTS"),
        };
        Ok(AdtsConfig {
            profile: config.object_type - 1,
            // At most 12.
            sampling_frequency_index: index as u8,
            channel_configuration,
        })
    }

    /// The 7-byte header (MPEG-4, no CRC, buffer fullness 0x7FF "variable rate", one raw
    /// data block) for a `payload_len`-byte access unit; `None` when the frame would exceed
    /// 8191 bytes.
    pub fn header(&self, payload_len: usize) -> Option<[u8; ADTS_HEADER_SIZE]> {
        let len = payload_len.checked_add(ADTS_HEADER_SIZE)?;
        if len > MAX_ADTS_FRAME {
            return None;
        }
        let ch = self.channel_configuration & 0x07;
        Some([
            0xFF,
            0xF1, // syncword end, ID 0 (MPEG-4), layer 0, protection_absent 1
            ((self.profile & 0x03) << 6)
                | ((self.sampling_frequency_index & 0x0F) << 2)
                | (ch >> 2),
            ((ch & 0x03) << 6) | ((len >> 11) as u8 & 0x03),
            (len >> 3) as u8,
            ((len as u8 & 0x07) << 5) | 0x1F,
            0xFC,
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpegts::test_support::media as test_media;

    #[test]
    fn matches_the_real_adts_sample() {
        // core/tests/data/media/adts is aac_frame (333 bytes) behind the header ffmpeg wrote
        // for AAC LC, 44.1 kHz, stereo (AudioSpecificConfig 0x12 0x10).
        let adts = test_media("adts");
        let frame = test_media("aac_frame");
        let config = AudioSpecificConfig::parse(&[0x12, 0x10]).unwrap();
        let c = AdtsConfig::from_config(&config).unwrap();
        assert_eq!(
            c,
            AdtsConfig {
                profile: 1,
                sampling_frequency_index: 4,
                channel_configuration: 2
            }
        );
        let header = c.header(frame.len()).unwrap();
        assert_eq!(header, [0xFF, 0xF1, 0x50, 0x80, 0x2A, 0x9F, 0xFC]);
        assert_eq!(&adts[..7], &header);
        assert_eq!(&adts[7..7 + frame.len()], &frame[..]);
    }

    #[test]
    fn limits_and_unsupported_configs() {
        let config = AudioSpecificConfig::parse(&[0x11, 0x90]).unwrap(); // LC 48 kHz stereo
        let c = AdtsConfig::from_config(&config).unwrap();
        assert!(c.header(MAX_ADTS_FRAME - 7).is_some());
        assert!(c.header(MAX_ADTS_FRAME - 6).is_none());
        assert!(c.header(usize::MAX).is_none());
        // 8 channels (configuration 7).
        let eight = AudioSpecificConfig::parse(&[0x11, 0xB8]).unwrap();
        assert_eq!(
            AdtsConfig::from_config(&eight)
                .unwrap()
                .channel_configuration,
            7
        );
        let h = AdtsConfig::from_config(&eight).unwrap().header(0).unwrap();
        assert_eq!((h[2] & 1, h[3] >> 6), (1, 3));
        // Explicit 12345 Hz: no index.
        let odd = AudioSpecificConfig::parse(&[0x17, 0x80, 0x18, 0x1C, 0x90]).unwrap();
        assert_eq!(odd.sample_rate, 12345);
        assert!(AdtsConfig::from_config(&odd).is_err());
    }
}
