//! `herald daemon`: runs [`crate::daemon::run`] until SIGINT or SIGTERM.
//!
//! The signal handlers are installed before the daemon starts, so a signal that comes during
//! start-up stops it cleanly instead of killing it.

use std::path::Path;

use tokio::signal::unix::{signal, SignalKind};

use crate::cli::DaemonArgs;
use crate::delivery::{DeliveryError, SetupError};
use crate::error::{Error, Result};

pub(crate) fn run(config_path: &Path, args: DaemonArgs) -> Result<()> {
    let DaemonArgs {} = args;
    let config = super::load_config(config_path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| DeliveryError::from(SetupError::Runtime(e)))?;
    runtime.block_on(async {
        let mut terminate = signal(SignalKind::terminate()).map_err(|e| setup("SIGTERM", e))?;
        let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| setup("SIGINT", e))?;
        let shutdown = async move {
            let name = tokio::select! {
                _ = terminate.recv() => "SIGTERM",
                _ = interrupt.recv() => "SIGINT",
            };
            tracing::info!(signal = name, "asked to stop");
        };
        crate::daemon::run(config, shutdown).await
    })
}

fn setup(signal: &'static str, source: std::io::Error) -> Error {
    DeliveryError::from(SetupError::Signal { signal, source }).into()
}
