//! Headless Chromium playing weir's player page ([`play_in_chromium`], a Node script under
//! `tests/browser/`), and [`json_raw`] to read the script's result line.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::super::process::{find_in_path, require_tool, run_with_timeout};

const NODE_HINT: &str = "apt-get install nodejs npm";
const CHROMIUM_HINT: &str = "apt-get install chromium";

/// `tests/browser/`: the Node script and its `package.json` / `package-lock.json`.
pub fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// `target/test-artifacts/` (created), where screenshots go.
pub fn artifacts_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.parent().unwrap_or(tmp).join("test-artifacts");
    fs::create_dir_all(&dir).expect("create target/test-artifacts");
    dir
}

/// The Chromium executable: `$CHROMIUM`, else `/usr/bin/chromium`, else `chromium` on `PATH`;
/// panics with the install hint when there is none.
pub fn chromium_path() -> PathBuf {
    if let Some(p) = std::env::var_os("CHROMIUM").map(PathBuf::from) {
        if p.is_file() {
            return p;
        }
    }
    let default = PathBuf::from("/usr/bin/chromium");
    if default.is_file() {
        return default;
    }
    find_in_path("chromium").unwrap_or_else(|| {
        panic!("chromium not found: install it with {CHROMIUM_HINT} (or run scripts/test.sh)")
    })
}

/// What the browser run reported.
#[derive(Clone, Debug)]
pub struct BrowserRun {
    /// The `RESULT` line's JSON (empty if the script printed none).
    pub json: String,
    /// Whether the script reported success (and exited 0).
    pub ok: bool,
    /// Seconds of playback observed.
    pub played: f64,
    /// The standard deviation of the decoded picture's luma (0..255), when sampled.
    pub picture_stddev: Option<f64>,
    /// The script's whole output, for messages.
    pub log: String,
}

/// Opens `page_url` (weir's player page) in headless Chromium through
/// `tests/browser/hls_player.mjs` (playwright-core, Chromium from the Debian package), waits
/// until the video has played `min_played` seconds with no fatal hls.js error, and saves a
/// screenshot to `screenshot`. Panics with install hints when node, Chromium or the script's
/// `node_modules` are missing.
pub fn play_in_chromium(
    page_url: &str,
    screenshot: &Path,
    min_played: f64,
    timeout: Duration,
) -> BrowserRun {
    require_tool("node", NODE_HINT);
    let chromium = chromium_path();
    let dir = browser_dir();
    if !dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        panic!(
            "playwright-core is not installed: run `npm ci` in {} (scripts/test.sh does; it \
             downloads no browser: the test uses {CHROMIUM_HINT})",
            dir.display()
        );
    }
    let out = run_with_timeout(
        "node-hls-player",
        Command::new("node")
            .current_dir(&dir)
            .env("CHROMIUM", &chromium)
            .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
            .arg(dir.join("hls_player.mjs"))
            .arg(page_url)
            .arg(screenshot)
            .arg(min_played.to_string())
            .arg(timeout.as_secs().saturating_sub(20).max(10).to_string()),
        timeout,
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or("")
        .to_string();
    let ok = out.status.is_some_and(|s| s.success()) && json_raw(&json, "ok") == Some("true");
    BrowserRun {
        played: json_raw(&json, "played")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0),
        picture_stddev: json_raw(&json, "stddev").and_then(|v| v.parse().ok()),
        ok,
        json,
        log: format!("{stdout}\n--- stderr ---\n{}", out.stderr),
    }
}

/// The raw value of the first `"key":` in a flat JSON text, up to the next `,` or `}` (enough
/// for the numbers and booleans of the script's result line).
pub fn json_raw<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":");
    let at = json.find(&pat)? + pat.len();
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}
