//! How fast letters are rendered and composed, without files or network: the CPU part of a
//! dry run and of every send.
//!
//! Renders the seed statement for every organisation of the shipped directory, round after round
//! until 20,000 letters, and prints letters/s for rendering alone, for rendering plus composing
//! with the attachment encoded once per statement ([`compose::Prepared`], what herald does), and
//! for rendering plus composing with the attachment encoded per letter, side by side in one run.
//! Asserts nothing: run it with `cargo bench --bench render`.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::DateTime;
use herald::config::Sender;
use herald::directory;
use herald::letters::compose::{self, Prepared};
use herald::letters::{LetterData, StatementFacts, Templates};
use herald::statement;

/// The binary's allocator (src/main.rs), so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LETTERS: usize = 20_000;
const RUNS: usize = 3;

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let directory = directory::load(&root.join("recipients"))?;
    let templates = Templates::load(&root.join("templates"))?;
    let file = "2021-05-27-kalbajar-statement.txt";
    let text = std::fs::read_to_string(root.join("seeds").join(file))?;
    let statement = statement::parse(file, file, &text)?;
    let sender = Sender {
        name: "Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan".into(),
        email: "statements@ombudsman.example".parse()?,
        reply_to: Some("office@ombudsman.example".parse()?),
    };
    let date = DateTime::parse_from_rfc3339("2021-05-27T18:30:00+04:00")?;
    let orgs = &directory.organizations;
    let addressees: Vec<String> = Vec::new();
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();

    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Render,
        Prepared,
        PerLetter,
    }
    for (mode, label) in [
        (Mode::Render, "render only"),
        (Mode::Prepared, "render + compose, attachment encoded once"),
        (
            Mode::PerLetter,
            "render + compose, attachment encoded per letter",
        ),
    ] {
        // `cargo bench --bench render -- compose` runs only the measurements whose label has
        // that word (for profiling one of them).
        if !filters.is_empty() && !filters.iter().any(|f| label.contains(f.as_str())) {
            continue;
        }
        let mut runs = Vec::with_capacity(RUNS);
        let mut bytes = 0usize;
        for _ in 0..RUNS {
            let start = Instant::now();
            let prepared = Prepared::new(&statement, &sender);
            let facts = StatementFacts::new(&statement);
            let mut data = LetterData::new(&statement, &facts, &sender, &addressees)?;
            bytes = 0;
            for i in 0..LETTERS {
                let org = &orgs[i % orgs.len()];
                data.set_organization(org)?;
                let letter = templates.render(&data)?;
                bytes += match mode {
                    Mode::Render => letter.text.len() + letter.html.len(),
                    Mode::Prepared => prepared
                        .compose(&letter, org, &statement, date)?
                        .bytes
                        .len(),
                    Mode::PerLetter => compose::compose(&letter, org, &statement, &sender, date)?
                        .bytes
                        .len(),
                };
            }
            runs.push(start.elapsed());
        }
        let m = median(runs);
        let rate = LETTERS as f64 / m.as_secs_f64();
        println!(
            "{label}: {LETTERS} letters ({} organisations, {} MB) median {m:?} over {RUNS} runs: {rate:.0} letters/s",
            orgs.len(),
            bytes / 1_000_000
        );
    }
    Ok(())
}
