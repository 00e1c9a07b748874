//! Detection latency: how long after a signal item appears on a feed does the subscriber's
//! mail server accept the alert, with 1,000 feeds polled every 30 s — and what the daemon
//! costs while nothing changes.
//!
//!   cargo bench --bench latency        (LATENCY_FEEDS, LATENCY_INTERVAL_S, LATENCY_EVENTS)
//!
//! Inside the bench: a loopback HTTP server with the feeds (ETag; 304 when unchanged) and a
//! loopback SMTP sink that timestamps each message when it accepts it (the final "."). The
//! daemon (`ceasefire-watch run`, the real binary) polls every feed; once each feed has been
//! polled twice (steady state), its CPU time is read from /proc over a quiet window of two
//! intervals; then signal items are published one by one on random feeds at random moments,
//! each a different story, and each latency is publish → accepted by the sink.
//!
//! `LATENCY_PROFILE="perf record -F 1000 -g -o quiet.data"` attaches that profiler to the
//! daemon for the quiet window.
//!
//! Ends with one summary line:
//!   latency: feeds=… interval=…s events=… min=…s median=…s p95=…s max=…s limit=…s
//!   idle_cpu=…% polls=…/s rss=…MB

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as AxPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ceasefire_watch::classify::Classifier;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[path = "support/items.rs"]
mod items;

/// One feed: its version (the ETag) and its current body.
struct Feed {
    version: u64,
    body: Bytes,
    /// Items on it, newest first, as (guid, title, summary, RFC 2822 date).
    items: Vec<(String, String, String, String)>,
}

struct Site {
    feeds: Vec<Mutex<Feed>>,
    requests: Vec<std::sync::atomic::AtomicU64>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn render(items: &[(String, String, String, String)]) -> Bytes {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Latency wire</title><link>https://news.example.org/</link><description>bench</description>\n",
    );
    for (guid, title, summary, date) in items {
        let _ = writeln!(
            xml,
            "<item><guid isPermaLink=\"false\">{guid}</guid><title>{}</title><link>https://news.example.org/{guid}</link><description>{}</description><pubDate>{date}</pubDate></item>",
            esc(title),
            esc(summary),
        );
    }
    xml.push_str("</channel></rss>\n");
    Bytes::from(xml)
}

async fn feed(State(site): State<Arc<Site>>, AxPath(i): AxPath<usize>, h: HeaderMap) -> Response {
    let Some(feed) = site.feeds.get(i) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    site.requests[i].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (etag, body) = {
        let f = feed.lock().unwrap();
        (format!("\"v{}\"", f.version), f.body.clone())
    };
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
        ],
        body,
    )
        .into_response()
}

/// An SMTP sink: accepts every message and notes when it accepted it.
type Accepted = Arc<Mutex<Vec<(Instant, String)>>>;

async fn smtp_session(stream: tokio::net::TcpStream, accepted: Accepted) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let verb = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if verb.starts_with("EHLO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if verb.starts_with("DATA") {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut message = String::new();
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                message.push_str(&line);
            }
            accepted.lock().unwrap().push((Instant::now(), message));
            b"250 accepted\r\n"
        } else if verb.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 ok\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// utime + stime of `pid`, in seconds, and its peak RSS in MB.
fn cpu_and_peak(pid: u32) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the daemon runs");
    // Fields after the command name (which is in parentheses): state is field 3.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let hwm_kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    // Linux reports these in USER_HZ, 100 per second on every mainstream build.
    (ticks / 100.0, hwm_kb / 1024.0)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Titles of distinct events that each carry a signal: every one a story of its own.
fn event_titles(classifier: &Classifier, n: usize) -> Vec<String> {
    const WHO: &[&str] = &[
        "Peskov",
        "Lavrov",
        "Ushakov",
        "Zakharova",
        "the Kremlin",
        "Putin",
    ];
    const WHAT: &[&str] = &[
        "rejects the Riyadh energy truce",
        "turns down the Vatican Easter ceasefire",
        "dismisses the Geneva Black Sea moratorium",
        "rejects the Istanbul 30-day truce plan",
        "calls the Helsinki holiday truce unacceptable",
        "refuses the Ankara grain corridor ceasefire",
    ];
    const WHEN: &[&str] = &[
        "after overnight talks",
        "citing frontline gains",
        "in a televised briefing",
        "as envoys meet in Doha",
        "before the Minsk summit",
        "during the Baku forum",
        "on state television",
        "in a Telegram statement",
    ];
    let mut out = Vec::new();
    'outer: for when in WHEN {
        for (k, what) in WHAT.iter().enumerate() {
            let who = WHO[(k + out.len()) % WHO.len()];
            let title = format!("{who} {what} {when}");
            if !classifier.classify(&title, "").signals.is_empty() {
                out.push(title);
            }
            if out.len() == n {
                break 'outer;
            }
        }
    }
    assert_eq!(out.len(), n, "not enough signal titles for {n} events");
    out
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: usize = env_or("LATENCY_FEEDS", 1000);
    let interval_s: u64 = env_or("LATENCY_INTERVAL_S", 30);
    let events: usize = env_or("LATENCY_EVENTS", 12);
    let interval = Duration::from_secs(interval_s);
    let classifier = Classifier::builtin();

    // Feeds of 20 ordinary items each (none a signal: the first cycle alerts nothing).
    let date = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc2822();
    let mut plain = items::items(n * 40, 20)
        .into_iter()
        .filter(|(t, s)| classifier.classify(t, s).signals.is_empty());
    let feeds: Vec<Mutex<Feed>> = (0..n)
        .map(|f| {
            let items: Vec<_> = (0..20)
                .map(|k| {
                    let (t, s) = plain.next().expect("enough ordinary items");
                    (format!("f{f}-i{k}"), t, s, date.clone())
                })
                .collect();
            Mutex::new(Feed {
                version: 1,
                body: render(&items),
                items,
            })
        })
        .collect();
    let site = Arc::new(Site {
        feeds,
        requests: (0..n).map(|_| Default::default()).collect(),
    });
    let requests = |site: &Site| -> Vec<u64> {
        site.requests
            .iter()
            .map(|r| r.load(std::sync::atomic::Ordering::Relaxed))
            .collect()
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let http = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let http_addr = http.local_addr().unwrap();
    let app = Router::new()
        .route("/feeds/{i}", get(feed))
        .with_state(site.clone());
    rt.spawn(async move { axum::serve(http, app).await.unwrap() });
    let smtp = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let smtp_port = smtp.local_addr().unwrap().port();
    let accepted: Accepted = Arc::default();
    let sink = accepted.clone();
    rt.spawn(async move {
        loop {
            let (stream, _) = smtp.accept().await.unwrap();
            tokio::spawn(smtp_session(stream, sink.clone()));
        }
    });

    // Every injected event is its own story (`similarity = 1.0`: only a report whose words
    // are all in another's joins it), so each one is an alert to time. All feeds are on one
    // loopback host, so the per-host limit is raised (real feeds are on many hosts).
    let dir = tempfile::tempdir().unwrap();
    let mut config = format!(
        "[daemon]\nstate_dir = \"{}\"\nadaptive = false\n\
         [fetch]\nconcurrency = 32\nper_host = 32\n\
         [stories]\nsimilarity = 1.0\n\
         [smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\nfrom = \"alerts@example.org\"\n\
         [[subscribers]]\nname = \"ops\"\nemail = \"ops@example.org\"\n",
        dir.path().join("state").display()
    );
    for i in 0..n {
        let _ = write!(
            config,
            "[[feeds]]\nname = \"f{i}\"\nurl = \"http://{http_addr}/feeds/{i}\"\ninterval = \"{interval_s}s\"\n"
        );
    }
    let config_path = dir.path().join("latency.toml");
    std::fs::write(&config_path, config).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_ceasefire-watch"));
    let mut daemon = std::process::Command::new(bin)
        .arg("--config")
        .arg(&config_path)
        .arg("run")
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("the daemon starts");
    let pid = daemon.id();

    // Steady state: every feed polled twice (the cold first poll, then a 304).
    let started = Instant::now();
    while requests(&site).iter().any(|&r| r < 2) {
        assert!(
            started.elapsed() < interval * 3 + Duration::from_secs(60),
            "feeds not polled twice"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!(
        "latency: every feed polled twice after {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // Quiet: two intervals with nothing new.
    let quiet = interval * 2;
    let (cpu0, _) = cpu_and_peak(pid);
    let polls0: u64 = requests(&site).iter().sum();
    let t0 = Instant::now();
    // LATENCY_PROFILE="perf record -F 1000 -g -o quiet.data": a profiler attached to the
    // daemon for the quiet window.
    match std::env::var("LATENCY_PROFILE") {
        Ok(profiler) => {
            let mut words = profiler.split_whitespace();
            let status = std::process::Command::new(words.next().expect("a profiler command"))
                .args(words)
                .arg("-p")
                .arg(pid.to_string())
                .arg("--")
                .arg("sleep")
                .arg(quiet.as_secs().to_string())
                .status();
            assert!(status.is_ok_and(|s| s.success()), "the profiler ran");
        }
        Err(_) => std::thread::sleep(quiet),
    }
    let (cpu1, _) = cpu_and_peak(pid);
    let polls1: u64 = requests(&site).iter().sum();
    let window = t0.elapsed().as_secs_f64();
    let idle_cpu = (cpu1 - cpu0) / window * 100.0;
    let poll_rate = (polls1 - polls0) as f64 / window;
    eprintln!(
        "latency: quiet {window:.0}s: {:.2}s CPU ({idle_cpu:.2}% of one core), {poll_rate:.1} polls/s",
        cpu1 - cpu0
    );

    // Events: one signal item at a time on a random feed, at a random moment.
    let titles = event_titles(&classifier, events);
    let mut published: HashMap<String, Instant> = HashMap::new();
    for (k, title) in titles.iter().enumerate() {
        std::thread::sleep(Duration::from_millis(
            500 + rand::random::<u64>() % (interval.as_millis() as u64 / 4).max(1),
        ));
        let f = (k * 7919 + (rand::random::<u32>() % 97) as usize) % n;
        let mut feed = site.feeds[f].lock().unwrap();
        let now = chrono::Utc::now().to_rfc2822();
        feed.items.insert(
            0,
            (
                format!("f{f}-event{k}"),
                title.clone(),
                "Officials said the proposal would not be considered.".to_owned(),
                now,
            ),
        );
        feed.items.truncate(20);
        feed.version += 1;
        feed.body = render(&feed.items);
        published.insert(title.clone(), Instant::now());
    }
    let deadline = Instant::now() + interval + Duration::from_secs(30);
    let mut latencies: Vec<(f64, String)> = Vec::new();
    loop {
        latencies.clear();
        for (at, message) in accepted.lock().unwrap().iter() {
            // The title is in the message (quoted-printable may fold it: unfold first).
            let text = message.replace("=\r\n", "").replace("\r\n ", " ");
            for (title, t) in &published {
                if text.contains(title.as_str()) {
                    latencies.push((at.duration_since(*t).as_secs_f64(), title.clone()));
                }
            }
        }
        if latencies.len() >= published.len() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let (_, rss) = cpu_and_peak(pid);
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
    let _ = daemon.wait();
    for (l, title) in &latencies {
        eprintln!("latency:   {l:6.2}s  {title}");
    }
    assert_eq!(
        latencies.len(),
        published.len(),
        "every event alerted once (mails: {})",
        accepted.lock().unwrap().len()
    );
    let mut sorted: Vec<f64> = latencies.iter().map(|(l, _)| *l).collect();
    sorted.sort_by(f64::total_cmp);
    let pct = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    println!(
        "latency: feeds={n} interval={interval_s}s events={} min={:.2}s median={:.2}s p95={:.2}s max={:.2}s limit={:.1}s idle_cpu={idle_cpu:.2}% polls={poll_rate:.1}/s rss={rss:.1}MB",
        sorted.len(),
        sorted[0],
        pct(0.5),
        pct(0.95),
        sorted[sorted.len() - 1],
        interval_s as f64 + 1.0,
    );
}
