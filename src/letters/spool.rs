//! Rendered letters kept in an unnamed temporary file between the check before sending and the
//! send, so that a dispatch renders each letter once without holding them all in memory: a 5 KB
//! statement makes letters of about 11 KB, 220 MB for 20,000 organisations, which the file keeps
//! in the operating system's cache (and on disk if it must) instead of in herald's memory.
//!
//! The file has no name in any folder: it is gone when herald ends, however it ends. It is only
//! a cache: a letter it does not hold (or cannot give back) is rendered again, and rendering is
//! deterministic, so that gives the same letter.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use super::Letter;
use crate::directory::OrgId;

pub(crate) struct Spool {
    file: File,
    written: Mutex<Written>,
}

/// Where the letters are in the file, and where the next goes.
#[derive(Default)]
struct Written {
    end: u64,
    index: HashMap<OrgId, Entry>,
}

/// One letter: where it starts, and the lengths of its subject, text and HTML, in that order.
#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: u64,
    subject: usize,
    text: usize,
    html: usize,
}

impl Spool {
    /// An empty spool in `dir`.
    pub(crate) fn new(dir: &Path) -> io::Result<Spool> {
        Ok(Spool {
            file: tempfile::tempfile_in(dir)?,
            written: Mutex::new(Written::default()),
        })
    }

    /// Adds `letters`, in one write.
    pub(crate) fn append(&self, letters: &[(OrgId, Letter)]) -> io::Result<()> {
        let size = letters.iter().map(|(_, l)| size(l)).sum();
        let mut block = Vec::with_capacity(size);
        let mut entries = Vec::with_capacity(letters.len());
        for (organization, letter) in letters {
            let offset = block.len() as u64;
            for part in [&letter.subject, &letter.text, &letter.html] {
                block.extend_from_slice(part.as_bytes());
            }
            let entry = Entry {
                offset,
                subject: letter.subject.len(),
                text: letter.text.len(),
                html: letter.html.len(),
            };
            entries.push((organization.clone(), entry));
        }
        let mut written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
        self.file.write_all_at(&block, written.end)?;
        let start = written.end;
        for (organization, mut entry) in entries {
            entry.offset += start;
            written.index.insert(organization, entry);
        }
        written.end += block.len() as u64;
        Ok(())
    }

    /// The letter to `organization`, if the spool has it.
    pub(crate) fn get(&self, organization: &OrgId) -> io::Result<Option<Letter>> {
        let entry = self
            .written
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .index
            .get(organization)
            .copied();
        let Some(entry) = entry else {
            return Ok(None);
        };
        let mut subject = vec![0; entry.subject + entry.text + entry.html];
        self.file.read_exact_at(&mut subject, entry.offset)?;
        let html = subject.split_off(entry.subject + entry.text);
        let text = subject.split_off(entry.subject);
        let string = |bytes| {
            String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        };
        Ok(Some(Letter {
            subject: string(subject)?,
            text: string(text)?,
            html: string(html)?,
        }))
    }
}

/// The bytes a rendered letter holds.
fn size(letter: &Letter) -> usize {
    letter.subject.len() + letter.text.len() + letter.html.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn letter(n: usize) -> Letter {
        Letter {
            subject: format!("Subject {n}"),
            text: format!("Text {n}, é\n").repeat(n),
            html: format!("<p>{n}</p>"),
        }
    }

    #[test]
    fn gives_back_each_letter_as_it_was_appended() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path()).unwrap();
        let id = |n: usize| OrgId::new(&format!("org-{n}")).unwrap();
        let first: Vec<_> = (0..3).map(|n| (id(n), letter(n))).collect();
        let second: Vec<_> = (3..5).map(|n| (id(n), letter(n))).collect();
        spool.append(&first).unwrap();
        spool.append(&second).unwrap();
        spool.append(&[]).unwrap();
        for n in (0..5).rev() {
            assert_eq!(spool.get(&id(n)).unwrap(), Some(letter(n)), "letter {n}");
        }
        assert_eq!(spool.get(&id(9)).unwrap(), None);
        // Unnamed: nothing is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
