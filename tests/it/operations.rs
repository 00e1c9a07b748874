//! Running it as a service: live reload, /metrics and /healthz, systemd notifications,
//! per-host politeness.

use std::time::Duration;

use crate::helpers::*;

fn base(smtp_port: u16, http_port: u16) -> String {
    format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
shutdown_grace = "2s"
[http]
listen = "127.0.0.1:{http_port}"
failing_after = "1s"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "alerts@example.org"
[[subscribers]]
name = "ops"
email = "ops@example.org"
"#
    )
}

fn feed(name: &str, url: &str) -> String {
    format!("[[feeds]]\nname = \"{name}\"\nurl = \"{url}\"\ninterval = \"1s\"\n")
}

async fn get(port: u16, path: &str) -> (u16, String) {
    ceasefire_watch::net::install_crypto_provider();
    let r = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
        .await
        .expect("the HTTP listener answers");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_adds_and_removes_feeds_and_refuses_a_broken_config() {
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start();
    feeds.set("a", rss(&[("a1", "Weather: snow in the Carpathians", "")]));
    feeds.set(
        "b",
        rss(&[(
            "b1",
            "Kremlin rejects the Easter truce proposed by the Vatican",
            "",
        )]),
    );
    let http = free_port();
    let app = TestApp::new(&format!(
        "{}{}",
        base(smtp.port, http),
        feed("a", &feeds.url("a"))
    ));
    let daemon = app.spawn_daemon();
    assert!(wait_for(Duration::from_secs(20), || feeds.requests("a").len() >= 2).await);
    assert!(feeds.requests("b").is_empty());

    // Add b.
    app.write_config(&format!(
        "{}{}{}",
        base(smtp.port, http),
        feed("a", &feeds.url("a")),
        feed("b", &feeds.url("b"))
    ));
    signal(&daemon, "HUP");
    assert!(
        wait_for(Duration::from_secs(20), || smtp.mails().len() == 1).await,
        "the feed added by reload was not polled"
    );

    // Remove a: it is polled no more; b goes on, and its alert is not sent again.
    app.write_config(&format!(
        "{}{}",
        base(smtp.port, http),
        feed("b", &feeds.url("b"))
    ));
    signal(&daemon, "HUP");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let a_polls = feeds.requests("a").len();
    let b_polls = feeds.requests("b").len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        feeds.requests("a").len(),
        a_polls,
        "a removed feed is still polled"
    );
    assert!(feeds.requests("b").len() > b_polls);

    // A broken config is refused; the running one stays.
    app.write_config("[[feeds]]\nname = \"x\"\nurl = \"not a url\"\n");
    signal(&daemon, "HUP");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let b_polls = feeds.requests("b").len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        feeds.requests("b").len() > b_polls,
        "the old config stopped"
    );
    let (status, metrics) = get(http, "/metrics").await;
    assert_eq!(status, 200);
    assert!(
        metrics.contains("ceasefire_watch_config_reloads_total 2"),
        "{metrics}"
    );
    assert_eq!(
        smtp.mails().len(),
        1,
        "nothing alerted twice across reloads"
    );

    signal(&daemon, "TERM");
    let out = tokio::time::timeout(Duration::from_secs(15), daemon.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{log}");
    assert!(log.contains("config reloaded"), "{log}");
    assert!(log.contains("the new config is refused"), "{log}");
    assert!(
        log.contains("feeds[0].url"),
        "the errors are logged with their keys: {log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_and_healthz_after_a_few_polls() {
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start();
    feeds.set(
        "good",
        rss(&[("g1", "Pentagon pauses weapons shipments to Ukraine", "")]),
    );
    feeds.set_raw("bad", 500, "text/plain", "down");
    let http = free_port();
    let app = TestApp::new(&format!(
        "{}{}{}",
        base(smtp.port, http),
        feed("good", &feeds.url("good")),
        feed("bad", &feeds.url("bad"))
    ));
    let daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || feeds.requests("good").len()
            >= 3)
        .await
    );
    assert!(wait_for(Duration::from_secs(10), || smtp.mails().len() == 1).await);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (status, m) = get(http, "/metrics").await;
    assert_eq!(status, 200);
    for needle in [
        "ceasefire_watch_build_info{version=\"",
        "ceasefire_watch_polls_total{feed=\"good\",result=\"ok\"} 1",
        "ceasefire_watch_polls_total{feed=\"good\",result=\"not_modified\"}",
        "ceasefire_watch_polls_total{feed=\"bad\",result=\"status\"}",
        "ceasefire_watch_fetch_duration_seconds_count",
        "ceasefire_watch_items_seen_total 1",
        "ceasefire_watch_signals_total{signal=\"us_aid_paused\"} 1",
        "ceasefire_watch_alerts_total{channel=\"email\",result=\"delivered\"} 1",
        "ceasefire_watch_outbox_pending 0",
        "ceasefire_watch_outbox_dead 0",
        "ceasefire_watch_last_success_timestamp_seconds{feed=\"good\"}",
    ] {
        assert!(m.contains(needle), "missing {needle}:\n{m}");
    }
    let (status, body) = get(http, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("ok\n"), "{body}");
    assert!(body.contains("feed bad: failing for"), "{body}");
    assert!(body.contains("500"), "{body}");
    signal(&daemon, "TERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn systemd_hears_ready_status_watchdog_reloading_and_stopping() {
    let feeds = FeedServer::start().await;
    feeds.set("a", rss(&[("a1", "Weather: snow in the Carpathians", "")]));
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let app = TestApp::new(&format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n{}",
        feed("a", &feeds.url("a"))
    ));
    let daemon = app.spawn_daemon_with_env(&[
        ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
        ("WATCHDOG_USEC", "400000"),
    ]);
    let mut heard = Vec::new();
    let listen = |heard: &mut Vec<String>, until: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut buf = [0u8; 4096];
        while std::time::Instant::now() < deadline {
            if let Ok(n) = socket.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                let done = msg.lines().any(|l| l == until);
                heard.push(msg);
                if done {
                    return true;
                }
            }
        }
        false
    };
    assert!(listen(&mut heard, "READY=1"), "{heard:?}");
    assert!(listen(&mut heard, "WATCHDOG=1"), "{heard:?}");
    assert!(
        heard
            .iter()
            .any(|m| m.starts_with("STATUS=1 feeds (0 failing)")),
        "{heard:?}"
    );
    signal(&daemon, "HUP");
    assert!(listen(&mut heard, "RELOADING=1"), "{heard:?}");
    assert!(listen(&mut heard, "READY=1"), "{heard:?}");
    signal(&daemon, "TERM");
    assert!(listen(&mut heard, "STOPPING=1"), "{heard:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_of_one_host_are_fetched_one_at_a_time() {
    let feeds = FeedServer::start().await;
    feeds.set_delay(Duration::from_millis(300));
    for name in ["s1", "s2", "s3", "s4"] {
        feeds.set(name, rss(&[]));
    }
    let config = format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n{}{}{}{}",
        feed("s1", &feeds.url("s1")),
        feed("s2", &feeds.url("s2")),
        feed("s3", &feeds.url("s3")),
        feed("s4", &feeds.url("s4"))
    );
    let app = TestApp::new(&config);
    let daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || ["s1", "s2", "s3", "s4"]
            .iter()
            .all(|f| feeds.requests(f).len() >= 2))
        .await
    );
    assert_eq!(feeds.max_in_flight(), 1, "one site, one fetch at a time");
    signal(&daemon, "TERM");

    // With fetch.per_host = 4 they may overlap.
    let feeds2 = FeedServer::start().await;
    feeds2.set_delay(Duration::from_millis(300));
    for name in ["s1", "s2", "s3", "s4"] {
        feeds2.set(name, rss(&[]));
    }
    let app = TestApp::new(&format!(
        "{}[fetch]\nper_host = 4\n",
        config.replace(&feeds.addr.to_string(), &feeds2.addr.to_string())
    ));
    let daemon = app.spawn_daemon();
    assert!(wait_for(Duration::from_secs(20), || feeds2.max_in_flight() > 1).await);
    signal(&daemon, "TERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stuck_poll_loop_stops_the_watchdog_and_fails_healthz() {
    let feeds = FeedServer::start().await;
    // The only feed never answers within the test: no poll finishes.
    feeds.set_delay(Duration::from_secs(120));
    feeds.set("hung", rss(&[]));
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let http = free_port();
    let app = TestApp::new(&format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\nstalled_after = \"2s\"\nshutdown_grace = \"1s\"\n\
         [fetch]\ntimeout = \"300s\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n{}",
        feed("hung", &feeds.url("hung"))
    ));
    let started = std::time::Instant::now();
    let daemon = app.spawn_daemon_with_env(&[
        ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
        ("WATCHDOG_USEC", "400000"),
    ]);
    // Messages for six seconds, with when they came.
    let mut heard: Vec<(Duration, String)> = Vec::new();
    let mut buf = [0u8; 4096];
    while started.elapsed() < Duration::from_secs(6) {
        if let Ok(n) = socket.recv(&mut buf) {
            heard.push((
                started.elapsed(),
                String::from_utf8_lossy(&buf[..n]).into_owned(),
            ));
        }
    }
    let pings = |from: u64, to: u64| {
        heard
            .iter()
            .filter(|(t, m)| {
                *t >= Duration::from_secs(from)
                    && *t < Duration::from_secs(to)
                    && m.lines().any(|l| l == "WATCHDOG=1")
            })
            .count()
    };
    assert!(pings(0, 2) > 0, "fed while within the limit: {heard:?}");
    assert_eq!(pings(4, 6), 0, "fed although no poll finished: {heard:?}");
    assert!(
        heard
            .iter()
            .any(|(t, m)| *t >= Duration::from_secs(4) && m.starts_with("STATUS=")),
        "the status goes on: {heard:?}"
    );
    let (status, body) = get(http, "/healthz").await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body.starts_with("unhealthy: poll loop: no poll has finished"),
        "{body}"
    );
    signal(&daemon, "TERM");
    let out = tokio::time::timeout(Duration::from_secs(15), daemon.wait_with_output())
        .await
        .expect("a hung poll does not keep the daemon from stopping")
        .unwrap();
    assert!(out.status.success());
}

/// The schedule itself (doubling, jitter, caps, Retry-After over backoff) is tested
/// in-process on a paused clock (`app::tests`); this shows the real binary reads the header
/// and counts failures in a row.
#[tokio::test(flavor = "multi_thread")]
async fn retry_after_and_backoff_show_in_the_schedule() {
    let feeds = FeedServer::start().await;
    // Asked to wait 2 s; and a feed that keeps failing.
    feeds.set_retry_after("busy", 429, 2);
    feeds.set_raw("down", 500, "text/plain", "down");
    feeds.set("fine", rss(&[]));
    let app = TestApp::new(&format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n[fetch]\nper_host = 3\n{}{}{}",
        feed("busy", &feeds.url("busy")),
        feed("down", &feeds.url("down")),
        feed("fine", &feeds.url("fine"))
    ));
    let daemon = app.spawn_daemon();
    // Three polls of the failing feed: two waits, the second twice the first.
    assert!(
        wait_for(Duration::from_secs(20), || feeds.requests("down").len()
            >= 3
            && feeds.requests("busy").len() >= 2)
        .await
    );
    signal(&daemon, "TERM");
    let gaps = |name: &str| -> Vec<f64> {
        feeds
            .requests(name)
            .windows(2)
            .map(|w| (w[1].at - w[0].at).as_secs_f64())
            .collect()
    };
    // Every interval is 1 s (±10 %).
    let fine = gaps("fine");
    assert!(fine.len() >= 2 && fine.iter().all(|g| *g < 1.5), "{fine:?}");
    // Retry-After: 2 is honoured over the 1 s interval.
    let busy = gaps("busy");
    assert!(
        !busy.is_empty() && busy.iter().all(|g| *g >= 1.9),
        "{busy:?}"
    );
    // Failures double the wait: ~1 s, ~2 s.
    let down = gaps("down");
    assert!(down.len() >= 2, "{down:?}");
    assert!(down[0] >= 0.85 && down[0] < 1.5, "{down:?}");
    assert!(down[1] >= 1.75 && down[1] < 2.5, "{down:?}");
}

/// `/healthz` asked every 200 ms until it answers `status` (at most 20 s): the last answer.
async fn healthz_until(port: u16, status: u16) -> (u16, String) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let answer = get(port, "/healthz").await;
        if answer.0 == status || std::time::Instant::now() > deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn healthz_turns_503_when_the_store_takes_no_writes() {
    let feeds = FeedServer::start().await;
    feeds.set("a", rss(&[]));
    let http = free_port();
    let app = TestApp::new(&format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n[http]\nlisten = \"127.0.0.1:{http}\"\n{}",
        feed("a", &feeds.url("a"))
    ));
    let daemon = app.spawn_daemon();
    assert!(wait_for(Duration::from_secs(20), || feeds.requests("a").len() >= 2).await);
    assert_eq!(get(http, "/healthz").await.0, 200);
    // Another process takes the database's write lock and keeps it, as a stuck backup job
    // or a hung writer would: every write of the daemon waits and fails.
    let db = app.state_dir.join("ceasefire-watch.db");
    let mut holder = tokio::process::Command::new(python())
        .arg("-c")
        .arg(
            "import sqlite3, sys\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)\n\
             c.execute('BEGIN EXCLUSIVE')\n\
             print('locked', flush=True)\n\
             sys.stdin.read()\n",
        )
        .arg(&db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    let mut line = String::new();
    tokio::io::AsyncBufReadExt::read_line(
        &mut tokio::io::BufReader::new(holder.stdout.take().unwrap()),
        &mut line,
    )
    .await
    .unwrap();
    assert_eq!(line.trim(), "locked");
    // The write probe's answer stands for up to 10 s: the next probe after it fails.
    let (status, body) = healthz_until(http, 503).await;
    // Closing its stdin ends the holder and frees the lock.
    drop(holder.stdin.take());
    holder.wait().await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with("unhealthy: store: cannot write"), "{body}");
    // Writable again: healthy again, at the next probe.
    assert_eq!(healthz_until(http, 200).await.0, 200);
    signal(&daemon, "TERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_websub_hub_is_logged_once_and_the_feed_still_polled() {
    let feeds = FeedServer::start().await;
    let with_hub = |n: usize| {
        format!(
            r#"<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>Hub</title><link>https://example.org/</link><atom:link rel="hub" href="https://hub.example.net/"/><item><guid>i{n}</guid><title>Harvest report {n}</title></item></channel></rss>"#
        )
    };
    feeds.set("h", with_hub(0));
    let app = TestApp::new(&format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n{}",
        feed("h", &feeds.url("h"))
    ));
    let daemon = app.spawn_daemon();
    // A new body each poll: parsed each time, and the hub seen each time.
    for n in 1..=3 {
        let before = feeds.requests("h").len();
        assert!(
            wait_for(Duration::from_secs(20), || feeds.requests("h").len()
                > before)
            .await
        );
        feeds.set("h", with_hub(n));
    }
    assert!(wait_for(Duration::from_secs(20), || feeds.requests("h").len() >= 4).await);
    signal(&daemon, "TERM");
    let out = tokio::time::timeout(Duration::from_secs(15), daemon.wait_with_output())
        .await
        .expect("the daemon stops")
        .unwrap();
    let log = format!("{}{}", stdout(&out), stderr(&out));
    let hub_lines: Vec<&str> = log.lines().filter(|l| l.contains("WebSub hub")).collect();
    assert_eq!(hub_lines.len(), 1, "logged once, not per poll:\n{log}");
    assert!(
        hub_lines[0].contains("https://hub.example.net/"),
        "{}",
        hub_lines[0]
    );
    assert!(hub_lines[0].contains("feed=h"), "{}", hub_lines[0]);
}

/// Under systemd (stdout is the journal) each line carries its syslog priority for journald;
/// `--log-format json` (or `daemon.log_format`) writes one JSON object per line.
#[tokio::test(flavor = "multi_thread")]
async fn log_lines_carry_journald_priorities_and_can_be_json() {
    let feeds = FeedServer::start().await;
    feeds.set("ok", rss(&[]));
    feeds.set_raw("down", 500, "text/plain", "down");
    let config = format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n{}{}",
        feed("ok", &feeds.url("ok")),
        feed("down", &feeds.url("down"))
    );
    let app = TestApp::new(&config);
    let out = app
        .cli_with_env(&["run", "--once"], &[("JOURNAL_STREAM", "8:12345")])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stdout(&out);
    let lines: Vec<&str> = log.lines().collect();
    assert!(!lines.is_empty());
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('<') && l.as_bytes()[2] == b'>'),
        "every line has a priority: {log}"
    );
    let failure = lines
        .iter()
        .find(|l| l.contains("down") && l.contains("500"))
        .unwrap_or_else(|| panic!("the failing feed is logged: {log}"));
    assert!(
        failure.starts_with("<4>") || failure.starts_with("<3>"),
        "{failure}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>") && l.contains("cycle done")),
        "{log}"
    );

    let out = app.cli(&["--log-format", "json", "run", "--once"]).await;
    let log = stdout(&out);
    for line in log.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string(), "{line}");
    }
    assert!(log.contains("\"cycle done\""), "{log}");

    // The config key does the same; a bad value names the key.
    let written = std::fs::read_to_string(&app.config_path).unwrap();
    std::fs::write(
        &app.config_path,
        written.replace("[daemon]\n", "[daemon]\nlog_format = \"json\"\n"),
    )
    .unwrap();
    let out = app.cli(&["run", "--once"]).await;
    assert!(
        stdout(&out).lines().all(|l| l.starts_with('{')),
        "{}",
        stdout(&out)
    );
    std::fs::write(
        &app.config_path,
        written.replace("[daemon]\n", "[daemon]\nlog_format = \"yaml\"\n"),
    )
    .unwrap();
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("daemon.log_format"),
        "{}",
        stdout(&out)
    );
}
