//! The hooks on tokio: `runOnReady`/`runOnNotReady` with a stream, `runOnRead`/`runOnUnread`
//! with a reader, `runOnConnect`/`runOnDisconnect` with a connection task, `runOnInit` from
//! start-up, `runOnDemand` with the demand. What runs and with which environment comes from
//! core `hooks`; the server binary runs the commands.

use crate::hub::{lock, Hub};
use crate::stream::SharedStream;
use std::sync::Arc;
use weir_core::hooks::{run, HookEnv, HookSpan};

impl Hub {
    /// The environment of a path event on `path` asked for with `query`.
    pub(crate) fn path_env(&self, path: &str, query: &str) -> HookEnv {
        let groups = lock(&self.paths)
            .hooks_of(path)
            .map(|h| h.1)
            .unwrap_or_default();
        HookEnv::path(path, query, self.rtsp_port, &groups)
    }

    /// A stream was published (by a `source_type` `source_id` with the request's `query`):
    /// `runOnReady` starts (it ends with the stream), readers waiting on demand are answered.
    pub(crate) fn stream_published(
        self: &Arc<Self>,
        stream: &SharedStream,
        source_type: &str,
        source_id: &str,
        query: &str,
    ) {
        if self.settings.hooks.is_some() {
            // Bound first: the registry lock must be released before `path_env` takes it.
            let found = lock(&self.paths).hooks_of(&stream.path);
            if let Some((h, _)) = found {
                let env = self
                    .path_env(&stream.path, query)
                    .with_source(source_type, source_id);
                stream.set_ready_hook(HookSpan::ready(&self.settings.hooks, &h, env));
            }
        }
        self.demand_met(&stream.path);
        if let Some(hls) = self.hls.get() {
            if hls.settings.always_remux {
                let _ = hls.muxer(self, &stream.path, "");
            }
        }
    }

    /// `runOnRead` for a reader of `path` asking with `query` (`runOnUnread` when the span
    /// is dropped).
    pub(crate) fn read_hook(
        &self,
        path: &str,
        query: &str,
        reader_type: &str,
        reader_id: &str,
    ) -> Option<HookSpan> {
        self.settings.hooks.as_ref()?;
        let (h, _) = lock(&self.paths).hooks_of(path)?;
        let env = self
            .path_env(path, query)
            .with_reader(reader_type, reader_id);
        HookSpan::read(&self.settings.hooks, &h, env)
    }

    /// `runOnConnect` for a connection (`runOnDisconnect` when the span is dropped).
    pub(crate) fn connect_hook(&self, conn_type: &str, conn_id: &str) -> Option<HookSpan> {
        HookSpan::connect(&self.settings, conn_type, conn_id, self.rtsp_port)
    }

    /// `runOnInit` of every path entry with an exact name, kept until shutdown.
    pub(crate) fn start_init_hooks(&self) {
        if self.settings.hooks.is_none() {
            return;
        }
        let mut held = lock(&self.init_hooks);
        for c in &self.settings.paths {
            if c.is_catch_all() || c.regex_source().is_some() || c.hooks.run_on_init.is_empty() {
                continue;
            }
            let env = self.path_env(&c.name, "");
            held.push(run(
                &self.settings.hooks,
                &c.hooks.run_on_init,
                &env,
                c.hooks.run_on_init_restart,
            ));
        }
    }

    /// Something published on `path`: a running demand (source or `runOnDemand`) is met.
    fn demand_met(&self, path: &str) {
        let running = lock(&self.ondemand).is_running(path);
        if running {
            self.source_ready(path);
        }
    }

    /// Starts the `runOnDemand` command of `path` for a first reader that asked with `query`.
    pub(crate) fn start_demand_hook(
        self: &Arc<Self>,
        path: &str,
        command: &str,
        restart: bool,
        query: &str,
    ) -> Option<HookSpan> {
        let env = self.path_env(path, query);
        let h = lock(&self.paths)
            .hooks_of(path)
            .map(|h| h.0)
            .unwrap_or_default();
        tracing::info!("[path {path}] runOnDemand command started");
        HookSpan::demand(&self.settings.hooks, command, restart, &h, env)
    }
}
