//! Group commit: one thread owns a [`Journal`] and runs every queued request inside one
//! transaction, so that under load many state changes share one fsync.
//!
//! Nothing is acknowledged before the transaction that holds it has committed: with
//! `synchronous = FULL` an answered `claim` is a durable `sending` mark. In a batch of several, one
//! request that fails is undone alone and the rest of the batch still commits: a request that
//! fails before it writes (the usual case: its state check refused it) needs no undoing, and if
//! one fails after writing, the batch runs again with each request in its own savepoint. A request
//! alone in its transaction fails by rolling the transaction back; if the commit itself fails,
//! every request of the batch gets the error.
//!
//! This file holds the handle the rest of herald uses (and the engine's `Ledger` on it); the
//! thread and how it runs a batch are in `batch`.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use tokio::sync::oneshot;

use super::{
    AttemptResult, Claim, ClaimPolicy, Journal, JournalError, LetterKey, PlannedLetter,
    StatementInfo,
};
use crate::delivery::Ledger;

mod batch;

use batch::{run, Reply, Request, Step};

/// The answers to [`Writer::settle`], in the order of its records and claims.
#[derive(Debug)]
pub struct Settled {
    pub recorded: Vec<Result<(), JournalError>>,
    pub claimed: Vec<Result<Option<Claim>, JournalError>>,
}

/// A cloneable async handle to the journal's writer thread.
#[derive(Clone)]
pub struct Writer {
    requests: mpsc::Sender<Request>,
    path: Arc<std::path::Path>,
    counters: Arc<Counters>,
}

/// How well group commit is batching: requests answered and the commits that carried them.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    commits: AtomicU64,
    largest_batch: AtomicU64,
}

/// A snapshot of the writer's `Counters`, for a run's closing log line and the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    pub(crate) requests: u64,
    /// Transactions committed (or attempted): one fsync each.
    pub commits: u64,
    pub(crate) largest_batch: u64,
}

impl Writer {
    /// Opens the journal at `path` and starts its writer thread. The thread ends once every
    /// handle has been dropped and the queued requests are answered.
    pub fn open(path: &std::path::Path) -> Result<Writer, JournalError> {
        Writer::start(Journal::open(path)?)
    }

    /// Starts the writer thread on an open journal.
    pub(crate) fn start(journal: Journal) -> Result<Writer, JournalError> {
        let path = journal.path.clone();
        let (requests, queue) = mpsc::channel();
        let counters = Arc::new(Counters::default());
        let thread_counters = Arc::clone(&counters);
        thread::Builder::new()
            .name("herald-journal".into())
            .spawn(move || run(journal, queue, &thread_counters))
            .map_err(|e| JournalError::Other {
                path: path.clone(),
                message: format!("cannot start the journal writer: {e}"),
            })?;
        Ok(Writer {
            requests,
            path: Arc::from(path),
            counters,
        })
    }

    /// Requests and commits so far.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            requests: self.counters.requests.load(Ordering::Relaxed),
            commits: self.counters.commits.load(Ordering::Relaxed),
            largest_batch: self.counters.largest_batch.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// Queues a request now, when called, not when the answer is first awaited: the caller can
    /// do other work (compose the next letter) while the transaction commits.
    fn submit<T: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<T>) -> Request,
    ) -> impl Future<Output = Result<T, JournalError>> + Send + 'static {
        let (reply, answer) = oneshot::channel();
        // If the thread has stopped, the request and its reply are dropped here and the answer
        // below reports it.
        let _ = self.requests.send(make(reply));
        let path = Arc::clone(&self.path);
        async move { answer.await.map_err(|_| stopped(&path))? }
    }

    /// Moves the letter to `sending` if `policy` allows it from its current state, at the current
    /// time; answered once durable. Queued when called.
    pub(crate) fn claim(
        &self,
        key: LetterKey,
        policy: ClaimPolicy,
    ) -> impl Future<Output = Result<Option<Claim>, JournalError>> + Send + 'static {
        self.submit(move |reply| Request::One(Step::Claim(key, policy, reply)))
    }

    /// Records the outcome of an attempt on a letter that is `sending`, at the current time;
    /// answered once durable. Queued when called.
    pub(crate) fn record(
        &self,
        key: LetterKey,
        result: AttemptResult,
    ) -> impl Future<Output = Result<(), JournalError>> + Send + 'static {
        self.submit(move |reply| Request::One(Step::Record(key, result, reply)))
    }

    /// Records each attempt of `records`, then claims each letter of `claims`, in that order and
    /// in one transaction: a worker pays one commit for the letters it attempted and the next
    /// ones it takes. Every record is tried (one failing does not lose the others' outcomes); a
    /// claim runs only if every step before it succeeded. Every answer comes once that
    /// transaction is durable; a claim not run answers with an error, and its letter is left as
    /// it was. Queued when called.
    pub fn settle(
        &self,
        records: Vec<(LetterKey, AttemptResult)>,
        claims: Vec<LetterKey>,
        policy: ClaimPolicy,
    ) -> impl Future<Output = Settled> + Send + 'static {
        let mut record_steps = Vec::with_capacity(records.len());
        let mut claim_steps = Vec::with_capacity(claims.len());
        let mut recorded = Vec::with_capacity(records.len());
        let mut claimed = Vec::with_capacity(claims.len());
        for (key, result) in records {
            let (reply, answer) = oneshot::channel();
            record_steps.push(Step::Record(key, result, reply));
            recorded.push(answer);
        }
        for key in claims {
            let (reply, answer) = oneshot::channel();
            claim_steps.push(Step::Claim(key, policy, reply));
            claimed.push(answer);
        }
        if !(record_steps.is_empty() && claim_steps.is_empty()) {
            let _ = self.requests.send(Request::Settle {
                records: record_steps,
                claims: claim_steps,
            });
        }
        let path = Arc::clone(&self.path);
        async move {
            let mut settled = Settled {
                recorded: Vec::with_capacity(recorded.len()),
                claimed: Vec::with_capacity(claimed.len()),
            };
            for answer in recorded {
                let r = answer.await.map_err(|_| stopped(&path));
                settled.recorded.push(r.and_then(|r| r));
            }
            for answer in claimed {
                let r = answer.await.map_err(|_| stopped(&path));
                settled.claimed.push(r.and_then(|r| r));
            }
            settled
        }
    }

    /// Gives back a letter claimed but never offered to the server, as it was before the claim, at
    /// the current time; answered once durable. Queued when called.
    pub(crate) fn release(
        &self,
        key: LetterKey,
    ) -> impl Future<Output = Result<(), JournalError>> + Send + 'static {
        self.submit(move |reply| Request::One(Step::Release(key, reply)))
    }

    /// Records the statement and its letters as `pending`, once (letters already known keep their
    /// state; a letter not yet sent gets its addresses updated), at the current time; answered
    /// once durable.
    pub async fn register(
        &self,
        statement: StatementInfo,
        letters: Vec<PlannedLetter>,
    ) -> Result<(), JournalError> {
        self.submit(move |reply| Request::One(Step::Register(statement, letters, reply)))
            .await
    }
}

// Forwarded without `async fn`, which would queue each request only when first awaited: the
// engine composes the next letter while its claim commits.
impl Ledger for Writer {
    fn claim(
        &self,
        key: LetterKey,
        policy: ClaimPolicy,
    ) -> impl Future<Output = Result<Option<Claim>, JournalError>> + Send {
        Writer::claim(self, key, policy)
    }

    fn record(
        &self,
        key: LetterKey,
        result: AttemptResult,
    ) -> impl Future<Output = Result<(), JournalError>> + Send {
        Writer::record(self, key, result)
    }

    fn release(&self, key: LetterKey) -> impl Future<Output = Result<(), JournalError>> + Send {
        Writer::release(self, key)
    }

    fn settle(
        &self,
        records: Vec<(LetterKey, AttemptResult)>,
        claims: Vec<LetterKey>,
        policy: ClaimPolicy,
    ) -> impl Future<Output = Settled> + Send {
        Writer::settle(self, records, claims, policy)
    }
}

fn stopped(path: &std::path::Path) -> JournalError {
    JournalError::Other {
        path: path.to_path_buf(),
        message: "the journal writer has stopped".into(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::super::tests::{intact_events, key, planned, statement};
    use super::super::State;
    use super::*;

    pub(super) fn sent(reply: String) -> AttemptResult {
        AttemptResult {
            state: State::Sent,
            smtp_code: Some(250),
            reply,
            recipients: vec![],
            next_attempt_at: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_are_all_acknowledged_and_durable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.db");
        let writer = Writer::open(&path).unwrap();
        let orgs: Vec<String> = (0..300).map(|i| format!("org-{i}")).collect();
        writer
            .register(statement(), orgs.iter().map(|o| planned(o)).collect())
            .await
            .unwrap();

        let tasks: Vec<_> = orgs
            .iter()
            .map(|org| {
                let writer = writer.clone();
                let org = org.clone();
                tokio::spawn(async move {
                    let claim = writer.claim(key(&org), ClaimPolicy::default()).await?;
                    // A second claim of a letter already `sending` must be refused.
                    let again = writer.claim(key(&org), ClaimPolicy::default()).await?;
                    writer
                        .record(key(&org), sent(format!("250 ok {org}")))
                        .await?;
                    Ok::<_, JournalError>((claim, again))
                })
            })
            .collect();
        for task in tasks {
            let (claim, again) = task.await.unwrap().unwrap();
            assert_eq!(
                claim,
                Some(Claim {
                    attempt: 1,
                    consecutive: 1,
                    earlier: Vec::new(),
                })
            );
            assert_eq!(again, None);
        }
        drop(writer);

        let journal = Journal::open(&path).unwrap();
        let rows = journal.letters_of(&statement().id).unwrap();
        assert_eq!(rows.len(), orgs.len());
        for row in &rows {
            assert_eq!(row.status, State::Sent);
            assert_eq!(row.smtp_reply, Some(format!("250 ok {}", row.organization)));
        }
        let events = orgs.len() as u64 * 3;
        assert_eq!(intact_events(&journal), events);
    }

    #[tokio::test]
    async fn records_and_the_next_claims_share_one_commit_and_a_failed_record_claims_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.db");
        let writer = Writer::open(&path).unwrap();
        let orgs = ["un", "osce", "eu", "coe", "oic"];
        writer
            .register(statement(), orgs.iter().map(|o| planned(o)).collect())
            .await
            .unwrap();
        let first = writer
            .settle(vec![], vec![key("un"), key("osce")], ClaimPolicy::default())
            .await;
        assert!(first.recorded.is_empty());
        assert_eq!(first.claimed.len(), 2);
        assert!(first.claimed.iter().all(|c| matches!(c, Ok(Some(_)))));
        let settled = writer
            .settle(
                vec![
                    (key("un"), sent("250 ok".into())),
                    (key("osce"), sent("250 ok".into())),
                ],
                vec![key("eu"), key("un")],
                ClaimPolicy::default(),
            )
            .await;
        assert!(settled.recorded.iter().all(Result::is_ok), "{settled:?}");
        assert_eq!(
            settled.claimed[0]
                .as_ref()
                .unwrap()
                .as_ref()
                .map(|c| c.attempt),
            Some(1)
        );
        // `un` was just recorded `sent`: not claimable again.
        assert_eq!(settled.claimed[1].as_ref().unwrap(), &None);
        // Register, the first settle, the second: three commits.
        assert_eq!(writer.stats().commits, 3);
        // `coe` is pending, not sending: its record fails; `eu`'s record still runs (an outcome
        // is never lost for another's failure), the claim after them does not.
        let settled = writer
            .settle(
                vec![
                    (key("coe"), sent("250 ok".into())),
                    (key("eu"), sent("250 ok".into())),
                ],
                vec![key("oic")],
                ClaimPolicy::default(),
            )
            .await;
        assert!(settled.recorded[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("not `sending`"));
        assert!(settled.recorded[1].is_ok(), "{settled:?}");
        assert!(settled.claimed[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("not done"));
        drop(writer);
        let journal = Journal::open(&path).unwrap();
        let states: Vec<(String, State)> = journal
            .letters_of(&statement().id)
            .unwrap()
            .into_iter()
            .map(|r| (r.organization.to_string(), r.status))
            .collect();
        let state = |org: &str| states.iter().find(|(o, _)| o == org).map(|(_, s)| *s);
        assert_eq!(state("un"), Some(State::Sent));
        assert_eq!(state("osce"), Some(State::Sent));
        assert_eq!(state("eu"), Some(State::Sent));
        assert_eq!(state("coe"), Some(State::Pending));
        assert_eq!(state("oic"), Some(State::Pending));
        // One event per registered letter, then claim un, osce, record un, osce, claim eu, record
        // eu: the failed record and the claim after it left none.
        assert_eq!(intact_events(&journal), 5 + 6);
    }

    #[tokio::test]
    async fn a_released_letter_is_as_before_its_claim_and_the_journal_stays_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.db");
        let writer = Writer::open(&path).unwrap();
        writer
            .register(statement(), vec![planned("un"), planned("osce")])
            .await
            .unwrap();
        let before = Journal::open(&path)
            .unwrap()
            .letters_of(&statement().id)
            .unwrap();
        // `osce` is deferred once (with a reply, a next attempt and one address's outcome), then
        // claimed again; `un` is claimed from pending. Both are released.
        let deferred = AttemptResult {
            state: State::Deferred,
            smtp_code: Some(451),
            reply: "451 4.3.0 try later".into(),
            recipients: vec![super::super::RecipientOutcome {
                address: "a@osce.example".into(),
                accepted: true,
                code: Some(250),
                reply: "250 ok".into(),
            }],
            next_attempt_at: Some(chrono::Utc::now()),
        };
        assert!(writer
            .claim(key("osce"), ClaimPolicy::default())
            .await
            .unwrap()
            .is_some());
        writer.record(key("osce"), deferred).await.unwrap();
        // Its address is corrected before the retry: an event that carries neither the
        // outcomes nor the next attempt, which the release must look past.
        let mut corrected = planned("osce");
        corrected.to = vec!["desk@osce.example".into()];
        writer.register(statement(), vec![corrected]).await.unwrap();
        let deferred_row = Journal::open(&path)
            .unwrap()
            .letters_of(&statement().id)
            .unwrap();
        let settled = writer
            .settle(vec![], vec![key("un"), key("osce")], ClaimPolicy::default())
            .await;
        assert!(settled.claimed.iter().all(|c| matches!(c, Ok(Some(_)))));
        writer.release(key("un")).await.unwrap();
        writer.release(key("osce")).await.unwrap();
        // Only a `sending` letter can be released.
        let err = writer.release(key("un")).await.unwrap_err();
        assert!(err.to_string().contains("not `sending`"), "{err}");
        drop(writer);

        let journal = Journal::open(&path).unwrap();
        let after = journal.letters_of(&statement().id).unwrap();
        let row = |rows: &[super::super::LetterRow], org: &str| {
            let r = rows
                .iter()
                .find(|r| r.organization.as_str() == org)
                .unwrap()
                .clone();
            (
                r.status,
                r.attempts,
                r.smtp_code,
                r.smtp_reply,
                r.recipients,
                r.next_attempt_at,
            )
        };
        assert_eq!(row(&after, "un"), row(&before, "un"));
        assert_eq!(row(&after, "osce"), row(&deferred_row, "osce"));
        // The claims and releases are events like any other; verify replays them.
        assert!(
            row(&after, "osce").5.is_some(),
            "the next attempt time is kept"
        );
        assert_eq!(intact_events(&journal), 2 + 2 + 1 + 2 + 2);
    }
}
