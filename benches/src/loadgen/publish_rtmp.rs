//! Publishing over RTMP as OBS and ffmpeg do: handshake, Set Chunk Size 4096, `connect`,
//! `releaseStream`, `FCPublish`, `createStream`, `publish`, `@setDataFrame onMetaData`, the AVC
//! sequence header, then one video message per access unit (built by weir-core's `FlvMuxer`).

use super::publish::{connect, Sink};
use super::rtmp_client::{
    c0c1, c2, connect_command, status_code, write_command, write_control, Incoming, RtmpIn,
    MEDIA_CSID, SERVER_HANDSHAKE_LEN,
};
use super::source::Source;
use super::url::Url;
use bytes::{Bytes, BytesMut};
use smallvec::SmallVec;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::flv::{FlvMuxer, MetaValue};
use weir_core::media::{StreamDescription, Unit};
use weir_core::rtmp::amf0::Amf0Value;
use weir_core::rtmp::chunk::ChunkEncoder;
use weir_core::rtmp::command::Command;
use weir_core::rtmp::message::{type_id, ControlMessage};

/// The chunk size the publisher announces.
const CHUNK_SIZE: u32 = 4096;

/// The publishing session after `publish` succeeded.
struct RtmpSink {
    stream: TcpStream,
    encoder: ChunkEncoder,
    muxer: FlvMuxer,
    stream_id: u32,
    out: Vec<u8>,
    /// Answers (pings, acknowledgements) from the receiving thread.
    answers: Receiver<Vec<u8>>,
}

impl Sink for RtmpSink {
    fn send_frame(
        &mut self,
        index: u32,
        key: bool,
        nalus: SmallVec<[Bytes; 4]>,
        pts_90k: i64,
        stamp: &dyn Fn(u32),
    ) -> Result<usize, String> {
        self.out.clear();
        while let Ok(a) = self.answers.try_recv() {
            self.out.extend_from_slice(&a);
        }
        let unit = Unit {
            track: 0,
            pts: pts_90k,
            dts: pts_90k,
            key,
            payload: nalus,
            rtp: SmallVec::new(),
        };
        let (enc, out, sid) = (&mut self.encoder, &mut self.out, self.stream_id);
        let mut err = None;
        self.muxer.push_unit_with(&unit, |is_video, ts, body| {
            let t = if is_video {
                type_id::VIDEO
            } else {
                type_id::AUDIO
            };
            if let Err(e) = enc.write(out, MEDIA_CSID, ts as u32, t, sid, body) {
                err = Some(e.to_string());
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        stamp(index);
        self.stream
            .write_all(&self.out)
            .map_err(|e| format!("write: {e}"))?;
        Ok(self.out.len())
    }
}

/// Reads until a command satisfying `want` arrives (10 s at most); `_error` and failing
/// `onStatus` answers are errors.
fn wait_for(
    s: &mut TcpStream,
    rin: &mut RtmpIn,
    buf: &mut BytesMut,
    enc: &mut ChunkEncoder,
    want: impl Fn(&Command) -> bool,
) -> Result<Command, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut chunk = [0u8; 8192];
    let mut out = Vec::new();
    loop {
        while let Some(m) = rin.next(buf, enc, &mut out)? {
            if let Incoming::Command(c) = m {
                if want(&c) {
                    if !out.is_empty() {
                        s.write_all(&out).map_err(|e| e.to_string())?;
                    }
                    return Ok(c);
                }
                let code = status_code(&c).unwrap_or("");
                if c.name == "_error" || code.contains("Failed") || code.contains("BadName") {
                    return Err(format!("{} {code}", c.name));
                }
            }
        }
        if !out.is_empty() {
            s.write_all(&out).map_err(|e| e.to_string())?;
            out.clear();
        }
        if Instant::now() > deadline {
            return Err("no answer from the RTMP server in 10 s".into());
        }
        let n = s.read(&mut chunk).map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("the RTMP server closed the connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        rin.count(n, enc, &mut out);
    }
}

/// The `onMetaData` values of the stream, from the muxer, as an AMF0 ECMA array.
fn metadata(muxer: &FlvMuxer, bitrate_bps: f64) -> Amf0Value {
    let mut props: Vec<(String, Amf0Value)> = muxer
        .metadata()
        .into_iter()
        .filter_map(|(k, v)| {
            let v = match v {
                MetaValue::Number(n) => Amf0Value::Number(n),
                MetaValue::Bool(b) => Amf0Value::Boolean(b),
                MetaValue::String(s) => Amf0Value::String(s),
                MetaValue::Other => return None,
            };
            Some((k, v))
        })
        .collect();
    props.push((
        "videodatarate".into(),
        Amf0Value::Number((bitrate_bps / 1000.0).round()),
    ));
    props.push(("encoder".into(), Amf0Value::String("weir-loadgen".into())));
    Amf0Value::EcmaArray(props)
}

/// Connects, publishes at `url` (`rtmp://host:port/app/stream`) and returns the sink.
pub fn open(url: &Url, source: &Source, stop: &Arc<AtomicBool>) -> Result<Box<dyn Sink>, String> {
    let (app, name) = url.rtmp_app_stream();
    let mut s = connect(url)?;
    s.write_all(&c0c1()).map_err(|e| e.to_string())?;
    let mut server = vec![0u8; SERVER_HANDSHAKE_LEN];
    s.read_exact(&mut server)
        .map_err(|e| format!("handshake: {e}"))?;
    s.write_all(&c2(&server)).map_err(|e| e.to_string())?;

    let mut enc = ChunkEncoder::new();
    let mut out = Vec::new();
    write_control(
        &mut enc,
        &mut out,
        &ControlMessage::SetChunkSize(CHUNK_SIZE),
    );
    enc.set_chunk_size(CHUNK_SIZE).map_err(|e| e.to_string())?;
    write_command(
        &mut enc,
        &mut out,
        0,
        &connect_command(&app, &url.rtmp_tc_url(), true),
    );
    s.write_all(&out).map_err(|e| e.to_string())?;
    let mut rin = RtmpIn::default();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let is_result = |tx: f64| move |c: &Command| c.name == "_result" && c.transaction_id == tx;
    wait_for(&mut s, &mut rin, &mut buf, &mut enc, is_result(1.0))?;

    out.clear();
    let name_arg = || vec![Amf0Value::String(name.clone())];
    for (tx, cmd) in [(2.0, "releaseStream"), (3.0, "FCPublish")] {
        write_command(
            &mut enc,
            &mut out,
            0,
            &Command::new(cmd, tx, Amf0Value::Null, name_arg()),
        );
    }
    write_command(
        &mut enc,
        &mut out,
        0,
        &Command::new("createStream", 4.0, Amf0Value::Null, vec![]),
    );
    s.write_all(&out).map_err(|e| e.to_string())?;
    let created = wait_for(&mut s, &mut rin, &mut buf, &mut enc, is_result(4.0))?;
    let stream_id = created.arg(0).and_then(Amf0Value::as_f64).unwrap_or(1.0) as u32;

    out.clear();
    let mut args = name_arg();
    args.push(Amf0Value::String("live".into()));
    write_command(
        &mut enc,
        &mut out,
        stream_id,
        &Command::new("publish", 5.0, Amf0Value::Null, args),
    );
    s.write_all(&out).map_err(|e| e.to_string())?;
    wait_for(&mut s, &mut rin, &mut buf, &mut enc, |c| {
        c.name == "onStatus" && status_code(c) == Some("NetStream.Publish.Start")
    })?;

    let desc = StreamDescription::from_sdp(source.sdp().as_bytes())
        .map_err(|e| format!("source SDP: {e}"))?;
    let mut muxer = FlvMuxer::new(&desc).map_err(|e| e.to_string())?;
    out.clear();
    let mut data = Vec::new();
    for v in [
        Amf0Value::String("@setDataFrame".into()),
        Amf0Value::String("onMetaData".into()),
        metadata(&muxer, source.bitrate_bps()),
    ] {
        v.write(&mut data).map_err(|e| e.to_string())?;
    }
    enc.write(
        &mut out,
        MEDIA_CSID - 1,
        0,
        type_id::DATA_AMF0,
        stream_id,
        &data,
    )
    .map_err(|e| e.to_string())?;
    for (is_video, body) in muxer.sequence_headers() {
        let t = if is_video {
            type_id::VIDEO
        } else {
            type_id::AUDIO
        };
        enc.write(&mut out, MEDIA_CSID, 0, t, stream_id, &body)
            .map_err(|e| e.to_string())?;
    }
    s.write_all(&out).map_err(|e| e.to_string())?;

    // Receive in a thread from now on; its answers go out with the next frame.
    let (tx, answers) = channel();
    let mut rx_stream = s.try_clone().map_err(|e| e.to_string())?;
    let _ = rx_stream.set_read_timeout(Some(Duration::from_millis(200)));
    let stop = stop.clone();
    std::thread::spawn(move || {
        let mut enc = ChunkEncoder::new();
        let mut chunk = vec![0u8; 16 * 1024];
        let mut answer = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            match rx_stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    rin.count(n, &mut enc, &mut answer);
                    while let Ok(Some(_)) = rin.next(&mut buf, &mut enc, &mut answer) {}
                    if !answer.is_empty() && tx.send(std::mem::take(&mut answer)).is_err() {
                        break;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
    });
    Ok(Box::new(RtmpSink {
        stream: s,
        encoder: enc,
        muxer,
        stream_id,
        out: Vec::with_capacity(256 * 1024),
        answers,
    }))
}
