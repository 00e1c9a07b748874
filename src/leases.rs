//! Which feeds this daemon polls. On SQLite it is the only daemon and polls every feed; on a
//! shared PostgreSQL a task beats every third of `store.lease` (see `store::leases`), and the
//! feed loops poll only what its last beat holds, and only while that beat's leases last.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::time::Instant;
use tracing::{error, info, warn};

use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::store::leases::Beat;

/// The feeds this daemon may poll now.
#[derive(Debug)]
pub struct Leases {
    /// Every feed, without asking (one daemon on SQLite, `run --once`).
    all: bool,
    state: Mutex<State>,
    /// Bumped when a beat changes what this daemon holds: feed loops waiting for a lease
    /// look again at once.
    changed: tokio::sync::watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct State {
    held: BTreeSet<String>,
    /// When the leases of the last beat run out.
    until: Option<Instant>,
    daemons: u32,
    takeovers: u64,
    last_error: Option<String>,
}

/// What `/healthz`, `/metrics` and the watchdog read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaseFacts {
    pub held: usize,
    pub daemons: u32,
    pub takeovers: u64,
    /// Set when the leases have run out: no beat has reached the store for a lease.
    pub lapsed: Option<String>,
}

impl Leases {
    pub fn all() -> Arc<Leases> {
        Arc::new(Leases {
            all: true,
            state: Mutex::default(),
            changed: tokio::sync::watch::Sender::new(0),
        })
    }

    pub fn shared() -> Arc<Leases> {
        Arc::new(Leases {
            all: false,
            state: Mutex::default(),
            changed: tokio::sync::watch::Sender::new(0),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this daemon polls `feed` now.
    pub fn holds(&self, feed: &str) -> bool {
        if self.all {
            return true;
        }
        let s = self.lock();
        s.until.is_some_and(|u| Instant::now() < u) && s.held.contains(feed)
    }

    /// Returns when a beat changes what this daemon holds, or after `limit`.
    pub async fn changed_within(&self, limit: Duration) {
        let mut rx = self.changed.subscribe();
        let _ = tokio::time::timeout(limit, rx.changed()).await;
    }

    /// `None` when this daemon polls every feed without leases.
    pub fn facts(&self) -> Option<LeaseFacts> {
        if self.all {
            return None;
        }
        let s = self.lock();
        let lapsed = match s.until {
            Some(u) if Instant::now() < u => None,
            Some(_) => Some(format!(
                "the feed leases ran out: no beat reached the store ({})",
                s.last_error.as_deref().unwrap_or("no error recorded")
            )),
            None => None,
        };
        Some(LeaseFacts {
            held: if lapsed.is_some() { 0 } else { s.held.len() },
            daemons: s.daemons,
            takeovers: s.takeovers,
            lapsed,
        })
    }

    fn record(&self, beat: &Beat, began: Instant, lease: Duration) {
        let mut s = self.lock();
        if s.held != beat.held {
            self.changed.send_modify(|n| *n = n.wrapping_add(1));
        }
        s.held = beat.held.clone();
        // Counted from before the beat was sent: the store's expiry is never earlier.
        s.until = Some(began + lease);
        s.daemons = beat.daemons;
        s.takeovers += u64::from(beat.taken_over);
        s.last_error = None;
    }

    fn failed(&self, error: String) {
        self.lock().last_error = Some(error);
    }
}

/// How often a daemon beats.
pub fn beat_every(lease: Duration) -> Duration {
    (lease / 3).max(Duration::from_millis(500))
}

/// One beat for the configured `feeds`, recorded in `leases`.
pub async fn beat_once(store: &Store, leases: &Leases, feeds: &[String]) {
    let began = Instant::now();
    let names: Vec<&str> = feeds.iter().map(String::as_str).collect();
    match store.beat(&names, Utc::now()).await {
        Ok(beat) => {
            if beat.taken_over > 0 {
                warn!(
                    feeds = beat.taken_over,
                    daemons = beat.daemons,
                    "took over feeds whose daemon stopped renewing its leases"
                );
            }
            if beat.released > 0 {
                warn!(
                    deliveries = beat.released,
                    "deliveries a stopped daemon was sending are pending again, with their keys"
                );
            }
            if beat.taken_free > 0 || beat.given_up > 0 {
                info!(
                    held = beat.held.len(),
                    taken = beat.taken_free,
                    given_up = beat.given_up,
                    daemons = beat.daemons,
                    "feed leases rebalanced"
                );
            }
            leases.record(&beat, began, store.lease());
        }
        Err(e) => {
            let message = crate::net::error_chain(&e);
            error!(error = %message, "cannot renew the feed leases; polling stops when they run out");
            leases.failed(message);
        }
    }
}

/// Beats until shutdown, then gives the leases up so other daemons take the feeds at once.
pub async fn lease_loop(
    store: Store,
    leases: Arc<Leases>,
    feeds: Arc<Mutex<Vec<String>>>,
    shutdown: Shutdown,
) {
    let every = beat_every(store.lease());
    loop {
        tokio::select! {
            _ = shutdown.stopped() => break,
            _ = tokio::time::sleep(every) => {}
        }
        let names = feeds.lock().unwrap_or_else(|p| p.into_inner()).clone();
        beat_once(&store, &leases, &names).await;
    }
    match store.resign().await {
        Ok(()) => info!("feed leases given up for the other daemons"),
        Err(e) => {
            warn!(error = %crate::net::error_chain(&e), "cannot give the feed leases up; other daemons take them when they expire")
        }
    }
}
