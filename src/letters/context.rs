//! What a template sees: the `statement`, `organization`, `sender` and `addressees` variables.
//!
//! [`StatementFacts`] builds once per statement what every letter repeats (the body as text and
//! as escaped HTML, the formatted dates, whether the title already says "Statement" or gives the
//! date), and [`LetterData`] serialises the statement's part once and swaps in each organisation,
//! so that rendering a letter only copies it. The field names of the `*Context` structs are the
//! template variables, so renaming one breaks every template that uses it.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use handlebars::Context;
use serde::Serialize;

use super::dates::{long_date, long_date_az, long_date_ru};
use super::{escape_html, LetterError, SharedText};
use crate::config::Sender;
use crate::directory::Organization;
use crate::statement::Statement;

/// Everything a template sees, as Handlebars reads it: `statement`, `organization`, `sender`
/// and `addressees` (every addressee phrase of the statement, as written). Field names are the
/// template variables.
///
/// Built once per statement ([`LetterData::new`]), then given each organisation in turn
/// ([`LetterData::set_organization`]): the statement's part, its body above all, is serialised
/// once instead of once per letter (that was a tenth of a letter's render).
#[derive(Debug, Clone)]
pub struct LetterData {
    pub(super) data: Context,
    /// The statement's body as text and as HTML, which the parts leave out ([`PartWriter`]).
    pub(super) bodies: [Arc<SharedText>; 2],
    /// The organisation whose letter this is, and its language: render errors name it.
    pub(super) organization: String,
    pub(super) language: String,
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
            bodies: [Arc::clone(&facts.body), Arc::clone(&facts.body_html)],
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
            body: facts.body.as_str(),
            body_html: facts.body_html.as_str(),
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
    body: Arc<SharedText>,
    body_html: Arc<SharedText>,
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
            body: SharedText::new(statement.paragraphs.join("\n\n")),
            body_html: SharedText::new(body_html.join("\n")),
            title_is_statement: opens_with_statement(&statement.title),
            title_has_date: statement
                .date
                .is_some_and(|date| mentions_date(&statement.title, date)),
        }
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

/// "Council of Europe" → "the Council of Europe"; a name that already opens with "The" keeps
/// its own article, lower-cased for the middle of a sentence.
fn with_article(name: &str) -> String {
    match name.split_once(' ') {
        Some((first, rest)) if first.eq_ignore_ascii_case("the") => format!("the {rest}"),
        _ => format!("the {name}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::letters::fixtures::{
        folder, organization, render, seed_statement, sender, shipped_templates, MINIMAL,
    };
    use crate::letters::Templates;

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
        let text = letter.text.to_string();
        assert_eq!(
            text.matches(org.name.as_str()).count(),
            2,
            "header and transmittal only:\n{}",
            text
        );
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
        let text = letter.text.to_string();
        let html = letter.html.to_string();
        assert_eq!(
            text,
            "Council Sabina Aliyeva\nOne <b>&</b> \"two\"\n\nThree = 3\n2"
        );
        assert_eq!(
            html,
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
