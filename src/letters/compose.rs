//! A rendered [`Letter`] → a MIME message (pure: the date is passed in).
//!
//! multipart/mixed holding multipart/alternative (text/plain and text/html, UTF-8) and the
//! statement attached as its original file. The Message-ID is deterministic,
//! `<statement-id.organization-id@sender-domain>`, so a re-send is recognisably the same letter.

use chrono::{DateTime, FixedOffset};

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
    let _ = (letter, organization, statement, sender, date);
    unimplemented!("compose")
}
