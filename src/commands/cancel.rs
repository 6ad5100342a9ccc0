//! `herald cancel STATEMENT-ID`: withdraws the statement's letters that were never offered to a
//! server. `pending` and `deferred` letters become `cancelled`, each with a journal event saying
//! who cancelled it (the operating system's user name) and when; a letter `sending` right now,
//! `sent`, `partial`, `uncertain` or `failed` stays as it is (those were offered to a server).

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use chrono::Utc;

use super::output::{count, errln, outln, shown};
use crate::cli::CancelArgs;
use crate::error::{Error, Result};
use crate::journal::State;

pub(crate) fn run(config_path: &Path, args: CancelArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    let (mut journal, id, info) = super::statement_to_change(&config, &args.statement_id)?;
    let withdrawable = journal
        .letters_of(&id)?
        .iter()
        .filter(|row| matches!(row.status, State::Pending | State::Deferred))
        .count();
    if withdrawable > 0 && !args.yes {
        confirm(&format!(
            "withdraw {withdrawable} letter{} of {id} «{}» never offered to a server? They will \
             not be sent; this cannot be undone. [y/N] ",
            if withdrawable == 1 { "" } else { "s" },
            shown(&info.title)
        ))?;
    }
    let by = user_name();
    let cancelled = journal.cancel(&id, &by, Utc::now())?;
    let mut kept: BTreeMap<State, u32> = BTreeMap::new();
    for row in journal.letters_of(&id)? {
        if row.status != State::Cancelled {
            *kept.entry(row.status).or_insert(0) += 1;
        }
    }
    let title = shown(&info.title);
    if cancelled.is_empty() {
        outln!("{id} «{title}»: no letter to cancel (none is pending or deferred)");
    } else {
        let names: Vec<&str> = cancelled.iter().map(|k| k.organization.as_str()).collect();
        outln!(
            "{id} «{title}»: {} cancelled by {}: {}",
            count(cancelled.len(), "letter", "letters"),
            shown(&by),
            names.join(", ")
        );
    }
    if !kept.is_empty() {
        let kept: Vec<String> = kept.iter().map(|(s, n)| format!("{n} {s}")).collect();
        outln!(
            "left as they are (already offered to a server): {}",
            kept.join(", ")
        );
    }
    Ok(())
}

/// Asks on the terminal; anything but yes declines (exit 1, nothing withdrawn). Off a terminal
/// nobody can answer: `--yes` is needed.
fn confirm(question: &str) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::Usage(
            "not on a terminal, so nobody can confirm; nothing was withdrawn (pass --yes to \
             withdraw)"
                .into(),
        ));
    }
    errln!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("<stdin>", e))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::Undelivered(
            "not confirmed; nothing was withdrawn".into(),
        ))
    }
}

/// Who is cancelling: the login name (`USER`, `LOGNAME`), else the name of this process's user
/// in the password file, else its number.
fn user_name() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Some(name) = std::env::var(var).ok().filter(|n| !n.trim().is_empty()) {
            return name;
        }
    }
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(str::to_string))
        });
    let Some(uid) = uid else {
        return "unknown user".to_string();
    };
    let name = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let fields: Vec<&str> = line.split(':').collect();
                (fields.len() > 2 && fields[2] == uid).then(|| fields[0].to_string())
            })
        });
    name.unwrap_or_else(|| format!("uid {uid}"))
}
