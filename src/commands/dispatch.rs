//! `herald dispatch`.

use std::path::Path;

use crate::cli::DispatchArgs;
use crate::error::Result;

pub(crate) fn run(config_path: &Path, args: DispatchArgs) -> Result<()> {
    let _config = super::load_config(config_path)?;
    let _ = args;
    unimplemented!("herald dispatch")
}
