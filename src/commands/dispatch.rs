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

use super::output::{count, errln, outln, shown};
use crate::cli::DispatchArgs;
use crate::config::TransportKind;
use crate::delivery::file::FileTransport;
use crate::delivery::{DeliveryError, Progress, SetupError};
use crate::directory;
use crate::error::{Error, Result};
use crate::journal::{AttemptResult, ClaimPolicy, HistoryFilter, Journal, LetterKey, State};
use crate::letters::Templates;
use crate::plan;
use crate::sending::{Courier, Letters};
use crate::statement::StatementId;

/// How long the command waits, within the run, for a deferred letter's next attempt; longer
/// waits are left to the next dispatch or the daemon.
const RETRY_WITHIN: Duration = Duration::from_secs(60);

pub(crate) fn run(config_path: &Path, args: DispatchArgs) -> Result<()> {
    let config = super::load_config(config_path)?;
    super::require_folders(
        &config,
        &[super::Folder::Recipients, super::Folder::Templates],
    )?;
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
        config.statement.max_bytes,
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
        outln!(
            "{} for {} rendered to {} (nothing sent, nothing recorded)\nopen {}",
            count(n, "letter", "letters"),
            statement.id,
            out.display(),
            index.display()
        );
        let orgs = letters.plan.organization_ids(&letters.directory);
        for earlier in super::already_received(&config, statement, &orgs)? {
            outln!("note: {}", earlier.warning());
        }
        // Only memory: the process ends now, and freeing a large directory entry by entry
        // would only delay that.
        std::mem::forget(letters);
        return Ok(());
    }
    // The check keeps the letters for the send in the data folder, or before the first
    // dispatch has made it, in the system's temporary folder.
    let spool_dir = if config.data_dir.is_dir() {
        config.data_dir.clone()
    } else {
        std::env::temp_dir()
    };
    letters.render_all(&spool_dir)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| DeliveryError::from(SetupError::Runtime(e)))?;
    runtime.block_on(send(&config, letters, &args))
}

async fn send(config: &crate::config::Config, letters: Letters, args: &DispatchArgs) -> Result<()> {
    let source = args.statement.display().to_string();
    let statement_id = letters.plan.statement.id.clone();
    let policy = ClaimPolicy {
        include_failed: true,
        include_uncertain: args.resend_uncertain,
        respect_schedule: false,
    };
    // Nothing is written before the user has said yes: the question is asked from what the
    // journal holds now, read only, and a declined (or impossible) confirmation leaves the
    // journal as it was — no statement, no `pending` letter left waiting for nobody.
    if !args.yes {
        let states = match Journal::open_existing(&config.journal_path())? {
            Some(journal) => states_of(&journal, &statement_id)?,
            None => HashMap::new(),
        };
        let (to_send, _) = partition(letters.keys(), &states, policy);
        if !to_send.is_empty() {
            let statement = &letters.plan.statement;
            let orgs: Vec<&str> = to_send.iter().map(|k| k.organization.as_str()).collect();
            let warnings: Vec<String> = super::already_received(config, statement, &orgs)?
                .iter()
                .map(|earlier| format!("warning: {}", earlier.warning()))
                .collect();
            confirm(&Question {
                letters: &letters,
                to_send: &to_send,
                warnings: &warnings,
                via: describe_transport(config),
            })?;
        }
    }

    let courier = Courier::open(config, RETRY_WITHIN)?;
    courier
        .journal
        .register(letters.statement_info(&source, false), letters.planned())
        .await?;
    let states = states_of(&courier.reader, &statement_id)?;
    let all = letters.keys();
    let total = all.len();
    let (to_send, held) = partition(all, &states, policy);
    // Letters not sent and not to be sent now: they keep the exit status at 1. A cancelled
    // letter was withdrawn on purpose: not sent, and not a failure either.
    let cancelled = held
        .iter()
        .filter(|key| states.get(key.organization.as_str()) == Some(&State::Cancelled))
        .count();
    // A letter `sending` now is another live process's (opening the courier turned those of
    // dead processes `uncertain`): that process sends and reports it; not a failure of this run.
    let left_undelivered: Vec<(String, State)> = held
        .iter()
        .map(|key| key.organization.as_str().to_string())
        .filter_map(|id| states.get(&id).map(|s| (id, *s)))
        .filter(|(_, s)| !matches!(s, State::Sent | State::Cancelled | State::Sending))
        .collect();

    if to_send.is_empty() {
        let elsewhere = held
            .iter()
            .filter(|key| states.get(key.organization.as_str()) == Some(&State::Sending))
            .count();
        let delivered = held.len() - left_undelivered.len() - cancelled - elsewhere;
        let withdrawn = if cancelled > 0 {
            format!(", {cancelled} cancelled")
        } else {
            String::new()
        };
        outln!("{delivered} of {total} already delivered{withdrawn}; nothing to send");
        report_elsewhere(&courier, &statement_id)?;
        return report_left(&left_undelivered);
    }
    let n = to_send.len();
    // A corrected statement has a new id and goes to everyone again: by design, but never
    // without saying so (the question above said it when there was one).
    if args.yes {
        let statement = &letters.plan.statement;
        let orgs: Vec<&str> = to_send.iter().map(|k| k.organization.as_str()).collect();
        for earlier in courier.reader.already_received(
            &statement.id,
            &statement.title,
            &statement.file_name,
            &orgs,
        )? {
            errln!("herald: warning: {}", earlier.warning());
        }
    }

    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let progress = Arc::new(Reporter::new(n, total - n, stop.clone()));
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::warn!("interrupted: finishing the letters in flight, starting no new one");
            let _ = stop.send(true);
        }
    });
    let summary = courier
        .send(
            Arc::new(letters),
            to_send,
            policy,
            Arc::clone(&progress),
            shutdown,
        )
        .await;
    progress.finish();
    let journal = courier.journal.stats();
    tracing::debug!(
        "journal: {} requests in {} commits (largest batch {})",
        journal.requests,
        journal.commits,
        journal.largest_batch
    );
    let mut summary = summary?;
    summary.skipped += total - n;
    outln!("{summary}");
    let stopped = progress.stopped_by();
    // The next attempt of each deferred letter, as the journal recorded it.
    let next_attempts: HashMap<String, DateTime<Utc>> = if summary.deferred > 0 {
        courier
            .reader
            .letters_of(&statement_id)?
            .into_iter()
            .filter(|row| row.status == State::Deferred)
            .filter_map(|row| Some((row.organization, row.next_attempt_at?)))
            .collect()
    } else {
        HashMap::new()
    };
    // The same outcome for many letters (a server down refuses them all alike) is one line.
    // Grouped lines say when the first of their letters goes next.
    type Group<'a> = (
        (State, Option<u16>, &'a str),
        Vec<&'a str>,
        Option<DateTime<Utc>>,
    );
    let mut groups: Vec<Group<'_>> = Vec::new();
    for letter in &summary.undelivered {
        let org = letter.organization.as_str();
        let next = next_attempts
            .get(org)
            .filter(|_| letter.state == State::Deferred)
            .copied();
        let key = (letter.state, letter.smtp_code, letter.reply.as_str());
        match groups.iter_mut().find(|(k, _, _)| *k == key) {
            Some((_, orgs, first)) => {
                orgs.push(org);
                *first = (*first).into_iter().chain(next).min();
            }
            None => groups.push((key, vec![org], next)),
        }
    }
    // One or two letters alike read as well line by line.
    let groups: Vec<Group<'_>> = groups
        .into_iter()
        .flat_map(|(key, orgs, next)| {
            if orgs.len() >= GROUP_FROM {
                vec![(key, orgs, next)]
            } else {
                orgs.into_iter()
                    .map(|org| {
                        let own = next_attempts
                            .get(org)
                            .filter(|_| key.0 == State::Deferred)
                            .copied();
                        (key, vec![org], own)
                    })
                    .collect()
            }
        })
        .collect();
    for ((state, code, reply), orgs, next) in &groups {
        let code = code.map(|c| format!(" ({c})")).unwrap_or_default();
        let (who, next) = match orgs.as_slice() {
            [one] => (
                (*one).to_string(),
                next.map(|at| format!("; next attempt at {}", utc(at))),
            ),
            many => (
                format!("{} letters ({})", many.len(), many.join(", ")),
                next.map(|at| format!("; the first next attempt at {}", utc(at))),
            ),
        };
        outln!(
            "  {state} {who}{code}: {}{}",
            shown(reply),
            next.unwrap_or_default()
        );
    }
    if let Some(stop) = &stopped {
        let left = n.saturating_sub(
            summary.sent + summary.partial + summary.failed + summary.deferred + summary.uncertain,
        );
        let what = match stop {
            Stop::Unreachable => format!(
                "the SMTP server {} cannot be reached, so this run stopped: {} not tried and \
                 stay as they were (pending or deferred); run the same command again when the \
                 server is reachable",
                courier.transport.describe(),
                count(left, "other letter was", "other letters were")
            ),
            Stop::Configuration(_) => format!(
                "the SMTP server {} refuses herald's configuration, so this run stopped: {} not \
                 tried and stay as they were; fix [smtp] in {} and run the same command again",
                courier.transport.describe(),
                count(left, "other letter was", "other letters were"),
                config.path.display()
            ),
        };
        outln!("{what}");
    }
    if let Some(hint) = deferred_hint(summary.deferred, next_attempts.values().min(), &source) {
        outln!("{hint}");
    }
    // The chain cannot prove on its own that nothing was cut off its end: this line, noted down
    // (or mailed away), lets `herald verify --expect-head` prove it later.
    if let Some(head) = courier.reader.head()? {
        outln!(
            "journal head {head} — note it to prove later that nothing was removed \
             (herald verify --expect-head '#{}:{}')",
            head.id,
            head.hash
        );
    }
    report_elsewhere(&courier, &statement_id)?;
    if let Some(Stop::Configuration(reason)) = stopped {
        return Err(Error::Usage(format!(
            "SMTP configuration: {}",
            shown(&reason)
        )));
    }
    if !summary.all_sent() || stopped.is_some() {
        return Err(Error::Undelivered(format!("{summary}")));
    }
    report_left(&left_undelivered)
}

/// Letters with the same outcome are reported on one line from this many on.
const GROUP_FROM: usize = 3;

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
        "{} deferred and retried later{when}: run `herald dispatch {statement}` again, or leave it to the daemon",
        count(deferred, "letter", "letters")
    ))
}

/// Says which of the statement's letters another herald process is sending right now (a
/// second dispatch, the daemon): they are that process's to send and report, not failures here.
fn report_elsewhere(courier: &Courier, statement: &StatementId) -> Result<()> {
    // Only the letters `sending` now, through the journal's index of states: reading every
    // letter of a large dispatch again took longer than the rest of this report.
    let sending = HistoryFilter {
        statement: Some(statement.to_string()),
        status: Some(State::Sending),
        ..HistoryFilter::default()
    };
    let mut elsewhere: Vec<String> = courier
        .reader
        .history(&sending)?
        .into_iter()
        .map(|row| row.organization)
        .collect();
    if elsewhere.is_empty() {
        return Ok(());
    }
    elsewhere.sort();
    outln!(
        "{} being sent by another herald process right now, which records and reports them \
         (`herald history --statement {statement}` shows how they end): {}",
        count(elsewhere.len(), "letter is", "letters are"),
        elsewhere.join(", ")
    );
    Ok(())
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
        outln!("  {state} {organization}{hint}");
    }
    Err(Error::Undelivered(format!(
        "{} not delivered",
        count(left.len(), "letter", "letters")
    )))
}

/// Each letter's state in the journal, by organisation id.
fn states_of(journal: &Journal, statement: &StatementId) -> Result<HashMap<String, State>> {
    Ok(journal
        .letters_of(statement)?
        .into_iter()
        .map(|row| (row.organization, row.status))
        .collect())
}

/// The letters this run sends (a letter not yet in the journal is `pending`), and the others.
fn partition(
    keys: Vec<LetterKey>,
    states: &HashMap<String, State>,
    policy: ClaimPolicy,
) -> (Vec<LetterKey>, Vec<LetterKey>) {
    keys.into_iter().partition(|key| {
        let state = states
            .get(key.organization.as_str())
            .copied()
            .unwrap_or(State::Pending);
        // This command does not wait for a deferred letter's schedule (`respect_schedule` off).
        policy.may_claim(state, || true)
    })
}

/// Where the letters go, as the question names it.
fn describe_transport(config: &crate::config::Config) -> String {
    match &config.transport {
        TransportKind::File => format!(
            "the outbox folder {}",
            FileTransport::new(&config.data_dir).outbox().display()
        ),
        TransportKind::Smtp(smtp) => format!("{}:{}", smtp.host, smtp.port),
    }
}

/// What the confirmation asks about: the statement, how many organisations, and where to.
struct Question<'a> {
    letters: &'a Letters,
    to_send: &'a [LetterKey],
    warnings: &'a [String],
    via: String,
}

impl Question<'_> {
    fn text(&self) -> String {
        let statement = &self.letters.plan.statement;
        let n = self.to_send.len();
        let total = self.letters.plan.resolution.letters.len();
        let mut text = String::new();
        for warning in self.warnings {
            text.push_str(warning);
            text.push('\n');
        }
        text.push_str(&format!(
            "statement {} «{}»\n",
            statement.id,
            shown(&statement.title)
        ));
        let organisations = if n == 1 {
            "1 organisation".to_string()
        } else {
            format!("{n} organisations")
        };
        let rest = if n < total {
            format!(
                " ({} of its {total} letters are already sent or not sent again)",
                total - n
            )
        } else {
            String::new()
        };
        text.push_str(&format!(
            "send one letter to each of {organisations}{rest} via {}?\n",
            self.via
        ));
        text.push_str("[y]es, [n]o, [l]ist the organisations: ");
        text
    }

    /// The organisations asked about, one a line: id, name, To addresses.
    fn list(&self) -> String {
        let directory = &self.letters.directory;
        let width = self
            .to_send
            .iter()
            .map(|k| k.organization.as_str().chars().count())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for key in self.to_send {
            let id = key.organization.as_str();
            let (name, to) = directory.organization(&key.organization).map_or_else(
                || (String::new(), String::new()),
                |org| {
                    let to: Vec<String> = org.emails.iter().map(ToString::to_string).collect();
                    (shown(&org.name).into_owned(), to.join(", "))
                },
            );
            text.push_str(&format!("  {id:width$}  {name}  <{to}>\n"));
        }
        text
    }
}

/// Asks on the terminal until the answer is yes or no; `l` lists the organisations first.
fn confirm(question: &Question<'_>) -> Result<()> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::Usage(
            "not on a terminal, so nobody can confirm; nothing was sent or recorded (pass \
             --yes to send)"
                .into(),
        ));
    }
    loop {
        errln!("{}", question.text().trim_end_matches('\n'));
        let mut stderr = std::io::stderr();
        let _ = stderr.flush();
        let mut answer = String::new();
        let read = stdin
            .lock()
            .read_line(&mut answer)
            .map_err(|e| Error::io("<stdin>", e))?;
        if read > 0 && matches!(answer.trim().to_ascii_lowercase().as_str(), "l" | "list") {
            errln!("{}", question.list().trim_end_matches('\n'));
            continue;
        }
        return confirmed(&answer);
    }
}

/// `y` or `yes` goes ahead; any other answer declines, with exit status 1 rather than 2: the
/// input was valid, the letters simply were not delivered.
fn confirmed(answer: &str) -> Result<()> {
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::Undelivered(
            "not confirmed; nothing was sent or recorded".into(),
        ))
    }
}

/// A progress bar on a terminal, one log line per letter otherwise; and the one who stops the
/// run when the relay cannot be used at all.
struct Reporter {
    bar: Option<ProgressBar>,
    /// Stops the run (no new letter is started; see the engine).
    stop: tokio::sync::watch::Sender<bool>,
    /// A server reply came (or a letter went): the relay can be reached.
    reached: std::sync::atomic::AtomicBool,
    stopped: std::sync::Mutex<Option<Stop>>,
    /// The outcomes already logged (state and reply): the same one again is logged at debug
    /// level only, so a server refusing every letter alike fills no screen.
    logged: std::sync::Mutex<std::collections::HashSet<(State, String)>>,
}

/// Why a run stopped before trying every letter.
#[derive(Debug, Clone)]
enum Stop {
    /// No connection could be made before any reply came: every other letter would fail alike.
    Unreachable,
    /// The relay refuses the configuration (no STARTTLS, a certificate, AUTH over plain text).
    Configuration(String),
}

impl Stop {
    /// What an attempt's result says about the relay, when it says that no letter can go: the
    /// transport's words for a connection that could not be made or is refused for good.
    fn of(result: &AttemptResult) -> Option<Stop> {
        if result.smtp_code.is_some() {
            return None;
        }
        let reply = result.reply.as_str();
        match result.state {
            State::Deferred if reply.starts_with("connecting to ") => Some(Stop::Unreachable),
            State::Failed
                if [
                    "does not offer STARTTLS",
                    "TLS handshake with",
                    "refusing to send the password",
                    "is not a valid TLS server name",
                ]
                .iter()
                .any(|m| reply.contains(m)) =>
            {
                Some(Stop::Configuration(reply.to_string()))
            }
            _ => None,
        }
    }
}

impl Reporter {
    fn new(total: usize, skipped: usize, stop: tokio::sync::watch::Sender<bool>) -> Reporter {
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
            tracing::info!(
                "{} already delivered or held; skipping them",
                count(skipped, "letter", "letters")
            );
        }
        Reporter {
            bar,
            stop,
            reached: std::sync::atomic::AtomicBool::new(false),
            stopped: std::sync::Mutex::new(None),
            logged: std::sync::Mutex::new(std::collections::HashSet::new()),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Whether no letter had this outcome (state and reply) before.
    fn first_of_its_kind(&self, result: &AttemptResult) -> bool {
        self.logged
            .lock()
            .map(|mut seen| seen.insert((result.state, result.reply.clone())))
            .unwrap_or(true)
    }

    /// Why the run was stopped early, if it was.
    fn stopped_by(&self) -> Option<Stop> {
        self.stopped.lock().ok().and_then(|s| s.clone())
    }

    /// Stops the run at the first sign that no letter can go: a relay that could not be reached
    /// before any reply came, or one that refuses the configuration. The letters not yet tried
    /// keep their state; those tried are recorded as usual.
    fn watch_relay(&self, result: &AttemptResult) {
        use std::sync::atomic::Ordering;
        if result.smtp_code.is_some() || result.state == State::Sent {
            self.reached.store(true, Ordering::Relaxed);
            return;
        }
        let stop = match Stop::of(result) {
            Some(Stop::Unreachable) if self.reached.load(Ordering::Relaxed) => return,
            Some(stop) => stop,
            None => return,
        };
        let Ok(mut stopped) = self.stopped.lock() else {
            return;
        };
        if stopped.is_none() {
            *stopped = Some(stop);
            let _ = self.stop.send(true);
        }
    }
}

impl Progress for Reporter {
    fn attempted(&self, key: &LetterKey, result: &AttemptResult, retrying: bool) {
        self.watch_relay(result);
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
                    bar.println(format!(
                        "{} {org}{code} {}",
                        result.state,
                        shown(&result.reply)
                    ));
                }
            }
            None if result.state == State::Sent => {
                tracing::info!(organization = org, code, reply = %shown(&result.reply), "sent");
            }
            None if self.first_of_its_kind(result) => tracing::warn!(
                organization = org,
                state = %result.state,
                code,
                reply = %shown(&result.reply),
                retrying,
                "not sent"
            ),
            None => tracing::debug!(
                organization = org,
                state = %result.state,
                code,
                retrying,
                "not sent (as above)"
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
                    assert_eq!(e.to_string(), "not confirmed; nothing was sent or recorded");
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
            Some("3 letters deferred and retried later (the first is due at 2021-05-27T09:30:00Z): run `herald dispatch statements/s.txt` again, or leave it to the daemon")
        );
    }
}
