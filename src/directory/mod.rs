//! The recipients directory: every `recipients/*.toml` file loaded once into a [`Directory`] of
//! organisations and groups, validated as a whole so that every problem is reported together,
//! each with its file, line and offending value.
//!
//! Emails are parsed into `lettre::Address` here, so an invalid address fails at load time and
//! never at send time.

pub mod resolve;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use lettre::Address;
use serde::Serialize;

/// An organisation id: unique in the whole directory, `a-z`, `0-9` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OrgId(String);

impl OrgId {
    /// Checks the id's alphabet; `None` when it has other characters or is empty.
    pub fn new(id: &str) -> Option<OrgId> {
        let ok = !id.is_empty()
            && id.len() <= 128
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !id.starts_with('-')
            && !id.ends_with('-');
        ok.then(|| OrgId(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an entry was defined, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One institution that receives one letter.
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub aliases: Vec<String>,
    /// One or more; the letter goes To all of them.
    pub emails: Vec<Address>,
    pub cc: Vec<Address>,
    /// ISO 639-1 code; picks `templates/<language>/`, falling back to `en`.
    pub language: String,
    pub salutation: Option<String>,
    pub contact: Option<String>,
    /// Ids of the groups it belongs to.
    pub groups: Vec<String>,
    pub origin: Origin,
}

/// A named set of organisations: every organisation that lists the group's id in its `groups`.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub aliases: Vec<String>,
    /// Indexes into [`Directory::organizations`], in directory order.
    pub members: Vec<usize>,
    pub origin: Origin,
}

/// What a known name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    Organization(usize),
    Group(usize),
}

/// The loaded, validated directory.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub organizations: Vec<Organization>,
    pub groups: Vec<Group>,
    /// Every name and alias of every organisation and group, keyed by
    /// [`crate::normalize::name_key`], so lookups ignore case, punctuation and Unicode form.
    pub names: HashMap<String, Entry>,
    by_id: HashMap<OrgId, usize>,
}

/// Two entries that claim the same name (after normalisation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameClash {
    pub name: String,
    pub first: Origin,
    pub second: Origin,
}

impl Directory {
    /// Indexes checked organisations and groups by id and by every name and alias.
    ///
    /// A name claimed by two different entries is a clash: both are reported and the first keeps
    /// the name. An entry repeating its own name as an alias is not a clash.
    pub fn new(organizations: Vec<Organization>, groups: Vec<Group>) -> (Directory, Vec<NameClash>) {
        let mut names: HashMap<String, Entry> = HashMap::new();
        let mut clashes = Vec::new();
        let entries = organizations
            .iter()
            .enumerate()
            .map(|(i, o)| (Entry::Organization(i), &o.name, &o.aliases, &o.origin))
            .chain(
                groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| (Entry::Group(i), &g.name, &g.aliases, &g.origin)),
            );
        let origin_of = |entry: Entry| match entry {
            Entry::Organization(i) => organizations[i].origin.clone(),
            Entry::Group(i) => groups[i].origin.clone(),
        };
        for (entry, name, aliases, origin) in entries {
            for n in std::iter::once(name).chain(aliases.iter()) {
                let key = crate::normalize::name_key(n);
                if key.is_empty() {
                    continue;
                }
                match names.get(&key) {
                    Some(&existing) if existing != entry => clashes.push(NameClash {
                        name: n.clone(),
                        first: origin_of(existing),
                        second: origin.clone(),
                    }),
                    Some(_) => {}
                    None => {
                        names.insert(key, entry);
                    }
                }
            }
        }
        let by_id = organizations
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.clone(), i))
            .collect();
        (
            Directory {
                organizations,
                groups,
                names,
                by_id,
            },
            clashes,
        )
    }

    /// The entry a name stands for, if the directory knows it.
    pub fn lookup(&self, name: &str) -> Option<Entry> {
        self.names.get(&crate::normalize::name_key(name)).copied()
    }

    pub fn organization(&self, id: &OrgId) -> Option<&Organization> {
        self.by_id.get(id).map(|&i| &self.organizations[i])
    }

    pub fn len(&self) -> usize {
        self.organizations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.organizations.is_empty()
    }
}

/// One problem found while loading the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryError {
    /// `recipients/un.toml:12`, or only the file where no line applies.
    pub file: PathBuf,
    pub line: Option<usize>,
    /// ``"`sg@un` is not a valid email address"``
    pub message: String,
}

impl fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every problem of a directory, in file and line order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryErrors(pub Vec<DirectoryError>);

impl fmt::Display for DirectoryErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the recipients directory has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DirectoryErrors {}

/// Loads every `*.toml` file of `dir` (sorted by name) into a directory.
pub fn load(dir: &Path) -> Result<Directory, DirectoryErrors> {
    let _ = dir;
    unimplemented!("directory loading")
}

/// Builds a directory from `(file name, text)` pairs, as if read from disk; pure.
pub fn from_sources(sources: &[(PathBuf, String)]) -> Result<Directory, DirectoryErrors> {
    let _ = sources;
    unimplemented!("directory validation")
}
