//! One HLS muxer per path, shared by every HLS client of the path, fed by a task that reads the
//! path's ring like any other reader.

use crate::hub::{lock, Hub};
use crate::stream::SharedStream;
use crate::READ_BATCH;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;
use weir_core::hls::{HlsAnswer, HlsMuxer};
use weir_core::http::{RequestId, Response};
use weir_core::media::{PathError, StreamItem};
use weir_core::settings::HlsSettings;

/// Where the answer to a held request goes: the connection's mailbox and its request id.
pub(crate) type Waiter = (super::mailbox::Sender<(RequestId, Response)>, RequestId);

/// The HLS server's shared state.
pub(crate) struct HlsHub {
    pub(crate) settings: HlsSettings,
    pub(crate) http: Arc<weir_core::http::HttpServerConfig>,
    muxers: Mutex<HashMap<String, Arc<PathMuxer>>>,
    next_token: AtomicU64,
}

struct Inner {
    muxer: HlsMuxer,
    waiters: HashMap<u64, Waiter>,
}

/// A path's muxer.
pub(crate) struct PathMuxer {
    path: String,
    stream: Arc<SharedStream>,
    inner: Mutex<Inner>,
    /// Milliseconds since the hub started, of the last request.
    last_request_ms: AtomicU64,
    /// Wakes the muxer task when a request was held (its deadline may be the earliest).
    held: Notify,
    /// `runOnRead` while the muxer reads the path (`runOnUnread` when dropped).
    _read_hook: Mutex<Option<weir_core::hooks::HookSpan>>,
}

pub(crate) use weir_core::hls::hls_response as to_response;

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl HlsHub {
    pub(crate) fn new(settings: HlsSettings) -> Arc<HlsHub> {
        let http = weir_core::http::HttpServerConfig {
            idle_timeout: settings.read_timeout,
            allow_origins: settings.allow_origins.clone(),
            ..Default::default()
        };
        Arc::new(HlsHub {
            settings,
            http: Arc::new(http),
            muxers: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(1),
        })
    }

    /// The muxer of `path`, created (and its task started) on first use (for a request with
    /// `query`).
    pub(crate) fn muxer(
        self: &Arc<Self>,
        hub: &Arc<Hub>,
        path: &str,
        query: &str,
    ) -> Result<Arc<PathMuxer>, PathError> {
        let mut muxers = lock(&self.muxers);
        if let Some(m) = muxers.get(path) {
            if !m.stream.is_closed() {
                return Ok(m.clone());
            }
        }
        let stream = lock(&hub.paths).add_reader(path)?;
        let muxer = match HlsMuxer::new(
            self.settings.muxer.clone(),
            &stream.description,
            Instant::now(),
        ) {
            Ok(m) => m,
            Err(e) => {
                lock(&hub.paths).remove_reader(path);
                tracing::warn!("[HLS] [muxer {path}] cannot be created: {e}");
                return Err(PathError::NoCompatibleTracks(path.to_owned()));
            }
        };
        let m = Arc::new(PathMuxer {
            path: path.to_owned(),
            stream,
            inner: Mutex::new(Inner {
                muxer,
                waiters: HashMap::new(),
            }),
            last_request_ms: AtomicU64::new(hub.started.elapsed().as_millis() as u64),
            held: Notify::new(),
            // The muxer is the path's reader (as in MediaMTX, type `hlsMuxer`, no id).
            _read_hook: Mutex::new(hub.read_hook(path, query, "hlsMuxer", "")),
        });
        muxers.insert(path.to_owned(), m.clone());
        tracing::info!("[HLS] [muxer {path}] created");
        tokio::spawn(run_muxer(hub.clone(), self.clone(), m.clone()));
        Ok(m)
    }

    fn remove(&self, m: &Arc<PathMuxer>) {
        let mut muxers = lock(&self.muxers);
        if muxers.get(&m.path).is_some_and(|x| Arc::ptr_eq(x, m)) {
            muxers.remove(&m.path);
        }
    }

    /// A token identifying one request to a muxer.
    pub(crate) fn token(&self) -> u64 {
        self.next_token.fetch_add(1, Ordering::Relaxed)
    }
}

impl PathMuxer {
    /// Asks the muxer for `file`; a held request is answered later through `waiter`.
    pub(crate) fn request(
        &self,
        hub: &Hub,
        file: &str,
        query: &str,
        token: u64,
        waiter: Waiter,
    ) -> Option<Response> {
        self.last_request_ms
            .store(hub.started.elapsed().as_millis() as u64, Ordering::Relaxed);
        let mut inner = lock(&self.inner);
        match inner
            .muxer
            .handle_request(Instant::now(), file, query, token)
        {
            HlsAnswer::Now(r) => Some(to_response(r)),
            HlsAnswer::Held => {
                inner.waiters.insert(token, waiter);
                drop(inner);
                self.held.notify_one();
                None
            }
        }
    }

    /// The client of a held request went away.
    pub(crate) fn forget(&self, token: u64) {
        let mut inner = lock(&self.inner);
        if inner.waiters.remove(&token).is_some() {
            inner.muxer.forget(token);
        }
    }
}

impl Inner {
    fn release(&mut self) {
        while let Some((token, r)) = self.muxer.poll_released() {
            if let Some((tx, id)) = self.waiters.remove(&token) {
                tx.send((id, to_response(r)));
            }
        }
    }
}

/// Feeds the path's units into its muxer until the stream closes or nobody asked for
/// anything during `hlsMuxerCloseAfter`.
async fn run_muxer(hub: Arc<Hub>, hls: Arc<HlsHub>, m: Arc<PathMuxer>) {
    let (mut seq_rx, mut closed_rx) = m.stream.subscribe();
    let mut cursor = m.stream.join();
    let mut batch = Vec::with_capacity(READ_BATCH);
    let mut shutdown = hub.shutdown_signal();
    let close_after = hls.settings.muxer_close_after;
    let mut idle_check = tokio::time::interval(Duration::from_secs(1));
    seq_rx.mark_changed();
    let reason = loop {
        let deadline = lock(&m.inner).muxer.poll_timeout();
        tokio::select! {
            r = seq_rx.changed() => {
                if r.is_err() { break "the stream closed"; }
                seq_rx.borrow_and_update();
                loop {
                    batch.clear();
                    m.stream.read(&mut cursor, READ_BATCH, &mut batch);
                    if batch.is_empty() { break; }
                    let now = Instant::now();
                    let wall = wall_clock_ms();
                    let mut inner = lock(&m.inner);
                    for item in &batch {
                        if let StreamItem::Unit(u) = item {
                            inner.muxer.push_unit(now, wall, u);
                        }
                    }
                    inner.release();
                }
            }
            _ = crate::rtsp_conn::sleep_until_opt(deadline) => {
                let mut inner = lock(&m.inner);
                inner.muxer.handle_timeout(Instant::now());
                inner.release();
            }
            _ = m.held.notified() => {}
            _ = closed_rx.changed() => break "the stream closed",
            _ = shutdown.changed() => break "server is shutting down",
            _ = idle_check.tick() => {
                let last = m.last_request_ms.load(Ordering::Relaxed);
                let idle = (hub.started.elapsed().as_millis() as u64).saturating_sub(last);
                if !hls.settings.always_remux && Duration::from_millis(idle) >= close_after {
                    break "not requested recently";
                }
            }
        }
    };
    hls.remove(&m);
    {
        let mut inner = lock(&m.inner);
        for (_, (tx, id)) in inner.waiters.drain() {
            tx.send((id, Response::text(404, "stream closed")));
        }
    }
    lock(&hub.paths).remove_reader(&m.path);
    tracing::info!("[HLS] [muxer {}] destroyed: {reason}", m.path);
}
