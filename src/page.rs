//! The status page (`GET /`): the board as a person reads it on a phone at 3 a.m. Rendered
//! on the server with maud, which escapes every value: feed text never becomes markup, and
//! links are shown only when they are http(s). No JavaScript; it reloads itself every
//! minute.

use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::domain::{ObjectKey, SignalKind, Topic, web_link};
use crate::metrics::FeedHealth;
use crate::store::{AlertRow, FeedRow, StatusRow};
use crate::view::{Board, TIMELINE_DAYS, time};

/// How often the page reloads itself, in seconds.
pub const REFRESH_SECS: u32 = 60;

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:0.75rem;color:#1a1a1a;background:#fafafa}
h1{font-size:1.3rem;margin:0.2rem 0}h2{font-size:1.1rem;margin:1.4rem 0 0.4rem}
.muted{color:#666;font-size:0.9em}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:0.6rem}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:0.6rem}
.card .value{font-size:1.4rem;font-weight:600;margin:0.2rem 0}
.unhealthy{background:#fde8e8;border:1px solid #e0a0a0;border-radius:6px;padding:0.5rem}
.healthy{color:#17672b}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;background:#fff;font-size:0.92em}
th,td{border-bottom:1px solid #e4e4e4;padding:0.3rem 0.4rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}
.fail{color:#a01010}.silenced{color:#8a5a00}
";

/// The page for `board`, with the daemon's own view of its feeds (`feeds`: next polls)
/// and its health verdict (`problems`: empty when healthy).
pub fn render(
    board: &Board,
    feeds: &std::collections::BTreeMap<String, FeedHealth>,
    problems: &[String],
) -> String {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content=(REFRESH_SECS);
                title { "ceasefire-watch status" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                h1 { "ceasefire-watch" }
                p.muted { "As of " (time(board.now)) " · reloads every minute" }
                @if problems.is_empty() {
                    p.healthy { "Healthy: polling, recording and sending." }
                } @else {
                    div.unhealthy {
                        strong { "Unhealthy" }
                        ul { @for p in problems { li { (p) } } }
                    }
                }
                section.cards aria-label="Status" {
                    @for s in &board.statuses { (status_card(s, board.now)) }
                }
                @if !board.silences.is_empty() {
                    h2 { "Silences in force" }
                    ul {
                        @for s in &board.silences { li.silenced { (s.describe(board.now)) } }
                    }
                }
                h2 { "Last " (TIMELINE_DAYS) " days" }
                (timeline(&board.timeline))
                h2 { "Feeds" }
                (feed_table(&board.feeds, feeds))
                h2 { "Outbox" }
                p {
                    (board.outbox.pending + board.outbox.sending) " waiting · "
                    span class=@if board.outbox.dead > 0 { "fail" } { (board.outbox.dead) " dead" }
                    " · " (board.outbox.silenced) " silenced · "
                    (board.outbox.delivered) " delivered"
                }
            }
        }
    };
    page.into_string()
}

fn status_card(s: &StatusRow, now: DateTime<Utc>) -> Markup {
    html! {
        div.card {
            div.muted { (s.topic.label()) }
            div.value { (status_words(s.topic, &s.value)) }
            @if let Some(since) = s.since {
                div.muted { "since " (time(since)) " (" (ago(since, now)) ")" }
            }
            @if let Some(story) = &s.story {
                p { (link(&story.title, story.link.as_deref())) }
                @if let Some(object) = story.object.as_deref().and_then(ObjectKey::parse) {
                    div.muted { "About " (object.describe()) }
                }
                div.muted {
                    (story.sources) " source" @if story.sources != 1 { "s" } ": "
                    (story.feeds.join(", "))
                }
                @if let Some((feed, at)) = &story.official {
                    div.muted { "First official source: " (feed) " at " (time(*at)) }
                }
            } @else if s.since.is_none() {
                p.muted { "No report has set it yet." }
            }
        }
    }
}

/// A status value as words: "rejects a ceasefire", "paused".
fn status_words(topic: Topic, value: &str) -> String {
    match (topic, value) {
        (_, "unknown") => "unknown".into(),
        (Topic::RussiaStance, v) => format!("Russia {v}"),
        (_, v) => v.into(),
    }
}

fn timeline(alerts: &[AlertRow]) -> Markup {
    html! {
        @if alerts.is_empty() {
            p.muted { "No alerts." }
        } @else {
            div.scroll {
                table {
                    thead { tr { th { "When" } th { "What" } th { "Report" } th { "Sent" } } }
                    tbody {
                        @for a in alerts {
                            tr {
                                td { (time(a.at)) }
                                td {
                                    (a.signal.parse::<SignalKind>().map_or(a.signal.as_str(), |k| k.headline()))
                                    @if let Some((_, from, to)) = &a.status_change {
                                        br; span.muted { (from) " → " (to) }
                                    }
                                }
                                td {
                                    (link(&a.title, a.link.as_deref()))
                                    br; span.muted {
                                        (a.feed)
                                        @if a.sources > 1 { " and " (a.sources - 1) " more" }
                                    }
                                }
                                td { (delivery_words(a)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn delivery_words(a: &AlertRow) -> Markup {
    html! {
        (a.delivered) " sent"
        @if a.waiting > 0 { ", " (a.waiting) " waiting" }
        @if a.dead > 0 { ", " span.fail { (a.dead) " dead" } }
        @if a.silenced > 0 { ", " span.silenced { (a.silenced) " silenced" } }
    }
}

fn feed_table(rows: &[FeedRow], live: &std::collections::BTreeMap<String, FeedHealth>) -> Markup {
    html! {
        div.scroll {
            table {
                thead { tr {
                    th { "Feed" } th { "Last poll" } th { "Last success" } th { "Failures in a row" }
                    th { "Next poll" } th { "Alerts" }
                } }
                tbody {
                    @for f in rows {
                        tr {
                            td { (f.name) }
                            td { (f.last_poll.map(time).unwrap_or_else(|| "not yet".into())) }
                            td { (f.last_success.map(time).unwrap_or_else(|| "never".into())) }
                            td class=@if f.consecutive_failures > 0 { "fail" } {
                                (f.consecutive_failures)
                                @if let Some(e) = &f.last_error { br; span.muted { (e) } }
                            }
                            td { (live.get(&f.name).and_then(|h| h.next_poll).map(time).unwrap_or_else(|| "—".into())) }
                            td { (f.alerts) }
                        }
                    }
                }
            }
        }
    }
}

/// A title, linked when its link is http(s).
fn link(title: &str, href: Option<&str>) -> Markup {
    html! {
        @match web_link(href) {
            Some(href) => a href=(href) rel="noopener noreferrer" { (title) },
            None => (title),
        }
    }
}

/// "3 h ago", "2 d ago".
fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds().max(0);
    match secs {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::OutboxCounts;

    #[test]
    fn feed_text_is_escaped_and_only_web_links_are_links() {
        let now = Utc::now();
        let mut board = Board::empty(now);
        board.timeline.push(AlertRow {
            id: 1,
            signal: "russia_rejects".into(),
            title: "<script>alert(1)</script> Kremlin \"rejects\" truce".into(),
            link: Some("javascript:alert(1)".into()),
            feed: "wire<b>".into(),
            at: now,
            story: None,
            status_change: Some(("russia_stance".into(), "unknown".into(), "rejects".into())),
            sources: 3,
            delivered: 2,
            waiting: 0,
            dead: 1,
            silenced: 1,
        });
        board.outbox = OutboxCounts {
            dead: 1,
            ..OutboxCounts::default()
        };
        let page = render(
            &board,
            &Default::default(),
            &["store: <cannot write>".into()],
        );
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(
            page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
        assert!(!page.contains("javascript:"), "{page}");
        assert!(page.contains("wire&lt;b&gt; and 2 more"), "{page}");
        assert!(page.contains("store: &lt;cannot write&gt;"), "{page}");
        assert!(page.contains("Russia rejects a ceasefire"), "{page}");
        assert!(page.contains("1 silenced"), "{page}");
    }
}
