//! What two reports of one event have in common: their content words.
//!
//! Two outlets rarely share a sentence, so shingles of consecutive words (MinHash, SimHash)
//! miss rewrites; what they share are the event's particulars — who (Peskov, Lavrov), what
//! (a 30-day energy truce, the Black Sea), where (Riyadh, Istanbul), numbers. A report is
//! reduced to its set of content words: lower-cased, plural and possessive endings cut, function
//! words dropped. Words every report on this beat uses (Russia, Kremlin, ceasefire, rejects…)
//! weigh a quarter of the others, so two different rejections of two different proposals do
//! not look alike just because both are Kremlin rejections.
//!
//! The measure is the weighted overlap coefficient, `shared / min(a, b)`, so a headline alone
//! still matches the full report it heads; the smaller side counts as at least
//! `MIN_MASS`, so a three-word headline of beat words matches nothing by itself.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

/// The content words of one report, sorted and unique, with what comparing needs computed
/// once: each word's hash and weight, sorted by hash, and their total weight.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Terms {
    words: Vec<String>,
    keys: Vec<(u64, f32)>,
    mass: f32,
}

/// FNV-1a: words are short, and a collision only makes two reports look a word more alike.
fn word_hash(w: &str) -> u64 {
    w.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Words that carry no particulars.
const STOP: &[&str] = &[
    "a",
    "about",
    "above",
    "according",
    "after",
    "again",
    "against",
    "ago",
    "all",
    "also",
    "am",
    "amid",
    "among",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "doe",
    "does",
    "during",
    "each",
    "early",
    "either",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "him",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "just",
    "late",
    "later",
    "latest",
    "live",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "new",
    "news",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "out",
    "over",
    "own",
    "per",
    "report",
    "reported",
    "reportedly",
    "reuter",
    "said",
    "same",
    "say",
    "saying",
    "says",
    "she",
    "should",
    "since",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "today",
    "told",
    "too",
    "under",
    "until",
    "up",
    "update",
    "upon",
    "very",
    "via",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "yesterday",
    "yet",
    "you",
    "your",
];

/// Words every report on this beat uses: they count a quarter.
const BEAT: &[&str] = &[
    "accept",
    "accepted",
    "accepting",
    "administration",
    "agree",
    "agreed",
    "agreement",
    "aid",
    "america",
    "american",
    "arm",
    "armed",
    "assistance",
    "attack",
    "cease",
    "ceasefire",
    "conflict",
    "deal",
    "delivery",
    "dismiss",
    "dismisse",
    "dismissed",
    "fight",
    "fighting",
    "fire",
    "foreign",
    "freeze",
    "frozen",
    "government",
    "halt",
    "halted",
    "help",
    "house",
    "intelligence",
    "kiev",
    "kremlin",
    "kyiv",
    "leader",
    "lift",
    "lifted",
    "military",
    "minister",
    "ministry",
    "moscow",
    "negotiation",
    "offer",
    "official",
    "package",
    "pause",
    "paused",
    "peace",
    "plan",
    "president",
    "proposal",
    "propose",
    "proposed",
    "putin",
    "refuse",
    "refused",
    "reject",
    "rejected",
    "rejecting",
    "rejection",
    "restore",
    "restored",
    "resume",
    "resumed",
    "russia",
    "russian",
    "share",
    "sharing",
    "shipment",
    "spokesman",
    "spokesperson",
    "spokeswoman",
    "state",
    "statement",
    "stop",
    "supplie",
    "supply",
    "support",
    "suspend",
    "suspended",
    "talk",
    "truce",
    "trump",
    "ukraine",
    "ukrainian",
    "united",
    "us",
    "war",
    "washington",
    "weapon",
    "white",
    "zelensky",
    "zelenskyy",
];

/// The smallest weight the smaller side of a comparison counts as.
pub const MIN_MASS: f32 = 2.0;
/// Weight of a beat word.
const BEAT_WEIGHT: f32 = 0.25;

fn weight(term: &str) -> f32 {
    if BEAT.binary_search(&term).is_ok() {
        BEAT_WEIGHT
    } else {
        1.0
    }
}

/// Cuts plural and possessive endings of Latin-script words ("talks" → "talk", "Russia's" →
/// "russia", "parties" → "party"); leaves other scripts as they are.
fn stem(word: &str) -> &str {
    let w = word
        .strip_suffix("'s")
        .or_else(|| word.strip_suffix("’s"))
        .unwrap_or(word);
    if !w.is_ascii() || w.len() <= 3 {
        return w;
    }
    if w.ends_with("ss") || w.ends_with("us") || w.ends_with("is") {
        return w;
    }
    w.strip_suffix('s').unwrap_or(w)
}

impl Terms {
    /// The content words of a title and summary.
    pub fn of(title: &str, summary: &str) -> Terms {
        let mut set = BTreeSet::new();
        for text in [title, summary] {
            for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’')) {
                let raw = raw.trim_matches(|c| c == '\'' || c == '’');
                if raw.is_empty() {
                    continue;
                }
                let lower = raw.to_lowercase();
                let mut word = stem(&lower).to_owned();
                if word.ends_with("ie") && lower.ends_with("ies") {
                    word.pop();
                    word.pop();
                    word.push('y');
                }
                let short = word.chars().count() < 2 && !word.chars().all(|c| c.is_ascii_digit());
                if short || STOP.binary_search(&word.as_str()).is_ok() {
                    continue;
                }
                set.insert(word);
            }
        }
        Terms::from_words(set.into_iter().collect())
    }

    /// `words` sorted and unique.
    fn from_words(words: Vec<String>) -> Terms {
        let mut keys: Vec<(u64, f32)> = words.iter().map(|w| (word_hash(w), weight(w))).collect();
        keys.sort_unstable_by_key(|k| k.0);
        keys.dedup_by_key(|k| k.0);
        let mass = keys.iter().map(|k| k.1).sum();
        Terms { words, keys, mass }
    }

    /// Reads terms back from their stored form (space-separated).
    pub fn from_stored(s: &str) -> Terms {
        let mut v: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
        v.sort();
        v.dedup();
        Terms::from_words(v)
    }

    /// The stored form: space-separated.
    pub fn to_stored(&self) -> String {
        self.words.join(" ")
    }

    /// How alike two reports are, in [0, 1]: the weight of the words they share over the
    /// weight of the smaller (at least `MIN_MASS`, 2.0).
    pub fn similarity(&self, other: &Terms) -> f32 {
        let (mut i, mut j, mut shared) = (0, 0, 0.0f32);
        let (a, b) = (&self.keys, &other.keys);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    shared += a[i].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        let smaller = self.mass.min(other.mass).max(MIN_MASS);
        (shared / smaller).min(1.0)
    }
}

/// A link reduced to what identifies the page: scheme and host lower-cased, `www.` dropped,
/// fragment, tracking parameters (`utm_*`, `fbclid`, `gclid`…) and a trailing slash removed.
/// `None` for a link that is not http(s).
pub fn normalize_link(link: &str) -> Option<String> {
    let mut url = url::Url::parse(link.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_fragment(None);
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !(k.starts_with("utm_")
                || matches!(
                    k.as_str(),
                    "fbclid" | "gclid" | "ocid" | "cmpid" | "at_medium" | "at_campaign" | "ref"
                ))
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_owned();
    let path = url.path().trim_end_matches('/').to_owned();
    let query = url.query().map(|q| format!("?{q}")).unwrap_or_default();
    Some(format!("{host}{path}{query}"))
}

/// A hash of a report's words in order, ignoring case, punctuation and white space: the same
/// text under a fresh GUID has the same hash.
pub fn text_hash(title: &str, summary: &str) -> String {
    // The words go into one buffer, hashed once: a hasher update per word cost more than
    // the words.
    let mut buf = String::with_capacity(title.len() + summary.len() + 2);
    for text in [title, summary] {
        for w in text.split(|c: char| !c.is_alphanumeric()) {
            if w.is_empty() {
                continue;
            }
            if w.is_ascii() {
                let start = buf.len();
                buf.push_str(w);
                buf[start..].make_ascii_lowercase();
            } else {
                buf.extend(w.chars().flat_map(char::to_lowercase));
            }
            buf.push(' ');
        }
        buf.push('\0');
    }
    hex::encode(&Sha256::digest(buf.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_are_sorted_for_binary_search() {
        assert!(STOP.windows(2).all(|w| w[0] < w[1]), "STOP is not sorted");
        assert!(BEAT.windows(2).all(|w| w[0] < w[1]), "BEAT is not sorted");
    }

    #[test]
    fn terms_drop_function_words_and_endings() {
        let t = Terms::of(
            "The Kremlin's answer: talks in Riyadh",
            "Parties say the 30-day truce",
        );
        assert_eq!(
            t.to_stored(),
            "30 answer day kremlin party riyadh talk truce"
        );
        assert_eq!(Terms::from_stored(&t.to_stored()), t);
    }

    #[test]
    fn rewordings_of_one_event_are_alike_and_other_events_are_not() {
        let a = Terms::of(
            "Kremlin rejects 30-day energy truce drafted in Riyadh",
            "Peskov said Moscow would not halt strikes on power plants.",
        );
        let b = Terms::of(
            "Moscow turns down Riyadh plan for a month-long halt to energy strikes",
            "Dmitry Peskov told reporters the 30-day proposal was unacceptable.",
        );
        let headline_only = Terms::of("Peskov: no 30-day energy truce", "");
        let other = Terms::of(
            "Lavrov dismisses Vatican's Easter truce offer",
            "The foreign minister called the Pope's initiative premature.",
        );
        assert!(a.similarity(&b) >= 0.5, "{}", a.similarity(&b));
        assert!(a.similarity(&headline_only) >= 0.5);
        assert!(a.similarity(&other) < 0.3, "{}", a.similarity(&other));
        // Beat words alone do not make a match.
        let bare = Terms::of("Kremlin rejects truce", "");
        assert!(bare.similarity(&a) < 0.5, "{}", bare.similarity(&a));
    }

    #[test]
    fn different_rejections_of_different_proposals_stay_apart() {
        let events = [
            "Kremlin rejects the Easter truce proposed by the Vatican",
            "Peskov rejects a Black Sea ceasefire drafted in Istanbul",
            "Lavrov rejects the 30-day energy ceasefire agreed in Riyadh",
            "Zakharova rejects Christmas truce floated by Hungary's Orban",
            "Moscow rejects Turkish plan for a Zaporizhzhia nuclear plant truce",
            "Ushakov rejects Geneva framework for an Orthodox holiday ceasefire",
            "Kremlin rejects Brazilian-Chinese initiative for an immediate ceasefire",
            "Russian foreign ministry rejects Finnish proposal for a May Day truce",
        ];
        let terms: Vec<Terms> = events.iter().map(|e| Terms::of(e, "")).collect();
        for (i, a) in terms.iter().enumerate() {
            for (j, b) in terms.iter().enumerate().skip(i + 1) {
                let s = a.similarity(b);
                assert!(s < 0.5, "{:?} ~ {:?}: {s}", events[i], events[j]);
            }
        }
    }

    #[test]
    fn links_lose_tracking_and_fragments() {
        assert_eq!(
            normalize_link("https://www.Example.org/news/1/?utm_source=rss&id=4#top").as_deref(),
            Some("example.org/news/1?id=4")
        );
        assert_eq!(
            normalize_link("http://example.org/news/1"),
            normalize_link("https://example.org/news/1/?utm_medium=feed")
        );
        assert_eq!(normalize_link("javascript:alert(1)"), None);
    }

    #[test]
    fn text_hash_ignores_case_and_punctuation() {
        assert_eq!(
            text_hash("Kremlin rejects truce!", "Peskov  said so."),
            text_hash("kremlin rejects truce", "Peskov said so")
        );
        assert_ne!(
            text_hash("Kremlin rejects truce", ""),
            text_hash("Kremlin accepts truce", "")
        );
    }
}
