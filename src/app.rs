//! The daemon: builds the shared pieces, spawns one polling loop per feed and one delivery
//! loop, and owns shutdown.
//!
//! Shutdown is one `CancellationToken`, passed in so tests can pull it. Every task is spawned
//! through one `TaskTracker`; loops check the token only between steps, so a poll or a send
//! in progress finishes (each is bounded by its own timeout). After the token fires the
//! daemon waits up to `daemon.shutdown_grace`; a delivery still `sending` after that is put
//! back to `pending` on the next start and sent again with the same idempotency key.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::{Semaphore, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::config::{FeedSettings, Settings};
use crate::fetch::Fetcher;
use crate::notify::{LaneMode, Notifiers, deliver_once, routes, run_lane};
use crate::poll::{PollContext, PollOutcome, poll_feed_once};
use crate::store::{StateLock, Store};

/// How `run` behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Poll every feed once, deliver what is due, and return.
    pub once: bool,
    /// With `once`: the clock that judges item ages, story windows and corroboration waits
    /// (a replay of archived feeds); the wall clock when `None`.
    pub now: Option<chrono::DateTime<Utc>>,
}

/// Totals of a `run --once` cycle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CycleSummary {
    pub feeds: usize,
    pub fetched: usize,
    pub not_modified: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub items: usize,
    pub new_items: usize,
    pub alerts: usize,
    pub joined: usize,
    pub repeats: usize,
    pub stale: usize,
    pub unconfirmed: usize,
    pub delivered: usize,
    pub retrying: usize,
    pub dead: usize,
}

impl CycleSummary {
    fn add(&mut self, outcome: &PollOutcome) {
        match outcome {
            PollOutcome::NotModified => self.not_modified += 1,
            PollOutcome::Unchanged => self.unchanged += 1,
            PollOutcome::Ingested(r) => {
                self.fetched += 1;
                self.items += r.items;
                self.new_items += r.new_items;
                self.alerts += r.alerts;
                self.joined += r.joined;
                self.repeats += r.repeats;
                self.stale += r.stale;
            }
            PollOutcome::Failed { .. } => self.failed += 1,
        }
    }
}

/// Runs the daemon until `shutdown` fires (or, with `once`, one cycle).
pub async fn run(
    settings: Settings,
    options: RunOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<CycleSummary> {
    let state_dir = &settings.daemon.state_dir;
    let _lock = StateLock::acquire(state_dir)?;
    let store = Store::open(state_dir).await?;
    let now = Utc::now();
    let released = store.release_in_flight(now).await?;
    if released > 0 {
        info!(
            released,
            "deliveries interrupted by the last shutdown will be sent again, with their original idempotency keys"
        );
    }
    store
        .sync_feeds(
            settings.feeds.iter().map(|f| (&f.name, f.source.display())),
            now,
        )
        .await?;
    let fetcher = Fetcher::new(&settings.fetch).context("cannot build the HTTP client")?;
    let notifiers =
        Arc::new(Notifiers::from_settings(&settings).context("cannot set up the notifiers")?);
    let ctx = PollContext {
        store: store.clone(),
        fetcher,
        classifier: settings.classifier.clone(),
        routes: Arc::new(routes(&settings)),
        limits: settings.parse,
        stories: Arc::new(settings.stories.clone()),
    };
    let channels: Vec<String> = ctx
        .routes
        .iter()
        .map(|r| format!("{}:{}", r.channel, r.target))
        .collect();
    info!(
        feeds = settings.feeds.len(),
        channels = %channels.join(","),
        state = %state_dir.display(),
        "ceasefire-watch {} started",
        env!("CARGO_PKG_VERSION")
    );

    let summary = if options.once {
        run_once(&settings, &ctx, &notifiers, options.now).await?
    } else {
        notify_systemd(&[sd_notify::NotifyState::Ready]);
        run_daemon(&settings, ctx, notifiers, shutdown).await;
        notify_systemd(&[sd_notify::NotifyState::Stopping]);
        CycleSummary::default()
    };
    store.close().await;
    Ok(summary)
}

async fn run_once(
    settings: &Settings,
    ctx: &PollContext,
    notifiers: &Notifiers,
    clock: Option<chrono::DateTime<Utc>>,
) -> anyhow::Result<CycleSummary> {
    let mut summary = CycleSummary {
        feeds: settings.feeds.len(),
        ..CycleSummary::default()
    };
    if let Some(t) = clock {
        info!(now = %t.to_rfc3339(), "replaying: ages, story windows and waits are judged by this time");
    }
    let now = || clock.unwrap_or_else(Utc::now);
    let outcomes: Vec<_> = futures_util::stream::iter(settings.feeds.iter())
        .map(|feed| async move { poll_feed_once(ctx, feed, now()).await })
        .buffer_unordered(settings.fetch.concurrency)
        .collect()
        .await;
    for outcome in outcomes {
        summary.add(&outcome?);
    }
    summary.unconfirmed = ctx
        .store
        .housekeeping(&settings.stories, now())
        .await?
        .unconfirmed;
    let round = deliver_once(&ctx.store, notifiers, &settings.delivery, Utc::now()).await?;
    summary.delivered = round.delivered;
    summary.retrying = round.retried;
    summary.dead = round.dead;
    info!(
        feeds = summary.feeds,
        fetched = summary.fetched,
        not_modified = summary.not_modified,
        unchanged = summary.unchanged,
        failed = summary.failed,
        new_items = summary.new_items,
        alerts = summary.alerts,
        joined = summary.joined,
        repeats = summary.repeats,
        stale = summary.stale,
        unconfirmed = summary.unconfirmed,
        delivered = summary.delivered,
        retrying = summary.retrying,
        dead = summary.dead,
        "cycle done"
    );
    Ok(summary)
}

async fn run_daemon(
    settings: &Settings,
    ctx: PollContext,
    notifiers: Arc<Notifiers>,
    shutdown: CancellationToken,
) {
    let tracker = TaskTracker::new();
    // Past the grace period: cut polls and sends short (their rows go back to pending).
    let abort = CancellationToken::new();
    // Bumped whenever polling adds outbox rows; every lane worker watches it.
    let wake = Arc::new(watch::Sender::new(0u64));
    let fetch_slots = Arc::new(Semaphore::new(settings.fetch.concurrency));
    for feed in settings.feeds.iter().cloned() {
        let ctx = ctx.clone();
        let wake = wake.clone();
        let slots = fetch_slots.clone();
        let shutdown = shutdown.clone();
        let abort = abort.clone();
        tracker.spawn(async move { feed_loop(ctx, feed, slots, wake, shutdown, abort).await });
    }
    let mut lanes = crate::notify::lanes(&ctx.routes);
    match ctx.store.pending_lanes().await {
        Ok(pending) => {
            for lane in pending {
                if !lanes.contains(&lane) {
                    info!(lane = %lane, "pending deliveries for a channel no longer configured: sending them to the address they were made for");
                    lanes.push(lane);
                }
            }
        }
        Err(e) => error!(error = %e, "cannot list the outbox's lanes"),
    }
    for lane in lanes {
        let store = ctx.store.clone();
        let notifiers = notifiers.clone();
        let delivery = settings.delivery.clone();
        let mode = LaneMode::Daemon {
            wake: wake.subscribe(),
            stop: shutdown.clone(),
            abort: abort.clone(),
        };
        tracker.spawn(async move {
            if let Err(e) = run_lane(&store, &notifiers, &delivery, lane, mode).await {
                error!(error = %crate::fetch::error_chain(&e), "delivery worker stopped");
            }
        });
    }
    {
        let store = ctx.store.clone();
        let stories = ctx.stories.clone();
        let wake = wake.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move { housekeeping_loop(store, stories, wake, shutdown).await });
    }
    tracker.close();
    shutdown.cancelled().await;
    let grace = settings.daemon.shutdown_grace;
    info!(grace = %humantime::format_duration(grace), "shutting down");
    if tokio::time::timeout(grace, tracker.wait()).await.is_ok() {
        info!("stopped cleanly");
        return;
    }
    abort.cancel();
    if tokio::time::timeout(Duration::from_secs(5), tracker.wait())
        .await
        .is_ok()
    {
        warn!(
            "work still in progress after daemon.shutdown_grace was cut short: unsent deliveries are back to pending and go out on the next start, with their keys"
        );
    } else {
        warn!(
            "some tasks did not stop; deliveries left in flight are sent again on the next start, with their keys"
        );
    }
}

/// Polls one feed for the life of the daemon.
async fn feed_loop(
    ctx: PollContext,
    feed: FeedSettings,
    slots: Arc<Semaphore>,
    wake: Arc<watch::Sender<u64>>,
    shutdown: CancellationToken,
    abort: CancellationToken,
) {
    // Spread the first polls so that many feeds do not start in the same instant.
    let mut delay = first_delay(feed.interval);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        let poll = async {
            let Ok(_permit) = slots.acquire().await else {
                return None;
            };
            Some(poll_feed_once(&ctx, &feed, Utc::now()).await)
        };
        // A poll in progress at shutdown may finish within the grace period; past it, it is
        // dropped (its transaction rolls back; the feed is polled again on the next start).
        let outcome = tokio::select! {
            o = poll => match o {
                Some(o) => o,
                None => return,
            },
            _ = abort.cancelled() => return,
        };
        delay = match outcome {
            Ok(outcome) => {
                if matches!(outcome, PollOutcome::Ingested(r) if r.deliveries > 0) {
                    wake.send_modify(|n| *n = n.wrapping_add(1));
                }
                next_delay(feed.interval, &outcome)
            }
            Err(e) => {
                error!(feed = %feed.name, error = %crate::fetch::error_chain(&e), "cannot record the poll in the store; retrying");
                feed.interval.min(Duration::from_secs(60))
            }
        };
    }
}

/// Sends held alerts whose corroboration wait is over, and forgets old stories.
async fn housekeeping_loop(
    store: Store,
    stories: Arc<crate::config::StorySettings>,
    wake: Arc<watch::Sender<u64>>,
    shutdown: CancellationToken,
) {
    let every = (stories.max_wait / 4).clamp(Duration::from_millis(500), Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match store.housekeeping(&stories, Utc::now()).await {
            Ok(done) => {
                if done.unconfirmed > 0 {
                    info!(
                        deliveries = done.unconfirmed,
                        "corroboration wait over: sending held alerts marked unconfirmed"
                    );
                    wake.send_modify(|n| *n = n.wrapping_add(1));
                }
                if done.forgotten > 0 {
                    info!(
                        stories = done.forgotten,
                        "forgot stories older than stories.keep"
                    );
                }
            }
            Err(e) => {
                error!(error = %crate::fetch::error_chain(&e), "story housekeeping failed; retrying")
            }
        }
    }
}

/// A random delay before a feed's first poll: up to a tenth of its interval, at most 5 s.
fn first_delay(interval: Duration) -> Duration {
    let span = (interval / 10).min(Duration::from_secs(5));
    span.mul_f64(rand::random::<f64>())
}

/// When to poll again: the interval with ±10 % jitter after a good poll; after failures,
/// the interval doubled per failure in a row (capped at the larger of the interval and one
/// hour), or the server's Retry-After if longer (capped at a day).
pub fn next_delay(interval: Duration, outcome: &PollOutcome) -> Duration {
    let jitter = |d: Duration| d.mul_f64(0.9 + rand::random::<f64>() * 0.2);
    match outcome {
        PollOutcome::Failed {
            failures,
            retry_after,
            ..
        } => {
            let cap = interval.max(Duration::from_secs(3600));
            let backoff = interval
                .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
                .min(cap);
            let asked = retry_after
                .unwrap_or_default()
                .min(Duration::from_secs(24 * 3600));
            jitter(backoff).max(asked)
        }
        _ => jitter(interval),
    }
}

fn notify_systemd(states: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "cannot notify systemd");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_and_honour_retry_after() {
        let i = Duration::from_secs(300);
        let ok = next_delay(i, &PollOutcome::NotModified);
        assert!(ok >= Duration::from_secs(270) && ok <= Duration::from_secs(330));
        let failed = |failures, retry_after| PollOutcome::Failed {
            kind: "status",
            error: String::new(),
            failures,
            retry_after,
        };
        let d3 = next_delay(i, &failed(3, None));
        assert!(
            d3 >= Duration::from_secs(1080) && d3 <= Duration::from_secs(1320),
            "{d3:?}"
        );
        let d20 = next_delay(i, &failed(20, None));
        assert!(d20 <= Duration::from_secs(3960), "{d20:?}");
        let asked = next_delay(i, &failed(1, Some(Duration::from_secs(7200))));
        assert_eq!(asked, Duration::from_secs(7200));
    }
}
