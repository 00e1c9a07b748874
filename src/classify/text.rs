//! Text normalisation for matching: one pass that lowercases, splits words and sentences, and
//! remembers where every word came from so evidence can quote the original text.
//!
//! The normalised form is ` word word word ` (a space before and after every word), which lets
//! the phrase automaton require word boundaries just by putting spaces around its patterns.
//! Rule phrases go through the same function, so `U.S.-brokered` in a rule and in a headline
//! normalise alike (`us brokered`).

use crate::domain::Field;

/// A word of the normalised text.
#[derive(Debug, Clone, Copy)]
pub struct Token {
    /// Byte range in [`Normalized::text`] (without the surrounding spaces).
    pub start: u32,
    pub end: u32,
    /// Byte range in the original field text.
    pub orig_start: u32,
    pub orig_end: u32,
    /// Index of the sentence the word belongs to.
    pub sentence: u16,
    /// The word carried a possessive ("Russia's", "Ukraines'"), stripped from the text.
    pub possessive: bool,
}

/// A sentence (or headline) of one field.
#[derive(Debug, Clone, Copy)]
pub struct Sentence {
    pub field: Field,
    /// Token range `[first, end)`.
    pub first: u32,
    pub end: u32,
    /// Byte range in the original field text.
    pub orig_start: u32,
    pub orig_end: u32,
    /// Ends with a question mark: questions report no change.
    pub question: bool,
}

/// The normalised title and summary of one item. Reused across items to avoid allocation.
#[derive(Debug, Default)]
pub struct Normalized {
    pub text: String,
    pub tokens: Vec<Token>,
    pub sentences: Vec<Sentence>,
}

/// Words after which a full stop does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "gen", "sec", "lt", "col", "sgt", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "no", "vs", "etc", "inc", "corp",
    "jr", "sr", "gov", "sen", "rep", "pres", "prof", "rev", "adm", "maj", "capt", "cmdr", "mt",
    "ft", "approx", "dept", "est", "fig", "vol",
];

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`')
}

impl Normalized {
    pub fn clear(&mut self) {
        self.text.clear();
        self.text.push(' ');
        self.tokens.clear();
        self.sentences.clear();
    }

    /// Appends one field. Call [`Normalized::clear`] before the first field of an item.
    // The word and sentence macros reset their state after the last use too.
    #[allow(unused_assignments)]
    pub fn push_field(&mut self, field: Field, input: &str) {
        if self.text.is_empty() {
            self.text.push(' ');
        }
        let mut sentence_start_tok = self.tokens.len() as u32;
        let mut sentence_orig_start: Option<usize> = None;
        let bytes = input.as_bytes();
        let mut chars = input.char_indices().peekable();
        // The word being built: its start in `text`, its start in `input`, whether any letter
        // was uppercase / all were uppercase (for US vs us), and its letter count.
        let mut word: Option<(usize, usize)> = None;
        let mut upper = 0usize;
        let mut letters = 0usize;
        // `merged`: the word being built joins initials across full stops ("U.S.").
        // `last_was_initials`: the last finished word was such initials.
        let mut merged = false;
        let mut last_was_initials = false;

        macro_rules! finish_word {
            ($end_orig:expr) => {
                if let Some((wstart, ostart)) = word.take() {
                    let mut wend = self.text.len();
                    let w = &self.text[wstart..wend];
                    // A trailing possessive 's is not part of the name: "Russia's" -> "russia".
                    let mut possessive = false;
                    if w.len() > 2 && w.ends_with("'s") {
                        self.text.truncate(wend - 2);
                        wend -= 2;
                        possessive = true;
                    } else if w.len() > 1 && w.ends_with('\'') {
                        self.text.truncate(wend - 1);
                        wend -= 1;
                        possessive = true;
                    }
                    // "US" (the country, written in capitals) and "us" (the pronoun) differ
                    // only in case; the pronoun becomes "we" so that no rule mistakes it.
                    if &self.text[wstart..wend] == "us" && !(upper == letters) {
                        self.text.truncate(wstart);
                        self.text.push_str("we");
                        wend = self.text.len();
                    }
                    if wend > wstart {
                        if sentence_orig_start.is_none() {
                            sentence_orig_start = Some(ostart);
                        }
                        self.tokens.push(Token {
                            start: wstart as u32,
                            end: wend as u32,
                            orig_start: ostart as u32,
                            orig_end: $end_orig as u32,
                            sentence: self.sentences.len() as u16,
                            possessive,
                        });
                        self.text.push(' ');
                    } else {
                        self.text.truncate(wstart);
                    }
                }
                upper = 0;
                letters = 0;
                merged = false;
            };
        }

        macro_rules! end_sentence {
            ($orig_end:expr, $question:expr) => {
                let end_tok = self.tokens.len() as u32;
                if end_tok > sentence_start_tok {
                    self.sentences.push(Sentence {
                        field,
                        first: sentence_start_tok,
                        end: end_tok,
                        orig_start: sentence_orig_start.unwrap_or(0) as u32,
                        orig_end: $orig_end as u32,
                        question: $question,
                    });
                }
                sentence_start_tok = end_tok;
                sentence_orig_start = None;
            };
        }

        while let Some((i, c)) = chars.next() {
            if c.is_alphanumeric() {
                if word.is_none() {
                    word = Some((self.text.len(), i));
                    last_was_initials = false;
                }
                if c.is_ascii() {
                    self.text.push(c.to_ascii_lowercase());
                } else {
                    self.text.extend(c.to_lowercase());
                }
                if c.is_alphabetic() {
                    letters += 1;
                    if c.is_uppercase() {
                        upper += 1;
                    }
                }
                continue;
            }
            let next = chars.peek().map(|&(_, n)| n);
            if is_apostrophe(c) && word.is_some() && next.is_some_and(char::is_alphanumeric) {
                self.text.push('\'');
                continue;
            }
            if c == '.' && word.is_some() {
                // Initials: "U.S.", "U.K.", "E.U." are one word, and their last stop does
                // not end the sentence.
                let wlen = self.text.len() - word.map(|(s, _)| s).unwrap_or(0);
                let single_capital = wlen == 1 && letters == 1 && upper == 1;
                let after = &bytes[i + 1..];
                if (single_capital || merged)
                    && after.len() >= 2
                    && after[0].is_ascii_uppercase()
                    && after[1] == b'.'
                {
                    merged = true;
                    continue;
                }
                if merged {
                    finish_word!(i);
                    last_was_initials = true;
                    continue;
                }
            }
            let end_orig = i;
            let word_text_start = word.map(|(s, _)| s);
            let finished_word: Option<String> = if c == '.' {
                word_text_start.map(|s| self.text[s..].to_owned())
            } else {
                None
            };
            finish_word!(end_orig);
            match c {
                '.' | '!' | '?' | ';' => {
                    let boundary = match next {
                        None => true,
                        Some(n) => {
                            n.is_whitespace()
                                || matches!(
                                    n,
                                    '"' | '\u{201D}'
                                        | '\u{201C}'
                                        | '\''
                                        | '\u{2019}'
                                        | ')'
                                        | '\u{00BB}'
                                )
                        }
                    };
                    let abbreviation = c == '.'
                        && (last_was_initials
                            || finished_word.as_deref().is_some_and(|w| {
                                w.chars().count() == 1 || ABBREVIATIONS.contains(&w)
                            }));
                    if boundary && !abbreviation {
                        // Swallow closing quotes so that they belong to this sentence.
                        let mut end = i + c.len_utf8();
                        while let Some(&(j, n)) = chars.peek() {
                            if matches!(n, '"' | '\u{201D}' | '\'' | '\u{2019}' | ')' | '\u{00BB}')
                            {
                                end = j + n.len_utf8();
                                chars.next();
                            } else {
                                break;
                            }
                        }
                        end_sentence!(end, c == '?');
                    }
                    last_was_initials = false;
                }
                _ => {
                    if !c.is_whitespace() {
                        last_was_initials = false;
                    }
                }
            }
        }
        finish_word!(input.len());
        // A headline with a question mark in the middle ("Will Putin agree? What next") is
        // still a question; a trailing one is handled above.
        end_sentence!(input.len(), false);
    }

    /// The normalised word at `i`.
    pub fn word(&self, i: usize) -> &str {
        let t = self.tokens[i];
        &self.text[t.start as usize..t.end as usize]
    }
}

/// Normalises a rule phrase the way item text is normalised: the words, space-separated.
pub fn normalize_phrase(phrase: &str) -> String {
    let mut n = Normalized::default();
    n.clear();
    // Rule phrases are written in lowercase, but mean the capitalised word where case
    // matters: the phrase "us" is the country, not the pronoun.
    n.push_field(Field::Title, &phrase.to_uppercase());
    (0..n.tokens.len())
        .map(|i| n.word(i))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        let mut n = Normalized::default();
        n.clear();
        n.push_field(Field::Summary, s);
        (0..n.tokens.len()).map(|i| n.word(i).to_owned()).collect()
    }

    fn sentences(s: &str) -> Vec<String> {
        let mut n = Normalized::default();
        n.clear();
        n.push_field(Field::Summary, s);
        n.sentences
            .iter()
            .map(|x| s[x.orig_start as usize..x.orig_end as usize].to_owned())
            .collect()
    }

    #[test]
    fn words_are_lowercased_and_split() {
        assert_eq!(
            words("Kremlin REJECTS cease-fire"),
            ["kremlin", "rejects", "cease", "fire"]
        );
        assert_eq!(
            words("Russia’s truce, Putin's offer"),
            ["russia", "truce", "putin", "offer"]
        );
        assert_eq!(words("won't and can’t"), ["won't", "and", "can't"]);
        assert_eq!(
            words("the U.S.-brokered deal"),
            ["the", "us", "brokered", "deal"]
        );
        assert_eq!(words("The US halts aid"), ["the", "us", "halts", "aid"]);
        assert_eq!(words("tell us more"), ["tell", "we", "more"]);
        assert_eq!(
            words("U.K. and E.U. leaders"),
            ["uk", "and", "eu", "leaders"]
        );
        assert_eq!(words("  "), Vec::<String>::new());
    }

    #[test]
    fn sentences_split_on_stops_not_on_initials() {
        assert_eq!(
            sentences("The U.S. paused aid. Kyiv protested! Will it last? Yes"),
            [
                "The U.S. paused aid.",
                "Kyiv protested!",
                "Will it last?",
                "Yes"
            ]
        );
        assert_eq!(
            sentences("Mr. Peskov spoke on Jan. 5 at 2.30 pm. Then left."),
            ["Mr. Peskov spoke on Jan. 5 at 2.30 pm.", "Then left."]
        );
        assert_eq!(
            sentences("He said: \"No truce.\" Then he left."),
            ["He said: \"No truce.\"", "Then he left."]
        );
    }

    #[test]
    fn questions_are_marked() {
        let mut n = Normalized::default();
        n.clear();
        n.push_field(Field::Title, "Will Putin agree? Analysis");
        assert!(n.sentences[0].question);
        assert!(!n.sentences[1].question);
    }

    #[test]
    fn offsets_point_into_the_original() {
        let s = "Le Kremlin a dit «non» à la trêve.";
        let mut n = Normalized::default();
        n.clear();
        n.push_field(Field::Summary, s);
        for t in &n.tokens {
            let orig = &s[t.orig_start as usize..t.orig_end as usize];
            assert_eq!(
                orig.to_lowercase(),
                n.text[t.start as usize..t.end as usize]
            );
        }
    }

    #[test]
    fn phrases_normalise_like_text() {
        assert_eq!(normalize_phrase("U.S.-brokered"), "us brokered");
        assert_eq!(normalize_phrase("Turned  Down"), "turned down");
    }
}
