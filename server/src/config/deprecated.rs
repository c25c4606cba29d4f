//! Deprecated keys mapped to their successors, with a warning naming both, as MediaMTX does.
//!
//! The list is MediaMTX v1.20.1's (the fields its API specification marks `deprecated`); keys
//! renamed before that (such as `runOnPublish`) are unknown keys there and here. A deprecated key
//! overrides its successor when both are set (MediaMTX applies it last). An empty (null) value
//! counts as not set.

use super::source::Source;
use super::yaml::Yaml;
use super::ConfigError;
use std::collections::BTreeMap;

/// The value type of a deprecated key, for `MTX_` variables that set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `yes` / `no`.
    Bool,
    /// An integer.
    Int,
    /// A string.
    Str,
    /// A list of strings (comma-separated in a variable).
    List,
}

impl Kind {
    /// A sample value of this type (the schema the environment loader walks).
    pub(crate) fn sample(self) -> Yaml {
        match self {
            Kind::Bool => Yaml::Bool(false),
            Kind::Int => Yaml::Int(0),
            Kind::Str => Yaml::Str(String::new()),
            Kind::List => Yaml::Seq(Vec::new()),
        }
    }
}

/// What becomes of a deprecated key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum To {
    /// The same value under a new name.
    Rename(&'static str),
    /// A boolean under a new name, inverted (`rtspDisable: yes` is `rtsp: no`).
    Invert(&'static str),
    /// A single string that became a one-item list.
    IntoList(&'static str),
    /// A global key that moved to `pathDefaults` under the same name.
    IntoPathDefaults,
    /// `externalAuthenticationURL`: `authMethod: http` and `authHTTPAddress`.
    ExternalAuth,
    /// `webrtcICEServers` (`turn:user:pass:host:port` strings) → `webrtcICEServers2` entries.
    IceServers,
    /// Replaced by a mechanism weir does not convert to: reported as not implemented.
    Unconverted(&'static str),
    /// Deprecated with no successor, to be removed; its feature is not implemented in weir.
    Removed,
    /// Deprecated with no effect.
    NoEffect,
}

/// One deprecated key.
struct Deprecated {
    key: &'static str,
    kind: Kind,
    to: To,
}

const fn d(key: &'static str, kind: Kind, to: To) -> Deprecated {
    Deprecated { key, kind, to }
}

/// Deprecated global keys.
const GLOBAL: &[Deprecated] = &[
    d("readBufferCount", Kind::Int, To::Rename("writeQueueSize")),
    d("externalAuthenticationURL", Kind::Str, To::ExternalAuth),
    d("authJWTInHTTPQuery", Kind::Bool, To::Removed),
    d("apiAllowOrigin", Kind::Str, To::IntoList("apiAllowOrigins")),
    d(
        "metricsAllowOrigin",
        Kind::Str,
        To::IntoList("metricsAllowOrigins"),
    ),
    d(
        "pprofAllowOrigin",
        Kind::Str,
        To::IntoList("pprofAllowOrigins"),
    ),
    d(
        "playbackAllowOrigin",
        Kind::Str,
        To::IntoList("playbackAllowOrigins"),
    ),
    d("rtspDisable", Kind::Bool, To::Invert("rtsp")),
    d("protocols", Kind::List, To::Rename("rtspTransports")),
    d("encryption", Kind::Str, To::Rename("rtspEncryption")),
    d("authMethods", Kind::List, To::Rename("rtspAuthMethods")),
    d(
        "rtspUDPReadBufferSize",
        Kind::Int,
        To::Rename("udpReadBufferSize"),
    ),
    d("rtmpDisable", Kind::Bool, To::Invert("rtmp")),
    d("hlsDisable", Kind::Bool, To::Invert("hls")),
    d("hlsAllowOrigin", Kind::Str, To::IntoList("hlsAllowOrigins")),
    d("webrtcDisable", Kind::Bool, To::Invert("webrtc")),
    d(
        "webrtcAllowOrigin",
        Kind::Str,
        To::IntoList("webrtcAllowOrigins"),
    ),
    d(
        "webrtcICEUDPMuxAddress",
        Kind::Str,
        To::Rename("webrtcLocalUDPAddress"),
    ),
    d(
        "webrtcICETCPMuxAddress",
        Kind::Str,
        To::Rename("webrtcLocalTCPAddress"),
    ),
    d(
        "webrtcICEHostNAT1To1IPs",
        Kind::List,
        To::Rename("webrtcAdditionalHosts"),
    ),
    d("webrtcICEServers", Kind::List, To::IceServers),
    d("moqHTTPS2Address", Kind::Str, To::Rename("moqHTTP2Address")),
    d("moqHTTPS3Address", Kind::Str, To::Rename("moqHTTP3Address")),
    d("record", Kind::Bool, To::IntoPathDefaults),
    d("recordPath", Kind::Str, To::IntoPathDefaults),
    d("recordFormat", Kind::Str, To::IntoPathDefaults),
    d("recordPartDuration", Kind::Str, To::IntoPathDefaults),
    d("recordSegmentDuration", Kind::Str, To::IntoPathDefaults),
    d("recordDeleteAfter", Kind::Str, To::IntoPathDefaults),
];

/// Deprecated path keys (in `pathDefaults` and in each path).
const PATH: &[Deprecated] = &[
    d(
        "disablePublisherOverride",
        Kind::Bool,
        To::Invert("overridePublisher"),
    ),
    d("sourceProtocol", Kind::Str, To::Rename("rtspTransport")),
    d("sourceAnyPortEnable", Kind::Bool, To::Rename("rtspAnyPort")),
    d("runOnReady", Kind::Str, To::Rename("runOnAvailable")),
    d(
        "runOnReadyRestart",
        Kind::Bool,
        To::Rename("runOnAvailableRestart"),
    ),
    d("runOnNotReady", Kind::Str, To::Rename("runOnUnavailable")),
    d(
        "rpiCameraProfile",
        Kind::Str,
        To::Rename("rpiCameraH264Profile"),
    ),
    d(
        "rpiCameraHardwareH264Profile",
        Kind::Str,
        To::Rename("rpiCameraH264Profile"),
    ),
    d(
        "rpiCameraSoftwareH264Profile",
        Kind::Str,
        To::Rename("rpiCameraH264Profile"),
    ),
    d(
        "rpiCameraLevel",
        Kind::Str,
        To::Rename("rpiCameraH264Level"),
    ),
    d(
        "rpiCameraHardwareH264Level",
        Kind::Str,
        To::Rename("rpiCameraH264Level"),
    ),
    d(
        "rpiCameraSoftwareH264Level",
        Kind::Str,
        To::Rename("rpiCameraH264Level"),
    ),
    d(
        "rpiCameraJPEGQuality",
        Kind::Int,
        To::Rename("rpiCameraMJPEGQuality"),
    ),
    d("fallback", Kind::Str, To::Unconverted("alwaysAvailable")),
    d("playback", Kind::Bool, To::NoEffect),
    d(
        "publishUser",
        Kind::Str,
        To::Unconverted("authInternalUsers"),
    ),
    d(
        "publishPass",
        Kind::Str,
        To::Unconverted("authInternalUsers"),
    ),
    d(
        "publishIPs",
        Kind::List,
        To::Unconverted("authInternalUsers"),
    ),
    d("readUser", Kind::Str, To::Unconverted("authInternalUsers")),
    d("readPass", Kind::Str, To::Unconverted("authInternalUsers")),
    d("readIPs", Kind::List, To::Unconverted("authInternalUsers")),
    d(
        "rtspUDPReadBufferSize",
        Kind::Int,
        To::Unconverted("udpReadBufferSize"),
    ),
    d(
        "rtpUDPReadBufferSize",
        Kind::Int,
        To::Unconverted("udpReadBufferSize"),
    ),
    d(
        "mpegtsUDPReadBufferSize",
        Kind::Int,
        To::Unconverted("udpReadBufferSize"),
    ),
];

/// The deprecated global keys and their value types.
pub(crate) fn global_keys() -> impl Iterator<Item = (&'static str, Kind)> {
    GLOBAL.iter().map(|d| (d.key, d.kind))
}

/// The deprecated path keys and their value types.
pub(crate) fn path_keys() -> impl Iterator<Item = (&'static str, Kind)> {
    PATH.iter().map(|d| (d.key, d.kind))
}

/// What mapping the deprecated keys produced.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// One warning per deprecated key, naming it and its successor.
    pub(crate) warnings: Vec<String>,
    /// Deprecated keys weir cannot honour (their successor is not implemented).
    pub(crate) not_implemented: Vec<String>,
}

/// Maps the deprecated keys of a file (global, `pathDefaults`, each path) to their successors.
pub(crate) fn apply(
    user: &mut BTreeMap<String, Yaml>,
    src: &mut Source,
) -> Result<Outcome, ConfigError> {
    let mut out = Outcome::default();
    for dep in GLOBAL {
        let Some(v) = user.remove(dep.key).filter(|v| *v != Yaml::Null) else {
            continue;
        };
        map_one(user, &[], dep, v, src, &mut out)?;
    }
    if let Some(mut pd) = user.get("pathDefaults").and_then(Yaml::as_map) {
        map_path(&mut pd, &["pathDefaults"], src, &mut out)?;
        user.insert("pathDefaults".into(), Yaml::Map(pd));
    }
    if let Some(mut paths) = user.get("paths").and_then(Yaml::as_map) {
        for (name, entry) in paths.iter_mut() {
            if let Yaml::Map(m) = entry {
                map_path(m, &["paths", name], src, &mut out)?;
            }
        }
        user.insert("paths".into(), Yaml::Map(paths));
    }
    Ok(out)
}

fn map_path(
    m: &mut BTreeMap<String, Yaml>,
    prefix: &[&str],
    src: &mut Source,
    out: &mut Outcome,
) -> Result<(), ConfigError> {
    for dep in PATH {
        if let Some(v) = m.remove(dep.key).filter(|v| *v != Yaml::Null) {
            map_one(m, prefix, dep, v, src, out)?;
        }
    }
    Ok(())
}

fn map_one(
    m: &mut BTreeMap<String, Yaml>,
    prefix: &[&str],
    dep: &Deprecated,
    v: Yaml,
    src: &mut Source,
    out: &mut Outcome,
) -> Result<(), ConfigError> {
    let at = |key: &'static str| join(prefix, key);
    let name = at(dep.key).join(".");
    let old = at(dep.key);
    let replaced =
        |to: &str| format!("parameter '{name}' is deprecated and has been replaced with '{to}'");
    let type_err = |src: &Source, want: &str, got: &Yaml| {
        src.err(&old, &format!("expected {want}, got {}", got.type_name()))
    };
    match dep.to {
        To::Rename(to) => {
            m.insert(to.to_owned(), v);
            src.alias(&at(to), &old);
            out.warnings.push(replaced(to));
        }
        To::Invert(to) => {
            let Yaml::Bool(b) = v else {
                return Err(type_err(src, "a boolean", &v));
            };
            m.insert(to.to_owned(), Yaml::Bool(!b));
            src.alias(&at(to), &old);
            out.warnings.push(replaced(to));
        }
        To::IntoList(to) => {
            let Yaml::Str(_) = v else {
                return Err(type_err(src, "a string", &v));
            };
            m.insert(to.to_owned(), Yaml::Seq(vec![v]));
            src.alias(&at(to), &old);
            out.warnings.push(replaced(to));
        }
        To::ExternalAuth => {
            let Yaml::Str(_) = v else {
                return Err(type_err(src, "a string", &v));
            };
            m.insert("authMethod".into(), Yaml::Str("http".into()));
            m.insert("authHTTPAddress".into(), v);
            src.alias(&at("authMethod"), &old);
            src.alias(&at("authHTTPAddress"), &old);
            out.warnings
                .push(replaced("authMethod' and 'authHTTPAddress"));
        }
        To::IceServers => {
            let Yaml::Seq(items) = v else {
                return Err(type_err(src, "a list", &v));
            };
            let mut servers = match m.remove("webrtcICEServers2") {
                Some(Yaml::Seq(s)) => s,
                _ => Vec::new(),
            };
            for it in items {
                let Yaml::Str(s) = it else {
                    return Err(type_err(src, "a list of strings", &it));
                };
                servers.push(ice_server(&s));
            }
            m.insert("webrtcICEServers2".into(), Yaml::Seq(servers));
            src.alias(&at("webrtcICEServers2"), &old);
            out.warnings.push(replaced("webrtcICEServers2"));
        }
        To::Unconverted(to) => {
            out.warnings.push(format!(
                "{} (weir does not convert it: '{to}' is not implemented yet)",
                replaced(to)
            ));
            out.not_implemented.push(name);
        }
        To::IntoPathDefaults => {
            // Only global keys move to `pathDefaults`: `m` is the file's top level.
            let mut pd = m
                .get("pathDefaults")
                .and_then(Yaml::as_map)
                .unwrap_or_default();
            pd.insert(dep.key.to_owned(), v);
            m.insert("pathDefaults".into(), Yaml::Map(pd));
            src.alias(&["pathDefaults", dep.key], &old);
            out.warnings
                .push(replaced(&format!("pathDefaults.{}", dep.key)));
        }
        To::Removed => {
            out.warnings.push(format!(
                "parameter '{name}' is deprecated and will be removed (not implemented in weir)"
            ));
            out.not_implemented.push(name);
        }
        To::NoEffect => out.warnings.push(format!(
            "parameter '{name}' is deprecated and has no effect"
        )),
    }
    Ok(())
}

/// `prefix` and then `key`, as a key path.
fn join<'a>(prefix: &[&'a str], key: &'a str) -> Vec<&'a str> {
    let mut p = prefix.to_vec();
    p.push(key);
    p
}

/// A `webrtcICEServers` string as a `webrtcICEServers2` entry (MediaMTX's conversion):
/// `turn:user:pass:host:port` carries credentials, anything else is a bare URL.
fn ice_server(s: &str) -> Yaml {
    let parts: Vec<&str> = s.split(':').collect();
    let mut e = BTreeMap::new();
    if parts.len() == 5 {
        let url = format!("{}:{}:{}", parts[0], parts[3], parts[4]);
        e.insert("url".to_owned(), Yaml::Str(url));
        e.insert("username".to_owned(), Yaml::Str(parts[1].to_owned()));
        e.insert("password".to_owned(), Yaml::Str(parts[2].to_owned()));
    } else {
        e.insert("url".to_owned(), Yaml::Str(s.to_owned()));
    }
    Yaml::Map(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_CONFIG;

    fn sample(kind: Kind) -> Yaml {
        match kind {
            Kind::Bool => Yaml::Bool(true),
            Kind::Int => Yaml::Int(7),
            Kind::Str => Yaml::Str("v".into()),
            Kind::List => Yaml::Seq(vec![Yaml::Str("v".into())]),
        }
    }

    fn map(v: Option<&Yaml>) -> BTreeMap<String, Yaml> {
        v.and_then(Yaml::as_map).unwrap_or_default()
    }

    /// Maps `key: value` written at `prefix` (top level, `pathDefaults`, or `paths.cam`).
    fn run(prefix: &[&str], key: &str, value: Yaml) -> (BTreeMap<String, Yaml>, Outcome) {
        let mut inner = BTreeMap::new();
        inner.insert(key.to_owned(), value);
        let mut user = match prefix {
            [] => inner,
            [a] => BTreeMap::from([((*a).to_owned(), Yaml::Map(inner))]),
            [a, b] => BTreeMap::from([(
                (*a).to_owned(),
                Yaml::Map(BTreeMap::from([((*b).to_owned(), Yaml::Map(inner))])),
            )]),
            _ => panic!("unexpected prefix"),
        };
        let mut src = Source::new("");
        let out = apply(&mut user, &mut src).unwrap();
        (user, out)
    }

    fn check(dep: &Deprecated, prefix: &[&str]) {
        let value = sample(dep.kind);
        let (user, out) = run(prefix, dep.key, value.clone());
        let scope = match prefix {
            [] => user.clone(),
            [a] => map(user.get(*a)),
            [a, b] => map(map(user.get(*a)).get(*b)),
            _ => unreachable!(),
        };
        let name = join(prefix, dep.key).join(".");
        assert!(!scope.contains_key(dep.key), "{name} stays");
        assert_eq!(out.warnings.len(), 1, "{name}: {:?}", out.warnings);
        let w = &out.warnings[0];
        assert!(
            w.starts_with(&format!("parameter '{name}' is deprecated")),
            "{w}"
        );
        let replaced = |to: &str| format!("and has been replaced with '{to}'");
        match dep.to {
            To::Rename(to) => {
                assert_eq!(scope.get(to), Some(&value), "{name}");
                assert!(w.ends_with(&replaced(to)), "{w}");
            }
            To::Invert(to) => {
                assert_eq!(scope.get(to), Some(&Yaml::Bool(false)), "{name}");
                assert!(w.ends_with(&replaced(to)), "{w}");
            }
            To::IntoList(to) => {
                assert_eq!(scope.get(to), Some(&Yaml::Seq(vec![value])), "{name}");
                assert!(w.ends_with(&replaced(to)), "{w}");
            }
            To::IntoPathDefaults => {
                assert_eq!(map(user.get("pathDefaults")).get(dep.key), Some(&value));
                assert!(w.ends_with(&replaced(&format!("pathDefaults.{}", dep.key))));
            }
            To::ExternalAuth => {
                assert_eq!(scope.get("authMethod"), Some(&Yaml::Str("http".into())));
                assert_eq!(scope.get("authHTTPAddress"), Some(&value));
                assert!(
                    w.contains("'authMethod'") && w.contains("'authHTTPAddress'"),
                    "{w}"
                );
            }
            To::IceServers => {
                assert!(
                    matches!(scope.get("webrtcICEServers2"), Some(Yaml::Seq(s)) if s.len() == 1)
                );
                assert!(w.ends_with(&replaced("webrtcICEServers2")), "{w}");
            }
            To::Unconverted(to) => {
                assert!(w.contains(&replaced(to)), "{w}");
                assert_eq!(out.not_implemented, vec![name.clone()]);
            }
            To::Removed => assert_eq!(out.not_implemented, vec![name.clone()]),
            To::NoEffect => {
                assert!(w.ends_with("has no effect"), "{w}");
                assert!(out.not_implemented.is_empty());
            }
        }
    }

    #[test]
    fn every_deprecated_key_maps_with_a_warning_naming_it_and_its_successor() {
        for dep in GLOBAL {
            check(dep, &[]);
        }
        for dep in PATH {
            check(dep, &["pathDefaults"]);
            check(dep, &["paths", "cam"]);
        }
    }

    #[test]
    fn every_successor_is_a_key_of_mediamtx_s_file() {
        let defaults: Yaml = serde_saphyr::from_str(DEFAULT_CONFIG).unwrap();
        let global = defaults.as_map().unwrap();
        let path = map(global.get("pathDefaults"));
        let known = |scope: &BTreeMap<String, Yaml>, k: &str| {
            assert!(
                scope.contains_key(k),
                "successor '{k}' is not a MediaMTX key"
            );
        };
        for (deps, scope) in [(GLOBAL, &global), (PATH, &path)] {
            for dep in deps {
                assert!(!scope.contains_key(dep.key), "'{}' is current", dep.key);
                match dep.to {
                    To::Rename(to) | To::Invert(to) | To::IntoList(to) => known(scope, to),
                    To::IntoPathDefaults => known(&path, dep.key),
                    To::ExternalAuth => {
                        known(scope, "authMethod");
                        known(scope, "authHTTPAddress");
                    }
                    To::IceServers => known(scope, "webrtcICEServers2"),
                    To::Unconverted(to) => {
                        assert!(global.contains_key(to) || path.contains_key(to), "{to}")
                    }
                    To::Removed | To::NoEffect => {}
                }
            }
        }
    }

    #[test]
    fn ice_servers_carry_their_credentials_over() {
        let v = Yaml::Seq(vec![
            Yaml::Str("turn:user:pass:turn.example:3478".into()),
            Yaml::Str("stun:stun.example:19302".into()),
        ]);
        let (user, _) = run(&[], "webrtcICEServers", v);
        let expected: Yaml = serde_saphyr::from_str(
            "- {url: 'turn:turn.example:3478', username: user, password: pass}\n\
             - {url: 'stun:stun.example:19302'}\n",
        )
        .unwrap();
        assert_eq!(user.get("webrtcICEServers2"), Some(&expected));
    }

    #[test]
    fn the_deprecated_key_wins_and_null_counts_as_unset() {
        let mut user: BTreeMap<String, Yaml> =
            serde_saphyr::from_str("protocols: [tcp]\nrtspTransports: [udp]\nhlsDisable:\n")
                .unwrap();
        let out = apply(&mut user, &mut Source::new("")).unwrap();
        assert_eq!(
            user.get("rtspTransports"),
            Some(&Yaml::Seq(vec![Yaml::Str("tcp".into())]))
        );
        assert!(!user.contains_key("hlsDisable") && !user.contains_key("hls"));
        assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    }

    #[test]
    fn a_wrong_type_names_the_deprecated_key_and_its_line() {
        let text = "logLevel: info\nhlsDisable: sometimes\n";
        let mut user: BTreeMap<String, Yaml> = serde_saphyr::from_str(text).unwrap();
        let e = apply(&mut user, &mut Source::new(text)).unwrap_err();
        assert_eq!(
            e.0,
            "invalid configuration: key 'hlsDisable' (line 2): expected a boolean, got a string"
        );
    }
}
