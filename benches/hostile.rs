//! Hostile feeds, measured: a cycle of `ceasefire-watch run --once` on a good feed beside one
//! feed that is small on the wire and huge once read, each served gzip-compressed over
//! loopback and unpacking to just under `fetch.max_body_bytes` (10 MiB):
//!
//! - `json`: a JSON Feed of empty items, `{"items":[{},{},…]}` (3.5 million items);
//! - `rss`: RSS of `<item/>` (1.5 million items).
//!
//! For each: the wall time and peak RSS of the whole process (from `wait4`), the size on the
//! wire, and whether the good feed's alert was still delivered.
//!
//!   cargo bench --bench hostile          (HOSTILE_BIN=path measures another build)
//!
//! Ends with one summary line:
//!   hostile: json_wire=…KB json_wall=…s json_rss=…MB rss_wire=…KB rss_wall=…s rss_rss=…MB

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};

#[path = "../tests/support/bombs.rs"]
mod bombs;

const BODY_CAP: usize = 10 * 1024 * 1024;

struct Site {
    bomb: Bytes,
    content_type: &'static str,
    hooks: AtomicU64,
}

const GOOD: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>wire</title>\
    <item><guid>g1</guid><title>Kremlin rejects the energy truce</title>\
    <link>https://news.example.org/g1</link></item></channel></rss>";

/// Runs `cmd`, returning (wall seconds, peak RSS in MB, exit status).
// The child is reaped by wait4, which also gives its resource usage, not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn measured(cmd: &mut Command) -> (f64, f64, i32) {
    let started = Instant::now();
    let child = cmd.spawn().expect("the binary runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child, whose pid we
    // reap here instead of through `Child::wait` (which is never called).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    let wall = started.elapsed().as_secs_f64();
    (wall, usage.ru_maxrss as f64 / 1024.0, status)
}

fn run(kind: &str, bomb: Vec<u8>, content_type: &'static str) -> String {
    let wire = bombs::gzip(&bomb);
    let site = Arc::new(Site {
        bomb: Bytes::from(wire.clone()),
        content_type,
        hooks: AtomicU64::new(0),
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route(
            "/bomb",
            get(|State(s): State<Arc<Site>>| async move {
                (
                    [
                        (header::CONTENT_TYPE, s.content_type),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    s.bomb.clone(),
                )
            }),
        )
        .route(
            "/good",
            get(|| async { ([(header::CONTENT_TYPE, "application/rss+xml")], GOOD) }),
        )
        .route(
            "/hook",
            post(|State(s): State<Arc<Site>>| async move {
                s.hooks.fetch_add(1, Ordering::Relaxed);
                StatusCode::OK
            }),
        )
        .with_state(site.clone());
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "[daemon]\nstate_dir = \"{}\"\n[fetch]\nmax_body_bytes = {BODY_CAP}\n\
         [[feeds]]\nname = \"good\"\nurl = \"http://{addr}/good\"\n\
         [[feeds]]\nname = \"bomb\"\nurl = \"http://{addr}/bomb\"\n\
         [[webhooks]]\nname = \"sink\"\nurl = \"http://{addr}/hook\"\n",
        dir.path().join("state").display()
    );
    let config_path = dir.path().join("bench.toml");
    std::fs::write(&config_path, config).unwrap();
    let bin = std::env::var_os("HOSTILE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ceasefire-watch")));
    let (wall, rss, status) = measured(
        Command::new(&bin)
            .arg("--config")
            .arg(&config_path)
            .args(["run", "--once"])
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null()),
    );
    let delivered = site.hooks.load(Ordering::Relaxed);
    eprintln!(
        "hostile: {kind}: {} KB on the wire, {:.1} MB unpacked: {wall:.2}s, peak RSS {rss:.1} MB, exit status {status}, good feed's alert delivered {delivered} time(s)",
        wire.len() / 1024,
        bomb.len() as f64 / 1048576.0
    );
    assert_eq!(status, 0, "the cycle failed");
    assert_eq!(delivered, 1, "the good feed's alert was not delivered");
    format!(
        "{kind}_wire={}KB {kind}_wall={wall:.2}s {kind}_rss={rss:.1}MB",
        wire.len() / 1024
    )
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let json = run(
        "json",
        bombs::json_items(BODY_CAP - 64),
        "application/feed+json",
    );
    let rss = run(
        "rss",
        bombs::rss_items(BODY_CAP - 64),
        "application/rss+xml",
    );
    println!("hostile: {json} {rss}");
}
