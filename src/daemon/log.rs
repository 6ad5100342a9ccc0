//! How the daemon words its log: for the person who reads it in the morning, not for a
//! debugger. Times read `2026-12-02 10:13 UTC`, states and outcomes are words in the message, and
//! a field is present only when it has a value (no `Some(…)`, no `retrying=false`). The JSON log
//! carries the same fields, each a plain value.

use chrono::{DateTime, Utc};

use crate::delivery::{Progress, Summary};
use crate::journal::{AttemptResult, LetterKey, State};
use crate::statement::StatementId;

/// `2026-12-02 10:13 UTC`.
pub(crate) fn time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `3 sent, 1 deferred`: the counts that are not zero, or `nothing to send`.
pub(crate) fn summary(summary: &Summary) -> String {
    let counts = [
        (summary.sent, "sent"),
        (summary.partial, "partial"),
        (summary.failed, "failed"),
        (summary.deferred, "deferred"),
        (summary.uncertain, "uncertain"),
        (summary.skipped, "already dealt with"),
        (summary.not_attempted, "not attempted (stopped)"),
    ];
    let words: Vec<String> = counts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if words.is_empty() {
        "nothing to send".into()
    } else {
        words.join(", ")
    }
}

/// What became of one attempted letter, in words.
fn outcome(result: &AttemptResult, retrying: bool) -> String {
    let next = result.next_attempt_at.map(time);
    match (result.state, retrying, next) {
        (State::Deferred, _, Some(at)) => format!("not sent yet (deferred): next attempt at {at}"),
        (State::Deferred, _, None) => "not sent yet (deferred)".into(),
        (State::Partial, true, Some(at)) => {
            format!("accepted for some addresses; the others are tried again at {at}")
        }
        (State::Partial, _, _) => {
            "partial: accepted for some addresses and refused for good by the others".into()
        }
        (State::Failed, _, _) => "failed: refused for good; it is not sent again by itself".into(),
        (State::Uncertain, _, _) => "uncertain: the server's answer never came; it may have \
             arrived, so it is not sent again by itself"
            .into(),
        (state, _, _) => format!("not sent: {state}"),
    }
}

/// One log line per attempt, with the statement and organisation as fields.
pub(crate) struct LogProgress {
    pub(crate) statement: StatementId,
}

impl Progress for LogProgress {
    fn attempted(&self, key: &LetterKey, result: &AttemptResult, retrying: bool) {
        // No code (the file transport, a refused connection): no `code` field rather than `code=`.
        let code = result.smtp_code;
        if result.state == State::Sent {
            tracing::info!(
                statement = %self.statement,
                organization = %key.organization,
                code,
                reply = %result.reply,
                "sent"
            );
        } else {
            tracing::warn!(
                statement = %self.statement,
                organization = %key.organization,
                state = %result.state,
                code,
                reply = %result.reply,
                next_attempt = result.next_attempt_at.map(|t| tracing::field::display(time(t))),
                "{}",
                outcome(result, retrying)
            );
        }
    }

    fn skipped(&self, key: &LetterKey) {
        tracing::debug!(
            statement = %self.statement,
            organization = %key.organization,
            "skipped: already sent, uncertain, failed or taken by another process"
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T10:13:42Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn times_and_outcomes_read_as_words() {
        assert_eq!(time(at()), "2026-12-02 10:13 UTC");
        let result = |state, next| AttemptResult {
            state,
            smtp_code: Some(451),
            reply: "451 later".into(),
            recipients: vec![],
            next_attempt_at: next,
        };
        // (state, next attempt, retrying, words)
        let rows = [
            (
                State::Deferred,
                Some(at()),
                true,
                "not sent yet (deferred): next attempt at 2026-12-02 10:13 UTC",
            ),
            (
                State::Failed,
                None,
                false,
                "failed: refused for good; it is not sent again by itself",
            ),
        ];
        for (state, next, retrying, words) in rows {
            let text = outcome(&result(state, next), retrying);
            assert_eq!(text, words);
            assert!(!text.contains("Some(") && !text.contains("false"));
        }
        let summary = Summary {
            sent: 3,
            deferred: 1,
            ..Summary::default()
        };
        assert_eq!(super::summary(&summary), "3 sent, 1 deferred");
        assert_eq!(super::summary(&Summary::default()), "nothing to send");
    }
}
