//! H.264 sequence parameter set (ITU-T H.264 §7.3.2.1.1, VUI §E.1.1): the fields weir needs for
//! logs (size, profile, level) and for DTS derivation (frame_num / POC layout, reordering,
//! timing).

use super::NAL_SPS;
use crate::codec::bits::{nal_to_rbsp, BitReader};
use crate::codec::CodecError;

/// The largest SPS (bytes) that is parsed; real ones are well below 100 bytes.
const MAX_SPS_SIZE: usize = 4096;

/// Profiles whose SPS carries chroma_format_idc, bit depths and scaling matrices (§7.3.2.1.1).
const HIGH_PROFILES: [u8; 13] = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];

/// VUI timing information (§E.2.1): one tick lasts `num_units_in_tick / time_scale` seconds and
/// a frame lasts two ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VuiTiming {
    /// num_units_in_tick.
    pub num_units_in_tick: u32,
    /// time_scale (Hz).
    pub time_scale: u32,
    /// fixed_frame_rate_flag.
    pub fixed_frame_rate: bool,
}

/// A parsed H.264 sequence parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sps {
    /// profile_idc (66 Baseline, 77 Main, 100 High…).
    pub profile_idc: u8,
    /// The constraint_set0..5 flags and reserved bits (the byte after profile_idc).
    pub constraint_flags: u8,
    /// level_idc (level × 10, e.g. 31 for 3.1).
    pub level_idc: u8,
    /// seq_parameter_set_id.
    pub seq_parameter_set_id: u32,
    /// chroma_format_idc (1 = 4:2:0 when absent).
    pub chroma_format_idc: u32,
    /// separate_colour_plane_flag.
    pub separate_colour_plane_flag: bool,
    /// log2_max_frame_num_minus4 + 4: the width of frame_num in slice headers.
    pub log2_max_frame_num: u32,
    /// pic_order_cnt_type (0, 1 or 2).
    pub pic_order_cnt_type: u32,
    /// log2_max_pic_order_cnt_lsb_minus4 + 4 (pic_order_cnt_type 0 only, else 0).
    pub log2_max_pic_order_cnt_lsb: u32,
    /// max_num_ref_frames.
    pub max_num_ref_frames: u32,
    /// frame_mbs_only_flag (false: the stream may contain field pictures).
    pub frame_mbs_only_flag: bool,
    /// The displayed width in pixels (after cropping).
    pub width: u32,
    /// The displayed height in pixels (after cropping).
    pub height: u32,
    /// VUI timing information, if present.
    pub timing: Option<VuiTiming>,
    /// VUI bitstream_restriction max_num_reorder_frames, if present.
    pub max_num_reorder_frames: Option<u32>,
    /// VUI bitstream_restriction max_dec_frame_buffering, if present.
    pub max_dec_frame_buffering: Option<u32>,
}

/// The VUI fields weir keeps.
#[derive(Debug, Default)]
struct VuiInfo {
    timing: Option<VuiTiming>,
    max_num_reorder_frames: Option<u32>,
    max_dec_frame_buffering: Option<u32>,
}

impl Sps {
    /// Parses an SPS NAL unit (header byte included, emulation prevention not yet removed).
    /// Never panics; a damaged VUI is ignored rather than failing the whole SPS.
    pub fn parse(nalu: &[u8]) -> Result<Sps, CodecError> {
        let header = *nalu.first().ok_or(CodecError::Truncated)?;
        if header & 0x1f != NAL_SPS {
            return Err(CodecError::Invalid("not an H264 SPS"));
        }
        let rbsp = nal_to_rbsp(&nalu[1..], MAX_SPS_SIZE);
        let mut r = BitReader::new(&rbsp);
        let profile_idc = r.read_bits(8)? as u8;
        let constraint_flags = r.read_bits(8)? as u8;
        let level_idc = r.read_bits(8)? as u8;
        let seq_parameter_set_id = r.read_ue_max(31, "seq_parameter_set_id > 31")?;

        let mut chroma_format_idc = 1;
        let mut separate_colour_plane_flag = false;
        if HIGH_PROFILES.contains(&profile_idc) {
            chroma_format_idc = r.read_ue_max(3, "chroma_format_idc > 3")?;
            if chroma_format_idc == 3 {
                separate_colour_plane_flag = r.read_flag()?;
            }
            let _bit_depth_luma_minus8 = r.read_ue_max(6, "bit_depth_luma_minus8 > 6")?;
            let _bit_depth_chroma_minus8 = r.read_ue_max(6, "bit_depth_chroma_minus8 > 6")?;
            let _qpprime_y_zero_transform_bypass_flag = r.read_flag()?;
            if r.read_flag()? {
                // seq_scaling_matrix_present_flag
                let lists = if chroma_format_idc != 3 { 8 } else { 12 };
                for i in 0..lists {
                    if r.read_flag()? {
                        skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }

        let log2_max_frame_num = r.read_ue_max(12, "log2_max_frame_num_minus4 > 12")? + 4;
        let pic_order_cnt_type = r.read_ue_max(2, "pic_order_cnt_type > 2")?;
        let mut log2_max_pic_order_cnt_lsb = 0;
        match pic_order_cnt_type {
            0 => {
                log2_max_pic_order_cnt_lsb =
                    r.read_ue_max(12, "log2_max_pic_order_cnt_lsb_minus4 > 12")? + 4;
            }
            1 => {
                let _delta_pic_order_always_zero_flag = r.read_flag()?;
                let _offset_for_non_ref_pic = r.read_se()?;
                let _offset_for_top_to_bottom_field = r.read_se()?;
                let cycle = r.read_ue_max(255, "num_ref_frames_in_pic_order_cnt_cycle > 255")?;
                for _ in 0..cycle {
                    let _offset_for_ref_frame = r.read_se()?;
                }
            }
            _ => {}
        }
        let max_num_ref_frames = r.read_ue()?;
        let _gaps_in_frame_num_value_allowed_flag = r.read_flag()?;
        let pic_width_in_mbs = u64::from(r.read_ue_max(1 << 16, "picture too wide")?) + 1;
        let pic_height_in_map_units = u64::from(r.read_ue_max(1 << 16, "picture too tall")?) + 1;
        let frame_mbs_only_flag = r.read_flag()?;
        if !frame_mbs_only_flag {
            let _mb_adaptive_frame_field_flag = r.read_flag()?;
        }
        let _direct_8x8_inference_flag = r.read_flag()?;
        let mut crop = [0u64; 4];
        if r.read_flag()? {
            for c in &mut crop {
                *c = u64::from(r.read_ue()?);
            }
        }
        let mut vui = VuiInfo::default();
        if r.read_flag()? {
            // A truncated or damaged VUI keeps whatever was read before the damage.
            let _ = parse_vui(&mut r, &mut vui);
        }

        let frame_height_mult = if frame_mbs_only_flag { 1 } else { 2 };
        let chroma_array_type = if separate_colour_plane_flag {
            0
        } else {
            chroma_format_idc
        };
        let (crop_unit_x, crop_unit_y) = match chroma_array_type {
            0 => (1, frame_height_mult),
            1 => (2, 2 * frame_height_mult),
            2 => (2, frame_height_mult),
            _ => (1, frame_height_mult),
        };
        let full_width = pic_width_in_mbs * 16;
        let full_height = frame_height_mult * pic_height_in_map_units * 16;
        let crop_w = crop_unit_x * (crop[0] + crop[1]);
        let crop_h = crop_unit_y * (crop[2] + crop[3]);
        if crop_w >= full_width || crop_h >= full_height {
            return Err(CodecError::Invalid("SPS cropping larger than the picture"));
        }
        Ok(Sps {
            profile_idc,
            constraint_flags,
            level_idc,
            seq_parameter_set_id,
            chroma_format_idc,
            separate_colour_plane_flag,
            log2_max_frame_num,
            pic_order_cnt_type,
            log2_max_pic_order_cnt_lsb,
            max_num_ref_frames,
            frame_mbs_only_flag,
            // Both fit: at most 2^16 * 16 * 2.
            width: (full_width - crop_w) as u32,
            height: (full_height - crop_h) as u32,
            timing: vui.timing,
            max_num_reorder_frames: vui.max_num_reorder_frames,
            max_dec_frame_buffering: vui.max_dec_frame_buffering,
        })
    }

    /// The frame rate from the VUI timing information (frames per second), if present.
    pub fn frame_rate(&self) -> Option<f64> {
        let t = self.timing?;
        if t.num_units_in_tick == 0 || t.time_scale == 0 {
            return None;
        }
        Some(f64::from(t.time_scale) / (2.0 * f64::from(t.num_units_in_tick)))
    }

    /// The frame duration in the 90 kHz clock from the VUI timing information, if plausible.
    pub fn frame_duration_90k(&self) -> Option<i64> {
        let t = self.timing?;
        if t.num_units_in_tick == 0 || t.time_scale == 0 {
            return None;
        }
        let d = 2 * 90_000 * i64::from(t.num_units_in_tick) / i64::from(t.time_scale);
        (1..=900_000).contains(&d).then_some(d)
    }

    /// The reordering depth the stream announces: `max_num_reorder_frames` when present, 0 for
    /// streams that cannot reorder (pic_order_cnt_type 2, Baseline, intra-only profiles),
    /// otherwise unknown.
    pub fn reorder_depth(&self) -> Option<u32> {
        if let Some(n) = self.max_num_reorder_frames {
            return Some(n);
        }
        let constraint_set3 = self.constraint_flags & 0x10 != 0;
        let intra_only =
            constraint_set3 && [44, 86, 100, 110, 122, 244].contains(&self.profile_idc);
        if self.pic_order_cnt_type == 2 || self.profile_idc == 66 || intra_only {
            Some(0)
        } else {
            None
        }
    }
}

/// Skips one scaling_list() (§7.3.2.1.1.1).
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<(), CodecError> {
    let mut last_scale: i64 = 8;
    let mut next_scale: i64 = 8;
    for _ in 0..size {
        if next_scale != 0 {
            let delta_scale = i64::from(r.read_se()?);
            next_scale = (last_scale + delta_scale).rem_euclid(256);
        }
        if next_scale != 0 {
            last_scale = next_scale;
        }
    }
    Ok(())
}

/// Skips hrd_parameters() (§E.1.2).
fn skip_hrd(r: &mut BitReader<'_>) -> Result<(), CodecError> {
    let cpb_cnt_minus1 = r.read_ue_max(31, "cpb_cnt_minus1 > 31")?;
    r.skip_bits(8)?; // bit_rate_scale, cpb_size_scale
    for _ in 0..=cpb_cnt_minus1 {
        let _bit_rate_value_minus1 = r.read_ue()?;
        let _cpb_size_value_minus1 = r.read_ue()?;
        let _cbr_flag = r.read_flag()?;
    }
    r.skip_bits(20) // four 5-bit lengths
}

/// Parses vui_parameters() (§E.1.1), keeping timing and bitstream restriction.
fn parse_vui(r: &mut BitReader<'_>, vui: &mut VuiInfo) -> Result<(), CodecError> {
    if r.read_flag()? {
        // aspect_ratio_info_present_flag
        if r.read_bits(8)? == 255 {
            r.skip_bits(32)?; // sar_width, sar_height
        }
    }
    if r.read_flag()? {
        r.skip_bits(1)?; // overscan_appropriate_flag
    }
    if r.read_flag()? {
        // video_signal_type_present_flag
        r.skip_bits(4)?; // video_format, video_full_range_flag
        if r.read_flag()? {
            r.skip_bits(24)?; // colour_primaries, transfer_characteristics, matrix_coefficients
        }
    }
    if r.read_flag()? {
        let _chroma_sample_loc_type_top_field = r.read_ue()?;
        let _chroma_sample_loc_type_bottom_field = r.read_ue()?;
    }
    if r.read_flag()? {
        let num_units_in_tick = r.read_bits(32)?;
        let time_scale = r.read_bits(32)?;
        let fixed_frame_rate = r.read_flag()?;
        vui.timing = Some(VuiTiming {
            num_units_in_tick,
            time_scale,
            fixed_frame_rate,
        });
    }
    let nal_hrd = r.read_flag()?;
    if nal_hrd {
        skip_hrd(r)?;
    }
    let vcl_hrd = r.read_flag()?;
    if vcl_hrd {
        skip_hrd(r)?;
    }
    if nal_hrd || vcl_hrd {
        r.skip_bits(1)?; // low_delay_hrd_flag
    }
    r.skip_bits(1)?; // pic_struct_present_flag
    if r.read_flag()? {
        // bitstream_restriction_flag
        r.skip_bits(1)?; // motion_vectors_over_pic_boundaries_flag
        for _ in 0..4 {
            // max_bytes_per_pic_denom, max_bits_per_mb_denom, log2_max_mv_length_{h,v}
            let _ = r.read_ue()?;
        }
        let max_num_reorder_frames = r.read_ue()?;
        let max_dec_frame_buffering = r.read_ue()?;
        vui.max_num_reorder_frames = Some(max_num_reorder_frames);
        vui.max_dec_frame_buffering = Some(max_dec_frame_buffering);
    }
    Ok(())
}
