//! The document a sentence speaks of, for English, French and Russian: the subject of a passive
//! dispatch verb ("this statement … is addressed") or the object of an active one ("we address
//! this statement"), pointed at by a demonstrative, or by "the" when it is this statement's own
//! kind of document; tested through `match_sentence`.

use super::super::words::*;
use super::{is_cyrillic, is_document_noun, participle, Tok};

/// The document as subject, ending just before token `j`: "(copies of) this (open) statement (of
/// the Commissioner)".
pub(super) struct Subject {
    pub(super) weak: bool,
    pub(super) copies: bool,
    /// The document noun ("statement", "report").
    pub(super) noun: String,
}

pub(super) fn subject_before(toks: &[Tok], j: usize) -> Option<Subject> {
    // The nearest document noun before `j` that makes a subject, with only a short qualifier
    // ("of the Commissioner", "by our office", ", together with the report,") and no clause of
    // its own in between.
    let mut k = j;
    let mut steps = 0;
    while k > 0 && steps <= 16 {
        k -= 1;
        steps += 1;
        let w = toks[k].word.as_str();
        if let Some(subject) = la_presente(toks, k, j) {
            return Some(subject);
        }
        if is_document_noun(w) {
            if let Some(subject) = subject_at(toks, k, j) {
                return Some(subject);
            }
            continue;
        }
        if BLOCKERS.contains(&w) || participle(w).is_some() || (AUX.contains(&w) && w != "a") {
            return None;
        }
    }
    None
}

/// French letters name themselves "la présente" with no noun: "(Copie de) la présente est
/// adressée à …", the verb right after it.
fn la_presente(toks: &[Tok], k: usize, j: usize) -> Option<Subject> {
    let noun = toks[k].word.as_str();
    if k + 1 != j || k == 0 || !["présente", "présent"].contains(&noun) {
        return None;
    }
    let article = toks[k - 1].word.as_str();
    if !["la", "le"].contains(&article) {
        return None;
    }
    let copies = k >= 3
        && COPY_OF.contains(&toks[k - 2].word.as_str())
        && COPIES.contains(&toks[k - 3].word.as_str());
    Some(Subject {
        weak: false,
        copies,
        noun: noun.to_string(),
    })
}

/// "Copies are being sent to …", "A copy is forwarded to …", "Копии направлены …": copies
/// of nothing named are this statement's, when they open the sentence.
pub(super) fn bare_copies(toks: &[Tok], j: usize) -> Option<Subject> {
    let k = j.checked_sub(1)?;
    let noun = toks[k].word.as_str();
    if !COPIES.contains(&noun) {
        return None;
    }
    let mut i = k;
    if i > 0 && ["a", "une"].contains(&toks[i - 1].word.as_str()) {
        i -= 1;
    }
    let opens = i == 0 || toks[i - 1].pause || INTRO.contains(&toks[i - 1].word.as_str());
    opens.then(|| Subject {
        weak: false,
        copies: true,
        noun: noun.to_string(),
    })
}

/// The subject whose noun is token `k`, its verb group starting at `j`.
fn subject_at(toks: &[Tok], k: usize, j: usize) -> Option<Subject> {
    // A qualifier must open with a preposition (or be the French adjectives after the noun).
    if k + 1 < j {
        let next = toks[k + 1].word.as_str();
        let qualifier_ok = QUALIFIER_PREPOSITIONS.contains(&next)
            || toks[k].pause
            || (k + 1..j).all(|m| POST_ADJECTIVES.contains(&toks[m].word.as_str()))
            || is_cyrillic(next);
        if !qualifier_ok {
            return None;
        }
    }
    let mut i = k;
    while i > 0 && ADJECTIVES.contains(&toks[i - 1].word.as_str()) {
        i -= 1;
    }
    let strong = (i..k).any(|m| PRESENT_ADJECTIVES.contains(&toks[m].word.as_str()));
    let mut weak = false;
    if i > 0 && STRONG_DETERMINERS.contains(&toks[i - 1].word.as_str()) {
        i -= 1;
    } else if i > 0 && WEAK_DETERMINERS.contains(&toks[i - 1].word.as_str()) {
        weak = !strong;
        i -= 1;
    } else if !strong && !is_cyrillic(&toks[k].word) {
        // English and French name a document with a determiner; Russian needs none.
        return None;
    } else if !strong {
        weak = true;
    }
    // "The appeal of the families", "La déclaration du Médiateur", "Заявление МИД": with only
    // "the" before it, a document someone else owns.
    if weak && k + 1 < j {
        let next = toks[k + 1].word.as_str();
        if ["of", "by", "from", "de", "du", "des", "par", "d'"].contains(&next) || is_cyrillic(next)
        {
            return None;
        }
    }
    // "Copies of this statement", "Copie de la présente déclaration", "Копии настоящего заявления".
    let mut copies = false;
    if i >= 2
        && COPY_OF.contains(&toks[i - 1].word.as_str())
        && COPIES.contains(&toks[i - 2].word.as_str())
    {
        copies = true;
        i -= 2;
        if i > 0 && ["a", "une", "one"].contains(&toks[i - 1].word.as_str()) {
            i -= 1;
        }
    } else if i >= 1
        && COPIES.contains(&toks[i - 1].word.as_str())
        && is_cyrillic(&toks[i - 1].word)
    {
        copies = true;
        i -= 1;
    } else {
        // "The (full) text of this statement", "Le texte de la présente déclaration", "Текст
        // настоящего заявления": the document still.
        let of = usize::from(i >= 1 && COPY_OF.contains(&toks[i - 1].word.as_str()));
        if i > of
            && TEXT_OF.contains(&toks[i - 1 - of].word.as_str())
            && (of == 1 || is_cyrillic(&toks[i - 1].word))
        {
            i -= 1 + of;
            while i > 0 && ADJECTIVES.contains(&toks[i - 1].word.as_str()) {
                i -= 1;
            }
            if i > 0
                && (WEAK_DETERMINERS.contains(&toks[i - 1].word.as_str())
                    || STRONG_DETERMINERS.contains(&toks[i - 1].word.as_str()))
            {
                i -= 1;
            }
        }
    }
    // The subject opens the sentence or follows an introduction ("Finally,", "And", "Also").
    if i > 0 {
        let before = &toks[i - 1];
        if !(before.pause || INTRO.contains(&before.word.as_str())) {
            return None;
        }
    }
    Some(Subject {
        weak,
        copies,
        noun: toks[k].word.clone(),
    })
}

/// The document as object, from token `o`: "(copies of) this (open) statement".
pub(super) struct Object {
    pub(super) end: usize,
    pub(super) copies: bool,
    /// Only "the" (or, in Russian, nothing) points at it.
    pub(super) weak: bool,
    pub(super) noun: String,
}

pub(super) fn object_at(toks: &[Tok], o: usize) -> Option<Object> {
    let mut i = o;
    let mut copies = false;
    let word = |i: usize| toks.get(i).map(|t| t.word.as_str());
    if word(i).is_some_and(|w| ["a", "une", "one"].contains(&w))
        && word(i + 1).is_some_and(|w| COPIES.contains(&w))
    {
        i += 1;
    }
    if word(i).is_some_and(|w| COPIES.contains(&w)) {
        copies = true;
        i += 1;
        if word(i).is_some_and(|w| COPY_OF.contains(&w)) {
            i += 1;
        }
    }
    let det = word(i)?;
    let strong_det = STRONG_DETERMINERS.contains(&det);
    if strong_det || WEAK_DETERMINERS.contains(&det) {
        i += 1;
    }
    let adjectives_start = i;
    while word(i).is_some_and(|w| ADJECTIVES.contains(&w)) {
        i += 1;
    }
    let present =
        (adjectives_start..i).any(|m| PRESENT_ADJECTIVES.contains(&toks[m].word.as_str()));
    let noun = word(i)?;
    if !is_document_noun(noun) {
        return None;
    }
    if !(strong_det || present || WEAK_DETERMINERS.contains(&det) || is_cyrillic(noun)) {
        return None;
    }
    let weak = !(strong_det || present);
    let noun = noun.to_string();
    i += 1;
    while word(i).is_some_and(|w| POST_ADJECTIVES.contains(&w)) {
        i += 1;
    }
    Some(Object {
        end: i,
        copies,
        weak,
        noun,
    })
}
