//! The signature block: the short blocks at the end of a statement that give the signatory's
//! name, title and the statement's date.

use chrono::NaiveDate;

use super::date::{self, AmbiguousDate, DateOrder};
use super::{ends_sentence, Block};

/// The signature block: name, title lines and date, in the short blocks at the end.
pub(super) struct Signature {
    pub(super) first_block: usize,
    pub(super) name: Option<String>,
    pub(super) title: Option<String>,
    pub(super) date: Option<(NaiveDate, Option<AmbiguousDate>)>,
}

/// Walks back from the last block over short blocks whose lines do not end like sentences; those
/// make the signature block, passing over paragraphs that hold an addressee sentence.
pub(super) fn find_signature(
    blocks: &[Block],
    skip: &[bool],
    holds_passage: &[bool],
    order: DateOrder,
) -> Option<Signature> {
    const MAX_LINE: usize = 120;
    const MAX_LINES: usize = 8;
    let mut first_block = None;
    let mut lines = 0;
    for b in (0..blocks.len()).rev() {
        // A paragraph holding an addressee sentence after the signature is no part of it.
        if skip[b] || holds_passage[b] {
            continue;
        }
        let block = &blocks[b];
        let signature_like = block.lines.iter().all(|l| {
            // "On behalf of the signatories," and "Sincerely," close a letter, not a sentence.
            l.chars().count() <= MAX_LINE
                && (!ends_sentence(l)
                    || l.ends_with(',')
                    || date::parse_date_line(l, order).is_some())
        });
        if !signature_like || lines + block.lines.len() > MAX_LINES {
            break;
        }
        lines += block.lines.len();
        first_block = Some(b);
    }
    let first_block = first_block?;
    let mut date = None;
    let mut rest = Vec::new();
    for b in (first_block..blocks.len()).filter(|&b| !skip[b] && !holds_passage[b]) {
        for line in &blocks[b].lines {
            match date::parse_date_line(line, order) {
                Some(d) if date.is_none() => date = Some(d),
                Some(_) => {}
                None => rest.push(line.as_str()),
            }
        }
    }
    let name = rest.first().map(|s| s.to_string());
    let title = (rest.len() > 1).then(|| rest[1..].join(" "));
    Some(Signature {
        first_block,
        name,
        title,
        date,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;

    #[test]
    fn signature_dates_in_every_accepted_form() {
        let cases: &[(&str, Option<NaiveDate>)] = &[
            ("27 May 2021", date(2021, 5, 27)),
            ("May 27, 2021", date(2021, 5, 27)),
            ("27.05.2021", date(2021, 5, 27)),
            ("2021-05-27", date(2021, 5, 27)),
            ("27\u{a0}May\u{a0}2021", date(2021, 5, 27)),
            ("Baku, 27 May 2021", date(2021, 5, 27)),
            ("Baku, May 27, 2021", date(2021, 5, 27)),
            ("1st of June 2021", date(2021, 6, 1)),
            ("Sept. 3, 2021", date(2021, 9, 3)),
            ("31 February 2021", None),
            ("May 2021", None),
        ];
        for (line, expected) in cases {
            let s = ok(&with_tail(&format!("Sabina Aliyeva\nCommissioner\n{line}")));
            assert_eq!(s.date, *expected, "`{line}`");
            assert_eq!(s.signatory.as_deref(), Some("Sabina Aliyeva"), "`{line}`");
            let prefix = expected.map_or("undated-".to_string(), |d| format!("{d}-"));
            assert!(s.id.as_str().starts_with(&prefix), "`{line}`: {}", s.id);
        }
        // A date in figures that does not exist is a slip to correct, not an undated statement.
        let e = err(&with_tail("Sabina Aliyeva\nCommissioner\n32.05.2021"));
        assert!(e.contains("`32.05.2021` is not a date"), "{e}");
    }

    #[test]
    fn a_date_in_the_body_is_not_the_statement_date() {
        let s = ok("Title\n\nOn May 27, 2021, something happened.\n\nSabina Aliyeva");
        assert_eq!(s.date, None);
        assert!(s.id.as_str().starts_with("undated-"));
        let s = ok("Title\n\n27 May 2021\n\nOn that day something happened.");
        assert_eq!(s.date, date(2021, 5, 27));
        assert_eq!(s.paragraphs, ["On that day something happened."]);
    }
}
