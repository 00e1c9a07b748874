//! The test harness: real servers on loopback (a feed server, a webhook receiver, an SMTP
//! server) and `TestApp`, which runs the real `ceasefire-watch` binary against them with a
//! config in a temporary directory. Logs stay quiet unless `TEST_LOG` is set.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as AxPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

pub const BIN: &str = env!("CARGO_BIN_EXE_ceasefire-watch");

/// Polls `cond` until it holds or `timeout` passes.
pub async fn wait_for(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cond()
}

// ---------------------------------------------------------------------------------------------
// Feeds

/// An RSS 2.0 document with the given (guid, title, summary) items, published an hour ago.
/// Text is escaped here.
pub fn rss(items: &[(&str, &str, &str)]) -> String {
    rss_at(items, chrono::Utc::now() - chrono::Duration::hours(1))
}

/// [`rss`] with every item published at `published`.
pub fn rss_at(items: &[(&str, &str, &str)], published: chrono::DateTime<chrono::Utc>) -> String {
    let date = published.to_rfc2822();
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>Test wire</title><link>https://news.example.org/</link>\n",
    );
    for (guid, title, summary) in items {
        s.push_str(&format!(
            "<item><guid>{guid}</guid><title>{}</title><link>https://news.example.org/{guid}</link><description>{}</description><pubDate>{date}</pubDate></item>\n",
            esc(title),
            esc(summary)
        ));
    }
    s.push_str("</channel></rss>\n");
    s
}

/// A request the feed server answered.
#[derive(Debug, Clone)]
pub struct FeedRequest {
    pub name: String,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
    pub user_agent: Option<String>,
    pub status: u16,
    /// When the request arrived.
    pub at: Instant,
}

#[derive(Debug, Clone)]
struct Doc {
    body: Vec<u8>,
    status: u16,
    content_type: &'static str,
    /// Sent as `Retry-After` with an error status.
    retry_after: Option<u32>,
    /// Whether it carries ETag and Last-Modified (and so can be answered 304).
    validators: bool,
}

#[derive(Default)]
struct FeedState {
    docs: HashMap<String, Doc>,
    requests: Vec<FeedRequest>,
    /// Every answer waits this long (a slow site).
    delay: Duration,
    in_flight: usize,
    max_in_flight: usize,
}

/// Serves `/feeds/{name}` with ETag and Last-Modified, answering 304 to a matching
/// `If-None-Match`, and records every request.
pub struct FeedServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<FeedState>>,
}

const LAST_MODIFIED: &str = "Tue, 11 Mar 2025 12:00:00 GMT";

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..8]))
}

async fn serve_feed(
    State(state): State<Arc<Mutex<FeedState>>>,
    AxPath(name): AxPath<String>,
    headers: HeaderMap,
) -> Response {
    let text = |h: header::HeaderName| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let delay = {
        let mut st = state.lock().unwrap();
        st.in_flight += 1;
        st.max_in_flight = st.max_in_flight.max(st.in_flight);
        st.delay
    };
    tokio::time::sleep(delay).await;
    let mut st = state.lock().unwrap();
    st.in_flight -= 1;
    let doc = st.docs.get(&name).cloned();
    let if_none_match = text(header::IF_NONE_MATCH);
    let (status, response) = match doc {
        None => (404, (StatusCode::NOT_FOUND, "no such feed").into_response()),
        Some(doc) if doc.status != 200 => {
            let code = StatusCode::from_u16(doc.status).unwrap();
            let mut response =
                (code, [(header::CONTENT_TYPE, doc.content_type)], doc.body).into_response();
            if let Some(secs) = doc.retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, secs.to_string().parse().unwrap());
            }
            (doc.status, response)
        }
        Some(doc) if !doc.validators => {
            let headers = [(header::CONTENT_TYPE, doc.content_type)];
            (200, (StatusCode::OK, headers, doc.body).into_response())
        }
        Some(doc) => {
            let etag = etag_of(&doc.body);
            if if_none_match.as_deref() == Some(etag.as_str()) {
                (
                    304,
                    (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response(),
                )
            } else {
                let headers = [
                    (header::CONTENT_TYPE, doc.content_type.to_string()),
                    (header::ETAG, etag),
                    (header::LAST_MODIFIED, LAST_MODIFIED.to_string()),
                ];
                (200, (StatusCode::OK, headers, doc.body).into_response())
            }
        }
    };
    st.requests.push(FeedRequest {
        name,
        if_none_match,
        if_modified_since: text(header::IF_MODIFIED_SINCE),
        user_agent: text(header::USER_AGENT),
        status,
        at: Instant::now(),
    });
    response
}

impl FeedServer {
    pub async fn start() -> FeedServer {
        let state = Arc::new(Mutex::new(FeedState::default()));
        let app = Router::new()
            .route("/feeds/{name}", get(serve_feed))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FeedServer { addr, state }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://{}/feeds/{name}", self.addr)
    }

    /// Serves `body` as an RSS feed.
    pub fn set(&self, name: &str, body: impl Into<Vec<u8>>) {
        self.set_raw(name, 200, "application/rss+xml; charset=utf-8", body);
    }

    pub fn set_raw(
        &self,
        name: &str,
        status: u16,
        content_type: &'static str,
        body: impl Into<Vec<u8>>,
    ) {
        self.state.lock().unwrap().docs.insert(
            name.to_owned(),
            Doc {
                body: body.into(),
                status,
                content_type,
                retry_after: None,
                validators: true,
            },
        );
    }

    /// Serves `body` as an RSS feed without ETag or Last-Modified: every poll gets a 200 and
    /// the whole document, as from a server that ignores conditional GET.
    pub fn set_without_validators(&self, name: &str, body: impl Into<Vec<u8>>) {
        self.state.lock().unwrap().docs.insert(
            name.to_owned(),
            Doc {
                body: body.into(),
                status: 200,
                content_type: "application/rss+xml; charset=utf-8",
                retry_after: None,
                validators: false,
            },
        );
    }

    /// Answers `name` with an error `status` and `Retry-After: secs`.
    pub fn set_retry_after(&self, name: &str, status: u16, secs: u32) {
        self.state.lock().unwrap().docs.insert(
            name.to_owned(),
            Doc {
                body: b"slow down".to_vec(),
                status,
                content_type: "text/plain",
                retry_after: Some(secs),
                validators: true,
            },
        );
    }

    /// Makes every answer wait `d`.
    pub fn set_delay(&self, d: Duration) {
        self.state.lock().unwrap().delay = d;
    }

    /// The most requests this server has had in progress at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.lock().unwrap().max_in_flight
    }

    pub fn requests(&self, name: &str) -> Vec<FeedRequest> {
        self.state
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|r| r.name == name)
            .cloned()
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Webhooks

/// A POST the webhook receiver got.
#[derive(Debug, Clone)]
pub struct Hook {
    pub name: String,
    pub headers: HeaderMap,
    pub json: serde_json::Value,
    /// The body as received, for signature checks.
    pub body: String,
}

#[derive(Default)]
struct HookState {
    received: Vec<Hook>,
    /// Every request, by hook name, whatever was answered.
    attempts: HashMap<String, usize>,
    /// Statuses to answer, per hook, in order; 200 when empty.
    script: HashMap<String, VecDeque<u16>>,
    /// Hooks whose requests are held open (never answered), and the Idempotency-Key of
    /// each request held.
    hold: HashMap<String, Vec<String>>,
    /// A `Retry-After` value sent with every answer other than 200, per hook.
    retry_after: HashMap<String, String>,
}

/// Receives `POST /hooks/{name}` and records them.
pub struct WebhookServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<HookState>>,
}

async fn receive_hook(
    State(state): State<Arc<Mutex<HookState>>>,
    AxPath(name): AxPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let held = {
        let mut st = state.lock().unwrap();
        match st.hold.get_mut(&name) {
            Some(keys) => {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                keys.push(key);
                true
            }
            None => false,
        }
    };
    if held {
        // Hold the request open, as a receiver that hangs would, until released.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        while state.lock().unwrap().hold.contains_key(&name)
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let mut st = state.lock().unwrap();
    *st.attempts.entry(name.clone()).or_default() += 1;
    let status = st
        .script
        .get_mut(&name)
        .and_then(VecDeque::pop_front)
        .unwrap_or(200);
    if status == 200 {
        st.received.push(Hook {
            name,
            headers,
            json,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        return (StatusCode::OK, "ok").into_response();
    }
    let mut response = (StatusCode::from_u16(status).unwrap(), "ok").into_response();
    if let Some(v) = st.retry_after.get(&name) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, v.parse().unwrap());
    }
    response
}

impl WebhookServer {
    pub async fn start() -> WebhookServer {
        let state = Arc::new(Mutex::new(HookState::default()));
        let app = Router::new()
            .route("/hooks/{name}", post(receive_hook))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        WebhookServer { addr, state }
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://{}/hooks/{name}", self.addr)
    }

    pub fn received(&self, name: &str) -> Vec<Hook> {
        self.state
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|h| h.name == name)
            .cloned()
            .collect()
    }

    /// Requests made to `name`, whatever was answered.
    pub fn attempts(&self, name: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .attempts
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    /// Holds requests to `name` open from now on (`true`), or answers the held ones and the
    /// next (`false`).
    pub fn hold(&self, name: &str, on: bool) {
        let mut st = self.state.lock().unwrap();
        if on {
            st.hold.entry(name.to_owned()).or_default();
        } else {
            st.hold.remove(name);
        }
    }

    /// The Idempotency-Keys of the requests to `name` held open so far.
    pub fn held(&self, name: &str) -> Vec<String> {
        self.state
            .lock()
            .unwrap()
            .hold
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// Sends `Retry-After: value` with every answer to `name` other than 200.
    pub fn retry_after(&self, name: &str, value: &str) {
        self.state
            .lock()
            .unwrap()
            .retry_after
            .insert(name.to_owned(), value.to_owned());
    }

    /// Answers the next requests to `name` with these statuses.
    pub fn script(&self, name: &str, statuses: &[u16]) {
        self.state
            .lock()
            .unwrap()
            .script
            .insert(name.to_owned(), statuses.iter().copied().collect());
    }
}

// ---------------------------------------------------------------------------------------------
// SMTP

/// A message the SMTP server accepted.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    pub data: String,
}

impl Mail {
    /// A header's value (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self
            .data
            .split("\r\n\r\n")
            .next()
            .unwrap_or(&self.data)
            .replace("\r\n ", " ")
            .replace("\n ", " ");
        head.lines()
            .find(|l| {
                l.len() > name.len()
                    && l[..name.len()].eq_ignore_ascii_case(name)
                    && l.as_bytes()[name.len()] == b':'
            })
            .map(|l| l[name.len() + 1..].trim().to_owned())
    }

    /// The Subject, with RFC 2047 encoded words (`=?utf-8?b?...?=`) decoded.
    pub fn subject(&self) -> String {
        use base64::Engine;
        let raw = self.header("Subject").unwrap_or_default();
        let mut out = String::new();
        for (i, word) in raw.split(' ').enumerate() {
            let lower = word.to_ascii_lowercase();
            let decoded = lower
                .strip_prefix("=?utf-8?b?")
                .and_then(|_| word[10..].strip_suffix("?="))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|b| String::from_utf8(b).ok());
            if i > 0 {
                out.push(' ');
            }
            out.push_str(decoded.as_deref().unwrap_or(word));
        }
        out
    }

    /// The text body, with quoted-printable soft breaks and escapes undone.
    pub fn text(&self) -> String {
        let joined = self.data.replace("=\r\n", "").replace("=\n", "");
        let mut out = String::new();
        let bytes = joined.as_bytes();
        let mut i = 0;
        let mut buf = Vec::new();
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit()
            {
                buf.push(u8::from_str_radix(&joined[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                buf.push(bytes[i]);
                i += 1;
            }
        }
        out.push_str(&String::from_utf8_lossy(&buf));
        out
    }
}

/// How the SMTP server behaves.
#[derive(Debug, Clone, Default)]
pub struct SmtpOptions {
    pub port: Option<u16>,
    pub reject_rcpt: Vec<String>,
    pub stall: bool,
    /// Answer the first message's end of data only after this long.
    pub slow_first_data: Option<Duration>,
    /// Reject (554) every message after the first at the end of its data.
    pub reject_later_data: bool,
    /// Require AUTH with these credentials ("user:password").
    pub auth: Option<String>,
}

/// What the SMTP server reported besides accepted mail.
#[derive(Debug, Default)]
struct SmtpEvents {
    /// Greetings, one per connection.
    ehlos: usize,
    /// Messages held (received, not answered).
    held: Vec<Mail>,
    /// Messages answered 554 at the end of their data.
    rejected: usize,
    /// AUTH attempts, and whether each succeeded.
    auths: Vec<bool>,
    acks: usize,
}

/// A real SMTP server (aiosmtpd) in a child process.
pub struct SmtpServer {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    events: Arc<Mutex<SmtpEvents>>,
    child: std::process::Child,
}

pub fn python() -> String {
    std::env::var("CEASEFIRE_TEST_PYTHON").unwrap_or_else(|_| "python3".into())
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        SmtpServer::start_with(SmtpOptions::default())
    }

    pub fn start_with(opts: SmtpOptions) -> SmtpServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
        let mut cmd = std::process::Command::new(python());
        cmd.arg(script);
        if let Some(p) = opts.port {
            cmd.arg("--port").arg(p.to_string());
        }
        for r in &opts.reject_rcpt {
            cmd.arg("--reject-rcpt").arg(r);
        }
        if opts.stall {
            cmd.arg("--stall");
        }
        if let Some(d) = opts.slow_first_data {
            cmd.arg("--slow-first-data")
                .arg(d.as_secs_f64().to_string());
        }
        if opts.reject_later_data {
            cmd.arg("--reject-later-data");
        }
        if let Some(auth) = &opts.auth {
            cmd.arg("--auth").arg(auth);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start python3 for the SMTP server (set CEASEFIRE_TEST_PYTHON, or run scripts/test)");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = lines
            .next()
            .and_then(Result::ok)
            .expect("the SMTP server did not start: is aiosmtpd installed? run scripts/test, which installs it");
        let port: u16 = first
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .expect("PORT line");
        let mails = Arc::new(Mutex::new(Vec::new()));
        let events = Arc::new(Mutex::new(SmtpEvents::default()));
        let (sink, event_sink) = (mails.clone(), events.clone());
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if line.starts_with("ACK ") {
                    event_sink.lock().unwrap().acks += 1;
                    continue;
                }
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                    continue;
                };
                match v["event"].as_str() {
                    Some("ehlo") => event_sink.lock().unwrap().ehlos += 1,
                    Some("rejected") => event_sink.lock().unwrap().rejected += 1,
                    Some("auth") => event_sink
                        .lock()
                        .unwrap()
                        .auths
                        .push(v["ok"].as_bool().unwrap_or(false)),
                    Some("held") => event_sink.lock().unwrap().held.push(Mail {
                        mail_from: String::new(),
                        rcpt_tos: Vec::new(),
                        data: v["data"].as_str().unwrap_or_default().to_owned(),
                    }),
                    _ => {
                        if let Ok(m) = serde_json::from_value::<Mail>(v) {
                            sink.lock().unwrap().push(m);
                        }
                    }
                }
            }
        });
        SmtpServer {
            port,
            mails,
            events,
            child,
        }
    }

    /// From now on, holds each message after its data arrives without answering (`true`),
    /// or answers the held ones and the rest (`false`). Returns once the server took it.
    pub fn hold(&mut self, on: bool) {
        use std::io::Write;
        let before = self.events.lock().unwrap().acks;
        let stdin = self.child.stdin.as_mut().expect("the SMTP server's stdin");
        writeln!(stdin, "{}", if on { "hold" } else { "release" }).unwrap();
        stdin.flush().unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while self.events.lock().unwrap().acks == before {
            assert!(
                std::time::Instant::now() < deadline,
                "the SMTP server did not take the command"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Messages held so far (received, not answered).
    pub fn held(&self) -> Vec<Mail> {
        self.events.lock().unwrap().held.clone()
    }

    /// Messages the server rejected (554) at the end of their data.
    pub fn rejected(&self) -> usize {
        self.events.lock().unwrap().rejected
    }

    /// AUTH attempts so far, each true if the credentials were right.
    pub fn auths(&self) -> Vec<bool> {
        self.events.lock().unwrap().auths.clone()
    }

    /// Connections greeted so far.
    pub fn connections(&self) -> usize {
        self.events.lock().unwrap().ehlos
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    pub fn mails_to(&self, addr: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.rcpt_tos.iter().any(|r| r == addr))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port with nothing listening on it (for "server down" cases).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------------------------------------
// The application

/// A config file and state directory in a temporary directory, and ways to run the binary.
pub struct TestApp {
    pub dir: TempDir,
    pub config_path: PathBuf,
    pub state_dir: PathBuf,
}

impl TestApp {
    /// `config` may use `{state_dir}`.
    pub fn new(config: &str) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().join("state");
        let config_path = dir.path().join("config.toml");
        let app = TestApp {
            dir,
            config_path,
            state_dir,
        };
        app.write_config(config);
        app
    }

    pub fn write_config(&self, config: &str) {
        let text = config.replace("{state_dir}", &self.state_dir.display().to_string());
        std::fs::write(&self.config_path, text).unwrap();
    }

    /// The command for `args` with this app's config, to spawn by hand.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.arg("--config").arg(&self.config_path).args(args);
        cmd.env_remove("RUST_LOG");
        if std::env::var_os("TEST_LOG").is_some() {
            cmd.env(
                "RUST_LOG",
                "debug,sqlx=warn,hyper=warn,h2=warn,rustls=warn,reqwest=info",
            );
        }
        cmd.kill_on_drop(true);
        cmd
    }

    /// Runs a command to completion (at most 60 s).
    pub async fn cli(&self, args: &[&str]) -> Output {
        self.cli_with_stdin(args, None).await
    }

    pub async fn cli_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        self.cli_full(args, stdin, &[]).await
    }

    /// Runs a command with extra environment variables.
    pub async fn cli_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.cli_full(args, None, env).await
    }

    async fn cli_full(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn ceasefire-watch");
        if let Some(input) = stdin {
            use tokio::io::AsyncWriteExt;
            let mut sin = child.stdin.take().unwrap();
            sin.write_all(input.as_bytes()).await.unwrap();
            drop(sin);
        }
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("ceasefire-watch did not finish within 60 s")
            .unwrap();
        if std::env::var_os("TEST_LOG").is_some() {
            eprintln!(
                "--- {args:?} stdout:\n{}\n--- stderr:\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        out
    }

    pub async fn run_once(&self) -> Output {
        let out = self.cli(&["run", "--once"]).await;
        assert!(
            out.status.success(),
            "run --once failed: {:?}\nstdout: {}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts the daemon; stdout and stderr are captured into the returned child.
    pub fn spawn_daemon(&self) -> tokio::process::Child {
        self.spawn_daemon_with_env(&[])
    }

    /// [`TestApp::spawn_daemon`] with extra environment variables.
    pub fn spawn_daemon_with_env(&self, env: &[(&str, &str)]) -> tokio::process::Child {
        let mut cmd = self.command(&["run"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("spawn ceasefire-watch run")
    }
}

/// Sends SIGTERM (or another signal) to a child process.
pub fn signal(child: &tokio::process::Child, sig: &str) {
    let pid = child.id().expect("child is running");
    let status = std::process::Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success());
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

// ---------------------------------------------------------------------------------------------
// A world of servers

/// A feed server, a webhook receiver and an SMTP server, and a config that routes signals
/// to subscribers and hooks of every kind.
pub struct World {
    pub feeds: FeedServer,
    pub hooks: WebhookServer,
    pub smtp: SmtpServer,
}

impl World {
    pub async fn start() -> World {
        World {
            feeds: FeedServer::start().await,
            hooks: WebhookServer::start().await,
            smtp: SmtpServer::start(),
        }
    }

    /// The config with these feeds of the feed server.
    pub fn config(&self, feeds: &[&str]) -> String {
        let mut c = format!(
            r#"
[daemon]
state_dir = "{{state_dir}}"
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
from = "Ceasefire Watch <alerts@example.org>"
timeout = "10s"
[delivery]
retry_initial = "1s"
retry_max = "2s"

[[subscribers]]
name = "rejections"
email = "rejections@example.org"
signals = ["russia_rejects"]
[[subscribers]]
name = "everything"
email = "everything@example.org"
[[subscribers]]
name = "aid-desk"
email = "aid@example.org"
signals = ["us_aid_resumed"]
[[subscribers]]
name = "acceptances"
email = "accepts@example.org"
signals = ["russia_accepts"]

[[webhooks]]
name = "aid-hook"
url = "{aid_hook}"
signals = ["us_aid_resumed"]
[[webhooks]]
name = "all-hook"
url = "{all_hook}"
"#,
            port = self.smtp.port,
            aid_hook = self.hooks.url("aid"),
            all_hook = self.hooks.url("all"),
        );
        for f in feeds {
            c.push_str(&format!(
                "[[feeds]]\nname = \"{f}\"\nurl = \"{}\"\n",
                self.feeds.url(f)
            ));
        }
        c
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

#[path = "../../src/store/pg_cluster.rs"]
mod pg_cluster;
pub use pg_cluster::postgres_database;
