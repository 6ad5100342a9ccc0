//! The command line (clap derive): one struct per subcommand; each doc comment is its `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Distributes official statements by email to the institutions they are addressed to, and keeps
/// a delivery journal that proves who received what, when, and with which server reply.
#[derive(Debug, Parser)]
#[command(name = "herald", version, propagate_version = true)]
pub(crate) struct Cli {
    /// The configuration file.
    #[arg(
        long,
        global = true,
        env = "HERALD_CONFIG",
        default_value = "config/herald.toml"
    )]
    pub(crate) config: PathBuf,

    /// More detail in the log (-v: debug, -vv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub(crate) verbose: u8,

    /// Only errors.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,

    /// Log lines as text for people or JSON for machines.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    Check(CheckArgs),
    Resolve(ResolveArgs),
    Dispatch(DispatchArgs),
    Daemon(DaemonArgs),
    Status(StatusArgs),
    Approve(ApproveArgs),
    Cancel(CancelArgs),
    History(HistoryArgs),
    Verify(VerifyArgs),
    Init(InitArgs),
}

/// Validate the configuration, the recipients directory and the templates (every template is
/// rendered once for every organisation), and that an SMTP password the configuration names is
/// set; resolve the statements given. With --smtp, also try the relay.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// Statements to parse and resolve as well.
    pub(crate) statements: Vec<PathBuf>,
    /// Also connect to the SMTP relay and report each step (connect, TLS and its certificate,
    /// EHLO, STARTTLS, AUTH, QUIT); no mail is sent.
    #[arg(long)]
    pub(crate) smtp: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

/// Show a statement's metadata, each addressee phrase and what it resolved to, and the letters
/// that would go out. Exit 2 if any addressee is not found.
#[derive(Debug, Args)]
pub(crate) struct ResolveArgs {
    /// The statement file (plain text).
    pub(crate) statement: PathBuf,
    /// `text` for people, `json` for scripts (one object: statement, addressees, letters).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) format: OutputFormat,
}

/// Send one letter per addressed organisation (every letter not yet sent), recording each step in
/// the journal; or, with --dry-run, render them for review and send nothing.
#[derive(Debug, Args)]
pub(crate) struct DispatchArgs {
    /// The statement file (plain text); dispatching it again sends only what is not yet sent.
    pub(crate) statement: PathBuf,
    /// Render every letter to --out as .eml plus a browsable index.html; send and record nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Where --dry-run writes (default: <data>/previews/<statement-id>/).
    #[arg(long, requires = "dry_run")]
    pub(crate) out: Option<PathBuf>,
    /// Do not ask for confirmation (required when not on a terminal).
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
    /// Also re-send letters whose outcome is unknown (`uncertain`): they may arrive twice.
    #[arg(long)]
    pub(crate) resend_uncertain: bool,
    /// Send a statement in which no date was found (refused otherwise).
    #[arg(long)]
    pub(crate) allow_undated: bool,
}

/// Write a working configuration to DIR: `herald.toml` (paths relative to it), the shipped
/// recipients directory and templates. Never overwrites a file; edit `[sender]` and the
/// recipients' addresses before the first real dispatch.
#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The folder to write to (e.g. /etc/herald); created if missing.
    pub(crate) dir: PathBuf,
    /// The data folder (journal, inbox, processed, rejected) the configuration names; a relative
    /// path is taken from DIR. For the systemd unit: /var/lib/herald.
    #[arg(long, default_value = "var")]
    pub(crate) data: String,
}

/// Watch <data>/inbox/ and dispatch every statement dropped there; retry deferred letters; stop
/// cleanly on SIGINT or SIGTERM.
#[derive(Debug, Args)]
pub(crate) struct DaemonArgs {}

/// What the daemon sees: statements in progress, letters by state, the next retry.
#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    /// `text` for people, `json` for scripts.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub(crate) format: OutputFormat,
}

/// Release a statement the daemon holds for approval (`[daemon] require_approval = true`).
#[derive(Debug, Args)]
pub(crate) struct ApproveArgs {
    /// The statement's id, as `herald status` shows it (e.g. 2021-05-27-49d0abd7).
    pub(crate) statement_id: String,
}

/// Withdraw a statement's letters that were never offered to a server (`pending` or `deferred`):
/// they become `cancelled` and are never sent. Letters `sent`, `partial`, `uncertain`, `failed`
/// or being sent right now stay as they are. The journal records who cancelled and when.
#[derive(Debug, Args)]
pub(crate) struct CancelArgs {
    /// The statement's id, as `herald status` shows it (e.g. 2021-05-27-49d0abd7).
    pub(crate) statement_id: String,
    /// Withdraw without asking (needed where nobody can be asked, as in a script).
    #[arg(long)]
    pub(crate) yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HistoryFormat {
    Table,
    Json,
    Csv,
}

/// The delivery history from the journal.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// Only this statement id (any case).
    #[arg(long)]
    pub(crate) statement: Option<String>,
    /// Only this organisation id, as in `recipients/*.toml` (any case: `OSCE` finds `osce`).
    #[arg(long)]
    pub(crate) organization: Option<String>,
    /// Only letters in this state (pending, sending, sent, partial, deferred, failed, uncertain,
    /// cancelled).
    #[arg(long)]
    pub(crate) status: Option<String>,
    /// Only letters updated at or after this time (RFC 3339, or a date YYYY-MM-DD).
    #[arg(long)]
    pub(crate) since: Option<String>,
    /// Only letters updated before this time (RFC 3339, or a date YYYY-MM-DD: before that day).
    #[arg(long)]
    pub(crate) until: Option<String>,
    /// `table` for people, `json` or `csv` (times in UTC, written with `Z`) for scripts.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Table)]
    pub(crate) format: HistoryFormat,
    /// In the table, show every value whole (the full server reply) instead of fitting 100
    /// columns.
    #[arg(long)]
    pub(crate) wide: bool,
}

/// Check the journal's integrity; exit 0 only if intact.
///
/// Recomputes the hash chain of events, checks every letter (state, reply, addresses, Message-ID,
/// per-address outcomes, times) and every statement (title, source, text) against it, and prints
/// the chain's head: the last event's id and hash. Note the head (or mail it to yourself) after a
/// dispatch; `--expect-head` later proves that nothing up to it was removed or rewritten.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Also fail unless the chain still holds this head, as printed by an earlier `dispatch` or
    /// `verify`: `#ID:HASH` (the hash must be event ID's) or just `HASH`.
    #[arg(long, value_name = "#ID:HASH")]
    pub(crate) expect_head: Option<crate::journal::ExpectedHead>,
}
