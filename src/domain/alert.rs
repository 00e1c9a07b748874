//! Alerts and their deliveries: what the store keeps and the notifiers send.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use super::{FeedName, ItemKey, ObjectKey, Signal, SignalKind, Topic};

/// A way of telling someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Email,
    Webhook,
    /// The daemon's own log: used when no email or webhook is configured, so a new install
    /// still shows what it found.
    Log,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Log => "log",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "email" => Ok(Channel::Email),
            "webhook" => Ok(Channel::Webhook),
            "log" => Ok(Channel::Log),
            other => Err(format!("unknown channel {other:?}")),
        }
    }
}

/// One recipient on one channel and the signals it asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub channel: Channel,
    /// The subscriber's or webhook's name in the config.
    pub target: String,
    /// The email address or URL.
    pub address: String,
    pub signals: BTreeSet<SignalKind>,
    /// Signals scoring below this do not take this route.
    pub min_score: f32,
    /// Every new story, or only those that change a status.
    pub alert_on: AlertOn,
    /// Hold a story's alert until this many feeds carry it (or `stories.max_wait` passed).
    pub min_sources: u32,
}

impl Route {
    /// Whether an event that opened with `signal` goes this way: a signal it asked for, at
    /// its `min_score` or above, and a change of status if it asked only for changes.
    pub fn wants(&self, signal: &Signal, changed: bool) -> bool {
        self.signals.contains(&signal.kind)
            && signal.score >= self.min_score
            && (self.alert_on == AlertOn::Story || changed)
    }

    /// Whether its alert waits for more sources (`min_sources`) before it is sent.
    pub fn holds(&self) -> bool {
        self.min_sources > 1
    }
}

/// Which stories a route is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertOn {
    /// Every new story (the default).
    #[default]
    Story,
    /// Only stories that change a status ("Russia: conditional → rejects").
    Change,
}

/// What a story did to the status of its topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusNote {
    pub topic: Topic,
    /// `unknown` when nothing had set it.
    pub before: String,
    pub after: String,
}

impl StatusNote {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }

    /// "Russia: conditional → rejects", or "Russia: rejects (unchanged)".
    pub fn line(&self) -> String {
        if self.changed() {
            format!("{}: {} → {}", self.topic.label(), self.before, self.after)
        } else {
            format!("{}: {} (unchanged)", self.topic.label(), self.after)
        }
    }
}

/// A queue of the outbox with its own workers: all email goes through one SMTP server, so it
/// is one lane; each webhook is its own lane; the log is one. A slow lane never holds up
/// another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lane {
    pub channel: Channel,
    /// The webhook's name; `None` for email and the log.
    pub target: Option<String>,
}

impl Lane {
    pub fn of(channel: Channel, target: &str) -> Lane {
        Lane {
            channel,
            target: (channel == Channel::Webhook).then(|| target.to_owned()),
        }
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Some(t) => write!(f, "{}:{t}", self.channel),
            None => write!(f, "{}", self.channel),
        }
    }
}

/// A signal found in a new item, as stored: everything a message needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: i64,
    pub item_key: ItemKey,
    pub signal: Signal,
    pub feed: FeedName,
    pub title: String,
    pub summary: String,
    pub link: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The story this alert opened.
    pub story: Option<String>,
    /// What the story did to its topic's status.
    pub status: Option<StatusNote>,
}

impl Alert {
    /// The status line when this alert changed a status ("Russia: conditional → rejects").
    pub fn status_change(&self) -> Option<String> {
        self.status
            .as_ref()
            .filter(|s| s.changed())
            .map(StatusNote::line)
    }
}

/// One (alert, channel, recipient) row of the outbox, claimed for sending.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: i64,
    pub alert: Alert,
    pub channel: Channel,
    pub target: String,
    pub address: String,
    /// Stable for the life of the row: the webhook's `Idempotency-Key`, the email's
    /// Message-ID. A resend after a crash carries the same key.
    pub idempotency_key: String,
    /// Attempts made before this one.
    pub attempts: u32,
    /// When the row was made (a daily digest carries it at the first digest hour after).
    pub queued_at: DateTime<Utc>,
    /// Distinct feeds carrying the story when the row was claimed.
    pub sources: u32,
    /// Those feeds, first first (empty for an alert without a story).
    pub feeds: Vec<String>,
    /// Which ceasefire or flow the story is about, when a report named it.
    pub object: Option<ObjectKey>,
    /// Sent before the route's `min_sources` was reached (after `stories.max_wait`).
    pub unconfirmed: bool,
    /// A follow-up: the story, sent unconfirmed earlier, is now carried by enough feeds.
    pub follow_up: bool,
    /// The idempotency key of the story's first message to this recipient, which a follow-up
    /// answers (the email's In-Reply-To).
    pub thread: Option<String>,
}

impl Delivery {
    /// A test alert (`ceasefire-watch test-alert`), sent outside the outbox.
    pub fn is_test(&self) -> bool {
        self.idempotency_key.starts_with("test-")
    }
}

#[cfg(test)]
mod route_tests {
    use super::*;
    use crate::domain::{Evidence, Field};

    fn signal(kind: SignalKind, score: f32) -> Signal {
        Signal {
            kind,
            score,
            evidence: Evidence {
                rule: "r".into(),
                words: Vec::new(),
                sentence: String::new(),
                field: Field::Title,
                object: None,
            },
        }
    }

    #[test]
    fn a_route_wants_its_signals_at_its_score_and_changes_if_it_asked_only_for_those() {
        let route = Route {
            channel: Channel::Email,
            target: "desk".into(),
            address: "desk@example.org".into(),
            signals: [SignalKind::RussiaRejects].into(),
            min_score: 0.8,
            alert_on: AlertOn::Change,
            min_sources: 1,
        };
        assert!(route.wants(&signal(SignalKind::RussiaRejects, 0.9), true));
        assert!(!route.wants(&signal(SignalKind::RussiaRejects, 0.9), false));
        assert!(!route.wants(&signal(SignalKind::RussiaRejects, 0.7), true));
        assert!(!route.wants(&signal(SignalKind::RussiaAccepts, 0.9), true));
        let every = Route {
            alert_on: AlertOn::Story,
            ..route
        };
        assert!(every.wants(&signal(SignalKind::RussiaRejects, 0.9), false));
        assert!(!every.holds());
    }
}
