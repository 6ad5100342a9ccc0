//! Reading the journal: letters for `herald history`, statements and retries for the daemon,
//! the overview behind `herald status`, and earlier versions of a statement that some of its
//! organisations already received. Nothing here writes.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::schema::{parse_timestamp, timestamp};
use super::{
    AlreadyReceived, HistoryFilter, JournalError, LetterKey, LetterRow, Overview, State,
    StatementInfo, StatementOverview,
};
use crate::statement::StatementId;

const LETTER_COLUMNS: &str = "statement_id, organization, to_addresses, cc_addresses, state, \
     attempts, smtp_code, smtp_reply, message_id, recipients, next_attempt_at, created_at, \
     updated_at";

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
