//! `herald verify`: recomputes the journal's hash chain, checks every letter and statement against
//! its events, prints the head and, with `--expect-head`, checks that the chain still holds a head
//! noted earlier; exit 0 only if nothing was altered.

use std::path::Path;

use super::output::outln;
use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::journal::{Journal, VerifyReport};

pub(crate) fn run(config_path: &Path, args: VerifyArgs) -> Result<()> {
    let VerifyArgs { expect_head } = args;
    let config = super::load_config(config_path)?;
    let path = config.journal_path();
    // Not creating a journal here: an empty new file would look like a verified history.
    let Some(journal) = Journal::open_existing(&path)? else {
        if let Some(head) = expect_head {
            outln!(
                "journal altered: no journal at {}, but head `{}` was expected",
                path.display(),
                head.hash
            );
            return Err(Error::Integrity(format!(
                "the journal at {} has been removed",
                path.display()
            )));
        }
        outln!(
            "no journal at {} yet: nothing has been dispatched",
            path.display()
        );
        return Ok(());
    };
    match journal.verify_expecting(expect_head.as_ref())? {
        VerifyReport::Intact { events, head } => {
            match head {
                Some(head) => outln!("journal intact: {events} events; head {head}"),
                None => outln!("journal intact: {events} events"),
            }
            if expect_head.is_some() {
                outln!("the expected head is in the chain: nothing before it was altered");
            }
            Ok(())
        }
        VerifyReport::HeadNumberMismatch {
            expected_id,
            actual_id,
            events,
            head,
        } => {
            match head {
                Some(head) => outln!("journal intact: {events} events; head {head}"),
                None => outln!("journal intact: {events} events"),
            }
            let hash = expect_head.as_ref().map_or("", |h| h.hash.as_str());
            outln!(
                "the head number does not match: hash `{hash}` is the hash of event \
                 #{actual_id}, not of event #{expected_id}; the journal holds that head and is \
                 intact up to it — check the number noted (it should read `#{actual_id}:{hash}`)"
            );
            Err(Error::Usage(format!(
                "--expect-head: the head number #{expected_id} does not match (the hash is event \
                 #{actual_id}'s)"
            )))
        }
        VerifyReport::Broken { event_id, reason } => {
            let message = if event_id > 0 {
                format!("journal altered: event #{event_id}: {reason}")
            } else {
                format!("journal altered: {reason}")
            };
            outln!("{message}");
            Err(Error::Integrity(format!(
                "the journal at {} has been altered",
                path.display()
            )))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;
    use crate::directory::OrgId;
    use crate::journal::{PlannedLetter, StatementInfo};
    use crate::statement::StatementId;

    #[test]
    fn verify_passes_fails_and_never_creates_a_journal() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config/herald.toml");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(
            &config,
            "[sender]\nname = \"Ombudsman\"\nemail = \"statements@ombudsman.example\"\n",
        )
        .unwrap();
        let db = dir.path().join("var/herald.db");

        assert!(run(&config, VerifyArgs { expect_head: None }).is_ok());
        assert!(!db.exists(), "verify must not create a journal");
        // A head noted earlier proves a journal existed: its absence is an alteration.
        let noted = VerifyArgs {
            expect_head: Some(format!("#1:{}", "0f".repeat(32)).parse().unwrap()),
        };
        let err = run(&config, noted).unwrap_err();
        assert!(matches!(err, Error::Integrity(_)), "{err:?}");
        assert!(!db.exists(), "verify must not create a journal");

        let mut journal = Journal::open(&db).unwrap();
        let statement = StatementInfo {
            id: StatementId::parse("2021-05-27-1a2b3c4d").unwrap(),
            title: "t".into(),
            source: "s".into(),
            held: false,
            file_name: "s.txt".into(),
            text: "t".into(),
        };
        let letter = PlannedLetter {
            organization: OrgId::new("un").unwrap(),
            to: vec!["sg@un.example".into()],
            cc: vec![],
            message_id: "<m@ombudsman.example>".into(),
        };
        journal
            .register(&statement, &[letter], chrono::Utc::now())
            .unwrap();
        assert!(run(&config, VerifyArgs { expect_head: None }).is_ok());

        let raw = rusqlite::Connection::open(&db).unwrap();
        raw.execute_batch(
            "DROP TRIGGER events_no_update; UPDATE events SET detail = '{}' WHERE id = 1;",
        )
        .unwrap();
        let err = run(&config, VerifyArgs { expect_head: None }).unwrap_err();
        assert!(matches!(err, Error::Integrity(_)), "{err:?}");
        assert_eq!(err.code(), 1);
    }
}
