//! Runs the configured servers on the runtime this binary was built with: tokio (cargo
//! feature `tokio`, the default) or the allocation-free mio loop (feature `mio`). A binary
//! built with both picks by the `WEIR_RUNTIME` environment variable (`tokio` or `mio`;
//! tokio when unset) — the test suite uses it to run every end-to-end test on each runtime.

use crate::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[cfg(not(any(feature = "tokio", feature = "mio")))]
compile_error!("build weir with the `tokio` or the `mio` feature");

/// The runtimes compiled into this binary.
pub const COMPILED: &[&str] = &[
    #[cfg(feature = "tokio")]
    "tokio",
    #[cfg(feature = "mio")]
    "mio",
];

/// Serves until SIGINT/SIGTERM, reloading `file` when it changes; the process exit code.
pub fn serve(conf: Config, file: Option<PathBuf>) -> ExitCode {
    let s = &conf.settings;
    if s.rtsp.is_none() && s.rtmp.is_none() && s.hls.is_none() {
        tracing::warn!("every server is disabled; waiting for a signal");
    }
    let wanted = std::env::var("WEIR_RUNTIME").unwrap_or_default();
    let chosen = match wanted.as_str() {
        "" => COMPILED[0],
        w if COMPILED.contains(&w) => COMPILED.iter().find(|c| **c == w).copied().unwrap_or(w),
        w => {
            tracing::error!(
                "WEIR_RUNTIME={w}: this binary has the runtimes {} (build with `--features mio` for mio)",
                COMPILED.join(", ")
            );
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("runtime: {chosen}");
    let result = match chosen {
        #[cfg(feature = "mio")]
        "mio" => serve_mio(conf, file),
        #[cfg(feature = "tokio")]
        _ => serve_tokio(conf, file),
        #[cfg(not(feature = "tokio"))]
        _ => serve_mio(conf, file),
    };
    match result {
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

#[cfg(feature = "tokio")]
fn serve_tokio(conf: Config, file: Option<PathBuf>) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let server = weir_tokio::Server::bind(conf.settings.clone()).await?;
        if let Some(file) = file {
            let control = server.control();
            crate::reload::watch(file, &conf, move |paths| control.reload_paths(paths));
        }
        server.run(shutdown_signal()).await
    })
}

/// The mio loop runs on this thread; signals are awaited on a small helper thread.
#[cfg(feature = "mio")]
fn serve_mio(conf: Config, file: Option<PathBuf>) -> std::io::Result<()> {
    let server = weir_mio::Server::bind(conf.settings.clone())?;
    if let Some(file) = file {
        let control = server.control();
        crate::reload::watch(file, &conf, move |paths| control.reload_paths(paths));
    }
    let handle = server.shutdown_handle();
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            signals.block_on(shutdown_signal());
            handle.shutdown();
        })?;
    server.run()
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
