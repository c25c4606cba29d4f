//! The weir server under test: start it with a config, learn its ports from its
//! log, wait for log lines, kill it on drop. Also the private network namespace
//! the multicast test needs.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::process::{command_with_prefix, find_in_path, is_root, TempDir};

/// How long [`Weir::start`] waits for the listener lines.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Top-level keys that turn off the protocols MediaMTX enables by default (:1935,
/// :8888, :8889, :8890). Not in [`rtsp_config`]'s default (outside the RTSP contract);
/// pass it as `extra` once weir knows these keys.
pub const OTHER_PROTOCOLS_OFF: &str = "rtmp: no\nhls: no\nwebrtc: no\nsrt: no\n";

/// A default RTSP test config: loopback, ephemeral ports, all transports, debug logs.
///
/// `extra` is appended at top level (e.g. `"readTimeout: 2s\n"`). Unless `extra`
/// has its own `paths:` section, every path accepts a publisher
/// (`all_others: { source: publisher, overridePublisher: yes }`).
pub fn rtsp_config(extra: &str) -> String {
    // Every protocol listens on 127.0.0.1 with an ephemeral port: tests never bind a public
    // address and never collide.
    let mut cfg = String::from(
        "logLevel: debug\n\
         readTimeout: 10s\n\
         writeTimeout: 10s\n\
         writeQueueSize: 512\n\
         rtspAddress: 127.0.0.1:0\n\
         rtpAddress: 127.0.0.1:0\n\
         rtcpAddress: 127.0.0.1:0\n\
         rtspTransports: [udp, multicast, tcp]\n\
         multicastIPRange: 224.1.0.0/16\n\
         multicastRTPPort: 18002\n\
         multicastRTCPPort: 18003\n\
         rtmpAddress: 127.0.0.1:0\n\
         hlsAddress: 127.0.0.1:0\n",
    );
    cfg.push_str(extra);
    if !cfg.ends_with('\n') {
        cfg.push('\n');
    }
    if !extra.lines().any(|l| l.starts_with("paths:")) {
        cfg.push_str("paths:\n  all_others:\n    source: publisher\n    overridePublisher: yes\n");
    }
    cfg
}

/// One address from a `listener opened on` log line.
#[derive(Clone, Debug)]
pub struct Listener {
    /// The protocol tag, e.g. `RTSP`, `RTMP`, `HLS`.
    pub proto: String,
    /// The address as logged, e.g. `127.0.0.1:41234`.
    pub addr: String,
    /// The parenthesised kind, e.g. `TCP`, `UDP/RTP`, `UDP/RTCP` (empty if none).
    pub kind: String,
    /// The port parsed from `addr`.
    pub port: u16,
}

/// Parses `... [RTSP] listener opened on A (TCP), B (UDP/RTP)` into listeners.
pub fn parse_listener_line(line: &str) -> Option<Vec<Listener>> {
    let marker = "] listener opened on ";
    let at = line.find(marker)?;
    let open = line[..at].rfind('[')?;
    let proto = line[open + 1..at].to_string();
    let mut out = Vec::new();
    for part in line[at + marker.len()..].split(", ") {
        let part = part.trim();
        let (addr, kind) = match part.find(" (") {
            Some(i) => (&part[..i], part[i + 2..].trim_end_matches(')')),
            None => (part, ""),
        };
        let port = addr.rsplit(':').next()?.parse().ok()?;
        out.push(Listener {
            proto: proto.clone(),
            addr: addr.to_string(),
            kind: kind.to_string(),
            port,
        });
    }
    Some(out)
}

/// A running weir process (killed on drop) and everything it logged to stdout.
pub struct Weir {
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    /// The threads reading stdout and stderr into `logs` and `stderr`.
    readers: Vec<thread::JoinHandle<()>>,
    listeners: Vec<Listener>,
    _dir: TempDir,
}

/// The runtime the suite runs weir on: `WEIR_TEST_RUNTIME` (`tokio` or `mio`; `tokio` when
/// unset). `scripts/test.sh` runs the whole suite once per runtime.
pub fn runtime() -> String {
    match std::env::var("WEIR_TEST_RUNTIME") {
        Ok(r) if !r.is_empty() => r,
        _ => "tokio".into(),
    }
}

impl Weir {
    /// Starts weir with `config_yaml` and waits for its RTSP listener line.
    pub fn start(config_yaml: &str) -> Weir {
        Weir::start_with(config_yaml, None, &["RTSP"])
    }

    /// Starts weir under `prefix` (e.g. `ip netns exec NS`) and waits for the RTSP listener.
    pub fn start_in(config_yaml: &str, prefix: Option<Vec<String>>) -> Weir {
        Weir::start_with(config_yaml, prefix, &["RTSP"])
    }

    /// Starts weir and waits (≤ [`START_TIMEOUT`]) for a listener line of each tag in `protos`.
    pub fn start_with(config_yaml: &str, prefix: Option<Vec<String>>, protos: &[&str]) -> Weir {
        let dir = TempDir::new("weir");
        let config = dir.file("weir.yml");
        fs::write(&config, config_yaml).expect("write weir config");
        let prefix = prefix.unwrap_or_default();
        let mut cmd = command_with_prefix(&prefix, env!("CARGO_BIN_EXE_weir"));
        cmd.env("WEIR_RUNTIME", runtime());
        cmd.arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn weir: {e}"));
        eprintln!(
            "[harness] started weir (pid {}) with {}",
            child.id(),
            config.display()
        );
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let out_reader = spawn_line_reader(
            child.stdout.take().expect("stdout"),
            "[weir] ",
            logs.clone(),
        );
        let err_reader = spawn_line_reader(
            child.stderr.take().expect("stderr"),
            "[weir stderr] ",
            stderr.clone(),
        );
        let mut weir = Weir {
            child,
            logs,
            stderr,
            readers: vec![out_reader, err_reader],
            listeners: Vec::new(),
            _dir: dir,
        };
        weir.await_listeners(protos);
        let line = format!("runtime: {}", runtime());
        assert!(
            weir.logs
                .lock()
                .expect("logs")
                .iter()
                .any(|l| l.contains(&line)),
            "weir did not log `{line}`: the suite must run on the runtime it was asked for"
        );
        weir
    }

    fn await_listeners(&mut self, protos: &[&str]) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let found: Vec<Listener> = self
                .logs()
                .iter()
                .filter_map(|l| parse_listener_line(l))
                .flatten()
                .collect();
            if protos.iter().all(|p| found.iter().any(|l| l.proto == *p)) {
                self.listeners = found;
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "weir exited ({status}) before its listeners opened\n{}",
                    self.diagnostics()
                );
            }
            if Instant::now() >= deadline {
                panic!(
                    "no `listener opened` line for {protos:?} within {START_TIMEOUT:?}\n{}",
                    self.diagnostics()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// All listeners parsed from the log at start.
    pub fn listeners(&self) -> &[Listener] {
        &self.listeners
    }

    /// The port of listener (`proto`, `kind`), e.g. `("RTSP", "UDP/RTP")`; panics if absent.
    pub fn port(&self, proto: &str, kind: &str) -> u16 {
        self.listeners
            .iter()
            .find(|l| l.proto == proto && l.kind == kind)
            .unwrap_or_else(|| panic!("no {proto} {kind} listener in {:?}", self.listeners))
            .port
    }

    /// The configuration file weir was started with (tests edit it to exercise hot reload).
    pub fn config_file(&self) -> std::path::PathBuf {
        self._dir.file("weir.yml")
    }

    /// The RTSP (TCP) port.
    pub fn rtsp_port(&self) -> u16 {
        self.port("RTSP", "TCP")
    }

    /// The UDP/RTP port (server_port's first half).
    pub fn rtp_port(&self) -> u16 {
        self.port("RTSP", "UDP/RTP")
    }

    /// The UDP/RTCP port.
    pub fn rtcp_port(&self) -> u16 {
        self.port("RTSP", "UDP/RTCP")
    }

    /// `rtsp://127.0.0.1:<rtsp port>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!(
            "rtsp://127.0.0.1:{}/{}",
            self.rtsp_port(),
            path.trim_start_matches('/')
        )
    }

    /// A copy of every stdout line so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The number of stdout lines so far (a mark for [`Weir::wait_for_log_since`]).
    pub fn log_len(&self) -> usize {
        self.logs.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// How many stdout lines contain `substr`.
    pub fn count_log(&self, substr: &str) -> usize {
        self.logs().iter().filter(|l| l.contains(substr)).count()
    }

    /// Waits for a stdout line containing `substr` and returns it; panics with the log on timeout.
    pub fn wait_for_log(&self, substr: &str, timeout: Duration) -> String {
        self.wait_for_log_where(substr, timeout, |l| l.contains(substr))
    }

    /// Like [`Weir::wait_for_log`] but only among lines logged after mark `since`.
    pub fn wait_for_log_since(&self, since: usize, substr: &str, timeout: Duration) -> String {
        self.wait_for_log_from(since, substr, timeout, |l| l.contains(substr))
    }

    /// Waits for a stdout line matching `pred` (`what` describes it in the panic message).
    pub fn wait_for_log_where(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        self.wait_for_log_from(0, what, timeout, pred)
    }

    fn wait_for_log_from(
        &self,
        since: usize,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            {
                let logs = self.logs.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(l) = logs.iter().skip(since).find(|l| pred(l)) {
                    return l.clone();
                }
            }
            if Instant::now() >= deadline {
                panic!(
                    "weir never logged {what:?} within {timeout:?}\n{}",
                    self.diagnostics()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `sig` ("TERM", "INT") and waits up to `timeout` for weir to exit.
    pub fn stop_with_signal(
        &mut self,
        sig: &str,
        timeout: Duration,
    ) -> Option<std::process::ExitStatus> {
        super::process::signal(self.child.id(), sig);
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // The process is gone, but its last lines may still be in the pipes: let the
                // readers reach the end (bounded, in case a hook child still holds them).
                while std::time::Instant::now() < deadline
                    && !self.readers.iter().all(|r| r.is_finished())
                {
                    thread::sleep(Duration::from_millis(10));
                }
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Panics (with the log) if the weir process has exited.
    pub fn assert_alive(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "weir exited unexpectedly ({status})\n{}",
                self.diagnostics()
            );
        }
    }

    /// The last 60 stdout lines and last 20 stderr lines, for panic messages.
    pub fn diagnostics(&self) -> String {
        let logs = self.logs();
        let err = self
            .stderr
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        format!(
            "--- weir stdout (last 60 of {}) ---\n{}\n--- weir stderr (last 20) ---\n{}",
            logs.len(),
            logs[logs.len().saturating_sub(60)..].join("\n"),
            err[err.len().saturating_sub(20)..].join("\n")
        )
    }
}

impl Drop for Weir {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_line_reader(
    stream: impl Read + Send + 'static,
    echo: &'static str,
    sink: Arc<Mutex<Vec<String>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            eprintln!("{echo}{line}");
            sink.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    })
}

/// A private network namespace with `lo` up, multicast on and 224.0.0.0/4 routed to
/// `lo`, so multicast can be tested on loopback; deleted on drop.
pub struct NetNs {
    name: String,
}

impl NetNs {
    /// Creates `weir-mc-<pid>-<n>`; panics with how to fix it if not root or `ip` is missing.
    pub fn create() -> NetNs {
        if find_in_path("ip").is_none() {
            panic!(
                "ip not found: install it with apt-get install iproute2 (or run scripts/test.sh)"
            );
        }
        if !is_root() {
            panic!("the multicast test needs a network namespace: run the tests as root (e.g. sudo scripts/test.sh)");
        }
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ns = NetNs {
            name: format!("weir-mc-{}-{n}", std::process::id()),
        };
        ns.ip(&["netns", "add", &ns.name]);
        ns.ip(&["-n", &ns.name, "link", "set", "lo", "up"]);
        ns.ip(&["-n", &ns.name, "link", "set", "lo", "multicast", "on"]);
        ns.ip(&["-n", &ns.name, "route", "add", "224.0.0.0/4", "dev", "lo"]);
        ns
    }

    fn ip(&self, args: &[&str]) {
        let out = Command::new("ip")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run ip {args:?}: {e}"));
        if !out.status.success() {
            panic!(
                "ip {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `["ip", "netns", "exec", <name>]`, to prefix commands that must run inside.
    pub fn prefix(&self) -> Vec<String> {
        vec![
            "ip".into(),
            "netns".into(),
            "exec".into(),
            self.name.clone(),
        ]
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}
