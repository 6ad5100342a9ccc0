//! One delivery worker: takes letters from the shared queue and claims them ahead, up to its
//! window, in the journal transaction that records its last outcomes; offers each claimed letter
//! to the server over its own connection, composing the next while a commit runs; and gives back
//! what it claimed but never offered when the run stops.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::FutureExt as _;
use tokio::sync::watch;
use tokio::time::Instant;

use super::*;

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

pub(super) async fn run<L: Ledger, C: Composer, P: Progress>(
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
    use super::super::tests::*;
    use super::*;
    use crate::delivery::file::FileTransport;

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
}
