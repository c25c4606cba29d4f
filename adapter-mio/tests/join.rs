//! A reader that starts playing gets the stream from the ring's last key frame at once, not
//! when the publisher's next packet arrives: the publisher here sends a few pictures and then
//! nothing, and RTSP and RTMP readers joining afterwards must still receive them.

mod common;

use common::{rtmp_reader, rtsp_reader, settings, stream, wait_until, Rtsp};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn readers_joining_an_idle_publisher_get_the_last_key_frame_at_once() {
    let (sdp, frames) = stream();
    let server = weir_mio::Server::bind(settings()).expect("bind");
    let bound = server.bound();
    let (rtsp, rtmp) = (bound.rtsp.unwrap(), bound.rtmp.unwrap());
    let handle = server.shutdown_handle();
    let loop_thread = std::thread::spawn(move || server.run());

    // The publisher: one group of pictures (an IDR and three more), then silence.
    let mut publisher = Rtsp::connect(rtsp);
    let url = format!("rtsp://{rtsp}/live/cam");
    publisher.request("ANNOUNCE", &url, "Content-Type: application/sdp\r\n", &sdp);
    publisher.request(
        "SETUP",
        &format!("{url}/trackID=0"),
        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n",
        "",
    );
    publisher.request("RECORD", &url, "Range: npt=0.000-\r\n", "");
    let gop: Vec<u8> = frames.iter().take(40).flatten().copied().collect();
    publisher.sock.write_all(&gop).expect("publish");
    std::thread::sleep(Duration::from_millis(300));

    let stop = Arc::new(AtomicBool::new(false));
    let (rtsp_frames, rtmp_videos) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let readers = [
        {
            let (f, stop) = (rtsp_frames.clone(), stop.clone());
            let never = Arc::new(AtomicBool::new(false));
            std::thread::spawn(move || rtsp_reader(rtsp, f, never, stop))
        },
        {
            let (v, stop) = (rtmp_videos.clone(), stop.clone());
            std::thread::spawn(move || rtmp_reader(rtmp, v, stop))
        },
    ];
    // Nothing more is published: what the readers get comes from the ring.
    wait_until("both readers to receive the last group of pictures", || {
        rtsp_frames.load(Ordering::Relaxed) > 0 && rtmp_videos.load(Ordering::Relaxed) > 0
    });
    assert!(rtmp_videos.load(Ordering::Relaxed) >= 1);
    stop.store(true, Ordering::Relaxed);
    handle.shutdown();
    drop(publisher);
    for r in readers {
        let _ = r.join();
    }
    loop_thread.join().expect("loop").expect("run");
}
