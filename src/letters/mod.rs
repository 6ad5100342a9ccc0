//! Templates → rendered [`Letter`]s, one per organisation (pure once the templates are loaded).
//!
//! Two Handlebars registries, because Handlebars escapes per registry, not per file: the HTML one
//! escapes, the plain-text one does not. Both run in strict mode, and [`Templates::check`] renders
//! every template for every organisation once, because strict mode misses `null` values and
//! missing variables inside `{{#if}}`.

pub mod compose;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use crate::config::Sender;
use crate::directory::{Directory, Organization};
use crate::statement::Statement;

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
    _private: (),
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
        let fmt =
            |d: Option<NaiveDate>, f: &str| d.map(|d| d.format(f).to_string()).unwrap_or_default();
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
        let _ = dir;
        unimplemented!("template loading")
    }

    /// Renders one organisation's letter, in its language or else English.
    pub fn render(&self, context: &LetterContext<'_>) -> Result<Letter, LetterError> {
        let _ = context;
        unimplemented!("rendering")
    }

    /// Renders every template for every organisation of the directory once (with `statement`, or
    /// a sample statement when none is given) and reports every failure and every empty required
    /// field, by template file and organisation.
    pub fn check(
        &self,
        directory: &Directory,
        sender: &Sender,
        statement: Option<&Statement>,
    ) -> Result<(), LetterError> {
        let _ = (directory, sender, statement);
        unimplemented!("template check")
    }
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
