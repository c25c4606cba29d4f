//! The whole-server load generator (the `loadgen` binary): it publishes one H.264 stream to a
//! running server and plays it with N readers over RTSP/TCP, RTSP/UDP, RTMP or HLS (or the bare
//! pipe's raw interleaved stream), then reports delivered throughput, loss, spread, time to
//! first frame, server-added latency (an in-band marker, see [`marker`]), and the server's CPU
//! and memory sampled from /proc.
//!
//! - [`source`]: the H.264 stream (ffmpeg once, then looped) with the marker in every frame;
//! - [`publish`], [`publish_rtsp`], [`publish_rtmp`], [`rtmp_client`]: the publisher thread;
//! - [`event_loop`], [`session`], [`reader_rtsp`], [`reader_rtmp`], [`reader_hls`], [`http`]:
//!   the readers, all in one mio loop per reader thread;
//! - [`stats`], [`procfs`], [`report`]: what is counted and how it is reported.

pub mod event_loop;
pub mod http;
pub mod marker;
pub mod procfs;
pub mod publish;
pub mod publish_rtmp;
pub mod publish_rtsp;
pub mod reader_hls;
pub mod reader_rtmp;
pub mod reader_rtsp;
pub mod report;
pub mod rtmp_client;
pub mod session;
pub mod source;
pub mod stats;
pub mod url;

/// How the readers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// RTSP, RTP interleaved in the TCP connection.
    RtspTcp,
    /// RTSP, RTP over UDP to a port pair per reader.
    RtspUdp,
    /// RTMP play.
    Rtmp,
    /// HLS: playlist reloads and segment fetches.
    Hls,
    /// The bare pipe: interleaved RTP frames from the first byte, no handshake.
    Raw,
}

impl Protocol {
    /// Parses the CLI name.
    pub fn parse(s: &str) -> Result<Protocol, String> {
        Ok(match s {
            "rtsp-tcp" => Protocol::RtspTcp,
            "rtsp-udp" => Protocol::RtspUdp,
            "rtmp" => Protocol::Rtmp,
            "hls" => Protocol::Hls,
            "raw" => Protocol::Raw,
            other => {
                return Err(format!(
                    "unknown protocol {other} (rtsp-tcp, rtsp-udp, rtmp, hls, raw)"
                ))
            }
        })
    }

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::RtspTcp => "rtsp-tcp",
            Protocol::RtspUdp => "rtsp-udp",
            Protocol::Rtmp => "rtmp",
            Protocol::Hls => "hls",
            Protocol::Raw => "raw",
        }
    }

    /// The URL scheme readers of this protocol use.
    pub fn scheme(self) -> &'static str {
        match self {
            Protocol::RtspTcp | Protocol::RtspUdp => "rtsp",
            Protocol::Rtmp => "rtmp",
            Protocol::Hls => "http",
            Protocol::Raw => "tcp",
        }
    }
}
