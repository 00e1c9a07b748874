//! The optional HTTP listener (`[http] listen`): `/healthz` and `/metrics`.
//!
//! `/healthz` answers 200 while the poll loop makes progress and the store takes writes, 503
//! with the reason otherwise; either way the body lists feeds that have been failing for
//! longer than `http.failing_after`, which do not by themselves make the daemon unhealthy.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;
use crate::store::Store;

/// What `/healthz` judges by.
#[derive(Clone)]
pub struct HealthState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub started: DateTime<Utc>,
    /// No poll finished for this long (after start) means the loop is stuck.
    pub stalled_after: Duration,
    /// A feed failing for this long is listed.
    pub failing_after: Duration,
}

/// The verdict and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub healthy: bool,
    pub lines: Vec<String>,
}

/// Judges health at `now`.
pub async fn check(h: &HealthState, now: DateTime<Utc>) -> Verdict {
    let mut problems = Vec::new();
    if let Err(e) = h.store.probe(now).await {
        problems.push(format!("store: cannot write: {e}"));
    }
    let since = h.metrics.last_poll().unwrap_or(h.started);
    let quiet = (now - since).to_std().unwrap_or_default();
    if quiet > h.stalled_after {
        problems.push(format!(
            "poll loop: no poll has finished for {} (limit {})",
            humantime::format_duration(Duration::from_secs(quiet.as_secs())),
            humantime::format_duration(h.stalled_after)
        ));
    }
    let mut lines = if problems.is_empty() {
        vec!["ok".to_owned()]
    } else {
        problems.iter().map(|p| format!("unhealthy: {p}")).collect()
    };
    for (feed, f) in h.metrics.feed_health() {
        let Some(since) = f.failing_since else {
            continue;
        };
        let for_ = (now - since).to_std().unwrap_or_default();
        if for_ >= h.failing_after {
            lines.push(format!(
                "feed {feed}: failing for {} ({} polls in a row): {}",
                humantime::format_duration(Duration::from_secs(for_.as_secs())),
                f.consecutive_failures,
                f.last_error.as_deref().unwrap_or("")
            ));
        }
    }
    Verdict {
        healthy: problems.is_empty(),
        lines,
    }
}

async fn healthz(State(h): State<HealthState>) -> Response {
    let v = check(&h, Utc::now()).await;
    let status = if v.healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, format!("{}\n", v.lines.join("\n"))).into_response()
}

async fn metrics(State(h): State<HealthState>) -> Response {
    let outbox = h
        .store
        .outbox_counts()
        .await
        .ok()
        .map(|c| (c.pending + c.sending, c.dead));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        h.metrics.render(outbox),
    )
        .into_response()
}

/// Binds `listen`: an error if it cannot, so the daemon does not start without the listener
/// it was asked for.
pub async fn bind(listen: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("http.listen: cannot listen on {listen}: {e}"))
}

/// Serves `/healthz` and `/metrics` on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: HealthState,
    shutdown: CancellationToken,
) {
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state);
    if let Err(e) = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
    {
        tracing::error!(error = %e, "the HTTP listener stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unwritable_store_and_a_stalled_loop_are_unhealthy() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let metrics = Arc::new(Metrics::new());
        let now = Utc::now();
        let h = HealthState {
            store: store.clone(),
            metrics: metrics.clone(),
            started: now,
            stalled_after: Duration::from_secs(600),
            failing_after: Duration::from_secs(3600),
        };
        assert_eq!(
            check(&h, now).await,
            Verdict {
                healthy: true,
                lines: vec!["ok".into()]
            }
        );
        // Twenty minutes without a finished poll.
        let later = now + chrono::Duration::minutes(20);
        let v = check(&h, later).await;
        assert!(!v.healthy);
        assert!(v.lines[0].starts_with("unhealthy: poll loop"), "{v:?}");
        // A feed failing for long is listed, without making the daemon unhealthy.
        metrics.poll("wire", "status", Duration::from_secs(1), Some("HTTP 500"));
        let v = check(&h, Utc::now() + chrono::Duration::hours(2)).await;
        assert!(
            v.lines
                .iter()
                .any(|l| l.starts_with("feed wire: failing for")),
            "{v:?}"
        );
        // A store that takes no writes.
        let ro = Store::open_read_only_for_tests(dir.path()).await;
        let h = HealthState { store: ro, ..h };
        let v = check(&h, Utc::now()).await;
        assert!(!v.healthy);
        assert!(
            v.lines[0].starts_with("unhealthy: store: cannot write"),
            "{v:?}"
        );
    }
}
