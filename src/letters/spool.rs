//! Rendered letters kept in an unnamed temporary file between the check before sending and the
//! send, so that a dispatch renders each letter once without holding them all in memory.
//!
//! A rendered letter does not hold the statement's body, most of it: its parts point at the one
//! copy every letter shares ([`Part`]). The file keeps each letter's own words, about 2.5 KB of a
//! letter of the seed statement, and the index in memory keeps where the body goes.
//!
//! The file has no name in any folder: it is gone when herald ends, however it ends. It is only
//! a cache: a letter it does not hold (or cannot give back) is rendered again, and rendering is
//! deterministic, so that gives the same letter.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use super::{Letter, Part, Placement};
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

/// One letter: where it starts, the lengths of its subject and of its text's and its HTML's own
/// words, and where each part's shared text goes.
struct Entry {
    offset: u64,
    subject: usize,
    parts: [(usize, Option<Placement>); 2],
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
        let mut block = Vec::new();
        let mut entries = Vec::with_capacity(letters.len());
        for (organization, letter) in letters {
            let offset = block.len() as u64;
            block.extend_from_slice(letter.subject.as_bytes());
            let parts = [&letter.text, &letter.html].map(|part| {
                let (before, shared, after) = part.pieces();
                block.extend_from_slice(before.as_bytes());
                block.extend_from_slice(after.as_bytes());
                let placement = shared.map(|shared| (before.len(), Arc::clone(shared)));
                (before.len() + after.len(), placement)
            });
            let entry = Entry {
                offset,
                subject: letter.subject.len(),
                parts,
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
        let (offset, subject, [(text, text_shared), (html, html_shared)]) = {
            let written = self.written.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(entry) = written.index.get(organization) else {
                return Ok(None);
            };
            (entry.offset, entry.subject, entry.parts.clone())
        };
        let mut block = vec![0; subject + text + html];
        self.file.read_exact_at(&mut block, offset)?;
        let string = |bytes: &[u8]| {
            String::from_utf8(bytes.to_vec())
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        };
        let (subject, rest) = block.split_at(subject);
        let (text_own, html_own) = rest.split_at(text);
        Ok(Some(Letter {
            subject: string(subject)?,
            text: Part::new(string(text_own)?, text_shared),
            html: Part::new(string(html_own)?, html_shared),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::letters::SharedText;

    /// Letters whose parts hold the shared text at the start, inside, at the end, or not at all.
    fn letter(n: usize, text_body: &Arc<SharedText>, html_body: &Arc<SharedText>) -> Letter {
        let own = format!("Dear {n}, é\n\nYours");
        let at = [0, 6, own.len(), 0][n % 4];
        let shared = (n % 4 != 3).then(|| (at, Arc::clone(text_body)));
        Letter {
            subject: format!("Subject {n}"),
            text: Part::new(own, shared),
            html: Part::new(format!("<p>{n}</p>\n"), Some((0, Arc::clone(html_body)))),
        }
    }

    #[test]
    fn gives_back_each_letter_as_it_was_appended() {
        let text_body = SharedText::new("Paragraph, accentué.\n\n".repeat(20));
        let html_body = SharedText::new("<p>Paragraph, accentu&eacute;.</p>\n".repeat(20));
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path()).unwrap();
        let id = |n: usize| OrgId::new(&format!("org-{n}")).unwrap();
        let letters = |range: std::ops::Range<usize>| -> Vec<_> {
            range
                .map(|n| (id(n), letter(n, &text_body, &html_body)))
                .collect()
        };
        spool.append(&letters(0..5)).unwrap();
        spool.append(&letters(5..8)).unwrap();
        spool.append(&[]).unwrap();
        for n in (0..8).rev() {
            let back = spool.get(&id(n)).unwrap().unwrap();
            assert_eq!(back, letter(n, &text_body, &html_body), "letter {n}");
            assert_eq!(
                back.text.to_string(),
                letter(n, &text_body, &html_body).text.to_string()
            );
        }
        assert_eq!(spool.get(&id(9)).unwrap(), None);
        // The shared texts are not in the file: it is far smaller than the letters.
        let letters_size: usize = (0..8)
            .map(|n| letter(n, &text_body, &html_body))
            .map(|l| l.subject.len() + l.text.to_string().len() + l.html.to_string().len())
            .sum();
        let file_size = spool.file.metadata().unwrap().len() as usize;
        assert!(
            file_size < letters_size / 3,
            "{file_size} of {letters_size}"
        );
        // Unnamed: nothing is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
