//! The delivery domain: the states a letter moves through (README.md, "Delivery states"), which
//! letters a claim may take, what a claim carries and what an attempt leaves. The journal stores
//! these; the engine and the classification produce them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A letter's delivery state (README.md, "Delivery states").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Pending,
    Sending,
    Sent,
    /// Accepted for some of the organisation's addresses and refused by the others: for good, or
    /// for now until `max_attempts`. Final: a re-send would reach the accepting addresses twice.
    Partial,
    Deferred,
    Failed,
    Uncertain,
    /// Withdrawn by `herald cancel` before it was ever offered to a server: final.
    Cancelled,
}

impl State {
    pub const ALL: [State; 8] = [
        State::Pending,
        State::Sending,
        State::Sent,
        State::Partial,
        State::Deferred,
        State::Failed,
        State::Uncertain,
        State::Cancelled,
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
            State::Cancelled => "cancelled",
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

/// Which letters a claim may take.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimPolicy {
    /// Also take `failed` letters (a manual dispatch: the address may have been corrected).
    pub(crate) include_failed: bool,
    /// Also take `uncertain` letters (`--resend-uncertain` only).
    pub(crate) include_uncertain: bool,
    /// Take a `deferred` letter only once its next-attempt time has come (the daemon).
    pub(crate) respect_schedule: bool,
}

impl ClaimPolicy {
    /// May a letter in `state` be claimed under this policy? The one rule of which letters go
    /// out: the journal applies it inside each claim, and a dispatch counts with it before
    /// claiming. `due` answers whether a deferred letter's next attempt has come; it is asked
    /// only when the policy respects the schedule.
    pub(crate) fn may_claim(self, state: State, due: impl FnOnce() -> bool) -> bool {
        match state {
            State::Pending => true,
            State::Deferred => !self.respect_schedule || due(),
            State::Failed => self.include_failed,
            State::Uncertain => self.include_uncertain,
            State::Sending | State::Sent | State::Partial | State::Cancelled => false,
        }
    }
}

/// A successful claim: the letter is now `sending`, durably.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Total attempts including this one.
    pub(crate) attempt: u32,
    /// Consecutive transient failures before this attempt, plus one.
    pub(crate) consecutive: u32,
    /// What each address answered in the earlier attempts of this delivery, read from the letter's
    /// `recipients` inside the claim's transaction: a deferred (or uncertain) letter keeps it, so
    /// a retry goes only to the addresses that still need the letter; a letter claimed from
    /// `pending` or `failed` starts afresh with none.
    pub(crate) earlier: Vec<RecipientOutcome>,
}

impl Claim {
    /// Addresses that accepted the letter in an earlier attempt: they must not get it again.
    pub(crate) fn already_accepted(&self) -> Vec<&str> {
        self.earlier
            .iter()
            .filter(|r| r.accepted)
            .map(|r| r.address.as_str())
            .collect()
    }

    /// Addresses that refused the letter for good (5xx) in an earlier attempt.
    pub(crate) fn permanently_refused(&self) -> Vec<&str> {
        self.earlier
            .iter()
            .filter(|r| r.is_permanent_refusal())
            .map(|r| r.address.as_str())
            .collect()
    }

    /// Whether this attempt still sends to `address`: not if it accepted the letter already or
    /// refused it for good.
    pub(crate) fn still_owed(&self, address: &str) -> bool {
        !self
            .earlier
            .iter()
            .any(|r| r.address == address && (r.accepted || r.is_permanent_refusal()))
    }
}

/// Per-address outcome at RCPT (or at the end of data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientOutcome {
    pub(crate) address: String,
    pub(crate) accepted: bool,
    pub(crate) code: Option<u16>,
    pub(crate) reply: String,
}

impl RecipientOutcome {
    /// Refused with a 5xx reply: retrying cannot change the answer.
    pub(crate) fn is_permanent_refusal(&self) -> bool {
        !self.accepted && self.code.is_some_and(|c| (500..600).contains(&c))
    }
}

/// Each address's latest outcome: `earlier` in its order with the entries `latest` replaces, then
/// the addresses only `latest` names. A letter's `recipients` list is built this way across its
/// attempts, so it shows every address's final outcome (with the reply that decided it).
pub(crate) fn merge_recipients(
    earlier: &[RecipientOutcome],
    latest: &[RecipientOutcome],
) -> Vec<RecipientOutcome> {
    let mut merged: Vec<RecipientOutcome> = earlier
        .iter()
        .map(|old| {
            latest
                .iter()
                .find(|new| new.address == old.address)
                .unwrap_or(old)
                .clone()
        })
        .collect();
    for new in latest {
        if !merged.iter().any(|r| r.address == new.address) {
            merged.push(new.clone());
        }
    }
    merged
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What a manual dispatch sends again, with and without `--resend-uncertain`.
    #[test]
    fn which_states_are_sent_again() {
        let manual = ClaimPolicy {
            include_failed: true,
            include_uncertain: false,
            respect_schedule: false,
        };
        let resend = ClaimPolicy {
            include_uncertain: true,
            ..manual
        };
        let rows = [
            (State::Pending, true, true),
            (State::Deferred, true, true),
            (State::Failed, true, true),
            (State::Uncertain, false, true),
            (State::Sent, false, false),
            (State::Partial, false, false),
            (State::Sending, false, false),
            (State::Cancelled, false, false),
        ];
        for (state, plain, with_resend) in rows {
            assert_eq!(manual.may_claim(state, || true), plain, "{state}");
            assert_eq!(
                resend.may_claim(state, || true),
                with_resend,
                "{state} with --resend-uncertain"
            );
        }
    }
}
