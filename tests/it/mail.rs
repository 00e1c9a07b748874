//! Mail as a subscriber's client and filters meet it, through the real SMTP server on
//! loopback: the headers that mark it as automatic and as a list, a Date of when it was
//! sent, both parts, the footer that says what this subscriber asked for, and the "why" at
//! the end.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::helpers::*;

const REJECTION: (&str, &str, &str) = (
    "r1",
    "Kremlin turns down the 30-day truce offered by Washington",
    "Dmitry Peskov said Moscow saw no basis for a pause in the fighting.",
);

fn config(smtp_port: u16, feed_url: &str) -> String {
    format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "Ceasefire Watch <alerts@example.org>"
timeout = "5s"
list_id = "ceasefire-alerts.example.org"
unsubscribe = "https://example.org/unsubscribe?list=ceasefire"
[delivery]
retry_initial = "1s"
retry_max = "1s"

[[subscribers]]
name = "stance-desk"
email = "stance@example.org"
signals = ["russia_rejects", "russia_accepts"]
[[subscribers]]
name = "everything"
email = "everything@example.org"

[[feeds]]
name = "wire"
url = "{feed_url}"
"#
    )
}

/// The part of a multipart message with this content type, decoded.
fn part(mail: &Mail, content_type: &str) -> String {
    let text = mail.text();
    let start = text
        .find(&format!("Content-Type: {content_type}"))
        .unwrap_or_else(|| panic!("no {content_type} part:\n{text}"));
    let body = &text[start..];
    let body = &body[body.find("\r\n\r\n").map_or(0, |i| i + 4)..];
    // Up to the next MIME boundary ("--" and the boundary; the signature's "-- " is not one).
    let end = body
        .match_indices("\r\n--")
        .map(|(i, _)| i)
        .find(|&i| body[i + 4..].chars().next().is_some_and(|c| c != ' '))
        .unwrap_or(body.len());
    body[..end].to_owned()
}

/// The headers that mark mail as automatic and as a list, with the configured addresses.
fn assert_list_mail(mail: &Mail) {
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(
        mail.header("List-Id").as_deref(),
        Some("ceasefire-watch alerts <ceasefire-alerts.example.org>")
    );
    assert_eq!(
        mail.header("List-Unsubscribe").as_deref(),
        Some("<https://example.org/unsubscribe?list=ceasefire>")
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alert_is_dated_when_sent_marked_automatic_and_says_why_at_the_end() {
    let feeds = FeedServer::start().await;
    feeds.set("wire", rss(&[REJECTION]));
    // The mail server is down when the alert is made: it is sent on a later try.
    let smtp_port = free_port();
    let app = TestApp::new(&config(smtp_port, &feeds.url("wire")));
    let out = app.run_once().await;
    assert!(stdout(&out).contains("alerts=1"), "{}", stdout(&out));
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let smtp = SmtpServer::start_with(SmtpOptions {
        port: Some(smtp_port),
        ..SmtpOptions::default()
    });
    let server_up = Utc::now();
    app.run_once().await;
    assert!(wait_for(Duration::from_secs(10), || smtp.mails().len() == 2).await);

    let mail = &smtp.mails_to("stance@example.org")[0];
    assert_list_mail(mail);
    // Dated when it went out, not when the alert was made two seconds earlier.
    let date = DateTime::parse_from_rfc2822(&mail.header("Date").unwrap())
        .unwrap()
        .with_timezone(&Utc);
    assert!(
        date.timestamp() >= server_up.timestamp(),
        "Date {date} is before the server was up at {server_up}"
    );
    assert!(
        mail.subject().starts_with("[ceasefire-watch] Russia")
            && mail
                .subject()
                .ends_with("Kremlin turns down the 30-day truce offered by Washington"),
        "{}",
        mail.subject()
    );

    // Both parts, each with the report first, then why, then who asked for what.
    let plain = part(mail, "text/plain");
    let html = part(mail, "text/html");
    for body in [&plain, &html] {
        let title = body.find("Kremlin turns down").expect("the headline");
        let why = body.find("Why this alert").expect("a why section");
        let rule = body.find("Rule ").expect("the rule");
        let footer = body.find("who asked for").expect("a footer");
        assert!(title < why && why < rule && rule < footer, "{body}");
        assert!(body.contains("Signal russia_rejects, score "), "{body}");
        assert!(body.contains("; story st-"), "{body}");
        assert!(
            body.contains("Russia rejects a ceasefire; Russia accepts a ceasefire")
                || body.contains("Russia accepts a ceasefire; Russia rejects a ceasefire"),
            "the footer names this subscriber's two signals: {body}"
        );
    }
    assert!(
        !plain.lines().next().unwrap_or("").contains("score"),
        "no score in the first line: {plain}"
    );
    let everything = &smtp.mails_to("everything@example.org")[0];
    assert!(
        part(everything, "text/plain").contains("\"everything\", who asked for every signal."),
        "{}",
        part(everything, "text/plain")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_alert_leads_with_test_in_its_subject_and_body() {
    let smtp = SmtpServer::start();
    let feeds = FeedServer::start().await;
    feeds.set("wire", rss(&[]));
    let app = TestApp::new(&config(smtp.port, &feeds.url("wire")));
    let out = app.cli(&["test-alert", "--channel", "stance-desk"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(wait_for(Duration::from_secs(5), || smtp.mails().len() == 1).await);
    let mail = &smtp.mails()[0];
    assert!(mail.subject().starts_with("[TEST] "), "{}", mail.subject());
    assert!(!mail.subject().contains("Russia"), "{}", mail.subject());
    let plain = part(mail, "text/plain");
    assert!(plain.starts_with("Test alert: no news"), "{plain}");
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
}

/// Quiet hours around the present, in UTC: "HH:MM-HH:MM" from an hour ago to an hour on.
fn quiet_now() -> (String, chrono::DateTime<Utc>) {
    use chrono::Timelike;
    let now = Utc::now();
    let from = now - chrono::Duration::hours(1);
    let to = (now + chrono::Duration::hours(1))
        .with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap();
    (
        format!("{}-{}", from.format("%H:%M"), to.format("%H:%M")),
        to,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn quiet_hours_hold_mail_that_changes_no_status_until_they_end() {
    let smtp = SmtpServer::start();
    let feeds = FeedServer::start().await;
    feeds.set("wire", rss(&[REJECTION]));
    let (window, ends) = quiet_now();
    let config = config(smtp.port, &feeds.url("wire")).replace(
        "email = \"stance@example.org\"\n",
        &format!("email = \"stance@example.org\"\nquiet = \"{window}\"\ntimezone = \"UTC\"\n"),
    );
    let app = TestApp::new(&config);
    // The first rejection changes Russia's status: urgent, sent at once.
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || smtp
            .mails_to("stance@example.org")
            .len()
            == 1)
        .await
    );

    // Another rejection, of another truce: news, but no change of status. It waits.
    feeds.set(
        "wire",
        rss(&[
            REJECTION,
            (
                "r2",
                "Lavrov dismisses the Vatican's Easter truce proposal",
                "Russia's foreign minister said the offer ignored the situation at the front.",
            ),
        ]),
    );
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || smtp
            .mails_to("everything@example.org")
            .len()
            == 2)
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        smtp.mails_to("stance@example.org").len(),
        1,
        "held for the quiet hours"
    );
    let outbox = stdout(&app.cli(&["outbox"]).await);
    assert!(outbox.contains("email:stance-desk"), "{outbox}");
    assert!(
        outbox.contains(&format!(
            "next attempt {}",
            ends.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        "due when the quiet hours end ({ends}): {outbox}"
    );
    assert!(outbox.contains("attempts=0"), "{outbox}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_digest_subscriber_gets_one_mail_at_the_hour_with_every_alert_since() {
    use chrono::Timelike;
    let smtp = SmtpServer::start();
    let feeds = FeedServer::start().await;
    feeds.set(
        "wire",
        rss(&[
            REJECTION,
            (
                "r2",
                "Lavrov dismisses the Vatican's Easter truce proposal",
                "Russia's foreign minister said the offer ignored the situation at the front.",
            ),
        ]),
    );
    // The digest hour, seconds away (UTC): both alerts wait for it.
    let hour = (Utc::now() + chrono::Duration::seconds(5))
        .with_nanosecond(0)
        .unwrap();
    let config = config(smtp.port, &feeds.url("wire")).replace(
        "email = \"stance@example.org\"\n",
        &format!(
            "email = \"stance@example.org\"\ndigest = \"daily {}\"\ntimezone = \"UTC\"\n",
            hour.format("%H:%M:%S")
        ),
    );
    let app = TestApp::new(&config);
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || smtp
            .mails_to("everything@example.org")
            .len()
            == 2)
        .await,
        "the subscriber without a digest has both at once"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(smtp.mails_to("stance@example.org").is_empty());
    let outbox = stdout(&app.cli(&["outbox"]).await);
    let due = format!(
        "next attempt {}",
        hour.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    assert_eq!(outbox.matches(&due).count(), 2, "{outbox}");
    let routes = stdout(&app.cli(&["routes", "russia_rejects"]).await);
    assert!(
        routes.contains(&format!(
            "in the daily digest at {} UTC",
            hour.format("%H:%M:%S")
        )),
        "{routes}"
    );

    // The hour comes: one mail with both, then nothing more.
    let wait = (hour - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(100)).await;
    app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || smtp
            .mails_to("stance@example.org")
            .len()
            == 1)
        .await
    );
    app.run_once().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.mails_to("stance@example.org").len(), 1, "sent once");

    let digest = &smtp.mails_to("stance@example.org")[0];
    assert_eq!(digest.subject(), "[ceasefire-watch] Daily digest: 2 alerts");
    assert_list_mail(digest);
    assert!(
        digest
            .header("Message-ID")
            .is_some_and(|id| id.starts_with("<digest-") && id.ends_with("@example.org>")),
        "{:?}",
        digest.header("Message-ID")
    );
    for body in [part(digest, "text/plain"), part(digest, "text/html")] {
        assert!(
            body.contains("Daily digest: 2 alerts detected between"),
            "{body}"
        );
        let first = body.find("Kremlin turns down").expect("the first alert");
        let second = body.find("Lavrov dismisses").expect("the second alert");
        let footer = body.find("who asked for").expect("a footer");
        assert!(first < second && second < footer, "{body}");
        assert_eq!(body.matches("Why this alert").count(), 2, "{body}");
    }
    assert!(part(digest, "text/html").contains("<ol>"));
    let outbox = stdout(&app.cli(&["outbox"]).await);
    assert!(!outbox.contains("email:stance-desk"), "{outbox}");
}
