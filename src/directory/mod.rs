//! The recipients directory: every `recipients/*.toml` file loaded once into a [`Directory`] of
//! organisations and groups, validated as a whole so that every problem is reported together,
//! each with its file, line and offending value.
//!
//! Emails are parsed into `lettre::Address` at load, so an invalid address fails at load time and
//! never at send time.
//!
//! This file holds the checked types; `load` reads the folder and checks across files, `entries`
//! checks each entry's own values; `matching`, `resolve` and `suggest` turn addressee phrases
//! into entries.

mod entries;
mod load;
pub(crate) mod matching;
pub mod resolve;
#[cfg(test)]
mod shipped;
pub(crate) mod suggest;

#[cfg(test)]
pub(crate) use load::from_sources;
pub use load::load;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

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
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
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
pub(crate) struct Origin {
    pub(crate) file: PathBuf,
    pub(crate) line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One institution that receives one letter.
#[derive(Debug, Clone)]
pub struct Organization {
    pub(crate) id: OrgId,
    pub(crate) name: String,
    pub aliases: Vec<String>,
    /// One or more; the letter goes To all of them.
    pub(crate) emails: Vec<Address>,
    pub(crate) cc: Vec<Address>,
    /// ISO 639-1 code; picks `templates/<language>/`, falling back to `en`.
    pub(crate) language: String,
    pub(crate) salutation: Option<String>,
    pub(crate) contact: Option<String>,
    /// Titles of its head, in any language ("Secretary-General", "Генеральный секретарь"):
    /// "Secretary-General of the OIC" names the OIC itself.
    pub(crate) heads: Vec<String>,
    pub(crate) origin: Origin,
}

/// A named set of organisations: every organisation that lists the group's id in its `groups`.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) aliases: Vec<String>,
    /// Indexes into [`Directory::organizations`], in directory order.
    pub(crate) members: Vec<usize>,
    pub(crate) origin: Origin,
}

/// What a known name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    Organization(usize),
    Group(usize),
}

/// A known name: the entry it stands for and which of the entry's names it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Named {
    pub(crate) entry: Entry,
    /// 0 for the entry's `name`, `i + 1` for its alias `i`.
    pub(crate) written: usize,
}

/// The loaded, validated directory.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub organizations: Vec<Organization>,
    pub(crate) groups: Vec<Group>,
    /// Every name and alias of every organisation and group, keyed by
    /// [`crate::normalize::name_key`], so lookups ignore case, punctuation and Unicode form.
    pub(crate) names: HashMap<String, Named>,
    /// Every head title (by key) with the organisations that declare it.
    pub(crate) heads: HashMap<String, Vec<usize>>,
    by_id: HashMap<OrgId, usize>,
    /// The index of names for suggestions, built at the first phrase that needs one.
    suggest: std::sync::OnceLock<suggest::SuggestIndex>,
}

/// Two entries that claim the same name (after normalisation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameClash {
    pub(crate) name: String,
    pub(crate) first: Origin,
    pub(crate) second: Origin,
}

impl Directory {
    /// Indexes checked organisations and groups by id and by every name and alias.
    ///
    /// A name claimed by two different entries is a clash: both are reported and the first keeps
    /// the name. An entry repeating its own name as an alias is not a clash.
    pub(crate) fn new(
        organizations: Vec<Organization>,
        groups: Vec<Group>,
    ) -> (Directory, Vec<NameClash>) {
        let count = organizations
            .iter()
            .map(|o| 1 + o.aliases.len())
            .chain(groups.iter().map(|g| 1 + g.aliases.len()))
            .sum();
        // Sized once: growing a map of tens of thousands of names rehashes every key many times.
        let mut names: HashMap<String, Named> = HashMap::with_capacity(count);
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
            for (written, n) in std::iter::once(name).chain(aliases.iter()).enumerate() {
                let key = crate::normalize::name_key(n);
                if key.is_empty() {
                    continue;
                }
                match names.get(&key) {
                    Some(existing) if existing.entry != entry => clashes.push(NameClash {
                        name: n.clone(),
                        first: origin_of(existing.entry),
                        second: origin.clone(),
                    }),
                    Some(_) => {}
                    None => {
                        names.insert(key, Named { entry, written });
                    }
                }
            }
        }
        let mut heads: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, o) in organizations.iter().enumerate() {
            for title in &o.heads {
                let key = crate::normalize::name_key(title);
                let declared = heads.entry(key).or_default();
                if declared.last() != Some(&i) {
                    declared.push(i);
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
                heads,
                by_id,
                suggest: std::sync::OnceLock::new(),
            },
            clashes,
        )
    }

    /// The name or alias `written` of an entry, as the directory writes it.
    pub(crate) fn written(&self, named: Named) -> Option<&str> {
        let (name, aliases) = match named.entry {
            Entry::Organization(i) => self.organizations.get(i).map(|o| (&o.name, &o.aliases))?,
            Entry::Group(g) => self.groups.get(g).map(|g| (&g.name, &g.aliases))?,
        };
        match named.written {
            0 => Some(name),
            n => aliases.get(n - 1).map(String::as_str),
        }
    }

    /// The index of names for suggestions, built once, at the first phrase that needs one.
    pub(crate) fn suggest_index(&self) -> &suggest::SuggestIndex {
        self.suggest
            .get_or_init(|| suggest::SuggestIndex::new(self))
    }

    /// The entry's own name.
    pub(crate) fn entry_name(&self, entry: Entry) -> &str {
        self.written(Named { entry, written: 0 }).unwrap_or("")
    }

    pub(crate) fn organization(&self, id: &OrgId) -> Option<&Organization> {
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
pub(crate) struct DirectoryError {
    /// `recipients/un.toml:12`, or only the file where no line applies.
    pub(crate) file: PathBuf,
    pub(crate) line: Option<usize>,
    /// ``"`sg@un` is not a valid email address"``
    pub(crate) message: String,
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
pub struct DirectoryErrors(pub(crate) Vec<DirectoryError>);

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

#[cfg(test)]
// A failed setup step should fail the test on the spot.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::load::tests::sources;
    use super::*;

    impl Directory {
        /// The entry a name stands for, if the directory knows it.
        pub(super) fn lookup(&self, name: &str) -> Option<Entry> {
            self.names
                .get(&crate::normalize::name_key(name))
                .map(|n| n.entry)
        }
    }

    #[test]
    fn a_valid_directory_spans_files_and_indexes_members_in_order() {
        let a = r#"
[[organization]]
id = "ioi"
name = "International Ombudsman Institute"
aliases = ["IOI"]
emails = ["ioi@ioi.example"]
language = "en"
salutation = "Dear Sir or Madam"
groups = ["ombudsmen", "networks"]

[[group]]
id = "ombudsmen"
name = "Ombudsman institutions"
aliases = ["different ombudsmen"]
"#;
        let b = r#"
[[organization]]
id = "defenseur"
name = "Défenseur des droits"
emails = ["contact@defenseur.example"]
cc = ["copie@defenseur.example"]
language = "fr"
groups = ["ombudsmen"]

[[group]]
id = "networks"
name = "Ombudsman networks"
"#;
        let d = match from_sources(&sources(&[("a.toml", a), ("b.toml", b)])) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(d.len(), 2);
        let ioi = &d.organizations[0];
        assert_eq!(ioi.origin.to_string(), "recipients/a.toml:2");
        assert_eq!(ioi.emails[0].to_string(), "ioi@ioi.example");
        assert_eq!(d.organizations[1].language, "fr");
        assert_eq!(d.organizations[1].cc.len(), 1);
        assert_eq!(d.groups[0].members, [0, 1]);
        assert_eq!(d.groups[1].members, [0]);
        assert_eq!(d.lookup("different ombudsmen"), Some(Entry::Group(0)));
        assert_eq!(d.lookup("ioi"), Some(Entry::Organization(0)));
        let id = OrgId::new("defenseur").map(|id| d.organization(&id).map(|o| o.name.clone()));
        assert_eq!(id, Some(Some("Défenseur des droits".to_string())));
    }
}
