//! `herald verify`.

use std::path::Path;

use crate::cli::VerifyArgs;
use crate::error::Result;

pub(crate) fn run(config_path: &Path, args: VerifyArgs) -> Result<()> {
    let _config = super::load_config(config_path)?;
    let _ = args;
    unimplemented!("herald verify")
}
