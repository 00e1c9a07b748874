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
