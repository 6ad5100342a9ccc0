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
use serde::{Deserialize, Serialize};

use crate::directory::OrgId;
use crate::statement::StatementId;

mod chain;
mod ops;
mod query;
mod schema;
mod writer;

pub use writer::{Writer, WriterStats};

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
}

/// A letter's delivery state (DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Pending,
    Sending,
    Sent,
    /// Accepted for some of the organisation's addresses and refused for others.
    Partial,
    Deferred,
    Failed,
    Uncertain,
}

impl State {
    pub const ALL: [State; 7] = [
        State::Pending,
        State::Sending,
        State::Sent,
        State::Partial,
        State::Deferred,
        State::Failed,
        State::Uncertain,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sending => "sending",
            State::Sent => "sent",
            State::Partial => "partial",
            State::Deferred => "deferred",
            State::Failed => "failed",
            State::Uncertain => "uncertain",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<State, String> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "`{s}` is not a delivery state (one of {})",
                    State::ALL.map(State::as_str).join(", ")
                )
            })
    }
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

/// Which letters a claim may take.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimPolicy {
    /// Also take `failed` letters (a manual dispatch: the address may have been corrected).
    pub include_failed: bool,
    /// Also take `uncertain` letters (`--resend-uncertain` only).
    pub include_uncertain: bool,
    /// Take a `deferred` letter only once its next-attempt time has come (the daemon).
    pub respect_schedule: bool,
}

/// A successful claim: the letter is now `sending`, durably.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// Total attempts including this one.
    pub attempt: u32,
    /// Consecutive transient failures before this attempt, plus one.
    pub consecutive: u32,
}

/// Per-address outcome at RCPT (or at the end of data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientOutcome {
    pub address: String,
    pub accepted: bool,
    pub code: Option<u16>,
    pub reply: String,
}

/// The recorded outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    /// One of Sent, Partial, Deferred, Failed, Uncertain.
    pub state: State,
    pub smtp_code: Option<u16>,
    /// The server's full reply (`250 2.0.0 Ok: queued as 4F2K9`), or what went wrong.
    pub reply: String,
    pub recipients: Vec<RecipientOutcome>,
    /// When a deferred letter may be tried again.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// One letter as history shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LetterRow {
    pub statement_id: String,
    pub organization: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub status: State,
    pub attempts: u32,
    pub smtp_code: Option<u16>,
    pub smtp_reply: Option<String>,
    pub message_id: String,
    pub recipients: Vec<RecipientOutcome>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Filters of `herald history`.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    pub statement: Option<String>,
    pub organization: Option<String>,
    pub status: Option<State>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// The result of recomputing the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyReport {
    Intact {
        events: u64,
    },
    /// The first event whose stored hash or content does not match, and why.
    Broken {
        event_id: i64,
        reason: String,
    },
}

/// One statement as `herald status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StatementOverview {
    pub id: String,
    pub title: String,
    pub held: bool,
    pub registered_at: DateTime<Utc>,
    /// Letters per state; states with no letter are absent.
    pub counts: BTreeMap<State, u32>,
    /// The soonest retry of one of its deferred letters.
    pub next_retry: Option<DateTime<Utc>>,
}

/// What `herald status` shows: every statement, oldest first, and the next retry overall.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub statements: Vec<StatementOverview>,
    pub next_retry: Option<DateTime<Utc>>,
}

/// A synchronous journal handle (one SQLite connection).
pub struct Journal {
    path: PathBuf,
    conn: rusqlite::Connection,
    /// The running process's token (see `crate::lock`), written into every claim so that a
    /// later process can tell a letter being sent by a live process from one left behind.
    owner: Option<String>,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let conn = schema::open(path)?;
        Ok(Journal {
            path: path.to_path_buf(),
            conn,
            owner: None,
        })
    }

    /// Opens the journal only if the file exists: readers (`history`, `verify`, `status`) must
    /// not create one as a side effect.
    pub fn open_existing(path: &Path) -> Result<Option<Journal>, JournalError> {
        if !path.exists() {
            return Ok(None);
        }
        Journal::open(path).map(Some)
    }

    pub fn path(&self) -> &Path {
        &self.path
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

    /// Records the statement and its letters as `pending`, once: letters already known keep their
    /// state; a letter not yet sent gets its addresses updated (they may have been corrected).
    /// `held` is taken from `statement` only when the statement is new.
    pub fn register(
        &mut self,
        statement: &StatementInfo,
        letters: &[PlannedLetter],
        now: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        self.write(|ops| ops.register(statement, letters, now))
    }

    /// Atomically moves the letter to `sending` if `policy` allows it from its current state.
    pub fn claim(
        &mut self,
        key: &LetterKey,
        policy: ClaimPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, JournalError> {
        self.write(|ops| ops.claim(key, policy, now))
    }

    /// Records the outcome of an attempt on a letter that is `sending`.
    pub fn record(
        &mut self,
        key: &LetterKey,
        result: &AttemptResult,
        now: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        self.write(|ops| ops.record(key, result, now))
    }

    /// Letters left `sending` by a process that died become `uncertain`; returns them.
    ///
    /// `alive` answers whether the process that claimed a letter (its owner token) still runs: a
    /// letter another live process is sending right now is left alone. Letters claimed without
    /// an owner are taken as left behind.
    pub fn recover_interrupted(
        &mut self,
        now: DateTime<Utc>,
        alive: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<LetterKey>, JournalError> {
        self.write(|ops| ops.recover_interrupted(now, alive))
    }

    /// Marks every later claim through this handle as made by `owner`.
    pub fn set_owner(&mut self, owner: &str) {
        self.owner = Some(owner.to_string());
    }

    /// Holds or releases a statement; `false` if the statement is unknown.
    pub fn set_held(&mut self, statement: &StatementId, held: bool) -> Result<bool, JournalError> {
        self.write(|ops| ops.set_held(statement, held))
    }

    pub fn statement(&self, id: &StatementId) -> Result<Option<StatementInfo>, JournalError> {
        self.read().statement(id)
    }

    /// Every deferred letter with the time it may be retried, soonest first (a letter deferred
    /// without a time is due at `now`).
    pub fn due_retries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(LetterKey, DateTime<Utc>)>, JournalError> {
        self.read().due_retries(now)
    }

    pub fn overview(&self) -> Result<Overview, JournalError> {
        self.read().overview()
    }

    pub fn letters_of(&self, statement: &StatementId) -> Result<Vec<LetterRow>, JournalError> {
        self.read().letters_of(statement)
    }

    /// Letters matching `filter`, least recently updated first.
    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<LetterRow>, JournalError> {
        self.read().history(filter)
    }

    pub fn verify(&self) -> Result<VerifyReport, JournalError> {
        chain::verify(&self.conn).map_err(|source| JournalError::Sqlite {
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
    use chrono::{Duration, TimeZone};

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
                consecutive: 1
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
                consecutive: 2
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
                consecutive: 3
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
                consecutive: 1
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
        assert_eq!(j.verify().unwrap(), VerifyReport::Intact { events: 2 });

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
        assert_eq!(j.verify().unwrap(), VerifyReport::Intact { events: 5 });

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
        let recovered = j.recover_interrupted(t(9), &|_| false).unwrap();
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
        assert!(j.recover_interrupted(t(11), &|_| false).unwrap().is_empty());
    }

    #[test]
    fn recovery_leaves_alone_what_a_live_process_is_sending() {
        let (_dir, mut j) = journal();
        j.register(&statement(), &[planned("un"), planned("osce")], t(0))
            .unwrap();
        j.set_owner("live-process");
        drive_to(&mut j, "un", State::Sending);
        j.set_owner("dead-process");
        drive_to(&mut j, "osce", State::Sending);
        let recovered = j
            .recover_interrupted(t(9), &|owner| owner == "live-process")
            .unwrap();
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
        assert_eq!(j.verify().unwrap(), VerifyReport::Intact { events });
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
        assert_eq!(j.verify().unwrap(), VerifyReport::Intact { events: 80 });
    }
}
