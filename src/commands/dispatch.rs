//! `herald dispatch`: resolve a statement, then either preview every letter (`--dry-run`) or send
//! every letter not yet `sent` through the configured transport, recording each attempt.
//!
//! Everything that can be refused is refused before the first letter leaves (exit 2): the
//! statement, unresolved addressees, the transport's setup (a missing password), and a run without
//! `--yes` where nobody can be asked.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::DispatchArgs;
use crate::config::{Config, Sender, TransportKind};
use crate::delivery::file::FileTransport;
use crate::delivery::smtp::SmtpTransport;
use crate::delivery::{
    self, Composer, DispatchOptions, Progress, RetryPolicy, SharedJournal, Transport,
};
use crate::directory::{self, Directory};
use crate::error::{Error, Result};
use crate::journal::{
    AttemptResult, ClaimPolicy, Journal, LetterKey, PlannedLetter, State, StatementInfo,
};
use crate::letters::compose::{self, Composed};
use crate::letters::{self, Templates};
use crate::statement::{self, Statement, StatementError};

/// How long the command waits, within the run, for a deferred letter's next attempt; longer
/// waits are left to the next dispatch or the daemon.
const RETRY_WITHIN: Duration = Duration::from_secs(60);

pub(crate) fn run(config_path: &Path, args: DispatchArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    let path = args.statement.display().to_string();
    let directory = directory::load(&config.recipients_dir)?;
    let templates = Templates::load(&config.templates_dir)?;
    let bytes = std::fs::read(&args.statement).map_err(|source| StatementError::Read {
        path: path.clone(),
        source,
    })?;
    let text = statement::decode(&path, bytes)?;
    let file_name = args
        .statement
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.clone());
    let statement = statement::parse(&path, &file_name, &text)?;
    let Some(source) = &statement.addressees else {
        return Err(StatementError::NoAddressees { path }.into());
    };
    let resolution = directory::resolve::resolve(&directory, source);
    resolution.require_complete(&path)?;
    if resolution.letters.is_empty() {
        return Err(Error::Usage(format!(
            "{path}: the addressees name no organisation to write to"
        )));
    }
    let addressees: Vec<String> = resolution
        .phrases
        .iter()
        .map(|p| p.phrase.clone())
        .collect();
    let letters = LetterComposer {
        statement,
        directory,
        templates,
        sender: config.sender.clone(),
        addressees,
    };

    if args.dry_run {
        return dry_run(&config, &letters, &resolution.letters, args.out.as_deref());
    }
    send(&config, &path, letters, &resolution.letters, &args)
}

/// Renders and composes letters on demand, for the engine's workers and the dry run alike.
struct LetterComposer {
    statement: Statement,
    directory: Directory,
    templates: Templates,
    sender: Sender,
    addressees: Vec<String>,
}

impl LetterComposer {
    fn letter(&self, index: usize) -> std::result::Result<(letters::Letter, Composed), String> {
        let organization = self
            .directory
            .organizations
            .get(index)
            .ok_or_else(|| format!("no organisation number {index} in the directory"))?;
        let context = letters::context(
            &self.statement,
            organization,
            &self.sender,
            &self.addressees,
        );
        let letter = self.templates.render(&context).map_err(|e| e.to_string())?;
        let composed = compose::compose(
            &letter,
            organization,
            &self.statement,
            &self.sender,
            Utc::now().fixed_offset(),
        )
        .map_err(|e| e.to_string())?;
        Ok((letter, composed))
    }
}

impl Composer for LetterComposer {
    fn compose(&self, key: &LetterKey) -> std::result::Result<Composed, String> {
        let index = self
            .directory
            .organizations
            .iter()
            .position(|o| o.id == key.organization)
            .ok_or_else(|| {
                format!(
                    "`{}` is no longer in the directory",
                    key.organization.as_str()
                )
            })?;
        self.letter(index).map(|(_, composed)| composed)
    }
}

fn dry_run(
    config: &Config,
    letters: &LetterComposer,
    order: &[usize],
    out: Option<&Path>,
) -> Result<()> {
    let statement = &letters.statement;
    let out = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| config.data_dir.join("previews").join(statement.id.as_str()));
    let mut writer = PreviewWriter::new(&out)?;
    for &index in order {
        let (letter, composed) = letters.letter(index).map_err(|message| {
            Error::Usage(format!(
                "{}: {message}",
                letters.directory.organizations[index].id.as_str()
            ))
        })?;
        writer.add(&letters.directory.organizations[index], &letter, &composed)?;
    }
    let index = writer.finish(statement)?;
    println!(
        "{} letters for `{}` rendered to {} (nothing sent, nothing recorded); open {}",
        order.len(),
        statement.id.as_str(),
        out.display(),
        index.display()
    );
    Ok(())
}

// The letters branch provides `letters::preview::PreviewWriter`; this stand-in keeps the branch
// building until the two meet, with the same calls.
use preview_stand_in::PreviewWriter;
mod preview_stand_in {
    use std::path::{Path, PathBuf};

    use crate::directory::Organization;
    use crate::letters::compose::Composed;
    use crate::letters::{Letter, LetterError};
    use crate::statement::Statement;

    pub(super) struct PreviewWriter;

    impl PreviewWriter {
        pub(super) fn new(out_dir: &Path) -> Result<PreviewWriter, LetterError> {
            Err(LetterError::Template {
                path: out_dir.to_path_buf(),
                message: "previews are not built in this branch".into(),
            })
        }
        pub(super) fn add(
            &mut self,
            _: &Organization,
            _: &Letter,
            _: &Composed,
        ) -> Result<(), LetterError> {
            Ok(())
        }
        pub(super) fn finish(self, _: &Statement) -> Result<PathBuf, LetterError> {
            Ok(PathBuf::new())
        }
    }
}

fn send(
    config: &Config,
    path: &str,
    letters: LetterComposer,
    order: &[usize],
    args: &DispatchArgs,
) -> Result<()> {
    let statement = &letters.statement;
    // Set up the transport first: a missing password must stop the run before the journal moves.
    let transport = match &config.transport {
        TransportKind::File => Transport::File(FileTransport::new(&config.data_dir)),
        TransportKind::Smtp(settings) => Transport::Smtp(SmtpTransport::new(settings.clone())?),
    };
    std::fs::create_dir_all(&config.data_dir).map_err(|e| Error::io(&config.data_dir, e))?;
    let mut journal = Journal::open(&config.journal_path())?;
    let now = Utc::now();
    let interrupted = journal.recover_interrupted(now)?;
    if !interrupted.is_empty() {
        tracing::warn!(
            "{} letter(s) were being sent when an earlier run stopped; they are now `uncertain`",
            interrupted.len()
        );
    }
    let organizations = &letters.directory.organizations;
    let planned: Vec<PlannedLetter> = order
        .iter()
        .map(|&i| {
            let org = &organizations[i];
            PlannedLetter {
                organization: org.id.clone(),
                to: org.emails.iter().map(ToString::to_string).collect(),
                cc: org.cc.iter().map(ToString::to_string).collect(),
                message_id: compose::message_id(&statement.id, &org.id, &letters.sender),
            }
        })
        .collect();
    journal.register(
        &StatementInfo {
            id: statement.id.clone(),
            title: statement.title.clone(),
            source: path.to_string(),
            held: false,
        },
        &planned,
        now,
    )?;
    let states: HashMap<String, State> = journal
        .letters_of(&statement.id)?
        .into_iter()
        .map(|row| (row.organization, row.status))
        .collect();
    let policy = ClaimPolicy {
        include_failed: true,
        include_uncertain: args.resend_uncertain,
        respect_schedule: false,
    };
    let (to_send, held): (Vec<usize>, Vec<usize>) = order.iter().partition(|&&i| {
        let state = states
            .get(organizations[i].id.as_str())
            .copied()
            .unwrap_or(State::Pending);
        will_send(state, policy)
    });
    // Letters not sent and not to be sent now: they keep the exit status at 1.
    let left_undelivered: Vec<(String, State)> = held
        .iter()
        .map(|&i| organizations[i].id.as_str().to_string())
        .filter_map(|id| states.get(&id).map(|s| (id, *s)))
        .filter(|(_, s)| *s != State::Sent)
        .collect();

    if to_send.is_empty() {
        let delivered = held.len() - left_undelivered.len();
        println!(
            "{delivered} of {} already delivered; nothing to send",
            order.len()
        );
        return report_left(&left_undelivered);
    }
    let n = to_send.len();
    if !args.yes {
        confirm(&format!(
            "send {n} letters to {n} organisations via {}? [y/N] ",
            transport.describe()
        ))?;
    }

    let keys: Vec<LetterKey> = to_send
        .iter()
        .map(|&i| LetterKey {
            statement: statement.id.clone(),
            organization: organizations[i].id.clone(),
        })
        .collect();
    let options = DispatchOptions {
        concurrency: match config.transport {
            TransportKind::File => 1,
            TransportKind::Smtp(_) => config.delivery.concurrency,
        },
        rate_per_minute: config.delivery.rate_per_minute,
        retry: RetryPolicy {
            max_attempts: config.delivery.max_attempts,
            backoff_base: config.delivery.backoff_base,
            backoff_cap: config.delivery.backoff_cap,
        },
        claim: policy,
        retry_within: RETRY_WITHIN.min(config.delivery.backoff_cap),
    };
    let progress = Arc::new(Reporter::new(n, order.len() - n));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Error::Delivery(delivery::DeliveryError::Setup(format!(
                "starting the runtime: {e}"
            )))
        })?;
    let summary = runtime.block_on(async {
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                tracing::warn!("interrupted: finishing the letters in flight, starting no new one");
                let _ = stop.send(true);
            }
        });
        delivery::dispatch(
            keys,
            Arc::new(transport),
            Arc::new(SharedJournal::new(journal)),
            Arc::new(letters),
            Arc::clone(&progress),
            options,
            shutdown,
        )
        .await
    });
    progress.finish();
    let mut summary = summary?;
    summary.skipped += order.len() - n;
    println!("{summary}");
    for letter in &summary.undelivered {
        let code = letter
            .smtp_code
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        println!(
            "  {} {}{code}: {}",
            letter.state,
            letter.organization.as_str(),
            letter.reply
        );
    }
    if !summary.all_sent() {
        return Err(Error::Undelivered(format!("{summary}")));
    }
    report_left(&left_undelivered)
}

/// Would a claim under `policy` take a letter in `state`? (Mirrors the journal's claim rule, to
/// count and confirm before anything is claimed.)
fn will_send(state: State, policy: ClaimPolicy) -> bool {
    match state {
        State::Pending | State::Deferred => true,
        State::Failed => policy.include_failed,
        State::Uncertain => policy.include_uncertain,
        State::Sending | State::Sent | State::Partial => false,
    }
}

fn report_left(left: &[(String, State)]) -> Result<()> {
    if left.is_empty() {
        return Ok(());
    }
    for (organization, state) in left {
        let hint = if *state == State::Uncertain {
            " (may have arrived; `--resend-uncertain` sends it again)"
        } else {
            ""
        };
        println!("  {state} {organization}{hint}");
    }
    Err(Error::Undelivered(format!(
        "{} letter(s) not delivered",
        left.len()
    )))
}

fn confirm(question: &str) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::Usage(
            "not on a terminal, so nobody can confirm; nothing was sent (pass --yes to send)"
                .into(),
        ));
    }
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{question}");
    let _ = stderr.flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::io("<stdin>", e))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::Usage("not confirmed; nothing was sent".into()))
    }
}

/// A progress bar on a terminal, one log line per letter otherwise.
struct Reporter {
    bar: Option<ProgressBar>,
}

impl Reporter {
    fn new(total: usize, skipped: usize) -> Reporter {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {pos}/{len} letters  {per_sec}  {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        if skipped > 0 {
            tracing::info!("{skipped} letter(s) already delivered or held; skipping them");
        }
        Reporter { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Reporter {
    fn attempted(&self, key: &LetterKey, result: &AttemptResult, retrying: bool) {
        let org = key.organization.as_str();
        let code = result.smtp_code.map(|c| c.to_string()).unwrap_or_default();
        match &self.bar {
            Some(bar) => {
                if !retrying {
                    bar.inc(1);
                }
                if result.state != State::Sent {
                    bar.println(format!("{} {org} {code} {}", result.state, result.reply));
                }
            }
            None if result.state == State::Sent => {
                tracing::info!(organization = org, code = code, reply = %result.reply, "sent");
            }
            None => tracing::warn!(
                organization = org,
                state = %result.state,
                code = code,
                reply = %result.reply,
                retrying,
                "not sent"
            ),
        }
    }

    fn skipped(&self, key: &LetterKey) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
        tracing::debug!(
            organization = key.organization.as_str(),
            "skipped: taken or already delivered"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_states_are_sent_again() {
        let manual = ClaimPolicy {
            include_failed: true,
            include_uncertain: false,
            respect_schedule: false,
        };
        let resend = ClaimPolicy {
            include_uncertain: true,
            ..manual
        };
        let rows = [
            (State::Pending, true, true),
            (State::Deferred, true, true),
            (State::Failed, true, true),
            (State::Uncertain, false, true),
            (State::Sent, false, false),
            (State::Partial, false, false),
            (State::Sending, false, false),
        ];
        for (state, plain, with_resend) in rows {
            assert_eq!(will_send(state, manual), plain, "{state}");
            assert_eq!(
                will_send(state, resend),
                with_resend,
                "{state} with --resend-uncertain"
            );
        }
    }
}
