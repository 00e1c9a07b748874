//! Step 4: frames. Readings become hits on signals, with the object key (family, scope, hours).

use super::*;

/// Why "send more" is no resumption: the item names no pause before it.
const NO_PAUSE_BEFORE: &str = "no pause before";

impl Classifier {
    /// The hits of one reading: every frame its stance, agent and object satisfy.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn frame_hits(
        &self,
        s: &Sent<'_>,
        r: &Reading,
        item: &ItemFacts,
        hits: &mut Vec<Hit>,
        mut ex: Option<&mut Explanation>,
        title: &str,
        summary: &str,
    ) {
        let sentence_text = || {
            let a = s.t.norm.tokens[s.first as usize].orig_start as usize;
            let b = s.t.norm.tokens[s.end as usize - 1].orig_end as usize;
            field_text(title, summary, s.field)[a..b].to_owned()
        };
        for &object in &r.objects {
            let Tag::Object(family) = object.tag else {
                continue;
            };
            let (stance, family, blocked) = self.stance_on(s, r, object, family);
            // A pause the first sentences do not name may be in the others (only worth
            // reading them for an agent a frame takes).
            let pause_unseen = blocked.as_ref().is_some_and(|b| b.0 == NO_PAUSE_BEFORE);
            for (fi, frame) in self.frames.iter().enumerate() {
                if frame.stance != stance || frame.object != family {
                    continue;
                }
                let (agent_ok, context_agent, context_eligible) =
                    self.frame_agent(r, frame, stance, family, item);
                // Facts from some sentences only: a frame they fail is decided on all of them.
                if !item.complete && pause_unseen && (agent_ok || context_agent) {
                    item.wanted.set(true);
                }
                if !item.complete
                    && blocked.is_none()
                    && (!agent_ok && context_agent != context_eligible
                        || (agent_ok || context_agent) && frame.needs_ukraine && !item.ukraine)
                {
                    item.wanted.set(true);
                }
                let why = if let Some(b) = &blocked {
                    Some(b.clone())
                } else if !agent_ok && !context_agent {
                    Some((
                        "agent",
                        r.agent.map_or("none".into(), |a| self.side_names(a.sides)),
                    ))
                } else if frame.needs_ukraine && !item.ukraine {
                    Some(("not_ukraine", String::new()))
                } else {
                    None
                };
                if let Some((guard, concept)) = why {
                    if let Some(ex) = ex.as_deref_mut() {
                        let b = Blocked {
                            rule: frame.name.clone(),
                            signal: frame.signal,
                            guard,
                            concept,
                            sentence: sentence_text(),
                        };
                        if !ex.blocked.contains(&b) {
                            ex.blocked.push(b);
                        }
                    }
                    continue;
                }
                let by = if agent_ok {
                    r.agent.map_or(AgentBy::Context, |a| a.by)
                } else {
                    AgentBy::Context
                };
                let score = frame.weight * by.weight() * self.field_weight(s.field);
                let mut words = Vec::new();
                if let Some(m) = r.agent.and_then(|a| a.mention) {
                    words.push(m);
                }
                words.push(r.pred);
                words.push(object);
                words.sort_by_key(|m| m.first);
                words.dedup();
                hits.push(Hit {
                    frame: fi,
                    field: s.field,
                    sentence: r.sentence,
                    score,
                    words,
                    scope: self.scope_of(s, r.pred, object),
                });
            }
        }
    }

    /// The stance a reading takes on one object, and what blocks it: hostilities halted
    /// are a ceasefire accepted; a refused acceptance is a rejection, an open one a
    /// condition; a condition turns an acceptance into a proposal; a judgement that follows
    /// or another war's name blocks it.
    fn stance_on(
        &self,
        s: &Sent<'_>,
        r: &Reading,
        object: M,
        family: u8,
    ) -> (u8, u8, Option<(&'static str, String)>) {
        // Halting hostilities is accepting a ceasefire; resuming them, rejecting one.
        let (mut stance, family) = if family == self.st.hostilities && r.stance == self.st.pause {
            (self.st.accept, self.st.ceasefire)
        } else if family == self.st.hostilities && r.stance == self.st.resume {
            (self.st.reject, self.st.ceasefire)
        } else if family == self.st.hostilities && r.stance == self.st.condition {
            (self.st.condition, self.st.ceasefire)
        } else if family == self.st.ceasefire
            && r.stance == self.st.pause
            && matches!(r.pred.tag, Tag::Pred(_, Form::Noun))
        {
            // "declares an end to the Easter truce", "announces the suspension of the
            // truce": a ceasefire ended. (The verbs that end one are the reject stance's.)
            (self.st.reject, self.st.ceasefire)
        } else if family == self.st.hostilities
            && self.halted(s, object)
            // "suspends attacks": the verb's own other reading is the halt, no answer to one.
            && !s.ms.iter().any(|m| {
                m.first == r.pred.first
                    && matches!(m.tag, Tag::Pred(st, f) if st == self.st.pause && f != Form::Noun)
            })
        {
            // "agreed with the proposal to cease hostilities": the halt is a ceasefire.
            (r.stance, self.st.ceasefire)
        } else {
            (r.stance, family)
        };
        let mut blocked: Option<(&'static str, String)> = None;
        // "will send more weapons": a resumption only after a pause the item names.
        if stance == self.st.resume
            && s.word(r.pred.last) == "more"
            && !s
                .t
                .mentions
                .iter()
                .any(|m| matches!(m.tag, Tag::Pred(st, _) if st == self.st.pause))
        {
            blocked = Some((NO_PAUSE_BEFORE, String::new()));
        }
        match r.modality {
            Modality::Asserted => {}
            Modality::Refused => {
                if stance == self.st.accept {
                    stance = self.st.reject;
                } else {
                    blocked = Some(("negation", self.word_text(s, r.modal_word)));
                }
            }
            Modality::Open => {
                if stance == self.st.accept {
                    stance = self.st.condition;
                } else {
                    blocked = Some(("irrealis", self.word_text(s, r.modal_word)));
                }
            }
            Modality::Blocked(why) => blocked = Some((why, self.word_text(s, r.modal_word))),
        }
        match r.conditioned {
            Cond::Strong if stance == self.st.accept => stance = self.st.condition,
            // "a truce is impossible unless Kyiv withdraws": a judgement with a way out.
            Cond::Strong
                if stance == self.st.reject && r.construction == Construction::Judgement =>
            {
                stance = self.st.condition
            }
            Cond::Strong | Cond::Until
                if stance == self.st.reject && r.modality == Modality::Refused =>
            {
                stance = self.st.condition
            }
            // A pause or resumption on a condition has not happened: "will resume aid
            // after Congress approves".
            Cond::Strong if stance == self.st.pause || stance == self.st.resume => {
                blocked = blocked.or(Some(("condition", String::new())));
            }
            _ => {}
        }
        // A judgement in the same clause overrides an acceptance verb: "calls the truce
        // premature".
        if stance == self.st.accept && self.judged_after(s, object) {
            blocked = blocked.or(Some((
                "judgement",
                "a judgement of the object follows".into(),
            )));
        }
        // "calls Kyiv's truce offer a trick": a verb of naming with a complement after its
        // object names the object; only "call a truce" declares one.
        if stance == self.st.accept && self.named(s, r.pred, object) {
            blocked = blocked.or(Some((
                "judgement",
                "the object is named, not declared".into(),
            )));
        }
        // Ceasefires of other wars.
        if let Some(o) = another_war(s, s.ms) {
            blocked = blocked.or(Some(("other_conflict", self.word_text(s, Some(o)))));
        }
        (stance, family, blocked)
    }

    /// Whether a frame's agent side did it: named as the agent (`.0`), or, for an
    /// agentless pause or resumption of a flow, the item's actor (`.1`, when `.2` says the
    /// reading may take it from the item).
    fn frame_agent(
        &self,
        r: &Reading,
        frame: &Frame,
        stance: u8,
        family: u8,
        item: &ItemFacts,
    ) -> (bool, bool, bool) {
        let agent_ok = r.agent.is_some_and(|a| a.sides & (1 << frame.agent) != 0);
        // An agentless pause or resumption of a flow is the item's actor's, also when
        // the other side tells of it ("intelligence sharing has been restored,
        // Ukrainian officials said").
        let by_speaker = r
            .agent
            .is_some_and(|a| a.by == AgentBy::Speaker && self.recipient_alone(a.sides));
        let context_eligible = (r.agent.is_none() || by_speaker)
            && (stance == self.st.pause || stance == self.st.resume)
            && family != self.st.ceasefire
            && matches!(
                r.construction,
                Construction::Passive | Construction::ObjectSubject | Construction::Noun
            );
        let context_agent = context_eligible && item.sides & (1 << frame.agent) != 0;
        (agent_ok, context_agent, context_eligible)
    }

    /// Whether a pause predicate governs hostilities right before them: "to cease
    /// hostilities", "halting strikes on energy".
    pub(super) fn halted(&self, s: &Sent<'_>, object: M) -> bool {
        s.ms.iter().any(|m| {
            matches!(m.tag, Tag::Pred(st, f) if st == self.st.pause && f != Form::Noun)
                && m.last < object.first
                && object.first - m.last <= 3
                && (m.last + 1..object.first).all(|u| {
                    s.has_start(u, G::Det)
                        || s.ms
                            .iter()
                            .any(|a| a.first <= u && a.last >= u && matches!(a.tag, Tag::Actor(_)))
                })
        })
    }

    /// Whether a verb of naming has a complement after its object and the proposal head
    /// that may follow it ("calls the truce offer a trick").
    fn named(&self, s: &Sent<'_>, pred: M, object: M) -> bool {
        if !self.lang.naming_verb(s.word(pred.first)) || pred.last >= object.first {
            return false;
        }
        let mut t = object.last + 1;
        while t < s.end && s.sep(t - 1) == Sep::Space && s.has_start(t, G::Proposal) {
            t += 1;
        }
        t + 1 < s.end
            && s.sep(t - 1) == Sep::Space
            && s.sep(t) == Sep::Space
            && self.lang.opens_complement(s.word(t), s.word(t + 1))
    }

    /// A reject judgement after the object in its clause ("calls the truce premature").
    pub(super) fn judged_after(&self, s: &Sent<'_>, object: M) -> bool {
        s.ms.iter().any(|m| {
            matches!(m.tag, Tag::Pred(st, Form::Judgement) if st == self.st.reject)
                && m.first > object.last
                && m.first <= object.last + 6
        })
    }

    /// Which ceasefire or flow: a scope phrase in the object's phrase or right around it,
    /// or "N-day" / "N-hour" before it.
    pub(super) fn scope_of(
        &self,
        s: &Sent<'_>,
        pred: M,
        object: M,
    ) -> (Option<String>, Option<u32>) {
        let lo = object
            .first
            .saturating_sub(4)
            .max(s.first)
            .min(pred.first.max(s.first));
        // After the object, as far as its phrase goes ("ceasefire in Ukraine over Orthodox
        // Easter"), and not past a comma, colon or dash into another clause.
        let hi = (object.last + 6).min(s.end);
        let mut found: Option<String> = None;
        let mut hours: Option<u32> = None;
        for t in lo..hi {
            if t > object.last
                && matches!(
                    s.sep(t - 1),
                    Sep::Comma | Sep::Colon | Sep::Semicolon | Sep::Dash | Sep::End
                )
            {
                break;
            }
            // "30-day", "three-day", "72-hour", "month-long".
            if hours.is_none() && t + 1 < s.end {
                let unit = match s.word(t + 1) {
                    "day" | "days" => Some(24),
                    "hour" | "hours" => Some(1),
                    "week" | "weeks" => Some(168),
                    "month" | "months" => Some(720),
                    _ => None,
                };
                // "1.5 days": the tenths after a point.
                let decimal = t > s.first
                    && s.is_number(t - 1)
                    && s.text_between(t - 1, t) == "."
                    && s.word(t).len() == 1;
                if let (Some(n), Some(unit), true) = (number_value(s.word(t)), unit, decimal) {
                    let whole = number_value(s.word(t - 1)).unwrap_or(0);
                    hours = Some(whole * unit + n * unit / 10).filter(|_| (n * unit) % 10 == 0);
                } else if let (Some(n), Some(unit)) = (number_value(s.word(t)), unit) {
                    hours = Some(n * unit);
                } else if s.word(t) == "month" && s.word(t + 1) == "long" {
                    hours = Some(720);
                }
            }
            if found.is_none()
                && let Some(m) =
                    s.ms.iter()
                        .find(|m| m.first == t && matches!(m.tag, Tag::Scope(_)))
                && let Tag::Scope(id) = m.tag
            {
                found = Some(self.scopes[id as usize].clone());
            }
        }
        // The object's own words name a scope too ("energy truce" as one phrase).
        let found = found.or_else(|| {
            s.ms.iter()
                .filter(|m| m.first >= object.first && m.last <= object.last)
                .find_map(|m| match m.tag {
                    Tag::Scope(id) => Some(self.scopes[id as usize].clone()),
                    _ => None,
                })
        });
        (found, hours)
    }
}

/// The name of another war among a sentence's mentions `ms`, when the sentence names none of
/// Ukraine's own (naming Russia does not count: Russia has other wars' ceasefires to answer).
pub(super) fn another_war(s: &Sent<'_>, ms: &[M]) -> Option<M> {
    let other = ms.iter().find(|m| m.tag == Tag::Gram(G::OtherConflict))?;
    let ukraine_here = ms.iter().any(|m| {
        m.tag == Tag::Gram(G::Ukraine)
            && !matches!(
                s.word(m.first),
                "russia" | "russian" | "kremlin" | "moscow" | "putin"
            )
    });
    (!ukraine_here).then_some(*other)
}
