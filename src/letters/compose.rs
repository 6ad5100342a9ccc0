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

use chrono::{DateTime, FixedOffset};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
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

/// Composes one organisation's message.
pub fn compose(
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
        .subject(letter.subject.as_str())
        // Sets a Date so lettre does not stamp the clock; replaced below by the offset-preserving form.
        .date(date.into())
        .message_id(Some(id.clone()));
    if let Some(reply_to) = &sender.reply_to {
        builder = builder.reply_to(Mailbox::new(None, reply_to.clone()));
    }
    for address in &organization.emails {
        builder = builder.to(Mailbox::new(Some(organization.name.clone()), address.clone()));
    }
    for address in &organization.cc {
        builder = builder.cc(Mailbox::new(None, address.clone()));
    }
    let envelope = lettre::address::Envelope::new(
        Some(sender.email.clone()),
        organization.emails.iter().chain(&organization.cc).cloned().collect(),
    )
    .map_err(|e| fail(format!("invalid envelope: {e}")))?;
    builder = builder.envelope(envelope.clone());

    let (mixed, alternative) = boundaries(&id);
    let attachment = Attachment::new(statement.file_name.clone()).body(
        // Bytes, not a String: lettre sends bytes as base64 and leaves their line endings alone.
        statement.original.as_bytes().to_vec(),
        ContentType::TEXT_PLAIN,
    );
    let body = MultiPart::mixed()
        .boundary(mixed)
        .multipart(
            MultiPart::alternative()
                .boundary(alternative)
                .singlepart(SinglePart::plain(letter.text.clone()))
                .singlepart(SinglePart::html(letter.html.clone())),
        )
        .singlepart(attachment);
    let mut message = builder
        .multipart(body)
        .map_err(|e| fail(e.to_string()))?;
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

/// The two MIME boundaries of a message, derived from its Message-ID so that composing is
/// reproducible. A boundary must not occur in the parts: 32 hex digits of SHA-256 make a
/// collision with the letter's text as unlikely as a hash collision.
fn boundaries(message_id: &str) -> (String, String) {
    let digest = Sha256::digest(message_id.as_bytes());
    let hash = hex::encode(&digest[..16]);
    (format!("herald-mixed-{hash}"), format!("herald-alternative-{hash}"))
}
