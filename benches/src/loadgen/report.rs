//! The run's report: the readers' statistics and the /proc samples reduced to one JSON object,
//! and a one-line human summary of it.

use super::procfs::ProcSample;
use super::publish::PublishReport;
use super::stats::{percentile, ReaderStats};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Everything the report is computed from.
pub struct RunData<'a> {
    /// A free label (the server's name).
    pub label: &'a str,
    /// The readers' protocol (`rtsp-tcp`…).
    pub protocol: &'a str,
    /// Where the generator published.
    pub publish_url: String,
    /// What the readers read.
    pub read_url: String,
    /// Readers asked for.
    pub readers: usize,
    /// Reader threads.
    pub threads: usize,
    /// The readers' statistics.
    pub stats: &'a [ReaderStats],
    /// Clock µs when the window opened and closed.
    pub window_us: (u64, u64),
    /// Time from the first reader's connect to the end of the ramp (µs).
    pub ramp_us: u64,
    /// The server's processes.
    pub server_pids: &'a [u32],
    /// Server sample with the publisher alone, before readers connected.
    pub server_baseline: Option<ProcSample>,
    /// Server samples every 500 ms during the window (first at its start, last at its end).
    pub server_window: &'a [ProcSample],
    /// The generator's CPU seconds at the window's start and end.
    pub self_cpu_s: (f64, f64),
    /// The publisher's report.
    pub publisher: &'a PublishReport,
    /// The source's mean video bit rate (bit/s).
    pub source_bps: f64,
    /// Frames per second of the source.
    pub fps: u32,
    /// Load averages at the start and end.
    pub loadavg: ([f64; 3], [f64; 3]),
}

/// A reader that received fewer than this share of the window's frames is behind (or
/// starved); HLS excepted.
pub const BEHIND_RATIO: f64 = 0.98;

/// Rounds to `digits` decimals.
fn r(v: f64, digits: i32) -> f64 {
    let m = 10f64.powi(digits);
    (v * m).round() / m
}

/// p50, p99 and max of sorted microseconds, as milliseconds.
fn ms_percentiles(sorted: &[u64]) -> Value {
    let ms = |p: f64| percentile(sorted, p).map(|v| r(v as f64 / 1000.0, 3));
    json!({
        "p50": ms(50.0), "p90": ms(90.0), "p99": ms(99.0),
        "max": sorted.last().map(|v| r(*v as f64 / 1000.0, 3)),
        "samples": sorted.len(),
    })
}

/// Builds the JSON report.
pub fn build(d: &RunData<'_>) -> Value {
    let secs = (d.window_us.1.saturating_sub(d.window_us.0)) as f64 / 1e6;
    let present: Vec<&ReaderStats> = d
        .stats
        .iter()
        .filter(|s| s.window_start.is_some())
        .collect();
    let windows: Vec<_> = present.iter().map(|s| s.window()).collect();
    let bytes: u64 = windows.iter().map(|w| w.bytes).sum();
    let mut per_reader: Vec<f64> = windows
        .iter()
        .map(|w| w.bytes as f64 * 8.0 / secs.max(1e-9) / 1e6)
        .collect();
    per_reader.sort_by(f64::total_cmp);
    let rtp_packets: u64 = windows.iter().map(|w| w.rtp_packets).sum();
    let rtp_gaps: u64 = windows.iter().map(|w| w.rtp_gaps).sum();
    let frames: u64 = windows.iter().map(|w| w.frames).sum();
    let missing: u64 = windows.iter().map(|w| w.missing_frames).sum();
    let lossy = windows
        .iter()
        .filter(|w| w.rtp_gaps > 0 || w.missing_frames > 0)
        .count();
    // A live reader should get every frame of the window; HLS delivers whole segments, so a
    // window holds a varying number of them and the test would be meaningless there.
    let expected = secs * f64::from(d.fps);
    let behind = (d.protocol != "hls").then(|| {
        windows
            .iter()
            .filter(|w| (w.frames as f64) < BEHIND_RATIO * expected)
            .count()
    });
    let mut ttff: Vec<u64> = d.stats.iter().filter_map(ReaderStats::ttff_us).collect();
    ttff.sort_unstable();
    let mut lat: Vec<u64> = present
        .iter()
        .flat_map(|s| s.latencies_us.iter().map(|&v| u64::from(v)))
        .collect();
    lat.sort_unstable();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    for e in d.stats.iter().filter_map(|s| s.error.as_ref()) {
        *errors.entry(e.clone()).or_default() += 1;
    }
    let failed = d.stats.iter().filter(|s| s.error.is_some()).count();

    let first = d.server_window.first();
    let last = d.server_window.last();
    let server_cpu_s = match (first, last) {
        (Some(a), Some(b)) => Some(b.cpu_s - a.cpu_s),
        _ => None,
    };
    let rss_max = d.server_window.iter().map(|s| s.rss_kib).max();
    let rss_per_reader = match (d.server_baseline, rss_max) {
        (Some(b), Some(m)) if !present.is_empty() => {
            Some(r((m as f64 - b.rss_kib as f64) / present.len() as f64, 2))
        }
        _ => None,
    };
    let gb = bytes as f64 / 1e9;
    let self_cpu = d.self_cpu_s.1 - d.self_cpu_s.0;
    let median = |v: &[f64]| percentile(v, 50.0).map(|x| r(x, 3));
    json!({
        "label": d.label,
        "protocol": d.protocol,
        "publish": d.publish_url,
        "read": d.read_url,
        "readers": d.readers,
        "readers_in_window": present.len(),
        "readers_failed": failed,
        "threads": d.threads,
        "window_s": r(secs, 3),
        "ramp_s": r(d.ramp_us as f64 / 1e6, 3),
        "stream_mbps": r(d.source_bps / 1e6, 3),
        "delivered_mbps": r(bytes as f64 * 8.0 / secs.max(1e-9) / 1e6, 3),
        "delivered_bytes": bytes,
        "per_reader_mbps": {
            "min": per_reader.first().map(|x| r(*x, 3)),
            "median": median(&per_reader),
            "max": per_reader.last().map(|x| r(*x, 3)),
        },
        "loss": {
            "rtp_packets": rtp_packets,
            "rtp_gaps": rtp_gaps,
            "rtp_loss_ratio": if rtp_packets + rtp_gaps > 0 {
                Some(rtp_gaps as f64 / (rtp_packets + rtp_gaps) as f64)
            } else { None },
            "frames": frames,
            "missing_frames": missing,
            "frames_expected": r(secs * f64::from(d.fps) * present.len() as f64, 0),
            "readers_with_loss": lossy,
            "readers_behind": behind,
        },
        "ttff_ms": ms_percentiles(&ttff),
        "readers_without_first_frame": d.stats.len() - ttff.len(),
        "latency_ms": ms_percentiles(&lat),
        "server": {
            "pids": d.server_pids,
            "cpu_s": server_cpu_s.map(|c| r(c, 3)),
            "cpu_pct": server_cpu_s.map(|c| r(c / secs.max(1e-9) * 100.0, 1)),
            "cpu_s_per_gb": server_cpu_s.filter(|_| gb > 0.0).map(|c| r(c / gb, 3)),
            "rss_baseline_kib": d.server_baseline.map(|s| s.rss_kib),
            "rss_max_kib": rss_max,
            "rss_end_kib": last.map(|s| s.rss_kib),
            "rss_per_reader_kib": rss_per_reader,
            "samples": d.server_window.len(),
        },
        "generator": {
            "cpu_s": r(self_cpu, 3),
            "cpu_pct": r(self_cpu / secs.max(1e-9) * 100.0, 1),
        },
        "publisher": {
            "frames": d.publisher.frames,
            "bytes": d.publisher.bytes,
            "late_frames": d.publisher.late_frames,
            "error": d.publisher.error,
        },
        "loadavg_start": d.loadavg.0,
        "loadavg_end": d.loadavg.1,
        "errors": errors,
    })
}

/// One human-readable line of the report.
pub fn human_line(v: &Value) -> String {
    let f = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_f64)
            .map_or("-".to_owned(), |x| format!("{x}"))
    };
    format!(
        "{} {} x{} ({} in window, {} failed): {} Mbit/s delivered (per reader {}/{}/{}), \
         loss {} RTP gaps / {} missing frames / {} readers behind, ttff p50 {} ms p99 {} ms, latency p50 {} ms \
         p99 {} ms, server {}% CPU {} CPU-s/GB RSS {} KiB (+{} KiB/reader), generator {}% CPU, \
         load {}",
        v["label"].as_str().unwrap_or(""),
        v["protocol"].as_str().unwrap_or(""),
        f("/readers"),
        f("/readers_in_window"),
        f("/readers_failed"),
        f("/delivered_mbps"),
        f("/per_reader_mbps/min"),
        f("/per_reader_mbps/median"),
        f("/per_reader_mbps/max"),
        f("/loss/rtp_gaps"),
        f("/loss/missing_frames"),
        f("/loss/readers_behind"),
        f("/ttff_ms/p50"),
        f("/ttff_ms/p99"),
        f("/latency_ms/p50"),
        f("/latency_ms/p99"),
        f("/server/cpu_pct"),
        f("/server/cpu_s_per_gb"),
        f("/server/rss_max_kib"),
        f("/server/rss_per_reader_kib"),
        f("/generator/cpu_pct"),
        f("/loadavg_end/0"),
    )
}
