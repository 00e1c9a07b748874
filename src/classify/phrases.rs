//! Phrase matching at the word level. Every phrase of the pack is a sequence of words, each
//! either exact or a prefix (`refus*`); the text is a sequence of normalised words. The
//! phrases form a trie over words: each word of the text is looked up once in the vocabulary,
//! and from each position the trie is followed only as far as some phrase continues. The
//! cost is proportional to the words of the text, not to the number of phrases (brace
//! expansion makes thousands of them, many sharing their first words).

use rustc_hash::FxHashMap;

use super::text::{self, Normalized, pack8, word_key};

/// Where a phrase matched: tokens `first..=last`, and what it stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found<T> {
    pub tag: T,
    pub first: u32,
    pub last: u32,
}

const ROOT: u32 = 0;

/// An edge taken by any word that starts with `bytes`.
#[derive(Debug)]
struct PrefixEdge {
    bytes: Box<[u8]>,
    /// The prefix packed like a word key, and the mask of its bytes, for prefixes of up to
    /// eight bytes: a word matches when `word.key & mask == key`.
    key: u64,
    mask: u64,
    child: u32,
}

impl PrefixEdge {
    fn new(bytes: &[u8], child: u32) -> PrefixEdge {
        let n = bytes.len().min(8);
        PrefixEdge {
            bytes: bytes.into(),
            key: pack8(bytes),
            mask: if n == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * n)) - 1
            },
            child,
        }
    }

    #[inline]
    fn matches(&self, norm: &Normalized, i: usize) -> bool {
        let t = &norm.tokens[i];
        if (t.len as usize) < self.bytes.len() || t.key & self.mask != self.key {
            return false;
        }
        self.bytes.len() <= 8 || norm.word(i).as_bytes().starts_with(&self.bytes)
    }
}
const NONE: u32 = u32::MAX;

/// A set of phrases compiled for matching.
#[derive(Debug)]
pub struct PhraseSet<T> {
    /// Exact words of all phrases: those of up to 8 bytes packed into a u64 (one multiply
    /// to hash, no byte comparison), the longer ones by their bytes.
    vocab_short: U64Table,
    vocab_long: FxHashMap<Box<[u8]>, u32>,
    /// Trie edges on exact words: (node, word id) → child, while building; then `edges`.
    exact: FxHashMap<(u32, u32), u32>,
    /// The same edges for lookups: key `node << 32 | word id`, plus one (keys are non-zero).
    edges: U64Table,
    /// Trie edges on prefixes, per node.
    prefix: Vec<Vec<PrefixEdge>>,
    /// The root's prefix edges of three bytes or more, by those bytes (the root has many):
    /// `root_prefix_index` maps the three bytes (plus one) to a bucket of `root_prefix`.
    root_prefix: Vec<Vec<PrefixEdge>>,
    root_prefix_index: U64Table,
    /// Per vocabulary word, the root's children it leads to (exact and prefix edges), so a
    /// known word costs one lookup.
    root_children: Vec<Vec<u32>>,
    /// What the phrases ending at a node stand for.
    tags: Vec<Vec<T>>,
    /// Whether any edge leaves a node.
    has_children: Vec<bool>,
}

impl<T: Copy + PartialEq> PhraseSet<T> {
    /// Builds the set. `phrases` are (words, tag), words already normalised; a word ending
    /// in `*` is a prefix. The same words under several tags become one phrase.
    pub fn new(phrases: impl IntoIterator<Item = (Vec<String>, T)>) -> PhraseSet<T> {
        let mut vocab: FxHashMap<Box<[u8]>, u32> = FxHashMap::default();
        let mut set = PhraseSet {
            vocab_short: U64Table::default(),
            vocab_long: FxHashMap::default(),
            exact: FxHashMap::default(),
            edges: U64Table::default(),
            prefix: vec![Vec::new()],
            root_prefix: Vec::new(),
            root_prefix_index: U64Table::default(),
            root_children: Vec::new(),
            tags: vec![Vec::new()],
            has_children: vec![false],
        };
        for (words, tag) in phrases {
            if words.is_empty() {
                continue;
            }
            let mut node = ROOT;
            for w in &words {
                let next = set.tags.len() as u32;
                let child = match w.strip_suffix('*') {
                    Some(pre) => {
                        let list = &mut set.prefix[node as usize];
                        match list.iter().find(|e| *e.bytes == *pre.as_bytes()) {
                            Some(e) => e.child,
                            None => {
                                list.push(PrefixEdge::new(pre.as_bytes(), next));
                                next
                            }
                        }
                    }
                    None => {
                        let id_next = vocab.len() as u32;
                        let id = *vocab.entry(w.as_bytes().into()).or_insert(id_next);
                        *set.exact.entry((node, id)).or_insert(next)
                    }
                };
                if child == next {
                    set.tags.push(Vec::new());
                    set.prefix.push(Vec::new());
                    set.has_children.push(false);
                }
                set.has_children[node as usize] = true;
                node = child;
            }
            let tags = &mut set.tags[node as usize];
            if !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        // Bucket the root's prefix edges.
        let root = std::mem::take(&mut set.prefix[ROOT as usize]);
        let mut short = Vec::new();
        let mut buckets: FxHashMap<u64, Vec<PrefixEdge>> = FxHashMap::default();
        for edge in root {
            if edge.bytes.len() >= 3 {
                buckets.entry(edge.key & 0xFF_FFFF).or_default().push(edge);
            } else {
                short.push(edge);
            }
        }
        set.prefix[ROOT as usize] = short;
        let mut index = Vec::new();
        for (k, bucket) in buckets {
            index.push((k + 1, set.root_prefix.len() as u32));
            set.root_prefix.push(bucket);
        }
        set.root_prefix_index = U64Table::new(&index);
        let mut root_children = vec![Vec::new(); vocab.len()];
        for (word, &id) in &vocab {
            let out = &mut root_children[id as usize];
            if let Some(&c) = set.exact.get(&(ROOT, id)) {
                out.push(c);
            }
            let key = pack8(word);
            out.extend(
                set.root_prefix_edges(key)
                    .filter(|e| word.starts_with(&e.bytes))
                    .map(|e| e.child),
            );
        }
        set.root_children = root_children;
        let mut short = Vec::new();
        for (word, id) in vocab {
            if word.len() <= 8 {
                short.push((pack8(&word), id));
            } else {
                set.vocab_long.insert(word, id);
            }
        }
        set.vocab_short = U64Table::new(&short);
        let edges: Vec<(u64, u32)> = set
            .exact
            .iter()
            .map(|(&(n, w), &c)| (edge_key(n, w), c))
            .collect();
        set.edges = U64Table::new(&edges);
        set
    }

    /// The root's prefix edges that a word with this key may take (to be checked).
    fn root_prefix_edges(&self, key: u64) -> impl Iterator<Item = &PrefixEdge> {
        let bucket = match key >> 16 {
            0 => &[][..],
            _ => self
                .root_prefix_index
                .get((key & 0xFF_FFFF) + 1)
                .map_or(&[][..], |b| self.root_prefix[b as usize].as_slice()),
        };
        bucket.iter().chain(&self.prefix[ROOT as usize])
    }

    /// Finds every phrase in `norm` that lies within one sentence. `ids` and `stack` are
    /// scratch space.
    pub fn find(
        &self,
        norm: &Normalized,
        ids: &mut Vec<u32>,
        stack: &mut Vec<(u32, usize)>,
        emit: impl FnMut(Found<T>),
    ) {
        self.find_in(norm, 0..norm.tokens.len(), ids, stack, emit)
    }

    /// [`Self::find`] over the tokens of `range` only (whole sentences: no phrase crosses
    /// a sentence).
    pub fn find_in(
        &self,
        norm: &Normalized,
        range: std::ops::Range<usize>,
        ids: &mut Vec<u32>,
        stack: &mut Vec<(u32, usize)>,
        mut emit: impl FnMut(Found<T>),
    ) {
        let tokens = &norm.tokens[..range.end];
        let base = range.start;
        ids.clear();
        ids.extend(range.clone().map(|i| {
            let t = &tokens[i];
            match t.len {
                0..=8 => self.vocab_short.get(t.key),
                _ => self.vocab_long.get(norm.word(i).as_bytes()).copied(),
            }
            .unwrap_or(NONE)
        }));
        // Nodes reached by the words since the start position: (node, last token).
        stack.clear();
        for i in range {
            if ids[i - base] != NONE {
                stack.extend(
                    self.root_children[ids[i - base] as usize]
                        .iter()
                        .map(|&c| (c, i)),
                );
            } else {
                stack.extend(
                    self.root_prefix_edges(tokens[i].key)
                        .filter(|e| e.matches(norm, i))
                        .map(|e| (e.child, i)),
                );
            }
            while let Some((node, last)) = stack.pop() {
                for &tag in &self.tags[node as usize] {
                    emit(Found {
                        tag,
                        first: i as u32,
                        last: last as u32,
                    });
                }
                let j = last + 1;
                if !self.has_children[node as usize]
                    || j >= tokens.len()
                    || tokens[j].sentence != tokens[i].sentence
                {
                    continue;
                }
                if ids[j - base] != NONE
                    && let Some(c) = self.edges.get(edge_key(node, ids[j - base]))
                {
                    stack.push((c, j));
                }
                stack.extend(
                    self.prefix[node as usize]
                        .iter()
                        .filter(|e| e.matches(norm, j))
                        .map(|e| (e.child, j)),
                );
            }
        }
    }
}

#[inline]
fn edge_key(node: u32, word: u32) -> u64 {
    ((u64::from(node) << 32) | u64::from(word)) + 1
}

/// A set of words (exact, or prefixes ending in `*`), asked only "is this token in it?",
/// conservatively: a long word is known by its first eight bytes and length, so a token may
/// be reported in the set when it is not, never the other way round.
#[derive(Debug, Default)]
pub struct WordGate {
    short: U64Table,
    long: U64Table,
    /// Prefixes of five bytes or more (found through `filter`), and shorter ones.
    prefixes: Vec<(u64, u64)>,
    short_prefixes: Vec<(u64, u64)>,
    /// A 65,536-bit filter over the first five bytes of prefixes.
    filter: Vec<u64>,
    /// A 65,536-bit filter over the keys of the exact words: a word of the text whose bit
    /// is clear (and that begins no prefix) is not in the set, and most words of any text
    /// are answered so, with one load.
    exact: Vec<u64>,
    /// For [`WordGate::any_raw`]: a character of each word outside ASCII; `None` if the
    /// set cannot be checked on raw text.
    raw: Option<Vec<char>>,
}

#[inline]
fn filter_bit(k: u64) -> usize {
    (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize
}

/// A key's first five bytes: prefixes this long or longer are filtered by them.
const PREFIX5: u64 = 0xFF_FFFF_FFFF;

fn set_bit(filter: &mut [u64], k: u64) {
    filter[filter_bit(k) / 64] |= 1 << (filter_bit(k) % 64);
}

#[inline(always)]
fn bit_set(filter: &[u64], k: u64) -> bool {
    filter[filter_bit(k) / 64] >> (filter_bit(k) % 64) & 1 == 1
}

/// A word of a set as the tables keep it: a whole word (its key, and whether it is longer
/// than eight bytes) or a prefix (its key and the mask of its bytes).
enum Entry {
    Word(u64, bool),
    Prefix(u64, u64),
}

/// How a normalised word of a set is kept; a trailing `*` marks a prefix.
fn entry(w: &str) -> Entry {
    match w.strip_suffix('*') {
        Some(pre) => {
            let n = pre.len().min(8);
            let mask = if n == 8 {
                u64::MAX
            } else {
                (1u64 << (8 * n)) - 1
            };
            Entry::Prefix(pack8(pre.as_bytes()), mask)
        }
        None => Entry::Word(pack8(w.as_bytes()), w.len() > 8),
    }
}

/// Prefixes of five bytes or more, found by their first five (with the filter of those),
/// and shorter ones, which are checked at every word.
fn split_prefixes<P>(
    prefixes: Vec<P>,
    key_mask: fn(&P) -> (u64, u64),
) -> (Vec<P>, Vec<P>, Vec<u64>) {
    let mut filter = vec![0u64; 1 << 10];
    let (long, short): (Vec<P>, Vec<P>) =
        prefixes.into_iter().partition(|p| key_mask(p).1 >= PREFIX5);
    for p in &long {
        set_bit(&mut filter, key_mask(p).0 & PREFIX5);
    }
    (long, short, filter)
}

impl WordGate {
    /// `words` are normalised words, a trailing `*` marking a prefix.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> WordGate {
        let words: Vec<&str> = words.into_iter().collect();
        let raw = raw_triggers(words.iter().copied());
        let (mut short, mut long, mut prefixes) = (Vec::new(), Vec::new(), Vec::new());
        for w in words {
            match entry(w) {
                Entry::Prefix(key, mask) => prefixes.push((key, mask)),
                Entry::Word(key, false) => short.push((key, 0)),
                Entry::Word(key, true) => long.push((key, 0)),
            }
        }
        prefixes.sort_unstable();
        prefixes.dedup();
        let (long_prefixes, short_prefixes, filter) = split_prefixes(prefixes, |&(k, m)| (k, m));
        let mut exact = vec![0u64; 1 << 10];
        for &(k, _) in short.iter().chain(&long) {
            set_bit(&mut exact, k);
        }
        WordGate {
            short: U64Table::new(&short),
            long: U64Table::new(&long),
            prefixes: long_prefixes,
            short_prefixes,
            filter,
            exact,
            raw,
        }
    }

    #[inline]
    fn maybe(&self, k: u64) -> bool {
        bit_set(&self.filter, k)
    }

    /// Whether a word with this key and length may be in the set: the definition that
    /// [`Interleaved::may_hold`] and [`WordSets::of`] are tested against.
    #[inline(always)]
    pub fn contains(&self, key: u64, len: u32) -> bool {
        if !bit_set(&self.exact, key)
            && (len < 5 || !self.maybe(key & PREFIX5))
            && self.short_prefixes.is_empty()
        {
            return false;
        }
        self.contains_exactly(key, len)
    }

    /// Whether the word is in the set, without the filter.
    #[inline(never)]
    pub fn contains_exactly(&self, key: u64, len: u32) -> bool {
        let exact = if len <= 8 { &self.short } else { &self.long };
        if exact.get(key).is_some() || self.short_prefixes.iter().any(|&(k, m)| key & m == k) {
            return true;
        }
        len >= 5 && self.maybe(key & PREFIX5) && self.prefixes.iter().any(|&(k, m)| key & m == k)
    }

    /// Whether some word of the normalised text may be in the set.
    #[cfg(test)]
    pub fn any(&self, norm: &Normalized) -> bool {
        norm.tokens.iter().any(|t| self.contains(t.key, t.len))
    }

    /// Whether the text, before normalisation, may hold a word of the set: [`Self::any`]
    /// without normalising. `None` when the set holds a word this cannot answer for (one
    /// with an apostrophe, or `we`, which normalisation makes of the pronoun "us").
    ///
    /// Normalisation makes a word of ASCII letters and digits only from a run of ASCII
    /// letters and digits, the same run as here, lowercased; a possessive `'s` after it ends
    /// the run here anyway, and a run next to other letters ("aidé") makes a longer word,
    /// which may only be reported here when it is not in the set. Two things make such a
    /// word otherwise, and answer "may" at once: initials joined across full stops ("U.S."
    /// is `us`) and the Kelvin sign (which lowercases to `k`). A word with other letters
    /// ("перемирие") is answered for by one of them: text with a character that lowercases
    /// to it may hold the word.
    #[cfg(test)]
    pub fn any_raw(&self, text: &str) -> Option<bool> {
        any_raw_each([self], &interleave([self]), text).map(|[hit]| hit)
    }
}

/// The filters of up to eight gates side by side: per slot of the filter, a byte with a
/// bit per gate, so that one load answers all of them for a word of raw text (and one more,
/// for a word of five bytes or more, whether it may begin a prefix of one).
#[derive(Debug)]
pub struct Interleaved<const N: usize> {
    exact: Vec<u8>,
    prefixes: Vec<u8>,
    /// Gates with prefixes too short to filter: they are asked at every word.
    slow: u8,
}

impl<const N: usize> Interleaved<N> {
    /// The filters' answer alone: a clear bit says the gate surely lacks the word; a set
    /// one, that it may hold it (ask [`WordGate::contains_exactly`], or something that
    /// answers exactly anyway).
    #[inline(always)]
    pub fn candidates(&self, key: u64, len: u32) -> u8 {
        let mut candidates = self.exact[filter_bit(key)] | self.slow;
        if len >= 5 {
            candidates |= self.prefixes[filter_bit(key & PREFIX5)];
        }
        candidates
    }

    /// Which of `gates` (bit per gate; the gates this was made of, in the same order) may
    /// hold the word with this key and length: `WordGate::contains` of each, with one
    /// load of the filters for all of them (two for a word of five bytes or more).
    #[inline(always)]
    pub fn may_hold(&self, gates: [&WordGate; N], key: u64, len: u32) -> u8 {
        let mut candidates = self.candidates(key, len);
        let mut bits = 0u8;
        while candidates != 0 {
            let k = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            if gates[k].contains_exactly(key, len) {
                bits |= 1 << k;
            }
        }
        bits
    }
}

pub fn interleave<const N: usize>(gates: [&WordGate; N]) -> Interleaved<N> {
    assert!(N <= 8, "a byte holds the bits of eight gates");
    let side_by_side = |filter: fn(&WordGate) -> &[u64]| {
        (0..(1usize << 16))
            .map(|slot| {
                (0..N).fold(0u8, |b, k| {
                    let f = filter(gates[k]);
                    let set = f.get(slot / 64).is_some_and(|w| w >> (slot % 64) & 1 == 1);
                    b | u8::from(set) << k
                })
            })
            .collect()
    };
    Interleaved {
        exact: side_by_side(|g| &g.exact),
        prefixes: side_by_side(|g| &g.filter),
        slow: (0..N).fold(0u8, |b, k| {
            b | u8::from(!gates[k].short_prefixes.is_empty()) << k
        }),
    }
}

/// [`WordGate::any_raw`] for several gates in one pass over the text: for each, whether the
/// text may hold one of its words. `None` when one of them cannot be answered on raw text.
///
/// `filters` is [`interleave`] of the same gates.
#[cfg(test)]
pub fn any_raw_each<const N: usize>(
    gates: [&WordGate; N],
    filters: &Interleaved<N>,
    text: &str,
) -> Option<[bool; N]> {
    let mut hit = [false; N];
    let all = raw_words(gates, filters, text, &mut |bits, _, _| {
        for (k, h) in hit.iter_mut().enumerate() {
            *h |= bits >> k & 1 == 1;
        }
        hit.iter().all(|&h| h)
    })?;
    Some(if all { [true; N] } else { hit })
}

/// Scans raw text word by word and calls `found(bits, word, sentence_end)` with the gates
/// (bit per gate) that may hold each word and the word's key and length, or with
/// `sentence_end` where a sentence surely ends (see [`text::raw_sentence_end`]) and at the
/// end of the text; stops,
/// returning true, when `found` does. What normalisation makes a word of otherwise (see
/// [`WordGate::any_raw`]) comes without its key: initials joined across full stops ("U.S.")
/// with every gate, a character outside ASCII with the gates it may belong to. `None` when
/// a gate cannot be answered on raw text.
#[inline(always)]
pub fn raw_words<const N: usize>(
    gates: [&WordGate; N],
    filters: &Interleaved<N>,
    text: &str,
    found: &mut impl FnMut(u8, Option<(u64, u32)>, bool) -> bool,
) -> Option<bool> {
    let mut triggers: [&[char]; N] = [&[]; N];
    for (t, g) in triggers.iter_mut().zip(gates) {
        *t = g.raw.as_deref()?;
    }
    let every = ((1u16 << N) - 1) as u8;
    let b = text.as_bytes();
    // The last word: where it ends, its key and length.
    let mut word = (usize::MAX, 0u64, 0usize);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c >= 0x80 {
            let ch = text[i..].chars().next().unwrap_or(' ');
            let mut bits = 0u8;
            for (k, t) in triggers.iter().enumerate() {
                if ch == '\u{212A}' || (!t.is_empty() && ch.to_lowercase().any(|l| t.contains(&l)))
                {
                    bits |= 1 << k;
                }
            }
            if bits != 0 && found(bits, None, false) {
                return Some(true);
            }
            i += ch.len_utf8();
            continue;
        }
        if !c.is_ascii_alphanumeric() {
            if matches!(c, b'.' | b'!' | b'?' | b';')
                && text::raw_sentence_end(text, i, word)
                && found(0, None, true)
            {
                return Some(true);
            }
            i += 1;
            continue;
        }
        let start = i;
        let key;
        (i, key) = word_key(b, start);
        let len = i - start;
        word = (i, key, len);
        if len == 1
            && c.is_ascii_uppercase()
            && b.get(i) == Some(&b'.')
            && b.get(i + 1).is_some_and(u8::is_ascii_uppercase)
            && b.get(i + 2) == Some(&b'.')
        {
            if found(every, None, false) {
                return Some(true);
            }
            continue;
        }
        let bits = filters.may_hold(gates, key, len as u32);
        if bits != 0 && found(bits, Some((key, len as u32)), false) {
            return Some(true);
        }
    }
    // The end of the text ends its last sentence.
    Some(found(0, None, true))
}

/// Whether raw text shows a normalised word as one word: letters and digits only ("doesn't"
/// is two words to the raw scan), and not "we" (which stands for the pronoun "us").
pub fn raw_readable(w: &str) -> bool {
    !w.is_empty() && w != "we" && w.chars().all(char::is_alphanumeric)
}

/// What [`WordGate::any_raw`] needs of a set of normalised words: for each word with a
/// character outside ASCII, one such character; `None` if a word cannot be answered for.
fn raw_triggers<'a>(words: impl IntoIterator<Item = &'a str>) -> Option<Vec<char>> {
    let mut triggers = Vec::new();
    for w in words {
        let w = w.strip_suffix('*').unwrap_or(w);
        if !raw_readable(w) {
            return None;
        }
        if let Some(c) = w.chars().find(|c| !c.is_ascii())
            && !triggers.contains(&c)
        {
            triggers.push(c);
        }
    }
    Some(triggers)
}

/// Several sets of normalised words (at most 64), asked together: which of them may hold a
/// word, bit per set. `WordGate::contains` of each set at once, with one lookup of
/// the word (a word longer than eight bytes is known by its first eight, so a long word
/// may be answered for by another with the same start) and one pass over the prefixes it
/// may begin.
#[derive(Debug, Default)]
pub struct WordSets {
    /// Words of up to eight bytes and longer ones, each to its entry in `bits`.
    short: U64Table,
    long: U64Table,
    bits: Vec<u64>,
    /// Prefixes (key, mask, sets): those of five bytes or more are asked only when the
    /// word's first five bytes may begin one.
    prefixes: Vec<(u64, u64, u64)>,
    short_prefixes: Vec<(u64, u64, u64)>,
    filter: Vec<u64>,
}

impl WordSets {
    /// `sets` are lists of normalised words, a trailing `*` marking a prefix; the first 64
    /// are kept.
    pub fn new<S: AsRef<str>>(sets: &[Vec<S>]) -> WordSets {
        // Per word (its key, whether it is long) and per prefix (key, mask): its sets.
        let mut words: std::collections::BTreeMap<(u64, bool), u64> = Default::default();
        let mut prefixes: std::collections::BTreeMap<(u64, u64), u64> = Default::default();
        for (i, set) in sets.iter().take(64).enumerate() {
            for w in set {
                match entry(w.as_ref()) {
                    Entry::Prefix(key, mask) => *prefixes.entry((key, mask)).or_default() |= 1 << i,
                    Entry::Word(key, is_long) => {
                        *words.entry((key, is_long)).or_default() |= 1 << i
                    }
                }
            }
        }
        let mut bits = Vec::new();
        let (mut short, mut long) = (Vec::new(), Vec::new());
        for ((key, is_long), b) in words {
            if is_long { &mut long } else { &mut short }.push((key, bits.len() as u32));
            bits.push(b);
        }
        let prefixes: Vec<_> = prefixes.into_iter().map(|((k, m), b)| (k, m, b)).collect();
        let (long_prefixes, short_prefixes, filter) = split_prefixes(prefixes, |&(k, m, _)| (k, m));
        WordSets {
            short: U64Table::new(&short),
            long: U64Table::new(&long),
            bits,
            prefixes: long_prefixes,
            short_prefixes,
            filter,
        }
    }

    /// The sets (bit per set) that may hold the normalised word with this key and length.
    pub fn of(&self, key: u64, len: u32) -> u64 {
        let table = if len <= 8 { &self.short } else { &self.long };
        let mut bits = table.get(key).map_or(0, |v| self.bits[v as usize]);
        let mut prefixes = |list: &[(u64, u64, u64)]| {
            for &(k, m, b) in list {
                if key & m == k {
                    bits |= b;
                }
            }
        };
        prefixes(&self.short_prefixes);
        if len >= 5 && bit_set(&self.filter, key & PREFIX5) {
            prefixes(&self.prefixes);
        }
        bits
    }
}

/// An open-addressing map from non-zero u64 keys to u32 values, filled once: a multiply
/// and a shift to hash, linear probing, a table at most a quarter full. Lookups are a few
/// instructions, which matters because every word of every item is looked up.
#[derive(Debug, Default)]
struct U64Table {
    keys: Vec<u64>,
    values: Vec<u32>,
    shift: u32,
    /// One bit per hash of a key present (65,536 bits, 8 KiB): most lookups are misses,
    /// and a clear bit answers them with one load.
    filter: Vec<u64>,
}

impl U64Table {
    fn new(entries: &[(u64, u32)]) -> U64Table {
        let size = (entries.len() * 4).next_power_of_two().max(16);
        let mut t = U64Table {
            keys: vec![0; size],
            values: vec![0; size],
            shift: 64 - size.trailing_zeros(),
            filter: vec![0; 1 << 10],
        };
        for &(k, v) in entries {
            t.filter[filter_bit(k) / 64] |= 1 << (filter_bit(k) % 64);
            let mut i = t.slot(k);
            while t.keys[i] != 0 && t.keys[i] != k {
                i = (i + 1) & (size - 1);
            }
            t.keys[i] = k;
            t.values[i] = v;
        }
        t
    }

    #[inline]
    fn slot(&self, k: u64) -> usize {
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[inline]
    fn get(&self, k: u64) -> Option<u32> {
        let bit = filter_bit(k);
        if self
            .filter
            .get(bit / 64)
            .is_none_or(|w| w >> (bit % 64) & 1 == 0)
        {
            return None;
        }
        let mask = self.keys.len() - 1;
        let mut i = self.slot(k);
        loop {
            let found = self.keys[i];
            if found == k {
                return Some(self.values[i]);
            }
            if found == 0 {
                return None;
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Field;

    fn set(phrases: &[(&str, u8)]) -> PhraseSet<u8> {
        PhraseSet::new(
            phrases
                .iter()
                .map(|(p, t)| (p.split(' ').map(str::to_owned).collect(), *t)),
        )
    }

    fn find(set: &PhraseSet<u8>, text: &str) -> Vec<(u8, u32, u32)> {
        let mut n = Normalized::default();
        n.clear();
        n.push_field(Field::Summary, text);
        let mut out = Vec::new();
        set.find(&n, &mut Vec::new(), &mut Vec::new(), |f| {
            out.push((f.tag, f.first, f.last))
        });
        out.sort();
        out
    }

    #[test]
    fn exact_prefix_and_multiword() {
        let s = set(&[
            ("truce", 1),
            ("reject*", 2),
            ("refus* to", 3),
            ("cease fire", 1),
            ("turn* down", 2),
        ]);
        assert_eq!(
            find(&s, "Kremlin rejects the truce"),
            [(1, 3, 3), (2, 1, 1)]
        );
        assert_eq!(
            find(&s, "Moscow refuses to sign a cease-fire"),
            [(1, 5, 6), (3, 1, 2)]
        );
        assert_eq!(find(&s, "It turned the plan down"), []);
        assert_eq!(find(&s, "It turned down the plan"), [(2, 1, 2)]);
        assert_eq!(find(&s, "truces"), []);
    }

    #[test]
    fn overlapping_phrases_all_match() {
        let s = set(&[
            ("halt", 1),
            ("halt the fighting", 2),
            ("the fighting", 3),
            ("fight*", 4),
        ]);
        assert_eq!(
            find(&s, "halt the fighting"),
            [(1, 0, 0), (2, 0, 2), (3, 1, 2), (4, 2, 2)]
        );
    }

    #[test]
    fn phrases_stay_inside_a_sentence() {
        let s = set(&[("cease fire", 1)]);
        assert_eq!(find(&s, "They agreed to cease. Fire broke out."), []);
    }

    #[test]
    fn one_phrase_under_two_tags_reports_both() {
        let s = set(&[("halt", 1), ("halt", 2)]);
        assert_eq!(find(&s, "a halt"), [(1, 1, 1), (2, 1, 1)]);
    }
}
