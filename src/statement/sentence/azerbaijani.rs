//! Azerbaijani passages. The verb comes last and the addressees carry a dative ending instead of
//! following a preposition ("Bu bəyanat BMT Baş Katibinə ünvanlanır"), so they lie between the
//! document and the verb; tested with the other languages through `match_sentence`.

use super::super::words::*;
use super::{fold, is_adverb, is_hypothetical_or_negated, is_past_marker, Hit, Recognised, Tok};

/// Azerbaijani puts the verb last and the addressees before it: "Bu Bəyanat … ünvanlanır",
/// "Bəyanatın surəti … göndərilir", "Bu bəyanatı … göndəririk".
pub(super) fn azerbaijani(all: &[Tok], sentence: &str) -> Option<Hit> {
    // The verb is last, or last before a colon that opens the list.
    let colon = sentence.find(':');
    let head_end = colon.unwrap_or(sentence.len());
    let mut toks: Vec<Tok> = all.iter().filter(|t| t.end <= head_end).cloned().collect();
    // "… göndəririk və sizi … çağırırıq": a clause of its own may follow the verb after "və" or a
    // comma; the sentence about the document ends with the first verb of sending that ends a
    // clause.
    if let Some(v) = (1..toks.len().saturating_sub(1)).find(|&v| {
        let two_word = toks[v - 1].word == "təqdim";
        let ends_clause = toks[v].pause || AZ_CLAUSE_JOINS.contains(&toks[v + 1].word.as_str());
        ends_clause && (az_passive(&toks[v].word, two_word) || az_active(&toks[v].word, two_word))
    }) {
        toks.truncate(v + 1);
    }
    let toks = toks.as_slice();
    let n = toks.len();
    if n < 2 {
        return None;
    }
    let colon_after_verb = colon.is_some();
    let verb_last = n - 1;
    let verb = toks[verb_last].word.as_str();
    let two_word = n >= 2 && toks[n - 2].word == "təqdim";
    let (active, verb_first) = if az_passive(verb, two_word) {
        (false, if two_word { n - 2 } else { n - 1 })
    } else if az_active(verb, two_word) {
        (true, if two_word { n - 2 } else { n - 1 })
    } else {
        return None;
    };
    // The subject (or object) at the start, after an optional "Biz"/"Mən" and intro words.
    let mut i = 0;
    while i < n
        && (AZ_INTRO.contains(&toks[i].word.as_str()) || (i > 0 && toks[i - 1].pause && i < 3))
    {
        i += 1;
    }
    if active && i < n && PRONOUNS.contains(&toks[i].word.as_str()) {
        i += 1;
    }
    // "Ombudsman bu bəyanatı … göndərir": a named author of a few words before "bu".
    if active && i < n && !AZ_DETERMINERS.contains(&toks[i].word.as_str()) {
        if let Some(d) = (i + 1..n.min(i + 5)).find(|&d| {
            AZ_DETERMINERS.contains(&toks[d].word.as_str()) && !toks[i..d].iter().any(|t| t.pause)
        }) {
            i = d;
        }
    }
    let determined = i < n && AZ_DETERMINERS.contains(&toks[i].word.as_str());
    if determined {
        i += 1;
    }
    while i < n && AZ_ADJECTIVES.contains(&toks[i].word.as_str()) {
        i += 1;
    }
    let noun = toks.get(i)?.word.as_str();
    let (case, stem) = az_noun(noun)?;
    let weak_noun = (!determined).then(|| stem.to_string());
    let mut copies = false;
    let mut after = i + 1;
    match case {
        AzCase::Genitive => {
            // "Bəyanatın surəti": a copy of the document; "Bəyanatın mətni": its text, the
            // document still.
            let next = toks.get(after)?.word.as_str();
            let (copy, text): (&[&str], &[&str]) = if active {
                (&["surətini", "surətlərini"], &["mətnini"])
            } else {
                (&["surəti", "surətləri"], &["mətni"])
            };
            if copy.contains(&next) {
                copies = true;
            } else if !text.contains(&next) {
                return None;
            }
            after += 1;
        }
        AzCase::Nominative if active => return None,
        AzCase::Accusative if !active => return None,
        _ => {}
    }
    if active && after < n && PRONOUNS.contains(&toks[after].word.as_str()) {
        after += 1;
    }
    while after < verb_first && is_adverb(&toks[after].word) {
        copies |= ALSO.contains(&toks[after].word.as_str());
        after += 1;
    }
    if toks[..verb_first]
        .iter()
        .any(|t| is_past_marker(&t.word) || is_hypothetical_or_negated(&t.word))
    {
        return None;
    }
    let recognised = if active {
        Recognised::Author
    } else {
        Recognised::Document
    };
    if after >= verb_first {
        // "Bu Bəyanat ünvanlanır:" and the list after the colon, or nothing at all.
        return colon.map(|colon| Hit {
            recognised,
            copies,
            list: (colon, sentence.trim_end().len()),
            list_at_end: true,
            weak_noun,
        });
    }
    let list_start = toks[after].start;
    let list_end = toks[verb_first - 1].end;
    let between = fold(&sentence[list_start..list_end]);
    let announces = between
        .split_whitespace()
        .any(|w| FOLLOWING.iter().any(|f| w.starts_with(f)));
    if let Some(colon) = colon.filter(|_| colon_after_verb || announces) {
        // The list comes after the verb: the text from the colon on names the addressees.
        return Some(Hit {
            recognised,
            copies,
            list: (colon, sentence.trim_end().len()),
            list_at_end: true,
            weak_noun,
        });
    }
    if announces {
        return None;
    }
    Some(Hit {
        recognised,
        copies,
        list: (list_start, list_end),
        list_at_end: false,
        weak_noun,
    })
}

/// Words that open a clause of its own after an Azerbaijani verb ("… göndəririk və sizi …").
const AZ_CLAUSE_JOINS: &[&str] = &["və", "lakin", "ancaq", "amma", "çünki"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AzCase {
    Nominative,
    Accusative,
    Genitive,
}

fn az_noun(word: &str) -> Option<(AzCase, &'static str)> {
    for &stem in AZ_NOUNS {
        let Some(rest) = word.strip_prefix(stem) else {
            continue;
        };
        let case = match rest {
            "" => AzCase::Nominative,
            "ı" | "i" | "u" | "ü" => AzCase::Accusative,
            "ın" | "in" | "un" | "ün" => AzCase::Genitive,
            _ => continue,
        };
        return Some((case, stem));
    }
    None
}

fn az_passive(verb: &str, two_word: bool) -> bool {
    let stems: &[&str] = if two_word {
        &["edil", "olun"]
    } else {
        AZ_PASSIVE_STEMS
    };
    az_tense(verb, stems)
}

fn az_active(verb: &str, two_word: bool) -> bool {
    let stems: &[&str] = if two_word {
        &["edir", "edəcə"]
    } else {
        AZ_ACTIVE_STEMS
    };
    (!two_word && AZ_ACTIVE_THIRD.contains(&verb))
        || stems.iter().any(|s| {
            verb.strip_prefix(s)
                .is_some_and(|rest| AZ_PERSON.contains(&rest))
        })
}

/// Third-person forms of the verbs of sending, for a named author ("Müvəkkil bu bəyanatı …
/// göndərir").
const AZ_ACTIVE_THIRD: &[&str] = &[
    "göndərir",
    "ünvanlayır",
    "çatdırır",
    "yönləndirir",
    "ötürür",
    "göndərib",
    "ünvanlayıb",
    "çatdırıb",
    "göndərmişdir",
    "ünvanlamışdır",
    "göndərəcək",
    "ünvanlayacaq",
];

/// A present, perfect or future passive form ("-ır", "-ib", "-mişdir", "-əcək"); never a simple
/// past ("-dı") or a pluperfect ("-mışdı"), which tell of an earlier document.
fn az_tense(verb: &str, stems: &[&str]) -> bool {
    stems.iter().any(|s| {
        verb.strip_prefix(s)
            .is_some_and(|rest| AZ_PASSIVE_TENSES.contains(&rest))
    })
}
