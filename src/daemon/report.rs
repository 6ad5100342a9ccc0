//! The report written next to a processed statement, `<data>/processed/<statement-id>.report.json`:
//! the statement, every letter with its outcome, and counts per state. It is rewritten after each
//! retry of the statement's deferred letters, so it always shows the journal's latest word.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::journal::{AlreadyReceived, Head, LetterRow, State, StatementInfo};

#[derive(Debug, Serialize)]
pub(crate) struct Report<'a> {
    statement: StatementPart<'a>,
    letters: Vec<LetterPart<'a>>,
    /// Letters per state; states with no letter are absent.
    counts: BTreeMap<State, u32>,
    /// Earlier versions of the statement (same title, or same date and file name) that some of
    /// its organisations had already received before this one went to them too.
    already_received: &'a [AlreadyReceived],
    /// The journal's last event when the report was written: kept with the report, it lets
    /// `herald verify --expect-head` prove later that nothing up to it was removed.
    journal_head: Option<&'a Head>,
    written_at: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
struct StatementPart<'a> {
    id: &'a str,
    title: &'a str,
    file: &'a str,
}

#[derive(Debug, Serialize)]
struct LetterPart<'a> {
    organization: &'a str,
    to: &'a [String],
    status: State,
    attempts: u32,
    smtp_code: Option<u16>,
    smtp_reply: Option<&'a str>,
    message_id: &'a str,
    next_attempt_at: Option<DateTime<Utc>>,
}

impl<'a> Report<'a> {
    pub(crate) fn new(
        statement: &'a StatementInfo,
        rows: &'a [LetterRow],
        already_received: &'a [AlreadyReceived],
        journal_head: Option<&'a Head>,
        now: DateTime<Utc>,
    ) -> Report<'a> {
        let mut counts = BTreeMap::new();
        for row in rows {
            *counts.entry(row.status).or_insert(0) += 1;
        }
        Report {
            statement: StatementPart {
                id: statement.id.as_str(),
                title: &statement.title,
                file: &statement.file_name,
            },
            letters: rows
                .iter()
                .map(|row| LetterPart {
                    organization: &row.organization,
                    to: &row.to,
                    status: row.status,
                    attempts: row.attempts,
                    smtp_code: row.smtp_code,
                    smtp_reply: row.smtp_reply.as_deref(),
                    message_id: &row.message_id,
                    next_attempt_at: row.next_attempt_at,
                })
                .collect(),
            counts,
            already_received,
            journal_head,
            written_at: now,
        }
    }
}

/// Where the report of `statement` goes.
pub(crate) fn path(processed: &Path, statement: &str) -> PathBuf {
    processed.join(format!("{statement}.report.json"))
}

/// Writes the report whole or not at all (a temporary file renamed over the old one), so a
/// reader never sees half a report.
pub(crate) fn write(target: &Path, report: &Report<'_>) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = target.with_file_name(format!(".{name}.tmp"));
    std::fs::write(&temporary, text + "\n")?;
    std::fs::rename(&temporary, target)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;
    use crate::statement::StatementId;

    fn row(org: &str, status: State, code: Option<u16>) -> LetterRow {
        let at = DateTime::parse_from_rfc3339("2021-05-27T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        LetterRow {
            statement_id: "2021-05-27-1a2b3c4d".into(),
            organization: org.into(),
            to: vec![format!("{org}@x.example")],
            cc: vec![],
            status,
            attempts: 1,
            smtp_code: code,
            smtp_reply: code.map(|c| format!("{c} reply")),
            message_id: format!("<2021-05-27-1a2b3c4d.{org}@ombudsman.example>"),
            recipients: vec![],
            next_attempt_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn the_report_lists_every_letter_and_counts_states() {
        let info = StatementInfo {
            id: StatementId::parse("2021-05-27-1a2b3c4d").unwrap(),
            title: "Statement".into(),
            source: "inbox/s.txt".into(),
            held: false,
            file_name: "s.txt".into(),
            text: "text".into(),
        };
        let rows = [
            row("a", State::Sent, Some(250)),
            row("b", State::Deferred, Some(451)),
            row("c", State::Sent, Some(250)),
        ];
        let dir = tempfile::tempdir().unwrap();
        let target = path(dir.path(), info.id.as_str());
        let head = Head {
            id: 7,
            hash: "ab".repeat(32),
        };
        let earlier = [AlreadyReceived {
            id: "2021-05-27-00000000".into(),
            title: "Statement".into(),
            file_name: "s.txt".into(),
            organizations: vec!["a".into()],
            sent_at: Utc::now(),
        }];
        write(
            &target,
            &Report::new(&info, &rows, &earlier, Some(&head), Utc::now()),
        )
        .unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
        assert_eq!(json["statement"]["id"], "2021-05-27-1a2b3c4d");
        assert_eq!(json["statement"]["file"], "s.txt");
        assert_eq!(json["counts"]["sent"], 2);
        assert_eq!(json["counts"]["deferred"], 1);
        assert_eq!(json["letters"][1]["organization"], "b");
        assert_eq!(json["already_received"][0]["id"], "2021-05-27-00000000");
        assert_eq!(json["already_received"][0]["organizations"][0], "a");
        assert_eq!(json["letters"][1]["status"], "deferred");
        assert_eq!(json["letters"][1]["smtp_code"], 451);
        assert_eq!(json["journal_head"]["id"], 7);
        assert_eq!(json["journal_head"]["hash"], "ab".repeat(32));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file is left behind"
        );
    }
}
