//! Retention: what the store forgets, in small batches, off the hot path (the housekeeping
//! loop calls [`Store::prune`]; polls and the ingest writer never wait for it).
//!
//! - Fingerprints of the seen set older than `keep_seen`. A fingerprint that a poll finds
//!   again is refreshed when it is older than [`REFRESH_AFTER`] (in the ingest writer), so
//!   an item that is still in its feed is never forgotten, and one that comes back after
//!   more than `keep_seen` away is old news (`stories.max_item_age` keeps it from alerting).
//! - Signal items older than `keep_seen` that no kept alert refers to.
//! - Delivered and dead deliveries older than `keep_alerts`, then alerts older than that
//!   which no delivery or corroboration hold refers to. Pending deliveries are never
//!   pruned, however old.
//!
//! The seen set is swept in key order, [`SEEN_WINDOW`] rows a call from where the last call
//! stopped, so a call costs the same however large the set is; the other tables are small
//! (rows of signal items and alerts only) and deleted [`BATCH`] rows a statement.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Result, Store, ms};
use crate::domain::time;

/// A seen fingerprint older than this is written again when a poll finds it, so that
/// pruning by age never forgets an item its feed still carries. `keep_seen` must be well
/// above it.
pub const REFRESH_AFTER: Duration = Duration::from_secs(7 * 24 * 3600);
/// Rows of the seen set looked at per call.
pub const SEEN_WINDOW: i64 = 20_000;
/// Rows of other tables deleted per statement.
pub const BATCH: i64 = 5_000;

/// How long the store keeps what (`[store]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Seen fingerprints and signal items not seen again for this long.
    pub keep_seen: Duration,
    /// Alerts and their finished deliveries.
    pub keep_alerts: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            keep_seen: Duration::from_secs(30 * 24 * 3600),
            keep_alerts: Duration::from_secs(365 * 24 * 3600),
        }
    }
}

/// What one call pruned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub seen: u64,
    pub items: u64,
    pub deliveries: u64,
    pub alerts: u64,
    /// The sweep of the seen set reached its end and starts again.
    pub swept: bool,
}

impl Pruned {
    pub fn any(&self) -> bool {
        self.seen + self.items + self.deliveries + self.alerts > 0
    }
}

impl Store {
    /// One step of pruning at `now` (see the module documentation). Each statement commits
    /// on its own: a step never holds the write lock for long.
    pub async fn prune(&self, keep: &Retention, now: DateTime<Utc>) -> Result<Pruned> {
        self.prune_step(keep, now, SEEN_WINDOW).await
    }

    async fn prune_step(
        &self,
        keep: &Retention,
        now: DateTime<Utc>,
        seen_window: i64,
    ) -> Result<Pruned> {
        let mut done = Pruned::default();
        let seen_before = ms(time::earlier(now, keep.keep_seen));
        let alerts_before = ms(time::earlier(now, keep.keep_alerts));

        let from = self.prune_cursor.lock().await.clone();
        // (PostgreSQL has no MAX of bytes: the window's last row is read by its order.)
        let window: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT fp FROM seen WHERE fp > $1 ORDER BY fp LIMIT $2")
                .bind(&from)
                .bind(seen_window)
                .fetch_all(&self.pool)
                .await?;
        let in_window = window.len() as i64;
        let window_end = window.into_iter().next_back();
        if let Some(end) = &window_end {
            done.seen = sqlx::query("DELETE FROM seen WHERE fp > $1 AND fp <= $2 AND seen_at < $3")
                .bind(&from)
                .bind(end)
                .bind(seen_before)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        // A short window is the end of the set: the next call starts from its beginning.
        done.swept = in_window < seen_window;
        *self.prune_cursor.lock().await = match window_end {
            Some(end) if !done.swept => end,
            _ => Vec::new(),
        };

        done.deliveries = sqlx::query(
            "DELETE FROM deliveries WHERE id IN (
                 SELECT id FROM deliveries
                 WHERE state IN ('delivered', 'dead') AND updated_at < $1 LIMIT $2)",
        )
        .bind(alerts_before)
        .bind(BATCH)
        .execute(&self.pool)
        .await?
        .rows_affected();
        done.alerts = sqlx::query(
            "DELETE FROM alerts WHERE id IN (
                 SELECT a.id FROM alerts a WHERE a.created_at < $1
                   AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id)
                   AND NOT EXISTS (SELECT 1 FROM story_holds h WHERE h.alert_id = a.id)
                 LIMIT $2)",
        )
        .bind(alerts_before)
        .bind(BATCH)
        .execute(&self.pool)
        .await?
        .rows_affected();
        done.items = sqlx::query(
            "DELETE FROM items WHERE key IN (
                 SELECT i.key FROM items i WHERE i.seen_at < $1
                   AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.item_key = i.key)
                 LIMIT $2)",
        )
        .bind(seen_before)
        .bind(BATCH)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done)
    }

    /// Rows of each table that pruning looks at: (seen, items, alerts, deliveries).
    pub async fn row_counts(&self) -> Result<(u64, u64, u64, u64)> {
        let (seen, items, alerts, deliveries): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM seen), (SELECT COUNT(*) FROM items),
                    (SELECT COUNT(*) FROM alerts), (SELECT COUNT(*) FROM deliveries)",
        )
        .fetch_one(&self.pool)
        .await?;
        let n = |v: i64| v.max(0) as u64;
        Ok((n(seen), n(items), n(alerts), n(deliveries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::StorySettings;
    use crate::domain::{FeedName, SignalKind};
    use crate::store::FeedUpdate;
    use crate::store::tests::{ingest, item, routes, signal};

    const DAY: i64 = 24 * 3600;

    #[tokio::test]
    async fn what_a_feed_still_carries_is_kept_and_what_it_dropped_is_forgotten() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            let feed = FeedName::parse("f").unwrap();
            let settings = StorySettings::default();
            let keep = Retention {
                keep_seen: Duration::from_secs(30 * DAY as u64),
                keep_alerts: Duration::from_secs(365 * DAY as u64),
            };
            let t0 = Utc::now();
            let at = |days: i64| t0 + chrono::TimeDelta::seconds(days * DAY);
            let update = FeedUpdate::default();
            let (a, b) = (item(&feed, "a", "weather"), item(&feed, "b", "traffic"));
            let r = ingest(
                &store,
                &feed,
                &update,
                &[(a.clone(), vec![]), (b.clone(), vec![])],
                &[],
                &settings,
                at(0),
            )
            .await
            .unwrap();
            assert_eq!(r.new_items, 2);
            // Ten days on the feed still carries A (refreshed: older than a week), not B.
            ingest(
                &store,
                &feed,
                &update,
                &[(a.clone(), vec![])],
                &[],
                &settings,
                at(10),
            )
            .await
            .unwrap();
            // A sweep in windows of three rows, from wherever the last call stopped.
            let mut pruned = 0;
            for _ in 0..4 {
                pruned += store.prune_step(&keep, at(35), 3).await.unwrap().seen;
            }
            assert_eq!(
                pruned, 1,
                "B's fingerprint, 35 days old; A's was written at day 10"
            );
            let r = ingest(
                &store,
                &feed,
                &update,
                &[(a.clone(), vec![]), (b.clone(), vec![])],
                &[],
                &settings,
                at(36),
            )
            .await
            .unwrap();
            assert_eq!(
                r.new_items, 1,
                "B is new again after 30 days away; A never was"
            );
        }
    }

    #[tokio::test]
    async fn finished_deliveries_and_their_alerts_go_and_pending_ones_stay() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            let feed = FeedName::parse("f").unwrap();
            let settings = StorySettings::default();
            let routes = routes();
            let keep = Retention {
                keep_seen: Duration::from_secs(30 * DAY as u64),
                keep_alerts: Duration::from_secs(90 * DAY as u64),
            };
            let t0 = Utc::now();
            let at = |days: i64| t0 + chrono::TimeDelta::seconds(days * DAY);
            let first = FeedUpdate {
                first: true,
                ..FeedUpdate::default()
            };
            let report = ingest(
                &store,
                &feed,
                &first,
                &[(
                    item(&feed, "r1", "Kremlin rejects the truce"),
                    vec![signal(SignalKind::RussiaRejects)],
                )],
                &routes,
                &settings,
                at(0),
            )
            .await
            .unwrap();
            assert_eq!(report.deliveries, 2);
            let lanes = store.pending_lanes().await.unwrap();
            let sent = store.claim_due(&lanes[0], at(0), 10).await.unwrap();
            store.mark_delivered(sent[0].id, at(0)).await.unwrap();
            let p = store.prune(&keep, at(100)).await.unwrap();
            assert_eq!((p.deliveries, p.alerts, p.items), (1, 0, 0), "{p:?}");
            // The other delivery is pending: its alert and item stay, however old.
            assert_eq!(store.row_counts().await.unwrap().2, 1);
            let other = store.claim_due(&lanes[1], at(100), 10).await.unwrap();
            store.mark_dead(other[0].id, "gone", at(100)).await.unwrap();
            let p = store.prune(&keep, at(200)).await.unwrap();
            assert_eq!((p.deliveries, p.alerts, p.items), (1, 1, 1), "{p:?}");
            let (_, items, alerts, deliveries) = store.row_counts().await.unwrap();
            assert_eq!((items, alerts, deliveries), (0, 0, 0));
        }
    }
}
