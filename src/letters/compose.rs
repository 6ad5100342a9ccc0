//! A rendered [`Letter`] → a MIME message (pure: the date is passed in).
//!
//! multipart/mixed holding multipart/alternative (text/plain and text/html, UTF-8) and the
//! statement attached as its original file. The Message-ID is deterministic,
//! `<statement-id.organization-id@sender-domain>`, so a re-send is recognisably the same letter.
//!
//! Composing is byte-for-byte reproducible: the MIME boundaries, which lettre would otherwise
//! draw at random, are derived from the Message-ID, and the Date header is the instant passed in,
//! written with its own UTC offset. The golden test below pins the exact bytes.
//!
//! Lines stay within RFC 5322's 998 octets whatever the statement holds: lettre folds long
//! headers (RFC 2047-encoding non-ASCII ones) and sends any body with a line of 76 characters or
//! more as quoted-printable or base64. The attachment is always base64, so the statement arrives
//! byte for byte as it was filed, line endings included.
//!
//! The attachment is the same in every letter of a statement, so [`Prepared`] encodes it once and
//! each letter copies the encoded bytes (thousands of letters would otherwise re-encode it each).

use chrono::{DateTime, FixedOffset};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::Message;
use sha2::{Digest, Sha256};

use super::Letter;
use crate::config::Sender;
use crate::directory::OrgId;
use crate::directory::Organization;
use crate::statement::{Statement, StatementId};

/// A composed message ready for a transport.
#[derive(Debug, Clone)]
pub struct Composed {
    /// `<…@…>` with the angle brackets.
    pub message_id: String,
    pub envelope: lettre::address::Envelope,
    /// The formatted message, CRLF line endings.
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("composing the letter to `{organization}`: {message}")]
pub struct ComposeError {
    pub organization: String,
    pub message: String,
}

/// `<statement-id.organization-id@sender-domain>`.
pub fn message_id(statement: &StatementId, organization: &OrgId, sender: &Sender) -> String {
    format!("<{statement}.{organization}@{}>", sender.email.domain())
}

/// Composes one organisation's message (for a single letter; a run of many uses [`Prepared`]).
pub fn compose(
    letter: &Letter,
    organization: &Organization,
    statement: &Statement,
    sender: &Sender,
    date: DateTime<FixedOffset>,
) -> Result<Composed, ComposeError> {
    Prepared::new(statement).compose(letter, organization, statement, sender, date)
}

/// The parts every letter of one statement shares, encoded once.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The statement's original file, base64 as lettre would encode it (so letters are byte for
    /// byte what [`compose`] alone makes).
    attachment: Body,
}

impl Prepared {
    pub fn new(statement: &Statement) -> Prepared {
        // Bytes, not a String: lettre sends bytes as base64 and leaves their line endings alone.
        Prepared {
            attachment: Body::new(statement.original.as_bytes().to_vec()),
        }
    }

    /// Composes one organisation's message; `statement` must be the one this was prepared from.
    pub fn compose(
        &self,
        letter: &Letter,
        organization: &Organization,
        statement: &Statement,
        sender: &Sender,
        date: DateTime<FixedOffset>,
    ) -> Result<Composed, ComposeError> {
        compose_with(self, letter, organization, statement, sender, date)
    }
}

fn compose_with(
    prepared: &Prepared,
    letter: &Letter,
    organization: &Organization,
    statement: &Statement,
    sender: &Sender,
    date: DateTime<FixedOffset>,
) -> Result<Composed, ComposeError> {
    let fail = |message: String| ComposeError {
        organization: organization.id.to_string(),
        message,
    };
    if organization.emails.is_empty() {
        return Err(fail("the organisation has no email address".to_string()));
    }
    let id = message_id(&statement.id, &organization.id, sender);

    let mut builder = Message::builder()
        .from(sender.mailbox())
        .subject(foldable(&letter.subject))
        // Sets a Date so lettre does not stamp the clock; replaced below by the offset-preserving form.
        .date(date.into())
        .message_id(Some(id.clone()));
    if let Some(reply_to) = &sender.reply_to {
        builder = builder.reply_to(Mailbox::new(None, reply_to.clone()));
    }
    for address in &organization.emails {
        builder = builder.to(Mailbox::new(
            Some(organization.name.clone()),
            address.clone(),
        ));
    }
    for address in &organization.cc {
        builder = builder.cc(Mailbox::new(None, address.clone()));
    }
    let envelope = lettre::address::Envelope::new(
        Some(sender.email.clone()),
        organization
            .emails
            .iter()
            .chain(&organization.cc)
            .cloned()
            .collect(),
    )
    .map_err(|e| fail(format!("invalid envelope: {e}")))?;
    builder = builder.envelope(envelope.clone());

    let (mixed, alternative) = boundaries(&id);
    let attachment = Attachment::new(statement.file_name.clone())
        .body(prepared.attachment.clone(), ContentType::TEXT_PLAIN);
    let body = MultiPart::mixed()
        .boundary(mixed)
        .multipart(
            MultiPart::alternative()
                .boundary(alternative)
                .singlepart(SinglePart::plain(letter.text.clone()))
                .singlepart(SinglePart::html(letter.html.clone())),
        )
        .singlepart(attachment);
    let mut message = builder.multipart(body).map_err(|e| fail(e.to_string()))?;
    message.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Date"),
        date.to_rfc2822(),
    ));
    Ok(Composed {
        message_id: id,
        envelope,
        bytes: message.formatted(),
    })
}

/// lettre folds headers at spaces only, so a single word of 998 octets would make an over-long
/// line: such a word (never seen in a real title, but titles are user input) is broken with
/// spaces every [`MAX_WORD`] octets.
fn foldable(subject: &str) -> std::borrow::Cow<'_, str> {
    if subject
        .split_whitespace()
        .all(|word| word.len() <= MAX_WORD)
    {
        return subject.into();
    }
    let mut out = String::with_capacity(subject.len() + subject.len() / MAX_WORD + 1);
    let mut run = 0;
    for c in subject.chars() {
        if c.is_whitespace() {
            run = 0;
        } else if run + c.len_utf8() > MAX_WORD {
            out.push(' ');
            run = 0;
        }
        if !c.is_whitespace() {
            run += c.len_utf8();
        }
        out.push(c);
    }
    out.into()
}

const MAX_WORD: usize = 900;

/// The two MIME boundaries of a message, derived from its Message-ID so that composing is
/// reproducible. A boundary must not occur in the parts: 32 hex digits of SHA-256 make a
/// collision with the letter's text as unlikely as a hash collision.
fn boundaries(message_id: &str) -> (String, String) {
    let digest = Sha256::digest(message_id.as_bytes());
    let hash = hex::encode(&digest[..16]);
    (
        format!("herald-mixed-{hash}"),
        format!("herald-alternative-{hash}"),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use chrono::DateTime;
    use mail_parser::{MessageParser, MimeHeaders};

    use super::*;
    use crate::letters::fixtures::{organization, seed_statement, sender, shipped_templates};
    use crate::letters::{context, Letter};

    fn fixed_date() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2021-05-27T18:30:00+04:00").unwrap()
    }

    /// An organisation with a non-ASCII name, two To addresses and a Cc.
    fn ombudsman() -> Organization {
        let mut org = organization(
            "defenseur-des-droits",
            "Défenseur des droits de la République française",
            "fr",
            None,
        );
        org.emails
            .push("president@defenseur-des-droits.example".parse().unwrap());
        org.cc = vec!["archives@defenseur-des-droits.example".parse().unwrap()];
        org.contact = Some("Monsieur le Défenseur des droits".to_string());
        org
    }

    fn letter_for(org: &Organization, statement: &Statement) -> Letter {
        let sender = sender();
        shipped_templates()
            .render(&context(statement, org, &sender, &[]))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn compose_for(org: &Organization, statement: &Statement) -> Composed {
        let letter = letter_for(org, statement);
        compose(&letter, org, statement, &sender(), fixed_date()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn assert_short_lines(bytes: &[u8]) {
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            assert!(
                line.len() <= 999,
                "line {} has {} octets",
                i + 1,
                line.len()
            ); // 998 + CR
            assert!(
                line.is_empty()
                    || line.ends_with(b"\r")
                    || i == bytes.split(|&b| b == b'\n').count() - 1,
                "bare LF at line {}",
                i + 1
            );
        }
    }

    /// Pins composition byte for byte: a change here must be deliberate. To accept a change,
    /// run `HERALD_BLESS=1 cargo test --lib letters::compose` and review the diff of the fixture.
    #[test]
    fn golden_letter() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden/letter.eml");
        let composed = compose_for(&ombudsman(), &seed_statement());
        if std::env::var_os("HERALD_BLESS").is_some() {
            std::fs::write(&path, &composed.bytes).unwrap();
        }
        let expected = std::fs::read(&path).unwrap_or_else(|e| {
            panic!("{}: {e}; generate it with `HERALD_BLESS=1 cargo test --lib letters::compose`, then review it", path.display())
        });
        assert!(
            composed.bytes == expected,
            "the composed letter differs from {}; if the change is deliberate, regenerate it with `HERALD_BLESS=1 cargo test --lib letters::compose` and review the diff",
            path.display()
        );
    }

    #[test]
    fn composed_message_parses_back() {
        let org = ombudsman();
        let statement = seed_statement();
        let letter = letter_for(&org, &statement);
        let composed = compose(&letter, &org, &statement, &sender(), fixed_date()).unwrap();
        assert_short_lines(&composed.bytes);

        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        let expected_id = format!("<{}.defenseur-des-droits@ombudsman.example>", statement.id);
        assert_eq!(composed.message_id, expected_id);
        assert_eq!(
            message.message_id(),
            Some(expected_id.trim_matches(['<', '>']))
        );
        assert_eq!(message.subject(), Some(letter.subject.as_str()));
        let to: Vec<(Option<&str>, Option<&str>)> = message
            .to()
            .unwrap()
            .iter()
            .map(|a| (a.name(), a.address()))
            .collect();
        assert_eq!(
            to,
            vec![
                (
                    Some(org.name.as_str()),
                    Some("office@defenseur-des-droits.example")
                ),
                (
                    Some(org.name.as_str()),
                    Some("president@defenseur-des-droits.example")
                ),
            ]
        );
        let cc: Vec<Option<&str>> = message.cc().unwrap().iter().map(|a| a.address()).collect();
        assert_eq!(cc, vec![Some("archives@defenseur-des-droits.example")]);
        assert_eq!(
            message.reply_to().unwrap().first().unwrap().address(),
            Some("office@ombudsman.example")
        );
        assert_eq!(
            message.from().unwrap().first().unwrap().address(),
            Some("statements@ombudsman.example")
        );
        assert_eq!(
            message.date().unwrap().to_rfc3339(),
            "2021-05-27T18:30:00+04:00"
        );

        assert_eq!(
            message.body_text(0).unwrap().replace("\r\n", "\n"),
            letter.text
        );
        assert_eq!(
            message.body_html(0).unwrap().replace("\r\n", "\n"),
            letter.html
        );
        assert_eq!(message.attachment_count(), 1);
        let attachment = message.attachment(0).unwrap();
        assert_eq!(
            attachment.attachment_name(),
            Some(statement.file_name.as_str())
        );
        assert_eq!(attachment.contents(), statement.original.as_bytes());
        assert!(
            attachment.content_type().unwrap().ctype() == "text"
                && attachment.content_type().unwrap().subtype() == Some("plain")
        );

        let mut recipients: Vec<String> = composed
            .envelope
            .to()
            .iter()
            .map(ToString::to_string)
            .collect();
        recipients.sort();
        assert_eq!(
            recipients,
            vec![
                "archives@defenseur-des-droits.example",
                "office@defenseur-des-droits.example",
                "president@defenseur-des-droits.example"
            ]
        );
        assert_eq!(
            composed.envelope.from().map(ToString::to_string).as_deref(),
            Some("statements@ombudsman.example")
        );
    }

    #[test]
    fn very_long_lines_are_encoded_within_the_limit() {
        let org = organization("council-of-europe", "Council of Europe", "en", None);
        let mut statement = seed_statement();
        let long = "word ".repeat(1000) + "é";
        statement.paragraphs.push(long.clone());
        statement.title = "T".repeat(1200);
        statement.original.push_str(&format!("\n\n{long}\n"));
        let composed = compose_for(&org, &statement);
        assert_short_lines(&composed.bytes);
        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        assert!(message.body_text(0).unwrap().contains(&long));
        assert_eq!(
            message.attachment(0).unwrap().contents(),
            statement.original.as_bytes()
        );
        assert_eq!(
            message
                .subject()
                .unwrap()
                .replace(' ', "")
                .matches('T')
                .count(),
            1200
        );
    }

    #[test]
    fn composing_is_reproducible_and_boundaries_differ_per_letter() {
        let statement = seed_statement();
        let a = organization("a", "Council of Europe", "en", None);
        let b = organization("b", "European Union", "en", None);
        assert_eq!(
            compose_for(&a, &statement).bytes,
            compose_for(&a, &statement).bytes
        );
        assert_ne!(
            boundaries(&compose_for(&a, &statement).message_id),
            boundaries(&compose_for(&b, &statement).message_id)
        );
    }

    #[test]
    fn an_organisation_without_address_is_an_error() {
        let mut org = organization("a", "Council of Europe", "en", None);
        org.emails.clear();
        let statement = seed_statement();
        let letter = letter_for(&org, &statement);
        let err = compose(&letter, &org, &statement, &sender(), fixed_date()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "composing the letter to `a`: the organisation has no email address"
        );
    }
}
