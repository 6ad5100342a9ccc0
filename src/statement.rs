//! A statement's text → [`Statement`]: title, date, signatory, body paragraphs and the text that
//! names its addressees. Pure: no files, no clock.
//!
//! The statement id is `<date>-<first 8 hex digits of SHA-256 of the normalised text>` (DESIGN.md):
//! normalising line endings and trailing whitespace first means that re-saving a file with CRLF
//! or an extra final newline does not make a new statement, while any change of wording does.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;

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
pub fn parse(path: &str, file_name: &str, text: &str) -> Result<Statement, StatementError> {
    let _ = (path, file_name, text);
    unimplemented!("statement parsing")
}
