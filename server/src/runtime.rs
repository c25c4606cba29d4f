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
fn serve_tokio(mut conf: Config, file: Option<PathBuf>) -> std::io::Result<()> {
    use crate::reload::Change;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel();
        if let Some(file) = file {
            crate::reload::watch(file, &conf, move |c| {
                let _ = tx.send(c);
            });
        }
        let mut signal = std::pin::pin!(shutdown_signal());
        loop {
            let server = weir_tokio::Server::bind(conf.settings.clone()).await?;
            let control = server.control();
            let mut next = None;
            let stop = async {
                loop {
                    tokio::select! {
                        _ = &mut signal => return,
                        c = changes.recv() => match c {
                            Some(Change::Paths(p)) => control.reload_paths(p),
                            Some(Change::Restart(c)) => {
                                next = Some(c);
                                return;
                            }
                            None => std::future::pending::<()>().await,
                        },
                    }
                }
            };
            server.run(stop).await?;
            match next.take() {
                Some(c) => conf = *c,
                None => return Ok(()),
            }
        }
    })
}

/// The mio loop runs on this thread; signals are awaited on a small helper thread.
#[cfg(feature = "mio")]
fn serve_mio(mut conf: Config, file: Option<PathBuf>) -> std::io::Result<()> {
    use crate::reload::Change;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    type Running = Option<(weir_mio::Control, weir_mio::ShutdownHandle)>;
    let running: Arc<Mutex<Running>> = Arc::new(Mutex::new(None));
    let next: Arc<Mutex<Option<Box<Config>>>> = Arc::new(Mutex::new(None));
    let quit = Arc::new(AtomicBool::new(false));
    let stop_running = |running: &Mutex<Running>| {
        if let Some((_, h)) = &*running.lock().unwrap_or_else(|p| p.into_inner()) {
            h.shutdown();
        }
    };
    if let Some(file) = file {
        let (running, next) = (running.clone(), next.clone());
        crate::reload::watch(file, &conf, move |c| match c {
            Change::Paths(p) => {
                if let Some((control, _)) = &*running.lock().unwrap_or_else(|p| p.into_inner()) {
                    control.reload_paths(p);
                }
            }
            Change::Restart(c) => {
                *next.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
                stop_running(&running);
            }
        });
    }
    let signals = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    {
        let (running, quit) = (running.clone(), quit.clone());
        std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || {
                signals.block_on(shutdown_signal());
                quit.store(true, Ordering::Release);
                stop_running(&running);
            })?;
    }
    loop {
        let server = weir_mio::Server::bind(conf.settings.clone())?;
        *running.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((server.control(), server.shutdown_handle()));
        // A signal or another restart that came while this server was being bound.
        let pending = next.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        if quit.load(Ordering::Acquire) || pending {
            stop_running(&running);
        }
        server.run()?;
        if quit.load(Ordering::Acquire) {
            return Ok(());
        }
        match next.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(c) => conf = *c,
            None => return Ok(()),
        }
    }
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
