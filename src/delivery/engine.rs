//! The dispatch engine: `concurrency` workers take letters in order from one queue, and for each
//! one wait for the shared rate limit, claim it in the journal (durably `sending`), render and
//! compose it, hand it to the transport, classify the outcome and record it.
//!
//! A worker records each attempt together with the claim of its next letter, one journal commit
//! for both, and composes that next letter while the commit runs. Until the commit the attempted
//! letter is still `sending` (after a crash: `uncertain`) and the next one still pending, so a
//! crash leaves at most one letter per worker `uncertain`, as with separate commits.
//!
//! Letters are composed by the worker that sends them, one at a time, so memory does not grow with
//! the number of letters. A deferred letter is tried again within the same run when its next
//! attempt is due within [`DispatchOptions::retry_within`]; a longer wait is left to the next
//! dispatch or to the daemon, and the letter is reported `deferred`. After `shutdown` turns true no
//! new letter is started; transactions in flight finish and are recorded.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use lettre::address::Envelope;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::classify::{classify, random_jitter, Outcome, RetryPolicy};
use super::rate::RateLimiter;
use super::{DeliveryError, Summary, Transport};
use crate::directory::OrgId;
use crate::journal::{AttemptResult, Claim, ClaimPolicy, Journal, JournalError, LetterKey, State};
use crate::letters::compose::Composed;

/// Where the engine claims letters and records attempts: the journal (through its group-commit
/// writer, or [`SharedJournal`]), or a fake in tests.
pub trait Ledger: Send + Sync + 'static {
    /// Moves the letter to `sending` if the policy allows; `None` when it is not to be sent.
    fn claim(
        &self,
        key: LetterKey,
        policy: ClaimPolicy,
    ) -> impl Future<Output = Result<Option<Claim>, JournalError>> + Send;
    /// Records the outcome of the attempt started by the last claim.
    fn record(
        &self,
        key: LetterKey,
        result: AttemptResult,
    ) -> impl Future<Output = Result<(), JournalError>> + Send;
    /// Records the attempt at `done`, then claims `next` only if that succeeded (an error
    /// otherwise). The journal does both in one transaction, so that a worker waits for one
    /// commit per letter; this default does them one after the other.
    fn record_and_claim(
        &self,
        done: LetterKey,
        result: AttemptResult,
        next: LetterKey,
        policy: ClaimPolicy,
    ) -> impl Future<
        Output = (
            Result<(), JournalError>,
            Result<Option<Claim>, JournalError>,
        ),
    > + Send {
        async move {
            match self.record(done, result).await {
                Ok(()) => (Ok(()), self.claim(next, policy).await),
                Err(e) => {
                    let not_claimed = JournalError::Other {
                        path: std::path::PathBuf::new(),
                        message: format!("not claimed: recording the letter before it failed: {e}"),
                    };
                    (Err(e), Err(not_claimed))
                }
            }
        }
    }
}

/// Renders and composes one letter when its turn comes.
pub trait Composer: Send + Sync + 'static {
    /// An error (a template that fails for this organisation) becomes the letter's `failed` reply.
    fn compose(&self, key: &LetterKey) -> Result<Composed, String>;
}

/// Hears about every letter as it finishes, for a progress bar or log lines.
pub trait Progress: Send + Sync + 'static {
    /// An attempt was recorded; `retrying` when the letter will be tried again in this run.
    fn attempted(&self, key: &LetterKey, result: &AttemptResult, retrying: bool);
    /// The journal declined the claim: already sent, uncertain, or taken by another process.
    fn skipped(&self, key: &LetterKey);
}

/// How a dispatch runs.
#[derive(Debug, Clone)]
pub struct DispatchOptions {
    /// Worker tasks, each with its own connection: SMTP transactions in flight.
    pub concurrency: usize,
    /// One limit shared by every worker; 0 = none.
    pub rate_per_minute: u32,
    pub retry: RetryPolicy,
    pub claim: ClaimPolicy,
    /// A deferred letter whose next attempt is due within this is retried in the same run.
    pub retry_within: Duration,
}

/// A letter that did not end `sent`, with the reply that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undelivered {
    pub organization: OrgId,
    pub state: State,
    pub smtp_code: Option<u16>,
    pub reply: String,
}

struct Queue {
    fresh: VecDeque<LetterKey>,
    /// Deferred letters due again soon, with their last result (reported if the run stops first).
    retries: Vec<(Instant, LetterKey, AttemptResult)>,
    in_flight: usize,
    summary: Summary,
    error: Option<DeliveryError>,
}

struct Shared<L, C, P> {
    queue: Mutex<Queue>,
    changed: Notify,
    transport: Arc<Transport>,
    ledger: Arc<L>,
    composer: Arc<C>,
    progress: Arc<P>,
    limiter: RateLimiter,
    options: DispatchOptions,
}

enum Next {
    Take(LetterKey),
    Wait(Option<Instant>),
    Done,
}

/// Sends `letters` in order through `transport`, recording each attempt in `ledger`.
///
/// Returns the summary of the run; `Err` only when the journal fails (nothing is sent unrecorded)
/// or a worker dies.
pub async fn dispatch<L: Ledger, C: Composer, P: Progress>(
    letters: Vec<LetterKey>,
    transport: Arc<Transport>,
    ledger: Arc<L>,
    composer: Arc<C>,
    progress: Arc<P>,
    options: DispatchOptions,
    shutdown: watch::Receiver<bool>,
) -> Result<Summary, DeliveryError> {
    let workers = options.concurrency.max(1).min(letters.len().max(1));
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue {
            fresh: letters.into(),
            retries: Vec::new(),
            in_flight: 0,
            summary: Summary::default(),
            error: None,
        }),
        changed: Notify::new(),
        transport,
        ledger,
        composer,
        progress,
        limiter: RateLimiter::new(options.rate_per_minute),
        options,
    });
    let mut tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        tasks.push(tokio::spawn(worker(Arc::clone(&shared), shutdown.clone())));
    }
    let mut died = None;
    for task in tasks {
        if let Err(e) = task.await {
            died.get_or_insert_with(|| {
                DeliveryError::Setup(format!("a delivery worker stopped: {e}"))
            });
        }
    }
    let mut queue = lock(&shared.queue);
    if let Some(e) = queue.error.take().or(died) {
        return Err(e);
    }
    let Queue {
        fresh,
        retries,
        mut summary,
        ..
    } = std::mem::replace(
        &mut *queue,
        Queue {
            fresh: VecDeque::new(),
            retries: Vec::new(),
            in_flight: 0,
            summary: Summary::default(),
            error: None,
        },
    );
    summary.not_attempted += fresh.len();
    for (_, key, result) in retries {
        count(&mut summary, &key, &result);
    }
    Ok(summary)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // The queue is only ever changed by whole statements under the lock; a panicking worker cannot
    // leave it half-updated, so its poison carries no meaning here.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn count(summary: &mut Summary, key: &LetterKey, result: &AttemptResult) {
    match result.state {
        State::Sent => {
            summary.sent += 1;
            return;
        }
        State::Partial => summary.partial += 1,
        State::Deferred => summary.deferred += 1,
        State::Uncertain => summary.uncertain += 1,
        State::Failed | State::Pending | State::Sending => summary.failed += 1,
    }
    summary.undelivered.push(Undelivered {
        organization: key.organization.clone(),
        state: result.state,
        smtp_code: result.smtp_code,
        reply: result.reply.clone(),
    });
}

/// A letter handed over (or given up) whose attempt is not yet recorded: the worker records it
/// together with the claim of its next letter, one commit for both.
type Unrecorded = (LetterKey, AttemptResult);

async fn worker<L: Ledger, C: Composer, P: Progress>(
    shared: Arc<Shared<L, C, P>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut session = None;
    let mut unrecorded: Option<Unrecorded> = None;
    loop {
        let (next, notified) = {
            let mut q = lock(&shared.queue);
            let notified = shared.changed.notified();
            let now = Instant::now();
            let next = if q.error.is_some() || *shutdown.borrow() {
                Next::Done
            } else if let Some(i) = q.retries.iter().position(|(at, _, _)| *at <= now) {
                Next::Take(q.retries.swap_remove(i).1)
            } else if let Some(key) = q.fresh.pop_front() {
                Next::Take(key)
            } else if let Some(at) = q.retries.iter().map(|(at, _, _)| *at).min() {
                Next::Wait(Some(at))
            } else if q.in_flight > 0 {
                // Another worker (or this one's unrecorded letter) may yet put a letter back for
                // a retry.
                Next::Wait(None)
            } else {
                Next::Done
            };
            if let Next::Take(_) = next {
                q.in_flight += 1;
            }
            (next, notified)
        };
        let key = match next {
            // Nothing to pair the last attempt with: record it alone before waiting or leaving.
            Next::Wait(_) | Next::Done if unrecorded.is_some() => {
                record_alone(&shared, &shutdown, &mut unrecorded).await;
                continue;
            }
            Next::Done => break,
            Next::Wait(at) => {
                let until = async {
                    match at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = notified => {}
                    _ = until => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            Next::Take(key) => key,
        };
        // The slot comes before the claim: a letter is `sending` only while it is really being
        // handed over, so a crash while workers wait for the limit leaves their letters pending
        // instead of `uncertain`. Nor does the last letter wait for a slot unrecorded. A declined
        // claim wastes its slot, which only slows the run.
        if !shared.limiter.try_acquire() {
            record_alone(&shared, &shutdown, &mut unrecorded).await;
            shared.limiter.acquire().await;
        }
        let policy = shared.options.claim;
        // Rendering and composing (pure) run while the claim commits: a declined claim wastes one
        // composition, a granted one no longer waits for it.
        let (recorded, claimed, composed) = match unrecorded.take() {
            Some((done, result)) => {
                let both = shared.ledger.record_and_claim(
                    done.clone(),
                    result.clone(),
                    key.clone(),
                    policy,
                );
                let composed = shared.composer.compose(&key);
                let (recorded, claimed) = both.await;
                (Some((done, recorded.map(|()| result))), claimed, composed)
            }
            None => {
                let claimed = shared.ledger.claim(key.clone(), policy);
                let composed = shared.composer.compose(&key);
                (None, claimed.await, composed)
            }
        };
        if let Some((done, recorded)) = recorded {
            let failed = recorded.is_err();
            finish(
                &shared,
                &shutdown,
                done,
                recorded.map(Some).map_err(Into::into),
            );
            if failed {
                // The claim did not run: the letter goes back untouched (the run stops anyway).
                finish_untouched(&shared, key);
                continue;
            }
        }
        match claimed {
            Err(e) => finish(&shared, &shutdown, key, Err(e.into())),
            Ok(None) => {
                shared.progress.skipped(&key);
                finish(&shared, &shutdown, key, Ok(None));
            }
            Ok(Some(claim)) => {
                let result = attempt(&shared, &key, claim, composed, &mut session).await;
                unrecorded = Some((key, result));
            }
        }
    }
    if let Some(session) = session {
        if let Transport::Smtp(smtp) = &*shared.transport {
            session.quit(smtp.settings().timeout).await;
        }
    }
    // Wake the others: the queue may have drained or an error may have been set.
    shared.changed.notify_waiters();
}

/// Records the worker's last attempt on its own, if it has one.
async fn record_alone<L: Ledger, C: Composer, P: Progress>(
    shared: &Shared<L, C, P>,
    shutdown: &watch::Receiver<bool>,
    unrecorded: &mut Option<Unrecorded>,
) {
    if let Some((done, result)) = unrecorded.take() {
        let recorded = shared.ledger.record(done.clone(), result.clone()).await;
        finish(
            shared,
            shutdown,
            done,
            recorded.map(|()| Some(result)).map_err(Into::into),
        );
    }
}

/// Accounts for a letter no longer in flight: `Ok(None)` when its claim was declined, its
/// recorded result, or the error that stops the run.
fn finish<L: Ledger, C: Composer, P: Progress>(
    shared: &Shared<L, C, P>,
    shutdown: &watch::Receiver<bool>,
    key: LetterKey,
    step: Result<Option<AttemptResult>, DeliveryError>,
) {
    let mut q = lock(&shared.queue);
    q.in_flight -= 1;
    match step {
        Err(e) => {
            q.error.get_or_insert(e);
        }
        Ok(None) => q.summary.skipped += 1,
        Ok(Some(result)) => {
            let retry_at = retry_instant(&result, &shared.options);
            let stopping = *shutdown.borrow();
            match retry_at {
                Some(at) if !stopping => {
                    shared.progress.attempted(&key, &result, true);
                    q.retries.push((at, key, result));
                }
                _ => {
                    shared.progress.attempted(&key, &result, false);
                    count(&mut q.summary, &key, &result);
                }
            }
        }
    }
    drop(q);
    shared.changed.notify_waiters();
}

/// Puts back a letter whose claim never ran.
fn finish_untouched<L: Ledger, C: Composer, P: Progress>(shared: &Shared<L, C, P>, key: LetterKey) {
    let mut q = lock(&shared.queue);
    q.in_flight -= 1;
    q.fresh.push_front(key);
    drop(q);
    shared.changed.notify_waiters();
}

/// When a deferred letter should be tried again in this run, if at all.
fn retry_instant(result: &AttemptResult, options: &DispatchOptions) -> Option<Instant> {
    if result.state != State::Deferred {
        return None;
    }
    let at = result.next_attempt_at?;
    let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    (wait <= options.retry_within).then(|| Instant::now() + wait)
}

/// Hands a claimed letter to the transport and classifies the outcome.
async fn attempt<L: Ledger, C: Composer, P: Progress>(
    shared: &Shared<L, C, P>,
    key: &LetterKey,
    mut claim: Claim,
    composed: Result<Composed, String>,
    session: &mut Option<super::smtp::SmtpSession>,
) -> AttemptResult {
    let outcome = match composed {
        Err(reason) => Outcome::Unsendable { reason },
        Ok(composed) => {
            // An address removed from the directory since an earlier attempt no longer counts.
            claim.earlier.retain(|r| {
                composed
                    .envelope
                    .to()
                    .iter()
                    .any(|a| AsRef::<str>::as_ref(a) == r.address)
            });
            match &*shared.transport {
                Transport::File(file) => file.deliver(key, composed.bytes).await,
                // The same message (same Message-ID, every address in its headers), but only to
                // the addresses that still need it: the others have it or refused it for good.
                Transport::Smtp(smtp) => match remaining(&composed.envelope, &claim) {
                    Some(envelope) => smtp.deliver(session, &envelope, &composed.bytes).await,
                    None => Outcome::NoAddressLeft,
                },
            }
        }
    };
    classify(
        outcome,
        claim,
        &shared.options.retry,
        Utc::now(),
        random_jitter(),
    )
}

/// The envelope of this attempt: the letter's, without the addresses `claim` says are settled;
/// `None` when none is left.
fn remaining(envelope: &Envelope, claim: &Claim) -> Option<Envelope> {
    let to: Vec<lettre::Address> = envelope
        .to()
        .iter()
        .filter(|a| claim.still_owed(a.as_ref()))
        .cloned()
        .collect();
    // `Envelope::new` refuses only an empty recipient list.
    Envelope::new(envelope.from().cloned(), to).ok()
}

/// The synchronous [`Journal`] behind a lock, each call on the blocking pool: a [`Ledger`] that
/// commits every claim and record on its own.
pub struct SharedJournal {
    journal: Arc<Mutex<Journal>>,
}

impl SharedJournal {
    pub fn new(journal: Journal) -> SharedJournal {
        SharedJournal {
            journal: Arc::new(Mutex::new(journal)),
        }
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Journal) -> Result<T, JournalError> + Send + 'static,
    ) -> Result<T, JournalError> {
        let journal = Arc::clone(&self.journal);
        let ran = tokio::task::spawn_blocking(move || f(&mut lock(&journal))).await;
        ran.map_err(|e| {
            let path = lock(&self.journal).path().to_path_buf();
            JournalError::Other {
                path,
                message: format!("journal task stopped: {e}"),
            }
        })?
    }
}

impl Ledger for SharedJournal {
    async fn claim(
        &self,
        key: LetterKey,
        policy: ClaimPolicy,
    ) -> Result<Option<Claim>, JournalError> {
        self.with(move |j| j.claim(&key, policy, Utc::now())).await
    }

    async fn record(&self, key: LetterKey, result: AttemptResult) -> Result<(), JournalError> {
        self.with(move |j| j.record(&key, &result, Utc::now()))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::delivery::file::FileTransport;
    use crate::statement::StatementId;

    /// The journal's claim rule on a map, counting claims.
    struct FakeLedger {
        states: Mutex<HashMap<String, (State, u32)>>,
    }

    impl Ledger for FakeLedger {
        async fn claim(
            &self,
            key: LetterKey,
            _: ClaimPolicy,
        ) -> Result<Option<Claim>, JournalError> {
            let mut states = lock(&self.states);
            let entry = states
                .entry(key.organization.as_str().to_string())
                .or_insert((State::Pending, 0));
            if matches!(entry.0, State::Sent | State::Uncertain | State::Sending) {
                return Ok(None);
            }
            entry.0 = State::Sending;
            entry.1 += 1;
            Ok(Some(Claim {
                attempt: entry.1,
                consecutive: entry.1,
                earlier: Vec::new(),
            }))
        }

        async fn record(&self, key: LetterKey, result: AttemptResult) -> Result<(), JournalError> {
            let mut states = lock(&self.states);
            if let Some(entry) = states.get_mut(key.organization.as_str()) {
                entry.0 = result.state;
            }
            Ok(())
        }
    }

    /// A [`FakeLedger`] that counts how its records arrive: alone or with the next claim.
    struct CountingLedger {
        inner: FakeLedger,
        alone: Mutex<u32>,
        paired: Mutex<u32>,
    }

    impl Ledger for CountingLedger {
        async fn claim(
            &self,
            key: LetterKey,
            policy: ClaimPolicy,
        ) -> Result<Option<Claim>, JournalError> {
            self.inner.claim(key, policy).await
        }

        async fn record(&self, key: LetterKey, result: AttemptResult) -> Result<(), JournalError> {
            *lock(&self.alone) += 1;
            self.inner.record(key, result).await
        }

        async fn record_and_claim(
            &self,
            done: LetterKey,
            result: AttemptResult,
            next: LetterKey,
            policy: ClaimPolicy,
        ) -> (
            Result<(), JournalError>,
            Result<Option<Claim>, JournalError>,
        ) {
            *lock(&self.paired) += 1;
            let recorded = self.inner.record(done, result).await;
            (recorded, self.inner.claim(next, policy).await)
        }
    }

    /// Remembers every report, in order.
    #[derive(Default)]
    struct Reports(Mutex<Vec<(String, State)>>);

    impl Progress for Reports {
        fn attempted(&self, key: &LetterKey, result: &AttemptResult, _: bool) {
            lock(&self.0).push((key.organization.as_str().to_string(), result.state));
        }
        fn skipped(&self, key: &LetterKey) {
            lock(&self.0).push((key.organization.as_str().to_string(), State::Pending));
        }
    }

    struct FakeComposer;

    impl Composer for FakeComposer {
        fn compose(&self, key: &LetterKey) -> Result<Composed, String> {
            if key.organization.as_str() == "broken" {
                return Err("template `letter.txt.hbs` failed".into());
            }
            let address: lettre::Address = format!("{}@x.example", key.organization.as_str())
                .parse()
                .map_err(|e| format!("{e}"))?;
            Ok(Composed {
                message_id: format!("<{}@x.example>", key.organization.as_str()),
                envelope: lettre::address::Envelope::new(None, vec![address])
                    .map_err(|e| e.to_string())?,
                bytes: format!("To: {}\r\n\r\nletter\r\n", key.organization.as_str()).into_bytes(),
            })
        }
    }

    struct Quiet;

    impl Progress for Quiet {
        fn attempted(&self, _: &LetterKey, _: &AttemptResult, _: bool) {}
        fn skipped(&self, _: &LetterKey) {}
    }

    fn key(org: &str) -> LetterKey {
        LetterKey {
            statement: StatementId::parse("2021-05-27-1a2b3c4d").expect("id"),
            organization: OrgId::new(org).expect("org"),
        }
    }

    fn options() -> DispatchOptions {
        DispatchOptions {
            concurrency: 3,
            rate_per_minute: 0,
            retry: RetryPolicy {
                max_attempts: 3,
                backoff_base: Duration::from_secs(1),
                backoff_cap: Duration::from_secs(10),
            },
            claim: ClaimPolicy::default(),
            retry_within: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn sends_each_claimable_letter_once_and_counts_the_rest() {
        let data = tempfile::tempdir().expect("tempdir");
        let ledger = Arc::new(FakeLedger {
            states: Mutex::new(HashMap::from([("done".to_string(), (State::Sent, 1))])),
        });
        let orgs = ["a", "b", "done", "broken", "c", "d", "e"];
        let (_stop, shutdown) = watch::channel(false);
        let summary = dispatch(
            orgs.iter().map(|o| key(o)).collect(),
            Arc::new(Transport::File(FileTransport::new(data.path()))),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::new(Quiet),
            options(),
            shutdown,
        )
        .await
        .expect("dispatch");
        assert_eq!(
            (summary.sent, summary.skipped, summary.failed),
            (5, 1, 1),
            "{summary:?}"
        );
        assert_eq!(summary.undelivered.len(), 1);
        assert_eq!(summary.undelivered[0].organization.as_str(), "broken");
        for org in ["a", "b", "c", "d", "e"] {
            let file = data
                .path()
                .join(format!("outbox/2021-05-27-1a2b3c4d/{org}.eml"));
            assert!(file.exists(), "{}", file.display());
            assert_eq!(lock(&ledger.states)[org], (State::Sent, 1), "{org}");
        }
        assert!(!data
            .path()
            .join("outbox/2021-05-27-1a2b3c4d/done.eml")
            .exists());
    }

    #[tokio::test]
    async fn after_shutdown_no_letter_is_started() {
        let data = tempfile::tempdir().expect("tempdir");
        let ledger = Arc::new(FakeLedger {
            states: Mutex::new(HashMap::new()),
        });
        let (stop, shutdown) = watch::channel(false);
        stop.send(true).expect("receiver alive");
        let summary = dispatch(
            vec![key("a"), key("b")],
            Arc::new(Transport::File(FileTransport::new(data.path()))),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::new(Quiet),
            options(),
            shutdown,
        )
        .await
        .expect("dispatch");
        assert_eq!(summary.not_attempted, 2, "{summary:?}");
        assert!(!summary.all_sent());
        assert!(lock(&ledger.states).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_deferred_letter_is_retried_in_the_run_until_it_fails_at_max_attempts() {
        // The outbox path is a file, so every write is refused: transient each time.
        let data = tempfile::tempdir().expect("tempdir");
        std::fs::write(data.path().join("outbox"), b"").expect("file");
        let ledger = Arc::new(FakeLedger {
            states: Mutex::new(HashMap::new()),
        });
        let (_stop, shutdown) = watch::channel(false);
        let summary = dispatch(
            vec![key("a")],
            Arc::new(Transport::File(FileTransport::new(data.path()))),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::new(Quiet),
            options(),
            shutdown,
        )
        .await
        .expect("dispatch");
        assert_eq!(summary.failed, 1, "{summary:?}");
        assert_eq!(lock(&ledger.states)["a"], (State::Failed, 3));
    }

    #[tokio::test]
    async fn one_worker_records_each_letter_with_the_next_claim_and_reports_every_letter() {
        let data = tempfile::tempdir().expect("tempdir");
        let ledger = Arc::new(CountingLedger {
            inner: FakeLedger {
                states: Mutex::new(HashMap::from([("done".to_string(), (State::Sent, 1))])),
            },
            alone: Mutex::new(0),
            paired: Mutex::new(0),
        });
        let orgs = ["a", "b", "done", "c", "broken", "d"];
        let reports = Arc::new(Reports::default());
        let (_stop, shutdown) = watch::channel(false);
        let summary = dispatch(
            orgs.iter().map(|o| key(o)).collect(),
            Arc::new(Transport::File(FileTransport::new(data.path()))),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::clone(&reports),
            DispatchOptions {
                concurrency: 1,
                ..options()
            },
            shutdown,
        )
        .await
        .expect("dispatch");
        assert_eq!(
            (summary.sent, summary.skipped, summary.failed),
            (4, 1, 1),
            "{summary:?}"
        );
        // Five attempts: four recorded with the claim after them (`b`'s with the declined claim
        // of `done`), the last alone before the run ends.
        assert_eq!((*lock(&ledger.paired), *lock(&ledger.alone)), (4, 1));
        let expected = [
            ("a", State::Sent),
            ("b", State::Sent),
            ("done", State::Pending),
            ("c", State::Sent),
            ("broken", State::Failed),
            ("d", State::Sent),
        ];
        let seen = lock(&reports.0).clone();
        assert_eq!(
            seen,
            expected
                .iter()
                .map(|(o, s)| (o.to_string(), *s))
                .collect::<Vec<_>>()
        );
        for org in ["a", "b", "c", "d"] {
            assert_eq!(lock(&ledger.inner.states)[org], (State::Sent, 1), "{org}");
        }
    }
}
