//! What `[stories]` configures: the dedupe stage's policy, and its translation into the pure
//! [`placement::Policy`](super::placement::Policy).

use std::collections::BTreeSet;
use std::time::Duration;

use super::placement::Policy;
use crate::domain::FeedName;

/// How items join stories, and which are too old to alert.
#[derive(Debug, Clone, PartialEq)]
pub struct StorySettings {
    /// An item joins by its words a story last reported within this window.
    pub window: Duration,
    /// An item about the same flow (military aid, intelligence) joins a story whose status
    /// still holds and that was last reported within this long.
    pub open_for: Duration,
    /// An item that names only "a ceasefire" repeats a Russian answer within this long of
    /// its story's first report (the outlets' reports of one statement); later it is news.
    pub statement: Duration,
    /// A story of another signal about the same object ends a story's status only if it
    /// started at least this long after it (sooner, it is the same news read two ways).
    pub settle: Duration,
    /// Least similarity (weighted word overlap, 0–1) for an item to join a story.
    pub similarity: f32,
    /// What must agree besides the text.
    pub join: JoinBy,
    /// Items published longer ago than this when first seen are recorded, never alerted.
    pub max_item_age: Duration,
    /// Longest a story's alert waits for a route's `min_sources`; then it goes out marked
    /// unconfirmed.
    pub max_wait: Duration,
    /// Stories not reported for this long are forgotten (statuses keep theirs).
    pub keep: Duration,
    /// The feeds marked `official` (the Kremlin, a ministry): a story records the first of
    /// them that reports it.
    pub official: BTreeSet<FeedName>,
}

impl Default for StorySettings {
    fn default() -> Self {
        StorySettings {
            window: Duration::from_secs(48 * 3600),
            open_for: Duration::from_secs(7 * 24 * 3600),
            statement: Duration::from_secs(24 * 3600),
            settle: Duration::from_secs(6 * 3600),
            similarity: 0.45,
            join: JoinBy::Signal,
            max_item_age: Duration::from_secs(48 * 3600),
            max_wait: Duration::from_secs(3600),
            keep: Duration::from_secs(30 * 24 * 3600),
            official: BTreeSet::new(),
        }
    }
}

/// What two items must share, besides similar text, to be one story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinBy {
    /// The same signal (a rejection never joins an acceptance).
    Signal,
    /// The same status topic: Russia's stance, US aid or US intelligence (a conditional
    /// acceptance can join a story that opened as a rejection).
    Topic,
}

impl StorySettings {
    /// The placement policy, times in milliseconds.
    pub fn policy(&self) -> Policy {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Policy {
            same: self.join,
            similarity: self.similarity,
            window: ms(self.window),
            open_for: ms(self.open_for),
            statement: ms(self.statement),
            settle: ms(self.settle),
        }
    }
}
