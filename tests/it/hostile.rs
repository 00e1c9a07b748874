//! Hostile and broken servers: each beside a good feed whose alert must still arrive, each
//! stopped by its limit with a log line naming the feed and the limit. And feed text that
//! tries to inject markup or headers into what subscribers receive.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::helpers::*;

#[path = "../support/bombs.rs"]
mod bombs;

const REJECT: (&str, &str, &str) = (
    "good-1",
    "Moscow rejects the Easter truce offered by Kyiv",
    "The Kremlin said on Friday it would not accept the pause, calling it a trick.",
);

/// 1 GiB of zeros, gzip-compressed (about 1 MB), made once.
fn gzip_bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..1024 {
            enc.write_all(&zeros).unwrap();
        }
        enc.finish().unwrap()
    })
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title><guid>l1</guid></item></channel></rss>"#;

/// A server that misbehaves in every way, one way per path.
struct HostileServer {
    addr: SocketAddr,
}

impl HostileServer {
    async fn start() -> HostileServer {
        let app = Router::new()
            .route(
                "/bomb",
                get(|| async {
                    (
                        [
                            (header::CONTENT_TYPE, "application/rss+xml"),
                            (header::CONTENT_ENCODING, "gzip"),
                        ],
                        gzip_bomb(),
                    )
                }),
            )
            .route(
                "/huge",
                get(|| async {
                    // 50 MB without a Content-Length: the cap must hold while reading.
                    let chunk = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
                    let stream = futures_util::stream::iter(
                        (0..800).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
                    );
                    Response::builder()
                        .header(header::CONTENT_TYPE, "application/rss+xml")
                        .body(Body::from_stream(stream))
                        .unwrap()
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    // One byte a second, for ever.
                    let stream = futures_util::stream::unfold(0u64, |n| async move {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        Some((Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"<")), n + 1))
                    });
                    Response::builder()
                        .header(header::CONTENT_TYPE, "application/rss+xml")
                        .body(Body::from_stream(stream))
                        .unwrap()
                }),
            )
            .route(
                "/loop",
                get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]).into_response() }),
            )
            .route(
                "/laughs",
                get(|| async { ([(header::CONTENT_TYPE, "application/xml")], BILLION_LAUGHS) }),
            )
            .route(
                "/html",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "text/html")],
                        "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><p>Checking your browser</p></body></html>",
                    )
                }),
            )
            .route(
                "/empty",
                get(|| async { ([(header::CONTENT_TYPE, "application/rss+xml")], "") }),
            )
            .route(
                "/json-bomb",
                get(|| async {
                    // Unpacks to just under the test's fetch.max_body_bytes (1 MiB).
                    (
                        [
                            (header::CONTENT_TYPE, "application/feed+json"),
                            (header::CONTENT_ENCODING, "gzip"),
                        ],
                        bombs::gzip(&bombs::json_items(1 << 20)),
                    )
                }),
            )
            .route(
                "/item-bomb",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "application/rss+xml")],
                        bombs::rss_items(1 << 20),
                    )
                }),
            )
            .route(
                "/endless-hook",
                axum::routing::post(|| async {
                    // An error answer whose body never ends.
                    let chunk = bytes::Bytes::from_static(b"endless error ");
                    let stream = futures_util::stream::repeat_with(move || {
                        Ok::<_, std::io::Error>(chunk.clone())
                    });
                    Response::builder()
                        .status(StatusCode::INTERNAL_SERVER_ERROR)
                        .body(Body::from_stream(stream))
                        .unwrap()
                }),
            )
            .route(
                "/json-error",
                get(|| async {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        r#"{"error": "rate limited", "status": 429}"#,
                    )
                }),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        HostileServer { addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }
}

/// Runs one cycle with the good feed and the hostile ones (name, path), with short limits;
/// checks the good feed's alert arrives and returns the log.
async fn cycle_beside_a_good_feed(hostile: &[(&str, &str)]) -> String {
    cycle_with(hostile, &[], "").await
}

/// The same, with documents served by the feed server (name, body) and more config.
async fn cycle_with(hostile: &[(&str, &str)], served: &[(&str, String)], extra: &str) -> String {
    let w = World::start().await;
    let bad = HostileServer::start().await;
    // Made before the clock starts, not in the server's first answer.
    let _ = gzip_bomb();
    w.feeds.set("good", rss(&[REJECT]));
    for (name, body) in served {
        w.feeds.set(name, body.clone());
    }
    let names: Vec<&str> = std::iter::once("good")
        .chain(served.iter().map(|(n, _)| *n))
        .collect();
    let mut config = w.config(&names);
    config.push_str("[fetch]\ntimeout = \"2s\"\nmax_body_bytes = 1048576\nmax_redirects = 3\n");
    config.push_str(extra);
    for (name, path) in hostile {
        config.push_str(&format!(
            "[[feeds]]\nname = \"{name}\"\nurl = \"{}\"\n",
            bad.url(path)
        ));
    }
    let app = TestApp::new(&config);
    let started = Instant::now();
    let out = app.run_once().await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the cycle took {:?}",
        started.elapsed()
    );
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
    stdout(&out)
}

/// The log line about `feed` mentions all of `words`.
fn logged(log: &str, feed: &str, words: &[&str]) -> bool {
    log.lines()
        .any(|l| l.contains(&format!("feed={feed}")) && words.iter().all(|w| l.contains(w)))
}

#[tokio::test(flavor = "multi_thread")]
async fn size_time_and_redirect_limits_stop_only_their_feed() {
    let log = cycle_beside_a_good_feed(&[
        ("bomb", "bomb"),
        ("huge", "huge"),
        ("slow", "slow"),
        ("loop", "loop"),
    ])
    .await;
    assert!(logged(&log, "bomb", &["fetch.max_body_bytes"]), "{log}");
    assert!(logged(&log, "huge", &["fetch.max_body_bytes"]), "{log}");
    assert!(logged(&log, "slow", &["fetch.timeout"]), "{log}");
    assert!(logged(&log, "loop", &["redirect"]), "{log}");
    assert!(log.contains("failed=4"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_that_are_not_feeds_fail_alone() {
    let log = cycle_beside_a_good_feed(&[
        ("laughs", "laughs"),
        ("html", "html"),
        ("empty", "empty"),
        ("json-error", "json-error"),
    ])
    .await;
    for feed in ["html", "empty", "json-error"] {
        assert!(
            logged(&log, feed, &["could not be parsed"]),
            "{feed}: {log}"
        );
    }
    // The billion laughs are read without their entities: a feed of one item with an
    // unexpanded title, in well under the cycle's time.
    assert!(
        logged(&log, "laughs", &["items=1"]) || logged(&log, "laughs", &["could not be parsed"]),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_of_a_million_empty_items_are_read_to_the_item_limit() {
    // Each item costs feed-rs a kilobyte or more: the parser must stop at parse.max_items
    // instead of building them all (`benches/hostile.rs` measures memory and time).
    let log =
        cycle_beside_a_good_feed(&[("json-bomb", "json-bomb"), ("item-bomb", "item-bomb")]).await;
    for feed in ["json-bomb", "item-bomb"] {
        assert!(
            logged(&log, feed, &["parse.max_items"]),
            "{feed} was not cut at the item limit:\n{log}"
        );
        assert!(logged(&log, feed, &["items=500"]), "{feed}: {log}");
    }
    assert!(log.contains("failed=0"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_error_answer_that_never_ends_is_read_a_little() {
    let bad = HostileServer::start().await;
    let w = World::start().await;
    w.feeds.set("good", rss(&[REJECT]));
    let mut config = w.config(&["good"]);
    config.push_str(&format!(
        "[[webhooks]]\nname = \"endless\"\nurl = \"{}\"\ntimeout = \"20s\"\n",
        bad.url("endless-hook")
    ));
    let app = TestApp::new(&config);
    let log = stdout(&app.run_once().await);
    // Its start is logged as the reason, read before the webhook's timeout ran out.
    assert!(
        log.lines().any(|l| l.contains("target=endless")
            && l.contains("webhook answered 500")
            && l.contains("endless error endless error")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn item_field_and_nesting_limits_are_logged() {
    let many: Vec<(String, String, String)> = (0..30)
        .map(|i| (format!("m{i}"), format!("Item {i}"), "x".repeat(200)))
        .collect();
    let refs: Vec<(&str, &str, &str)> = many
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
        .collect();
    let deep = format!(
        "<rss version=\"2.0\"><channel><title>d</title><item><guid>d1</guid><title>deep</title>{}{}</item></channel></rss>",
        "<x>".repeat(5000),
        "</x>".repeat(5000)
    );
    let log = cycle_with(
        &[],
        &[("many", rss(&refs)), ("deep", deep)],
        "[parse]\nmax_items = 5\nmax_field_chars = 50\nmax_depth = 8\n",
    )
    .await;
    assert!(
        logged(&log, "many", &["parse.max_items", "dropped=25"]),
        "{log}"
    );
    assert!(logged(&log, "many", &["parse.max_field_chars"]), "{log}");
    assert!(logged(&log, "deep", &["parse.max_depth"]), "{log}");
    assert!(logged(&log, "deep", &["items=1"]), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn feed_text_reaches_subscribers_as_escaped_text() {
    let w = World::start().await;
    // The title carries markup, an event handler, a CR/LF header injection and
    // double-escaped markup that becomes literal text; the link is javascript:.
    let doc = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>evil</title>
<item><guid>x1</guid>
<title>Kremlin rejects the truce &lt;script&gt;alert(1)&lt;/script&gt;&#13;&#10;Bcc: victim@example.net &amp;lt;img src=x onerror=alert(2)&amp;gt;</title>
<link>javascript:alert(3)</link>
<description>&lt;img src=x onerror="alert(4)"&gt;Peskov said Moscow would not accept it.</description>
</item></channel></rss>"#;
    w.feeds.set("evil", doc);
    let app = TestApp::new(&w.config(&["evil"]));
    let out = app.run_once().await;
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
    let mail = &w.smtp.mails_to("rejections@example.org")[0];
    // No header was injected: one recipient, no Bcc, a one-line subject.
    assert_eq!(mail.rcpt_tos, vec!["rejections@example.org".to_string()]);
    assert!(mail.header("Bcc").is_none(), "{}", mail.data);
    let subject = mail.header("Subject").unwrap();
    assert!(
        !subject.contains('\r') && !subject.contains('\n'),
        "{subject}"
    );
    let body = mail.text();
    assert!(!body.contains("<script"), "{body}");
    assert!(!body.contains("javascript:"), "{body}");
    // The double escape made "<img ...>" literal text: the plain part shows it as it is,
    // the HTML part escaped, never as a tag.
    let html = &body[body.find("Content-Type: text/html").expect("an HTML part")..];
    assert!(!html.contains("<img"), "{html}");
    assert!(
        html.contains("&lt;img src=x onerror=alert(2)&gt;"),
        "{html}"
    );

    let hooks = w.hooks.received("all");
    assert_eq!(hooks.len(), 1);
    let item = &hooks[0].json;
    let title = item["title"].as_str().unwrap();
    assert!(!title.contains("<script"), "{title}");
    assert!(!title.contains('\n') && !title.contains('\r'), "{title}");
    assert!(item["link"].is_null(), "{item}");
    assert!(
        !item["summary"].as_str().unwrap().contains("onerror"),
        "{item}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn slack_and_discord_bodies_neutralise_their_markup() {
    let w = World::start().await;
    w.feeds.set(
        "evil",
        rss(&[(
            "s1",
            "<!channel> @everyone Kremlin rejects the truce [click](http://evil.example) <@U123>",
            "*Peskov* said Moscow would not accept it. @here",
        )]),
    );
    let mut config = w.config(&["evil"]);
    config.push_str(&format!(
        "[[webhooks]]\nname = \"slack\"\nurl = \"{}\"\nformat = \"slack\"\n[[webhooks]]\nname = \"discord\"\nurl = \"{}\"\nformat = \"discord\"\n",
        w.hooks.url("slack"),
        w.hooks.url("discord")
    ));
    let app = TestApp::new(&config);
    let out = app.run_once().await;
    assert!(
        wait_for(Duration::from_secs(5), || !w
            .hooks
            .received("slack")
            .is_empty()
            && !w.hooks.received("discord").is_empty())
        .await,
        "{}",
        stdout(&out)
    );
    let slack = w.hooks.received("slack")[0].json["text"]
        .as_str()
        .unwrap()
        .to_owned();
    // ("<!channel>" read as markup never reaches the text at all.)
    assert!(!slack.contains("<!channel>"), "{slack}");
    assert!(slack.contains("&lt;@U123&gt;"), "{slack}");
    assert!(!slack.contains('<') && !slack.contains('>'), "{slack}");
    let discord = &w.hooks.received("discord")[0].json;
    let content = discord["content"].as_str().unwrap();
    assert!(
        !content.contains("@everyone") && !content.contains("@here"),
        "{content}"
    );
    assert!(
        content.contains("\\[click\\]\\(http://evil.example\\)"),
        "{content}"
    );
    assert!(content.contains("\\*Peskov\\*"), "{content}");
    assert_eq!(discord["allowed_mentions"]["parse"], serde_json::json!([]));
    // In the message itself, feed text is plain_text: never formatted, linked or mentioned.
    let blocks = &w.hooks.received("slack")[0].json["blocks"];
    assert_eq!(blocks[0]["text"]["type"], "plain_text", "{blocks}");
    assert!(
        blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("Kremlin rejects the truce [click](http://evil.example)"),
        "{blocks}"
    );
    assert_eq!(blocks[1]["text"]["type"], "plain_text", "{blocks}");
    assert!(
        blocks[1]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("*Peskov*"),
        "{blocks}"
    );
    // Both are still the alert.
    assert!(slack.contains("Kremlin rejects the truce"), "{slack}");
    assert!(content.contains("Kremlin rejects the truce"), "{content}");
}
