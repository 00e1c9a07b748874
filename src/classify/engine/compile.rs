//! A rule pack compiled: its phrases in one word trie, ids for its names, the word gates
//! that let most items through unread, and the frames.

use super::*;

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
        let names = Names::of(p);
        let bits = |ids: &[u8]| {
            ids.iter()
                .filter(|&&i| i < 64)
                .fold(0u64, |bits, &i| bits | 1 << i)
        };
        let (accept, reject, condition) = (
            names.stance("accept"),
            names.stance("reject"),
            names.stance("condition"),
        );
        let (ceasefire, settlement) = (names.family("ceasefire"), names.family("settlement"));
        let st = Known {
            accept,
            reject,
            condition,
            pause: names.stance("pause"),
            resume: names.stance("resume"),
            ceasefire,
            hostilities: names.family("hostilities"),
            recipient: id(&names.sides, "ukraine"),
            answer_stances: bits(&[accept, reject, condition]),
            proposable_families: bits(&[ceasefire, settlement]),
        };
        let lexicon = Lexicon::of(p, &names, language);

        // The gates: words of objects and stances, per family and per stance, and of the
        // actors of every side a frame has as agent.
        let object_words: Vec<Vec<String>> = p
            .objects
            .values()
            .map(|list| gate_words(list, language))
            .collect();
        let actor_words: Vec<String> = p
            .actors
            .iter()
            .filter(|(side, _)| p.frames.iter().any(|f| &f.agent == *side))
            .flat_map(|(_, list)| gate_words(list, language))
            .collect();
        let gate = |words: &[String]| WordGate::new(words.iter().map(String::as_str));
        let frame_sides = p
            .frames
            .iter()
            .map(|f| 1u64 << id(&names.sides, &f.agent))
            .fold(0, |a, b| a | b);
        let frames = p
            .frames
            .iter()
            .map(|f| Frame {
                name: f.name.clone(),
                signal: f.signal.parse().unwrap_or(SignalKind::RussiaRejects),
                agent: id(&names.sides, &f.agent),
                stance: names.stance(&f.stance),
                object: names.family(&f.object),
                weight: f.weight,
                needs_ukraine: f.needs_ukraine,
            })
            .collect();
        let (object_gate, stance_gate, actor_gate) = (
            gate(&object_words.concat()),
            gate(&lexicon.stance_words.concat()),
            gate(&actor_words),
        );
        let proposal_words = gate_words(&p.markers.proposals, language);
        let condition_content = language.condition_content_words();
        // What a sentence without an object's word may refer to one named before with.
        let anaphor_gate = WordGate::new(
            proposal_words
                .iter()
                .map(String::as_str)
                .chain(condition_content.iter().copied()),
        );
        let raw_filters =
            phrases::interleave([&object_gate, &stance_gate, &anaphor_gate, &actor_gate]);
        let proposal_gate = gate(&proposal_words);
        // Not "on": "rejected the plan on Monday" (the reader tells the two apart).
        let proposal_content_gate = WordGate::new(
            objects::PROPOSAL_CONTENT
                .iter()
                .copied()
                .filter(|&w| w != "on"),
        );
        let condition_content_gate = WordGate::new(condition_content.iter().copied());
        // In the order of the bits `mentions::W_OBJECT` and the rest.
        let word_filters = phrases::interleave([
            &object_gate,
            &stance_gate,
            &actor_gate,
            &proposal_gate,
            &condition_content_gate,
        ]);
        Ok(Classifier {
            phrases: PhraseSet::new(lexicon.phrases),
            object_gate,
            stance_gate,
            actor_gate,
            raw_filters,
            anaphor_gate,
            proposal_gate,
            proposal_content_gate,
            condition_content_gate,
            word_filters,
            frame_sides,
            stance_words: WordSets::new(&lexicon.stance_words),
            family_words: WordSets::new(&object_words),
            pairs: signal_pairs(p, &names, st),
            year_history: lexicon.year_history,
            splits: lexicon.splits,
            sides: names.sides,
            families: names.families,
            scopes: names.scopes,
            stances: names.stances,
            frames,
            settings: p.settings.clone(),
            st,
            lang: language,
        })
    }
}

/// The pack's names in pack order; a name's position is its id. The built-in stances are
/// always known, so the reader's turns ("refused to accept") have ids.
struct Names {
    sides: Vec<String>,
    families: Vec<String>,
    scopes: Vec<String>,
    stances: Vec<String>,
}

impl Names {
    fn of(p: &RulePack) -> Names {
        let mut stances: Vec<String> = p.stances.keys().cloned().collect();
        for s in BUILT_IN_STANCES {
            if !stances.iter().any(|x| x == s) {
                stances.push((*s).to_owned());
            }
        }
        Names {
            sides: p.actors.keys().cloned().collect(),
            families: p.objects.keys().cloned().collect(),
            scopes: p.scopes.keys().cloned().collect(),
            stances,
        }
    }

    fn stance(&self, name: &str) -> u8 {
        id(&self.stances, name)
    }

    fn family(&self, name: &str) -> u8 {
        id(&self.families, name)
    }
}

/// A name's id, `u8::MAX` when the pack has no such name.
fn id(list: &[String], name: &str) -> u8 {
    list.iter()
        .position(|x| x == name)
        .map_or(u8::MAX, |i| i as u8)
}

/// Every phrase of the pack with what it is, and per stance the words that gate it.
struct Lexicon {
    phrases: Vec<(Vec<String>, Tag)>,
    /// Whether `<year>` is a history marker.
    year_history: bool,
    stance_words: Vec<Vec<String>>,
    /// The stance of each split phrase ("put _ on hold"), by its id.
    splits: Vec<u8>,
}

/// The grammar classes of `[grammar]`'s lists, in the order `lists()` gives them.
const GRAMMAR_CLASSES: [G; 19] = [
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
    G::Time,
];

/// The marker classes of `[markers]`'s lists, in the order `lists()` gives them.
const MARKER_CLASSES: [G; 16] = [
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
    G::TopicHead,
    G::Receiving,
];

impl Lexicon {
    fn of(p: &RulePack, names: &Names, language: Language) -> Lexicon {
        let mut lex = Lexicon {
            phrases: Vec::new(),
            year_history: false,
            stance_words: vec![Vec::new(); names.stances.len()],
            splits: Vec::new(),
        };
        for ((_, list), g) in p.grammar.lists().into_iter().zip(GRAMMAR_CLASSES) {
            lex.add(list, Tag::Gram(g));
        }
        for ((_, list), g) in p.markers.lists().into_iter().zip(MARKER_CLASSES) {
            lex.add(list, Tag::Gram(g));
        }
        for (i, list) in p.actors.values().enumerate() {
            lex.add(list, Tag::Actor(i as u8));
        }
        for (i, list) in p.objects.values().enumerate() {
            lex.add(list, Tag::Object(i as u8));
        }
        for (i, list) in p.scopes.values().enumerate() {
            lex.add(list, Tag::Scope(i as u8));
        }
        lex.add(&p.masks.not_actor, Tag::MaskActor);
        lex.add(&p.masks.not_concept, Tag::MaskConcept);
        for (name, stance) in &p.stances {
            lex.add_stance(names.stance(name), stance, language);
        }
        lex
    }

    /// A list of phrases, braces expanded; `<year>` is a class of its own, not a phrase.
    fn add(&mut self, list: &[String], tag: Tag) {
        for phrase in list {
            for expanded in pack::expand_braces(phrase).unwrap_or_default() {
                if expanded.trim() == "<year>" {
                    self.year_history |= tag == Tag::Gram(G::History);
                    continue;
                }
                let words = phrase_words(&expanded);
                if !words.is_empty() {
                    self.phrases.push((words, tag));
                }
            }
        }
    }

    /// Every form of every predicate of a stance (verb, noun, judgement), each gated on its
    /// least common word.
    fn add_stance(&mut self, sid: u8, stance: &pack::Stance, language: Language) {
        let mut forms: Vec<(String, Form)> = Vec::new();
        for verb in &stance.verbs {
            for expanded in pack::expand_braces(verb).unwrap_or_default() {
                let whole = match expanded.split_once(" _ ") {
                    Some((head, tail)) => self.add_split(sid, head, tail, language),
                    None => expanded,
                };
                forms.extend(language.verb_forms(&whole));
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
        for (form_text, form) in forms {
            let words = phrase_words(&form_text);
            if !words.is_empty() {
                self.stance_words[sid as usize].push(gate_word(language, &words));
                self.phrases.push((words, Tag::Pred(sid, form)));
            }
        }
    }

    /// "put _ on hold": the object may stand between the verb and its rest, so head and
    /// tail are phrases of their own, joined when read. Returns the phrase whole ("put on
    /// hold weapons deliveries" is known too).
    fn add_split(&mut self, sid: u8, head: &str, tail: &str, language: Language) -> String {
        let split = self.splits.len() as u16;
        self.splits.push(sid);
        let tail_words = phrase_words(tail);
        self.stance_words[sid as usize].push(gate_word(language, &tail_words));
        self.phrases.push((tail_words, Tag::SplitTail(split)));
        for (form_text, form) in language.verb_forms(head) {
            let words = phrase_words(&form_text);
            if !words.is_empty() {
                self.phrases.push((words, Tag::SplitHead(split, form)));
            }
        }
        format!("{head} {tail}")
    }
}

/// The gate word of every phrase of a list.
fn gate_words(list: &[String], language: Language) -> Vec<String> {
    list.iter()
        .flat_map(|phrase| pack::expand_braces(phrase).unwrap_or_default())
        .map(|expanded| phrase_words(&expanded))
        .filter(|words| !words.is_empty())
        .map(|words| gate_word(language, &words))
        .collect()
}

/// Per family, which stances (bit per stance) may make a signal with it, the readings'
/// turns included: a refused or conditioned acceptance, a lifted pause, halted
/// hostilities.
fn signal_pairs(p: &RulePack, names: &Names, st: Known) -> Vec<u64> {
    let bit = |sid: u8| if (sid as usize) < 64 { 1u64 << sid } else { 0 };
    let mut pairs = vec![0u64; names.families.len()];
    for f in &p.frames {
        let (sid, fid) = (names.stance(&f.stance), names.family(&f.object) as usize);
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
        if fid == st.ceasefire as usize && sid == st.reject {
            pairs[fid] |= bit(st.pause);
        }
        if fid == st.ceasefire as usize && (st.hostilities as usize) < pairs.len() {
            pairs[st.hostilities as usize] |= bit(st.pause) | bit(st.resume) | bit(st.condition);
        }
    }
    pairs
}
