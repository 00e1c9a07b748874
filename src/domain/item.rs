//! A news item as the pipeline sees it, and the key that says whether it was seen before.

use std::fmt;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::FeedName;

/// Our own identity for an item, never one a library made up: feed-rs gives an entry with
/// neither GUID nor link a random id on every parse, which would make it new on every poll.
///
/// It is a hash of the feed's name and the first of: the GUID, the link, the title and summary.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey(String);

impl ItemKey {
    pub fn compute(
        feed: &FeedName,
        guid: Option<&str>,
        link: Option<&str>,
        title: &str,
        summary: &str,
    ) -> Self {
        let mut h = Sha256::new();
        h.update(feed.as_str().as_bytes());
        h.update([0]);
        match (
            guid.filter(|g| !g.trim().is_empty()),
            link.filter(|l| !l.trim().is_empty()),
        ) {
            (Some(guid), _) => {
                h.update(b"guid\0");
                h.update(guid.trim().as_bytes());
            }
            (None, Some(link)) => {
                h.update(b"link\0");
                h.update(link.trim().as_bytes());
            }
            (None, None) => {
                h.update(b"text\0");
                h.update(title.as_bytes());
                h.update([0]);
                h.update(summary.as_bytes());
            }
        }
        let digest = h.finalize();
        ItemKey(hex::encode(&digest[..16]))
    }

    /// Rebuilds a key read back from the store.
    pub fn from_stored(s: String) -> Self {
        ItemKey(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One entry of one feed, reduced to plain text.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: ItemKey,
    pub feed: FeedName,
    pub guid: Option<String>,
    /// An absolute http(s) link, or none: other schemes never leave the parser.
    pub link: Option<String>,
    pub title: String,
    /// The entry's summary, or the start of its content when the summary is empty.
    pub summary: String,
    pub published: Option<DateTime<Utc>>,
}

/// What a feed's server said about the version we hold (HTTP validators), to send back
/// next time for a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(n: &str) -> FeedName {
        FeedName::parse(n).unwrap()
    }

    #[test]
    fn key_prefers_guid_then_link_then_text() {
        let f = feed("a");
        let by_guid = ItemKey::compute(&f, Some("g1"), Some("https://x/1"), "t", "s");
        assert_eq!(
            by_guid,
            ItemKey::compute(&f, Some("g1"), Some("https://x/2"), "t2", "s2")
        );
        let by_link = ItemKey::compute(&f, None, Some("https://x/1"), "t", "s");
        assert_eq!(
            by_link,
            ItemKey::compute(&f, Some("  "), Some("https://x/1"), "other", "")
        );
        assert_ne!(by_guid, by_link);
        let by_text = ItemKey::compute(&f, None, None, "t", "s");
        assert_eq!(by_text, ItemKey::compute(&f, None, None, "t", "s"));
        assert_ne!(by_text, ItemKey::compute(&f, None, None, "t", "s2"));
        // The same GUID in two feeds is two items.
        assert_ne!(
            by_guid,
            ItemKey::compute(&feed("b"), Some("g1"), None, "t", "s")
        );
        assert_eq!(by_guid.as_str().len(), 32);
    }
}
