//! The path registry: which configured path a name falls under, who publishes to it, who reads.
//!
//! Generic over the adapter's stream handle `S` (for example an `Arc` of a locked ring): the
//! core decides, the adapter holds the shared state.

use std::collections::HashMap;

/// The configuration of one path entry (a subset of MediaMTX's path keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathConf {
    /// The entry's name: an exact path name, or `all_others` / `all` (match anything).
    pub name: String,
    /// Where the stream comes from; only `publisher` is implemented.
    pub source: String,
    /// Whether a new publisher replaces the current one instead of being refused.
    pub override_publisher: bool,
    /// Maximum readers (0 = unlimited).
    pub max_readers: u32,
}

impl PathConf {
    /// A configuration accepting any path, publishable and readable by anyone.
    pub fn all_others() -> PathConf {
        PathConf {
            name: "all_others".into(),
            source: "publisher".into(),
            override_publisher: true,
            max_readers: 0,
        }
    }

    fn matches(&self, path: &str) -> bool {
        self.name == "all_others" || self.name == "all" || self.name == path
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
}

impl PathError {
    /// The RTSP status this error is answered with (as MediaMTX answers it).
    pub fn rtsp_status(&self) -> u16 {
        match self {
            PathError::InvalidName(_)
            | PathError::AlreadyPublishing(_)
            | PathError::NoCompatibleTracks(_) => 400,
            PathError::NotConfigured(_) | PathError::NoOnePublishing(_) => 404,
            PathError::TooManyReaders(_) => 503,
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
            PathError::NoCompatibleTracks(p) => {
                write!(
                    f,
                    "the stream on path '{p}' has no track this protocol can carry"
                )
            }
        }
    }
}

impl std::error::Error for PathError {}

/// The configuration entry a path name matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMatch {
    /// Index of the entry in the configuration.
    pub conf_index: usize,
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

/// The registry of live paths.
#[derive(Debug)]
pub struct PathManager<S> {
    confs: Vec<PathConf>,
    paths: HashMap<String, PathState<S>>,
}

/// Checks a path name the way MediaMTX does: non-empty, no leading or trailing slash, only
/// `A-Z a-z 0-9 _ - . ~ /`, and no `..` segment.
pub fn validate_path_name(name: &str) -> Result<(), PathError> {
    let bad = name.is_empty()
        || name.starts_with('/')
        || name.ends_with('/')
        || name.contains("//")
        || name.split('/').any(|seg| seg == ".." || seg == ".")
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.~/".contains(&b));
    if bad {
        Err(PathError::InvalidName(name.to_owned()))
    } else {
        Ok(())
    }
}

impl<S: Clone> PathManager<S> {
    /// A registry for the given path entries (first match wins, as in MediaMTX).
    pub fn new(confs: Vec<PathConf>) -> PathManager<S> {
        PathManager {
            confs,
            paths: HashMap::new(),
        }
    }

    /// The configuration entry for `name`.
    pub fn find_conf(&self, name: &str) -> Result<(PathMatch, &PathConf), PathError> {
        validate_path_name(name)?;
        let exact = self.confs.iter().position(|c| c.name == name);
        let idx = exact
            .or_else(|| self.confs.iter().position(|c| c.matches(name)))
            .ok_or_else(|| PathError::NotConfigured(name.to_owned()))?;
        Ok((PathMatch { conf_index: idx }, &self.confs[idx]))
    }

    /// The stream of a published path (for DESCRIBE).
    pub fn describe(&self, name: &str) -> Result<S, PathError> {
        self.find_conf(name)?;
        self.paths
            .get(name)
            .and_then(|p| p.publisher.as_ref())
            .map(|(_, s)| s.clone())
            .ok_or_else(|| PathError::NoOnePublishing(name.to_owned()))
    }

    /// Whether a new publisher could take `name` now (for protocols that learn their tracks
    /// only after the publish request, such as RTMP; [`Self::publish`] decides for real).
    pub fn can_publish(&self, name: &str) -> Result<(), PathError> {
        let (_, conf) = self.find_conf(name)?;
        let busy = self.paths.get(name).is_some_and(|p| p.publisher.is_some());
        if busy && !conf.override_publisher {
            return Err(PathError::AlreadyPublishing(name.to_owned()));
        }
        Ok(())
    }

    /// Makes `id` the publisher of `name` with `stream`.
    pub fn publish(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(name: &str, over: bool) -> PathConf {
        PathConf {
            name: name.into(),
            source: "publisher".into(),
            override_publisher: over,
            max_readers: 0,
        }
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
        for bad in ["", "/a", "a/", "a//b", "a/../b", "a b", "a?b"] {
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
}
