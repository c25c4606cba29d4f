//! H.265 sequence and picture parameter sets (ITU-T H.265 §7.3.2.2, §7.3.2.3, VUI §E.2.1):
//! the fields weir needs for logs and for DTS derivation.

use super::{NAL_PPS, NAL_SPS};
use crate::codec::bits::{nal_to_rbsp, BitReader};
use crate::codec::CodecError;

/// The largest parameter set (bytes) that is parsed.
const MAX_PARAMETER_SET_SIZE: usize = 8192;
/// The most entries a short-term reference picture set may hold (the DPB is at most 16).
const MAX_RPS_ENTRIES: usize = 32;

/// VUI timing information (§E.2.1): a picture lasts `num_units_in_tick / time_scale` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VuiTiming {
    /// vui_num_units_in_tick.
    pub num_units_in_tick: u32,
    /// vui_time_scale (Hz).
    pub time_scale: u32,
}

/// A parsed H.265 sequence parameter set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sps {
    /// sps_video_parameter_set_id.
    pub sps_video_parameter_set_id: u8,
    /// sps_max_sub_layers_minus1.
    pub sps_max_sub_layers_minus1: u8,
    /// general_profile_idc (1 Main, 2 Main 10, 4 Range extensions…).
    pub general_profile_idc: u8,
    /// general_tier_flag (false: Main tier).
    pub general_tier_flag: bool,
    /// general_level_idc (level × 30, e.g. 93 for 3.1).
    pub general_level_idc: u8,
    /// sps_seq_parameter_set_id.
    pub sps_seq_parameter_set_id: u32,
    /// chroma_format_idc.
    pub chroma_format_idc: u32,
    /// separate_colour_plane_flag.
    pub separate_colour_plane_flag: bool,
    /// The displayed width in pixels (conformance window applied).
    pub width: u32,
    /// The displayed height in pixels (conformance window applied).
    pub height: u32,
    /// log2_max_pic_order_cnt_lsb_minus4 + 4: the width of slice_pic_order_cnt_lsb.
    pub log2_max_pic_order_cnt_lsb: u32,
    /// sps_max_dec_pic_buffering_minus1 of the highest sub-layer.
    pub sps_max_dec_pic_buffering_minus1: u32,
    /// sps_max_num_reorder_pics of the highest sub-layer: the reordering depth.
    pub sps_max_num_reorder_pics: u32,
    /// VUI timing information, if present (and the VUI was readable).
    pub timing: Option<VuiTiming>,
}

/// The picture parameter set fields a slice header depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pps {
    /// pps_pic_parameter_set_id.
    pub pps_pic_parameter_set_id: u32,
    /// pps_seq_parameter_set_id.
    pub pps_seq_parameter_set_id: u32,
    /// dependent_slice_segments_enabled_flag.
    pub dependent_slice_segments_enabled_flag: bool,
    /// output_flag_present_flag.
    pub output_flag_present_flag: bool,
    /// num_extra_slice_header_bits.
    pub num_extra_slice_header_bits: u32,
}

/// Returns the RBSP of a parameter set after checking its NAL type.
fn rbsp_of(nalu: &[u8], nal_type: u8, what: &'static str) -> Result<Vec<u8>, CodecError> {
    if nalu.len() < 2 {
        return Err(CodecError::Truncated);
    }
    if (nalu[0] >> 1) & 0x3f != nal_type {
        return Err(CodecError::Invalid(what));
    }
    Ok(nal_to_rbsp(&nalu[2..], MAX_PARAMETER_SET_SIZE))
}

impl Pps {
    /// Parses a PPS NAL unit (2-byte header included) up to the fields slice headers need.
    pub fn parse(nalu: &[u8]) -> Result<Pps, CodecError> {
        let rbsp = rbsp_of(nalu, NAL_PPS, "not an H265 PPS")?;
        let mut r = BitReader::new(&rbsp);
        Ok(Pps {
            pps_pic_parameter_set_id: r.read_ue_max(63, "pps_pic_parameter_set_id > 63")?,
            pps_seq_parameter_set_id: r.read_ue_max(15, "pps_seq_parameter_set_id > 15")?,
            dependent_slice_segments_enabled_flag: r.read_flag()?,
            output_flag_present_flag: r.read_flag()?,
            num_extra_slice_header_bits: r.read_bits(3)?,
        })
    }
}

impl Sps {
    /// Parses an SPS NAL unit (2-byte header included, emulation prevention not yet removed).
    /// Never panics; a damaged VUI only loses the timing information.
    pub fn parse(nalu: &[u8]) -> Result<Sps, CodecError> {
        let rbsp = rbsp_of(nalu, NAL_SPS, "not an H265 SPS")?;
        let mut r = BitReader::new(&rbsp);
        let sps_video_parameter_set_id = r.read_bits(4)? as u8;
        let sps_max_sub_layers_minus1 = r.read_bits(3)? as u8;
        if sps_max_sub_layers_minus1 > 6 {
            return Err(CodecError::Invalid("sps_max_sub_layers_minus1 > 6"));
        }
        let _sps_temporal_id_nesting_flag = r.read_flag()?;

        // profile_tier_level(1, sps_max_sub_layers_minus1), §7.3.3
        let _general_profile_space = r.read_bits(2)?;
        let general_tier_flag = r.read_flag()?;
        let general_profile_idc = r.read_bits(5)? as u8;
        r.skip_bits(32 + 4 + 43 + 1)?; // compatibility flags, source flags, constraint flags
        let general_level_idc = r.read_bits(8)? as u8;
        let sub_layers = usize::from(sps_max_sub_layers_minus1);
        let mut present = [(false, false); 8];
        for p in present.iter_mut().take(sub_layers) {
            *p = (r.read_flag()?, r.read_flag()?);
        }
        if sub_layers > 0 {
            r.skip_bits(2 * (8 - sub_layers))?; // reserved_zero_2bits
        }
        for &(profile, level) in present.iter().take(sub_layers) {
            if profile {
                r.skip_bits(88)?;
            }
            if level {
                r.skip_bits(8)?;
            }
        }

        let sps_seq_parameter_set_id = r.read_ue_max(15, "sps_seq_parameter_set_id > 15")?;
        let chroma_format_idc = r.read_ue_max(3, "chroma_format_idc > 3")?;
        let separate_colour_plane_flag = chroma_format_idc == 3 && r.read_flag()?;
        let pic_width = u64::from(r.read_ue_max(1 << 16, "picture too wide")?);
        let pic_height = u64::from(r.read_ue_max(1 << 16, "picture too tall")?);
        let mut window = [0u64; 4];
        if r.read_flag()? {
            // conformance_window_flag
            for w in &mut window {
                *w = u64::from(r.read_ue()?);
            }
        }
        let _bit_depth_luma_minus8 = r.read_ue_max(8, "bit_depth_luma_minus8 > 8")?;
        let _bit_depth_chroma_minus8 = r.read_ue_max(8, "bit_depth_chroma_minus8 > 8")?;
        let log2_max_pic_order_cnt_lsb =
            r.read_ue_max(12, "log2_max_pic_order_cnt_lsb_minus4 > 12")? + 4;
        let ordering_info_present = r.read_flag()?;
        let first = if ordering_info_present { 0 } else { sub_layers };
        let mut max_dec_pic_buffering_minus1 = 0;
        let mut max_num_reorder_pics = 0;
        for _ in first..=sub_layers {
            max_dec_pic_buffering_minus1 =
                r.read_ue_max(15, "sps_max_dec_pic_buffering_minus1 > 15")?;
            max_num_reorder_pics = r.read_ue_max(15, "sps_max_num_reorder_pics > 15")?;
            let _sps_max_latency_increase_plus1 = r.read_ue()?;
        }

        let chroma_array_type = if separate_colour_plane_flag {
            0
        } else {
            chroma_format_idc
        };
        let sub_width_c = if chroma_array_type == 1 || chroma_array_type == 2 {
            2
        } else {
            1
        };
        let sub_height_c = if chroma_array_type == 1 { 2 } else { 1 };
        let crop_w = sub_width_c * (window[0] + window[1]);
        let crop_h = sub_height_c * (window[2] + window[3]);
        if crop_w >= pic_width || crop_h >= pic_height {
            return Err(CodecError::Invalid(
                "SPS conformance window larger than the picture",
            ));
        }

        // Everything after this point only matters for the VUI timing information.
        let timing = parse_tail(&mut r, log2_max_pic_order_cnt_lsb)
            .ok()
            .flatten();
        Ok(Sps {
            sps_video_parameter_set_id,
            sps_max_sub_layers_minus1,
            general_profile_idc,
            general_tier_flag,
            general_level_idc,
            sps_seq_parameter_set_id,
            chroma_format_idc,
            separate_colour_plane_flag,
            // Both fit: at most 2^16 + 1.
            width: (pic_width - crop_w) as u32,
            height: (pic_height - crop_h) as u32,
            log2_max_pic_order_cnt_lsb,
            sps_max_dec_pic_buffering_minus1: max_dec_pic_buffering_minus1,
            sps_max_num_reorder_pics: max_num_reorder_pics,
            timing,
        })
    }

    /// The frame rate from the VUI timing information (pictures per second), if present.
    pub fn frame_rate(&self) -> Option<f64> {
        let t = self.timing?;
        if t.num_units_in_tick == 0 || t.time_scale == 0 {
            return None;
        }
        Some(f64::from(t.time_scale) / f64::from(t.num_units_in_tick))
    }

    /// The picture duration in the 90 kHz clock from the VUI timing information, if plausible.
    pub fn frame_duration_90k(&self) -> Option<i64> {
        let t = self.timing?;
        if t.num_units_in_tick == 0 || t.time_scale == 0 {
            return None;
        }
        let d = 90_000 * i64::from(t.num_units_in_tick) / i64::from(t.time_scale);
        (1..=900_000).contains(&d).then_some(d)
    }
}

/// Parses the SPS from the coding block sizes to the VUI timing information.
fn parse_tail(
    r: &mut BitReader<'_>,
    log2_max_poc_lsb: u32,
) -> Result<Option<VuiTiming>, CodecError> {
    for _ in 0..6 {
        // log2_min_luma_coding_block_size_minus3 … max_transform_hierarchy_depth_intra
        let _ = r.read_ue()?;
    }
    if r.read_flag()? && r.read_flag()? {
        // scaling_list_enabled_flag && sps_scaling_list_data_present_flag
        skip_scaling_list_data(r)?;
    }
    r.skip_bits(2)?; // amp_enabled_flag, sample_adaptive_offset_enabled_flag
    if r.read_flag()? {
        // pcm_enabled_flag
        r.skip_bits(8)?; // pcm bit depths
        let _ = r.read_ue()?;
        let _ = r.read_ue()?;
        r.skip_bits(1)?; // pcm_loop_filter_disabled_flag
    }
    let num_short_term_ref_pic_sets = r.read_ue_max(64, "num_short_term_ref_pic_sets > 64")?;
    let mut sets: Vec<(Vec<i64>, Vec<i64>)> = Vec::new();
    for idx in 0..num_short_term_ref_pic_sets as usize {
        let set = parse_st_ref_pic_set(r, idx, &sets)?;
        sets.push(set);
    }
    if r.read_flag()? {
        // long_term_ref_pics_present_flag
        let n = r.read_ue_max(32, "num_long_term_ref_pics_sps > 32")?;
        for _ in 0..n {
            r.skip_bits(log2_max_poc_lsb as usize + 1)?;
        }
    }
    r.skip_bits(2)?; // sps_temporal_mvp_enabled_flag, strong_intra_smoothing_enabled_flag
    if !r.read_flag()? {
        return Ok(None);
    }
    // vui_parameters(), §E.2.1
    if r.read_flag()? && r.read_bits(8)? == 255 {
        r.skip_bits(32)?; // sar_width, sar_height
    }
    if r.read_flag()? {
        r.skip_bits(1)?; // overscan_appropriate_flag
    }
    if r.read_flag()? {
        r.skip_bits(4)?; // video_format, video_full_range_flag
        if r.read_flag()? {
            r.skip_bits(24)?;
        }
    }
    if r.read_flag()? {
        let _ = r.read_ue()?;
        let _ = r.read_ue()?;
    }
    r.skip_bits(3)?; // neutral_chroma_indication, field_seq, frame_field_info_present
    if r.read_flag()? {
        // default_display_window_flag
        for _ in 0..4 {
            let _ = r.read_ue()?;
        }
    }
    if !r.read_flag()? {
        return Ok(None);
    }
    let num_units_in_tick = r.read_bits(32)?;
    let time_scale = r.read_bits(32)?;
    Ok(Some(VuiTiming {
        num_units_in_tick,
        time_scale,
    }))
}

/// Skips scaling_list_data() (§7.3.4).
fn skip_scaling_list_data(r: &mut BitReader<'_>) -> Result<(), CodecError> {
    for size_id in 0..4u32 {
        let step = if size_id == 3 { 3 } else { 1 };
        for _matrix_id in (0..6).step_by(step) {
            if !r.read_flag()? {
                let _scaling_list_pred_matrix_id_delta = r.read_ue()?;
            } else {
                let coef_num = 64.min(1 << (4 + (size_id << 1)));
                if size_id > 1 {
                    let _scaling_list_dc_coef_minus8 = r.read_se()?;
                }
                for _ in 0..coef_num {
                    let _scaling_list_delta_coef = r.read_se()?;
                }
            }
        }
    }
    Ok(())
}

/// Parses st_ref_pic_set(idx) of an SPS (§7.3.7, semantics §7.4.8), returning the delta POCs
/// of its negative (S0) and positive (S1) pictures, which later sets may predict from.
fn parse_st_ref_pic_set(
    r: &mut BitReader<'_>,
    idx: usize,
    sets: &[(Vec<i64>, Vec<i64>)],
) -> Result<(Vec<i64>, Vec<i64>), CodecError> {
    if idx != 0 && r.read_flag()? {
        // inter_ref_pic_set_prediction_flag; in an SPS, RefRpsIdx = idx - 1.
        let (ref_s0, ref_s1) = sets
            .get(idx - 1)
            .ok_or(CodecError::Invalid("bad RPS reference"))?;
        let sign = r.read_flag()?;
        let abs = i64::from(r.read_ue_max(1 << 15, "abs_delta_rps_minus1 too large")?) + 1;
        let delta_rps = if sign { -abs } else { abs };
        let num_delta = ref_s0.len() + ref_s1.len();
        let mut use_delta = [false; MAX_RPS_ENTRIES + 1];
        for flag in use_delta.iter_mut().take(num_delta + 1) {
            let used_by_curr_pic = r.read_flag()?;
            *flag = used_by_curr_pic || r.read_flag()?;
        }
        let (n_neg, n_pos) = (ref_s0.len(), ref_s1.len());
        let mut s0 = Vec::new();
        let mut s1 = Vec::new();
        for j in (0..n_pos).rev() {
            let d = ref_s1[j] + delta_rps;
            if d < 0 && use_delta[n_neg + j] {
                s0.push(d);
            }
        }
        if delta_rps < 0 && use_delta[num_delta] {
            s0.push(delta_rps);
        }
        for j in 0..n_neg {
            let d = ref_s0[j] + delta_rps;
            if d < 0 && use_delta[j] {
                s0.push(d);
            }
        }
        for j in (0..n_neg).rev() {
            let d = ref_s0[j] + delta_rps;
            if d > 0 && use_delta[j] {
                s1.push(d);
            }
        }
        if delta_rps > 0 && use_delta[num_delta] {
            s1.push(delta_rps);
        }
        for j in 0..n_pos {
            let d = ref_s1[j] + delta_rps;
            if d > 0 && use_delta[n_neg + j] {
                s1.push(d);
            }
        }
        if s0.len() + s1.len() > MAX_RPS_ENTRIES {
            return Err(CodecError::Invalid("reference picture set too large"));
        }
        return Ok((s0, s1));
    }
    let num_negative = r.read_ue_max(16, "num_negative_pics > 16")? as usize;
    let num_positive = r.read_ue_max(16, "num_positive_pics > 16")? as usize;
    let mut s0 = Vec::with_capacity(num_negative);
    let mut poc = 0i64;
    for _ in 0..num_negative {
        poc -= i64::from(r.read_ue_max(1 << 15, "delta_poc_s0_minus1 too large")?) + 1;
        r.skip_bits(1)?; // used_by_curr_pic_s0_flag
        s0.push(poc);
    }
    let mut s1 = Vec::with_capacity(num_positive);
    poc = 0;
    for _ in 0..num_positive {
        poc += i64::from(r.read_ue_max(1 << 15, "delta_poc_s1_minus1 too large")?) + 1;
        r.skip_bits(1)?; // used_by_curr_pic_s1_flag
        s1.push(poc);
    }
    Ok((s0, s1))
}
