//! The hash chain over `events`, and `herald verify`.
//!
//! Each event's hash covers the previous event's hash and every field of the event, encoded so
//! that no two different events share an encoding (every field is length-prefixed, absent values
//! are distinct from empty ones). Changing, removing or reordering an event therefore breaks the
//! chain from that event on. The `letters` table is a cache of each letter's last event; verify
//! checks that too, so a reply edited in either table is found.

use std::collections::HashMap;

use rusqlite::Connection;
use sha2::{Digest, Sha256};

use super::VerifyReport;

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

/// What the last event of a letter says, to compare with its `letters` row.
struct LastEvent {
    id: i64,
    to_state: String,
    attempt: i64,
    smtp_code: Option<i64>,
    smtp_reply: Option<String>,
}

/// Recomputes the chain in id order, then checks every letter against its last event.
/// Runs inside one read transaction so a concurrent writer cannot produce a false alarm.
pub(super) fn verify(conn: &Connection) -> rusqlite::Result<VerifyReport> {
    let tx = conn.unchecked_transaction()?;
    let mut last_of: HashMap<(String, String), LastEvent> = HashMap::new();
    let mut expected_prev = GENESIS.to_string();
    let mut previous_id: Option<i64> = None;
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
                return Ok(VerifyReport::Broken {
                    event_id: id,
                    reason,
                });
            }
            if prev_hash != expected_prev {
                return Ok(VerifyReport::Broken {
                    event_id: id,
                    reason: format!(
                        "its previous hash `{prev_hash}` is not the hash of the event before it \
                         (`{expected_prev}`)"
                    ),
                });
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
            let computed = fields.hash();
            if computed != hash {
                return Ok(VerifyReport::Broken {
                    event_id: id,
                    reason: format!(
                        "its content does not match its hash `{hash}`: it was changed after it \
                         was written"
                    ),
                });
            }
            last_of.insert(
                (statement_id, organization),
                LastEvent {
                    id,
                    to_state,
                    attempt,
                    smtp_code,
                    smtp_reply,
                },
            );
            expected_prev = hash;
            previous_id = Some(id);
            count += 1;
        }
    }

    let mut stmt = tx.prepare(
        "SELECT statement_id, organization, state, attempts, smtp_code, smtp_reply FROM letters \
         ORDER BY statement_id, organization",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let statement_id: String = row.get(0)?;
        let organization: String = row.get(1)?;
        let state: String = row.get(2)?;
        let attempts: i64 = row.get(3)?;
        let smtp_code: Option<i64> = row.get(4)?;
        let smtp_reply: Option<String> = row.get(5)?;
        let letter = format!("`{statement_id}` / `{organization}`");
        let Some(last) = last_of.remove(&(statement_id, organization)) else {
            return Ok(VerifyReport::Broken {
                event_id: 0,
                reason: format!("letter {letter} has no event: its history was removed"),
            });
        };
        let mismatch = if state != last.to_state {
            Some(format!(
                "state `{state}` but the event says `{}`",
                last.to_state
            ))
        } else if attempts != last.attempt {
            Some(format!(
                "{attempts} attempts but the event says {}",
                last.attempt
            ))
        } else if smtp_code != last.smtp_code {
            Some(format!(
                "SMTP code `{}` but the event says `{}`",
                show(smtp_code),
                show(last.smtp_code)
            ))
        } else if smtp_reply != last.smtp_reply {
            Some(format!(
                "SMTP reply `{}` but the event says `{}`",
                show(smtp_reply.as_deref()),
                show(last.smtp_reply.as_deref())
            ))
        } else {
            None
        };
        if let Some(what) = mismatch {
            return Ok(VerifyReport::Broken {
                event_id: last.id,
                reason: format!("letter {letter} does not match its last event: it has {what}"),
            });
        }
    }
    // Events of a letter whose row was deleted (possible only with foreign keys off).
    if let Some(((statement_id, organization), last)) =
        last_of.into_iter().min_by_key(|(_, l)| l.id)
    {
        return Ok(VerifyReport::Broken {
            event_id: last.id,
            reason: format!("letter `{statement_id}` / `{organization}` was removed"),
        });
    }
    Ok(VerifyReport::Intact { events: count })
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
