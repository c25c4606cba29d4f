//! Where each configuration key came from — its line in the file, an environment variable, or a
//! deprecated key it was mapped from — so that every error names the key and its origin.

use super::yaml::KeyLines;
use super::ConfigError;
use std::collections::HashMap;

/// The origins of the keys of one load.
#[derive(Debug, Default)]
pub(crate) struct Source {
    /// Where each key of the file is written.
    lines: KeyLines,
    /// Keys set by something other than their own line, by key path.
    origins: HashMap<Vec<String>, String>,
}

fn owned(path: &[&str]) -> Vec<String> {
    path.iter().map(|s| (*s).to_owned()).collect()
}

impl Source {
    /// The origins of a file's keys.
    pub(crate) fn new(text: &str) -> Source {
        Source {
            lines: KeyLines::parse(text),
            origins: HashMap::new(),
        }
    }

    /// Records that the key at `path` was set by `origin` (`environment variable MTX_…`).
    pub(crate) fn set_origin(&mut self, path: &[&str], origin: String) {
        self.origins.insert(owned(path), origin);
    }

    /// Records that the key at `to` was set from the deprecated key at `from`.
    pub(crate) fn alias(&mut self, to: &[&str], from: &[&str]) {
        let at = self.locate(from).map(|l| l + ", ").unwrap_or_default();
        let origin = format!("{at}as deprecated '{}'", from.join("."));
        self.origins.insert(owned(to), origin);
    }

    /// Where the key at `path` was set: `line 3`, `environment variable MTX_RTSP`.
    pub(crate) fn locate(&self, path: &[&str]) -> Option<String> {
        if let Some(o) = self.origins.get(&owned(path)) {
            return Some(o.clone());
        }
        self.lines.line(path).map(|l| format!("line {l}"))
    }

    /// An error about the key at `path`, naming the key and where it was set.
    pub(crate) fn err(&self, path: &[&str], what: &str) -> ConfigError {
        let at = self
            .locate(path)
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        ConfigError(format!(
            "invalid configuration: key '{}'{at}: {what}",
            path.join(".")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line_the_variable_or_the_deprecated_key() {
        let mut s = Source::new("logLevel: info\npaths:\n  cam:\n    sourceProtocol: tcp\n");
        assert_eq!(
            s.err(&["logLevel"], "bad").0,
            "invalid configuration: key 'logLevel' (line 1): bad"
        );
        s.set_origin(&["rtsp"], "environment variable MTX_RTSP".into());
        assert_eq!(
            s.err(&["rtsp"], "bad").0,
            "invalid configuration: key 'rtsp' (environment variable MTX_RTSP): bad"
        );
        s.alias(
            &["paths", "cam", "rtspTransport"],
            &["paths", "cam", "sourceProtocol"],
        );
        assert_eq!(
            s.err(&["paths", "cam", "rtspTransport"], "bad").0,
            "invalid configuration: key 'paths.cam.rtspTransport' (line 4, as deprecated \
             'paths.cam.sourceProtocol'): bad"
        );
        assert_eq!(
            s.err(&["nowhere"], "bad").0,
            "invalid configuration: key 'nowhere': bad"
        );
    }
}
