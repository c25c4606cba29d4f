//! The player page served at `/<path>/`, and hls.js (embedded at build time by `build.rs`).

/// hls.js, embedded at build time from `node_modules/hls.js/dist/hls.min.js` when the build
/// found it (see `build.rs`); empty otherwise.
pub const HLS_JS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/hls.min.js"));

/// The player page of `path`: a full-window muted autoplaying `<video>` driven by hls.js (or
/// by the browser itself where it plays HLS natively). `window.hls` is the Hls instance and
/// `window.hlsErrors` collects fatal errors, for automated checks.
pub fn player_page(path: &str) -> String {
    let src = format!("/{path}/index.m3u8");
    let missing = if HLS_JS.is_empty() {
        "<p id=\"note\">This weir was built without hls.js (run <code>npm ci</code> in the source tree and rebuild); \
         only browsers that play HLS natively can show the stream.</p>"
    } else {
        ""
    };
    format!(
        r#"<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{path}</title>
<style>html, body {{ margin: 0; padding: 0; height: 100%; background: #000; overflow: hidden; }}
#video {{ width: 100%; height: 100%; }} #note {{ color: #fff; position: absolute; top: 0; }}</style>
</head>
<body>
<video id="video" muted autoplay playsinline controls></video>
{missing}
<script src="/hls.min.js"></script>
<script>
window.hlsErrors = [];
const video = document.getElementById('video');
const src = '{src}';
if (window.Hls && Hls.isSupported()) {{
  const hls = new Hls({{ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 }});
  window.hls = hls;
  hls.on(Hls.Events.ERROR, (_event, data) => {{
    if (data.fatal) {{
      window.hlsErrors.push(data.type + ': ' + data.details);
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {{ setTimeout(() => hls.loadSource(src), 2000); }}
      else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {{ hls.recoverMediaError(); }}
    }}
  }});
  hls.loadSource(src);
  hls.attachMedia(video);
  video.play().catch(() => {{}});
}} else if (video.canPlayType('application/vnd.apple.mpegurl')) {{
  video.src = src;
  video.play().catch(() => {{}});
}}
</script>
</body>
</html>
"#
    )
}
