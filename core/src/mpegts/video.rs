//! Video access units as MPEG-TS carries them (ISO/IEC 13818-1 §2.14, §2.17): Annex-B byte
//! streams that start with an access unit delimiter, with the parameter sets in front of every
//! key frame.

use crate::codec::{h264, h265};
use bytes::Bytes;

/// The start code written before every NAL unit.
const START_CODE: [u8; 4] = [0, 0, 0, 1];
/// H.264 access unit delimiter: nal_unit_type 9, primary_pic_type 7 (any slice type).
const H264_AUD: [u8; 2] = [0x09, 0xF0];
/// H.265 access unit delimiter: nal_unit_type 35, layer 0, TemporalId 0, pic_type 2 (I, P, B).
const H265_AUD: [u8; 3] = [0x46, 0x01, 0x50];

/// A video codec MPEG-TS carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VideoCodec {
    /// H.264.
    H264,
    /// H.265.
    H265,
}

/// Which parameter set a NAL unit is: 0 VPS, 1 SPS, 2 PPS.
type Slot = usize;

impl VideoCodec {
    /// The slot of a parameter set NAL unit, `None` for other NAL units.
    fn parameter_slot(self, nalu: &[u8]) -> Option<Slot> {
        match self {
            VideoCodec::H264 => match h264::nalu_type(nalu) {
                h264::NAL_SPS => Some(1),
                h264::NAL_PPS => Some(2),
                _ => None,
            },
            VideoCodec::H265 => match h265::nalu_type(nalu) {
                h265::NAL_VPS => Some(0),
                h265::NAL_SPS => Some(1),
                h265::NAL_PPS => Some(2),
                _ => None,
            },
        }
    }

    /// Whether the NAL unit is an access unit delimiter.
    fn is_aud(self, nalu: &[u8]) -> bool {
        match self {
            VideoCodec::H264 => h264::nalu_type(nalu) == h264::NAL_AUD,
            VideoCodec::H265 => h265::nalu_type(nalu) == h265::NAL_AUD,
        }
    }

    /// The access unit delimiter inserted when a unit has none.
    fn aud(self) -> &'static [u8] {
        match self {
            VideoCodec::H264 => &H264_AUD,
            VideoCodec::H265 => &H265_AUD,
        }
    }

    /// The parameter set slots a decoder needs.
    fn required(self) -> &'static [Slot] {
        match self {
            VideoCodec::H264 => &[1, 2],
            VideoCodec::H265 => &[0, 1, 2],
        }
    }
}

/// The latest parameter sets of a track: from the fmtp first, then from the stream itself.
#[derive(Debug, Clone, Default)]
pub(super) struct ParameterSets {
    /// VPS (H.265 only), SPS, PPS.
    sets: [Option<Bytes>; 3],
}

impl ParameterSets {
    /// Parameter sets from a track's fmtp (none when it has no fmtp or does not parse).
    pub(super) fn from_fmtp(codec: VideoCodec, fmtp: Option<&str>) -> ParameterSets {
        let Some(fmtp) = fmtp else {
            return ParameterSets::default();
        };
        let sets = match codec {
            VideoCodec::H264 => h264::H264Params::from_fmtp(fmtp)
                .map(|p| [None, p.sps, p.pps])
                .unwrap_or_default(),
            VideoCodec::H265 => h265::H265Params::from_fmtp(fmtp)
                .map(|p| [p.vps, p.sps, p.pps])
                .unwrap_or_default(),
        };
        ParameterSets { sets }
    }
}

/// Appends `nalus` to `out` as an Annex-B access unit: an access unit delimiter first (unless
/// the unit starts with one), then — for a key frame that lacks any of them in band — the
/// stored parameter sets, then the unit's NAL units. In-band parameter sets replace the stored
/// ones. Empty NAL units are dropped; returns `false` (writing nothing) when none is left.
pub(super) fn write_access_unit(
    codec: VideoCodec,
    params: &mut ParameterSets,
    nalus: &[Bytes],
    key: bool,
    out: &mut Vec<u8>,
) -> bool {
    let mut in_band = [false; 3];
    let mut first = None;
    for n in nalus.iter().filter(|n| !n.is_empty()) {
        first.get_or_insert(n);
        if let Some(slot) = codec.parameter_slot(n) {
            in_band[slot] = true;
            params.sets[slot] = Some(n.clone());
        }
    }
    let Some(first) = first else {
        return false;
    };
    if !codec.is_aud(first) {
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(codec.aud());
    }
    let mut nalus = nalus.iter().filter(|n| !n.is_empty()).peekable();
    if key && codec.required().iter().any(|&s| !in_band[s]) {
        // Keep a leading in-band AUD first.
        if let Some(aud) = nalus.next_if(|n| codec.is_aud(n)) {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(aud);
        }
        for set in codec
            .required()
            .iter()
            .filter_map(|&s| params.sets[s].as_ref())
        {
            out.extend_from_slice(&START_CODE);
            out.extend_from_slice(set);
        }
    }
    for n in nalus {
        out.extend_from_slice(&START_CODE);
        out.extend_from_slice(n);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &'static [u8]) -> Bytes {
        Bytes::from_static(s)
    }

    #[test]
    fn inserts_aud_and_parameter_sets_before_key_frames() {
        let mut params = ParameterSets::default();
        params.sets[1] = Some(b(&[0x67, 1]));
        params.sets[2] = Some(b(&[0x68, 2]));
        let mut out = Vec::new();
        assert!(write_access_unit(
            VideoCodec::H264,
            &mut params,
            &[b(&[0x65, 9]), b(&[])],
            true,
            &mut out
        ));
        assert_eq!(
            out,
            [
                0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2, 0, 0, 0, 1, 0x65,
                9
            ]
        );
        // A non-key frame gets the delimiter only; an existing delimiter is kept.
        out.clear();
        write_access_unit(
            VideoCodec::H264,
            &mut params,
            &[b(&[0x41, 7])],
            false,
            &mut out,
        );
        assert_eq!(out, [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 0, 1, 0x41, 7]);
        out.clear();
        write_access_unit(
            VideoCodec::H264,
            &mut params,
            &[b(&[0x09, 0x10]), b(&[0x41])],
            false,
            &mut out,
        );
        assert_eq!(out, [0, 0, 0, 1, 0x09, 0x10, 0, 0, 0, 1, 0x41]);
        out.clear();
        assert!(!write_access_unit(
            VideoCodec::H264,
            &mut params,
            &[b(&[])],
            true,
            &mut out
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn in_band_parameter_sets_replace_stored_ones() {
        let mut params = ParameterSets::default();
        let mut out = Vec::new();
        // H.265 key frame with all three in band: nothing inserted.
        let vps = b(&[0x40, 1, 0xAA]);
        let sps = b(&[0x42, 1, 0xBB]);
        let pps = b(&[0x44, 1, 0xCC]);
        let idr = b(&[0x26, 1, 0xDD]);
        let unit = [vps.clone(), sps.clone(), pps.clone(), idr.clone()];
        write_access_unit(VideoCodec::H265, &mut params, &unit, true, &mut out);
        assert_eq!(out.len(), 7 + 4 * 7);
        assert_eq!(&out[..7], &[0, 0, 0, 1, 0x46, 0x01, 0x50]);
        // The next key frame without them gets the learned ones, after its own delimiter.
        out.clear();
        let aud = b(&[0x46, 0x01, 0x10]);
        write_access_unit(VideoCodec::H265, &mut params, &[aud, idr], true, &mut out);
        let expected: Vec<u8> = [
            &[0x46u8, 0x01, 0x10][..],
            &vps,
            &sps,
            &pps,
            &[0x26, 1, 0xDD],
        ]
        .iter()
        .flat_map(|n| [&[0u8, 0, 0, 1][..], n].concat())
        .collect();
        assert_eq!(out, expected);
    }
}
