//! Silences, as in Alertmanager: a signal (or several) muted for a while, for everyone or
//! for one subscriber or webhook. A delivery that comes due while a silence matches it is
//! recorded as silenced and never sent; when the silence ends, nothing is sent late.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::SignalKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    /// A short id (`si-` and 8 hex digits), for `silence expire`.
    pub id: String,
    pub signals: BTreeSet<SignalKind>,
    /// The one subscriber or webhook it mutes; `None`: every one.
    pub subscriber: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub comment: String,
    /// Who made it (the login name of the command's user), for the record.
    pub created_by: String,
}

impl Silence {
    /// Whether it is in force at `now`.
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// Whether it mutes a delivery of `signal` to `target` at `now`.
    pub fn mutes(&self, signal: SignalKind, target: &str, now: DateTime<Utc>) -> bool {
        self.active(now)
            && self.signals.contains(&signal)
            && self.subscriber.as_deref().is_none_or(|s| s == target)
    }

    /// The signals as stored: names joined by commas.
    pub fn signals_text(&self) -> String {
        self.signals
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// One line for people: what, for whom, until when, why.
    pub fn describe(&self, now: DateTime<Utc>) -> String {
        let whom = match &self.subscriber {
            Some(s) => format!("for {s}"),
            None => "for everyone".into(),
        };
        let when = if self.active(now) {
            format!(
                "until {}",
                self.ends_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        } else if now < self.starts_at {
            format!(
                "from {}",
                self.starts_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        } else {
            format!(
                "ended {}",
                self.ends_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )
        };
        let comment = if self.comment.is_empty() {
            String::new()
        } else {
            format!(" — {}", self.comment)
        };
        format!("{} {} {whom} {when}{comment}", self.id, self.signals_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silence(subscriber: Option<&str>) -> Silence {
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Silence {
            id: "si-00000001".into(),
            signals: [SignalKind::RussiaRejects, SignalKind::UsAidPaused].into(),
            subscriber: subscriber.map(Into::into),
            starts_at: t0,
            ends_at: t0 + chrono::TimeDelta::hours(8),
            comment: "night shift".into(),
            created_by: "ops".into(),
        }
    }

    #[test]
    fn a_silence_mutes_its_signals_for_its_subscriber_while_it_lasts() {
        let s = silence(Some("ops"));
        let at = |h: i64| s.starts_at + chrono::TimeDelta::hours(h);
        assert!(s.mutes(SignalKind::RussiaRejects, "ops", at(1)));
        assert!(s.mutes(SignalKind::UsAidPaused, "ops", at(7)));
        assert!(
            !s.mutes(SignalKind::RussiaAccepts, "ops", at(1)),
            "another signal"
        );
        assert!(
            !s.mutes(SignalKind::RussiaRejects, "desk", at(1)),
            "another subscriber"
        );
        assert!(!s.mutes(SignalKind::RussiaRejects, "ops", at(8)), "ended");
        assert!(
            !s.mutes(SignalKind::RussiaRejects, "ops", at(-1)),
            "not begun"
        );
        let everyone = silence(None);
        assert!(everyone.mutes(SignalKind::RussiaRejects, "anyone", at(1)));
        assert_eq!(everyone.signals_text(), "russia_rejects,us_aid_paused");
        assert!(
            everyone
                .describe(at(1))
                .contains("for everyone until 2026-01-01T08:00:00Z")
        );
        assert!(everyone.describe(at(9)).contains("ended"));
    }
}
