//! The replay's own RTSP clients: a reader that plays a path over TCP and fingerprints the RTP
//! payloads of each track (it checks what a replayed publisher sent), and a publisher that
//! announces a session description and sends RTP over TCP (it feeds a replayed reader).

use super::digest::{wait_for_media, Progress, Sequence};
use super::rtsp_conn::{interleave, is_rtcp, rtp_payload, session_id, RtspConn};
use super::sdp::{control_url, sdp_medias, SdpMedia};
use crate::rtsp::RtspMessage;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// An error for an answer that is not a success.
fn refused(what: &str, answer: &RtspMessage) -> io::Error {
    io::Error::other(format!("{what}: weir answered `{}`", answer.start_line))
}

fn ok(what: &str, answer: RtspMessage) -> io::Result<RtspMessage> {
    match answer.status() {
        Some(200..=299) => Ok(answer),
        _ => Err(refused(what, &answer)),
    }
}

/// What a reader received, per media section of weir's session description.
#[derive(Clone, Debug, Default)]
pub struct Received {
    /// weir's media sections.
    pub medias: Vec<SdpMedia>,
    /// The RTP payloads received on each.
    pub tracks: Vec<Sequence>,
}

/// A reader playing a path over TCP on its own thread.
pub struct RtspReader {
    progress: Arc<Mutex<Vec<Progress>>>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<io::Result<Received>>,
}

impl RtspReader {
    /// DESCRIBEs, SETUPs every media section (interleaved channels `2i`, `2i+1`) and PLAYs
    /// `rtsp://addr{path}`, then receives on a thread until [`RtspReader::finish`].
    pub fn start(addr: SocketAddr, path: &str) -> io::Result<RtspReader> {
        let url = format!("rtsp://{addr}{path}");
        let mut conn = RtspConn::connect(addr)?;
        let describe = ok(
            "DESCRIBE",
            conn.request(
                "DESCRIBE",
                &url,
                &[("Accept", "application/sdp".into())],
                b"",
            )?,
        )?;
        let base = describe
            .header("Content-Base")
            .map_or(url.clone(), str::to_string);
        let medias = sdp_medias(&describe.body);
        let mut session: Option<String> = None;
        for (i, media) in medias.iter().enumerate() {
            let mut headers = vec![(
                "Transport",
                format!("RTP/AVP/TCP;unicast;interleaved={}-{}", 2 * i, 2 * i + 1),
            )];
            if let Some(s) = &session {
                headers.push(("Session", s.clone()));
            }
            let setup_url = control_url(&base, media.control.as_deref());
            let answer = ok("SETUP", conn.request("SETUP", &setup_url, &headers, b"")?)?;
            if session.is_none() {
                session = answer.header("Session").map(|s| session_id(s).to_string());
            }
        }
        let session = session.ok_or_else(|| io::Error::other("SETUP: weir gave no session"))?;
        ok(
            "PLAY",
            conn.request("PLAY", &url, &[("Session", session)], b"")?,
        )?;
        let progress = Arc::new(Mutex::new(vec![(0, None); medias.len()]));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (progress.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("rtsp-reader".into())
            .spawn(move || receive(conn, medias, c, s))?;
        Ok(RtspReader {
            progress,
            stop,
            thread,
        })
    }

    /// How far each media section got.
    pub fn progress(&self) -> Vec<Progress> {
        self.progress.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Waits until what was `sent` on each section arrived (see [`wait_for_media`]).
    pub fn wait_for(&self, sent: &[&Sequence], idle: Duration, max: Duration) {
        wait_for_media(|| self.progress(), sent, idle, max);
    }

    /// Stops receiving and returns what arrived.
    pub fn finish(self) -> io::Result<Received> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| io::Error::other("the reader thread panicked"))?
    }
}

fn receive(
    mut conn: RtspConn,
    medias: Vec<SdpMedia>,
    progress: Arc<Mutex<Vec<Progress>>>,
    stop: Arc<AtomicBool>,
) -> io::Result<Received> {
    let mut tracks = vec![Sequence::default(); medias.len()];
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        for (channel, packet) in conn.take_frames() {
            let track = usize::from(channel / 2);
            if channel % 2 != 0 || track >= tracks.len() || is_rtcp(&packet) {
                continue;
            }
            if let Some(payload) = rtp_payload(&packet) {
                tracks[track].push(payload);
            }
        }
        if let Ok(mut c) = progress.lock() {
            for (n, t) in c.iter_mut().zip(&tracks) {
                *n = t.progress();
            }
        }
        if stop.load(Ordering::Relaxed) || conn.is_closed() || Instant::now() > deadline {
            break;
        }
        conn.pump(Duration::from_millis(20))?;
    }
    Ok(Received { medias, tracks })
}

/// A publisher that announced a session description and sends RTP over TCP.
pub struct RtspPublisher {
    conn: RtspConn,
    /// weir's session id.
    pub session: String,
    /// The URL published.
    pub url: String,
}

/// `sdp` with every media section's control set to `trackID=i` (added where missing) and the
/// session-level control dropped (the original server's absolute URLs would name another host).
pub fn relabel_controls(sdp: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(sdp);
    let mut out = String::new();
    let mut media: Option<usize> = None;
    let close = |out: &mut String, media: Option<usize>| {
        if let Some(i) = media {
            out.push_str(&format!("a=control:trackID={i}\r\n"));
        }
    };
    for line in text.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        if line.starts_with("m=") {
            close(&mut out, media);
            media = Some(media.map_or(0, |m| m + 1));
        }
        if !line.starts_with("a=control:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    close(&mut out, media);
    out.into_bytes()
}

impl RtspPublisher {
    /// ANNOUNCEs `sdp` at `rtsp://addr{path}` (controls relabelled), SETUPs each media
    /// section over TCP (channels `2i`, `2i+1`) and RECORDs.
    pub fn start(addr: SocketAddr, path: &str, sdp: &[u8]) -> io::Result<RtspPublisher> {
        let url = format!("rtsp://{addr}{path}");
        let sdp = relabel_controls(sdp);
        let medias = sdp_medias(&sdp);
        let mut conn = RtspConn::connect(addr)?;
        ok(
            "ANNOUNCE",
            conn.request(
                "ANNOUNCE",
                &url,
                &[("Content-Type", "application/sdp".into())],
                &sdp,
            )?,
        )?;
        let mut session: Option<String> = None;
        for (i, media) in medias.iter().enumerate() {
            let mut headers = vec![(
                "Transport",
                format!(
                    "RTP/AVP/TCP;unicast;interleaved={}-{};mode=record",
                    2 * i,
                    2 * i + 1
                ),
            )];
            if let Some(s) = &session {
                headers.push(("Session", s.clone()));
            }
            let setup_url = control_url(&url, media.control.as_deref());
            let answer = ok("SETUP", conn.request("SETUP", &setup_url, &headers, b"")?)?;
            if session.is_none() {
                session = answer.header("Session").map(|s| session_id(s).to_string());
            }
        }
        let session = session.ok_or_else(|| io::Error::other("SETUP: weir gave no session"))?;
        ok(
            "RECORD",
            conn.request("RECORD", &url, &[("Session", session.clone())], b"")?,
        )?;
        Ok(RtspPublisher { conn, session, url })
    }

    /// Sends `packet` on media section `track`'s RTP channel (or its RTCP channel).
    pub fn queue(&self, track: usize, rtcp: bool, packet: &[u8], out: &mut Vec<u8>) {
        interleave((2 * track + usize::from(rtcp)) as u8, packet, out);
    }

    /// Writes queued frames.
    pub fn send(&mut self, data: &[u8]) -> io::Result<()> {
        self.conn.send(data)
    }

    /// TEARDOWN, then closes.
    pub fn teardown(mut self) -> io::Result<()> {
        let url = self.url.clone();
        let session = self.session.clone();
        self.conn
            .request("TEARDOWN", &url, &[("Session", session)], b"")
            .map(|_| ())
    }
}
