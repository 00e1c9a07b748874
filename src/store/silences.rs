//! Silences: kept, listed, expired; and applied to the outbox when a delivery comes due
//! ([`Store::claim_due`] silences before it claims).

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, Store, StoreError, from_ms, ms};
use crate::domain::{Lane, SignalKind, Silence};

impl Store {
    /// Records a silence.
    pub async fn add_silence(&self, s: &Silence, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO silences (id, signals, subscriber, starts_at, ends_at, comment,
                                   created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&s.id)
        .bind(s.signals_text())
        .bind(s.subscriber.as_deref())
        .bind(ms(s.starts_at))
        .bind(ms(s.ends_at))
        .bind(&s.comment)
        .bind(&s.created_by)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Silences in force at `now` or still to come, and (with `ended_since`) those that
    /// ended after it; soonest end first.
    pub async fn silences(
        &self,
        now: DateTime<Utc>,
        ended_since: Option<DateTime<Utc>>,
    ) -> Result<Vec<Silence>> {
        let since = ended_since.map_or(ms(now), ms);
        let rows = sqlx::query(
            "SELECT id, signals, subscriber, starts_at, ends_at, comment, created_by
             FROM silences WHERE ends_at > $1 ORDER BY ends_at, id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let signals: String = row.try_get("signals")?;
                Ok(Silence {
                    id: row.try_get("id")?,
                    signals: signals
                        .split(',')
                        .filter_map(|k| k.parse::<SignalKind>().ok())
                        .collect(),
                    subscriber: row.try_get("subscriber")?,
                    starts_at: from_ms(row.try_get("starts_at")?),
                    ends_at: from_ms(row.try_get("ends_at")?),
                    comment: row.try_get("comment")?,
                    created_by: row.try_get("created_by")?,
                })
            })
            .collect::<std::result::Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Ends a silence at `now`; false when no silence of that id is in force or to come.
    pub async fn expire_silence(&self, id: &str, now: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE silences SET ends_at = $2,
                    starts_at = CASE WHEN starts_at < $2 THEN starts_at ELSE $2 END
             WHERE id = $1 AND ends_at > $2",
        )
        .bind(id)
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks the due deliveries of `lane` (of every lane with `None`) that a silence in
    /// force matches as silenced, in `tx`; returns their ids.
    pub(super) async fn silence_due(
        tx: &mut sqlx::AnyConnection,
        lane: Option<&Lane>,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>> {
        // Each due row with the silence that mutes it (the longest-lasting), matched once.
        let ids = sqlx::query_scalar(
            "UPDATE deliveries SET state = 'silenced', updated_at = $1, silenced_by = m.silence
             FROM (SELECT d.id AS delivery,
                          (SELECT s.id FROM silences s JOIN alerts a ON a.id = d.alert_id
                           WHERE s.starts_at <= $1 AND s.ends_at > $1
                             AND (',' || s.signals || ',') LIKE ('%,' || a.signal || ',%')
                             AND (s.subscriber IS NULL OR s.subscriber = d.target)
                           ORDER BY s.ends_at DESC LIMIT 1) AS silence
                   FROM deliveries d
                   WHERE d.state = 'pending' AND d.next_attempt_at <= $1
                     AND ($2 IS NULL OR d.channel = $2) AND ($3 IS NULL OR d.target = $3)) AS m
             WHERE deliveries.id = m.delivery AND m.silence IS NOT NULL
             RETURNING deliveries.id",
        )
        .bind(ms(now))
        .bind(lane.map(|l| l.channel.as_str()))
        .bind(lane.and_then(|l| l.target.as_deref()))
        .fetch_all(tx)
        .await?;
        Ok(ids)
    }

    /// What a delivery round at `now` would do, without doing it: marks what silences mute
    /// (on a copy of the state: see `run --once --dry-run`), then lists the rows that would
    /// be sent and those just silenced.
    pub async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Vec<super::OutboxRow>, Vec<super::OutboxRow>)> {
        let mut tx = self.write_tx().await?;
        let just_silenced = Store::silence_due(&mut tx, None, now).await?;
        tx.commit().await?;
        let due = self
            .outbox_rows(super::Listing::Undelivered)
            .await?
            .into_iter()
            .filter(|r| r.next_attempt_at <= now)
            .collect();
        let silenced = self
            .outbox_rows(super::Listing::Silenced)
            .await?
            .into_iter()
            .filter(|r| just_silenced.contains(&r.id))
            .collect();
        Ok((due, silenced))
    }

    /// Copies the SQLite state database in `from` (if there is one) to `to`, consistent as of
    /// one instant, for a dry run to work on. (SQLite only: a shared PostgreSQL is not copied.)
    pub async fn snapshot(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
        let source = from.join(super::DB_FILE);
        if !source.exists() {
            return Ok(());
        }
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&source)
            .read_only(true);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::query("VACUUM INTO $1")
            .bind(to.join(super::DB_FILE).to_string_lossy().into_owned())
            .execute(&pool)
            .await?;
        pool.close().await;
        Ok(())
    }
}
