//! The journal's state changes, each run inside a transaction the caller owns: a single
//! [`Journal`](super::Journal) call opens its own, the [`Writer`](super::Writer) runs many in one.
//!
//! Every change to a `letters` row appends its event in the same transaction, so the row and the
//! chain can never disagree after a crash.
//!
//! The judgement of letters a dead process left `sending` is in `recovery`.

use std::cell::RefCell;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::chain::{Addresses, CreationDetail, EventFields, StatementDigest, GENESIS};
use super::schema::timestamp;
use super::{
    AttemptResult, Claim, ClaimPolicy, JournalError, LetterKey, PlannedLetter, RecipientOutcome,
    State, StatementInfo,
};

/// Why a released letter went back: it was claimed ahead and never offered to the server.
pub(crate) const RELEASED_NOTE: &str =
    "claimed ahead but not offered to the server before herald stopped; given back as it was";

/// May a letter in `state` be claimed under `policy` at `now`?
pub(crate) fn claimable(
    state: State,
    policy: ClaimPolicy,
    next_attempt_at: Option<&str>,
    now: &str,
) -> bool {
    // Timestamps are stored in one fixed-width UTC form, so they compare as text.
    policy.may_claim(state, || next_attempt_at.is_none_or(|t| t <= now))
}

/// One event to append.
struct NewEvent<'a> {
    at: &'a str,
    key: &'a LetterKey,
    from_state: Option<State>,
    to_state: State,
    attempt: u32,
    smtp_code: Option<u16>,
    smtp_reply: Option<&'a str>,
    detail: String,
}

/// The current row of a letter, as the state machine needs it.
pub(super) struct Current {
    state: State,
    attempts: u32,
    consecutive_failures: u32,
    smtp_code: Option<u16>,
    smtp_reply: Option<String>,
    next_attempt_at: Option<String>,
    to: String,
    cc: String,
    message_id: String,
    /// Each address's outcome so far (the `recipients` JSON).
    pub(super) recipients: Vec<RecipientOutcome>,
}

pub(crate) struct Ops<'a> {
    pub(crate) conn: &'a Connection,
    pub(crate) path: &'a Path,
    /// Written into `claimed_by` on every claim.
    pub(crate) owner: Option<&'a str>,
    /// The last event of the chain, as far as this transaction knows it.
    pub(crate) head: &'a ChainHead,
}

/// The id and hash of the chain's last event, remembered for one write transaction so that
/// appending an event need not read it back: a batch of letters appends two events each.
///
/// Valid only while the transaction that filled it holds the write lock (no other connection
/// can append meanwhile); a caller that rolls back any part of its transaction must
/// [`forget`](ChainHead::forget) it.
#[derive(Debug, Default)]
pub(crate) struct ChainHead(RefCell<Option<(i64, String)>>);

impl ChainHead {
    /// Drops what is remembered: the next append reads the head from the table.
    pub(crate) fn forget(&self) {
        self.0.replace(None);
    }
}

impl Ops<'_> {
    pub(super) fn sql(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite {
            path: self.path.to_path_buf(),
            source,
        }
    }

    pub(super) fn other(&self, message: String) -> JournalError {
        JournalError::Other {
            path: self.path.to_path_buf(),
            message,
        }
    }

    /// Runs a statement through the connection's statement cache: the same few statements run
    /// for every letter, and parsing them again each time was a third of the journal's time.
    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }

    /// [`Ops::exec`] for a query of one row.
    pub(super) fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.conn.prepare_cached(sql)?.query_row(params, f)
    }

    fn append_event(&self, e: &NewEvent<'_>) -> Result<i64, JournalError> {
        let remembered = self.head.0.borrow_mut().take();
        let last: Option<(i64, String)> = match remembered {
            Some(head) => Some(head),
            None => self
                .row(
                    "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(|e| self.sql(e))?,
        };
        let (id, prev_hash) = match last {
            Some((id, hash)) => (id + 1, hash),
            None => (1, GENESIS.to_string()),
        };
        let fields = EventFields {
            prev_hash: &prev_hash,
            id,
            at: e.at,
            statement_id: e.key.statement.as_str(),
            organization: e.key.organization.as_str(),
            from_state: e.from_state.map(State::as_str),
            to_state: e.to_state.as_str(),
            attempt: i64::from(e.attempt),
            smtp_code: e.smtp_code.map(i64::from),
            smtp_reply: e.smtp_reply,
            detail: &e.detail,
        };
        let hash = fields.hash();
        self.exec(
            "INSERT INTO events (id, at, statement_id, organization, from_state, to_state, \
                 attempt, smtp_code, smtp_reply, detail, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                id,
                fields.at,
                fields.statement_id,
                fields.organization,
                fields.from_state,
                fields.to_state,
                fields.attempt,
                fields.smtp_code,
                fields.smtp_reply,
                fields.detail,
                prev_hash,
                hash
            ],
        )
        .map_err(|e| self.sql(e))?;
        self.head.0.replace(Some((id, hash)));
        Ok(id)
    }

    pub(super) fn current(&self, key: &LetterKey) -> Result<Option<Current>, JournalError> {
        let row = self
            .row(
                "SELECT state, attempts, consecutive_failures, smtp_code, smtp_reply, \
                 next_attempt_at, to_addresses, cc_addresses, message_id, recipients \
                 FROM letters WHERE statement_id = ?1 AND organization = ?2",
                params![key.statement.as_str(), key.organization.as_str()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, u32>(1)?,
                        r.get::<_, u32>(2)?,
                        r.get::<_, Option<u16>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                        r.get::<_, String>(9)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        let Some((state, attempts, cf, code, reply, next, to, cc, message_id, recipients)) = row
        else {
            return Ok(None);
        };
        let state = state.parse::<State>().map_err(|m| {
            self.other(format!(
                "letter `{}` / `{}`: {m}",
                key.statement, key.organization
            ))
        })?;
        let recipients = serde_json::from_str(&recipients).map_err(|e| {
            self.other(format!(
                "letter `{}` / `{}`: its recipients `{recipients}` are not valid: {e}",
                key.statement, key.organization
            ))
        })?;
        Ok(Some(Current {
            state,
            attempts,
            consecutive_failures: cf,
            smtp_code: code,
            smtp_reply: reply,
            next_attempt_at: next,
            to,
            cc,
            message_id,
            recipients,
        }))
    }

    pub(crate) fn register(
        &self,
        statement: &StatementInfo,
        letters: &[PlannedLetter],
        now: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        // Every statement row must be vouched for by a letter's creation event; one without
        // letters would have none (planning refuses such a statement before this).
        if letters.is_empty() {
            return Ok(());
        }
        let at = timestamp(now);
        // A statement new to the journal has no letters yet (each letter row refers to its
        // statement's), so there is nothing to look up for each of them.
        let new_statement = self
            .exec(
                "INSERT INTO statements (id, title, source, held, registered_at, file_name, text) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (id) DO NOTHING",
                params![
                    statement.id.as_str(),
                    statement.title,
                    statement.source,
                    statement.held,
                    at,
                    statement.file_name,
                    statement.text
                ],
            )
            .map_err(|e| self.sql(e))?
            == 1;
        // What the row holds, which is what an earlier registration wrote if there was one: every
        // creation event of the statement records the same, and verify compares the row with it.
        let digest = self
            .row(
                "SELECT title, source, file_name, registered_at, text FROM statements \
                 WHERE id = ?1",
                params![statement.id.as_str()],
                |r| {
                    Ok(StatementDigest::of(
                        &r.get::<_, String>(0)?,
                        &r.get::<_, String>(1)?,
                        &r.get::<_, String>(2)?,
                        &r.get::<_, String>(3)?,
                        &r.get::<_, String>(4)?,
                    ))
                },
            )
            .map_err(|e| self.sql(e))?;
        for letter in letters {
            let key = LetterKey {
                statement: statement.id.clone(),
                organization: letter.organization.clone(),
            };
            let to = json(&letter.to);
            let cc = json(&letter.cc);
            let addresses = Addresses {
                to: letter.to.clone(),
                cc: letter.cc.clone(),
                message_id: letter.message_id.clone(),
            };
            let existing = if new_statement {
                None
            } else {
                self.current(&key)?
            };
            match existing {
                None => {
                    self.exec(
                        "INSERT INTO letters (statement_id, organization, to_addresses, \
                             cc_addresses, message_id, state, created_at, updated_at) \
                             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
                        params![
                            key.statement.as_str(),
                            key.organization.as_str(),
                            to,
                            cc,
                            letter.message_id,
                            at
                        ],
                    )
                    .map_err(|e| self.sql(e))?;
                    self.append_event(&NewEvent {
                        at: &at,
                        key: &key,
                        from_state: None,
                        to_state: State::Pending,
                        attempt: 0,
                        smtp_code: None,
                        smtp_reply: None,
                        detail: json(&CreationDetail {
                            addresses: &addresses,
                            statement: &digest,
                        }),
                    })?;
                }
                Some(cur)
                    if matches!(cur.state, State::Pending | State::Deferred | State::Failed)
                        && (cur.to != to
                            || cur.cc != cc
                            || cur.message_id != letter.message_id) =>
                {
                    self.exec(
                        "UPDATE letters SET to_addresses = ?3, cc_addresses = ?4, \
                             message_id = ?5, updated_at = ?6 \
                             WHERE statement_id = ?1 AND organization = ?2",
                        params![
                            key.statement.as_str(),
                            key.organization.as_str(),
                            to,
                            cc,
                            letter.message_id,
                            at
                        ],
                    )
                    .map_err(|e| self.sql(e))?;
                    // The state does not change; the event keeps the letter's last reply so the
                    // row still matches its last event.
                    self.append_event(&NewEvent {
                        at: &at,
                        key: &key,
                        from_state: Some(cur.state),
                        to_state: cur.state,
                        attempt: cur.attempts,
                        smtp_code: cur.smtp_code,
                        smtp_reply: cur.smtp_reply.as_deref(),
                        detail: serde_json::json!({ "addresses_changed": addresses }).to_string(),
                    })?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    pub(crate) fn claim(
        &self,
        key: &LetterKey,
        policy: ClaimPolicy,
        now: DateTime<Utc>,
    ) -> Result<Option<Claim>, JournalError> {
        let at = timestamp(now);
        let Some(cur) = self.current(key)? else {
            return Err(self.other(format!(
                "letter `{}` / `{}` is not in the journal",
                key.statement, key.organization
            )));
        };
        if !claimable(cur.state, policy, cur.next_attempt_at.as_deref(), &at) {
            return Ok(None);
        }
        // Consecutive transient failures only count towards giving up while the letter keeps
        // being deferred; a manual re-send of a failed or uncertain letter starts afresh.
        let previous = if cur.state == State::Deferred {
            cur.consecutive_failures
        } else {
            0
        };
        // A deferred letter goes on where it stopped: the addresses that accepted it (or refused
        // it for good) are kept, so the retry skips them. An uncertain one too: the addresses that
        // accepted it in an earlier attempt certainly have it. A failed letter re-sent by hand
        // starts afresh, to every address (one may have been corrected since).
        let earlier = if matches!(cur.state, State::Deferred | State::Uncertain) {
            cur.recipients
        } else {
            Vec::new()
        };
        let attempt = cur.attempts + 1;
        self.exec(
            "UPDATE letters SET state = 'sending', attempts = ?3, consecutive_failures = ?4, \
                 smtp_code = NULL, smtp_reply = NULL, recipients = ?7, next_attempt_at = NULL, \
                 updated_at = ?5, claimed_by = ?6 WHERE statement_id = ?1 AND organization = ?2",
            params![
                key.statement.as_str(),
                key.organization.as_str(),
                attempt,
                previous,
                at,
                self.owner,
                json(&earlier)
            ],
        )
        .map_err(|e| self.sql(e))?;
        let claim = Claim {
            attempt,
            consecutive: previous + 1,
            earlier,
        };
        let (accepted, refused) = (claim.already_accepted(), claim.permanently_refused());
        // `recipients` is what the row now holds, so verify can compare them.
        let detail = if accepted.is_empty() && refused.is_empty() {
            serde_json::json!({ "recipients": claim.earlier })
        } else {
            serde_json::json!({
                "already_accepted": accepted,
                "permanently_refused": refused,
                "recipients": claim.earlier,
            })
        }
        .to_string();
        self.append_event(&NewEvent {
            at: &at,
            key,
            from_state: Some(cur.state),
            to_state: State::Sending,
            attempt,
            smtp_code: None,
            smtp_reply: None,
            detail,
        })?;
        Ok(Some(claim))
    }

    pub(crate) fn record(
        &self,
        key: &LetterKey,
        result: &AttemptResult,
        now: DateTime<Utc>,
    ) -> Result<(), JournalError> {
        self.record_as(key, result, now, None)
    }

    /// [`Ops::record`], with the recovery rule that decided the outcome in the event's detail.
    pub(super) fn record_as(
        &self,
        key: &LetterKey,
        result: &AttemptResult,
        now: DateTime<Utc>,
        recovery: Option<&str>,
    ) -> Result<(), JournalError> {
        let at = timestamp(now);
        if matches!(result.state, State::Pending | State::Sending) {
            return Err(self.other(format!(
                "letter `{}` / `{}`: `{}` is not the outcome of an attempt",
                key.statement, key.organization, result.state
            )));
        }
        let next = result.next_attempt_at.map(timestamp);
        let recipients = json(&result.recipients);
        // One statement checks that the letter is `sending`, updates it and returns its attempt
        // number; consecutive transient failures count on only while the letter is deferred.
        let attempt: Option<u32> = self
            .row(
                "UPDATE letters SET state = ?3, consecutive_failures = \
                     CASE WHEN ?3 = 'deferred' THEN consecutive_failures + 1 ELSE 0 END, \
                     smtp_code = ?4, smtp_reply = ?5, recipients = ?6, next_attempt_at = ?7, \
                     updated_at = ?8 \
                 WHERE statement_id = ?1 AND organization = ?2 AND state = 'sending' \
                 RETURNING attempts",
                params![
                    key.statement.as_str(),
                    key.organization.as_str(),
                    result.state.as_str(),
                    result.smtp_code,
                    result.reply,
                    recipients,
                    next,
                    at
                ],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.sql(e))?;
        let Some(attempt) = attempt else {
            // Nothing was updated: say why.
            return Err(self.other(match self.current(key)? {
                Some(cur) => format!(
                    "letter `{}` / `{}` is `{}`, not `sending`: its outcome cannot be recorded",
                    key.statement, key.organization, cur.state
                ),
                None => format!(
                    "letter `{}` / `{}` is not in the journal",
                    key.statement, key.organization
                ),
            }));
        };
        let mut detail = serde_json::json!({
            "recipients": result.recipients,
            "next_attempt_at": next,
        });
        if let Some(rule) = recovery {
            detail["recovery"] = rule.into();
        }
        self.append_event(&NewEvent {
            at: &at,
            key,
            from_state: Some(State::Sending),
            to_state: result.state,
            attempt,
            smtp_code: result.smtp_code,
            smtp_reply: Some(&result.reply),
            detail: detail.to_string(),
        })?;
        Ok(())
    }

    /// Gives back a letter claimed but never handed to the transport (the run is stopping): it
    /// returns to the state, attempt count, reply, per-address outcomes and next-attempt time it
    /// had before the claim, as the events before the claim say, with an event of its own.
    pub(crate) fn release(&self, key: &LetterKey, now: DateTime<Utc>) -> Result<(), JournalError> {
        self.give_back(key, now, None)
    }

    /// [`Ops::release`]; with `recovery`, for a letter a dead process left `sending` without
    /// reaching its end of data: the rule goes into the event's detail and, as the reply, into
    /// the row (so `history` shows why the letter is back), in place of the reply it had.
    pub(super) fn give_back(
        &self,
        key: &LetterKey,
        now: DateTime<Utc>,
        recovery: Option<&str>,
    ) -> Result<(), JournalError> {
        let at = timestamp(now);
        let letter = format!("letter `{}` / `{}`", key.statement, key.organization);
        match self.current(key)? {
            Some(cur) if cur.state == State::Sending => {}
            Some(cur) => {
                return Err(self.other(format!(
                    "{letter} is `{}`, not `sending`: it cannot be released",
                    cur.state
                )))
            }
            None => return Err(self.other(format!("{letter} is not in the journal"))),
        }
        type EventRow = (
            Option<String>,
            String,
            u32,
            Option<u16>,
            Option<String>,
            String,
        );
        let events: Vec<EventRow> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT from_state, to_state, attempt, smtp_code, smtp_reply, detail FROM events \
                     WHERE statement_id = ?1 AND organization = ?2 ORDER BY id DESC",
                )
                .map_err(|e| self.sql(e))?;
            let rows = stmt
                .query_map(
                    params![key.statement.as_str(), key.organization.as_str()],
                    |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ))
                    },
                )
                .map_err(|e| self.sql(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))?
        };
        // The claim is the letter's last event; the one before it holds the code and reply the
        // row had, and the latest event that set them holds the per-address outcomes.
        let (Some(claim), Some(before)) = (events.first(), events.get(1)) else {
            return Err(self.other(format!("{letter} has no claim to release")));
        };
        let Some(from) = claim
            .0
            .as_deref()
            .filter(|_| claim.1 == State::Sending.as_str())
        else {
            return Err(self.other(format!("{letter}: its last event is not a claim")));
        };
        let state = from
            .parse::<State>()
            .map_err(|m| self.other(format!("{letter}: {m}")))?;
        let detail = |raw: &str| serde_json::from_str::<serde_json::Value>(raw).ok();
        let recipients: Vec<RecipientOutcome> = events[1..]
            .iter()
            .find_map(|e| {
                detail(&e.5)?
                    .get("recipients")
                    .and_then(|r| serde_json::from_value(r.clone()).ok())
            })
            .unwrap_or_default();
        // Likewise the next-attempt time: an outcome event always says it (null when none); an
        // address change in between does not, and leaves it as it was.
        let next: Option<String> = events[1..]
            .iter()
            .find_map(|e| detail(&e.5)?.get("next_attempt_at").cloned())
            .and_then(|v| v.as_str().map(str::to_owned));
        let attempts = claim.2.saturating_sub(1);
        let (code, reply) = match recovery {
            Some(rule) => (None, Some(rule.to_string())),
            None => (before.3, before.4.clone()),
        };
        self.exec(
            "UPDATE letters SET state = ?3, attempts = ?4, smtp_code = ?5, smtp_reply = ?6, \
                 recipients = ?7, next_attempt_at = ?8, updated_at = ?9, claimed_by = NULL \
                 WHERE statement_id = ?1 AND organization = ?2",
            params![
                key.statement.as_str(),
                key.organization.as_str(),
                state.as_str(),
                attempts,
                code,
                reply,
                json(&recipients),
                next,
                at
            ],
        )
        .map_err(|e| self.sql(e))?;
        let detail = match recovery {
            Some(rule) => serde_json::json!({
                "recovery": rule,
                "recipients": recipients,
                "next_attempt_at": next,
            }),
            None => serde_json::json!({
                "released": RELEASED_NOTE,
                "recipients": recipients,
                "next_attempt_at": next,
            }),
        };
        self.append_event(&NewEvent {
            at: &at,
            key,
            from_state: Some(State::Sending),
            to_state: state,
            attempt: attempts,
            smtp_code: code,
            smtp_reply: reply.as_deref(),
            detail: detail.to_string(),
        })?;
        Ok(())
    }

    /// See [`Journal::cancel`](super::Journal::cancel). The event keeps the letter's attempt
    /// count, code and reply (the row keeps them too) and says who withdrew it.
    pub(crate) fn cancel(
        &self,
        statement: &crate::statement::StatementId,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<LetterKey>, JournalError> {
        let at = timestamp(now);
        let organizations: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT organization FROM letters WHERE statement_id = ?1 \
                     AND state IN ('pending', 'deferred') ORDER BY organization",
                )
                .map_err(|e| self.sql(e))?;
            let rows = stmt
                .query_map(params![statement.as_str()], |r| r.get(0))
                .map_err(|e| self.sql(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))?
        };
        let mut keys = Vec::with_capacity(organizations.len());
        for organization in organizations {
            let key = super::letter_key(self.path, statement.as_str(), &organization)?;
            let Some(cur) = self.current(&key)? else {
                continue;
            };
            self.exec(
                "UPDATE letters SET state = 'cancelled', next_attempt_at = NULL, updated_at = ?3 \
                 WHERE statement_id = ?1 AND organization = ?2",
                params![key.statement.as_str(), key.organization.as_str(), at],
            )
            .map_err(|e| self.sql(e))?;
            self.append_event(&NewEvent {
                at: &at,
                key: &key,
                from_state: Some(cur.state),
                to_state: State::Cancelled,
                attempt: cur.attempts,
                smtp_code: cur.smtp_code,
                smtp_reply: cur.smtp_reply.as_deref(),
                detail: serde_json::json!({ "cancelled_by": by, "next_attempt_at": null })
                    .to_string(),
            })?;
            keys.push(key);
        }
        Ok(keys)
    }

    pub(crate) fn set_held(
        &self,
        statement: &crate::statement::StatementId,
        held: bool,
    ) -> Result<bool, JournalError> {
        let changed = self
            .exec(
                "UPDATE statements SET held = ?2 WHERE id = ?1",
                params![statement.as_str(), held],
            )
            .map_err(|e| self.sql(e))?;
        Ok(changed > 0)
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    // Serialising plain strings and derived structs into a String cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;

    #[test]
    fn claimable_by_state_and_policy() {
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
        let now = "2021-05-27T10:00:00.000000Z";
        let past = Some("2021-05-27T09:59:59.999999Z");
        let future = Some("2021-05-27T10:00:00.000001Z");
        let cases: &[(State, ClaimPolicy, Option<&str>, bool)] = &[
            (State::Pending, none, None, true),
            (State::Pending, daemon, None, true),
            (State::Deferred, none, future, true),
            (State::Deferred, daemon, future, false),
            (State::Deferred, daemon, past, true),
            (State::Deferred, daemon, Some(now), true),
            (State::Deferred, daemon, None, true),
            (State::Failed, none, None, false),
            (State::Failed, failed, None, true),
            (State::Failed, uncertain, None, false),
            (State::Uncertain, none, None, false),
            (State::Uncertain, failed, None, false),
            (State::Uncertain, uncertain, None, true),
        ];
        for &(state, policy, next, expected) in cases {
            assert_eq!(
                claimable(state, policy, next, now),
                expected,
                "{state} {policy:?} {next:?}"
            );
        }
        let all = ClaimPolicy {
            include_failed: true,
            include_uncertain: true,
            respect_schedule: false,
        };
        for state in [
            State::Sending,
            State::Sent,
            State::Partial,
            State::Cancelled,
        ] {
            assert!(!claimable(state, all, None, now), "{state}");
        }
    }
}
