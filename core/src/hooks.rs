//! Hooks: commands run on events, MediaMTX's `runOn…` keys, with MediaMTX's environment.
//!
//! The core says *what* runs and *with which environment*; a [`HookRunner`] supplied by the
//! binary (which may spawn processes; the core does not) runs it. A [`HookHandle`] stops its
//! command when dropped (SIGINT, then SIGKILL after a grace period): a hook whose event ends —
//! the stream is no longer ready, the reader left — goes away with the handle the adapter kept.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The hooks of one path entry (empty command: none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PathHooks {
    /// `runOnInit`: runs from start-up (paths with an exact name) until shutdown.
    pub run_on_init: String,
    /// `runOnInitRestart`.
    pub run_on_init_restart: bool,
    /// `runOnDemand`: runs while the path is read (it is expected to publish to it).
    pub run_on_demand: String,
    /// `runOnDemandRestart`.
    pub run_on_demand_restart: bool,
    /// `runOnDemandStartTimeout`.
    pub run_on_demand_start_timeout: Duration,
    /// `runOnDemandCloseAfter`.
    pub run_on_demand_close_after: Duration,
    /// `runOnUnDemand`: runs once when the demand ends.
    pub run_on_un_demand: String,
    /// `runOnReady`: runs while the path's stream is ready.
    pub run_on_ready: String,
    /// `runOnReadyRestart`.
    pub run_on_ready_restart: bool,
    /// `runOnNotReady`: runs once when the stream is no longer ready.
    pub run_on_not_ready: String,
    /// `runOnRead`: runs while a reader reads the path.
    pub run_on_read: String,
    /// `runOnReadRestart`.
    pub run_on_read_restart: bool,
    /// `runOnUnread`: runs once when a reader leaves.
    pub run_on_unread: String,
}

/// A running hook; stops its command when dropped.
pub struct HookHandle(Option<Box<dyn HookProcess>>);

impl HookHandle {
    /// A handle that runs nothing.
    pub fn none() -> HookHandle {
        HookHandle(None)
    }

    /// A handle for a running command.
    pub fn new(p: Box<dyn HookProcess>) -> HookHandle {
        HookHandle(Some(p))
    }

    /// Lets the command run on by itself (one-shot hooks such as `runOnNotReady`).
    pub fn detach(mut self) {
        self.0 = None;
    }
}

impl Drop for HookHandle {
    fn drop(&mut self) {
        if let Some(mut p) = self.0.take() {
            p.stop();
        }
    }
}

impl fmt::Debug for HookHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "HookHandle(running)"
        } else {
            "HookHandle(none)"
        })
    }
}

/// A running command (implemented by the binary).
pub trait HookProcess: Send {
    /// Stops the command (and its restarts).
    fn stop(&mut self);
}

/// Runs hook commands (implemented by the binary).
pub trait HookRunner: Send + Sync + fmt::Debug {
    /// Starts `command` (a command line, run by the system shell) with `env` added to the
    /// environment; with `restart`, it is started again whenever it exits.
    fn start(&self, command: &str, env: &HookEnv, restart: bool) -> HookHandle;
}

/// The shared hook runner of a server, if hooks are enabled.
pub type Hooks = Option<Arc<dyn HookRunner>>;

/// Starts `command` when it is not empty.
pub fn run(hooks: &Hooks, command: &str, env: &HookEnv, restart: bool) -> HookHandle {
    match hooks {
        Some(h) if !command.is_empty() => h.start(command, env, restart),
        _ => HookHandle::none(),
    }
}

/// Runs a one-shot `command` (when not empty) and lets it finish by itself.
pub fn run_once(hooks: &Hooks, command: &str, env: &HookEnv) {
    run(hooks, command, env, false).detach();
}

/// A hook that runs while something lasts (a stream is ready, a reader reads, a connection is
/// open), and the one-shot hook of its end: dropping the span stops the first, then runs the
/// second (as MediaMTX orders them).
pub struct HookSpan {
    handle: HookHandle,
    end: String,
    env: HookEnv,
    hooks: Hooks,
}

impl HookSpan {
    /// Starts `command` (restarted when it exits if `restart`); `end` runs when the span ends.
    /// `None` when hooks are disabled.
    pub fn start(
        hooks: &Hooks,
        command: &str,
        restart: bool,
        end: &str,
        env: HookEnv,
    ) -> Option<HookSpan> {
        hooks.as_ref()?;
        if command.is_empty() && end.is_empty() {
            // Nothing to run now or at the end: nothing to hold either.
            return None;
        }
        Some(HookSpan {
            handle: run(hooks, command, &env, restart),
            end: end.to_owned(),
            env,
            hooks: hooks.clone(),
        })
    }

    /// `runOnReady` / `runOnNotReady` of a path entry.
    pub fn ready(hooks: &Hooks, h: &PathHooks, env: HookEnv) -> Option<HookSpan> {
        HookSpan::start(
            hooks,
            &h.run_on_ready,
            h.run_on_ready_restart,
            &h.run_on_not_ready,
            env,
        )
    }

    /// `runOnRead` / `runOnUnread` of a path entry.
    pub fn read(hooks: &Hooks, h: &PathHooks, env: HookEnv) -> Option<HookSpan> {
        HookSpan::start(
            hooks,
            &h.run_on_read,
            h.run_on_read_restart,
            &h.run_on_unread,
            env,
        )
    }

    /// `runOnConnect` / `runOnDisconnect` of a connection (`conn_type`: `rtspConn`, `rtmpConn`).
    pub fn connect(
        settings: &crate::settings::Settings,
        conn_type: &str,
        conn_id: &str,
        rtsp_port: u16,
    ) -> Option<HookSpan> {
        let env = HookEnv::conn(conn_type, conn_id, rtsp_port);
        HookSpan::start(
            &settings.hooks,
            &settings.run_on_connect,
            settings.run_on_connect_restart,
            &settings.run_on_disconnect,
            env,
        )
    }

    /// `runOnDemand` / `runOnUnDemand` of a path entry (the command given: already chosen).
    pub fn demand(
        hooks: &Hooks,
        command: &str,
        restart: bool,
        h: &PathHooks,
        env: HookEnv,
    ) -> Option<HookSpan> {
        HookSpan::start(hooks, command, restart, &h.run_on_un_demand, env)
    }
}

impl Drop for HookSpan {
    fn drop(&mut self) {
        drop(std::mem::replace(&mut self.handle, HookHandle::none()));
        run_once(&self.hooks, &self.end, &self.env);
    }
}

impl fmt::Debug for HookSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HookSpan").field("end", &self.end).finish()
    }
}

/// The environment of a hook (MediaMTX's variable names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookEnv(pub Vec<(String, String)>);

impl HookEnv {
    /// The variables of a path event: `MTX_PATH`, `MTX_QUERY` (the request's query string,
    /// escaped as MediaMTX escapes it so that a shell cannot be fed commands), `RTSP_PORT`,
    /// `G1…`.
    pub fn path(path: &str, query: &str, rtsp_port: u16, groups: &[String]) -> HookEnv {
        let mut v = vec![
            ("MTX_PATH".to_owned(), path.to_owned()),
            ("MTX_QUERY".to_owned(), query_escape(query)),
            ("RTSP_PORT".to_owned(), rtsp_port.to_string()),
        ];
        for (i, g) in groups.iter().enumerate() {
            v.push((format!("G{}", i + 1), g.clone()));
        }
        HookEnv(v)
    }

    /// Adds `MTX_SOURCE_TYPE` and `MTX_SOURCE_ID` (who publishes: `rtspSession`, `rtmpConn`,
    /// `rtspSource`).
    pub fn with_source(mut self, kind: &str, id: &str) -> HookEnv {
        self.0.push(("MTX_SOURCE_TYPE".into(), kind.into()));
        self.0.push(("MTX_SOURCE_ID".into(), id.into()));
        self
    }

    /// Adds `MTX_READER_TYPE` and `MTX_READER_ID` (`rtspSession`, `rtmpConn`, `hlsMuxer`).
    pub fn with_reader(mut self, kind: &str, id: &str) -> HookEnv {
        self.0.push(("MTX_READER_TYPE".into(), kind.into()));
        self.0.push(("MTX_READER_ID".into(), id.into()));
        self
    }

    /// The variables of a connection event: `MTX_CONN_TYPE` (`rtspConn`, `rtmpConn`),
    /// `MTX_CONN_ID`, `RTSP_PORT`.
    pub fn conn(kind: &str, id: &str, rtsp_port: u16) -> HookEnv {
        HookEnv(vec![
            ("MTX_CONN_TYPE".to_owned(), kind.to_owned()),
            ("MTX_CONN_ID".to_owned(), id.to_owned()),
            ("RTSP_PORT".to_owned(), rtsp_port.to_string()),
        ])
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Escapes `s` for a URL query (Go's `url.QueryEscape`, which MediaMTX applies to
/// `MTX_QUERY`): letters, digits and `-_.~` stay, a space becomes `+`, every other byte `%XX`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 15)] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn queries_are_escaped_as_mediamtx_escapes_them() {
        assert_eq!(super::query_escape("a=1&b=x y"), "a%3D1%26b%3Dx+y");
        assert_eq!(super::query_escape("t-_.~Z9"), "t-_.~Z9");
        assert_eq!(super::query_escape("$(rm -rf)"), "%24%28rm+-rf%29");
        assert_eq!(super::query_escape("\u{e9}"), "%C3%A9");
        assert_eq!(super::query_escape(""), "");
    }

    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Recorder(Arc<Mutex<Vec<String>>>);

    struct Proc(Arc<Mutex<Vec<String>>>, String);

    impl HookProcess for Proc {
        fn stop(&mut self) {
            self.0.lock().unwrap().push(format!("stop {}", self.1));
        }
    }

    impl HookRunner for Recorder {
        fn start(&self, command: &str, env: &HookEnv, restart: bool) -> HookHandle {
            let path = env.get("MTX_PATH").unwrap_or_default();
            self.0
                .lock()
                .unwrap()
                .push(format!("start {command} {path} {restart}"));
            HookHandle::new(Box::new(Proc(self.0.clone(), command.to_owned())))
        }
    }

    #[test]
    fn handles_stop_their_command_and_detached_ones_do_not() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let hooks: Hooks = Some(Arc::new(Recorder(log.clone())));
        let env = HookEnv::path("cam", "a=1", 8554, &["x".into()]);
        assert_eq!(env.get("G1"), Some("x"));
        let h = run(&hooks, "ready.sh", &env, true);
        run_once(&hooks, "once.sh", &env);
        let _none = run(&hooks, "", &env, false);
        drop(h);
        assert_eq!(
            *log.lock().unwrap(),
            vec![
                "start ready.sh cam true".to_string(),
                "start once.sh cam false".to_string(),
                "stop ready.sh".to_string()
            ]
        );
        assert!(run(&None, "x", &env, false).0.is_none());
    }
}
