//! The delivery journal: one SQLite file (`<data>/herald.db`) that proves who received what, when,
//! and with which server reply.
//!
//! Two tables matter: `letters` holds one row per (statement, organisation) with its current state,
//! and `events` is append-only, each event carrying the SHA-256 of the previous one so that
//! `herald verify` can detect any later change. A state change is committed before the next step
//! starts: the `sending` mark is durable before any message data leaves, so a crash can never
//! make herald forget it may have sent a letter.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::directory::OrgId;
use crate::statement::StatementId;

mod chain;
mod integrity;
pub(crate) mod marks;
mod ops;
mod query;
mod recovery;
mod schema;
mod writer;

// The delivery states the journal stores; they belong to delivery (`delivery::state`).
pub use crate::delivery::state::{AttemptResult, Claim, ClaimPolicy, RecipientOutcome, State};
pub(crate) use integrity::{ExpectedHead, Head, VerifyReport};
pub(crate) use query::{AlreadyReceived, HistoryFilter, LetterRow, Overview, StatementOverview};
pub(crate) use recovery::Recovery;
pub use writer::{Settled, Writer, WriterStats};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{}: journal: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{}: {message}", path.display())]
    Other { path: PathBuf, message: String },
    /// Not run because a step before it in the same batch failed; the letter is left as it was.
    #[error("not done: the journal step before it failed")]
    NotDone,
    /// The task running a journal step stopped before answering (a bug).
    #[error("journal task stopped: {0}")]
    TaskStopped(std::sync::Arc<tokio::task::JoinError>),
    /// The journal is damaged or altered: nothing may be sent on it (exit 2).
    #[error(
        "{}: herald cannot vouch for this journal ({reason}), so nothing was sent. Restore it \
         from a backup: stop every herald process using it, keep this file aside for \
         inspection, copy the backup to {} and delete `{}-wal` and `{}-shm` beside it, then run \
         `herald verify`",
        path.display(), path.display(), path.display(), path.display()
    )]
    Untrusted { path: PathBuf, reason: String },
}

impl JournalError {
    /// A damaged file as a refusal to send on it.
    pub(crate) fn untrusted(self) -> JournalError {
        match self {
            JournalError::Sqlite { path, source } if is_corrupt(&source) => {
                JournalError::Untrusted {
                    path,
                    reason: source.to_string(),
                }
            }
            other => other,
        }
    }
}

/// Whether SQLite found the file damaged (not a database, malformed pages).
fn is_corrupt(source: &rusqlite::Error) -> bool {
    matches!(
        source.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    )
}

/// Identifies one letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LetterKey {
    pub statement: StatementId,
    pub organization: OrgId,
}

/// What a statement's registration records about it.
#[derive(Debug, Clone)]
pub struct StatementInfo {
    pub id: StatementId,
    pub title: String,
    /// The statement file as it was given (path or file name).
    pub source: String,
    /// Held for `herald approve` (daemon with `require_approval`).
    pub held: bool,
    /// The statement file's name and its original text, kept so that the exact text sent can be
    /// shown later and deferred letters can be retried after the file has moved on.
    pub file_name: String,
    pub text: String,
}

/// A letter as planned before any attempt.
#[derive(Debug, Clone)]
pub struct PlannedLetter {
    pub organization: OrgId,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub message_id: String,
}

/// A synchronous journal handle (one SQLite connection).
pub(crate) struct Journal {
    path: PathBuf,
    conn: rusqlite::Connection,
    /// The running process's token (see `crate::lock`), written into every claim so that a
    /// later process can tell a letter being sent by a live process from one left behind.
    owner: Option<String>,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`.
    pub(crate) fn open(path: &Path) -> Result<Journal, JournalError> {
        let conn = schema::open(path)?;
        Ok(Journal {
            path: path.to_path_buf(),
            conn,
            owner: None,
        })
    }

    /// Opens the journal read-only, if there is one: readers (`history`, `verify`, `status`,
    /// the notes of `check` and `resolve`) never create, upgrade or write it. `None` when there is
    /// no journal yet.
    pub(crate) fn open_existing(path: &Path) -> Result<Option<Journal>, JournalError> {
        Ok(schema::open_read_only(path)?.map(|conn| Journal {
            path: path.to_path_buf(),
            conn,
            owner: None,
        }))
    }

    /// Opens the journal for writing only if there is one (`herald approve`): a command that
    /// changes a statement must not create an empty journal to find it missing.
    pub(crate) fn open_existing_for_writing(path: &Path) -> Result<Option<Journal>, JournalError> {
        if schema::open_read_only(path)?.is_none() {
            return Ok(None);
        }
        Journal::open(path).map(Some)
    }

    /// Runs `op` inside one IMMEDIATE transaction: the write lock is taken before anything is
    /// read, so a check-then-write cannot race another process.
    fn write<T>(
        &mut self,
        op: impl FnOnce(&ops::Ops<'_>) -> Result<T, JournalError>,
    ) -> Result<T, JournalError> {
        let path = &self.path;
        let sql = |source| JournalError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sql)?;
        let value = op(&ops::Ops {
            conn: &tx,
            path,
            owner: self.owner.as_deref(),
            head: &ops::ChainHead::default(),
        })?;
        tx.commit().map_err(sql)?;
        Ok(value)
    }

    fn read(&self) -> query::Queries<'_> {
        query::Queries {
            conn: &self.conn,
            path: &self.path,
        }
    }

    /// Letters left `sending` by a process that died become `uncertain` if they may have reached
    /// a server, or go back to the state they had before the claim if they cannot have
    /// ([`marks`] says how that is told, `boot` being the running boot's identity); then, once
    /// that is committed, the end-of-data marks are emptied if no letter is `sending` any more.
    ///
    /// `alive` answers whether the process that claimed a letter (its lock token) still runs: a
    /// letter another live process is sending right now is left alone. Letters claimed without
    /// an owner are taken as left behind.
    pub(crate) fn recover_interrupted(
        &mut self,
        now: DateTime<Utc>,
        alive: &dyn Fn(&str) -> bool,
        boot: Option<&str>,
    ) -> Result<Recovery, JournalError> {
        let recovery = self.write(|ops| ops.recover_interrupted(now, alive, boot))?;
        // In a transaction of its own, after the verdicts: emptied inside theirs, the marks were
        // gone before the verdicts were kept, and a process killed in between left its letters
        // `sending` unmarked, to be given back and sent again though they had reached a server.
        // Housekeeping only: a file that cannot be emptied stops nothing here (the claims that
        // would append to it will say so).
        if let Err(e) = self.prune_marks() {
            tracing::warn!("{e}");
        }
        Ok(recovery)
    }

    /// Empties the end-of-data marks if no letter is `sending`; `true` if it did.
    pub(crate) fn prune_marks(&mut self) -> Result<bool, JournalError> {
        self.write(|ops| ops.prune_marks())
    }

    /// Marks every later claim through this handle as made by `owner` (its `claimed_by`).
    pub(crate) fn set_owner(&mut self, owner: &marks::Claimant) {
        self.owner = Some(owner.text());
    }

    /// Withdraws the statement's letters never offered to a server (`pending` and `deferred`):
    /// each becomes `cancelled`, with an event naming `by` (who asked). Returns them.
    pub(crate) fn cancel(
        &mut self,
        statement: &StatementId,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<LetterKey>, JournalError> {
        self.write(|ops| ops.cancel(statement, by, now))
    }

    /// Holds or releases a statement; `false` if the statement is unknown.
    pub(crate) fn set_held(
        &mut self,
        statement: &StatementId,
        held: bool,
    ) -> Result<bool, JournalError> {
        self.write(|ops| ops.set_held(statement, held))
    }

    pub(crate) fn statement(
        &self,
        id: &StatementId,
    ) -> Result<Option<StatementInfo>, JournalError> {
        self.read().statement(id)
    }

    /// Every deferred letter with the time it may be retried, soonest first (a letter deferred
    /// without a time is due at `now`).
    pub(crate) fn due_retries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(LetterKey, DateTime<Utc>)>, JournalError> {
        self.read().due_retries(now)
    }

    pub(crate) fn overview(&self) -> Result<Overview, JournalError> {
        self.read().overview()
    }

    /// Other statements with the same title, or the same date and file name, already `sent`
    /// (or `partial`) to any of `organizations`: earlier versions of a corrected statement.
    pub(crate) fn already_received(
        &self,
        statement: &StatementId,
        title: &str,
        file_name: &str,
        organizations: &[&str],
    ) -> Result<Vec<AlreadyReceived>, JournalError> {
        self.read()
            .already_received(statement, title, file_name, organizations)
    }

    pub(crate) fn letters_of(
        &self,
        statement: &StatementId,
    ) -> Result<Vec<LetterRow>, JournalError> {
        self.read().letters_of(statement)
    }

    /// Letters matching `filter`, least recently updated first.
    pub(crate) fn history(&self, filter: &HistoryFilter) -> Result<Vec<LetterRow>, JournalError> {
        self.read().history(filter)
    }

    /// Copies the write-ahead log into the journal file, so that after a run the file alone
    /// holds everything (a `-wal` file deleted or left behind by a copy loses nothing). Passive:
    /// it never waits for another herald process, and copies what their reads allow; the rest
    /// goes at the next checkpoint.
    pub(crate) fn checkpoint(&self) -> Result<(), JournalError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(|source| JournalError::Sqlite {
                path: self.path.clone(),
                source,
            })
    }
}

/// Rebuilds a key from stored text; ids herald did not write are reported, not trusted.
fn letter_key(path: &Path, statement: &str, organization: &str) -> Result<LetterKey, JournalError> {
    let bad = |what: &str, value: &str| JournalError::Other {
        path: path.to_path_buf(),
        message: format!("`{value}` in the journal is not a valid {what} id"),
    };
    Ok(LetterKey {
        statement: StatementId::parse(statement).ok_or_else(|| bad("statement", statement))?,
        organization: OrgId::new(organization).ok_or_else(|| bad("organisation", organization))?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;
    use crate::delivery::state::merge_recipients;
    use chrono::{Duration, TimeZone};

    /// The writer's steps, one transaction each, on a synchronous handle: what the tests drive.
    impl Journal {
        pub(crate) fn register(
            &mut self,
            statement: &StatementInfo,
            letters: &[PlannedLetter],
            now: DateTime<Utc>,
        ) -> Result<(), JournalError> {
            self.write(|ops| ops.register(statement, letters, now))
        }

        pub(crate) fn claim(
            &mut self,
            key: &LetterKey,
            policy: ClaimPolicy,
            now: DateTime<Utc>,
        ) -> Result<Option<Claim>, JournalError> {
            self.write(|ops| ops.claim(key, policy, now))
        }

        pub(crate) fn record(
            &mut self,
            key: &LetterKey,
            result: &AttemptResult,
            now: DateTime<Utc>,
        ) -> Result<(), JournalError> {
            self.write(|ops| ops.record(key, result, now))
        }

        pub(crate) fn verify(&self) -> Result<VerifyReport, JournalError> {
            self.verify_expecting(None)
        }
    }

    pub(super) fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 5, 27, 9, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    pub(super) fn statement() -> StatementInfo {
        StatementInfo {
            id: StatementId::parse("2021-05-27-1a2b3c4d").unwrap(),
            title: "On the Kalbajar district".into(),
            source: "inbox/kalbajar.txt".into(),
            held: false,
            file_name: "kalbajar.txt".into(),
            text: "On the Kalbajar district\n\nThis Statement is addressed to the UN.".into(),
        }
    }

    pub(super) fn planned(org: &str) -> PlannedLetter {
        PlannedLetter {
            organization: OrgId::new(org).unwrap(),
            to: vec![format!("office@{org}.example")],
            cc: vec![],
            message_id: format!("<2021-05-27-1a2b3c4d.{org}@ombudsman.example>"),
        }
    }

    pub(super) fn key(org: &str) -> LetterKey {
        LetterKey {
            statement: statement().id,
            organization: OrgId::new(org).unwrap(),
        }
    }

    pub(super) fn outcome(state: State, code: Option<u16>, reply: &str) -> AttemptResult {
        AttemptResult {
            state,
            smtp_code: code,
            reply: reply.into(),
            recipients: vec![],
            next_attempt_at: None,
        }
    }

    /// The number of events of a journal that must verify intact, its head being its last event.
    pub(super) fn intact_events(j: &Journal) -> u64 {
        match j.verify().unwrap() {
            VerifyReport::Intact { events, head } => {
                assert_eq!(head, j.head().unwrap(), "the head is the last event");
                assert_eq!(head.map_or(0, |h| h.id), events as i64);
                events
            }
            broken => panic!("not intact: {broken:?}"),
        }
    }

    pub(super) fn journal() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("var/herald.db")).unwrap();
        (dir, j)
    }

    pub(super) fn state_of(j: &Journal, org: &str) -> State {
        let rows = j.letters_of(&statement().id).unwrap();
        rows.iter().find(|r| r.organization == org).unwrap().status
    }

    /// Brings a fresh letter into `state` through the public operations.
    pub(super) fn drive_to(j: &mut Journal, org: &str, state: State) {
        let all = ClaimPolicy::default();
        if state == State::Pending {
            return;
        }
        j.claim(&key(org), all, t(1)).unwrap().unwrap();
        if state == State::Sending {
            return;
        }
        let mut result = outcome(state, Some(250), "reply");
        if state == State::Deferred {
            result.next_attempt_at = Some(t(30));
        }
        j.record(&key(org), &result, t(2)).unwrap();
    }

    #[test]
    fn claims_follow_the_state_machine() {
        let none = ClaimPolicy::default();
        let failed = ClaimPolicy {
            include_failed: true,
            ..none
        };
        let uncertain = ClaimPolicy {
            include_uncertain: true,
            ..none
        };
        let daemon = ClaimPolicy {
            respect_schedule: true,
            ..none
        };
        let cases: &[(State, ClaimPolicy, i64, bool)] = &[
            (State::Pending, none, 3, true),
            (
                State::Sending,
                ClaimPolicy {
                    include_failed: true,
                    include_uncertain: true,
                    ..none
                },
                3,
                false,
            ),
            (State::Sent, failed, 3, false),
            (State::Partial, uncertain, 3, false),
            (State::Deferred, none, 3, true),
            (State::Deferred, daemon, 3, false),
            (State::Deferred, daemon, 30, true),
            (State::Failed, none, 3, false),
            (State::Failed, failed, 3, true),
            (State::Uncertain, failed, 3, false),
            (State::Uncertain, uncertain, 3, true),
        ];
        for (i, &(state, policy, at, allowed)) in cases.iter().enumerate() {
            let (_dir, mut j) = journal();
            j.register(&statement(), &[planned("un")], t(0)).unwrap();
            drive_to(&mut j, "un", state);
            let claim = j.claim(&key("un"), policy, t(at)).unwrap();
            assert_eq!(claim.is_some(), allowed, "case {i}: {state} {policy:?}");
            let expected = if allowed { State::Sending } else { state };
            assert_eq!(state_of(&j, "un"), expected, "case {i}");
            assert!(
                matches!(j.verify().unwrap(), VerifyReport::Intact { .. }),
                "case {i}"
            );
        }
    }

    #[test]
    fn attempts_and_consecutive_failures() {
        let (_dir, mut j) = journal();
        j.register(&statement(), &[planned("un")], t(0)).unwrap();
        let any = ClaimPolicy {
            include_failed: true,
            include_uncertain: true,
            respect_schedule: false,
        };
        let claim = |j: &mut Journal| j.claim(&key("un"), any, t(5)).unwrap().unwrap();
        assert_eq!(
            claim(&mut j),
            Claim {
                attempt: 1,
                consecutive: 1,
                earlier: Vec::new(),
            }
        );
        j.record(
            &key("un"),
            &outcome(State::Deferred, Some(421), "421 busy"),
            t(5),
        )
        .unwrap();
        assert_eq!(
            claim(&mut j),
            Claim {
                attempt: 2,
                consecutive: 2,
                earlier: Vec::new(),
            }
        );
        j.record(
            &key("un"),
            &outcome(State::Deferred, Some(451), "451 later"),
            t(5),
        )
        .unwrap();
        assert_eq!(
            claim(&mut j),
            Claim {
                attempt: 3,
                consecutive: 3,
                earlier: Vec::new(),
            }
        );
        j.record(
            &key("un"),
            &outcome(State::Failed, Some(550), "550 no such user"),
            t(5),
        )
        .unwrap();
        assert_eq!(
            claim(&mut j),
            Claim {
                attempt: 4,
                consecutive: 1,
                earlier: Vec::new(),
            }
        );
        j.record(&key("un"), &outcome(State::Sent, Some(250), "250 ok"), t(5))
            .unwrap();
        assert_eq!(j.claim(&key("un"), any, t(6)).unwrap(), None);
        let row = &j.letters_of(&statement().id).unwrap()[0];
        assert_eq!(
            (row.attempts, row.smtp_code, row.smtp_reply.as_deref()),
            (4, Some(250), Some("250 ok"))
        );
    }

    pub(super) fn rcpt(address: &str, accepted: bool, code: u16) -> RecipientOutcome {
        RecipientOutcome {
            address: address.into(),
            accepted,
            code: Some(code),
            reply: format!("{code} for {address}"),
        }
    }

    #[test]
    fn merged_recipients_keep_each_addresss_latest_outcome() {
        let a_ok = rcpt("a", true, 250);
        let b_busy = rcpt("b", false, 450);
        let b_ok = rcpt("b", true, 250);
        let c_gone = rcpt("c", false, 550);
        // (earlier, latest, merged)
        let rows: Vec<(
            Vec<&RecipientOutcome>,
            Vec<&RecipientOutcome>,
            Vec<&RecipientOutcome>,
        )> = vec![
            (vec![], vec![&a_ok, &b_busy], vec![&a_ok, &b_busy]),
            (vec![&a_ok, &b_busy], vec![], vec![&a_ok, &b_busy]),
            (vec![&a_ok, &b_busy], vec![&b_ok], vec![&a_ok, &b_ok]),
            (
                vec![&b_busy, &a_ok],
                vec![&b_ok, &c_gone],
                vec![&b_ok, &a_ok, &c_gone],
            ),
        ];
        for (earlier, latest, merged) in rows {
            let earlier: Vec<RecipientOutcome> = earlier.into_iter().cloned().collect();
            let latest: Vec<RecipientOutcome> = latest.into_iter().cloned().collect();
            let merged: Vec<RecipientOutcome> = merged.into_iter().cloned().collect();
            assert_eq!(
                merge_recipients(&earlier, &latest),
                merged,
                "{earlier:?} + {latest:?}"
            );
        }
        let claim = Claim {
            attempt: 2,
            consecutive: 2,
            earlier: vec![a_ok.clone(), b_busy.clone(), c_gone.clone()],
        };
        assert_eq!(claim.already_accepted(), ["a"]);
        assert_eq!(claim.permanently_refused(), ["c"]);
        let owed: Vec<&str> = ["a", "b", "c", "d"]
            .into_iter()
            .filter(|a| claim.still_owed(a))
            .collect();
        assert_eq!(owed, ["b", "d"]);
    }

    #[test]
    fn a_deferred_letter_keeps_its_per_address_history_and_a_failed_one_starts_afresh() {
        let (_dir, mut j) = journal();
        j.register(&statement(), &[planned("un")], t(0)).unwrap();
        let any = ClaimPolicy {
            include_failed: true,
            include_uncertain: true,
            respect_schedule: false,
        };
        let first = j.claim(&key("un"), any, t(1)).unwrap().unwrap();
        assert!(first.earlier.is_empty());
        let history = vec![rcpt("a", true, 250), rcpt("b", false, 450)];
        let mut deferred = outcome(State::Deferred, Some(450), "450 busy");
        deferred.recipients = history.clone();
        j.record(&key("un"), &deferred, t(2)).unwrap();

        let second = j.claim(&key("un"), any, t(3)).unwrap().unwrap();
        assert_eq!(second.earlier, history, "read back inside the claim");
        let rows = j.letters_of(&statement().id).unwrap();
        assert_eq!(rows[0].recipients, history, "kept while sending");

        // The process dies while sending: recovery keeps what earlier attempts settled.
        j.recover_interrupted(t(4), &|_| false, None).unwrap();
        assert_eq!(state_of(&j, "un"), State::Uncertain);
        assert_eq!(
            j.letters_of(&statement().id).unwrap()[0].recipients,
            history
        );
        let third = j.claim(&key("un"), any, t(5)).unwrap().unwrap();
        assert_eq!(third.earlier, history, "an uncertain letter goes on too");

        let mut failed = outcome(State::Failed, Some(550), "550 gone");
        failed.recipients = vec![rcpt("a", true, 250), rcpt("b", false, 550)];
        j.record(&key("un"), &failed, t(6)).unwrap();
        let fresh = j.claim(&key("un"), any, t(7)).unwrap().unwrap();
        assert!(fresh.earlier.is_empty(), "{fresh:?}");
        assert!(j.letters_of(&statement().id).unwrap()[0]
            .recipients
            .is_empty());
        assert!(matches!(j.verify().unwrap(), VerifyReport::Intact { .. }));
    }

    #[test]
    fn record_requires_sending() {
        let (_dir, mut j) = journal();
        j.register(&statement(), &[planned("un")], t(0)).unwrap();
        let err = j
            .record(&key("un"), &outcome(State::Sent, Some(250), "ok"), t(1))
            .unwrap_err();
        assert!(
            err.to_string().contains("is `pending`, not `sending`"),
            "{err}"
        );
        let err = j
            .claim(&key("nobody"), ClaimPolicy::default(), t(1))
            .unwrap_err();
        assert!(
            err.to_string().contains("`nobody` is not in the journal"),
            "{err}"
        );
        assert_eq!(state_of(&j, "un"), State::Pending);
    }

    #[test]
    fn register_is_idempotent_and_updates_unsent_addresses() {
        let (_dir, mut j) = journal();
        let held = StatementInfo {
            held: true,
            ..statement()
        };
        j.register(&held, &[planned("un"), planned("osce")], t(0))
            .unwrap();
        j.register(&statement(), &[planned("un"), planned("osce")], t(1))
            .unwrap();
        assert!(
            j.statement(&statement().id).unwrap().unwrap().held,
            "held kept from first insert"
        );
        let kept = j.statement(&statement().id).unwrap().unwrap();
        assert_eq!(
            (kept.file_name.as_str(), kept.text.as_str()),
            (statement().file_name.as_str(), statement().text.as_str()),
            "the statement's text is kept for retries and audit"
        );
        assert_eq!(intact_events(&j), 2);

        drive_to(&mut j, "osce", State::Sent);
        let mut moved = planned("un");
        moved.to = vec!["new@un.example".into()];
        let mut moved_sent = planned("osce");
        moved_sent.to = vec!["new@osce.example".into()];
        j.register(&statement(), &[moved, moved_sent], t(3))
            .unwrap();
        let rows = j.letters_of(&statement().id).unwrap();
        let to = |org: &str| {
            rows.iter()
                .find(|r| r.organization == org)
                .unwrap()
                .to
                .clone()
        };
        assert_eq!(to("un"), vec!["new@un.example".to_string()]);
        assert_eq!(
            to("osce"),
            vec!["office@osce.example".to_string()],
            "a sent letter keeps its addresses"
        );
        // creation ×2, claim, record, address change
        assert_eq!(intact_events(&j), 5);

        assert!(j.set_held(&statement().id, false).unwrap());
        assert!(!j.statement(&statement().id).unwrap().unwrap().held);
        let unknown = StatementId::parse("2021-05-28-00000000").unwrap();
        assert!(!j.set_held(&unknown, true).unwrap());
        assert!(j.statement(&unknown).unwrap().is_none());
    }

    #[test]
    fn two_connections_claim_a_letter_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.db");
        let mut j = Journal::open(&path).unwrap();
        let orgs: Vec<String> = (0..40).map(|i| format!("org-{i}")).collect();
        let letters: Vec<PlannedLetter> = orgs.iter().map(|o| planned(o)).collect();
        j.register(&statement(), &letters, t(0)).unwrap();
        let barrier = std::sync::Barrier::new(2);
        let claims: Vec<usize> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        let mut own = Journal::open(&path).unwrap();
                        barrier.wait();
                        orgs.iter()
                            .filter(|o| {
                                own.claim(&key(o), ClaimPolicy::default(), t(1))
                                    .unwrap()
                                    .is_some()
                            })
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(claims.iter().sum::<usize>(), orgs.len(), "{claims:?}");
        assert_eq!(intact_events(&j), 80);
    }
}
