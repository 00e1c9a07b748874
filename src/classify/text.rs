//! Text normalisation for matching: one pass that lowercases, splits words and sentences, and
//! remembers where every word came from so evidence can quote the original text.
//!
//! A word is kept as its lowercase bytes packed into a `u64` key (the first eight bytes);
//! only words longer than that are also copied out, to [`Normalized::text`]. Most words of
//! news are short, so most words are never copied: the key is what phrase matching looks up.
//! Rule phrases go through the same function, so `U.S.-brokered` in a rule and in a headline
//! normalise alike (`us brokered`).

use crate::domain::Field;

/// A word of the normalised text.
#[derive(Debug, Clone, Copy)]
pub struct Token {
    /// Where the word's bytes are in [`Normalized::text`], when it is longer than 8 bytes.
    pub start: u32,
    /// Length of the normalised word in bytes.
    pub len: u32,
    /// Byte range in the original field text.
    pub orig_start: u32,
    pub orig_end: u32,
    /// Index of the sentence the word belongs to.
    pub sentence: u16,
    /// The word carried a possessive ("Russia's", "Ukraines'"), stripped from the text.
    pub possessive: bool,
    /// The first 8 bytes of the normalised word, little-endian, zero-padded (a word never
    /// holds a zero byte): the whole word when it is short.
    pub key: u64,
}

/// A word's bytes: from its key when short, from [`Normalized::text`] when long.
#[derive(Debug, Clone, Copy)]
pub struct Word<'a> {
    short: [u8; 8],
    long: &'a [u8],
    len: usize,
}

impl<'a> Word<'a> {
    pub fn as_bytes(&self) -> &[u8] {
        if self.len <= 8 {
            &self.short[..self.len]
        } else {
            self.long
        }
    }

    /// As text (always valid: whole UTF-8 characters are normalised).
    pub fn to_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
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
    /// The bytes of words longer than 8 bytes (whole UTF-8 characters, so valid UTF-8).
    pub text: Vec<u8>,
    pub tokens: Vec<Token>,
    pub sentences: Vec<Sentence>,
}

const OTHER: u8 = 0;
const LOWER: u8 = 1;
const UPPER: u8 = 2;
const DIGIT: u8 = 3;
/// `.` `!` `?` `;`: may end a sentence.
const STOP: u8 = 4;
const APOSTROPHE: u8 = 8;
/// Bit set in the class of letters and digits (LOWER, UPPER, DIGIT are 1, 2, 3).
const ALNUM: u8 = 3;

/// Character classes of ASCII bytes (bytes of multi-byte characters are OTHER).
static CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut i = 0;
    while i < 128 {
        let b = i as u8;
        t[i] = if b.is_ascii_lowercase() {
            LOWER
        } else if b.is_ascii_uppercase() {
            UPPER
        } else if b.is_ascii_digit() {
            DIGIT
        } else if b == b'.' || b == b'!' || b == b'?' || b == b';' {
            STOP
        } else if b == b'\'' || b == b'`' {
            APOSTROPHE
        } else {
            OTHER
        };
        i += 1;
    }
    t
};

const HIGH8: u64 = 0x8080_8080_8080_8080;

/// Where a field's scan is: its sentence so far.
struct Cursor {
    field: Field,
    /// First token of the sentence being read.
    first: u32,
    /// Where its first word starts in the input.
    orig_start: Option<usize>,
}

/// The high bit set in each of eight bytes that is an ASCII letter or digit.
#[inline]
fn alnum8(x: u64) -> u64 {
    let seven = x & !HIGH8;
    // Letters folded to lowercase; digits keep bit 5 set already.
    let folded = seven | 0x2020_2020_2020_2020;
    let ge_a = folded.wrapping_add(0x1F1F_1F1F_1F1F_1F1F); // >= 'a'
    let gt_z = folded.wrapping_add(0x0505_0505_0505_0505); // > 'z'
    let ge_0 = seven.wrapping_add(0x5050_5050_5050_5050); // >= '0'
    let gt_9 = seven.wrapping_add(0x4646_4646_4646_4646); // > '9'
    ((ge_a & !gt_z) | (ge_0 & !gt_9)) & !x & HIGH8
}

/// The key of the ASCII word of `len` bytes at `start`: its first eight bytes, lowercased.
/// The definition [`word_key`] is tested against.
#[cfg(test)]
fn key_of(bytes: &[u8], start: usize, len: usize) -> u64 {
    pack8_lower(&bytes[start..start + len.min(8)])
}

/// The ASCII word of letters and digits at `start`: where it ends, and its key (its first
/// eight bytes, lowercased, zero-padded). One load of eight bytes answers both for words of up to seven bytes, which
/// are most words of news.
#[inline(always)]
pub(crate) fn word_key(bytes: &[u8], start: usize) -> (usize, u64) {
    if let Some(chunk) = bytes.get(start..start + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let other = !alnum8(x) & HIGH8;
        if other != 0 {
            // The bytes before the first one that is not a letter or digit.
            let keep = ((other & other.wrapping_neg()) >> 7) - 1;
            return (
                start + (other.trailing_zeros() / 8) as usize,
                fold_alnum8(x) & keep,
            );
        }
        return (alnum_end(bytes, start + 8), fold_alnum8(x));
    }
    let end = alnum_end(bytes, start);
    (end, pack8_lower(&bytes[start..end.min(start + 8)]))
}

/// ASCII letters and digits, lowercased: the 0x20 bit set in each byte makes a capital its
/// small letter and leaves small letters and digits as they are. (Other bytes change too, so
/// only bytes known to be letters or digits are kept.)
#[inline(always)]
fn fold_alnum8(x: u64) -> u64 {
    x | 0x2020_2020_2020_2020
}

/// Up to 8 bytes, lowercased, packed like [`pack8`].
fn pack8_lower(word: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(word) {
        *d = s.to_ascii_lowercase();
    }
    u64::from_le_bytes(b)
}

/// The first 8 bytes of a word as a u64 (little-endian, zero-padded; words never contain a
/// zero byte).
#[inline]
pub fn pack8(word: &[u8]) -> u64 {
    let word = &word[..word.len().min(8)];
    let mut b = [0u8; 8];
    for (d, s) in b.iter_mut().zip(word) {
        *d = *s;
    }
    u64::from_le_bytes(b)
}

/// The end of the run of ASCII letters and digits at `start`, found eight bytes at a time.
#[inline]
pub(crate) fn alnum_end(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    loop {
        match bytes.get(end..end + 8) {
            Some(chunk) => {
                let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
                let other = !alnum8(x) & HIGH8;
                if other != 0 {
                    return end + (other.trailing_zeros() / 8) as usize;
                }
                end += 8;
            }
            None => {
                while end < bytes.len() && CLASS[bytes[end] as usize] & ALNUM != 0 {
                    end += 1;
                }
                return end;
            }
        }
    }
}

fn next_is_alphanumeric(input: &str, at: usize) -> bool {
    input[at..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric)
}

/// Closing quotes and brackets, which stay with the sentence they end.
fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | '\u{201D}' | '\u{2019}' | '\u{00BB}')
}

/// Whether the byte at `i` of raw text surely ends a sentence where [`Normalized`] would:
/// a stop before whitespace, a closing mark or the end, and for a full stop, after a word of
/// two or more ASCII letters or digits that is no abbreviation, or after ASCII that is no
/// word. Where normalisation might not split (after a single letter, an abbreviation, a
/// character outside ASCII), this does not either. `word` is the last word of the raw
/// scan: where it ends, its key (lowercased, as [`word_key`] gives it) and its length.
#[inline]
pub(crate) fn raw_sentence_end(text: &str, i: usize, word: (usize, u64, usize)) -> bool {
    let b = text.as_bytes();
    if CLASS[b[i] as usize] != STOP || !stop_before_boundary(text, i) {
        return false;
    }
    if b[i] != b'.' {
        return true;
    }
    let (end, key, len) = word;
    if end == i {
        !keeps_sentence(key, len)
    } else {
        i == 0 || b[i - 1] < 0x80
    }
}

/// Whether the stop at `i` is followed by whitespace, a closing mark or the end: only
/// then may it end a sentence ("3.5", "Ukraine.Russia" do not).
fn stop_before_boundary(text: &str, i: usize) -> bool {
    text[i + 1..]
        .chars()
        .next()
        .is_none_or(|n| n.is_whitespace() || is_closing(n))
}

/// Whether a full stop after the word with this key and length leaves the sentence open:
/// after a single letter or an abbreviation ("J. Smith", "Mr. Peskov", "Jan. 5").
fn keeps_sentence(key: u64, len: usize) -> bool {
    len == 1 || len <= 8 && is_abbreviation(&key.to_le_bytes()[..len])
}

/// Whether a full stop after this (lowercased) word does not end the sentence.
fn is_abbreviation(w: &[u8]) -> bool {
    matches!(
        w,
        b"mr"
            | b"mrs"
            | b"ms"
            | b"dr"
            | b"st"
            | b"gen"
            | b"sec"
            | b"lt"
            | b"col"
            | b"sgt"
            | b"jan"
            | b"feb"
            | b"mar"
            | b"apr"
            | b"jun"
            | b"jul"
            | b"aug"
            | b"sep"
            | b"sept"
            | b"oct"
            | b"nov"
            | b"dec"
            | b"no"
            | b"vs"
            | b"etc"
            | b"inc"
            | b"corp"
            | b"jr"
            | b"sr"
            | b"gov"
            | b"sen"
            | b"rep"
            | b"pres"
            | b"prof"
            | b"rev"
            | b"adm"
            | b"maj"
            | b"capt"
            | b"cmdr"
            | b"mt"
            | b"ft"
            | b"approx"
            | b"dept"
            | b"est"
            | b"fig"
            | b"vol"
    )
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`')
}

impl Normalized {
    pub fn clear(&mut self) {
        self.text.clear();
        self.tokens.clear();
        self.sentences.clear();
    }

    /// Appends one field. Call [`Normalized::clear`] before the first field of an item.
    ///
    /// A byte-level scanner: ASCII goes through a class table a word at a time, and only
    /// non-ASCII characters are decoded.
    pub fn push_field(&mut self, field: Field, input: &str) {
        self.text.reserve(input.len() + 8);
        self.tokens.reserve(input.len() / 4);
        let bytes = input.as_bytes();
        let mut cur = Cursor {
            field,
            first: self.tokens.len() as u32,
            orig_start: None,
        };
        let mut i = 0;
        while i < bytes.len() {
            i = self.step(input, i, &mut cur);
        }
        self.end_sentence(&mut cur, input.len(), false);
    }

    /// Records the plain ASCII word of `len` bytes at `start` (letters and digits, followed by
    /// a byte that is neither a full stop, an apostrophe nor non-ASCII).
    #[inline(always)]
    fn plain_word(&mut self, bytes: &[u8], start: usize, len: usize, key: u64) {
        let wstart = self.text.len();
        if len > 8 {
            self.text
                .extend(bytes[start..start + len].iter().map(u8::to_ascii_lowercase));
        }
        let (mut letters, mut upper) = (0, 0);
        if len == 2 {
            for &b in &bytes[start..start + 2] {
                letters += u32::from(b.is_ascii_alphabetic());
                upper += u32::from(b.is_ascii_uppercase());
            }
        }
        self.finish_word(
            wstart,
            start,
            start + len,
            letters,
            upper,
            false,
            Some((key, len)),
        );
    }

    /// Reads one unit at `i` (a word, a full stop or other character) and returns the index
    /// after it.
    #[inline]
    fn step(&mut self, input: &str, i: usize, cur: &mut Cursor) -> usize {
        let bytes = input.as_bytes();
        let b = bytes[i];
        if b >= 0x80 {
            let c = input[i..].chars().next().unwrap_or(' ');
            if c.is_alphanumeric() {
                cur.orig_start.get_or_insert(i);
                return self.scan_word(input, i);
            }
            return i + c.len_utf8();
        }
        match CLASS[b as usize] {
            LOWER | UPPER | DIGIT => {
                cur.orig_start.get_or_insert(i);
                self.word_at(input, i)
            }
            STOP => {
                // A full stop right after a single letter or an abbreviation
                // ("J. Smith", "Mr. Peskov", "Jan. 5") does not end the sentence.
                let abbreviation = b == b'.'
                    && self.tokens.last().is_some_and(|t| {
                        t.orig_end as usize == i
                            && (t.sentence as usize) == self.sentences.len()
                            && keeps_sentence(t.key, t.len as usize)
                    });
                let boundary = stop_before_boundary(input, i);
                let mut i = i + 1;
                if boundary && !abbreviation {
                    // Closing quotes and brackets belong to the sentence they close.
                    while let Some(n) = input[i..].chars().next().filter(|&n| is_closing(n)) {
                        i += n.len_utf8();
                    }
                    self.end_sentence(cur, i, b == b'?');
                }
                i
            }
            _ => i + 1,
        }
    }

    fn end_sentence(&mut self, cur: &mut Cursor, orig_end: usize, question: bool) {
        let end = self.tokens.len() as u32;
        if end > cur.first {
            self.sentences.push(Sentence {
                field: cur.field,
                first: cur.first,
                end,
                orig_start: cur.orig_start.unwrap_or(0) as u32,
                orig_end: orig_end as u32,
                question,
            });
        }
        cur.first = end;
        cur.orig_start = None;
    }

    /// Appends the word starting at byte `start` (an ASCII letter or digit) and returns the
    /// index just after it. The common case, a plain ASCII word followed by a space or
    /// punctuation other than an apostrophe or a full stop, is copied in one pass; anything
    /// else goes to [`Normalized::scan_word`].
    #[inline]
    fn word_at(&mut self, input: &str, start: usize) -> usize {
        let bytes = input.as_bytes();
        let (end, key) = word_key(bytes, start);
        if let Some(&next) = bytes.get(end)
            && (next >= 0x80 || next == b'.' || CLASS[next as usize] == APOSTROPHE)
        {
            return self.scan_word(input, start);
        }
        self.plain_word(bytes, start, end - start, key);
        end
    }

    /// Reads the word starting at byte `start` (an alphanumeric character), appends it, and
    /// returns the index just after it.
    fn scan_word(&mut self, input: &str, start: usize) -> usize {
        let bytes = input.as_bytes();
        let wstart = self.text.len();
        // Letter and capital counts matter only for words of up to three letters ("US" vs
        // "us", initials), so longer runs skip counting.
        let (mut letters, mut upper) = (0u32, 0u32);
        // Initials joined across full stops: "U.S." is the word "us".
        let mut merged = false;
        let mut i = start;
        loop {
            let run = i;
            while i < bytes.len() && bytes[i] < 0x80 && CLASS[bytes[i] as usize] & ALNUM != 0 {
                i += 1;
            }
            if i > run {
                let chunk = &bytes[run..i];
                if self.text.len() - wstart + chunk.len() <= 3 {
                    for &b in chunk {
                        letters += u32::from(b.is_ascii_alphabetic());
                        upper += u32::from(b.is_ascii_uppercase());
                    }
                }
                let at = self.text.len();
                self.text.extend_from_slice(chunk);
                self.text[at..].make_ascii_lowercase();
            }
            let Some(&b) = bytes.get(i) else { break };
            if b < 0x80 {
                if CLASS[b as usize] == APOSTROPHE
                    && self.text.len() > wstart
                    && next_is_alphanumeric(input, i + 1)
                {
                    self.text.push(b'\'');
                    i += 1;
                    continue;
                }
                if b == b'.' {
                    let single_capital = self.text.len() - wstart == 1 && upper == 1;
                    let another_initial = bytes.get(i + 1).is_some_and(u8::is_ascii_uppercase)
                        && bytes.get(i + 2) == Some(&b'.');
                    if (single_capital || merged) && another_initial {
                        merged = true;
                        i += 1;
                        continue;
                    }
                    if merged {
                        // The initials' last stop belongs to them.
                        i += 1;
                    }
                }
                break;
            }
            let c = input[i..].chars().next().unwrap_or(' ');
            if c.is_alphanumeric() {
                let mut buf = [0u8; 4];
                for l in c.to_lowercase() {
                    self.text
                        .extend_from_slice(l.encode_utf8(&mut buf).as_bytes());
                }
                if c.is_alphabetic() {
                    letters += 1;
                    upper += u32::from(c.is_uppercase());
                }
            } else if is_apostrophe(c)
                && self.text.len() > wstart
                && next_is_alphanumeric(input, i + c.len_utf8())
            {
                self.text.push(b'\'');
            } else {
                break;
            }
            i += c.len_utf8();
        }
        let orig_end = if merged { i - 1 } else { i };
        // A trailing possessive 's is not part of the name: "Russia's" -> "russia". Read
        // from the input, not from the bytes just written (which would stall the CPU).
        let word = &bytes[start..orig_end];
        let possessive = self.text.len() - wstart > 2
            && matches!(word.last(), Some(b's' | b'S'))
            && (word.ends_with(b"'s")
                || word.ends_with(b"'S")
                || word.ends_with("\u{2019}s".as_bytes())
                || word.ends_with("\u{2019}S".as_bytes())
                || word.ends_with("`s".as_bytes()));
        self.finish_word(wstart, start, orig_end, letters, upper, possessive, None);
        i
    }

    #[inline]
    /// Records a word. The fast path passes its `(key, len)` and wrote bytes to `text` only
    /// if it is longer than 8; the slow path wrote the whole word at `wstart`.
    #[allow(clippy::too_many_arguments)]
    fn finish_word(
        &mut self,
        wstart: usize,
        orig_start: usize,
        orig_end: usize,
        letters: u32,
        upper: u32,
        possessive: bool,
        fast: Option<(u64, usize)>,
    ) {
        let (mut key, mut len) = match fast {
            Some(kl) => kl,
            None => {
                let mut wend = self.text.len();
                if possessive {
                    wend -= 2;
                    self.text.truncate(wend);
                }
                let len = wend - wstart;
                let key = pack8(&self.text[wstart..wstart + len.min(8)]);
                if len <= 8 {
                    self.text.truncate(wstart);
                }
                (key, len)
            }
        };
        // "US" (the country, in capitals) and "us" (the pronoun) differ only in case; the
        // pronoun becomes "we" so that no rule mistakes it.
        if len == 2 && key == u64::from(u16::from_le_bytes(*b"us")) && upper != letters {
            key = u64::from(u16::from_le_bytes(*b"we"));
            len = 2;
        }
        self.tokens.push(Token {
            start: wstart as u32,
            len: len as u32,
            orig_start: orig_start as u32,
            orig_end: orig_end as u32,
            sentence: self.sentences.len() as u16,
            possessive,
            key,
        });
    }

    /// The normalised word at `i`.
    pub fn word(&self, i: usize) -> Word<'_> {
        let t = self.tokens[i];
        let len = t.len as usize;
        Word {
            short: t.key.to_le_bytes(),
            long: if len > 8 {
                &self.text[t.start as usize..t.start as usize + len]
            } else {
                &[]
            },
            len,
        }
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
        .map(|i| n.word(i).to_str().to_owned())
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
        (0..n.tokens.len())
            .map(|i| n.word(i).to_str().to_owned())
            .collect()
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
        for (i, t) in n.tokens.iter().enumerate() {
            let orig = &s[t.orig_start as usize..t.orig_end as usize];
            assert_eq!(orig.to_lowercase().as_bytes(), n.word(i).as_bytes());
        }
    }

    #[test]
    fn long_and_short_words_read_back() {
        assert_eq!(
            words(
                "Intelligence-sharing SUSPENDED by Washington’s administration, Ukrainians’ ally"
            ),
            [
                "intelligence",
                "sharing",
                "suspended",
                "by",
                "washington",
                "administration",
                "ukrainians",
                "ally"
            ]
        );
        assert_eq!(
            words("Ceasefire-Declaration ПЕРЕМИРИЕ объявлено"),
            ["ceasefire", "declaration", "перемирие", "объявлено"]
        );
    }

    #[test]
    fn alnum8_agrees_with_the_class_table() {
        for b in 0..=255u8 {
            let x = u64::from_le_bytes([b, b' ', b, b'a', 0xC3, b, b'Z', b]);
            let m = alnum8(x).to_le_bytes();
            for (i, &byte) in x.to_le_bytes().iter().enumerate() {
                assert_eq!(
                    m[i] == 0x80,
                    byte.is_ascii_alphanumeric(),
                    "byte {byte:#x} at {i}"
                );
            }
        }
    }

    #[test]
    fn word_key_agrees_with_alnum_end_and_key_of() {
        let text = b"Kremlin U.S. 2025 Ab ceasefires x9 Zz-top a";
        for start in 0..text.len() {
            if !text[start].is_ascii_alphanumeric() {
                continue;
            }
            let end = alnum_end(text, start);
            assert_eq!(
                word_key(text, start),
                (end, key_of(text, start, end - start)),
                "word at {start}"
            );
        }
    }

    #[test]
    fn fold_alnum8_lowercases_letters_and_keeps_digits() {
        for bytes in [*b"AbZazZ09", *b"Kremlin1", *b"09AZazMN", *b"USAID123"] {
            let want: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(
                fold_alnum8(u64::from_le_bytes(bytes))
                    .to_le_bytes()
                    .to_vec(),
                want
            );
        }
    }

    #[test]
    fn phrases_normalise_like_text() {
        assert_eq!(normalize_phrase("U.S.-brokered"), "us brokered");
        assert_eq!(normalize_phrase("Turned  Down"), "turned down");
    }
}
