//! The state as people read it: the status board, silences, the outbox, feed health and
//! the last 30 days of alerts. One read of the store ([`Board::read`]) serves `status`,
//! `/status.json` and the status page, so the three never disagree.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use crate::domain::{Silence, Topic};
use crate::store::{AlertRow, FeedRow, OutboxCounts, StatusRow, Store};

/// How far back the timeline goes.
pub const TIMELINE_DAYS: i64 = 30;
/// The most alerts the timeline shows.
pub const TIMELINE_MAX: i64 = 500;

/// Everything the board shows, read at `now`.
#[derive(Debug, Clone)]
pub struct Board {
    pub now: DateTime<Utc>,
    /// The three topics, each set or `unknown`.
    pub statuses: Vec<StatusRow>,
    pub silences: Vec<Silence>,
    pub outbox: OutboxCounts,
    pub feeds: Vec<FeedRow>,
    /// Alerts of the last [`TIMELINE_DAYS`], newest first.
    pub timeline: Vec<AlertRow>,
}

impl Board {
    /// The board as the store holds it at `now`.
    pub async fn read(store: &Store, now: DateTime<Utc>) -> crate::store::Result<Board> {
        Ok(Board {
            now,
            statuses: store.statuses().await?,
            silences: store.silences(now, None).await?,
            outbox: store.outbox_counts().await?,
            feeds: store.feed_rows().await?,
            timeline: store
                .recent_alerts(now - chrono::Duration::days(TIMELINE_DAYS), TIMELINE_MAX)
                .await?,
        })
    }

    /// The board before the daemon has run: every topic unknown, nothing else.
    pub fn empty(now: DateTime<Utc>) -> Board {
        Board {
            now,
            statuses: Topic::ALL.map(StatusRow::unknown).to_vec(),
            silences: Vec::new(),
            outbox: OutboxCounts::default(),
            feeds: Vec::new(),
            timeline: Vec::new(),
        }
    }

    /// `status --json` and `/status.json`: one key per topic, then `silences`, `outbox`,
    /// `feeds` and `timeline`.
    pub fn to_json(&self) -> Value {
        let mut board = serde_json::Map::new();
        for r in &self.statuses {
            board.insert(r.topic.as_str().into(), status_json(r));
        }
        board.insert(
            "silences".into(),
            self.silences
                .iter()
                .map(|s| silence_json(s, self.now))
                .collect(),
        );
        let o = &self.outbox;
        board.insert(
            "outbox".into(),
            json!({
                "pending": o.pending,
                "sending": o.sending,
                "delivered": o.delivered,
                "dead": o.dead,
                "silenced": o.silenced,
            }),
        );
        board.insert(
            "feeds".into(),
            self.feeds
                .iter()
                .map(|f| {
                    json!({
                        "name": f.name,
                        "last_poll": f.last_poll.map(time),
                        "last_success": f.last_success.map(time),
                        "consecutive_failures": f.consecutive_failures,
                        "last_error": f.last_error,
                        "signal_items": f.signal_items,
                        "alerts": f.alerts,
                    })
                })
                .collect(),
        );
        board.insert(
            "timeline".into(),
            self.timeline
                .iter()
                .map(|a| {
                    json!({
                        "id": a.id,
                        "at": time(a.at),
                        "signal": a.signal,
                        "title": a.title,
                        "link": a.link,
                        "feed": a.feed,
                        "story": a.story,
                        "sources": a.sources,
                        "status_change": a.status_change.as_ref().map(|(t, b, after)| json!({
                            "topic": t, "from": b, "to": after,
                        })),
                        "deliveries": {
                            "delivered": a.delivered,
                            "waiting": a.waiting,
                            "dead": a.dead,
                            "silenced": a.silenced,
                        },
                    })
                })
                .collect(),
        );
        Value::Object(board)
    }
}

/// RFC 3339 to the second, UTC.
pub fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn status_json(r: &StatusRow) -> Value {
    json!({
        "status": r.value,
        "since": r.since.map(time),
        "story": r.story.as_ref().map(|s| json!({
            "id": s.id,
            "signal": s.signal,
            "title": s.title,
            "link": s.link,
            "sources": s.sources,
            "items": s.items,
            "feeds": s.feeds,
            "object": s.object,
            "first_official": s.official.as_ref().map(|(feed, at)| json!({
                "feed": feed,
                "at": time(*at),
            })),
            "first_seen": time(s.started_at),
            "last_seen": time(s.last_seen_at),
            "reports": s.reports.iter().map(|r| json!({
                "feed": r.feed,
                "title": r.title,
                "link": r.link,
                "at": time(r.at),
            })).collect::<Vec<_>>(),
        })),
    })
}

/// A silence as `silence list --json`, `status --json` and the status page show it.
pub fn silence_json(s: &Silence, now: DateTime<Utc>) -> Value {
    json!({
        "id": s.id,
        "signals": s.signals.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "subscriber": s.subscriber,
        "starts_at": time(s.starts_at),
        "ends_at": time(s.ends_at),
        "active": s.active(now),
        "comment": s.comment,
        "created_by": s.created_by,
    })
}
