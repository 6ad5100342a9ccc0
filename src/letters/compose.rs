//! A rendered [`Letter`] → a MIME message (pure: the date is passed in). The header values are
//! lettre's typed headers, encoded by lettre; the message around them is written by
//! `mime::Message` in the layout of lettre's message builder, which the differential test below
//! holds it to byte for byte (the builder costs a dispatch too much, see `mime`).
//!
//! multipart/mixed holding multipart/alternative (text/plain and text/html, UTF-8) and the
//! statement attached as its original file. The Message-ID is deterministic,
//! `<statement-id.organization-id@sender-domain>`, so a re-send is recognisably the same letter.
//!
//! Composing is byte-for-byte reproducible: the MIME boundaries are derived from the Message-ID,
//! and the Date header is the instant passed in (written in UTC).
//! The golden test below pins the exact bytes.
//!
//! Lines stay within RFC 5322's 998 octets whatever the directory and the statement hold: lettre
//! folds headers between words (a value with a word too long to fold is written as RFC 2047
//! encoded-words instead, see `LONG_WORD`) and a body with a line of 76 characters or more is
//! sent as quoted-printable or base64. The attachment is always base64, so the statement arrives
//! byte for byte as it was filed, line endings included: it is the evidence of what was sent. It
//! is the same in every letter of a statement, so [`Prepared`] formats it once.

use std::fmt::{self, Write as _};

use chrono::{DateTime, FixedOffset};
use email_encoding::headers::rfc2047;
use email_encoding::headers::writer::EmailWriter;
use lettre::message::header::{
    self, ContentTransferEncoding, ContentType, Header, HeaderName, HeaderValue, Headers,
};
use lettre::message::{Attachment, Body, Mailbox, Mailboxes, SinglePart};
use sha2::{Digest, Sha256};

use super::{mime, Letter};
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
    Prepared::new(statement, sender).compose(letter, organization, statement, date)
}

/// What every letter of one statement shares, encoded once (thousands of letters would
/// otherwise encode it each): the sender's headers and the attachment part.
#[derive(Debug)]
pub struct Prepared {
    sender: Sender,
    from: HeaderValue,
    reply_to: Option<HeaderValue>,
    /// The attachment part, formatted.
    attachment: Vec<u8>,
}

impl Prepared {
    pub fn new(statement: &Statement, sender: &Sender) -> Prepared {
        Prepared {
            sender: sender.clone(),
            from: mailboxes::<header::From>(sender.mailbox().into()),
            reply_to: sender.reply_to.as_ref().map(|reply_to| {
                header::ReplyTo::from(Mailboxes::from(Mailbox::new(None, reply_to.clone())))
                    .display()
            }),
            attachment: attachment(statement).formatted(),
        }
    }

    /// The sender every letter of this statement is from.
    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// Composes one organisation's message; `statement` must be the one this was prepared from.
    pub fn compose(
        &self,
        letter: &Letter,
        organization: &Organization,
        statement: &Statement,
        date: DateTime<FixedOffset>,
    ) -> Result<Composed, ComposeError> {
        let sender = &self.sender;
        let fail = |message: String| ComposeError {
            organization: organization.id.to_string(),
            message,
        };
        if organization.emails.is_empty() {
            return Err(fail("the organisation has no email address".to_string()));
        }
        let id = message_id(&statement.id, &organization.id, sender);
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
        let to: Mailboxes = organization
            .emails
            .iter()
            .map(|a| Mailbox::new(Some(organization.name.clone()), a.clone()))
            .collect();

        // In the order lettre's message builder writes them.
        let mut headers = Headers::with_capacity(8);
        headers.insert_raw(self.from.clone());
        headers.insert_raw(subject(&letter.subject));
        headers.insert_raw(header::Date::new(date.into()).display());
        headers.insert_raw(header::MessageId::from(id.clone()).display());
        if let Some(reply_to) = &self.reply_to {
            headers.insert_raw(reply_to.clone());
        }
        headers.insert_raw(mailboxes::<header::To>(to));
        if !organization.cc.is_empty() {
            let cc = organization
                .cc
                .iter()
                .map(|a| Mailbox::new(None, a.clone()));
            headers.insert_raw(header::Cc::from(cc.collect::<Mailboxes>()).display());
        }
        headers.insert_raw(header::MIME_VERSION_1_0.display());

        let (mixed, alternative) = boundaries(&id);
        let bytes = mime::Message {
            headers: &headers,
            mixed: &mixed,
            alternative: &alternative,
            text: &mime::text_body(&letter.text),
            html: &mime::text_body(&letter.html),
            attachment: &self.attachment,
        }
        .format();
        Ok(Composed {
            message_id: id,
            envelope,
            bytes,
        })
    }
}

/// The statement's original file, base64 whatever it holds (lettre would send short ASCII
/// lines as they are, bare line feeds included), named in plain `filename=` and `name=`
/// parameters when the name allows, which older clients read, else in RFC 2231 form.
fn attachment(statement: &Statement) -> SinglePart {
    let bytes = statement.original.as_bytes().to_vec();
    // Base64 takes any octets: this never gives them back.
    let body =
        Body::new_with_encoding(bytes, ContentTransferEncoding::Base64).unwrap_or_else(Body::new);
    let name = &statement.file_name;
    // At most a file name's 255 octets, so that the quoted name fits on one line.
    let plain = name.len() <= 255
        && name
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    if !plain {
        return Attachment::new(name.clone()).body(body, ContentType::TEXT_PLAIN);
    }
    SinglePart::builder()
        .header(PlainDisposition::new(format!(
            "attachment; filename=\"{name}\""
        )))
        .header(PlainContentType::new(format!(
            "text/plain; charset=utf-8; name=\"{name}\""
        )))
        .body(body)
}

/// The attachment's `Content-Disposition` or `Content-Type` with a plain quoted name, which
/// lettre's own headers write only in RFC 2231 form (`filename*0=`).
type PlainDisposition = Plain<true>;
type PlainContentType = Plain<false>;

/// A header named by `DISPOSITION` (see [`PlainDisposition`]), written as given.
#[derive(Debug, Clone)]
struct Plain<const DISPOSITION: bool>(String);

impl<const DISPOSITION: bool> Plain<DISPOSITION> {
    fn new(value: String) -> Self {
        Plain(value)
    }
}

impl<const DISPOSITION: bool> Header for Plain<DISPOSITION> {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str(if DISPOSITION {
            "Content-Disposition"
        } else {
            "Content-Type"
        })
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Plain(s.to_string()))
    }

    /// Printable ASCII: lettre folds it between words and encodes nothing.
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// lettre folds a header only between words, so a longer word would stand on a line of its own
/// past the 78 octets RFC 5322 asks for, and past the 998 it allows for a word of 1,000 (a 10 KB
/// name in one word made a 10,264-octet `To:` line). A value with such a word (which no real
/// name or title has) is written as RFC 2047 encoded-words, which fold anywhere and read back as
/// the same text.
const LONG_WORD: usize = 76;

fn has_long_word(value: &str) -> bool {
    value.split(' ').any(|word| word.len() > LONG_WORD)
}

/// The `Subject:` header as lettre writes it, or encoded (see [`LONG_WORD`]).
fn subject(subject: &str) -> HeaderValue {
    let header = header::Subject::from(subject.to_string());
    if !has_long_word(subject) {
        return header.display();
    }
    let mut encoded = String::new();
    // Writing into a String cannot fail.
    let _ = rfc2047::encode(subject, &mut writer::<header::Subject>(&mut encoded));
    // Safe to send as it is: base64 between RFC 2047 delimiters, folded.
    HeaderValue::dangerous_new_pre_encoded(header::Subject::name(), subject.to_string(), encoded)
}

/// A `From:`, `To:` or `Cc:` header as lettre writes it, or with the names encoded (see
/// [`LONG_WORD`]).
fn mailboxes<H: Header + From<Mailboxes>>(list: Mailboxes) -> HeaderValue {
    if !list
        .iter()
        .any(|m| m.name.as_deref().is_some_and(has_long_word))
    {
        return H::from(list).display();
    }
    let mut encoded = String::new();
    // Writing into a String cannot fail.
    let _ = encoded_mailboxes(&mut writer::<H>(&mut encoded), &list);
    // Safe to send as it is: encoded names and checked addresses, folded.
    HeaderValue::dangerous_new_pre_encoded(H::name(), list.to_string(), encoded)
}

/// What lettre writes for `list`, with every name in RFC 2047 encoded-words.
fn encoded_mailboxes(w: &mut EmailWriter<'_>, list: &Mailboxes) -> fmt::Result {
    for (i, mailbox) in list.iter().enumerate() {
        if i > 0 {
            w.write_char(',')?;
            w.space();
        }
        match &mailbox.name {
            Some(name) => {
                rfc2047::encode(name, w)?;
                w.space();
                write!(w, "<{}>", mailbox.email)?;
            }
            None => w.write_str(mailbox.email.as_ref())?,
        }
    }
    Ok(())
}

/// A header writer that starts after `H: `.
fn writer<H: Header>(out: &mut String) -> EmailWriter<'_> {
    EmailWriter::new(out, H::name().len() + ": ".len(), 0, false)
}

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
    use crate::letters::fixtures::{
        letter, organization, seed_statement, sender, shipped_templates,
    };
    use crate::letters::{Letter, Part};

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
        letter(&shipped_templates(), org, statement).unwrap_or_else(|e| panic!("{e}"))
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
            message.date().unwrap().to_timestamp(),
            fixed_date().timestamp()
        );

        assert_eq!(
            message.body_text(0).unwrap().replace("\r\n", "\n"),
            letter.text.to_string()
        );
        assert_eq!(
            message.body_html(0).unwrap().replace("\r\n", "\n"),
            letter.html.to_string()
        );
        assert_eq!(message.attachment_count(), 1);
        let attachment = message.attachment(0).unwrap();
        assert_eq!(
            attachment.attachment_name(),
            Some(statement.file_name.as_str())
        );
        assert_eq!(attachment.contents(), statement.original.as_bytes());
        assert_eq!(attachment.content_transfer_encoding(), Some("base64"));
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

    /// Regression: a 10 KB name in one word made a 10,264-octet `To:` line. Every header line
    /// stays within RFC 5322's limit, and every value reads back as it was.
    #[test]
    fn very_long_words_and_lines_are_encoded_within_the_limit() {
        let mut org = organization("long", &"N".repeat(10_000), "en", None);
        org.emails.push("second@long.example".parse().unwrap());
        let mut statement = seed_statement();
        let long = "word ".repeat(1000) + "é";
        statement.paragraphs.push(long.clone());
        statement.title = "T".repeat(1200);
        statement.original.push_str(&format!("\n\n{long}\n"));
        let mut sender = sender();
        sender.name = format!("Commissioner {}", "S".repeat(2000));
        let letter = letter_for(&org, &statement);
        let composed = compose(&letter, &org, &statement, &sender, fixed_date()).unwrap();
        assert_short_lines(&composed.bytes);
        let message = MessageParser::default().parse(&composed.bytes).unwrap();
        assert!(message.body_text(0).unwrap().contains(&long));
        assert_eq!(
            message.attachment(0).unwrap().contents(),
            statement.original.as_bytes()
        );
        assert_eq!(message.subject(), Some(letter.subject.as_str()));
        let names: Vec<_> = message.to().unwrap().iter().map(|a| a.name()).collect();
        assert_eq!(names, vec![Some(org.name.as_str()); 2]);
        let from = message.from().unwrap().first().unwrap();
        assert_eq!(
            (from.name(), from.address()),
            (
                Some(sender.name.as_str()),
                Some("statements@ombudsman.example")
            )
        );
    }

    /// Regression: a short ASCII statement was attached 7bit, its bare line feeds as they were.
    /// The attachment is the evidence of what was sent: base64, byte for byte, always.
    #[test]
    fn the_attachment_is_base64_byte_for_byte() {
        let org = organization("a", "Council of Europe", "en", None);
        let mut statement = seed_statement();
        for original in ["Short statement.\nSecond line.\n", "a\r\nb\rc\n\n", ""] {
            statement.original = original.to_string();
            let composed = compose_for(&org, &statement);
            assert_short_lines(&composed.bytes);
            let message = MessageParser::default().parse(&composed.bytes).unwrap();
            let attachment = message.attachment(0).unwrap();
            assert_eq!(attachment.content_transfer_encoding(), Some("base64"));
            assert_eq!(attachment.contents(), original.as_bytes(), "{original:?}");
        }
    }

    /// The attachment is named in plain `filename=` and `name=` parameters, which older clients
    /// read, when the name is printable ASCII; other names in RFC 2231 form. Both read back.
    #[test]
    fn the_attachment_is_named_plainly_when_it_can_be() {
        let org = organization("a", "Council of Europe", "en", None);
        let mut statement = seed_statement();
        // (file name, written plainly)
        let cases = [
            ("2021-05-27-kalbajar-statement.txt", true),
            ("statement of 27 May 2021 (final).txt", true),
            ("déclaration du 27 mai.txt", false),
            ("say \"no\".txt", false),
            ("back\\slash.txt", false),
        ];
        for (name, plain) in cases {
            statement.file_name = name.to_string();
            let composed = compose_for(&org, &statement);
            assert_short_lines(&composed.bytes);
            // Unfolded: a long quoted name may be folded at a space.
            let text = String::from_utf8(composed.bytes.clone())
                .unwrap()
                .replace("\r\n ", " ");
            let quoted = format!("; filename=\"{name}\"");
            assert_eq!(text.contains(&quoted), plain, "{name}: {text}");
            let quoted = format!("text/plain; charset=utf-8; name=\"{name}\"");
            assert_eq!(text.contains(&quoted), plain, "{name}: {text}");
            let message = MessageParser::default().parse(&composed.bytes).unwrap();
            let attachment = message.attachment(0).unwrap();
            assert_eq!(attachment.attachment_name(), Some(name), "{text}");
        }
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

    /// The same message built by lettre's `MessageBuilder` from the same header values, with
    /// lettre's own encoding of the text parts: what [`Prepared::compose`] must write.
    fn by_lettres_builder(
        letter: &Letter,
        organization: &Organization,
        statement: &Statement,
        sender: &Sender,
        date: DateTime<FixedOffset>,
    ) -> Vec<u8> {
        use lettre::message::{Message, MultiPart};

        let id = message_id(&statement.id, &organization.id, sender);
        let (mixed, alternative) = boundaries(&id);
        let multipart = |kind: &str, boundary: &str| {
            let content_type = format!("multipart/{kind}; boundary=\"{boundary}\"");
            MultiPart::builder().header(ContentType::parse(&content_type).unwrap())
        };
        let text_part = |content_type, text: &str| {
            SinglePart::builder()
                .header(content_type)
                .body(Body::new(text.to_string()))
        };
        let body = multipart("mixed", &mixed)
            .multipart(
                multipart("alternative", &alternative)
                    .singlepart(text_part(ContentType::TEXT_PLAIN, &letter.text.to_string()))
                    .singlepart(text_part(ContentType::TEXT_HTML, &letter.html.to_string())),
            )
            .singlepart(attachment(statement));
        let to: Mailboxes = organization
            .emails
            .iter()
            .map(|a| Mailbox::new(Some(organization.name.clone()), a.clone()))
            .collect();
        let mut message = Message::builder()
            .raw_header(mailboxes::<header::From>(sender.mailbox().into()))
            .raw_header(subject(&letter.subject))
            .date(date.into())
            .message_id(Some(id));
        if let Some(reply_to) = &sender.reply_to {
            message = message.reply_to(Mailbox::new(None, reply_to.clone()));
        }
        message = message.raw_header(mailboxes::<header::To>(to));
        if !organization.cc.is_empty() {
            let cc = organization
                .cc
                .iter()
                .map(|a| Mailbox::new(None, a.clone()));
            message = message.mailbox(header::Cc::from(cc.collect::<Mailboxes>()));
        }
        message.multipart(body).unwrap().formatted()
    }

    /// The message written by `mime` is, octet for octet, the one lettre's builder writes: over
    /// names, subjects, senders, texts (7bit, quoted-printable and base64) and file names that
    /// take every path of the header encoders and of the layout.
    #[test]
    fn messages_are_what_lettres_builder_writes() {
        let statement = seed_statement();
        let long_word = "W".repeat(90);
        let names = [
            "Council of Europe".to_string(),
            "Défenseur des droits de la République française".to_string(),
            "Уполномоченный по правам человека".to_string(),
            format!("Office {long_word} of Affairs"),
            "A, B and \"C\" (D)".to_string(),
        ];
        let subjects = [
            "Statement".to_string(),
            "Statement of 27 May 2021: on the provocation near the border".repeat(3),
            "Déclaration du 27 mai 2021".to_string(),
            format!("Statement {long_word}"),
            "Заявление".to_string(),
        ];
        let texts = [
            "Short lines.\nOnly ASCII.\n".to_string(),
            "A line of more than seventy-six characters, which needs quoted-printable to stay short.\n".repeat(3),
            "Texte en français, évidemment.\n".to_string(),
            "Текст почти целиком на кириллице, поэтому base64.\n".repeat(4),
            String::new(),
        ];
        let mut senders = vec![sender()];
        let mut plain = sender();
        plain.reply_to = None;
        plain.name = "Ombudsman's Office".to_string();
        senders.push(plain);
        let mut long = sender();
        long.name = format!("Commissioner {}", "S".repeat(200));
        senders.push(long);
        let mut cases = 0;
        for (i, name) in names.iter().enumerate() {
            let mut org = organization("org", name, "en", None);
            if i % 2 == 1 {
                org.emails.push("second@org.example".parse().unwrap());
                org.cc = vec!["archives@org.example".parse().unwrap()];
            }
            for (j, subject) in subjects.iter().enumerate() {
                for (k, sender) in senders.iter().enumerate() {
                    let mut statement = statement.clone();
                    if (i + j + k) % 3 == 0 {
                        statement.file_name = "déclaration du 27 mai.txt".to_string();
                    }
                    let text = &texts[(i + j + k) % texts.len()];
                    let html = &texts[(i + 2 * j + k + 1) % texts.len()];
                    let letter = Letter {
                        subject: subject.clone(),
                        text: Part::new(text.clone(), None),
                        html: Part::new(html.clone(), None),
                    };
                    let ours = compose(&letter, &org, &statement, sender, fixed_date()).unwrap();
                    let lettre =
                        by_lettres_builder(&letter, &org, &statement, sender, fixed_date());
                    assert!(
                        ours.bytes == lettre,
                        "differs from lettre's builder:\n{}\n---\n{}",
                        String::from_utf8_lossy(&ours.bytes),
                        String::from_utf8_lossy(&lettre)
                    );
                    cases += 1;
                }
            }
        }
        // The shipped templates' letter, too.
        let org = ombudsman();
        let letter = letter_for(&org, &statement);
        assert_eq!(
            compose(&letter, &org, &statement, &sender(), fixed_date())
                .unwrap()
                .bytes,
            by_lettres_builder(&letter, &org, &statement, &sender(), fixed_date())
        );
        assert_eq!(cases, names.len() * subjects.len() * senders.len());
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
