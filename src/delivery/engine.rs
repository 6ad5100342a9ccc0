//! The delivery engine: `concurrency` workers take letters in order from one queue, and for each
//! one wait for the shared rate limit, claim it in the journal (durably `sending`), render and
//! compose it, hand it to the transport, classify the outcome and record it.
//!
//! A worker claims letters ahead, several in one journal commit, and sends them while the next
//! commit runs: each commit writes the outcomes of the letters it attempted and claims the next
//! ones, so the fsync is off the critical path. A letter is handed over only once its claim is
//! durable. A worker holds at most `DeliveryOptions::window` letters `sending` (claimed and not
//! yet recorded); with a window of one, each attempt is recorded with the claim of the next
//! letter, which is composed while that commit runs. Each attempt leaves an end-of-data mark
//! (`journal::marks`) just before its end of data, so a crash of herald leaves `uncertain` only
//! the letters whose end of data was in flight (at most one per worker), and the others go back
//! to be sent; a power loss, which can lose a mark, leaves at most `max_sending` letters
//! `uncertain` (one per worker if that is more).
//!
//! Letters are composed by the worker that sends them, one at a time, so memory does not grow with
//! the number of letters. A deferred letter is tried again within the same run when its next
//! attempt is due within [`DeliveryOptions::retry_within`]; a longer wait is left to the next
//! dispatch or to the daemon, and the letter is reported `deferred`. After `shutdown` turns true no
//! new letter is started; transactions in flight finish and are recorded, and letters claimed
//! but not offered to the server are given back (`Ledger::release`).

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt as _;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::classify::{classify, random_jitter, Outcome, RetryPolicy};
use super::rate::RateLimiter;
use super::state::{AttemptResult, Claim, ClaimPolicy, State};
use super::{Connection, DeliveryError, EndOfDataMark, Summary, Transport};
use crate::directory::OrgId;
use crate::journal::marks::Marks;
use crate::journal::{JournalError, LetterKey, Settled};
use crate::letters::compose::Composed;

/// Where the engine claims letters and records attempts: the journal (through its group-commit
/// writer), or a fake in tests.
pub(crate) trait Ledger: Send + Sync + 'static {
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
    /// Gives back a letter claimed but never offered to the server (the run is stopping).
    fn release(&self, key: LetterKey) -> impl Future<Output = Result<(), JournalError>> + Send;
    /// Records every attempt of `records`, then claims `claims`, each claim only if every step
    /// before it succeeded (the others answer with an error and stay as they were). The journal
    /// does it all in one transaction, so that a worker waits for one commit for several
    /// letters; this default does them one after the other.
    fn settle(
        &self,
        records: Vec<(LetterKey, AttemptResult)>,
        claims: Vec<LetterKey>,
        policy: ClaimPolicy,
    ) -> impl Future<Output = Settled> + Send {
        settle_in_turn(self, records, claims, policy)
    }
}

/// [`Ledger::settle`] one step after the other: every record, then each claim only if every
/// step before it succeeded.
async fn settle_in_turn<L: Ledger + ?Sized>(
    ledger: &L,
    records: Vec<(LetterKey, AttemptResult)>,
    claims: Vec<LetterKey>,
    policy: ClaimPolicy,
) -> Settled {
    let mut settled = Settled {
        recorded: Vec::with_capacity(records.len()),
        claimed: Vec::with_capacity(claims.len()),
    };
    let mut failed = false;
    for (key, result) in records {
        let r = ledger.record(key, result).await;
        failed |= r.is_err();
        settled.recorded.push(r);
    }
    for key in claims {
        let r = if failed {
            Err(JournalError::NotDone)
        } else {
            ledger.claim(key, policy).await
        };
        failed |= r.is_err();
        settled.claimed.push(r);
    }
    settled
}

/// Renders and composes one letter when its turn comes.
pub(crate) trait Composer: Send + Sync + 'static {
    /// An error (a template that fails for this organisation) becomes the letter's `failed` reply.
    fn compose(&self, key: &LetterKey) -> Result<Composed, String>;
}

/// Hears about every letter as it finishes, for a progress bar or log lines.
pub(crate) trait Progress: Send + Sync + 'static {
    /// An attempt was recorded; `retrying` when the letter will be tried again in this run.
    fn attempted(&self, key: &LetterKey, result: &AttemptResult, retrying: bool);
    /// The journal declined the claim: already sent, uncertain, or taken by another process.
    fn skipped(&self, key: &LetterKey);
}

/// How a delivery run goes: workers, rate limit, retries, claims.
#[derive(Debug, Clone)]
pub(crate) struct DeliveryOptions {
    /// Worker tasks, each with its own connection: SMTP transactions in flight.
    pub concurrency: usize,
    /// One limit shared by every worker; 0 = none.
    pub rate_per_minute: u32,
    pub retry: RetryPolicy,
    pub claim: ClaimPolicy,
    /// A deferred letter whose next attempt is due within this is retried in the same run.
    pub retry_within: Duration,
    /// Letters that may be `sending` at once over all workers (at least one per worker): claimed
    /// ahead in one commit while earlier ones are handed over. A power loss leaves at most this
    /// many `uncertain`.
    pub max_sending: usize,
    /// Where each attempt leaves its end-of-data mark; `None` leaves none (tests of the engine
    /// alone: without marks, recovery would give back letters that may have been delivered).
    pub marks: Option<Arc<Marks>>,
}

impl DeliveryOptions {
    /// Letters one worker may hold `sending`. One under a rate limit: the limit sets the pace,
    /// and a slot must come before each claim.
    fn window(&self) -> usize {
        if self.rate_per_minute > 0 {
            return 1;
        }
        (self.max_sending / self.concurrency.max(1)).max(1)
    }
}

/// A letter that did not end `sent`, with the reply that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Undelivered {
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
    transport: Arc<dyn Transport>,
    ledger: Arc<L>,
    composer: Arc<C>,
    progress: Arc<P>,
    limiter: RateLimiter,
    options: DeliveryOptions,
}

/// Sends `letters` in order through `transport`, recording each attempt in `ledger`.
///
/// Returns the summary of the run; `Err` only when the journal fails (nothing is sent unrecorded)
/// or a worker dies.
pub(crate) async fn deliver_all<L: Ledger, C: Composer, P: Progress>(
    letters: Vec<LetterKey>,
    transport: Arc<dyn Transport>,
    ledger: Arc<L>,
    composer: Arc<C>,
    progress: Arc<P>,
    options: DeliveryOptions,
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
        let task = tokio::spawn(worker(Arc::clone(&shared), shutdown.clone()));
        // A worker that dies (a bug) stops the run at once: the others would otherwise wait
        // for the letters it held, for ever.
        let shared = Arc::clone(&shared);
        tasks.push(tokio::spawn(async move {
            if let Err(e) = task.await {
                lock(&shared.queue)
                    .error
                    .get_or_insert(DeliveryError::Worker(e));
                shared.changed.notify_waiters();
            }
        }));
    }
    for task in tasks {
        // The watcher itself only awaits and sets the error; it has nothing left to report.
        let _ = task.await;
    }
    let mut queue = lock(&shared.queue);
    if let Some(e) = queue.error.take() {
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
        State::Failed | State::Pending | State::Sending | State::Cancelled => summary.failed += 1,
    }
    summary.undelivered.push(Undelivered {
        organization: key.organization.clone(),
        state: result.state,
        smtp_code: result.smtp_code,
        reply: result.reply.clone(),
    });
}

/// What a worker holds between the queue and the journal. Every letter here counts in the
/// queue's `in_flight`; at most [`DeliveryOptions::window`] of them are `sending` in the journal.
#[derive(Default)]
struct Hands {
    /// Claimed (durably `sending`) and not yet offered to the server, in order.
    ahead: VecDeque<(Taken, Claim)>,
    /// Attempted; the outcome not yet written.
    done: Vec<(LetterKey, AttemptResult)>,
    /// The journal transaction in progress: the records of attempted letters and the claims of
    /// the next ones.
    settling: Option<Settling>,
    /// The first letter of `settling`'s claims, composed while the claim committed.
    composed: Option<(LetterKey, Result<Composed, String>)>,
}

struct Settling {
    task: tokio::task::JoinHandle<Settled>,
    records: Vec<(LetterKey, AttemptResult)>,
    claims: Vec<Taken>,
}

/// A letter taken from the queue, with its last result when it came back for a retry in this
/// run (reported as it stands if the run stops before the retry).
type Taken = (LetterKey, Option<AttemptResult>);

/// Why a worker with empty hands took no letter.
enum Idle {
    /// Letters are waiting for a rate-limit slot.
    NeedSlot,
    /// Until a retry is due (`Some`) or another worker finishes a letter (`None`).
    Wait(Option<Instant>),
    Done,
}

async fn worker<L: Ledger, C: Composer, P: Progress>(
    shared: Arc<Shared<L, C, P>>,
    mut shutdown: watch::Receiver<bool>,
) {
    let window = shared.options.window();
    let mut connection = shared.transport.connection();
    let mut hands = Hands::default();
    loop {
        if lock(&shared.queue).error.is_some() || *shutdown.borrow() {
            break;
        }
        // Claim more while the letters in hand go out: from half the window on, so the commit
        // runs while the other half is handed over.
        if hands.settling.is_none() && hands.ahead.len() <= window / 2 {
            let keys = take(&shared, &shutdown, window - hands.ahead.len(), false);
            if !keys.is_empty() {
                settle(&shared, &mut hands, keys);
            }
        }
        if let Some(((key, _), claim)) = hands.ahead.pop_front() {
            let composed = match hands.composed.take() {
                Some((k, composed)) if k == key => composed,
                _ => compose(&*shared.composer, &key),
            };
            // A panic while sending one letter (a bug) settles that letter alone, `uncertain`
            // as it may have been handed over; the worker goes on with the others.
            let result = match AssertUnwindSafe(attempt(
                &shared,
                &key,
                claim.clone(),
                composed,
                &mut *connection,
            ))
            .catch_unwind()
            .await
            {
                Ok(result) => result,
                Err(panic) => {
                    connection = shared.transport.connection();
                    let reason = format!(
                        "herald failed while sending this letter ({}); it may have arrived",
                        panic_message(&*panic)
                    );
                    classify(
                        Outcome::NoReply { reason },
                        claim,
                        &shared.options.retry,
                        Utc::now(),
                        random_jitter(),
                    )
                }
            };
            hands.done.push((key, result));
            if hands
                .settling
                .as_ref()
                .is_some_and(|s| s.task.is_finished())
            {
                apply(&shared, &shutdown, &mut hands).await;
            }
            continue;
        }
        if let Some(settling) = &hands.settling {
            // Rendering and composing (pure) run while the claim commits: a declined claim
            // wastes one composition, a granted one no longer waits for it.
            if let Some((first, _)) = settling.claims.first() {
                hands.composed = Some((first.clone(), compose(&*shared.composer, first)));
            }
            apply(&shared, &shutdown, &mut hands).await;
            continue;
        }
        if !hands.done.is_empty() {
            // Nothing to pair the last attempts with: record them before waiting or leaving.
            settle(&shared, &mut hands, Vec::new());
            apply(&shared, &shutdown, &mut hands).await;
            continue;
        }
        let (idle, notified) = {
            let q = lock(&shared.queue);
            let notified = shared.changed.notified();
            let now = Instant::now();
            let idle = if q.error.is_some() || *shutdown.borrow() {
                Idle::Done
            } else if !q.fresh.is_empty() || q.retries.iter().any(|(at, _, _)| *at <= now) {
                Idle::NeedSlot
            } else if let Some(at) = q.retries.iter().map(|(at, _, _)| *at).min() {
                Idle::Wait(Some(at))
            } else if q.in_flight > 0 {
                // Another worker may yet put a letter back for a retry.
                Idle::Wait(None)
            } else {
                Idle::Done
            };
            (idle, notified)
        };
        match idle {
            Idle::Done => break,
            // The slot comes before the claim: a letter is `sending` only while it is really
            // being handed over, so a crash while workers wait for the limit leaves their
            // letters pending instead of `uncertain`. A slot whose letter another worker took
            // meanwhile is lost, which only slows the run.
            Idle::NeedSlot => {
                shared.limiter.acquire().await;
                let keys = take(&shared, &shutdown, 1, true);
                if !keys.is_empty() {
                    settle(&shared, &mut hands, keys);
                }
            }
            Idle::Wait(at) => {
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
            }
        }
    }
    // Stopping (or done): finish the commit in progress, give back the letters claimed and not
    // offered, and write the outcomes of those attempted.
    apply(&shared, &shutdown, &mut hands).await;
    for ((key, last), _) in std::mem::take(&mut hands.ahead) {
        match shared.ledger.release(key.clone()).await {
            Ok(()) => finish_untouched(&shared, key, last),
            Err(e) => finish(&shared, &shutdown, key, Err(e.into())),
        }
    }
    if !hands.done.is_empty() {
        settle(&shared, &mut hands, Vec::new());
        apply(&shared, &shutdown, &mut hands).await;
    }
    connection.close().await;
    // Wake the others: the queue may have drained or an error may have been set.
    shared.changed.notify_waiters();
}

/// Takes up to `max` letters to claim, due retries first, each with a rate-limit slot (the first
/// one's already taken when `first_has_slot`); counts them in flight. None once the run stops.
fn take<L: Ledger, C: Composer, P: Progress>(
    shared: &Shared<L, C, P>,
    shutdown: &watch::Receiver<bool>,
    max: usize,
    first_has_slot: bool,
) -> Vec<Taken> {
    let mut q = lock(&shared.queue);
    let mut taken = Vec::new();
    if q.error.is_some() || *shutdown.borrow() {
        return taken;
    }
    let now = Instant::now();
    while taken.len() < max {
        let due = q.retries.iter().position(|(at, _, _)| *at <= now);
        if due.is_none() && q.fresh.is_empty() {
            break;
        }
        let has_slot = (first_has_slot && taken.is_empty()) || shared.limiter.try_acquire();
        if !has_slot {
            break;
        }
        let next = match due {
            Some(i) => {
                let (_, key, last) = q.retries.swap_remove(i);
                (key, Some(last))
            }
            None => match q.fresh.pop_front() {
                Some(key) => (key, None),
                None => break,
            },
        };
        q.in_flight += 1;
        taken.push(next);
    }
    taken
}

/// Starts one journal transaction: the records of every attempted letter in hand, then the
/// claims of `claims`.
fn settle<L: Ledger, C: Composer, P: Progress>(
    shared: &Arc<Shared<L, C, P>>,
    hands: &mut Hands,
    claims: Vec<Taken>,
) {
    let records = std::mem::take(&mut hands.done);
    let (r, c) = (
        records.clone(),
        claims.iter().map(|(key, _)| key.clone()).collect(),
    );
    let policy = shared.options.claim;
    let ledger = Arc::clone(&shared.ledger);
    let task = tokio::spawn(async move { ledger.settle(r, c, policy).await });
    hands.settling = Some(Settling {
        task,
        records,
        claims,
    });
}

/// Waits for the transaction in progress, if any, and accounts for its answers: recorded letters
/// are finished, granted claims go to `ahead`, declined ones are skipped.
async fn apply<L: Ledger, C: Composer, P: Progress>(
    shared: &Shared<L, C, P>,
    shutdown: &watch::Receiver<bool>,
    hands: &mut Hands,
) {
    let Some(Settling {
        task,
        records,
        claims,
    }) = hands.settling.take()
    else {
        return;
    };
    let settled = task.await.unwrap_or_else(|e| {
        let e = Arc::new(e);
        let failed = || JournalError::TaskStopped(Arc::clone(&e));
        Settled {
            recorded: records.iter().map(|_| Err(failed())).collect(),
            claimed: claims.iter().map(|_| Err(failed())).collect(),
        }
    });
    for ((key, result), recorded) in records.into_iter().zip(settled.recorded) {
        finish(
            shared,
            shutdown,
            key,
            recorded.map(|()| Some(result)).map_err(Into::into),
        );
    }
    for ((key, last), claimed) in claims.into_iter().zip(settled.claimed) {
        match claimed {
            Ok(Some(claim)) => hands.ahead.push_back(((key, last), claim)),
            Ok(None) => {
                shared.progress.skipped(&key);
                finish(shared, shutdown, key, Ok(None));
            }
            Err(e) => finish(shared, shutdown, key, Err(e.into())),
        }
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

/// Puts back a letter whose claim never ran or was given back.
fn finish_untouched<L: Ledger, C: Composer, P: Progress>(
    shared: &Shared<L, C, P>,
    key: LetterKey,
    last: Option<AttemptResult>,
) {
    let mut q = lock(&shared.queue);
    q.in_flight -= 1;
    match last {
        // A retry given back: due now, and reported with its last result if the run ends first.
        Some(last) => q.retries.push((Instant::now(), key, last)),
        None => q.fresh.push_front(key),
    }
    drop(q);
    shared.changed.notify_waiters();
}

/// When a deferred letter should be tried again in this run, if at all.
fn retry_instant(result: &AttemptResult, options: &DeliveryOptions) -> Option<Instant> {
    if result.state != State::Deferred {
        return None;
    }
    let at = result.next_attempt_at?;
    let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    (wait <= options.retry_within).then(|| Instant::now() + wait)
}

/// Renders and composes one letter; a panic there (a bug meeting this letter's data) becomes
/// this letter's failure, so it cannot take the run down with it.
fn compose<C: Composer>(composer: &C, key: &LetterKey) -> Result<Composed, String> {
    std::panic::catch_unwind(AssertUnwindSafe(|| composer.compose(key))).unwrap_or_else(|panic| {
        Err(format!(
            "this letter could not be composed ({})",
            panic_message(&*panic)
        ))
    })
}

/// What a caught panic said, if it said it as text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "an unexpected error".to_string())
}

/// Hands a claimed letter to the transport and classifies the outcome.
async fn attempt<L: Ledger, C: Composer, P: Progress>(
    shared: &Shared<L, C, P>,
    key: &LetterKey,
    mut claim: Claim,
    composed: Result<Composed, String>,
    connection: &mut dyn Connection,
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
            let mark = end_of_data_mark(shared.options.marks.as_ref(), key, claim.attempt);
            connection.deliver(key, composed, &claim, mark).await
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

/// The mark attempt `attempt` of `key` leaves just before its end of data.
fn end_of_data_mark(marks: Option<&Arc<Marks>>, key: &LetterKey, attempt: u32) -> EndOfDataMark {
    match marks {
        Some(marks) => {
            let (marks, key) = (Arc::clone(marks), key.clone());
            Box::new(move || marks.mark(&key, attempt))
        }
        None => Box::new(|| Ok(())),
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

    impl FakeLedger {
        fn new(states: &[(&str, State)]) -> FakeLedger {
            FakeLedger {
                states: Mutex::new(
                    states
                        .iter()
                        .map(|(org, state)| (org.to_string(), (*state, 1)))
                        .collect(),
                ),
            }
        }

        fn sending(&self) -> usize {
            lock(&self.states)
                .values()
                .filter(|(s, _)| *s == State::Sending)
                .count()
        }
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

        async fn release(&self, key: LetterKey) -> Result<(), JournalError> {
            let mut states = lock(&self.states);
            if let Some(entry) = states.get_mut(key.organization.as_str()) {
                *entry = (State::Pending, entry.1 - 1);
            }
            Ok(())
        }
    }

    /// A [`FakeLedger`] that notes each transaction (records, claims) and the most letters it
    /// ever held `sending` at once.
    struct CountingLedger {
        inner: FakeLedger,
        settles: Mutex<Vec<(usize, usize)>>,
        most_sending: Mutex<usize>,
    }

    impl CountingLedger {
        fn new(states: &[(&str, State)]) -> CountingLedger {
            CountingLedger {
                inner: FakeLedger::new(states),
                settles: Mutex::new(Vec::new()),
                most_sending: Mutex::new(0),
            }
        }
    }

    impl Ledger for CountingLedger {
        async fn claim(
            &self,
            key: LetterKey,
            policy: ClaimPolicy,
        ) -> Result<Option<Claim>, JournalError> {
            let claim = self.inner.claim(key, policy).await;
            let now = self.inner.sending();
            let mut most = lock(&self.most_sending);
            *most = (*most).max(now);
            claim
        }

        async fn record(&self, key: LetterKey, result: AttemptResult) -> Result<(), JournalError> {
            self.inner.record(key, result).await
        }

        async fn release(&self, key: LetterKey) -> Result<(), JournalError> {
            self.inner.release(key).await
        }

        // Counts, then settles as the default does.
        fn settle(
            &self,
            records: Vec<(LetterKey, AttemptResult)>,
            claims: Vec<LetterKey>,
            policy: ClaimPolicy,
        ) -> impl Future<Output = Settled> + Send {
            lock(&self.settles).push((records.len(), claims.len()));
            super::settle_in_turn(self, records, claims, policy)
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

    fn options() -> DeliveryOptions {
        DeliveryOptions {
            concurrency: 3,
            rate_per_minute: 0,
            retry: RetryPolicy {
                max_attempts: 3,
                backoff_base: Duration::from_secs(1),
                backoff_cap: Duration::from_secs(10),
            },
            claim: ClaimPolicy::default(),
            retry_within: Duration::from_secs(60),
            max_sending: 16,
            marks: None,
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
        let summary = deliver_all(
            orgs.iter().map(|o| key(o)).collect(),
            Arc::new(FileTransport::new(data.path())),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::new(Quiet),
            options(),
            shutdown,
        )
        .await
        .expect("deliver_all");
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

    /// Composes as [`FakeComposer`], but panics for `panics`, as lettre's header code did for a
    /// name holding CRLF.
    struct PanickingComposer;

    impl Composer for PanickingComposer {
        fn compose(&self, key: &LetterKey) -> Result<Composed, String> {
            assert_ne!(key.organization.as_str(), "panics", "header code panicked");
            FakeComposer.compose(key)
        }
    }

    /// Panics when told about `panics`: a bug outside any one letter's work.
    struct PanickingProgress;

    impl Progress for PanickingProgress {
        fn attempted(&self, key: &LetterKey, _: &AttemptResult, _: bool) {
            assert_ne!(key.organization.as_str(), "panics", "progress bar panicked");
        }
        fn skipped(&self, _: &LetterKey) {}
    }

    /// Regression: a worker that panicked on one letter left every letter of the statement
    /// `sending` and the run hung. A panic composing a letter fails that letter alone; a worker
    /// that dies for another reason ends the run with an error, and the letters it did not hold
    /// are given back.
    #[tokio::test]
    async fn a_panic_on_one_letter_never_strands_the_others() {
        let orgs = ["a", "panics", "b", "c", "d", "e", "f"];
        for concurrency in [1, 3] {
            let data = tempfile::tempdir().expect("tempdir");
            let ledger = Arc::new(FakeLedger::new(&[]));
            let (_stop, shutdown) = watch::channel(false);
            let run = deliver_all(
                orgs.iter().map(|o| key(o)).collect(),
                Arc::new(FileTransport::new(data.path())),
                Arc::clone(&ledger),
                Arc::new(PanickingComposer),
                Arc::new(Quiet),
                DeliveryOptions {
                    concurrency,
                    ..options()
                },
                shutdown,
            );
            let summary = tokio::time::timeout(Duration::from_secs(60), run)
                .await
                .expect("the run ends")
                .expect("deliver_all");
            assert_eq!((summary.sent, summary.failed), (6, 1), "{summary:?}");
            assert_eq!(summary.undelivered[0].organization.as_str(), "panics");
            assert!(summary.undelivered[0]
                .reply
                .contains("could not be composed"));
            assert_eq!(lock(&ledger.states)["panics"].0, State::Failed);
            assert_eq!(ledger.sending(), 0);
        }

        let data = tempfile::tempdir().expect("tempdir");
        let ledger = Arc::new(FakeLedger::new(&[]));
        let (_stop, shutdown) = watch::channel(false);
        let run = deliver_all(
            orgs.iter().map(|o| key(o)).collect(),
            Arc::new(FileTransport::new(data.path())),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::new(PanickingProgress),
            options(),
            shutdown,
        );
        let result = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("the run ends instead of waiting for the dead worker");
        let err = result.expect_err("the run says a worker died").to_string();
        assert!(err.contains("worker stopped"), "{err}");
    }

    #[tokio::test]
    async fn after_shutdown_no_letter_is_started() {
        let data = tempfile::tempdir().expect("tempdir");
        let ledger = Arc::new(FakeLedger {
            states: Mutex::new(HashMap::new()),
        });
        let (stop, shutdown) = watch::channel(false);
        stop.send(true).expect("receiver alive");
        let summary = deliver_all(
            vec![key("a"), key("b")],
            Arc::new(FileTransport::new(data.path())),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::new(Quiet),
            options(),
            shutdown,
        )
        .await
        .expect("deliver_all");
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
        let summary = deliver_all(
            vec![key("a")],
            Arc::new(FileTransport::new(data.path())),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::new(Quiet),
            options(),
            shutdown,
        )
        .await
        .expect("deliver_all");
        assert_eq!(summary.failed, 1, "{summary:?}");
        assert_eq!(lock(&ledger.states)["a"], (State::Failed, 3));
    }

    /// Runs `orgs` through one worker holding at most `max_sending` letters `sending`.
    async fn one_worker(
        orgs: &[&str],
        max_sending: usize,
    ) -> (Arc<CountingLedger>, Arc<Reports>, Summary) {
        let data = tempfile::tempdir().expect("tempdir");
        let ledger = Arc::new(CountingLedger::new(&[("done", State::Sent)]));
        let reports = Arc::new(Reports::default());
        let (_stop, shutdown) = watch::channel(false);
        let summary = deliver_all(
            orgs.iter().map(|o| key(o)).collect(),
            Arc::new(FileTransport::new(data.path())),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::clone(&reports),
            DeliveryOptions {
                concurrency: 1,
                max_sending,
                ..options()
            },
            shutdown,
        )
        .await
        .expect("deliver_all");
        (ledger, reports, summary)
    }

    #[tokio::test]
    async fn one_worker_records_each_letter_with_the_next_claim_and_reports_every_letter() {
        let orgs = ["a", "b", "done", "c", "broken", "d"];
        let (ledger, reports, summary) = one_worker(&orgs, 1).await;
        assert_eq!(
            (summary.sent, summary.skipped, summary.failed),
            (4, 1, 1),
            "{summary:?}"
        );
        // The first claim alone; then each attempt recorded with the claim after it (`b`'s with
        // the declined claim of `done`, then `c` claimed alone); the last alone.
        assert_eq!(
            *lock(&ledger.settles),
            [(0, 1), (1, 1), (1, 1), (0, 1), (1, 1), (1, 1), (1, 0)]
        );
        assert_eq!(*lock(&ledger.most_sending), 1);
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

    #[tokio::test]
    async fn claims_ahead_share_commits_within_the_window_and_every_letter_is_reported_once() {
        let orgs: Vec<String> = (0..40).map(|i| format!("org-{i:02}")).collect();
        let orgs: Vec<&str> = orgs.iter().map(String::as_str).collect();
        for window in [2, 4, 8] {
            let (ledger, reports, summary) = one_worker(&orgs, window).await;
            assert_eq!(summary.sent, 40, "{summary:?}");
            assert!(*lock(&ledger.most_sending) <= window, "window {window}");
            let settles = lock(&ledger.settles).clone();
            assert!(
                settles.iter().all(|(r, c)| r + c > 0 && *c <= window),
                "{settles:?}"
            );
            // A worker claims again once half its window is handed over, so each transaction
            // but the last ones claims at least half a window: several letters per commit.
            assert!(
                settles.len() <= 40 / (window / 2) + 2,
                "window {window}: {settles:?}"
            );
            let claimed: usize = settles.iter().map(|(_, c)| c).sum();
            let recorded: usize = settles.iter().map(|(r, _)| r).sum();
            assert_eq!((claimed, recorded), (40, 40), "{settles:?}");
            let seen: Vec<String> = lock(&reports.0).iter().map(|(o, _)| o.clone()).collect();
            assert_eq!(seen, orgs, "in order, each once");
            assert_eq!(ledger.inner.sending(), 0);
        }
    }

    /// Asks the run to stop when the first letter is reported.
    struct StopAtFirst(Mutex<Option<watch::Sender<bool>>>);

    impl Progress for StopAtFirst {
        fn attempted(&self, _: &LetterKey, _: &AttemptResult, _: bool) {
            if let Some(stop) = lock(&self.0).take() {
                stop.send(true).expect("the run listens");
            }
        }
        fn skipped(&self, _: &LetterKey) {}
    }

    #[tokio::test]
    async fn letters_claimed_ahead_are_given_back_when_the_run_stops() {
        let data = tempfile::tempdir().expect("tempdir");
        let ledger = Arc::new(CountingLedger::new(&[]));
        let (stop, shutdown) = watch::channel(false);
        let orgs: Vec<LetterKey> = (0..20).map(|i| key(&format!("org-{i:02}"))).collect();
        let summary = deliver_all(
            orgs,
            Arc::new(FileTransport::new(data.path())),
            Arc::clone(&ledger),
            Arc::new(FakeComposer),
            Arc::new(StopAtFirst(Mutex::new(Some(stop)))),
            DeliveryOptions {
                concurrency: 1,
                max_sending: 8,
                ..options()
            },
            shutdown,
        )
        .await
        .expect("deliver_all");
        let states = lock(&ledger.inner.states).clone();
        let sent = states.values().filter(|(s, _)| *s == State::Sent).count();
        let given_back: Vec<_> = states
            .iter()
            .filter(|(_, (s, _))| *s == State::Pending)
            .collect();
        assert!(sent >= 1 && !given_back.is_empty(), "{states:?}");
        assert!(given_back.iter().all(|(_, (_, attempts))| *attempts == 0));
        assert_eq!(ledger.inner.sending(), 0, "{states:?}");
        assert_eq!(summary.sent, sent, "{summary:?}");
        assert_eq!(summary.sent + summary.not_attempted, 20, "{summary:?}");
    }

    /// Composes as [`FakeComposer`], and asks the run to stop when `org` is composed a second
    /// time (its retry in this run).
    struct StopAtRetryOf {
        org: &'static str,
        seen: Mutex<u32>,
        stop: Mutex<Option<watch::Sender<bool>>>,
    }

    impl Composer for StopAtRetryOf {
        fn compose(&self, key: &LetterKey) -> Result<Composed, String> {
            if key.organization.as_str() == self.org {
                let mut seen = lock(&self.seen);
                *seen += 1;
                if *seen == 2 {
                    if let Some(stop) = lock(&self.stop).take() {
                        stop.send(true).expect("the run listens");
                    }
                }
            }
            FakeComposer.compose(key)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_claimed_ahead_and_given_back_is_reported_with_its_last_result() {
        // The outbox path is a file, so every attempt is deferred; without backoff the retries
        // of a, b, c are due at once and claimed together, and the stop comes while a's retry
        // is composed: all three retries are given back unattempted.
        let data = tempfile::tempdir().expect("tempdir");
        std::fs::write(data.path().join("outbox"), b"").expect("file");
        let ledger = Arc::new(CountingLedger::new(&[]));
        let (stop, shutdown) = watch::channel(false);
        let summary = deliver_all(
            vec![key("a"), key("b"), key("c")],
            Arc::new(FileTransport::new(data.path())),
            Arc::clone(&ledger),
            Arc::new(StopAtRetryOf {
                org: "a",
                seen: Mutex::new(0),
                stop: Mutex::new(Some(stop)),
            }),
            Arc::new(Quiet),
            DeliveryOptions {
                concurrency: 1,
                max_sending: 4,
                retry: RetryPolicy {
                    max_attempts: 3,
                    backoff_base: Duration::ZERO,
                    backoff_cap: Duration::ZERO,
                },
                ..options()
            },
            shutdown,
        )
        .await
        .expect("deliver_all");
        assert_eq!(ledger.inner.sending(), 0);
        assert_eq!(*lock(&ledger.settles).last().expect("settles"), (0, 3));
        for org in ["a", "b", "c"] {
            // Attempted once, claimed again, given back.
            assert_eq!(lock(&ledger.inner.states)[org].1, 1, "{org}");
        }
        // Reported as they stand, deferred with their last reply; not as never attempted.
        assert_eq!(
            (summary.deferred, summary.not_attempted),
            (3, 0),
            "{summary:?}"
        );
        assert!(summary
            .undelivered
            .iter()
            .all(|u| u.state == State::Deferred && !u.reply.is_empty()));
    }

    /// A journal whose every record fails, as on a full disk.
    struct FullDisk;

    impl Ledger for FullDisk {
        async fn claim(&self, _: LetterKey, _: ClaimPolicy) -> Result<Option<Claim>, JournalError> {
            Ok(None)
        }

        async fn record(&self, _: LetterKey, _: AttemptResult) -> Result<(), JournalError> {
            Err(JournalError::Other {
                path: "var/herald.db".into(),
                message: "disk full".into(),
            })
        }

        async fn release(&self, _: LetterKey) -> Result<(), JournalError> {
            Ok(())
        }
    }

    /// Regression: a claim skipped after a failed record printed as ": not done …", with an
    /// empty path where the journal's file would be.
    #[tokio::test]
    async fn a_step_not_done_says_why_without_an_empty_path() {
        let result = AttemptResult {
            state: State::Sent,
            smtp_code: Some(250),
            reply: "250 2.0.0 Ok".into(),
            recipients: Vec::new(),
            next_attempt_at: None,
        };
        let settled = FullDisk
            .settle(
                vec![(key("a"), result)],
                vec![key("b")],
                ClaimPolicy::default(),
            )
            .await;
        let recorded = settled.recorded[0].as_ref().expect_err("the record fails");
        assert_eq!(recorded.to_string(), "var/herald.db: disk full");
        let claimed = settled.claimed[0]
            .as_ref()
            .expect_err("the claim is not run");
        assert_eq!(
            claimed.to_string(),
            "not done: the journal step before it failed"
        );
    }
}
