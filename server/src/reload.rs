//! Hot reload: the configuration file is checked every second; a changed file is loaded and
//! its path entries applied to the running server (paths whose entry changed are closed and
//! reopened, the others keep their sessions). A broken edit is reported and the running
//! configuration kept. `logLevel` applies at once; a change of any other global key restarts
//! the servers with the new configuration (named in a warning; their sessions are closed, as
//! when MediaMTX restarts a server whose settings changed). Polling rather than file-system notifications keeps this portable and
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

/// The global keys whose value differs between `running` and `new`, by name.
pub(crate) fn changed_globals(running: &Config, new: &Config) -> Vec<String> {
    new.globals
        .iter()
        .filter(|(k, v)| running.globals.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .collect()
}

/// What a reload asks of the running server.
pub enum Change {
    /// New path entries: paths whose entry changed are closed and reopened.
    Paths(Vec<PathConf>),
    /// Global keys changed: the servers restart with this configuration (as MediaMTX
    /// restarts the servers whose settings changed, their sessions are closed).
    Restart(Box<Config>),
}

/// Watches `file` on a thread of its own; `apply` gets what each change asks for.
pub fn watch(file: PathBuf, current: &Config, apply: impl Fn(Change) + Send + 'static) {
    let mut last = stamp(&file);
    let mut running = current.clone();
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
            let c = match config::load_with_env(Some(&text), &config::search::process_env()) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(
                        "configuration not reloaded, the running one is kept: {}: {e}",
                        file.display()
                    );
                    continue;
                }
            };
            let mut changed = changed_globals(&running, &c);
            if changed.iter().any(|k| k == "logLevel") && crate::log::set_level(c.log_level) {
                // Applied at once, without a restart.
                tracing::info!("logLevel is now {}", c.log_level.name());
                changed.retain(|k| k != "logLevel");
            }
            if changed.is_empty() {
                tracing::info!("configuration reloaded from {}", file.display());
                apply(Change::Paths(c.settings.paths.clone()));
            } else {
                tracing::warn!(
                    "configuration reloaded from {}: global keys changed ({}): restarting the servers",
                    file.display(),
                    changed.join(", ")
                );
                if !c.not_implemented.is_empty() {
                    tracing::warn!("parsed, not implemented yet: {}", c.not_implemented.join(", "));
                }
                apply(Change::Restart(Box::new(c.clone())));
            }
            running = c;
        });
    if let Err(e) = spawned {
        tracing::error!("cannot watch the configuration file: {e}");
    }
}

#[cfg(test)]
mod tests {
    use crate::config::load;

    #[test]
    fn a_reload_names_the_global_keys_it_changed() {
        let running = load(Some("rtspAddress: :8554\npaths:\n  cam:\n")).unwrap();
        let new = load(Some(
            "rtspAddress: :9554\nlogLevel: debug\npaths:\n  other:\n    maxReaders: 3\n",
        ))
        .unwrap();
        assert_eq!(
            super::changed_globals(&running, &new),
            vec!["logLevel", "rtspAddress"]
        );
        // Path entries are not global keys; an unchanged file changes nothing.
        let paths_only = load(Some("rtspAddress: :8554\npaths:\n  other:\n")).unwrap();
        assert!(super::changed_globals(&running, &paths_only).is_empty());
    }
}
