//! Headings that introduce a list of addressees ("Addressees:", "Destinataires :",
//! "Адресаты:", "Ünvanlar:", "Copy to:", an attention line in a short block), and the list under
//! each: the rest of its line, the item lines after it, or the next paragraph.

use super::super::sentence::{fold, is_document_noun};
use super::super::words::{COPY_OF, HEADINGS};
use super::super::Block;
use super::{is_item_line, take_following_blocks, Found, ListBuilder, Recognised};

/// The list under a heading at line `l` of block `b`; returns the next line to look at.
pub(super) fn take_heading(
    blocks: &[Block],
    b: usize,
    l: usize,
    copies: bool,
    inline: usize,
    found: &mut Found,
) -> usize {
    let block = &blocks[b];
    let line = &block.lines[l];
    let mut list = ListBuilder::default();
    let rest = line[inline..].trim();
    if !rest.is_empty() {
        list.push(rest, block.numbers[l]);
    }
    // The lines below belong to the list up to another heading or a date. After items on the
    // heading's own line ("To: UNESCO, OSCE"), only a line the list plainly goes on to does: an
    // item with a bullet or a number, or one after a trailing comma or "and".
    let mut end = l + 1;
    while end < block.lines.len() {
        let next = &block.lines[end];
        let previous = if end == l + 1 {
            rest
        } else {
            block.lines[end - 1].as_str()
        };
        let goes_on = rest.is_empty()
            || is_item_line(next)
            || previous.ends_with([',', ';'])
            || ["and", "et", "и", "və"]
                .iter()
                .any(|w| fold(previous).ends_with(&format!(" {w}")));
        if heading(next).is_some()
            || super::super::date::parse_date_line(next, super::super::DateOrder::Dmy).is_some()
            || !goes_on
        {
            break;
        }
        list.push(next, block.numbers[end]);
        end += 1;
    }
    for used in &mut found.used[b][l..end] {
        *used = true;
    }
    let mut last_line = block.numbers[end - 1];
    if list.is_empty() && end == block.lines.len() {
        last_line = take_following_blocks(blocks, b, &mut list, found).unwrap_or(last_line);
    }
    if list.is_empty() {
        return end;
    }
    let mut text = line.clone();
    if end > l + 1 {
        text = block.lines[l..end].join(" ");
    }
    if last_line > block.numbers[end - 1] {
        text.push(' ');
        text.push_str(&list.display());
    }
    found.passages.push(list.passage(
        Recognised::Heading,
        copies,
        block.numbers[l],
        last_line,
        text,
    ));
    end
}

/// If `line` opens with an addressee heading: whether it introduces copies, and the byte offset
/// where the list starts on the same line.
pub(super) fn heading(line: &str) -> Option<(bool, usize)> {
    let trimmed = line.trim_start_matches(['#', '*', '_', ' ']);
    let lead = line.len() - trimmed.len();
    let lower = fold(trimmed);
    for &(name, copies, alone) in HEADINGS {
        let Some(rest) = lower.strip_prefix(name) else {
            continue;
        };
        if rest.starts_with(|c: char| c.is_alphanumeric()) {
            continue;
        }
        // An optional "(in alphabetical order)" before the colon, emphasis marks after it.
        let mut rest_clean = rest.trim_start_matches(['*', '_', ' ']);
        if rest_clean.starts_with('(') {
            match rest_clean.find(')') {
                Some(close) => {
                    rest_clean = rest_clean[close + 1..].trim_start_matches(['*', '_', ' '])
                }
                None => continue,
            }
        }
        // "Addressees of this statement:", "Destinataires de la présente déclaration :".
        if let Some(colon) = rest_clean.find([':', '：']) {
            let words: Vec<&str> = rest_clean[..colon].split_whitespace().collect();
            let names_document = words.len() <= 5
                && words
                    .first()
                    .is_some_and(|w| COPY_OF.contains(w) || *w == "for" || *w == "для")
                && words
                    .iter()
                    .any(|w| is_document_noun(w.trim_end_matches(['*', '_'])));
            if names_document {
                rest_clean = &rest_clean[colon..];
            }
        }
        let after_colon = rest_clean
            .strip_prefix(':')
            .or_else(|| rest_clean.strip_prefix('：'));
        match after_colon {
            Some(_) => {
                // The colon in the line as written (no heading holds one).
                let colon = line[lead..]
                    .find([':', '：'])
                    .map_or(line.len(), |c| lead + c);
                let mut offset = colon + line[colon..].chars().next().map_or(0, char::len_utf8);
                offset +=
                    line[offset..].len() - line[offset..].trim_start_matches(['*', '_']).len();
                return Some((copies, offset));
            }
            None if alone && rest_clean.trim().is_empty() => return Some((copies, line.len())),
            None => {}
        }
    }
    None
}

/// [`heading`] of line `l` of a block, or an "attention" line opening a short block of its own
/// (an addressee and their title, up to three lines): in a paragraph of prose, "À l'attention
/// de tous les parents, la Commissaire rappelle …" opens a sentence, not a list.
pub(super) fn heading_in(block: &Block, l: usize) -> Option<(bool, usize)> {
    let line = &block.lines[l];
    heading(line).or_else(|| {
        if l != 0 || block.lines.len() > 3 {
            return None;
        }
        let trimmed = line.trim_start_matches(['#', '*', '_', ' ']);
        let lead = line.len() - trimmed.len();
        attention(trimmed, &fold(trimmed)).map(|offset| (false, lead + offset))
    })
}

/// A line opening, capitalised, with "À l'attention de", "For the attention of", "Вниманию" and
/// the addressee on the same line, no colon needed: the byte offset (in `trimmed`) where the
/// addressee starts. A line of a wrapped sentence starts in lower case and is never one.
fn attention(trimmed: &str, lower: &str) -> Option<usize> {
    if !trimmed.starts_with(char::is_uppercase) {
        return None;
    }
    for &name in ATTENTION {
        let Some(rest) = lower.strip_prefix(name) else {
            continue;
        };
        // "à l'attention du", "à l'attention d'UNICEF": the article stays with the name.
        let elided = name.ends_with('\'');
        if (!elided && !rest.starts_with([' ', ':']))
            || rest.trim_start_matches([' ', ':']).is_empty()
        {
            continue;
        }
        // The same number of characters in the line as written (folding keeps the count).
        let chars = name.chars().count();
        let offset = trimmed
            .char_indices()
            .nth(chars)
            .map_or(trimmed.len(), |(i, _)| i);
        let after = &trimmed[offset..];
        return Some(offset + (after.len() - after.trim_start_matches([' ', ':']).len()));
    }
    None
}

/// Openings of an "attention" line, folded as [`fold`] does; longest first.
const ATTENTION: &[&str] = &[
    "à l'attention de",
    "a l'attention de",
    "à l'attention d'",
    "a l'attention d'",
    "à l'attention",
    "for the attention of",
    "to the attention of",
    "attention of",
    "вниманию",
];

#[cfg(test)]
mod tests {
    #[test]
    fn a_heading_list_ends_before_the_signature_under_it() {
        use crate::statement::{parse, AddresseeSource};
        let cases: &[(&str, &str)] = &[
            (
                "Addressees: UNESCO, OSCE\nSabina Aliyeva\n27 May 2021",
                "UNESCO, OSCE",
            ),
            ("Addressees: UNESCO,\nOSCE\nSabina Aliyeva", "UNESCO,\nOSCE"),
            ("Addressees:\nUNESCO\nOSCE\n27 May 2021", "UNESCO\nOSCE"),
            ("To: UNESCO\n- OSCE\nCc: UNICEF", "UNESCO\n- OSCE"),
            // Items spread over paragraphs, up to the salutation, the prose or the date.
            (
                "To:\n\nUNESCO\n\nThe OSCE\n\nDear Sir or Madam,\n\nWe write.",
                "UNESCO\nThe OSCE",
            ),
            (
                "Addressees:\n\nUNESCO\n\nThe OSCE\n\nThe situation is grave.",
                "UNESCO\nThe OSCE",
            ),
            (
                "Addressees:\n\nUNESCO\n\nThe OSCE\n\nBaku, 27 May 2021",
                "UNESCO\nThe OSCE",
            ),
            // A one-line signature looks like an item: taken (and refused), never an item lost.
            (
                "Addressees:\n\nUNESCO\n\nSabina Aliyeva\n\nBaku, 27 May 2021",
                "UNESCO\nSabina Aliyeva",
            ),
            (
                "Addressees:\n\nUNESCO\nThe OSCE\n\nThe Council of Europe",
                "UNESCO\nThe OSCE",
            ),
        ];
        for (tail, list) in cases {
            let s = parse("s.txt", "s.txt", &format!("Title\n\nBody.\n\n{tail}")).expect("parses");
            let AddresseeSource::Sentence(text) = &s.passages[0].source else {
                panic!("a list in `{tail}`");
            };
            assert_eq!(text, list, "`{tail}`");
        }
    }

    #[test]
    fn an_attention_line_names_the_addressee_only_in_a_short_block() {
        use crate::statement::{parse, AddresseeSource};
        let cases: &[(&str, &[&str])] = &[
            (
                "Lettre\n\nÀ l'attention du Défenseur des droits\n\nNous écrivons.\n\nBakou, le 1er juin 2024",
                &["du Défenseur des droits"],
            ),
            (
                "Lettre\n\nÀ l'attention de tous les parents, la Commissaire rappelle\nque chaque enfant a des droits.\nElle insiste.\nElle conclut.\n\nLa présente déclaration est adressée à l'UNICEF.\n\nBakou, le 1er juin 2024",
                &["l'UNICEF"],
            ),
        ];
        for (text, lists) in cases {
            let s = parse("s.txt", "s.txt", text).expect("parses");
            let got: Vec<&str> = s
                .passages
                .iter()
                .map(|p| match &p.source {
                    AddresseeSource::Sentence(text) => text.as_str(),
                    AddresseeSource::List(_) => panic!("a list"),
                })
                .collect();
            assert_eq!(got, *lists, "`{text}`");
        }
    }

    #[test]
    fn headings_in_four_languages() {
        use super::heading_in;
        use crate::statement::Block;
        let cases: &[(&str, Option<(bool, &str)>)] = &[
            ("Addressees:", Some((false, ""))),
            ("Addressees", Some((false, ""))),
            ("ADDRESSED TO: the UN", Some((false, " the UN"))),
            (
                "To: the UN Secretary-General",
                Some((false, " the UN Secretary-General")),
            ),
            ("Distribution list", Some((false, ""))),
            ("Recipients (in alphabetical order):", Some((false, ""))),
            ("Copy to: OSCE", Some((true, " OSCE"))),
            ("Cc: OSCE", Some((true, " OSCE"))),
            ("**Addressees:**", Some((false, ""))),
            (
                "Addressees of this statement: UNESCO",
                Some((false, " UNESCO")),
            ),
            (
                "Destinataires de la présente déclaration :",
                Some((false, "")),
            ),
            ("## Distribution", Some((false, ""))),
            ("Destinataires :", Some((false, ""))),
            ("Copie à : OSCE", Some((true, " OSCE"))),
            ("Адресаты:", Some((false, ""))),
            ("Рассылка: ОБСЕ", Some((false, " ОБСЕ"))),
            ("Ünvanlar:", Some((false, ""))),
            ("Kimə: BMT", Some((false, " BMT"))),
            ("Copy for information: OSCE", Some((true, " OSCE"))),
            ("Also sent to: OSCE", Some((true, " OSCE"))),
            ("Copie pour information : OSCE", Some((true, " OSCE"))),
            ("Копия для сведения: ОБСЕ", Some((true, " ОБСЕ"))),
            ("Surəti məlumat üçün: ATƏT", Some((true, " ATƏT"))),
            // "Attention" lines name the addressee without a colon.
            (
                "À l'attention de la Secrétaire Générale du Conseil de l'Europe",
                Some((false, "la Secrétaire Générale du Conseil de l'Europe")),
            ),
            (
                "À l’attention du Défenseur des droits",
                Some((false, "du Défenseur des droits")),
            ),
            ("À l'attention d'UNICEF", Some((false, "UNICEF"))),
            (
                "For the attention of the OSCE Secretary General",
                Some((false, "the OSCE Secretary General")),
            ),
            (
                "Вниманию Генерального секретаря ООН",
                Some((false, "Генерального секретаря ООН")),
            ),
            // Not headings.
            ("To date, nothing was done.", None),
            ("Distribution of aid: unfair", None),
            ("Tomorrow: more", None),
            ("To", None),
            ("Recipients of the award were named.", None),
            ("à l'attention de tous, nous rappelons que", None),
            ("À l'attention", None),
        ];
        for (line, expected) in cases {
            let block = Block {
                lines: vec![line.to_string()],
                numbers: vec![1],
            };
            let got = heading_in(&block, 0).map(|(copies, at)| (copies, &line[at..]));
            assert_eq!(got, *expected, "`{line}`");
        }
    }
}
