//! The statements corpus: herald scored on realistic statements against a clerk's expectations.
//!
//! `tests/statements/` holds statements (`<name>.txt`: press statements, appeals, open letters,
//! declarations in English, French, Russian and Azerbaijani) and beside each one the expectation
//! a careful clerk wrote from the statement and the shipped recipients directory, before herald
//! was run on it (`<name>.expect.toml`):
//!
//! ```toml
//! outcome = "resolved"          # or "refused": herald must exit 2
//! date = "2022-07-30"           # omitted: the statement is undated
//! why = "…"                     # optional, here and in each phrase: the reason for a decision
//! passages = [5, 9]             # refused for disagreeing passages: their line numbers
//! [[phrase]]
//! text = "UN Secretary-General" # as written in the statement
//! organizations = ["un-secretary-general"]  # [] = herald must refuse this phrase
//! ```
//!
//! A refused statement whose passages disagree lists no phrase (the statement as a whole is
//! refused) but the lines of those passages, which herald's refusal must name. Adding a statement
//! is adding these two files.
//!
//! Each statement is copied into a workspace holding the shipped directory, and
//! `herald resolve <file> --format json` is run on it. Pairing an expected phrase with one of
//! herald's `addressees`: both are reduced to a key — Unicode compatibility form, lower case,
//! diacritics and every punctuation mark dropped, whitespace (non-breaking too) collapsed, a
//! leading list marker (`•`, `-`, `*`, `–`, `1.`, `a)`, `(iv)`) and leading or trailing function
//! words of the four languages (`the`, `to`, `and`, `as well as`; `au`, `aux`, `à`, `l'`, `du`,
//! `de la`, `des`, `et`, `ainsi qu'`; `в`, `к`, `и`, `а также`; `və`, `həmçinin`) removed — and an
//! expected phrase pairs with the first unpaired phrase of herald's that has the same key. The
//! organisations are never treated tolerantly: they are compared as sets of ids.
//!
//! Each expected phrase counts once:
//! - **right**: paired, and herald gave exactly the expected organisations (none for a phrase
//!   expected refused);
//! - **wrongly refused**: paired, herald gave no organisation not expected but lacks some that
//!   are (typically: it refused a phrase the directory resolves);
//! - **wrongly resolved**: paired, and herald gave some organisation not expected for it;
//! - **missed**: no phrase of herald's pairs with it (not found, or split or joined otherwise).
//!
//! Each statement can add findings of its own, listed like the phrases':
//! - wrongly resolved, once per statement expected refused that herald did not refuse with exit
//!   2, and once per organisation herald would write to (exit 0, `letters`) that no expected
//!   phrase of the statement names, unless a paired phrase already counted it;
//! - wrongly refused, once per statement expected resolved that herald refused (exit 2, or no
//!   JSON) while every one of its phrases is right — the refusal came from elsewhere (a decoy,
//!   a phrase the clerk does not see) — and once per organisation an expected phrase names that
//!   herald would not write to (exit 0), unless a phrase finding already counted it. An undated
//!   statement may exit 0 or 2: an undated statement is not dispatched without
//!   `--allow-undated`.
//! - dates: herald's `statement.date` must equal the expected date, or be null when none is
//!   expected (for a statement expected refused, checked only if herald printed its JSON);
//! - passages: a statement refused for disagreeing passages must be refused with each of their
//!   line numbers on stderr (as a number of its own, whatever the wording around it).
//!
//! So the four phrase counts add up to the phrases plus the statement findings. The test prints
//! `statements: N phrases, N right, N wrongly refused, N wrongly resolved, N missed`, a line
//! with the statements, wrong dates and refusals not naming their passages, then one line per
//! finding (file, phrase, expected, got), and fails unless every count but `right` is 0.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::common::directory;
use crate::support::workspace::Workspace;

/// The fewest statements the corpus may hold (issue 12 asks for at least 40).
const MINIMUM_STATEMENTS: usize = 45;

/// Words dropped at the start of a phrase before pairing, per language, as the key spells
/// them: lower case, diacritics dropped (`a` covers `à`), `l'` and `qu'` cut at the apostrophe.
const LEADING_FUNCTION_WORDS: [&str; 4] = [
    "the to and as well also or",
    "a au aux l la le les du de des d et ainsi que qu",
    "в во к ко и а также",
    "və həmcinin",
];
/// Conjunctions dropped at the end of a phrase (`…; and`).
const TRAILING_FUNCTION_WORDS: &str = "and et и və or";

fn is_leading_function_word(word: &str) -> bool {
    LEADING_FUNCTION_WORDS
        .iter()
        .any(|words| words.split(' ').any(|w| w == word))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    outcome: Outcome,
    date: Option<String>,
    #[serde(rename = "why")]
    _why: Option<String>,
    #[serde(default)]
    passages: Vec<u32>,
    #[serde(default)]
    phrase: Vec<ExpectedPhrase>,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Outcome {
    Resolved,
    Refused,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedPhrase {
    text: String,
    organizations: Vec<String>,
    #[serde(rename = "why")]
    _why: Option<String>,
}

/// One statement of the corpus with its expectation.
struct Case {
    name: String,
    text: Vec<u8>,
    expect: Expectation,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/statements")
}

/// Every `<name>.txt` of the corpus with its `<name>.expect.toml`, by name; panics, naming the
/// file, on a statement without expectation, an expectation without statement, or a malformed one.
fn corpus() -> Vec<Case> {
    let dir = corpus_dir();
    let mut names = BTreeSet::new();
    let mut expectations = BTreeSet::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let file = entry.expect("folder entry").file_name();
        let file = file.to_string_lossy();
        if let Some(name) = file.strip_suffix(".expect.toml") {
            expectations.insert(name.to_owned());
        } else if let Some(name) = file.strip_suffix(".txt") {
            names.insert(name.to_owned());
        } else {
            panic!("tests/statements/{file}: neither a statement (.txt) nor an expectation");
        }
    }
    let orphans: Vec<_> = expectations.difference(&names).collect();
    assert!(
        orphans.is_empty(),
        "expectations without statement: {orphans:?}"
    );
    names
        .into_iter()
        .map(|name| {
            let expect_path = dir.join(format!("{name}.expect.toml"));
            let expect_text = fs::read_to_string(&expect_path).unwrap_or_else(|e| {
                panic!("tests/statements/{name}.txt has no readable expectation: {e}")
            });
            let expect: Expectation = toml::from_str(&expect_text)
                .unwrap_or_else(|e| panic!("tests/statements/{name}.expect.toml: {e}"));
            let text = fs::read(dir.join(format!("{name}.txt"))).expect("read the statement");
            Case { name, text, expect }
        })
        .collect()
}

/// The key an expected phrase and herald's phrase are paired by (see the module header).
fn pairing_key(phrase: &str) -> String {
    let phrase = strip_list_marker(phrase.trim());
    let folded: String = phrase
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    let lead = words
        .iter()
        .take_while(|w| is_leading_function_word(w))
        .count();
    words.drain(..lead);
    while words
        .last()
        .is_some_and(|w| TRAILING_FUNCTION_WORDS.split(' ').any(|t| t == *w))
    {
        words.pop();
    }
    words.join(" ")
}

/// `• X`, `- X`, `1. X`, `a) X`, `(iv) X` → `X`.
fn strip_list_marker(phrase: &str) -> &str {
    if let Some(rest) = phrase.strip_prefix(['•', '-', '*', '–', '—', '·']) {
        return rest.trim_start();
    }
    let inner = phrase.strip_prefix('(').unwrap_or(phrase);
    let label_len = inner
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric())
        .map_or(inner.len(), |(i, _)| i);
    let label = &inner[..label_len];
    let is_label = !label.is_empty()
        && (label.chars().all(|c| c.is_ascii_digit())
            || label.len() == 1
            || label.chars().all(|c| "ivxlc".contains(c)));
    match inner[label_len..].strip_prefix(['.', ')']) {
        Some(rest) if is_label && rest.starts_with(char::is_whitespace) => rest.trim_start(),
        _ => phrase,
    }
}

/// What herald printed for one statement.
struct Run {
    status: i32,
    stderr: String,
    /// stderr without the statement's and the workspace's paths, whose digits are no line numbers.
    stderr_without_paths: String,
    json: Option<Value>,
}

impl Run {
    fn phrases(&self) -> Vec<(String, BTreeSet<String>)> {
        let Some(list) = self.json.as_ref().and_then(|j| j["addressees"].as_array()) else {
            return Vec::new();
        };
        list.iter()
            .map(|a| {
                let phrase = a["phrase"].as_str().unwrap_or_default().to_owned();
                (phrase, ids(&a["organizations"]))
            })
            .collect()
    }

    fn letters(&self) -> BTreeSet<String> {
        let Some(list) = self.json.as_ref().and_then(|j| j["letters"].as_array()) else {
            return BTreeSet::new();
        };
        list.iter()
            .filter_map(|l| l["organization"].as_str().map(str::to_owned))
            .collect()
    }

    fn date(&self) -> Option<Option<String>> {
        let json = self.json.as_ref()?;
        Some(json["statement"]["date"].as_str().map(str::to_owned))
    }

    fn first_error_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or("(nothing on stderr)")
    }
}

fn ids(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn show(orgs: &BTreeSet<String>) -> String {
    let list: Vec<&str> = orgs.iter().map(String::as_str).collect();
    format!("[{}]", list.join(", "))
}

/// What pairing the expected phrases with herald's left for the statement's own checks.
#[derive(Default)]
struct Phrases {
    /// Which of herald's phrases an expected phrase was paired with.
    paired: Vec<bool>,
    /// How many expected phrases were not right.
    failures: usize,
    /// Organisations of phrases already counted wrong (expected ones and unexpected ones), so
    /// that a letter too many or too few is not counted twice.
    failed: BTreeSet<String>,
}

#[derive(Default)]
struct Score {
    phrases: usize,
    right: usize,
    wrongly_refused: usize,
    wrongly_resolved: usize,
    missed: usize,
    statements: usize,
    expected_refused: usize,
    dates_wrong: usize,
    passages_unnamed: usize,
    findings: Vec<String>,
}

impl Score {
    fn finding(&mut self, case: &Case, what: String) {
        self.findings.push(format!("  {}.txt: {what}", case.name));
    }

    /// Scores one statement; `run` is what herald printed for it.
    fn add(&mut self, case: &Case, run: &Run) {
        self.statements += 1;
        let produced = run.phrases();
        let phrases = self.phrases(case, &produced);
        match case.expect.outcome {
            Outcome::Refused => {
                self.expected_refused += 1;
                self.refusal(case, run);
            }
            Outcome::Resolved => self.resolution(case, run, &produced, &phrases),
        }
        self.date(case, run);
    }

    /// Pairs and counts each expected phrase.
    fn phrases(&mut self, case: &Case, produced: &[(String, BTreeSet<String>)]) -> Phrases {
        let mut seen = Phrases {
            paired: vec![false; produced.len()],
            ..Phrases::default()
        };
        for want in &case.expect.phrase {
            self.phrases += 1;
            let key = pairing_key(&want.text);
            let expected: BTreeSet<String> = want.organizations.iter().cloned().collect();
            let found = (0..produced.len())
                .find(|&i| !seen.paired[i] && pairing_key(&produced[i].0) == key);
            let Some(i) = found else {
                self.missed += 1;
                seen.failures += 1;
                seen.failed.extend(expected.iter().cloned());
                let theirs: Vec<&str> = produced.iter().map(|(p, _)| p.as_str()).collect();
                self.finding(
                    case,
                    format!(
                        "`{}`: expected {}, missed; herald's phrases: {theirs:?}",
                        want.text,
                        show(&expected)
                    ),
                );
                continue;
            };
            seen.paired[i] = true;
            let (phrase, got) = &produced[i];
            if *got == expected {
                self.right += 1;
                continue;
            }
            seen.failures += 1;
            seen.failed.extend(expected.iter().cloned());
            let unexpected: BTreeSet<String> = got.difference(&expected).cloned().collect();
            let verdict = if unexpected.is_empty() {
                self.wrongly_refused += 1;
                "wrongly refused"
            } else {
                self.wrongly_resolved += 1;
                seen.failed.extend(unexpected);
                "wrongly resolved"
            };
            self.finding(
                case,
                format!(
                    "`{}`: {verdict}: expected {}, got {} (herald's phrase `{phrase}`)",
                    want.text,
                    show(&expected),
                    show(got),
                ),
            );
        }
        seen
    }

    /// A statement expected refused: exit 2, naming its disagreeing passages if it has them.
    fn refusal(&mut self, case: &Case, run: &Run) {
        if run.status != 2 {
            self.wrongly_resolved += 1;
            self.finding(
                case,
                format!("expected refused (exit 2), herald exited {}", run.status),
            );
            return;
        }
        let unnamed: Vec<u32> = case
            .expect
            .passages
            .iter()
            .copied()
            .filter(|line| !names_number(&run.stderr_without_paths, *line))
            .collect();
        if !unnamed.is_empty() {
            self.passages_unnamed += 1;
            self.finding(
                case,
                format!(
                    "refused without naming the passages on lines {unnamed:?}: {}",
                    run.first_error_line()
                ),
            );
        }
    }

    /// A statement expected resolved: accepted, and letters to exactly the organisations it
    /// addresses (those a phrase finding already counted aside).
    fn resolution(
        &mut self,
        case: &Case,
        run: &Run,
        produced: &[(String, BTreeSet<String>)],
        phrases: &Phrases,
    ) {
        let undated = case.expect.date.is_none();
        let accepted = run.status == 0 || (undated && run.status == 2);
        if (!accepted || run.json.is_none()) && phrases.failures == 0 {
            self.wrongly_refused += 1;
            self.finding(
                case,
                format!(
                    "expected resolved, herald exited {}: {}",
                    run.status,
                    run.first_error_line()
                ),
            );
        }
        if run.status != 0 {
            return;
        }
        let addressed: BTreeSet<String> = case
            .expect
            .phrase
            .iter()
            .flat_map(|p| p.organizations.iter().cloned())
            .collect();
        let letters = run.letters();
        for org in letters.difference(&addressed) {
            if phrases.failed.contains(org) {
                continue;
            }
            self.wrongly_resolved += 1;
            let from: Vec<&str> = produced
                .iter()
                .zip(&phrases.paired)
                .filter(|((_, orgs), paired)| !**paired && orgs.contains(org))
                .map(|((p, _), _)| p.as_str())
                .collect();
            self.finding(
                case,
                format!(
                    "letter to `{org}`, which the statement does not address (from herald's \
                     phrases {from:?})"
                ),
            );
        }
        for org in addressed.difference(&letters) {
            if phrases.failed.contains(org) {
                continue;
            }
            self.wrongly_refused += 1;
            self.finding(
                case,
                format!("no letter to `{org}`, which the statement addresses"),
            );
        }
    }

    /// herald's date: the expected one, or none for an undated statement.
    fn date(&mut self, case: &Case, run: &Run) {
        let expected = &case.expect.date;
        let got = run.date();
        // A refusal without JSON (disagreeing passages, say) shows no date to check.
        if case.expect.outcome == Outcome::Refused && got.is_none() {
            return;
        }
        if got.as_ref() == Some(expected) {
            return;
        }
        self.dates_wrong += 1;
        let shown = |d: &Option<String>| d.clone().unwrap_or_else(|| "none".to_owned());
        let got = got.map_or_else(|| "no JSON".to_owned(), |d| shown(&d));
        self.finding(
            case,
            format!("date: expected {}, got {got}", shown(expected)),
        );
    }

    fn report(&self) -> String {
        let mut out = format!(
            "statements: {} phrases, {} right, {} wrongly refused, {} wrongly resolved, {} missed\n",
            self.phrases, self.right, self.wrongly_refused, self.wrongly_resolved, self.missed
        );
        let _ = writeln!(
            out,
            "statements: {} files ({} expected refused), {} dates wrong, {} refusals not naming \
             their disagreeing passages",
            self.statements, self.expected_refused, self.dates_wrong, self.passages_unnamed
        );
        for finding in &self.findings {
            out.push_str(finding);
            out.push('\n');
        }
        out
    }
}

/// Whether `text` holds `number` with no digit right before or after it.
fn names_number(text: &str, number: u32) -> bool {
    let number = number.to_string();
    text.match_indices(&number).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + number.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

fn run_herald(ws: &Workspace, case: &Case) -> Run {
    let relative = format!("statements/{}.txt", case.name);
    ws.write(&relative, &case.text);
    let output = ws.run(["resolve", relative.as_str(), "--format", "json"]);
    assert!(
        !output.stderr.contains("panicked") && !output.stderr.contains("RUST_BACKTRACE"),
        "herald panicked on tests/statements/{}.txt:\n{}",
        case.name,
        output.stderr
    );
    let stderr_without_paths = output
        .stderr
        .replace(&ws.path().display().to_string(), "")
        .replace(&relative, "");
    Run {
        status: output.status,
        json: serde_json::from_str(&output.stdout).ok(),
        stderr: output.stderr,
        stderr_without_paths,
    }
}

#[test]
fn herald_resolves_the_statements_corpus_as_a_clerk_would() {
    let ws = Workspace::new();
    let mut score = Score::default();
    for case in corpus() {
        let run = run_herald(&ws, &case);
        score.add(&case, &run);
    }
    println!("{}", score.report());
    assert!(
        score.wrongly_refused == 0
            && score.wrongly_resolved == 0
            && score.missed == 0
            && score.dates_wrong == 0
            && score.passages_unnamed == 0,
        "herald does not resolve the corpus as a clerk would: see the findings printed above"
    );
}

/// The corpus itself: enough statements in the four languages, every expectation consistent
/// with its outcome, every organisation id one the shipped directory holds, every date a date.
#[test]
fn the_statements_corpus_is_well_formed() {
    let ws = Workspace::new();
    let known = directory(&ws);
    let cases = corpus();
    assert!(
        cases.len() >= MINIMUM_STATEMENTS,
        "{} statements",
        cases.len()
    );
    let mut languages: BTreeMap<&str, usize> = BTreeMap::new();
    for case in &cases {
        let name = &case.name;
        let language = name.split('-').next().unwrap_or_default();
        *languages.entry(language).or_default() += 1;
        let expect = &case.expect;
        if let Some(date) = &expect.date {
            assert!(
                chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok(),
                "{name}: date `{date}` is not YYYY-MM-DD"
            );
        }
        for phrase in &expect.phrase {
            for id in &phrase.organizations {
                assert!(
                    known.contains_key(id),
                    "{name}: `{}` names `{id}`, which is not in the directory",
                    phrase.text
                );
            }
            assert!(
                !pairing_key(&phrase.text).is_empty(),
                "{name}: `{}` has no words to pair by",
                phrase.text
            );
            assert!(
                collapsed(&String::from_utf8_lossy(&case.text)).contains(&collapsed(&phrase.text)),
                "{name}: `{}` is not written in the statement",
                phrase.text
            );
        }
        let refused_phrases = expect
            .phrase
            .iter()
            .filter(|p| p.organizations.is_empty())
            .count();
        assert!(
            expect.passages.is_empty()
                || (expect.outcome == Outcome::Refused && expect.phrase.is_empty()),
            "{name}: `passages` belongs to a statement refused for its disagreeing passages"
        );
        match expect.outcome {
            Outcome::Resolved => assert!(
                !expect.phrase.is_empty() && refused_phrases == 0,
                "{name}: a resolved statement names organisations and refuses no phrase"
            ),
            Outcome::Refused => assert!(
                (expect.phrase.is_empty() && expect.passages.len() >= 2) || refused_phrases > 0,
                "{name}: a refused statement either refuses a phrase or lists no phrase and the \
                 lines of its disagreeing passages"
            ),
        }
    }
    for language in ["en", "fr", "ru", "az"] {
        assert!(
            languages.get(language).copied().unwrap_or(0) >= 5,
            "too few `{language}` statements: {languages:?}"
        );
    }
}

/// Runs of whitespace other than a non-breaking space (a hard-wrapped line's end) as one space.
fn collapsed(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() && c != '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn phrases_pair_despite_articles_markers_and_punctuation_but_not_other_words() {
    let same = [
        ("the UN Secretary-General", "UN Secretary-General"),
        ("au Conseil de l’Europe", "Conseil de l'Europe"),
        (
            "ainsi qu'aux institutions nationales",
            "institutions nationales",
        ),
        (
            "• Asian Ombudsman Association;",
            "Asian Ombudsman Association",
        ),
        ("1. The European Ombudsman", "European Ombudsman"),
        ("(iv) the European Union", "European Union"),
        ("a) Austrian Ombudsman Board", "Austrian Ombudsman Board"),
        (
            "Embassy of France in Azerbaijan; and",
            "Embassy of France in Azerbaijan",
        ),
        ("Council of\u{a0}Europe", "Council  of Europe"),
        ("Türkiye", "turkiye"),
        (
            "а также национальным правозащитным учреждениям",
            "национальным правозащитным учреждениям",
        ),
        ("və Azərbaycan diasporuna", "Azərbaycan diasporuna"),
        ("– UN Human Rights Council", "UN Human Rights Council"),
    ];
    for (theirs, ours) in same {
        assert_eq!(
            pairing_key(theirs),
            pairing_key(ours),
            "`{theirs}` / `{ours}`"
        );
    }
    let different = [
        (
            "Committee of Ministers of the Council of Europe",
            "Council of Europe",
        ),
        ("UNESCO Regional Office for Europe", "UNESCO"),
        ("UNICEF and the International Ombudsman Institute", "UNICEF"),
        ("Генеральному секретарю ООН", "Генеральный секретарь ООН"),
    ];
    for (theirs, ours) in different {
        assert_ne!(
            pairing_key(theirs),
            pairing_key(ours),
            "`{theirs}` / `{ours}`"
        );
    }
}
