//! A year of the store, simulated: what it weighs with retention ([store] keep_seen,
//! keep_alerts at their defaults) and without, through the library's own ingest and prune.
//!
//! Two runs, each with retention at its defaults and then off (everything kept ten years):
//!
//! - a year: RETENTION_FEEDS (100) feeds polled four times a simulated day for
//!   RETENTION_DAYS (365) days, each document holding its newest 50 items of which
//!   RETENTION_NEW (25) are new, about one in a thousand with a signal (an alert and a
//!   delivered webhook row);
//! - churn: the same feeds and one more that re-issues its 500 items under fresh GUIDs every
//!   five minutes (144,000 new fingerprints a day, the case that grew the store by about
//!   1.8 GB a year), for RETENTION_CHURN_DAYS (45) days: long enough to pass keep_seen.
//!
//! Once a simulated day the housekeeping prunes (a full sweep of the seen set, as a day of
//! the daemon's minute steps would).
//!
//!   cargo bench --bench retention
//!
//! Ends with one summary line:
//!   retention: year_kept=…MB year_unkept=…MB churn_kept=…MB churn_unkept=…MB (seen rows each)

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ceasefire_watch::config::StorySettings;
use ceasefire_watch::domain::{
    AlertOn, Channel, Evidence, FeedName, Field, Item, ItemKey, Route, Signal, SignalKind,
};
use ceasefire_watch::store::{FeedUpdate, Prepared, Retention, Store};
use chrono::{DateTime, TimeDelta, Utc};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn item(feed: &FeedName, n: u64, published: DateTime<Utc>) -> (Item, Vec<Signal>) {
    let guid = format!("{feed}-{n}");
    let signals = if n % 1000 == 999 {
        vec![Signal {
            kind: SignalKind::RussiaRejects,
            score: 0.9,
            evidence: Evidence {
                rule: "bench".into(),
                words: vec!["Kremlin".into(), "rejects".into()],
                sentence: "Kremlin rejects the truce".into(),
                field: Field::Title,
                object: None,
            },
        }]
    } else {
        Vec::new()
    };
    let title = if signals.is_empty() {
        format!("Item {n} of {feed}")
    } else {
        format!("Kremlin rejects truce {n} of {feed}")
    };
    (
        Item {
            key: ItemKey::compute(feed, Some(&guid), None, "", ""),
            feed: feed.clone(),
            guid: Some(guid.clone()),
            link: Some(format!("https://news.example.org/{guid}")),
            title,
            summary: String::new(),
            published: Some(published),
        },
        signals,
    )
}

fn size_mb(dir: &Path) -> f64 {
    let mut bytes = 0;
    for name in ["ceasefire-watch.db", "ceasefire-watch.db-wal"] {
        bytes += std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
    }
    bytes as f64 / 1048576.0
}

/// Runs the year; returns (database MB at the end, seen rows).
async fn simulate(retention: Retention, label: &str, churn_n: usize, days: i64) -> (f64, u64) {
    let feeds_n = env("RETENTION_FEEDS", 100);
    let new_per_poll = env("RETENTION_NEW", 25) as u64;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let routes = Arc::new(vec![Route {
        channel: Channel::Webhook,
        target: "sink".into(),
        address: "https://hooks.example.org/".into(),
        signals: SignalKind::ALL.into_iter().collect(),
        min_score: 0.0,
        alert_on: AlertOn::Story,
        min_sources: 1,
    }]);
    let settings = Arc::new(StorySettings::default());
    let feeds: Vec<FeedName> = (0..feeds_n)
        .map(|i| FeedName::parse(&format!("feed{i}")).unwrap())
        .collect();
    let churners: Vec<FeedName> = (0..churn_n)
        .map(|i| FeedName::parse(&format!("churn{i}")).unwrap())
        .collect();
    let t0 = Utc::now() - TimeDelta::days(days);
    let started = Instant::now();
    let mut next = vec![0u64; feeds_n];
    let mut churned = 0u64;
    for day in 0..days {
        for poll in 0..4i64 {
            let now = t0 + TimeDelta::days(day) + TimeDelta::hours(6 * poll);
            let mut jobs = Vec::new();
            for (i, feed) in feeds.iter().enumerate() {
                next[i] += new_per_poll;
                let items: Vec<Prepared> = (next[i].saturating_sub(50)..next[i])
                    .map(|n| {
                        let (item, signals) = item(feed, n, now);
                        Prepared::new(item, signals)
                    })
                    .collect();
                let update = FeedUpdate {
                    first: day == 0 && poll == 0,
                    ..FeedUpdate::default()
                };
                jobs.push(store.ingest(feed, update, items, routes.clone(), settings.clone(), now));
            }
            // The churners: 500 fresh GUIDs every five minutes, a quarter day at a time.
            for feed in &churners {
                let items: Vec<Prepared> = (churned..churned + 500 * 72)
                    .map(|n| Prepared::new(item(feed, n, now).0, Vec::new()))
                    .collect();
                churned += 500 * 72;
                jobs.push(store.ingest(
                    feed,
                    FeedUpdate::default(),
                    items,
                    routes.clone(),
                    settings.clone(),
                    now,
                ));
            }
            for r in futures_util::future::join_all(jobs).await {
                r.unwrap();
            }
        }
        // The day's alerts are delivered; housekeeping sweeps once.
        let end = t0 + TimeDelta::days(day + 1);
        for lane in store.pending_lanes().await.unwrap() {
            for d in store.claim_due(&lane, end, 10_000).await.unwrap() {
                store.mark_delivered(d.id, end).await.unwrap();
            }
        }
        loop {
            if store.prune(&retention, end).await.unwrap().swept {
                break;
            }
        }
        if [29, 89, 179, days - 1].contains(&day) || (churn_n > 0 && day % 15 == 14) {
            let (seen, items, alerts, deliveries) = store.row_counts().await.unwrap();
            eprintln!(
                "retention: {label}: day {}: {:.1} MB, seen={seen} items={items} alerts={alerts} deliveries={deliveries} ({:.0}s)",
                day + 1,
                size_mb(dir.path()),
                started.elapsed().as_secs_f64()
            );
        }
    }
    let (seen, ..) = store.row_counts().await.unwrap();
    store.close().await;
    (size_mb(dir.path()), seen)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ten_years = Duration::from_secs(10 * 365 * 24 * 3600);
    let off = Retention {
        keep_seen: ten_years,
        keep_alerts: ten_years,
    };
    let days = env("RETENTION_DAYS", 365) as i64;
    let churn_days = env("RETENTION_CHURN_DAYS", 45) as i64;
    let run = |retention, label, churn, days| rt.block_on(simulate(retention, label, churn, days));
    let year_kept = run(Retention::default(), "year, defaults", 0, days);
    let year_unkept = run(off, "year, kept ten years", 0, days);
    let churn_kept = run(Retention::default(), "churn, defaults", 1, churn_days);
    let churn_unkept = run(off, "churn, kept ten years", 1, churn_days);
    println!(
        "retention: feeds={} days={days} year_kept={:.1}MB ({} seen) year_unkept={:.1}MB ({} seen) churn_days={churn_days} churn_kept={:.1}MB ({} seen) churn_unkept={:.1}MB ({} seen)",
        env("RETENTION_FEEDS", 100),
        year_kept.0,
        year_kept.1,
        year_unkept.0,
        year_unkept.1,
        churn_kept.0,
        churn_kept.1,
        churn_unkept.0,
        churn_unkept.1,
    );
}
