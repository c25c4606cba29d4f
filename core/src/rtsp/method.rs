//! RTSP request methods (RFC 2326 §10).

/// An RTSP method. Method names are case-sensitive (RFC 2326 §6.1); anything else is
/// [`Method::Unknown`] and answered with 501 by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `OPTIONS` (§10.1).
    Options,
    /// `DESCRIBE` (§10.2).
    Describe,
    /// `ANNOUNCE` (§10.3).
    Announce,
    /// `SETUP` (§10.4).
    Setup,
    /// `PLAY` (§10.5).
    Play,
    /// `PAUSE` (§10.6).
    Pause,
    /// `RECORD` (§10.11).
    Record,
    /// `TEARDOWN` (§10.7).
    Teardown,
    /// `GET_PARAMETER` (§10.8).
    GetParameter,
    /// `SET_PARAMETER` (§10.9).
    SetParameter,
    /// `REDIRECT` (§10.10).
    Redirect,
    /// Any other method name (the original text is kept in the request).
    Unknown,
}

/// Every known method with its wire name, in RFC order.
const TABLE: [(Method, &str); 11] = [
    (Method::Options, "OPTIONS"),
    (Method::Describe, "DESCRIBE"),
    (Method::Announce, "ANNOUNCE"),
    (Method::Setup, "SETUP"),
    (Method::Play, "PLAY"),
    (Method::Pause, "PAUSE"),
    (Method::Record, "RECORD"),
    (Method::Teardown, "TEARDOWN"),
    (Method::GetParameter, "GET_PARAMETER"),
    (Method::SetParameter, "SET_PARAMETER"),
    (Method::Redirect, "REDIRECT"),
];

impl Method {
    /// Maps a wire method name (case-sensitive) to a [`Method`]; unknown names give `Unknown`.
    pub fn parse(s: &str) -> Method {
        TABLE
            .iter()
            .find(|(_, name)| *name == s)
            .map_or(Method::Unknown, |(m, _)| *m)
    }

    /// The wire name, e.g. `"GET_PARAMETER"`; `Unknown` gives `"UNKNOWN"`.
    pub fn as_str(self) -> &'static str {
        TABLE
            .iter()
            .find(|(m, _)| *m == self)
            .map_or("UNKNOWN", |(_, name)| name)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_method() {
        for (m, name) in TABLE {
            assert_eq!(Method::parse(name), m);
            assert_eq!(m.as_str(), name);
        }
        assert_eq!(Method::GetParameter.as_str(), "GET_PARAMETER");
        assert_eq!(Method::Unknown.as_str(), "UNKNOWN");
    }

    #[test]
    fn names_are_case_sensitive() {
        assert_eq!(Method::parse("options"), Method::Unknown);
        assert_eq!(Method::parse("GET"), Method::Unknown);
        assert_eq!(Method::parse(""), Method::Unknown);
        assert_eq!(Method::parse("UNKNOWN"), Method::Unknown);
    }
}
