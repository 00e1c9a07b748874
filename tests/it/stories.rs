//! One story, one alert: many outlets and wordings of one event, distinct events, status
//! changes, GUID churn, corroboration with threaded follow-ups, and replays by `--now`.
//! Every `run --once` is a restart: all of it lives in the store.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::helpers::*;

/// One event (the Kremlin turning down a 30-day energy truce agreed in Riyadh) in ten
/// wordings: some only with the headline changed, some rewritten.
const TEN_WORDINGS: [(&str, &str); 10] = [
    (
        "Kremlin rejects 30-day energy truce agreed in Riyadh",
        "Dmitry Peskov said Moscow would not halt strikes on power plants.",
    ),
    (
        "Kremlin rejects 30-day energy truce agreed in Riyadh, says Peskov",
        "Dmitry Peskov said Moscow would not halt strikes on power plants.",
    ),
    (
        "Russia rejects Riyadh energy truce",
        "Peskov said the 30-day halt on strikes against power plants was unacceptable.",
    ),
    (
        "Peskov: Moscow rejects 30-day Riyadh energy ceasefire",
        "The Kremlin spokesman said strikes on energy infrastructure would continue.",
    ),
    (
        "Moscow turns down Riyadh deal on 30-day energy truce",
        "Peskov told reporters Russia saw no basis for halting strikes on power plants.",
    ),
    (
        "Kremlin says no to Riyadh energy truce",
        "Dmitry Peskov rejected the 30-day moratorium on strikes at power plants.",
    ),
    (
        "Russia rejects US-brokered energy ceasefire from Riyadh talks",
        "Peskov said a 30-day pause in strikes on energy facilities was premature.",
    ),
    (
        "Kremlin dismisses 30-day energy truce agreed in Riyadh",
        "Peskov: no halt to strikes on Ukrainian power plants.",
    ),
    (
        "Putin's spokesman rejects Riyadh energy truce",
        "Dmitry Peskov said Moscow would keep striking power plants despite the 30-day plan.",
    ),
    (
        "Energy truce agreed in Riyadh rejected by Kremlin",
        "Peskov said the 30-day moratorium on strikes against power plants was unacceptable to Moscow.",
    ),
];

const ACCEPT: (&str, &str) = (
    "Kremlin accepts the Easter truce proposed by the Vatican",
    "Peskov said Russian forces would hold fire from Saturday evening to Monday.",
);
const OTHER_REJECTION: (&str, &str) = (
    "Lavrov dismisses Finnish proposal for an Olympic truce",
    "The foreign minister said the proposal ignored the root causes of the conflict.",
);
const BLACK_SEA_REJECTION: (&str, &str) = (
    "Peskov rejects Black Sea ceasefire drafted in Istanbul",
    "The Kremlin said Turkish shipping guarantees were not enough.",
);

fn one(guid: &str, item: (&str, &str)) -> String {
    rss(&[(guid, item.0, item.1)])
}

async fn status_json(app: &TestApp) -> serde_json::Value {
    let out = app.cli(&["status", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("status --json prints JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_outlets_in_ten_wordings_make_one_story_and_one_alert() {
    let w = World::start().await;
    let names: Vec<String> = (0..10).map(|i| format!("outlet{i}")).collect();
    for (i, (name, wording)) in names.iter().zip(TEN_WORDINGS).enumerate() {
        w.feeds.set(name, one(&format!("{name}-{i}"), wording));
    }
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let app = TestApp::new(&w.config(&refs));
    let out = app.run_once().await;
    assert!(
        stdout(&out).contains("alerts=1 joined=9"),
        "{}",
        stdout(&out)
    );

    assert!(wait_for(Duration::from_secs(5), || w.smtp.mails().len() == 2).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.smtp.mails_to("rejections@example.org").len(), 1);
    assert_eq!(w.smtp.mails_to("everything@example.org").len(), 1);
    assert_eq!(w.smtp.mails().len(), 2);
    assert!(
        wait_for(Duration::from_secs(5), || w.hooks.received("all").len()
            == 1)
        .await
    );

    let board = status_json(&app).await;
    assert_eq!(board["russia"]["status"], "rejects", "{board}");
    assert_eq!(board["russia"]["story"]["sources"], 10, "{board}");
    assert_eq!(
        board["russia"]["story"]["feeds"].as_array().unwrap().len(),
        10
    );
    assert_eq!(board["us_aid"]["status"], "unknown");

    // A restart, and another poll of the same feeds: nothing more.
    app.run_once().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.smtp.mails().len(), 2);
    assert_eq!(w.hooks.received("all").len(), 1);

    // The text board says the same.
    let text = stdout(&app.cli(&["status"]).await);
    assert!(text.contains("Russia:"), "{text}");
    assert!(text.contains("rejects"), "{text}");
    assert!(text.contains("10 sources"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_events_of_the_same_signal_make_two_alerts_across_a_restart() {
    let w = World::start().await;
    w.feeds.set("a", one("a1", BLACK_SEA_REJECTION));
    w.feeds.set("b", rss(&[]));
    let app = TestApp::new(&w.config(&["a", "b"]));
    app.run_once().await;
    w.feeds.set("b", one("b1", OTHER_REJECTION));
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("rejections@example.org")
            .len()
            == 2)
        .await
    );
    let subjects: Vec<String> = w
        .smtp
        .mails_to("rejections@example.org")
        .iter()
        .map(Mail::subject)
        .collect();
    assert!(
        subjects.iter().any(|s| s.contains("Black Sea")),
        "{subjects:?}"
    );
    assert!(
        subjects.iter().any(|s| s.contains("Olympic")),
        "{subjects:?}"
    );
    // The second repeats the status the first set: it says so and is not a change.
    let second = w
        .smtp
        .mails_to("rejections@example.org")
        .into_iter()
        .find(|m| m.subject().contains("Olympic"))
        .unwrap();
    assert!(second.subject().contains("Russia rejects a ceasefire"));
    assert!(
        second
            .text()
            .contains("Status: Russia: rejects (unchanged)"),
        "{}",
        second.text()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_flip_is_marked_and_alert_on_change_skips_repeats() {
    let w = World::start().await;
    w.feeds.set("wire", one("w1", ACCEPT));
    let config = format!(
        "{}\n[[subscribers]]\nname = \"changes-only\"\nemail = \"changes@example.org\"\nalert_on = \"change\"\n",
        w.config(&["wire"])
    );
    let app = TestApp::new(&config);
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("changes@example.org")
            .len()
            == 1)
        .await
    );

    // Russia now rejects: a change, for both kinds of subscriber.
    w.feeds.set(
        "wire",
        rss(&[
            ("w1", ACCEPT.0, ACCEPT.1),
            ("w2", BLACK_SEA_REJECTION.0, BLACK_SEA_REJECTION.1),
        ]),
    );
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("changes@example.org")
            .len()
            == 2)
        .await
    );
    let flip = w
        .smtp
        .mails_to("everything@example.org")
        .into_iter()
        .find(|m| m.subject().contains("Black Sea"))
        .expect("the rejection reached the story subscriber");
    assert!(
        flip.subject().contains("Russia: accepts → rejects"),
        "{}",
        flip.subject()
    );
    assert!(
        flip.text()
            .contains("Status change: Russia: accepts → rejects"),
        "{}",
        flip.text()
    );

    // Another rejection repeats the status: the story subscriber hears of it, the
    // change-only one does not.
    w.feeds.set(
        "wire",
        rss(&[
            ("w1", ACCEPT.0, ACCEPT.1),
            ("w2", BLACK_SEA_REJECTION.0, BLACK_SEA_REJECTION.1),
            ("w3", OTHER_REJECTION.0, OTHER_REJECTION.1),
        ]),
    );
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("everything@example.org")
            .len()
            == 3)
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.smtp.mails_to("changes@example.org").len(), 2);
    let board = status_json(&app).await;
    assert_eq!(board["russia"]["status"], "rejects");
    assert!(
        board["russia"]["story"]["title"]
            .as_str()
            .unwrap()
            .contains("Olympic"),
        "{board}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fresh_guids_and_edited_titles_on_the_same_report_alert_once() {
    let w = World::start().await;
    let app = TestApp::new(&w.config(&["churn"]));
    // Every fetch gives the same report a new GUID (and the same link, but for tracking).
    let doc = |guid: &str, title: &str| {
        format!(
            "<rss version=\"2.0\"><channel><title>churn</title>\
             <item><guid isPermaLink=\"false\">{guid}</guid><title>{title}</title>\
             <link>https://news.example.org/2026/11/energy-truce?utm_source=rss&amp;utm_content={guid}</link>\
             <description>{}</description><pubDate>{}</pubDate></item></channel></rss>",
            TEN_WORDINGS[0].1,
            Utc::now().to_rfc2822()
        )
    };
    w.feeds.set("churn", doc("g-1", TEN_WORDINGS[0].0));
    app.run_once().await;
    for (i, title) in [
        TEN_WORDINGS[0].0,
        TEN_WORDINGS[0].0,
        "UPDATE 1: Kremlin rejects 30-day energy truce agreed in Riyadh",
    ]
    .into_iter()
    .enumerate()
    {
        w.feeds.set("churn", doc(&format!("g-{}", i + 2), title));
        let out = app.run_once().await;
        assert!(stdout(&out).contains("repeats=1"), "{}", stdout(&out));
    }
    // The same text with a fresh GUID and a new link is not new either.
    w.feeds.set(
        "churn",
        rss(&[("g-9", TEN_WORDINGS[0].0, TEN_WORDINGS[0].1)]),
    );
    let out = app.run_once().await;
    assert!(stdout(&out).contains("repeats=1"), "{}", stdout(&out));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.smtp.mails_to("everything@example.org").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn corroboration_waits_then_sends_unconfirmed_and_confirms_in_the_same_thread() {
    let w = World::start().await;
    w.feeds.set("first", one("f1", TEN_WORDINGS[0]));
    w.feeds.set("second", rss(&[]));
    let config = format!(
        "{}\n[stories]\nmax_wait = \"1s\"\n\
         [[subscribers]]\nname = \"careful\"\nemail = \"careful@example.org\"\nmin_sources = 2\n",
        w.config(&["first", "second"])
    );
    let app = TestApp::new(&config);
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("everything@example.org")
            .len()
            == 1)
        .await
    );
    assert!(
        w.smtp.mails_to("careful@example.org").is_empty(),
        "held for a second source"
    );

    // The wait is over: sent, marked unconfirmed.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let out = app.run_once().await;
    assert!(stdout(&out).contains("unconfirmed=1"), "{}", stdout(&out));
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("careful@example.org")
            .len()
            == 1)
        .await
    );
    let first = &w.smtp.mails_to("careful@example.org")[0];
    assert!(
        first.subject().contains("[unconfirmed]"),
        "{}",
        first.subject()
    );
    let first_id = first.header("Message-ID").unwrap();

    // A second outlet carries it: a confirmation, answering the first message.
    w.feeds.set("second", one("s1", TEN_WORDINGS[4]));
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("careful@example.org")
            .len()
            == 2)
        .await
    );
    let follow = w
        .smtp
        .mails_to("careful@example.org")
        .into_iter()
        .find(|m| m.header("Message-ID").unwrap() != first_id)
        .unwrap();
    assert_eq!(
        follow.header("In-Reply-To").as_deref(),
        Some(first_id.as_str())
    );
    assert_eq!(
        follow.header("References").as_deref(),
        Some(first_id.as_str())
    );
    assert!(follow.subject().starts_with("Re: "), "{}", follow.subject());
    assert_eq!(
        follow.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    for part in ["Content-Type: text/plain", "Content-Type: text/html"] {
        assert!(follow.text().contains(part), "{}", follow.text());
    }
    assert!(
        follow
            .text()
            .contains("now carried by 2 sources (second after first)."),
        "the confirmation names who confirmed: {}",
        follow.text()
    );
    // The story subscriber heard of the story once.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.smtp.mails_to("everything@example.org").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_source_within_the_wait_releases_a_held_alert_as_confirmed() {
    let w = World::start().await;
    w.feeds.set("first", one("f1", TEN_WORDINGS[2]));
    w.feeds.set("second", rss(&[]));
    let config = format!(
        "{}\n[[webhooks]]\nname = \"corroborated\"\nurl = \"{}\"\nmin_sources = 2\n",
        w.config(&["first", "second"]),
        w.hooks.url("corroborated")
    );
    let app = TestApp::new(&config);
    app.run_once().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.hooks.received("corroborated").len(), 0);
    w.feeds.set("second", one("s1", TEN_WORDINGS[7]));
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .hooks
            .received("corroborated")
            .len()
            == 1)
        .await
    );
    let p = &w.hooks.received("corroborated")[0].json;
    assert_eq!(p["unconfirmed"], false);
    assert_eq!(p["story"]["sources"], 2);
    assert_eq!(p["status"]["topic"], "russia");
    assert_eq!(p["status"]["changed"], true);
}

/// A day of the archive: the items published up to the end of `day` (March 2025).
fn archive_until(day: u32) -> String {
    let at = |d: u32, h: u32| Utc.with_ymd_and_hms(2025, 3, d, h, 0, 0).unwrap();
    let items: [(u32, &str, (&str, &str)); 4] = [
        (6, "old", OTHER_REJECTION),
        (10, "acc", ACCEPT),
        (11, "rej", TEN_WORDINGS[0]),
        (12, "rej-again", TEN_WORDINGS[5]),
    ];
    let mut s = String::from("<rss version=\"2.0\"><channel><title>archive</title>");
    for (d, guid, (title, summary)) in items.into_iter().filter(|(d, ..)| *d <= day) {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><title>{title}</title><description>{summary}</description><pubDate>{}</pubDate></item>",
            at(d, 9).to_rfc2822()
        ));
    }
    s.push_str("</channel></rss>");
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replay_by_now_judges_ages_and_windows_by_the_replayed_clock() {
    let w = World::start().await;
    let app = TestApp::new(&w.config(&["archive"]));
    let evening = |d: u32| -> DateTime<Utc> { Utc.with_ymd_and_hms(2025, 3, d, 20, 0, 0).unwrap() };
    let mut alerts = Vec::new();
    for day in 10..=12 {
        w.feeds.set("archive", archive_until(day));
        let now = evening(day).to_rfc3339();
        let out = app.cli(&["run", "--once", "--now", &now]).await;
        assert!(out.status.success(), "{}", stderr(&out));
        let log = stdout(&out);
        let n: usize = log
            .split("alerts=")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no alerts= in {log}"));
        alerts.push(n);
        if day == 10 {
            // The item from March 6th is four days old by the replayed clock: not alerted.
            assert!(log.contains("stale=1"), "{log}");
        }
    }
    // Day 10: the acceptance. Day 11: the rejection (a change). Day 12: the same rejection
    // in other words, within the story window: joins silently.
    assert_eq!(alerts, [1, 1, 0]);
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("everything@example.org")
            .len()
            == 2)
        .await
    );
    let board = status_json(&app).await;
    assert_eq!(board["russia"]["status"], "rejects");
    assert_eq!(board["russia"]["since"], "2025-03-11T09:00:00Z");
    assert_eq!(board["russia"]["story"]["items"], 2);

    // --now needs --once.
    let out = app.cli(&["run", "--now", "2025-03-12T00:00:00Z"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
