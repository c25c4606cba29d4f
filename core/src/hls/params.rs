//! Video parameter sets (VPS/SPS/PPS) of an H.264 / H.265 track: read from the fmtp, then kept
//! up to date from the ones the publisher sends in band (cameras often announce none).

use crate::codec::{h264, h265, CodecKind};
use crate::media::Track;
use bytes::Bytes;

/// Parameter sets larger than this are ignored (real ones are a few hundred bytes).
const MAX_PARAMETER_SET: usize = 4096;

/// The latest parameter sets of one video track.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct VideoParams {
    /// H.265 only: the video parameter set.
    pub vps: Option<Bytes>,
    /// The sequence parameter set.
    pub sps: Option<Bytes>,
    /// The picture parameter set.
    pub pps: Option<Bytes>,
    /// The largest parameter set seen, kept or not (bounds what a muxer may insert).
    pub largest: usize,
}

/// Keeps `nalu` in `slot` when it is a plausible parameter set; whether `slot` changed.
fn keep(slot: &mut Option<Bytes>, largest: &mut usize, nalu: &Bytes) -> bool {
    *largest = (*largest).max(nalu.len());
    if nalu.len() > MAX_PARAMETER_SET || slot.as_ref() == Some(nalu) {
        return false;
    }
    *slot = Some(nalu.clone());
    true
}

impl VideoParams {
    /// The parameter sets a track's fmtp announces (none when it announces none).
    pub fn from_track(track: &Track) -> VideoParams {
        let fmtp = track.fmtp.as_deref().unwrap_or("");
        let (vps, sps, pps) = match track.codec {
            CodecKind::H264 => match h264::H264Params::from_fmtp(fmtp) {
                Ok(p) => (None, p.sps, p.pps),
                Err(_) => (None, None, None),
            },
            CodecKind::H265 => match h265::H265Params::from_fmtp(fmtp) {
                Ok(p) => (p.vps, p.sps, p.pps),
                Err(_) => (None, None, None),
            },
            _ => (None, None, None),
        };
        let mut params = VideoParams::default();
        for (slot, set) in [
            (&mut params.vps, vps),
            (&mut params.sps, sps),
            (&mut params.pps, pps),
        ] {
            if let Some(set) = set.filter(|s| !s.is_empty()) {
                keep(slot, &mut params.largest, &set);
            }
        }
        params
    }

    /// Takes the parameter sets found among the NAL units of a unit; whether any changed.
    pub fn learn(&mut self, codec: CodecKind, nalus: &[Bytes]) -> bool {
        let mut changed = false;
        for n in nalus {
            changed |= match codec {
                CodecKind::H264 => match h264::nalu_type(n) {
                    h264::NAL_SPS => keep(&mut self.sps, &mut self.largest, n),
                    h264::NAL_PPS => keep(&mut self.pps, &mut self.largest, n),
                    _ => false,
                },
                CodecKind::H265 => match h265::nalu_type(n) {
                    h265::NAL_VPS => keep(&mut self.vps, &mut self.largest, n),
                    h265::NAL_SPS => keep(&mut self.sps, &mut self.largest, n),
                    h265::NAL_PPS => keep(&mut self.pps, &mut self.largest, n),
                    _ => false,
                },
                _ => false,
            };
        }
        changed
    }

    /// Whether every parameter set the codec needs is known.
    pub fn complete(&self, codec: CodecKind) -> bool {
        let base = self.sps.is_some() && self.pps.is_some();
        match codec {
            CodecKind::H265 => base && self.vps.is_some(),
            _ => base,
        }
    }

    /// An fmtp value announcing these parameter sets (for the fMP4 init segment).
    pub fn to_fmtp(&self, codec: CodecKind) -> String {
        match codec {
            CodecKind::H265 => h265::H265Params {
                vps: self.vps.clone(),
                sps: self.sps.clone(),
                pps: self.pps.clone(),
                max_don_diff: 0,
            }
            .to_fmtp(),
            _ => h264::H264Params {
                sps: self.sps.clone(),
                pps: self.pps.clone(),
                packetization_mode: 1,
                profile_level_id: None,
            }
            .to_fmtp(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpegts::test_support::{annexb_nalus, description, h264_fmtp, TestTrack};

    #[test]
    fn from_fmtp_then_in_band() {
        let nalus = annexb_nalus("blackframe.264");
        let desc = description(&[TestTrack {
            kind: "video",
            rtpmap: "H264/90000",
            fmtp: Some(h264_fmtp(&nalus)),
        }]);
        let p = VideoParams::from_track(&desc.tracks[0]);
        assert!(p.complete(CodecKind::H264));
        assert!(p.largest > 4);

        let bare = description(&[TestTrack {
            kind: "video",
            rtpmap: "H264/90000",
            fmtp: None,
        }]);
        let mut q = VideoParams::from_track(&bare.tracks[0]);
        assert!(!q.complete(CodecKind::H264));
        assert!(q.learn(CodecKind::H264, &nalus));
        assert!(
            !q.learn(CodecKind::H264, &nalus),
            "unchanged the second time"
        );
        assert_eq!(q, p);
        let back = VideoParams::from_track(
            &description(&[TestTrack {
                kind: "video",
                rtpmap: "H264/90000",
                fmtp: Some(q.to_fmtp(CodecKind::H264)),
            }])
            .tracks[0],
        );
        assert_eq!(back, p);
    }

    #[test]
    fn h265_needs_vps() {
        let nalus = annexb_nalus("hevc.265");
        let mut p = VideoParams::default();
        assert!(p.learn(CodecKind::H265, &nalus));
        assert!(p.complete(CodecKind::H265));
        p.vps = None;
        assert!(!p.complete(CodecKind::H265));
        assert!(!p.learn(CodecKind::Opus, &nalus));
    }
}
