//! Logging: `tracing` to stdout, in a form journald reads well (no timestamps or colours when
//! running under systemd, which adds its own). `RUST_LOG` overrides the default filter.

use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is not set: our own info, others' warnings.
pub const DEFAULT_FILTER: &str = "warn,ceasefire_watch=info";

/// Installs the global subscriber. `quiet` lowers the default to warnings (for commands whose
/// stdout is data, like `inspect` and `classify`).
pub fn init(quiet: bool) {
    let default = if quiet { "warn" } else { DEFAULT_FILTER };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let under_systemd = std::env::var_os("JOURNAL_STREAM").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(!under_systemd && std::io::IsTerminal::is_terminal(&std::io::stdout()));
    // Data commands keep stdout for their output; logs go to stderr.
    let result = match (quiet, under_systemd) {
        (true, _) => builder.with_writer(std::io::stderr).try_init(),
        (false, true) => builder.without_time().try_init(),
        (false, false) => builder.try_init(),
    };
    // A second init (tests) is harmless.
    let _ = result;
}
