//! [`Templates`]: every language folder loaded, a letter rendered, and the check of them all.
//!
//! `load` reads each folder under `templates/` (`en` required), `render` picks the
//! organisation's language (or its primary subtag, or English) and renders the subject, text and
//! HTML of one letter, and `check` renders every template for every organisation once, because
//! strict mode alone misses `null` values and variables inside a false `{{#if}}`.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::context::{LetterData, StatementFacts};
use super::language::{Language, LETTER_HTML, LETTER_TXT, SUBJECT};
use super::{escape_html, Letter, LetterError};
use crate::config::Sender;
use crate::directory::{Directory, OrgId, Organization};
use crate::statement::{AddresseeSource, Statement, StatementId};

/// The loaded templates of every language under `templates/`.
pub struct Templates {
    /// Kept apart from the others so that the fallback needs no lookup that could fail.
    english: Language,
    others: HashMap<String, Language>,
}

impl Templates {
    /// Loads `templates/<language>/{subject,letter.txt,letter.html.to_string()}.hbs` and partials for every
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
        let subject = one_line(language.render(SUBJECT, false, data)?.to_string());
        let subject = language.checked_subject(subject, data)?;
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
                Ok(rendered) => rendered.to_string(),
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::letters::fixtures::{
        folder, organization, render, seed_statement, sender, shipped_templates, MINIMAL,
    };

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
        // The statement's body is not copied into the letter: both parts point at it.
        for part in [&letter.text, &letter.html] {
            let (before, body, after) = part.pieces();
            assert!(body.is_some_and(|body| body.as_str().len() > before.len() + after.len()));
        }
        let text = letter.text.to_string();
        let html = letter.html.to_string();
        assert_eq!(letter.subject, format!("{} (27 May 2021)", statement.title));
        assert!(
            text.contains("\n\nExcellency,\n\nI have the honour"),
            "{}",
            text
        );
        assert!(text.contains(
            "I have the honour to transmit to the Secretary-General of the United Nations the statement of 27 May 2021"
        ));
        for paragraph in &statement.paragraphs {
            assert!(text.contains(paragraph.as_str()), "text lacks {paragraph}");
            assert!(
                html.contains(&handlebars::html_escape(paragraph)),
                "html lacks {paragraph}"
            );
        }
        assert!(
            text.contains("Please accept, Excellency, the assurances of my highest consideration.")
        );
        assert!(text.contains("Sabina Aliyeva\nThe Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan\n"));
        assert!(text.contains("statements@ombudsman.example"));
        // The standard signature separator, "-- " on its own line, lets mail readers fold the
        // sender's block away.
        assert!(
            text.contains(&format!("\n-- \n{}\n", sender().name)),
            "{}",
            text
        );
        assert!(!text.contains("\n\n\n"), "stray blank lines:\n{}", text);
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
            let text = letter.text.to_string();
            assert!(
                text.lines().any(|l| l == line),
                "{language} {salutation:?}: no line {line:?} in\n{}",
                text
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
        let text = render(&templates, &org, &statement).text.to_string();
        assert!(text.contains(
            "Je vous prie d’agréer, Monsieur le Directeur, l’expression de ma haute considération."
        ));
        // Regression: the French letter named the organisation in a clause ("à votre institution,
        // Embassy of France…") that read oddly; and it said the original was in English whatever
        // the statement's language (French, Russian and Azerbaijani statements go out too).
        assert!(text.contains(&format!(
            "J’ai l’honneur de vous transmettre la déclaration du 27 mai 2021 intitulée « {} », dont le texte original est reproduit ci-dessous et joint à la présente.",
            statement.title
        )));
        assert!(!text.contains("votre institution"));
        let org = organization(
            "org",
            "Ambassade de France en Azerbaïdjan",
            "fr",
            Some("Excellence"),
        );
        let text = render(&templates, &org, &statement).text.to_string();
        assert!(text.contains("\n\nExcellence,\n\n"), "{}", text);
        assert!(text.contains(
            "Je vous prie d’agréer, Excellence, les assurances de ma très haute considération."
        ));
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
            assert_well_formed(&render(&templates, &org, &seed_statement()).html.to_string());
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
            .to_string()
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
}
