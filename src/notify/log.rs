//! The log channel: an alert as one structured log line on stdout (journald), for installs
//! with no email or webhook yet.

use tracing::info;

use super::{Notifier, SendError, one_line, safe_link};
use crate::domain::Delivery;

#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

impl Notifier for LogNotifier {
    async fn send(&self, d: &Delivery) -> Result<(), SendError> {
        let a = &d.alert;
        info!(
            target: "ceasefire_watch::alert",
            signal = %a.signal.kind,
            score = format_args!("{:.2}", a.signal.score),
            feed = %a.feed,
            link = safe_link(a.link.as_deref()).unwrap_or("-"),
            published = a.published.map(|p| p.to_rfc3339()).unwrap_or_default(),
            rule = %a.signal.evidence.rule,
            words = ?a.signal.evidence.words,
            story = a.story.as_deref().unwrap_or("-"),
            object = d.object.as_ref().map(ToString::to_string).unwrap_or_default(),
            sources = d.sources,
            status = a.status.as_ref().map(|s| s.line()).unwrap_or_default(),
            "ALERT {}",
            one_line(&super::headline(d), 300),
        );
        Ok(())
    }
}
