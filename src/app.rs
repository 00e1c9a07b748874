//! The daemon: builds the shared pieces, spawns one polling loop per feed and one delivery
//! worker per lane (each under the [`Supervisor`]), and owns shutdown.
//!
//! Shutdown is one [`Shutdown`] handle, passed in (so tests can pull it) and down to every
//! task; each configuration's tasks get a generation of it. Every task is spawned through a
//! `TaskTracker`; loops look at the handle between steps, so a poll or a send in progress
//! finishes (each is bounded by its own timeout). After a stop the daemon waits up to
//! `daemon.shutdown_grace`, then aborts; a send cut short goes back to `pending` and is sent
//! again with the same idempotency key.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use futures_util::StreamExt;
use tokio::sync::{Semaphore, watch};
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::config::{FeedSettings, Settings};
use crate::fetch::Fetcher;
use crate::leases::Leases;
use crate::metrics::Metrics;
use crate::notify::{LaneMode, Notifiers, deliver_once, routes, run_lane};
use crate::poll::{FeedMemos, PollContext, PollOutcome, poll_feed_once};
use crate::shutdown::{AFTER_ABORT, Ended, Shutdown};
use crate::store::{StateLock, Store};
use crate::supervise::Supervisor;

/// How `run` behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Poll every feed once, deliver what is due, and return.
    pub once: bool,
    /// With `once`: the clock that judges item ages, story windows and corroboration waits
    /// (a replay of archived feeds); the wall clock when `None`.
    pub now: Option<chrono::DateTime<Utc>>,
    /// With `once`: the cycle on a copy of the state, printing what would be sent and to
    /// whom; nothing is sent and nothing recorded.
    pub dry_run: bool,
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
            PollOutcome::NotModified { .. } => self.not_modified += 1,
            PollOutcome::Unchanged { .. } => self.unchanged += 1,
            PollOutcome::Ingested { report: r, .. } => {
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
    shutdown: Shutdown,
) -> anyhow::Result<CycleSummary> {
    if options.dry_run {
        return dry_run(settings, options.now).await;
    }
    // On SQLite one daemon owns the state directory, and what a crashed predecessor left
    // in flight is its own to send again; on a shared store the other daemons' beats hand a
    // dead daemon's work on (`store::leases`).
    let (_lock, store) = match &settings.database {
        crate::store::Location::Sqlite { state_dir } => {
            let lock = StateLock::acquire(state_dir)?;
            let store = Store::open(state_dir).await?;
            let released = store.release_in_flight(Utc::now()).await?;
            if released > 0 {
                info!(
                    released,
                    "deliveries interrupted by the last shutdown will be sent again, with their original idempotency keys"
                );
            }
            (Some(lock), store)
        }
        shared => (None, shared.open().await?),
    };
    let metrics = Arc::new(Metrics::new());
    let summary = if options.once {
        // A single cycle polls every feed, whatever the daemons hold.
        let (ctx, notifiers) = prepare(&settings, &store, &metrics, Leases::all()).await?;
        run_once(&settings, &ctx, &notifiers, options.now).await?
    } else {
        run_daemon(settings, store.clone(), metrics, shutdown).await?;
        CycleSummary::default()
    };
    store.close().await;
    Ok(summary)
}

/// What one configuration needs: the poll context and the notifiers, with the store's feed
/// rows in step with the config. Run at start and on each reload; logs what it set up.
async fn prepare(
    settings: &Settings,
    store: &Store,
    metrics: &Arc<Metrics>,
    leases: Arc<Leases>,
) -> anyhow::Result<(PollContext, Arc<Notifiers>)> {
    store
        .sync_feeds(
            settings.feeds.iter().map(|f| (&f.name, f.source.display())),
            Utc::now(),
        )
        .await?;
    let fetcher = Fetcher::new(&settings.fetch).context("cannot build the HTTP client")?;
    let notifiers =
        Arc::new(Notifiers::from_settings(settings).context("cannot set up the notifiers")?);
    let ctx = PollContext {
        store: store.clone(),
        fetcher,
        classifier: settings.classifier.clone(),
        routes: Arc::new(routes(settings)),
        limits: settings.parse,
        stories: Arc::new(settings.stories.clone()),
        metrics: metrics.clone(),
        freshness_cap: settings.fetch.freshness_cap,
        // Every feed's row in one read, rather than one read per feed's first poll.
        memos: Arc::new(FeedMemos::new(store.feed_states().await?)),
        leases,
    };
    for w in &settings.warnings {
        warn!(key = %w.key, "config: {}", w.message);
    }
    let channels: Vec<String> = ctx
        .routes
        .iter()
        .map(|r| format!("{}:{}", r.channel, r.target))
        .collect();
    info!(
        feeds = settings.feeds.len(),
        channels = %channels.join(","),
        state = %settings.database.describe(),
        "ceasefire-watch {} ready",
        env!("CARGO_PKG_VERSION")
    );
    Ok((ctx, notifiers))
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
    poll_cycle(settings, ctx, clock, &mut summary).await?;
    let round = deliver_once(
        &ctx.store,
        notifiers,
        &settings.delivery,
        &ctx.metrics,
        Utc::now(),
    )
    .await?;
    summary.delivered = round.delivered;
    summary.retrying = round.retried;
    summary.dead = round.dead;
    log_cycle(&summary);
    Ok(summary)
}

/// `run --once --dry-run`: the cycle on a copy of the state (polls, parsing, classifying,
/// stories, silences), then what a delivery round would send, printed; the copy is thrown
/// away, so a later real run still alerts. Feeds are fetched for real (conditionally).
async fn dry_run(
    mut settings: Settings,
    clock: Option<chrono::DateTime<Utc>>,
) -> anyhow::Result<CycleSummary> {
    if settings.database.backend().shared() {
        anyhow::bail!(
            "run --once --dry-run works on a copy of the SQLite state; a shared PostgreSQL store (store.url) is not copied. Try the change with a config without store.url"
        );
    }
    let scratch = tempfile::Builder::new()
        .prefix("ceasefire-watch-dry-run-")
        .tempdir()
        .context("cannot make a scratch directory for the dry run")?;
    Store::snapshot(&settings.daemon.state_dir, scratch.path())
        .await
        .context("cannot copy the state for the dry run")?;
    settings.daemon.state_dir = scratch.path().to_owned();
    settings.database = crate::store::Location::Sqlite {
        state_dir: scratch.path().to_owned(),
    };
    let store = Store::open(scratch.path()).await?;
    let metrics = Arc::new(Metrics::new());
    let (ctx, _notifiers) = prepare(&settings, &store, &metrics, Leases::all()).await?;
    let mut summary = CycleSummary {
        feeds: settings.feeds.len(),
        ..CycleSummary::default()
    };
    poll_cycle(&settings, &ctx, clock, &mut summary).await?;
    let (due, silenced) = store.due_deliveries(Utc::now()).await?;
    for r in &due {
        println!(
            "would send  {}:{}  {}  {}",
            r.channel, r.target, r.signal, r.title
        );
    }
    for r in &silenced {
        println!(
            "silenced    {}:{}  {}  {}  ({})",
            r.channel,
            r.target,
            r.signal,
            r.title,
            r.last_error.as_deref().unwrap_or("silenced")
        );
    }
    println!(
        "dry run: {} would be sent, {} silenced; nothing was sent and nothing recorded",
        due.len(),
        silenced.len()
    );
    log_cycle(&summary);
    store.close().await;
    Ok(summary)
}

/// Polls every feed once and records what it found, then one step of housekeeping and
/// retention: everything of a cycle but delivery.
async fn poll_cycle(
    settings: &Settings,
    ctx: &PollContext,
    clock: Option<chrono::DateTime<Utc>>,
    summary: &mut CycleSummary,
) -> anyhow::Result<()> {
    let now = || clock.unwrap_or_else(Utc::now);
    // Each poll a task of its own, so parsing and ingest preparation spread over the
    // runtime's threads instead of all running on this one.
    let outcomes: Vec<_> = futures_util::stream::iter(settings.feeds.iter().cloned())
        .map(|feed| {
            let ctx = ctx.clone();
            let at = now();
            tokio::spawn(async move { poll_feed_once(&ctx, &feed, at).await })
        })
        .buffer_unordered(settings.fetch.concurrency)
        .collect()
        .await;
    for outcome in outcomes {
        match outcome {
            Ok(outcome) => summary.add(&outcome?),
            // A poll that panicked is that feed's failure; the others' work goes on.
            Err(e) => {
                error!(error = %e, "a poll stopped unexpectedly; counted as failed");
                summary.failed += 1;
            }
        }
    }
    summary.unconfirmed = ctx
        .store
        .housekeeping(&settings.stories, now())
        .await?
        .unconfirmed;
    // One step of retention a cycle: cron's run --once keeps the store bounded too.
    let pruned = ctx.store.prune(&settings.store, now()).await?;
    if pruned.any() {
        info!(
            ?pruned,
            "pruned what store.keep_seen and store.keep_alerts no longer keep"
        );
    }
    Ok(())
}

fn log_cycle(summary: &CycleSummary) {
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
}

/// The daemon: one generation of loops per configuration. SIGHUP loads the config again;
/// a valid one replaces the running generation (its polls and sends finish within the grace
/// period, state stays in the store, so nothing is alerted twice), an invalid one is refused
/// with its errors and the running one stays in force.
///
/// One function because it is the daemon's one select loop (shutdown, a failed task,
/// SIGHUP reload) around one generation; each arm is a few lines.
async fn run_daemon(
    mut settings: Settings,
    store: Store,
    metrics: Arc<Metrics>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let started = Utc::now();
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("cannot install the SIGHUP handler")?;
    let listener = match settings.http.listen {
        Some(addr) => Some(crate::http::bind(addr).await?),
        None => None,
    };
    let leases = if store.backend().shared() {
        Leases::shared()
    } else {
        Leases::all()
    };
    let (mut ctx, mut notifiers) = prepare(&settings, &store, &metrics, leases.clone()).await?;
    let services = TaskTracker::new();
    let supervisor = Supervisor::new();
    let lease_feeds = Arc::new(std::sync::Mutex::new(feed_names(&settings)));
    if store.backend().shared() {
        // The first beat before any feed loop starts: each starts knowing its share.
        crate::leases::beat_once(&store, &leases, &feed_names(&settings)).await;
        let (store, leases, feeds) = (store.clone(), leases.clone(), lease_feeds.clone());
        let shutdown = shutdown.clone();
        supervisor.spawn(&services, "leases", shutdown.clone(), move || {
            crate::leases::lease_loop(
                store.clone(),
                leases.clone(),
                feeds.clone(),
                shutdown.clone(),
            )
        });
    }
    let health = crate::http::HealthState {
        store: store.clone(),
        metrics: metrics.clone(),
        tasks: supervisor.clone(),
        started,
        stalled_after: stalled_after(&settings),
        failing_after: settings.http.failing_after,
        probe: Default::default(),
        token: settings.http.token.clone().map(Arc::new),
        leases: leases.clone(),
    };
    if let Some(listener) = listener {
        info!(listen = %settings.http.listen.unwrap_or(([127, 0, 0, 1], 0).into()), "serving /healthz and /metrics");
        let listener = Arc::new(listener);
        let (health, shutdown) = (health.clone(), shutdown.clone());
        supervisor.spawn(&services, "http listener", shutdown.clone(), move || {
            crate::http::serve(listener.clone(), health.clone(), shutdown.clone())
        });
    }
    {
        let (health, shutdown, feeds) = (health.clone(), shutdown.clone(), settings.feeds.len());
        supervisor.spawn(&services, "watchdog", shutdown.clone(), move || {
            watchdog_loop(health.clone(), feeds, shutdown.clone())
        });
    }
    let failed = supervisor.failed();
    notify_systemd(&[sd_notify::NotifyState::Ready]);
    loop {
        let generation = shutdown.generation();
        let tracker = start_generation(&settings, &ctx, &notifiers, &supervisor, &generation).await;
        let next = loop {
            tokio::select! {
                _ = shutdown.stopped() => break None,
                _ = failed.cancelled() => break None,
                _ = hangup.recv() => {
                    info!(config = %settings.config_path.display(), "SIGHUP: reading the config again");
                    match crate::config::load(&settings.config_path) {
                        Ok(mut new) => {
                            if new.daemon.state_dir != settings.daemon.state_dir {
                                warn!("daemon.state_dir changes only on a restart; the running state directory stays");
                                new.daemon.state_dir = settings.daemon.state_dir.clone();
                            }
                            if new.http.listen != settings.http.listen {
                                warn!("http.listen changes only on a restart");
                            }
                            break Some(new);
                        }
                        Err(errors) => {
                            error!("the new config is refused; the running one stays in force:\n{errors}");
                        }
                    }
                }
            }
        };
        if next.is_some() {
            notify_systemd(&[sd_notify::NotifyState::Reloading]);
        }
        stop_generation(&generation, &tracker, settings.daemon.shutdown_grace).await;
        let Some(new) = next else { break };
        match prepare(&new, &store, &metrics, leases.clone()).await {
            Ok((c, n)) => {
                *lease_feeds.lock().unwrap_or_else(|p| p.into_inner()) = feed_names(&new);
                settings = new;
                ctx = c;
                notifiers = n;
                metrics.reloaded();
                info!(feeds = settings.feeds.len(), "config reloaded");
            }
            Err(e) => {
                error!(error = %format!("{e:#}"), "cannot apply the new config; the running one stays in force")
            }
        }
        notify_systemd(&[sd_notify::NotifyState::Ready]);
    }
    notify_systemd(&[sd_notify::NotifyState::Stopping]);
    // The listener and the watchdog stop too (after a failure, systemd restarts the
    // whole daemon).
    services.close();
    shutdown.stop_and_wait(&services, AFTER_ABORT).await;
    if let Some(failure) = supervisor.failure() {
        anyhow::bail!("{failure}; stopping so that systemd starts the daemon afresh");
    }
    Ok(())
}

/// The configured feeds' names, for the leases.
fn feed_names(settings: &Settings) -> Vec<String> {
    settings
        .feeds
        .iter()
        .map(|f| f.name.as_str().to_owned())
        .collect()
}

/// No finished poll for this long means the loop is stuck: three of the longest intervals,
/// and never less than ten minutes.
fn stalled_after(settings: &Settings) -> Duration {
    if let Some(d) = settings.daemon.stalled_after {
        return d;
    }
    let longest = settings
        .feeds
        .iter()
        .map(|f| f.interval)
        .max()
        .unwrap_or_default();
    (longest * 3 + settings.fetch.timeout).max(Duration::from_secs(600))
}

/// Spawns the feed loops, lane workers and housekeeping of one configuration, each under
/// the supervisor's watch.
///
/// The spawn list of one generation in one place, so what runs is read top to bottom.
async fn start_generation(
    settings: &Settings,
    ctx: &PollContext,
    notifiers: &Arc<Notifiers>,
    supervisor: &Supervisor,
    shutdown: &Shutdown,
) -> TaskTracker {
    let tracker = TaskTracker::new();
    // Bumped whenever polling adds outbox rows; every lane worker watches it.
    let wake = Arc::new(watch::Sender::new(0u64));
    let fetch_slots = Arc::new(Semaphore::new(settings.fetch.concurrency));
    let mut hosts: HashMap<String, Arc<Semaphore>> = HashMap::new();
    for feed in settings.feeds.iter().cloned() {
        // Files have no host to be polite to: each is its own.
        let host = feed
            .source
            .host()
            .unwrap_or_else(|| format!("file:{}", feed.name));
        let per_host = hosts
            .entry(host)
            .or_insert_with(|| Arc::new(Semaphore::new(settings.fetch.per_host)))
            .clone();
        let ctx = ctx.clone();
        let wake = wake.clone();
        let slots = [fetch_slots.clone(), per_host];
        let shutdown = shutdown.clone();
        let name = format!("feed {}", feed.name);
        supervisor.spawn(&tracker, name, shutdown.clone(), move || {
            feed_loop(
                ctx.clone(),
                feed.clone(),
                slots.clone(),
                wake.clone(),
                shutdown.clone(),
            )
        });
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
        let metrics = ctx.metrics.clone();
        let delivery = settings.delivery.clone();
        let (wake, shutdown) = (wake.clone(), shutdown.clone());
        let name = format!("lane {lane}");
        supervisor.spawn(&tracker, name, shutdown.clone(), move || {
            let (store, notifiers, metrics, delivery, lane) = (
                store.clone(),
                notifiers.clone(),
                metrics.clone(),
                delivery.clone(),
                lane.clone(),
            );
            let mode = LaneMode::Daemon {
                wake: wake.subscribe(),
                shutdown: shutdown.clone(),
            };
            async move {
                // Rows a panicked run of this worker left in flight go back to pending
                // (nothing else sends this lane's rows).
                match store.release_lane_in_flight(&lane, Utc::now()).await {
                    Ok(0) => {}
                    Ok(n) => warn!(lane = %lane, deliveries = n, "deliveries left in flight by this lane's last worker are pending again, with their keys"),
                    Err(e) => error!(lane = %lane, error = %crate::net::error_chain(&e), "cannot release this lane's deliveries in flight"),
                }
                if let Err(e) = run_lane(&store, &notifiers, &delivery, &metrics, lane, mode).await {
                    error!(error = %crate::net::error_chain(&e), "delivery worker stopped");
                }
            }
        });
    }
    {
        let store = ctx.store.clone();
        let stories = ctx.stories.clone();
        let retention = settings.store;
        let wake = wake.clone();
        let shutdown = shutdown.clone();
        supervisor.spawn(&tracker, "housekeeping", shutdown.clone(), move || {
            housekeeping_loop(
                store.clone(),
                stories.clone(),
                retention,
                wake.clone(),
                shutdown.clone(),
            )
        });
    }
    tracker.close();
    tracker
}

/// Stops a generation: its tasks have `grace` to finish what they hold; then polls and
/// sends are cut short (their rows go back to pending).
async fn stop_generation(generation: &Shutdown, tracker: &TaskTracker, grace: Duration) {
    info!(grace = %humantime::format_duration(grace), "stopping polls and deliveries");
    match generation.stop_and_wait(tracker, grace).await {
        Ended::Cleanly => info!("stopped cleanly"),
        Ended::Aborted => warn!(
            "work still in progress after daemon.shutdown_grace was cut short: unsent deliveries are back to pending and go out on the next start, with their keys"
        ),
        Ended::Stuck => warn!(
            "some tasks did not stop; deliveries left in flight are sent again on the next start, with their keys"
        ),
    }
}

/// Pings the systemd watchdog (when `WatchdogSec=` is set) while the poll loop makes progress,
/// and keeps `STATUS=` up to date.
async fn watchdog_loop(health: crate::http::HealthState, feeds: usize, shutdown: Shutdown) {
    let watchdog = sd_notify::watchdog_enabled();
    let every = watchdog
        .map(|w| w / 2)
        .unwrap_or(Duration::from_secs(30))
        .clamp(Duration::from_millis(100), Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = shutdown.stopped() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let now = Utc::now();
        // Sharing the store, this daemon polls only the feeds it holds (maybe none).
        let polled = health.leases.facts().map_or(feeds, |l| l.held);
        let progressing = poll_loop_progressing(
            health.metrics.last_poll(),
            health.started,
            now,
            health.stalled_after,
            polled,
        );
        let tasks = health.tasks.problems(now);
        let writer = health.store.writer_stopped();
        let pending = health
            .store
            .outbox_counts()
            .await
            .map(|c| (c.pending + c.sending).to_string())
            .unwrap_or_else(|_| "?".into());
        let failing = health
            .metrics
            .feed_health()
            .values()
            .filter(|f| f.consecutive_failures > 0)
            .count();
        let last = health
            .metrics
            .last_poll()
            .map(|t| t.format("%H:%M:%S UTC").to_string())
            .unwrap_or_else(|| "none yet".into());
        let status = format!(
            "{feeds} feeds ({failing} failing), last poll {last}, {pending} deliveries pending"
        );
        let mut states = vec![sd_notify::NotifyState::Status(&status)];
        let alive = progressing && tasks.is_empty() && !writer;
        if alive && watchdog.is_some() {
            states.push(sd_notify::NotifyState::Watchdog);
        } else if !progressing {
            warn!(limit = %humantime::format_duration(health.stalled_after), "no poll has finished for too long; not pinging the watchdog");
        } else if !alive {
            warn!(tasks = %tasks.join("; "), ingest_writer_stopped = writer, "part of the daemon is down; not pinging the watchdog");
        }
        notify_systemd(&states);
    }
}

/// Whether the poll loop counts as alive: a poll finished within `stalled_after` (or the
/// daemon has not been up that long, or it has no feeds to poll).
pub fn poll_loop_progressing(
    last_poll: Option<chrono::DateTime<Utc>>,
    started: chrono::DateTime<Utc>,
    now: chrono::DateTime<Utc>,
    stalled_after: Duration,
    feeds: usize,
) -> bool {
    if feeds == 0 {
        return true;
    }
    let since = last_poll.unwrap_or(started);
    (now - since).to_std().unwrap_or_default() <= stalled_after
}

/// Polls one feed for the life of the daemon.
async fn feed_loop(
    ctx: PollContext,
    feed: FeedSettings,
    // The global fetch slots and the feed's host's.
    slots: [Arc<Semaphore>; 2],
    wake: Arc<watch::Sender<u64>>,
    shutdown: Shutdown,
) {
    let ctx = Arc::new(ctx);
    let feed = Arc::new(feed);
    // Spread the first polls so that many feeds do not start in the same instant.
    let first = first_delay(feed.interval);
    // Whether this daemon held the feed's lease at its last turn (see `leases`).
    let held = Arc::new(std::sync::atomic::AtomicBool::new(true));
    poll_schedule(first, &shutdown, || {
        let (ctx, feed, slots, wake) = (ctx.clone(), feed.clone(), slots.clone(), wake.clone());
        let (held, shutdown) = (held.clone(), shutdown.clone());
        async move {
            use std::sync::atomic::Ordering;
            if !ctx.leases.holds(feed.name.as_str()) {
                // Another daemon polls it; look again when a beat changes what this one
                // holds (at the latest, a beat later).
                held.store(false, Ordering::Relaxed);
                tokio::select! {
                    _ = ctx.leases.changed_within(crate::leases::beat_every(ctx.store.lease())) => {}
                    _ = shutdown.stopped() => {}
                }
                return Some(Duration::ZERO);
            }
            if !held.swap(true, Ordering::Relaxed) {
                // Back from another daemon, whose polls changed its row: read it afresh.
                ctx.memos.forget(&feed.name);
                info!(feed = %feed.name, "feed lease taken: polling it");
            }
            let _host = slots[1].acquire().await.ok()?;
            let _permit = slots[0].acquire().await.ok()?;
            let outcome = poll_feed_once(&ctx, &feed, Utc::now()).await;
            let delay = after_poll(&ctx, &feed, &wake, outcome).await;
            if let Ok(d) = chrono::Duration::from_std(delay) {
                ctx.metrics.scheduled(feed.name.as_str(), Utc::now() + d);
            }
            Some(delay)
        }
    })
    .await
}

/// A feed's schedule: wait `first`, poll, wait as long as the poll says, poll again, until
/// shutdown. `poll` returns the delay until the next poll (`None`: stop). A poll in
/// progress at a stop may finish within the grace period; an abort drops it (its
/// transaction rolls back; the feed is polled again on the next start).
pub async fn poll_schedule<F, Fut>(first: Duration, shutdown: &Shutdown, mut poll: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<Duration>>,
{
    let mut delay = first;
    loop {
        tokio::select! {
            _ = shutdown.stopped() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = tokio::select! {
            next = poll() => match next {
                Some(d) => d,
                None => return,
            },
            _ = shutdown.aborted() => return,
        };
    }
}

/// What follows a poll: deliveries woken if it queued any, and the delay until the next
/// one (adaptive polling: the interval follows how often the feed publishes).
async fn after_poll(
    ctx: &PollContext,
    feed: &FeedSettings,
    wake: &watch::Sender<u64>,
    outcome: Result<PollOutcome, crate::store::StoreError>,
) -> Duration {
    let interval = match feed.adaptive {
        Some((min, max)) if matches!(outcome, Ok(ref o) if !matches!(o, PollOutcome::Failed { .. })) =>
        {
            let since = Utc::now() - chrono::Duration::hours(24);
            match ctx.store.items_seen_since(&feed.name, since).await {
                Ok(n) => adaptive_interval(n, min, max),
                Err(_) => feed.interval,
            }
        }
        _ => feed.interval,
    };
    match outcome {
        Ok(outcome) => {
            if matches!(&outcome, PollOutcome::Ingested { report, .. } if report.deliveries > 0) {
                wake.send_modify(|n| *n = n.wrapping_add(1));
            }
            next_delay(interval, &outcome, ctx.freshness_cap)
        }
        Err(e) => {
            error!(feed = %feed.name, error = %crate::net::error_chain(&e), "cannot record the poll in the store; retrying");
            feed.interval.min(Duration::from_secs(60))
        }
    }
}

/// Sends held alerts whose corroboration wait is over, forgets old stories, and prunes what
/// retention no longer keeps (a step a minute).
async fn housekeeping_loop(
    store: Store,
    stories: Arc<crate::config::StorySettings>,
    retention: crate::store::Retention,
    wake: Arc<watch::Sender<u64>>,
    shutdown: Shutdown,
) {
    let every = (stories.max_wait / 4).clamp(Duration::from_millis(500), Duration::from_secs(30));
    let mut pruned_at = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = shutdown.stopped() => return,
            _ = tokio::time::sleep(every) => {}
        }
        if pruned_at.elapsed() >= Duration::from_secs(60) {
            pruned_at = tokio::time::Instant::now();
            match store.prune(&retention, Utc::now()).await {
                Ok(p) if p.any() => info!(
                    ?p,
                    "pruned what store.keep_seen and store.keep_alerts no longer keep"
                ),
                Ok(_) => {}
                Err(e) => {
                    error!(error = %crate::net::error_chain(&e), "pruning the store failed; retrying")
                }
            }
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
                error!(error = %crate::net::error_chain(&e), "story housekeeping failed; retrying")
            }
        }
    }
}

/// The adaptive interval of a feed that published `items_last_day` items in the last 24
/// hours: half the mean gap between them (so a new item waits, on average, a quarter of it),
/// within `[min, max]`. A quiet feed drifts to `max`, a busy one to `min`.
pub fn adaptive_interval(items_last_day: u64, min: Duration, max: Duration) -> Duration {
    let day = Duration::from_secs(24 * 3600);
    match items_last_day {
        0 => max,
        n => (day / u32::try_from(n).unwrap_or(u32::MAX) / 2).clamp(min, max),
    }
}

/// A random delay before a feed's first poll: up to a tenth of its interval, at most 5 s.
fn first_delay(interval: Duration) -> Duration {
    let span = (interval / 10).min(Duration::from_secs(5));
    span.mul_f64(rand::random::<f64>())
}

/// When to poll again: after a good poll, the interval less up to 10 % (jitter that spreads a
/// thousand feeds over time but never polls later than configured, so a feed's interval is
/// the promise on detection latency), stretched to the
/// server's own freshness hint (Cache-Control max-age, RSS `<ttl>`) when that is longer, but
/// never past `freshness_cap` (a slow hint must not delay an alert for long); after failures,
/// the interval doubled per failure in a row (capped at the larger of the interval and one
/// hour), or the server's Retry-After if longer (capped at a day).
/// The wait after `failures` failures in a row: the interval doubled per failure after the
/// first, capped at the larger of the interval and an hour (before jitter).
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    let cap = interval.max(Duration::from_secs(3600));
    interval
        .saturating_mul(1u32 << failures.saturating_sub(1).min(16))
        .min(cap)
}

pub fn next_delay(interval: Duration, outcome: &PollOutcome, freshness_cap: Duration) -> Duration {
    let jitter = |d: Duration| d.mul_f64(0.9 + rand::random::<f64>() * 0.2);
    let early = |d: Duration| d.mul_f64(0.9 + rand::random::<f64>() * 0.1);
    let hint = match outcome {
        PollOutcome::Failed {
            failures,
            retry_after,
            ..
        } => {
            let backoff = backoff(interval, *failures);
            let asked = retry_after
                .unwrap_or_default()
                .min(Duration::from_secs(24 * 3600));
            return jitter(backoff).max(asked);
        }
        PollOutcome::NotModified { fresh_for }
        | PollOutcome::Unchanged { fresh_for }
        | PollOutcome::Ingested { fresh_for, .. } => *fresh_for,
    };
    let base = match hint {
        Some(h) if h > interval => h.min(freshness_cap.max(interval)),
        _ => interval,
    };
    early(base)
}

fn notify_systemd(states: &[sd_notify::NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(states) {
        warn!(error = %e, "cannot notify systemd");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(failures: u32, retry_after: Option<Duration>) -> PollOutcome {
        PollOutcome::Failed {
            kind: "http",
            error: "503".into(),
            failures,
            retry_after,
        }
    }

    /// Runs a feed's schedule on a paused clock over scripted poll outcomes, through the
    /// real `next_delay`; returns when each poll happened, from the start.
    async fn schedule(interval: Duration, script: Vec<PollOutcome>) -> Vec<Duration> {
        let start = tokio::time::Instant::now();
        let mut script = script.into_iter();
        let mut at = Vec::new();
        poll_schedule(Duration::from_secs(1), &Shutdown::new(), || {
            at.push(start.elapsed());
            let next = script
                .next()
                .map(|o| next_delay(interval, &o, Duration::from_secs(3600)));
            async move { next }
        })
        .await;
        at
    }

    fn within(d: Duration, expected: Duration, low: f64, high: f64) -> bool {
        d >= expected.mul_f64(low) && d <= expected.mul_f64(high)
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_feed_backs_off_doubling_honours_retry_after_and_recovers() {
        let interval = Duration::from_secs(300);
        let at = schedule(
            interval,
            vec![
                failed(1, None),
                failed(2, None),
                failed(3, None),
                // The server asks for three hours: more than the backoff's 40 minutes.
                failed(4, Some(Duration::from_secs(3 * 3600))),
                failed(5, Some(Duration::from_secs(99_999_999))),
                PollOutcome::Ingested {
                    report: Default::default(),
                    fresh_for: None,
                },
            ],
        )
        .await;
        assert_eq!(at.len(), 7, "{at:?}");
        assert_eq!(
            at[0],
            Duration::from_secs(1),
            "the first poll after the spread"
        );
        let gaps: Vec<Duration> = at.windows(2).map(|w| w[1] - w[0]).collect();
        // Doubling per failure in a row, jittered by ±10 %.
        assert!(within(gaps[0], interval, 0.9, 1.1), "{gaps:?}");
        assert!(within(gaps[1], interval * 2, 0.9, 1.1), "{gaps:?}");
        assert!(within(gaps[2], interval * 4, 0.9, 1.1), "{gaps:?}");
        assert_eq!(
            gaps[3],
            Duration::from_secs(3 * 3600),
            "Retry-After honoured"
        );
        assert_eq!(
            gaps[4],
            Duration::from_secs(24 * 3600),
            "an absurd one capped at a day"
        );
        // Back to the interval (a little early, never late) after a success.
        assert!(within(gaps[5], interval, 0.9, 1.0), "{gaps:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_ends_a_wait_at_once_and_abort_drops_a_poll_in_progress() {
        let start = tokio::time::Instant::now();
        let shutdown = Shutdown::new();
        let stopper = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(10)).await;
            stopper.stop();
        });
        let mut polls = 0;
        poll_schedule(Duration::from_secs(3600), &shutdown, || {
            polls += 1;
            async { Some(Duration::from_secs(1)) }
        })
        .await;
        assert_eq!(polls, 0, "no poll after shutdown");
        assert_eq!(start.elapsed(), Duration::from_secs(10));

        // A poll that never ends is dropped when the grace period is over.
        let shutdown = Shutdown::new();
        let aborter = shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(70)).await;
            aborter.abort();
        });
        let start = tokio::time::Instant::now();
        poll_schedule(Duration::from_secs(1), &shutdown, || {
            std::future::pending::<Option<Duration>>()
        })
        .await;
        assert_eq!(start.elapsed(), Duration::from_secs(70));
    }

    #[test]
    fn adaptive_intervals_follow_the_publishing_rate_within_bounds() {
        let (min, max) = (Duration::from_secs(60), Duration::from_secs(3600));
        assert_eq!(adaptive_interval(0, min, max), max);
        assert_eq!(adaptive_interval(2, min, max), max);
        // 48 items a day: one every 30 min; polled every 15.
        assert_eq!(adaptive_interval(48, min, max), Duration::from_secs(900));
        assert_eq!(adaptive_interval(100_000, min, max), min);
    }

    #[test]
    fn the_watchdog_is_fed_only_while_polls_keep_finishing() {
        let started = Utc::now();
        let limit = Duration::from_secs(600);
        let at = |mins| started + chrono::Duration::minutes(mins);
        // Just started, nothing polled yet: fine until the limit.
        assert!(poll_loop_progressing(None, started, at(5), limit, 3));
        assert!(!poll_loop_progressing(None, started, at(11), limit, 3));
        // Polls finishing: fed; a loop stuck since minute 20: not fed past minute 30.
        assert!(poll_loop_progressing(
            Some(at(20)),
            started,
            at(29),
            limit,
            3
        ));
        assert!(!poll_loop_progressing(
            Some(at(20)),
            started,
            at(31),
            limit,
            3
        ));
        // No feeds: nothing to make progress on.
        assert!(poll_loop_progressing(None, started, at(60), limit, 0));
    }

    #[test]
    fn failures_back_off_and_honour_retry_after() {
        let i = Duration::from_secs(300);
        let cap = Duration::from_secs(900);
        // Jitter only ever polls early: the interval bounds detection latency.
        for _ in 0..200 {
            let ok = next_delay(i, &PollOutcome::NotModified { fresh_for: None }, cap);
            assert!(ok >= Duration::from_secs(270) && ok <= i, "{ok:?}");
        }
        let failed = |failures, retry_after| PollOutcome::Failed {
            kind: "status",
            error: String::new(),
            failures,
            retry_after,
        };
        let d3 = next_delay(i, &failed(3, None), cap);
        assert!(
            d3 >= Duration::from_secs(1080) && d3 <= Duration::from_secs(1320),
            "{d3:?}"
        );
        let d20 = next_delay(i, &failed(20, None), cap);
        assert!(d20 <= Duration::from_secs(3960), "{d20:?}");
        let asked = next_delay(i, &failed(1, Some(Duration::from_secs(7200))), cap);
        assert_eq!(asked, Duration::from_secs(7200));
        // A server's freshness hint stretches the interval, up to the cap; a shorter hint
        // does not make us poll sooner.
        let fresh = |s| PollOutcome::Unchanged {
            fresh_for: Some(Duration::from_secs(s)),
        };
        let d = next_delay(i, &fresh(600), cap);
        assert!(
            d >= Duration::from_secs(540) && d <= Duration::from_secs(660),
            "{d:?}"
        );
        let d = next_delay(i, &fresh(86_400), cap);
        assert!(d <= Duration::from_secs(990), "{d:?}");
        let d = next_delay(i, &fresh(60), cap);
        assert!(d >= Duration::from_secs(270), "{d:?}");
    }
}
