//! Telling people: the outbox worker and one notifier per channel. The only module that knows
//! lettre or the webhook JSON.
//!
//! The promise is at-least-once with a stable idempotency key per delivery: a row is claimed
//! (`sending`), sent, then marked `delivered`. A crash between the send and the mark sends it
//! again after restart, with the same `Idempotency-Key` header / Message-ID, so receivers can
//! drop the repeat. Nothing confirmed is sent again, and nothing is sent that is not first a
//! row.

mod email;
mod log;
mod webhook;

use std::collections::{BTreeMap, BTreeSet};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use crate::shutdown::Shutdown;
use chrono::{DateTime, Utc};
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use tokio::sync::watch;
use tracing::{error, info, instrument, warn};

use crate::config::{DeliverySettings, Settings};
use crate::domain::{AlertOn, Channel, Delivery, Lane, Route, SignalKind, time};
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
pub use email::EmailNotifier;
pub use log::LogNotifier;
pub use webhook::WebhookNotifier;

/// Why a send failed, as the retry logic needs it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SendError {
    /// Worth retrying: the server was down, busy, slow, or said "try later".
    #[error("{message}")]
    Transient {
        message: String,
        /// The receiver asked to wait at least this long (HTTP `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// Will never work as it is: a rejected recipient, a 4xx webhook answer, a bad address.
    #[error("{0}")]
    Permanent(String),
}

impl SendError {
    pub fn transient(message: impl Into<String>) -> Self {
        SendError::Transient {
            message: message.into(),
            retry_after: None,
        }
    }
}

/// A channel that can deliver one outbox row.
pub trait Notifier {
    fn send(&self, delivery: &Delivery) -> impl Future<Output = Result<(), SendError>> + Send;
}

/// The configured notifiers, one per channel.
#[derive(Debug)]
pub struct Notifiers {
    pub email: Option<EmailNotifier>,
    pub webhook: WebhookNotifier,
    pub log: LogNotifier,
}

impl Notifiers {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Notifiers> {
        Ok(Notifiers {
            email: settings
                .smtp
                .as_ref()
                .map(|s| {
                    EmailNotifier::new(s, &settings.subscribers, settings.delivery.concurrency)
                })
                .transpose()?,
            webhook: WebhookNotifier::new(&settings.webhooks, &settings.fetch.user_agent)?,
            log: LogNotifier,
        })
    }

    /// When a delivery should go out instead of now: the end of its subscriber's quiet
    /// hours, if `now` is within them and the alert changes no status (a status change is
    /// urgent and never waits). `None`: now.
    pub fn quiet_until(&self, d: &Delivery, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if d.channel != Channel::Email || d.is_test() {
            return None;
        }
        let urgent = d.alert.status_change().is_some() && !d.follow_up;
        if urgent {
            return None;
        }
        self.email.as_ref()?.quiet(&d.target)?.ends_after(now)
    }

    /// When a delivery goes out if its subscriber takes a daily digest: the first digest hour
    /// at or after the row was made. `None`: not a digest subscriber's mail.
    pub fn digest_slot(&self, d: &Delivery) -> Option<DateTime<Utc>> {
        if d.channel != Channel::Email || d.is_test() {
            return None;
        }
        Some(
            self.email
                .as_ref()?
                .digest(&d.target)?
                .slot_for(d.queued_at),
        )
    }

    /// Sends several deliveries to one subscriber as one digest mail, or, with no `[smtp]`
    /// section any more, fails them all for good.
    pub async fn send_digest(&self, ds: &[Delivery]) -> Result<(), SendError> {
        match &self.email {
            Some(e) => e.send_digest(ds).await,
            None => Err(SendError::Permanent(
                "no [smtp] section is configured any more".into(),
            )),
        }
    }

    pub async fn send(&self, delivery: &Delivery) -> Result<(), SendError> {
        match delivery.channel {
            Channel::Email => match &self.email {
                Some(e) => e.send(delivery).await,
                None => Err(SendError::Permanent(
                    "no [smtp] section is configured any more".into(),
                )),
            },
            Channel::Webhook => self.webhook.send(delivery).await,
            Channel::Log => self.log.send(delivery).await,
        }
    }
}

/// The outcome of a test alert on one route.
#[derive(Debug)]
pub struct TestResult {
    pub route: Route,
    pub result: Result<(), SendError>,
}

/// Sends a clearly marked test alert (`[TEST]` in the title, `"test": true` in JSON) once
/// through every route, or the one named `only`, straight away and outside the outbox.
pub async fn test_alert(
    settings: &Settings,
    only: Option<&str>,
) -> anyhow::Result<Vec<TestResult>> {
    use crate::domain::{Alert, Evidence, FeedName, Field, ItemKey, Signal, SignalKind};
    let notifiers = Notifiers::from_settings(settings)?;
    let now = Utc::now();
    let routes: Vec<Route> = routes(settings)
        .into_iter()
        .filter(|r| only.is_none_or(|n| r.target == n))
        .collect();
    if let Some(n) = only
        && routes.is_empty()
    {
        anyhow::bail!("no subscriber or webhook is named {n:?}");
    }
    let feed = FeedName::parse("test-alert").map_err(anyhow::Error::msg)?;
    let title =
        "[TEST] ceasefire-watch test alert: no ceasefire news, only a check of this channel";
    let alert = Alert {
        id: 0,
        item_key: ItemKey::compute(&feed, Some(&now.to_rfc3339()), None, title, ""),
        signal: Signal {
            kind: SignalKind::RussiaRejects,
            score: 1.0,
            evidence: Evidence {
                rule: "test-alert".into(),
                words: Vec::new(),
                sentence: title.into(),
                field: Field::Title,
                object: None,
            },
        },
        feed,
        title: title.into(),
        summary: "Sent by `ceasefire-watch test-alert` to verify delivery. Ignore it.".into(),
        link: None,
        published: Some(now),
        created_at: now,
        story: None,
        status: None,
    };
    let mut out = Vec::new();
    for route in routes {
        let d = Delivery {
            id: 0,
            alert: alert.clone(),
            channel: route.channel,
            target: route.target.clone(),
            address: route.address.clone(),
            idempotency_key: format!("test-{}-{}", now.timestamp_millis(), route.target),
            attempts: 0,
            queued_at: now,
            sources: 1,
            feeds: Vec::new(),
            object: None,
            unconfirmed: false,
            follow_up: false,
            thread: None,
        };
        let result = notifiers.send(&d).await;
        out.push(TestResult { route, result });
    }
    Ok(out)
}

/// Who gets what: one route per subscriber and webhook; with neither, the log.
pub fn routes(settings: &Settings) -> Vec<Route> {
    let mut routes: Vec<Route> = settings
        .subscribers
        .iter()
        .map(|s| Route {
            channel: Channel::Email,
            target: s.name.clone(),
            address: s.email.to_string(),
            signals: s.signals.clone(),
            min_score: s.min_score,
            alert_on: s.alert_on,
            min_sources: s.min_sources,
        })
        .chain(settings.webhooks.iter().map(|w| Route {
            channel: Channel::Webhook,
            target: w.name.clone(),
            // Where it goes, never the URL itself (stored, listed, logged).
            address: crate::domain::redact::webhook(&w.url),
            signals: w.signals.clone(),
            min_score: w.min_score,
            alert_on: w.alert_on,
            min_sources: w.min_sources,
        }))
        .collect();
    if routes.is_empty() {
        routes.push(Route {
            channel: Channel::Log,
            target: "log".into(),
            address: "stdout".into(),
            signals: SignalKind::ALL.into_iter().collect::<BTreeSet<_>>(),
            min_score: 0.0,
            alert_on: AlertOn::Story,
            min_sources: 1,
        });
    }
    routes
}

/// What one delivery round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundReport {
    pub attempted: usize,
    pub delivered: usize,
    pub retried: usize,
    pub dead: usize,
    /// Sends cut short by shutdown and put back to pending.
    pub returned: usize,
}

impl RoundReport {
    fn add(&mut self, other: RoundReport) {
        self.attempted += other.attempted;
        self.delivered += other.delivered;
        self.retried += other.retried;
        self.dead += other.dead;
        self.returned += other.returned;
    }
}

/// The lanes the configured routes use.
pub fn lanes(routes: &[Route]) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = routes
        .iter()
        .map(|r| Lane::of(r.channel, &r.target))
        .collect();
    lanes.sort();
    lanes.dedup();
    lanes
}

/// How a lane worker runs.
pub enum LaneMode {
    /// Send what is due at this instant, then return (`run --once`).
    Drain { now: DateTime<Utc> },
    /// Run until stopped: woken by `wake` when polling makes rows, and by the clock when a
    /// retry comes due. Once stopped nothing new is claimed and in-flight sends may finish;
    /// an abort cuts them short, and their rows go back to pending, unattempted.
    Daemon {
        wake: watch::Receiver<u64>,
        shutdown: Shutdown,
    },
}

/// Sends every due row of the lanes that have any, each lane with its own concurrency, and
/// returns when nothing more is due at `now`. `run --once` calls this.
pub async fn deliver_once(
    store: &Store,
    notifiers: &Notifiers,
    settings: &DeliverySettings,
    metrics: &Metrics,
    now: DateTime<Utc>,
) -> Result<RoundReport, StoreError> {
    let lanes = store.pending_lanes().await?;
    let reports = futures_util::future::join_all(lanes.into_iter().map(|lane| {
        run_lane(
            store,
            notifiers,
            settings,
            metrics,
            lane,
            LaneMode::Drain { now },
        )
    }))
    .await;
    let mut total = RoundReport::default();
    for r in reports {
        total.add(r?);
    }
    Ok(total)
}

/// One lane's worker: keeps up to `delivery.concurrency` sends in flight, claiming a row as
/// soon as a slot is free, and records each outcome as soon as it is known (a crash between
/// a confirmation and its record would send that row again). In daemon mode store errors are
/// logged and retried; in drain mode they are returned.
///
/// One select loop whose state (the sends in flight, the next claim, the shutdown) every
/// arm touches.
#[instrument(skip_all, fields(lane = %lane))]
pub async fn run_lane(
    store: &Store,
    notifiers: &Notifiers,
    settings: &DeliverySettings,
    metrics: &Metrics,
    lane: Lane,
    mut mode: LaneMode,
) -> Result<RoundReport, StoreError> {
    let mut report = RoundReport::default();
    let mut inflight = FuturesUnordered::new();
    let mut stopping = false;
    let never = Shutdown::new();
    loop {
        let free = settings.concurrency.saturating_sub(inflight.len());
        if !stopping && free > 0 {
            let now = match &mode {
                LaneMode::Drain { now } => *now,
                LaneMode::Daemon { .. } => Utc::now(),
            };
            match store.claim_due(&lane, now, free as u32).await {
                Ok(batch) => {
                    let shutdown = match &mode {
                        LaneMode::Daemon { shutdown, .. } => shutdown.clone(),
                        LaneMode::Drain { .. } => never.clone(),
                    };
                    for send in plan(store, notifiers, batch, now).await {
                        let shutdown = shutdown.clone();
                        inflight.push(async move {
                            // A panic in a channel is this delivery's failure, retried
                            // later; it never takes the lane's worker down with it.
                            let sending = async {
                                if send.digest {
                                    notifiers.send_digest(&send.deliveries).await
                                } else {
                                    notifiers.send(&send.deliveries[0]).await
                                }
                            };
                            let result = tokio::select! {
                                r = AssertUnwindSafe(sending).catch_unwind() => Some(r.unwrap_or_else(|panic| {
                                    Err(SendError::transient(format!(
                                        "internal error while sending: {}",
                                        crate::supervise::panic_message(panic)
                                    )))
                                })),
                                _ = shutdown.aborted() => None,
                            };
                            (send.deliveries, result)
                        });
                    }
                }
                Err(e) if matches!(mode, LaneMode::Drain { .. }) => return Err(e),
                Err(e) => {
                    error!(error = %crate::net::error_chain(&e), "cannot claim deliveries; retrying in 5 s");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
        let LaneMode::Daemon { wake, shutdown } = &mut mode else {
            // Drain: wait for the sends, claim again while rows are due, then stop.
            match inflight.next().await {
                Some((ds, result)) => {
                    for d in &ds {
                        record_guarded(store, settings, metrics, d, result.clone(), &mut report)
                            .await?
                    }
                }
                None => return Ok(report),
            }
            continue;
        };
        if stopping && inflight.is_empty() {
            return Ok(report);
        }
        let full = inflight.len() >= settings.concurrency;
        let wait = if stopping || full {
            Duration::MAX
        } else {
            match store.next_due(Some(&lane)).await {
                Ok(Some(due)) => (due - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .clamp(Duration::from_millis(50), Duration::from_secs(60)),
                Ok(None) => Duration::from_secs(60),
                Err(e) => {
                    error!(error = %crate::net::error_chain(&e), "cannot read the outbox; retrying in 5 s");
                    Duration::from_secs(5)
                }
            }
        };
        tokio::select! {
            Some((ds, result)) = inflight.next(), if !inflight.is_empty() => {
                for d in &ds {
                    if let Err(e) = record_guarded(store, settings, metrics, d, result.clone(), &mut report).await {
                        error!(delivery = d.id, error = %crate::net::error_chain(&e), "cannot record the outcome; the row is sent again after a restart");
                    }
                }
            }
            _ = shutdown.stopped(), if !stopping => {
                stopping = true;
                if !inflight.is_empty() {
                    info!(in_flight = inflight.len(), "finishing the sends in flight");
                }
            }
            r = wake.changed(), if !stopping && !full => {
                if r.is_err() {
                    // Nobody polls any more: shutting down.
                    stopping = true;
                }
            }
            _ = tokio::time::sleep(wait), if wait != Duration::MAX => {}
        }
    }
}

/// One send: a single delivery, or a subscriber's digest of several.
struct Outgoing {
    deliveries: Vec<Delivery>,
    digest: bool,
}

/// The most alerts one digest mail carries; more go out in a second mail straight after.
const DIGEST_MAX: u32 = 100;

/// Turns claimed rows into sends. A row held for quiet hours or for a digest hour still to
/// come goes back to pending, due then. A digest subscriber's rows that are due go out
/// together, with every other due row of theirs claimed to join them: one mail each.
async fn plan(
    store: &Store,
    notifiers: &Notifiers,
    batch: Vec<Delivery>,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    let mut sends = Vec::new();
    let mut digests: BTreeMap<String, Vec<Delivery>> = BTreeMap::new();
    for d in batch {
        let (until, why) = match notifiers.digest_slot(&d) {
            Some(slot) if slot > now => (Some(slot), "held for the subscriber's daily digest"),
            Some(_) => {
                digests.entry(d.target.clone()).or_default().push(d);
                continue;
            }
            None => (
                notifiers.quiet_until(&d, now),
                "held for the subscriber's quiet hours",
            ),
        };
        if let Some(until) = until {
            match store.postpone(d.id, until, Utc::now()).await {
                Ok(()) => {
                    info!(delivery = d.id, target = %d.target, until = %until.to_rfc3339(), "{why}");
                    continue;
                }
                Err(e) => {
                    warn!(delivery = d.id, error = %crate::net::error_chain(&e), "cannot hold the delivery; sending now");
                }
            }
        }
        sends.push(Outgoing {
            deliveries: vec![d],
            digest: false,
        });
    }
    for (target, mut ds) in digests {
        let lane = Lane {
            channel: Channel::Email,
            target: Some(target),
        };
        let room = DIGEST_MAX.saturating_sub(ds.len() as u32);
        match store.claim_due(&lane, now, room).await {
            Ok(more) => {
                for d in more {
                    match notifiers.digest_slot(&d) {
                        Some(slot) if slot > now => {
                            if let Err(e) = store.postpone(d.id, slot, Utc::now()).await {
                                warn!(delivery = d.id, error = %crate::net::error_chain(&e), "cannot hold the delivery; sending it in this digest");
                                ds.push(d);
                            }
                        }
                        _ => ds.push(d),
                    }
                }
            }
            Err(e) => {
                warn!(lane = %lane, error = %crate::net::error_chain(&e), "cannot gather the rest of the digest; sending what is claimed");
            }
        }
        ds.sort_by_key(|d| d.id);
        info!(target = %lane, alerts = ds.len(), "daily digest");
        sends.push(Outgoing {
            deliveries: ds,
            digest: true,
        });
    }
    sends
}

/// [`record`], with a panic in it contained: the row is put back to be retried after
/// `retry_max` (a row left `sending` would never be sent).
async fn record_guarded(
    store: &Store,
    settings: &DeliverySettings,
    metrics: &Metrics,
    d: &Delivery,
    result: Option<Result<(), SendError>>,
    report: &mut RoundReport,
) -> Result<(), StoreError> {
    let recorded = AssertUnwindSafe(record(store, settings, metrics, d, result, report))
        .catch_unwind()
        .await;
    match recorded {
        Ok(r) => r,
        Err(panic) => {
            let message = format!(
                "internal error recording the outcome: {}",
                crate::supervise::panic_message(panic)
            );
            error!(delivery = d.id, channel = %d.channel, target = %d.target, error = %message, "delivery will be retried");
            let now = Utc::now();
            store
                .mark_retry(d.id, &message, time::later(now, settings.retry_max), now)
                .await
        }
    }
}

/// Records one send's outcome: delivered, retry later (with backoff, or the receiver's
/// Retry-After), dead, or — cut short by shutdown — back to pending as it was.
async fn record(
    store: &Store,
    settings: &DeliverySettings,
    metrics: &Metrics,
    d: &Delivery,
    result: Option<Result<(), SendError>>,
    report: &mut RoundReport,
) -> Result<(), StoreError> {
    let at = Utc::now();
    let Some(result) = result else {
        store.unclaim(d.id, at).await?;
        report.returned += 1;
        warn!(delivery = d.id, channel = %d.channel, target = %d.target, "send cut short by shutdown; back to pending, to be sent with the same key");
        return Ok(());
    };
    report.attempted += 1;
    match result {
        Ok(()) => {
            store.mark_delivered(d.id, at).await?;
            metrics.delivery(d.channel.as_str(), "delivered");
            report.delivered += 1;
            info!(delivery = d.id, channel = %d.channel, target = %d.target, signal = %d.alert.signal.kind, "delivered");
        }
        Err(SendError::Permanent(message)) => {
            store.mark_dead(d.id, &message, at).await?;
            metrics.delivery(d.channel.as_str(), "dead");
            report.dead += 1;
            warn!(delivery = d.id, channel = %d.channel, target = %d.target, error = %message, "delivery rejected for good; marked dead");
        }
        Err(SendError::Transient {
            message,
            retry_after,
        }) => {
            // A receiver's Retry-After is honoured up to retry_max: the operator's bound on
            // a wait, whatever a server asks for.
            let asked = retry_after.unwrap_or_default().min(settings.retry_max);
            let delay = backoff(settings, d.attempts + 1).max(asked);
            let next = time::later(at, delay);
            let age = time::between(d.alert.created_at, next);
            if age > settings.give_up_after {
                let reason = format!(
                    "gave up after {} attempts over {}: {message}",
                    d.attempts + 1,
                    humantime::format_duration(Duration::from_secs(
                        time::between(d.alert.created_at, at).as_secs()
                    ))
                );
                store.mark_dead(d.id, &reason, at).await?;
                metrics.delivery(d.channel.as_str(), "dead");
                report.dead += 1;
                warn!(delivery = d.id, channel = %d.channel, target = %d.target, error = %reason, "delivery marked dead");
            } else {
                store.mark_retry(d.id, &message, next, at).await?;
                metrics.delivery(d.channel.as_str(), "retry");
                report.retried += 1;
                warn!(delivery = d.id, channel = %d.channel, target = %d.target, error = %message, retry_in = %humantime::format_duration(delay), "delivery failed; will retry");
            }
        }
    }
    Ok(())
}

/// The delay before attempt `attempt + 1`: `retry_initial` doubled per failed attempt, capped
/// at `retry_max`, with jitter in [½, 1] of it so a burst of failures does not retry in step.
pub fn backoff(settings: &DeliverySettings, failed_attempts: u32) -> Duration {
    let exp = failed_attempts.saturating_sub(1).min(30);
    let base = settings
        .retry_initial
        .saturating_mul(1u32 << exp)
        .min(settings.retry_max);
    let jitter = 0.5 + rand::random::<f64>() * 0.5;
    base.mul_f64(jitter)
}

/// The subject line of an alert, shared by email, chat and the log: the status change when
/// there is one ("Russia: conditional → rejects — <title>"), else the signal's headline
/// ("Russia rejects a ceasefire: <title>").
pub(crate) fn headline(d: &Delivery) -> String {
    let a = &d.alert;
    if d.is_test() {
        // "[TEST] ..." first, never a signal's headline: it must not read as news.
        return a.title.clone();
    }
    let mark = if d.unconfirmed { "[unconfirmed] " } else { "" };
    match a.status_change() {
        Some(change) => format!("{mark}{change} — {}", a.title),
        None => format!("{mark}{}: {}", a.signal.kind.headline(), a.title),
    }
}

/// What the story behind a delivery says: its status effect, its sources, whether it is
/// unconfirmed or a confirmation. One line each, plain text.
pub(crate) fn story_lines(d: &Delivery) -> Vec<String> {
    let a = &d.alert;
    let mut lines = Vec::new();
    if d.follow_up {
        let outlets = if d.feeds.len() > 1 {
            format!(
                " ({} after {})",
                one_line(&d.feeds[1..].join(", "), 300),
                d.feeds[0]
            )
        } else {
            String::new()
        };
        lines.push(format!(
            "Confirmed: this story is now carried by {} sources{outlets}.",
            d.sources
        ));
    } else if d.unconfirmed {
        lines.push(format!(
            "Unconfirmed: carried by {} source{} so far; sent after waiting for more.",
            d.sources,
            if d.sources == 1 { "" } else { "s" }
        ));
    }
    if let Some(st) = &a.status {
        if st.changed() {
            lines.push(format!("Status change: {}", st.line()));
        } else {
            lines.push(format!("Status: {}", st.line()));
        }
    }
    if let Some(object) = &d.object {
        lines.push(format!("About: {} ({object})", object.describe()));
    }
    if a.story.is_some() && !d.follow_up {
        let feeds = if d.feeds.is_empty() {
            String::new()
        } else {
            format!(" ({})", one_line(&d.feeds.join(", "), 300))
        };
        lines.push(format!(
            "Carried by {} source{}{feeds}",
            d.sources,
            if d.sources == 1 { "" } else { "s" }
        ));
    }
    lines
}

/// Removes line breaks, control characters and bidirectional controls (which can make a
/// subject read backwards: "U+202E…"), for headers and one-line fields.
pub(crate) fn one_line(s: &str, max_chars: usize) -> String {
    let folded: String = s
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match folded.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &folded[..i]),
        None => folded,
    }
}

/// Unicode's bidirectional formatting characters: embeddings, overrides, isolates and marks.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

pub(crate) use crate::domain::web_link as safe_link;

pub type SharedNotifiers = Arc<Notifiers>;

/// A delivery of a rejection story to the email subscriber "ops", for channel tests.
#[cfg(test)]
pub(crate) fn test_delivery(title: &str, summary: &str, link: Option<&str>) -> Delivery {
    use crate::domain::{Alert, Evidence, FeedName, Field, ItemKey, Signal};
    let feed = FeedName::parse("f").unwrap();
    Delivery {
        id: 1,
        alert: Alert {
            id: 1,
            item_key: ItemKey::compute(&feed, Some("g"), None, "", ""),
            signal: Signal {
                kind: SignalKind::RussiaRejects,
                score: 0.95,
                evidence: Evidence {
                    rule: "russia_rejects".into(),
                    words: vec!["Kremlin".into(), "<rejects>".into()],
                    sentence: title.into(),
                    field: Field::Title,
                    object: None,
                },
            },
            feed,
            title: title.into(),
            summary: summary.into(),
            link: link.map(str::to_owned),
            published: None,
            created_at: Utc::now(),
            story: None,
            status: None,
        },
        channel: Channel::Email,
        target: "ops".into(),
        address: "ops@example.org".into(),
        idempotency_key: "abc123".into(),
        attempts: 0,
        queued_at: Utc::now(),
        sources: 1,
        feeds: Vec::new(),
        object: None,
        unconfirmed: false,
        follow_up: false,
        thread: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let s = DeliverySettings {
            retry_initial: Duration::from_secs(10),
            retry_max: Duration::from_secs(60),
            give_up_after: Duration::from_secs(3600),
            concurrency: 4,
        };
        for _ in 0..50 {
            let b1 = backoff(&s, 1);
            assert!(
                b1 >= Duration::from_secs(5) && b1 <= Duration::from_secs(10),
                "{b1:?}"
            );
            let b3 = backoff(&s, 3);
            assert!(
                b3 >= Duration::from_secs(20) && b3 <= Duration::from_secs(40),
                "{b3:?}"
            );
            let b9 = backoff(&s, 9);
            assert!(
                b9 >= Duration::from_secs(30) && b9 <= Duration::from_secs(60),
                "{b9:?}"
            );
        }
    }

    #[test]
    fn one_line_strips_breaks() {
        assert_eq!(one_line("a\r\nBcc: x@y\tz", 100), "a Bcc: x@y z");
        assert_eq!(
            one_line("Kremlin \u{202E}seceR\u{202C} truce \u{2066}x\u{2069}", 100),
            "Kremlin seceR truce x"
        );
        assert_eq!(one_line("abcdef", 3), "abc…");
    }

    #[test]
    fn only_web_links_are_safe() {
        assert_eq!(
            safe_link(Some("https://example.org/a")),
            Some("https://example.org/a")
        );
        assert_eq!(safe_link(Some("javascript:alert(1)")), None);
        assert_eq!(safe_link(Some("data:text/html,x")), None);
        assert_eq!(safe_link(None), None);
    }
}
