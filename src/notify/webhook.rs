//! Webhooks: one JSON POST per delivery, with the delivery's `Idempotency-Key` header.
//!
//! 2xx is delivered; 408, 429 and 5xx are retried (429 and 503 honour `Retry-After`); any
//! other answer is permanent. The payload (version 1) is documented in README.md.

use std::collections::HashMap;
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{Notifier, SendError, safe_link};
use crate::config::{WebhookFormat, WebhookSettings};
use crate::domain::{Delivery, Field, ObjectKey};

#[derive(Debug)]
pub struct WebhookNotifier {
    client: reqwest::Client,
    /// Per-webhook timeout and format by name; rows for webhooks no longer configured use
    /// the defaults.
    hooks: HashMap<String, Hook>,
}

impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("url", &crate::domain::redact::webhook(&self.url))
            .field("timeout", &self.timeout)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct Hook {
    /// Where to send: only here, never in a row or a log (it is often the credential).
    url: url::Url,
    timeout: Duration,
    format: WebhookFormat,
    secret: Option<SecretString>,
}

/// The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub const SIGNATURE_HEADER: &str = "X-Ceasefire-Watch-Signature";

/// The value of [`SIGNATURE_HEADER`] for `body` sent at `t` (unix seconds).
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The JSON body. Text fields are plain strings, never HTML.
#[derive(Debug, Serialize)]
struct Payload<'a> {
    version: u32,
    /// The idempotency key, also in the `Idempotency-Key` header.
    id: &'a str,
    alert_id: i64,
    signal: &'a str,
    signal_text: &'a str,
    score: f32,
    title: &'a str,
    link: Option<&'a str>,
    feed: &'a str,
    published: Option<String>,
    detected: String,
    summary: &'a str,
    evidence: Evidence<'a>,
    /// The story this alert opened, with the feeds carrying it when sent.
    story: Option<Story<'a>>,
    /// What the story did to its topic's status.
    status: Option<Status<'a>>,
    /// Sent before the route's `min_sources` was reached.
    unconfirmed: bool,
    /// A confirmation of an earlier unconfirmed alert (`in_reply_to` is that alert's `id`).
    follow_up: bool,
    in_reply_to: Option<&'a str>,
    test: bool,
}

#[derive(Debug, Serialize)]
struct Story<'a> {
    id: &'a str,
    sources: u32,
    /// The feeds carrying it, first first.
    feeds: &'a [String],
    /// Which ceasefire or flow it is about (`ceasefire:energy:720h`), when a report named it.
    object: Option<String>,
    /// The same in words ("the 30-day energy-strike ceasefire").
    about: Option<String>,
}

#[derive(Debug, Serialize)]
struct Status<'a> {
    topic: &'a str,
    before: &'a str,
    after: &'a str,
    changed: bool,
}

#[derive(Debug, Serialize)]
struct Evidence<'a> {
    rule: &'a str,
    words: &'a [String],
    sentence: &'a str,
    field: &'a str,
}

impl WebhookNotifier {
    pub fn new(hooks: &[WebhookSettings], user_agent: &str) -> anyhow::Result<WebhookNotifier> {
        crate::net::install_crypto_provider();
        let client = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(WebhookNotifier {
            client,
            hooks: hooks
                .iter()
                .map(|h| {
                    let hook = Hook {
                        url: h.url.clone(),
                        timeout: h.timeout,
                        format: h.format,
                        secret: h.secret.clone(),
                    };
                    (h.name.clone(), hook)
                })
                .collect(),
        })
    }

    /// The body for a delivery in a webhook's format. Feed text in Slack and Discord bodies
    /// is neutralised: it can neither mention (`<!channel>`, `@everyone`) nor link nor
    /// format, and every field is within the service's limit, so a message is never refused
    /// for its length.
    pub fn payload_for(format: WebhookFormat, d: &Delivery) -> serde_json::Value {
        match format {
            WebhookFormat::Json => Self::payload(d),
            WebhookFormat::Slack => slack_payload(d),
            WebhookFormat::Discord => serde_json::json!({
                // A link in angle brackets shows no preview; a parsed http(s) URL has its
                // `<`, `>` and spaces percent-encoded, so it cannot close them early.
                "content": fit(&chat_text(d, discord_escape, |l| format!("<{l}>")), DISCORD_CONTENT),
                "allowed_mentions": {"parse": []},
            }),
        }
    }

    /// The JSON body for a delivery.
    pub fn payload(d: &Delivery) -> serde_json::Value {
        let a = &d.alert;
        let p = Payload {
            version: 1,
            id: &d.idempotency_key,
            alert_id: a.id,
            signal: a.signal.kind.as_str(),
            signal_text: a.signal.kind.headline(),
            score: a.signal.score,
            title: &a.title,
            link: safe_link(a.link.as_deref()),
            feed: a.feed.as_str(),
            published: a
                .published
                .map(|p| p.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            detected: a
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            summary: &a.summary,
            evidence: Evidence {
                rule: &a.signal.evidence.rule,
                words: &a.signal.evidence.words,
                sentence: &a.signal.evidence.sentence,
                field: match a.signal.evidence.field {
                    Field::Title => "title",
                    Field::Summary => "summary",
                },
            },
            story: a.story.as_deref().map(|id| Story {
                id,
                sources: d.sources,
                feeds: &d.feeds,
                object: d.object.as_ref().map(ToString::to_string),
                about: d.object.as_ref().map(ObjectKey::describe),
            }),
            status: a.status.as_ref().map(|st| Status {
                topic: st.topic.as_str(),
                before: &st.before,
                after: &st.after,
                changed: st.changed(),
            }),
            unconfirmed: d.unconfirmed,
            follow_up: d.follow_up,
            in_reply_to: d.thread.as_deref(),
            test: d.is_test(),
        };
        serde_json::to_value(p).unwrap_or_default()
    }
}

/// The message of a chat webhook, feed text passed through `escape`.
fn chat_text(d: &Delivery, escape: fn(&str) -> String, link: fn(&str) -> String) -> String {
    let a = &d.alert;
    let mut t = escape(&super::headline(d));
    if let Some(l) = safe_link(a.link.as_deref()) {
        t.push('\n');
        t.push_str(&link(l));
    }
    if !a.summary.is_empty() {
        t.push('\n');
        t.push_str(&escape(&fit(&a.summary, 600)));
    }
    for line in super::story_lines(d) {
        t.push('\n');
        t.push_str(&escape(&line));
    }
    t.push_str(&format!(
        "\n(feed {}, rule {}, score {:.2})",
        escape(a.feed.as_str()),
        escape(&a.signal.evidence.rule),
        a.signal.score
    ));
    t
}

/// Discord's limit on a message's `content`.
const DISCORD_CONTENT: usize = 2000;
/// Slack's limits: a header block's text, a section's (and a context element's) text, and
/// the notification text we send (Slack truncates past 40,000; 3,000 reads on a phone).
const SLACK_HEADER: usize = 150;
const SLACK_SECTION: usize = 3000;
const SLACK_TEXT: usize = 3000;
/// Slack's limit on a button's URL.
const SLACK_URL: usize = 3000;

/// A Slack message in Block Kit: the feed's text only ever in `plain_text` objects, which
/// Slack neither formats nor links nor reads for mentions; the link as a button, so its
/// address is ours (a parsed http(s) URL), never text that looks like one. `text` is the
/// notification's fallback, escaped and with formatting off.
fn slack_payload(d: &Delivery) -> serde_json::Value {
    use serde_json::json;
    let a = &d.alert;
    let plain = |text: &str, max: usize| json!({"type": "plain_text", "text": fit(text, max), "emoji": false});
    let headline = super::headline(d);
    let mut body: Vec<String> = Vec::new();
    if !a.summary.is_empty() {
        body.push(a.summary.clone());
    }
    body.extend(super::story_lines(d));
    let mut blocks = vec![json!({"type": "header", "text": plain(&headline, SLACK_HEADER)})];
    if !body.is_empty() {
        blocks.push(json!({"type": "section", "text": plain(&body.join("\n"), SLACK_SECTION)}));
    }
    if let Some(link) = safe_link(a.link.as_deref()).filter(|l| l.len() <= SLACK_URL) {
        blocks.push(json!({"type": "actions", "elements": [{
            "type": "button",
            "text": plain("Open the report", 75),
            "url": link,
        }]}));
    }
    let why = format!(
        "feed {}, rule {}, score {:.2}",
        a.feed, a.signal.evidence.rule, a.signal.score
    );
    blocks.push(json!({"type": "context", "elements": [plain(&why, SLACK_SECTION)]}));
    json!({
        // Escaping at most quintuples the text: cut first, so an escape is never cut in two.
        "text": slack_escape(&fit(&headline, SLACK_TEXT / 5)),
        "mrkdwn": false,
        "blocks": blocks,
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// Slack's own escaping: with `&`, `<` and `>` escaped, text cannot hold `<!channel>`,
/// `<@U123>` or `<url|label>` links.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Discord: markdown characters escaped (no masked links, no formatting), and `@` followed
/// by a zero-width space so `@everyone` and `@here` are not mentions even where
/// `allowed_mentions` is ignored.
fn discord_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '[' | ']' | '(' | ')' | '#' | '<' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200B}"),
            c => out.push(c),
        }
    }
    out
}

/// `s` within `max` characters, an ellipsis included when it is cut. Characters are counted
/// as UTF-16 code units, as JavaScript does: never fewer than code points, so the limit
/// holds however a service counts.
fn fit(s: &str, max: usize) -> String {
    let units: usize = s.chars().map(char::len_utf16).sum();
    if units <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        if used + c.len_utf16() > max.saturating_sub(1) {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

/// The start of an error answer's body, for the log: at most 4 KiB is read (a hostile or
/// broken receiver may send an endless one), 200 characters kept.
async fn error_body(mut resp: reqwest::Response) -> String {
    const READ: usize = 4096;
    let mut bytes = Vec::new();
    while bytes.len() < READ {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                bytes.extend_from_slice(&chunk[..chunk.len().min(READ - bytes.len())])
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&bytes).chars().take(200).collect()
}

impl Notifier for WebhookNotifier {
    async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        // The row holds where the webhook went, not its URL: a webhook no longer configured
        // cannot be reached (it goes out again with `outbox --retry` once it is back).
        let Some(hook) = self.hooks.get(&d.target) else {
            return Err(SendError::Permanent(format!(
                "webhook {:?} is no longer configured ({})",
                d.target, d.address
            )));
        };
        let body = Self::payload_for(hook.format, d).to_string();
        let mut req = self
            .client
            .post(hook.url.clone())
            .timeout(hook.timeout)
            .header("Idempotency-Key", &d.idempotency_key)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(secret) = &hook.secret {
            let t = Utc::now().timestamp();
            req = req.header(
                SIGNATURE_HEADER,
                signature(secret.expose_secret(), t, &body),
            );
        }
        let resp = req.body(body).send().await;
        let resp = match resp {
            Ok(r) => r,
            // Errors without the URL: for Slack and Discord the URL is the credential.
            Err(e) if e.is_builder() => {
                return Err(SendError::Permanent(format!(
                    "bad webhook URL: {}",
                    e.without_url()
                )));
            }
            Err(e) => {
                return Err(SendError::transient(format!(
                    "webhook: {}",
                    crate::net::error_chain(&e.without_url())
                )));
            }
        };
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = crate::net::retry_after(resp.headers(), Utc::now());
        let body = error_body(resp).await;
        let message = format!("webhook answered {status}: {}", body.trim());
        if status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
        {
            Err(SendError::Transient {
                message,
                retry_after,
            })
        } else {
            Err(SendError::Permanent(message))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::test_delivery;

    fn units(s: &str) -> usize {
        s.encode_utf16().count()
    }

    #[test]
    fn text_is_cut_exactly_at_a_limit() {
        let at = "a".repeat(2000);
        assert_eq!(fit(&at, 2000), at, "a text at the limit is kept whole");
        let over = fit(&"a".repeat(2001), 2000);
        assert_eq!(units(&over), 2000);
        assert!(over.ends_with("a…"));
        // Characters outside the BMP count two units each, and are never split.
        let emoji = fit(&"😀".repeat(1500), 2000);
        assert!(units(&emoji) <= 2000, "{}", units(&emoji));
        assert!(emoji.ends_with("😀…"));
        assert_eq!(fit("", 10), "");
    }

    #[test]
    fn a_long_alert_meets_discord_and_slack_limits() {
        let d = test_delivery(
            &format!("Kremlin rejects the truce {}", "x".repeat(3000)),
            &"y".repeat(5000),
            Some("https://example.org/a"),
        );
        let discord = WebhookNotifier::payload_for(WebhookFormat::Discord, &d);
        let content = discord["content"].as_str().unwrap();
        assert_eq!(units(content), DISCORD_CONTENT);
        let slack = WebhookNotifier::payload_for(WebhookFormat::Slack, &d);
        let blocks = slack["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(
            units(blocks[0]["text"]["text"].as_str().unwrap()),
            SLACK_HEADER
        );
        assert_eq!(blocks[1]["type"], "section");
        assert!(units(blocks[1]["text"]["text"].as_str().unwrap()) <= SLACK_SECTION);
        assert!(units(slack["text"].as_str().unwrap()) <= SLACK_TEXT);
        // Feed text only ever in plain_text objects; the link is a button of ours.
        for b in blocks {
            for t in [&b["text"], &b["elements"][0]] {
                if let Some(kind) = t.get("type").and_then(|k| k.as_str()) {
                    assert!(kind == "plain_text" || kind == "button", "{b}");
                }
            }
        }
        assert_eq!(blocks[2]["elements"][0]["url"], "https://example.org/a");
        assert_eq!(slack["mrkdwn"], false);
        // A short alert is sent whole.
        let short = test_delivery("Kremlin rejects the truce", "Peskov said no.", None);
        let content = WebhookNotifier::payload_for(WebhookFormat::Discord, &short);
        assert!(!content["content"].as_str().unwrap().contains('…'));
    }

    #[test]
    fn signature_matches_a_known_hmac() {
        // RFC 4231 test case 2's key and data, framed as "<t>.<body>": computed with
        // `printf '1700000000.what do ya want for nothing?' | openssl dgst -sha256 -hmac Jefe`.
        let sig = super::signature("Jefe", 1_700_000_000, "what do ya want for nothing?");
        assert_eq!(
            sig,
            "t=1700000000,v1=1cdd0650c8be1cb0974b1788d458b1e781206cfef59b85faafc582d2e182c57e"
        );
    }
}
