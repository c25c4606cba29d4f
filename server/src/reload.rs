//! Hot reload: the configuration file is checked every second; a changed file is loaded and
//! its path entries applied to the running server (paths whose entry changed are closed and
//! reopened, the others keep their sessions). A broken edit is reported and the running
//! configuration kept. Changes outside `paths` / `pathDefaults` take effect at the next start
//! (reported by name). Polling rather than file-system notifications keeps this portable and
//! catches editors that replace the file.

use crate::config::{self, Config};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};
use weir_core::media::PathConf;

/// How often the file is looked at.
const POLL: Duration = Duration::from_secs(1);

/// The file's modification time and length, if it can be read.
fn stamp(file: &PathBuf) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(file).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Everything but the paths, to tell whether a reload changed global settings.
fn globals(c: &Config) -> String {
    let mut s = c.settings.clone();
    s.paths.clear();
    format!("{:?} {:?}", s, c.log_level)
}

/// Watches `file` on a thread of its own; `apply` gets the new path entries.
pub fn watch(file: PathBuf, current: &Config, apply: impl Fn(Vec<PathConf>) + Send + 'static) {
    let mut last = stamp(&file);
    let mut running_globals = globals(current);
    let spawned = std::thread::Builder::new()
        .name("config-watch".into())
        .spawn(move || loop {
            std::thread::sleep(POLL);
            let now = stamp(&file);
            if now == last || now.is_none() {
                continue;
            }
            last = now;
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    tracing::error!("configuration not reloaded: cannot read {}: {e}", file.display());
                    continue;
                }
            };
            match config::load_with_env(Some(&text), &config::search::process_env()) {
                Ok(c) => {
                    let g = globals(&c);
                    if g != running_globals {
                        tracing::warn!(
                            "configuration reloaded from {}: only paths and pathDefaults apply now; other changes take effect at the next start",
                            file.display()
                        );
                        running_globals = g;
                    } else {
                        tracing::info!("configuration reloaded from {}", file.display());
                    }
                    apply(c.settings.paths);
                }
                Err(e) => tracing::error!(
                    "configuration not reloaded, the running one is kept: {}: {e}",
                    file.display()
                ),
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot watch the configuration file: {e}");
    }
}
