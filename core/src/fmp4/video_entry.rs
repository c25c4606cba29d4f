//! Video sample entries: `avc1` with its `avcC` (ISO/IEC 14496-15 §5.3.3) and `hvc1` with its
//! `hvcC` (§8.3.3), parameter sets in the configuration record.

use super::bits::{avc_format, hevc_format, AVC_HIGH_PROFILES};
use super::boxes::{begin, end, put_u16, put_u32, put_zeros};

/// Appends a parameter set preceded by its 16-bit length.
fn put_nalu(buf: &mut Vec<u8>, nalu: &[u8]) -> Result<(), &'static str> {
    let len = u16::try_from(nalu.len()).map_err(|_| "parameter set larger than 64 KiB")?;
    put_u16(buf, len);
    buf.extend_from_slice(nalu);
    Ok(())
}

/// Appends an `avcC` box holding one SPS and one PPS, 4-byte NAL unit lengths, and for the
/// high profiles the chroma format and bit depths read from the SPS.
pub(super) fn write_avcc(buf: &mut Vec<u8>, sps: &[u8], pps: &[u8]) -> Result<(), &'static str> {
    let &[_, profile, compatibility, level, ..] = sps else {
        return Err("SPS too short");
    };
    let format = avc_format(sps).ok_or("unreadable SPS")?;
    let start = begin(buf, b"avcC");
    buf.extend_from_slice(&[1, profile, compatibility, level]);
    buf.push(0xFC | 3); // reserved, lengthSizeMinusOne = 3
    buf.push(0xE0 | 1); // reserved, numOfSequenceParameterSets = 1
    put_nalu(buf, sps)?;
    buf.push(1); // numOfPictureParameterSets
    put_nalu(buf, pps)?;
    if AVC_HIGH_PROFILES.contains(&profile) {
        buf.push(0xFC | format.chroma_format_idc);
        buf.push(0xF8 | format.bit_depth_luma_minus8);
        buf.push(0xF8 | format.bit_depth_chroma_minus8);
        buf.push(0); // numOfSequenceParameterSetExt
    }
    end(buf, start);
    Ok(())
}

/// Appends an `hvcC` box holding one VPS, SPS and PPS (arrays complete), 4-byte NAL unit
/// lengths, profile/tier/level, chroma format and bit depths read from the SPS.
pub(super) fn write_hvcc(
    buf: &mut Vec<u8>,
    vps: &[u8],
    sps: &[u8],
    pps: &[u8],
) -> Result<(), &'static str> {
    let f = hevc_format(sps).ok_or("unreadable SPS")?;
    let start = begin(buf, b"hvcC");
    buf.push(1); // configurationVersion
    buf.push(f.profile_byte);
    buf.extend_from_slice(&f.compatibility);
    buf.extend_from_slice(&f.constraints);
    buf.push(f.level_idc);
    put_u16(buf, 0xF000); // reserved, min_spatial_segmentation_idc 0 (unknown)
    buf.push(0xFC); // reserved, parallelismType 0 (unknown)
    buf.push(0xFC | f.chroma_format_idc);
    buf.push(0xF8 | f.bit_depth_luma_minus8);
    buf.push(0xF8 | f.bit_depth_chroma_minus8);
    put_u16(buf, 0); // avgFrameRate unknown
                     // constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3.
    buf.push(((f.max_sub_layers_minus1 + 1) << 3) | (u8::from(f.temporal_id_nesting) << 2) | 3);
    buf.push(3); // numOfArrays
    for (nal_type, nalu) in [(32u8, vps), (33, sps), (34, pps)] {
        buf.push(0x80 | nal_type); // array_completeness 1, reserved 0
        put_u16(buf, 1); // numNalus
        put_nalu(buf, nalu)?;
    }
    end(buf, start);
    Ok(())
}

/// Appends a VisualSampleEntry (§12.1.3) of type `kind` whose configuration box `config`
/// writes; returns what `config` returned.
pub(super) fn write_visual_entry(
    buf: &mut Vec<u8>,
    kind: &[u8; 4],
    width: u16,
    height: u16,
    config: impl FnOnce(&mut Vec<u8>) -> Result<(), &'static str>,
) -> Result<(), &'static str> {
    let start = begin(buf, kind);
    put_zeros(buf, 6); // reserved
    put_u16(buf, 1); // data_reference_index
    put_zeros(buf, 16); // pre_defined, reserved, pre_defined[3]
    put_u16(buf, width);
    put_u16(buf, height);
    put_u32(buf, 0x0048_0000); // horizresolution 72 dpi
    put_u32(buf, 0x0048_0000); // vertresolution
    put_u32(buf, 0); // reserved
    put_u16(buf, 1); // frame_count
    put_zeros(buf, 32); // compressorname (empty)
    put_u16(buf, 0x0018); // depth
    put_u16(buf, 0xFFFF); // pre_defined = -1
    config(buf)?;
    end(buf, start);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::h264::H264Params;

    #[test]
    fn avcc_baseline_is_byte_exact() {
        let p = H264Params::from_fmtp(
            "packetization-mode=1; sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==",
        )
        .unwrap();
        let (sps, pps) = (p.sps.unwrap(), p.pps.unwrap());
        let mut buf = Vec::new();
        write_avcc(&mut buf, &sps, &pps).unwrap();
        let mut expected = vec![
            0, 0, 0, 0, b'a', b'v', b'c', b'C', 1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1,
        ];
        expected.extend_from_slice(&(sps.len() as u16).to_be_bytes());
        expected.extend_from_slice(&sps);
        expected.extend_from_slice(&[1, 0, 4, 0x68, 0xCB, 0x8C, 0xB2]);
        expected[3] = expected.len() as u8;
        assert_eq!(buf, expected);
    }

    #[test]
    fn avcc_high_profile_has_the_extension() {
        let nalus = crate::mpegts::test_support::annexb_nalus("4pics.264");
        let sps = crate::mpegts::test_support::find_nalu(&nalus, false, 7).unwrap();
        let pps = crate::mpegts::test_support::find_nalu(&nalus, false, 8).unwrap();
        let mut buf = Vec::new();
        write_avcc(&mut buf, &sps, &pps).unwrap();
        assert_eq!(&buf[buf.len() - 4..], &[0xFD, 0xF8, 0xF8, 0x00]);
        assert_eq!(buf[9], 100);
        assert!(write_avcc(&mut Vec::new(), &[0x67, 100], &pps).is_err());
        assert!(write_avcc(&mut Vec::new(), &sps, &vec![0x68; 70_000]).is_err());
    }
}
