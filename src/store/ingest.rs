//! Recording what polls found, with group commit: one writer task takes every feed's ingest
//! that is waiting and records them in one transaction.
//!
//! A transaction per feed made a cold start of a thousand feeds spend most of its time
//! rewriting the same index pages into the WAL a thousand times; grouped, each page is
//! written once per group. Nothing waits on purpose: a lone poll is committed at once, and
//! a group forms only from polls that finished while the previous group was being written.
//! If any feed's ingest or the commit fails, the whole group is rolled back and every feed
//! of it is tried again alone, so a failing feed fails alone and the others commit. (A
//! savepoint per feed did the same at two more statements a feed, on every group, to save
//! work only in the rare group that fails.)

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqlitePool;
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};
use tokio::sync::{mpsc, oneshot};
use tracing::debug;

use super::deferred::{Deferred, FeedRow, ItemRow, padded_with_last};
use super::stories::{self, StoryCache};
use super::{FeedUpdate, IngestReport, Result, StoreError, ms};
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
    /// What the item leaves in the seen set: its key, scoped to the feed.
    key_fp: Fingerprint,
    /// For items with signals only (an item without a signal can never alert, so its
    /// repeats cost nothing but a classification): what tells a repeat under a fresh GUID
    /// or an edited report from a new one.
    signalled: Option<Signalled>,
}

#[derive(Debug, Clone)]
struct Signalled {
    /// Content words: stories, and telling an edited report at the same link from a new one.
    terms: Terms,
    link: Option<String>,
    hash: String,
    text_fp: Fingerprint,
}

impl Prepared {
    pub fn new(item: Item, signals: Vec<Signal>) -> Prepared {
        let feed = item.feed.as_str();
        let signalled = (!signals.is_empty()).then(|| {
            let hash = text_hash(&item.title, &item.summary);
            Signalled {
                terms: Terms::of(&item.title, &item.summary),
                link: item.link.as_deref().and_then(normalize_link),
                text_fp: fingerprint(FpKind::Text, feed, &hash),
                hash,
            }
        });
        Prepared {
            key_fp: fingerprint(FpKind::Key, feed, item.key.as_str()),
            signalled,
            item,
            signals,
        }
    }
}

/// A row of the seen set (see `migrations/0004_seen.sql`): 4 bytes of SHA-256 of the feed's
/// name, then 12 of SHA-256 of (kind, feed, value). The feed's prefix keeps a feed's
/// fingerprints together in the table's B-tree, so an ingest reads and rewrites a few pages
/// of its own instead of one random page per item (which made every group commit write most
/// of the table to the WAL again); within a feed, 96 bits keep values apart.
pub(super) type Fingerprint = [u8; 16];

/// What a fingerprint stands for (the `kind` column of `seen`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FpKind {
    /// An item's key: every item.
    Key = 0,
    /// The text hash of an item with a signal.
    Text = 1,
}

/// The fingerprint of `value` (an item key or a text hash) in `feed`.
pub(super) fn fingerprint(kind: FpKind, feed: &str, value: &str) -> Fingerprint {
    let mut fp = [0; 16];
    fp[..4].copy_from_slice(&Sha256::digest(feed.as_bytes())[..4]);
    let mut h = Sha256::new();
    h.update([kind as u8]);
    h.update(feed.as_bytes());
    h.update([0]);
    h.update(value.as_bytes());
    fp[4..].copy_from_slice(&h.finalize()[..12]);
    fp
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

/// Starts the writer on a thread of its own; it ends when the last sender (the last clone
/// of the store) is gone.
///
/// Its own thread and runtime, because every poll waits for it and it cannot be parallel:
/// as a task among the daemon's others, each of its round trips to the database thread
/// waited behind fetches and timers for a worker (a cold start of a thousand feeds:
/// 2.15 -> 1.8 s).
pub(super) fn spawn_writer(pool: SqlitePool) -> std::io::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel(MAX_GROUP_FEEDS * 2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("ingest-writer".into())
        .spawn(move || rt.block_on(writer(pool, rx)))?;
    Ok(tx)
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
    match record(pool, cache, &group, Lookup::Trusting).await {
        Ok(reports) => {
            for (job, report) in group.into_iter().zip(reports) {
                let _ = job.reply.send(Ok(report));
            }
            return;
        }
        Err(e) => {
            // Each feed's own error, if it has one, is reported to it below.
            debug!(feeds = group.len(), error = %e, "a group of ingests failed; recording each feed alone");
        }
    }
    for job in group {
        let result = record(pool, cache, std::slice::from_ref(&job), Lookup::Always)
            .await
            .map(|mut reports| reports.remove(0));
        let _ = job.reply.send(result);
    }
}

/// Whether items of a feed's first ingest are looked up in the seen set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lookup {
    /// Taken to be new, and the transaction fails with [`StoreError::NotFirst`] if any was
    /// not: a thousand feeds' first polls save a thousand lookups.
    Trusting,
    /// Every item looked up.
    Always,
}

/// Every job in one transaction; the reports are valid only once this returns `Ok` (the
/// commit happened).
async fn record(
    pool: &SqlitePool,
    cache: &mut StoryCache,
    jobs: &[Job],
    lookup: Lookup,
) -> Result<Vec<IngestReport>> {
    let result = async {
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut deferred = Deferred::default();
        let mut reports = Vec::with_capacity(jobs.len());
        for job in jobs {
            reports.push(ingest_one(&mut tx, cache, &mut deferred, job, lookup).await?);
        }
        deferred.flush(&mut tx).await?;
        tx.commit().await?;
        Ok(reports)
    }
    .await;
    // What the cache learned of the stories is kept only if it was committed.
    cache.end_transaction(result.is_ok());
    result
}

/// At most this many fingerprints a statement.
const FP_CHUNK: usize = 512;

/// Adds fingerprints to the seen set (one already there stays as it is) and returns those
/// that were not there.
///
/// The lookup returns the fingerprints already there, a row each: none on a feed's first
/// poll, and on later ones rows only for a feed whose body changed, whose new items are
/// what matter. (One row with a column per fingerprint, which this replaced, made SQLite run
/// a subquery per fingerprint on every poll to save row hand-offs that a first poll does not
/// have.)
pub(super) async fn insert_fingerprints(
    tx: &mut Tx<'_>,
    fps: &[(Fingerprint, FpKind, i64)],
) -> Result<HashSet<Fingerprint>> {
    let mut known: HashSet<Fingerprint> = HashSet::new();
    for chunk in fps.chunks(FP_CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT fp FROM seen WHERE fp IN (");
        let mut list = q.separated(", ");
        for (fp, ..) in padded_with_last(chunk) {
            list.push_bind(&fp[..]);
        }
        q.push(")");
        for row in q.build().fetch_all(&mut **tx).await? {
            let fp: &[u8] = row.try_get(0)?;
            if let Ok(fp) = Fingerprint::try_from(fp) {
                known.insert(fp);
            }
        }
    }
    let new: Vec<&(Fingerprint, FpKind, i64)> =
        fps.iter().filter(|(fp, ..)| !known.contains(fp)).collect();
    let added = new.iter().map(|(fp, ..)| *fp).collect();
    insert_rows(tx, new).await?;
    Ok(added)
}

/// Inserts rows of the seen set (a fingerprint there already stays as it is); returns how
/// many were inserted.
async fn insert_rows(tx: &mut Tx<'_>, rows: Vec<&(Fingerprint, FpKind, i64)>) -> Result<u64> {
    let mut inserted = 0;
    for chunk in rows.chunks(FP_CHUNK) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO seen (fp, kind, seen_at) ");
        q.push_values(padded_with_last(chunk), |mut b, (fp, kind, at)| {
            b.push_bind(&fp[..]).push_bind(*kind as i64).push_bind(*at);
        });
        q.push(" ON CONFLICT (fp) DO NOTHING");
        inserted += q.build().execute(&mut **tx).await?.rows_affected();
    }
    Ok(inserted)
}

/// Adds fingerprints taken to be new to the seen set and returns them; fails with
/// [`StoreError::NotFirst`] if any was there already (the caller records the feed again with
/// [`insert_fingerprints`]).
async fn insert_new_fingerprints(
    tx: &mut Tx<'_>,
    fps: &[(Fingerprint, FpKind, i64)],
) -> Result<HashSet<Fingerprint>> {
    let distinct: HashSet<Fingerprint> = fps.iter().map(|(fp, ..)| *fp).collect();
    let added = insert_rows(tx, fps.iter().collect()).await?;
    if added != distinct.len() as u64 {
        return Err(StoreError::NotFirst);
    }
    Ok(distinct)
}

/// A new item of an ingest, and whether it repeats an earlier item (same text, or same
/// link and alike).
struct NewRow<'a> {
    new: &'a Prepared,
    repeat: bool,
}

/// Records one feed's fetch inside `tx`: see [`super::Store::ingest`].
async fn ingest_one(
    tx: &mut Tx<'_>,
    cache: &mut StoryCache,
    deferred: &mut Deferred,
    job: &Job,
    lookup: Lookup,
) -> Result<IngestReport> {
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
    // A few statements per feed, not per item. The items' fingerprints (every key, the
    // texts of signal items) go into the seen set, which says which were not there before;
    // then the earlier reports of this feed at the links of new signal items; then rows.
    let at = ms(now);
    let fps: Vec<(Fingerprint, FpKind, i64)> = items
        .iter()
        .flat_map(|p| {
            [
                Some((p.key_fp, FpKind::Key, at)),
                p.signalled.as_ref().map(|s| (s.text_fp, FpKind::Text, at)),
            ]
        })
        .flatten()
        .collect();
    let added = if update.first && lookup == Lookup::Trusting {
        insert_new_fingerprints(tx, &fps).await?
    } else {
        insert_fingerprints(tx, &fps).await?
    };
    // In document order, the first item to bring a fingerprint claims it: a later item of
    // the same document with the same key is the same item, with the same text a repeat.
    let mut claimed: HashSet<Fingerprint> = HashSet::new();
    let mut claim = |fp: Fingerprint| added.contains(&fp) && claimed.insert(fp);
    let mut fresh: Vec<(&Prepared, bool)> = Vec::new();
    for p in items {
        let key = claim(p.key_fp);
        let new_text = p.signalled.as_ref().is_none_or(|s| claim(s.text_fp));
        if key {
            fresh.push((p, new_text));
        }
    }
    // A new signal item at a link seen before repeats it only when the texts are alike, so
    // those earlier reports are read with their words (only items with a signal have rows).
    if deferred.has_items_of(feed.as_str()) {
        // The same feed twice in one transaction (never, from polls): its first rows are read.
        deferred.flush(tx).await?;
    }
    let mut by_link: HashMap<String, Vec<Option<Terms>>> = HashMap::new();
    let linked: Vec<&str> = fresh
        .iter()
        .filter_map(|(f, _)| f.signalled.as_ref()?.link.as_deref())
        .collect();
    for chunk in linked.chunks(256) {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT link_norm, terms FROM items WHERE feed = ");
        q.push_bind(feed.as_str()).push(" AND link_norm IN (");
        let mut list = q.separated(", ");
        for l in padded_with_last(chunk) {
            list.push_bind(*l);
        }
        q.push(")");
        for row in q.build().fetch_all(&mut **tx).await? {
            let link: String = row.try_get("link_norm")?;
            let terms = row
                .try_get::<Option<String>, _>("terms")?
                .map(|t| Terms::from_stored(&t));
            by_link.entry(link).or_default().push(terms);
        }
    }
    // Repeats of earlier signal items, or of items earlier in this document; then the rows.
    let mut rows: Vec<NewRow<'_>> = Vec::with_capacity(fresh.len());
    for (f, new_text) in fresh {
        let repeat = f.signalled.as_ref().is_some_and(|s| {
            let alike = |earlier: &Vec<Option<Terms>>| {
                earlier
                    .iter()
                    .flatten()
                    .any(|t| s.terms.similarity(t) >= settings.similarity)
            };
            // The same text, or a known link with alike text.
            let repeat = !new_text
                || s.link
                    .as_ref()
                    .and_then(|l| by_link.get(l))
                    .is_some_and(alike);
            if let (false, Some(l)) = (repeat, &s.link) {
                by_link
                    .entry(l.clone())
                    .or_default()
                    .push(Some(s.terms.clone()));
            }
            repeat
        });
        rows.push(NewRow { new: f, repeat });
    }
    // Full rows for new signal items only: a repeat's fingerprints are enough to know it
    // again, and the report it repeats already has its row.
    let signalled: Vec<(&Prepared, &Signalled)> = rows
        .iter()
        .filter(|r| !r.repeat)
        .filter_map(|r| Some((r.new, r.new.signalled.as_ref()?)))
        .collect();
    for (f, s) in signalled {
        deferred.item(ItemRow {
            key: f.item.key.as_str().to_owned(),
            feed: feed.as_str().to_owned(),
            guid: f.item.guid.clone(),
            link: f.item.link.clone(),
            title: f.item.title.clone(),
            published_at: f.item.published.map(ms),
            seen_at: at,
            link_norm: s.link.clone(),
            text_hash: s.hash.clone(),
            terms: s.terms.to_stored(),
        });
    }
    let arrived = rows.iter().filter(|r| !r.repeat).count();
    if arrived > 0 {
        deferred.arrival(feed.as_str(), at, arrived as i64);
    }
    for r in rows {
        let f = r.new;
        if r.repeat {
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
        let Some(s) = &f.signalled else { continue };
        for signal in &f.signals {
            let placed = stories::place(
                tx, cache, deferred, &f.item, signal, &s.terms, routes, settings, now,
            );
            match placed.await? {
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
    deferred.fetched(
        feed.as_str(),
        FeedRow {
            etag: update.validators.etag.clone(),
            last_modified: update.validators.last_modified.clone(),
            body_hash: update.body_hash.clone(),
            at,
        },
    );
    Ok(report)
}
