//! The path registry: which configured path a name falls under, who publishes to it, who reads.
//!
//! Generic over the adapter's stream handle `S` (for example an `Arc` of a locked ring): the
//! core decides, the adapter holds the shared state.

use std::collections::HashMap;
use std::time::Duration;

/// The configuration of one path entry (a subset of MediaMTX's path keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathConf {
    /// The entry's name: an exact path name, `~` and a regular expression (`~^cam(\d+)$`), or
    /// `all_others` / `all` (match anything).
    pub name: String,
    /// Where the stream comes from; may hold `$G1`… (see [`PathMatch::expand`]).
    pub source: String,
    /// Whether a new publisher replaces the current one instead of being refused.
    pub override_publisher: bool,
    /// Maximum readers (0 = unlimited).
    pub max_readers: u32,
    /// `sourceOnDemand`: pull the source only while someone reads the path.
    pub source_on_demand: bool,
    /// `sourceOnDemandStartTimeout`: how long a reader waits for the source to be ready.
    pub source_on_demand_start_timeout: Duration,
    /// `sourceOnDemandCloseAfter`: how long the source stays after the last reader left.
    pub source_on_demand_close_after: Duration,
    /// `sourceFingerprint`: the SHA-256 (hex) of an `rtsps://` / `rtmps://` source's
    /// certificate; empty: the certificate must chain to a trusted root.
    pub source_fingerprint: String,
    /// `sourceRedirect`: where readers are sent when `source` is `redirect` (an `rtsp://` URL
    /// or a path such as `/other`).
    pub source_redirect: String,
    /// `rtspTransport`: how an `rtsp(s)://` source's media travels.
    pub rtsp_transport: crate::rtsp::client::RtspTransport,
    /// `rtspAnyPort`: accept an RTSP source's UDP media from any port of its server.
    pub rtsp_any_port: bool,
    /// The `runOn…` hooks.
    pub hooks: crate::hooks::PathHooks,
}

impl PathConf {
    /// A configuration accepting any path, publishable and readable by anyone.
    pub fn all_others() -> PathConf {
        PathConf {
            name: "all_others".into(),
            source: "publisher".into(),
            override_publisher: true,
            max_readers: 0,
            source_on_demand: false,
            source_on_demand_start_timeout: Duration::from_secs(10),
            source_on_demand_close_after: Duration::from_secs(10),
            source_redirect: String::new(),
            source_fingerprint: String::new(),
            rtsp_transport: Default::default(),
            rtsp_any_port: false,
            hooks: crate::hooks::PathHooks {
                run_on_demand_start_timeout: Duration::from_secs(10),
                run_on_demand_close_after: Duration::from_secs(10),
                ..Default::default()
            },
        }
    }

    /// Whether the entry pulls its stream from another server (`rtsp://`, `rtsps://`,
    /// `rtmp://`, `rtmps://`).
    pub fn pulls(&self) -> bool {
        ["rtsp://", "rtsps://", "rtmp://", "rtmps://"]
            .iter()
            .any(|p| self.source.starts_with(p))
    }

    /// Whether the entry matches any name (`all`, `all_others`).
    pub fn is_catch_all(&self) -> bool {
        self.name == "all" || self.name == "all_others"
    }

    /// The regular expression of a `~` entry, without the tilde.
    pub fn regex_source(&self) -> Option<&str> {
        self.name.strip_prefix('~')
    }

    /// Checks the entry's name as MediaMTX does: `all` / `all_others`, `~` and a regular
    /// expression that compiles, or a valid path name; the error says what is wrong.
    pub fn check_name(&self) -> Result<(), String> {
        if self.is_catch_all() {
            return Ok(());
        }
        if let Some(re) = self.regex_source() {
            return regex_lite::Regex::new(re)
                .map(|_| ())
                .map_err(|e| format!("invalid regular expression '{re}': {e}"));
        }
        match path_name_problem(&self.name) {
            None => Ok(()),
            Some(why) => Err(format!("invalid path name '{}': {why}", self.name)),
        }
    }
}

/// Why a path operation was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The name has characters or a shape MediaMTX does not allow.
    InvalidName(String),
    /// No path entry of the configuration matches the name.
    NotConfigured(String),
    /// Nobody publishes to the path.
    NoOnePublishing(String),
    /// Someone already publishes to the path and `overridePublisher` is off.
    AlreadyPublishing(String),
    /// The path has `maxReaders` readers already.
    TooManyReaders(String),
    /// The path's stream has no track the reader's protocol can carry.
    NoCompatibleTracks(String),
    /// The path reads from a source (`source: rtsp://…`): publishers are refused.
    StaticSource(String),
    /// The path's entry sends readers elsewhere (`source: redirect`).
    Redirect {
        /// The path.
        path: String,
        /// `sourceRedirect`: an `rtsp://` URL or a path (`/other`).
        location: String,
    },
}

impl PathError {
    /// The RTSP status this error is answered with (as MediaMTX answers it).
    pub fn rtsp_status(&self) -> u16 {
        match self {
            PathError::InvalidName(_)
            | PathError::AlreadyPublishing(_)
            | PathError::NoCompatibleTracks(_)
            | PathError::StaticSource(_) => 400,
            PathError::NotConfigured(_) | PathError::NoOnePublishing(_) => 404,
            PathError::TooManyReaders(_) => 503,
            PathError::Redirect { .. } => 301,
        }
    }
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::InvalidName(p) => write!(f, "invalid path name '{p}'"),
            PathError::NotConfigured(p) => write!(f, "path '{p}' is not configured"),
            PathError::NoOnePublishing(p) => write!(f, "no one is publishing to path '{p}'"),
            PathError::AlreadyPublishing(p) => {
                write!(f, "someone is already publishing to path '{p}'")
            }
            PathError::TooManyReaders(p) => write!(f, "path '{p}' has too many readers"),
            PathError::StaticSource(p) => write!(
                f,
                "can't publish to path '{p}' since it is assigned to a static source"
            ),
            PathError::NoCompatibleTracks(p) => {
                write!(
                    f,
                    "the stream on path '{p}' has no track this protocol can carry"
                )
            }
            PathError::Redirect { path, location } => {
                write!(f, "path '{path}' redirects readers to '{location}'")
            }
        }
    }
}

impl std::error::Error for PathError {}

/// The configuration entry a path name matched, with the groups its regular expression captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMatch {
    /// Index of the entry in the configuration.
    pub conf_index: usize,
    /// The capture groups of a `~` entry: `groups[0]` is `$G1` (empty when a group took no part).
    pub groups: Vec<String>,
}

impl PathMatch {
    /// `template` with `$MTX_PATH` replaced by `path` and `$G1`, `$G2`… by the captured groups
    /// (highest first, so `$G10` is not read as `$G1` and a `0`); unknown `$Gn` are left as they are.
    pub fn expand(&self, template: &str, path: &str) -> String {
        let mut out = template.replace("$MTX_PATH", path);
        for (i, g) in self.groups.iter().enumerate().rev() {
            out = out.replace(&format!("$G{}", i + 1), g);
        }
        out
    }
}

/// What a successful publish did.
#[derive(Debug)]
pub struct PublishOutcome<S> {
    /// The publisher that was replaced (with `overridePublisher`), to be closed by the caller.
    pub replaced: Option<(u64, S)>,
}

#[derive(Debug)]
struct PathState<S> {
    publisher: Option<(u64, S)>,
    readers: u32,
}

/// How a `~` or catch-all entry is matched.
#[derive(Debug)]
enum Pattern {
    /// `all`, `all_others`: anything.
    Any,
    /// A `~` entry's regular expression (searched, not anchored, as Go's `FindStringSubmatch`).
    Regex(regex_lite::Regex),
}

/// The registry of live paths.
#[derive(Debug)]
pub struct PathManager<S> {
    confs: Vec<PathConf>,
    /// The `~` and catch-all entries in the order they are tried: `~` entries by name (byte
    /// order), then `all` / `all_others`, as MediaMTX sorts them; entries whose expression does
    /// not compile ([`PathConf::check_name`] rejects them at load) are left out.
    patterns: Vec<(usize, Pattern)>,
    paths: HashMap<String, PathState<S>>,
}

/// What is wrong with a path name, in MediaMTX's words (`None`: nothing).
fn path_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("cannot be empty")
    } else if name.starts_with('/') {
        Some("can't begin with a slash")
    } else if name.ends_with('/') {
        Some("can't end with a slash")
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-.~/:".contains(&b))
    {
        Some(
            "can contain only alphanumeric characters, underscore, dot, tilde, minus, slash, colon",
        )
    } else if name.contains("//") || name.split('/').any(|seg| seg == ".." || seg == ".") {
        // weir's own rule (MediaMTX accepts these): no empty, `.` or `..` segment.
        Some("can't contain empty, '.' or '..' segments")
    } else {
        None
    }
}

/// Checks a path name the way MediaMTX does: non-empty, no leading or trailing slash, only
/// `A-Z a-z 0-9 _ - . ~ / :`; and (weir's addition) no empty, `.` or `..` segment.
pub fn validate_path_name(name: &str) -> Result<(), PathError> {
    match path_name_problem(name) {
        None => Ok(()),
        Some(_) => Err(PathError::InvalidName(name.to_owned())),
    }
}

/// `Err(Redirect)` when `conf` sends the readers of `name` elsewhere.
fn redirect_of(name: &str, conf: &PathConf) -> Result<(), PathError> {
    if conf.source == "redirect" {
        return Err(PathError::Redirect {
            path: name.to_owned(),
            location: conf.source_redirect.clone(),
        });
    }
    Ok(())
}

impl<S: Clone> PathManager<S> {
    /// A registry for the given path entries: an exact name wins, then the `~` entries by name,
    /// then `all` / `all_others` (MediaMTX's order).
    pub fn new(confs: Vec<PathConf>) -> PathManager<S> {
        let mut order: Vec<usize> = (0..confs.len())
            .filter(|&i| confs[i].is_catch_all() || confs[i].regex_source().is_some())
            .collect();
        order.sort_by(|&a, &b| {
            let (ca, cb) = (&confs[a], &confs[b]);
            (ca.is_catch_all(), &ca.name).cmp(&(cb.is_catch_all(), &cb.name))
        });
        let patterns = order
            .into_iter()
            .filter_map(|i| match confs[i].regex_source() {
                None => Some((i, Pattern::Any)),
                Some(re) => regex_lite::Regex::new(re)
                    .ok()
                    .map(|re| (i, Pattern::Regex(re))),
            })
            .collect();
        PathManager {
            confs,
            patterns,
            paths: HashMap::new(),
        }
    }

    /// The configuration entry for `name`, with the groups a `~` entry captured.
    pub fn find_conf(&self, name: &str) -> Result<(PathMatch, &PathConf), PathError> {
        validate_path_name(name)?;
        if let Some(idx) = self.confs.iter().position(|c| c.name == name) {
            let m = PathMatch {
                conf_index: idx,
                groups: Vec::new(),
            };
            return Ok((m, &self.confs[idx]));
        }
        for (idx, pattern) in &self.patterns {
            let groups = match pattern {
                Pattern::Any => Vec::new(),
                Pattern::Regex(re) => match re.captures(name) {
                    Some(caps) => caps
                        .iter()
                        .skip(1)
                        .map(|g| g.map_or_else(String::new, |g| g.as_str().to_owned()))
                        .collect(),
                    None => continue,
                },
            };
            let m = PathMatch {
                conf_index: *idx,
                groups,
            };
            return Ok((m, &self.confs[*idx]));
        }
        Err(PathError::NotConfigured(name.to_owned()))
    }

    /// The stream of a published path (for DESCRIBE).
    pub fn describe(&self, name: &str) -> Result<S, PathError> {
        self.check_redirect(name)?;
        self.paths
            .get(name)
            .and_then(|p| p.publisher.as_ref())
            .map(|(_, s)| s.clone())
            .ok_or_else(|| PathError::NoOnePublishing(name.to_owned()))
    }

    /// Refuses readers of a path whose entry is `source: redirect`, saying where to go.
    pub fn check_redirect(&self, name: &str) -> Result<(), PathError> {
        let (_, conf) = self.find_conf(name)?;
        redirect_of(name, conf)
    }

    /// Whether a new publisher could take `name` now (for protocols that learn their tracks
    /// only after the publish request, such as RTMP; [`Self::publish`] decides for real).
    pub fn can_publish(&self, name: &str) -> Result<(), PathError> {
        let (_, conf) = self.find_conf(name)?;
        if conf.source != "publisher" {
            return Err(PathError::StaticSource(name.to_owned()));
        }
        let busy = self.paths.get(name).is_some_and(|p| p.publisher.is_some());
        if busy && !conf.override_publisher {
            return Err(PathError::AlreadyPublishing(name.to_owned()));
        }
        Ok(())
    }

    /// The paths whose entry pulls from another server (`rtsp://…`, `rtmp://…`) all the time:
    /// exact names only (a regular expression names no path until a reader asks), as
    /// `(path, source URL)`.
    pub fn static_sources(&self) -> Vec<(String, String)> {
        self.confs
            .iter()
            .filter(|c| !c.is_catch_all() && c.regex_source().is_none())
            .filter(|c| c.pulls() && !c.source_on_demand)
            .map(|c| (c.name.clone(), c.source.clone()))
            .collect()
    }

    /// The client settings for pulling `name`'s source: `read_timeout`, the entry's
    /// certificate check for TLS sources (its `sourceFingerprint`, else `roots`), its
    /// `rtspTransport` and `rtspAnyPort`.
    pub fn client_config(
        &self,
        name: &str,
        read_timeout: Duration,
        roots: &crate::pull::TrustRoots,
    ) -> crate::rtsp::client::ClientConfig {
        let mut cfg = crate::rtsp::client::ClientConfig {
            read_timeout,
            roots: roots.clone(),
            ..Default::default()
        };
        if let Ok((_, c)) = self.find_conf(name) {
            cfg.fingerprint = c.source_fingerprint.clone();
            cfg.transport = c.rtsp_transport;
            cfg.any_port = c.rtsp_any_port;
        }
        cfg
    }

    /// The on-demand source of `name` asked for by a reader with `query` (`sourceOnDemand`
    /// with a pulled source, its URL expanded with the name's groups and `$MTX_QUERY`), if
    /// its entry has one.
    pub fn on_demand_source(&self, name: &str, query: &str) -> Option<super::OnDemandConf> {
        let (m, conf) = self.find_conf(name).ok()?;
        if conf.source_on_demand && conf.pulls() {
            return Some(super::OnDemandConf {
                url: m.expand(&conf.source, name).replace("$MTX_QUERY", query),
                query: query.to_owned(),
                command: false,
                restart: false,
                start_timeout: conf.source_on_demand_start_timeout,
                close_after: conf.source_on_demand_close_after,
            });
        }
        let h = &conf.hooks;
        if conf.source == "publisher" && !h.run_on_demand.is_empty() {
            // `runOnDemand`: the command is expected to publish to the path.
            return Some(super::OnDemandConf {
                url: h.run_on_demand.clone(),
                command: true,
                restart: h.run_on_demand_restart,
                start_timeout: h.run_on_demand_start_timeout,
                close_after: h.run_on_demand_close_after,
                query: query.to_owned(),
            });
        }
        None
    }

    /// The hooks of `name`'s entry and the groups its name matched with.
    pub fn hooks_of(&self, name: &str) -> Option<(crate::hooks::PathHooks, Vec<String>)> {
        let (m, conf) = self.find_conf(name).ok()?;
        Some((conf.hooks.clone(), m.groups))
    }

    /// Makes `id` the publisher of `name` with `stream` (refused on a path whose entry has a
    /// static source).
    pub fn publish(
        &mut self,
        name: &str,
        id: u64,
        stream: S,
    ) -> Result<PublishOutcome<S>, PathError> {
        if self.find_conf(name)?.1.source != "publisher" {
            return Err(PathError::StaticSource(name.to_owned()));
        }
        self.publish_any(name, id, stream)
    }

    /// Makes the path's own source (`source: rtsp://…`) its publisher.
    pub fn publish_source(
        &mut self,
        name: &str,
        id: u64,
        stream: S,
    ) -> Result<PublishOutcome<S>, PathError> {
        self.publish_any(name, id, stream)
    }

    fn publish_any(
        &mut self,
        name: &str,
        id: u64,
        stream: S,
    ) -> Result<PublishOutcome<S>, PathError> {
        let (_, conf) = self.find_conf(name)?;
        let override_publisher = conf.override_publisher;
        let state = self.paths.entry(name.to_owned()).or_insert(PathState {
            publisher: None,
            readers: 0,
        });
        if state.publisher.is_some() && !override_publisher {
            return Err(PathError::AlreadyPublishing(name.to_owned()));
        }
        let replaced = state.publisher.replace((id, stream));
        Ok(PublishOutcome { replaced })
    }

    /// Removes `id` as publisher of `name` (no effect if it was replaced already).
    pub fn unpublish(&mut self, name: &str, id: u64) -> bool {
        let Some(state) = self.paths.get_mut(name) else {
            return false;
        };
        let was = state.publisher.as_ref().is_some_and(|(p, _)| *p == id);
        if was {
            state.publisher = None;
        }
        if state.publisher.is_none() && state.readers == 0 {
            self.paths.remove(name);
        }
        was
    }

    /// Adds a reader to a published path and returns its stream.
    pub fn add_reader(&mut self, name: &str) -> Result<S, PathError> {
        let (_, conf) = self.find_conf(name)?;
        redirect_of(name, conf)?;
        let max = conf.max_readers;
        let state = self
            .paths
            .get_mut(name)
            .filter(|p| p.publisher.is_some())
            .ok_or_else(|| PathError::NoOnePublishing(name.to_owned()))?;
        if max != 0 && state.readers >= max {
            return Err(PathError::TooManyReaders(name.to_owned()));
        }
        state.readers += 1;
        Ok(state
            .publisher
            .as_ref()
            .map(|(_, s)| s.clone())
            .expect("filtered above"))
    }

    /// Removes a reader from `name`.
    pub fn remove_reader(&mut self, name: &str) {
        if let Some(state) = self.paths.get_mut(name) {
            state.readers = state.readers.saturating_sub(1);
            if state.publisher.is_none() && state.readers == 0 {
                self.paths.remove(name);
            }
        }
    }

    /// The number of readers of `name`.
    pub fn reader_count(&self, name: &str) -> u32 {
        self.paths.get(name).map_or(0, |p| p.readers)
    }
}

mod reload;

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(name: &str, over: bool) -> PathConf {
        PathConf {
            source_on_demand: false,
            source_on_demand_start_timeout: Duration::from_secs(10),
            source_on_demand_close_after: Duration::from_secs(10),
            hooks: Default::default(),
            name: name.into(),
            source: "publisher".into(),
            override_publisher: over,
            max_readers: 0,
            source_redirect: String::new(),
            source_fingerprint: String::new(),
            rtsp_transport: Default::default(),
            rtsp_any_port: false,
        }
    }

    #[test]
    fn tls_sources_pull_with_their_entry_s_fingerprint() {
        let mut c = conf("~^cam(\\d+)$", false);
        c.source = "rtsps://origin/$G1".into();
        c.source_on_demand = true;
        c.source_fingerprint = "ab".repeat(32);
        let mut plain = conf("plain", false);
        plain.source = "rtmps://origin/live".into();
        assert!(c.pulls() && plain.pulls());
        let m: PathManager<u32> = PathManager::new(vec![c, plain]);
        assert_eq!(
            m.on_demand_source("cam3", "").unwrap().url,
            "rtsps://origin/3"
        );
        assert_eq!(
            m.static_sources(),
            [("plain".into(), "rtmps://origin/live".into())]
        );
        let roots = crate::pull::TrustRoots::none();
        let timeout = Duration::from_secs(3);
        let cfg = m.client_config("cam3", timeout, &roots);
        assert_eq!(
            (cfg.fingerprint, cfg.read_timeout),
            ("ab".repeat(32), timeout)
        );
        assert_eq!(m.client_config("plain", timeout, &roots).fingerprint, "");
    }

    #[test]
    fn on_demand_sources_get_the_groups_and_the_first_reader_s_query() {
        let mut c = conf("~^cam(\\d+)$", false);
        c.source = "rtsp://origin/$G1?$MTX_QUERY".into();
        c.source_on_demand = true;
        let m: PathManager<u32> = PathManager::new(vec![c]);
        let od = m.on_demand_source("cam7", "token=1").unwrap();
        assert_eq!(od.url, "rtsp://origin/7?token=1");
        assert_eq!(od.query, "token=1");
    }

    #[test]
    fn redirect_paths_send_readers_away_and_refuse_publishers() {
        let mut old = conf("old", false);
        old.source = "redirect".into();
        old.source_redirect = "/new".into();
        let mut m: PathManager<u32> = PathManager::new(vec![old, conf("new", false)]);
        let e = m.describe("old").unwrap_err();
        assert_eq!(
            e,
            PathError::Redirect {
                path: "old".into(),
                location: "/new".into()
            }
        );
        assert_eq!(e.rtsp_status(), 301);
        assert_eq!(m.add_reader("old").unwrap_err(), e);
        assert_eq!(
            m.publish("old", 1, 10).unwrap_err(),
            PathError::StaticSource("old".into())
        );
        assert!(m.on_demand_source("old", "").is_none());
    }

    #[test]
    fn second_publisher_is_refused_without_override() {
        let mut m: PathManager<u32> = PathManager::new(vec![conf("cam", false)]);
        m.publish("cam", 1, 10).unwrap();
        assert_eq!(
            m.publish("cam", 2, 20).unwrap_err(),
            PathError::AlreadyPublishing("cam".into())
        );
        assert_eq!(m.describe("cam"), Ok(10));
    }

    #[test]
    fn second_publisher_replaces_with_override() {
        let mut m: PathManager<u32> = PathManager::new(vec![conf("all_others", true)]);
        m.publish("a/b", 1, 10).unwrap();
        let o = m.publish("a/b", 2, 20).unwrap();
        assert_eq!(o.replaced, Some((1, 10)));
        assert!(
            !m.unpublish("a/b", 1),
            "the replaced publisher no longer owns the path"
        );
        assert_eq!(m.describe("a/b"), Ok(20));
        assert!(m.unpublish("a/b", 2));
        assert_eq!(
            m.describe("a/b"),
            Err(PathError::NoOnePublishing("a/b".into()))
        );
    }

    #[test]
    fn unconfigured_and_invalid_names() {
        let m: PathManager<u32> = PathManager::new(vec![conf("cam", false)]);
        assert_eq!(m.describe("other").unwrap_err().rtsp_status(), 404);
        for bad in ["", "/a", "a/", "a//b", "a/../b", "a b", "a?b", "a\u{e9}"] {
            assert_eq!(
                m.find_conf(bad).unwrap_err(),
                PathError::InvalidName(bad.into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn readers_need_a_publisher_and_respect_max() {
        let mut c = conf("cam", false);
        c.max_readers = 1;
        let mut m: PathManager<u32> = PathManager::new(vec![c]);
        assert_eq!(
            m.add_reader("cam"),
            Err(PathError::NoOnePublishing("cam".into()))
        );
        m.publish("cam", 1, 10).unwrap();
        assert_eq!(m.add_reader("cam"), Ok(10));
        assert_eq!(
            m.add_reader("cam"),
            Err(PathError::TooManyReaders("cam".into()))
        );
        m.remove_reader("cam");
        assert_eq!(m.reader_count("cam"), 0);
    }

    #[test]
    fn colon_is_a_valid_path_character() {
        let m: PathManager<u32> = PathManager::new(vec![conf("cam:1", false)]);
        assert_eq!(m.find_conf("cam:1").unwrap().1.name, "cam:1");
    }

    #[test]
    fn regex_groups_are_captured_and_expanded() {
        let mut c = conf("~^live/(\\w+)/(\\d+)$", false);
        c.source = "rtsp://origin:8554/$G1/$G2?p=$MTX_PATH".into();
        let m: PathManager<u32> = PathManager::new(vec![c]);
        let (pm, pc) = m.find_conf("live/cam/42").unwrap();
        assert_eq!(pm.groups, vec!["cam".to_string(), "42".to_string()]);
        assert_eq!(
            pm.expand(&pc.source, "live/cam/42"),
            "rtsp://origin:8554/cam/42?p=live/cam/42"
        );
        assert_eq!(
            m.find_conf("live/cam/x").unwrap_err(),
            PathError::NotConfigured("live/cam/x".into())
        );
    }

    #[test]
    fn expand_replaces_high_groups_first_and_keeps_unknown_ones() {
        let pm = PathMatch {
            conf_index: 0,
            groups: (1..=10).map(|i| format!("g{i}")).collect(),
        };
        assert_eq!(pm.expand("$G10-$G1-$G2", "p"), "g10-g1-g2");
        let pm = PathMatch {
            conf_index: 0,
            groups: vec!["a".into()],
        };
        assert_eq!(pm.expand("$G1$G2 $MTX_PATH", "x/y"), "a$G2 x/y");
    }

    #[test]
    fn optional_group_that_took_no_part_is_empty() {
        let m: PathManager<u32> = PathManager::new(vec![conf("~^cam(_hd)?(\\d)$", false)]);
        let (pm, _) = m.find_conf("cam7").unwrap();
        assert_eq!(pm.groups, vec![String::new(), "7".to_string()]);
    }

    #[test]
    fn regex_is_searched_not_anchored() {
        let m: PathManager<u32> = PathManager::new(vec![conf("~cam", false)]);
        assert!(m.find_conf("front/camera").is_ok());
        assert!(m.find_conf("door").is_err());
    }

    #[test]
    fn exact_beats_regex_beats_all_others_and_regexes_go_by_name() {
        let confs = vec![
            conf("all_others", true),
            conf("~^z(.*)$", true),
            conf("~^(.*)$", true),
            conf("zeta", true),
        ];
        let m: PathManager<u32> = PathManager::new(confs);
        let idx = |n: &str| m.find_conf(n).unwrap().0.conf_index;
        assert_eq!(idx("zeta"), 3, "an exact name wins");
        // "~^(.*)$" sorts before "~^z(.*)$" (MediaMTX sorts regex entries by name).
        assert_eq!(idx("zulu"), 2);
        let m: PathManager<u32> =
            PathManager::new(vec![conf("~^z(.*)$", true), conf("all_others", true)]);
        assert_eq!(m.find_conf("zulu").unwrap().0.conf_index, 0);
        assert_eq!(
            m.find_conf("zulu").unwrap().0.groups,
            vec!["ulu".to_string()]
        );
        assert_eq!(
            m.find_conf("alpha").unwrap().0.conf_index,
            1,
            "all_others is last"
        );
        assert!(m.find_conf("alpha").unwrap().0.groups.is_empty());
    }

    #[test]
    fn regex_entry_governs_publishing_like_an_exact_one() {
        let m_confs = vec![conf("~^cam\\d$", false)];
        let mut m: PathManager<u32> = PathManager::new(m_confs);
        m.publish("cam1", 1, 10).unwrap();
        assert_eq!(
            m.publish("cam1", 2, 20).unwrap_err(),
            PathError::AlreadyPublishing("cam1".into())
        );
        m.publish("cam2", 3, 30).unwrap();
        assert_eq!(m.describe("cam2"), Ok(30));
        assert_eq!(
            m.describe("other").unwrap_err(),
            PathError::NotConfigured("other".into())
        );
    }

    #[test]
    fn check_name_explains_what_is_wrong() {
        let check = |n: &str| conf(n, true).check_name();
        assert_eq!(check("all"), Ok(()));
        assert_eq!(check("all_others"), Ok(()));
        assert_eq!(check("~^(cam|door)\\d+$"), Ok(()));
        assert_eq!(check("live/cam:1"), Ok(()));
        let e = check("~^(unclosed$").unwrap_err();
        assert!(
            e.starts_with("invalid regular expression '^(unclosed$'"),
            "{e}"
        );
        let e = check("a b").unwrap_err();
        assert_eq!(
            e,
            "invalid path name 'a b': can contain only alphanumeric characters, underscore, \
             dot, tilde, minus, slash, colon"
        );
        assert_eq!(
            check("/a").unwrap_err(),
            "invalid path name '/a': can't begin with a slash"
        );
        assert_eq!(
            check("").unwrap_err(),
            "invalid path name '': cannot be empty"
        );
    }

    #[test]
    fn uncompilable_regex_never_matches() {
        let m: PathManager<u32> =
            PathManager::new(vec![conf("~^(x", true), conf("all_others", true)]);
        assert_eq!(
            m.find_conf("(x").unwrap_err(),
            PathError::InvalidName("(x".into())
        );
        assert_eq!(m.find_conf("x").unwrap().0.conf_index, 1);
    }
}
