#!/usr/bin/env bash
# Records real clients (ffmpeg, GStreamer) talking to weir on loopback with tcpdump, one pcap
# per case, into conformance/captures/ (or $OUT); and, as references, the same clients talking
# to nginx with the RTMP module and to GStreamer's RTSP server (gst_rtsp_server.py). Each
# capture holds a few seconds of 320x240 test media, so each file stays well under 2 MB.
#
#   conformance/scripts/capture.sh            # all cases
#   conformance/scripts/capture.sh rtmp_read  # cases whose name contains "rtmp_read"
#
# Needs root (tcpdump on lo), tcpdump, ffmpeg (libx264, libx265, libopus), GStreamer
# (gst-launch-1.0 with rtspclientsink, qtdemux, h264parse, aacparse; gst-rtsp-server with its
# Python bindings, x264enc, opusenc), nginx with libnginx-mod-rtmp, and a release build of
# weir: CARGO_TARGET_DIR=/work/target-conformance cargo build --release -p weir
# (override with WEIR=path). Every server listens on 127.0.0.1 only, on the ports below.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
OUT="${OUT:-$HERE/../captures}"
WEIR="${WEIR:-/work/target-conformance/release/weir}"
RTSP_PORT="${RTSP_PORT:-18554}"
RTP_PORT="${RTP_PORT:-18000}"
RTCP_PORT="${RTCP_PORT:-18001}"
RTMP_PORT="${RTMP_PORT:-11935}"
HLS_PORT="${HLS_PORT:-18888}"
NGINX_PORT="${NGINX_PORT:-11936}"
GST_PORT="${GST_PORT:-18555}"
WEIR_FILTER="tcp port $RTSP_PORT or udp port $RTP_PORT or udp port $RTCP_PORT or tcp port $RTMP_PORT or tcp port $HLS_PORT"
NGINX_FILTER="tcp port $NGINX_PORT"
# gst-rtsp-server picks its UDP ports itself: all of loopback's UDP but DNS.
GST_FILTER="tcp port $GST_PORT or (udp and not port 53)"
ONLY="${1:-}"

need() {
    command -v "$1" >/dev/null 2>&1 || { echo "capture.sh: $1 is missing: $2" >&2; exit 1; }
}
need tcpdump "apt-get install -y tcpdump"
need ffmpeg "apt-get install -y ffmpeg"
need gst-launch-1.0 "apt-get install -y gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-rtsp"
need nginx "apt-get install -y nginx libnginx-mod-rtmp"
for element in rtspclientsink qtdemux h264parse aacparse x264enc opusenc; do
    gst-inspect-1.0 "$element" >/dev/null 2>&1 || {
        echo "capture.sh: the GStreamer element $element is missing: apt-get install -y gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-rtsp" >&2
        exit 1
    }
done
[ -f /usr/lib/nginx/modules/ngx_rtmp_module.so ] || {
    echo "capture.sh: nginx's RTMP module is missing: apt-get install -y libnginx-mod-rtmp" >&2
    exit 1
}
/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" 2>/dev/null || {
    echo "capture.sh: gst-rtsp-server's Python bindings are missing: apt-get install -y python3-gi gir1.2-gst-rtsp-server-1.0" >&2
    exit 1
}
[ -x "$WEIR" ] || {
    echo "capture.sh: no weir binary at $WEIR: CARGO_TARGET_DIR=/work/target-conformance cargo build --release -p weir" >&2
    exit 1
}
[ "$(id -u)" = 0 ] || { echo "capture.sh: tcpdump on lo needs root" >&2; exit 1; }

TMP="$(mktemp -d)"
SERVER_PID=""
DUMP_PID=""
cleanup() {
    [ -n "$DUMP_PID" ] && kill -INT "$DUMP_PID" 2>/dev/null || true
    [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
mkdir -p "$OUT"

# Test clips: testsrc2 320x240 at 25 fps (a key frame every second) and a 440 Hz sine.
LAVFI="-f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000"
X264="-c:v libx264 -profile:v baseline -bf 0 -pix_fmt yuv420p -g 25 -keyint_min 25 -sc_threshold 0 -b:v 300k"
X265="-c:v libx265 -pix_fmt yuv420p -b:v 300k -x265-params keyint=25:min-keyint=25:scenecut=0:bframes=0:log-level=error"
# shellcheck disable=SC2086
ffmpeg -hide_banner -loglevel error -y $LAVFI -t 4 -map 0:v -map 1:a $X264 -c:a aac -b:a 64k "$TMP/h264_aac.mp4"
# shellcheck disable=SC2086
ffmpeg -hide_banner -loglevel error -y $LAVFI -t 3 -map 0:v -map 1:a $X265 -c:a libopus -b:a 48k "$TMP/h265_opus.mkv"

# wait_for_line FILE TEXT: waits (5 s at most) for a server's readiness line.
wait_for_line() {
    for _ in $(seq 1 50); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "capture.sh: the server did not start:" >&2
    cat "$1" >&2
    exit 1
}

start_weir() {
    cat >"$TMP/weir.yml" <<EOF
logLevel: info
rtspAddress: 127.0.0.1:$RTSP_PORT
rtpAddress: 127.0.0.1:$RTP_PORT
rtcpAddress: 127.0.0.1:$RTCP_PORT
rtspTransports: [udp, tcp]
rtmpAddress: 127.0.0.1:$RTMP_PORT
hlsAddress: 127.0.0.1:$HLS_PORT
paths:
  all_others:
EOF
    "$WEIR" "$TMP/weir.yml" >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    wait_for_line "$TMP/server.log" "\[HLS\] listener opened"
}

start_nginx() {
    mkdir -p "$TMP/nginx"
    cat >"$TMP/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/server.log info;
events { worker_connections 64; }
rtmp {
    server {
        listen 127.0.0.1:$NGINX_PORT;
        application cap { live on; }
    }
}
EOF
    : >"$TMP/server.log"
    nginx -p "$TMP/nginx" -c "$TMP/nginx.conf" >>"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    # nginx logs nothing when it is ready: wait for its port.
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "capture.sh: nginx did not start:" >&2
    cat "$TMP/server.log" >&2
    exit 1
}

start_gst() {
    /usr/bin/python3 "$HERE/gst_rtsp_server.py" "$GST_PORT" >"$TMP/server.log" 2>&1 &
    SERVER_PID=$!
    wait_for_line "$TMP/server.log" "listening on"
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# capture NAME SERVER SCRIPT: records SCRIPT (a shell snippet, run in the clip folder)
# against a fresh SERVER (weir, nginx or gst).
capture() {
    local name="$1" server="$2" script="$3" filter
    if [ -n "$ONLY" ] && [[ "$name" != *"$ONLY"* ]]; then
        return 0
    fi
    echo "== $name"
    case "$server" in
        weir) start_weir; filter="$WEIR_FILTER" ;;
        nginx) start_nginx; filter="$NGINX_FILTER" ;;
        gst) start_gst; filter="$GST_FILTER" ;;
        *) echo "capture.sh: unknown server $server" >&2; exit 1 ;;
    esac
    tcpdump -i lo -U --immediate-mode -s 0 -w "$TMP/$name.pcap" "$filter" >"$TMP/tcpdump.log" 2>&1 &
    DUMP_PID=$!
    sleep 1
    if ! (cd "$TMP" && timeout 30 bash -c "$script"); then
        echo "capture.sh: the clients of $name failed" >&2
        tail -20 "$TMP/server.log" >&2
        exit 1
    fi
    # Let tcpdump write the last packets (TEARDOWN, FIN) before it stops.
    sleep 1.5
    kill -INT "$DUMP_PID"
    wait "$DUMP_PID" 2>/dev/null || true
    DUMP_PID=""
    stop_server
    mv "$TMP/$name.pcap" "$OUT/$name.pcap"
    # tcpdump writes as its own user.
    chown "$(id -u):$(id -g)" "$OUT/$name.pcap"
    local size
    size=$(stat -c %s "$OUT/$name.pcap")
    echo "   $OUT/$name.pcap: $size bytes"
    [ "$size" -lt 2000000 ] || { echo "capture.sh: $name.pcap is over 2 MB" >&2; exit 1; }
}

RTSP="rtsp://127.0.0.1:$RTSP_PORT"
RTMP="rtmp://127.0.0.1:$RTMP_PORT"
HLS="http://127.0.0.1:$HLS_PORT"
NGINX="rtmp://127.0.0.1:$NGINX_PORT"
GST="rtsp://127.0.0.1:$GST_PORT/ref"
FF="ffmpeg -hide_banner -loglevel error -nostdin"

# Against weir.
capture ffmpeg_rtsp_tcp_publish_h264_aac weir \
    "$FF -re -i h264_aac.mp4 -t 3 -c copy -f rtsp -rtsp_transport tcp $RTSP/cap/tcp"

capture ffmpeg_rtsp_udp_publish_h264_aac weir \
    "$FF -re -i h264_aac.mp4 -t 3 -c copy -f rtsp -rtsp_transport udp $RTSP/cap/udp"

capture ffmpeg_rtsp_tcp_publish_h265_opus weir \
    "$FF -re -i h265_opus.mkv -c copy -f rtsp -rtsp_transport tcp $RTSP/cap/h265"

capture ffmpeg_rtsp_tcp_read_h264_aac weir \
    "$FF -re -i h264_aac.mp4 -c copy -f rtsp -rtsp_transport tcp $RTSP/cap/read & sleep 1.2;
     $FF -rtsp_transport tcp -i $RTSP/cap/read -t 2 -c copy -f null - ; wait"

capture ffmpeg_rtsp_udp_read_h264_aac weir \
    "$FF -re -i h264_aac.mp4 -c copy -f rtsp -rtsp_transport tcp $RTSP/cap/read & sleep 1.2;
     $FF -rtsp_transport udp -i $RTSP/cap/read -t 2 -c copy -f null - ; wait"

capture gstreamer_rtsp_publish_h264_aac weir \
    "gst-launch-1.0 -q rtspclientsink name=s location=$RTSP/cap/gst \
       filesrc location=h264_aac.mp4 ! qtdemux name=d \
       d.video_0 ! queue ! h264parse ! s.sink_0 \
       d.audio_0 ! queue ! aacparse ! s.sink_1"

capture ffmpeg_rtmp_publish_h264_aac weir \
    "$FF -re -i h264_aac.mp4 -t 3 -c copy -f flv $RTMP/cap/rtmp"

capture ffmpeg_rtmp_read_h264_aac weir \
    "$FF -re -i h264_aac.mp4 -c copy -f flv $RTMP/cap/rtmpread & sleep 1.2;
     $FF -i $RTMP/cap/rtmpread -t 2 -c copy -f null - ; wait"

capture ffmpeg_hls_read_h264_aac weir \
    "$FF -re -i h264_aac.mp4 -c copy -f rtsp -rtsp_transport tcp $RTSP/cap/hls & sleep 2.5;
     $FF -i $HLS/cap/hls/index.m3u8 -t 1 -c copy -f null - ; wait"

# References: the same clients against nginx-rtmp and gst-rtsp-server.
capture nginx_rtmp_publish_read_h264_aac nginx \
    "$FF -re -i h264_aac.mp4 -c copy -f flv $NGINX/cap/ref & sleep 1.2;
     $FF -i $NGINX/cap/ref -t 2 -c copy -f null - ; wait"

capture gst_rtsp_server_tcp_read_h264_opus gst \
    "$FF -rtsp_transport tcp -i $GST -t 2 -c copy -f null -"

capture gst_rtsp_server_udp_read_h264_opus gst \
    "$FF -rtsp_transport udp -i $GST -t 2 -c copy -f null -"

echo "done: $OUT"
