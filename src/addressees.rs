//! Addressee text → phrases (pure).
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

/// Words dropped at the start of a phrase: they belong to the sentence, not to the name.
const LEADING_FILLERS: &[&str] = &["the", "to", "also"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// A word: its byte range in the text.
    Word(usize, usize),
    Separator(Separator),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    /// `,` `;` "as well as": always between names, unless inside a known one.
    Strong,
    /// "and" "&": also inside names nobody listed in the directory.
    And,
}

/// Splits an "addressed to" sentence into phrases; `is_known` answers whether a candidate phrase
/// is a known name (by [`crate::normalize::name_key`]).
///
/// Text matching no known name runs to the next comma, semicolon or "as well as", and to the next
/// "and" only when a new name plainly starts after it ("and the …") or a known one does: names of
/// institutions often contain "and" ("the OSCE Office for Democratic Institutions and Human
/// Rights"), so an unknown name is better reported whole than in pieces.
pub fn split_sentence(text: &str, is_known: &dyn Fn(&str) -> bool) -> Vec<String> {
    let text = text.trim().trim_end_matches(['.', '!', '?']);
    let tokens = tokenize(text);
    let mut phrases = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Token::Word(..) = tokens[i] else {
            i += 1;
            continue;
        };
        i = skip_fillers(text, &tokens, i);
        let Token::Word(start, _) = tokens[i] else {
            continue;
        };
        let last = match known_name_at(text, &tokens, i, is_known) {
            Some(last) => last,
            None => {
                let mut last = next_boundary(&tokens, i);
                while let (Some(Token::Separator(Separator::And)), Some(&Token::Word(s, e))) =
                    (tokens.get(last + 1), tokens.get(last + 2))
                {
                    let word = &text[s..e];
                    let new_name = LEADING_FILLERS.iter().any(|f| word.eq_ignore_ascii_case(f))
                        || known_name_at(text, &tokens, last + 2, is_known).is_some();
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
        let phrase = collapse_whitespace(&text[start..end]);
        // A filler alone ("… as well as to the.") names nothing.
        if !LEADING_FILLERS
            .iter()
            .any(|f| phrase.eq_ignore_ascii_case(f))
        {
            phrases.push(phrase);
        }
        i = last + 1;
    }
    phrases
}

/// The last token of the longest known name starting at word `i` and ending at a separator or at
/// the end of the text.
fn known_name_at(
    text: &str,
    tokens: &[Token],
    i: usize,
    is_known: &dyn Fn(&str) -> bool,
) -> Option<usize> {
    let Some(&Token::Word(start, _)) = tokens.get(i) else {
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
        .find(|&(_, end)| is_known(&text[start..end]))
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

/// One entry of an `Addressees:` list or of front matter `addressees`, as a phrase: bullets,
/// numbering, trailing punctuation and a leading "and"/"the"/"to" removed. Never split.
pub(crate) fn clean_list_item(item: &str) -> String {
    let mut s = item.trim();
    for bullet in ['-', '*', '•', '–', '—', '·', '+', '▪', '◦'] {
        if let Some(rest) = s.strip_prefix(bullet) {
            s = rest.trim_start();
            break;
        }
    }
    s = strip_numbering(s);
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

/// "1." "1)" "(1)" "a)" followed by whitespace.
fn strip_numbering(s: &str) -> &str {
    let inner = s.strip_prefix('(').unwrap_or(s);
    let marker_len = if inner.starts_with(|c: char| c.is_ascii_digit()) {
        inner.bytes().take_while(u8::is_ascii_digit).count()
    } else if inner.starts_with(|c: char| c.is_ascii_lowercase()) {
        1
    } else {
        return s;
    };
    let after = &inner[marker_len..];
    let after = if s.starts_with('(') {
        match after.strip_prefix(')') {
            Some(rest) => rest,
            None => return s,
        }
    } else if let Some(rest) = after.strip_prefix(')') {
        rest
    } else if inner.starts_with(|c: char| c.is_ascii_digit()) {
        match after.strip_prefix('.') {
            Some(rest) => rest,
            None => return s,
        }
    } else {
        return s;
    };
    if after.starts_with(char::is_whitespace) {
        after.trim_start()
    } else {
        s
    }
}

fn tokenize(text: &str) -> Vec<Token> {
    let mut raw = Vec::new();
    let mut word_start: Option<usize> = None;
    for (i, c) in text.char_indices() {
        let is_separator = c == ',' || c == ';';
        if c.is_whitespace() || is_separator {
            if let Some(start) = word_start.take() {
                raw.push(Token::Word(start, i));
            }
            if is_separator {
                raw.push(Token::Separator(Separator::Strong));
            }
        } else if word_start.is_none() {
            word_start = Some(i);
        }
    }
    if let Some(start) = word_start {
        raw.push(Token::Word(start, text.len()));
    }
    let word = |t: Option<&Token>| match t {
        Some(&Token::Word(s, e)) => Some(&text[s..e]),
        _ => None,
    };
    let mut tokens = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let w = word(raw.get(i));
        if w.is_some_and(|w| w.eq_ignore_ascii_case("and") || w == "&") {
            tokens.push(Token::Separator(Separator::And));
            i += 1;
        } else if w.is_some_and(|w| w.eq_ignore_ascii_case("as"))
            && word(raw.get(i + 1)).is_some_and(|w| w.eq_ignore_ascii_case("well"))
            && word(raw.get(i + 2)).is_some_and(|w| w.eq_ignore_ascii_case("as"))
        {
            tokens.push(Token::Separator(Separator::Strong));
            i += 3;
        } else {
            tokens.push(raw[i]);
            i += 1;
        }
    }
    tokens
}

/// Skips "the", "to", "also" at a phrase start, as long as a word follows them.
fn skip_fillers(text: &str, tokens: &[Token], mut i: usize) -> usize {
    while let (Some(&Token::Word(s, e)), Some(Token::Word(..))) = (tokens.get(i), tokens.get(i + 1))
    {
        if LEADING_FILLERS
            .iter()
            .any(|f| text[s..e].eq_ignore_ascii_case(f))
        {
            i += 1;
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
