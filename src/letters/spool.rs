//! Rendered letters kept in an unnamed temporary file between the check before sending and the
//! send, so that a dispatch renders each letter once without holding them all in memory.
//!
//! Most of a letter is the statement's body, the same in every letter (as text in its text part,
//! as HTML in its HTML part): the spool keeps each body once and, for each letter, only what is
//! around it. A letter of the seed statement takes about 2.5 KB of the file instead of 11 KB:
//! writing a file costs the operating system more than it costs herald to find the body in the
//! letter and put it back.
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

use memchr::memmem::Finder;

use super::Letter;
use crate::directory::OrgId;

pub(crate) struct Spool {
    file: File,
    /// The body the text parts repeat, then the one the HTML parts repeat.
    bodies: [Body; 2],
    written: Mutex<Written>,
}

/// A text every letter holds, kept once, and the means to find it in a letter: a search for
/// its opening octets, each place found then compared whole (a search for the whole body, five
/// thousand octets long, costs several times more).
struct Body {
    text: String,
    opening: Finder<'static>,
}

/// How many of a body's octets the search looks for.
const OPENING: usize = 64;

/// Bodies shorter than this are kept in each letter: finding them would cost more than it saves.
const SHORTEST_BODY: usize = 256;

/// Where the letters are in the file, and where the next goes.
#[derive(Default)]
struct Written {
    end: u64,
    index: HashMap<OrgId, Entry>,
}

/// One letter: where it starts, the lengths of its subject, text and HTML as written (without
/// their bodies), and where in the text and the HTML the body goes back, if it was taken out.
#[derive(Debug, Clone, Copy)]
struct Entry {
    offset: u64,
    subject: usize,
    parts: [Part; 2],
}

#[derive(Debug, Clone, Copy)]
struct Part {
    len: usize,
    body_at: Option<usize>,
}

impl Spool {
    /// An empty spool in `dir`, for letters that repeat `text_body` in their text part and
    /// `html_body` in their HTML part.
    pub(crate) fn new(dir: &Path, text_body: &str, html_body: &str) -> io::Result<Spool> {
        let body = |text: &str| Body {
            text: text.to_string(),
            opening: Finder::new(&text.as_bytes()[..text.len().min(OPENING)]).into_owned(),
        };
        Ok(Spool {
            file: tempfile::tempfile_in(dir)?,
            bodies: [body(text_body), body(html_body)],
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
            let mut parts = [Part {
                len: 0,
                body_at: None,
            }; 2];
            for ((part, body), written) in [&letter.text, &letter.html]
                .into_iter()
                .zip(&self.bodies)
                .zip(&mut parts)
            {
                let start = block.len();
                written.body_at = body.take_out(part.as_bytes(), &mut block);
                written.len = block.len() - start;
            }
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
        let [text, html] = entry.parts;
        let mut block = vec![0; entry.subject + text.len + html.len];
        self.file.read_exact_at(&mut block, entry.offset)?;
        let (subject, rest) = block.split_at(entry.subject);
        let (text_part, html_part) = rest.split_at(text.len);
        let string = |bytes: Vec<u8>| {
            String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
        };
        let [text_body, html_body] = &self.bodies;
        Ok(Some(Letter {
            subject: string(subject.to_vec())?,
            text: string(text_body.put_back(text_part, text.body_at))?,
            html: string(html_body.put_back(html_part, html.body_at))?,
        }))
    }
}

impl Body {
    /// Appends `part` to `out`, without its first copy of this body if it holds one; returns
    /// where in `part` the body was.
    fn take_out(&self, part: &[u8], out: &mut Vec<u8>) -> Option<usize> {
        let body = self.text.as_bytes();
        let at = if body.len() < SHORTEST_BODY {
            None
        } else {
            self.opening
                .find_iter(part)
                .find(|&at| part[at..].starts_with(body))
        };
        match at {
            Some(at) => {
                out.extend_from_slice(&part[..at]);
                out.extend_from_slice(&part[at + self.text.len()..]);
            }
            None => out.extend_from_slice(part),
        }
        at
    }

    /// `part` as it was before [`Body::take_out`].
    fn put_back(&self, part: &[u8], body_at: Option<usize>) -> Vec<u8> {
        let Some(at) = body_at else {
            return part.to_vec();
        };
        let mut whole = Vec::with_capacity(part.len() + self.text.len());
        whole.extend_from_slice(&part[..at]);
        whole.extend_from_slice(self.text.as_bytes());
        whole.extend_from_slice(&part[at..]);
        whole
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Letters that hold the body once, twice, in part, or not at all, and at every place.
    fn letter(n: usize, text_body: &str, html_body: &str) -> Letter {
        let text = match n % 4 {
            0 => format!("Dear {n},\n\n{text_body}\n\nYours"),
            1 => format!("{text_body}{text_body} {n}"),
            // Its opening first, then the whole body.
            2 => format!("{n}: {} {text_body}", &text_body[..text_body.len() / 2]),
            // Its opening only.
            _ => format!(
                "Not the body, {n}, é: {}",
                &text_body[..text_body.len() / 2]
            ),
        };
        Letter {
            subject: format!("Subject {n}"),
            text,
            html: format!("<p>{n}</p>\n{html_body}"),
        }
    }

    #[test]
    fn gives_back_each_letter_as_it_was_appended() {
        let text_body = "Paragraph, accentué.\n\n".repeat(20);
        let html_body = "<p>Paragraph, accentu&eacute;.</p>\n".repeat(20);
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path(), &text_body, &html_body).unwrap();
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
            assert_eq!(
                spool.get(&id(n)).unwrap(),
                Some(letter(n, &text_body, &html_body)),
                "letter {n}"
            );
        }
        assert_eq!(spool.get(&id(9)).unwrap(), None);
        // Each body was kept once: the file is far smaller than the letters.
        let letters_size: usize = (0..8)
            .map(|n| letter(n, &text_body, &html_body))
            .map(|l| l.subject.len() + l.text.len() + l.html.len())
            .sum();
        let file_size = spool.file.metadata().unwrap().len() as usize;
        assert!(
            file_size < letters_size / 3,
            "{file_size} of {letters_size}"
        );
        // Unnamed: nothing is left in the folder.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn short_and_empty_bodies_stay_in_the_letters() {
        let dir = tempfile::tempdir().unwrap();
        for body in ["", "Short body."] {
            let spool = Spool::new(dir.path(), body, body).unwrap();
            let id = OrgId::new("org").unwrap();
            let letter = Letter {
                subject: "Subject".to_string(),
                text: format!("Before {body} after"),
                html: body.to_string(),
            };
            spool.append(&[(id.clone(), letter.clone())]).unwrap();
            assert_eq!(spool.get(&id).unwrap(), Some(letter));
        }
    }
}
