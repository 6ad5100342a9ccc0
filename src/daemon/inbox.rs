//! The inbox folder: which files are statements, when a file is complete, and where it goes when
//! its dispatch is over.
//!
//! A file is taken only once complete: renamed into the inbox (the safe way to drop a file), or
//! unchanged in size and modification time for the settle period (a file copied in slowly).
//! Hidden and temporary files are never taken.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The longest file name (in bytes) the file systems herald runs on accept.
pub(crate) const NAME_MAX: usize = 255;

/// Extensions of the files herald takes as statements (plain text).
pub(crate) const STATEMENT_EXTENSIONS: [&str; 2] = ["txt", "md"];

/// True for names of files still being written, or not meant to be seen: hidden files, editors'
/// and copiers' temporary files. The daemon leaves them where they are.
pub(crate) fn is_temporary_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.starts_with('~')
        || name.starts_with('#')
        || name.ends_with('~')
        || lower.ends_with(".tmp")
        || lower.ends_with(".part")
        || lower.ends_with(".swp")
        || lower.ends_with(".crdownload")
}

/// True for names the daemon may take: `*.txt` or `*.md`, not hidden, not an editor's or a
/// copier's temporary file.
pub(crate) fn is_statement_name(name: &str) -> bool {
    !is_temporary_name(name)
        && extension(name).is_some_and(|e| STATEMENT_EXTENSIONS.contains(&e.as_str()))
}

/// The lower-case extension of `name`, if it has one.
fn extension(name: &str) -> Option<String> {
    name.rsplit_once('.')
        .filter(|(stem, ext)| !stem.is_empty() && !ext.is_empty())
        .map(|(_, ext)| ext.to_lowercase())
}

/// Why something lying in the inbox is not a statement herald takes. Each is moved to
/// `rejected/` with an error file that says this and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NotStatement {
    /// A file whose extension herald does not take (`None`: it has none).
    Extension(Option<String>),
    Folder,
    SymbolicLink,
    /// A second name of a file that also lies elsewhere.
    HardLink,
    /// A pipe, socket or device.
    Special,
}

impl NotStatement {
    /// One line: what the thing is and what herald takes.
    pub(crate) fn reason(&self, name: &str) -> String {
        let taken = "herald takes only plain-text statements, files named `*.txt` or `*.md`";
        match self {
            NotStatement::Extension(ext) => {
                let what = match ext.as_deref() {
                    None => "a file without an extension".to_string(),
                    Some("doc" | "docx" | "odt" | "rtf" | "pages" | "wpd") => {
                        format!(
                            "a word-processor document (`.{}`)",
                            ext.as_deref().unwrap_or("")
                        )
                    }
                    Some("pdf") => "a PDF document".to_string(),
                    Some(ext) => format!("a `.{ext}` file"),
                };
                format!("`{name}` is {what}: {taken}")
            }
            NotStatement::Folder => format!("`{name}` is a folder: {taken}, not folders"),
            NotStatement::SymbolicLink => format!(
                "`{name}` is a symbolic link: herald never follows a link out of the inbox; {taken}"
            ),
            NotStatement::HardLink => format!(
                "`{name}` is a second name (hard link) of a file that also lies elsewhere: herald \
                 takes only files that lie in the inbox alone"
            ),
            NotStatement::Special => {
                format!("`{name}` is not a regular file (a pipe, socket or device): {taken}")
            }
        }
    }

    /// What to do to send the statement after all.
    pub(crate) fn advice(&self, inbox: &Path) -> String {
        let inbox = inbox.display();
        match self {
            NotStatement::Extension(None) => format!(
                "To send it: if it is a plain-text statement, rename it to end in `.txt`; otherwise \
                 open it and save it as plain text (`.txt`, UTF-8). Then move the `.txt` file into \
                 {inbox}/ and delete this file."
            ),
            NotStatement::Extension(Some(_)) => format!(
                "To send it: open it, save it as plain text (`.txt`, UTF-8), move that file into \
                 {inbox}/ and delete this file."
            ),
            NotStatement::Folder => format!(
                "To send what it holds: move each statement file itself (`.txt` or `.md`) into \
                 {inbox}/, then delete the folder and this file."
            ),
            NotStatement::SymbolicLink | NotStatement::HardLink | NotStatement::Special => format!(
                "To send it: copy the statement file itself (`.txt` or `.md`) into {inbox}/, then \
                 delete the entry here and this file."
            ),
        }
    }
}

/// Something found complete in the inbox: a statement to take, or something to refuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) path: PathBuf,
    pub(crate) not_statement: Option<NotStatement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

impl Seen {
    fn unchanged(&self, other: &Seen) -> bool {
        self.len == other.len && self.modified == other.modified
    }
}

/// Tracks inbox files until they are complete.
#[derive(Debug)]
pub(crate) struct Inbox {
    dir: PathBuf,
    settle: Duration,
    seen: HashMap<PathBuf, Seen>,
    /// Files known complete because they were renamed into the inbox.
    renamed_in: Vec<PathBuf>,
    /// Entries that could be neither taken nor moved away, as they were then: left alone until
    /// they change, so that one bad file is not tried again at every scan.
    set_aside: HashMap<PathBuf, Seen>,
}

impl Inbox {
    pub(crate) fn new(dir: PathBuf, settle: Duration) -> Inbox {
        Inbox {
            dir,
            settle,
            seen: HashMap::new(),
            renamed_in: Vec::new(),
            set_aside: HashMap::new(),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// A file event said `path` was renamed into the inbox: it is complete now.
    pub(crate) fn renamed(&mut self, path: PathBuf) {
        if !self.renamed_in.contains(&path) {
            self.renamed_in.push(path);
        }
    }

    /// Forgets a file (taken, or gone).
    pub(crate) fn forget(&mut self, path: &Path) {
        self.seen.remove(path);
        self.renamed_in.retain(|p| p != path);
    }

    /// Leaves `path` alone until it changes: it could not be dealt with (taken nor moved away).
    pub(crate) fn set_aside(&mut self, path: &Path) {
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            let seen = Seen {
                len: meta.len(),
                modified: meta.modified().ok(),
                since: Instant::now(),
            };
            self.set_aside.insert(path.to_path_buf(), seen);
        }
        self.forget(path);
    }

    /// Scans the folder; returns what is complete, oldest name first, and the time after which
    /// the next incomplete entry may be complete. Hidden and temporary names are left alone.
    pub(crate) fn scan(&mut self, now: Instant) -> std::io::Result<(Vec<Found>, Option<Instant>)> {
        let mut ready = Vec::new();
        let mut next: Option<Instant> = None;
        let mut present = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if is_temporary_name(&name.to_string_lossy()) {
                continue;
            }
            // Not followed: a link is refused as what it is, never read through.
            let Ok(meta) = entry.metadata() else { continue };
            let path = entry.path();
            present.push(path.clone());
            let current = Seen {
                len: meta.len(),
                modified: meta.modified().ok(),
                since: now,
            };
            if let Some(aside) = self.set_aside.get(&path) {
                if aside.unchanged(&current) {
                    continue;
                }
                self.set_aside.remove(&path);
            }
            let kind = meta.file_type();
            let not_statement = if kind.is_symlink() {
                Some(NotStatement::SymbolicLink)
            } else if kind.is_dir() {
                Some(NotStatement::Folder)
            } else if !kind.is_file() {
                Some(NotStatement::Special)
            } else {
                match name.to_str() {
                    Some(name) if is_statement_name(name) => None,
                    Some(name) => Some(NotStatement::Extension(extension(name))),
                    None => Some(NotStatement::Extension(extension(&name.to_string_lossy()))),
                }
            };
            let found = Found {
                path: path.clone(),
                not_statement,
            };
            if self.renamed_in.contains(&path) {
                ready.push(found);
                continue;
            }
            let seen = self.seen.entry(path).or_insert(current);
            if !seen.unchanged(&current) {
                *seen = current;
            }
            let due = seen.since + self.settle;
            if due <= now {
                ready.push(found);
            } else {
                next = Some(next.map_or(due, |n: Instant| n.min(due)));
            }
        }
        self.seen.retain(|p, _| present.contains(p));
        self.renamed_in.retain(|p| present.contains(p));
        self.set_aside.retain(|p, _| present.contains(p));
        ready.sort_by(|a, b| a.path.cmp(&b.path));
        ready.dedup();
        Ok((ready, next))
    }
}

/// Why a statement file could not be read.
#[derive(Debug)]
pub(crate) enum Unreadable {
    /// Taken away before it could be read.
    Gone,
    NotStatement(NotStatement),
    Io(std::io::Error),
}

/// Reads the statement file at `path`, a name in the inbox `inbox_device` lies on, without ever
/// following a link: it is opened with `O_NOFOLLOW` (and `O_NONBLOCK`, so that a pipe renamed in
/// cannot hang the daemon), the opened descriptor must be a regular file of that file system
/// with no other name, and its bytes are read from that descriptor alone. A link renamed over
/// the file after the scan is refused, never read through; the bytes returned are what every
/// letter attaches, so nothing later opens the path again.
///
/// At most `max_bytes` are read: a larger file is an error (`FileTooLarge`), as it would be copied
/// into every letter.
pub(crate) fn read_statement_file(
    path: &Path,
    inbox_device: u64,
    max_bytes: u64,
) -> Result<Vec<u8>, Unreadable> {
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unreadable::Gone),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(Unreadable::NotStatement(NotStatement::SymbolicLink))
        }
        Err(e) => return Err(Unreadable::Io(e)),
    };
    check_opened(&file, inbox_device)?;
    crate::plan::read_at_most(file, max_bytes).map_err(Unreadable::Io)
}

/// The opened descriptor (fstat, not the path) is a regular file lying only in the inbox.
fn check_opened(file: &File, inbox_device: u64) -> Result<(), Unreadable> {
    let meta = file.metadata().map_err(Unreadable::Io)?;
    if meta.is_dir() {
        return Err(Unreadable::NotStatement(NotStatement::Folder));
    }
    if !meta.is_file() {
        return Err(Unreadable::NotStatement(NotStatement::Special));
    }
    if meta.nlink() > 1 || meta.dev() != inbox_device {
        return Err(Unreadable::NotStatement(NotStatement::HardLink));
    }
    Ok(())
}

/// The device number of the file system `dir` lies on.
pub(crate) fn device_of(dir: &Path) -> std::io::Result<u64> {
    Ok(std::fs::metadata(dir)?.dev())
}

/// `name` shortened to at most `max` bytes, on a character boundary, keeping a short extension
/// (`.txt`): a name derived from a user's file (numbered, or with a suffix) must still be one
/// the file system accepts.
pub(crate) fn shortened(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let (stem, ext) = split_extension(name);
    let keep = max.saturating_sub(ext.len());
    format!("{}{ext}", prefix(stem, keep))
}

/// `(stem, ".ext")`; an extension longer than a few characters is part of the stem.
fn split_extension(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i <= 16 => name.split_at(i),
        _ => (name, ""),
    }
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Moves `file` into `dir` under its own name, never overwriting: a second entry of the same name
/// gets a numbered suffix (`statement.1.txt`). The name is shortened when needed so that it holds
/// at most `max_name` bytes (a suffix the caller adds later must still fit). A name that is not
/// UTF-8 is made readable. Returns the new path.
pub(crate) fn move_into(file: &Path, dir: &Path, max_name: usize) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "statement.txt".into());
    let first = shortened(&name, max_name);
    let (stem, ext) = split_extension(&first);
    let mut target = dir.join(&first);
    let mut n = 1;
    while target.symlink_metadata().is_ok() {
        let number = format!(".{n}");
        let keep = max_name.saturating_sub(number.len() + ext.len());
        target = dir.join(format!("{}{number}{ext}", prefix(stem, keep)));
        n += 1;
    }
    std::fs::rename(file, &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(found: &[Found]) -> Vec<PathBuf> {
        found.iter().map(|f| f.path.clone()).collect()
    }

    #[test]
    fn long_names_are_shortened_on_character_boundaries() {
        // (name, max, expected)
        let long = "é".repeat(130); // 260 bytes
        let rows: [(String, usize, String); 5] = [
            ("s.txt".into(), 255, "s.txt".into()),
            (format!("{long}.txt"), 20, format!("{}.txt", "é".repeat(8))),
            (format!("{long}.txt"), 21, format!("{}.txt", "é".repeat(8))),
            (long.clone(), 7, "é".repeat(3)),
            // An "extension" too long to be one is cut like the rest.
            (
                format!("a.{}", "x".repeat(40)),
                10,
                format!("a.{}", "x".repeat(8)),
            ),
        ];
        for (name, max, expected) in rows {
            let short = shortened(&name, max);
            assert_eq!(short, expected, "{name}");
            assert!(short.len() <= max);
        }
    }

    #[test]
    fn a_long_name_moved_twice_gets_a_number_and_stays_within_the_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let done = dir.path().join("rejected");
        let name = format!("{}.txt", "a".repeat(251));
        assert_eq!(name.len(), NAME_MAX);
        let max = NAME_MAX - ".error.txt".len();
        let mut moved = Vec::new();
        for _ in 0..3 {
            let file = dir.path().join(&name);
            std::fs::write(&file, "text").expect("write");
            moved.push(move_into(&file, &done, max).expect("move"));
        }
        let names: Vec<String> = moved
            .iter()
            .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| n.len() <= max && n.ends_with(".txt")),
            "{names:?}"
        );
        assert!(
            names[1].ends_with(".1.txt") && names[2].ends_with(".2.txt"),
            "{names:?}"
        );
    }

    #[test]
    fn what_is_not_a_statement_is_found_as_such() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::ZERO);
        std::fs::write(dir.path().join("letter.docx"), "PK").expect("write");
        std::fs::write(dir.path().join("README"), "text").expect("write");
        std::fs::write(dir.path().join("s.txt"), "text").expect("write");
        std::fs::write(dir.path().join("draft.txt.part"), "te").expect("write");
        std::fs::create_dir(dir.path().join("folder.txt")).expect("mkdir");
        std::os::unix::fs::symlink("/etc/hostname", dir.path().join("link.txt")).expect("link");
        let (ready, _) = inbox.scan(Instant::now()).expect("scan");
        let found: Vec<(String, Option<NotStatement>)> = ready
            .into_iter()
            .map(|f| {
                let name = f
                    .path
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                (name, f.not_statement)
            })
            .collect();
        assert_eq!(
            found,
            [
                ("README".to_string(), Some(NotStatement::Extension(None))),
                ("folder.txt".to_string(), Some(NotStatement::Folder)),
                (
                    "letter.docx".to_string(),
                    Some(NotStatement::Extension(Some("docx".into())))
                ),
                ("link.txt".to_string(), Some(NotStatement::SymbolicLink)),
                ("s.txt".to_string(), None),
            ]
        );
    }

    #[test]
    fn reading_never_follows_a_link() {
        let dir = tempfile::tempdir().expect("temp dir");
        let device = device_of(dir.path()).expect("device");
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "secret").expect("write");
        let link = dir.path().join("s.txt");
        std::os::unix::fs::symlink(&outside, &link).expect("link");
        assert!(matches!(
            read_statement_file(&link, device, 100),
            Err(Unreadable::NotStatement(NotStatement::SymbolicLink))
        ));
        let hard = dir.path().join("h.txt");
        std::fs::hard_link(&outside, &hard).expect("hard link");
        assert!(matches!(
            read_statement_file(&hard, device, 100),
            Err(Unreadable::NotStatement(NotStatement::HardLink))
        ));
        let plain = dir.path().join("p.txt");
        std::fs::write(&plain, "text").expect("write");
        assert_eq!(
            read_statement_file(&plain, device, 4).ok(),
            Some(b"text".to_vec())
        );
        assert!(matches!(
            read_statement_file(&plain, device, 3),
            Err(Unreadable::Io(e)) if e.kind() == std::io::ErrorKind::FileTooLarge
        ));
        assert!(matches!(
            read_statement_file(&dir.path().join("gone.txt"), device, 100),
            Err(Unreadable::Gone)
        ));
    }

    #[test]
    fn only_complete_statement_names_are_taken() {
        let cases = [
            ("statement.txt", true),
            ("Statement.TXT", true),
            ("notes.md", true),
            (".hidden.txt", false),
            ("statement.txt~", false),
            ("statement.txt.part", false),
            ("statement.tmp", false),
            ("#statement.txt#", false),
            (".statement.txt.swp", false),
            ("image.png", false),
            ("statement", false),
        ];
        for (name, expected) in cases {
            assert_eq!(is_statement_name(name), expected, "{name}");
        }
    }

    #[test]
    fn a_file_is_ready_only_after_it_stops_changing_for_the_settle_period() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::from_secs(2));
        let file = dir.path().join("s.txt");
        std::fs::write(&file, "part").expect("write");
        let t0 = Instant::now();
        let (ready, next) = inbox.scan(t0).expect("scan");
        assert!(ready.is_empty());
        assert_eq!(next, Some(t0 + Duration::from_secs(2)));
        std::fs::write(&file, "part and more").expect("write");
        let (ready, _) = inbox.scan(t0 + Duration::from_secs(3)).expect("scan");
        assert!(
            ready.is_empty(),
            "it changed, so the settle period starts again"
        );
        let (ready, _) = inbox.scan(t0 + Duration::from_secs(5)).expect("scan");
        assert_eq!(paths(&ready), vec![file]);
    }

    #[test]
    fn a_renamed_in_file_is_ready_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::from_secs(60));
        let file = dir.path().join("s.txt");
        std::fs::write(&file, "text").expect("write");
        inbox.renamed(file.clone());
        let (ready, _) = inbox.scan(Instant::now()).expect("scan");
        assert_eq!(paths(&ready), vec![file]);
    }

    #[test]
    fn moving_never_overwrites() {
        let dir = tempfile::tempdir().expect("temp dir");
        let done = dir.path().join("processed");
        for _ in 0..3 {
            let file = dir.path().join("s.txt");
            std::fs::write(&file, "text").expect("write");
            move_into(&file, &done, NAME_MAX).expect("move");
        }
        let mut names: Vec<String> = std::fs::read_dir(&done)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["s.1.txt", "s.2.txt", "s.txt"]);
    }
}
