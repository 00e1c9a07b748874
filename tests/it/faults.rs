//! Faults that cost a subscriber an alert or an operator a secret, each shown against the
//! real binary and real loopback servers: a poisoned SMTP connection, an absurd Retry-After,
//! secrets in URLs and config, environment values that changed type, and a listener that
//! half-open connections could hold.

use std::io::{Read, Write};
use std::time::Duration;

use crate::helpers::*;

const REJECTION: (&str, &str, &str) = (
    "f1",
    "Kremlin rejects the energy truce",
    "Moscow said it would not accept the pause.",
);

#[tokio::test(flavor = "multi_thread")]
async fn a_send_cut_short_by_the_smtp_timeout_never_lends_its_connection() {
    // The server answers the first message only after smtp.timeout and rejects every later
    // one. A connection that saw the timeout, if used again, would read that late 250 as
    // the answer to the next message's commands and count a rejected message delivered.
    let feeds = FeedServer::start().await;
    let smtp = SmtpServer::start_with(SmtpOptions {
        slow_first_data: Some(Duration::from_millis(2600)),
        reject_later_data: true,
        ..SmtpOptions::default()
    });
    feeds.set(
        "wire",
        rss(&[("t1", "Kremlin rejects the energy truce", "")]),
    );
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
timeout = "2s"
[delivery]
concurrency = 1
[[subscribers]]
name = "first"
email = "first@example.org"
[[subscribers]]
name = "second"
email = "second@example.org"
[[subscribers]]
name = "third"
email = "third@example.org"
"#,
        feeds.url("wire"),
        smtp.port
    ));
    let out = app.run_once().await;
    let log = stdout(&out);
    assert!(
        wait_for(Duration::from_secs(5), || smtp.rejected() == 2).await,
        "the server saw {} rejected messages\n{log}",
        smtp.rejected()
    );
    assert!(
        !log.lines()
            .any(|l| l.contains("delivered") && l.contains("target=")),
        "a message the server rejected was logged delivered:\n{log}"
    );
    assert!(
        log.contains("delivered=0 retrying=1 dead=2"),
        "the timed-out send retries, the two rejected are dead:\n{log}"
    );
    let dead = stdout(&app.cli(&["outbox", "--dead"]).await);
    assert!(
        dead.contains("email:second") && dead.contains("email:third") && dead.contains("554"),
        "{dead}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_absurd_retry_after_is_clamped_and_no_worker_dies() {
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    feeds.set("wire", rss(&[REJECTION]));
    hooks.script("busy", &[429, 429]);
    hooks.retry_after("busy", "99999999999999");
    let http = free_port();
    let config = format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
[http]
listen = "127.0.0.1:{http}"
[[feeds]]
name = "wire"
url = "{}"
interval = "1h"
[delivery]
retry_initial = "1s"
retry_max = "2s"
[[webhooks]]
name = "busy"
url = "{}"
[[webhooks]]
name = "calm"
url = "{}"
"#,
        feeds.url("wire"),
        hooks.url("busy"),
        hooks.url("calm"),
    );
    let app = TestApp::new(&config);

    // One cycle: the 429 is a retry, not a crash.
    let out = app.cli(&["run", "--once"]).await;
    let log = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{log}\n{}", stderr(&out));
    assert!(log.contains("delivered=1 retrying=1 dead=0"), "{log}");
    assert_eq!(hooks.received("calm").len(), 1);
    // The server's absurd delay is clamped to delivery.retry_max.
    let pending = stdout(&app.cli(&["outbox"]).await);
    let next = pending
        .split("next attempt ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("no next attempt in {pending}"));
    let next = chrono::DateTime::parse_from_rfc3339(next).unwrap();
    assert!(
        next < chrono::Utc::now() + chrono::Duration::seconds(10),
        "{pending}"
    );

    // As a daemon: the worker lives on, the next 429 is clamped too, and the third try
    // (200) delivers, once.
    let mut daemon = app.spawn_daemon();
    assert!(
        wait_for(Duration::from_secs(20), || hooks.received("busy").len()
            == 1)
        .await,
        "the retried delivery never arrived (attempts: {})",
        hooks.attempts("busy")
    );
    let (status, body) = http_get(http, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(hooks.received("busy").len(), 1, "delivered exactly once");
    assert_eq!(hooks.received("calm").len(), 1);
    signal(&daemon, "TERM");
    let status = tokio::time::timeout(Duration::from_secs(15), daemon.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// `GET path` on the daemon's listener: (status, body).
pub async fn http_get(port: u16, path: &str) -> (u16, String) {
    ceasefire_watch::net::install_crypto_provider();
    let r = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("the HTTP listener answers");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// Every file of the state directory, as text (lossy), to search for what must not be there.
fn state_bytes(app: &TestApp) -> String {
    let mut all = String::new();
    for entry in std::fs::read_dir(&app.state_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    all
}

const SECRETS: [&str; 4] = ["s3cr3tpass", "KEY123SECRET", "XOXBTOKEN", "hunter2"];

fn assert_no_secret(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} shows the secret {s:?}:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_in_urls_and_config_are_never_shown_logged_or_stored() {
    let feeds = FeedServer::start().await;
    feeds.set("wire", rss(&[REJECTION]));
    let down = free_port();
    let http = free_port();
    // A feed whose URL carries a password and an API key, on a port where nothing listens
    // (the network error names the URL); a chat webhook whose URL is its credential.
    let config = format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
[http]
listen = "127.0.0.1:{http}"
failing_after = "1s"
[delivery]
retry_initial = "1s"
retry_max = "1s"
[[feeds]]
name = "wire"
url = "{}"
interval = "1s"
[[feeds]]
name = "private"
url = "http://reader:s3cr3tpass@127.0.0.1:{down}/feed.xml?api_key=KEY123SECRET&lang=en"
interval = "1s"
[[webhooks]]
name = "chat"
url = "http://127.0.0.1:{down}/services/T000/B000/XOXBTOKEN"
format = "slack"
"#,
        feeds.url("wire"),
    );
    let app = TestApp::new(&config);
    let out = app.cli(&["run", "--once"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_no_secret("run --once (stdout)", &stdout(&out));
    assert_no_secret("run --once (stderr)", &stderr(&out));
    // The failure is still explained: which feed, what went wrong, where (redacted).
    let log = stdout(&out);
    assert!(
        log.lines()
            .any(|l| l.contains("feed=private") && l.contains("127.0.0.1")),
        "{log}"
    );

    let outbox = app.cli(&["outbox"]).await;
    assert_no_secret("outbox", &stdout(&outbox));
    assert!(
        stdout(&outbox).contains("webhook:chat"),
        "{}",
        stdout(&outbox)
    );
    let test = app.cli(&["test-alert"]).await;
    assert_no_secret("test-alert", &format!("{}{}", stdout(&test), stderr(&test)));
    assert!(
        stdout(&test).contains("FAILED  webhook:chat"),
        "{}",
        stdout(&test)
    );

    ceasefire_watch::net::install_crypto_provider();
    let daemon = app.spawn_daemon();
    let mut health = String::new();
    let listed = {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Ok(r)) = tokio::time::timeout(
                Duration::from_secs(5),
                reqwest::get(format!("http://127.0.0.1:{http}/healthz")),
            )
            .await
            {
                health = r.text().await.unwrap_or_default();
                if health.contains("feed private: failing") {
                    break true;
                }
            }
            if std::time::Instant::now() > deadline {
                break false;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    assert!(listed, "/healthz never listed the failing feed:\n{health}");
    assert_no_secret("/healthz", &health);
    signal(&daemon, "TERM");
    let out = tokio::time::timeout(Duration::from_secs(15), daemon.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_no_secret("the daemon's log", &stdout(&out));
    assert_no_secret("the daemon's log", &stderr(&out));
    assert_no_secret("the state directory", &state_bytes(&app));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&app.state_dir)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o700,
            "the state directory is {:o}",
            mode & 0o777
        );
    }

    // A TOML syntax error points at the line without echoing it.
    app.write_config(&format!(
        "{config}\n[smtp]\nhost = \"127.0.0.1\"\nfrom = \"a@example.org\"\nusername = \"u\"\npassword = \"hunter2\n"
    ));
    let check = app.cli(&["check-config"]).await;
    assert_eq!(check.status.code(), Some(2));
    let text = format!("{}{}", stdout(&check), stderr(&check));
    assert_no_secret("check-config", &text);
    assert!(text.contains("line"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn environment_values_keep_their_text_and_reach_array_entries() {
    let feeds = FeedServer::start().await;
    let hooks = WebhookServer::start().await;
    feeds.set("wire", rss(&[REJECTION]));
    let smtp = SmtpServer::start_with(SmtpOptions {
        auth: Some("alerts:0012345".into()),
        ..SmtpOptions::default()
    });
    let app = TestApp::new(&format!(
        r#"
[[feeds]]
name = "wire"
url = "{}"
[smtp]
host = "127.0.0.1"
port = {}
security = "none"
from = "alerts@example.org"
username = "alerts"
[[subscribers]]
name = "ops"
email = "ops@example.org"
[[webhooks]]
name = "hook"
secret_file = "hook-secret"
"#,
        feeds.url("wire"),
        smtp.port,
    ));
    let creds = app.dir.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    std::fs::write(creds.join("hook-secret"), "sesame\n").unwrap();
    let out = app
        .cli_with_env(
            &["run", "--once"],
            &[
                ("CEASEFIRE_WATCH__SMTP__PASSWORD", "0012345"),
                ("CEASEFIRE_WATCH__WEBHOOKS__0__URL", &hooks.url("h")),
                ("CEASEFIRE_WATCH__DAEMON__STATE_DIR", "007"),
                ("CREDENTIALS_DIRECTORY", creds.to_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    // The password reached the server as written, leading zeros and all.
    assert!(
        wait_for(Duration::from_secs(5), || smtp
            .mails_to("ops@example.org")
            .len()
            == 1)
        .await,
        "auth attempts: {:?}\n{}",
        smtp.auths(),
        stdout(&out)
    );
    assert_eq!(smtp.auths(), vec![true]);
    // The webhook's URL came from the environment, its secret from a credential file.
    let got = hooks.received("h");
    assert_eq!(got.len(), 1, "{}", stdout(&out));
    let header = got[0].headers["x-ceasefire-watch-signature"]
        .to_str()
        .unwrap()
        .to_owned();
    let (t, v1) = header
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .expect("t=...,v1=...");
    {
        use hmac::{KeyInit, Mac};
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"sesame").unwrap();
        mac.update(format!("{t}.{}", got[0].body).as_bytes());
        mac.verify_slice(&hex::decode(v1).unwrap())
            .expect("signed with the secret from the credential file");
    }
    // A path of digits stays a path: "007", next to the config file.
    assert!(
        app.dir
            .path()
            .join("007")
            .join("ceasefire-watch.db")
            .exists()
    );
    assert!(!app.dir.path().join("7").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn check_config_refuses_plain_text_passwords_to_remote_hosts_and_absurd_durations() {
    let base = |host: &str| {
        format!(
            "[daemon]\nstate_dir = \"{{state_dir}}\"\n[[feeds]]\nname = \"wire\"\nurl = \"https://example.org/feed\"\n[smtp]\nhost = \"{host}\"\nsecurity = \"none\"\nfrom = \"a@example.org\"\nusername = \"u\"\npassword = \"p\"\n"
        )
    };
    let app = TestApp::new(&base("smtp.example.org"));
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).contains("smtp.security"), "{}", stdout(&out));
    app.write_config(&base("127.0.0.1"));
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    app.write_config(&format!(
        "{}[stories]\nmax_wait = \"300000years\"\n",
        base("localhost")
    ));
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.contains("stories.max_wait") && text.contains("maximum"),
        "{text}"
    );

    // A listener open beyond loopback is allowed, with a warning.
    app.write_config(&format!(
        "{}[http]\nlisten = \"0.0.0.0:9184\"\n",
        base("localhost")
    ));
    let out = app.cli(&["check-config"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        format!("{}{}", stdout(&out), stderr(&out)).contains("warning: http.listen"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn half_open_connections_are_dropped_and_the_listener_still_answers() {
    let feeds = FeedServer::start().await;
    feeds.set("wire", rss(&[REJECTION]));
    let http = free_port();
    let app = TestApp::new(&format!(
        r#"
[daemon]
state_dir = "{{state_dir}}"
[http]
listen = "127.0.0.1:{http}"
[[feeds]]
name = "wire"
url = "{}"
"#,
        feeds.url("wire")
    ));
    let mut daemon = app.spawn_daemon();
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", http)).is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the listener never opened");
    // 200 clients that send half a request and wait.
    let held: Vec<std::net::TcpStream> = tokio::task::spawn_blocking(move || {
        (0..200)
            .map(|_| {
                let mut s = std::net::TcpStream::connect(("127.0.0.1", http)).unwrap();
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                    .unwrap();
                s
            })
            .collect()
    })
    .await
    .unwrap();
    // The listener closes each of them within its header timeout, not 45 s later.
    let closed = tokio::task::spawn_blocking(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        held.into_iter()
            .filter(|s| {
                let left = deadline.saturating_duration_since(std::time::Instant::now());
                s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
                    .unwrap();
                let mut buf = [0u8; 512];
                let mut s = s;
                loop {
                    match s.read(&mut buf) {
                        Ok(0) => return true,
                        Ok(_) => continue,
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                            return true;
                        }
                        Err(_) => return false,
                    }
                }
            })
            .count()
    })
    .await
    .unwrap();
    assert_eq!(closed, 200, "half-open connections left open");
    let (status, body) = http_get(http, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    signal(&daemon, "TERM");
    let _ = tokio::time::timeout(Duration::from_secs(15), daemon.wait()).await;
}
