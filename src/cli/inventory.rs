//! `feeds` and `routes`: what is configured, and how it is doing, from the config and the
//! state. Safe beside a running daemon.

use chrono::{DateTime, Utc};
use serde_json::json;
use std::process::ExitCode;

use crate::config::{FeedSettings, Settings};
use crate::domain::{AlertOn, SignalKind};
use crate::store::FeedRow;
use crate::view::time;

/// When a feed's next poll is due, as a running daemon schedules it: its interval after a
/// success, doubled per failure in a row (capped at the larger of the interval and an hour)
/// after failures; before jitter and without the server's hints, so an estimate.
fn next_poll(feed: &FeedSettings, row: &FeedRow) -> Option<DateTime<Utc>> {
    let last = row.last_poll?;
    let wait = crate::app::backoff(feed.interval, row.consecutive_failures);
    Some(last + chrono::Duration::from_std(wait).ok()?)
}

/// `feeds [--json]`: every configured feed with its health.
pub async fn feeds(settings: &Settings, as_json: bool) -> anyhow::Result<ExitCode> {
    let rows = if settings.database.may_hold_state() {
        let store = settings.database.open().await?;
        let rows = store.feed_rows().await?;
        store.close().await;
        rows
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    for feed in &settings.feeds {
        let row = rows
            .iter()
            .find(|r| r.name == feed.name.as_str())
            .cloned()
            .unwrap_or_default();
        out.push((feed, next_poll(feed, &row), row));
    }
    if as_json {
        let list: Vec<serde_json::Value> = out
            .iter()
            .map(|(feed, next, r)| {
                json!({
                    "name": feed.name.as_str(),
                    "url": feed.source.display(),
                    "interval_seconds": feed.interval.as_secs(),
                    "official": feed.official,
                    "last_poll": r.last_poll.map(time),
                    "result": result(r),
                    "last_success": r.last_success.map(time),
                    "consecutive_failures": r.consecutive_failures,
                    "last_error": r.last_error,
                    "next_poll": next.map(time),
                    "signal_items": r.signal_items,
                    "alerts": r.alerts,
                    "polled_by": r.polled_by,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(ExitCode::SUCCESS);
    }
    for (feed, next, r) in &out {
        println!(
            "{:<24} {:<7} last poll {}  next ≈ {}  failures in a row {}  signal items {}  alerts {}",
            feed.name.as_str(),
            result(r),
            r.last_poll.map(time).unwrap_or_else(|| "never".into()),
            next.map(time).unwrap_or_else(|| "at start".into()),
            r.consecutive_failures,
            r.signal_items,
            r.alerts
        );
        if let Some(e) = &r.last_error {
            println!("{:<24} last error: {e}", "");
        }
        if settings.database.backend().shared() {
            println!(
                "{:<24} polled by {}",
                "",
                r.polled_by
                    .as_deref()
                    .unwrap_or("no daemon now (its lease is free)")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn result(r: &FeedRow) -> &'static str {
    match (r.last_poll, r.consecutive_failures) {
        (None, _) => "new",
        (Some(_), 0) => "ok",
        (Some(_), _) => "failing",
    }
}

/// `routes SIGNAL`: who would get an alert of that signal, and why or why not.
pub async fn routes(settings: &Settings, signal: &str) -> anyhow::Result<ExitCode> {
    let kind: SignalKind = signal.parse().map_err(anyhow::Error::msg)?;
    let now = Utc::now();
    let silences = if settings.database.may_hold_state() {
        let store = settings.database.open().await?;
        let s = store.silences(now, None).await?;
        store.close().await;
        s
    } else {
        Vec::new()
    };
    for r in crate::notify::routes(settings) {
        let asked = r.signals.contains(&kind);
        let mut why = Vec::new();
        if !asked {
            why.push(format!(
                "did not ask for it (asked for {})",
                r.signals
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else {
            if r.min_score > 0.0 {
                why.push(format!("if its score is at least {:.2}", r.min_score));
            }
            if r.alert_on == AlertOn::Change {
                why.push("only when it changes a status (alert_on = \"change\")".into());
            }
            if r.min_sources > 1 {
                why.push(format!(
                    "after {} sources carry it, or unconfirmed after stories.max_wait ({})",
                    r.min_sources,
                    humantime::format_duration(settings.stories.max_wait)
                ));
            }
            if let Some(sub) = settings
                .subscribers
                .iter()
                .find(|s| r.channel == crate::domain::Channel::Email && s.name == r.target)
            {
                if let Some(d) = &sub.digest {
                    why.push(format!("in the daily digest at {} {}", d.at, d.zone));
                }
                if let Some(q) = &sub.quiet {
                    why.push(format!(
                        "held during quiet hours {}-{} {} unless it changes a status",
                        q.from.format("%H:%M"),
                        q.to.format("%H:%M"),
                        q.zone
                    ));
                }
            }
        }
        let muted: Vec<String> = silences
            .iter()
            .filter(|s| s.mutes(kind, &r.target, now))
            .map(|s| format!("silenced by {} until {}", s.id, time(s.ends_at)))
            .collect();
        let verdict = match (asked, muted.is_empty()) {
            (false, _) => "no ",
            (true, true) => "yes",
            (true, false) => "muted",
        };
        why.extend(muted);
        println!(
            "{verdict:<5} {}:{} <{}>{}",
            r.channel.as_str(),
            r.target,
            r.address,
            if why.is_empty() {
                String::new()
            } else {
                format!(" — {}", why.join("; "))
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
