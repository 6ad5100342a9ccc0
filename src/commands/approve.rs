//! `herald approve`.

use std::path::Path;

use crate::cli::ApproveArgs;
use crate::error::Result;

pub(crate) fn run(config_path: &Path, args: ApproveArgs) -> Result<()> {
    let _config = super::load_config(config_path)?;
    let _ = args;
    unimplemented!("herald approve")
}
