//! `Content-Base` and control URLs (RFC 2326 §12.12, appendix C.1.1): resolving a stream's
//! `a=control` attribute and taking a URL apart into the path weir serves.

/// Whether `s` starts with `rtsp://` or `rtsps://` (case-insensitive); returns what follows.
fn after_scheme(s: &str) -> Option<&str> {
    ["rtsp://", "rtsps://"].into_iter().find_map(|scheme| {
        let head = s.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme)
            .then(|| &s[scheme.len()..])
    })
}

/// Resolves a control attribute against the base URL (RFC 2326 C.1.1): `*` or empty gives the
/// base, an absolute `rtsp://`/`rtsps://` URL is used as is, anything else is appended to the
/// base with one `/` between them.
pub fn resolve_control(base: &str, control: &str) -> String {
    let control = control.trim();
    if control.is_empty() || control == "*" {
        return base.to_owned();
    }
    if after_scheme(control).is_some() {
        return control.to_owned();
    }
    let mut out = String::with_capacity(base.len() + 1 + control.len());
    out.push_str(base);
    match (base.ends_with('/'), control.strip_prefix('/')) {
        (true, Some(rest)) => out.push_str(rest),
        (true, None) | (false, Some(_)) => out.push_str(control),
        (false, None) => {
            out.push('/');
            out.push_str(control);
        }
    }
    out
}

/// Splits an `rtsp://` or `rtsps://` URL into its path, without leading or trailing `/`, and its
/// query, if non-empty: `rtsp://user:pass@host:554/a/b/?x=1` gives `("a/b", Some("x=1"))`.
/// Returns `None` for other schemes.
pub fn path_of_url(url: &str) -> Option<(&str, Option<&str>)> {
    let rest = after_scheme(url.trim())?;
    let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
    let (before_query, query) = match rest.split_once('?') {
        Some((p, q)) => (p, (!q.is_empty()).then_some(q)),
        None => (rest, None),
    };
    let path = before_query
        .split_once('/')
        .map_or("", |(_authority, path)| path);
    Some((path.trim_matches('/'), query))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtsp::testdata::header;
    use proptest::prelude::*;

    #[test]
    fn resolves_controls() {
        let table = [
            ("rtsp://h/p/", "*", "rtsp://h/p/"),
            ("rtsp://h/p", "", "rtsp://h/p"),
            ("rtsp://h/p/", "trackID=1", "rtsp://h/p/trackID=1"),
            ("rtsp://h/p", "trackID=1", "rtsp://h/p/trackID=1"),
            ("rtsp://h/p/", "/trackID=1", "rtsp://h/p/trackID=1"),
            ("rtsp://h/p", "rtsp://other/x", "rtsp://other/x"),
            ("rtsp://h/p", "RTSPS://other/x", "RTSPS://other/x"),
        ];
        for (base, control, want) in table {
            assert_eq!(resolve_control(base, control), want, "{base} + {control}");
        }
    }

    #[test]
    fn splits_urls() {
        let table = [
            ("rtsp://host:554/a/b?x=1", Some(("a/b", Some("x=1")))),
            ("rtsp://user:pass@host/a/b/", Some(("a/b", None))),
            ("RTSP://host", Some(("", None))),
            ("rtsps://host/?", Some(("", None))),
            ("rtsp://host?x", Some(("", Some("x")))),
            ("rtsp://[::1]:8554//live//#frag", Some(("live", None))),
            ("http://host/a", None),
            ("rtsp:/host/a", None),
            ("", None),
        ];
        for (url, want) in table {
            assert_eq!(path_of_url(url), want, "{url}");
        }
    }

    /// Dahua's Content-Base keeps the query and adds a slash after it; controls append to it.
    #[test]
    fn dahua() {
        let base = header("client_dahua_describe_h264_aac_onvif.txt", "Content-Base");
        let want = "rtsp://192.168.5.111:554/cam/realmonitor?channel=1&subtype=1&unicast=true\
                    &proto=Onvif/trackID=0";
        assert_eq!(resolve_control(base, "trackID=0"), want);
        assert_eq!(
            path_of_url(base),
            Some((
                "cam/realmonitor",
                Some("channel=1&subtype=1&unicast=true&proto=Onvif/")
            ))
        );
    }

    /// Hikvision sends absolute control URLs; Reolink relative ones under a base ending in `/`.
    #[test]
    fn hikvision_reolink() {
        let base = header("client_hikvision_describe.txt", "Content-Base");
        let control = "rtsp://192.168.5.106:554/Streaming/Channels/101/trackID=1\
                       ?transportmode=unicast&profile=Profile_1";
        assert_eq!(resolve_control(base, control), control);
        assert_eq!(path_of_url(base), Some(("Streaming/Channels/101", None)));
        let base = header("client_reolink_describe.txt", "Content-Base");
        assert_eq!(
            resolve_control(base, "trackID=2"),
            "rtsp://192.168.5.206/h264Preview_01_main/trackID=2"
        );
    }

    /// Anjvision's Content-Base has no scheme at all: not an RTSP URL.
    #[test]
    fn anjvision() {
        assert_eq!(
            path_of_url(header("client_anjvision_describe.txt", "Content-Base")),
            None
        );
    }

    proptest! {
        #[test]
        fn never_panics(a in "\\PC{0,40}", b in "\\PC{0,20}") {
            let _ = resolve_control(&a, &b);
            let _ = path_of_url(&a);
            let _ = path_of_url(&format!("rtsp://{b}"));
        }

        #[test]
        fn resolved_paths_extend_the_base(path in "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,3}",
                                          control in "[a-zA-Z0-9=]{1,12}") {
            let base = format!("rtsp://h:554/{path}/");
            let resolved = resolve_control(&base, &control);
            let want = format!("{path}/{control}");
            prop_assert_eq!(path_of_url(&resolved), Some((want.as_str(), None)));
        }
    }
}
