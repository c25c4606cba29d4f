//! The AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1): the H.264 sequence header of
//! FLV / RTMP (`avcC`).

use super::cursor::Cursor;
use super::FlvError;
use crate::codec::h264::{self, H264Params};
use bytes::{BufMut, Bytes};

/// The most parameter sets of one kind a record may list (the SPS count is a 5-bit field).
const MAX_SETS: usize = 31;

/// A parsed or built AVCDecoderConfigurationRecord.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcConfig {
    /// AVCProfileIndication (profile_idc of the SPS).
    pub profile_indication: u8,
    /// profile_compatibility (the constraint flags byte of the SPS).
    pub profile_compatibility: u8,
    /// AVCLevelIndication (level_idc of the SPS).
    pub level_indication: u8,
    /// The size of the NAL unit length prefix in samples (lengthSizeMinusOne + 1).
    pub length_size: u8,
    /// The sequence parameter sets (NAL units with their header byte).
    pub sps: Vec<Bytes>,
    /// The picture parameter sets.
    pub pps: Vec<Bytes>,
}

impl AvcConfig {
    /// A record for one SPS and one PPS with 4-byte NAL lengths; the profile and level come from
    /// the SPS (bytes 1..4). Errors: an SPS shorter than 4 bytes or not of type 7, an empty PPS
    /// or one not of type 8.
    pub fn from_parameter_sets(sps: Bytes, pps: Bytes) -> Result<AvcConfig, FlvError> {
        if sps.len() < 4 || h264::nalu_type(&sps) != h264::NAL_SPS {
            return Err(FlvError::Malformed("not an H264 SPS"));
        }
        if h264::nalu_type(&pps) != h264::NAL_PPS {
            return Err(FlvError::Malformed("not an H264 PPS"));
        }
        Ok(AvcConfig {
            profile_indication: sps[1],
            profile_compatibility: sps[2],
            level_indication: sps[3],
            length_size: 4,
            sps: vec![sps],
            pps: vec![pps],
        })
    }

    /// Parses a record (zero-copy: the parameter sets are slices of `data`). Lenient like real
    /// decoders: any configurationVersion, a length size of 1 to 4 bytes, the High-profile
    /// extension (chroma format, bit depths, SPS extensions) and trailing bytes are ignored.
    /// Errors: truncation, an empty parameter set, no SPS or no PPS.
    pub fn parse(data: &Bytes) -> Result<AvcConfig, FlvError> {
        let mut c = Cursor::new(data);
        let _version = c.u8("truncated avcC")?;
        let profile_indication = c.u8("truncated avcC")?;
        let profile_compatibility = c.u8("truncated avcC")?;
        let level_indication = c.u8("truncated avcC")?;
        let length_size = (c.u8("truncated avcC")? & 0x03) + 1;
        let sps_count = c.u8("truncated avcC")? & 0x1f;
        let sps = read_sets(&mut c, usize::from(sps_count))?;
        let pps_count = c.u8("truncated avcC")?;
        let pps = read_sets(&mut c, usize::from(pps_count))?;
        if sps.is_empty() {
            return Err(FlvError::Malformed("avcC without SPS"));
        }
        if pps.is_empty() {
            return Err(FlvError::Malformed("avcC without PPS"));
        }
        Ok(AvcConfig {
            profile_indication,
            profile_compatibility,
            level_indication,
            length_size,
            sps,
            pps,
        })
    }

    /// Writes the record (at most 31 SPS and 255 PPS; no High-profile extension, which decoders
    /// read from the SPS anyway).
    pub fn to_bytes(&self) -> Bytes {
        let sps = &self.sps[..self.sps.len().min(MAX_SETS)];
        let pps = &self.pps[..self.pps.len().min(255)];
        let mut out =
            Vec::with_capacity(7 + sps.iter().chain(pps).map(|s| s.len() + 2).sum::<usize>());
        out.put_u8(1);
        out.put_u8(self.profile_indication);
        out.put_u8(self.profile_compatibility);
        out.put_u8(self.level_indication);
        out.put_u8(0xfc | (self.length_size.clamp(1, 4) - 1));
        out.put_u8(0xe0 | sps.len() as u8);
        for s in sps {
            put_set(&mut out, s);
        }
        out.put_u8(pps.len() as u8);
        for p in pps {
            put_set(&mut out, p);
        }
        out.into()
    }

    /// The SDP parameters of the first SPS and PPS (packetization mode 1).
    pub fn params(&self) -> H264Params {
        H264Params {
            sps: self.sps.first().cloned(),
            pps: self.pps.first().cloned(),
            packetization_mode: 1,
            profile_level_id: Some([
                self.profile_indication,
                self.profile_compatibility,
                self.level_indication,
            ]),
        }
    }
}

/// Reads `n` parameter sets, each with a 16-bit length.
fn read_sets(c: &mut Cursor<'_>, n: usize) -> Result<Vec<Bytes>, FlvError> {
    let mut sets = Vec::with_capacity(n.min(MAX_SETS));
    for _ in 0..n {
        let len = usize::from(c.u16("truncated parameter set length")?);
        if len == 0 {
            return Err(FlvError::Malformed("empty parameter set"));
        }
        sets.push(c.take(len, "truncated parameter set")?);
    }
    Ok(sets)
}

/// Writes one parameter set with its 16-bit length (cut at 65535 bytes, far beyond any real one).
pub(crate) fn put_set(out: &mut Vec<u8>, set: &[u8]) {
    let len = set.len().min(usize::from(u16::MAX));
    out.put_u16(len as u16);
    out.extend_from_slice(&set[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bunny.rtsp parameter sets (`Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==`).
    const SPS: &[u8] = &[
        0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x03, 0xc5, 0x68, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00,
        0x00, 0x0c, 0x03, 0xc5, 0x8b, 0x92,
    ];
    const PPS: &[u8] = &[0x68, 0xcb, 0x8c, 0xb2];

    /// The record, written out by hand from §5.3.3.1.
    const RECORD: &[u8] = &[
        0x01, // configurationVersion
        0x42, 0xc0, 0x1e, // profile, compatibility, level
        0xff, // 111111 + lengthSizeMinusOne = 3
        0xe1, // 111 + one SPS
        0x00, 0x15, // SPS length 21
        0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x03, 0xc5, 0x68, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00,
        0x00, 0x0c, 0x03, 0xc5, 0x8b, 0x92, //
        0x01, // one PPS
        0x00, 0x04, 0x68, 0xcb, 0x8c, 0xb2,
    ];

    #[test]
    fn builds_the_exact_record() {
        let c = AvcConfig::from_parameter_sets(Bytes::from_static(SPS), Bytes::from_static(PPS))
            .unwrap();
        assert_eq!(&c.to_bytes()[..], RECORD);
        let back = AvcConfig::parse(&Bytes::from_static(RECORD)).unwrap();
        assert_eq!(back, c);
        assert_eq!(
            back.params().to_fmtp(),
            "packetization-mode=1; sprop-parameter-sets=Z0LAHtkDxWhAAAADAEAAAAwDxYuS,aMuMsg==; profile-level-id=42C01E"
        );
    }

    #[test]
    fn parses_high_profile_extension_and_short_lengths() {
        let mut r = RECORD.to_vec();
        r[4] = 0xfd; // 2-byte NAL lengths
        r.extend_from_slice(&[0xfd, 0xf8, 0xf8, 0x00]); // High extension: 4:2:0, 8 bit, no ext
        let c = AvcConfig::parse(&Bytes::from(r)).unwrap();
        assert_eq!(c.length_size, 2);
        assert_eq!(&c.sps[0][..], SPS);
    }

    #[test]
    fn rejects_broken_records() {
        for cut in 0..RECORD.len() {
            assert!(
                AvcConfig::parse(&Bytes::copy_from_slice(&RECORD[..cut])).is_err(),
                "{cut}"
            );
        }
        let mut r = RECORD.to_vec();
        r[5] = 0xe0; // no SPS (the SPS bytes are then read as the PPS count…)
        assert!(AvcConfig::parse(&Bytes::from(r)).is_err());
        assert!(
            AvcConfig::from_parameter_sets(Bytes::from_static(PPS), Bytes::from_static(SPS))
                .is_err()
        );
        assert!(AvcConfig::from_parameter_sets(Bytes::from_static(SPS), Bytes::new()).is_err());
    }
}
