//! `herald history`: the delivery history from the journal, as an aligned table for people or
//! JSON / CSV for scripts; all three come from the same rows.

use std::path::Path;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

use super::output::{errln, out, shown};
use crate::cli::{HistoryArgs, HistoryFormat};
use crate::error::{Error, Result};
use crate::journal::{HistoryFilter, Journal, LetterRow, State};

pub(crate) fn run(config_path: &Path, args: HistoryArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    let filter = filter(&args)?;
    let path = config.journal_path();
    let rows = match Journal::open_existing(&path)? {
        Some(journal) => {
            let rows = journal.history(&filter)?;
            // An empty table would print nothing at all; JSON (`[]`) and CSV (the header) say
            // "none" by themselves.
            if rows.is_empty() && args.format == HistoryFormat::Table {
                errln!("no letters match");
            }
            rows
        }
        None => {
            if args.format == HistoryFormat::Table {
                errln!(
                    "no journal at {} yet: nothing has been dispatched",
                    path.display()
                );
            }
            Vec::new()
        }
    };
    let text = match args.format {
        HistoryFormat::Table => table(&rows, args.wide),
        HistoryFormat::Json => json(&rows)?,
        HistoryFormat::Csv => csv(&rows),
    };
    out!("{text}");
    Ok(())
}

fn filter(args: &HistoryArgs) -> Result<HistoryFilter> {
    let status = args
        .status
        .as_deref()
        .map(|s| s.parse::<State>())
        .transpose()
        .map_err(|m| Error::Usage(format!("--status: {m}")))?;
    // Ids are lower case (`osce`, `2021-05-27-49d0abd7`): `--organization OSCE` means `osce`.
    let id = |given: &Option<String>| given.as_deref().map(|g| g.trim().to_ascii_lowercase());
    Ok(HistoryFilter {
        statement: id(&args.statement),
        organization: id(&args.organization),
        status,
        since: args
            .since
            .as_deref()
            .map(|t| time("--since", t))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|t| time("--until", t))
            .transpose()?,
    })
}

/// RFC 3339, or a bare date meaning the start of that day (UTC).
fn time(option: &str, text: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            Error::Usage(format!(
                "{option}: `{text}` is not a time (RFC 3339 such as 2021-05-27T09:00:00Z, or a \
                 date such as 2021-05-27)"
            ))
        })
}

fn json(rows: &[LetterRow]) -> Result<String> {
    let mut text = serde_json::to_string_pretty(rows)
        .map_err(|e| Error::Usage(format!("cannot write the history as JSON: {e}")))?;
    text.push('\n');
    Ok(text)
}

const CSV_HEADER: [&str; 13] = [
    "statement_id",
    "organization",
    "to",
    "cc",
    "status",
    "attempts",
    "smtp_code",
    "smtp_reply",
    "message_id",
    "recipients",
    "next_attempt_at",
    "created_at",
    "updated_at",
];

fn csv(rows: &[LetterRow]) -> String {
    let mut out = csv_line(CSV_HEADER.iter().map(|s| s.to_string()));
    for r in rows {
        out.push_str(&csv_line([
            r.statement_id.clone(),
            r.organization.clone(),
            r.to.join(" "),
            r.cc.join(" "),
            r.status.to_string(),
            r.attempts.to_string(),
            r.smtp_code.map(|c| c.to_string()).unwrap_or_default(),
            r.smtp_reply.clone().unwrap_or_default(),
            r.message_id.clone(),
            serde_json::to_string(&r.recipients).unwrap_or_default(),
            r.next_attempt_at.map(csv_time).unwrap_or_default(),
            csv_time(r.created_at),
            csv_time(r.updated_at),
        ]));
    }
    out
}

/// The same form as the JSON output: RFC 3339 in UTC written with `Z`, not `+00:00`.
fn csv_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled.
fn csv_line(fields: impl IntoIterator<Item = String>) -> String {
    let quoted: Vec<String> = fields
        .into_iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    format!("{}\r\n", quoted.join(","))
}

/// The table's width: it fits a terminal of 100 columns (`--wide` lifts the limit).
const TABLE_WIDTH: usize = 100;
/// An organisation id longer than this is cut in the table's first line.
const ORGANIZATION_WIDTH: usize = 43;

/// Two lines per letter, at most [`TABLE_WIDTH`] columns unless `wide`: when it was last updated
/// (UTC), its statement, organisation, state and attempts; then, indented, whom it went to and
/// the server's reply. `wide` keeps every value whole, the reply on one line.
fn table(rows: &[LetterRow], wide: bool) -> String {
    if rows.is_empty() {
        return String::new();
    }
    let cut = |text: &str, width: usize| {
        if wide {
            text.to_string()
        } else {
            truncate(text, width)
        }
    };
    let organizations: Vec<String> = rows
        .iter()
        .map(|r| cut(&shown(&r.organization), ORGANIZATION_WIDTH))
        .collect();
    let org_width = organizations
        .iter()
        .map(|o| o.chars().count())
        .chain(std::iter::once("ORGANIZATION".len()))
        .max()
        .unwrap_or(0);
    let statement_width = rows
        .iter()
        .map(|r| r.statement_id.chars().count())
        .chain(std::iter::once("STATEMENT".len()))
        .max()
        .unwrap_or(0);
    let state_width = State::ALL
        .map(|s| s.as_str().len())
        .into_iter()
        .max()
        .unwrap_or(0);
    let line = |cells: [&str; 5]| {
        let [updated, statement, organization, state, attempts] = cells;
        let text = format!(
            "{updated:16}  {statement:statement_width$}  {organization:org_width$}  \
             {state:state_width$}  {attempts:>5}"
        );
        format!("{}\n", text.trim_end())
    };
    let mut out = line([
        "UPDATED (UTC)",
        "STATEMENT",
        "ORGANIZATION",
        "STATUS",
        "TRIES",
    ]);
    for (r, organization) in rows.iter().zip(&organizations) {
        out += &line([
            &r.updated_at.format("%Y-%m-%d %H:%M").to_string(),
            &shown(&r.statement_id),
            organization,
            r.status.as_str(),
            &r.attempts.to_string(),
        ]);
        let mut detail = format!("to {}", shown(&r.to.join(", ")));
        if !r.cc.is_empty() {
            detail.push_str(&format!("; cc {}", shown(&r.cc.join(", "))));
        }
        if let Some(reply) = r.smtp_reply.as_deref().filter(|t| !t.trim().is_empty()) {
            detail.push_str(" — ");
            detail.push_str(&shown(&one_line(reply)));
        }
        out.push_str("  ");
        out.push_str(&cut(&detail, TABLE_WIDTH - 2));
        out.push('\n');
    }
    out
}

/// A reply on one line: SMTP's multi-line replies and runs of spaces become single spaces.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `width` characters, ending in `…` when cut.
fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn args(status: Option<&str>, since: Option<&str>, until: Option<&str>) -> HistoryArgs {
        HistoryArgs {
            statement: None,
            organization: None,
            status: status.map(String::from),
            since: since.map(String::from),
            until: until.map(String::from),
            format: HistoryFormat::Table,
            wide: false,
        }
    }

    #[test]
    fn filters_parse_or_name_the_bad_value() {
        let day = Utc.with_ymd_and_hms(2021, 5, 27, 0, 0, 0).unwrap();
        let f = filter(&args(
            Some("deferred"),
            Some("2021-05-27"),
            Some("2021-05-27T04:00:00+04:00"),
        ))
        .unwrap();
        assert_eq!(f.status, Some(State::Deferred));
        assert_eq!(f.since, Some(day));
        assert_eq!(f.until, Some(day));
        let cases = [
            (
                args(Some("delivered"), None, None),
                "--status: `delivered` is not a delivery state",
            ),
            (
                args(None, Some("yesterday"), None),
                "--since: `yesterday` is not a time",
            ),
            (
                args(None, None, Some("2021-13-01")),
                "--until: `2021-13-01` is not a time",
            ),
        ];
        for (a, expected) in cases {
            match filter(&a) {
                Err(Error::Usage(m)) => assert!(m.starts_with(expected), "{m}"),
                other => panic!("{expected}: {other:?}"),
            }
        }
    }

    fn row(org: &str, reply: &str) -> LetterRow {
        let at = Utc.with_ymd_and_hms(2021, 5, 27, 9, 30, 0).unwrap();
        LetterRow {
            statement_id: "2021-05-27-1a2b3c4d".into(),
            organization: org.into(),
            to: vec!["a@x.example".into(), "b@x.example".into()],
            cc: vec![],
            status: State::Sent,
            attempts: 12,
            smtp_code: Some(250),
            smtp_reply: Some(reply.into()),
            message_id: "<m@x.example>".into(),
            recipients: vec![],
            next_attempt_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        let text = csv(&[row("un", "250 ok, \"queued\"\nas 4F2K9")]);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER.join(","));
        assert!(
            lines[1].contains(",\"250 ok, \"\"queued\"\"\nas 4F2K9\","),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].contains(",a@x.example b@x.example,"),
            "{}",
            lines[1]
        );
    }

    /// Regression: CSV wrote `+00:00` where JSON and the README write `Z`.
    #[test]
    fn csv_and_json_write_times_alike() {
        let mut r = row("un", "250 ok");
        r.updated_at = Utc.timestamp_micros(1_622_107_800_250_857).unwrap();
        r.next_attempt_at = Some(r.created_at);
        let text = csv(std::slice::from_ref(&r));
        let line = text.split("\r\n").nth(1).unwrap();
        let json: serde_json::Value = serde_json::from_str(&json(&[r]).unwrap()).unwrap();
        let fields: Vec<&str> = line.rsplitn(4, ',').collect();
        for (field, name) in fields[..3]
            .iter()
            .zip(["updated_at", "created_at", "next_attempt_at"])
        {
            assert_eq!(Some(*field), json[0][name].as_str(), "{name}");
            assert!(field.ends_with('Z'), "{name}: {field}");
        }
    }

    #[test]
    fn table_fits_100_columns_unless_wide() {
        let long = "250 ".to_string() + &"x".repeat(150);
        let long_org = "o".repeat(60);
        let rows = [row("un", "250 ok"), row(&long_org, &long)];
        let text = table(&rows, false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        for line in &lines {
            assert!(line.chars().count() <= TABLE_WIDTH, "{line}");
        }
        let column = |line: &str, word: &str| line[..line.find(word).unwrap()].chars().count();
        let status_col = column(lines[0], "STATUS");
        assert_eq!(column(lines[1], "sent"), status_col);
        assert_eq!(column(lines[3], "sent"), status_col);
        assert_eq!(lines[2], "  to a@x.example, b@x.example — 250 ok");
        assert!(lines[4].ends_with('…'), "{}", lines[4]);
        assert!(lines[3].contains('…'), "{}", lines[3]);

        let wide = table(&rows, true);
        assert!(wide.contains(&long) && wide.contains(&long_org), "{wide}");
        assert_eq!(table(&[], false), "");
    }

    /// Regression: a name or reply with a line break faked a line of the table.
    #[test]
    fn control_characters_stay_inside_their_cell() {
        let text = table(&[row("un", "250 ok\n\u{1b}[2Jforged")], true);
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}
