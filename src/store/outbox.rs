//! The outbox: deliveries claimed, marked, retried and listed. One row per (alert, channel,
//! recipient), made in the transaction that opened the alert's event (`stories.rs`); a row
//! is `pending` until a lane worker claims it (`sending`), then `delivered`, back to
//! `pending` with a later attempt, or `dead`.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Result, Store, StoreError, from_ms, ms};
use crate::domain::{
    Alert, Channel, Delivery, Evidence, FeedName, Field, ItemKey, Lane, ObjectKey, Signal,
    SignalKind, StatusNote,
};

/// Rows of the outbox by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub pending: u64,
    pub sending: u64,
    pub delivered: u64,
    pub dead: u64,
    pub silenced: u64,
}

/// Which rows `outbox` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Pending and sending: not delivered yet.
    Undelivered,
    /// Given up on, with their last error.
    Dead,
    /// Muted by a silence, with its id.
    Silenced,
}

/// One outbox row, for `outbox`.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub channel: String,
    pub target: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub signal: String,
    pub title: String,
}

/// The idempotency key of a delivery: stable across retries and restarts, unique per
/// (item, signal, channel, recipient).
pub fn idempotency_key(
    item: &ItemKey,
    signal: SignalKind,
    channel: Channel,
    target: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [item.as_str(), signal.as_str(), channel.as_str(), target] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

impl Store {
    /// Puts rows left `sending` by a process that died back to `pending`. Safe only while
    /// holding the [`StateLock`](super::StateLock).
    pub async fn release_in_flight(&self, now: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE deliveries SET state = 'pending', updated_at = $1 WHERE state = 'sending'",
        )
        .bind(ms(now))
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Puts one lane's rows this daemon left `sending` back to `pending`: a worker starting
    /// again after a panic takes back what its last run had in flight. Safe only while this
    /// process is the lane's one worker in this daemon.
    pub async fn release_lane_in_flight(&self, lane: &Lane, now: DateTime<Utc>) -> Result<u64> {
        Ok(sqlx::query(
            "UPDATE deliveries SET state = 'pending', updated_at = $1
             WHERE state = 'sending' AND channel = $2 AND ($3 IS NULL OR target = $3)
               AND (claimed_by IS NULL OR claimed_by = $4)",
        )
        .bind(ms(now))
        .bind(lane.channel.as_str())
        .bind(lane.target.as_deref())
        .bind(&*self.daemon)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Claims up to `limit` due deliveries of one lane (pending, next attempt not in the
    /// future), oldest first: they become `sending`, so no other worker takes them.
    pub async fn claim_due(
        &self,
        lane: &Lane,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Delivery>> {
        let mut tx = self.write_tx().await?;
        let silenced = Store::silence_due(&mut tx, Some(lane), now).await?;
        if !silenced.is_empty() {
            tracing::info!(lane = %lane, deliveries = silenced.len(), "deliveries silenced: recorded, not sent");
        }
        // The outer `state = 'pending'` is checked again on a row another daemon claimed
        // meanwhile (PostgreSQL); the write lock already keeps two claims apart.
        let claim = format!(
            "UPDATE deliveries SET state = 'sending', claimed_by = $1, updated_at = $2
             WHERE state = 'pending' AND id IN (SELECT id FROM deliveries
                          WHERE state = 'pending' AND next_attempt_at <= $2
                            AND channel = $3 AND ($4 IS NULL OR target = $4)
                          ORDER BY next_attempt_at, id LIMIT $5{})
             RETURNING id",
            self.backend.skip_locked()
        );
        let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(claim))
            .bind(&*self.daemon)
            .bind(ms(now))
            .bind(lane.channel.as_str())
            .bind(lane.target.as_deref())
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(
                "SELECT d.id, d.channel, d.target, d.address, d.idempotency_key, d.attempts,
                        d.unconfirmed, d.follow_up, d.thread_key, d.created_at AS queued_at,
                        a.id AS alert_id, a.item_key, a.signal, a.score, a.rule, a.words, a.sentence, a.field,
                        a.feed, a.title, a.summary, a.link, a.published_at, a.created_at,
                        a.story_id, a.status_topic, a.status_before, a.status_after,
                        COALESCE(s.sources, 1) AS sources, s.object AS story_object
                 FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                 LEFT JOIN stories s ON s.id = a.story_id
                 WHERE d.id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            let mut d = delivery_from_row(&row)?;
            if let Some(story) = &d.alert.story {
                d.feeds = super::board::story_feeds(&mut *tx, story).await?;
            }
            out.push(d);
        }
        tx.commit().await?;
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    /// Puts a claimed row back, due at `until`, with no attempt counted (quiet hours).
    pub async fn postpone(&self, id: i64, until: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE deliveries SET state = 'pending', next_attempt_at = $2, updated_at = $3
             WHERE id = $1 AND state = 'sending'",
        )
        .bind(id)
        .bind(ms(until))
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn mark_delivered(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_error = NULL,
             delivered_at = $2, updated_at = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A failed attempt that will be retried at `next_at`.
    pub async fn mark_retry(
        &self,
        id: i64,
        error: &str,
        next_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts = attempts + 1, last_error = $2,
             next_attempt_at = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(ms(next_at))
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A delivery that will never succeed (permanent rejection, or retried for too long).
    pub async fn mark_dead(&self, id: i64, error: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE deliveries SET state = 'dead', attempts = attempts + 1, last_error = $2, updated_at = $3
             WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Returns a claimed row to `pending` without counting an attempt (shutdown mid-send).
    pub async fn unclaim(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE deliveries SET state = 'pending', updated_at = $2 WHERE id = $1 AND state = 'sending'")
            .bind(id)
            .bind(ms(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// When the earliest pending delivery of a lane (or of any, with `None`) is due.
    pub async fn next_due(&self, lane: Option<&Lane>) -> Result<Option<DateTime<Utc>>> {
        let v: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'
             AND ($1 IS NULL OR channel = $1) AND ($2 IS NULL OR target = $2)",
        )
        .bind(lane.map(|l| l.channel.as_str()))
        .bind(lane.and_then(|l| l.target.as_deref()))
        .fetch_one(&self.pool)
        .await?;
        Ok(v.map(from_ms))
    }

    /// The lanes that have pending rows (some may be of channels no longer configured: they
    /// still get a worker, which delivers them to the address in the row or marks them dead).
    pub async fn pending_lanes(&self) -> Result<Vec<Lane>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT channel, target FROM deliveries WHERE state IN ('pending', 'sending')",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut lanes = Vec::new();
        for (channel, target) in rows {
            let channel: Channel = channel.parse().map_err(|message| StoreError::Corrupt {
                table: "deliveries",
                message,
            })?;
            let lane = Lane::of(channel, &target);
            if !lanes.contains(&lane) {
                lanes.push(lane);
            }
        }
        Ok(lanes)
    }

    pub async fn outbox_counts(&self) -> Result<OutboxCounts> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state")
            .fetch_all(&self.pool)
            .await?;
        let mut c = OutboxCounts::default();
        for row in rows {
            let n = row.try_get::<i64, _>("n")?.max(0) as u64;
            match row.try_get::<String, _>("state")?.as_str() {
                "pending" => c.pending = n,
                "sending" => c.sending = n,
                "delivered" => c.delivered = n,
                "dead" => c.dead = n,
                "silenced" => c.silenced = n,
                _ => {}
            }
        }
        Ok(c)
    }

    /// Outbox rows in one of three views (see [`Listing`]), oldest first.
    pub async fn outbox_rows(&self, listing: Listing) -> Result<Vec<OutboxRow>> {
        let state = match listing {
            Listing::Undelivered => "waiting",
            Listing::Dead => "dead",
            Listing::Silenced => "silenced",
        };
        let sql = "SELECT d.id, d.channel, d.target, d.state, d.attempts, d.next_attempt_at, \
             COALESCE('silenced by ' || d.silenced_by, d.last_error) AS last_error, \
             d.updated_at, a.signal, a.title \
             FROM deliveries d JOIN alerts a ON a.id = d.alert_id \
             WHERE d.state = $1 OR ($1 = 'waiting' AND d.state IN ('pending', 'sending')) \
             ORDER BY d.id";
        let rows = sqlx::query(sql).bind(state).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                Ok(OutboxRow {
                    id: r.try_get("id")?,
                    channel: r.try_get("channel")?,
                    target: r.try_get("target")?,
                    state: r.try_get("state")?,
                    attempts: r.try_get("attempts")?,
                    next_attempt_at: from_ms(r.try_get("next_attempt_at")?),
                    last_error: r.try_get("last_error")?,
                    updated_at: from_ms(r.try_get("updated_at")?),
                    signal: r.try_get("signal")?,
                    title: r.try_get("title")?,
                })
            })
            .collect()
    }

    /// Puts a dead row back to pending, due now, with its attempts reset. False if there is
    /// no dead row with this id.
    pub async fn retry_dead(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, \
             updated_at = $1 WHERE id = $2 AND state = 'dead'",
        )
        .bind(ms(now))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn delivery_from_row(row: &sqlx::any::AnyRow) -> Result<Delivery> {
    let corrupt = |message: String| StoreError::Corrupt {
        table: "deliveries",
        message,
    };
    let channel: String = row.try_get("channel")?;
    let signal: String = row.try_get("signal")?;
    let words: String = row.try_get("words")?;
    let field: String = row.try_get("field")?;
    let feed: String = row.try_get("feed")?;
    Ok(Delivery {
        id: row.try_get("id")?,
        channel: Channel::from_str(&channel).map_err(corrupt)?,
        target: row.try_get("target")?,
        address: row.try_get("address")?,
        idempotency_key: row.try_get("idempotency_key")?,
        attempts: row.try_get::<i64, _>("attempts")?.max(0) as u32,
        queued_at: from_ms(row.try_get("queued_at")?),
        alert: Alert {
            id: row.try_get("alert_id")?,
            item_key: ItemKey::from_stored(row.try_get("item_key")?),
            signal: Signal {
                kind: SignalKind::from_str(&signal).map_err(corrupt)?,
                score: row.try_get::<f64, _>("score")? as f32,
                evidence: Evidence {
                    rule: row.try_get("rule")?,
                    words: serde_json::from_str(&words).map_err(|e| corrupt(e.to_string()))?,
                    sentence: row.try_get("sentence")?,
                    field: if field == "title" {
                        Field::Title
                    } else {
                        Field::Summary
                    },
                    object: None,
                },
            },
            feed: FeedName::parse(&feed).map_err(corrupt)?,
            title: row.try_get("title")?,
            summary: row.try_get("summary")?,
            link: row.try_get("link")?,
            published: row.try_get::<Option<i64>, _>("published_at")?.map(from_ms),
            created_at: from_ms(row.try_get("created_at")?),
            story: row.try_get("story_id")?,
            status: match row.try_get::<Option<String>, _>("status_topic")? {
                None => None,
                Some(topic) => Some(StatusNote {
                    topic: topic.parse().map_err(corrupt)?,
                    before: row
                        .try_get::<Option<String>, _>("status_before")?
                        .unwrap_or_else(|| "unknown".into()),
                    after: row
                        .try_get::<Option<String>, _>("status_after")?
                        .unwrap_or_default(),
                }),
            },
        },
        sources: row.try_get::<i64, _>("sources")?.max(1) as u32,
        feeds: Vec::new(),
        object: row
            .try_get::<Option<String>, _>("story_object")?
            .as_deref()
            .and_then(ObjectKey::parse),
        unconfirmed: row.try_get::<i64, _>("unconfirmed")? != 0,
        follow_up: row.try_get::<i64, _>("follow_up")? != 0,
        thread: row.try_get("thread_key")?,
    })
}
