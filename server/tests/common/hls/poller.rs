//! [`HlsPoller`], a background HLS reader that polls a path's media playlist and downloads
//! every new segment, and its [`PollStats`] snapshots.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{fetch_media_playlist, media_playlist_target, resolve, HttpClient};

/// What an [`HlsPoller`] saw so far.
#[derive(Clone, Debug, Default)]
pub struct PollStats {
    /// Media playlists fetched.
    pub playlists: usize,
    /// Segments downloaded (each new one once).
    pub segments: usize,
    /// Bytes of segments downloaded.
    pub bytes: u64,
    /// The newest segment's media sequence number.
    pub last_msn: Option<u64>,
    /// Every failure: a status other than 200, an I/O error, an unparsable playlist, a
    /// segment skipped (the media sequence jumped past one not downloaded).
    pub errors: Vec<String>,
}

/// A thread that reads an HLS path like a player: multivariant playlist, then the media
/// playlist every 300 ms on one keep-alive connection, downloading each new segment once
/// (the init segment too). Stops on drop.
pub struct HlsPoller {
    stats: Arc<Mutex<PollStats>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    path: String,
}

impl HlsPoller {
    /// Starts polling `path` on weir's HLS port.
    pub fn start(port: u16, path: &str) -> HlsPoller {
        let stats = Arc::new(Mutex::new(PollStats::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, p) = (stats.clone(), stop.clone(), path.to_string());
        let handle = thread::spawn(move || poll_loop(port, &p, &s, &st));
        HlsPoller {
            stats,
            stop,
            handle: Some(handle),
            path: path.to_string(),
        }
    }

    /// A copy of the stats.
    pub fn snapshot(&self) -> PollStats {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until `n` segments were downloaded; panics on timeout or error.
    pub fn wait_segments(&self, n: usize, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.snapshot();
            assert!(
                s.errors.is_empty(),
                "HLS reader of {} failed: {:?}",
                self.path,
                s.errors
            );
            if s.segments >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "HLS reader of {} downloaded {} of {n} segments in {timeout:?}",
                self.path,
                s.segments
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Asserts the reader downloaded at least `n` more segments than in `before`, in
    /// sequence, without any error, within `timeout`.
    pub fn assert_flowing(&self, before: &PollStats, n: usize, timeout: Duration) {
        self.wait_segments(before.segments + n, timeout);
    }
}

impl Drop for HlsPoller {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn poll_loop(port: u16, path: &str, stats: &Mutex<PollStats>, stop: &AtomicBool) {
    let error = |e: String| {
        eprintln!("[hls poller {path}] {e}");
        stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .errors
            .push(e);
    };
    let mut client = match HttpClient::try_connect(port) {
        Ok(c) => c,
        Err(e) => return error(format!("connect: {e}")),
    };
    let (media, _) = match media_playlist_target(&mut client, path) {
        Ok(t) => t,
        Err(e) => return error(e),
    };
    let mut last_msn: Option<u64> = None;
    let mut init_done = false;
    while !stop.load(Ordering::Relaxed) {
        let pl = match fetch_media_playlist(&mut client, &media) {
            Ok((_, pl)) => pl,
            Err(e) => {
                error(e);
                match HttpClient::try_connect(port) {
                    Ok(c) => client = c,
                    Err(e) => return error(format!("reconnect: {e}")),
                }
                thread::sleep(Duration::from_millis(300));
                continue;
            }
        };
        stats.lock().unwrap_or_else(|p| p.into_inner()).playlists += 1;
        if !init_done {
            if let Some(init) = &pl.map_uri {
                if let Err(e) = client.get_ok(&resolve(&media, init)) {
                    error(e);
                }
            }
            init_done = true;
        }
        for seg in &pl.segments {
            if last_msn.is_some_and(|l| seg.msn <= l) {
                continue;
            }
            if let Some(l) = last_msn {
                if seg.msn > l + 1 {
                    error(format!(
                        "segments {}..{} left the playlist before they were read",
                        l + 1,
                        seg.msn
                    ));
                }
            }
            match client.get_ok(&resolve(&media, &seg.uri)) {
                Ok(r) if !r.body.is_empty() => {
                    let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                    s.segments += 1;
                    s.bytes += r.body.len() as u64;
                    s.last_msn = Some(seg.msn);
                }
                Ok(_) => error(format!("segment {} is empty", seg.uri)),
                Err(e) => error(e),
            }
            last_msn = Some(seg.msn);
        }
        thread::sleep(Duration::from_millis(300));
    }
}
