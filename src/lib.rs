//! herald distributes official statements by email.
//!
//! The pipeline, one module per arrow:
//!
//! ```text
//! statement file ──parse──▶ Statement ──extract──▶ addressee phrases
//!       ──resolve (Directory)──▶ organisations ──render (Templates)──▶ Letters
//!       ──compose──▶ MIME messages ──deliver (Transport, retries, rate limit)──▶ Journal (SQLite)
//! ```
//!
//! Pure stages (no files, no network, no clock): [`statement`], `addressees`, `normalize`,
//! [`directory::resolve`], [`letters`] rendering and [`letters::compose`]. I/O lives in
//! [`config`] and [`directory`] loading, template loading, `delivery` (transports),
//! [`journal`] and `daemon`.
//!
//! Joining the stages: `plan` (a statement file → the organisations it reaches, refusing
//! anything that cannot go out) and `sending` (the letters of one plan, rendered on demand,
//! and the process's means of sending), shared by the commands and the daemon; `lock` lets
//! several herald processes share one journal safely.

pub(crate) mod addressees;
pub(crate) mod cli;
pub(crate) mod commands;
pub mod config;
pub(crate) mod daemon;
pub(crate) mod delivery;
pub mod directory;
pub(crate) mod error;
pub(crate) mod header;
pub mod journal;
pub mod letters;
pub(crate) mod lock;
pub(crate) mod logging;
pub(crate) mod normalize;
pub(crate) mod plan;
pub(crate) mod sending;
pub mod statement;
pub(crate) mod toml_error;

#[cfg(test)]
mod mutation_tests;

use std::process::ExitCode;

use clap::Parser;

/// The whole program: parse arguments, run the command, print any error, return the exit status.
pub fn main() -> ExitCode {
    // `HERALD_CONFIG=` (set, but empty) means unset, as a shell user means it; clap would refuse
    // it as "a value is required for '--config'". Nothing else runs yet to read the environment.
    if std::env::var_os("HERALD_CONFIG").is_some_and(|value| value.is_empty()) {
        std::env::remove_var("HERALD_CONFIG");
    }
    let cli = cli::Cli::parse();
    logging::init(cli.verbose, cli.quiet, cli.log_format);
    let result = commands::run(cli);
    // A command's own failure decides the status; a closed standard output only ends an
    // otherwise successful run with 141, quietly (commands::output).
    match (result, commands::output::stdout_outcome()) {
        (Err(err), _) => {
            commands::output::errln!("herald: {err}");
            ExitCode::from(err.code())
        }
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Ok(()), Err(None)) => ExitCode::from(commands::output::CLOSED_STDOUT_STATUS),
        (Ok(()), Err(Some(message))) => {
            commands::output::errln!("herald: cannot write to standard output: {message}");
            ExitCode::from(1)
        }
    }
}
