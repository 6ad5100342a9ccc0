//! The inbox folder: which files are statements, when a file is complete, and where it goes when
//! its dispatch is over.
//!
//! A file is taken only once complete: renamed into the inbox (the safe way to drop a file), or
//! unchanged in size and modification time for the settle period (a file copied in slowly).
//! Hidden and temporary files are never taken.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// True for names the daemon may take: `*.txt` or `*.md`, not hidden, not an editor's or a
/// copier's temporary file.
pub(crate) fn is_statement_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let temporary = name.starts_with('.')
        || name.starts_with('~')
        || name.starts_with('#')
        || name.ends_with('~')
        || lower.ends_with(".tmp")
        || lower.ends_with(".part")
        || lower.ends_with(".swp")
        || lower.ends_with(".crdownload");
    !temporary && (lower.ends_with(".txt") || lower.ends_with(".md"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    len: u64,
    modified: Option<SystemTime>,
    since: Instant,
}

/// Tracks inbox files until they are complete.
#[derive(Debug)]
pub(crate) struct Inbox {
    dir: PathBuf,
    settle: Duration,
    seen: HashMap<PathBuf, Seen>,
    /// Files known complete because they were renamed into the inbox.
    renamed_in: Vec<PathBuf>,
}

impl Inbox {
    pub(crate) fn new(dir: PathBuf, settle: Duration) -> Inbox {
        Inbox {
            dir,
            settle,
            seen: HashMap::new(),
            renamed_in: Vec::new(),
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

    /// Scans the folder; returns the complete statement files, oldest name first, and the time
    /// after which the next incomplete one may be complete.
    pub(crate) fn scan(
        &mut self,
        now: Instant,
    ) -> std::io::Result<(Vec<PathBuf>, Option<Instant>)> {
        let mut ready = Vec::new();
        let mut next: Option<Instant> = None;
        let mut present = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !is_statement_name(name) {
                continue;
            }
            let meta = match entry.metadata() {
                Ok(m) if m.is_file() => m,
                _ => continue,
            };
            let path = entry.path();
            present.push(path.clone());
            if self.renamed_in.contains(&path) {
                ready.push(path);
                continue;
            }
            let current = Seen {
                len: meta.len(),
                modified: meta.modified().ok(),
                since: now,
            };
            let seen = self.seen.entry(path.clone()).or_insert(current);
            if seen.len != current.len || seen.modified != current.modified {
                *seen = current;
            }
            let due = seen.since + self.settle;
            if due <= now {
                ready.push(path);
            } else {
                next = Some(next.map_or(due, |n: Instant| n.min(due)));
            }
        }
        self.seen.retain(|p, _| present.contains(p));
        self.renamed_in.retain(|p| present.contains(p));
        ready.sort();
        ready.dedup();
        Ok((ready, next))
    }
}

/// Moves `file` into `dir` under its own name, never overwriting: a second statement of the same
/// name gets a numbered suffix. Returns the new path.
pub(crate) fn move_into(file: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "statement.txt".into());
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) => (s.to_string(), format!(".{e}")),
        None => (name.clone(), String::new()),
    };
    let mut target = dir.join(&name);
    let mut n = 1;
    while target.exists() {
        target = dir.join(format!("{stem}.{n}{ext}"));
        n += 1;
    }
    std::fs::rename(file, &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(ready, vec![file]);
    }

    #[test]
    fn a_renamed_in_file_is_ready_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut inbox = Inbox::new(dir.path().to_path_buf(), Duration::from_secs(60));
        let file = dir.path().join("s.txt");
        std::fs::write(&file, "text").expect("write");
        inbox.renamed(file.clone());
        let (ready, _) = inbox.scan(Instant::now()).expect("scan");
        assert_eq!(ready, vec![file]);
    }

    #[test]
    fn moving_never_overwrites() {
        let dir = tempfile::tempdir().expect("temp dir");
        let done = dir.path().join("processed");
        for _ in 0..3 {
            let file = dir.path().join("s.txt");
            std::fs::write(&file, "text").expect("write");
            move_into(&file, &done).expect("move");
        }
        let mut names: Vec<String> = std::fs::read_dir(&done)
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["s.1.txt", "s.2.txt", "s.txt"]);
    }
}
