//! `herald resolve`.

use std::path::Path;

use crate::cli::ResolveArgs;
use crate::error::Result;

pub(crate) fn run(config_path: &Path, args: ResolveArgs) -> Result<()> {
    let _config = super::load_config(config_path)?;
    let _ = args;
    unimplemented!("herald resolve")
}
