//! How a TOML syntax error is shown: the first one of a file, with its line and column, the line
//! itself and a caret under the place, and hints for the mistakes office staff make most: a bare
//! word where a string belongs (`language = fr` → `language = "fr"`), and a `]` missing at the
//! end of a line.
//!
//! The parser's own words for those ("invalid boolean, expected `false`", "missing comma between
//! array elements" two lines further down) send people looking in the wrong place, and its
//! recovery after a first error reports a long tail of follow-ups that are not mistakes at all;
//! so only the first error is shown.

use std::ops::Range;

/// The 1-based line of the error, and the message: what is wrong and where, then the line with a
/// caret under the column.
pub(crate) fn describe(text: &str, span: Option<Range<usize>>, message: &str) -> (usize, String) {
    let offset = span.map_or(0, |s| s.start).min(text.len());
    // A `]` missing at the end of a line: the parser goes on reading the next lines as array
    // elements and stumbles only there. Point at where the `]` belongs instead.
    if let Some((opened, end)) = unclosed_array_before(text, offset) {
        let (opened_line, opened_column) = place(text, opened);
        let what = format!(
            "a `]` is missing here: the array opened on line {opened_line}, column \
             {opened_column} is not closed"
        );
        return show(text, end, &what);
    }
    let (line_start, line_end) = line_bounds(text, offset);
    let line_text = text[line_start..line_end].trim_end_matches('\r');
    let what = match bare_word_value(line_text) {
        Some((key, word)) => {
            format!("`{word}` needs quotes: a text value is a string, written `{key} = \"{word}\"`")
        }
        None => format!("not valid TOML: {}", message.trim().replace('\n', "; ")),
    };
    show(text, offset, &what)
}

/// An error of a file that is valid TOML (a value of the wrong type, an unknown key): the
/// parser's words and the line with a caret under the place.
pub(crate) fn describe_value(
    text: &str,
    span: Option<Range<usize>>,
    message: &str,
) -> (usize, String) {
    let offset = span.map_or(0, |s| s.start).min(text.len());
    show(text, offset, &message.trim().replace('\n', "; "))
}

/// Whether `text` is valid TOML (it may still hold values of the wrong type).
pub(crate) fn is_valid_syntax(text: &str) -> bool {
    toml::de::DeTable::parse(text).is_ok()
}

/// The start and end (before its line break) of the line holding `offset`.
fn line_bounds(text: &str, offset: usize) -> (usize, usize) {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    (start, end)
}

/// 1-based line and column (in characters) of `offset`.
fn place(text: &str, offset: usize) -> (usize, usize) {
    let (start, _) = line_bounds(text, offset);
    (
        text[..start].matches('\n').count() + 1,
        text[start..offset].chars().count() + 1,
    )
}

/// `what` and its place, then the line with a caret under `offset`.
fn show(text: &str, offset: usize, what: &str) -> (usize, String) {
    let (line_start, line_end) = line_bounds(text, offset);
    let line_text = text[line_start..line_end].trim_end_matches('\r');
    let (line, column) = place(text, offset);
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    let caret_pad = " ".repeat(column.saturating_sub(1));
    let message = format!(
        "{what} (line {line}, column {column})\n    {pad} |\n    {number} | {line_text}\n    \
         {pad} | {caret_pad}^"
    );
    (line, message)
}

/// The string delimiters of TOML, longest first.
const QUOTES: [&str; 4] = ["\"\"\"", "'''", "\"", "'"];

/// When `offset` lies inside an array opened on an earlier line, and a line in between holds
/// what no array can (a table header, or `key =`): where the array opened, and the end of the
/// last line with content before that line, where its `]` belongs.
fn unclosed_array_before(text: &str, offset: usize) -> Option<(usize, usize)> {
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut quote: Option<&str> = None;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < offset {
        let rest = &text[i..];
        match quote {
            Some(q) => {
                if q.starts_with('"') && rest.starts_with('\\') {
                    i += 1 + rest[1..].chars().next().map_or(0, char::len_utf8);
                    continue;
                }
                if rest.starts_with(q) {
                    quote = None;
                    i += q.len();
                    continue;
                }
                // A one-line string ends with its line, closed or not.
                if q.len() == 1 && bytes[i] == b'\n' {
                    quote = None;
                }
            }
            None => {
                if let Some(q) = QUOTES.into_iter().find(|q| rest.starts_with(q)) {
                    quote = Some(q);
                    i += q.len();
                    continue;
                }
                match bytes[i] {
                    b'#' => {
                        i = rest.find('\n').map_or(text.len(), |n| i + n);
                        continue;
                    }
                    b'[' | b'{' => open.push((bytes[i], i)),
                    b']' | b'}' => {
                        open.pop();
                    }
                    _ => {}
                }
            }
        }
        i += rest.chars().next().map_or(1, char::len_utf8);
    }
    let &(_, opened) = open.iter().rev().find(|(c, _)| *c == b'[')?;
    let (_, opened_end) = line_bounds(text, opened);
    let mut last_content_end = opened + text[opened..opened_end].trim_end().len();
    let mut start = opened_end + 1;
    while start <= offset && start < text.len() {
        let (_, end) = line_bounds(text, start);
        let line = text[start..end].trim();
        let header = line.starts_with('[')
            && line
                .trim_start_matches('[')
                .starts_with(|c: char| c.is_alphabetic() || c == '_');
        if header || bare_key_line(line) {
            return Some((opened, last_content_end));
        }
        if !line.is_empty() && !line.starts_with('#') {
            last_content_end = start + text[start..end].trim_end().len();
        }
        start = end + 1;
    }
    None
}

/// `key = …` with a bare key: never inside an array.
fn bare_key_line(line: &str) -> bool {
    line.split_once('=').is_some_and(|(key, _)| {
        let key = key.trim();
        !key.is_empty()
            && key
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    })
}

/// `key = word` where `word` is a bare word (not a number, boolean, date, string, array or
/// table): the key and the word.
fn bare_word_value(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once('=')?;
    let key = key.trim();
    let value = value.split('#').next()?.trim();
    let is_key = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
    let starts_as_word = value
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    let is_word = value
        .chars()
        .all(|c| !c.is_control() && !matches!(c, '"' | '\'' | '[' | ']' | '{' | '}' | '='));
    let literal = matches!(value, "true" | "false" | "inf" | "nan");
    (is_key && starts_as_word && is_word && !literal).then_some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_error(text: &str) -> (usize, String) {
        let (_, errors) = toml::de::DeTable::parse_recoverable(text);
        let e = errors.first().expect("a syntax error");
        describe(text, e.span(), e.message())
    }

    #[test]
    fn the_first_error_with_its_place_and_a_caret() {
        let cases = [
            (
                "id = \"un\"\nlanguage = fr\n",
                2,
                "`fr` needs quotes: a text value is a string, written `language = \"fr\"` \
                 (line 2, column 12)\n      |\n    2 | language = fr\n      |            ^",
            ),
            (
                "[[organization]]\nname = Council of Europe\n",
                2,
                "`Council of Europe` needs quotes: a text value is a string, written \
                 `name = \"Council of Europe\"` (line 2, column 8)",
            ),
            // A missing `]`: one message, at the line of the mistake, not where the parser
            // stumbled.
            (
                "[[organization]]\nid = \"a\"\nemails = [\"a@x.example\"\n\n[[organization]]\n\
                 id = \"b\"\n",
                3,
                "a `]` is missing here: the array opened on line 3, column 10 is not closed \
                 (line 3, column 24)\n      |\n    3 | emails = [\"a@x.example\"\n      |                        \
                 ^",
            ),
            (
                "aliases = [\n  \"a\", # one\n  \"b\",\n\nname = \"x\"\n",
                3,
                "a `]` is missing here: the array opened on line 1, column 11 is not closed \
                 (line 3, column 7)",
            ),
            // Other syntax errors keep the parser's words, at their place.
            (
                "id = \"a\"\nname = \"unterminated\n",
                2,
                "not valid TOML: ",
            ),
        ];
        for (text, line, start) in cases {
            let (at, message) = first_error(text);
            assert_eq!(at, line, "{text:?}:\n{message}");
            assert!(message.starts_with(start), "{text:?}:\n{message}");
            assert_eq!(message.matches('^').count(), 1, "{message}");
        }
    }

    #[test]
    fn bare_words_only() {
        for line in [
            "language = fr",
            "name = Council of Europe",
            "a.b = x_y # note",
        ] {
            assert!(bare_word_value(line).is_some(), "{line}");
        }
        for line in [
            "language = \"fr\"",
            "held = true",
            "n = 12",
            "list = [a]",
            "t = { a = 1 }",
            "date = 2021-05-27",
        ] {
            assert!(bare_word_value(line).is_none(), "{line}");
        }
    }
}
