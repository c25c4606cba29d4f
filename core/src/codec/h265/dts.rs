//! Decode timestamps for H.265 streams, including streams with B-frames.
//!
//! # Algorithm
//!
//! 1. The SPS gives the reordering depth `R` (`sps_max_num_reorder_pics` of the highest
//!    sub-layer), the width of slice_pic_order_cnt_lsb and the VUI timing; the PPS gives the
//!    slice header layout (`num_extra_slice_header_bits`, `output_flag_present_flag`). Both come
//!    from the access unit or from [`DtsExtractor::set_parameter_set`].
//! 2. The first slice segment of each picture gives slice_pic_order_cnt_lsb; the picture order
//!    count follows §8.3.1 (MSB tracked against the previous TemporalId-0 reference picture,
//!    reset at IDR/BLA and at a CRA that starts the stream).
//! 3. The shared timeline turns (POC, PTS, R) into a DTS: at an IRAP picture
//!    `dts = pts - R·d`, then `dts = min(previous + d, pts)`, `d` being the picture duration
//!    learned from the POC/PTS relation (1 POC unit per picture), see `codec::timeline`.
//!    Without reordering, DTS = PTS.

use super::{Pps, Sps, NAL_IDR_N_LP, NAL_IDR_W_RADL, NAL_PPS, NAL_SPS};
use crate::codec::bits::{nal_prefix_to_rbsp, BitReader};
use crate::codec::timeline::{PictureTiming, Timeline};
use crate::codec::CodecError;
use bytes::Bytes;

/// Bytes of a slice NAL unit unescaped to read its header.

/// The slice header fields needed for the picture order count.
#[derive(Debug, Clone, Copy)]
struct SliceHeader {
    nal_type: u8,
    temporal_id: u8,
    pic_order_cnt_lsb: u32,
}

/// Derives decode timestamps of H.265 access units from their PTS (see the module docs).
#[derive(Debug, Clone)]
pub struct DtsExtractor {
    sps: Option<Sps>,
    pps: Vec<Option<Pps>>,
    prev_tid0_poc: Option<i64>,
    timeline: Timeline,
}

impl Default for DtsExtractor {
    fn default() -> Self {
        Self::new()
    }
}

impl DtsExtractor {
    /// An extractor that has seen no parameter sets yet.
    pub fn new() -> Self {
        DtsExtractor {
            sps: None,
            pps: vec![None; 64],
            prev_tid0_poc: None,
            timeline: Timeline::new(1),
        }
    }

    /// Supplies an SPS or PPS out of band (from SDP `sprop-sps` / `sprop-pps`); other NAL
    /// types are ignored. Parameter sets inside access units replace these.
    pub fn set_parameter_set(&mut self, nalu: &[u8]) -> Result<(), CodecError> {
        match super::nalu_type(nalu) {
            NAL_SPS => self.sps = Some(Sps::parse(nalu)?),
            NAL_PPS => {
                let pps = Pps::parse(nalu)?;
                if let Some(slot) = self.pps.get_mut(pps.pps_pic_parameter_set_id as usize) {
                    *slot = Some(pps);
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Returns the DTS (90 kHz, unwrapped, like `pts`) of the access unit `au` (NAL units
    /// without start codes). Errors: [`CodecError::Invalid`]`("no SPS")` / `("no PPS")` before
    /// the parameter sets, an unparsable slice header, or a DTS that could not increase (drop
    /// that unit).
    pub fn extract(&mut self, au: &[Bytes], pts: i64) -> Result<i64, CodecError> {
        let mut slice = None;
        for nalu in au {
            let t = super::nalu_type(nalu);
            if t == NAL_SPS || t == NAL_PPS {
                self.set_parameter_set(nalu)?;
            } else if t < 32 && slice.is_none() && nalu.get(2).is_some_and(|b| b & 0x80 != 0) {
                // A VCL NAL unit with first_slice_segment_in_pic_flag set.
                slice = Some(nalu);
            }
        }
        let sps = self.sps.as_ref().ok_or(CodecError::Invalid("no SPS"))?;
        let slice = slice.ok_or(CodecError::Invalid("no slice in access unit"))?;
        let header = self.parse_slice_header(slice, sps)?;
        let announced_reorder = Some(sps.sps_max_num_reorder_pics);
        let timing_hint = sps.frame_duration_90k();
        let log2_max_lsb = sps.log2_max_pic_order_cnt_lsb;
        let poc = self.picture_order_count(header, log2_max_lsb);
        let timing = PictureTiming {
            poc,
            random_access: (16..=23).contains(&header.nal_type),
            announced_reorder,
            timing_hint,
        };
        self.timeline.picture(timing, pts)
    }

    /// Parses the first slice segment header up to slice_pic_order_cnt_lsb (§7.3.6.1).
    fn parse_slice_header(&self, nalu: &[u8], sps: &Sps) -> Result<SliceHeader, CodecError> {
        if nalu.len() < 3 {
            return Err(CodecError::Truncated);
        }
        let nal_type = (nalu[0] >> 1) & 0x3f;
        let temporal_id = (nalu[1] & 7).saturating_sub(1);
        let rbsp = nal_prefix_to_rbsp(&nalu[2..]);
        let mut r = BitReader::new(&rbsp);
        let _first_slice_segment_in_pic_flag = r.read_flag()?;
        if (16..=23).contains(&nal_type) {
            let _no_output_of_prior_pics_flag = r.read_flag()?;
        }
        let pps_id = r.read_ue_max(63, "slice_pic_parameter_set_id > 63")?;
        let pps = self
            .pps
            .get(pps_id as usize)
            .copied()
            .flatten()
            .ok_or(CodecError::Invalid("no PPS"))?;
        r.skip_bits(pps.num_extra_slice_header_bits as usize)?; // slice_reserved_flag
        let _slice_type = r.read_ue_max(2, "slice_type > 2")?;
        if pps.output_flag_present_flag {
            let _pic_output_flag = r.read_flag()?;
        }
        if sps.separate_colour_plane_flag {
            r.skip_bits(2)?; // colour_plane_id
        }
        let pic_order_cnt_lsb = if nal_type == NAL_IDR_W_RADL || nal_type == NAL_IDR_N_LP {
            0
        } else {
            r.read_bits(sps.log2_max_pic_order_cnt_lsb)?
        };
        Ok(SliceHeader {
            nal_type,
            temporal_id,
            pic_order_cnt_lsb,
        })
    }

    /// PicOrderCntVal (§8.3.1).
    fn picture_order_count(&mut self, h: SliceHeader, log2_max_lsb: u32) -> i64 {
        let max_lsb = 1i64 << log2_max_lsb;
        let lsb = i64::from(h.pic_order_cnt_lsb);
        // IDR and BLA always restart the POC; so does whatever picture starts the stream (a
        // CRA there has NoRaslOutputFlag = 1; anything else is taken relative to itself).
        let restart = (16..=20).contains(&h.nal_type);
        let msb = match self.prev_tid0_poc {
            Some(prev) if !restart => {
                let prev_lsb = prev.rem_euclid(max_lsb);
                let prev_msb = prev - prev_lsb;
                if lsb < prev_lsb && prev_lsb - lsb >= max_lsb / 2 {
                    prev_msb + max_lsb
                } else if lsb > prev_lsb && lsb - prev_lsb > max_lsb / 2 {
                    prev_msb - max_lsb
                } else {
                    prev_msb
                }
            }
            _ => 0,
        };
        let poc = msb + lsb;
        // RADL (6, 7), RASL (8, 9) and sub-layer non-reference pictures (even types up to 14)
        // do not update prevTid0Pic.
        let sub_layer_non_reference = h.nal_type <= 14 && h.nal_type % 2 == 0;
        let leading = (6..=9).contains(&h.nal_type);
        if h.temporal_id == 0 && !sub_layer_non_reference && !leading {
            self.prev_tid0_poc = Some(poc);
        }
        poc
    }
}
