//! Which tracks of a stream HLS carries (H.264, H.265, MPEG-4 audio, Opus), which one leads
//! the segmentation (the first video track, else the first audio track), and building the
//! container muxers for them: tracks a muxer rejects (an AAC track without config, Opus with
//! more than two channels, an unreadable SPS) are left out, with a warning, rather than
//! failing the whole stream.

use super::params::VideoParams;
use super::HlsError;
use crate::codec::CodecKind;
use crate::fmp4::{init_segment, Fmp4Track};
use crate::media::StreamDescription;
use crate::mpegts::{MuxError, TsMuxer};

/// One track of the stream, as HLS sees it.
#[derive(Debug, Clone)]
pub(super) struct TrackInfo {
    /// The codec.
    pub codec: CodecKind,
    /// The clock rate of its timestamps.
    pub clock_rate: u32,
    /// Whether HLS carries it.
    pub carried: bool,
    /// Video: the latest parameter sets (fmtp, then in band).
    pub params: VideoParams,
}

/// The tracks of a stream and the description the container muxers are built from (tracks
/// left out have their codec replaced by `Generic` there, which every muxer skips).
#[derive(Debug, Clone)]
pub(super) struct TrackSet {
    /// The description the muxers see.
    pub desc: StreamDescription,
    /// One entry per track of the stream.
    pub tracks: Vec<TrackInfo>,
}

/// Whether HLS can carry a codec.
fn supported(codec: CodecKind) -> bool {
    matches!(
        codec,
        CodecKind::H264 | CodecKind::H265 | CodecKind::Mpeg4Audio | CodecKind::Opus
    )
}

/// The track a muxer error is about, if any.
fn track_of(e: &MuxError) -> Option<usize> {
    match e {
        MuxError::MissingConfig { track }
        | MuxError::MissingParameterSets { track }
        | MuxError::InvalidConfig { track, .. }
        | MuxError::EmptyUnit { track }
        | MuxError::UnitTooLarge { track } => Some(*track),
        _ => None,
    }
}

impl TrackSet {
    /// The tracks of `desc`, every supported one carried.
    pub fn new(desc: &StreamDescription) -> TrackSet {
        let tracks = desc
            .tracks
            .iter()
            .map(|t| TrackInfo {
                codec: t.codec,
                clock_rate: t.clock_rate.max(1),
                carried: supported(t.codec),
                params: VideoParams::from_track(t),
            })
            .collect();
        TrackSet {
            desc: desc.clone(),
            tracks,
        }
    }

    /// The track whose units decide segment boundaries: the first carried video track, else
    /// the first carried track.
    pub fn leading(&self) -> Option<usize> {
        let carried = || self.tracks.iter().enumerate().filter(|(_, t)| t.carried);
        carried()
            .find(|(_, t)| t.codec.is_video())
            .or_else(|| carried().next())
            .map(|(i, _)| i)
    }

    /// Whether the leading track is video (segments then start at its key frames).
    pub fn leading_is_video(&self) -> bool {
        self.leading()
            .and_then(|i| self.tracks.get(i))
            .is_some_and(|t| t.codec.is_video())
    }

    /// Whether any track is carried.
    pub fn any_carried(&self) -> bool {
        self.tracks.iter().any(|t| t.carried)
    }

    /// Leaves a track out.
    pub fn drop_track(&mut self, track: usize, why: &dyn std::fmt::Display) {
        if let Some(t) = self.tracks.get_mut(track) {
            if t.carried {
                tracing::warn!(
                    "HLS: skipping track {track} ({}): {why}",
                    t.codec.display_name()
                );
            }
            t.carried = false;
        }
        if let Some(t) = self.desc.tracks.get_mut(track) {
            t.codec = CodecKind::Generic;
        }
    }

    /// The MPEG-TS muxer of the carried tracks (tracks it rejects are left out).
    pub fn build_ts(&mut self) -> Result<TsMuxer, HlsError> {
        loop {
            match TsMuxer::new(&self.desc) {
                Ok(m) => return Ok(m),
                Err(e) => match track_of(&e) {
                    Some(t) if self.tracks.get(t).is_some_and(|t| t.carried) => {
                        self.drop_track(t, &e)
                    }
                    _ => return Err(HlsError::NoTracks),
                },
            }
        }
    }

    /// The description an init segment is written from: video tracks get their known
    /// parameter sets in the fmtp; with `defer`, video tracks still lacking them are hidden.
    fn fmp4_description(&self, defer: bool) -> (StreamDescription, bool) {
        let mut d = self.desc.clone();
        let mut deferred = false;
        for (t, info) in d.tracks.iter_mut().zip(&self.tracks) {
            if !info.carried || !info.codec.is_video() {
                continue;
            }
            if info.params.complete(info.codec) {
                t.fmtp = Some(info.params.to_fmtp(info.codec));
            } else if defer {
                t.codec = CodecKind::Generic;
                deferred = true;
            }
        }
        (d, deferred)
    }

    /// Checks that fMP4 can carry the tracks, leaving out those it cannot. Video tracks
    /// without parameter sets are accepted: they may come in band.
    pub fn check_fmp4(&mut self) -> Result<(), HlsError> {
        loop {
            let (d, deferred) = self.fmp4_description(true);
            match init_segment(&d) {
                Ok(_) => return Ok(()),
                Err(e) => match track_of(&e) {
                    Some(t) if self.tracks.get(t).is_some_and(|t| t.carried) => {
                        self.drop_track(t, &e)
                    }
                    _ if deferred => return Ok(()),
                    _ => return Err(HlsError::NoTracks),
                },
            }
        }
    }

    /// The init segment, once the leading track's parameter sets are known (other video
    /// tracks still lacking them are left out). `None` while waiting, or when the leading
    /// track itself had to be left out (a new one leads from then on).
    pub fn build_fmp4_init(&mut self) -> Option<(Vec<u8>, Vec<Fmp4Track>)> {
        let leading = self.leading()?;
        let lead = self.tracks.get(leading)?;
        if lead.codec.is_video() && !lead.params.complete(lead.codec) {
            return None;
        }
        let missing: Vec<usize> = (0..self.tracks.len())
            .filter(|&i| {
                let t = &self.tracks[i];
                t.carried && t.codec.is_video() && !t.params.complete(t.codec)
            })
            .collect();
        for t in missing {
            self.drop_track(t, &"no parameter sets");
        }
        loop {
            let (d, _) = self.fmp4_description(false);
            match init_segment(&d) {
                Ok(init) => return Some(init),
                Err(e) => match track_of(&e) {
                    Some(t) if self.tracks.get(t).is_some_and(|t| t.carried) => {
                        self.drop_track(t, &e);
                        if t == leading {
                            return None;
                        }
                    }
                    _ => return None,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpegts::test_support::{annexb_nalus, description, h264_fmtp, TestTrack};

    fn aac(fmtp: Option<&str>) -> TestTrack<'static> {
        TestTrack {
            kind: "audio",
            rtpmap: "mpeg4-generic/44100/2",
            fmtp: fmtp.map(str::to_owned),
        }
    }

    #[test]
    fn leading_and_dropped_tracks() {
        let nalus = annexb_nalus("blackframe.264");
        let desc = description(&[
            TestTrack {
                kind: "audio",
                rtpmap: "PCMU/8000",
                fmtp: None,
            },
            aac(None),
            TestTrack {
                kind: "video",
                rtpmap: "H264/90000",
                fmtp: Some(h264_fmtp(&nalus)),
            },
        ]);
        let mut set = TrackSet::new(&desc);
        assert_eq!(set.leading(), Some(2));
        assert!(set.leading_is_video());
        assert!(!set.tracks[0].carried);
        set.build_ts().unwrap();
        assert!(!set.tracks[1].carried, "AAC without config is left out");
        let mut set = TrackSet::new(&desc);
        set.check_fmp4().unwrap();
        assert!(!set.tracks[1].carried);
        let (init, tracks) = set.build_fmp4_init().unwrap();
        assert!(!init.is_empty());
        assert_eq!(tracks.len(), 1);
    }

    #[test]
    fn no_tracks() {
        let desc = description(&[aac(None)]);
        assert_eq!(
            TrackSet::new(&desc).build_ts().unwrap_err(),
            HlsError::NoTracks
        );
        assert_eq!(
            TrackSet::new(&desc).check_fmp4().unwrap_err(),
            HlsError::NoTracks
        );
        let desc = description(&[TestTrack {
            kind: "audio",
            rtpmap: "PCMA/8000",
            fmtp: None,
        }]);
        assert!(!TrackSet::new(&desc).any_carried());
    }

    #[test]
    fn parameter_sets_in_band() {
        let desc = description(&[
            TestTrack {
                kind: "video",
                rtpmap: "H264/90000",
                fmtp: None,
            },
            aac(Some("mode=AAC-hbr; sizelength=13; config=1210")),
        ]);
        let mut set = TrackSet::new(&desc);
        set.check_fmp4().unwrap();
        assert!(set.tracks[0].carried);
        assert!(set.build_fmp4_init().is_none(), "waits for the SPS/PPS");
        let nalus = annexb_nalus("blackframe.264");
        set.tracks[0].params.learn(CodecKind::H264, &nalus);
        let (_, tracks) = set.build_fmp4_init().unwrap();
        assert_eq!(tracks.len(), 2);
    }
}
