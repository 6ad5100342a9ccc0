//! The delivery journal: one SQLite file (`<data>/herald.db`) that proves who received what, when,
//! and with which server reply.
//!
//! Two tables matter: `letters` holds one row per (statement, organisation) with its current state,
//! and `events` is append-only, each event carrying the SHA-256 of the previous one so that
//! `herald verify` can detect any later change. A state change is committed before the next step
//! starts: the `sending` mark is durable before any message data leaves, so a crash can never
//! make herald forget it may have sent a letter.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::directory::OrgId;
use crate::statement::StatementId;

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// A synchronous journal handle (one SQLite connection).
pub struct Journal {
    path: PathBuf,
    conn: rusqlite::Connection,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path`.
    pub fn open(path: &Path) -> Result<Journal, JournalError> {
        let _ = path;
        unimplemented!("journal")
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the statement and its letters as `pending`, once: letters already known keep their
    /// state; a letter not yet sent gets its addresses updated (they may have been corrected).
    pub fn register(
        &mut self,
        statement: &StatementInfo,
        letters: &[PlannedLetter],
        now: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        let _ = (statement, letters, now, &self.conn);
        unimplemented!("journal")
    }

    /// Atomically moves the letter to `sending` if `policy` allows it from its current state.
    pub fn claim(
        &mut self,
        key: &LetterKey,
        policy: ClaimPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, JournalError> {
        let _ = (key, policy, now);
        unimplemented!("journal")
    }

    /// Records the outcome of an attempt on a letter that is `sending`.
    pub fn record(
        &mut self,
        key: &LetterKey,
        result: &AttemptResult,
        now: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        let _ = (key, result, now);
        unimplemented!("journal")
    }

    /// Letters left `sending` by a process that died become `uncertain`; returns them.
    pub fn recover_interrupted(
        &mut self,
        now: DateTime<Utc>,
    ) -> Result<Vec<LetterKey>, JournalError> {
        let _ = now;
        unimplemented!("journal")
    }

    pub fn letters_of(&self, statement: &StatementId) -> Result<Vec<LetterRow>, JournalError> {
        let _ = statement;
        unimplemented!("journal")
    }

    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<LetterRow>, JournalError> {
        let _ = filter;
        unimplemented!("journal")
    }

    pub fn verify(&self) -> Result<VerifyReport, JournalError> {
        unimplemented!("journal")
    }
}
