//! Path naming: `connect`'s app and tcUrl plus a stream name → (path, query), as MediaMTX
//! names RTMP paths.

/// Splits `s` at its first `?`.
fn split_query(s: &str) -> (&str, &str) {
    match s.split_once('?') {
        Some((p, q)) => (p, q),
        None => (s, ""),
    }
}

/// The path and query for stream `stream` of a connection to `app` with `tc_url`.
///
/// The path is `app/stream` without leading or trailing slashes and without doubled slashes
/// where app and stream meet (OBS and other clients add some); the query is the stream name's, else the app's, else tcUrl's.
pub fn stream_target(app: &str, tc_url: &str, stream: &str) -> (String, String) {
    let (app_path, app_query) = split_query(app);
    let (stream_path, stream_query) = split_query(stream);
    let joined = format!(
        "{}/{}",
        app_path.trim_end_matches('/'),
        stream_path.trim_start_matches('/')
    );
    let path = joined.trim_matches('/').to_owned();
    let query = if !stream_query.is_empty() {
        stream_query
    } else if !app_query.is_empty() {
        app_query
    } else {
        split_query(tc_url).1
    };
    (path, query.to_owned())
}

#[cfg(test)]
mod tests {
    use super::stream_target;

    #[test]
    fn mediamtx_naming() {
        let t = |a: &str, u: &str, s: &str| stream_target(a, u, s);
        let pq = |p: &str, q: &str| (p.to_owned(), q.to_owned());
        assert_eq!(t("app", "rtmp://h/app", "stream"), pq("app/stream", ""));
        assert_eq!(
            t("app", "rtmp://h/app", "stream?x=1"),
            pq("app/stream", "x=1")
        );
        assert_eq!(t("a/b", "rtmp://h/a/b", "c"), pq("a/b/c", ""));
        assert_eq!(t("app?u=1", "rtmp://h/app?u=1", "s"), pq("app/s", "u=1"));
        assert_eq!(
            t("app?u=1", "rtmp://h/app?u=1", "s?k=2"),
            pq("app/s", "k=2")
        );
        assert_eq!(t("app", "rtmp://h/app?t=3", "s"), pq("app/s", "t=3"));
        // ffmpeg playing rtmp://h/test_stream sends an empty stream name.
        assert_eq!(
            t("test_stream", "rtmp://h/test_stream", ""),
            pq("test_stream", "")
        );
        assert_eq!(t("live/", "rtmp://h/live/", "/key/"), pq("live/key", ""));
        assert_eq!(t("", "", "cam"), pq("cam", ""));
    }
}
