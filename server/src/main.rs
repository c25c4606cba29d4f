//! weir: a real-time media server, a drop-in for MediaMTX.
//!
//! `weir [config.yml]`: with no file, weir runs on its embedded default (MediaMTX's default
//! configuration: RTSP on :8554, any path publishable and readable by anyone).

mod config;
mod log;

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
    /// Path of a mediamtx.yml configuration file (default: the embedded MediaMTX defaults).
    config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let text = match &cli.config {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("ERR: cannot read configuration file {}: {e}", p.display());
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let conf = match config::load(text.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ERR: {e}");
            return ExitCode::FAILURE;
        }
    };
    log::init(conf.log_level);
    tracing::info!("weir {}", env!("CARGO_PKG_VERSION"));
    match &cli.config {
        Some(p) => tracing::info!("configuration loaded from {}", p.display()),
        None => tracing::info!("configuration: embedded default"),
    }
    if !conf.not_implemented.is_empty() {
        tracing::warn!(
            "parsed, not implemented yet: {}",
            conf.not_implemented.join(", ")
        );
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(serve(conf)) {
        Ok(()) => {
            tracing::info!("shutdown complete");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(conf: config::Config) -> std::io::Result<()> {
    let s = &conf.settings;
    if s.rtsp.is_none() && s.rtmp.is_none() {
        tracing::warn!("every server is disabled; waiting for a signal");
    }
    let server = weir_tokio::Server::bind(conf.settings).await?;
    server.run(shutdown_signal()).await
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down gracefully");
}
