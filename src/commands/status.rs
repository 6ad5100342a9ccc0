//! `herald status`: what the daemon sees — whether it runs, files waiting in the inbox,
//! statements in progress (held, pending, being sent or deferred) with their letters per state,
//! what needs attention (statements with letters failed, partial or uncertain, and statements the
//! daemon rejected that still lie in `rejected/`), letters by state overall, and the next retry.
//! Text and JSON come from the same [`Status`].
//!
//! It only reads: no journal is created, and the daemon lock is probed with a shared lock that
//! is released at once, so a status never stands in the way of a daemon.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::output::{count, out, outln, shown};
use crate::cli::{OutputFormat, StatusArgs};
use crate::daemon::catalog::{self, BrokenFolder};
use crate::daemon::inbox::{is_statement_name, is_temporary_name};
use crate::daemon::rejected::{self, Rejected};
use crate::error::{Error, Result};
use crate::journal::{Journal, State, StatementOverview};

#[derive(Debug, Serialize)]
struct Status {
    /// The journal file, or `null` when there is none yet.
    journal: Option<String>,
    daemon: DaemonStatus,
    /// The recipients directory or templates that do not load as they are on disk now (the
    /// daemon keeps using its last good copy).
    broken: Vec<BrokenFolder>,
    inbox: InboxStatus,
    /// Statements held for approval or with letters pending, being sent or deferred.
    in_progress: Vec<StatementOverview>,
    /// Statements done with but with letters failed, partial or uncertain, and statements
    /// rejected by the daemon (nothing sent) that still lie in `rejected/`.
    needs_attention: Vec<Attention>,
    /// Statements whose every letter was sent (or cancelled).
    completed: usize,
    letters: BTreeMap<State, u32>,
    next_retry: Option<DateTime<Utc>>,
}

/// One entry of `needs_attention`; `kind` tells which.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Attention {
    /// A statement with letters failed, partial or uncertain.
    Letters(StatementOverview),
    /// A statement the daemon refused: nothing was sent for it.
    Rejected(Rejected),
}

#[derive(Debug, Serialize)]
struct DaemonStatus {
    running: bool,
    /// The running daemon's process id, as its lock file says.
    pid: Option<String>,
}

#[derive(Debug, Serialize)]
struct InboxStatus {
    path: String,
    /// Statement files waiting to be taken (or held for approval).
    waiting: Vec<String>,
    /// What lies there that is not a statement herald takes (a running daemon moves it to
    /// `rejected/`).
    not_statements: Vec<String>,
}

pub(crate) fn run(config_path: &Path, args: StatusArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    let daemon = probe_daemon(&config.data_dir)?;
    let mut broken = catalog::broken_on_disk(&config);
    if !daemon.running {
        // No daemon holds a copy: nothing is in use.
        for b in &mut broken {
            b.in_use_since = None;
        }
    }
    let inbox_dir = config.data_dir.join("inbox");
    let (waiting, not_statements) = inbox_entries(&inbox_dir)?;
    let inbox = InboxStatus {
        path: inbox_dir.display().to_string(),
        waiting,
        not_statements,
    };
    let journal_path = config.journal_path();
    let mut status = Status {
        journal: None,
        daemon,
        broken,
        inbox,
        in_progress: Vec::new(),
        needs_attention: Vec::new(),
        completed: 0,
        letters: BTreeMap::new(),
        next_retry: None,
    };
    // Rejected statements are never in the journal (nothing was registered for them), so they
    // are listed even when there is no journal yet.
    let rejected_dir = config.data_dir.join("rejected");
    let refused = rejected::list(&rejected_dir).map_err(|e| Error::io(&rejected_dir, e))?;
    if let Some(journal) = Journal::open_existing(&journal_path)? {
        status.journal = Some(journal_path.display().to_string());
        let overview = journal.overview()?;
        status.next_retry = overview.next_retry;
        for s in overview.statements {
            for (state, n) in &s.counts {
                *status.letters.entry(*state).or_insert(0) += n;
            }
            let has = |states: &[State]| states.iter().any(|st| s.counts.contains_key(st));
            if s.held || has(&[State::Pending, State::Sending, State::Deferred]) {
                status.in_progress.push(s);
            } else if has(&[State::Failed, State::Partial, State::Uncertain]) {
                status.needs_attention.push(Attention::Letters(s));
            } else {
                status.completed += 1;
            }
        }
    }
    status
        .needs_attention
        .extend(refused.into_iter().map(Attention::Rejected));
    match args.format {
        OutputFormat::Json => {
            let text = serde_json::to_string_pretty(&status)
                .map_err(|e| Error::Usage(format!("cannot write the status as JSON: {e}")))?;
            outln!("{text}");
        }
        OutputFormat::Text => out!("{}", text(&status, &journal_path)),
    }
    Ok(())
}

/// Is a daemon holding `<data>/daemon.lock`? A shared lock cannot be had while it holds its
/// exclusive one; when it can, it is dropped at once.
fn probe_daemon(data: &Path) -> Result<DaemonStatus> {
    let path = data.join("daemon.lock");
    let file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(DaemonStatus {
                running: false,
                pid: None,
            })
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    let running = match file.try_lock_shared() {
        Ok(()) => false,
        Err(std::fs::TryLockError::WouldBlock) => true,
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
    };
    drop(file);
    let pid = running
        .then(|| std::fs::read_to_string(&path).ok())
        .flatten()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Ok(DaemonStatus { running, pid })
}

/// The inbox's statement files, and what else lies there (not hidden or temporary), by name.
fn inbox_entries(inbox: &Path) -> Result<(Vec<String>, Vec<String>)> {
    let entries = match std::fs::read_dir(inbox) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => return Err(Error::io(inbox, e)),
    };
    let (mut waiting, mut others): (Vec<String>, Vec<String>) = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !is_temporary_name(name))
        .partition(|name| is_statement_name(name));
    waiting.sort();
    others.sort();
    Ok((waiting, others))
}

fn counts(counts: &BTreeMap<State, u32>) -> String {
    if counts.is_empty() {
        return "no letters".into();
    }
    counts
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn statement(out: &mut String, s: &StatementOverview) {
    use std::fmt::Write;
    let held = if s.held {
        format!(" — held: `herald approve {}`", s.id)
    } else {
        String::new()
    };
    // Writing into a String cannot fail.
    let _ = writeln!(out, "  {}  {}{held}", shown(&s.id), shown(&s.title));
    let _ = write!(out, "    {}", counts(&s.counts));
    if let Some(t) = s.next_retry {
        let _ = write!(out, "; next retry {}", time(t));
    }
    let _ = writeln!(out);
}

fn rejected_entry(out: &mut String, r: &Rejected) {
    use std::fmt::Write;
    let when = r
        .rejected_at
        .map(|t| format!(" at {}", time(t)))
        .unwrap_or_default();
    // Writing into a String cannot fail.
    let _ = writeln!(out, "  REJECTED {}{when}: nothing was sent", shown(&r.file));
    if let Some(error) = &r.error {
        let more = if r.problems > 1 {
            format!(" ({} problems)", r.problems)
        } else {
            String::new()
        };
        let _ = writeln!(out, "    {}{more}", shown(error));
    }
    let _ = match &r.error_file {
        Some(f) => writeln!(out, "    see {}: it says what to do", shown(f)),
        None => writeln!(
            out,
            "    at {}; fix it, then move it back into the inbox",
            shown(&r.path)
        ),
    };
}

fn broken_entry(out: &mut String, b: &BrokenFolder) {
    use std::fmt::Write;
    let what = match b.folder {
        "recipients" => "the recipients directory",
        _ => "the templates",
    };
    let since = b
        .since
        .map(|t| format!(" since {}", time(t)))
        .unwrap_or_default();
    let n = b.problems.len();
    // Writing into a String cannot fail.
    let _ = writeln!(
        out,
        "BROKEN: {what} on disk ({}) does not load{since}: {n} problem{}",
        b.path,
        if n == 1 { "" } else { "s" }
    );
    for p in &b.problems {
        let _ = writeln!(out, "  {p}");
    }
    let _ = match b.in_use_since {
        Some(t) => writeln!(
            out,
            "  the daemon keeps using the copy it loaded at {} until this is fixed",
            time(t)
        ),
        None => writeln!(
            out,
            "  `herald check` shows the problems; nothing can be sent until they are fixed"
        ),
    };
}

fn text(status: &Status, journal_path: &Path) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = match (&status.daemon.running, &status.daemon.pid) {
        (true, Some(pid)) => writeln!(out, "daemon: running (process {pid})"),
        (true, None) => writeln!(out, "daemon: running"),
        (false, _) => writeln!(out, "daemon: not running"),
    };
    for b in &status.broken {
        broken_entry(&mut out, b);
    }
    if !status.inbox.not_statements.is_empty() {
        let _ = writeln!(
            out,
            "inbox: {} not a statement herald takes (only `*.txt` and `*.md`; a running daemon \
             moves them to rejected/): {}",
            status.inbox.not_statements.len(),
            status.inbox.not_statements.join(", ")
        );
    }
    let _ = if status.inbox.waiting.is_empty() {
        writeln!(out, "inbox: empty ({})", shown(&status.inbox.path))
    } else {
        writeln!(
            out,
            "inbox: {} waiting in {}: {}",
            count(status.inbox.waiting.len(), "file", "files"),
            shown(&status.inbox.path),
            shown(&status.inbox.waiting.join(", "))
        )
    };
    if status.journal.is_none() {
        let _ = writeln!(
            out,
            "no journal yet at {}: nothing has been dispatched",
            journal_path.display()
        );
    } else {
        let _ = writeln!(out, "letters: {}", counts(&status.letters));
        let _ = match status.next_retry {
            Some(t) => writeln!(out, "next retry: {}", time(t)),
            None => writeln!(out, "next retry: none"),
        };
        let _ = writeln!(
            out,
            "statements: {} in progress, {} need attention, {} completed",
            status.in_progress.len(),
            status.needs_attention.len(),
            status.completed
        );
    }
    if !status.in_progress.is_empty() {
        let _ = writeln!(out, "\nin progress:");
        for s in &status.in_progress {
            statement(&mut out, s);
        }
    }
    if !status.needs_attention.is_empty() {
        let _ = writeln!(out, "\nneeds attention:");
        for entry in &status.needs_attention {
            match entry {
                Attention::Letters(s) => statement(&mut out, s),
                Attention::Rejected(r) => rejected_entry(&mut out, r),
            }
        }
    }
    out
}
