//! Step 3, continued: the modality of a predicate (asserted, refused, open, or blocked by negation, modal, demand, question, denial, history, condition).

use super::*;

/// Why a reading is blocked, and the word that says so.
type Block = (&'static str, Option<M>);

/// The predicate whose modality is read.
#[derive(Clone, Copy)]
struct Pred<'a> {
    p: M,
    construction: Construction,
    agent: Option<Agent>,
    objects: &'a [M],
}

/// A word as the one that says how a predicate is meant.
fn at(t: u32) -> Option<M> {
    Some(M {
        tag: Tag::Gram(G::Det),
        first: t,
        last: t,
    })
}

impl Classifier {
    /// How the predicate is meant, and the word that says so. Each check below may block
    /// the reading; the verb group and an infinitive may also make it refused or open.
    pub(super) fn modality(
        &self,
        s: &Sent<'_>,
        p: M,
        construction: Construction,
        agent: Option<Agent>,
        objects: &[M],
    ) -> (Modality, Option<M>) {
        let q = Pred {
            p,
            construction,
            agent,
            objects,
        };
        let blocked = |(reason, word): Block| (Modality::Blocked(reason), word);
        if let Some(b) = self.question(s) {
            return blocked(b);
        }
        let mut state = match self.verb_group(s, &q) {
            Ok(state) => state,
            Err(b) => return blocked(b),
        };
        let block = self
            .fronted_time(s, &q)
            .or_else(|| self.placing_clause(s, &q))
            .or_else(|| self.infinitive(s, &q, &mut state))
            .or_else(|| self.claim_or_denial_before(s, &q))
            .or_else(|| self.governed_clause(s, &q))
            .or_else(|| self.time_after(s, &q))
            .or_else(|| self.noun_background(s, &q))
            .or_else(|| self.reduced_relative(s, &q))
            .or_else(|| self.relative_clause(s, &q));
        match block {
            Some(b) => blocked(b),
            None => state,
        }
    }

    /// Questions: a question mark, or a headline opening with "Will", "What", "Why".
    fn question(&self, s: &Sent<'_>) -> Option<Block> {
        if s.question {
            return Some(("question", None));
        }
        if s.field == Field::Title
            && s.has_start(s.first, G::QOpen)
            && s.first + 1 < s.end
            && !s
                .ms
                .iter()
                .any(|m| m.first == s.first && matches!(m.tag, Tag::Actor(_)))
            && s.sep(s.first) != Sep::Colon
        {
            return Some(("question", at(s.first)));
        }
        None
    }

    /// The verb group, from the subject (or a few words back) to the predicate: negations,
    /// refusals, modals, openness, denials and history markers.
    fn verb_group(&self, s: &Sent<'_>, q: &Pred<'_>) -> Result<(Modality, Option<M>), Block> {
        let Pred {
            p,
            construction,
            agent,
            objects,
        } = *q;
        let subject_end = agent
            .and_then(|a| a.mention)
            .filter(|m| m.last < p.first && a_is_subject(agent))
            .map(|m| m.last + 1);
        let lo = subject_end
            .unwrap_or_else(|| p.first.saturating_sub(4))
            .max(s.first)
            .max(p.first.saturating_sub(8));
        // A parenthetical between commas right before the verb group is a phrase of its
        // own: "the ban, announced last month, has come to an end".
        let lo = (lo..p.first)
            .rev()
            .find(|&t| s.sep(t) == Sep::Comma)
            .map_or(lo, |t| t + 1);
        if let Some(b) = self.past_period(s, q) {
            return Err(b);
        }
        let mut modality = Modality::Asserted;
        let mut word = None;
        let reported = (s.first..p.first).any(|t| s.has_start(t, G::Speech));
        let mut future = None;
        for t in lo..p.first {
            let here = |g| s.has_start(t, g);
            if here(G::NotYet) {
                return Err(("not_yet", at(t)));
            }
            // "did not agree", "never agreed": a past deed denied, not a refusal.
            let past_denial = here(G::Neg)
                && (s.word(t) == "didn't"
                    || s.word(t) == "not" && t > s.first && s.word(t - 1) == "did"
                    || s.word(t) == "never"
                        && matches!(p.tag, Tag::Pred(_, Form::Past | Form::PastOrParticiple)));
            // "did not order an extension of the truce": no extension is an answer.
            let extension = objects.first().is_some_and(|o| {
                (p.last + 1..o.first).any(|u| {
                    matches!(
                        s.word(u),
                        "extension"
                            | "extend"
                            | "extending"
                            | "prolongation"
                            | "prolong"
                            | "prolonging"
                    )
                })
            });
            if past_denial && !extension {
                return Err(("denial", at(t)));
            }
            if here(G::Refusal) || here(G::Neg) && modality == Modality::Asserted {
                modality = Modality::Refused;
                word = at(t);
            } else if here(G::Modal) {
                let w = s.word(t);
                // "said Russia would observe it": a reported commitment; "a truce would be a
                // trap": a judgement.
                if !(w == "would" && reported || construction == Construction::Judgement) {
                    return Err(("modal", at(t)));
                }
            } else if here(G::Irrealis)
                && !here(G::Speech)
                // "has no plans to": the refusal holds the word.
                && !s.inside(t, G::Refusal)
            {
                return Err(("irrealis", at(t)));
            } else if here(G::Openness) {
                modality = if modality == Modality::Refused {
                    Modality::Refused
                } else {
                    Modality::Open
                };
                word = at(t);
            } else if here(G::Denial) {
                return Err(("denial", at(t)));
            } else if (s.history_at(t) || s.word(t) == "had" && !reported)
                && construction != Construction::Noun
            {
                return Err(("history", at(t)));
            }
            if matches!(s.word(t), "will" | "shall" | "would" | "won't" | "wouldn't") {
                future = future.or(Some(t));
            }
        }
        if let Some(t) = future
            && self.prediction(s, q)
        {
            return Err(("prediction", at(t)));
        }
        Ok((modality, word))
    }

    /// Whether a future deed is another side's prediction: "Trump: Putin will agree to a
    /// ceasefire", "Zelensky said Moscow would never observe a truce". A side's word on its
    /// own deed is a commitment ("Peskov says Russia will observe the truce"), and so is the
    /// recipient's word on a flow to it ("Ukraine says the US will resume intelligence
    /// sharing").
    fn prediction(&self, s: &Sent<'_>, q: &Pred<'_>) -> bool {
        let Some(agent) = q.agent.filter(|a| a.by == AgentBy::Subject && a.sides != 0) else {
            return false;
        };
        let Some(speaker) = self.speaker(s, q.p).filter(|a| a.sides != 0) else {
            return false;
        };
        let flow =
            matches!(q.p.tag, Tag::Pred(st, _) if st == self.st.pause || st == self.st.resume);
        speaker.sides & agent.sides == 0 && !(flow && self.recipient_alone(speaker.sides))
    }

    /// A durative verb in the simple past tells of a period that is over, not of a change:
    /// "Trump confirms he withheld military aid" (against "holds up", "has withheld",
    /// "paused").
    fn past_period(&self, s: &Sent<'_>, q: &Pred<'_>) -> Option<Block> {
        let Pred {
            p, construction, ..
        } = *q;
        if construction != Construction::Active
            || !matches!(p.tag, Tag::Pred(_, Form::Past | Form::PastOrParticiple))
            || !self.lang.durative_past(s.word(p.first))
        {
            return None;
        }
        // An auxiliary before the verb ("quietly" between) makes it a perfect or a passive:
        // "has withheld", "was held up".
        let auxiliary = self.word_before_verb(s, p.first).is_some_and(|t| {
            [G::Have, G::Be, G::Modal, G::Future, G::Do]
                .into_iter()
                .any(|g| s.has_end(t, g))
        });
        (!auxiliary).then(|| ("past period", at(p.first)))
    }

    /// A time put first: "In 2024, the US ran out of money for Ukraine."
    fn fronted_time(&self, s: &Sent<'_>, q: &Pred<'_>) -> Option<Block> {
        let Pred { p, .. } = *q;
        for t in s.first..(s.first + 3).min(p.first) {
            if s.history_at(t) && (t..p.first).any(|u| s.sep(u) == Sep::Comma) {
                return Some(("history", at(t)));
            }
        }
        None
    }

    /// A clause that places the news in time recalls an earlier deed: "days after he froze
    /// military assistance", "since Moscow rejected the truce"; so do "if", "should", "claimed".
    fn placing_clause(&self, s: &Sent<'_>, q: &Pred<'_>) -> Option<Block> {
        let Pred {
            p,
            construction,
            agent,
            objects,
        } = *q;
        if matches!(
            construction,
            Construction::Active | Construction::Passive | Construction::ObjectSubject
        ) {
            // Where the clause's subject starts: the agent's name, an object standing as the
            // subject ("whether the moratorium will be extended"), or a pronoun.
            let object_subject = objects.first().filter(|o| o.last < p.first).map(|o| {
                let mut k = o.first;
                for _ in 0..3 {
                    let np = k > s.first
                        && matches!(s.sep(k - 1), Sep::Space | Sep::Hyphen)
                        && (s.has_end(k - 1, G::Det)
                            || s.is_number(k - 1)
                            || s.ms.iter().any(|m| {
                                m.last == k - 1 && matches!(m.tag, Tag::Scope(_) | Tag::Actor(_))
                            }));
                    if !np {
                        break;
                    }
                    k -= 1;
                }
                k
            });
            let subject_first = agent
                .filter(|a| a.by == AgentBy::Subject)
                .and_then(|a| a.mention)
                .filter(|m| m.last < p.first)
                .map(|m| m.first)
                .or(object_subject)
                .or_else(|| {
                    let mut k = p.first;
                    while k > s.first
                        && [G::Modal, G::Future, G::Be, G::Have, G::Do, G::Neg]
                            .into_iter()
                            .any(|g| s.has_end(k - 1, g))
                    {
                        k -= 1;
                    }
                    (k > s.first && s.has_end(k - 1, G::Pronoun)).then(|| k - 1)
                });
            if let Some(mut k) = subject_first {
                if k > s.first && s.has_end(k - 1, G::Det) {
                    k -= 1;
                }
                // A report inside a placing clause is placed with it: "days after the White
                // House said some shipments had been halted".
                if let Some(after) = self.placed_report(s, k) {
                    return Some(("background", at(after)));
                }
                if k > s.first {
                    // "sanctions must be lifted before it observes a truce": a condition.
                    let condition_before = s.word(k - 1) == "before"
                        && (s.first..k - 1).any(|u| s.has_start(u, G::Condition));
                    match s.word(k - 1) {
                        "after" | "since" | "before" | "when" if !condition_before => {
                            return Some(("background", at(k - 1)));
                        }
                        // "should Russia agree to a truce", "had Moscow accepted".
                        "if" | "unless" | "whether" | "should" | "were" | "had" => {
                            return Some(("hypothetical", at(k - 1)));
                        }
                        // "Trump claimed Putin kept his word on a truce".
                        "claimed" | "claims" | "claiming" | "alleged" | "alleges" | "falsely" => {
                            return Some(("claims", at(k - 1)));
                        }
                        // "EU leaders demand Russia accept the truce": a subjunctive.
                        _ if s.has_end(k - 1, G::Demand)
                            && matches!(p.tag, Tag::Pred(_, Form::Base)) =>
                        {
                            return Some(("demand", at(k - 1)));
                        }
                        _ => {}
                    }
                }
            }
        }
        None
    }

    /// The "after", "since" or "when" that opens a clause reporting speech, when the clause
    /// whose subject starts at `k` is what it reports: "after the White House said [some
    /// shipments had been halted]", "since Moscow announced that [the truce was over]".
    fn placed_report(&self, s: &Sent<'_>, k: u32) -> Option<u32> {
        let mut v = k.checked_sub(1)?;
        if v > s.first && s.word(v) == "that" {
            v -= 1;
        }
        if v <= s.first || !s.has_end(v, G::Speech) || s.sep(v) != Sep::Space {
            return None;
        }
        // The speaker's words between: "after officials said", "after the White House
        // said", "since Kremlin aide Yuri Ushakov said".
        let mut u = v;
        while u > s.first && v - u < 6 {
            u -= 1;
            if s.sep(u) != Sep::Space
                || s.ms
                    .iter()
                    .any(|m| m.last == u && matches!(m.tag, Tag::Pred(..) | Tag::Object(_)))
            {
                return None;
            }
            if matches!(s.word(u), "after" | "since" | "when") {
                return Some(u);
            }
        }
        None
    }

    /// An infinitive: "to" before the predicate and what governs it (a proposal, a demand,
    /// openness or a refusal).
    ///
    /// One function: the proposal, demand and governing-word checks read the same words
    /// left of "to" in order, and the first that decides wins.
    fn infinitive(
        &self,
        s: &Sent<'_>,
        q: &Pred<'_>,
        state: &mut (Modality, Option<M>),
    ) -> Option<Block> {
        let Pred {
            p,
            construction,
            agent,
            ..
        } = *q;
        let (modality, word) = (&mut state.0, &mut state.1);
        if construction == Construction::Active && p.first > s.first && s.word(p.first - 1) == "to"
        {
            let to = p.first - 1;
            // The content of a proposal, an appeal, a call: "a proposal by the UN to declare
            // a truce", "calls for Moscow to halt strikes".
            let mut u = to;
            // Far enough for a titled name: "the proposal of Secretary-General of the United
            // Nations Antonio Guterres to introduce a pause".
            for _ in 0..12 {
                if u <= s.first {
                    break;
                }
                u -= 1;
                // A verb-looking proposal word used as a noun ("Ukraine's call to extend")
                // is the proposal all the same; one a refusal holds ("has no plans to") is
                // none.
                if s.has_end(u, G::Proposal)
                    && !s.inside(u, G::Refusal)
                    && !s.ms.iter().any(|m| {
                        m.last == u
                            && matches!(m.tag, Tag::Pred(_, f) if f.finite())
                            && !self.noun_use(s, *m)
                    })
                {
                    return Some(("proposal", at(u)));
                }
                let inside = s.has_end(u, G::Det)
                    || s.has_end(u, G::By)
                    || s.has_end(u, G::Role)
                    || s.word(u) == "of"
                    || !s.ms.iter().any(|m| {
                        m.first <= u
                            && m.last >= u
                            && matches!(
                                m.tag,
                                Tag::Pred(..)
                                    | Tag::Gram(
                                        G::Prep | G::Comp | G::Break | G::Speech | G::Pronoun
                                    )
                            )
                    });
                if !inside {
                    break;
                }
            }
            if to > s.first {
                let before = to - 1;
                // The infinitive's subject: named right before "to", or found further back
                // ("Russia's defence ministry to").
                let subject_first = self
                    .actor_group_ending(s, before)
                    .map(|(_, _, f)| f)
                    .or_else(|| {
                        agent
                            .filter(|a| a.by == AgentBy::Subject)
                            .and_then(|a| a.mention)
                            .filter(|m| m.last < to && to - m.last <= 4)
                            .map(|m| {
                                self.actor_group_ending(s, m.last)
                                    .map_or(m.first, |(_, _, f)| f)
                            })
                    });
                if let Some(group_first) = subject_first {
                    // "urge Russia to accept", "up to Washington to persuade", "for Moscow
                    // to agree", "tell Russian President Vladimir Putin to": a demand.
                    let mut g = group_first;
                    for _ in 0..6 {
                        if g <= s.first {
                            break;
                        }
                        g -= 1;
                        if s.has_end(g, G::Demand) || s.has_end(g, G::Obligation) {
                            return Some(("demand", at(g)));
                        }
                        // Names and titles: "Foreign Minister Sergei Lavrov".
                        let name_part = s.has_end(g, G::Det)
                            || s.has_end(g, G::Role)
                            || s.word(g) == "of"
                            || !s.ms.iter().any(|m| {
                                m.last == g
                                    && matches!(
                                        m.tag,
                                        Tag::Pred(..)
                                            | Tag::Object(_)
                                            | Tag::Gram(
                                                G::Prep
                                                    | G::Comp
                                                    | G::Break
                                                    | G::Speech
                                                    | G::Pronoun
                                            )
                                    )
                            });
                        if !name_part {
                            break;
                        }
                    }
                } else if s.has_end(before, G::Irrealis) || s.has_end(before, G::Demand) {
                    return Some(("irrealis", at(before)));
                } else if s.has_end(before, G::Openness) {
                    if *modality != Modality::Refused {
                        *modality = Modality::Open;
                        *word = at(before);
                    }
                } else if s.has_end(before, G::Refusal) {
                    *modality = Modality::Refused;
                    *word = at(before);
                } else if s.has_end(before, G::Obligation) || s.has_end(before, G::Modal) {
                    return Some(("demand", at(before)));
                }
            }
        }
        None
    }

    /// A clause governed by the word right before its subject (past "that"):
    /// - an object as the subject, by a wish or a demand: "Kyiv hopes [the hold on arms
    ///   shipments will end]", "urges that [deliveries resume]";
    /// - an actor as the subject, by an attitude only: "analysts doubt [Putin will accept a
    ///   truce]", "Trump hopes that [Moscow agrees]"; not by a modal ("In May Russia declared
    ///   a truce"), and not across a comma.
    ///
    /// A speech verb governs neither: what is said is asserted.
    fn governed_clause(&self, s: &Sent<'_>, q: &Pred<'_>) -> Option<Block> {
        let Pred {
            p,
            construction,
            agent,
            objects,
        } = *q;
        let (subject, actor) = match construction {
            Construction::ObjectSubject | Construction::Judgement => {
                (*objects.first().filter(|o| o.last < p.first)?, false)
            }
            Construction::Active => (
                agent
                    .filter(|a| a.by == AgentBy::Subject)
                    .and_then(|a| a.mention)
                    .filter(|m| m.last < p.first)?,
                true,
            ),
            _ => return None,
        };
        let mut t = self.np_start(s, subject);
        if t > s.first && s.word(t - 1) == "that" {
            t -= 1;
        }
        let v = t.checked_sub(1).filter(|&v| v >= s.first)?;
        let governs = if actor {
            s.sep(v) == Sep::Space && s.has_end(v, G::Irrealis) && !s.has_end(v, G::Modal)
        } else {
            s.has_end(v, G::Irrealis) || s.has_end(v, G::Demand)
        };
        (governs && !s.has_end(v, G::Speech)).then(|| ("irrealis", at(v)))
    }

    /// Claims and denials before the predicate in its clause: "denies that it agreed",
    /// "rejects claims that Russia agreed".
    fn claim_or_denial_before(&self, s: &Sent<'_>, q: &Pred<'_>) -> Option<Block> {
        let Pred {
            p, construction, ..
        } = *q;
        let clause_lo = p.first.saturating_sub(14).max(s.first);
        for t in clause_lo..p.first {
            // A judgement judges the talk itself: "talk of a truce is premature".
            if s.has_start(t, G::Claims)
                && (t + 1..p.first).any(|u| {
                    s.has_start(u, G::Comp)
                        || s.word(u) == "of" && construction != Construction::Judgement
                })
            {
                return Some(("claims", at(t)));
            }
            // "Kremlin denies Poroshenko and Putin agreed on a ceasefire", "Russia denies
            // rejecting the truce"; but not across "and" or a comma ("denied the report and
            // rejected the truce").
            if s.has_start(t, G::Denial) {
                let interrupted = (t + 1..p.first).any(|u| {
                    matches!(s.sep(u - 1), Sep::Comma | Sep::Semicolon | Sep::Dash)
                        || s.has_start(u, G::Break)
                        || s.has_start(u, G::Coord)
                            && !s
                                .ms
                                .iter()
                                .any(|m| matches!(m.tag, Tag::Actor(_)) && m.last + 1 == u)
                });
                if !interrupted {
                    return Some(("denial", at(t)));
                }
            }
        }
        None
    }

    /// A time in the past after the predicate: "paused aid in 2019", "rejected it last year".
    fn time_after(&self, s: &Sent<'_>, q: &Pred<'_>) -> Option<Block> {
        let Pred { p, objects, .. } = *q;
        let hi = (objects.iter().map(|o| o.last).max().unwrap_or(p.last) + 9).min(s.end);
        for t in p.last + 1..hi {
            if s.history_at(t) {
                return Some(("history", at(t)));
            }
            if s.has_start(t, G::Break) || s.has_start(t, G::Comp) {
                break;
            }
        }
        None
    }

    /// Noun predicates recalled as background: "after the aid pause", "since Russia's
    /// rejection", "amid a US freeze on weapons".
    fn noun_background(&self, s: &Sent<'_>, q: &Pred<'_>) -> Option<Block> {
        let Pred {
            p,
            construction,
            objects,
            ..
        } = *q;
        if construction == Construction::Noun {
            let lo = p.first.saturating_sub(5).max(s.first);
            let mut t = p.first;
            while t > lo {
                t -= 1;
                // "agreed on a halt in attacks": the noun is a verb's object; "announced on
                // Wednesday its rejection": a time adjunct ends the noun phrase.
                if s.has_end(t, G::Time)
                    || s.ms
                        .iter()
                        .any(|m| m.last == t && matches!(m.tag, Tag::Pred(..)))
                {
                    break;
                }
                if s.has_end(t, G::Background) {
                    return Some(("background", at(t)));
                }
                if let Some(m) =
                    s.ms.iter()
                        .filter(|m| {
                            m.last == t
                                && matches!(m.tag, Tag::Actor(_) | Tag::Object(_) | Tag::Scope(_))
                        })
                        .min_by_key(|m| m.first)
                {
                    t = m.first;
                    continue;
                }
                // Determiners, numbers, titles and adjectives stay in the noun phrase.
                let np = s.has_end(t, G::Det)
                    || s.has_end(t, G::Role)
                    || s.is_number(t)
                    || s.sep(t) == Sep::Hyphen
                    || !s.ms.iter().any(|m| m.first <= t && m.last >= t);
                if !np {
                    break;
                }
            }
            // The noun is the subject of a look back: "the pause in intelligence sharing
            // has not had an effect", "the aid freeze had no impact".
            let np_end = np_end(p, objects);
            for t in np_end + 1..(np_end + 7).min(s.end) {
                if s.word(t) == "had" {
                    return Some(("history", at(t)));
                }
                if s.has_start(t, G::Comp) || s.has_start(t, G::Break) || s.sep(t - 1) == Sep::Comma
                {
                    break;
                }
            }
            // "the pause last week", "the 2019 hold".
            let hi = (p.last + 4).min(s.end);
            for t in p.first.saturating_sub(3).max(s.first)..hi {
                if s.history_at(t) {
                    return Some(("history", at(t)));
                }
            }
        }
        None
    }

    /// A relative clause set off by commas tells background: "The truce, which Moscow
    /// declared on Saturday, has expired", "Trump, who paused aid in March, said ...".
    fn relative_clause(&self, s: &Sent<'_>, q: &Pred<'_>) -> Option<Block> {
        let p = q.p;
        let close = (p.last..(p.last + 12).min(s.end.saturating_sub(1)))
            .find(|&t| s.sep(t) == Sep::Comma)?;
        let pronoun = self.parenthetical_closing(s, close)? + 1;
        (pronoun < p.first && self.lang.relative_pronoun(s.word(pronoun)))
            .then(|| ("background", at(pronoun)))
    }

    /// A reduced relative clause is background: "the truce declared by Putin was broken",
    /// unless the object opens a headline ("Truce declared by Putin").
    fn reduced_relative(&self, s: &Sent<'_>, q: &Pred<'_>) -> Option<Block> {
        let Pred {
            p,
            construction,
            objects,
            ..
        } = *q;
        if construction == Construction::Passive && !self.passive_aux(s, p) {
            let o = objects.iter().map(|o| o.first).min().unwrap_or(p.first);
            let opens = (s.first..o).all(|t| {
                s.has_start(t, G::Det)
                    || s.ms.iter().any(|m| {
                        m.first <= t
                            && m.last >= t
                            && matches!(m.tag, Tag::Actor(_) | Tag::Scope(_))
                    })
                    || s.is_number(t)
                    || s.sep(t) == Sep::Hyphen
                    || s.sep(t) == Sep::Colon
            });
            if !opens && s.field == Field::Summary {
                return Some(("background", None));
            }
            // Set off by commas after its noun, it is background wherever the noun
            // stands: "The energy truce, first ordered by Putin in March, has ended".
            let o_last = objects
                .iter()
                .filter(|m| m.last < p.first)
                .map(|m| m.last)
                .max();
            if let Some(o_last) = o_last
                && s.sep(o_last) == Sep::Comma
                && (o_last + 1..p.first).all(|t| self.lang.verb_group_adverb(s.word(t)))
                && (p.last..s.end.saturating_sub(1)).any(|t| s.sep(t) == Sep::Comma)
            {
                return Some(("background", None));
            }
        }
        None
    }

    /// Whether the sentence puts a condition on the predicate: "only if", "unless", "but
    /// with conditions", "in exchange for", after it (or right before: "if Kyiv withdraws,
    /// Russia would ...").
    pub(super) fn conditioned(&self, s: &Sent<'_>, p: M, objects: &[M]) -> Cond {
        // Reservations follow the object: "backs the US proposal for a 30-day ceasefire in
        // principle".
        let reach = objects
            .iter()
            .map(|o| o.last + 3)
            .max()
            .unwrap_or(0)
            .max(p.last + 8);
        let mut found = Cond::None;
        for t in s.first..s.end {
            if s.word(t) == "until" && t > p.last {
                found = Cond::Until;
            }
            if s.has_start(t, G::Condition) {
                let c = s.gram_starting(t, G::Condition).unwrap_or(M {
                    tag: Tag::Gram(G::Condition),
                    first: t,
                    last: t,
                });
                let bare_if = c.first == c.last && s.word(t) == "if";
                // A bare "if" conditions only what follows it closely or a clause it opens.
                if bare_if && (t < p.first && p.first - t > 10 || t > p.last + 12) {
                    continue;
                }
                // "would halt strikes provided Ukrainians may vote": a condition; "the US,
                // which provided the weapons", "aid provided by Washington": a verb.
                if c.first == c.last && matches!(s.word(t), "provided" | "providing") {
                    // An actor right before is its subject, unless a preposition governs
                    // it ("a truce in Ukraine provided Kyiv ...").
                    let subject_before = t > s.first
                        && self
                            .actor_group_ending(s, t - 1)
                            .is_some_and(|(_, _, f)| f == s.first || !s.has_end(f - 1, G::Prep));
                    let verb = t <= p.last
                        || subject_before
                        || t > s.first
                            && (s.ms.iter().any(|m| {
                                m.last == t - 1
                                    && matches!(
                                        m.tag,
                                        Tag::Gram(
                                                G::Pronoun
                                                    | G::Have
                                                    | G::Be
                                                    | G::Modal
                                                    | G::Comp
                                                    | G::Future
                                            )
                                    )
                            }) || s.sep(t - 1) == Sep::Hyphen)
                        // A condition opens a clause: its subject follows.
                        || !(t + 1 < s.end
                            && (s.has_start(t + 1, G::Det)
                                || s.has_start(t + 1, G::Pronoun)
                                || s.is_number(t + 1)
                                || s.ms.iter().any(|m| {
                                    m.first == t + 1 && matches!(m.tag, Tag::Actor(_))
                                })));
                    if verb {
                        continue;
                    }
                }
                return Cond::Strong;
            }
            if s.has_start(t, G::ConditionNoun) && t > p.last {
                return Cond::Strong;
            }
            // "backs the truce in principle": reservations after the object.
            if s.has_start(t, G::Openness) && t > p.last && t <= reach {
                return Cond::Strong;
            }
        }
        found
    }
}
