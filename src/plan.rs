//! From a statement file to the letters it calls for: read, parse, resolve, and refuse anything
//! that cannot go out as it stands (no addressees, an addressee not in the directory).
//!
//! `dispatch`, `resolve`, `check` and the daemon all start here, so a statement is judged the
//! same way whichever command meets it.

use std::path::Path;

use crate::directory::resolve::{self, Resolution};
use crate::directory::Directory;
use crate::error::{Error, Result};
use crate::statement::{self, Statement, StatementError};

/// A statement and the organisations it reaches.
#[derive(Debug, Clone)]
pub struct Plan {
    pub statement: Statement,
    pub resolution: Resolution,
    /// Every addressee phrase as written, for the letters' context.
    pub addressees: Vec<String>,
}

impl Plan {
    /// The ids of the organisations it writes to, in order of first mention.
    pub fn organization_ids<'a>(&self, directory: &'a Directory) -> Vec<&'a str> {
        self.resolution
            .letters
            .iter()
            .map(|&i| directory.organizations[i].id.as_str())
            .collect()
    }
}

/// Reads and parses a statement file of at most `max_bytes` (`[statement] max_bytes`); errors
/// name the file as given.
pub fn read_statement(path: &Path, max_bytes: u64) -> Result<Statement, StatementError> {
    let bytes = read_bounded(path, max_bytes).map_err(|source| StatementError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse_statement(path, bytes)
}

/// Parses the bytes read from the statement file at `path` (which names it in errors and gives
/// the attachment its name; the file is not opened again).
pub fn parse_statement(path: &Path, bytes: Vec<u8>) -> Result<Statement, StatementError> {
    let shown = path.display().to_string();
    let text = statement::decode(&shown, bytes)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "statement.txt".to_string());
    statement::parse(&shown, &file_name, &text)
}

/// The file's bytes, refused when there are more than `max_bytes`: a statement is copied into
/// every letter and preview, so a huge file (or a device that never ends) would fill the disk.
/// The size is checked before reading and again while reading (the file may grow).
pub fn read_bounded(path: &Path, max_bytes: u64) -> std::io::Result<Vec<u8>> {
    read_at_most(std::fs::File::open(path)?, max_bytes)
}

/// Reads an opened statement file of at most `max_bytes`, refusing a larger one before reading
/// it (by its size) and while reading it (should it grow).
pub fn read_at_most(file: std::fs::File, max_bytes: u64) -> std::io::Result<Vec<u8>> {
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

/// Resolves the statement's addressees, without judging the result.
pub fn resolve(
    directory: &Directory,
    statement: Statement,
    shown: &str,
) -> Result<Plan, StatementError> {
    let Some(source) = statement.addressees.as_ref() else {
        return Err(StatementError::NoAddressees {
            path: shown.to_string(),
        });
    };
    let resolution = resolve::resolve(directory, source);
    let addressees = resolution
        .phrases
        .iter()
        .map(|p| p.phrase.clone())
        .collect();
    Ok(Plan {
        statement,
        resolution,
        addressees,
    })
}

/// Reads, parses and resolves; refuses a statement with any unresolved addressee.
pub fn plan(directory: &Directory, path: &Path, max_bytes: u64) -> Result<Plan> {
    plan_statement(directory, read_statement(path, max_bytes)?, path)
}

/// [`plan`] for a statement already read from `path`.
pub fn plan_statement(directory: &Directory, statement: Statement, path: &Path) -> Result<Plan> {
    let shown = path.display().to_string();
    let plan = resolve(directory, statement, &shown)?;
    plan.resolution.require_complete(&shown)?;
    if plan.resolution.letters.is_empty() {
        return Err(Error::Statement(StatementError::NoAddressees {
            path: shown,
        }));
    }
    Ok(plan)
}
