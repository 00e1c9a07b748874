//! The daemon in its loop: alerts while running, a clean stop on SIGTERM, retries when the
//! mail server comes back.

use std::time::Duration;

use crate::helpers::*;

#[tokio::test(flavor = "multi_thread")]
async fn runs_alerts_and_stops_on_sigterm() {
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start();
    feeds.set(
        "wire",
        rss(&[("x1", "Pentagon pauses weapons shipments to Ukraine", "")]),
    );
    let app = TestApp::new(&format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
shutdown_grace = "5s"
[[feeds]]
name = "wire"
url = "{}"
interval = "1s"
[smtp]
host = "127.0.0.1"
port = {}
security = "none"
from = "alerts@example.org"
[[subscribers]]
name = "ops"
email = "ops@example.org"
"#,
        feeds.url("wire"),
        smtp.port
    ));
    let mut daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || smtp.mails().len() == 1).await,
        "no alert from the daemon"
    );
    // It keeps polling (conditional GETs) without sending again.
    assert!(
        wait_for(Duration::from_secs(10), || feeds.requests("wire").len()
            >= 3)
        .await
    );
    assert!(feeds.requests("wire")[1..].iter().all(|r| r.status == 304));
    // A new item while running is alerted once.
    feeds.set(
        "wire",
        rss(&[
            ("x1", "Pentagon pauses weapons shipments to Ukraine", ""),
            ("x2", "Kremlin rejects the energy truce", ""),
        ]),
    );
    assert!(wait_for(Duration::from_secs(20), || smtp.mails().len() == 2).await);

    signal(&daemon, "TERM");
    let status = tokio::time::timeout(Duration::from_secs(10), daemon.wait())
        .await
        .expect("stops within the grace period")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(smtp.mails().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_server_down_then_up_delivers_exactly_once() {
    let feeds = FeedServer::start().await;
    let port = free_port();
    feeds.set(
        "wire",
        rss(&[("x1", "Kremlin rejects the energy truce", "")]),
    );
    let app = TestApp::new(&format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
[[feeds]]
name = "wire"
url = "{}"
interval = "1h"
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from = "alerts@example.org"
timeout = "3s"
[delivery]
retry_initial = "1s"
retry_max = "2s"
[[subscribers]]
name = "ops"
email = "ops@example.org"
"#,
        feeds.url("wire"),
    ));
    let mut daemon = app.spawn_daemon();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let smtp = SmtpServer::start_with(SmtpOptions {
        port: Some(port),
        ..SmtpOptions::default()
    });
    assert!(
        wait_for(Duration::from_secs(20), || smtp.mails().len() == 1).await,
        "not delivered after the server came up"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(smtp.mails().len(), 1, "delivered exactly once");
    signal(&daemon, "TERM");
    let _ = tokio::time::timeout(Duration::from_secs(10), daemon.wait()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_daemon_on_the_same_state_refuses_to_start() {
    let feeds = FeedServer::start().await;
    feeds.set("wire", rss(&[]));
    let app = TestApp::new(&format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n[[feeds]]\nname = \"wire\"\nurl = \"{}\"\ninterval = \"1h\"\n",
        feeds.url("wire")
    ));
    let mut first = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(10), || !feeds
            .requests("wire")
            .is_empty())
        .await
    );
    let second = app.cli(&["run", "--once"]).await;
    assert_eq!(second.status.code(), Some(1));
    assert!(
        stderr(&second).contains("another ceasefire-watch daemon"),
        "{}",
        stderr(&second)
    );
    signal(&first, "TERM");
    let _ = tokio::time::timeout(Duration::from_secs(10), first.wait()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_errors_are_retried_or_dead_as_their_status_says() {
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    feeds.set(
        "wire",
        rss(&[("x1", "Kremlin rejects the energy truce", "")]),
    );
    hooks.script("flaky", &[500, 503, 500]);
    hooks.script("gone", &[410]);
    let app = TestApp::new(&format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
[[feeds]]
name = "wire"
url = "{}"
interval = "1h"
[delivery]
retry_initial = "1s"
retry_max = "1s"
[[webhooks]]
name = "flaky"
url = "{}"
[[webhooks]]
name = "gone"
url = "{}"
"#,
        feeds.url("wire"),
        hooks.url("flaky"),
        hooks.url("gone"),
    ));
    let mut daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || hooks.received("flaky").len()
            == 1)
        .await,
        "never delivered"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        hooks.attempts("flaky"),
        4,
        "three failures, then one success"
    );
    assert_eq!(hooks.received("flaky").len(), 1, "delivered exactly once");
    assert_eq!(hooks.attempts("gone"), 1, "410 is permanent: not retried");
    assert!(hooks.received("gone").is_empty());
    signal(&daemon, "TERM");
    let _ = tokio::time::timeout(Duration::from_secs(10), daemon.wait()).await;
}

/// A config with one feed and two subscribers on the given SMTP port, and a webhook.
fn two_recipients(feeds: &FeedServer, smtp_port: u16, hook: &str, smtp_timeout: &str) -> String {
    format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
[[feeds]]
name = "wire"
url = "{}"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "alerts@example.org"
timeout = "{smtp_timeout}"
[delivery]
retry_initial = "1s"
retry_max = "2s"
[[subscribers]]
name = "gone"
email = "gone@example.org"
[[subscribers]]
name = "ops"
email = "ops@example.org"
[[webhooks]]
name = "hook"
url = "{hook}"
"#,
        feeds.url("wire")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recipient_rejected_with_550_is_dead_alone() {
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    feeds.set(
        "wire",
        rss(&[("r1", "Kremlin rejects the energy truce", "")]),
    );
    let smtp = SmtpServer::start_with(SmtpOptions {
        reject_rcpt: vec!["gone@".into()],
        ..SmtpOptions::default()
    });
    let app = TestApp::new(&two_recipients(&feeds, smtp.port, &hooks.url("h"), "5s"));
    let out = app.run_once().await;
    let log = stdout(&out);
    assert!(
        wait_for(Duration::from_secs(5), || smtp
            .mails_to("ops@example.org")
            .len()
            == 1)
        .await,
        "{log}"
    );
    assert!(smtp.mails_to("gone@example.org").is_empty());
    assert!(log.contains("dead=1"), "{log}");
    assert!(
        log.lines().any(|l| l.contains("gone") && l.contains("550")),
        "{log}"
    );
    // A second cycle sends nothing again: the dead row is not retried, the sent one is done.
    let out = app.run_once().await;
    assert!(stdout(&out).contains("delivered=0"), "{}", stdout(&out));
    assert_eq!(smtp.mails_to("ops@example.org").len(), 1);

    // Ops see why it is dead, and can send it again.
    let dead = stdout(&app.cli(&["outbox", "--dead"]).await);
    assert!(
        dead.contains("email:gone") && dead.contains("550"),
        "{dead}"
    );
    assert!(dead.contains("dead=1"), "{dead}");
    let id = dead.split_whitespace().next().unwrap().to_owned();
    let retried = app.cli(&["outbox", "--retry", &id]).await;
    assert!(retried.status.success(), "{}", stderr(&retried));
    let pending = stdout(&app.cli(&["outbox"]).await);
    assert!(
        pending.contains("email:gone") && pending.contains("pending=1"),
        "{pending}"
    );
    let again = app.cli(&["outbox", "--retry", &id]).await;
    assert_eq!(
        again.status.code(),
        Some(1),
        "only a dead row can be retried"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_mail_server_times_out_and_the_rest_goes_on() {
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    feeds.set(
        "wire",
        rss(&[("s1", "Kremlin rejects the energy truce", "")]),
    );
    let smtp = SmtpServer::start_with(SmtpOptions {
        stall: true,
        ..SmtpOptions::default()
    });
    let app = TestApp::new(&two_recipients(&feeds, smtp.port, &hooks.url("h"), "2s"));
    let started = std::time::Instant::now();
    let out = app.run_once().await;
    let log = stdout(&out);
    // The webhook went out although mail hangs; the cycle ended, bounded by the timeout.
    assert_eq!(hooks.received("h").len(), 1, "{log}");
    assert!(log.contains("retrying=2"), "{log}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(log.contains("polled items=1"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_a_send_resends_with_the_same_key() {
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    let smtp = SmtpServer::start();
    feeds.set(
        "wire",
        rss(&[("k1", "Kremlin rejects the energy truce", "")]),
    );
    hooks.hold("h", true);
    let app = TestApp::new(&two_recipients(&feeds, smtp.port, &hooks.url("h"), "5s"));
    let daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || hooks.held("h").len() == 1).await,
        "the webhook request never arrived"
    );
    let key = hooks.held("h")[0].clone();
    assert!(!key.is_empty());
    // The emails went (their own rows); the webhook row is in flight when the daemon dies.
    assert!(wait_for(Duration::from_secs(10), || smtp.mails().len() == 2).await);
    // (Let their confirmations land; a mail accepted but not yet confirmed would be sent
    // again after the kill, with the same Message-ID, which is the promise too.)
    tokio::time::sleep(Duration::from_secs(1)).await;
    signal(&daemon, "KILL");
    drop(daemon);
    tokio::time::sleep(Duration::from_millis(300)).await;

    hooks.hold("h", false);
    let daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || hooks.received("h").len() == 1).await,
        "the unconfirmed webhook was not sent again after the restart"
    );
    let resent = hooks.received("h")[0].headers["idempotency-key"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(resent, key, "the resend carries the same Idempotency-Key");
    // Nothing confirmed is sent again.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(hooks.received("h").len(), 1);
    let ids: std::collections::BTreeSet<String> = smtp
        .mails()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(
        ids.len(),
        2,
        "two emails, each with its own stable Message-ID"
    );
    assert_eq!(smtp.mails().len(), 2, "confirmed emails are not sent again");
    signal(&daemon, "TERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn test_alert_goes_through_every_channel_and_reports_each() {
    let w = World::start().await;
    let app = TestApp::new(&w.config(&[]));
    let out = app.cli(&["test-alert"]).await;
    let report = stdout(&out);
    assert!(out.status.success(), "{report}\n{}", stderr(&out));
    assert_eq!(
        report.lines().filter(|l| l.starts_with("ok ")).count(),
        6,
        "{report}"
    );
    assert!(wait_for(Duration::from_secs(5), || w.smtp.mails().len() == 4).await);
    assert!(
        w.smtp.mails()[0]
            .header("Subject")
            .unwrap()
            .contains("[TEST]")
    );
    let hook = &w.hooks.received("all")[0].json;
    assert_eq!(hook["test"], true);
    assert!(hook["title"].as_str().unwrap().starts_with("[TEST]"));

    // One channel; and a failing one is reported, with exit status 1.
    w.hooks.script("aid", &[500]);
    let out = app.cli(&["test-alert", "--channel", "aid-hook"]).await;
    assert_eq!(out.status.code(), Some(1));
    let report = stdout(&out);
    assert_eq!(report.lines().count(), 1, "{report}");
    assert!(report.starts_with("FAILED  webhook:aid-hook"), "{report}");
    assert!(report.contains("500"), "{report}");
    // Nothing went into the outbox.
    assert!(!app.state_dir.join("ceasefire-watch.db").exists());
}

/// `n` (up to 8) rejection stories for one feed, each a different event.
fn rejections(n: usize) -> String {
    // Each names its ceasefire: events of one signal are told apart by what they are about.
    const EVENTS: [&str; 8] = [
        "Kremlin rejects the Easter truce proposed by the Vatican",
        "Peskov rejects a Black Sea ceasefire drafted in Istanbul",
        "Lavrov rejects the 30-day energy ceasefire agreed in Riyadh",
        "Zakharova rejects Christmas truce floated by Hungary's Orban",
        "Moscow rejects Turkish plan for a Zaporizhzhia nuclear plant truce",
        "Ushakov rejects Geneva proposal for a 72-hour ceasefire",
        "Kremlin rejects Brazilian-Chinese initiative for an immediate ceasefire",
        "Russian foreign ministry rejects Finnish proposal for an Olympic truce",
    ];
    let guids: Vec<String> = (1..=n).map(|i| format!("r{i}")).collect();
    let refs: Vec<(&str, &str, &str)> = guids
        .iter()
        .zip(EVENTS)
        .map(|(g, t)| (g.as_str(), t, ""))
        .collect();
    rss(&refs)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_webhook_holds_up_no_other_channel_and_gets_at_most_its_share() {
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    let smtp = SmtpServer::start();
    feeds.set("wire", rejections(6));
    hooks.hold("slow", true);
    let app = TestApp::new(&format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
shutdown_grace = "1s"
[[feeds]]
name = "wire"
url = "{feed}"
interval = "1s"
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from = "alerts@example.org"
[delivery]
concurrency = 2
[[subscribers]]
name = "ops"
email = "ops@example.org"
[[webhooks]]
name = "slow"
url = "{slow}"
[[webhooks]]
name = "fast"
url = "{fast}"
"#,
        feed = feeds.url("wire"),
        port = smtp.port,
        slow = hooks.url("slow"),
        fast = hooks.url("fast"),
    ));
    let daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || hooks.received("fast").len()
            == 6
            && smtp.mails().len() == 6)
        .await,
        "email and the other webhook were held up: fast={} mails={}",
        hooks.received("fast").len(),
        smtp.mails().len()
    );
    // The hung receiver has exactly `delivery.concurrency` requests open, no more.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(hooks.held("slow").len(), 2);

    // Polling goes on, and a new story reaches the healthy channels at once.
    feeds.set("wire", rejections(7));
    assert!(
        wait_for(Duration::from_secs(20), || hooks.received("fast").len()
            == 7
            && smtp.mails().len() == 7)
        .await
    );
    assert_eq!(hooks.held("slow").len(), 2);

    // Released, the slow receiver gets all seven, once each.
    hooks.hold("slow", false);
    assert!(
        wait_for(Duration::from_secs(20), || hooks.received("slow").len()
            == 7)
        .await
    );
    let keys: std::collections::BTreeSet<String> = hooks
        .received("slow")
        .iter()
        .map(|h| h.headers["idempotency-key"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 7);
    signal(&daemon, "TERM");
}

/// One webhook, held by the receiver, and the given grace period.
fn held_hook_config(feeds: &FeedServer, hook: &str, grace: &str) -> String {
    format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
shutdown_grace = "{grace}"
[[feeds]]
name = "wire"
url = "{}"
[[webhooks]]
name = "h"
url = "{hook}"
"#,
        feeds.url("wire")
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_past_the_grace_period_puts_the_send_back_to_pending() {
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    feeds.set("wire", rejections(1));
    hooks.hold("h", true);
    let app = TestApp::new(&held_hook_config(&feeds, &hooks.url("h"), "1s"));
    let daemon = app.spawn_daemon();
    assert!(wait_for(Duration::from_secs(20), || hooks.held("h").len() == 1).await);
    let key = hooks.held("h")[0].clone();
    signal(&daemon, "TERM");
    let out = tokio::time::timeout(Duration::from_secs(15), daemon.wait_with_output())
        .await
        .expect("stops soon after the grace period")
        .unwrap();
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{log}");
    assert!(log.contains("back to pending"), "{log}");
    // Back to pending, unattempted, not left `sending`.
    let outbox = app.cli(&["outbox"]).await;
    let report = stdout(&outbox);
    assert!(
        report.contains("pending=1 sending=0 delivered=0 dead=0"),
        "{report}"
    );
    assert!(report.contains("attempts=0"), "{report}");

    hooks.hold("h", false);
    let daemon = app.spawn_daemon();
    assert!(wait_for(Duration::from_secs(20), || hooks.received("h").len() == 1).await);
    let sent = &hooks.received("h")[0].headers["idempotency-key"];
    assert_eq!(sent.to_str().unwrap(), key);
    signal(&daemon, "TERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_a_send_in_flight_finish_within_the_grace_period() {
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    feeds.set("wire", rejections(1));
    hooks.hold("h", true);
    let app = TestApp::new(&held_hook_config(&feeds, &hooks.url("h"), "20s"));
    let daemon = app.spawn_daemon();
    assert!(wait_for(Duration::from_secs(20), || hooks.held("h").len() == 1).await);
    signal(&daemon, "TERM");
    tokio::time::sleep(Duration::from_secs(1)).await;
    hooks.hold("h", false);
    let out = tokio::time::timeout(Duration::from_secs(15), daemon.wait_with_output())
        .await
        .expect("stops once the send finished")
        .unwrap();
    let log = format!("{}{}", stdout(&out), stderr(&out));
    assert!(out.status.success(), "{log}");
    assert!(log.contains("stopped cleanly"), "{log}");
    assert_eq!(hooks.received("h").len(), 1);
    let report = stdout(&app.cli(&["outbox"]).await);
    assert!(
        report.contains("pending=0 sending=0 delivered=1 dead=0"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_an_smtp_send_resends_with_the_same_message_id() {
    let feeds = FeedServer::start().await;
    let mut smtp = SmtpServer::start();
    feeds.set("wire", rejections(1));
    smtp.hold(true);
    let app = TestApp::new(&format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
[[feeds]]
name = "wire"
url = "{}"
[smtp]
host = "127.0.0.1"
port = {}
security = "none"
from = "alerts@example.org"
timeout = "60s"
[[subscribers]]
name = "ops"
email = "ops@example.org"
"#,
        feeds.url("wire"),
        smtp.port
    ));
    let daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || smtp.held().len() == 1).await,
        "the message never reached the server"
    );
    let id = smtp.held()[0].header("Message-ID").unwrap();
    signal(&daemon, "KILL");
    drop(daemon);
    smtp.hold(false);
    // The held copy was never answered: the server refuses it, as its client is gone.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = smtp.mails().len();

    let daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || smtp.mails().len() == before + 1).await,
        "the unconfirmed email was not sent again after the restart"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), before + 1, "sent again once, not more");
    assert!(
        mails
            .iter()
            .all(|m| m.header("Message-ID").as_ref() == Some(&id)),
        "the resend keeps the Message-ID {id}"
    );
    signal(&daemon, "TERM");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_mail_reuses_the_smtp_connection() {
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start();
    feeds.set("wire", rejections(6));
    let app = TestApp::new(&format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
[[feeds]]
name = "wire"
url = "{}"
[smtp]
host = "127.0.0.1"
port = {}
security = "none"
from = "alerts@example.org"
[delivery]
concurrency = 1
[[subscribers]]
name = "ops"
email = "ops@example.org"
[[subscribers]]
name = "desk"
email = "desk@example.org"
"#,
        feeds.url("wire"),
        smtp.port
    ));
    let out = app.run_once().await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(wait_for(Duration::from_secs(5), || smtp.mails().len() == 12).await);
    assert_eq!(smtp.connections(), 1, "twelve messages over one connection");
}
