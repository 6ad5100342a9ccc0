//! `herald check`.

use std::path::Path;

use crate::cli::CheckArgs;
use crate::error::Result;

pub(crate) fn run(config_path: &Path, args: CheckArgs) -> Result<()> {
    let _config = super::load_config(config_path)?;
    let _ = args;
    unimplemented!("herald check")
}
