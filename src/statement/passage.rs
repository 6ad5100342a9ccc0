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
//! This module walks the text's paragraphs: headings and the lists under them (one item per line,
//! or the next paragraph), sentences judged by [`super::sentence`] and the list they name (up to
//! a clause of their own, or the lines after a colon), a general audience that names no one, and
//! a title naming its addressees when the text names none. Each passage keeps its line numbers.
//! Headings and the lists under them are read in `heading`.

use super::sentence::{fold, is_document_noun, match_sentence, own_kind, tokens, Start};
use super::words::{
    ADJECTIVES, ARTICLES, AUDIENCES, AUDIENCE_GLUE, CLAUSE_STARTS, FOLLOWING, POST_ADJECTIVES,
    PREPOSITIONS, SUBJECT_PRONOUNS,
};
use super::{AddresseeSource, Block};

mod heading;

use heading::{heading, heading_in, take_heading};

/// How a passage was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Recognised {
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
    pub(crate) fn as_str(self) -> &'static str {
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
pub(crate) struct Passage {
    pub(crate) recognised: Recognised,
    /// Copies and additions ("Copy to:", "… is also sent to …"): they add to the addressees
    /// named elsewhere instead of competing with them.
    pub(crate) copies: bool,
    /// File line numbers (1-based) of its first and last lines.
    pub(crate) first_line: usize,
    pub(crate) last_line: usize,
    /// The passage as written, its lines joined by single spaces.
    pub(crate) text: String,
    /// What names the addressees: a line break in it separates list items.
    pub(crate) source: AddresseeSource,
    /// (byte offset in the source text, file line) of each of its lines.
    pub(crate) line_starts: Vec<(usize, usize)>,
}

impl Passage {
    /// The file line of a byte offset into the source text.
    pub(crate) fn line_at(&self, offset: usize) -> usize {
        // Line starts are in order: the last one at or before `offset`.
        let after = self
            .line_starts
            .partition_point(|&(start, _)| start <= offset);
        after
            .checked_sub(1)
            .map_or(self.first_line, |i| self.line_starts[i].1)
    }
}

/// The passages of a statement's blocks, with the lines they use up.
pub(crate) struct Found {
    pub(crate) passages: Vec<Passage>,
    /// Per block, per line: the line belongs to a passage and not to the body.
    pub(crate) used: Vec<Vec<bool>>,
    /// Blocks whose body text holds a passage sentence (kept in the body, never a signature).
    pub(crate) containing: Vec<bool>,
}

pub(crate) fn find(blocks: &[Block], title: &str) -> Found {
    let mut found = Found {
        passages: Vec::new(),
        used: blocks.iter().map(|b| vec![false; b.lines.len()]).collect(),
        containing: vec![false; blocks.len()],
    };
    for b in 0..blocks.len() {
        let block = &blocks[b];
        let heading_at =
            (0..block.lines.len()).find(|&l| !found.used[b][l] && heading_in(block, l).is_some());
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
            match heading_in(block, l) {
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

/// The list in the blocks after block `b`: the next one, and then those that continue it with
/// bullets or numbers. Returns the last line taken.
fn take_following_blocks(
    blocks: &[Block],
    b: usize,
    list: &mut ListBuilder,
    found: &mut Found,
) -> Option<usize> {
    let mut last = None;
    // The item taken last, when it stood alone on its line as a block of its own.
    let mut lone_item: Option<&str> = None;
    for (next, block) in blocks.iter().enumerate().skip(b + 1) {
        let first = next == b + 1;
        let itemised = block.lines.iter().all(|l| is_item_line(l));
        let lone = lone_item_line(block, lone_item);
        if !first && !itemised && (lone_item.is_none() || lone.is_none()) {
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
        if !itemised && lone.is_none() {
            break;
        }
        lone_item = lone;
    }
    last
}

/// A block that is one list item standing alone, as in a list whose items are spread over
/// paragraphs ("To:", blank line, "The European Union", blank line, "The UN Human Rights
/// Council"): one short line that ends no sentence and is no date. It ends in a comma only when
/// the item before it did (so "Dear Sir or Madam," is not taken for one).
fn lone_item_line<'a>(block: &'a Block, previous: Option<&str>) -> Option<&'a str> {
    let [line] = block.lines.as_slice() else {
        return None;
    };
    let line = line.trim();
    let ends_sentence = line.ends_with(['.', '!', '?', ':', '…']);
    let comma = line.ends_with(',') && !previous.is_some_and(|p| p.ends_with([',', ';']));
    let short = (1..=15).contains(&line.split_whitespace().count());
    let date = super::date::parse_date_line(line, super::DateOrder::Dmy).is_some();
    (short && !ends_sentence && !comma && !date).then_some(line)
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
        let after = starts.partition_point(|&(s, _)| s <= offset);
        let l = after.checked_sub(1).map_or(lines[0], |i| starts[i].1);
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
        // "This appeal is addressed to the international community": an audience, no addressee.
        if source.trim().is_empty() || audience_only(&source) {
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

/// A passage opening its paragraph takes its lines out of the body; one inside a paragraph
/// leaves it in the body, except the lines of a list it introduces.
fn mark_used(
    found: &mut Found,
    b: usize,
    starts: &[(usize, usize)],
    start: usize,
    end: usize,
    list: bool,
) {
    if start == 0 {
        // Its lines, with what follows it on them; a line after it (the signature, written
        // without a blank line) stays.
        for &(s, l) in starts {
            if s < end {
                found.used[b][l] = true;
            }
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
        // The longest clause opener is a few words: fold no more than that.
        let rest = fold(&list[at..].chars().take(40).collect::<String>());
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

/// Whether a sentence's addressees are only a general audience ("the international community
/// and all people of good will"), which no letter can reach.
fn audience_only(list: &str) -> bool {
    let mut rest = fold(list);
    for audience in AUDIENCES {
        rest = rest.replace(audience, " ");
    }
    rest.split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .all(|w| AUDIENCE_GLUE.contains(&w))
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

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
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
    fn a_general_audience_is_no_addressee() {
        use super::audience_only;
        let cases: &[(&str, bool)] = &[
            ("the international community", true),
            (
                "the international community and all people of good will",
                true,
            ),
            ("la communauté internationale", true),
            ("мировому сообществу и общественности", true),
            ("beynəlxalq ictimaiyyətə", true),
            ("the media and the public", true),
            ("the Public Defender of Georgia", false),
            ("the international community and the OSCE", false),
            ("the Council of Europe", false),
        ];
        for (list, expected) in cases {
            assert_eq!(audience_only(list), *expected, "`{list}`");
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
}
