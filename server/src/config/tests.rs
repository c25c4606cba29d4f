//! Loader tests: MediaMTX's own file, overrides from the environment, deprecated keys, path
//! entries, and bad configurations rejected with the key and its line.

use super::*;
use weir_core::media::{PathConf, PathManager};

/// MediaMTX's default file as shipped (a test fixture, kept apart from the embedded copy).
const REFERENCE: &str = include_str!("../../tests/fixtures/mediamtx.yml");

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn path<'a>(c: &'a Config, name: &str) -> &'a PathConf {
    c.settings
        .paths
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no path {name}: {:?}", c.settings.paths))
}

fn rtsp(c: &Config) -> &RtspSettings {
    c.settings.rtsp.as_ref().expect("rtsp enabled")
}

/// Asserts that loading fails with a message containing every one of `parts`.
fn rejected(text: &str, vars: &[(&str, &str)], parts: &[&str]) {
    let e = load_with_env(Some(text), &env(vars)).unwrap_err();
    for p in parts {
        assert!(e.0.contains(p), "'{p}' missing from: {e}");
    }
}

#[test]
fn embedded_default_loads_as_mediamtx_ships() {
    let c = load(None).unwrap();
    assert_eq!(c.log_level, LogLevel::Info);
    assert_eq!(rtsp(&c).rtsp_address.port(), 8554);
    assert_eq!(rtsp(&c).rtp_address.port(), 8000);
    assert_eq!(rtsp(&c).rtcp_address.port(), 8001);
    assert_eq!(rtsp(&c).multicast_rtp_port, 8002);
    assert_eq!(c.settings.write_queue_size, 512);
    assert_eq!(c.settings.paths, vec![PathConf::all_others()]);
    assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn reference_file_loads_unchanged_with_no_errors() {
    let c = load(Some(REFERENCE)).unwrap();
    let d = load(None).unwrap();
    assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.log_level, d.log_level);
    assert_eq!(c.settings.paths, d.settings.paths);
    assert_eq!(c.settings.write_queue_size, d.settings.write_queue_size);
    assert_eq!(c.settings.write_timeout, d.settings.write_timeout);
    assert_eq!(rtsp(&c).rtsp_address, rtsp(&d).rtsp_address);
    assert_eq!(rtsp(&c).core.transports, rtsp(&d).core.transports);
    assert_eq!(c.settings.rtmp.is_some(), d.settings.rtmp.is_some());
    assert_eq!(
        c.settings.hls.as_ref().map(|h| h.address),
        d.settings.hls.as_ref().map(|h| h.address)
    );
}

#[test]
fn small_file_overrides_defaults() {
    let c = load(Some(
        "rtspAddress: 127.0.0.1:0\nrtspTransports: [tcp]\npaths:\n  cam:\n    overridePublisher: no\n",
    ))
    .unwrap();
    assert_eq!(rtsp(&c).rtsp_address, "127.0.0.1:0".parse().unwrap());
    assert!(!rtsp(&c).core.transports.udp);
    assert_eq!(c.settings.paths[0].name, "cam");
    assert!(!c.settings.paths[0].override_publisher);
}

#[test]
fn unimplemented_keys_are_reported_by_name() {
    let c = load(Some(
        "srt: false\napi: yes\nrtmp: true\nhlsVariant: mpegts\n",
    ))
    .unwrap();
    assert_eq!(
        c.not_implemented,
        vec!["api".to_string(), "srt".to_string()]
    );
}

#[test]
fn hls_defaults_and_sizes() {
    let c = load(None).unwrap();
    let h = c.settings.hls.unwrap();
    assert_eq!(h.address.port(), 8888);
    assert_eq!(h.muxer, weir_core::hls::HlsConfig::default());
    assert_eq!(h.allow_origins, vec!["*".to_string()]);
    assert_eq!(parse_size("50M"), Some(50 << 20));
    assert_eq!(parse_size("1024"), Some(1024));
    assert_eq!(parse_size("x"), None);
    rejected("hlsVariant: dash\n", &[], &["'hlsVariant' (line 1)"]);
}

// ---- environment overrides ----

#[test]
fn env_sets_a_global_scalar_over_the_file() {
    let vars = [("MTX_RTSPADDRESS", ":8555")];
    let c = load_with_env(Some("rtspAddress: :9000\n"), &env(&vars)).unwrap();
    assert_eq!(rtsp(&c).rtsp_address.port(), 8555);
    let c = load_with_env(None, &env(&[("MTX_WRITEQUEUESIZE", "1024")])).unwrap();
    assert_eq!(c.settings.write_queue_size, 1024);
}

#[test]
fn env_sets_booleans_in_any_spelling() {
    let c = load_with_env(None, &env(&[("MTX_RTMP", "no"), ("MTX_HLS", "False")])).unwrap();
    assert!(c.settings.rtmp.is_none());
    assert!(c.settings.hls.is_none());
    let c = load_with_env(Some("rtmp: no\n"), &env(&[("MTX_RTMP", "YES")])).unwrap();
    assert!(c.settings.rtmp.is_some());
}

#[test]
fn env_sets_a_duration() {
    let c = load_with_env(None, &env(&[("MTX_READTIMEOUT", "1m30s")])).unwrap();
    assert_eq!(rtsp(&c).core.read_timeout, Duration::from_secs(90));
}

#[test]
fn env_sets_lists_as_comma_separated_values() {
    let vars = [
        ("MTX_RTSPTRANSPORTS", "tcp,udp"),
        ("MTX_HLSALLOWORIGINS", "a.example,b.example"),
    ];
    let c = load_with_env(None, &env(&vars)).unwrap();
    let t = rtsp(&c).core.transports;
    assert!(t.tcp && t.udp && !t.multicast);
    let origins = &c.settings.hls.as_ref().unwrap().allow_origins;
    assert_eq!(
        origins,
        &vec!["a.example".to_string(), "b.example".to_string()]
    );
}

#[test]
fn env_creates_a_path_that_the_file_lacks() {
    let vars = [("MTX_PATHS_TEST_SOURCE", "rtsp://cam.example/stream")];
    let c = load_with_env(None, &env(&vars)).unwrap();
    assert_eq!(path(&c, "test").source, "rtsp://cam.example/stream");
    assert_eq!(path(&c, "all_others"), &PathConf::all_others());
    // An rtsp:// source on a path with an exact name is pulled: nothing to report.
    assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
}

#[test]
fn env_changes_a_path_of_the_file_and_keeps_its_other_keys() {
    let text = "paths:\n  cam:\n    overridePublisher: no\n";
    let c = load_with_env(Some(text), &env(&[("MTX_PATHS_CAM_MAXREADERS", "3")])).unwrap();
    let cam = path(&c, "cam");
    assert_eq!(cam.max_readers, 3);
    assert!(!cam.override_publisher);
    assert_eq!(c.settings.paths.len(), 1);
}

#[test]
fn env_sets_path_defaults() {
    let text = "paths:\n  cam:\n  door:\n    overridePublisher: yes\n";
    let vars = [("MTX_PATHDEFAULTS_OVERRIDEPUBLISHER", "no")];
    let c = load_with_env(Some(text), &env(&vars)).unwrap();
    assert!(!path(&c, "cam").override_publisher);
    assert!(
        path(&c, "door").override_publisher,
        "the path's own key wins"
    );
}

#[test]
fn env_ignores_variables_that_name_no_key() {
    let vars = [
        ("MTX_NOSUCHKEY", "1"),
        ("MTX_PATHS_lower_SOURCE", "rtsp://x"),
        ("MTX_PATHS_CAM_NOSUCHKEY", "1"),
        ("MTX_PATH", "hook variable"),
        ("RTSP_PORT", "8554"),
    ];
    let c = load_with_env(None, &env(&vars)).unwrap();
    assert_eq!(c.settings.paths, vec![PathConf::all_others()]);
    assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
}

#[test]
fn env_bad_values_are_rejected_naming_the_variable() {
    let cases: &[(&str, &str, &str)] = &[
        ("MTX_RTSP", "maybe", "'maybe' is not a boolean"),
        ("MTX_READTIMEOUT", "abc", "invalid duration"),
        ("MTX_WRITEQUEUESIZE", "many", "'many' is not a number"),
        ("MTX_RTSPADDRESS", "nowhere", "not a host:port address"),
        (
            "MTX_RTSPTRANSPORTS",
            "tcp,carrier-pigeon",
            "invalid transport",
        ),
        (
            "MTX_PATHS_CAM_OVERRIDEPUBLISHER",
            "perhaps",
            "is not a boolean",
        ),
        ("MTX_PATHDEFAULTS_MAXREADERS", "lots", "is not a number"),
    ];
    for (var, value, what) in cases {
        let e = load_with_env(None, &env(&[(var, value)])).unwrap_err();
        let named = format!("(environment variable {var})");
        assert!(e.0.contains(&named) && e.0.contains(what), "{var}: {e}");
    }
}

#[test]
fn env_can_set_a_deprecated_key() {
    let c = load_with_env(None, &env(&[("MTX_RTSPDISABLE", "yes")])).unwrap();
    assert!(c.settings.rtsp.is_none());
    assert_eq!(
        c.warnings,
        vec!["parameter 'rtspDisable' is deprecated and has been replaced with 'rtsp'".to_string()]
    );
}

// ---- deprecated keys (each key's mapping is tested in `deprecated`) ----

#[test]
fn deprecated_keys_take_effect_through_their_successors() {
    let text = "rtspDisable: no\nrtmpDisable: yes\nhlsDisable: yes\nprotocols: [tcp]\n\
                readBufferCount: 1024\npaths:\n  cam:\n    disablePublisherOverride: yes\n";
    let c = load(Some(text)).unwrap();
    assert!(c.settings.rtsp.is_some());
    assert!(c.settings.rtmp.is_none());
    assert!(c.settings.hls.is_none());
    let t = rtsp(&c).core.transports;
    assert!(t.tcp && !t.udp && !t.multicast);
    assert_eq!(c.settings.write_queue_size, 1024);
    assert!(!path(&c, "cam").override_publisher);
    for (old, new) in [
        ("rtspDisable", "rtsp"),
        ("rtmpDisable", "rtmp"),
        ("hlsDisable", "hls"),
        ("protocols", "rtspTransports"),
        ("readBufferCount", "writeQueueSize"),
        ("paths.cam.disablePublisherOverride", "overridePublisher"),
    ] {
        let w = format!("parameter '{old}' is deprecated and has been replaced with '{new}'");
        assert!(c.warnings.contains(&w), "{w} not in {:?}", c.warnings);
    }
}

#[test]
fn deprecated_key_errors_name_the_deprecated_key_and_its_line() {
    rejected(
        "logLevel: info\nrtspDisable: maybe\n",
        &[],
        &["'rtspDisable' (line 2)", "boolean"],
    );
    rejected(
        "protocols: [tcp, smoke-signals]\n",
        &[],
        &[
            "'rtspTransports' (line 1, as deprecated 'protocols')",
            "invalid transport",
        ],
    );
}

#[test]
fn removed_names_are_unknown_keys_as_in_mediamtx() {
    rejected(
        "paths:\n  cam:\n    runOnPublish: x\n",
        &[],
        &["'paths.cam.runOnPublish' (line 3)"],
    );
}

// ---- path entries ----

#[test]
fn regex_path_groups_reach_the_source() {
    let text = "paths:\n  '~^cam(\\d+)/(\\w+)$':\n    source: rtsp://origin:8554/camera$G1/$G2\n\
                \x20   sourceOnDemand: yes\n  all_others:\n";
    let c = load(Some(text)).unwrap();
    let m: PathManager<()> = PathManager::new(c.settings.paths.clone());
    let (pm, conf) = m.find_conf("cam12/main").unwrap();
    assert_eq!(pm.groups, vec!["12".to_string(), "main".to_string()]);
    assert_eq!(
        pm.expand(&conf.source, "cam12/main"),
        "rtsp://origin:8554/camera12/main"
    );
    assert_eq!(m.find_conf("other").unwrap().1.name, "all_others");
}

#[test]
fn exact_names_win_over_regexes_and_regexes_over_all_others() {
    let text = "paths:\n  all_others:\n  '~^live/.*$':\n    maxReaders: 2\n  live/main:\n    maxReaders: 5\n";
    let c = load(Some(text)).unwrap();
    let m: PathManager<()> = PathManager::new(c.settings.paths);
    assert_eq!(m.find_conf("live/main").unwrap().1.max_readers, 5);
    assert_eq!(m.find_conf("live/other").unwrap().1.max_readers, 2);
    assert_eq!(m.find_conf("vod/x").unwrap().1.name, "all_others");
}

// ---- bad configurations: each names the key and its line ----

#[test]
fn unknown_keys_are_rejected_with_their_line() {
    rejected(
        "logLevel: info\nrtspAdress: :8554\n",
        &[],
        &["key 'rtspAdress' (line 2)", "not a MediaMTX"],
    );
    rejected(
        "pathDefaults:\n  sorce: x\n",
        &[],
        &["key 'pathDefaults.sorce' (line 2)"],
    );
    rejected(
        "paths:\n  cam:\n    source: publisher\n    maxReader: 3\n",
        &[],
        &[
            "key 'paths.cam.maxReader' (line 4)",
            "not a MediaMTX path configuration key",
        ],
    );
}

#[test]
fn wrong_types_are_rejected_with_their_line() {
    rejected(
        "writeQueueSize: many\n",
        &[],
        &["key 'writeQueueSize' (line 1)", "expected an integer"],
    );
    rejected(
        "rtsp: true\nreadTimeout: 10\n",
        &[],
        &["key 'readTimeout' (line 2)"],
    );
    rejected(
        "paths:\n  cam:\n    overridePublisher: sometimes\n",
        &[],
        &[
            "key 'paths.cam.overridePublisher' (line 3)",
            "expected a boolean",
        ],
    );
    rejected(
        "pathDefaults:\n  maxReaders: -1\npaths:\n  cam:\n",
        &[],
        &["key 'pathDefaults.maxReaders' (line 2)", "expected a count"],
    );
    rejected(
        "paths:\n  cam:\n    source: [a]\n",
        &[],
        &["key 'paths.cam.source' (line 3)"],
    );
}

#[test]
fn invalid_regex_is_rejected_with_its_line() {
    rejected(
        "logLevel: info\npaths:\n  '~^(cam$':\n    source: publisher\n",
        &[],
        &[
            "key 'paths.~^(cam$' (line 3)",
            "invalid regular expression '^(cam$'",
        ],
    );
}

#[test]
fn invalid_path_names_are_rejected_with_their_line() {
    rejected(
        "paths:\n  ok:\n  'a b':\n",
        &[],
        &[
            "key 'paths.a b' (line 3)",
            "can contain only alphanumeric characters",
        ],
    );
    rejected(
        "paths:\n  /cam:\n",
        &[],
        &["key 'paths./cam' (line 2)", "can't begin with a slash"],
    );
    rejected(
        "paths:\n  cam/:\n",
        &[],
        &["key 'paths.cam/' (line 2)", "can't end with a slash"],
    );
    rejected("paths:\n  '':\n", &[], &["(line 2)", "cannot be empty"]);
    rejected(
        "paths:\n  all:\n  all_others:\n",
        &[],
        &[
            "key 'paths.all_others' (line 3)",
            "'all' (line 2) and 'all_others' are aliases",
        ],
    );
}

#[test]
fn a_path_created_by_the_environment_is_located_by_its_variable() {
    rejected(
        "paths:\n  all_others:\n",
        &[("MTX_PATHS_ALL_SOURCE", "publisher")],
        &[
            "key 'paths.all_others' (line 2)",
            "'all' (environment variable MTX_PATHS_ALL_SOURCE) and 'all_others' are aliases",
        ],
    );
}

#[test]
fn pull_sources_take_effect() {
    let c = load(Some(
        "paths:\n  cam:\n    source: rtsp://10.0.0.1:554/cam\n  '~^(.+)$':\n    source: rtsp://origin:8554/$G1\n    sourceOnDemand: yes\n    sourceOnDemandStartTimeout: 5s\n    sourceOnDemandCloseAfter: 1m\n",
    ))
    .unwrap();
    assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
    let cam = path(&c, "cam");
    assert_eq!(cam.source, "rtsp://10.0.0.1:554/cam");
    assert!(!cam.source_on_demand);
    let any = path(&c, "~^(.+)$");
    assert!(any.source_on_demand);
    assert_eq!(any.source_on_demand_start_timeout, Duration::from_secs(5));
    assert_eq!(any.source_on_demand_close_after, Duration::from_secs(60));
}

#[test]
fn tls_sources_and_fingerprints_take_effect() {
    let fp = "5AB48AC8:".to_string() + &"0".repeat(56);
    let c = load(Some(&format!(
        "paths:\n  a:\n    source: rtsps://cam/x\n    sourceFingerprint: {fp}\n  b:\n    source: rtmps://origin/live/b\n",
    )))
    .unwrap();
    assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
    assert_eq!(path(&c, "a").source, "rtsps://cam/x");
    assert_eq!(path(&c, "a").source_fingerprint, fp);
    assert_eq!(path(&c, "b").source, "rtmps://origin/live/b");
    rejected(
        "paths:\n  a:\n    source: rtsps://cam/x\n    sourceFingerprint: 33949e05fffb5ff3e8aa16f8213a696\n",
        &[],
        &[
            "key 'paths.a.sourceFingerprint' (line 4)",
            "is not a SHA-256 fingerprint",
        ],
    );
}

#[test]
fn rtsp_transport_and_any_port_take_effect() {
    use weir_core::rtsp::client::RtspTransport;
    let c = load(Some(
        "pathDefaults:\n  rtspTransport: tcp\npaths:\n  a:\n    source: rtsp://cam/a\n    rtspTransport: multicast\n  b:\n    source: rtsp://cam/b\n    rtspTransport: udp\n    rtspAnyPort: yes\n  c:\n    source: rtsp://cam/c\n",
    ))
    .unwrap();
    assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
    assert_eq!(path(&c, "a").rtsp_transport, RtspTransport::Multicast);
    assert!(!path(&c, "a").rtsp_any_port);
    assert_eq!(path(&c, "b").rtsp_transport, RtspTransport::Udp);
    assert!(path(&c, "b").rtsp_any_port);
    assert_eq!(path(&c, "c").rtsp_transport, RtspTransport::Tcp);
    // MediaMTX's default file: automatic.
    let d = load(None).unwrap();
    assert_eq!(d.settings.paths[0].rtsp_transport, RtspTransport::Automatic);
    rejected(
        "paths:\n  a:\n    source: rtsp://cam/a\n    rtspTransport: sctp\n",
        &[],
        &[
            "key 'paths.a.rtspTransport' (line 4)",
            "invalid transport 'sctp'",
        ],
    );
    rejected(
        "paths:\n  a:\n    rtspAnyPort: 3\n",
        &[],
        &["key 'paths.a.rtspAnyPort' (line 3)"],
    );
}

#[test]
fn static_sources_on_regex_paths_and_bad_urls_are_rejected() {
    rejected(
        "paths:\n  '~^(.+)$':\n    source: rtsp://origin/$G1\n",
        &[],
        &[
            "key 'paths.~^(.+)$.source' (line 3)",
            "must have sourceOnDemand set to true",
        ],
    );
    rejected(
        "paths:\n  cam:\n    source: rtsp://:99999/x\n",
        &[],
        &["key 'paths.cam.source' (line 3)", "not a valid rtsp:// URL"],
    );
    rejected(
        "paths:\n  cam:\n    sourceOnDemandCloseAfter: soon\n",
        &[],
        &["key 'paths.cam.sourceOnDemandCloseAfter' (line 3)"],
    );
}

#[test]
fn hooks_take_effect() {
    let c = load(Some(
        "runOnConnect: 'env > /tmp/c'\npaths:\n  cam:\n    runOnAvailable: 'echo ready'\n    runOnAvailableRestart: yes\n    runOnRead: 'echo read'\n    runOnDemand: 'ffmpeg x'\n    runOnDemandCloseAfter: 2s\n",
    ))
    .unwrap();
    assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
    assert_eq!(c.settings.run_on_connect, "env > /tmp/c");
    let h = &path(&c, "cam").hooks;
    assert_eq!(h.run_on_ready, "echo ready");
    assert!(h.run_on_ready_restart);
    assert_eq!(h.run_on_read, "echo read");
    assert_eq!(h.run_on_demand, "ffmpeg x");
    assert_eq!(h.run_on_demand_close_after, Duration::from_secs(2));
    assert_eq!(h.run_on_demand_start_timeout, Duration::from_secs(10));
}

#[test]
fn redirect_sources_take_effect_and_need_a_target() {
    let c = load(Some(
        "paths:\n  old:\n    source: redirect\n    sourceRedirect: /new\n  far:\n    source: redirect\n    sourceRedirect: rtsp://10.0.0.2:554/cam\n",
    ))
    .unwrap();
    assert!(c.not_implemented.is_empty(), "{:?}", c.not_implemented);
    assert_eq!(path(&c, "old").source_redirect, "/new");
    assert_eq!(path(&c, "far").source_redirect, "rtsp://10.0.0.2:554/cam");
    rejected(
        "paths:\n  old:\n    source: redirect\n",
        &[],
        &[
            "key 'paths.old.sourceRedirect'",
            "source 'redirect' needs one",
        ],
    );
    rejected(
        "paths:\n  old:\n    source: redirect\n    sourceRedirect: http://x/y\n",
        &[],
        &[
            "key 'paths.old.sourceRedirect' (line 4)",
            "not an RTSP URL or a path",
        ],
    );
}
