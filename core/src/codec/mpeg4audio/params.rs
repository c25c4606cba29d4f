//! RFC 3640 `mpeg4-generic` fmtp parameters: the AU header layout and the config.

use super::AudioSpecificConfig;
use crate::codec::{fmtp, CodecError};

/// The RFC 3640 parameters of an `mpeg4-generic` audio track (§4.1): the AU header layout and
/// the decoder config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mpeg4AudioParams {
    /// The decoder config (`config=`), when present and valid.
    pub config: Option<AudioSpecificConfig>,
    /// `sizeLength`: bits of the AU-size field (13 in AAC-hbr).
    pub size_length: u8,
    /// `indexLength`: bits of the AU-Index field of the first AU header (3 in AAC-hbr).
    pub index_length: u8,
    /// `indexDeltaLength`: bits of the AU-Index-delta field of later AU headers (3 in AAC-hbr).
    pub index_delta_length: u8,
    /// `CTSDeltaLength`: bits of the CTS-delta field (0 = no CTS-flag either).
    pub cts_delta_length: u8,
    /// `DTSDeltaLength`: bits of the DTS-delta field (0 = no DTS-flag either).
    pub dts_delta_length: u8,
    /// `randomAccessIndication`: whether AU headers carry a RAP-flag.
    pub random_access_indication: bool,
    /// `streamStateIndication`: bits of the Stream-state field.
    pub stream_state_indication: u8,
    /// `auxiliaryDataSizeLength`: bits of the auxiliary-data-size field (0 = no section).
    pub auxiliary_data_size_length: u8,
}

impl Default for Mpeg4AudioParams {
    /// AAC-hbr: sizeLength 13, indexLength 3, indexDeltaLength 3, nothing else.
    fn default() -> Self {
        Mpeg4AudioParams {
            config: None,
            size_length: 13,
            index_length: 3,
            index_delta_length: 3,
            cts_delta_length: 0,
            dts_delta_length: 0,
            random_access_indication: false,
            stream_state_indication: 0,
            auxiliary_data_size_length: 0,
        }
    }
}

/// Parses a field width (at most 32 bits).
fn width(value: &str, what: &'static str) -> Result<u8, CodecError> {
    let v = fmtp::parse_u32(value, what)?;
    if v > 32 {
        return Err(CodecError::Invalid(what));
    }
    Ok(v as u8)
}

impl Mpeg4AudioParams {
    /// Parses an fmtp value (keys case-insensitive, leading payload type allowed). When
    /// `sizeLength`, `indexLength` and `indexDeltaLength` are all absent, the values of the
    /// `mode` are assumed (AAC-lbr: 6/2/2, otherwise AAC-hbr: 13/3/3); an absent or invalid
    /// `config` leaves [`Self::config`] empty.
    pub fn from_fmtp(fmtp_value: &str) -> Result<Self, CodecError> {
        let mut p = Mpeg4AudioParams::default();
        let mut layout_given = false;
        let (mut size, mut index, mut delta) = (0, 0, 0);
        let mut lbr = false;
        for (key, value) in fmtp::params(fmtp_value) {
            let k = key.to_ascii_lowercase();
            match k.as_str() {
                "sizelength" => {
                    size = width(value, "bad sizeLength")?;
                    layout_given = true;
                }
                "indexlength" => {
                    index = width(value, "bad indexLength")?;
                    layout_given = true;
                }
                "indexdeltalength" => {
                    delta = width(value, "bad indexDeltaLength")?;
                    layout_given = true;
                }
                "ctsdeltalength" => p.cts_delta_length = width(value, "bad CTSDeltaLength")?,
                "dtsdeltalength" => p.dts_delta_length = width(value, "bad DTSDeltaLength")?,
                "randomaccessindication" => p.random_access_indication = value.trim() == "1",
                "streamstateindication" => {
                    p.stream_state_indication = width(value, "bad streamStateIndication")?;
                }
                "auxiliarydatasizelength" => {
                    p.auxiliary_data_size_length = width(value, "bad auxiliaryDataSizeLength")?;
                }
                "mode" if value.eq_ignore_ascii_case("AAC-lbr") => lbr = true,
                "config" => {
                    p.config = fmtp::decode_hex(value)
                        .ok()
                        .and_then(|c| AudioSpecificConfig::parse(&c).ok());
                }
                _ => {}
            }
        }
        if layout_given {
            (p.size_length, p.index_length, p.index_delta_length) = (size, index, delta);
        } else if lbr {
            (p.size_length, p.index_length, p.index_delta_length) = (6, 2, 2);
        }
        Ok(p)
    }

    /// The fmtp value for AAC-hbr with the current config (see
    /// [`AudioSpecificConfig::to_fmtp`]); without a config, the same without `config=`.
    pub fn to_fmtp(&self) -> String {
        match &self.config {
            Some(c) => c.to_fmtp(),
            None => {
                "profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3"
                    .to_owned()
            }
        }
    }

    /// Whether AU headers carry any field (else the payload is one AU or one fragment, and the
    /// AU-headers-length field is absent).
    pub(crate) fn has_au_headers(&self) -> bool {
        self.size_length > 0
            || self.index_length > 0
            || self.index_delta_length > 0
            || self.cts_delta_length > 0
            || self.dts_delta_length > 0
            || self.random_access_indication
            || self.stream_state_indication > 0
    }
}
