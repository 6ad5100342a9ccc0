//! A letter's MIME message, written by hand: the layout of lettre's message builder (multipart/
//! mixed holding multipart/alternative with the text and HTML parts, then the attachment) and the
//! transfer encoding of the text parts, octet for octet what lettre writes (the same choice of
//! 7bit, quoted-printable or base64, the same line breaks, CRLF line endings). The differential
//! tests hold both to lettre: [`text_body`] here against lettre's `Body::new`, and whole messages
//! in `compose`'s tests against lettre's `MessageBuilder`. Header values are lettre's own
//! encoders' (`compose` builds them); only the frame around them is written here.
//!
//! lettre's builder is correct but costs a dispatch about six times the instructions of this
//! (752,000 a letter against 120,000): it inserts each CR one at a time (moving the rest of the
//! text each time), quoted-printable-encodes one character at a time, parses the From header back
//! at every message, and formats every part through its own header map. Figures in
//! bench/RESULTS.md, runs 9 and 12.

use std::borrow::Cow;

use lettre::message::header::{ContentTransferEncoding, Headers};
use lettre::message::Body;

use super::Part;

/// One message's parts, for [`Message::format`].
pub(crate) struct Message<'a> {
    /// The message's own headers, `MIME-Version` included, in the order they are written.
    pub headers: &'a Headers,
    /// The boundaries of the multipart/mixed and multipart/alternative parts.
    pub mixed: &'a str,
    pub alternative: &'a str,
    /// The text/plain and text/html parts' bodies, encoded ([`text_body`]).
    pub text: &'a Encoded<'a>,
    pub html: &'a Encoded<'a>,
    /// The attachment part, formatted: its headers, a blank line, its body and a line break.
    pub attachment: &'a [u8],
}

impl Message<'_> {
    /// The message as lettre's `Message::formatted` writes it, CRLF line endings.
    pub(crate) fn format(&self) -> Vec<u8> {
        use std::io::Write as _;
        // The parts and room for the headers and the frame (about 1.5 KB for the shipped
        // templates), so that the message is written without growing: growing copies it.
        let size = 4096 + self.text.len() + self.html.len() + self.attachment.len();
        let mut out = Vec::with_capacity(size);
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{}", self.headers);
        let _ = write!(
            out,
            "Content-Type: multipart/mixed;\r\n boundary=\"{mixed}\"\r\n\r\n\
             --{mixed}\r\n\
             Content-Type: multipart/alternative;\r\n boundary=\"{alternative}\"\r\n\r\n",
            mixed = self.mixed,
            alternative = self.alternative,
        );
        for (kind, body) in [("plain", self.text), ("html", self.html)] {
            let _ = write!(
                out,
                "--{}\r\nContent-Type: text/{kind}; charset=utf-8\r\n\
                 Content-Transfer-Encoding: {}\r\n\r\n",
                self.alternative, body.encoding
            );
            for piece in &body.pieces {
                out.extend_from_slice(piece);
            }
            out.extend_from_slice(b"\r\n");
        }
        let _ = write!(out, "--{}--\r\n--{}\r\n", self.alternative, self.mixed);
        out.extend_from_slice(self.attachment);
        let _ = write!(out, "--{}--\r\n", self.mixed);
        out
    }
}

/// A text part's body, encoded: its transfer encoding and its octets, in pieces (a letter's own
/// words around the statement's body, which is encoded once per statement).
pub(crate) struct Encoded<'a> {
    encoding: ContentTransferEncoding,
    pieces: [Cow<'a, [u8]>; 3],
}

impl Encoded<'_> {
    fn whole(octets: Vec<u8>, encoding: ContentTransferEncoding) -> Encoded<'static> {
        Encoded {
            encoding,
            pieces: [Cow::Owned(octets), Cow::Borrowed(&[]), Cow::Borrowed(&[])],
        }
    }

    fn len(&self) -> usize {
        self.pieces.iter().map(|piece| piece.len()).sum()
    }

    #[cfg(test)]
    fn to_vec(&self) -> Vec<u8> {
        self.pieces.concat()
    }
}

/// What composing needs of a [`SharedText`](super::SharedText), worked out once per statement:
/// its 7bit and quoted-printable forms, whether it is ASCII and how many of its octets
/// quoted-printable escapes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SharedEncoding {
    ascii: bool,
    escaped: usize,
    /// It can be encoded apart from the words around it when those end and start lines: it does
    /// not end with a CR, which a line break after it would take.
    splices: bool,
    seven_bit: Vec<u8>,
    quoted_printable: Vec<u8>,
}

impl SharedEncoding {
    pub(crate) fn new(text: &str) -> SharedEncoding {
        let bytes = text.as_bytes();
        let mut seven_bit = Vec::with_capacity(bytes.len() + bytes.len() / 32);
        crlf(&mut seven_bit, bytes);
        let mut qp = Vec::with_capacity(bytes.len() + bytes.len() / 4);
        quoted_printable(&mut qp, bytes);
        SharedEncoding {
            ascii: bytes.is_ascii(),
            escaped: count_escaped(bytes),
            splices: !bytes.ends_with(b"\r"),
            seven_bit,
            quoted_printable: qp,
        }
    }
}

/// `part` as the body of a MIME part, encoded as lettre's `Body::new(part.to_string())` would.
///
/// The statement's body in it ([`SharedText`](super::SharedText)) is encoded once per statement:
/// when the words before it end a line and the words after it start one, 7bit and
/// quoted-printable write each piece alone as they would in the whole (both carry nothing across
/// a line break). Otherwise, and for base64, the part is encoded whole.
pub(crate) fn text_body(part: &Part) -> Encoded<'_> {
    let (before, shared, after) = part.pieces();
    let Some(shared) = shared else {
        return whole(before, choose_encoding(&[before.as_bytes()]));
    };
    let encoded = shared.encoded();
    let pieces = [before, shared.as_str(), after].map(str::as_bytes);
    let encoding =
        if encoded.ascii && before.is_ascii() && after.is_ascii() && !line_too_long(&pieces) {
            TextEncoding::SevenBit
        } else {
            let escaped = count_escaped(pieces[0]) + encoded.escaped + count_escaped(pieces[2]);
            by_escaped(escaped, pieces.iter().map(|piece| piece.len()).sum())
        };
    let splices = encoded.splices
        && (before.is_empty() || before.ends_with('\n'))
        && (after.is_empty() || after.starts_with('\n'));
    let (encode, shared, cte): (Encoder, _, _) = match encoding {
        TextEncoding::SevenBit if splices => {
            (crlf, &encoded.seven_bit, ContentTransferEncoding::SevenBit)
        }
        TextEncoding::QuotedPrintable if splices => (
            quoted_printable,
            &encoded.quoted_printable,
            ContentTransferEncoding::QuotedPrintable,
        ),
        _ => return whole(&part.to_string(), encoding),
    };
    let alone = |text: &[u8]| {
        let mut out = Vec::with_capacity(text.len() + text.len() / 4);
        encode(&mut out, text);
        Cow::Owned(out)
    };
    Encoded {
        encoding: cte,
        pieces: [alone(pieces[0]), Cow::Borrowed(shared), alone(pieces[2])],
    }
}

/// Writes a text's 7bit or quoted-printable form.
type Encoder = fn(&mut Vec<u8>, &[u8]);

/// `text` encoded whole, in `encoding`.
fn whole(text: &str, encoding: TextEncoding) -> Encoded<'static> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / 4);
    match encoding {
        TextEncoding::SevenBit => {
            crlf(&mut out, bytes);
            Encoded::whole(out, ContentTransferEncoding::SevenBit)
        }
        TextEncoding::QuotedPrintable => {
            quoted_printable(&mut out, bytes);
            Encoded::whole(out, ContentTransferEncoding::QuotedPrintable)
        }
        // Mostly non-Latin text, where base64 is shorter: rare enough to leave to lettre.
        TextEncoding::Base64 => {
            let body = Body::new(text.to_string());
            let encoding = body.encoding();
            Encoded::whole(body.into_vec(), encoding)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextEncoding {
    SevenBit,
    QuotedPrintable,
    Base64,
}

/// lettre's choice for a UTF-8 string without SMTPUTF8 (`email_encoding`'s `Encoding::choose`),
/// for the text made of `pieces` one after the other: 7bit when ASCII and no line reaches 76
/// octets, else quoted-printable when at most a third of the octets need escaping, else base64.
fn choose_encoding(pieces: &[&[u8]]) -> TextEncoding {
    // Separate simple passes, which the compiler vectorises, rather than one loop doing all.
    if pieces.iter().all(|piece| piece.is_ascii()) && !line_too_long(pieces) {
        return TextEncoding::SevenBit;
    }
    let escaped = pieces.iter().map(|piece| count_escaped(piece)).sum();
    by_escaped(escaped, pieces.iter().map(|piece| piece.len()).sum())
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

/// Whether a line of the text made of `pieces` reaches 76 octets as lettre measures it: from
/// one LF to the next, that LF counted, the first line from the start of the text.
fn line_too_long(pieces: &[&[u8]]) -> bool {
    // Octets since the last LF, that LF included.
    let mut line = 0;
    for piece in pieces {
        let mut start = 0;
        for lf in memchr::memchr_iter(b'\n', piece) {
            if line + lf - start >= 76 {
                return true;
            }
            line = 1;
            start = lf + 1;
        }
        line += piece.len() - start;
    }
    line >= 76
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
    // `!QP_LITERAL[c]` in arithmetic, which the compiler checks sixteen octets at once; a table
    // lookup it does one by one.
    let special =
        |c: u8| u8::from(((c.wrapping_sub(b' ') > b'~' - b' ') & (c != b'\t')) | (c == b'='));
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
            qp.append(*b"=0D");
        }
        if b == b'\r' {
            was_cr = true;
            i += 1;
            continue;
        }
        was_cr = false;
        if qp.on_line < QP_LIMIT && QP_LITERAL[usize::from(b)] {
            // Up to the end of the line, as one token an octet would each be: the last octet
            // is the last token, before which a soft break goes if the line is full.
            let end = text.len().min(i + QP_LIMIT - qp.on_line);
            let run = literal_run(&text[i..end]);
            qp.out.extend_from_slice(&text[i..i + run]);
            qp.on_line += run;
            qp.backup = qp.out.len() - 1;
            i += run;
            continue;
        }
        match b {
            b'=' => qp.append(*b"=3D"),
            b'\t' | b' '..=b'~' => qp.append([b]),
            _ => qp.append(hex_escape(b)),
        }
        i += 1;
    }
    if was_cr {
        qp.append(*b"=0D");
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
    /// Tokens are one to three octets: a fixed length lets the copy be inlined.
    #[inline]
    fn append<const N: usize>(&mut self, token: [u8; N]) {
        if self.on_line + N > QP_LIMIT {
            if self.on_line == QP_LIMIT {
                // The `=` of a break would be octet 77: break before the last token instead.
                let end = self.out.len();
                self.out.extend_from_slice(b"=\r\n");
                self.out.copy_within(self.backup..end, self.backup + 3);
                self.out[self.backup..self.backup + 3].copy_from_slice(b"=\r\n");
                self.on_line = end - self.backup;
            } else {
                self.out.extend_from_slice(b"=\r\n");
                self.on_line = 0;
            }
        }
        self.out.extend_from_slice(&token);
        self.on_line += N;
        self.backup = self.out.len() - N;
    }

    /// A space or tab must not end an encoded line (RFC 2045 6.7 rule 3).
    fn trailing_space(&mut self) {
        let escaped = match self.out.last() {
            Some(b' ') => *b"=20",
            Some(b'\t') => *b"=09",
            _ => return,
        };
        self.out.pop();
        self.on_line -= 1;
        self.append(escaped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letters::SharedText;

    /// The hand-written encoder against lettre's own `Body::new`: same transfer encoding, same
    /// octets, on the edge cases of quoted-printable line breaking and on random text drawn from
    /// an alphabet of those edges.
    #[test]
    fn text_bodies_are_what_lettre_would_encode() {
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
        let mut encodings = std::collections::BTreeSet::new();
        for text in &cases {
            let part = Part::new(text.clone(), None);
            let (ours, lettre) = (text_body(&part), Body::new(text.clone()));
            assert_eq!(ours.encoding, lettre.encoding(), "{text:?}");
            assert!(
                ours.to_vec() == lettre.as_ref(),
                "differs from lettre for {text:?}:\n{}\n---\n{}",
                String::from_utf8_lossy(&ours.to_vec()),
                String::from_utf8_lossy(lettre.as_ref())
            );
            encodings.insert(format!("{:?}", ours.encoding));
        }
        // Every branch was taken.
        assert_eq!(encodings.len(), 3, "{encodings:?}");
    }

    /// A part holding the statement's body, encoded in pieces with the body encoded once, gives
    /// the octets of the same part encoded whole (which the test above holds to lettre): where
    /// the words around the body start and end lines and where they do not, for every encoding.
    #[test]
    fn parts_encode_as_they_would_whole() {
        let alphabet = ['a', ' ', '\t', '=', '\n', '\r', 'é', 'Ж', '.'];
        let mut rng = fastrand::Rng::with_seed(15);
        let text = |rng: &mut fastrand::Rng, max: usize| -> String {
            let len = rng.usize(0..max);
            let weights = rng.usize(1..alphabet.len());
            (0..len).map(|_| alphabet[rng.usize(0..weights)]).collect()
        };
        let mut spliced = std::collections::BTreeSet::new();
        for _ in 0..3000 {
            let body = text(&mut rng, 300);
            let (mut before, mut after) = (text(&mut rng, 120), text(&mut rng, 120));
            if rng.bool() {
                before.push('\n');
            }
            if rng.bool() {
                after.insert(0, '\n');
            }
            // Lines of 70 to 80 octets across the pieces, where 7bit stops.
            if rng.usize(0..4) == 0 {
                before = format!("{}\n{}", before, "b".repeat(rng.usize(0..40)));
                after = format!("{}\n", "c".repeat(rng.usize(0..40)));
            }
            let shared = SharedText::new(body.clone());
            let own = format!("{before}{after}");
            let part = Part::new(own, Some((before.len(), shared)));
            let whole = Part::new(format!("{before}{body}{after}"), None);
            let (pieces, whole) = (text_body(&part), text_body(&whole));
            assert_eq!(
                pieces.encoding, whole.encoding,
                "{before:?} {body:?} {after:?}"
            );
            assert!(
                pieces.to_vec() == whole.to_vec(),
                "{before:?} {body:?} {after:?}:\n{}\n---\n{}",
                String::from_utf8_lossy(&pieces.to_vec()),
                String::from_utf8_lossy(&whole.to_vec())
            );
            if !pieces.pieces[1].is_empty() && !matches!(pieces.pieces[1], Cow::Owned(_)) {
                spliced.insert(format!("{:?}", pieces.encoding));
            }
        }
        // The body was encoded apart in both encodings that allow it.
        assert_eq!(spliced.len(), 2, "{spliced:?}");
    }
}
