//! weir: a real-time media server, a drop-in for MediaMTX.
//!
//! `weir [config.yml]`: with no file named, weir looks where MediaMTX looks (`mediamtx.yml` in the
//! working directory, then `/usr/local/etc`, …) and else runs on its embedded default (MediaMTX's
//! default configuration: RTSP on :8554, any path publishable and readable by anyone); `MTX_`
//! environment variables override the file's keys.

mod config;
mod hookrun;
mod log;
mod reload;
mod runtime;
mod tls;

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "weir",
    version,
    about = "weir, a real-time media server (MediaMTX compatible)"
)]
struct Cli {
    /// Path of a mediamtx.yml configuration file (default: MediaMTX's search list, else the
    /// embedded MediaMTX defaults).
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = match config::search::load_startup(cli.config.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("ERR: {e}");
            return ExitCode::FAILURE;
        }
    };
    log::init(loaded.config.log_level);
    tracing::info!("weir {}", env!("CARGO_PKG_VERSION"));
    config::search::log_loaded(&loaded);
    let file = match loaded.file {
        config::search::ConfigFile::Named(p) | config::search::ConfigFile::Found(p) => Some(p),
        config::search::ConfigFile::Embedded => None,
    };
    runtime::serve(loaded.config, file)
}
