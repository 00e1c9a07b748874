//! The compiled classifier: the pack's lexicon found in one pass over the normalised text
//! (a word trie, `phrases.rs`), then, in each sentence, every predicate read by its
//! construction: its agent, its object, its modality. A frame turns (agent side, stance,
//! object family) into a signal.
//!
//! The steps of one item, each a function below:
//! 1. gate: an item without an object word and a stance word cannot fire (`run`);
//! 2. mentions: every phrase, masks applied (`find_mentions`);
//! 3. readings: per predicate, its construction, object, agent, modality (`read`);
//! 4. frames: readings become hits (`frame_hits`);
//! 5. scores and conflicts: per signal the noisy-or of its hits; one stance per actor and
//!    topic, the headline settling a conflict (`resolve`);
//! 6. explanation: every reading, hit, block and near miss (`explain`).
//!
//! The grammar is shallow on purpose: word classes and the order of phrases, no parse tree.
//! What that reaches and where it stops is in ARCHITECTURE.md.

use std::cell::RefCell;

use super::lang::{Form, Language};
use super::pack::{self, BUILT_IN_STANCES, RulePack};
use super::phrases::{self, PhraseSet, WordGate};
use super::text::{Normalized, Sentence, normalize_phrase};
use crate::domain::{Evidence, Field, ObjectKey, Signal, SignalKind};

/// Grammar classes and markers: what a phrase of `[grammar]` or `[markers]` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
enum G {
    Det,
    Be,
    Have,
    Do,
    Future,
    Modal,
    Neg,
    NotYet,
    Refusal,
    Prep,
    By,
    Coord,
    Break,
    Comp,
    Speech,
    Role,
    Pronoun,
    QOpen,
    Demand,
    Obligation,
    Irrealis,
    Openness,
    Denial,
    Claims,
    History,
    Background,
    Condition,
    ConditionNoun,
    Proposal,
    Again,
    OtherConflict,
    Ukraine,
}

const G_COUNT: usize = G::Ukraine as usize + 1;

/// What a phrase stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Actor(u8),
    Object(u8),
    Scope(u8),
    Pred(u8, Form),
    Gram(G),
    MaskActor,
    MaskConcept,
    /// The verb of a split phrase ("put" of "put _ on hold"): a predicate only when its
    /// rest follows within a few words ("puts weapons deliveries on hold").
    SplitHead(u16, Form),
    /// The rest of a split phrase ("on hold").
    SplitTail(u16),
}

/// A phrase found in the text, over tokens `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct M {
    tag: Tag,
    first: u32,
    last: u32,
}

/// A frame, compiled.
#[derive(Debug)]
struct Frame {
    name: String,
    signal: SignalKind,
    agent: u8,
    stance: u8,
    object: u8,
    weight: f32,
    needs_ukraine: bool,
}

/// Why a predicate gives no signal, for explanations.
#[derive(Debug, Clone, PartialEq)]
pub struct Blocked {
    /// The frame (or `predicate:<stance>` when no frame was reached).
    pub rule: String,
    pub signal: SignalKind,
    /// What stopped it: `modifier`, `agent`, `object`, `negation`, `modal`, `irrealis`,
    /// `demand`, `question`, `denial`, `claims`, `history`, `background`, `other_conflict`,
    /// `not_ukraine`, `not_yet`, `headline`.
    pub guard: &'static str,
    /// The detail: the side the agent had, the word that blocked.
    pub concept: String,
    pub sentence: String,
}

/// A frame whose parts were only partly present in the best sentence.
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
    /// Every hit, including those below threshold or settled away by a conflict.
    pub hits: Vec<Signal>,
    pub blocked: Vec<Blocked>,
    pub partial: Vec<Partial>,
    /// How each predicate was read: "rejected: active, agent Kremlin (russia, subject),
    /// object truce (ceasefire), asserted".
    pub readings: Vec<String>,
    /// Conflicts between stances of one topic, and how they were settled.
    pub settled: Vec<String>,
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

/// A rule pack compiled for matching. Build once, share freely: classifying takes `&self`
/// and does no I/O.
#[derive(Debug)]
pub struct Classifier {
    phrases: PhraseSet<Tag>,
    sides: Vec<String>,
    families: Vec<String>,
    scopes: Vec<String>,
    stances: Vec<String>,
    frames: Vec<Frame>,
    settings: pack::PackSettings,
    /// Built-in stances and families by id (`u8::MAX` when the pack has none).
    st: Known,
    /// Items lacking a word of every object phrase, of every stance phrase, or of every actor
    /// phrase of a frame's side cannot fire.
    object_gate: Option<WordGate>,
    stance_gate: Option<WordGate>,
    actor_gate: Option<WordGate>,
    /// The sides frames have as agents (bit per side).
    frame_sides: u64,
    /// Per stance and per object family, their words; per family, the stances (bit per
    /// stance) that may make a signal with it. A sentence without such a pair is not read.
    stance_gates: Vec<WordGate>,
    family_gates: Vec<WordGate>,
    pairs: Vec<u64>,
    /// Concepts whose phrases are `<year>`.
    year_history: bool,
    /// The stance of each split phrase, by its id.
    splits: Vec<u8>,
    lang: Language,
}

#[derive(Debug, Clone, Copy)]
struct Known {
    accept: u8,
    reject: u8,
    condition: u8,
    pause: u8,
    resume: u8,
    ceasefire: u8,
    hostilities: u8,
}

#[derive(Default)]
struct Scratch {
    norm: Normalized,
    ids: Vec<u32>,
    stack: Vec<(u32, usize)>,
    mentions: Vec<M>,
    masks: Vec<M>,
    /// Per item: every token's word, end to end, and where each ends.
    words: String,
    word_ends: Vec<u32>,
    /// Per token, the grammar classes of phrases starting and ending there (bit per `G`).
    starts: Vec<u64>,
    ends: Vec<u64>,
    masked: Vec<M>,
    /// Per sentence, whether it is read on the first pass.
    read: Vec<bool>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// How a predicate's agent was found, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AgentBy {
    Subject,
    ByPhrase,
    Possessive,
    Owner,
    Speaker,
    Context,
}

impl AgentBy {
    fn weight(self) -> f32 {
        match self {
            AgentBy::Subject => 1.0,
            AgentBy::ByPhrase => 0.95,
            AgentBy::Possessive => 0.9,
            AgentBy::Owner => 0.85,
            AgentBy::Speaker => 0.85,
            AgentBy::Context => 0.7,
        }
    }

    fn name(self) -> &'static str {
        match self {
            AgentBy::Subject => "subject",
            AgentBy::ByPhrase => "by",
            AgentBy::Possessive => "possessive",
            AgentBy::Owner => "owner of the flow",
            AgentBy::Speaker => "speaker",
            AgentBy::Context => "item's actor",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Construction {
    Active,
    Passive,
    Noun,
    ObjectSubject,
    Judgement,
}

impl Construction {
    fn name(self) -> &'static str {
        match self {
            Construction::Active => "active",
            Construction::Passive => "passive",
            Construction::Noun => "noun",
            Construction::ObjectSubject => "object as subject",
            Construction::Judgement => "judgement",
        }
    }
}

/// The agent of a predicate: the sides of its actor group, and the mention that named it.
#[derive(Debug, Clone, Copy)]
struct Agent {
    sides: u64,
    mention: Option<M>,
    by: AgentBy,
}

/// How a predicate is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Modality {
    Asserted,
    /// "will not accept", "refuses to", "no longer": the opposite is asserted.
    Refused,
    /// "ready to", "in principle": an acceptance with reservations.
    Open,
    Blocked(&'static str),
}

/// A condition on a predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    None,
    /// "only if", "unless", "provided", "but with conditions".
    Strong,
    /// "until": a condition only on a refusal ("will not observe it until ...").
    Until,
}

/// One predicate, read.
#[derive(Debug, Clone)]
struct Reading {
    pred: M,
    stance: u8,
    construction: Construction,
    objects: Vec<M>,
    agent: Option<Agent>,
    modality: Modality,
    /// The word that decided the modality, for explanations.
    modal_word: Option<M>,
    /// A condition in the sentence ("only if", "but with conditions"), or "until".
    conditioned: Cond,
    sentence: usize,
}

/// A frame that matched.
#[derive(Debug, Clone)]
struct Hit {
    frame: usize,
    field: Field,
    sentence: usize,
    score: f32,
    words: Vec<M>,
    /// The object's named scope and duration in hours, when the text gives them.
    scope: (Option<String>, Option<u32>),
}

/// The parts of one sentence the readings look at.
struct Sent<'a> {
    norm: &'a Normalized,
    text: &'a str,
    first: u32,
    end: u32,
    field: Field,
    question: bool,
    /// Mentions of the sentence, sorted by first token (longer first).
    ms: &'a [M],
    /// Actor mentions inside masks ("US weapons", "Kremlin-sponsored"), of the whole item:
    /// no agents, but owners of what they modify.
    masked: &'a [M],
    /// Per token of the item, the grammar classes of phrases starting there (bit per `G`).
    starts: &'a [u64],
    /// Per token of the item, the grammar classes of phrases ending there.
    ends: &'a [u64],
    /// The item's words, end to end, and where each ends.
    words: &'a str,
    word_ends: &'a [u32],
}

impl Sent<'_> {
    fn word(&self, t: u32) -> &str {
        let start = if t == 0 {
            0
        } else {
            self.word_ends[t as usize - 1] as usize
        };
        &self.words[start..self.word_ends[t as usize] as usize]
    }

    fn has_start(&self, t: u32, g: G) -> bool {
        t >= self.first && t < self.end && self.starts[t as usize] & (1 << g as u8) != 0
    }

    fn has_end(&self, t: u32, g: G) -> bool {
        t >= self.first && t < self.end && self.ends[t as usize] & (1 << g as u8) != 0
    }

    fn gram_starting(&self, t: u32, g: G) -> Option<M> {
        self.ms
            .iter()
            .filter(|m| m.first == t && m.tag == Tag::Gram(g))
            .max_by_key(|m| m.last - m.first)
            .copied()
    }

    /// What separates token `t` from token `t + 1` in the original text.
    /// The original text between tokens `a` and `b` (empty when they touch).
    fn text_between(&self, a: u32, b: u32) -> &str {
        let (Some(x), Some(y)) = (
            self.norm.tokens.get(a as usize),
            self.norm.tokens.get(b as usize),
        ) else {
            return "";
        };
        self.text
            .get(x.orig_end as usize..y.orig_start as usize)
            .unwrap_or("")
    }

    fn sep(&self, t: u32) -> Sep {
        if t + 1 >= self.end || t < self.first {
            return Sep::End;
        }
        let a = self.norm.tokens[t as usize].orig_end as usize;
        let b = self.norm.tokens[t as usize + 1].orig_start as usize;
        let between = self.text.get(a..b).unwrap_or(" ");
        if between.is_empty() {
            return Sep::Joined;
        }
        let trimmed = between.trim();
        if trimmed.is_empty() {
            Sep::Space
        } else if between
            .chars()
            .all(|c| matches!(c, '-' | '\u{2010}' | '\u{2011}' | '/'))
        {
            Sep::Hyphen
        } else if trimmed.contains(':') {
            Sep::Colon
        } else if trimmed.contains(';') {
            Sep::Semicolon
        } else if trimmed.contains(',') {
            Sep::Comma
        } else if trimmed.contains(['—', '–']) || trimmed == "-" {
            Sep::Dash
        } else {
            Sep::Other
        }
    }

    /// Whether token `t` carries a possessive: "Russia's", and "the United States'" (the
    /// trailing apostrophe is not part of the word).
    fn possessive(&self, t: u32) -> bool {
        let tok = &self.norm.tokens[t as usize];
        if tok.possessive {
            return true;
        }
        let rest = self.text.get(tok.orig_end as usize..).unwrap_or("");
        (rest.starts_with('\'') || rest.starts_with('\u{2019}'))
            && rest[rest.chars().next().map_or(1, char::len_utf8)..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
    }

    /// A recalled time ("last year", "in 2019"), but not a year inside a date ("03/07/2025").
    fn history_at(&self, t: u32) -> bool {
        self.has_start(t, G::History)
            && !(t > self.first
                && self.is_number(t)
                && matches!(self.sep(t - 1), Sep::Hyphen | Sep::Joined | Sep::Other))
    }

    fn is_number(&self, t: u32) -> bool {
        let w = self.word(t);
        !w.is_empty()
            && (w.bytes().all(|b| b.is_ascii_digit())
                || matches!(
                    w,
                    "one"
                        | "two"
                        | "three"
                        | "four"
                        | "five"
                        | "six"
                        | "seven"
                        | "eight"
                        | "nine"
                        | "ten"
                        | "eleven"
                        | "twelve"
                        | "fourteen"
                        | "fifteen"
                        | "twenty"
                        | "thirty"
                        | "forty"
                        | "sixty"
                        | "seventy"
                        | "hundred"
                        | "several"
                ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Space,
    Joined,
    Hyphen,
    Comma,
    Colon,
    Semicolon,
    Dash,
    Other,
    End,
}

impl Classifier {
    /// Compiles a pack. Every problem is reported, each naming its key.
    pub fn compile(p: &RulePack) -> Result<Classifier, Vec<String>> {
        let errors = pack::validate(p);
        if !errors.is_empty() {
            return Err(errors);
        }
        let language = Language::parse(&p.settings.language).ok_or_else(|| {
            vec![format!(
                "settings.language: {:?} is not supported",
                p.settings.language
            )]
        })?;
        let sides: Vec<String> = p.actors.keys().cloned().collect();
        let families: Vec<String> = p.objects.keys().cloned().collect();
        let scopes: Vec<String> = p.scopes.keys().cloned().collect();
        let mut stances: Vec<String> = p.stances.keys().cloned().collect();
        for s in BUILT_IN_STANCES {
            if !stances.iter().any(|x| x == s) {
                stances.push((*s).to_owned());
            }
        }
        let id = |list: &[String], name: &str| {
            list.iter()
                .position(|x| x == name)
                .map_or(u8::MAX, |i| i as u8)
        };
        let st = Known {
            accept: id(&stances, "accept"),
            reject: id(&stances, "reject"),
            condition: id(&stances, "condition"),
            pause: id(&stances, "pause"),
            resume: id(&stances, "resume"),
            ceasefire: id(&families, "ceasefire"),
            hostilities: id(&families, "hostilities"),
        };

        let mut phrases: Vec<(Vec<String>, Tag)> = Vec::new();
        let mut year_history = false;
        let mut add = |list: &[String], tag: Tag, phrases: &mut Vec<(Vec<String>, Tag)>| {
            for phrase in list {
                for expanded in pack::expand_braces(phrase).unwrap_or_default() {
                    if expanded.trim() == "<year>" {
                        if tag == Tag::Gram(G::History) {
                            year_history = true;
                        }
                        continue;
                    }
                    let words = phrase_words(&expanded);
                    if !words.is_empty() {
                        phrases.push((words, tag));
                    }
                }
            }
        };
        let grammar_classes = [
            G::Det,
            G::Be,
            G::Have,
            G::Do,
            G::Future,
            G::Modal,
            G::Neg,
            G::NotYet,
            G::Refusal,
            G::Prep,
            G::By,
            G::Coord,
            G::Break,
            G::Comp,
            G::Speech,
            G::Role,
            G::Pronoun,
            G::QOpen,
        ];
        for ((_, list), g) in p.grammar.lists().into_iter().zip(grammar_classes) {
            add(list, Tag::Gram(g), &mut phrases);
        }
        let marker_classes = [
            G::Demand,
            G::Obligation,
            G::Irrealis,
            G::Openness,
            G::Denial,
            G::Claims,
            G::History,
            G::Background,
            G::Condition,
            G::ConditionNoun,
            G::Proposal,
            G::Again,
            G::OtherConflict,
            G::Ukraine,
        ];
        for ((_, list), g) in p.markers.lists().into_iter().zip(marker_classes) {
            add(list, Tag::Gram(g), &mut phrases);
        }
        for (i, (_, list)) in p.actors.iter().enumerate() {
            add(list, Tag::Actor(i as u8), &mut phrases);
        }
        for (i, (_, list)) in p.objects.iter().enumerate() {
            add(list, Tag::Object(i as u8), &mut phrases);
        }
        for (i, (_, list)) in p.scopes.iter().enumerate() {
            add(list, Tag::Scope(i as u8), &mut phrases);
        }
        add(&p.masks.not_actor, Tag::MaskActor, &mut phrases);
        add(&p.masks.not_concept, Tag::MaskConcept, &mut phrases);
        let mut stance_words: Vec<Vec<String>> = vec![Vec::new(); stances.len()];
        let mut splits: Vec<u8> = Vec::new();
        for (name, stance) in &p.stances {
            let sid = id(&stances, name);
            let mut forms: Vec<(String, Form)> = Vec::new();
            for verb in &stance.verbs {
                for expanded in pack::expand_braces(verb).unwrap_or_default() {
                    // "put _ on hold": the object may stand between the verb and its rest;
                    // the phrase is also known whole ("put on hold weapons deliveries").
                    let expanded = if let Some((head, tail)) = expanded.split_once(" _ ") {
                        let id = splits.len() as u16;
                        splits.push(sid);
                        let tail_words = phrase_words(tail);
                        stance_words[sid as usize].push(gate_word(language, &tail_words));
                        phrases.push((tail_words, Tag::SplitTail(id)));
                        for (form_text, form) in language.verb_forms(head) {
                            let words = phrase_words(&form_text);
                            if !words.is_empty() {
                                phrases.push((words, Tag::SplitHead(id, form)));
                            }
                        }
                        format!("{head} {tail}")
                    } else {
                        expanded
                    };
                    forms.extend(language.verb_forms(&expanded));
                }
            }
            for noun in &stance.nouns {
                for expanded in pack::expand_braces(noun).unwrap_or_default() {
                    forms.extend(language.noun_forms(&expanded));
                }
            }
            for judgement in &stance.judgements {
                for expanded in pack::expand_braces(judgement).unwrap_or_default() {
                    forms.push((expanded, Form::Judgement));
                }
            }
            // Every form of every predicate of the stance, gated on its least common word.
            for (form_text, form) in forms {
                let words = phrase_words(&form_text);
                if !words.is_empty() {
                    stance_words[sid as usize].push(gate_word(language, &words));
                    phrases.push((words, Tag::Pred(sid, form)));
                }
            }
        }
        // "cease fire" as a verb is an acceptance of its own ("would cease fire").
        let mut object_words: Vec<Vec<String>> = vec![Vec::new(); families.len()];
        for (name, list) in &p.objects {
            let fid = id(&families, name) as usize;
            for phrase in list {
                for expanded in pack::expand_braces(phrase).unwrap_or_default() {
                    let words = phrase_words(&expanded);
                    if !words.is_empty() {
                        object_words[fid].push(gate_word(language, &words));
                    }
                }
            }
        }
        let object_gate = Some(WordGate::new(
            object_words.iter().flatten().map(String::as_str),
        ));
        let stance_gate = Some(WordGate::new(
            stance_words.iter().flatten().map(String::as_str),
        ));
        let family_gates: Vec<WordGate> = object_words
            .iter()
            .map(|w| WordGate::new(w.iter().map(String::as_str)))
            .collect();
        let stance_gates: Vec<WordGate> = stance_words
            .iter()
            .map(|w| WordGate::new(w.iter().map(String::as_str)))
            .collect();
        // Which stances may make a signal with which family, the readings' turns included:
        // a refused or conditioned acceptance, a lifted pause, halted hostilities.
        let bit = |sid: u8| if (sid as usize) < 64 { 1u64 << sid } else { 0 };
        let mut pairs = vec![0u64; families.len()];
        for f in &p.frames {
            let (sid, fid) = (id(&stances, &f.stance), id(&families, &f.object) as usize);
            if fid >= pairs.len() {
                continue;
            }
            pairs[fid] |= bit(sid);
            if sid == st.reject || sid == st.condition {
                pairs[fid] |= bit(st.accept) | bit(st.reject);
            }
            if sid == st.resume {
                pairs[fid] |= bit(st.pause) | bit(st.reject);
            }
            if fid == st.ceasefire as usize && (st.hostilities as usize) < pairs.len() {
                pairs[st.hostilities as usize] |=
                    bit(st.pause) | bit(st.resume) | bit(st.condition);
            }
        }
        // Every frame needs an actor of its side named in the item.
        let mut actor_words: Vec<String> = Vec::new();
        for (side, list) in &p.actors {
            if !p.frames.iter().any(|f| &f.agent == side) {
                continue;
            }
            for phrase in list {
                for expanded in pack::expand_braces(phrase).unwrap_or_default() {
                    let words = phrase_words(&expanded);
                    if !words.is_empty() {
                        actor_words.push(gate_word(language, &words));
                    }
                }
            }
        }
        let actor_gate = Some(WordGate::new(actor_words.iter().map(String::as_str)));
        let frame_sides = p
            .frames
            .iter()
            .map(|f| 1u64 << id(&sides, &f.agent))
            .fold(0, |a, b| a | b);
        let frames = p
            .frames
            .iter()
            .map(|f| Frame {
                name: f.name.clone(),
                signal: f.signal.parse().unwrap_or(SignalKind::RussiaRejects),
                agent: id(&sides, &f.agent),
                stance: id(&stances, &f.stance),
                object: id(&families, &f.object),
                weight: f.weight,
                needs_ukraine: f.needs_ukraine,
            })
            .collect();
        Ok(Classifier {
            phrases: PhraseSet::new(phrases),
            sides,
            families,
            scopes,
            stances,
            frames,
            settings: p.settings.clone(),
            st,
            object_gate,
            stance_gate,
            actor_gate,
            frame_sides,
            stance_gates,
            family_gates,
            pairs,
            year_history,
            splits,
            lang: language,
        })
    }

    /// Names of the frames, in pack order.
    pub fn rule_names(&self) -> impl Iterator<Item = (&str, SignalKind)> {
        self.frames.iter().map(|r| (r.name.as_str(), r.signal))
    }

    #[cfg(test)]
    pub(crate) fn gate_reads_raw_text(&self) -> bool {
        self.object_gate
            .as_ref()
            .is_some_and(|g| g.any_raw("").is_some())
    }

    /// Classifies one item by its title and summary (plain text).
    pub fn classify(&self, title: &str, summary: &str) -> Classification {
        SCRATCH.with(|s| {
            let mut scratch = s.borrow_mut();
            let (signals, scores) = self.run(&mut scratch, title, summary, None);
            Classification { signals, scores }
        })
    }

    /// Classifies and explains: every reading, hit, block and near miss.
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

    fn run(
        &self,
        scratch: &mut Scratch,
        title: &str,
        summary: &str,
        mut ex: Option<&mut Explanation>,
    ) -> (Vec<Signal>, [f32; 7]) {
        // 1. The gate: no object word, or no stance word, means no frame can fire.
        // A predicate and its object share a sentence, so a field; the actor may be anywhere.
        if ex.is_none()
            && let (Some(o), Some(st), Some(a)) =
                (&self.object_gate, &self.stance_gate, &self.actor_gate)
            && let (Some(t), Some(s)) = (
                phrases::any_raw_each([o, st, a], title),
                phrases::any_raw_each([o, st, a], summary),
            )
            && !((t[2] || s[2]) && (t[0] && t[1] || s[0] && s[1]))
        {
            return (Vec::new(), [0.0; 7]);
        }
        let Scratch {
            norm,
            ids,
            stack,
            mentions,
            masks,
            words,
            word_ends,
            starts,
            ends,
            masked,
            read,
        } = scratch;
        norm.clear();
        norm.push_field(Field::Title, title);
        norm.push_field(Field::Summary, summary);
        // The same on words: an actor's word anywhere, an object's and a predicate's in one
        // sentence.
        // Only those sentences are read at first; the others are looked at when the item's
        // facts (its actors, whether it is about Ukraine) decide a frame.
        read.clear();
        if ex.is_none()
            && let (Some(o), Some(st), Some(a)) =
                (&self.object_gate, &self.stance_gate, &self.actor_gate)
        {
            read.extend(norm.sentences.iter().map(|s| self.may_pair(norm, s, o, st)));
            if !a.any(norm) || !read.iter().any(|&r| r) {
                return (Vec::new(), [0.0; 7]);
            }
        }
        let mut readings: Vec<Reading> = Vec::new();
        let mut hits: Vec<Hit> = Vec::new();
        for complete in [read.is_empty(), true] {
            readings.clear();
            hits.clear();
            // 2. Mentions.
            let only = if complete { None } else { Some(&read[..]) };
            self.find_mentions(norm, (ids, stack), mentions, masks, [title, summary], only);
            // Nothing to read: no actor of a frame's side, or no sentence with both a predicate
            // and an object (every reading finds its object in its own sentence).
            if ex.is_none() {
                let actor = mentions.iter().chain(masks.iter()).any(
                    |m| matches!(m.tag, Tag::Actor(side) if self.frame_sides & (1 << side) != 0),
                );
                let pair = norm.sentences.iter().any(|s| {
                    let ms = mentions
                        .iter()
                        .filter(|m| m.first >= s.first && m.first < s.end);
                    let (mut pred, mut object) = (false, false);
                    for m in ms {
                        pred |= matches!(m.tag, Tag::Pred(..));
                        object |= matches!(m.tag, Tag::Object(_));
                    }
                    pred && object
                });
                if !pair || complete && !actor {
                    return (Vec::new(), [0.0; 7]);
                }
            }
            let mut item = ItemFacts::of(&self.sides, mentions, masks);
            item.complete = complete;
            // The item's words and grammar classes, for every sentence to read.
            let n = norm.tokens.len();
            words.clear();
            word_ends.clear();
            for t in 0..n {
                words.push_str(norm.word(t).to_str());
                word_ends.push(words.len() as u32);
            }
            starts.clear();
            starts.resize(n, 0);
            ends.clear();
            ends.resize(n, 0);
            for m in mentions.iter() {
                if let Tag::Gram(g) = m.tag {
                    starts[m.first as usize] |= 1 << g as u8;
                    ends[m.last as usize] |= 1 << g as u8;
                }
            }
            masked.clear();
            masked.extend(masks.iter().filter(|m| matches!(m.tag, Tag::Actor(_))));

            // 3. Readings, 4. frames, sentence by sentence.
            let mut start = 0usize;
            for (si, sentence) in norm.sentences.iter().enumerate() {
                let end = start
                    + mentions[start..]
                        .iter()
                        .take_while(|m| m.first < sentence.end)
                        .count();
                let ms = &mentions[start..end];
                start = end;
                if !ms.iter().any(|m| matches!(m.tag, Tag::Pred(..)))
                    || ex.is_none() && !ms.iter().any(|m| matches!(m.tag, Tag::Object(_)))
                {
                    continue;
                }
                let s = Sent {
                    words,
                    word_ends,
                    norm,
                    text: field_text(title, summary, sentence.field),
                    first: sentence.first,
                    end: sentence.end,
                    field: sentence.field,
                    question: sentence.question,
                    ms,
                    masked,
                    starts,
                    ends,
                };
                let before = readings.len();
                self.read_sentence(&s, si, &mut readings);
                for r in &readings[before..] {
                    self.frame_hits(&s, r, &item, &mut hits, ex.as_deref_mut(), title, summary);
                }
            }
            if complete || !item.wanted.get() {
                break;
            }
        }

        // 5. Scores and conflicts.
        let (emitted, scores, settled) = self.resolve(&hits);

        let make_signal = |h: &Hit, score: f32| -> Signal {
            let frame = &self.frames[h.frame];
            let text = field_text(title, summary, h.field);
            let sentence = &norm.sentences[h.sentence];
            let words = h
                .words
                .iter()
                .map(|m| {
                    let a = norm.tokens[m.first as usize].orig_start as usize;
                    let b = norm.tokens[m.last as usize].orig_end as usize;
                    text[a..b].to_owned()
                })
                .collect();
            Signal {
                kind: frame.signal,
                score,
                evidence: Evidence {
                    rule: frame.name.clone(),
                    words,
                    sentence: truncate_chars(
                        &text[sentence.orig_start as usize..sentence.orig_end as usize],
                        600,
                    ),
                    field: h.field,
                    object: Some(
                        ObjectKey {
                            family: self.families[self.frames[h.frame].object as usize].clone(),
                            scope: h.scope.0.clone(),
                            hours: h.scope.1,
                        }
                        .to_string(),
                    ),
                },
            }
        };
        let mut signals: Vec<Signal> = emitted
            .iter()
            .map(|&(k, hi)| make_signal(&hits[hi], scores[k.index()]))
            .collect();
        signals.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.kind.cmp(&b.kind)));

        // 6. Explanation.
        if let Some(ex) = ex {
            ex.hits = hits.iter().map(|h| make_signal(h, h.score)).collect();
            ex.settled = settled;
            for r in &readings {
                let s = &norm.sentences[r.sentence];
                ex.readings
                    .push(self.describe(r, norm, field_text(title, summary, s.field)));
            }
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

    /// Whether a sentence has the words of a stance and of an object family that may make a
    /// signal together.
    fn may_pair(
        &self,
        norm: &Normalized,
        s: &Sentence,
        objects: &WordGate,
        stances: &WordGate,
    ) -> bool {
        let (mut stance_bits, mut family_bits) = (0u64, 0u64);
        for t in &norm.tokens[s.first as usize..s.end as usize] {
            if stances.may_contain(t.key, t.len) {
                for (i, g) in self.stance_gates.iter().enumerate().take(64) {
                    if g.may_contain(t.key, t.len) {
                        stance_bits |= 1 << i;
                    }
                }
            }
            if objects.may_contain(t.key, t.len) {
                for (i, g) in self.family_gates.iter().enumerate().take(64) {
                    if g.may_contain(t.key, t.len) {
                        family_bits |= 1 << i;
                    }
                }
            }
        }
        (0..self.pairs.len().min(64))
            .any(|f| family_bits & (1 << f) != 0 && self.pairs[f] & stance_bits != 0)
    }

    /// Every phrase mention, sorted by position; actor and concept mentions inside masks
    /// kept aside in `masks` (an owner of a flow may still be one).
    fn find_mentions(
        &self,
        norm: &Normalized,
        (ids, stack): (&mut Vec<u32>, &mut Vec<(u32, usize)>),
        out: &mut Vec<M>,
        masks: &mut Vec<M>,
        [title, summary]: [&str; 2],
        only: Option<&[bool]>,
    ) {
        out.clear();
        masks.clear();
        let mut mask_spans: Vec<M> = Vec::new();
        // A mask is a compound ("Russia-Ukraine war", "US-brokered"): punctuation between
        // its words ("Russia, Ukraine agree") breaks it.
        let joined = |first: u32, last: u32| {
            (first..last).all(|t| {
                let a = &norm.tokens[t as usize];
                let b = &norm.tokens[t as usize + 1];
                let text = if norm.sentences[a.sentence as usize].field == Field::Title {
                    title
                } else {
                    summary
                };
                text.get(a.orig_end as usize..b.orig_start as usize)
                    .is_none_or(|g| !g.contains([',', ':', ';', '(', ')']))
            })
        };
        // Phrases come by first token; each token's group is put longest first as it ends,
        // so the list needs no sort of its own.
        let mut group = 0usize;
        let longest_first = |out: &mut Vec<M>, from: usize| {
            let g = &mut out[from..];
            for i in 1..g.len() {
                let mut j = i;
                while j > 0 && g[j - 1].last < g[j].last {
                    g.swap(j - 1, j);
                    j -= 1;
                }
            }
        };
        let mut emit = |f: phrases::Found<Tag>| {
            let m = M {
                tag: f.tag,
                first: f.first,
                last: f.last,
            };
            match f.tag {
                Tag::MaskActor | Tag::MaskConcept => {
                    if joined(f.first, f.last) {
                        mask_spans.push(m)
                    }
                }
                _ => {
                    if out.get(group).is_some_and(|g| g.first != m.first) {
                        longest_first(out, group);
                        group = out.len();
                    }
                    out.push(m)
                }
            }
        };
        match only {
            None => self.phrases.find(norm, ids, stack, &mut emit),
            Some(read) => {
                for (sentence, _) in norm.sentences.iter().zip(read).filter(|(_, r)| **r) {
                    let range = sentence.first as usize..sentence.end as usize;
                    self.phrases.find_in(norm, range, ids, stack, &mut emit);
                }
            }
        }
        longest_first(out, group);
        let mut sorted = true;
        if self.year_history {
            for (i, t) in norm.tokens.iter().enumerate() {
                let bytes = t.key.to_le_bytes();
                if t.len == 4
                    && (bytes.starts_with(b"19") || bytes.starts_with(b"20"))
                    && bytes[2..4].iter().all(u8::is_ascii_digit)
                {
                    out.push(M {
                        tag: Tag::Gram(G::History),
                        first: i as u32,
                        last: i as u32,
                    });
                    sorted = false;
                }
            }
        }
        if !mask_spans.is_empty() {
            let inside = |m: &M, kind: Tag| {
                mask_spans.iter().any(|k| {
                    k.tag == kind
                        && m.first <= k.last
                        && k.first <= m.last
                        && !(m.first <= k.first
                            && m.last >= k.last
                            && m.last - m.first > k.last - k.first)
                })
            };
            let mut kept = Vec::with_capacity(out.len());
            for m in out.drain(..) {
                let masked = match m.tag {
                    Tag::Actor(_) => inside(&m, Tag::MaskActor),
                    Tag::Object(_) | Tag::Pred(..) => inside(&m, Tag::MaskConcept),
                    _ => false,
                };
                if masked {
                    masks.push(m);
                } else {
                    kept.push(m);
                }
            }
            *out = kept;
        }
        if out.iter().any(|m| matches!(m.tag, Tag::SplitHead(..))) {
            self.join_splits(norm, out);
            sorted = false;
        }
        if !sorted {
            out.sort_by_key(|m| (m.first, std::cmp::Reverse(m.last)));
        }
        debug_assert!(out.is_sorted_by_key(|m| (m.first, std::cmp::Reverse(m.last))));
    }

    /// A split phrase's verb is a predicate when its rest follows in the sentence within
    /// eight words ("puts weapons deliveries to Ukraine on hold"); the rest's own words
    /// ("hold") are then no predicate of their own.
    fn join_splits(&self, norm: &Normalized, out: &mut Vec<M>) {
        let mut joined: Vec<(M, M)> = Vec::new();
        for h in out.iter() {
            let Tag::SplitHead(id, form) = h.tag else {
                continue;
            };
            let sentence = norm.tokens[h.first as usize].sentence;
            if let Some(t) = out
                .iter()
                .filter(|t| {
                    t.tag == Tag::SplitTail(id)
                        && t.first > h.last
                        && t.first <= h.last + 8
                        && norm.tokens[t.first as usize].sentence == sentence
                })
                .min_by_key(|t| t.first)
            {
                let stance = self.splits[id as usize];
                joined.push((
                    M {
                        tag: Tag::Pred(stance, form),
                        first: h.first,
                        last: h.last,
                    },
                    *t,
                ));
            }
        }
        out.retain(|m| {
            let split = matches!(m.tag, Tag::SplitHead(..) | Tag::SplitTail(_));
            let inside_tail = matches!(m.tag, Tag::Pred(..))
                && joined
                    .iter()
                    .any(|(_, t)| m.first >= t.first && m.last <= t.last);
            !split && !inside_tail
        });
        out.extend(joined.into_iter().map(|(p, _)| p));
    }

    /// Reads every predicate of a sentence.
    fn read_sentence(&self, s: &Sent<'_>, si: usize, out: &mut Vec<Reading>) {
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
    fn noun_use(&self, s: &Sent<'_>, p: M) -> bool {
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
        if s.has_end(prev, G::Det)
            || s.ms
                .iter()
                .any(|m| m.last == prev && matches!(m.tag, Tag::Actor(_)) && s.possessive(m.last))
        {
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
                })
        })
    }

    /// The verb predicate a noun predicate is the object of ("lifts its pause", "announced
    /// a halt"): the nearest verb-form predicate before it, with only its determiner,
    /// possessive or adjuncts between.
    fn governing_verb(&self, s: &Sent<'_>, p: M) -> Option<M> {
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

    /// Reads one predicate: construction, objects, agent, modality.
    fn read(&self, s: &Sent<'_>, si: usize, p: M, stance: u8, form: Form) -> Option<Reading> {
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
        // A participle joined to a word before it ("US-backed", "Kremlin-sponsored") or
        // standing before the noun it describes ("the proposed truce") is no predicate.
        if form.participle() || form == Form::Past {
            if p.first > s.first && s.sep(p.first - 1) == Sep::Hyphen {
                return Some(blocked("modifier"));
            }
            if self.attributive(s, p) {
                return Some(blocked("modifier"));
            }
        }
        // A verb joined to the next word is part of a compound noun: "Cease-fire Talks".
        if form != Form::Noun && form != Form::Judgement && s.sep(p.last) == Sep::Hyphen {
            return Some(blocked("compound"));
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
                return Some(blocked("background"));
            }
        }
        let construction = if form == Form::Judgement {
            Construction::Judgement
        } else if form == Form::Noun {
            Construction::Noun
        } else if form.participle() && (self.passive_aux(s, p) || self.headline_passive(s, p)) {
            Construction::Passive
        } else {
            Construction::Active
        };
        let mut construction = construction;
        let mut objects = match construction {
            Construction::Active => self.objects_after(s, p),
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
                if !after.is_empty() || opens_clause {
                    after
                } else {
                    self.objects_before_in_clause(s, p, 14)
                }
            }
            Construction::ObjectSubject => Vec::new(),
        };
        // An intransitive use: the object is the subject ("Arms deliveries resume", "US aid
        // to Ukraine halted", "the truce takes effect", "the Easter truce expires").
        if objects.is_empty()
            && construction == Construction::Active
            && stance != self.st.condition
            && form.finite()
        {
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
            if !before.is_empty() && agrees && self.subject_of(s, p).is_none() {
                objects = before;
                construction = Construction::ObjectSubject;
            }
        }
        // A relative clause: "the 30-day cease-fire that Russia has rebuffed".
        if objects.is_empty()
            && construction == Construction::Active
            && let Some(a) = self.subject_of(s, p).and_then(|a| a.mention)
        {
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
                objects = vec![*o];
            }
        }
        // Ending a pause is resuming: "US ends its pause on aid", "backs off hold on aid".
        let mut stance = stance;
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
            stance = self.st.resume;
        }
        // "cease fire" / "halt fighting" read as one phrase: the object is inside it.
        if objects.is_empty() {
            return Some(Reading {
                objects,
                construction,
                ..blocked("object")
            });
        }
        // A noun that is the object of a verb predicate: announced, ordered, declared, it is
        // asserted with the verb's subject; lifted, rejected, ended, it is not.
        let mut governor_subject: Option<Agent> = None;
        if construction == Construction::Noun
            && let Some(v) = self.governing_verb(s, p)
        {
            let Tag::Pred(vs, _) = v.tag else {
                unreachable!()
            };
            if vs == self.st.accept {
                // "Polish minister confirms resumption of U.S. arms deliveries": the noun's
                // own agent first; "Putin announced a halt to strikes": the verb's subject.
                governor_subject = self
                    .noun_agent(s, p)
                    .or_else(|| self.owner(s, &objects))
                    .or_else(|| self.subject_of(s, v))
                    .or_else(|| self.speaker(s, v));
            } else {
                return Some(Reading {
                    objects,
                    construction,
                    ..blocked("object of another predicate")
                });
            }
        }
        // A noun that is the subject of another predicate's passive: "Russia's proposal for
        // a ceasefire was rejected by Kyiv".
        if construction == Construction::Noun && governor_subject.is_none() {
            let np_end = objects
                .iter()
                .map(|o| o.last)
                .max()
                .unwrap_or(p.last)
                .max(p.last);
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
                return Some(Reading {
                    objects,
                    construction,
                    ..blocked("subject of another predicate")
                });
            }
        }
        let agent = match construction {
            Construction::Noun if governor_subject.is_some() => governor_subject,
            Construction::Active => self.subject_of(s, p).or_else(|| self.speaker(s, p)),
            Construction::Passive => self
                .by_agent(s, p.last)
                .or_else(|| self.owner(s, &objects))
                .or_else(|| self.speaker(s, p)),
            Construction::Noun => self
                .noun_agent(s, p)
                .or_else(|| {
                    self.by_agent(s, objects.iter().map(|o| o.last).max().unwrap_or(p.last))
                })
                .or_else(|| self.owner(s, &objects))
                .or_else(|| self.speaker(s, p)),
            Construction::ObjectSubject => self.owner(s, &objects).or_else(|| self.speaker(s, p)),
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
                by_colon
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
        };
        let conditioned = self.conditioned(s, p, &objects);
        let (mut modality, mut modal_word) = self.modality(s, p, construction, agent, &objects);
        // A conditional offer in the agent's own words: "Putin says Russia would cease fire
        // if Kyiv withdraws", "could pause strikes if Ukraine holds an election".
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
                modality = Modality::Open;
                modal_word = None;
            }
        }
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

    /// A participle before the noun it describes: "the proposed truce", "discuss proposed
    /// Ukraine truce", "a declared ceasefire". Not after an actor, a pronoun or an auxiliary
    /// ("Putin proposed truce", "has declared a truce").
    fn attributive(&self, s: &Sent<'_>, p: M) -> bool {
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
        if p.first == s.first {
            return true;
        }
        let prev = p.first - 1;
        let verbal_before = s.has_end(prev, G::Be)
            || s.has_end(prev, G::Have)
            || s.has_end(prev, G::Modal)
            || s.has_end(prev, G::Future)
            || s.has_end(prev, G::Neg)
            || s.has_end(prev, G::Pronoun)
            || s.has_end(prev, G::Do)
            || s.ms
                .iter()
                .any(|m| m.last == prev && matches!(m.tag, Tag::Actor(_)) && !s.possessive(m.last))
            || s.sep(prev) == Sep::Colon;
        !verbal_before
    }

    /// "was rejected", "has been halted", "will be resumed", "is being restored".
    fn passive_aux(&self, s: &Sent<'_>, p: M) -> bool {
        let mut t = p.first;
        for _ in 0..4 {
            if t <= s.first {
                return false;
            }
            t -= 1;
            if s.has_end(t, G::Be) {
                return true;
            }
            let w = s.word(t);
            let skippable = s.has_end(t, G::Neg)
                || s.has_end(t, G::NotYet)
                || matches!(
                    w,
                    "also"
                        | "now"
                        | "reportedly"
                        | "officially"
                        | "effectively"
                        | "temporarily"
                        | "again"
                        | "already"
                        | "formally"
                        | "largely"
                        | "fully"
                        | "partially"
                        | "quietly"
                );
            if !skippable {
                return false;
            }
        }
        false
    }

    /// A participle without "be" read as passive: "Truce rejected by Moscow", "US aid to
    /// Ukraine halted" (the object before it, no subject of its own), "the truce declared by
    /// Putin" (a reduced relative clause: also passive, its assertion judged later).
    fn headline_passive(&self, s: &Sent<'_>, p: M) -> bool {
        if self.by_agent(s, p.last).is_some() {
            return true;
        }
        !self.objects_before(s, p).is_empty() && self.subject_of(s, p).is_none()
    }

    /// Objects after a verb: the first object phrase in its clause within reach, through
    /// determiners, adjectives and a proposal head ("rejected Zelensky's proposal for a
    /// 30-day ceasefire"), and any objects coordinated with it.
    fn objects_after(&self, s: &Sent<'_>, p: M) -> Vec<M> {
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
            if !proposal
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
            let rejecting = matches!(p.tag, Tag::Pred(st, _) if st == self.st.reject);
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

    /// Whether an actor starting at `t` is followed by a verb group (a modal, an auxiliary,
    /// a speech verb): then it is the subject of a clause of its own.
    fn clause_follows(&self, s: &Sent<'_>, t: u32) -> bool {
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

    fn with_coordinated(&self, s: &Sent<'_>, first: M) -> Vec<M> {
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

    /// Objects before a predicate in its clause: the subject of a passive ("the truce was
    /// rejected") or of an intransitive ("arms deliveries resume").
    fn objects_before(&self, s: &Sent<'_>, p: M) -> Vec<M> {
        self.objects_before_in_clause(s, p, 8)
    }

    fn objects_before_in_clause(&self, s: &Sent<'_>, p: M, reach: u32) -> Vec<M> {
        let lo = p.first.saturating_sub(reach).max(s.first);
        let mut t = p.first;
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
    fn np_head(&self, s: &Sent<'_>, o: M) -> M {
        let mut head = o;
        loop {
            let found = s.ms.iter().find(|m| {
                matches!(m.tag, Tag::Object(_))
                    && m.last < head.first
                    && head.first - m.last <= 3
                    && s.has_start(m.last + 1, G::Prep)
                    && (m.last + 2..head.first).all(|u| s.has_start(u, G::Det))
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
    fn noun_objects(&self, s: &Sent<'_>, p: M) -> Vec<M> {
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

    /// The actor group that ends at `t`, if one does (longest mention; "Russia and Ukraine"
    /// coordinated into one group).
    fn actor_group_ending(&self, s: &Sent<'_>, t: u32) -> Option<(u64, M, u32)> {
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
            if !coord || prev <= s.first {
                break;
            }
            let before = if s.has_end(prev, G::Coord) {
                prev - 1
            } else {
                prev
            };
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
    fn subject_of(&self, s: &Sent<'_>, p: M) -> Option<Agent> {
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
                if object_ends(t) {
                    return None;
                }
            }
            // "Putin: Cease-fire deal reached": the actor before a colon is the speaker.
            if s.sep(t) == Sep::Colon {
                break;
            }
            if let Some((sides, m, group_first)) = self.actor_group_ending(s, t) {
                let possessive = s.possessive(m.last);
                let governed = group_first > s.first
                    && (s.has_end(group_first - 1, G::Prep) || s.has_end(group_first - 1, G::By))
                    && s.word(group_first - 1) != "as";
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
                let role_follows =
                    (m.last + 1..(m.last + 4).min(p.first)).any(|u| s.has_start(u, G::Role));
                // "the US proposal", "US weapons": an actor before a noun modifies it.
                let next = m.last + 1;
                let adjunct = next <= p.first
                    && s.ms.iter().any(|o| {
                        o.first == next
                            && (matches!(o.tag, Tag::Object(_)) || o.tag == Tag::Gram(G::Proposal))
                    })
                    && !s
                        .ms
                        .iter()
                        .any(|o| o.first == next && matches!(o.tag, Tag::Pred(_, f) if f.finite()));
                if (possessive && !role_follows) || governed || adjunct {
                    if governed && group_first >= s.first + 2 && object_ends(group_first - 2) {
                        return None;
                    }
                    t = group_first;
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
            if s.has_end(t, G::Pronoun) {
                return self.speaker(s, p).map(|a| Agent {
                    by: AgentBy::Speaker,
                    ..a
                });
            }

            if s.has_end(t, G::Break)
                || (s.has_end(t, G::Comp) && s.word(t) != "that")
                || s.sep(t) == Sep::Semicolon
                || s.has_end(t, G::Speech) && t + 1 < p.first && s.word(t + 1) == "that"
            {
                break;
            }
        }
        None
    }

    /// "by X" right after `last` (within two words: "by the Kremlin").
    fn by_agent(&self, s: &Sent<'_>, last: u32) -> Option<Agent> {
        for t in last + 1..(last + 3).min(s.end) {
            if s.has_start(t, G::By) {
                // "by Moscow", "by the Kremlin", "by Foreign Minister Sergei Lavrov".
                for u in t + 1..(t + 6).min(s.end) {
                    if let Some(m) =
                        s.ms.iter()
                            .filter(|m| m.first == u && matches!(m.tag, Tag::Actor(_)))
                            .max_by_key(|m| m.last - m.first)
                    {
                        let end =
                            s.ms.iter()
                                .filter(|o| {
                                    matches!(o.tag, Tag::Actor(_))
                                        && o.first >= m.first
                                        && o.first <= m.last + 1
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
    fn noun_agent(&self, s: &Sent<'_>, p: M) -> Option<Agent> {
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
    fn owner(&self, s: &Sent<'_>, objects: &[M]) -> Option<Agent> {
        let o = objects.first()?;
        // Owners may be masked as actors ("us weapons" hides "us"): look at every actor
        // mention, masked or not, through the item's full list.
        let lo = o.first.saturating_sub(3).max(s.first);
        for m in s.ms.iter().chain(s.masked.iter()).rev() {
            if let Tag::Actor(side) = m.tag
                && m.first >= lo
                && m.last <= o.last
                && m.last >= lo
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
    fn speaker(&self, s: &Sent<'_>, p: M) -> Option<Agent> {
        let subject_capable = |m: &M| {
            matches!(m.tag, Tag::Actor(_))
                && (m.first == s.first
                    || !s.has_end(m.first - 1, G::Prep)
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
            for a in s.ms.iter().filter(|m| subject_capable(m)) {
                let distance = if a.last < speech.first {
                    speech.first - a.last - 1
                } else if a.first > speech.last {
                    a.first - speech.last - 1
                } else {
                    continue;
                };
                let limit = 3;
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
    }

    /// The one who speaks before a colon: "Peskov: no truce before ...", "Putin after call
    /// with Trump: ceasefire possible ...", "the Kremlin responds: 'It is unacceptable'".
    /// The actor nearest the colon that no preposition governs.
    fn colon_speaker(&self, s: &Sent<'_>, p: M) -> Option<Agent> {
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

    /// How the predicate is meant, and the word that says so.
    fn modality(
        &self,
        s: &Sent<'_>,
        p: M,
        construction: Construction,
        agent: Option<Agent>,
        objects: &[M],
    ) -> (Modality, Option<M>) {
        let at = |t: u32| {
            Some(M {
                tag: Tag::Gram(G::Det),
                first: t,
                last: t,
            })
        };
        // Questions: a question mark, or a headline opening with "Will", "What", "Why".
        if s.question {
            return (Modality::Blocked("question"), None);
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
            return (Modality::Blocked("question"), at(s.first));
        }
        // The verb group: from the subject (or a few words back) to the predicate.
        let subject_end = agent
            .and_then(|a| a.mention)
            .filter(|m| m.last < p.first && a_is_subject(agent))
            .map(|m| m.last + 1);
        let lo = subject_end
            .unwrap_or_else(|| p.first.saturating_sub(4))
            .max(s.first)
            .max(p.first.saturating_sub(8));
        let mut modality = Modality::Asserted;
        let mut word = None;
        let reported = (s.first..p.first).any(|t| s.has_start(t, G::Speech));
        for t in lo..p.first {
            let here = |g| s.has_start(t, g);
            if here(G::NotYet) {
                return (Modality::Blocked("not_yet"), at(t));
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
                return (Modality::Blocked("denial"), at(t));
            }
            if here(G::Refusal) || here(G::Neg) && modality == Modality::Asserted {
                modality = Modality::Refused;
                word = at(t);
            } else if here(G::Modal) {
                let w = s.word(t);
                // "said Russia would observe it": a reported commitment; "a truce would be a
                // trap": a judgement.
                if !(w == "would" && reported || construction == Construction::Judgement) {
                    return (Modality::Blocked("modal"), at(t));
                }
            } else if here(G::Irrealis) && !here(G::Speech) {
                return (Modality::Blocked("irrealis"), at(t));
            } else if here(G::Openness) {
                modality = if modality == Modality::Refused {
                    Modality::Refused
                } else {
                    Modality::Open
                };
                word = at(t);
            } else if here(G::Denial) {
                return (Modality::Blocked("denial"), at(t));
            } else if (s.history_at(t) || s.word(t) == "had" && !reported)
                && construction != Construction::Noun
            {
                return (Modality::Blocked("history"), at(t));
            }
        }
        // A time put first: "In 2024, the US ran out of money for Ukraine."
        for t in s.first..(s.first + 3).min(p.first) {
            if s.history_at(t) && (t..p.first).any(|u| s.sep(u) == Sep::Comma) {
                return (Modality::Blocked("history"), at(t));
            }
        }
        // A clause that places the news in time recalls an earlier deed: "days after he froze
        // military assistance", "since Moscow rejected the truce".
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
                if k > s.first {
                    match s.word(k - 1) {
                        "after" | "since" | "before" | "when" => {
                            return (Modality::Blocked("background"), at(k - 1));
                        }
                        // "should Russia agree to a truce", "had Moscow accepted".
                        "if" | "unless" | "whether" | "should" | "were" | "had" => {
                            return (Modality::Blocked("hypothetical"), at(k - 1));
                        }
                        // "Trump claimed Putin kept his word on a truce".
                        "claimed" | "claims" | "claiming" | "alleged" | "alleges" | "falsely" => {
                            return (Modality::Blocked("claims"), at(k - 1));
                        }
                        // "EU leaders demand Russia accept the truce": a subjunctive.
                        _ if s.has_end(k - 1, G::Demand)
                            && matches!(p.tag, Tag::Pred(_, Form::Base)) =>
                        {
                            return (Modality::Blocked("demand"), at(k - 1));
                        }
                        _ => {}
                    }
                }
            }
        }
        // An infinitive: "to" before the predicate and what governs it.
        if construction == Construction::Active && p.first > s.first && s.word(p.first - 1) == "to"
        {
            let to = p.first - 1;
            // The content of a proposal, an appeal, a call: "a proposal by the UN to declare
            // a truce", "calls for Moscow to halt strikes".
            let mut u = to;
            for _ in 0..8 {
                if u <= s.first {
                    break;
                }
                u -= 1;
                if s.has_end(u, G::Proposal)
                    && !s
                        .ms
                        .iter()
                        .any(|m| m.last == u && matches!(m.tag, Tag::Pred(_, f) if f.finite()))
                {
                    return (Modality::Blocked("proposal"), at(u));
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
                            return (Modality::Blocked("demand"), at(g));
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
                    return (Modality::Blocked("irrealis"), at(before));
                } else if s.has_end(before, G::Openness) {
                    if modality != Modality::Refused {
                        modality = Modality::Open;
                        word = at(before);
                    }
                } else if s.has_end(before, G::Refusal) {
                    modality = Modality::Refused;
                    word = at(before);
                } else if s.has_end(before, G::Obligation) || s.has_end(before, G::Modal) {
                    return (Modality::Blocked("demand"), at(before));
                }
            }
        }
        // Obligations right before the subject's verb: "Russia must accept".
        // (Covered by modals above.) Denials anywhere before in the clause: "denies that
        // it agreed", "rejects claims that Russia agreed".
        let clause_lo = p.first.saturating_sub(14).max(s.first);
        for t in clause_lo..p.first {
            // A judgement judges the talk itself: "talk of a truce is premature".
            if s.has_start(t, G::Claims)
                && (t + 1..p.first).any(|u| {
                    s.has_start(u, G::Comp)
                        || s.word(u) == "of" && construction != Construction::Judgement
                })
            {
                return (Modality::Blocked("claims"), at(t));
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
                    return (Modality::Blocked("denial"), at(t));
                }
            }
        }
        // A time in the past after the predicate: "paused aid in 2019", "rejected it last
        // year".
        let hi = (objects.iter().map(|o| o.last).max().unwrap_or(p.last) + 9).min(s.end);
        for t in p.last + 1..hi {
            if s.history_at(t) {
                return (Modality::Blocked("history"), at(t));
            }
            if s.has_start(t, G::Break) || s.has_start(t, G::Comp) {
                break;
            }
        }
        // Noun predicates recalled as background: "after the aid pause", "since Russia's
        // rejection", "amid a US freeze on weapons".
        if construction == Construction::Noun {
            let lo = p.first.saturating_sub(5).max(s.first);
            let mut t = p.first;
            while t > lo {
                t -= 1;
                if s.has_end(t, G::Background) {
                    return (Modality::Blocked("background"), at(t));
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
            let np_end = objects
                .iter()
                .map(|o| o.last)
                .max()
                .unwrap_or(p.last)
                .max(p.last);
            for t in np_end + 1..(np_end + 7).min(s.end) {
                if s.word(t) == "had" {
                    return (Modality::Blocked("history"), at(t));
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
                    return (Modality::Blocked("history"), at(t));
                }
            }
        }
        // A reduced relative clause is background: "the truce declared by Putin was
        // broken", unless the object opens a headline ("Truce declared by Putin").
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
                return (Modality::Blocked("background"), None);
            }
        }
        (modality, word)
    }

    /// Whether the sentence puts a condition on the predicate: "only if", "unless", "but
    /// with conditions", "in exchange for", after it (or right before: "if Kyiv withdraws,
    /// Russia would ...").
    fn conditioned(&self, s: &Sent<'_>, p: M, objects: &[M]) -> Cond {
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

    /// The hits of one reading: every frame its stance, agent and object satisfy.
    #[allow(clippy::too_many_arguments)]
    fn frame_hits(
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
            let a = s.norm.tokens[s.first as usize].orig_start as usize;
            let b = s.norm.tokens[s.end as usize - 1].orig_end as usize;
            field_text(title, summary, s.field)[a..b].to_owned()
        };
        for &object in &r.objects {
            let Tag::Object(family) = object.tag else {
                continue;
            };
            // Halting hostilities is accepting a ceasefire; resuming them, rejecting one.
            let (mut stance, family) = if family == self.st.hostilities && r.stance == self.st.pause
            {
                (self.st.accept, self.st.ceasefire)
            } else if family == self.st.hostilities && r.stance == self.st.resume {
                (self.st.reject, self.st.ceasefire)
            } else if family == self.st.hostilities && r.stance == self.st.condition {
                (self.st.condition, self.st.ceasefire)
            } else if family == self.st.hostilities && self.halted(s, object) {
                // "agreed with the proposal to cease hostilities": the halt is a ceasefire.
                (r.stance, self.st.ceasefire)
            } else {
                (r.stance, family)
            };
            let mut blocked: Option<(&'static str, String)> = None;
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
            // Ceasefires of other wars.
            {
                let other = s.ms.iter().find(|m| m.tag == Tag::Gram(G::OtherConflict));
                let ukraine_here = s.ms.iter().any(|m| {
                    m.tag == Tag::Gram(G::Ukraine)
                        && !matches!(
                            s.word(m.first),
                            "russia" | "russian" | "kremlin" | "moscow" | "putin"
                        )
                });
                if let Some(o) = other
                    && !ukraine_here
                {
                    blocked = blocked.or(Some(("other_conflict", self.word_text(s, Some(*o)))));
                }
            }
            for (fi, frame) in self.frames.iter().enumerate() {
                if frame.stance != stance || frame.object != family {
                    continue;
                }
                let agent_ok = r.agent.is_some_and(|a| a.sides & (1 << frame.agent) != 0);
                // An agentless pause or resumption of a flow is the item's actor's, also when
                // the other side tells of it ("intelligence sharing has been restored,
                // Ukrainian officials said").
                let recipient = self.sides.iter().position(|n| n == "ukraine");
                let by_speaker = r.agent.is_some_and(|a| {
                    a.by == AgentBy::Speaker && recipient.is_some_and(|u| a.sides == 1 << u)
                });
                let context_eligible = (r.agent.is_none() || by_speaker)
                    && (stance == self.st.pause || stance == self.st.resume)
                    && family != self.st.ceasefire
                    && matches!(
                        r.construction,
                        Construction::Passive | Construction::ObjectSubject | Construction::Noun
                    );
                let context_agent = context_eligible && item.sides & (1 << frame.agent) != 0;
                // Facts from some sentences only: a frame they fail is decided on all of them.
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

    /// A reject judgement after the object in its clause ("calls the truce premature").
    /// Whether a pause predicate governs hostilities right before them: "to cease
    /// hostilities", "halting strikes on energy".
    fn halted(&self, s: &Sent<'_>, object: M) -> bool {
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

    fn judged_after(&self, s: &Sent<'_>, object: M) -> bool {
        s.ms.iter().any(|m| {
            matches!(m.tag, Tag::Pred(st, Form::Judgement) if st == self.st.reject)
                && m.first > object.last
                && m.first <= object.last + 6
        })
    }

    /// Which ceasefire or flow: a scope phrase in the object's phrase or right around it,
    /// or "N-day" / "N-hour" before it.
    fn scope_of(&self, s: &Sent<'_>, pred: M, object: M) -> (Option<String>, Option<u32>) {
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

    /// Per signal, the noisy-or of its hits (the best per frame and field); then per topic
    /// one stance: a title hit beats a summary one, conditional beats acceptance, and a tie
    /// goes to the stronger score.
    fn resolve(&self, hits: &[Hit]) -> (Vec<(SignalKind, usize)>, [f32; 7], Vec<String>) {
        let mut scores = [0f32; 7];
        let mut best: [Option<usize>; 7] = [None; 7];
        let mut seen: Vec<(usize, Field)> = Vec::new();
        let mut order: Vec<usize> = (0..hits.len()).collect();
        order.sort_by(|&a, &b| hits[b].score.total_cmp(&hits[a].score));
        for &hi in &order {
            let h = &hits[hi];
            if seen.contains(&(h.frame, h.field)) {
                continue;
            }
            seen.push((h.frame, h.field));
            let k = self.frames[h.frame].signal.index();
            scores[k] = 1.0 - (1.0 - scores[k]) * (1.0 - h.score);
            if best[k].is_none_or(|b| h.score > hits[b].score) {
                best[k] = Some(hi);
            }
        }
        let mut candidates: Vec<SignalKind> = SignalKind::ALL
            .into_iter()
            .filter(|k| scores[k.index()] >= self.settings.threshold)
            .collect();
        let mut settled = Vec::new();
        let in_title = |k: SignalKind| {
            hits.iter().any(|h| {
                self.frames[h.frame].signal == k
                    && h.field == Field::Title
                    && h.score >= self.settings.threshold
            })
        };
        for group in [
            &[
                SignalKind::RussiaAccepts,
                SignalKind::RussiaRejects,
                SignalKind::RussiaConditional,
            ][..],
            &[SignalKind::UsAidPaused, SignalKind::UsAidResumed][..],
            &[SignalKind::UsIntelPaused, SignalKind::UsIntelResumed][..],
        ] {
            let present: Vec<SignalKind> = candidates
                .iter()
                .copied()
                .filter(|k| group.contains(k))
                .collect();
            if present.len() < 2 {
                continue;
            }
            // Two stances about different ceasefires are two events: both stand.
            let scopes: Vec<Option<ObjectKey>> = present
                .iter()
                .map(|k| {
                    best[k.index()].map(|hi| ObjectKey {
                        family: String::new(),
                        scope: hits[hi].scope.0.clone(),
                        hours: hits[hi].scope.1,
                    })
                })
                .collect();
            let apart = scopes.iter().enumerate().all(|(i, a)| {
                scopes.iter().skip(i + 1).all(|b| match (a, b) {
                    (Some(a), Some(b)) => a.agrees(b) == Some(false),
                    _ => false,
                })
            });
            if apart {
                continue;
            }
            let titled: Vec<SignalKind> =
                present.iter().copied().filter(|&k| in_title(k)).collect();
            let pool = if titled.is_empty() {
                present.clone()
            } else {
                titled
            };
            let winner = if pool.contains(&SignalKind::RussiaConditional)
                && pool.contains(&SignalKind::RussiaAccepts)
                && !pool.contains(&SignalKind::RussiaRejects)
            {
                SignalKind::RussiaConditional
            } else {
                *pool
                    .iter()
                    .max_by(|a, b| {
                        scores[a.index()]
                            .total_cmp(&scores[b.index()])
                            .then_with(|| rank(**a).cmp(&rank(**b)))
                    })
                    .unwrap_or(&pool[0])
            };
            for k in present {
                if k != winner {
                    candidates.retain(|c| *c != k);
                    settled.push(format!(
                        "{k} dropped: one stance per topic, {winner} {}",
                        if in_title(winner) && !in_title(k) {
                            "is in the headline"
                        } else {
                            "scores higher or is more specific"
                        }
                    ));
                }
            }
        }
        let emitted = candidates
            .into_iter()
            .filter_map(|k| best[k.index()].map(|hi| (k, hi)))
            .collect();
        (emitted, scores, settled)
    }

    fn word_text(&self, s: &Sent<'_>, m: Option<M>) -> String {
        match m {
            Some(m) => (m.first..=m.last.min(s.end.saturating_sub(1)))
                .map(|t| s.word(t).to_owned())
                .collect::<Vec<_>>()
                .join(" "),
            None => String::new(),
        }
    }

    fn side_names(&self, sides: u64) -> String {
        let names: Vec<&str> = (0..self.sides.len())
            .filter(|&i| sides & (1 << i) != 0)
            .map(|i| self.sides[i].as_str())
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join("+")
        }
    }

    /// A reading for people: "rejected (reject): active; agent Kremlin (russia, subject);
    /// object truce (ceasefire); asserted".
    fn describe(&self, r: &Reading, norm: &Normalized, text: &str) -> String {
        let quote = |m: M| {
            let a = norm.tokens[m.first as usize].orig_start as usize;
            let b = norm.tokens[m.last as usize].orig_end as usize;
            text.get(a..b).unwrap_or("").to_owned()
        };
        let agent = match r.agent {
            Some(a) => format!(
                "{} ({}, {})",
                a.mention.map(quote).unwrap_or_default(),
                self.side_names(a.sides),
                a.by.name()
            ),
            None => "none".into(),
        };
        let objects: Vec<String> = r
            .objects
            .iter()
            .map(|o| match o.tag {
                Tag::Object(f) => format!("{} ({})", quote(*o), self.families[f as usize]),
                _ => quote(*o),
            })
            .collect();
        let modality = match r.modality {
            Modality::Asserted => "asserted".to_owned(),
            Modality::Refused => "refused (an acceptance refused is a rejection)".to_owned(),
            Modality::Open => "with reservations".to_owned(),
            Modality::Blocked(why) => format!("not asserted: {why}"),
        };
        format!(
            "{} ({}): {}; agent {agent}; object {}; {modality}{}",
            quote(r.pred),
            self.stances[r.stance as usize],
            r.construction.name(),
            if objects.is_empty() {
                "none".into()
            } else {
                objects.join(", ")
            },
            match r.conditioned {
                Cond::Strong => "; conditioned",
                Cond::Until => "; until",
                Cond::None => "",
            }
        )
    }

    /// For each signal not emitted, a frame whose stance and object were present but not
    /// read together, and what it lacked.
    fn near_misses(
        &self,
        norm: &Normalized,
        mentions: &[M],
        title: &str,
        summary: &str,
        emitted: &[(SignalKind, usize)],
        ex: &mut Explanation,
    ) {
        for frame in &self.frames {
            if emitted.iter().any(|(k, _)| *k == frame.signal)
                || ex.blocked.iter().any(|b| b.signal == frame.signal)
            {
                continue;
            }
            for sentence in &norm.sentences {
                let ms = mentions
                    .iter()
                    .filter(|m| m.first >= sentence.first && m.first < sentence.end);
                let mut have_stance = false;
                let mut have_object = false;
                let mut have_agent = false;
                for m in ms {
                    match m.tag {
                        Tag::Pred(st, _) if st == frame.stance => have_stance = true,
                        Tag::Object(f) if f == frame.object => have_object = true,
                        Tag::Actor(side) if side == frame.agent => have_agent = true,
                        _ => {}
                    }
                }
                let mut missing = Vec::new();
                if !have_stance {
                    missing.push(format!(
                        "a {} predicate",
                        self.stances[frame.stance as usize]
                    ));
                }
                if !have_object {
                    missing.push(format!("a {} object", self.families[frame.object as usize]));
                }
                if !have_agent {
                    missing.push(format!("an actor of {}", self.sides[frame.agent as usize]));
                }
                if missing.len() == 1 {
                    ex.partial.push(Partial {
                        rule: frame.name.clone(),
                        signal: frame.signal,
                        missing,
                        sentence: field_text(title, summary, sentence.field)
                            [sentence.orig_start as usize..sentence.orig_end as usize]
                            .to_owned(),
                    });
                    break;
                }
            }
        }
    }
}

/// Whether the agent was found as a subject before the verb (its words bound the verb
/// group).
fn a_is_subject(agent: Option<Agent>) -> bool {
    agent.is_some_and(|a| a.by == AgentBy::Subject)
}

/// Precedence on a tie: rejection over conditions over acceptance; a resumption (the later
/// state) over a pause.
fn rank(k: SignalKind) -> u8 {
    match k {
        SignalKind::RussiaRejects => 3,
        SignalKind::RussiaConditional => 2,
        SignalKind::RussiaAccepts => 1,
        SignalKind::UsAidResumed | SignalKind::UsIntelResumed => 2,
        SignalKind::UsAidPaused | SignalKind::UsIntelPaused => 1,
    }
}

/// What the whole item says, for frames that look beyond their sentence.
struct ItemFacts {
    /// Sides of every actor mentioned (masked adjuncts too: "US weapons").
    sides: u64,
    /// Ukraine is named as a party (not only inside a compound like "Russia-Ukraine peace
    /// talks", nor by naming Russia).
    ukraine: bool,
    /// Whether the facts come from every sentence, or only from those read first.
    complete: bool,
    /// Set when a frame failed on facts that were not complete: read the whole item.
    wanted: std::cell::Cell<bool>,
}

impl ItemFacts {
    fn of(sides_by_id: &[String], mentions: &[M], masks: &[M]) -> ItemFacts {
        let mut sides = 0u64;
        for m in mentions.iter().chain(masks) {
            if let Tag::Actor(side) = m.tag {
                sides |= 1 << side;
            }
        }
        let ukraine_side = sides_by_id.iter().position(|n| n == "ukraine");
        let overlaps = |a: &M, b: &M| a.first <= b.last && b.first <= a.last;
        let ukraine = mentions.iter().any(|m| {
            m.tag == Tag::Gram(G::Ukraine)
                && !masks
                    .iter()
                    .any(|k| matches!(k.tag, Tag::Actor(_)) && overlaps(k, m))
                && !mentions.iter().any(|a| {
                    matches!(a.tag, Tag::Actor(side) if Some(side as usize) != ukraine_side)
                        && overlaps(a, m)
                })
        });
        ItemFacts {
            sides,
            ukraine,
            complete: true,
            wanted: std::cell::Cell::new(false),
        }
    }
}

/// The value of a number written in digits or words ("30", "three"), if it is one.
fn number_value(w: &str) -> Option<u32> {
    if let Ok(n) = w.parse::<u32>() {
        return Some(n).filter(|&n| n > 0 && n <= 10_000);
    }
    let words = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen",
    ];
    if let Some(i) = words.iter().position(|x| *x == w) {
        return Some(i as u32 + 1);
    }
    match w {
        "twenty" => Some(20),
        "thirty" => Some(30),
        "forty" => Some(40),
        "sixty" => Some(60),
        "seventy" => Some(70),
        "ninety" => Some(90),
        "hundred" => Some(100),
        _ => None,
    }
}

/// One word of a phrase to gate on: its least common, then longest; a prefix taken as it
/// is.
fn gate_word(language: Language, words: &[String]) -> String {
    words
        .iter()
        .max_by_key(|w| {
            let bare = w.trim_end_matches('*');
            // A prefix stands for words of unknown frequency: as rare as any.
            let rank = if w.ends_with('*') {
                u32::MAX
            } else {
                language.frequency_rank(bare)
            };
            (rank, bare.len())
        })
        .cloned()
        .unwrap_or_default()
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

const _: () = assert!(G_COUNT <= 64);
