//! The **name (acronym)** rule: "Name (ACRONYM)" or "ACRONYM (Name)" resolves when both parts
//! name the same entry, or when one part is unknown, does not look like a sub-body, and only
//! restates the other (an acronym of the name's initials, or a name close to one of the
//! entry's). Two parts naming different entries are refused.

use super::super::{Directory, Entry};
use super::{part_other_than, simple, Found, Outcome, Rule, SUB_BODY_WORDS};
use crate::normalize::name_key;

/// `("Name", "ACRONYM")` for "Name (ACRONYM)", a closing bracket ending the phrase.
pub(super) fn bracketed(phrase: &str) -> Option<(&str, &str)> {
    let phrase = phrase.trim_end().trim_end_matches(['.', ',', ';']);
    let body = phrase.strip_suffix(')')?;
    let open = body.rfind('(')?;
    let (outer, inner) = (body[..open].trim(), body[open + 1..].trim());
    (!outer.is_empty() && !inner.is_empty() && !inner.contains(['(', ')']))
        .then_some((outer, inner))
}

/// "Name (ACRONYM)" and "ACRONYM (Name)" after the whole phrase was not a known name.
pub(super) fn pair(directory: &Directory, outer: &str, inner: &str) -> Outcome {
    let (a, b) = (simple(directory, outer), simple(directory, inner));
    match (a, b) {
        (Some(a), Some(b)) if a.entry == b.entry => Outcome::Found(Found {
            entry: a.entry,
            rule: Rule::NameAcronym,
            matched: format!("{} ({})", a.matched, b.matched),
        }),
        (Some(a), Some(b)) => Outcome::Refused {
            reason: format!(
                "`{outer}` names `{}` but `{inner}` names `{}`: two different entries",
                directory.entry_name(a.entry),
                directory.entry_name(b.entry)
            ),
            near: vec![a.entry, b.entry],
        },
        (Some(known_part), None) => one_known(directory, known_part, outer, inner),
        (None, Some(known_part)) => one_known(directory, known_part, inner, outer),
        (None, None) => Outcome::Unknown,
    }
}

/// One part of a pair names `known`, the other (`unknown`) nothing: it resolves when the unknown
/// part only restates the known one (its acronym, its name in other words), never when it names
/// a part of it or something else.
fn one_known(directory: &Directory, known: Found, known_text: &str, unknown: &str) -> Outcome {
    let name = directory.entry_name(known.entry).to_string();
    let refuse = |why: String| Outcome::Refused {
        reason: why,
        near: vec![known.entry],
    };
    let unknown_key = name_key(unknown);
    let names = entry_names(directory, known.entry);
    // "U.N. Secretary-General, the United Nations Children's Fund (UNICEF)": a list that was not
    // split, never one name. A comma counts only where the entry's own names have none.
    // "UNHCR and the Organization for Security and Co-operation in Europe (OSCE)": likewise,
    // where the part joins more than the entry's own names do ("and" inside OSCE's name).
    let listed = unknown.contains([';', '•', '·', '\n', '\t'])
        || unknown.contains(" – ")
        || unknown.contains(" — ")
        || (unknown.contains(',') && !names.iter().any(|n| n.contains(',')))
        || conjunctions(unknown) > names.iter().map(|n| conjunctions(n)).max().unwrap_or(0);
    // Any other organisation named inside it, not only the longest part: the longest may well be
    // the known one, with another listed beside it ("Council of Europe and the Office of …").
    let other = part_other_than(directory, &unknown_key, Some(known.entry)).map(|(entry, _)| entry);
    if listed || other.is_some() {
        let mut near = vec![known.entry];
        near.extend(other);
        return Outcome::Refused {
            reason: format!("`{unknown}` is not in the directory and reads as more than one name"),
            near,
        };
    }
    let known_words: Vec<String> = names.iter().map(|n| name_key(n)).collect();
    // A body's word the organisation's own names do not have ("Regional Office", "Committee").
    let sub_body = unknown_key.split(' ').any(|w| {
        SUB_BODY_WORDS.contains(&w) && !known_words.iter().any(|k| k.split(' ').any(|x| x == w))
    });
    if sub_body && !is_acronym(unknown) {
        return refuse(format!(
            "`{known_text}` names `{name}`, but `{unknown}` is not in the directory and names a \
             body or office, not `{name}` itself"
        ));
    }
    let fits = if is_acronym(unknown) {
        names.iter().any(|n| acronym_of(unknown, n))
    } else if is_acronym(known_text) {
        // The acronym's last letter starts the name's last word: "… for Human Rights in Geneva
        // (OHCHR)" names an office somewhere, not one the acronym stands for.
        (acronym_of(known_text, unknown) && ends_with_initial(known_text, unknown))
            || names.iter().any(|n| restates(&unknown_key, n))
    } else {
        // Words of one of its names: "Wafaqi Mohtasib (Ombudsman)". Anything else may be a
        // country office or another body ("UNICEF (Azerbaijan)"): never assumed.
        names.iter().any(|n| restates(&unknown_key, n))
            || known_words
                .iter()
                .any(|k| unknown_key.split(' ').all(|w| k.split(' ').any(|x| x == w)))
    };
    if !fits {
        return refuse(format!(
            "`{known_text}` names `{name}`, but `{unknown}` is not in the directory and does not \
             stand for it"
        ));
    }
    Outcome::Found(Found {
        entry: known.entry,
        rule: Rule::NameAcronym,
        matched: known.matched,
    })
}

fn entry_names(directory: &Directory, entry: Entry) -> Vec<&str> {
    let (name, aliases) = match entry {
        Entry::Organization(i) => match directory.organizations.get(i) {
            Some(o) => (&o.name, &o.aliases),
            None => return Vec::new(),
        },
        Entry::Group(g) => match directory.groups.get(g) {
            Some(g) => (&g.name, &g.aliases),
            None => return Vec::new(),
        },
    };
    std::iter::once(name)
        .chain(aliases)
        .map(String::as_str)
        .collect()
}

/// Whether two names are close enough to be one: a slip of the pen, not words added or left
/// out (the suggestion score alone forgives "UNHCR and the …" before a whole name).
fn close(key: &str, written: &str) -> bool {
    let written = name_key(written);
    let (short, long) = if key.len() < written.len() {
        (key.len(), written.len())
    } else {
        (written.len(), key.len())
    };
    (long - short) * 5 <= long && super::super::suggest::score(key, &written) >= 0.8
}

/// How many times `text` joins one thing to another ("and", "et", "и", "və", "as well as",
/// "ainsi que", "а также"), as whole words in any case.
fn conjunctions(text: &str) -> usize {
    const JOINING: [&str; 7] = ["and", "et", "и", "və", "as well as", "ainsi que", "а также"];
    let key = format!(" {} ", name_key(text));
    JOINING
        .iter()
        .map(|c| key.matches(&format!(" {c} ")).count())
        .sum()
}

/// Words a restatement may add or drop without naming anything more ("Office of High
/// Commissioner" and "Office of the High Commissioner"); never "and".
const ARTICLES: &[&str] = &[
    "the", "of", "for", "a", "de", "des", "du", "la", "le", "les", "l", "d",
];

/// Whether an unknown part (by its key) restates `written`: close to it, and each of its words
/// one of the name's or a misspelling of one. Close is not enough: "Amnesty International and
/// the Office of the United Nations High Commissioner for Human Rights" is close to OHCHR's
/// name and names another institution besides.
fn restates(key: &str, written: &str) -> bool {
    let name = name_key(written);
    let name_words: Vec<&str> = name.split(' ').collect();
    close(key, written)
        && key.split(' ').all(|w| {
            ARTICLES.contains(&w)
                || name_words
                    .iter()
                    .any(|n| *n == w || (w.chars().count() > 3 && strsim::levenshtein(n, w) <= 2))
        })
}

/// One word of two or more letters, at least two and half of them capitals ("OSCE", "CoE",
/// "ЮНЕСКО", "TİHEK"), dots allowed ("U.N.").
pub(super) fn is_acronym(written: &str) -> bool {
    let written = written.trim();
    if written.is_empty() || written.chars().any(char::is_whitespace) {
        return false;
    }
    let letters = written.chars().filter(|c| c.is_alphabetic()).count();
    let capitals = written.chars().filter(|c| c.is_uppercase()).count();
    letters >= 2 && capitals >= 2 && capitals * 2 >= letters
}

/// Whether `acronym`'s letters are, in order, initials of the words of `name` ("OSCE" of
/// "Organization for Security and Co-operation in Europe", "CoE" of "Council of Europe").
fn acronym_of(acronym: &str, name: &str) -> bool {
    // In a mixed-case acronym the capitals are the initials ("AzAC", "CoE"); in one of capitals
    // only, every letter is.
    let capitals: String = acronym.chars().filter(|c| c.is_uppercase()).collect();
    let acronym = if acronym.chars().any(char::is_lowercase) && capitals.chars().count() >= 2 {
        capitals.as_str()
    } else {
        acronym
    };
    let letters: Vec<char> = name_key(acronym).chars().filter(|c| *c != ' ').collect();
    // Initials of the words as written, hyphenated parts included ("Co-operation").
    let initials: Vec<char> = name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .filter_map(|w| name_key(w).chars().next())
        .collect();
    if letters.len() < 2 || letters.first() != initials.first() {
        return false;
    }
    let mut rest = initials.iter();
    letters.iter().all(|l| rest.any(|i| i == l))
}

/// Whether the last letter of `acronym` is the initial of the last word of `name`.
fn ends_with_initial(acronym: &str, name: &str) -> bool {
    let last_letter = name_key(acronym)
        .chars()
        .rev()
        .find(|c| c.is_alphanumeric());
    let last_initial = name
        .split(|c: char| !c.is_alphanumeric())
        .rfind(|w| !w.is_empty())
        .and_then(|w| name_key(w).chars().next());
    last_letter.is_some() && last_letter == last_initial
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acronyms_are_told_from_words() {
        let cases = [
            ("OSCE", true),
            ("CoE", true),
            ("U.N.", true),
            ("ЮНЕСКО", true),
            ("TİHEK", true),
            ("Volksanwaltschaft", false),
            ("UN Secretary-General", false),
            ("Ombudsman", false),
            ("A", false),
        ];
        for (written, expected) in cases {
            assert_eq!(is_acronym(written), expected, "{written}");
        }
    }

    #[test]
    fn acronyms_stand_for_the_initials_of_a_name() {
        let cases = [
            (
                "OSCE",
                "Organization for Security and Co-operation in Europe",
                true,
            ),
            ("CoE", "Council of Europe", true),
            (
                "UNICEF",
                "United Nations International Children's Emergency Fund",
                true,
            ),
            ("PDO", "Public Defender of Georgia", true),
            ("AzAC", "Azerbaijani-American Council", true),
            ("ООН", "Организация Объединённых Наций", true),
            (
                "ODIHR",
                "Organization for Security and Co-operation in Europe",
                false,
            ),
            ("OHCHR", "Human Rights Committee", false),
            ("EU", "Council of Europe", false),
        ];
        for (acronym, name, expected) in cases {
            assert_eq!(acronym_of(acronym, name), expected, "{acronym} / {name}");
        }
    }
}
