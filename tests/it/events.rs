//! One event, one alert, as a subscriber's inbox sees it: an event is (actor, signal, object)
//! and reports of it from other outlets, in other words or on later days join it; another
//! event of the same signal, and every change of status, alert again.
//!
//! Our own sentences throughout. The first test drives the daemon as it runs under systemd;
//! the ones spread over days drive `run --once --now DAY`, one run per day (a restart each
//! day, all of it in the store), as the replay of real streams does.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::helpers::*;

/// One event, the Kremlin turning down a US plan for a 30-day ceasefire, as six outlets
/// worded it: few words in common beyond "30-day".
const SIX_WORDINGS: [(&str, &str); 6] = [
    (
        "Kremlin rejects US plan for a 30-day ceasefire",
        "Dmitry Peskov said a month-long pause would only let Kyiv rearm.",
    ),
    (
        "Moscow turns down the US-backed 30-day truce",
        "Russian officials told reporters the offer did not address the root causes.",
    ),
    (
        "Putin says no to month-long truce proposed by Washington",
        "The Russian president spoke after meeting his security council.",
    ),
    (
        "Russia dismisses American proposal for a thirty-day halt in fighting",
        "The foreign ministry called the initiative one-sided.",
    ),
    (
        "Kremlin won't accept 30-day ceasefire, Peskov says",
        "Moscow wants guarantees first, the spokesman said on Wednesday.",
    ),
    (
        "Russia refuses to sign on to Washington's month-long ceasefire",
        "Diplomats in Geneva described the talks as stalled.",
    ),
];

/// Another event of the same signal, the same day.
const EASTER: (&str, &str) = (
    "Zakharova dismisses Vatican's call for an Easter truce",
    "The ministry spokeswoman said the Holy See had not consulted Moscow.",
);

async fn status_json(app: &TestApp) -> serde_json::Value {
    let out = app.cli(&["status", "--json"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("status --json prints JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn six_wordings_from_six_outlets_alert_once_per_channel_and_guid_churn_adds_nothing() {
    let w = World::start().await;
    let outlets: Vec<String> = (0..6).map(|i| format!("outlet{i}")).collect();
    let now = Utc::now();
    let doc = |guid_round: usize, i: usize| {
        let (title, summary) = SIX_WORDINGS[i];
        rss_at(
            &[(&format!("o{i}-r{guid_round}"), title, summary)],
            now - chrono::Duration::hours(1),
        )
    };
    for (i, name) in outlets.iter().enumerate() {
        w.feeds.set(name, doc(0, i));
    }
    // The Easter rejection came out earlier that day: the 30-day one sets the status.
    w.feeds.set(
        "vatican-desk",
        rss_at(
            &[("e1", EASTER.0, EASTER.1)],
            now - chrono::Duration::hours(3),
        ),
    );
    let mut names: Vec<&str> = outlets.iter().map(String::as_str).collect();
    names.push("vatican-desk");
    let config = w.config(&names)
        + "[[webhooks]]\nname = \"russia-hook\"\nurl = \""
        + &w.hooks.url("russia")
        + "\"\nsignals = [\"russia_rejects\"]\n";
    let config = config
        .replacen("[daemon]\n", "[daemon]\ndefault_interval = \"1s\"\n", 1)
        // The last outlet is an official source.
        .replacen(
            "name = \"outlet5\"\n",
            "name = \"outlet5\"\nofficial = true\n",
            1,
        );
    let app = TestApp::new(&config);
    let mut daemon = app.spawn_daemon();

    // Two events: one alert each, on every channel that asked for rejections.
    assert!(
        wait_for(Duration::from_secs(20), || w
            .smtp
            .mails_to("rejections@example.org")
            .len()
            >= 2
            && w.hooks.received("russia").len() >= 2)
        .await,
        "mails: {:?}",
        w.smtp
            .mails_to("rejections@example.org")
            .iter()
            .map(|m| m.subject())
            .collect::<Vec<_>>()
    );
    // Several more polls of every feed: nothing more.
    let polled = |n: usize| outlets.iter().all(|o| w.feeds.requests(o).len() >= n);
    let before = w.feeds.requests("outlet0").len();
    assert!(wait_for(Duration::from_secs(20), || polled(before + 2)).await);
    assert_eq!(w.smtp.mails_to("rejections@example.org").len(), 2);
    assert_eq!(w.smtp.mails_to("everything@example.org").len(), 2);
    assert_eq!(w.hooks.received("russia").len(), 2);
    assert_eq!(w.hooks.received("all").len(), 2);

    // The webhook says which ceasefire each alert is about.
    let hooks = w.hooks.received("russia");
    let mut objects: Vec<String> = hooks
        .iter()
        .map(|h| h.json["story"]["object"].as_str().unwrap_or("-").to_owned())
        .collect();
    objects.sort();
    assert_eq!(objects, ["ceasefire:720h", "ceasefire:easter"]);
    let easter = hooks
        .iter()
        .find(|h| h.json["story"]["object"] == "ceasefire:easter")
        .unwrap();
    assert_eq!(easter.json["story"]["about"], "the Easter ceasefire");
    // And so does the mail.
    let mails = w.smtp.mails_to("rejections@example.org");
    let month = mails
        .iter()
        .find(|m| !m.subject().contains("Easter"))
        .expect("the 30-day rejection was mailed");
    assert!(
        month
            .text()
            .contains("About: the 30-day ceasefire (ceasefire:720h)"),
        "{}",
        month.text()
    );

    // The event's reports and sources, for whoever asks.
    let board = status_json(&app).await;
    let story = &board["russia"]["story"];
    assert_eq!(board["russia"]["status"], "rejects", "{board}");
    assert_eq!(story["object"], "ceasefire:720h", "{board}");
    assert_eq!(story["sources"], 6, "{board}");
    assert_eq!(story["first_official"]["feed"], "outlet5", "{board}");
    let reports = story["reports"].as_array().unwrap();
    assert_eq!(reports.len(), 6, "{board}");
    let mut titles: Vec<&str> = reports
        .iter()
        .map(|r| r["title"].as_str().unwrap())
        .collect();
    titles.sort();
    let mut expected: Vec<&str> = SIX_WORDINGS.iter().map(|w| w.0).collect();
    expected.sort();
    assert_eq!(titles, expected);

    // Every outlet re-issues its GUID (and so its link) for the same report: nothing new.
    for (i, name) in outlets.iter().enumerate() {
        w.feeds.set(name, doc(1, i));
    }
    let before = w.feeds.requests("outlet0").len();
    assert!(wait_for(Duration::from_secs(20), || polled(before + 2)).await);
    assert_eq!(w.smtp.mails_to("rejections@example.org").len(), 2);
    assert_eq!(w.hooks.received("russia").len(), 2);
    assert_eq!(status_json(&app).await["russia"]["story"]["items"], 6);

    signal(&daemon, "TERM");
    let status = tokio::time::timeout(Duration::from_secs(15), daemon.wait())
        .await
        .expect("the daemon stops on SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// Runs one day of a replay: each feed carries `items` (guid, title, summary), published at
/// 09:00 that day; the daemon runs once at 20:00. Returns the alerts it opened.
async fn day(
    w: &World,
    app: &TestApp,
    d: u32,
    items: &[(&str, &str, &str, &str)],
    feeds: &[&str],
) -> usize {
    let at = |h: u32| -> DateTime<Utc> { Utc.with_ymd_and_hms(2026, 6, d, h, 0, 0).unwrap() };
    for feed in feeds {
        let own: Vec<(&str, &str, &str)> = items
            .iter()
            .filter(|(f, ..)| f == feed)
            .map(|(_, g, t, s)| (*g, *t, *s))
            .collect();
        w.feeds.set(feed, rss_at(&own, at(9)));
    }
    let out = app
        .cli(&["run", "--once", "--now", &at(20).to_rfc3339()])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stdout(&out);
    log.lines()
        .find(|l| l.contains("cycle done"))
        .and_then(|l| l.split(" alerts=").nth(1))
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no alerts= in {log}"))
}

const FEEDS: [&str; 4] = ["wire", "desk", "kyiv", "analysis"];

#[tokio::test(flavor = "multi_thread")]
async fn paused_resumed_and_paused_again_over_three_days_alerts_three_times() {
    let w = World::start().await;
    let app = TestApp::new(&w.config(&FEEDS));
    let mut alerts = Vec::new();
    let days: [&[(&str, &str, &str, &str)]; 3] = [
        &[(
            "wire",
            "p1",
            "Pentagon pauses weapons shipments to Ukraine",
            "A stockpile review comes first, officials said.",
        )],
        &[(
            "desk",
            "r1",
            "Washington restarts weapons deliveries to Ukraine",
            "The first trucks crossed into Ukraine from Poland on Tuesday.",
        )],
        &[(
            "wire",
            "p2",
            "Pentagon halts arms shipments to Kyiv once more",
            "The order came hours after a call between the two presidents.",
        )],
    ];
    for (i, items) in days.iter().enumerate() {
        alerts.push(day(&w, &app, 1 + i as u32, items, &FEEDS).await);
    }
    assert_eq!(alerts, [1, 1, 1], "every flip of the status is news");
    assert!(
        wait_for(Duration::from_secs(10), || w
            .smtp
            .mails_to("everything@example.org")
            .len()
            == 3)
        .await
    );
    let subjects: Vec<String> = w
        .smtp
        .mails_to("everything@example.org")
        .iter()
        .map(|m| m.subject())
        .collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.contains("US military aid: resumed → paused")),
        "{subjects:?}"
    );
    assert_eq!(status_json(&app).await["us_aid"]["status"], "paused");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_week_of_follow_ups_about_a_pause_sends_nothing_after_the_first() {
    let w = World::start().await;
    let app = TestApp::new(&w.config(&FEEDS));
    // A pause, then a week of reactions, analysis and explainers that restate it, in other
    // words and from other outlets, with two quiet days in the middle.
    let week: [&[(&str, &str, &str, &str)]; 7] = [
        &[(
            "wire",
            "w1",
            "White House suspends all military assistance to Kyiv",
            "The order takes effect immediately, an official said.",
        )],
        &[
            (
                "kyiv",
                "k1",
                "Ukraine's air defences strained by US suspension of arms deliveries",
                "Commanders say interceptor stocks will last weeks, not months.",
            ),
            (
                "desk",
                "d1",
                "Trump defends halt of weapons to Kyiv",
                "He told reporters Ukraine must show it wants peace.",
            ),
        ],
        &[(
            "analysis",
            "a1",
            "European allies weigh how to offset the US pause in military aid to Ukraine",
            "Germany and the Nordic states lead the talks.",
        )],
        &[],
        &[],
        &[(
            "kyiv",
            "k2",
            "US freeze on arms deliveries to Ukraine continues",
            "No date has been given for a decision, diplomats say.",
        )],
        &[(
            "analysis",
            "a2",
            "Pentagon confirms it has stopped shipping artillery shells to Ukraine",
            "The shells were among the items held at depots in Poland.",
        )],
    ];
    let mut alerts = Vec::new();
    for (i, items) in week.iter().enumerate() {
        alerts.push(day(&w, &app, 1 + i as u32, items, &FEEDS).await);
    }
    assert_eq!(alerts, [1, 0, 0, 0, 0, 0, 0]);
    assert!(
        wait_for(Duration::from_secs(10), || w
            .smtp
            .mails_to("everything@example.org")
            .len()
            == 1)
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.smtp.mails_to("everything@example.org").len(), 1);
    assert_eq!(w.hooks.received("all").len(), 1);
    // Every follow-up corroborated the one event.
    let board = status_json(&app).await;
    let story = &board["us_aid"]["story"];
    assert_eq!(story["items"], 6, "{board}");
    assert_eq!(story["sources"], 4, "{board}");
    assert_eq!(story["reports"].as_array().unwrap().len(), 6);
    assert_eq!(story["object"], "aid:systems", "{board}");
}
