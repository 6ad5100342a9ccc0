//! A statement's text → [`Statement`]: title, date, signatory, body paragraphs and the text that
//! names its addressees. Pure: no files, no clock.
//!
//! The statement id is `<date>-<first 8 hex digits of SHA-256 of the normalised text>` (DESIGN.md):
//! normalising line endings and trailing whitespace first means that re-saving a file with CRLF
//! or an extra final newline does not make a new statement, while any change of wording does.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

use crate::addressees::clean_list_item;

/// `<date>-<8 hex digits>` or `undated-<8 hex digits>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct StatementId(String);

impl StatementId {
    pub fn as_str(&self) -> &str {
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
    /// The "… is addressed to …" sentence: the text after "addressed to", up to the end of the
    /// sentence. Split into phrases by [`crate::addressees`], driven by the directory's names.
    Sentence(String),
    /// One name per entry: an `Addressees:` / `Distribution:` list, or front matter `addressees`.
    List(Vec<String>),
}

/// A parsed statement.
#[derive(Debug, Clone)]
pub struct Statement {
    pub id: StatementId,
    pub title: String,
    pub date: Option<NaiveDate>,
    /// The signatory's name ("Sabina Aliyeva").
    pub signatory: Option<String>,
    /// The signatory's title, its lines joined with spaces
    /// ("The Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan").
    pub signatory_title: Option<String>,
    /// The body between the title and the signature block, one entry per paragraph, each with its
    /// lines joined by single spaces.
    pub paragraphs: Vec<String>,
    /// `None` when the statement names no addressees (an error for resolve and dispatch).
    pub addressees: Option<AddresseeSource>,
    /// The file name the statement came from (for the attachment), e.g. `2021-05-27-kalbajar-statement.txt`.
    pub file_name: String,
    /// The original bytes-as-text, attached to every letter unchanged.
    pub original: String,
}

/// Why a statement cannot be used. `path` is the file as the user named it.
#[derive(Debug, thiserror::Error)]
pub enum StatementError {
    #[error("{path}: cannot read the statement: {source}")]
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
}

/// Decodes a statement file's bytes, refusing invalid UTF-8 with the offset of the first bad byte.
pub fn decode(path: &str, bytes: Vec<u8>) -> Result<String, StatementError> {
    String::from_utf8(bytes).map_err(|e| StatementError::NotUtf8 {
        path: path.to_string(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Line endings to LF, trailing whitespace removed from every line and from the end.
pub fn normalise_text(text: &str) -> String {
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

/// Parses a statement's text. `path` names the file in errors; `file_name` is kept for the attachment.
///
/// Optional TOML front matter between `+++` lines at the very top may give `title`, `date`
/// (YYYY-MM-DD) and `addressees`, which win over what is detected in the text. Otherwise: the
/// title is the first non-empty line; the signature block is the run of short lines at the end
/// (name, title lines, date); the addressees are an `Addressees:` / `Distribution:` list or the
/// "… addressed to …" sentence. The body is every paragraph between title and signature block,
/// except the one naming the addressees.
pub fn parse(path: &str, file_name: &str, text: &str) -> Result<Statement, StatementError> {
    let normalised = normalise_text(text);
    if normalised.trim().is_empty() {
        return Err(StatementError::Empty {
            path: path.to_string(),
        });
    }
    let lines: Vec<&str> = normalised.split('\n').collect();
    let (front, body_start) = front_matter(path, &lines)?;
    let mut blocks = split_blocks(&lines[body_start..]);

    // The title line: always the first line without front matter; with a front matter title, only
    // if it looks like a heading rather than the start of the body.
    let first_line = blocks.first().and_then(|b| b.lines.first()).cloned();
    let title_line = match (&front.title, first_line) {
        (None, Some(line)) => Some(line),
        (Some(_), Some(line)) if blocks[0].lines.len() == 1 && !ends_sentence(&line) => Some(line),
        _ => None,
    };
    if title_line.is_some() {
        blocks[0].lines.remove(0);
        if blocks[0].lines.is_empty() {
            blocks.remove(0);
        }
    }
    let Some(title) = front.title.clone().or(title_line) else {
        return Err(StatementError::Empty {
            path: path.to_string(),
        });
    };

    let detected = find_addressees(&blocks);
    let mut skip = vec![false; blocks.len()];
    for &b in &detected.blocks {
        skip[b] = true;
    }
    // A paragraph that only contains the addressee sentence is body text, yet still not part of
    // the signature block.
    let mut not_signature = skip.clone();
    for &b in &detected.containing {
        not_signature[b] = true;
    }

    // A date line right under the title is a dateline, not body.
    let mut date = None;
    if let Some(b) = (0..blocks.len()).find(|&b| !skip[b]) {
        if let [line] = blocks[b].lines.as_slice() {
            if let Some(d) = parse_date_line(line) {
                date = Some(d);
                skip[b] = true;
            }
        }
    }

    let signature = find_signature(&blocks, &not_signature);
    let body_end = signature.as_ref().map_or(blocks.len(), |s| s.first_block);
    let paragraphs = (0..body_end)
        .filter(|&b| !skip[b])
        .map(|b| blocks[b].lines.join(" "))
        .collect();

    let (signatory, signatory_title) = match &signature {
        Some(s) => {
            date = s.date.or(date);
            (s.name.clone(), s.title.clone())
        }
        None => (None, None),
    };
    let date = front.date.or(date);
    let addressees = match front.addressees {
        Some(list) if list.is_empty() => None,
        Some(list) => Some(AddresseeSource::List(list)),
        None => detected.source,
    };
    Ok(Statement {
        id: StatementId::from_parts(date, &normalised),
        title,
        date,
        signatory,
        signatory_title,
        paragraphs,
        addressees,
        file_name: file_name.to_string(),
        original: text.to_string(),
    })
}

/// What the front matter says; every field optional.
#[derive(Debug, Default)]
struct FrontMatter {
    title: Option<String>,
    date: Option<NaiveDate>,
    addressees: Option<Vec<String>>,
}

/// Reads `+++`-fenced TOML at the very top; returns it and the index of the first line after it.
fn front_matter(path: &str, lines: &[&str]) -> Result<(FrontMatter, usize), StatementError> {
    if lines.first().map(|l| l.trim()) != Some("+++") {
        return Ok((FrontMatter::default(), 0));
    }
    let invalid = |line: usize, message: String| StatementError::Invalid {
        path: path.to_string(),
        line,
        message,
    };
    let Some(close) = (1..lines.len()).find(|&i| lines[i].trim() == "+++") else {
        return Err(invalid(
            1,
            "the front matter opened by `+++` is never closed by another `+++` line".to_string(),
        ));
    };
    let content = lines[1..close].join("\n");
    let table: toml::Table = toml::from_str(&content).map_err(|e| {
        // Content line k (0-based) is file line k + 2: the opening `+++` is line 1.
        let line = 2 + e.span().map_or(0, |span| {
            content[..span.start.min(content.len())]
                .matches('\n')
                .count()
        });
        invalid(
            line,
            format!("invalid front matter: {}", e.message().trim()),
        )
    })?;
    let key_line = |key: &str| {
        (1..close)
            .find(|&i| {
                let l = lines[i].trim_start();
                l.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
                    || l.strip_prefix(&format!("\"{key}\"")).is_some()
            })
            .map_or(1, |i| i + 1)
    };
    let mut front = FrontMatter::default();
    for (key, value) in &table {
        match (key.as_str(), value) {
            ("title", toml::Value::String(s)) if !s.trim().is_empty() => front.title = Some(collapse_whitespace(s)),
            ("title", _) => return Err(invalid(key_line(key), "front matter `title` must be a non-empty string".to_string())),
            ("date", toml::Value::String(s)) => match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
                Ok(d) => front.date = Some(d),
                Err(_) => {
                    return Err(invalid(
                        key_line(key),
                        format!("front matter date `{s}` is not a date of the form YYYY-MM-DD"),
                    ))
                }
            },
            ("date", toml::Value::Datetime(dt)) => {
                let d = match (dt.date, dt.time) {
                    (Some(d), None) => NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()),
                    _ => None,
                };
                match d {
                    Some(d) => front.date = Some(d),
                    None => {
                        return Err(invalid(
                            key_line(key),
                            format!("front matter date `{dt}` is not a date of the form YYYY-MM-DD"),
                        ))
                    }
                }
            }
            ("date", other) => {
                return Err(invalid(
                    key_line(key),
                    format!("front matter date `{other}` is not a date of the form YYYY-MM-DD"),
                ))
            }
            ("addressees", toml::Value::Array(items)) => {
                let mut names = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        toml::Value::String(s) if !s.trim().is_empty() => names.push(s.clone()),
                        other => {
                            return Err(invalid(
                                key_line(key),
                                format!("front matter `addressees` holds `{other}`, not a name"),
                            ))
                        }
                    }
                }
                front.addressees = Some(names);
            }
            ("addressees", _) => {
                return Err(invalid(
                    key_line(key),
                    "front matter `addressees` must be a list of names, e.g. `addressees = [\"Council of Europe\"]`"
                        .to_string(),
                ))
            }
            (other, _) => {
                return Err(invalid(
                    key_line(other),
                    format!("unknown front matter key `{other}` (expected `title`, `date` or `addressees`)"),
                ))
            }
        }
    }
    Ok((front, close + 1))
}

/// Lines separated by blank lines, each line with its whitespace (NBSP included) collapsed.
#[derive(Debug)]
struct Block {
    lines: Vec<String>,
}

fn split_blocks(lines: &[&str]) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current = Vec::new();
    for line in lines {
        let line = collapse_whitespace(line);
        if line.is_empty() {
            if !current.is_empty() {
                blocks.push(Block {
                    lines: std::mem::take(&mut current),
                });
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        blocks.push(Block { lines: current });
    }
    blocks
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The addressees found in the text, the blocks that name them (not part of the body) and the
/// blocks that contain an addressee sentence after other text (part of the body).
struct Detected {
    source: Option<AddresseeSource>,
    blocks: Vec<usize>,
    containing: Vec<usize>,
}

/// An `Addressees:` / `Distribution:` list wins over an "addressed to" sentence; of several
/// paragraphs with such sentences, the last one counts (earlier ones are likelier to be body text
/// about some other letter).
fn find_addressees(blocks: &[Block]) -> Detected {
    for (b, block) in blocks.iter().enumerate() {
        let first = &block.lines[0];
        let Some(rest) = strip_list_heading(first) else {
            continue;
        };
        if !rest.is_empty() {
            // "Addressees: the UN, the Council of Europe" is a sentence, split by known names.
            let mut text = rest.to_string();
            for line in &block.lines[1..] {
                text.push(' ');
                text.push_str(line);
            }
            return Detected {
                source: Some(AddresseeSource::Sentence(text)),
                blocks: vec![b],
                containing: Vec::new(),
            };
        }
        let (items, used): (Vec<String>, Vec<usize>) = if block.lines.len() > 1 {
            (
                block.lines[1..]
                    .iter()
                    .map(|l| clean_list_item(l))
                    .collect(),
                vec![b],
            )
        } else if let Some(next) = blocks.get(b + 1) {
            (
                next.lines.iter().map(|l| clean_list_item(l)).collect(),
                vec![b, b + 1],
            )
        } else {
            (Vec::new(), vec![b])
        };
        let items: Vec<String> = items.into_iter().filter(|i| !i.is_empty()).collect();
        return Detected {
            source: (!items.is_empty()).then_some(AddresseeSource::List(items)),
            blocks: used,
            containing: Vec::new(),
        };
    }
    for (b, block) in blocks.iter().enumerate().rev() {
        let paragraph = block.lines.join(" ");
        let mut texts = Vec::new();
        let mut starts_block = false;
        for (start, end) in sentences(&paragraph) {
            if let Some(text) = addressed_to(&paragraph[start..end]) {
                starts_block |= start == 0;
                texts.push(text);
            }
        }
        if !texts.is_empty() {
            return Detected {
                source: Some(AddresseeSource::Sentence(texts.join("; "))),
                // Only a paragraph that opens with the sentence is the addressee paragraph; one
                // that merely contains it stays in the body.
                blocks: if starts_block { vec![b] } else { Vec::new() },
                containing: if starts_block { Vec::new() } else { vec![b] },
            };
        }
    }
    Detected {
        source: None,
        blocks: Vec::new(),
        containing: Vec::new(),
    }
}

/// The text after an `Addressees:`-style heading, if `line` is one.
fn strip_list_heading(line: &str) -> Option<&str> {
    const HEADINGS: &[&str] = &["addressees", "distribution list", "distribution"];
    for heading in HEADINGS {
        let Some(head) = line.get(..heading.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(heading) {
            continue;
        }
        let rest = line[heading.len()..].trim_start();
        if rest.is_empty() {
            return Some(rest);
        }
        if let Some(rest) = rest.strip_prefix(':') {
            return Some(rest.trim());
        }
    }
    None
}

/// In one sentence, the text after "addressed to" when the sentence is about its own addressees
/// ("This Statement is addressed to …", "The appeal is also addressed to …"): at most eight words
/// may come before "addressed".
fn addressed_to(sentence: &str) -> Option<String> {
    const NEEDLE: &str = "addressed to";
    let bytes = sentence.as_bytes();
    let at = (0..bytes.len().saturating_sub(NEEDLE.len() - 1)).find(|&i| {
        bytes[i..i + NEEDLE.len()].eq_ignore_ascii_case(NEEDLE.as_bytes())
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
            && !matches!(bytes.get(i + NEEDLE.len()), Some(b) if b.is_ascii_alphanumeric())
    })?;
    if sentence[..at].split_whitespace().count() > 8 {
        return None;
    }
    let text = sentence[at + NEEDLE.len()..]
        .trim_start_matches(|c: char| c == ':' || c.is_whitespace())
        .trim_end()
        .trim_end_matches(['.', '!', '?'])
        .trim_end();
    (!text.is_empty()).then(|| text.to_string())
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

/// The signature block: name, title lines and date, in the short blocks at the end.
struct Signature {
    first_block: usize,
    name: Option<String>,
    title: Option<String>,
    date: Option<NaiveDate>,
}

/// Walks back from the last block (past the addressee paragraph) over short blocks whose lines do
/// not end like sentences; those make the signature block.
fn find_signature(blocks: &[Block], skip: &[bool]) -> Option<Signature> {
    const MAX_LINE: usize = 120;
    const MAX_LINES: usize = 8;
    let mut first_block = None;
    let mut lines = 0;
    for b in (0..blocks.len()).rev() {
        if skip[b] {
            continue;
        }
        let block = &blocks[b];
        let signature_like = block.lines.iter().all(|l| {
            l.chars().count() <= MAX_LINE && (!ends_sentence(l) || parse_date_line(l).is_some())
        });
        if !signature_like || lines + block.lines.len() > MAX_LINES {
            break;
        }
        lines += block.lines.len();
        first_block = Some(b);
    }
    let first_block = first_block?;
    let mut date = None;
    let mut rest = Vec::new();
    for b in (first_block..blocks.len()).filter(|&b| !skip[b]) {
        for line in &blocks[b].lines {
            match parse_date_line(line) {
                Some(d) if date.is_none() => date = Some(d),
                Some(_) => {}
                None => rest.push(line.as_str()),
            }
        }
    }
    let name = rest.first().map(|s| s.to_string());
    let title = (rest.len() > 1).then(|| rest[1..].join(" "));
    Some(Signature {
        first_block,
        name,
        title,
        date,
    })
}

/// A line that is only a date, perhaps after a place or "Date:" ("Baku, 27 May 2021").
fn parse_date_line(line: &str) -> Option<NaiveDate> {
    if line.chars().count() > 60 {
        return None;
    }
    let line = line.trim();
    if let Some(d) = parse_date(line) {
        return Some(d);
    }
    let (_, rest) = line.split_once([',', ':'])?;
    parse_date(rest)
}

/// `27 May 2021`, `May 27, 2021`, `27th of May 2021`, `27.05.2021`, `2021-05-27`.
fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim().trim_end_matches('.');
    for format in ["%Y-%m-%d", "%d.%m.%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, format) {
            return Some(d);
        }
    }
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty() && !w.eq_ignore_ascii_case("of"))
        .collect();
    let [a, b, year] = words.as_slice() else {
        return None;
    };
    let (day, month) = match (month_number(a), month_number(b)) {
        (None, Some(m)) => (day_number(a)?, m),
        (Some(m), None) => (day_number(b)?, m),
        _ => return None,
    };
    if year.len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month, day)
}

fn day_number(word: &str) -> Option<u32> {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &word[digits.len()..];
    if !matches!(
        suffix.to_ascii_lowercase().as_str(),
        "" | "st" | "nd" | "rd" | "th"
    ) || digits.len() > 2
    {
        return None;
    }
    digits.parse().ok()
}

fn month_number(word: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let word = word.trim_end_matches('.').to_lowercase();
    if word.len() < 3 {
        return None;
    }
    let position = MONTHS.iter().position(|m| {
        *m == word
            || (word.len() <= 4 && m.starts_with(&word) && (word.len() == 3 || word == "sept"))
    })?;
    u32::try_from(position + 1).ok()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::{parse, AddresseeSource, Statement, StatementError};

    const SEED: &str = include_str!("../seeds/2021-05-27-kalbajar-statement.txt");

    fn ok(text: &str) -> Statement {
        match parse("statements/s.txt", "s.txt", text) {
            Ok(s) => s,
            Err(e) => panic!("`{text}` did not parse: {e}"),
        }
    }

    fn err(text: &str) -> String {
        match parse("statements/s.txt", "s.txt", text) {
            Ok(s) => panic!("`{text}` parsed: {s:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn sentence(s: &Statement) -> &str {
        match &s.addressees {
            Some(AddresseeSource::Sentence(text)) => text,
            other => panic!("expected an addressee sentence, got {other:?}"),
        }
    }

    fn list(s: &Statement) -> Vec<&str> {
        match &s.addressees {
            Some(AddresseeSource::List(items)) => items.iter().map(String::as_str).collect(),
            other => panic!("expected an addressee list, got {other:?}"),
        }
    }

    /// A statement with a title, one body paragraph, the given tail (signature, addressees).
    fn with_tail(tail: &str) -> String {
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
                "We thank you. It is addressed to the European Union!",
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
        let cases: &[(&str, &[&str])] = &[
            (
                "Addressees:\n- UN Security Council\n* the Council of Europe;\n• European Union\n1. UNESCO\n2) UNICEF.",
                &["UN Security Council", "Council of Europe", "European Union", "UNESCO", "UNICEF"],
            ),
            ("DISTRIBUTION:\n\n- UN Security Council\n- Council of Europe", &["UN Security Council", "Council of Europe"]),
            (
                "Distribution list\nUnited Nations Educational, Scientific and Cultural Organization",
                &["United Nations Educational, Scientific and Cultural Organization"],
            ),
        ];
        for (tail, items) in cases {
            let s = ok(&with_tail(&format!(
                "Sabina Aliyeva\n\n27 May 2021\n\n{tail}"
            )));
            assert_eq!(list(&s), *items, "`{tail}`");
            assert_eq!(s.paragraphs, ["We call for peace."], "`{tail}`");
            assert_eq!(s.date, date(2021, 5, 27), "`{tail}`");
        }
        let s = ok(&with_tail(
            "Sabina Aliyeva\n\nAddressees: the UN Security Council, the Council of Europe",
        ));
        assert_eq!(
            sentence(&s),
            "the UN Security Council, the Council of Europe"
        );
    }

    #[test]
    fn signature_dates_in_every_accepted_form() {
        let cases: &[(&str, Option<NaiveDate>)] = &[
            ("27 May 2021", date(2021, 5, 27)),
            ("May 27, 2021", date(2021, 5, 27)),
            ("27.05.2021", date(2021, 5, 27)),
            ("2021-05-27", date(2021, 5, 27)),
            ("27\u{a0}May\u{a0}2021", date(2021, 5, 27)),
            ("Baku, 27 May 2021", date(2021, 5, 27)),
            ("Baku, May 27, 2021", date(2021, 5, 27)),
            ("1st of June 2021", date(2021, 6, 1)),
            ("Sept. 3, 2021", date(2021, 9, 3)),
            ("31 February 2021", None),
            ("32.05.2021", None),
            ("May 2021", None),
        ];
        for (line, expected) in cases {
            let s = ok(&with_tail(&format!("Sabina Aliyeva\nCommissioner\n{line}")));
            assert_eq!(s.date, *expected, "`{line}`");
            assert_eq!(s.signatory.as_deref(), Some("Sabina Aliyeva"), "`{line}`");
            let prefix = expected.map_or("undated-".to_string(), |d| format!("{d}-"));
            assert!(s.id.as_str().starts_with(&prefix), "`{line}`: {}", s.id);
        }
    }

    #[test]
    fn a_date_in_the_body_is_not_the_statement_date() {
        let s = ok("Title\n\nOn May 27, 2021, something happened.\n\nSabina Aliyeva");
        assert_eq!(s.date, None);
        assert!(s.id.as_str().starts_with("undated-"));
        let s = ok("Title\n\n27 May 2021\n\nOn that day something happened.");
        assert_eq!(s.date, date(2021, 5, 27));
        assert_eq!(s.paragraphs, ["On that day something happened."]);
    }

    #[test]
    fn front_matter_wins_over_detection() {
        let text = "+++\ntitle = \"On “Peace”\"\ndate = \"2021-06-01\"\naddressees = [\"- the Council of Europe\", \"UNESCO\"]\n+++\n"
            .to_string()
            + &with_tail("Sabina Aliyeva\n\n27 May 2021\n\nThis Statement is addressed to the European Union.");
        let s = ok(&text);
        assert_eq!(s.title, "On “Peace”");
        assert_eq!(s.date, date(2021, 6, 1));
        assert!(s.id.as_str().starts_with("2021-06-01-"));
        assert_eq!(list(&s), ["- the Council of Europe", "UNESCO"]);
        assert_eq!(s.paragraphs, ["We call for peace."]);
        // The id covers the front matter too: changing it makes another statement.
        assert_ne!(ok(&text.replace("UNESCO", "UNICEF")).id, s.id);

        let s = ok("+++\ndate = 2021-06-01\n+++\nTitle\n\nBody.");
        assert_eq!((s.title.as_str(), s.date), ("Title", date(2021, 6, 1)));
        let s = ok("+++\ntitle = \"Given\"\n+++\nThe body starts at once.\n\nMore.");
        assert_eq!(s.title, "Given");
        assert_eq!(s.paragraphs, ["The body starts at once.", "More."]);
    }

    #[test]
    fn malformed_front_matter_is_an_error_with_its_line() {
        let cases: &[(&str, &str)] = &[
            (
                "+++\ntitle = \"A\"\ndate = \n+++\nT",
                "statements/s.txt:3: invalid front matter",
            ),
            (
                "+++\ntitle = \"A\"\ndate = \"27 May 2021\"\n+++\nT",
                "statements/s.txt:3: front matter date `27 May 2021` is not a date",
            ),
            (
                "+++\ntitle = \"A\"\n\naddressees = \"UNESCO\"\n+++\nT",
                "statements/s.txt:4: front matter `addressees` must be a list",
            ),
            (
                "+++\ntitel = \"A\"\n+++\nT",
                "statements/s.txt:2: unknown front matter key `titel`",
            ),
            (
                "+++\ntitle = \"A\"\nT",
                "statements/s.txt:1: the front matter opened by `+++` is never closed",
            ),
            (
                "+++\ntitle = 3\n+++\nT",
                "statements/s.txt:2: front matter `title` must be a non-empty string",
            ),
        ];
        for (text, message) in cases {
            let e = err(text);
            assert!(e.starts_with(message), "`{text}`: {e}");
            let crlf = err(&text.replace('\n', "\r\n"));
            assert_eq!(crlf, e, "CRLF changes the error of `{text}`");
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
