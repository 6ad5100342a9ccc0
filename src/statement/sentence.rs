//! One sentence → whether it names this statement's addressees, and where they are in it.
//!
//! The document must be the subject ("This statement is addressed to …") or the author's object
//! ("We address this statement to …"), pointed at by a demonstrative ("this", "la présente",
//! "настоящее", "bu") — or by "the" (or, in Russian and Azerbaijani, no word at all) when it is
//! the statement's own kind of document. The verb is a dispatch verb in a present, perfect or
//! future form; a sentence about a habit, a question or a quotation is never a passage.
//!
//! The document as subject or object is found in `document`; Azerbaijani, whose verb comes last,
//! in `azerbaijani`.

use super::passage::Recognised;
use super::words::*;

mod azerbaijani;
mod document;

use azerbaijani::azerbaijani;
use document::{bare_copies, object_at, subject_before};

/// A sentence that is a passage: how, whether it adds copies, and the byte range of the text
/// naming the addressees.
#[derive(Debug)]
pub(super) struct Hit {
    pub(super) recognised: Recognised,
    pub(super) copies: bool,
    pub(super) list: (usize, usize),
    /// The addressees run to the end of the sentence (so a colon list may run further).
    pub(super) list_at_end: bool,
    /// The document noun, when only "the" (or nothing, in Russian and Azerbaijani) points at it:
    /// then it must be this statement's kind of document.
    pub(super) weak_noun: Option<String>,
}

/// One word of a sentence: its byte range and its folded form without surrounding punctuation.
#[derive(Debug, Clone)]
pub(super) struct Tok {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) word: String,
    /// A comma, colon or semicolon right after it.
    pub(super) pause: bool,
}

pub(super) fn tokens(sentence: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in sentence.split_inclusive(char::is_whitespace) {
        let start = offset;
        offset += raw.len();
        let w = raw.trim_end();
        let core_start = w.len() - w.trim_start_matches(is_edge_punctuation).len();
        let core = w.trim_matches(is_edge_punctuation);
        if core.is_empty() {
            continue;
        }
        let pause = w
            .trim_end_matches(['»', '"', '”', ')'])
            .ends_with([',', ':', ';']);
        let begin = start + core_start;
        let folded = fold(core);
        // French elision: "l'appel", "qu'à", "j'adresse" are two words.
        if let Some((head, tail)) = split_elision(&folded) {
            let head_len = core
                .char_indices()
                .nth(head.chars().count())
                .map_or(core.len(), |(i, _)| i);
            out.push(Tok {
                start: begin,
                end: begin + head_len,
                word: head,
                pause: false,
            });
            out.push(Tok {
                start: begin + head_len,
                end: begin + core.len(),
                word: tail,
                pause,
            });
            continue;
        }
        out.push(Tok {
            start: begin,
            end: begin + core.len(),
            word: folded,
            pause,
        });
    }
    out
}

fn is_edge_punctuation(c: char) -> bool {
    matches!(
        c,
        '.' | ','
            | ';'
            | ':'
            | '!'
            | '?'
            | '"'
            | '“'
            | '”'
            | '«'
            | '»'
            | '('
            | ')'
            | '['
            | ']'
            | '„'
            | '*'
    )
}

fn split_elision(word: &str) -> Option<(String, String)> {
    for head in ["l'", "d'", "j'", "qu'", "s'", "c'"] {
        if let Some(tail) = word.strip_prefix(head) {
            if !tail.is_empty() {
                return Some((head.to_string(), tail.to_string()));
            }
        }
    }
    None
}

/// Lower case, curly apostrophes straight, the dot of a dotted capital dropped (`İ` → `i`).
pub(super) fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter(|&c| c != '\u{307}')
        .map(|c| if c == '’' || c == 'ʼ' { '\'' } else { c })
        .collect()
}

/// A passage sentence, or none. A question, a habit ("every year") or a quotation is never one.
pub(super) fn match_sentence(sentence: &str) -> Option<Hit> {
    let toks = tokens(sentence);
    if toks.is_empty() || sentence.trim_end().ends_with('?') {
        return None;
    }
    let habitual = toks.iter().enumerate().any(|(i, t)| {
        HABITUAL.contains(&t.word.as_str())
            || toks
                .get(i + 1)
                .is_some_and(|next| HABITUAL_PAIRS.contains(&(t.word.as_str(), next.word.as_str())))
    });
    if habitual {
        return None;
    }
    let end = sentence.trim_end().len();
    let hit = passive(&toks, sentence, end)
        .or_else(|| active(&toks, sentence, end))
        .or_else(|| azerbaijani(&toks, sentence))?;
    // Inside quotation marks it is someone else's document speaking.
    let before = &sentence[..hit.list.0.min(sentence.len())];
    let opened = before.matches(['“', '«', '„']).count();
    let closed = before.matches(['”', '»']).count();
    if opened > closed || before.matches('"').count() % 2 == 1 {
        return None;
    }
    Some(hit)
}

/// Whether a document noun that only "the" points at names this statement: its own genre, or
/// the kind its title names ("Open letter on …": "the letter").
pub(super) fn own_kind(noun: &str, title: &str) -> bool {
    const GENRE: &[&str] = &[
        "statement",
        "appeal",
        "declaration",
        "déclaration",
        "appel",
        "заявлени",
        "обращени",
        "bəyanat",
        "müraciət",
    ];
    let stem: String = noun.chars().take(5).collect();
    GENRE
        .iter()
        .any(|g| noun.starts_with(g) || g.starts_with(noun))
        || fold(title)
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w.starts_with(&stem))
}

/// "This statement (…) is (also) addressed to …": the document is the subject of a passive
/// dispatch verb (English, French, Russian).
fn passive(toks: &[Tok], sentence: &str, end: usize) -> Option<Hit> {
    for p in 0..toks.len() {
        let Some(lang) = participle(&toks[p].word) else {
            continue;
        };
        // Back over auxiliaries and adverbs.
        let mut j = p;
        let mut aux = false;
        let mut past = false;
        let mut also = false;
        while j > 0 && (AUX.contains(&toks[j - 1].word.as_str()) || is_adverb(&toks[j - 1].word)) {
            let w = toks[j - 1].word.as_str();
            aux |= AUX.contains(&w);
            past |= PAST_AUX.contains(&w);
            also |= ALSO.contains(&w);
            j -= 1;
        }
        // A short Russian participle or a present passive needs no auxiliary.
        if !aux && lang != Lang::Ru {
            continue;
        }
        let Some(subject) = subject_before(toks, j).or_else(|| bare_copies(toks, j)) else {
            continue;
        };
        // "… was sent to …" tells of an earlier dispatch, even of "this appeal" (the one just
        // spoken of); only a present, perfect or future form speaks of this one.
        if past {
            continue;
        }
        if toks[..p]
            .iter()
            .any(|t| is_past_marker(&t.word) || is_hypothetical_or_negated(&t.word))
        {
            continue;
        }
        let (start, also_after) = recipients_start(toks, p + 1, lang)?;
        return Some(Hit {
            recognised: Recognised::Document,
            copies: subject.copies || also || also_after,
            list: (start.offset(toks, sentence), end),
            list_at_end: true,
            weak_noun: subject.weak.then_some(subject.noun),
        });
    }
    None
}

/// "We (hereby) address this statement to …", "Nous adressons la présente déclaration à …",
/// "Мы направляем настоящее заявление …", "Настоящее заявление мы направляем …".
fn active(toks: &[Tok], sentence: &str, end: usize) -> Option<Hit> {
    for v in 0..toks.len() {
        let w = toks[v].word.as_str();
        let lang = match active_verb(w) {
            Some(lang) => lang,
            None => {
                // "We have sent this statement to …": a perfect is as present as it gets.
                let have_before = (0..v)
                    .rev()
                    .find(|&k| !is_adverb(&toks[k].word))
                    .is_some_and(|k| HAVE.contains(&toks[k].word.as_str()));
                match participle(w) {
                    Some(lang) if have_before && lang != Lang::Ru => lang,
                    _ => continue,
                }
            }
        };
        if toks[..v]
            .iter()
            .any(|t| is_past_marker(&t.word) || is_hypothetical_or_negated(&t.word))
        {
            continue;
        }
        if v > 0 && RELATIVES.contains(&toks[v - 1].word.as_str()) {
            continue;
        }
        let mut also = (0..v)
            .rev()
            .take_while(|&k| is_adverb(&toks[k].word) || AUX.contains(&toks[k].word.as_str()))
            .any(|k| ALSO.contains(&toks[k].word.as_str()));
        // The object after the verb.
        let mut o = v + 1;
        while o < toks.len() && is_adverb(&toks[o].word) {
            also |= ALSO.contains(&toks[o].word.as_str());
            o += 1;
        }
        // A Russian past ("Мы направили …") speaks of this document only with "настоящее";
        // "это обращение" may be the one just spoken of.
        let past = RU_ACTIVE_PAST.contains(&w);
        let this_very =
            |from: usize, to: usize| toks[from..to].iter().any(|t| t.word.starts_with("настоящ"));
        if let Some(object) = object_at(toks, o) {
            if past && !this_very(o, object.end) {
                continue;
            }
            if let Some((start, also_after)) = recipients_start(toks, object.end, lang) {
                return Some(Hit {
                    recognised: Recognised::Author,
                    copies: object.copies || also || also_after,
                    list: (start.offset(toks, sentence), end),
                    list_at_end: true,
                    weak_noun: object.weak.then_some(object.noun),
                });
            }
            continue;
        }
        // Russian puts the object first as readily: "Настоящее заявление (мы) направляем …".
        if lang == Lang::Ru {
            let mut k = v;
            while k > 0
                && (PRONOUNS.contains(&toks[k - 1].word.as_str()) || is_adverb(&toks[k - 1].word))
            {
                also |= ALSO.contains(&toks[k - 1].word.as_str());
                k -= 1;
            }
            if let Some(subject) = subject_before(toks, k) {
                if past && !this_very(0, k) {
                    continue;
                }
                if let Some((start, also_after)) = recipients_start(toks, v + 1, lang) {
                    return Some(Hit {
                        recognised: Recognised::Author,
                        copies: subject.copies || also || also_after,
                        list: (start.offset(toks, sentence), end),
                        list_at_end: true,
                        weak_noun: subject.weak.then_some(subject.noun),
                    });
                }
            }
        }
    }
    None
}

/// Where the addressees start: at a token, or right after it (keeping a colon that follows it).
#[derive(Debug, Clone, Copy)]
pub(super) enum Start {
    At(usize),
    After(usize),
}

impl Start {
    pub(super) fn offset(self, toks: &[Tok], sentence: &str) -> usize {
        match self {
            Start::At(i) => toks[i].start,
            Start::After(i) => {
                // Past the spaces and any emphasis ("**addressed to** the UN").
                let end = toks[i].end;
                let rest = &sentence[end..];
                end + rest.len() - rest.trim_start_matches([' ', '\n', '*', '_']).len()
            }
        }
    }
}

/// After the verb (and its object): adverbs and a short aside, then the preposition opening the
/// addressees ("to", "à", "au", "aux"; Russian may go straight on). Returns the token the list
/// starts at (the preposition itself: the splitter drops it) and whether "also" came on the way.
fn recipients_start(toks: &[Tok], from: usize, lang: Lang) -> Option<(Start, bool)> {
    let mut q = from;
    let mut also = false;
    let mut skipped = 0;
    while q < toks.len() {
        let w = toks[q].word.as_str();
        // "доведено до сведения ЮНЕСКО": brought to the notice of.
        if lang == Lang::Ru && w == "до" && toks.get(q + 1).is_some_and(|t| t.word == "сведения")
        {
            return Some((Start::After(q + 1), also));
        }
        // "shared with UNESCO".
        if lang == Lang::En && w == "with" && q > 0 && toks[..q].iter().any(|t| t.word == "shared")
        {
            return Some((Start::After(q), also));
        }
        if PREPOSITIONS.contains(&w) && (lang != Lang::En || w == "to" || w == "unto") {
            // "to" and "à" go; "au", "aux", "в" carry an article or a case and stay for the
            // splitter, which drops them.
            if ["to", "unto", "à"].contains(&w) {
                return Some((Start::After(q), also));
            }
            return Some((Start::At(q), also));
        }
        if lang == Lang::Ru && !is_adverb(w) {
            return Some((Start::At(q), also));
        }
        if ["in", "so"].contains(&w)
            && toks
                .get(q + 1)
                .is_some_and(|t| ["order", "as"].contains(&t.word.as_str()))
        {
            return None;
        }
        also |= ALSO.contains(&w);
        if !is_adverb(w) {
            skipped += 1;
            if skipped > 4 || BLOCKERS.contains(&w) {
                return None;
            }
        }
        q += 1;
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    En,
    Fr,
    Ru,
}

/// A negation or a word of possibility ("not", "не", "may", "может", "si").
fn is_hypothetical_or_negated(word: &str) -> bool {
    NEGATIONS.contains(&word) || HYPOTHETICAL.contains(&word)
}

fn participle(word: &str) -> Option<Lang> {
    if EN_PARTICIPLES.contains(&word) {
        return Some(Lang::En);
    }
    if RU_PASSIVES.iter().any(|stem| {
        word.strip_prefix(stem).is_some_and(|rest| {
            [
                "о", "", "а", "ы", "ется", "ются", "ётся", "ено", "ен", "ена", "ены",
            ]
            .contains(&rest)
        })
    }) {
        return Some(Lang::Ru);
    }
    if FR_PARTICIPLES.iter().any(|stem| {
        word.strip_prefix(stem)
            .is_some_and(|rest| ["", "e", "s", "es"].contains(&rest))
    }) {
        return Some(Lang::Fr);
    }
    None
}

fn active_verb(word: &str) -> Option<Lang> {
    if EN_ACTIVE.contains(&word) {
        Some(Lang::En)
    } else if FR_ACTIVE.contains(&word) {
        Some(Lang::Fr)
    } else if RU_ACTIVE.contains(&word) {
        Some(Lang::Ru)
    } else {
        None
    }
}

pub(super) fn is_document_noun(word: &str) -> bool {
    if EN_FR_NOUNS.contains(&word) {
        return true;
    }
    RU_NOUN_STEMS.iter().any(|stem| {
        word.strip_prefix(stem)
            .is_some_and(|rest| rest.chars().count() <= 3)
    })
}

fn is_adverb(word: &str) -> bool {
    ADVERBS.contains(&word) || ALSO.contains(&word)
}

fn is_past_marker(word: &str) -> bool {
    PAST_MARKERS.iter().any(|m| word.starts_with(m))
}

fn is_cyrillic(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| ('\u{400}'..='\u{4ff}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::{match_sentence, own_kind};

    #[test]
    fn sentences_that_are_passages_in_four_languages() {
        let cases: &[(&str, &str, bool)] = &[
            ("The full text of this statement is transmitted to UNESCO.", "UNESCO.", false),
            ("Copies are being sent to the OSCE.", "the OSCE.", true),
            ("A copy has been forwarded to UNICEF.", "UNICEF.", true),
            ("Копии направлены в ЮНЕСКО.", "в ЮНЕСКО.", true),
            ("This statement of the Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan is being sent to the OSCE.", "the OSCE.", false),
            ("This statement, together with the report, is addressed to UNESCO.", "UNESCO.", false),
            ("The statement is also being distributed to embassies in Baku.", "embassies in Baku.", true),
            ("This statement is addressed, for their information, to the OSCE.", "the OSCE.", false),
            ("Le texte de la présente déclaration est envoyé à l'UNESCO.", "l'UNESCO.", false),
            ("Nous faisons parvenir la présente déclaration au Conseil de l'Europe.", "au Conseil de l'Europe.", false),
            ("Par la présente, nous adressons cette déclaration à l'OSCE.", "l'OSCE.", false),
            ("La présente déclaration sera également transmise aux ambassades.", "aux ambassades.", true),
("Мы направили настоящее заявление в ОБСЕ.", "в ОБСЕ.", false),
                        ("Текст настоящего заявления направлен в ЮНЕСКО.", "в ЮНЕСКО.", false),
            ("Данное обращение направляется в адрес Генерального секретаря ООН.", "в адрес Генерального секретаря ООН.", false),
            ("Bu müraciət BMT Baş Katibinə, həmçinin ATƏT-ə ünvanlanıb.", "BMT Baş Katibinə, həmçinin ATƏT-ə", false),
            ("Biz bu bəyanatı Avropa Şurasına göndəririk.", "Avropa Şurasına", false),
            ("Bəyanat aşağıdakı ünvanlara göndərilir: BMT, ATƏT.", ": BMT, ATƏT.", false),
            // English: the document as subject.
            (
                "This Statement is addressed to the UN Secretary-General.",
                "the UN Secretary-General.",
                false,
            ),
            (
                "This appeal is sent to UNICEF and the International Ombudsman Institute.",
                "UNICEF and the International Ombudsman Institute.",
                false,
            ),
            (
                "The statement has been sent to the Council of Europe.",
                "the Council of Europe.",
                false,
            ),
            (
                "The present letter will be transmitted to the OSCE.",
                "the OSCE.",
                false,
            ),
            (
                "This open letter is being forwarded to UNESCO.",
                "UNESCO.",
                false,
            ),
            (
                "This report is directed to the European Union.",
                "the European Union.",
                false,
            ),
            (
                "Copies of this statement are being sent to the OSCE.",
                "the OSCE.",
                true,
            ),
            (
                "A copy of the present appeal is forwarded to UNICEF.",
                "UNICEF.",
                true,
            ),
            (
                "The statement is also addressed to: the European Union",
                ": the European Union",
                true,
            ),
            (
                "Finally, this statement is addressed simultaneously to the UN and the OSCE.",
                "the UN and the OSCE.",
                false,
            ),
            (
                "This statement by the Commissioner is addressed to the UN.",
                "the UN.",
                false,
            ),
            (
                "THIS STATEMENT IS ADDRESSED TO THE COUNCIL OF EUROPE.",
                "THE COUNCIL OF EUROPE.",
                false,
            ),
            (
                "This statement, adopted today, is sent to the OSCE.",
                "the OSCE.",
                false,
            ),
            // English: the author.
            (
                "We address this statement to the UN Secretary-General.",
                "the UN Secretary-General.",
                false,
            ),
            ("We hereby send this appeal to UNICEF.", "UNICEF.", false),
            (
                "I am transmitting this appeal to the Council of Europe.",
                "the Council of Europe.",
                false,
            ),
            (
                "We are sending copies of this statement to the OSCE.",
                "the OSCE.",
                true,
            ),
            (
                "We have sent the present statement to UNESCO.",
                "UNESCO.",
                false,
            ),
            (
                "The Ombudsman also forwards this statement to the OIC.",
                "the OIC.",
                true,
            ),
            // French.
            (
                "La présente déclaration est adressée au Conseil de l'Europe.",
                "au Conseil de l'Europe.",
                false,
            ),
            (
                "La présente déclaration est transmise à l'UNESCO et à l'UNICEF.",
                "l'UNESCO et à l'UNICEF.",
                false,
            ),
            (
                "Cette déclaration est envoyée aux institutions nationales.",
                "aux institutions nationales.",
                false,
            ),
            (
                "Le présent appel a été adressé au Secrétaire général de l'ONU.",
                "au Secrétaire général de l'ONU.",
                false,
            ),
            (
                "Cette lettre ouverte est également transmise à l'OSCE.",
                "l'OSCE.",
                true,
            ),
            (
                "Copie de la présente déclaration est adressée au Conseil de l'Europe.",
                "au Conseil de l'Europe.",
                true,
            ),
            (
                "Nous adressons la présente déclaration au Conseil de l'Europe.",
                "au Conseil de l'Europe.",
                false,
            ),
            ("J'adresse cet appel à l'UNESCO.", "l'UNESCO.", false),
            // Russian.
            (
                "Настоящее заявление адресовано Генеральному секретарю ООН.",
                "Генеральному секретарю ООН.",
                false,
            ),
            (
                "Данное обращение направлено в Совет Европы и ОБСЕ.",
                "в Совет Европы и ОБСЕ.",
                false,
            ),
            (
                "Это заявление также направляется в ЮНЕСКО.",
                "в ЮНЕСКО.",
                true,
            ),
            (
                "Копии настоящего заявления направлены в ОБСЕ.",
                "в ОБСЕ.",
                true,
            ),
            (
                "Мы направляем настоящее заявление в Совет Европы.",
                "в Совет Европы.",
                false,
            ),
            (
                "Настоящее заявление мы направляем Генеральному секретарю ООН.",
                "Генеральному секретарю ООН.",
                false,
            ),
            ("Заявление направлено в ОБСЕ.", "в ОБСЕ.", false),
            // Azerbaijani.
            (
                "Bu Bəyanat BMT Baş Katibinə və Avropa Şurasına ünvanlanır.",
                "BMT Baş Katibinə və Avropa Şurasına",
                false,
            ),
            ("Bəyanat həmçinin ATƏT-ə göndərilir.", "ATƏT-ə", true),
            (
                "Bu bəyanatı BMT-yə və UNESCO-ya göndəririk.",
                "BMT-yə və UNESCO-ya",
                false,
            ),
            (
                "Bəyanatın surəti Avropa Şurasına göndərilmişdir.",
                "Avropa Şurasına",
                true,
            ),
            ("İşbu müraciət UNICEF-ə təqdim edilir.", "UNICEF-ə", false),
            ("Copie de la présente est adressée à l'UNICEF.", "l'UNICEF.", true),
            ("La présente est transmise au HCR.", "au HCR.", false),
            ("Bəyanatın mətni UNESCO-ya göndərilib.", "UNESCO-ya", false),
            ("Ombudsman bu bəyanatı UNESCO-ya ünvanlayıb.", "UNESCO-ya", false),
            ("Müvəkkil bu müraciəti ATƏT-ə göndərir.", "ATƏT-ə", false),
            ("Настоящее заявление доведено до сведения ЮНЕСКО.", "ЮНЕСКО.", false),
            ("This statement has been shared with UNESCO.", "UNESCO.", false),
            (
                "Le présent appel est également porté à l'attention de l'OSCE.",
                "l'attention de l'OSCE.",
                true,
            ),
            // A clause of its own after the verb.
            (
                "Bu açıq məktubu Avropa İttifaqına və ATƏT-ə göndəririk və sizi dəstəyə çağırırıq.",
                "Avropa İttifaqına və ATƏT-ə",
                false,
            ),
            (
                "Bəyanat UNICEF-ə göndərilir, çünki uşaqların hüquqları pozulur.",
                "UNICEF-ə",
                false,
            ),
        ];
        for (sentence, list, copies) in cases {
            let hit =
                match_sentence(sentence).unwrap_or_else(|| panic!("not a passage: `{sentence}`"));
            assert_eq!(&sentence[hit.list.0..hit.list.1], *list, "`{sentence}`");
            assert_eq!(hit.copies, *copies, "`{sentence}`");
        }
    }

    #[test]
    fn sentences_about_other_documents_or_past_events_are_not_passages() {
        let cases: &[&str] = &[
            "Our previous appeal was addressed to the Council of Europe and the OSCE.",
            "We send the report to the OSCE every year.",
            "This appeal is regularly sent to the OSCE.",
            "Was this statement sent to the OSCE?",
            "The minister said: “This statement is addressed to the OSCE.”",
            "He wrote: \"This letter is sent to UNESCO.\"",
            "Ежегодно данный доклад направляется в ОБСЕ.",
            "This appeal was sent to the OSCE in 2019, but nothing was done.",
            "Cet appel fut adressé au Conseil de l'Europe.",
            "Это обращение было направлено в ОБСЕ.",
            "Мы направили это обращение в ОБСЕ.",
            "The appeal of the families is addressed to the ICRC.",
            "La déclaration du Médiateur est adressée au Parlement.",
            "Заявление МИД направлено в ООН.",
            "These appeals are addressed to the ICRC.",
            "The Ombudsman has repeatedly sent appeals to the UN.",
            "Letters have been sent to the OSCE.",
            "Copies of the report were sent to the OSCE.",
            "He said copies are sent to the OSCE.",
            "Applications addressed to the Commissioner are considered within a month.",
            "The letter we sent last year to the minister remained unanswered.",
            "In this statement we refer to the letter addressed to the UN.",
            "The previous statement was sent to the OSCE.",
            "The statement was sent to the OSCE in 2019.",
            "Last year this statement was sent to the OSCE.",
            "Complaints are addressed to the Ombudsman every day.",
            "This office has addressed many letters to the ministry.",
            "The report, which was addressed to the Council of Europe, remains unanswered.",
            "We sent a letter to the Council of Europe.",
            "We address the issue to the government.",
            "This statement is not addressed to the OSCE.",
            "This statement is sent in order to inform the public.",
            "Наше предыдущее обращение было направлено в Совет Европы.",
            "Ранее мы направили настоящее заявление в ОБСЕ.",
            "Обращения, адресованные Уполномоченному, рассматриваются в срок.",
            "Notre précédent appel a été adressé au Conseil de l'Europe.",
            "Les demandes adressées au Médiateur sont examinées.",
            "Əvvəlki müraciətimiz Avropa Şurasına ünvanlanmışdı.",
            "Bu müraciət Avropa Şurasına ünvanlanmışdı, lakin cavab verilmədi.",
            "Настоящее заявление может быть направлено в ОБСЕ.",
            "Ombudsman keçən il bu bəyanatı ATƏT-ə göndərib.",
            "Если настоящее заявление будет направлено в ОБСЕ, просим приложить список.",
            "Si la présente déclaration devait être transmise à l'OSCE, merci de joindre la liste.",
            "This statement may be forwarded to the OSCE.",
            "Bu bəyanat Avropa Şurasına göndərildi.",
            "Müraciətlər Ombudsmana ünvanlanır.",
            "It was a statement of principle.",
            "",
        ];
        for sentence in cases {
            assert!(
                match_sentence(sentence).is_none(),
                "a passage: `{sentence}`"
            );
        }
    }

    #[test]
    fn only_this_statement_s_kind_of_document_goes_with_a_bare_the() {
        let cases: &[(&str, &str, bool)] = &[
            ("statement", "On the mines of Lachin", true),
            ("appeal", "On the mines of Lachin", true),
            ("заявление", "О минах", true),
            ("bəyanat", "Minalar haqqında", true),
            ("report", "On the mines of Lachin", false),
            ("report", "Press statement on the annual report", true),
            ("letter", "Open letter on cultural property", true),
            (
                "resolution",
                "Statement on the resolution's anniversary",
                true,
            ),
            ("resolution", "Statement on peace", false),
            ("доклад", "Заявление о минах", false),
            ("hesabat", "Bəyanat", false),
        ];
        for (noun, title, expected) in cases {
            assert_eq!(own_kind(noun, title), *expected, "`{noun}` under `{title}`");
        }
    }
}
