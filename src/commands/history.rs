//! `herald history`.

use std::path::Path;

use crate::cli::HistoryArgs;
use crate::error::Result;

pub(crate) fn run(config_path: &Path, args: HistoryArgs) -> Result<()> {
    let _config = super::load_config(config_path)?;
    let _ = args;
    unimplemented!("herald history")
}
