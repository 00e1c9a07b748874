//! Several daemons on one PostgreSQL: feeds split between them, each alert sent once, and a
//! daemon killed with SIGKILL handing its feeds to the survivor.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers::*;

const FEEDS: [&str; 4] = ["f1", "f2", "f3", "f4"];

fn config(db: &str, feeds: &FeedServer, hooks: &WebhookServer, http: u16) -> String {
    let mut c = format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
shutdown_grace = "2s"
[store]
url = "{db}"
lease = "5s"
[http]
listen = "127.0.0.1:{http}"
[[webhooks]]
name = "all"
url = "{}"
"#,
        hooks.url("all")
    );
    for f in FEEDS {
        c.push_str(&format!(
            "[[feeds]]\nname = \"{f}\"\nurl = \"{}\"\ninterval = \"1s\"\n",
            feeds.url(f)
        ));
    }
    c
}

/// "N feeds held" from a daemon's /healthz.
async fn held(port: u16) -> Option<usize> {
    ceasefire_watch::net::install_crypto_provider();
    let text = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let line = text.lines().find(|l| l.starts_with("leases: "))?;
    line.trim_start_matches("leases: ")
        .split(' ')
        .next()?
        .parse()
        .ok()
}

/// The daemon's id, from its /healthz.
async fn daemon_id(port: u16) -> String {
    let (_, text) = crate::faults::http_get(port, "/healthz").await;
    let line = text.lines().find(|l| l.starts_with("leases: ")).unwrap();
    let start = line.find('(').unwrap() + 1;
    let end = line.find(')').unwrap();
    line[start..end].to_owned()
}

/// Each received alert's idempotency key, with how many times it came.
fn keys(hooks: &WebhookServer) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for h in hooks.received("all") {
        let key = h.headers["idempotency-key"].to_str().unwrap().to_owned();
        *seen.entry(key).or_default() += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_share_the_feeds_alert_once_and_the_survivor_of_a_kill_takes_over() {
    let Some(db) = postgres_database("two daemons on one PostgreSQL").await else {
        return;
    };
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    // What each feed carries; an item published is added to its feed's list.
    let mut carried: BTreeMap<&str, Vec<(&str, &str, &str)>> = BTreeMap::new();
    let mut publish = |feed: &'static str, guid: &'static str, title: &'static str| {
        let items = carried.entry(feed).or_default();
        items.push((guid, title, ""));
        feeds.set(feed, rss(items));
    };
    publish(
        "f1",
        "a1",
        "Kremlin rejects US proposal for a 30-day ceasefire",
    );
    publish("f2", "b1", "Pentagon halts weapons shipments to Ukraine");
    publish("f3", "c1", "US pauses intelligence sharing with Ukraine");
    publish("f4", "d1", "Weather in Kyiv stays mild");
    let (port_a, port_b) = (free_port(), free_port());
    let a = TestApp::new(&config(&db, &feeds, &hooks, port_a));
    let b = TestApp::new(&config(&db, &feeds, &hooks, port_b));
    let check = a.cli(&["check-config"]).await;
    assert!(
        stdout(&check).contains("store: PostgreSQL 1"),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    let mut daemon_a = a.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(15), || hooks.received("all").len() == 3).await,
        "the first daemon alone alerts on the three signal items"
    );
    let mut daemon_b = b.spawn_daemon();
    // The work spreads: within a few beats each holds two of the four feeds.
    let mut split = (None, None);
    for _ in 0..40 {
        split = (held(port_a).await, held(port_b).await);
        if split == (Some(2), Some(2)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(
        split,
        (Some(2), Some(2)),
        "each daemon polls half the feeds"
    );

    // Both alive: a new item on two feeds, each alerted once.
    publish(
        "f1",
        "a2",
        "Putin agrees to a 30-day moratorium on strikes against energy infrastructure",
    );
    publish("f2", "b2", "US resumes military aid shipments to Ukraine");
    assert!(
        wait_for(Duration::from_secs(15), || hooks.received("all").len() == 5).await,
        "two more alerts: {:?}",
        keys(&hooks)
    );

    // One daemon dies without a word; items published after on its feeds are alerted by the
    // survivor. (`feeds` reads who polls what from either host.)
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&b.cli(&["feeds", "--json"]).await)).unwrap();
    let id_b = daemon_id(port_b).await;
    let of_a: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["polled_by"].as_str().is_some_and(|d| d != id_b))
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(of_a.len(), 2, "{listed}");
    signal(&daemon_a, "KILL");
    let _ = daemon_a.wait().await;
    let killed = std::time::Instant::now();
    // Two new events, each on one of the dead daemon's feeds.
    let news = [
        ("n1", "Washington restores intelligence sharing with Kyiv"),
        (
            "n2",
            "Kremlin offers a ceasefire if Kyiv withdraws from four regions",
        ),
    ];
    for (feed, (guid, title)) in of_a.iter().zip(news) {
        let feed = FEEDS.into_iter().find(|f| f == feed).unwrap();
        publish(feed, guid, title);
    }
    assert!(
        wait_for(Duration::from_secs(30), || hooks.received("all").len() == 7).await,
        "the survivor alerts on what the dead daemon's feeds publish: {:?}",
        keys(&hooks)
    );
    let took = killed.elapsed();
    assert_eq!(held(port_b).await, Some(4), "the survivor holds every feed");
    let (_, metrics) = crate::faults::http_get(port_b, "/metrics").await;
    assert!(
        metrics.contains("ceasefire_watch_leases_held 4"),
        "{metrics}"
    );
    assert!(
        !metrics.contains("ceasefire_watch_lease_takeovers_total 0\n"),
        "{metrics}"
    );

    // Nothing was sent twice, and nothing more comes.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let seen = keys(&hooks);
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert!(seen.values().all(|&n| n == 1), "{seen:?}");
    // Status and outbox read the shared store from any host.
    let status = stdout(&b.cli(&["status"]).await);
    assert!(
        status.contains("resumed") && status.contains("conditional"),
        "{status}"
    );
    eprintln!("takeover after SIGKILL: alerts resumed {took:?} after the kill");
    signal(&daemon_b, "TERM");
    let _ = daemon_b.wait().await;
}
