//! One file per subcommand; each exposes `run(config_path, args) -> Result<()>`.

pub(crate) mod approve;
pub(crate) mod cancel;
pub(crate) mod check;
pub(crate) mod daemon;
pub(crate) mod dispatch;
pub(crate) mod history;
pub(crate) mod output;
pub(crate) mod resolve;
pub(crate) mod status;
pub(crate) mod verify;

use std::path::Path;

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::error::Result;
use crate::journal::{AlreadyReceived, Journal};
use crate::statement::Statement;

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
    }
}

pub(crate) fn load_config(path: &Path) -> Result<Config> {
    Ok(Config::load(path)?)
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
