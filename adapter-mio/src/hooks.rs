//! The loop's hooks: `runOnReady`/`runOnNotReady` with a stream, `runOnRead`/`runOnUnread`
//! with a reader, `runOnConnect`/`runOnDisconnect` with a connection, `runOnInit` from
//! start-up, `runOnDemand`/`runOnUnDemand` with the demand (core `media::OnDemand`). What to
//! run and with which environment comes from core `hooks`; the server binary runs them.

use crate::event_loop::Loop;
use crate::slab::Id;
use std::time::Instant;
use weir_core::hooks::{run, HookEnv, HookSpan};

/// A hook span (see core `hooks::HookSpan`).
pub(crate) type Held = HookSpan;

impl Loop {
    /// The environment of a path event on `path` asked for with `query`.
    pub(crate) fn path_env(&self, path: &str, query: &str) -> HookEnv {
        let groups = self.paths.hooks_of(path).map(|h| h.1).unwrap_or_default();
        HookEnv::path(path, query, self.rtsp_port, &groups)
    }

    /// `runOnReady` for the stream `sid` (published by a `source_type` `source_id` with the
    /// request's `query`); the returned value runs `runOnNotReady` when dropped with the
    /// stream.
    pub(crate) fn ready_hook(
        &self,
        sid: Id,
        source_type: &str,
        source_id: &str,
        query: &str,
    ) -> Option<Held> {
        self.settings.hooks.as_ref()?;
        let path = self.streams.get(sid)?.path.clone();
        let (h, _) = self.paths.hooks_of(&path)?;
        let env = self
            .path_env(&path, query)
            .with_source(source_type, source_id);
        HookSpan::ready(&self.settings.hooks, &h, env)
    }

    /// `runOnRead` for a reader of `path` asking with `query`; `runOnUnread` runs when the
    /// value is dropped.
    pub(crate) fn read_hook(
        &self,
        path: &str,
        query: &str,
        reader_type: &str,
        reader_id: &str,
    ) -> Option<Held> {
        self.settings.hooks.as_ref()?;
        let (h, _) = self.paths.hooks_of(path)?;
        let env = self
            .path_env(path, query)
            .with_reader(reader_type, reader_id);
        HookSpan::read(&self.settings.hooks, &h, env)
    }

    /// `runOnConnect` for a connection; `runOnDisconnect` runs when the value is dropped.
    pub(crate) fn connect_hook(&self, conn_type: &str, conn_id: &str) -> Option<Held> {
        HookSpan::connect(&self.settings, conn_type, conn_id, self.rtsp_port)
    }

    /// `runOnDemand` of `path` started by the on-demand machine for a first reader that
    /// asked with `query`.
    pub(crate) fn start_demand_hook(
        &mut self,
        path: &str,
        command: &str,
        restart: bool,
        query: &str,
    ) {
        let env = self.path_env(path, query);
        let h = self.paths.hooks_of(path).map(|h| h.0).unwrap_or_default();
        tracing::info!("[path {path}] runOnDemand command started");
        if let Some(span) = HookSpan::demand(&self.settings.hooks, command, restart, &h, env) {
            self.demand_hooks.insert(path.to_owned(), span);
        }
    }

    /// The demand of `path` ended: its command stops, `runOnUnDemand` runs.
    pub(crate) fn stop_demand_hook(&mut self, path: &str) -> bool {
        let stopped = self.demand_hooks.remove(path).is_some();
        if stopped {
            tracing::info!("[path {path}] runOnDemand command stopped");
        }
        stopped
    }

    /// A stream was published on its path: on-demand readers waiting for it are answered.
    pub(crate) fn demand_met(&mut self, now: Instant, sid: Id) {
        let Some(path) = self.streams.get(sid).map(|s| s.path.clone()) else {
            return;
        };
        if self.ondemand.is_running(&path) {
            self.ondemand.ready(now, &path);
            self.answer_parked(now, &path, true);
        }
    }

    /// `runOnInit` of every path entry with an exact name, kept until the loop ends.
    pub(crate) fn start_init_hooks(&mut self) {
        let hooks = self.settings.hooks.clone();
        if hooks.is_none() {
            return;
        }
        let confs: Vec<(String, String, bool)> = self
            .settings
            .paths
            .iter()
            .filter(|c| !c.is_catch_all() && c.regex_source().is_none())
            .filter(|c| !c.hooks.run_on_init.is_empty())
            .map(|c| {
                (
                    c.name.clone(),
                    c.hooks.run_on_init.clone(),
                    c.hooks.run_on_init_restart,
                )
            })
            .collect();
        for (path, command, restart) in confs {
            let env = self.path_env(&path, "");
            self.init_hooks.push(run(&hooks, &command, &env, restart));
        }
    }
}
