//! The daemon: watches `<data>/inbox/`, dispatches each complete statement, moves it to
//! `processed/` or `rejected/`, retries deferred letters, and stops cleanly when `shutdown` resolves.
//!
//! Everything the daemon must remember lives in the journal, not in memory: a statement's file
//! stays in the inbox until its dispatch is over, so a daemon that dies mid-dispatch takes the file
//! again on its next start, and registering it again keeps every letter's state (a `sent` letter is
//! never claimed twice). Deferred letters are retried from the statement text the journal keeps, so
//! they survive restarts and the file's move to `processed/`.
//!
//! One loop does the work, one step at a time: take the complete inbox files, send what an
//! approval released, retry what is due, then sleep until the next poll, file event, settle time or
//! retry time — whichever comes first.

pub(crate) mod inbox;
pub(crate) mod rejected;
mod report;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use notify::Watcher;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::config::Config;
use crate::delivery::{Progress, Summary};
use crate::directory::{self, Directory, OrgId};
use crate::dispatch::{Letters, Sender};
use crate::error::{Error, Result};
use crate::journal::{
    AlreadyReceived, AttemptResult, ClaimPolicy, LetterKey, State, StatementInfo,
};
use crate::letters::Templates;
use crate::lock::DaemonLock;
use crate::plan;
use crate::statement::{self, StatementError, StatementId};

use inbox::Inbox;

/// The daemon sends what is pending and what is due; never a `failed` letter (that needs a
/// corrected address and a person's decision) nor an `uncertain` one (it may have arrived).
const POLICY: ClaimPolicy = ClaimPolicy {
    include_failed: false,
    include_uncertain: false,
    respect_schedule: true,
};

/// How long a statement whose deferred letters cannot be rebuilt is left alone before the next try.
const STUCK_PAUSE: Duration = Duration::from_secs(300);

/// Runs the daemon until `shutdown` resolves; then starts no new letter, lets those in flight
/// finish (each bounded by the SMTP timeout) and returns `Ok(())`.
///
/// Refuses to start (exit 2) when another daemon holds the data folder, or when the directory,
/// the templates or the transport cannot be set up.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<()> {
    let _lock = DaemonLock::acquire(&config.data_dir).map_err(|e| Error::Usage(e.to_string()))?;
    let folders = Folders::new(&config.data_dir);
    folders.create()?;
    let catalog = Catalog::load(&config)?;
    let sender = Sender::open(&config, Duration::ZERO)?;
    if !sender.interrupted.is_empty() {
        let letters: Vec<String> = sender
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
        holding: HashMap::new(),
        stuck: HashMap::new(),
        folders,
        catalog,
        sender,
        stop,
        config,
    };
    daemon.remember_held()?;
    let events = watch_inbox(&daemon.folders.inbox);
    tracing::info!(
        inbox = %daemon.folders.inbox.display(),
        transport = %daemon.sender.transport.describe(),
        require_approval = daemon.config.daemon.require_approval,
        poll_secs = daemon.config.daemon.poll.as_secs(),
        watching = events.is_some(),
        "herald daemon started"
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

/// The folders under `<data>/` the daemon works in.
struct Folders {
    inbox: PathBuf,
    processed: PathBuf,
    rejected: PathBuf,
    previews: PathBuf,
}

impl Folders {
    fn new(data: &Path) -> Folders {
        Folders {
            inbox: data.join("inbox"),
            processed: data.join("processed"),
            rejected: data.join("rejected"),
            previews: data.join("previews"),
        }
    }

    fn create(&self) -> Result<()> {
        for dir in [&self.inbox, &self.processed, &self.rejected] {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        Ok(())
    }
}

/// The recipients directory and the templates, reloaded before each statement so that an edit
/// takes effect without a restart; a reload that fails keeps the last good ones.
struct Catalog {
    directory: Arc<Directory>,
    templates: Arc<Templates>,
}

impl Catalog {
    fn load(config: &Config) -> Result<Catalog> {
        Ok(Catalog {
            directory: Arc::new(directory::load(&config.recipients_dir)?),
            templates: Arc::new(Templates::load(&config.templates_dir)?),
        })
    }

    fn refresh(&mut self, config: &Config) {
        match directory::load(&config.recipients_dir) {
            Ok(d) => self.directory = Arc::new(d),
            Err(e) => tracing::error!(
                error = %e,
                "the recipients directory does not load; using the last good one until it is fixed"
            ),
        }
        match Templates::load(&config.templates_dir) {
            Ok(t) => self.templates = Arc::new(t),
            Err(e) => tracing::error!(
                error = %e,
                "the templates do not load; using the last good ones until they are fixed"
            ),
        }
    }
}

struct Daemon {
    config: Config,
    folders: Folders,
    catalog: Catalog,
    sender: Sender,
    inbox: Inbox,
    /// Statements held for approval, with their inbox file while it is there.
    holding: HashMap<StatementId, Option<PathBuf>>,
    /// Statements whose deferred letters could not be rebuilt, and when to try again.
    stuck: HashMap<StatementId, DateTime<Utc>>,
    stop: watch::Receiver<bool>,
}

type Events = mpsc::UnboundedReceiver<notify::Result<notify::Event>>;

/// Starts a file watcher on the inbox; `None` (polling only) when the platform refuses one.
fn watch_inbox(dir: &Path) -> Option<(notify::RecommendedWatcher, Events)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let watcher = notify::recommended_watcher(move |event| {
        // The daemon stopped listening: nothing left to tell.
        let _ = tx.send(event);
    })
    .and_then(|mut w| {
        w.watch(dir, notify::RecursiveMode::NonRecursive)?;
        Ok(w)
    });
    match watcher {
        Ok(w) => Some((w, rx)),
        Err(e) => {
            tracing::warn!(
                error = %e,
                inbox = %dir.display(),
                "cannot watch the inbox for changes; polling it only"
            );
            None
        }
    }
}

/// The file an event says was renamed into the inbox, if any.
fn renamed_into(event: &notify::Event) -> Option<&Path> {
    use notify::event::{ModifyKind, RenameMode};
    match event.kind {
        notify::EventKind::Modify(ModifyKind::Name(RenameMode::To)) => {
            event.paths.first().map(PathBuf::as_path)
        }
        notify::EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            event.paths.get(1).map(PathBuf::as_path)
        }
        _ => None,
    }
}

/// Whether an event can bring a statement into the inbox or complete one: a file created,
/// written, closed after writing, renamed or removed. Opening, reading, closing without writing
/// (as every scan of the folder does) and metadata changes cannot.
fn can_bring_statement(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) | notify::EventKind::Modify(ModifyKind::Metadata(_)) => false,
        _ => true,
    }
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
        for s in self.sender.reader.overview()?.statements {
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
        for path in ready {
            if self.stopping() {
                break;
            }
            if self.holding.values().any(|p| p.as_deref() == Some(&*path)) {
                continue;
            }
            self.take(&path).await?;
        }
        Ok(next.map(Instant::from_std))
    }

    /// One complete file of the inbox: refuse it, hold it, or send its letters.
    async fn take(&mut self, path: &Path) -> Result<()> {
        let name = file_name(path);
        tracing::info!(file = %name, "taking a statement from the inbox");
        self.catalog.refresh(&self.config);
        let plan = match plan::plan(
            &self.catalog.directory,
            path,
            plan::Reading {
                date_order: self.config.statement.date_order,
                allow_undated: false,
            },
        ) {
            Ok(plan) => plan,
            Err(Error::Statement(StatementError::Read { source, .. }))
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                // Taken away before we could read it.
                self.inbox.forget(path);
                return Ok(());
            }
            Err(e) => return self.reject(path, &e),
        };
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
        self.sender
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
        let held = self.sender.reader.statement(&id)?.is_some_and(|s| s.held);
        if held {
            self.hold(path, &letters);
            return Ok(());
        }
        let keys = letters.keys();
        self.dispatch(letters, keys, Some(path)).await
    }

    fn reject(&mut self, path: &Path, error: &Error) -> Result<()> {
        let name = file_name(path);
        let moved = inbox::move_into(path, &self.folders.rejected)
            .map_err(|e| Error::io(&self.folders.rejected, e))?;
        self.inbox.forget(path);
        let error_file = rejected::error_file_of(&moved);
        let text = rejected::error_text(
            path,
            &moved,
            &self.folders.inbox,
            &error.to_string(),
            Utc::now(),
        );
        std::fs::write(&error_file, text).map_err(|e| Error::io(&error_file, e))?;
        tracing::warn!(
            file = %name,
            error = %error,
            rejected = %moved.display(),
            error_file = %error_file.display(),
            "statement rejected: nothing was sent"
        );
        Ok(())
    }

    fn hold(&mut self, path: &Path, letters: &Letters) {
        let id = letters.plan.statement.id.clone();
        let out = self.folders.previews.join(id.as_str());
        if !out.join("index.html").is_file() {
            if let Err(e) = letters.preview(&out) {
                tracing::error!(statement = %id, error = %e, "cannot render the previews");
            }
        }
        if self.holding.get(&id) != Some(&Some(path.to_path_buf())) {
            tracing::info!(
                statement = %id,
                file = %file_name(path),
                previews = %out.display(),
                "held for approval: waiting for `herald approve {id}`"
            );
        }
        self.holding.insert(id, Some(path.to_path_buf()));
    }

    /// Sends the statements whose approval came since the last look.
    async fn release_approved(&mut self) -> Result<()> {
        let ids: Vec<StatementId> = self.holding.keys().cloned().collect();
        for id in ids {
            if self.stopping() {
                break;
            }
            let Some(info) = self.sender.reader.statement(&id)? else {
                self.holding.remove(&id);
                continue;
            };
            if info.held {
                continue;
            }
            let file = self.holding.remove(&id).flatten();
            // The approved text is the journal's; the inbox file goes with it only if unchanged.
            let file =
                file.filter(
                    |f| match plan::read_statement(f, self.config.statement.date_order) {
                        Ok(s) => s.id == id,
                        Err(_) => false,
                    },
                );
            tracing::info!(statement = %id, "approved: sending");
            let keys = self.journal_keys(&id)?;
            match self.rebuild(&info) {
                Ok(letters) => self.dispatch(letters, keys, file.as_deref()).await?,
                Err(e) => {
                    tracing::error!(statement = %id, error = %e, "cannot rebuild the approved statement");
                }
            }
        }
        Ok(())
    }

    /// Every letter of a statement, as the journal knows them.
    fn journal_keys(&self, id: &StatementId) -> Result<Vec<LetterKey>> {
        Ok(self
            .sender
            .reader
            .letters_of(id)?
            .into_iter()
            .filter_map(|row| {
                OrgId::new(&row.organization).map(|organization| LetterKey {
                    statement: id.clone(),
                    organization,
                })
            })
            .collect())
    }

    /// The letters of a statement rebuilt from the text the journal keeps, against the current
    /// directory and templates.
    fn rebuild(&mut self, info: &StatementInfo) -> std::result::Result<Letters, String> {
        self.catalog.refresh(&self.config);
        let shown = format!("{} (kept in the journal)", info.file_name);
        let statement = statement::parse_in_order(
            &shown,
            &info.file_name,
            &info.text,
            self.config.statement.date_order,
        )
        .map_err(|e| e.to_string())?;
        let plan =
            plan::resolve(&self.catalog.directory, statement, &shown).map_err(|e| e.to_string())?;
        Ok(Letters::new(
            plan,
            Arc::clone(&self.catalog.directory),
            Arc::clone(&self.catalog.templates),
            &self.config,
        ))
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
            .sender
            .send(Arc::new(letters), keys, POLICY, progress, self.stop.clone())
            .await?;
        if summary.not_attempted > 0 {
            tracing::warn!(
                statement = %id,
                summary = %summary,
                "stopped before every letter was attempted; the statement stays in the inbox and \
                 the next start continues it"
            );
            return Ok(());
        }
        let report = self.write_report(&id)?;
        if let Some(path) = file {
            let moved = inbox::move_into(path, &self.folders.processed)
                .map_err(|e| Error::io(&self.folders.processed, e))?;
            self.inbox.forget(path);
            tracing::info!(
                statement = %id,
                file = %file_name(path),
                processed = %moved.display(),
                report = %report.display(),
                summary = %summary,
                "statement dispatched"
            );
        } else {
            log_summary(&id, &summary);
        }
        Ok(())
    }

    /// Earlier versions of this statement that some of its organisations already received.
    fn already_received(&self, letters: &Letters) -> Result<Vec<AlreadyReceived>> {
        let s = &letters.plan.statement;
        let orgs = letters.plan.organization_ids(&letters.directory);
        Ok(self
            .sender
            .reader
            .already_received(&s.id, &s.title, &s.file_name, &orgs)?)
    }

    fn write_report(&self, id: &StatementId) -> Result<PathBuf> {
        let target = report::path(&self.folders.processed, id.as_str());
        let Some(info) = self.sender.reader.statement(id)? else {
            return Ok(target);
        };
        let rows = self.sender.reader.letters_of(id)?;
        let head = self.sender.reader.head()?;
        let orgs: Vec<&str> = rows.iter().map(|r| r.organization.as_str()).collect();
        let earlier =
            self.sender
                .reader
                .already_received(id, &info.title, &info.file_name, &orgs)?;
        report::write(
            &target,
            &report::Report::new(&info, &rows, &earlier, head.as_ref(), Utc::now()),
        )
        .map_err(|e| Error::io(&target, e))?;
        Ok(target)
    }

    /// Sends every deferred letter whose time has come, statement by statement.
    async fn retry_due(&mut self) -> Result<()> {
        let now = Utc::now();
        let mut due: BTreeMap<StatementId, Vec<LetterKey>> = BTreeMap::new();
        for (key, at) in self.sender.reader.due_retries(now)? {
            if at <= now {
                due.entry(key.statement.clone()).or_default().push(key);
            }
        }
        for (id, keys) in due {
            if self.stopping() {
                break;
            }
            if self.stuck.get(&id).is_some_and(|until| *until > now) {
                continue;
            }
            let Some(info) = self.sender.reader.statement(&id)? else {
                tracing::error!(statement = %id, "deferred letters of a statement the journal does not know");
                self.stuck.insert(id, now + STUCK_PAUSE);
                continue;
            };
            let letters = match self.rebuild(&info) {
                Ok(letters) => letters,
                Err(e) => {
                    tracing::error!(
                        statement = %id,
                        error = %e,
                        "cannot rebuild the statement to retry its deferred letters; trying again later"
                    );
                    self.stuck.insert(id, now + STUCK_PAUSE);
                    continue;
                }
            };
            self.stuck.remove(&id);
            tracing::info!(statement = %id, letters = keys.len(), "retrying deferred letters");
            let summary = self
                .sender
                .send(
                    Arc::new(letters),
                    keys,
                    POLICY,
                    Arc::new(LogProgress {
                        statement: id.clone(),
                    }),
                    self.stop.clone(),
                )
                .await?;
            if report::path(&self.folders.processed, id.as_str()).is_file() {
                self.write_report(&id)?;
            }
            log_summary(&id, &summary);
        }
        Ok(())
    }

    /// When the next deferred letter is due (statements set aside count from when they may be
    /// tried again).
    fn next_retry(&self) -> Result<Option<Instant>> {
        let now = Utc::now();
        let next = self
            .sender
            .reader
            .due_retries(now)?
            .into_iter()
            .map(|(key, at)| match self.stuck.get(&key.statement) {
                Some(until) if *until > at => *until,
                _ => at,
            })
            .min();
        Ok(next.map(until))
    }
}

fn log_summary(id: &StatementId, summary: &Summary) {
    if summary.all_sent() {
        tracing::info!(statement = %id, summary = %summary, "letters sent");
    } else {
        tracing::warn!(statement = %id, summary = %summary, "some letters were not delivered");
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// One log line per attempt, with the statement and organisation as fields.
struct LogProgress {
    statement: StatementId,
}

impl Progress for LogProgress {
    fn attempted(&self, key: &LetterKey, result: &AttemptResult, retrying: bool) {
        // No code (the file transport, a refused connection): no `code` field rather than `code=`.
        let code = result.smtp_code;
        if result.state == State::Sent {
            tracing::info!(
                statement = %self.statement,
                organization = %key.organization,
                code,
                reply = %result.reply,
                "sent"
            );
        } else {
            tracing::warn!(
                statement = %self.statement,
                organization = %key.organization,
                state = %result.state,
                code,
                reply = %result.reply,
                next_attempt_at = ?result.next_attempt_at,
                retrying,
                "not sent"
            );
        }
    }

    fn skipped(&self, key: &LetterKey) {
        tracing::debug!(
            statement = %self.statement,
            organization = %key.organization,
            "skipped: already sent, uncertain, failed or taken by another process"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RenameMode};
    use notify::{Event, EventKind};

    #[test]
    fn only_renames_into_the_folder_make_a_file_complete_at_once() {
        let dir = PathBuf::from("/data/inbox");
        let from = dir.join(".s.txt.tmp");
        let to = dir.join("s.txt");
        let rows: [(EventKind, Vec<PathBuf>, Option<&Path>); 4] = [
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                vec![to.clone()],
                Some(&to),
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                vec![from.clone(), to.clone()],
                Some(&to),
            ),
            (
                EventKind::Modify(ModifyKind::Name(RenameMode::From)),
                vec![from.clone()],
                None,
            ),
            (EventKind::Create(CreateKind::File), vec![to.clone()], None),
        ];
        for (kind, paths, expected) in rows {
            let mut event = Event::new(kind);
            event.paths = paths;
            assert_eq!(renamed_into(&event), expected, "{kind:?}");
        }
    }
}
