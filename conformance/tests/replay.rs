//! Every capture in `captures/` replayed against weir on both runtimes: a failed flow or a
//! difference between the runtimes fails the run. Writes `REPORT.md` (case × runtime ×
//! verdict, known differences explained).

use std::path::Path;
use std::sync::{Arc, Mutex};
use weir_conformance::replay::{Options, Verdict};
use weir_conformance::report::{capture_files, markdown, run_case, CaseResult};

/// Cases replayed at once (each runs its runtimes one after the other).
const PARALLEL: usize = 3;

#[test]
fn every_capture_replays_identically_on_both_runtimes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let files = capture_files(&dir).expect("list captures/");
    assert!(
        files.len() >= 15,
        "captures/ holds {} captures",
        files.len()
    );
    let queue = Arc::new(Mutex::new(files.clone()));
    let results = Arc::new(Mutex::new(Vec::<CaseResult>::new()));
    let workers: Vec<_> = (0..PARALLEL)
        .map(|_| {
            let (queue, results) = (queue.clone(), results.clone());
            std::thread::spawn(move || loop {
                let Some(path) = queue.lock().unwrap().pop() else {
                    return;
                };
                let result = run_case(&path, &Options::default());
                results.lock().unwrap().push(result);
            })
        })
        .collect();
    for w in workers {
        w.join().expect("a replay thread panicked");
    }
    let mut results = Arc::try_unwrap(results).unwrap().into_inner().unwrap();
    results.sort_by(|a, b| a.case.cmp(&b.case));
    let report = markdown(&results);
    std::fs::write(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("REPORT.md"),
        &report,
    )
    .expect("write REPORT.md");
    let problems: Vec<String> = results.iter().flat_map(CaseResult::problems).collect();
    assert!(
        problems.is_empty(),
        "regressions:\n{}\n\n{report}",
        problems.join("\n")
    );
    // Every case was replayed on both runtimes, and the team's own captures all replay.
    for r in &results {
        assert_eq!(r.reports.len(), 2, "{}", r.case);
        if r.case.starts_with("ffmpeg_") || r.case.starts_with("gstreamer_") {
            for f in &r.reports[0].flows {
                assert!(
                    !matches!(f.verdict, Verdict::NotReplayable(_)),
                    "{} {}: {}",
                    r.case,
                    f.flow,
                    f.verdict
                );
            }
        }
    }
}

/// The command line on a capture it has never seen: a corpus capture rewritten as pcapng
/// (another file format, another name) replays on mio and prints its verdict.
#[test]
fn the_replay_command_checks_an_unseen_capture() {
    use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
    use pcap_file::pcapng::blocks::interface_description::{
        InterfaceDescriptionBlock, InterfaceDescriptionOption,
    };
    use pcap_file::pcapng::{Block, PcapNgWriter};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let bytes = std::fs::read(dir.join("obs27_publish_to_twinx_server.pcap")).unwrap();
    let raw = weir_conformance::capture::read_frames(&bytes).unwrap();
    let mut writer = PcapNgWriter::new(Vec::new()).unwrap();
    let idb = InterfaceDescriptionBlock {
        linktype: pcap_file::DataLink::ETHERNET,
        snaplen: 0,
        options: vec![InterfaceDescriptionOption::IfTsResol(9)],
    };
    writer
        .write_block(&Block::InterfaceDescription(idb))
        .unwrap();
    for frame in &raw.frames {
        let epb = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: frame.time,
            original_len: frame.original_len,
            data: std::borrow::Cow::Borrowed(frame.data),
            options: vec![],
        };
        writer.write_block(&Block::EnhancedPacket(epb)).unwrap();
    }
    let file = std::env::temp_dir().join(format!("weir-unseen-{}.pcapng", std::process::id()));
    std::fs::write(&file, writer.into_inner()).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weir-conformance"))
        .args(["replay", "--runtime", "mio"])
        .arg(&file)
        .output()
        .expect("run weir-conformance");
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("[mio] tcp#0 RTMP publish: known difference"),
        "{stdout}"
    );
    assert!(stdout.contains("media video: 1 packets"), "{stdout}");
    assert!(!stdout.contains("[tokio]"), "{stdout}");
}

/// An HLS fetch whose publisher is not in the capture is reported as not replayable (not as
/// a pass): the HLS capture without its RTSP publisher's packets.
#[test]
fn an_hls_fetch_without_its_publisher_is_not_replayable() {
    use weir_conformance::replay::replay;
    use weir_conformance::runtime::Runtime;
    use weir_conformance::Capture;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/ffmpeg_hls_read_h264_aac.pcap");
    let full = Capture::open(path).unwrap();
    let rtsp_port = full.tcp_flows()[0].connection.server.port();
    let mut packets = full.packets().clone();
    packets
        .packets
        .retain(|p| p.src.port() != rtsp_port && p.dst.port() != rtsp_port);
    let fetch_only = Capture::from_packets(packets);
    let report = replay(&fetch_only, Runtime::Mio, &Options::default());
    assert_eq!(report.flows.len(), 8, "{report:?}");
    for f in &report.flows {
        assert_eq!(f.kind, "HLS fetch");
        match &f.verdict {
            Verdict::NotReplayable(why) => {
                assert!(why.starts_with("no media source in capture"), "{why}")
            }
            other => panic!("{}: {other}", f.flow),
        }
    }
}

/// When weir's `createStream` gives another message stream id than the original server did,
/// the rest of the client's stream is re-encoded with weir's id: OBS's capture, rewritten as
/// if its server had given stream id 7.
#[test]
fn rtmp_stream_ids_are_mapped_onto_weirs() {
    use weir_conformance::replay::rtmp_publish::{replay_publisher, CapturedRtmp};
    use weir_conformance::replay::rtmp_stream::{command, decode, types, CHUNKS_START};
    use weir_conformance::runtime::{Runtime, Weir};
    use weir_conformance::Capture;
    use weir_core::rtmp::chunk::ChunkEncoder;
    use weir_core::rtmp::Amf0Value;
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/obs27_publish_to_twinx_server.pcap");
    let capture = Capture::open(path).unwrap();
    let flow = &capture.tcp_flows()[0];
    let mut cap = CapturedRtmp::read(flow);
    assert_eq!(cap.original_stream_id(), Some(1));
    // The client's messages again, those on stream 1 moved to stream 7.
    let mut client = cap.client[..CHUNKS_START].to_vec();
    let mut enc = ChunkEncoder::new();
    for m in &cap.client_msgs.messages {
        let raw = &m.raw;
        let sid = if raw.stream_id == 1 { 7 } else { raw.stream_id };
        enc.write(
            &mut client,
            raw.csid,
            raw.timestamp,
            raw.type_id,
            sid,
            &raw.body,
        )
        .unwrap();
        if raw.type_id == types::SET_CHUNK_SIZE {
            let size = u32::from_be_bytes(raw.body[..4].try_into().unwrap());
            enc.set_chunk_size(size).unwrap();
        }
    }
    cap.client_msgs = decode(&client, CHUNKS_START, &flow.connection.client_to_server);
    cap.client = client;
    // The original server's createStream answer names stream 7.
    for m in &mut cap.server_msgs.messages {
        if command(&m.raw)
            .is_some_and(|c| c.name == "_result" && c.args.get(1) == Some(&Amf0Value::Number(1.0)))
        {
            let c = command(&m.raw).unwrap();
            let mut body = Vec::new();
            for v in [
                Amf0Value::String(c.name.clone()),
                Amf0Value::Number(c.transaction),
                Amf0Value::Null,
                Amf0Value::Number(7.0),
            ] {
                v.write(&mut body).unwrap();
            }
            m.raw.body = body.into();
        }
    }
    assert_eq!(cap.original_stream_id(), Some(7));
    let weir = Weir::start(Runtime::Mio).unwrap();
    let report = replay_publisher(
        &cap,
        weir.addresses().rtmp,
        &Options::default(),
        "tcp#0".into(),
    );
    weir.stop().unwrap();
    assert!(!report.verdict.is_fail(), "{}", report.verdict);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("weir gave stream id 1, the original server 7")),
        "{:?}",
        report.notes
    );
    assert_eq!(report.media.len(), 2, "{report:?}");
    assert_eq!(
        report.media[0].packets, 1,
        "the video message reached the player"
    );
}
