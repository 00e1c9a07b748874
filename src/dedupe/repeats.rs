//! Repeats: the same report seen again. Pure; the store keeps the seen set and asks.
//!
//! An item is known again by its key (GUID, else link, else title and date), scoped to its
//! feed. An item with a signal is also known by its text (a fresh GUID on the same words is
//! a repeat) and by its link with alike words (an edited report is not a new one). What
//! each leaves in the seen set is a [`Fingerprint`].

use std::collections::{HashMap, HashSet};

use sha2::{Digest, Sha256};

use super::{Terms, normalize_link, text_hash};
use crate::domain::{Item, Signal};

/// An item with its signals and what identifies it beyond its key: computed by the caller,
/// off the writer (it is CPU work, and the writer is the one thing that cannot be parallel).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub item: Item,
    pub signals: Vec<Signal>,
    /// What the item leaves in the seen set: its key, scoped to the feed.
    pub key_fp: Fingerprint,
    /// For items with signals only (an item without a signal can never alert, so its
    /// repeats cost nothing but a classification): what tells a repeat under a fresh GUID
    /// or an edited report from a new one.
    pub signalled: Option<Signalled>,
}

#[derive(Debug, Clone)]
pub struct Signalled {
    /// Content words: stories, and telling an edited report at the same link from a new one.
    pub terms: Terms,
    pub link: Option<String>,
    pub hash: String,
    pub text_fp: Fingerprint,
}

impl Prepared {
    pub fn new(item: Item, signals: Vec<Signal>) -> Prepared {
        let feed = item.feed.as_str();
        let signalled = (!signals.is_empty()).then(|| {
            let hash = text_hash(&item.title, &item.summary);
            Signalled {
                terms: Terms::of(&item.title, &item.summary),
                link: item.link.as_deref().and_then(normalize_link),
                text_fp: fingerprint(FpKind::Text, feed, &hash),
                hash,
            }
        });
        Prepared {
            key_fp: fingerprint(FpKind::Key, feed, item.key.as_str()),
            signalled,
            item,
            signals,
        }
    }

    /// What the item leaves in the seen set: its key, and its text if it has a signal.
    pub fn fingerprints(&self) -> impl Iterator<Item = (Fingerprint, FpKind)> + '_ {
        [
            Some((self.key_fp, FpKind::Key)),
            self.signalled.as_ref().map(|s| (s.text_fp, FpKind::Text)),
        ]
        .into_iter()
        .flatten()
    }
}

/// A row of the seen set (see `migrations/0004_seen.sql`): 4 bytes of SHA-256 of the feed's
/// name, then 12 of SHA-256 of (kind, feed, value). The feed's prefix keeps a feed's
/// fingerprints together in the table's B-tree, so an ingest reads and rewrites a few pages
/// of its own instead of one random page per item (which made every group commit write most
/// of the table to the WAL again); within a feed, 96 bits keep values apart.
pub type Fingerprint = [u8; 16];

/// What a fingerprint stands for (the `kind` column of `seen`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FpKind {
    /// An item's key: every item.
    Key = 0,
    /// The text hash of an item with a signal.
    Text = 1,
}

/// The fingerprint of `value` (an item key or a text hash) in `feed`.
pub fn fingerprint(kind: FpKind, feed: &str, value: &str) -> Fingerprint {
    let mut fp = [0; 16];
    fp[..4].copy_from_slice(&feed_prefix(feed));
    let mut h = Sha256::new();
    h.update([kind as u8]);
    h.update(feed.as_bytes());
    h.update([0]);
    h.update(value.as_bytes());
    fp[4..].copy_from_slice(&h.finalize()[..12]);
    fp
}

/// The first 4 bytes of SHA-256 of `feed`'s name, remembered for the last feed asked about
/// on this thread: a feed's items are prepared one after another.
fn feed_prefix(feed: &str) -> [u8; 4] {
    thread_local! {
        static LAST: std::cell::RefCell<(String, [u8; 4])> =
            const { std::cell::RefCell::new((String::new(), [0; 4])) };
    }
    LAST.with_borrow_mut(|(name, prefix)| {
        if name.as_str() != feed || name.is_empty() {
            *prefix = Sha256::digest(feed.as_bytes())[..4]
                .try_into()
                .expect("4 bytes");
            name.clear();
            name.push_str(feed);
        }
        *prefix
    })
}

/// The items of a fetch that brought a fingerprint `added` to the seen set, each with
/// whether its text is new too.
///
/// In document order, the first item to bring a fingerprint claims it: a later item of the
/// same document with the same key is the same item, with the same text a repeat.
pub fn fresh_items<'a>(
    items: &'a [Prepared],
    added: &HashSet<Fingerprint>,
) -> Vec<(&'a Prepared, bool)> {
    let mut claimed: HashSet<Fingerprint> = HashSet::new();
    let mut claim = |fp: Fingerprint| added.contains(&fp) && claimed.insert(fp);
    let mut fresh = Vec::new();
    for p in items {
        let key = claim(p.key_fp);
        let new_text = p.signalled.as_ref().is_none_or(|s| claim(s.text_fp));
        if key {
            fresh.push((p, new_text));
        }
    }
    fresh
}

/// Earlier reports at a link.
pub type ByLink = HashMap<String, Vec<Option<Terms>>>;

/// Whether a fresh signal item repeats an earlier report: the same text (its text
/// fingerprint was not new), or a known link with alike words. Reports of the same fetch
/// count as earlier for the ones after them.
pub struct Repeats {
    by_link: ByLink,
    similarity: f32,
}

impl Repeats {
    /// `by_link`: the earlier reports of the feed at the links of its fresh items.
    pub fn new(by_link: ByLink, similarity: f32) -> Repeats {
        Repeats {
            by_link,
            similarity,
        }
    }

    /// Whether `item`, fresh to the seen set by its key and (`new_text`) maybe by its text,
    /// repeats an earlier report. An item without a signal never does: it cannot alert.
    pub fn is_repeat(&mut self, item: &Prepared, new_text: bool) -> bool {
        let Some(s) = item.signalled.as_ref() else {
            return false;
        };
        let alike = |earlier: &Vec<Option<Terms>>| {
            earlier
                .iter()
                .flatten()
                .any(|t| s.terms.similarity(t) >= self.similarity)
        };
        let repeat = !new_text
            || s.link
                .as_ref()
                .and_then(|l| self.by_link.get(l))
                .is_some_and(alike);
        if let (false, Some(l)) = (repeat, &s.link) {
            self.by_link
                .entry(l.clone())
                .or_default()
                .push(Some(s.terms.clone()));
        }
        repeat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Evidence, FeedName, Field, ItemKey, SignalKind};

    fn report(guid: &str, link: &str, title: &str, signal: bool) -> Prepared {
        let feed = FeedName::parse("wire").unwrap();
        let item = Item {
            key: ItemKey::compute(&feed, Some(guid), None, title, ""),
            feed,
            guid: Some(guid.into()),
            link: Some(link.into()),
            title: title.into(),
            summary: String::new(),
            published: None,
        };
        let signals = signal
            .then(|| Signal {
                kind: SignalKind::RussiaRejects,
                score: 0.9,
                evidence: Evidence {
                    rule: "r".into(),
                    words: Vec::new(),
                    sentence: title.into(),
                    field: Field::Title,
                    object: None,
                },
            })
            .into_iter()
            .collect();
        Prepared::new(item, signals)
    }

    fn added(items: &[&Prepared]) -> HashSet<Fingerprint> {
        items
            .iter()
            .flat_map(|p| p.fingerprints().map(|(fp, _)| fp))
            .collect()
    }

    #[test]
    fn the_same_words_under_a_fresh_guid_are_a_repeat() {
        let first = report(
            "a",
            "https://x.org/1",
            "Moscow spurns the thirty-day truce",
            true,
        );
        let again = report(
            "b",
            "https://x.org/2",
            "Moscow spurns the thirty-day truce",
            true,
        );
        // The text fingerprint of `again` is the one `first` left: not added this time.
        let mut seen = added(&[&again]);
        for (fp, _) in first.fingerprints() {
            if fp != again.key_fp {
                seen.remove(&fp);
            }
        }
        let fresh = fresh_items(std::slice::from_ref(&again), &seen);
        assert_eq!(fresh.len(), 1, "a new key is a fresh item");
        assert!(!fresh[0].1, "but its text is not new");
        let mut repeats = Repeats::new(ByLink::new(), 0.45);
        assert!(repeats.is_repeat(fresh[0].0, fresh[0].1));
    }

    #[test]
    fn an_edited_report_at_a_known_link_repeats_it_and_other_words_do_not() {
        let link = "https://x.org/story";
        let first = report(
            "a",
            link,
            "Kremlin turns down the US truce plan for Ukraine",
            true,
        );
        let edited = report(
            "b",
            link,
            "Kremlin turns down US truce plan for Ukraine, Peskov says",
            true,
        );
        let other = report(
            "c",
            link,
            "Washington halts weapons shipments to Kyiv",
            true,
        );
        let mut by_link = ByLink::new();
        by_link
            .entry(normalize_link(link).unwrap())
            .or_default()
            .push(Some(first.signalled.as_ref().unwrap().terms.clone()));
        let mut repeats = Repeats::new(by_link, 0.45);
        assert!(repeats.is_repeat(&edited, true));
        assert!(!repeats.is_repeat(&other, true));
    }

    #[test]
    fn reports_of_one_fetch_count_as_earlier_for_the_ones_after_them() {
        let link = "https://x.org/live";
        let a = report("a", link, "Russia rejects the energy truce proposal", true);
        let b = report(
            "b",
            link,
            "Russia rejects energy truce proposal, Lavrov says",
            true,
        );
        let mut repeats = Repeats::new(ByLink::new(), 0.45);
        assert!(!repeats.is_repeat(&a, true));
        assert!(repeats.is_repeat(&b, true));
    }

    #[test]
    fn an_item_without_a_signal_is_never_a_repeat_and_leaves_only_its_key() {
        let quiet = report("q", "https://x.org/q", "Weather in Kyiv", false);
        assert_eq!(quiet.fingerprints().count(), 1);
        let mut repeats = Repeats::new(ByLink::new(), 0.0);
        assert!(!repeats.is_repeat(&quiet, false));
    }

    #[test]
    fn within_a_document_the_first_item_claims_a_key() {
        let a = report("same", "https://x.org/1", "Kremlin rejects truce", true);
        let b = report("same", "https://x.org/1", "Kremlin rejects truce", true);
        let items = [a, b];
        let seen = added(&[&items[0]]);
        assert_eq!(fresh_items(&items, &seen).len(), 1);
        assert!(fresh_items(&items, &HashSet::new()).is_empty());
    }

    #[test]
    fn a_fingerprint_starts_with_its_feeds_hash_whatever_came_before() {
        let sha = |s: &str| Sha256::digest(s.as_bytes());
        let expected = |feed: &str, value: &str| {
            let mut tail = Sha256::new();
            tail.update([FpKind::Key as u8]);
            tail.update(feed.as_bytes());
            tail.update([0]);
            tail.update(value.as_bytes());
            let mut fp = [0u8; 16];
            fp[..4].copy_from_slice(&sha(feed)[..4]);
            fp[4..].copy_from_slice(&tail.finalize()[..12]);
            fp
        };
        // Feeds in turn, and again, on one thread: the remembered prefix never leaks.
        for feed in [
            "kyiv-independent",
            "meduza",
            "kyiv-independent",
            "tass",
            "tass",
            "a",
        ] {
            assert_eq!(
                fingerprint(FpKind::Key, feed, "guid-1"),
                expected(feed, "guid-1")
            );
        }
        assert_ne!(
            fingerprint(FpKind::Key, "meduza", "x"),
            fingerprint(FpKind::Text, "meduza", "x")
        );
    }
}
