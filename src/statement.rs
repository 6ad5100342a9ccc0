//! A statement's text → [`Statement`]: title, date, signatory, body paragraphs and the text that
//! names its addressees. Pure: no files, no clock.
//!
//! The statement id is `<date>-<first 8 hex digits of SHA-256 of the normalised text>` (README.md,
//! "How a statement becomes letters"): normalising line endings and trailing whitespace first
//! means that re-saving a file with CRLF or an extra final newline does not make a new statement,
//! while any change of wording does.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

mod date;
mod front_matter;
mod passage;
mod sentence;
mod signature;
#[rustfmt::skip]
mod words;

pub(crate) use date::{AmbiguousDate, DateOrder};
pub(crate) use passage::{Passage, Recognised};

use front_matter::{front_matter, front_matter_passage};
use signature::find_signature;

/// `<date>-<8 hex digits>` or `undated-<8 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct StatementId(String);

impl StatementId {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts an id as a user types it (e.g. `herald approve 2021-05-27-1a2b3c4d`).
    pub fn parse(s: &str) -> Option<StatementId> {
        let (prefix, hash) = s.rsplit_once('-')?;
        let hash_ok = hash.len() == 8
            && hash
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        let prefix_ok =
            prefix == "undated" || NaiveDate::parse_from_str(prefix, "%Y-%m-%d").is_ok();
        (hash_ok && prefix_ok).then(|| StatementId(s.to_string()))
    }

    pub(crate) fn from_parts(date: Option<NaiveDate>, normalised_text: &str) -> StatementId {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(normalised_text.as_bytes());
        let hash = hex::encode(&digest[..4]);
        match date {
            Some(d) => StatementId(format!("{}-{hash}", d.format("%Y-%m-%d"))),
            None => StatementId(format!("undated-{hash}")),
        }
    }
}

impl fmt::Display for StatementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a statement's addressees are named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddresseeSource {
    /// Text naming the addressees as written: the end of an addressee sentence ("to the UN
    /// Secretary-General, the Council of Europe and UNESCO") or the lines of a list under a
    /// heading, one line per `\n`. Split into phrases by `crate::addressees`, driven by the
    /// directory's names.
    Sentence(String),
    /// One name per entry, never split: front matter `addressees`.
    List(Vec<String>),
}

/// A parsed statement.
#[derive(Debug, Clone)]
pub struct Statement {
    pub(crate) id: StatementId,
    pub(crate) title: String,
    pub(crate) date: Option<NaiveDate>,
    /// The signatory's name ("Sabina Aliyeva").
    pub(crate) signatory: Option<String>,
    /// The signatory's title, its lines joined with spaces
    /// ("The Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan").
    pub(crate) signatory_title: Option<String>,
    /// The body between the title and the signature block, one entry per paragraph, each with its
    /// lines joined by single spaces.
    pub(crate) paragraphs: Vec<String>,
    /// `None` when the statement names no addressees (an error for resolve and dispatch): front
    /// matter `addressees`, else the first passage naming them (see `passages` for all).
    pub addressees: Option<AddresseeSource>,
    /// Every passage naming addressees, in the order of the text; front matter `addressees`, when
    /// given, is the only one.
    pub(crate) passages: Vec<Passage>,
    /// The statement's date was written with numbers that read two ways: how it was read.
    pub(crate) date_reading: Option<AmbiguousDate>,
    /// The file name the statement came from (for the attachment), e.g. `2021-05-27-kalbajar-statement.txt`.
    pub(crate) file_name: String,
    /// The original bytes-as-text, attached to every letter unchanged.
    pub(crate) original: String,
}

/// Why a statement cannot be used. `path` is the file as the user named it.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("{path}: cannot read the statement: {}", crate::error::plain(source))]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the statement is empty")]
    Empty { path: String },
    #[error("{path}: the statement is not valid UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { path: String, offset: usize },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: the statement names no addressees (expected a sentence such as \"This Statement is addressed to …\" or an `Addressees:` list)")]
    NoAddressees { path: String },
    #[error("{path}: two passages name different addressees, and herald cannot tell which one is meant:\n  line {}: {}\n  line {}: {}\nCorrect the statement, or settle it with front matter `addressees = [...]`", first.0, first.1, second.0, second.1)]
    Disagreeing {
        path: String,
        /// Line and text of each passage.
        first: (usize, String),
        second: (usize, String),
    },
    #[error("{path}: the statement has no date (none under the title, in the signature block or in front matter); an official statement without a date is likely a mistake: add its date (e.g. `27 May 2021` under the signature, or `date = 2021-05-27` in front matter), or send it undated with `herald dispatch --allow-undated`")]
    Undated { path: String },
}

/// Decodes a statement file's bytes, refusing invalid UTF-8 with the offset of the first bad byte.
pub(crate) fn decode(path: &str, bytes: Vec<u8>) -> Result<String, StatementError> {
    String::from_utf8(bytes).map_err(|e| StatementError::NotUtf8 {
        path: path.to_string(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Line endings to LF, trailing whitespace removed from every line and from the end.
pub(crate) fn normalise_text(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        out.push_str(line.trim_end_matches(|c: char| c.is_whitespace()));
        out.push('\n');
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out
}

/// `parse_in_order` with slashed dates read day first.
pub fn parse(path: &str, file_name: &str, text: &str) -> Result<Statement, StatementError> {
    parse_in_order(path, file_name, text, DateOrder::default())
}

/// Parses a statement's text. `path` names the file in errors; `file_name` is kept for the
/// attachment; `order` reads a slashed date whose day and month could be swapped.
///
/// Optional TOML front matter between `+++` lines at the very top may give `title`, `date`
/// (YYYY-MM-DD) and `addressees`, which win over what is detected in the text. Otherwise: the
/// title is the first non-empty line (after a dateline above it, if any); the date is a dateline
/// under the title or the date of the signature block, the run of short lines at the end (name,
/// title lines, date); the addressees are named by every passage found anywhere in the text.
/// The body is every paragraph between title and signature block, except the passages.
pub(crate) fn parse_in_order(
    path: &str,
    file_name: &str,
    text: &str,
    order: DateOrder,
) -> Result<Statement, StatementError> {
    let normalised = normalise_text(text);
    if normalised.trim().is_empty() {
        return Err(StatementError::Empty {
            path: path.to_string(),
        });
    }
    let lines: Vec<&str> = normalised.split('\n').collect();
    let (front, body_start) = front_matter(path, &lines)?;
    for (i, line) in lines.iter().enumerate().skip(body_start) {
        if let Some(written) = date::impossible_date_line(line) {
            return Err(StatementError::Invalid {
                path: path.to_string(),
                line: i + 1,
                message: format!(
                    "`{written}` is not a date (no such day in either day-month or month-day \
                     order): correct it"
                ),
            });
        }
    }
    let mut blocks = split_blocks(&lines[body_start..], body_start + 1);

    // A dateline above the title ("Baku, 27 May 2021" on the first line).
    let mut date = None;
    if let Some(first) = blocks.first().and_then(|b| b.lines.first()) {
        if let Some(found) = date::parse_date_line(first, order) {
            date = Some(found);
            blocks[0].remove(0);
            if blocks[0].lines.is_empty() {
                blocks.remove(0);
            }
        }
    }

    // The title line: always the first line without front matter; with a front matter title, only
    // if it looks like a heading rather than the start of the body.
    let first_line = blocks.first().and_then(|b| b.lines.first()).cloned();
    let title_line = match (&front.title, first_line) {
        (None, Some(line)) => Some(line),
        (Some(_), Some(line)) if blocks[0].lines.len() == 1 && !ends_sentence(&line) => Some(line),
        _ => None,
    };
    let title_number = blocks.first().and_then(|b| b.numbers.first()).copied();
    if title_line.is_some() {
        blocks[0].remove(0);
        if blocks[0].lines.is_empty() {
            blocks.remove(0);
        }
    }
    let Some(title) = front.title.clone().or(title_line.clone()) else {
        return Err(StatementError::Empty {
            path: path.to_string(),
        });
    };

    // The passages take their lines out of the body; a paragraph holding one in its text stays
    // body, yet is never part of the signature block.
    let mut found = passage::find(&blocks, &title);
    // "Open letter to the Council of Europe": with no passage in the text, the title names them.
    if found.passages.is_empty() {
        if let (Some(line), Some(number)) = (&title_line, title_number) {
            found.passages.extend(passage::from_title(line, number));
        }
    }
    let mut kept: Vec<Block> = Vec::new();
    let mut holds_passage = Vec::new();
    for (b, block) in blocks.iter().enumerate() {
        let mut rest = Block::default();
        for (l, line) in block.lines.iter().enumerate() {
            if !found.used[b][l] {
                rest.lines.push(line.clone());
                rest.numbers.push(block.numbers[l]);
            }
        }
        if !rest.lines.is_empty() {
            kept.push(rest);
            holds_passage.push(found.containing[b]);
        }
    }
    let blocks = kept;
    let mut skip = vec![false; blocks.len()];

    // A date line right under the title is a dateline, not body.
    if date.is_none() {
        if let Some(first) = blocks.first() {
            if let [line] = first.lines.as_slice() {
                if let Some(found) = date::parse_date_line(line, order) {
                    date = Some(found);
                    skip[0] = true;
                }
            }
        }
    }

    let signature = find_signature(&blocks, &skip, &holds_passage, order);
    let body_end = signature.as_ref().map_or(blocks.len(), |s| s.first_block);
    let paragraphs = (0..body_end)
        .filter(|&b| !skip[b])
        .map(|b| blocks[b].lines.join(" "))
        .collect();

    let (signatory, signatory_title) = match &signature {
        Some(s) => {
            date = s.date.clone().or(date);
            (s.name.clone(), s.title.clone())
        }
        None => (None, None),
    };
    // Last, a date in the title ("Statement of 27 May 2021 on …").
    if date.is_none() {
        date = date::find_date_in(&title, order);
    }
    let (date, date_reading) = match (front.date, date) {
        (Some(d), _) => (Some(d), None),
        (None, Some((d, reading))) => (Some(d), reading),
        (None, None) => (None, None),
    };
    let passages = match front.addressees {
        Some((list, _, _)) if list.is_empty() => Vec::new(),
        Some((list, first_line, last_line)) => {
            vec![front_matter_passage(list, first_line, last_line)]
        }
        None => found.passages,
    };
    let addressees = passages
        .iter()
        .find(|p| !p.copies)
        .or(passages.first())
        .map(|p| p.source.clone());
    Ok(Statement {
        id: StatementId::from_parts(date, &normalised),
        title,
        date,
        signatory,
        signatory_title,
        paragraphs,
        addressees,
        passages,
        date_reading,
        file_name: file_name.to_string(),
        original: text.to_string(),
    })
}

/// Lines separated by blank lines, each line with its whitespace (NBSP included) collapsed, and
/// its line number in the file.
#[derive(Debug, Default)]
struct Block {
    lines: Vec<String>,
    numbers: Vec<usize>,
}

impl Block {
    fn remove(&mut self, i: usize) {
        self.lines.remove(i);
        self.numbers.remove(i);
    }
}

/// `first_number` is the file line number of `lines[0]`.
fn split_blocks(lines: &[&str], first_number: usize) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current = Block::default();
    for (i, line) in lines.iter().enumerate() {
        let line = collapse_whitespace(line);
        if line.is_empty() {
            if !current.lines.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
        } else {
            current.lines.push(line);
            current.numbers.push(first_number + i);
        }
    }
    if !current.lines.is_empty() {
        blocks.push(current);
    }
    blocks
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Byte ranges of the sentences of a paragraph.
///
/// A sentence ends at `.`, `!` or `?` followed by an upper-case letter or the end, except after
/// an abbreviation or a dotted acronym ("U.N. Security Council"). A missing space after the stop
/// ("coexistence.Therefore") still ends a sentence when a lower-case word precedes it.
fn sentences(paragraph: &str) -> Vec<(usize, usize)> {
    const ABBREVIATIONS: &[&str] = &[
        "mr", "mrs", "ms", "dr", "st", "prof", "no", "nr", "co", "inc", "jr", "sr", "gen", "rev",
        "hon", "vs", "e.g", "i.e", "art", "para",
    ];
    let mut ranges = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = paragraph.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let end = i + c.len_utf8();
        let next = chars[k + 1..]
            .iter()
            .find(|(_, n)| !n.is_whitespace())
            .map(|&(_, n)| n);
        let spaced = chars.get(k + 1).is_some_and(|(_, n)| n.is_whitespace());
        let word_before = paragraph[start..i]
            .rsplit(char::is_whitespace)
            .next()
            .unwrap_or("")
            .trim_start_matches(|ch: char| !ch.is_alphanumeric());
        let is_end = match next {
            None => true,
            Some(n) if !n.is_uppercase() && !matches!(n, '"' | '“' | '«') => false,
            Some(_) if c != '.' => true,
            Some(_) if spaced => {
                let lower = word_before.to_lowercase();
                let single_letter = word_before.chars().count() == 1;
                !(single_letter
                    || word_before.contains('.')
                    || ABBREVIATIONS.contains(&lower.as_str()))
            }
            Some(_) => {
                word_before.chars().count() >= 2
                    && word_before.chars().last().is_some_and(char::is_lowercase)
            }
        };
        if is_end {
            ranges.push((start, end));
            start = end;
            // The next sentence starts at its first non-space character.
            start += paragraph[start..].len() - paragraph[start..].trim_start().len();
        }
    }
    if start < paragraph.len() {
        ranges.push((start, paragraph.len()));
    }
    ranges
}

fn ends_sentence(line: &str) -> bool {
    line.ends_with(['.', '!', '?', ':', ';', ','])
}

#[cfg(test)]
mod tests {
    pub(super) use chrono::NaiveDate;

    pub(super) use super::{parse, AddresseeSource, Statement, StatementError};

    pub(super) const SEED: &str = include_str!("../seeds/2021-05-27-kalbajar-statement.txt");

    pub(super) fn ok(text: &str) -> Statement {
        match parse("statements/s.txt", "s.txt", text) {
            Ok(s) => s,
            Err(e) => panic!("`{text}` did not parse: {e}"),
        }
    }

    pub(super) fn err(text: &str) -> String {
        match parse("statements/s.txt", "s.txt", text) {
            Ok(s) => panic!("`{text}` parsed: {s:?}"),
            Err(e) => e.to_string(),
        }
    }

    pub(super) fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    pub(super) fn sentence(s: &Statement) -> &str {
        match &s.addressees {
            Some(AddresseeSource::Sentence(text)) => text,
            other => panic!("expected an addressee sentence, got {other:?}"),
        }
    }

    pub(super) fn list(s: &Statement) -> Vec<&str> {
        match &s.addressees {
            Some(AddresseeSource::List(items)) => items.iter().map(String::as_str).collect(),
            other => panic!("expected an addressee list, got {other:?}"),
        }
    }

    /// A statement with a title, one body paragraph, the given tail (signature, addressees).
    pub(super) fn with_tail(tail: &str) -> String {
        format!("A Statement on Peace\n\nWe call for peace.\n\n{tail}")
    }

    #[test]
    fn the_seed_statement_parses_into_its_parts() {
        let s = ok(SEED);
        assert!(s
            .title
            .starts_with("Statement by the Commissioner for Human Rights (Ombudsman)"));
        assert!(s
            .title
            .ends_with("Kalbajar district of the Azerbaijan state border"));
        assert_eq!(s.date, date(2021, 5, 27));
        assert!(s.id.as_str().starts_with("2021-05-27-"), "{}", s.id);
        assert_eq!(s.signatory.as_deref(), Some("Sabina Aliyeva"));
        assert_eq!(
            s.signatory_title.as_deref(),
            Some("The Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan")
        );
        assert_eq!(s.paragraphs.len(), 8);
        assert!(
            s.paragraphs[0].starts_with("According to the official information, on May 27, 2021,")
        );
        // The NBSPs around "armed forces" become single spaces.
        assert!(s.paragraphs[0].contains("detachment of the armed forces of Armenia infiltrated"));
        assert!(s.paragraphs[7].starts_with("In the light of the foregoing"));
        assert!(s.paragraphs.iter().all(|p| !p.contains("addressed to")));
        let text = sentence(&s);
        assert!(
            text.starts_with("the UN Secretary-General, UN Security Council, UN Office of High"),
            "{text}"
        );
        assert!(
            text.ends_with(", as well as to the Azerbaijani Diasporas"),
            "{text}"
        );
        assert_eq!(s.file_name, "s.txt");
        assert_eq!(s.original, SEED);
    }

    #[test]
    fn line_endings_and_trailing_whitespace_do_not_change_the_statement() {
        let lf = ok(SEED);
        let crlf = ok(&SEED.replace('\n', "\r\n"));
        let trailing = ok(&format!("{}  \n\n", SEED.replace('\n', " \t\n")));
        for other in [&crlf, &trailing] {
            assert_eq!(other.id, lf.id);
            assert_eq!(other.title, lf.title);
            assert_eq!(other.date, lf.date);
            assert_eq!(other.signatory_title, lf.signatory_title);
            assert_eq!(other.paragraphs, lf.paragraphs);
            assert_eq!(other.addressees, lf.addressees);
        }
        let reworded = ok(&SEED.replace("Kalbajar district", "Kelbajar district"));
        assert_ne!(reworded.id, lf.id);
        assert!(reworded.id.as_str().starts_with("2021-05-27-"));
    }

    #[test]
    fn addressed_to_sentences_in_any_wording() {
        let cases: &[(&str, &str)] = &[
            (
                "This Statement is addressed to the Council of Europe.",
                "the Council of Europe",
            ),
            (
                "This appeal is addressed to the Council of Europe and UNESCO.",
                "the Council of Europe and UNESCO",
            ),
            (
                "The statement is also addressed to: the European Union",
                "the European Union",
            ),
            (
                "THIS STATEMENT IS ADDRESSED TO THE COUNCIL OF EUROPE.",
                "THE COUNCIL OF EUROPE",
            ),
            (
                "This Statement is addressed to the Council of Europe. We thank them.",
                "the Council of Europe",
            ),
            (
                "This Statement is addressed to the U.N. Security Council. Thank you.",
                "the U.N. Security Council",
            ),
            (
                "This Statement is addressed to the Azerbaijani Diasporas.On behalf of all.",
                "the Azerbaijani Diasporas",
            ),
            (
                "This\u{a0}Statement is addressed\u{a0}to the Council\nof Europe.",
                "the Council of Europe",
            ),
            (
                "We thank you. This letter is sent to the European Union!",
                "the European Union",
            ),
        ];
        for (paragraph, text) in cases {
            let s = ok(&with_tail(&format!(
                "Sabina Aliyeva\n\n27 May 2021\n\n{paragraph}"
            )));
            assert_eq!(sentence(&s), *text, "`{paragraph}`");
            assert_eq!(s.paragraphs, ["We call for peace."], "`{paragraph}`");
            assert_eq!(
                s.signatory.as_deref(),
                Some("Sabina Aliyeva"),
                "`{paragraph}`"
            );
        }
    }

    #[test]
    fn addressee_paragraph_before_the_signature() {
        let s = ok(&with_tail(
            "This Statement is addressed to the Council of Europe.\n\nSabina Aliyeva\nCommissioner\nBaku, 27 May 2021",
        ));
        assert_eq!(sentence(&s), "the Council of Europe");
        assert_eq!(s.paragraphs, ["We call for peace."]);
        assert_eq!(s.signatory.as_deref(), Some("Sabina Aliyeva"));
        assert_eq!(s.signatory_title.as_deref(), Some("Commissioner"));
        assert_eq!(s.date, date(2021, 5, 27));
    }

    #[test]
    fn a_letter_mentioned_in_the_body_is_not_the_addressee_sentence() {
        let s = ok(&with_tail(
            "Last year a long and detailed appeal by our office and many others was addressed to the minister.\n\nSabina Aliyeva",
        ));
        assert_eq!(s.addressees, None);
        assert_eq!(s.paragraphs.len(), 2);
    }

    #[test]
    fn addressee_lists_under_a_heading() {
        let cases: &[(&str, &str)] = &[
            (
                "Addressees:\n- UN Security Council\n* the Council of Europe;\n• European Union\n1. UNESCO\n2) UNICEF.",
                "- UN Security Council\n* the Council of Europe;\n• European Union\n1. UNESCO\n2) UNICEF.",
            ),
            ("DISTRIBUTION:\n\n- UN Security Council\n- Council of Europe", "- UN Security Council\n- Council of Europe"),
            (
                "Distribution list\nUnited Nations Educational, Scientific and Cultural Organization",
                "United Nations Educational, Scientific and Cultural Organization",
            ),
            ("Destinataires :\n- Conseil de l'Europe\n- UNESCO", "- Conseil de l'Europe\n- UNESCO"),
            ("Адресаты:\n1. Совет Европы\n2. ОБСЕ", "1. Совет Европы\n2. ОБСЕ"),
            ("Ünvanlar:\nAvropa Şurası\nATƏT", "Avropa Şurası\nATƏT"),
            ("Addressees: the UN Security Council, the Council of Europe", "the UN Security Council, the Council of Europe"),
        ];
        for (tail, text) in cases {
            let s = ok(&with_tail(&format!(
                "Sabina Aliyeva\n\n27 May 2021\n\n{tail}"
            )));
            assert_eq!(sentence(&s), *text, "`{tail}`");
            assert_eq!(s.paragraphs, ["We call for peace."], "`{tail}`");
            assert_eq!(s.date, date(2021, 5, 27), "`{tail}`");
            assert_eq!(s.signatory.as_deref(), Some("Sabina Aliyeva"), "`{tail}`");
        }
    }

    #[test]
    fn passages_anywhere_in_the_text_with_their_lines() {
        // (text, [(first line, last line, source text, copies)], body paragraphs, signatory, date)
        type Expected<'a> = &'a [(usize, usize, &'a str, bool)];
        type Case<'a> = (
            &'a str,
            Expected<'a>,
            &'a [&'a str],
            Option<&'a str>,
            Option<NaiveDate>,
        );
        let cases: &[Case] = &[
            (
                "Title\n\nThis statement is addressed to the OSCE.\n\nBody.\n\nSabina Aliyeva\n27 May 2021",
                &[(3, 3, "the OSCE", false)],
                &["Body."],
                Some("Sabina Aliyeva"),
                date(2021, 5, 27),
            ),
            (
                "Title\n\nWe call for peace. This appeal is sent to\nUNICEF. We hope.\n\nSabina Aliyeva",
                &[(3, 4, "UNICEF", false)],
                &["We call for peace. This appeal is sent to UNICEF. We hope."],
                Some("Sabina Aliyeva"),
                None,
            ),
            (
                "Title\n\nBody.\n\nThis statement is addressed to the following institutions:\n- UNESCO\n- OSCE\n\nSabina Aliyeva\n1 June 2021",
                &[(5, 7, "- UNESCO\n- OSCE", false)],
                &["Body."],
                Some("Sabina Aliyeva"),
                date(2021, 6, 1),
            ),
            (
                "Title\n\nBody.\n\nWe address this statement to:\n\n1. UNESCO\n2. OSCE.\n\nSabina Aliyeva",
                &[(5, 8, "1. UNESCO\n2. OSCE.", false)],
                &["Body."],
                Some("Sabina Aliyeva"),
                None,
            ),
            (
                "Title\n\nBody.\n\nSabina Aliyeva\nCommissioner\nAddressees: UNESCO, OSCE\nCopy to: UNICEF",
                &[(7, 7, "UNESCO, OSCE", false), (8, 8, "UNICEF", true)],
                &["Body."],
                Some("Sabina Aliyeva"),
                None,
            ),
            (
                "Baku, 27 May 2021\nTitle\n\nBody.\n\nTo: UNESCO",
                &[(6, 6, "UNESCO", false)],
                &["Body."],
                None,
                date(2021, 5, 27),
            ),
            (
                "Bəyanat\n\nMətn.\n\nBu Bəyanat BMT-yə və ATƏT-ə ünvanlanır.\n\nSəbinə Əliyeva\n27 may 2021-ci il",
                &[(5, 5, "BMT-yə və ATƏT-ə", false)],
                &["Mətn."],
                Some("Səbinə Əliyeva"),
                date(2021, 5, 27),
            ),
            (
                "Заявление\n\nТекст.\n\nНастоящее заявление направлено в Совет Европы и ОБСЕ.\n\nКопии настоящего заявления направлены в ЮНЕСКО.\n\nСабина Алиева\n27 мая 2021 года",
                &[(5, 5, "в Совет Европы и ОБСЕ", false), (7, 7, "в ЮНЕСКО", true)],
                &["Текст."],
                Some("Сабина Алиева"),
                date(2021, 5, 27),
            ),
            (
                "Déclaration\n\nTexte.\n\nLa présente déclaration est adressée au Conseil de l'Europe.\n\nDestinataires :\n- UNESCO\n\nBakou, le 20 novembre 2021",
                &[(5, 5, "au Conseil de l'Europe", false), (7, 8, "- UNESCO", false)],
                &["Texte."],
                None,
                date(2021, 11, 20),
            ),
            (
                "Title\n\nBody.\n\nThis statement is addressed to UNESCO.\nSabina Aliyeva\n27 May 2021",
                &[(5, 5, "UNESCO", false)],
                &["Body."],
                Some("Sabina Aliyeva"),
                date(2021, 5, 27),
            ),
            (
                "Statement on mines\n\nThe report is sent to the OSCE.\n\nSabina Aliyeva",
                &[],
                &["The report is sent to the OSCE."],
                Some("Sabina Aliyeva"),
                None,
            ),
            (
                "Report on mines\n\nThe report is sent to the OSCE.\n\nSabina Aliyeva",
                &[(3, 3, "the OSCE", false)],
                &[],
                Some("Sabina Aliyeva"),
                None,
            ),
            (
                "Title\n\nOur previous appeal was addressed to the OSCE.\n\nApplications addressed to the Commissioner grew.\n\nSabina Aliyeva",
                &[],
                &["Our previous appeal was addressed to the OSCE.", "Applications addressed to the Commissioner grew."],
                Some("Sabina Aliyeva"),
                None,
            ),
        ];
        for (text, passages, paragraphs, signatory, expected_date) in cases {
            let s = ok(text);
            let got: Vec<(usize, usize, &str, bool)> = s
                .passages
                .iter()
                .map(|p| {
                    let AddresseeSource::Sentence(source) = &p.source else {
                        panic!("a list from the text: {p:?}");
                    };
                    (p.first_line, p.last_line, source.as_str(), p.copies)
                })
                .collect();
            assert_eq!(got, *passages, "`{text}`");
            assert_eq!(s.paragraphs, *paragraphs, "`{text}`");
            assert_eq!(s.signatory.as_deref(), *signatory, "`{text}`");
            assert_eq!(s.date, *expected_date, "`{text}`");
        }
    }

    #[test]
    fn no_addressees_and_no_text() {
        let s = ok("Title only");
        assert_eq!(
            (s.title.as_str(), s.addressees.clone()),
            ("Title only", None)
        );
        assert!(s.paragraphs.is_empty());
        for text in ["", "  \n\t\r\n", "\u{feff}\u{a0}\n ", "+++\n+++\n\n"] {
            assert!(
                matches!(
                    parse("s.txt", "s.txt", text),
                    Err(StatementError::Empty { .. })
                ),
                "`{text:?}`"
            );
        }
        assert_eq!(err(" \n"), "statements/s.txt: the statement is empty");
    }
}
