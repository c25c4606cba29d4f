//! Child processes with hard timeouts, scratch directories, tool checks and the
//! per-binary serialisation lock.
//!
//! Every external program a test starts goes through [`ChildGuard`] (killed on
//! drop) or [`run_with_timeout`] (killed when its time is up), so no test can hang.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Panics with an install hint unless `name` is an executable on `PATH`.
pub fn require_tool(name: &str, install_hint: &str) {
    if find_in_path(name).is_none() {
        panic!("{name} not found: install it with {install_hint} (or run scripts/test.sh)");
    }
}

/// Panics with an install hint unless GStreamer knows the element `element`.
pub fn require_gst_element(element: &str, install_hint: &str) {
    require_tool("gst-inspect-1.0", "apt-get install gstreamer1.0-tools");
    let ok = Command::new("gst-inspect-1.0")
        .arg(element)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        panic!("GStreamer element {element} not found: install it with {install_hint} (or run scripts/test.sh)");
    }
}

/// Returns the full path of executable `name` if it is on `PATH`.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Takes the lock that heavy media tests hold so only one runs at a time per test binary.
///
/// The machine has 2 cores: parallel encoders/decoders would starve the server and
/// make timing-sensitive assertions flaky. A panicking holder does not poison it.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A unique directory under `std::env::temp_dir()`; removed on drop unless the test
/// is panicking (then it is kept and its path printed, for debugging).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/weir-e2e-<pid>-<n>-<label>`.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "weir-e2e-{}-{n}-{nanos:x}-{label}",
            std::process::id()
        ));
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path for file `name` inside the directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if thread::panicking() {
            eprintln!("[harness] kept {} for debugging", self.path.display());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// A running child process that is killed (SIGKILL) and reaped on drop.
///
/// Its stderr goes to a log file; when the test panics, drop prints the log's tail.
pub struct ChildGuard {
    child: Child,
    name: String,
    stderr_log: PathBuf,
    _dir: TempDir,
}

impl ChildGuard {
    /// Spawns `cmd` with stdin closed, stderr to a log file and stdout to `stdout`
    /// (pass `None` to send stdout to the same log file).
    pub fn spawn(name: &str, cmd: &mut Command, stdout: Option<Stdio>) -> ChildGuard {
        ChildGuard::spawn_with_dir(TempDir::new(&sanitize(name)), name, cmd, stdout)
    }

    /// Like [`ChildGuard::spawn`], keeping its log in `dir` (made beforehand, e.g. to
    /// put an output path on the command line); the guard owns `dir`.
    pub fn spawn_with_dir(
        dir: TempDir,
        name: &str,
        cmd: &mut Command,
        stdout: Option<Stdio>,
    ) -> ChildGuard {
        let stderr_log = dir.file("stderr.log");
        let err = File::create(&stderr_log).expect("create stderr log");
        let out = match stdout {
            Some(s) => s,
            None => Stdio::from(err.try_clone().expect("clone log fd")),
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name} ({cmd:?}): {e}"));
        eprintln!(
            "[harness] started {name} (pid {}): {}",
            child.id(),
            describe(cmd)
        );
        ChildGuard {
            child,
            name: name.to_string(),
            stderr_log,
            _dir: dir,
        }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The directory in which this guard keeps its files (a place for outputs too).
    pub fn dir(&self) -> &TempDir {
        &self._dir
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for the process to exit; `None` if it is still running.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() >= deadline => return None,
                Ok(None) => thread::sleep(Duration::from_millis(20)),
                Err(e) => panic!("wait for {}: {e}", self.name),
            }
        }
    }

    /// Sends SIGINT (how `gst-launch-1.0 -e` and ffmpeg are asked to finish cleanly).
    pub fn interrupt(&self) {
        signal(self.child.id(), "INT");
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }

    /// The last `lines` lines of the process's stderr log.
    pub fn stderr_tail(&self, lines: usize) -> String {
        tail_of_file(&self.stderr_log, lines)
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
        if thread::panicking() {
            eprintln!(
                "[harness] {} stderr (last lines):\n{}",
                self.name,
                self.stderr_tail(30)
            );
        }
    }
}

/// What a process run by [`run_with_timeout`] produced.
pub struct RunOutput {
    /// Exit status, or `None` when it was killed at the timeout.
    pub status: Option<ExitStatus>,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr (lossy UTF-8).
    pub stderr: String,
}

/// Runs `cmd` to completion, killing it after `timeout`; stdout/stderr go through files.
pub fn run_with_timeout(name: &str, cmd: &mut Command, timeout: Duration) -> RunOutput {
    let dir = TempDir::new(&sanitize(name));
    let out_path = dir.file("stdout");
    let out = File::create(&out_path).expect("create stdout file");
    let mut guard = ChildGuard::spawn(name, cmd, Some(Stdio::from(out)));
    let status = guard.wait_timeout(timeout);
    if status.is_none() {
        eprintln!("[harness] {name} still running after {timeout:?}: killed");
    }
    guard.kill();
    RunOutput {
        status,
        stdout: fs::read(&out_path).unwrap_or_default(),
        stderr: fs::read_to_string(&guard.stderr_log).unwrap_or_default(),
    }
}

/// Sends signal `sig` (e.g. "INT", "TERM") to `pid` with `kill(1)`.
pub fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The last `lines` lines of the file at `path` (empty if unreadable).
pub fn tail_of_file(path: &Path, lines: usize) -> String {
    let text = fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A command `program` that runs under `prefix` (e.g. `ip netns exec NS`) when it is non-empty.
pub fn command_with_prefix(prefix: &[String], program: &str) -> Command {
    match prefix.split_first() {
        None => Command::new(program),
        Some((first, rest)) => {
            let mut cmd = Command::new(first);
            cmd.args(rest).arg(program);
            cmd
        }
    }
}

/// True when this process runs as root (read from /proc/self/status).
pub fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// `name` reduced to `[A-Za-z0-9-_]`, at most 40 characters (for file names).
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect()
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
