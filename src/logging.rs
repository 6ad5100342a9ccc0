//! Log output through tracing: human text on stderr by default, JSON lines with `--log-format json`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber. `HERALD_LOG` (tracing's filter syntax) overrides -v/-q.
pub(crate) fn init(verbose: u8, quiet: bool, format: LogFormat) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    // Only herald's own events by default: dependencies log at debug what we already report.
    let filter = EnvFilter::try_from_env("HERALD_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("herald={level}")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let result = match format {
        LogFormat::Text => builder.without_time().try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    // A second init (tests calling twice) is harmless.
    drop(result);
}
