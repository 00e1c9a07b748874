//! Step 3, continued: the agent of a predicate (subject, "by" phrase, possessive, owner of a flow, speaker).

use super::*;

impl Classifier {
    /// The actor group that ends at `t`, if one does (longest mention; "Russia and Ukraine"
    /// coordinated into one group).
    pub(super) fn actor_group_ending(&self, s: &Sent<'_>, t: u32) -> Option<(u64, M, u32)> {
        let m =
            s.ms.iter()
                .filter(|m| m.last == t && matches!(m.tag, Tag::Actor(_)))
                .min_by_key(|m| m.first)?;
        let mut sides = 0u64;
        // Every actor mention over the same words: "Russian President Vladimir Putin".
        for o in s
            .ms
            .iter()
            .filter(|o| matches!(o.tag, Tag::Actor(_)) && o.first >= m.first && o.last <= m.last)
        {
            if let Tag::Actor(side) = o.tag {
                sides |= 1 << side;
            }
        }
        let mut group_first = m.first;
        // Adjacent actor mentions are one name: "Russian President" + "Vladimir Putin".
        while group_first > s.first {
            let Some(prev) =
                s.ms.iter()
                    .filter(|o| o.last == group_first - 1 && matches!(o.tag, Tag::Actor(_)))
                    .min_by_key(|o| o.first)
            else {
                break;
            };
            if s.possessive(prev.last) && !s.has_start(group_first, G::Role) {
                break;
            }
            // "Trump: Putin will agree": a colon or a comma parts two names.
            if !matches!(s.sep(prev.last), Sep::Space | Sep::Hyphen) {
                break;
            }
            if let Tag::Actor(side) = prev.tag {
                sides |= 1 << side;
            }
            group_first = prev.first;
        }
        // Back over "X and", "X, Y and".
        loop {
            if group_first <= s.first {
                break;
            }
            let prev = group_first - 1;
            // "Russia and Ukraine", and in headlines "Russia, Ukraine agree".
            let coord = s.has_end(prev, G::Coord)
                || (s.sep(prev) == Sep::Comma
                    && s.ms
                        .iter()
                        .any(|o| o.last == prev && matches!(o.tag, Tag::Actor(_)))
                    && s.ms
                        .iter()
                        .filter(|o| o.last == prev && matches!(o.tag, Tag::Actor(_)))
                        .all(|o| o.first <= s.first + 1));
            let conjunction = s.has_end(prev, G::Coord);
            if !coord || conjunction && prev <= s.first {
                break;
            }
            let before = if conjunction { prev - 1 } else { prev };
            let Some(pm) =
                s.ms.iter()
                    .filter(|o| o.last == before && matches!(o.tag, Tag::Actor(_)))
                    .min_by_key(|o| o.first)
            else {
                break;
            };
            for o in s.ms.iter().filter(|o| {
                matches!(o.tag, Tag::Actor(_)) && o.first >= pm.first && o.last <= pm.last
            }) {
                if let Tag::Actor(side) = o.tag {
                    sides |= 1 << side;
                }
            }
            group_first = pm.first;
        }
        Some((sides, *m, group_first))
    }

    /// The subject of a verb at `p`: the nearest actor group before its verb group in the
    /// same clause that is not governed by a preposition and not a bare possessive ("Russia's
    /// proposal"), or a pronoun's referent (the speaker). `None` when the clause names no
    /// subject.
    ///
    /// One leftward scan from the verb group, its stop rules reading the state it carries.
    pub(super) fn subject_of(&self, s: &Sent<'_>, p: M) -> Option<Agent> {
        let mut t = p.first;
        let lo = p.first.saturating_sub(16).max(s.first);
        // An object right before the verb group is the subject ("Moscow says the truce will
        // take effect"; "the truce with Ukraine expires").
        let object_ends = |t: u32| {
            s.ms.iter().any(|m| {
                m.last == t
                    && matches!(m.tag, Tag::Object(_))
                    && !(m.first > s.first && s.has_end(m.first - 1, G::Prep))
            })
        };
        let mut in_group = true;
        // The untagged words and titles right before the verb group, the last of them.
        let (mut chain, mut titled, mut names, mut name_last) = (true, false, 0u32, None::<u32>);
        let unknown = |first: u32, last: Option<u32>| Agent {
            sides: 0,
            mention: Some(M {
                tag: Tag::Gram(G::Role),
                first,
                last: last.unwrap_or(first),
            }),
            by: AgentBy::Subject,
        };
        while t > lo {
            t -= 1;
            if in_group {
                let verb_group = [
                    G::Modal,
                    G::Future,
                    G::Be,
                    G::Have,
                    G::Do,
                    G::Neg,
                    G::NotYet,
                ]
                .into_iter()
                .any(|g| s.has_end(t, g));
                if verb_group {
                    continue;
                }
                in_group = false;
                if object_ends(t) && !self.parenthetical_after_subject(s, t) {
                    return None;
                }
            }
            // "Putin: Cease-fire deal reached": the actor before a colon is the speaker.
            if s.sep(t) == Sep::Colon {
                break;
            }
            // Over a reduced or a relative clause between commas to its noun: "the truce,
            // first ordered by Kremlin aide Yuri Ushakov in March, has expired",
            // "Washington, which had promised more air defence, halted deliveries".
            if let Some(open) = self.parenthetical_closing(s, t) {
                t = open + 1;
                continue;
            }
            if let Some((sides, m, group_first)) = self.actor_group_ending(s, t) {
                let possessive = s.possessive(m.last);
                let role_follows =
                    (m.last + 1..(m.last + 4).min(p.first)).any(|u| s.has_start(u, G::Role));
                // "from the United States": over the determiner to the preposition, when the
                // actor heads its noun phrase ("over the U.S. decision to pause" is the US's).
                let mut g = group_first;
                while !possessive
                    && !role_follows
                    && g > s.first
                    && s.has_end(g - 1, G::Det)
                    && s.sep(g - 1) == Sep::Space
                {
                    g -= 1;
                }
                let governed = g > s.first
                    && (s.has_end(g - 1, G::Prep) || s.has_end(g - 1, G::By))
                    && s.word(g - 1) != "as";
                // "Putin tells Trump a truce is possible": the one told is not the subject.
                let addressee = group_first > s.first
                    && s.has_end(group_first - 1, G::Speech)
                    && matches!(
                        s.word(group_first - 1),
                        "tells" | "told" | "tell" | "telling"
                    );
                if addressee {
                    t = group_first;
                    continue;
                }
                // "the US proposal", "US weapons": an actor before a noun modifies it.
                let next = m.last + 1;
                let adjunct = next <= p.first
                    && s.ms.iter().any(|o| {
                        o.first == next
                            && (matches!(o.tag, Tag::Object(_) | Tag::Scope(_))
                                || o.tag == Tag::Gram(G::Proposal))
                    })
                    && !s
                        .ms
                        .iter()
                        .any(|o| o.first == next && matches!(o.tag, Tag::Pred(_, f) if f.finite()));
                if (possessive && !role_follows) || governed || adjunct {
                    if governed && g >= s.first + 2 && object_ends(g - 2) {
                        return None;
                    }
                    t = if governed { g } else { group_first };
                    continue;
                }
                return Some(Agent {
                    sides,
                    mention: Some(M {
                        first: group_first,
                        ..m
                    }),
                    by: AgentBy::Subject,
                });
            }
            // A titled name the lexicon does not know, right before the verb group, is the
            // subject all the same: "Hungarian Prime Minister Viktor Orban proposed ...".
            let untagged = !s.ms.iter().any(|m| m.first <= t && m.last >= t);
            if chain {
                if self.lang.person_title(s.word(t)) && (untagged || s.has_end(t, G::Role)) {
                    titled = true;
                    name_last.get_or_insert(t);
                    continue;
                }
                if untagged && (titled || names < 4) {
                    names += 1;
                    name_last.get_or_insert(t);
                    continue;
                }
                chain = false;
                if titled {
                    return Some(unknown(t + 1, name_last));
                }
            }
            if s.has_end(t, G::Pronoun) {
                return self.speaker(s, p).map(|a| Agent {
                    by: AgentBy::Speaker,
                    ..a
                });
            }

            // A speech verb opens a clause of its own: "Russia says (that) the moratorium
            // expires" (not "according to X, ...").
            if s.has_end(t, G::Break)
                || (s.has_end(t, G::Comp) && s.word(t) != "that")
                || s.sep(t) == Sep::Semicolon
                || s.has_end(t, G::Speech) && t + 1 < p.first && s.word(t) != "to"
            {
                break;
            }
        }
        if chain && titled && t == s.first {
            return Some(unknown(s.first, name_last));
        }
        None
    }

    /// "by X" right after `last` (within two words: "by the Kremlin").
    pub(super) fn by_agent(&self, s: &Sent<'_>, last: u32) -> Option<Agent> {
        for t in last + 1..(last + 3).min(s.end) {
            if s.has_start(t, G::By) {
                // "by Moscow", "by the Kremlin", "by Foreign Minister Sergei Lavrov".
                for u in t + 1..(t + 6).min(s.end) {
                    if let Some(m) =
                        s.ms.iter()
                            .filter(|m| m.first == u && matches!(m.tag, Tag::Actor(_)))
                            .max_by_key(|m| m.last - m.first)
                    {
                        let end = s
                            .ms
                            .iter()
                            .filter(|o| {
                                matches!(o.tag, Tag::Actor(_))
                                    && o.first >= m.first
                                    && (o.first <= m.last
                                        || o.first == m.last + 1
                                            && matches!(s.sep(m.last), Sep::Space | Sep::Hyphen))
                            })
                            .map(|o| o.last)
                            .max()
                            .unwrap_or(m.last);
                        let (sides, m, _) =
                            self.actor_group_ending(s, end).unwrap_or((0, *m, m.first));
                        return Some(Agent {
                            sides,
                            mention: Some(m),
                            by: AgentBy::ByPhrase,
                        });
                    }
                    let title_word = !s.ms.iter().any(|m| {
                        m.first == u
                            && matches!(
                                m.tag,
                                Tag::Pred(..)
                                    | Tag::Object(_)
                                    | Tag::Gram(G::Prep | G::Comp | G::Break | G::Speech)
                            )
                    });
                    if !title_word {
                        break;
                    }
                }
                return None;
            }
        }
        None
    }

    /// The agent of a noun: a possessive ("Russia's rejection"), an adjunct right before
    /// it ("U.S. pause", "Russian refusal"), with at most an adjective between.
    pub(super) fn noun_agent(&self, s: &Sent<'_>, p: M) -> Option<Agent> {
        let lo = p.first.saturating_sub(3).max(s.first);
        let mut t = p.first;
        while t > lo {
            t -= 1;
            if let Some((sides, m, _)) = self.actor_group_ending(s, t) {
                return Some(Agent {
                    sides,
                    mention: Some(m),
                    by: AgentBy::Possessive,
                });
            }
            if s.has_end(t, G::Det)
                || s.has_end(t, G::Prep)
                || s.has_end(t, G::Comp)
                || s.has_end(t, G::Be)
                || s.has_end(t, G::Speech)
                || s.ms
                    .iter()
                    .any(|m| m.last == t && matches!(m.tag, Tag::Pred(..)))
            {
                return None;
            }
        }
        None
    }

    /// The owner of a flow: an actor inside the object's phrase ("US weapons", "American
    /// arms deliveries", "Washington's military aid") or right after it ("aid from the US").
    pub(super) fn owner(&self, s: &Sent<'_>, objects: &[M]) -> Option<Agent> {
        let o = objects.first()?;
        // Owners may be masked as actors ("us weapons" hides "us"): look at every actor
        // mention, masked or not, through the item's full list.
        let lo = o.first.saturating_sub(3).max(s.first);
        for m in s.ms.iter().chain(s.t.masked.iter()).rev() {
            if let Tag::Actor(side) = m.tag
                && m.first >= lo
                && m.last <= o.last
                && m.last >= lo
                // "halt to Ukraine weapons shipments": where the flow goes.
                && !(side == self.st.recipient && m.last < o.first && !s.possessive(m.last))
            {
                let between_ok = (m.last + 1..o.first)
                    .all(|t| !s.has_start(t, G::Det) && !s.has_start(t, G::Prep));
                if between_ok || m.first >= o.first {
                    return Some(Agent {
                        sides: 1 << side,
                        mention: Some(*m),
                        by: AgentBy::Owner,
                    });
                }
            }
        }
        let after = o.last + 1;
        // "a moratorium on Russian strikes": the owner of what the head noun halts.
        if after + 2 < s.end && matches!(s.word(after), "on" | "of" | "in" | "to") {
            let owner_of_complement = s.ms.iter().chain(s.t.masked.iter()).find(|m| {
                matches!(m.tag, Tag::Actor(_))
                    && (after + 1..=after + 2).contains(&m.first)
                    && s.ms
                        .iter()
                        .any(|n| n.first == m.last + 1 && matches!(n.tag, Tag::Object(_)))
            });
            if let Some(m) = owner_of_complement
                && let Tag::Actor(side) = m.tag
            {
                return Some(Agent {
                    sides: 1 << side,
                    mention: Some(*m),
                    by: AgentBy::Owner,
                });
            }
        }
        // "The energy truce, first ordered by Putin in March, ...": a reduced relative
        // clause names who made it.
        // "The truce, which Putin declared on Saturday, ...": the relative clause's subject,
        // found as its verb's ("which Foreign Minister Sergei Lavrov agreed to").
        if s.sep(o.last) == Sep::Comma
            && after + 2 < s.end
            && self.lang.relative_pronoun(s.word(after))
        {
            let verb = s.ms.iter().find(|m| {
                matches!(m.tag, Tag::Pred(_, f) if f != Form::Noun && f != Form::Judgement)
                    && m.first > after + 1
                    && m.first <= after + 7
            });
            let subject = verb
                .and_then(|v| self.subject_of(s, *v))
                .filter(|a| a.sides != 0 && a.mention.is_some_and(|m| m.first > after))
                .or_else(|| {
                    let (sides, m, _) = (after + 1..(after + 5).min(s.end)).find_map(|u| {
                        self.actor_group_ending(s, u).filter(|&(_, m, first)| {
                            (first == after + 1
                                || first == after + 2 && s.has_start(after + 1, G::Det))
                                && !s.possessive(m.last)
                        })
                    })?;
                    Some(Agent {
                        sides,
                        mention: Some(m),
                        by: AgentBy::Owner,
                    })
                });
            if let Some(a) = subject {
                return Some(Agent {
                    by: AgentBy::Owner,
                    ..a
                });
            }
        }
        if s.sep(o.last) == Sep::Comma {
            let by = (after..(after + 3).min(s.end)).find(|&u| s.word(u) == "by");
            if let Some(by) = by
                && by > after
                && self.lang.participle_looking(s.word(by - 1))
                && let Some(m) = s.ms.iter().chain(s.t.masked.iter()).find(|m| {
                    // "by Putin", "by the Kremlin", "by Foreign Minister Sergei Lavrov".
                    matches!(m.tag, Tag::Actor(_))
                        && m.first > by
                        && m.first <= by + 3
                        && (by + 1..m.first).all(|u| {
                            s.has_start(u, G::Det)
                                || s.has_end(u, G::Role)
                                || self.lang.person_title(s.word(u))
                                || !s.ms.iter().any(|n| n.first <= u && n.last >= u)
                        })
                })
                && let Tag::Actor(side) = m.tag
            {
                return Some(Agent {
                    sides: 1 << side,
                    mention: Some(*m),
                    by: AgentBy::Owner,
                });
            }
        }
        if after + 1 < s.end && s.word(after) == "from" {
            for u in after + 1..(after + 4).min(s.end) {
                if let Some(m) =
                    s.ms.iter()
                        .find(|m| m.first == u && matches!(m.tag, Tag::Actor(_)))
                    && let Tag::Actor(side) = m.tag
                {
                    return Some(Agent {
                        sides: 1 << side,
                        mention: Some(*m),
                        by: AgentBy::Owner,
                    });
                }
                if !s.has_start(u, G::Det) {
                    break;
                }
            }
        }
        None
    }

    /// The sentence's speaker: an actor next to a speech verb ("..., Peskov said",
    /// "said Lavrov", "according to the Kremlin"), or one opening a headline before a colon
    /// ("Peskov: ..."), or the actor opening the sentence.
    pub(super) fn speaker(&self, s: &Sent<'_>, p: M) -> Option<Agent> {
        let subject_capable = |m: &M| {
            matches!(m.tag, Tag::Actor(_))
                && (m.first == s.first
                    || !s.has_end(m.first - 1, G::Prep)
                    // "The truce is over, Moscow says": a comma ends the preposition's reach.
                    || s.sep(m.first - 1) == Sep::Comma
                    || s.word(m.first - 1) == "to"
                        && m.first >= 2
                        && s.word(m.first - 2) == "according")
        };
        let mut best: Option<(u32, M)> = None;
        for t in s.first..s.end {
            if !s.has_start(t, G::Speech) {
                continue;
            }
            let speech = s.gram_starting(t, G::Speech).unwrap_or(M {
                tag: Tag::Gram(G::Speech),
                first: t,
                last: t,
            });
            // "..., summit with Vladimir Putin, saying ...": the actor before a participle
            // clause is no speaker of it (the sentence's subject is).
            let participle = speech.first > s.first
                && s.sep(speech.first - 1) == Sep::Comma
                && s.word(speech.first).ends_with("ing");
            for a in s.ms.iter().filter(|m| subject_capable(m)) {
                if participle && a.last < speech.first {
                    continue;
                }
                let distance = if a.last < speech.first {
                    // "Russia's defence ministry said": a role noun of the actor's ends right
                    // before the verb, so the actor heads its subject.
                    let gap = speech.first - a.last - 1;
                    let role_subject = (1..=3).contains(&gap)
                        && s.has_end(speech.first - 1, G::Role)
                        && (a.last..speech.first - 1).all(|u| s.sep(u) == Sep::Space);
                    if role_subject { 0 } else { gap }
                } else if a.first > speech.last {
                    a.first - speech.last - 1
                } else {
                    continue;
                };
                let limit = 3;
                // At one distance, the actor before the verb ("Zelensky said the Kremlin
                // would ...": the one after it opens what was said), then the longer one.
                let before = |m: &M| m.last < speech.first;
                if distance <= limit
                    && best.is_none_or(|(d, b)| {
                        distance < d
                            || distance == d
                                && (before(a) && !before(&b)
                                    || before(a) == before(&b)
                                        && a.last - a.first > b.last - b.first)
                    })
                {
                    best = Some((distance, *a));
                }
            }
        }
        if let Some((_, a)) = best {
            let (sides, m, _) = self
                .actor_group_ending(s, a.last)
                .unwrap_or((0, a, a.first));
            return Some(Agent {
                sides,
                mention: Some(m),
                by: AgentBy::Speaker,
            });
        }
        self.colon_speaker(s, p)
            .or_else(|| self.trailing_attribution(s))
            .or_else(|| self.participle_speaker(s, p))
    }

    /// A headline that names its source at the end, after a colon or a dash: "Energy
    /// strike moratorium is over - Kremlin", "No truce before Easter: Peskov".
    fn trailing_attribution(&self, s: &Sent<'_>) -> Option<Agent> {
        if s.field != Field::Title || s.end < s.first + 3 {
            return None;
        }
        let (sides, m, first) = self.actor_group_ending(s, s.end - 1)?;
        (first > s.first && matches!(s.sep(first - 1), Sep::Colon | Sep::Dash)).then_some(Agent {
            sides,
            mention: Some(m),
            by: AgentBy::Speaker,
        })
    }

    /// The subject of a sentence whose speech follows as a participle clause: "The Kremlin
    /// brushed off the threat, saying that ...", "Moscow replied, adding ...".
    fn participle_speaker(&self, s: &Sent<'_>, p: M) -> Option<Agent> {
        let speech = (s.first + 1..p.first.min(s.end)).find(|&t| {
            s.has_start(t, G::Speech) && s.sep(t - 1) == Sep::Comma && s.word(t).ends_with("ing")
        })?;
        // The actor that opens the sentence, after at most a determiner.
        let opening =
            s.ms.iter()
                .find(|m| matches!(m.tag, Tag::Actor(_)) && m.first < speech)?;
        if !(s.first..opening.first).all(|u| s.has_start(u, G::Det)) {
            return None;
        }
        let (sides, m, _) = self.actor_group_ending(s, opening.last)?;
        if s.possessive(m.last) {
            return None;
        }
        Some(Agent {
            sides,
            mention: Some(m),
            by: AgentBy::Speaker,
        })
    }

    /// The one who speaks before a colon: "Peskov: no truce before ...", "Putin after call
    /// with Trump: ceasefire possible ...", "the Kremlin responds: 'It is unacceptable'".
    /// The actor nearest the colon that no preposition governs.
    pub(super) fn colon_speaker(&self, s: &Sent<'_>, p: M) -> Option<Agent> {
        let colon = (s.first..p.first.min(s.end))
            .rev()
            .find(|&t| s.sep(t) == Sep::Colon)?;
        let segment_first = (s.first..colon)
            .rev()
            .find(|&t| s.sep(t) == Sep::Colon)
            .map_or(s.first, |c| c + 1);
        let mut t = colon + 1;
        while t > segment_first {
            t -= 1;
            if let Some((sides, m, first)) = self.actor_group_ending(s, t) {
                let governed = first > s.first
                    && (s.has_end(first - 1, G::Prep) || s.has_end(first - 1, G::By));
                if governed || s.possessive(m.last) {
                    t = first;
                    continue;
                }
                return Some(Agent {
                    sides,
                    mention: Some(m),
                    by: AgentBy::Speaker,
                });
            }
        }
        None
    }
}
