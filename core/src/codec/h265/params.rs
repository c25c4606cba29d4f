//! H.265 SDP parameters (RFC 7798 §7.1): `sprop-vps`, `sprop-sps`, `sprop-pps`,
//! `sprop-max-don-diff`.

use crate::codec::fmtp;
use crate::codec::CodecError;
use bytes::Bytes;

/// The H.265 parameters of an SDP media description.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct H265Params {
    /// The first VPS NAL unit of `sprop-vps`.
    pub vps: Option<Bytes>,
    /// The first SPS NAL unit of `sprop-sps`.
    pub sps: Option<Bytes>,
    /// The first PPS NAL unit of `sprop-pps`.
    pub pps: Option<Bytes>,
    /// `sprop-max-don-diff` (0 when absent); when > 0 packets carry DONL fields.
    pub max_don_diff: u32,
}

/// Decodes the first non-empty entry of a comma-separated base64 list.
fn first_set(value: &str) -> Result<Option<Bytes>, CodecError> {
    match value.split(',').map(str::trim).find(|s| !s.is_empty()) {
        Some(set) => Ok(Some(fmtp::decode_base64(set)?.into())),
        None => Ok(None),
    }
}

impl H265Params {
    /// Parses an fmtp value (`"sprop-vps=QAEM…; sprop-sps=QgEB…; sprop-pps=RAHA…"`, with or
    /// without the leading payload type). Unknown keys are ignored; base64 may lack padding.
    pub fn from_fmtp(fmtp_value: &str) -> Result<Self, CodecError> {
        let mut params = H265Params::default();
        for (key, value) in fmtp::params(fmtp_value) {
            if key.eq_ignore_ascii_case("sprop-vps") {
                params.vps = first_set(value)?;
            } else if key.eq_ignore_ascii_case("sprop-sps") {
                params.sps = first_set(value)?;
            } else if key.eq_ignore_ascii_case("sprop-pps") {
                params.pps = first_set(value)?;
            } else if key.eq_ignore_ascii_case("sprop-max-don-diff") {
                params.max_don_diff = fmtp::parse_u32(value, "bad sprop-max-don-diff")?;
            }
        }
        Ok(params)
    }

    /// The fmtp value weir announces for a stream it packetizes itself:
    /// `sprop-vps=<b64>; sprop-sps=<b64>; sprop-pps=<b64>` (the known ones; never DONL).
    pub fn to_fmtp(&self) -> String {
        let sets = [
            ("sprop-vps", &self.vps),
            ("sprop-sps", &self.sps),
            ("sprop-pps", &self.pps),
        ];
        let parts: Vec<String> = sets
            .iter()
            .filter_map(|(k, v)| {
                v.as_ref()
                    .map(|v| format!("{k}={}", fmtp::encode_base64(v)))
            })
            .collect();
        parts.join("; ")
    }
}
