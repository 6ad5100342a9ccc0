//! What the journal costs per letter when nothing else runs: the `dispatch` path of claims and
//! outcomes through the [`Writer`], without rendering or SMTP.
//!
//! Registers one statement of 10,000 letters in a fresh journal (under `target/`, on the same
//! disk as a real journal; `synchronous = FULL`, so every commit is an fsync), then runs S
//! sessions, each doing what a delivery worker does with a window of one: settle the outcome of
//! its last letter together with the claim of its next one, and wait for that commit. Prints, for
//! S = 1, 4 and 16 (or the counts `SESSIONS` names), letters/s, the CPU time of the whole process
//! per letter, and letters per commit; median of 3 runs each. Asserts nothing:
//! `cargo bench --bench journal`.

use std::path::Path;
use std::time::{Duration, Instant};

use herald::directory::OrgId;
use herald::journal::{
    AttemptResult, ClaimPolicy, LetterKey, PlannedLetter, State, StatementInfo, Writer,
};
use herald::statement::StatementId;

/// The binary's allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LETTERS: usize = 10_000;
const RUNS: usize = 3;

/// The session counts to measure: `SESSIONS="1 16"` picks some, as in `bench/dispatch`.
fn sessions() -> Vec<usize> {
    std::env::var("SESSIONS")
        .ok()
        .map(|v| {
            v.split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect()
        })
        .filter(|v: &Vec<usize>| !v.is_empty())
        .unwrap_or_else(|| vec![1, 4, 16])
}

/// User plus system CPU time of this process so far (`/proc/self/stat`, in clock ticks of 10 ms
/// on Linux; good enough over runs of a second or more).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // Fields 14 and 15 (utime, stime) of stat(5), counted from the state (field 3) at index 0.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn statement() -> Result<StatementInfo, Box<dyn std::error::Error>> {
    Ok(StatementInfo {
        id: StatementId::parse("2021-05-27-1a2b3c4d").ok_or("statement id")?,
        title: "On the Kalbajar district".into(),
        source: "inbox/kalbajar.txt".into(),
        held: false,
        file_name: "kalbajar.txt".into(),
        text: "On the Kalbajar district\n\nThis Statement is addressed to the UN.".into(),
    })
}

fn sent(org: &str) -> AttemptResult {
    AttemptResult {
        state: State::Sent,
        smtp_code: Some(250),
        reply: format!("250 2.0.0 Ok: queued as {org}"),
        recipients: Vec::new(),
        next_attempt_at: None,
    }
}

struct Figures {
    wall: Duration,
    cpu: Duration,
    per_commit: f64,
}

async fn run(dir: &Path, sessions: usize) -> Result<Figures, Box<dyn std::error::Error>> {
    let path = dir.join(format!("journal-{sessions}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let writer = Writer::open(&path)?;
    let statement = statement()?;
    let orgs: Vec<OrgId> = (0..LETTERS)
        .map(|i| OrgId::new(&format!("org-{i}")).ok_or("org id"))
        .collect::<Result<_, _>>()?;
    let planned = orgs
        .iter()
        .map(|org| PlannedLetter {
            organization: org.clone(),
            to: vec![format!("office@{}.example", org.as_str())],
            cc: Vec::new(),
            message_id: format!("<2021-05-27-1a2b3c4d.{}@ombudsman.example>", org.as_str()),
        })
        .collect();
    writer.register(statement.clone(), planned).await?;
    let before = writer.stats();
    let (wall, cpu) = (Instant::now(), cpu_time());
    let tasks: Vec<_> = (0..sessions)
        .map(|s| {
            let writer = writer.clone();
            let id = statement.id.clone();
            let mine: Vec<OrgId> = orgs.iter().skip(s).step_by(sessions).cloned().collect();
            tokio::spawn(async move {
                let key = |org: &OrgId| LetterKey {
                    statement: id.clone(),
                    organization: org.clone(),
                };
                let mut last: Option<&OrgId> = None;
                for org in mine.iter().map(Some).chain(std::iter::once(None)) {
                    let records = last
                        .map(|o| (key(o), sent(o.as_str())))
                        .into_iter()
                        .collect();
                    let claims = org.map(key).into_iter().collect();
                    let settled = writer.settle(records, claims, ClaimPolicy::default()).await;
                    for r in settled.recorded {
                        r?;
                    }
                    for c in settled.claimed {
                        c?.ok_or("a pending letter was not claimed")?;
                    }
                    last = org;
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
        })
        .collect();
    for task in tasks {
        task.await?.map_err(|e| e.to_string())?;
    }
    let figures = Figures {
        wall: wall.elapsed(),
        cpu: cpu_time().saturating_sub(cpu),
        per_commit: LETTERS as f64 / (writer.stats().commits - before.commits).max(1) as f64,
    };
    drop(writer);
    Ok(figures)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Under target/, on the same disk as a real journal.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    for sessions in sessions() {
        let mut figures = Vec::new();
        for _ in 0..RUNS {
            figures.push(runtime.block_on(run(dir.path(), sessions))?);
        }
        figures.sort_by_key(|f| f.wall);
        let f = &figures[RUNS / 2];
        println!(
            "journal  sessions={sessions:<2}  {LETTERS} letters  {:6.2} s  {:6.0} letters/s  \
             CPU {:5.1} µs/letter  {:5.1} letters/commit",
            f.wall.as_secs_f64(),
            LETTERS as f64 / f.wall.as_secs_f64(),
            f.cpu.as_secs_f64() * 1e6 / LETTERS as f64,
            f.per_commit,
        );
    }
    Ok(())
}
