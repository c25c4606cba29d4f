//! A stream description: the tracks of a stream, read from an announced SDP and written back as
//! the SDP readers get from DESCRIBE.

use crate::codec::CodecKind;
use crate::sdp::{self, Attribute, Media, Sdp};

/// Why an SDP could not become a stream description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DescriptionError {
    /// The SDP did not parse.
    Sdp(String),
    /// The SDP has no media section.
    NoTracks,
    /// More tracks than weir accepts in one stream.
    TooManyTracks(usize),
    /// A media section has no payload type.
    NoPayloadType(usize),
}

impl std::fmt::Display for DescriptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DescriptionError::Sdp(e) => write!(f, "invalid SDP: {e}"),
            DescriptionError::NoTracks => f.write_str("the SDP has no media"),
            DescriptionError::TooManyTracks(n) => write!(f, "too many tracks ({n})"),
            DescriptionError::NoPayloadType(i) => write!(f, "media {i} has no payload type"),
        }
    }
}

impl std::error::Error for DescriptionError {}

/// The largest number of tracks in one stream (each takes two interleaved channels).
pub const MAX_TRACKS: usize = 16;

/// One track of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The codec, from the rtpmap encoding name.
    pub codec: CodecKind,
    /// The RTP payload type.
    pub payload_type: u8,
    /// The RTP clock rate in Hz.
    pub clock_rate: u32,
    /// Audio channel count, when the rtpmap gives one.
    pub channels: Option<u16>,
    /// The fmtp parameters (the text after the payload type), when present.
    pub fmtp: Option<String>,
    /// The `a=control` the publisher announced (used to match its SETUP URLs).
    pub announced_control: Option<String>,
    /// The media section readers get (with weir's own `a=control:trackID=N`).
    pub media: Media,
}

/// The tracks of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamDescription {
    /// The tracks, in SDP order; a track's index is its id.
    pub tracks: Vec<Track>,
}

fn codec_of(encoding: &str) -> CodecKind {
    match encoding.to_ascii_lowercase().as_str() {
        "h264" => CodecKind::H264,
        "h265" => CodecKind::H265,
        "mpeg4-generic" => CodecKind::Mpeg4Audio,
        "mp4a-latm" => CodecKind::Mpeg4AudioLatm,
        "opus" => CodecKind::Opus,
        "pcmu" => CodecKind::G711Mu,
        "pcma" => CodecKind::G711A,
        _ => CodecKind::Generic,
    }
}

/// Attributes that describe the publisher's direction or its own control URLs; readers get
/// weir's instead.
fn is_dropped_attribute(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "control" | "sendonly" | "recvonly" | "sendrecv" | "inactive" | "range"
    )
}

impl StreamDescription {
    /// Reads the tracks of an SDP (as sent in ANNOUNCE).
    pub fn from_sdp(body: &[u8]) -> Result<StreamDescription, DescriptionError> {
        let parsed = sdp::parse(body).map_err(|e| DescriptionError::Sdp(e.to_string()))?;
        Self::from_parsed(&parsed)
    }

    /// Reads the tracks of a parsed SDP.
    pub fn from_parsed(parsed: &Sdp) -> Result<StreamDescription, DescriptionError> {
        if parsed.media.is_empty() {
            return Err(DescriptionError::NoTracks);
        }
        if parsed.media.len() > MAX_TRACKS {
            return Err(DescriptionError::TooManyTracks(parsed.media.len()));
        }
        let mut tracks = Vec::with_capacity(parsed.media.len());
        for (i, m) in parsed.media.iter().enumerate() {
            let payload_type = m.payload_type().ok_or(DescriptionError::NoPayloadType(i))?;
            let rtpmap = m.rtpmap();
            let (codec, clock_rate, channels) = match &rtpmap {
                Some(r) => (codec_of(&r.encoding), r.clock_rate, r.channels),
                None => (CodecKind::Generic, 90_000, None),
            };
            let mut media = m.clone();
            media.connection = None;
            media.attributes.retain(|a| !is_dropped_attribute(&a.name));
            media.attributes.insert(
                0,
                Attribute {
                    name: "control".into(),
                    value: Some(format!("trackID={i}")),
                },
            );
            tracks.push(Track {
                codec,
                payload_type,
                clock_rate: clock_rate.max(1),
                channels,
                fmtp: m.fmtp().map(str::to_owned),
                announced_control: m.control().map(str::to_owned),
                media,
            });
        }
        Ok(StreamDescription { tracks })
    }

    /// The SDP readers get in answer to DESCRIBE.
    pub fn to_sdp(&self) -> String {
        let sdp = Sdp {
            version: 0,
            origin: Some("- 0 0 IN IP4 127.0.0.1".into()),
            session_name: "Stream".into(),
            connection: Some("IN IP4 0.0.0.0".into()),
            timing: Some("0 0".into()),
            bandwidth: Vec::new(),
            attributes: Vec::new(),
            media: self.tracks.iter().map(|t| t.media.clone()).collect(),
        };
        let mut out = String::with_capacity(512);
        sdp.write(&mut out);
        out
    }

    /// The codec names for log lines: "H264, MPEG-4 Audio".
    pub fn codec_list(&self) -> String {
        let names: Vec<&str> = self.tracks.iter().map(|t| t.codec.display_name()).collect();
        names.join(", ")
    }

    /// "1 track" / "2 tracks".
    pub fn track_count_text(&self) -> String {
        match self.tracks.len() {
            1 => "1 track".into(),
            n => format!("{n} tracks"),
        }
    }

    /// Whether any track is video (readers then start at key frames).
    pub fn has_video(&self) -> bool {
        self.tracks.iter().any(|t| t.codec.is_video())
    }

    /// The tracks where readers may start: bit `t` set for each video track, or for every track
    /// when there is no video (see [`super::Ring::new`]).
    pub fn start_tracks(&self) -> u64 {
        let mut video = 0u64;
        let mut all = 0u64;
        for (i, t) in self.tracks.iter().enumerate().take(64) {
            all |= 1 << i;
            if t.codec.is_video() || (t.codec == CodecKind::Generic && t.media.kind == "video") {
                video |= 1 << i;
            }
        }
        if video != 0 {
            video
        } else {
            all
        }
    }

    /// The track a publisher's SETUP addresses, given the control part of the URL after the
    /// announced path (`streamid=0`) or the whole URL.
    pub fn publisher_track(&self, control: &str, full_url: &str) -> Option<usize> {
        let control = control.trim_matches('/');
        self.tracks.iter().position(|t| match &t.announced_control {
            Some(c) => {
                let c = c.trim_matches('/');
                c == control
                    || c == full_url
                    || (!control.is_empty() && c.ends_with(control))
                    // A query before the control (`?token=1/streamid=0`, as ffmpeg writes it).
                    || (!c.is_empty()
                        && control
                            .strip_suffix(c)
                            .is_some_and(|before| before.ends_with('/')))
            }
            None => false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FFMPEG_ANNOUNCE: &str = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\na=tool:libavformat 59.27.100\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z0LAHtkBQfsBEAAAAwAQAAADAyDxYuSA,aMuMsg==; profile-level-id=42C01E\r\na=control:streamid=0\r\nm=audio 0 RTP/AVP 97\r\nb=AS:64\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\na=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=1190\r\na=control:streamid=1\r\n";

    #[test]
    fn reads_ffmpeg_announce() {
        let d = StreamDescription::from_sdp(FFMPEG_ANNOUNCE.as_bytes()).unwrap();
        assert_eq!(d.tracks.len(), 2);
        assert_eq!(d.tracks[0].codec, CodecKind::H264);
        assert_eq!(d.tracks[1].codec, CodecKind::Mpeg4Audio);
        assert_eq!(d.tracks[1].clock_rate, 48_000);
        assert_eq!(d.tracks[1].channels, Some(2));
        assert_eq!(d.codec_list(), "H264, MPEG-4 Audio");
        assert_eq!(d.publisher_track("streamid=1", ""), Some(1));
        assert_eq!(d.publisher_track("streamid=7", ""), None);
        assert_eq!(d.publisher_track("pub=1&x=y/streamid=1", ""), Some(1));
        assert_eq!(d.publisher_track("pub=1&x=ystreamid=1", ""), None);
        assert!(d.has_video());
    }

    #[test]
    fn describe_sdp_has_weir_controls_and_keeps_fmtp() {
        let d = StreamDescription::from_sdp(FFMPEG_ANNOUNCE.as_bytes()).unwrap();
        let sdp = d.to_sdp();
        assert!(sdp.contains("a=control:trackID=0\r\n"), "{sdp}");
        assert!(sdp.contains("a=control:trackID=1\r\n"), "{sdp}");
        assert!(!sdp.contains("streamid"), "{sdp}");
        assert!(sdp.contains("sprop-parameter-sets=Z0LAHtkBQfsBEAAAAwAQAAADAyDxYuSA,aMuMsg=="));
        let back = StreamDescription::from_sdp(sdp.as_bytes()).unwrap();
        assert_eq!(back.tracks.len(), 2);
        assert_eq!(back.tracks[0].fmtp, d.tracks[0].fmtp);
    }

    #[test]
    fn rejects_sdp_without_media() {
        let e = StreamDescription::from_sdp(b"v=0\r\ns=x\r\n").unwrap_err();
        assert_eq!(e, DescriptionError::NoTracks);
    }
}
