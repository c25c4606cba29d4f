//! Finding and loading the configuration at start-up, as MediaMTX does: the file named on the
//! command line; else the first of MediaMTX's search list that exists (`rtsp-simple-server.yml`
//! and `mediamtx.yml` in the working directory, then `/usr/local/etc/mediamtx.yml`,
//! `/usr/etc/mediamtx.yml`, `/etc/mediamtx/mediamtx.yml`; the last three not on Windows); else
//! the embedded default. MediaMTX does not look next to its executable, so weir does not either.
//! `MTX_` variables apply in every case.

use super::{load_with_env, Config, ConfigError};
use std::path::{Path, PathBuf};

/// MediaMTX's search list when no file is named (relative entries: the working directory).
pub const SEARCH_LIST: &[&str] = &["rtsp-simple-server.yml", "mediamtx.yml"];

/// Entries of MediaMTX's search list on systems other than Windows, tried after [`SEARCH_LIST`].
pub const SEARCH_LIST_NOT_WINDOWS: &[&str] = &[
    "/usr/local/etc/mediamtx.yml",
    "/usr/etc/mediamtx.yml",
    "/etc/mediamtx/mediamtx.yml",
];

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigFile {
    /// The file named on the command line.
    Named(PathBuf),
    /// The first file of the search list that exists.
    Found(PathBuf),
    /// No file: the embedded default.
    Embedded,
}

/// A loaded configuration and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration.
    pub config: Config,
    /// Where it came from.
    pub file: ConfigFile,
}

/// The search list of this system, in order.
pub fn default_candidates() -> Vec<PathBuf> {
    let mut list: Vec<PathBuf> = SEARCH_LIST.iter().map(PathBuf::from).collect();
    if !cfg!(windows) {
        list.extend(SEARCH_LIST_NOT_WINDOWS.iter().map(PathBuf::from));
    }
    list
}

/// The first candidate that exists (anything `stat` finds, as MediaMTX checks it).
pub fn find_config(candidates: &[PathBuf]) -> Option<&Path> {
    candidates
        .iter()
        .map(PathBuf::as_path)
        .find(|p| p.metadata().is_ok())
}

/// Loads the file named on the command line (`named`), else the first of `candidates` that
/// exists, else the embedded default, with the `MTX_` variables of `env` applied.
pub fn load_config(
    named: Option<&Path>,
    candidates: &[PathBuf],
    env: &[(String, String)],
) -> Result<Loaded, ConfigError> {
    if env.iter().any(|(k, _)| k == "MTX_CONFKEY") {
        return Err(ConfigError(
            "MTX_CONFKEY is set: encrypted configuration files are not supported by weir".into(),
        ));
    }
    let file = match named {
        Some(p) => ConfigFile::Named(p.to_owned()),
        None => match find_config(candidates) {
            Some(p) => ConfigFile::Found(p.to_owned()),
            None => ConfigFile::Embedded,
        },
    };
    let text = match &file {
        ConfigFile::Named(p) | ConfigFile::Found(p) => {
            Some(std::fs::read_to_string(p).map_err(|e| {
                ConfigError(format!(
                    "cannot read configuration file {}: {e}",
                    p.display()
                ))
            })?)
        }
        ConfigFile::Embedded => None,
    };
    let config = load_with_env(text.as_deref(), env).map_err(|e| match &file {
        ConfigFile::Named(p) | ConfigFile::Found(p) => ConfigError(format!("{}: {e}", p.display())),
        ConfigFile::Embedded => e,
    })?;
    Ok(Loaded { config, file })
}

/// The process's `MTX_` variables (others, and names or values that are not UTF-8, are left out).
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("MTX_"))
        .collect()
}

/// Start-up: [`load_config`] with this system's search list and the process environment.
pub fn load_startup(named: Option<&Path>) -> Result<Loaded, ConfigError> {
    load_config(named, &default_candidates(), &process_env())
}

/// Logs where the configuration came from, its warnings and the keys not implemented yet.
pub fn log_loaded(l: &Loaded) {
    match &l.file {
        ConfigFile::Named(p) | ConfigFile::Found(p) => {
            tracing::info!("configuration loaded from {}", p.display())
        }
        ConfigFile::Embedded => {
            tracing::info!("configuration: embedded default (no configuration file found)")
        }
    }
    for w in &l.config.warnings {
        tracing::warn!("{w}");
    }
    if !l.config.not_implemented.is_empty() {
        tracing::warn!(
            "parsed, not implemented yet: {}",
            l.config.not_implemented.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh temporary directory for one test.
    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("weir-search-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn port(l: &Loaded) -> u16 {
        l.config.settings.rtsp.as_ref().unwrap().rtsp_address.port()
    }

    #[test]
    fn the_system_search_list_is_mediamtx_s() {
        let list = default_candidates();
        assert_eq!(list[0], PathBuf::from("rtsp-simple-server.yml"));
        assert_eq!(list[1], PathBuf::from("mediamtx.yml"));
        if !cfg!(windows) {
            assert_eq!(list[2], PathBuf::from("/usr/local/etc/mediamtx.yml"));
            assert_eq!(list[3], PathBuf::from("/usr/etc/mediamtx.yml"));
            assert_eq!(list[4], PathBuf::from("/etc/mediamtx/mediamtx.yml"));
            assert_eq!(list.len(), 5);
        }
    }

    #[test]
    fn first_existing_candidate_wins() {
        let d = temp_dir("first");
        let (a, b, c) = (d.join("a.yml"), d.join("b.yml"), d.join("c.yml"));
        std::fs::write(&b, "rtspAddress: :8601\n").unwrap();
        std::fs::write(&c, "rtspAddress: :8602\n").unwrap();
        let list = vec![a.clone(), b.clone(), c.clone()];
        assert_eq!(find_config(&list), Some(b.as_path()));
        let l = load_config(None, &list, &[]).unwrap();
        assert_eq!(l.file, ConfigFile::Found(b.clone()));
        assert_eq!(port(&l), 8601);
        std::fs::write(&a, "rtspAddress: :8600\n").unwrap();
        let l = load_config(None, &list, &[]).unwrap();
        assert_eq!(l.file, ConfigFile::Found(a));
        assert_eq!(port(&l), 8600);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_named_file_skips_the_search_and_must_exist() {
        let d = temp_dir("named");
        let (named, listed) = (d.join("named.yml"), d.join("listed.yml"));
        std::fs::write(&named, "rtspAddress: :8610\n").unwrap();
        std::fs::write(&listed, "rtspAddress: :8611\n").unwrap();
        let l = load_config(Some(&named), std::slice::from_ref(&listed), &[]).unwrap();
        assert_eq!(l.file, ConfigFile::Named(named));
        assert_eq!(port(&l), 8610);
        let missing = d.join("missing.yml");
        let e = load_config(Some(&missing), &[listed], &[]).unwrap_err();
        assert!(
            e.0.starts_with("cannot read configuration file") && e.0.contains("missing.yml"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn nothing_found_is_the_embedded_default_with_the_environment() {
        let d = temp_dir("none");
        let list = vec![d.join("mediamtx.yml"), d.join("etc/mediamtx.yml")];
        let env = vec![("MTX_RTSPADDRESS".to_string(), ":8620".to_string())];
        let l = load_config(None, &list, &env).unwrap();
        assert_eq!(l.file, ConfigFile::Embedded);
        assert_eq!(port(&l), 8620);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn errors_of_a_found_file_name_the_file_and_the_line() {
        let d = temp_dir("bad");
        let f = d.join("mediamtx.yml");
        std::fs::write(&f, "logLevel: info\nrtspAdress: :8554\n").unwrap();
        let e = load_config(None, &[f], &[]).unwrap_err();
        assert!(
            e.0.contains("mediamtx.yml: invalid configuration: key 'rtspAdress' (line 2)"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn encrypted_configuration_is_refused_by_name() {
        let env = vec![("MTX_CONFKEY".to_string(), "k".to_string())];
        let e = load_config(None, &[], &env).unwrap_err();
        assert!(e.0.contains("MTX_CONFKEY"), "{e}");
    }
}
