//! How long loading a large recipients directory and resolving a statement against it take.
//!
//! Generates, in a temporary folder, a directory of 10,000 organisations with 30,000 aliases
//! spread over several files, and a statement addressed to about 50 of them; prints the median of
//! several runs of `directory::load` (target < 200 ms) and of `statement::parse` +
//! `directory::resolve::resolve` (target < 5 ms). It prints figures and asserts nothing:
//! run it with `cargo bench --bench resolve`.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use herald::directory::{self, resolve::resolve};
use herald::statement::{self, AddresseeSource};

/// The binary's allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ORGANIZATIONS: usize = 10_000;
const FILES: usize = 8;
const NAMED: usize = 50;
const RUNS: usize = 7;

/// Words to build distinct, realistic-looking institution names from.
const KINDS: &[&str] = &[
    "Commission",
    "Council",
    "Institute",
    "Office",
    "Association",
    "Bureau",
];
const TOPICS: &[&str] = &[
    "Human Rights",
    "Refugees",
    "Children",
    "Peace",
    "Justice",
    "Education",
    "Health",
    "Migration",
];

fn name_of(i: usize) -> String {
    let kind = KINDS[i % KINDS.len()];
    let topic = TOPICS[(i / KINDS.len()) % TOPICS.len()];
    format!("{kind} for {topic} of Region {i}")
}

fn write_directory(dir: &Path) -> std::io::Result<()> {
    let per_file = ORGANIZATIONS.div_ceil(FILES);
    for f in 0..FILES {
        let mut text = String::new();
        for i in f * per_file..((f + 1) * per_file).min(ORGANIZATIONS) {
            let name = name_of(i);
            // Three aliases each: an acronym-like code, a variant and a local name.
            let _ = write!(
                text,
                "[[organization]]\nid = \"org-{i}\"\nname = \"{name}\"\n\
                 aliases = [\"R{i}X\", \"{name} (Headquarters)\", \"Regional Body Number {i}\"]\n\
                 emails = [\"office@org-{i}.example\"]\nlanguage = \"en\"\n\
                 salutation = \"Dear Sir or Madam\"\ngroups = [\"group-{}\"]\n\n",
                i % 20
            );
        }
        if f == 0 {
            for g in 0..20 {
                let _ = write!(
                    text,
                    "[[group]]\nid = \"group-{g}\"\nname = \"Network number {g}\"\n\n"
                );
            }
        }
        std::fs::write(dir.join(format!("part-{f:02}.toml")), text)?;
    }
    Ok(())
}

fn statement_text() -> String {
    let step = ORGANIZATIONS / NAMED;
    let names: Vec<String> = (0..NAMED)
        .map(|k| {
            let i = k * step + 7;
            // Mix names and aliases, as a real statement would.
            match k % 3 {
                0 => name_of(i),
                1 => format!("R{i}X"),
                _ => format!("Regional Body Number {i}"),
            }
        })
        .collect();
    format!(
        "Statement on the benchmark of herald\n\n\
         This paragraph stands for the body of the statement.\n\n\
         Sabina Aliyeva\n\
         The Commissioner for Human Rights (Ombudsman)\nof the Republic of Azerbaijan\n\n\
         27 May 2021\n\n\
         This Statement is addressed to the {}, as well as to the Network number 3.\n",
        names.join(", ")
    )
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    write_directory(dir.path())?;

    let mut loads = Vec::with_capacity(RUNS);
    let mut loaded = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let d = directory::load(dir.path())?;
        loads.push(start.elapsed());
        loaded = Some(d);
    }
    let directory = loaded.ok_or("no run")?;
    let aliases: usize = directory
        .organizations
        .iter()
        .map(|o| o.aliases.len())
        .sum();
    println!(
        "load: {} organisations, {aliases} aliases in {FILES} files: median {:?} over {RUNS} runs (target < 200 ms)",
        directory.len(),
        median(loads)
    );

    let text = statement_text();
    let mut resolves = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let statement = statement::parse("bench.txt", "bench.txt", &text)?;
        let source = statement
            .addressees
            .unwrap_or_else(|| AddresseeSource::List(Vec::new()));
        let resolution = resolve(&directory, &source);
        resolves.push(start.elapsed());
        last = Some(resolution);
    }
    let resolution = last.ok_or("no run")?;
    println!(
        "resolve: {} phrases, {} letters, {} unresolved: median {:?} over {RUNS} runs (target < 5 ms)",
        resolution.phrases.len(),
        resolution.letters.len(),
        resolution.unresolved().count(),
        median(resolves)
    );
    Ok(())
}
