//! Templates → rendered [`Letter`]s, one per organisation (pure once the templates are loaded).
//!
//! Two Handlebars registries, because Handlebars escapes per registry, not per file: the HTML one
//! escapes, the plain-text one does not. Both run in strict mode, and [`Templates::check`] renders
//! every template for every organisation once, because strict mode misses `null` values and
//! missing variables inside `{{#if}}`.
//!
//! Layout of the templates folder, one folder per language (`en` is required: every other
//! language, and any organisation whose language has no folder, falls back to it):
//!
//! ```text
//! templates/<language>/subject.hbs           the Subject line (text registry; whitespace collapsed)
//! templates/<language>/letter.txt.hbs        the text/plain part (text registry, not escaped)
//! templates/<language>/letter.html.hbs       the text/html part (HTML registry, escaped)
//! templates/<language>/partials/NAME.hbs     partial `NAME` in both registries
//! templates/<language>/partials/NAME.txt.hbs partial `NAME` in the text registry only
//! templates/<language>/partials/NAME.html.hbs partial `NAME` in the HTML registry only
//! ```
//!
//! A partial alone on its line (`{{> closing}}`) takes the place of that line, its own final
//! newline included, as Handlebars specifies for standalone partials. Besides the built-in helpers, every registry has `{{long_date statement.date}}`, the date written out
//! in the folder's language (`27 May 2021`, `27 mai 2021`; English months for other languages).
//!
//! Templates are parsed once by [`Templates::load`]. Most of a letter is the statement's body,
//! the same in every letter: [`StatementFacts`] builds it once per statement, as text
//! (`statement.body`) and as escaped HTML (`{{{statement.body_html}}}`), and [`LetterData`]
//! passes it to Handlebars once per statement, each letter only changing the organisation. A
//! rendered letter's [`Part`]s point at that one copy of the body instead of holding their own
//! (`PartWriter`), so the check before sending keeps each letter's own words only, and
//! composing encodes the body once for all the letters (`mime`).
//! `statement.paragraphs` stays for templates that lay the paragraphs out themselves. Handlebars
//! copies a partial's context at every call, so `{{> name}}` copies the whole letter, body
//! included: the shipped templates use no partials (they made rendering twice as slow), and a
//! partial that needs little can be given little (`{{> salutation organization}}`).
//!
//! Where each part lives: `templates.rs` ([`Templates`]: loading, rendering, the check),
//! `language.rs` (one language folder's two registries and the files behind them),
//! `context.rs` (what a template sees: [`LetterData`], [`StatementFacts`]), `dates.rs` (the
//! `long_date` helper). After rendering, `compose.rs` and `mime.rs` turn a [`Letter`] into a
//! MIME message, `preview.rs` writes the dry run's folder, and `spool.rs` keeps rendered letters
//! between the check before sending and the send.

pub mod compose;
mod context;
mod dates;
#[cfg(test)]
pub(crate) mod fixtures;
mod language;
mod mime;
pub(crate) mod preview;
pub(crate) mod spool;
mod templates;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

pub use context::{
    LetterData, OrganizationContext, SenderContext, StatementContext, StatementFacts,
};
pub use templates::Templates;

/// A template problem, naming the template file and, when rendering, the organisation.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LetterError {
    #[error("{}: {message}", path.display())]
    Template { path: PathBuf, message: String },
    #[error("{}: rendering for `{organization}`: {message}", path.display())]
    Render {
        path: PathBuf,
        organization: String,
        message: String,
    },
    #[error("{} problem{} in the templates:\n  {}", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Many(Vec<LetterError>),
}

/// One rendered letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: Part,
    pub html: Part,
}

/// The text or the HTML part of a rendered letter, `to_string()` giving it as written: the
/// letter's own words and, where the template wrote it, the statement's body ([`SharedText`]).
/// The body is most of every letter and the same in all of them, so a part points at it instead
/// of holding a copy (`PartWriter`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    own: String,
    shared: Option<Placement>,
}

/// Where in a part's own words the shared text goes, and which it is.
pub(crate) type Placement = (usize, Arc<SharedText>);

impl Part {
    /// A part that is only its own words, or holds `shared` at `at` in them (`at` a character
    /// boundary of `own`, else the part is only its own words).
    pub(crate) fn new(own: String, shared: Option<Placement>) -> Part {
        let shared = shared.filter(|(at, _)| own.is_char_boundary(*at));
        Part { own, shared }
    }

    /// The words before the shared text, the shared text if the part holds it, and the words
    /// after it.
    pub(crate) fn pieces(&self) -> (&str, Option<&Arc<SharedText>>, &str) {
        match &self.shared {
            Some((at, shared)) => (&self.own[..*at], Some(shared), &self.own[*at..]),
            None => (&self.own, None, ""),
        }
    }

    /// Its length in octets as written.
    pub fn len(&self) -> usize {
        self.own.len()
            + self
                .shared
                .as_ref()
                .map_or(0, |(_, shared)| shared.text.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (before, shared, after) = self.pieces();
        f.write_str(before)?;
        if let Some(shared) = shared {
            f.write_str(shared.as_str())?;
        }
        f.write_str(after)
    }
}

/// A text every letter of a statement holds: its body as text or as escaped HTML
/// ([`StatementFacts`]). Letters point at it instead of each holding a copy, and it is encoded
/// for the messages once for all of them (`mime`).
#[derive(Debug, PartialEq, Eq)]
pub struct SharedText {
    text: String,
    encoded: mime::SharedEncoding,
}

impl SharedText {
    pub(crate) fn new(text: String) -> Arc<SharedText> {
        let encoded = mime::SharedEncoding::new(&text);
        Arc::new(SharedText { text, encoded })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Its transfer encodings.
    pub(crate) fn encoded(&self) -> &mime::SharedEncoding {
        &self.encoded
    }
}

/// Where Handlebars writes one part of a letter. Everything goes to the letter's own words but
/// the first write of exactly the shared text, `{{statement.body}}` or
/// `{{{statement.body_html}}}`, whose place is noted instead. Anything else (the body passed
/// through a helper, written twice, or indented by a partial) stays in the own words as written,
/// so the part is the same either way.
pub(crate) struct PartWriter<'a> {
    shared: &'a Arc<SharedText>,
    own: Vec<u8>,
    at: Option<usize>,
}

impl<'a> PartWriter<'a> {
    pub(crate) fn new(shared: &'a Arc<SharedText>) -> PartWriter<'a> {
        PartWriter {
            shared,
            own: Vec::with_capacity(4096),
            at: None,
        }
    }

    pub(crate) fn finish(self) -> Part {
        // Handlebars writes only `str`s, so this is UTF-8 and `at` a character boundary.
        let own = String::from_utf8(self.own)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Part::new(own, self.at.map(|at| (at, Arc::clone(self.shared))))
    }
}

impl io::Write for PartWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let shared = self.shared.as_str().as_bytes();
        if self.at.is_none() && !shared.is_empty() && buf == shared {
            self.at = Some(self.own.len());
        } else {
            self.own.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What Handlebars' own `html_escape` writes (the seven characters ``&<>"'`=`` as entities),
/// without building the output a character at a time: the runs between those octets are copied
/// whole. Every value a letter or the dry run's index shows passes through it.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut done = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'&' => "&amp;",
            b'\'' => "&#x27;",
            b'`' => "&#x60;",
            b'=' => "&#x3D;",
            _ => continue,
        };
        // These octets are ASCII, so `at` is a character boundary.
        out.push_str(&text[done..at]);
        out.push_str(entity);
        done = at + 1;
    }
    out.push_str(&text[done..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_is_handlebars_own() {
        let mut cases: Vec<String> = [
            "",
            "plain",
            "<b>Council & \"Europe\"</b>",
            "l'Assemblée = `x`",
            "&amp; already",
            "=start and end=",
            "Совет Европы <и> «ООН»",
        ]
        .map(String::from)
        .to_vec();
        let alphabet = [
            'a', ' ', '<', '>', '"', '&', '\'', '`', '=', 'é', '€', '𝄞', '\n',
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..2000 {
            let len = rng.usize(0..60);
            cases.push(
                (0..len)
                    .map(|_| alphabet[rng.usize(0..alphabet.len())])
                    .collect(),
            );
        }
        for text in &cases {
            assert_eq!(escape_html(text), handlebars::html_escape(text), "{text:?}");
        }
    }
}
