//! H.265 / HEVC: RTP depacketizer and packetizer (RFC 7798), SDP parameters, SPS/PPS parsing
//! and DTS derivation for streams with B-frames.

mod depacketizer;
mod dts;
mod packetizer;
mod params;
mod sps;
#[cfg(test)]
mod tests;

pub use crate::codec::annexb::{join_annexb, split_annexb, AnnexBSplit};
pub use depacketizer::H265Depacketizer;
pub use dts::DtsExtractor;
pub use packetizer::H265Packetizer;
pub use params::H265Params;
pub use sps::{Pps, Sps, VuiTiming};

/// nal_unit_type of a coded slice of a trailing, non-reference picture (TRAIL_N).
pub const NAL_TRAIL_N: u8 = 0;
/// nal_unit_type of a coded slice of a trailing picture (TRAIL_R).
pub const NAL_TRAIL_R: u8 = 1;
/// nal_unit_type of the first IRAP type (BLA_W_LP).
pub const NAL_BLA_W_LP: u8 = 16;
/// nal_unit_type of an IDR picture with leading pictures (IDR_W_RADL).
pub const NAL_IDR_W_RADL: u8 = 19;
/// nal_unit_type of an IDR picture without leading pictures (IDR_N_LP).
pub const NAL_IDR_N_LP: u8 = 20;
/// nal_unit_type of a clean random access picture (CRA_NUT).
pub const NAL_CRA: u8 = 21;
/// nal_unit_type of a video parameter set.
pub const NAL_VPS: u8 = 32;
/// nal_unit_type of a sequence parameter set.
pub const NAL_SPS: u8 = 33;
/// nal_unit_type of a picture parameter set.
pub const NAL_PPS: u8 = 34;
/// nal_unit_type of an access unit delimiter.
pub const NAL_AUD: u8 = 35;
/// nal_unit_type of a prefix SEI message.
pub const NAL_PREFIX_SEI: u8 = 39;
/// RTP payload type of an aggregation packet (RFC 7798 §4.4.2).
pub const NAL_AP: u8 = 48;
/// RTP payload type of a fragmentation unit (RFC 7798 §4.4.3).
pub const NAL_FU: u8 = 49;
/// RTP payload type of a PACI packet (RFC 7798 §4.4.4).
pub const NAL_PACI: u8 = 50;

/// The nal_unit_type of a NAL unit (bits 1..7 of its first byte; 0 for an empty slice).
pub fn nalu_type(nalu: &[u8]) -> u8 {
    nalu.first().map_or(0, |h| (h >> 1) & 0x3f)
}

/// Whether a NAL unit is a slice of an IRAP picture (BLA, IDR or CRA: types 16..=21), where
/// decoding can start.
pub fn is_key_nalu(nalu: &[u8]) -> bool {
    (NAL_BLA_W_LP..=NAL_CRA).contains(&nalu_type(nalu))
}
