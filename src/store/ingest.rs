//! Recording what polls found, with group commit: one writer task takes every feed's ingest
//! that is waiting and records them in one transaction, each feed inside its own savepoint.
//!
//! A transaction per feed made a cold start of a thousand feeds spend most of its time
//! rewriting the same index pages into the WAL a thousand times; grouped, each page is
//! written once per group. Nothing waits on purpose: a lone poll is committed at once, and
//! a group forms only from polls that finished while the previous group was being written.
//! A feed whose ingest fails is rolled back to its savepoint and told so; the others of its
//! group commit. If the commit itself fails, every feed of the group is tried again alone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqlitePool;
use sqlx::{Acquire, QueryBuilder, Row, Sqlite, Transaction};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use super::stories::{self, StoryCache};
use super::{FeedUpdate, IngestReport, Result, ms};
use crate::config::StorySettings;
use crate::domain::{FeedName, Item, Route, Signal};
use crate::stories::{Terms, normalize_link, text_hash};

type Tx<'a> = Transaction<'a, Sqlite>;

/// At most this many feeds share a transaction, and a group stops growing past this many
/// items: a group must stay short enough that the delivery workers' writes are not held up.
const MAX_GROUP_FEEDS: usize = 64;
const MAX_GROUP_ITEMS: usize = 10_000;

/// An item with its signals and what identifies it beyond its key: computed by the caller,
/// off the writer (it is CPU work, and the writer is the one thing that cannot be parallel).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub item: Item,
    pub signals: Vec<Signal>,
    /// Content words, for items with signals only: stories, and telling an edited report
    /// from a new one at the same link. An item without a signal can never alert.
    terms: Option<Terms>,
    link: Option<String>,
    hash: String,
}

impl Prepared {
    pub fn new(item: Item, signals: Vec<Signal>) -> Prepared {
        Prepared {
            terms: (!signals.is_empty()).then(|| Terms::of(&item.title, &item.summary)),
            link: item.link.as_deref().and_then(normalize_link),
            hash: text_hash(&item.title, &item.summary),
            item,
            signals,
        }
    }
}

/// One feed's ingest, waiting for the writer.
pub(super) struct Job {
    pub feed: FeedName,
    pub update: FeedUpdate,
    pub items: Vec<Prepared>,
    pub routes: Arc<Vec<Route>>,
    pub settings: Arc<StorySettings>,
    pub now: DateTime<Utc>,
    pub reply: oneshot::Sender<Result<IngestReport>>,
}

/// Starts the writer; it ends when the last sender (the last clone of the store) is gone.
pub(super) fn spawn_writer(pool: SqlitePool) -> mpsc::Sender<Job> {
    let (tx, rx) = mpsc::channel(MAX_GROUP_FEEDS * 2);
    tokio::spawn(writer(pool, rx));
    tx
}

async fn writer(pool: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    let mut cache = StoryCache::default();
    while let Some(first) = rx.recv().await {
        let mut items = first.items.len();
        let mut group = vec![first];
        while group.len() < MAX_GROUP_FEEDS && items < MAX_GROUP_ITEMS {
            match rx.try_recv() {
                Ok(job) => {
                    items += job.items.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        record_group(&pool, &mut cache, group).await;
    }
}

async fn record_group(pool: &SqlitePool, cache: &mut StoryCache, group: Vec<Job>) {
    if group.len() > 1 {
        match record_together(pool, cache, &group).await {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let _ = job.reply.send(result);
                }
                return;
            }
            Err(e) => {
                warn!(feeds = group.len(), error = %e, "a group of ingests could not be committed; recording each feed alone");
            }
        }
    }
    for job in group {
        let result = record_alone(pool, cache, &job).await;
        let _ = job.reply.send(result);
    }
}

/// One job in its own transaction.
async fn record_alone(
    pool: &SqlitePool,
    cache: &mut StoryCache,
    job: &Job,
) -> Result<IngestReport> {
    let result = async {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let report = ingest_one(&mut tx, cache, job).await?;
        tx.commit().await?;
        Ok(report)
    }
    .await;
    if result.is_err() {
        // Whatever it cached of the rolled-back work is not in the store.
        cache.clear();
    }
    result
}

/// Every job in one transaction, each in a savepoint; the per-job results are valid only
/// once this returns `Ok` (the commit happened).
async fn record_together(
    pool: &SqlitePool,
    cache: &mut StoryCache,
    group: &[Job],
) -> Result<Vec<Result<IngestReport>>> {
    let result = async {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut results = Vec::with_capacity(group.len());
        for job in group {
            let mut savepoint = tx.begin().await?;
            match ingest_one(&mut savepoint, cache, job).await {
                Ok(report) => {
                    savepoint.commit().await?;
                    results.push(Ok(report));
                }
                Err(e) => {
                    savepoint.rollback().await?;
                    cache.clear();
                    results.push(Err(e));
                }
            }
        }
        tx.commit().await?;
        Ok(results)
    }
    .await;
    if result.is_err() {
        cache.clear();
    }
    result
}

/// A new item of an ingest, and the earlier item it repeats, if any.
struct NewRow<'a> {
    new: &'a Prepared,
    repeat_of: Option<String>,
}

/// Records one feed's fetch inside `tx`: see [`super::Store::ingest`].
async fn ingest_one(tx: &mut Tx<'_>, cache: &mut StoryCache, job: &Job) -> Result<IngestReport> {
    let Job {
        feed,
        update,
        items,
        routes,
        settings,
        now,
        ..
    } = job;
    let now = *now;
    let mut report = IngestReport {
        items: items.len(),
        ..IngestReport::default()
    };
    let oldest = stories::shifted(now, settings.max_item_age, false);
    // A few statements per feed, not per item: which keys are known, which earlier items
    // of the feed the new ones may repeat, then the new rows in multi-row inserts.
    let mut known: HashSet<&str> = HashSet::new();
    for chunk in items.chunks(400) {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT key FROM items WHERE key IN (");
        let mut list = q.separated(", ");
        for p in chunk {
            list.push_bind(p.item.key.as_str());
        }
        q.push(")");
        let found: HashSet<String> = q
            .build_query_scalar::<String>()
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .collect();
        known.extend(
            chunk
                .iter()
                .map(|p| p.item.key.as_str())
                .filter(|k| found.contains(*k)),
        );
    }
    let fresh: Vec<&Prepared> = items
        .iter()
        .filter(|p| known.insert(p.item.key.as_str()))
        .collect();
    // Earlier items of this feed with the same text, or the same link.
    let mut by_hash: HashMap<String, String> = HashMap::new();
    let mut by_link: HashMap<String, Vec<(String, Option<Terms>)>> = HashMap::new();
    for chunk in fresh.chunks(200) {
        // Two indexed lookups (an OR of both made SQLite scan every item of the feed).
        let mut q = QueryBuilder::<Sqlite>::new(
            "SELECT key, text_hash, link_norm, terms FROM items WHERE feed = ",
        );
        q.push_bind(feed.as_str()).push(" AND text_hash IN (");
        let mut list = q.separated(", ");
        for f in chunk {
            list.push_bind(f.hash.as_str());
        }
        q.push(") UNION SELECT key, text_hash, link_norm, terms FROM items WHERE feed = ");
        q.push_bind(feed.as_str()).push(" AND link_norm IN (");
        let mut list = q.separated(", ");
        list.push_bind(None::<String>);
        for f in chunk.iter().filter_map(|f| f.link.as_deref()) {
            list.push_bind(f);
        }
        q.push(")");
        for row in q.build().fetch_all(&mut **tx).await? {
            let key: String = row.try_get("key")?;
            if let Some(h) = row.try_get::<Option<String>, _>("text_hash")? {
                by_hash.entry(h).or_insert_with(|| key.clone());
            }
            if let Some(l) = row.try_get::<Option<String>, _>("link_norm")? {
                let terms = row
                    .try_get::<Option<String>, _>("terms")?
                    .map(|t| Terms::from_stored(&t));
                by_link.entry(l).or_default().push((key, terms));
            }
        }
    }
    // Repeats of earlier items, or of items earlier in this document; then the rows.
    let mut rows: Vec<NewRow<'_>> = Vec::with_capacity(fresh.len());
    for f in fresh {
        // The same link is a repeat when the texts are alike; for an item without a
        // signal (it cannot alert either way) the link alone decides.
        let alike = |seen: &Option<Terms>| match (&f.terms, seen) {
            (None, _) => true,
            (Some(a), Some(b)) => a.similarity(b) >= settings.similarity,
            (Some(_), None) => false,
        };
        let repeat = by_hash.get(&f.hash).cloned().or_else(|| {
            f.link
                .as_ref()
                .and_then(|l| by_link.get(l))
                .and_then(|seen| seen.iter().find(|(_, t)| alike(t)))
                .map(|(k, _)| k.clone())
        });
        if repeat.is_none() {
            let key = f.item.key.as_str().to_owned();
            by_hash.entry(f.hash.clone()).or_insert_with(|| key.clone());
            if let Some(l) = &f.link {
                by_link
                    .entry(l.clone())
                    .or_default()
                    .push((key, f.terms.clone()));
            }
        }
        rows.push(NewRow {
            new: f,
            repeat_of: repeat,
        });
    }
    for chunk in rows.chunks(80) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO items (key, feed, guid, link, title, published_at, seen_at, link_norm, text_hash, terms, duplicate_of) ",
        );
        q.push_values(chunk, |mut b, r| {
            let f = r.new;
            b.push_bind(f.item.key.as_str())
                .push_bind(feed.as_str())
                .push_bind(f.item.guid.as_deref())
                .push_bind(f.item.link.as_deref())
                .push_bind(f.item.title.as_str())
                .push_bind(f.item.published.map(ms))
                .push_bind(ms(now))
                .push_bind(f.link.as_deref())
                .push_bind(f.hash.as_str())
                .push_bind(f.terms.as_ref().map(Terms::to_stored))
                .push_bind(r.repeat_of.as_deref());
        });
        q.build().execute(&mut **tx).await?;
    }
    for r in rows {
        let f = r.new;
        if r.repeat_of.is_some() {
            report.repeats += 1;
            continue;
        }
        report.new_items += 1;
        if f.signals.is_empty() {
            continue;
        }
        for s in &f.signals {
            report.signals[s.kind.index()] += 1;
        }
        if f.item.published.is_some_and(|p| p < oldest) {
            report.stale += 1;
            continue;
        }
        let Some(terms) = &f.terms else { continue };
        for signal in &f.signals {
            match stories::place(tx, cache, &f.item, signal, terms, routes, settings, now).await? {
                stories::Placement::Opened { deliveries, .. } => {
                    report.alerts += 1;
                    report.deliveries += deliveries;
                }
                stories::Placement::Joined { deliveries, .. } => {
                    report.joined += 1;
                    report.deliveries += deliveries;
                }
            }
        }
    }
    sqlx::query(
        "UPDATE feeds SET etag = $2, last_modified = $3, body_hash = $4, last_success_at = $5,
         consecutive_failures = 0, last_error = NULL, updated_at = $5 WHERE name = $1",
    )
    .bind(feed.as_str())
    .bind(update.validators.etag.as_deref())
    .bind(update.validators.last_modified.as_deref())
    .bind(update.body_hash.as_deref())
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(report)
}
