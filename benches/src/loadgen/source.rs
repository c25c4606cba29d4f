//! The published stream: an H.264 elementary stream produced once by ffmpeg (a test pattern
//! with noise, constant bit rate, fixed GOP, no B-frames), split into access units, looped,
//! with the latency marker inserted into every access unit.

use super::marker::marker_nal;
use bytes::Bytes;
use smallvec::SmallVec;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use weir_core::codec::annexb::split_annexb;
use weir_core::codec::h264::{self, H264Params};

/// How the source file is encoded when it has to be produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceSpec {
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Video bit rate (kbit/s, constant: x264 `nal-hrd=cbr` with filler data).
    pub kbps: u32,
    /// Frames per GOP (one IDR every `gop` frames).
    pub gop: u32,
    /// Length of the file in seconds (a whole number of GOPs; the stream loops over it).
    pub seconds: u32,
}

impl Default for SourceSpec {
    fn default() -> Self {
        SourceSpec {
            width: 640,
            height: 360,
            fps: 25,
            kbps: 2000,
            gop: 50,
            seconds: 10,
        }
    }
}

impl SourceSpec {
    /// The file name the spec is cached under.
    pub fn file_name(&self) -> String {
        format!(
            "testsrc2-{}x{}-{}fps-{}k-gop{}-{}s.h264",
            self.width, self.height, self.fps, self.kbps, self.gop, self.seconds
        )
    }
}

/// One access unit of the file, without parameter sets, delimiters or SEI.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Whether it holds an IDR slice.
    pub key: bool,
    /// Its NAL units (slices, filler data), without start codes.
    pub nalus: Vec<Bytes>,
}

/// The stream the generator publishes.
#[derive(Debug, Clone)]
pub struct Source {
    /// The sequence parameter set.
    pub sps: Bytes,
    /// The picture parameter set.
    pub pps: Bytes,
    /// The access units of one loop of the file (the first one is a key frame).
    pub frames: Vec<Frame>,
    /// Frames per second.
    pub fps: u32,
}

/// Runs ffmpeg to produce `path` per `spec` (at most two minutes).
pub fn generate(path: &Path, spec: &SourceSpec) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let tmp = path.with_extension("tmp.h264");
    let k = spec.kbps;
    let args = [
        "-hide_banner".to_owned(),
        "-loglevel".into(),
        "error".into(),
        "-y".into(),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!(
            "testsrc2=size={}x{}:rate={},noise=alls=12:allf=t",
            spec.width, spec.height, spec.fps
        ),
        "-t".into(),
        spec.seconds.to_string(),
        "-c:v".into(),
        "libx264".into(),
        "-preset".into(),
        "veryfast".into(),
        "-profile:v".into(),
        "main".into(),
        "-pix_fmt".into(),
        "yuv420p".into(),
        "-bf".into(),
        "0".into(),
        "-g".into(),
        spec.gop.to_string(),
        "-keyint_min".into(),
        spec.gop.to_string(),
        "-sc_threshold".into(),
        "0".into(),
        "-b:v".into(),
        format!("{k}k"),
        "-minrate".into(),
        format!("{k}k"),
        "-maxrate".into(),
        format!("{k}k"),
        "-bufsize".into(),
        format!("{}k", k / 2),
        "-x264-params".into(),
        "nal-hrd=cbr:force-cfr=1".into(),
        "-f".into(),
        "h264".into(),
        tmp.display().to_string(),
    ];
    let mut child = Command::new("ffmpeg")
        .args(&args)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("ffmpeg took more than 120 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !status.success() {
        return Err(format!("ffmpeg failed: {status}"));
    }
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

impl Source {
    /// Loads `path`, producing it with ffmpeg first when it does not exist.
    pub fn load_or_generate(path: &Path, spec: &SourceSpec) -> Result<Source, String> {
        if !path.exists() {
            generate(path, spec)?;
        }
        let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Source::from_annexb(&data, spec.fps)
    }

    /// Splits an Annex-B stream into access units (a new one starts at a slice whose
    /// `first_mb_in_slice` is 0, or at a non-VCL NAL unit after a slice), keeping the first SPS
    /// and PPS and dropping delimiters, parameter sets and SEI from the units. The stream is
    /// cut after its last key frame's GOP so that it loops on a key frame.
    pub fn from_annexb(data: &[u8], fps: u32) -> Result<Source, String> {
        let mut sps = None;
        let mut pps = None;
        let mut frames: Vec<Frame> = Vec::new();
        let mut cur = Frame {
            key: false,
            nalus: Vec::new(),
        };
        let mut cur_has_vcl = false;
        for nal in split_annexb(data).filter(|n| !n.is_empty()) {
            let t = h264::nalu_type(nal);
            let vcl = (1..=5).contains(&t);
            let first_slice = vcl && nal.get(1).is_some_and(|b| b & 0x80 != 0);
            if cur_has_vcl && (first_slice || matches!(t, 6..=9)) {
                frames.push(std::mem::replace(
                    &mut cur,
                    Frame {
                        key: false,
                        nalus: Vec::new(),
                    },
                ));
                cur_has_vcl = false;
            }
            match t {
                h264::NAL_SPS => {
                    sps.get_or_insert_with(|| Bytes::copy_from_slice(nal));
                }
                h264::NAL_PPS => {
                    pps.get_or_insert_with(|| Bytes::copy_from_slice(nal));
                }
                h264::NAL_SEI | h264::NAL_AUD => {}
                _ => {
                    cur.key |= t == h264::NAL_IDR;
                    cur_has_vcl |= vcl;
                    cur.nalus.push(Bytes::copy_from_slice(nal));
                }
            }
        }
        if cur_has_vcl {
            frames.push(cur);
        }
        if !frames.first().is_some_and(|f| f.key) {
            return Err("the H.264 file does not start with an IDR frame".into());
        }
        // Loop on a key frame: drop the frames of the last, possibly incomplete, GOP only if
        // the file holds more than one GOP.
        let gop = frames.iter().skip(1).position(|f| f.key).map(|p| p + 1);
        if let Some(gop) = gop {
            let whole = frames.len() / gop * gop;
            frames.truncate(whole.max(gop));
        }
        Ok(Source {
            sps: sps.ok_or("no SPS in the H.264 file")?,
            pps: pps.ok_or("no PPS in the H.264 file")?,
            frames,
            fps: fps.max(1),
        })
    }

    /// The access unit published as frame `index`: SPS and PPS on key frames, the marker,
    /// then the frame's NAL units.
    pub fn access_unit(&self, index: u32) -> (bool, SmallVec<[Bytes; 4]>) {
        let f = &self.frames[index as usize % self.frames.len()];
        let mut nalus: SmallVec<[Bytes; 4]> = SmallVec::new();
        if f.key {
            nalus.push(self.sps.clone());
            nalus.push(self.pps.clone());
        }
        nalus.push(Bytes::copy_from_slice(&marker_nal(index, f.key)));
        nalus.extend(f.nalus.iter().cloned());
        (f.key, nalus)
    }

    /// The 90 kHz timestamp of frame `index`.
    pub fn pts_90k(&self, index: u32) -> i64 {
        i64::from(index) * 90_000 / i64::from(self.fps)
    }

    /// The H.264 fmtp value (packetization mode 1, parameter sets, profile).
    pub fn fmtp(&self) -> String {
        H264Params {
            sps: Some(self.sps.clone()),
            pps: Some(self.pps.clone()),
            packetization_mode: 1,
            profile_level_id: None,
        }
        .to_fmtp()
    }

    /// The SDP announced when publishing over RTSP: one H.264 track, control `trackID=0`.
    pub fn sdp(&self) -> String {
        format!(
            "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=weir-loadgen\r\nc=IN IP4 127.0.0.1\r\n\
             t=0 0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 {}\r\n\
             a=control:trackID=0\r\n",
            self.fmtp()
        )
    }

    /// The mean bit rate of the NAL units (bits per second), markers and parameter sets
    /// excluded.
    pub fn bitrate_bps(&self) -> f64 {
        let bytes: usize = self
            .frames
            .iter()
            .flat_map(|f| f.nalus.iter())
            .map(Bytes::len)
            .sum();
        bytes as f64 * 8.0 * f64::from(self.fps) / self.frames.len() as f64
    }

    /// Frames per GOP (distance between the first two key frames; the loop length if one).
    pub fn gop(&self) -> usize {
        self.frames
            .iter()
            .skip(1)
            .position(|f| f.key)
            .map_or(self.frames.len(), |p| p + 1)
    }
}
