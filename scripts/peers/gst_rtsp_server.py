#!/usr/bin/env python3
"""GStreamer RTSP server peer for scripts/loadtest.sh.

Serves two mounts on 127.0.0.1:PORT, both backed by gst-rtsp-server:

- /record  accepts one publisher (ANNOUNCE/RECORD): RTP is depayloaded to H.264 access units
           and handed, buffer by buffer, to every prepared play media;
- /live    is a shared play media (one pipeline for every reader): appsrc -> h264parse ->
           rtph264pay, delivered by gst-rtsp-server over RTP/TCP or RTP/UDP.

gst-rtsp-server cannot play and record one media, hence the two mounts joined by an
appsink -> appsrc hand-off. SEI NAL units (the load generator's latency marker) pass through
h264parse and the payloader untouched.

Usage: gst_rtsp_server.py PORT   (needs python3-gi and gir1.2-gst-rtsp-server-1.0)
"""
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

RECORD = (
    "( rtph264depay name=depay0 ! h264parse ! "
    "video/x-h264,stream-format=byte-stream,alignment=au ! "
    "appsink name=sink emit-signals=true sync=false max-buffers=200 drop=true )"
)
PLAY = (
    "( appsrc name=src is-live=true do-timestamp=true format=time "
    "caps=video/x-h264,stream-format=byte-stream,alignment=au ! "
    "h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
)

# The appsrc of every play media currently prepared.
sources = []


def on_sample(sink):
    """Hands one access unit from the record pipeline to every play pipeline."""
    sample = sink.emit("pull-sample")
    if sample is None:
        return Gst.FlowReturn.EOS
    buf = sample.get_buffer()
    for src in list(sources):
        out = buf.copy()  # shares the memory; only the metadata is copied
        out.pts = Gst.CLOCK_TIME_NONE
        out.dts = Gst.CLOCK_TIME_NONE
        src.emit("push-buffer", out)
    return Gst.FlowReturn.OK


def record_configure(_factory, media):
    sink = media.get_element().get_by_name("sink")
    sink.connect("new-sample", on_sample)


def play_configure(_factory, media):
    src = media.get_element().get_by_name("src")
    sources.append(src)

    def unprepared(_media):
        if src in sources:
            sources.remove(src)

    media.connect("unprepared", unprepared)


def main():
    port = sys.argv[1] if len(sys.argv) > 1 else "8554"
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    server.set_backlog(4096)
    # Clients run on a pool of threads, not on the main loop: the first DESCRIBE of /live waits
    # for the play media to preroll, which needs the publisher's RTP, read by another client.
    # Two threads: one per core of the benchmark machine.
    server.get_thread_pool().set_max_threads(2)
    mounts = server.get_mount_points()

    record = GstRtspServer.RTSPMediaFactory()
    record.set_launch(RECORD)
    record.set_transport_mode(GstRtspServer.RTSPTransportMode.RECORD)
    record.set_latency(0)
    record.connect("media-configure", record_configure)
    mounts.add_factory("/record", record)

    play = GstRtspServer.RTSPMediaFactory()
    play.set_launch(PLAY)
    play.set_shared(True)
    play.set_latency(0)
    play.connect("media-configure", play_configure)
    mounts.add_factory("/live", play)

    if server.attach(None) == 0:
        sys.exit(f"cannot listen on 127.0.0.1:{port}")
    loop = GLib.MainLoop()
    signal.signal(signal.SIGTERM, lambda *_: loop.quit())
    signal.signal(signal.SIGINT, lambda *_: loop.quit())
    GLib.timeout_add(200, lambda: True)  # lets Python run its signal handlers
    print(f"gst-rtsp-server: record on /record, play on /live, 127.0.0.1:{port}", flush=True)
    loop.run()


if __name__ == "__main__":
    main()
