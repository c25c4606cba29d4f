//! H.264 / AVC: RTP depacketizer and packetizer (RFC 6184), SDP parameters, SPS parsing and
//! DTS derivation for streams with B-frames.

mod depacketizer;
mod dts;
#[cfg(test)]
mod dts_tests;
mod packetizer;
mod params;
mod sps;
#[cfg(test)]
mod tests;

pub use crate::codec::annexb::{join_annexb, split_annexb, AnnexBSplit};
pub use depacketizer::H264Depacketizer;
pub use dts::DtsExtractor;
pub use packetizer::H264Packetizer;
pub use params::H264Params;
pub use sps::{Sps, VuiTiming};

/// nal_unit_type of a coded slice of a non-IDR picture.
pub const NAL_SLICE: u8 = 1;
/// nal_unit_type of a coded slice of an IDR picture.
pub const NAL_IDR: u8 = 5;
/// nal_unit_type of supplemental enhancement information.
pub const NAL_SEI: u8 = 6;
/// nal_unit_type of a sequence parameter set.
pub const NAL_SPS: u8 = 7;
/// nal_unit_type of a picture parameter set.
pub const NAL_PPS: u8 = 8;
/// nal_unit_type of an access unit delimiter.
pub const NAL_AUD: u8 = 9;
/// RTP payload type of a single-time aggregation packet, STAP-A (RFC 6184 §5.7.1).
pub const NAL_STAP_A: u8 = 24;
/// RTP payload type of a fragmentation unit, FU-A (RFC 6184 §5.8).
pub const NAL_FU_A: u8 = 28;

/// The nal_unit_type of a NAL unit (the low 5 bits of its first byte; 0 for an empty slice).
pub fn nalu_type(nalu: &[u8]) -> u8 {
    nalu.first().map_or(0, |h| h & 0x1f)
}

/// Whether a NAL unit is a slice of an IDR picture, where decoding can start.
pub fn is_key_nalu(nalu: &[u8]) -> bool {
    nalu_type(nalu) == NAL_IDR
}
