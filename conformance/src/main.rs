//! The conformance suite's command line: `weir-conformance inspect FILE` prints what a capture
//! holds (flows, protocols, bytes each way, gaps); `weir-conformance replay FILE` replays its
//! clients against an in-process weir and prints the verdict of each flow.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use weir_conformance::replay::{self, compare_runtimes, CaseReport, Options};
use weir_conformance::runtime::Runtime;
use weir_conformance::Capture;

/// Reads captured traffic (pcap/pcapng) for weir's conformance suite.
#[derive(Parser, Debug)]
#[command(name = "weir-conformance", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
enum Command {
    /// Print a capture's flows: protocol, bytes and packets each way, gaps, RTSP SETUPs.
    Inspect {
        /// The pcap or pcapng file.
        file: PathBuf,
        /// Also list each RTSP flow's messages and every gap's position.
        #[arg(short, long)]
        verbose: bool,
    },
    /// Replay a capture's clients against weir and print each flow's verdict.
    Replay {
        /// The pcap or pcapng file.
        file: PathBuf,
        /// The runtime: tokio, mio, or both (and compare them).
        #[arg(long, default_value = "both")]
        runtime: String,
        /// Follow the capture's timing instead of sending as fast as possible.
        #[arg(long)]
        paced: bool,
        /// Also print each flow's observations.
        #[arg(short, long)]
        verbose: bool,
        /// Print weir's own log at this level (error, warn, info, debug) on stderr.
        #[arg(long)]
        log: Option<String>,
    },
}

/// Prints one runtime's report.
fn print_report(report: &CaseReport, verbose: bool) {
    for flow in &report.flows {
        println!(
            "[{}] {} {}: {}",
            report.runtime, flow.flow, flow.kind, flow.verdict
        );
        for m in &flow.media {
            println!("    media {m}");
        }
        if verbose {
            for n in &flow.notes {
                println!("    note: {n}");
            }
        }
    }
    if verbose {
        for i in &report.ignored {
            println!("[{}] ignored {i}", report.runtime);
        }
    }
}

/// Replays `file` on the chosen runtimes; failure if any flow failed or the runtimes differ.
fn run_replay(file: &PathBuf, runtime: &str, paced: bool, verbose: bool) -> ExitCode {
    let runtimes: Vec<Runtime> = match runtime {
        "both" => Runtime::ALL.to_vec(),
        r => match r.parse() {
            Ok(r) => vec![r],
            Err(e) => {
                eprintln!("weir-conformance: {e} (or both)");
                return ExitCode::FAILURE;
            }
        },
    };
    let capture = match Capture::open(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("weir-conformance: {e}");
            return ExitCode::FAILURE;
        }
    };
    let options = Options {
        paced,
        origin: None,
    };
    let reports: Vec<CaseReport> = runtimes
        .iter()
        .map(|&r| replay::replay(&capture, r, &options))
        .collect();
    let mut failed = false;
    for r in &reports {
        print_report(r, verbose);
        failed |= r.failed();
    }
    if let [a, b] = reports.as_slice() {
        let diffs = compare_runtimes(a, b);
        if diffs.is_empty() {
            println!("runtimes agree");
        } else {
            failed = true;
            for d in diffs {
                println!("RUNTIME MISMATCH: {d}");
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Inspect { file, verbose } => match Capture::open(&file) {
            Ok(capture) => {
                let report = if verbose {
                    capture.details()
                } else {
                    capture.summary()
                };
                print!("{report}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("weir-conformance: {e}");
                ExitCode::FAILURE
            }
        },
        Command::Replay {
            file,
            runtime,
            paced,
            verbose,
            log,
        } => {
            if let Some(level) = log {
                tracing_subscriber::fmt()
                    .with_env_filter(tracing_subscriber::EnvFilter::new(level))
                    .with_writer(std::io::stderr)
                    .init();
            }
            run_replay(&file, &runtime, paced, verbose)
        }
    }
}
