//! One test per camera: SDP captured from real devices (retina's test data, see
//! `tests/data/retina/SOURCES.md`).

use super::{parse, Media, Sdp};

macro_rules! retina {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/retina/",
            $name
        ))
    };
}

/// The body of an RTSP response transcript: everything after the first blank line.
fn body(transcript: &[u8]) -> &[u8] {
    let crlf = transcript
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4);
    let lf = transcript
        .windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| i + 2);
    let start = match (crlf, lf) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(transcript.len()),
    };
    &transcript[start..]
}

/// Parses `input` and checks that writing and parsing again gives the same description.
fn parse_checked(input: &[u8]) -> Sdp {
    let sdp = parse(input).unwrap();
    assert_eq!(parse(sdp.to_string().as_bytes()).unwrap(), sdp);
    sdp
}

/// Asserts one track: media kind, rtpmap encoding and clock rate, control, whether fmtp is present.
fn track(m: &Media, kind: &str, encoding: &str, clock_rate: u32, control: &str, fmtp: bool) {
    assert_eq!(m.kind, kind);
    let map = m.rtpmap().unwrap();
    assert_eq!(map.encoding, encoding);
    assert_eq!(map.clock_rate, clock_rate);
    assert_eq!(m.control(), Some(control));
    assert_eq!(m.fmtp().is_some(), fmtp, "fmtp of {kind} {encoding}");
}

#[test]
fn anpviz() {
    // No final line end; audio on static PT 0 with an explicit (non-PCMU) rtpmap.
    let sdp = parse_checked(retina!("client_anpviz_sdp.txt"));
    assert_eq!(sdp.control(), Some("*"));
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H264", 90000, "trackID=1", true);
    track(
        &sdp.media[1],
        "audio",
        "MPEG4-GENERIC",
        16000,
        "trackID=2",
        true,
    );
    assert_eq!(sdp.media[1].rtpmap().unwrap().channels, Some(2));
    assert_eq!(sdp.media[1].fmtp(), Some("config=1408"));
    assert_eq!(sdp.media[0].attribute("x-dimensions"), Some("704, 576"));
    assert_eq!(sdp.media[1].attribute("appversion"), Some("1.0"));
}

#[test]
fn geovision() {
    let sdp = parse_checked(retina!("client_geovision_sdp.txt"));
    assert_eq!(sdp.timing, None);
    assert_eq!(sdp.media.len(), 2);
    track(
        &sdp.media[0],
        "video",
        "H264",
        90000,
        "rtsp://192.168.5.237/media/video1/video",
        true,
    );
    assert_eq!(sdp.media[0].payload_type(), Some(105));
    assert!(sdp.media[0].is_recvonly());
    track(
        &sdp.media[1],
        "application",
        "vnd.onvif.metadata",
        90000,
        "rtsp://192.168.5.237/media/video1/metadata",
        true,
    );
    assert_eq!(sdp.media[1].fmtp(), Some("DecoderTag=h3c-v3 RTCP=0"));
    assert_eq!(
        sdp.media[1].connection.as_deref(),
        Some("IN IP4 192.168.5.237")
    );
}

#[test]
fn tplink() {
    let sdp = parse_checked(retina!("client_tplink_sdp.txt"));
    assert_eq!(sdp.media.len(), 3);
    track(&sdp.media[0], "video", "H265", 90000, "track1", true);
    assert_eq!(sdp.media[0].bandwidth, ["AS:4096"]);
    track(&sdp.media[1], "audio", "PCMA", 8000, "track2", false);
    assert_eq!(sdp.media[1].rtpmap().unwrap().channels, None);
    // A non-numeric format: no payload type, but the rtpmap is still reachable.
    let app = &sdp.media[2];
    assert_eq!(app.kind, "application/TP-LINK");
    assert_eq!(app.formats, ["smart/1/90000"]);
    assert_eq!(app.payload_type(), None);
    assert_eq!(app.rtpmap(), None);
    assert_eq!(app.rtpmap_for(95).unwrap().encoding, "TP-LINK");
    assert_eq!(app.control(), Some("track3"));
}

#[test]
fn ubiquiti() {
    let sdp = parse_checked(retina!("client_ubiquiti_sdp.txt"));
    assert_eq!(sdp.control(), Some("*"));
    assert_eq!(sdp.attribute("recvonly"), Some(""));
    assert_eq!(sdp.media.len(), 3);
    track(
        &sdp.media[0],
        "audio",
        "mpeg4-generic",
        48000,
        "trackID=0",
        true,
    );
    track(&sdp.media[1], "audio", "opus", 48000, "trackID=1", true);
    assert_eq!(sdp.media[1].fmtp(), Some(""));
    track(&sdp.media[2], "video", "H264", 90000, "trackID=2", true);
    assert_eq!(super::fmtp_params(sdp.media[0].fmtp().unwrap()).count(), 7);
}

#[test]
fn anjvision() {
    let sdp = parse_checked(body(retina!("client_anjvision_describe.txt")));
    assert_eq!(sdp.media.len(), 1);
    track(&sdp.media[0], "video", "H265", 90000, "trackID=1", true);
}

#[test]
fn bunny() {
    let sdp = parse_checked(body(retina!("client_bunny_describe.txt")));
    assert_eq!(sdp.session_name, "BigBuckBunny_115k.mov");
    assert_eq!(sdp.media.len(), 2);
    track(
        &sdp.media[0],
        "audio",
        "mpeg4-generic",
        12000,
        "trackID=1",
        true,
    );
    track(&sdp.media[1], "video", "H264", 90000, "trackID=2", true);
    assert_eq!(sdp.media[1].attribute("framesize"), Some("97 240-160"));
}

#[test]
fn dahua_h264_aac_onvif() {
    let sdp = parse_checked(body(retina!("client_dahua_describe_h264_aac_onvif.txt")));
    assert_eq!(sdp.media.len(), 3);
    track(&sdp.media[0], "video", "H264", 90000, "trackID=0", true);
    track(
        &sdp.media[1],
        "audio",
        "MPEG4-GENERIC",
        48000,
        "trackID=1",
        true,
    );
    assert_eq!(sdp.media[1].rtpmap().unwrap().channels, None);
    track(
        &sdp.media[2],
        "application",
        "vnd.onvif.metadata",
        90000,
        "trackID=4",
        false,
    );
}

#[test]
fn dahua_h265_pcma() {
    let sdp = parse_checked(body(retina!("client_dahua_describe_h265_pcma.txt")));
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H265", 90000, "trackID=0", true);
    track(&sdp.media[1], "audio", "PCMA", 8000, "trackID=1", false);
}

#[test]
fn foscam() {
    // Audio on static PT 0 with no rtpmap: the RFC 3551 default applies.
    let sdp = parse_checked(body(retina!("client_foscam_describe.txt")));
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H264", 90000, "track1", true);
    track(&sdp.media[1], "audio", "PCMU", 8000, "track2", false);
    assert_eq!(sdp.media[1].rtpmap().unwrap().channels, Some(1));
    assert_eq!(sdp.media[1].bandwidth, ["AS:64"]);
}

#[test]
fn gw_main() {
    // PT 8 mapped to "PCMU": kept as written.
    let sdp = parse_checked(body(retina!("client_gw_main_describe.txt")));
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H264", 90000, "video", true);
    track(&sdp.media[1], "audio", "PCMU", 8000, "audio", true);
    assert_eq!(sdp.media[1].fmtp(), Some("vad=no"));
}

#[test]
fn gw_sub() {
    let sdp = parse_checked(body(retina!("client_gw_sub_describe.txt")));
    assert_eq!(sdp.media.len(), 1);
    track(&sdp.media[0], "video", "H264", 90000, "video", true);
}

#[test]
fn h264dvr() {
    // Trailing space after the rtpmap; audio with no rtpmap on static PT 8.
    let sdp = parse_checked(body(retina!("client_h264dvr_describe.txt")));
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H264", 90000, "trackID=3", true);
    track(&sdp.media[1], "audio", "PCMA", 8000, "trackID=4", false);
}

#[test]
fn hikvision() {
    let sdp = parse_checked(body(retina!("client_hikvision_describe.txt")));
    assert_eq!(sdp.bandwidth, ["AS:5050"]);
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H264", 90000,
        "rtsp://192.168.5.106:554/Streaming/Channels/101/trackID=1?transportmode=unicast&profile=Profile_1",
        true);
    track(&sdp.media[1], "application", "vnd.onvif.metadata", 90000,
        "rtsp://192.168.5.106:554/Streaming/Channels/101/trackID=3?transportmode=unicast&profile=Profile_1",
        false);
}

#[test]
fn ipcam() {
    let sdp = parse_checked(body(retina!("client_ipcam_describe.txt")));
    assert_eq!(sdp.media.len(), 1);
    track(&sdp.media[0], "video", "H264", 90000, "trackID=1", true);
}

#[test]
fn macrovideo() {
    // No o= line; the session c= line comes after the session attributes.
    let sdp = parse_checked(body(retina!("client_macrovideo_describe.txt")));
    assert_eq!(sdp.origin, None);
    assert_eq!(sdp.connection.as_deref(), Some("IN IP4 0.0.0.0"));
    assert_eq!(sdp.media.len(), 1);
    track(&sdp.media[0], "video", "H264", 90000, "track1", true);
}

#[test]
fn missing_content_type() {
    let sdp = parse_checked(body(retina!("client_missing_content_type_describe.txt")));
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H264", 90000, "streamid=0", true);
    track(
        &sdp.media[1],
        "audio",
        "MPEG4-GENERIC",
        48000,
        "streamid=1",
        true,
    );
}

#[test]
fn reolink() {
    let sdp = parse_checked(body(retina!("client_reolink_describe.txt")));
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H264", 90000, "trackID=1", true);
    track(
        &sdp.media[1],
        "audio",
        "MPEG4-GENERIC",
        16000,
        "trackID=2",
        true,
    );
}

#[test]
fn reolink_control_first() {
    let sdp = parse_checked(body(retina!("client_reolink_describe_control_first.txt")));
    assert_eq!(sdp.control(), Some("*"));
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H264", 90000, "trackID=1", true);
    track(
        &sdp.media[1],
        "audio",
        "MPEG4-GENERIC",
        16000,
        "trackID=2",
        true,
    );
}

#[test]
fn vstarcam() {
    // A tab and space after the m= formats, and a trailing blank line.
    let sdp = parse_checked(body(retina!("client_vstarcam_describe.txt")));
    assert_eq!(sdp.media.len(), 2);
    track(&sdp.media[0], "video", "H264", 90000, "track0", true);
    track(&sdp.media[1], "audio", "PCMA", 8000, "track1", false);
    assert_eq!(sdp.media[1].formats, ["8"]);
    assert_eq!(sdp.media[1].rtpmap().unwrap().channels, Some(1));
}
