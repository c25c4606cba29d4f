//! Just enough SDP for the replay: each media section's kind, control attribute and codec, and
//! which section a SETUP URL names.

/// One `m=` section of a session description.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SdpMedia {
    /// The media kind (`video`, `audio`, `application`).
    pub kind: String,
    /// The `a=control:` value, if any.
    pub control: Option<String>,
    /// The encoding name of the first `a=rtpmap:` (e.g. `H264`), if any.
    pub codec: Option<String>,
}

impl SdpMedia {
    /// A short label: `video H264`.
    pub fn label(&self) -> String {
        match &self.codec {
            Some(c) => format!("{} {c}", self.kind),
            None => self.kind.clone(),
        }
    }
}

/// The media sections of `sdp`, in order.
pub fn sdp_medias(sdp: &[u8]) -> Vec<SdpMedia> {
    let text = String::from_utf8_lossy(sdp);
    let mut medias: Vec<SdpMedia> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            medias.push(SdpMedia {
                kind: m.split(' ').next().unwrap_or_default().to_string(),
                ..SdpMedia::default()
            });
        } else if let Some(media) = medias.last_mut() {
            if let Some(c) = line.strip_prefix("a=control:") {
                media.control = Some(c.trim().to_string());
            } else if let Some(r) = line.strip_prefix("a=rtpmap:") {
                if media.codec.is_none() {
                    let name = r.split(' ').nth(1).unwrap_or_default();
                    media.codec = Some(name.split('/').next().unwrap_or_default().to_string());
                }
            }
        }
    }
    medias
}

/// The path and query of an RTSP URL (what follows `rtsp://authority`), or the value itself
/// if it has no scheme.
pub fn url_path(url: &str) -> &str {
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => url,
    }
}

/// The URL a media section's control names, resolved against `base` (the request URL of the
/// DESCRIBE or ANNOUNCE, or the Content-Base).
pub fn control_url(base: &str, control: Option<&str>) -> String {
    match control {
        None | Some("*") => base.to_string(),
        Some(c) if c.contains("://") => c.to_string(),
        Some(c) => format!(
            "{}/{}",
            base.trim_end_matches('/'),
            c.trim_start_matches('/')
        ),
    }
}

/// Which media section `setup_url` names: the one whose resolved control URL has the same
/// path, else the one whose control ends the URL, else (a single section) the only one.
pub fn media_index(medias: &[SdpMedia], base: &str, setup_url: &str) -> Option<usize> {
    let want = url_path(setup_url).trim_end_matches('/');
    let by_path = medias.iter().position(|m| {
        url_path(&control_url(base, m.control.as_deref())).trim_end_matches('/') == want
    });
    by_path
        .or_else(|| {
            medias.iter().position(|m| {
                m.control
                    .as_deref()
                    .is_some_and(|c| !c.is_empty() && c != "*" && want.ends_with(url_path(c)))
            })
        })
        .or_else(|| (medias.len() == 1).then_some(0))
}
