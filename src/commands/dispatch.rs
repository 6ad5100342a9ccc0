//! `herald dispatch`: resolve a statement, then either preview every letter (`--dry-run`) or send
//! every letter not yet `sent` through the configured transport, recording each attempt.
//!
//! Everything that can be refused is refused before the first letter leaves (exit 2): the
//! statement, unresolved addressees, a letter that does not render, the transport's setup (a
//! missing password), and a run without `--yes` where nobody can be asked.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::DispatchArgs;
use crate::delivery::{DeliveryError, Progress};
use crate::directory;
use crate::dispatch::{Letters, Sender};
use crate::error::{Error, Result};
use crate::journal::{AttemptResult, ClaimPolicy, LetterKey, State};
use crate::letters::Templates;
use crate::plan;

/// How long the command waits, within the run, for a deferred letter's next attempt; longer
/// waits are left to the next dispatch or the daemon.
const RETRY_WITHIN: Duration = Duration::from_secs(60);

pub(crate) fn run(config_path: &Path, args: DispatchArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    // The templates load while the directory does: neither needs the other. A directory that
    // does not load is reported first, as before.
    let (directory, templates) = std::thread::scope(|scope| {
        let templates = scope.spawn(|| Templates::load(&config.templates_dir));
        let directory = directory::load(&config.recipients_dir);
        let templates = templates
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (directory, templates)
    });
    let directory = Arc::new(directory?);
    let templates = Arc::new(templates?);
    let plan = plan::plan(
        &directory,
        &args.statement,
        plan::Reading {
            date_order: config.statement.date_order,
            allow_undated: args.allow_undated,
        },
    )?;
    let letters = Letters::new(plan, directory, templates, &config);

    // The dry run renders every letter once, and refuses as below if one does not render.
    if args.dry_run {
        let statement = &letters.plan.statement;
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| config.data_dir.join("previews").join(statement.id.as_str()));
        let (n, index) = letters.preview(&out)?;
        println!(
            "{n} letters for {} rendered to {} (nothing sent, nothing recorded)\nopen {}",
            statement.id,
            out.display(),
            index.display()
        );
        let orgs = letters.plan.organization_ids(&letters.directory);
        for earlier in super::already_received(&config, statement, &orgs)? {
            println!("note: {}", earlier.warning());
        }
        // Only memory: the process ends now, and freeing a large directory entry by entry
        // would only delay that.
        std::mem::forget(letters);
        return Ok(());
    }
    letters.render_all()?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Delivery(DeliveryError::Setup(format!("starting the runtime: {e}"))))?;
    runtime.block_on(send(&config, letters, &args))
}

async fn send(config: &crate::config::Config, letters: Letters, args: &DispatchArgs) -> Result<()> {
    let sender = Sender::open(config, RETRY_WITHIN)?;
    let source = args.statement.display().to_string();
    let statement_id = letters.plan.statement.id.clone();
    sender
        .journal
        .register(letters.statement_info(&source, false), letters.planned())
        .await?;
    let states: HashMap<String, State> = sender
        .reader
        .letters_of(&statement_id)?
        .into_iter()
        .map(|row| (row.organization, row.status))
        .collect();
    let policy = ClaimPolicy {
        include_failed: true,
        include_uncertain: args.resend_uncertain,
        respect_schedule: false,
    };
    let all = letters.keys();
    let total = all.len();
    let (to_send, held): (Vec<LetterKey>, Vec<LetterKey>) = all.into_iter().partition(|key| {
        let state = states
            .get(key.organization.as_str())
            .copied()
            .unwrap_or(State::Pending);
        will_send(state, policy)
    });
    // Letters not sent and not to be sent now: they keep the exit status at 1.
    let left_undelivered: Vec<(String, State)> = held
        .iter()
        .map(|key| key.organization.as_str().to_string())
        .filter_map(|id| states.get(&id).map(|s| (id, *s)))
        .filter(|(_, s)| *s != State::Sent)
        .collect();

    if to_send.is_empty() {
        let delivered = held.len() - left_undelivered.len();
        println!("{delivered} of {total} already delivered; nothing to send");
        return report_left(&left_undelivered);
    }
    let n = to_send.len();
    // A corrected statement has a new id and goes to everyone again: by design, but never
    // without saying so.
    let statement = &letters.plan.statement;
    let orgs: Vec<&str> = to_send.iter().map(|k| k.organization.as_str()).collect();
    let warnings: Vec<String> = sender
        .reader
        .already_received(&statement.id, &statement.title, &statement.file_name, &orgs)?
        .iter()
        .map(|earlier| format!("warning: {}", earlier.warning()))
        .collect();
    if args.yes {
        for warning in &warnings {
            eprintln!("herald: {warning}");
        }
    } else {
        let mut question = String::new();
        for warning in &warnings {
            question.push_str(warning);
            question.push('\n');
        }
        question.push_str(&format!(
            "send {n} letters to {n} organisations via {}? [y/N] ",
            sender.transport.describe()
        ));
        confirm(&question)?;
    }

    let progress = Arc::new(Reporter::new(n, total - n));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::warn!("interrupted: finishing the letters in flight, starting no new one");
            let _ = stop.send(true);
        }
    });
    let summary = sender
        .send(
            Arc::new(letters),
            to_send,
            policy,
            Arc::clone(&progress),
            shutdown,
        )
        .await;
    progress.finish();
    let journal = sender.journal.stats();
    tracing::debug!(
        "journal: {} requests in {} commits (largest batch {})",
        journal.requests,
        journal.commits,
        journal.largest_batch
    );
    let mut summary = summary?;
    summary.skipped += total - n;
    println!("{summary}");
    // The next attempt of each deferred letter, as the journal recorded it.
    let next_attempts: HashMap<String, DateTime<Utc>> = if summary.deferred > 0 {
        sender
            .reader
            .letters_of(&statement_id)?
            .into_iter()
            .filter(|row| row.status == State::Deferred)
            .filter_map(|row| Some((row.organization, row.next_attempt_at?)))
            .collect()
    } else {
        HashMap::new()
    };
    for letter in &summary.undelivered {
        let code = letter
            .smtp_code
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        let next = next_attempts
            .get(letter.organization.as_str())
            .filter(|_| letter.state == State::Deferred)
            .map(|at| format!("; next attempt at {}", utc(*at)))
            .unwrap_or_default();
        println!(
            "  {} {}{code}: {}{next}",
            letter.state,
            letter.organization.as_str(),
            letter.reply
        );
    }
    if let Some(hint) = deferred_hint(summary.deferred, next_attempts.values().min(), &source) {
        println!("{hint}");
    }
    // The chain cannot prove on its own that nothing was cut off its end: this line, noted down
    // (or mailed away), lets `herald verify --expect-head` prove it later.
    if let Some(head) = sender.reader.head()? {
        println!(
            "journal head {head} — note it to prove later that nothing was removed \
             (herald verify --expect-head '#{}:{}')",
            head.id, head.hash
        );
    }
    if !summary.all_sent() {
        return Err(Error::Undelivered(format!("{summary}")));
    }
    report_left(&left_undelivered)
}

/// A time as the journal, history and README show it: `2021-05-27T18:30:00Z`.
fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// What to do about deferred letters: this command does not wait for retries due after
/// [`RETRY_WITHIN`], so it says when the first one is due and how to send them.
fn deferred_hint(
    deferred: usize,
    first: Option<&DateTime<Utc>>,
    statement: &str,
) -> Option<String> {
    if deferred == 0 {
        return None;
    }
    let when = first
        .map(|at| format!(" (the first is due at {})", utc(*at)))
        .unwrap_or_default();
    Some(format!(
        "{deferred} letter(s) deferred and retried later{when}: run `herald dispatch {statement}` again, or leave it to the daemon"
    ))
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
    confirmed(&answer)
}

/// `y` or `yes` goes ahead; any other answer declines, with exit status 1 rather than 2: the
/// input was valid, the letters simply were not delivered.
fn confirmed(answer: &str) -> Result<()> {
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::Undelivered("not confirmed; nothing was sent".into()))
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
        // No code (the file transport, a refused connection): no `code` field, not `code=""`.
        let code = result.smtp_code;
        match &self.bar {
            Some(bar) => {
                if !retrying {
                    bar.inc(1);
                }
                if result.state != State::Sent {
                    let code = code.map(|c| format!(" {c}")).unwrap_or_default();
                    bar.println(format!("{} {org}{code} {}", result.state, result.reply));
                }
            }
            None if result.state == State::Sent => {
                tracing::info!(organization = org, code, reply = %result.reply, "sent");
            }
            None => tracing::warn!(
                organization = org,
                state = %result.state,
                code,
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

    /// Regression: declining the prompt exited 2, the status of invalid input.
    #[test]
    fn declining_sends_nothing_and_exits_1() {
        for answer in ["y\n", "YES\n", " yes "] {
            assert!(confirmed(answer).is_ok(), "{answer:?}");
        }
        for answer in ["\n", "n\n", "no", "yes please", ""] {
            match confirmed(answer) {
                Err(e) => {
                    assert_eq!(e.code(), 1, "{answer:?}");
                    assert_eq!(e.to_string(), "not confirmed; nothing was sent");
                }
                Ok(()) => panic!("{answer:?} confirmed"),
            }
        }
    }

    #[test]
    fn deferred_letters_say_when_and_how_they_will_go() {
        use chrono::TimeZone;
        let at = Utc.with_ymd_and_hms(2021, 5, 27, 9, 30, 0).unwrap();
        assert_eq!(deferred_hint(0, None, "s.txt"), None);
        assert_eq!(
            deferred_hint(3, Some(&at), "statements/s.txt").as_deref(),
            Some("3 letter(s) deferred and retried later (the first is due at 2021-05-27T09:30:00Z): run `herald dispatch statements/s.txt` again, or leave it to the daemon")
        );
    }

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
