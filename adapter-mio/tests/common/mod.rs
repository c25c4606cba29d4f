//! What the loop tests share: the server's settings, an H.264 stream ready to publish over
//! RTSP, and minimal blocking RTSP and RTMP clients that count what they receive.
#![allow(dead_code)] // each test binary uses its own part

use bytes::{Buf, Bytes, BytesMut};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use weir_core::codec::annexb::split_annexb;
use weir_core::codec::h264::H264Packetizer;
use weir_core::codec::AccessUnit;
use weir_core::media::PathConf;
use weir_core::rtmp::chunk::{ChunkDecoder, ChunkEncoder, ChunkLimits};
use weir_core::rtmp::Amf0Value;
use weir_core::rtp::{SeqNo, Ssrc};
use weir_core::rtsp::server::ServerConfig;
use weir_core::settings::{RtmpSettings, RtspSettings, Settings};

pub const T: Duration = Duration::from_secs(20);

pub fn settings() -> Settings {
    let any = |p: u16| SocketAddr::from(([127, 0, 0, 1], p));
    Settings {
        paths: vec![PathConf::all_others()],
        write_timeout: Duration::from_secs(10),
        write_queue_size: 256,
        rtsp: Some(RtspSettings {
            rtsp_address: any(0),
            rtp_address: any(0),
            rtcp_address: any(0),
            multicast_range: ("224.1.0.0".parse().unwrap(), 16),
            multicast_rtp_port: 8002,
            multicast_rtcp_port: 8003,
            core: ServerConfig::default(),
        }),
        rtmp: Some(RtmpSettings {
            address: any(0),
            read_timeout: Duration::from_secs(10),
        }),
        hls: None,
        hooks: None,
        run_on_connect: String::new(),
        run_on_connect_restart: false,
        run_on_disconnect: String::new(),
        tls_roots: Default::default(),
    }
}

/// The H.264 stream: SDP parameter sets and RTP packets (interleaved frames ready to send).
pub fn stream() -> (String, Vec<Vec<u8>>) {
    let data = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../core/tests/data/media/4pics.264"
    ))
    .expect("read 4pics.264");
    let (mut sps, mut pps) = (Vec::new(), Vec::new());
    let mut pictures: Vec<Vec<Bytes>> = Vec::new();
    let mut cur = Vec::new();
    for nal in split_annexb(&data) {
        match nal[0] & 0x1f {
            7 => sps = nal.to_vec(),
            8 => pps = nal.to_vec(),
            _ => {}
        }
        cur.push(Bytes::copy_from_slice(nal));
        if matches!(nal[0] & 0x1f, 1 | 5) {
            pictures.push(std::mem::take(&mut cur));
        }
    }
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let sdp = format!(
        "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=alloc\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n\
         a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;sprop-parameter-sets={},{}\r\n\
         a=control:trackID=0\r\n",
        b64.encode(&sps),
        b64.encode(&pps)
    );
    let mut p = H264Packetizer::new(96, Ssrc(0x0bad_cafe), SeqNo(1), 1200);
    let mut frames = Vec::new();
    let mut ts = 0u32;
    // The file's pictures repeated (an IDR every 4 pictures): 40,000 packets, 8 s at the
    // publisher's pace — enough for warm-up and the measured window.
    while frames.len() < 40_000 {
        for pic in &pictures {
            let key = pic.iter().any(|n| n[0] & 0x1f == 5);
            let mut out = Vec::new();
            p.packetize(
                &AccessUnit {
                    key,
                    data: pic.iter().cloned().collect(),
                },
                ts,
                &mut out,
            );
            for pk in out {
                let mut f = vec![b'$', 0];
                f.extend_from_slice(&(pk.raw.len() as u16).to_be_bytes());
                f.extend_from_slice(&pk.raw);
                frames.push(f);
            }
            ts = ts.wrapping_add(3000);
        }
    }
    (sdp, frames)
}

/// A blocking RTSP client speaking just enough for the test.
pub struct Rtsp {
    pub sock: TcpStream,
    cseq: u32,
    session: Option<String>,
    pub buf: Vec<u8>,
}

impl Rtsp {
    pub fn connect(addr: SocketAddr) -> Rtsp {
        let sock = TcpStream::connect(addr).expect("connect RTSP");
        sock.set_read_timeout(Some(T)).unwrap();
        Rtsp {
            sock,
            cseq: 0,
            session: None,
            buf: Vec::new(),
        }
    }

    pub fn request(&mut self, method: &str, url: &str, headers: &str, body: &str) -> String {
        self.cseq += 1;
        let session = self
            .session
            .as_ref()
            .map(|s| format!("Session: {s}\r\n"))
            .unwrap_or_default();
        let req = format!(
            "{method} {url} RTSP/1.0\r\nCSeq: {}\r\n{session}{headers}Content-Length: {}\r\n\r\n{body}",
            self.cseq,
            body.len()
        );
        self.sock.write_all(req.as_bytes()).unwrap();
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_string();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("Content-Length: "))
                    .map_or(0, |v| v.trim().parse().unwrap());
                if self.buf.len() >= end + 4 + len {
                    self.buf.drain(..end + 4 + len);
                    assert!(head.starts_with("RTSP/1.0 200"), "{method}: {head}");
                    if let Some(s) = head.lines().find_map(|l| l.strip_prefix("Session: ")) {
                        self.session = Some(s.split(';').next().unwrap().trim().to_owned());
                    }
                    return head;
                }
            }
            let mut chunk = [0u8; 4096];
            let n = self.sock.read(&mut chunk).expect("RTSP answer");
            assert!(n > 0, "{method}: connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Reads interleaved frames until `stop`; counts RTP frames on channel 0; reads nothing while
/// `pause` is up.
pub fn rtsp_reader(
    addr: SocketAddr,
    frames: Arc<AtomicU64>,
    pause: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let mut c = Rtsp::connect(addr);
    let url = format!("rtsp://{addr}/live/cam");
    c.request("DESCRIBE", &url, "Accept: application/sdp\r\n", "");
    c.request(
        "SETUP",
        &format!("{url}/trackID=0"),
        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n",
        "",
    );
    c.request("PLAY", &url, "Range: npt=0.000-\r\n", "");
    let mut buf = BytesMut::from(&c.buf[..]);
    let mut chunk = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        while buf.len() >= 4 && buf[0] == b'$' {
            let len = u16::from_be_bytes([buf[2], buf[3]]) as usize;
            if buf.len() < 4 + len {
                break;
            }
            if buf[1] == 0 {
                frames.fetch_add(1, Ordering::Relaxed);
            }
            buf.advance(4 + len);
        }
        assert!(buf.is_empty() || buf[0] == b'$', "interleaved framing lost");
        while pause.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10));
        }
        match c.sock.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

pub fn amf(values: &[Amf0Value]) -> Vec<u8> {
    let mut b = Vec::new();
    for v in values {
        v.write(&mut b).unwrap();
    }
    b
}

/// Plays `live/cam` over RTMP until `stop`; counts video messages.
pub fn rtmp_reader(addr: SocketAddr, videos: Arc<AtomicU64>, stop: Arc<AtomicBool>) {
    let mut sock = TcpStream::connect(addr).expect("connect RTMP");
    sock.set_read_timeout(Some(T)).unwrap();
    let mut c0c1 = vec![3u8];
    c0c1.extend((0..1536u32).map(|i| (i * 7 + 3) as u8));
    c0c1[1..9].fill(0);
    sock.write_all(&c0c1).unwrap();
    let mut s0s1s2 = vec![0u8; 1 + 1536 * 2];
    sock.read_exact(&mut s0s1s2).expect("S0 S1 S2");
    sock.write_all(&s0s1s2[1..1537]).unwrap();
    let mut enc = ChunkEncoder::new();
    let mut out = Vec::new();
    let connect = amf(&[
        Amf0Value::String("connect".into()),
        Amf0Value::Number(1.0),
        Amf0Value::Object(vec![
            ("app".into(), Amf0Value::String("live".into())),
            (
                "tcUrl".into(),
                Amf0Value::String(format!("rtmp://{addr}/live")),
            ),
        ]),
    ]);
    enc.write(&mut out, 3, 0, 20, 0, &connect).unwrap();
    let create = amf(&[
        Amf0Value::String("createStream".into()),
        Amf0Value::Number(2.0),
        Amf0Value::Null,
    ]);
    enc.write(&mut out, 3, 0, 20, 0, &create).unwrap();
    sock.write_all(&out).unwrap();
    out.clear();
    let mut dec = ChunkDecoder::new(ChunkLimits::default());
    let mut buf = BytesMut::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let (mut received, mut acked, mut window) = (0u64, 0u64, u64::MAX);
    let mut playing = false;
    while !stop.load(Ordering::Relaxed) {
        while let Some(m) = dec.decode(&mut buf).expect("valid chunk stream") {
            match m.type_id {
                1 if m.body.len() >= 4 => {
                    let size = u32::from_be_bytes(m.body[..4].try_into().unwrap());
                    dec.set_chunk_size(size).unwrap();
                }
                5 if m.body.len() >= 4 => {
                    window = u64::from(u32::from_be_bytes(m.body[..4].try_into().unwrap()));
                }
                20 if !playing => {
                    let v = weir_core::rtmp::amf0::decode_all(&m.body).unwrap();
                    if v.first() == Some(&Amf0Value::String("_result".into()))
                        && v.get(1) == Some(&Amf0Value::Number(2.0))
                    {
                        let Some(Amf0Value::Number(sid)) = v.get(3) else {
                            panic!("createStream result: {v:?}")
                        };
                        let play = amf(&[
                            Amf0Value::String("play".into()),
                            Amf0Value::Number(3.0),
                            Amf0Value::Null,
                            Amf0Value::String("cam".into()),
                        ]);
                        enc.write(&mut out, 8, 0, 20, *sid as u32, &play).unwrap();
                        sock.write_all(&out).unwrap();
                        out.clear();
                        playing = true;
                    }
                }
                9 => {
                    videos.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
        }
        if received - acked >= window / 2 {
            acked = received;
            enc.write(&mut out, 2, 0, 3, 0, &(received as u32).to_be_bytes())
                .unwrap();
            sock.write_all(&out).unwrap();
            out.clear();
        }
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                received += n as u64;
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}
