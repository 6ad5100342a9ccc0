//! Whether the journal can be believed: what recomputing the hash chain reports (`herald
//! verify`), the head a user writes down to prove later that nothing was cut off the end, and the
//! check made before anything is sent on the journal. The chain itself is `chain`'s.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::{chain, Journal, JournalError};

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

impl Journal {
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

    /// The last event, to be written down after a dispatch; `None` before the first one.
    pub(crate) fn head(&self) -> Result<Option<Head>, JournalError> {
        chain::head(&self.conn).map_err(|source| JournalError::Sqlite {
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::super::tests::{intact_events, journal, key, outcome, planned, rcpt, statement, t};
    use super::super::*;
    use crate::delivery::state::merge_recipients;

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
}
