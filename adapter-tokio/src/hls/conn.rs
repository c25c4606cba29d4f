//! One task per HLS (HTTP/1.1) connection: routes requests to the player page, hls.js and the
//! path muxers, and writes responses with vectored writes (segments are never copied).

use super::muxer::{HlsHub, PathMuxer};
use crate::hub::Hub;
use crate::ondemand::SourceState;
use crate::writev::write_all_vectored;
use bytes::{Bytes, BytesMut};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use weir_core::hls::{route_request, HlsRoute};
use weir_core::http::{HttpEvent, HttpServerConnection, Request, RequestId, Response};
use weir_core::media::PathError;

/// Serves one HTTP connection until it closes.
pub(crate) async fn run(hub: Arc<Hub>, hls: Arc<HlsHub>, sock: TcpStream, peer: SocketAddr) {
    let prefix = format!("[HLS] [conn {peer}]");
    let mut conn = HttpServerConnection::new(hls.http.clone(), peer, Instant::now(), prefix);
    let (mut rd, mut wr) = sock.into_split();
    let (tx, mut rx) = super::mailbox::mailbox::<(RequestId, Response)>();
    // Requests held by a muxer: removed when answered, forgotten when the connection ends.
    let mut held: Vec<(RequestId, Arc<PathMuxer>, u64)> = Vec::new();
    // Request heads are small: the buffer grows (up to the head limit) only for a large one.
    let mut inbuf = BytesMut::with_capacity(crate::rtsp_conn::MIN_INPUT);
    let mut out: Vec<Bytes> = Vec::new();
    let mut shutdown = hub.shutdown_signal();
    'conn: loop {
        // Drain: events → answers; transmit; resume parsing.
        loop {
            let mut progressed = false;
            while let Some(ev) = conn.poll_event() {
                progressed = true;
                match ev {
                    HttpEvent::Request(req) => {
                        if let Some(resp) = route(&hub, &hls, &req, &tx, &mut held) {
                            conn.respond(req.id, resp);
                        }
                    }
                    HttpEvent::Close { .. } => {
                        flush(&mut conn, &mut out, &mut wr, &hub).await;
                        break 'conn;
                    }
                }
            }
            if conn.poll_transmit(&mut out) {
                progressed = true;
                if !flush_chunks(&mut out, &mut wr, &hub).await {
                    conn.handle_close("write error or timeout");
                    continue;
                }
            }
            if conn.wants_input() && !inbuf.is_empty() {
                let before = inbuf.len();
                conn.handle_input(Instant::now(), &mut inbuf);
                progressed |= inbuf.len() != before;
            }
            if !progressed {
                break;
            }
        }
        if conn.is_closing() {
            break;
        }
        let deadline = conn.poll_timeout();
        tokio::select! {
            r = rd.read_buf(&mut inbuf), if conn.wants_input() => match r {
                Ok(0) => conn.handle_close("the client closed the connection"),
                Ok(_) => {
                    conn.handle_input(Instant::now(), &mut inbuf);
                    crate::rtsp_conn::make_room(&mut inbuf, crate::rtsp_conn::MIN_INPUT);
                }
                Err(e) => conn.handle_close(&e.to_string()),
            },
            (id, resp) = rx.recv() => {
                held.retain(|(r, _, _)| *r != id);
                conn.respond(id, resp);
            }
            _ = crate::rtsp_conn::sleep_until_opt(deadline) => conn.handle_timeout(Instant::now()),
            _ = shutdown.changed() => conn.handle_close("server is shutting down"),
        }
    }
    for (_, m, token) in held {
        m.forget(token);
    }
    let _ = wr.shutdown().await;
}

async fn flush(
    conn: &mut HttpServerConnection,
    out: &mut Vec<Bytes>,
    wr: &mut tokio::net::tcp::OwnedWriteHalf,
    hub: &Hub,
) {
    if conn.poll_transmit(out) {
        flush_chunks(out, wr, hub).await;
    }
}

/// Writes and clears `out`; false on error or timeout.
async fn flush_chunks(
    out: &mut Vec<Bytes>,
    wr: &mut tokio::net::tcp::OwnedWriteHalf,
    hub: &Hub,
) -> bool {
    let ok = {
        let mut slices: Vec<IoSlice<'_>> = out.iter().map(|b| IoSlice::new(b)).collect();
        let timeout = hub.settings.write_timeout;
        matches!(
            tokio::time::timeout(timeout, write_all_vectored(wr, &mut slices)).await,
            Ok(Ok(()))
        )
    };
    out.clear();
    if out.capacity() > 8 {
        // A segment is many chunks: a client between requests keeps no room for them.
        *out = Vec::new();
    }
    ok
}

/// Answers a request parked for its path's on-demand source once the source is ready (or
/// refuses it when the source fails).
async fn answer_when_ready(
    hub: Arc<Hub>,
    hls: Arc<HlsHub>,
    mut rx: watch::Receiver<SourceState>,
    waiter: super::muxer::Waiter,
    path: String,
    file: String,
    query: String,
) {
    let (tx, id) = waiter.clone();
    let wait = async {
        loop {
            match *rx.borrow_and_update() {
                SourceState::Ready => break true,
                SourceState::Failed => break false,
                SourceState::Starting => {}
            }
            if rx.changed().await.is_err() {
                break false;
            }
        }
    };
    // The client may leave while the source starts: the connection's receiver then closes
    // and nothing is asked of the muxer.
    let ready = tokio::select! {
        ready = wait => ready,
        () = tx.closed() => return,
    };
    let answer = match ready.then(|| hls.muxer(&hub, &path, &query)) {
        Some(Ok(m)) => m.request(&hub, &file, &query, hls.token(), waiter),
        Some(Err(e)) => Some(Response::text(e.rtsp_status().max(404), &e.to_string())),
        None => {
            let e = PathError::NoOnePublishing(path);
            Some(Response::text(404, &e.to_string()))
        }
    };
    if let Some(resp) = answer {
        let _ = tx.send((id, resp));
    }
}

/// Answers a request now, or registers it with a muxer and returns `None`.
fn route(
    hub: &Arc<Hub>,
    hls: &Arc<HlsHub>,
    req: &Request,
    tx: &super::mailbox::Sender<(RequestId, Response)>,
    held: &mut Vec<(RequestId, Arc<PathMuxer>, u64)>,
) -> Option<Response> {
    let (path, file) = match route_request(req) {
        HlsRoute::Now(r) => return Some(r),
        HlsRoute::Muxer { path, file } => (path, file),
    };
    let m = match hls.muxer(hub, path, &req.query) {
        Ok(m) => m,
        Err(PathError::NoOnePublishing(_)) => {
            // A path with an on-demand source: the request waits for it (as an RTSP DESCRIBE
            // or RTMP play does), up to the source's start timeout.
            let Some(rx) = hub.wait_for_source(path, &req.query) else {
                let e = PathError::NoOnePublishing(path.to_owned());
                return Some(Response::text(404, &e.to_string()));
            };
            let waiter = (tx.clone(), req.id);
            let (path, file, query) = (path.to_owned(), file.to_owned(), req.query.clone());
            tokio::spawn(answer_when_ready(
                hub.clone(),
                hls.clone(),
                rx,
                waiter,
                path,
                file,
                query,
            ));
            return None;
        }
        Err(e) => return Some(Response::text(e.rtsp_status().max(404), &e.to_string())),
    };
    let token = hls.token();
    match m.request(hub, file, &req.query, token, (tx.clone(), req.id)) {
        Some(resp) => Some(resp),
        None => {
            held.push((req.id, m, token));
            None
        }
    }
}
