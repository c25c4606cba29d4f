//! Loading `mediamtx.yml`: every key is checked against MediaMTX's own default file (embedded);
//! implemented keys take effect, the others are reported by name when set to a non-default
//! value, and unknown keys or wrong types are errors naming the key and its line (or the
//! environment variable that set it).
//!
//! Order, as MediaMTX's: the file ([`search`] finds it), then `MTX_` variables ([`env`]), then
//! deprecated keys mapped to their successors ([`deprecated`]), then the checks.

mod deprecated;
mod duration;
mod env;
mod paths;
pub mod search;
mod source;
#[cfg(test)]
mod tests;
mod yaml;

pub use duration::parse_duration;
pub use yaml::Yaml;

use source::Source;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;
use weir_core::rtsp::server::{ServerConfig, TransportSet};
use weir_core::settings::{HlsSettings, RtmpSettings, RtspSettings, Settings};

/// MediaMTX's default configuration file, weir's embedded default.
pub const DEFAULT_CONFIG: &str = include_str!("mediamtx.yml");

/// Global keys weir implements.
const IMPLEMENTED: &[&str] = &[
    "runOnConnect",
    "runOnConnectRestart",
    "runOnDisconnect",
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

impl LogLevel {
    /// The value as `logLevel` spells it.
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
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
    /// Warnings of the load: deprecated keys, each with its successor.
    pub warnings: Vec<String>,
    /// Every global key (not `paths` / `pathDefaults`) with its effective value as text, to
    /// name the keys a reload changes.
    pub globals: BTreeMap<String, String>,
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

/// Loads a configuration file's text (`None`: the embedded default), with no environment.
#[cfg(test)]
pub fn load(text: Option<&str>) -> Result<Config, ConfigError> {
    load_with_env(text, &[])
}

/// Loads a configuration file's text (`None`: the embedded default) with the `MTX_` overrides of
/// `env` (name, value) applied over it.
pub fn load_with_env(text: Option<&str>, env: &[(String, String)]) -> Result<Config, ConfigError> {
    let defaults = parse_map(DEFAULT_CONFIG, "embedded default")?;
    let text = text.unwrap_or(DEFAULT_CONFIG);
    let mut user = parse_map(text, "file")?;
    let mut src = Source::new(text);
    env::apply(&mut user, &defaults, env, &mut src)?;
    let deprecated = deprecated::apply(&mut user, &mut src)?;
    let mut not_implemented = Vec::new();
    for (k, v) in &user {
        match defaults.get(k) {
            None => return Err(src.err(&[k], "not a MediaMTX configuration key")),
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
        other => Err(src.err(
            &[k],
            &format!("expected a string, got {}", other.type_name()),
        )),
    };
    let boolean = |k: &str| match get(k) {
        Yaml::Bool(b) => Ok(b),
        other => Err(src.err(
            &[k],
            &format!("expected a boolean, got {}", other.type_name()),
        )),
    };
    let duration = |k: &str| {
        let s = string(k)?;
        match parse_duration(&s) {
            Ok(d) if d > Duration::ZERO => Ok(d),
            Ok(_) => Err(src.err(&[k], "must be greater than zero")),
            Err(e) => Err(src.err(&[k], &e)),
        }
    };
    let uint = |k: &str, max: i64| match get(k) {
        Yaml::Int(i) if (1..=max).contains(&i) => Ok(i),
        Yaml::Int(i) => Err(src.err(&[k], &format!("{i} is out of range (1..={max})"))),
        other => Err(src.err(
            &[k],
            &format!("expected an integer, got {}", other.type_name()),
        )),
    };
    let address = |k: &str| {
        let s = string(k)?;
        parse_address(&s).ok_or_else(|| src.err(&[k], &format!("'{s}' is not a host:port address")))
    };

    let log_level = match string("logLevel")?.as_str() {
        "debug" => LogLevel::Debug,
        "info" => LogLevel::Info,
        "warn" => LogLevel::Warn,
        "error" => LogLevel::Error,
        other => {
            return Err(src.err(
                &["logLevel"],
                &format!("'{other}' is not debug, info, warn or error"),
            ))
        }
    };
    let write_queue_size = uint("writeQueueSize", 1 << 20)? as usize;
    if !write_queue_size.is_power_of_two() {
        return Err(src.err(&["writeQueueSize"], "must be a power of two"));
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
                            src.err(&["rtspTransports"], &format!("invalid transport {other:?}"))
                        )
                    }
                }
            }
            set
        }
        other => {
            return Err(src.err(
                &["rtspTransports"],
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
                &["multicastIPRange"],
                &format!("'{range}' is not a multicast CIDR range"),
            )
        })?;

    let (paths, path_warnings) = paths::load(&src, &defaults, &user)?;
    not_implemented.extend(path_warnings);
    not_implemented.extend(deprecated.not_implemented);

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
                &["hlsVariant"],
                &format!("'{variant}' is not mpegts, fmp4 or lowLatency"),
            )
        })?;
        let size = string("hlsSegmentMaxSize")?;
        let segment_max_size = parse_size(&size)
            .ok_or_else(|| src.err(&["hlsSegmentMaxSize"], &format!("'{size}' is not a size")))?;
        let allow_origins = match get("hlsAllowOrigins") {
            Yaml::Seq(items) => items
                .into_iter()
                .map(|i| match i {
                    Yaml::Str(s) => Ok(s),
                    other => {
                        Err(src.err(&["hlsAllowOrigins"], &format!("{other:?} is not a string")))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?,
            other => {
                return Err(src.err(
                    &["hlsAllowOrigins"],
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
    let command = |k: &str| match get(k) {
        Yaml::Null => Ok(String::new()),
        Yaml::Str(s) => Ok(s),
        other => Err(src.err(
            &[k],
            &format!("expected a command line, got {}", other.type_name()),
        )),
    };
    let settings = Settings {
        paths,
        write_timeout: duration("writeTimeout")?,
        write_queue_size,
        rtsp,
        rtmp,
        hls,
        hooks: Some(std::sync::Arc::new(crate::hookrun::ProcessHooks)),
        run_on_connect: command("runOnConnect")?,
        run_on_connect_restart: boolean("runOnConnectRestart")?,
        run_on_disconnect: command("runOnDisconnect")?,
        tls_roots: crate::tls::system_roots(),
    };
    let globals = defaults
        .keys()
        .filter(|k| *k != "paths" && *k != "pathDefaults")
        .map(|k| (k.clone(), format!("{:?}", get(k))))
        .collect();
    Ok(Config {
        log_level,
        settings,
        not_implemented,
        warnings: deprecated.warnings,
        globals,
    })
}
