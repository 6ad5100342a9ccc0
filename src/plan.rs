//! From a statement file to the letters it calls for: read, parse, resolve, and refuse anything
//! that cannot go out as it stands (no addressees, passages that disagree, an addressee not in
//! the directory, no date).
//!
//! `dispatch`, `resolve`, `check` and the daemon all start here, so a statement is judged the
//! same way whichever command meets it.

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use crate::directory::resolve::{self, Resolution};
use crate::directory::Directory;
use crate::error::{Error, Result};
use crate::normalize::name_key;
use crate::statement::{self, AddresseeSource, DateOrder, Statement, StatementError};

/// How statements are read and judged: from the configuration and the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Reading {
    /// `[statement] date_order`.
    pub(crate) date_order: DateOrder,
    /// `herald dispatch --allow-undated`: a statement without a date may go out.
    pub(crate) allow_undated: bool,
}

/// A statement and the organisations it reaches.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) statement: Statement,
    pub(crate) resolution: Resolution,
    /// Every addressee phrase as written, for the letters' context.
    pub(crate) addressees: Vec<String>,
    /// The passages whose phrases these are (indexes into `statement.passages`), in order.
    pub(crate) passages: Vec<usize>,
    /// Where each phrase of `resolution.phrases` stands: its passage and its line in the file.
    pub(crate) origins: Vec<PhraseOrigin>,
}

/// The passage (index into the statement's passages) and file line a phrase comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PhraseOrigin {
    pub(crate) passage: usize,
    pub(crate) line: usize,
}

impl Plan {
    /// The ids of the organisations it writes to, in order of first mention.
    pub(crate) fn organization_ids<'a>(&self, directory: &'a Directory) -> Vec<&'a str> {
        self.resolution
            .letters
            .iter()
            .map(|&i| directory.organizations[i].id.as_str())
            .collect()
    }
}

/// Reads and parses a statement file of at most `max_bytes` (`[statement] max_bytes`); errors
/// name the file as given.
pub(crate) fn read_statement(
    path: &Path,
    max_bytes: u64,
    order: DateOrder,
) -> Result<Statement, StatementError> {
    let bytes = read_bounded(path, max_bytes).map_err(|source| StatementError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_statement(path, bytes, order)
}

/// Parses the bytes read from the statement file at `path` (which names it in errors and gives
/// the attachment its name; the file is not opened again).
pub(crate) fn parse_statement(
    path: &Path,
    bytes: Vec<u8>,
    order: DateOrder,
) -> Result<Statement, StatementError> {
    let shown = path.display().to_string();
    let text = statement::decode(&shown, bytes)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "statement.txt".to_string());
    statement::parse_in_order(&shown, &file_name, &text, order)
}

/// The file's bytes, refused when there are more than `max_bytes`: a statement is copied into
/// every letter and preview, so a huge file (or a device that never ends) would fill the disk.
/// The size is checked before reading and again while reading (the file may grow).
pub(crate) fn read_bounded(path: &Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    read_at_most(std::fs::File::open(path)?, max_bytes)
}

/// Reads an opened statement file of at most `max_bytes`, refusing a larger one before reading
/// it (by its size) and while reading it (should it grow).
pub(crate) fn read_at_most(file: std::fs::File, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let too_large = |size: String| {
        std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!(
                "it is {size} bytes, more than the limit of {max_bytes} bytes \
                 (`[statement] max_bytes` in the configuration)"
            ),
        )
    };
    let size = file.metadata()?.len();
    if size > max_bytes {
        return Err(too_large(size.to_string()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(format!("more than {max_bytes}")));
    }
    Ok(bytes)
}

/// Resolves the statement's addressees, without judging whether they all resolved.
///
/// Every passage is resolved on its own. Passages naming the addressees (not copies) must name
/// the same institutions, or the statement is refused naming both: a clerk asks rather than
/// guesses. The addressees are then those of the first such passage, followed by those of every
/// passage of copies.
pub(crate) fn resolve(
    directory: &Directory,
    statement: Statement,
    shown: &str,
) -> Result<Plan, StatementError> {
    let passages = &statement.passages;
    if passages.is_empty() {
        return Err(StatementError::NoAddressees {
            path: shown.to_string(),
        });
    }
    let resolved: Vec<Resolution> = passages
        .iter()
        .map(|p| resolve::resolve(directory, &p.source))
        .collect();
    let main: Vec<usize> = (0..passages.len())
        .filter(|&i| !passages[i].copies)
        .collect();
    if let Some(&first) = main.first() {
        let named = institutions(&resolved[first]);
        if let Some(&other) = main[1..]
            .iter()
            .find(|&&i| institutions(&resolved[i]) != named)
        {
            let (a, b) = (&passages[first], &passages[other]);
            return Err(StatementError::Disagreeing {
                path: shown.to_string(),
                first: (a.first_line, a.text.clone()),
                second: (b.first_line, b.text.clone()),
            });
        }
    }
    // The addressees first, then the copies, each in the order of the text.
    let used: Vec<usize> = main
        .first()
        .copied()
        .into_iter()
        .chain((0..passages.len()).filter(|&i| passages[i].copies))
        .collect();

    let mut phrases = Vec::new();
    let mut origins = Vec::new();
    let mut letters = Vec::new();
    // Each organisation once (a set: a group of 20,000 made the list's own search quadratic).
    let mut seen = HashSet::new();
    for &p in &used {
        let passage = &passages[p];
        let mut cursor = 0;
        for phrase in &resolved[p].phrases {
            let line = match &passage.source {
                AddresseeSource::Sentence(text) => match locate(text, &phrase.phrase, cursor) {
                    Some((start, end)) => {
                        cursor = end;
                        passage.line_at(start)
                    }
                    None => passage.line_at(cursor),
                },
                AddresseeSource::List(_) => passage.first_line,
            };
            origins.push(PhraseOrigin { passage: p, line });
            phrases.push(phrase.clone());
        }
        for &i in &resolved[p].letters {
            if seen.insert(i) {
                letters.push(i);
            }
        }
    }
    let resolution = Resolution { phrases, letters };
    let addressees = resolution
        .phrases
        .iter()
        .map(|p| p.phrase.clone())
        .collect();
    Ok(Plan {
        statement,
        resolution,
        addressees,
        passages: used,
        origins,
    })
}

/// What a passage names, to compare passages: the organisations it resolved to, and each phrase
/// that resolved to none.
fn institutions(resolution: &Resolution) -> BTreeSet<String> {
    resolution
        .phrases
        .iter()
        .flat_map(|p| {
            if p.organizations.is_empty() {
                vec![format!("?{}", name_key(&p.phrase))]
            } else {
                p.organizations
                    .iter()
                    .map(|o| o.as_str().to_string())
                    .collect()
            }
        })
        .collect()
}

/// The byte range of `phrase` in `text` at or after `from`, whitespace runs matching any
/// whitespace (a phrase is written with single spaces; the text may hold line breaks).
fn locate(text: &str, phrase: &str, from: usize) -> Option<(usize, usize)> {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    let first = *words.first()?;
    let mut at = from;
    while let Some(found) = text.get(at..)?.find(first) {
        let start = at + found;
        let mut end = start + first.len();
        let mut ok = true;
        for word in &words[1..] {
            let rest = &text[end..];
            let spaces = rest.len() - rest.trim_start().len();
            if spaces == 0 || !rest[spaces..].starts_with(word) {
                ok = false;
                break;
            }
            end += spaces + word.len();
        }
        if ok {
            return Some((start, end));
        }
        at = start + first.len();
    }
    None
}

/// Reads, parses and resolves; refuses a statement with any unresolved addressee, or without a
/// date unless `reading.allow_undated`.
pub(crate) fn plan(
    directory: &Directory,
    path: &Path,
    max_bytes: u64,
    reading: Reading,
) -> Result<Plan> {
    let statement = read_statement(path, max_bytes, reading.date_order)?;
    plan_statement(directory, statement, path, reading)
}

/// [`plan`] for a statement already read from `path`.
pub(crate) fn plan_statement(
    directory: &Directory,
    statement: Statement,
    path: &Path,
    reading: Reading,
) -> Result<Plan> {
    let shown = path.display().to_string();
    let plan = resolve(directory, statement, &shown)?;
    plan.resolution.require_complete_at(
        &shown,
        &plan.origins.iter().map(|o| o.line).collect::<Vec<_>>(),
    )?;
    if plan.resolution.letters.is_empty() {
        return Err(Error::Statement(StatementError::NoAddressees {
            path: shown,
        }));
    }
    if plan.statement.date.is_none() && !reading.allow_undated {
        return Err(Error::Statement(StatementError::Undated { path: shown }));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::{locate, resolve};
    use crate::directory::resolve::seed_directory;
    use crate::statement::{parse, StatementError};

    /// The letters (organisation ids) and each phrase's line, or the lines of two passages that
    /// disagree.
    type Judgement = Result<(Vec<String>, Vec<usize>), (usize, usize)>;

    fn judge(text: &str) -> Judgement {
        let directory = seed_directory();
        let statement = parse("s.txt", "s.txt", text).expect("parses");
        match resolve(&directory, statement, "s.txt") {
            Ok(plan) => Ok((
                plan.organization_ids(&directory)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
                plan.origins.iter().map(|o| o.line).collect(),
            )),
            Err(StatementError::Disagreeing { first, second, .. }) => Err((first.0, second.0)),
            Err(e) => panic!("`{text}`: {e}"),
        }
    }

    #[test]
    fn passages_agree_add_copies_or_are_refused() {
        let ok = |ids: &[&str], lines: &[usize]| {
            Ok((ids.iter().map(|s| s.to_string()).collect(), lines.to_vec()))
        };
        let cases: &[(&str, Judgement)] = &[
            (
                "T\n\nThis statement is addressed to UNESCO and the OSCE.\n\nAddressees:\n- United Nations Educational, Scientific and Cultural Organization\n- Organization for Security and Co-operation in Europe",
                ok(&["unesco", "osce"], &[3, 3]),
            ),
            (
                "T\n\nThis statement is addressed to UNESCO.\n\nAddressees:\n- OSCE",
                Err((3, 5)),
            ),
            (
                "T\n\nThis statement is addressed to UNESCO\nand the OSCE.\n\nCopy to: UNICEF, UNESCO",
                ok(&["unesco", "osce", "unicef"], &[3, 4, 6, 6]),
            ),
            (
                "T\n\nThe statement is also sent to UNICEF.\n\nCopy to: OSCE",
                ok(&["unicef", "osce"], &[3, 5]),
            ),
            (
                "T\n\nCopy to: OSCE\n\nThis statement is addressed to UNICEF.",
                ok(&["unicef", "osce"], &[5, 3]),
            ),
            (
                "T\n\nAddressees:\n1. UNESCO\n2. OSCE\n\nWe address this statement to the OSCE and UNESCO.",
                ok(&["unesco", "osce"], &[4, 5]),
            ),
            (
                "+++\naddressees = [\"OSCE\"]\n+++\nT\n\nThis statement is addressed to UNESCO.\n\nAddressees: UNICEF",
                ok(&["osce"], &[2]),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(judge(text), *expected, "`{text}`");
        }
    }

    #[test]
    fn a_phrase_is_found_in_its_passage_across_line_breaks() {
        type Case<'a> = (&'a str, &'a str, usize, Option<(usize, usize)>);
        let cases: &[Case] = &[
            ("the UN and the OSCE", "OSCE", 0, Some((15, 19))),
            (
                "Council\nof Europe, OSCE",
                "Council of Europe",
                0,
                Some((0, 17)),
            ),
            ("OSCE, OSCE", "OSCE", 1, Some((6, 10))),
            ("UNESCO", "OSCE", 0, None),
            ("", "OSCE", 0, None),
        ];
        for (text, phrase, from, expected) in cases {
            assert_eq!(
                locate(text, phrase, *from),
                *expected,
                "`{phrase}` in `{text}`"
            );
        }
    }
}
