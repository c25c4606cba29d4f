//! Publishing over RTSP: ANNOUNCE (the source's SDP), SETUP (interleaved TCP, record), RECORD,
//! then interleaved RTP (see [`super::publish::InterleavedSink`]).

use super::publish::{connect, spawn_discard, InterleavedSink, Sink};
use super::source::Source;
use super::url::Url;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use weir_core::rtsp::{parse, Limits, Message, Parsed};

/// A response's status and the headers the publisher reads.
struct Answer {
    status: u16,
    session: Option<String>,
}

/// Sends one request and reads its response (interleaved frames before it are skipped).
fn request(s: &mut TcpStream, buf: &mut Vec<u8>, text: &str) -> Result<Answer, String> {
    s.write_all(text.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let mut chunk = [0u8; 4096];
    loop {
        match parse(buf, 0, &Limits::default()).map_err(|e| e.to_string())? {
            Parsed::Done { message, consumed } => {
                let answer = match message {
                    Message::Response(r) => Some(Answer {
                        status: r.status,
                        session: r
                            .headers
                            .get("Session")
                            .map(|v| v.split(';').next().unwrap_or(v).trim().to_owned()),
                    }),
                    _ => None,
                };
                buf.drain(..consumed);
                if let Some(a) = answer {
                    return Ok(a);
                }
            }
            Parsed::NeedMore { .. } => {
                let n = s.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
                if n == 0 {
                    return Err("the server closed the connection".into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

/// Checks a response's status.
fn expect_ok(method: &str, a: &Answer) -> Result<(), String> {
    if a.status == 200 {
        Ok(())
    } else {
        Err(format!("{method} answered {}", a.status))
    }
}

/// Announces and starts recording at `url`; returns the sink for the media.
pub fn open(url: &Url, source: &Source, stop: &Arc<AtomicBool>) -> Result<Box<dyn Sink>, String> {
    let mut s = connect(url)?;
    let mut buf = Vec::new();
    let u = url.as_string();
    let sdp = source.sdp();
    let ua = "User-Agent: weir-loadgen\r\n";
    let a = request(
        &mut s,
        &mut buf,
        &format!(
            "ANNOUNCE {u} RTSP/1.0\r\nCSeq: 1\r\n{ua}Content-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        ),
    )?;
    expect_ok("ANNOUNCE", &a)?;
    let track = format!("{}/trackID=0", u.trim_end_matches('/'));
    let a = request(
        &mut s,
        &mut buf,
        &format!(
            "SETUP {track} RTSP/1.0\r\nCSeq: 2\r\n{ua}\
             Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n\r\n"
        ),
    )?;
    expect_ok("SETUP", &a)?;
    let session = a.session.ok_or("SETUP answer without Session")?;
    let a = request(
        &mut s,
        &mut buf,
        &format!(
            "RECORD {u} RTSP/1.0\r\nCSeq: 3\r\n{ua}Session: {session}\r\nRange: npt=0.000-\r\n\r\n"
        ),
    )?;
    expect_ok("RECORD", &a)?;
    spawn_discard(s.try_clone().map_err(|e| e.to_string())?, stop.clone());
    Ok(Box::new(InterleavedSink::new(s)))
}
