//! Step 3, continued: the objects of a predicate (after it, before it, of a noun), with coordination and noun-phrase heads.

use super::*;

/// Words that open a proposal's content ("the plan for a summit", "plans under which"): a
/// proposal followed by one is about what it names.
pub(super) const PROPOSAL_CONTENT: &[&str] = &[
    "for", "to", "of", "on", "over", "about", "that", "which", "calling", "by", "from", "with",
    "under", "whereby",
];

impl Classifier {
    /// Objects after a verb: the first object phrase in its clause within reach, through
    /// determiners, adjectives and a proposal head ("rejected Zelensky's proposal for a
    /// 30-day ceasefire"), and any objects coordinated with it.
    ///
    /// One scan to the right of the verb with its state (the noun phrase being crossed, a
    /// proposal head, coordination); the stop rules read that state.
    pub(super) fn objects_after(&self, s: &Sent<'_>, p: M) -> Vec<M> {
        let stance = match p.tag {
            Tag::Pred(st, _) => Some(st),
            _ => None,
        };
        let mut limit = (p.last + 12).min(s.end);
        let mut t = p.last + 1;
        let mut proposal = false;
        while t < limit {
            // A proposal's content may be long: "the proposal of the UN Secretary-General to
            // introduce a humanitarian ceasefire".
            if !proposal && s.has_start(t, G::Proposal) {
                proposal = true;
                limit = (t + 16).min(s.end);
            }
            // A claim is reported, not judged: "rejects claims that ...".
            if s.has_start(t, G::Claims) {
                return Vec::new();
            }
            if let Some(o) =
                s.ms.iter()
                    .filter(|m| m.first == t && matches!(m.tag, Tag::Object(_)))
                    .max_by_key(|m| m.last - m.first)
            {
                // "agrees to ceasefire talks": the talks are what is agreed to.
                if self.topic_of_compound(s, *o) {
                    return Vec::new();
                }
                // "declares an end to the truce": the end is what is declared, and the
                // noun is a reading of its own. (Lifting or ending a pause is read as a
                // resumption: `turned_stance`.)
                let ceasefire = matches!(o.tag, Tag::Object(f) if f == self.st.ceasefire);
                if stance == Some(self.st.accept)
                    && ceasefire
                    && s.ms.iter().any(|m| {
                        matches!(m.tag, Tag::Pred(st, Form::Noun) if st == self.st.pause)
                            && m.first > p.last
                            && m.last < o.first
                            // "ordered forces to hold a ceasefire": a verb after "to".
                            && s.word(m.first - 1) != "to"
                    })
                {
                    return Vec::new();
                }
                // "agreed on peace moves, not a ceasefire": the object is set aside.
                let mut b = t;
                while b > p.last + 1 && s.has_end(b - 1, G::Det) {
                    b -= 1;
                }
                let excluded = b > p.last + 1
                    && (s.word(b - 1) == "not"
                        || b > p.last + 2
                            && matches!(
                                (s.word(b - 2), s.word(b - 1)),
                                ("rather", "than") | ("instead", "of")
                            ));
                if excluded {
                    return Vec::new();
                }
                let mut out = self.with_coordinated(s, *o);
                // "military and intelligence aid": two modifiers share a head that is an
                // object of its own.
                let shared_head = t >= p.last + 3
                    && s.word(t - 1) == "and"
                    && !s.ms.iter().any(|m| {
                        m.last == t - 2 && matches!(m.tag, Tag::Object(_) | Tag::Actor(_))
                    });
                if shared_head
                    && s.sep(o.last) == Sep::Space
                    && let Some(head) =
                        s.ms.iter()
                            .filter(|m| m.first == o.last + 1 && matches!(m.tag, Tag::Object(_)))
                            .max_by_key(|m| m.last - m.first)
                {
                    out.push(*head);
                }
                return out;
            }
            // A new clause: a complementizer, a clause break, or another verb.
            if t > p.last + 1
                && (s.has_start(t, G::Comp)
                    || s.has_start(t, G::Break)
                    || s.sep(t - 1) == Sep::Semicolon)
            {
                break;
            }
            // What comes without, after or despite the deed is not its object ("summit ends
            // without a ceasefire", "talks end with no truce").
            // But a condition names what it is set before: "demands a withdrawal before any
            // truce".
            let condition =
                stance == Some(self.st.condition) && matches!(s.word(t), "before" | "until");
            if !(proposal || condition)
                && (matches!(
                    s.word(t),
                    "without" | "despite" | "amid" | "after" | "before" | "since" | "following"
                ) || s.word(t) == "with" && t + 1 < s.end && s.word(t + 1) == "no")
            {
                break;
            }
            // An object of talk belongs to the talk: "agree to continue negotiating a
            // ceasefire", "agree to discuss a truce".
            // Refusing to discuss one is rejecting it ("refused to consider the truce").
            let rejecting = stance == Some(self.st.reject);
            if t > p.last
                && !rejecting
                && s.has_start(t, G::Irrealis)
                && (s.word(t).ends_with("ing") || s.word(t - 1) == "to")
            {
                break;
            }
            // A proposal's content: "a proposal to declare a truce", "a resolution calling for
            // a ceasefire".
            let infinitive_in_proposal = proposal
                && (t > s.first && s.word(t - 1) == "to"
                    || s.ms
                        .iter()
                        .any(|m| m.first == t && matches!(m.tag, Tag::Pred(_, Form::Gerund))));
            if s.ms.iter().any(|m| {
                m.first == t
                    && matches!(m.tag, Tag::Pred(_, f) if f.finite() || f == Form::Gerund)
                    && !self.attributive(s, *m)
                    && !self.noun_use(s, *m)
            }) && t > p.last + 1
                && !infinitive_in_proposal
            {
                break;
            }
            // A subject of its own starts a clause: "suggests Ukraine would use ...".
            if s.ms
                .iter()
                .any(|m| m.first == t && matches!(m.tag, Tag::Actor(_)))
                && self.clause_follows(s, t)
            {
                break;
            }
            t += 1;
        }
        Vec::new()
    }

    /// Whether an object is the modifier of a compound headed by another noun ("ceasefire
    /// talks", "truce violations"): then it is that noun's topic, not a predicate's object.
    pub(super) fn topic_of_compound(&self, s: &Sent<'_>, o: M) -> bool {
        let next = o.last + 1;
        next < s.end
            && matches!(s.sep(o.last), Sep::Space | Sep::Hyphen)
            && s.has_start(next, G::TopicHead)
    }

    /// Whether an actor starting at `t` is followed by a verb group (a modal, an auxiliary,
    /// a speech verb): then it is the subject of a clause of its own.
    pub(super) fn clause_follows(&self, s: &Sent<'_>, t: u32) -> bool {
        let Some(a) =
            s.ms.iter()
                .filter(|m| m.first == t && matches!(m.tag, Tag::Actor(_)))
                .max_by_key(|m| m.last - m.first)
        else {
            return false;
        };
        let n = a.last + 1;
        n < s.end
            && (s.has_start(n, G::Modal)
                || s.has_start(n, G::Future)
                || s.has_start(n, G::Be)
                || s.has_start(n, G::Have)
                || s.has_start(n, G::Do)
                || s.has_start(n, G::Speech))
    }

    pub(super) fn with_coordinated(&self, s: &Sent<'_>, first: M) -> Vec<M> {
        let mut out = vec![first];
        let mut cur = first;
        loop {
            let mut t = cur.last + 1;
            if t >= s.end {
                break;
            }
            let comma = s.sep(cur.last) == Sep::Comma;
            if let Some(c) = s.gram_starting(t, G::Coord) {
                t = c.last + 1;
            } else if !comma {
                break;
            }
            while t < s.end && s.has_start(t, G::Det) {
                t += 1;
            }
            // "military aid", "US intelligence": an adjunct or adjective may come first.
            let next =
                s.ms.iter()
                    .filter(|m| matches!(m.tag, Tag::Object(_)) && m.first >= t && m.first <= t + 1)
                    .max_by_key(|m| m.last - m.first);
            match next {
                Some(n) => {
                    out.push(*n);
                    cur = *n;
                }
                None => break,
            }
        }
        out
    }

    /// "The Kremlin rejected the proposal", "dismissed the ultimatum", "calls the idea
    /// premature": a proposal named without its content refers to the last ceasefire or
    /// settlement the item named before it. The object is the proposal's words, with that
    /// one's family.
    pub(super) fn proposal_anaphor(
        &self,
        s: &Sent<'_>,
        p: M,
        construction: Construction,
    ) -> Option<M> {
        let is_proposal = |m: &&M| m.tag == Tag::Gram(G::Proposal);
        // Nothing but determiners, owners and modifiers between: "rejected Europe's latest
        // proposal", not "rejected talks on a proposal".
        let plain = |a: u32, b: u32| {
            (a..b).all(|u| {
                !s.has_start(u, G::Prep)
                    && !s.has_start(u, G::Break)
                    && !s.has_start(u, G::Comp)
                    && s.sep(u) != Sep::Semicolon
                    && !s
                        .ms
                        .iter()
                        .any(|m| m.first == u && matches!(m.tag, Tag::Object(_)))
            })
        };
        let proposal = match construction {
            Construction::Active | Construction::Noun => {
                let mut t = p.last + 1;
                if construction == Construction::Noun {
                    if t >= s.end || !matches!(s.word(t), "of" | "to") {
                        return None;
                    }
                    t += 1;
                }
                *s.ms
                    .iter()
                    .filter(is_proposal)
                    .find(|m| m.first >= t && m.first <= t + 3 && plain(t, m.first))?
            }
            Construction::Passive | Construction::Judgement => {
                *s.ms.iter().filter(is_proposal).rev().find(|m| {
                    m.last < p.first && p.first - m.last <= 6 && plain(m.last + 1, p.first)
                })?
            }
            Construction::ObjectSubject => return None,
        };
        // Its content follows it ("the proposal for talks", "the idea of a summit", "the
        // plan to ..."): then it is about what that names, not the earlier ceasefire.
        let next = proposal.last + 1;
        let dated = |t: u32| {
            t < s.end
                && matches!(
                    s.word(t),
                    "monday"
                        | "tuesday"
                        | "wednesday"
                        | "thursday"
                        | "friday"
                        | "saturday"
                        | "sunday"
                )
        };
        if next < s.end
            && s.sep(proposal.last) != Sep::Comma
            && !(s.word(next) == "on" && dated(next + 1))
            && PROPOSAL_CONTENT.contains(&s.word(next))
        {
            return None;
        }
        let antecedent = self.ceasefire_before(s, proposal.first)?;
        // Another war's ceasefire ("Israel and Hezbollah agree to extend the Lebanon truce.
        // The Kremlin welcomed the deal."): the answer is not about this war.
        if self.of_another_war(s, antecedent) {
            return None;
        }
        Some(M {
            tag: antecedent.tag,
            ..proposal
        })
    }

    /// "Putin laid out a series of conditions", "Moscow seeks concessions": a condition
    /// phrase that names its content ("conditions", "concessions") and no object of its own
    /// is about the last ceasefire the item named before it.
    pub(super) fn conditions_anaphor(
        &self,
        s: &Sent<'_>,
        p: M,
        construction: Construction,
    ) -> Option<M> {
        if construction != Construction::Active || !self.names_condition(p, s.word(p.last)) {
            return None;
        }
        // The ceasefire its own sentence names after it ("demands concessions from Kyiv
        // before any truce"), or else the last one named before it.
        let proposable = |m: &&M| matches!(m.tag, Tag::Object(f) if self.proposable(f));
        let antecedent =
            s.ms.iter()
                .filter(proposable)
                .find(|m| m.first > p.last)
                .or_else(|| self.ceasefire_before(s, p.first))?;
        if self.of_another_war(s, antecedent) {
            return None;
        }
        Some(M {
            tag: antecedent.tag,
            first: p.last,
            last: p.last,
        })
    }

    /// The last ceasefire or settlement the item names before word `at`: what an anaphor
    /// there refers to.
    fn ceasefire_before<'t>(&self, s: &Sent<'t>, at: u32) -> Option<&'t M> {
        s.t.mentions
            .iter()
            .take_while(|m| m.first < at)
            .filter(|m| matches!(m.tag, Tag::Object(f) if self.proposable(f)) && m.last < at)
            .last()
    }

    /// Whether a predicate is a condition phrase that names its content, `last` being its
    /// last word: a verb with it ("seeks concessions", "laid out a list of conditions"), not
    /// the bare noun ("Russian demands", which names no answer).
    pub(super) fn names_condition(&self, p: M, last: &str) -> bool {
        matches!(p.tag, Tag::Pred(st, _) if st == self.st.condition)
            && p.first < p.last
            && self.lang.condition_content(last)
    }

    /// Whether the sentence holding `m` names another war and not Ukraine.
    fn of_another_war(&self, s: &Sent<'_>, m: &M) -> bool {
        let Some(sentence) =
            s.t.norm
                .sentences
                .iter()
                .find(|x| x.first <= m.first && m.first < x.end)
        else {
            return false;
        };
        let all = s.t.mentions;
        let from = all.partition_point(|x| x.first < sentence.first);
        let to = all.partition_point(|x| x.first < sentence.end);
        frames::another_war(s, &all[from..to]).is_some()
    }

    /// A family a proposal may be: a ceasefire, or a settlement that brings one.
    pub(super) fn proposable(&self, family: u8) -> bool {
        family < 64 && self.st.proposable_families >> family & 1 == 1
    }

    /// Objects before a predicate in its clause: the subject of a passive ("the truce was
    /// rejected") or of an intransitive ("arms deliveries resume").
    pub(super) fn objects_before(&self, s: &Sent<'_>, p: M) -> Vec<M> {
        self.objects_before_in_clause(s, p, 8)
    }

    pub(super) fn objects_before_in_clause(&self, s: &Sent<'_>, p: M, reach: u32) -> Vec<M> {
        let mut lo = p.first.saturating_sub(reach).max(s.first);
        let mut t = p.first;
        // Over the verb group to the clause's subject, and over a parenthetical between
        // commas ("the moratorium, previously ordered by Putin, has come to an end").
        while t > s.first
            && ([G::Be, G::Have, G::Modal, G::Future, G::Neg]
                .into_iter()
                .any(|g| s.has_end(t - 1, g))
                || self.lang.verb_group_adverb(s.word(t - 1)))
        {
            t -= 1;
        }
        if t > s.first + 1 && s.sep(t - 1) == Sep::Comma {
            let open = (t.saturating_sub(12).max(s.first)..t - 1)
                .rev()
                .find(|&u| s.sep(u) == Sep::Comma);
            if let Some(open) = open {
                lo = open.saturating_sub(reach).max(s.first);
                t = open + 1;
            }
        }
        while t > lo {
            t -= 1;
            if s.has_end(t, G::Break)
                || s.has_end(t, G::Comp)
                || s.sep(t) == Sep::Semicolon
                || matches!(
                    s.word(t),
                    "after" | "before" | "since" | "once" | "until" | "unless"
                )
                // "despite the ceasefire, with seven people killed"
                || s.word(t) == "with" && t > s.first && s.sep(t - 1) == Sep::Comma
            {
                break;
            }
            if let Some(o) =
                s.ms.iter()
                    .filter(|m| m.last == t && matches!(m.tag, Tag::Object(_)))
                    .max_by_key(|m| m.last - m.first)
            {
                // "Ceasefire talks resume": the talks are the subject.
                if self.topic_of_compound(s, *o) {
                    return Vec::new();
                }
                // The head of the phrase: "a moratorium on strikes", "a halt to attacks".
                let o = &self.np_head(s, *o);
                // Back over objects coordinated before it.
                let mut first = *o;
                let mut objs = vec![*o];
                while let Some(prev) = s.ms.iter().find(|m| {
                    matches!(m.tag, Tag::Object(_))
                        && m.last + 1 < first.first
                        && (m.last + 1..first.first)
                            .all(|u| s.has_start(u, G::Coord) || s.has_start(u, G::Det))
                }) {
                    objs.insert(0, *prev);
                    first = *prev;
                }
                return objs;
            }
        }
        Vec::new()
    }

    /// The head of the noun phrase an object ends: an object it is the complement of ("a
    /// moratorium on strikes" is a moratorium).
    pub(super) fn np_head(&self, s: &Sent<'_>, o: M) -> M {
        let mut head = o;
        loop {
            // "a moratorium on strikes", and a participle after its noun: "strikes
            // targeting energy sites".
            let found = s.ms.iter().find(|m| {
                matches!(m.tag, Tag::Object(_))
                    && m.last < head.first
                    && (head.first - m.last <= 4
                        && s.has_start(m.last + 1, G::Prep)
                        // Determiners and modifiers between: "a moratorium on Russian
                        // strikes".
                        && (m.last + 2..head.first).all(|u| {
                            !s.ms.iter().any(|a| {
                                a.first <= u
                                    && a.last >= u
                                    && matches!(
                                        a.tag,
                                        Tag::Pred(..)
                                            | Tag::Object(_)
                                            | Tag::Gram(
                                                G::Prep
                                                    | G::Comp
                                                    | G::Break
                                                    | G::Coord
                                                    | G::Be
                                                    | G::Have
                                                    | G::Speech
                                            )
                                    )
                            })
                        })
                        || m.last + 1 == head.first
                            && head.first == head.last
                            && s.word(head.first).ends_with("ing"))
            });
            match found {
                Some(m) => head = *m,
                None => return head,
            }
        }
    }

    /// The objects of a noun: after it through "of", "on", "to", "in", "for", "over"
    /// ("rejection of the truce", "pause in aid"), or a compound before it ("aid freeze",
    /// "the intelligence-sharing pause").
    pub(super) fn noun_objects(&self, s: &Sent<'_>, p: M) -> Vec<M> {
        let mut t = p.last + 1;
        let mut through_prep = false;
        if t < s.end && s.has_start(t, G::Prep) {
            through_prep = true;
        }
        // Phrases like "rejection of" carry their preposition.
        let ends_with_prep = s.has_end(p.last, G::Prep);
        if through_prep || ends_with_prep {
            if through_prep {
                t += 1;
            }
            let limit = (t + 10).min(s.end);
            while t < limit {
                if let Some(o) =
                    s.ms.iter()
                        .filter(|m| m.first == t && matches!(m.tag, Tag::Object(_)))
                        .max_by_key(|m| m.last - m.first)
                {
                    if self.topic_of_compound(s, *o) {
                        return Vec::new();
                    }
                    return self.with_coordinated(s, *o);
                }
                if s.has_start(t, G::Comp) || s.has_start(t, G::Break) {
                    break;
                }
                t += 1;
            }
        }
        // A compound: the object right before the noun, an adjunct or two apart.
        let lo = p.first.saturating_sub(3).max(s.first);
        let mut u = p.first;
        while u > lo {
            u -= 1;
            if let Some(o) =
                s.ms.iter()
                    .filter(|m| m.last == u && matches!(m.tag, Tag::Object(_)))
                    .max_by_key(|m| m.last - m.first)
            {
                return vec![*o];
            }
            if s.has_end(u, G::Det) || s.has_end(u, G::Prep) || s.has_end(u, G::Comp) {
                break;
            }
        }
        Vec::new()
    }
}
