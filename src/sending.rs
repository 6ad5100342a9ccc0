//! The send path shared by `herald dispatch` and the daemon: the letters of one statement,
//! rendered and composed on demand, and a [`Courier`] that owns the transport, this process's
//! lock and the journal writer.
//!
//! Opening a [`Courier`] is where a process joins the journal: it takes its own lock, recovers
//! the letters that a dead process left `sending` (never those a live process is sending right
//! now): `uncertain` if their end of data may have gone out, back to be sent if it cannot have
//! (`journal::marks`), and only then starts claiming, each claim recording this process's lock
//! token and the machine's boot identity.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::config::{Config, TransportKind};
use crate::delivery::file::FileTransport;
use crate::delivery::smtp::SmtpTransport;
use crate::delivery::{
    self, Composer, DeliveryError, DeliveryOptions, Progress, RetryPolicy, Summary, Transport,
};
use crate::directory::{Directory, Organization};
use crate::error::{Error, Result};
use crate::journal::marks::{self, Claimant, Marks};
use crate::journal::{
    self, ClaimPolicy, Journal, JournalError, LetterKey, PlannedLetter, StatementInfo,
};
use crate::letters::compose::{self, Composed};
use crate::letters::preview::{IndexRow, PreviewWriter};
use crate::letters::spool::Spool;
use crate::letters::{self, Letter, LetterData, Templates};
use crate::lock::ProcessLock;
use crate::plan::Plan;

/// One statement's letters, rendered and composed when a worker needs them, so memory does not
/// grow with the number of letters (the check before sending keeps what it rendered in a
/// [`Spool`], a temporary file).
pub(crate) struct Letters {
    pub plan: Plan,
    pub directory: Arc<Directory>,
    templates: Arc<Templates>,
    /// The attachment and the sender's headers, encoded once for every letter; it holds the
    /// sender.
    prepared: compose::Prepared,
    /// The template context with the statement's part (its body above all) built once, and
    /// copies of it given to one organisation or another, one for each thread rendering at a
    /// time: a copy is reused from letter to letter. (It cannot fail for any statement; if it
    /// did, every letter would fail to render, and the check would say why.)
    data: std::result::Result<LetterData, letters::LetterError>,
    spare_data: Mutex<Vec<LetterData>>,
    /// The letters that [`Letters::render_all`] rendered, kept for their send so that it need
    /// not render them again.
    spool: OnceLock<Spool>,
}

impl Letters {
    pub(crate) fn new(
        plan: Plan,
        directory: Arc<Directory>,
        templates: Arc<Templates>,
        config: &Config,
    ) -> Letters {
        let prepared = compose::Prepared::new(&plan.statement, &config.sender);
        let facts = letters::StatementFacts::new(&plan.statement);
        let data = LetterData::new(&plan.statement, &facts, prepared.sender(), &plan.addressees);
        Letters {
            plan,
            directory,
            templates,
            prepared,
            data,
            spare_data: Mutex::new(Vec::new()),
            spool: OnceLock::new(),
        }
    }

    /// The organisations to write to, in order of first mention.
    pub(crate) fn organizations(&self) -> impl Iterator<Item = &Organization> {
        self.plan
            .resolution
            .letters
            .iter()
            .map(|&i| &self.directory.organizations[i])
    }

    pub(crate) fn keys(&self) -> Vec<LetterKey> {
        self.organizations()
            .map(|o| LetterKey {
                statement: self.plan.statement.id.clone(),
                organization: o.id.clone(),
            })
            .collect()
    }

    /// The journal rows for these letters, before any attempt.
    pub(crate) fn planned(&self) -> Vec<PlannedLetter> {
        self.organizations()
            .map(|org| PlannedLetter {
                organization: org.id.clone(),
                to: org.emails.iter().map(ToString::to_string).collect(),
                cc: org.cc.iter().map(ToString::to_string).collect(),
                message_id: compose::message_id(
                    &self.plan.statement.id,
                    &org.id,
                    self.prepared.sender(),
                ),
            })
            .collect()
    }

    /// What the journal keeps about the statement.
    pub(crate) fn statement_info(&self, source: &str, held: bool) -> StatementInfo {
        let s = &self.plan.statement;
        StatementInfo {
            id: s.id.clone(),
            title: s.title.clone(),
            source: source.to_string(),
            held,
            file_name: s.file_name.clone(),
            text: s.original.clone(),
        }
    }

    /// Renders one organisation's letter from the templates.
    fn render(&self, org: &Organization) -> std::result::Result<Letter, letters::LetterError> {
        let spare = self
            .spare_data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut data = match spare {
            Some(data) => data,
            None => self.data.clone()?,
        };
        let letter = data
            .set_organization(org)
            .and_then(|()| self.templates.render(&data));
        self.spare_data
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(data);
        letter
    }

    /// Composes a rendered letter (the MIME message, its envelope and Message-ID).
    fn compose(
        &self,
        letter: &Letter,
        org: &Organization,
    ) -> std::result::Result<Composed, String> {
        self.prepared
            .compose(letter, org, &self.plan.statement, Utc::now().fixed_offset())
            .map_err(|e| e.to_string())
    }

    /// Renders every letter once and lists every failure, so that a template that fails for
    /// some organisations stops the dispatch before the first letter leaves, instead of sending
    /// the others and recording those as failed. Only rendering depends on templates and
    /// per-organisation data in ways loading cannot check; composing is left to the send.
    ///
    /// The letters rendered here are kept for the send in a [`Spool`] in `dir` (the data folder
    /// when it exists), so that each is rendered once. Without a spool (a folder that cannot
    /// take the file, a full disk) the send renders them again: rendering is deterministic (the
    /// context holds no clock), so both give the same letter.
    ///
    /// On every core, like the dry run: the check is a serial step before anything is sent.
    pub(crate) fn render_all(&self, dir: &Path) -> Result<()> {
        let spool = Spool::new(dir)
            .map_err(|e| tracing::debug!("rendering every letter again to send it: {e}"))
            .ok();
        let shares = self.by_shares(|orgs| {
            let mut rendered = Vec::with_capacity(orgs.len());
            let mut problems = Vec::new();
            for org in orgs {
                match self.render(org) {
                    Ok(letter) => rendered.push((org.id.clone(), letter)),
                    Err(problem) => problems.push(problem),
                }
            }
            if let Some(spool) = &spool {
                if let Err(e) = spool.append(&rendered) {
                    tracing::debug!("rendering some letters again to send them: {e}");
                }
            }
            problems
        });
        if let Some(spool) = spool {
            // Only this call sets it.
            let _ = self.spool.set(spool);
        }
        self.refuse_unrendered(shares.into_iter().flatten().collect())
    }

    /// Runs `work` on contiguous shares of the letters' organisations on one thread per core
    /// and returns what each share gave, in the order of the letters. The shares are small and
    /// taken in turn, so that every core stays busy to the end: split in equal halves, one
    /// thread often finished a tenth of the run before the other.
    fn by_shares<T: Send>(&self, work: impl Fn(&[&Organization]) -> T + Sync) -> Vec<T> {
        let orgs: Vec<&Organization> = self.organizations().collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, MAX_THREADS)
            .min(orgs.len().div_ceil(SHARE).max(1));
        let shares: Vec<&[&Organization]> = orgs.chunks(SHARE).collect();
        let next = AtomicUsize::new(0);
        let mut done: Vec<(usize, T)> = std::thread::scope(|scope| {
            let (work, shares, next) = (&work, &shares, &next);
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(move || {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(share) = shares.get(i) else {
                                return mine;
                            };
                            mine.push((i, work(share)));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| match handle.join() {
                    Ok(done) => done,
                    // A panic is a bug: let it surface as one, as without threads.
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        });
        done.sort_unstable_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, t)| t).collect()
    }

    /// The refusal of a dispatch in which `problems` (in the order of the letters) could not
    /// be rendered.
    fn refuse_unrendered(&self, problems: Vec<letters::LetterError>) -> Result<()> {
        if problems.is_empty() {
            return Ok(());
        }
        let total = self.plan.resolution.letters.len();
        let failed = problems.len();
        // The same mistake for many letters is said once, with how many (crate::error::grouped).
        Err(Error::Usage(format!(
            "{failed} of {total} letters cannot be rendered, so none was sent:\n  {}",
            crate::error::grouped(problems).join("\n  ")
        )))
    }

    /// Writes every letter to `out` as `.eml` and `.html` with an `index.html`; sends nothing.
    ///
    /// One pass, which is also [`Letters::render_all`]'s check: if any letter fails to render,
    /// the refusal is the same and the files already written are removed again. The letters are
    /// rendered, composed and written on every core, in shares taken in turn (`by_shares`); the
    /// index keeps the order of the letters.
    pub(crate) fn preview(&self, out: &Path) -> Result<(usize, PathBuf)> {
        let mut writer = PreviewWriter::new(out)?;
        let failed = AtomicBool::new(false);
        let mut shares: Vec<Share> =
            self.by_shares(|chunk| self.preview_share(chunk, &writer, &failed));
        let problems: Vec<letters::LetterError> = shares
            .iter_mut()
            .flat_map(|share| std::mem::take(&mut share.unrendered))
            .collect();
        // The first in the order of the letters, as when they were written one by one.
        let error = shares.iter_mut().find_map(|share| share.error.take());
        // A letter that cannot be rendered refuses the dry run as it refuses a send.
        if let Some(refusal) = self.refuse_unrendered(problems).err().or(error) {
            writer.discard(shares.into_iter().flat_map(|share| share.rows));
            return Err(refusal);
        }
        let mut n = 0;
        for share in shares {
            n += share.rows.len();
            writer.push(share.rows);
        }
        writer.set_addressees(&self.plan.resolution.phrases);
        let index = writer.finish(&self.plan.statement)?;
        Ok((n, index))
    }

    /// One thread's share of [`Letters::preview`]. After the first failure anywhere it only
    /// renders, to list every letter that cannot be rendered.
    fn preview_share(
        &self,
        orgs: &[&Organization],
        writer: &PreviewWriter,
        failed: &AtomicBool,
    ) -> Share {
        let mut share = Share {
            rows: Vec::with_capacity(orgs.len()),
            unrendered: Vec::new(),
            error: None,
        };
        for org in orgs {
            let letter = match self.render(org) {
                Ok(letter) => letter,
                Err(message) => {
                    failed.store(true, Ordering::Relaxed);
                    share.unrendered.push(message);
                    continue;
                }
            };
            if failed.load(Ordering::Relaxed) {
                continue;
            }
            let written = self
                .compose(&letter, org)
                .map_err(|e| Error::Usage(format!("the letter to `{}`: {e}", org.id)))
                .and_then(|composed| writer.write(org, &letter, &composed));
            match written {
                Ok(row) => share.rows.push(row),
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    share.error.get_or_insert(e);
                }
            }
        }
        share
    }
}

/// The render check and the dry run use at most this many threads (each renders, and for a
/// dry run composes and writes, letters)…
const MAX_THREADS: usize = 8;
/// …which take the letters this many at a time, and one thread per share at most: a thread
/// costs more than a few letters.
const SHARE: usize = 64;

/// What a dry run did with one share of the letters.
struct Share {
    rows: Vec<IndexRow>,
    /// Render failures, in the order of the letters.
    unrendered: Vec<letters::LetterError>,
    /// The first other failure (composing, writing).
    error: Option<Error>,
}

impl Composer for Letters {
    fn compose(&self, key: &LetterKey) -> std::result::Result<Composed, String> {
        let org = self
            .directory
            .organization(&key.organization)
            .ok_or_else(|| {
                format!(
                    "`{}` is no longer in the recipients directory",
                    key.organization
                )
            })?;
        let spooled = self.spool.get().and_then(|spool| {
            spool
                .get(&org.id)
                .map_err(|e| tracing::debug!("rendering the letter to `{}` again: {e}", org.id))
                .ok()
                .flatten()
        });
        let letter = match spooled {
            Some(letter) => letter,
            None => self.render(org).map_err(|e| e.to_string())?,
        };
        Letters::compose(self, &letter, org)
    }
}

/// A process's means of sending letters: the transport, this process's lock and the journal
/// writer (the statement's sender, whom the letters are from, is [`crate::config::Sender`]).
pub(crate) struct Courier {
    pub transport: Arc<dyn Transport>,
    pub journal: journal::Writer,
    /// A second connection for reads (states, overview); writes go through `journal`.
    pub reader: Journal,
    pub options: DeliveryOptions,
    /// Letters a dead process had left `sending` whose end of data may have gone out, now
    /// `uncertain`.
    pub interrupted: Vec<LetterKey>,
    /// Whether the journal was checked since the last send: opening checks it, and every later
    /// send checks it again (a daemon runs for months).
    vouched: AtomicBool,
    _lock: ProcessLock,
}

impl Courier {
    /// Sets up the transport (a missing password stops here, before the journal moves), takes
    /// this process's lock, recovers interrupted letters and starts the journal writer.
    pub(crate) fn open(config: &Config, retry_within: Duration) -> Result<Courier> {
        let transport: Arc<dyn Transport> = match &config.transport {
            TransportKind::File => Arc::new(FileTransport::new(&config.data_dir)),
            TransportKind::Smtp(settings) => {
                Arc::new(SmtpTransport::new(settings.clone()).map_err(DeliveryError::from)?)
            }
        };
        std::fs::create_dir_all(&config.data_dir).map_err(|e| Error::io(&config.data_dir, e))?;
        let lock = ProcessLock::acquire(&config.data_dir)
            .map_err(|e| Error::io(config.data_dir.join("locks"), e))?;
        let path = config.journal_path();
        let mut journal = Journal::open(&path).map_err(JournalError::untrusted)?;
        // Never send on a journal that cannot say for sure what was sent already.
        journal.vouch()?;
        let data = config.data_dir.clone();
        let boot = marks::boot_id();
        if boot.is_none() {
            tracing::warn!(
                "the machine's boot identity cannot be read (/proc/sys/kernel/random/boot_id): \
                 after a crash, every letter left `sending` will be `uncertain`, even those that \
                 never reached a server"
            );
        }
        let recovery = journal.recover_interrupted(
            Utc::now(),
            &|token| ProcessLock::is_alive(&data, token),
            boot.as_deref(),
        )?;
        for key in &recovery.uncertain {
            tracing::warn!(
                statement = %key.statement,
                organization = %key.organization,
                "this letter was being sent when an earlier run stopped: it is now `uncertain` (it may have arrived); \
                 `herald dispatch --resend-uncertain` sends it again"
            );
        }
        for key in &recovery.given_back {
            tracing::info!(
                statement = %key.statement,
                organization = %key.organization,
                "an earlier run stopped before this letter's end of data: no server can have delivered it, \
                 so it is back to be sent"
            );
        }
        let claimant = Claimant::new(lock.token(), boot);
        journal.set_owner(&claimant);
        let marks =
            Marks::open(&path, &claimant).map_err(|e| Error::io(marks::path_of(&path), e))?;
        let writer = journal::Writer::start(journal)?;
        let reader = Journal::open(&path)?;
        let options = DeliveryOptions {
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
            claim: ClaimPolicy::default(),
            retry_within: retry_within.min(config.delivery.backoff_cap),
            max_sending: config.delivery.max_sending,
            marks: Some(Arc::new(marks)),
        };
        Ok(Courier {
            transport,
            journal: writer,
            reader,
            options,
            interrupted: recovery.uncertain,
            vouched: AtomicBool::new(true),
            _lock: lock,
        })
    }

    /// Sends `keys` of `letters` under `policy`; returns the run's summary.
    pub(crate) async fn send<P: Progress>(
        &self,
        letters: Arc<Letters>,
        keys: Vec<LetterKey>,
        policy: ClaimPolicy,
        progress: Arc<P>,
        shutdown: watch::Receiver<bool>,
    ) -> Result<Summary> {
        let options = DeliveryOptions {
            claim: policy,
            ..self.options.clone()
        };
        if !self.vouched.swap(false, Ordering::Relaxed) {
            self.reader.vouch()?;
        }
        let summary = delivery::deliver_all(
            keys,
            Arc::clone(&self.transport),
            Arc::new(self.journal.clone()),
            letters,
            progress,
            options,
            shutdown,
        )
        .await?;
        self.prune_marks().await;
        Ok(summary)
    }

    /// Empties the end-of-data marks once no letter is `sending` (this run's are all recorded
    /// now), so the file does not grow with every letter a long-running daemon sends. On a
    /// connection of its own, in a transaction of its own: a failure costs only the space.
    async fn prune_marks(&self) {
        let path = self.journal.path().to_path_buf();
        let pruned = tokio::task::spawn_blocking(move || Journal::open(&path)?.prune_marks()).await;
        match pruned {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("end-of-data marks not emptied: {e}"),
            Err(e) => tracing::warn!("end-of-data marks not emptied: {e}"),
        }
    }
}

impl Drop for Courier {
    /// At the end of a run the journal file alone holds every event: the process may end with
    /// the writer's connection open, which would leave the last commits only in `-wal`.
    fn drop(&mut self) {
        if let Err(e) = self.reader.checkpoint() {
            tracing::debug!("journal checkpoint at the end of the run: {e}");
        }
    }
}
