//! `loadgen`: publishes one H.264 stream to a running media server and plays it with N readers,
//! then reports what the server delivered and what it cost (see `weir_benches::loadgen`).
//!
//! ```text
//! loadgen --server-pid PID --publish rtsp://127.0.0.1:8554/live/bench \
//!         --readers 100 --protocol rtsp-tcp --duration 20 [--json]
//! ```
//!
//! Phases: publish (the source is produced once by ffmpeg), wait `--warmup`, connect the readers
//! (at most `--max-handshaking` handshakes at once, `--ramp-timeout` at most), wait
//! `--settle`, then measure for `--duration` seconds, sampling the server's /proc every 500 ms.
//! Every phase is bounded; only 127.0.0.1 is accepted.

use clap::Parser;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_benches::loadgen::event_loop::{self, LoopConfig, Shared, PHASE_MEASURE, PHASE_STOP};
use weir_benches::loadgen::marker::{Clock, SendLog};
use weir_benches::loadgen::procfs::{self, ProcSample};
use weir_benches::loadgen::publish::{self, PublishArgs, STATE_CONNECTING, STATE_FAILED};
use weir_benches::loadgen::report::{self, RunData};
use weir_benches::loadgen::source::{Source, SourceSpec};
use weir_benches::loadgen::url::Url;
use weir_benches::loadgen::Protocol;

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    about = "Load generator: one published stream, N readers, /proc sampling"
)]
struct Args {
    /// PID of the server to sample from /proc (repeat for several processes).
    #[arg(long = "server-pid")]
    server_pid: Vec<u32>,
    /// Where to publish: rtsp://…, rtmp://… or tcp://… (the bare pipe's publisher port).
    #[arg(long)]
    publish: String,
    /// What the readers read (default: the publish URL, when it has the readers' scheme).
    #[arg(long)]
    read: Option<String>,
    /// Number of readers.
    #[arg(long, default_value_t = 10)]
    readers: usize,
    /// rtsp-tcp, rtsp-udp, rtmp, hls or raw (the bare pipe).
    #[arg(long, default_value = "rtsp-tcp")]
    protocol: String,
    /// Length of the measurement window (seconds).
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Print the report as one JSON object on stdout (the human line goes to stderr).
    #[arg(long)]
    json: bool,
    /// A label for the report (the server's name).
    #[arg(long, default_value = "")]
    label: String,
    /// Seconds between publishing and the first reader.
    #[arg(long, default_value_t = 1.5)]
    warmup: f64,
    /// Longest ramp-up (seconds): readers not started by then are not started.
    #[arg(long, default_value_t = 30.0)]
    ramp_timeout: f64,
    /// Seconds between the end of the ramp-up and the measurement window.
    #[arg(long, default_value_t = 2.0)]
    settle: f64,
    /// Most readers in their handshake at once (all threads together).
    #[arg(long, default_value_t = 64)]
    max_handshaking: usize,
    /// Reader threads (each runs one mio loop).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// A reader not playing this many seconds after connecting fails.
    #[arg(long, default_value_t = 15.0)]
    handshake_timeout: f64,
    /// The H.264 file to publish (produced with ffmpeg when missing).
    #[arg(long)]
    source: Option<PathBuf>,
    /// SO_RCVBUF of the UDP readers' RTP sockets.
    #[arg(long, default_value_t = 1 << 20)]
    udp_rcvbuf: usize,
}

/// The default source file: under `$CARGO_TARGET_DIR` (or the workspace's `target`).
fn default_source(spec: &SourceSpec) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target")));
    target.join("loadgen").join(spec.file_name())
}

/// Sleeps until `deadline`, sampling the server every 500 ms into `samples` if given.
fn wait_until(
    deadline: Instant,
    clock: &Clock,
    pids: &[u32],
    mut samples: Option<&mut Vec<ProcSample>>,
) {
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(500)));
        if let Some(s) = samples.as_deref_mut() {
            if Instant::now() < deadline {
                s.push(procfs::sample(pids, clock.now_us()));
            }
        }
    }
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(args) {
        eprintln!("loadgen: {e}");
        std::process::exit(1);
    }
}

fn run(args: Args) -> Result<(), String> {
    let protocol = Protocol::parse(&args.protocol)?;
    let publish_url = Url::parse(&args.publish)?;
    let read_url = match &args.read {
        Some(r) => Url::parse(r)?,
        None if publish_url.scheme == protocol.scheme() => publish_url.clone(),
        None => {
            return Err(format!(
                "give --read: readers of {} need a {}:// URL",
                protocol.name(),
                protocol.scheme()
            ))
        }
    };
    if read_url.scheme != protocol.scheme() {
        return Err(format!(
            "--read must be a {}:// URL for {}",
            protocol.scheme(),
            protocol.name()
        ));
    }
    let readers = args.readers.max(1);
    let threads = args.threads.clamp(1, readers);
    let spec = SourceSpec::default();
    let path = args.source.clone().unwrap_or_else(|| default_source(&spec));
    let source = Arc::new(Source::load_or_generate(&path, &spec)?);

    let clock = Clock::new();
    let total_s = args.warmup + args.ramp_timeout + args.settle + args.duration + 30.0;
    let max_frames = (total_s * f64::from(source.fps)) as u32;
    let log = Arc::new(SendLog::new(max_frames as usize));
    let stop = Arc::new(AtomicBool::new(false));
    let state = Arc::new(AtomicU8::new(STATE_CONNECTING));
    let publisher = publish::spawn(PublishArgs {
        url: publish_url.clone(),
        source: source.clone(),
        log: log.clone(),
        clock,
        stop: stop.clone(),
        state: state.clone(),
        max_frames,
    });
    let t = Instant::now();
    while state.load(Ordering::Acquire) == STATE_CONNECTING && t.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    if state.load(Ordering::Acquire) != publish::STATE_PUBLISHING {
        stop.store(true, Ordering::Relaxed);
        let r = publisher.join().unwrap_or_default();
        return Err(format!(
            "publishing failed: {}",
            r.error.unwrap_or_else(|| "timeout".into())
        ));
    }
    std::thread::sleep(Duration::from_secs_f64(args.warmup));
    let pids = &args.server_pid;
    let baseline = (!pids.is_empty()).then(|| procfs::sample(pids, clock.now_us()));
    let load_start = procfs::loadavg();

    let shared = Arc::new(Shared::default());
    let per = readers.div_ceil(threads);
    let mut handles = Vec::new();
    for i in 0..threads {
        let first = i * per;
        let count = per.min(readers - first);
        if count == 0 {
            break;
        }
        let cfg = LoopConfig {
            protocol,
            url: read_url.clone(),
            first_id: first,
            count,
            max_handshaking: (args.max_handshaking / threads).max(1),
            handshake_timeout_us: (args.handshake_timeout * 1e6) as u64,
            udp_rcvbuf: args.udp_rcvbuf,
        };
        let (shared, log) = (shared.clone(), log.clone());
        handles.push(
            std::thread::Builder::new()
                .name(format!("readers-{i}"))
                .spawn(move || event_loop::run(cfg, shared, log, clock))
                .map_err(|e| e.to_string())?,
        );
    }

    let ramp_start = clock.now_us();
    let ramp_deadline = Instant::now() + Duration::from_secs_f64(args.ramp_timeout);
    while Instant::now() < ramp_deadline && state.load(Ordering::Acquire) != STATE_FAILED {
        let done = shared.ready.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed);
        if done >= readers {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let ramp_us = clock.now_us() - ramp_start;
    std::thread::sleep(Duration::from_secs_f64(args.settle));

    let mut window = Vec::new();
    let self_start = procfs::self_cpu_seconds();
    let start_us = clock.now_us();
    shared.phase.store(PHASE_MEASURE, Ordering::Release);
    if !pids.is_empty() {
        window.push(procfs::sample(pids, start_us));
    }
    let deadline = Instant::now() + Duration::from_secs_f64(args.duration);
    wait_until(
        deadline,
        &clock,
        pids,
        (!pids.is_empty()).then_some(&mut window),
    );
    let end_us = clock.now_us();
    shared.phase.store(PHASE_STOP, Ordering::Release);
    if !pids.is_empty() {
        window.push(procfs::sample(pids, end_us));
    }
    let self_end = procfs::self_cpu_seconds();
    let load_end = procfs::loadavg();

    let mut stats = Vec::with_capacity(readers);
    for h in handles {
        stats.extend(h.join().map_err(|_| "a reader thread panicked")?);
    }
    stop.store(true, Ordering::Relaxed);
    let pub_report = publisher.join().map_err(|_| "the publisher panicked")?;

    let value = report::build(&RunData {
        label: &args.label,
        protocol: protocol.name(),
        publish_url: publish_url.as_string(),
        read_url: read_url.as_string(),
        readers,
        threads,
        stats: &stats,
        window_us: (start_us, end_us),
        ramp_us,
        server_pids: pids,
        server_baseline: baseline,
        server_window: &window,
        self_cpu_s: (self_start, self_end),
        publisher: &pub_report,
        source_bps: source.bitrate_bps(),
        fps: source.fps,
        loadavg: (load_start, load_end),
    });
    eprintln!("{}", report::human_line(&value));
    if args.json {
        println!("{value}");
    }
    Ok(())
}
