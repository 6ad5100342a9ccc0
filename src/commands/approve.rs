//! `herald approve STATEMENT-ID`: releases a statement the daemon holds for approval; the daemon
//! sends its letters at its next look at the journal.

use std::path::Path;

use super::output::{outln, shown};
use crate::cli::ApproveArgs;
use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::statement::StatementId;

pub(crate) fn run(config_path: &Path, args: ApproveArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    let given = args.statement_id.trim();
    let id = StatementId::parse(given).ok_or_else(|| {
        Error::Usage(format!(
            "`{given}` is not a statement id (expected `YYYY-MM-DD-xxxxxxxx` or \
             `undated-xxxxxxxx`, as `herald status` shows)"
        ))
    })?;
    let path = config.journal_path();
    let Some(mut journal) = Journal::open_existing_for_writing(&path)? else {
        return Err(Error::Usage(format!(
            "no statement `{id}`: there is no journal yet at {}",
            path.display()
        )));
    };
    let Some(info) = journal.statement(&id)? else {
        return Err(Error::Usage(format!(
            "no statement `{id}` in the journal {} (`herald status` lists the statements)",
            path.display()
        )));
    };
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
