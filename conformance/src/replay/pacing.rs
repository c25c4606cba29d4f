//! Pacing: replay at the capture's own timing, or as fast as possible.

use super::Options;
use std::time::{Duration, Instant};

/// The longest single wait (a capture with a long silence does not stall the replay).
const MAX_WAIT: Duration = Duration::from_secs(5);

/// Sleeps so that items go out at their capture times relative to the first one (when
/// paced); does nothing otherwise.
#[derive(Debug)]
pub struct Pacer {
    paced: bool,
    origin: Option<(Duration, Instant)>,
}

impl Pacer {
    /// A pacer following `options`: paced or not, and the common origin if one is set
    /// (several flows replayed together keep their relative timing).
    pub fn new(options: &Options) -> Pacer {
        Pacer {
            paced: options.paced,
            origin: options.origin,
        }
    }

    /// Waits until the item captured at `time` is due.
    pub fn wait(&mut self, time: Duration) {
        if !self.paced {
            return;
        }
        let (t0, i0) = *self.origin.get_or_insert((time, Instant::now()));
        let due = i0 + time.saturating_sub(t0);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait.min(MAX_WAIT));
        }
    }
}
