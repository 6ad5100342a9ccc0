//! `<data>/rejected/`: statements the daemon refused, each next to `<file name>.error.txt`.
//!
//! The error file is written for the person who must fix the statement: where the file is now,
//! every problem, and how to send it after all (move it back into the inbox). `herald status`
//! reads the same files back, so a rejected statement stays visible as needing attention for as
//! long as it lies in `rejected/` — an office that only looks at the status must not take a
//! refused statement for a sent one. Writing and reading live here together so that they agree.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::inbox::{is_temporary_name, shortened, NAME_MAX};

/// `<statement file name>` + this names its error file.
pub(crate) const ERROR_SUFFIX: &str = ".error.txt";

const REJECTED_AT: &str = " was rejected at ";
const NOTHING_SENT: &str = ": nothing was sent for it.";

/// A statement lying in `rejected/`, as `herald status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Rejected {
    /// The statement's file name in `rejected/`.
    pub(crate) file: String,
    pub(crate) path: String,
    /// When the daemon refused it (from its error file; else the file's modification time).
    pub(crate) rejected_at: Option<DateTime<Utc>>,
    /// The first line of the error (`bad.txt: 2 addressees were not found …`).
    pub(crate) error: Option<String>,
    /// How many problems the error names (each unresolved addressee is one).
    pub(crate) problems: usize,
    /// `<file>.error.txt`, or `null` when it was removed.
    pub(crate) error_file: Option<String>,
}

/// The longest name a rejected entry may have, so that its error file's name fits too.
pub(crate) const MAX_REJECTED_NAME: usize = NAME_MAX - ERROR_SUFFIX.len();

/// The path of the error file for the statement at `statement` (within `NAME_MAX` whatever the
/// statement's name).
pub(crate) fn error_file_of(statement: &Path) -> PathBuf {
    let name = statement
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = shortened(&name, MAX_REJECTED_NAME);
    statement.with_file_name(format!("{name}{ERROR_SUFFIX}"))
}

/// What to tell the person who must fix a statement herald could read but not send.
pub(crate) fn advice(inbox: &Path) -> String {
    format!(
        "To send it: correct it (or the recipients directory), then move it back into {}/ \
         and delete this file.",
        inbox.display()
    )
}

/// The error file's text for a statement taken from the inbox as `original` (the path the error
/// names) and now lying at `moved`. The error is reworded to name the file by its name in
/// `rejected/`, because the inbox path it was found under no longer exists; `advice` says how to
/// send it after all.
pub(crate) fn error_text(
    original: &Path,
    moved: &Path,
    advice: &str,
    error: &str,
    at: DateTime<Utc>,
) -> String {
    let old_name = file_name(original);
    let new_name = file_name(moved);
    let error = error.replace(&original.display().to_string(), &new_name);
    format!(
        "{old_name}{REJECTED_AT}{}{NOTHING_SENT}\n\n\
         {error}\n\n\
         It is now {}.\n\
         {advice}\n",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        moved.display(),
    )
}

/// Reads back what [`error_text`] wrote: (when, first line of the error, number of problems).
fn parse_error_text(text: &str) -> (Option<DateTime<Utc>>, Option<String>, usize) {
    let mut lines = text.lines();
    let at = lines
        .next()
        .and_then(|header| header.split_once(REJECTED_AT))
        .and_then(|(_, rest)| rest.strip_suffix(NOTHING_SENT))
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let error: Vec<&str> = lines
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .collect();
    let first = error.first().map(|l| l.trim().to_string());
    // An error listing its problems puts each on an indented line (unresolved addressees);
    // any other error is one problem.
    let listed = error.iter().skip(1).filter(|l| l.starts_with(' ')).count();
    let problems = if first.is_none() { 0 } else { listed.max(1) };
    (at, first, problems)
}

/// What lies in `dir` (`<data>/rejected/`): statements, and files or folders that were not
/// statements at all, by name; none if the folder does not exist.
pub(crate) fn list(dir: &Path) -> std::io::Result<Vec<Rejected>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if is_temporary_name(&name) || name.ends_with(ERROR_SUFFIX) {
            continue;
        }
        let path = entry.path();
        let error_path = error_file_of(&path);
        let (at, error, problems) = match std::fs::read_to_string(&error_path) {
            Ok(text) => parse_error_text(&text),
            Err(_) => (None, None, 0),
        };
        let modified = || {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .map(DateTime::<Utc>::from)
        };
        out.push(Rejected {
            file: name,
            path: path.display().to_string(),
            rejected_at: at.or_else(modified),
            error,
            problems,
            error_file: error_path
                .is_file()
                .then(|| error_path.display().to_string()),
        });
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::*;

    const UNRESOLVED: &str = "var/inbox/bad.txt: 2 addressees were not found in the recipients \
         directory:\n  `Counsil of Europe` (did you mean `Council of Europe`?)\n  `Northern \
         Federation of Peace Councils`";

    fn at() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T10:02:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_error_file_names_the_statement_where_it_is_now_and_what_to_do() {
        let text = error_text(
            Path::new("var/inbox/bad.txt"),
            Path::new("var/rejected/bad.1.txt"),
            &advice(Path::new("var/inbox")),
            UNRESOLVED,
            at(),
        );
        assert!(!text.contains("var/inbox/bad.txt"), "{text}");
        assert!(text.contains("bad.1.txt: 2 addressees"), "{text}");
        assert!(text.contains("It is now var/rejected/bad.1.txt."), "{text}");
        assert!(text.contains("move it back into var/inbox/"), "{text}");
    }

    #[test]
    fn status_reads_back_when_what_and_how_many() {
        // (error as the daemon found it, first line read back, problems)
        let rows = [
            (
                UNRESOLVED,
                "bad.txt: 2 addressees were not found in the recipients directory:",
                2,
            ),
            (
                "var/inbox/bad.txt: the statement is empty",
                "bad.txt: the statement is empty",
                1,
            ),
        ];
        for (error, first, problems) in rows {
            let text = error_text(
                Path::new("var/inbox/bad.txt"),
                Path::new("var/rejected/bad.txt"),
                &advice(Path::new("var/inbox")),
                error,
                at(),
            );
            assert_eq!(
                parse_error_text(&text),
                (Some(at()), Some(first.to_string()), problems),
                "{text}"
            );
        }
        assert_eq!(parse_error_text("edited by hand"), (None, None, 0));
    }

    #[test]
    fn the_listing_holds_statements_not_their_error_files() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.txt");
        std::fs::write(&bad, "text").unwrap();
        let text = error_text(
            Path::new("inbox/bad.txt"),
            &bad,
            &advice(Path::new("inbox")),
            "inbox/bad.txt: the statement is empty",
            at(),
        );
        std::fs::write(error_file_of(&bad), text).unwrap();
        std::fs::write(dir.path().join("no-error-file.md"), "text").unwrap();
        std::fs::write(dir.path().join("orphan.txt.error.txt"), "text").unwrap();
        let listed = list(dir.path()).unwrap();
        let names: Vec<&str> = listed.iter().map(|r| r.file.as_str()).collect();
        assert_eq!(names, ["bad.txt", "no-error-file.md"]);
        assert_eq!(listed[0].rejected_at, Some(at()));
        assert_eq!(listed[0].problems, 1);
        assert!(listed[0]
            .error_file
            .as_deref()
            .is_some_and(|f| f.ends_with("bad.txt.error.txt")));
        assert_eq!(listed[1].error_file, None);
        assert!(listed[1].rejected_at.is_some(), "the file's time instead");
        assert!(list(&dir.path().join("missing")).unwrap().is_empty());
    }
}
