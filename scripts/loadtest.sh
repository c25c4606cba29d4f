#!/usr/bin/env bash
# Runs the same loads side by side against weir (tokio and mio runtimes), peer servers and a
# bare pipe, with the load generator of weir-benches (benches/src/bin/loadgen.rs): one H.264
# stream (640x360, 2 Mbit/s CBR, GOP 50) published by the generator, N readers, a bounded
# measurement window, server CPU and RSS sampled from /proc.
#
#   bash scripts/loadtest.sh                              # everything (about 40 minutes)
#   READERS="10 100" PROTOCOLS=rtsp-tcp SERVERS="weir-tokio weir-mio barepipe" \
#       bash scripts/loadtest.sh
#
# Environment:
#   READERS    reader counts (default "10 100 500 1000"); a server that fails a count is not
#              tried at larger ones
#   PROTOCOLS  rtsp-tcp rtsp-udp rtmp hls (default "rtsp-tcp rtmp")
#   SERVERS    weir-tokio weir-mio barepipe gst-rtsp nginx-rtmp node-media-server xiu
#              (default: all)
#   DURATION   seconds of each measurement window (default 20)
#   WARMUP     seconds between publishing and the first reader (default 1.5). The server's RSS
#              baseline is sampled then: for memory per reader, let the server's own buffers
#              fill first (weir's ring of writeQueueSize = 512 frames takes 20.5 s at 25 fps:
#              WARMUP=25), or their growth is counted as the readers'.
#   INSTALL    1 (default): install missing peers (apt-get, npm, cargo install); 0: skip them
#   LOADGEN_THREADS  reader threads of the generator (default 1)
#   APPEND=1   append to the results instead of starting over
#   BUILD=0    use the binaries already in the target directory (weir, loadgen, barepipe)
#   WEIR_BIN   the weir binary to measure (default target/release/weir; it must have both
#              runtimes, i.e. be built with --features mio)
#
# Servers and what they are asked for (each on its own ports, all on 127.0.0.1; each run
# starts the server afresh):
#   weir-tokio / weir-mio   target/release/weir (built with --features mio), WEIR_RUNTIME=...
#                           RTSP/TCP, RTSP/UDP, RTMP, HLS (HLS published over RTSP)
#   barepipe                the physical floor: the publisher's bytes copied to N TCP sockets
#                           (protocol "raw"; run once per reader count, compare with TCP rows)
#   gst-rtsp                scripts/peers/gst_rtsp_server.py: publish /record, play /live
#   nginx-rtmp              nginx + libnginx-mod-rtmp (scripts/peers/nginx.conf): RTMP, HLS
#   node-media-server       npm node-media-server@2.7.4 (scripts/peers/nms.js): RTMP
#   xiu                     cargo install xiu: RTSP, RTMP, HLS (HLS published over RTMP); a
#                           failed build is recorded, not fatal
#
# Output: target/loadtest/results.jsonl (a "meta" line, then one loadgen JSON report per run,
# or a line saying why a run was skipped or failed), target/loadtest/table.md (markdown),
# server logs under target/loadtest/logs/. Peers are installed only by this script.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$repo/$target" ;; esac
out="$target/loadtest"
READERS="${READERS:-10 100 500 1000}"
PROTOCOLS="${PROTOCOLS:-rtsp-tcp rtmp}"
SERVERS="${SERVERS:-weir-tokio weir-mio barepipe gst-rtsp nginx-rtmp node-media-server xiu}"
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-1.5}"
INSTALL="${INSTALL:-1}"
THREADS="${LOADGEN_THREADS:-1}"
results="$out/results.jsonl"
mkdir -p "$out/logs" "$out/peers"
TABLE_ONLY=0
[ "${1:-}" = --table-only ] && TABLE_ONLY=1
[ "${APPEND:-0}" = 1 ] || [ "$TABLE_ONLY" = 1 ] || : >"$results"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

say() { echo "== $*" >&2; }
# Appends one JSON object built by python from KEY=VALUE arguments (values are strings).
note() {
    python3 - "$@" >>"$results" <<'PY'
import json, sys
print(json.dumps(dict(a.split("=", 1) for a in sys.argv[1:])))
PY
}

if [ "$TABLE_ONLY" = 1 ]; then
    BUILD=0
fi
if [ "${BUILD:-1}" = 1 ]; then
    say "building weir (tokio + mio) and the load generator"
    nice -n 10 cargo build --release -p weir --features mio || exit 1
    nice -n 10 cargo build --release -p weir-benches --bins || exit 1
fi
weir="${WEIR_BIN:-$target/release/weir}"
loadgen="$target/release/loadgen"
barepipe="$target/release/barepipe"

if [ "$TABLE_ONLY" != 1 ]; then
for b in "$weir" "$target/release/loadgen" "$target/release/barepipe"; do
    [ -x "$b" ] || { echo "loadtest.sh: $b is missing (run without BUILD=0)" >&2; exit 1; }
done
python3 - "$results" "$READERS" "$PROTOCOLS" "$DURATION" "$weir" <<'PY'
import json, os, platform, subprocess, sys, time
def sh(c):
    try:
        return subprocess.run(c, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return ""
model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
meta = {
    "meta": {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "commit": sh("git rev-parse --short HEAD") + (" (dirty tree)" if sh("git status --porcelain") else ""),
        "rustc": sh("rustc --version"),
        "loadavg": open("/proc/loadavg").read().split()[:3],
        "readers": sys.argv[2], "protocols": sys.argv[3], "duration_s": sys.argv[4],
        "weir_bin": sys.argv[5],
        "weir_built": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(os.path.getmtime(sys.argv[5]))),
    }
}
with open(sys.argv[1], "a") as f:
    f.write(json.dumps(meta) + "\n")
PY
fi

# --- peers: present, or installed when INSTALL=1 ------------------------------------------

apt_install() {
    [ "$INSTALL" = 1 ] || return 1
    command -v apt-get >/dev/null || return 1
    say "apt-get install $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
        >>"$out/logs/install.log" 2>&1; then
        DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$out/logs/install.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
            >>"$out/logs/install.log" 2>&1 || return 1
    fi
}

have_gst() {
    /usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' 2>/dev/null &&
        gst-inspect-1.0 rtph264pay >/dev/null 2>&1 && gst-inspect-1.0 h264parse >/dev/null 2>&1
}
nginx_module=/usr/lib/nginx/modules/ngx_rtmp_module.so
have_nginx() { command -v nginx >/dev/null && [ -f "$nginx_module" ]; }
nms_dir="$out/peers/nms"
have_nms() { command -v node >/dev/null && [ -f "$nms_dir/node_modules/node-media-server/package.json" ]; }
xiu_bin="$out/peers/xiu/bin/xiu"
have_xiu() { [ -x "$xiu_bin" ]; }

# Prints why SERVER cannot run (nothing when it can), installing it first if needed.
ensure() {
    case "$1" in
    weir-tokio | weir-mio | barepipe) ;;
    gst-rtsp)
        have_gst || apt_install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good \
            gstreamer1.0-plugins-bad
        have_gst || echo "GStreamer RTSP server (python3-gi, gir1.2-gst-rtsp-server-1.0) missing"
        ;;
    nginx-rtmp)
        if ! have_nginx; then
            local fresh=1
            command -v nginx >/dev/null && fresh=0
            apt_install nginx libnginx-mod-rtmp
            # The package starts its system service: a fresh install's service is not ours.
            if [ "$fresh" = 1 ] && command -v nginx >/dev/null; then
                (service nginx stop || nginx -s quit) >/dev/null 2>&1
            fi
        fi
        have_nginx || echo "nginx with libnginx-mod-rtmp missing"
        ;;
    node-media-server)
        if ! have_nms && [ "$INSTALL" = 1 ] && command -v npm >/dev/null; then
            say "npm install node-media-server@2.7.4"
            timeout 600 npm install --prefix "$nms_dir" --no-audit --no-fund --loglevel=error \
                node-media-server@2.7.4 >>"$out/logs/install.log" 2>&1
        fi
        have_nms || echo "node-media-server missing (npm install failed or npm absent)"
        ;;
    xiu)
        if ! have_xiu && [ "$INSTALL" = 1 ]; then
            # Its Opus bindings link libopus through pkg-config (else they need cmake).
            pkg-config --exists opus 2>/dev/null || apt_install libopus-dev pkg-config
            say "cargo install xiu (long: it builds OpenSSL, WebRTC and AWS crates)"
            CARGO_TARGET_DIR="$target/xiu-build" timeout 3600 nice -n 15 \
                cargo install xiu --locked --root "$out/peers/xiu" >>"$out/logs/install.log" 2>&1
        fi
        have_xiu || echo "xiu missing: cargo install xiu failed (see logs/install.log)"
        ;;
    *) echo "unknown server $1" ;;
    esac
}

# --- servers ---------------------------------------------------------------------------------

# The protocols SERVER is run with, among PROTOCOLS.
protocols_of() {
    local supported
    case "$1" in
    weir-tokio | weir-mio) supported="rtsp-tcp rtsp-udp rtmp hls" ;;
    barepipe) echo raw && return ;;
    gst-rtsp) supported="rtsp-tcp rtsp-udp" ;;
    nginx-rtmp) supported="rtmp hls" ;;
    xiu) supported="rtsp-tcp rtsp-udp rtmp hls" ;;
    node-media-server) supported="rtmp" ;;
    esac
    for p in $PROTOCOLS; do
        case " $supported " in *" $p "*) echo "$p" ;; esac
    done
}

# Sets PUB and READ for SERVER and PROTOCOL.
urls() {
    local base
    case "$1" in
    weir-tokio | weir-mio)
        base=1
        [ "$1" = weir-mio ] && base=2
        case "$2" in
        rtsp-*) PUB="rtsp://127.0.0.1:${base}8554/live/bench" READ="$PUB" ;;
        rtmp) PUB="rtmp://127.0.0.1:${base}1935/live/bench" READ="$PUB" ;;
        hls) PUB="rtsp://127.0.0.1:${base}8554/live/bench"
             READ="http://127.0.0.1:${base}8888/live/bench/index.m3u8" ;;
        esac
        ;;
    barepipe) PUB="tcp://127.0.0.1:19000" READ="tcp://127.0.0.1:19001" ;;
    gst-rtsp) PUB="rtsp://127.0.0.1:38554/record" READ="rtsp://127.0.0.1:38554/live" ;;
    nginx-rtmp)
        PUB="rtmp://127.0.0.1:31935/live/bench"
        READ="$PUB"
        [ "$2" = hls ] && READ="http://127.0.0.1:38080/hls/bench.m3u8"
        ;;
    node-media-server) PUB="rtmp://127.0.0.1:41935/live/bench" READ="$PUB" ;;
    xiu)
        PUB="rtmp://127.0.0.1:51935/live/bench"
        READ="$PUB"
        case "$2" in
        rtsp-*) PUB="rtsp://127.0.0.1:58554/live/bench" READ="$PUB" ;;
        hls) READ="http://127.0.0.1:58080/live/bench/bench.m3u8" ;;
        esac
        ;;
    esac
}

# Waits (10 s at most) until 127.0.0.1:PORT accepts connections.
wait_port() {
    local i
    for i in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

SERVER_PID=""
# Starts SERVER (for PROTOCOL) in the background (log in logs/SERVER.log); sets SERVER_PID.
start_server() {
    local name=$1 log="$out/logs/$1.log" port
    local run="$out/run-$1"
    rm -rf "$run" && mkdir -p "$run"
    case "$name" in
    weir-tokio | weir-mio)
        local b=1 rt=tokio
        [ "$name" = weir-mio ] && b=2 rt=mio
        cat >"$run/weir.yml" <<EOF
logLevel: warn
rtspAddress: 127.0.0.1:${b}8554
rtpAddress: 127.0.0.1:${b}8000
rtcpAddress: 127.0.0.1:${b}8001
multicastRTPPort: ${b}8002
multicastRTCPPort: ${b}8003
rtmpAddress: 127.0.0.1:${b}1935
hlsAddress: 127.0.0.1:${b}8888
webrtc: false
srt: false
paths:
  all_others:
EOF
        WEIR_RUNTIME=$rt "$weir" "$run/weir.yml" >>"$log" 2>&1 &
        port=${b}8554
        ;;
    barepipe)
        "$barepipe" --publish 127.0.0.1:19000 --read 127.0.0.1:19001 >>"$log" 2>&1 &
        port=19000
        ;;
    gst-rtsp)
        /usr/bin/python3 "$repo/scripts/peers/gst_rtsp_server.py" 38554 >>"$log" 2>&1 &
        port=38554
        ;;
    nginx-rtmp)
        mkdir -p "$run/hls"
        sed -e "s|@OUT@|$run|g" -e "s|@RTMP_PORT@|31935|g" -e "s|@HTTP_PORT@|38080|g" \
            -e "s|@MODULE@|$nginx_module|g" "$repo/scripts/peers/nginx.conf" >"$run/nginx.conf"
        nginx -p "$run/" -c "$run/nginx.conf" -e "$run/nginx-error.log" >>"$log" 2>&1 &
        port=31935
        ;;
    node-media-server)
        NODE_PATH="$nms_dir/node_modules" node "$repo/scripts/peers/nms.js" 41935 48000 >>"$log" 2>&1 &
        port=41935
        ;;
    xiu)
        # A configuration file (TOML, xiu 0.14's fields). HLS only when measured; its section
        # carries an S3 table that is switched off: without one, xiu 0.14's HLS remuxer
        # (crate hls 0.5.6, M3u8::new) unwraps a missing S3 prefix and panics.
        {
            printf '[rtmp]\nenabled = true\nport = 51935\n\n'
            printf '[rtsp]\nenabled = true\nport = 58554\nrelay_enabled = false\n\n'
            if [ "$2" = hls ]; then
                printf '[hls]\nenabled = true\nport = 58080\nneed_record = false\n\n'
                printf '[hls.s3]\nenabled = false\nbucket = "none"\nregion = "none"\n\n'
            fi
            printf '[authsecret]\nkey = ""\npassword = ""\n\n[log]\nlevel = "warn"\n'
        } >"$run/xiu.toml"
        (cd "$run" && exec "$xiu_bin" -c "$run/xiu.toml") >>"$log" 2>&1 &
        port=51935
        ;;
    esac
    SERVER_PID=$!
    if ! wait_port "$port"; then
        stop_server
        return 1
    fi
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
}
trap 'stop_server' EXIT INT TERM

# Writes target/loadtest/table.md from results.jsonl (and prints it).
make_table() {
python3 - "$results" "$out/table.md" <<'PY'
import json, sys
rows, notes, meta = [], [], {}
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line)
    if "meta" in r:
        meta = r["meta"]
    elif "delivered_mbps" in r:
        rows.append(r)
    else:
        notes.append(r)

def f(v, fmt="{:.1f}"):
    return "" if v is None else fmt.format(v)

out = []
if meta:
    out.append(f"Run {meta.get('date')} on {meta.get('nproc')} x {meta.get('cpu')} "
               f"(kernel {meta.get('kernel')}), commit {meta.get('commit')}, {meta.get('rustc')}; "
               f"weir binary {meta.get('weir_bin')} built {meta.get('weir_built')}; "
               f"window {meta.get('duration_s')} s per run; load average at start {' '.join(meta.get('loadavg', []))}.")
    out.append("")
out.append("| protocol | server | readers | Mbit/s delivered | per reader min / med / max | RTP gaps | missing frames | readers behind | TTFF p50 / p99 ms | latency p50 / p99 ms | server CPU % | server CPU-s / GB | server RSS MiB | KiB / reader | generator CPU % | load 1 min |")
out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
order = {"rtsp-tcp": 0, "raw": 1, "rtmp": 2, "rtsp-udp": 3, "hls": 4}
for r in sorted(rows, key=lambda r: (order.get(r["protocol"], 9), r["readers"], r["label"])):
    s, p = r["server"], r["per_reader_mbps"]
    loss = r["loss"]
    out.append("| " + " | ".join([
        r["protocol"], r["label"] + ("" if r.get("server_alive_after", True) else " (exited)"),
        f"{r['readers']}" + (f" ({r['readers_failed']} failed)" if r["readers_failed"] else ""),
        f(r["delivered_mbps"]),
        f"{f(p['min'], '{:.2f}')} / {f(p['median'], '{:.2f}')} / {f(p['max'], '{:.2f}')}",
        str(loss["rtp_gaps"]) if loss["rtp_packets"] else "",
        str(loss["missing_frames"]),
        "" if loss.get("readers_behind") is None else str(loss["readers_behind"]),
        f"{f(r['ttff_ms']['p50'], '{:.0f}')} / {f(r['ttff_ms']['p99'], '{:.0f}')}",
        f"{f(r['latency_ms']['p50'], '{:.2f}')} / {f(r['latency_ms']['p99'], '{:.2f}')}",
        f(s["cpu_pct"]), f(s["cpu_s_per_gb"], "{:.2f}"),
        f(s["rss_max_kib"] / 1024 if s["rss_max_kib"] is not None else None),
        f(s["rss_per_reader_kib"]),
        f(r["generator"]["cpu_pct"]), f(r["loadavg_end"][0], "{:.2f}"),
    ]) + " |")
best = {}
for r in rows:
    ok = r["readers_failed"] == 0 and r["loss"]["rtp_gaps"] == 0 and r["loss"]["missing_frames"] == 0 \
        and r["readers_in_window"] == r["readers"] and not r["loss"].get("readers_behind")
    k = (r["label"], r["protocol"])
    if ok and r["readers"] >= best.get(k, (0, None))[0]:
        best[k] = (r["readers"], r["server"]["cpu_s_per_gb"])
if best:
    out += ["", "Most readers served with zero loss (no reader failed, no RTP gap, no missing frame, no reader "
            "below 98 % of the window's frames), among the counts run, and the CPU-seconds per GB there:", "",
            "| server | protocol | readers | CPU-s / GB |", "|---|---|---|---|"]
    for (label, proto), (n, c) in sorted(best.items()):
        out.append(f"| {label} | {proto} | {n} | {f(c, '{:.2f}')} |")
if notes:
    out += ["", "Not measured / failed:", ""]
    for n in notes:
        what = " ".join(str(n.get(k, "")) for k in ("label", "server", "protocol", "readers") if n.get(k))
        out.append(f"- {what}: {n.get('skipped') or n.get('error')}")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
}

# --- the runs --------------------------------------------------------------------------------

[ "$TABLE_ONLY" = 1 ] && SERVERS=""
for server in $SERVERS; do
    why=$(ensure "$server")
    if [ -n "$why" ]; then
        say "$server: skipped: $why"
        note server="$server" skipped="$why"
        continue
    fi
    for proto in $(protocols_of "$server"); do
        failed_at=""
        for n in $READERS; do
            if [ -n "$failed_at" ]; then
                note label="$server" protocol="$proto" readers="$n" skipped="not run: failed at $failed_at readers"
                continue
            fi
            urls "$server" "$proto"
            say "$server $proto x$n (load $(cut -d' ' -f1-3 /proc/loadavg))"
            if ! start_server "$server" "$proto"; then
                note label="$server" protocol="$proto" readers="$n" error="the server did not start (see logs/$server.log)"
                failed_at=$n
                continue
            fi
            tmp="$out/last.json"
            timeout $((DURATION + 150)) "$loadgen" --server-pid "$SERVER_PID" --publish "$PUB" \
                --read "$READ" --readers "$n" --protocol "$proto" --duration "$DURATION" \
                --warmup "$WARMUP" \
                --threads "$THREADS" --label "$server" --json >"$tmp" 2>>"$out/logs/loadgen.log"
            rc=$?
            alive=1
            kill -0 "$SERVER_PID" 2>/dev/null || alive=0
            if [ $rc -eq 0 ] && [ -s "$tmp" ]; then
                python3 - "$tmp" "$alive" >>"$results" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["server_alive_after"] = sys.argv[2] == "1"
print(json.dumps(r))
PY
                python3 -c "import json,sys; r=json.load(open('$tmp')); sys.exit(0 if r['readers_failed'] < r['readers'] else 1)" ||
                    failed_at=$n
            else
                note label="$server" protocol="$proto" readers="$n" error="loadgen exit $rc (see logs/loadgen.log)" \
                    server_alive_after="$alive"
                failed_at=$n
            fi
            [ "$alive" = 1 ] || {
                say "$server exited during the run"
                failed_at=$n
            }
            stop_server
            sleep 2
        done
    done
done

make_table
say "results: $results, table: $out/table.md"
