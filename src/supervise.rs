//! Long-lived tasks under watch: feed loops, delivery lanes, housekeeping, the HTTP listener.
//!
//! A task that panics is logged with its message and started again after a pause that
//! doubles with each panic in a row (one second, up to a minute). While it is down,
//! `/healthz` names it and the systemd watchdog is not fed. A task that panics
//! [`GIVE_UP_AFTER`] times within an hour is not started again: the supervisor fires its
//! `failed` token, the daemon stops and exits non-zero, and systemd (`Restart=on-failure`)
//! starts it afresh. Nothing dies unseen.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info};

use crate::domain::time;
use crate::shutdown::Shutdown;

/// Panics of one task within an hour after which it is not started again.
pub const GIVE_UP_AFTER: usize = 5;
const WINDOW: Duration = Duration::from_secs(3600);
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const LONGEST_PAUSE: Duration = Duration::from_secs(60);

/// Watches tasks; cheap to clone (shared state).
#[derive(Debug, Clone, Default)]
pub struct Supervisor {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    tasks: Mutex<BTreeMap<String, TaskRecord>>,
    /// Fired when a task is given up on.
    failed: CancellationToken,
}

/// What happened to one task.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskRecord {
    /// Panics since the process started.
    pub panics: u64,
    /// When the panics of the last hour happened.
    recent: Vec<DateTime<Utc>>,
    /// The last panic's message.
    pub last_panic: Option<String>,
    /// Since when the task is down (panicked and not yet running again).
    pub down_since: Option<DateTime<Utc>>,
    /// It panicked too often and is not started again.
    pub given_up: bool,
}

/// What to do after a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterPanic {
    Restart(Duration),
    GiveUp,
}

impl Supervisor {
    pub fn new() -> Supervisor {
        Supervisor::default()
    }

    /// Runs `make()` on `tracker` as the task `name`, starting it again after a panic.
    /// A stop of `shutdown` ends the pause before a restart (the task itself watches its
    /// own handle).
    pub fn spawn<F, Fut>(
        &self,
        tracker: &TaskTracker,
        name: impl Into<String>,
        shutdown: Shutdown,
        mut make: F,
    ) where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let me = self.clone();
        let name = name.into();
        tracker.spawn(async move {
            loop {
                match tokio::spawn(make()).await {
                    Ok(()) => return,
                    Err(e) if e.is_panic() => {
                        let message = panic_message(e.into_panic());
                        let pause = match me.panicked(&name, &message, Utc::now()) {
                            AfterPanic::Restart(pause) => pause,
                            AfterPanic::GiveUp => return,
                        };
                        tokio::select! {
                            _ = shutdown.stopped() => return,
                            _ = tokio::time::sleep(pause) => {}
                        }
                        me.restarted(&name);
                    }
                    // Cancelled: the runtime is going away.
                    Err(_) => return,
                }
            }
        });
    }

    /// Records a panic of `name` at `now`: logged, the task marked down, and the pause
    /// before its restart, or the decision to give up.
    pub fn panicked(&self, name: &str, message: &str, now: DateTime<Utc>) -> AfterPanic {
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        let t = tasks.entry(name.to_owned()).or_default();
        t.panics += 1;
        t.recent.retain(|at| time::between(*at, now) < WINDOW);
        t.recent.push(now);
        t.last_panic = Some(message.to_owned());
        t.down_since = Some(now);
        let in_a_row = t.recent.len();
        if in_a_row >= GIVE_UP_AFTER {
            t.given_up = true;
            error!(
                task = name,
                panics = in_a_row,
                error = message,
                "a task panicked {in_a_row} times within an hour; stopping the daemon so that it is restarted afresh"
            );
            self.inner.failed.cancel();
            return AfterPanic::GiveUp;
        }
        let pause = FIRST_PAUSE
            .saturating_mul(1 << (in_a_row - 1).min(6))
            .min(LONGEST_PAUSE);
        error!(task = name, panics = in_a_row, error = message, restart_in = %humantime::format_duration(pause), "a task panicked; restarting it");
        AfterPanic::Restart(pause)
    }

    fn restarted(&self, name: &str) {
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = tasks.get_mut(name) {
            t.down_since = None;
        }
        info!(task = name, "task restarted after a panic");
    }

    /// Fired when a task is given up on: the daemon should stop and exit non-zero.
    pub fn failed(&self) -> CancellationToken {
        self.inner.failed.clone()
    }

    /// The task given up on, and its last panic.
    pub fn failure(&self) -> Option<String> {
        let tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.iter().find(|(_, t)| t.given_up).map(|(name, t)| {
            format!(
                "task {name} panicked {} times within an hour (last: {})",
                t.recent.len(),
                t.last_panic.as_deref().unwrap_or("")
            )
        })
    }

    /// One line per task that is down or given up on, for `/healthz`.
    pub fn problems(&self, now: DateTime<Utc>) -> Vec<String> {
        let tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks
            .iter()
            .filter_map(|(name, t)| {
                let last = t.last_panic.as_deref().unwrap_or("");
                if t.given_up {
                    Some(format!(
                        "task {name}: panicked {} times within an hour, not restarted: {last}",
                        t.recent.len()
                    ))
                } else {
                    t.down_since.map(|since| {
                        format!(
                            "task {name}: down for {} after a panic (restarting): {last}",
                            humantime::format_duration(Duration::from_secs(
                                time::between(since, now).as_secs()
                            ))
                        )
                    })
                }
            })
            .collect()
    }

    /// Panics per task since start, for `/metrics`.
    pub fn panic_counts(&self) -> Vec<(String, u64)> {
        let tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.iter().map(|(n, t)| (n.clone(), t.panics)).collect()
    }
}

/// The text of a panic's payload.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_panicking_task_is_shown_down_restarted_and_at_last_given_up_on() {
        let sup = Supervisor::new();
        let tracker = TaskTracker::new();
        let stop = Shutdown::new();
        let runs = Arc::new(AtomicU32::new(0));
        let counter = runs.clone();
        sup.spawn(&tracker, "lane webhook:x", stop.clone(), move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= 2 {
                    panic!("boom {n}");
                }
                // The third run lives until stopped.
                std::future::pending::<()>().await;
            }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        // Down after its first panic, named with the message.
        let problems = sup.problems(Utc::now());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("task lane webhook:x: down") && problems[0].contains("boom 1"),
            "{problems:?}"
        );
        // Restarted after a second, down again after the second panic, then up after two.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(sup.problems(Utc::now())[0].contains("boom 2"));
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert!(sup.problems(Utc::now()).is_empty());
        assert_eq!(sup.panic_counts(), vec![("lane webhook:x".to_owned(), 2)]);
        assert!(!sup.failed().is_cancelled());
        stop.stop();
        tracker.close();
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_that_keeps_panicking_stops_the_daemon() {
        let sup = Supervisor::new();
        let tracker = TaskTracker::new();
        sup.spawn(&tracker, "housekeeping", Shutdown::new(), || async {
            panic!("always")
        });
        tracker.close();
        tokio::time::timeout(Duration::from_secs(600), sup.failed().cancelled())
            .await
            .expect("given up on");
        tokio::time::timeout(Duration::from_secs(1), tracker.wait())
            .await
            .expect("not started again");
        let failure = sup.failure().unwrap();
        assert!(
            failure.contains("housekeeping") && failure.contains("always"),
            "{failure}"
        );
        assert!(sup.problems(Utc::now())[0].contains("not restarted"));
    }

    #[test]
    fn pauses_double_and_panics_an_hour_apart_do_not_add_up() {
        let sup = Supervisor::new();
        let t0 = Utc::now();
        let at = |mins: i64| t0 + chrono::TimeDelta::minutes(mins);
        assert_eq!(
            sup.panicked("t", "x", at(0)),
            AfterPanic::Restart(Duration::from_secs(1))
        );
        assert_eq!(
            sup.panicked("t", "x", at(1)),
            AfterPanic::Restart(Duration::from_secs(2))
        );
        // Two hours later the earlier ones have expired.
        assert_eq!(
            sup.panicked("t", "x", at(120)),
            AfterPanic::Restart(Duration::from_secs(1))
        );
        for m in 121..124 {
            assert!(matches!(
                sup.panicked("t", "x", at(m)),
                AfterPanic::Restart(_)
            ));
        }
        assert_eq!(sup.panicked("t", "x", at(125)), AfterPanic::GiveUp);
    }
}
