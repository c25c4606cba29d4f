//! Stream descriptions for RTMP publishers: the [`Track`]s `StreamDescription::from_sdp` would
//! build from the SDP weir would announce for the same codecs, so RTSP readers get a proper
//! DESCRIBE answer.

use super::{AvcConfig, HevcConfig, OpusHead};
use crate::codec::mpeg4audio::AudioSpecificConfig;
use crate::codec::opus::{OpusParams, OPUS_CLOCK_RATE};
use crate::codec::CodecKind;
use crate::media::{StreamDescription, Track};
use crate::sdp::{Attribute, Media};

/// The RTP payload type of video tracks.
pub(crate) const VIDEO_PAYLOAD_TYPE: u8 = 96;
/// The RTP payload type of audio tracks.
pub(crate) const AUDIO_PAYLOAD_TYPE: u8 = 97;
/// The clock rate of every video track.
const VIDEO_CLOCK_RATE: u32 = 90_000;

/// One track as the FLV layer knows it, before it becomes a [`Track`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackInfo {
    /// The codec.
    pub codec: CodecKind,
    /// Whether this is a video track (`m=video`, payload type 96) or audio (`m=audio`, 97).
    pub is_video: bool,
    /// The rtpmap encoding name (`H264`, `MPEG4-GENERIC`, `opus`, `AV1`…).
    pub encoding: String,
    /// The clock rate in Hz.
    pub clock_rate: u32,
    /// The rtpmap channel count (audio).
    pub channels: Option<u16>,
    /// The fmtp parameters, when the codec has any.
    pub fmtp: Option<String>,
}

impl TrackInfo {
    /// An H.264 track with the record's first SPS and PPS.
    pub(crate) fn h264(config: &AvcConfig) -> TrackInfo {
        video(CodecKind::H264, "H264", Some(config.params().to_fmtp()))
    }

    /// An H.265 track with the record's first VPS, SPS and PPS.
    pub(crate) fn h265(config: &HevcConfig) -> TrackInfo {
        video(CodecKind::H265, "H265", Some(config.params().to_fmtp()))
    }

    /// An AV1 track (passthrough): `profile`, `level-idx` and `tier` from an
    /// AV1CodecConfigurationRecord, when it has them.
    pub(crate) fn av1(record: &[u8]) -> TrackInfo {
        let fmtp = match record {
            [0x81, b1, b2, ..] => Some(format!(
                "profile={}; level-idx={}; tier={}",
                b1 >> 5,
                b1 & 0x1f,
                b2 >> 7
            )),
            _ => None,
        };
        video(CodecKind::Generic, "AV1", fmtp)
    }

    /// A VP9 track (passthrough): `profile-id` from a VPCodecConfigurationRecord, when present.
    pub(crate) fn vp9(record: &[u8]) -> TrackInfo {
        let fmtp = record.first().map(|p| format!("profile-id={p}"));
        video(CodecKind::Generic, "VP9", fmtp)
    }

    /// An AAC track (RFC 3640 AAC-hbr) at the config's sampling rate.
    pub(crate) fn aac(config: &AudioSpecificConfig) -> TrackInfo {
        TrackInfo {
            codec: CodecKind::Mpeg4Audio,
            is_video: false,
            encoding: "MPEG4-GENERIC".into(),
            clock_rate: config.sample_rate.max(1),
            channels: (config.channel_count > 0).then_some(u16::from(config.channel_count)),
            fmtp: Some(config.to_fmtp()),
        }
    }

    /// An Opus track: always `opus/48000/2` (RFC 7587), `sprop-stereo` from the header.
    pub(crate) fn opus(head: &OpusHead) -> TrackInfo {
        let params = OpusParams {
            channel_count: 2,
            sprop_stereo: Some(head.channel_count >= 2),
        };
        TrackInfo {
            codec: CodecKind::Opus,
            is_video: false,
            encoding: "opus".into(),
            clock_rate: OPUS_CLOCK_RATE,
            channels: Some(2),
            fmtp: Some(params.to_fmtp()),
        }
    }

    /// The `a=rtpmap` value: `96 H264/90000`, `97 MPEG4-GENERIC/48000/2`.
    fn rtpmap(&self, payload_type: u8) -> String {
        match self.channels {
            Some(c) => format!("{payload_type} {}/{}/{c}", self.encoding, self.clock_rate),
            None => format!("{payload_type} {}/{}", self.encoding, self.clock_rate),
        }
    }

    /// The track at index `index` of a description.
    pub fn to_track(&self, index: usize) -> Track {
        let payload_type = if self.is_video {
            VIDEO_PAYLOAD_TYPE
        } else {
            AUDIO_PAYLOAD_TYPE
        };
        let fmtp = self
            .fmtp
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty());
        let mut attributes = vec![
            Attribute::new("control", format!("trackID={index}")),
            Attribute::new("rtpmap", self.rtpmap(payload_type)),
        ];
        if let Some(f) = fmtp {
            attributes.push(Attribute::new("fmtp", format!("{payload_type} {f}")));
        }
        Track {
            codec: self.codec,
            payload_type,
            clock_rate: self.clock_rate.max(1),
            channels: self.channels,
            fmtp: fmtp.map(str::to_owned),
            announced_control: None,
            media: Media {
                kind: if self.is_video { "video" } else { "audio" }.into(),
                port: 0,
                port_count: None,
                protocol: "RTP/AVP".into(),
                formats: vec![payload_type.to_string()],
                title: None,
                connection: None,
                bandwidth: Vec::new(),
                attributes,
            },
        }
    }
}

/// A video track at 90 kHz.
fn video(codec: CodecKind, encoding: &str, fmtp: Option<String>) -> TrackInfo {
    TrackInfo {
        codec,
        is_video: true,
        encoding: encoding.into(),
        clock_rate: VIDEO_CLOCK_RATE,
        channels: None,
        fmtp,
    }
}

/// The stream description of `tracks`, in order (track `i` gets `a=control:trackID=i`).
pub fn description_from_tracks(tracks: &[TrackInfo]) -> StreamDescription {
    StreamDescription {
        tracks: tracks
            .iter()
            .enumerate()
            .map(|(i, t)| t.to_track(i))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn equals_what_from_sdp_reads() {
        let avc = AvcConfig::from_parameter_sets(
            Bytes::from_static(&[0x67, 0x42, 0xc0, 0x1e, 0xd9, 0x03, 0xc5, 0x68, 0x40]),
            Bytes::from_static(&[0x68, 0xcb, 0x8c, 0xb2]),
        )
        .unwrap();
        let aac = AudioSpecificConfig::parse(&[0x11, 0x90]).unwrap();
        let tracks = [
            TrackInfo::h264(&avc),
            TrackInfo::aac(&aac),
            TrackInfo::opus(&OpusHead::stereo(false)),
            TrackInfo::av1(&[0x81, 0x08, 0x0c, 0x00]),
            TrackInfo::vp9(&[0x00, 0x1f, 0x80]),
        ];
        let desc = description_from_tracks(&tracks);
        let sdp = "v=0\r\ns=x\r\n\
            m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
            a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LAHtkDxWhA,aMuMsg==; profile-level-id=42C01E\r\n\
            m=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n\
            a=fmtp:97 profile-level-id=1; mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; config=1190\r\n\
            m=audio 0 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\na=fmtp:97 sprop-stereo=0\r\n\
            m=video 0 RTP/AVP 96\r\na=rtpmap:96 AV1/90000\r\na=fmtp:96 profile=0; level-idx=8; tier=0\r\n\
            m=video 0 RTP/AVP 96\r\na=rtpmap:96 VP9/90000\r\na=fmtp:96 profile-id=0\r\n";
        let expected = StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
        assert_eq!(desc, expected);
        assert_eq!(
            desc.codec_list(),
            "H264, MPEG-4 Audio, Opus, Generic, Generic"
        );
        let back = StreamDescription::from_sdp(desc.to_sdp().as_bytes()).unwrap();
        assert_eq!(back.tracks[0].fmtp, desc.tracks[0].fmtp);
    }
}
