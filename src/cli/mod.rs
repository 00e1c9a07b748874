//! The command line: `run`, `check-config`, `inspect`, `classify`, `explain`, `eval`,
//! `test-alert`, `status`, `outbox`.
//!
//! Exit codes: 0 success; 1 a runtime failure (the store cannot be opened, the input is not
//! a feed); 2 an invalid config or command line; 3 `eval` below a `--min-*` bar.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

mod inventory;
mod opml;
mod show;
mod silence;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::app::{RunOptions, run};
use crate::classify::Classifier;
use crate::config::{self, DEFAULT_CONFIG_PATH, Settings};
use crate::domain::{FeedSource, Signal};
use crate::eval::{Labelled, evaluate};
use crate::fetch::{FetchOutcome, Fetcher, Validators};
use crate::parse::{ParseLimits, parse_feed};
use crate::shutdown::Shutdown;
use crate::store::Listing;
use crate::view::Board;

#[derive(Debug, Parser)]
#[command(
    name = "ceasefire-watch",
    version,
    about = "Watches news feeds for changes in a Russia-Ukraine ceasefire and alerts subscribers"
)]
pub struct Cli {
    /// The config file [default: /etc/ceasefire-watch/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How log lines are written: "text" or "json" (one object per line, for log
    /// shippers) [default: daemon.log_format, else text]
    #[arg(long, global = true, value_name = "FORMAT")]
    pub log_format: Option<crate::telemetry::LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: poll every feed, alert on new signals, until SIGTERM.
    Run {
        /// Poll each feed once, deliver what is due, and exit.
        #[arg(long)]
        once: bool,
        /// With --once: judge item ages, story windows and corroboration waits by this
        /// RFC 3339 time instead of the clock (to replay archived feeds).
        #[arg(long, value_name = "TIME", requires = "once", value_parser = parse_time)]
        now: Option<chrono::DateTime<chrono::Utc>>,
        /// With --once: do everything up to delivery on a copy of the state, print each
        /// alert that would be sent and to whom, send nothing and record nothing.
        #[arg(long, requires = "once")]
        dry_run: bool,
    },
    /// Check the config and print every problem with its key; exit 2 if there is one.
    CheckConfig,
    /// Parse one feed (a file or an http(s) URL) and print it as JSON, with its signals.
    Inspect {
        #[arg(value_name = "PATH_OR_URL")]
        source: String,
    },
    /// Classify JSON Lines from stdin ({"id","title","summary"}) to stdout.
    Classify,
    /// Explain how the rules read one item: each predicate's construction, agent, object
    /// and modality, the frames that matched or were vetoed, and how conflicts were settled.
    Explain {
        /// The headline.
        #[arg(long, default_value = "")]
        title: String,
        /// The lede or summary.
        #[arg(long, default_value = "")]
        summary: String,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Score the rules against a labelled JSON Lines corpus.
    Eval {
        corpus: PathBuf,
        /// Exit 3 if micro-F1 is below this.
        #[arg(long)]
        min_f1: Option<f64>,
        /// Exit 3 if micro-precision is below this.
        #[arg(long)]
        min_precision: Option<f64>,
        /// Exit 3 if more `none` items than this raise a signal.
        #[arg(long)]
        max_false_alarms: Option<u32>,
        /// One JSON object (figures per signal and overall, every wrong item and why)
        /// instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Send a marked test alert through every channel (or one) and report each result.
    TestAlert {
        /// Only the subscriber or webhook of this name.
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
    },
    /// Print the status board: Russia's stance, US aid, US intelligence sharing, each with
    /// the story that set it.
    Status {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show deliveries not yet made (pending, sending), or dead ones and why, or silenced
    /// ones; retry a dead one.
    Outbox {
        /// Show dead deliveries instead.
        #[arg(long, conflicts_with = "silenced")]
        dead: bool,
        /// Show deliveries a silence muted instead.
        #[arg(long)]
        silenced: bool,
        /// Put this dead delivery back to pending, due now.
        #[arg(long, value_name = "ID")]
        retry: Option<i64>,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell) to stdout.
    Completions {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout.
    Man,
    /// The config as the daemon takes it.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Every configured feed with its health: last poll and result, failures in a row, last
    /// error, next poll, signal items and alerts.
    #[command(args_conflicts_with_subcommands = true)]
    Feeds {
        /// One JSON array instead of text.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        action: Option<FeedsAction>,
    },
    /// Who would get an alert of this signal, and why (routes, min_score, alert_on,
    /// min_sources, silences).
    Routes {
        #[arg(value_name = "SIGNAL")]
        signal: String,
    },
    /// Mute signals for a while, for everyone or one subscriber: a silenced alert is
    /// recorded (status, outbox) and not sent, and nothing is sent late when it ends.
    Silence {
        #[command(subcommand)]
        action: silence::SilenceAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeedsAction {
    /// Print `[[feeds]]` tables for another reader's OPML export, to paste into the config.
    Import {
        #[arg(value_name = "FILE.opml")]
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// The config file with the environment's overrides applied (each marked with its
    /// variable), as TOML, every secret redacted.
    Show,
}

impl Command {
    /// Commands that only read local files and write to stdout: when the reader of a pipe
    /// goes away (`| head`), they end as `cat` does, quietly, instead of panicking on the
    /// write. Commands that open sockets keep SIGPIPE ignored.
    pub fn ends_quietly_on_closed_pipe(&self) -> bool {
        matches!(
            self,
            Command::Classify
                | Command::Explain { .. }
                | Command::Eval { .. }
                | Command::Completions { .. }
                | Command::Man
        )
    }

    /// Commands whose stdout is data keep logs quiet and on stderr.
    pub fn is_data_command(&self) -> bool {
        matches!(
            self,
            Command::Inspect { .. }
                | Command::Classify
                | Command::Explain { .. }
                | Command::Eval { .. }
                | Command::CheckConfig
                | Command::Status { .. }
                | Command::Feeds { .. }
                | Command::Config { .. }
                | Command::Completions { .. }
                | Command::Man
                | Command::Routes { .. }
        )
    }
}

fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 time like 2025-03-11T18:00:00Z ({e})"))
}

impl Cli {
    /// The log format: the flag, else the config's `daemon.log_format`, else text.
    pub fn log_format(&self) -> crate::telemetry::LogFormat {
        self.log_format.unwrap_or_else(|| {
            let path = self
                .config
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
            config::log_format_hint(&path).unwrap_or_default()
        })
    }
}

/// Runs a parsed command line.
pub async fn execute(cli: Cli) -> ExitCode {
    let explicit = cli.config.is_some();
    let config_path = cli
        .config
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
    let path = config_path.as_path();
    let outcome = match cli.command {
        Command::Run { once, now, dry_run } => {
            run_command(path, RunOptions { once, now, dry_run }).await
        }
        Command::CheckConfig => check_config(path).await,
        Command::Inspect { source } => inspect_command(path, explicit, &source).await,
        Command::Classify => rules(path, explicit).map(|c| classify_stdin(&c)),
        Command::Explain {
            title,
            summary,
            json,
        } => rules(path, explicit).map(|c| explain(&c, &title, &summary, json)),
        Command::TestAlert { channel } => test_alert(path, channel.as_deref()).await,
        Command::Status { json } => {
            with_config(path, |s| async move { status(&s, json).await }).await
        }
        Command::Outbox {
            dead,
            silenced,
            retry,
        } => {
            let listing = match (dead, silenced) {
                (true, _) => Listing::Dead,
                (_, true) => Listing::Silenced,
                _ => Listing::Undelivered,
            };
            with_config(path, |s| async move { outbox(&s, listing, retry).await }).await
        }
        Command::Config {
            action: ConfigAction::Show,
        } => show::config_show(path).map_err(Failure::from),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "ceasefire-watch", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => man_page(),
        Command::Feeds {
            action: Some(FeedsAction::Import { file }),
            ..
        } => opml::import(&file).map_err(Failure::from),
        Command::Feeds { json, .. } => {
            with_config(path, |s| async move { inventory::feeds(&s, json).await }).await
        }
        Command::Routes { signal } => {
            with_config(
                path,
                |s| async move { inventory::routes(&s, &signal).await },
            )
            .await
        }
        Command::Silence { action } => {
            with_config(path, |s| async move { silence::silence(&s, action).await }).await
        }
        Command::Eval {
            corpus,
            min_f1,
            min_precision,
            max_false_alarms,
            json,
        } => rules(path, explicit)
            .map(|c| eval(&c, &corpus, (min_f1, min_precision, max_false_alarms), json)),
    };
    match outcome {
        Ok(code) => code,
        Err(Failure::Reported(code)) => code,
        Err(Failure::Runtime(e)) => {
            eprintln!("error: {}", format!("{e:#}").replace(['\n', '\r'], " "));
            ExitCode::from(1)
        }
    }
}

/// A command that needs the config: its errors reported (exit 2), else the command's
/// outcome.
async fn with_config<F, Fut>(path: &Path, command: F) -> Result<ExitCode, Failure>
where
    F: FnOnce(Settings) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<ExitCode>>,
{
    let settings = load(path)?;
    command(settings).await.map_err(Failure::from)
}

/// `man`: the man page, from the command line's own definition.
fn man_page() -> Result<ExitCode, Failure> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut out)
        .map_err(|e| Failure::Runtime(e.into()))?;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| Failure::Runtime(e.into()))?;
    Ok(ExitCode::SUCCESS)
}

/// Why a command failed, and so its exit code.
#[derive(Debug)]
enum Failure {
    /// Already told to the user (an invalid config: exit 2).
    Reported(ExitCode),
    /// A runtime failure, told on stderr in one line: exit 1.
    Runtime(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Runtime(e)
    }
}

impl From<ExitCode> for Failure {
    fn from(code: ExitCode) -> Self {
        Failure::Reported(code)
    }
}

async fn run_command(path: &Path, options: RunOptions) -> Result<ExitCode, Failure> {
    let settings = config::load_for_daemon(path).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })?;
    let shutdown = Shutdown::new();
    spawn_signal_handler(shutdown.clone());
    let once = options.once;
    let summary = run(settings, options, shutdown).await.map_err(|e| {
        tracing::error!("{e:#}");
        Failure::Runtime(e)
    })?;
    // Cron and CI can tell: a cycle in which every feed failed is a failure.
    if once && summary.feeds > 0 && summary.failed == summary.feeds {
        tracing::error!(
            feeds = summary.feeds,
            "every feed failed this cycle; nothing was read"
        );
        eprintln!(
            "error: every feed failed ({} of {})",
            summary.failed, summary.feeds
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

async fn check_config(path: &Path) -> Result<ExitCode, Failure> {
    let s = match config::load_for_daemon(path) {
        Ok(s) => s,
        Err(e) => {
            println!("{e}");
            return Err(Failure::Reported(ExitCode::from(2)));
        }
    };
    if let crate::store::Location::Postgres { url, .. } = &s.database {
        use secrecy::ExposeSecret;
        match crate::store::dialect::postgres_version(url.expose_secret()).await {
            Ok(version) => println!("  store: PostgreSQL {version} at {}", s.database.describe()),
            Err(e) => {
                println!(
                    "store.url: cannot connect to {}: {e}",
                    s.database.describe()
                );
                return Err(Failure::Reported(ExitCode::from(2)));
            }
        }
    }
    println!("{}: OK", path.display());
    println!(
        "  {} feeds, {} subscribers, {} webhooks, SMTP {}, state in {}",
        s.feeds.len(),
        s.subscribers.len(),
        s.webhooks.len(),
        s.smtp
            .as_ref()
            .map(|m| format!("{}:{}", m.host, m.port))
            .unwrap_or_else(|| "not configured".into()),
        s.database.describe()
    );
    if s.subscribers.is_empty() && s.webhooks.is_empty() {
        println!("  no subscribers or webhooks: alerts will be written to the log");
    }
    for w in &s.warnings {
        println!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

async fn inspect_command(path: &Path, explicit: bool, source: &str) -> Result<ExitCode, Failure> {
    let (classifier, fetch, limits) = match optional_settings(path, explicit)? {
        Some(s) => (s.classifier.clone(), s.fetch.clone(), s.parse),
        None => (
            Classifier::builtin(),
            default_fetch_settings(),
            ParseLimits::default(),
        ),
    };
    let json = inspect(source, classifier, &fetch, limits).await?;
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, &json);
    let _ = writeln!(out);
    Ok(ExitCode::SUCCESS)
}

/// The rules of the config if there is one, else the built-in pack.
fn rules(path: &Path, explicit: bool) -> Result<Arc<Classifier>, Failure> {
    Ok(match optional_settings(path, explicit)? {
        Some(s) => s.classifier.clone(),
        None => Classifier::builtin(),
    })
}

async fn test_alert(path: &Path, channel: Option<&str>) -> Result<ExitCode, Failure> {
    let settings = load(path)?;
    let results = crate::notify::test_alert(&settings, channel).await?;
    let mut ok = true;
    for r in &results {
        let name = format!("{}:{}", r.route.channel, r.route.target);
        match &r.result {
            Ok(()) => println!("ok      {name} ({})", r.route.address),
            Err(e) => {
                ok = false;
                println!("FAILED  {name} ({}): {e}", r.route.address);
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn load(path: &Path) -> Result<Settings, ExitCode> {
    config::load(path).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })
}

/// The config for data commands: the explicit `--config`, else the default file if there is
/// one, else nothing (the built-in rules).
fn optional_settings(path: &Path, explicit: bool) -> Result<Option<Settings>, ExitCode> {
    if !explicit && !path.exists() {
        return Ok(None);
    }
    load(path).map(Some)
}

fn default_fetch_settings() -> config::FetchSettings {
    config::FetchSettings {
        timeout: std::time::Duration::from_secs(30),
        connect_timeout: std::time::Duration::from_secs(10),
        max_body_bytes: 10 * 1024 * 1024,
        max_redirects: 5,
        concurrency: 1,
        per_host: 1,
        freshness_cap: std::time::Duration::from_secs(900),
        user_agent: config::default_user_agent(),
    }
}

fn spawn_signal_handler(shutdown: Shutdown) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot install signal handlers");
            return;
        };
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
        shutdown.stop();
    });
}

fn signals_json(signals: &[Signal]) -> serde_json::Value {
    signals
        .iter()
        .map(|s| {
            json!({
                "signal": s.kind.as_str(),
                "score": (f64::from(s.score) * 1000.0).round() / 1000.0,
                "evidence": s.evidence,
            })
        })
        .collect()
}

/// `status`: the three statuses, each with the event that set it (its object, sources,
/// first official source and reports with `--json`); silences; the outbox. Safe beside a
/// running daemon.
async fn status(settings: &Settings, as_json: bool) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now();
    let board = if settings.database.may_hold_state() {
        let store = settings.database.open().await?;
        let board = Board::read(&store, now).await?;
        store.close().await;
        board
    } else {
        Board::empty(now)
    };
    if as_json {
        println!("{}", board.to_json());
        return Ok(ExitCode::SUCCESS);
    }
    let time = crate::view::time;
    let topics = &board.statuses;
    let (silences, counts) = (&board.silences, &board.outbox);
    for r in topics {
        let label = format!("{}:", r.topic.label());
        match (&r.since, &r.story) {
            (None, _) => println!("{label:<26}unknown"),
            (Some(since), story) => {
                println!("{label:<26}{}  since {}", r.value, time(*since));
                if let Some(s) = story {
                    println!("{:26}{} \"{}\"", "", s.id, s.title);
                    if let Some(object) = &s.object {
                        println!("{:26}about {object}", "");
                    }
                    println!(
                        "{:26}{} source{} ({}), {} item{}",
                        "",
                        s.sources,
                        if s.sources == 1 { "" } else { "s" },
                        s.feeds.join(", "),
                        s.items,
                        if s.items == 1 { "" } else { "s" }
                    );
                    if let Some((feed, at)) = &s.official {
                        println!("{:26}first official source: {feed} at {}", "", time(*at));
                    }
                    if let Some(link) = &s.link {
                        println!("{:26}{link}", "");
                    }
                }
            }
        }
    }
    for s in silences {
        println!("{:<26}{}", "Silenced:", s.describe(now));
    }
    if counts.silenced > 0 {
        println!(
            "{:<26}{} deliveries muted by silences (outbox --silenced)",
            "", counts.silenced
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `outbox`: lists undelivered or dead rows, or retries a dead one. Safe beside a running
/// daemon (SQLite in WAL mode); a retried row is sent at the daemon's next delivery round.
async fn outbox(
    settings: &Settings,
    listing: Listing,
    retry: Option<i64>,
) -> anyhow::Result<ExitCode> {
    if !settings.database.may_hold_state() {
        anyhow::bail!(
            "no state in {} yet (the daemon has not run)",
            settings.database.describe()
        );
    }
    let store = settings.database.open().await?;
    if let Some(id) = retry {
        let ok = store.retry_dead(id, chrono::Utc::now()).await?;
        store.close().await;
        if ok {
            println!("delivery {id} is pending again, due now");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("error: no dead delivery with id {id}");
        return Ok(ExitCode::from(1));
    }
    let rows = store.outbox_rows(listing).await?;
    let counts = store.outbox_counts().await?;
    store.close().await;
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for r in &rows {
        let when = match listing {
            Listing::Dead => format!("dead since {}", fmt(r.updated_at)),
            Listing::Silenced => format!("silenced {}", fmt(r.updated_at)),
            Listing::Undelivered => format!("next attempt {}", fmt(r.next_attempt_at)),
        };
        println!(
            "{id:>6}  {state:<8} {channel}:{target}  {signal}  attempts={attempts}  {when}\n        {title}{error}",
            id = r.id,
            state = r.state,
            channel = r.channel,
            target = r.target,
            signal = r.signal,
            attempts = r.attempts,
            title = r.title,
            error = r
                .last_error
                .as_deref()
                .map(|e| format!("\n        last error: {e}"))
                .unwrap_or_default(),
        );
    }
    println!(
        "pending={} sending={} delivered={} dead={} silenced={}",
        counts.pending, counts.sending, counts.delivered, counts.dead, counts.silenced
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads, parses and classifies one feed; the JSON `inspect` prints.
pub async fn inspect(
    source: &str,
    classifier: Arc<Classifier>,
    fetch: &config::FetchSettings,
    limits: ParseLimits,
) -> anyhow::Result<serde_json::Value> {
    let is_url = source.starts_with("http://") || source.starts_with("https://");
    let (body, content_type, base) = if is_url {
        let url = FeedSource::parse(source, None).map_err(anyhow::Error::msg)?;
        let fetcher = Fetcher::new(fetch)?;
        match fetcher.fetch(&url, &Validators::default()).await? {
            FetchOutcome::Fetched(f) => (f.body, f.content_type, f.url),
            FetchOutcome::NotModified { .. } => {
                anyhow::bail!("the server answered 304 Not Modified to an unconditional request")
            }
        }
    } else {
        let path = Path::new(source);
        let meta =
            std::fs::metadata(path).map_err(|e| anyhow::anyhow!("cannot read {source}: {e}"))?;
        if meta.len() > fetch.max_body_bytes {
            anyhow::bail!(
                "{source} is larger than {} bytes (fetch.max_body_bytes)",
                fetch.max_body_bytes
            );
        }
        let body = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {source}: {e}"))?;
        (
            body,
            None,
            std::path::absolute(path)
                .ok()
                .and_then(|p| url::Url::from_file_path(p).ok()),
        )
    };
    let parsed = parse_feed(&body, content_type.as_deref(), base.as_ref(), limits)?;
    let rfc3339 = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    let entries: Vec<serde_json::Value> = parsed
        .entries
        .iter()
        .map(|e| {
            let title = e.title.as_deref().unwrap_or("");
            let summary = e.summary.as_deref().or(e.content.as_deref()).unwrap_or("");
            let signals = classifier.classify(title, summary).signals;
            json!({
                "id": e.id_uri.as_ref().or(e.id.as_ref()),
                "title": e.title,
                "link": e.link,
                "summary": e.summary,
                "content": e.content,
                "published": rfc3339(e.published),
                "updated": rfc3339(e.updated),
                "signals": signals_json(&signals),
            })
        })
        .collect();
    Ok(json!({
        "feed": {"title": parsed.title, "link": parsed.link},
        "entries": entries,
    }))
}

#[derive(serde::Deserialize)]
struct ClassifyIn {
    id: serde_json::Value,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    summary: Option<String>,
}

fn classify_stdin(classifier: &Classifier) -> ExitCode {
    let stdin = std::io::stdin().lock();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut bad = 0usize;
    for (n, line) in stdin.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot read stdin: {e}");
                return ExitCode::from(1);
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let value = match serde_json::from_str::<ClassifyIn>(&line) {
            Ok(input) => {
                let c = classifier.classify(
                    input.title.as_deref().unwrap_or(""),
                    input.summary.as_deref().unwrap_or(""),
                );
                let scores: serde_json::Map<String, serde_json::Value> =
                    crate::domain::SignalKind::ALL
                        .iter()
                        .map(|k| {
                            (
                                k.as_str().to_owned(),
                                json!((f64::from(c.scores[k.index()]) * 1000.0).round() / 1000.0),
                            )
                        })
                        .collect();
                json!({
                    "id": input.id,
                    "labels": c.signals.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>(),
                    "scores": scores,
                    "signals": signals_json(&c.signals),
                })
            }
            Err(e) => {
                bad += 1;
                eprintln!("error: stdin line {}: {e}", n + 1);
                json!({"id": null, "error": format!("line {}: {e}", n + 1)})
            }
        };
        if serde_json::to_writer(&mut out, &value).is_err() || writeln!(out).is_err() {
            return ExitCode::from(1);
        }
    }
    let _ = out.flush();
    if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `explain`: the classifier's reasoning over one item.
fn explain(classifier: &Classifier, title: &str, summary: &str, as_json: bool) -> ExitCode {
    let ex = classifier.explain(title, summary);
    if as_json {
        let value = json!({
            "signals": signals_json(&ex.signals),
            "readings": ex.readings,
            "hits": signals_json(&ex.hits),
            "blocked": ex.blocked.iter().map(|b| json!({
                "frame": b.rule, "signal": b.signal.as_str(), "guard": b.guard,
                "detail": b.concept, "sentence": b.sentence,
            })).collect::<Vec<_>>(),
            "settled": ex.settled,
        });
        println!("{value}");
        return ExitCode::SUCCESS;
    }
    let labels: Vec<&str> = ex.signals.iter().map(|s| s.kind.as_str()).collect();
    println!(
        "signals: {}",
        if labels.is_empty() {
            "none".to_owned()
        } else {
            labels.join(", ")
        }
    );
    for s in &ex.signals {
        println!(
            "  {} {:.2} by {} on {:?}{}",
            s.kind,
            s.score,
            s.evidence.rule,
            s.evidence.words,
            s.evidence
                .object
                .as_deref()
                .map(|o| format!(" (object {o})"))
                .unwrap_or_default()
        );
    }
    println!("readings:");
    for r in &ex.readings {
        println!("  {r}");
    }
    if !ex.blocked.is_empty() {
        println!("vetoed:");
        for b in &ex.blocked {
            println!("  {} ({}): {} {}", b.rule, b.signal, b.guard, b.concept);
        }
    }
    for s in &ex.settled {
        println!("settled: {s}");
    }
    ExitCode::SUCCESS
}

fn eval(
    classifier: &Classifier,
    corpus: &Path,
    (min_f1, min_precision, max_false_alarms): (Option<f64>, Option<f64>, Option<u32>),
    as_json: bool,
) -> ExitCode {
    let text = match std::fs::read_to_string(corpus) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", corpus.display());
            return ExitCode::from(1);
        }
    };
    let mut items = Vec::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        match serde_json::from_str::<Labelled>(line) {
            Ok(i) => items.push(i),
            Err(e) => {
                eprintln!("error: {}:{}: {e}", corpus.display(), n + 1);
                return ExitCode::from(1);
            }
        }
    }
    let report = evaluate(classifier, &items);
    if as_json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.render());
    }
    let (p, _, f) = report.micro();
    let mut failed = Vec::new();
    if min_f1.is_some_and(|m| f < m) {
        failed.push(format!(
            "micro-F1 {f:.3} is below {}",
            min_f1.unwrap_or_default()
        ));
    }
    if min_precision.is_some_and(|m| p < m) {
        failed.push(format!(
            "micro-precision {p:.3} is below {}",
            min_precision.unwrap_or_default()
        ));
    }
    if max_false_alarms.is_some_and(|m| report.false_alarms_on_none > m) {
        failed.push(format!(
            "{} false alarms on none items, more than {}",
            report.false_alarms_on_none,
            max_false_alarms.unwrap_or_default()
        ));
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        for f in failed {
            eprintln!("eval: {f}");
        }
        ExitCode::from(3)
    }
}
