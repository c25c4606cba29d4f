#!/usr/bin/env bash
# The project's test command: installs the media tools the end-to-end tests drive
# (ffmpeg/ffprobe, GStreamer with rtspclientsink/rtspsrc/rtmpsrc, VLC for the RTMP player
# test, iproute2 for the multicast network namespace, socat as the TLS terminator in front of an
# origin for the rtsps:// / rtmps:// source test), then runs every test of the workspace.
#
# VLC: Debian's VLC 3 opens rtmp:// with its avio access module (libavformat's RTMP client),
# which is in vlc-plugin-base; vlc-bin provides cvlc. VLC refuses to run as root: the tests
# run it as nobody through setpriv (util-linux).
#
# Tests run in release mode: pushing real media through a debug build of the server
# on a 2-core machine is too slow, and timing-sensitive media assertions would flake.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(ffmpeg gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp iproute2
    vlc-bin vlc-plugin-base socat)
GST_ELEMENTS=(rtspclientsink rtspsrc qtdemux h264parse aacparse rtph264depay identity filesink
    rtmpsrc flvdemux fakesink)

missing() {
    local tool element
    for tool in ffmpeg ffprobe gst-launch-1.0 gst-inspect-1.0 ip cvlc setpriv socat; do
        command -v "$tool" >/dev/null 2>&1 || { echo "$tool"; return 0; }
    done
    compgen -G "/usr/lib/*/vlc/plugins/access/libavio_plugin.so" >/dev/null \
        || { echo "VLC's avio access module (rtmp://)"; return 0; }
    for element in "${GST_ELEMENTS[@]}"; do
        gst-inspect-1.0 "$element" >/dev/null 2>&1 || { echo "GStreamer element $element"; return 0; }
    done
    return 1
}

# apt_install PKG...: installs with apt-get (through sudo when not root).
apt_install() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "test.sh: not root and no sudo: install $* by hand" >&2
            exit 1
        fi
    fi
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

if what=$(missing); then
    echo "test.sh: $what is missing: installing ${PACKAGES[*]}"
    apt_install "${PACKAGES[@]}"
    if what=$(missing); then
        echo "test.sh: $what is still missing after installing" >&2
        exit 1
    fi
fi

# HLS: the server embeds hls.js for its player page at build time (package.json at the root),
# and the browser test (server/tests/hls_clients.rs) drives headless Chromium (the Debian package,
# /usr/bin/chromium) with playwright-core (server/tests/browser/). Both are pinned in their
# package-lock.json and installed with `npm ci` (again only when the lock changed);
# playwright-core downloads no browser. Node.js and npm come from Debian when missing.
BROWSER_PACKAGES=()
[ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1 || BROWSER_PACKAGES+=(chromium)
command -v node >/dev/null 2>&1 || BROWSER_PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || BROWSER_PACKAGES+=(npm)
if [ "${#BROWSER_PACKAGES[@]}" -gt 0 ]; then
    echo "test.sh: installing ${BROWSER_PACKAGES[*]} for the HLS player and browser tests"
    apt_install "${BROWSER_PACKAGES[@]}"
fi
for dir in . server/tests/browser; do
    [ -f "$dir/package-lock.json" ] || continue
    if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.weir-installed-lock"; then
        echo "test.sh: npm ci in $dir"
        (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
        cp "$dir/package-lock.json" "$dir/node_modules/.weir-installed-lock"
    fi
done

status=0
# The core is sans-IO: it never reads the clock (core/clippy.toml's disallowed-methods; only
# tests' fake clocks take one real base instant, each marked where it does).
if ! cargo clippy --version >/dev/null 2>&1; then
    echo "test.sh: clippy is missing: rustup component add clippy"
    rustup component add clippy 2>&1 || status=1
fi
cargo clippy -p weir-core --lib --tests -- -A clippy::all -D clippy::disallowed_methods 2>&1 || status=$?
# Every crate's tests; the end-to-end suite (server/tests) runs here on the tokio runtime...
cargo test --workspace --release --no-fail-fast 2>&1 || status=$?
# ...and again, unchanged, on the mio runtime: the same binary built with both runtimes,
# WEIR_TEST_RUNTIME telling the harness which one to start (it checks weir's `runtime:` line).
WEIR_TEST_RUNTIME=mio cargo test -p weir --release --features mio --no-fail-fast --tests 2>&1 || status=$?

# Every parser's fuzz target must still build and survive a short run (FUZZ_SECONDS each; 0 skips
# the run but still builds). Longer campaigns: FUZZ_SECONDS=600 bash scripts/fuzz.sh.
if [ "$status" -eq 0 ]; then
    FUZZ_SECONDS="${FUZZ_SECONDS:-10}" bash scripts/fuzz.sh 2>&1 || status=$?
fi
exit "$status"
