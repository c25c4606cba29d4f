//! Media fixtures, publishers and readers built on ffmpeg/ffprobe/GStreamer, and
//! the frame-exact comparison of what a reader decoded against the source clip.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use super::process::{
    command_with_prefix, require_gst_element, require_tool, run_with_timeout, ChildGuard, TempDir,
};

/// Frames per GOP in every fixture (a key frame every second at 25 fps).
pub const GOP: usize = 25;

const FFMPEG_HINT: &str = "apt-get install ffmpeg";
const GST_HINT: &str = "apt-get install gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
                        gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp";

/// A deterministic test clip: `testsrc` 320x240@25 (every frame unique) + 440 Hz sine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fixture {
    /// 8 s H264 constrained baseline (no B-frames) + AAC, mp4.
    H264Aac,
    /// 8 s H264 main with 2 B-frames (closed GOP) + AAC, mp4.
    H264BFramesAac,
    /// 8 s H265 (no B-frames) + AAC, mp4.
    H265Aac,
    /// 8 s H264 baseline + Opus, mkv.
    H264Opus,
    /// 30 s H264 baseline + AAC, mp4: for the GStreamer publisher, which does not loop.
    H264AacLong,
}

impl Fixture {
    fn file_name(self) -> &'static str {
        match self {
            Fixture::H264Aac => "h264_aac_8s.mp4",
            Fixture::H264BFramesAac => "h264main_bf2_aac_8s.mp4",
            Fixture::H265Aac => "h265_aac_8s.mp4",
            Fixture::H264Opus => "h264_opus_8s.mkv",
            Fixture::H264AacLong => "h264_aac_30s.mp4",
        }
    }

    fn seconds(self) -> u32 {
        if self == Fixture::H264AacLong {
            30
        } else {
            8
        }
    }

    /// The ffmpeg arguments that generate this fixture (output path excluded).
    pub fn ffmpeg_args(self) -> Vec<String> {
        let x264_baseline = "-c:v libx264 -profile:v baseline -bf 0 -pix_fmt yuv420p -threads 1";
        let video = match self {
            Fixture::H264Aac | Fixture::H264Opus | Fixture::H264AacLong => x264_baseline.to_string(),
            Fixture::H264BFramesAac => {
                "-c:v libx264 -profile:v main -bf 2 -x264-params open-gop=0 -pix_fmt yuv420p -threads 1".to_string()
            }
            Fixture::H265Aac => "-c:v libx265 -pix_fmt yuv420p -x265-params \
                 keyint=25:min-keyint=25:scenecut=0:bframes=0:frame-threads=1:pools=none:log-level=error"
                .to_string(),
        };
        let audio = match self {
            Fixture::H264Opus => "-c:a libopus -b:a 64k",
            _ => "-c:a aac -b:a 64k",
        };
        let line = format!(
            "-hide_banner -nostdin -loglevel error -y \
             -f lavfi -i testsrc=size=320x240:rate=25 \
             -f lavfi -i sine=frequency=440:sample_rate=48000 \
             -t {secs} -map 0:v:0 -map 1:a:0 \
             {video} -g {GOP} -keyint_min {GOP} -sc_threshold 0 {audio} \
             -fflags +bitexact -flags:v +bitexact -flags:a +bitexact",
            secs = self.seconds()
        );
        line.split_whitespace().map(String::from).collect()
    }

    /// The fixture's path, generating it (once, under a lock) if needed.
    pub fn path(self) -> PathBuf {
        fixture(self)
    }
}

/// `target/test-fixtures/`, where generated clips are cached between runs.
pub fn fixtures_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("test-fixtures")
}

/// Returns the path of fixture `f`, generating it with ffmpeg on first use.
///
/// Generation is serialised by a lock (parallel tests in one binary) and written to a
/// temporary name then renamed (other test binaries), and the file name carries a
/// hash of the arguments so a changed recipe regenerates.
pub fn fixture(f: Fixture) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    require_tool("ffmpeg", FFMPEG_HINT);
    let args = f.ffmpeg_args();
    let dir = fixtures_dir();
    fs::create_dir_all(&dir).expect("create fixtures dir");
    let path = dir.join(format!("{:016x}-{}", fnv1a(&args.join(" ")), f.file_name()));
    if path.is_file() {
        return path;
    }
    let tmp = dir.join(format!("tmp-{}-{}", std::process::id(), f.file_name()));
    let out = run_with_timeout(
        "ffmpeg-fixture",
        Command::new("ffmpeg").args(&args).arg(&tmp),
        Duration::from_secs(300),
    );
    if out.status.map(|s| s.success()) != Some(true) || !tmp.is_file() {
        let _ = fs::remove_file(&tmp);
        panic!(
            "generating fixture {f:?} failed: ffmpeg {}\n{}",
            args.join(" "),
            out.stderr
        );
    }
    fs::rename(&tmp, &path).expect("rename fixture");
    path
}

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Decoded video frame MD5s of a media file, in presentation order (cached per path).
pub fn source_framemd5(fixture: &Path) -> Vec<String> {
    static CACHE: Mutex<Option<HashMap<PathBuf, Vec<String>>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(v) = cache.get_or_insert_with(HashMap::new).get(fixture) {
        return v.clone();
    }
    let hashes = file_framemd5(fixture);
    assert!(
        !hashes.is_empty(),
        "no decodable frame in {}",
        fixture.display()
    );
    cache
        .get_or_insert_with(HashMap::new)
        .insert(fixture.to_path_buf(), hashes.clone());
    hashes
}

/// Decodes the first video stream of any file ffmpeg reads and returns per-frame MD5s.
pub fn file_framemd5(file: &Path) -> Vec<String> {
    let out = run_with_timeout(
        "ffmpeg-framemd5",
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-i"])
            .arg(file)
            .args([
                "-map",
                "0:v:0",
                "-fps_mode",
                "passthrough",
                "-f",
                "framemd5",
                "-",
            ]),
        Duration::from_secs(120),
    );
    if out.status.map(|s| s.success()) != Some(true) {
        eprintln!(
            "[harness] framemd5 of {} failed:\n{}",
            file.display(),
            out.stderr
        );
    }
    parse_framemd5(&String::from_utf8_lossy(&out.stdout))
}

/// Keeps the hash column of `framemd5` output (lines `stream, dts, pts, duration, size, hash`).
pub fn parse_framemd5(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_string()))
        .filter(|h| h.len() == 32)
        .collect()
}

/// Where `got` sits in the cyclic `source`: the source index of `got[0]`, or why it does not.
///
/// `got` matches iff there is an offset `s` in `0..source.len()` such that for every
/// `i` in `0..got.len()`: `got[i] == source[(s + i) % source.len()]`. (The source is
/// cyclic because publishers loop it with `-stream_loop -1`.) Every candidate `s`
/// with `source[s] == got[0]` is tried; the error describes the candidate that matched
/// longest: the first diverging index, the hash expected there, and where (if
/// anywhere) the hash received there occurs in the source (a skip, repeat or corruption).
pub fn contiguous_run_start(got: &[String], source: &[String]) -> Result<usize, String> {
    let n = source.len();
    assert!(n > 0, "empty source");
    let Some(first) = got.first() else {
        return Err("no frame received".into());
    };
    let mut best: Option<(usize, usize)> = None; // (start, matched length)
    for s in (0..n).filter(|&s| &source[s] == first) {
        let len = got
            .iter()
            .enumerate()
            .take_while(|(i, h)| **h == source[(s + i) % n])
            .count();
        if len == got.len() {
            return Ok(s);
        }
        if best.is_none_or(|(_, l)| len > l) {
            best = Some((s, len));
        }
    }
    let Some((s, len)) = best else {
        return Err(format!(
            "first received frame {first} is not a source frame (corrupt, or decoded from a non-key start); \
             received {} frames",
            got.len()
        ));
    };
    let at = &got[len];
    let found: Vec<usize> = (0..n).filter(|&j| &source[j] == at).collect();
    Err(format!(
        "received frames 0..{len} equal source frames {s}.. (cyclic, {n} frames), but received frame {len} \
         is {at} where source frame {} ({}) was expected; that hash is at source index {found:?} \
         (empty = not a source frame); received {} frames in all",
        (s + len) % n,
        source[(s + len) % n],
        got.len()
    ))
}

/// Asserts `got` is a contiguous run (see [`contiguous_run_start`]) of at least
/// `min_frames` frames of the cyclic `source`; returns the source index of `got[0]`.
pub fn assert_contiguous_run(got: &[String], source: &[String], min_frames: usize) -> usize {
    assert!(
        got.len() >= min_frames,
        "reader decoded {} frames, expected at least {min_frames}",
        got.len()
    );
    match contiguous_run_start(got, source) {
        Ok(start) => start,
        Err(why) => panic!("decoded frames are not a contiguous run of the source: {why}"),
    }
}

/// Stream time after which a looping ffmpeg publisher stops by itself: a safety net
/// for publishers orphaned by a test binary killed before its guards could run.
pub const PUBLISH_LIMIT_SECS: &str = "300";

/// `ffmpeg -re -stream_loop -1 -i F -c copy -t 300 -f rtsp -rtsp_transport T URL`, killed on drop.
pub fn ffmpeg_publish(fixture: &Path, url: &str, transport: &str) -> ChildGuard {
    ffmpeg_publish_in(&[], fixture, url, transport)
}

/// [`ffmpeg_publish`] under a command prefix (e.g. [`super::NetNs::prefix`]).
pub fn ffmpeg_publish_in(
    prefix: &[String],
    fixture: &Path,
    url: &str,
    transport: &str,
) -> ChildGuard {
    require_tool("ffmpeg", FFMPEG_HINT);
    let mut cmd = command_with_prefix(prefix, "ffmpeg");
    cmd.args([
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "warning",
        "-re",
        "-stream_loop",
        "-1",
        "-i",
    ])
    .arg(fixture)
    .args([
        "-map",
        "0",
        "-c",
        "copy",
        "-t",
        PUBLISH_LIMIT_SECS,
        "-f",
        "rtsp",
        "-rtsp_transport",
        transport,
        url,
    ]);
    ChildGuard::spawn(&format!("ffmpeg-publish-{transport}"), &mut cmd, None)
}

/// Publishes an mp4 (H264 + AAC) once, in real time, with GStreamer's `rtspclientsink`
/// (`protocols`: `tcp`, `udp`, ...). Use [`Fixture::H264AacLong`]: it does not loop.
pub fn gst_publish(fixture: &Path, url: &str, protocols: &str) -> ChildGuard {
    require_gst_element("rtspclientsink", GST_HINT);
    require_gst_element("qtdemux", GST_HINT);
    let pipeline = format!(
        "rtspclientsink name=s location={url} protocols={protocols} latency=0 \
         filesrc location={file} ! qtdemux name=d \
         d.video_0 ! queue ! h264parse ! s.sink_0 \
         d.audio_0 ! queue ! aacparse ! s.sink_1",
        file = fixture.display()
    );
    let mut cmd = Command::new("gst-launch-1.0");
    cmd.arg("-q").args(pipeline.split_whitespace());
    ChildGuard::spawn(&format!("gst-publish-{protocols}"), &mut cmd, None)
}

/// A running `ffmpeg ... -f framemd5` RTSP reader; collect its hashes with [`FfmpegReader::collect`].
pub struct FfmpegReader {
    guard: ChildGuard,
    out: PathBuf,
    frames: usize,
    url: String,
}

impl FfmpegReader {
    /// Starts reading `frames` video frames of `url` (`transport`: tcp | udp | udp_multicast).
    pub fn spawn(url: &str, transport: &str, frames: usize) -> FfmpegReader {
        FfmpegReader::spawn_in(&[], url, transport, frames)
    }

    /// [`FfmpegReader::spawn`] under a command prefix (e.g. `ip netns exec NS`).
    pub fn spawn_in(prefix: &[String], url: &str, transport: &str, frames: usize) -> FfmpegReader {
        require_tool("ffmpeg", FFMPEG_HINT);
        let mut cmd = command_with_prefix(prefix, "ffmpeg");
        cmd.args([
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "warning",
            "-rtsp_transport",
            transport,
            "-i",
            url,
        ])
        .args([
            "-map",
            "0:v:0",
            "-frames:v",
            &frames.to_string(),
            "-fps_mode",
            "passthrough",
        ])
        .args(["-flush_packets", "1", "-f", "framemd5", "-y"]);
        let dir = TempDir::new(&format!("ffmpeg-read-{transport}"));
        let out = dir.file("frames.md5");
        cmd.arg(&out);
        let guard =
            ChildGuard::spawn_with_dir(dir, &format!("ffmpeg-read-{transport}"), &mut cmd, None);
        FfmpegReader {
            guard,
            out,
            frames,
            url: url.to_string(),
        }
    }

    /// Waits up to `timeout` for the reader to finish, kills it, and returns the hashes.
    pub fn collect(mut self, timeout: Duration) -> Vec<String> {
        if self.guard.wait_timeout(timeout).is_none() {
            eprintln!(
                "[harness] ffmpeg reader of {} still running after {timeout:?}: killed",
                self.url
            );
        }
        self.guard.kill();
        let hashes = parse_framemd5(&fs::read_to_string(&self.out).unwrap_or_default());
        if hashes.len() < self.frames {
            eprintln!(
                "[harness] ffmpeg reader of {} got {}/{} frames; its stderr:\n{}",
                self.url,
                hashes.len(),
                self.frames,
                self.guard.stderr_tail(30)
            );
        }
        hashes
    }
}

/// Reads `frames` video frames of `url` with ffmpeg and returns their MD5s (hard `timeout`).
pub fn ffmpeg_read_framemd5(
    url: &str,
    transport: &str,
    frames: usize,
    timeout: Duration,
) -> Vec<String> {
    FfmpegReader::spawn(url, transport, frames).collect(timeout)
}

/// [`ffmpeg_read_framemd5`] under a command prefix (e.g. `ip netns exec NS`).
pub fn ffmpeg_read_framemd5_in(
    prefix: &[String],
    url: &str,
    transport: &str,
    frames: usize,
    timeout: Duration,
) -> Vec<String> {
    FfmpegReader::spawn_in(prefix, url, transport, frames).collect(timeout)
}

/// Reads `frames` H264 frames of `url` with GStreamer's `rtspsrc` (`protocols`: tcp | udp),
/// writes the elementary stream to a file, then decodes it with ffmpeg into frame MD5s.
///
/// GStreamer has no framemd5: `rtspsrc ! rtph264depay ! h264parse ! byte-stream,au !
/// identity eos-after=N ! filesink` stops by itself after N frames; after `timeout`
/// it gets SIGINT (`-e` turns that into EOS), then SIGKILL. If it had to be killed
/// the last frame (possibly truncated) is dropped.
pub fn gst_read_framemd5(
    url: &str,
    protocols: &str,
    frames: usize,
    timeout: Duration,
) -> Vec<String> {
    require_gst_element("rtspsrc", GST_HINT);
    require_gst_element("rtph264depay", GST_HINT);
    require_tool("ffmpeg", FFMPEG_HINT);
    let dir = TempDir::new(&format!("gst-read-{protocols}"));
    let out = dir.file("capture.h264");
    let pipeline = format!(
        "rtspsrc location={url} protocols={protocols} latency=200 ! rtph264depay ! \
         h264parse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au ! \
         identity eos-after={frames} ! filesink location={}",
        out.display()
    );
    let mut cmd = Command::new("gst-launch-1.0");
    cmd.args(["-q", "-e"]).args(pipeline.split_whitespace());
    let mut guard =
        ChildGuard::spawn_with_dir(dir, &format!("gst-read-{protocols}"), &mut cmd, None);
    let mut killed = false;
    if guard.wait_timeout(timeout).is_none() {
        eprintln!("[harness] gst reader of {url} still running after {timeout:?}: SIGINT");
        guard.interrupt();
        if guard.wait_timeout(Duration::from_secs(5)).is_none() {
            killed = true;
            guard.kill();
        }
    }
    let size = fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let mut hashes = if size > 0 {
        file_framemd5(&out)
    } else {
        Vec::new()
    };
    if killed {
        hashes.pop();
    }
    if hashes.len() < frames {
        eprintln!(
            "[harness] gst reader of {url} got {}/{frames} frames ({size} bytes); its stderr:\n{}",
            hashes.len(),
            guard.stderr_tail(30)
        );
    }
    hashes
}

/// One packet as reported by `ffprobe -show_packets`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Index of the stream in the SDP.
    pub stream_index: usize,
    /// `video` or `audio`.
    pub codec_type: String,
    /// Presentation timestamp in the stream's time base (None if N/A).
    pub pts: Option<i64>,
    /// Decoding timestamp in the stream's time base (None if N/A).
    pub dts: Option<i64>,
    /// Payload size in bytes.
    pub size: usize,
    /// True when ffprobe flags the packet as a key frame.
    pub key: bool,
}

/// Lists the packets ffprobe reads from `url` during `seconds` of stream time
/// (`ffprobe -rtsp_transport T -read_intervals %+S -show_entries packet=...`).
pub fn ffprobe_packets(url: &str, transport: &str, seconds: u32) -> Vec<Packet> {
    require_tool("ffprobe", FFMPEG_HINT);
    let out = run_with_timeout(
        "ffprobe-packets",
        Command::new("ffprobe")
            .args([
                "-hide_banner",
                "-loglevel",
                "error",
                "-rtsp_transport",
                transport,
            ])
            .args(["-read_intervals", &format!("%+{seconds}")])
            .args([
                "-show_entries",
                "packet=codec_type,stream_index,pts,dts,size,flags",
            ])
            .args(["-of", "compact=p=0", url]),
        Duration::from_secs(u64::from(seconds) + 20),
    );
    let packets = parse_ffprobe_packets(&String::from_utf8_lossy(&out.stdout));
    if packets.is_empty() {
        eprintln!(
            "[harness] ffprobe of {url} listed no packet; its stderr:\n{}",
            out.stderr
        );
    }
    packets
}

/// Parses `compact=p=0` lines such as `codec_type=audio|stream_index=1|pts=1024|...`.
pub fn parse_ffprobe_packets(text: &str) -> Vec<Packet> {
    text.lines()
        .filter(|l| l.contains("codec_type="))
        .map(|line| {
            let fields: HashMap<&str, &str> = line
                .split('|')
                .filter_map(|kv| kv.split_once('='))
                .collect();
            let num = |k: &str| fields.get(k).and_then(|v| v.parse::<i64>().ok());
            Packet {
                stream_index: num("stream_index")
                    .unwrap_or(-1)
                    .try_into()
                    .unwrap_or(usize::MAX),
                codec_type: fields.get("codec_type").unwrap_or(&"").to_string(),
                pts: num("pts"),
                dts: num("dts"),
                size: num("size").unwrap_or(0).try_into().unwrap_or(0),
                key: fields.get("flags").is_some_and(|f| f.contains('K')),
            }
        })
        .collect()
}

/// Asserts ≥ `min_count` audio packets arrived and each audio stream's dts strictly increases.
pub fn assert_audio_packets(packets: &[Packet], min_count: usize) {
    let audio: Vec<&Packet> = packets.iter().filter(|p| p.codec_type == "audio").collect();
    assert!(
        audio.len() >= min_count,
        "expected at least {min_count} audio packets, got {} (of {} packets)",
        audio.len(),
        packets.len()
    );
    let mut last: HashMap<usize, i64> = HashMap::new();
    for (i, p) in audio.iter().enumerate() {
        let dts = p
            .dts
            .unwrap_or_else(|| panic!("audio packet {i} has no dts: {p:?}"));
        if let Some(prev) = last.insert(p.stream_index, dts) {
            assert!(
                dts > prev,
                "audio dts not increasing at audio packet {i}: {prev} then {dts} ({p:?})"
            );
        }
        assert!(p.size > 0, "empty audio packet {i}: {p:?}");
    }
}

// ---- RTMP publishers and readers (ffmpeg, GStreamer, VLC) ----

const VLC_HINT: &str = "apt-get install vlc-bin vlc-plugin-base";

/// `ffmpeg -re -stream_loop -1 -i F -map 0 -c copy -t 300 -f flv URL`: a looping RTMP
/// publisher (`url` = `rtmp://127.0.0.1:PORT/app/stream`), killed on drop.
pub fn ffmpeg_publish_rtmp(fixture: &Path, url: &str) -> ChildGuard {
    require_tool("ffmpeg", FFMPEG_HINT);
    let mut cmd = Command::new("ffmpeg");
    cmd.args([
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "warning",
        "-re",
        "-stream_loop",
        "-1",
        "-i",
    ])
    .arg(fixture)
    .args([
        "-map",
        "0",
        "-c",
        "copy",
        "-t",
        PUBLISH_LIMIT_SECS,
        "-f",
        "flv",
        url,
    ]);
    ChildGuard::spawn("ffmpeg-publish-rtmp", &mut cmd, None)
}

impl FfmpegReader {
    /// Starts reading `frames` video frames of a non-RTSP `url` (e.g. `rtmp://…`) into frame
    /// MD5s: like [`FfmpegReader::spawn`] without `-rtsp_transport`, which ffmpeg rejects
    /// for other inputs ("Option rtsp_transport not found").
    pub fn spawn_rtmp(url: &str, frames: usize) -> FfmpegReader {
        require_tool("ffmpeg", FFMPEG_HINT);
        let mut cmd = Command::new("ffmpeg");
        cmd.args([
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "warning",
            "-i",
            url,
        ])
        .args([
            "-map",
            "0:v:0",
            "-frames:v",
            &frames.to_string(),
            "-fps_mode",
            "passthrough",
        ])
        .args(["-flush_packets", "1", "-f", "framemd5", "-y"]);
        let dir = TempDir::new("ffmpeg-read-rtmp");
        let out = dir.file("frames.md5");
        cmd.arg(&out);
        let guard = ChildGuard::spawn_with_dir(dir, "ffmpeg-read-rtmp", &mut cmd, None);
        FfmpegReader {
            guard,
            out,
            frames,
            url: url.to_string(),
        }
    }
}

/// Reads `frames` video frames of an RTMP `url` with ffmpeg and returns their MD5s (hard `timeout`).
pub fn ffmpeg_read_rtmp_framemd5(url: &str, frames: usize, timeout: Duration) -> Vec<String> {
    FfmpegReader::spawn_rtmp(url, frames).collect(timeout)
}

/// Like [`ffprobe_packets`] for a non-RTSP input (an `rtmp://` URL or a file): the packets
/// of the first `seconds` of stream time (`None`: the whole input).
pub fn ffprobe_packets_input(input: &str, seconds: Option<u32>) -> Vec<Packet> {
    require_tool("ffprobe", FFMPEG_HINT);
    let mut cmd = Command::new("ffprobe");
    cmd.args(["-hide_banner", "-loglevel", "error"]);
    if let Some(s) = seconds {
        cmd.args(["-read_intervals", &format!("%+{s}")]);
    }
    cmd.args([
        "-show_entries",
        "packet=codec_type,stream_index,pts,dts,size,flags",
    ])
    .args(["-of", "compact=p=0", input]);
    let out = run_with_timeout(
        "ffprobe-packets",
        &mut cmd,
        Duration::from_secs(u64::from(seconds.unwrap_or(60)) + 20),
    );
    let packets = parse_ffprobe_packets(&String::from_utf8_lossy(&out.stdout));
    if packets.is_empty() {
        eprintln!(
            "[harness] ffprobe of {input} listed no packet; its stderr:\n{}",
            out.stderr
        );
    }
    packets
}

/// Reads `frames` H264 frames of an RTMP `url` with GStreamer's `rtmpsrc ! flvdemux`, writes
/// the elementary stream to a file, then decodes it with ffmpeg into frame MD5s.
///
/// `identity eos-after=N` ends the video branch after N access units in decode order. With
/// B-frames the last decoded frames of such a cut may be displaced (a P frame decoded before
/// the B frames displayed ahead of it, which were cut off), so the last 2 frames are dropped:
/// the rest must still be exact. With `has_audio`, flvdemux's
/// audio pad must be linked too (an unlinked first pad makes flvdemux fail "not-linked"), to
/// a branch that ends by itself after about twice as many audio packets (so the pipeline
/// reaches EOS once the video branch has): ending it sooner would end flvdemux while its
/// only pad is audio. After `timeout` the pipeline gets SIGINT (`-e`: EOS), then SIGKILL;
/// if it had to be killed one more frame (possibly truncated) is dropped.
pub fn gst_read_rtmp_framemd5(
    url: &str,
    frames: usize,
    has_audio: bool,
    timeout: Duration,
) -> Vec<String> {
    require_gst_element("rtmpsrc", GST_HINT);
    require_gst_element("flvdemux", GST_HINT);
    require_gst_element("h264parse", GST_HINT);
    require_tool("ffmpeg", FFMPEG_HINT);
    let dir = TempDir::new("gst-read-rtmp");
    let out = dir.file("capture.h264");
    let mut pipeline = format!(
        "rtmpsrc location={url} ! flvdemux name=d \
         d.video ! queue ! h264parse config-interval=-1 ! \
         video/x-h264,stream-format=byte-stream,alignment=au ! \
         identity eos-after={frames} ! filesink location={}",
        out.display()
    );
    if has_audio {
        pipeline.push_str(&format!(
            " d.audio ! queue ! identity eos-after={} ! fakesink",
            2 * frames + 50
        ));
    }
    let mut cmd = Command::new("gst-launch-1.0");
    cmd.args(["-q", "-e"]).args(pipeline.split_whitespace());
    let mut guard = ChildGuard::spawn_with_dir(dir, "gst-read-rtmp", &mut cmd, None);
    let mut killed = false;
    if guard.wait_timeout(timeout).is_none() {
        eprintln!("[harness] gst RTMP reader of {url} still running after {timeout:?}: SIGINT");
        guard.interrupt();
        if guard.wait_timeout(Duration::from_secs(5)).is_none() {
            killed = true;
            guard.kill();
        }
    }
    let size = fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let mut hashes = if size > 0 {
        file_framemd5(&out)
    } else {
        Vec::new()
    };
    hashes.truncate(hashes.len().saturating_sub(if killed { 3 } else { 2 }));
    if hashes.len() < frames.saturating_sub(3) {
        eprintln!(
            "[harness] gst RTMP reader of {url} got {}/{frames} frames ({size} bytes); its stderr:\n{}",
            hashes.len(),
            guard.stderr_tail(30)
        );
    }
    hashes
}

/// What VLC recorded: the decoded video frame MD5s and the packets of the recording.
#[derive(Clone, Debug, Default)]
pub struct VlcCapture {
    /// Frame MD5s of the recording's first video stream.
    pub frames: Vec<String>,
    /// Every packet of the recording (ffprobe).
    pub packets: Vec<Packet>,
    /// VLC's log (last lines), for failure messages.
    pub log_tail: String,
}

/// Plays `url` (e.g. `rtmp://…`) with headless VLC for `seconds`, recording what it
/// receives without transcoding:
/// `cvlc -I dummy --play-and-exit --run-time S URL --sout '#std{access=file,mux=ts,dst=F}'`,
/// then decodes the recording with ffmpeg and lists its packets with ffprobe.
///
/// Debian's VLC 3 opens `rtmp://` with its `avio` access module (libavformat's RTMP
/// client; package vlc-plugin-base). VLC refuses to run as root, so when the tests run as
/// root it runs as `nobody` (`setpriv`), writing into a world-writable directory.
pub fn vlc_record(url: &str, seconds: u32, timeout: Duration) -> VlcCapture {
    use std::os::unix::fs::PermissionsExt;
    require_tool("cvlc", VLC_HINT);
    let dir = TempDir::new("vlc-read");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777))
        .expect("chmod VLC output dir");
    let out = dir.file("capture.ts");
    let mut cmd = if super::process::is_root() {
        require_tool("setpriv", "apt-get install util-linux");
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "cvlc"]);
        c
    } else {
        Command::new("cvlc")
    };
    cmd.env("HOME", dir.path())
        .args(["-I", "dummy", "--play-and-exit", "--run-time"])
        .arg(seconds.to_string())
        .arg(url)
        .arg("--sout")
        .arg(format!("#std{{access=file,mux=ts,dst={}}}", out.display()));
    let mut guard = ChildGuard::spawn_with_dir(dir, "vlc-read", &mut cmd, None);
    if guard.wait_timeout(timeout).is_none() {
        eprintln!("[harness] VLC reader of {url} still running after {timeout:?}: killed");
    }
    guard.kill();
    let size = fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let log_tail = guard.stderr_tail(40);
    if size == 0 {
        eprintln!("[harness] VLC recorded nothing from {url}; its log:\n{log_tail}");
        return VlcCapture {
            log_tail,
            ..Default::default()
        };
    }
    VlcCapture {
        frames: file_framemd5(&out),
        packets: ffprobe_packets_input(&out.to_string_lossy(), None),
        log_tail,
    }
}
