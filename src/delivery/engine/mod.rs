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
//!
//! This file holds the engine's seams (`Ledger`, `Composer`, `Progress`), its options, the shared
//! queue and the run as a whole; the loop of one worker is in `worker`.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::classify::{classify, Outcome};
use super::rate::RateLimiter;
use super::retry::{random_jitter, RetryPolicy};
use super::state::{AttemptResult, Claim, ClaimPolicy, State};
use super::{Connection, DeliveryError, EndOfDataMark, Summary, Transport};
use crate::directory::OrgId;
use crate::journal::marks::Marks;
use crate::journal::{JournalError, LetterKey, Settled};
use crate::letters::compose::Composed;

mod worker;

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
    pub(crate) concurrency: usize,
    /// One limit shared by every worker; 0 = none.
    pub(crate) rate_per_minute: u32,
    pub(crate) retry: RetryPolicy,
    pub(crate) claim: ClaimPolicy,
    /// A deferred letter whose next attempt is due within this is retried in the same run.
    pub(crate) retry_within: Duration,
    /// Letters that may be `sending` at once over all workers (at least one per worker): claimed
    /// ahead in one commit while earlier ones are handed over. A power loss leaves at most this
    /// many `uncertain`.
    pub(crate) max_sending: usize,
    /// Where each attempt leaves its end-of-data mark; `None` leaves none (tests of the engine
    /// alone: without marks, recovery would give back letters that may have been delivered).
    pub(crate) marks: Option<Arc<Marks>>,
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
    pub(crate) organization: OrgId,
    pub(crate) state: State,
    pub(crate) smtp_code: Option<u16>,
    pub(crate) reply: String,
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
        let task = tokio::spawn(worker::run(Arc::clone(&shared), shutdown.clone()));
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::delivery::file::FileTransport;
    use crate::statement::StatementId;

    /// The journal's claim rule on a map, counting claims.
    pub(super) struct FakeLedger {
        pub(super) states: Mutex<HashMap<String, (State, u32)>>,
    }

    impl FakeLedger {
        pub(super) fn new(states: &[(&str, State)]) -> FakeLedger {
            FakeLedger {
                states: Mutex::new(
                    states
                        .iter()
                        .map(|(org, state)| (org.to_string(), (*state, 1)))
                        .collect(),
                ),
            }
        }

        pub(super) fn sending(&self) -> usize {
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
    pub(super) struct CountingLedger {
        pub(super) inner: FakeLedger,
        pub(super) settles: Mutex<Vec<(usize, usize)>>,
        pub(super) most_sending: Mutex<usize>,
    }

    impl CountingLedger {
        pub(super) fn new(states: &[(&str, State)]) -> CountingLedger {
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
    pub(super) struct Reports(pub(super) Mutex<Vec<(String, State)>>);

    impl Progress for Reports {
        fn attempted(&self, key: &LetterKey, result: &AttemptResult, _: bool) {
            lock(&self.0).push((key.organization.as_str().to_string(), result.state));
        }
        fn skipped(&self, key: &LetterKey) {
            lock(&self.0).push((key.organization.as_str().to_string(), State::Pending));
        }
    }

    pub(super) struct FakeComposer;

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

    pub(super) struct Quiet;

    impl Progress for Quiet {
        fn attempted(&self, _: &LetterKey, _: &AttemptResult, _: bool) {}
        fn skipped(&self, _: &LetterKey) {}
    }

    pub(super) fn key(org: &str) -> LetterKey {
        LetterKey {
            statement: StatementId::parse("2021-05-27-1a2b3c4d").expect("id"),
            organization: OrgId::new(org).expect("org"),
        }
    }

    pub(super) fn options() -> DeliveryOptions {
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
