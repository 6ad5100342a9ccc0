//! One file per subcommand; each exposes `run(config_path, args) -> Result<()>`.

pub(crate) mod approve;
pub(crate) mod cancel;
pub(crate) mod check;
pub(crate) mod daemon;
pub(crate) mod dispatch;
pub(crate) mod history;
pub(crate) mod init;
pub(crate) mod output;
pub(crate) mod resolve;
pub(crate) mod status;
pub(crate) mod verify;

use std::path::Path;

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::journal::{AlreadyReceived, Journal, StatementInfo};
use crate::statement::{Statement, StatementId};

pub(crate) fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Check(args) => check::run(&cli.config, args),
        Command::Resolve(args) => resolve::run(&cli.config, args),
        Command::Dispatch(args) => dispatch::run(&cli.config, args),
        Command::Daemon(args) => daemon::run(&cli.config, args),
        Command::Status(args) => status::run(&cli.config, args),
        Command::Approve(args) => approve::run(&cli.config, args),
        Command::Cancel(args) => cancel::run(&cli.config, args),
        Command::History(args) => history::run(&cli.config, args),
        Command::Verify(args) => verify::run(&cli.config, args),
        Command::Init(args) => init::run(args),
    }
}

pub(crate) fn load_config(path: &Path) -> Result<Config> {
    Ok(Config::load(path)?)
}

/// The statement `given` (an id as `herald status` shows it) in the journal, opened for writing
/// (`approve`, `cancel`): refused when the id is malformed, or there is no journal or no such
/// statement in it.
pub(crate) fn statement_to_change(
    config: &Config,
    given: &str,
) -> Result<(Journal, StatementId, StatementInfo)> {
    let given = given.trim();
    let id = StatementId::parse(given).ok_or_else(|| {
        Error::Usage(format!(
            "`{}` is not a statement id (expected `YYYY-MM-DD-xxxxxxxx` or \
             `undated-xxxxxxxx`, as `herald status` shows)",
            output::shown(given)
        ))
    })?;
    let path = config.journal_path();
    let Some(journal) = Journal::open_existing_for_writing(&path)? else {
        return Err(Error::Usage(format!(
            "no statement `{id}`: there is no journal yet at {}",
            path.display()
        )));
    };
    let Some(info) = journal.statement(&id)? else {
        return Err(Error::Usage(format!(
            "no statement `{id}` in the journal {} (`herald status` lists the statements)",
            path.display()
        )));
    };
    Ok((journal, id, info))
}

/// The folders a command reads (`recipients`, `templates`) that are not there, each explained:
/// a config folder copied elsewhere without them fails on paths relative to the config file's
/// folder, which the bare "cannot read the folder" did not say.
pub(crate) fn missing_folders(config: &Config, which: &[Folder]) -> Vec<String> {
    which
        .iter()
        .filter_map(|folder| {
            let (key, path) = match folder {
                Folder::Recipients => ("recipients", &config.recipients_dir),
                Folder::Templates => ("templates", &config.templates_dir),
            };
            if path.is_dir() {
                return None;
            }
            let base = config.path.parent().unwrap_or(Path::new(""));
            let why = if path.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            let base = lexical(base);
            // A config file in the current folder: there is no other folder to tell apart.
            if base.as_os_str().is_empty() {
                return Some(format!(
                    "the {key} folder {} {why}: `[paths] {key}` in the config file {} names it \
                     relative to the folder of that file, the current folder; create it there \
                     (`herald init` writes the shipped one), or set `[paths] {key}` to where it is",
                    lexical(path).display(),
                    config.path.display(),
                ));
            }
            Some(format!(
                "the {key} folder {} {why}: `[paths] {key}` in the config file {} is read \
                 relative to that file's folder ({}), not to the current folder; copy the {key} \
                 folder there, or set `[paths] {key}` to where it is",
                lexical(path).display(),
                config.path.display(),
                base.display(),
            ))
        })
        .collect()
}

/// A folder [`missing_folders`] looks at.
pub(crate) enum Folder {
    Recipients,
    Templates,
}

/// Refuses (exit 2) when any of `which` is missing, naming each.
pub(crate) fn require_folders(config: &Config, which: &[Folder]) -> Result<()> {
    let missing = missing_folders(config, which);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Error::Usage(missing.join("\nherald: ")))
    }
}

/// `path` with `.` and `a/..` taken out, as written (no link followed): `/x/config/../recipients`
/// reads `/x/recipients`.
fn lexical(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Earlier versions of `statement` that some of `organizations` already received, read from the
/// journal if there is one (a reader must not create it).
pub(crate) fn already_received(
    config: &Config,
    statement: &Statement,
    organizations: &[&str],
) -> Result<Vec<AlreadyReceived>> {
    let Some(journal) = Journal::open_existing(&config.journal_path())? else {
        return Ok(Vec::new());
    };
    Ok(journal.already_received(
        &statement.id,
        &statement.title,
        &statement.file_name,
        organizations,
    )?)
}
