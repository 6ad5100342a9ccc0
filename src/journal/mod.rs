//! The delivery journal: one SQLite file (`<data>/herald.db`) that proves who received what, when,
//! and with which server reply.
//!
//! Two tables matter: `letters` holds one row per (statement, organisation) with its current state,
//! and `events` is append-only, each event carrying the SHA-256 of the previous one so that
//! `herald verify` can detect any later change. A state change is committed before the next step
//! starts: the `sending` mark is durable before any message data leaves, so a crash can never
//! make herald forget it may have sent a letter.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::directory::OrgId;
use crate::statement::StatementId;

mod chain;
pub(crate) mod marks;
mod ops;
mod query;
mod schema;
mod writer;

// The delivery states the journal stores; they belong to delivery (`delivery::state`).
pub use crate::delivery::state::{AttemptResult, Claim, ClaimPolicy, RecipientOutcome, State};
pub(crate) use ops::Recovery;
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

/// One letter as history shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LetterRow {
    pub(crate) statement_id: String,
    pub(crate) organization: String,
    pub(crate) to: Vec<String>,
    pub(crate) cc: Vec<String>,
    pub(crate) status: State,
    pub(crate) attempts: u32,
    pub(crate) smtp_code: Option<u16>,
    pub(crate) smtp_reply: Option<String>,
    pub(crate) message_id: String,
    pub(crate) recipients: Vec<RecipientOutcome>,
    pub(crate) next_attempt_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// Filters of `herald history`.
#[derive(Debug, Clone, Default)]
pub(crate) struct HistoryFilter {
    pub(crate) statement: Option<String>,
    pub(crate) organization: Option<String>,
    pub(crate) status: Option<State>,
    pub(crate) since: Option<DateTime<Utc>>,
    pub(crate) until: Option<DateTime<Utc>>,
}

/// The result of recomputing the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum VerifyReport {
    Intact {
        events: u64,
        /// The last event; `None` for a journal without events.
        head: Option<Head>,
    },
    /// The first event whose stored hash or content does not match, and why.
    Broken { event_id: i64, reason: String },
    /// Intact, and the expected head's hash is in the chain, but as event `actual_id`'s, not
    /// `expected_id`'s as given: the number was noted or typed wrong; nothing was altered.
    HeadNumberMismatch {
        expected_id: i64,
        actual_id: i64,
        events: u64,
        head: Option<Head>,
    },
}

/// An event's place in the chain and its hash. The hash of the last event (the head) covers, through
/// the chain, every event before it: written down after a dispatch (or mailed away), it lets
/// `herald verify --expect-head` prove later that nothing up to it was removed or rewritten, which
/// the chain alone cannot prove about its own end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Head {
    pub(crate) id: i64,
    pub(crate) hash: String,
}

impl fmt::Display for Head {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}", self.id, self.hash)
    }
}

/// A head written down earlier, as `--expect-head` takes it: `HASH`, or `#ID:HASH` to also say
/// where it must be (`#ID HASH`, as herald prints it, is taken too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpectedHead {
    pub(crate) id: Option<i64>,
    /// 64 lowercase hex digits.
    pub(crate) hash: String,
}

impl FromStr for ExpectedHead {
    type Err = String;
    fn from_str(s: &str) -> Result<ExpectedHead, String> {
        let bad = |why: &str| {
            format!("`{s}` is not a journal head ({why}): expected #ID:HASH or HASH, as herald prints the head")
        };
        let trimmed = s.trim();
        let (id, hash) = match trimmed.split_once(|c: char| c == ':' || c.is_whitespace()) {
            Some((id, hash)) => {
                let digits = id.strip_prefix('#').unwrap_or(id);
                let id = digits
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("the event id is not a positive number"))?;
                (Some(id), hash.trim())
            }
            None => (None, trimmed),
        };
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("the hash is not 64 hex digits"));
        }
        Ok(ExpectedHead {
            id,
            hash: hash.to_ascii_lowercase(),
        })
    }
}

/// One statement as `herald status` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatementOverview {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) held: bool,
    pub(crate) registered_at: DateTime<Utc>,
    /// Letters per state; states with no letter are absent.
    pub(crate) counts: BTreeMap<State, u32>,
    /// The soonest retry of one of its deferred letters.
    pub(crate) next_retry: Option<DateTime<Utc>>,
}

/// What `herald status` shows: every statement, oldest first, and the next retry overall.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Overview {
    pub(crate) statements: Vec<StatementOverview>,
    pub(crate) next_retry: Option<DateTime<Utc>>,
}

/// A different statement (an earlier version: same title, or same date and file name) whose
/// letters some of the same organisations already received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AlreadyReceived {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) file_name: String,
    /// Those of the organisations asked about that have its letter `sent` or `partial`.
    pub(crate) organizations: Vec<String>,
    /// When the first of those letters was recorded sent.
    pub(crate) sent_at: DateTime<Utc>,
}

impl AlreadyReceived {
    /// The warning shown before the new statement goes out, e.g. ``42 of these organisations
    /// already received statement 2021-05-27-49d0abd7 «title» on 2026-11-27 10:02 UTC; …``.
    pub(crate) fn warning(&self) -> String {
        format!(
            "{} of these organisations already received statement {} «{}» on {}; this text \
             differs, so it is a new statement and they will receive it again",
            self.organizations.len(),
            self.id,
            self.title,
            self.sent_at.format("%Y-%m-%d %H:%M UTC"),
        )
    }
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
    /// ([`marks`] says how that is told, `boot` being the running boot's identity); then, if no
    /// letter is `sending` any more, the end-of-data marks are emptied.
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
        self.write(|ops| ops.recover_interrupted(now, alive, boot))
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

    /// Recomputes the chain and checks every letter and statement against it; with `expected` (a
    /// head written down earlier), also fails unless the chain holds it: proves that nothing up
    /// to it was cut off or rewritten.
    pub(crate) fn verify_expecting(
        &self,
        expected: Option<&ExpectedHead>,
    ) -> Result<VerifyReport, JournalError> {
        chain::verify(&self.conn, expected).map_err(|source| JournalError::Sqlite {
            path: self.path.clone(),
            source,
        })
    }

    /// Checks, before anything is sent, that the journal can be trusted to say what was sent
    /// already: SQLite's own check of every page and index (`PRAGMA integrity_check`: an index
    /// missing a row once made a letter look unregistered, so it was registered and sent
    /// again), then the hash chain and every letter and statement row against it (as `herald
    /// verify`). Any doubt is [`JournalError::Untrusted`].
    pub(crate) fn vouch(&self) -> Result<(), JournalError> {
        let untrusted = |reason: String| JournalError::Untrusted {
            path: self.path.clone(),
            reason,
        };
        // Anything but waiting for another process means the content is not what herald wrote
        // (a text that is not UTF-8, a value of the wrong type, a malformed page).
        let sql = |source: rusqlite::Error| {
            let busy = matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            );
            if busy {
                JournalError::Sqlite {
                    path: self.path.clone(),
                    source,
                }
            } else {
                untrusted(source.to_string())
            }
        };
        let problems: Vec<String> = {
            let mut check = self
                .conn
                .prepare("PRAGMA integrity_check(10)")
                .map_err(sql)?;
            let rows = check.query_map([], |r| r.get(0)).map_err(sql)?;
            rows.collect::<Result<_, _>>().map_err(sql)?
        };
        if problems.len() != 1 || problems[0] != "ok" {
            return Err(untrusted(format!(
                "SQLite finds it damaged: {}",
                problems.join("; ")
            )));
        }
        match chain::verify(&self.conn, None).map_err(sql)? {
            // No head is expected here, so no head number can mismatch.
            VerifyReport::Intact { .. } | VerifyReport::HeadNumberMismatch { .. } => Ok(()),
            VerifyReport::Broken { event_id, reason } => Err(untrusted(format!(
                "`herald verify` finds it altered at event #{event_id}: {reason}"
            ))),
        }
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

    /// The last event, to be written down after a dispatch; `None` before the first one.
    pub(crate) fn head(&self) -> Result<Option<Head>, JournalError> {
        chain::head(&self.conn).map_err(|source| JournalError::Sqlite {
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

    fn outcome(state: State, code: Option<u16>, reply: &str) -> AttemptResult {
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

    fn journal() -> (tempfile::TempDir, Journal) {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("var/herald.db")).unwrap();
        (dir, j)
    }

    fn state_of(j: &Journal, org: &str) -> State {
        let rows = j.letters_of(&statement().id).unwrap();
        rows.iter().find(|r| r.organization == org).unwrap().status
    }

    /// Brings a fresh letter into `state` through the public operations.
    fn drive_to(j: &mut Journal, org: &str, state: State) {
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

    fn rcpt(address: &str, accepted: bool, code: u16) -> RecipientOutcome {
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
    fn recover_interrupted_marks_sending_uncertain() {
        let (_dir, mut j) = journal();
        j.register(
            &statement(),
            &[planned("un"), planned("osce"), planned("coe")],
            t(0),
        )
        .unwrap();
        drive_to(&mut j, "un", State::Sending);
        drive_to(&mut j, "osce", State::Sent);
        drive_to(&mut j, "coe", State::Sending);
        let recovered = j
            .recover_interrupted(t(9), &|_| false, None)
            .unwrap()
            .uncertain;
        assert_eq!(recovered, vec![key("coe"), key("un")]);
        assert_eq!(state_of(&j, "un"), State::Uncertain);
        assert_eq!(state_of(&j, "osce"), State::Sent);
        let row = j
            .letters_of(&statement().id)
            .unwrap()
            .into_iter()
            .find(|r| r.organization == "un")
            .unwrap();
        assert!(row
            .smtp_reply
            .unwrap()
            .contains("stopped during this attempt"));
        assert_eq!(
            j.claim(&key("un"), ClaimPolicy::default(), t(10)).unwrap(),
            None
        );
        assert_eq!(
            j.recover_interrupted(t(11), &|_| false, None).unwrap(),
            Recovery::default()
        );
    }

    #[test]
    fn recovery_leaves_alone_what_a_live_process_is_sending() {
        let (_dir, mut j) = journal();
        j.register(&statement(), &[planned("un"), planned("osce")], t(0))
            .unwrap();
        j.set_owner(&marks::Claimant::new("live-process", None));
        drive_to(&mut j, "un", State::Sending);
        j.set_owner(&marks::Claimant::new("dead-process", None));
        drive_to(&mut j, "osce", State::Sending);
        let recovered = j
            .recover_interrupted(t(9), &|owner| owner == "live-process", None)
            .unwrap()
            .uncertain;
        assert_eq!(recovered, vec![key("osce")]);
        assert_eq!(state_of(&j, "un"), State::Sending);
        assert_eq!(state_of(&j, "osce"), State::Uncertain);
    }

    #[test]
    fn retries_history_and_overview() {
        let (_dir, mut j) = journal();
        j.register(
            &statement(),
            &[planned("un"), planned("osce"), planned("coe")],
            t(0),
        )
        .unwrap();
        for (org, minutes) in [("un", 50), ("osce", 20)] {
            j.claim(&key(org), ClaimPolicy::default(), t(1))
                .unwrap()
                .unwrap();
            let mut r = outcome(State::Deferred, Some(421), "421 try later");
            r.next_attempt_at = Some(t(minutes));
            j.record(&key(org), &r, t(2)).unwrap();
        }
        let due = j.due_retries(t(3)).unwrap();
        assert_eq!(due, vec![(key("osce"), t(20)), (key("un"), t(50))]);

        let ov = j.overview().unwrap();
        assert_eq!(ov.next_retry, Some(t(20)));
        assert_eq!(ov.statements.len(), 1);
        let counts: Vec<(State, u32)> = ov.statements[0]
            .counts
            .iter()
            .map(|(s, n)| (*s, *n))
            .collect();
        assert_eq!(counts, vec![(State::Pending, 1), (State::Deferred, 2)]);

        let deferred = HistoryFilter {
            status: Some(State::Deferred),
            ..Default::default()
        };
        assert_eq!(j.history(&deferred).unwrap().len(), 2);
        let early = HistoryFilter {
            until: Some(t(1)),
            ..Default::default()
        };
        let rows = j.history(&early).unwrap();
        assert_eq!(
            rows.iter()
                .map(|r| r.organization.as_str())
                .collect::<Vec<_>>(),
            vec!["coe"]
        );
        let late = HistoryFilter {
            since: Some(t(2)),
            organization: Some("un".into()),
            ..Default::default()
        };
        let rows = j.history(&late).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].next_attempt_at, Some(t(50)));
        assert_eq!(rows[0].smtp_code, Some(421));
        let other = HistoryFilter {
            statement: Some("2021-05-28-00000000".into()),
            ..Default::default()
        };
        assert!(j.history(&other).unwrap().is_empty());
    }

    /// A journal with a few letters through several states; returns the number of events.
    fn busy_journal(j: &mut Journal) -> u64 {
        let orgs = ["un", "osce", "coe", "icrc", "unesco"];
        let letters: Vec<PlannedLetter> = orgs.iter().map(|o| planned(o)).collect();
        j.register(&statement(), &letters, t(0)).unwrap();
        let mut events = orgs.len() as u64;
        for (i, org) in orgs.iter().enumerate() {
            j.claim(&key(org), ClaimPolicy::default(), t(1))
                .unwrap()
                .unwrap();
            let state = [
                State::Sent,
                State::Deferred,
                State::Failed,
                State::Partial,
                State::Sent,
            ][i];
            j.record(
                &key(org),
                &outcome(state, Some(250 + i as u16), &format!("reply {i}")),
                t(2),
            )
            .unwrap();
            events += 2;
        }
        events
    }

    fn tamper(j: &Journal, sql: &str) {
        j.conn
            .execute_batch(&format!(
                "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; {sql}"
            ))
            .unwrap();
    }

    #[test]
    fn chain_is_intact_after_many_operations() {
        let (_dir, mut j) = journal();
        let events = busy_journal(&mut j);
        assert_eq!(intact_events(&j), events);
    }

    #[test]
    fn events_cannot_be_edited_through_herald() {
        let (_dir, mut j) = journal();
        busy_journal(&mut j);
        for sql in [
            "UPDATE events SET smtp_reply = 'x' WHERE id = 3",
            "DELETE FROM events WHERE id = 3",
        ] {
            let err = j.conn.execute(sql, []).unwrap_err();
            assert!(err.to_string().contains("append-only"), "{err}");
        }
    }

    #[test]
    fn verify_finds_tampering() {
        // (what the tamperer does, the event verify must name, words of the reason)
        let cases: &[(&str, i64, &str)] = &[
            (
                "UPDATE events SET smtp_reply = '250 forged' WHERE id = 7",
                7,
                "content does not match",
            ),
            (
                "UPDATE events SET at = '2021-05-26T09:00:00.000000Z' WHERE id = 1",
                1,
                "content does not match",
            ),
            ("DELETE FROM events WHERE id = 4", 5, "removed"),
            ("DELETE FROM events WHERE id = 1", 2, "removed"),
            (
                "UPDATE letters SET smtp_reply = '250 forged' WHERE organization = 'osce'",
                9,
                "SMTP reply",
            ),
            (
                "UPDATE letters SET state = 'sent' WHERE organization = 'osce'",
                9,
                "state `sent`",
            ),
        ];
        for &(sql, event_id, words) in cases {
            let (_dir, mut j) = journal();
            busy_journal(&mut j);
            tamper(&j, sql);
            match j.verify().unwrap() {
                VerifyReport::Broken {
                    event_id: id,
                    reason,
                } => {
                    assert_eq!(id, event_id, "{sql}: {reason}");
                    assert!(reason.contains(words), "{sql}: {reason}");
                }
                intact => panic!("{sql}: not detected: {intact:?}"),
            }
        }
    }

    fn second_statement() -> StatementInfo {
        StatementInfo {
            id: StatementId::parse("2021-06-03-0a0b0c0d").unwrap(),
            title: "On cultural heritage in Kalbajar".into(),
            source: "inbox/heritage.txt".into(),
            held: false,
            file_name: "heritage.txt".into(),
            text: "On cultural heritage\n\nThis Statement is addressed to UNESCO.".into(),
        }
    }

    fn key_of(statement: &StatementInfo, org: &str) -> LetterKey {
        LetterKey {
            statement: statement.id.clone(),
            organization: OrgId::new(org).unwrap(),
        }
    }

    /// Two statements whose letters go through what real dispatches do: an address change on a
    /// letter deferred with some addresses accepted, a partial delivery across attempts, a failed
    /// letter re-sent by hand, a crash while sending, a later registration from another path
    /// that adds a letter.
    fn eventful_journal(j: &mut Journal) {
        let any = ClaimPolicy {
            include_failed: true,
            include_uncertain: true,
            respect_schedule: false,
        };
        let mut un = planned("un");
        un.to = vec!["a@un.example".into(), "b@un.example".into()];
        un.cc = vec!["cc@un.example".into()];
        j.register(
            &statement(),
            &[un.clone(), planned("osce"), planned("coe")],
            t(0),
        )
        .unwrap();

        j.claim(&key("un"), any, t(1)).unwrap().unwrap();
        let mut deferred = outcome(State::Deferred, Some(450), "450 busy");
        deferred.recipients = vec![
            rcpt("a@un.example", true, 250),
            rcpt("b@un.example", false, 450),
        ];
        deferred.next_attempt_at = Some(t(30));
        j.record(&key("un"), &deferred, t(2)).unwrap();
        // b@ is corrected to c@ in the directory; a@ keeps what it accepted.
        un.to = vec!["a@un.example".into(), "c@un.example".into()];
        j.register(&statement(), &[un, planned("osce"), planned("coe")], t(3))
            .unwrap();
        let claim = j.claim(&key("un"), any, t(31)).unwrap().unwrap();
        assert_eq!(claim.already_accepted(), ["a@un.example"]);
        let mut partial = outcome(State::Partial, Some(550), "550 no such user");
        partial.recipients = merge_recipients(&claim.earlier, &[rcpt("c@un.example", false, 550)]);
        j.record(&key("un"), &partial, t(32)).unwrap();

        j.claim(&key("osce"), any, t(1)).unwrap().unwrap();
        j.record(
            &key("osce"),
            &outcome(State::Failed, Some(550), "550 gone"),
            t(2),
        )
        .unwrap();
        j.claim(&key("osce"), any, t(4)).unwrap().unwrap();
        let mut sent = outcome(State::Sent, Some(250), "250 2.0.0 Ok: queued as 4F2K9");
        sent.recipients = vec![rcpt("office@osce.example", true, 250)];
        j.record(&key("osce"), &sent, t(5)).unwrap();

        j.claim(&key("coe"), any, t(1)).unwrap().unwrap();
        j.recover_interrupted(t(6), &|_| false, None).unwrap();
        j.claim(&key("coe"), any, t(7)).unwrap().unwrap();
        j.record(
            &key("coe"),
            &outcome(State::Sent, Some(250), "250 ok"),
            t(8),
        )
        .unwrap();

        let elsewhere = StatementInfo {
            source: "elsewhere/kalbajar.txt".into(),
            ..statement()
        };
        j.register(&elsewhere, &[planned("icrc")], t(9)).unwrap();

        let second = second_statement();
        j.register(&second, &[planned("unesco"), planned("un")], t(10))
            .unwrap();
        j.claim(&key_of(&second, "unesco"), any, t(11))
            .unwrap()
            .unwrap();
        j.record(
            &key_of(&second, "unesco"),
            &outcome(State::Sent, Some(250), "250 ok"),
            t(12),
        )
        .unwrap();
    }

    #[test]
    fn an_eventful_journal_is_intact() {
        let (_dir, mut j) = journal();
        eventful_journal(&mut j);
        let events: i64 = j
            .conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(intact_events(&j) as i64, events);
        let stored = j.statement(&statement().id).unwrap().unwrap();
        assert_eq!(
            stored.source,
            statement().source,
            "the first registration's source is kept"
        );
    }

    /// The event a forgery must be reported at, found by what it is rather than by number.
    fn event_where(j: &Journal, condition: &str) -> i64 {
        j.conn
            .query_row(
                &format!("SELECT max(id) FROM events WHERE {condition}"),
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    #[test]
    fn verify_finds_forged_letters_and_statements() {
        let first = statement().id;
        let second = second_statement().id;
        let created = |org: &str| format!("organization = '{org}' AND from_state IS NULL");
        // (what the forger does, the event verify must name (0: none), words of the reason)
        let cases: Vec<(String, String, Vec<String>)> = vec![
            (
                "UPDATE letters SET to_addresses = '[\"someone-else@evil.example\"]' \
                 WHERE organization = 'osce'"
                    .into(),
                created("osce"),
                vec!["`osce`".into(), "to `[\"someone-else@evil.example\"]`".into()],
            ),
            (
                // The address change event, not the creation, says where un's letter went.
                format!(
                    "UPDATE letters SET to_addresses = '[\"a@un.example\",\"b@un.example\"]' \
                     WHERE organization = 'un' AND statement_id = '{first}'"
                ),
                "organization = 'un' AND detail LIKE '%addresses_changed%'".into(),
                vec!["`un`".into(), "c@un.example".into()],
            ),
            (
                "UPDATE letters SET cc_addresses = '[]' WHERE organization = 'un' \
                 AND statement_id = '"
                    .to_string()
                    + first.as_str()
                    + "'",
                "organization = 'un' AND detail LIKE '%addresses_changed%'".into(),
                vec!["cc `[]`".into()],
            ),
            (
                "UPDATE letters SET message_id = '<x@y>' WHERE organization = 'coe'".into(),
                created("coe"),
                vec!["`coe`".into(), "Message-ID `<x@y>`".into()],
            ),
            (
                // The partial letter claims every address accepted it.
                format!(
                    "UPDATE letters SET recipients = replace(recipients, 'false', 'true') \
                     WHERE organization = 'un' AND statement_id = '{first}'"
                ),
                format!("organization = 'un' AND statement_id = '{first}'"),
                vec!["`un`".into(), "per-address outcomes".into()],
            ),
            (
                "UPDATE letters SET updated_at = '2021-05-20T09:00:00.000000Z' \
                 WHERE organization = 'osce'"
                    .into(),
                "organization = 'osce'".into(),
                vec!["update time".into()],
            ),
            (
                "UPDATE letters SET created_at = '2021-05-20T09:00:00.000000Z' \
                 WHERE organization = 'icrc'"
                    .into(),
                created("icrc"),
                vec!["creation time".into()],
            ),
            (
                format!(
                    "UPDATE statements SET text = replace(text, 'Kalbajar', 'Somewhere') \
                     WHERE id = '{first}'"
                ),
                format!("statement_id = '{first}' AND from_state IS NULL AND id = (SELECT min(id) FROM events)"),
                vec![format!("statement `{first}`"), "text was changed".into()],
            ),
            (
                format!("UPDATE statements SET title = 'Someone' WHERE id = '{second}'"),
                format!(
                    "id = (SELECT min(id) FROM events WHERE statement_id = '{second}')"
                ),
                vec![format!("statement `{second}`"), "title `Someone`".into()],
            ),
            (
                format!("UPDATE statements SET source = 'forged.txt' WHERE id = '{first}'"),
                "id = 1".into(),
                vec!["source `forged.txt`".into()],
            ),
            (
                format!(
                    "PRAGMA foreign_keys = OFF; DELETE FROM statements WHERE id = '{second}'"
                ),
                format!(
                    "id = (SELECT min(id) FROM events WHERE statement_id = '{second}')"
                ),
                vec![format!("statement `{second}` was removed")],
            ),
            (
                "INSERT INTO statements (id, title, source, registered_at) \
                 VALUES ('2021-06-04-00000000', 'Never sent', 'x.txt', '2021-06-04T09:00:00.000000Z')"
                    .into(),
                "0".into(),
                vec!["statement `2021-06-04-00000000` has no event".into()],
            ),
            (
                format!(
                    "PRAGMA foreign_keys = OFF; DELETE FROM letters WHERE statement_id = '{second}' \
                     AND organization = 'un'"
                ),
                format!("statement_id = '{second}' AND organization = 'un'"),
                vec![format!("letter `{second}` / `un` was removed")],
            ),
        ];
        for (sql, event, words) in cases {
            let (_dir, mut j) = journal();
            eventful_journal(&mut j);
            let event_id = if event == "0" {
                0
            } else {
                event_where(&j, &event)
            };
            tamper(&j, &sql);
            match j.verify().unwrap() {
                VerifyReport::Broken {
                    event_id: id,
                    reason,
                } => {
                    assert_eq!(id, event_id, "{sql}: {reason}");
                    for w in &words {
                        assert!(reason.contains(w.as_str()), "{sql}: `{w}` not in: {reason}");
                    }
                }
                intact => panic!("{sql}: not detected: {intact:?}"),
            }
        }
    }

    #[test]
    fn an_expected_head_proves_nothing_was_cut_off_the_end() {
        let (_dir, mut j) = journal();
        eventful_journal(&mut j);
        let after_first = {
            let id = event_where(&j, &format!("statement_id = '{}'", statement().id));
            let hash: String = j
                .conn
                .query_row("SELECT hash FROM events WHERE id = ?1", [id], |r| r.get(0))
                .unwrap();
            Head { id, hash }
        };
        let head = j.head().unwrap().unwrap();
        let expect = |h: &Head, with_id: bool| ExpectedHead {
            id: with_id.then_some(h.id),
            hash: h.hash.clone(),
        };
        for (h, with_id) in [(&head, true), (&head, false), (&after_first, true)] {
            let report = j.verify_expecting(Some(&expect(h, with_id))).unwrap();
            assert!(
                matches!(report, VerifyReport::Intact { .. }),
                "{h}: {report:?}"
            );
        }
        // Right hash, wrong number: event ids are part of what the head proves, but a chain
        // that holds the hash under another number was not altered; the number is wrong.
        let moved = ExpectedHead {
            id: Some(head.id - 1),
            hash: head.hash.clone(),
        };
        match j.verify_expecting(Some(&moved)).unwrap() {
            VerifyReport::HeadNumberMismatch {
                expected_id,
                actual_id,
                ..
            } => assert_eq!((expected_id, actual_id), (head.id - 1, head.id)),
            other => panic!("{other:?}"),
        }
        // A hash the chain does not hold, at a number it does: rewritten up to that event.
        let rewritten = ExpectedHead {
            id: Some(head.id - 1),
            hash: "0f".repeat(32),
        };
        match j.verify_expecting(Some(&rewritten)).unwrap() {
            VerifyReport::Broken { event_id, reason } => {
                assert_eq!(event_id, head.id - 1);
                assert!(reason.contains("not the expected head"), "{reason}");
            }
            other => panic!("{other:?}"),
        }

        // The second statement is removed whole: its events (the end of the chain), its letters
        // and its row. The chain alone cannot tell.
        let second = second_statement().id;
        tamper(
            &j,
            &format!(
                "DELETE FROM events WHERE statement_id = '{second}'; \
                 DELETE FROM letters WHERE statement_id = '{second}'; \
                 DELETE FROM statements WHERE id = '{second}';"
            ),
        );
        assert!(matches!(j.verify().unwrap(), VerifyReport::Intact { .. }));
        let report = j
            .verify_expecting(Some(&expect(&after_first, true)))
            .unwrap();
        assert!(matches!(report, VerifyReport::Intact { .. }), "{report:?}");
        for with_id in [true, false] {
            match j.verify_expecting(Some(&expect(&head, with_id))).unwrap() {
                VerifyReport::Broken { reason, .. } => {
                    assert!(reason.contains(&head.hash), "{reason}");
                    assert!(
                        reason.contains(&format!("the chain ends at event #{}", after_first.id)),
                        "{reason}"
                    );
                }
                intact => panic!("truncation not detected: {intact:?}"),
            }
        }
    }

    #[test]
    fn expected_heads_parse_as_printed() {
        let hash = "3f9a".repeat(16);
        let upper = hash.to_ascii_uppercase();
        // (text, the id and hash it names; `None`: refused)
        type Case<'a> = (String, Option<(Option<i64>, &'a str)>);
        let cases: Vec<Case> = vec![
            (hash.clone(), Some((None, &hash))),
            (format!("#264:{hash}"), Some((Some(264), &hash))),
            (format!("264:{hash}"), Some((Some(264), &hash))),
            (format!("#264 {hash}"), Some((Some(264), &hash))),
            (format!(" #264:{upper} "), Some((Some(264), &hash))),
            (format!("#0:{hash}"), None),
            (format!("#x:{hash}"), None),
            (format!("#264:{}", &hash[1..]), None),
            (format!("#264:{}g", &hash[1..]), None),
            (String::new(), None),
        ];
        for (text, expected) in cases {
            let parsed = text.parse::<ExpectedHead>();
            match expected {
                Some((id, h)) => assert_eq!(
                    parsed,
                    Ok(ExpectedHead {
                        id,
                        hash: h.to_string()
                    }),
                    "{text}"
                ),
                None => {
                    let err = parsed.unwrap_err();
                    assert!(err.contains(&format!("`{text}`")), "{err}");
                }
            }
        }
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

    #[test]
    fn earlier_versions_already_received_are_found_by_title_or_by_date_and_file_name() {
        let (_dir, mut j) = journal();
        j.register(
            &statement(),
            &[
                planned("un"),
                planned("coe"),
                planned("ipb"),
                planned("osce"),
            ],
            t(0),
        )
        .unwrap();
        drive_to(&mut j, "un", State::Sent);
        drive_to(&mut j, "coe", State::Partial);
        drive_to(&mut j, "ipb", State::Failed);
        let asked = ["un", "coe", "ipb", "osce", "unesco"];
        // (id, title, file name, organisations expected to have it already)
        let rows: [(&str, &str, &str, &[&str]); 6] = [
            // A corrected text: new id, same title and file.
            (
                "2021-05-27-99999999",
                "On the Kalbajar district",
                "kalbajar.txt",
                &["coe", "un"],
            ),
            // Title reworded, same date and file name.
            (
                "2021-05-27-99999999",
                "On Kalbajar",
                "kalbajar.txt",
                &["coe", "un"],
            ),
            // Same title on another day and file.
            (
                "2021-06-01-99999999",
                "On the Kalbajar district",
                "other.txt",
                &["coe", "un"],
            ),
            // Same file name on another day, other title: another statement.
            ("2021-06-01-99999999", "On Lachin", "kalbajar.txt", &[]),
            // Same date, other file and title.
            ("2021-05-27-99999999", "On Lachin", "lachin.txt", &[]),
            // The statement itself is never its own earlier version.
            (
                "2021-05-27-1a2b3c4d",
                "On the Kalbajar district",
                "kalbajar.txt",
                &[],
            ),
        ];
        for (id, title, file, expected) in rows {
            let found = j
                .already_received(&StatementId::parse(id).unwrap(), title, file, &asked)
                .unwrap();
            let orgs: Vec<&str> = found
                .iter()
                .flat_map(|e| e.organizations.iter().map(String::as_str))
                .collect();
            assert_eq!(orgs, expected, "{id} {title} {file}");
            if let Some(earlier) = found.first() {
                assert_eq!(found.len(), 1);
                assert_eq!(earlier.id, "2021-05-27-1a2b3c4d");
                assert_eq!(earlier.sent_at, t(2));
                assert!(earlier.warning().starts_with(
                    "2 of these organisations already received statement 2021-05-27-1a2b3c4d \
                     «On the Kalbajar district» on 2021-05-27 09:02 UTC"
                ));
            }
        }
        // Only the organisations asked about count.
        let found = j
            .already_received(
                &StatementId::parse("2021-05-27-99999999").unwrap(),
                "On the Kalbajar district",
                "kalbajar.txt",
                &["coe", "unesco"],
            )
            .unwrap();
        assert_eq!(found[0].organizations, ["coe"]);
    }
}
