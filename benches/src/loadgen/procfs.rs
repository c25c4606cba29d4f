//! CPU time and memory of processes, from `/proc/PID/stat` and `/proc/PID/status`, and the
//! machine's load average.

/// Clock ticks per second of the `stat` CPU fields (`USER_HZ`, 100 on Linux for every
/// architecture the generator runs on; `getconf CLK_TCK`).
pub const TICKS_PER_SEC: f64 = 100.0;

/// One sample of a set of processes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProcSample {
    /// When it was taken (clock µs).
    pub t_us: u64,
    /// User + system CPU time of the processes, their waited-for children included (seconds).
    pub cpu_s: f64,
    /// Resident set size of the processes (KiB).
    pub rss_kib: u64,
    /// How many of the processes could be read.
    pub alive: usize,
}

/// User + system + children's user + system time (seconds) of `pid`, from `/proc/PID/stat`.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let after = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // After the name: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    let ticks: u64 = f
        .get(11..15)?
        .iter()
        .map(|v| v.parse::<u64>().unwrap_or(0))
        .sum();
    Some(ticks as f64 / TICKS_PER_SEC)
}

/// `VmRSS` of `pid` (KiB), from `/proc/PID/status`.
pub fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Samples the processes `pids` at `t_us`.
pub fn sample(pids: &[u32], t_us: u64) -> ProcSample {
    let mut s = ProcSample {
        t_us,
        ..ProcSample::default()
    };
    for pid in pids {
        let p = pid.to_string();
        if let (Some(cpu), Some(rss)) = (cpu_seconds(&p), rss_kib(&p)) {
            s.cpu_s += cpu;
            s.rss_kib += rss;
            s.alive += 1;
        }
    }
    s
}

/// The generator's own CPU time (seconds, all threads).
pub fn self_cpu_seconds() -> f64 {
    cpu_seconds("self").unwrap_or(0.0)
}

/// The 1-, 5- and 15-minute load averages.
pub fn loadavg() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut v = text
        .split_whitespace()
        .take(3)
        .map(|x| x.parse().unwrap_or(0.0));
    [
        v.next().unwrap_or(0.0),
        v.next().unwrap_or(0.0),
        v.next().unwrap_or(0.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_process() {
        assert!(cpu_seconds("self").is_some());
        assert!(rss_kib("self").unwrap() > 0);
        let s = sample(&[std::process::id()], 0);
        assert_eq!(s.alive, 1);
    }
}
