//! Log lines in MediaMTX's format: `2026/11/24 06:00:00 INF [RTSP] [conn 1.2.3.4:5] opened`.

use crate::config::LogLevel;
use std::fmt;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

struct MediamtxFormat;

/// Civil date from days since 1970-01-01 (proleptic Gregorian), after H. Hinnant's algorithm.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl<S, N> FormatEvent<S, N> for MediamtxFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        ev: &Event<'_>,
    ) -> fmt::Result {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0) as i64;
        let (y, mo, d) = civil(secs.div_euclid(86_400));
        let t = secs.rem_euclid(86_400);
        let level = match *ev.metadata().level() {
            Level::ERROR => "ERR",
            Level::WARN => "WAR",
            Level::INFO => "INF",
            _ => "DEB",
        };
        write!(
            w,
            "{y:04}/{mo:02}/{d:02} {:02}:{:02}:{:02} {level} ",
            t / 3600,
            t / 60 % 60,
            t % 60
        )?;
        ctx.format_fields(w.by_ref(), ev)?;
        writeln!(w)
    }
}

/// The filter of the installed logger, to change its level on a reload.
static FILTER: OnceLock<reload::Handle<EnvFilter, Registry>> = OnceLock::new();

/// The filter for `level` (weir's own crates only; dependencies stay quiet).
fn filter(level: LogLevel) -> EnvFilter {
    let l = level.name();
    EnvFilter::new(format!("warn,weir={l},weir_core={l},weir_tokio={l}"))
}

/// Installs the global logger at `level`.
pub fn init(level: LogLevel) {
    let (layer, handle) = reload::Layer::new(filter(level));
    let installed = tracing_subscriber::registry()
        .with(layer)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stdout)
                .event_format(MediamtxFormat),
        )
        .try_init();
    if installed.is_ok() {
        let _ = FILTER.set(handle);
    }
}

/// Changes the level of the installed logger (`logLevel` reloaded); false without one.
pub fn set_level(level: LogLevel) -> bool {
    FILTER
        .get()
        .is_some_and(|h| h.reload(filter(level)).is_ok())
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil(0), (1970, 1, 1));
        assert_eq!(super::civil(20_416), (2025, 11, 24));
        assert_eq!(super::civil(11_016), (2000, 2, 29));
    }
}
