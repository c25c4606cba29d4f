//! The replay's pure parts: request rewriting, SDP control URLs, media fingerprints and
//! their alignment, RTP payloads, HTTP parsing, HLS paths, RTMP body kinds, codec guessing.

use weir_conformance::replay::digest::{align, check_track, Alignment, Sequence};
use weir_conformance::replay::hls::hls_path;
use weir_conformance::replay::http::parse_one;
use weir_conformance::replay::rtmp_stream::{is_audio_config, is_video_config, is_video_end};
use weir_conformance::replay::rtp_only::{guess, inferred_sdp, Guess};
use weir_conformance::replay::rtsp_clients::relabel_controls;
use weir_conformance::replay::rtsp_conn::{rtp_payload, session_id};
use weir_conformance::replay::rtsp_items::{rewrite_request, rewrite_url, Rewrite};
use weir_conformance::replay::sdp::{control_url, media_index, sdp_medias};
use weir_conformance::replay::{Findings, Verdict};
use weir_conformance::runtime::Runtime;

#[test]
fn a_request_is_rewritten_only_where_a_live_replay_needs_it() {
    let raw = b"SETUP rtsp://user:pw@10.0.0.5:554/cam/trackID=1 RTSP/1.0\r\n\
        CSeq: 4\r\nSession:  ABC123;timeout=60\r\n\
        Transport: RTP/AVP;unicast;client_port=5000-5001;mode=record\r\n\
        User-Agent: Cam\r\n\r\n";
    let rw = Rewrite {
        authority: "127.0.0.1:40000".into(),
        session: Some("f00d".into()),
        client_ports: Some((6000, 6001)),
        ..Rewrite::default()
    };
    let out = String::from_utf8(rewrite_request(raw, &rw)).unwrap();
    assert_eq!(
        out,
        "SETUP rtsp://127.0.0.1:40000/cam/trackID=1 RTSP/1.0\r\n\
         CSeq: 4\r\nSession:  f00d;timeout=60\r\n\
         Transport: RTP/AVP;unicast;client_port=6000-6001;mode=record\r\n\
         User-Agent: Cam\r\n\r\n"
    );
    // A whole new URL, and a body kept byte for byte.
    let raw = b"ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n";
    let rw = Rewrite {
        authority: "a:1".into(),
        url: Some("rtsp://a:1/y".into()),
        ..Rewrite::default()
    };
    assert_eq!(
        rewrite_request(raw, &rw),
        b"ANNOUNCE rtsp://a:1/y RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 5\r\n\r\nv=0\r\n"
    );
    assert_eq!(rewrite_url("*", "a:1"), "*");
    assert_eq!(rewrite_url("rtsp://cam", "a:1"), "rtsp://a:1");
    assert_eq!(session_id(" 12ab;timeout=60"), "12ab");
}

#[test]
fn setup_urls_name_their_media_section() {
    let sdp = b"v=0\r\na=control:*\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n\
        a=control:trackID=0\r\nm=audio 0 RTP/AVP 97\r\na=rtpmap:97 MPEG4-GENERIC/48000/2\r\n\
        a=control:rtsp://10.0.0.5/cam/trackID=1\r\n";
    let medias = sdp_medias(sdp);
    assert_eq!(medias.len(), 2);
    assert_eq!(medias[0].label(), "video H264");
    assert_eq!(medias[1].codec.as_deref(), Some("MPEG4-GENERIC"));
    let base = "rtsp://10.0.0.5/cam";
    assert_eq!(
        control_url(base, medias[0].control.as_deref()),
        "rtsp://10.0.0.5/cam/trackID=0"
    );
    assert_eq!(
        media_index(&medias, base, "rtsp://10.0.0.5/cam/trackID=0"),
        Some(0)
    );
    assert_eq!(
        media_index(&medias, base, "rtsp://other:554/cam/trackID=1"),
        Some(1)
    );
    assert_eq!(
        media_index(&medias, base, "rtsp://10.0.0.5/cam/streamid=9"),
        None
    );
    // The replay's own publisher relabels controls (absolute URLs name another host).
    let relabelled = relabel_controls(sdp);
    let medias = sdp_medias(&relabelled);
    assert_eq!(medias[0].control.as_deref(), Some("trackID=0"));
    assert_eq!(medias[1].control.as_deref(), Some("trackID=1"));
    assert!(!String::from_utf8_lossy(&relabelled).contains("a=control:*"));
}

fn seq(items: &[&[u8]]) -> Sequence {
    let mut s = Sequence::default();
    for i in items {
        s.push(i);
    }
    s
}

#[test]
fn received_media_must_be_a_contiguous_run_of_what_was_sent() {
    let sent = seq(&[b"a", b"b", b"c", b"d", b"e"]);
    assert_eq!(
        align(&sent, &seq(&[b"b", b"c", b"d"])),
        Some(Alignment {
            skipped_head: 1,
            missing_tail: 1
        })
    );
    assert_eq!(align(&sent, &seq(&[b"b", b"d"])), None, "a lost packet");
    assert_eq!(align(&sent, &seq(&[b"c", b"b"])), None, "reordered");
    let mut f = Findings::default();
    check_track("t", &sent, &seq(&[b"b", b"c", b"d", b"e"]), 1, &mut f);
    assert_eq!(f.verdict(), Verdict::Pass);
    // Each packet its own unit: a missing last packet is within the last unit, two are not.
    check_track("t", &sent, &seq(&[b"a", b"b", b"c", b"d"]), 0, &mut f);
    assert_eq!(f.verdict(), Verdict::Pass);
    check_track("t", &sent, &seq(&[b"a", b"b", b"c"]), 0, &mut f);
    assert!(f.verdict().is_fail());
    let mut f = Findings::default();
    check_track("t", &sent, &seq(&[b"c", b"d", b"e"]), 1, &mut f);
    assert!(f.verdict().is_fail(), "started too late");
    // Packets of one frame share a unit: the whole last frame may be missing.
    let mut frames = Sequence::default();
    for (data, unit) in [
        (&b"x"[..], 1),
        (b"y", 2),
        (b"z1", 3),
        (b"z2", 3),
        (b"z3", 3),
    ] {
        frames.push_unit(data, unit);
    }
    let mut f = Findings::default();
    check_track("t", &frames, &seq(&[b"x", b"y"]), 0, &mut f);
    assert_eq!(f.verdict(), Verdict::Pass);
    assert_eq!(frames.digest("t"), frames.clone().digest("t"));
    assert_ne!(frames.digest("t").md5, sent.digest("t").md5);
}

#[test]
fn rtp_payloads_skip_csrcs_extensions_and_padding() {
    let mut p = vec![0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9];
    p.extend_from_slice(b"data");
    assert_eq!(rtp_payload(&p), Some(&b"data"[..]));
    // One CSRC, a one-word extension, two bytes of padding.
    let mut q = vec![0xb1, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4];
    q.extend_from_slice(&[0xbe, 0xde, 0, 1, 9, 9, 9, 9]);
    q.extend_from_slice(b"pay\0\x02");
    assert_eq!(rtp_payload(&q), Some(&b"pay"[..]));
    assert_eq!(rtp_payload(&[0x40, 0, 0]), None);
}

#[test]
fn http_messages_with_lengths_chunks_and_no_body() {
    let r =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nX";
    let (m, used) = parse_one(r, false, false).unwrap();
    assert_eq!(m.status(), Some(200));
    assert_eq!(m.body, b"abcde");
    assert_eq!(used, r.len() - 1);
    let r = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno";
    assert!(parse_one(r, false, false).is_none(), "incomplete body");
    let (m, _) = parse_one(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true, false).unwrap();
    assert!(m.body.is_empty(), "HEAD answers have no body");
    let (m, _) = parse_one(
        b"GET /a/b/index.m3u8?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
        false,
        false,
    )
    .unwrap();
    assert_eq!(m.target(), Some("/a/b/index.m3u8?x=1"));
    assert_eq!(hls_path(m.target().unwrap()), "a/b");
    assert_eq!(hls_path("/live/cam/"), "live/cam");
    assert_eq!(hls_path("/index.m3u8"), "");
}

#[test]
fn rtmp_body_kinds() {
    assert!(is_video_config(&[0x17, 0, 0, 0, 0, 1]));
    assert!(!is_video_config(&[0x17, 1, 0, 0, 0]));
    assert!(is_video_end(&[0x17, 2, 0, 0, 0]));
    assert!(
        is_video_config(&[0x90, b'h', b'v', b'c', b'1']),
        "Enhanced RTMP sequence start"
    );
    assert!(is_video_end(&[0x92, b'h', b'v', b'c', b'1']));
    assert!(is_audio_config(&[0xaf, 0, 0x11, 0x90]));
    assert!(!is_audio_config(&[0xaf, 1, 0x21]));
}

#[test]
fn bare_rtp_codecs_are_guessed_from_their_payloads() {
    // H.265: an aggregation packet with VPS, SPS and PPS, then fragments.
    let ap: Vec<u8> = [
        &[0x60u8, 0x01][..],
        &[0, 3, 0x40, 0x01, 0xaa],
        &[0, 3, 0x42, 0x01, 0xbb],
        &[0, 3, 0x44, 0x01, 0xcc],
    ]
    .concat();
    let fu = [0x62u8, 0x01, 0x93, 1, 2, 3];
    assert_eq!(guess(&[&ap, &fu]), Some(Guess::H265));
    let sdp = inferred_sdp(Guess::H265, 104, &[&ap, &fu]);
    assert!(sdp.contains("a=rtpmap:104 H265/90000"), "{sdp}");
    assert!(
        sdp.contains("sprop-vps=QAGq;sprop-sps=QgG7;sprop-pps=RAHM"),
        "{sdp}"
    );
    // H.264: SPS, PPS, FU-A.
    let (sps, pps, fua) = (
        [0x67u8, 0x42, 0x00, 0x1e],
        [0x68u8, 0xce],
        [0x7cu8, 0x85, 1],
    );
    assert_eq!(guess(&[&sps, &pps, &fua]), Some(Guess::H264));
    assert!(
        inferred_sdp(Guess::H264, 96, &[&sps, &pps]).contains("sprop-parameter-sets=Z0IAHg==,aM4=")
    );
    assert_eq!(guess(&[&[0xffu8, 0xff][..]]), None);
    assert_eq!(guess(&[]), None);
}

#[test]
fn runtimes_by_name() {
    assert_eq!("tokio".parse::<Runtime>(), Ok(Runtime::Tokio));
    assert_eq!("mio".parse::<Runtime>(), Ok(Runtime::Mio));
    assert!("both".parse::<Runtime>().is_err());
    assert_eq!(Runtime::ALL.map(Runtime::name), ["tokio", "mio"]);
}

#[test]
fn a_failed_flow_or_a_runtime_mismatch_is_a_regression() {
    use weir_conformance::replay::{compare_runtimes, CaseReport, FlowReport};
    use weir_conformance::report::{markdown, CaseResult};
    let flow = |verdict: Verdict| FlowReport {
        flow: "tcp#0".into(),
        kind: "RTSP publish (TCP)".into(),
        verdict,
        media: Vec::new(),
        notes: Vec::new(),
    };
    let report = |runtime, verdict| CaseReport {
        runtime,
        flows: vec![flow(verdict)],
        ignored: Vec::new(),
    };
    let known = Verdict::KnownDifference(vec!["servers differ".into()]);
    let (a, b) = (
        report(Runtime::Tokio, known.clone()),
        report(Runtime::Mio, known),
    );
    assert!(compare_runtimes(&a, &b).is_empty());
    let ok = CaseResult {
        case: "x.pcap".into(),
        reports: vec![a.clone(), b],
        error: None,
        mismatches: Vec::new(),
    };
    assert!(ok.problems().is_empty());
    let text = markdown(&[ok]);
    assert!(
        text.contains(
            "| x.pcap | tcp#0 | RTSP publish (TCP) | known difference | known difference |"
        ),
        "{text}"
    );
    assert!(
        text.contains("- servers differ. Seen in: x.pcap tcp#0."),
        "{text}"
    );
    let failed = report(
        Runtime::Mio,
        Verdict::Fail(vec!["PLAY: weir answered 454".into()]),
    );
    let mismatches = compare_runtimes(&a, &failed);
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    let bad = CaseResult {
        case: "x.pcap".into(),
        reports: vec![a, failed],
        error: None,
        mismatches,
    };
    let problems = bad.problems();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("[mio]: FAIL: PLAY: weir answered 454"),
        "{problems:?}"
    );
    assert!(markdown(&[bad]).contains("## Failures and runtime mismatches\n\n- x.pcap"));
}
