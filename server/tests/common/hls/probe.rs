//! ffprobe of downloaded segments and parts with times in seconds ([`TimedPacket`]), and the
//! checks a segment or part must pass ([`check_media`], [`dts_problems`]).

use std::collections::HashMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::super::process::{require_tool, run_with_timeout, TempDir};

const FFMPEG_HINT: &str = "apt-get install ffmpeg";

/// One packet from `ffprobe -show_packets`, times in seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedPacket {
    /// The stream index.
    pub stream_index: usize,
    /// `video` or `audio`.
    pub codec_type: String,
    /// pts_time.
    pub pts: Option<f64>,
    /// dts_time.
    pub dts: Option<f64>,
    /// duration_time.
    pub duration: Option<f64>,
    /// Size in bytes.
    pub size: usize,
    /// Key frame flag.
    pub key: bool,
}

/// The packets ffprobe reads from the file `file` (whole file); `Err` with ffprobe's stderr
/// when it lists none.
pub fn probe_file_packets(file: &Path) -> Result<Vec<TimedPacket>, String> {
    require_tool("ffprobe", FFMPEG_HINT);
    let out = run_with_timeout(
        "ffprobe-segment",
        Command::new("ffprobe")
            .args(["-hide_banner", "-loglevel", "error", "-show_entries"])
            .arg("packet=stream_index,codec_type,pts_time,dts_time,duration_time,size,flags")
            .args(["-of", "compact=p=0"])
            .arg(file),
        Duration::from_secs(30),
    );
    let packets = parse_timed_packets(&String::from_utf8_lossy(&out.stdout));
    if packets.is_empty() {
        return Err(format!(
            "ffprobe listed no packet in {} ({} bytes): {}",
            file.display(),
            fs::metadata(file).map(|m| m.len()).unwrap_or(0),
            out.stderr.trim()
        ));
    }
    Ok(packets)
}

/// Writes the concatenation of `chunks` to a file in `dir` and probes it.
pub fn probe_bytes(
    dir: &TempDir,
    name: &str,
    chunks: &[&[u8]],
) -> Result<Vec<TimedPacket>, String> {
    let file = dir.file(name);
    fs::write(&file, chunks.concat()).map_err(|e| format!("write {}: {e}", file.display()))?;
    probe_file_packets(&file)
}

/// Parses `compact=p=0` lines of packets with `*_time` fields.
pub fn parse_timed_packets(text: &str) -> Vec<TimedPacket> {
    text.lines()
        .filter(|l| l.contains("codec_type="))
        .map(|line| {
            let fields: HashMap<&str, &str> = line
                .split('|')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            let f = |k: &str| fields.get(k).and_then(|v| v.parse::<f64>().ok());
            TimedPacket {
                stream_index: fields
                    .get("stream_index")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(usize::MAX),
                codec_type: fields.get("codec_type").unwrap_or(&"").to_string(),
                pts: f("pts_time"),
                dts: f("dts_time"),
                duration: f("duration_time"),
                size: fields.get("size").and_then(|v| v.parse().ok()).unwrap_or(0),
                key: fields.get("flags").is_some_and(|v| v.contains('K')),
            }
        })
        .collect()
}

/// The packets of one kind (`video` / `audio`), in file (decode) order.
pub fn of_kind<'a>(packets: &'a [TimedPacket], kind: &str) -> Vec<&'a TimedPacket> {
    packets.iter().filter(|p| p.codec_type == kind).collect()
}

/// How long the packets last: from the first DTS to the last DTS plus the last packet's
/// duration (the median DTS step when ffprobe gives none), i.e. the sum of their durations
/// when they are contiguous. `None` without DTS.
pub fn media_duration(packets: &[&TimedPacket]) -> Option<f64> {
    let dts: Vec<f64> = packets.iter().filter_map(|p| p.dts).collect();
    let (first, last) = (*dts.first()?, *dts.last()?);
    let mut steps: Vec<f64> = dts.windows(2).map(|w| w[1] - w[0]).collect();
    steps.sort_by(|a, b| a.total_cmp(b));
    let median = steps.get(steps.len() / 2).copied().unwrap_or(0.0);
    let tail = packets
        .last()
        .and_then(|p| p.duration)
        .filter(|d| *d > 0.0)
        .unwrap_or(median);
    Some(last - first + tail)
}

/// Problems with one downloaded segment or part (`label` names it): it must hold video whose
/// first packet is a key frame when `starts_with_key`, every packet must have a DTS, DTS must
/// increase per stream, audio must be present when `want_audio`, and the video must last
/// `expected` seconds within `tolerance` (see [`media_duration`]).
pub fn check_media(
    label: &str,
    packets: &[TimedPacket],
    expected: f64,
    tolerance: f64,
    starts_with_key: bool,
    want_audio: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let video = of_kind(packets, "video");
    let audio = of_kind(packets, "audio");
    if video.is_empty() {
        problems.push(format!("{label}: no video packet"));
        return problems;
    }
    if starts_with_key && !video[0].key {
        problems.push(format!(
            "{label}: first video packet is not a key frame: {:?}",
            video[0]
        ));
    }
    if want_audio && audio.is_empty() {
        problems.push(format!("{label}: no audio packet"));
    }
    problems.extend(dts_problems(label, packets));
    match media_duration(&video) {
        Some(d) if (d - expected).abs() <= tolerance => {}
        Some(d) => problems.push(format!(
            "{label}: video lasts {d:.4} s, the playlist says {expected:.4} s (tolerance {tolerance} s)"
        )),
        None => problems.push(format!("{label}: no video DTS")),
    }
    problems
}

/// Problems with DTS in `packets` (in order): missing, or not strictly increasing per stream.
pub fn dts_problems(label: &str, packets: &[TimedPacket]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut last: HashMap<usize, f64> = HashMap::new();
    for (i, p) in packets.iter().enumerate() {
        let Some(dts) = p.dts else {
            problems.push(format!("{label}: packet {i} has no DTS: {p:?}"));
            continue;
        };
        if let Some(prev) = last.insert(p.stream_index, dts) {
            if dts <= prev {
                problems.push(format!(
                    "{label}: {} DTS not increasing at packet {i}: {prev} then {dts}",
                    p.codec_type
                ));
            }
        }
    }
    problems
}
