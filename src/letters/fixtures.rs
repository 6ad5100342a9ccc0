//! Values shared by the letters tests: the seed statement built by hand (statement parsing is
//! another module's job), organisations, a sender, and small templates folders written on the fly.

use std::fs;
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
        name: "Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan".to_string(),
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

/// [`letter`], or a panic that names the template problem.
pub(crate) fn render(templates: &Templates, org: &Organization, statement: &Statement) -> Letter {
    letter(templates, org, statement).unwrap_or_else(|e| panic!("{e}"))
}

/// A minimal templates folder with the given files (path relative to the folder, content).
pub(crate) fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    dir
}

/// The smallest English folder the check passes: the three required templates, each letter
/// naming the organisation and the signatory.
pub(crate) const MINIMAL: [(&str, &str); 3] = [
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
