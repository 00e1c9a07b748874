//! Several daemons on one PostgreSQL against one daemon on SQLite, doing the same work: N
//! feeds of M items on a loopback server (each answers 304 to its ETag), polled by real
//! `ceasefire-watch run` daemons.
//!
//!   cargo bench --bench shared     (SHARED_FEEDS=3000, SHARED_ITEMS=10, SHARED_DAEMONS=3)
//!
//! For each setup, one timing run and one counting run (sqlx's statement log on, which slows
//! it): the cold cycle (from start until every feed's first poll is recorded, every feed
//! answering 200), the warm cycle (from the first 304 until every feed's second poll is
//! recorded), their CPU seconds (daemons, and PostgreSQL's server processes), and statements
//! per cycle. Then, on PostgreSQL, one daemon is killed with SIGKILL, one of its feeds
//! publishes a new item, and the time until a survivor fetches it is the takeover time
//! (`store.lease` = SHARED_LEASE, 10s; feeds polled every 30 s).
//!
//! The PostgreSQL cluster is a throwaway one (scripts/pg-cluster) under target/pg/.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as AxPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

#[path = "support/feeds.rs"]
mod feeds;
#[path = "support/items.rs"]
mod items;

struct Site {
    feeds: Vec<Bytes>,
    /// Feeds published again: (body, etag).
    news: Mutex<HashMap<usize, (Bytes, String)>>,
    full: AtomicU64,
    not_modified: AtomicU64,
    /// When a feed published again was first fetched after that.
    marked: Mutex<Option<Instant>>,
}

async fn feed(State(site): State<Arc<Site>>, AxPath(i): AxPath<usize>, h: HeaderMap) -> Response {
    let Some(body) = site.feeds.get(i) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (body, etag) = match site.news.lock().unwrap().get(&i) {
        Some((b, e)) => {
            site.marked.lock().unwrap().get_or_insert_with(Instant::now);
            (b.clone(), e.clone())
        }
        None => (body.clone(), format!("\"v1-{i}\"")),
    };
    if h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        site.not_modified.fetch_add(1, Ordering::Relaxed);
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
    }
    site.full.fetch_add(1, Ordering::Relaxed);
    (
        [
            (
                header::CONTENT_TYPE,
                "application/rss+xml; charset=utf-8".to_owned(),
            ),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

async fn hook() -> StatusCode {
    StatusCode::OK
}

/// `GET path` on a daemon's listener, as text ("" when it does not answer).
fn http_get(port: u16, path: &str) -> String {
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// Polls recorded by the daemon on `port` (every result).
fn polls(port: u16) -> u64 {
    http_get(port, "/metrics")
        .lines()
        .filter(|l| l.starts_with("ceasefire_watch_polls_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// CPU seconds (user + system) of `pids` and of their exited children.
fn cpu(pids: &[u32]) -> f64 {
    let tick = 100.0;
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).ok())
        .map(|s| {
            let rest = &s[s.rfind(')').unwrap() + 2..];
            let f: Vec<&str> = rest.split(' ').collect();
            // utime, stime, cutime, cstime: fields 14 to 17 of stat, 11 to 14 after the name.
            (11..=14)
                .map(|i| f[i].parse::<f64>().unwrap_or(0.0))
                .sum::<f64>()
                / tick
        })
        .sum()
}

/// The PostgreSQL server's processes: the postmaster and its children.
fn postgres_pids(data: &Path) -> Vec<u32> {
    let Ok(pidfile) = std::fs::read_to_string(data.join("postmaster.pid")) else {
        return Vec::new();
    };
    let main: u32 = pidfile.lines().next().unwrap().trim().parse().unwrap();
    let mut pids = vec![main];
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            let rest = &s[s.rfind(')').unwrap() + 2..];
            if rest.split(' ').nth(1).and_then(|p| p.parse::<u32>().ok()) == Some(main) {
                pids.push(pid);
            }
        }
    }
    pids
}

struct Daemon {
    child: Child,
    port: u16,
    statements: Arc<AtomicU64>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(bin: &Path, config: &Path, count: bool) -> Daemon {
    let statements = Arc::new(AtomicU64::new(0));
    let port: u16 = std::fs::read_to_string(config)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("listen = \"127.0.0.1:"))
        .and_then(|p| p.trim_end_matches('"').parse().ok())
        .unwrap();
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(config)
        .arg("run")
        .env(
            "RUST_LOG",
            if count {
                "warn,sqlx::query=debug".to_owned()
            } else {
                // SHARED_LOG: the daemons' log filter in the timing runs.
                std::env::var("SHARED_LOG").unwrap_or_else(|_| "warn".into())
            },
        )
        .stdin(Stdio::null())
        // `run` logs to stdout.
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let err = child.stdout.take().unwrap();
    let n = statements.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if std::env::var_os("SHARED_DEBUG").is_some() {
                eprintln!("daemon: {line}");
            }
            if line.contains(" db.statement=") {
                n.fetch_add(1, Ordering::Relaxed);
            } else if line.contains("ERROR") {
                eprintln!("shared: daemon: {line}");
            }
        }
    });
    Daemon {
        child,
        port,
        statements,
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Cycle {
    wall: f64,
    cpu: f64,
    db_cpu: f64,
    statements: u64,
    polls: u64,
}

/// Every feed's interval: one warm cycle.
const INTERVAL: Duration = Duration::from_secs(30);

/// Feeds held, from a daemon's /healthz.
fn held(port: u16) -> Option<usize> {
    let text = http_get(port, "/healthz");
    let line = text.lines().find(|l| l.starts_with("leases: "))?;
    line["leases: ".len()..].split(' ').next()?.parse().ok()
}

struct Run {
    cold: Cycle,
    warm: Cycle,
    takeover: Option<f64>,
}

fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// One setup: `daemons` daemons on `store` ("" for SQLite in each state directory).
#[allow(clippy::too_many_arguments)]
fn run(
    bin: &Path,
    dir: &Path,
    addr: std::net::SocketAddr,
    site: &Arc<Site>,
    n: usize,
    daemons: usize,
    store: Option<(&str, &Path)>,
    count: bool,
    takeover: bool,
) -> Run {
    site.full.store(0, Ordering::Relaxed);
    site.not_modified.store(0, Ordering::Relaxed);
    site.news.lock().unwrap().clear();
    *site.marked.lock().unwrap() = None;
    let lease = std::env::var("SHARED_LEASE").unwrap_or_else(|_| "10s".into());
    let mut configs = Vec::new();
    for d in 0..daemons {
        let state = dir.join(format!("state-{d}"));
        let _ = std::fs::remove_dir_all(&state);
        let mut c = format!(
            "[daemon]\nstate_dir = \"{}\"\n[fetch]\nconcurrency = 32\nper_host = 32\n[http]\nlisten = \"127.0.0.1:{}\"\n\
             [[webhooks]]\nname = \"sink\"\nurl = \"http://{addr}/hook\"\n",
            state.display(),
            free_port()
        );
        if let Some((url, _)) = store {
            let _ = write!(c, "[store]\nurl = \"{url}\"\nlease = \"{lease}\"\n");
        }
        for i in 0..n {
            let _ = write!(
                c,
                "[[feeds]]\nname = \"f{i}\"\nurl = \"http://{addr}/feeds/{i}\"\ninterval = \"30s\"\n"
            );
        }
        let path = dir.join(format!("daemon-{d}.toml"));
        std::fs::write(&path, c).unwrap();
        configs.push(path);
    }
    let db_pids = || {
        store
            .map(|(_, data)| postgres_pids(data))
            .unwrap_or_default()
    };
    let db_cpu0 = cpu(&db_pids());
    let t0 = Instant::now();
    let mut ds: Vec<Daemon> = configs.iter().map(|c| spawn(bin, c, count)).collect();
    let total = |ds: &[Daemon]| ds.iter().map(|d| polls(d.port)).sum::<u64>();
    let pids = |ds: &[Daemon]| ds.iter().map(|d| d.child.id()).collect::<Vec<_>>();
    let statements = |ds: &[Daemon]| {
        ds.iter()
            .map(|d| d.statements.load(Ordering::Relaxed))
            .sum::<u64>()
    };
    assert!(
        wait_until(Duration::from_secs(600), || total(&ds) >= n as u64),
        "the cold cycle did not finish"
    );
    let cold = Cycle {
        wall: t0.elapsed().as_secs_f64(),
        cpu: cpu(&pids(&ds)),
        db_cpu: cpu(&db_pids()) - db_cpu0,
        statements: statements(&ds),
        polls: total(&ds),
    };
    // Warm cycles: once the leases are balanced (PostgreSQL) and every feed's schedule has
    // run once since (an interval), one interval of polling, every feed answering 304.
    if daemons > 1 {
        let share = n.div_ceil(daemons);
        assert!(
            wait_until(Duration::from_secs(120), || {
                // Each about 1/N: at most its share, and short of it by fewer than N.
                let h: Vec<usize> = ds.iter().filter_map(|d| held(d.port)).collect();
                h.len() == ds.len()
                    && h.iter().sum::<usize>() == n
                    && h.iter().all(|&x| x <= share && x + daemons > share)
            }),
            "the leases never balanced"
        );
    }
    std::thread::sleep(INTERVAL);
    let (p1, cpu1, db1, st1) = (
        total(&ds),
        cpu(&pids(&ds)),
        cpu(&db_pids()),
        statements(&ds),
    );
    std::thread::sleep(INTERVAL);
    let warm = Cycle {
        wall: INTERVAL.as_secs_f64(),
        cpu: cpu(&pids(&ds)) - cpu1,
        db_cpu: cpu(&db_pids()) - db1,
        statements: statements(&ds) - st1,
        polls: total(&ds) - p1,
    };
    let mut took = None;
    if takeover && ds.len() > 1 {
        // Which feeds the first daemon polls, from the shared store.
        let out = Command::new(bin)
            .arg("--config")
            .arg(&configs[1])
            .args(["feeds", "--json"])
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let health = http_get(ds[0].port, "/healthz");
        let id = health
            .lines()
            .find(|l| l.starts_with("leases: "))
            .and_then(|l| Some(l[l.find('(')? + 1..l.find(')')?].to_owned()))
            .unwrap();
        let victim = list
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["polled_by"].as_str() == Some(id.as_str()))
            .and_then(|f| f["name"].as_str()?.strip_prefix('f')?.parse::<usize>().ok())
            .expect("the first daemon polls some feed");
        let _ = ds[0].child.kill();
        let _ = ds[0].child.wait();
        let killed = Instant::now();
        let body = String::from_utf8_lossy(&site.feeds[victim]).replace(
            "</channel>",
            "<item><guid>takeover</guid><title>Kremlin rejects the US plan for a 30-day ceasefire (Takeover mark)</title><link>https://news.example.org/takeover</link></item></channel>",
        );
        site.news
            .lock()
            .unwrap()
            .insert(victim, (Bytes::from(body), "\"v2\"".into()));
        assert!(
            wait_until(Duration::from_secs(300), || site
                .marked
                .lock()
                .unwrap()
                .is_some()),
            "the survivors never polled the dead daemon's feed"
        );
        took = site
            .marked
            .lock()
            .unwrap()
            .map(|t| (t - killed).as_secs_f64());
    }
    for d in &mut ds {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(d.child.id().to_string())
            .status();
    }
    for d in &mut ds {
        let _ = d.child.wait();
    }
    Run {
        cold,
        warm,
        takeover: took,
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let n = env("SHARED_FEEDS", 3000);
    let m = env("SHARED_ITEMS", 10);
    let daemons = env("SHARED_DAEMONS", 3);
    let site = Arc::new(Site {
        feeds: feeds::generate(n, m),
        news: Mutex::default(),
        full: AtomicU64::new(0),
        not_modified: AtomicU64::new(0),
        marked: Mutex::default(),
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
        .route("/feeds/{i}", get(feed))
        .route("/hook", post(hook))
        .with_state(site.clone());
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_ceasefire-watch"));
    let dir = tempfile::tempdir().unwrap();
    let pg_dir = root.join(format!("target/pg/bench-{}", std::process::id()));
    let out = Command::new(root.join("scripts/pg-cluster"))
        .arg("start")
        .arg(&pg_dir)
        .arg("--watch")
        .arg(std::process::id().to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "no PostgreSQL cluster: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cluster = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let data = pg_dir.join("data");
    let fresh_db = |name: &str| {
        let ok = Command::new("psql")
            .arg(&cluster)
            .args([
                "-q",
                "-c",
                &format!("DROP DATABASE IF EXISTS {name}"),
                "-c",
                &format!("CREATE DATABASE {name}"),
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "psql");
        format!("{}/{name}", cluster.rsplit_once('/').unwrap().0)
    };

    let report = |label: &str, r: &Run| {
        eprintln!(
            "shared: {label}: cold {:.2}s wall, {:.1}s CPU (+{:.1}s PostgreSQL); a warm cycle ({:.0}s, {} polls): {:.2}s CPU (+{:.2}s PostgreSQL){}",
            r.cold.wall,
            r.cold.cpu,
            r.cold.db_cpu,
            r.warm.wall,
            r.warm.polls,
            r.warm.cpu,
            r.warm.db_cpu,
            r.takeover
                .map(|t| format!("; takeover {t:.1}s"))
                .unwrap_or_default()
        );
    };
    // SHARED_ONLY=postgres skips the SQLite runs (to look into the shared store alone).
    let only_pg = std::env::var("SHARED_ONLY").is_ok_and(|v| v == "postgres");
    let skipped = || Run {
        cold: Cycle::default(),
        warm: Cycle::default(),
        takeover: None,
    };
    let sqlite = if only_pg {
        skipped()
    } else {
        run(&bin, dir.path(), addr, &site, n, 1, None, false, false)
    };
    report("1 daemon, SQLite", &sqlite);
    let sqlite_count = if only_pg {
        skipped()
    } else {
        run(&bin, dir.path(), addr, &site, n, 1, None, true, false)
    };
    let url = fresh_db("bench_timing");
    let pg = run(
        &bin,
        dir.path(),
        addr,
        &site,
        n,
        daemons,
        Some((&url, &data)),
        false,
        true,
    );
    report(&format!("{daemons} daemons, PostgreSQL"), &pg);
    let url = fresh_db("bench_counting");
    let pg_count = run(
        &bin,
        dir.path(),
        addr,
        &site,
        n,
        daemons,
        Some((&url, &data)),
        true,
        false,
    );
    // CPU of a warm cycle per 1,000 polls: a window of one interval holds a few more polls
    // than feeds (the interval's jitter; feeds that moved between daemons at start).
    let per_k = |c: &Cycle, cpu: f64| {
        if c.polls == 0 {
            0.0
        } else {
            cpu * 1000.0 / c.polls as f64
        }
    };
    println!(
        "shared: feeds={n} items={} | sqlite(1): cold={:.2}s cold_cpu={:.1}s warm_cpu={:.3}s/1k polls ({} polls/cycle) statements: cold={} warm={}/cycle | postgres({daemons}): cold={:.2}s cold_cpu={:.1}s+{:.1}s(db) warm_cpu={:.3}s+{:.3}s(db)/1k polls ({} polls/cycle) statements: cold={} warm={}/cycle | takeover={:.1}s (lease {})",
        n * m,
        sqlite.cold.wall,
        sqlite.cold.cpu,
        per_k(&sqlite.warm, sqlite.warm.cpu),
        sqlite.warm.polls,
        sqlite_count.cold.statements,
        sqlite_count.warm.statements,
        pg.cold.wall,
        pg.cold.cpu,
        pg.cold.db_cpu,
        per_k(&pg.warm, pg.warm.cpu),
        per_k(&pg.warm, pg.warm.db_cpu),
        pg.warm.polls,
        pg_count.cold.statements,
        pg_count.warm.statements,
        pg.takeover.unwrap_or(f64::NAN),
        std::env::var("SHARED_LEASE").unwrap_or_else(|_| "10s".into()),
    );
    let _ = Command::new(root.join("scripts/pg-cluster"))
        .arg("stop")
        .arg(&pg_dir)
        .status();
}
