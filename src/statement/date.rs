//! Dates as offices write them, in English, French, Russian and Azerbaijani: `27 May 2021`,
//! `May 27, 2021`, `27th of May 2021`, `le 27 mai 2021`, `1er mai 2021`, `27 мая 2021 года`,
//! `27 may 2021-ci il`, `2021-ci il 27 may`, `27.05.2021`, `27/05/2021`, `2021-05-27`. Pure.
//!
//! A slashed (or dashed) date whose day and month could be swapped (`06/05/2022`) is read in the
//! configured [`DateOrder`], and the reading is returned so that `herald check` can say which one
//! it took; `30/07/2022` and `07/30/2022` can be read only one way and are.

use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;

/// How a slashed date whose day and month are both 12 or less is read (`[statement] date_order`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DateOrder {
    /// `06/05/2022` is 6 May 2022.
    #[default]
    Dmy,
    /// `06/05/2022` is 5 June 2022.
    Mdy,
    /// The office writes the year first (`2022/05/06`); a day-first date is read day first.
    Ymd,
}

impl DateOrder {
    /// `dmy`, `mdy` or `ymd`, as the configuration spells it.
    pub(crate) fn parse(s: &str) -> Option<DateOrder> {
        match s.trim().to_ascii_lowercase().as_str() {
            "dmy" => Some(DateOrder::Dmy),
            "mdy" => Some(DateOrder::Mdy),
            "ymd" => Some(DateOrder::Ymd),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
            DateOrder::Ymd => "ymd",
        }
    }
}

/// A date written with numbers only that could be read two ways, and how it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AmbiguousDate {
    /// As written in the statement (`06/05/2022`).
    pub(crate) written: String,
    /// The configured order it was read in.
    pub(crate) order: DateOrder,
    /// Whether the first number was taken as the month.
    pub(crate) month_first: bool,
}

impl fmt::Display for AmbiguousDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` read as {} ([statement] date_order = \"{}\")",
            self.written,
            if self.month_first {
                "month/day/year"
            } else {
                "day/month/year"
            },
            self.order.as_str()
        )
    }
}

/// A line that is only a date, perhaps with a place, a weekday or "Date:" around it ("Baku,
/// 27 May 2021", "Bakou, le 27 mai 2021", "г. Баку, 27 мая 2021 г.", "27 May 2021, Baku").
pub(crate) fn parse_date_line(
    line: &str,
    order: DateOrder,
) -> Option<(NaiveDate, Option<AmbiguousDate>)> {
    if line.chars().count() > 80 {
        return None;
    }
    let line = line.trim();
    if let Some(d) = parse_date(line, order) {
        return Some(d);
    }
    // Each piece between commas (or after "Date:" / a dash), and each tail from a comma on.
    let separators: &[char] = &[',', ':', '—', '–', '|'];
    let pieces: Vec<&str> = line.split(separators).collect();
    for i in 0..pieces.len() {
        if let Some(d) = parse_date(pieces[i], order) {
            return Some(d);
        }
        if i + 1 < pieces.len() {
            let tail = pieces[i + 1..].join(",");
            if let Some(d) = parse_date(&tail, order) {
                return Some(d);
            }
        }
    }
    None
}

/// A line that is only a date in figures, perhaps with a place around it ("Baku, 31/02/2024"),
/// whose date does not exist in either reading: a slip a clerk must correct, never a signatory
/// or a line of the body. The written date when so.
pub(crate) fn impossible_date_line(line: &str) -> Option<&str> {
    if line.chars().count() > 80 {
        return None;
    }
    let separators: &[char] = &[',', ':', '—', '–', '|'];
    line.split(separators).map(str::trim).find(|piece| {
        let written = strip_year_suffix(piece.trim_end_matches('.'));
        in_figures(written)
            && numeric_date(written, DateOrder::Dmy).is_none()
            && numeric_date(written, DateOrder::Mdy).is_none()
    })
}

/// Written as a date in figures: `31/02/2024`, `31.02.2024`, `2024-02-31`.
fn in_figures(s: &str) -> bool {
    let Some(sep) = ['.', '/', '-']
        .into_iter()
        .find(|&c| s.matches(c).count() == 2)
    else {
        return false;
    };
    let lengths: Vec<usize> = s.split(sep).map(str::len).collect();
    s.split(sep)
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && matches!(lengths.as_slice(), [1 | 2, 1 | 2, 4] | [4, 1 | 2, 1 | 2])
}

/// The first date written inside a longer text, such as a title ("Statement of 27 May 2021 on
/// …"): a run of up to four words that is a date and nothing else.
pub(crate) fn find_date_in(
    text: &str,
    order: DateOrder,
) -> Option<(NaiveDate, Option<AmbiguousDate>)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for start in 0..words.len() {
        for len in (1..=4).rev() {
            let Some(window) = words.get(start..start + len) else {
                continue;
            };
            let candidate = window.join(" ");
            let candidate = candidate
                .trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')' | '—' | '–'));
            // A lone word is a date only when written in numbers ("27.05.2021").
            if len == 1 && !candidate.starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            if let Some(found) = parse_date(candidate, order) {
                return Some(found);
            }
        }
    }
    None
}

/// One date and nothing else around it but a weekday, "le", "of", "года"/"г." or "-ci il".
pub(crate) fn parse_date(s: &str, order: DateOrder) -> Option<(NaiveDate, Option<AmbiguousDate>)> {
    let s = s.trim().trim_end_matches(['.', ';']).trim();
    if s.is_empty() || s.chars().count() > 60 {
        return None;
    }
    let s = strip_year_suffix(s);
    if let Some(found) = numeric_date(s, order) {
        return Some(found);
    }
    // "27-May-2021", "27/May/2021": a month name between dashes or slashes.
    if !s.contains(char::is_whitespace) && s.contains(char::is_alphabetic) && s.contains(['-', '/'])
    {
        let spaced = s.replace(['-', '/'], " ");
        if spaced.split(' ').count() == 3 {
            return parse_date(&spaced, order);
        }
    }
    let words: Vec<String> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_matches(|c: char| c == '(' || c == ')'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !FILLERS.contains(&w.as_str()) && !is_weekday(w))
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let words: Vec<&str> = words
        .iter()
        .map(|w| strip_year_suffix(w))
        .filter(|w| !w.is_empty())
        .collect();
    // "le 20/06/2024", "от 27.05.2021": a date in numbers after a filler word.
    if let [one] = words.as_slice() {
        return numeric_date(one, order);
    }
    let date = match words.as_slice() {
        [a, b, c] => {
            // Day month year, month day year, year day month (Azerbaijani), year month day.
            if let (Some(d), Some(m), Some(y)) = (day_number(a), month_number(b), year_number(c)) {
                NaiveDate::from_ymd_opt(y, m, d)
            } else if let (Some(m), Some(d), Some(y)) =
                (month_number(a), day_number(b), year_number(c))
            {
                NaiveDate::from_ymd_opt(y, m, d)
            } else if let (Some(y), Some(d), Some(m)) =
                (year_number(a), day_number(b), month_number(c))
            {
                NaiveDate::from_ymd_opt(y, m, d)
            } else if let (Some(y), Some(m), Some(d)) =
                (year_number(a), month_number(b), day_number(c))
            {
                NaiveDate::from_ymd_opt(y, m, d)
            } else {
                None
            }
        }
        _ => None,
    }?;
    Some((date, None))
}

/// Words a written date may carry besides day, month and year.
const FILLERS: &[&str] = &[
    "of", "the", "le", "on", "года", "год", "г", "г.", "il", "ili", "y", "y.",
];

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "lundi",
    "mardi",
    "mercredi",
    "jeudi",
    "vendredi",
    "samedi",
    "dimanche",
    "понедельник",
    "вторник",
    "среда",
    "четверг",
    "пятница",
    "суббота",
    "воскресенье",
    "bazar",
    "ertəsi",
    "çərşənbə",
    "axşamı",
    "cümə",
    "şənbə",
];

fn is_weekday(word: &str) -> bool {
    WEEKDAYS.contains(&word.trim_end_matches(','))
}

/// `2021-ci il`, `2021-cı`, `2021 г.`, `2021г.`, `2021 года` → `2021`.
fn strip_year_suffix(s: &str) -> &str {
    let lower = s.to_lowercase();
    for suffix in [
        "-ci il",
        "-cı il",
        "-cu il",
        "-cü il",
        "-ci",
        "-cı",
        "-cu",
        "-cü",
        " года",
        " год",
        " г.",
        " г",
        "г.",
        "г",
    ] {
        if lower.ends_with(suffix) {
            let Some(cut) = s.len().checked_sub(suffix.len()) else {
                continue;
            };
            if s.is_char_boundary(cut) && s[..cut].ends_with(|c: char| c.is_ascii_digit()) {
                return s[..cut].trim_end();
            }
        }
    }
    s
}

/// `27.05.2021`, `27/05/2021`, `27-05-2021`, `2021-05-27`, `2021/05/27`, `2021.05.27`.
fn numeric_date(s: &str, order: DateOrder) -> Option<(NaiveDate, Option<AmbiguousDate>)> {
    let sep = ['.', '/', '-']
        .into_iter()
        .find(|&c| s.matches(c).count() == 2)?;
    let parts: Vec<&str> = s.split(sep).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |p: &str| p.parse::<u32>().ok();
    if parts[0].len() == 4 {
        if parts[1].len() > 2 || parts[2].len() > 2 {
            return None;
        }
        let y = parts[0].parse().ok()?;
        return NaiveDate::from_ymd_opt(y, n(parts[1])?, n(parts[2])?).map(|d| (d, None));
    }
    if parts[2].len() != 4 || parts[0].len() > 2 || parts[1].len() > 2 {
        return None;
    }
    let (a, b, y) = (n(parts[0])?, n(parts[1])?, parts[2].parse().ok()?);
    // Dots are day first wherever they are written; slashes and dashes follow the order when
    // both readings are dates.
    let month_first_configured = sep != '.' && order == DateOrder::Mdy;
    let day_first = NaiveDate::from_ymd_opt(y, b, a);
    let month_first = NaiveDate::from_ymd_opt(y, a, b);
    match (day_first, month_first) {
        (Some(d), Some(m)) if d != m && sep != '.' => {
            let (date, month_first) = if month_first_configured {
                (m, true)
            } else {
                (d, false)
            };
            Some((
                date,
                Some(AmbiguousDate {
                    written: s.to_string(),
                    order,
                    month_first,
                }),
            ))
        }
        (Some(d), _) if !month_first_configured || sep == '.' => Some((d, None)),
        (_, Some(m)) if sep != '.' => Some((m, None)),
        (Some(d), _) => Some((d, None)),
        _ => None,
    }
}

fn year_number(word: &str) -> Option<i32> {
    let word = strip_year_suffix(word);
    (word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
}

/// `27`, `27th`, `1st`, `1er`, `1-й`, `27-si`.
fn day_number(word: &str) -> Option<u32> {
    let digits_len = word.bytes().take_while(u8::is_ascii_digit).count();
    if digits_len == 0 || digits_len > 2 {
        return None;
    }
    let suffix = word[digits_len..].to_lowercase();
    if !matches!(
        suffix.as_str(),
        "" | "st" | "nd" | "rd" | "th" | "er" | "re" | "-й" | "-го" | "-e" | "e" | "-si" | "-ci"
    ) {
        return None;
    }
    word[..digits_len]
        .parse()
        .ok()
        .filter(|d| (1..=31).contains(d))
}

/// Month names and their usual abbreviations in the four languages (Russian in the genitive as
/// dates use it, and in the nominative).
const MONTHS: [&[&str]; 12] = [
    &[
        "january",
        "jan",
        "janvier",
        "janv",
        "января",
        "январь",
        "yanvar",
    ],
    &[
        "february",
        "feb",
        "février",
        "fevrier",
        "févr",
        "fevr",
        "февраля",
        "февраль",
        "fevral",
    ],
    &["march", "mar", "mars", "марта", "март", "mart"],
    &["april", "apr", "avril", "avr", "апреля", "апрель", "aprel"],
    &["may", "mai", "мая", "май"],
    &["june", "jun", "juin", "июня", "июнь", "iyun"],
    &["july", "jul", "juillet", "juil", "июля", "июль", "iyul"],
    &[
        "august",
        "aug",
        "août",
        "aout",
        "августа",
        "август",
        "avqust",
    ],
    &[
        "september",
        "sep",
        "sept",
        "septembre",
        "сентября",
        "сентябрь",
        "sentyabr",
    ],
    &["october", "oct", "octobre", "октября", "октябрь", "oktyabr"],
    &["november", "nov", "novembre", "ноября", "ноябрь", "noyabr"],
    &[
        "december",
        "dec",
        "décembre",
        "decembre",
        "déc",
        "декабря",
        "декабрь",
        "dekabr",
    ],
];

fn month_number(word: &str) -> Option<u32> {
    let word = word.trim_end_matches('.').to_lowercase();
    let position = MONTHS
        .iter()
        .position(|names| names.contains(&word.as_str()))?;
    u32::try_from(position + 1).ok()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::{impossible_date_line, parse_date_line, DateOrder};

    #[test]
    fn a_date_in_figures_that_does_not_exist_is_found_and_a_real_one_is_not() {
        let cases: &[(&str, Option<&str>)] = &[
            ("31/02/2024", Some("31/02/2024")),
            ("Baku, 31.04.2023", Some("31.04.2023")),
            ("2024-13-40", Some("2024-13-40")),
            ("32.01.2021-ci il", Some("32.01.2021-ci il")),
            ("27/05/2021", None),
            ("05/27/2021", None),
            ("Baku, 27 May 2021", None),
            ("Law No. 1.14.20", None),
            ("The meeting of 2021 was long.", None),
            ("Sabina Aliyeva", None),
        ];
        for (line, expected) in cases {
            assert_eq!(impossible_date_line(line), *expected, "`{line}`");
        }
    }

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    #[test]
    fn dates_in_every_language_and_form() {
        let cases: &[(&str, Option<NaiveDate>)] = &[
            ("27 May 2021", date(2021, 5, 27)),
            ("May 27, 2021", date(2021, 5, 27)),
            ("27th of May 2021", date(2021, 5, 27)),
            ("27th of May, 2021", date(2021, 5, 27)),
            ("1st of June 2021", date(2021, 6, 1)),
            ("Sept. 3, 2021", date(2021, 9, 3)),
            ("27.05.2021", date(2021, 5, 27)),
            ("27/05/2021", date(2021, 5, 27)),
            ("30/07/2022", date(2022, 7, 30)),
            ("07/30/2022", date(2022, 7, 30)),
            ("2021-05-27", date(2021, 5, 27)),
            ("2021/05/27", date(2021, 5, 27)),
            ("Baku, 27 May 2021", date(2021, 5, 27)),
            ("Baku, Thursday, 27 May 2021", date(2021, 5, 27)),
            ("27 May 2021, Baku", date(2021, 5, 27)),
            ("Date: 27.05.2021", date(2021, 5, 27)),
            ("le 20 novembre 2021", date(2021, 11, 20)),
            ("Bakou, le 20 novembre 2021", date(2021, 11, 20)),
            ("27 mai 2021", date(2021, 5, 27)),
            ("1er mai 2021", date(2021, 5, 1)),
            ("le 1er août 2022", date(2022, 8, 1)),
            ("12 février 2023", date(2023, 2, 12)),
            ("4 апреля 2023 года", date(2023, 4, 4)),
            ("27 мая 2021 г.", date(2021, 5, 27)),
            ("27 мая 2021г.", date(2021, 5, 27)),
            ("г. Баку, 27 мая 2021 года", date(2021, 5, 27)),
            ("27 may 2021-ci il", date(2021, 5, 27)),
            ("27.05.2021-ci il", date(2021, 5, 27)),
            ("2021-ci il 27 may", date(2021, 5, 27)),
            ("Bakı, 3 dekabr 2022-ci il", date(2022, 12, 3)),
            ("15 avqust 2020-ci il", date(2020, 8, 15)),
            ("27-May-2021", date(2021, 5, 27)),
            ("27/May/2021", date(2021, 5, 27)),
            ("May 27th, 2021", date(2021, 5, 27)),
            ("27\u{a0}May\u{a0}2021", date(2021, 5, 27)),
            ("Fait à Bakou, le 20/06/2024", date(2024, 6, 20)),
            ("le 27.05.2021", date(2021, 5, 27)),
            // Not dates.
            ("31 February 2021", None),
            ("32.05.2021", None),
            ("May 2021", None),
            ("On May 27, 2021, something happened.", None),
            ("27 Mayo 2021", None),
            ("1.2.3", None),
            ("12/13/14", None),
            ("le 2021", None),
            ("the 27", None),
            ("", None),
        ];
        for (line, expected) in cases {
            let got = parse_date_line(line, DateOrder::Dmy).map(|(d, _)| d);
            assert_eq!(got, *expected, "`{line}`");
        }
    }

    #[test]
    fn a_date_inside_a_title() {
        use super::find_date_in;
        let cases: &[(&str, Option<NaiveDate>)] = &[
            ("Statement of 27 May 2021 on the mines", date(2021, 5, 27)),
            ("Statement (27.05.2021)", date(2021, 5, 27)),
            ("Déclaration du 20 novembre 2021", date(2021, 11, 20)),
            ("Заявление от 4 апреля 2023 года", date(2023, 4, 4)),
            ("Statement on the events of 27 May", None),
            ("Statement on the 1949 Geneva Conventions", None),
        ];
        for (text, expected) in cases {
            assert_eq!(
                find_date_in(text, DateOrder::Dmy).map(|(d, _)| d),
                *expected,
                "`{text}`"
            );
        }
    }

    #[test]
    fn a_slashed_date_that_reads_two_ways_follows_the_order() {
        let cases: &[(&str, DateOrder, Option<NaiveDate>, Option<bool>)] = &[
            ("06/05/2022", DateOrder::Dmy, date(2022, 5, 6), Some(false)),
            ("06/05/2022", DateOrder::Mdy, date(2022, 6, 5), Some(true)),
            ("06/05/2022", DateOrder::Ymd, date(2022, 5, 6), Some(false)),
            ("06-05-2022", DateOrder::Mdy, date(2022, 6, 5), Some(true)),
            // Dots are day first everywhere; the same day twice is no ambiguity.
            ("06.05.2022", DateOrder::Mdy, date(2022, 5, 6), None),
            ("05/05/2022", DateOrder::Mdy, date(2022, 5, 5), None),
            // Only one reading is a date.
            ("30/07/2022", DateOrder::Mdy, date(2022, 7, 30), None),
            ("07/30/2022", DateOrder::Dmy, date(2022, 7, 30), None),
            ("2022/05/06", DateOrder::Mdy, date(2022, 5, 6), None),
        ];
        for (line, order, expected, month_first) in cases {
            let got = parse_date_line(line, *order);
            assert_eq!(
                got.as_ref().map(|(d, _)| *d),
                *expected,
                "`{line}` {order:?}"
            );
            assert_eq!(
                got.and_then(|(_, a)| a).map(|a| a.month_first),
                *month_first,
                "`{line}` {order:?}"
            );
        }
        let (_, reading) = parse_date_line("06/05/2022", DateOrder::Dmy).unwrap();
        assert_eq!(
            reading.unwrap().to_string(),
            "`06/05/2022` read as day/month/year ([statement] date_order = \"dmy\")"
        );
    }
}
