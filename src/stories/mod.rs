//! Stories: the same event from many outlets, told once. Pure functions; the store applies
//! them inside its ingest transaction.
//!
//! An event is (actor, signal, object) within `stories.window`: [`placement::decide`] says
//! whether a report opens one (and alerts) or joins one (silently: it raises the event's
//! source count). The object the classifier extracts decides first; content words
//! ([`Terms::similarity`]) decide only where the object is not named.

pub mod placement;
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

/// The story the item with `terms` joins: the one with the most similar member, if that
/// similarity reaches `threshold`. `candidates` are (story id, a member's words).
pub fn best_match<'a>(
    terms: &Terms,
    candidates: impl IntoIterator<Item = (&'a str, &'a Terms)>,
    threshold: f32,
) -> Option<(&'a str, f32)> {
    candidates
        .into_iter()
        .map(|(story, member)| (story, terms.similarity(member)))
        .filter(|(_, s)| *s >= threshold)
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FeedName;

    #[test]
    fn the_closest_story_above_the_threshold_wins() {
        let candidates = [
            (
                "a",
                Terms::of("Lavrov dismisses Vatican Easter truce offer", ""),
            ),
            (
                "b",
                Terms::of("Peskov rejects Riyadh 30-day energy truce", ""),
            ),
        ];
        let each = || candidates.iter().map(|(id, t)| (*id, t));
        let item = Terms::of("Riyadh energy truce: Peskov says no to 30-day halt", "");
        assert_eq!(best_match(&item, each(), 0.5).map(|m| m.0), Some("b"));
        let unrelated = Terms::of("Zakharova rejects Black Sea grain corridor talks", "");
        assert_eq!(best_match(&unrelated, each(), 0.5), None);
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
