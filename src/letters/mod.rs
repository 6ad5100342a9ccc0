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
//! passes it to Handlebars once per statement, each letter only changing the organisation, so
//! that [`Templates::render`] only copies it into each letter.
//! `statement.paragraphs` stays for templates that lay the paragraphs out themselves. Handlebars
//! copies a partial's context at every call, so `{{> name}}` copies the whole letter, body
//! included: the shipped templates use no partials (they made rendering twice as slow), and a
//! partial that needs little can be given little (`{{> salutation organization}}`).

pub mod compose;
mod mime;
pub(crate) mod preview;
pub(crate) mod spool;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, Output, RenderContext, RenderError,
    RenderErrorReason, TemplateError,
};
use serde::Serialize;

use crate::config::Sender;
use crate::directory::{Directory, OrgId, Organization};
use crate::statement::{AddresseeSource, Statement, StatementId};

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

/// The loaded templates of every language under `templates/`.
pub struct Templates {
    /// Kept apart from the others so that the fallback needs no lookup that could fail.
    english: Language,
    others: HashMap<String, Language>,
}

/// The registered names of the three letter templates. They end in `.hbs` so that no partial
/// (whose name never has a dot) can replace them: Handlebars keeps partials and templates in one
/// map.
const SUBJECT: &str = "subject.hbs";
const LETTER_TXT: &str = "letter.txt.hbs";
const LETTER_HTML: &str = "letter.html.hbs";

/// One language folder: a text registry (no escaping) for the subject and the text part, an HTML
/// registry (escaping) for the HTML part.
struct Language {
    code: String,
    dir: PathBuf,
    text: Handlebars<'static>,
    html: Handlebars<'static>,
    /// Registered name → file, per registry, so that render errors name the file.
    text_files: HashMap<String, PathBuf>,
    html_files: HashMap<String, PathBuf>,
}

/// One rendered letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Everything a template sees, as Handlebars reads it: `statement`, `organization`, `sender`
/// and `addressees` (every addressee phrase of the statement, as written). Field names are the
/// template variables.
///
/// Built once per statement ([`LetterData::new`]), then given each organisation in turn
/// ([`LetterData::set_organization`]): the statement's part, its body above all, is serialised
/// once instead of once per letter (that was a tenth of a letter's render).
#[derive(Debug, Clone)]
pub struct LetterData {
    data: Context,
    /// The organisation whose letter this is, and its language: render errors name it.
    organization: String,
    language: String,
}

/// The part of [`LetterData`] that every letter of a statement shares.
#[derive(Serialize)]
struct SharedContext<'a> {
    statement: StatementContext<'a>,
    sender: SenderContext<'a>,
    addressees: &'a [String],
}

impl LetterData {
    /// The context of `statement`'s letters, before it is given an organisation.
    pub fn new(
        statement: &Statement,
        facts: &StatementFacts,
        sender: &Sender,
        addressees: &[String],
    ) -> Result<LetterData, LetterError> {
        let shared = SharedContext {
            statement: StatementContext::new(statement, facts),
            sender: SenderContext::new(sender),
            addressees,
        };
        let data = Context::wraps(shared).map_err(|e| LetterError::Template {
            path: PathBuf::from(&statement.file_name),
            message: format!("cannot pass the statement to the templates: {e}"),
        })?;
        Ok(LetterData {
            data,
            organization: String::new(),
            language: String::new(),
        })
    }

    /// Makes this the context of `organization`'s letter.
    pub fn set_organization(&mut self, organization: &Organization) -> Result<(), LetterError> {
        let value = serde_json::to_value(OrganizationContext::new(organization)).map_err(|e| {
            LetterError::Render {
                path: organization.origin.file.clone(),
                organization: organization.id.to_string(),
                message: format!("cannot pass the organisation to the templates: {e}"),
            }
        })?;
        // `new` serialised a struct, so the data is an object.
        if let Some(map) = self.data.data_mut().as_object_mut() {
            map.insert("organization".to_string(), value);
        }
        self.organization.clear();
        self.organization.push_str(organization.id.as_str());
        self.language.clear();
        self.language.push_str(&organization.language);
        Ok(())
    }

    /// The context as the templates see it: every variable they may use.
    pub fn variables(&self) -> &serde_json::Value {
        self.data.data()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementContext<'a> {
    pub id: &'a str,
    pub title: &'a str,
    /// `2021-05-27`, or empty when undated.
    pub date: &'a str,
    /// `27 May 2021`, or empty when undated.
    pub date_long: &'a str,
    pub signatory: Option<&'a str>,
    pub signatory_title: Option<&'a str>,
    pub paragraphs: &'a [String],
    /// The paragraphs as text, a blank line between two.
    pub body: &'a str,
    /// The paragraphs as HTML, escaped: one `<p style="text-align: justify;">…</p>` line each
    /// (what the shipped templates wrote for each paragraph). Templates write it unescaped,
    /// `{{{statement.body_html}}}`.
    pub body_html: &'a str,
    /// The title already opens with the word "Statement" (or "Declaration", "Déclaration"), so a
    /// subject can be the title itself instead of "Statement: Statement by…".
    pub title_is_statement: bool,
    /// The title already gives the statement's date (`27 May 2021`, `May 27, 2021`,
    /// `2021-05-27`, `27.05.2021`, `27 mai 2021`…), so a subject need not repeat it.
    pub title_has_date: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrganizationContext<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// The organisation's own salutation, or the language's default ("Dear Sir or Madam").
    pub salutation: Option<&'a str>,
    /// The person or office addressed; absent when it would only repeat the name.
    pub contact: Option<&'a str>,
    pub language: &'a str,
    /// The name as it reads inside an English sentence: "the Council of Europe", and "the
    /// European Azerbaijan Society" for "The European Azerbaijan Society" (never "the The").
    pub the_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SenderContext<'a> {
    pub name: &'a str,
    pub email: String,
}

impl<'a> OrganizationContext<'a> {
    pub fn new(organization: &'a Organization) -> Self {
        OrganizationContext {
            id: organization.id.as_str(),
            name: &organization.name,
            salutation: organization.salutation.as_deref(),
            contact: organization
                .contact
                .as_deref()
                .filter(|c| !c.trim().eq_ignore_ascii_case(organization.name.trim())),
            language: &organization.language,
            the_name: with_article(&organization.name),
        }
    }
}

impl<'a> SenderContext<'a> {
    pub fn new(sender: &'a Sender) -> Self {
        SenderContext {
            name: &sender.name,
            email: sender.email.to_string(),
        }
    }
}

impl<'a> StatementContext<'a> {
    /// The statement's part of every letter's context, from what [`StatementFacts`] built once.
    pub fn new(statement: &'a Statement, facts: &'a StatementFacts) -> Self {
        StatementContext {
            id: statement.id.as_str(),
            title: &statement.title,
            date: &facts.date,
            date_long: &facts.date_long,
            signatory: statement.signatory.as_deref(),
            signatory_title: statement.signatory_title.as_deref(),
            paragraphs: &statement.paragraphs,
            body: &facts.body,
            body_html: &facts.body_html,
            title_is_statement: facts.title_is_statement,
            title_has_date: facts.title_has_date,
        }
    }
}

/// What every letter of a statement repeats, built once per statement instead of once per
/// letter: the body as text and as escaped HTML, the formatted dates, and whether the title opens
/// with "Statement" or gives the date (a dozen date formats and lowercasings).
#[derive(Debug, Clone)]
pub struct StatementFacts {
    date: String,
    date_long: String,
    body: String,
    body_html: String,
    title_is_statement: bool,
    title_has_date: bool,
}

impl StatementFacts {
    pub fn new(statement: &Statement) -> StatementFacts {
        let fmt =
            |d: Option<NaiveDate>, f: &str| d.map(|d| d.format(f).to_string()).unwrap_or_default();
        let body_html: Vec<String> = statement
            .paragraphs
            .iter()
            .map(|p| format!("<p style=\"text-align: justify;\">{}</p>", escape_html(p)))
            .collect();
        StatementFacts {
            date: fmt(statement.date, "%Y-%m-%d"),
            date_long: fmt(statement.date, "%-d %B %Y"),
            body: statement.paragraphs.join("\n\n"),
            body_html: body_html.join("\n"),
            title_is_statement: opens_with_statement(&statement.title),
            title_has_date: statement
                .date
                .is_some_and(|date| mentions_date(&statement.title, date)),
        }
    }

    /// The statement's body as `{{statement.body}}` writes it.
    pub(crate) fn body(&self) -> &str {
        &self.body
    }

    /// The statement's body as `{{{statement.body_html}}}` writes it.
    pub(crate) fn body_html(&self) -> &str {
        &self.body_html
    }
}

/// The words a title may open with that already say "this is a statement".
const STATEMENT_WORDS: [&str; 6] = [
    "statement",
    "declaration",
    "déclaration",
    "заявление",
    "bəyanat",
    "bəyanatı",
];

fn opens_with_statement(title: &str) -> bool {
    let first: String = title
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphabetic())
        .collect();
    STATEMENT_WORDS
        .iter()
        .any(|word| first.to_lowercase() == *word)
}

/// Whether `title` writes `date` in one of the usual English, French or numeric forms.
fn mentions_date(title: &str, date: NaiveDate) -> bool {
    let title = title.to_lowercase();
    let forms = [
        long_date(date, false),
        long_date(date, true),
        // "27 мая 2021" of "27 мая 2021 г." or "… года"; "27 may 2021" of "27 may 2021-ci il".
        long_date_ru(date).trim_end_matches(" г.").to_string(),
        long_date_az(date)
            .split('-')
            .next()
            .unwrap_or_default()
            .to_string(),
        date.format("%B %-d, %Y").to_string(),
        date.format("%B %-d %Y").to_string(),
        date.format("%-d %B, %Y").to_string(),
        date.format("%Y-%m-%d").to_string(),
        date.format("%d.%m.%Y").to_string(),
        date.format("%d/%m/%Y").to_string(),
    ];
    forms
        .iter()
        .any(|form| title.contains(&form.to_lowercase()))
}

impl Templates {
    /// Loads `templates/<language>/{subject,letter.txt,letter.html}.hbs` and partials for every
    /// language folder; `en` must exist.
    pub fn load(dir: &Path) -> Result<Templates, LetterError> {
        let entries = fs::read_dir(dir).map_err(|e| LetterError::Template {
            path: dir.to_path_buf(),
            message: format!("cannot read the templates folder: {e}"),
        })?;
        let mut folders = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| LetterError::Template {
                path: dir.to_path_buf(),
                message: format!("cannot read the templates folder: {e}"),
            })?;
            let path = entry.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .map(str::to_string)
            else {
                continue;
            };
            if path.is_dir() && !name.starts_with('.') {
                folders.push((name, path));
            }
        }
        folders.sort();

        let mut errors = Vec::new();
        let mut english = None;
        let mut others = HashMap::new();
        for (code, path) in folders {
            match Language::load(&code, &path) {
                Ok(language) if code == "en" => english = Some(language),
                Ok(language) => {
                    others.insert(code, language);
                }
                Err(mut es) => errors.append(&mut es),
            }
        }
        if english.is_none() && errors.is_empty() {
            errors.push(LetterError::Template {
                path: dir.join("en"),
                message: "the English templates are missing (every language falls back to `en`)"
                    .to_string(),
            });
        }
        match english {
            Some(english) if errors.is_empty() => Ok(Templates { english, others }),
            _ => Err(one_or_many(errors)),
        }
    }

    /// Renders the letter of the organisation `data` was last given, in its language or else
    /// English.
    pub fn render(&self, data: &LetterData) -> Result<Letter, LetterError> {
        let language = self.language(&data.language);
        let subject =
            language.checked_subject(one_line(language.render(SUBJECT, false, data)?), data)?;
        let text = language.render(LETTER_TXT, false, data)?;
        let html = language.render(LETTER_HTML, true, data)?;
        Ok(Letter {
            subject,
            text,
            html,
        })
    }

    /// Renders every template for every organisation of the directory once (with `statement`, or
    /// a sample statement when none is given) and reports every failure and every empty required
    /// field, by template file and organisation.
    ///
    /// Every language folder is rendered at least once, with a sample organisation when no
    /// organisation of the directory uses it, so a broken folder is found before someone is
    /// added in that language.
    pub fn check(
        &self,
        directory: &Directory,
        sender: &Sender,
        statement: Option<&Statement>,
    ) -> Result<(), LetterError> {
        let sample;
        let statement = match statement {
            Some(statement) => statement,
            None => {
                sample = sample_statement();
                &sample
            }
        };
        let addressees: Vec<String> = match &statement.addressees {
            Some(AddresseeSource::List(names)) => names.clone(),
            Some(AddresseeSource::Sentence(sentence)) => vec![sentence.clone()],
            None => Vec::new(),
        };
        let mut errors = Vec::new();
        if statement.title.trim().is_empty() {
            errors.push(LetterError::Template {
                path: PathBuf::from(&statement.file_name),
                message: "the statement has no title, so every subject would lack it".to_string(),
            });
        }
        let facts = StatementFacts::new(statement);
        let mut data = LetterData::new(statement, &facts, sender, &addressees)?;
        let mut used: Vec<&str> = Vec::new();
        for organization in &directory.organizations {
            if organization.name.trim().is_empty() {
                errors.push(LetterError::Render {
                    path: organization.origin.file.clone(),
                    organization: organization.id.to_string(),
                    message: format!(
                        "line {}: the organisation's name is empty",
                        organization.origin.line
                    ),
                });
            }
            used.push(&self.language(&organization.language).code);
            self.check_one(&mut data, organization, statement, &mut errors);
        }
        for language in std::iter::once(&self.english).chain(self.others.values()) {
            if used.contains(&language.code.as_str()) {
                continue;
            }
            // The id is a literal of valid characters, so this always holds.
            if let Some(organization) = sample_organization(&language.code) {
                self.check_one(&mut data, &organization, statement, &mut errors);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(one_or_many(errors))
        }
    }

    fn check_one(
        &self,
        data: &mut LetterData,
        organization: &Organization,
        statement: &Statement,
        errors: &mut Vec<LetterError>,
    ) {
        if let Err(e) = data.set_organization(organization) {
            errors.push(e);
            return;
        }
        let language = self.language(&organization.language);
        let name = organization.name.trim();
        let signatory = statement
            .signatory
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        for (template, html) in [(SUBJECT, false), (LETTER_TXT, false), (LETTER_HTML, true)] {
            let rendered = match language.render(template, html, data) {
                Ok(rendered) => rendered,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let problem = |message: String| LetterError::Render {
                path: language.dir.join(template),
                organization: organization.id.to_string(),
                message,
            };
            let escape = |s: &str| {
                if html {
                    escape_html(s)
                } else {
                    s.to_string()
                }
            };
            if rendered.trim().is_empty() {
                errors.push(problem("renders empty".to_string()));
                continue;
            }
            if template == SUBJECT {
                // The subject is a header: a control character there could forge another one.
                if let Some(message) =
                    crate::header::control_problem("the subject", &one_line(rendered))
                {
                    errors.push(problem(message));
                }
                continue;
            }
            if !name.is_empty() && !rendered.contains(&escape(name)) {
                errors.push(problem(format!(
                    "the letter does not name the organisation `{name}`"
                )));
            }
            if let Some(signatory) = signatory {
                if !rendered.contains(&escape(signatory)) {
                    errors.push(problem(format!(
                        "the letter lacks the signatory `{signatory}`"
                    )));
                }
            }
        }
    }

    /// The organisation's language folder, else the one of its primary subtag (`fr` for
    /// `fr-CA`), else English.
    fn language(&self, code: &str) -> &Language {
        let primary = code.split(['-', '_']).next().unwrap_or(code);
        self.others
            .get(code)
            .or_else(|| self.others.get(primary))
            .unwrap_or(&self.english)
    }

    /// The code of the folder an organisation of language `code` gets its letters from: its
    /// own, its primary subtag's, or `en`.
    pub fn language_for(&self, code: &str) -> &str {
        &self.language(code).code
    }

    /// The language folders loaded, `en` first.
    pub fn languages(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = self.others.keys().map(String::as_str).collect();
        codes.sort_unstable();
        codes.insert(0, &self.english.code);
        codes
    }
}

#[derive(Clone, Copy)]
enum Target {
    Text,
    Html,
    Both,
}

impl Language {
    fn load(code: &str, dir: &Path) -> Result<Language, Vec<LetterError>> {
        let mut language = Language {
            code: code.to_string(),
            dir: dir.to_path_buf(),
            text: Handlebars::new(),
            html: Handlebars::new(),
            text_files: HashMap::new(),
            html_files: HashMap::new(),
        };
        let primary = code.split(['-', '_']).next().unwrap_or(code).to_string();
        for registry in [&mut language.text, &mut language.html] {
            registry.set_strict_mode(true);
            let primary = primary.clone();
            registry.register_helper("long_date", Box::new(LongDate { primary }));
        }
        language.text.register_escape_fn(handlebars::no_escape);
        language.html.register_escape_fn(escape_html);

        let mut errors = Vec::new();
        let partials = dir.join("partials");
        if partials.is_dir() {
            match sorted_files(&partials) {
                Ok(files) => {
                    for path in files {
                        if let Err(e) = language.load_partial(&path) {
                            errors.push(e);
                        }
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        for (name, target) in [
            (SUBJECT, Target::Text),
            (LETTER_TXT, Target::Text),
            (LETTER_HTML, Target::Html),
        ] {
            let path = dir.join(name);
            let result = read_template(&path)
                .and_then(|source| language.register(name, &source, &path, target));
            if let Err(e) = result {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(language)
        } else {
            Err(errors)
        }
    }

    fn load_partial(&mut self, path: &Path) -> Result<(), LetterError> {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            return Ok(());
        };
        let Some(stem) = file_name.strip_suffix(".hbs") else {
            return Ok(());
        };
        let (name, target) = if let Some(name) = stem.strip_suffix(".txt") {
            (name, Target::Text)
        } else if let Some(name) = stem.strip_suffix(".html") {
            (name, Target::Html)
        } else {
            (stem, Target::Both)
        };
        if name.is_empty() || name.contains('.') {
            return Err(LetterError::Template {
                path: path.to_path_buf(),
                message: format!("`{file_name}` is not a partial name: expected NAME.hbs, NAME.txt.hbs or NAME.html.hbs, NAME without dots"),
            });
        }
        let source = read_template(path)?;
        self.register(name, &source, path, target)
    }

    fn register(
        &mut self,
        name: &str,
        source: &str,
        path: &Path,
        target: Target,
    ) -> Result<(), LetterError> {
        let template_error = |e: TemplateError| LetterError::Template {
            path: path.to_path_buf(),
            message: match e.pos() {
                Some((line, column)) => format!("line {line}, column {column}: {}", e.reason()),
                None => e.reason().to_string(),
            },
        };
        if matches!(target, Target::Text | Target::Both) {
            self.text
                .register_template_string(name, source)
                .map_err(template_error)?;
            self.text_files.insert(name.to_string(), path.to_path_buf());
        }
        if matches!(target, Target::Html | Target::Both) {
            self.html
                .register_template_string(name, source)
                .map_err(template_error)?;
            self.html_files.insert(name.to_string(), path.to_path_buf());
        }
        Ok(())
    }

    fn render(&self, template: &str, html: bool, data: &LetterData) -> Result<String, LetterError> {
        let registry = if html { &self.html } else { &self.text };
        registry
            .render_with_context(template, &data.data)
            .map_err(|e| self.render_error(template, html, &data.organization, e))
    }

    /// The rendered subject, refused when it holds a control character: it becomes a header,
    /// where a line break from a template or a title could forge another one.
    fn checked_subject(&self, subject: String, data: &LetterData) -> Result<String, LetterError> {
        match crate::header::control_problem("the subject", &subject) {
            None => Ok(subject),
            Some(message) => Err(LetterError::Render {
                path: self.dir.join(SUBJECT),
                organization: data.organization.clone(),
                message,
            }),
        }
    }

    fn render_error(
        &self,
        template: &str,
        html: bool,
        organization: &str,
        e: RenderError,
    ) -> LetterError {
        let files = if html {
            &self.html_files
        } else {
            &self.text_files
        };
        // The error may come from a partial: name that file when Handlebars says which.
        let path = e
            .template_name
            .as_ref()
            .and_then(|name| files.get(name))
            .or_else(|| files.get(template))
            .cloned()
            .unwrap_or_else(|| self.dir.join(template));
        // Handlebars words this one with `Some("…")` around the name; say it plainly.
        let reason = match e.reason() {
            RenderErrorReason::MissingVariable(Some(name)) => {
                format!("`{name}` has no value (templates run in strict mode)")
            }
            reason => reason.to_string(),
        };
        LetterError::Render {
            path,
            organization: organization.to_string(),
            message: match e.line_no {
                Some(line) => format!("line {line}: {reason}"),
                None => reason,
            },
        }
    }
}

fn read_template(path: &Path) -> Result<String, LetterError> {
    fs::read_to_string(path).map_err(|e| LetterError::Template {
        path: path.to_path_buf(),
        message: if e.kind() == std::io::ErrorKind::NotFound {
            "missing: every language folder needs subject.hbs, letter.txt.hbs and letter.html.hbs"
                .to_string()
        } else {
            format!("cannot read the template: {e}")
        },
    })
}

fn sorted_files(dir: &Path) -> Result<Vec<PathBuf>, LetterError> {
    let read_error = |e: std::io::Error| LetterError::Template {
        path: dir.to_path_buf(),
        message: format!("cannot read the partials folder: {e}"),
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn one_or_many(mut errors: Vec<LetterError>) -> LetterError {
    if errors.len() == 1 {
        errors.remove(0)
    } else {
        LetterError::Many(errors)
    }
}

/// A subject is one header line: template newlines and runs of spaces become single spaces.
fn one_line(subject: String) -> String {
    let trimmed = subject.trim();
    let clean =
        !trimmed.contains("  ") && !trimmed.contains(|c: char| c.is_whitespace() && c != ' ');
    if clean && trimmed.len() == subject.len() {
        subject
    } else if clean {
        trimmed.to_string()
    } else {
        trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `{{long_date statement.date}}`: `2021-05-27` → `27 May 2021` (`27 mai 2021`, and French
/// `1er` for the first day, in a French folder; `27 мая 2021 г.` in Russian, `27 may 2021-ci il`
/// in Azerbaijani); an empty date renders nothing.
struct LongDate {
    /// The folder's primary language subtag.
    primary: String,
}

impl HelperDef for LongDate {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let value = h
            .param(0)
            .and_then(|p| p.value().as_str())
            .ok_or(RenderErrorReason::ParamNotFoundForIndex("long_date", 0))?;
        if value.is_empty() {
            return Ok(());
        }
        let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map_err(|_| RenderErrorReason::InvalidParamType("a date such as `2021-05-27`"))?;
        let long = match self.primary.as_str() {
            "ru" => long_date_ru(date),
            "az" => long_date_az(date),
            primary => long_date(date, primary == "fr"),
        };
        out.write(&long)?;
        Ok(())
    }
}

const MONTHS_RU_GENITIVE: [&str; 12] = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
];
const MONTHS_AZ: [&str; 12] = [
    "yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avqust", "sentyabr", "oktyabr",
    "noyabr", "dekabr",
];

/// `27 мая 2021 г.`, as Russian official letters date a document.
fn long_date_ru(date: NaiveDate) -> String {
    use chrono::Datelike;
    let month = MONTHS_RU_GENITIVE[date.month0() as usize];
    format!("{} {month} {} г.", date.day(), date.year())
}

/// `27 may 2021-ci il`: the ordinal suffix follows the vowel of the year's last spoken word
/// (bir → -ci, üç → -cü, altı → -cı, doqquz → -cu, on → -cu, qırx → -cı, yüz → -cü, min → -ci).
fn long_date_az(date: NaiveDate) -> String {
    use chrono::Datelike;
    let year = date.year().unsigned_abs();
    const UNITS: [&str; 10] = ["", "ci", "ci", "cü", "cü", "ci", "cı", "ci", "ci", "cu"];
    const TENS: [&str; 10] = ["", "cu", "ci", "cu", "cı", "ci", "cı", "ci", "ci", "cı"];
    let digit = |place: u32| (year / place % 10) as usize;
    let suffix = match (digit(1), digit(10), digit(100)) {
        (units @ 1..=9, _, _) => UNITS[units],
        (0, tens @ 1..=9, _) => TENS[tens],
        (0, 0, 1..=9) => "cü",
        _ => "ci",
    };
    let month = MONTHS_AZ[date.month0() as usize];
    format!("{} {month} {}-{suffix} il", date.day(), date.year())
}

fn long_date(date: NaiveDate, french: bool) -> String {
    use chrono::Datelike;
    let day = date.day();
    let months = if french { &MONTHS_FR } else { &MONTHS_EN };
    let month = months[date.month0() as usize];
    if day == 1 && french {
        format!("1er {month} {}", date.year())
    } else {
        format!("{day} {month} {}", date.year())
    }
}

/// The statement `herald check` renders with when it is given none.
fn sample_statement() -> Statement {
    let original = "Sample statement used by herald check\n\nThe first paragraph of the statement.\n\nThe second paragraph of the statement.\n\nSample Signatory\n\nSample Title\n\n27 May 2021\n\nThis Statement is addressed to the Sample Organisation.\n".to_string();
    let date = NaiveDate::from_ymd_opt(2021, 5, 27);
    Statement {
        id: StatementId::from_parts(date, &crate::statement::normalise_text(&original)),
        title: "Sample statement used by herald check".to_string(),
        date,
        signatory: Some("Sample Signatory".to_string()),
        signatory_title: Some("Sample Title".to_string()),
        paragraphs: vec![
            "The first paragraph of the statement.".to_string(),
            "The second paragraph of the statement.".to_string(),
        ],
        addressees: Some(AddresseeSource::List(vec![
            "Sample Organisation".to_string()
        ])),
        passages: Vec::new(),
        date_reading: None,
        file_name: "sample-statement.txt".to_string(),
        original,
    }
}

fn sample_organization(language: &str) -> Option<Organization> {
    Some(Organization {
        id: OrgId::new("sample-organization")?,
        name: "Sample Organisation".to_string(),
        aliases: Vec::new(),
        emails: Vec::new(),
        cc: Vec::new(),
        language: language.to_string(),
        salutation: None,
        contact: None,
        heads: Vec::new(),
        origin: crate::directory::Origin {
            file: PathBuf::from("(sample)"),
            line: 0,
        },
    })
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

/// "Council of Europe" → "the Council of Europe"; a name that already opens with "The" keeps
/// its own article, lower-cased for the middle of a sentence.
fn with_article(name: &str) -> String {
    match name.split_once(' ') {
        Some((first, rest)) if first.eq_ignore_ascii_case("the") => format!("the {rest}"),
        _ => format!("the {name}"),
    }
}

/// Values shared by the letters tests: the seed statement built by hand (statement parsing is
/// another module's job), organisations and a sender.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::path::{Path, PathBuf};

    use chrono::NaiveDate;

    use super::{Letter, LetterData, LetterError, StatementFacts, Templates};
    use crate::config::Sender;
    use crate::directory::{OrgId, Organization, Origin};
    use crate::statement::{AddresseeSource, Statement, StatementId};

    pub(crate) fn shipped_templates() -> Templates {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        match Templates::load(&dir) {
            Ok(t) => t,
            Err(e) => panic!("the shipped templates do not load: {e}"),
        }
    }

    /// The seed statement: title, eight body paragraphs, signature block, addressee sentence.
    pub(crate) fn seed_statement() -> Statement {
        let original = include_str!("../../tests/fixtures/golden/statement.txt").to_string();
        let blocks: Vec<String> = original
            .split("\n\n")
            .map(|b| b.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
            .collect();
        let date = NaiveDate::from_ymd_opt(2021, 5, 27);
        Statement {
            id: StatementId::from_parts(date, &crate::statement::normalise_text(&original)),
            title: blocks[0].clone(),
            date,
            signatory: Some("Sabina Aliyeva".to_string()),
            signatory_title: Some(
                "The Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan"
                    .to_string(),
            ),
            paragraphs: blocks[1..9].to_vec(),
            addressees: Some(AddresseeSource::List(vec![
                "UN Secretary-General".to_string(),
                "Council of Europe".to_string(),
            ])),
            passages: Vec::new(),
            date_reading: None,
            file_name: "2021-05-27-kalbajar-statement.txt".to_string(),
            original,
        }
    }

    pub(crate) fn organization(
        id: &str,
        name: &str,
        language: &str,
        salutation: Option<&str>,
    ) -> Organization {
        Organization {
            id: OrgId::new(id).unwrap_or_else(|| panic!("bad test id {id}")),
            name: name.to_string(),
            aliases: Vec::new(),
            emails: vec![format!("office@{id}.example")
                .parse()
                .unwrap_or_else(|e| panic!("{e}"))],
            cc: Vec::new(),
            language: language.to_string(),
            salutation: salutation.map(str::to_string),
            contact: None,
            heads: Vec::new(),
            origin: Origin {
                file: PathBuf::from("recipients/test.toml"),
                line: 1,
            },
        }
    }

    /// One organisation's letter of `statement`, with no addressee phrases.
    pub(crate) fn letter(
        templates: &Templates,
        org: &Organization,
        statement: &Statement,
    ) -> Result<Letter, LetterError> {
        let sender = sender();
        let facts = StatementFacts::new(statement);
        let mut data = LetterData::new(statement, &facts, &sender, &[])?;
        data.set_organization(org)?;
        templates.render(&data)
    }

    pub(crate) fn sender() -> Sender {
        Sender {
            name: "Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan"
                .to_string(),
            email: "statements@ombudsman.example"
                .parse()
                .unwrap_or_else(|e| panic!("{e}")),
            reply_to: Some(
                "office@ombudsman.example"
                    .parse()
                    .unwrap_or_else(|e| panic!("{e}")),
            ),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::fs;
    use std::path::Path;

    use super::fixtures::{letter, organization, seed_statement, sender, shipped_templates};
    use super::*;

    fn render(templates: &Templates, org: &Organization, statement: &Statement) -> Letter {
        letter(templates, org, statement).unwrap_or_else(|e| panic!("{e}"))
    }

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

    #[test]
    fn names_read_well_inside_a_sentence() {
        let cases = [
            ("Council of Europe", "the Council of Europe"),
            (
                "The European Azerbaijan Society",
                "the European Azerbaijan Society",
            ),
            ("the Office", "the Office"),
            ("Theatre Union", "the Theatre Union"),
            ("UNESCO", "the UNESCO"),
        ];
        for (name, expected) in cases {
            assert_eq!(with_article(name), expected, "{name}");
        }
    }

    #[test]
    fn a_contact_that_repeats_the_name_is_not_printed_twice() {
        let templates = shipped_templates();
        let mut org = organization("council-of-europe", "Council of Europe", "en", None);
        org.contact = Some(org.name.to_uppercase());
        let letter = render(&templates, &org, &seed_statement());
        assert_eq!(
            letter.text.matches(org.name.as_str()).count(),
            2,
            "header and transmittal only:\n{}",
            letter.text
        );
    }

    /// A minimal templates folder with the given files (path relative to the folder, content).
    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        dir
    }

    const MINIMAL: [(&str, &str); 3] = [
        ("en/subject.hbs", "Statement: {{statement.title}}"),
        (
            "en/letter.txt.hbs",
            "To {{organization.name}}, from {{statement.signatory}}",
        ),
        (
            "en/letter.html.hbs",
            "<p>To {{organization.name}}, from {{statement.signatory}}</p>",
        ),
    ];

    #[test]
    fn shipped_english_letter_is_complete() {
        let templates = shipped_templates();
        let statement = seed_statement();
        let org = organization(
            "un-secretary-general",
            "Secretary-General of the United Nations",
            "en",
            Some("Excellency"),
        );
        let letter = render(&templates, &org, &statement);
        assert_eq!(letter.subject, format!("{} (27 May 2021)", statement.title));
        assert!(
            letter.text.contains("\n\nExcellency,\n\nI have the honour"),
            "{}",
            letter.text
        );
        assert!(letter.text.contains(
            "I have the honour to transmit to the Secretary-General of the United Nations the statement of 27 May 2021"
        ));
        for paragraph in &statement.paragraphs {
            assert!(
                letter.text.contains(paragraph.as_str()),
                "text lacks {paragraph}"
            );
            assert!(
                letter.html.contains(&handlebars::html_escape(paragraph)),
                "html lacks {paragraph}"
            );
        }
        assert!(letter
            .text
            .contains("Please accept, Excellency, the assurances of my highest consideration."));
        assert!(letter.text.contains("Sabina Aliyeva\nThe Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan\n"));
        assert!(letter.text.contains("statements@ombudsman.example"));
        // The standard signature separator, "-- " on its own line, lets mail readers fold the
        // sender's block away.
        assert!(
            letter.text.contains(&format!("\n-- \n{}\n", sender().name)),
            "{}",
            letter.text
        );
        assert!(
            !letter.text.contains("\n\n\n"),
            "stray blank lines:\n{}",
            letter.text
        );
    }

    #[test]
    fn salutations_and_languages() {
        let templates = shipped_templates();
        let statement = seed_statement();
        // (language, salutation, expected line in the text, what the subject adds to the title)
        let cases = [
            ("en", None, "Dear Sir or Madam,", " (27 May 2021)"),
            ("en", Some("Excellency"), "Excellency,", " (27 May 2021)"),
            ("fr", Some("Excellency"), "Excellence,", " (27 mai 2021)"),
            ("fr", None, "Madame, Monsieur,", " (27 mai 2021)"),
            (
                "fr",
                Some("Monsieur le Directeur"),
                "Monsieur le Directeur,",
                " (27 mai 2021)",
            ),
            ("fr-CA", None, "Madame, Monsieur,", " (27 mai 2021)"),
            ("de", None, "Dear Sir or Madam,", " (27 May 2021)"),
        ];
        for (language, salutation, line, subject) in cases {
            let org = organization(
                "org",
                "Bureau international de la paix",
                language,
                salutation,
            );
            let letter = render(&templates, &org, &statement);
            assert!(
                letter.text.lines().any(|l| l == line),
                "{language} {salutation:?}: no line {line:?} in\n{}",
                letter.text
            );
            assert_eq!(
                letter.subject,
                format!("{}{subject}", statement.title),
                "{language}"
            );
        }
        let org = organization(
            "org",
            "Bureau international de la paix",
            "fr",
            Some("Monsieur le Directeur"),
        );
        let letter = render(&templates, &org, &statement);
        assert!(letter.text.contains(
            "Je vous prie d’agréer, Monsieur le Directeur, l’expression de ma haute considération."
        ));
        // Regression: the French letter named the organisation in a clause ("à votre institution,
        // Embassy of France…") that read oddly; and it said the original was in English whatever
        // the statement's language (French, Russian and Azerbaijani statements go out too).
        assert!(letter.text.contains(&format!(
            "J’ai l’honneur de vous transmettre la déclaration du 27 mai 2021 intitulée « {} », dont le texte original est reproduit ci-dessous et joint à la présente.",
            statement.title
        )));
        assert!(!letter.text.contains("votre institution"));
        let org = organization(
            "org",
            "Ambassade de France en Azerbaïdjan",
            "fr",
            Some("Excellence"),
        );
        let letter = render(&templates, &org, &statement);
        assert!(
            letter.text.contains("\n\nExcellence,\n\n"),
            "{}",
            letter.text
        );
        assert!(letter.text.contains(
            "Je vous prie d’agréer, Excellence, les assurances de ma très haute considération."
        ));
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let templates = shipped_templates();
        let org = organization("acme", "Peace & <Justice> \"Council\"", "en", None);
        let letter = render(&templates, &org, &seed_statement());
        assert!(letter.text.contains("Peace & <Justice> \"Council\""));
        assert!(letter
            .html
            .contains("Peace &amp; &lt;Justice&gt; &quot;Council&quot;"));
        assert!(!letter.html.contains("<Justice>"));
    }

    /// Every opened element is closed in order (void elements written `<br />`).
    fn assert_well_formed(html: &str) {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            let end = rest[start..]
                .find('>')
                .map(|e| start + e)
                .expect("unterminated tag");
            let tag = &rest[start + 1..end];
            rest = &rest[end + 1..];
            if tag.starts_with('!') || tag.ends_with('/') {
                continue;
            }
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            if tag.starts_with('/') {
                assert_eq!(
                    stack.pop().as_deref(),
                    Some(name.as_str()),
                    "mismatched </{name}>"
                );
            } else {
                stack.push(name);
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
    }

    #[test]
    fn html_letters_are_well_formed() {
        let templates = shipped_templates();
        for language in ["en", "fr"] {
            let org = organization("org", "Council of Europe", language, Some("Excellency"));
            assert_well_formed(&render(&templates, &org, &seed_statement()).html);
        }
    }

    #[test]
    fn undated_statement_leaves_no_gap() {
        let templates = shipped_templates();
        let mut statement = seed_statement();
        statement.date = None;
        let org = organization("org", "Council of Europe", "en", None);
        let letter = render(&templates, &org, &statement);
        assert_eq!(letter.subject, statement.title);
        assert!(letter
            .text
            .contains("to the Council of Europe the statement entitled"));
    }

    #[test]
    fn load_errors_name_the_file() {
        let missing_en = folder(&[("fr/subject.hbs", "x")]);
        let err = Templates::load(missing_en.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains(
                &missing_en
                    .path()
                    .join("fr")
                    .join("letter.txt.hbs")
                    .display()
                    .to_string()
            ),
            "{err}"
        );

        let only_fr: Vec<(String, &str)> = MINIMAL
            .iter()
            .map(|(p, c)| (p.replace("en/", "fr/"), *c))
            .collect();
        let only_fr: Vec<(&str, &str)> = only_fr.iter().map(|(p, c)| (p.as_str(), *c)).collect();
        let dir = folder(&only_fr);
        let err = Templates::load(dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains(&dir.path().join("en").display().to_string()) && err.contains("English"),
            "{err}"
        );

        let mut broken = MINIMAL.to_vec();
        broken[1] = (
            "en/letter.txt.hbs",
            "line one\n{{#if organization.name}}unclosed\n",
        );
        let dir = folder(&broken);
        let err = Templates::load(dir.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains(
                &dir.path()
                    .join("en")
                    .join("letter.txt.hbs")
                    .display()
                    .to_string()
            ),
            "{err}"
        );
        assert!(err.contains("line "), "{err}");

        let err = Templates::load(Path::new("/nonexistent/templates"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("/nonexistent/templates: cannot read"),
            "{err}"
        );
    }

    #[test]
    fn partials_are_per_registry() {
        let mut files = MINIMAL.to_vec();
        files[1] = (
            "en/letter.txt.hbs",
            "{{> sig}} {{> both}} {{organization.name}} {{statement.signatory}}",
        );
        files[2] = (
            "en/letter.html.hbs",
            "{{> sig}} {{> both}} {{organization.name}} {{statement.signatory}}",
        );
        files.push(("en/partials/sig.txt.hbs", "TEXT & SIG\n"));
        files.push(("en/partials/sig.html.hbs", "<b>HTML</b>\n"));
        files.push(("en/partials/both.hbs", "{{organization.name}}\n"));
        let dir = folder(&files);
        let templates = Templates::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let org = organization("org", "A & B", "en", None);
        let letter = render(&templates, &org, &seed_statement());
        assert_eq!(letter.text, "TEXT & SIG\n A & B\n A & B Sabina Aliyeva");
        assert_eq!(
            letter.html,
            "<b>HTML</b>\n A &amp; B\n A &amp; B Sabina Aliyeva"
        );
    }

    #[test]
    fn shipped_templates_pass_the_check() {
        let templates = shipped_templates();
        let orgs = vec![
            organization("a", "Council of Europe", "en", None),
            organization(
                "b",
                "Bureau international de la paix",
                "fr",
                Some("Excellency"),
            ),
        ];
        let (directory, _) = Directory::new(orgs, Vec::new());
        let result = templates.check(&directory, &sender(), Some(&seed_statement()));
        assert!(
            result.is_ok(),
            "{}",
            result.err().map(|e| e.to_string()).unwrap_or_default()
        );
        assert!(templates
            .check(&Directory::default(), &sender(), None)
            .is_ok());
        assert_eq!(templates.languages(), vec!["en", "az", "fr", "ru"]);
    }

    #[test]
    fn check_collects_every_problem() {
        let mut files = MINIMAL.to_vec();
        // Strict mode: an unknown variable fails for every organisation.
        files[0] = ("en/subject.hbs", "{{statement.titel}}");
        // Strict mode does not look inside an `#if` that is false; the check sees the missing name.
        files[2] = (
            "en/letter.html.hbs",
            "{{#if organization.contact}}{{organization.name}}{{/if}} {{statement.signatory}}",
        );
        let dir = folder(&files);
        let templates = Templates::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let mut orgs = vec![
            organization("first", "Council of Europe", "en", None),
            organization("second", "European Union", "en", None),
        ];
        orgs[1].name = String::new();
        let (directory, _) = Directory::new(orgs, Vec::new());
        let err = templates
            .check(&directory, &sender(), None)
            .err()
            .unwrap_or_else(|| panic!("check passed"));
        let LetterError::Many(errors) = &err else {
            panic!("{err}")
        };
        let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
        let subject = dir
            .path()
            .join("en")
            .join("subject.hbs")
            .display()
            .to_string();
        let html = dir
            .path()
            .join("en")
            .join("letter.html.hbs")
            .display()
            .to_string();
        for org in ["first", "second"] {
            assert!(
                messages.iter().any(|m| m.starts_with(&subject)
                    && m.contains(&format!("`{org}`"))
                    && m.contains("titel")),
                "{err}"
            );
        }
        assert!(
            messages.iter().any(|m| m.starts_with(&html)
                && m.contains("`first`")
                && m.contains("does not name the organisation `Council of Europe`")),
            "{err}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("recipients/test.toml")
                    && m.contains("`second`")
                    && m.contains("name is empty")),
            "{err}"
        );
    }

    #[test]
    fn check_reports_an_empty_subject_and_a_missing_signature() {
        let mut files = MINIMAL.to_vec();
        files[0] = ("en/subject.hbs", "{{#if statement.date}}{{/if}}  \n");
        files[1] = ("en/letter.txt.hbs", "To {{organization.name}}");
        let dir = folder(&files);
        let templates = Templates::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let (directory, _) = Directory::new(
            vec![organization("first", "Council of Europe", "en", None)],
            Vec::new(),
        );
        let err = templates
            .check(&directory, &sender(), Some(&seed_statement()))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("subject.hbs: rendering for `first`: renders empty"),
            "{err}"
        );
        assert!(err.contains("letter.txt.hbs: rendering for `first`: the letter lacks the signatory `Sabina Aliyeva`"), "{err}");
    }

    /// Regression: the subject read "Statement of 27 May 2021: Statement by the Commissioner…".
    #[test]
    fn subjects_do_not_repeat_the_title() {
        let templates = shipped_templates();
        let may = NaiveDate::from_ymd_opt(2021, 5, 27);
        let august = NaiveDate::from_ymd_opt(2021, 8, 1);
        // (language, title, date, subject)
        let cases = [
            (
                "en",
                "Statement by the Ombudsman",
                may,
                "Statement by the Ombudsman (27 May 2021)",
            ),
            (
                "en",
                "STATEMENT on Kalbajar",
                may,
                "STATEMENT on Kalbajar (27 May 2021)",
            ),
            (
                "en",
                "Declaration on Kalbajar",
                may,
                "Declaration on Kalbajar (27 May 2021)",
            ),
            (
                "en",
                "Statement of 27 May 2021 on Kalbajar",
                may,
                "Statement of 27 May 2021 on Kalbajar",
            ),
            (
                "en",
                "Statement of May 27, 2021",
                may,
                "Statement of May 27, 2021",
            ),
            (
                "en",
                "Statements are cheap",
                may,
                "Statement of 27 May 2021: Statements are cheap",
            ),
            (
                "en",
                "Kalbajar border",
                may,
                "Statement of 27 May 2021: Kalbajar border",
            ),
            (
                "en",
                "Kalbajar, 27.05.2021",
                may,
                "Statement: Kalbajar, 27.05.2021",
            ),
            (
                "en",
                "Statement by the Ombudsman",
                None,
                "Statement by the Ombudsman",
            ),
            ("en", "Kalbajar border", None, "Statement: Kalbajar border"),
            (
                "fr",
                "Déclaration sur Kalbajar",
                august,
                "Déclaration sur Kalbajar (1er août 2021)",
            ),
            (
                "fr",
                "Statement by the Ombudsman",
                may,
                "Statement by the Ombudsman (27 mai 2021)",
            ),
            (
                "fr",
                "Déclaration du 27 mai 2021",
                may,
                "Déclaration du 27 mai 2021",
            ),
            (
                "fr",
                "Kalbajar",
                may,
                "Déclaration du 27 mai 2021 : Kalbajar",
            ),
            (
                "fr",
                "Kalbajar, 2021-05-27",
                may,
                "Déclaration : Kalbajar, 2021-05-27",
            ),
            ("fr", "Kalbajar", None, "Déclaration : Kalbajar"),
        ];
        for (language, title, date, expected) in cases {
            let mut statement = seed_statement();
            statement.title = title.to_string();
            statement.date = date;
            let org = organization("org", "Council of Europe", language, None);
            let letter = render(&templates, &org, &statement);
            assert_eq!(letter.subject, expected, "{language} {title:?} {date:?}");
        }
    }

    #[test]
    fn long_dates() {
        let cases = [
            ((2021, 5, 27), false, "27 May 2021"),
            ((2021, 5, 27), true, "27 mai 2021"),
            ((2021, 8, 1), true, "1er août 2021"),
            ((2021, 12, 1), false, "1 December 2021"),
        ];
        for ((y, m, d), french, expected) in cases {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(long_date(date, french), expected);
        }
        let local = [
            ((2021, 5, 27), "27 мая 2021 г.", "27 may 2021-ci il"),
            ((2023, 4, 4), "4 апреля 2023 г.", "4 aprel 2023-cü il"),
            ((2026, 12, 2), "2 декабря 2026 г.", "2 dekabr 2026-cı il"),
            ((2029, 1, 1), "1 января 2029 г.", "1 yanvar 2029-cu il"),
            (
                (2030, 9, 30),
                "30 сентября 2030 г.",
                "30 sentyabr 2030-cu il",
            ),
            ((2040, 3, 8), "8 марта 2040 г.", "8 mart 2040-cı il"),
            ((2100, 6, 15), "15 июня 2100 г.", "15 iyun 2100-cü il"),
            ((2000, 7, 20), "20 июля 2000 г.", "20 iyul 2000-ci il"),
        ];
        for ((y, m, d), ru, az) in local {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(
                (long_date_ru(date), long_date_az(date)),
                (ru.into(), az.into())
            );
        }
    }

    #[test]
    fn subjects_are_one_line() {
        let cases = [
            ("Statement: x", "Statement: x"),
            ("  Statement: x\n", "Statement: x"),
            ("Statement\n  of\t27 May:  x\r\n", "Statement of 27 May: x"),
        ];
        for (input, expected) in cases {
            assert_eq!(one_line(input.to_string()), expected);
        }
    }

    /// The body is built once per statement: as text, and as HTML escaped once (a template that
    /// writes `{{{statement.body_html}}}` must not escape it again); the paragraphs stay.
    #[test]
    fn the_body_comes_as_text_and_as_escaped_html() {
        let mut files = MINIMAL.to_vec();
        files[1] = (
            "en/letter.txt.hbs",
            "{{organization.name}} {{statement.signatory}}\n{{statement.body}}\n{{len statement.paragraphs}}",
        );
        files[2] = (
            "en/letter.html.hbs",
            "{{organization.name}} {{statement.signatory}}\n{{{statement.body_html}}}",
        );
        let dir = folder(&files);
        let templates = Templates::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        let mut statement = seed_statement();
        statement.paragraphs = vec!["One <b>&</b> \"two\"".to_string(), "Three = 3".to_string()];
        let org = organization("org", "Council", "en", None);
        let letter = render(&templates, &org, &statement);
        assert_eq!(
            letter.text,
            "Council Sabina Aliyeva\nOne <b>&</b> \"two\"\n\nThree = 3\n2"
        );
        assert_eq!(
            letter.html,
            "Council Sabina Aliyeva\n<p style=\"text-align: justify;\">One &lt;b&gt;&amp;&lt;/b&gt; &quot;two&quot;</p>\n<p style=\"text-align: justify;\">Three &#x3D; 3</p>"
        );
    }

    /// One context serves letter after letter: each organisation replaces the last one whole
    /// (its contact, salutation and language do not carry over to the next letter).
    #[test]
    fn a_reused_context_renders_each_letter_as_a_fresh_one() {
        let templates = shipped_templates();
        let statement = seed_statement();
        let mut with_all = organization("un", "United Nations", "fr", Some("Excellency"));
        with_all.contact = Some("Office of the Secretary-General".to_string());
        let orgs = [
            with_all,
            organization("coe", "Council of Europe", "en", None),
            organization("osce", "OSCE", "fr", None),
        ];
        let facts = StatementFacts::new(&statement);
        let sender = sender();
        let mut data = LetterData::new(&statement, &facts, &sender, &[]).unwrap();
        for org in orgs.iter().chain(orgs.iter().rev()) {
            data.set_organization(org).unwrap();
            let reused = templates.render(&data).unwrap();
            assert_eq!(reused, render(&templates, org, &statement), "{}", org.id);
        }
    }
}
