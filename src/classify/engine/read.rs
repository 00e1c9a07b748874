//! Step 3: readings. Each predicate of a sentence read by its construction (active, passive, noun, judgement, attributive use).

use super::*;

impl Classifier {
    /// Reads every predicate of a sentence.
    pub(super) fn read_sentence(&self, s: &Sent<'_>, si: usize, out: &mut Vec<Reading>) {
        let preds: Vec<M> =
            s.ms.iter()
                .filter(|m| matches!(m.tag, Tag::Pred(..)))
                .copied()
                .collect();
        for (i, p) in preds.iter().enumerate() {
            let Tag::Pred(stance, form) = p.tag else {
                continue;
            };
            // A shorter predicate inside a longer one of the same stance is the same word
            // ("agree" inside "agree to").
            // ("agree" inside "agree to"), and so is one inside a longer phrase of another
            // stance ("ready for" inside "not ready for").
            if preds.iter().enumerate().any(|(j, q)| {
                j != i
                    && q.first <= p.first
                    && q.last >= p.last
                    && q.last - q.first > p.last - p.first
            }) {
                continue;
            }
            // "pause" is both a verb and a noun: after a determiner only the noun is read.
            if form != Form::Noun
                && self.noun_use(s, *p)
                && preds.iter().any(|q| {
                    q.first == p.first
                        && q.last == p.last
                        && matches!(q.tag, Tag::Pred(st, Form::Noun) if st == stance)
                })
            {
                continue;
            }
            if let Some(r) = self.read(s, si, *p, stance, form) {
                out.push(r);
            }
        }
    }

    /// A word a determiner or a possessive stands before is a noun: "its pause", "the
    /// halting of aid", "Russia's refusal".
    pub(super) fn noun_use(&self, s: &Sent<'_>, p: M) -> bool {
        if p.first <= s.first {
            return false;
        }
        let prev = p.first - 1;
        let Tag::Pred(_, form) = p.tag else {
            return false;
        };
        // "amid calls for a ceasefire", "over offers of a truce": after a preposition.
        if matches!(form, Form::Present | Form::Base)
            && s.has_end(prev, G::Prep)
            && !matches!(s.word(prev), "to" | "as")
            && !s
                .ms
                .iter()
                .any(|m| m.last == prev && matches!(m.tag, Tag::Pred(..)))
        {
            return true;
        }
        // After a determiner or any possessive: "the ministry's ban", "Moscow's halt".
        if s.has_end(prev, G::Det) || s.possessive(prev) {
            return true;
        }
        // "a thirty-day halt", "the 72-hour pause", "a month-long freeze": after a duration.
        if matches!(form, Form::Present | Form::Base)
            && matches!(
                s.word(prev),
                "day" | "days" | "hour" | "week" | "month" | "long" | "year"
            )
            && prev > s.first
            && (s.is_number(prev - 1) || s.sep(prev - 1) == Sep::Hyphen)
        {
            return true;
        }
        // "Russian demands", "American calls for": a people's adjective.
        if matches!(form, Form::Present | Form::Base)
            && self.lang.demonym_adjective(s.word(prev))
            && s.sep(prev) == Sep::Space
        {
            return true;
        }
        // "dismisses Western calls for", "rejects US offers of": a plural-looking form one or
        // two words after a finite verb, with no clause between, heads that verb's object.
        if !matches!(form, Form::Present | Form::Base) {
            return false;
        }
        let lo = p.first.saturating_sub(3).max(s.first);
        s.ms.iter().any(|v| {
            matches!(v.tag, Tag::Pred(_, f) if matches!(f, Form::Present | Form::Past | Form::PastOrParticiple))
                && v.last >= lo
                && v.last < p.first
                && s.word(v.last) != "to"
                && (v.last..p.first).all(|u| matches!(s.sep(u), Sep::Space | Sep::Hyphen))
                && (v.last + 1..p.first).all(|u| {
                    !s.has_start(u, G::Coord)
                        && !s.has_start(u, G::Comp)
                        && !s.has_start(u, G::Modal)
                        && !s.has_start(u, G::Neg)
                        && !s.has_start(u, G::Prep)
                        // "confirms Russia will observe": an auxiliary opens a verb group.
                        && !s.has_start(u, G::Future)
                        && !s.has_start(u, G::Be)
                        && !s.has_start(u, G::Have)
                        && !s.has_start(u, G::Do)
                })
        })
    }

    /// The verb predicate a noun predicate is the object of ("lifts its pause", "announced
    /// a halt"): the nearest verb-form predicate before it, with only its determiner,
    /// possessive or adjuncts between.
    pub(super) fn governing_verb(&self, s: &Sent<'_>, p: M) -> Option<M> {
        let lo = p.first.saturating_sub(5).max(s.first);
        let mut t = p.first;
        while t > lo {
            t -= 1;
            if let Some(v) = s.ms.iter().find(|m| {
                m.last == t
                    && matches!(m.tag, Tag::Pred(_, f) if f != Form::Noun && f != Form::Judgement)
                    && !self.noun_use(s, **m)
            }) {
                return Some(*v);
            }
            if let Some(m) = s.ms.iter().find(|m| {
                m.last == t && matches!(m.tag, Tag::Actor(_) | Tag::Object(_) | Tag::Scope(_))
            }) {
                t = m.first;
                continue;
            }
            // Determiners, numbers, and up to two adjectives: "dismisses Western calls for".
            let np = s.has_end(t, G::Det)
                || s.is_number(t)
                || s.sep(t) == Sep::Hyphen
                || p.first - t <= 2
                    && matches!(s.sep(t), Sep::Space)
                    && !s
                        .ms
                        .iter()
                        .any(|m| m.last == t && matches!(m.tag, Tag::Gram(_)));
            if !np {
                return None;
            }
        }
        None
    }

    /// Reads one predicate: construction, objects, agent, modality. A reading that is no
    /// asserted deed is still returned, blocked with the reason, for `explain`.
    pub(super) fn read(
        &self,
        s: &Sent<'_>,
        si: usize,
        p: M,
        stance: u8,
        form: Form,
    ) -> Option<Reading> {
        // After a determiner or a possessive, a verb form is used as a noun.
        let form = if form != Form::Noun && form != Form::Judgement && self.noun_use(s, p) {
            if form.participle() {
                return None;
            }
            Form::Noun
        } else {
            form
        };
        let blocked = |why: &'static str| Reading {
            pred: p,
            stance,
            construction: Construction::Active,
            objects: Vec::new(),
            agent: None,
            modality: Modality::Blocked(why),
            modal_word: None,
            conditioned: Cond::None,
            sentence: si,
        };
        if let Some(why) = self.not_a_predicate(s, p, form) {
            return Some(blocked(why));
        }
        let mut construction = self.construction_of(s, p, form);
        let mut objects = self.objects_of(s, p, construction);
        if objects.is_empty()
            && construction == Construction::Active
            && let Some((found, c)) = self.object_elsewhere(s, p, stance, form)
        {
            objects = found;
            construction = c;
        }
        if objects.is_empty()
            && let Some(o) = self
                .proposal_anaphor(s, p, construction)
                .or_else(|| self.conditions_anaphor(s, p, construction))
        {
            objects.push(o);
        }
        // "cease fire" / "halt fighting" read as one phrase: the object is inside it.
        if objects.is_empty() {
            return Some(Reading {
                objects,
                construction,
                ..blocked("object")
            });
        }
        let stance = self.turned_stance(s, p, stance, construction, &objects);
        let governor_subject = if construction == Construction::Noun {
            match self.noun_governed(s, p, &objects) {
                Ok(agent) => agent,
                Err(why) => {
                    return Some(Reading {
                        objects,
                        construction,
                        ..blocked(why)
                    });
                }
            }
        } else {
            None
        };
        // "Kyiv reacts to Washington halting deliveries": a gerund's own subject.
        let gerund = if construction == Construction::Active {
            self.gerund_subject(s, p, form)
        } else {
            None
        };
        let agent = match gerund {
            Some((a, _)) => Some(a),
            None => self.agent_of(s, p, construction, &objects, governor_subject),
        };
        // "The pause in shipments could be short-lived if Kyiv bends": a definite pause that
        // is the subject of a clause exists; the clause's condition is on what it predicates.
        // Only a pause is taken as given so: "Russia's acceptance of a truce would depend on
        // guarantees" and "the resumption of aid would follow a deal" are not.
        let conditioned = if construction == Construction::Noun
            && stance == self.st.pause
            && governor_subject.is_none()
            && self.definite_subject(s, p, &objects)
        {
            Cond::None
        } else {
            self.conditioned(s, p, &objects)
        };
        let (modality, modal_word) = match gerund {
            Some((_, false)) => (Modality::Blocked("background"), None),
            _ => self.modality(s, p, construction, agent, &objects),
        };
        let (modality, modal_word) =
            self.conditional_offer(s, p, agent, conditioned, (modality, modal_word));
        Some(Reading {
            pred: p,
            stance,
            construction,
            objects,
            agent,
            modality,
            modal_word,
            conditioned,
            sentence: si,
        })
    }

    /// Why a predicate phrase is no predicate here: a modifier, part of a compound noun,
    /// or a gerund that is a topic.
    fn not_a_predicate(&self, s: &Sent<'_>, p: M, form: Form) -> Option<&'static str> {
        // A participle joined to a word before it ("US-backed", "Kremlin-sponsored") or
        // standing before the noun it describes ("the proposed truce") is no predicate.
        if form.participle() || form == Form::Past {
            if p.first > s.first && s.sep(p.first - 1) == Sep::Hyphen {
                return Some("modifier");
            }
            if self.attributive(s, p) {
                return Some("modifier");
            }
        }
        // A verb joined to the next word is part of a compound noun: "Cease-fire Talks".
        if form != Form::Noun && form != Form::Judgement && s.sep(p.last) == Sep::Hyphen {
            return Some("compound");
        }
        // A gerund after a preposition is a topic, not a deed ("after halting", "over
        // agreeing").
        if form == Form::Gerund && p.first > s.first {
            let prev = p.first - 1;
            // "thanks the US for unblocking aid", "blames Washington for halting it": the
            // deed is taken as done, by the one named.
            let credited = s.word(prev) == "for"
                && prev > s.first
                && self.actor_group_ending(s, prev - 1).is_some();
            if !credited
                && (s.has_end(prev, G::Prep) && s.word(prev) != "by"
                    || s.has_end(prev, G::Background))
            {
                return Some("background");
            }
        }
        None
    }

    fn construction_of(&self, s: &Sent<'_>, p: M, form: Form) -> Construction {
        if form == Form::Judgement {
            Construction::Judgement
        } else if form == Form::Noun {
            Construction::Noun
        } else if form.participle() && (self.passive_aux(s, p) || self.headline_passive(s, p)) {
            Construction::Passive
        } else {
            Construction::Active
        }
    }

    /// The word before a verb at `first`, past the adverbs of its verb group ("has quietly
    /// suspended": "has").
    pub(super) fn word_before_verb(&self, s: &Sent<'_>, first: u32) -> Option<u32> {
        let mut t = first;
        while t > s.first && self.lang.verb_group_adverb(s.word(t - 1)) {
            t -= 1;
        }
        (t > s.first).then(|| t - 1)
    }

    /// The objects where the construction puts them.
    fn objects_of(&self, s: &Sent<'_>, p: M, construction: Construction) -> Vec<M> {
        match construction {
            Construction::Active => {
                let after = self.objects_after(s, p);
                if after.is_empty() {
                    // A verb that holds its object: "hold fire".
                    s.ms.iter()
                        .filter(|m| {
                            matches!(m.tag, Tag::Object(_)) && m.first > p.first && m.last == p.last
                        })
                        .copied()
                        .take(1)
                        .collect()
                } else {
                    after
                }
            }
            Construction::Passive => {
                // "Truce rejected", "the truce was rejected"; a headline may invert it
                // ("Rejected: the truce"), a passive with its auxiliary may not.
                let before = self.objects_before(s, p);
                // "an agreement has been reached on a cease-fire": a prepositional object.
                let prep_object = p.last + 1 < s.end
                    && matches!(s.word(p.last + 1), "on" | "upon" | "to" | "over");
                if before.is_empty() && (prep_object || !self.passive_aux(s, p)) {
                    self.objects_after(s, p)
                } else {
                    before
                }
            }
            Construction::Noun => self.noun_objects(s, p),
            Construction::Judgement => {
                // "not ready for a truce", "no to a truce": the object follows; "the truce is
                // premature", "sees the truce as a road to nowhere": it comes before.
                let after = self.objects_after(s, p);
                let opens_clause = matches!(
                    s.word(p.first),
                    "but"
                        | "not"
                        | "no"
                        | "will"
                        | "won't"
                        | "would"
                        | "does"
                        | "doesn't"
                        | "do"
                        | "don't"
                        | "did"
                        | "there"
                        | "sees"
                        | "see"
                        | "against"
                ) || s.has_start(p.first, G::Neg);
                // "not ready for [a truce]", "there will be no [truce]": the phrase asks for
                // what follows; "the plan is not acceptable" judges what came before.
                let asks_after =
                    s.has_end(p.last, G::Prep) || matches!(s.word(p.last), "no" | "any");
                if !after.is_empty() || opens_clause && asks_after {
                    after
                } else {
                    self.objects_before_in_clause(s, p, 14)
                }
            }
            Construction::ObjectSubject => Vec::new(),
        }
    }

    /// An active verb with no object after it: the object may be its subject, or stand
    /// before a relative clause.
    fn object_elsewhere(
        &self,
        s: &Sent<'_>,
        p: M,
        stance: u8,
        form: Form,
    ) -> Option<(Vec<M>, Construction)> {
        // An intransitive use: the object is the subject ("Arms deliveries resume", "US aid
        // to Ukraine halted", "the truce takes effect", "the Easter truce expires").
        // "a peace agreement would end the war": a determiner after the verb opens its own
        // object, so the object before it is no subject of an intransitive use.
        let transitive =
            p.last + 1 < s.end && s.sep(p.last) == Sep::Space && s.has_start(p.last + 1, G::Det);
        // "has come to an end": a participle after "have" is a perfect.
        let perfect = form == Form::Participle
            && self
                .word_before_verb(s, p.first)
                .is_some_and(|t| s.has_end(t, G::Have));
        if stance != self.st.condition && (form.finite() || perfect) && !transitive {
            let before = self.objects_before(s, p);
            // A base form agrees with a plural subject only: "arms deliveries resume", but
            // "the intelligence-sharing pause" is a noun.
            let after_aux = p.first > s.first
                && [G::Future, G::Modal, G::Do, G::Neg]
                    .into_iter()
                    .any(|g| s.has_end(p.first - 1, g));
            let agrees = form != Form::Base
                || after_aux
                || before
                    .last()
                    .is_some_and(|o| self.lang.plural_looking(s.word(o.last)));
            // "Putin's order not to hit energy targets has expired": a possessive's noun
            // phrase holds the object, and the whole phrase is the subject.
            let subject_free = match self.subject_of(s, p).and_then(|a| a.mention) {
                None => true,
                Some(a) => before.first().is_some_and(|o| {
                    a.last < o.first
                        && s.possessive(a.last)
                        && !s.ms.iter().any(|m| {
                            matches!(m.tag, Tag::Pred(_, f) if f != Form::Noun)
                                && m.first > a.last
                                && m.last < o.first
                                && !self.noun_use(s, *m)
                        })
                }),
            };
            if !before.is_empty() && agrees && subject_free {
                return Some((before, Construction::ObjectSubject));
            }
        }
        // A relative clause: "the 30-day cease-fire that Russia has rebuffed".
        if let Some(a) = self.subject_of(s, p).and_then(|a| a.mention) {
            let first = self
                .actor_group_ending(s, a.last)
                .map_or(a.first, |(_, _, f)| f);
            if first > s.first + 1
                && matches!(s.word(first - 1), "that" | "which")
                && let Some(o) =
                    s.ms.iter()
                        .filter(|m| m.last + 2 == first && matches!(m.tag, Tag::Object(_)))
                        .max_by_key(|m| m.last - m.first)
            {
                return Some((vec![*o], Construction::Active));
            }
        }
        None
    }

    /// Ending a pause is resuming: "US ends its pause on aid", "backs off hold on aid".
    fn turned_stance(
        &self,
        s: &Sent<'_>,
        p: M,
        stance: u8,
        construction: Construction,
        objects: &[M],
    ) -> u8 {
        // The pause as the subject that ends: "the pause in US aid has ended", "a ban on
        // Russian strikes has come to an end".
        if matches!(
            construction,
            Construction::ObjectSubject | Construction::Judgement
        ) && stance == self.st.reject
            && let Some(o) = objects.first()
            && o.last < p.first
            && self.pause_noun_heading(s, *o).is_some()
        {
            return self.st.resume;
        }
        if construction == Construction::Active
            && (stance == self.st.pause || stance == self.st.reject)
            && let Some(o) = objects.first()
            && o.first > p.last
            && s.ms.iter().any(|m| {
                m.first > p.last
                    && m.last < o.first
                    && matches!(m.tag, Tag::Pred(st, Form::Noun) if st == self.st.pause)
            })
        {
            return self.st.resume;
        }
        // "announced its rejection of the truce", "confirmed the resumption of aid": a verb
        // of stating carries the stance of the noun it states.
        if construction == Construction::Active
            && stance == self.st.accept
            && let Some(o) = objects.first()
            && o.first > p.last
            && let Some(noun_stance) = s.ms.iter().find_map(|m| match m.tag {
                // A noun in a noun phrase of its own ("its rejection", "a halt"), not a verb
                // after "to" ("ordered its forces to hold a truce").
                Tag::Pred(st, Form::Noun)
                    if m.first > p.last
                        && m.last < o.first
                        && st != self.st.accept
                        && (p.last + 1..m.first)
                            .any(|u| s.has_end(u, G::Det) || s.possessive(u))
                        && s.word(m.first - 1) != "to" =>
                {
                    Some(st)
                }
                _ => None,
            })
        {
            return noun_stance;
        }
        stance
    }

    /// The pause noun whose complement an object is: "the pause in [US aid]", "a ban on
    /// [Russian strikes]", "the halt of [deliveries]".
    fn pause_noun_heading(&self, s: &Sent<'_>, o: M) -> Option<M> {
        s.ms.iter().copied().find(|m| {
            matches!(m.tag, Tag::Pred(st, Form::Noun) if st == self.st.pause)
                && m.last < o.first
                && o.first - m.last <= 6
                && (m.last..o.first).all(|u| matches!(s.sep(u), Sep::Space | Sep::Hyphen))
                && (m.last + 1..o.first).all(|u| {
                    s.has_start(u, G::Prep)
                        || s.has_start(u, G::Det)
                        || s.possessive(u)
                        || s.ms.iter().chain(s.t.masked.iter()).any(|a| {
                            a.first <= u
                                && a.last >= u
                                && matches!(a.tag, Tag::Actor(_) | Tag::Scope(_) | Tag::Object(_))
                        })
                        // An untagged modifier: "artillery shell shipments".
                        || !s.ms.iter().chain(s.t.masked.iter()).any(|a| a.first <= u && a.last >= u)
                })
        })
    }

    /// Where the noun phrase of an object begins: over a pause noun it is the complement
    /// of, determiners, possessives, actors and numbers ("the hold on American [weapons]").
    pub(super) fn np_start(&self, s: &Sent<'_>, o: M) -> u32 {
        let mut t = self.pause_noun_heading(s, o).map_or(o.first, |n| n.first);
        while t > s.first {
            let u = t - 1;
            let actor_first =
                s.ms.iter()
                    .chain(s.t.masked.iter())
                    .filter(|a| a.last == u && matches!(a.tag, Tag::Actor(_) | Tag::Scope(_)))
                    .map(|a| a.first)
                    .min();
            let inside = actor_first.is_some()
                || s.has_end(u, G::Det)
                || s.possessive(u)
                || self.lang.person_title(s.word(u))
                || s.has_end(u, G::Role)
                // "Foreign Minister", "Defense Secretary", "Secretary of State".
                || self.lang.title_modifier(s.word(u))
                    && (self.lang.person_title(s.word(u + 1))
                        || self.lang.title_modifier(s.word(u + 1))
                        || s.has_start(u + 1, G::Role)
                        || u >= s.first + 2
                            && s.word(u - 1) == "of"
                            && self.lang.person_title(s.word(u - 2)))
                || s.word(u) == "of" && u > s.first && self.lang.person_title(s.word(u - 1))
                || s.is_number(u)
                || s.sep(u) == Sep::Hyphen;
            if !inside {
                break;
            }
            t = actor_first.unwrap_or(u);
        }
        t
    }

    /// Who ends a pause that is a predicate's subject: the pause's own agent ("Moscow's
    /// ban on strikes has lapsed"), else the owner of what it halted ("the pause in US
    /// aid is over").
    fn ended_pause_agent(&self, s: &Sent<'_>, p: M, objects: &[M]) -> Option<Agent> {
        let o = objects.first()?;
        if o.last >= p.first {
            return None;
        }
        let n = self.pause_noun_heading(s, *o)?;
        self.noun_agent(s, n).or_else(|| self.owner(s, objects))
    }

    /// Whether a pause noun is the subject of a later predicate that ends it: "the pause
    /// in aid has ended" reports the end, not the pause.
    fn pause_subject_ended(&self, s: &Sent<'_>, p: M, objects: &[M]) -> bool {
        let Some(o) = objects.first() else {
            return false;
        };
        s.ms.iter().any(|r| {
            matches!(r.tag, Tag::Pred(st, f) if st == self.st.reject && f != Form::Noun)
                && r.first > o.last
                && r.first - o.last <= 16
                && self
                    .objects_before_in_clause(s, *r, 6)
                    .iter()
                    .any(|b| self.pause_noun_heading(s, *b) == Some(p))
        })
    }

    /// A gerund with a subject of its own, the actor right before it: "clarity on U.S.
    /// halting aid", "Kyiv reacts to Washington halting deliveries", "fears of Moscow
    /// rejecting the truce". The actor is its agent. The deed is taken as done only where
    /// what governs the clause presupposes it (a reaction to it, thanks or blame for it);
    /// under a fear, a hope or talks it is a topic. `None` where the actor opens the
    /// sentence or a clause (an ordinary subject) or a speech verb reports it ("says
    /// Pentagon halting shipments").
    fn gerund_subject(&self, s: &Sent<'_>, p: M, form: Form) -> Option<(Agent, bool)> {
        if form != Form::Gerund || p.first <= s.first {
            return None;
        }
        let (sides, m, group_first) = self.actor_group_ending(s, p.first - 1)?;
        if s.possessive(m.last) || group_first <= s.first {
            return None;
        }
        // What governs the clause, over a determiner and a title before the actor: "fears
        // the US halting aid", "fears Secretary of State Marco Rubio halting aid", "clarity
        // on U.S. halting aid".
        let mut u = group_first;
        let done = loop {
            if u <= s.first || group_first - u >= 6 {
                return None;
            }
            u -= 1;
            if s.sep(u) != Sep::Space
                || s.has_end(u, G::Speech)
                || s.ms.iter().any(|m| {
                    m.last == u && matches!(m.tag, Tag::Pred(..) | Tag::Actor(_) | Tag::Object(_))
                })
            {
                return None;
            }
            let word = s.word(u);
            if self.lang.nonfactive_governor(word) {
                break false;
            }
            // "of" inside a title ("Secretary of State") governs nothing.
            let governs = s.has_end(u, G::Prep)
                && (word != "of" || u + 1 == group_first || s.has_end(u + 1, G::Det));
            if governs {
                if word == "by" {
                    return None;
                }
                break word == "for" || u > s.first && self.lang.factive_governor(s.word(u - 1));
            }
        };
        let agent = Agent {
            sides,
            mention: Some(M {
                first: group_first,
                ..m
            }),
            by: AgentBy::Subject,
        };
        Some((agent, done))
    }

    /// Whether a noun predicate heads a definite noun phrase ("the halt in deliveries",
    /// "Washington's pause on aid") that a verb group follows as its predicate ("... could
    /// end", "... is a warning").
    fn definite_subject(&self, s: &Sent<'_>, p: M, objects: &[M]) -> bool {
        let definite = (1..=2).any(|back| {
            p.first >= s.first + back && {
                let t = p.first - back;
                matches!(s.word(t), "the" | "this" | "its" | "their") || s.possessive(t)
            }
        });
        if !definite {
            return false;
        }
        // The verb group follows the noun phrase within a few words ("the halt in artillery
        // deliveries could ..."), with no comma or other predicate between.
        let np_end = np_end(p, objects);
        let verb_group = |t: u32| {
            [G::Be, G::Have, G::Modal, G::Future]
                .into_iter()
                .any(|g| s.has_start(t, g))
        };
        let Some(after) = (np_end + 1..(np_end + 8).min(s.end)).find(|&t| verb_group(t)) else {
            return false;
        };
        (np_end..after).all(|t| s.sep(t) == Sep::Space)
            && !s
                .ms
                .iter()
                .any(|m| matches!(m.tag, Tag::Pred(..)) && m.first > np_end && m.first < after)
    }

    /// A noun predicate governed by another predicate: the object of a verb (asserted with
    /// the verb's subject when the verb accepts it, otherwise not read), or the subject of
    /// a passive. `Ok` carries the governing verb's agent, if any.
    fn noun_governed(
        &self,
        s: &Sent<'_>,
        p: M,
        objects: &[M],
    ) -> Result<Option<Agent>, &'static str> {
        // A noun that is the object of a verb predicate: announced, ordered, declared, it is
        // asserted with the verb's subject; lifted, rejected, ended, it is not.
        let mut governor_subject: Option<Agent> = None;
        if let Some(v) = self.governing_verb(s, p) {
            let Tag::Pred(vs, _) = v.tag else {
                unreachable!()
            };
            if vs == self.st.accept {
                // "Polish minister confirms resumption of U.S. arms deliveries": the noun's
                // own agent first; "Putin announced a halt to strikes": the verb's subject.
                governor_subject = self
                    .noun_agent(s, p)
                    .or_else(|| self.owner(s, objects))
                    .or_else(|| self.subject_of(s, v))
                    .or_else(|| self.speaker(s, v));
            } else {
                return Err("object of another predicate");
            }
        }
        if governor_subject.is_none() && self.pause_subject_ended(s, p, objects) {
            return Err("subject of another predicate");
        }
        // A noun that is the subject of another predicate's passive: "Russia's proposal for
        // a ceasefire was rejected by Kyiv".
        if governor_subject.is_none() {
            let np_end = np_end(p, objects);
            let passive_follows = s.ms.iter().any(|m| {
                matches!(m.tag, Tag::Pred(_, f) if f.participle())
                    && m.first > np_end
                    && m.first - np_end <= 4
                    && (np_end + 1..m.first).all(|u| {
                        [G::Be, G::Have, G::Modal, G::Future, G::Neg]
                            .into_iter()
                            .any(|g| s.has_start(u, g))
                            || s.ms.iter().any(|a| {
                                a.first <= u
                                    && a.last >= u
                                    && matches!(
                                        a.tag,
                                        Tag::Gram(G::Be | G::Have | G::Modal | G::Future | G::Neg)
                                    )
                            })
                    })
                    && self.passive_aux(s, *m)
            });
            if passive_follows {
                return Err("subject of another predicate");
            }
        }
        Ok(governor_subject)
    }

    /// The agent, found where the construction puts it.
    fn agent_of(
        &self,
        s: &Sent<'_>,
        p: M,
        construction: Construction,
        objects: &[M],
        governor_subject: Option<Agent>,
    ) -> Option<Agent> {
        match construction {
            Construction::Noun if governor_subject.is_some() => governor_subject,
            Construction::Active => {
                let subject = self.subject_of(s, p);
                // "Ukraine regains access to US satellite imagery": the subject receives the
                // flow, and its owner restores it.
                let receiver = subject.is_none_or(|a| self.recipient_alone(a.sides));
                if s.has_start(p.first, G::Receiving)
                    && receiver
                    && let Some(owner) = self.owner(s, objects)
                {
                    return Some(owner);
                }
                subject.or_else(|| self.speaker(s, p))
            }
            Construction::Passive => self
                .by_agent(s, p.last)
                .or_else(|| self.owner(s, objects))
                .or_else(|| self.speaker(s, p)),
            Construction::Noun => self
                .noun_agent(s, p)
                .or_else(|| {
                    self.by_agent(s, objects.iter().map(|o| o.last).max().unwrap_or(p.last))
                })
                .or_else(|| self.owner(s, objects))
                .or_else(|| self.speaker(s, p)),
            Construction::ObjectSubject => self
                .ended_pause_agent(s, p, objects)
                .or_else(|| self.owner(s, objects))
                .or_else(|| self.speaker(s, p)),
            Construction::Judgement => {
                let o = objects[0];
                // "the EU calls for a truce and the Kremlin responds: 'It is unacceptable'".
                let colon_between =
                    o.last < p.first && (o.last..p.first).any(|t| s.sep(t) == Sep::Colon);
                let by_colon = if colon_between {
                    self.colon_speaker(s, p)
                } else {
                    None
                };
                // "the pause in US aid is over": the end of a flow's pause is its owner's.
                let ended_pause = self.ended_pause_agent(s, p, objects);
                by_colon
                    .or(ended_pause)
                    .or_else(|| {
                        self.subject_of(
                            s,
                            M {
                                first: o.first.min(p.first),
                                ..p
                            },
                        )
                    })
                    .or_else(|| self.speaker(s, p))
            }
        }
    }

    /// A conditional offer in the agent's own words is open, not blocked by its modal:
    /// "Putin says Russia would cease fire if Kyiv withdraws", "could pause strikes if
    /// Ukraine holds an election".
    fn conditional_offer(
        &self,
        s: &Sent<'_>,
        p: M,
        agent: Option<Agent>,
        conditioned: Cond,
        (modality, modal_word): (Modality, Option<M>),
    ) -> (Modality, Option<M>) {
        if modality == Modality::Blocked("modal")
            && conditioned == Cond::Strong
            && modal_word
                .is_some_and(|m| matches!(s.word(m.first), "would" | "could" | "can" | "will"))
        {
            let speaker = self.speaker(s, p);
            let own_words = match (agent, speaker) {
                (Some(a), Some(sp)) => a.sides & sp.sides != 0,
                (Some(a), None) => a.by == AgentBy::Speaker || s.field == Field::Title,
                _ => false,
            };
            if own_words {
                return (Modality::Open, None);
            }
        }
        (modality, modal_word)
    }

    /// A participle before the noun it describes: "the proposed truce", "discuss proposed
    /// Ukraine truce", "a declared ceasefire". Not after an actor, a pronoun or an auxiliary
    /// ("Putin proposed truce", "has declared a truce").
    pub(super) fn attributive(&self, s: &Sent<'_>, p: M) -> bool {
        let next_noun = (p.last + 1..(p.last + 4).min(s.end)).find(|&t| {
            s.ms.iter().any(|m| {
                m.first == t && (matches!(m.tag, Tag::Object(_)) || m.tag == Tag::Gram(G::Proposal))
            })
        });
        let Some(noun) = next_noun else { return false };
        // Only words that can sit inside a noun phrase between them: numbers, actors used
        // as adjuncts ("Ukraine truce"), scope words, other untagged words.
        let inside_np = (p.last + 1..noun).all(|t| {
            !s.ms.iter().any(|m| {
                m.first == t
                    && matches!(
                        m.tag,
                        Tag::Pred(..)
                            | Tag::Gram(
                                G::Det | G::Prep | G::Be | G::Have | G::Comp | G::Break | G::Coord
                            )
                    )
            }) && s.sep(t - 1) != Sep::Comma
        });
        if !inside_np {
            return false;
        }
        // "has completely rejected proposals": an adverb stays inside the verb group.
        let mut prev = p.first;
        loop {
            if prev == s.first {
                return true;
            }
            prev -= 1;
            if !self.lang.verb_group_adverb(s.word(prev)) || s.ms.iter().any(|m| m.last == prev) {
                break;
            }
        }
        // "Russia's defence ministry agreed not to strike": a subject noun before it.
        let verbal_before = s.has_end(prev, G::Be)
            || s.has_end(prev, G::Role)
            || s.has_end(prev, G::Have)
            || s.has_end(prev, G::Modal)
            || s.has_end(prev, G::Future)
            || s.has_end(prev, G::Neg)
            || s.has_end(prev, G::Pronoun)
            || s.has_end(prev, G::Do)
            || s.ms
                .iter()
                .any(|m| m.last == prev && matches!(m.tag, Tag::Actor(_)) && !s.possessive(m.last))
            || s.sep(prev) == Sep::Colon
            || self.parenthetical_after_subject(s, prev);
        !verbal_before
    }

    /// Whether a clause between commas ([`Self::parenthetical_closing`]) closes at `close`,
    /// after an actor: "Washington, which had promised more air defence, halted ...".
    pub(super) fn parenthetical_after_subject(&self, s: &Sent<'_>, close: u32) -> bool {
        // The actor may own the last word: "Russia's defence ministry, in no hurry ...,".
        self.parenthetical_closing(s, close).is_some_and(|open| {
            (open.saturating_sub(2).max(s.first)..=open)
                .any(|u| self.actor_group_ending(s, u).is_some())
        })
    }

    /// The last word before a relative, participle or prepositional clause set off by
    /// commas that closes at `close` ("the truce, first ordered by Putin in March,",
    /// "Washington, which had promised more,", "The Pentagon, citing low stocks,").
    pub(super) fn parenthetical_closing(&self, s: &Sent<'_>, close: u32) -> Option<u32> {
        if s.sep(close) != Sep::Comma {
            return None;
        }
        let open = (close.saturating_sub(12).max(s.first)..close)
            .rev()
            .find(|&u| s.sep(u) == Sep::Comma)?;
        let head = (open + 1..=close).find(|&u| !self.lang.verb_group_adverb(s.word(u)))?;
        // A phrase a preposition opens is set off the same way: "Putin, in no hurry for a
        // truce, seeks concessions", "Moscow, after days of silence, rejected ...".
        (self.lang.clause_head(s.word(head)) || s.has_start(head, G::Prep)).then_some(open)
    }

    /// "was rejected", "has been halted", "will be resumed", "is being restored".
    pub(super) fn passive_aux(&self, s: &Sent<'_>, p: M) -> bool {
        let mut t = p.first;
        for _ in 0..4 {
            if t <= s.first {
                return false;
            }
            t -= 1;
            if s.has_end(t, G::Be) {
                return true;
            }
            let skippable = s.has_end(t, G::Neg)
                || s.has_end(t, G::NotYet)
                || self.lang.verb_group_adverb(s.word(t));
            if !skippable {
                return false;
            }
        }
        false
    }

    /// A participle without "be" read as passive: "Truce rejected by Moscow", "US aid to
    /// Ukraine halted" (the object before it, no subject of its own), "the truce declared by
    /// Putin" (a reduced relative clause: also passive, its assertion judged later).
    pub(super) fn headline_passive(&self, s: &Sent<'_>, p: M) -> bool {
        if self.by_agent(s, p.last).is_some() {
            return true;
        }
        // "shipments to Ukraine have resumed": a perfect, the object its subject.
        let mut t = p.first;
        while t > s.first {
            t -= 1;
            if s.has_end(t, G::Have) {
                return false;
            }
            if !(self.lang.verb_group_adverb(s.word(t)) || s.has_end(t, G::Neg)) {
                break;
            }
        }
        !self.objects_before(s, p).is_empty() && self.subject_of(s, p).is_none()
    }
}
