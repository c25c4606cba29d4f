#!/usr/bin/python3
"""A reference RTSP server for conformance/scripts/capture.sh: GStreamer's gst-rtsp-server
serving live test media (H.264 320x240 at 25 fps, a key frame every second, and Opus) at
rtsp://127.0.0.1:PORT/ref until killed.

    /usr/bin/python3 gst_rtsp_server.py PORT
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = (
    "( videotestsrc is-live=true pattern=smpte "
    "! video/x-raw,width=320,height=240,framerate=25/1 "
    "! x264enc tune=zerolatency bitrate=300 key-int-max=25 speed-preset=ultrafast "
    "! rtph264pay name=pay0 pt=96 config-interval=1 "
    "audiotestsrc is-live=true freq=440 ! audioconvert ! audioresample "
    "! opusenc bitrate=48000 ! rtpopuspay name=pay1 pt=97 )"
)


def main():
    port = sys.argv[1] if len(sys.argv) > 1 else "18555"
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE)
    factory.set_shared(True)
    server.get_mount_points().add_factory("/ref", factory)
    server.attach(None)
    print(f"gst-rtsp-server listening on rtsp://127.0.0.1:{port}/ref", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
