//! What happened on the wire → the delivery state that the journal records (README.md,
//! "Delivery states").
//!
//! Pure: the clock and the jitter factor are arguments, so every rule of the classification is a
//! row in the table at the bottom. The transports only report [`Outcome`]s; deciding between
//! `sent`, `partial`, `deferred`, `failed` and `uncertain` happens here and nowhere else.
//!
//! A letter goes To all of an organisation's addresses, and the server answers each at RCPT. The
//! per-address outcomes of this attempt are merged into those of the earlier attempts (carried by
//! the [`Claim`]), and the letter's state follows from the merged list: an address refused only for
//! now (4xx) keeps the letter `deferred` — the retry goes to that address alone — while an address
//! refused for good (5xx) next to accepted ones makes it `partial`. `partial` is final: re-sending
//! it would give the letter a second time to every address that accepted it.

use chrono::{DateTime, Utc};

use super::retry::{backoff, stated_wait, RetryPolicy};
use super::state::{merge_recipients, AttemptResult, Claim, RecipientOutcome, State};

/// A server reply: its code and its full text as the server sent it
/// (`250 2.0.0 Ok: queued as 4F2K9`; continuation lines joined with `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) code: u16,
    pub(crate) text: String,
}

/// What one attempt to hand a message over produced, before any retry decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The server accepted the end of data (2xx). Some recipients may have been refused at RCPT.
    Accepted {
        reply: Reply,
        recipients: Vec<RecipientOutcome>,
    },
    /// The file transport wrote the message where the user reads it.
    Written { path: String },
    /// A negative reply (4xx/5xx) before the message was accepted: at the greeting, EHLO, AUTH,
    /// MAIL, for every RCPT, at DATA or at the end of data.
    Refused {
        reply: Reply,
        recipients: Vec<RecipientOutcome>,
    },
    /// No connection, or the connection broke or stalled before the end of data was fully sent:
    /// the server cannot have accepted the message, so trying again is safe.
    NotHandedOver { reason: String },
    /// The end of data was sent and no reply came (EOF, reset, timeout): the server may or may
    /// not have queued the message.
    NoReply { reason: String },
    /// A problem that retrying cannot fix (no STARTTLS offered, certificate refused, AUTH not
    /// allowed over plain text, a letter that cannot be composed).
    Unsendable { reason: String },
    /// Every current address of the letter accepted it or refused it for good in an earlier
    /// attempt (the others were removed from the directory since): nothing was sent.
    NoAddressLeft,
}

/// Decides the state of the letter after `outcome`.
///
/// `claim.consecutive` counts this attempt among the consecutive transient failures, so once it
/// reaches `max_attempts` a transient outcome is final. `jitter` multiplies the computed backoff.
/// `claim.earlier` holds what each address answered before; the result's `recipients` is that list
/// updated with this attempt's answers.
pub(crate) fn classify(
    outcome: Outcome,
    claim: Claim,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
    jitter: f64,
) -> AttemptResult {
    let transient = |code: Option<u16>, reply: String, recipients: Vec<RecipientOutcome>| {
        if claim.consecutive >= policy.max_attempts {
            return AttemptResult {
                state: given_up_state(&recipients),
                smtp_code: code,
                reply: format!("{reply} (gave up after {} attempts)", claim.consecutive),
                recipients,
                next_attempt_at: None,
            };
        }
        let delay = stated_wait(&reply)
            .map(|wait| wait.min(policy.backoff_cap))
            .unwrap_or_else(|| backoff(claim.consecutive, policy, jitter));
        let delay = chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
        AttemptResult {
            state: State::Deferred,
            smtp_code: code,
            reply,
            recipients,
            next_attempt_at: now.checked_add_signed(delay),
        }
    };
    let final_state = |state: State, code: Option<u16>, reply: String, recipients| AttemptResult {
        state,
        smtp_code: code,
        reply,
        recipients,
        next_attempt_at: None,
    };
    let earlier = claim.earlier.clone();
    match outcome {
        Outcome::Accepted { reply, recipients } => {
            let merged = merge_recipients(&earlier, &recipients);
            if let Some(waiting) = merged
                .iter()
                .find(|r| !r.accepted && !r.is_permanent_refusal())
            {
                let accepted = merged.iter().filter(|r| r.accepted).count();
                let text = format!(
                    "{} (from `{}`; {accepted} of {} addresses have accepted the letter)",
                    waiting.reply,
                    waiting.address,
                    merged.len()
                );
                let code = waiting.code;
                return transient(code, text, merged);
            }
            // The server took the message: with no per-address answers, it took it for all.
            let state = if merged.is_empty() {
                State::Sent
            } else {
                settled_state(&merged)
            };
            final_state(state, Some(reply.code), reply.text, merged)
        }
        Outcome::Written { path } => {
            final_state(State::Sent, None, format!("written to {path}"), earlier)
        }
        Outcome::Refused { reply, recipients } => {
            // An address accepted at RCPT did not get a message refused after it (at DATA or at
            // the end of data): the refusal is its outcome.
            let latest: Vec<RecipientOutcome> = recipients
                .into_iter()
                .map(|r| {
                    if r.accepted {
                        RecipientOutcome {
                            accepted: false,
                            code: Some(reply.code),
                            reply: reply.text.clone(),
                            ..r
                        }
                    } else {
                        r
                    }
                })
                .collect();
            let merged = merge_recipients(&earlier, &latest);
            if (500..600).contains(&reply.code) {
                final_state(
                    given_up_state(&merged),
                    Some(reply.code),
                    reply.text,
                    merged,
                )
            } else {
                // 4xx, and anything else a server should not have said here, may pass.
                transient(Some(reply.code), reply.text, merged)
            }
        }
        Outcome::NotHandedOver { reason } => transient(None, reason, earlier),
        Outcome::NoReply { reason } => final_state(State::Uncertain, None, reason, earlier),
        Outcome::Unsendable { reason } => {
            final_state(given_up_state(&earlier), None, reason, earlier)
        }
        Outcome::NoAddressLeft => final_state(
            settled_state(&earlier),
            None,
            "every address had already accepted the letter or refused it for good".to_string(),
            earlier,
        ),
    }
}

/// The state of a letter that is not delivered (refused for good, or given up): `partial` when
/// some address accepted it in an earlier attempt, `failed` when none did.
fn given_up_state(recipients: &[RecipientOutcome]) -> State {
    if recipients.iter().any(|r| r.accepted) {
        State::Partial
    } else {
        State::Failed
    }
}

/// The final state of a letter no address still waits for: `sent` when every one accepted it,
/// `partial` when some did, `failed` when none did.
fn settled_state(recipients: &[RecipientOutcome]) -> State {
    let accepted = recipients.iter().filter(|r| r.accepted).count();
    if accepted == 0 {
        State::Failed
    } else if accepted == recipients.len() {
        State::Sent
    } else {
        State::Partial
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            backoff_base: Duration::from_secs(30),
            backoff_cap: Duration::from_secs(600),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2021-05-27T10:00:00Z")
            .expect("valid date")
            .with_timezone(&Utc)
    }

    fn reply(code: u16, text: &str) -> Reply {
        Reply {
            code,
            text: text.to_string(),
        }
    }

    fn rcpt(address: &str, accepted: bool, code: u16) -> RecipientOutcome {
        RecipientOutcome {
            address: address.to_string(),
            accepted,
            code: Some(code),
            reply: format!("{code} reply for {address}"),
        }
    }

    fn claim(consecutive: u32) -> Claim {
        Claim {
            attempt: consecutive,
            consecutive,
            earlier: Vec::new(),
        }
    }

    /// (outcome, consecutive failures including this one, state, code, seconds until retry)
    type Row = (Outcome, u32, State, Option<u16>, Option<i64>);

    #[test]
    fn classification_table() {
        // (outcome, consecutive failures including this one, state, code, seconds until retry)
        let rows: Vec<Row> = vec![
            (
                Outcome::Accepted {
                    reply: reply(250, "250 2.0.0 Ok: queued as 4F2K9"),
                    recipients: vec![rcpt("a@x.example", true, 250)],
                },
                1,
                State::Sent,
                Some(250),
                None,
            ),
            (
                Outcome::Accepted {
                    reply: reply(250, "250 ok"),
                    recipients: vec![
                        rcpt("a@x.example", true, 250),
                        rcpt("b@x.example", false, 550),
                    ],
                },
                1,
                State::Partial,
                Some(250),
                None,
            ),
            (
                Outcome::Written {
                    path: "/o/x.eml".into(),
                },
                1,
                State::Sent,
                None,
                None,
            ),
            (
                Outcome::Refused {
                    reply: reply(450, "450 mailbox busy"),
                    recipients: vec![],
                },
                1,
                State::Deferred,
                Some(450),
                Some(30),
            ),
            (
                Outcome::Refused {
                    reply: reply(421, "421 closing"),
                    recipients: vec![],
                },
                2,
                State::Deferred,
                Some(421),
                Some(60),
            ),
            // The last allowed attempt: a transient reply becomes final.
            (
                Outcome::Refused {
                    reply: reply(451, "451 local error"),
                    recipients: vec![],
                },
                3,
                State::Failed,
                Some(451),
                None,
            ),
            (
                Outcome::Refused {
                    reply: reply(550, "550 no such user"),
                    recipients: vec![],
                },
                1,
                State::Failed,
                Some(550),
                None,
            ),
            (
                Outcome::Refused {
                    reply: reply(554, "554 rejected"),
                    recipients: vec![],
                },
                1,
                State::Failed,
                Some(554),
                None,
            ),
            // The server's stated wait wins over the backoff.
            (
                Outcome::Refused {
                    reply: reply(452, "452 4.3.1 try again in 120 seconds"),
                    recipients: vec![],
                },
                1,
                State::Deferred,
                Some(452),
                Some(120),
            ),
            // … but never beyond the cap.
            (
                Outcome::Refused {
                    reply: reply(421, "421 retry in 2 hours"),
                    recipients: vec![],
                },
                1,
                State::Deferred,
                Some(421),
                Some(600),
            ),
            (
                Outcome::NotHandedOver {
                    reason: "connection refused".into(),
                },
                1,
                State::Deferred,
                None,
                Some(30),
            ),
            (
                Outcome::NotHandedOver {
                    reason: "connection reset during data".into(),
                },
                3,
                State::Failed,
                None,
                None,
            ),
            (
                Outcome::NoReply {
                    reason: "no reply after end of data".into(),
                },
                1,
                State::Uncertain,
                None,
                None,
            ),
            (
                Outcome::NoReply {
                    reason: "timeout after end of data".into(),
                },
                3,
                State::Uncertain,
                None,
                None,
            ),
            (
                Outcome::Unsendable {
                    reason: "no STARTTLS".into(),
                },
                1,
                State::Failed,
                None,
                None,
            ),
        ];
        for (outcome, consecutive, state, code, retry) in rows {
            let label = format!("{outcome:?} at {consecutive}");
            let result = classify(outcome, claim(consecutive), &policy(), now(), 1.0);
            assert_eq!(result.state, state, "{label}");
            assert_eq!(result.smtp_code, code, "{label}");
            assert_eq!(
                result.next_attempt_at.map(|t| (t - now()).num_seconds()),
                retry,
                "{label}"
            );
        }
    }

    fn refused(address: &str, code: u16, text: &str) -> RecipientOutcome {
        RecipientOutcome {
            address: address.to_string(),
            accepted: false,
            code: Some(code),
            reply: text.to_string(),
        }
    }

    /// (address, accepted, code) of each merged outcome, in order.
    type Merged = Vec<(&'static str, bool, u16)>;

    /// (earlier outcomes, this attempt's outcome, consecutive failures including this one,
    /// state, code, seconds until retry, merged outcomes)
    type PerAddressRow = (
        Vec<RecipientOutcome>,
        Outcome,
        u32,
        State,
        Option<u16>,
        Option<i64>,
        Merged,
    );

    #[test]
    fn per_address_outcomes_across_attempts() {
        let ok = |a: &str| rcpt(a, true, 250);
        let busy = |a: &str| refused(a, 450, "450 4.2.1 Mailbox busy");
        let unknown = |a: &str| refused(a, 550, "550 5.1.1 User unknown");
        let accepted = |recipients: Vec<RecipientOutcome>| Outcome::Accepted {
            reply: reply(250, "250 2.0.0 Ok: queued as 4F2K9"),
            recipients,
        };
        let rows: Vec<PerAddressRow> = vec![
            // One address refused for now: the letter waits for it.
            (
                vec![],
                accepted(vec![ok("a"), busy("b")]),
                1,
                State::Deferred,
                Some(450),
                Some(30),
                vec![("a", true, 250), ("b", false, 450)],
            ),
            // … even when another refused it for good.
            (
                vec![],
                accepted(vec![ok("a"), busy("b"), unknown("c")]),
                1,
                State::Deferred,
                Some(450),
                Some(30),
                vec![("a", true, 250), ("b", false, 450), ("c", false, 550)],
            ),
            // The refused address's stated wait decides the retry.
            (
                vec![],
                accepted(vec![
                    ok("a"),
                    refused("b", 451, "451 4.7.1 Try again in 120 seconds"),
                ]),
                1,
                State::Deferred,
                Some(451),
                Some(120),
                vec![("a", true, 250), ("b", false, 451)],
            ),
            // At the last attempt, what was accepted makes it partial.
            (
                vec![],
                accepted(vec![ok("a"), busy("b")]),
                3,
                State::Partial,
                Some(450),
                None,
                vec![("a", true, 250), ("b", false, 450)],
            ),
            // The retry went to `b` alone and it accepted: every address has the letter.
            (
                vec![ok("a"), busy("b")],
                accepted(vec![ok("b")]),
                2,
                State::Sent,
                Some(250),
                None,
                vec![("a", true, 250), ("b", true, 250)],
            ),
            // The retry's address now refuses for good.
            (
                vec![ok("a"), busy("b")],
                Outcome::Refused {
                    reply: reply(550, "550 5.1.1 User unknown"),
                    recipients: vec![unknown("b")],
                },
                2,
                State::Partial,
                Some(550),
                None,
                vec![("a", true, 250), ("b", false, 550)],
            ),
            // … or still refuses for now, at the last attempt.
            (
                vec![ok("a"), busy("b")],
                Outcome::Refused {
                    reply: reply(450, "450 4.2.1 Mailbox busy"),
                    recipients: vec![busy("b")],
                },
                3,
                State::Partial,
                Some(450),
                None,
                vec![("a", true, 250), ("b", false, 450)],
            ),
            // Every address refused, one only for now: deferred, the 5xx one settled.
            (
                vec![],
                Outcome::Refused {
                    reply: reply(450, "450 4.2.1 Mailbox busy"),
                    recipients: vec![unknown("a"), busy("b")],
                },
                1,
                State::Deferred,
                Some(450),
                Some(30),
                vec![("a", false, 550), ("b", false, 450)],
            ),
            (
                vec![unknown("a"), busy("b")],
                accepted(vec![ok("b")]),
                2,
                State::Partial,
                Some(250),
                None,
                vec![("a", false, 550), ("b", true, 250)],
            ),
            // Nothing was ever accepted: failed, not partial.
            (
                vec![unknown("a"), busy("b")],
                Outcome::Refused {
                    reply: reply(450, "450 4.2.1 Mailbox busy"),
                    recipients: vec![busy("b")],
                },
                3,
                State::Failed,
                Some(450),
                None,
                vec![("a", false, 550), ("b", false, 450)],
            ),
            // Accepted at RCPT but refused at DATA: that address does not have the letter.
            (
                vec![ok("a"), busy("b")],
                Outcome::Refused {
                    reply: reply(451, "451 4.3.0 Local error"),
                    recipients: vec![ok("b")],
                },
                2,
                State::Deferred,
                Some(451),
                Some(60),
                vec![("a", true, 250), ("b", false, 451)],
            ),
            // No new answer: the earlier ones stay.
            (
                vec![ok("a"), busy("b")],
                Outcome::NotHandedOver {
                    reason: "connection refused".into(),
                },
                2,
                State::Deferred,
                None,
                Some(60),
                vec![("a", true, 250), ("b", false, 450)],
            ),
            (
                vec![ok("a"), busy("b")],
                Outcome::NotHandedOver {
                    reason: "connection refused".into(),
                },
                3,
                State::Partial,
                None,
                None,
                vec![("a", true, 250), ("b", false, 450)],
            ),
            (
                vec![ok("a"), busy("b")],
                Outcome::NoReply {
                    reason: "no reply after end of data".into(),
                },
                2,
                State::Uncertain,
                None,
                None,
                vec![("a", true, 250), ("b", false, 450)],
            ),
            (
                vec![ok("a"), busy("b")],
                Outcome::Unsendable {
                    reason: "no STARTTLS".into(),
                },
                2,
                State::Partial,
                None,
                None,
                vec![("a", true, 250), ("b", false, 450)],
            ),
            (
                vec![ok("a"), unknown("c")],
                Outcome::NoAddressLeft,
                2,
                State::Partial,
                None,
                None,
                vec![("a", true, 250), ("c", false, 550)],
            ),
            (
                vec![ok("a")],
                Outcome::NoAddressLeft,
                2,
                State::Sent,
                None,
                None,
                vec![("a", true, 250)],
            ),
        ];
        for (i, (earlier, outcome, consecutive, state, code, retry, merged)) in
            rows.into_iter().enumerate()
        {
            let label = format!("row {i}: {outcome:?} after {earlier:?}");
            let claim = Claim {
                attempt: consecutive,
                consecutive,
                earlier,
            };
            let result = classify(outcome, claim, &policy(), now(), 1.0);
            assert_eq!(result.state, state, "{label}");
            assert_eq!(result.smtp_code, code, "{label}");
            assert_eq!(
                result.next_attempt_at.map(|t| (t - now()).num_seconds()),
                retry,
                "{label}"
            );
            let got: Vec<(&str, bool, u16)> = result
                .recipients
                .iter()
                .map(|r| (r.address.as_str(), r.accepted, r.code.unwrap_or(0)))
                .collect();
            assert_eq!(got, merged, "{label}");
        }
    }

    #[test]
    fn a_deferral_for_one_address_names_it_and_keeps_the_accepted_reply() {
        let result = classify(
            Outcome::Accepted {
                reply: reply(250, "250 2.0.0 Ok: queued as 77AB1"),
                recipients: vec![
                    RecipientOutcome {
                        address: "a@x.example".into(),
                        accepted: true,
                        code: Some(250),
                        reply: "250 2.1.5 Ok".into(),
                    },
                    refused("b@x.example", 450, "450 4.2.1 Mailbox busy"),
                ],
            },
            claim(1),
            &policy(),
            now(),
            1.0,
        );
        assert_eq!(
            result.reply,
            "450 4.2.1 Mailbox busy (from `b@x.example`; 1 of 2 addresses have accepted the letter)"
        );
        assert_eq!(result.recipients[0].reply, "250 2.1.5 Ok");
    }

    #[test]
    fn the_full_reply_and_recipients_are_kept() {
        let recipients = vec![
            rcpt("a@x.example", true, 250),
            rcpt("b@x.example", false, 550),
        ];
        let result = classify(
            Outcome::Accepted {
                reply: reply(250, "250-first line\n250 2.0.0 Ok: queued as 4F2K9"),
                recipients: recipients.clone(),
            },
            claim(1),
            &policy(),
            now(),
            1.0,
        );
        assert_eq!(
            result.reply,
            "250-first line\n250 2.0.0 Ok: queued as 4F2K9"
        );
        assert_eq!(result.recipients, recipients);
    }
}
