//! Configuration in two stages: the raw file (plus `CEASEFIRE_WATCH__...` environment
//! overrides) read into lenient serde structs, then checked into [`Settings`], collecting every
//! problem with the key it belongs to (`feeds[2].url: relative URL without a base`).
//!
//! Nothing here starts anything: a config either yields complete `Settings` or a list of
//! errors, never half of one.

use std::collections::{BTreeMap, BTreeSet};

pub use crate::dedupe::{JoinBy, StorySettings};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::classify::{Classifier, RuleOverlay};
use crate::domain::{AlertOn, EmailAddress, FeedName, FeedSource, Mailbox, SignalKind};
use crate::parse::ParseLimits;
use crate::store::Retention;

/// Where the daemon looks when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/ceasefire-watch/config.toml";
/// Prefix of environment overrides: `CEASEFIRE_WATCH__SMTP__PASSWORD` sets `smtp.password`.
pub const ENV_PREFIX: &str = "CEASEFIRE_WATCH";

/// One problem in the config, with the key path it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

/// Every problem found in a config file.
#[derive(Debug, Clone)]
pub struct ConfigErrors {
    pub path: PathBuf,
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} problem(s)",
            self.path.display(),
            self.errors.len()
        )?;
        for e in &self.errors {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

// ---------------------------------------------------------------------------------------------
// Stage 1: raw structs. Leaves are strings where a later check gives a better message.

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
    state_dir: Option<String>,
    log_format: Option<String>,
    default_interval: Option<String>,
    shutdown_grace: Option<String>,
    stalled_after: Option<String>,
    adaptive: Option<bool>,
    min_interval: Option<String>,
    max_interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFetch {
    timeout: Option<String>,
    connect_timeout: Option<String>,
    max_body_bytes: Option<u64>,
    max_redirects: Option<u32>,
    concurrency: Option<u32>,
    per_host: Option<u32>,
    freshness_cap: Option<String>,
    user_agent: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    listen: Option<String>,
    failing_after: Option<String>,
    token: Option<String>,
    token_file: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParse {
    max_items: Option<u64>,
    max_field_chars: Option<u64>,
    max_depth: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    name: Option<String>,
    url: Option<String>,
    interval: Option<String>,
    adaptive: Option<bool>,
    min_interval: Option<String>,
    max_interval: Option<String>,
    /// An official source (the Kremlin, a ministry): an event's first report from one is
    /// recorded and shown.
    #[serde(default)]
    official: bool,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: Option<String>,
    port: Option<u32>,
    security: Option<String>,
    username: Option<String>,
    password: Option<String>,
    password_file: Option<String>,
    from: Option<String>,
    timeout: Option<String>,
    list_id: Option<String>,
    unsubscribe: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubscriber {
    name: Option<String>,
    email: Option<String>,
    quiet: Option<String>,
    digest: Option<String>,
    timezone: Option<String>,
    signals: Option<Vec<String>>,
    min_score: Option<f64>,
    alert_on: Option<String>,
    min_sources: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    name: Option<String>,
    url: Option<String>,
    signals: Option<Vec<String>>,
    timeout: Option<String>,
    format: Option<String>,
    min_score: Option<f64>,
    secret: Option<String>,
    secret_file: Option<String>,
    url_file: Option<String>,
    alert_on: Option<String>,
    min_sources: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStories {
    window: Option<String>,
    open_for: Option<String>,
    statement: Option<String>,
    settle: Option<String>,
    similarity: Option<f64>,
    join: Option<String>,
    max_item_age: Option<String>,
    max_wait: Option<String>,
    keep: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    keep_seen: Option<String>,
    keep_alerts: Option<String>,
    url: Option<String>,
    url_file: Option<String>,
    lease: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    retry_initial: Option<String>,
    retry_max: Option<String>,
    give_up_after: Option<String>,
    concurrency: Option<u32>,
}

const SECTIONS: &[&str] = &[
    "daemon",
    "fetch",
    "parse",
    "feeds",
    "smtp",
    "subscribers",
    "webhooks",
    "delivery",
    "stories",
    "http",
    "store",
    "rules",
];

// ---------------------------------------------------------------------------------------------
// Stage 2: what the rest of the program uses.

/// The checked configuration. Built only by [`load`] or [`Settings::from_toml_str`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file it came from; relative paths inside it were resolved against its directory.
    pub config_path: PathBuf,
    pub daemon: DaemonSettings,
    pub fetch: FetchSettings,
    /// What one feed document may hold.
    pub parse: ParseLimits,
    pub feeds: Vec<FeedSettings>,
    pub smtp: Option<SmtpSettings>,
    pub subscribers: Vec<Subscriber>,
    pub webhooks: Vec<WebhookSettings>,
    pub delivery: DeliverySettings,
    pub stories: StorySettings,
    pub http: HttpSettings,
    /// What the store forgets, and when.
    pub store: Retention,
    /// Where the state is: the SQLite file in `daemon.state_dir`, or `store.url`.
    pub database: crate::store::Location,
    /// The built-in rule pack with `[rules]` applied, compiled.
    pub classifier: Arc<Classifier>,
    /// What is allowed but probably not meant (`check-config` prints them, the daemon logs
    /// them at start).
    pub warnings: Vec<ConfigError>,
}

#[derive(Debug, Clone)]
pub struct DaemonSettings {
    /// Holds the SQLite database.
    pub state_dir: PathBuf,
    /// Poll interval of feeds that set none.
    pub default_interval: Duration,
    /// How long SIGTERM waits for in-flight polls and sends.
    pub shutdown_grace: Duration,
    /// No finished poll for this long means the poll loop is stuck (/healthz 503, no
    /// watchdog ping). `None`: three of the longest feed intervals plus the fetch timeout, at
    /// least ten minutes.
    pub stalled_after: Option<Duration>,
    /// How log lines are written (`--log-format` wins).
    pub log_format: crate::telemetry::LogFormat,
}

#[derive(Debug, Clone)]
pub struct FetchSettings {
    /// Whole request, body included.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Largest body accepted, after decompression.
    pub max_body_bytes: u64,
    pub max_redirects: usize,
    /// Feeds fetched at the same time.
    pub concurrency: usize,
    /// Fetches at once from one host (several feeds of one site are fetched in turn).
    pub per_host: usize,
    /// Cache-Control max-age and RSS `<ttl>` may stretch a feed's interval up to this.
    pub freshness_cap: Duration,
    pub user_agent: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedSettings {
    pub name: FeedName,
    pub source: FeedSource,
    pub interval: Duration,
    /// With adaptive polling: the bounds the interval moves within, following how often the
    /// feed publishes.
    pub adaptive: Option<(Duration, Duration)>,
    /// An official source: see [`StorySettings::official`].
    pub official: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587); refuses servers without it.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on localhost.
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub from: Mailbox,
    /// Bounds the whole send of one message, not only the connect.
    pub timeout: Duration,
    /// The `List-Id` of every alert (RFC 2919), for filters: `ceasefire-watch.<from's
    /// domain>` unless set.
    pub list_id: String,
    /// Where a subscriber asks to stop (`mailto:` or `https:`), sent as `List-Unsubscribe`
    /// (RFC 2369; with `List-Unsubscribe-Post`, RFC 8058, for https).
    pub unsubscribe: Option<Url>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subscriber {
    pub name: String,
    pub email: EmailAddress,
    pub signals: BTreeSet<SignalKind>,
    /// Signals scoring below this are not sent here.
    pub min_score: f32,
    pub alert_on: AlertOn,
    pub min_sources: u32,
    /// Mail that does not change a status waits for the end of these hours.
    pub quiet: Option<crate::domain::QuietHours>,
    /// One mail a day holding every alert since the last, instead of a mail per alert.
    pub digest: Option<crate::domain::DailyDigest>,
}

/// The optional `/healthz` and `/metrics` listener.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Off unless set.
    pub listen: Option<std::net::SocketAddr>,
    /// A feed failing for this long is listed by `/healthz` (and logged once an hour).
    pub failing_after: Duration,
    /// With it, the status page and `/status.json` answer only a request that carries it
    /// (`Authorization: Bearer`, or `?token=`); `/healthz` and `/metrics` stay open.
    pub token: Option<SecretString>,
}

#[derive(Clone)]
pub struct WebhookSettings {
    pub name: String,
    pub url: Url,
    pub signals: BTreeSet<SignalKind>,
    pub timeout: Duration,
    pub format: WebhookFormat,
    /// Signals scoring below this are not sent here.
    pub min_score: f32,
    /// Signs each request (HMAC-SHA256) when set.
    pub secret: Option<SecretString>,
    pub alert_on: AlertOn,
    pub min_sources: u32,
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL is often the credential: only where it goes.
        f.debug_struct("WebhookSettings")
            .field("name", &self.name)
            .field("url", &crate::domain::redact::webhook(&self.url))
            .field("signals", &self.signals)
            .field("timeout", &self.timeout)
            .field("format", &self.format)
            .field("min_score", &self.min_score)
            .field("alert_on", &self.alert_on)
            .field("min_sources", &self.min_sources)
            .finish_non_exhaustive()
    }
}

/// The shape of a webhook's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookFormat {
    /// Our documented JSON payload (version 1).
    #[default]
    Json,
    /// A Slack incoming webhook (`{"text": ...}`).
    Slack,
    /// A Discord webhook (`{"content": ...}`).
    Discord,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeliverySettings {
    /// First retry delay; doubles on each failure (with jitter).
    pub retry_initial: Duration,
    /// Largest retry delay.
    pub retry_max: Duration,
    /// A delivery still failing this long after its alert is marked dead.
    pub give_up_after: Duration,
    /// Sends in flight at once on one channel (the SMTP server; each webhook).
    pub concurrency: usize,
}

/// The project's User-Agent: names the project and version, so feed owners can tell who polls.
pub fn default_user_agent() -> String {
    format!(
        "ceasefire-watch/{} (news feed monitor; +https://crates.io/crates/ceasefire-watch)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Reads and checks the config file at `path`, with environment overrides.
/// `daemon.log_format` as the environment or the file sets it, read before logging starts
/// (so before the config is checked, which reports a bad value); `None` when neither does.
pub fn log_format_hint(path: &Path) -> Option<crate::telemetry::LogFormat> {
    if let Ok(v) = std::env::var(format!("{ENV_PREFIX}__DAEMON__LOG_FORMAT")) {
        return v.trim().parse().ok();
    }
    let table: toml::Table = std::fs::read_to_string(path).ok()?.parse().ok()?;
    table
        .get("daemon")?
        .get("log_format")?
        .as_str()?
        .parse()
        .ok()
}

/// [`load`] for the daemon (`run`, `check-config`): a config must also have a feed to
/// watch. The commands that only read rules or state (`classify`, `status`, ...) take a
/// config without one.
pub fn load_for_daemon(path: &Path) -> Result<Settings, ConfigErrors> {
    let settings = load(path)?;
    if settings.feeds.is_empty() {
        return Err(ConfigErrors {
            path: path.to_owned(),
            errors: vec![ConfigError {
                key: "feeds".into(),
                message:
                    "no enabled [[feeds]]: nothing to watch (config/default.toml lists real ones)"
                        .into(),
            }],
        });
    }
    Ok(settings)
}

pub fn load(path: &Path) -> Result<Settings, ConfigErrors> {
    let fail = |message: String| ConfigErrors {
        path: path.to_owned(),
        errors: vec![ConfigError {
            key: String::new(),
            message,
        }],
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| fail(format!("cannot read the config file: {e}")))?;
    let env = std::env::vars().filter(|(k, _)| k.starts_with(&format!("{ENV_PREFIX}__")));
    Settings::from_toml_str(&text, path, env.collect())
}

impl Settings {
    /// Checks a config given as text. `path` names it in errors and anchors relative paths;
    /// `env` holds the `CEASEFIRE_WATCH__...` overrides.
    pub fn from_toml_str(
        text: &str,
        path: &Path,
        env: BTreeMap<String, String>,
    ) -> Result<Settings, ConfigErrors> {
        let errors_at = |errors: Vec<ConfigError>| ConfigErrors {
            path: path.to_owned(),
            errors,
        };
        // The file's syntax first, with toml's own position: the config crate's message
        // quotes the offending line, which may be a password.
        if let Err(e) = text.parse::<toml::Table>() {
            return Err(errors_at(vec![ConfigError {
                key: String::new(),
                message: format!("not valid TOML: {}", toml_error(text, &e)),
            }]));
        }
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml));
        let mut env_errors = Vec::new();
        for (name, value) in env {
            match env_key(&name) {
                // As a string, as written: a number-like password keeps its leading zeros,
                // and a number field still reads it (the config crate parses strings).
                Some(key) => match builder.set_override(key.as_str(), value) {
                    Ok(b) => builder = b,
                    Err(e) => {
                        env_errors.push(ConfigError {
                            key: name,
                            message: config_error_message(&e),
                        });
                        builder = config::Config::builder().add_source(config::File::from_str(
                            text,
                            config::FileFormat::Toml,
                        ));
                    }
                },
                None => env_errors.push(ConfigError {
                    key: name,
                    message: format!(
                        "is not a config key: write {ENV_PREFIX}__SECTION__KEY, or {ENV_PREFIX}__SECTION__N__KEY for the Nth [[section]] (from 0)"
                    ),
                }),
            }
        }
        if !env_errors.is_empty() {
            return Err(errors_at(env_errors));
        }
        let cfg = builder.build().map_err(|e| {
            errors_at(vec![ConfigError {
                key: String::new(),
                message: format!("cannot read the config: {}", config_error_message(&e)),
            }])
        })?;
        let base_dir = path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.to_owned()));
        let mut errors = Vec::new();
        let settings = build(&cfg, path, base_dir.as_deref(), &mut errors);
        match settings {
            Some(s) if errors.is_empty() => Ok(s),
            _ => Err(errors_at(errors)),
        }
    }

    /// Feeds by name, for lookups from store rows.
    pub fn feed(&self, name: &FeedName) -> Option<&FeedSettings> {
        self.feeds.iter().find(|f| &f.name == name)
    }
}

/// The config crate's error, without the value it found (which may be a secret).
fn config_error_message(e: &config::ConfigError) -> String {
    match e {
        config::ConfigError::Type {
            unexpected,
            expected,
            ..
        } => format!("expected {expected}, found a {}", kind_of(unexpected)),
        other => other.to_string(),
    }
}

/// From serde's "unknown field `x`, expected one of `a`, `b`" (or "expected `a`"): the
/// field and the known ones.
fn unknown_key(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.split("unknown field `").nth(1)?;
    let (field, rest) = rest.split_once('`')?;
    let known = rest
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect();
    Some((field.to_owned(), known))
}

/// "unknown key; did you mean `interval`?" when one known key is close, else the list.
fn suggest(field: &str, known: &[String]) -> String {
    let nearest = known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(field, k), k))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, k)| *d <= (k.len() / 3).max(2));
    match nearest {
        Some((_, k)) => format!("unknown key; did you mean `{k}`?"),
        None => format!("unknown key (known: {})", known.join(", ")),
    }
}

/// What kind of value was found ("64-bit integer", "string"), never the value: the config
/// crate's text quotes it after the kind.
fn kind_of(unexpected: &impl fmt::Display) -> String {
    let text = unexpected.to_string();
    text.split(['`', '"'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// A TOML syntax error as "line L, column C: message", without quoting the line.
fn toml_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {}", e.message().trim())
        }
        None => e.message().trim().to_owned(),
    }
}

/// The config key an environment variable sets: `CEASEFIRE_WATCH__SMTP__PASSWORD` is
/// `smtp.password`, `CEASEFIRE_WATCH__WEBHOOKS__0__URL` is `webhooks[0].url`.
pub(crate) fn env_key(name: &str) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?.strip_prefix("__")?;
    let mut key = String::new();
    for part in rest.split("__") {
        if part.is_empty() {
            return None;
        }
        if part.bytes().all(|b| b.is_ascii_digit()) {
            if key.is_empty() {
                return None;
            }
            key.push_str(&format!("[{part}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(&part.to_ascii_lowercase());
        }
    }
    (!key.is_empty()).then_some(key)
}

/// Deserialises one section (or array element) and reports errors under `key`. A section
/// that is absent is its default; one that is malformed is `None` (its error is reported, and
/// its fields are not checked further, so one typo gives one message).
fn section<T: for<'de> Deserialize<'de> + Default>(
    value: Option<config::Value>,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    let Some(value) = value else {
        return Some(T::default());
    };
    match value.try_deserialize::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            let (k, message) = match &e {
                config::ConfigError::Type {
                    key: Some(sub),
                    unexpected,
                    expected,
                    ..
                } => {
                    let sub = sub.trim_start_matches(key).trim_start_matches('.');
                    let k = if sub.is_empty() {
                        key.to_owned()
                    } else {
                        format!("{key}.{sub}")
                    };
                    (
                        k,
                        format!("expected {expected}, found a {}", kind_of(unexpected)),
                    )
                }
                other => {
                    let text = config_error_message(other);
                    match unknown_key(&text) {
                        Some((field, known)) => (format!("{key}.{field}"), suggest(&field, &known)),
                        None => (key.to_owned(), text),
                    }
                }
            };
            errors.push(ConfigError { key: k, message });
            None
        }
    }
}

fn build(
    cfg: &config::Config,
    path: &Path,
    base_dir: Option<&Path>,
    errors: &mut Vec<ConfigError>,
) -> Option<Settings> {
    let root: BTreeMap<String, config::Value> = match cfg.clone().try_deserialize() {
        Ok(r) => r,
        Err(e) => {
            errors.push(ConfigError {
                key: String::new(),
                message: config_error_message(&e),
            });
            return None;
        }
    };
    check_sections(&root, errors);
    let raw: RawDaemon = section(root.get("daemon").cloned(), "daemon", errors).unwrap_or_default();
    let (daemon, default_adaptive) = daemon_settings(raw, base_dir, errors);
    let default_interval = daemon.default_interval;

    let raw: RawFetch = section(root.get("fetch").cloned(), "fetch", errors).unwrap_or_default();
    let fetch = fetch_settings(raw, errors);

    let raw: RawParse = section(root.get("parse").cloned(), "parse", errors).unwrap_or_default();
    let parse = parse_limits(raw, errors);

    let mut feed_names = BTreeSet::new();
    let defaults = (default_interval, default_adaptive);
    let feeds = tables(&root, "feeds", errors, |raw: RawFeed, key, errors| {
        feed_settings(raw, key, &mut feed_names, defaults, base_dir, errors)
    });

    // [smtp]
    let smtp = root.get("smtp").cloned().map(|v| {
        section::<RawSmtp>(Some(v), "smtp", errors)
            .and_then(|raw| smtp_settings(raw, base_dir, errors))
    });
    let smtp = smtp.flatten();

    let any_subscriber = root
        .get("subscribers")
        .and_then(|v| v.clone().into_array().ok())
        .is_some_and(|a| !a.is_empty());
    if any_subscriber && !root.contains_key("smtp") {
        err(
            errors,
            "subscribers".into(),
            "email subscribers need an [smtp] section to send through".into(),
        );
    }
    let mut names = BTreeSet::new();
    let subscribers = tables(
        &root,
        "subscribers",
        errors,
        |raw: RawSubscriber, key, errors| subscriber(raw, key, &mut names, errors),
    );
    let mut hook_names = BTreeSet::new();
    let webhooks = tables(&root, "webhooks", errors, |raw: RawWebhook, key, errors| {
        webhook(raw, key, &mut hook_names, base_dir, errors)
    });

    let raw: RawDelivery =
        section(root.get("delivery").cloned(), "delivery", errors).unwrap_or_default();
    let delivery = delivery_settings(raw, errors);

    // [stories]
    let raw: RawStories =
        section(root.get("stories").cloned(), "stories", errors).unwrap_or_default();
    let mut stories = story_settings(raw, errors);
    stories.official = feeds
        .iter()
        .filter(|f| f.official)
        .map(|f| f.name.clone())
        .collect();

    let raw: RawHttp = section(root.get("http").cloned(), "http", errors).unwrap_or_default();
    let http = http_settings(raw, base_dir, errors);

    let raw: RawStore = section(root.get("store").cloned(), "store", errors).unwrap_or_default();
    let database = database(&raw, &daemon.state_dir, base_dir, errors);
    let store = retention(raw, errors);

    let classifier = classifier(root.get("rules").cloned(), errors);

    if !errors.is_empty() {
        return None;
    }
    Some(Settings {
        config_path: path.to_owned(),
        daemon,
        fetch,
        parse,
        feeds,
        smtp,
        subscribers,
        webhooks,
        delivery,
        stories,
        warnings: warnings(&http),
        http,
        store,
        database,
        classifier: classifier?,
    })
}

/// Every top-level key names a known section.
fn check_sections(root: &BTreeMap<String, config::Value>, errors: &mut Vec<ConfigError>) {
    for key in root.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            let known: Vec<String> = SECTIONS.iter().map(|s| (*s).to_owned()).collect();
            errors.push(ConfigError {
                key: key.clone(),
                message: suggest(key, &known).replace("unknown key", "unknown section"),
            });
        }
    }
}

/// An array of tables (`[[feeds]]`), each read and checked by `check`; a table with
/// errors is left out, its errors kept.
fn tables<R, T>(
    root: &BTreeMap<String, config::Value>,
    name: &str,
    errors: &mut Vec<ConfigError>,
    mut check: impl FnMut(R, &str, &mut Vec<ConfigError>) -> Option<T>,
) -> Vec<T>
where
    R: for<'de> Deserialize<'de> + Default,
{
    let Some(value) = root.get(name).cloned() else {
        return Vec::new();
    };
    let Ok(array) = value.into_array() else {
        err(
            errors,
            name.to_owned(),
            format!("must be an array of tables ([[{name}]])"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, v) in array.into_iter().enumerate() {
        let key = format!("{name}[{i}]");
        if let Some(raw) = section::<R>(Some(v), &key, errors) {
            out.extend(check(raw, &key, errors));
        }
    }
    out
}

/// What a valid config allows that is probably a mistake.
fn warnings(http: &HttpSettings) -> Vec<ConfigError> {
    let mut w = Vec::new();
    if let Some(addr) = http.listen
        && !addr.ip().is_loopback()
    {
        let page = if http.token.is_some() {
            "the status page asks for http.token"
        } else {
            "the status page and /status.json too, unless http.token is set"
        };
        w.push(ConfigError {
            key: "http.listen".into(),
            message: format!(
                "{addr} is reachable from other hosts: /healthz and /metrics need no credentials ({page}); prefer 127.0.0.1 behind a proxy or a firewall"
            ),
        });
    }
    w
}

fn alert_on(v: Option<&str>, key: &str, errors: &mut Vec<ConfigError>) -> AlertOn {
    match v {
        None | Some("story") => AlertOn::Story,
        Some("change") => AlertOn::Change,
        Some(other) => {
            errors.push(ConfigError {
                key: format!("{key}.alert_on"),
                message: format!("{other:?} is not \"story\" or \"change\""),
            });
            AlertOn::Story
        }
    }
}

fn min_sources(v: Option<u32>, key: &str, errors: &mut Vec<ConfigError>) -> u32 {
    match v {
        None => 1,
        Some(0) => {
            errors.push(ConfigError {
                key: format!("{key}.min_sources"),
                message: "must be at least 1".into(),
            });
            1
        }
        Some(n) => n,
    }
}

/// Records a problem with the value at `key`.
fn err(errors: &mut Vec<ConfigError>, key: String, message: String) {
    errors.push(ConfigError { key, message })
}

/// One `[[feeds]]` table, checked (`None` when it has errors or is disabled).
fn feed_settings(
    raw: RawFeed,
    key: &str,
    feed_names: &mut BTreeSet<FeedName>,
    (default_interval, default_adaptive): (Duration, AdaptiveDefault),
    base_dir: Option<&Path>,
    errors: &mut Vec<ConfigError>,
) -> Option<FeedSettings> {
    let name = match raw.name.as_deref() {
        None => {
            err(errors, format!("{key}.name"), "is missing".into());
            None
        }
        Some(n) => match FeedName::parse(n) {
            Ok(n) => {
                if !feed_names.insert(n.clone()) {
                    err(
                        errors,
                        format!("{key}.name"),
                        format!("\"{n}\" is used by an earlier feed"),
                    );
                }
                Some(n)
            }
            Err(e) => {
                err(errors, format!("{key}.name"), e);
                None
            }
        },
    };
    let source = match raw.url.as_deref() {
        None => {
            err(errors, format!("{key}.url"), "is missing".into());
            None
        }
        Some(u) => match FeedSource::parse(u, base_dir) {
            Ok(s) => Some(s),
            Err(e) => {
                err(errors, format!("{key}.url"), e);
                None
            }
        },
    };
    let interval = duration(
        raw.interval.as_deref(),
        &format!("{key}.interval"),
        default_interval,
        Duration::from_secs(1),
        WEEK,
        errors,
    );
    let adaptive = if raw.adaptive.unwrap_or(default_adaptive.0) {
        let min = duration(
            raw.min_interval.as_deref(),
            &format!("{key}.min_interval"),
            default_adaptive.1,
            Duration::from_secs(1),
            WEEK,
            errors,
        );
        let max = duration(
            raw.max_interval.as_deref(),
            &format!("{key}.max_interval"),
            default_adaptive.2,
            Duration::from_secs(1),
            WEEK,
            errors,
        );
        if min > max {
            err(
                errors,
                format!("{key}.min_interval"),
                "is longer than max_interval".into(),
            );
        }
        Some((min, max))
    } else {
        None
    };
    if let (Some(name), Some(source), true) = (name, source, raw.enabled) {
        return Some(FeedSettings {
            name,
            source,
            interval,
            adaptive,
            official: raw.official,
        });
    }
    None
}

/// One `[[subscribers]]` table, checked.
fn subscriber(
    raw: RawSubscriber,
    key: &str,
    names: &mut BTreeSet<String>,
    errors: &mut Vec<ConfigError>,
) -> Option<Subscriber> {
    let (quiet, digest) = delivery_times(&raw, key, errors);
    let name = required_name(raw.name, key, names, errors);
    let email = match raw.email.as_deref() {
        None => {
            err(errors, format!("{key}.email"), "is missing".into());
            None
        }
        Some(e) => EmailAddress::parse(e)
            .map_err(|e| err(errors, format!("{key}.email"), e))
            .ok(),
    };
    let signals = signal_set(raw.signals, &format!("{key}.signals"), errors);
    let min_score = score_floor(raw.min_score, &format!("{key}.min_score"), errors);
    let alert_on = alert_on(raw.alert_on.as_deref(), key, errors);
    let min_sources = min_sources(raw.min_sources, key, errors);
    if let (Some(name), Some(email)) = (name, email) {
        return Some(Subscriber {
            name,
            email,
            signals,
            min_score,
            alert_on,
            min_sources,
            quiet,
            digest,
        });
    }
    None
}

/// A subscriber's `quiet` hours or daily `digest`, read in its `timezone` (UTC by default).
/// A digest already waits for its hour, so the two do not go together.
fn delivery_times(
    raw: &RawSubscriber,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> (
    Option<crate::domain::QuietHours>,
    Option<crate::domain::DailyDigest>,
) {
    let zone = raw.timezone.as_deref().unwrap_or("UTC");
    match (raw.quiet.as_deref(), raw.digest.as_deref()) {
        (None, None) => {
            if raw.timezone.is_some() {
                err(
                    errors,
                    format!("{key}.timezone"),
                    "is only read with quiet (\"22:00-07:00\") or digest (\"daily 08:00\")".into(),
                );
            }
            (None, None)
        }
        (Some(_), Some(_)) => {
            err(
                errors,
                format!("{key}.quiet"),
                "cannot go with digest: a digest already waits for its hour; keep one".into(),
            );
            (None, None)
        }
        (Some(window), None) => (
            crate::domain::QuietHours::parse(window, zone)
                .map_err(|e| err(errors, format!("{key}.quiet"), e))
                .ok(),
            None,
        ),
        (None, Some(spec)) => (
            None,
            crate::domain::DailyDigest::parse(spec, zone)
                .map_err(|e| err(errors, format!("{key}.digest"), e))
                .ok(),
        ),
    }
}

/// One `[[webhooks]]` table, checked.
///
/// One section's fields checked in the order the reference lists them.
fn webhook(
    raw: RawWebhook,
    key: &str,
    names: &mut BTreeSet<String>,
    base_dir: Option<&Path>,
    errors: &mut Vec<ConfigError>,
) -> Option<WebhookSettings> {
    let name = required_name(raw.name, key, names, errors);
    // A chat webhook's URL is its credential: it may come from a file or credential.
    let url = secret_value(
        raw.url,
        raw.url_file,
        key,
        ("url", "url_file"),
        base_dir,
        errors,
    );
    let url = match url.as_deref() {
        None => {
            if !errors
                .iter()
                .any(|e| e.key.starts_with(&format!("{key}.url")))
            {
                err(
                    errors,
                    format!("{key}.url"),
                    "is missing (or set url_file)".into(),
                );
            }
            None
        }
        Some(u) => match Url::parse(u.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                Some(url)
            }
            Ok(url) => {
                err(
                    errors,
                    format!("{key}.url"),
                    format!("scheme {:?} is not http or https", url.scheme()),
                );
                None
            }
            Err(e) => {
                err(errors, format!("{key}.url"), e.to_string());
                None
            }
        },
    };
    let signals = signal_set(raw.signals, &format!("{key}.signals"), errors);
    let timeout = duration(
        raw.timeout.as_deref(),
        &format!("{key}.timeout"),
        Duration::from_secs(10),
        Duration::from_millis(100),
        HOUR,
        errors,
    );
    let format = match raw.format.as_deref() {
        None | Some("json") => WebhookFormat::Json,
        Some("slack") => WebhookFormat::Slack,
        Some("discord") => WebhookFormat::Discord,
        Some(other) => {
            err(
                errors,
                format!("{key}.format"),
                format!("{other:?} is not one of \"json\", \"slack\", \"discord\""),
            );
            WebhookFormat::Json
        }
    };
    let min_score = score_floor(raw.min_score, &format!("{key}.min_score"), errors);
    let secret = match secret_value(
        raw.secret,
        raw.secret_file,
        key,
        ("secret", "secret_file"),
        base_dir,
        errors,
    ) {
        Some(s) if s.trim().is_empty() => {
            err(errors, format!("{key}.secret"), "must not be empty".into());
            None
        }
        s => s.map(SecretString::from),
    };
    let alert_on = alert_on(raw.alert_on.as_deref(), key, errors);
    let min_sources = min_sources(raw.min_sources, key, errors);
    if let (Some(name), Some(url)) = (name, url) {
        return Some(WebhookSettings {
            name,
            url,
            signals,
            timeout,
            format,
            min_score,
            secret,
            alert_on,
            min_sources,
        });
    }
    None
}

/// Every feed's polling unless it sets its own: adaptive or not, and the bounds an adaptive
/// interval moves within.
type AdaptiveDefault = (bool, Duration, Duration);

/// `[daemon]`, checked, with what `[[feeds]]` inherit from it.
fn daemon_settings(
    raw: RawDaemon,
    base_dir: Option<&Path>,
    errors: &mut Vec<ConfigError>,
) -> (DaemonSettings, AdaptiveDefault) {
    let state_dir = match raw.state_dir.as_deref().map(str::trim) {
        None => PathBuf::from("/var/lib/ceasefire-watch"),
        Some("") => {
            err(
                errors,
                "daemon.state_dir".into(),
                "must not be empty".into(),
            );
            PathBuf::new()
        }
        Some(p) => resolve_path(p, base_dir),
    };
    let default_interval = duration(
        raw.default_interval.as_deref(),
        "daemon.default_interval",
        Duration::from_secs(300),
        Duration::from_secs(1),
        WEEK,
        errors,
    );
    let shutdown_grace = duration(
        raw.shutdown_grace.as_deref(),
        "daemon.shutdown_grace",
        Duration::from_secs(10),
        Duration::ZERO,
        HOUR,
        errors,
    );
    let stalled_after = raw.stalled_after.as_deref().map(|v| {
        duration(
            Some(v),
            "daemon.stalled_after",
            Duration::from_secs(600),
            Duration::from_secs(1),
            MONTH,
            errors,
        )
    });
    // Adaptive polling: on for every feed, or per feed; the interval moves within these.
    let default_adaptive = (
        raw.adaptive.unwrap_or(false),
        duration(
            raw.min_interval.as_deref(),
            "daemon.min_interval",
            Duration::from_secs(60),
            Duration::from_secs(1),
            WEEK,
            errors,
        ),
        duration(
            raw.max_interval.as_deref(),
            "daemon.max_interval",
            Duration::from_secs(3600),
            Duration::from_secs(1),
            WEEK,
            errors,
        ),
    );
    let log_format = match raw.log_format.as_deref().map(str::trim) {
        None => crate::telemetry::LogFormat::Text,
        Some(f) => f.parse().unwrap_or_else(|e: String| {
            err(errors, "daemon.log_format".into(), e);
            crate::telemetry::LogFormat::Text
        }),
    };
    (
        DaemonSettings {
            state_dir,
            default_interval,
            shutdown_grace,
            stalled_after,
            log_format,
        },
        default_adaptive,
    )
}

/// `[fetch]`, checked.
fn fetch_settings(raw: RawFetch, errors: &mut Vec<ConfigError>) -> FetchSettings {
    FetchSettings {
        timeout: duration(
            raw.timeout.as_deref(),
            "fetch.timeout",
            Duration::from_secs(30),
            Duration::from_millis(100),
            HOUR,
            errors,
        ),
        connect_timeout: duration(
            raw.connect_timeout.as_deref(),
            "fetch.connect_timeout",
            Duration::from_secs(10),
            Duration::from_millis(100),
            Duration::from_secs(600),
            errors,
        ),
        max_body_bytes: match raw.max_body_bytes {
            Some(0) => {
                err(
                    errors,
                    "fetch.max_body_bytes".into(),
                    "must be more than 0".into(),
                );
                0
            }
            Some(n) => n,
            None => 10 * 1024 * 1024,
        },
        max_redirects: raw.max_redirects.unwrap_or(5) as usize,
        concurrency: match raw.concurrency {
            Some(0) => {
                err(
                    errors,
                    "fetch.concurrency".into(),
                    "must be at least 1".into(),
                );
                1
            }
            Some(n) => n as usize,
            None => 16,
        },
        per_host: match raw.per_host {
            Some(0) => {
                err(errors, "fetch.per_host".into(), "must be at least 1".into());
                1
            }
            Some(n) => n as usize,
            None => 1,
        },
        freshness_cap: duration(
            raw.freshness_cap.as_deref(),
            "fetch.freshness_cap",
            Duration::from_secs(15 * 60),
            Duration::ZERO,
            WEEK,
            errors,
        ),
        user_agent: match raw.user_agent {
            Some(ua) if ua.trim().is_empty() || ua.chars().any(|c| c.is_control()) => {
                err(
                    errors,
                    "fetch.user_agent".into(),
                    "must be a non-empty single line".into(),
                );
                String::new()
            }
            Some(ua) => ua,
            None => default_user_agent(),
        },
    }
}

/// `[parse]`, checked.
fn parse_limits(raw: RawParse, errors: &mut Vec<ConfigError>) -> ParseLimits {
    let defaults = ParseLimits::default();
    let mut positive = |v: Option<u64>, key: &str, default: usize| match v {
        Some(0) => {
            err(errors, key.into(), "must be at least 1".into());
            default
        }
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        None => default,
    };
    ParseLimits {
        max_entries: positive(raw.max_items, "parse.max_items", defaults.max_entries),
        max_field_chars: positive(
            raw.max_field_chars,
            "parse.max_field_chars",
            defaults.max_field_chars,
        ),
        max_depth: positive(raw.max_depth, "parse.max_depth", defaults.max_depth),
    }
}

/// `[delivery]`, checked.
fn delivery_settings(raw: RawDelivery, errors: &mut Vec<ConfigError>) -> DeliverySettings {
    let delivery = DeliverySettings {
        retry_initial: duration(
            raw.retry_initial.as_deref(),
            "delivery.retry_initial",
            Duration::from_secs(10),
            Duration::from_millis(10),
            DAY,
            errors,
        ),
        retry_max: duration(
            raw.retry_max.as_deref(),
            "delivery.retry_max",
            Duration::from_secs(30 * 60),
            Duration::from_millis(10),
            WEEK,
            errors,
        ),
        give_up_after: duration(
            raw.give_up_after.as_deref(),
            "delivery.give_up_after",
            Duration::from_secs(24 * 3600),
            Duration::from_secs(1),
            MONTH,
            errors,
        ),
        concurrency: match raw.concurrency {
            Some(0) => {
                err(
                    errors,
                    "delivery.concurrency".into(),
                    "must be at least 1".into(),
                );
                1
            }
            Some(n) => n as usize,
            None => 4,
        },
    };
    if delivery.retry_initial > delivery.retry_max {
        err(
            errors,
            "delivery.retry_initial".into(),
            "is longer than delivery.retry_max".into(),
        );
    }
    delivery
}

/// `[http]`, checked.
fn http_settings(
    raw: RawHttp,
    base_dir: Option<&Path>,
    errors: &mut Vec<ConfigError>,
) -> HttpSettings {
    let token = secret_value(
        raw.token,
        raw.token_file,
        "http",
        ("token", "token_file"),
        base_dir,
        errors,
    );
    if let Some(t) = &token
        && t.len() < 16
    {
        err(
            errors,
            "http.token".into(),
            "is shorter than 16 characters: use a long random one (e.g. `openssl rand -hex 32`)"
                .into(),
        );
    }
    HttpSettings {
        token: token.map(SecretString::from),
        listen: raw.listen.as_deref().and_then(|l| {
            l.trim()
                .parse()
                .map_err(|e| {
                    err(
                        errors,
                        "http.listen".into(),
                        format!("{l:?} is not an address like \"127.0.0.1:9184\" ({e})"),
                    )
                })
                .ok()
        }),
        failing_after: duration(
            raw.failing_after.as_deref(),
            "http.failing_after",
            Duration::from_secs(3600),
            Duration::from_secs(1),
            MONTH,
            errors,
        ),
    }
}

/// `[store]`'s `url` (or `url_file`) and `lease`: a shared PostgreSQL, or by default the
/// SQLite file in `state_dir`.
fn database(
    raw: &RawStore,
    state_dir: &Path,
    base_dir: Option<&Path>,
    errors: &mut Vec<ConfigError>,
) -> crate::store::Location {
    let lease = duration(
        raw.lease.as_deref(),
        "store.lease",
        crate::store::DEFAULT_LEASE,
        Duration::from_secs(5),
        Duration::from_secs(3600),
        errors,
    );
    let url = secret_value(
        raw.url.clone(),
        raw.url_file.clone(),
        "store",
        ("url", "url_file"),
        base_dir,
        errors,
    );
    let Some(url) = url else {
        if raw.lease.is_some() {
            err(
                errors,
                "store.lease".into(),
                "is only read with a shared store (store.url = \"postgres://...\")".into(),
            );
        }
        return crate::store::Location::Sqlite {
            state_dir: state_dir.to_owned(),
        };
    };
    match Url::parse(url.trim()) {
        Ok(u) if matches!(u.scheme(), "postgres" | "postgresql") && u.host_str().is_some() => {
            crate::store::Location::Postgres {
                url: SecretString::from(url.trim().to_owned()),
                lease,
            }
        }
        Ok(u) => {
            err(
                errors,
                "store.url".into(),
                format!(
                    "scheme {:?} is not postgres (\"postgres://USER:PASSWORD@HOST:PORT/DB\"); leave it out for the SQLite file in daemon.state_dir",
                    u.scheme()
                ),
            );
            crate::store::Location::Sqlite {
                state_dir: state_dir.to_owned(),
            }
        }
        // The message of a URL that fails to parse never repeats the URL (it may hold a
        // password).
        Err(e) => {
            err(errors, "store.url".into(), format!("is not a URL: {e}"));
            crate::store::Location::Sqlite {
                state_dir: state_dir.to_owned(),
            }
        }
    }
}

/// `[store]`, checked.
fn retention(raw: RawStore, errors: &mut Vec<ConfigError>) -> Retention {
    let kept = Retention::default();
    Retention {
        // Above the weekly refresh of fingerprints still in their feeds, with room.
        keep_seen: duration(
            raw.keep_seen.as_deref(),
            "store.keep_seen",
            kept.keep_seen,
            Duration::from_secs(14 * 24 * 3600),
            TEN_YEARS,
            errors,
        ),
        keep_alerts: duration(
            raw.keep_alerts.as_deref(),
            "store.keep_alerts",
            kept.keep_alerts,
            DAY,
            TEN_YEARS,
            errors,
        ),
    }
}

/// `[rules]`: the built-in pack with the overlay applied, compiled (`None` after errors).
fn classifier(
    rules: Option<config::Value>,
    errors: &mut Vec<ConfigError>,
) -> Option<Arc<Classifier>> {
    let overlay: Option<RuleOverlay> = match rules {
        None => None,
        Some(v) => match v.try_deserialize::<RuleOverlay>() {
            Ok(o) => Some(o),
            Err(e) => {
                err(errors, "rules".into(), config_error_message(&e));
                None
            }
        },
    };
    match overlay {
        None => Some(Classifier::builtin()),
        Some(o) if o == RuleOverlay::default() => Some(Classifier::builtin()),
        Some(o) => match Classifier::with_overlay(&o) {
            Ok(c) => Some(Arc::new(c)),
            Err(es) => {
                for e in es {
                    // Pack errors read "<path in the pack>: <message>"; rule paths already
                    // start with "rules.", other paths live under the [rules] section.
                    let (path, message) = e.split_once(": ").unwrap_or(("", &e));
                    let key = if path.starts_with("rules.") || path.starts_with("rules[") {
                        path.to_owned()
                    } else if path.is_empty() {
                        "rules".to_owned()
                    } else {
                        format!("rules.{path}")
                    };
                    err(errors, key, message.to_owned());
                }
                None
            }
        },
    }
}

fn story_settings(raw: RawStories, errors: &mut Vec<ConfigError>) -> StorySettings {
    let d = StorySettings::default();
    let similarity = match raw.similarity {
        None => d.similarity,
        Some(x) if x > 0.0 && x <= 1.0 => x as f32,
        Some(x) => {
            errors.push(ConfigError {
                key: "stories.similarity".into(),
                message: format!("{x} is not in (0, 1]"),
            });
            d.similarity
        }
    };
    let join = match raw.join.as_deref() {
        None | Some("signal") => JoinBy::Signal,
        Some("topic") => JoinBy::Topic,
        Some(other) => {
            errors.push(ConfigError {
                key: "stories.join".into(),
                message: format!("{other:?} is not \"signal\" or \"topic\""),
            });
            d.join
        }
    };
    let min = Duration::from_secs(1);
    let window = duration(
        raw.window.as_deref(),
        "stories.window",
        d.window,
        min,
        YEAR,
        errors,
    );
    let open_for = duration(
        raw.open_for.as_deref(),
        "stories.open_for",
        d.open_for.max(window),
        min,
        YEAR,
        errors,
    );
    if open_for < window {
        errors.push(ConfigError {
            key: "stories.open_for".into(),
            message: format!(
                "{} is shorter than stories.window ({}): a report of the same event would join by its words and not by what it is about",
                humantime::format_duration(open_for),
                humantime::format_duration(window)
            ),
        });
    }
    StorySettings {
        window,
        open_for,
        statement: duration(
            raw.statement.as_deref(),
            "stories.statement",
            d.statement,
            Duration::ZERO,
            YEAR,
            errors,
        ),
        settle: duration(
            raw.settle.as_deref(),
            "stories.settle",
            d.settle,
            Duration::ZERO,
            WEEK,
            errors,
        ),
        similarity,
        join,
        max_item_age: duration(
            raw.max_item_age.as_deref(),
            "stories.max_item_age",
            d.max_item_age,
            min,
            CENTURY,
            errors,
        ),
        max_wait: duration(
            raw.max_wait.as_deref(),
            "stories.max_wait",
            d.max_wait,
            min,
            WEEK,
            errors,
        ),
        keep: duration(
            raw.keep.as_deref(),
            "stories.keep",
            d.keep,
            min,
            TEN_YEARS,
            errors,
        ),
        official: BTreeSet::new(),
    }
}

/// A `min_score`: a number in [0, 1], 0 when absent.
fn score_floor(v: Option<f64>, key: &str, errors: &mut Vec<ConfigError>) -> f32 {
    match v {
        None => 0.0,
        Some(x) if (0.0..=1.0).contains(&x) => x as f32,
        Some(x) => {
            errors.push(ConfigError {
                key: key.into(),
                message: format!("{x} is not between 0 and 1"),
            });
            0.0
        }
    }
}

///
/// One section's fields checked in the order the reference lists them; a checker per
/// field would scatter one section over many functions.
fn smtp_settings(
    raw: RawSmtp,
    base_dir: Option<&Path>,
    errors: &mut Vec<ConfigError>,
) -> Option<SmtpSettings> {
    let mut err = |key: &str, message: String| {
        errors.push(ConfigError {
            key: format!("smtp.{key}"),
            message,
        })
    };
    let host = match raw.host.as_deref().map(str::trim) {
        None | Some("") => {
            err("host", "is missing".into());
            None
        }
        Some(h)
            if h.chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '/') =>
        {
            err("host", format!("{h:?} is not a host name"));
            None
        }
        Some(h) => Some(h.to_owned()),
    };
    let security = match raw.security.as_deref() {
        None | Some("starttls") => SmtpSecurity::StartTls,
        Some("tls") => SmtpSecurity::Tls,
        Some("none") => SmtpSecurity::None,
        Some(other) => {
            err(
                "security",
                format!("{other:?} is not one of \"starttls\", \"tls\", \"none\""),
            );
            SmtpSecurity::StartTls
        }
    };
    let port = match raw.port {
        None => match security {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        },
        Some(p) if (1..=65535).contains(&p) => p as u16,
        Some(p) => {
            err("port", format!("{p} is not a port number"));
            0
        }
    };
    let password = secret_value(
        raw.password,
        raw.password_file,
        "smtp",
        ("password", "password_file"),
        base_dir,
        errors,
    )
    .map(SecretString::from);
    let mut err = |key: &str, message: String| {
        errors.push(ConfigError {
            key: format!("smtp.{key}"),
            message,
        })
    };
    if security == SmtpSecurity::None
        && (raw.username.is_some() || password.is_some())
        && let Some(h) = host.as_deref()
        && !is_loopback_host(h)
    {
        err(
            "security",
            format!(
                "\"none\" would send the password in clear to {h}: use \"starttls\" or \"tls\", or \"none\" only for a relay on this host (localhost, 127.0.0.1, ::1)"
            ),
        );
    }
    if raw.username.is_some() != password.is_some()
        && errors_empty_for_password(&raw.username, &password)
    {
        err(
            "username",
            "username and password go together: set both or neither".into(),
        );
    }
    let from = match raw.from.as_deref() {
        None => {
            err("from", "is missing".into());
            None
        }
        Some(f) => Mailbox::parse(f).map_err(|e| err("from", e)).ok(),
    };
    let timeout = duration(
        raw.timeout.as_deref(),
        "smtp.timeout",
        Duration::from_secs(30),
        Duration::from_millis(100),
        HOUR,
        errors,
    );
    let (list_id, unsubscribe) = list_headers(
        raw.list_id.as_deref(),
        raw.unsubscribe.as_deref(),
        from.as_ref(),
        errors,
    );
    Some(SmtpSettings {
        host: host?,
        port,
        security,
        username: raw.username,
        password,
        from: from?,
        timeout,
        list_id,
        unsubscribe,
    })
}

/// `smtp.list_id` and `smtp.unsubscribe`, checked: the `List-Id` (default
/// `ceasefire-watch.<from's domain>`) and the `List-Unsubscribe` address.
fn list_headers(
    list_id: Option<&str>,
    unsubscribe: Option<&str>,
    from: Option<&Mailbox>,
    errors: &mut Vec<ConfigError>,
) -> (String, Option<Url>) {
    let list_id = match list_id.map(str::trim) {
        None => from
            .map(|f| format!("ceasefire-watch.{}", f.address.domain()))
            .unwrap_or_default(),
        Some(id) if is_list_id(id) => id.to_owned(),
        Some(id) => {
            errors.push(ConfigError {
                key: "smtp.list_id".into(),
                message: format!(
                    "{id:?} is not a list id: letters, digits, '-' and '.', with a dot, as in \"ceasefire-alerts.example.org\""
                ),
            });
            String::new()
        }
    };
    let unsubscribe = unsubscribe.and_then(|u| {
        match Url::parse(u.trim()) {
            Ok(url) if matches!(url.scheme(), "mailto" | "https") => Some(url),
            _ => {
                errors.push(ConfigError {
                    key: "smtp.unsubscribe".into(),
                    message: format!(
                        "{u:?} is not a mailto: or https: address (e.g. \"mailto:ops@example.org?subject=unsubscribe\")"
                    ),
                });
                None
            }
        }
    });
    (list_id, unsubscribe)
}

/// A List-Id's identifier (RFC 2919): a dot-atom of letters, digits and hyphens with at
/// least one dot.
fn is_list_id(id: &str) -> bool {
    id.contains('.')
        && id.len() <= 200
        && id
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// Whether `host` names this machine: `localhost` (and `*.localhost`) or a loopback address.
fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.to_ascii_lowercase().ends_with(".localhost")
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn errors_empty_for_password(username: &Option<String>, password: &Option<SecretString>) -> bool {
    // A password that failed to load is already reported.
    username.is_some() || password.is_some()
}

/// A secret given inline (`names.0`) or in a file (`names.1`, see [`resolve_credential`]),
/// not both. A file's value loses its trailing line break. Errors name the key, never the
/// value.
fn secret_value(
    inline: Option<String>,
    file: Option<String>,
    section: &str,
    names: (&str, &str),
    base_dir: Option<&Path>,
    errors: &mut Vec<ConfigError>,
) -> Option<String> {
    let key = |name: &str| format!("{section}.{name}");
    match (inline, file) {
        (Some(_), Some(_)) => {
            errors.push(ConfigError {
                key: key(names.1),
                message: format!("set either {} or {}, not both", names.0, names.1),
            });
            None
        }
        (Some(v), None) => Some(v),
        (None, Some(file)) => {
            let path = resolve_credential(&file, base_dir);
            match std::fs::read_to_string(&path) {
                Ok(v) => Some(v.trim_end_matches(['\r', '\n']).to_owned()),
                Err(e) => {
                    errors.push(ConfigError {
                        key: key(names.1),
                        message: format!("cannot read {}: {e}", path.display()),
                    });
                    None
                }
            }
        }
        (None, None) => None,
    }
}

/// A `*_file` key names a file; a bare name is looked up in systemd's
/// `$CREDENTIALS_DIRECTORY` first (`LoadCredential=smtp-password:...`).
fn resolve_credential(name: &str, base_dir: Option<&Path>) -> PathBuf {
    if !name.contains('/')
        && let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY")
    {
        return PathBuf::from(dir).join(name);
    }
    resolve_path(name, base_dir)
}

fn resolve_path(p: &str, base_dir: Option<&Path>) -> PathBuf {
    let path = PathBuf::from(p);
    match base_dir {
        Some(base) if path.is_relative() => crate::domain::normalize_lexically(&base.join(path)),
        _ => path,
    }
}

fn required_name(
    name: Option<String>,
    key: &str,
    seen: &mut BTreeSet<String>,
    errors: &mut Vec<ConfigError>,
) -> Option<String> {
    match name.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(ConfigError {
                key: format!("{key}.name"),
                message: "is missing".into(),
            });
            None
        }
        Some(n) if n.chars().any(char::is_control) => {
            errors.push(ConfigError {
                key: format!("{key}.name"),
                message: "must be a single line".into(),
            });
            None
        }
        Some(n) => {
            if !seen.insert(n.to_owned()) {
                errors.push(ConfigError {
                    key: format!("{key}.name"),
                    message: format!("{n:?} is used twice"),
                });
            }
            Some(n.to_owned())
        }
    }
}

fn signal_set(
    list: Option<Vec<String>>,
    key: &str,
    errors: &mut Vec<ConfigError>,
) -> BTreeSet<SignalKind> {
    match list {
        None => SignalKind::ALL.into_iter().collect(),
        Some(list) => {
            if list.is_empty() {
                errors.push(ConfigError {
                    key: key.to_owned(),
                    message: "is empty: leave it out to receive every signal".into(),
                });
            }
            let mut set = BTreeSet::new();
            for s in list {
                match s.parse::<SignalKind>() {
                    Ok(k) => {
                        set.insert(k);
                    }
                    Err(e) => errors.push(ConfigError {
                        key: key.to_owned(),
                        message: e,
                    }),
                }
            }
            set
        }
    }
}

const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);
const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);
const MONTH: Duration = Duration::from_secs(30 * 24 * 3600);
const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
const TEN_YEARS: Duration = Duration::from_secs(10 * 365 * 24 * 3600);
/// For "never too old" (a replay of archived feeds).
const CENTURY: Duration = Duration::from_secs(36_500 * 24 * 3600);

/// A bound as people write it: whole days as days ("7d"), else humantime's form.
fn bound(d: Duration) -> String {
    if d.as_secs() >= 86_400 && d.as_secs().is_multiple_of(86_400) && d.subsec_nanos() == 0 {
        format!("{}d", d.as_secs() / 86_400)
    } else {
        humantime::format_duration(d).to_string()
    }
}

/// A duration within `[min, max]`. Every duration has an upper bound: beyond it a value is a
/// typo ("300000years"), and it would overflow the time arithmetic it feeds.
fn duration(
    raw: Option<&str>,
    key: &str,
    default: Duration,
    min: Duration,
    max: Duration,
    errors: &mut Vec<ConfigError>,
) -> Duration {
    let Some(raw) = raw else { return default };
    match humantime::parse_duration(raw.trim()) {
        Ok(d) if d < min => {
            errors.push(ConfigError {
                key: key.to_owned(),
                message: format!("{raw:?} is shorter than the minimum of {}", bound(min)),
            });
            default
        }
        Ok(d) if d > max => {
            errors.push(ConfigError {
                key: key.to_owned(),
                message: format!("{raw:?} is longer than the maximum of {}", bound(max)),
            });
            default
        }
        Ok(d) => d,
        Err(e) => {
            errors.push(ConfigError {
                key: key.to_owned(),
                message: format!("{raw:?} is not a duration like \"90s\", \"5m\" or \"1h\" ({e})"),
            });
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings, Vec<String>> {
        parse_env(text, &[])
    }

    /// A config of the test's text; one feed added when it names none (a config must have
    /// one, and most tests are about something else).
    fn parse_env(text: &str, env: &[(&str, &str)]) -> Result<Settings, Vec<String>> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let text = if text.contains("[[feeds]]") {
            text.to_owned()
        } else {
            format!("{text}\n[[feeds]]\nname = \"wire\"\nurl = \"https://example.org/feed\"\n")
        };
        Settings::from_toml_str(&text, Path::new("/etc/cw/config.toml"), env)
            .map_err(|e| e.errors.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn a_config_without_feeds_is_an_error_and_unknown_keys_suggest_the_near_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[daemon]\nstate_dir = \"/x\"\n").unwrap();
        assert!(load(&path).is_ok(), "enough for the rules and the state");
        let none = load_for_daemon(&path).unwrap_err();
        assert!(
            none.to_string().contains("feeds: no enabled [[feeds]]"),
            "{none}"
        );
        std::fs::write(
            &path,
            "[daemon]\nstate_dir = \"/x\"\n[[feeds]]\nname = \"a\"\nurl = \"https://e.org/\"\nenabled = false\n",
        )
        .unwrap();
        assert!(load_for_daemon(&path).is_err(), "every feed disabled");
        let errors = parse(
            "[daemon]\nstate_dir = \"/x\"\nshutdown_grase = \"1s\"\n[feds]\n[[feeds]]\nname = \"a\"\nurl = \"https://e.org/\"\nofficail = true\n",
        )
        .unwrap_err();
        let all = errors.join("\n");
        assert!(
            all.contains("daemon.shutdown_grase: unknown key; did you mean `shutdown_grace`?"),
            "{all}"
        );
        assert!(
            all.contains("feds: unknown section; did you mean `feeds`?"),
            "{all}"
        );
        assert!(
            all.contains("feeds[0].officail: unknown key; did you mean `official`?"),
            "{all}"
        );
    }

    #[test]
    fn a_subscriber_takes_quiet_hours_or_a_digest_in_its_time_zone() {
        let base = "[smtp]\nhost = \"h\"\nfrom = \"a@example.org\"\n[[subscribers]]\nname = \"s\"\nemail = \"s@example.org\"\n";
        let ok = parse(&format!(
            "{base}digest = \"daily 08:00\"\ntimezone = \"Europe/Kyiv\"\n"
        ))
        .unwrap();
        let digest = ok.subscribers[0].digest.expect("a digest");
        assert_eq!(digest.zone, chrono_tz::Europe::Kyiv);
        assert!(ok.subscribers[0].quiet.is_none());
        let both = parse(&format!(
            "{base}digest = \"daily 08:00\"\nquiet = \"22:00-07:00\"\n"
        ))
        .unwrap_err()
        .join("\n");
        assert!(
            both.contains("subscribers[0].quiet: cannot go with digest"),
            "{both}"
        );
        let bad = parse(&format!("{base}digest = \"weekly monday\"\n"))
            .unwrap_err()
            .join("\n");
        assert!(
            bad.contains("subscribers[0].digest: \"weekly monday\" is not a schedule"),
            "{bad}"
        );
        let alone = parse(&format!("{base}timezone = \"UTC\"\n"))
            .unwrap_err()
            .join("\n");
        assert!(
            alone.contains("subscribers[0].timezone: is only read with quiet"),
            "{alone}"
        );
    }

    #[test]
    fn a_shared_store_comes_from_a_url_or_the_environment_and_its_password_stays_hidden() {
        use secrecy::ExposeSecret;
        let s = parse("").unwrap();
        assert!(matches!(s.database, crate::store::Location::Sqlite { .. }));
        let s = parse_env(
            "",
            &[(
                "CEASEFIRE_WATCH__STORE__URL",
                "postgres://cw:s3cret@db.example.org:5432/cw",
            )],
        )
        .unwrap();
        match &s.database {
            crate::store::Location::Postgres { url, lease } => {
                assert_eq!(
                    url.expose_secret(),
                    "postgres://cw:s3cret@db.example.org:5432/cw"
                );
                assert_eq!(*lease, crate::store::DEFAULT_LEASE);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            !s.database.describe().contains("s3cret"),
            "{}",
            s.database.describe()
        );
        assert!(!format!("{:?}", s.database).contains("s3cret"));
        let bad = parse("[store]\nurl = \"mysql://u:p@h/db\"\n")
            .unwrap_err()
            .join("\n");
        assert!(
            bad.contains("store.url: scheme \"mysql\" is not postgres"),
            "{bad}"
        );
        assert!(!bad.contains(":p@"), "{bad}");
        let lease = parse("[store]\nlease = \"10s\"\n").unwrap_err().join("\n");
        assert!(
            lease.contains("store.lease: is only read with a shared store"),
            "{lease}"
        );
        let short = parse("[store]\nurl = \"postgres://h/db\"\nlease = \"1s\"\n")
            .unwrap_err()
            .join("\n");
        assert!(short.contains("store.lease"), "{short}");
    }

    const GOOD: &str = r#"
        [daemon]
        state_dir = "/var/lib/cw"
        default_interval = "5m"

        [[feeds]]
        name = "guardian"
        url = "https://www.theguardian.com/world/ukraine/rss"
        interval = "2m"

        [[feeds]]
        name = "local"
        url = "./feeds/local.xml"

        [smtp]
        host = "smtp.example.org"
        from = "Ceasefire Watch <alerts@example.org>"
        username = "alerts"
        password = "hunter2"

        [[subscribers]]
        name = "ops"
        email = "ops@example.org"
        signals = ["russia_rejects", "russia_accepts"]

        [[webhooks]]
        name = "hook"
        url = "https://hooks.example.org/x"
    "#;

    #[test]
    fn every_duration_has_an_upper_bound_named_in_its_error() {
        for key in [
            "daemon.default_interval",
            "daemon.shutdown_grace",
            "fetch.timeout",
            "delivery.give_up_after",
            "stories.window",
            "stories.open_for",
            "stories.statement",
            "stories.settle",
            "stories.max_wait",
            "stories.keep",
            "http.failing_after",
        ] {
            let (section, field) = key.split_once('.').unwrap();
            let errors = parse(&format!("[{section}]\n{field} = \"300000years\"\n")).unwrap_err();
            assert!(
                errors.iter().any(|e| e.starts_with(&format!("{key}: "))
                    && e.contains("longer than the maximum of")),
                "{key}: {errors:?}"
            );
        }
        let errors = parse(
            "[[feeds]]\nname = \"f\"\nurl = \"https://example.org/rss\"\ninterval = \"9999d\"\n",
        )
        .unwrap_err();
        assert!(errors[0].starts_with("feeds[0].interval: "), "{errors:?}");
    }

    #[test]
    fn a_password_goes_in_clear_only_to_this_host() {
        let smtp = |host: &str, security: &str| {
            format!(
                "[smtp]\nhost = \"{host}\"\nsecurity = \"{security}\"\nfrom = \"a@example.org\"\nusername = \"u\"\npassword = \"p\"\n"
            )
        };
        let errors = parse(&smtp("smtp.example.org", "none")).unwrap_err();
        assert!(errors[0].starts_with("smtp.security: "), "{errors:?}");
        assert!(!errors[0].contains("\"p\""), "{errors:?}");
        for host in ["localhost", "127.0.0.1", "::1", "[::1]", "relay.localhost"] {
            assert!(parse(&smtp(host, "none")).is_ok(), "{host}");
        }
        assert!(parse(&smtp("smtp.example.org", "starttls")).is_ok());
        // Without credentials there is nothing to leak.
        assert!(
            parse(
                "[smtp]\nhost = \"mx.example.org\"\nsecurity = \"none\"\nfrom = \"a@example.org\"\n"
            )
            .is_ok()
        );
    }

    #[test]
    fn a_listener_beyond_loopback_is_a_warning() {
        let s = parse("[http]\nlisten = \"0.0.0.0:9184\"\n").unwrap();
        assert_eq!(s.warnings.len(), 1);
        assert_eq!(s.warnings[0].key, "http.listen");
        assert!(
            parse("[http]\nlisten = \"127.0.0.1:9184\"\n")
                .unwrap()
                .warnings
                .is_empty()
        );
    }

    #[test]
    fn a_good_config_builds() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.feeds.len(), 2);
        assert_eq!(s.feeds[0].interval, Duration::from_secs(120));
        assert_eq!(s.feeds[1].interval, Duration::from_secs(300));
        assert_eq!(
            s.feeds[1].source,
            FeedSource::File(PathBuf::from("/etc/cw/./feeds/local.xml"))
        );
        let smtp = s.smtp.unwrap();
        assert_eq!((smtp.port, smtp.security), (587, SmtpSecurity::StartTls));
        assert_eq!(s.subscribers[0].signals.len(), 2);
        assert_eq!(s.webhooks[0].signals.len(), 7);
        assert_eq!(s.daemon.state_dir, PathBuf::from("/var/lib/cw"));
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let errors = parse(
            r#"
            [daemon]
            default_interval = "often"
            [[feeds]]
            name = "a"
            url = "https://example.org/a"
            [[feeds]]
            name = "a"
            url = "https://example.org/b"
            [[feeds]]
            name = "c"
            url = "example.org/rss"
            intervall = "5m"
            [[feeds]]
            name = "d"
            url = "example.org/rss"
            [[subscribers]]
            name = "ops"
            email = "ops-at-example.org"
            signals = ["russia_reject"]
            [[webhooks]]
            name = "w"
            url = "ftp://example.org/"
            [delivery]
            retry_initial = "1h"
            retry_max = "1m"
            [colour]
            x = 1
        "#,
        )
        .unwrap_err();
        let want = [
            "daemon.default_interval: \"often\" is not a duration",
            "feeds[1].name: \"a\" is used by an earlier feed",
            "feeds[2].intervall: unknown key; did you mean `interval`?",
            "feeds[3].url: relative URL without a base",
            "subscribers: email subscribers need an [smtp] section",
            "subscribers[0].email: \"ops-at-example.org\" is not an email address",
            "subscribers[0].signals: unknown signal \"russia_reject\"",
            "webhooks[0].url: scheme \"ftp\" is not http or https",
            "delivery.retry_initial: is longer than delivery.retry_max",
            "colour: unknown section",
        ];
        for w in want {
            assert!(
                errors.iter().any(|e| e.starts_with(w)),
                "missing {w:?} in {errors:#?}"
            );
        }
    }

    #[test]
    fn environment_overrides_the_file() {
        let s = parse_env(
            GOOD,
            &[
                ("CEASEFIRE_WATCH__SMTP__PASSWORD", "from-env"),
                ("CEASEFIRE_WATCH__SMTP__PORT", "2525"),
                ("CEASEFIRE_WATCH__DAEMON__STATE_DIR", "/tmp/elsewhere"),
            ],
        )
        .unwrap();
        let smtp = s.smtp.unwrap();
        assert_eq!(smtp.port, 2525);
        use secrecy::ExposeSecret;
        assert_eq!(smtp.password.unwrap().expose_secret(), "from-env");
        assert_eq!(s.daemon.state_dir, PathBuf::from("/tmp/elsewhere"));
    }

    #[test]
    fn environment_values_are_strings_as_written_and_reach_array_entries() {
        let s = parse_env(
            GOOD,
            &[
                ("CEASEFIRE_WATCH__SMTP__PASSWORD", "0012345"),
                ("CEASEFIRE_WATCH__DAEMON__STATE_DIR", "007"),
                (
                    "CEASEFIRE_WATCH__WEBHOOKS__0__URL",
                    "https://hooks.example.org/env",
                ),
                ("CEASEFIRE_WATCH__WEBHOOKS__0__SECRET", "0042"),
                ("CEASEFIRE_WATCH__FEEDS__1__INTERVAL", "90s"),
                ("CEASEFIRE_WATCH__DELIVERY__CONCURRENCY", "7"),
            ],
        )
        .unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(s.smtp.unwrap().password.unwrap().expose_secret(), "0012345");
        assert_eq!(s.daemon.state_dir, PathBuf::from("/etc/cw/007"));
        assert_eq!(s.webhooks[0].url.as_str(), "https://hooks.example.org/env");
        assert_eq!(
            s.webhooks[0].secret.as_ref().unwrap().expose_secret(),
            "0042"
        );
        assert_eq!(s.feeds[1].interval, Duration::from_secs(90));
        assert_eq!(s.delivery.concurrency, 7);
        // A name that is no key is refused with the variable named.
        let errors = parse_env(GOOD, &[("CEASEFIRE_WATCH__0__X", "1")]).unwrap_err();
        assert!(
            errors[0].starts_with("CEASEFIRE_WATCH__0__X: "),
            "{errors:?}"
        );
        let errors =
            parse_env(GOOD, &[("CEASEFIRE_WATCH__DELIVERY__CONCURRENCY", "many")]).unwrap_err();
        assert!(errors[0].starts_with("delivery.concurrency"), "{errors:?}");
        assert!(!errors[0].contains("many"), "{errors:?}");
    }

    #[test]
    fn secrets_come_from_files_and_never_appear_in_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hook-url"),
            "https://hooks.example.org/T0/XOXB\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("hook-secret"), "sesame\n").unwrap();
        let text = "[[feeds]]\nname = \"a\"\nurl = \"https://e.org/\"\n[[webhooks]]\nname = \"chat\"\nurl_file = \"./hook-url\"\nsecret_file = \"./hook-secret\"\n";
        let s = Settings::from_toml_str(text, &dir.path().join("c.toml"), BTreeMap::new()).unwrap();
        use secrecy::ExposeSecret;
        assert_eq!(
            s.webhooks[0].url.as_str(),
            "https://hooks.example.org/T0/XOXB"
        );
        assert_eq!(
            s.webhooks[0].secret.as_ref().unwrap().expose_secret(),
            "sesame"
        );
        assert!(!format!("{:?}", s.webhooks).contains("XOXB"));
        // Both ways at once is a mistake.
        let errors =
            parse("[[webhooks]]\nname = \"h\"\nurl = \"https://a.example/x\"\nurl_file = \"/x\"\n")
                .unwrap_err();
        assert!(
            errors[0].starts_with("webhooks[0].url_file: "),
            "{errors:?}"
        );
        // A syntax error names the line, not its text; a wrong type names the kind only.
        let errors = parse("[smtp]\nhost = \"h\"\npassword = \"hunter2\n").unwrap_err();
        assert!(errors[0].contains("line 3"), "{errors:?}");
        assert!(!errors.concat().contains("hunter2"), "{errors:?}");
        let Err(errors) =
            parse("[smtp]\nhost = \"h\"\nfrom = \"a@example.org\"\nport = \"31337x\"\n")
        else {
            panic!("a port that is not a number was accepted");
        };
        assert!(errors[0].starts_with("smtp"), "{errors:?}");
        assert!(!errors.concat().contains("31337x"), "{errors:?}");
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = parse(GOOD).unwrap();
        let debug = format!("{:?}", s.smtp);
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn bad_rules_name_the_rule() {
        let errors = parse(
            r#"
            [[rules.frames]]
            name = "my-frame"
            signal = "russia_rejects"
            agent = "russia"
            stance = "spurn"
            object = "ceasefire"
        "#,
        )
        .unwrap_err();
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("rules.frames.my-frame.stance: unknown stance \"spurn\"")),
            "{errors:#?}"
        );
    }

    #[test]
    fn rule_overlay_adds_phrases() {
        let s = parse(
            r#"
            [rules.stances.reject]
            verbs = ["stonewall"]
        "#,
        )
        .unwrap();
        let title = "Kremlin stonewalls the ceasefire plan";
        assert!(Classifier::builtin().classify(title, "").signals.is_empty());
        let got = s.classifier.classify(title, "");
        assert_eq!(got.signals.len(), 1);
        assert_eq!(got.signals[0].kind, SignalKind::RussiaRejects);
    }

    #[test]
    fn not_toml_is_one_clear_error() {
        let errors = parse("[daemon\nstate_dir = 1").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("not valid TOML"), "{errors:?}");
    }
}
