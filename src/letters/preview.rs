//! The output of `herald dispatch --dry-run`: every letter written to a folder as `<org-id>.eml`
//! (the exact message that would be sent) and `<org-id>.html` (its HTML part, to read in a
//! browser), plus an `index.html` listing them all.
//!
//! Streaming, because a statement may go to thousands of organisations: each letter is written
//! as it comes and only a small row (name, addresses, subject) is kept for the index. Letters
//! can be written from several threads at once ([`PreviewWriter::write`] takes `&self`).
//! Everything the index shows is HTML-escaped: names and subjects come from user files.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use super::compose::Composed;
use super::{escape_html as html_escape, Letter};
use crate::directory::resolve::ResolvedPhrase;
use crate::directory::Organization;
use crate::error::{Error, Result};
use crate::statement::Statement;

/// Writes a dry run's previews into one folder.
pub(crate) struct PreviewWriter {
    dir: PathBuf,
    /// The folder did not exist before: [`PreviewWriter::discard`] removes it again.
    created: bool,
    rows: Vec<IndexRow>,
    /// The addressee phrases with the rule that matched each, rendered for the index.
    addressees: String,
}

/// A letter's line of the index, rendered by the thread that wrote the letter.
pub(crate) struct IndexRow {
    id: String,
    /// `<tr>…</tr>` and a newline.
    html: String,
}

impl PreviewWriter {
    /// Creates `out_dir` (and its parents) if needed.
    pub(crate) fn new(out_dir: &Path) -> Result<PreviewWriter> {
        let created = !out_dir.is_dir();
        fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
        Ok(PreviewWriter {
            dir: out_dir.to_path_buf(),
            created,
            rows: Vec::new(),
            addressees: String::new(),
        })
    }

    /// Writes `<org-id>.eml` and `<org-id>.html` and returns the organisation's row for the
    /// index, to be given to [`PreviewWriter::push`] in the order of the index. Organisation ids
    /// are `a-z0-9-` only, so they are safe file names.
    pub(crate) fn write(
        &self,
        org: &Organization,
        letter: &Letter,
        composed: &Composed,
    ) -> Result<IndexRow> {
        let eml = self.dir.join(format!("{}.eml", org.id));
        fs::write(&eml, &composed.bytes).map_err(|e| Error::io(&eml, e))?;
        let html = self.dir.join(format!("{}.html", org.id));
        fs::write(&html, letter.html.to_string()).map_err(|e| Error::io(&html, e))?;
        Ok(IndexRow::new(org, &letter.subject))
    }

    /// Adds rows of letters written with [`PreviewWriter::write`] to the index.
    pub(crate) fn push(&mut self, rows: impl IntoIterator<Item = IndexRow>) {
        self.rows.extend(rows);
    }

    /// Removes the files of `rows` and, if this writer created it and it is now empty, the
    /// folder: what a refused dry run leaves is what it found.
    pub(crate) fn discard(self, rows: impl IntoIterator<Item = IndexRow>) {
        for row in self.rows.into_iter().chain(rows) {
            for extension in ["eml", "html"] {
                // Best effort: the refusal is what the user must see, not a failed cleanup.
                let _ = fs::remove_file(self.dir.join(format!("{}.{extension}", row.id)));
            }
        }
        if self.created {
            let _ = fs::remove_dir(&self.dir);
        }
    }

    /// Shows in the index how each addressee phrase was resolved: the rule, what it matched in
    /// the directory, and the organisations, as `herald resolve` does.
    pub(crate) fn set_addressees(&mut self, phrases: &[ResolvedPhrase]) {
        let mut out = String::from(
            "<h2 style=\"font-size: 16px;\">Addressees</h2>\n<table style=\"border-collapse: collapse;\">\n\
             <thead><tr><th>Phrase</th><th>Rule</th><th>Organisations</th></tr></thead>\n<tbody>\n",
        );
        for p in phrases {
            let evidence = p
                .evidence()
                .or_else(|| p.reason.clone())
                .unwrap_or_default();
            let orgs: Vec<&str> = p.organizations.iter().map(|o| o.as_str()).collect();
            // `write!` into a String cannot fail.
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                html_escape(&p.phrase),
                html_escape(&evidence),
                html_escape(&orgs.join(", "))
            );
        }
        out.push_str("</tbody>\n</table>\n<h2 style=\"font-size: 16px;\">Letters</h2>\n");
        self.addressees = out;
    }

    /// Writes `index.html` and returns its path.
    pub(crate) fn finish(self, statement: &Statement) -> Result<PathBuf> {
        let path = self.dir.join("index.html");
        fs::write(&path, self.index(statement)).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }

    fn index(&self, statement: &Statement) -> String {
        let title = html_escape(&statement.title);
        let mut out =
            String::with_capacity(1024 + self.rows.iter().map(|r| r.html.len()).sum::<usize>());
        // `write!` into a String cannot fail.
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n\
             <title>Dry run: {title}</title>\n\
             <style>\nth {{ {TH} }}\ntd {{ {TD} }}\n</style>\n</head>\n\
             <body style=\"font-family: sans-serif; margin: 24px; color: #1a1a1a;\">\n\
             <h1 style=\"font-size: 20px;\">Dry run: {title}</h1>\n\
             <p>Statement <code>{id}</code>{date} — {n} letter{s}, none sent.</p>\n\
             {addressees}<table style=\"border-collapse: collapse;\">\n\
             <thead><tr><th>Organisation</th><th>To</th><th>Cc</th><th>Subject</th>\
             <th>Files</th></tr></thead>\n<tbody>\n",
            id = html_escape(statement.id.as_str()),
            date = match statement.date {
                Some(date) => format!(" of {}", date.format("%-d %B %Y")),
                None => String::new(),
            },
            n = self.rows.len(),
            addressees = self.addressees,
            s = if self.rows.len() == 1 { "" } else { "s" },
        );
        for row in &self.rows {
            out.push_str(&row.html);
        }
        out.push_str("</tbody>\n</table>\n</body>\n</html>\n");
        out
    }
}

impl IndexRow {
    fn new(org: &Organization, subject: &str) -> IndexRow {
        let id = html_escape(org.id.as_str());
        let join = |addresses: &[_]| {
            let all: Vec<String> = addresses.iter().map(ToString::to_string).collect();
            html_escape(&all.join(", "))
        };
        let mut html = String::with_capacity(256 + org.name.len() + subject.len());
        // `write!` into a String cannot fail.
        let _ = writeln!(
            html,
            "<tr><td>{name}</td><td>{to}</td><td>{cc}</td><td>{subject}</td>\
             <td><a href=\"{id}.html\">HTML</a> <a href=\"{id}.eml\">.eml</a></td></tr>",
            name = html_escape(&org.name),
            to = join(&org.emails),
            cc = join(&org.cc),
            subject = html_escape(subject),
        );
        IndexRow {
            id: org.id.to_string(),
            html,
        }
    }
}

const TH: &str = "text-align: left; border-bottom: 2px solid #444; padding: 4px 8px;";
const TD: &str = "border-bottom: 1px solid #ccc; padding: 4px 8px; vertical-align: top;";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::DateTime;

    use super::*;
    use crate::letters::compose::compose;
    use crate::letters::fixtures::{
        letter, organization, seed_statement, sender, shipped_templates,
    };

    impl PreviewWriter {
        /// Writes `<org-id>.eml` and `<org-id>.html` and remembers the organisation for the index.
        fn add(&mut self, org: &Organization, letter: &Letter, composed: &Composed) -> Result<()> {
            let row = self.write(org, letter, composed)?;
            self.push([row]);
            Ok(())
        }
    }

    #[test]
    fn writes_each_letter_and_an_escaped_index() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("previews").join("statement");
        let templates = shipped_templates();
        let statement = seed_statement();
        let sender = sender();
        let date = DateTime::parse_from_rfc3339("2021-05-27T18:30:00+04:00").unwrap();
        let orgs = [
            organization(
                "council-of-europe",
                "Council of Europe",
                "en",
                Some("Excellency"),
            ),
            organization("odd", "<script>alert(1)</script> & Co", "fr", None),
        ];
        let mut writer = PreviewWriter::new(&out).unwrap();
        for org in &orgs {
            let letter = letter(&templates, org, &statement).unwrap();
            let composed = compose(&letter, org, &statement, &sender, date).unwrap();
            writer.add(org, &letter, &composed).unwrap();
            assert_eq!(
                fs::read(out.join(format!("{}.eml", org.id))).unwrap(),
                composed.bytes
            );
            assert_eq!(
                fs::read_to_string(out.join(format!("{}.html", org.id))).unwrap(),
                letter.html.to_string()
            );
        }
        let index_path = writer.finish(&statement).unwrap();
        assert_eq!(index_path, out.join("index.html"));
        let index = fs::read_to_string(&index_path).unwrap();
        assert!(index.contains("2 letters, none sent"));
        assert!(index.contains("<a href=\"council-of-europe.html\">HTML</a> <a href=\"council-of-europe.eml\">.eml</a>"));
        assert!(index.contains("office@council-of-europe.example"));
        assert!(index.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co"));
        assert!(!index.contains("<script>"));
        assert!(index.contains("(27 mai 2021)"));
    }

    #[test]
    fn letters_written_apart_are_indexed_in_order_or_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let templates = shipped_templates();
        let statement = seed_statement();
        let sender = sender();
        let date = DateTime::parse_from_rfc3339("2021-05-27T18:30:00+04:00").unwrap();
        let orgs = [
            organization("first", "First Organisation", "en", None),
            organization("second", "Second Organisation", "fr", None),
        ];
        let write = |writer: &PreviewWriter, org: &Organization| {
            let letter = letter(&templates, org, &statement).unwrap();
            let composed = compose(&letter, org, &statement, &sender, date).unwrap();
            writer.write(org, &letter, &composed).unwrap()
        };

        // Written in the opposite order, pushed in the index's order.
        let mut writer = PreviewWriter::new(&out).unwrap();
        let second = write(&writer, &orgs[1]);
        let first = write(&writer, &orgs[0]);
        writer.push([first, second]);
        let index = fs::read_to_string(writer.finish(&statement).unwrap()).unwrap();
        let at = |id: &str| index.find(&format!("href=\"{id}.html\"")).unwrap();
        assert!(at("first") < at("second"), "{index}");

        // Discarded: the files go, and the folder too when the writer made it.
        let fresh = dir.path().join("fresh");
        let writer = PreviewWriter::new(&fresh).unwrap();
        let rows = vec![write(&writer, &orgs[0]), write(&writer, &orgs[1])];
        assert_eq!(fs::read_dir(&fresh).unwrap().count(), 4);
        writer.discard(rows);
        assert!(!fresh.exists());
        // A folder that was there stays, with what was in it before.
        let writer = PreviewWriter::new(&out).unwrap();
        let row = write(&writer, &orgs[0]);
        writer.discard([row]);
        assert!(out.join("index.html").exists() && out.join("second.eml").exists());
        assert!(!out.join("first.eml").exists());
    }

    #[test]
    fn errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, "").unwrap();
        let err = PreviewWriter::new(&file.join("sub"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with(&file.join("sub").display().to_string()),
            "{err}"
        );
    }
}
