//! Loading `mediamtx.yml`: every key is checked against MediaMTX's own default file (embedded);
//! implemented keys take effect, the others are reported by name when set to a non-default
//! value, and unknown keys or wrong types are errors naming the key and its line.

mod duration;
mod yaml;

pub use duration::parse_duration;
pub use yaml::Yaml;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use weir_core::media::PathConf;
use weir_core::rtsp::server::{ServerConfig, TransportSet};
use weir_core::settings::{HlsSettings, RtmpSettings, RtspSettings, Settings};

/// MediaMTX's default configuration file, weir's embedded default.
pub const DEFAULT_CONFIG: &str = include_str!("mediamtx.yml");

/// Global keys weir implements.
const IMPLEMENTED: &[&str] = &[
    "logLevel",
    "readTimeout",
    "writeTimeout",
    "writeQueueSize",
    "rtsp",
    "rtspTransports",
    "rtmp",
    "rtmpAddress",
    "hls",
    "hlsAddress",
    "hlsAllowOrigins",
    "hlsAlwaysRemux",
    "hlsVariant",
    "hlsSegmentCount",
    "hlsSegmentDuration",
    "hlsPartDuration",
    "hlsSegmentMaxSize",
    "hlsMuxerCloseAfter",
    "rtspAddress",
    "rtpAddress",
    "rtcpAddress",
    "multicastIPRange",
    "multicastRTPPort",
    "multicastRTCPPort",
    "pathDefaults",
    "paths",
];

/// Path keys weir implements.
const IMPLEMENTED_PATH: &[&str] = &["source", "overridePublisher", "maxReaders"];

/// The log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// Everything.
    Debug,
    /// Normal operation.
    Info,
    /// Problems only.
    Warn,
    /// Errors only.
    Error,
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `logLevel`.
    pub log_level: LogLevel,
    /// The servers to run and their settings.
    pub settings: Settings,
    /// Keys set to non-default values that weir does not implement yet.
    pub not_implemented: Vec<String>,
}

/// A configuration error, naming the key and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

struct Source<'a> {
    text: &'a str,
}

impl Source<'_> {
    /// The 1-based line where `key` is first written as a mapping key.
    fn line_of(&self, key: &str) -> String {
        for (i, line) in self.text.lines().enumerate() {
            let t = line.trim_start();
            if let Some(rest) = t.strip_prefix(key) {
                if rest.trim_start().starts_with(':') {
                    return format!(" (line {})", i + 1);
                }
            }
        }
        String::new()
    }

    fn err(&self, key: &str, what: &str) -> ConfigError {
        ConfigError(format!(
            "invalid configuration: key '{key}'{}: {what}",
            self.line_of(key)
        ))
    }
}

fn parse_map(text: &str, what: &str) -> Result<BTreeMap<String, Yaml>, ConfigError> {
    let y: Yaml = serde_saphyr::from_str(text)
        .map_err(|e| ConfigError(format!("invalid configuration ({what}): {e}")))?;
    y.as_map()
        .ok_or_else(|| ConfigError(format!("invalid configuration ({what}): not a map of keys")))
}

/// A size as MediaMTX writes it: `50M`, `512K`, `1G` (binary multiples), or plain bytes.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last()? {
        (i, 'K' | 'k') => (&s[..i], 1u64 << 10),
        (i, 'M' | 'm') => (&s[..i], 1 << 20),
        (i, 'G' | 'g') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

fn parse_address(s: &str) -> Option<SocketAddr> {
    if let Some(port) = s.strip_prefix(':') {
        return port
            .parse()
            .ok()
            .map(|p| SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), p));
    }
    s.parse().ok()
}

/// Loads a configuration file's text (`None`: the embedded default).
pub fn load(text: Option<&str>) -> Result<Config, ConfigError> {
    let defaults = parse_map(DEFAULT_CONFIG, "embedded default")?;
    let text = text.unwrap_or(DEFAULT_CONFIG);
    let user = parse_map(text, "file")?;
    let src = Source { text };
    let mut not_implemented = Vec::new();
    for (k, v) in &user {
        match defaults.get(k) {
            None => return Err(src.err(k, "not a MediaMTX configuration key")),
            Some(d) if !IMPLEMENTED.contains(&k.as_str()) && d != v => {
                not_implemented.push(k.clone())
            }
            _ => {}
        }
    }
    let get = |k: &str| {
        user.get(k)
            .or_else(|| defaults.get(k))
            .cloned()
            .unwrap_or(Yaml::Null)
    };
    let string = |k: &str| match get(k) {
        Yaml::Str(s) => Ok(s),
        other => Err(src.err(k, &format!("expected a string, got {}", other.type_name()))),
    };
    let boolean = |k: &str| match get(k) {
        Yaml::Bool(b) => Ok(b),
        other => Err(src.err(k, &format!("expected a boolean, got {}", other.type_name()))),
    };
    let duration = |k: &str| {
        let s = string(k)?;
        match parse_duration(&s) {
            Ok(d) if d > Duration::ZERO => Ok(d),
            Ok(_) => Err(src.err(k, "must be greater than zero")),
            Err(e) => Err(src.err(k, &e)),
        }
    };
    let uint = |k: &str, max: i64| match get(k) {
        Yaml::Int(i) if (1..=max).contains(&i) => Ok(i),
        Yaml::Int(i) => Err(src.err(k, &format!("{i} is out of range (1..={max})"))),
        other => Err(src.err(
            k,
            &format!("expected an integer, got {}", other.type_name()),
        )),
    };
    let address = |k: &str| {
        let s = string(k)?;
        parse_address(&s).ok_or_else(|| src.err(k, &format!("'{s}' is not a host:port address")))
    };

    let log_level = match string("logLevel")?.as_str() {
        "debug" => LogLevel::Debug,
        "info" => LogLevel::Info,
        "warn" => LogLevel::Warn,
        "error" => LogLevel::Error,
        other => {
            return Err(src.err(
                "logLevel",
                &format!("'{other}' is not debug, info, warn or error"),
            ))
        }
    };
    let write_queue_size = uint("writeQueueSize", 1 << 20)? as usize;
    if !write_queue_size.is_power_of_two() {
        return Err(src.err("writeQueueSize", "must be a power of two"));
    }
    let transports = match get("rtspTransports") {
        Yaml::Seq(items) => {
            let mut set = TransportSet {
                udp: false,
                multicast: false,
                tcp: false,
            };
            for it in items {
                match it {
                    Yaml::Str(s) if s == "udp" => set.udp = true,
                    Yaml::Str(s) if s == "multicast" => set.multicast = true,
                    Yaml::Str(s) if s == "tcp" => set.tcp = true,
                    other => {
                        return Err(
                            src.err("rtspTransports", &format!("invalid transport {other:?}"))
                        )
                    }
                }
            }
            set
        }
        other => {
            return Err(src.err(
                "rtspTransports",
                &format!("expected a list, got {}", other.type_name()),
            ))
        }
    };
    let range = string("multicastIPRange")?;
    let multicast_range = range
        .split_once('/')
        .and_then(|(ip, bits)| Some((ip.parse::<Ipv4Addr>().ok()?, bits.parse::<u8>().ok()?)))
        .filter(|(ip, bits)| *bits <= 32 && ip.is_multicast())
        .ok_or_else(|| {
            src.err(
                "multicastIPRange",
                &format!("'{range}' is not a multicast CIDR range"),
            )
        })?;

    let (paths, path_warnings) = load_paths(&src, &defaults, &user)?;
    not_implemented.extend(path_warnings);

    let read_timeout = duration("readTimeout")?;
    let core = ServerConfig {
        read_timeout,
        transports,
        ..ServerConfig::default()
    };
    let rtsp = if boolean("rtsp")? {
        Some(RtspSettings {
            rtsp_address: address("rtspAddress")?,
            rtp_address: address("rtpAddress")?,
            rtcp_address: address("rtcpAddress")?,
            multicast_range,
            multicast_rtp_port: uint("multicastRTPPort", 65535)? as u16,
            multicast_rtcp_port: uint("multicastRTCPPort", 65535)? as u16,
            core,
        })
    } else {
        None
    };
    let rtmp = if boolean("rtmp")? {
        Some(RtmpSettings {
            address: address("rtmpAddress")?,
            read_timeout,
        })
    } else {
        None
    };
    let hls = if boolean("hls")? {
        let variant = string("hlsVariant")?;
        let variant = weir_core::hls::HlsVariant::from_config(&variant).ok_or_else(|| {
            src.err(
                "hlsVariant",
                &format!("'{variant}' is not mpegts, fmp4 or lowLatency"),
            )
        })?;
        let size = string("hlsSegmentMaxSize")?;
        let segment_max_size = parse_size(&size)
            .ok_or_else(|| src.err("hlsSegmentMaxSize", &format!("'{size}' is not a size")))?;
        let allow_origins = match get("hlsAllowOrigins") {
            Yaml::Seq(items) => items
                .into_iter()
                .map(|i| match i {
                    Yaml::Str(s) => Ok(s),
                    other => Err(src.err("hlsAllowOrigins", &format!("{other:?} is not a string"))),
                })
                .collect::<Result<Vec<_>, _>>()?,
            other => {
                return Err(src.err(
                    "hlsAllowOrigins",
                    &format!("expected a list, got {}", other.type_name()),
                ))
            }
        };
        Some(HlsSettings {
            address: address("hlsAddress")?,
            allow_origins,
            always_remux: boolean("hlsAlwaysRemux")?,
            muxer: weir_core::hls::HlsConfig {
                variant,
                segment_count: uint("hlsSegmentCount", 1000)? as usize,
                segment_duration: duration("hlsSegmentDuration")?,
                part_duration: duration("hlsPartDuration")?,
                segment_max_size,
            },
            muxer_close_after: duration("hlsMuxerCloseAfter")?,
            read_timeout,
        })
    } else {
        None
    };
    let settings = Settings {
        paths,
        write_timeout: duration("writeTimeout")?,
        write_queue_size,
        rtsp,
        rtmp,
        hls,
    };
    Ok(Config {
        log_level,
        settings,
        not_implemented,
    })
}

fn load_paths(
    src: &Source<'_>,
    defaults: &BTreeMap<String, Yaml>,
    user: &BTreeMap<String, Yaml>,
) -> Result<(Vec<PathConf>, Vec<String>), ConfigError> {
    let path_defaults = defaults
        .get("pathDefaults")
        .and_then(Yaml::as_map)
        .unwrap_or_default();
    let mut user_defaults = path_defaults.clone();
    let mut warnings = Vec::new();
    if let Some(v) = user.get("pathDefaults") {
        let m = v
            .as_map()
            .ok_or_else(|| src.err("pathDefaults", "expected a map"))?;
        for (k, v) in m {
            check_path_key(src, &path_defaults, "pathDefaults", &k, &v, &mut warnings)?;
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
        .ok_or_else(|| src.err("paths", "expected a map of path names"))?;
    let mut out = Vec::new();
    for (name, entry) in paths {
        let entry = entry
            .as_map()
            .ok_or_else(|| src.err(&name, "expected a map of path settings"))?;
        if name.starts_with('~') {
            warnings.push(format!("paths.{name} (regular-expression paths)"));
            continue;
        }
        if name != "all" && name != "all_others" {
            weir_core::media::validate_path_name(&name)
                .map_err(|e| src.err(&name, &e.to_string()))?;
        }
        let mut merged = user_defaults.clone();
        for (k, v) in entry {
            check_path_key(
                src,
                &path_defaults,
                &format!("paths.{name}"),
                &k,
                &v,
                &mut warnings,
            )?;
            merged.insert(k, v);
        }
        let source = match merged.get("source") {
            Some(Yaml::Str(s)) => s.clone(),
            _ => "publisher".into(),
        };
        if source != "publisher" {
            warnings.push(format!("paths.{name}.source ('{source}')"));
        }
        let override_publisher = match merged.get("overridePublisher") {
            Some(Yaml::Bool(b)) => *b,
            Some(other) => {
                return Err(src.err(
                    "overridePublisher",
                    &format!("expected a boolean, got {}", other.type_name()),
                ))
            }
            None => true,
        };
        let max_readers = match merged.get("maxReaders") {
            Some(Yaml::Int(i)) if *i >= 0 => *i as u32,
            Some(other) => {
                return Err(src.err("maxReaders", &format!("expected a count, got {other:?}")))
            }
            None => 0,
        };
        out.push(PathConf {
            name,
            source,
            override_publisher,
            max_readers,
        });
    }
    Ok((out, warnings))
}

fn check_path_key(
    src: &Source<'_>,
    path_defaults: &BTreeMap<String, Yaml>,
    prefix: &str,
    k: &str,
    v: &Yaml,
    warnings: &mut Vec<String>,
) -> Result<(), ConfigError> {
    match path_defaults.get(k) {
        None => Err(src.err(k, "not a MediaMTX path configuration key")),
        Some(d) if !IMPLEMENTED_PATH.contains(&k) && d != v => {
            warnings.push(format!("{prefix}.{k}"));
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_loads_as_mediamtx_ships() {
        let c = load(None).unwrap();
        assert_eq!(c.log_level, LogLevel::Info);
        assert_eq!(c.settings.rtsp.as_ref().unwrap().rtsp_address.port(), 8554);
        assert_eq!(c.settings.rtsp.as_ref().unwrap().rtp_address.port(), 8000);
        assert_eq!(c.settings.rtsp.as_ref().unwrap().rtcp_address.port(), 8001);
        assert_eq!(c.settings.rtsp.as_ref().unwrap().multicast_rtp_port, 8002);
        assert_eq!(c.settings.write_queue_size, 512);
        assert_eq!(c.settings.paths.len(), 1);
        assert_eq!(c.settings.paths[0].name, "all_others");
        assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
    }

    #[test]
    fn small_file_overrides_defaults() {
        let c = load(Some("rtspAddress: 127.0.0.1:0\nrtspTransports: [tcp]\npaths:\n  cam:\n    overridePublisher: no\n")).unwrap();
        assert_eq!(
            c.settings.rtsp.as_ref().unwrap().rtsp_address,
            "127.0.0.1:0".parse().unwrap()
        );
        assert!(!c.settings.rtsp.as_ref().unwrap().core.transports.udp);
        assert_eq!(c.settings.paths[0].name, "cam");
        assert!(!c.settings.paths[0].override_publisher);
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let e = load(Some("logLevel: info\nrtspAdress: :8554\n")).unwrap_err();
        assert!(
            e.0.contains("'rtspAdress'") && e.0.contains("line 2"),
            "{e}"
        );
    }

    #[test]
    fn wrong_type_is_an_error_naming_the_key() {
        let e = load(Some("writeQueueSize: many\n")).unwrap_err();
        assert!(
            e.0.contains("'writeQueueSize'") && e.0.contains("line 1"),
            "{e}"
        );
        let e = load(Some("readTimeout: 10\n")).unwrap_err();
        assert!(e.0.contains("'readTimeout'"), "{e}");
    }

    #[test]
    fn unimplemented_keys_are_reported_by_name() {
        let c = load(Some(
            "srt: false\napi: yes\nrtmp: true\nhlsVariant: mpegts\n",
        ))
        .unwrap();
        assert_eq!(
            c.not_implemented,
            vec!["api".to_string(), "srt".to_string()]
        );
    }

    #[test]
    fn hls_defaults_and_sizes() {
        let c = load(None).unwrap();
        let h = c.settings.hls.unwrap();
        assert_eq!(h.address.port(), 8888);
        assert_eq!(h.muxer, weir_core::hls::HlsConfig::default());
        assert_eq!(h.allow_origins, vec!["*".to_string()]);
        assert_eq!(parse_size("50M"), Some(50 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("x"), None);
        let e = load(Some("hlsVariant: dash\n")).unwrap_err();
        assert!(e.0.contains("'hlsVariant' (line 1)"), "{e}");
    }

    #[test]
    fn invalid_path_name_is_rejected() {
        let e = load(Some("paths:\n  'a b':\n")).unwrap_err();
        assert!(e.0.contains("a b"), "{e}");
    }
}
