//! The status board as `status`, the status page and `/status.json` read it: each topic's
//! status and the event that set it, with its object, sources, first official source and
//! reports. Reads only.

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Result, Store, from_ms, ms};
use crate::domain::Topic;

/// One topic on the status board.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusRow {
    pub topic: Topic,
    /// `unknown` when no story has set it.
    pub value: String,
    pub since: Option<DateTime<Utc>>,
    pub story: Option<StoryRow>,
}

/// A story, for `status`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryRow {
    pub id: String,
    pub signal: String,
    pub title: String,
    pub link: Option<String>,
    pub sources: u32,
    pub items: u32,
    pub started_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The feeds that carried it, first first.
    pub feeds: Vec<String>,
    /// Which ceasefire or flow it is about (an [`ObjectKey`](crate::domain::ObjectKey)), when a report named it.
    pub object: Option<String>,
    /// The first feed marked `official` that reported it, and when.
    pub official: Option<(String, DateTime<Utc>)>,
    /// Its reports, first first (at most [`MAX_REPORTS`]; `items` counts them all).
    pub reports: Vec<ReportRow>,
}

/// One report of a story.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub feed: String,
    pub title: String,
    pub link: Option<String>,
    pub at: DateTime<Utc>,
}

/// An alert as the timeline shows it: when, what, which report, and what became of its
/// deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    pub id: i64,
    pub signal: String,
    pub title: String,
    pub link: Option<String>,
    pub feed: String,
    pub at: DateTime<Utc>,
    pub story: Option<String>,
    /// The status it changed (topic, before, after), when it changed one.
    pub status_change: Option<(String, String, String)>,
    /// Feeds carrying its story.
    pub sources: u32,
    pub delivered: u32,
    pub waiting: u32,
    pub dead: u32,
    pub silenced: u32,
}

/// A feed's record, for `feeds` and the status page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedRow {
    pub name: String,
    /// When it was last polled, whatever the result.
    pub last_poll: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    /// Items with a signal it brought (kept for `store.keep_seen`).
    pub signal_items: u64,
    /// Alerts its items raised (kept for `store.keep_alerts`).
    pub alerts: u64,
    /// The daemon whose lease on it has not expired, when daemons share the store.
    pub polled_by: Option<String>,
}

/// The most reports a [`StoryRow`] lists.
pub const MAX_REPORTS: i64 = 100;

impl StatusRow {
    /// A topic no story has set.
    pub fn unknown(topic: Topic) -> StatusRow {
        StatusRow {
            topic,
            value: "unknown".into(),
            since: None,
            story: None,
        }
    }
}

impl Store {
    /// The status board: every topic, set or not.
    pub async fn statuses(&self) -> Result<Vec<StatusRow>> {
        let mut out = Vec::new();
        for topic in Topic::ALL {
            let row = sqlx::query("SELECT value, story_id, set_at FROM statuses WHERE topic = $1")
                .bind(topic.as_str())
                .fetch_optional(&self.pool)
                .await?;
            let Some(row) = row else {
                out.push(StatusRow::unknown(topic));
                continue;
            };
            let story_id: String = row.try_get("story_id")?;
            out.push(StatusRow {
                topic,
                value: row.try_get("value")?,
                since: Some(from_ms(row.try_get("set_at")?)),
                story: self.story(&story_id).await?,
            });
        }
        Ok(out)
    }

    /// Every feed with a row (configured now or before), by name.
    pub async fn feed_rows(&self) -> Result<Vec<FeedRow>> {
        let rows = sqlx::query(
            // One pass over items and alerts for all feeds, not one per feed (alerts have no
            // index by feed).
            "SELECT f.name, f.updated_at, f.last_success_at, f.consecutive_failures, f.last_error,
                    COALESCE(i.n, 0) AS signal_items, COALESCE(a.n, 0) AS alerts,
                    CASE WHEN l.expires_at >= $1 THEN l.daemon END AS polled_by
             FROM feeds f
             LEFT JOIN feed_leases l ON l.feed = f.name
             LEFT JOIN (SELECT feed, COUNT(*) AS n FROM items GROUP BY feed) i ON i.feed = f.name
             LEFT JOIN (SELECT feed, COUNT(*) AS n FROM alerts GROUP BY feed) a ON a.feed = f.name
             ORDER BY f.name",
        )
        .bind(super::ms(chrono::Utc::now()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let failures: i64 = r.try_get("consecutive_failures")?;
                let last_success = r.try_get::<Option<i64>, _>("last_success_at")?.map(from_ms);
                // A row made at start and never polled has no success and no failure.
                let polled = last_success.is_some() || failures > 0;
                Ok(FeedRow {
                    name: r.try_get("name")?,
                    last_poll: polled
                        .then(|| r.try_get("updated_at").map(from_ms))
                        .transpose()?,
                    last_success,
                    consecutive_failures: failures.max(0) as u32,
                    last_error: r.try_get("last_error")?,
                    signal_items: r.try_get::<i64, _>("signal_items")?.max(0) as u64,
                    alerts: r.try_get::<i64, _>("alerts")?.max(0) as u64,
                    polled_by: r.try_get("polled_by")?,
                })
            })
            .collect()
    }

    /// Alerts made since `since`, newest first (at most `limit`).
    pub async fn recent_alerts(&self, since: DateTime<Utc>, limit: i64) -> Result<Vec<AlertRow>> {
        let rows = sqlx::query(
            "SELECT a.id, a.signal, a.title, a.link, a.feed, a.created_at, a.story_id,
                    a.status_topic, a.status_before, a.status_after,
                    COALESCE(s.sources, 1) AS sources,
                    SUM(CASE WHEN d.state = 'delivered' THEN 1 ELSE 0 END) AS delivered,
                    SUM(CASE WHEN d.state IN ('pending', 'sending') THEN 1 ELSE 0 END) AS waiting,
                    SUM(CASE WHEN d.state = 'dead' THEN 1 ELSE 0 END) AS dead,
                    SUM(CASE WHEN d.state = 'silenced' THEN 1 ELSE 0 END) AS silenced
             FROM alerts a
             LEFT JOIN stories s ON s.id = a.story_id
             LEFT JOIN deliveries d ON d.alert_id = a.id
             WHERE a.created_at >= $1
             GROUP BY a.id, a.signal, a.title, a.link, a.feed, a.created_at, a.story_id,
                      a.status_topic, a.status_before, a.status_after, s.sources
             ORDER BY a.created_at DESC, a.id DESC
             LIMIT $2",
        )
        .bind(ms(since))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let count = |r: &sqlx::any::AnyRow, c: &str| -> Result<u32> {
            Ok(r.try_get::<Option<i64>, _>(c)?.unwrap_or(0).max(0) as u32)
        };
        rows.iter()
            .map(|r| {
                let change = match (
                    r.try_get::<Option<String>, _>("status_topic")?,
                    r.try_get::<Option<String>, _>("status_before")?,
                    r.try_get::<Option<String>, _>("status_after")?,
                ) {
                    (Some(t), Some(b), Some(a)) if b != a => Some((t, b, a)),
                    _ => None,
                };
                Ok(AlertRow {
                    id: r.try_get("id")?,
                    signal: r.try_get("signal")?,
                    title: r.try_get("title")?,
                    link: r.try_get("link")?,
                    feed: r.try_get("feed")?,
                    at: from_ms(r.try_get("created_at")?),
                    story: r.try_get("story_id")?,
                    status_change: change,
                    sources: count(r, "sources")?,
                    delivered: count(r, "delivered")?,
                    waiting: count(r, "waiting")?,
                    dead: count(r, "dead")?,
                    silenced: count(r, "silenced")?,
                })
            })
            .collect()
    }

    /// One story with its feeds, if it is still kept.
    pub async fn story(&self, id: &str) -> Result<Option<StoryRow>> {
        let Some(r) = sqlx::query(
            "SELECT id, signal, title, link, sources, items, started_at, last_seen_at, object, official_feed, official_at
             FROM stories WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let feeds = story_feeds(&self.pool, id).await?;
        let reports: Vec<(String, String, Option<String>, i64)> = sqlx::query_as(
            "SELECT m.feed, m.title, i.link, m.joined_at
             FROM story_members m LEFT JOIN items i ON i.key = m.item_key
             WHERE m.story_id = $1 ORDER BY m.joined_at, m.feed, m.item_key LIMIT $2",
        )
        .bind(id)
        .bind(MAX_REPORTS)
        .fetch_all(&self.pool)
        .await?;
        let official = match (
            r.try_get::<Option<String>, _>("official_feed")?,
            r.try_get::<Option<i64>, _>("official_at")?,
        ) {
            (Some(feed), Some(at)) => Some((feed, from_ms(at))),
            _ => None,
        };
        Ok(Some(StoryRow {
            id: r.try_get("id")?,
            signal: r.try_get("signal")?,
            title: r.try_get("title")?,
            link: r.try_get("link")?,
            sources: r.try_get::<i64, _>("sources")?.max(0) as u32,
            items: r.try_get::<i64, _>("items")?.max(0) as u32,
            started_at: from_ms(r.try_get("started_at")?),
            last_seen_at: from_ms(r.try_get("last_seen_at")?),
            feeds,
            object: r.try_get("object")?,
            official,
            reports: reports
                .into_iter()
                .map(|(feed, title, link, at)| ReportRow {
                    feed,
                    title,
                    link,
                    at: from_ms(at),
                })
                .collect(),
        }))
    }

    /// Stories last reported at or after `since`, newest first.
    pub async fn recent_stories(&self, since: DateTime<Utc>) -> Result<Vec<StoryRow>> {
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM stories WHERE last_seen_at >= $1 ORDER BY started_at DESC, id",
        )
        .bind(ms(since))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(s) = self.story(&id).await? {
                out.push(s);
            }
        }
        Ok(out)
    }
}

/// The feeds that carried a story, first first.
pub(super) async fn story_feeds<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    story: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT feed FROM story_members WHERE story_id = $1 GROUP BY feed ORDER BY MIN(joined_at), feed",
    )
    .bind(story)
    .fetch_all(db)
    .await?)
}
