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
//! each letter copies the encoded bytes (thousands of letters would otherwise re-encode it each);
//! so are the sender's headers, and each distinct subject (one per language, as a rule).
//! Likewise the lines of a letter that every letter of the statement has (the paragraphs, see
//! `Repeat`) come with their quoted-printable form, encoded once per statement.

use chrono::{DateTime, FixedOffset};
use lettre::message::header::{self, ContentType, HeaderName, HeaderValue, Headers};
use lettre::message::{Attachment, Body, Mailbox, Mailboxes};
use sha2::{Digest, Sha256};

use std::sync::{Arc, Mutex};

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
    Prepared::new(statement, sender).compose(letter, organization, statement, date)
}

/// How many distinct subjects a [`Prepared`] keeps encoded: one per language of the directory,
/// with room to spare.
const SUBJECTS: usize = 8;

/// The parts every letter of one statement shares, encoded once.
#[derive(Debug)]
pub struct Prepared {
    sender: Sender,
    /// The whole attachment part (its headers, a blank line, the statement's original file in
    /// base64 and the closing CRLF), formatted by lettre once, so letters are byte for byte what
    /// lettre's builder made.
    attachment_part: Vec<u8>,
    /// The sender's headers, formatted by lettre once: the `From:` line(s) and the `Reply-To:`
    /// line(s) if any. Encoding the sender's name (RFC 2047, folded) was half the cost of a
    /// letter's headers.
    from: String,
    reply_to: String,
    /// Subjects already encoded, with their `Subject:` line(s), at most [`SUBJECTS`]. The
    /// shipped templates give a statement one subject per language (the date is written in the
    /// letter's language, not the organisation's name), and folding a long subject made it the
    /// costliest header of a letter.
    subjects: Mutex<Vec<(String, Arc<str>)>>,
}

impl Prepared {
    pub fn new(statement: &Statement, sender: &Sender) -> Prepared {
        // Bytes, not a String: lettre sends bytes as base64 and leaves their line endings alone.
        let body = Body::new(statement.original.as_bytes().to_vec());
        let part = Attachment::new(statement.file_name.clone()).body(body, ContentType::TEXT_PLAIN);
        let mut from = Headers::new();
        from.set(header::From::from(Mailboxes::from(sender.mailbox())));
        let mut reply_to = Headers::new();
        if let Some(address) = &sender.reply_to {
            reply_to.set(header::ReplyTo::from(Mailboxes::from(Mailbox::new(
                None,
                address.clone(),
            ))));
        }
        Prepared {
            sender: sender.clone(),
            attachment_part: part.formatted(),
            from: from.to_string(),
            reply_to: reply_to.to_string(),
            subjects: Mutex::new(Vec::new()),
        }
    }

    /// The sender every letter of this statement is from.
    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// The `Subject:` header line(s) of `subject`, as lettre writes them.
    fn subject_lines(&self, subject: &str) -> Arc<str> {
        // A poisoned lock only means another thread panicked while holding it: every entry is
        // still a complete pair.
        let lock = || self.subjects.lock().unwrap_or_else(|e| e.into_inner());
        let known = lock()
            .iter()
            .find(|(text, _)| text == subject)
            .map(|(_, lines)| Arc::clone(lines));
        if let Some(lines) = known {
            return lines;
        }
        let mut headers = Headers::new();
        headers.set(header::Subject::from(foldable(subject).into_owned()));
        let lines: Arc<str> = headers.to_string().into();
        let mut subjects = lock();
        // Subjects that name the organisation would each miss: past a few, stop keeping them.
        if subjects.len() < SUBJECTS && subjects.iter().all(|(text, _)| text != subject) {
            subjects.push((subject.to_string(), Arc::clone(&lines)));
        }
        lines
    }

    /// Composes one organisation's message; `statement` must be the one this was prepared from.
    pub fn compose(
        &self,
        letter: &Letter,
        organization: &Organization,
        statement: &Statement,
        date: DateTime<FixedOffset>,
    ) -> Result<Composed, ComposeError> {
        compose_with(self, letter, organization, statement, date)
    }
}

/// Writes the message itself rather than through lettre's `MessageBuilder`: the builder re-parses
/// its own headers to append each address, inserts every CR one at a time (quadratic in the
/// number of lines) and copies each body several times, which made composing most of a dry run's
/// CPU time. The output is exactly what the builder produced (the golden test pins it): the same
/// header encoding (lettre's, per header), the same choice of transfer encoding and the same
/// quoted-printable line breaks.
fn compose_with(
    prepared: &Prepared,
    letter: &Letter,
    organization: &Organization,
    statement: &Statement,
    date: DateTime<FixedOffset>,
) -> Result<Composed, ComposeError> {
    let sender = &prepared.sender;
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

    // Headers in lettre's order: From, Subject, Date, Message-ID, Reply-To, To, Cc,
    // MIME-Version. lettre writes each header on its own, so writing them in parts gives the
    // same bytes as one `Headers`.
    let subject = prepared.subject_lines(&letter.subject);
    let mut headers = Headers::new();
    // The instant as given, with its own UTC offset (lettre's `Date` header would write UTC).
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Date"),
        date.to_rfc2822(),
    ));
    headers.set(header::MessageId::from(id.clone()));
    let mut addressees = Headers::new();
    addressees.set(header::To::from(
        organization
            .emails
            .iter()
            .map(|a| Mailbox::new(Some(organization.name.clone()), a.clone()))
            .collect::<Mailboxes>(),
    ));
    if !organization.cc.is_empty() {
        addressees.set(header::Cc::from(
            organization
                .cc
                .iter()
                .map(|a| Mailbox::new(None, a.clone()))
                .collect::<Mailboxes>(),
        ));
    }
    addressees.set(header::MIME_VERSION_1_0);

    let (mixed, alternative) = boundaries(&id);
    let mut out = Vec::with_capacity(
        2048 + letter.text.len() * 5 / 4
            + letter.html.len() * 5 / 4
            + prepared.attachment_part.len(),
    );
    {
        use std::io::Write as _;
        out.extend_from_slice(prepared.from.as_bytes());
        out.extend_from_slice(subject.as_bytes());
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{headers}");
        out.extend_from_slice(prepared.reply_to.as_bytes());
        let _ = write!(out, "{addressees}");
    }
    // Both boundaries have a fixed length (a prefix and 32 hex digits), so lettre always folded
    // these two headers at the same place.
    push_all(
        &mut out,
        &[
            "Content-Type: multipart/mixed;\r\n boundary=\"",
            &mixed,
            "\"\r\n\r\n--",
            &mixed,
            "\r\nContent-Type: multipart/alternative;\r\n boundary=\"",
            &alternative,
            "\"\r\n\r\n--",
            &alternative,
            "\r\n",
        ],
    );
    text_part_with(&mut out, "text/plain", &letter.text, &letter.repeats.text);
    push_all(&mut out, &["--", &alternative, "\r\n"]);
    text_part_with(&mut out, "text/html", &letter.html, &letter.repeats.html);
    push_all(&mut out, &["--", &alternative, "--\r\n--", &mixed, "\r\n"]);
    out.extend_from_slice(&prepared.attachment_part);
    push_all(&mut out, &["--", &mixed, "--\r\n"]);
    Ok(Composed {
        message_id: id,
        envelope,
        bytes: out,
    })
}

fn push_all(out: &mut Vec<u8>, pieces: &[&str]) {
    for piece in pieces {
        out.extend_from_slice(piece.as_bytes());
    }
}

/// One UTF-8 text part: its headers, a blank line, the body in the transfer encoding lettre would
/// choose, and the closing CRLF.
#[cfg(test)]
fn text_part(out: &mut Vec<u8>, mime: &str, text: &str) {
    text_part_with(out, mime, text, &[]);
}

/// Lines that many letters have, with what encoding them needs, computed once: their
/// quoted-printable form and the counts [`choose_encoding`] makes.
#[derive(Debug)]
pub(crate) struct EncodedLines {
    /// Whole lines: the last octet is a line feed.
    lines: String,
    quoted_printable: Vec<u8>,
    ascii: bool,
    escaped: usize,
}

impl EncodedLines {
    /// `None` unless `lines` ends with a line feed.
    pub(crate) fn new(lines: &str) -> Option<EncodedLines> {
        if !lines.ends_with('\n') {
            return None;
        }
        let mut quoted_printable = Vec::with_capacity(lines.len() * 5 / 4);
        self::quoted_printable(&mut quoted_printable, lines.as_bytes());
        Some(EncodedLines {
            lines: lines.to_string(),
            quoted_printable,
            ascii: lines.is_ascii(),
            escaped: count_escaped(lines.as_bytes()),
        })
    }
}

/// Where a letter's part repeats [`EncodedLines`]: quoted-printable encodes line by line, so
/// lines that follow a line feed (or start the part) encode the same wherever they stand.
#[derive(Debug, Clone)]
pub(crate) struct Repeat {
    /// Offset in the part.
    pub(crate) at: usize,
    pub(crate) lines: Arc<EncodedLines>,
}

/// [`text_part`], copying the quoted-printable form of `repeats` (in the order of the text)
/// instead of encoding those lines again. A repeat that does not hold (not those octets at that
/// place, not at the start of a line, overlapping the one before) is encoded like the rest.
fn text_part_with(out: &mut Vec<u8>, mime: &str, text: &str, repeats: &[Repeat]) {
    let bytes = text.as_bytes();
    let mut done = 0;
    let mut holding = Vec::with_capacity(repeats.len());
    for repeat in repeats {
        let lines = repeat.lines.lines.as_bytes();
        let holds = repeat.at >= done
            && (repeat.at == 0 || bytes.get(repeat.at - 1) == Some(&b'\n'))
            && bytes.get(repeat.at..repeat.at + lines.len()) == Some(lines);
        if holds {
            holding.push(repeat);
            done = repeat.at + lines.len();
        }
    }
    push_all(out, &["Content-Type: ", mime, "; charset=utf-8\r\n"]);
    match choose_encoding_with(bytes, &holding) {
        TextEncoding::SevenBit => {
            out.extend_from_slice(b"Content-Transfer-Encoding: 7bit\r\n\r\n");
            crlf(out, text.as_bytes());
        }
        TextEncoding::QuotedPrintable => {
            out.extend_from_slice(b"Content-Transfer-Encoding: quoted-printable\r\n\r\n");
            let mut done = 0;
            for repeat in holding {
                // The text before ends with a line feed, so nothing carries over.
                if repeat.at > done {
                    quoted_printable(out, &bytes[done..repeat.at]);
                }
                out.extend_from_slice(&repeat.lines.quoted_printable);
                done = repeat.at + repeat.lines.lines.len();
            }
            if done < bytes.len() || done == 0 {
                quoted_printable(out, &bytes[done..]);
            }
        }
        TextEncoding::Base64 => {
            // Mostly non-Latin text: rare enough to leave to lettre.
            let body = Body::new(text.to_string());
            out.extend_from_slice(b"Content-Transfer-Encoding: base64\r\n\r\n");
            out.extend_from_slice(body.as_ref());
        }
    }
    out.extend_from_slice(b"\r\n");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextEncoding {
    SevenBit,
    QuotedPrintable,
    Base64,
}

/// lettre's choice for a UTF-8 string without SMTPUTF8 (`email_encoding`'s `Encoding::choose`):
/// 7bit when ASCII and no line reaches 76 octets (measured on the text as written, from one LF
/// to the next, the LF counted), else quoted-printable when at most a third of the octets need
/// escaping, else base64.
fn choose_encoding(text: &[u8]) -> TextEncoding {
    // Separate simple passes, which the compiler vectorises, rather than one loop doing all.
    if text.is_ascii() && !line_too_long(text) {
        return TextEncoding::SevenBit;
    }
    by_escaped(count_escaped(text), text.len())
}

/// [`choose_encoding`], with the counts of the repeated lines (which `repeats` hold) known.
fn choose_encoding_with(text: &[u8], repeats: &[&Repeat]) -> TextEncoding {
    let mut ascii = true;
    let mut escaped = 0;
    let mut done = 0;
    for repeat in repeats {
        let before = &text[done..repeat.at];
        ascii &= repeat.lines.ascii && before.is_ascii();
        escaped += repeat.lines.escaped + count_escaped(before);
        done = repeat.at + repeat.lines.lines.len();
    }
    if repeats.is_empty() || ascii {
        // The line lengths of a 7-bit text are measured on the whole text.
        return choose_encoding(text);
    }
    by_escaped(escaped + count_escaped(&text[done..]), text.len())
}

/// Octets quoted-printable must escape, as lettre counts them: all but tab and printable ASCII.
fn count_escaped(text: &[u8]) -> usize {
    // Counted in octets per chunk (at most 128, so an octet cannot overflow): the compiler
    // turns that into vector instructions, where a count into a usize went octet by octet.
    text.chunks(128)
        .map(|chunk| {
            let escaped = chunk.iter().fold(0u8, |n, &b| {
                n + u8::from(b != b'\t' && !(b' '..=b'~').contains(&b))
            });
            usize::from(escaped)
        })
        .sum()
}

/// Quoted-printable when at most a third of the octets need escaping, else base64.
fn by_escaped(escaped: usize, len: usize) -> TextEncoding {
    if escaped <= len / 3 {
        TextEncoding::QuotedPrintable
    } else {
        TextEncoding::Base64
    }
}

fn line_too_long(text: &[u8]) -> bool {
    let mut last = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' {
            if i - last >= 76 {
                return true;
            }
            last = i;
        }
    }
    text.len() - last >= 76
}

/// Copies `text` with every LF not already preceded by CR turned into CRLF.
fn crlf(out: &mut Vec<u8>, text: &[u8]) {
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' && (i == 0 || text[i - 1] != b'\r') {
            out.extend_from_slice(&text[start..i]);
            out.extend_from_slice(b"\r\n");
            start = i + 1;
        }
    }
    out.extend_from_slice(&text[start..]);
}

/// Quoted-printable lines hold at most 76 octets, the soft break's `=` included (RFC 2045 6.7).
const QP_LIMIT: usize = 76;

/// Octets written as they are in quoted-printable: printable ASCII but `=`, space and tab.
const fn qp_literal_table() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b == b'\t' as usize || (b >= b' ' as usize && b <= b'~' as usize))
            && b != b'=' as usize;
        b += 1;
    }
    table
}
const QP_LITERAL: [bool; 256] = qp_literal_table();

/// How many octets at the start of `text` quoted-printable writes as they are: sixteen at a time
/// while none is special (one branch per chunk instead of one per octet), then one at a time.
fn literal_run(text: &[u8]) -> usize {
    let special = |c: u8| u8::from(!QP_LITERAL[usize::from(c)]);
    let mut run = 0;
    for chunk in text.chunks_exact(16) {
        if chunk.iter().fold(0, |any, &c| any | special(c)) != 0 {
            break;
        }
        run += 16;
    }
    run + text[run..]
        .iter()
        .position(|&c| special(c) != 0)
        .unwrap_or(text.len() - run)
}

/// Quoted-printable in text mode, octet for octet what the `quoted_printable` crate (lettre's
/// encoder) writes, from the text before CRLF conversion: a line break (LF or CRLF) stays a hard
/// CRLF, a CR alone becomes `=0D`, a space or tab before a break or at the end becomes `=20` or
/// `=09`, and runs of literal octets are copied whole instead of octet by octet. It carries
/// nothing from one line to the next.
fn quoted_printable(out: &mut Vec<u8>, text: &[u8]) {
    let mut qp = Qp {
        out,
        on_line: 0,
        backup: 0,
    };
    qp.backup = qp.out.len();
    let mut was_cr = false;
    let mut i = 0;
    while i < text.len() {
        let b = text[i];
        if b == b'\n' {
            qp.trailing_space();
            qp.out.extend_from_slice(b"\r\n");
            qp.on_line = 0;
            was_cr = false;
            i += 1;
            continue;
        }
        if was_cr {
            qp.append(b"=0D");
        }
        if b == b'\r' {
            was_cr = true;
            i += 1;
            continue;
        }
        was_cr = false;
        if QP_LIMIT - qp.on_line >= 3 && QP_LITERAL[usize::from(b)] {
            let max = QP_LIMIT - qp.on_line - 2;
            let end = text.len().min(i + max);
            let run = literal_run(&text[i..end]);
            qp.out.extend_from_slice(&text[i..i + run]);
            qp.on_line += run;
            qp.backup = qp.out.len();
            i += run;
            continue;
        }
        match b {
            b'=' => qp.append(b"=3D"),
            b'\t' | b' '..=b'~' => qp.append(&[b]),
            _ => qp.append(&hex_escape(b)),
        }
        i += 1;
    }
    if was_cr {
        qp.append(b"=0D");
    } else {
        qp.trailing_space();
    }
}

fn hex_escape(b: u8) -> [u8; 3] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    [b'=', HEX[usize::from(b >> 4)], HEX[usize::from(b & 0x0f)]]
}

/// The quoted-printable writer's position: octets on the current line, and where the last token
/// began (a soft break goes there when the line is full to the octet).
struct Qp<'a> {
    out: &'a mut Vec<u8>,
    on_line: usize,
    backup: usize,
}

impl Qp<'_> {
    fn append(&mut self, token: &[u8]) {
        if self.on_line + token.len() > QP_LIMIT {
            if self.on_line == QP_LIMIT {
                // The `=` of a break would be octet 77: break before the last token instead.
                self.on_line = self.out.len() - self.backup;
                self.out
                    .splice(self.backup..self.backup, b"=\r\n".iter().copied());
            } else {
                self.out.extend_from_slice(b"=\r\n");
                self.on_line = 0;
            }
        }
        self.out.extend_from_slice(token);
        self.on_line += token.len();
        self.backup = self.out.len() - token.len();
    }

    /// A space or tab must not end an encoded line (RFC 2045 6.7 rule 3).
    fn trailing_space(&mut self) {
        let escaped: &[u8] = match self.out.last() {
            Some(b' ') => b"=20",
            Some(b'\t') => b"=09",
            _ => return,
        };
        self.out.pop();
        self.on_line -= 1;
        self.append(escaped);
    }
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
    fn a_prepared_statement_writes_each_letter_its_own_subject() {
        let statement = seed_statement();
        let sender = sender();
        let prepared = Prepared::new(&statement, &sender);
        let org = organization("a", "Council of Europe", "en", None);
        let template = letter_for(&org, &statement);
        let with_subject = |subject: String| Letter {
            subject,
            ..template.clone()
        };
        // Two that differ only at the end, as a statement's English and French subjects do; a
        // long one that folds; and more subjects naming an organisation than are kept.
        let title = "Statement on the provocative attempt in the direction of Kalbajar district";
        let mut letters = vec![
            with_subject(format!("{title} (27 May 2021)")),
            with_subject(format!("{title} (27 mai 2021)")),
            with_subject(format!("Déclaration{}", " très longue".repeat(12))),
        ];
        letters.extend((0..2 * SUBJECTS).map(|i| with_subject(format!("{title}: region {i}"))));
        // Each letter composed alone, with a fresh Prepared, against the same letters in turn
        // through one Prepared shared by two threads: no subject may reach another letter.
        let check = |letter: &Letter| {
            let alone = compose(letter, &org, &statement, &sender, fixed_date())
                .unwrap_or_else(|e| panic!("{e}"));
            let shared = prepared
                .compose(letter, &org, &statement, fixed_date())
                .unwrap_or_else(|e| panic!("{e}"));
            let text = String::from_utf8_lossy(&shared.bytes);
            assert!(shared.bytes == alone.bytes, "{text}");
            let subject = MessageParser::default()
                .parse(shared.bytes.as_slice())
                .and_then(|m| m.subject().map(str::to_string));
            assert_eq!(subject.as_deref(), Some(letter.subject.as_str()), "{text}");
        };
        std::thread::scope(|scope| {
            for turn in 0..2 {
                let (letters, check) = (&letters, &check);
                scope.spawn(move || {
                    for round in 0..3 {
                        for i in 0..letters.len() {
                            check(&letters[(i * (turn + 1) + round) % letters.len()]);
                        }
                    }
                });
            }
        });
        assert_eq!(
            prepared
                .subjects
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .len(),
            SUBJECTS
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

    /// The hand-written text part against lettre's own `Body::new`, which the builder used: same
    /// transfer encoding, same octets, on the edge cases of quoted-printable line breaking and on
    /// random text drawn from an alphabet of those edges.
    #[test]
    fn text_parts_are_what_lettre_would_encode() {
        let lettre = |text: &str| {
            let body = Body::new(text.to_string());
            let name = match body.encoding() {
                lettre::message::header::ContentTransferEncoding::SevenBit => "7bit",
                lettre::message::header::ContentTransferEncoding::QuotedPrintable => {
                    "quoted-printable"
                }
                lettre::message::header::ContentTransferEncoding::Base64 => "base64",
                other => panic!("unexpected {other:?}"),
            };
            let mut expected =
                format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: {name}\r\n\r\n")
                    .into_bytes();
            expected.extend_from_slice(body.as_ref());
            expected.extend_from_slice(b"\r\n");
            expected
        };
        let mut cases: Vec<String> = vec![
            String::new(),
            "short ascii\nlines\n".into(),
            "x".repeat(75),
            "x".repeat(76),
            format!("{}\n{}", "x".repeat(10), "y".repeat(75)),
            "é".into(),
            "trailing space \nand tab\t\nend ".into(),
            "lone\rcarriage\r\nreturn\r".into(),
            "\n\nleading newlines é".into(),
            "equals = sign at the end =".into(),
            "Привет, мир! Это письмо почти целиком не на латинице.".into(),
        ];
        for n in 70..80 {
            for tail in ["é", "=", " ", "\t", "ab", "\r"] {
                cases.push(format!("{}{tail}\n{}{tail}", "a".repeat(n), "b".repeat(n)));
                cases.push(format!("é{}{tail}{}", "a".repeat(n), "c".repeat(n)));
            }
        }
        let alphabet = ['a', 'b', ' ', '\t', '=', '\n', '\r', 'é', '€', '.'];
        let mut rng = fastrand::Rng::with_seed(6);
        for _ in 0..2000 {
            let len = rng.usize(0..400);
            let weights = rng.usize(1..alphabet.len());
            cases.push(
                (0..len)
                    .map(|_| {
                        if rng.usize(0..4) == 0 {
                            alphabet[rng.usize(0..alphabet.len())]
                        } else {
                            alphabet[rng.usize(0..weights)]
                        }
                    })
                    .collect(),
            );
        }
        for text in &cases {
            let mut ours = Vec::new();
            text_part(&mut ours, "text/plain", text);
            assert!(
                ours == lettre(text),
                "differs from lettre for {text:?}:\n{}\n---\n{}",
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&lettre(text))
            );
        }
    }

    /// Whole lines copied in their encoded form give the octets of encoding the whole text, on
    /// the same edge cases; stretches that are not whole lines are encoded as usual.
    #[test]
    fn repeated_lines_encode_as_the_whole_text() {
        let alphabet = ['a', ' ', '\t', '=', '\n', '\r', 'é', '.'];
        let mut rng = fastrand::Rng::with_seed(7);
        let mut checked = 0;
        for _ in 0..3000 {
            let len = rng.usize(1..300);
            // Mostly plain letters, so that most texts are quoted-printable.
            let text: String = (0..len)
                .map(|_| {
                    if rng.usize(0..3) == 0 {
                        alphabet[rng.usize(0..alphabet.len())]
                    } else {
                        'a'
                    }
                })
                .chain("é\n".chars())
                .collect();
            // Random stretches, most of them whole lines, some not.
            let breaks: Vec<usize> = std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect();
            let mut repeats = Vec::new();
            let mut at = 0;
            while at < text.len() {
                let start = if rng.usize(0..5) == 0 {
                    rng.usize(at..text.len())
                } else {
                    match breaks.iter().find(|&&b| b >= at) {
                        Some(&b) => b,
                        None => break,
                    }
                };
                let ends: Vec<usize> = breaks.iter().copied().filter(|&b| b > start).collect();
                if ends.is_empty() || !text.is_char_boundary(start) {
                    break;
                }
                let end = ends[rng.usize(0..ends.len())];
                repeats.push(Repeat {
                    at: start,
                    lines: Arc::new(EncodedLines::new(&text[start..end]).unwrap()),
                });
                // Now and then, lines that are not those of the text.
                if rng.usize(0..8) == 0 {
                    repeats.push(Repeat {
                        at: end,
                        lines: Arc::new(EncodedLines::new("a\n").unwrap()),
                    });
                }
                at = end + rng.usize(0..40);
            }
            let (mut whole, mut pieces) = (Vec::new(), Vec::new());
            text_part(&mut whole, "text/plain", &text);
            text_part_with(&mut pieces, "text/plain", &text, &repeats);
            assert!(
                whole == pieces,
                "{text:?} with {:?}",
                repeats
                    .iter()
                    .map(|r| (r.at, &r.lines.lines))
                    .collect::<Vec<_>>()
            );
            checked += usize::from(!repeats.is_empty() && whole.starts_with(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted"));
        }
        assert!(checked > 1000, "{checked}");
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
