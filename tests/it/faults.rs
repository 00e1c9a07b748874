//! Faults that cost a subscriber an alert or an operator a secret, each shown against the
//! real binary and real loopback servers: a poisoned SMTP connection, an absurd Retry-After,
//! secrets in URLs and config, environment values that changed type, and a listener that
//! half-open connections could hold.

use std::time::Duration;

use crate::helpers::*;

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
