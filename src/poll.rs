//! One poll of one feed, start to finish: fetch → parse → classify → store (which items are
//! new, their alerts and outbox rows). A plain function that tests call; the scheduler in
//! `app` only decides when.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tracing::{debug, info, instrument, warn};

use crate::classify::Classifier;
use crate::config::{FeedSettings, StorySettings};
use crate::domain::{FeedName, Route};
use crate::fetch::{FetchOutcome, Fetcher, Validators};
use crate::metrics::Metrics;
use crate::parse::{ParseLimits, parse_feed};
use crate::store::{FeedState, FeedUpdate, IngestReport, Prepared, Store, StoreError};

/// What a poll needs, shared by every feed.
#[derive(Clone)]
pub struct PollContext {
    pub store: Store,
    pub fetcher: Fetcher,
    pub classifier: Arc<Classifier>,
    pub routes: Arc<Vec<Route>>,
    pub limits: ParseLimits,
    pub stories: Arc<StorySettings>,
    pub metrics: Arc<Metrics>,
    /// How far a server's freshness hint may stretch a feed's interval.
    pub freshness_cap: Duration,
    /// Each feed's validators, body hash and failing state as its last poll left them.
    pub memos: Arc<FeedMemos>,
    /// Which feeds this daemon polls.
    pub leases: Arc<crate::leases::Leases>,
}

/// What a poll reads of each feed's store row, as the feed's last poll left it: a copy, so
/// that polling an unchanged feed, which is most polls, reads nothing from the store. Sound
/// because only this process's polls write a feed's row (one daemon per state directory);
/// a feed's copy is dropped on any store error, and each generation starts from one read of
/// every row.
#[derive(Debug, Default)]
pub struct FeedMemos(Mutex<HashMap<FeedName, Memo>>);

#[derive(Debug, Clone, Default)]
struct Memo {
    validators: Validators,
    body_hash: Option<String>,
    failing: bool,
}

impl From<FeedState> for Memo {
    fn from(s: FeedState) -> Memo {
        Memo {
            validators: s.validators,
            body_hash: s.body_hash,
            failing: s.consecutive_failures > 0,
        }
    }
}

impl Memo {
    fn now_failing(&self, failing: bool) -> Memo {
        Memo {
            failing,
            ..self.clone()
        }
    }
}

impl FeedMemos {
    /// From the store's rows (see [`Store::feed_states`]).
    pub fn new(rows: HashMap<FeedName, FeedState>) -> FeedMemos {
        FeedMemos(Mutex::new(
            rows.into_iter().map(|(n, s)| (n, Memo::from(s))).collect(),
        ))
    }

    async fn get(&self, store: &Store, name: &FeedName) -> Result<Memo, StoreError> {
        let known = self.0.lock().unwrap().get(name).cloned();
        match known {
            Some(memo) => Ok(memo),
            None => Ok(store.feed_state(name).await?.into()),
        }
    }

    fn set(&self, name: &FeedName, memo: Memo) {
        self.0.lock().unwrap().insert(name.clone(), memo);
    }

    pub fn forget(&self, name: &FeedName) {
        self.0.lock().unwrap().remove(name);
    }
}

/// How a poll ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PollOutcome {
    /// 304: nothing fetched.
    NotModified { fresh_for: Option<Duration> },
    /// A body identical to the last one parsed: not parsed again.
    Unchanged { fresh_for: Option<Duration> },
    /// A new body, parsed and recorded.
    Ingested {
        report: IngestReport,
        fresh_for: Option<Duration>,
    },
    /// The feed could not be fetched or read; the others go on.
    Failed {
        kind: &'static str,
        error: String,
        /// Failures in a row, this one included.
        failures: u32,
        retry_after: Option<Duration>,
    },
}

/// Polls `feed` once at `now`. Only a store error is an `Err`: everything that can go wrong
/// with the feed itself is a [`PollOutcome::Failed`], logged with the feed's name. Counted in
/// the metrics either way.
#[instrument(skip_all, fields(feed = %feed.name))]
pub async fn poll_feed_once(
    ctx: &PollContext,
    feed: &FeedSettings,
    now: DateTime<Utc>,
) -> Result<PollOutcome, StoreError> {
    let started = Instant::now();
    let outcome = poll(ctx, feed, now).await;
    if outcome.is_err() {
        // The row may or may not have been written: read it again next time.
        ctx.memos.forget(&feed.name);
    }
    let took = started.elapsed();
    let name = feed.name.as_str();
    match &outcome {
        Ok(PollOutcome::NotModified { .. }) => ctx.metrics.poll(name, "not_modified", took, None),
        Ok(PollOutcome::Unchanged { .. }) => ctx.metrics.poll(name, "unchanged", took, None),
        Ok(PollOutcome::Ingested { report: r, .. }) => {
            ctx.metrics.poll(name, "ok", took, None);
            ctx.metrics.new_items(r.new_items, &r.signals);
        }
        Ok(PollOutcome::Failed {
            kind,
            error,
            failures,
            ..
        }) => {
            ctx.metrics.poll(name, kind, took, Some(error));
            // The first failures in a row are logged each; a feed that keeps failing, once
            // an hour (it is listed by /healthz meanwhile).
            if ctx
                .metrics
                .failure_report_due(name, Utc::now(), Duration::from_secs(3600))
            {
                if *kind == "parse" {
                    warn!(url = %feed.source, failures, error = %error, "feed could not be parsed; the feed will be tried again later");
                } else {
                    warn!(url = %feed.source, failures, kind = *kind, error = %error, "poll failed; the feed will be tried again later");
                }
            }
        }
        Err(e) => ctx.metrics.poll(name, "store", took, Some(&e.to_string())),
    }
    outcome
}

/// Lowers the calling thread's scheduling priority (nice 10), once per thread. Parsing is
/// parallel and the ingest writer is not: every poll waits for the writer, and on a busy
/// host the writer's round trips to its database thread queued behind parse threads for
/// the CPU. With parsing niced, the writer runs as soon as it can and parsing takes what is
/// left (the cycle bench's cold start measures it). Linux only: there `nice` is a thread's
/// own.
fn yield_cpu_to_the_writer() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        thread_local!(static NICED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
        if !NICED.replace(true) {
            // SAFETY: setpriority has no memory-safety preconditions; 0 names this thread.
            unsafe {
                libc::setpriority(libc::PRIO_PROCESS, 0, 10);
            }
        }
    }
}

/// Slots for CPU-bound work (parse and classify), one per core.
fn cpu_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    })
}

/// One poll: fetch (conditionally), skip an unchanged body, read it (parse and classify,
/// off the async threads), record it. Each way it can end is one [`PollOutcome`].
async fn poll(
    ctx: &PollContext,
    feed: &FeedSettings,
    now: DateTime<Utc>,
) -> Result<PollOutcome, StoreError> {
    let state = ctx.memos.get(&ctx.store, &feed.name).await?;
    let fetched = match ctx.fetcher.fetch(&feed.source, &state.validators).await {
        Ok(FetchOutcome::NotModified { max_age }) => {
            debug!("not modified");
            record_unchanged(ctx, feed, &state, now).await?;
            return Ok(PollOutcome::NotModified { fresh_for: max_age });
        }
        Ok(FetchOutcome::Fetched(f)) => f,
        Err(e) => {
            let failed = Failed {
                kind: e.kind(),
                error: e.to_string(),
                retry_after: e.retry_after(),
            };
            return record_failure(ctx, feed, &state, failed, now).await;
        }
    };
    let hash = hex::encode(Sha256::digest(&fetched.body));
    if state.body_hash.as_deref() == Some(hash.as_str()) {
        debug!("body unchanged");
        record_unchanged(ctx, feed, &state, now).await?;
        return Ok(PollOutcome::Unchanged {
            fresh_for: fetched.max_age,
        });
    }
    let max_age = fetched.max_age;
    let read = match read_body(ctx, feed, fetched.body, fetched.content_type, fetched.url).await {
        Ok(read) => read,
        Err(error) => {
            let failed = Failed {
                kind: "parse",
                error,
                retry_after: None,
            };
            return record_failure(ctx, feed, &state, failed, now).await;
        }
    };
    log_what_was_cut(ctx, feed, &read);
    let update = FeedUpdate {
        validators: fetched.validators,
        body_hash: Some(hash),
        first: state.body_hash.is_none(),
    };
    let recorded = Memo {
        validators: update.validators.clone(),
        body_hash: update.body_hash.clone(),
        failing: false,
    };
    for p in &read.items {
        for s in &p.signals {
            debug!(signal = %s.kind, score = s.score, rule = %s.evidence.rule, title = %p.item.title, "signal");
        }
    }
    let report = ctx
        .store
        .ingest(
            &feed.name,
            update,
            read.items,
            ctx.routes.clone(),
            ctx.stories.clone(),
            now,
        )
        .await?;
    ctx.memos.set(&feed.name, recorded);
    info!(
        items = report.items,
        new = report.new_items,
        alerts = report.alerts,
        joined = report.joined,
        repeats = report.repeats,
        stale = report.stale,
        deliveries = report.deliveries,
        "polled"
    );
    // The server's own word on freshness: Cache-Control max-age, else RSS <ttl>.
    let ttl = read
        .ttl_minutes
        .map(|m| Duration::from_secs(u64::from(m).saturating_mul(60)));
    Ok(PollOutcome::Ingested {
        report,
        fresh_for: max_age.or(ttl),
    })
}

/// A body read: its items with their signals, and what the limits cut from it.
struct Read {
    items: Vec<Prepared>,
    dropped: usize,
    truncated_fields: usize,
    too_deep: usize,
    ttl_minutes: Option<u32>,
    hub: Option<String>,
}

/// Parses and classifies a body on a blocking thread. Parsing and classifying are CPU work:
/// off the async threads, and no more at a time than there are cores (more cannot run at
/// once anyway, and each waiting parse would hold its document in memory).
async fn read_body(
    ctx: &PollContext,
    feed: &FeedSettings,
    body: Vec<u8>,
    content_type: Option<String>,
    base: Option<url::Url>,
) -> Result<Read, String> {
    let cpu = cpu_slots().acquire().await;
    let classifier = ctx.classifier.clone();
    let limits = ctx.limits;
    let name = feed.name.clone();
    let read = tokio::task::spawn_blocking(move || {
        yield_cpu_to_the_writer();
        let parsed = parse_feed(&body, content_type.as_deref(), base.as_ref(), limits)?;
        let items = parsed
            .entries
            .into_iter()
            .map(|e| {
                let item = e.into_item(&name);
                let signals = classifier.classify(&item.title, &item.summary).signals;
                Prepared::new(item, signals)
            })
            .collect();
        Ok::<_, crate::parse::ParseError>(Read {
            items,
            dropped: parsed.dropped_entries,
            truncated_fields: parsed.truncated_fields,
            too_deep: parsed.too_deep,
            ttl_minutes: parsed.ttl_minutes,
            hub: parsed.hub,
        })
    })
    .await;
    drop(cpu);
    match read {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(join) => Err(format!("parsing stopped unexpectedly: {join}")),
    }
}

/// Tells the operator what the parse limits cut, and of a WebSub hub (once per hub).
fn log_what_was_cut(ctx: &PollContext, feed: &FeedSettings, read: &Read) {
    if let Some(hub) = read
        .hub
        .as_deref()
        .filter(|h| ctx.metrics.hub_is_new(feed.name.as_str(), h))
    {
        info!(%hub, "feed advertises a WebSub hub; it is polled all the same (WebSub is not supported yet)");
    }
    if read.dropped > 0 {
        warn!(
            dropped = read.dropped,
            limit = ctx.limits.max_entries,
            "feed has more entries than parse.max_items; the rest were ignored"
        );
    }
    if read.truncated_fields > 0 {
        warn!(
            fields = read.truncated_fields,
            limit = ctx.limits.max_field_chars,
            "text fields longer than parse.max_field_chars were cut"
        );
    }
    if read.too_deep > 0 {
        warn!(
            subtrees = read.too_deep,
            limit = ctx.limits.max_depth,
            "elements nested deeper than parse.max_depth were dropped"
        );
    }
}

/// Why a poll failed.
struct Failed {
    kind: &'static str,
    error: String,
    retry_after: Option<Duration>,
}

async fn record_failure(
    ctx: &PollContext,
    feed: &FeedSettings,
    state: &Memo,
    failed: Failed,
    now: DateTime<Utc>,
) -> Result<PollOutcome, StoreError> {
    let Failed {
        kind,
        error,
        retry_after,
    } = failed;
    let failures = ctx
        .store
        .record_feed_failure(&feed.name, &error, now)
        .await?;
    ctx.memos.set(&feed.name, state.now_failing(true));
    if kind == "parse" {
        debug!(url = %feed.source, failures, error = %error, "feed could not be parsed");
    } else {
        debug!(url = %feed.source, failures, kind, error = %error, "poll failed");
    }
    Ok(PollOutcome::Failed {
        kind,
        error,
        failures,
        retry_after,
    })
}

async fn record_unchanged(
    ctx: &PollContext,
    feed: &FeedSettings,
    state: &Memo,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    ctx.store
        .record_feed_unchanged(&feed.name, state.failing, now)
        .await?;
    ctx.memos.set(&feed.name, state.now_failing(false));
    Ok(())
}
