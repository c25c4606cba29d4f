// TEMPORARY: validates the RTMP harness against a local nginx-rtmp on 127.0.0.1:19351. Deleted after.
mod common;
use common::*;
use std::time::Duration;

const PORT: u16 = 19351;
fn url(p: &str) -> String { format!("rtmp://127.0.0.1:{PORT}/{p}") }

#[test]
fn scratch_raw_player_capture() {
    let source = source_framemd5(&Fixture::H264Aac.path());
    let raw = RtmpPlayer::start_capturing(PORT, "live/cam", 75);
    raw.wait_video_frames(80, secs(20));
    let s = raw.snapshot();
    let (annexb, frames) = raw.annexb();
    eprintln!("stats: frames={} headers={} audio={} gaps={:?} errors={:?} statuses={:?} first={:?}",
        s.video_frames, s.video_headers, s.audio_tags, s.video_gaps, s.errors, s.status_codes,
        s.first_video.iter().take(3).map(|t| (t.key, t.packet, t.signalling.clone(), t.cts, t.data.len())).collect::<Vec<_>>());
    eprintln!("first audio: {:02x?}", s.first_audio.iter().take(2).map(|a| a[..a.len().min(6)].to_vec()).collect::<Vec<_>>());
    let dir = TempDir::new("scratch");
    let f = dir.file("c.h264");
    std::fs::write(&f, &annexb).unwrap();
    let got = file_framemd5(&f);
    eprintln!("captured {frames} frames, decoded {}", got.len());
    let start = assert_contiguous_run(&got, &source, 50);
    eprintln!("start {start}");
}

#[test]
fn scratch_ffmpeg_gst_vlc_ffprobe() {
    let source = source_framemd5(&Fixture::H264Aac.path());
    let got = ffmpeg_read_rtmp_framemd5(&url("live/cam"), 75, secs(40));
    eprintln!("ffmpeg start {}", assert_contiguous_run(&got, &source, 50));
    let got = gst_read_rtmp_framemd5(&url("live/cam"), 75, true, secs(40));
    eprintln!("gst start {} len {}", assert_contiguous_run(&got, &source, 50), got.len());
    let cap = vlc_record(&url("live/cam"), 6, secs(40));
    eprintln!("vlc start {} len {}", assert_contiguous_run(&cap.frames, &source, 50), cap.frames.len());
    assert_audio_packets(&cap.packets, 40);
    let packets = ffprobe_packets_input(&url("live/cam"), Some(3));
    assert_audio_packets(&packets, 40);
}

#[test]
fn scratch_publish_conflict_and_commands() {
    let (c, sid, status) = RtmpClient::start_publish(PORT, "live/cam");
    eprintln!("second publisher of live/cam: sid {sid} {status:?}");
    drop(c);
    let (mut c, sid, status) = RtmpClient::start_publish(PORT, "live/raw");
    eprintln!("raw publisher: sid {sid} {status:?}");
    c.send_message(6, msg_type::VIDEO, sid, 0, &[0x17, 0, 0, 0, 0, 1, 0x42, 0xc0, 0x0d, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0xc0, 0x0d, 1, 0, 3, 0x68, 0xcb, 0x83]).unwrap();
    c.vanish();
    let mut c = RtmpClient::open(PORT);
    c.send_command(8, 1, &[Amf0::str("play"), Amf0::Number(0.0), Amf0::Null, Amf0::str("cam"), Amf0::Number(-2000.0)]).unwrap();
    let r = c.read_message(Duration::from_secs(2));
    eprintln!("play before connect: {r:?}");
    let mut c = RtmpClient::open(PORT);
    c.send_set_chunk_size(0).unwrap();
    eprintln!("chunk size 0: {:?}", c.wait_closed(secs(3)));
    let mut c = RtmpClient::connect_tcp(PORT);
    let _ = c.send_raw(&[b'G'; 1600]);
    eprintln!("garbage: {:?}", c.wait_closed(secs(3)));
}
