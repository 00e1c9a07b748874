//! Shutdown as every long-lived task sees it: one handle, passed down (after mini-redis's
//! `Shutdown`), in two stages.
//!
//! 1. *Stop*: start nothing new (no poll, no claim of a delivery), finish what is in hand.
//! 2. *Abort*, once the grace period is over: drop what is in hand. A dropped poll rolls
//!    its transaction back (the feed is polled again on the next start); a dropped send's
//!    row goes back to pending, unattempted, and is sent later with the same key.
//!
//! The daemon holds the root handle (stopped by SIGTERM or SIGINT); each configuration's
//! tasks (a generation, replaced on SIGHUP) get a [`Shutdown::generation`] of it, stopped
//! with the root or on their own at a reload.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long tasks have to end after an abort before they count as stuck.
pub const AFTER_ABORT: Duration = Duration::from_secs(5);

/// A task's view of shutdown; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    stop: CancellationToken,
    abort: CancellationToken,
}

/// How the tasks of a [`Shutdown::stop_and_wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// All ended within the grace period.
    Cleanly,
    /// Some were aborted past the grace period, and then ended.
    Aborted,
    /// Some did not end even after the abort.
    Stuck,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// A handle stopped and aborted with this one, or on its own.
    pub fn generation(&self) -> Shutdown {
        Shutdown {
            stop: self.stop.child_token(),
            abort: self.abort.child_token(),
        }
    }

    /// Stage 1: start nothing new.
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Stage 2: drop what is in hand (stops too).
    pub fn abort(&self) {
        self.stop.cancel();
        self.abort.cancel();
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.is_cancelled()
    }

    /// Resolves once stopped.
    pub async fn stopped(&self) {
        self.stop.cancelled().await
    }

    /// Resolves once aborted.
    pub async fn aborted(&self) {
        self.abort.cancelled().await
    }

    /// Stops, waits up to `grace` for `tracker`'s tasks (which must be closed), then
    /// aborts and waits up to [`AFTER_ABORT`] more.
    pub async fn stop_and_wait(&self, tracker: &TaskTracker, grace: Duration) -> Ended {
        self.stop();
        if tokio::time::timeout(grace, tracker.wait()).await.is_ok() {
            return Ended::Cleanly;
        }
        self.abort();
        match tokio::time::timeout(AFTER_ABORT, tracker.wait()).await {
            Ok(()) => Ended::Aborted,
            Err(_) => Ended::Stuck,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_generation_stops_with_its_root_and_alone_without_it() {
        let root = Shutdown::new();
        let first = root.generation();
        first.stop();
        assert!(first.is_stopped() && !root.is_stopped());
        let second = root.generation();
        root.stop();
        assert!(second.is_stopped());
        root.abort();
        tokio::time::timeout(Duration::from_millis(1), second.aborted())
            .await
            .expect("aborted with its root");
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_get_the_grace_period_then_an_abort_then_are_called_stuck() {
        let start = tokio::time::Instant::now();
        let grace = Duration::from_secs(30);

        // A task that ends when stopped.
        let s = Shutdown::new();
        let tracker = TaskTracker::new();
        let t = s.clone();
        tracker.spawn(async move { t.stopped().await });
        tracker.close();
        assert_eq!(s.stop_and_wait(&tracker, grace).await, Ended::Cleanly);
        assert_eq!(start.elapsed(), Duration::ZERO);

        // One that finishes its work only when aborted.
        let s = Shutdown::new();
        let tracker = TaskTracker::new();
        let t = s.clone();
        tracker.spawn(async move { t.aborted().await });
        tracker.close();
        assert_eq!(s.stop_and_wait(&tracker, grace).await, Ended::Aborted);
        assert_eq!(start.elapsed(), grace);

        // One that ignores both.
        let s = Shutdown::new();
        let tracker = TaskTracker::new();
        tracker.spawn(std::future::pending::<()>());
        tracker.close();
        assert_eq!(s.stop_and_wait(&tracker, grace).await, Ended::Stuck);
        assert_eq!(start.elapsed(), grace * 2 + AFTER_ABORT);
    }
}
