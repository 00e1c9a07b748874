//! Logging: `tracing` to stdout, in a form journald reads well. `RUST_LOG` overrides the
//! default filter.
//!
//! Under systemd (stdout is the journal) each line starts with its syslog priority (`<3>`
//! error, `<4>` warning, `<6>` info, `<7>` debug), which journald takes as the entry's
//! priority and strips, so `journalctl -p warning` shows warnings and errors; timestamps and
//! colours are left out (journald adds its own). `--log-format json` (or `daemon.log_format`)
//! writes one JSON object per line for log shippers, with the same priority prefix under
//! systemd.

use std::fmt;
use std::str::FromStr;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// The filter when `RUST_LOG` is not set: our own info, others' warnings.
pub const DEFAULT_FILTER: &str = "warn,ceasefire_watch=info";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// `INFO message key=value`, for people.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("{other:?} is not \"text\" or \"json\"")),
        }
    }
}

/// The syslog priority journald reads from a line's start.
fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// A formatter that starts each line with its syslog priority.
struct Prioritised<F>(F);

impl<S, N, F> FormatEvent<S, N> for Prioritised<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        write!(writer, "<{}>", priority(*event.metadata().level()))?;
        self.0.format_event(ctx, writer, event)
    }
}

/// Installs the global subscriber. `quiet` lowers the default to warnings and writes to
/// stderr (for commands whose stdout is data, like `inspect` and `classify`).
pub fn init(quiet: bool, format: LogFormat) {
    let default = if quiet { "warn" } else { DEFAULT_FILTER };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some() && !quiet;
    let ansi = !under_systemd && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi && format == LogFormat::Text);
    // A second init (tests) is harmless: its error is ignored.
    let _ = match (format, quiet, under_systemd) {
        (LogFormat::Text, true, _) => builder.with_writer(std::io::stderr).try_init(),
        (LogFormat::Text, false, true) => builder
            .event_format(Prioritised(
                tracing_subscriber::fmt::format()
                    .with_target(false)
                    .without_time(),
            ))
            .try_init(),
        (LogFormat::Text, false, false) => builder.try_init(),
        (LogFormat::Json, true, _) => builder.json().with_writer(std::io::stderr).try_init(),
        (LogFormat::Json, false, true) => builder
            .event_format(Prioritised(
                tracing_subscriber::fmt::format().json().with_target(false),
            ))
            .fmt_fields(tracing_subscriber::fmt::format::JsonFields::new())
            .try_init(),
        (LogFormat::Json, false, false) => builder.json().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_syslog_priorities_and_formats_parse() {
        assert_eq!(priority(Level::ERROR), 3);
        assert_eq!(priority(Level::WARN), 4);
        assert_eq!(priority(Level::INFO), 6);
        assert_eq!(priority(Level::DEBUG), 7);
        assert_eq!("json".parse::<LogFormat>(), Ok(LogFormat::Json));
        assert!(
            "yaml"
                .parse::<LogFormat>()
                .unwrap_err()
                .contains("\"text\"")
        );
    }
}
