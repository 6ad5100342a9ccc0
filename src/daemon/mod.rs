//! The daemon: watches `<data>/inbox/`, dispatches each complete statement, moves it to
//! `processed/` or `rejected/`, retries deferred letters, and stops cleanly when `shutdown` resolves.
//!
//! Everything the daemon must remember lives in the journal, not in memory: a statement's file
//! stays in the inbox until its dispatch is over, so a daemon that dies mid-dispatch takes the file
//! again on its next start, and registering it again keeps every letter's state (a `sent` letter is
//! never claimed twice). Deferred letters are retried from the statement text the journal keeps, so
//! they survive restarts and the file's move to `processed/` ([`waiting`], with approvals).
//!
//! One loop does the work, one step at a time: take the complete inbox files, send what an
//! approval released, retry what is due, then sleep until the next poll, file event, settle time or
//! retry time — whichever comes first.
//!
//! No file can stop the daemon: what is not a statement, or cannot go out, is moved to
//! `rejected/` with an error file; what cannot even be moved is logged and left alone until it
//! changes. A statement is read once, from a descriptor that is not a link ([`inbox`]), and only
//! those bytes go on.

pub(crate) mod catalog;
pub(crate) mod inbox;
mod log;
pub(crate) mod rejected;
mod report;
mod waiting;
mod watcher;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::Config;
use crate::delivery::Summary;
use crate::error::{Error, Result};
use crate::journal::{AlreadyReceived, ClaimPolicy, LetterKey, State};
use crate::lock::DaemonLock;
use crate::plan::{self, Plan};
use crate::sending::{Courier, Letters};
use crate::statement::{StatementError, StatementId};

use catalog::Catalog;
use inbox::{Found, Inbox, NotStatement, Unreadable};
use log::LogProgress;
use watcher::{can_bring_statement, renamed_into, watch_inbox, Events};

/// The daemon sends what is pending and what is due; never a `failed` letter (that needs a
/// corrected address and a person's decision) nor an `uncertain` one (it may have arrived).
const POLICY: ClaimPolicy = ClaimPolicy {
    include_failed: false,
    include_uncertain: false,
    respect_schedule: true,
};

/// Runs the daemon until `shutdown` resolves; then starts no new letter, lets those in flight
/// finish (each bounded by the SMTP timeout) and returns `Ok(())`.
///
/// Refuses to start (exit 2) when another daemon holds the data folder, or when the directory,
/// the templates or the transport cannot be set up.
pub(crate) async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<()> {
    let _lock = DaemonLock::acquire(&config.data_dir).map_err(|e| Error::Usage(e.to_string()))?;
    let folders = Folders::create(&config.data_dir)?;
    let inbox_device =
        inbox::device_of(&folders.inbox).map_err(|e| Error::io(&folders.inbox, e))?;
    let catalog = Catalog::load(&config, &folders.data)?;
    let courier = Courier::open(&config, Duration::ZERO)?;
    if !courier.interrupted.is_empty() {
        let letters: Vec<String> = courier
            .interrupted
            .iter()
            .map(|k| format!("{}/{}", k.statement, k.organization))
            .collect();
        tracing::warn!(
            count = letters.len(),
            letters = %letters.join(", "),
            "letters left `sending` by an earlier run are now `uncertain`: they may have arrived, \
             so they are not sent again (`herald dispatch --resend-uncertain` does)"
        );
    }
    let (stop_tx, stop) = watch::channel(false);
    let mut daemon = Daemon {
        inbox: Inbox::new(folders.inbox.clone(), config.daemon.settle),
        inbox_device,
        holding: HashMap::new(),
        stuck: HashMap::new(),
        folders,
        catalog,
        courier,
        stop,
        config,
    };
    daemon.remember_held()?;
    let events = watch_inbox(&daemon.folders.inbox);
    let approval = if daemon.config.daemon.require_approval {
        "each statement waits for `herald approve`"
    } else {
        "statements are sent without approval"
    };
    let watching = if events.is_some() {
        "watched for changes and scanned"
    } else {
        "scanned"
    };
    tracing::info!(
        inbox = %daemon.folders.inbox.display(),
        transport = %daemon.courier.transport.describe(),
        "herald daemon started: the inbox is {watching} every {} s; {approval}; letters go to {}",
        daemon.config.daemon.poll.as_secs(),
        daemon.courier.transport.describe(),
    );

    let work = daemon.serve(events);
    tokio::pin!(work);
    tokio::pin!(shutdown);
    tokio::select! {
        result = &mut work => return result,
        () = &mut shutdown => {}
    }
    tracing::info!("stopping: no new letter is started; letters in flight finish");
    // The receiver lives in `work`, which is still running: the send cannot fail here.
    let _ = stop_tx.send(true);
    let result = work.await;
    if result.is_ok() {
        tracing::info!("herald daemon stopped");
    }
    result
}

/// The folders under `<data>/` the daemon works in, as absolute paths: the watcher reports
/// absolute paths, which must compare equal to the inbox's (a relative `--config` made a relative
/// inbox, and no rename into it was recognised).
struct Folders {
    data: PathBuf,
    inbox: PathBuf,
    processed: PathBuf,
    rejected: PathBuf,
    previews: PathBuf,
}

impl Folders {
    fn create(data: &Path) -> Result<Folders> {
        std::fs::create_dir_all(data).map_err(|e| Error::io(data, e))?;
        let data = std::fs::canonicalize(data).map_err(|e| Error::io(data, e))?;
        let folders = Folders {
            inbox: data.join("inbox"),
            processed: data.join("processed"),
            rejected: data.join("rejected"),
            previews: data.join("previews"),
            data,
        };
        for dir in [&folders.inbox, &folders.processed, &folders.rejected] {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        Ok(folders)
    }
}

struct Daemon {
    config: Config,
    folders: Folders,
    catalog: Catalog,
    courier: Courier,
    inbox: Inbox,
    /// The file system the inbox lies on: a file read from it must lie there too.
    inbox_device: u64,
    /// Statements held for approval, with their inbox file while it is there.
    holding: HashMap<StatementId, Option<PathBuf>>,
    /// Statements whose deferred letters could not be rebuilt, and when to try again.
    stuck: HashMap<StatementId, DateTime<Utc>>,
    stop: watch::Receiver<bool>,
}

fn until(at: DateTime<Utc>) -> Instant {
    Instant::now() + (at - Utc::now()).to_std().unwrap_or(Duration::ZERO)
}

impl Daemon {
    fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// Statements still held from an earlier run: their release is watched for even if their
    /// file has left the inbox.
    fn remember_held(&mut self) -> Result<()> {
        for s in self.courier.reader.overview()?.statements {
            if !s.held {
                continue;
            }
            if let Some(id) = StatementId::parse(&s.id) {
                tracing::info!(statement = %id, "held for approval: waiting for `herald approve {id}`");
                self.holding.insert(id, None);
            }
        }
        Ok(())
    }

    async fn serve(&mut self, watcher: Option<(notify::RecommendedWatcher, Events)>) -> Result<()> {
        let (_watcher, mut events) = match watcher {
            Some((w, rx)) => (Some(w), Some(rx)),
            None => (None, None),
        };
        let mut stop = self.stop.clone();
        loop {
            if self.stopping() {
                return Ok(());
            }
            self.catalog.refresh_if_changed(&self.config);
            let settle = self.take_inbox().await?;
            if self.stopping() {
                return Ok(());
            }
            self.release_approved().await?;
            if self.stopping() {
                return Ok(());
            }
            self.retry_due().await?;
            let mut wake = Instant::now() + self.config.daemon.poll;
            for at in [settle, self.next_retry()?].into_iter().flatten() {
                wake = wake.min(at);
            }
            // Wait for the next reason to look again: stop, a due time, or an event that can
            // have brought a statement. Our own scan opening the folder is an event too, so
            // waking on every event would rescan for ever.
            loop {
                let event = async {
                    match events.as_mut() {
                        Some(rx) => rx.recv().await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = stop.changed() => break,
                    () = tokio::time::sleep_until(wake) => break,
                    event = event => match event {
                        Some(first) => {
                            let mut next = Some(first);
                            let mut relevant = false;
                            while let Some(event) = next {
                                relevant |= self.note(event);
                                next = events.as_mut().and_then(|rx| rx.try_recv().ok());
                            }
                            if relevant {
                                break;
                            }
                        }
                        None => {
                            tracing::warn!("the inbox watcher stopped; polling the inbox only");
                            events = None;
                            break;
                        }
                    },
                }
            }
        }
    }

    /// Takes in one watcher event; true when it can have brought or completed a statement.
    fn note(&mut self, event: notify::Result<notify::Event>) -> bool {
        match event {
            Ok(event) => {
                if let Some(path) = renamed_into(&event) {
                    if path.parent() == Some(self.inbox.dir()) {
                        self.inbox.renamed(path.to_path_buf());
                    }
                }
                can_bring_statement(&event.kind)
            }
            Err(e) => {
                tracing::warn!(error = %e, "inbox watcher");
                true
            }
        }
    }

    /// Takes every complete statement file; returns when the next incomplete one may be complete.
    async fn take_inbox(&mut self) -> Result<Option<Instant>> {
        let (ready, next) = match self.inbox.scan(std::time::Instant::now()) {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(inbox = %self.inbox.dir().display(), error = %e, "cannot read the inbox");
                // It may have been removed: make it again for the next scan.
                let _ = std::fs::create_dir_all(self.inbox.dir());
                return Ok(None);
            }
        };
        for Found {
            path,
            not_statement,
        } in ready
        {
            if self.stopping() {
                break;
            }
            if self.holding.values().any(|p| p.as_deref() == Some(&*path)) {
                continue;
            }
            match not_statement {
                Some(what) => self.refuse(&path, &what),
                None => self.take(&path).await?,
            }
        }
        Ok(next.map(Instant::from_std))
    }

    /// One complete file of the inbox: refuse it, hold it, or send its letters.
    async fn take(&mut self, path: &Path) -> Result<()> {
        let name = file_name(path);
        let bytes = match inbox::read_statement_file(
            path,
            self.inbox_device,
            self.config.statement.max_bytes,
        ) {
            Ok(bytes) => bytes,
            Err(Unreadable::Gone) => {
                // Taken away before we could read it.
                self.inbox.forget(path);
                return Ok(());
            }
            Err(Unreadable::NotStatement(what)) => {
                self.refuse(path, &what);
                return Ok(());
            }
            Err(Unreadable::Io(source)) => {
                let error = StatementError::Read {
                    path: path.display().to_string(),
                    source,
                };
                self.reject(path, &error.into());
                return Ok(());
            }
        };
        tracing::info!(file = %name, "taking a statement from the inbox");
        self.catalog.refresh(&self.config);
        // The bytes read from the descriptor are the statement from here on (its attachment
        // too): the path is never opened again.
        let plan = match plan::parse_statement(path, bytes, self.config.statement.date_order)
            .map_err(Error::from)
            .and_then(|s| {
                let reading = plan::Reading {
                    date_order: self.config.statement.date_order,
                    allow_undated: false,
                };
                plan::plan_statement(&self.catalog.directory, s, path, reading)
            }) {
            Ok(plan) => plan,
            Err(e) => {
                self.reject(path, &e);
                return Ok(());
            }
        };
        if let Some(Dispatched { at, counts }) = self.already_dispatched(&plan)? {
            let id = plan.statement.id.clone();
            let failed = if counts.contains_key(&State::Failed) {
                "; `herald dispatch` sends the failed ones again once their addresses are corrected"
            } else {
                ""
            };
            let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
            tracing::info!(
                statement = %id,
                file = %name,
                "statement {id} was already dispatched on {}: nothing to send ({}{failed})",
                log::time(at),
                counts.join(", ")
            );
            self.file_away(path, &id, "already dispatched; filed");
            return Ok(());
        }
        let letters = Letters::new(
            plan,
            Arc::clone(&self.catalog.directory),
            Arc::clone(&self.catalog.templates),
            &self.config,
        );
        let id = letters.plan.statement.id.clone();
        let earlier = self.already_received(&letters)?;
        for e in &earlier {
            tracing::warn!(
                statement = %id,
                file = %name,
                earlier = %e.id,
                organizations = e.organizations.len(),
                "{}",
                e.warning()
            );
        }
        let hold_correction = self.config.daemon.hold_corrections && !earlier.is_empty();
        if hold_correction && !self.config.daemon.require_approval {
            tracing::warn!(
                statement = %id,
                "an earlier version went out already, so this one is held: `herald approve {id}` \
                 sends it (set `[daemon] hold_corrections = false` to send such corrections \
                 without approval)"
            );
        }
        self.courier
            .journal
            .register(
                letters.statement_info(
                    &format!("inbox/{name}"),
                    self.config.daemon.require_approval || hold_correction,
                ),
                letters.planned(),
            )
            .await?;
        // The journal decides: a statement approved earlier is not held again.
        let held = self.courier.reader.statement(&id)?.is_some_and(|s| s.held);
        if held {
            self.hold(path, &letters);
            return Ok(());
        }
        let keys = letters.keys();
        self.dispatch(letters, keys, Some(path)).await
    }

    /// A statement that cannot go out: to `rejected/`, with an error file.
    fn reject(&mut self, path: &Path, error: &Error) {
        let advice = rejected::advice(&self.folders.inbox);
        self.file_rejected(path, &error.to_string(), &advice, "statement rejected");
    }

    /// Something in the inbox that is not a statement herald takes: to `rejected/`, with an error
    /// file saying what herald takes and how to make a statement of it.
    fn refuse(&mut self, path: &Path, what: &NotStatement) {
        let reason = what.reason(&file_name(path));
        let advice = what.advice(&self.folders.inbox);
        self.file_rejected(path, &reason, &advice, "not a statement herald takes");
    }

    /// Moves `path` to `rejected/` and writes its error file. Never stops the daemon: what cannot
    /// be moved is logged and left alone until it changes.
    fn file_rejected(&mut self, path: &Path, error: &str, advice: &str, what: &str) {
        let name = file_name(path);
        let moved = match inbox::move_into(
            path,
            &self.folders.rejected,
            rejected::MAX_REJECTED_NAME,
        ) {
            Ok(moved) => moved,
            Err(e) => {
                tracing::error!(
                    file = %name,
                    error = %error,
                    "{what}, and it cannot be moved to {}: {e}; it is left in the inbox until it \
                     changes",
                    self.folders.rejected.display()
                );
                self.inbox.set_aside(path);
                return;
            }
        };
        self.inbox.forget(path);
        let error_file = rejected::error_file_of(&moved);
        let text = rejected::error_text(path, &moved, advice, error, Utc::now());
        if let Err(e) = std::fs::write(&error_file, text) {
            tracing::error!(
                file = %name,
                error_file = %error_file.display(),
                "cannot write the error file: {e}"
            );
        }
        tracing::warn!(
            file = %name,
            error = %error,
            rejected = %moved.display(),
            error_file = %error_file.display(),
            "{what}: nothing was sent; it is now in {}",
            self.folders.rejected.display()
        );
    }

    /// Moves a statement whose dispatch is over to `processed/`; a failure is logged, and the
    /// file left alone until it changes (its letters are in the journal: nothing is sent twice).
    fn file_away(&mut self, path: &Path, id: &StatementId, what: &str) {
        let report = match self.write_report(id) {
            Ok(report) => Some(report),
            Err(e) => {
                tracing::error!(statement = %id, error = %e, "cannot write the report");
                None
            }
        };
        match inbox::move_into(path, &self.folders.processed, inbox::NAME_MAX) {
            Ok(moved) => {
                self.inbox.forget(path);
                tracing::info!(
                    statement = %id,
                    file = %file_name(path),
                    processed = %moved.display(),
                    report = report.as_ref().map(|r| tracing::field::display(r.display())),
                    "{what} as {}",
                    moved.display()
                );
            }
            Err(e) => {
                tracing::error!(
                    statement = %id,
                    file = %file_name(path),
                    "cannot move the statement to {}: {e}; it is left in the inbox until it changes",
                    self.folders.processed.display()
                );
                self.inbox.set_aside(path);
            }
        }
    }

    /// When a statement the journal knows, with every letter it calls for already dealt with
    /// (none pending, being sent or deferred), last had a letter change: dropping it again has
    /// nothing to send, and is neither a correction nor something to hold.
    fn already_dispatched(&self, plan: &Plan) -> Result<Option<Dispatched>> {
        let id = &plan.statement.id;
        let Some(info) = self.courier.reader.statement(id)? else {
            return Ok(None);
        };
        if info.held {
            return Ok(None);
        }
        let rows = self.courier.reader.letters_of(id)?;
        let orgs = plan.organization_ids(&self.catalog.directory);
        let done = |state: State| {
            matches!(
                state,
                State::Sent | State::Partial | State::Failed | State::Uncertain
            )
        };
        let all_registered = orgs
            .iter()
            .all(|o| rows.iter().any(|r| r.organization == *o));
        if rows.is_empty() || !all_registered || !rows.iter().all(|r| done(r.status)) {
            return Ok(None);
        }
        let mut counts = BTreeMap::new();
        for row in &rows {
            *counts.entry(row.status).or_insert(0) += 1;
        }
        Ok(rows
            .iter()
            .map(|r| r.updated_at)
            .max()
            .map(|at| Dispatched { at, counts }))
    }

    /// Sends `keys`; once every letter was attempted, writes the report and moves `file` (if any)
    /// to `processed/`. A dispatch cut short by shutdown leaves the file in the inbox.
    async fn dispatch(
        &mut self,
        letters: Letters,
        keys: Vec<LetterKey>,
        file: Option<&Path>,
    ) -> Result<()> {
        let id = letters.plan.statement.id.clone();
        for key in &keys {
            if letters.directory.organization(&key.organization).is_none() {
                tracing::warn!(
                    statement = %id,
                    organization = %key.organization,
                    "this organisation is no longer in the recipients directory: its letter cannot \
                     be sent and is recorded as failed"
                );
            }
        }
        let progress = Arc::new(LogProgress {
            statement: id.clone(),
        });
        let summary = self
            .courier
            .send(Arc::new(letters), keys, POLICY, progress, self.stop.clone())
            .await?;
        if summary.not_attempted > 0 {
            tracing::warn!(
                statement = %id,
                "stopped before every letter was attempted ({}); the statement stays in the inbox \
                 and the next start continues it",
                log::summary(&summary)
            );
            return Ok(());
        }
        match file {
            Some(path) => {
                let what = format!("statement dispatched ({}); filed", log::summary(&summary));
                self.file_away(path, &id, &what);
            }
            None => {
                if let Err(e) = self.write_report(&id) {
                    tracing::error!(statement = %id, error = %e, "cannot write the report");
                }
                log_summary(&id, &summary);
            }
        }
        Ok(())
    }

    /// Earlier versions of this statement that some of its organisations already received.
    fn already_received(&self, letters: &Letters) -> Result<Vec<AlreadyReceived>> {
        let s = &letters.plan.statement;
        let orgs = letters.plan.organization_ids(&letters.directory);
        Ok(self
            .courier
            .reader
            .already_received(&s.id, &s.title, &s.file_name, &orgs)?)
    }

    fn write_report(&self, id: &StatementId) -> Result<PathBuf> {
        let target = report::path(&self.folders.processed, id.as_str());
        let Some(info) = self.courier.reader.statement(id)? else {
            return Ok(target);
        };
        let rows = self.courier.reader.letters_of(id)?;
        let head = self.courier.reader.head()?;
        let orgs: Vec<&str> = rows.iter().map(|r| r.organization.as_str()).collect();
        let earlier =
            self.courier
                .reader
                .already_received(id, &info.title, &info.file_name, &orgs)?;
        report::write(
            &target,
            &report::Report::new(&info, &rows, &earlier, head.as_ref(), Utc::now()),
        )
        .map_err(|e| Error::io(&target, e))?;
        Ok(target)
    }
}

/// A statement whose letters were all dealt with: when the last one was, and how many per state.
struct Dispatched {
    at: DateTime<Utc>,
    counts: BTreeMap<State, u32>,
}

fn log_summary(id: &StatementId, summary: &Summary) {
    let counts = log::summary(summary);
    if summary.all_sent() {
        tracing::info!(statement = %id, "letters sent: {counts}");
    } else {
        tracing::warn!(statement = %id, "some letters were not delivered: {counts}");
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}
