//! Name normalisation for matching addressees against the directory (pure).
//!
//! Two spellings of one name get one key: case, extra whitespace, punctuation, Unicode form
//! (NFKD, ’ = ', NBSP = space) and diacritics ("Türkiye" = "Turkiye", "Défenseur" = "Defenseur",
//! Azerbaijani "ə" = "e" and "ı" = "i", Russian "ё" = "е") are ignored, every "the" is dropped (so
//! "Office of the …" = "Office of …" and a leading "the" never matters), a French elision is its
//! own word ("l'Europe" = "l Europe", so that "l'" can be dropped like "la"), and common variants
//! are folded: "UN" / "U.N." = "United Nations", British and American spellings ("Organisation",
//! "Centre", "Defence", "Programme", "Labour", "-ise" / "-ize"), "Co-operation" = "Cooperation",
//! "&" = "and". Official acronyms (UNESCO, OSCE, …) are not expanded here: they come through the
//! directory's aliases, where a person can see and correct them.
//!
//! The key is computed for every name and alias when the directory loads (tens of thousands), so
//! it is one pass over the characters plus one over the words, with a fast path for ASCII.

use std::borrow::Cow;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Word prefixes written joined, hyphenated or apart ("Co-operation", "Inter-American",
/// "non governmental"): joined to the following word so every spelling gives one key.
const JOINED_PREFIXES: &[&str] = &["co", "non", "inter", "pan", "multi", "anti", "intra"];

/// The matching key of a name: lowercase words separated by single spaces.
pub(crate) fn name_key(name: &str) -> String {
    let words = if name.is_ascii() {
        split_ascii_words(name.as_bytes())
    } else {
        split_words(name.nfkd().filter_map(fold_letter))
    };
    let mut key = String::with_capacity(words.len() + 8);
    let mut pending_prefix = false;
    for word in words.split(' ').filter(|w| !w.is_empty()) {
        let word = fold_word(word);
        if word == "the" {
            continue;
        }
        if !key.is_empty() && !pending_prefix {
            key.push(' ');
        }
        key.push_str(&word);
        pending_prefix = JOINED_PREFIXES.contains(&word.as_ref());
    }
    key
}

/// Lowercases and splits into words separated by single spaces. Apostrophes vanish
/// ("Children’s" = "Childrens"), "&" becomes "and", and the dots of a spelled-out acronym join its
/// letters ("U.N." = "UN").
fn split_words(chars: impl Iterator<Item = char>) -> String {
    let chars: Vec<char> = chars.collect();
    let mut out = String::with_capacity(chars.len() + 4);
    // Letters in the current word, and whether it is a dotted acronym so far ("u.n").
    let mut word_len = 0usize;
    let mut dotted = false;
    for (i, &c) in chars.iter().enumerate() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            word_len += 1;
            continue;
        }
        match c {
            '\'' | '’' | '‘' | 'ʼ' | '`' | '´' if !elided(&out, word_len) => continue,
            '.' if (word_len == 1 || dotted)
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic())
                && !chars.get(i + 2).is_some_and(|n| n.is_alphanumeric()) =>
            {
                dotted = true;
                continue;
            }
            '&' => out.push_str(" and "),
            _ => out.push(' '),
        }
        word_len = 0;
        dotted = false;
    }
    out
}

/// [`split_words`] for ASCII names (nearly all of them), on bytes: no `char` buffer, no Unicode
/// case tables. Must give exactly what `split_words` gives for the same ASCII input.
fn split_ascii_words(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 4);
    let mut word_len = 0usize;
    let mut dotted = false;
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_alphanumeric() {
            out.push(char::from(b.to_ascii_lowercase()));
            word_len += 1;
            continue;
        }
        match b {
            b'\'' | b'`' if !elided(&out, word_len) => continue,
            b'.' if (word_len == 1 || dotted)
                && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic)
                && !bytes.get(i + 2).is_some_and(u8::is_ascii_alphanumeric) =>
            {
                dotted = true;
                continue;
            }
            b'&' => out.push_str(" and "),
            _ => out.push(' '),
        }
        word_len = 0;
        dotted = false;
    }
    out
}

/// One character of the NFKD form, without diacritics: combining marks go, and the letters that
/// carry theirs inside (Azerbaijani "ə" and "ı", "ø", "ł", …) become their plain letter.
fn fold_letter(c: char) -> Option<char> {
    if is_combining_mark(c) {
        return None;
    }
    Some(match c {
        'ə' | 'Ə' => 'e',
        'ı' => 'i',
        'ø' | 'Ø' => 'o',
        'ł' | 'Ł' => 'l',
        'đ' | 'Đ' => 'd',
        _ => c,
    })
}

/// Whether an apostrophe ends a French elision ("l'", "d'", "qu'"): the word written so far is
/// one of those, so the apostrophe separates two words instead of vanishing as in "Children's".
fn elided(out: &str, word_len: usize) -> bool {
    match word_len {
        1 => matches!(
            out.chars().last(),
            Some('l' | 'd' | 'j' | 'm' | 'n' | 's' | 't' | 'c')
        ),
        2 => out.ends_with("qu"),
        _ => false,
    }
}

/// British and short spellings of words common in institution names, folded to one form.
fn fold_word(word: &str) -> Cow<'_, str> {
    let folded = match word {
        "un" => "united nations",
        "programme" => "program",
        "programmes" => "programs",
        "centre" => "center",
        "centres" => "centers",
        "theatre" => "theater",
        "defence" => "defense",
        "offence" => "offense",
        "licence" => "license",
        "labour" => "labor",
        "honour" => "honor",
        "behaviour" => "behavior",
        "neighbourhood" => "neighborhood",
        "favour" => "favor",
        _ => return fold_ise(word),
    };
    Cow::Borrowed(folded)
}

/// "-ise" endings written "-ize" ("Organisation", "specialised", "Recognising"): every word with
/// one gets the "z", whether or not it is a verb ("enterprise" too): the key is only compared.
fn fold_ise(word: &str) -> Cow<'_, str> {
    const ENDINGS: &[&str] = &[
        "isation", "isations", "ise", "ised", "ises", "ising", "iser", "isers",
    ];
    for ending in ENDINGS {
        if let Some(stem) = word.strip_suffix(ending) {
            if stem.len() >= 2 {
                return Cow::Owned(format!("{stem}iz{}", &ending[2..]));
            }
        }
    }
    Cow::Borrowed(word)
}

#[cfg(test)]
mod tests {
    use super::{name_key, split_ascii_words, split_words};

    /// The ASCII fast path is an optimisation only: it must split exactly as the general path.
    #[test]
    fn the_ascii_path_splits_as_the_general_path() {
        let names = [
            "United Nations Security Council",
            "U.N. Security Council",
            "U.N.Security",
            "A.B.C.D. and E.F",
            "e.g. the Office",
            "St. John's Ambulance",
            "Children's Fund & Partners",
            "O`Neil  --  Inter-American",
            "  Co-operation;  (OSCE) / ODIHR, 2021.",
            "x.y",
            "a.",
            ".a.b",
            "R12X.5",
            "",
        ];
        for name in names {
            assert_eq!(
                split_ascii_words(name.as_bytes()),
                split_words(name.chars()),
                "{name:?}"
            );
        }
    }

    #[test]
    fn spellings_of_one_name_share_a_key() {
        let same: &[(&str, &str)] = &[
            ("United Nations Security Council", "UN Security Council"),
            ("United Nations Security Council", "U.N. Security Council"),
            ("the Council of Europe", "Council  of\u{a0}Europe"),
            ("THE COUNCIL OF EUROPE", "council of europe"),
            (
                "Office of the High Commissioner",
                "Office of High Commissioner",
            ),
            (
                "Organisation of Islamic Cooperation",
                "Organization of Islamic Cooperation",
            ),
            (
                "Organization for Security and Co-operation in Europe",
                "Organization for Security and Cooperation in Europe",
            ),
            (
                "Organization for Security and Co-operation in Europe",
                "Organization for Security & Co‐operation in Europe",
            ),
            (
                "United Nations Children’s Fund",
                "United Nations Children's Fund",
            ),
            ("Inter-American Commission", "Interamerican Commission"),
            ("Secretary-General", "Secretary General"),
            ("ＵＮＥＳＣＯ", "UNESCO"),
            (
                "European Network of Ombudspersons for Children (ENOC)",
                "European Network of Ombudspersons for Children ENOC",
            ),
            (
                "United Nations Development Programme",
                "United Nations Development Program",
            ),
            ("Türkiye", "Turkiye"),
            ("Türkiyə", "Turkiye"),
            ("Défenseur des droits", "DEFENSEUR DES DROITS"),
            ("Ministry of Defence", "Ministry of Defense"),
            ("Centre for Human Rights", "Center for Human Rights"),
            (
                "International Labour Organisation",
                "International Labor Organization",
            ),
            (
                "Organisation de la coopération islamique",
                "Organisation de la cooperation islamique",
            ),
            ("Haut-Commissariat", "Haut Commissariat"),
            ("Conseil de l'Europe", "Conseil de l’Europe"),
            ("recognised", "recognized"),
            ("UNICEF\u{a0}\u{a0}Office", "UNICEF Office"),
            ("«Avropa Şurası»", "\"Avropa Surasi\""),
        ];
        for (a, b) in same {
            assert_eq!(name_key(a), name_key(b), "`{a}` vs `{b}`");
        }
    }

    #[test]
    fn different_names_keep_different_keys() {
        let different: &[(&str, &str)] = &[
            ("Council of Europe", "European Council"),
            (
                "OSCE",
                "Organization for Security and Co-operation in Europe",
            ),
            ("UN Human Rights Council", "UN Security Council"),
            (
                "Organization of Islamic Cooperation",
                "Organization of Islamic Cooperation and the Ombudsman Association",
            ),
            ("UNICEF", "UN"),
        ];
        for (a, b) in different {
            assert_ne!(name_key(a), name_key(b), "`{a}` vs `{b}`");
        }
    }

    #[test]
    fn keys_are_lowercase_words_separated_by_single_spaces() {
        let cases: &[(&str, &str)] = &[
            (
                "  The  UN Secretary-General. ",
                "united nations secretary general",
            ),
            ("Children’s Fund", "childrens fund"),
            ("Smith & Sons", "smith and sons"),
            ("the", ""),
            ("", ""),
            ("Co-operation", "cooperation"),
            ("co", "co"),
            ("Université de Genève", "universite de geneve"),
            ("Conseil de l’Europe", "conseil de l europe"),
            ("qu'aux", "qu aux"),
            ("Avropa Şurası", "avropa surasi"),
            ("Совету Европы", "совету европы"),
            ("Объединённых", "объединенных"),
            ("Specialised Agencies", "specialized agencies"),
            ("Organisations", "organizations"),
        ];
        for (input, key) in cases {
            assert_eq!(name_key(input), *key, "`{input}`");
        }
    }
}
