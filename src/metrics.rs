//! Counters and gauges for `/metrics` (Prometheus text format 0.0.4), and the liveness facts
//! `/healthz` and the systemd watchdog judge by. Plain atomics and small maps: a few updates
//! per poll, read on a scrape.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::SignalKind;

/// Upper bounds of the fetch duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What one feed's polls looked like.
#[derive(Debug, Default, Clone)]
pub struct FeedHealth {
    pub last_success: Option<DateTime<Utc>>,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    /// When the current run of failures began.
    pub failing_since: Option<DateTime<Utc>>,
    /// When a failure of this run was last logged.
    pub reported_at: Option<DateTime<Utc>>,
    /// The WebSub hub the feed advertised, once logged.
    pub hub: Option<String>,
    /// When its next poll is due.
    pub next_poll: Option<DateTime<Utc>>,
}

/// The daemon's counters, shared by every task.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (feed, result) → polls.
    polls: Mutex<BTreeMap<(String, String), u64>>,
    fetch: Mutex<Histogram>,
    items_new: AtomicU64,
    /// Signals found in new items, by [`SignalKind::index`].
    signals: [AtomicU64; 7],
    /// (channel, result) → delivery attempts.
    deliveries: Mutex<BTreeMap<(String, String), u64>>,
    feeds: Mutex<BTreeMap<String, FeedHealth>>,
    /// Unix ms of the last time a poll finished, whatever its result.
    last_poll_ms: AtomicI64,
    /// Configs applied by SIGHUP.
    reloads: AtomicU64,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// One poll of `feed` ended with `result` (`ok`, `not_modified`, `unchanged`, or an error
    /// kind) after `took`.
    pub fn poll(&self, feed: &str, result: &str, took: Duration, error: Option<&str>) {
        *self
            .polls
            .lock()
            .unwrap()
            .entry((feed.to_owned(), result.to_owned()))
            .or_default() += 1;
        {
            let mut h = self.fetch.lock().unwrap();
            let secs = took.as_secs_f64();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
        let now = Utc::now();
        {
            let mut feeds = self.feeds.lock().unwrap();
            let f = feeds.entry(feed.to_owned()).or_default();
            match error {
                None => {
                    f.last_success = Some(now);
                    f.consecutive_failures = 0;
                    f.last_error = None;
                    f.failing_since = None;
                    f.reported_at = None;
                }
                Some(e) => {
                    f.consecutive_failures += 1;
                    f.last_error = Some(e.to_owned());
                    f.failing_since.get_or_insert(now);
                }
            }
        }
        self.last_poll_ms
            .store(now.timestamp_millis(), Ordering::Relaxed);
    }

    /// `n` new items, carrying `signals[k.index()]` signals of each kind `k`.
    pub fn new_items(&self, n: usize, signals: &[u32; 7]) {
        self.items_new.fetch_add(n as u64, Ordering::Relaxed);
        for (counter, found) in self.signals.iter().zip(signals) {
            counter.fetch_add(u64::from(*found), Ordering::Relaxed);
        }
    }

    /// A delivery attempt on `channel` ended as `result` (`delivered`, `retry`, `dead`).
    pub fn delivery(&self, channel: &str, result: &str) {
        *self
            .deliveries
            .lock()
            .unwrap()
            .entry((channel.to_owned(), result.to_owned()))
            .or_default() += 1;
    }

    /// Whether the latest failure of `feed` should be logged: the first three in a row each,
    /// then once every `every`.
    pub fn failure_report_due(&self, feed: &str, now: DateTime<Utc>, every: Duration) -> bool {
        let mut feeds = self.feeds.lock().unwrap();
        let f = feeds.entry(feed.to_owned()).or_default();
        let due = f.consecutive_failures <= 3
            || f.reported_at
                .is_none_or(|t| (now - t).to_std().unwrap_or_default() >= every);
        if due {
            f.reported_at = Some(now);
        }
        due
    }

    /// Whether `hub`, advertised by `feed`, is news to log: true the first time this process
    /// sees it (or when the feed names a different one).
    pub fn hub_is_new(&self, feed: &str, hub: &str) -> bool {
        let mut feeds = self.feeds.lock().unwrap();
        let f = feeds.entry(feed.to_owned()).or_default();
        if f.hub.as_deref() == Some(hub) {
            return false;
        }
        f.hub = Some(hub.to_owned());
        true
    }

    /// The next poll of `feed` is due at `at`.
    pub fn scheduled(&self, feed: &str, at: DateTime<Utc>) {
        let mut feeds = self.feeds.lock().unwrap_or_else(|p| p.into_inner());
        feeds.entry(feed.to_owned()).or_default().next_poll = Some(at);
    }

    pub fn reloaded(&self) {
        self.reloads.fetch_add(1, Ordering::Relaxed);
    }

    /// When a poll last finished, if ever.
    pub fn last_poll(&self) -> Option<DateTime<Utc>> {
        match self.last_poll_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => DateTime::from_timestamp_millis(ms),
        }
    }

    /// Every feed polled so far, by name.
    pub fn feed_health(&self) -> BTreeMap<String, FeedHealth> {
        self.feeds.lock().unwrap().clone()
    }

    /// The Prometheus text exposition. `outbox` is (pending, dead, silenced), read by the
    /// caller.
    pub fn render(&self, outbox: Option<(u64, u64, u64)>) -> String {
        let mut out = String::new();
        let esc = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        };
        let _ = writeln!(
            out,
            "# HELP ceasefire_watch_build_info Build information.\n# TYPE ceasefire_watch_build_info gauge\nceasefire_watch_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        out.push_str("# HELP ceasefire_watch_polls_total Feed polls by feed and result.\n# TYPE ceasefire_watch_polls_total counter\n");
        for ((feed, result), n) in self.polls.lock().unwrap().iter() {
            let _ = writeln!(
                out,
                "ceasefire_watch_polls_total{{feed=\"{}\",result=\"{}\"}} {n}",
                esc(feed),
                esc(result)
            );
        }
        {
            let h = self.fetch.lock().unwrap();
            out.push_str("# HELP ceasefire_watch_fetch_duration_seconds Time to fetch one feed.\n# TYPE ceasefire_watch_fetch_duration_seconds histogram\n");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "ceasefire_watch_fetch_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "ceasefire_watch_fetch_duration_seconds_bucket{{le=\"+Inf\"}} {}\nceasefire_watch_fetch_duration_seconds_sum {}\nceasefire_watch_fetch_duration_seconds_count {}",
                h.count, h.sum, h.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP ceasefire_watch_items_seen_total New items seen.\n# TYPE ceasefire_watch_items_seen_total counter\nceasefire_watch_items_seen_total {}",
            self.items_new.load(Ordering::Relaxed)
        );
        out.push_str("# HELP ceasefire_watch_signals_total Signals found in new items.\n# TYPE ceasefire_watch_signals_total counter\n");
        for kind in SignalKind::ALL {
            let n = self.signals[kind.index()].load(Ordering::Relaxed);
            if n > 0 {
                let _ = writeln!(
                    out,
                    "ceasefire_watch_signals_total{{signal=\"{kind}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP ceasefire_watch_alerts_total Delivery attempts by channel and result.\n# TYPE ceasefire_watch_alerts_total counter\n");
        for ((channel, result), n) in self.deliveries.lock().unwrap().iter() {
            let _ = writeln!(
                out,
                "ceasefire_watch_alerts_total{{channel=\"{}\",result=\"{}\"}} {n}",
                esc(channel),
                esc(result)
            );
        }
        if let Some((pending, dead, silenced)) = outbox {
            let _ = writeln!(
                out,
                "# HELP ceasefire_watch_outbox_pending Deliveries not yet made.\n# TYPE ceasefire_watch_outbox_pending gauge\nceasefire_watch_outbox_pending {pending}\n# HELP ceasefire_watch_outbox_dead Deliveries given up.\n# TYPE ceasefire_watch_outbox_dead gauge\nceasefire_watch_outbox_dead {dead}\n# HELP ceasefire_watch_outbox_silenced Deliveries muted by a silence (kept for store.keep_alerts).\n# TYPE ceasefire_watch_outbox_silenced gauge\nceasefire_watch_outbox_silenced {silenced}"
            );
        }
        out.push_str("# HELP ceasefire_watch_last_success_timestamp_seconds Last successful poll of each feed.\n# TYPE ceasefire_watch_last_success_timestamp_seconds gauge\n");
        let feeds = self.feeds.lock().unwrap();
        for (feed, f) in feeds.iter() {
            if let Some(t) = f.last_success {
                let _ = writeln!(
                    out,
                    "ceasefire_watch_last_success_timestamp_seconds{{feed=\"{}\"}} {}",
                    esc(feed),
                    t.timestamp()
                );
            }
        }
        out.push_str("# HELP ceasefire_watch_feed_consecutive_failures Failed polls in a row.\n# TYPE ceasefire_watch_feed_consecutive_failures gauge\n");
        for (feed, f) in feeds.iter() {
            let _ = writeln!(
                out,
                "ceasefire_watch_feed_consecutive_failures{{feed=\"{}\"}} {}",
                esc(feed),
                f.consecutive_failures
            );
        }
        let _ = writeln!(
            out,
            "# HELP ceasefire_watch_config_reloads_total Configs applied by SIGHUP.\n# TYPE ceasefire_watch_config_reloads_total counter\nceasefire_watch_config_reloads_total {}",
            self.reloads.load(Ordering::Relaxed)
        );
        out
    }
}

/// `ceasefire_watch_task_panics_total{task}`: panics of each supervised task since start.
/// The lease families, for a daemon sharing its store.
pub fn render_leases(l: &crate::leases::LeaseFacts) -> String {
    format!(
        "# HELP ceasefire_watch_leases_held Feed leases this daemon holds.\n# TYPE ceasefire_watch_leases_held gauge\nceasefire_watch_leases_held {}\n\
         # HELP ceasefire_watch_lease_takeovers_total Feed leases taken from a daemon that stopped renewing them.\n# TYPE ceasefire_watch_lease_takeovers_total counter\nceasefire_watch_lease_takeovers_total {}\n\
         # HELP ceasefire_watch_daemons Daemons alive on the shared store, as of this daemon's last beat.\n# TYPE ceasefire_watch_daemons gauge\nceasefire_watch_daemons {}\n",
        l.held, l.takeovers, l.daemons
    )
}

pub fn render_task_panics(counts: &[(String, u64)]) -> String {
    let mut out = String::from(
        "# HELP ceasefire_watch_task_panics_total Panics of a long-lived task (each restarted, or the daemon stopped).\n# TYPE ceasefire_watch_task_panics_total counter\n",
    );
    for (task, n) in counts {
        let task = task.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(
            out,
            "ceasefire_watch_task_panics_total{{task=\"{task}\"}} {n}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_family_with_labels_escaped() {
        let m = Metrics::new();
        m.poll("wire", "ok", Duration::from_millis(120), None);
        m.poll(
            "bad\"feed",
            "timeout",
            Duration::from_secs(31),
            Some("timed out"),
        );
        let mut signals = [0; 7];
        signals[SignalKind::RussiaRejects.index()] = 1;
        m.new_items(3, &signals);
        m.delivery("email", "delivered");
        let text = m.render(Some((2, 1, 3)));
        for line in [
            "ceasefire_watch_polls_total{feed=\"wire\",result=\"ok\"} 1",
            "ceasefire_watch_polls_total{feed=\"bad\\\"feed\",result=\"timeout\"} 1",
            "ceasefire_watch_fetch_duration_seconds_bucket{le=\"0.25\"} 1",
            "ceasefire_watch_fetch_duration_seconds_bucket{le=\"+Inf\"} 2",
            "ceasefire_watch_fetch_duration_seconds_count 2",
            "ceasefire_watch_items_seen_total 3",
            "ceasefire_watch_signals_total{signal=\"russia_rejects\"} 1",
            "ceasefire_watch_alerts_total{channel=\"email\",result=\"delivered\"} 1",
            "ceasefire_watch_outbox_pending 2",
            "ceasefire_watch_outbox_dead 1",
            "ceasefire_watch_outbox_silenced 3",
            "ceasefire_watch_feed_consecutive_failures{feed=\"bad\\\"feed\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line}\n{text}");
        }
        assert!(text.contains("ceasefire_watch_build_info{version=\""));
        assert!(text.contains("ceasefire_watch_last_success_timestamp_seconds{feed=\"wire\"}"));
        // Failures: the first three logged, then once an hour.
        let t = Utc::now();
        let hour = Duration::from_secs(3600);
        for _ in 0..2 {
            m.poll(
                "bad\"feed",
                "timeout",
                Duration::from_secs(31),
                Some("timed out"),
            );
        }
        assert!(m.failure_report_due("bad\"feed", t, hour));
        m.poll(
            "bad\"feed",
            "timeout",
            Duration::from_secs(31),
            Some("timed out"),
        );
        assert!(!m.failure_report_due("bad\"feed", t + chrono::Duration::minutes(10), hour));
        assert!(m.failure_report_due("bad\"feed", t + chrono::Duration::minutes(61), hour));
        let health = m.feed_health();
        assert_eq!(health["bad\"feed"].consecutive_failures, 4);
        assert!(health["bad\"feed"].failing_since.is_some());
        assert!(m.last_poll().is_some());
    }
}
