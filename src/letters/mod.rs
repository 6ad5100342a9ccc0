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
//! A partial file's final newline is dropped, so `{{> closing}}` can sit inside a line. Besides
//! the built-in helpers, every registry has `{{long_date statement.date}}`, the date written out
//! in the folder's language (`27 May 2021`, `27 mai 2021`; English months for other languages).
//!
//! Templates are parsed once by [`Templates::load`]; [`Templates::render`] serialises the
//! context once and renders the three templates from it, so rendering thousands of letters costs
//! no re-parsing.

pub mod compose;
pub mod preview;

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
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    #[error("{}: {message}", path.display())]
    Template { path: PathBuf, message: String },
    #[error("{}: rendering for `{organization}`: {message}", path.display())]
    Render {
        path: PathBuf,
        organization: String,
        message: String,
    },
    #[error("{} problem(s) in the templates:\n  {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
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

/// Everything a template sees. Field names are the template variables.
#[derive(Debug, Clone, Serialize)]
pub struct LetterContext<'a> {
    pub statement: StatementContext<'a>,
    pub organization: OrganizationContext<'a>,
    pub sender: SenderContext<'a>,
    /// Every addressee phrase of the statement, as written.
    pub addressees: &'a [String],
}

#[derive(Debug, Clone, Serialize)]
pub struct StatementContext<'a> {
    pub id: &'a str,
    pub title: &'a str,
    /// `2021-05-27`, or empty when undated.
    pub date: String,
    /// `27 May 2021`, or empty when undated.
    pub date_long: String,
    pub signatory: Option<&'a str>,
    pub signatory_title: Option<&'a str>,
    pub paragraphs: &'a [String],
}

#[derive(Debug, Clone, Serialize)]
pub struct OrganizationContext<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// The organisation's own salutation, or the language's default ("Dear Sir or Madam").
    pub salutation: Option<&'a str>,
    pub contact: Option<&'a str>,
    pub language: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct SenderContext<'a> {
    pub name: &'a str,
    pub email: String,
}

impl<'a> StatementContext<'a> {
    pub fn new(statement: &'a Statement) -> Self {
        let fmt = |d: Option<NaiveDate>, f: &str| d.map(|d| d.format(f).to_string()).unwrap_or_default();
        StatementContext {
            id: statement.id.as_str(),
            title: &statement.title,
            date: fmt(statement.date, "%Y-%m-%d"),
            date_long: fmt(statement.date, "%-d %B %Y"),
            signatory: statement.signatory.as_deref(),
            signatory_title: statement.signatory_title.as_deref(),
            paragraphs: &statement.paragraphs,
        }
    }
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
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
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

    /// Renders one organisation's letter, in its language or else English.
    pub fn render(&self, context: &LetterContext<'_>) -> Result<Letter, LetterError> {
        let language = self.language(context.organization.language);
        let data = Context::wraps(context).map_err(|e| language.render_error(SUBJECT, false, context, e))?;
        let subject = one_line(language.render(SUBJECT, false, &data, context)?);
        let text = language.render(LETTER_TXT, false, &data, context)?;
        let html = language.render(LETTER_HTML, true, &data, context)?;
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
        let mut used: Vec<&str> = Vec::new();
        for organization in &directory.organizations {
            if organization.name.trim().is_empty() {
                errors.push(LetterError::Render {
                    path: organization.origin.file.clone(),
                    organization: organization.id.to_string(),
                    message: format!("line {}: the organisation's name is empty", organization.origin.line),
                });
            }
            let ctx = context(statement, organization, sender, &addressees);
            used.push(&self.language(&organization.language).code);
            self.check_one(&ctx, statement, &mut errors);
        }
        for language in std::iter::once(&self.english).chain(self.others.values()) {
            if used.contains(&language.code.as_str()) {
                continue;
            }
            // The id is a literal of valid characters, so this always holds.
            if let Some(organization) = sample_organization(&language.code) {
                let ctx = context(statement, &organization, sender, &addressees);
                self.check_one(&ctx, statement, &mut errors);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(one_or_many(errors))
        }
    }

    fn check_one(&self, ctx: &LetterContext<'_>, statement: &Statement, errors: &mut Vec<LetterError>) {
        let language = self.language(ctx.organization.language);
        let data = match Context::wraps(ctx) {
            Ok(data) => data,
            Err(e) => {
                errors.push(language.render_error(SUBJECT, false, ctx, e));
                return;
            }
        };
        let name = ctx.organization.name.trim();
        let signatory = statement.signatory.as_deref().map(str::trim).filter(|s| !s.is_empty());
        for (template, html) in [(SUBJECT, false), (LETTER_TXT, false), (LETTER_HTML, true)] {
            let rendered = match language.render(template, html, &data, ctx) {
                Ok(rendered) => rendered,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let problem = |message: String| LetterError::Render {
                path: language.dir.join(template),
                organization: ctx.organization.id.to_string(),
                message,
            };
            let escape = |s: &str| if html { handlebars::html_escape(s) } else { s.to_string() };
            if rendered.trim().is_empty() {
                errors.push(problem("renders empty".to_string()));
                continue;
            }
            if template == SUBJECT {
                continue;
            }
            if !name.is_empty() && !rendered.contains(&escape(name)) {
                errors.push(problem(format!("the letter does not name the organisation `{name}`")));
            }
            if let Some(signatory) = signatory {
                if !rendered.contains(&escape(signatory)) {
                    errors.push(problem(format!("the letter lacks the signatory `{signatory}`")));
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
        let french = code.split(['-', '_']).next() == Some("fr");
        for registry in [&mut language.text, &mut language.html] {
            registry.set_strict_mode(true);
            registry.register_helper("long_date", Box::new(LongDate { french }));
        }
        language.text.register_escape_fn(handlebars::no_escape);

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
        for (name, target) in [(SUBJECT, Target::Text), (LETTER_TXT, Target::Text), (LETTER_HTML, Target::Html)] {
            let path = dir.join(name);
            let result = read_template(&path).and_then(|source| language.register(name, &source, &path, target));
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
        let source = source
            .strip_suffix("\r\n")
            .or_else(|| source.strip_suffix('\n'))
            .unwrap_or(&source);
        self.register(name, source, path, target)
    }

    fn register(&mut self, name: &str, source: &str, path: &Path, target: Target) -> Result<(), LetterError> {
        let template_error = |e: TemplateError| LetterError::Template {
            path: path.to_path_buf(),
            message: match e.pos() {
                Some((line, column)) => format!("line {line}, column {column}: {}", e.reason()),
                None => e.reason().to_string(),
            },
        };
        if matches!(target, Target::Text | Target::Both) {
            self.text.register_template_string(name, source).map_err(template_error)?;
            self.text_files.insert(name.to_string(), path.to_path_buf());
        }
        if matches!(target, Target::Html | Target::Both) {
            self.html.register_template_string(name, source).map_err(template_error)?;
            self.html_files.insert(name.to_string(), path.to_path_buf());
        }
        Ok(())
    }

    fn render(&self, template: &str, html: bool, data: &Context, ctx: &LetterContext<'_>) -> Result<String, LetterError> {
        let registry = if html { &self.html } else { &self.text };
        registry
            .render_with_context(template, data)
            .map_err(|e| self.render_error(template, html, ctx, e))
    }

    fn render_error(&self, template: &str, html: bool, ctx: &LetterContext<'_>, e: RenderError) -> LetterError {
        let files = if html { &self.html_files } else { &self.text_files };
        // The error may come from a partial: name that file when Handlebars says which.
        let path = e
            .template_name
            .as_ref()
            .and_then(|name| files.get(name))
            .or_else(|| files.get(template))
            .cloned()
            .unwrap_or_else(|| self.dir.join(template));
        let reason = e.reason().to_string();
        LetterError::Render {
            path,
            organization: ctx.organization.id.to_string(),
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
            "missing: every language folder needs subject.hbs, letter.txt.hbs and letter.html.hbs".to_string()
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
    let clean = !trimmed.contains("  ") && !trimmed.contains(|c: char| c.is_whitespace() && c != ' ');
    if clean && trimmed.len() == subject.len() {
        subject
    } else if clean {
        trimmed.to_string()
    } else {
        trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

const MONTHS_EN: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
];
const MONTHS_FR: [&str; 12] = [
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
    "novembre", "décembre",
];


/// `{{long_date statement.date}}`: `2021-05-27` → `27 May 2021` (`27 mai 2021`, and French
/// `1er` for the first day, in a French folder); an empty date renders nothing.
struct LongDate {
    french: bool,
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
        out.write(&long_date(date, self.french))?;
        Ok(())
    }
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
        addressees: Some(AddresseeSource::List(vec!["Sample Organisation".to_string()])),
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
        groups: Vec::new(),
        origin: crate::directory::Origin {
            file: PathBuf::from("(sample)"),
            line: 0,
        },
    })
}

/// Builds the template context for one organisation.
pub fn context<'a>(
    statement: &'a Statement,
    organization: &'a Organization,
    sender: &'a Sender,
    addressees: &'a [String],
) -> LetterContext<'a> {
    LetterContext {
        statement: StatementContext::new(statement),
        organization: OrganizationContext {
            id: organization.id.as_str(),
            name: &organization.name,
            salutation: organization.salutation.as_deref(),
            contact: organization.contact.as_deref(),
            language: &organization.language,
        },
        sender: SenderContext {
            name: &sender.name,
            email: sender.email.to_string(),
        },
        addressees,
    }
}
