//! Runs hook commands as processes: through the system shell, with the hook's environment
//! added, output lines copied to weir's log, restarted when asked, stopped with SIGINT and,
//! after a grace period, SIGKILL (as MediaMTX does).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weir_core::hooks::{HookEnv, HookHandle, HookProcess, HookRunner};

/// How long a stopped command may take to exit after SIGINT before SIGKILL.
const GRACE: Duration = Duration::from_secs(5);

/// Waits before restarting a command that exited (as MediaMTX).
const RESTART_PAUSE: Duration = Duration::from_secs(5);

/// The process hook runner.
#[derive(Debug)]
pub struct ProcessHooks;

struct Running {
    stop: Arc<AtomicBool>,
    child: Arc<Mutex<Option<Child>>>,
}

fn shell(command: &str) -> Command {
    if cfg!(windows) {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(command);
        c
    }
}

fn spawn(command: &str, env: &HookEnv) -> Option<Child> {
    let mut cmd = shell(command);
    cmd.envs(env.0.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match cmd.spawn() {
        Ok(mut child) => {
            for out in [
                child
                    .stdout
                    .take()
                    .map(|o| Box::new(o) as Box<dyn std::io::Read + Send>),
                child
                    .stderr
                    .take()
                    .map(|e| Box::new(e) as Box<dyn std::io::Read + Send>),
            ]
            .into_iter()
            .flatten()
            {
                let _ = std::thread::Builder::new()
                    .name("hook-output".into())
                    .spawn(move || {
                        for line in BufReader::new(out).lines().map_while(Result::ok) {
                            tracing::info!("[hook] {line}");
                        }
                    });
            }
            Some(child)
        }
        Err(e) => {
            tracing::error!("cannot run hook '{command}': {e}");
            None
        }
    }
}

/// SIGINT (through `kill`, no unsafe code needed), then SIGKILL after [`GRACE`].
fn terminate(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .arg("-INT")
            .arg(child.id().to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl HookRunner for ProcessHooks {
    fn start(&self, command: &str, env: &HookEnv, restart: bool) -> HookHandle {
        let stop = Arc::new(AtomicBool::new(false));
        let child = Arc::new(Mutex::new(spawn(command, env)));
        let (command, env) = (command.to_owned(), env.clone());
        let (stop2, child2) = (stop.clone(), child.clone());
        // One thread reaps the command (and restarts it when asked).
        let _ = std::thread::Builder::new()
            .name("hook".into())
            .spawn(move || loop {
                std::thread::sleep(Duration::from_millis(200));
                if stop2.load(Ordering::Acquire) {
                    return;
                }
                let mut guard = child2.lock().unwrap_or_else(|p| p.into_inner());
                let exited = match guard.as_mut() {
                    Some(c) => matches!(c.try_wait(), Ok(Some(_))),
                    None => true,
                };
                if !exited {
                    continue;
                }
                if !restart {
                    *guard = None;
                    return;
                }
                drop(guard);
                std::thread::sleep(RESTART_PAUSE);
                if stop2.load(Ordering::Acquire) {
                    return;
                }
                let next = spawn(&command, &env);
                *child2.lock().unwrap_or_else(|p| p.into_inner()) = next;
            });
        HookHandle::new(Box::new(Running { stop, child }))
    }
}

impl HookProcess for Running {
    fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let child = self.child.clone();
        // Stopping may take the grace period: never on the caller's (event loop's) thread.
        let _ = std::thread::Builder::new()
            .name("hook-stop".into())
            .spawn(move || {
                let taken = child.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(mut c) = taken {
                    terminate(&mut c);
                }
            });
    }
}
