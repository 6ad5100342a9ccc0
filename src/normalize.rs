//! Name normalisation for matching addressees against the directory (pure).
//!
//! Two spellings of one name get one key: case, extra whitespace, punctuation and Unicode form
//! (NFKC, ’ = ', NBSP = space) are ignored, a leading "the" is dropped, and common variants are
//! folded ("UN" = "United Nations", "Office of the" = "Office of", "Organisation" = "Organization").

use unicode_normalization::UnicodeNormalization;

/// The matching key of a name: lowercase words separated by single spaces.
// A first version (NFKC, case, punctuation, leading "the"); variant folding comes with resolution.
pub fn name_key(name: &str) -> String {
    let folded: String = name
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<&str> = folded.split_whitespace().collect();
    if words.first() == Some(&"the") {
        words.remove(0);
    }
    words.join(" ")
}
