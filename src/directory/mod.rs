//! The recipients directory: every `recipients/*.toml` file loaded once into a [`Directory`] of
//! organisations and groups, validated as a whole so that every problem is reported together,
//! each with its file, line and offending value.
//!
//! Emails are parsed into `lettre::Address` here, so an invalid address fails at load time and
//! never at send time.

pub(crate) mod matching;
pub mod resolve;
pub(crate) mod suggest;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use lettre::Address;
use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

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
    /// Ids of the groups it belongs to, as the file wrote them. Loading turns them into each
    /// group's `members`, which is what resolution reads.
    #[expect(dead_code, reason = "membership is read from `Group::members`")]
    pub(crate) groups: Vec<String>,
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

/// Loads every `*.toml` file of `dir` (sorted by name) into a directory.
///
/// Hidden files and files with other extensions are ignored, so an editor's backup or a README
/// can sit next to the data. A missing folder, or one without any `*.toml` file, is an error:
/// a directory that knows nobody would make every statement unresolvable.
pub fn load(dir: &Path) -> Result<Directory, DirectoryErrors> {
    let folder_error = |message: String| {
        DirectoryErrors(vec![DirectoryError {
            file: dir.to_path_buf(),
            line: None,
            message,
        }])
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| folder_error(format!("cannot read the recipients folder: {e}")))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry =
            entry.map_err(|e| folder_error(format!("cannot read the recipients folder: {e}")))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') || !name.ends_with(".toml") {
            continue;
        }
        // Follows symlinks, so a linked data file counts; a folder named `x.toml` does not.
        if std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
            names.push(name.to_string());
        }
    }
    if names.is_empty() {
        return Err(folder_error(
            "the recipients folder holds no `*.toml` file".to_string(),
        ));
    }
    names.sort();

    let mut errors = Vec::new();
    let mut sources = Vec::with_capacity(names.len());
    for name in names {
        let path = dir.join(&name);
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => sources.push((path, text)),
                Err(e) => errors.push(DirectoryError {
                    file: path,
                    line: None,
                    message: format!(
                        "not valid UTF-8 (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                }),
            },
            Err(e) => errors.push(DirectoryError {
                file: path,
                line: None,
                message: format!("cannot read the file: {e}"),
            }),
        }
    }
    match from_sources(&sources) {
        Ok(directory) if errors.is_empty() => Ok(directory),
        Ok(_) => Err(DirectoryErrors(errors)),
        Err(DirectoryErrors(more)) => {
            errors.extend(more);
            // Every path is `dir/<name>`, so path order is the sorted file order.
            errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
            Err(DirectoryErrors(errors))
        }
    }
}

/// Builds a directory from `(file name, text)` pairs, as if read from disk; pure.
///
/// Every problem of every file is collected before giving up, so one run of `herald check`
/// shows the whole list to fix. Errors come in source order, then line order.
pub(crate) fn from_sources(sources: &[(PathBuf, String)]) -> Result<Directory, DirectoryErrors> {
    let mut v = Validator::default();
    for (index, (file, text)) in sources.iter().enumerate() {
        v.read_file(index, file, text);
    }
    v.finish(sources)
}

const ORG_KEYS: &[&str] = &[
    "id",
    "name",
    "aliases",
    "emails",
    "cc",
    "language",
    "salutation",
    "contact",
    "groups",
    "heads",
];
const ORG_REQUIRED: &[&str] = &["id", "name", "emails"];
const GROUP_KEYS: &[&str] = &["id", "name", "aliases"];
const GROUP_REQUIRED: &[&str] = &["id", "name"];

/// The language of an organisation that names none: the templates' fallback.
const DEFAULT_LANGUAGE: &str = "en";

/// ISO 639-1 two-letter codes, sorted for binary search.
const ISO_639_1: &[&str] = &[
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bi",
    "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de",
    "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy",
    "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia",
    "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk",
    "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo",
    "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd",
    "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl",
    "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl",
    "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk",
    "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa",
    "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// An `[[organization]]` table as written; presence of required keys is checked by hand so that
/// every missing or unknown key is reported, not only serde's first.
#[derive(Debug, Default, Deserialize)]
struct RawOrganization {
    id: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
    #[serde(default)]
    emails: Vec<Spanned<String>>,
    #[serde(default)]
    cc: Vec<Spanned<String>>,
    language: Option<Spanned<String>>,
    salutation: Option<Spanned<String>>,
    contact: Option<Spanned<String>>,
    #[serde(default)]
    groups: Vec<Spanned<String>>,
    #[serde(default)]
    heads: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
struct RawGroup {
    id: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
}

/// Byte offset → 1-based line, by binary search over line starts, so that finding the line of
/// each of thousands of entries in a large file stays linear overall. `base` is where the parsed
/// piece of the file begins (see [`pieces`]): spans are relative to the piece.
struct Lines<'a> {
    starts: &'a [usize],
    base: usize,
}

impl Lines<'_> {
    fn starts(text: &str) -> Vec<usize> {
        std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect()
    }

    fn line(&self, offset: usize) -> usize {
        let offset = self.base + offset;
        self.starts.partition_point(|&start| start <= offset).max(1)
    }
}

/// About how many bytes of a file are parsed at once.
const PIECE: usize = 64 * 1024;

/// Splits a file into pieces of about [`PIECE`] bytes, each but the first beginning with a line
/// that opens `[[`, with each piece's offset in the file.
///
/// The TOML parser lexes its whole input into tokens and events and builds the whole document
/// before anything is deserialised: for a directory of 20,000 organisations that was ~80 MB, the
/// peak memory of every command. Parsed piece by piece, the parser's memory is bounded by the
/// piece. A line opening `[[` starts a new array-of-tables entry, so the pieces mean what the
/// whole file means, except where that line lies inside a multi-line string (a file with
/// `"""` or `'''` is never split) or inside a multi-line array (the piece before it then fails
/// to parse, and the caller parses the whole file instead).
fn pieces(text: &str) -> Vec<(usize, &str)> {
    if text.len() <= PIECE || text.contains("\"\"\"") || text.contains("'''") {
        return vec![(0, text)];
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(text.len() / PIECE + 1);
    let mut start = 0;
    while start + PIECE < bytes.len() {
        let Some(at) = bytes[start + PIECE..].windows(3).position(|w| w == b"\n[[") else {
            break;
        };
        // Just after a `\n`, so on a character boundary.
        let end = start + PIECE + at + 1;
        out.push((start, &text[start..end]));
        start = end;
    }
    out.push((start, &text[start..]));
    out
}

/// A group id named in an organisation's `groups`, resolved once every file is read.
struct PendingGroupRef {
    id: String,
    source: usize,
    line: usize,
}

#[derive(Default)]
struct Validator {
    /// (source index, line, message).
    errors: Vec<(usize, Option<usize>, String)>,
    /// Every entry read, kept even when some of its fields are invalid so that cross-entry checks
    /// (duplicate ids, group membership, name clashes) still see it and report no follow-ups.
    organizations: Vec<Organization>,
    /// Group ids each organisation names, with where it names them.
    memberships: Vec<Vec<PendingGroupRef>>,
    groups: Vec<Group>,
    /// Source index of each entry's file, for ordering messages.
    org_sources: Vec<usize>,
    group_sources: Vec<usize>,
}

impl Validator {
    fn error(&mut self, source: usize, line: Option<usize>, message: String) {
        self.errors.push((source, line, message));
    }

    fn read_file(&mut self, source: usize, file: &Path, text: &str) {
        let starts = Lines::starts(text);
        let pieces = pieces(text);
        if pieces.len() == 1 {
            self.read_whole(source, file, text, &starts);
            return;
        }
        let mark = self.mark();
        // Another thread parses the next piece while this one checks the last: parsing is about
        // half of loading a large directory. The parser hands a piece over only when this thread
        // takes it, so at most two pieces are parsed at once and memory stays bounded by them.
        let all_parsed = std::thread::scope(|scope| {
            let (parsed, queue) = std::sync::mpsc::sync_channel(0);
            let parser = scope.spawn(move || {
                for (base, piece) in pieces {
                    let (root, parse_errors) = DeTable::parse_recoverable(piece);
                    let ok = parse_errors.is_empty();
                    // A closed queue means the reader stopped: nothing more is wanted.
                    if parsed.send(ok.then_some((base, root))).is_err() || !ok {
                        return;
                    }
                }
            });
            let mut all_parsed = true;
            for piece in &queue {
                let Some((base, root)) = piece else {
                    all_parsed = false;
                    break;
                };
                let lines = Lines {
                    starts: &starts,
                    base,
                };
                self.read_root(source, file, &lines, root);
            }
            drop(queue);
            // A panic in the parser is a bug: let it surface as itself.
            if let Err(panic) = parser.join() {
                std::panic::resume_unwind(panic);
            }
            all_parsed
        });
        if !all_parsed {
            // Maybe a split inside a multi-line value: forget the pieces read and parse the
            // whole file, so messages are exactly those of the whole file.
            self.rewind(mark);
            self.read_whole(source, file, text, &starts);
        }
    }

    /// How much has been read so far, to [`Validator::rewind`] to.
    fn mark(&self) -> [usize; 6] {
        [
            self.errors.len(),
            self.organizations.len(),
            self.memberships.len(),
            self.groups.len(),
            self.org_sources.len(),
            self.group_sources.len(),
        ]
    }

    fn rewind(
        &mut self,
        [errors, orgs, memberships, groups, org_sources, group_sources]: [usize; 6],
    ) {
        self.errors.truncate(errors);
        self.organizations.truncate(orgs);
        self.memberships.truncate(memberships);
        self.groups.truncate(groups);
        self.org_sources.truncate(org_sources);
        self.group_sources.truncate(group_sources);
    }

    fn read_whole(&mut self, source: usize, file: &Path, text: &str, starts: &[usize]) {
        let lines = Lines { starts, base: 0 };
        let (root, parse_errors) = DeTable::parse_recoverable(text);
        if let Some(e) = parse_errors.first() {
            // Only the first: the parser's recovery reports follow-ups that are not mistakes,
            // and a partly parsed file would add more about what it skipped.
            let (line, message) = crate::toml_error::describe(text, e.span(), e.message());
            self.error(source, Some(line), message);
            return;
        }
        self.read_root(source, file, &lines, root);
    }

    fn read_root(
        &mut self,
        source: usize,
        file: &Path,
        lines: &Lines<'_>,
        root: Spanned<DeTable<'_>>,
    ) {
        for (key, value) in root.into_inner() {
            let key_line = lines.line(key.span().start);
            let entries = match (key.get_ref().as_ref(), value.into_inner()) {
                ("organization" | "group", DeValue::Array(entries)) => entries,
                (section @ ("organization" | "group"), _) => {
                    self.error(
                        source,
                        Some(key_line),
                        format!("`{section}` must be an array of tables (`[[{section}]]`)"),
                    );
                    continue;
                }
                (other, _) => {
                    self.error(
                        source,
                        Some(key_line),
                        format!(
                            "unknown key `{other}` (expected `[[organization]]` or `[[group]]`)"
                        ),
                    );
                    continue;
                }
            };
            let is_org = key.get_ref().as_ref() == "organization";
            let mut entries = entries;
            for entry in entries.iter_mut() {
                // Taken, not cloned: each table is deserialised once, straight from the parse.
                let entry = std::mem::replace(entry, Spanned::new(0..0, DeValue::Boolean(false)));
                let span = entry.span();
                let line = lines.line(span.start);
                let DeValue::Table(table) = entry.into_inner() else {
                    self.error(
                        source,
                        Some(line),
                        "expected a table of fields, found a plain value".to_string(),
                    );
                    continue;
                };
                let (known, required, kind) = if is_org {
                    (ORG_KEYS, ORG_REQUIRED, "organization")
                } else {
                    (GROUP_KEYS, GROUP_REQUIRED, "group")
                };
                let mut complete = true;
                for (k, _) in &table {
                    let k_str: &str = k.get_ref().as_ref();
                    if !known.contains(&k_str) {
                        let expected: Vec<String> =
                            known.iter().map(|k| format!("`{k}`")).collect();
                        self.error(
                            source,
                            Some(lines.line(k.span().start)),
                            format!(
                                "unknown key `{k_str}` in {kind} (expected one of {})",
                                expected.join(", ")
                            ),
                        );
                    }
                }
                for r in required {
                    if !table.iter().any(|(k, _)| k.get_ref().as_ref() == *r) {
                        complete = false;
                        self.error(
                            source,
                            Some(line),
                            format!("{kind} is missing the required key `{r}`"),
                        );
                    }
                }
                let de = toml::de::Deserializer::from(Spanned::new(span, table));
                let type_error = |e: toml::de::Error| {
                    let at = e.span().map_or(line, |s| lines.line(s.start));
                    (at, e.message().trim().replace('\n', "; "))
                };
                if is_org {
                    match RawOrganization::deserialize(de) {
                        Ok(raw) => self.organization(source, file, lines, line, raw, complete),
                        Err(e) => {
                            let (at, message) = type_error(e);
                            self.error(source, Some(at), message);
                        }
                    }
                } else {
                    match RawGroup::deserialize(de) {
                        Ok(raw) => self.group(source, file, lines, line, raw),
                        Err(e) => {
                            let (at, message) = type_error(e);
                            self.error(source, Some(at), message);
                        }
                    }
                }
            }
        }
    }

    fn id(&mut self, source: usize, lines: &Lines<'_>, id: &Option<Spanned<String>>) -> String {
        let Some(id) = id else {
            return String::new();
        };
        if OrgId::new(id.get_ref()).is_none() {
            self.error(
                source,
                Some(lines.line(id.span().start)),
                format!(
                    "`{}` is not a valid id (use a-z, 0-9 and `-`, not at either end)",
                    id.get_ref()
                ),
            );
        }
        id.get_ref().clone()
    }

    fn names(
        &mut self,
        source: usize,
        lines: &Lines<'_>,
        kind: &str,
        id: &str,
        name: &Option<Spanned<String>>,
        aliases: &[Spanned<String>],
    ) -> (String, Vec<String>) {
        let check = |v: &mut Validator, s: &Spanned<String>, what: &str| {
            if s.get_ref().trim().is_empty() {
                v.error(
                    source,
                    Some(lines.line(s.span().start)),
                    format!("{kind} `{id}` has an empty {what}"),
                );
            }
            v.no_control(source, lines, s, &format!("the {what} of {kind} `{id}`"));
        };
        if let Some(n) = name {
            check(self, n, "name");
        }
        for a in aliases {
            check(self, a, "alias");
        }
        (
            name.as_ref()
                .map(|n| n.get_ref().clone())
                .unwrap_or_default(),
            aliases.iter().map(|a| a.get_ref().clone()).collect(),
        )
    }

    /// Refuses a value holding a control character: names, contacts and addresses reach the
    /// letters' headers, where a line break would start a header of its own.
    fn no_control(
        &mut self,
        source: usize,
        lines: &Lines<'_>,
        value: &Spanned<String>,
        what: &str,
    ) {
        if let Some(problem) = crate::header::control_problem(what, value.get_ref()) {
            self.error(source, Some(lines.line(value.span().start)), problem);
        }
    }

    fn addresses(
        &mut self,
        source: usize,
        lines: &Lines<'_>,
        raw: &[Spanned<String>],
        seen: &mut HashMap<String, usize>,
        id: &str,
    ) -> Vec<Address> {
        let mut out = Vec::with_capacity(raw.len());
        for e in raw {
            let line = lines.line(e.span().start);
            let text = e.get_ref();
            match crate::header::parse_address(text) {
                Ok(address) if !reachable_domain(address.domain()) => self.error(
                    source,
                    Some(line),
                    format!("`{text}` is not a valid email address"),
                ),
                Ok(address) => {
                    let key = address.to_string().to_lowercase();
                    if let Some(first) = seen.insert(key, line) {
                        self.error(
                            source,
                            Some(line),
                            format!(
                                "`{text}` is listed twice for organization `{id}` (first on line {first})"
                            ),
                        );
                    } else {
                        out.push(address);
                    }
                }
                Err(reason) => self.error(
                    source,
                    Some(line),
                    format!("`{}` {reason}", crate::header::escaped(text)),
                ),
            }
        }
        out
    }

    fn organization(
        &mut self,
        source: usize,
        file: &Path,
        lines: &Lines<'_>,
        line: usize,
        raw: RawOrganization,
        complete: bool,
    ) {
        let id = self.id(source, lines, &raw.id);
        let (name, aliases) =
            self.names(source, lines, "organization", &id, &raw.name, &raw.aliases);
        let mut seen = HashMap::new();
        let emails = self.addresses(source, lines, &raw.emails, &mut seen, &id);
        let cc = self.addresses(source, lines, &raw.cc, &mut seen, &id);
        // A missing `emails` key was already reported; an empty list is its own mistake.
        if complete && raw.emails.is_empty() {
            self.error(
                source,
                Some(line),
                format!("organization `{id}` has no email address"),
            );
        }
        let language = match &raw.language {
            Some(l) => {
                if ISO_639_1.binary_search(&l.get_ref().as_str()).is_err() {
                    self.error(
                        source,
                        Some(lines.line(l.span().start)),
                        format!(
                            "`{}` is not an ISO 639-1 language code (such as `en` or `fr`)",
                            l.get_ref()
                        ),
                    );
                }
                l.get_ref().clone()
            }
            None => DEFAULT_LANGUAGE.to_string(),
        };
        for (value, what) in [(&raw.salutation, "salutation"), (&raw.contact, "contact")] {
            if let Some(value) = value {
                self.no_control(
                    source,
                    lines,
                    value,
                    &format!("the {what} of organization `{id}`"),
                );
            }
        }
        for title in &raw.heads {
            if crate::normalize::name_key(title.get_ref()).is_empty() {
                self.error(
                    source,
                    Some(lines.line(title.span().start)),
                    format!("organization `{id}` has an empty head title"),
                );
            }
        }
        let memberships = raw
            .groups
            .iter()
            .map(|g| PendingGroupRef {
                id: g.get_ref().clone(),
                source,
                line: lines.line(g.span().start),
            })
            .collect();
        self.organizations.push(Organization {
            // An invalid id was reported above; the placeholder only lives until `finish` fails.
            id: OrgId(id),
            name,
            aliases,
            emails,
            cc,
            language,
            salutation: raw.salutation.map(Spanned::into_inner),
            contact: raw.contact.map(Spanned::into_inner),
            groups: raw.groups.into_iter().map(Spanned::into_inner).collect(),
            heads: raw.heads.into_iter().map(Spanned::into_inner).collect(),
            origin: Origin {
                file: file.to_path_buf(),
                line,
            },
        });
        self.memberships.push(memberships);
        self.org_sources.push(source);
    }

    fn group(&mut self, source: usize, file: &Path, lines: &Lines<'_>, line: usize, raw: RawGroup) {
        let id = self.id(source, lines, &raw.id);
        let (name, aliases) = self.names(source, lines, "group", &id, &raw.name, &raw.aliases);
        self.groups.push(Group {
            id,
            name,
            aliases,
            members: Vec::new(),
            origin: Origin {
                file: file.to_path_buf(),
                line,
            },
        });
        self.group_sources.push(source);
    }

    fn finish(mut self, sources: &[(PathBuf, String)]) -> Result<Directory, DirectoryErrors> {
        // Organisations and groups share one id space, so `groups = [...]` can never be ambiguous
        // and a message naming an id names one entry.
        let mut ids: HashMap<String, Origin> = HashMap::new();
        let entries: Vec<(String, Origin, usize)> = self
            .organizations
            .iter()
            .zip(&self.org_sources)
            .map(|(o, &s)| (o.id.0.clone(), o.origin.clone(), s))
            .chain(
                self.groups
                    .iter()
                    .zip(&self.group_sources)
                    .map(|(g, &s)| (g.id.clone(), g.origin.clone(), s)),
            )
            .collect();
        for (id, origin, source) in entries {
            if id.is_empty() {
                continue;
            }
            if let Some(first) = ids.get(&id) {
                let message = format!("duplicate id `{id}`, already defined at {first}");
                self.error(source, Some(origin.line), message);
            } else {
                ids.insert(id, origin);
            }
        }

        let mut group_index: HashMap<String, usize> = HashMap::new();
        for (i, g) in self.groups.iter().enumerate() {
            group_index.entry(g.id.clone()).or_insert(i);
        }
        let memberships = std::mem::take(&mut self.memberships);
        for (org, refs) in memberships.into_iter().enumerate() {
            for r in refs {
                match group_index.get(&r.id) {
                    Some(&g) => {
                        let members = &mut self.groups[g].members;
                        // Organisations come in order, so a repeated group id repeats `org` last.
                        if members.last() != Some(&org) {
                            members.push(org);
                        }
                    }
                    None => self.error(
                        r.source,
                        Some(r.line),
                        format!("`{}` is not the id of any group", r.id),
                    ),
                }
            }
        }
        let empty: Vec<(usize, usize, String)> = self
            .groups
            .iter()
            .zip(&self.group_sources)
            .filter(|(g, _)| g.members.is_empty())
            .map(|(g, &s)| {
                (
                    s,
                    g.origin.line,
                    format!(
                        "group `{}` has no members: no organization lists it in its `groups`",
                        g.id
                    ),
                )
            })
            .collect();
        for (s, line, message) in empty {
            self.error(s, Some(line), message);
        }

        let source_of: HashMap<&Path, usize> = sources
            .iter()
            .enumerate()
            .map(|(i, (p, _))| (p.as_path(), i))
            .collect();
        let no_organizations = self.organizations.is_empty();
        let (directory, clashes) = Directory::new(self.organizations, self.groups);
        for c in clashes {
            let source = source_of.get(c.second.file.as_path()).copied().unwrap_or(0);
            self.errors.push((
                source,
                Some(c.second.line),
                format!(
                    "the name `{}` is already claimed by the entry at {}",
                    c.name, c.first
                ),
            ));
        }
        if no_organizations && self.errors.is_empty() {
            let folder = sources
                .first()
                .and_then(|(p, _)| p.parent())
                .map(Path::to_path_buf)
                .unwrap_or_default();
            return Err(DirectoryErrors(vec![DirectoryError {
                file: folder,
                line: None,
                message: "the recipients directory defines no organization".to_string(),
            }]));
        }
        if self.errors.is_empty() {
            return Ok(directory);
        }
        self.errors.sort_by_key(|&(source, line, _)| (source, line));
        Err(DirectoryErrors(
            self.errors
                .into_iter()
                .map(|(source, line, message)| DirectoryError {
                    file: sources
                        .get(source)
                        .map(|(p, _)| p.clone())
                        .unwrap_or_default(),
                    line,
                    message,
                })
                .collect(),
        ))
    }
}

/// Whether a recipient's domain can be reached across the Internet: a name with a dot (`un.example`)
/// or an address literal (`[192.0.2.1]`). The address grammar allows a bare `un`, but in a
/// directory of institutions that is a typo, and the letter would go nowhere.
fn reachable_domain(domain: &str) -> bool {
    if domain.starts_with('[') {
        return true;
    }
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    domain.contains('.') && !domain.starts_with('.') && !domain.contains("..")
}

#[cfg(test)]
// A failed setup step should fail the test on the spot.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    impl Directory {
        /// The entry a name stands for, if the directory knows it.
        fn lookup(&self, name: &str) -> Option<Entry> {
            self.names
                .get(&crate::normalize::name_key(name))
                .map(|n| n.entry)
        }
    }

    /// A valid organisation in `groups`, for cases that need a member.
    const MEMBER: &str = r#"
[[organization]]
id = "member"
name = "Member Organisation"
emails = ["member@org.example"]
groups = ["g"]
"#;

    fn sources(files: &[(&str, &str)]) -> Vec<(PathBuf, String)> {
        files
            .iter()
            .map(|(name, text)| {
                (
                    PathBuf::from(format!("recipients/{name}")),
                    text.to_string(),
                )
            })
            .collect()
    }

    fn errors(files: &[(&str, &str)]) -> Vec<String> {
        match from_sources(&sources(files)) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    /// The messages of one file parsed whole, the way every file was read before pieces.
    fn whole_file_errors(text: &str) -> Vec<String> {
        let file = PathBuf::from("recipients/a.toml");
        let mut v = Validator::default();
        v.read_whole(0, &file, text, &Lines::starts(text));
        match v.finish(&[(file, text.to_string())]) {
            Ok(_) => Vec::new(),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    /// A file of `n` organisations (all members of group `g`), numbered from 1; entry `i` starts
    /// at line `6 * (i - 1) + 5`, its `emails` three lines lower and a blank line five lower.
    fn big_file(n: usize) -> String {
        let mut text = "[[group]]\nid = \"g\"\nname = \"Group\"\n\n".to_string();
        for i in 1..=n {
            text.push_str(&format!(
                "[[organization]]\nid = \"org-{i}\"\nname = \"Commission of Region {i}\"\nemails = [\"office@org-{i}.example\"]\ngroups = [\"g\"]\n\n"
            ));
        }
        text
    }

    /// Large files are parsed in pieces: the directory, and every message with its line, must be
    /// what parsing the whole file gives, including where a piece boundary falls inside a
    /// multi-line value.
    #[test]
    fn large_files_read_in_pieces_mean_what_the_whole_file_means() {
        let n = 2000;
        let valid = big_file(n);
        assert!(
            pieces(&valid).len() > 3,
            "the case must span several pieces"
        );
        let directory = from_sources(&sources(&[("a.toml", &valid)])).unwrap();
        assert_eq!(directory.organizations.len(), n);
        assert_eq!(directory.groups[0].members.len(), n);
        let last = &directory.organizations[n - 1];
        assert_eq!(
            (last.id.as_str(), last.origin.line),
            ("org-2000", 6 * 1999 + 5)
        );

        // Problems planted far beyond the first piece, at lines computed from the layout.
        let mut lines: Vec<String> = valid.lines().map(str::to_string).collect();
        lines[6 * 1499 + 5 + 3 - 1] = "emails = [\"office.org-1500.example\"]".to_string();
        lines[6 * 1899 + 5 + 5 - 1] = "fax = \"1\"".to_string();
        let planted = lines.join("\n") + "\n";
        let expected = vec![
            format!("recipients/a.toml:{}: `office.org-1500.example` is not a valid email address", 6 * 1499 + 8),
            format!("recipients/a.toml:{}: unknown key `fax` in organization (expected one of `id`, `name`, `aliases`, `emails`, `cc`, `language`, `salutation`, `contact`, `groups`, `heads`)", 6 * 1899 + 10),
        ];

        // A line opening `[[` inside a multi-line array, just past the first piece boundary.
        let straddling = format!(
            "[[organization]]\nid = \"a\"\nname = \"A\"\nemails = [\"a@a.example\"]\naliases = [\n# {}\n[[\"nested\"]],\n]\n{}",
            "x".repeat(PIECE),
            &valid
        );
        // A multi-line string holding such a line.
        let quoted = format!(
            "[[organization]]\nid = \"a\"\nname = \"\"\"A\n[[organization]]\"\"\"\nemails = [\"a@a.example\"]\n{valid}"
        );
        // Sub-tables and a stray top-level table in later pieces.
        let subtables = valid.replace(
            "groups = [\"g\"]\n\n[[organization]]\nid = \"org-1800\"",
            "groups = [\"g\"]\n[organization.extra]\nx = 1\n[stray]\ny = 2\n\n[[organization]]\nid = \"org-1800\"",
        );
        assert_ne!(subtables, valid);
        // Read as one string (a line break in a name is refused: it would reach a header), not
        // as a new entry.
        assert_eq!(
            errors(&[("a.toml", &quoted)]),
            vec![
                "recipients/a.toml:3: the name of organization `a` `A\\n[[organization]]` holds \
                  a control character (`\\n`), which could forge mail headers"
                    .to_string()
            ]
        );
        for (name, text) in [
            ("valid", &valid),
            ("planted", &planted),
            ("straddling", &straddling),
            ("quoted", &quoted),
            ("subtables", &subtables),
        ] {
            let whole = whole_file_errors(text);
            assert_eq!(errors(&[("a.toml", text)]), whole, "{name}");
            if name == "planted" {
                assert_eq!(whole, expected);
            }
            if matches!(name, "planted" | "straddling" | "subtables") {
                assert!(!whole.is_empty(), "{name} must be an invalid file");
            }
        }
    }

    #[test]
    fn each_problem_is_reported_with_file_line_and_value() {
        // (file text, expected "file:line: message fragment" for each error, in order)
        let cases: &[(&str, &[&str])] = &[
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"\n",
                &["recipients/a.toml:4: not valid TOML"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemail = [\"sg@un.example\"]\nphone = \"1\"\n",
                &[
                    "recipients/a.toml:1: organization is missing the required key `emails`",
                    "recipients/a.toml:4: unknown key `email` in organization",
                    "recipients/a.toml:5: unknown key `phone` in organization",
                ],
            ),
            (
                "[[organisation]]\nid = \"x\"\n",
                &["recipients/a.toml:1: unknown key `organisation` (expected `[[organization]]` or `[[group]]`)"],
            ),
            (
                "[[organization]]\nid = \"UN_SG\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\n",
                &["recipients/a.toml:2: `UN_SG` is not a valid id"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = []\n",
                &["recipients/a.toml:1: organization `un` has no email address"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\n  \"ok@un.example\",\n  \"sg.un.example\",\n]\ncc = [\"a@@b\"]\n",
                &[
                    "recipients/a.toml:6: `sg.un.example` is not a valid email address",
                    "recipients/a.toml:8: `a@@b` is not a valid email address",
                ],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un\", \"ok@[192.0.2.1]\"]\n",
                &["recipients/a.toml:4: `sg@un` is not a valid email address"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\", \"SG@un.example\"]\ncc = [\"sg@un.example\"]\n",
                &[
                    "recipients/a.toml:4: `SG@un.example` is listed twice for organization `un`",
                    "recipients/a.toml:5: `sg@un.example` is listed twice for organization `un`",
                ],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\ngroups = [\n\"nowhere\"]\n",
                &["recipients/a.toml:6: `nowhere` is not the id of any group"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\n\n[[group]]\nid = \"lonely\"\nname = \"Lonely\"\n",
                &["recipients/a.toml:6: group `lonely` has no members"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\nlanguage = \"eng\"\n",
                &["recipients/a.toml:5: `eng` is not an ISO 639-1 language code"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"  \"\naliases = [\"\"]\nemails = [\"sg@un.example\"]\n",
                &[
                    "recipients/a.toml:3: organization `un` has an empty name",
                    "recipients/a.toml:4: organization `un` has an empty alias",
                ],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\nheads = [\"Secretary-General\",\n \" - \"]\n",
                &["recipients/a.toml:6: organization `un` has an empty head title"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\nheads = \"Secretary-General\"\n",
                &["recipients/a.toml:5: invalid type"],
            ),
            (
                "[[organization]]\nid = \"un\"\nname = 3\nemails = [\"sg@un.example\"]\n",
                &["recipients/a.toml:3: invalid type"],
            ),
            (
                "organization = \"un\"\n",
                &["recipients/a.toml:1: `organization` must be an array of tables"],
            ),
        ];
        for (text, expected) in cases {
            let got = errors(&[("a.toml", text)]);
            assert_eq!(got.len(), expected.len(), "{text}\n{got:#?}");
            for (g, e) in got.iter().zip(expected.iter()) {
                assert!(g.starts_with(e), "{text}\nexpected {e:?}\n     got {g:?}");
            }
        }
    }

    #[test]
    fn problems_across_files_name_both_places() {
        let a = "[[organization]]\nid = \"un\"\nname = \"United Nations\"\naliases = [\"UN\"]\nemails = [\"sg@un.example\"]\n";
        let b = "\n[[organization]]\nid = \"un\"\nname = \"Other\"\nemails = [\"x@o.example\"]\n\n[[group]]\nid = \"g\"\nname = \"UN\"\n";
        let got = errors(&[("a.toml", a), ("b.toml", &format!("{b}{MEMBER}"))]);
        assert_eq!(
            got,
            [
                "recipients/b.toml:2: duplicate id `un`, already defined at recipients/a.toml:1",
                "recipients/b.toml:7: the name `UN` is already claimed by the entry at recipients/a.toml:1",
            ]
        );
    }

    #[test]
    fn every_problem_is_reported_together_in_file_and_line_order() {
        let a = "[[organization]]\nid = \"Bad\"\nname = \"A\"\nemails = [\"nope\"]\nlanguage = \"xx\"\n";
        let b = "[[organization]]\nid = \"b\"\nname = \"B\"\nemails = [\"b@b.example\"]\ngroups = [\"none\"]\n";
        let c = "[[organization]]\nid = \"c\"\nname = \"C\"\nemails = [\"c@c.example\"\n";
        let got = errors(&[("a.toml", a), ("b.toml", b), ("c.toml", c)]);
        let places: Vec<&str> = got
            .iter()
            .map(|e| e.split(": ").next().unwrap_or(""))
            .collect();
        assert_eq!(
            places,
            [
                "recipients/a.toml:2",
                "recipients/a.toml:4",
                "recipients/a.toml:5",
                "recipients/b.toml:5",
                "recipients/c.toml:4",
            ],
            "{got:#?}"
        );
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

    #[test]
    fn an_empty_directory_is_an_error() {
        assert_eq!(
            errors(&[("a.toml", "# nothing yet\n")]),
            ["recipients: the recipients directory defines no organization"]
        );
        let missing = load(Path::new("/nonexistent/herald/recipients"));
        assert!(
            matches!(&missing, Err(e) if e.0[0].message.starts_with("cannot read the recipients folder"))
        );
        let empty = tempfile::tempdir().unwrap();
        std::fs::write(empty.path().join("README.md"), "not data").unwrap();
        std::fs::write(empty.path().join(".hidden.toml"), "not = [valid").unwrap();
        let got = load(empty.path());
        assert!(
            matches!(&got, Err(e) if e.0[0].message == "the recipients folder holds no `*.toml` file")
        );
    }

    #[test]
    fn load_reads_toml_files_in_name_order_and_skips_others() {
        let dir = tempfile::tempdir().unwrap();
        let org = |id: &str| {
            format!(
                "[[organization]]\nid = \"{id}\"\nname = \"{id}\"\nemails = [\"{id}@x.example\"]\n"
            )
        };
        std::fs::write(dir.path().join("b.toml"), org("second")).unwrap();
        std::fs::write(dir.path().join("a.toml"), org("first")).unwrap();
        std::fs::write(dir.path().join("c.toml.bak"), "broken [").unwrap();
        std::fs::write(dir.path().join(".d.toml"), "broken [").unwrap();
        let d = load(dir.path()).unwrap();
        let ids: Vec<&str> = d.organizations.iter().map(|o| o.id.as_str()).collect();
        assert_eq!(ids, ["first", "second"]);
    }

    #[test]
    fn language_codes_are_sorted_for_binary_search() {
        assert!(ISO_639_1.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn the_shipped_recipients_load_and_use_only_example_domains() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipients");
        let d = match load(&dir) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        assert!(d.len() >= 20);
        for o in &d.organizations {
            for a in o.emails.iter().chain(&o.cc) {
                assert!(a.domain().ends_with(".example"), "{}: {a}", o.origin);
            }
        }
        // Every addressee phrase of the seed statement, and the entry it must name.
        let seed_phrases = [
            ("UN Secretary-General", "un-secretary-general"),
            ("UN Security Council", "un-security-council"),
            ("UN Office of High Commissioner for Human Rights", "ohchr"),
            ("UN Office of High Commissioner for Refugees", "unhcr"),
            ("UN Human Rights Council", "un-human-rights-council"),
            ("United Nations Children’s Fund", "unicef"),
            ("United Nations Educational, Scientific and Cultural Organization", "unesco"),
            ("European Union", "european-union"),
            ("Council of Europe", "council-of-europe"),
            ("Organization for Security and Co-operation in Europe", "osce"),
            ("International and European Ombudsman Institutions", "international-european-ombudsman-institutions"),
            ("Asian Ombudsman Association", "asian-ombudsman-association"),
            ("Organization of Islamic Cooperation", "oic"),
            ("Ombudsman Association of its member states", "oic-ombudsman-association"),
            ("Independent Permanent Human Rights Commission of the Organization of Islamic Cooperation", "oic-iphrc"),
            ("European Network of Ombudspersons for Children", "enoc"),
            ("International Peace Bureau", "international-peace-bureau"),
            ("different ombudsmen", "ombudsman-institutions"),
            ("national human rights institutions", "national-human-rights-institutions"),
            ("embassies of the Republic of Azerbaijan in foreign countries", "azerbaijan-embassies-abroad"),
            ("foreign embassies in Azerbaijan", "foreign-embassies-in-azerbaijan"),
            ("Azerbaijani Diasporas", "azerbaijani-diaspora"),
        ];
        for (phrase, id) in seed_phrases {
            let found = match d.lookup(phrase) {
                Some(Entry::Organization(i)) => Some(d.organizations[i].id.as_str()),
                Some(Entry::Group(i)) => Some(d.groups[i].id.as_str()),
                None => None,
            };
            assert_eq!(found, Some(id), "{phrase}");
        }
        for g in &d.groups {
            // The seed's collective addressees come with at least three sample members each.
            let collective = [
                "ombudsman-institutions",
                "national-human-rights-institutions",
                "azerbaijan-embassies-abroad",
                "foreign-embassies-in-azerbaijan",
                "azerbaijani-diaspora",
            ];
            let needed = if collective.contains(&g.id.as_str()) {
                3
            } else {
                2
            };
            assert!(
                g.members.len() >= needed,
                "group `{}`: {:?}",
                g.id,
                g.members
            );
        }
    }

    /// Statements in French, Russian and Azerbaijani name the same institutions: every shipped
    /// entry carries names in each, with the inflected Russian and Azerbaijani forms a statement
    /// uses (at least two of each, nominative and dative), and its heads resolve.
    #[test]
    fn the_shipped_entries_have_french_russian_and_azerbaijani_names() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipients");
        let d = match load(&dir) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let french = |n: &String| {
            [
                " de ",
                " des ",
                " du ",
                " pour ",
                " la ",
                "l'",
                "é",
                "è",
                "ï",
                "médiateurs",
            ]
            .iter()
            .any(|w| n.contains(w))
        };
        let russian = |n: &String| n.chars().any(|c| ('а'..='я').contains(&c));
        let azerbaijani = |n: &String| n.chars().any(|c| "əƏıİşŞğĞçÇ".contains(c));
        let entries = d
            .organizations
            .iter()
            .map(|o| (o.id.as_str(), &o.name, &o.aliases))
            .chain(
                d.groups
                    .iter()
                    .map(|g| (g.id.as_str(), &g.name, &g.aliases)),
            );
        for (id, name, aliases) in entries {
            let names: Vec<&String> = std::iter::once(name).chain(aliases).collect();
            let count = |test: &dyn Fn(&String) -> bool| names.iter().filter(|n| test(n)).count();
            assert!(count(&french) >= 1, "{id}: no French name");
            assert!(count(&russian) >= 2, "{id}: Russian");
            assert!(count(&azerbaijani) >= 2, "{id}: Azerbaijani");
        }
        let heads = [
            ("Secretary-General of the OIC", "oic"),
            ("Генеральному секретарю Совета Европы", "council-of-europe"),
            ("Directrice générale de l'UNESCO", "unesco"),
            ("ATƏT-in Baş Katibinə", "osce"),
        ];
        for (phrase, id) in heads {
            let found = resolve::lookup_phrase(&d, phrase);
            let Some(Entry::Organization(i)) = found else {
                panic!("{phrase}: {found:?}");
            };
            assert_eq!(d.organizations[i].id.as_str(), id, "{phrase}");
        }
    }

    /// Regression: the OIC's Secretary General got "Dear Sir or Madam" while the UN's got
    /// "Excellency", and French entries carried English names and salutations.
    #[test]
    fn the_shipped_salutations_fit_the_addressee_and_the_language() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipients");
        let d = match load(&dir) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        };
        let english = ["Excellency", "Dear Sir or Madam"];
        for (i, o) in d.organizations.iter().enumerate() {
            let salutation = o.salutation.as_deref().unwrap_or_default();
            if o.language == "fr" {
                assert!(!english.contains(&salutation), "{}: {salutation}", o.id);
            }
            // Ambassadors and heads of intergovernmental organisations are Excellencies.
            let contact = o.contact.as_deref().unwrap_or_default();
            let excellency = contact.starts_with("Ambassad")
                || contact.starts_with("His Majesty's Ambassador")
                || d.groups
                    .iter()
                    .any(|g| g.id.ends_with("embassies-abroad") && g.members.contains(&i));
            if excellency {
                let expected = if o.language == "fr" {
                    "Excellence"
                } else {
                    "Excellency"
                };
                assert_eq!(salutation, expected, "{}", o.id);
            }
        }
        let cases = [
            ("oic", "Excellency"),
            ("un-secretary-general", "Excellency"),
            ("osce", "Excellency"),
            ("oic-ombudsman-association", "Dear Sir or Madam"),
            ("france-embassy-azerbaijan", "Excellence"),
            ("council-of-europe", "Madame la Secrétaire Générale"),
            ("france-cncdh", "Monsieur le Président"),
        ];
        for (id, expected) in cases {
            let o = d.organizations.iter().find(|o| o.id.as_str() == id);
            assert_eq!(
                o.and_then(|o| o.salutation.as_deref()),
                Some(expected),
                "{id}"
            );
        }
        for (id, name) in [
            (
                "france-embassy-azerbaijan",
                "Ambassade de France en Azerbaïdjan",
            ),
            ("council-of-europe", "Conseil de l'Europe"),
        ] {
            let o = d.organizations.iter().find(|o| o.id.as_str() == id);
            assert_eq!(o.map(|o| o.name.as_str()), Some(name), "{id}");
        }
    }
    /// Regression: `name = "Evil Name Org\r\nBcc: evil@x.example"` passed `check`, then panicked
    /// inside lettre's `To:` code at dispatch. Every value that can reach a header is refused at
    /// load, with its line and the value escaped.
    #[test]
    fn control_characters_in_header_bound_values_are_refused() {
        let org = |field: &str| {
            format!("[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\n{field}\n")
        };
        // (file text, expected start of the only message)
        let cases = [
            (
                "[[organization]]\nid = \"un\"\nname = \"Evil Name Org\\r\\nBcc: evil@x.example\"\nemails = [\"sg@un.example\"]\n".to_string(),
                "recipients/a.toml:3: the name of organization `un` `Evil Name Org\\r\\nBcc: evil@x.example` holds a control character",
            ),
            (
                "[[organization]]\nid = \"un\"\nname = \"Lone CR\\r\"\nemails = [\"sg@un.example\"]\n".to_string(),
                "recipients/a.toml:3: the name of organization `un` `Lone CR\\r`",
            ),
            (org("aliases = [\"U\\nN\"]"), "recipients/a.toml:5: the alias of organization `un` `U\\nN`"),
            (org("contact = \"Secretary\\nBcc: x@x.example\""), "recipients/a.toml:5: the contact of organization `un`"),
            (org("salutation = \"Excellency\\u001b[2J\""), "recipients/a.toml:5: the salutation of organization `un` `Excellency\\u{1b}[2J`"),
            (org("cc = [\"cc@un.example\\r\\nBcc: x@x.example\"]"), "recipients/a.toml:5: `cc@un.example\\r\\nBcc: x@x.example` holds a control character"),
            (
                "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"sg@un.example\"]\ngroups = [\"g\"]\n[[group]]\nid = \"g\"\nname = \"G\\u0007\"\n".to_string(),
                "recipients/a.toml:8: the name of group `g` `G\\u{7}`",
            ),
        ];
        for (text, expected) in cases {
            let got = errors(&[("a.toml", &text)]);
            assert_eq!(got.len(), 1, "{text}\n{got:#?}");
            assert!(
                got[0].starts_with(expected),
                "{text}\nexpected {expected:?}\n     got {:?}",
                got[0]
            );
        }
    }

    /// Regression: `a@bücher.example` passed `check` and failed at send on a server without
    /// SMTPUTF8. Domains are converted to ASCII at load; what cannot be converted is refused.
    #[test]
    fn international_domains_are_converted_to_ascii_or_refused() {
        let text = "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"a@bücher.example\"]\ncc = [\"b@Bücher.example\"]\n";
        let directory = from_sources(&sources(&[("a.toml", text)])).unwrap();
        let org = &directory.organizations[0];
        assert_eq!(org.emails[0].to_string(), "a@xn--bcher-kva.example");
        assert_eq!(org.cc[0].to_string(), "b@xn--bcher-kva.example");
        let got = errors(&[(
            "a.toml",
            "[[organization]]\nid = \"un\"\nname = \"UN\"\nemails = [\"a@bü-.example\"]\n",
        )]);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(
            got[0].starts_with("recipients/a.toml:4: `a@bü-.example` has a domain"),
            "{got:?}"
        );
        assert!(got[0].contains("IDNA"), "{got:?}");
    }
}
