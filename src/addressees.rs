//! Addressee text → phrases (pure).
//!
//! Lists are split as written: commas, semicolons, "and" ("et", "и", "və"), "as well as"
//! ("ainsi que", "а также", "həmçinin", "eləcə də"), bullets and numbering, one item per line.
//! A line break is a space when the line plainly goes on ("Council\nof Europe", a line ending in
//! "of" or a comma, the next starting in lower case), so hard-wrapped lines rejoin.
//!
//! Splitting is driven by the names the directory knows, longest match first, so that commas and
//! "and" inside a known name never split it ("the United Nations Educational, Scientific and
//! Cultural Organization" stays one), while separators between names do ("Organization of Islamic
//! Cooperation and the Ombudsman Association of its member states" is two). Leftover text that
//! matches no known name becomes a phrase of its own, to be reported unresolved.
//!
//! A known name must end where a separator (or the sentence) does: "UN Security Council members"
//! is one unknown phrase, never "UN Security Council" plus a stray "members".

/// A known name may span at most this many words; bounds the work per phrase start.
const MAX_NAME_WORDS: usize = 40;

/// Words dropped at the start of a phrase: they belong to the sentence, not to the name
/// ("to the", "à la", "aux", "в", "также").
const LEADING_FILLERS: &[&str] = &[
    "the",
    "to",
    "also",
    "à",
    "au",
    "aux",
    "la",
    "le",
    "les",
    "l'",
    "l’",
    "du",
    "des",
    "de",
    "в",
    "во",
    "к",
    "ко",
    "также",
    "а",
    "həmçinin",
];

/// The text with capital list numbers ("I.", "II.", "A)", "B)") that open lines replaced by a
/// bullet and spaces (byte offsets kept), when the next number of the series opens another line:
/// alone, "I." or "A." may be a person's initial.
fn mark_series(text: &str) -> String {
    let opener = |line: &str| -> Option<(String, char)> {
        let first = line.split_whitespace().next()?;
        let punct = first.chars().last().filter(|c| matches!(c, '.' | ')'))?;
        let label = &first[..first.len() - 1];
        (!label.is_empty() && label.chars().all(|c| c.is_ascii_uppercase()))
            .then(|| (label.to_string(), punct))
    };
    let labels: Vec<(String, char)> = text.lines().filter_map(opener).collect();
    let successor = |label: &str| -> Option<String> {
        const ROMAN: &[&str] = &[
            "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII",
            "XIV", "XV",
        ];
        if let Some(k) = ROMAN.iter().position(|r| *r == label) {
            return ROMAN.get(k + 1).map(|r| (*r).to_string());
        }
        let mut chars = label.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => char::from_u32(c as u32 + 1).map(String::from),
            _ => None,
        }
    };
    let in_series = |label: &str, punct: char| {
        labels.iter().any(|(l, p)| {
            *p == punct
                && (successor(label).as_deref() == Some(l.as_str())
                    || successor(l).as_deref() == Some(label))
        })
    };
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match opener(line) {
            Some((label, punct)) if in_series(&label, punct) => {
                let at = line.len() - line.trim_start().len();
                out.push_str(&line[..at]);
                out.push('-');
                out.push_str(&" ".repeat(label.len()));
                out.push_str(&line[at + label.len() + 1..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// "and" in the four languages.
const AND: &[&str] = &["and", "&", "et", "и", "və"];

/// Words after which a line plainly goes on: a line break after them is a space.
const CONNECTIVES: &[&str] = &[
    "of", "for", "on", "in", "the", "at", "to", "by", "with", "de", "du", "des", "la", "le", "les",
    "l'", "d'", "pour", "sur", "en", "à", "au", "aux", "по", "для", "при", "в", "на", "с", "и",
    "üzrə", "və",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A word: its byte range in the text.
    Word(usize, usize),
    Separator(Separator),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// `,` `;` "as well as", a new list line: always between names, unless inside a known one.
    Strong,
    /// "and" "&": also inside names nobody listed in the directory.
    And,
}

/// A phrase and where it starts in the text it was split from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Phrase {
    pub(crate) text: String,
    /// Byte offset of its first character in the text.
    pub(crate) start: usize,
}

/// Splits addressee text into phrases; `is_known` answers whether a candidate phrase is a known
/// name (by [`crate::normalize::name_key`]).
///
/// Text matching no known name runs to the next comma, semicolon, "as well as" or list line, and
/// to the next "and" only when a new name plainly starts after it ("and the …") or a known one
/// does: names of institutions often contain "and" ("the OSCE Office for Democratic Institutions
/// and Human Rights"), so an unknown name is better reported whole than in pieces.
pub(crate) fn split_sentence(text: &str, is_known: &dyn Fn(&str) -> bool) -> Vec<String> {
    split_text(text, is_known)
        .into_iter()
        .map(|p| p.text)
        .collect()
}

/// [`split_sentence`], keeping each phrase's position.
pub(crate) fn split_text(text: &str, is_known: &dyn Fn(&str) -> bool) -> Vec<Phrase> {
    let trimmed = strip_final_stop(text.trim_end().trim_end_matches(['!', '?']));
    let series = mark_series(&text[..trimmed.len()]);
    let text = series.as_str();
    let tokens = tokenize(text);
    let mut phrases = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Token::Word(..) = tokens[i] else {
            i += 1;
            continue;
        };
        i = skip_fillers(text, &tokens, i);
        let Token::Word(word_start, word_end) = tokens[i] else {
            continue;
        };
        let start = after_elision(text, word_start, word_end);
        let last = match known_name_at(text, &tokens, i, start, is_known) {
            Some(last) => last,
            None => {
                let mut last = next_boundary(&tokens, i);
                while let (Some(Token::Separator(Separator::And)), Some(&Token::Word(s, e))) =
                    (tokens.get(last + 1), tokens.get(last + 2))
                {
                    let word = &text[s..e];
                    let Token::Word(ps, pe) = tokens[last] else {
                        break;
                    };
                    let new_name =
                        starts_new_name(&text[ps..pe], and_word(text, &tokens, last + 1), word)
                            || known_name_at(text, &tokens, last + 2, s, is_known).is_some();
                    if new_name {
                        break;
                    }
                    last = next_boundary(&tokens, last + 2);
                }
                last
            }
        };
        let Token::Word(_, end) = tokens[last] else {
            break;
        };
        let phrase = clean_end(&collapse_whitespace(&text[start..end]));
        // A filler alone ("… as well as to the.") names nothing.
        if !phrase.is_empty() && !is_filler(&phrase) && !is_list_marker(&phrase) {
            phrases.push(Phrase {
                text: phrase,
                start,
            });
        }
        i = last + 1;
    }
    phrases
}

/// Whether an unknown name ends at "and" (`and`, the word joining, `next` after it): when a new
/// item plainly starts. English capitalises every word of a name ("Office for Democratic
/// Institutions and Human Rights"), so there only "and the", "and to" or a list marker tell;
/// French and Russian capitalise a name's first word only, so "et Conseil", "и Совету" start a
/// new one; Azerbaijani puts each addressee in the dative ("Şurasına və …"); an acronym after
/// "and" is a name of its own in any language.
fn starts_new_name(before: &str, and: &str, next: &str) -> bool {
    const NEW_ITEM: &[&str] = &[
        "the",
        "to",
        "also",
        "à",
        "au",
        "aux",
        "в",
        "во",
        "к",
        "ко",
        "также",
        "həmçinin",
    ];
    let lower = next.to_lowercase();
    // "Name (ACRONYM) and …": the bracket closed the name.
    if NEW_ITEM.contains(&lower.as_str()) || is_list_marker(next) || before.ends_with(')') {
        return true;
    }
    let letters: Vec<char> = next
        .split(['-', '\'', '’'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_alphabetic())
        .collect();
    if letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase()) {
        return true;
    }
    match and.to_lowercase().as_str() {
        "et" | "и" => next.starts_with(char::is_uppercase),
        "və" => {
            let before = before.to_lowercase();
            ["na", "nə", "ya", "yə", "-a", "-ə"]
                .iter()
                .any(|suffix| before.ends_with(suffix))
        }
        _ => false,
    }
}

/// The word of an `And` separator token at `i` ("and", "et", "и", "və", "&").
fn and_word<'a>(text: &'a str, tokens: &[Token], i: usize) -> &'a str {
    // The separator keeps no range: find the word between the two neighbouring words.
    let (Some(&Token::Word(_, pe)), Some(&Token::Word(ns, _))) =
        (tokens.get(i.wrapping_sub(1)), tokens.get(i + 1))
    else {
        return "";
    };
    text[pe..ns].trim()
}

/// A line's first word that opens a list item: a bullet or a number.
fn opens_item(word: &str) -> bool {
    is_list_marker(word) || BULLETS.iter().any(|b| word.starts_with(b))
}

fn is_filler(word: &str) -> bool {
    let lower = word.to_lowercase();
    LEADING_FILLERS.contains(&lower.as_str())
}

/// "l'UNESCO" → the offset of "UNESCO".
fn after_elision(text: &str, start: usize, end: usize) -> usize {
    let word = &text[start..end];
    for head in ["l'", "L'", "l’", "L’"] {
        if let Some(rest) = word.strip_prefix(head) {
            if !rest.is_empty() {
                return start + head.len();
            }
        }
    }
    start
}

/// Drops what ends a list item rather than a name: a final stop (not an abbreviation's, as in
/// "U.N."), colon, or closing dash.
fn clean_end(phrase: &str) -> String {
    strip_final_stop(phrase.trim_end_matches([':', ' ', '\u{a0}']))
        .trim_end()
        .to_string()
}

/// `s` without a final full stop, unless the stop ends an abbreviation ("U.N.", "Inc.").
fn strip_final_stop(s: &str) -> &str {
    const ABBREVIATIONS: &[&str] = &["inc", "ltd", "co", "corp", "st", "no", "jr", "sr"];
    let Some(rest) = s.strip_suffix('.') else {
        return s;
    };
    let last_word = rest.rsplit([' ', '\n']).next().unwrap_or("");
    if last_word.contains('.') || ABBREVIATIONS.contains(&last_word.to_lowercase().as_str()) {
        s
    } else {
        rest
    }
}

/// The last token of the longest known name starting at word `i` (at byte `start`) and ending at a
/// separator or at the end of the text.
fn known_name_at(
    text: &str,
    tokens: &[Token],
    i: usize,
    start: usize,
    is_known: &dyn Fn(&str) -> bool,
) -> Option<usize> {
    let Some(&Token::Word(..)) = tokens.get(i) else {
        return None;
    };
    let mut ends = Vec::new();
    let mut words = 0;
    for (j, token) in tokens.iter().enumerate().skip(i) {
        if let Token::Word(_, end) = *token {
            words += 1;
            if words > MAX_NAME_WORDS {
                break;
            }
            if !matches!(tokens.get(j + 1), Some(Token::Word(..))) {
                ends.push((j, end));
            }
        }
    }
    ends.into_iter()
        .rev()
        .find(|&(_, end)| is_known(&clean_end(&text[start..end])))
        .map(|(j, _)| j)
}

/// The last word before the next separator (or the end), from word `i` on.
fn next_boundary(tokens: &[Token], i: usize) -> usize {
    let mut j = i;
    while matches!(tokens.get(j + 1), Some(Token::Word(..))) {
        j += 1;
    }
    j
}

/// One entry of front matter `addressees`, as a phrase: bullets, numbering, trailing punctuation
/// and a leading "and"/"the"/"to" removed. Never split.
pub(crate) fn clean_list_item(item: &str) -> String {
    let mut s = item.trim();
    if let Some(first) = s.split_whitespace().next() {
        if is_list_marker(first) {
            s = s[first.len()..].trim_start();
        }
    }
    for bullet in BULLETS {
        if let Some(rest) = s.strip_prefix(*bullet) {
            s = rest.trim_start();
            break;
        }
    }
    s = s.trim_end_matches([',', ';', '.', ' ', '\t', '\u{a0}']);
    loop {
        let lower_first = s.split_whitespace().next().map(str::to_lowercase);
        match lower_first.as_deref() {
            Some("and" | "the" | "to") if s.split_whitespace().nth(1).is_some() => {
                let first_len = s.split_whitespace().next().map_or(0, str::len);
                s = s[first_len..].trim_start();
            }
            _ => break,
        }
    }
    collapse_whitespace(s)
}

const BULLETS: &[&str] = &[
    "-", "*", "•", "–", "—", "·", "+", "▪", "◦", "●", "‣", "⁃", ">",
];

/// A bullet or a list number standing alone: "-", "•", "1.", "12)", "(3)", "a)", "(b)", "iv.",
/// "(ii)", "б)".
pub(crate) fn is_list_marker(word: &str) -> bool {
    if BULLETS.contains(&word) {
        return true;
    }
    let (inner, closed) = match word.strip_prefix('(') {
        Some(rest) => match rest.strip_suffix(')') {
            Some(inner) => (inner, true),
            None => return false,
        },
        None => match word.strip_suffix([')', '.']) {
            Some(inner) => (inner, word.ends_with(')')),
            None => return false,
        },
    };
    if inner.is_empty() {
        return false;
    }
    if inner.len() <= 3 && inner.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    let lower = inner.to_lowercase();
    const ROMAN: &[&str] = &[
        "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv",
        "xv",
    ];
    if ROMAN.contains(&lower.as_str()) {
        return closed || inner.chars().all(char::is_lowercase) || inner.len() > 1;
    }
    let mut chars = inner.chars();
    match (chars.next(), chars.next()) {
        // "a)" "(b)" "б)"; "a." only in lower case, so "A." stays an initial.
        (Some(c), None) if c.is_alphabetic() => closed || c.is_lowercase(),
        _ => false,
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    // Two lines or more open with a bullet or a number: a line that opens with neither goes on
    // the item above it ("I. The United Nations Educational, Scientific and Cultural" /
    // "Organization (UNESCO);").
    let marked_lines = text
        .lines()
        .filter(|l| l.split_whitespace().next().is_some_and(opens_item))
        .count();
    let marked_list = marked_lines >= 2;
    // Words, separators, and line breaks (as `None`, decided below).
    let mut raw: Vec<Option<Token>> = Vec::new();
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let is_separator = c == ',' || c == ';';
        if c.is_whitespace() || is_separator {
            if let Some(start) = word_start.take() {
                raw.push(Some(Token::Word(start, i)));
            }
            if is_separator {
                raw.push(Some(Token::Separator(Separator::Strong)));
            } else if c == '\n' {
                raw.push(None);
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(start) = word_start {
        raw.push(Some(Token::Word(start, text.len())));
    }
    let word = |t: Option<&Option<Token>>| match t {
        Some(&Some(Token::Word(s, e))) => Some(text[s..e].to_lowercase()),
        _ => None,
    };
    let is = |t: Option<&Option<Token>>, w: &str| word(t).is_some_and(|x| x == w);
    // A bullet standing between two names on one line ("UNESCO • OSCE") separates them; one that
    // opens a line is a list marker, dropped with the fillers.
    for k in 1..raw.len() {
        if let (Some(Token::Word(..)), Some(Token::Word(s, e))) = (raw[k - 1], raw[k]) {
            if ["•", "·", "▪", "◦", "●", "|"].contains(&&text[s..e]) {
                raw[k] = Some(Token::Separator(Separator::Strong));
            }
        }
    }
    let mut tokens = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let Some(token) = raw[i] else {
            // A line break: a list line of its own, unless the line plainly goes on.
            let prev = tokens.last().copied();
            let next = raw[i + 1..].iter().flatten().next().copied();
            let goes_on = match (prev, next) {
                (None, _) | (_, None) => true,
                (Some(Token::Separator(_)), _) | (_, Some(Token::Separator(_))) => true,
                (Some(Token::Word(ps, pe)), Some(Token::Word(ns, ne))) => {
                    let prev_word = text[ps..pe].to_lowercase();
                    let next_word = &text[ns..ne];
                    let next_and = AND.contains(&next_word.to_lowercase().as_str());
                    !opens_item(next_word)
                        && (marked_list
                            || CONNECTIVES.contains(&prev_word.as_str())
                            || prev_word.ends_with('-')
                            || next_and
                            || next_word.starts_with(char::is_lowercase))
                }
            };
            if !goes_on {
                tokens.push(Token::Separator(Separator::Strong));
            }
            i += 1;
            continue;
        };
        let w = word(Some(&raw[i]));
        let next = |k: usize| raw[i + 1..].iter().flatten().nth(k).copied();
        let _ = &next;
        if w.as_deref().is_some_and(|w| AND.contains(&w)) {
            tokens.push(Token::Separator(Separator::And));
            i += 1;
        } else if is(Some(&raw[i]), "as") && is(raw.get(i + 1), "well") && is(raw.get(i + 2), "as")
        {
            tokens.push(Token::Separator(Separator::Strong));
            i += 3;
        } else if (is(Some(&raw[i]), "а") && is(raw.get(i + 1), "также"))
            || (is(Some(&raw[i]), "eləcə") && is(raw.get(i + 1), "də"))
        {
            tokens.push(Token::Separator(Separator::Strong));
            i += 2;
        } else if w
            .as_deref()
            .is_some_and(|w| ["həmçinin", "habelə", "также"].contains(&w))
        {
            tokens.push(Token::Separator(Separator::Strong));
            i += 1;
        } else if is(Some(&raw[i]), "ainsi") {
            // "ainsi que", "ainsi qu'à", "ainsi qu'aux".
            match raw.get(i + 1) {
                Some(&Some(Token::Word(s, e))) if text[s..e].to_lowercase() == "que" => {
                    tokens.push(Token::Separator(Separator::Strong));
                    i += 2;
                }
                Some(&Some(Token::Word(s, e)))
                    if ["qu'", "qu’"]
                        .iter()
                        .any(|q| text[s..e].to_lowercase().starts_with(q)) =>
                {
                    tokens.push(Token::Separator(Separator::Strong));
                    let apostrophe = text[s..e].find(['\'', '’']).unwrap_or(0);
                    let rest = s
                        + apostrophe
                        + text[s + apostrophe..]
                            .chars()
                            .next()
                            .map_or(1, char::len_utf8);
                    if rest < e {
                        tokens.push(Token::Word(rest, e));
                    }
                    i += 2;
                }
                _ => {
                    tokens.push(token);
                    i += 1;
                }
            }
        } else {
            tokens.push(token);
            i += 1;
        }
    }
    tokens
}

/// Skips fillers ("the", "to", "à la", "в", "в адрес") and list markers at a phrase start, as
/// long as a word follows them.
fn skip_fillers(text: &str, tokens: &[Token], mut i: usize) -> usize {
    while let (Some(&Token::Word(s, e)), Some(&Token::Word(ns, ne))) =
        (tokens.get(i), tokens.get(i + 1))
    {
        let word = &text[s..e];
        let next = text[ns..ne].to_lowercase();
        if is_filler(word) || is_list_marker(word) {
            i += 1;
            // "в адрес", "на имя": a preposition and its noun.
            if (word == "в" && next == "адрес") || (word == "на" && next == "имя") {
                i += 1;
            }
        } else if word.to_lowercase() == "на" && next == "имя" {
            i += 2;
        } else if ["attention", "l'attention", "l’attention"]
            .contains(&word.to_lowercase().as_str())
            && ["of", "de", "du", "des"].contains(&next.as_str())
        {
            // "to the attention of", "à l'attention du".
            i += 2;
        } else {
            break;
        }
    }
    i
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::{clean_list_item, split_sentence};
    use crate::normalize::name_key;

    fn split(text: &str, known: &[&str]) -> Vec<String> {
        let keys: HashSet<String> = known.iter().map(|k| name_key(k)).collect();
        split_sentence(text, &|p: &str| keys.contains(&name_key(p)))
    }

    #[test]
    fn known_names_decide_where_to_split() {
        let known = &[
            "United Nations Educational, Scientific and Cultural Organization",
            "Organization of Islamic Cooperation",
            "Ombudsman Association of its member states",
            "Council of Europe",
            "International and European Ombudsman Institutions",
            "national human rights institutions",
            "different ombudsmen",
            "Azerbaijani Diasporas",
            "UN Security Council",
            "European Union",
        ];
        let cases: &[(&str, &[&str])] = &[
            (
                "the United Nations Educational, Scientific and Cultural Organization, Council of Europe",
                &["United Nations Educational, Scientific and Cultural Organization", "Council of Europe"],
            ),
            (
                "Organization of Islamic Cooperation and the Ombudsman Association of its member states",
                &["Organization of Islamic Cooperation", "Ombudsman Association of its member states"],
            ),
            ("International and European Ombudsman Institutions", &["International and European Ombudsman Institutions"]),
            (
                "different ombudsmen and national human rights institutions",
                &["different ombudsmen", "national human rights institutions"],
            ),
            ("Council of Europe,  as well as to the Azerbaijani Diasporas.", &["Council of Europe", "Azerbaijani Diasporas"]),
            ("Council of Europe, and also the European Union", &["Council of Europe", "European Union"]),
            ("Council of Europe & European Union", &["Council of Europe", "European Union"]),
            // Unknown stretches become phrases of their own, split at separators.
            (
                "the Northern Federation of Peace Councils and the Council of Europe",
                &["Northern Federation of Peace Councils", "Council of Europe"],
            ),
            ("Ministry of Peace; Ministry of Plenty and  Council of Europe", &["Ministry of Peace", "Ministry of Plenty", "Council of Europe"]),
            // "and" inside an unknown name does not split it; "and the" starts a new one.
            (
                "the OSCE Office for Democratic Institutions and Human Rights, European Union",
                &["OSCE Office for Democratic Institutions and Human Rights", "European Union"],
            ),
            ("Ministry of Peace and Plenty and the Ministry of Love", &["Ministry of Peace and Plenty", "Ministry of Love"]),
            ("Ministry of Peace and Plenty & European Union", &["Ministry of Peace and Plenty", "European Union"]),
            // A known name must end at a separator.
            ("UN Security Council members, European Union", &["UN Security Council members", "European Union"]),
            ("", &[]),
            (" , and ; ", &[]),
            ("to the", &[]),
        ];
        for (text, expected) in cases {
            assert_eq!(split(text, known), *expected, "`{text}`");
        }
    }

    #[test]
    fn without_a_directory_only_commas_and_new_names_split() {
        assert_eq!(
            split("the United Nations Educational, Scientific and Cultural Organization and the Council of Europe", &[]),
            ["United Nations Educational", "Scientific and Cultural Organization", "Council of Europe"]
        );
    }

    #[test]
    fn lists_split_as_written_in_four_languages() {
        let known = &[
            "UN Security Council",
            "Council of Europe",
            "European Union",
            "UNESCO",
            "UNICEF",
            "OSCE",
            "Conseil de l'Europe",
            "Совет Европы",
            "ОБСЕ",
            "Avropa Şurasına",
            "United Nations Educational, Scientific and Cultural Organization",
        ];
        let cases: &[(&str, &[&str])] = &[
            // Bullets, numbers, one item per line, "; and", the Oxford comma.
            (
                "- UN Security Council;\n• Council of Europe; and\n* European Union.",
                &["UN Security Council", "Council of Europe", "European Union"],
            ),
            (
                "1. UNESCO\n2) UNICEF\n(3) OSCE\na) Ministry of Peace\n(iv) Ministry of Plenty",
                &["UNESCO", "UNICEF", "OSCE", "Ministry of Peace", "Ministry of Plenty"],
            ),
            ("(i) UNESCO; (ii) the OSCE; and (iii) UNICEF", &["UNESCO", "OSCE", "UNICEF"]),
            ("UNESCO, UNICEF, and the OSCE", &["UNESCO", "UNICEF", "OSCE"]),
            (
                "Northern Federation of Peace Councils\nMinistry of Plenty\nUNESCO",
                &["Northern Federation of Peace Councils", "Ministry of Plenty", "UNESCO"],
            ),
            ("– UN Security Council\n– Ministry of Peace.", &["UN Security Council", "Ministry of Peace"]),
            // A hard-wrapped line goes on: after "of" or a comma, before lower case.
            ("the Northern Federation of\nPeace Councils, UNESCO", &["Northern Federation of Peace Councils", "UNESCO"]),
            ("the Council\nof Europe and the Ministry of Peace\nand Plenty", &["Council of Europe", "Ministry of Peace and Plenty"]),
            (
                "the United Nations Educational,\nScientific and Cultural Organization",
                &["United Nations Educational, Scientific and Cultural Organization"],
            ),
            // French: "et", "ainsi que", prepositions and elided articles.
            (
                "au Conseil de l'Europe, à l'UNESCO et à l'OSCE ainsi qu'à l'UNICEF",
                &["Conseil de l'Europe", "UNESCO", "OSCE", "UNICEF"],
            ),
            (
                "à l'Organisation pour la sécurité et la coopération en Europe et au Comité des droits",
                &["Organisation pour la sécurité et la coopération en Europe", "Comité des droits"],
            ),
            ("aux Ministère de la Paix et Ministère de l'Abondance", &["Ministère de la Paix", "Ministère de l'Abondance"]),
            // Russian: "и", "а также", "в", "в адрес"; lower case inside a name keeps it whole.
            (
                "в Совет Европы, в ОБСЕ, а также в адрес Министерства мира",
                &["Совет Европы", "ОБСЕ", "Министерства мира"],
            ),
            (
                "Бюро по демократическим институтам и правам человека и Министерству мира",
                &["Бюро по демократическим институтам и правам человека", "Министерству мира"],
            ),
            // Azerbaijani: "və", "həmçinin", a dative before "və".
            (
                "BMT Baş Katibinə, Avropa Şurasına və Sülh Nazirliyinə, həmçinin UNESCO-ya",
                &["BMT Baş Katibinə", "Avropa Şurasına", "Sülh Nazirliyinə", "UNESCO-ya"],
            ),
            ("Sülh və Bolluq Nazirliyi", &["Sülh və Bolluq Nazirliyi"]),
            // A bracket closes a name; an acronym starts one.
            ("Ministry of Peace (MoP) and Ministry of Plenty", &["Ministry of Peace (MoP)", "Ministry of Plenty"]),
            ("Ministry of Peace and MOPL", &["Ministry of Peace", "MOPL"]),
            ("UNESCO • Ministry of Peace · OSCE | UNICEF", &["UNESCO", "Ministry of Peace", "OSCE", "UNICEF"]),
            // A stop after an abbreviation is the name's.
            ("Peace Inc. and the U.N.", &["Peace Inc.", "U.N."]),
            // Capital numbers in a series; a line without a marker goes on the item above.
            (
                "I. The United Nations Educational, Scientific and Cultural\n   Organization;\nII. the OSCE;\nIII. Ministry of Peace",
                &["United Nations Educational, Scientific and Cultural Organization", "OSCE", "Ministry of Peace"],
            ),
            ("A) UNESCO\nB) Ministry of Peace", &["UNESCO", "Ministry of Peace"]),
            (
                "- Northern Federation\n  Peace Councils\n- UNESCO",
                &["Northern Federation Peace Councils", "UNESCO"],
            ),
            ("I. Aliyev", &["I. Aliyev"]),
        ];
        for (text, expected) in cases {
            assert_eq!(split(text, known), *expected, "`{text}`");
        }
    }

    #[test]
    fn phrases_keep_their_position() {
        let text = "the UNESCO,\n- Ministry of Peace";
        let phrases = super::split_text(text, &|p: &str| p == "UNESCO");
        let starts: Vec<(&str, usize)> =
            phrases.iter().map(|p| (p.text.as_str(), p.start)).collect();
        assert_eq!(starts, [("UNESCO", 4), ("Ministry of Peace", 14)]);
    }

    #[test]
    fn list_items_lose_bullets_numbers_and_trailing_punctuation() {
        let cases: &[(&str, &str)] = &[
            ("- UN Security Council", "UN Security Council"),
            ("* the Council of Europe;", "Council of Europe"),
            ("• European Union,", "European Union"),
            ("1. UN Human Rights Council", "UN Human Rights Council"),
            (
                "12) International Peace Bureau.",
                "International Peace Bureau",
            ),
            (
                "(3) Asian Ombudsman Association",
                "Asian Ombudsman Association",
            ),
            (
                "b) Asian Ombudsman Association",
                "Asian Ombudsman Association",
            ),
            (
                "and to the Azerbaijani  Diasporas.",
                "Azerbaijani Diasporas",
            ),
            (
                "1949 Geneva Conventions Committee",
                "1949 Geneva Conventions Committee",
            ),
            (
                "United Nations Educational, Scientific and Cultural Organization",
                "United Nations Educational, Scientific and Cultural Organization",
            ),
            ("-", ""),
        ];
        for (item, phrase) in cases {
            assert_eq!(clean_list_item(item), *phrase, "`{item}`");
        }
    }
}
