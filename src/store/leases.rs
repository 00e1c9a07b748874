//! Daemons sharing one store: who is alive, which daemon polls which feed, and what a dead
//! daemon held going back to the others.
//!
//! Every daemon beats once every third of `store.lease`: in one writing transaction (which
//! takes the store's write lock, so beats are serialised) it records that it is alive, renews
//! the leases it holds, gives up what exceeds its fair share (the configured feeds divided by
//! the daemons alive), and takes free or expired leases up to that share. A daemon that stops
//! beating (killed, powered off, cut off from the database) is dead once `lease` has passed:
//! its leases have expired by then and the others take them at their next beat, and the
//! deliveries it was sending go back to pending, to be sent with the same idempotency key.
//! A daemon that cannot renew stops polling when its leases run out.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::sql::Sql;
use super::{Result, Store, ms};

/// This process's name among daemons: host, pid and a random tag (a pid is reused after a
/// restart; the tag tells the two lives apart).
pub fn daemon_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}

/// What one beat did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Beat {
    /// The feeds this daemon now holds.
    pub held: BTreeSet<String>,
    /// Leases taken this beat from another daemon that had let them expire (it died, or was
    /// cut off).
    pub taken_over: u32,
    /// Leases taken this beat that no daemon held (new feeds, or given up by a daemon with
    /// more than its share).
    pub taken_free: u32,
    /// Leases given up this beat (more than the fair share, or feeds no longer configured).
    pub given_up: u32,
    /// Daemons alive, this one included.
    pub daemons: u32,
    /// Deliveries a dead daemon was sending, back to pending.
    pub released: u64,
}

impl Store {
    /// This daemon's id in the daemons table, claims and leases.
    pub fn daemon_id(&self) -> &str {
        &self.daemon
    }

    /// How long leases and claims last without a beat.
    pub fn lease(&self) -> std::time::Duration {
        self.lease
    }

    /// One beat (see the module's doc); `feeds` are the configured feeds.
    pub async fn beat(&self, feeds: &[&str], now: DateTime<Utc>) -> Result<Beat> {
        let lease = chrono::Duration::from_std(self.lease).unwrap_or(chrono::Duration::seconds(30));
        let expires = ms(now + lease);
        let stale = ms(now - lease);
        let mut beat = Beat::default();
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO daemons (id, host, pid, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at",
        )
        .bind(&*self.daemon)
        .bind(self.daemon.rsplitn(3, '-').nth(2).unwrap_or_default().to_owned())
        .bind(i64::from(std::process::id()))
        .bind(ms(now))
        .execute(&mut *tx)
        .await?;
        let alive: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM daemons WHERE heartbeat_at >= $1")
                .bind(stale)
                .fetch_one(&mut *tx)
                .await?;
        beat.daemons = alive.max(1) as u32;
        let configured: BTreeSet<&str> = feeds.iter().copied().collect();
        let share = configured.len().div_ceil(beat.daemons as usize);

        // Renew what this daemon holds (nobody takes a lease without writing its name).
        let mine: Vec<String> = sqlx::query_scalar(
            "UPDATE feed_leases SET expires_at = $2 WHERE daemon = $1 RETURNING feed",
        )
        .bind(&*self.daemon)
        .bind(expires)
        .fetch_all(&mut *tx)
        .await?;
        let (held, unconfigured): (Vec<String>, Vec<String>) = mine
            .into_iter()
            .partition(|f| configured.contains(f.as_str()));
        let mut held: BTreeSet<String> = held.into_iter().collect();
        // More than the share: the last ones by name go, for a daemon with fewer to take.
        let mut give_up = unconfigured;
        while held.len() > share {
            if let Some(last) = held.pop_last() {
                give_up.push(last);
            }
        }
        for chunk in give_up.chunks(500) {
            let mut q = Sql::new(
                &tx,
                "UPDATE feed_leases SET daemon = NULL, expires_at = 0 WHERE daemon = ",
            );
            q.push_bind(&*self.daemon).push(" AND feed IN (");
            let mut list = q.separated(", ");
            for f in chunk {
                list.push_bind(f.as_str());
            }
            q.push(")");
            q.build().execute(&mut *tx).await?;
        }
        beat.given_up = give_up.len() as u32;

        // Fewer than the share: take free and expired leases of configured feeds.
        if held.len() < share {
            let mut claim = Sql::new(
                &tx,
                "SELECT feed, daemon FROM feed_leases WHERE expires_at < ",
            );
            claim.push_bind(ms(now));
            claim.push(" ORDER BY feed");
            claim.push(self.backend.skip_locked());
            let free: Vec<(String, Option<String>)> =
                claim.build_query_as().fetch_all(&mut *tx).await?;
            let take: Vec<(String, Option<String>)> = free
                .into_iter()
                .filter(|(f, _)| configured.contains(f.as_str()))
                .take(share - held.len())
                .collect();
            for chunk in take.chunks(500) {
                let mut q = Sql::new(&tx, "UPDATE feed_leases SET daemon = ");
                q.push_bind(&*self.daemon)
                    .push(", expires_at = ")
                    .push_bind(expires)
                    .push(", acquired_at = ")
                    .push_bind(ms(now))
                    .push(" WHERE feed IN (");
                let mut list = q.separated(", ");
                for (f, _) in chunk {
                    list.push_bind(f.as_str());
                }
                q.push(")");
                q.build().execute(&mut *tx).await?;
            }
            for (feed, before) in take {
                match before {
                    Some(d) if d != *self.daemon => beat.taken_over += 1,
                    _ => beat.taken_free += 1,
                }
                held.insert(feed);
            }
        }
        beat.held = held;

        // What dead daemons were sending goes back to pending, with its keys. A row claimed
        // by no daemon ('sending' from before daemons were recorded) counts as a dead one's.
        beat.released = sqlx::query(
            "UPDATE deliveries SET state = 'pending', claimed_by = NULL, updated_at = $1
             WHERE state = 'sending' AND updated_at < $2
               AND (claimed_by IS NULL
                    OR claimed_by NOT IN (SELECT id FROM daemons WHERE heartbeat_at >= $2))",
        )
        .bind(ms(now))
        .bind(stale)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // Daemons dead for ten leases are forgotten.
        sqlx::query("DELETE FROM daemons WHERE heartbeat_at < $1")
            .bind(ms(now - lease * 10))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(beat)
    }

    /// A clean stop: this daemon's leases are free at once (the others take its feeds at
    /// their next beat, not a lease later), and it leaves the daemons table.
    pub async fn resign(&self) -> Result<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE feed_leases SET daemon = NULL, expires_at = 0 WHERE daemon = $1")
            .bind(&*self.daemon)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM daemons WHERE id = $1")
            .bind(&*self.daemon)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every lease, for `feeds` and `/healthz`: feed, holder, expiry.
    pub async fn leases(&self) -> Result<Vec<(String, Option<String>, DateTime<Utc>)>> {
        let rows: Vec<(String, Option<String>, i64)> =
            sqlx::query_as("SELECT feed, daemon, expires_at FROM feed_leases ORDER BY feed")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(f, d, e)| (f, d, super::from_ms(e)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedupe::StorySettings;
    use crate::domain::{Channel, FeedName, Lane, SignalKind};
    use crate::store::FeedUpdate;
    use crate::store::tests::{ingest, item, routes, signal};

    #[tokio::test]
    async fn two_daemons_split_the_feeds_and_the_survivor_takes_over_a_dead_ones_work() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let (one, two) = (fx.open().await, fx.open().await);
            assert_ne!(one.daemon_id(), two.daemon_id());
            let names: Vec<String> = (0..10).map(|i| format!("feed{i}")).collect();
            let feeds: Vec<&str> = names.iter().map(String::as_str).collect();
            let parsed: Vec<FeedName> = names.iter().map(|n| FeedName::parse(n).unwrap()).collect();
            let t0 = Utc::now();
            one.sync_feeds(parsed.iter().map(|f| (f, "https://e.org/".into())), t0)
                .await
                .unwrap();

            // Alone, the first takes every feed; the second then finds none free.
            let b1 = one.beat(&feeds, t0).await.unwrap();
            assert_eq!((b1.held.len(), b1.taken_free, b1.daemons), (10, 10, 1));
            let b2 = two.beat(&feeds, t0).await.unwrap();
            assert_eq!((b2.held.len(), b2.daemons), (0, 2));
            // The first gives up what exceeds half; the second takes it.
            let b1 = one.beat(&feeds, t0).await.unwrap();
            assert_eq!((b1.held.len(), b1.given_up), (5, 5));
            let b2 = two.beat(&feeds, t0).await.unwrap();
            assert_eq!((b2.held.len(), b2.taken_free, b2.taken_over), (5, 5, 0));
            assert!(b1.held.is_disjoint(&b2.held));

            // The first claims a delivery and dies with it in flight.
            let feed = &parsed[0];
            let r = ingest(
                &one,
                feed,
                &FeedUpdate::default(),
                &[(
                    item(feed, "g", "Kremlin rejects truce"),
                    vec![signal(SignalKind::RussiaRejects)],
                )],
                &routes(),
                &StorySettings::default(),
                t0,
            )
            .await
            .unwrap();
            assert!(r.deliveries > 0);
            let claimed = one
                .claim_due(&Lane::of(Channel::Webhook, "hook"), t0, 10)
                .await
                .unwrap();
            assert_eq!(claimed.len(), 1);
            // Nothing of a live daemon's is released or taken.
            let b2 = two
                .beat(&feeds, t0 + chrono::Duration::seconds(1))
                .await
                .unwrap();
            assert_eq!((b2.released, b2.taken_over), (0, 0));

            // A lease later with no beat from it: its feeds and its claim go to the survivor.
            let later = t0
                + chrono::Duration::from_std(one.lease()).unwrap()
                + chrono::Duration::seconds(1);
            let b2 = two.beat(&feeds, later).await.unwrap();
            assert_eq!((b2.daemons, b2.held.len(), b2.taken_over), (1, 10, 5));
            assert_eq!(b2.released, 1);
            let again = two
                .claim_due(&Lane::of(Channel::Webhook, "hook"), later, 10)
                .await
                .unwrap();
            assert_eq!(again.len(), 1);
            assert_eq!(again[0].idempotency_key, claimed[0].idempotency_key);

            // A clean stop frees its leases at once.
            two.resign().await.unwrap();
            let b1 = one.beat(&feeds, later).await.unwrap();
            assert_eq!((b1.held.len(), b1.daemons), (10, 1));
        }
    }
}
