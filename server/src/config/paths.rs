//! `pathDefaults` and `paths`: every path key checked against MediaMTX's, entry names validated
//! as MediaMTX does (exact names, `~` regular expressions, `all` / `all_others`), the keys weir
//! implements turned into [`PathConf`]s.

use super::source::Source;
use super::yaml::Yaml;
use super::ConfigError;
use std::collections::BTreeMap;
use weir_core::media::PathConf;
use weir_core::rtsp::client::RtspTransport;

/// Path keys weir implements.
const IMPLEMENTED_PATH: &[&str] = &[
    "source",
    "overridePublisher",
    "maxReaders",
    "sourceOnDemand",
    "sourceOnDemandStartTimeout",
    "sourceOnDemandCloseAfter",
    "sourceRedirect",
    "sourceFingerprint",
    "rtspTransport",
    "rtspAnyPort",
    "runOnInit",
    "runOnInitRestart",
    "runOnDemand",
    "runOnDemandRestart",
    "runOnDemandStartTimeout",
    "runOnDemandCloseAfter",
    "runOnUnDemand",
    "runOnAvailable",
    "runOnAvailableRestart",
    "runOnUnavailable",
    "runOnRead",
    "runOnReadRestart",
    "runOnUnread",
];

/// Names that all mean "every path": MediaMTX refuses more than one of them.
const CATCH_ALL_ALIASES: &[&str] = &["all", "all_others", "~^.*$"];

/// The path entries of the file (or of the defaults if it has none), in name order, and the
/// path keys set to values weir does not implement yet.
pub(crate) fn load(
    src: &Source,
    defaults: &BTreeMap<String, Yaml>,
    user: &BTreeMap<String, Yaml>,
) -> Result<(Vec<PathConf>, Vec<String>), ConfigError> {
    let path_defaults = defaults
        .get("pathDefaults")
        .and_then(Yaml::as_map)
        .unwrap_or_default();
    let mut user_defaults = path_defaults.clone();
    let mut warnings = Vec::new();
    let mut from_defaults = BTreeMap::new();
    if let Some(v) = user.get("pathDefaults") {
        let m = v
            .as_map()
            .ok_or_else(|| src.err(&["pathDefaults"], "expected a map"))?;
        for (k, v) in m {
            check_key(
                src,
                &path_defaults,
                &["pathDefaults", &k],
                &v,
                &mut warnings,
            )?;
            from_defaults.insert(k.clone(), ());
            user_defaults.insert(k, v);
        }
    }
    let paths = user
        .get("paths")
        .or_else(|| defaults.get("paths"))
        .cloned()
        .unwrap_or(Yaml::Null);
    let paths = paths
        .as_map()
        .ok_or_else(|| src.err(&["paths"], "expected a map of path names"))?;
    let mut catch_all: Option<&str> = None;
    let mut out = Vec::new();
    for (name, entry) in &paths {
        let at = ["paths", name.as_str()];
        let entry = entry
            .as_map()
            .ok_or_else(|| src.err(&at, "expected a map of path settings"))?;
        if let Some(alias) = CATCH_ALL_ALIASES.iter().find(|a| **a == name) {
            if let Some(first) = catch_all {
                let first_at = src
                    .locate(&["paths", first])
                    .map(|l| format!(" ({l})"))
                    .unwrap_or_default();
                let what = format!(
                    "'{first}'{first_at} and '{alias}' are aliases (all_others, all and '~^.*$'): \
                     keep one"
                );
                return Err(src.err(&at, &what));
            }
            catch_all = Some(alias);
        }
        let mut merged = user_defaults.clone();
        for (k, v) in &entry {
            check_key(src, &path_defaults, &["paths", name, k], v, &mut warnings)?;
            merged.insert(k.clone(), v.clone());
        }
        // Where a merged value was written: the entry, else `pathDefaults`.
        let origin = |k: &'static str| -> Vec<&str> {
            if entry.contains_key(k) || !from_defaults.contains_key(k) {
                vec!["paths", name.as_str(), k]
            } else {
                vec!["pathDefaults", k]
            }
        };
        let source = match merged.get("source") {
            Some(Yaml::Str(s)) => s.clone(),
            None | Some(Yaml::Null) => "publisher".into(),
            Some(other) => {
                let what = format!("expected a string, got {}", other.type_name());
                return Err(src.err(&origin("source"), &what));
            }
        };
        let override_publisher = match merged.get("overridePublisher") {
            Some(Yaml::Bool(b)) => *b,
            None => true,
            Some(other) => {
                let what = format!("expected a boolean, got {}", other.type_name());
                return Err(src.err(&origin("overridePublisher"), &what));
            }
        };
        let max_readers = match merged.get("maxReaders") {
            None => 0,
            Some(Yaml::Int(i)) if (0..=i64::from(u32::MAX)).contains(i) => *i as u32,
            Some(other) => {
                let what = format!("expected a count, got {other:?}");
                return Err(src.err(&origin("maxReaders"), &what));
            }
        };
        let source_on_demand = match merged.get("sourceOnDemand") {
            Some(Yaml::Bool(b)) => *b,
            None => false,
            Some(other) => {
                let what = format!("expected a boolean, got {}", other.type_name());
                return Err(src.err(&origin("sourceOnDemand"), &what));
            }
        };
        let duration = |key: &'static str| -> Result<std::time::Duration, ConfigError> {
            match merged.get(key) {
                None => Ok(std::time::Duration::from_secs(10)),
                Some(Yaml::Str(s)) => {
                    super::parse_duration(s).map_err(|e| src.err(&origin(key), &e))
                }
                Some(other) => {
                    let what = format!("expected a duration, got {}", other.type_name());
                    Err(src.err(&origin(key), &what))
                }
            }
        };
        let command = |key: &'static str| -> Result<String, ConfigError> {
            match merged.get(key) {
                None | Some(Yaml::Null) => Ok(String::new()),
                Some(Yaml::Str(s)) => Ok(s.clone()),
                Some(other) => {
                    let what = format!("expected a command line, got {}", other.type_name());
                    Err(src.err(&origin(key), &what))
                }
            }
        };
        let flag = |key: &'static str| -> Result<bool, ConfigError> {
            match merged.get(key) {
                None => Ok(false),
                Some(Yaml::Bool(b)) => Ok(*b),
                Some(other) => {
                    let what = format!("expected a boolean, got {}", other.type_name());
                    Err(src.err(&origin(key), &what))
                }
            }
        };
        let hooks = weir_core::hooks::PathHooks {
            run_on_init: command("runOnInit")?,
            run_on_init_restart: flag("runOnInitRestart")?,
            run_on_demand: command("runOnDemand")?,
            run_on_demand_restart: flag("runOnDemandRestart")?,
            run_on_demand_start_timeout: duration("runOnDemandStartTimeout")?,
            run_on_demand_close_after: duration("runOnDemandCloseAfter")?,
            run_on_un_demand: command("runOnUnDemand")?,
            run_on_ready: command("runOnAvailable")?,
            run_on_ready_restart: flag("runOnAvailableRestart")?,
            run_on_not_ready: command("runOnUnavailable")?,
            run_on_read: command("runOnRead")?,
            run_on_read_restart: flag("runOnReadRestart")?,
            run_on_unread: command("runOnUnread")?,
        };
        let conf = PathConf {
            hooks,
            name: name.clone(),
            source,
            override_publisher,
            max_readers,
            source_on_demand,
            source_on_demand_start_timeout: duration("sourceOnDemandStartTimeout")?,
            source_on_demand_close_after: duration("sourceOnDemandCloseAfter")?,
            source_redirect: command("sourceRedirect")?,
            source_fingerprint: command("sourceFingerprint")?,
            rtsp_transport: match merged.get("rtspTransport") {
                None | Some(Yaml::Null) => Default::default(),
                Some(Yaml::Str(s)) => RtspTransport::parse(s).ok_or_else(|| {
                    let what =
                        format!("invalid transport '{s}' (automatic, udp, multicast or tcp)");
                    src.err(&origin("rtspTransport"), &what)
                })?,
                Some(other) => {
                    let what = format!("expected a transport, got {}", other.type_name());
                    return Err(src.err(&origin("rtspTransport"), &what));
                }
            },
            rtsp_any_port: flag("rtspAnyPort")?,
        };
        conf.check_name().map_err(|e| src.err(&at, &e))?;
        // Implemented sources: `publisher`, `rtsp(s)://` and `rtmp(s)://` (pulled all the time,
        // or on demand), `redirect`. Others (udp, srt, whep…) are listed.
        let exact = !conf.is_catch_all() && conf.regex_source().is_none();
        let scheme = conf.source.split_once("://").map(|(s, _)| s);
        if !conf.source_fingerprint.is_empty() {
            // A SHA-256 in hex; `:` separators (as openssl prints it) are accepted too.
            let hex: String = conf
                .source_fingerprint
                .chars()
                .filter(|c| *c != ':')
                .collect();
            if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                let what = format!(
                    "'{}' is not a SHA-256 fingerprint (64 hexadecimal digits)",
                    conf.source_fingerprint
                );
                return Err(src.err(&origin("sourceFingerprint"), &what));
            }
        }
        if matches!(scheme, Some("rtsp" | "rtsps" | "rtmp" | "rtmps")) {
            if weir_core::pull::SourceUrl::parse(&conf.source).is_none() {
                let what = format!(
                    "'{}' is not a valid {}:// URL",
                    conf.source,
                    scheme.unwrap_or_default()
                );
                return Err(src.err(&origin("source"), &what));
            }
            if !exact && !conf.source_on_demand {
                // As MediaMTX: a path entry that names no single path can only pull on demand.
                let what = "a path with a regular expression (or path 'all') and a static source \
                            must have sourceOnDemand set to true";
                return Err(src.err(&origin("source"), what));
            }
        } else if conf.source == "redirect" {
            // As MediaMTX: the target is an absolute RTSP URL or a path (`/other`).
            let r = &conf.source_redirect;
            let lower = r.to_ascii_lowercase();
            let url = lower.starts_with("rtsp://") || lower.starts_with("rtsps://");
            if r.is_empty() || !(url || r.starts_with('/')) {
                let what =
                    format!("'{r}' is not an RTSP URL or a path: source 'redirect' needs one");
                return Err(src.err(&origin("sourceRedirect"), &what));
            }
        } else if conf.source != "publisher" {
            warnings.push(format!("paths.{name}.source ('{}')", conf.source));
        }
        out.push(conf);
    }
    Ok((out, warnings))
}

/// Checks that `path`'s last element is a MediaMTX path key; notes it when it is not
/// implemented and set to a non-default value.
fn check_key(
    src: &Source,
    path_defaults: &BTreeMap<String, Yaml>,
    path: &[&str],
    v: &Yaml,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    let k = path.last().copied().unwrap_or_default();
    match path_defaults.get(k) {
        None => Err(src.err(path, "not a MediaMTX path configuration key")),
        Some(d) if !IMPLEMENTED_PATH.contains(&k) && d != v => {
            warnings.push(path.join("."));
            Ok(())
        }
        _ => Ok(()),
    }
}
