//! Recovery after a crash: each letter a dead process left `sending` is judged, from the
//! end-of-data marks (`marks`), either `uncertain` (it may have reached a server) or given back
//! to the state it had before the claim (it cannot have); then the marks are emptied once no
//! letter is `sending`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::marks::{self, Claimant};
use super::ops::Ops;
use super::{AttemptResult, JournalError, LetterKey, State};

/// The reply recorded when a process stopped while a letter was `sending` and may have reached
/// a server: `{rule}` says why it may have.
fn interrupted_reply(rule: &str) -> String {
    format!(
        "herald stopped during this attempt ({rule}): the letter may or may not have been \
         delivered, so it is not re-sent automatically"
    )
}

/// How recovery judges a letter a dead process left `sending` (see [`super::marks`]); each
/// verdict carries the rule that decided, which its event and reply record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It may have reached a server.
    Uncertain(String),
    /// It cannot have: back to the state it had before the claim.
    GiveBack(String),
}

/// The verdict on one letter left `sending`: claimed as `claimed_by` for attempt `attempt`,
/// judged in boot `boot` against the end-of-data marks (`Err`: they could not be read).
pub(crate) fn judge(
    claimed_by: Option<&str>,
    key: &LetterKey,
    attempt: u32,
    boot: Option<&str>,
    marked: &Result<HashSet<String>, String>,
) -> Verdict {
    let Some(claimed_by) = claimed_by else {
        return Verdict::Uncertain(
            "the claim records no process, so nothing shows how far the attempt went".into(),
        );
    };
    let Some(then) = Claimant::parse(claimed_by).boot else {
        return Verdict::Uncertain(
            "the claim records no boot identity, so a missing end-of-data mark proves nothing"
                .into(),
        );
    };
    let Some(now) = boot else {
        return Verdict::Uncertain(
            "the machine's boot identity cannot be read now, so a restart since the claim cannot \
             be ruled out"
                .into(),
        );
    };
    if then != now {
        return Verdict::Uncertain(format!(
            "the machine restarted since the claim (boot `{then}`, now `{now}`): an end-of-data \
             mark written before the restart may have been lost"
        ));
    }
    match marked {
        Err(e) => Verdict::Uncertain(format!("the end-of-data marks cannot be read: {e}")),
        Ok(marked) if marked.contains(&marks::line(claimed_by, key, attempt)) => {
            Verdict::Uncertain(
                "its end of data was being written (end-of-data mark found) and no reply was \
                 recorded"
                    .into(),
            )
        }
        Ok(_) => Verdict::GiveBack(
            "never reached the server's end of data: herald stopped before writing it (no \
             end-of-data mark for this claim, same boot), so no server can have delivered it; \
             back to be sent normally"
                .into(),
        ),
    }
}

/// What recovery did with the letters dead processes left `sending`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Recovery {
    /// Now `uncertain`: they may have reached a server.
    pub(crate) uncertain: Vec<LetterKey>,
    /// Given back to the state they had before the claim: they cannot have.
    pub(crate) given_back: Vec<LetterKey>,
}

impl Ops<'_> {
    /// Judges every letter left `sending` by a process no longer alive (`alive` answers for a
    /// lock token) in boot `boot` ([`judge`]): `uncertain`, or given back. The marks are left as
    /// they are: they may be emptied ([`Ops::prune_marks`]) only once these verdicts are
    /// committed, or a process killed before its commit would leave the letters `sending` with
    /// nothing to show which of them reached a server.
    pub(crate) fn recover_interrupted(
        &self,
        now: DateTime<Utc>,
        alive: &dyn Fn(&str) -> bool,
        boot: Option<&str>,
    ) -> Result<Recovery, JournalError> {
        let stuck: Vec<(String, String, Option<String>, u32)> = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT statement_id, organization, claimed_by, attempts FROM letters \
                     WHERE state = 'sending' ORDER BY statement_id, organization",
                )
                .map_err(|e| self.sql(e))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .map_err(|e| self.sql(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))?
        };
        let marks_path = marks::path_of(self.path);
        let mut marked = None;
        let mut recovery = Recovery::default();
        // Asked once per process, however many of its letters are `sending`: the answer opens a
        // lock file, and an unreadable one is warned about.
        let mut alive_by_token: HashMap<String, bool> = HashMap::new();
        for (statement, organization, owner, attempt) in stuck {
            if let Some(owner) = owner.as_deref() {
                let token = Claimant::parse(owner).token;
                if *alive_by_token
                    .entry(token)
                    .or_insert_with_key(|token| alive(token))
                {
                    continue;
                }
            }
            let key = super::letter_key(self.path, &statement, &organization)?;
            // Read once, and only when a letter needs it.
            let marked = marked.get_or_insert_with(|| {
                marks::read(&marks_path).map_err(|e| format!("{}: {e}", marks_path.display()))
            });
            match judge(owner.as_deref(), &key, attempt, boot, marked) {
                Verdict::GiveBack(rule) => {
                    self.give_back(&key, now, Some(&rule))?;
                    recovery.given_back.push(key);
                }
                Verdict::Uncertain(rule) => {
                    // What earlier attempts settled stays known; only this attempt's outcome is
                    // lost.
                    let recipients = self
                        .current(&key)?
                        .map(|cur| cur.recipients)
                        .unwrap_or_default();
                    let result = AttemptResult {
                        state: State::Uncertain,
                        smtp_code: None,
                        reply: interrupted_reply(&rule),
                        recipients,
                        next_attempt_at: None,
                    };
                    self.record_as(&key, &result, now, Some(&rule))?;
                    recovery.uncertain.push(key);
                }
            }
        }
        Ok(recovery)
    }

    /// Empties the end-of-data marks when no letter is `sending`: they only speak of letters
    /// that are.
    pub(crate) fn prune_marks(&self) -> Result<bool, JournalError> {
        let sending: i64 = self
            .row(
                "SELECT count(*) FROM letters WHERE state = 'sending'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.sql(e))?;
        if sending > 0 {
            return Ok(false);
        }
        let path = marks::path_of(self.path);
        marks::clear(&path).map_err(|e| {
            self.other(format!(
                "cannot empty the end-of-data marks {}: {e}",
                path.display()
            ))
        })?;
        Ok(true)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::super::tests::*;
    use super::super::*;
    use super::*;

    #[test]
    fn a_letter_left_sending_is_given_back_only_when_the_same_boot_shows_no_mark() {
        use crate::directory::OrgId;
        use crate::statement::StatementId;
        let key = LetterKey {
            statement: StatementId::parse("2021-05-27-1a2b3c4d").unwrap(),
            organization: OrgId::new("un").unwrap(),
        };
        let claimed_by = "7-ab@boot-1";
        type Marked = Result<HashSet<String>, String>;
        let marked: Marked = Ok(HashSet::from([marks::line(claimed_by, &key, 2)]));
        let none: Marked = Ok(HashSet::new());
        let unreadable: Marked = Err("permission denied".into());
        // (claimed_by, attempt, boot now, marks, given back?, words of the rule)
        type Case<'a> = (
            Option<&'a str>,
            u32,
            Option<&'a str>,
            &'a Marked,
            bool,
            &'a str,
        );
        let cases: &[Case<'_>] = &[
            (
                Some(claimed_by),
                2,
                Some("boot-1"),
                &none,
                true,
                "never reached the server's end of data",
            ),
            (
                Some(claimed_by),
                2,
                Some("boot-1"),
                &marked,
                false,
                "end-of-data mark found",
            ),
            // The mark of another attempt, or of the same attempt by another process, is no mark.
            (
                Some(claimed_by),
                3,
                Some("boot-1"),
                &marked,
                true,
                "no end-of-data mark",
            ),
            (
                Some("8-cd@boot-1"),
                2,
                Some("boot-1"),
                &marked,
                true,
                "no end-of-data mark",
            ),
            (
                Some(claimed_by),
                2,
                Some("boot-2"),
                &none,
                false,
                "the machine restarted",
            ),
            (
                Some(claimed_by),
                2,
                Some("boot-2"),
                &marked,
                false,
                "the machine restarted",
            ),
            (
                Some(claimed_by),
                2,
                None,
                &none,
                false,
                "cannot be read now",
            ),
            (
                Some("7-ab"),
                2,
                Some("boot-1"),
                &none,
                false,
                "no boot identity",
            ),
            (None, 2, Some("boot-1"), &none, false, "no process"),
            (
                Some(claimed_by),
                2,
                Some("boot-1"),
                &unreadable,
                false,
                "permission denied",
            ),
        ];
        for (i, &(by, attempt, boot, marks, given_back, words)) in cases.iter().enumerate() {
            let verdict = judge(by, &key, attempt, boot, marks);
            let (back, rule) = match &verdict {
                Verdict::GiveBack(rule) => (true, rule),
                Verdict::Uncertain(rule) => (false, rule),
            };
            assert_eq!(back, given_back, "case {i}: {verdict:?}");
            assert!(rule.contains(words), "case {i}: {rule}");
        }
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
}
