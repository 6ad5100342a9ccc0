//! The top-level error of a herald run and the exit status it maps to.
//!
//! Each pipeline stage has its own error type; they meet here so that `main` can print one clear
//! message and choose the exit status (README.md, "Using it"): 2 for invalid input or
//! configuration (nothing was sent), 1 when some letters were not delivered.

use std::path::PathBuf;

/// Everything that can end a herald command early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// A configuration file problem.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A statement that cannot be read or parsed.
    #[error(transparent)]
    Statement(#[from] crate::statement::StatementError),
    /// The recipients directory has problems (all of them are listed).
    #[error(transparent)]
    Directory(#[from] crate::directory::DirectoryErrors),
    /// Addressees that matched nothing.
    #[error(transparent)]
    Unresolved(#[from] crate::directory::resolve::Unresolved),
    /// Templates that do not load or render.
    #[error(transparent)]
    Letters(#[from] crate::letters::LetterError),
    /// The journal could not be opened, read or written.
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    /// The transport could not be set up.
    #[error(transparent)]
    Delivery(#[from] crate::delivery::DeliveryError),
    /// Reading or writing a file of the user's.
    #[error("{}: {}", path.display(), plain(source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A refusal that is the user's to fix (no `--yes` without a terminal, a bad filter, …).
    #[error("{0}")]
    Usage(String),
    /// The run finished, but some letters were not delivered; the summary was already printed.
    #[error("{0}")]
    Undelivered(String),
    /// `herald verify` found the journal altered; the report was already printed.
    #[error("{0}")]
    Integrity(String),
}

impl Error {
    /// The exit status for this error: 1 undelivered, 2 invalid input (README.md, "Using it").
    pub(crate) fn code(&self) -> u8 {
        match self {
            Error::Undelivered(_) | Error::Integrity(_) => 1,
            // Refused before anything was sent.
            Error::Journal(crate::journal::JournalError::Untrusted { .. }) => 2,
            // The means of sending could not be set up: nothing was sent.
            Error::Delivery(crate::delivery::DeliveryError::Setup(_)) => 2,
            Error::Journal(_) | Error::Delivery(_) => 1,
            Error::Config(_)
            | Error::Statement(_)
            | Error::Directory(_)
            | Error::Unresolved(_)
            | Error::Letters(_)
            | Error::Io { .. }
            | Error::Usage(_) => 2,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// Letter errors as lines to show, the same mistake once: the rendering errors that differ only
/// by organisation (a template variable misspelt fails for every letter alike) become one line
/// saying how many letters and which, in the order first met.
/// An I/O error as a person reads it: the system's words ("No such file or directory"), without
/// the " (os error 2)" that Rust adds for programmers.
pub(crate) fn plain(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

pub(crate) fn grouped(errors: Vec<crate::letters::LetterError>) -> Vec<String> {
    use crate::letters::LetterError;
    let mut flat = Vec::with_capacity(errors.len());
    let mut queue = errors;
    while !queue.is_empty() {
        for e in std::mem::take(&mut queue) {
            match e {
                LetterError::Many(more) => queue.extend(more),
                other => flat.push(other),
            }
        }
    }
    // (path, message) → organisations, in first-seen order; other errors keep their place.
    type Group = (Option<(PathBuf, String)>, Vec<String>, String);
    let mut groups: Vec<Group> = Vec::new();
    for e in flat {
        match e {
            LetterError::Render {
                path,
                organization,
                message,
            } => {
                let key = Some((path, message));
                match groups.iter_mut().find(|(k, _, _)| *k == key) {
                    Some((_, orgs, _)) => orgs.push(organization),
                    None => groups.push((key, vec![organization], String::new())),
                }
            }
            other => groups.push((None, Vec::new(), other.to_string())),
        }
    }
    groups
        .into_iter()
        .map(|(key, orgs, line)| match key {
            None => line,
            Some((path, message)) if orgs.len() == 1 => {
                format!("{}: rendering for `{}`: {message}", path.display(), orgs[0])
            }
            Some((path, message)) => {
                let named: Vec<String> = orgs.iter().map(|o| format!("`{o}`")).collect();
                format!(
                    "{}: {} letters: {message} (for {})",
                    path.display(),
                    orgs.len(),
                    named.join(", ")
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_read_without_their_number() {
        let missing = std::io::Error::from_raw_os_error(2);
        assert!(missing.to_string().ends_with("(os error 2)"), "{missing}");
        assert_eq!(plain(&missing), "No such file or directory");
        let made = std::io::Error::other("the disk (os error) is full");
        assert_eq!(plain(&made), "the disk (os error) is full");
    }
}
