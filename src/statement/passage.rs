//! Finding the addressee passage the way a clerk does, in English, French, Russian and
//! Azerbaijani, anywhere in the text. Pure.
//!
//! A sentence is an addressee passage only when its subject is this document ("This statement is
//! addressed to …", "La présente déclaration est transmise à …", "Настоящее заявление адресовано
//! …", "Bu Bəyanat … ünvanlanır") or its author acting on this document now ("We address this
//! statement to …", "Nous adressons la présente déclaration à …", "Мы направляем настоящее
//! заявление …", "Bu bəyanatı … göndəririk"). A line opening with a heading ("Addressees:",
//! "Destinataires :", "Адресаты:", "Ünvanlar:") introduces a list. Every rule asks for the
//! document itself: "Our previous appeal was addressed to …", "applications addressed to the
//! Commissioner" or "the letter we sent last year to …" name other documents or past events and
//! are never passages. Copies ("Copies of this statement are sent to …", "Copy to:") and
//! additions ("… is also sent to …") add to the addressees rather than compete with them.
//!
//! The rules are word classes (determiners, document nouns, auxiliaries, dispatch verbs,
//! prepositions) and the order they must come in; the tables are at the bottom.

use super::{AddresseeSource, Block};

/// How a passage was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recognised {
    /// The document is the subject: "This statement is addressed to …".
    Document,
    /// The author acts on the document: "We address this statement to …".
    Author,
    /// A heading introduces a list: "Addressees:".
    Heading,
    /// Front matter `addressees = [...]`.
    FrontMatter,
    /// The title: "Open letter to the Council of Europe".
    Title,
}

impl Recognised {
    pub fn as_str(self) -> &'static str {
        match self {
            Recognised::Document => "document",
            Recognised::Author => "author",
            Recognised::Heading => "heading",
            Recognised::FrontMatter => "front matter",
            Recognised::Title => "title",
        }
    }
}

/// A passage naming addressees, where it stands in the file, and the text to split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    pub recognised: Recognised,
    /// Copies and additions ("Copy to:", "… is also sent to …"): they add to the addressees
    /// named elsewhere instead of competing with them.
    pub copies: bool,
    /// File line numbers (1-based) of its first and last lines.
    pub first_line: usize,
    pub last_line: usize,
    /// The passage as written, its lines joined by single spaces.
    pub text: String,
    /// What names the addressees: a line break in it separates list items.
    pub source: AddresseeSource,
    /// (byte offset in the source text, file line) of each of its lines.
    pub(crate) line_starts: Vec<(usize, usize)>,
}

impl Passage {
    /// The file line of a byte offset into the source text.
    pub fn line_at(&self, offset: usize) -> usize {
        self.line_starts
            .iter()
            .take_while(|(start, _)| *start <= offset)
            .last()
            .map_or(self.first_line, |&(_, line)| line)
    }
}

/// The passages of a statement's blocks, with the lines they use up.
pub(crate) struct Found {
    pub passages: Vec<Passage>,
    /// Per block, per line: the line belongs to a passage and not to the body.
    pub used: Vec<Vec<bool>>,
    /// Blocks whose body text holds a passage sentence (kept in the body, never a signature).
    pub containing: Vec<bool>,
}

pub(crate) fn find(blocks: &[Block], title: &str) -> Found {
    let mut found = Found {
        passages: Vec::new(),
        used: blocks.iter().map(|b| vec![false; b.lines.len()]).collect(),
        containing: vec![false; blocks.len()],
    };
    for b in 0..blocks.len() {
        let block = &blocks[b];
        let heading_at = (0..block.lines.len())
            .find(|&l| !found.used[b][l] && heading(&block.lines[l]).is_some());
        let prose_end = heading_at.unwrap_or(block.lines.len());
        let prose: Vec<usize> = (0..prose_end).filter(|&l| !found.used[b][l]).collect();
        if !prose.is_empty() {
            find_sentences(blocks, b, &prose, title, &mut found);
        }
        let mut l = prose_end;
        while l < block.lines.len() {
            if found.used[b][l] {
                l += 1;
                continue;
            }
            match heading(&block.lines[l]) {
                Some((copies, inline)) => {
                    l = take_heading(blocks, b, l, copies, inline, &mut found)
                }
                None => l += 1,
            }
        }
    }
    found
}

/// A title naming its addressees: "(Open) letter to …", "Appeal to …", "Lettre ouverte au …",
/// "Обращение к …", up to what the title is about ("… on the return of …").
pub(crate) fn from_title(title: &str, line: usize) -> Option<Passage> {
    let toks = tokens(title);
    let mut i = 0;
    let word = |i: usize| toks.get(i).map(|t| t.word.as_str());
    while word(i).is_some_and(|w| ADJECTIVES.contains(&w)) {
        i += 1;
    }
    if !word(i).is_some_and(is_document_noun) {
        return None;
    }
    i += 1;
    while word(i).is_some_and(|w| POST_ADJECTIVES.contains(&w)) {
        i += 1;
    }
    let start = match word(i)? {
        "to" | "à" => Start::After(i),
        "au" | "aux" | "к" | "ко" => Start::At(i),
        "в" if word(i + 1) == Some("адрес") => Start::At(i),
        _ => return None,
    };
    let from = start.offset(&toks, title);
    let rest = &title[from..];
    let folded = fold(rest);
    let cut = TITLE_TOPICS
        .iter()
        .filter_map(|t| folded.find(t))
        .min()
        .filter(|&at| folded.len() == rest.len() && at > 0)
        .unwrap_or(rest.len());
    let list = rest[..cut].trim_end_matches([' ', ',', ':', '.']);
    if list.trim().is_empty() {
        return None;
    }
    Some(Passage {
        recognised: Recognised::Title,
        copies: false,
        first_line: line,
        last_line: line,
        text: title.to_string(),
        source: AddresseeSource::Sentence(list.to_string()),
        line_starts: vec![(0, line)],
    })
}

/// Words after which a title says what it is about rather than whom it addresses.
const TITLE_TOPICS: &[&str] = &[
    " on ",
    " regarding ",
    " concerning ",
    " about ",
    " in connection with ",
    " — ",
    " – ",
    ": ",
    " sur ",
    " concernant ",
    " au sujet ",
    " о ",
    " об ",
    " по поводу ",
    " в связи с ",
];

/// The list under a heading at line `l` of block `b`; returns the next line to look at.
fn take_heading(
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
    let mut end = l + 1;
    while end < block.lines.len() && heading(&block.lines[end]).is_none() {
        list.push(&block.lines[end], block.numbers[end]);
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

/// The list in the blocks after block `b`: the next one, and then those that continue it with
/// bullets or numbers. Returns the last line taken.
fn take_following_blocks(
    blocks: &[Block],
    b: usize,
    list: &mut ListBuilder,
    found: &mut Found,
) -> Option<usize> {
    let mut last = None;
    for (next, block) in blocks.iter().enumerate().skip(b + 1) {
        let first = next == b + 1;
        let itemised = block.lines.iter().all(|l| is_item_line(l));
        if !first && !itemised {
            break;
        }
        if block.lines.iter().any(|l| heading(l).is_some()) {
            break;
        }
        for (k, line) in block.lines.iter().enumerate() {
            list.push(line, block.numbers[k]);
            found.used[next][k] = true;
        }
        last = block.numbers.last().copied();
        if !itemised {
            break;
        }
    }
    last
}

/// A line opening with a bullet or a number ("- ", "• ", "1.", "a)", "(iii)").
pub(crate) fn is_item_line(line: &str) -> bool {
    let first = line.split_whitespace().next().unwrap_or("");
    crate::addressees::is_list_marker(first)
        || first.starts_with(['•', '·', '▪', '◦', '●', '‣', '⁃', '–', '—'])
}

/// Collects list lines into one source text, remembering where each line starts.
#[derive(Default)]
struct ListBuilder {
    text: String,
    line_starts: Vec<(usize, usize)>,
}

impl ListBuilder {
    fn push(&mut self, line: &str, number: usize) {
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.line_starts.push((self.text.len(), number));
        self.text.push_str(line.trim());
    }

    fn is_empty(&self) -> bool {
        self.text.trim().is_empty()
    }

    fn display(&self) -> String {
        self.text.split('\n').collect::<Vec<_>>().join(" ")
    }

    fn passage(
        self,
        recognised: Recognised,
        copies: bool,
        first_line: usize,
        last_line: usize,
        text: String,
    ) -> Passage {
        Passage {
            recognised,
            copies,
            first_line,
            last_line,
            text,
            source: AddresseeSource::Sentence(self.text),
            line_starts: self.line_starts,
        }
    }
}

/// If `line` opens with an addressee heading: whether it introduces copies, and the byte offset
/// where the list starts on the same line.
pub(crate) fn heading(line: &str) -> Option<(bool, usize)> {
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

/// The sentences of block `b`'s prose lines that are passages.
fn find_sentences(blocks: &[Block], b: usize, lines: &[usize], title: &str, found: &mut Found) {
    let block = &blocks[b];
    // The paragraph with its line breaks kept, and where each line starts.
    let mut paragraph = String::new();
    let mut starts = Vec::new();
    for &l in lines {
        if !paragraph.is_empty() {
            paragraph.push('\n');
        }
        starts.push((paragraph.len(), l));
        paragraph.push_str(&block.lines[l]);
    }
    let number_at = |offset: usize| {
        let l = starts
            .iter()
            .take_while(|(s, _)| *s <= offset)
            .last()
            .map_or(lines[0], |&(_, l)| l);
        block.numbers[l]
    };
    let mut covered_to = 0;
    for (start, end) in super::sentences(&paragraph) {
        if start < covered_to {
            continue;
        }
        let Some(hit) = match_sentence(&paragraph[start..end]) else {
            continue;
        };
        if hit
            .weak_noun
            .as_deref()
            .is_some_and(|noun| !own_kind(noun, title))
        {
            continue;
        }
        let list_start = start + hit.list.0;
        let list_end = start + hit.list.1;
        let first_line = number_at(start);
        if let Some(colon) = colon_intro(&paragraph[list_start..list_end]) {
            // "… addressed to the following institutions:" and a list, which runs to the end of
            // the paragraph whatever ends its items, or fills the paragraphs after it.
            let from = list_start + colon + 1;
            let to = if hit.list_at_end {
                paragraph.len()
            } else {
                list_end
            };
            let mut list = ListBuilder::default();
            let mut offset = from;
            for piece in paragraph[from..to].split('\n') {
                if !piece.trim().is_empty() {
                    list.push(piece, number_at(offset));
                }
                offset += piece.len() + 1;
            }
            let mut last_line = number_at(to.saturating_sub(1).max(from));
            let mut text = collapse(&paragraph[start..to]);
            mark_used(found, b, &starts, start, to, true);
            if list.is_empty() && to == paragraph.len() {
                if let Some(last) = take_following_blocks(blocks, b, &mut list, found) {
                    last_line = last;
                    text.push(' ');
                    text.push_str(&list.display());
                }
            }
            if !list.is_empty() {
                found.passages.push(list.passage(
                    hit.recognised,
                    hit.copies,
                    first_line,
                    last_line,
                    text,
                ));
            }
            covered_to = to;
            continue;
        }
        // Prose: a line break inside the sentence is a space (same length, so offsets hold); the
        // list stops where a clause of its own starts ("…, in the hope that …").
        let list_end = list_start + clause_cut(&paragraph[list_start..list_end]);
        let source = paragraph[list_start..list_end]
            .trim_end()
            .trim_end_matches(['.', '!', '?', ';'])
            .replace('\n', " ");
        if source.trim().is_empty() {
            continue;
        }
        let mut line_starts = vec![(0, number_at(list_start))];
        for &(s, l) in &starts {
            if s > list_start && s < list_start + source.len() {
                line_starts.push((s - list_start, block.numbers[l]));
            }
        }
        mark_used(found, b, &starts, start, end, false);
        found.passages.push(Passage {
            recognised: hit.recognised,
            copies: hit.copies,
            first_line,
            last_line: number_at(end.saturating_sub(1)),
            text: collapse(&paragraph[start..end]),
            source: AddresseeSource::Sentence(source),
            line_starts,
        });
        covered_to = end;
    }
}

/// A passage opening its paragraph takes the whole paragraph out of the body (what follows it
/// are its own remarks); one inside a paragraph leaves it in the body, except the lines of a
/// list it introduces.
fn mark_used(
    found: &mut Found,
    b: usize,
    starts: &[(usize, usize)],
    start: usize,
    end: usize,
    list: bool,
) {
    if start == 0 {
        for &(_, l) in starts {
            found.used[b][l] = true;
        }
        return;
    }
    found.containing[b] = true;
    if list {
        for &(s, l) in starts {
            if s > start && s < end {
                found.used[b][l] = true;
            }
        }
    }
}

/// The length of the list before a clause of its own starts in it: "…, in the hope that they
/// …", "… and call on them to …", "… с просьбой …", "… afin de …".
fn clause_cut(list: &str) -> usize {
    let starts = list
        .char_indices()
        .filter(|&(i, c)| i > 0 && !c.is_whitespace() && list[..i].ends_with([' ', '\n']))
        .map(|(i, _)| i);
    for at in starts {
        let rest = fold(&list[at..]);
        let bounded = |after: &str| after.is_empty() || after.starts_with([' ', ',', '\n']);
        // A clause of its own: a word that opens one, or a subject pronoun before a verb in
        // lower case ("…, and we ask"; "Committee I, …" is a name).
        let pronoun = SUBJECT_PRONOUNS.iter().any(|c| {
            rest.strip_prefix(c).is_some_and(|after| {
                after.starts_with(' ')
                    && list
                        .get(at + c.len() + 1..)
                        .is_some_and(|verb| verb.starts_with(char::is_lowercase))
            })
        });
        let clause = pronoun
            || CLAUSE_STARTS
                .iter()
                .any(|c| rest.strip_prefix(c).is_some_and(bounded));
        if clause {
            let mut kept = list[..at].trim_end_matches([' ', ',', ';', '\n', '—', '–']);
            // "…, and" before the clause belongs to it.
            if let Some((head, last)) = kept.rsplit_once([' ', '\n']) {
                if ["and", "et", "и", "və", "а"].contains(&fold(last).as_str()) {
                    kept = head.trim_end_matches([' ', ',', ';', '\n']);
                }
            }
            return kept.len();
        }
    }
    list.len()
}

/// Where a colon introduces the list in the text after the verb: at its start ("to: A, B") or
/// after words announcing it ("to the following institutions:"). `None` when there is none.
fn colon_intro(list: &str) -> Option<usize> {
    let colon = list.find(':')?;
    let before = fold(&list[..colon]);
    let words: Vec<&str> = before.split_whitespace().collect();
    let announces = words.is_empty()
        || words
            .iter()
            .all(|w| PREPOSITIONS.contains(w) || ARTICLES.contains(w))
        || words
            .iter()
            .any(|w| FOLLOWING.iter().any(|f| w.starts_with(f)));
    announces.then_some(colon)
}

/// A sentence that is a passage: how, whether it adds copies, and the byte range of the text
/// naming the addressees.
#[derive(Debug)]
struct Hit {
    recognised: Recognised,
    copies: bool,
    list: (usize, usize),
    /// The addressees run to the end of the sentence (so a colon list may run further).
    list_at_end: bool,
    /// The document noun, when only "the" (or nothing, in Russian and Azerbaijani) points at it:
    /// then it must be this statement's kind of document.
    weak_noun: Option<String>,
}

/// One word of a sentence: its byte range and its folded form without surrounding punctuation.
#[derive(Debug, Clone)]
struct Tok {
    start: usize,
    end: usize,
    word: String,
    /// A comma, colon or semicolon right after it.
    pause: bool,
}

fn tokens(sentence: &str) -> Vec<Tok> {
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
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter(|&c| c != '\u{307}')
        .map(|c| if c == '’' || c == 'ʼ' { '\'' } else { c })
        .collect()
}

/// A passage sentence, or none. A question, a habit ("every year") or a quotation is never one.
fn match_sentence(sentence: &str) -> Option<Hit> {
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
fn own_kind(noun: &str, title: &str) -> bool {
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
        let Some(subject) = subject_before(toks, j) else {
            continue;
        };
        if subject.weak && past {
            continue;
        }
        if toks[..p]
            .iter()
            .any(|t| is_past_marker(&t.word) || NEGATIONS.contains(&t.word.as_str()))
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
            .any(|t| is_past_marker(&t.word) || NEGATIONS.contains(&t.word.as_str()))
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
        if let Some(object) = object_at(toks, o) {
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

/// Azerbaijani puts the verb last and the addressees before it: "Bu Bəyanat … ünvanlanır",
/// "Bəyanatın surəti … göndərilir", "Bu bəyanatı … göndəririk".
fn azerbaijani(all: &[Tok], sentence: &str) -> Option<Hit> {
    // The verb is last, or last before a colon that opens the list.
    let colon = sentence.find(':');
    let head_end = colon.unwrap_or(sentence.len());
    let toks: Vec<Tok> = all.iter().filter(|t| t.end <= head_end).cloned().collect();
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
            // "Bəyanatın surəti": a copy of the document.
            let next = toks.get(after)?.word.as_str();
            let wanted: &[&str] = if active {
                &["surətini", "surətlərini"]
            } else {
                &["surəti", "surətləri"]
            };
            if !wanted.contains(&next) {
                return None;
            }
            copies = true;
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
        .any(|t| is_past_marker(&t.word) || NEGATIONS.contains(&t.word.as_str()))
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
    stems.iter().any(|s| {
        verb.strip_prefix(s)
            .is_some_and(|rest| AZ_PERSON.contains(&rest))
    })
}

/// A present, perfect or future passive form ("-ır", "-ib", "-mişdir", "-əcək"); never a simple
/// past ("-dı") or a pluperfect ("-mışdı"), which tell of an earlier document.
fn az_tense(verb: &str, stems: &[&str]) -> bool {
    stems.iter().any(|s| {
        verb.strip_prefix(s)
            .is_some_and(|rest| AZ_PASSIVE_TENSES.contains(&rest))
    })
}

/// The document as subject, ending just before token `j`: "[copies of] this [open] statement [of
/// the Commissioner]".
struct Subject {
    weak: bool,
    copies: bool,
    /// The document noun ("statement", "report").
    noun: String,
}

fn subject_before(toks: &[Tok], j: usize) -> Option<Subject> {
    // The nearest document noun before `j` that makes a subject, with only a short qualifier
    // ("of the Commissioner", "by our office", ", together with the report,") and no clause of
    // its own in between.
    let mut k = j;
    let mut steps = 0;
    while k > 0 && steps <= 16 {
        k -= 1;
        steps += 1;
        let w = toks[k].word.as_str();
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

/// The document as object, from token `o`: "[copies of] this [open] statement".
struct Object {
    end: usize,
    copies: bool,
    /// Only "the" (or, in Russian, nothing) points at it.
    weak: bool,
    noun: String,
}

fn object_at(toks: &[Tok], o: usize) -> Option<Object> {
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

/// Where the addressees start: at a token, or right after it (keeping a colon that follows it).
#[derive(Debug, Clone, Copy)]
enum Start {
    At(usize),
    After(usize),
}

impl Start {
    fn offset(self, toks: &[Tok], sentence: &str) -> usize {
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

fn is_document_noun(word: &str) -> bool {
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

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

// The tables. Words are folded (lower case, straight apostrophes).

/// Headings that introduce a list: (heading, introduces copies, may stand alone on its line
/// without a colon).
const HEADINGS: &[(&str, bool, bool)] = &[
    ("addressees", false, true),
    ("addressee", false, false),
    ("addressed to", false, false),
    ("distribution list", false, true),
    ("distribution", false, true),
    ("recipients", false, true),
    ("recipient", false, false),
    ("sent to", false, false),
    ("to", false, false),
    ("copies to", true, false),
    ("copy to", true, false),
    ("copies", true, false),
    ("copy", true, false),
    ("cc", true, false),
    ("c.c.", true, false),
    ("destinataires", false, true),
    ("destinataire", false, false),
    ("adressée à", false, false),
    ("adressé à", false, false),
    ("liste de diffusion", false, true),
    ("diffusion", false, true),
    ("copie à", true, false),
    ("copies à", true, false),
    ("copie", true, false),
    ("ampliation", true, false),
    ("à", false, false),
    ("адресаты", false, true),
    ("адресат", false, false),
    ("адресовано", false, false),
    ("список рассылки", false, true),
    ("рассылка", false, true),
    ("получатели", false, true),
    ("кому", false, false),
    ("копия", true, false),
    ("копии", true, false),
    ("ünvanlar", false, true),
    ("ünvan", false, false),
    ("ünvanlanır", false, false),
    ("göndərilir", false, false),
    ("paylanma siyahısı", false, true),
    ("paylama siyahısı", false, true),
    ("alıcılar", false, true),
    ("kimə", false, false),
    ("surəti", true, false),
    ("surət", true, false),
];

/// Nouns that name a statement-like document (English and French; Russian below by stems).
const EN_FR_NOUNS: &[&str] = &[
    "statement",
    "statements",
    "appeal",
    "appeals",
    "letter",
    "letters",
    "declaration",
    "declarations",
    "report",
    "address",
    "communication",
    "communique",
    "communiqué",
    "message",
    "petition",
    "memorandum",
    "note",
    "submission",
    "release",
    "text",
    "document",
    "resolution",
    "call",
    "plea",
    "déclaration",
    "appel",
    "lettre",
    "rapport",
    "adresse",
    "pétition",
    "mémorandum",
    "texte",
    "résolution",
    "requête",
    "communiqué",
];

const RU_NOUN_STEMS: &[&str] = &[
    "заявлени",
    "обращени",
    "письм",
    "деклараци",
    "доклад",
    "отчет",
    "отчёт",
    "послани",
    "сообщени",
    "воззвани",
    "петици",
    "меморандум",
    "документ",
    "текст",
    "призыв",
    "резолюци",
];

const AZ_NOUNS: &[&str] = &[
    "bəyanat",
    "müraciət",
    "məktub",
    "hesabat",
    "məruzə",
    "çağırış",
    "sənəd",
    "mətn",
    "petisiya",
    "memorandum",
    "açıqlama",
];

/// Determiners that point at this very document.
const STRONG_DETERMINERS: &[&str] = &[
    "this",
    "these",
    "cette",
    "ce",
    "cet",
    "ces",
    "настоящее",
    "настоящий",
    "настоящая",
    "настоящие",
    "настоящего",
    "настоящей",
    "настоящих",
    "данное",
    "данный",
    "данная",
    "данные",
    "данного",
    "данной",
    "данных",
    "это",
    "этот",
    "эта",
    "эти",
    "этого",
    "этой",
    "этих",
];

/// "the", which points at this document only in the present ("The statement is sent to …").
const WEAK_DETERMINERS: &[&str] = &["the", "la", "le", "les", "l'"];

/// Adjectives allowed between determiner and noun; those of `PRESENT_ADJECTIVES` make "the" point
/// at this document ("the present statement", "la présente déclaration").
const ADJECTIVES: &[&str] = &[
    "complete",
    "press",
    "news",
    "final",
    "annual",
    "closing",
    "solemn",
    "present",
    "open",
    "joint",
    "public",
    "official",
    "current",
    "urgent",
    "special",
    "formal",
    "written",
    "full",
    "présente",
    "présent",
    "présentes",
    "открытое",
    "открытого",
    "совместное",
    "совместного",
    "официальное",
    "официального",
    "публичное",
];
const PRESENT_ADJECTIVES: &[&str] = &["present", "présente", "présent", "présentes"];
/// French adjectives after the noun ("lettre ouverte").
const POST_ADJECTIVES: &[&str] = &[
    "ouverte",
    "ouvertes",
    "conjointe",
    "conjointes",
    "publique",
    "publiques",
    "officielle",
    "commune",
    "présente",
    "présent",
];

/// The verbs' auxiliaries; `PAST_AUX` in a simple past, and `HAVE` for a perfect.
const AUX: &[&str] = &[
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "been",
    "be",
    "being",
    "will",
    "shall",
    "would",
    "should",
    "am",
    "est",
    "sont",
    "a",
    "ont",
    "été",
    "sera",
    "seront",
    "fut",
    "était",
    "sera",
    "va",
    "être",
    "было",
    "был",
    "была",
    "были",
    "будет",
    "будут",
];
const PAST_AUX: &[&str] = &[
    "was", "were", "had", "fut", "était", "было", "был", "была", "были",
];
const HAVE: &[&str] = &["have", "has", "avons", "ai", "a", "ont", "avez"];

const ALSO: &[&str] = &[
    "also",
    "additionally",
    "too",
    "également",
    "aussi",
    "также",
    "тоже",
    "həmçinin",
    "də",
    "da",
];
const ADVERBS: &[&str] = &[
    "hereby",
    "herewith",
    "simultaneously",
    "today",
    "now",
    "further",
    "furthermore",
    "likewise",
    "officially",
    "formally",
    "respectfully",
    "accordingly",
    "therefore",
    "thus",
    "kindly",
    "concurrently",
    "hence",
    "being",
    "ainsi",
    "simultanément",
    "aujourd'hui",
    "donc",
    "officiellement",
    "ci-joint",
    "одновременно",
    "сегодня",
    "поэтому",
    "официально",
    "дополнительно",
    "ещё",
    "еще",
    "настоящим",
    "eyni",
    "zamanda",
    "rəsmi",
    "hereinafter",
];

/// English passive participles of dispatch verbs.
const EN_PARTICIPLES: &[&str] = &[
    "addressed",
    "sent",
    "transmitted",
    "forwarded",
    "submitted",
    "directed",
    "delivered",
    "distributed",
    "circulated",
    "communicated",
    "presented",
    "conveyed",
    "dispatched",
    "copied",
    "mailed",
    "emailed",
    "e-mailed",
    "shared",
    "remitted",
];
/// French participle stems, with -e, -s, -es agreement.
const FR_PARTICIPLES: &[&str] = &[
    "adressé",
    "envoyé",
    "transmis",
    "communiqué",
    "soumis",
    "remis",
    "destiné",
    "diffusé",
    "expédié",
    "adressee",
    "envoye",
];
/// Russian passive stems: short participles (-о, -а, -ы) and present passives (-ется, -ются).
const RU_PASSIVES: &[&str] = &[
    "адресован",
    "направлен",
    "отправлен",
    "разослан",
    "передан",
    "препровожден",
    "представлен",
    "вручен",
    "адресу",
    "направля",
    "отправля",
    "рассыла",
    "переда",
    "препровожда",
    "представля",
];

const EN_ACTIVE: &[&str] = &[
    "address",
    "addressing",
    "send",
    "sending",
    "forward",
    "forwarding",
    "transmit",
    "transmitting",
    "submit",
    "submitting",
    "direct",
    "directing",
    "deliver",
    "delivering",
    "distribute",
    "distributing",
    "circulate",
    "circulating",
    "communicate",
    "communicating",
    "convey",
    "conveying",
    "share",
    "sharing",
    "dispatch",
    "dispatching",
    "addresses",
    "sends",
    "forwards",
    "transmits",
    "submits",
    "directs",
    "delivers",
    "distributes",
    "circulates",
    "communicates",
    "conveys",
    "shares",
];
const FR_ACTIVE: &[&str] = &[
    "adressons",
    "adresse",
    "adressent",
    "envoyons",
    "envoie",
    "envoient",
    "transmettons",
    "transmets",
    "transmet",
    "transmettent",
    "communiquons",
    "communique",
    "soumettons",
    "soumets",
    "remettons",
    "diffusons",
    "parvenir",
];
const RU_ACTIVE: &[&str] = &[
    "направляем",
    "направляю",
    "направляет",
    "направляют",
    "адресуем",
    "адресую",
    "адресует",
    "отправляем",
    "отправляю",
    "передаём",
    "передаем",
    "передаю",
    "препровождаем",
    "рассылаем",
    "представляем",
    "направили",
    "направил",
    "направила",
    "адресовали",
    "отправили",
    "передали",
];

const AZ_PASSIVE_STEMS: &[&str] = &[
    "ünvanlan",
    "göndəril",
    "çatdırıl",
    "yönləndiril",
    "yönəldil",
    "ötürül",
    "paylanıl",
    "paylan",
    "istiqamətləndiril",
];
const AZ_PASSIVE_TENSES: &[&str] = &[
    "ır",
    "ir",
    "ur",
    "ür",
    "ıb",
    "ib",
    "ub",
    "üb",
    "mışdır",
    "mişdir",
    "muşdur",
    "müşdür",
    "acaq",
    "əcək",
    "acaqdır",
    "əcəkdir",
    "maqdadır",
    "məkdədir",
    "ar",
    "ər",
];
const AZ_ACTIVE_STEMS: &[&str] = &[
    "göndərir",
    "ünvanlayır",
    "çatdırır",
    "yönləndirir",
    "ötürür",
    "göndərəcə",
    "ünvanlayaca",
    "göndərmiş",
    "ünvanlamış",
    "təqdim",
];
const AZ_PERSON: &[&str] = &[
    "ik", "ıq", "uq", "ük", "əm", "am", "əyik", "ağıq", "ik.", "k", "q",
];
const AZ_DETERMINERS: &[&str] = &["bu", "hazırkı", "işbu", "həmin"];
const AZ_ADJECTIVES: &[&str] = &["açıq", "birgə", "rəsmi"];
const AZ_INTRO: &[&str] = &["həmçinin", "eyni", "zamanda", "beləliklə", "və"];

/// Words opening the addressees after the verb.
const PREPOSITIONS: &[&str] = &[
    "to", "unto", "à", "au", "aux", "auprès", "в", "во", "к", "ко", "на",
];
const ARTICLES: &[&str] = &["the", "la", "le", "les", "l'"];
/// Words announcing a list after a colon ("the following", "suivants", "следующим", "aşağıdakı").
const FOLLOWING: &[&str] = &[
    "following",
    "below",
    "suivant",
    "ci-dessous",
    "следующ",
    "ниже",
    "aşağıdakı",
];

/// Words of a habit, not of this document's dispatch: "We send our report to … every year".
const HABITUAL: &[&str] = &[
    "annually",
    "regularly",
    "usually",
    "always",
    "often",
    "routinely",
    "habitually",
    "régulièrement",
    "toujours",
    "habituellement",
    "ежегодно",
    "регулярно",
    "обычно",
    "всегда",
    "ежемесячно",
    "mütəmadi",
    "həmişə",
    "adətən",
];
const HABITUAL_PAIRS: &[(&str, &str)] = &[
    ("every", "year"),
    ("each", "year"),
    ("every", "month"),
    ("each", "month"),
    ("every", "week"),
    ("chaque", "année"),
    ("chaque", "mois"),
    ("каждый", "год"),
    ("каждый", "месяц"),
    ("hər", "il"),
    ("hər", "ay"),
];

/// Subject pronouns: a clause of its own starts with them.
const SUBJECT_PRONOUNS: &[&str] = &[
    "i", "we", "they", "nous", "je", "ils", "elles", "мы", "я", "они", "biz", "mən", "onlar",
];

/// Words opening a clause after the list of addressees: the list ends before them.
const CLAUSE_STARTS: &[&str] = &[
    "with our",
    "with their",
    "with my",
    "avec nos",
    "avec notre",
    "avec leur",
    "avec mes",
    "с нашими",
    "с нашей",
    "с уважением",
    "whose",
    "where",
    "whereby",
    "чья",
    "чьи",
    "чей",
    "dont",
    "in the hope",
    "hoping",
    "with the request",
    "with a request",
    "with a view",
    "calling on",
    "calling upon",
    "urging",
    "asking them",
    "requesting",
    "in order to",
    "so that",
    "which",
    "who",
    "whom",
    "and call",
    "and calls",
    "and urge",
    "and urges",
    "and ask",
    "and asks",
    "and request",
    "and requests",
    "and invite",
    "and invites",
    "for information",
    "for their information",
    "for their attention",
    "for consideration",
    "with the call",
    "dans l'espoir",
    "afin de",
    "afin qu'",
    "pour qu'",
    "pour que",
    "en les invitant",
    "en leur demandant",
    "et les invitons",
    "et les appelons",
    "et appelons",
    "et demandons",
    "avec la demande",
    "avec la prière",
    "pour information",
    "qui",
    "с просьбой",
    "с призывом",
    "призывая",
    "и призываем",
    "и просим",
    "и надеемся",
    "в надежде",
    "с тем чтобы",
    "чтобы",
    "для сведения",
    "для информации",
    "которые",
    "который",
    "которая",
    "которое",
    "чья",
    "чьи",
    "чей",
    "dont",
];

/// The document's text, which is the document: "the full text of this statement".
const TEXT_OF: &[&str] = &["text", "texte", "текст", "version", "wording"];

/// Copies of the document.
const COPIES: &[&str] = &[
    "copies",
    "copy",
    "copie",
    "copies",
    "копии",
    "копия",
    "копию",
];
const COPY_OF: &[&str] = &["of", "de", "du"];

/// Words before the subject that keep it the sentence's subject.
const INTRO: &[&str] = &[
    "and",
    "also",
    "finally",
    "therefore",
    "accordingly",
    "hence",
    "so",
    "thus",
    "moreover",
    "furthermore",
    "additionally",
    "lastly",
    "et",
    "enfin",
    "donc",
    "aussi",
    "ainsi",
    "и",
    "а",
    "поэтому",
    "итак",
    "также",
];
/// Prepositions opening a short qualifier after the noun ("of the Commissioner").
const QUALIFIER_PREPOSITIONS: &[&str] = &[
    "of", "by", "from", "on", "de", "du", "des", "par", "sur", "d'", "adopted", "issued", "signed",
];
/// Words that open a clause of their own: the noun before them is not the verb's subject.
const BLOCKERS: &[&str] = &[
    "which",
    "that",
    "who",
    "whom",
    "whose",
    "where",
    "when",
    "we",
    "i",
    "they",
    "he",
    "she",
    "you",
    "if",
    "whether",
    "qui",
    "que",
    "qu'",
    "dont",
    "où",
    "nous",
    "je",
    "j'",
    "ils",
    "elle",
    "il",
    "si",
    "который",
    "которое",
    "которая",
    "которые",
    "которого",
    "которой",
    "мы",
    "я",
    "они",
    "если",
    "когда",
    "ki",
];
const RELATIVES: &[&str] = &[
    "which",
    "that",
    "who",
    "qui",
    "que",
    "qu'",
    "который",
    "которое",
    "которая",
    "которые",
];
const PRONOUNS: &[&str] = &["we", "i", "nous", "je", "j'", "мы", "я", "biz", "mən"];
const NEGATIONS: &[&str] = &[
    "not", "never", "ne", "n'", "pas", "не", "ни", "deyil", "heç",
];
/// Words of an earlier time: a sentence holding one before its verb tells of another document.
const PAST_MARKERS: &[&str] = &[
    "previous",
    "previously",
    "earlier",
    "last",
    "former",
    "formerly",
    "ago",
    "yesterday",
    "précédent",
    "précédemment",
    "auparavant",
    "dernier",
    "dernière",
    "hier",
    "ранее",
    "прежде",
    "прошл",
    "предыдущ",
    "вчера",
    "əvvəl",
    "keçən",
    "öncə",
    "dünən",
];

#[cfg(test)]
mod tests {
    use super::match_sentence;

    #[test]
    fn sentences_that_are_passages_in_four_languages() {
        let cases: &[(&str, &str, bool)] = &[
            ("The full text of this statement is transmitted to UNESCO.", "UNESCO.", false),
            ("This statement of the Commissioner for Human Rights (Ombudsman) of the Republic of Azerbaijan is being sent to the OSCE.", "the OSCE.", false),
            ("This statement, together with the report, is addressed to UNESCO.", "UNESCO.", false),
            ("The statement is also being distributed to embassies in Baku.", "embassies in Baku.", true),
            ("This statement is addressed, for their information, to the OSCE.", "the OSCE.", false),
            ("Le texte de la présente déclaration est envoyé à l'UNESCO.", "l'UNESCO.", false),
            ("Nous faisons parvenir la présente déclaration au Conseil de l'Europe.", "au Conseil de l'Europe.", false),
            ("Par la présente, nous adressons cette déclaration à l'OSCE.", "l'OSCE.", false),
            ("La présente déclaration sera également transmise aux ambassades.", "aux ambassades.", true),
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
                "These statements are submitted to the UN Human Rights Council.",
                "the UN Human Rights Council.",
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
    fn a_list_stops_where_a_clause_of_its_own_starts() {
        use super::clause_cut;
        let cases: &[(&str, &str)] = &[
            (
                "the OSCE and UNESCO, in the hope that they act",
                "the OSCE and UNESCO",
            ),
            (
                "the OIC and UNESCO, and I ask them to send missions",
                "the OIC and UNESCO",
            ),
            (
                "the UNHCR and the OHCHR, whose support we count on",
                "the UNHCR and the OHCHR",
            ),
            (
                "l'UNESCO et l'OSCE, et nous leur demandons d'agir",
                "l'UNESCO et l'OSCE",
            ),
            ("aux ambassades, avec nos vœux", "aux ambassades"),
            (
                "в ЮНЕСКО и ОБСЕ и призываем их поддержать",
                "в ЮНЕСКО и ОБСЕ",
            ),
            (
                "посольствам с просьбой довести его содержание",
                "посольствам",
            ),
            (
                "the Ministry of Peace and Plenty",
                "the Ministry of Peace and Plenty",
            ),
            ("Committee I, UNESCO", "Committee I, UNESCO"),
        ];
        for (list, kept) in cases {
            assert_eq!(&list[..clause_cut(list)], *kept, "`{list}`");
        }
    }

    #[test]
    fn only_this_statement_s_kind_of_document_goes_with_a_bare_the() {
        use super::own_kind;
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

    #[test]
    fn titles_naming_their_addressees() {
        use super::from_title;
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Open letter to the Council of Europe",
                Some("the Council of Europe"),
            ),
            (
                "Open letter to the UN Secretary-General on the return of cultural property",
                Some("the UN Secretary-General"),
            ),
            (
                "Appeal to UNICEF and UNESCO — 27 May 2021",
                Some("UNICEF and UNESCO"),
            ),
            (
                "Lettre ouverte au Conseil de l'Europe sur les mines",
                Some("au Conseil de l'Europe"),
            ),
            (
                "Обращение к Генеральному секретарю ООН",
                Some("к Генеральному секретарю ООН"),
            ),
            ("Statement by the Ombudsman on the mines", None),
            ("Statement on the appeal to the OSCE", None),
            ("Заявление Уполномоченного по правам человека", None),
        ];
        for (title, list) in cases {
            let got = from_title(title, 1).map(|p| match p.source {
                crate::statement::AddresseeSource::Sentence(text) => text,
                crate::statement::AddresseeSource::List(_) => panic!("a list"),
            });
            assert_eq!(got.as_deref(), *list, "`{title}`");
        }
    }

    #[test]
    fn headings_in_four_languages() {
        use super::heading;
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
            // Not headings.
            ("To date, nothing was done.", None),
            ("Distribution of aid: unfair", None),
            ("Tomorrow: more", None),
            ("To", None),
            ("Recipients of the award were named.", None),
        ];
        for (line, expected) in cases {
            let got = heading(line).map(|(copies, at)| (copies, &line[at..]));
            assert_eq!(got, *expected, "`{line}`");
        }
    }
}
