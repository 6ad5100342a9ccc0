//! `herald verify`: recomputes the journal's hash chain and checks every letter against its last
//! event; exit 0 only if nothing was altered.

use std::path::Path;

use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::journal::{Journal, VerifyReport};

pub(crate) fn run(config_path: &Path, args: VerifyArgs) -> Result<()> {
    let VerifyArgs {} = args;
    let config = super::load_config(config_path)?;
    let path = config.journal_path();
    // Not creating a journal here: an empty new file would look like a verified history.
    let Some(journal) = Journal::open_existing(&path)? else {
        println!(
            "no journal at {} yet: nothing has been dispatched",
            path.display()
        );
        return Ok(());
    };
    match journal.verify()? {
        VerifyReport::Intact { events } => {
            println!("journal intact: {events} events");
            Ok(())
        }
        VerifyReport::Broken { event_id, reason } => {
            let message = if event_id > 0 {
                format!("journal altered: event #{event_id}: {reason}")
            } else {
                format!("journal altered: {reason}")
            };
            println!("{message}");
            Err(Error::Integrity(format!(
                "the journal at {} has been altered",
                path.display()
            )))
        }
    }
}
