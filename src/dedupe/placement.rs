//! Placement: whether a new report opens an event (and alerts) or joins one (silently).
//!
//! A pure function over the report and the recent events of its topic; the store reads those
//! events, applies the decision inside its ingest transaction and persists it. Nothing here
//! knows SQL.
//!
//! An event is (actor, signal, object) within a window: the actor is the signal's side, the
//! object is which ceasefire or which flow ([`ObjectKey`]). A report joins an event when
//! - it has the event's signal (or, with `stories.join = "topic"`, its topic),
//! - the event is still its object's current status: no later event of the topic about the
//!   same object says otherwise (so paused → resumed → paused opens three events), and
//! - it is about the same object: when both name one (a scope or a duration), those agree;
//!   when the report names only the family (a ceasefire, military aid) or a part of a flow
//!   (Patriots, while military aid is paused), it repeats the current status and joins the
//!   event whatever its words (the follow-ups of a pause): within `stories.open_for` of the
//!   event's last report for a flow, whose pause is a state that holds until it flips, and
//!   within `stories.window` for a ceasefire, where Russia's answer is a statement and one made
//!   again days later is news; when
//!   only the report names one, or it has no object at all, the words decide
//!   (`stories.similarity`), so a named Easter truce does not vanish into an earlier,
//!   unnamed rejection.
//!
//! Among several events it may join, the one whose object agrees wins, then the most similar,
//! then the most recent.

use super::{JoinBy, Terms};
use crate::domain::{ObjectKey, SignalKind};

/// A new report of one signal.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub signal: SignalKind,
    pub object: Option<&'a ObjectKey>,
    pub terms: &'a Terms,
    /// When it is placed (ms since the epoch, as the events' times).
    pub at: i64,
}

/// A recent event of the report's topic, as the store knows it.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    pub id: &'a str,
    pub signal: SignalKind,
    pub object: Option<&'a ObjectKey>,
    pub started_at: i64,
    pub last_seen_at: i64,
    /// The words of its members.
    pub terms: &'a [Terms],
}

/// How reports are placed: `stories.*` in the config.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub same: JoinBy,
    /// Least word similarity for a report to join an event by its words.
    pub similarity: f32,
    /// A report joins by its words an event reported within this long (ms).
    pub window: i64,
    /// A report about the same flow (military aid, intelligence) joins an event whose status
    /// still holds and that was reported within this long (ms; at least `window`). Reports
    /// about a ceasefire join within `statement`.
    pub open_for: i64,
    /// A report that names only "a ceasefire" repeats a Russian answer within this long of
    /// its first report (ms): the outlets' reports of one statement. Later, the same answer
    /// is a new statement, unless the words or a named ceasefire tie it to this one.
    pub statement: i64,
    /// A later event of another signal about the same object ends an event only if it
    /// started at least this long after it (ms): reports of one moment read two ways are
    /// two events, not a status flipping back and forth.
    pub settle: i64,
}

impl Policy {
    /// The earliest `last_seen_at` of an event a report at `at` may join.
    pub fn since(&self, at: i64) -> i64 {
        at.saturating_sub(self.window.max(self.open_for))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// A new event: it alerts.
    Open,
    /// A report of `event`: it corroborates. `refined` is the event's object with the facets
    /// this report named and it lacked.
    Join {
        event: String,
        similarity: f32,
        refined: Option<ObjectKey>,
    },
}

/// Decides where `report` goes among `events` (the recent events of its topic).
pub fn decide(report: Report<'_>, events: &[Event<'_>], policy: &Policy) -> Decision {
    let mut best: Option<(u8, f32, i64, &Event<'_>)> = None;
    for e in events {
        let same_kind = match policy.same {
            JoinBy::Signal => e.signal == report.signal,
            JoinBy::Topic => e.signal.topic() == report.signal.topic(),
        };
        let age = report.at.saturating_sub(e.last_seen_at);
        if !same_kind || age > policy.window.max(policy.open_for) {
            continue;
        }
        if superseded(e, events, policy) {
            continue;
        }
        let agree = match (report.object, e.object) {
            (Some(r), Some(o)) => r.agrees(o),
            _ => None,
        };
        if agree == Some(false) {
            continue;
        }
        let words = e
            .terms
            .iter()
            .map(|t| report.terms.similarity(t))
            .fold(0f32, f32::max);
        // Whether the report repeats the status: it names its object's family and nothing
        // more, or a part of a flow ("Patriot deliveries" while military aid is paused). (A
        // report with no object at all, from a rule that extracts none, has only its words.)
        let repeats = report
            .object
            .is_some_and(|o| !o.scoped() || o.is_flow_part());
        // A flow's pause or resumption is a state that holds until it flips: its repeats join
        // for `open_for`. A Russian answer is a statement: said again days later, it is news.
        let flow = e.object.or(report.object).is_some_and(ObjectKey::is_flow);
        let (same_object, repeat) = if flow {
            (age <= policy.open_for, age <= policy.open_for)
        } else {
            let first_told = report.at.saturating_sub(e.started_at) <= policy.statement;
            (age <= policy.window, age <= policy.window && first_told)
        };
        let by_words = age <= policy.window && words >= policy.similarity;
        // 2: the objects agree; 1: the report repeats the status, or its words fit the
        // event; otherwise it is another event.
        let rank = match agree {
            Some(true) if same_object => 2,
            None if repeats && repeat => 1,
            _ if by_words => 1,
            _ => continue,
        };
        let better =
            best.is_none_or(|(r, w, seen, _)| (rank, words, e.last_seen_at) > (r, w, seen));
        if better {
            best = Some((rank, words, e.last_seen_at, e));
        }
    }
    match best {
        None => Decision::Open,
        Some((_, words, _, e)) => {
            let refined = match (e.object, report.object) {
                (Some(o), Some(r)) => Some(o.refined_by(r)).filter(|n| n != o),
                (None, Some(r)) => Some(r.clone()),
                _ => None,
            };
            Decision::Join {
                event: e.id.to_owned(),
                similarity: words,
                refined,
            }
        }
    }
}

/// Whether a later event of another signal says something else about the same object, and
/// came late enough to be a change rather than another reading of the same news: then `e` is
/// no longer its object's status, and a report like it is news again.
fn superseded(e: &Event<'_>, events: &[Event<'_>], policy: &Policy) -> bool {
    policy.same == JoinBy::Signal
        && events.iter().any(|later| {
            later.signal != e.signal
                && later.started_at >= e.started_at.saturating_add(policy.settle)
                && match (e.object, later.object) {
                    // Two named ceasefires are one only when their names agree.
                    (Some(a), Some(b)) if a.scoped() && b.scoped() => a.agrees(b) == Some(true),
                    (Some(a), Some(b)) => a.agrees(b) != Some(false),
                    _ => true,
                }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use SignalKind::*;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;

    fn policy(same: JoinBy) -> Policy {
        Policy {
            same,
            similarity: 0.45,
            window: 2 * DAY,
            open_for: 7 * DAY,
            statement: DAY,
            settle: 6 * HOUR,
        }
    }

    fn key(s: &str) -> ObjectKey {
        ObjectKey::parse(s).unwrap()
    }

    struct E {
        id: &'static str,
        signal: SignalKind,
        object: ObjectKey,
        started: i64,
        terms: Vec<Terms>,
    }

    fn ev(id: &'static str, signal: SignalKind, object: &str, started: i64, title: &str) -> E {
        E {
            id,
            signal,
            object: key(object),
            started: started * DAY,
            terms: vec![Terms::of(title, "")],
        }
    }

    fn place(signal: SignalKind, object: &str, title: &str, events: &[E]) -> Decision {
        let object = key(object);
        let terms = Terms::of(title, "");
        let views: Vec<Event<'_>> = events
            .iter()
            .map(|e| Event {
                id: e.id,
                signal: e.signal,
                object: Some(&e.object),
                started_at: e.started,
                last_seen_at: e.started,
                terms: &e.terms,
            })
            .collect();
        decide(
            Report {
                signal,
                object: Some(&object),
                terms: &terms,
                at: events.iter().map(|e| e.started).max().unwrap_or(0) + HOUR,
            },
            &views,
            &policy(JoinBy::Signal),
        )
    }

    fn joined(d: &Decision) -> Option<&str> {
        match d {
            Decision::Join { event, .. } => Some(event),
            Decision::Open => None,
        }
    }

    #[test]
    fn six_wordings_of_one_event_join_it_whatever_their_words() {
        let events = [ev(
            "a",
            RussiaRejects,
            "ceasefire:720h",
            1,
            "Kremlin rejects US plan for 30-day ceasefire",
        )];
        for title in [
            "Moscow turns down the US-backed 30-day truce",
            "Peskov: a month-long pause would only help Kyiv regroup",
            "Russia says no to thirty-day ceasefire",
        ] {
            let object =
                if title.contains("month") || title.contains("thirty") || title.contains("30") {
                    "ceasefire:720h"
                } else {
                    "ceasefire"
                };
            assert_eq!(
                joined(&place(RussiaRejects, object, title, &events)),
                Some("a"),
                "{title}"
            );
        }
        // Named only by the follow-up's own words: the status it repeats.
        assert_eq!(
            joined(&place(
                RussiaRejects,
                "ceasefire",
                "Kremlin sticks to its no",
                &events
            )),
            Some("a")
        );
    }

    #[test]
    fn another_ceasefire_the_same_day_is_another_event() {
        let events = [ev(
            "a",
            RussiaRejects,
            "ceasefire:720h",
            1,
            "Kremlin rejects US plan for 30-day ceasefire",
        )];
        let d = place(
            RussiaRejects,
            "ceasefire:easter",
            "Lavrov dismisses Easter truce",
            &events,
        );
        assert_eq!(d, Decision::Open);
        // And after an unnamed rejection, a named one with other words is news too.
        let events = [ev(
            "a",
            RussiaRejects,
            "ceasefire",
            1,
            "Kremlin rejects ceasefire calls",
        )];
        let d = place(
            RussiaRejects,
            "ceasefire:easter",
            "Lavrov dismisses Easter truce offer",
            &events,
        );
        assert_eq!(d, Decision::Open);
        // The same words with a name refine the event.
        let d = place(
            RussiaRejects,
            "ceasefire:easter",
            "Kremlin rejects Easter ceasefire calls",
            &events,
        );
        assert_eq!(
            d,
            Decision::Join {
                event: "a".into(),
                similarity: match &d {
                    Decision::Join { similarity, .. } => *similarity,
                    Decision::Open => 0.0,
                },
                refined: Some(key("ceasefire:easter")),
            }
        );
    }

    #[test]
    fn every_flip_of_a_status_is_news() {
        let mut events = vec![ev(
            "p1",
            UsAidPaused,
            "aid",
            1,
            "Pentagon pauses weapons shipments to Ukraine",
        )];
        // A week of follow-ups: corroboration.
        assert_eq!(
            joined(&place(
                UsAidPaused,
                "aid",
                "What Kyiv loses after the aid pause",
                &events
            )),
            Some("p1")
        );
        // Resumed: another signal, another event.
        assert_eq!(
            place(UsAidResumed, "aid", "US resumes arms deliveries", &events),
            Decision::Open
        );
        events.push(ev(
            "r1",
            UsAidResumed,
            "aid",
            2,
            "US resumes arms deliveries",
        ));
        // Paused again: the first pause is no longer the status.
        assert_eq!(
            place(
                UsAidPaused,
                "aid",
                "Pentagon pauses weapons shipments to Ukraine",
                &events
            ),
            Decision::Open
        );
        events.push(ev(
            "p2",
            UsAidPaused,
            "aid",
            3,
            "Pentagon halts weapons again",
        ));
        assert_eq!(
            joined(&place(
                UsAidPaused,
                "aid",
                "Weapons halt hits front",
                &events
            )),
            Some("p2")
        );
    }

    #[test]
    fn a_flip_about_another_object_leaves_the_status_of_the_first() {
        let events = [
            ev(
                "a",
                RussiaRejects,
                "ceasefire:720h",
                1,
                "Kremlin rejects 30-day ceasefire",
            ),
            ev(
                "b",
                RussiaAccepts,
                "ceasefire:easter",
                2,
                "Putin declares Easter truce",
            ),
        ];
        assert_eq!(
            joined(&place(
                RussiaRejects,
                "ceasefire:720h",
                "Moscow says no to month-long truce",
                &events
            )),
            Some("a")
        );
        assert_eq!(
            joined(&place(
                RussiaAccepts,
                "ceasefire:easter:30h",
                "Easter truce begins",
                &events
            )),
            Some("b")
        );
    }

    #[test]
    fn by_topic_a_flip_joins() {
        let events = [ev("a", UsAidPaused, "aid", 1, "Pentagon pauses weapons")];
        let object = key("aid");
        let terms = Terms::of("US resumes weapons", "");
        let views = [Event {
            id: "a",
            signal: UsAidPaused,
            object: Some(&events[0].object),
            started_at: DAY,
            last_seen_at: DAY,
            terms: &events[0].terms,
        }];
        let d = decide(
            Report {
                signal: UsAidResumed,
                object: Some(&object),
                terms: &terms,
                at: 2 * DAY,
            },
            &views,
            &policy(JoinBy::Topic),
        );
        assert_eq!(joined(&d), Some("a"));
    }

    #[test]
    fn one_moment_read_two_ways_is_two_events_not_a_flip() {
        // Outlets disagree about the same answer within the hour: a rejection and a
        // conditional acceptance each alert once, and later reports join their own.
        let mut events = vec![ev(
            "r",
            RussiaRejects,
            "ceasefire",
            1,
            "Kremlin answers truce plan",
        )];
        events.push(E {
            started: DAY + HOUR / 2,
            ..ev(
                "c",
                RussiaConditional,
                "ceasefire",
                0,
                "Kremlin answers truce plan",
            )
        });
        assert_eq!(
            joined(&place(
                RussiaRejects,
                "ceasefire",
                "Kremlin answers truce plan",
                &events
            )),
            Some("r")
        );
    }

    #[test]
    fn a_status_holds_for_open_for_and_words_only_for_the_window() {
        let events = [ev(
            "p",
            UsAidPaused,
            "aid",
            0,
            "Pentagon pauses weapons shipments",
        )];
        let views = [Event {
            id: "p",
            signal: UsAidPaused,
            object: Some(&events[0].object),
            started_at: 0,
            last_seen_at: 0,
            terms: &events[0].terms,
        }];
        let at = |days: i64, object: Option<&ObjectKey>, title: &str| {
            let terms = Terms::of(title, "");
            let report = Report {
                signal: UsAidPaused,
                object,
                terms: &terms,
                at: days * DAY,
            };
            joined(&decide(report, &views, &policy(JoinBy::Signal))).map(str::to_owned)
        };
        let aid = key("aid");
        // Five quiet days later, a follow-up that repeats the pause is still its report...
        assert_eq!(at(5, Some(&aid), "What Kyiv loses"), Some("p".into()));
        // ...but not after `open_for`.
        assert_eq!(at(8, Some(&aid), "What Kyiv loses"), None);
        // A report with no object joins by its words, and only within the window.
        let title = "Pentagon pauses weapons shipments to Kyiv";
        assert_eq!(at(1, None, title), Some("p".into()));
        assert_eq!(at(3, None, title), None);
    }

    #[test]
    fn a_part_of_a_paused_flow_repeats_the_pause_but_a_named_truce_is_news() {
        let events = [ev(
            "p",
            UsAidPaused,
            "aid",
            1,
            "Pentagon pauses weapons shipments",
        )];
        assert_eq!(
            joined(&place(
                UsAidPaused,
                "aid:systems",
                "Kyiv scrambles for Patriots as the freeze drags on",
                &events
            )),
            Some("p")
        );
        let events = [ev(
            "r",
            RussiaRejects,
            "ceasefire",
            1,
            "Kremlin rejects truce calls",
        )];
        assert_eq!(
            place(
                RussiaRejects,
                "ceasefire:olympic",
                "Lavrov dismisses Olympic truce",
                &events
            ),
            Decision::Open
        );
    }

    #[test]
    fn a_russian_answer_given_again_days_later_is_news() {
        let events = [ev(
            "r",
            RussiaRejects,
            "ceasefire",
            0,
            "Kremlin rejects truce",
        )];
        let views = [Event {
            id: "r",
            signal: RussiaRejects,
            object: Some(&events[0].object),
            started_at: 0,
            last_seen_at: 0,
            terms: &events[0].terms,
        }];
        let at = |hours: i64| {
            let terms = Terms::of("Putin says no to a pause in fighting", "");
            let object = key("ceasefire");
            let report = Report {
                signal: RussiaRejects,
                object: Some(&object),
                terms: &terms,
                at: hours * HOUR,
            };
            joined(&decide(report, &views, &policy(JoinBy::Signal))).map(str::to_owned)
        };
        // The same day: a report of the same answer.
        assert_eq!(at(6), Some("r".into()));
        // Three days on: said again, and news again.
        assert_eq!(at(72), None);
    }
}
