//! The few SPS fields the decoder configuration records need beyond what
//! [`crate::codec::h264::Sps`] and [`crate::codec::h265::Sps`] keep: bit depths, and the raw
//! H.265 profile_tier_level bytes (H.264 §7.3.2.1.1, H.265 §7.3.2.2, §7.3.3).

/// The most bytes of a parameter set unescaped to read its first fields.
const MAX_UNESCAPED: usize = 1024;

/// An MSB-first bit reader over an RBSP; every read is bounds-checked.
struct Bits {
    data: Vec<u8>,
    pos: usize,
}

impl Bits {
    /// The RBSP of `nalu` after skipping its `header` bytes (emulation prevention removed).
    fn new(nalu: &[u8], header: usize) -> Bits {
        let mut data = Vec::with_capacity(nalu.len().min(MAX_UNESCAPED));
        let mut zeros = 0;
        for &b in nalu.iter().skip(header).take(MAX_UNESCAPED) {
            if zeros >= 2 && b == 3 {
                zeros = 0;
                continue;
            }
            zeros = if b == 0 { zeros + 1 } else { 0 };
            data.push(b);
        }
        Bits { data, pos: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(bit))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n.min(32) {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        if self.pos + n > self.data.len() * 8 {
            return None;
        }
        self.pos += n;
        Some(())
    }

    /// An unsigned Exp-Golomb code, `ue(v)`.
    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let suffix = self.bits(zeros)?;
        Some(((1u64 << zeros) - 1 + u64::from(suffix)).min(u64::from(u32::MAX)) as u32)
    }

    /// `n` whole bytes (the reader must be byte-aligned).
    fn bytes<const N: usize>(&mut self) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.bits(8)? as u8;
        }
        Some(out)
    }
}

/// The chroma format and bit depths of an H.264 SPS of a high profile (avcC extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AvcFormat {
    pub chroma_format_idc: u8,
    pub bit_depth_luma_minus8: u8,
    pub bit_depth_chroma_minus8: u8,
}

/// The profiles whose SPS carries chroma_format_idc and bit depths (§7.3.2.1.1).
pub(super) const AVC_HIGH_PROFILES: [u8; 12] =
    [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134];

/// Reads chroma format and bit depths from an H.264 SPS NAL unit (header byte included);
/// the defaults (4:2:0, 8 bits) for other profiles; `None` when truncated or out of range.
pub(super) fn avc_format(sps: &[u8]) -> Option<AvcFormat> {
    let mut r = Bits::new(sps, 1);
    let profile_idc = r.bits(8)? as u8;
    r.skip(16)?; // constraint flags, level_idc
    let _sps_id = r.ue()?;
    if !AVC_HIGH_PROFILES.contains(&profile_idc) {
        return Some(AvcFormat {
            chroma_format_idc: 1,
            bit_depth_luma_minus8: 0,
            bit_depth_chroma_minus8: 0,
        });
    }
    let chroma_format_idc = r.ue()?;
    if chroma_format_idc == 3 {
        r.skip(1)?; // separate_colour_plane_flag
    }
    let luma = r.ue()?;
    let chroma = r.ue()?;
    (chroma_format_idc <= 3 && luma <= 6 && chroma <= 6).then_some(AvcFormat {
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma_minus8: luma as u8,
        bit_depth_chroma_minus8: chroma as u8,
    })
}

/// The hvcC fields of an H.265 SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HevcFormat {
    /// general_profile_space (2 bits), general_tier_flag, general_profile_idc (5 bits).
    pub profile_byte: u8,
    /// general_profile_compatibility_flags.
    pub compatibility: [u8; 4],
    /// The 48 bits of general progressive/interlaced/… constraint flags.
    pub constraints: [u8; 6],
    /// general_level_idc.
    pub level_idc: u8,
    pub max_sub_layers_minus1: u8,
    pub temporal_id_nesting: bool,
    pub chroma_format_idc: u8,
    pub bit_depth_luma_minus8: u8,
    pub bit_depth_chroma_minus8: u8,
}

/// Reads the hvcC fields from an H.265 SPS NAL unit (2-byte header included); `None` when
/// truncated or out of range.
pub(super) fn hevc_format(sps: &[u8]) -> Option<HevcFormat> {
    let mut r = Bits::new(sps, 2);
    r.skip(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.bits(3)? as u8;
    let temporal_id_nesting = r.bit()? == 1;
    let profile_byte = r.bits(8)? as u8;
    let compatibility = r.bytes::<4>()?;
    let constraints = r.bytes::<6>()?;
    let level_idc = r.bits(8)? as u8;
    let sub_layers = usize::from(max_sub_layers_minus1.min(7));
    let mut present = [(false, false); 8];
    for p in present.iter_mut().take(sub_layers) {
        *p = (r.bit()? == 1, r.bit()? == 1);
    }
    if sub_layers > 0 {
        r.skip(2 * (8 - sub_layers))?;
    }
    for &(profile, level) in present.iter().take(sub_layers) {
        if profile {
            r.skip(88)?;
        }
        if level {
            r.skip(8)?;
        }
    }
    let _sps_id = r.ue()?;
    let chroma_format_idc = r.ue()?;
    if chroma_format_idc == 3 {
        r.skip(1)?;
    }
    let _width = r.ue()?;
    let _height = r.ue()?;
    if r.bit()? == 1 {
        for _ in 0..4 {
            r.ue()?; // conformance window offsets
        }
    }
    let luma = r.ue()?;
    let chroma = r.ue()?;
    (chroma_format_idc <= 3 && luma <= 8 && chroma <= 8).then_some(HevcFormat {
        profile_byte,
        compatibility,
        constraints,
        level_idc,
        max_sub_layers_minus1,
        temporal_id_nesting,
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma_minus8: luma as u8,
        bit_depth_chroma_minus8: chroma as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{h264, h265};
    use crate::mpegts::test_support::{annexb_nalus, find_nalu};

    #[test]
    fn real_parameter_sets() {
        let sps = find_nalu(&annexb_nalus("4pics.264"), false, h264::NAL_SPS).unwrap();
        assert_eq!(
            avc_format(&sps),
            Some(AvcFormat {
                chroma_format_idc: 1,
                bit_depth_luma_minus8: 0,
                bit_depth_chroma_minus8: 0
            })
        );
        // High 4:4:4 Predictive, yuv444p (ffprobe).
        let sps = find_nalu(&annexb_nalus("avc_annexb"), false, h264::NAL_SPS).unwrap();
        assert_eq!(avc_format(&sps).map(|f| f.chroma_format_idc), Some(3));
        let sps = find_nalu(&annexb_nalus("hevc.265"), true, h265::NAL_SPS).unwrap();
        let f = hevc_format(&sps).unwrap();
        let parsed = h265::Sps::parse(&sps).unwrap();
        assert_eq!(f.profile_byte & 0x1F, parsed.general_profile_idc);
        assert_eq!(f.level_idc, parsed.general_level_idc);
        assert_eq!(u32::from(f.chroma_format_idc), parsed.chroma_format_idc);
        assert_eq!((f.bit_depth_luma_minus8, f.bit_depth_chroma_minus8), (0, 0));
        // Main profile: compatibility flag 1 (and 2) set.
        assert_eq!(f.compatibility[0] & 0x40, 0x40);
        assert_eq!(avc_format(&[0x67]), None);
        assert_eq!(hevc_format(&[0x42, 0x01, 0x01]), None);
    }

    #[test]
    fn emulation_prevention_is_removed() {
        let r = Bits::new(&[0x67, 0, 0, 3, 1, 0, 0, 3], 1);
        assert_eq!(r.data, [0, 0, 1, 0, 0]);
    }
}
