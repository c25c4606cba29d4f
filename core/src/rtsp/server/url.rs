//! Splitting a request URL into path, query and track control, the way clients write them.

/// What a request URL addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTarget {
    /// The path name (`live/cam1`), without leading or trailing slashes.
    pub path: String,
    /// The query string without `?` (empty when none).
    pub query: String,
    /// The control suffix after the path (`trackID=1`, `streamid=0`), when there is one
    /// that weir recognises as a track id of its own (`trackID=N`).
    pub track_id: Option<usize>,
    /// Everything after the host, without the leading slash (`live/cam1/streamid=0`).
    pub rest: String,
}

/// The `Location` of a redirect: `location` itself when it is a URL, otherwise (a path such as
/// `/other`) joined to the scheme and host of the request URL `request`.
pub fn absolute_location(request: &str, location: &str) -> String {
    if location.contains("://") {
        return location.to_owned();
    }
    let origin_end = request.find("://").map_or(0, |i| {
        let start = i + 3;
        request[start..]
            .find('/')
            .map_or(request.len(), |j| start + j)
    });
    let origin = &request[..origin_end];
    if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        format!("{origin}/{location}")
    }
}

/// Splits `rtsp://host[:port]/path[?query][/trackID=N]`. Clients such as ffmpeg append the
/// control after the query (`/path?token=x/trackID=0`); that form is handled too.
/// Returns `None` for URLs that are not `rtsp://` / `rtsps://` or have no host part.
pub fn split_request_url(url: &str) -> Option<RequestTarget> {
    let lower = url
        .get(..8)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let after_scheme = if lower.starts_with("rtsp://") {
        &url[7..]
    } else if lower.starts_with("rtsps://") {
        &url[8..]
    } else {
        return None;
    };
    let rest = match after_scheme.find('/') {
        Some(i) => &after_scheme[i + 1..],
        None => "",
    };
    let (mut before_query, mut query) = match rest.find('?') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let mut track_id = None;
    // The control may sit at the end of the path or at the end of the query.
    for part in [&mut query, &mut before_query] {
        let trimmed = part.trim_end_matches('/');
        if let Some(i) = trimmed.rfind("trackID=") {
            let digits = &trimmed[i + 8..];
            let preceded_ok = i == 0 || trimmed.as_bytes()[i - 1] == b'/';
            if preceded_ok && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                track_id = digits.parse().ok();
                *part = trimmed[..i].trim_end_matches('/');
                break;
            }
        }
    }
    Some(RequestTarget {
        path: before_query.trim_matches('/').to_owned(),
        query: query.to_owned(),
        track_id,
        rest: rest.trim_end_matches('/').to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(url: &str) -> (String, String, Option<usize>) {
        let r = split_request_url(url).unwrap();
        (r.path, r.query, r.track_id)
    }

    #[test]
    fn redirect_locations_are_made_absolute_from_the_request() {
        let req = "rtsp://10.0.0.1:8554/old?x=1";
        assert_eq!(absolute_location(req, "/new"), "rtsp://10.0.0.1:8554/new");
        assert_eq!(
            absolute_location(req, "new/a"),
            "rtsp://10.0.0.1:8554/new/a"
        );
        assert_eq!(
            absolute_location(req, "rtsp://other:554/cam"),
            "rtsp://other:554/cam"
        );
        assert_eq!(
            absolute_location("rtsps://h:8322", "/n"),
            "rtsps://h:8322/n"
        );
    }

    #[test]
    fn splits_the_forms_clients_send() {
        assert_eq!(
            t("rtsp://127.0.0.1:8554/mystream"),
            ("mystream".into(), "".into(), None)
        );
        assert_eq!(
            t("rtsp://h/mystream/"),
            ("mystream".into(), "".into(), None)
        );
        assert_eq!(
            t("rtsp://h/a/b/trackID=1"),
            ("a/b".into(), "".into(), Some(1))
        );
        assert_eq!(
            t("rtsp://h/a?x=1/trackID=0"),
            ("a".into(), "x=1".into(), Some(0))
        );
        assert_eq!(
            t("rtsp://h/a/trackID=0?x=1"),
            ("a".into(), "x=1".into(), Some(0))
        );
        assert_eq!(t("RTSP://user:pw@h:1/a"), ("a".into(), "".into(), None));
        assert_eq!(t("rtsp://h"), ("".into(), "".into(), None));
        assert_eq!(
            t("rtsp://h/mytrackID=1"),
            ("mytrackID=1".into(), "".into(), None)
        );
        assert_eq!(split_request_url("http://h/a"), None);
        assert_eq!(split_request_url("*"), None);
    }
}
