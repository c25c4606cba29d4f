//! Decode timestamps for H.264 streams, including streams with B-frames.
//!
//! # Algorithm
//!
//! 1. The SPS (from the access unit, or given with [`DtsExtractor::set_sps`]) gives the slice
//!    header layout and the reordering depth `R` (VUI `max_num_reorder_frames`; 0 for
//!    pic_order_cnt_type 2, Baseline and intra-only profiles; otherwise learned from the
//!    stream).
//! 2. The first slice header of each access unit gives frame_num and pic_order_cnt_lsb; the
//!    picture order count follows §8.2.1.1 (POC MSB wraps tracked against the previous
//!    reference picture, reset at each IDR).
//! 3. The shared timeline turns (POC, PTS, R) into a DTS: at an IDR `dts = pts - R·d`, then
//!    `dts = min(previous + d, pts)`, `d` being the frame duration learned from the POC/PTS
//!    relation (2 POC units per frame), see `codec::timeline`. Without reordering, DTS = PTS.
//!
//! pic_order_cnt_type 1 and 2 carry no usable reordering information here: DTS = PTS, and an
//! access unit whose PTS does not increase is refused with [`CodecError::Invalid`] (type 2
//! cannot reorder, so that only happens with broken timestamps; type-1 streams with B-frames
//! lose their reordered pictures). Field-coded pictures (two access units per frame with the
//! same PTS) are not supported: the second field is refused.

use super::{Sps, NAL_IDR, NAL_SLICE, NAL_SPS};
use crate::codec::bits::{nal_prefix_to_rbsp, BitReader};
use crate::codec::timeline::{PictureTiming, Timeline};
use crate::codec::CodecError;
use bytes::Bytes;

/// Bytes of a slice NAL unit unescaped to read its header (the fields needed fit easily).

/// The slice header fields needed for the picture order count (§7.3.3).
#[derive(Debug, Clone, Copy)]
struct SliceHeader {
    idr: bool,
    reference: bool,
    pic_order_cnt_lsb: u32,
}

/// Parses the start of a slice header up to pic_order_cnt_lsb.
fn parse_slice_header(nalu: &[u8], sps: &Sps) -> Result<SliceHeader, CodecError> {
    let header = *nalu.first().ok_or(CodecError::Truncated)?;
    let idr = header & 0x1f == NAL_IDR;
    let reference = header & 0x60 != 0;
    let rbsp = nal_prefix_to_rbsp(&nalu[1..]);
    let mut r = BitReader::new(&rbsp);
    let _first_mb_in_slice = r.read_ue()?;
    let _slice_type = r.read_ue_max(9, "slice_type > 9")?;
    let _pic_parameter_set_id = r.read_ue_max(255, "pic_parameter_set_id > 255")?;
    if sps.separate_colour_plane_flag {
        r.skip_bits(2)?; // colour_plane_id
    }
    let _frame_num = r.read_bits(sps.log2_max_frame_num)?;
    if !sps.frame_mbs_only_flag && r.read_flag()? {
        // field_pic_flag
        r.skip_bits(1)?; // bottom_field_flag
    }
    if idr {
        let _idr_pic_id = r.read_ue()?;
    }
    let pic_order_cnt_lsb = if sps.pic_order_cnt_type == 0 {
        r.read_bits(sps.log2_max_pic_order_cnt_lsb)?
    } else {
        0
    };
    Ok(SliceHeader {
        idr,
        reference,
        pic_order_cnt_lsb,
    })
}

/// Derives decode timestamps of H.264 access units from their PTS (see the module docs).
#[derive(Debug, Clone)]
pub struct DtsExtractor {
    sps: Option<Sps>,
    /// The SPS NAL unit `sps` was parsed from (an identical in-band SPS is not parsed again).
    sps_raw: Option<Bytes>,
    prev_poc_msb: i64,
    prev_poc_lsb: i64,
    timeline: Timeline,
}

impl Default for DtsExtractor {
    fn default() -> Self {
        Self::new()
    }
}

impl DtsExtractor {
    /// An extractor that has seen no SPS yet.
    pub fn new() -> Self {
        DtsExtractor {
            sps: None,
            sps_raw: None,
            prev_poc_msb: 0,
            prev_poc_lsb: 0,
            timeline: Timeline::new(2),
        }
    }

    /// Supplies the SPS out of band (from SDP `sprop-parameter-sets`); an SPS inside an access
    /// unit replaces it.
    pub fn set_sps(&mut self, nalu: &[u8]) -> Result<(), CodecError> {
        self.sps = Some(Sps::parse(nalu)?);
        self.sps_raw = None;
        Ok(())
    }

    /// Returns the DTS (90 kHz, unwrapped, like `pts`) of the access unit `au` (NAL units
    /// without start codes). Errors: [`CodecError::Invalid`]`("no SPS")` before any SPS, an
    /// unparsable slice header, or a DTS that could not increase (drop that unit).
    pub fn extract(&mut self, au: &[Bytes], pts: i64) -> Result<i64, CodecError> {
        let mut slice = None;
        for nalu in au {
            match nalu.first().map(|h| h & 0x1f) {
                Some(NAL_SPS) if self.sps_raw.as_ref() != Some(nalu) => {
                    self.sps = Some(Sps::parse(nalu)?);
                    self.sps_raw = Some(nalu.clone());
                }
                Some(NAL_SLICE | NAL_IDR) if slice.is_none() => slice = Some(nalu),
                _ => {}
            }
        }
        let sps = self.sps.as_ref().ok_or(CodecError::Invalid("no SPS"))?;
        let slice = slice.ok_or(CodecError::Invalid("no slice in access unit"))?;
        let header = parse_slice_header(slice, sps)?;
        let (poc_type, log2_max_lsb) = (sps.pic_order_cnt_type, sps.log2_max_pic_order_cnt_lsb);
        let announced_reorder = sps.reorder_depth();
        let timing_hint = sps.frame_duration_90k();
        if poc_type != 0 {
            return self.timeline.without_reordering(pts);
        }
        let poc = self.picture_order_count(header, log2_max_lsb);
        let timing = PictureTiming {
            poc,
            random_access: header.idr,
            announced_reorder,
            timing_hint,
        };
        self.timeline.picture(timing, pts)
    }

    /// TopFieldOrderCnt for pic_order_cnt_type 0 (§8.2.1.1).
    fn picture_order_count(&mut self, h: SliceHeader, log2_max_lsb: u32) -> i64 {
        let max_lsb = 1i64 << log2_max_lsb;
        let lsb = i64::from(h.pic_order_cnt_lsb);
        if h.idr || !self.timeline.has_anchor() {
            self.prev_poc_msb = 0;
            self.prev_poc_lsb = if h.idr { 0 } else { lsb };
        }
        let (prev_msb, prev_lsb) = (self.prev_poc_msb, self.prev_poc_lsb);
        let msb = if lsb < prev_lsb && prev_lsb - lsb >= max_lsb / 2 {
            prev_msb + max_lsb
        } else if lsb > prev_lsb && lsb - prev_lsb > max_lsb / 2 {
            prev_msb - max_lsb
        } else {
            prev_msb
        };
        if h.reference {
            self.prev_poc_msb = msb;
            self.prev_poc_lsb = lsb;
        }
        msb + lsb
    }
}
