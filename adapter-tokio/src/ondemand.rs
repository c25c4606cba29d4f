//! On-demand sources on tokio: the core's `media::OnDemand` decides when a path's source
//! starts, stops or gives up; this file spawns the pull tasks and lets waiting readers watch
//! their path's source state.

use crate::hub::{lock, Hub};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use weir_core::media::{OnDemand, OnDemandAction};

/// Where a path's on-demand source stands, for the readers waiting on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceState {
    /// Connecting, not ready yet.
    Starting,
    /// The stream is published.
    Ready,
    /// It failed or timed out: refuse the waiting readers.
    Failed,
}

/// The on-demand machine and the channels of its running sources.
#[derive(Default)]
pub(crate) struct OnDemandHub {
    machine: OnDemand,
    states: HashMap<String, watch::Sender<SourceState>>,
    stops: HashMap<String, watch::Sender<bool>>,
    /// Running `runOnDemand` commands.
    commands: HashMap<String, weir_core::hooks::HookSpan>,
}

impl OnDemandHub {
    /// Whether `path` has a demand running.
    pub(crate) fn is_running(&self, path: &str) -> bool {
        self.machine.is_running(path)
    }
}

impl Hub {
    /// A reader asks for `path`, which nobody publishes: the state to wait on when the path
    /// has an on-demand source (started now if it does not run).
    pub(crate) fn wait_for_source(
        self: &Arc<Self>,
        path: &str,
        query: &str,
    ) -> Option<watch::Receiver<SourceState>> {
        let conf = lock(&self.paths).on_demand_source(path, query)?;
        let mut od = lock(&self.ondemand);
        if !od.machine.request(Instant::now(), path, conf) {
            return None;
        }
        let rx = od
            .states
            .entry(path.to_owned())
            .or_insert_with(|| watch::channel(SourceState::Starting).0)
            .subscribe();
        self.run_actions(&mut od);
        Some(rx)
    }

    fn run_actions(self: &Arc<Self>, od: &mut OnDemandHub) {
        while let Some(action) = od.machine.poll_action() {
            match action {
                OnDemandAction::Start {
                    path,
                    url,
                    command: true,
                    restart,
                    query,
                } => {
                    od.states
                        .entry(path.clone())
                        .or_insert_with(|| watch::channel(SourceState::Starting).0);
                    if let Some(span) = self.start_demand_hook(&path, &url, restart, &query) {
                        od.commands.insert(path, span);
                    }
                }
                OnDemandAction::Start { path, url, .. } => {
                    let (stop_tx, stop_rx) = watch::channel(false);
                    od.stops.insert(path.clone(), stop_tx);
                    let state = od
                        .states
                        .entry(path.clone())
                        .or_insert_with(|| watch::channel(SourceState::Starting).0)
                        .clone();
                    tokio::spawn(crate::source::run_on_demand(
                        self.clone(),
                        path,
                        url,
                        state,
                        stop_rx,
                    ));
                }
                OnDemandAction::Stop { path } => {
                    if od.commands.remove(&path).is_some() {
                        tracing::info!("[path {path}] runOnDemand command stopped");
                        od.states.remove(&path);
                    } else {
                        tracing::info!("[path {path}] source stopped: not needed by anyone");
                    }
                    if let Some(s) = od.stops.remove(&path) {
                        s.send_replace(true);
                    }
                }
                OnDemandAction::TimedOut { path } => {
                    tracing::warn!("[path {path}] ERR: source of path '{path}' has timed out");
                    od.commands.remove(&path);
                    if let Some(s) = od.states.remove(&path) {
                        s.send_replace(SourceState::Failed);
                    }
                    if let Some(s) = od.stops.remove(&path) {
                        s.send_replace(true);
                    }
                }
            }
        }
    }

    /// The on-demand source of `path` is ready.
    pub(crate) fn source_ready(&self, path: &str) {
        let mut od = lock(&self.ondemand);
        od.machine.ready(Instant::now(), path);
        if let Some(s) = od.states.get(path) {
            s.send_replace(SourceState::Ready);
        }
    }

    /// The on-demand source of `path` ended.
    pub(crate) fn source_ended(&self, path: &str) {
        let mut od = lock(&self.ondemand);
        od.machine.ended(path);
        od.stops.remove(path);
        if let Some(s) = od.states.remove(path) {
            s.send_replace(SourceState::Failed);
        }
    }
}

/// Every 500 ms: reader counts, start timeouts, close-after delays.
pub(crate) async fn run_timers(hub: Arc<Hub>) {
    let mut shutdown = hub.shutdown_signal();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = Instant::now();
        let mut od = lock(&hub.ondemand);
        {
            let paths = lock(&hub.paths);
            od.machine.check_readers(now, |p| paths.reader_count(p));
        }
        od.machine.handle_timeout(now);
        hub.run_actions(&mut od);
    }
}
