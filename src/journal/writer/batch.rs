//! The writer thread: takes every request queued (up to [`MAX_BATCH`]) and runs them in one
//! transaction, so that many state changes share one fsync. A step that fails before it writes
//! needs no undoing; if one fails after writing, the batch runs again with each step in its own
//! savepoint, so that it is undone alone. Nothing is answered before its transaction commits.

use std::sync::atomic::Ordering;
use std::sync::mpsc;

use chrono::Utc;
use rusqlite::TransactionBehavior;
use tokio::sync::oneshot;

use super::super::ops::{ChainHead, Ops};
use super::super::{
    AttemptResult, Claim, ClaimPolicy, Journal, JournalError, LetterKey, PlannedLetter,
    StatementInfo,
};
use super::Counters;

/// Requests executed in one transaction at most; bounds the latency of the first one.
const MAX_BATCH: usize = 512;

pub(super) type Reply<T> = oneshot::Sender<Result<T, JournalError>>;

pub(super) enum Request {
    One(Step),
    /// A worker's records of the letters it attempted, each run whatever became of the others
    /// (an outcome is never dropped for another's failure), then the claims of its next letters,
    /// each run only if every step before it succeeded.
    Settle {
        records: Vec<Step>,
        claims: Vec<Step>,
    },
}

/// When a step of a request runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Runs {
    /// Always: the first step of a request, or a record.
    Always,
    /// Only if every step of its request before it succeeded.
    AfterAllBefore,
}

/// One change to the journal, run in its own savepoint when it shares a transaction.
pub(super) enum Step {
    Claim(LetterKey, ClaimPolicy, Reply<Option<Claim>>),
    Record(LetterKey, AttemptResult, Reply<()>),
    Release(LetterKey, Reply<()>),
    Register(StatementInfo, Vec<PlannedLetter>, Reply<()>),
}

impl Request {
    /// The steps of a request, in order, each with when it runs and whether it opens the request.
    fn steps(self) -> impl Iterator<Item = (Step, Runs, bool)> {
        let steps: Vec<(Step, Runs)> = match self {
            Request::One(step) => vec![(step, Runs::Always)],
            Request::Settle { records, claims } => records
                .into_iter()
                .map(|s| (s, Runs::Always))
                .chain(claims.into_iter().map(|s| (s, Runs::AfterAllBefore)))
                .collect(),
        };
        steps
            .into_iter()
            .enumerate()
            .map(|(i, (step, runs))| (step, runs, i == 0))
    }
}

pub(super) fn run(mut journal: Journal, queue: mpsc::Receiver<Request>, counters: &Counters) {
    while let Ok(first) = queue.recv() {
        let mut batch = Vec::with_capacity(16);
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(request) => batch.push(request),
                Err(_) => break,
            }
        }
        // Counted before the answers go out, so a caller that was answered sees its request.
        let size = batch.len() as u64;
        counters.requests.fetch_add(size, Ordering::Relaxed);
        counters.commits.fetch_add(1, Ordering::Relaxed);
        counters.largest_batch.fetch_max(size, Ordering::Relaxed);
        run_batch(&mut journal, batch);
    }
}

fn run_batch(journal: &mut Journal, batch: Vec<Request>) {
    let steps: Vec<(Step, Runs, bool)> = batch.into_iter().flat_map(Request::steps).collect();
    // Savepoints cost as much as a step, and a step that fails almost always fails before it
    // writes (it checks the letter's state first). So a batch runs without them, and only if a
    // step fails after writing part of itself is the transaction rolled back and the batch run
    // again, each step in its own savepoint, to undo that step alone.
    let outcome = match attempt(journal, &steps, false) {
        Attempt::Replay => attempt(journal, &steps, true),
        other => other,
    };
    let message = match outcome {
        Attempt::Done(outcomes) => {
            for ((step, _, _), outcome) in steps.into_iter().zip(outcomes) {
                step.answer(outcome);
            }
            return;
        }
        Attempt::Failed(message) => message,
        // Only a run without savepoints asks for a replay.
        Attempt::Replay => "journal: a failed request could not be undone alone".to_string(),
    };
    for (step, _, _) in steps {
        let failed = step.outcome(Err(JournalError::Other {
            path: journal.path.clone(),
            message: message.clone(),
        }));
        step.answer(failed);
    }
}

/// How running a batch in one transaction ended.
enum Attempt {
    /// Committed (or, for a request alone, rolled back because it failed): each step's outcome.
    Done(Vec<Outcome>),
    /// A step failed after writing part of itself, and there was no savepoint to undo it alone:
    /// nothing was committed; run the batch again with savepoints.
    Replay,
    /// Nothing of the batch was recorded, for this reason.
    Failed(String),
}

/// Runs `steps` in one transaction and commits it. With `savepoints`, each step runs in its own
/// savepoint, so one that fails is rolled back alone; without, a step that fails before writing
/// needs no undoing, and one that fails after asks for a [`Attempt::Replay`]. A step alone in
/// its transaction needs neither: if it fails, the transaction is rolled back.
fn attempt(journal: &mut Journal, steps: &[(Step, Runs, bool)], savepoints: bool) -> Attempt {
    let path = journal.path.clone();
    let sql = |source| JournalError::Sqlite {
        path: path.clone(),
        source,
    };
    let tx = match journal
        .conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
    {
        Ok(tx) => tx,
        Err(e) => return Attempt::Failed(format!("journal: cannot begin a transaction: {e}")),
    };
    let alone = steps.len() == 1;
    let savepoints = savepoints && !alone;
    let head = ChainHead::default();
    let mut outcomes = Vec::with_capacity(steps.len());
    // Whether every step of the current request so far succeeded.
    let mut all_ok = true;
    for (step, runs, first) in steps {
        if *first {
            all_ok = true;
        }
        if *runs == Runs::AfterAllBefore && !all_ok {
            // A step before this claim failed: the worker stops, this letter stays as it was.
            outcomes.push(step.outcome(Err(JournalError::Other {
                path: path.clone(),
                message: "not done: the journal step before it failed".into(),
            })));
            continue;
        }
        // Savepoints through the statement cache: rusqlite's `Savepoint` parses its SQL anew
        // each time, which cost as much as the request itself.
        if savepoints {
            if let Err(e) = cached(&tx, "SAVEPOINT herald_request") {
                outcomes.push(step.outcome(Err(sql(e))));
                all_ok = false;
                continue;
            }
        }
        let written = tx.total_changes();
        let ops = Ops {
            conn: &tx,
            path: &path,
            owner: journal.owner.as_deref(),
            head: &head,
        };
        let mut outcome = execute(&ops, step);
        let mut ok = outcome.is_ok();
        if savepoints {
            if ok {
                if let Err(e) = cached(&tx, "RELEASE herald_request") {
                    outcome = outcome.with_error(sql(e));
                    ok = false;
                }
            }
            if !ok {
                // Undo this request alone; if even that fails, nothing of the batch can be
                // trusted.
                head.forget();
                let undone = cached(&tx, "ROLLBACK TO herald_request")
                    .and_then(|()| cached(&tx, "RELEASE herald_request"));
                if let Err(e) = undone {
                    return Attempt::Failed(format!(
                        "journal: cannot roll back a failed request: {e}"
                    ));
                }
            }
        } else if !ok && !alone && (tx.total_changes() != written || tx.is_autocommit()) {
            return Attempt::Replay;
        }
        all_ok &= ok;
        outcomes.push(outcome);
    }
    if alone && !all_ok {
        // Rolled back when `tx` is dropped.
        return Attempt::Done(outcomes);
    }
    match tx.commit() {
        Ok(()) => Attempt::Done(outcomes),
        Err(e) => Attempt::Failed(format!(
            "journal: the commit failed, nothing of it was recorded: {e}"
        )),
    }
}

fn cached(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// What one step came to, before it is answered (answers wait for the commit).
enum Outcome {
    Claim(Result<Option<Claim>, JournalError>),
    Unit(Result<(), JournalError>),
}

impl Outcome {
    fn is_ok(&self) -> bool {
        match self {
            Outcome::Claim(r) => r.is_ok(),
            Outcome::Unit(r) => r.is_ok(),
        }
    }

    fn with_error(self, error: JournalError) -> Outcome {
        match self {
            Outcome::Claim(_) => Outcome::Claim(Err(error)),
            Outcome::Unit(_) => Outcome::Unit(Err(error)),
        }
    }
}

impl Step {
    /// A step that did not run (or whose transaction failed), answered with `unit`'s error.
    fn outcome(&self, unit: Result<(), JournalError>) -> Outcome {
        match self {
            Step::Claim(..) => Outcome::Claim(unit.map(|()| None)),
            Step::Record(..) | Step::Release(..) | Step::Register(..) => Outcome::Unit(unit),
        }
    }

    /// Sends `outcome` to whoever asked; an error of either kind fits either reply. A caller
    /// that stopped waiting (its task was cancelled) needs no answer.
    fn answer(self, outcome: Outcome) {
        match (self, outcome) {
            (Step::Claim(_, _, reply), Outcome::Claim(result)) => drop(reply.send(result)),
            (Step::Claim(_, _, reply), Outcome::Unit(result)) => {
                drop(reply.send(result.map(|()| None)))
            }
            (
                Step::Record(_, _, reply) | Step::Release(_, reply) | Step::Register(_, _, reply),
                outcome,
            ) => drop(reply.send(match outcome {
                Outcome::Unit(result) => result,
                Outcome::Claim(result) => result.map(drop),
            })),
        }
    }
}

/// Runs one request.
fn execute(ops: &Ops<'_>, request: &Step) -> Outcome {
    let now = Utc::now();
    match request {
        Step::Claim(key, policy, _) => Outcome::Claim(ops.claim(key, *policy, now)),
        Step::Record(key, result, _) => Outcome::Unit(ops.record(key, result, now)),
        Step::Release(key, _) => Outcome::Unit(ops.release(key, now)),
        Step::Register(statement, letters, _) => {
            Outcome::Unit(ops.register(statement, letters, now))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot unwrap has failed
mod tests {
    use super::super::super::tests::{intact_events, key, planned, statement};
    use super::super::super::State;
    use super::super::tests::sent;
    use super::super::Writer;
    use super::*;

    #[tokio::test]
    async fn a_failing_request_alone_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.db");
        let writer = Writer::open(&path).unwrap();
        writer
            .register(statement(), vec![planned("un")])
            .await
            .unwrap();
        // `un` is pending, not sending: refused, and rolled back without a savepoint.
        let err = writer
            .record(key("un"), sent("250 ok".into()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not `sending`"), "{err}");
        let claim = writer.claim(key("un"), ClaimPolicy::default()).await;
        assert!(claim.unwrap().is_some());
        assert_eq!(writer.stats().commits, 3);
        drop(writer);
        let journal = Journal::open(&path).unwrap();
        let rows = journal.letters_of(&statement().id).unwrap();
        assert_eq!(rows[0].status, State::Sending);
        assert_eq!(intact_events(&journal), 2);
    }

    #[tokio::test]
    async fn a_failing_request_does_not_spoil_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.db");
        let mut journal = Journal::open(&path).unwrap();
        journal
            .register(
                &statement(),
                &[planned("un"), planned("osce")],
                chrono::Utc::now(),
            )
            .unwrap();
        // Queue the requests before the thread starts so that they share one batch.
        let (requests, queue) = mpsc::channel();
        let (a, ra) = oneshot::channel();
        let (b, rb) = oneshot::channel();
        let (c, rc) = oneshot::channel();
        requests
            .send(Request::One(Step::Claim(
                key("un"),
                ClaimPolicy::default(),
                a,
            )))
            .unwrap();
        // `osce` is pending, not sending: this must fail alone.
        requests
            .send(Request::One(Step::Record(
                key("osce"),
                sent("250 ok".into()),
                b,
            )))
            .unwrap();
        requests
            .send(Request::One(Step::Claim(
                key("osce"),
                ClaimPolicy::default(),
                c,
            )))
            .unwrap();
        drop(requests);
        let counters = run_queued(journal, queue);
        // Queued together, the three requests shared one transaction.
        assert_eq!(
            (
                counters.requests.load(Ordering::Relaxed),
                counters.commits.load(Ordering::Relaxed)
            ),
            (3, 1)
        );

        assert_eq!(
            ra.await.unwrap().unwrap(),
            Some(Claim {
                attempt: 1,
                consecutive: 1,
                earlier: Vec::new(),
            })
        );
        let err = rb.await.unwrap().unwrap_err();
        assert!(err.to_string().contains("not `sending`"), "{err}");
        assert!(rc.await.unwrap().unwrap().is_some());

        let journal = Journal::open(&path).unwrap();
        let states: Vec<State> = journal
            .letters_of(&statement().id)
            .unwrap()
            .iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(states, vec![State::Sending, State::Sending]);
        assert_eq!(intact_events(&journal), 4);
    }

    /// Runs the writer's loop over requests queued before it starts (so that they share one
    /// batch) until the queue is closed, and returns its counters.
    fn run_queued(journal: Journal, queue: mpsc::Receiver<Request>) -> Counters {
        std::thread::spawn(move || {
            let counters = Counters::default();
            run(journal, queue, &counters);
            counters
        })
        .join()
        .unwrap()
    }

    /// Each letter's organisation and state, by organisation.
    fn states_by_org(journal: &Journal) -> Vec<(String, State)> {
        let mut states: Vec<(String, State)> = journal
            .letters_of(&statement().id)
            .unwrap()
            .into_iter()
            .map(|r| (r.organization, r.status))
            .collect();
        states.sort();
        states
    }

    #[tokio::test]
    async fn a_request_failing_after_it_wrote_is_undone_alone_and_the_chain_stays_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.db");
        let mut journal = Journal::open(&path).unwrap();
        let orgs = ["un", "osce", "eu"];
        let planned: Vec<_> = orgs.iter().map(|o| planned(o)).collect();
        journal
            .register(&statement(), &planned, chrono::Utc::now())
            .unwrap();
        // A fault in the middle of a claim: its row update has run when its event is refused.
        journal
            .conn
            .execute_batch(
                "CREATE TRIGGER inject_fault BEFORE INSERT ON events \
                 WHEN (NEW.organization = 'osce' AND NEW.to_state = 'sending') \
                 OR (NEW.organization = 'eu' AND NEW.to_state = 'sent') \
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END;",
            )
            .unwrap();
        // Queued before the thread starts, so that the three claims share one batch.
        let (requests, queue) = mpsc::channel();
        let answers: Vec<_> = orgs
            .iter()
            .map(|org| {
                let (reply, answer) = oneshot::channel();
                requests
                    .send(Request::One(Step::Claim(
                        key(org),
                        ClaimPolicy::default(),
                        reply,
                    )))
                    .unwrap();
                answer
            })
            .collect();
        drop(requests);
        let counters = run_queued(journal, queue);
        assert_eq!(counters.commits.load(Ordering::Relaxed), 1);

        let mut results = Vec::new();
        for answer in answers {
            results.push(answer.await.unwrap());
        }
        assert!(results[0].as_ref().unwrap().is_some());
        let err = results[1].as_ref().unwrap_err();
        assert!(err.to_string().contains("injected fault"), "{err}");
        assert!(results[2].as_ref().unwrap().is_some());

        let journal = Journal::open(&path).unwrap();
        let states = states_by_org(&journal);
        assert_eq!(
            states,
            vec![
                ("eu".to_string(), State::Sending),
                ("osce".to_string(), State::Pending),
                ("un".to_string(), State::Sending),
            ]
        );
        // Three creations and two claims; `eu`'s claim event follows `un`'s, not the undone one.
        assert_eq!(intact_events(&journal), 5);

        // The same for an outcome: `eu`'s is refused after its row was updated.
        let (requests, queue) = mpsc::channel();
        let answers: Vec<_> = ["un", "eu"]
            .iter()
            .map(|org| {
                let (reply, answer) = oneshot::channel();
                let result = sent(format!("250 ok {org}"));
                requests
                    .send(Request::One(Step::Record(key(org), result, reply)))
                    .unwrap();
                answer
            })
            .collect();
        drop(requests);
        run_queued(journal, queue);
        let mut results = Vec::new();
        for answer in answers {
            results.push(answer.await.unwrap());
        }
        assert!(results[0].is_ok());
        let err = results[1].as_ref().unwrap_err();
        assert!(err.to_string().contains("injected fault"), "{err}");
        let journal = Journal::open(&path).unwrap();
        let states = states_by_org(&journal);
        assert_eq!(states[0], ("eu".to_string(), State::Sending));
        assert_eq!(states[2], ("un".to_string(), State::Sent));
        assert_eq!(intact_events(&journal), 6);
    }
}
