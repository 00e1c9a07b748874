//! The compiled classifier: the pack's lexicon found in one pass over the normalised text
//! (a word trie, `phrases.rs`), then, in each sentence, every predicate read by its
//! construction: its agent, its object, its modality. A frame turns (agent side, stance,
//! object family) into a signal.
//!
//! The steps of one item (`run`, in this file), each in a file of its own:
//! 1. gate: an item without an object word and a stance word cannot fire (`raw_gate`,
//!    `word_gate` here; the gates are built in `compile.rs`);
//! 2. mentions: every phrase, masks applied (`mentions.rs`);
//! 3. readings: per predicate, its construction (`read.rs`), objects (`objects.rs`),
//!    agent (`agents.rs`) and modality (`modality.rs`);
//! 4. frames: readings become hits (`frames.rs`);
//! 5. scores and conflicts: per signal the noisy-or of its hits; one stance per actor and
//!    topic, the headline settling a conflict (`resolve.rs`);
//! 6. explanation: every reading, hit, block and near miss (`explain.rs`).
//!
//! The grammar is shallow on purpose: word classes and the order of phrases, no parse tree.
//! What that reaches and where it stops is in ARCHITECTURE.md.

use std::cell::RefCell;

use super::lang::{Form, Language};
use super::pack::{self, BUILT_IN_STANCES, RulePack};
use super::phrases::{self, PhraseSet, WordGate, WordSets};
use super::text::{Normalized, Sentence, normalize_phrase};
use crate::domain::{Evidence, Field, ObjectKey, Signal, SignalKind};

mod agents;
mod compile;
mod explain;
mod frames;
mod mentions;
mod modality;
mod objects;
mod read;
mod resolve;

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
    Time,
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
    TopicHead,
    Receiving,
}

const G_COUNT: usize = G::Receiving as usize + 1;

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
    object_gate: WordGate,
    stance_gate: WordGate,
    actor_gate: WordGate,
    /// Words of proposals ("plan", "ultimatum"): a sentence that may answer one named before.
    proposal_gate: WordGate,
    proposal_content_gate: WordGate,
    /// The proposal and condition-content words together: for the raw gate, a sentence
    /// with one may answer an object named before.
    anaphor_gate: WordGate,
    /// The object, stance, anaphor and actor gates' filters, interleaved for the raw gate.
    raw_filters: phrases::Interleaved<4>,
    /// The filters of the gates the word gate asks of each normalised word, interleaved in
    /// the order of the bits `mentions::W_OBJECT` and the rest. Not the proposal-content
    /// gate: its words are common ("for", "to") and only the word after a proposal's asks it.
    word_filters: phrases::Interleaved<5>,
    /// Words a condition names as its content ("conditions", "concessions"): after a word of
    /// the condition stance, the sentence answers the ceasefire named before it.
    condition_content_gate: WordGate,
    /// The sides frames have as agents (bit per side).
    frame_sides: u64,
    /// Per stance and per object family, their words; per family, the stances (bit per
    /// stance) that may make a signal with it. A sentence without such a pair is not read.
    stance_words: WordSets,
    family_words: WordSets,
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
    /// The side the aid and intelligence flows go to: a noun adjunct of it names where a
    /// flow goes ("Ukraine weapons shipments"), not who sends it.
    recipient: u8,
    /// Bits of the stances that answer a proposal (accept, reject, condition) and of the
    /// families a proposal may be (ceasefire, settlement).
    answer_stances: u64,
    proposable_families: u64,
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
    /// The item's words, mentions and grammar classes.
    t: &'a Tables<'a>,
    text: &'a str,
    first: u32,
    end: u32,
    field: Field,
    question: bool,
    /// Mentions of the sentence, sorted by first token (longer first).
    ms: &'a [M],
}

impl Sent<'_> {
    fn word(&self, t: u32) -> &str {
        let start = if t == 0 {
            0
        } else {
            self.t.word_ends[t as usize - 1] as usize
        };
        &self.t.words[start..self.t.word_ends[t as usize] as usize]
    }

    fn has_start(&self, t: u32, g: G) -> bool {
        t >= self.first && t < self.end && self.t.starts[t as usize] & (1 << g as u8) != 0
    }

    fn has_end(&self, t: u32, g: G) -> bool {
        t >= self.first && t < self.end && self.t.ends[t as usize] & (1 << g as u8) != 0
    }

    /// Whether a phrase of class `g` covers token `t` ("no plans" covers "plans").
    fn inside(&self, t: u32, g: G) -> bool {
        self.ms
            .iter()
            .any(|m| m.tag == Tag::Gram(g) && m.first <= t && t <= m.last)
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
            self.t.norm.tokens.get(a as usize),
            self.t.norm.tokens.get(b as usize),
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
        let a = self.t.norm.tokens[t as usize].orig_end as usize;
        let b = self.t.norm.tokens[t as usize + 1].orig_start as usize;
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
        let tok = &self.t.norm.tokens[t as usize];
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
    /// Whether `sides` is the side the flows go to and no other (false when the pack has
    /// no such side).
    fn recipient_alone(&self, sides: u64) -> bool {
        self.st.recipient < 64 && sides == 1 << self.st.recipient
    }

    /// Names of the frames, in pack order.
    pub fn rule_names(&self) -> impl Iterator<Item = (&str, SignalKind)> {
        self.frames.iter().map(|r| (r.name.as_str(), r.signal))
    }

    #[cfg(test)]
    pub(crate) fn gate_reads_raw_text(&self) -> bool {
        [
            &self.object_gate,
            &self.stance_gate,
            &self.actor_gate,
            &self.anaphor_gate,
        ]
        .iter()
        .all(|g| g.any_raw("").is_some())
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
        const NOTHING: (Vec<Signal>, [f32; 7]) = (Vec::new(), [0.0; 7]);
        // 1. The gate, on the raw text and then on words. An explanation reads everything.
        if ex.is_none() && !self.raw_gate(title, summary) {
            return NOTHING;
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
        read.clear();
        if ex.is_none() && !self.word_gate(norm, read) {
            return NOTHING;
        }
        // Only the sentences the word gate chose are read at first; the whole item is read
        // when the item's facts (its actors, whether it is about Ukraine) decide a frame.
        let mut readings: Vec<Reading> = Vec::new();
        let mut hits: Vec<Hit> = Vec::new();
        for complete in [read.is_empty(), true] {
            readings.clear();
            hits.clear();
            // 2. Mentions.
            let only = if complete { None } else { Some(&read[..]) };
            self.find_mentions(norm, (ids, stack), mentions, masks, [title, summary], only);
            if ex.is_none() && !self.worth_reading(norm, mentions, masks, complete) {
                return NOTHING;
            }
            let mut item = ItemFacts::of(self.st.recipient, mentions, masks);
            item.complete = complete;
            index_words(norm, mentions, (words, word_ends), (starts, ends));
            masked.clear();
            masked.extend(masks.iter().filter(|m| matches!(m.tag, Tag::Actor(_))));
            // 3. Readings, 4. frames, sentence by sentence.
            let tables = Tables {
                norm,
                mentions,
                masked,
                starts,
                ends,
                words,
                word_ends,
                title,
                summary,
            };
            self.read_item(&tables, &item, &mut readings, &mut hits, ex.as_deref_mut());
            if complete || !item.wanted.get() {
                break;
            }
        }

        // 5. Scores and conflicts.
        let (emitted, scores, settled) = self.resolve(&hits);
        let mut signals: Vec<Signal> = emitted
            .iter()
            .map(|&(k, hi)| self.signal_of(&hits[hi], scores[k.index()], norm, title, summary))
            .collect();
        signals.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.kind.cmp(&b.kind)));

        // 6. Explanation.
        if let Some(ex) = ex {
            ex.hits = hits
                .iter()
                .map(|h| self.signal_of(h, h.score, norm, title, summary))
                .collect();
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

    /// The gate on raw text, what [`Self::word_gate`] asks of normalised sentences asked of
    /// raw ones (which end only where normalisation surely ends one, so each holds whole
    /// normalised sentences): an actor's word anywhere, and either a sentence with words of
    /// an object family and of a stance that may make a signal together, or a sentence with
    /// a stance's and a proposal's word ("rejected the proposal") after one with a word of a
    /// ceasefire, in the same field or the headline. When a gate has words raw text cannot
    /// show, everything passes.
    fn raw_gate(&self, title: &str, summary: &str) -> bool {
        const OBJECT: u8 = 1;
        const STANCE: u8 = 2;
        const ANAPHOR: u8 = 4;
        const ACTOR: u8 = 8;
        let (o, st, a) = (&self.object_gate, &self.stance_gate, &self.actor_gate);
        // The current sentence's gate bits and the words of its objects and stances (whose
        // families and stances are looked up only when the sentence has both); whether an
        // earlier sentence had an object's word; an actor anywhere; a pair found.
        let mut sentence = 0u8;
        let mut words = Pending::default();
        let (mut object_before, mut actor, mut pair) = (false, false, false);
        for text in [title, summary] {
            let done = phrases::raw_words(
                [o, st, &self.anaphor_gate, a],
                &self.raw_filters,
                text,
                &mut |bits, word, end| {
                    sentence |= bits;
                    actor |= bits & ACTOR != 0;
                    if bits & OBJECT != 0 {
                        words.objects.push(word);
                    }
                    if bits & STANCE != 0 {
                        words.stances.push(word);
                    }
                    if !pair && bits & (OBJECT | STANCE | ANAPHOR) != 0 {
                        pair = sentence & (OBJECT | STANCE) == OBJECT | STANCE
                            && self.may_pair_words(&words)
                            || object_before && sentence & (STANCE | ANAPHOR) == STANCE | ANAPHOR;
                    }
                    if end {
                        object_before |= sentence & OBJECT != 0;
                        sentence = 0;
                        words = Pending::default();
                    }
                    pair && actor
                },
            );
            // Everything asked for, or a gate raw text cannot answer.
            if done != Some(false) {
                return true;
            }
        }
        false
    }

    /// Whether a raw sentence's object and stance words may make a signal together (a word
    /// without its key, or more words than are kept, may be anything).
    fn may_pair_words(&self, words: &Pending) -> bool {
        let bits_of = |sets: &WordSets, list: &Few| {
            if list.overflow {
                return u64::MAX;
            }
            list.words[..list.len].iter().fold(0u64, |b, w| match *w {
                Some((key, len)) => b | sets.of(key, len),
                None => u64::MAX,
            })
        };
        self.may_pair_bits(
            bits_of(&self.family_words, &words.objects),
            bits_of(&self.stance_words, &words.stances),
        )
    }

    /// Whether one of these object families (bit per family) may make a signal with one of
    /// these stances (bit per stance).
    pub(super) fn may_pair_bits(&self, families: u64, stances: u64) -> bool {
        (0..self.pairs.len().min(64))
            .any(|f| families >> f & 1 == 1 && self.pairs[f] & stances != 0)
    }

    /// The same on words: an actor's word anywhere, an object's and a predicate's in one
    /// sentence. Marks in `read` the sentences worth reading first.
    fn word_gate(&self, norm: &Normalized, read: &mut Vec<bool>) -> bool {
        // A sentence that answers a proposal named earlier ("Europe offers a truce. The
        // Kremlin rejected the proposal.") is read with the sentence that names it. Bit per
        // sentence; an item of more than 64 sentences reads the first 64 so.
        let (mut proposals, mut answers) = (0u64, 0u64);
        let mut actor = false;
        for (i, s) in norm.sentences.iter().enumerate() {
            let m = self.may_pair(norm, s);
            read.push(m.pair);
            actor |= m.actor;
            if i < 64 {
                proposals |= u64::from(m.proposable) << i;
                answers |= u64::from(m.answer) << i;
            }
        }
        if proposals != 0 && answers != 0 {
            let first_proposal = proposals.trailing_zeros();
            let last_answer = 63 - answers.leading_zeros();
            if first_proposal < last_answer {
                for (i, r) in read.iter_mut().enumerate().take(64) {
                    let i = i as u32;
                    let answering = answers >> i & 1 == 1 && first_proposal < i;
                    let named = proposals >> i & 1 == 1 && i < last_answer;
                    *r = *r || answering || named;
                }
            }
        }
        actor && read.iter().any(|&r| r)
    }

    /// After mentions: whether any sentence holds both a predicate and an object (every
    /// reading finds its object in its own sentence) and, once the whole item is read, an
    /// actor of some frame's side.
    fn worth_reading(
        &self,
        norm: &Normalized,
        mentions: &[M],
        masks: &[M],
        complete: bool,
    ) -> bool {
        let actor = mentions
            .iter()
            .chain(masks.iter())
            .any(|m| matches!(m.tag, Tag::Actor(side) if self.frame_sides & (1 << side) != 0));
        let pair = norm.sentences.iter().any(|s| {
            let (mut pred, mut object) = (false, false);
            let ms = mentions
                .iter()
                .filter(|m| m.first >= s.first && m.first < s.end);
            for m in ms.clone() {
                pred |= matches!(m.tag, Tag::Pred(..));
                object |= matches!(m.tag, Tag::Object(_));
            }
            pred && (object || self.answers_proposal(norm, mentions, ms))
        });
        pair && (actor || !complete)
    }

    /// Whether a sentence's mentions hold a proposal after a ceasefire or settlement
    /// named earlier in the item: "the proposal" may refer to it. So does a condition that
    /// names its content ("laid out a list of conditions").
    fn answers_proposal<'m>(
        &self,
        norm: &Normalized,
        item: &[M],
        mut sentence: impl Iterator<Item = &'m M>,
    ) -> bool {
        sentence.any(|m| {
            let anaphor = m.tag == Tag::Gram(G::Proposal)
                || self.names_condition(*m, norm.word(m.last as usize).to_str());
            anaphor
                && item.iter().take_while(|o| o.first < m.first).any(
                    |o| matches!(o.tag, Tag::Object(f) if self.proposable(f) && o.last < m.first),
                )
        })
    }

    /// Steps 3 and 4 over every sentence with a predicate (and, unless explaining, an
    /// object).
    fn read_item(
        &self,
        t: &Tables<'_>,
        item: &ItemFacts,
        readings: &mut Vec<Reading>,
        hits: &mut Vec<Hit>,
        mut ex: Option<&mut Explanation>,
    ) {
        let mut start = 0usize;
        for (si, sentence) in t.norm.sentences.iter().enumerate() {
            let end = start
                + t.mentions[start..]
                    .iter()
                    .take_while(|m| m.first < sentence.end)
                    .count();
            let ms = &t.mentions[start..end];
            start = end;
            if !ms.iter().any(|m| matches!(m.tag, Tag::Pred(..)))
                || ex.is_none()
                    && !ms.iter().any(|m| matches!(m.tag, Tag::Object(_)))
                    && !self.answers_proposal(t.norm, t.mentions, ms.iter())
            {
                continue;
            }
            let s = Sent {
                t,
                text: field_text(t.title, t.summary, sentence.field),
                first: sentence.first,
                end: sentence.end,
                field: sentence.field,
                question: sentence.question,
                ms,
            };
            let before = readings.len();
            self.read_sentence(&s, si, readings);
            for r in &readings[before..] {
                self.frame_hits(&s, r, item, hits, ex.as_deref_mut(), t.title, t.summary);
            }
        }
    }

    /// A hit as the signal an alert carries: its words and sentence in the original text,
    /// and its object key.
    fn signal_of(
        &self,
        h: &Hit,
        score: f32,
        norm: &Normalized,
        title: &str,
        summary: &str,
    ) -> Signal {
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
                        family: self.families[frame.object as usize].clone(),
                        scope: h.scope.0.clone(),
                        hours: h.scope.1,
                    }
                    .to_string(),
                ),
            },
        }
    }

    fn field_weight(&self, f: Field) -> f32 {
        match f {
            Field::Title => self.settings.title_weight,
            Field::Summary => self.settings.summary_weight,
        }
    }
}

/// What the readers of one item share: its words, mentions and grammar classes.
struct Tables<'a> {
    norm: &'a Normalized,
    /// Every mention of the item, sorted by first token.
    mentions: &'a [M],
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
    title: &'a str,
    summary: &'a str,
}

/// The item's words end to end, and per token the grammar classes of phrases starting and
/// ending there.
fn index_words(
    norm: &Normalized,
    mentions: &[M],
    (words, word_ends): (&mut String, &mut Vec<u32>),
    (starts, ends): (&mut Vec<u64>, &mut Vec<u64>),
) {
    let n = norm.tokens.len();
    // The words' bytes are copied as they are and checked as UTF-8 once, not word by word
    // (whole characters are normalised, so the check never fails).
    let mut bytes = std::mem::take(words).into_bytes();
    bytes.clear();
    word_ends.clear();
    for t in 0..n {
        bytes.extend_from_slice(norm.word(t).as_bytes());
        word_ends.push(bytes.len() as u32);
    }
    *words = String::from_utf8(bytes).unwrap_or_else(|_| {
        // Unreachable in practice; word by word, an invalid word reads as empty.
        word_ends.clear();
        let mut w = String::new();
        for t in 0..n {
            w.push_str(norm.word(t).to_str());
            word_ends.push(w.len() as u32);
        }
        w
    });
    starts.clear();
    starts.resize(n, 0);
    ends.clear();
    ends.resize(n, 0);
    for m in mentions {
        if let Tag::Gram(g) = m.tag {
            starts[m.first as usize] |= 1 << g as u8;
            ends[m.last as usize] |= 1 << g as u8;
        }
    }
}

/// The last token of a noun predicate's phrase: the predicate or its last object.
fn np_end(p: M, objects: &[M]) -> u32 {
    objects.iter().map(|o| o.last).fold(p.last, u32::max)
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
    /// `recipient`: the side the flows go to, whose own names are the Ukraine context.
    fn of(recipient: u8, mentions: &[M], masks: &[M]) -> ItemFacts {
        let mut sides = 0u64;
        for m in mentions.iter().chain(masks) {
            if let Tag::Actor(side) = m.tag {
                sides |= 1 << side;
            }
        }
        let overlaps = |a: &M, b: &M| a.first <= b.last && b.first <= a.last;
        let ukraine = mentions.iter().any(|m| {
            m.tag == Tag::Gram(G::Ukraine)
                && !masks
                    .iter()
                    .any(|k| matches!(k.tag, Tag::Actor(_)) && overlaps(k, m))
                && !mentions.iter().any(|a| {
                    matches!(a.tag, Tag::Actor(side) if side != recipient) && overlaps(a, m)
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

/// The object and stance words of a raw sentence, for [`Classifier::raw_gate`].
#[derive(Default)]
struct Pending {
    objects: Few,
    stances: Few,
}

/// A few words by key and length (`None`: a word raw text shows without its key).
#[derive(Default)]
struct Few {
    words: [Option<(u64, u32)>; 6],
    len: usize,
    overflow: bool,
}

impl Few {
    fn push(&mut self, word: Option<(u64, u32)>) {
        match self.words.get_mut(self.len) {
            Some(w) => {
                *w = word;
                self.len += 1;
            }
            None => self.overflow = true,
        }
    }
}

/// One word of a phrase to gate on: one the raw-text gate can see (letters and digits
/// only: not "doesn't", which raw text splits at its apostrophe), then its least common,
/// then longest; a prefix taken as it is.
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
            (phrases::raw_readable(bare), rank, bare.len())
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
