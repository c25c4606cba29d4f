//! Helpers shared by the MPEG-TS and fMP4 tests: sample files, stream descriptions, access
//! unit splitting, and running ffprobe.

use crate::codec::annexb::split_annexb;
use crate::codec::{h264, h265};
use crate::media::{StreamDescription, Unit};
use bytes::Bytes;
use smallvec::SmallVec;
use std::path::PathBuf;
use std::process::Command;

/// Reads a file of `core/tests/data/media/`.
pub(crate) fn media(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/media/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// One media section of a test description: kind ("video"/"audio"), rtpmap encoding
/// ("H264/90000"), fmtp value.
pub(crate) struct TestTrack<'a> {
    pub kind: &'a str,
    pub rtpmap: &'a str,
    pub fmtp: Option<String>,
}

/// A stream description with the given tracks (payload types 96, 97…).
pub(crate) fn description(tracks: &[TestTrack<'_>]) -> StreamDescription {
    let mut sdp = String::from("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n");
    for (i, t) in tracks.iter().enumerate() {
        let pt = 96 + i;
        sdp += &format!(
            "m={} 0 RTP/AVP {pt}\r\na=rtpmap:{pt} {}\r\n",
            t.kind, t.rtpmap
        );
        if let Some(f) = &t.fmtp {
            sdp += &format!("a=fmtp:{pt} {f}\r\n");
        }
        sdp += &format!("a=control:trackID={i}\r\n");
    }
    StreamDescription::from_sdp(sdp.as_bytes()).expect("test SDP parses")
}

/// The NAL units of an Annex-B sample file.
pub(crate) fn annexb_nalus(name: &str) -> Vec<Bytes> {
    let data = media(name);
    split_annexb(&data).map(Bytes::copy_from_slice).collect()
}

/// The first NAL unit of `nalus` whose type (per `h265`) is `t`.
pub(crate) fn find_nalu(nalus: &[Bytes], h265: bool, t: u8) -> Option<Bytes> {
    nalus
        .iter()
        .find(|n| {
            if h265 {
                h265::nalu_type(n) == t
            } else {
                h264::nalu_type(n) == t
            }
        })
        .cloned()
}

/// The fmtp of an H.264 track whose parameter sets are those of `nalus`.
pub(crate) fn h264_fmtp(nalus: &[Bytes]) -> String {
    h264::H264Params {
        sps: find_nalu(nalus, false, h264::NAL_SPS),
        pps: find_nalu(nalus, false, h264::NAL_PPS),
        packetization_mode: 1,
        profile_level_id: None,
    }
    .to_fmtp()
}

/// The fmtp of an H.265 track whose parameter sets are those of `nalus`.
pub(crate) fn h265_fmtp(nalus: &[Bytes]) -> String {
    h265::H265Params {
        vps: find_nalu(nalus, true, h265::NAL_VPS),
        sps: find_nalu(nalus, true, h265::NAL_SPS),
        pps: find_nalu(nalus, true, h265::NAL_PPS),
        max_don_diff: 0,
    }
    .to_fmtp()
}

/// Groups NAL units (decoding order) into access units: a new unit starts at a delimiter,
/// parameter set or prefix SEI, or at the first slice of a picture, once the current unit has
/// a picture.
pub(crate) fn access_units(nalus: &[Bytes], h265: bool) -> Vec<Vec<Bytes>> {
    let mut units: Vec<Vec<Bytes>> = Vec::new();
    let mut current: Vec<Bytes> = Vec::new();
    let mut has_vcl = false;
    for n in nalus {
        let (vcl, first_slice, prefix) = if h265 {
            let t = h265::nalu_type(n);
            let vcl = t < 32;
            let first = vcl && n.get(2).is_some_and(|b| b & 0x80 != 0);
            (vcl, first, matches!(t, 32..=35 | 39))
        } else {
            let t = h264::nalu_type(n);
            let vcl = (1..=5).contains(&t);
            let first = vcl && n.get(1).is_some_and(|b| b & 0x80 != 0);
            (vcl, first, matches!(t, 6..=9))
        };
        if has_vcl && (prefix || first_slice) {
            units.push(std::mem::take(&mut current));
            has_vcl = false;
        }
        has_vcl |= vcl;
        current.push(n.clone());
    }
    if !current.is_empty() {
        units.push(current);
    }
    units
}

/// Display index of each access unit of hevc.265 in decoding order (the same table the H.265
/// DTS tests use, from ffprobe's frame order).
pub(crate) const HEVC_DISPLAY_ORDER: [i64; 50] = [
    0, 3, 2, 1, 8, 6, 4, 5, 7, 11, 10, 9, 14, 13, 12, 16, 15, 17, 22, 20, 18, 19, 21, 24, 23, 25,
    30, 28, 26, 27, 29, 35, 33, 31, 32, 34, 40, 38, 36, 37, 39, 44, 42, 41, 43, 49, 47, 45, 46, 48,
];

/// A unit of `track` with the given timing and pieces (no RTP packets).
pub(crate) fn unit(track: usize, pts: i64, dts: i64, key: bool, payload: &[Bytes]) -> Unit {
    Unit {
        track,
        pts,
        dts,
        key,
        payload: payload.iter().cloned().collect::<SmallVec<[Bytes; 4]>>(),
        rtp: SmallVec::new(),
    }
}

/// A path in the temporary directory unique to this process and `name`.
pub(crate) fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("weir-{}-{name}", std::process::id()))
}

/// One packet as `ffprobe -show_packets` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProbedPacket {
    pub stream: usize,
    pub codec_type: String,
    pub pts: Option<i64>,
    pub dts: Option<i64>,
    pub duration: Option<i64>,
    pub key: bool,
    pub size: usize,
}

/// Runs ffprobe with `args` on `path` and returns its standard output; fails (never skips)
/// when ffprobe is missing.
pub(crate) fn ffprobe(path: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(args)
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("running ffprobe failed ({e}): install FFmpeg (apt-get install ffmpeg)")
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "ffprobe failed on {}: {stderr}",
        path.display()
    );
    String::from_utf8(out.stdout).expect("ffprobe writes UTF-8")
}

/// The packets of a file per ffprobe, in file order, and whatever ffprobe printed on stderr.
pub(crate) fn probe_packets(path: &std::path::Path) -> Vec<ProbedPacket> {
    let text = ffprobe(
        path,
        &[
            "-show_entries",
            "packet=stream_index,codec_type,pts,dts,duration,flags,size",
            "-of",
            "csv=p=0:nk=0",
            "-show_packets",
        ],
    );
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut p = ProbedPacket {
                stream: 0,
                codec_type: String::new(),
                pts: None,
                dts: None,
                duration: None,
                key: false,
                size: 0,
            };
            for field in line.split(',') {
                let (k, v) = field.split_once('=').unwrap_or((field, ""));
                match k {
                    "codec_type" => p.codec_type = v.to_owned(),
                    "stream_index" => p.stream = v.parse().unwrap_or(0),
                    "pts" => p.pts = v.parse().ok(),
                    "dts" => p.dts = v.parse().ok(),
                    "duration" => p.duration = v.parse().ok(),
                    "size" => p.size = v.parse().unwrap_or(0),
                    "flags" => p.key = v.starts_with('K'),
                    _ => {}
                }
            }
            p
        })
        .collect()
}

/// The codec names of a file's streams per ffprobe, in stream order.
pub(crate) fn probe_codecs(path: &std::path::Path) -> Vec<String> {
    let text = ffprobe(
        path,
        &["-show_entries", "stream=index,codec_name", "-of", "csv=p=0"],
    );
    // ffprobe lists the streams once per program and once more on their own.
    let mut streams: Vec<(usize, String)> = text
        .lines()
        .filter_map(|l| {
            let (i, name) = l.trim().split_once(',')?;
            Some((i.parse().ok()?, name.to_owned()))
        })
        .collect();
    streams.sort();
    streams.dedup();
    streams.into_iter().map(|(_, name)| name).collect()
}

/// What `ffmpeg -v error` prints while decoding every stream of the file (empty when clean);
/// fails (never skips) when ffmpeg is missing.
pub(crate) fn decode_errors(path: &std::path::Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap_or_else(|e| {
            panic!("running ffmpeg failed ({e}): install FFmpeg (apt-get install ffmpeg)")
        });
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        text.push_str("(ffmpeg failed)");
    }
    text
}

/// Removes a test output file, unless `WEIR_KEEP_TEST_FILES` is set (to inspect it).
pub(crate) fn remove_test_file(path: &std::path::Path) {
    if std::env::var_os("WEIR_KEEP_TEST_FILES").is_none() {
        let _ = std::fs::remove_file(path);
    }
}
