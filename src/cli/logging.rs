//! The daemon's log: one structured logger (`tracing`) for every stage, written to
//! standard error as readable lines on a terminal or as JSON lines for log shippers
//! (`--log-format json`). Quiet by default: Picket's own notices at `info` and above,
//! other crates' at `warn`; `PICKET_LOG` takes a filter in `RUST_LOG`'s syntax
//! (`PICKET_LOG=debug`, `PICKET_LOG=picket::sources=trace`).

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `2026-12-07T22:40:01.123Z  WARN message key=value`.
    #[default]
    Text,
    /// One JSON object a line: `timestamp`, `level`, `target`, `fields`.
    Json,
}

/// The filter when `PICKET_LOG` is not set.
const DEFAULT_FILTER: &str = "warn,picket=info";

/// Installs the logger. Call once, before anything logs.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("PICKET_LOG").unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    // Errors only if a logger is already installed (a test that calls this twice).
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}
