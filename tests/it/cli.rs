//! The command line: check-config, inspect, classify, eval.

use crate::helpers::*;

#[tokio::test]
async fn check_config_names_every_bad_key() {
    let app = TestApp::new(
        r#"
[daemon]
state_dir = "{state_dir}"
default_interval = "sometimes"
[[feeds]]
name = "ok"
url = "https://example.org/rss"
[[feeds]]
name = "ok-too"
url = "https://example.org/rss2"
[[feeds]]
name = "bad"
url = "example.org/rss"
[[webhooks]]
name = "hook"
url = "https://hooks.example.org/x"
signals = ["russia_agrees"]
"#,
    );
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(
        text.contains("feeds[2].url: relative URL without a base"),
        "{text}"
    );
    assert!(
        text.contains("daemon.default_interval: \"sometimes\" is not a duration"),
        "{text}"
    );
    assert!(
        text.contains("webhooks[0].signals: unknown signal \"russia_agrees\""),
        "{text}"
    );
    assert!(
        text.contains(&app.config_path.display().to_string()),
        "names the file: {text}"
    );

    app.write_config("[daemon]\nstate_dir = \"{state_dir}\"\n[[feeds]]\nname = \"ok\"\nurl = \"https://example.org/rss\"\n");
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("OK"));
}

#[tokio::test]
async fn a_bad_config_starts_nothing() {
    let app = TestApp::new(
        "[daemon]\nstate_dir = \"{state_dir}\"\n[[feeds]]\nname = \"x\"\nurl = \"nope\"\n",
    );
    let out = app.cli(&["run", "--once"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("feeds[0].url"), "{}", stderr(&out));
    assert!(!app.state_dir.exists(), "no state was created");
}

#[tokio::test]
async fn inspect_prints_plain_text_entries_with_signals() {
    let app = TestApp::new("");
    let feed = app.dir.path().join("feed.xml");
    std::fs::write(
        &feed,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Wire &amp; more</title><link>https://news.example.org/</link>
<item><guid>a1</guid><title>Moscow turns down the 30-day truce</title><link>https://news.example.org/a1</link>
<description>&lt;p&gt;The Kremlin&amp;nbsp;said &lt;b&gt;no&lt;/b&gt;.&lt;script&gt;track()&lt;/script&gt;&lt;/p&gt;</description>
<pubDate>Tue, 11 Mar 2025 14:30:00 +0200</pubDate></item>
<item><title>No guid here</title></item>
</channel></rss>"#,
    )
    .unwrap();
    let out = app.cli(&["inspect", feed.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["feed"]["title"], "Wire & more");
    assert_eq!(v["feed"]["link"], "https://news.example.org/");
    let e = &v["entries"][0];
    assert_eq!(e["id"], "a1");
    assert_eq!(e["summary"], "The Kremlin said no.");
    assert_eq!(e["published"], "2025-03-11T12:30:00Z");
    assert_eq!(e["signals"][0]["signal"], "russia_rejects");
    assert!(
        e["signals"][0]["evidence"]["words"]
            .as_array()
            .unwrap()
            .len()
            >= 2
    );
    assert_eq!(v["entries"][1]["id"], serde_json::Value::Null);
    assert_eq!(v["entries"][1]["link"], serde_json::Value::Null);
}

#[tokio::test]
async fn inspect_refuses_what_is_not_a_feed_in_one_line() {
    let app = TestApp::new("");
    let page = app.dir.path().join("page.html");
    std::fs::write(&page, "<html><body>Not a feed</body></html>").unwrap();
    for input in [page.to_str().unwrap(), "/nonexistent/file.xml"] {
        let out = app.cli(&["inspect", input]).await;
        assert_eq!(out.status.code(), Some(1), "{input}");
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: "), "{err}");
    }
}

#[tokio::test]
async fn classify_answers_each_line() {
    let app = TestApp::new("");
    let input = concat!(
        r#"{"id": "a", "title": "Putin declares a three-day truce for Victory Day", "summary": ""}"#,
        "\n",
        r#"{"id": 7, "title": "Hamas accepts a ceasefire in Gaza", "summary": "Mediators welcomed it."}"#,
        "\n\n",
        r#"{"id": "c", "title": "", "summary": "Washington suspended military aid and intelligence sharing with Kyiv on Monday."}"#,
        "\n"
    );
    let out = app.cli_with_stdin(&["classify"], Some(input)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["labels"], serde_json::json!(["russia_accepts"]));
    assert_eq!(lines[1]["id"], 7);
    assert_eq!(lines[1]["labels"], serde_json::json!([]));
    let mut c: Vec<String> = serde_json::from_value(lines[2]["labels"].clone()).unwrap();
    c.sort();
    assert_eq!(c, ["us_aid_paused", "us_intel_paused"]);
    assert!(lines[0]["scores"]["russia_accepts"].as_f64().unwrap() >= 0.5);
    assert_eq!(lines[0]["scores"].as_object().unwrap().len(), 7);
}

#[tokio::test]
async fn classify_ends_quietly_when_its_reader_goes_away() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    use std::time::Duration;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let app = TestApp::new("");
    let mut child = app
        .command(&["classify"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ceasefire-watch");
    let mut sin = child.stdin.take().unwrap();
    let writer = tokio::spawn(async move {
        let line = r#"{"id": "x", "title": "Moscow rejects the truce", "summary": ""}"#;
        for _ in 0..20_000 {
            if sin.write_all(format!("{line}\n").as_bytes()).await.is_err() {
                break;
            }
        }
    });
    // Read one answer, as `| head -1` does, and go away.
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).await.unwrap();
    assert!(first.contains("russia_rejects"), "{first}");
    drop(out);
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("classify did not end after its reader went away")
        .unwrap();
    writer.abort();
    let mut err = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut child.stderr.take().unwrap(), &mut err)
        .await
        .unwrap();
    assert!(!err.contains("internal error"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        status.success() || status.signal() == Some(13),
        "ended with {status:?}: {err}"
    );
}

#[tokio::test]
async fn eval_reports_figures_and_misses() {
    let app = TestApp::new("");
    let corpus = app.dir.path().join("corpus.jsonl");
    std::fs::write(
        &corpus,
        concat!(
            r#"{"id": "1", "title": "Kremlin rejects the Easter truce", "summary": "", "labels": ["russia_rejects"]}"#,
            "\n",
            r#"{"id": "2", "title": "Sunny weather ahead", "summary": "", "labels": ["us_aid_paused"]}"#,
            "\n",
            r#"{"id": "3", "title": "Hamas accepts a Gaza truce", "summary": "", "labels": ["none"]}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = app.cli(&["eval", corpus.to_str().unwrap()]).await;
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("missed us_aid_paused"), "{text}");
    assert!(
        text.trim_end().ends_with(
            "micro_precision=1.000 micro_recall=0.500 micro_f1=0.667 false_alarms_on_none=0/1"
        ),
        "{text}"
    );
    let gated = app
        .cli(&["eval", corpus.to_str().unwrap(), "--min-f1", "0.9"])
        .await;
    assert_eq!(gated.status.code(), Some(3));
}

#[tokio::test]
async fn the_shipped_demo_shows_its_alerts_offline() {
    let state = tempfile::tempdir().unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo.toml");
    let run = || {
        std::process::Command::new(BIN)
            .arg("--config")
            .arg(&demo)
            .args(["run", "--once"])
            .env("CEASEFIRE_WATCH__DAEMON__STATE_DIR", state.path())
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(log.matches("ALERT").count(), 4, "{log}");
    // The second run has nothing new.
    let again = String::from_utf8_lossy(&run().stdout).into_owned();
    assert!(!again.contains("ALERT"), "{again}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_config_wants_a_feed_and_suggests_the_key_meant() {
    let app = TestApp::new("[daemon]\nstate_dir = \"{state_dir}\"\n");
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("feeds: no enabled [[feeds]]"),
        "{}",
        stdout(&out)
    );
    let out = app.cli(&["run", "--once"]).await;
    assert_eq!(out.status.code(), Some(2), "the daemon does not start");
    app.write_config(
        "[daemon]\nstate_dir = \"{state_dir}\"\ndefault_intervall = \"5m\"\n[[feeds]]\nname = \"a\"\nurl = \"https://example.org/f\"\n",
    );
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out)
            .contains("daemon.default_intervall: unknown key; did you mean `default_interval`?"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn config_show_marks_the_environment_and_redacts_every_secret() {
    let app = TestApp::new(
        "[daemon]\nstate_dir = \"{state_dir}\"\n[smtp]\nhost = \"smtp.example.org\"\nfrom = \"a@example.org\"\nusername = \"alerts\"\npassword = \"file-pass-123\"\n[[feeds]]\nname = \"wire\"\nurl = \"https://reader:feedpass@example.org/feed?key=k3y\"\n[[webhooks]]\nname = \"chat\"\nurl = \"https://hooks.example.org/services/T0/B0/S3CRETPATH\"\n[http]\ntoken = \"token-0123456789abcdef\"\n",
    );
    let out = app
        .cli_with_env(
            &["config", "show"],
            &[
                ("CEASEFIRE_WATCH__SMTP__PASSWORD", "env-pass-456"),
                ("CEASEFIRE_WATCH__FEEDS__0__INTERVAL", "7m"),
            ],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    for secret in [
        "file-pass-123",
        "env-pass-456",
        "feedpass",
        "k3y",
        "S3CRETPATH",
        "token-0123",
    ] {
        assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
    }
    assert!(
        shown.contains("password = \"<redacted>\"  # from CEASEFIRE_WATCH__SMTP__PASSWORD"),
        "{shown}"
    );
    assert!(
        shown.contains("interval = \"7m\"  # from CEASEFIRE_WATCH__FEEDS__0__INTERVAL"),
        "{shown}"
    );
    assert!(
        shown.contains("[[feeds]]") && shown.contains("name = \"wire\""),
        "{shown}"
    );
    // What it prints is a config: read back, it is valid.
    let back: toml::Table = shown.parse().expect("TOML");
    assert_eq!(back["smtp"]["host"].as_str(), Some("smtp.example.org"));
}

#[tokio::test(flavor = "multi_thread")]
async fn completions_and_the_man_page_come_from_the_command_line_itself() {
    let app = TestApp::new("[daemon]\nstate_dir = \"{state_dir}\"\n");
    let bash = stdout(&app.cli(&["completions", "bash"]).await);
    for sub in ["silence", "routes", "feeds", "status", "outbox"] {
        assert!(bash.contains(sub), "bash completion lacks {sub}");
    }
    let zsh = stdout(&app.cli(&["completions", "zsh"]).await);
    assert!(zsh.starts_with("#compdef ceasefire-watch"), "{zsh}");
    let man = stdout(&app.cli(&["man"]).await);
    assert!(man.contains(".TH ceasefire-watch 1"), "{man}");
    assert!(man.contains("silence"), "{man}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_opml_export_becomes_feeds_that_check_config_accepts() {
    let app = TestApp::new("[daemon]\nstate_dir = \"{state_dir}\"\n");
    let opml = app.dir.path().join("subs.opml");
    std::fs::write(
        &opml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>Reader export</title></head><body>
<outline text="Ukraine" title="Ukraine">
  <outline type="rss" text="Ukrainska Pravda (EN)" xmlUrl="https://www.pravda.com.ua/eng/rss/" htmlUrl="https://www.pravda.com.ua/eng/"/>
  <outline type="rss" text="Meduza: English" xmlUrl="https://meduza.io/rss/en/all"/>
</outline>
<outline type="rss" text="Ukrainska Pravda (EN)" xmlUrl="https://www.pravda.com.ua/eng/rss/"/>
</body></opml>"#,
    )
    .unwrap();
    let out = app.cli(&["feeds", "import", opml.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let tables = stdout(&out);
    assert!(tables.starts_with("# 2 feeds from"), "{tables}");
    assert!(
        tables.contains("name = \"ukrainska-pravda-en\""),
        "{tables}"
    );
    assert!(
        tables.contains("url = \"https://meduza.io/rss/en/all\""),
        "{tables}"
    );
    assert!(tables.contains("# Ukraine"), "{tables}");
    // Pasted into the config, it is a valid one.
    app.write_config(&format!(
        "[daemon]\nstate_dir = \"{{state_dir}}\"\n{tables}"
    ));
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("2 feeds"), "{}", stdout(&out));
}
