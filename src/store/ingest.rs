//! Recording what polls found, with group commit: one writer task takes every feed's ingest
//! that is waiting and records them in one transaction.
//!
//! A transaction per feed made a cold start of a thousand feeds spend most of its time
//! rewriting the same index pages into the WAL a thousand times; grouped, each page is
//! written once per group. A group waits a few milliseconds for more polls (see
//! [`GATHER_FOR`]) and is then read in a few statements for all its feeds, not a few per
//! feed. If any feed's ingest or the commit fails, the whole group is rolled back and every
//! feed of it is tried again alone, so a failing feed fails alone and the others commit. (A
//! savepoint per feed did the same at two more statements a feed, on every group, to save
//! work only in the rare group that fails.)

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::sql::Sql;
use chrono::{DateTime, Utc};
use sqlx::AnyPool;
use sqlx::{Any, Row, Transaction};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error};

use super::deferred::{Deferred, FeedRow, ItemRow, padded_with_last, push_padded_values};
use super::retention::REFRESH_AFTER;
use super::stories::{self, StoryCache};
use super::{FeedUpdate, IngestReport, Result, StoreError, ms};
use crate::dedupe::StorySettings;
use crate::dedupe::Terms;
use crate::dedupe::repeats::{
    ByLink, Fingerprint, FpKind, Prepared, Repeats, Signalled, fresh_items,
};
use crate::domain::{FeedName, Route, time};

type Tx<'a> = Transaction<'a, Any>;

/// At most this many feeds share a transaction, and a group stops growing past this many
/// items: a group must stay short enough that the delivery workers' writes are not held up.
const MAX_GROUP_FEEDS: usize = 64;
const MAX_GROUP_ITEMS: usize = 10_000;
/// While a group has fewer than [`GATHER_FEEDS`] feeds, the writer waits up to
/// [`GATHER_FOR`] after the first for more. In a burst (a cold start) groups grow from one or
/// two feeds to about a dozen, and since a group is read in a few statements for all its
/// feeds, the statements and commits per feed shrink with them; a lone poll's alert waits
/// 5 ms. Longer waits made the cold start slower: the polls waiting on the writer hold their
/// fetch slots.
const GATHER_FEEDS: usize = 16;
const GATHER_FOR: std::time::Duration = std::time::Duration::from_millis(5);

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
/// waited behind fetches and timers for a worker.
pub(super) fn spawn_writer(
    pool: AnyPool,
    backend: super::Backend,
) -> std::io::Result<mpsc::Sender<Job>> {
    let (tx, rx) = mpsc::channel(MAX_GROUP_FEEDS * 2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("ingest-writer".into())
        .spawn(move || rt.block_on(writer(pool, backend, rx)))?;
    Ok(tx)
}

async fn writer(pool: AnyPool, backend: super::Backend, mut rx: mpsc::Receiver<Job>) {
    let mut cache = StoryCache::default();
    while let Some(first) = rx.recv().await {
        let until = tokio::time::Instant::now() + GATHER_FOR;
        let mut items = first.items.len();
        let mut group = vec![first];
        while group.len() < MAX_GROUP_FEEDS && items < MAX_GROUP_ITEMS {
            let job = match rx.try_recv() {
                Ok(job) => job,
                Err(_) if group.len() >= GATHER_FEEDS => break,
                Err(_) => match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(Some(job)) => job,
                    _ => break,
                },
            };
            items += job.items.len();
            group.push(job);
        }
        record_group(&pool, backend, &mut cache, group).await;
    }
}

async fn record_group(
    pool: &AnyPool,
    backend: super::Backend,
    cache: &mut StoryCache,
    group: Vec<Job>,
) {
    // A panic is contained like an error: the transaction rolls back as it unwinds, the
    // cache (which may hold what the transaction changed) is dropped, and each feed is
    // recorded alone, so only the feed that panics fails, and the writer lives on.
    match contained(record(pool, backend, cache, &group, Lookup::Trusting)).await {
        Ok(reports) => {
            for (job, report) in group.into_iter().zip(reports) {
                let _ = job.reply.send(Ok(report));
            }
            return;
        }
        Err(e) => {
            if matches!(e, StoreError::Panicked(_)) {
                *cache = StoryCache::default();
            }
            // Each feed's own error, if it has one, is reported to it below.
            debug!(feeds = group.len(), error = %e, "a group of ingests failed; recording each feed alone");
        }
    }
    for job in group {
        let result = contained(record(
            pool,
            backend,
            cache,
            std::slice::from_ref(&job),
            Lookup::Always,
        ))
        .await
        .map(|mut reports| reports.remove(0));
        if let Err(StoreError::Panicked(message)) = &result {
            *cache = StoryCache::default();
            error!(feed = %job.feed, error = %message, "the ingest writer panicked on this feed's items; nothing of them was recorded");
        }
        let _ = job.reply.send(result);
    }
}

/// Runs `f`, turning a panic inside it into [`StoreError::Panicked`].
async fn contained<T>(f: impl Future<Output = Result<T>>) -> Result<T> {
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(f)
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Err(StoreError::Panicked(crate::supervise::panic_message(panic))))
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
    pool: &AnyPool,
    backend: super::Backend,
    cache: &mut StoryCache,
    jobs: &[Job],
    lookup: Lookup,
) -> Result<Vec<IngestReport>> {
    let result = async {
        let mut tx = super::begin_write(pool, backend).await?;
        let mut deferred = Deferred::default();
        let mut reports = Vec::with_capacity(jobs.len());
        for run in distinct_runs(jobs) {
            // An item's row is read only by a later ingest of its feed: a run after the
            // first (the same feed again, which polls never do) reads the rows before it.
            deferred.flush(&mut tx).await?;
            let added = seen(&mut tx, run, lookup).await?;
            let fresh: Vec<Vec<(&Prepared, bool)>> = run
                .iter()
                .zip(&added)
                .map(|(job, added)| fresh_items(&job.items, added))
                .collect();
            let earlier = earlier_reports(&mut tx, run, &fresh).await?;
            // The stories their signals may join, read before anything is held back (a read
            // of the store in the middle would flush what is held).
            let wanted = recent_wanted(run, &fresh);
            stories::read_recent(&mut tx, cache, &mut deferred, wanted).await?;
            for ((job, fresh), by_link) in run.iter().zip(fresh).zip(earlier) {
                let report = ingest_one(&mut tx, cache, &mut deferred, job, fresh, by_link);
                reports.push(report.await?);
            }
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

/// The lists of recent stories (see [`stories::read_recent`]) that the fresh signal items of
/// a run's jobs may be placed in.
fn recent_wanted(run: &[Job], fresh: &[Vec<(&Prepared, bool)>]) -> Vec<(&'static str, i64)> {
    let mut wanted = Vec::new();
    for (job, fresh) in run.iter().zip(fresh) {
        let since = stories::join_since(job.now, &job.settings);
        for (p, _) in fresh {
            if p.signals.is_empty() || stories::is_stale(p.item.published, job.now, &job.settings) {
                continue;
            }
            for s in &p.signals {
                wanted.push((stories::recent_key(s.kind), since));
            }
        }
    }
    wanted
}

/// `jobs` cut, in order, into runs in which no feed comes twice.
fn distinct_runs(jobs: &[Job]) -> Vec<&[Job]> {
    let mut runs = Vec::new();
    let mut start = 0;
    let mut feeds: HashSet<&str> = HashSet::new();
    for (i, job) in jobs.iter().enumerate() {
        if !feeds.insert(job.feed.as_str()) {
            runs.push(&jobs[start..i]);
            start = i;
            feeds.clear();
            feeds.insert(job.feed.as_str());
        }
    }
    if start < jobs.len() {
        runs.push(&jobs[start..]);
    }
    runs
}

/// At most this many fingerprints a statement.
const FP_CHUNK: usize = 512;

/// A fetch's rows of the seen set: every item's key, and the text of each signal item.
fn fingerprints(job: &Job) -> Vec<(Fingerprint, FpKind, i64)> {
    let at = ms(job.now);
    job.items
        .iter()
        .flat_map(|p| p.fingerprints().map(|(fp, kind)| (fp, kind, at)))
        .collect()
}

/// Adds the fingerprints of a run's items to the seen set and returns, for each job, those
/// that were not there: a lookup and an insert for the whole run, not for each feed.
///
/// A feed's first ingest (with [`Lookup::Trusting`]) is not looked up: its fingerprints are
/// taken to be new, and if the insert adds fewer rows than that, one was not, and the
/// transaction fails with [`StoreError::NotFirst`] (the caller records each feed again with
/// [`Lookup::Always`]). A thousand feeds' first polls save a thousand lookups.
async fn seen(tx: &mut Tx<'_>, run: &[Job], lookup: Lookup) -> Result<Vec<HashSet<Fingerprint>>> {
    let trusted = |job: &Job| job.update.first && lookup == Lookup::Trusting;
    let fps: Vec<Vec<(Fingerprint, FpKind, i64)>> = run.iter().map(fingerprints).collect();
    let looked_up: Vec<&Fingerprint> = run
        .iter()
        .zip(&fps)
        .filter(|(job, _)| !trusted(job))
        .flat_map(|(_, fps)| fps.iter().map(|(fp, ..)| fp))
        .collect();
    // Fingerprints found again and not written for a while are written again, so that
    // retention (by age) never forgets an item its feed still carries.
    let refresh_before = run
        .iter()
        .map(|j| j.now)
        .min()
        .map(|now| ms(time::earlier(now, REFRESH_AFTER)))
        .unwrap_or(i64::MIN);
    let (known, stale) = known_fingerprints(tx, &looked_up, refresh_before).await?;
    if let Some(now) = run.iter().map(|j| j.now).max() {
        refresh(tx, &stale, ms(now)).await?;
    }
    let mut added = Vec::with_capacity(run.len());
    let mut rows = Vec::new();
    for fps in &fps {
        let mut new = HashSet::new();
        for row in fps {
            if !known.contains(&row.0) && new.insert(row.0) {
                rows.push(row);
            }
        }
        added.push(new);
    }
    let inserted = insert_rows(tx, &rows).await?;
    if inserted != rows.len() as u64 && run.iter().any(trusted) {
        return Err(StoreError::NotFirst);
    }
    Ok(added)
}

/// Those of `fps` already in the seen set, and those of them last written before
/// `stale_before`.
///
/// A row each for the fingerprints already there: none on a feed's first poll, and on later
/// ones rows only for a feed whose body changed, whose new items are what matter. (One row
/// with a column per fingerprint, which this replaced, made SQLite run a subquery per
/// fingerprint on every poll to save row hand-offs that a first poll does not have.)
async fn known_fingerprints(
    tx: &mut Tx<'_>,
    fps: &[&Fingerprint],
    stale_before: i64,
) -> Result<(HashSet<Fingerprint>, Vec<Fingerprint>)> {
    let mut known = HashSet::new();
    let mut stale = Vec::new();
    for chunk in fps.chunks(FP_CHUNK) {
        let mut q = Sql::new(tx, "SELECT fp, seen_at FROM seen WHERE fp IN (");
        let mut list = q.separated(", ");
        for fp in padded_with_last(chunk) {
            list.push_bind(&fp[..]);
        }
        q.push(")");
        for row in q.build().fetch_all(&mut **tx).await? {
            let fp: &[u8] = row.try_get(0)?;
            if let Ok(fp) = Fingerprint::try_from(fp) {
                if row.try_get::<i64, _>(1)? < stale_before {
                    stale.push(fp);
                }
                known.insert(fp);
            }
        }
    }
    Ok((known, stale))
}

/// Writes `at` as the time these fingerprints were last seen.
async fn refresh(tx: &mut Tx<'_>, fps: &[Fingerprint], at: i64) -> Result<()> {
    for chunk in fps.chunks(FP_CHUNK) {
        let mut q = Sql::new(tx, "UPDATE seen SET seen_at = ");
        q.push_bind(at).push(" WHERE fp IN (");
        let mut list = q.separated(", ");
        for fp in chunk {
            list.push_bind(&fp[..]);
        }
        q.push(")");
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Inserts rows of the seen set (a fingerprint there already stays as it is); returns how
/// many were inserted.
pub(super) async fn insert_rows(
    tx: &mut Tx<'_>,
    rows: &[&(Fingerprint, FpKind, i64)],
) -> Result<u64> {
    let mut inserted = 0;
    for chunk in rows.chunks(FP_CHUNK) {
        let mut q = Sql::new(tx, "INSERT INTO seen (fp, kind, seen_at) ");
        q.push_values(padded_with_last(chunk), |mut b, (fp, kind, at)| {
            b.push_bind(&fp[..]).push_bind(*kind as i64).push_bind(*at);
        });
        q.push(" ON CONFLICT (fp) DO NOTHING");
        inserted += q.build().execute(&mut **tx).await?.rows_affected();
    }
    Ok(inserted)
}

/// For each job of a run, the earlier reports of its feed at the links of its fresh signal
/// items, with their words: a new signal item at a link seen before repeats it only when
/// the texts are alike (only items with a signal have rows). A statement for the whole run.
async fn earlier_reports(
    tx: &mut Tx<'_>,
    run: &[Job],
    fresh: &[Vec<(&Prepared, bool)>],
) -> Result<Vec<ByLink>> {
    let mut wanted: HashSet<(&str, &str)> = HashSet::new();
    for (job, fresh) in run.iter().zip(fresh) {
        for (p, _) in fresh {
            if let Some(link) = p.signalled.as_ref().and_then(|s| s.link.as_deref()) {
                wanted.insert((job.feed.as_str(), link));
            }
        }
    }
    let wanted: Vec<(&str, &str)> = wanted.into_iter().collect();
    let of_feed: HashMap<&str, usize> = run
        .iter()
        .enumerate()
        .map(|(i, job)| (job.feed.as_str(), i))
        .collect();
    let mut by_job: Vec<ByLink> = run.iter().map(|_| ByLink::new()).collect();
    for chunk in wanted.chunks(256) {
        let mut q = Sql::new(tx, "SELECT i.feed, i.link_norm, i.terms FROM (");
        push_padded_values(&mut q, chunk, 2, |mut b, (feed, link)| {
            b.push_bind(*feed).push_bind(*link);
        });
        q.push(") AS v JOIN items i ON i.feed = v.column1 AND i.link_norm = v.column2");
        for row in q.build().fetch_all(&mut **tx).await? {
            let feed: &str = row.try_get("feed")?;
            let Some(&i) = of_feed.get(feed) else {
                continue;
            };
            let link: String = row.try_get("link_norm")?;
            let terms = row
                .try_get::<Option<String>, _>("terms")?
                .map(|t| Terms::from_stored(&t));
            by_job[i].entry(link).or_default().push(terms);
        }
    }
    Ok(by_job)
}

/// A new item of an ingest, and whether it repeats an earlier item (same text, or same
/// link and alike).
struct NewRow<'a> {
    new: &'a Prepared,
    repeat: bool,
}

/// Records one feed's fetch inside `tx`: see [`super::Store::ingest`]. `fresh` are its items
/// new to the seen set ([`fresh_items`]), `by_link` the earlier reports at their links
/// ([`earlier_reports`]).
///
/// One function because it is one transaction's steps in order (seen set, items,
/// repeats, placement, feed state); each step is a call, the order is the invariant.
async fn ingest_one(
    tx: &mut Tx<'_>,
    cache: &mut StoryCache,
    deferred: &mut Deferred,
    job: &Job,
    fresh: Vec<(&Prepared, bool)>,
    by_link: ByLink,
) -> Result<IngestReport> {
    let Job {
        feed,
        update,
        items,
        settings,
        routes,
        now,
        ..
    } = job;
    let now = *now;
    let mut report = IngestReport {
        items: items.len(),
        ..IngestReport::default()
    };
    let at = ms(now);
    // Repeats of earlier signal items, or of items earlier in this document; then the rows.
    let mut repeats = Repeats::new(by_link, settings.similarity);
    let rows: Vec<NewRow<'_>> = fresh
        .into_iter()
        .map(|(f, new_text)| NewRow {
            new: f,
            repeat: repeats.is_repeat(f, new_text),
        })
        .collect();
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
        if stories::is_stale(f.item.published, now, settings) {
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
