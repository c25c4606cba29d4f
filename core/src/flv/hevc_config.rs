//! The HEVCDecoderConfigurationRecord (ISO/IEC 14496-15 §8.3.3.1): the H.265 sequence header of
//! Enhanced RTMP (`hvcC`), also used by the legacy codec id 12.

use super::avc_config::put_set;
use super::cursor::Cursor;
use super::nalu::to_rbsp;
use super::FlvError;
use crate::codec::h265::{self, H265Params};
use bytes::{BufMut, Bytes};

/// The most NAL units one array of a record may list that are kept.
const MAX_SETS: usize = 32;
/// How much of an SPS is unescaped to reach the bit depths (the fields before them take at most
/// ~90 bytes).
const SPS_PREFIX: usize = 256;

/// A parsed or built HEVCDecoderConfigurationRecord. Arrays other than VPS, SPS and PPS (SEI) are
/// skipped when parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcConfig {
    /// general_profile_space (2 bits), general_tier_flag, general_profile_idc (5 bits), the 32
    /// general_profile_compatibility_flags, the 48 bits of constraint flags and general_level_idc,
    /// as the 12 bytes of the SPS profile_tier_level().
    pub general_profile_tier_level: [u8; 12],
    /// min_spatial_segmentation_idc (12 bits).
    pub min_spatial_segmentation_idc: u16,
    /// parallelismType (2 bits).
    pub parallelism_type: u8,
    /// chroma_format_idc (2 bits).
    pub chroma_format_idc: u8,
    /// bit_depth_luma_minus8 (3 bits).
    pub bit_depth_luma_minus8: u8,
    /// bit_depth_chroma_minus8 (3 bits).
    pub bit_depth_chroma_minus8: u8,
    /// avgFrameRate (frames per 256 s; 0 = unspecified).
    pub avg_frame_rate: u16,
    /// constantFrameRate (2 bits).
    pub constant_frame_rate: u8,
    /// numTemporalLayers (3 bits): sps_max_sub_layers_minus1 + 1.
    pub num_temporal_layers: u8,
    /// temporalIdNested: sps_temporal_id_nesting_flag.
    pub temporal_id_nested: bool,
    /// The size of the NAL unit length prefix in samples (lengthSizeMinusOne + 1).
    pub length_size: u8,
    /// The video parameter sets (NAL units with their 2-byte header).
    pub vps: Vec<Bytes>,
    /// The sequence parameter sets.
    pub sps: Vec<Bytes>,
    /// The picture parameter sets.
    pub pps: Vec<Bytes>,
}

/// The SPS fields the record repeats.
struct SpsSummary {
    profile_tier_level: [u8; 12],
    max_sub_layers_minus1: u8,
    temporal_id_nesting: bool,
    chroma_format_idc: u8,
    bit_depth_luma_minus8: u8,
    bit_depth_chroma_minus8: u8,
}

/// A minimal MSB-first bit reader for the SPS walk.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn bit(&mut self) -> Result<u32, FlvError> {
        let byte = self
            .data
            .get(self.pos / 8)
            .ok_or(FlvError::Malformed("truncated H265 SPS"))?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(u32::from(b))
    }

    fn bits(&mut self, n: u32) -> Result<u32, FlvError> {
        (0..n).try_fold(0, |acc, _| Ok((acc << 1) | self.bit()?))
    }

    fn skip(&mut self, n: usize) {
        self.pos += n;
    }

    /// An unsigned Exp-Golomb value (at most 31 leading zeros).
    fn ue(&mut self) -> Result<u32, FlvError> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return Err(FlvError::Malformed("bad Exp-Golomb code in H265 SPS"));
            }
        }
        Ok(((1u64 << zeros) - 1 + u64::from(self.bits(zeros)?)) as u32)
    }
}

/// Reads the SPS fields up to the bit depths (H.265 §7.3.2.2.1, §7.3.3).
fn summarize_sps(sps: &[u8]) -> Result<SpsSummary, FlvError> {
    if sps.len() < 2 || h265::nalu_type(sps) != h265::NAL_SPS {
        return Err(FlvError::Malformed("not an H265 SPS"));
    }
    let rbsp = to_rbsp(&sps[2..], SPS_PREFIX);
    if rbsp.len() < 13 {
        return Err(FlvError::Malformed("truncated H265 SPS"));
    }
    let mut profile_tier_level = [0; 12];
    profile_tier_level.copy_from_slice(&rbsp[1..13]);
    let max_sub_layers_minus1 = (rbsp[0] >> 1) & 0x07;
    let temporal_id_nesting = rbsp[0] & 1 != 0;
    let mut r = Bits {
        data: &rbsp,
        pos: 13 * 8,
    };
    let sub_layers = usize::from(max_sub_layers_minus1.min(6));
    let mut present = [(false, false); 7];
    for p in present.iter_mut().take(sub_layers) {
        *p = (r.bit()? == 1, r.bit()? == 1);
    }
    if sub_layers > 0 {
        r.skip(2 * (8 - sub_layers));
    }
    for &(profile, level) in present.iter().take(sub_layers) {
        r.skip(if profile { 88 } else { 0 } + if level { 8 } else { 0 });
    }
    let _sps_seq_parameter_set_id = r.ue()?;
    let chroma_format_idc = r.ue()?;
    if chroma_format_idc > 3 {
        return Err(FlvError::Malformed("H265 chroma_format_idc > 3"));
    }
    if chroma_format_idc == 3 {
        r.skip(1);
    }
    let _width = r.ue()?;
    let _height = r.ue()?;
    if r.bit()? == 1 {
        for _ in 0..4 {
            r.ue()?;
        }
    }
    let luma = r.ue()?;
    let chroma = r.ue()?;
    if luma > 7 || chroma > 7 {
        return Err(FlvError::Malformed("H265 bit depth beyond 15"));
    }
    Ok(SpsSummary {
        profile_tier_level,
        max_sub_layers_minus1,
        temporal_id_nesting,
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma_minus8: luma as u8,
        bit_depth_chroma_minus8: chroma as u8,
    })
}

impl HevcConfig {
    /// A record for one VPS, SPS and PPS with 4-byte NAL lengths; profile, tier, level, chroma
    /// format, bit depths and temporal layers come from the SPS; segmentation, parallelism and
    /// frame rate are left unspecified (0). Errors: a parameter set of the wrong type, an SPS
    /// too short to read.
    pub fn from_parameter_sets(vps: Bytes, sps: Bytes, pps: Bytes) -> Result<HevcConfig, FlvError> {
        if h265::nalu_type(&vps) != h265::NAL_VPS || vps.len() < 2 {
            return Err(FlvError::Malformed("not an H265 VPS"));
        }
        if h265::nalu_type(&pps) != h265::NAL_PPS || pps.len() < 2 {
            return Err(FlvError::Malformed("not an H265 PPS"));
        }
        let s = summarize_sps(&sps)?;
        Ok(HevcConfig {
            general_profile_tier_level: s.profile_tier_level,
            min_spatial_segmentation_idc: 0,
            parallelism_type: 0,
            chroma_format_idc: s.chroma_format_idc,
            bit_depth_luma_minus8: s.bit_depth_luma_minus8,
            bit_depth_chroma_minus8: s.bit_depth_chroma_minus8,
            avg_frame_rate: 0,
            constant_frame_rate: 0,
            num_temporal_layers: s.max_sub_layers_minus1 + 1,
            temporal_id_nested: s.temporal_id_nesting,
            length_size: 4,
            vps: vec![vps],
            sps: vec![sps],
            pps: vec![pps],
        })
    }

    /// Parses a record (zero-copy). Lenient: any configurationVersion, reserved bits ignored,
    /// arrays other than VPS/SPS/PPS skipped, trailing bytes ignored. Errors: truncation, an
    /// empty NAL unit, a missing VPS, SPS or PPS.
    pub fn parse(data: &Bytes) -> Result<HevcConfig, FlvError> {
        const T: &str = "truncated hvcC";
        let mut c = Cursor::new(data);
        let _version = c.u8(T)?;
        let mut general_profile_tier_level = [0; 12];
        for b in &mut general_profile_tier_level {
            *b = c.u8(T)?;
        }
        let min_spatial_segmentation_idc = c.u16(T)? & 0x0fff;
        let parallelism_type = c.u8(T)? & 0x03;
        let chroma_format_idc = c.u8(T)? & 0x03;
        let bit_depth_luma_minus8 = c.u8(T)? & 0x07;
        let bit_depth_chroma_minus8 = c.u8(T)? & 0x07;
        let avg_frame_rate = c.u16(T)?;
        let flags = c.u8(T)?;
        let arrays = c.u8(T)?;
        let (mut vps, mut sps, mut pps) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..arrays {
            let nal_type = c.u8(T)? & 0x3f;
            let count = c.u16(T)?;
            for _ in 0..count {
                let len = usize::from(c.u16(T)?);
                if len == 0 {
                    return Err(FlvError::Malformed("empty NAL unit in hvcC"));
                }
                let nalu = c.take(len, T)?;
                let list = match nal_type {
                    h265::NAL_VPS => &mut vps,
                    h265::NAL_SPS => &mut sps,
                    h265::NAL_PPS => &mut pps,
                    _ => continue,
                };
                if list.len() < MAX_SETS {
                    list.push(nalu);
                }
            }
        }
        if vps.is_empty() || sps.is_empty() || pps.is_empty() {
            return Err(FlvError::Malformed("hvcC without VPS, SPS or PPS"));
        }
        Ok(HevcConfig {
            general_profile_tier_level,
            min_spatial_segmentation_idc,
            parallelism_type,
            chroma_format_idc,
            bit_depth_luma_minus8,
            bit_depth_chroma_minus8,
            avg_frame_rate,
            constant_frame_rate: flags >> 6,
            num_temporal_layers: (flags >> 3) & 0x07,
            temporal_id_nested: flags & 0x04 != 0,
            length_size: (flags & 0x03) + 1,
            vps,
            sps,
            pps,
        })
    }

    /// Writes the record: three arrays (VPS, SPS, PPS), each marked complete.
    pub fn to_bytes(&self) -> Bytes {
        let sets = [
            (h265::NAL_VPS, &self.vps),
            (h265::NAL_SPS, &self.sps),
            (h265::NAL_PPS, &self.pps),
        ];
        let size: usize = sets
            .iter()
            .flat_map(|(_, l)| l.iter())
            .map(|s| s.len() + 2)
            .sum();
        let mut out = Vec::with_capacity(23 + 9 + size);
        out.put_u8(1);
        out.extend_from_slice(&self.general_profile_tier_level);
        out.put_u16(0xf000 | (self.min_spatial_segmentation_idc & 0x0fff));
        out.put_u8(0xfc | (self.parallelism_type & 0x03));
        out.put_u8(0xfc | (self.chroma_format_idc & 0x03));
        out.put_u8(0xf8 | (self.bit_depth_luma_minus8 & 0x07));
        out.put_u8(0xf8 | (self.bit_depth_chroma_minus8 & 0x07));
        out.put_u16(self.avg_frame_rate);
        out.put_u8(
            (self.constant_frame_rate & 0x03) << 6
                | (self.num_temporal_layers & 0x07) << 3
                | u8::from(self.temporal_id_nested) << 2
                | (self.length_size.clamp(1, 4) - 1),
        );
        out.put_u8(3);
        for (nal_type, list) in sets {
            let list = &list[..list.len().min(usize::from(u16::MAX))];
            out.put_u8(0x80 | nal_type); // array_completeness = 1
            out.put_u16(list.len() as u16);
            for s in list {
                put_set(&mut out, s);
            }
        }
        out.into()
    }

    /// The SDP parameters of the first VPS, SPS and PPS.
    pub fn params(&self) -> H265Params {
        H265Params {
            vps: self.vps.first().cloned(),
            sps: self.sps.first().cloned(),
            pps: self.pps.first().cloned(),
            max_don_diff: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parameter sets of tests/data/media/hevc.265 (x265, Main, 1920x1080, level 4.1).
    const VPS: &[u8] = &[
        0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
        0x03, 0x00, 0x00, 0x03, 0x00, 0x7b, 0x95, 0x98, 0x09,
    ];
    const SPS: &[u8] = &[
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x7b, 0xa0, 0x03, 0xc0, 0x80, 0x10, 0xe5, 0x96, 0x56, 0x69, 0x24, 0xca, 0xf0,
        0x16, 0x9c, 0x20, 0x00, 0x00, 0x03, 0x00, 0x20, 0x00, 0x00, 0x06, 0x41,
    ];
    const PPS: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];

    /// The record, written out by hand from §8.3.3.1.
    fn record() -> Vec<u8> {
        let mut r = vec![
            0x01, // configurationVersion
            0x01, // profile space 0, tier 0, profile Main
            0x60, 0x00, 0x00, 0x00, // compatibility flags 1 and 2
            0x90, 0x00, 0x00, 0x00, 0x00, 0x00, // progressive, frame only
            0x7b, // level 4.1
            0xf0, 0x00, // min_spatial_segmentation_idc 0
            0xfc, // parallelismType 0
            0xfd, // chroma 4:2:0
            0xf8, 0xf8, // 8-bit luma and chroma
            0x00, 0x00, // avgFrameRate
            0x0f, // constantFrameRate 0, 1 temporal layer, nested, 4-byte lengths
            0x03, // arrays
        ];
        for (t, s) in [(0xa0, VPS), (0xa1, SPS), (0xa2, PPS)] {
            r.extend_from_slice(&[t, 0x00, 0x01, 0x00, s.len() as u8]);
            r.extend_from_slice(s);
        }
        r
    }

    #[test]
    fn builds_the_exact_record() {
        let c = HevcConfig::from_parameter_sets(
            Bytes::from_static(VPS),
            Bytes::from_static(SPS),
            Bytes::from_static(PPS),
        )
        .unwrap();
        assert_eq!(c.to_bytes().to_vec(), record());
        let back = HevcConfig::parse(&Bytes::from(record())).unwrap();
        assert_eq!(back, c);
        let p = back.params();
        assert_eq!(p.sps.as_deref(), Some(SPS));
        assert!(p.to_fmtp().starts_with("sprop-vps=QAEMAf//"));
    }

    #[test]
    fn parses_and_skips_sei_arrays() {
        let mut r = record();
        r[22] = 4;
        r.extend_from_slice(&[0x27, 0x00, 0x01, 0x00, 0x02, 0x4e, 0x01]);
        r.extend_from_slice(&[0xde, 0xad]); // trailing bytes
        let c = HevcConfig::parse(&Bytes::from(r)).unwrap();
        assert_eq!((c.vps.len(), c.sps.len(), c.pps.len()), (1, 1, 1));
    }

    #[test]
    fn reads_bit_depth_of_main10() {
        // The sample SPS turned into Main 10 with 10-bit luma and chroma: byte 23 (0xe5) ends
        // the height with "111001", then conformance_window_flag "0" and luma ue "1" (0);
        // rewrite as flag "0", luma ue "011" (2), chroma ue "011" (2).
        let mut sps = SPS.to_vec();
        sps[3] = 0x02; // general_profile_idc = Main 10
        sps[23] = 0xe4; // 111001 0 0
        sps[24] = 0xd9; // 11 011 001
        let s = summarize_sps(&sps).unwrap();
        assert_eq!((s.bit_depth_luma_minus8, s.bit_depth_chroma_minus8), (2, 2));
        assert_eq!(s.profile_tier_level[0], 0x02);
    }

    #[test]
    fn rejects_broken_records_and_sets() {
        let r = record();
        for cut in 0..r.len() {
            assert!(
                HevcConfig::parse(&Bytes::copy_from_slice(&r[..cut])).is_err(),
                "{cut}"
            );
        }
        let v = Bytes::from_static(VPS);
        let s = Bytes::from_static(SPS);
        let p = Bytes::from_static(PPS);
        assert!(HevcConfig::from_parameter_sets(s.clone(), s.clone(), p.clone()).is_err());
        assert!(HevcConfig::from_parameter_sets(v.clone(), p.clone(), p.clone()).is_err());
        assert!(HevcConfig::from_parameter_sets(v.clone(), s.slice(..10), p).is_err());
        assert!(HevcConfig::from_parameter_sets(v, s.clone(), s).is_err());
    }
}
