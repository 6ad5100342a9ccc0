//! Reading the recipients folder: every `*.toml` file, large ones parsed in pieces, checked as a
//! whole (unknown and missing keys, duplicate ids, group membership, name clashes) so that every
//! problem is reported together with its file and line. Each entry's own values are checked in
//! `entries`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::{Directory, DirectoryError, DirectoryErrors, Group, Organization, Origin};

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
    let entries = std::fs::read_dir(dir).map_err(|e| {
        folder_error(format!(
            "cannot read the recipients folder: {}",
            crate::error::plain(&e)
        ))
    })?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            folder_error(format!(
                "cannot read the recipients folder: {}",
                crate::error::plain(&e)
            ))
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') || !name.ends_with(".toml") {
            continue;
        }
        // Follows symlinks, so a linked data file counts; a folder named `x.toml` does not. One
        // that cannot be looked at (a link to nothing) is kept, for reading it to say why.
        if !std::fs::metadata(entry.path()).is_ok_and(|m| m.is_dir()) {
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
                message: match std::fs::read_link(&path) {
                    Ok(target) => format!(
                        "cannot read the file: it links to {}, which cannot be read: {}",
                        target.display(),
                        crate::error::plain(&e)
                    ),
                    Err(_) => format!("cannot read the file: {}", crate::error::plain(&e)),
                },
                file: path,
                line: None,
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

/// An `[[organization]]` table as written; presence of required keys is checked by hand so that
/// every missing or unknown key is reported, not only serde's first.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RawOrganization {
    pub(super) id: Option<Spanned<String>>,
    pub(super) name: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) aliases: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) emails: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) cc: Vec<Spanned<String>>,
    pub(super) language: Option<Spanned<String>>,
    pub(super) salutation: Option<Spanned<String>>,
    pub(super) contact: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) groups: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) heads: Vec<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RawGroup {
    pub(super) id: Option<Spanned<String>>,
    pub(super) name: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) aliases: Vec<Spanned<String>>,
}

/// Byte offset → 1-based line, by binary search over line starts, so that finding the line of
/// each of thousands of entries in a large file stays linear overall. `base` is where the parsed
/// piece of the file begins (see [`pieces`]): spans are relative to the piece.
pub(super) struct Lines<'a> {
    pub(super) starts: &'a [usize],
    pub(super) base: usize,
}

impl Lines<'_> {
    pub(super) fn starts(text: &str) -> Vec<usize> {
        std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect()
    }

    pub(super) fn line(&self, offset: usize) -> usize {
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
pub(super) struct PendingGroupRef {
    pub(super) id: String,
    pub(super) source: usize,
    pub(super) line: usize,
}

#[derive(Default)]
pub(super) struct Validator {
    /// (source index, line, message).
    pub(super) errors: Vec<(usize, Option<usize>, String)>,
    /// Every entry read, kept even when some of its fields are invalid so that cross-entry checks
    /// (duplicate ids, group membership, name clashes) still see it and report no follow-ups.
    pub(super) organizations: Vec<Organization>,
    /// Group ids each organisation names, with where it names them.
    pub(super) memberships: Vec<Vec<PendingGroupRef>>,
    pub(super) groups: Vec<Group>,
    /// Source index of each entry's file, for ordering messages.
    pub(super) org_sources: Vec<usize>,
    pub(super) group_sources: Vec<usize>,
}

impl Validator {
    pub(super) fn error(&mut self, source: usize, line: Option<usize>, message: String) {
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

#[cfg(test)]
// A failed setup step should fail the test on the spot.
#[allow(clippy::unwrap_used)]
pub(super) mod tests {
    use super::*;

    /// A valid organisation in `groups`, for cases that need a member.
    const MEMBER: &str = r#"
[[organization]]
id = "member"
name = "Member Organisation"
emails = ["member@org.example"]
groups = ["g"]
"#;

    pub(crate) fn sources(files: &[(&str, &str)]) -> Vec<(PathBuf, String)> {
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

    pub(crate) fn errors(files: &[(&str, &str)]) -> Vec<String> {
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

    /// Regression: a `*.toml` link to a file that is gone was skipped without a word, and the
    /// organisations it held went missing from the directory. It is now an error that says where
    /// the link points; a folder named `*.toml` is still not data.
    #[test]
    fn a_link_to_nothing_is_an_error_naming_its_target() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.toml"),
            "[[organization]]\nid = \"a\"\nname = \"A\"\nemails = [\"a@x.example\"]\n",
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("folder.toml")).unwrap();
        let gone = dir.path().join("gone.toml");
        std::os::unix::fs::symlink(&gone, dir.path().join("un.toml")).unwrap();
        let errors = load(dir.path()).unwrap_err().0;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].file, dir.path().join("un.toml"));
        assert_eq!(
            errors[0].message,
            format!(
                "cannot read the file: it links to {}, which cannot be read: No such file or \
                 directory",
                gone.display()
            )
        );
    }
}
