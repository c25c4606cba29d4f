//! The conformance suite's command line: `weir-conformance inspect FILE` prints what a capture
//! holds (flows, protocols, bytes each way, gaps).
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
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
    }
}
