//! `herald daemon`.

use std::path::Path;

use crate::cli::DaemonArgs;
use crate::error::Result;

pub(crate) fn run(config_path: &Path, args: DaemonArgs) -> Result<()> {
    let _config = super::load_config(config_path)?;
    let _ = args;
    unimplemented!("herald daemon")
}
