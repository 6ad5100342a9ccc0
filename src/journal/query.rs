//! Reading the journal: letters for `herald history`, statements and retries for the daemon,
//! the overview behind `herald status`, and earlier versions of a statement that some of its
//! organisations already received. Nothing here writes.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::schema::{parse_timestamp, timestamp};
use super::{JournalError, LetterKey, RecipientOutcome, State, StatementInfo};
use crate::statement::StatementId;

const LETTER_COLUMNS: &str = "statement_id, organization, to_addresses, cc_addresses, state, \
     attempts, smtp_code, smtp_reply, message_id, recipients, next_attempt_at, created_at, \
     updated_at";

/// One letter as history shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LetterRow {
    pub(crate) statement_id: String,
    pub(crate) organization: String,
    pub(crate) to: Vec<String>,
    pub(crate) cc: Vec<String>,
    pub(crate) status: State,
    pub(crate) attempts: u32,
    pub(crate) smtp_code: Option<u16>,
    pub(crate) smtp_reply: Option<String>,
    pub(crate) message_id: String,
    pub(crate) recipients: Vec<RecipientOutcome>,
    pub(crate) next_attempt_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

/// Filters of `herald history`.
#[derive(Debug, Clone, Default)]
pub(crate) struct HistoryFilter {
    pub(crate) statement: Option<String>,
    pub(crate) organization: Option<String>,
    pub(crate) status: Option<State>,
    pub(crate) since: Option<DateTime<Utc>>,
    pub(crate) until: Option<DateTime<Utc>>,
}

/// One statement as `herald status` shows it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct StatementOverview {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) held: bool,
    pub(crate) registered_at: DateTime<Utc>,
    /// Letters per state; states with no letter are absent.
    pub(crate) counts: BTreeMap<State, u32>,
    /// The soonest retry of one of its deferred letters.
    pub(crate) next_retry: Option<DateTime<Utc>>,
}

/// What `herald status` shows: every statement, oldest first, and the next retry overall.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Overview {
    pub(crate) statements: Vec<StatementOverview>,
    pub(crate) next_retry: Option<DateTime<Utc>>,
}

/// A different statement (an earlier version: same title, or same date and file name) whose
/// letters some of the same organisations already received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct AlreadyReceived {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) file_name: String,
    /// Those of the organisations asked about that have its letter `sent` or `partial`.
    pub(crate) organizations: Vec<String>,
    /// When the first of those letters was recorded sent.
    pub(crate) sent_at: DateTime<Utc>,
}

impl AlreadyReceived {
    /// The warning shown before the new statement goes out, e.g. ``42 of these organisations
    /// already received statement 2021-05-27-49d0abd7 «title» on 2026-11-27 10:02 UTC; …``.
    pub(crate) fn warning(&self) -> String {
        format!(
            "{} of these organisations already received statement {} «{}» on {}; this text \
             differs, so it is a new statement and they will receive it again",
            self.organizations.len(),
            self.id,
            self.title,
            self.sent_at.format("%Y-%m-%d %H:%M UTC"),
        )
    }
}

/// A stored value that herald did not write (or that was edited by hand).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct BadValue(String);

fn bad(index: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        index,
        rusqlite::types::Type::Text,
        Box::new(BadValue(message)),
    )
}

fn time_at(row: &Row<'_>, index: usize) -> rusqlite::Result<DateTime<Utc>> {
    let text: String = row.get(index)?;
    parse_timestamp(&text).map_err(|m| bad(index, m))
}

fn json_at<T: serde::de::DeserializeOwned>(row: &Row<'_>, index: usize) -> rusqlite::Result<T> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|e| bad(index, format!("`{text}` is not valid here: {e}")))
}

fn letter_row(row: &Row<'_>) -> rusqlite::Result<LetterRow> {
    let status: String = row.get(4)?;
    Ok(LetterRow {
        statement_id: row.get(0)?,
        organization: row.get(1)?,
        to: json_at(row, 2)?,
        cc: json_at(row, 3)?,
        status: status.parse().map_err(|m| bad(4, m))?,
        attempts: row.get(5)?,
        smtp_code: row.get(6)?,
        smtp_reply: row.get(7)?,
        message_id: row.get(8)?,
        recipients: json_at(row, 9)?,
        next_attempt_at: match row.get::<_, Option<String>>(10)? {
            Some(text) => Some(parse_timestamp(&text).map_err(|m| bad(10, m))?),
            None => None,
        },
        created_at: time_at(row, 11)?,
        updated_at: time_at(row, 12)?,
    })
}

pub(crate) struct Queries<'a> {
    pub(crate) conn: &'a Connection,
    pub(crate) path: &'a Path,
}

impl Queries<'_> {
    fn sql(&self, source: rusqlite::Error) -> JournalError {
        JournalError::Sqlite {
            path: self.path.to_path_buf(),
            source,
        }
    }

    fn letters(&self, condition: &str, values: &[Value]) -> Result<Vec<LetterRow>, JournalError> {
        let sql = format!(
            "SELECT {LETTER_COLUMNS} FROM letters {condition} \
             ORDER BY updated_at, statement_id, organization"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), letter_row)
            .map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    pub(crate) fn letters_of(
        &self,
        statement: &StatementId,
    ) -> Result<Vec<LetterRow>, JournalError> {
        self.letters(
            "WHERE statement_id = ?1",
            &[Value::Text(statement.as_str().to_string())],
        )
    }

    pub(crate) fn history(&self, filter: &HistoryFilter) -> Result<Vec<LetterRow>, JournalError> {
        let mut clauses = Vec::new();
        let mut values = Vec::new();
        let mut add = |clause: &str, value: String| {
            values.push(Value::Text(value));
            clauses.push(format!("{clause} ?{}", values.len()));
        };
        if let Some(s) = &filter.statement {
            add("statement_id =", s.clone());
        }
        if let Some(o) = &filter.organization {
            add("organization =", o.clone());
        }
        if let Some(st) = filter.status {
            add("state =", st.as_str().to_string());
        }
        if let Some(t) = filter.since {
            add("updated_at >=", timestamp(t));
        }
        if let Some(t) = filter.until {
            add("updated_at <", timestamp(t));
        }
        let condition = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        self.letters(&condition, &values)
    }

    pub(crate) fn statement(
        &self,
        id: &StatementId,
    ) -> Result<Option<StatementInfo>, JournalError> {
        self.conn
            .query_row(
                "SELECT title, source, held, file_name, text FROM statements WHERE id = ?1",
                params![id.as_str()],
                |r| {
                    Ok(StatementInfo {
                        id: id.clone(),
                        title: r.get(0)?,
                        source: r.get(1)?,
                        held: r.get(2)?,
                        file_name: r.get(3)?,
                        text: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sql(e))
    }

    pub(crate) fn due_retries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<(LetterKey, DateTime<Utc>)>, JournalError> {
        // Every deferred letter, soonest first: the caller sleeps until the first one and may
        // take all those already due. A deferred letter without a time is due now.
        let mut stmt = self
            .conn
            .prepare(
                "SELECT statement_id, organization, next_attempt_at FROM letters \
                 WHERE state = 'deferred' \
                 ORDER BY next_attempt_at IS NOT NULL, next_attempt_at, statement_id, organization",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (statement, organization, next) = row.map_err(|e| self.sql(e))?;
            let key = super::letter_key(self.path, &statement, &organization)?;
            let when = match next {
                Some(text) => parse_timestamp(&text).map_err(|m| JournalError::Other {
                    path: self.path.to_path_buf(),
                    message: format!("letter `{statement}` / `{organization}`: {m}"),
                })?,
                None => now,
            };
            out.push((key, when));
        }
        Ok(out)
    }

    /// Other statements with the same title, or the same date and file name, as `statement`,
    /// whose letters were `sent` (or `partial`: some addresses have it) to any of `organizations`;
    /// oldest first. A corrected statement has a new id, so without this its letters would go to
    /// everyone again with nothing said.
    pub(crate) fn already_received(
        &self,
        statement: &StatementId,
        title: &str,
        file_name: &str,
        organizations: &[&str],
    ) -> Result<Vec<AlreadyReceived>, JournalError> {
        // `<date>-<hash>`: the date is what precedes the hash; an undated id has none to match.
        let date = statement
            .as_str()
            .rsplit_once('-')
            .map(|(date, _)| date)
            .filter(|d| *d != "undated")
            .unwrap_or("");
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.id, s.title, s.file_name, l.organization, l.updated_at \
                 FROM statements s JOIN letters l ON l.statement_id = s.id \
                 WHERE s.id <> ?1 AND l.state IN ('sent', 'partial') \
                 AND (s.title = ?2 OR (?3 <> '' AND s.id LIKE ?3 || '-%' AND s.file_name = ?4)) \
                 ORDER BY s.registered_at, s.id, l.organization",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map(params![statement.as_str(), title, date, file_name], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    time_at(r, 4)?,
                ))
            })
            .map_err(|e| self.sql(e))?;
        // A set: a correction of a statement to 20,000 organisations meets 20,000 rows here,
        // and a linear search of the slice for each made this quadratic.
        let wanted: std::collections::HashSet<&str> = organizations.iter().copied().collect();
        let mut out: Vec<AlreadyReceived> = Vec::new();
        for row in rows {
            let (id, title, file_name, organization, at) = row.map_err(|e| self.sql(e))?;
            if !wanted.contains(organization.as_str()) {
                continue;
            }
            match out.iter_mut().find(|e| e.id == id) {
                Some(earlier) => {
                    earlier.sent_at = earlier.sent_at.min(at);
                    earlier.organizations.push(organization);
                }
                None => out.push(AlreadyReceived {
                    id,
                    title,
                    file_name,
                    organizations: vec![organization],
                    sent_at: at,
                }),
            }
        }
        Ok(out)
    }

    pub(crate) fn overview(&self) -> Result<Overview, JournalError> {
        let mut statements: Vec<StatementOverview> = {
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT id, title, held, registered_at FROM statements \
                     ORDER BY registered_at, id",
                )
                .map_err(|e| self.sql(e))?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(StatementOverview {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        held: r.get(2)?,
                        registered_at: time_at(r, 3)?,
                        counts: BTreeMap::new(),
                        next_retry: None,
                    })
                })
                .map_err(|e| self.sql(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))?
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT statement_id, state, COUNT(*), \
                 MIN(CASE WHEN state = 'deferred' THEN next_attempt_at END) \
                 FROM letters GROUP BY statement_id, state",
            )
            .map_err(|e| self.sql(e))?;
        let rows = stmt
            .query_map([], |r| {
                let state: String = r.get(1)?;
                let next = match r.get::<_, Option<String>>(3)? {
                    Some(text) => Some(parse_timestamp(&text).map_err(|m| bad(3, m))?),
                    None => None,
                };
                Ok((
                    r.get::<_, String>(0)?,
                    state.parse::<State>().map_err(|m| bad(1, m))?,
                    r.get::<_, u32>(2)?,
                    next,
                ))
            })
            .map_err(|e| self.sql(e))?;
        for row in rows {
            let (statement, state, count, next) = row.map_err(|e| self.sql(e))?;
            if let Some(s) = statements.iter_mut().find(|s| s.id == statement) {
                s.counts.insert(state, count);
                s.next_retry = match (s.next_retry, next) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        let next_retry = statements.iter().filter_map(|s| s.next_retry).min();
        Ok(Overview {
            statements,
            next_retry,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::super::tests::{drive_to, journal, key, outcome, planned, statement, t};
    use super::super::*;

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

    #[test]
    fn earlier_versions_already_received_are_found_by_title_or_by_date_and_file_name() {
        let (_dir, mut j) = journal();
        j.register(
            &statement(),
            &[
                planned("un"),
                planned("coe"),
                planned("ipb"),
                planned("osce"),
            ],
            t(0),
        )
        .unwrap();
        drive_to(&mut j, "un", State::Sent);
        drive_to(&mut j, "coe", State::Partial);
        drive_to(&mut j, "ipb", State::Failed);
        let asked = ["un", "coe", "ipb", "osce", "unesco"];
        // (id, title, file name, organisations expected to have it already)
        let rows: [(&str, &str, &str, &[&str]); 6] = [
            // A corrected text: new id, same title and file.
            (
                "2021-05-27-99999999",
                "On the Kalbajar district",
                "kalbajar.txt",
                &["coe", "un"],
            ),
            // Title reworded, same date and file name.
            (
                "2021-05-27-99999999",
                "On Kalbajar",
                "kalbajar.txt",
                &["coe", "un"],
            ),
            // Same title on another day and file.
            (
                "2021-06-01-99999999",
                "On the Kalbajar district",
                "other.txt",
                &["coe", "un"],
            ),
            // Same file name on another day, other title: another statement.
            ("2021-06-01-99999999", "On Lachin", "kalbajar.txt", &[]),
            // Same date, other file and title.
            ("2021-05-27-99999999", "On Lachin", "lachin.txt", &[]),
            // The statement itself is never its own earlier version.
            (
                "2021-05-27-1a2b3c4d",
                "On the Kalbajar district",
                "kalbajar.txt",
                &[],
            ),
        ];
        for (id, title, file, expected) in rows {
            let found = j
                .already_received(&StatementId::parse(id).unwrap(), title, file, &asked)
                .unwrap();
            let orgs: Vec<&str> = found
                .iter()
                .flat_map(|e| e.organizations.iter().map(String::as_str))
                .collect();
            assert_eq!(orgs, expected, "{id} {title} {file}");
            if let Some(earlier) = found.first() {
                assert_eq!(found.len(), 1);
                assert_eq!(earlier.id, "2021-05-27-1a2b3c4d");
                assert_eq!(earlier.sent_at, t(2));
                assert!(earlier.warning().starts_with(
                    "2 of these organisations already received statement 2021-05-27-1a2b3c4d \
                     «On the Kalbajar district» on 2021-05-27 09:02 UTC"
                ));
            }
        }
        // Only the organisations asked about count.
        let found = j
            .already_received(
                &StatementId::parse("2021-05-27-99999999").unwrap(),
                "On the Kalbajar district",
                "kalbajar.txt",
                &["coe", "unesco"],
            )
            .unwrap();
        assert_eq!(found[0].organizations, ["coe"]);
    }
}
