//! The compiled matcher: one Aho-Corasick automaton over every phrase of the pack, and the
//! rules as slot patterns over the phrase mentions found in each sentence.

use std::cell::RefCell;

use super::pack::{self, MAX_CONCEPTS, MAX_SLOTS, PackSettings, RulePack, SlotRef};
use super::phrases::{PhraseSet, WordGate};
use super::text::{Normalized, normalize_phrase};
use crate::domain::{Evidence, Field, Signal, SignalKind};

type ConceptId = u16;

/// A set of concepts, as a bitset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ConceptSet([u64; MAX_CONCEPTS / 64]);

impl ConceptSet {
    fn insert(&mut self, c: ConceptId) {
        self.0[c as usize / 64] |= 1 << (c % 64);
    }
    fn contains(&self, c: ConceptId) -> bool {
        self.0[c as usize / 64] & (1 << (c % 64)) != 0
    }
    fn contains_all(&self, other: &ConceptSet) -> bool {
        self.0.iter().zip(other.0.iter()).all(|(a, b)| a & b == *b)
    }
    fn first_common(&self, other: &ConceptSet) -> Option<ConceptId> {
        for (i, (a, b)) in self.0.iter().zip(other.0.iter()).enumerate() {
            let x = a & b;
            if x != 0 {
                return Some((i * 64 + x.trailing_zeros() as usize) as ConceptId);
            }
        }
        None
    }
    fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConceptKind {
    Concept,
    Actor,
    /// Hides actor mentions inside it.
    MaskActor,
    /// Hides concept mentions inside it.
    MaskConcept,
}

#[derive(Debug)]
struct ConceptInfo {
    name: String,
    kind: ConceptKind,
}

/// A phrase found in the text: a concept over a token range (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mention {
    concept: ConceptId,
    first: u32,
    last: u32,
}

const NO_MENTION: Mention = Mention {
    concept: u16::MAX,
    first: u32::MAX,
    last: u32::MAX,
};

#[derive(Debug, Clone, Copy)]
enum Slot {
    Actor(ConceptId),
    Concept(ConceptId),
}

#[derive(Debug)]
struct Rule {
    name: String,
    signal: SignalKind,
    slots: Vec<(Slot, u32)>,
    /// The slot holding the stance, which `not_before` guards.
    verb_slot: usize,
    weight: f32,
    window: u32,
    guard_span: u32,
    after_span: u32,
    /// Concepts (and actor sides) that must all be in the sentence for the rule to be tried.
    required: ConceptSet,
    not_before: ConceptSet,
    not_between: ConceptSet,
    not_after: ConceptSet,
    not_in_sentence: ConceptSet,
    requires_in_item: ConceptSet,
    not_in_item: ConceptSet,
    suppresses: Vec<SignalKind>,
}

/// The subject of a stance: the actor mention and the sides of the actors coordinated with it
/// ("Russia and Ukraine agreed").
#[derive(Debug, Clone, Copy)]
struct Subject {
    mention: Mention,
    sides: ConceptSet,
    /// Found next to the verb, rather than taken from the sentence's speaker.
    explicit: bool,
    /// First token of the coordinated group.
    group_first: u32,
}

/// A rule that matched in one sentence.
#[derive(Debug, Clone)]
struct Hit {
    rule: usize,
    field: Field,
    sentence: usize,
    slots: [Mention; MAX_SLOTS],
    nslots: usize,
}

/// Why a rule that could have matched did not, for `eval` and `inspect` explanations.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    pub rule: String,
    pub signal: SignalKind,
    /// `not_before`, `not_between`, `not_after`, `not_in_sentence`, `not_in_item`,
    /// `requires_in_item`, `subject`, `question`.
    pub guard: &'static str,
    /// The concept (or actor side) that blocked, or the side the subject had.
    pub concept: String,
    pub sentence: String,
}

/// A rule whose slots were only partly present in the best sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Partial {
    pub rule: String,
    pub signal: SignalKind,
    pub missing: Vec<String>,
    pub sentence: String,
}

/// The full reasoning over one item: what fired, what was vetoed, what was missing.
#[derive(Debug, Clone, Default)]
pub struct Explanation {
    pub signals: Vec<Signal>,
    /// Every rule hit, including those below threshold or suppressed.
    pub hits: Vec<Signal>,
    pub blocked: Vec<Blocked>,
    pub partial: Vec<Partial>,
    pub scores: [f32; 7],
}

/// The result of classifying one item.
#[derive(Debug, Clone, Default)]
pub struct Classification {
    /// Signals at or above the threshold, strongest first.
    pub signals: Vec<Signal>,
    /// The score of every signal, indexed by [`SignalKind::index`].
    pub scores: [f32; 7],
}

/// Grammar word flags: single words looked up only while finding a subject.
const G_PRONOUN: u8 = 1;
const G_CLAUSE: u8 = 2;
const G_SPEECH: u8 = 4;
const G_ROLE: u8 = 8;
const G_PREPOSITION: u8 = 16;

/// A rule pack compiled for matching. Build once, share freely: classifying takes `&self`
/// and does no I/O.
#[derive(Debug)]
pub struct Classifier {
    /// Grammar words and their `G_*` flags.
    grammar: std::collections::HashMap<String, u8>,
    phrases: PhraseSet<ConceptId>,
    concepts: Vec<ConceptInfo>,
    year_concepts: Vec<ConceptId>,
    rules: Vec<Rule>,
    settings: PackSettings,
    actors: ConceptSet,
    /// Words without which no rule can fire (see [`gate`]); `None` when it cannot be built.
    gate: Option<WordGate>,
}

#[derive(Default)]
struct Scratch {
    norm: Normalized,
    /// Vocabulary ids of the words and the trie walk, for phrase matching.
    ids: Vec<u32>,
    stack: Vec<(u32, usize)>,
    mentions: Vec<Mention>,
    masks: Vec<Mention>,
    hits: Vec<Hit>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Per-sentence view used while matching.
struct SentenceCtx<'a> {
    norm: &'a Normalized,
    mentions: &'a [Mention],
    first_tok: u32,
    end_tok: u32,
}

impl Classifier {
    /// Compiles a pack. Every problem is reported, each naming its rule or list.
    pub fn compile(pack: &RulePack) -> Result<Classifier, Vec<String>> {
        let errors = pack::validate(pack);
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut concepts: Vec<ConceptInfo> = Vec::new();
        let mut phrase_lists: Vec<(ConceptId, &[String])> = Vec::new();
        let mut add = |name: String, kind: ConceptKind| {
            let id = concepts.len() as ConceptId;
            concepts.push(ConceptInfo { name, kind });
            id
        };
        // Ids are assigned in a fixed order: actor sides, concepts, grammar, masks.
        let mut side_ids = std::collections::BTreeMap::new();
        for side in pack.actors.keys() {
            side_ids.insert(side.clone(), add(format!("@{side}"), ConceptKind::Actor));
        }
        let mut concept_ids = std::collections::BTreeMap::new();
        for name in pack.concepts.keys() {
            concept_ids.insert(name.clone(), add(name.clone(), ConceptKind::Concept));
        }
        let mask_actor = add("masks.not_actor".into(), ConceptKind::MaskActor);
        let mask_concept = add("masks.not_concept".into(), ConceptKind::MaskConcept);

        for (side, list) in &pack.actors {
            phrase_lists.push((side_ids[side], list));
        }
        for (name, list) in &pack.concepts {
            phrase_lists.push((concept_ids[name], list));
        }
        phrase_lists.push((mask_actor, &pack.masks.not_actor));
        phrase_lists.push((mask_concept, &pack.masks.not_concept));

        let mut year_concepts = Vec::new();
        let mut phrases: Vec<(Vec<String>, ConceptId)> = Vec::new();
        for (cid, list) in phrase_lists {
            for phrase in list {
                // Validated above: braces balance.
                for expanded in pack::expand_braces(phrase).unwrap_or_default() {
                    if expanded.trim() == "<year>" {
                        if !year_concepts.contains(&cid) {
                            year_concepts.push(cid);
                        }
                        continue;
                    }
                    let words = phrase_words(&expanded);
                    if !words.is_empty() {
                        phrases.push((words, cid));
                    }
                }
            }
        }
        let phrases = PhraseSet::new(phrases);

        let resolve_set = |names: &[String]| -> ConceptSet {
            let mut set = ConceptSet::default();
            for n in names {
                let id = match n.strip_prefix('@') {
                    Some(side) => side_ids.get(side),
                    None => concept_ids.get(n),
                };
                if let Some(&id) = id {
                    set.insert(id);
                }
            }
            set
        };
        let d = &pack.defaults;
        let mut rules = Vec::new();
        for r in &pack.rules {
            let mut slots = Vec::new();
            let mut required = ConceptSet::default();
            let max_gap = r.max_gap.unwrap_or(d.max_gap);
            for s in &r.pattern {
                let (slot, gap) = pack::parse_slot(s).map_err(|e| vec![e])?;
                let slot = match slot {
                    SlotRef::Actor(side) => Slot::Actor(side_ids[&side]),
                    SlotRef::Concept(c) => Slot::Concept(concept_ids[&c]),
                };
                match slot {
                    Slot::Actor(id) | Slot::Concept(id) => required.insert(id),
                }
                slots.push((slot, gap.unwrap_or(max_gap)));
            }
            let verb_slot = r.verb.map(|v| v as usize).unwrap_or_else(|| {
                slots
                    .iter()
                    .position(|(s, _)| matches!(s, Slot::Concept(_)))
                    .unwrap_or(0)
            });
            rules.push(Rule {
                name: r.name.clone(),
                signal: r.signal.parse().map_err(|e: String| vec![e])?,
                slots,
                verb_slot,
                weight: r.weight,
                window: r.window.unwrap_or(d.window),
                guard_span: r.guard_span.unwrap_or(d.guard_span),
                after_span: r.after_span.unwrap_or(d.after_span),
                required,
                not_before: resolve_set(r.not_before.as_deref().unwrap_or(&d.not_before)),
                not_between: resolve_set(r.not_between.as_deref().unwrap_or(&d.not_between)),
                not_after: resolve_set(r.not_after.as_deref().unwrap_or(&d.not_after)),
                not_in_sentence: resolve_set(
                    r.not_in_sentence.as_deref().unwrap_or(&d.not_in_sentence),
                ),
                requires_in_item: resolve_set(
                    r.requires_in_item.as_deref().unwrap_or(&d.requires_in_item),
                ),
                not_in_item: resolve_set(r.not_in_item.as_deref().unwrap_or(&d.not_in_item)),
                suppresses: r.suppresses.iter().filter_map(|s| s.parse().ok()).collect(),
            });
        }
        let mut actors = ConceptSet::default();
        for id in side_ids.values() {
            actors.insert(*id);
        }
        let mut grammar = std::collections::HashMap::new();
        for (list, flag) in [
            (&pack.grammar.pronouns, G_PRONOUN),
            (&pack.grammar.clause_breaks, G_CLAUSE),
            (&pack.grammar.speech_verbs, G_SPEECH),
            (&pack.grammar.role_nouns, G_ROLE),
            (&pack.grammar.prepositions, G_PREPOSITION),
        ] {
            for w in list {
                *grammar.entry(normalize_phrase(w)).or_insert(0) |= flag;
            }
        }
        Ok(Classifier {
            gate: gate(pack),
            grammar,
            phrases,
            concepts,
            year_concepts,
            rules,
            settings: pack.settings.clone(),
            actors,
        })
    }

    /// Names of the rules, in pack order.
    pub fn rule_names(&self) -> impl Iterator<Item = (&str, SignalKind)> {
        self.rules.iter().map(|r| (r.name.as_str(), r.signal))
    }

    #[cfg(test)]
    pub(crate) fn gate_reads_raw_text(&self) -> bool {
        self.gate.as_ref().is_some_and(|g| g.any_raw("").is_some())
    }

    /// Classifies one item by its title and summary (plain text).
    pub fn classify(&self, title: &str, summary: &str) -> Classification {
        SCRATCH.with(|s| {
            let mut scratch = s.borrow_mut();
            let (signals, scores) = self.run(&mut scratch, title, summary, None);
            Classification { signals, scores }
        })
    }

    /// Classifies and explains: every hit, every vetoed match, every near miss.
    pub fn explain(&self, title: &str, summary: &str) -> Explanation {
        SCRATCH.with(|s| {
            let mut scratch = s.borrow_mut();
            let mut ex = Explanation::default();
            let (signals, scores) = self.run(&mut scratch, title, summary, Some(&mut ex));
            ex.signals = signals;
            ex.scores = scores;
            ex
        })
    }

    fn kind(&self, c: ConceptId) -> ConceptKind {
        self.concepts[c as usize].kind
    }

    fn run(
        &self,
        scratch: &mut Scratch,
        title: &str,
        summary: &str,
        mut ex: Option<&mut Explanation>,
    ) -> (Vec<Signal>, [f32; 7]) {
        // No word any rule's anchor needs: nothing can fire, and the text need not even be
        // normalised (an explanation still looks for near misses).
        if ex.is_none()
            && let Some(g) = &self.gate
            && g.any_raw(title) == Some(false)
            && g.any_raw(summary) == Some(false)
        {
            return (Vec::new(), [0.0; 7]);
        }
        let Scratch {
            norm,
            ids,
            stack,
            mentions,
            masks,
            hits,
        } = scratch;
        norm.clear();
        norm.push_field(Field::Title, title);
        norm.push_field(Field::Summary, summary);
        mentions.clear();
        masks.clear();
        hits.clear();
        if ex.is_none() && self.gate.as_ref().is_some_and(|g| !g.any(norm)) {
            return (Vec::new(), [0.0; 7]);
        }
        // Concepts present anywhere in the item, for item-level guards.
        let item_present = self.find_mentions(norm, ids, stack, mentions, masks);

        // The rules whose slots are all somewhere in the item (masks apart, so a superset):
        // usually none, and then there is nothing more to do (an explanation still looks for
        // near misses).
        let candidates: u64 = self
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| item_present.contains_all(&r.required))
            .fold(0, |acc, (i, _)| acc | (1 << i));
        if candidates == 0 && ex.is_none() {
            return (Vec::new(), [0.0; 7]);
        }
        self.apply_masks(mentions, masks);

        let mut start = 0usize;
        for (si, sentence) in norm.sentences.iter().enumerate() {
            let end = start
                + mentions[start..]
                    .iter()
                    .take_while(|m| m.first < sentence.end)
                    .count();
            let ms = &mentions[start..end];
            start = end;
            if ms.is_empty() {
                continue;
            }
            let mut present = ConceptSet::default();
            for m in ms {
                present.insert(m.concept);
            }
            let ctx = SentenceCtx {
                norm,
                mentions: ms,
                first_tok: sentence.first,
                end_tok: sentence.end,
            };
            let sentence_text = || {
                field_text(title, summary, sentence.field)
                    [sentence.orig_start as usize..sentence.orig_end as usize]
                    .to_owned()
            };
            for (ri, rule) in self.rules.iter().enumerate() {
                if candidates & (1 << ri) == 0 || !present.contains_all(&rule.required) {
                    continue;
                }
                if hits
                    .iter()
                    .any(|h| h.rule == ri && h.field == sentence.field)
                {
                    continue;
                }
                let veto = if sentence.question && self.settings.skip_questions {
                    Some(("question", String::from("?")))
                } else if let Some(c) = present.first_common(&rule.not_in_sentence) {
                    Some(("not_in_sentence", self.concepts[c as usize].name.clone()))
                } else if let Some(c) = item_present.first_common(&rule.not_in_item) {
                    Some(("not_in_item", self.concepts[c as usize].name.clone()))
                } else if !item_present.contains_all(&rule.requires_in_item) {
                    let mut missing = rule.requires_in_item;
                    for (a, b) in missing.0.iter_mut().zip(item_present.0.iter()) {
                        *a &= !b;
                    }
                    let c = missing.first_common(&rule.requires_in_item).unwrap_or(0);
                    Some(("requires_in_item", self.concepts[c as usize].name.clone()))
                } else {
                    None
                };
                if let Some((guard, concept)) = veto {
                    if let Some(ex) = ex.as_deref_mut() {
                        ex.blocked.push(Blocked {
                            rule: rule.name.clone(),
                            signal: rule.signal,
                            guard,
                            concept,
                            sentence: sentence_text(),
                        });
                    }
                    continue;
                }
                let mut chosen = [NO_MENTION; MAX_SLOTS];
                let mut trace = ex.as_ref().map(|_| Vec::new());
                if self.search(&ctx, rule, 0, &mut chosen, None, trace.as_mut()) {
                    hits.push(Hit {
                        rule: ri,
                        field: sentence.field,
                        sentence: si,
                        slots: chosen,
                        nslots: rule.slots.len(),
                    });
                } else if let (Some(ex), Some(trace)) = (ex.as_deref_mut(), trace) {
                    let text = sentence_text();
                    for (guard, concept) in trace {
                        let b = Blocked {
                            rule: rule.name.clone(),
                            signal: rule.signal,
                            guard,
                            concept,
                            sentence: text.clone(),
                        };
                        if !ex.blocked.contains(&b) {
                            ex.blocked.push(b);
                        }
                    }
                }
            }
        }

        // Scores: per signal, the noisy-or of its rules' hits (one per rule and field).
        let mut scores = [0f32; 7];
        let mut best: [Option<(f32, usize)>; 7] = [None; 7];
        for (hi, h) in hits.iter().enumerate() {
            let rule = &self.rules[h.rule];
            let s = rule.weight * self.field_weight(h.field);
            let k = rule.signal.index();
            scores[k] = 1.0 - (1.0 - scores[k]) * (1.0 - s);
            if best[k].is_none_or(|(b, _)| s > b) {
                best[k] = Some((s, hi));
            }
        }
        // Suppression: a signal is dropped when a rule of another emitted signal suppresses
        // it and is not suppressed back ("agrees, but with nuances" is conditional, not
        // acceptance). When two signals suppress each other, the higher score wins.
        let candidates: Vec<SignalKind> = SignalKind::ALL
            .into_iter()
            .filter(|k| scores[k.index()] >= self.settings.threshold)
            .collect();
        let suppresses = |x: SignalKind, y: SignalKind| {
            hits.iter().any(|h| {
                self.rules[h.rule].signal == x && self.rules[h.rule].suppresses.contains(&y)
            })
        };
        let emitted: Vec<SignalKind> = candidates
            .iter()
            .copied()
            .filter(|&y| {
                !candidates.iter().any(|&x| {
                    x != y
                        && suppresses(x, y)
                        && (!suppresses(y, x)
                            || scores[x.index()] > scores[y.index()]
                            || (scores[x.index()] == scores[y.index()] && x < y))
                })
            })
            .collect();

        let make_signal = |h: &Hit, score: f32| -> Signal {
            let rule = &self.rules[h.rule];
            let text = field_text(title, summary, h.field);
            let sentence = &norm.sentences[h.sentence];
            let words = h.slots[..h.nslots]
                .iter()
                .filter(|m| m.first != u32::MAX)
                .map(|m| {
                    let a = norm.tokens[m.first as usize].orig_start as usize;
                    let b = norm.tokens[m.last as usize].orig_end as usize;
                    text[a..b].to_owned()
                })
                .collect();
            Signal {
                kind: rule.signal,
                score,
                evidence: Evidence {
                    rule: rule.name.clone(),
                    words,
                    sentence: truncate_chars(
                        &text[sentence.orig_start as usize..sentence.orig_end as usize],
                        600,
                    ),
                    field: h.field,
                },
            }
        };

        let mut signals: Vec<Signal> = emitted
            .iter()
            .filter_map(|k| {
                best[k.index()].map(|(_, hi)| make_signal(&hits[hi], scores[k.index()]))
            })
            .collect();
        signals.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.kind.cmp(&b.kind)));

        if let Some(ex) = ex {
            ex.hits = hits
                .iter()
                .map(|h| {
                    let s = self.rules[h.rule].weight * self.field_weight(h.field);
                    make_signal(h, s)
                })
                .collect();
            self.near_misses(norm, mentions, title, summary, &emitted, ex);
        }
        (signals, scores)
    }

    fn field_weight(&self, f: Field) -> f32 {
        match f {
            Field::Title => self.settings.title_weight,
            Field::Summary => self.settings.summary_weight,
        }
    }

    /// Finds every phrase mention (masks apart) and years. Returns the concepts present
    /// anywhere in the item, masked words included.
    fn find_mentions(
        &self,
        norm: &Normalized,
        ids: &mut Vec<u32>,
        stack: &mut Vec<(u32, usize)>,
        out: &mut Vec<Mention>,
        masks: &mut Vec<Mention>,
    ) -> ConceptSet {
        self.phrases.find(norm, ids, stack, |f| {
            let mention = Mention {
                concept: f.tag,
                first: f.first,
                last: f.last,
            };
            if matches!(
                self.kind(f.tag),
                ConceptKind::MaskActor | ConceptKind::MaskConcept
            ) {
                masks.push(mention);
            } else {
                out.push(mention);
            }
        });
        if !self.year_concepts.is_empty() {
            for (i, t) in norm.tokens.iter().enumerate() {
                let bytes = t.key.to_le_bytes();
                if t.len == 4
                    && (bytes.starts_with(b"19") || bytes.starts_with(b"20"))
                    && bytes[2..4].iter().all(u8::is_ascii_digit)
                {
                    for &c in &self.year_concepts {
                        out.push(Mention {
                            concept: c,
                            first: i as u32,
                            last: i as u32,
                        });
                    }
                }
            }
        }
        // Item-level context ("the item is about the US") counts masked words too:
        // "U.S. supplies" does not act, but says what the item is about.
        let mut item_present = ConceptSet::default();
        for m in out.iter() {
            item_present.insert(m.concept);
        }
        item_present
    }

    /// Drops mentions inside masks (actor words inside `not_actor` phrases, concept words
    /// inside `not_concept` phrases, unless the mention is the longer phrase) and sorts the
    /// rest by position.
    fn apply_masks(&self, out: &mut Vec<Mention>, masks: &[Mention]) {
        if !masks.is_empty() {
            out.retain(|m| {
                let target = if self.is_actor(m.concept) {
                    ConceptKind::MaskActor
                } else if self.kind(m.concept) == ConceptKind::Concept {
                    ConceptKind::MaskConcept
                } else {
                    return true;
                };
                !masks.iter().any(|k| {
                    let overlaps = m.first <= k.last && k.first <= m.last;
                    let contains_mask = m.first <= k.first
                        && m.last >= k.last
                        && (m.last - m.first) > (k.last - k.first);
                    self.kind(k.concept) == target && overlaps && !contains_mask
                })
            });
        }
        out.sort_unstable_by_key(|m| (m.first, m.last, m.concept));
    }

    /// Places slot `i` and the rest; true when a full match passes every guard.
    fn search(
        &self,
        ctx: &SentenceCtx<'_>,
        rule: &Rule,
        i: usize,
        chosen: &mut [Mention; MAX_SLOTS],
        prev_last: Option<u32>,
        mut trace: Option<&mut Vec<(&'static str, String)>>,
    ) -> bool {
        if i == rule.slots.len() {
            return self.finish(ctx, rule, chosen, trace);
        }
        let (slot, gap) = rule.slots[i];
        let span_start = chosen[..i]
            .iter()
            .filter(|m| m.first != u32::MAX)
            .map(|m| m.first)
            .min();
        match slot {
            Slot::Actor(_) if i == 0 => {
                chosen[0] = NO_MENTION;
                self.search(ctx, rule, 1, chosen, None, trace)
            }
            Slot::Actor(side) => {
                let Some(p) = prev_last else { return false };
                let Some(m) = ctx
                    .mentions
                    .iter()
                    .find(|m| m.first > p && self.is_actor(m.concept) && self.can_act(ctx, m))
                else {
                    return false;
                };
                if m.first - p - 1 > gap {
                    return false;
                }
                let sides = self.group_forward(ctx, *m);
                if !sides.contains(side) {
                    if let Some(t) = trace.as_deref_mut() {
                        t.push(("subject", self.side_names(&sides)));
                    }
                    return false;
                }
                chosen[i] = *m;
                self.search(ctx, rule, i + 1, chosen, Some(m.last), trace)
            }
            Slot::Concept(c) => {
                for m in ctx.mentions.iter().filter(|m| m.concept == c) {
                    if let Some(p) = prev_last
                        && (m.first <= p || m.first - p - 1 > gap)
                    {
                        continue;
                    }
                    if let Some(s) = span_start
                        && (m.first < s || m.last - s >= rule.window)
                    {
                        continue;
                    }
                    chosen[i] = *m;
                    if self.search(ctx, rule, i + 1, chosen, Some(m.last), trace.as_deref_mut()) {
                        return true;
                    }
                }
                false
            }
        }
    }

    /// With every slot placed: resolve a leading subject, then apply the guards.
    fn finish(
        &self,
        ctx: &SentenceCtx<'_>,
        rule: &Rule,
        chosen: &mut [Mention; MAX_SLOTS],
        mut trace: Option<&mut Vec<(&'static str, String)>>,
    ) -> bool {
        let n = rule.slots.len();
        let mut subject: Option<Subject> = None;
        if let (Slot::Actor(side), gap) = rule.slots[0] {
            let anchor = chosen[1].first;
            let Some(s) = self.subject_before(ctx, anchor) else {
                if let Some(t) = trace.as_deref_mut() {
                    t.push(("subject", "none".into()));
                }
                return false;
            };
            if !s.sides.contains(side) {
                if let Some(t) = trace.as_deref_mut() {
                    t.push(("subject", self.side_names(&s.sides)));
                }
                return false;
            }
            if s.explicit
                && anchor > s.mention.last
                && anchor - s.mention.last - 1 > gap.max(rule.window)
            {
                return false;
            }
            chosen[0] = s.mention;
            subject = Some(s);
        }
        let placed = &chosen[..n];
        // The match body: every slot but a leading subject, which may be a speaker named
        // after the verb ("..., Peskov said") and is guarded separately.
        let body = if matches!(rule.slots[0].0, Slot::Actor(_)) {
            &chosen[1..n]
        } else {
            placed
        };
        let verb = chosen[rule.verb_slot];
        let span_last = body.iter().map(|m| m.last).max().unwrap_or(verb.last);
        let body_first = body.iter().map(|m| m.first).min().unwrap_or(verb.first);

        // Before the verb: from the subject (if it precedes) up to the verb, at most
        // guard_span words; and guard_span words before the subject group.
        let lo = match subject {
            Some(s) if s.explicit && s.mention.last < verb.first => {
                (s.mention.last + 1).max(verb.first.saturating_sub(rule.guard_span))
            }
            _ => verb
                .first
                .saturating_sub(rule.guard_span)
                .max(ctx.first_tok),
        };
        let before_subject = subject
            .filter(|s| s.explicit && s.mention.last < verb.first)
            .map(|s| {
                (
                    s.group_first
                        .saturating_sub(rule.guard_span)
                        .max(ctx.first_tok),
                    s.group_first,
                )
            });
        if !rule.not_before.is_empty() {
            for m in ctx.mentions {
                if !rule.not_before.contains(m.concept) {
                    continue;
                }
                let in_verb_region = m.first >= lo && m.last < verb.first;
                let in_subject_region =
                    before_subject.is_some_and(|(a, b)| m.first >= a && m.last < b);
                if in_verb_region || in_subject_region {
                    if let Some(t) = trace.as_deref_mut() {
                        t.push(("not_before", self.concepts[m.concept as usize].name.clone()));
                    }
                    return false;
                }
            }
        }
        if !rule.not_between.is_empty() {
            for m in ctx.mentions {
                if rule.not_between.contains(m.concept)
                    && m.first > body_first
                    && m.last < span_last
                    && !placed
                        .iter()
                        .any(|p| p.first <= m.last && m.first <= p.last)
                {
                    if let Some(t) = trace.as_deref_mut() {
                        t.push((
                            "not_between",
                            self.concepts[m.concept as usize].name.clone(),
                        ));
                    }
                    return false;
                }
            }
        }
        if !rule.not_after.is_empty() {
            for m in ctx.mentions {
                if rule.not_after.contains(m.concept)
                    && m.first > span_last
                    && m.first <= span_last + rule.after_span
                {
                    if let Some(t) = trace.as_deref_mut() {
                        t.push(("not_after", self.concepts[m.concept as usize].name.clone()));
                    }
                    return false;
                }
            }
        }
        true
    }

    fn is_actor(&self, c: ConceptId) -> bool {
        self.actors.contains(c)
    }

    /// The grammar flags of token `t`, if it is in the sentence.
    fn grammar_at(&self, ctx: &SentenceCtx<'_>, t: u32) -> u8 {
        if t < ctx.first_tok || t >= ctx.end_tok {
            return 0;
        }
        self.grammar
            .get(ctx.norm.word(t as usize).to_str())
            .copied()
            .unwrap_or(0)
    }

    /// Whether the coordinated group starting at token `group_first` follows a preposition
    /// ("between Russia and Ukraine"), which makes it an object, not a subject.
    fn after_preposition(&self, ctx: &SentenceCtx<'_>, group_first: u32) -> bool {
        group_first > ctx.first_tok && self.grammar_at(ctx, group_first - 1) & G_PREPOSITION != 0
    }

    /// A possessive actor acts only when a role noun follows: "Russia's envoy rejected" but
    /// not "Russia's proposal was rejected".
    fn can_act(&self, ctx: &SentenceCtx<'_>, m: &Mention) -> bool {
        !ctx.norm.tokens[m.last as usize].possessive
            || (m.last + 1..=m.last + 3).any(|t| self.grammar_at(ctx, t) & G_ROLE != 0)
    }

    /// The subject of the verb at token `anchor`: the nearest actor before it in the same
    /// clause that can act; a pronoun, or no actor in the clause, means the sentence's main
    /// actor.
    fn subject_before(&self, ctx: &SentenceCtx<'_>, anchor: u32) -> Option<Subject> {
        let mut t = anchor;
        while t > ctx.first_tok {
            t -= 1;
            let here = ctx
                .mentions
                .iter()
                .filter(|m| m.last == t && self.is_actor(m.concept))
                .max_by_key(|m| m.last - m.first);
            if let Some(m) = here {
                let (sides, group_first) = self.group_backward(ctx, *m);
                if self.can_act(ctx, m) && !self.after_preposition(ctx, group_first) {
                    return Some(Subject {
                        mention: *m,
                        sides,
                        explicit: true,
                        group_first,
                    });
                }
                continue;
            }
            if self.grammar_at(ctx, t) & (G_CLAUSE | G_PRONOUN) != 0 {
                break;
            }
        }
        self.main_actor(ctx).map(|m| {
            let (sides, group_first) = self.group_backward(ctx, m);
            Subject {
                mention: m,
                sides,
                explicit: false,
                group_first,
            }
        })
    }

    /// The sentence's speaker ("..., Peskov said"; "said Lavrov"), or else an actor that
    /// opens the sentence ("Lavrov: ...").
    fn main_actor(&self, ctx: &SentenceCtx<'_>) -> Option<Mention> {
        let actors = || {
            ctx.mentions.iter().filter(|m| {
                self.is_actor(m.concept)
                    && self.can_act(ctx, m)
                    && !self.after_preposition(ctx, m.first)
            })
        };
        // The speaker is the actor closest to a speech verb: right before it ("Peskov said",
        // "Ukrainian officials say") or right after it ("said Lavrov").
        let mut best: Option<(u32, Mention)> = None;
        for t in ctx.first_tok..ctx.end_tok {
            if self.grammar_at(ctx, t) & G_SPEECH == 0 {
                continue;
            }
            for a in actors() {
                let distance = if a.last < t {
                    t - a.last - 1
                } else if a.first > t {
                    a.first - t - 1
                } else {
                    continue;
                };
                let limit = if a.last < t { 2 } else { 3 };
                // Ties go to the longer mention ("Dmitry Peskov" over "Peskov").
                if distance <= limit
                    && best.is_none_or(|(d, b)| {
                        distance < d || (distance == d && a.last - a.first > b.last - b.first)
                    })
                {
                    best = Some((distance, *a));
                }
            }
        }
        if let Some((_, a)) = best {
            return Some(a);
        }
        actors().find(|a| a.first <= ctx.first_tok + 3).copied()
    }

    /// Sides of the actors coordinated before `m` ("Russia and Ukraine", "Russia, Ukraine").
    fn group_backward(&self, ctx: &SentenceCtx<'_>, m: Mention) -> (ConceptSet, u32) {
        let mut sides = ConceptSet::default();
        sides.insert(m.concept);
        let mut cur = m;
        loop {
            let prev = ctx
                .mentions
                .iter()
                .filter(|p| self.is_actor(p.concept) && p.last < cur.first)
                .max_by_key(|p| (p.last, p.last - p.first));
            let Some(p) = prev else { break };
            let between = (p.last + 1..cur.first)
                .all(|t| is_coordinator(ctx.norm.word(t as usize).as_bytes()));
            if !between {
                break;
            }
            sides.insert(p.concept);
            cur = *p;
        }
        // Overlapping mentions of the same words ("Russian President" inside
        // "Russian President Vladimir Putin") count as one group.
        for p in ctx.mentions {
            if self.is_actor(p.concept) && p.first <= m.last && m.first <= p.last {
                sides.insert(p.concept);
            }
        }
        (sides, cur.first)
    }

    /// Sides of the actors coordinated after `m` ("by Russia and Belarus").
    fn group_forward(&self, ctx: &SentenceCtx<'_>, m: Mention) -> ConceptSet {
        let mut sides = ConceptSet::default();
        sides.insert(m.concept);
        let mut cur = m;
        loop {
            let next = ctx
                .mentions
                .iter()
                .filter(|p| self.is_actor(p.concept) && p.first > cur.last)
                .min_by_key(|p| p.first);
            let Some(p) = next else { break };
            if !(cur.last + 1..p.first)
                .all(|t| is_coordinator(ctx.norm.word(t as usize).as_bytes()))
            {
                break;
            }
            sides.insert(p.concept);
            cur = *p;
        }
        sides
    }

    fn side_names(&self, sides: &ConceptSet) -> String {
        (0..self.concepts.len())
            .filter(|&c| sides.contains(c as ConceptId))
            .map(|c| self.concepts[c].name.clone())
            .collect::<Vec<_>>()
            .join("+")
    }

    /// For each signal not emitted, the rule that came closest and what it lacked.
    fn near_misses(
        &self,
        norm: &Normalized,
        mentions: &[Mention],
        title: &str,
        summary: &str,
        emitted: &[SignalKind],
        ex: &mut Explanation,
    ) {
        for rule in &self.rules {
            if emitted.contains(&rule.signal) {
                continue;
            }
            let mut best: Option<(usize, Vec<String>, usize)> = None;
            for (si, sentence) in norm.sentences.iter().enumerate() {
                let mut present = ConceptSet::default();
                for m in mentions
                    .iter()
                    .filter(|m| m.first >= sentence.first && m.first < sentence.end)
                {
                    present.insert(m.concept);
                }
                let mut have = 0;
                let mut missing = Vec::new();
                for (slot, _) in &rule.slots {
                    let id = match slot {
                        Slot::Actor(id) | Slot::Concept(id) => *id,
                    };
                    if present.contains(id) {
                        have += 1;
                    } else {
                        missing.push(self.concepts[id as usize].name.clone());
                    }
                }
                if have > 0 && best.as_ref().is_none_or(|(h, _, _)| have > *h) {
                    best = Some((have, missing, si));
                }
            }
            if let Some((_, mut missing, si)) = best {
                if missing.is_empty() {
                    // Every slot is in the sentence, yet the rule did not match: order, gaps
                    // or the subject were wrong.
                    missing.push("nothing, but its slots are out of order, too far apart, or the subject differs".into());
                }
                // Only near misses: at most one slot short.
                if missing.len() == 1 {
                    let s = &norm.sentences[si];
                    ex.partial.push(Partial {
                        rule: rule.name.clone(),
                        signal: rule.signal,
                        missing,
                        sentence: field_text(title, summary, s.field)
                            [s.orig_start as usize..s.orig_end as usize]
                            .to_owned(),
                    });
                }
            }
        }
    }
}

/// Words too common in general or in war news to be a phrase's gate word when another word
/// of the phrase will do: "halted the attacks" is gated on "halted", since nearly every report
/// of the war mentions attacks.
const COMMON: &[&str] = &[
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "on",
    "at",
    "for",
    "with",
    "and",
    "or",
    "all",
    "by",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "has",
    "have",
    "had",
    "will",
    "would",
    "not",
    "no",
    "military",
    "us",
    "said",
    "new",
    "more",
    "air",
    "energy",
    "its",
    "their",
    "attacks",
    "attack",
    "strikes",
    "strike",
    "fighting",
    "shelling",
    "firing",
    "war",
    "front",
    "conflict",
    "force",
    "forces",
    "sea",
    "black",
    "operations",
    "activity",
    "activities",
    "actions",
];

/// The gate: every rule needs a mention of its anchor concept, and a phrase matches only if
/// each of its words is a word of the text. So one word from every phrase of every anchor
/// concept (the longest uncommon one) makes a set of words without which no rule can fire.
/// `None` if an anchor concept matches years (no word to look for).
fn gate(pack: &RulePack) -> Option<WordGate> {
    let mut anchors: Vec<&str> = Vec::new();
    for r in &pack.rules {
        let slots: Vec<&str> = r
            .pattern
            .iter()
            .filter_map(|p| match pack::parse_slot(p) {
                Ok((SlotRef::Concept(c), _)) => {
                    pack.concepts.get_key_value(&c).map(|(k, _)| k.as_str())
                }
                _ => None,
            })
            .collect();
        let anchor = slots
            .iter()
            .find(|c| pack.settings.anchors.iter().any(|a| a == *c))
            .or(slots.first())?;
        if !anchors.contains(anchor) {
            anchors.push(anchor);
        }
    }
    let mut words: Vec<String> = Vec::new();
    for a in anchors {
        for phrase in &pack.concepts[a] {
            for expanded in pack::expand_braces(phrase).ok()? {
                if expanded.trim() == "<year>" {
                    return None;
                }
                let all = phrase_words(&expanded);
                let pick = all
                    .iter()
                    .filter(|w| !COMMON.contains(&w.trim_end_matches('*')))
                    .max_by_key(|w| w.trim_end_matches('*').len())
                    .or_else(|| all.iter().max_by_key(|w| w.len()))?;
                words.push(pick.clone());
            }
        }
    }
    Some(WordGate::new(words.iter().map(String::as_str)))
}

/// A pack phrase as normalised words; a word written with a trailing `*` stays a prefix
/// (`refus* to` matches "refuses to").
pub(super) fn phrase_words(phrase: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in phrase.split_whitespace() {
        let prefix = raw.ends_with('*');
        let words = normalize_phrase(raw.trim_end_matches('*'));
        let n = out.len();
        out.extend(
            words
                .split(' ')
                .filter(|w| !w.is_empty())
                .map(str::to_owned),
        );
        if prefix
            && out.len() > n
            && let Some(last) = out.last_mut()
        {
            last.push('*');
        }
    }
    out
}

fn is_coordinator(word: &[u8]) -> bool {
    matches!(word, b"and" | b"both")
}

fn field_text<'a>(title: &'a str, summary: &'a str, f: Field) -> &'a str {
    match f {
        Field::Title => title,
        Field::Summary => summary,
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}
