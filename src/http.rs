//! The optional HTTP listener (`[http] listen`): the status page (`/`), the same data as
//! JSON (`/status.json`, what `status --json` prints), `/healthz` and `/metrics`.
//!
//! With `http.token` set, `/` and `/status.json` answer only a request that carries the
//! token (`Authorization: Bearer TOKEN`, or `?token=TOKEN` for a bookmark), compared in
//! constant time; `/healthz` and `/metrics` tell nothing about the news and stay open.
//!
//! `/healthz` answers 200 while the poll loop makes progress, every supervised task is up and
//! the store takes writes, 503 with the reason otherwise; either way the body lists feeds
//! that have been failing for longer than `http.failing_after`, which do not by themselves
//! make the daemon unhealthy.
//!
//! The listener is meant for loopback and a Prometheus scraper, and it holds up against
//! clients that are neither: at most [`MAX_CONNECTIONS`] connections at once (more are closed
//! as they arrive), [`HEADER_TIMEOUT`] to send a request's headers, [`CONNECTION_LIFETIME`]
//! for a whole connection, and at most one store write per [`PROBE_EVERY`] however often
//! `/healthz` is asked.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;
use tokio_util::task::TaskTracker;

use crate::domain::time;
use crate::metrics::Metrics;
use crate::shutdown::Shutdown;
use crate::store::Store;
use crate::supervise::Supervisor;

/// Connections served at once; one more is closed as soon as it is accepted.
pub const MAX_CONNECTIONS: usize = 32;
/// Time a client has to send a request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a connection stays open, keep-alive included.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// How long a write probe's answer stands for.
pub const PROBE_EVERY: Duration = Duration::from_secs(10);
/// How long a write probe may wait (for the write lock, for the disk) before the store
/// counts as not taking writes. Longer than any ingest transaction of a healthy daemon.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The last write probe: when, and what it found.
pub type ProbeCache = Arc<tokio::sync::Mutex<Option<(DateTime<Utc>, Result<(), String>)>>>;

/// What `/healthz` judges by.
#[derive(Clone)]
pub struct HealthState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// The supervised tasks: one that is down makes the daemon unhealthy.
    pub tasks: Supervisor,
    pub started: DateTime<Utc>,
    /// No poll finished for this long (after start) means the loop is stuck.
    pub stalled_after: Duration,
    /// A feed failing for this long is listed.
    pub failing_after: Duration,
    /// The write probe's last answer, shared by every request.
    pub probe: ProbeCache,
    /// Asked of `/` and `/status.json` when set.
    pub token: Option<Arc<secrecy::SecretString>>,
    /// The feeds this daemon polls (every feed, unless daemons share the store).
    pub leases: Arc<crate::leases::Leases>,
}

/// Whether the store takes writes: one small write at most every [`PROBE_EVERY`], whatever
/// the request rate (the lock also makes concurrent requests wait for one probe).
async fn store_writable(h: &HealthState, now: DateTime<Utc>) -> Result<(), String> {
    let mut last = h.probe.lock().await;
    if let Some((at, result)) = last.as_ref()
        && *at <= now
        && time::between(*at, now) < PROBE_EVERY
    {
        return result.clone();
    }
    let result = match tokio::time::timeout(PROBE_TIMEOUT, h.store.probe(now)).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "a one-row write took longer than {} (the database is locked or the disk stalls)",
            humantime::format_duration(PROBE_TIMEOUT)
        )),
    };
    *last = Some((now, result.clone()));
    result
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
    if let Err(e) = store_writable(h, now).await {
        problems.push(format!("store: cannot write: {e}"));
    }
    if h.store.writer_stopped() {
        problems.push("store: the ingest writer has stopped; nothing new is recorded".into());
    }
    problems.extend(h.tasks.problems(now));
    let leases = h.leases.facts();
    if let Some(lapsed) = leases.as_ref().and_then(|l| l.lapsed.clone()) {
        problems.push(format!("leases: {lapsed}"));
    }
    // A daemon whose share of the feeds is none (more daemons than feeds) polls nothing.
    let polls_some = leases.as_ref().is_none_or(|l| l.held > 0);
    let since = h.metrics.last_poll().unwrap_or(h.started);
    let quiet = (now - since).to_std().unwrap_or_default();
    if polls_some && quiet > h.stalled_after {
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
    if let Some(l) = &leases {
        lines.push(format!("store: {}, shared", h.store.backend().name()));
        lines.push(format!(
            "leases: {} feeds held by this daemon ({}), {} daemons alive, {} taken over",
            l.held,
            h.store.daemon_id(),
            l.daemons,
            l.takeovers
        ));
    }
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

/// Whether a request may see the board: no token configured, or the request carries it.
fn authorised(h: &HealthState, headers: &axum::http::HeaderMap, query: Option<&str>) -> bool {
    use secrecy::ExposeSecret;
    let Some(token) = &h.token else {
        return true;
    };
    let want = token.expose_secret().as_bytes();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let in_query = query.and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("token="))
            .map(|v| v.to_owned())
    });
    let same = |given: &[u8]| {
        // Constant time in the token's content: every byte is compared.
        given.len() == want.len()
            && given
                .iter()
                .zip(want)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    };
    bearer.is_some_and(|b| same(b.as_bytes())) || in_query.is_some_and(|q| same(q.as_bytes()))
}

fn unauthorised() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer realm=\"ceasefire-watch\"")],
        "a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN\n",
    )
        .into_response()
}

/// The board for a request that may see it; otherwise the answer to give (401, or 503 when
/// the store cannot be read).
async fn read_board(
    h: &HealthState,
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
) -> Result<crate::view::Board, Response> {
    if !authorised(h, headers, uri.query()) {
        return Err(unauthorised());
    }
    crate::view::Board::read(&h.store, Utc::now())
        .await
        .map_err(|e| {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot read the store: {e}\n"),
            )
                .into_response()
        })
}

async fn page(
    State(h): State<HealthState>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let board = match read_board(&h, &headers, &uri).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let verdict = check(&h, board.now).await;
    let problems: Vec<String> = if verdict.healthy {
        Vec::new()
    } else {
        verdict
            .lines
            .iter()
            .filter_map(|l| l.strip_prefix("unhealthy: ").map(str::to_owned))
            .collect()
    };
    let html = crate::page::render(&board, &h.metrics.feed_health(), &problems);
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

async fn status_json(
    State(h): State<HealthState>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    match read_board(&h, &headers, &uri).await {
        Ok(board) => (
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            format!("{}\n", board.to_json()),
        )
            .into_response(),
        Err(r) => r,
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
        .map(|c| (c.pending + c.sending, c.dead, c.silenced));
    let mut text = h.metrics.render(outbox);
    if let Some(l) = h.leases.facts() {
        text.push_str(&crate::metrics::render_leases(&l));
    }
    text.push_str(&crate::metrics::render_task_panics(&h.tasks.panic_counts()));
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
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

/// Serves `/healthz` and `/metrics` on `listener` until `shutdown`, within the limits in the
/// module documentation.
pub async fn serve(listener: Arc<tokio::net::TcpListener>, state: HealthState, shutdown: Shutdown) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let app = Router::new()
        .route("/", get(page))
        .route("/status.json", get(status_json))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let connections = TaskTracker::new();
    loop {
        let stream = tokio::select! {
            _ = shutdown.stopped() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors, most likely: wait rather than spin.
                    tracing::warn!(error = %e, "the HTTP listener cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let _slot = slot;
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = tokio::time::sleep(CONNECTION_LIFETIME) => {}
                _ = shutdown.stopped() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(1), connection).await;
                }
            }
        });
    }
    connections.close();
    let _ = tokio::time::timeout(Duration::from_secs(2), connections.wait()).await;
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
            tasks: Supervisor::new(),
            started: now,
            stalled_after: Duration::from_secs(600),
            failing_after: Duration::from_secs(3600),
            probe: ProbeCache::default(),
            token: None,
            leases: crate::leases::Leases::all(),
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
        // A task down after a panic.
        h.tasks.panicked("lane email", "boom", Utc::now());
        let v = check(&h, Utc::now()).await;
        assert!(!v.healthy);
        assert!(
            v.lines[0].starts_with("unhealthy: task lane email: down"),
            "{v:?}"
        );
        // A store that takes no writes.
        let ro = Store::open_read_only_for_tests(dir.path()).await;
        let h = HealthState {
            store: ro,
            tasks: Supervisor::new(),
            probe: ProbeCache::default(),
            token: None,
            leases: crate::leases::Leases::all(),
            ..h
        };
        let v = check(&h, Utc::now()).await;
        assert!(!v.healthy);
        assert!(
            v.lines[0].starts_with("unhealthy: store: cannot write"),
            "{v:?}"
        );
    }

    #[tokio::test]
    async fn health_checks_write_to_the_store_once_per_probe_interval() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let now = Utc::now();
        let h = HealthState {
            store: store.clone(),
            metrics: Arc::new(Metrics::new()),
            tasks: Supervisor::new(),
            started: now,
            stalled_after: Duration::from_secs(600),
            failing_after: Duration::from_secs(3600),
            probe: ProbeCache::default(),
            token: None,
            leases: crate::leases::Leases::all(),
        };
        let written = || async { store.probe_written_at().await.unwrap() };
        assert!(check(&h, now).await.healthy);
        let first = written().await;
        assert_eq!(first, Some(now.timestamp_millis()));
        // A hundred checks within the interval write nothing more.
        for i in 0..100 {
            let at = now + chrono::TimeDelta::milliseconds(i * 50);
            assert!(check(&h, at).await.healthy);
        }
        assert_eq!(written().await, first);
        // After it, one write again.
        let later = now + chrono::TimeDelta::seconds(11);
        assert!(check(&h, later).await.healthy);
        assert_eq!(written().await, Some(later.timestamp_millis()));
    }

    #[tokio::test]
    async fn a_token_is_asked_of_the_board_by_header_or_query() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let mut h = HealthState {
            store,
            metrics: Arc::new(Metrics::new()),
            tasks: Supervisor::new(),
            started: Utc::now(),
            stalled_after: Duration::from_secs(600),
            failing_after: Duration::from_secs(3600),
            probe: ProbeCache::default(),
            token: None,
            leases: crate::leases::Leases::all(),
        };
        let mut headers = axum::http::HeaderMap::new();
        assert!(authorised(&h, &headers, None), "no token configured");
        h.token = Some(Arc::new("s3cret-s3cret-s3cret".into()));
        assert!(!authorised(&h, &headers, None));
        assert!(!authorised(&h, &headers, Some("token=s3cret-s3cret-s3cre")));
        assert!(authorised(
            &h,
            &headers,
            Some("x=1&token=s3cret-s3cret-s3cret")
        ));
        headers.insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert!(!authorised(&h, &headers, None));
        headers.insert(
            header::AUTHORIZATION,
            "Bearer s3cret-s3cret-s3cret".parse().unwrap(),
        );
        assert!(authorised(&h, &headers, None));
    }
}
