//! `herald status`.

use std::path::Path;

use crate::cli::StatusArgs;
use crate::error::Result;

pub(crate) fn run(config_path: &Path, args: StatusArgs) -> Result<()> {
    let _config = super::load_config(config_path)?;
    let _ = args;
    unimplemented!("herald status")
}
