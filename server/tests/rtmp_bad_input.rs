//! RTMP bad input: garbage handshakes, broken chunk streams, bogus AMF, commands out of
//! order, a second publisher and vanishing clients. Each is answered by closing that
//! connection with a logged reason, while ffmpeg keeps publishing `live/cam` over RTMP and
//! two concurrent readers of it — a raw RTSP reader (RTP sequence numbers) and a raw RTMP
//! player (video timestamps) — keep receiving without a gap.

mod common;

use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use common::*;

const T: Duration = Duration::from_secs(5);

/// The path the bed publishes to.
const LIVE: &str = "live/cam";

/// A server with a path published over RTMP and two raw readers on it, to prove bad input
/// elsewhere does not disturb it. Fields drop in order: the lock goes last.
struct Bed {
    rtmp_reader: RtmpPlayer,
    rtmp_before: RtmpStats,
    reader: RawReader,
    before: ReaderStats,
    _publisher: ChildGuard,
    weir: Weir,
    _serial: MutexGuard<'static, ()>,
}

/// Starts weir (RTSP + RTMP), ffmpeg publishing `live/cam` over RTMP, and both readers.
fn bed() -> Bed {
    bed_with("", LIVE)
}

/// Like [`bed`] with extra config and another published path.
fn bed_with(extra_config: &str, path: &str) -> Bed {
    let serial = serial();
    let weir = start_weir_rtmp(&rtmp_config(extra_config));
    let publisher = ffmpeg_publish_rtmp(&Fixture::H264Aac.path(), &weir.rtmp_url(path));
    weir.wait_for_log(&format!("is publishing to path '{path}'"), secs(20));
    let reader = RawReader::start(weir.rtsp_port(), path);
    reader.wait_video_packets(25, secs(10));
    let rtmp_reader = RtmpPlayer::start(weir.rtmp_port(), path);
    rtmp_reader.wait_video_frames(25, secs(10));
    let before = reader.snapshot();
    let rtmp_before = rtmp_reader.snapshot();
    Bed {
        rtmp_reader,
        rtmp_before,
        reader,
        before,
        _publisher: publisher,
        weir,
        _serial: serial,
    }
}

impl Bed {
    /// A raw TCP connection to the RTMP port (no handshake), once weir logged it as opened.
    fn tcp(&self) -> RtmpClient {
        let c = RtmpClient::connect_tcp(self.weir.rtmp_port());
        self.weir
            .wait_for_log(&format!("[RTMP] [conn {}] opened", c.local_addr()), T);
        c
    }

    /// A handshaken raw connection, once weir logged it as opened.
    fn handshaken(&self) -> RtmpClient {
        let mut c = self.tcp();
        c.handshake().unwrap_or_else(|e| panic!("handshake: {e}"));
        c
    }

    /// Asserts the server closes `c` and logs `[RTMP] [conn ADDR] closed: <reason>` with a
    /// non-empty reason; returns the line.
    fn expect_closed(&self, c: &mut RtmpClient) -> String {
        let addr = c.local_addr();
        c.wait_closed(secs(10))
            .unwrap_or_else(|e| panic!("weir must close the connection {addr}: {e}"));
        let tag = format!("[RTMP] [conn {addr}] closed");
        let line = self.weir.wait_for_log(&tag, T);
        let reason = line
            .split_once(&format!("{tag}:"))
            .map(|(_, r)| r.trim())
            .unwrap_or("");
        assert!(!reason.is_empty(), "closed without a reason: {line:?}");
        assert!(
            line.contains("WAR") || line.contains("INF"),
            "the closed line is neither WAR nor INF: {line:?}"
        );
        line
    }

    /// Asserts both concurrent readers are still receiving, gap-free, and weir is alive.
    fn finish(mut self) {
        self.reader
            .assert_flowing_without_gap(&self.before, 25, secs(10));
        self.rtmp_reader
            .assert_flowing_without_gap(&self.rtmp_before, 25, secs(10));
        self.weir.assert_alive();
    }
}

/// Reads until the server closes `c`, failing if it sends any audio or video meanwhile.
fn assert_no_media_until_closed(c: &mut RtmpClient, what: &str) {
    let deadline = Instant::now() + secs(10);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{what}: connection still open after 10 s");
        match c.read_message(left) {
            Ok(Some(m)) => assert!(
                m.type_id != msg_type::AUDIO && m.type_id != msg_type::VIDEO,
                "{what}: the server sent media: type {} at {} ms",
                m.type_id,
                m.timestamp
            ),
            Ok(None) => return,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return,
        }
    }
}

#[test]
fn garbage_instead_of_handshake_is_closed() {
    let bed = bed();
    let mut c = bed.tcp();
    // An HTTP request where C0 (the version, 3) and C1 should be: 'G' is version 71.
    let mut bytes = b"GET /live/cam HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".to_vec();
    bytes.resize(1 + HANDSHAKE_SIZE + 100, b'x');
    let _ = c.send_raw(&bytes);
    bed.expect_closed(&mut c);
    bed.finish();
}

#[test]
fn absurd_message_length_is_closed() {
    let bed = bed();
    let mut c = bed.handshaken();
    // A command message claiming 0xFFFFFF bytes (16 MiB − 1), then that many bytes of
    // non-AMF garbage in 128-byte chunks: refused at the header (a length limit) or at the
    // latest once the body fails to decode. Writes fail once weir has closed: ignored.
    let mut bytes = chunk_header_type0(3, 0, 0xff_ffff, msg_type::COMMAND_AMF0, 0);
    let total = 0xff_ffff_usize;
    let mut sent = 0;
    while sent < total {
        if sent > 0 {
            bytes.push(0xc3);
        }
        let n = DEFAULT_CHUNK_SIZE.min(total - sent);
        bytes.extend(std::iter::repeat_n(0xffu8, n));
        sent += n;
        if bytes.len() >= 1 << 20 || sent == total {
            if c.send_raw(&bytes).is_err() {
                break;
            }
            bytes.clear();
        }
    }
    bed.expect_closed(&mut c);
    bed.finish();
}

#[test]
fn set_chunk_size_zero_is_closed() {
    let bed = bed();
    let mut c = bed.handshaken();
    c.send_set_chunk_size(0).expect("send Set Chunk Size 0");
    bed.expect_closed(&mut c);
    bed.finish();
}

#[test]
fn bogus_amf_in_connect_is_closed() {
    let bed = bed();
    // 1. An invalid type marker (0x42) as the value of `app` in the command object.
    let mut c = bed.handshaken();
    let mut body = amf0_encode_all(&[Amf0::str("connect"), Amf0::Number(1.0)]);
    body.extend([0x03, 0, 3, b'a', b'p', b'p', 0x42, 0xde, 0xad, 0, 0, 0x09]);
    c.send_message(3, msg_type::COMMAND_AMF0, 0, 0, &body)
        .expect("send connect");
    assert_no_media_until_closed(&mut c, "connect with an invalid AMF0 marker");
    bed.expect_closed(&mut c);
    // 2. A string whose length runs past the end of the message.
    let mut c = bed.handshaken();
    let mut body = vec![0x02, 0, 7];
    body.extend(b"connect");
    body.extend([0x00]); // a number marker without its 8 bytes
    body.extend([0x02, 0xff, 0xff, b'x']);
    c.send_message(3, msg_type::COMMAND_AMF0, 0, 0, &body)
        .expect("send connect");
    bed.expect_closed(&mut c);
    bed.finish();
}

#[test]
fn play_or_publish_before_connect_is_closed() {
    let bed = bed();
    let (_, name) = split_app_stream(LIVE);
    let mut c = bed.handshaken();
    c.send_command(
        8,
        1,
        &[
            Amf0::str("play"),
            Amf0::Number(0.0),
            Amf0::Null,
            Amf0::str(&name),
            Amf0::Number(-2000.0),
        ],
    )
    .expect("send play");
    assert_no_media_until_closed(&mut c, "play before connect");
    bed.expect_closed(&mut c);
    let mut c = bed.handshaken();
    c.send_command(
        8,
        1,
        &[
            Amf0::str("publish"),
            Amf0::Number(0.0),
            Amf0::Null,
            Amf0::str("intruder"),
            Amf0::str("live"),
        ],
    )
    .expect("send publish");
    bed.expect_closed(&mut c);
    bed.finish();
}

#[test]
fn publish_to_a_path_with_a_publisher_is_refused() {
    // overridePublisher: no — with the default (yes) a second publisher would take over,
    // as in MediaMTX. The readers read `live/locked`: a takeover would show as a gap or an end.
    let config = "paths:\n  live/locked:\n    source: publisher\n    overridePublisher: no\n  all_others:\n    source: publisher\n";
    let bed = bed_with(config, "live/locked");
    let (mut c, sid, status) = RtmpClient::start_publish(bed.weir.rtmp_port(), "live/locked");
    match status {
        Ok(info) => {
            assert_ne!(
                status_code(&info),
                "NetStream.Publish.Start",
                "a second publisher of live/locked was accepted: {info:?}"
            );
            let refused = info.get("_error").is_some() || status_level(&info) == "error";
            assert!(
                refused,
                "expected an error status (onStatus level=error or _error), got {info:?}"
            );
        }
        // Closing the connection without a status is also a refusal (MediaMTX does that).
        Err(why) => eprintln!("[test] second publisher got no status: {why}"),
    }
    let addr = c.local_addr();
    // Whatever it was told, the refused publisher cannot push media into the path.
    let _ = c.send_message(
        6,
        msg_type::VIDEO,
        sid,
        0,
        &[0x17, 1, 0, 0, 0, 0, 0, 0, 1, 0x65],
    );
    bed.weir.wait_for_log_where(
        &format!("a WAR or INF line about [conn {addr}] besides `opened`"),
        T,
        |l| {
            l.contains(&format!("[RTMP] [conn {addr}]"))
                && !l.contains("] opened")
                && (l.contains("WAR") || l.contains("INF"))
        },
    );
    bed.finish();
}

#[test]
fn publisher_vanishing_closes_its_readers_only() {
    let bed = bed();
    let other = ffmpeg_publish_rtmp(&Fixture::H264Aac.path(), &bed.weir.rtmp_url("live/other"));
    let line = bed
        .weir
        .wait_for_log("is publishing to path 'live/other'", secs(20));
    let publisher_addr =
        log_conn_addr(&line).unwrap_or_else(|| panic!("no [conn ADDR] in {line:?}"));
    let rtmp_reader = RtmpPlayer::start(bed.weir.rtmp_port(), "live/other");
    rtmp_reader.wait_video_frames(25, secs(10));
    let rtsp_reader = RawReader::start(bed.weir.rtsp_port(), "live/other");
    rtsp_reader.wait_video_packets(25, secs(10));
    let created = bed
        .weir
        .wait_for_log(&format!("created by {}", rtsp_reader.local_addr), T);
    let session =
        log_session_id(&created).unwrap_or_else(|| panic!("no session id in {created:?}"));
    drop(other); // SIGKILL: the kernel closes its socket mid-stream
    bed.weir
        .wait_for_log(&format!("[RTMP] [conn {publisher_addr}] closed"), secs(15));
    let why = rtmp_reader.wait_ended(secs(15));
    eprintln!("[test] RTMP reader of live/other ended: {why}");
    bed.weir.wait_for_log(
        &format!("[RTMP] [conn {}] closed", rtmp_reader.local_addr),
        T,
    );
    bed.weir
        .wait_for_log(&format!("[session {session}] destroyed"), secs(15));
    bed.finish();
}

#[test]
fn raw_publisher_vanishing_mid_message_is_closed() {
    let bed = bed();
    let (c, sid, status) = RtmpClient::start_publish(bed.weir.rtmp_port(), "live/raw");
    let info = status.unwrap_or_else(|e| panic!("publish live/raw: {e}"));
    assert_eq!(
        status_code(&info),
        "NetStream.Publish.Start",
        "publish live/raw: {info:?}"
    );
    let mut c = c;
    let addr = c.local_addr();
    // The fixtures' AVC sequence header (baseline 320x240) and AAC-LC 48 kHz mono config.
    let avcc: Vec<u8> = [
        &[0x17u8, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0, 0x18][..],
        &[
            0x67, 0x42, 0xc0, 0x0d, 0xd9, 0x01, 0x41, 0xfb, 0x01, 0x10, 0, 0, 0x03, 0, 0x10, 0, 0,
            0x03, 0x03, 0x20, 0xf1, 0x42, 0xa4, 0x80,
        ],
        &[1, 0, 5, 0x68, 0xcb, 0x83, 0xcb, 0x20],
    ]
    .concat();
    c.send_message(6, msg_type::VIDEO, sid, 0, &avcc)
        .expect("send AVC sequence header");
    c.send_message(4, msg_type::AUDIO, sid, 0, &[0xaf, 0, 0x11, 0x88])
        .expect("send AAC sequence header");
    // A key frame announced as 10000 bytes, of which only 100 are sent: the publisher
    // vanishes in the middle of its first chunk (chunk size 128).
    let mut partial = chunk_header_type0(6, 40, 10_000, msg_type::VIDEO, sid);
    partial.extend([0x17, 1, 0, 0, 0, 0, 0, 0x27, 0x0b, 0x65]);
    partial.resize(partial.len() + 90, 0x88);
    c.send_raw(&partial).expect("send partial message");
    std::thread::sleep(Duration::from_millis(200));
    c.vanish();
    bed.weir
        .wait_for_log(&format!("[RTMP] [conn {addr}] closed"), secs(15));
    bed.finish();
}
