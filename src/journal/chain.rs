//! The hash chain over `events`, and `herald verify`.
//!
//! Each event's hash covers the previous event's hash and every field of the event, encoded so
//! that no two different events share an encoding (every field is length-prefixed, absent values
//! are distinct from empty ones). Changing, removing or reordering an event therefore breaks the
//! chain from that event on.
//!
//! The `letters` and `statements` rows are what the events say, replayed: a letter's creation
//! event records its addresses and its statement (with the SHA-256 of the statement's text), an
//! address change and each claim and outcome record what they set. Verify replays the events and
//! compares every row, so an address, reply or statement edited in any table is found. The one
//! thing a chain cannot show by itself is that events were cut off its end: for that, the head
//! (last event id and hash) is printed for the user to keep, and `ExpectedHead` checks it later.

use std::collections::{BTreeMap, HashMap};

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ExpectedHead, Head, RecipientOutcome, VerifyReport};

/// `prev_hash` of the first event.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Tells this encoding apart from any other use of SHA-256 over similar fields.
const DOMAIN: &[u8] = b"herald journal event v1\0";

/// The hashed fields of one event, as stored.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EventFields<'a> {
    pub(crate) prev_hash: &'a str,
    pub(crate) id: i64,
    pub(crate) at: &'a str,
    pub(crate) statement_id: &'a str,
    pub(crate) organization: &'a str,
    pub(crate) from_state: Option<&'a str>,
    pub(crate) to_state: &'a str,
    pub(crate) attempt: i64,
    pub(crate) smtp_code: Option<i64>,
    pub(crate) smtp_reply: Option<&'a str>,
    pub(crate) detail: &'a str,
}

impl EventFields<'_> {
    /// Lowercase hex SHA-256 of the canonical encoding.
    pub(crate) fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(DOMAIN);
        text(&mut h, self.prev_hash);
        h.update(self.id.to_be_bytes());
        text(&mut h, self.at);
        text(&mut h, self.statement_id);
        text(&mut h, self.organization);
        optional(&mut h, self.from_state, text);
        text(&mut h, self.to_state);
        h.update(self.attempt.to_be_bytes());
        optional(&mut h, self.smtp_code, |h, c| h.update(c.to_be_bytes()));
        optional(&mut h, self.smtp_reply, text);
        text(&mut h, self.detail);
        hex::encode(h.finalize())
    }
}

fn text(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_be_bytes());
    h.update(s.as_bytes());
}

fn optional<T>(h: &mut Sha256, value: Option<T>, encode: impl FnOnce(&mut Sha256, T)) {
    match value {
        None => h.update([0u8]),
        Some(v) => {
            h.update([1u8]);
            encode(h, v);
        }
    }
}

/// What a letter's creation event records about its statement, read back from the stored
/// `statements` row so that every creation event of one statement says the same. The text is
/// covered by its SHA-256 (over its UTF-8 bytes, exactly as stored); `held` is not here, as
/// `herald approve` changes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StatementDigest {
    pub(crate) title: String,
    pub(crate) source: String,
    pub(crate) file_name: String,
    pub(crate) registered_at: String,
    pub(crate) text_sha256: String,
}

impl StatementDigest {
    pub(crate) fn of(
        title: &str,
        source: &str,
        file_name: &str,
        registered_at: &str,
        text: &str,
    ) -> StatementDigest {
        StatementDigest {
            title: title.to_string(),
            source: source.to_string(),
            file_name: file_name.to_string(),
            registered_at: registered_at.to_string(),
            text_sha256: hex::encode(Sha256::digest(text.as_bytes())),
        }
    }

    /// The first field where `stored` (the row) differs from `self` (the chain).
    fn difference(&self, stored: &StatementDigest) -> Option<String> {
        let fields = [
            ("title", &stored.title, &self.title),
            ("source", &stored.source, &self.source),
            ("file name", &stored.file_name, &self.file_name),
            (
                "registration time",
                &stored.registered_at,
                &self.registered_at,
            ),
        ];
        for (name, row, chain) in fields {
            if row != chain {
                return Some(format!("{name} `{row}` but the event says `{chain}`"));
            }
        }
        (stored.text_sha256 != self.text_sha256).then(|| {
            format!(
                "text whose SHA-256 is `{}` but the event says `{}`: the text was changed",
                stored.text_sha256, self.text_sha256
            )
        })
    }
}

/// Where a letter is sent, as its creation event and any later address change record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Addresses {
    pub(crate) to: Vec<String>,
    pub(crate) cc: Vec<String>,
    pub(crate) message_id: String,
}

/// The detail of a letter's creation event.
#[derive(Debug, Serialize)]
pub(crate) struct CreationDetail<'a> {
    #[serde(flatten)]
    pub(crate) addresses: &'a Addresses,
    pub(crate) statement: &'a StatementDigest,
}

/// The parts of an event's detail that say what the letter's row must hold.
#[derive(Debug, Default, Deserialize)]
struct Detail {
    to: Option<Vec<String>>,
    cc: Option<Vec<String>>,
    message_id: Option<String>,
    statement: Option<StatementDigest>,
    addresses_changed: Option<Addresses>,
    /// Each address's outcome so far: carried by every event that sets the row's `recipients`
    /// (claims and outcomes); an event without it leaves them as they were.
    recipients: Option<Vec<RecipientOutcome>>,
}

/// A letter as the chain says it must be: replayed from its events in order.
struct LetterChain {
    created: (i64, String),
    last_id: i64,
    last_at: String,
    to_state: String,
    attempt: i64,
    smtp_code: Option<i64>,
    smtp_reply: Option<String>,
    /// The event that last set the addresses, and what it says.
    addresses: (i64, Addresses),
    /// The event that last set the per-address outcomes, and what it says.
    recipients: (i64, Vec<RecipientOutcome>),
}

/// A statement as its letters' creation events record it.
struct StatementChain {
    first_event: i64,
    digest: StatementDigest,
}

fn broken(event_id: i64, reason: String) -> VerifyReport {
    VerifyReport::Broken { event_id, reason }
}

/// The last event of the chain, unchecked.
pub(super) fn head(conn: &Connection) -> rusqlite::Result<Option<Head>> {
    conn.query_row(
        "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1",
        [],
        |r| {
            Ok(Head {
                id: r.get(0)?,
                hash: r.get(1)?,
            })
        },
    )
    .optional()
}

/// Recomputes the chain in id order, replaying what each event says about its letter and
/// statement; then checks every `letters` and `statements` row against it, and that the chain
/// still holds `expected`. Runs inside one read transaction so a concurrent writer cannot produce
/// a false alarm. Stops at the first problem.
pub(super) fn verify(
    conn: &Connection,
    expected: Option<&ExpectedHead>,
) -> rusqlite::Result<VerifyReport> {
    let tx = conn.unchecked_transaction()?;
    let mut letters: HashMap<(String, String), LetterChain> = HashMap::new();
    let mut statements: BTreeMap<String, StatementChain> = BTreeMap::new();
    let mut expected_prev = GENESIS.to_string();
    let mut previous_id: Option<i64> = None;
    let mut found_expected = false;
    // The event that has the expected hash under another number, and the event of the expected
    // number with another hash.
    let mut hash_elsewhere: Option<i64> = None;
    let mut rewritten_at: Option<(i64, String)> = None;
    let mut count: u64 = 0;
    {
        let mut stmt = tx.prepare(
            "SELECT id, at, statement_id, organization, from_state, to_state, attempt, \
             smtp_code, smtp_reply, detail, prev_hash, hash FROM events ORDER BY id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let at: String = row.get(1)?;
            let statement_id: String = row.get(2)?;
            let organization: String = row.get(3)?;
            let from_state: Option<String> = row.get(4)?;
            let to_state: String = row.get(5)?;
            let attempt: i64 = row.get(6)?;
            let smtp_code: Option<i64> = row.get(7)?;
            let smtp_reply: Option<String> = row.get(8)?;
            let detail: String = row.get(9)?;
            let prev_hash: String = row.get(10)?;
            let hash: String = row.get(11)?;

            let expected_id = previous_id.map_or(1, |p| p + 1);
            if id != expected_id {
                let reason = match previous_id {
                    None => format!("the chain starts at event #{id}: earlier events were removed"),
                    Some(p) => {
                        format!("event #{id} follows event #{p}: events in between were removed")
                    }
                };
                return Ok(broken(id, reason));
            }
            if prev_hash != expected_prev {
                return Ok(broken(
                    id,
                    format!(
                        "its previous hash `{prev_hash}` is not the hash of the event before it \
                         (`{expected_prev}`)"
                    ),
                ));
            }
            let fields = EventFields {
                prev_hash: &prev_hash,
                id,
                at: &at,
                statement_id: &statement_id,
                organization: &organization,
                from_state: from_state.as_deref(),
                to_state: &to_state,
                attempt,
                smtp_code,
                smtp_reply: smtp_reply.as_deref(),
                detail: &detail,
            };
            if fields.hash() != hash {
                return Ok(broken(
                    id,
                    format!(
                        "its content does not match its hash `{hash}`: it was changed after it \
                         was written"
                    ),
                ));
            }
            if let Some(want) = expected {
                if want.id.is_none_or(|w| w == id) && want.hash == hash {
                    found_expected = true;
                } else if want.hash == hash {
                    // The expected hash, under another number than the one given: the chain
                    // holds it (ids run without gaps, and each hash covers its id), so the
                    // number was noted or typed wrong. Said once the rest has been checked.
                    hash_elsewhere = Some(id);
                } else if want.id == Some(id) {
                    rewritten_at = Some((id, hash.clone()));
                }
            }
            // The hash vouches for the detail: herald wrote it, so it must be what herald writes.
            let Ok(said) = serde_json::from_str::<Detail>(&detail) else {
                return Ok(broken(
                    id,
                    format!("its detail `{detail}` is not what herald writes"),
                ));
            };
            let letter = format!("`{statement_id}` / `{organization}`");
            let key = (statement_id, organization);
            if from_state.is_none() {
                let (Some(to), Some(cc), Some(message_id), Some(digest)) =
                    (said.to, said.cc, said.message_id, said.statement)
                else {
                    return Ok(broken(
                        id,
                        format!(
                            "it creates letter {letter} but does not record its addresses and \
                             statement"
                        ),
                    ));
                };
                if letters.contains_key(&key) {
                    return Ok(broken(
                        id,
                        format!("it creates letter {letter} a second time"),
                    ));
                }
                match statements.get(&key.0) {
                    Some(known) if known.digest != digest => {
                        return Ok(broken(
                            id,
                            format!(
                                "it records statement `{}` unlike event #{} does",
                                key.0, known.first_event
                            ),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        statements.insert(
                            key.0.clone(),
                            StatementChain {
                                first_event: id,
                                digest,
                            },
                        );
                    }
                }
                letters.insert(
                    key,
                    LetterChain {
                        created: (id, at.clone()),
                        last_id: id,
                        last_at: at,
                        to_state,
                        attempt,
                        smtp_code,
                        smtp_reply,
                        addresses: (id, Addresses { to, cc, message_id }),
                        recipients: (id, Vec::new()),
                    },
                );
            } else {
                let Some(chain) = letters.get_mut(&key) else {
                    return Ok(broken(
                        id,
                        format!("it moves letter {letter}, which no earlier event creates"),
                    ));
                };
                chain.last_id = id;
                chain.last_at = at;
                chain.to_state = to_state;
                chain.attempt = attempt;
                chain.smtp_code = smtp_code;
                chain.smtp_reply = smtp_reply;
                if let Some(addresses) = said.addresses_changed {
                    chain.addresses = (id, addresses);
                }
                if let Some(recipients) = said.recipients {
                    chain.recipients = (id, recipients);
                }
            }
            expected_prev = hash;
            previous_id = Some(id);
            count += 1;
        }
    }
    let wrong_number = expected
        .filter(|_| !found_expected)
        .and_then(|want| Some((want.id?, hash_elsewhere?)));
    if let Some((id, hash)) = rewritten_at.filter(|_| wrong_number.is_none()) {
        let want = expected.map_or("", |w| w.hash.as_str());
        return Ok(broken(
            id,
            format!(
                "its hash is `{hash}`, not the expected head `{want}`: the journal was rewritten \
                 up to that event"
            ),
        ));
    }
    if let Some(want) = expected.filter(|_| !found_expected && wrong_number.is_none()) {
        let end = previous_id.map_or_else(
            || "the journal has no event".to_string(),
            |p| format!("the chain ends at event #{p}"),
        );
        let (event_id, place) = match want.id {
            Some(w) => (w, format!("event #{w}")),
            None => (0, "any event".to_string()),
        };
        return Ok(broken(
            event_id,
            format!(
                "the expected head `{}` is not the hash of {place} ({end}): events written before \
                 that head was noted were removed or rewritten",
                want.hash
            ),
        ));
    }

    if let Some(problem) = check_letters(&tx, &mut letters)? {
        return Ok(problem);
    }
    if let Some(problem) = check_statements(&tx, &mut statements)? {
        return Ok(problem);
    }
    // Events of a letter whose row was deleted (possible only with foreign keys off).
    if let Some(((statement_id, organization), chain)) =
        letters.into_iter().min_by_key(|(_, c)| c.created.0)
    {
        return Ok(broken(
            chain.last_id,
            format!("letter `{statement_id}` / `{organization}` was removed"),
        ));
    }
    if let Some((id, chain)) = statements.into_iter().min_by_key(|(_, c)| c.first_event) {
        return Ok(broken(
            chain.first_event,
            format!("statement `{id}` was removed"),
        ));
    }
    let head = previous_id.map(|id| Head {
        id,
        hash: expected_prev,
    });
    if let Some((expected_id, actual_id)) = wrong_number {
        return Ok(VerifyReport::HeadNumberMismatch {
            expected_id,
            actual_id,
            events: count,
            head,
        });
    }
    Ok(VerifyReport::Intact {
        events: count,
        head,
    })
}

/// Compares each `letters` row with what its events say, removing the letters seen from `chain`.
fn check_letters(
    tx: &Connection,
    chain: &mut HashMap<(String, String), LetterChain>,
) -> rusqlite::Result<Option<VerifyReport>> {
    let mut stmt = tx.prepare(
        "SELECT statement_id, organization, state, attempts, smtp_code, smtp_reply, \
         to_addresses, cc_addresses, message_id, recipients, created_at, updated_at \
         FROM letters ORDER BY statement_id, organization",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let statement_id: String = row.get(0)?;
        let organization: String = row.get(1)?;
        let state: String = row.get(2)?;
        let attempts: i64 = row.get(3)?;
        let smtp_code: Option<i64> = row.get(4)?;
        let smtp_reply: Option<String> = row.get(5)?;
        let to: String = row.get(6)?;
        let cc: String = row.get(7)?;
        let message_id: String = row.get(8)?;
        let recipients: String = row.get(9)?;
        let created_at: String = row.get(10)?;
        let updated_at: String = row.get(11)?;
        let letter = format!("`{statement_id}` / `{organization}`");
        let Some(last) = chain.remove(&(statement_id, organization)) else {
            return Ok(Some(broken(
                0,
                format!("letter {letter} has no event: its history was removed"),
            )));
        };
        let (addressed, said) = &last.addresses;
        let (outcomes, outcomes_said) = &last.recipients;
        // (the event that says it, what the row has, what the event says), in the words of the
        // report; rows hold JSON exactly as herald serialises it, so text is compared as text.
        let checks: [(i64, &str, String, String); 10] = [
            (last.last_id, "state", state, last.to_state.clone()),
            (
                last.last_id,
                "attempts",
                attempts.to_string(),
                last.attempt.to_string(),
            ),
            (
                last.last_id,
                "SMTP code",
                show(smtp_code),
                show(last.smtp_code),
            ),
            (
                last.last_id,
                "SMTP reply",
                show(smtp_reply.as_deref()),
                show(last.smtp_reply.as_deref()),
            ),
            (*addressed, "to", to, json(&said.to)),
            (*addressed, "cc", cc, json(&said.cc)),
            (
                *addressed,
                "Message-ID",
                message_id,
                said.message_id.clone(),
            ),
            (
                *outcomes,
                "per-address outcomes",
                recipients,
                json(outcomes_said),
            ),
            (
                last.created.0,
                "creation time",
                created_at,
                last.created.1.clone(),
            ),
            (
                last.last_id,
                "update time",
                updated_at,
                last.last_at.clone(),
            ),
        ];
        for (event_id, what, row_has, event_says) in checks {
            if row_has != event_says {
                return Ok(Some(broken(
                    event_id,
                    format!(
                        "letter {letter} does not match this event: it has {what} `{row_has}` \
                         but the event says `{event_says}`"
                    ),
                )));
            }
        }
    }
    Ok(None)
}

/// Compares each `statements` row with what its letters' creation events say, removing the
/// statements seen from `chain`.
fn check_statements(
    tx: &Connection,
    chain: &mut BTreeMap<String, StatementChain>,
) -> rusqlite::Result<Option<VerifyReport>> {
    let mut stmt = tx.prepare(
        "SELECT id, title, source, file_name, registered_at, text FROM statements ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let stored = StatementDigest::of(
            &row.get::<_, String>(1)?,
            &row.get::<_, String>(2)?,
            &row.get::<_, String>(3)?,
            &row.get::<_, String>(4)?,
            &row.get::<_, String>(5)?,
        );
        let Some(said) = chain.remove(&id) else {
            return Ok(Some(broken(
                0,
                format!(
                    "statement `{id}` has no event: herald did not record it, or its letters' \
                     history was removed"
                ),
            )));
        };
        if let Some(what) = said.digest.difference(&stored) {
            return Ok(Some(broken(
                said.first_event,
                format!("statement `{id}` does not match this event: it has {what}"),
            )));
        }
    }
    Ok(None)
}

fn json<T: Serialize>(value: &T) -> String {
    // Serialising strings and derived structs into a String cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

fn show<T: ToString>(value: Option<T>) -> String {
    value.map_or_else(|| "none".to_string(), |v| v.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;

    fn base() -> EventFields<'static> {
        EventFields {
            prev_hash: GENESIS,
            id: 1,
            at: "2021-05-27T09:00:00.000000Z",
            statement_id: "2021-05-27-1a2b3c4d",
            organization: "un-secretary-general",
            from_state: None,
            to_state: "pending",
            attempt: 0,
            smtp_code: None,
            smtp_reply: None,
            detail: "{}",
        }
    }

    #[test]
    fn every_field_changes_the_hash() {
        let original = base().hash();
        let variants: Vec<(&str, EventFields)> = vec![
            (
                "prev_hash",
                EventFields {
                    prev_hash: "1",
                    ..base()
                },
            ),
            ("id", EventFields { id: 2, ..base() }),
            (
                "at",
                EventFields {
                    at: "2021-05-27T09:00:00.000001Z",
                    ..base()
                },
            ),
            (
                "statement",
                EventFields {
                    statement_id: "2021-05-27-1a2b3c4e",
                    ..base()
                },
            ),
            (
                "organization",
                EventFields {
                    organization: "un",
                    ..base()
                },
            ),
            (
                "from_state",
                EventFields {
                    from_state: Some("pending"),
                    ..base()
                },
            ),
            (
                "to_state",
                EventFields {
                    to_state: "sending",
                    ..base()
                },
            ),
            (
                "attempt",
                EventFields {
                    attempt: 1,
                    ..base()
                },
            ),
            (
                "smtp_code",
                EventFields {
                    smtp_code: Some(250),
                    ..base()
                },
            ),
            (
                "smtp_reply",
                EventFields {
                    smtp_reply: Some("250 ok"),
                    ..base()
                },
            ),
            (
                "detail",
                EventFields {
                    detail: "{\"a\":1}",
                    ..base()
                },
            ),
        ];
        for (name, fields) in variants {
            assert_ne!(
                fields.hash(),
                original,
                "changing {name} must change the hash"
            );
        }
    }

    #[test]
    fn empty_and_absent_and_shifted_values_differ() {
        let absent = EventFields {
            smtp_reply: None,
            ..base()
        }
        .hash();
        let empty = EventFields {
            smtp_reply: Some(""),
            ..base()
        }
        .hash();
        assert_ne!(absent, empty);
        // Moving text from one field to the next must not collide.
        let a = EventFields {
            statement_id: "ab",
            organization: "c",
            ..base()
        }
        .hash();
        let b = EventFields {
            statement_id: "a",
            organization: "bc",
            ..base()
        }
        .hash();
        assert_ne!(a, b);
        assert_eq!(base().hash().len(), 64);
    }
}
