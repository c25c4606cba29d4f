//! On-demand sources (`sourceOnDemand: yes`): the source of a path is opened when the first
//! reader asks for it, readers wait for it (up to `sourceOnDemandStartTimeout`), and it is
//! closed `sourceOnDemandCloseAfter` after the last reader left. This machine keeps that
//! state for every path and tells the adapter what to do; the adapter opens and closes the
//! connections and parks the waiting requests.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The on-demand source of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnDemandConf {
    /// Where to pull from (groups already substituted), or the `runOnDemand` command.
    pub url: String,
    /// `url` is a `runOnDemand` command (ready when something publishes to the path).
    pub command: bool,
    /// `runOnDemandRestart`.
    pub restart: bool,
    /// `sourceOnDemandStartTimeout`.
    pub start_timeout: Duration,
    /// `sourceOnDemandCloseAfter`.
    pub close_after: Duration,
    /// The query of the reader that asked first (`MTX_QUERY` of `runOnDemand`).
    pub query: String,
}

/// What the adapter must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OnDemandAction {
    /// Open the source of `path`, pulling from `url`.
    Start {
        /// The path.
        path: String,
        /// The source URL, or the `runOnDemand` command.
        url: String,
        /// `url` is a command.
        command: bool,
        /// Restart the command when it exits.
        restart: bool,
        /// The query of the reader that asked first.
        query: String,
    },
    /// Close the source of `path`: nobody read it for `sourceOnDemandCloseAfter`.
    Stop {
        /// The path.
        path: String,
    },
    /// The source of `path` was not ready in time: refuse the waiting readers, close it.
    TimedOut {
        /// The path.
        path: String,
    },
}

#[derive(Debug)]
struct Entry {
    conf: OnDemandConf,
    ready: bool,
    /// The start timeout (not ready) or the close-after countdown (ready, no reader).
    deadline: Option<Instant>,
}

/// The on-demand sources of every path (see the module docs).
#[derive(Debug, Default)]
pub struct OnDemand {
    entries: HashMap<String, Entry>,
    actions: VecDeque<OnDemandAction>,
}

impl OnDemand {
    /// A reader asks for `path`, which nobody publishes: returns whether it must wait for the
    /// source (always, unless the source is already ready); queues a start when none runs.
    pub fn request(&mut self, now: Instant, path: &str, conf: OnDemandConf) -> bool {
        match self.entries.get_mut(path) {
            Some(e) => {
                if e.ready {
                    e.deadline = None;
                }
                !e.ready
            }
            None => {
                self.actions.push_back(OnDemandAction::Start {
                    path: path.to_owned(),
                    url: conf.url.clone(),
                    command: conf.command,
                    restart: conf.restart,
                    query: conf.query.clone(),
                });
                let deadline = Some(now + conf.start_timeout);
                self.entries.insert(
                    path.to_owned(),
                    Entry {
                        conf,
                        ready: false,
                        deadline,
                    },
                );
                true
            }
        }
    }

    /// Whether `path` has an on-demand source running (starting or ready).
    pub fn is_running(&self, path: &str) -> bool {
        self.entries.contains_key(path)
    }

    /// The source of `path` published its stream (waiting readers can be answered).
    pub fn ready(&mut self, now: Instant, path: &str) {
        if let Some(e) = self.entries.get_mut(path) {
            e.ready = true;
            // Readers are counted from the next check on; until then it counts as read.
            e.deadline = Some(now + e.conf.close_after);
        }
    }

    /// Updates the reader counts of ready sources (`readers_of(path)`): with none, the
    /// close-after countdown runs; with some, it is cancelled.
    pub fn check_readers(&mut self, now: Instant, readers_of: impl Fn(&str) -> u32) {
        for (path, e) in &mut self.entries {
            if !e.ready {
                continue;
            }
            if readers_of(path) > 0 {
                e.deadline = None;
            } else if e.deadline.is_none() {
                e.deadline = Some(now + e.conf.close_after);
            }
        }
    }

    /// The source of `path` ended (closed or failed): forget it.
    pub fn ended(&mut self, path: &str) {
        self.entries.remove(path);
    }

    /// When [`OnDemand::handle_timeout`] is next needed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.entries.values().filter_map(|e| e.deadline).min()
    }

    /// Queues `TimedOut` for sources not ready in time and `Stop` for sources unread for their
    /// close-after delay; both are forgotten.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<(String, bool)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.deadline.is_some_and(|d| d <= now))
            .map(|(p, e)| (p.clone(), e.ready))
            .collect();
        for (path, ready) in due {
            self.entries.remove(&path);
            self.actions.push_back(if ready {
                OnDemandAction::Stop { path }
            } else {
                OnDemandAction::TimedOut { path }
            });
        }
    }

    /// The next thing to do.
    pub fn poll_action(&mut self) -> Option<OnDemandAction> {
        self.actions.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf() -> OnDemandConf {
        OnDemandConf {
            url: "rtsp://o/cam".into(),
            command: false,
            restart: false,
            start_timeout: Duration::from_secs(10),
            close_after: Duration::from_secs(5),
            query: String::new(),
        }
    }

    // The fake clock needs one real base instant; only offsets from it are used after that.
    #[allow(clippy::disallowed_methods)]
    fn t0() -> Instant {
        Instant::now()
    }

    #[test]
    fn starts_once_then_stops_after_the_last_reader() {
        let t = t0();
        let mut od = OnDemand::default();
        let first = OnDemandConf {
            query: "who=first".into(),
            ..conf()
        };
        let second = OnDemandConf {
            query: "who=second".into(),
            ..conf()
        };
        assert!(od.request(t, "cam", first));
        assert!(od.request(t, "cam", second), "a second reader waits too");
        assert_eq!(
            od.poll_action(),
            Some(OnDemandAction::Start {
                path: "cam".into(),
                url: "rtsp://o/cam".into(),
                command: false,
                restart: false,
                query: "who=first".into(),
            }),
            "the source starts for the first reader, with its query"
        );
        assert_eq!(od.poll_action(), None, "started once");
        od.ready(t + Duration::from_secs(1), "cam");
        assert!(!od.request(t, "cam", conf()), "ready: no wait");
        od.check_readers(t + Duration::from_secs(2), |_| 2);
        od.handle_timeout(t + Duration::from_secs(30));
        assert_eq!(od.poll_action(), None, "read: stays");
        od.check_readers(t + Duration::from_secs(31), |_| 0);
        od.handle_timeout(t + Duration::from_secs(35));
        assert_eq!(od.poll_action(), None, "close-after not yet over");
        od.handle_timeout(t + Duration::from_secs(36));
        assert_eq!(
            od.poll_action(),
            Some(OnDemandAction::Stop { path: "cam".into() })
        );
        assert!(!od.is_running("cam"));
    }

    #[test]
    fn a_reader_coming_back_cancels_the_countdown() {
        let t = t0();
        let mut od = OnDemand::default();
        od.request(t, "cam", conf());
        od.poll_action();
        od.ready(t, "cam");
        od.check_readers(t, |_| 0);
        od.check_readers(t + Duration::from_secs(3), |_| 1);
        od.handle_timeout(t + Duration::from_secs(20));
        assert_eq!(od.poll_action(), None);
    }

    #[test]
    fn a_source_not_ready_in_time_times_out() {
        let t = t0();
        let mut od = OnDemand::default();
        od.request(t, "cam", conf());
        od.poll_action();
        assert_eq!(od.poll_timeout(), Some(t + Duration::from_secs(10)));
        od.handle_timeout(t + Duration::from_secs(10));
        assert_eq!(
            od.poll_action(),
            Some(OnDemandAction::TimedOut { path: "cam".into() })
        );
        // The next reader starts it again.
        assert!(od.request(t + Duration::from_secs(11), "cam", conf()));
        assert!(matches!(
            od.poll_action(),
            Some(OnDemandAction::Start { .. })
        ));
    }
}
