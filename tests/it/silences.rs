//! Silences from the command line, against the real binary and SMTP server: a silenced
//! alert is recorded and not sent, shows in `status` and `outbox`, survives restarts (each
//! `run --once` is one), and nothing is sent late when the silence ends.

use std::time::Duration;

use crate::helpers::*;

const REJECTION: (&str, &str, &str) = (
    "r1",
    "Kremlin turns down the 30-day truce offered by Washington",
    "Dmitry Peskov said Moscow saw no basis for a pause in the fighting.",
);
const PAUSE: (&str, &str, &str) = (
    "p1",
    "Pentagon halts weapons shipments to Ukraine",
    "The United States has paused deliveries of air-defence interceptors to Kyiv.",
);
const OTHER_REJECTION: (&str, &str, &str) = (
    "r2",
    "Lavrov dismisses the Vatican's Easter truce proposal",
    "Russia's foreign minister said the offer ignored the situation at the front.",
);

#[tokio::test(flavor = "multi_thread")]
async fn a_silenced_alert_is_recorded_not_sent_and_never_sent_late() {
    let w = World::start().await;
    w.feeds.set("wire", rss(&[]));
    let app = TestApp::new(&w.config(&["wire"]));

    // Unknown names are refused, naming what is known.
    let out = app
        .cli(&["silence", "add", "russia_rejectz", "--for", "1h"])
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("russia_rejects"), "{}", stderr(&out));
    let out = app
        .cli(&[
            "silence",
            "add",
            "russia_rejects",
            "--for",
            "1h",
            "--subscriber",
            "nobody",
        ])
        .await;
    assert!(stderr(&out).contains("rejections"), "{}", stderr(&out));

    // Rejections muted for the "everything" subscriber only.
    let out = app
        .cli(&[
            "silence",
            "add",
            "russia_rejects",
            "--for",
            "8h",
            "--subscriber",
            "everything",
            "--comment",
            "night shift",
        ])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let line = stdout(&out);
    let id = line.split_whitespace().next().unwrap().to_owned();
    assert!(id.starts_with("si-"), "{line}");
    assert!(line.contains("for everything until"), "{line}");

    w.feeds.set("wire", rss(&[REJECTION, PAUSE]));
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("rejections@example.org")
            .len()
            == 1)
        .await
    );
    // The pause reaches "everything"; its rejection does not.
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("everything@example.org")
            .len()
            == 1)
        .await
    );
    let everything = w.smtp.mails_to("everything@example.org");
    assert!(
        everything[0].subject().contains("Pentagon halts"),
        "{}",
        everything[0].subject()
    );

    // Recorded: in the outbox as silenced, by which silence, and in status.
    let out = app.cli(&["outbox", "--silenced"]).await;
    let listing = stdout(&out);
    assert!(listing.contains("silenced"), "{listing}");
    assert!(listing.contains("email:everything"), "{listing}");
    assert!(listing.contains(&format!("silenced by {id}")), "{listing}");
    assert!(listing.contains("silenced=1"), "{listing}");
    let status = stdout(&app.cli(&["status"]).await);
    assert!(
        status.contains(&id) && status.contains("night shift"),
        "{status}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&app.cli(&["status", "--json"]).await)).unwrap();
    assert_eq!(json["silences"][0]["id"], id.as_str());
    assert_eq!(json["outbox"]["silenced"], 1);

    // Ended: nothing it muted is sent late; a new rejection is sent.
    let out = app.cli(&["silence", "expire", &id]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let out = app.cli(&["silence", "expire", &id]).await;
    assert_eq!(out.status.code(), Some(1), "expired twice");
    assert_eq!(
        stdout(&app.cli(&["silence", "list"]).await).trim(),
        "no silences"
    );
    assert!(stdout(&app.cli(&["silence", "list", "--all"]).await).contains("ended"));
    w.feeds
        .set("wire", rss(&[REJECTION, PAUSE, OTHER_REJECTION]));
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("everything@example.org")
            .len()
            == 2)
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let subjects: Vec<String> = w
        .smtp
        .mails_to("everything@example.org")
        .iter()
        .map(|m| m.subject())
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects[1].contains("Lavrov dismisses"), "{subjects:?}");
    assert!(
        !subjects.iter().any(|s| s.contains("Kremlin turns down")),
        "the silenced alert is never sent: {subjects:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_prints_who_would_get_what_and_a_real_run_still_alerts() {
    let w = World::start().await;
    w.feeds.set("wire", rss(&[REJECTION, PAUSE]));
    let app = TestApp::new(&w.config(&["wire"]));
    let out = app
        .cli(&["silence", "add", "us_aid_paused", "--for", "1h"])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));

    let out = app.cli(&["run", "--once", "--dry-run"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let report = stdout(&out);
    assert!(
        report.contains("would send  email:rejections  russia_rejects  Kremlin turns down"),
        "{report}"
    );
    assert!(
        report.contains("would send  email:everything  russia_rejects"),
        "{report}"
    );
    assert!(
        report.contains("silenced    email:everything  us_aid_paused  Pentagon halts"),
        "{report}"
    );
    assert!(
        report.contains("nothing was sent and nothing recorded"),
        "{report}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(w.smtp.mails().is_empty(), "a dry run sends nothing");
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&app.cli(&["status", "--json"]).await)).unwrap();
    assert_eq!(json["russia"]["status"], "unknown", "and records nothing");

    // The real run still alerts.
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("rejections@example.org")
            .len()
            == 1)
        .await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn run_once_exits_1_when_every_feed_failed() {
    let feeds = FeedServer::start().await;
    feeds.set_raw("a", 500, "text/plain", "down");
    feeds.set_raw("b", 404, "text/plain", "gone");
    let config = format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n[[feeds]]\nname = \"a\"\nurl = \"{}\"\n[[feeds]]\nname = \"b\"\nurl = \"{}\"\n",
        feeds.url("a"),
        feeds.url("b")
    );
    let app = TestApp::new(&config);
    let out = app.cli(&["run", "--once"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("every feed failed (2 of 2)"),
        "{}",
        stderr(&out)
    );
    // One feed back: a partial failure is not the cycle's.
    feeds.set("b", rss(&[]));
    let out = app.cli(&["run", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_and_routes_say_how_each_is_doing_and_who_gets_what() {
    let w = World::start().await;
    w.feeds.set("wire", rss(&[REJECTION]));
    w.feeds.set_raw("down", 503, "text/plain", "maintenance");
    let app = TestApp::new(&w.config(&["wire", "down"]));
    let out = app.cli(&["feeds"]).await;
    assert!(stdout(&out).contains("wire"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("new"),
        "not polled yet: {}",
        stdout(&out)
    );
    app.run_once().await;

    let feeds: serde_json::Value =
        serde_json::from_str(&stdout(&app.cli(&["feeds", "--json"]).await)).unwrap();
    let by_name = |n: &str| {
        feeds
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == n)
            .cloned()
            .unwrap()
    };
    let wire = by_name("wire");
    assert_eq!(wire["result"], "ok");
    assert_eq!(wire["consecutive_failures"], 0);
    assert_eq!(wire["alerts"], 1);
    assert!(wire["next_poll"].is_string(), "{wire}");
    let down = by_name("down");
    assert_eq!(down["result"], "failing");
    assert_eq!(down["consecutive_failures"], 1);
    assert!(
        down["last_error"].as_str().unwrap().contains("503"),
        "{down}"
    );

    app.cli(&[
        "silence",
        "add",
        "russia_rejects",
        "--for",
        "2h",
        "--subscriber",
        "rejections",
    ])
    .await;
    let out = app.cli(&["routes", "russia_rejects"]).await;
    let routes = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    let line = |target: &str| {
        routes
            .lines()
            .find(|l| l.contains(&format!(":{target} ")))
            .unwrap_or_else(|| panic!("no line for {target}: {routes}"))
            .to_owned()
    };
    assert!(line("everything").starts_with("yes"), "{routes}");
    assert!(line("rejections").starts_with("muted"), "{routes}");
    assert!(line("rejections").contains("silenced by si-"), "{routes}");
    assert!(line("aid-desk").starts_with("no"), "{routes}");
    assert!(
        line("aid-desk").contains("asked for us_aid_resumed"),
        "{routes}"
    );
    let out = app.cli(&["routes", "russia_rejectz"]).await;
    assert_eq!(out.status.code(), Some(1));
}
