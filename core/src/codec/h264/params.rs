//! H.264 SDP parameters (RFC 6184 §8.1): `packetization-mode`, `profile-level-id`,
//! `sprop-parameter-sets`.

use super::{NAL_PPS, NAL_SPS};
use crate::codec::fmtp;
use crate::codec::CodecError;
use bytes::Bytes;

/// The H.264 parameters of an SDP media description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct H264Params {
    /// The first SPS NAL unit of `sprop-parameter-sets`.
    pub sps: Option<Bytes>,
    /// The first PPS NAL unit of `sprop-parameter-sets`.
    pub pps: Option<Bytes>,
    /// `packetization-mode` (0 when absent).
    pub packetization_mode: u8,
    /// `profile-level-id` (profile_idc, constraint flags, level_idc).
    pub profile_level_id: Option<[u8; 3]>,
}

impl H264Params {
    /// Parses an fmtp value (`"packetization-mode=1;sprop-parameter-sets=Z0LAHtkD…,aMuMsg=="`,
    /// with or without the leading payload type). Unknown keys are ignored; base64 may lack
    /// padding or contain whitespace; parameter sets are recognized by their NAL type; a
    /// malformed `profile-level-id` is ignored. Errors: undecodable base64, a non-numeric
    /// `packetization-mode`.
    pub fn from_fmtp(fmtp_value: &str) -> Result<Self, CodecError> {
        let mut params = H264Params::default();
        for (key, value) in fmtp::params(fmtp_value) {
            if key.eq_ignore_ascii_case("packetization-mode") {
                let mode = fmtp::parse_u32(value, "bad packetization-mode")?;
                params.packetization_mode = u8::try_from(mode)
                    .map_err(|_| CodecError::Invalid("bad packetization-mode"))?;
            } else if key.eq_ignore_ascii_case("profile-level-id") {
                // Cameras write 7 hex digits or even base64 here: keep only a valid value.
                params.profile_level_id = fmtp::decode_hex(value)
                    .ok()
                    .and_then(|b| <[u8; 3]>::try_from(b).ok());
            } else if key.eq_ignore_ascii_case("sprop-parameter-sets") {
                for set in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    let nalu = fmtp::decode_base64(set)?;
                    match nalu.first().map(|h| h & 0x1f) {
                        Some(NAL_SPS) if params.sps.is_none() => params.sps = Some(nalu.into()),
                        Some(NAL_PPS) if params.pps.is_none() => params.pps = Some(nalu.into()),
                        _ => {}
                    }
                }
            }
        }
        Ok(params)
    }

    /// The fmtp value weir announces for a stream it packetizes itself (always packetization
    /// mode 1): `packetization-mode=1; sprop-parameter-sets=<sps>,<pps>; profile-level-id=<hex>`
    /// (parameter sets and profile only when known; the profile comes from the SPS bytes 1..4,
    /// else from `profile_level_id`).
    pub fn to_fmtp(&self) -> String {
        let mut s = String::from("packetization-mode=1");
        if let (Some(sps), Some(pps)) = (&self.sps, &self.pps) {
            s.push_str("; sprop-parameter-sets=");
            s.push_str(&fmtp::encode_base64(sps));
            s.push(',');
            s.push_str(&fmtp::encode_base64(pps));
        } else if let Some(sps) = &self.sps {
            s.push_str("; sprop-parameter-sets=");
            s.push_str(&fmtp::encode_base64(sps));
        }
        let profile = match self.sps.as_ref().and_then(|sps| sps.get(1..4)) {
            Some(p) => Some([p[0], p[1], p[2]]),
            None => self.profile_level_id,
        };
        if let Some(p) = profile {
            s.push_str("; profile-level-id=");
            s.push_str(&fmtp::encode_hex(&p, true));
        }
        s
    }
}
