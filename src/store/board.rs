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

/// The most reports a [`StoryRow`] lists.
pub const MAX_REPORTS: i64 = 100;

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
                out.push(StatusRow {
                    topic,
                    value: "unknown".into(),
                    since: None,
                    story: None,
                });
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
    db: impl sqlx::Executor<'e, Database = sqlx::Sqlite>,
    story: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT feed FROM story_members WHERE story_id = $1 GROUP BY feed ORDER BY MIN(joined_at), feed",
    )
    .bind(story)
    .fetch_all(db)
    .await?)
}
