//! The state: an SQLite file in `state_dir`, or a PostgreSQL database that several daemons
//! share, reached through sqlx's `Any` driver. The only module that touches the state.
//!
//! What must survive a crash is a row before it is an action: an item's alerts and their
//! deliveries are written in the same transaction that records the item as seen, and a
//! delivery is marked delivered only after the channel confirmed it. The SQL is what SQLite
//! and PostgreSQL share; what differs is in `dialect`.
//!
//! On SQLite, one daemon per state directory: [`StateLock`] enforces it, and on start the
//! daemon puts rows a crashed predecessor left `sending` back to `pending`. On PostgreSQL,
//! daemons share the work through `leases`: each feed is polled by one daemon at a time, and
//! what a dead daemon held (its feeds, the deliveries it was sending) goes back to the others.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::dedupe::StorySettings;
use crate::domain::{FeedName, Field, Item, Route, Signal, StatusNote, Validators};

mod board;
mod deferred;
pub mod dialect;
mod ingest;
pub mod leases;
mod outbox;
mod retention;
mod silences;
mod sql;
mod stories;
#[cfg(test)]
pub(crate) mod testing;

pub use dialect::Backend;

pub use crate::dedupe::repeats::Prepared;
pub use board::{AlertRow, FeedRow, MAX_REPORTS, ReportRow, StatusRow, StoryRow};
pub use outbox::{Listing, OutboxCounts, OutboxRow, idempotency_key};
pub use retention::{Pruned, Retention};
pub use stories::Housekeeping;

/// File name of the database inside `state_dir`.
pub const DB_FILE: &str = "ceasefire-watch.db";

/// How long a daemon's feed leases and claims last without a heartbeat, by default.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(30);

/// Where the state is (`[store]` and `daemon.state_dir` in the config).
#[derive(Clone)]
pub enum Location {
    /// The SQLite file in this directory.
    Sqlite { state_dir: PathBuf },
    /// A PostgreSQL database, shared by every daemon given the same URL. A daemon that stops
    /// renewing its leases for `lease` is taken to be dead.
    Postgres { url: SecretString, lease: Duration },
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A database URL as logs and errors show it: no password, no user.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => crate::domain::redact::url(&u),
        Err(_) => "(a database URL that does not parse)".into(),
    }
}

impl Location {
    /// Where, for people: the file's path, or the server and database without the password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite { state_dir } => state_dir.join(DB_FILE).display().to_string(),
            Location::Postgres { url, .. } => redacted(url.expose_secret()),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Location::Sqlite { .. } => Backend::Sqlite,
            Location::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Whether there may be state to read without creating it: the SQLite file exists, or
    /// the store is a server.
    pub fn may_hold_state(&self) -> bool {
        match self {
            Location::Sqlite { state_dir } => state_dir.join(DB_FILE).exists(),
            Location::Postgres { .. } => true,
        }
    }

    /// Opens the store, creating and migrating it as needed.
    pub async fn open(&self) -> Result<Store> {
        match self {
            Location::Sqlite { state_dir } => Store::open(state_dir).await,
            Location::Postgres { url, lease } => Store::open_postgres(url, *lease).await,
        }
    }
}
const LOCK_FILE: &str = "ceasefire-watch.lock";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the state directory {path}: {source}")]
    StateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another ceasefire-watch daemon is using {path} (lock held on {lock})")]
    Locked { path: PathBuf, lock: PathBuf },
    #[error("cannot open the database {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("cannot bring the database {path} up to date: {source}")]
    Migrate {
        path: String,
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("cannot start the ingest writer: {0}")]
    Writer(std::io::Error),
    #[error("the store is closed")]
    Closed,
    /// The ingest writer panicked while recording (contained: it goes on with other feeds).
    #[error("internal error in the ingest writer: {0}")]
    Panicked(String),
    /// A first ingest found fingerprints of its feed already recorded: its group is recorded
    /// again, looking each item up. Never seen outside the writer.
    #[error("a feed taken to be new had items recorded already")]
    NotFirst,
    #[error("unreadable row in {table}: {message}")]
    Corrupt {
        table: &'static str,
        message: String,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Held by a running daemon so that a second one on the same state directory refuses to
/// start (two would send every alert twice). Released when dropped or when the process dies.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

impl StateLock {
    pub fn acquire(state_dir: &Path) -> Result<StateLock> {
        create_state_dir(state_dir)?;
        let lock = state_dir.join(LOCK_FILE);
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|source| StoreError::StateDir {
                path: lock.clone(),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(StateLock { _file: file }),
            Err(_) => Err(StoreError::Locked {
                path: state_dir.to_owned(),
                lock,
            }),
        }
    }
}

/// Creates the state directory, readable by this user only (it holds every alert and the
/// outbox); one that exists is left as it is.
fn create_state_dir(state_dir: &Path) -> Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(state_dir)
        .map_err(|source| StoreError::StateDir {
            path: state_dir.to_owned(),
            source,
        })
}

/// What the store holds about a feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedState {
    pub validators: Validators,
    pub body_hash: Option<String>,
    pub consecutive_failures: u32,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

fn feed_state_from_row(row: &AnyRow) -> Result<FeedState> {
    Ok(FeedState {
        validators: Validators {
            etag: row.try_get("etag")?,
            last_modified: row.try_get("last_modified")?,
        },
        body_hash: row.try_get("body_hash")?,
        consecutive_failures: row.try_get::<i64, _>("consecutive_failures")?.max(0) as u32,
        last_success_at: row
            .try_get::<Option<i64>, _>("last_success_at")?
            .map(from_ms),
        last_error: row.try_get("last_error")?,
    })
}

/// The result of a successful fetch, to record with its items.
#[derive(Debug, Clone, Default)]
pub struct FeedUpdate {
    pub validators: Validators,
    pub body_hash: Option<String>,
    /// No success of the feed is recorded (its first poll, as a rule): its items are taken
    /// to be new without looking each up, and looked up after all if some were not.
    pub first: bool,
}

/// What an ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestReport {
    pub items: usize,
    pub new_items: usize,
    /// Stories opened: each made one alert.
    pub alerts: usize,
    pub deliveries: usize,
    /// Signals of new items that joined a recent story silently.
    pub joined: usize,
    /// Items that repeat an earlier item of the feed under a fresh GUID.
    pub repeats: usize,
    /// Signal items older than `stories.max_item_age`: recorded, not alerted.
    pub stale: usize,
    /// Signals found in new items, by [`SignalKind::index`](crate::domain::SignalKind::index).
    pub signals: [u32; 7],
}

/// The database. Cheap to clone (a connection pool, and the way to its ingest writer).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// This process, as the daemons table knows it (claims and leases name it).
    daemon: Arc<str>,
    /// How long this daemon's leases and claims last without a heartbeat.
    lease: Duration,
    writer: mpsc::Sender<ingest::Job>,
    /// Where the next step of pruning the seen set starts (see `retention`).
    prune_cursor: Arc<tokio::sync::Mutex<Vec<u8>>>,
}

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(v).single().unwrap_or_default()
}

impl Store {
    /// Opens (creating if needed) the SQLite database in `state_dir` and applies migrations.
    pub async fn open(state_dir: &Path) -> Result<Store> {
        create_state_dir(state_dir)?;
        let path = state_dir.join(DB_FILE);
        let shown = path.display().to_string();
        let open_error = |source| StoreError::Open {
            path: shown.clone(),
            source,
        };
        // Readers and the outbox's small writes: a small page cache each.
        let pool = dialect::sqlite_pool(
            &path,
            dialect::PoolShape {
                max: 4,
                min: 0,
                cache_kib: 2000,
                read_only: false,
            },
        )
        .await
        .map_err(open_error)?;
        // The ingest writer: one connection of its own, so its page cache (the item indexes
        // it inserts into) stays warm instead of being dropped whenever another connection
        // wrote in between.
        let ingest_pool = dialect::sqlite_pool(
            &path,
            dialect::PoolShape {
                max: 1,
                min: 1,
                cache_kib: 8000,
                read_only: false,
            },
        )
        .await
        .map_err(open_error)?;
        Store::start(pool, ingest_pool, Backend::Sqlite, shown, DEFAULT_LEASE).await
    }

    /// Opens a PostgreSQL database that daemons share, and applies migrations.
    pub async fn open_postgres(url: &SecretString, lease: Duration) -> Result<Store> {
        let shown = redacted(url.expose_secret());
        let open_error = |source| StoreError::Open {
            path: shown.clone(),
            source,
        };
        let pool = dialect::postgres_pool(url.expose_secret(), 8)
            .await
            .map_err(open_error)?;
        let ingest_pool = dialect::postgres_pool(url.expose_secret(), 1)
            .await
            .map_err(open_error)?;
        Store::start(pool, ingest_pool, Backend::Postgres, shown, lease).await
    }

    async fn start(
        pool: AnyPool,
        ingest_pool: AnyPool,
        backend: Backend,
        shown: String,
        lease: Duration,
    ) -> Result<Store> {
        backend
            .migrate(&pool)
            .await
            .map_err(|source| StoreError::Migrate {
                path: shown.clone(),
                source,
            })?;
        backfill_seen(&pool, backend).await?;
        let writer = ingest::spawn_writer(ingest_pool, backend).map_err(StoreError::Writer)?;
        Ok(Store {
            pool,
            backend,
            daemon: leases::daemon_id().into(),
            lease,
            writer,
            prune_cursor: Arc::default(),
        })
    }

    /// The same database opened read-only: every write fails, as on a full or read-only disk.
    #[cfg(test)]
    pub async fn open_read_only_for_tests(state_dir: &Path) -> Store {
        let pool = dialect::sqlite_pool(
            &state_dir.join(DB_FILE),
            dialect::PoolShape {
                max: 2,
                min: 0,
                cache_kib: 2000,
                read_only: true,
            },
        )
        .await
        .unwrap();
        let writer = ingest::spawn_writer(pool.clone(), Backend::Sqlite).unwrap();
        Store {
            pool,
            backend: Backend::Sqlite,
            daemon: leases::daemon_id().into(),
            lease: DEFAULT_LEASE,
            writer,
            prune_cursor: Arc::default(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that takes the write lock at once (see [`Backend::begin_write`]).
    async fn write_tx(&self) -> Result<Transaction<'static, Any>> {
        begin_write(&self.pool, self.backend).await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Makes sure every configured feed has a row; keeps rows of feeds no longer configured
    /// (their validators serve if they come back).
    pub async fn sync_feeds<'a>(
        &self,
        feeds: impl IntoIterator<Item = (&'a FeedName, String)>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let feeds: Vec<(&FeedName, String)> = feeds.into_iter().collect();
        let mut tx = self.write_tx().await?;
        // A few statements for a thousand feeds, not a thousand.
        for chunk in feeds.chunks(500) {
            let mut q = sql::Sql::new(&tx, "INSERT INTO feeds (name, url, updated_at) ");
            q.push_values(chunk, |mut row, (name, url)| {
                row.push_bind(name.as_str())
                    .push_bind(url.as_str())
                    .push_bind(ms(now));
            });
            q.push(
                " ON CONFLICT (name) DO UPDATE SET url = excluded.url WHERE feeds.url <> excluded.url",
            );
            q.build().execute(&mut *tx).await?;
            // Each feed's lease, free until a daemon takes it.
            let mut q = sql::Sql::new(&tx, "INSERT INTO feed_leases (feed, expires_at) ");
            q.push_values(chunk, |mut row, (name, _)| {
                row.push_bind(name.as_str()).push_bind(0_i64);
            });
            q.push(" ON CONFLICT (feed) DO NOTHING");
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What the store holds about every feed, by name (one query, for a start-up).
    pub async fn feed_states(&self) -> Result<HashMap<FeedName, FeedState>> {
        let rows = sqlx::query(
            "SELECT name, etag, last_modified, body_hash, consecutive_failures, last_success_at, last_error
             FROM feeds",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut states = HashMap::with_capacity(rows.len());
        for row in &rows {
            // A row of a name that is no longer valid cannot be a configured feed.
            if let Ok(name) = FeedName::parse(row.try_get::<&str, _>("name")?) {
                states.insert(name, feed_state_from_row(row)?);
            }
        }
        Ok(states)
    }

    pub async fn feed_state(&self, name: &FeedName) -> Result<FeedState> {
        let row = sqlx::query(
            "SELECT etag, last_modified, body_hash, consecutive_failures, last_success_at, last_error
             FROM feeds WHERE name = $1",
        )
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => feed_state_from_row(&row),
            None => Ok(FeedState::default()),
        }
    }

    /// Records a failed poll; returns the number of failures in a row.
    pub async fn record_feed_failure(
        &self,
        name: &FeedName,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "UPDATE feeds SET consecutive_failures = consecutive_failures + 1, last_error = $2, updated_at = $3
             WHERE name = $1 RETURNING consecutive_failures",
        )
        .bind(name.as_str())
        .bind(error)
        .bind(ms(now))
        .fetch_optional(&self.pool)
        .await?
        .unwrap_or(1);
        Ok(n.max(0) as u32)
    }

    /// Records a poll that found nothing new (304 or an unchanged body). Writes only when
    /// there is something to change (the feed was failing), so an idle poll costs no write.
    pub async fn record_feed_unchanged(
        &self,
        name: &FeedName,
        was_failing: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if was_failing {
            sqlx::query(
                "UPDATE feeds SET consecutive_failures = 0, last_error = NULL, last_success_at = $2, updated_at = $2
                 WHERE name = $1",
            )
            .bind(name.as_str())
            .bind(ms(now))
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Records a fetched feed: its new validators, its items (new ones are remembered, repeats
    /// under a fresh GUID noted), and for each new item with signals, its place in a story:
    /// a new story makes an alert and its deliveries (or corroboration holds), a known one is
    /// joined silently. Atomic: either all of it is recorded, or none and the next poll tries
    /// again. Feeds that finish together share a transaction (see `ingest`).
    pub async fn ingest(
        &self,
        feed: &FeedName,
        update: FeedUpdate,
        items: Vec<Prepared>,
        routes: Arc<Vec<Route>>,
        settings: Arc<StorySettings>,
        now: DateTime<Utc>,
    ) -> Result<IngestReport> {
        let (reply, answer) = oneshot::channel();
        let job = ingest::Job {
            feed: feed.clone(),
            update,
            items,
            routes,
            settings,
            now,
            reply,
        };
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Whether the ingest writer has stopped (its thread is gone): nothing new can be
    /// recorded.
    pub fn writer_stopped(&self) -> bool {
        self.writer.is_closed()
    }

    /// Proves the store takes writes (for `/healthz`): one small row, written and committed.
    pub async fn probe(&self, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO health_probe (id, at) VALUES (1, $1)
             ON CONFLICT (id) DO UPDATE SET at = excluded.at",
        )
        .bind(ms(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When the last write probe was made (for tests of the probe's rate).
    pub async fn probe_written_at(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT at FROM health_probe WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Items of `feed` first seen at or after `since` (repeats not counted): how often the
    /// feed publishes, for adaptive polling.
    pub async fn items_seen_since(&self, feed: &FeedName, since: DateTime<Utc>) -> Result<u64> {
        let n: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(items), 0) AS BIGINT) FROM arrivals WHERE feed = $1 AND at >= $2",
        )
        .bind(feed.as_str())
        .bind(ms(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(n.max(0) as u64)
    }

    /// Number of items ever seen (for summaries).
    pub async fn item_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM seen WHERE kind = 0")
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }
}

/// A writing transaction on `pool` (see [`Backend::begin_write`]).
async fn begin_write(pool: &AnyPool, backend: Backend) -> Result<Transaction<'static, Any>> {
    let mut tx = pool.begin_with(backend.begin_write()).await?;
    if let Some(lock) = backend.write_lock() {
        sqlx::query(sqlx::AssertSqlSafe(lock))
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

/// Fills the seen set of a database from before version 4 (`migrations/0004_seen.sql`) from
/// its item rows, once, in one transaction: the fingerprints are SHA-256, which SQL lacks.
async fn backfill_seen(pool: &AnyPool, backend: Backend) -> Result<()> {
    use crate::dedupe::repeats::{FpKind, fingerprint};
    let pending: Option<i64> = sqlx::query_scalar("SELECT pending FROM seen_backfill LIMIT 1")
        .fetch_optional(pool)
        .await?;
    if pending.is_none() {
        return Ok(());
    }
    let mut tx = begin_write(pool, backend).await?;
    let mut after = String::new();
    loop {
        let rows = sqlx::query(
            "SELECT key, feed, text_hash, CASE WHEN terms IS NULL THEN 0 ELSE 1 END AS signalled, seen_at
             FROM items WHERE key > $1 ORDER BY key LIMIT 2000",
        )
        .bind(after.clone())
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            break;
        }
        let mut fps = Vec::with_capacity(rows.len() * 3);
        for row in &rows {
            after = row.try_get("key")?;
            let feed: &str = row.try_get("feed")?;
            let at: i64 = row.try_get("seen_at")?;
            fps.push((
                fingerprint(FpKind::Key, feed, row.try_get("key")?),
                FpKind::Key,
                at,
            ));
            if let (Some(h), true) = (
                row.try_get::<Option<&str>, _>("text_hash")?,
                row.try_get::<i64, _>("signalled")? != 0,
            ) {
                fps.push((fingerprint(FpKind::Text, feed, h), FpKind::Text, at));
            }
        }
        ingest::insert_rows(&mut tx, &fps.iter().collect::<Vec<_>>()).await?;
    }
    sqlx::query("DELETE FROM seen_backfill")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The alert of a new story: everything its messages need, so delivery never re-reads feeds.
async fn insert_alert_row(
    tx: &mut Transaction<'_, Any>,
    item: &Item,
    signal: &Signal,
    story: Option<&str>,
    status: Option<&StatusNote>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let words = serde_json::to_string(&signal.evidence.words).unwrap_or_else(|_| "[]".into());
    let field = match signal.evidence.field {
        Field::Title => "title",
        Field::Summary => "summary",
    };
    Ok(sqlx::query_scalar(
        "INSERT INTO alerts (item_key, signal, score, rule, words, sentence, field, feed, title, summary,
                             link, published_at, created_at, story_id, status_topic, status_before, status_after)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
    )
    .bind(item.key.as_str())
    .bind(signal.kind.as_str())
    .bind(f64::from(signal.score))
    .bind(&signal.evidence.rule)
    .bind(words)
    .bind(&signal.evidence.sentence)
    .bind(field)
    .bind(item.feed.as_str())
    .bind(&item.title)
    .bind(&item.summary)
    .bind(item.link.as_deref())
    .bind(item.published.map(ms))
    .bind(ms(now))
    .bind(story)
    .bind(status.map(|s| s.topic.as_str()))
    .bind(status.map(|s| s.before.as_str()))
    .bind(status.map(|s| s.after.as_str()))
    .fetch_one(&mut **tx)
    .await?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::{Channel, Evidence, ItemKey, Lane, SignalKind};

    pub(super) fn item(feed: &FeedName, guid: &str, title: &str) -> Item {
        Item {
            key: ItemKey::compute(feed, Some(guid), None, title, ""),
            feed: feed.clone(),
            guid: Some(guid.into()),
            link: Some(format!("https://example.org/{guid}")),
            title: title.into(),
            summary: String::new(),
            published: None,
        }
    }

    /// [`Store::ingest`] from plain (item, signals) pairs.
    pub(super) async fn ingest(
        store: &Store,
        feed: &FeedName,
        update: &FeedUpdate,
        items: &[(Item, Vec<Signal>)],
        routes: &[Route],
        settings: &StorySettings,
        now: DateTime<Utc>,
    ) -> Result<IngestReport> {
        let items = items
            .iter()
            .cloned()
            .map(|(item, signals)| Prepared::new(item, signals))
            .collect();
        store
            .ingest(
                feed,
                update.clone(),
                items,
                Arc::new(routes.to_vec()),
                Arc::new(settings.clone()),
                now,
            )
            .await
    }

    pub(super) fn signal(kind: SignalKind) -> Signal {
        Signal {
            kind,
            score: 0.9,
            evidence: Evidence {
                rule: "r".into(),
                words: vec!["Kremlin".into(), "rejects".into()],
                sentence: "Kremlin rejects truce".into(),
                field: Field::Title,
                object: None,
            },
        }
    }

    pub(super) fn routes() -> Vec<Route> {
        vec![
            Route {
                channel: Channel::Email,
                target: "ops".into(),
                address: "ops@example.org".into(),
                signals: BTreeSet::from([SignalKind::RussiaRejects]),
                min_score: 0.0,
                alert_on: crate::domain::AlertOn::Story,
                min_sources: 1,
            },
            Route {
                channel: Channel::Webhook,
                target: "hook".into(),
                address: "https://hooks.example.org/".into(),
                signals: SignalKind::ALL.into_iter().collect(),
                min_score: 0.0,
                alert_on: crate::domain::AlertOn::Story,
                min_sources: 1,
            },
        ]
    }

    #[tokio::test]
    async fn a_feed_taken_for_new_whose_items_were_seen_is_looked_up_after_all() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            let feed = FeedName::parse("f").unwrap();
            let first = FeedUpdate {
                first: true,
                ..FeedUpdate::default()
            };
            let settings = StorySettings::default();
            let now = Utc::now();
            let mut items = vec![
                (
                    item(&feed, "1", "Kremlin rejects truce"),
                    vec![signal(SignalKind::RussiaRejects)],
                ),
                (item(&feed, "2", "weather"), vec![]),
                // The same item twice in one document is one item.
                (item(&feed, "2", "weather"), vec![]),
            ];
            let r = ingest(&store, &feed, &first, &items, &[], &settings, now)
                .await
                .unwrap();
            assert_eq!((r.new_items, r.alerts), (2, 1));
            // Still taken for new (as when its first success was never recorded), but it is not.
            items.remove(0);
            items.push((item(&feed, "3", "traffic"), vec![]));
            let r = ingest(&store, &feed, &first, &items, &[], &settings, now)
                .await
                .unwrap();
            assert_eq!((r.new_items, r.alerts), (1, 0));
            let r = ingest(&store, &feed, &first, &items, &[], &settings, now)
                .await
                .unwrap();
            assert_eq!((r.new_items, r.alerts), (0, 0));
        }
    }

    #[tokio::test]
    async fn ingest_records_items_once_and_creates_the_outbox() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            let feed = FeedName::parse("f").unwrap();
            let now = Utc::now();
            store
                .sync_feeds([(&feed, "https://example.org/rss".to_string())], now)
                .await
                .unwrap();
            let items = vec![
                (
                    item(&feed, "1", "Kremlin rejects truce"),
                    vec![signal(SignalKind::RussiaRejects)],
                ),
                (
                    item(&feed, "2", "US pauses aid"),
                    vec![signal(SignalKind::UsAidPaused)],
                ),
                (item(&feed, "3", "weather"), vec![]),
            ];
            let update = FeedUpdate {
                validators: Validators {
                    etag: Some("\"v1\"".into()),
                    last_modified: None,
                },
                body_hash: Some("h".into()),
                first: true,
            };
            let r = ingest(
                &store,
                &feed,
                &update,
                &items,
                &routes(),
                &StorySettings::default(),
                now,
            )
            .await
            .unwrap();
            assert_eq!(
                r,
                IngestReport {
                    items: 3,
                    new_items: 3,
                    alerts: 2,
                    deliveries: 3,
                    signals: [0, 1, 0, 1, 0, 0, 0],
                    ..IngestReport::default()
                }
            );
            let again = ingest(
                &store,
                &feed,
                &update,
                &items,
                &routes(),
                &StorySettings::default(),
                now,
            )
            .await
            .unwrap();
            assert_eq!(again.new_items, 0);
            assert_eq!(again.deliveries, 0);
            let state = store.feed_state(&feed).await.unwrap();
            assert_eq!(state.validators.etag.as_deref(), Some("\"v1\""));
            assert_eq!(state.body_hash.as_deref(), Some("h"));

            // Each lane claims only its own rows, each row once; a crash leaves rows `sending`
            // until released.
            let email = Lane::of(Channel::Email, "ops");
            let hook = Lane::of(Channel::Webhook, "hook");
            let mut lanes = store.pending_lanes().await.unwrap();
            lanes.sort();
            assert_eq!(lanes, [email.clone(), hook.clone()]);
            let mails = store.claim_due(&email, now, 10).await.unwrap();
            assert_eq!(mails.len(), 1);
            assert_eq!(mails[0].channel, Channel::Email);
            let posts = store.claim_due(&hook, now, 10).await.unwrap();
            assert_eq!(posts.len(), 2);
            assert!(store.claim_due(&hook, now, 10).await.unwrap().is_empty());
            assert!(store.claim_due(&email, now, 10).await.unwrap().is_empty());
            assert_eq!(mails[0].alert.signal.evidence.words, ["Kremlin", "rejects"]);
            store.mark_delivered(mails[0].id, now).await.unwrap();
            store
                .mark_retry(
                    posts[0].id,
                    "down",
                    now + chrono::Duration::seconds(60),
                    now,
                )
                .await
                .unwrap();
            assert_eq!(store.release_in_flight(now).await.unwrap(), 1);
            let c = store.outbox_counts().await.unwrap();
            assert_eq!(
                c,
                OutboxCounts {
                    pending: 2,
                    sending: 0,
                    delivered: 1,
                    dead: 0,
                    silenced: 0
                }
            );
            // The retried row is not due yet; the released one is, with the same key.
            let again = store.claim_due(&hook, now, 10).await.unwrap();
            assert_eq!(again.len(), 1);
            assert_eq!(again[0].idempotency_key, posts[1].idempotency_key);
            assert_eq!(
                store
                    .next_due(Some(&hook))
                    .await
                    .unwrap()
                    .map(|t| t.timestamp()),
                Some((now + chrono::Duration::seconds(60)).timestamp())
            );
            assert_eq!(store.next_due(Some(&email)).await.unwrap(), None);
            // A shutdown mid-send puts the row back without counting an attempt.
            store.unclaim(again[0].id, now).await.unwrap();
            let back = store.claim_due(&hook, now, 10).await.unwrap();
            assert_eq!(back.len(), 1);
            assert_eq!(back[0].attempts, 0);
        }
    }

    #[tokio::test]
    async fn a_thousand_feeds_sync_in_chunks_and_their_rows_read_back_at_once() {
        for fx in crate::store::testing::fixtures().await {
            eprintln!("store: {}", fx.name());
            let store = fx.open().await;
            let names: Vec<FeedName> = (0..1200)
                .map(|i| FeedName::parse(&format!("f{i}")).unwrap())
                .collect();
            let now = Utc::now();
            let url = |i: usize| format!("https://example.org/{i}.xml");
            store
                .sync_feeds(names.iter().enumerate().map(|(i, n)| (n, url(i))), now)
                .await
                .unwrap();
            let update = FeedUpdate {
                validators: Validators {
                    etag: Some("\"e7\"".into()),
                    last_modified: None,
                },
                body_hash: Some("h7".into()),
                first: false,
            };
            ingest(
                &store,
                &names[7],
                &update,
                &[],
                &[],
                &StorySettings::default(),
                now,
            )
            .await
            .unwrap();
            // Synced again (a reload): the validators stay.
            store
                .sync_feeds(names.iter().enumerate().map(|(i, n)| (n, url(i))), now)
                .await
                .unwrap();
            let states = store.feed_states().await.unwrap();
            assert_eq!(states.len(), 1200);
            assert_eq!(states[&names[7]].validators.etag.as_deref(), Some("\"e7\""));
            assert_eq!(
                states[&names[7]],
                store.feed_state(&names[7]).await.unwrap()
            );
            assert_eq!(states[&names[1199]].body_hash, None);
        }
    }

    #[tokio::test]
    async fn state_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let feed = FeedName::parse("f").unwrap();
        let now = Utc::now();
        {
            let store = Store::open(dir.path()).await.unwrap();
            store
                .sync_feeds([(&feed, "u".to_string())], now)
                .await
                .unwrap();
            let items = vec![(item(&feed, "1", "t"), vec![])];
            ingest(
                &store,
                &feed,
                &FeedUpdate::default(),
                &items,
                &[],
                &StorySettings::default(),
                now,
            )
            .await
            .unwrap();
            store.close().await;
        }
        let store = Store::open(dir.path()).await.unwrap();
        assert_eq!(store.item_count().await.unwrap(), 1);
    }

    #[test]
    fn a_second_daemon_cannot_take_the_state() {
        let dir = tempfile::tempdir().unwrap();
        let _first = StateLock::acquire(dir.path()).unwrap();
        let err = StateLock::acquire(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
    }

    #[test]
    fn idempotency_keys_are_stable_and_distinct() {
        let feed = FeedName::parse("f").unwrap();
        let k = ItemKey::compute(&feed, Some("1"), None, "", "");
        let a = idempotency_key(&k, SignalKind::RussiaRejects, Channel::Email, "ops");
        assert_eq!(
            a,
            idempotency_key(&k, SignalKind::RussiaRejects, Channel::Email, "ops")
        );
        assert_ne!(
            a,
            idempotency_key(&k, SignalKind::RussiaRejects, Channel::Webhook, "ops")
        );
        assert_ne!(
            a,
            idempotency_key(&k, SignalKind::RussiaAccepts, Channel::Email, "ops")
        );
    }
}

#[cfg(test)]
mod migration_tests {
    use super::*;
    use crate::domain::{Channel, ItemKey, Lane, SignalKind};

    /// A state directory in `dir` whose database has only the given migrations applied (as
    /// an older release left it), and a pool on it to write that release's rows.
    async fn database_at(dir: &Path, migrations: &[&str]) -> (PathBuf, sqlx::sqlite::SqlitePool) {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        let old = dir.join("old-migrations");
        std::fs::create_dir(&old).unwrap();
        for m in migrations {
            std::fs::copy(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("migrations/sqlite")
                    .join(m),
                old.join(m),
            )
            .unwrap();
        }
        let state = dir.join("state");
        std::fs::create_dir(&state).unwrap();
        let options = SqliteConnectOptions::new()
            .filename(state.join(DB_FILE))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .unwrap();
        sqlx::migrate::Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&pool)
            .await
            .unwrap();
        (state, pool)
    }

    /// A database written by version 1 of the schema (before stories) opens, is brought up to
    /// date, and its pending delivery is still sent.
    #[tokio::test]
    async fn a_version_1_database_keeps_working() {
        let dir = tempfile::tempdir().unwrap();
        let (state, pool) = database_at(dir.path(), &["0001_init.sql"]).await;
        {
            for sql in [
                "INSERT INTO items (key, feed, guid, link, title, published_at, seen_at)
                 VALUES ('k1', 'wire', 'g1', NULL, 'Kremlin rejects truce', NULL, 1)",
                "INSERT INTO alerts (item_key, signal, score, rule, words, sentence, field, feed,
                   title, summary, link, published_at, created_at)
                 VALUES ('k1', 'russia_rejects', 0.9, 'r', '[\"Kremlin\"]', 's', 'title', 'wire',
                   'Kremlin rejects truce', '', NULL, NULL, 1)",
                "INSERT INTO deliveries (alert_id, channel, target, address, idempotency_key, state,
                   next_attempt_at, created_at, updated_at)
                 VALUES (1, 'webhook', 'hook', 'https://hooks.example.org/', 'key-1', 'pending', 1, 1, 1)",
            ] {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }
        let store = Store::open(&state).await.unwrap();
        let lane = Lane::of(Channel::Webhook, "hook");
        let due = store.claim_due(&lane, Utc::now(), 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].idempotency_key, "key-1");
        assert_eq!(due[0].alert.story, None);
        assert_eq!(due[0].sources, 1);
        assert!(!due[0].unconfirmed && !due[0].follow_up);
        assert_eq!(store.statuses().await.unwrap()[0].value, "unknown");
    }

    /// A database written before the seen set (version 3: a full row per item) opens with
    /// its items still known: the same item is not new, the same signal report under a
    /// fresh GUID is a repeat, and adaptive polling still counts the day's arrivals.
    #[tokio::test]
    async fn a_version_3_database_knows_its_items() {
        use crate::dedupe::{Terms, normalize_link, text_hash};
        let dir = tempfile::tempdir().unwrap();
        let (state, pool) = database_at(
            dir.path(),
            &["0001_init.sql", "0002_stories.sql", "0003_health.sql"],
        )
        .await;
        let feed = FeedName::parse("wire").unwrap();
        let now = Utc::now();
        let quiet = tests::item(&feed, "g1", "Local council approves new bridge");
        let loud = tests::item(&feed, "g2", "Kremlin rejects the Riyadh truce");
        {
            for (item, terms) in [(&quiet, None), (&loud, Some(Terms::of(&loud.title, "")))] {
                sqlx::query(
                    "INSERT INTO items (key, feed, guid, link, title, seen_at, link_norm, text_hash, terms)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(item.key.as_str())
                .bind(feed.as_str())
                .bind(item.guid.as_deref())
                .bind(item.link.as_deref())
                .bind(&item.title)
                .bind(ms(now - chrono::Duration::hours(1)))
                .bind(item.link.as_deref().and_then(normalize_link))
                .bind(text_hash(&item.title, &item.summary))
                .bind(terms.map(|t| t.to_stored()))
                .execute(&pool)
                .await
                .unwrap();
            }
            pool.close().await;
        }
        let store = Store::open(&state).await.unwrap();
        assert_eq!(store.item_count().await.unwrap(), 2);
        let day_ago = now - chrono::Duration::hours(24);
        assert_eq!(store.items_seen_since(&feed, day_ago).await.unwrap(), 2);
        let mut churned = loud.clone();
        churned.guid = Some("g2-again".into());
        churned.link = Some("https://example.org/g2-again".into());
        churned.key = ItemKey::compute(&feed, Some("g2-again"), None, &loud.title, "");
        let sig = tests::signal(SignalKind::RussiaRejects);
        let r = tests::ingest(
            &store,
            &feed,
            &FeedUpdate::default(),
            &[
                (quiet, vec![]),
                (loud, vec![sig.clone()]),
                (churned, vec![sig]),
            ],
            &[],
            &StorySettings::default(),
            now,
        )
        .await
        .unwrap();
        assert_eq!((r.new_items, r.repeats, r.alerts), (0, 1, 0));
        // Opened again: the fingerprints were filled once.
        store.close().await;
        drop(store);
        let store = Store::open(&state).await.unwrap();
        assert_eq!(store.item_count().await.unwrap(), 3);
    }
}
