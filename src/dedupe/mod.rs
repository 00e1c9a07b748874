//! The dedupe stage, pure: the same report seen again ([`repeats`]), and the same event from
//! many outlets, told once ([`placement`]). The store keeps what they decide, inside its
//! ingest transaction; nothing here does I/O.
//!
//! A report is a repeat when its key, its text, or its link with alike words was seen in its
//! feed before. An event is (actor, signal, object) within `stories.window`:
//! [`placement::decide`] says whether a report opens one (and alerts) or joins one
//! (silently: it raises the event's source count). The object the classifier extracts
//! decides first; content words ([`Terms::similarity`]) decide only where the object is not
//! named.

pub mod placement;
pub mod repeats;
mod settings;
mod text;

use sha2::{Digest, Sha256};

use crate::domain::{ItemKey, SignalKind};
pub use settings::{JoinBy, StorySettings};
pub use text::{Terms, normalize_link, text_hash};

/// A story's stable id: its first item and its signal.
pub fn story_id(first_item: &ItemKey, signal: SignalKind) -> String {
    let mut h = Sha256::new();
    h.update(first_item.as_str().as_bytes());
    h.update([0]);
    h.update(signal.as_str().as_bytes());
    format!("st-{}", hex::encode(&h.finalize()[..6]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::FeedName;

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
