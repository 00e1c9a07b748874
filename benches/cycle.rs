//! The whole job, measured: N feeds of M items on a loopback server, polled by
//! `ceasefire-watch run --once` on an empty state (cold) and again (warm: every feed answers
//! 304), with wall time and peak RSS of each; then the same feeds through rss2email
//! (`r2e run --no-send`, pinned, installed from PyPI into target/bench-venv), side by side;
//! then classify and parse throughput on one core.
//!
//!   cargo bench --bench cycle            (N=1000, M=50; CYCLE_FEEDS / CYCLE_ITEMS to change)
//!
//! Our cycles run CYCLE_RUNS times (3; each cold one on an empty state) and report the median
//! wall time and the highest peak RSS; CYCLE_SKIP_R2E skips rss2email, and
//! CYCLE_PROFILE="perf record -g -o cold.data" runs each cold cycle (CYCLE_PROFILE_LABEL=warm:
//! each warm one) under a profiler; CYCLE_KEEP leaves the last run's state directory behind
//! (and stops there) to look into.
//!
//! Ends with one summary line:
//!   cycle: feeds=… items=… cold=…s cold_rss=…MB warm=…s warm_rss=…MB r2e_cold=…s r2e_warm=…s
//!   ratio_cold=…x ratio_warm=…x classify=…items/s parse=…MB/s

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as AxPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ceasefire_watch::classify::Classifier;
use ceasefire_watch::parse::{ParseLimits, parse_feed};

#[path = "support/feeds.rs"]
mod feeds;
#[path = "support/items.rs"]
mod items;
use feeds::generate;

const RSS2EMAIL: &str = "rss2email==3.14";
const LAST_MODIFIED: &str = "Tue, 11 Mar 2025 12:00:00 GMT";

struct Site {
    feeds: Vec<Bytes>,
    hooks: AtomicU64,
    requests: AtomicU64,
}

async fn feed(State(site): State<Arc<Site>>, AxPath(i): AxPath<usize>, h: HeaderMap) -> Response {
    site.requests.fetch_add(1, Ordering::Relaxed);
    let Some(body) = site.feeds.get(i) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"v1-{i}\"");
    if h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "application/rss+xml; charset=utf-8".to_owned(),
            ),
            (header::ETAG, etag),
            (header::LAST_MODIFIED, LAST_MODIFIED.to_owned()),
        ],
        body.clone(),
    )
        .into_response()
}

async fn hook(State(site): State<Arc<Site>>) -> StatusCode {
    site.hooks.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

/// Runs `cmd` under /usr/bin/time; (wall seconds, peak RSS in MB).
fn timed(cmd: &mut Command) -> (f64, f64) {
    let out = cmd.output().expect("the command runs");
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        panic!("{cmd:?} failed: {err}");
    }
    let last = err
        .lines()
        .rev()
        .find(|l| l.starts_with("TIMED "))
        .unwrap_or_else(|| panic!("no timing from {cmd:?}: {err}"));
    let mut f = last[6..].split_whitespace();
    let wall: f64 = f.next().unwrap().parse().unwrap();
    let rss_kb: f64 = f.next().unwrap().parse().unwrap();
    let user: f64 = f.next().unwrap().parse().unwrap();
    let sys: f64 = f.next().unwrap().parse().unwrap();
    eprintln!(
        "cycle:   {:?}: wall {wall:.2}s, user {user:.2}s, sys {sys:.2}s",
        cmd.get_program()
    );
    (wall, rss_kb / 1024.0)
}

fn time_cmd(program: &Path) -> Command {
    let mut c = Command::new("/usr/bin/time");
    c.arg("-f").arg("TIMED %e %M %U %S");
    c.arg(program);
    c
}

/// A private Python environment with rss2email pinned.
fn rss2email() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv");
    let r2e = venv.join("bin/r2e");
    if !r2e.exists() {
        eprintln!("cycle: installing {RSS2EMAIL} into {}", venv.display());
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    RSS2EMAIL,
                ])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "cannot install {RSS2EMAIL}");
    }
    r2e
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = std::env::var("CYCLE_FEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let m: usize = std::env::var("CYCLE_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let feeds = generate(n, m);
    let bytes: usize = feeds.iter().map(Bytes::len).sum();
    let site = Arc::new(Site {
        feeds: feeds.clone(),
        hooks: AtomicU64::new(0),
        requests: AtomicU64::new(0),
    });
    // The server on its own runtime thread, so the measured processes compete with it the
    // same way.
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
        .route("/feeds/{i}", get(feed))
        .route("/hook", post(hook))
        .with_state(site.clone());
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    // ceasefire-watch: every feed on one loopback host, so the per-host limit is raised to
    // the global one (real feeds are on many hosts).
    let mut config = format!(
        "[daemon]\nstate_dir = \"{}\"\n[fetch]\nconcurrency = 32\nper_host = 32\n\
         [[webhooks]]\nname = \"sink\"\nurl = \"http://{addr}/hook\"\n",
        dir.path().join("state").display()
    );
    for i in 0..n {
        let _ = write!(
            config,
            "[[feeds]]\nname = \"f{i}\"\nurl = \"http://{addr}/feeds/{i}\"\n"
        );
    }
    let config_path = dir.path().join("bench.toml");
    std::fs::write(&config_path, config).unwrap();
    // CYCLE_BIN: another build of ceasefire-watch to measure (an A/B against an older commit).
    let bin_path = std::env::var_os("CYCLE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ceasefire-watch")));
    let bin = bin_path.as_path();
    let ours = |label: &str| {
        let mut cmd = time_cmd(bin);
        // CYCLE_PROFILE="perf record -F 2000 -g -o cold.data": a profiler around the cold run.
        let profiled = std::env::var("CYCLE_PROFILE_LABEL").unwrap_or_else(|_| "cold".into());
        if let (Ok(wrap), true) = (std::env::var("CYCLE_PROFILE"), label == profiled) {
            cmd = Command::new("/usr/bin/time");
            cmd.arg("-f")
                .arg("TIMED %e %M %U %S")
                .args(wrap.split_whitespace())
                .arg(bin);
        }
        let (wall, rss) = timed(
            cmd.arg("--config")
                .arg(&config_path)
                .args(["run", "--once"])
                .env("RUST_LOG", "warn"),
        );
        eprintln!("cycle: ceasefire-watch {label}: {wall:.2}s, peak RSS {rss:.1} MB");
        (wall, rss)
    };
    // Each cycle CYCLE_RUNS times (3), each cold one on an empty state: the median wall
    // time and the highest peak RSS (a shared 2-core host is noisy).
    let runs: usize = std::env::var("CYCLE_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let (mut colds, mut warms) = (Vec::new(), Vec::new());
    let mut hooks_after_cold = 0;
    for _ in 0..runs {
        let _ = std::fs::remove_dir_all(dir.path().join("state"));
        let hooks_before = site.hooks.load(Ordering::Relaxed);
        colds.push(ours("cold"));
        hooks_after_cold = site.hooks.load(Ordering::Relaxed) - hooks_before;
        eprintln!("cycle: cold run delivered {hooks_after_cold} alerts");
        warms.push(ours("warm"));
    }
    let median = |v: &[(f64, f64)]| {
        let mut w: Vec<f64> = v.iter().map(|r| r.0).collect();
        w.sort_by(f64::total_cmp);
        (w[w.len() / 2], v.iter().map(|r| r.1).fold(0.0, f64::max))
    };
    if std::env::var_os("CYCLE_KEEP").is_some() {
        // CYCLE_KEEP: leave the state directory of the last run behind, to look into.
        eprintln!(
            "cycle: state kept in {}",
            dir.keep().join("state").display()
        );
        return;
    }
    let (cold, cold_rss) = median(&colds);
    let (warm, warm_rss) = median(&warms);

    // rss2email on the same feeds, configured by file (no 1,000 `r2e add` start-ups).
    if std::env::var_os("CYCLE_SKIP_R2E").is_some() {
        println!(
            "cycle: feeds={n} items={} cold={cold:.2}s cold_rss={cold_rss:.1}MB warm={warm:.2}s warm_rss={warm_rss:.1}MB (rss2email skipped)",
            n * m
        );
        return;
    }
    let r2e = rss2email();
    let r2e_dir = dir.path().join("r2e");
    std::fs::create_dir_all(&r2e_dir).unwrap();
    let mut cfg = String::from("[DEFAULT]\nto = bench@example.org\nfrom = bench@example.org\n");
    for i in 0..n {
        let _ = write!(cfg, "[feed.f{i}]\nurl = http://{addr}/feeds/{i}\n");
    }
    let r2e_cfg = r2e_dir.join("rss2email.cfg");
    std::fs::write(&r2e_cfg, cfg).unwrap();
    let theirs = |label: &str| {
        let (wall, rss) = timed(
            time_cmd(&r2e)
                .arg("-c")
                .arg(&r2e_cfg)
                .arg("-d")
                .arg(r2e_dir.join("rss2email.json"))
                .args(["run", "--no-send"]),
        );
        eprintln!("cycle: rss2email {label}: {wall:.2}s, peak RSS {rss:.1} MB");
        (wall, rss)
    };
    let (r2e_cold, _) = theirs("cold");
    let (r2e_warm, _) = theirs("warm");

    // One core: classify and parse throughput. Classification is the best of five passes
    // over the same items, as in benches/classify.rs: one pass takes about 40 ms, and on
    // this shared host passes of the same work vary by a third.
    let classifier = Classifier::builtin();
    let data = items::items(20_000, 20);
    let mut signals = 0usize;
    let mut classify_secs = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        for (title, summary) in &data {
            signals += classifier.classify(title, summary).signals.len();
        }
        classify_secs = classify_secs.min(t.elapsed().as_secs_f64());
    }
    let classify_rate = data.len() as f64 / classify_secs;
    let limits = ParseLimits::default();
    let t = Instant::now();
    let mut entries = 0usize;
    for body in &feeds {
        entries += parse_feed(
            body,
            Some("application/rss+xml; charset=utf-8"),
            None,
            limits,
        )
        .map(|p| p.entries.len())
        .unwrap_or(0);
    }
    let parse_rate = bytes as f64 / 1e6 / t.elapsed().as_secs_f64();
    assert_eq!(entries, n * m, "every generated item parses");
    std::hint::black_box(signals);

    println!(
        "cycle: feeds={n} items={} bytes={:.1}MB cold={cold:.2}s cold_rss={cold_rss:.1}MB warm={warm:.2}s warm_rss={warm_rss:.1}MB alerts_delivered={hooks_after_cold} r2e_cold={r2e_cold:.2}s r2e_warm={r2e_warm:.2}s ratio_cold={:.1}x ratio_warm={:.1}x classify={:.0}items/s parse={:.1}MB/s requests={}",
        n * m,
        bytes as f64 / 1e6,
        r2e_cold / cold,
        r2e_warm / warm,
        classify_rate,
        parse_rate,
        site.requests.load(Ordering::Relaxed),
    );
}
