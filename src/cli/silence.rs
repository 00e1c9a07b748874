//! `silence add | list | expire`: mute signals for a while, for everyone or one subscriber
//! or webhook. Stored in the state, so a silence survives restarts and reloads; safe beside
//! a running daemon (which applies it when a delivery comes due).

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use clap::Subcommand;

use crate::config::Settings;
use crate::domain::{SignalKind, Silence};

/// The longest a silence may last: past that, change the rules or the subscribers.
const LONGEST: Duration = Duration::from_secs(366 * 24 * 3600);

#[derive(Debug, Subcommand)]
pub enum SilenceAction {
    /// Mute signals from now for a while; prints the silence's id.
    Add {
        /// The signals to mute (e.g. russia_rejects us_aid_paused), or "all".
        #[arg(required = true, value_name = "SIGNAL")]
        signals: Vec<String>,
        /// How long, e.g. "8h", "2d", "90min".
        #[arg(long = "for", value_name = "DURATION", value_parser = parse_duration)]
        duration: Duration,
        /// Only this subscriber or webhook (by name); otherwise everyone.
        #[arg(long, value_name = "NAME")]
        subscriber: Option<String>,
        /// Why, for the record.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// List silences in force or to come; with --all, also those that ended in the last
    /// seven days.
    List {
        #[arg(long)]
        all: bool,
        /// One JSON array instead of text.
        #[arg(long)]
        json: bool,
    },
    /// End a silence now. What it muted stays muted: nothing is sent late.
    Expire {
        #[arg(value_name = "ID")]
        id: String,
    },
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{s:?} is not a duration like 8h, 2d or 90min ({e})"))?;
    if d.is_zero() || d > LONGEST {
        return Err(format!("{s:?} must be more than 0 and at most 366 days"));
    }
    Ok(d)
}

/// The signals named, "all" for every one; an unknown name is an error naming the known.
fn signals(names: &[String]) -> anyhow::Result<BTreeSet<SignalKind>> {
    let mut out = BTreeSet::new();
    for n in names {
        if n == "all" {
            out.extend(SignalKind::ALL);
            continue;
        }
        out.insert(n.parse::<SignalKind>().map_err(anyhow::Error::msg)?);
    }
    Ok(out)
}

/// Who ran the command, for the record.
fn user() -> String {
    ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

pub async fn silence(settings: &Settings, action: SilenceAction) -> anyhow::Result<ExitCode> {
    let store = settings.database.open().await?;
    let now = Utc::now();
    let code = match action {
        SilenceAction::Add {
            signals: names,
            duration,
            subscriber,
            comment,
        } => {
            if let Some(name) = &subscriber {
                let known: Vec<String> = crate::notify::routes(settings)
                    .into_iter()
                    .map(|r| r.target)
                    .collect();
                if !known.contains(name) {
                    anyhow::bail!(
                        "no subscriber or webhook is named {name:?} (known: {})",
                        known.join(", ")
                    );
                }
            }
            let s = Silence {
                id: format!("si-{:08x}", rand::random::<u32>()),
                signals: signals(&names)?,
                subscriber,
                starts_at: now,
                ends_at: now + chrono::Duration::from_std(duration)?,
                comment,
                created_by: user(),
            };
            store.add_silence(&s, now).await?;
            println!("{}", s.describe(now));
            ExitCode::SUCCESS
        }
        SilenceAction::List { all, json } => {
            let since = all.then(|| now - chrono::Duration::days(7));
            let list = store.silences(now, since).await?;
            if json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .map(|s| crate::view::silence_json(s, now))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no silences");
            } else {
                for s in &list {
                    println!("{}", s.describe(now));
                }
            }
            ExitCode::SUCCESS
        }
        SilenceAction::Expire { id } => {
            if store.expire_silence(&id, now).await? {
                println!("{id} expired; what it muted stays muted");
                ExitCode::SUCCESS
            } else {
                eprintln!("error: no silence {id:?} is in force or to come");
                ExitCode::from(1)
            }
        }
    };
    store.close().await;
    Ok(code)
}
