//! The whole pipeline in `run --once`: feeds → signals → the right emails and webhook posts,
//! once, across restarts, with conditional GET, beside broken feeds.

use std::time::Duration;

use crate::helpers::*;

const REJECT: (&str, &str, &str) = (
    "wire-101",
    "Kremlin rejects the 30-day truce proposed by European leaders",
    "Kremlin spokesman Dmitry Peskov said on Monday that Moscow turned down the plan for a month-long pause in the fighting.",
);
const GAZA: (&str, &str, &str) = (
    "wire-102",
    "Israel and Hamas agree to a ceasefire in Gaza",
    "Mediators in Cairo said the truce would take effect on Sunday morning.",
);
const AID: (&str, &str, &str) = (
    "wire-103",
    "Pentagon resumes weapons shipments to Ukraine",
    "The United States restarted deliveries of artillery shells to Kyiv on Tuesday, ending a two-week pause.",
);
const FILLER: (&str, &str, &str) = (
    "wire-104",
    "Heavy snow closes mountain roads",
    "Drivers were told to stay at home.",
);

#[tokio::test(flavor = "multi_thread")]
async fn right_alerts_to_the_right_people_once_across_restarts() {
    let w = World::start().await;
    let published =
        chrono::DateTime::from_timestamp(chrono::Utc::now().timestamp() - 3600, 0).unwrap();
    w.feeds
        .set("wire", rss_at(&[REJECT, GAZA, AID, FILLER], published));
    let app = TestApp::new(&w.config(&["wire"]));
    app.run_once().await;

    let settle = Duration::from_secs(5);
    assert!(
        wait_for(settle, || w.smtp.mails().len() >= 4).await,
        "mails: {:#?}",
        w.smtp.mails()
    );
    let rejections = w.smtp.mails_to("rejections@example.org");
    let everything = w.smtp.mails_to("everything@example.org");
    let aid = w.smtp.mails_to("aid@example.org");
    assert_eq!(rejections.len(), 1);
    assert_eq!(everything.len(), 2);
    assert_eq!(aid.len(), 1);
    assert!(w.smtp.mails_to("accepts@example.org").is_empty());
    assert_eq!(
        w.smtp.mails().len(),
        4,
        "nothing else, and nothing for Gaza"
    );

    // The email says what fired, where, and why.
    let m = &rejections[0];
    assert_eq!(m.mail_from, "alerts@example.org");
    let subject = m.subject();
    // The first word on Russia's stance is a status change, and says so.
    assert!(subject.contains("Russia: unknown → rejects"), "{subject}");
    assert!(
        subject.contains("Kremlin rejects the 30-day truce"),
        "{subject}"
    );
    assert!(m.header("Message-ID").unwrap().ends_with("@example.org>"));
    let body = m.text();
    assert!(body.contains("https://news.example.org/wire-101"), "{body}");
    assert!(body.contains("Feed:      wire"), "{body}");
    assert!(body.contains("Rule russia_rejects"), "{body}");
    assert!(
        body.contains("text/html"),
        "multipart with an HTML part: {body}"
    );
    assert!(!everything.iter().any(|m| m.text().contains("Gaza")));

    // Webhooks: one POST per matching alert, with the documented fields.
    assert!(wait_for(settle, || w.hooks.received("all").len() >= 2).await);
    let aid_posts = w.hooks.received("aid");
    assert_eq!(aid_posts.len(), 1);
    let p = &aid_posts[0].json;
    assert_eq!(p["signal"], "us_aid_resumed");
    assert_eq!(p["title"], AID.1);
    assert_eq!(p["link"], "https://news.example.org/wire-103");
    assert_eq!(p["feed"], "wire");
    assert_eq!(
        p["published"],
        published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert!(p["score"].as_f64().unwrap() > 0.5);
    assert_eq!(p["evidence"]["rule"], "us_aid_resumed");
    assert!(aid_posts[0].headers.get("idempotency-key").is_some());
    let all: Vec<String> = w
        .hooks
        .received("all")
        .iter()
        .map(|h| h.json["signal"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(all.len(), 2);
    assert!(
        all.contains(&"russia_rejects".to_string()) && all.contains(&"us_aid_resumed".to_string())
    );

    // A restart over the same feed sends nothing new, even when the body changes.
    app.run_once().await;
    w.feeds.set("wire", rss(&[FILLER, REJECT, GAZA, AID]));
    app.run_once().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.smtp.mails().len(), 4);
    assert_eq!(w.hooks.received("all").len(), 2);
    assert_eq!(w.hooks.received("aid").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn second_poll_is_conditional_and_304_is_handled() {
    let w = World::start().await;
    w.feeds.set("wire", rss(&[FILLER]));
    let app = TestApp::new(&w.config(&["wire"]));
    app.run_once().await;
    let out = app.run_once().await;
    let reqs = w.feeds.requests("wire");
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].status, 200);
    assert!(reqs[0].if_none_match.is_none());
    assert!(reqs[1].if_none_match.is_some(), "{reqs:?}");
    assert_eq!(
        reqs[1].if_modified_since.as_deref(),
        Some("Tue, 11 Mar 2025 12:00:00 GMT")
    );
    assert_eq!(reqs[1].status, 304);
    let ua = reqs[0].user_agent.clone().unwrap();
    assert!(ua.starts_with("ceasefire-watch/"), "{ua}");
    assert!(stdout(&out).contains("not_modified=1"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_body_without_validators_is_neither_parsed_nor_recorded() {
    let w = World::start().await;
    w.feeds.set_without_validators("wire", rss(&[FILLER]));
    let app = TestApp::new(&w.config(&["wire"]));
    let first = app.run_once().await;
    assert!(stdout(&first).contains("new_items=1"), "{}", stdout(&first));
    let second = app.run_once().await;
    let reqs = w.feeds.requests("wire");
    assert_eq!(reqs.len(), 2);
    assert!(reqs.iter().all(|r| r.status == 200), "{reqs:?}");
    let log = stdout(&second);
    assert!(log.contains("unchanged=1"), "{log}");
    assert!(log.contains("fetched=0"), "{log}");
    // A new body is read again.
    w.feeds
        .set_without_validators("wire", rss(&[FILLER, REJECT]));
    let third = app.run_once().await;
    let log = stdout(&third);
    assert!(log.contains("unchanged=0"), "{log}");
    assert!(log.contains("new_items=1"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_feed_never_stops_a_good_one() {
    let w = World::start().await;
    w.feeds.set_raw("down", 500, "text/plain", "internal error");
    w.feeds.set_raw(
        "html",
        200,
        "text/html",
        "<html><body><h1>Welcome</h1></body></html>",
    );
    w.feeds.set_raw("empty", 200, "application/rss+xml", "");
    w.feeds.set("good", rss(&[REJECT]));
    let mut config = w.config(&["down", "html", "empty", "good"]);
    config.push_str("[[feeds]]\nname = \"missing-file\"\nurl = \"/nonexistent/feed.xml\"\n");
    let app = TestApp::new(&config);
    let out = app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("rejections@example.org")
            .len()
            == 1)
        .await
    );
    let log = stdout(&out);
    for feed in ["down", "html", "empty", "missing-file"] {
        assert!(
            log.contains(&format!("feed={feed}")),
            "no log line names {feed}:\n{log}"
        );
    }
    assert!(log.contains("HTTP status 500"), "{log}");
    assert!(log.contains("failed=4"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_that_makes_the_parser_panic_is_still_read() {
    let w = World::start().await;
    // A second XML declaration with another encoding makes quick-xml panic
    // ("set_encoding() called after prefix buffer was drained"); the repair pass drops the
    // stray declaration, so the feed is read (the panic itself is contained: see the unit
    // test `parse::tests::a_parser_panic_is_an_error`).
    let poison = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>t</title>\n<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n<item><title>{}</title><guid>p1</guid></item></channel></rss>",
        REJECT.1
    );
    w.feeds.set("poison", poison);
    w.feeds.set("good", rss(&[AID]));
    let app = TestApp::new(&w.config(&["poison", "good"]));
    let out = app.run_once().await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        wait_for(Duration::from_secs(5), || w
            .smtp
            .mails_to("rejections@example.org")
            .len()
            == 1)
        .await,
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("panicked"), "{}", stdout(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn without_channels_alerts_go_to_the_log() {
    let feeds = FeedServer::start().await;
    feeds.set("wire", rss(&[REJECT, GAZA]));
    let app = TestApp::new(&format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n[[feeds]]\nname = \"wire\"\nurl = \"{}\"\n",
        feeds.url("wire")
    ));
    let out = app.run_once().await;
    let log = stdout(&out);
    assert_eq!(log.matches("ALERT").count(), 1, "{log}");
    assert!(
        log.contains("ALERT Russia: unknown → rejects — Kremlin rejects the 30-day truce"),
        "{log}"
    );
    // And only once.
    let again = app.run_once().await;
    assert!(!stdout(&again).contains("ALERT"), "{}", stdout(&again));
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_are_signed_and_min_score_filters() {
    use hmac::{KeyInit, Mac};
    let w = World::start().await;
    // Said in the lede only: the summary weighs less than the headline, so the score is
    // below 1.0.
    w.feeds.set(
        "wire",
        rss(&[(
            "wire-201",
            "Ukraine war latest: drones over Odesa",
            "The Kremlin on Monday rejected the 30-day truce that European leaders proposed.",
        )]),
    );
    let mut config = w.config(&["wire"]);
    config.push_str(&format!(
        "[[webhooks]]\nname = \"signed\"\nurl = \"{}\"\nsecret = \"s3cret\"\n\
         [[subscribers]]\nname = \"picky\"\nemail = \"picky@example.org\"\nmin_score = 1.0\n",
        w.hooks.url("signed")
    ));
    let app = TestApp::new(&config);
    let out = app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || w.hooks.received("signed").len()
            == 1)
        .await,
        "{}",
        stdout(&out)
    );
    // The receiver's side of the README's verification recipe.
    let hook = &w.hooks.received("signed")[0];
    let header = hook.headers["x-ceasefire-watch-signature"]
        .to_str()
        .unwrap();
    let (t, v1) = header
        .split_once(',')
        .map(|(t, v)| {
            (
                t.strip_prefix("t=").unwrap(),
                v.strip_prefix("v1=").unwrap(),
            )
        })
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(format!("{t}.{}", hook.body).as_bytes());
    mac.verify_slice(&hex::decode(v1).unwrap())
        .expect("the signature verifies");
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "timestamp {t}");
    // An unsigned hook carries no signature; the picky subscriber got nothing below 1.0.
    let score = hook.json["score"].as_f64().unwrap();
    assert!(score < 1.0 && score > 0.5, "{score}");
    assert!(
        wait_for(Duration::from_secs(5), || w.hooks.received("all").len()
            == 1)
        .await
    );
    assert!(
        !w.hooks.received("all")[0]
            .headers
            .contains_key("x-ceasefire-watch-signature")
    );
    assert_eq!(w.smtp.mails_to("rejections@example.org").len(), 1);
    assert!(w.smtp.mails_to("picky@example.org").is_empty());
}
