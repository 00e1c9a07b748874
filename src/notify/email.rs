//! Email through SMTP (lettre): multipart plain text + HTML, the HTML built from escaped plain
//! text only. A few connections stay open between sends, so a burst of alerts reuses them;
//! every send is bounded in time as a whole (lettre's own timeout covers only single
//! commands).
//!
//! Connections are kept here rather than in lettre's pool: a send owns its connection until
//! it finishes, and only a send that finished cleanly puts it back. lettre's pool takes a
//! connection back whenever its handle is dropped, so a send cut short by `smtp.timeout` (or
//! by shutdown) left a connection whose late answer to the last message was then read as the
//! answer to the next message's first command: a rejected message counted as delivered.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox as LettreMailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, address::Envelope};
use secrecy::ExposeSecret;

use super::{Notifier, SendError, headline, one_line, safe_link, story_lines};
use crate::config::{SmtpSecurity, SmtpSettings, Subscriber};
use crate::domain::{Delivery, Field, Mailbox, SignalKind};

pub struct EmailNotifier {
    connections: Connections,
    from: LettreMailbox,
    /// Domain for Message-IDs.
    domain: String,
    timeout: Duration,
    list_id: String,
    unsubscribe: Option<url::Url>,
    /// What each subscriber asked for, for the footer.
    asked: HashMap<String, BTreeSet<SignalKind>>,
    /// Each subscriber's quiet hours, if any.
    quiet: HashMap<String, crate::domain::QuietHours>,
    /// Each digest subscriber's daily hour.
    digest: HashMap<String, crate::domain::DailyDigest>,
}

impl std::fmt::Debug for EmailNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailNotifier")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

fn to_lettre(m: &Mailbox) -> anyhow::Result<LettreMailbox> {
    Ok(LettreMailbox::new(
        m.name.clone(),
        m.address.as_str().parse()?,
    ))
}

/// An idle connection is not kept longer than this (servers close idle clients after a minute
/// or more; a stale one would cost a failed NOOP).
const IDLE_FOR: Duration = Duration::from_secs(60);

/// How a connection is secured.
enum Security {
    None,
    /// TLS from the first byte.
    Wrapper(TlsParameters),
    /// STARTTLS, refused if the server does not offer it.
    StartTls(TlsParameters),
}

/// The SMTP server and the connections open to it that no send holds.
struct Connections {
    host: String,
    port: u16,
    security: Security,
    hello: ClientId,
    credentials: Option<Credentials>,
    /// Bounds each command (lettre's own timeout); the whole send is bounded by the caller.
    command_timeout: Duration,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    max_idle: usize,
}

impl Connections {
    /// Sends one message on a connection of its own: an idle one that still answers NOOP, or a
    /// new one. The connection goes back to the idle list only if this send finished and
    /// the connection is sound; dropped with this future, it is closed.
    async fn send(
        &self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<(), lettre::transport::smtp::Error> {
        let mut conn = match self.idle_connection().await {
            Some(conn) => conn,
            None => self.connect().await?,
        };
        conn.send(envelope, message).await?;
        if !conn.has_broken() {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            if idle.len() < self.max_idle {
                idle.push((conn, Instant::now()));
            }
        }
        Ok(())
    }

    /// An idle connection that answers NOOP; stale and silent ones are dropped.
    async fn idle_connection(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut conn, since) = {
                let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                idle.retain(|(_, since)| since.elapsed() < IDLE_FOR);
                idle.pop()?
            };
            if since.elapsed() < IDLE_FOR && conn.test_connected().await {
                return Some(conn);
            }
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, lettre::transport::smtp::Error> {
        let wrapper = match &self.security {
            Security::Wrapper(tls) => Some(tls.clone()),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.host.as_str(), self.port),
            Some(self.command_timeout),
            &self.hello,
            wrapper,
            None,
        )
        .await?;
        if let Security::StartTls(tls) = &self.security {
            conn.starttls(tls.clone(), &self.hello).await?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }
}

impl EmailNotifier {
    /// `connections`: how many idle connections to keep, the email lane's concurrency.
    pub fn new(
        s: &SmtpSettings,
        subscribers: &[Subscriber],
        connections: usize,
    ) -> anyhow::Result<EmailNotifier> {
        let tls = || TlsParameters::new(s.host.clone());
        let security = match s.security {
            SmtpSecurity::StartTls => Security::StartTls(tls()?),
            SmtpSecurity::Tls => Security::Wrapper(tls()?),
            SmtpSecurity::None => Security::None,
        };
        let credentials = match (&s.username, &s.password) {
            (Some(user), Some(pass)) => Some(Credentials::new(
                user.clone(),
                pass.expose_secret().to_owned(),
            )),
            _ => None,
        };
        Ok(EmailNotifier {
            connections: Connections {
                host: s.host.clone(),
                port: s.port,
                security,
                hello: ClientId::default(),
                credentials,
                command_timeout: s.timeout,
                idle: Mutex::new(Vec::new()),
                max_idle: connections.max(1),
            },
            from: to_lettre(&s.from)?,
            domain: s.from.address.domain().to_owned(),
            timeout: s.timeout,
            list_id: s.list_id.clone(),
            unsubscribe: s.unsubscribe.clone(),
            asked: subscribers
                .iter()
                .map(|sub| (sub.name.clone(), sub.signals.clone()))
                .collect(),
            quiet: subscribers
                .iter()
                .filter_map(|sub| Some((sub.name.clone(), sub.quiet?)))
                .collect(),
            digest: subscribers
                .iter()
                .filter_map(|sub| Some((sub.name.clone(), sub.digest?)))
                .collect(),
        })
    }

    /// The quiet hours of the subscriber `name`.
    pub fn quiet(&self, name: &str) -> Option<&crate::domain::QuietHours> {
        self.quiet.get(name)
    }

    /// The daily digest hour of the subscriber `name`, if they take a digest.
    pub fn digest(&self, name: &str) -> Option<&crate::domain::DailyDigest> {
        self.digest.get(name)
    }

    /// The headers every message carries: sender, recipient, Message-ID, the send time, and
    /// the headers that tell mail software this is an automatic list message.
    fn builder(
        &self,
        address: &str,
        message_id: &str,
    ) -> Result<lettre::message::MessageBuilder, SendError> {
        let to: LettreMailbox = address.parse().map_err(|e| {
            SendError::Permanent(format!("recipient {address:?} is not an address: {e}"))
        })?;
        let raw = |name: &'static str, value: String| {
            HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .message_id(Some(format!("<{message_id}@{}>", self.domain)))
            // When it is sent: a retry an hour later is dated an hour later.
            .date(SystemTime::now())
            // Mail made by a program: no vacation replies, no auto-forwards (RFC 3834).
            .raw_header(raw("Auto-Submitted", "auto-generated".into()))
            .raw_header(raw("X-Auto-Response-Suppress", "All".into()))
            .raw_header(raw(
                "List-Id",
                format!("ceasefire-watch alerts <{}>", self.list_id),
            ));
        if let Some(url) = &self.unsubscribe {
            builder = builder.raw_header(raw("List-Unsubscribe", format!("<{url}>")));
            if url.scheme() == "https" {
                builder = builder.raw_header(raw(
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click".into(),
                ));
            }
        }
        Ok(builder)
    }

    /// One mail for several deliveries to one subscriber: their daily digest. Its Message-ID
    /// is made from the rows' keys, so a digest sent again after a crash carries the same one.
    pub fn digest_message(&self, ds: &[Delivery]) -> Result<Message, SendError> {
        let first = ds
            .first()
            .ok_or_else(|| SendError::Permanent("an empty digest".into()))?;
        let mut keys: Vec<&str> = ds.iter().map(|d| d.idempotency_key.as_str()).collect();
        keys.sort_unstable();
        let id = {
            use sha2::Digest as _;
            let mut h = sha2::Sha256::new();
            for k in keys {
                h.update(k.as_bytes());
                h.update([0]);
            }
            format!("digest-{}", hex::encode(&h.finalize()[..16]))
        };
        let subject = match ds.len() {
            1 => format!("[ceasefire-watch] Daily digest: {}", headline(first)),
            n => format!("[ceasefire-watch] Daily digest: {n} alerts"),
        };
        let asked = self.asked.get(&first.target);
        self.builder(&first.address, &id)?
            .subject(one_line(&subject, 200))
            .multipart(alternative(digest_plain(ds, asked), digest_html(ds, asked)))
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
    }

    /// Sends a digest: one message, delivered or failed as a whole.
    pub async fn send_digest(&self, ds: &[Delivery]) -> Result<(), SendError> {
        self.deliver(self.digest_message(ds)?).await
    }

    async fn deliver(&self, message: Message) -> Result<(), SendError> {
        let bytes = message.formatted();
        let send = self.connections.send(message.envelope(), &bytes);
        match tokio::time::timeout(self.timeout, send).await {
            // The send, and its connection with it, is dropped: never used again.
            Err(_) => Err(SendError::transient(format!(
                "SMTP send did not finish within {:?} (smtp.timeout)",
                self.timeout
            ))),
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                let text = crate::net::error_chain(&e);
                if e.is_permanent() {
                    Err(SendError::Permanent(format!(
                        "SMTP server rejected the message: {text}"
                    )))
                } else {
                    Err(SendError::transient(format!("SMTP: {text}")))
                }
            }
        }
    }

    /// Builds the message for one delivery. Public for tests and `test-alert`.
    pub fn message(&self, d: &Delivery) -> Result<Message, SendError> {
        // A test alert's subject starts with [TEST]: on a phone it must not read as news.
        let subject = if d.is_test() {
            one_line(&d.alert.title, 200)
        } else {
            one_line(&format!("[ceasefire-watch] {}", headline(d)), 200)
        };
        let asked = self.asked.get(&d.target);
        let mut builder = self.builder(&d.address, &d.idempotency_key)?;
        builder = match &d.thread {
            // A follow-up answers the story's first message: one conversation per story.
            Some(first) => {
                let parent = format!("<{first}@{}>", self.domain);
                builder
                    .subject(format!("Re: {subject}"))
                    .in_reply_to(parent.clone())
                    .references(parent)
            }
            None => builder.subject(subject),
        };
        builder
            .multipart(alternative(plain_body(d, asked), html_body(d, asked)))
            .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
    }
}

impl Notifier for EmailNotifier {
    async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        self.deliver(self.message(d)?).await
    }
}

/// The two parts of every message, plain text first.
fn alternative(plain: String, html: String) -> MultiPart {
    MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(plain),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html),
        )
}

fn field_name(f: Field) -> &'static str {
    match f {
        Field::Title => "headline",
        Field::Summary => "summary",
    }
}

/// The first line: what happened, in the signal's words (a test says it is one).
fn lead(d: &Delivery) -> String {
    if d.is_test() {
        "Test alert: no news, only a check that mail reaches you.".into()
    } else {
        d.alert.signal.kind.headline().into()
    }
}

/// What the subscriber asked for, in words.
fn asked_line(d: &Delivery, asked: Option<&BTreeSet<SignalKind>>) -> String {
    match asked {
        None if d.is_test() => format!("ceasefire-watch sent this test to \"{}\".", d.target),
        None => format!(
            "ceasefire-watch sent this to \"{}\", a subscriber no longer in its config.",
            d.target
        ),
        Some(signals) if signals.is_empty() || signals.len() == SignalKind::ALL.len() => {
            format!(
                "ceasefire-watch sent this to \"{}\", who asked for every signal.",
                d.target
            )
        }
        Some(signals) => format!(
            "ceasefire-watch sent this to \"{}\", who asked for: {}.",
            d.target,
            signals
                .iter()
                .map(|k| k.headline())
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// The short "why" at the end: the rule, its words and sentence, the score, the story.
fn why_lines(d: &Delivery) -> Vec<String> {
    let a = &d.alert;
    let ev = &a.signal.evidence;
    let mut lines = vec![format!(
        "Rule {} matched {} in the {}: \"{}\"",
        ev.rule,
        ev.words
            .iter()
            .map(|w| format!("\"{}\"", one_line(w, 80)))
            .collect::<Vec<_>>()
            .join(", "),
        field_name(ev.field),
        one_line(&ev.sentence, 600)
    )];
    let mut ids = format!("Signal {}, score {:.2}", a.signal.kind, a.signal.score);
    if let Some(story) = &a.story {
        ids.push_str(&format!("; story {story}"));
    }
    lines.push(ids);
    lines
}

fn plain_body(d: &Delivery, asked: Option<&BTreeSet<SignalKind>>) -> String {
    let mut s = plain_alert(d);
    s.push_str(&format!("\n-- \n{}\n", asked_line(d, asked)));
    s
}

/// One alert in plain text: what happened, the report, and why it was sent.
fn plain_alert(d: &Delivery) -> String {
    let a = &d.alert;
    let mut s = String::new();
    s.push_str(&lead(d));
    s.push('\n');
    for line in story_lines(d) {
        s.push_str(&line);
        s.push('\n');
    }
    s.push('\n');
    s.push_str(&one_line(&a.title, 500));
    s.push('\n');
    if let Some(link) = safe_link(a.link.as_deref()) {
        s.push_str(link);
        s.push('\n');
    }
    s.push_str(&format!("\nFeed:      {}\n", a.feed));
    if let Some(p) = a.published {
        s.push_str(&format!("Published: {}\n", p.format("%Y-%m-%d %H:%M UTC")));
    }
    s.push_str(&format!(
        "Detected:  {}\n",
        a.created_at.format("%Y-%m-%d %H:%M UTC")
    ));
    if !a.summary.is_empty() {
        s.push_str(&format!("\n{}\n", one_line(&a.summary, 1200)));
    }
    s.push_str("\nWhy this alert:\n");
    for line in why_lines(d) {
        s.push_str(&format!("  {line}\n"));
    }
    s
}

/// The line above a digest's alerts: how many, over which span.
fn digest_intro(ds: &[Delivery]) -> String {
    let first = ds.iter().map(|d| d.alert.created_at).min();
    let last = ds.iter().map(|d| d.alert.created_at).max();
    match (first, last) {
        (Some(a), Some(b)) => format!(
            "Daily digest: {} alert{} detected between {} and {}.",
            ds.len(),
            if ds.len() == 1 { "" } else { "s" },
            a.format("%Y-%m-%d %H:%M UTC"),
            b.format("%Y-%m-%d %H:%M UTC")
        ),
        _ => "Daily digest.".into(),
    }
}

fn digest_plain(ds: &[Delivery], asked: Option<&BTreeSet<SignalKind>>) -> String {
    let mut s = digest_intro(ds);
    s.push('\n');
    for (n, d) in ds.iter().enumerate() {
        s.push_str(&format!("\n{}. ", n + 1));
        s.push_str(&plain_alert(d));
    }
    if let Some(d) = ds.first() {
        s.push_str(&format!("\n-- \n{}\n", asked_line(d, asked)));
    }
    s
}

fn esc(s: &str) -> String {
    html_escape::encode_text(s).into_owned()
}

const HTML_HEAD: &str = "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">";

fn html_body(d: &Delivery, asked: Option<&BTreeSet<SignalKind>>) -> String {
    let mut s = String::from(HTML_HEAD);
    s.push_str(&html_alert(d, "h2"));
    s.push_str(&html_footer(d, asked));
    s
}

fn html_footer(d: &Delivery, asked: Option<&BTreeSet<SignalKind>>) -> String {
    format!(
        "<p style=\"color:#666;font-size:0.9em\">{}</p></body></html>",
        esc(&asked_line(d, asked))
    )
}

/// One alert in HTML, its headline under a `heading` element; every text escaped.
fn html_alert(d: &Delivery, heading: &str) -> String {
    let a = &d.alert;
    let title = esc(&one_line(&a.title, 500));
    let headline = match safe_link(a.link.as_deref()) {
        Some(link) => format!(
            "<a href=\"{}\">{title}</a>",
            html_escape::encode_double_quoted_attribute(link)
        ),
        None => title,
    };
    let mut s = String::new();
    s.push_str(&format!("<p><strong>{}</strong></p>", esc(&lead(d))));
    for line in story_lines(d) {
        s.push_str(&format!("<p>{}</p>", esc(&line)));
    }
    s.push_str(&format!(
        "<{heading} style=\"font-size:1.2em\">{headline}</{heading}>"
    ));
    s.push_str("<table>");
    s.push_str(&format!(
        "<tr><td>Feed</td><td>{}</td></tr>",
        esc(a.feed.as_str())
    ));
    if let Some(p) = a.published {
        s.push_str(&format!(
            "<tr><td>Published</td><td>{}</td></tr>",
            p.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    s.push_str(&format!(
        "<tr><td>Detected</td><td>{}</td></tr>",
        a.created_at.format("%Y-%m-%d %H:%M UTC")
    ));
    s.push_str("</table>");
    if !a.summary.is_empty() {
        s.push_str(&format!("<p>{}</p>", esc(&one_line(&a.summary, 1200))));
    }
    s.push_str("<p style=\"color:#444;font-size:0.9em\">Why this alert:<br>");
    s.push_str(
        &why_lines(d)
            .iter()
            .map(|l| esc(l))
            .collect::<Vec<_>>()
            .join("<br>"),
    );
    s.push_str("</p>");
    s
}

fn digest_html(ds: &[Delivery], asked: Option<&BTreeSet<SignalKind>>) -> String {
    let mut s = String::from(HTML_HEAD);
    s.push_str(&format!("<p>{}</p><ol>", esc(&digest_intro(ds))));
    for d in ds {
        s.push_str("<li>");
        s.push_str(&html_alert(d, "h3"));
        s.push_str("</li>");
    }
    s.push_str("</ol>");
    match ds.first() {
        Some(d) => s.push_str(&html_footer(d, asked)),
        None => s.push_str("</body></html>"),
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(title: &str, link: Option<&str>) -> Delivery {
        crate::notify::test_delivery(title, "s", link)
    }

    fn notifier() -> EmailNotifier {
        EmailNotifier::new(
            &SmtpSettings {
                host: "localhost".into(),
                port: 2525,
                security: SmtpSecurity::None,
                username: None,
                password: None,
                from: Mailbox::parse("Ceasefire Watch <alerts@example.org>").unwrap(),
                timeout: Duration::from_secs(5),
                list_id: "ceasefire-watch.example.org".into(),
                unsubscribe: None,
            },
            &[],
            4,
        )
        .unwrap()
    }

    // The pooled transport needs a runtime to exist and to drop.
    #[tokio::test]
    async fn hostile_text_is_escaped_and_headers_stay_single() {
        let d = delivery(
            "Kremlin <script>alert(1)</script> rejects\r\nBcc: evil@example.org",
            Some("javascript:alert(1)"),
        );
        let raw = String::from_utf8(notifier().message(&d).unwrap().formatted()).unwrap();
        // No header line was injected: the title stays inside the (folded) Subject.
        let headers = &raw[..raw.find("\r\n\r\n").expect("a header block")];
        assert!(!headers.lines().any(|l| l.starts_with("Bcc:")), "{headers}");
        assert!(raw.contains("Message-ID: <abc123@example.org>"), "{raw}");
        assert!(!raw.contains("javascript:"), "{raw}");
        // The HTML part carries the title escaped, never as markup.
        let html = &raw[raw.find("Content-Type: text/html").expect("an HTML part")..];
        let html = html.replace("=\r\n", "");
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;") || html.contains("&lt;script=\r\n&gt;"),
            "{html}"
        );
    }
}
