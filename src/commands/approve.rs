//! `herald approve STATEMENT-ID`: releases a statement the daemon holds for approval; the daemon
//! sends its letters at its next look at the journal.

use std::path::Path;

use super::output::{outln, shown};
use crate::cli::ApproveArgs;
use crate::error::Result;

pub(crate) fn run(config_path: &Path, args: ApproveArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    let (mut journal, id, info) = super::statement_to_change(&config, &args.statement_id)?;
    if !info.held {
        outln!("{id} is not held: it was already approved, or never needed approval");
        return Ok(());
    }
    journal.set_held(&id, false)?;
    outln!(
        "{id} approved ({}); the daemon sends its letters within {} s",
        shown(&info.title),
        config.daemon.poll.as_secs()
    );
    Ok(())
}
