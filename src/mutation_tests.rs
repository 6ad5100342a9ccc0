//! A seeded property test over the loaders: the seed statement, the shipped recipients files and
//! the shipped configuration, mutated (byte flips, truncation, inserted control characters, huge
//! lines, invalid UTF-8), go through the statement parser, the directory loader and the
//! configuration loader. None may panic, and whatever gets through renders and composes without
//! a panic: a value the loaders accept must be one the letters can carry.

#![allow(clippy::unwrap_used)] // a test that cannot set itself up has failed

use std::path::{Path, PathBuf};

use chrono::DateTime;

use crate::config::Config;
use crate::directory::{self, Directory, Organization};
use crate::letters::{self, compose, Templates};
use crate::statement::{self, Statement};

/// Cases per input kind: 3 × 3,400 > 10,000.
const CASES: usize = 3_400;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// Characters that must never reach a header unchecked.
const CONTROLS: &[&str] = &[
    "\r", "\n", "\r\n", "\0", "\u{1b}", "\u{7}", "\u{85}", "\u{2028}", "\t",
];

/// One mutation of `input`, chosen and placed by `rng`.
fn mutate(rng: &mut fastrand::Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    let at = |rng: &mut fastrand::Rng, len: usize| rng.usize(..=len);
    for _ in 0..rng.usize(1..=3) {
        let len = out.len();
        match rng.u8(..7) {
            // A flipped bit.
            0 if len > 0 => {
                let i = rng.usize(..len);
                out[i] ^= 1 << rng.u8(..8);
            }
            // Truncated.
            1 => out.truncate(at(rng, len)),
            // A control character, often inside a quoted value.
            2 => {
                let c = CONTROLS[rng.usize(..CONTROLS.len())];
                let i = at(rng, len);
                out.splice(i..i, c.bytes());
            }
            // The same, written as a TOML escape (as a user would type it).
            3 => {
                let escapes = ["\\r\\n", "\\n", "\\r", "\\u001b", "\\u0000", "\\t"];
                let e = escapes[rng.usize(..escapes.len())];
                let i = at(rng, len);
                out.splice(i..i, e.bytes());
            }
            // A huge line.
            4 => {
                let i = at(rng, len);
                let c = [b'a', b'"', b'[', b' ', b'='][rng.usize(..5)];
                out.splice(i..i, std::iter::repeat_n(c, rng.usize(1_000..4_000)));
            }
            // Invalid UTF-8.
            5 => {
                let bad: &[&[u8]] = &[b"\xff", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88"];
                let i = at(rng, len);
                out.splice(i..i, bad[rng.usize(..bad.len())].iter().copied());
            }
            // A line moved or duplicated.
            _ => {
                let lines: Vec<&[u8]> = out.split(|&b| b == b'\n').collect();
                if lines.len() > 1 {
                    let from = rng.usize(..lines.len());
                    let mut moved: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
                    let line = moved[from].clone();
                    let to = rng.usize(..moved.len());
                    moved.insert(to, line);
                    out = moved.join(&b'\n');
                }
            }
        }
    }
    out
}

struct Shipped {
    statement: Vec<u8>,
    recipients: Vec<(PathBuf, String)>,
    config: String,
    directory: Directory,
    templates: Templates,
    parsed: Statement,
    sender: crate::config::Sender,
}

fn shipped() -> Shipped {
    let statement = std::fs::read(repo("seeds/2021-05-27-kalbajar-statement.txt")).unwrap();
    let mut recipients: Vec<(PathBuf, String)> = std::fs::read_dir(repo("recipients"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    recipients.sort();
    let config = std::fs::read_to_string(repo("config/herald.toml")).unwrap();
    let parsed_config = Config::parse(&repo("config/herald.toml"), &config).unwrap();
    let text = String::from_utf8(statement.clone()).unwrap();
    Shipped {
        parsed: statement::parse("seed.txt", "seed.txt", &text).unwrap(),
        statement,
        directory: directory::from_sources(&recipients).unwrap(),
        recipients,
        config,
        templates: Templates::load(&repo("templates")).unwrap(),
        sender: parsed_config.sender,
    }
}

/// Renders and composes one letter; any error is fine, a panic is not (the test fails).
fn render_and_compose(
    shipped: &Shipped,
    statement: &Statement,
    organization: &Organization,
    sender: &crate::config::Sender,
) {
    let addressees = vec!["the addressees".to_string()];
    let facts = letters::StatementFacts::new(statement);
    let Ok(mut data) = letters::LetterData::new(statement, &facts, sender, &addressees) else {
        return;
    };
    if data.set_organization(organization).is_err() {
        return;
    }
    let Ok(letter) = shipped.templates.render(&data) else {
        return;
    };
    let date = DateTime::parse_from_rfc3339("2021-05-27T18:30:00+04:00").unwrap();
    let _ = compose::compose(&letter, organization, statement, sender, date);
}

#[test]
fn mutated_statements_parse_or_are_refused_and_what_parses_composes() {
    let shipped = shipped();
    let mut rng = fastrand::Rng::with_seed(0x16_0001);
    let mut parsed = 0;
    for _ in 0..CASES {
        let bytes = mutate(&mut rng, &shipped.statement);
        let Ok(text) = statement::decode("seed.txt", bytes) else {
            continue;
        };
        let Ok(statement) = statement::parse("seed.txt", "seed.txt", &text) else {
            continue;
        };
        parsed += 1;
        // Every parsed statement is written to one organisation; resolving (which searches the
        // directory for suggestions to each unknown phrase) runs on one case in twenty.
        let org = &shipped.directory.organizations[rng.usize(..shipped.directory.len())];
        render_and_compose(&shipped, &statement, org, &shipped.sender);
        if rng.usize(..20) == 0 {
            let _ = crate::plan::resolve(&shipped.directory, statement, "seed.txt");
        }
    }
    assert!(
        parsed > CASES / 4,
        "only {parsed} mutated statements parsed"
    );
}

#[test]
fn mutated_recipients_load_or_are_refused_and_what_loads_composes() {
    let shipped = shipped();
    let mut rng = fastrand::Rng::with_seed(0x16_0002);
    let mut loaded = 0;
    let mut text_files = 0;
    for _ in 0..CASES {
        let which = rng.usize(..shipped.recipients.len());
        let (path, text) = &shipped.recipients[which];
        let bytes = mutate(&mut rng, text.as_bytes());
        // The loader reads bytes and refuses invalid UTF-8 as `load` does.
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        text_files += 1;
        let mut sources = shipped.recipients.clone();
        sources[which] = (path.clone(), text);
        let Ok(directory) = directory::from_sources(&sources) else {
            continue;
        };
        loaded += 1;
        // The organisations of the mutated file are the ones that may carry a mutation.
        let orgs: Vec<&Organization> = directory
            .organizations
            .iter()
            .filter(|o| o.origin.file == *path)
            .collect();
        for _ in 0..2 {
            if orgs.is_empty() {
                break;
            }
            let org = orgs[rng.usize(..orgs.len())];
            render_and_compose(&shipped, &shipped.parsed, org, &shipped.sender);
        }
    }
    // The shipped files are mostly non-ASCII (names in four languages), so many mutations are
    // no longer UTF-8; of those still text, enough must load for the render path to be tried.
    assert!(
        loaded > text_files / 10,
        "only {loaded} of {text_files} mutated directories still text loaded"
    );
}

#[test]
fn mutated_configurations_load_or_are_refused_and_what_loads_composes() {
    let shipped = shipped();
    let mut rng = fastrand::Rng::with_seed(0x16_0003);
    let path = repo("config/herald.toml");
    let mut loaded = 0;
    let org = &shipped.directory.organizations[0];
    for _ in 0..CASES {
        let bytes = mutate(&mut rng, shipped.config.as_bytes());
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let Ok(config) = Config::parse(&path, &text) else {
            continue;
        };
        loaded += 1;
        render_and_compose(&shipped, &shipped.parsed, org, &config.sender);
    }
    assert!(
        loaded > CASES / 10,
        "only {loaded} mutated configurations loaded"
    );
}
