//! Stories: the same event from many outlets, told once. Pure functions; the store applies
//! them inside its ingest transaction.
//!
//! An item with a signal joins the most similar story of the same signal (or topic, with
//! `stories.join = "topic"`) reported within `stories.window`, when their content words are
//! at least `stories.similarity` alike ([`Terms::similarity`]); otherwise it opens a story,
//! which alerts. Joining is silent: it raises the story's source count (distinct feeds).

mod text;

use sha2::{Digest, Sha256};

use crate::domain::{ItemKey, SignalKind};
pub use text::{Terms, normalize_link, text_hash};

/// A story's stable id: its first item and its signal.
pub fn story_id(first_item: &ItemKey, signal: SignalKind) -> String {
    let mut h = Sha256::new();
    h.update(first_item.as_str().as_bytes());
    h.update([0]);
    h.update(signal.as_str().as_bytes());
    format!("st-{}", hex::encode(&h.finalize()[..6]))
}

/// One member of a recent story, as a candidate for a new item to join.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub story_id: String,
    pub terms: Terms,
}

/// The story the item with `terms` joins: the one with the most similar member, if that
/// similarity reaches `threshold`.
pub fn best_match<'a>(
    terms: &Terms,
    candidates: &'a [Candidate],
    threshold: f32,
) -> Option<(&'a str, f32)> {
    candidates
        .iter()
        .map(|c| (c.story_id.as_str(), terms.similarity(&c.terms)))
        .filter(|(_, s)| *s >= threshold)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FeedName;

    #[test]
    fn the_closest_story_above_the_threshold_wins() {
        let c = |id: &str, title: &str| Candidate {
            story_id: id.into(),
            terms: Terms::of(title, ""),
        };
        let candidates = [
            c("a", "Lavrov dismisses Vatican Easter truce offer"),
            c("b", "Peskov rejects Riyadh 30-day energy truce"),
        ];
        let item = Terms::of("Riyadh energy truce: Peskov says no to 30-day halt", "");
        assert_eq!(best_match(&item, &candidates, 0.5).map(|m| m.0), Some("b"));
        let unrelated = Terms::of("Zakharova rejects Black Sea grain corridor talks", "");
        assert_eq!(best_match(&unrelated, &candidates, 0.5), None);
    }

    #[test]
    fn story_ids_are_stable() {
        let f = FeedName::parse("f").unwrap();
        let k = ItemKey::compute(&f, Some("g"), None, "", "");
        assert_eq!(
            story_id(&k, SignalKind::RussiaRejects),
            story_id(&k, SignalKind::RussiaRejects)
        );
        assert_ne!(
            story_id(&k, SignalKind::RussiaRejects),
            story_id(&k, SignalKind::RussiaAccepts)
        );
        assert!(story_id(&k, SignalKind::RussiaRejects).starts_with("st-"));
    }
}
