//! Which resource an HLS server request names: the player page, hls.js, a path muxer's file,
//! or an immediate answer (redirect, 404, 405). Both runtime adapters route with it.

use super::page::{player_page, HLS_JS};
use crate::http::{Body, Method, Request, Response};
use crate::media::validate_path_name;
use bytes::Bytes;

/// Where a request goes.
#[derive(Debug)]
pub enum HlsRoute<'a> {
    /// Answer with this response now.
    Now(Response),
    /// Ask the muxer of `path` for `file` (`index.m3u8`, `segN.mp4`…) with the query string.
    Muxer {
        /// The path name.
        path: &'a str,
        /// The file name within the path.
        file: &'a str,
    },
}

/// Routes one request: `/hls.min.js`, `/<path>/` (the player page), `/<path>` (redirected to
/// `/<path>/`), `/<path>/<file>` (the muxer); other methods than GET and HEAD get 405, invalid
/// path names 404.
pub fn route_request(req: &Request) -> HlsRoute<'_> {
    if !matches!(req.method, Method::Get | Method::Head) {
        return HlsRoute::Now(Response::method_not_allowed("GET, HEAD, OPTIONS"));
    }
    let not_found = || HlsRoute::Now(Response::text(404, "not found"));
    let target = req.path.trim_start_matches('/');
    if target == "hls.min.js" {
        return HlsRoute::Now(if HLS_JS.is_empty() {
            Response::text(404, "hls.js was not embedded in this build")
        } else {
            Response::new(
                200,
                "application/javascript",
                Body::Bytes(Bytes::from_static(HLS_JS)),
            )
            .with_header("Cache-Control", "max-age=3600")
        });
    }
    if target.is_empty() {
        return not_found();
    }
    if let Some(path) = target.strip_suffix('/') {
        if validate_path_name(path).is_err() {
            return not_found();
        }
        return HlsRoute::Now(Response::new(
            200,
            "text/html",
            Body::Bytes(player_page(path).into()),
        ));
    }
    match target.rsplit_once('/') {
        Some((path, file)) if file.contains('.') => {
            if validate_path_name(path).is_err() {
                return not_found();
            }
            HlsRoute::Muxer { path, file }
        }
        _ => {
            if validate_path_name(target).is_err() {
                return not_found();
            }
            HlsRoute::Now(Response::empty(301).with_header("Location", format!("/{target}/")))
        }
    }
}

/// The HTTP response of a muxer answer.
pub fn hls_response(r: super::HlsResponse) -> Response {
    Response::new(r.status, r.content_type, Body::Chunks(r.body))
        .with_header("Cache-Control", r.cache_control)
}
