//! Addressee phrases → organisations (pure).
//!
//! A phrase resolves only to the entry whose whole name it is, never to a broader organisation
//! whose name it merely contains ("the OSCE Office for Democratic Institutions and Human Rights"
//! never goes to the OSCE). A group resolves to all its members. Each organisation gets one letter
//! however many phrases name it. A phrase that matches nothing comes back with up to three
//! suggestions.

use std::fmt;

use serde::Serialize;

use super::{Directory, OrgId};
use crate::statement::AddresseeSource;

/// One addressee phrase and what it resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedPhrase {
    /// The phrase as it stands in the statement (leading "the"/"to" dropped).
    pub phrase: String,
    pub organizations: Vec<OrgId>,
    /// Closest names, when `organizations` is empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
}

/// The outcome of resolving one statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub phrases: Vec<ResolvedPhrase>,
    /// Indexes into [`Directory::organizations`]: each organisation once, in order of first mention.
    pub letters: Vec<usize>,
}

impl Resolution {
    pub fn unresolved(&self) -> impl Iterator<Item = &ResolvedPhrase> {
        self.phrases.iter().filter(|p| p.organizations.is_empty())
    }

    /// `Err` naming every unresolved phrase with its suggestions.
    pub fn require_complete(&self, statement: &str) -> Result<(), Unresolved> {
        let phrases: Vec<ResolvedPhrase> = self.unresolved().cloned().collect();
        if phrases.is_empty() {
            Ok(())
        } else {
            Err(Unresolved {
                statement: statement.to_string(),
                phrases,
            })
        }
    }
}

/// Addressee phrases that matched nothing in the directory.
#[derive(Debug, Clone)]
pub struct Unresolved {
    /// The statement file as the user named it.
    pub statement: String,
    pub phrases: Vec<ResolvedPhrase>,
}

impl fmt::Display for Unresolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.phrases.len();
        write!(
            f,
            "{}: {n} addressee{} not found in the recipients directory:",
            self.statement,
            if n == 1 { " was" } else { "s were" }
        )?;
        for p in &self.phrases {
            write!(f, "\n  `{}`", p.phrase)?;
            if !p.suggestions.is_empty() {
                let s: Vec<String> = p.suggestions.iter().map(|s| format!("`{s}`")).collect();
                write!(f, " (did you mean {}?)", s.join(", "))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Unresolved {}

/// Resolves a statement's addressees against the directory.
pub fn resolve(directory: &Directory, addressees: &AddresseeSource) -> Resolution {
    let _ = (directory, addressees);
    unimplemented!("resolution")
}
