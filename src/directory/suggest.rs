//! Suggestions for a phrase the directory does not know (pure): the names and aliases that look
//! like it, by shared significant words (a word left out or added) or by edit distance (a typo).
//!
//! Comparing a phrase with every name costs seconds on a directory of 100,000 organisations, so
//! names are indexed by character trigrams the first time a suggestion is needed. A phrase then
//! looks at the names sharing its rarest trigrams only, within a fixed budget of index entries,
//! and scores the best few hundred of them: a refusal costs about the same whatever the size of
//! the directory.

use std::collections::{HashMap, HashSet};

use super::{Directory, Entry, Named};
use crate::normalize::name_key;

/// Words too common in institution names to count as evidence that two names are alike.
const STOPWORDS: &[&str] = &[
    "of", "and", "for", "in", "on", "to", "at", "its", "de", "des", "du", "la", "le", "l", "d",
    "et", "по", "и", "в", "ve",
];

/// A name scoring below this is no suggestion at all.
const SUGGESTION_THRESHOLD: f64 = 0.6;
pub(crate) const MAX_SUGGESTIONS: usize = 3;
/// Index entries one phrase may visit, rarest trigrams first.
pub(crate) const POSTINGS_BUDGET: usize = 60_000;
/// Names one phrase may score, those sharing the most trigrams first.
pub(crate) const MAX_CANDIDATES: usize = 300;

/// Every name and alias key of the directory, with its trigrams.
#[derive(Debug, Clone, Default)]
pub(crate) struct SuggestIndex {
    /// Sorted by key, so that ties are settled the same way on every run.
    keys: Vec<(String, Named)>,
    grams: HashMap<u64, Vec<u32>>,
}

/// What one search cost, for tests that bound it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Work {
    pub(crate) postings: usize,
    pub(crate) scored: usize,
}

impl SuggestIndex {
    pub(crate) fn new(directory: &Directory) -> SuggestIndex {
        let mut keys: Vec<(String, Named)> = directory
            .names
            .iter()
            .map(|(key, &named)| (key.clone(), named))
            .collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut grams: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, (key, _)) in keys.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            for gram in trigrams(key) {
                let postings = grams.entry(gram).or_default();
                // Trigrams of one key come in a set: each key once per list.
                postings.push(i);
            }
        }
        SuggestIndex { keys, grams }
    }

    /// Indexes of the keys worth scoring for `key`, best first, and the work it took.
    fn candidates(&self, key: &str) -> (Vec<usize>, Work) {
        let mut lists: Vec<&Vec<u32>> = trigrams(key)
            .iter()
            .filter_map(|g| self.grams.get(g))
            .collect();
        lists.sort_by_key(|l| l.len());
        let mut work = Work::default();
        let mut hits: HashMap<u32, u32> = HashMap::new();
        for list in lists {
            if work.postings + list.len() > POSTINGS_BUDGET {
                break;
            }
            work.postings += list.len();
            for &i in list {
                *hits.entry(i).or_default() += 1;
            }
        }
        let mut ranked: Vec<(u32, u32)> = hits.into_iter().collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        ranked.truncate(MAX_CANDIDATES);
        (ranked.into_iter().map(|(i, _)| i as usize).collect(), work)
    }
}

/// The distinct trigrams of a key padded with a space at each end, each packed into a number.
fn trigrams(key: &str) -> Vec<u64> {
    let chars: Vec<char> = std::iter::once(' ')
        .chain(key.chars())
        .chain(std::iter::once(' '))
        .collect();
    let mut out: Vec<u64> = chars
        .windows(3)
        .map(|w| (u64::from(w[0]) << 42) | (u64::from(w[1]) << 21) | u64::from(w[2]))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// How alike two keys are, 0 to 1: shared significant words (Dice), or edit distance where the
/// lengths allow the threshold to be reached.
pub(crate) fn score(key: &str, candidate: &str) -> f64 {
    let words: HashSet<&str> = significant_words(key).collect();
    if words.is_empty() {
        return 0.0;
    }
    let mut shared = 0usize;
    let mut total = words.len();
    for w in significant_words(candidate) {
        total += 1;
        if words.contains(w) {
            shared += 1;
        }
    }
    let mut score = 2.0 * shared as f64 / total as f64;
    let (short, long) = if key.len() < candidate.len() {
        (key.len(), candidate.len())
    } else {
        (candidate.len(), key.len())
    };
    // Edit distance only for names that share a word or are short (a typo in a one-word
    // acronym), and whose lengths are close enough to reach the threshold at all.
    let worth_editing = (shared > 0 || long <= 12) && score < 1.0;
    if worth_editing && (long - short) as f64 <= (1.0 - SUGGESTION_THRESHOLD) * long as f64 {
        score = score.max(strsim::normalized_levenshtein(key, candidate));
    }
    score
}

fn significant_words(key: &str) -> impl Iterator<Item = &str> {
    key.split(' ')
        .filter(|w| !w.is_empty() && !STOPWORDS.contains(w))
}

/// Up to three display names for a phrase: first those of `near` (entries the phrase mentions:
/// a parent, a known part of a pair), then names that look like it, best first; each entry once.
pub(crate) fn suggestions(directory: &Directory, phrase: &str, near: &[Entry]) -> Vec<String> {
    suggestions_with_work(directory, phrase, near).0
}

pub(crate) fn suggestions_with_work(
    directory: &Directory,
    phrase: &str,
    near: &[Entry],
) -> (Vec<String>, Work) {
    let mut out: Vec<String> = Vec::new();
    let mut seen: Vec<Entry> = Vec::new();
    for &entry in near {
        if !seen.contains(&entry) && out.len() < MAX_SUGGESTIONS {
            seen.push(entry);
            out.push(directory.entry_name(entry).to_string());
        }
    }
    let key = name_key(phrase);
    if out.len() >= MAX_SUGGESTIONS || significant_words(&key).next().is_none() {
        return (out, Work::default());
    }
    let index = directory.suggest_index();
    let (candidates, mut work) = index.candidates(&key);
    // Best score per entry, with the key that scored it.
    let mut best: Vec<(f64, Entry, &str, Named)> = Vec::new();
    for i in candidates {
        let Some((candidate, named)) = index.keys.get(i) else {
            continue;
        };
        work.scored += 1;
        let s = score(&key, candidate);
        if s < SUGGESTION_THRESHOLD || seen.contains(&named.entry) {
            continue;
        }
        match best.iter_mut().find(|b| b.1 == named.entry) {
            // Ties go to the first name in order, so the answer does not depend on the index.
            Some(kept) if s > kept.0 || (s == kept.0 && candidate.as_str() < kept.2) => {
                *kept = (s, named.entry, candidate, *named);
            }
            Some(_) => {}
            None => best.push((s, named.entry, candidate, *named)),
        }
    }
    // The name or alias that came closest, as written in the directory: "Counsil of Europe" is
    // better answered with the alias "Council of Europe" than with the name "Conseil de
    // l'Europe".
    let mut named: Vec<(f64, String)> = best
        .into_iter()
        .filter_map(|(s, _, _, n)| Some((s, directory.written(n)?.to_string())))
        .collect();
    // Names break ties so that the order does not depend on the candidates' order.
    named.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    for (_, name) in named {
        if out.len() >= MAX_SUGGESTIONS {
            break;
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    (out, work)
}

#[cfg(test)]
mod tests {
    use super::{suggestions_with_work, MAX_CANDIDATES, POSTINGS_BUDGET};
    use crate::directory::{Directory, Group, OrgId, Organization, Origin};

    /// `n` organisations named alike ("Commission on Human Rights of Region 1234"), the case where
    /// every name shares most words with every other.
    fn large_directory(n: usize) -> Directory {
        let organizations = (1..=n)
            .map(|i| Organization {
                id: OrgId::new(&format!("region-{i}")).expect("valid id"),
                name: format!("Commission on Human Rights of Region {i}"),
                aliases: vec![format!("CHRR{i}")],
                emails: vec!["office@region.example".parse().expect("valid address")],
                cc: Vec::new(),
                language: "en".to_string(),
                salutation: None,
                contact: None,
                heads: Vec::new(),
                origin: Origin {
                    file: "recipients/large.toml".into(),
                    line: i,
                },
            })
            .collect();
        let (directory, clashes) = Directory::new(organizations, Vec::<Group>::new());
        assert!(clashes.is_empty());
        directory
    }

    /// Issue: suggestions compared each refused phrase with every name, 32 s for 1,000 phrases
    /// on 100,000 organisations. Each refusal now visits a bounded share of the index and scores
    /// a bounded number of names, and still finds the name a typo was meant to be.
    #[test]
    fn a_refusal_costs_the_same_on_a_large_directory() {
        let n = 100_000;
        let d = large_directory(n);
        let mut most = (0, 0);
        for i in (1..=n).step_by(n / 500) {
            let typo = format!("Comission on Human Rigths of Region {i}");
            let (found, work) = suggestions_with_work(&d, &typo, &[]);
            assert_eq!(
                found.first().map(String::as_str),
                Some(format!("Commission on Human Rights of Region {i}").as_str()),
                "{typo}: {found:?}"
            );
            let unknown = format!("Northern Federation of Peace Councils {i}");
            let (_, other) = suggestions_with_work(&d, &unknown, &[]);
            for w in [work, other] {
                most = (most.0.max(w.postings), most.1.max(w.scored));
            }
        }
        // Bounded by constants, while the directory holds 200,000 names.
        assert!(most.0 <= POSTINGS_BUDGET, "{most:?}");
        assert!(most.1 <= MAX_CANDIDATES, "{most:?}");
        assert!(d.names.len() >= 2 * n);
        assert!(most.1 * 100 < d.names.len(), "{most:?}");
    }
}
